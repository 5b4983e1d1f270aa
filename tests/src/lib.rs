//! Shared pieces of hedge's integration and patch-regression suites.
//!
//! The suites that talk to LMDB through the raw bindings are written once and instantiated
//! per library variant with [`for_each_variant!`]: module `patched` links the library built
//! with `patches/series`, module `pristine` the same source without it. A test states what
//! each variant must do (`if ffi::PATCHED { … } else { … }`), so the suite shows both the
//! feature on the patched build and its absence on the pristine one.

pub use tempfile;

/// Paths of the static libraries and source trees the sys crate built, for tests that look
/// at the libraries themselves (symbols) or compile C programs against them.
pub mod built {
    /// `libhedge_lmdb.a`, the patched library.
    pub const PATCHED_LIB: &str = env!("HEDGE_TESTS_PATCHED_LIB");
    /// `libhedge_pristine_lmdb.a`, the pristine library.
    pub const PRISTINE_LIB: &str = env!("HEDGE_TESTS_PRISTINE_LIB");
    /// The directory of upstream's `mdb_dump`, `mdb_load`, `mdb_stat` and `mdb_copy`, built
    /// from the pristine source with upstream's defaults.
    pub const UPSTREAM_TOOLS: &str = env!("HEDGE_TESTS_UPSTREAM_TOOLS");
    /// The power-loss recorder (`tests/c/power/recorder.c`) built with the patched library
    /// (Linux only: elsewhere the path names nothing).
    pub const POWER_RECORDER: &str = env!("HEDGE_TESTS_POWER_RECORDER_PATCHED");
    /// The same built with the pristine library.
    pub const POWER_RECORDER_PRISTINE: &str = env!("HEDGE_TESTS_POWER_RECORDER_PRISTINE");
}

/// A fresh environment in `dir` (with `env_flags`, a 64 MiB map, room for 4 named databases)
/// and one database created in it, committed: the setup most `api_*` suites start from.
pub fn env_with_database<KC: 'static, DC: 'static>(
    dir: &std::path::Path,
    env_flags: hedge::EnvFlags,
    name: Option<&str>,
    db_flags: hedge::DatabaseFlags,
) -> (hedge::Env, hedge::Database<'static, KC, DC>) {
    // SAFETY (tests): the env's files are only touched through hedge; the flags are LMDB's
    // documented ones.
    let env =
        unsafe { hedge::EnvOpenOptions::new().flags(env_flags).map_size(64 << 20).max_dbs(4).open(dir) }
            .expect("open the test environment");
    let wtxn = env.write_txn().expect("write txn");
    let db = env
        .create_databases_and_commit(wtxn, |opener, wtxn| {
            let mut options = opener.database_options().types::<KC, DC>();
            options.flags(db_flags);
            if let Some(name) = name {
                options.name(name);
            }
            options.create(wtxn).map(hedge::CommitOrAbort::<_, ()>::Commit)
        })
        .expect("create the test database")
        .unwrap_commit();
    (env, db)
}

/// Expands its body twice: in `mod patched` with `ffi` = `hedge_lmdb_sys`, and in
/// `mod pristine` with `ffi` = `hedge_lmdb_sys::pristine`; [`raw_api!`] helpers are in scope.
#[macro_export]
macro_rules! for_each_variant {
    ($($body:tt)*) => {
        mod patched {
            #[allow(unused_imports)]
            use super::*;
            #[allow(unused_imports)]
            use hedge_lmdb_sys as ffi;
            $crate::raw_api!();
            $($body)*
        }
        mod pristine {
            #[allow(unused_imports)]
            use super::*;
            #[allow(unused_imports)]
            use hedge_lmdb_sys::pristine as ffi;
            $crate::raw_api!();
            $($body)*
        }
    };
}

/// Small helpers over the raw bindings of the variant named `ffi` in the calling module.
/// They keep tests about LMDB's behaviour, not about pointer plumbing; every one returns
/// LMDB's return code where a test may want to assert on it.
#[macro_export]
macro_rules! raw_api {
    () => {
        #[allow(dead_code)]
        mod raw {
            use super::ffi;
            use std::ffi::{c_int, c_uint, CStr, CString};
            use std::ptr;

            /// LMDB's message for a return code.
            pub fn strerror(rc: c_int) -> String {
                // SAFETY: mdb_strerror returns a pointer to a static or thread-local string.
                unsafe { CStr::from_ptr(ffi::mdb_strerror(rc)) }.to_string_lossy().into_owned()
            }

            /// Asserts that an LMDB call succeeded, printing LMDB's message if not.
            #[track_caller]
            pub fn ok(rc: c_int) {
                assert_eq!(rc, 0, "LMDB returned {rc}: {}", strerror(rc));
            }

            /// An environment, closed on drop; in a fresh temporary directory it owns, or in
            /// a directory of the caller's (`open_at`).
            pub struct Env {
                pub ptr: *mut ffi::MDB_env,
                pub dir: Option<$crate::tempfile::TempDir>,
            }

            // SAFETY: an MDB_env may be used from any thread (lmdb.h); the tests that share
            // one follow LMDB's per-transaction rules themselves.
            unsafe impl Send for Env {}
            // SAFETY: as above.
            unsafe impl Sync for Env {}

            impl Env {
                /// Opens an environment with `flags`, a 64 MiB map and room for 8 named DBs.
                pub fn open(flags: c_uint) -> Env {
                    Env::open_with(flags, 64 << 20, 8)
                }

                pub fn open_with(flags: c_uint, map_size: usize, max_dbs: c_uint) -> Env {
                    let dir = $crate::tempfile::tempdir().expect("temporary directory");
                    Env::open_in(dir, flags, map_size, max_dbs)
                }

                /// Closes the env and opens its directory again with `flags`.
                pub fn reopen(self, flags: c_uint) -> Env {
                    let this = std::mem::ManuallyDrop::new(self);
                    // SAFETY: `this` is never used or dropped again after its fields are
                    // taken; the caller has ended every transaction of the env.
                    let dir = unsafe {
                        ffi::mdb_env_close(this.ptr);
                        ptr::read(&this.dir)
                    };
                    let dir = dir.expect("reopen is for envs in their own temporary directory");
                    Env::open_in(dir, flags, 64 << 20, 8)
                }

                fn open_in(
                    dir: $crate::tempfile::TempDir,
                    flags: c_uint,
                    map_size: usize,
                    max_dbs: c_uint,
                ) -> Env {
                    let mut env = Env::open_at(dir.path(), flags, map_size, max_dbs);
                    env.dir = Some(dir);
                    env
                }

                /// Opens the environment in `dir`, which outlives it.
                pub fn open_at(
                    dir: &std::path::Path,
                    flags: c_uint,
                    map_size: usize,
                    max_dbs: c_uint,
                ) -> Env {
                    let path = CString::new(dir.to_str().unwrap()).unwrap();
                    let mut env = ptr::null_mut();
                    // SAFETY: `env` is a valid out-pointer; every call gets the env it created.
                    unsafe {
                        ok(ffi::mdb_env_create(&mut env));
                        ok(ffi::mdb_env_set_mapsize(env, map_size));
                        ok(ffi::mdb_env_set_maxdbs(env, max_dbs));
                        ok(ffi::mdb_env_open(env, path.as_ptr(), flags, 0o644));
                    }
                    Env { ptr: env, dir: None }
                }

                /// Begins a transaction; `parent` may be null.
                pub fn begin(
                    &self,
                    parent: *mut ffi::MDB_txn,
                    flags: c_uint,
                ) -> Result<*mut ffi::MDB_txn, c_int> {
                    let mut txn = ptr::null_mut();
                    // SAFETY: the env is open; LMDB validates `parent` and `flags` itself.
                    match unsafe { ffi::mdb_txn_begin(self.ptr, parent, flags, &mut txn) } {
                        0 => Ok(txn),
                        rc => Err(rc),
                    }
                }
            }

            impl Drop for Env {
                fn drop(&mut self) {
                    // SAFETY: the env was opened by `open_with`; tests end their txns first.
                    unsafe { ffi::mdb_env_close(self.ptr) }
                }
            }

            pub fn val(bytes: &[u8]) -> ffi::MDB_val {
                ffi::MDB_val { mv_size: bytes.len(), mv_data: bytes.as_ptr() as *mut _ }
            }

            /// Opens (with `flags`, e.g. MDB_CREATE) a database by name, or the main one.
            pub fn dbi_open(
                txn: *mut ffi::MDB_txn,
                name: Option<&str>,
                flags: c_uint,
            ) -> Result<ffi::MDB_dbi, c_int> {
                let name = name.map(|n| CString::new(n).unwrap());
                let mut dbi = 0;
                // SAFETY: `name` outlives the call; LMDB checks the txn.
                match unsafe {
                    ffi::mdb_dbi_open(txn, name.as_ref().map_or(ptr::null(), |n| n.as_ptr()), flags, &mut dbi)
                } {
                    0 => Ok(dbi),
                    rc => Err(rc),
                }
            }

            pub fn put(
                txn: *mut ffi::MDB_txn,
                dbi: ffi::MDB_dbi,
                key: &[u8],
                data: &[u8],
                flags: c_uint,
            ) -> c_int {
                let (mut k, mut d) = (val(key), val(data));
                // SAFETY: key and data point to live slices for the duration of the call.
                unsafe { ffi::mdb_put(txn, dbi, &mut k, &mut d, flags) }
            }

            /// Reads a value; the slice is LMDB's memory, valid while the txn is unchanged.
            pub fn get<'t>(txn: *mut ffi::MDB_txn, dbi: ffi::MDB_dbi, key: &[u8]) -> Result<&'t [u8], c_int> {
                let mut k = val(key);
                let mut d = val(&[]);
                // SAFETY: on success LMDB sets `d` to mv_size bytes inside the map or a dirty
                // page, which stay valid until the txn writes or ends; callers keep to that.
                match unsafe { ffi::mdb_get(txn, dbi, &mut k, &mut d) } {
                    0 => Ok(unsafe { std::slice::from_raw_parts(d.mv_data as *const u8, d.mv_size) }),
                    rc => Err(rc),
                }
            }

            /// A reserved put of `size` bytes that LMDB leaves to the caller, filled with
            /// `fill(i)` through raw writes (the space is uninitialised until then).
            pub fn reserve(
                txn: *mut ffi::MDB_txn,
                dbi: ffi::MDB_dbi,
                key: &[u8],
                size: usize,
                flags: c_uint,
                fill: impl Fn(usize) -> u8,
            ) -> c_int {
                let mut k = val(key);
                let mut d = ffi::MDB_val { mv_size: size, mv_data: ptr::null_mut() };
                // SAFETY: on success LMDB points `d` at `size` writable bytes, valid until
                // the next update in this txn; they are only written, never read, here.
                unsafe {
                    let rc = ffi::mdb_put(txn, dbi, &mut k, &mut d, flags | ffi::MDB_RESERVE);
                    if rc == 0 {
                        let out = d.mv_data as *mut u8;
                        for i in 0..size {
                            out.add(i).write(fill(i));
                        }
                    }
                    rc
                }
            }

            pub fn commit(txn: *mut ffi::MDB_txn) -> c_int {
                // SAFETY: LMDB checks the txn; after this call the handle is gone either way
                // (or, for a refused commit of a blocked parent, still the caller's).
                unsafe { ffi::mdb_txn_commit(txn) }
            }

            pub fn abort(txn: *mut ffi::MDB_txn) {
                // SAFETY: the caller owns `txn` and does not use it afterwards.
                unsafe { ffi::mdb_txn_abort(txn) }
            }

            /// Every (key, value) of `dbi` in cursor order.
            pub fn scan(txn: *mut ffi::MDB_txn, dbi: ffi::MDB_dbi) -> Result<Vec<(Vec<u8>, Vec<u8>)>, c_int> {
                let mut cursor = ptr::null_mut();
                // SAFETY: the cursor is opened, used and closed within this function.
                unsafe {
                    match ffi::mdb_cursor_open(txn, dbi, &mut cursor) {
                        0 => {}
                        rc => return Err(rc),
                    }
                    let (mut k, mut d) = (val(&[]), val(&[]));
                    let mut out = Vec::new();
                    let mut op = ffi::MDB_FIRST;
                    let rc = loop {
                        match ffi::mdb_cursor_get(cursor, &mut k, &mut d, op) {
                            0 => out.push((
                                std::slice::from_raw_parts(k.mv_data as *const u8, k.mv_size).to_vec(),
                                std::slice::from_raw_parts(d.mv_data as *const u8, d.mv_size).to_vec(),
                            )),
                            rc => break rc,
                        }
                        op = ffi::MDB_NEXT;
                    };
                    ffi::mdb_cursor_close(cursor);
                    if rc == ffi::MDB_NOTFOUND {
                        Ok(out)
                    } else {
                        Err(rc)
                    }
                }
            }

            /// A raw pointer that a test moves to another thread on purpose.
            #[derive(Clone, Copy)]
            pub struct Sendable<T>(pub *mut T);
            // SAFETY: the tests that use it are about LMDB's rules for moving handles.
            unsafe impl<T> Send for Sendable<T> {}
        }
    };
}

/// For API tests that need patch A (nested read transactions). `true` with hedge's patched
/// LMDB; when the suites run against upstream LMDB (feature `pristine-lmdb`), checks that a
/// nested read transaction is refused with `MdbError::BadTxn`, as upstream does, and returns
/// `false`: the test then stops there.
pub fn nested_readers_available(wtxn: &hedge::RwTxn) -> bool {
    if hedge::PATCHED_LMDB {
        return true;
    }
    match wtxn.nested_read_txn() {
        Err(hedge::Error::Mdb(hedge::MdbError::BadTxn)) => false,
        other => {
            panic!("upstream LMDB must refuse a nested read txn with BadTxn, got {:?}", other.map(|_| ()))
        }
    }
}

/// splitmix64's finaliser: a well-mixed 64-bit value for each input, for the suites'
/// deterministic pseudo-random choices (seeds, sizes, keys).
pub fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The driver shared by the differential model tests (`tests/model_*.rs`): each test brings
/// its operations, its model type and how one transaction level runs them; the driver runs
/// sequences of levels (commit, abort, reopen), nested levels and nested-reader checks, and
/// compares hedge with the model after every step that ends a transaction.
pub mod model {
    use std::fmt::Debug;
    use std::path::Path;

    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestCaseError, TestRunner};

    /// The database every model test uses: raw bytes in, raw bytes out.
    pub type Db = hedge::Database<'static, hedge::types::Bytes, hedge::types::Bytes>;

    /// How a transaction level ended.
    pub enum End {
        Commit,
        Abort,
        /// Commit, then close and reopen the env (top level only).
        Reopen,
        /// The operations ran out.
        Exhausted,
    }

    /// Runs the operations of one level (`models.last()` is its model) until it ends.
    pub type RunLevel<M, Op> = fn(
        &Harness<M, Op>,
        &hedge::Env,
        &Db,
        &mut hedge::RwTxn,
        &mut Vec<M>,
        &mut std::slice::Iter<Op>,
        bool,
    ) -> Result<End, TestCaseError>;

    /// One model test: how to open its env, read its whole state, and run a level.
    pub struct Harness<M, Op> {
        pub open: fn(&Path) -> (hedge::Env, Db),
        pub contents: fn(&Db, &hedge::RoTxn) -> M,
        pub run_level: RunLevel<M, Op>,
    }

    impl<M: Clone + PartialEq + Debug + Default + Send, Op: Debug> Harness<M, Op> {
        /// A nested write txn of `txn` running the next operations; its model is a copy of
        /// the parent's, kept on commit and dropped on abort.
        pub fn nested(
            &self,
            env: &hedge::Env,
            db: &Db,
            txn: &mut hedge::RwTxn,
            models: &mut Vec<M>,
            ops: &mut std::slice::Iter<Op>,
        ) -> Result<(), TestCaseError> {
            models.push(models.last().expect("a parent model").clone());
            let mut child = env.nested_write_txn(txn).unwrap();
            match (self.run_level)(self, env, db, &mut child, models, ops, true)? {
                End::Commit => {
                    child.commit().unwrap();
                    let committed = models.pop().unwrap();
                    *models.last_mut().unwrap() = committed;
                }
                End::Abort | End::Exhausted | End::Reopen => {
                    child.abort();
                    models.pop();
                }
            }
            prop_assert_eq!(&(self.contents)(db, txn), models.last().unwrap());
            Ok(())
        }

        /// A nested reader of `txn` reads everything (on another thread if asked) and must
        /// see `expected`; skipped on upstream LMDB, which has no read-only children.
        pub fn read_nested(
            &self,
            db: &Db,
            txn: &hedge::RwTxn,
            expected: &M,
            on_thread: bool,
        ) -> Result<(), TestCaseError> {
            if !hedge::PATCHED_LMDB {
                return Ok(());
            }
            let reader = txn.nested_read_txn().unwrap();
            let contents = self.contents;
            let seen = if on_thread {
                std::thread::scope(|s| s.spawn(move || contents(db, &reader)).join().unwrap())
            } else {
                contents(db, &reader)
            };
            prop_assert_eq!(&seen, expected);
            Ok(())
        }

        /// Runs one sequence from a fresh env, level after level, checking the committed
        /// state after each, and `Env::check` at the end.
        pub fn run_sequence(&self, ops: &[Op]) -> Result<(), TestCaseError> {
            let dir = tempfile::tempdir().unwrap();
            let (mut env, mut db) = (self.open)(dir.path());
            let mut committed = M::default();
            let mut ops_iter = ops.iter();
            loop {
                let mut wtxn = env.write_txn().unwrap();
                let mut models = vec![committed.clone()];
                let end = (self.run_level)(self, &env, &db, &mut wtxn, &mut models, &mut ops_iter, false)?;
                match end {
                    End::Commit | End::Exhausted | End::Reopen => {
                        wtxn.commit().unwrap();
                        committed = models.pop().unwrap();
                    }
                    End::Abort => wtxn.abort(),
                }
                prop_assert_eq!(&(self.contents)(&db, &env.read_txn().unwrap()), &committed);
                match end {
                    End::Reopen => {
                        env.prepare_for_closing().wait();
                        (env, db) = (self.open)(dir.path());
                        prop_assert_eq!(&(self.contents)(&db, &env.read_txn().unwrap()), &committed);
                    }
                    End::Exhausted => {
                        let report = env.check().unwrap();
                        prop_assert!(report.is_ok(), "{:?}", report.problems);
                        return Ok(());
                    }
                    End::Commit | End::Abort => {}
                }
            }
        }

        /// Runs `HEDGE_MODEL_CASES` (default 1500) random sequences of up to `max_len`
        /// operations; returns how many sequences ran.
        pub fn run_cases(&self, op: impl Strategy<Value = Op>, max_len: usize) -> (u32, Result<(), String>) {
            let cases = std::env::var("HEDGE_MODEL_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(1500);
            let mut runner =
                TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
            let result = runner.run(&prop::collection::vec(op, 1..max_len), |ops| self.run_sequence(&ops));
            (cases, result.map_err(|e| e.to_string()))
        }
    }
}

/// Setup shared by the soundness suites: an env in `dir` (64 MiB, 8 named databases) and
/// named databases created in it.
pub mod setup {
    use hedge::{CommitOrAbort, Database, DatabaseFlags, Env, EnvOpenOptions};

    pub fn env_at(dir: &std::path::Path) -> Env {
        // SAFETY (tests): a directory of this test only.
        unsafe { EnvOpenOptions::new().map_size(64 << 20).max_dbs(8).open(dir) }.unwrap()
    }

    pub fn try_create<KC: 'static, DC: 'static>(
        env: &Env,
        name: &str,
        flags: DatabaseFlags,
    ) -> hedge::Result<Database<'static, KC, DC>> {
        Ok(env
            .create_databases_and_commit(env.write_txn()?, |opener, wtxn| {
                let mut options = opener.database_options().types::<KC, DC>();
                options.name(name).flags(flags);
                options.create(wtxn).map(CommitOrAbort::<_, ()>::Commit)
            })?
            .unwrap_commit())
    }

    pub fn create<KC: 'static, DC: 'static>(
        env: &Env,
        name: &str,
        flags: DatabaseFlags,
    ) -> Database<'static, KC, DC> {
        try_create(env, name, flags).unwrap()
    }
}

//! Owned LMDB handles. Every call into LMDB for environments and transactions goes
//! through these types; the typed layer above adds lifetimes and codecs.

use std::ffi::{CStr, c_int, c_uint, c_void};
use std::mem::MaybeUninit;
use std::ptr::{self, NonNull};

use super::error::MdbError;
use super::{ffi, rules};

// The read path (`Database::get` → `RawTxn::get` → `rules::check` → `mdb_get`) is generic at
// the top and plain functions below. Without `#[inline]` on those, a client crate gets the
// generic part instantiated in its own code but must call into hedge's for the rest: an
// out-of-line call that returns a `Result<Option<&[u8]>, MdbError>` through memory, and a
// caller that LLVM then no longer inlines (hannoy's graph walk was 1.09× slower than on heed
// for that). So the small functions of the hot paths are `#[inline]`, and what only errors
// reach is `#[cold]` and out of line: the checks all stay, only the calls go.

/// Turns an LMDB return code into a `Result`.
#[inline]
pub(crate) fn mdb_result(rc: c_int) -> Result<(), MdbError> {
    if rc == 0 { Ok(()) } else { Err(mdb_error(rc)) }
}

/// The error of a failed call: out of line, as failures are rare on the hot paths.
#[cold]
#[inline(never)]
pub(crate) fn mdb_error(rc: c_int) -> MdbError {
    MdbError::from_err_code(rc)
}

/// An `MDB_env`, closed on drop.
pub(crate) struct RawEnv(NonNull<ffi::MDB_env>);

// SAFETY: an MDB_env may be used from any thread (lmdb.h: "an environment may be shared by
// threads"); the per-transaction thread rules are enforced by the transaction types.
unsafe impl Send for RawEnv {}
// SAFETY: as above; the env's own calls are thread-safe.
unsafe impl Sync for RawEnv {}

impl RawEnv {
    pub(crate) fn create() -> Result<RawEnv, MdbError> {
        let mut env = ptr::null_mut();
        // SAFETY: `env` is a valid out-pointer.
        mdb_result(unsafe { ffi::mdb_env_create(&mut env) })?;
        Ok(RawEnv(NonNull::new(env).expect("mdb_env_create returned success and a null env")))
    }

    pub(crate) fn as_ptr(&self) -> *mut ffi::MDB_env {
        self.0.as_ptr()
    }

    pub(crate) fn set_map_size(&self, size: usize) -> Result<(), MdbError> {
        // SAFETY: the env is live; LMDB validates the size itself.
        mdb_result(unsafe { ffi::mdb_env_set_mapsize(self.as_ptr(), size) })
    }

    pub(crate) fn set_max_readers(&self, readers: c_uint) -> Result<(), MdbError> {
        // SAFETY: the env is live and not yet open (LMDB checks).
        mdb_result(unsafe { ffi::mdb_env_set_maxreaders(self.as_ptr(), readers) })
    }

    pub(crate) fn set_max_dbs(&self, dbs: c_uint) -> Result<(), MdbError> {
        // SAFETY: the env is live and not yet open (LMDB checks).
        mdb_result(unsafe { ffi::mdb_env_set_maxdbs(self.as_ptr(), dbs) })
    }

    pub(crate) fn open(&self, path: &CStr, flags: c_uint, mode: ffi::mdb_mode_t) -> Result<(), MdbError> {
        // SAFETY: `path` is NUL-terminated and outlives the call; LMDB copies it.
        mdb_result(unsafe { ffi::mdb_env_open(self.as_ptr(), path.as_ptr(), flags, mode) })
    }

    pub(crate) fn info(&self) -> ffi::MDB_envinfo {
        let mut info = MaybeUninit::uninit();
        // SAFETY: mdb_env_info fills the struct and cannot fail on an open env.
        unsafe {
            ffi::mdb_env_info(self.as_ptr(), info.as_mut_ptr());
            info.assume_init()
        }
    }

    pub(crate) fn stat(&self) -> ffi::MDB_stat {
        let mut stat = MaybeUninit::uninit();
        // SAFETY: mdb_env_stat fills the struct and cannot fail on an open env.
        unsafe {
            ffi::mdb_env_stat(self.as_ptr(), stat.as_mut_ptr());
            stat.assume_init()
        }
    }

    pub(crate) fn flags(&self) -> Result<c_uint, MdbError> {
        let mut flags = 0;
        // SAFETY: valid out-pointer, live env.
        mdb_result(unsafe { ffi::mdb_env_get_flags(self.as_ptr(), &mut flags) })?;
        Ok(flags)
    }

    /// # Safety
    /// Changing flags such as `NO_SYNC` is only sound while no write transaction of this
    /// env is in flight (LMDB does not lock for it).
    pub(crate) unsafe fn set_flags(&self, flags: c_uint, on: bool) -> Result<(), MdbError> {
        // SAFETY: the caller upholds the contract above; the env is live.
        mdb_result(unsafe { ffi::mdb_env_set_flags(self.as_ptr(), flags, c_int::from(on)) })
    }

    pub(crate) fn max_readers(&self) -> Result<c_uint, MdbError> {
        let mut readers = 0;
        // SAFETY: valid out-pointer, live env.
        mdb_result(unsafe { ffi::mdb_env_get_maxreaders(self.as_ptr(), &mut readers) })?;
        Ok(readers)
    }

    pub(crate) fn max_key_size(&self) -> usize {
        // SAFETY: a getter on a live env.
        unsafe { ffi::mdb_env_get_maxkeysize(self.as_ptr()) as usize }
    }

    pub(crate) fn sync(&self, force: bool) -> Result<(), MdbError> {
        // SAFETY: a flush of a live env.
        mdb_result(unsafe { ffi::mdb_env_sync(self.as_ptr(), c_int::from(force)) })
    }

    pub(crate) fn reader_check(&self) -> Result<usize, MdbError> {
        let mut dead: c_int = 0;
        // SAFETY: valid out-pointer, live env.
        mdb_result(unsafe { ffi::mdb_reader_check(self.as_ptr(), &mut dead) })?;
        Ok(dead as usize)
    }

    /// # Safety
    /// No transaction of this process may be live on the env (lmdb.h's contract for
    /// `mdb_env_set_mapsize` on an open env).
    pub(crate) unsafe fn resize(&self, size: usize) -> Result<(), MdbError> {
        self.set_map_size(size)
    }

    /// The lines `mdb_reader_list` writes: a header, then `pid thread txnid` per slot in
    /// use (or a single line saying there is none).
    pub(crate) fn reader_list(&self) -> Result<Vec<String>, MdbError> {
        unsafe extern "C" fn collect(msg: *const std::ffi::c_char, ctx: *mut c_void) -> c_int {
            // SAFETY: LMDB passes a NUL-terminated message and the `ctx` given below, a live
            // `Vec<String>` used by nothing else during the call.
            let (msg, lines) = unsafe { (CStr::from_ptr(msg), &mut *ctx.cast::<Vec<String>>()) };
            lines.push(msg.to_string_lossy().into_owned());
            0
        }
        let mut lines: Vec<String> = Vec::new();
        // SAFETY: live env; `collect` matches `MDB_msg_func` and only uses `ctx` as the
        // `Vec` it points to, which outlives the call.
        let rc =
            unsafe { ffi::mdb_reader_list(self.as_ptr(), Some(collect), (&raw mut lines).cast::<c_void>()) };
        if rc < 0 {
            return Err(MdbError::from_err_code(rc));
        }
        Ok(lines)
    }

    pub(crate) fn fd(&self) -> Result<ffi::mdb_filehandle_t, MdbError> {
        let mut fd = 0 as ffi::mdb_filehandle_t;
        // SAFETY: valid out-pointer, live env.
        mdb_result(unsafe { ffi::mdb_env_get_fd(self.as_ptr(), &mut fd) })?;
        Ok(fd)
    }

    /// # Safety
    /// `fd` must be a file descriptor open for writing for the duration of the call.
    pub(crate) unsafe fn copy_to_fd(&self, fd: ffi::mdb_filehandle_t, flags: c_uint) -> Result<(), MdbError> {
        // SAFETY: the caller guarantees `fd`; the env is live.
        mdb_result(unsafe { ffi::mdb_env_copyfd2(self.as_ptr(), fd, flags) })
    }
}

impl Drop for RawEnv {
    fn drop(&mut self) {
        // SAFETY: the env is owned here; the typed layer keeps it alive (Arc) for as long as
        // any transaction or database handle of it may be used.
        unsafe { ffi::mdb_env_close(self.as_ptr()) }
    }
}

/// An `MDB_txn`. It does not end itself on drop: the owner decides between commit and
/// abort (and, for a parent whose children leaked, neither).
pub(crate) struct RawTxn(NonNull<ffi::MDB_txn>);

impl RawTxn {
    /// # Safety
    /// `parent`, if any, must be a live transaction of `env`, and the new transaction must be
    /// ended (committed or aborted) before `env` is closed and before `parent` is.
    pub(crate) unsafe fn begin(
        env: &RawEnv,
        parent: Option<&RawTxn>,
        flags: c_uint,
    ) -> Result<RawTxn, MdbError> {
        let mut txn = ptr::null_mut();
        let parent = parent.map_or(ptr::null_mut(), RawTxn::as_ptr);
        // SAFETY: the caller upholds the contract; LMDB validates flags and parent state.
        mdb_result(unsafe { ffi::mdb_txn_begin(env.as_ptr(), parent, flags, &mut txn) })?;
        Ok(RawTxn(NonNull::new(txn).expect("mdb_txn_begin returned success and a null txn")))
    }

    #[inline]
    pub(crate) fn as_ptr(&self) -> *mut ffi::MDB_txn {
        self.0.as_ptr()
    }

    pub(crate) fn id(&self) -> usize {
        // SAFETY: a getter on a live txn.
        unsafe { ffi::mdb_txn_id(self.as_ptr()) }
    }

    /// Commits. The txn is gone afterwards whatever the result: on failure LMDB aborted it.
    /// (A commit refused because read-only children are live would keep it; the typed layer
    /// never asks for one, see `RwTxn::commit`.)
    pub(crate) fn commit(self) -> Result<(), MdbError> {
        // SAFETY: the txn is live and owned, and has no live children.
        mdb_result(unsafe { ffi::mdb_txn_commit(self.as_ptr()) })
    }

    pub(crate) fn abort(self) {
        // SAFETY: the txn is live and owned, and has no live children (the typed layer's
        // borrows guarantee it, and it never aborts a parent whose children leaked).
        unsafe { ffi::mdb_txn_abort(self.as_ptr()) }
    }
}

/// The OS page size, which LMDB's map size must be a multiple of.
pub(crate) fn os_page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if size > 0 { size as usize } else { 4096 }
}

#[cfg(unix)]
impl RawEnv {
    /// A new, read-only `File` for the env's data file, with an offset of its own. (A `dup`
    /// of LMDB's descriptor would be writable and share its offset: writing through it, or
    /// copying the env onto it, rewrites pages under live readers.)
    pub(crate) fn clone_data_file(&self) -> std::io::Result<std::fs::File> {
        let fd = self.fd().map_err(|e| std::io::Error::other(e.to_string()))?;
        // The exact file LMDB has open, even if it was renamed since.
        if let Ok(file) = std::fs::File::open(format!("/proc/self/fd/{fd}")) {
            return Ok(file);
        }
        let mut path = ptr::null();
        // SAFETY: valid out-pointer, live env; LMDB returns its own copy of the path, valid
        // while the env is open (borrowed for this call).
        mdb_result(unsafe { ffi::mdb_env_get_path(self.as_ptr(), &mut path) })
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        // SAFETY: LMDB's path is NUL-terminated.
        let path = unsafe { CStr::from_ptr(path) };
        let path = std::path::Path::new(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(
            path.to_bytes(),
        ));
        let sub_dir = self.flags().map_or(true, |f| f & ffi::MDB_NOSUBDIR == 0);
        std::fs::File::open(if sub_dir { path.join("data.mdb") } else { path.to_path_buf() })
    }
}

#[inline]
fn val(bytes: &[u8]) -> ffi::MDB_val {
    ffi::MDB_val { mv_size: bytes.len(), mv_data: bytes.as_ptr() as *mut _ }
}

/// The bytes an `MDB_val` returned by LMDB points to.
///
/// # Safety
/// `v` must come from LMDB and the memory must stay valid for `'t`.
#[inline]
unsafe fn slice<'t>(v: ffi::MDB_val) -> &'t [u8] {
    if v.mv_size == 0 {
        &[]
    } else {
        // SAFETY: the caller guarantees that LMDB's pointer is valid for 't.
        unsafe { std::slice::from_raw_parts(v.mv_data as *const u8, v.mv_size) }
    }
}

/// A comparator LMDB calls: `fn(a, b) -> c_int`.
pub(crate) type CmpFn = unsafe extern "C" fn(*const ffi::MDB_val, *const ffi::MDB_val) -> c_int;

impl RawTxn {
    /// Opens (with `MDB_CREATE`: creates) a database handle.
    pub(crate) fn dbi_open(&self, name: Option<&CStr>, flags: c_uint) -> Result<ffi::MDB_dbi, MdbError> {
        let mut dbi = 0;
        let name = name.map_or(ptr::null(), CStr::as_ptr);
        // SAFETY: live txn; `name` is NUL-terminated or null and LMDB copies it.
        mdb_result(unsafe { ffi::mdb_dbi_open(self.as_ptr(), name, flags, &mut dbi) })?;
        Ok(dbi)
    }

    /// Installs key (`dup: false`) or duplicate (`dup: true`) comparators.
    pub(crate) fn set_comparator(&self, dbi: ffi::MDB_dbi, cmp: CmpFn, dup: bool) -> Result<(), MdbError> {
        // SAFETY: live txn; `cmp` is a plain function, valid forever.
        mdb_result(unsafe {
            if dup {
                ffi::mdb_set_dupsort(self.as_ptr(), dbi, Some(cmp))
            } else {
                ffi::mdb_set_compare(self.as_ptr(), dbi, Some(cmp))
            }
        })
    }

    /// The value of `key`, valid while this txn lives and makes no write.
    #[inline]
    pub(crate) fn get<'t>(&'t self, dbi: ffi::MDB_dbi, key: &[u8]) -> Result<Option<&'t [u8]>, MdbError> {
        self.check_sizes(dbi, key, None, false)?;
        let mut k = val(key);
        let mut d = val(&[]);
        // SAFETY: live txn, valid key and out-pointer.
        match unsafe { ffi::mdb_get(self.as_ptr(), dbi, &mut k, &mut d) } {
            // SAFETY: on success `d` points into the map or a dirty page, valid until the txn
            // writes or ends, which the borrow of `self` and the contract of the `unsafe`
            // write methods rule out for 't.
            0 => Ok(Some(unsafe { slice(d) })),
            rc if rc == ffi::MDB_NOTFOUND => Ok(None),
            rc => Err(mdb_error(rc)),
        }
    }

    /// # Safety
    /// No slice returned by a read of this txn may be used afterwards (a write may move the
    /// pages they point into).
    pub(crate) unsafe fn put(
        &self,
        dbi: ffi::MDB_dbi,
        key: &[u8],
        data: &[u8],
        flags: c_uint,
    ) -> Result<(), MdbError> {
        self.check_sizes(dbi, key, Some(data), true)?;
        let (mut k, mut d) = (val(key), val(data));
        // SAFETY: live write txn; key and data outlive the call (LMDB copies them).
        mdb_result(unsafe { ffi::mdb_put(self.as_ptr(), dbi, &mut k, &mut d, flags) })
    }

    /// A put that, when refused with `MDB_KEYEXIST` under `MDB_NOOVERWRITE`, returns the
    /// value already there (valid while this txn lives and makes no write). `MDB_KEYEXIST`
    /// for a key that is not there (`MDB_APPEND` of a key that does not sort last) stays an
    /// error.
    ///
    /// # Safety
    /// As [`put`](Self::put).
    pub(crate) unsafe fn put_or_existing<'t>(
        &'t self,
        dbi: ffi::MDB_dbi,
        key: &[u8],
        data: &[u8],
        flags: c_uint,
    ) -> Result<Option<&'t [u8]>, MdbError> {
        self.check_sizes(dbi, key, Some(data), true)?;
        let (mut k, mut d) = (val(key), val(data));
        // SAFETY: live write txn; key and data outlive the call.
        match unsafe { ffi::mdb_put(self.as_ptr(), dbi, &mut k, &mut d, flags | ffi::MDB_NOOVERWRITE) } {
            0 => Ok(None),
            rc if rc == ffi::MDB_KEYEXIST => self.existing(dbi, key).map(Some),
            rc => Err(MdbError::from_err_code(rc)),
        }
    }

    /// A reserved put unless the key exists: `Ok(Err(existing))` with the value already there
    /// (valid while this txn lives and makes no write), else `Ok(Ok(start))` of the
    /// uninitialised reserved bytes.
    ///
    /// # Safety
    /// As [`reserve`](Self::reserve).
    pub(crate) unsafe fn reserve_or_existing<'t>(
        &'t self,
        dbi: ffi::MDB_dbi,
        key: &[u8],
        size: usize,
        flags: c_uint,
    ) -> Result<Result<*mut u8, &'t [u8]>, MdbError> {
        refuse_reserve_on_dupsort(self.dbi_flags(dbi)?)?;
        self.check_sizes(dbi, key, None, false)?;
        let mut k = val(key);
        let mut d = ffi::MDB_val { mv_size: size, mv_data: ptr::null_mut() };
        let flags = flags | ffi::MDB_RESERVE | ffi::MDB_NOOVERWRITE;
        // SAFETY: live write txn; LMDB fills `d` with the reserved location.
        match unsafe { ffi::mdb_put(self.as_ptr(), dbi, &mut k, &mut d, flags) } {
            0 => Ok(Ok(d.mv_data as *mut u8)),
            rc if rc == ffi::MDB_KEYEXIST => self.existing(dbi, key).map(Err),
            rc => Err(MdbError::from_err_code(rc)),
        }
    }

    /// The value `key` has after a put answered `MDB_KEYEXIST`. LMDB points the put's data
    /// at it only in some of the cases it answers that (not for `MDB_APPEND` of a key that
    /// does not sort last, nor under `MDB_NODUPDATA`), so it is looked up again; a key that
    /// is not there keeps the error.
    fn existing<'t>(&'t self, dbi: ffi::MDB_dbi, key: &[u8]) -> Result<&'t [u8], MdbError> {
        self.get(dbi, key)?.ok_or(MdbError::KeyExist)
    }

    /// Reserves `size` bytes for `key`'s value and returns where they are (uninitialised).
    ///
    /// # Safety
    /// As [`put`](Self::put); the returned memory is valid for writes until the next write
    /// or the end of the txn, and must not be read before it was written.
    pub(crate) unsafe fn reserve(
        &self,
        dbi: ffi::MDB_dbi,
        key: &[u8],
        size: usize,
        flags: c_uint,
    ) -> Result<*mut u8, MdbError> {
        refuse_reserve_on_dupsort(self.dbi_flags(dbi)?)?;
        self.check_sizes(dbi, key, None, false)?;
        let mut k = val(key);
        let mut d = ffi::MDB_val { mv_size: size, mv_data: ptr::null_mut() };
        // SAFETY: live write txn; LMDB fills `d` with the reserved location.
        mdb_result(unsafe { ffi::mdb_put(self.as_ptr(), dbi, &mut k, &mut d, flags | ffi::MDB_RESERVE) })?;
        Ok(d.mv_data as *mut u8)
    }

    /// Deletes `key` (or one `key`/`data` duplicate); `false` if there was none.
    ///
    /// # Safety
    /// As [`put`](Self::put).
    pub(crate) unsafe fn del(
        &self,
        dbi: ffi::MDB_dbi,
        key: &[u8],
        data: Option<&[u8]>,
    ) -> Result<bool, MdbError> {
        self.check_sizes(dbi, key, data, false)?;
        let mut k = val(key);
        let mut d = data.map(val);
        let d_ptr = d.as_mut().map_or(ptr::null_mut(), |d| d as *mut ffi::MDB_val);
        // SAFETY: live write txn; key/data outlive the call.
        match unsafe { ffi::mdb_del(self.as_ptr(), dbi, &mut k, d_ptr) } {
            0 => Ok(true),
            rc if rc == ffi::MDB_NOTFOUND => Ok(false),
            rc => Err(MdbError::from_err_code(rc)),
        }
    }

    /// Empties the database (`delete: false`) or deletes it from the env (`true`).
    ///
    /// # Safety
    /// As [`put`](Self::put); with `delete`, the handle must not be used again.
    pub(crate) unsafe fn drop_db(&self, dbi: ffi::MDB_dbi, delete: bool) -> Result<(), MdbError> {
        // SAFETY: live write txn, per the contract.
        mdb_result(unsafe { ffi::mdb_drop(self.as_ptr(), dbi, c_int::from(delete)) })
    }

    pub(crate) fn stat(&self, dbi: ffi::MDB_dbi) -> Result<ffi::MDB_stat, MdbError> {
        let mut st = MaybeUninit::uninit();
        // SAFETY: valid out-pointer, live txn; filled on success.
        mdb_result(unsafe { ffi::mdb_stat(self.as_ptr(), dbi, st.as_mut_ptr()) })?;
        // SAFETY: mdb_stat returned success.
        Ok(unsafe { st.assume_init() })
    }

    /// See [`rules::check`].
    #[inline]
    fn check_sizes(
        &self,
        dbi: ffi::MDB_dbi,
        key: &[u8],
        data: Option<&[u8]>,
        storing: bool,
    ) -> Result<(), MdbError> {
        // SAFETY: this txn is live, and a RawTxn is used by one thread at a time.
        unsafe { rules::check(self.as_ptr(), dbi, Some(key), data, storing) }
    }

    pub(crate) fn dbi_flags(&self, dbi: ffi::MDB_dbi) -> Result<c_uint, MdbError> {
        let mut flags = 0;
        // SAFETY: valid out-pointer, live txn.
        mdb_result(unsafe { ffi::mdb_dbi_flags(self.as_ptr(), dbi, &mut flags) })?;
        Ok(flags)
    }
}

/// LMDB cannot reserve a value in a `DUP_SORT` database: a duplicate is a key of the sub-
/// database, sorted by its bytes, which a reserved write fills in only after the put, so the
/// order would silently break (lmdb.h forbids the flag there; mdb_put does not check).
/// Refused with `MDB_INCOMPATIBLE` instead.
fn refuse_reserve_on_dupsort(db_flags: c_uint) -> Result<(), MdbError> {
    if db_flags & ffi::MDB_DUPSORT != 0 { Err(MdbError::Incompatible) } else { Ok(()) }
}

/// Calls a Rust comparator from LMDB. A panic cannot unwind through C: it aborts.
pub(crate) unsafe extern "C" fn compare_with<C: heed_traits::Comparator>(
    a: *const ffi::MDB_val,
    b: *const ffi::MDB_val,
) -> c_int {
    // SAFETY: LMDB passes two valid values that live for the duration of the call.
    let (a, b) = unsafe { (slice(*a), slice(*b)) };
    match std::panic::catch_unwind(|| C::compare(a, b)) {
        Ok(std::cmp::Ordering::Less) => -1,
        Ok(std::cmp::Ordering::Equal) => 0,
        Ok(std::cmp::Ordering::Greater) => 1,
        Err(_) => {
            eprintln!("hedge: a key comparator panicked inside LMDB; aborting (it cannot unwind through C)");
            std::process::abort()
        }
    }
}

/// A key and value as LMDB stores them, valid while their txn lives and makes no write.
pub(crate) type Entry<'t> = (&'t [u8], &'t [u8]);

/// An `MDB_cursor` of a transaction borrowed for `'t`, closed on drop.
pub(crate) struct RawCursor<'t> {
    ptr: NonNull<ffi::MDB_cursor>,
    _txn: std::marker::PhantomData<&'t RawTxn>,
}

impl<'t> RawCursor<'t> {
    pub(crate) fn open(txn: &'t RawTxn, dbi: ffi::MDB_dbi) -> Result<RawCursor<'t>, MdbError> {
        let mut cursor = ptr::null_mut();
        // SAFETY: live txn, valid out-pointer; the cursor cannot outlive the txn ('t).
        mdb_result(unsafe { ffi::mdb_cursor_open(txn.as_ptr(), dbi, &mut cursor) })?;
        Ok(RawCursor {
            ptr: NonNull::new(cursor).expect("null cursor on success"),
            _txn: std::marker::PhantomData,
        })
    }

    /// One cursor operation; `key` is the input of positioning ops (`MDB_SET_RANGE`, ...).
    /// Returns the entry the cursor is on, or `None` at the end (`MDB_NOTFOUND`). The slices
    /// stay valid while the txn lives and makes no write.
    pub(crate) fn get(
        &mut self,
        op: ffi::MDB_cursor_op,
        key: Option<&[u8]>,
    ) -> Result<Option<Entry<'t>>, MdbError> {
        if let Some(key) = key {
            self.check_sizes(key, None, false)?;
        }
        let mut k = key.map_or(val(&[]), val);
        let mut d = val(&[]);
        // SAFETY: live cursor; the input key outlives the call; outputs are written by LMDB.
        match unsafe { ffi::mdb_cursor_get(self.ptr.as_ptr(), &mut k, &mut d, op) } {
            // SAFETY: on success both point into the map or a dirty page of a txn borrowed
            // for 't, which makes no write while this cursor is used (typed layer).
            0 => Ok(Some(unsafe { (slice(k), slice(d)) })),
            rc if rc == ffi::MDB_NOTFOUND => Ok(None),
            rc => Err(MdbError::from_err_code(rc)),
        }
    }
}

impl<'t> RawCursor<'t> {
    /// See [`rules::check`], for this cursor's database.
    fn check_sizes(&self, key: &[u8], data: Option<&[u8]>, storing: bool) -> Result<(), MdbError> {
        // SAFETY: live cursor of a live txn ('t) used by this thread; LMDB returns the
        // cursor's own txn and dbi.
        unsafe {
            let cursor = self.ptr.as_ptr();
            rules::check(ffi::mdb_cursor_txn(cursor), ffi::mdb_cursor_dbi(cursor), Some(key), data, storing)
        }
    }

    /// Refuses a key that LMDB's comparator for this cursor's database cannot take (see
    /// [`rules::check`]): what is compared with [`compare_keys`](Self::compare_keys) must
    /// pass this first.
    pub(crate) fn check_key(&self, key: &[u8]) -> Result<(), MdbError> {
        self.check_sizes(key, None, false)
    }

    /// Compares two keys in the order of the cursor's database, as LMDB orders it (its flags
    /// and comparator, not the Rust type of the handle). Both must be keys of the database or
    /// have passed [`check_key`](Self::check_key).
    pub(crate) fn compare_keys(&self, a: &[u8], b: &[u8]) -> std::cmp::Ordering {
        let (a, b) = (val(a), val(b));
        // SAFETY: live cursor; its own txn and dbi; both values outlive the call and have the
        // sizes LMDB's comparator expects (the caller's contract above).
        let c = unsafe {
            let cursor = self.ptr.as_ptr();
            ffi::mdb_cmp(ffi::mdb_cursor_txn(cursor), ffi::mdb_cursor_dbi(cursor), &a, &b)
        };
        c.cmp(&0)
    }

    /// For a put with `MDB_CURRENT` in a `DUP_SORT` database: whether `data` may replace the
    /// duplicate under the cursor in place, i.e. sorts strictly between its neighbours (LMDB
    /// writes it there without re-sorting). Checks `data`'s size first. `Ok(true)` also when
    /// the database has no `DUP_SORT` or the cursor stands on nothing (LMDB answers then).
    pub(crate) fn duplicate_sorts_in_place(&mut self, key: &[u8], data: &[u8]) -> Result<bool, MdbError> {
        if self.db_flags()? & ffi::MDB_DUPSORT == 0 {
            return Ok(true);
        }
        self.check_sizes(key, Some(data), true)?;
        let Some((_, current)) = self.get(ffi::MDB_GET_CURRENT, None)? else { return Ok(true) };
        let current = current.to_vec();
        // SAFETY: live cursor; LMDB returns its own txn and dbi, both live ('t).
        let (txn, dbi) =
            unsafe { (ffi::mdb_cursor_txn(self.ptr.as_ptr()), ffi::mdb_cursor_dbi(self.ptr.as_ptr())) };
        let dcmp = |a: &[u8], b: &[u8]| {
            let (a, b) = (val(a), val(b));
            // SAFETY: live txn and dbi; both values outlive the call and passed the size
            // rules (stored duplicates, and `data` above).
            unsafe { ffi::mdb_dcmp(txn, dbi, &a, &b) }.cmp(&0)
        };
        // A second cursor finds the neighbours, leaving this one (an iterator's) where it is.
        let mut probe = ptr::null_mut();
        // SAFETY: live txn, valid out-pointer; closed below.
        mdb_result(unsafe { ffi::mdb_cursor_open(txn, dbi, &mut probe) })?;
        let neighbour = |op: ffi::MDB_cursor_op| -> Result<Option<Vec<u8>>, MdbError> {
            let (mut k, mut d) = (val(key), val(&current));
            // SAFETY: live cursor; key and value outlive the call.
            let rc = unsafe { ffi::mdb_cursor_get(probe, &mut k, &mut d, ffi::MDB_GET_BOTH) };
            mdb_result(rc)?;
            // SAFETY: as above.
            match unsafe { ffi::mdb_cursor_get(probe, &mut k, &mut d, op) } {
                // SAFETY: on success `d` points into a page of the live txn; copied at once.
                0 => Ok(Some(unsafe { slice(d) }.to_vec())),
                rc if rc == ffi::MDB_NOTFOUND => Ok(None),
                rc => Err(MdbError::from_err_code(rc)),
            }
        };
        let around = neighbour(ffi::MDB_PREV_DUP).and_then(|prev| Ok((prev, neighbour(ffi::MDB_NEXT_DUP)?)));
        // SAFETY: opened above, not used again.
        unsafe { ffi::mdb_cursor_close(probe) };
        let (prev, next) = around?;
        use std::cmp::Ordering::Less;
        Ok(prev.is_none_or(|p| dcmp(&p, data) == Less) && next.is_none_or(|n| dcmp(data, &n) == Less))
    }

    /// The env's largest key (and `DUP_SORT` value) size.
    pub(crate) fn max_key_size(&self) -> usize {
        // SAFETY: live cursor; its txn's env is live.
        unsafe {
            ffi::mdb_env_get_maxkeysize(ffi::mdb_txn_env(ffi::mdb_cursor_txn(self.ptr.as_ptr()))) as usize
        }
    }

    /// The flags of the cursor's database.
    pub(crate) fn db_flags(&self) -> Result<c_uint, MdbError> {
        let mut db_flags = 0;
        // SAFETY: live cursor; the txn and dbi it returns are its own, live ones.
        mdb_result(unsafe {
            let cursor = self.ptr.as_ptr();
            ffi::mdb_dbi_flags(ffi::mdb_cursor_txn(cursor), ffi::mdb_cursor_dbi(cursor), &mut db_flags)
        })?;
        Ok(db_flags)
    }

    /// The number of values of the key under the cursor (1 without `DUP_SORT`).
    pub(crate) fn count(&self) -> Result<usize, MdbError> {
        let mut count = 0;
        // SAFETY: live, positioned cursor; valid out-pointer. Without DUP_SORT, LMDB answers
        // MDB_INCOMPATIBLE: one value per key.
        match unsafe { ffi::mdb_cursor_count(self.ptr.as_ptr(), &mut count) } {
            0 => Ok(count),
            rc if rc == ffi::MDB_INCOMPATIBLE => Ok(1),
            rc => Err(MdbError::from_err_code(rc)),
        }
    }

    /// Puts through the cursor (`MDB_CURRENT` replaces the entry under it, `MDB_APPEND`
    /// appends, ...); `false` for `MDB_NOTFOUND` (no current entry).
    ///
    /// # Safety
    /// As [`del`](Self::del).
    pub(crate) unsafe fn put(&mut self, key: &[u8], data: &[u8], flags: c_uint) -> Result<bool, MdbError> {
        self.check_sizes(key, Some(data), true)?;
        let (mut k, mut d) = (val(key), val(data));
        // SAFETY: per the contract; key and data outlive the call.
        match unsafe { ffi::mdb_cursor_put(self.ptr.as_ptr(), &mut k, &mut d, flags) } {
            0 => Ok(true),
            rc if rc == ffi::MDB_NOTFOUND => Ok(false),
            rc => Err(MdbError::from_err_code(rc)),
        }
    }

    /// Reserves `size` bytes through the cursor (`MDB_RESERVE | flags`); `None` for
    /// `MDB_NOTFOUND`.
    ///
    /// # Safety
    /// As [`del`](Self::del); the memory is valid for writes until the next write in the txn
    /// and must not be read before it was written.
    pub(crate) unsafe fn reserve(
        &mut self,
        key: &[u8],
        size: usize,
        flags: c_uint,
    ) -> Result<Option<*mut u8>, MdbError> {
        refuse_reserve_on_dupsort(self.db_flags()?)?;
        self.check_sizes(key, None, false)?;
        let mut k = val(key);
        let mut d = ffi::MDB_val { mv_size: size, mv_data: ptr::null_mut() };
        // SAFETY: per the contract; LMDB fills `d` with the reserved location.
        match unsafe { ffi::mdb_cursor_put(self.ptr.as_ptr(), &mut k, &mut d, flags | ffi::MDB_RESERVE) } {
            0 => Ok(Some(d.mv_data as *mut u8)),
            rc if rc == ffi::MDB_NOTFOUND => Ok(None),
            rc => Err(MdbError::from_err_code(rc)),
        }
    }

    /// `MDB_GET_MULTIPLE` (`next == false`) or `MDB_NEXT_MULTIPLE`: a block of contiguous
    /// values of the current key of a `DUP_FIXED` database. `current` is the value the
    /// cursor stands on: for a key with a single value LMDB answers `MDB_GET_MULTIPLE` by
    /// leaving it untouched. `None` when the key has no further block.
    pub(crate) fn get_multiple(
        &mut self,
        next: bool,
        current: &'t [u8],
    ) -> Result<Option<&'t [u8]>, MdbError> {
        let mut k = val(&[]);
        let mut d = val(current);
        let op = if next { ffi::MDB_NEXT_MULTIPLE } else { ffi::MDB_GET_MULTIPLE };
        // SAFETY: live cursor; `d` holds a value of the txn, LMDB replaces it with a block.
        match unsafe { ffi::mdb_cursor_get(self.ptr.as_ptr(), &mut k, &mut d, op) } {
            // SAFETY: on success `d` points into a page of the txn borrowed for 't, which
            // makes no write while this cursor is used (typed layer).
            0 => Ok(Some(unsafe { slice(d) })),
            rc if rc == ffi::MDB_NOTFOUND => Ok(None),
            rc => Err(MdbError::from_err_code(rc)),
        }
    }

    /// `MDB_MULTIPLE`: stores `count` values of `size` bytes each, contiguous in `values`,
    /// as duplicates of `key` in a `DUP_FIXED` database; returns how many LMDB stored.
    ///
    /// # Safety
    /// As [`del`](Self::del).
    pub(crate) unsafe fn put_multiple(
        &mut self,
        key: &[u8],
        values: &[u8],
        size: usize,
        flags: c_uint,
    ) -> Result<usize, MdbError> {
        assert!(
            size > 0 && values.len().is_multiple_of(size) && !values.is_empty(),
            "MDB_MULTIPLE needs whole values"
        );
        let db_flags = self.db_flags()?;
        // Without DUP_SORT, LMDB would put the values one over the other under one key.
        if db_flags & (ffi::MDB_DUPSORT | ffi::MDB_DUPFIXED) != ffi::MDB_DUPSORT | ffi::MDB_DUPFIXED {
            return Err(MdbError::Incompatible);
        }
        self.check_sizes(key, Some(&values[..size]), true)?;
        let mut k = val(key);
        let mut d = [
            ffi::MDB_val { mv_size: size, mv_data: values.as_ptr() as *mut c_void },
            ffi::MDB_val { mv_size: values.len() / size, mv_data: ptr::null_mut() },
        ];
        // SAFETY: per the contract; with MDB_MULTIPLE LMDB reads the two-element array
        // (first value and its size, then the count), and `values` outlives the call.
        mdb_result(unsafe {
            ffi::mdb_cursor_put(self.ptr.as_ptr(), &mut k, d.as_mut_ptr(), flags | ffi::MDB_MULTIPLE)
        })?;
        Ok(d[1].mv_size)
    }

    /// Deletes the entry under the cursor (`flags`: `MDB_NODUPDATA` for all its duplicates);
    /// the cursor then stands on the next entry, which `MDB_NEXT` returns.
    ///
    /// # Safety
    /// The cursor's txn is a write txn, and no slice read through it is used afterwards.
    pub(crate) unsafe fn del(&mut self, flags: c_uint) -> Result<(), MdbError> {
        // SAFETY: per the contract.
        mdb_result(unsafe { ffi::mdb_cursor_del(self.ptr.as_ptr(), flags) })
    }
}

impl Drop for RawCursor<'_> {
    fn drop(&mut self) {
        // SAFETY: the cursor is owned and its txn is still live ('t).
        unsafe { ffi::mdb_cursor_close(self.ptr.as_ptr()) }
    }
}

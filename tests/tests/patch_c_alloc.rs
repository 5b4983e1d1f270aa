//! Patch 0007 (free page ranges are not searched again where none is) must not change which
//! pages LMDB allocates: the same deterministic churn of overflow values, with a long-lived
//! reader, nested txns that commit and abort, and txns large enough to spill, is run on the
//! patched and on the pristine library, and after every txn the free list (every freeDB
//! record) and the last page in use must be the same. The two libraries also take turns on
//! one file, each continuing what the other wrote: the file format is unchanged. After every
//! turn hedge checks the env (`Env::check`) and compares every value with the model; each
//! run ends with a compacting copy, checked the same way.
//!
//! The work the patch removes is counted by `tests/c/alloc_suite.c` (see `patch_c_tests.rs`).

use std::collections::BTreeMap;
use std::path::Path;

/// What one txn left behind: the last page in use, the freeDB's records in order, and the
/// number of overflow pages of the main DB.
#[derive(Debug, PartialEq, Eq, Clone)]
struct After {
    txn: usize,
    last_page: usize,
    free_records: Vec<(Vec<u8>, Vec<u8>)>,
    overflow_pages: usize,
}

/// Values take 1, 2 or 4 overflow pages of 4 KiB (768, 1536 and 3072-dim f32 vectors).
const SIZES: [usize; 3] = [3072, 6144, 12288];
const KEYS: u32 = 3000;
const TXNS: usize = 120;
/// The libraries take turns every `TURN` txns; a reader lives across txns `TURN * k` to
/// `TURN * k + TURN / 2`, so that no reader is open at a turn.
const TURN: usize = 20;

/// A xorshift generator: the workload of txn `t` depends on `t` only.
struct Rng(u64);

impl Rng {
    fn for_txn(t: usize) -> Rng {
        Rng(0x9E37_79B9_7F4A_7C15 ^ (t as u64 + 1).wrapping_mul(0xD129_0B3A_1F5C_3E27))
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The value of `key` written by txn `t` in size class `class`.
fn value(key: u32, t: usize, class: usize) -> Vec<u8> {
    (0..SIZES[class]).map(|i| (key as usize * 7 + t * 13 + i) as u8).collect()
}

/// The puts (and deletes, `None`) txn `t` makes, and whether it runs part of them in a
/// nested txn that aborts. Txn 0 loads every key; every tenth txn replaces a fifth of the
/// keys, enough dirty pages to spill with `MDB_IDL_LOGN` 10 (tests/Cargo.toml).
fn plan(t: usize) -> (Vec<(u32, Option<usize>)>, Option<bool>) {
    let mut rng = Rng::for_txn(t);
    if t == 0 {
        return ((0..KEYS).map(|k| (k, Some(rng.below(3) as usize))).collect(), None);
    }
    let n = if t.is_multiple_of(10) { KEYS / 5 } else { KEYS / 40 };
    let ops = (0..n)
        .map(|_| {
            let key = rng.below(KEYS as u64) as u32;
            let op = if rng.below(10) == 0 { None } else { Some(rng.below(3) as usize) };
            (key, op)
        })
        .collect();
    let nested = (t % 7 == 3).then_some(t % 14 == 3);
    (ops, nested)
}

hedge_tests::for_each_variant! {
    use raw::*;
    use std::collections::BTreeMap;
    use std::path::Path;
    use super::{After, plan, value, TURN};

    fn env_info(env: &Env) -> ffi::MDB_envinfo {
        let mut info = std::mem::MaybeUninit::<ffi::MDB_envinfo>::uninit();
        // SAFETY: the env is open and `info` is a valid out-pointer.
        ok(unsafe { ffi::mdb_env_info(env.ptr, info.as_mut_ptr()) });
        // SAFETY: mdb_env_info returned 0, so it filled `info`.
        unsafe { info.assume_init() }
    }

    fn apply(
        txn: *mut ffi::MDB_txn,
        dbi: ffi::MDB_dbi,
        ops: &[(u32, Option<usize>)],
        t: usize,
        model: &mut BTreeMap<u32, Vec<u8>>,
    ) {
        for &(key, op) in ops {
            let k = key.to_be_bytes();
            match op {
                Some(class) => {
                    let v = value(key, t, class);
                    ok(reserve(txn, dbi, &k, v.len(), 0, |i| v[i]));
                    model.insert(key, v);
                }
                None => {
                    let mut kv = val(&k);
                    // SAFETY: live write txn and dbi; `kv` points to `k`.
                    let rc = unsafe { ffi::mdb_del(txn, dbi, &mut kv, std::ptr::null_mut()) };
                    assert!(rc == 0 || rc == ffi::MDB_NOTFOUND, "mdb_del: {}", strerror(rc));
                    model.remove(&key);
                }
            }
        }
    }

    /// Opens the env in `dir` and runs txns `txns` of the churn on it, updating `model`.
    pub fn churn(
        dir: &Path,
        flags: u32,
        txns: std::ops::Range<usize>,
        model: &mut BTreeMap<u32, Vec<u8>>,
        history: &mut Vec<After>,
    ) {
        let env = Env::open_at(dir, flags | ffi::MDB_NOSYNC | ffi::MDB_NOTLS, 256 << 20, 4);
        let mut reader = None;
        for t in txns {
            if t % TURN == 0 {
                reader = Some(env.begin(std::ptr::null_mut(), ffi::MDB_RDONLY).unwrap());
            }
            if t % TURN == TURN / 2 {
                abort(reader.take().unwrap());
            }
            let (ops, nested) = plan(t);
            let txn = env.begin(std::ptr::null_mut(), 0).unwrap();
            let dbi = dbi_open(txn, None, 0).unwrap();
            match nested {
                // WRITEMAP does not support nested txns: the same ops then go to the txn.
                Some(commits) if flags & ffi::MDB_WRITEMAP == 0 => {
                    let half = ops.len() / 2;
                    apply(txn, dbi, &ops[..half], t, model);
                    let child = env.begin(txn, 0).unwrap();
                    let mut scratch = model.clone();
                    apply(child, dbi, &ops[half..], t, &mut scratch);
                    if commits {
                        ok(commit(child));
                        *model = scratch;
                    } else {
                        abort(child);
                    }
                }
                _ => apply(txn, dbi, &ops, t, model),
            }
            ok(commit(txn));

            let rtxn = env.begin(std::ptr::null_mut(), ffi::MDB_RDONLY).unwrap();
            let free_records = scan(rtxn, 0).unwrap();
            let mut stat = std::mem::MaybeUninit::<ffi::MDB_stat>::uninit();
            // SAFETY: live read txn, the main DB's handle, a valid out-pointer.
            ok(unsafe { ffi::mdb_stat(rtxn, 1, stat.as_mut_ptr()) });
            // SAFETY: mdb_stat returned 0, so it filled `stat`.
            let overflow_pages = unsafe { stat.assume_init() }.ms_overflow_pages;
            abort(rtxn);
            history.push(After { txn: t, last_page: env_info(&env).me_last_pgno, free_records, overflow_pages });
        }
        if let Some(reader) = reader {
            abort(reader);
        }
    }

    /// A compacting copy of the env in `dir` into `to` (an existing, empty directory).
    #[allow(dead_code)] // used from the patched variant only
    pub fn compact_copy(dir: &Path, to: &Path) {
        let env = Env::open_at(dir, ffi::MDB_RDONLY, 256 << 20, 4);
        let path = std::ffi::CString::new(to.to_str().unwrap()).unwrap();
        // SAFETY: the env is open, `path` is a NUL-terminated path of an empty directory.
        ok(unsafe { ffi::mdb_env_copy2(env.ptr, path.as_ptr(), ffi::MDB_CP_COMPACT) });
    }
}

/// Every value of the env in `dir`, read and checked with hedge (the patched library).
fn check_with_hedge(dir: &Path, model: &BTreeMap<u32, Vec<u8>>) {
    let (env, db) = hedge_tests::env_with_database::<hedge::types::Bytes, hedge::types::Bytes>(
        dir,
        hedge::EnvFlags::empty(),
        None,
        hedge::DatabaseFlags::empty(),
    );
    let report = env.check().unwrap();
    assert!(report.is_ok(), "{:?}", report.problems);
    let rtxn = env.read_txn().unwrap();
    let stored: Vec<(Vec<u8>, Vec<u8>)> = db
        .iter(&rtxn)
        .unwrap()
        .map(|r| r.map(|(k, v)| (k.to_vec(), v.to_vec())))
        .collect::<Result<_, _>>()
        .unwrap();
    let expected: Vec<(Vec<u8>, Vec<u8>)> =
        model.iter().map(|(k, v)| (k.to_be_bytes().to_vec(), v.clone())).collect();
    assert!(stored == expected, "the env does not hold the model's {} values", expected.len());
}

/// Runs the churn with the libraries taking turns (`turns[i]`: whether the patched one runs
/// the i-th `TURN` txns), checks the env with hedge after every turn and a compacting copy
/// at the end, and returns the history.
fn run(flags: u32, turns: impl Fn(usize) -> bool) -> Vec<After> {
    let dir = tempfile::tempdir().unwrap();
    let (mut model, mut history) = (BTreeMap::new(), Vec::new());
    for start in (0..TXNS).step_by(TURN) {
        let txns = start..(start + TURN).min(TXNS);
        if turns(start / TURN) {
            patched::churn(dir.path(), flags, txns, &mut model, &mut history);
        } else {
            pristine::churn(dir.path(), flags, txns, &mut model, &mut history);
        }
        check_with_hedge(dir.path(), &model);
    }
    let copy = tempfile::tempdir().unwrap();
    patched::compact_copy(dir.path(), copy.path());
    check_with_hedge(copy.path(), &model);
    history
}

fn assert_same(what: &str, a: &[After], b: &[After]) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert!(
            x == y,
            "{what}: after txn {} the free lists or files differ (last page {} vs {}, {} vs {} freeDB records)",
            x.txn,
            x.last_page,
            y.last_page,
            x.free_records.len(),
            y.free_records.len()
        );
    }
}

fn same_pages_as_pristine(flags: u32) {
    let patched = run(flags, |_| true);
    let pristine = run(flags, |_| false);
    assert!(patched.iter().any(|a| !a.free_records.is_empty()), "the churn frees pages");
    assert_same("patched vs pristine", &patched, &pristine);
    assert_same("taking turns, patched first", &run(flags, |i| i % 2 == 0), &pristine);
    assert_same("taking turns, pristine first", &run(flags, |i| i % 2 == 1), &pristine);
}

#[test]
fn overflow_churn_allocates_the_same_pages_as_pristine() {
    same_pages_as_pristine(0);
}

#[test]
fn overflow_churn_allocates_the_same_pages_as_pristine_with_writemap() {
    same_pages_as_pristine(hedge_lmdb_sys::MDB_WRITEMAP);
}

//! hedge's LMDB and heed's (lmdb-master-sys 0.2.6) in one test binary: both link, both
//! work at the same time, and each call reaches its own library.

use std::ffi::CString;
use std::ptr;

use hedge_lmdb_sys as hedge;
use lmdb_master_sys as heed;

/// Opens an env with heed's LMDB, writes and reads one key, and returns what
/// `mdb_txn_begin(env, write_parent, MDB_RDONLY)` said (0.2.6 carries nested readers).
fn heed_roundtrip(dir: &std::path::Path) -> i32 {
    let path = CString::new(dir.to_str().unwrap()).unwrap();
    // SAFETY: plain use of heed's raw bindings; every handle is created here and closed.
    unsafe {
        let mut env = ptr::null_mut();
        assert_eq!(heed::mdb_env_create(&mut env), 0);
        assert_eq!(heed::mdb_env_open(env, path.as_ptr(), 0, 0o644), 0);
        let mut txn = ptr::null_mut();
        assert_eq!(heed::mdb_txn_begin(env, ptr::null_mut(), 0, &mut txn), 0);
        let mut dbi = 0;
        assert_eq!(heed::mdb_dbi_open(txn, ptr::null(), 0, &mut dbi), 0);
        let (k, v) = (b"heed-key", b"heed-value");
        let mut key = heed::MDB_val { mv_size: k.len(), mv_data: k.as_ptr() as *mut _ };
        let mut val = heed::MDB_val { mv_size: v.len(), mv_data: v.as_ptr() as *mut _ };
        assert_eq!(heed::mdb_put(txn, dbi, &mut key, &mut val, 0), 0);
        let mut child = ptr::null_mut();
        let nested = heed::mdb_txn_begin(env, txn, heed::MDB_RDONLY, &mut child);
        if nested == 0 {
            heed::mdb_txn_abort(child);
        }
        assert_eq!(heed::mdb_txn_commit(txn), 0);
        let mut out = heed::MDB_val { mv_size: 0, mv_data: ptr::null_mut() };
        assert_eq!(heed::mdb_txn_begin(env, ptr::null_mut(), heed::MDB_RDONLY, &mut txn), 0);
        assert_eq!(heed::mdb_get(txn, dbi, &mut key, &mut out), 0);
        assert_eq!(std::slice::from_raw_parts(out.mv_data as *const u8, out.mv_size), v);
        heed::mdb_txn_abort(txn);
        heed::mdb_env_close(env);
        nested
    }
}

mod patched {
    use hedge_lmdb_sys as ffi;
    hedge_tests::raw_api!();
    pub use raw::*;
}

mod pristine {
    use hedge_lmdb_sys::pristine as ffi;
    hedge_tests::raw_api!();
    pub use raw::*;
}

#[test]
fn both_libraries_work_side_by_side() {
    let heed_dir = tempfile::tempdir().unwrap();
    let hedge_env = patched::Env::open(0);
    let txn = hedge_env.begin(ptr::null_mut(), 0).unwrap();
    let dbi = patched::dbi_open(txn, None, 0).unwrap();
    patched::ok(patched::put(txn, dbi, b"hedge-key", b"hedge-value", 0));

    // heed's LMDB does a whole round trip while hedge's write txn is open.
    let heed_nested = heed_roundtrip(heed_dir.path());
    assert_eq!(heed_nested, 0, "lmdb-master-sys 0.2.6 accepts nested read txns");

    assert_eq!(patched::get(txn, dbi, b"hedge-key").unwrap(), b"hedge-value");
    patched::ok(patched::commit(txn));
    let rtxn = hedge_env.begin(ptr::null_mut(), hedge::MDB_RDONLY).unwrap();
    assert_eq!(patched::get(rtxn, dbi, b"hedge-key").unwrap(), b"hedge-value");
    assert_eq!(patched::get(rtxn, dbi, b"heed-key"), Err(hedge::MDB_NOTFOUND));
    patched::abort(rtxn);
}

#[test]
fn each_name_reaches_its_own_library() {
    // Had the linker merged two definitions of one symbol, these would be equal.
    assert_ne!(hedge::mdb_env_create as *const () as usize, heed::mdb_env_create as *const () as usize);
    assert_ne!(hedge::mdb_txn_begin as *const () as usize, heed::mdb_txn_begin as *const () as usize);
    assert_ne!(
        hedge::pristine::mdb_txn_begin as *const () as usize,
        heed::mdb_txn_begin as *const () as usize
    );

    // Behaviour too, in the same process: heed's 0.2.6 accepts a nested read txn (checked in
    // heed_roundtrip), pristine upstream refuses it.
    let env = pristine::Env::open(0);
    let parent = env.begin(ptr::null_mut(), 0).unwrap();
    assert_eq!(env.begin(parent, hedge::MDB_RDONLY), Err(hedge::MDB_BAD_TXN));
    pristine::abort(parent);
    assert_eq!(heed_roundtrip(tempfile::tempdir().unwrap().path()), 0);
}

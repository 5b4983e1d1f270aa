//! W1 through the raw bindings: the same reserved writes against hedge's patched LMDB and
//! the same source without the patches (`hedge_lmdb_sys::pristine`), to isolate patch B.
//! The producer writes straight into the reserved page. And the free list of an environment
//! written by heed, read raw (heed has no API for it).

use crate::data;
use crate::harness::{measure, Measurement};
use crate::params::WriteParams;

macro_rules! raw_bulk {
    ($name:ident, $ffi:path) => {
        pub fn $name(p: &WriteParams) -> Measurement {
            use $ffi as ffi;
            let dir = tempfile::tempdir().unwrap();
            let path = std::ffi::CString::new(dir.path().to_str().unwrap()).unwrap();
            let bytes = p.dims * 4;
            let check = |rc: i32| assert_eq!(rc, 0, "LMDB error {rc}");
            let mut flags = ffi::MDB_NOSYNC;
            if p.writemap {
                flags |= ffi::MDB_WRITEMAP;
            }
            // SAFETY: raw LMDB calls on handles created here, in order; each reserved region
            // is `bytes` long, aligned for f32 (asserted), and filled before the next call.
            unsafe {
                let mut env = std::ptr::null_mut();
                check(ffi::mdb_env_create(&mut env));
                check(ffi::mdb_env_set_mapsize(env, p.map_size()));
                check(ffi::mdb_env_open(env, path.as_ptr(), flags, 0o644));
                let mut txn = std::ptr::null_mut();
                check(ffi::mdb_txn_begin(env, std::ptr::null_mut(), 0, &mut txn));
                let mut dbi = 0;
                check(ffi::mdb_dbi_open(txn, std::ptr::null(), 0, &mut dbi));
                check(ffi::mdb_txn_commit(txn));
                let ((), m) = measure(|| {
                    let mut txn = std::ptr::null_mut();
                    check(ffi::mdb_txn_begin(env, std::ptr::null_mut(), 0, &mut txn));
                    for id in 0..p.count {
                        let key = data::key(id);
                        let mut k = ffi::MDB_val { mv_size: 4, mv_data: key.as_ptr() as *mut _ };
                        let mut v = ffi::MDB_val { mv_size: bytes, mv_data: std::ptr::null_mut() };
                        check(ffi::mdb_put(txn, dbi, &mut k, &mut v, ffi::MDB_RESERVE));
                        assert!((v.mv_data as usize).is_multiple_of(4), "reserved space not aligned for f32");
                        data::produce(id, std::slice::from_raw_parts_mut(v.mv_data as *mut f32, p.dims));
                        if p.ends_txn(id) {
                            check(ffi::mdb_txn_commit(txn));
                            check(ffi::mdb_txn_begin(env, std::ptr::null_mut(), 0, &mut txn));
                        }
                    }
                    check(ffi::mdb_txn_commit(txn));
                });
                ffi::mdb_env_close(env);
                m
            }
        }
    };
}

raw_bulk!(w1_patched, hedge_lmdb_sys);
raw_bulk!(w1_pristine, hedge_lmdb_sys::pristine);

/// The free list of the closed environment in `dir`, read through lmdb-master-sys (heed's
/// LMDB): its pages and records (one per txn that freed pages).
pub fn free_list_heed(dir: &std::path::Path) -> (u64, u64) {
    use lmdb_master_sys as ffi;
    const FREE_DBI: ffi::MDB_dbi = 0;
    let path = std::ffi::CString::new(dir.to_str().unwrap()).unwrap();
    let check = |rc: i32| assert_eq!(rc, 0, "LMDB error {rc}");
    let (mut pages, mut records) = (0, 0);
    // SAFETY: raw LMDB calls on handles created here, in order; a read-only env of a file no
    // one else has open; each record's data is a page list that starts with its length.
    unsafe {
        let mut env = std::ptr::null_mut();
        check(ffi::mdb_env_create(&mut env));
        check(ffi::mdb_env_open(env, path.as_ptr(), ffi::MDB_RDONLY, 0o644));
        let mut txn = std::ptr::null_mut();
        check(ffi::mdb_txn_begin(env, std::ptr::null_mut(), ffi::MDB_RDONLY, &mut txn));
        let mut cursor = std::ptr::null_mut();
        check(ffi::mdb_cursor_open(txn, FREE_DBI, &mut cursor));
        let mut key = ffi::MDB_val { mv_size: 0, mv_data: std::ptr::null_mut() };
        let mut data = ffi::MDB_val { mv_size: 0, mv_data: std::ptr::null_mut() };
        while ffi::mdb_cursor_get(cursor, &mut key, &mut data, ffi::MDB_NEXT) == 0 {
            assert!(data.mv_size >= 8, "a free-list record shorter than its length");
            pages += (data.mv_data as *const u64).read_unaligned();
            records += 1;
        }
        ffi::mdb_cursor_close(cursor);
        ffi::mdb_txn_abort(txn);
        ffi::mdb_env_close(env);
    }
    (pages, records)
}

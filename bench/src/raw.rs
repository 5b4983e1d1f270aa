//! W1 through the raw bindings: the same reserved writes against hedge's patched LMDB and
//! the same source without the patches (`hedge_lmdb_sys::pristine`), to isolate patch B.
//! The producer writes straight into the reserved page.

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

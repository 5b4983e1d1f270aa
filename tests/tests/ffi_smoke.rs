//! The raw bindings work end to end (env, write txn, put, get, cursor, commit, reopen) on
//! both the patched and the pristine library.

use hedge_tests::for_each_variant;

for_each_variant! {
    use raw::*;

    fn value(i: u32) -> Vec<u8> {
        // Every tenth value is an overflow value (12 KiB, a 3072-dim f32 vector).
        let len = if i.is_multiple_of(10) { 12 * 1024 } else { 100 };
        (0..len).map(|j| (i as usize * 31 + j) as u8).collect()
    }

    #[test]
    fn put_get_cursor_commit_and_reopen() {
        let env = Env::open(0);
        let txn = env.begin(std::ptr::null_mut(), 0).unwrap();
        let dbi = dbi_open(txn, Some("smoke"), ffi::MDB_CREATE).unwrap();
        for i in (0..200u32).rev() {
            ok(put(txn, dbi, &i.to_be_bytes(), &value(i), 0));
        }
        assert_eq!(put(txn, dbi, &7u32.to_be_bytes(), b"x", ffi::MDB_NOOVERWRITE), ffi::MDB_KEYEXIST);
        assert_eq!(get(txn, dbi, &5u32.to_be_bytes()).unwrap(), &value(5)[..]);
        ok(commit(txn));

        let check = |env: &Env| {
            let rtxn = env.begin(std::ptr::null_mut(), ffi::MDB_RDONLY).unwrap();
            let dbi = dbi_open(rtxn, Some("smoke"), 0).unwrap();
            assert_eq!(get(rtxn, dbi, &10u32.to_be_bytes()).unwrap(), &value(10)[..]);
            assert_eq!(get(rtxn, dbi, &1000u32.to_be_bytes()), Err(ffi::MDB_NOTFOUND));
            let all = scan(rtxn, dbi).unwrap();
            assert_eq!(all.len(), 200);
            for (i, (k, v)) in all.iter().enumerate() {
                assert_eq!(k[..], (i as u32).to_be_bytes());
                assert_eq!(v, &value(i as u32));
            }
            let mut stat = std::mem::MaybeUninit::<ffi::MDB_stat>::uninit();
            // SAFETY: `stat` is a valid out-pointer, the txn and dbi are live.
            ok(unsafe { ffi::mdb_stat(rtxn, dbi, stat.as_mut_ptr()) });
            // SAFETY: mdb_stat returned 0, so it filled `stat`.
            let stat = unsafe { stat.assume_init() };
            assert_eq!(stat.ms_entries, 200);
            assert_eq!(stat.ms_overflow_pages, 20 * 4, "20 values of 12 KiB take 4 pages each");
            abort(rtxn);
        };
        check(&env);

        // Close and reopen the same directory, read-only: the data is durable.
        check(&env.reopen(ffi::MDB_RDONLY));
    }

    #[test]
    fn the_variant_says_what_it_is() {
        let mut major = -1;
        // SAFETY: mdb_version writes the ints it is given and returns a static string.
        let version = unsafe { std::ffi::CStr::from_ptr(ffi::mdb_version(&mut major, std::ptr::null_mut(), std::ptr::null_mut())) };
        assert_eq!(major, 0);
        assert!(version.to_str().unwrap().starts_with("LMDB 0.9.70"), "{version:?}");
        assert_eq!(ffi::SYMBOL_PREFIX, if ffi::PATCHED { "hedge_" } else { "hedge_pristine_" });
    }
}

#[test]
fn the_two_variants_are_distinct_libraries() {
    assert_ne!(
        hedge_lmdb_sys::mdb_env_create as *const () as usize,
        hedge_lmdb_sys::pristine::mdb_env_create as *const () as usize
    );
    assert_eq!(hedge_lmdb_sys::UPSTREAM_COMMIT, "f20e41de09d97e4461946b7e26ec831d0c24fac7");
}

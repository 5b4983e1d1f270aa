//! Patch B through the raw bindings, on what can be observed from outside the library:
//! what reaches the data file after a value on overflow pages, and how many bytes a commit
//! writes after a value grew. The byte counts of copies and zeroing per path are observed by
//! hedge's own C suite (`tests/c/reserve_suite.c`, run by `patch_c_tests`), which builds LMDB into
//! itself with counting memcpy/memset.

use std::ptr;

use hedge_tests::for_each_variant;

/// LMDB's page header on 64-bit hosts: an overflow value starts this far into its run.
const PAGEHDRSZ: usize = 16;

for_each_variant! {
    use std::ffi::c_uint;
    use raw::*;

    fn psize(env: &Env) -> usize {
        let mut st = std::mem::MaybeUninit::<ffi::MDB_stat>::uninit();
        // SAFETY: `st` is a valid out-pointer; mdb_env_stat fills it on success.
        ok(unsafe { ffi::mdb_env_stat(env.ptr, st.as_mut_ptr()) });
        // SAFETY: filled above.
        unsafe { st.assume_init() }.ms_psize as usize
    }

    /// Bytes after `key`'s value in its overflow run that are not zero, as the data file
    /// holds them (read through the map).
    fn nonzero_tail(txn: *mut ffi::MDB_txn, dbi: ffi::MDB_dbi, key: &[u8], psize: usize) -> usize {
        let mut k = val(key);
        let mut d = val(&[]);
        // SAFETY: the value lies in an overflow run of whole pages inside the map, so the
        // bytes from its end to the end of its last page are mapped and readable.
        unsafe {
            ok(ffi::mdb_get(txn, dbi, &mut k, &mut d));
            let start = d.mv_data as *const u8;
            let run = (PAGEHDRSZ + d.mv_size).div_ceil(psize) * psize;
            let tail = std::slice::from_raw_parts(start.add(d.mv_size), run - PAGEHDRSZ - d.mv_size);
            tail.iter().filter(|&&b| b != 0).count()
        }
    }

    fn key(k: u32) -> [u8; 4] {
        k.to_be_bytes()
    }

    /// Single-page values written where other data was before: heap pages reused from an
    /// aborted txn, file pages reused from the freelist (WRITEMAP).
    fn tails_after_reuse(flags: c_uint) -> (usize, usize) {
        let env = Env::open(flags);
        let ps = psize(&env);
        let n = 200;
        let txn = env.begin(ptr::null_mut(), 0).unwrap();
        let dbi = dbi_open(txn, None, 0).unwrap();
        for k in 0..n {
            ok(reserve(txn, dbi, &key(k), 4000, 0, |_| 0xAA));
        }
        ok(commit(txn));
        let txn = env.begin(ptr::null_mut(), 0).unwrap();
        for k in n..2 * n {
            ok(reserve(txn, dbi, &key(k), 4000, 0, |_| 0xAA));
        }
        abort(txn);
        let txn = env.begin(ptr::null_mut(), 0).unwrap();
        for k in 0..n {
            let mut kv = val(&key(k));
            // SAFETY: a plain delete in a live write txn.
            ok(unsafe { ffi::mdb_del(txn, dbi, &mut kv, ptr::null_mut()) });
        }
        ok(commit(txn));
        let txn = env.begin(ptr::null_mut(), 0).unwrap();
        for k in 2 * n..3 * n {
            ok(reserve(txn, dbi, &key(k), 3072, 0, |i| i as u8 | 1));
        }
        ok(commit(txn));
        let rtxn = env.begin(ptr::null_mut(), ffi::MDB_RDONLY).unwrap();
        let dirty = (2 * n..3 * n).filter(|&k| nonzero_tail(rtxn, dbi, &key(k), ps) > 0).count();
        abort(rtxn);
        (dirty, n as usize)
    }

    #[test]
    fn the_rest_of_a_new_run_is_zero_on_disk() {
        // Not with MDB_WRITEMAP: pages in the map are not initialized there, by upstream nor by
        // patch 0002 (they hold the file's own earlier contents, never heap memory).
        let (dirty, n) = tails_after_reuse(0);
        if ffi::PATCHED {
            assert_eq!(dirty, 0, "{dirty} of {n} runs carry stale bytes after their value");
        } else {
            assert!(dirty > 0, "expected stale bytes on the pristine library");
        }
    }

    /// Bytes this thread has written with write(2)-family calls (Linux).
    fn written_by_this_thread() -> u64 {
        let io = std::fs::read_to_string("/proc/thread-self/io").expect("/proc/thread-self/io (Linux)");
        io.lines()
            .find_map(|l| l.strip_prefix("wchar: "))
            .and_then(|v| v.trim().parse().ok())
            .expect("wchar in /proc/thread-self/io")
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn growing_a_value_writes_no_dead_run_at_commit() {
        let env = Env::open(0);
        let ps = psize(&env) as u64;
        let txn = env.begin(ptr::null_mut(), 0).unwrap();
        let dbi = dbi_open(txn, None, 0).unwrap();
        ok(put(txn, dbi, &key(0), b"small", 0));
        ok(reserve(txn, dbi, &key(1), 12288, 0, |_| 1));
        ok(reserve(txn, dbi, &key(1), 20000, 0, |_| 2)); // 4 -> 5 pages
        ok(reserve(txn, dbi, &key(2), 6144, 0, |_| 3));
        ok(reserve(txn, dbi, &key(2), 12288, 0, |_| 4)); // 2 -> 4 pages
        let before = written_by_this_thread();
        ok(commit(txn));
        let written = written_by_this_thread() - before;

        let rtxn = env.begin(ptr::null_mut(), ffi::MDB_RDONLY).unwrap();
        let mut live = 0;
        for d in [dbi, 0 /* FREE_DBI */] {
            let mut st = std::mem::MaybeUninit::<ffi::MDB_stat>::uninit();
            // SAFETY: valid out-pointer, live read txn.
            ok(unsafe { ffi::mdb_stat(rtxn, d, st.as_mut_ptr()) });
            // SAFETY: filled above.
            let st = unsafe { st.assume_init() };
            live += (st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages) as u64;
        }
        abort(rtxn);
        let bound = (live + 1) * ps; // the trees' pages and one meta page
        if ffi::PATCHED {
            assert!(written <= bound, "commit wrote {written} bytes for {live} live pages");
        } else {
            assert!(written >= (live + 6) * ps, "pristine writes the 6 freed pages too: {written} bytes");
        }
    }
}

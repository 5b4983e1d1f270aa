//! Patch A through the raw bindings: read-only children of a write transaction, moved to
//! other threads, see the uncommitted data; the parent is blocked while they live and
//! usable after. Each scenario runs against both libraries: the patched one must do it,
//! the pristine one must refuse the child with `MDB_BAD_TXN` (upstream mdb.master has no
//! read-only children).

use std::ptr;

/// What `mdb_txn_commit` returns under live read-only children (patch 0005).
const EBUSY: i32 = 16;

use hedge_tests::for_each_variant;

for_each_variant! {
    use std::ffi::c_uint;
    use raw::*;

    const N: u32 = 3000;

    fn value(i: u32, version: u8) -> Vec<u8> {
        // Every tenth value is a 1536-dim f32 vector (6 KiB, an overflow value).
        let len = if i.is_multiple_of(10) { 6144 } else { 64 };
        (0..len).map(|j| (i as usize * 7 + j) as u8 ^ version).collect()
    }

    fn write_all(txn: *mut ffi::MDB_txn, dbi: ffi::MDB_dbi, version: u8) {
        for i in 0..N {
            ok(put(txn, dbi, &i.to_be_bytes(), &value(i, version), 0));
        }
    }

    /// An env with version 0 committed, and a write txn that rewrote everything as version 1.
    fn parent_with_uncommitted(flags: c_uint) -> (Env, *mut ffi::MDB_txn, ffi::MDB_dbi) {
        let env = Env::open(flags);
        let txn = env.begin(ptr::null_mut(), 0).unwrap();
        let dbi = dbi_open(txn, Some("vectors"), ffi::MDB_CREATE).unwrap();
        write_all(txn, dbi, 0);
        ok(commit(txn));
        let parent = env.begin(ptr::null_mut(), 0).unwrap();
        write_all(parent, dbi, 1);
        (env, parent, dbi)
    }

    /// Begins a read-only child: the patched library must succeed, the pristine one must
    /// refuse (and the caller then stops).
    fn begin_child(env: &Env, parent: *mut ffi::MDB_txn) -> Option<*mut ffi::MDB_txn> {
        let child = env.begin(parent, ffi::MDB_RDONLY);
        if ffi::PATCHED {
            Some(child.expect("read-only child of a write txn"))
        } else {
            assert_eq!(child, Err(ffi::MDB_BAD_TXN), "pristine LMDB has no read-only children");
            None
        }
    }

    fn readers_on_threads(flags: c_uint) {
        let (env, parent, dbi) = parent_with_uncommitted(flags);
        let mut children = Vec::new();
        for _ in 0..8 {
            match begin_child(&env, parent) {
                Some(child) => children.push(Sendable(child)),
                None => return abort(parent),
            }
        }
        std::thread::scope(|s| {
            for (t, child) in children.into_iter().enumerate() {
                s.spawn(move || {
                    let child = child;
                    for i in (t as u32..N).step_by(8) {
                        assert_eq!(get(child.0, dbi, &i.to_be_bytes()).unwrap(), &value(i, 1)[..]);
                    }
                    assert_eq!(scan(child.0, dbi).unwrap().len(), N as usize);
                    abort(child.0); // ended on the thread that used it
                });
            }
        });
        // All children ended: the parent writes and commits again.
        ok(put(parent, dbi, &0u32.to_be_bytes(), &value(0, 2), 0));
        ok(commit(parent));
        let rtxn = env.begin(ptr::null_mut(), ffi::MDB_RDONLY).unwrap();
        assert_eq!(get(rtxn, dbi, &0u32.to_be_bytes()).unwrap(), &value(0, 2)[..]);
        assert_eq!(get(rtxn, dbi, &10u32.to_be_bytes()).unwrap(), &value(10, 1)[..]);
        abort(rtxn);
    }

    #[test]
    fn children_on_eight_threads_read_the_uncommitted_state() {
        readers_on_threads(0);
    }

    #[test]
    fn children_on_eight_threads_read_the_uncommitted_state_with_writemap() {
        readers_on_threads(ffi::MDB_WRITEMAP);
    }

    #[test]
    fn the_parent_is_blocked_while_a_child_lives_then_usable() {
        let (env, parent, dbi) = parent_with_uncommitted(0);
        let Some(child) = begin_child(&env, parent) else { return abort(parent) };
        let key = 5u32.to_be_bytes();
        assert_eq!(get(parent, dbi, &key), Err(ffi::MDB_BAD_TXN));
        assert_eq!(put(parent, dbi, &key, b"new", 0), ffi::MDB_BAD_TXN);
        assert_eq!(env.begin(parent, 0), Err(ffi::MDB_BAD_TXN), "no write child while readers live");
        assert_eq!(commit(parent), EBUSY, "a refused commit leaves the txn alive");
        // The child still reads the parent's state, unchanged by the refused calls.
        assert_eq!(get(child, dbi, &key).unwrap(), &value(5, 1)[..]);
        abort(child);
        assert_eq!(get(parent, dbi, &key).unwrap(), &value(5, 1)[..]);
        ok(put(parent, dbi, &key, b"new", 0));
        ok(commit(parent));
    }

    #[test]
    fn children_of_a_nested_write_txn_see_both_levels() {
        let (env, parent, dbi) = parent_with_uncommitted(0);
        let nested = env.begin(parent, 0).unwrap();
        ok(put(nested, dbi, &7u32.to_be_bytes(), b"nested", 0));
        let Some(child) = begin_child(&env, nested) else {
            abort(nested);
            return abort(parent);
        };
        assert_eq!(get(child, dbi, &7u32.to_be_bytes()).unwrap(), b"nested");
        assert_eq!(get(child, dbi, &8u32.to_be_bytes()).unwrap(), &value(8, 1)[..]);
        assert_eq!(commit(parent), EBUSY, "an ancestor cannot commit under a live child");
        abort(child);
        ok(commit(nested));
        ok(commit(parent));
    }

    #[test]
    fn misuse_of_children_is_refused() {
        let (env, parent, dbi) = parent_with_uncommitted(0);
        let Some(child) = begin_child(&env, parent) else { return abort(parent) };
        assert_eq!(env.begin(child, ffi::MDB_RDONLY), Err(22), "EINVAL: a read-only parent");
        // As in any read-only txn: EACCES for a database that does not exist.
        assert_eq!(dbi_open(child, Some("other"), ffi::MDB_CREATE), Err(13), "EACCES: no DBI creation");
        assert_eq!(dbi_open(child, Some("other"), 0), Err(ffi::MDB_NOTFOUND));
        assert_eq!(dbi_open(child, Some("vectors"), 0), Ok(dbi));
        assert_eq!(put(child, dbi, b"k", b"v", 0), 13, "EACCES: read-only");
        // SAFETY: renew of a live child is refused without touching it.
        assert_eq!(unsafe { ffi::mdb_txn_renew(child) }, 22);
        abort(child);
        ok(commit(parent));
    }
}

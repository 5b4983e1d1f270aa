//! Regression tests for the holes an adversarial review found in hedge's safe API (issue 11):
//! each test is a safe program that reached undefined behaviour, a crash, a deadlock or a
//! corrupted database before its fix (use-after-free, heap overflow, out-of-bounds read,
//! uninitialised read, abort, hang). `.ci/reliability` also runs this binary under valgrind,
//! where the memory-error ones must report nothing.

use std::io::{Read, Seek, SeekFrom, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};

use hedge::types::{Bytes, Str};
use hedge::{
    CommitOrAbort, CompactionOption, Database, DatabaseFlags, Env, EnvFlags, EnvOpenOptions, Error,
    IntegerComparator, MdbError, PutFlags, WithTls,
};

use hedge_tests::setup::{create, env_at};

fn io_kind(result: &Error) -> Option<std::io::ErrorKind> {
    match result {
        Error::Io(e) => Some(e.kind()),
        _ => None,
    }
}

/// The error of a call that must fail (also for `Ok` values that are not `Debug`).
fn refused<T>(result: hedge::Result<T>) -> Error {
    match result {
        Ok(_) => panic!("the call succeeded; it must be refused"),
        Err(e) => e,
    }
}

fn assert_healthy(env: &Env) {
    let report = env.check().unwrap();
    assert!(report.is_ok(), "{report:?}");
}

/// Hole 1: `MDB_APPEND` of a key that does not sort last answers `MDB_KEYEXIST` without
/// pointing the data at an existing value; hedge returned the caller's own (freed) input.
#[test]
fn get_or_put_with_append_never_returns_the_callers_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let env = env_at(dir.path());
    let db: Database<Bytes, Bytes> = create(&env, "append", DatabaseFlags::empty());
    let mut wtxn = env.write_txn().unwrap();
    db.put(&mut wtxn, b"m", b"stored").unwrap();
    // A key before the last one, not in the database: an error, not a value.
    let input = b"caller's value".to_vec();
    let err = db.get_or_put_with_flags(&mut wtxn, PutFlags::APPEND, b"a", &input).unwrap_err();
    assert!(matches!(err, Error::Mdb(MdbError::KeyExist)), "{err:?}");
    // The last key itself: the value that is there.
    let existing = db.get_or_put_with_flags(&mut wtxn, PutFlags::APPEND, b"m", &input).unwrap();
    assert_eq!(existing, Some(&b"stored"[..]));
    let err =
        db.get_or_put_reserved_with_flags(&mut wtxn, PutFlags::APPEND, b"b", 4, |_| Ok(())).unwrap_err();
    assert!(matches!(err, Error::Mdb(MdbError::KeyExist)), "{err:?}");
    let existing =
        db.get_or_put_reserved_with_flags(&mut wtxn, PutFlags::APPEND, b"m", 4, |_| Ok(())).unwrap();
    assert_eq!(existing, Some(&b"stored"[..]));

    // In a DUP_SORT database, APPEND_DUP of a value that does not sort last.
    let dups: Database<Bytes, Bytes> = db.remap_types();
    drop(wtxn);
    let dupdb: Database<Bytes, Bytes> = create(&env, "dups", DatabaseFlags::DUP_SORT);
    let mut wtxn = env.write_txn().unwrap();
    dupdb.put(&mut wtxn, b"k", b"z").unwrap();
    let got = dupdb.get_or_put_with_flags(&mut wtxn, PutFlags::APPEND_DUP, b"k", b"a").unwrap();
    assert_eq!(got, Some(&b"z"[..]));
    let _ = dups;
    wtxn.commit().unwrap();
    assert_healthy(&env);
}

/// Hole 2: a nested write txn whose parent belongs to another env: LMDB copied the parent's
/// database records into an array sized for this env (heap overflow).
#[test]
fn nested_write_txn_refuses_a_parent_of_another_env() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    // SAFETY (tests): fresh directories.
    let small = unsafe { EnvOpenOptions::new().max_dbs(0).open(a.path()) }.unwrap();
    let big = unsafe { EnvOpenOptions::new().max_dbs(200).open(b.path()) }.unwrap();
    let mut parent = big.write_txn().unwrap();
    let err = refused(small.nested_write_txn(&mut parent));
    assert_eq!(io_kind(&err), Some(std::io::ErrorKind::InvalidInput), "{err:?}");
    // The parent is untouched and usable.
    let child = big.nested_write_txn(&mut parent).unwrap();
    child.commit().unwrap();
    parent.commit().unwrap();
}

/// Hole 3: `Env::check` opened database handles without the env's open lock: two checks at
/// once, or a check beside an opening of databases, corrupted LMDB's handle table.
#[test]
fn checks_and_database_openings_run_concurrently() {
    let dir = tempfile::tempdir().unwrap();
    let env = env_at(dir.path());
    for i in 0..4 {
        let db: Database<Str, Str> = create(&env, &format!("db{i}"), DatabaseFlags::empty());
        let mut wtxn = env.write_txn().unwrap();
        db.put(&mut wtxn, "k", "v").unwrap();
        wtxn.commit().unwrap();
    }
    std::thread::scope(|s| {
        for t in 0..3 {
            let env = &env;
            s.spawn(move || {
                for i in 0..40 {
                    if t == 0 {
                        let name = format!("db{}", i % 4);
                        let rtxn = env.read_txn().unwrap();
                        let db: Option<Database<Str, Str>> = env
                            .open_databases_and_commit(rtxn, |opener, rtxn| {
                                opener.open_database(rtxn, Some(&name)).map(CommitOrAbort::<_, ()>::Commit)
                            })
                            .unwrap()
                            .unwrap_commit();
                        assert!(db.is_some());
                    } else {
                        let report = env.check().unwrap();
                        assert!(report.is_ok(), "{report:?}");
                        assert_eq!(report.databases, 5);
                    }
                }
            });
        }
    });
}

/// Hole 4: with thread-local reader slots, LMDB frees a thread's slot when the thread exits,
/// even if a read txn of it was leaked: values read from it (`'static` ones here) then
/// changed as writers reused the snapshot's pages.
#[test]
fn a_leaked_read_txn_keeps_its_snapshot_after_its_thread_exits() {
    let dir = tempfile::tempdir().unwrap();
    let env: Env<WithTls> = env_at(dir.path());
    let db: Database<Bytes, Bytes> = create(&env, "values", DatabaseFlags::empty());
    let mut wtxn = env.write_txn().unwrap();
    for i in 0u32..200 {
        db.put(&mut wtxn, &i.to_be_bytes(), &[1u8; 100]).unwrap();
    }
    wtxn.commit().unwrap();
    let owner = env.clone();
    let leaked: &'static [u8] = std::thread::spawn(move || {
        let rtxn: &'static hedge::RoTxn<'static, WithTls> =
            Box::leak(Box::new(owner.static_read_txn().unwrap()));
        db.get(rtxn, &7u32.to_be_bytes()).unwrap().unwrap()
    })
    .join()
    .unwrap();
    // The reader table's high-water mark shows whether a new reader got the leaked txn's
    // slot (released) or the next one (still held).
    std::thread::scope(|s| {
        s.spawn(|| {
            let rtxn = env.read_txn().unwrap();
            assert_eq!(env.info().number_of_readers, 2, "the leaked txn's reader slot was released");
            drop(rtxn);
        });
    });
    // Enough rewrites that pages freed after the snapshot would be reused.
    for round in 0..20u8 {
        let mut wtxn = env.write_txn().unwrap();
        for i in 0u32..200 {
            db.put(&mut wtxn, &i.to_be_bytes(), &[round + 2; 100]).unwrap();
        }
        wtxn.commit().unwrap();
    }
    assert_eq!(leaked, &[1u8; 100][..], "a value of the leaked snapshot changed");
}

/// Hole 5: a `DUP_FIXED` value whose size differs from the key's existing duplicates was
/// copied with the old size (out-of-bounds read); an empty one made zero-byte slots.
#[test]
fn dup_fixed_values_must_have_the_keys_size() {
    let dir = tempfile::tempdir().unwrap();
    let env = env_at(dir.path());
    let db: Database<Bytes, Bytes> =
        create(&env, "fixed", DatabaseFlags::DUP_SORT | DatabaseFlags::DUP_FIXED);
    let mut wtxn = env.write_txn().unwrap();
    db.put(&mut wtxn, b"k", &[1; 4]).unwrap();
    for bad in [&[2u8; 8][..], &[2; 3], &[]] {
        let err = db.put(&mut wtxn, b"k", bad).unwrap_err();
        assert!(matches!(err, Error::Mdb(MdbError::BadValSize)), "{} bytes: {err:?}", bad.len());
    }
    let err = db.put(&mut wtxn, b"empty", &[]).unwrap_err();
    assert!(matches!(err, Error::Mdb(MdbError::BadValSize)), "{err:?}");
    let values = [[9u8; 8], [8; 8]];
    let err = db.put_fixed_duplicates(&mut wtxn, b"k", values.iter().map(|v| &v[..])).unwrap_err();
    assert!(matches!(err, Error::Mdb(MdbError::BadValSize)), "{err:?}");
    let err = db.delete_one_duplicate(&mut wtxn, b"k", &[1; 8]).unwrap_err();
    assert!(matches!(err, Error::Mdb(MdbError::BadValSize)), "{err:?}");
    // Right sizes still work, and another key may have another size.
    db.put(&mut wtxn, b"k", &[0; 4]).unwrap();
    db.put(&mut wtxn, b"other", &[5; 8]).unwrap();
    assert_eq!(db.count_duplicates(&wtxn, b"k").unwrap(), 2);
    wtxn.commit().unwrap();
    assert_healthy(&env);
}

/// Hole 6: LMDB's integer comparators read as many bytes as their first operand has:
/// keys (or `INTEGER_DUP` values) of another size than the stored ones read out of bounds.
#[test]
fn integer_keys_and_duplicates_must_have_one_integer_size() {
    let dir = tempfile::tempdir().unwrap();
    let env = env_at(dir.path());
    let keys: Database<Bytes, Bytes, IntegerComparator> = env
        .create_databases_and_commit(env.write_txn().unwrap(), |opener, wtxn| {
            let mut options =
                opener.database_options().types::<Bytes, Bytes>().key_comparator::<IntegerComparator>();
            options.name("ints");
            options.create(wtxn).map(CommitOrAbort::<_, ()>::Commit)
        })
        .unwrap()
        .unwrap_commit();
    let mut wtxn = env.write_txn().unwrap();
    for bad in [&[1u8; 3][..], &[1; 5], &[]] {
        assert!(keys.put(&mut wtxn, bad, b"v").is_err(), "{} bytes", bad.len());
    }
    keys.put(&mut wtxn, &1u32.to_ne_bytes(), b"one").unwrap();
    for bad in [&[1u8; 8][..], &[1; 2], &[1; 3]] {
        let err = keys.put(&mut wtxn, bad, b"v").unwrap_err();
        assert!(matches!(err, Error::Mdb(MdbError::BadValSize)), "{} bytes: {err:?}", bad.len());
        let err = keys.get(&wtxn, bad).unwrap_err();
        assert!(matches!(err, Error::Mdb(MdbError::BadValSize)), "{} bytes: {err:?}", bad.len());
        let err = keys.delete(&mut wtxn, bad).unwrap_err();
        assert!(matches!(err, Error::Mdb(MdbError::BadValSize)), "{} bytes: {err:?}", bad.len());
    }
    let bound = [1u8; 8];
    let from = (std::ops::Bound::Included(&bound[..]), std::ops::Bound::Unbounded);
    let err = keys.range(&wtxn, &from).map(|_| ()).unwrap_err();
    assert!(matches!(err, Error::Mdb(MdbError::BadValSize)), "{err:?}");
    assert_eq!(keys.get(&wtxn, &1u32.to_ne_bytes()).unwrap(), Some(&b"one"[..]));

    // Integer duplicates, through a flag on a database with the default comparators.
    drop(wtxn);
    let dups: Database<Bytes, Bytes> =
        create(&env, "int-dups", DatabaseFlags::DUP_SORT | DatabaseFlags::INTEGER_DUP);
    let mut wtxn = env.write_txn().unwrap();
    dups.put(&mut wtxn, b"k", &7u64.to_ne_bytes()).unwrap();
    for bad in [&[1u8; 4][..], &[1; 6], &[]] {
        let err = dups.put(&mut wtxn, b"k", bad).unwrap_err();
        assert!(matches!(err, Error::Mdb(MdbError::BadValSize)), "{} bytes: {err:?}", bad.len());
    }
    dups.put(&mut wtxn, b"k", &3u64.to_ne_bytes()).unwrap();
    let values: Vec<u64> = dups
        .get_duplicates(&wtxn, b"k")
        .unwrap()
        .unwrap()
        .map(|e| u64::from_ne_bytes(e.unwrap().1.try_into().unwrap()))
        .collect();
    assert_eq!(values, [3, 7]);
    wtxn.commit().unwrap();
    assert_healthy(&env);
}

/// Hole 7: a reserved-write closure that panics skipped the zero-fill: the value kept
/// uninitialised bytes, readable (and committable) by whoever caught the panic.
#[test]
fn a_panicking_reserved_write_leaves_no_uninitialised_byte() {
    let dir = tempfile::tempdir().unwrap();
    let env = env_at(dir.path());
    let db: Database<Bytes, Bytes> = create(&env, "reserved", DatabaseFlags::empty());
    let vectors: Database<Bytes, hedge::codec::PodSlice<f32>> = db.remap_types();
    let mut wtxn = env.write_txn().unwrap();
    for size in [100usize, 5000] {
        let caught = catch_unwind(AssertUnwindSafe(|| {
            db.put_reserved(&mut wtxn, b"put_reserved", size, |space| {
                space.write_all(b"abc")?;
                panic!("closure panics");
            })
        }));
        assert!(caught.is_err());
        let value = db.get(&wtxn, b"put_reserved").unwrap().unwrap();
        assert_eq!(&value[..3], b"abc");
        assert!(value[3..].iter().all(|&b| b == 0), "{size} bytes: unwritten bytes are not zero");

        let caught = catch_unwind(AssertUnwindSafe(|| {
            let elements = (0..size / 4).map(|i| if i < 5 { i as f32 } else { panic!("iterator panics") });
            db.put_reserved_elements(&mut wtxn, b"elements", size / 4, elements)
        }));
        assert!(caught.is_err());
        let value = db.get(&wtxn, b"elements").unwrap().unwrap();
        assert!(value[20..].iter().all(|&b| b == 0));

        let caught = catch_unwind(AssertUnwindSafe(|| {
            vectors.put_reserved_slice(&mut wtxn, b"slice", size / 4, |_| panic!("fill panics"))
        }));
        assert!(caught.is_err());
        let value = db.get(&wtxn, b"slice").unwrap().unwrap();
        assert!(value.iter().all(|&b| b == 0));
    }
    wtxn.commit().unwrap();
    assert_healthy(&env);
}

/// Hole 8: LMDB adds its own databases to `max_dbs` in an `unsigned int` and sizes tables
/// with `int`s: huge values wrapped into heap overflows.
#[test]
fn numeric_options_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    for dbs in [u32::MAX, u32::MAX - 1, 35_000_000, EnvOpenOptions::MAX_DBS + 1] {
        // SAFETY (tests): nothing is opened (refused first).
        let err = unsafe { EnvOpenOptions::new().max_dbs(dbs).open(dir.path()) }.unwrap_err();
        assert_eq!(io_kind(&err), Some(std::io::ErrorKind::InvalidInput), "max_dbs({dbs}): {err:?}");
    }
    for readers in [0, u32::MAX, EnvOpenOptions::MAX_READERS + 1] {
        // SAFETY (tests): as above.
        let err = unsafe { EnvOpenOptions::new().max_readers(readers).open(dir.path()) }.unwrap_err();
        assert_eq!(io_kind(&err), Some(std::io::ErrorKind::InvalidInput), "max_readers({readers}): {err:?}");
    }
    // SAFETY (tests): a fresh directory.
    let env = unsafe { EnvOpenOptions::new().max_dbs(100_000).max_readers(4096).open(dir.path()) }.unwrap();
    assert_eq!(env.max_readers(), 4096);
    let db: Database<Str, Str> = create(&env, "one of many", DatabaseFlags::empty());
    let mut wtxn = env.write_txn().unwrap();
    db.put(&mut wtxn, "k", "v").unwrap();
    wtxn.commit().unwrap();
}

/// Hole 9: one env opened twice in a process through another path to the same files: the
/// second open reset the first's reader table, or used another lock file (a lost commit).
#[test]
fn an_env_is_known_by_its_files_not_its_path() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("env");
    std::fs::create_dir(&dir).unwrap();
    let env = env_at(&dir);
    let reopen = |path: &std::path::Path, flags: EnvFlags| {
        // SAFETY (tests): refused before LMDB touches anything.
        unsafe { EnvOpenOptions::new().flags(flags).open(path) }.map(drop)
    };
    // The data file itself, as a NO_SUB_DIR env (whose lock file would be data.mdb-lock).
    let err = reopen(&dir.join("data.mdb"), EnvFlags::NO_SUB_DIR).unwrap_err();
    assert!(matches!(err, Error::EnvAlreadyOpened), "{err:?}");
    // A hard link to the data file in another directory, with a lock file of its own.
    let linked = root.path().join("linked");
    std::fs::create_dir(&linked).unwrap();
    std::fs::hard_link(dir.join("data.mdb"), linked.join("data.mdb")).unwrap();
    let err = reopen(&linked, EnvFlags::empty()).unwrap_err();
    assert!(matches!(err, Error::EnvAlreadyOpened), "{err:?}");
    // A symbolic link to the directory, and the directory renamed.
    std::os::unix::fs::symlink(&dir, root.path().join("symlink")).unwrap();
    let err = reopen(&root.path().join("symlink"), EnvFlags::empty()).unwrap_err();
    assert!(matches!(err, Error::EnvAlreadyOpened), "{err:?}");
    std::fs::rename(&dir, root.path().join("renamed")).unwrap();
    let err = reopen(&root.path().join("renamed"), EnvFlags::empty()).unwrap_err();
    assert!(matches!(err, Error::EnvAlreadyOpened), "{err:?}");
    // The lock file used as a NO_SUB_DIR env's data file.
    let err = reopen(&root.path().join("renamed").join("lock.mdb"), EnvFlags::NO_SUB_DIR).unwrap_err();
    assert!(matches!(err, Error::EnvAlreadyOpened), "{err:?}");
    // The first env still works; once it is closed, the files open again.
    let db: Database<Str, Str> = create(&env, "still", DatabaseFlags::empty());
    let mut wtxn = env.write_txn().unwrap();
    db.put(&mut wtxn, "k", "v").unwrap();
    wtxn.commit().unwrap();
    env.prepare_for_closing().wait();
    reopen(&linked, EnvFlags::empty()).unwrap();
}

/// Hole 10: a leaked reader of a nested *write* txn made dropping the grandparent abort the
/// process (LMDB cannot end a txn below which a read-only child lives).
#[test]
fn a_leaked_reader_below_a_nested_write_txn_leaks_every_ancestor() {
    let dir = tempfile::tempdir().unwrap();
    let env = env_at(dir.path());
    let db: Database<Str, Str> = create(&env, "nested", DatabaseFlags::empty());
    let mut parent = env.write_txn().unwrap();
    if !hedge_tests::nested_readers_available(&parent) {
        return;
    }
    db.put(&mut parent, "parent", "uncommitted").unwrap();
    {
        let mut child = env.nested_write_txn(&mut parent).unwrap();
        let mut grandchild = env.nested_write_txn(&mut child).unwrap();
        db.put(&mut grandchild, "grandchild", "uncommitted").unwrap();
        std::mem::forget(grandchild.nested_read_txn().unwrap());
        // Both forgotten: nothing below tells the parent by dropping.
        std::mem::forget(grandchild);
        drop(child);
    }
    let err = parent.commit().unwrap_err();
    assert!(matches!(err, Error::Mdb(MdbError::BadTxn)), "{err:?}");
    // The parent stayed open, holding the write lock: a new write txn on this thread is
    // refused instead of waiting for ever; other threads' readers see the last commit.
    let err = refused(env.write_txn());
    assert_eq!(io_kind(&err), Some(std::io::ErrorKind::Deadlock), "{err:?}");
    std::thread::scope(|s| {
        s.spawn(|| {
            let rtxn = env.read_txn().unwrap();
            assert_eq!(db.get(&rtxn, "parent").unwrap(), None);
        });
    });
}

/// Hole 11: the check asked LMDB's comparators to order keys of a damaged file: a record
/// whose `DUP_SORT` flag was cleared had no duplicate comparator (a NULL call), an
/// `INTEGER_KEY` flag set on text keys read them out of bounds.
#[test]
fn the_check_survives_damaged_database_records() {
    for (flip, what) in [(0x04u16, "DUP_SORT cleared"), (0x08, "INTEGER_KEY set"), (0x20, "INTEGER_DUP set")]
    {
        let dir = tempfile::tempdir().unwrap();
        {
            let env = env_at(dir.path());
            let db: Database<Bytes, Bytes> = create(&env, "damaged", DatabaseFlags::DUP_SORT);
            let mut wtxn = env.write_txn().unwrap();
            for k in 0..50u32 {
                for v in 0..(k % 5 + 1) {
                    db.put(&mut wtxn, format!("key {k}").as_bytes(), format!("value {v}").as_bytes())
                        .unwrap();
                }
            }
            wtxn.commit().unwrap();
        }
        // Flip the flag in every copy of the database's record (its name, then 48 bytes:
        // pad, flags, ...).
        let path = dir.path().join("data.mdb");
        let mut file = std::fs::OpenOptions::new().read(true).write(true).open(&path).unwrap();
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).unwrap();
        let mut flipped = 0;
        for at in 0..bytes.len() - 7 - 48 {
            if &bytes[at..at + 7] == b"damaged" {
                let flags_at = at + 7 + 4;
                let flags = u16::from_le_bytes([bytes[flags_at], bytes[flags_at + 1]]) ^ flip;
                file.seek(SeekFrom::Start(flags_at as u64)).unwrap();
                file.write_all(&flags.to_le_bytes()).unwrap();
                flipped += 1;
            }
        }
        assert!(flipped > 0);
        drop(file);
        let env = env_at(dir.path());
        let report = env.check().unwrap();
        assert!(report.databases >= 1, "{what}: {report:?}");
        println!("{what}: {} problems", report.problems.len());
    }
}

/// Hole 12: re-opening a database with another custom comparator swapped LMDB's env-wide
/// comparator under the first handle (wrong lookups, duplicate keys, a data race).
#[test]
fn a_database_keeps_the_comparator_it_was_opened_with() {
    enum Backwards {}
    impl hedge::Comparator for Backwards {
        fn compare(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
            b.cmp(a)
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let env = env_at(dir.path());
    let open = |create: bool| -> hedge::Result<Database<'static, Str, Str, Backwards>> {
        Ok(env
            .create_databases_and_commit(env.write_txn()?, |opener, wtxn| {
                let mut options = opener.database_options().types::<Str, Str>().key_comparator::<Backwards>();
                options.name("backwards");
                let _ = create;
                options.create(wtxn).map(CommitOrAbort::<_, ()>::Commit)
            })?
            .unwrap_commit())
    };
    let db = open(true).unwrap();
    let mut wtxn = env.write_txn().unwrap();
    for k in ["a", "b", "c"] {
        db.put(&mut wtxn, k, k).unwrap();
    }
    wtxn.commit().unwrap();
    // The same comparator: the same handle.
    assert_eq!(
        open(false).unwrap().remap_types::<Bytes, Bytes>().get(&env.read_txn().unwrap(), b"b").unwrap(),
        Some(&b"b"[..])
    );
    // Another comparator (the default one): refused.
    let err = env
        .open_databases_and_commit(env.read_txn().unwrap(), |opener, rtxn| {
            opener.open_database::<Str, Str>(rtxn, Some("backwards")).map(CommitOrAbort::<_, ()>::Commit)
        })
        .unwrap_err();
    assert_eq!(io_kind(&err), Some(std::io::ErrorKind::InvalidInput), "{err:?}");
    // The first handle still orders by its own comparator.
    let rtxn = env.read_txn().unwrap();
    let keys: Vec<&str> = db.iter(&rtxn).unwrap().map(|e| e.unwrap().0).collect();
    assert_eq!(keys, ["c", "b", "a"]);
    assert_eq!(db.get(&rtxn, "a").unwrap(), Some("a"));
    drop(rtxn);
    assert_healthy(&env);
}

/// Hole 13: `try_clone_inner_file` returned a writable descriptor sharing LMDB's file offset,
/// and `copy_to_file` onto it rewrote pages under live readers.
#[test]
fn the_data_file_handle_is_read_only_and_no_copy_overwrites_the_env() {
    let dir = tempfile::tempdir().unwrap();
    let env = env_at(dir.path());
    let db: Database<Str, Str> = create(&env, "copied", DatabaseFlags::empty());
    let mut wtxn = env.write_txn().unwrap();
    db.put(&mut wtxn, "k", "v").unwrap();
    wtxn.commit().unwrap();
    let mut handle = env.try_clone_inner_file().unwrap();
    assert!(handle.write_all(b"garbage").is_err(), "the handle on the data file is writable");
    let mut head = [0u8; 16];
    handle.read_exact(&mut head).unwrap();
    for option in [CompactionOption::Disabled, CompactionOption::Enabled] {
        for file in [dir.path().join("data.mdb"), dir.path().join("lock.mdb")] {
            let mut own = std::fs::OpenOptions::new().read(true).write(true).open(&file).unwrap();
            let err = env.copy_to_file(&mut own, option).unwrap_err();
            assert_eq!(io_kind(&err), Some(std::io::ErrorKind::InvalidInput), "{err:?}");
        }
    }
    let rtxn = env.read_txn().unwrap();
    assert_eq!(db.get(&rtxn, "k").unwrap(), Some("v"));
    drop(rtxn);
    assert_healthy(&env);
}

/// Hole 14: `MDB_CURRENT` writes the key it is given at the cursor's place without looking
/// at it: another key broke the order of the database.
#[test]
fn put_current_refuses_another_key() {
    let dir = tempfile::tempdir().unwrap();
    let env = env_at(dir.path());
    let db: Database<Str, Str> = create(&env, "current", DatabaseFlags::empty());
    let mut wtxn = env.write_txn().unwrap();
    for k in ["a", "m", "z"] {
        db.put(&mut wtxn, k, "value").unwrap();
    }
    let mut iter = db.iter_mut(&mut wtxn).unwrap();
    iter.next().unwrap().unwrap();
    // SAFETY (tests): nothing read through the iterator is used after the writes.
    let err = unsafe { iter.put_current("zz", "a longer value than before") }.unwrap_err();
    assert_eq!(io_kind(&err), Some(std::io::ErrorKind::InvalidInput), "{err:?}");
    // SAFETY (tests): as above.
    let err = unsafe { iter.put_current_with_options::<Str>(PutFlags::empty(), "b", "x") };
    assert!(err.is_ok(), "without MDB_CURRENT it is an ordinary put: {err:?}");
    // SAFETY (tests): as above; the key the cursor is on now (the put moved it) is accepted.
    assert!(unsafe { iter.put_current("b", "replaced, and longer") }.unwrap());
    drop(iter);
    let keys: Vec<&str> = db.iter(&wtxn).unwrap().map(|e| e.unwrap().0).collect();
    assert_eq!(keys, ["a", "b", "m", "z"]);
    wtxn.commit().unwrap();
    assert_healthy(&env);
}

/// Hole 15: waits that could never end. LMDB's write lock belongs to the thread that began
/// the write txn (`RwTxn` is `!Send`: the compile-fail example in the crate docs), so a
/// second write txn, or a plain copy, on that thread is refused instead; so is opening
/// databases from inside the closure that is opening them.
#[test]
fn what_would_wait_for_ever_on_this_thread_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let env = env_at(dir.path());
    let db: Database<Str, Str> = create(&env, "liveness", DatabaseFlags::empty());
    let wtxn = env.write_txn().unwrap();
    let err = refused(env.write_txn());
    assert_eq!(io_kind(&err), Some(std::io::ErrorKind::Deadlock), "{err:?}");
    let err = env.copy_to_file(&mut tempfile::tempfile().unwrap(), CompactionOption::Disabled).unwrap_err();
    assert_eq!(io_kind(&err), Some(std::io::ErrorKind::Deadlock), "{err:?}");
    env.copy_to_file(&mut tempfile::tempfile().unwrap(), CompactionOption::Enabled).unwrap();
    // Another thread may wait for the write lock: it gets it once this txn ends.
    std::thread::scope(|s| {
        let waiting = s.spawn(|| {
            let mut wtxn = env.write_txn().unwrap();
            db.put(&mut wtxn, "from", "the other thread").unwrap();
            wtxn.commit().unwrap();
        });
        drop(wtxn);
        waiting.join().unwrap();
    });
    env.copy_to_file(&mut tempfile::tempfile().unwrap(), CompactionOption::Disabled).unwrap();
    let nested = env.create_databases_and_commit(env.write_txn().unwrap(), |_, _| {
        let inner = env.open_databases_and_commit(env.read_txn()?, |o, r| {
            o.open_database::<Str, Str>(r, Some("liveness")).map(CommitOrAbort::<_, ()>::Commit)
        });
        Ok::<_, Error>(CommitOrAbort::<(), _>::Abort(inner.map(|_| ())))
    });
    let inner = match nested.unwrap() {
        CommitOrAbort::Abort(inner) => inner.unwrap_err(),
        CommitOrAbort::Commit(()) => unreachable!(),
    };
    assert_eq!(io_kind(&inner), Some(std::io::ErrorKind::Deadlock), "{inner:?}");
}

/// The unnamed database takes new flags only while empty and not open: LMDB ORs them in
/// over existing keys (INTEGER_KEY over text keys compares out of bounds).
#[test]
fn the_unnamed_database_does_not_change_flags_under_its_keys() {
    let dir = tempfile::tempdir().unwrap();
    let env = env_at(dir.path());
    let _named: Database<Str, Str> = create(&env, "a named one", DatabaseFlags::empty());
    let err = env
        .create_databases_and_commit(env.write_txn().unwrap(), |opener, wtxn| {
            let mut options = opener.database_options().types::<Bytes, Bytes>();
            options.flags(DatabaseFlags::INTEGER_KEY);
            options.create(wtxn).map(CommitOrAbort::<_, ()>::Commit)
        })
        .unwrap_err();
    assert_eq!(io_kind(&err), Some(std::io::ErrorKind::InvalidInput), "{err:?}");
    assert_healthy(&env);
}

/// Found while porting hole 10 to heed (whose LMDB keeps a pointer to the last nested reader
/// begun, and reads it after that reader ended): nested readers begun and ended in any
/// order, then more begun, must touch no freed memory (memcheck in `.ci/reliability`).
#[test]
fn nested_readers_end_and_begin_in_any_order() {
    let dir = tempfile::tempdir().unwrap();
    let env = env_at(dir.path());
    let db: Database<Str, Str> = create(&env, "readers", DatabaseFlags::empty());
    let mut wtxn = env.write_txn().unwrap();
    if !hedge_tests::nested_readers_available(&wtxn) {
        return;
    }
    db.put(&mut wtxn, "k", "v").unwrap();
    for round in 0..3 {
        let first = wtxn.nested_read_txn().unwrap();
        let second = wtxn.nested_read_txn().unwrap();
        if round % 2 == 0 {
            drop(second)
        } else {
            drop(first)
        }
        let third = wtxn.nested_read_txn().unwrap();
        assert_eq!(db.get(&third, "k").unwrap(), Some("v"));
    }
    db.put(&mut wtxn, "k", "w").unwrap();
    wtxn.commit().unwrap();
}

/// `Env::check` on one-byte `DUP_FIXED` values (LMDB moves a fixed-size page's `upper` past
/// the page for them) and on a file whose snapshot's meta page is overwritten by commits
/// during the check: both are healthy, and the check says so.
#[test]
fn the_check_has_no_false_alarms() {
    let dir = tempfile::tempdir().unwrap();
    let env = env_at(dir.path());
    let db: Database<Bytes, Bytes> =
        create(&env, "bytes", DatabaseFlags::DUP_SORT | DatabaseFlags::DUP_FIXED);
    let mut wtxn = env.write_txn().unwrap();
    for k in 0..20u8 {
        for v in 0..=255u8 {
            db.put(&mut wtxn, &[k], &[v]).unwrap();
        }
    }
    db.put(&mut wtxn, b"few", &[1]).unwrap();
    db.put(&mut wtxn, b"few", &[2]).unwrap();
    wtxn.commit().unwrap();
    assert_healthy(&env);
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        let stop = &stop;
        let writer = s.spawn(|| {
            let mut n = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let mut wtxn = env.write_txn().unwrap();
                db.put(&mut wtxn, b"counter", &[(n % 251) as u8]).unwrap();
                wtxn.commit().unwrap();
                n += 1;
            }
        });
        for _ in 0..30 {
            assert_healthy(&env);
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        writer.join().unwrap();
    });
}

//! hedge's databases with heed 0.23's API: opening, typed reads and writes, flags, errors.

use hedge::byteorder::BigEndian;
use hedge::types::{Bytes, Str, U32, U64};
use hedge::{CommitOrAbort, Database, EnvOpenOptions, Error, MdbError, PutFlags};

type BEU32 = U32<BigEndian>;

fn env(dir: &tempfile::TempDir) -> hedge::Env {
    // SAFETY (tests): the env files are only touched through hedge.
    unsafe { EnvOpenOptions::new().max_dbs(4).map_size(16 * 4096 * 64).open(dir.path()) }.unwrap()
}

fn create<KC: 'static, DC: 'static>(env: &hedge::Env, name: Option<&str>) -> Database<'static, KC, DC> {
    let wtxn = env.write_txn().unwrap();
    env.create_databases_and_commit(wtxn, |opener, wtxn| {
        opener.create_database(wtxn, name).map(CommitOrAbort::<_, ()>::Commit)
    })
    .unwrap()
    .unwrap_commit()
}

#[test]
fn typed_put_get_delete_len_clear() {
    let dir = tempfile::tempdir().unwrap();
    let env = env(&dir);
    let db: Database<Str, BEU32> = create(&env, Some("ages"));
    let mut wtxn = env.write_txn().unwrap();
    assert!(db.is_empty(&wtxn).unwrap());
    db.put(&mut wtxn, "alice", &31).unwrap();
    db.put(&mut wtxn, "bob", &27).unwrap();
    db.put(&mut wtxn, "alice", &32).unwrap();
    assert_eq!(db.get(&wtxn, "alice").unwrap(), Some(32));
    assert_eq!(db.len(&wtxn).unwrap(), 2);
    assert!(db.delete(&mut wtxn, "bob").unwrap());
    assert!(!db.delete(&mut wtxn, "bob").unwrap());
    wtxn.commit().unwrap();

    let rtxn = env.read_txn().unwrap();
    assert_eq!(db.get(&rtxn, "alice").unwrap(), Some(32));
    assert_eq!(db.get(&rtxn, "bob").unwrap(), None);
    assert_eq!(db.stat(&rtxn).unwrap().entries, 1);
    drop(rtxn);

    let mut wtxn = env.write_txn().unwrap();
    db.clear(&mut wtxn).unwrap();
    assert_eq!(db.len(&wtxn).unwrap(), 0);
    wtxn.commit().unwrap();
}

#[test]
fn opening_a_missing_database_gives_none_and_databases_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let env = env(&dir);
    let rtxn = env.read_txn().unwrap();
    let missing: Option<Database<Str, Str>> = env
        .open_databases_and_commit(rtxn, |o, rtxn| {
            o.open_database(rtxn, Some("nope")).map(CommitOrAbort::<_, ()>::Commit)
        })
        .unwrap()
        .unwrap_commit();
    assert!(missing.is_none());

    let db: Database<Str, Str> = create(&env, Some("kv"));
    let mut wtxn = env.write_txn().unwrap();
    db.put(&mut wtxn, "k", "v").unwrap();
    wtxn.commit().unwrap();
    let rtxn = env.read_txn().unwrap();
    let again: Database<Str, Str> = env
        .open_databases_and_commit(rtxn, |o, rtxn| {
            o.open_database(rtxn, Some("kv")).map(CommitOrAbort::<_, ()>::Commit)
        })
        .unwrap()
        .unwrap_commit()
        .unwrap();
    assert_eq!(again.get(&env.read_txn().unwrap(), "k").unwrap(), Some("v"));

    // An aborting closure commits nothing.
    let wtxn = env.write_txn().unwrap();
    let aborted = env
        .create_databases_and_commit(wtxn, |o, wtxn| {
            o.create_database::<Str, Str>(wtxn, Some("never"))?;
            Ok::<_, Error>(CommitOrAbort::<Database<Str, Str>, &str>::Abort("changed my mind"))
        })
        .unwrap();
    assert_eq!(aborted.unwrap_abort(), "changed my mind");
}

#[test]
fn put_flags_and_codec_errors() {
    let dir = tempfile::tempdir().unwrap();
    let env = env(&dir);
    let db: Database<BEU32, Bytes> = create(&env, None);
    let mut wtxn = env.write_txn().unwrap();
    db.put(&mut wtxn, &1, b"one").unwrap();
    let err = db.put_with_flags(&mut wtxn, PutFlags::NO_OVERWRITE, &1, b"uno").unwrap_err();
    assert!(matches!(err, Error::Mdb(MdbError::KeyExist)), "{err:?}");
    db.put_with_flags(&mut wtxn, PutFlags::APPEND, &5, b"five").unwrap();
    let err = db.put_with_flags(&mut wtxn, PutFlags::APPEND, &3, b"three").unwrap_err();
    assert!(matches!(err, Error::Mdb(MdbError::KeyExist)), "APPEND out of order: {err:?}");
    assert_eq!(db.get(&wtxn, &1).unwrap(), Some(&b"one"[..]));

    // A value of the wrong size for a fixed-size codec is a Decoding error, not a panic.
    let as_u64 = db.remap_data_type::<U64<BigEndian>>();
    let err = as_u64.get(&wtxn, &1).unwrap_err();
    assert!(matches!(err, Error::Decoding(_)), "{err:?}");
    assert!(err.to_string().starts_with("error while decoding"), "{err}");
    wtxn.commit().unwrap();
}

#[test]
fn map_full_then_resize() {
    let dir = tempfile::tempdir().unwrap();
    let env = env(&dir);
    let db: Database<BEU32, Bytes> = create(&env, None);
    let value = vec![7u8; 12 * 1024];
    let mut wtxn = env.write_txn().unwrap();
    let mut full = None;
    for i in 0..10_000u32 {
        if let Err(e) = db.put(&mut wtxn, &i, &value) {
            full = Some(e);
            break;
        }
    }
    assert!(matches!(full, Some(Error::Mdb(MdbError::MapFull))), "{full:?}");
    wtxn.abort();
    // SAFETY: no transaction of this env is live.
    unsafe { env.resize(64 * 1024 * 1024) }.unwrap();
    let mut wtxn = env.write_txn().unwrap();
    for i in 0..1000u32 {
        db.put(&mut wtxn, &i, &value).unwrap();
    }
    wtxn.commit().unwrap();
    assert_eq!(db.len(&env.read_txn().unwrap()).unwrap(), 1000);
}

#[test]
#[should_panic(expected = "another environment")]
fn a_database_of_one_env_with_a_txn_of_another_panics() {
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (e1, e2) = (env(&d1), env(&d2));
    let db: Database<Str, Str> = create(&e1, None);
    let rtxn = e2.read_txn().unwrap();
    let _ = db.get(&rtxn, "k");
}

#[test]
fn nested_readers_read_uncommitted_typed_values_on_threads() {
    let dir = tempfile::tempdir().unwrap();
    let env = env(&dir);
    let db: Database<BEU32, BEU32> = create(&env, None);
    let mut wtxn = env.write_txn().unwrap();
    for i in 0..10_000u32 {
        db.put(&mut wtxn, &i, &(i * 2)).unwrap();
    }
    if !hedge_tests::nested_readers_available(&wtxn) {
        return;
    }
    let readers: Vec<_> = (0..4).map(|_| wtxn.nested_read_txn().unwrap()).collect();
    std::thread::scope(|s| {
        for (t, rtxn) in readers.into_iter().enumerate() {
            s.spawn(move || {
                for i in (t as u32..10_000).step_by(4) {
                    assert_eq!(db.get(&rtxn, &i).unwrap(), Some(i * 2));
                }
            });
        }
    });
    db.put(&mut wtxn, &0, &1).unwrap();
    wtxn.commit().unwrap();
}

#[test]
fn iteration_forwards_backwards_and_between_keys() {
    let dir = tempfile::tempdir().unwrap();
    let env = env(&dir);
    let db: Database<BEU32, Str> = create(&env, None);
    let rtxn = env.read_txn().unwrap();
    assert_eq!(db.first(&rtxn).unwrap(), None);
    assert_eq!(db.last(&rtxn).unwrap(), None);
    assert_eq!(db.iter(&rtxn).unwrap().count(), 0);
    drop(rtxn);

    let mut wtxn = env.write_txn().unwrap();
    for i in (0..100u32).rev() {
        db.put(&mut wtxn, &i, &format!("v{i}")).unwrap();
    }
    let keys: Vec<u32> = db.iter(&wtxn).unwrap().map(|r| r.unwrap().0).collect();
    assert_eq!(keys, (0..100).collect::<Vec<_>>());
    let rev: Vec<u32> = db.rev_iter(&wtxn).unwrap().map(|r| r.unwrap().0).collect();
    assert_eq!(rev, (0..100).rev().collect::<Vec<_>>());
    assert_eq!(db.first(&wtxn).unwrap(), Some((0, "v0")));
    assert_eq!(db.last(&wtxn).unwrap(), Some((99, "v99")));

    // A value the codec cannot decode surfaces as an Err item, then the iterator goes on.
    let raw = db.remap_data_type::<Bytes>();
    raw.put(&mut wtxn, &50, &[0xff, 0xfe][..]).unwrap();
    let decoded: Vec<_> = db.iter(&wtxn).unwrap().collect();
    assert_eq!(decoded.len(), 100);
    assert!(matches!(decoded[50], Err(Error::Decoding(_))));
    wtxn.commit().unwrap();

    // DUP_SORT: every value, or one entry per key.
    let wtxn = env.write_txn().unwrap();
    let dups: Database<Str, Str> = env
        .create_databases_and_commit(wtxn, |o, wtxn| {
            let mut opts = o.database_options().types::<Str, Str>();
            opts.name("dups").flags(hedge::DatabaseFlags::DUP_SORT);
            opts.create(wtxn).map(CommitOrAbort::<_, ()>::Commit)
        })
        .unwrap()
        .unwrap_commit();
    let mut wtxn = env.write_txn().unwrap();
    for (k, v) in [("a", "1"), ("a", "2"), ("b", "1"), ("a", "0")] {
        dups.put(&mut wtxn, k, v).unwrap();
    }
    let all: Vec<(&str, &str)> = dups.iter(&wtxn).unwrap().map(Result::unwrap).collect();
    assert_eq!(all, [("a", "0"), ("a", "1"), ("a", "2"), ("b", "1")]);
    let keys: Vec<&str> = dups.iter(&wtxn).unwrap().move_between_keys().map(|r| r.unwrap().0).collect();
    assert_eq!(keys, ["a", "b"]);
    let rev_keys: Vec<&str> =
        dups.rev_iter(&wtxn).unwrap().move_between_keys().map(|r| r.unwrap().0).collect();
    assert_eq!(rev_keys, ["b", "a"]);
    assert_eq!(dups.len(&wtxn).unwrap(), 4);
    wtxn.commit().unwrap();
}

#[test]
fn duplicates_get_or_put_delete_range_and_remove() {
    let dir = tempfile::tempdir().unwrap();
    let env = env(&dir);
    let wtxn = env.write_txn().unwrap();
    let (dups, plain): (Database<Str, Str>, Database<BEU32, Str>) = env
        .create_databases_and_commit(wtxn, |o, wtxn| {
            let mut opts = o.database_options().types::<Str, Str>();
            opts.name("dups").flags(hedge::DatabaseFlags::DUP_SORT);
            let dups = opts.create(wtxn)?;
            let plain = o.create_database(wtxn, Some("plain"))?;
            Ok::<_, Error>(CommitOrAbort::<_, ()>::Commit((dups, plain)))
        })
        .unwrap()
        .unwrap_commit();
    let mut wtxn = env.write_txn().unwrap();
    for (k, v) in [("a", "1"), ("b", "3"), ("b", "1"), ("b", "2"), ("c", "1")] {
        dups.put(&mut wtxn, k, v).unwrap();
    }
    let values: Vec<&str> = dups.get_duplicates(&wtxn, "b").unwrap().unwrap().map(|r| r.unwrap().1).collect();
    assert_eq!(values, ["1", "2", "3"]);
    assert!(dups.get_duplicates(&wtxn, "zz").unwrap().is_none());
    assert!(dups.delete_one_duplicate(&mut wtxn, "b", "2").unwrap());
    assert!(!dups.delete_one_duplicate(&mut wtxn, "b", "2").unwrap());
    let values: Vec<&str> = dups.get_duplicates(&wtxn, "b").unwrap().unwrap().map(|r| r.unwrap().1).collect();
    assert_eq!(values, ["1", "3"]);

    for i in 0..20u32 {
        plain.put(&mut wtxn, &i, &format!("{i}")).unwrap();
    }
    // A plain key has one "duplicate": its value.
    let one: Vec<(u32, &str)> =
        plain.get_duplicates(&wtxn, &7).unwrap().unwrap().map(Result::unwrap).collect();
    assert_eq!(one, [(7, "7")]);
    assert_eq!(plain.get_or_put(&mut wtxn, &3, "new").unwrap(), Some("3"));
    assert_eq!(plain.get_or_put(&mut wtxn, &30, "thirty").unwrap(), None);
    assert_eq!(plain.get(&wtxn, &3).unwrap(), Some("3"));
    assert_eq!(plain.get(&wtxn, &30).unwrap(), Some("thirty"));
    assert_eq!(plain.delete_range(&mut wtxn, &(5..10)).unwrap(), 5);
    assert_eq!(plain.delete_range(&mut wtxn, &(15..)).unwrap(), 6); // 15..=19 and 30
    let left: Vec<u32> = plain.iter(&wtxn).unwrap().map(|r| r.unwrap().0).collect();
    assert_eq!(left, [0, 1, 2, 3, 4, 10, 11, 12, 13, 14]);
    assert_eq!(
        dups.delete_range(&mut wtxn, &(std::ops::Bound::Included("b"), std::ops::Bound::Unbounded)).unwrap(),
        3
    );
    assert_eq!(dups.len(&wtxn).unwrap(), 1);
    // SAFETY: no copy of `plain` is used afterwards.
    unsafe { plain.remove(&mut wtxn) }.unwrap();
    wtxn.commit().unwrap();

    let rtxn = env.read_txn().unwrap();
    let gone: Option<Database<BEU32, Str>> = env
        .open_databases_and_commit(rtxn, |o, r| {
            o.open_database(r, Some("plain")).map(CommitOrAbort::<_, ()>::Commit)
        })
        .unwrap()
        .unwrap_commit();
    assert!(gone.is_none());
}

#[test]
fn count_duplicates_on_plain_and_dupsort_databases() {
    let dir = tempfile::tempdir().unwrap();
    let env = env(&dir);
    let plain: Database<BEU32, Str> = create(&env, Some("plain"));
    let mut wtxn = env.write_txn().unwrap();
    plain.put(&mut wtxn, &1, "x").unwrap();
    assert_eq!(plain.count_duplicates(&wtxn, &1).unwrap(), 1);
    assert_eq!(plain.count_duplicates(&wtxn, &2).unwrap(), 0);
    wtxn.commit().unwrap();
}

#[test]
fn write_iterators_delete_replace_append_and_reserve() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let env = env(&dir);
    let db: Database<BEU32, Str> = create(&env, Some("rw"));
    let mut wtxn = env.write_txn().unwrap();
    for i in 0..10u32 {
        db.put(&mut wtxn, &i, "x").unwrap();
    }
    // Delete the even keys, replace the odd ones, in one pass.
    let mut iter = db.iter_mut(&mut wtxn).unwrap();
    while let Some(entry) = iter.next() {
        let (k, _) = entry.unwrap();
        // SAFETY: `k` is a copy (u32) and no borrowed value is used after the write.
        if k % 2 == 0 {
            assert!(unsafe { iter.del_current() }.unwrap());
        } else {
            assert!(unsafe { iter.put_current(&k, "odd") }.unwrap());
        }
    }
    drop(iter);
    let left: Vec<(u32, &str)> = db.iter(&wtxn).unwrap().map(Result::unwrap).collect();
    assert_eq!(left, [(1, "odd"), (3, "odd"), (5, "odd"), (7, "odd"), (9, "odd")]);

    // Backwards, deleting everything.
    let mut iter = db.rev_iter_mut(&mut wtxn).unwrap();
    let mut deleted = 0;
    while let Some(entry) = iter.next() {
        entry.unwrap();
        // SAFETY: nothing borrowed is used after the write.
        assert!(unsafe { iter.del_current() }.unwrap());
        deleted += 1;
    }
    drop(iter);
    assert_eq!(deleted, 5);
    assert!(db.is_empty(&wtxn).unwrap());

    // Appending through the cursor, in order; out of order is KeyExist.
    let mut iter = db.iter_mut(&mut wtxn).unwrap();
    for i in [1u32, 2, 5] {
        // SAFETY: no value of the iterator is held.
        unsafe { iter.put_current_with_options::<Str>(PutFlags::APPEND, &i, "appended") }.unwrap();
    }
    // SAFETY: as above.
    let err = unsafe { iter.put_current_with_options::<Str>(PutFlags::APPEND, &3, "late") }.unwrap_err();
    assert!(matches!(err, Error::Mdb(MdbError::KeyExist)), "{err:?}");
    drop(iter);
    assert_eq!(db.len(&wtxn).unwrap(), 3);

    // A reserved put through the cursor follows put_reserved's rule.
    let raw = db.remap_data_type::<Bytes>();
    let mut iter = raw.iter_mut(&mut wtxn).unwrap();
    // SAFETY: no value of the iterator is held.
    let err =
        unsafe { iter.put_current_reserved_with_flags(PutFlags::empty(), &9, 6, |s| s.write_all(b"ab")) };
    assert!(matches!(err, Err(Error::Io(_))), "{err:?}");
    drop(iter);
    assert_eq!(raw.get(&wtxn, &9).unwrap(), Some(&b"ab\0\0\0\0"[..]));
    wtxn.commit().unwrap();
}

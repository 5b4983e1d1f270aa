//! No byte that was never initialised reaches the data file. Values on overflow pages (plain
//! and reserved puts; top-level, nested and spilled txns; with and without WRITEMAP) are
//! written and committed; the assertions here only check the values, the point is memcheck
//! (`.ci/reliability` runs this binary under it): a page with an unset header field or an
//! unzeroed tail makes `mdb_page_flush` hand uninitialised bytes to `writev`/`pwrite`
//! ("Syscall param writev(vector[...]) points to uninitialised byte(s)"). Also freelist
//! records, which LMDB reserves with `MDB_RESERVE` on overflow pages and may shrink: patch
//! 0002 once left their unused slots uninitialised (found by a maintainer-style review).

use hedge::types::Bytes;
use hedge::{CommitOrAbort, Database, EnvFlags, EnvOpenOptions};

fn value(key: u32, len: usize) -> Vec<u8> {
    (0..len).map(|i| (key as usize * 31 + i) as u8).collect()
}

fn workload(flags: EnvFlags) {
    let dir = tempfile::tempdir().unwrap();
    // SAFETY (tests): a fresh directory; WRITE_MAP only changes how LMDB writes.
    let env = unsafe { EnvOpenOptions::new().flags(flags).map_size(256 << 20).max_dbs(2).open(dir.path()) }
        .unwrap();
    let db: Database<Bytes, Bytes> = env
        .create_databases_and_commit(env.write_txn().unwrap(), |opener, wtxn| {
            opener.create_database(wtxn, Some("values")).map(CommitOrAbort::<_, ()>::Commit)
        })
        .unwrap()
        .unwrap_commit();
    let sizes = [3000usize, 6000, 20000, 4096 - 16, 4096 - 15];
    // Top level: plain and reserved puts of new values.
    let mut wtxn = env.write_txn().unwrap();
    for (i, &len) in sizes.iter().enumerate() {
        let k = i as u32;
        db.put(&mut wtxn, &k.to_be_bytes(), &value(k, len)).unwrap();
        let k = 100 + i as u32;
        db.put_reserved(&mut wtxn, &k.to_be_bytes(), len, |space| {
            use std::io::Write;
            space.write_all(&value(k, len))
        })
        .unwrap();
    }
    wtxn.commit().unwrap();
    // Overwrites with other sizes in a nested txn (LMDB has none under WRITEMAP: there, in
    // the txn itself), and reserved ones that fill only part (hedge zeroes the rest).
    let overwrite = |txn: &mut hedge::RwTxn| {
        for (i, &len) in sizes.iter().enumerate() {
            let k = i as u32;
            db.put(txn, &k.to_be_bytes(), &value(k + 1, len / 2 + 4000)).unwrap();
            let k = 100 + i as u32;
            let _short = db.put_reserved(txn, &k.to_be_bytes(), len + 100, |space| {
                use std::io::Write;
                space.write_all(&value(k, len / 3))
            });
        }
    };
    let mut wtxn = env.write_txn().unwrap();
    if flags.contains(EnvFlags::WRITE_MAP) {
        overwrite(&mut wtxn);
    } else {
        let mut child = env.nested_write_txn(&mut wtxn).unwrap();
        overwrite(&mut child);
        child.commit().unwrap();
    }
    // Enough new values that the txn spills (the test build's dirty list holds 2047 pages).
    for k in 1000..1400u32 {
        db.put(&mut wtxn, &k.to_be_bytes(), &value(k, 9000)).unwrap();
    }
    // Overwrite spilled values in place, plain and reserved.
    for k in 1000..1010u32 {
        db.put(&mut wtxn, &k.to_be_bytes(), &value(k + 7, 9000)).unwrap();
    }
    for k in 1010..1020u32 {
        db.put_reserved(&mut wtxn, &k.to_be_bytes(), 9000, |space| {
            use std::io::Write;
            space.write_all(&value(k + 9, 9000))
        })
        .unwrap();
    }
    wtxn.commit().unwrap();
    // Values freed and their pages reused for new runs.
    let mut wtxn = env.write_txn().unwrap();
    for k in 1000..1400u32 {
        db.delete(&mut wtxn, &k.to_be_bytes()).unwrap();
    }
    wtxn.commit().unwrap();
    let mut wtxn = env.write_txn().unwrap();
    for k in 2000..2100u32 {
        db.put(&mut wtxn, &k.to_be_bytes(), &value(k, 5000)).unwrap();
    }
    wtxn.commit().unwrap();

    let rtxn = env.read_txn().unwrap();
    assert_eq!(db.get(&rtxn, &1005u32.to_be_bytes()).unwrap(), None);
    assert_eq!(db.get(&rtxn, &2050u32.to_be_bytes()).unwrap(), Some(&value(2050, 5000)[..]));
    assert_eq!(db.get(&rtxn, &0u32.to_be_bytes()).unwrap(), Some(&value(1, 3000 / 2 + 4000)[..]));
    drop(rtxn);
    let report = env.check().unwrap();
    assert!(report.is_ok(), "{report:?}");
}

#[test]
fn overflow_values_write_no_uninitialised_byte() {
    workload(EnvFlags::empty());
}

#[test]
fn overflow_values_write_no_uninitialised_byte_with_writemap() {
    workload(EnvFlags::WRITE_MAP);
}

/// Thousands of leaf pages freed in one txn make freelist records that need overflow pages;
/// later small commits in fresh env handles rewrite them with fewer slots.
#[test]
fn freelist_records_write_no_uninitialised_byte() {
    let dir = tempfile::tempdir().unwrap();
    let open = || {
        // SAFETY (tests): a fresh directory, opened by one handle at a time.
        unsafe { EnvOpenOptions::new().map_size(256 << 20).open(dir.path()) }.unwrap()
    };
    let main = |env: &hedge::Env| -> Database<Bytes, Bytes> {
        env.create_databases_and_commit(env.write_txn().unwrap(), |opener, wtxn| {
            opener.create_database(wtxn, None).map(CommitOrAbort::<_, ()>::Commit)
        })
        .unwrap()
        .unwrap_commit()
    };
    let env = open();
    let db = main(&env);
    let key = |i: u32| format!("{i:08}").into_bytes();
    let mut wtxn = env.write_txn().unwrap();
    for i in 0..6000 {
        db.put(&mut wtxn, &key(i), &[b'x'; 200]).unwrap();
    }
    wtxn.commit().unwrap();
    let mut wtxn = env.write_txn().unwrap();
    for i in 0..6000 {
        db.delete(&mut wtxn, &key(i)).unwrap();
    }
    wtxn.commit().unwrap();
    let mut wtxn = env.write_txn().unwrap();
    db.put(&mut wtxn, b"a", &[b'x'; 10]).unwrap();
    wtxn.commit().unwrap();
    env.prepare_for_closing().wait();
    for round in 0..3 {
        let env = open();
        let db = main(&env);
        let mut wtxn = env.write_txn().unwrap();
        for i in 0..3 {
            db.put(&mut wtxn, format!("r{round}-{i}").as_bytes(), &[b'x'; 200]).unwrap();
        }
        wtxn.commit().unwrap();
        env.prepare_for_closing().wait();
    }
    let env = open();
    let db = main(&env);
    let rtxn = env.read_txn().unwrap();
    assert_eq!(db.len(&rtxn).unwrap(), 10);
    drop(rtxn);
    let report = env.check().unwrap();
    assert!(report.is_ok(), "{report:?}");
}

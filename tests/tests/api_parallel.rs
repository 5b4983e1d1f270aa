//! hedge::ParallelReader: a write transaction's uncommitted state read from a rayon pool.

use std::collections::HashSet;
use std::sync::Mutex;

use hedge::byteorder::BigEndian;
use hedge::types::U32;
use hedge::{Database, EnvFlags, Error, MdbError, ParallelReader};
use rayon::prelude::*;

type Db = Database<'static, U32<BigEndian>, U32<BigEndian>>;

fn open(dir: &tempfile::TempDir, flags: EnvFlags) -> (hedge::Env, Db) {
    hedge_tests::env_with_database(dir.path(), flags, None, hedge::DatabaseFlags::empty())
}

#[test]
fn a_pool_reads_uncommitted_writes_each_thread_through_one_reader() {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(4).build().unwrap();
    for flags in [EnvFlags::empty(), EnvFlags::WRITE_MAP] {
        let dir = tempfile::tempdir().unwrap();
        let (env, db) = open(&dir, flags);
        let mut wtxn = env.write_txn().unwrap();
        for i in 0..50_000u32 {
            db.put(&mut wtxn, &i, &(i ^ 0x5555)).unwrap();
        }
        if !hedge_tests::nested_readers_available(&wtxn) {
            assert!(matches!(ParallelReader::new(&wtxn), Err(Error::Mdb(MdbError::BadTxn))));
            return;
        }
        let view = ParallelReader::for_pool(&wtxn, &pool).unwrap();
        assert_eq!(view.readers(), 5);
        pool.install(|| {
            let seen = Mutex::new(HashSet::new());
            let sum: u64 = (0..50_000u32)
                .into_par_iter()
                .map(|i| {
                    let txn = view.txn().unwrap();
                    // A thread always gets the same reader back.
                    assert!(std::ptr::eq(txn, view.txn().unwrap()));
                    seen.lock().unwrap().insert((std::thread::current().id(), txn as *const _ as usize));
                    u64::from(view.get(&db, &i).unwrap().unwrap() ^ 0x5555)
                })
                .sum();
            assert_eq!(sum, (0..50_000u64).sum::<u64>(), "{flags:?}");
            let seen = seen.into_inner().unwrap();
            let readers: HashSet<_> = seen.iter().map(|&(_, r)| r).collect();
            assert_eq!(readers.len(), seen.len(), "no reader shared by two threads: {seen:?}");
            assert!(seen.len() <= 5);
        });
        drop(view);
        // The view is gone: the transaction writes again and commits.
        db.put(&mut wtxn, &0, &1).unwrap();
        wtxn.commit().unwrap();
    }
}

#[test]
fn rounds_of_parallel_reads_and_writes_commit_once() {
    let dir = tempfile::tempdir().unwrap();
    let (env, db) = open(&dir, EnvFlags::empty());
    let mut wtxn = env.write_txn().unwrap();
    if !hedge_tests::nested_readers_available(&wtxn) {
        return;
    }
    db.put(&mut wtxn, &0, &1).unwrap();
    // Round r reads every key written so far (uncommitted) and writes key r as their sum mod 2^32.
    let mut expected = vec![1u32];
    for r in 1..40u32 {
        let view = ParallelReader::new(&wtxn).unwrap();
        let sum = (0..r)
            .into_par_iter()
            .map(|k| view.get(&db, &k).unwrap().expect("written in an earlier round"))
            .reduce(|| 0, u32::wrapping_add);
        drop(view);
        db.put(&mut wtxn, &r, &sum).unwrap();
        expected.push(expected.iter().copied().fold(0, u32::wrapping_add));
    }
    wtxn.commit().unwrap();
    let rtxn = env.read_txn().unwrap();
    let stored: Vec<u32> = db.iter(&rtxn).unwrap().map(|e| e.unwrap().1).collect();
    assert_eq!(stored, expected);
}

#[test]
fn values_outlive_the_thread_that_read_them_and_the_parent_is_blocked_meanwhile() {
    let dir = tempfile::tempdir().unwrap();
    let (env, db) = open(&dir, EnvFlags::empty());
    let raw = db.remap_data_type::<hedge::types::Bytes>();
    let mut wtxn = env.write_txn().unwrap();
    raw.put(&mut wtxn, &7, &[42u8; 9000]).unwrap(); // an overflow value, on a dirty page
    if !hedge_tests::nested_readers_available(&wtxn) {
        return;
    }
    let view = ParallelReader::with_readers(&wtxn, 2).unwrap();
    let value: &[u8] = std::thread::scope(|s| {
        s.spawn(|| raw.get(view.txn().unwrap(), &7).unwrap().unwrap()).join().unwrap()
    });
    // Read on a thread that is gone; still valid: the view and the parent live.
    assert!(value.iter().all(|&b| b == 42) && value.len() == 9000);
    // The parent itself is blocked while its readers live (LMDB refuses, nothing breaks).
    assert!(matches!(raw.get(&wtxn, &7), Err(Error::Mdb(MdbError::BadTxn))));
    drop(view);
    assert_eq!(raw.get(&wtxn, &7).unwrap().map(<[u8]>::len), Some(9000));
    wtxn.commit().unwrap();
}

#[test]
fn more_threads_than_readers_is_a_clear_error_and_zero_readers_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (env, _db) = open(&dir, EnvFlags::empty());
    let wtxn = env.write_txn().unwrap();
    let err = ParallelReader::with_readers(&wtxn, 0).unwrap_err();
    assert!(matches!(&err, Error::Io(e) if e.kind() == std::io::ErrorKind::InvalidInput), "{err}");
    if !hedge_tests::nested_readers_available(&wtxn) {
        return;
    }
    let view = ParallelReader::with_readers(&wtxn, 2).unwrap();
    let barrier = std::sync::Barrier::new(3);
    let results: Vec<bool> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..3)
            .map(|_| {
                s.spawn(|| {
                    let ok = view.txn().is_ok();
                    barrier.wait(); // keep every thread alive until all have asked
                    ok
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(results.iter().filter(|&&ok| ok).count(), 2);
    drop(view);
    // A new view after the old one: fine. With one reader, taken here, another thread gets
    // an error that says what to do.
    let view = ParallelReader::with_readers(&wtxn, 1).unwrap();
    view.txn().unwrap();
    let err =
        std::thread::scope(|s| s.spawn(|| view.txn().map(|_| ()).unwrap_err().to_string()).join().unwrap());
    assert!(err.contains("with_readers"), "{err}");
}

//! Differential model test of a `DUP_SORT` database: random sequences of duplicate inserts
//! (with and without `NO_DUP_DATA`), single-duplicate and whole-key deletes, duplicate reads,
//! nested write txns that commit or abort, nested readers, commits, aborts and reopens, run
//! against hedge and a model (`BTreeMap<key, BTreeSet<value>>` per txn level). Many
//! duplicates per key make LMDB move them from sub-pages into sub-databases and back.
//!
//! `HEDGE_MODEL_CASES` sets the number of sequences (default 1500).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};

use hedge::{DatabaseFlags, EnvFlags, Error, MdbError, PutFlags, RwTxn};
use hedge_tests::model::{Db, End, Harness};
use proptest::prelude::*;

type Map = BTreeMap<Vec<u8>, BTreeSet<Vec<u8>>>;

static OPERATIONS: AtomicU64 = AtomicU64::new(0);

#[derive(Clone, Debug)]
enum Op {
    Add { key: u8, value: u16, len: usize, no_dup: bool },
    AddMany { key: u8, from: u16, count: u16 },
    DeleteOne { key: u8, value: u16, len: usize },
    DeleteKey { key: u8 },
    Read { key: u8 },
    NestedBegin,
    NestedEnd { commit: bool },
    ReadNested { on_thread: bool },
    Commit,
    Abort,
    Reopen,
}

fn key(k: u8) -> Vec<u8> {
    format!("k{k:02}").into_bytes()
}

/// A duplicate: its number first (so the order is the number's), padded to `len` bytes
/// (duplicates are bounded by the max key size, 511).
fn dup(v: u16, len: usize) -> Vec<u8> {
    let mut d = format!("{v:05}").into_bytes();
    d.resize(len.max(5), b'.');
    d
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (0u8..12, 0u16..400, prop_oneof![3 => 5usize..40, 1 => 200usize..500], any::<bool>())
            .prop_map(|(key, value, len, no_dup)| Op::Add { key, value, len, no_dup }),
        2 => (0u8..12, 0u16..400, 1u16..120).prop_map(|(key, from, count)| Op::AddMany { key, from, count }),
        3 => (0u8..12, 0u16..400, 5usize..40).prop_map(|(key, value, len)| Op::DeleteOne { key, value, len }),
        1 => (0u8..12).prop_map(|key| Op::DeleteKey { key }),
        3 => (0u8..12).prop_map(|key| Op::Read { key }),
        2 => Just(Op::NestedBegin),
        2 => any::<bool>().prop_map(|commit| Op::NestedEnd { commit }),
        2 => any::<bool>().prop_map(|on_thread| Op::ReadNested { on_thread }),
        2 => Just(Op::Commit),
        1 => Just(Op::Abort),
        1 => Just(Op::Reopen),
    ]
}

fn open(dir: &std::path::Path) -> (hedge::Env, Db) {
    hedge_tests::env_with_database(dir, EnvFlags::empty(), Some("dups"), DatabaseFlags::DUP_SORT)
}

fn contents(db: &Db, txn: &hedge::RoTxn) -> Map {
    let mut map = Map::new();
    for entry in db.iter(txn).unwrap() {
        let (k, v) = entry.unwrap();
        map.entry(k.to_vec()).or_default().insert(v.to_vec());
    }
    map
}

const HARNESS: Harness<Map, Op> = Harness { open, contents, run_level };

fn run_level(
    h: &Harness<Map, Op>,
    env: &hedge::Env,
    db: &Db,
    txn: &mut RwTxn,
    models: &mut Vec<Map>,
    ops: &mut std::slice::Iter<Op>,
    nested: bool,
) -> Result<End, TestCaseError> {
    while let Some(op) = ops.next() {
        OPERATIONS.fetch_add(1, Ordering::Relaxed);
        let model = models.last_mut().unwrap();
        match op.clone() {
            Op::Add { key: k, value, len, no_dup } => {
                let d = dup(value, len);
                let flags = if no_dup { PutFlags::NO_DUP_DATA } else { PutFlags::empty() };
                let existed = model.get(&key(k)).is_some_and(|s| s.contains(&d));
                match db.put_with_flags(txn, flags, &key(k), &d) {
                    Ok(()) => prop_assert!(!(no_dup && existed), "NO_DUP_DATA accepted an existing pair"),
                    Err(Error::Mdb(MdbError::KeyExist)) => prop_assert!(no_dup && existed),
                    Err(e) => return Err(TestCaseError::fail(format!("put: {e}"))),
                }
                model.entry(key(k)).or_default().insert(d);
            }
            Op::AddMany { key: k, from, count } => {
                for v in from..from.saturating_add(count) {
                    db.put(txn, &key(k), &dup(v, 24)).unwrap();
                    model.entry(key(k)).or_default().insert(dup(v, 24));
                }
            }
            Op::DeleteOne { key: k, value, len } => {
                let d = dup(value, len);
                let present = model.get_mut(&key(k)).is_some_and(|s| s.remove(&d));
                if model.get(&key(k)).is_some_and(BTreeSet::is_empty) {
                    model.remove(&key(k));
                }
                prop_assert_eq!(db.delete_one_duplicate(txn, &key(k), &d).unwrap(), present);
            }
            Op::DeleteKey { key: k } => {
                prop_assert_eq!(db.delete(txn, &key(k)).unwrap(), model.remove(&key(k)).is_some());
            }
            Op::Read { key: k } => {
                let expected: Vec<Vec<u8>> =
                    model.get(&key(k)).map(|s| s.iter().cloned().collect()).unwrap_or_default();
                let got: Vec<Vec<u8>> = match db.get_duplicates(txn, &key(k)).unwrap() {
                    Some(iter) => iter.map(|e| e.unwrap().1.to_vec()).collect(),
                    None => Vec::new(),
                };
                prop_assert_eq!(&got, &expected);
                prop_assert_eq!(db.count_duplicates(txn, &key(k)).unwrap(), expected.len());
            }
            Op::NestedBegin => h.nested(env, db, txn, models, ops)?,
            Op::NestedEnd { commit } if nested => return Ok(if commit { End::Commit } else { End::Abort }),
            Op::NestedEnd { .. } => {}
            Op::ReadNested { on_thread } => h.read_nested(db, txn, model, on_thread)?,
            Op::Commit if !nested => return Ok(End::Commit),
            Op::Abort if !nested => return Ok(End::Abort),
            Op::Reopen if !nested => return Ok(End::Reopen),
            Op::Commit | Op::Abort | Op::Reopen => {}
        }
    }
    Ok(End::Exhausted)
}

#[test]
fn random_duplicate_sequences_match_the_model() {
    let (cases, result) = HARNESS.run_cases(op(), 50);
    println!(
        "{cases} sequences, {} operations executed against hedge and the model",
        OPERATIONS.load(Ordering::Relaxed)
    );
    result.unwrap();
}

//! Differential model test: random sequences of operations run against hedge and against an
//! in-memory model (a stack of `BTreeMap`s, one per transaction level); every read and every
//! state after a commit must match.
//!
//! Operations: puts of inline and overflow sizes, reserved puts (also failing short ones),
//! deletes, range deletes, cursor deletes and replacements, nested write txns that commit or
//! abort, nested readers that read everything (also from another thread) and are dropped,
//! commits, aborts and env reopens. The test build uses `MDB_IDL_LOGN` 10 (a dirty list of
//! 2047 pages), so large transactions spill.
//!
//! `HEDGE_MODEL_CASES` sets the number of sequences (default 1500; `.ci/run` runs more).

use std::collections::BTreeMap;
use std::io::Write;
use std::ops::Bound;
use std::sync::atomic::{AtomicU64, Ordering};

use hedge::types::Bytes;
use hedge::{DatabaseFlags, EnvFlags, RwTxn};
use hedge_tests::model::{Db, End, Harness};
use proptest::prelude::*;

type Map = BTreeMap<Vec<u8>, Vec<u8>>;

static OPERATIONS: AtomicU64 = AtomicU64::new(0);

#[derive(Clone, Debug)]
enum Op {
    Put { key: u16, len: usize, fill: u8 },
    Reserve { key: u16, len: usize, fill: u8, short: bool },
    Delete { key: u16 },
    DeleteRange { from: u16, to: u16 },
    CursorDelete { nth: usize },
    CursorReplace { nth: usize, len: usize, fill: u8 },
    Get { key: u16 },
    NestedBegin,
    NestedEnd { commit: bool },
    ReadNested { on_thread: bool },
    Commit,
    Abort,
    Reopen,
}

fn key(k: u16) -> Vec<u8> {
    format!("key-{k:05}").into_bytes()
}

fn value(len: usize, fill: u8) -> Vec<u8> {
    (0..len).map(|i| fill.wrapping_add((i % 251) as u8)).collect()
}

fn size() -> impl Strategy<Value = usize> {
    // Inline values, and overflow values of one to four pages.
    prop_oneof![3 => 1usize..200, 1 => 3_000usize..14_000]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (0u16..48, size(), any::<u8>()).prop_map(|(key, len, fill)| Op::Put { key, len, fill }),
        3 => (0u16..48, size(), any::<u8>(), prop::bool::weighted(0.25))
            .prop_map(|(key, len, fill, short)| Op::Reserve { key, len, fill, short }),
        3 => (0u16..48).prop_map(|key| Op::Delete { key }),
        1 => (0u16..48, 0u16..48).prop_map(|(from, to)| Op::DeleteRange { from, to }),
        1 => (0usize..40).prop_map(|nth| Op::CursorDelete { nth }),
        1 => (0usize..40, size(), any::<u8>()).prop_map(|(nth, len, fill)| Op::CursorReplace { nth, len, fill }),
        3 => (0u16..48).prop_map(|key| Op::Get { key }),
        2 => Just(Op::NestedBegin),
        2 => any::<bool>().prop_map(|commit| Op::NestedEnd { commit }),
        2 => any::<bool>().prop_map(|on_thread| Op::ReadNested { on_thread }),
        2 => Just(Op::Commit),
        1 => Just(Op::Abort),
        1 => Just(Op::Reopen),
    ]
}

fn open(dir: &std::path::Path) -> (hedge::Env, Db) {
    hedge_tests::env_with_database(dir, EnvFlags::empty(), None, DatabaseFlags::empty())
}

fn contents(db: &Db, txn: &hedge::RoTxn) -> Map {
    db.iter(txn).unwrap().map(|e| e.map(|(k, v)| (k.to_vec(), v.to_vec())).unwrap()).collect()
}

/// Runs ops at one transaction level (`models.last()` is this level's view) until this level
/// ends; nested levels recurse.
/// Moves a write iterator onto its entry number `nth` and returns that entry's key (`None`
/// past the end).
fn step_to(iter: &mut hedge::RwIter<Bytes, Bytes>, nth: usize) -> Option<Vec<u8>> {
    let mut found = None;
    for _ in 0..=nth {
        found = iter.next().transpose().unwrap().map(|(k, _)| k.to_vec());
    }
    found
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
            Op::Put { key: k, len, fill } => {
                db.put(txn, &key(k), &value(len, fill)).unwrap();
                model.insert(key(k), value(len, fill));
            }
            Op::Reserve { key: k, len, fill, short } => {
                let full = value(len, fill);
                let written = if short { len / 2 } else { len };
                let result = db.put_reserved(txn, &key(k), len, |space| space.write_all(&full[..written]));
                prop_assert_eq!(result.is_err(), short);
                let mut stored = full[..written].to_vec();
                stored.resize(len, 0); // a short write's rest is zeroed
                model.insert(key(k), stored);
            }
            Op::Delete { key: k } => {
                prop_assert_eq!(db.delete(txn, &key(k)).unwrap(), model.remove(&key(k)).is_some());
            }
            Op::DeleteRange { from, to } => {
                let (a, b) = (key(from.min(to)), key(from.max(to)));
                let range = (Bound::Included(&a[..]), Bound::Excluded(&b[..]));
                let gone: Vec<Vec<u8>> = model
                    .range::<Vec<u8>, _>((Bound::Included(&a), Bound::Excluded(&b)))
                    .map(|(k, _)| k.clone())
                    .collect();
                prop_assert_eq!(db.delete_range(txn, &range).unwrap(), gone.len());
                for k in gone {
                    model.remove(&k);
                }
            }
            Op::CursorDelete { nth } => {
                let mut iter = db.iter_mut(txn).unwrap();
                let found = step_to(&mut iter, nth);
                prop_assert_eq!(&found, &model.keys().nth(nth).cloned());
                if let Some(k) = found {
                    // SAFETY (tests): nothing read through the iterator is used afterwards.
                    let deleted = unsafe { iter.del_current() }.unwrap();
                    prop_assert!(deleted);
                    model.remove(&k);
                }
            }
            Op::CursorReplace { nth, len, fill } => {
                let mut iter = db.iter_mut(txn).unwrap();
                let found = step_to(&mut iter, nth);
                prop_assert_eq!(&found, &model.keys().nth(nth).cloned());
                if let Some(k) = found {
                    // SAFETY (tests): as above.
                    let replaced = unsafe { iter.put_current(&k, &value(len, fill)) }.unwrap();
                    prop_assert!(replaced);
                    model.insert(k, value(len, fill));
                }
            }
            Op::Get { key: k } => {
                prop_assert_eq!(
                    db.get(txn, &key(k)).unwrap().map(<[u8]>::to_vec),
                    model.get(&key(k)).cloned()
                );
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
fn random_operation_sequences_match_the_model() {
    let (cases, result) = HARNESS.run_cases(op(), 60);
    println!(
        "{cases} sequences, {} operations executed against hedge and the model",
        OPERATIONS.load(Ordering::Relaxed)
    );
    result.unwrap();
}

#[test]
fn one_transaction_past_the_dirty_list_limit_spills_and_still_matches() {
    // 3000 overflow values of two pages each: far past a 2047-page dirty list.
    let ops: Vec<Op> = (0..3000u32)
        .map(|i| Op::Put { key: i as u16, len: 5000 + (i as usize % 97), fill: i as u8 })
        .chain([Op::ReadNested { on_thread: true }, Op::NestedBegin])
        .chain((0..1500u32).map(|i| Op::Reserve {
            key: (i * 2) as u16,
            len: 9000,
            fill: i as u8,
            short: i % 9 == 0,
        }))
        .chain([Op::ReadNested { on_thread: false }, Op::NestedEnd { commit: true }, Op::Commit, Op::Reopen])
        .collect();
    HARNESS.run_sequence(&ops).unwrap();
    assert_eq!(hedge_lmdb_sys::MDB_IDL_LOGN, 10, "the test build has a small dirty list");
}

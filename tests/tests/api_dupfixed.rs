//! `MDB_MULTIPLE` / `MDB_GET_MULTIPLE` on DUP_FIXED databases (beyond heed's API):
//! `Database::put_fixed_duplicates` and `Database::fixed_duplicates`.

use hedge::byteorder::BigEndian;
use hedge::types::{Bytes, Str, U32};
use hedge::{Database, DatabaseFlags, EnvFlags, Error, MdbError};

type Postings = Database<'static, Str, U32<BigEndian>>;

fn open(dir: &tempfile::TempDir, flags: DatabaseFlags) -> (hedge::Env, Postings) {
    hedge_tests::env_with_database(dir.path(), EnvFlags::empty(), Some("postings"), flags)
}

const FIXED: DatabaseFlags = DatabaseFlags::DUP_SORT.union(DatabaseFlags::DUP_FIXED);

fn all_blocks(db: &Postings, txn: &hedge::RoTxn, key: &str) -> Vec<Vec<u32>> {
    let mut dups = db.fixed_duplicates(txn, key).unwrap().expect("key present");
    assert_eq!(dups.value_size(), 4);
    let mut blocks = Vec::new();
    while let Some(block) = dups.next_block().unwrap() {
        assert!(block.len().is_multiple_of(4));
        blocks.push(block.chunks_exact(4).map(|c| u32::from_be_bytes(c.try_into().unwrap())).collect());
    }
    assert!(dups.next_block().unwrap().is_none(), "stays at the end");
    blocks
}

#[test]
fn many_duplicates_in_one_call_read_back_by_page_sized_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let (env, db) = open(&dir, FIXED);
    let mut wtxn = env.write_txn().unwrap();
    // Unsorted input with repeats: LMDB keeps a sorted set.
    let values: Vec<u32> = (0..20_000u32).map(|i| i.wrapping_mul(2_654_435_761) % 15_000).collect();
    let stored = db.put_fixed_duplicates(&mut wtxn, "term", &values).unwrap();
    let mut expected = values.clone();
    expected.sort_unstable();
    expected.dedup();
    assert_eq!(db.count_duplicates(&wtxn, "term").unwrap(), expected.len());
    // LMDB counts every value it was given, repeats included.
    assert_eq!(stored, values.len());

    let blocks = all_blocks(&db, &wtxn, "term");
    assert!(blocks.len() > 1, "{} distinct u32 span several pages", expected.len());
    assert_eq!(blocks.concat(), expected);
    // Value by value, decoded, after commit too.
    let decoded: Vec<u32> =
        db.fixed_duplicates(&wtxn, "term").unwrap().unwrap().map(Result::unwrap).collect();
    assert_eq!(decoded, expected);
    wtxn.commit().unwrap();
    let rtxn = env.read_txn().unwrap();
    assert_eq!(all_blocks(&db, &rtxn, "term").concat(), expected);
}

#[test]
fn single_values_absent_keys_empty_input_and_neighbours() {
    let dir = tempfile::tempdir().unwrap();
    let (env, db) = open(&dir, FIXED);
    let mut wtxn = env.write_txn().unwrap();
    assert_eq!(db.put_fixed_duplicates(&mut wtxn, "empty", &[]).unwrap(), 0);
    assert!(db.fixed_duplicates(&wtxn, "empty").unwrap().is_none());
    db.put(&mut wtxn, "a", &1).unwrap();
    db.put_fixed_duplicates(&mut wtxn, "b", &[5, 3, 4]).unwrap();
    db.put(&mut wtxn, "c", &9).unwrap();
    // A key with one value (no sub-database in LMDB) is one block of one value.
    assert_eq!(all_blocks(&db, &wtxn, "a"), [vec![1]]);
    assert_eq!(all_blocks(&db, &wtxn, "c"), [vec![9]]);
    // The iteration stops at the key's last duplicate, never running into the next key.
    assert_eq!(all_blocks(&db, &wtxn, "b").concat(), [3, 4, 5]);
    // Adding to an existing set.
    db.put_fixed_duplicates(&mut wtxn, "a", &[0, 1, 2]).unwrap();
    assert_eq!(all_blocks(&db, &wtxn, "a").concat(), [0, 1, 2]);
    assert!(db.fixed_duplicates(&wtxn, "zzz").unwrap().is_none());
    wtxn.commit().unwrap();
}

#[test]
fn unequal_sizes_and_databases_without_dup_fixed_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (env, db) = open(&dir, FIXED);
    let bytes = db.remap_data_type::<Bytes>();
    let mut wtxn = env.write_txn().unwrap();
    let values: [&[u8]; 3] = [b"abcd", b"efgh", b"ij"];
    let err = bytes.put_fixed_duplicates(&mut wtxn, "k", values).unwrap_err();
    assert!(
        matches!(&err, Error::Encoding(e) if e.to_string().contains("value 2 encodes to 2 bytes")),
        "{err}"
    );
    assert!(db.fixed_duplicates(&wtxn, "k").unwrap().is_none(), "nothing written");
    let err = bytes.put_fixed_duplicates(&mut wtxn, "k", [&b""[..]]).unwrap_err();
    assert!(matches!(err, Error::Encoding(_)), "{err}");
    wtxn.commit().unwrap();

    for flags in [DatabaseFlags::empty(), DatabaseFlags::DUP_SORT] {
        let dir = tempfile::tempdir().unwrap();
        let (env, db) = open(&dir, flags);
        let mut wtxn = env.write_txn().unwrap();
        let err = db.put_fixed_duplicates(&mut wtxn, "k", &[1, 2]).unwrap_err();
        assert!(matches!(err, Error::Mdb(MdbError::Incompatible)), "{flags:?}: {err:?}");
        db.put(&mut wtxn, "k", &1).unwrap();
        let err = db.fixed_duplicates(&wtxn, "k").err().expect("refused");
        assert!(matches!(err, Error::Mdb(MdbError::Incompatible)), "{flags:?}: {err:?}");
        wtxn.commit().unwrap();
    }
}

#[test]
fn nested_readers_read_blocks_of_uncommitted_duplicates_on_threads() {
    let dir = tempfile::tempdir().unwrap();
    let (env, db) = open(&dir, FIXED);
    let mut wtxn = env.write_txn().unwrap();
    for key in ["x", "y", "z"] {
        db.put_fixed_duplicates(&mut wtxn, key, &(0..3_000).collect::<Vec<u32>>()).unwrap();
    }
    if !hedge_tests::nested_readers_available(&wtxn) {
        return;
    }
    std::thread::scope(|s| {
        for key in ["x", "y", "z"] {
            let reader = wtxn.nested_read_txn().unwrap();
            s.spawn(move || {
                let sum: u64 =
                    db.fixed_duplicates(&reader, key).unwrap().unwrap().map(|v| v.unwrap() as u64).sum();
                assert_eq!(sum, (0..3_000u64).sum::<u64>());
            });
        }
    });
    wtxn.commit().unwrap();
}

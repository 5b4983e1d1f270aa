//! Bad input and misuse: each gives a clear `Error`, never a crash or silent corruption.
//! Every case prints the error it produced (`cargo test --test bad_input -- --nocapture`).

use std::fs::OpenOptions;
use std::io::{Seek, SeekFrom, Write};
use std::path::Path;

use hedge::types::{Bytes, Str, U64};
use hedge::{byteorder::BigEndian, Database, DatabaseFlags, EnvFlags, EnvOpenOptions, Error, MdbError};

fn open(path: &Path) -> hedge::Result<hedge::Env> {
    // SAFETY (tests): only hedge touches these files while they are open.
    unsafe { EnvOpenOptions::new().map_size(64 << 20).max_dbs(4).open(path) }
}

/// An environment with some committed data (overflow values included), then closed.
fn populated(dir: &Path) -> std::path::PathBuf {
    {
        let (env, db): (_, Database<Str, Bytes>) =
            hedge_tests::env_with_database(dir, EnvFlags::empty(), Some("data"), DatabaseFlags::empty());
        let mut wtxn = env.write_txn().unwrap();
        for i in 0..400 {
            db.put(&mut wtxn, &format!("key-{i:05}"), &vec![i as u8; if i % 10 == 0 { 9000 } else { 100 }])
                .unwrap();
        }
        wtxn.commit().unwrap();
        let closed = env.prepare_for_closing();
        closed.wait();
    }
    dir.join("data.mdb")
}

fn show(case: &str, err: &Error) {
    println!("{case}: {err}");
}

#[test]
fn a_truncated_data_file_is_refused_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let file = populated(dir.path());
    let len = std::fs::metadata(&file).unwrap().len();
    OpenOptions::new().write(true).open(&file).unwrap().set_len(len / 2).unwrap();
    let err = open(dir.path()).unwrap_err();
    show("data file truncated to half", &err);
    assert!(matches!(&err, Error::Io(e) if e.kind() == std::io::ErrorKind::InvalidData), "{err:?}");
    assert!(err.to_string().contains("truncated"), "{err}");
    // Shorter than the meta pages: LMDB itself refuses it.
    OpenOptions::new().write(true).open(&file).unwrap().set_len(100).unwrap();
    let err = open(dir.path()).unwrap_err();
    show("data file truncated to 100 bytes", &err);
    assert!(matches!(err, Error::Mdb(MdbError::Invalid)), "{err:?}");
}

#[test]
fn a_damaged_meta_page_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = populated(dir.path());
    // The first meta page's magic number (after the 16-byte page header).
    let mut f = OpenOptions::new().write(true).open(&file).unwrap();
    f.seek(SeekFrom::Start(16)).unwrap();
    f.write_all(&[0xde, 0xad, 0xbe, 0xef]).unwrap();
    drop(f);
    let err = open(dir.path()).unwrap_err();
    show("meta page 0 with a wrong magic", &err);
    assert!(matches!(err, Error::Mdb(MdbError::Invalid)), "{err:?}");
}

#[test]
fn paths_that_are_not_environments() {
    // A directory holding a data.mdb that is not LMDB's.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("data.mdb"), vec![0x42u8; 8192]).unwrap();
    let err = open(dir.path()).unwrap_err();
    show("directory with a foreign data.mdb", &err);
    assert!(matches!(err, Error::Mdb(MdbError::Invalid)), "{err:?}");
    // A regular file given as the directory.
    let file = dir.path().join("plain.txt");
    std::fs::write(&file, b"hello").unwrap();
    let err = open(&file).unwrap_err();
    show("a regular file as the env directory", &err);
    assert!(matches!(&err, Error::Io(e) if e.raw_os_error() == Some(libc_enotdir())), "{err:?}");
    // A directory that does not exist.
    let err = open(&dir.path().join("missing")).unwrap_err();
    show("a missing directory", &err);
    assert!(matches!(&err, Error::Io(e) if e.kind() == std::io::ErrorKind::NotFound), "{err:?}");
}

fn libc_enotdir() -> i32 {
    20 // ENOTDIR on Linux
}

#[test]
fn a_map_size_that_is_not_a_page_multiple() {
    let dir = tempfile::tempdir().unwrap();
    // SAFETY (tests): a fresh directory.
    let err = unsafe { EnvOpenOptions::new().map_size((1 << 20) + 1).open(dir.path()) }.unwrap_err();
    show("map size 1 MiB + 1", &err);
    assert!(matches!(&err, Error::Io(e) if e.kind() == std::io::ErrorKind::InvalidInput), "{err:?}");
    let env = open(dir.path()).unwrap();
    // SAFETY (tests): no transaction is live.
    let err = unsafe { env.resize(12345) }.unwrap_err();
    show("resize to 12345 bytes", &err);
    assert!(matches!(&err, Error::Io(e) if e.kind() == std::io::ErrorKind::InvalidInput), "{err:?}");
}

#[test]
fn keys_over_the_maximum_size_and_empty_keys() {
    let dir = tempfile::tempdir().unwrap();
    let (env, db): (_, Database<Bytes, Bytes>) =
        hedge_tests::env_with_database(dir.path(), EnvFlags::empty(), None, DatabaseFlags::empty());
    let max = env.max_key_size();
    let mut wtxn = env.write_txn().unwrap();
    db.put(&mut wtxn, &vec![1u8; max], b"fits").unwrap();
    let err = db.put(&mut wtxn, &vec![1u8; max + 1], b"too long").unwrap_err();
    show(&format!("a {}-byte key (max {max})", max + 1), &err);
    assert!(matches!(err, Error::Mdb(MdbError::BadValSize)), "{err:?}");
    let err = db.put(&mut wtxn, b"", b"empty key").unwrap_err();
    show("an empty key", &err);
    assert!(matches!(err, Error::Mdb(MdbError::BadValSize)), "{err:?}");
    assert_eq!(db.len(&wtxn).unwrap(), 1, "nothing else was stored");
    wtxn.commit().unwrap();
}

#[test]
fn values_of_the_wrong_size_for_fixed_size_codecs() {
    let dir = tempfile::tempdir().unwrap();
    let (env, db): (_, Database<Str, U64<BigEndian>>) =
        hedge_tests::env_with_database(dir.path(), EnvFlags::empty(), None, DatabaseFlags::empty());
    let mut wtxn = env.write_txn().unwrap();
    db.remap_data_type::<Bytes>().put(&mut wtxn, "short", &[1, 2, 3]).unwrap();
    let err = db.get(&wtxn, "short").unwrap_err();
    show("a 3-byte value read as U64", &err);
    assert!(matches!(err, Error::Decoding(_)), "{err:?}");
    let err = db.iter(&wtxn).unwrap().next().unwrap().unwrap_err();
    assert!(matches!(err, Error::Decoding(_)), "{err:?}");
}

#[test]
fn reserved_writes_on_a_dup_sort_database_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (env, db): (_, Database<Str, Bytes>) =
        hedge_tests::env_with_database(dir.path(), EnvFlags::empty(), None, DatabaseFlags::DUP_SORT);
    let mut wtxn = env.write_txn().unwrap();
    db.put(&mut wtxn, "k", b"b").unwrap();
    let err = db.put_reserved(&mut wtxn, "k", 1, |space| space.write_all(b"a")).unwrap_err();
    show("put_reserved on a DUP_SORT database", &err);
    assert!(matches!(err, Error::Mdb(MdbError::Incompatible)), "{err:?}");
    let err = db.get_or_put_reserved(&mut wtxn, "new", 1, |space| space.write_all(b"a")).unwrap_err();
    assert!(matches!(err, Error::Mdb(MdbError::Incompatible)), "{err:?}");
    let mut iter = db.iter_mut(&mut wtxn).unwrap();
    iter.next().unwrap().unwrap();
    // SAFETY (tests): nothing read through the iterator is used afterwards.
    let err = unsafe {
        iter.put_current_reserved_with_flags(hedge::PutFlags::empty(), "k", 1, |s| s.write_all(b"c"))
    }
    .unwrap_err();
    assert!(matches!(err, Error::Mdb(MdbError::Incompatible)), "{err:?}");
    drop(iter);
    // Nothing changed, and the database is still in order.
    let values: Vec<&[u8]> = db.get_duplicates(&wtxn, "k").unwrap().unwrap().map(|e| e.unwrap().1).collect();
    assert_eq!(values, [b"b"]);
    assert_eq!(db.len(&wtxn).unwrap(), 1);
    wtxn.commit().unwrap();
    assert!(env.check().unwrap().is_ok());
}

#[test]
fn check_passes_on_healthy_environments_and_reports_a_damaged_leaf_page() {
    let dir = tempfile::tempdir().unwrap();
    let file = populated(dir.path());
    {
        let env = open(dir.path()).unwrap();
        let report = env.check().unwrap();
        println!("healthy: {report:?}");
        assert!(report.is_ok(), "{report:?}");
        assert_eq!(report.databases, 2);
        assert_eq!(report.entries, 401, "400 entries + the name of the named database");
        assert_eq!(report.tree_pages + report.free_pages + 2, report.last_page + 1);
        env.prepare_for_closing().wait();
    }
    // Damage a copy: find a leaf page (header flags P_LEAF = 0x02 at byte 10) of the data
    // and clear its type. LMDB would stop the process on an assertion when a cursor steps
    // onto it; the check reads pages itself and reports it.
    let copy_dir = tempfile::tempdir().unwrap();
    let copy = copy_dir.path().join("data.mdb");
    std::fs::copy(&file, &copy).unwrap();
    let mut bytes = std::fs::read(&copy).unwrap();
    let page = 4096;
    let leaf = (2..bytes.len() / page)
        .filter(|&p| u16::from_le_bytes([bytes[p * page + 10], bytes[p * page + 11]]) == 0x02)
        .nth(3)
        .expect("several leaf pages");
    bytes[leaf * page + 10] = 0;
    std::fs::write(&copy, &bytes).unwrap();
    let env = open(copy_dir.path()).unwrap();
    let report = env.check().unwrap();
    println!("damaged leaf page {leaf}: {:?}", report.problems);
    assert!(!report.is_ok());
    assert!(
        report.problems.iter().any(|p| p.contains(&format!("page {leaf} is neither a branch nor a leaf"))),
        "{:?}",
        report.problems
    );
}

#[test]
fn check_reports_out_of_order_keys_that_lmdb_itself_does_not_notice() {
    let dir = tempfile::tempdir().unwrap();
    let file = populated(dir.path());
    let mut bytes = std::fs::read(&file).unwrap();
    // Swap one byte of a key in a leaf page: "key-00123" becomes "key-00923"-like, out of
    // order, on a page LMDB still reads happily.
    let needle = b"key-00150";
    let at = bytes.windows(needle.len()).position(|w| w == needle).expect("the key is stored");
    bytes[at + 6] = b'9';
    std::fs::write(&file, &bytes).unwrap();
    let env = open(dir.path()).unwrap();
    let report = env.check().unwrap();
    println!("key damaged in place: {:?}", report.problems);
    assert!(report.problems.iter().any(|p| p.contains("out of order")), "{:?}", report.problems);
}

#[test]
fn check_reports_a_node_whose_flags_claim_duplicates_in_a_plain_database() {
    // Found by the power-loss simulation (crash_power, WRITE_MAP | MAP_ASYNC): a leaf node of
    // a database without DUP_SORT whose flags say "duplicates in a sub-database" (F_DUPDATA |
    // F_SUBDATA) and whose size is shorter than such a record made Env::check panic (slice
    // index out of range while parsing the record) instead of reporting it.
    let dir = tempfile::tempdir().unwrap();
    let file = populated(dir.path());
    let mut bytes = std::fs::read(&file).unwrap();
    let needle = b"key-00151";
    let key = bytes.windows(needle.len()).position(|w| w == needle).expect("the key is stored");
    // The node header before the key: data size (u16 lo, u16 hi), flags, key size.
    bytes[key - 8..key - 4].copy_from_slice(&[4, 0, 0, 0]);
    bytes[key - 4..key - 2].copy_from_slice(&0x06u16.to_le_bytes());
    std::fs::write(&file, &bytes).unwrap();
    let env = open(dir.path()).unwrap();
    let report = env.check().unwrap();
    println!("node flags damaged in place: {:?}", report.problems);
    assert!(report.problems.iter().any(|p| p.contains("is not DUP_SORT")), "{:?}", report.problems);
}

#[test]
fn a_damaged_duplicates_sub_page_is_reported_by_the_check() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (env, db): (_, Database<Str, Str>) = hedge_tests::env_with_database(
            dir.path(),
            EnvFlags::empty(),
            Some("dups"),
            DatabaseFlags::DUP_SORT,
        );
        let mut wtxn = env.write_txn().unwrap();
        for d in ["dup-one", "dup-two", "dup-three"] {
            db.put(&mut wtxn, "key", d).unwrap();
        }
        wtxn.commit().unwrap();
        env.prepare_for_closing().wait();
    }
    // The node of "key" holds its duplicates in a sub-page: page header flags at offset 10
    // of the node's data. Mark the sub-page an overflow page: LMDB asserted on it.
    let file = dir.path().join("data.mdb");
    let mut bytes = std::fs::read(&file).unwrap();
    let sub = bytes
        .windows(3 + 12)
        .position(|w| &w[..3] == b"key" && w[3 + 10] & 0x42 == 0x42) // P_LEAF | P_SUBP
        .expect("a sub-page");
    bytes[sub + 3 + 10] = 0x04;
    std::fs::write(&file, &bytes).unwrap();

    // Reading it asserts in LMDB (also with hedge's series so far: the read-path validation
    // patch is not in it yet); the check must report it without reading through LMDB.
    let env = open(dir.path()).unwrap();
    let report = env.check().unwrap();
    println!("the check: {:?}", report.problems);
    assert!(
        report.problems.iter().any(|p| p.contains("malformed duplicates sub-page")),
        "{:?}",
        report.problems
    );
}

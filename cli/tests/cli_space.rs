//! `hedge space` on constructed cases: a reader holding a snapshot while half of the data is
//! rewritten is charged with the pages it pins; without readers, nothing is pinned; the
//! page counts add up to the file.

mod common;

use common::*;

use hedge::types::{Bytes, U32};
use hedge::{CommitOrAbort, Database, EnvOpenOptions, byteorder::BigEndian};
use serde_json::Value;

const VALUES: u32 = 400;
/// Two overflow pages each (4 KiB pages): what a rewrite frees is easy to count.
const VALUE_SIZE: usize = 6000;

fn space_json(env: &std::path::Path) -> Value {
    let out = ok(cmd(hedge(), argv!["space", "--json", env]), b"");
    serde_json::from_slice(&out).expect("hedge space --json writes JSON")
}

#[test]
fn a_reader_holding_a_snapshot_is_charged_with_the_pages_a_rewrite_frees() {
    let dir = tempfile::tempdir().unwrap();
    // SAFETY (tests): the files are only touched through LMDB.
    let env =
        unsafe { EnvOpenOptions::new().read_txn_without_tls().map_size(64 << 20).open(dir.path()) }.unwrap();
    let db: Database<U32<BigEndian>, Bytes> = env
        .create_databases_and_commit(env.write_txn().unwrap(), |o, w| {
            o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit)
        })
        .unwrap()
        .unwrap_commit();
    let mut wtxn = env.write_txn().unwrap();
    for i in 0..VALUES {
        db.put(&mut wtxn, &i, &[1; VALUE_SIZE]).unwrap();
    }
    wtxn.commit().unwrap();

    let before = space_json(dir.path());
    assert_eq!(before["free"]["pinned"], 0, "{before:#}");

    // A reader holds the snapshot; half of the values are rewritten, in two commits.
    let reader = env.read_txn().unwrap();
    let snapshot = reader.id() as u64;
    for half in [0, 1] {
        let mut wtxn = env.write_txn().unwrap();
        for i in (0..VALUES).filter(|i| i % 4 == half) {
            db.put(&mut wtxn, &i, &[2; VALUE_SIZE]).unwrap();
        }
        wtxn.commit().unwrap();
    }

    let during = space_json(dir.path());
    let pid = std::process::id() as u64;
    let pins = during["free"]["pinned_by"].as_array().unwrap().clone();
    let mine: Vec<&Value> = pins.iter().filter(|p| p["pid"] == pid).collect();
    assert_eq!(mine.len(), 1, "{during:#}");
    assert_eq!(mine[0]["txn_id"], snapshot);
    assert_eq!(mine[0]["commits_behind"], 2);
    assert_eq!(mine[0]["running"], true);
    assert!(mine[0]["process_age_seconds"].is_u64(), "this process's start is known: {during:#}");
    // Every rewritten value freed its two overflow pages (and leaf and branch pages too).
    let pinned = mine[0]["pages"].as_u64().unwrap();
    let rewritten_overflow = u64::from(VALUES / 2) * 2;
    assert!(
        pinned >= rewritten_overflow,
        "{pinned} pinned, {rewritten_overflow} overflow pages rewritten: {during:#}"
    );
    assert_eq!(during["free"]["pinned"].as_u64(), Some(pinned));
    assert!(during["free"]["reusable"].as_u64().unwrap() < pinned / 10, "{during:#}");
    // The file grew by about what the reader pins.
    let grew = during["pages"]["used"].as_u64().unwrap() - before["pages"]["used"].as_u64().unwrap();
    assert!(grew >= rewritten_overflow, "{grew}");

    // The text says so in words.
    let text = String::from_utf8(ok(cmd(hedge(), argv!["space", dir.path()]), b"")).unwrap();
    let words = format!(
        "are pinned by reader pid {pid} holding txn {snapshot} (2 commits behind the last; its process started "
    );
    assert!(text.replace('\n', " ").contains(&words), "{text}");

    // Once the reader ends, nothing is pinned and the free pages can be reused.
    drop(reader);
    let after = space_json(dir.path());
    assert_eq!(after["free"]["pinned"], 0, "{after:#}");
    let free = &after["free"];
    assert_eq!(
        free["reusable"].as_u64().unwrap() + free["after_next_commit"].as_u64().unwrap(),
        free["total"].as_u64().unwrap()
    );
    assert!(free["total"].as_u64().unwrap() >= pinned);
}

#[test]
fn the_page_counts_add_up_to_the_pages_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let samples = samples();
    write_env(dir.path(), &samples);
    let space = space_json(dir.path());
    let pages = &space["pages"];
    let n = |k: &str| pages[k].as_u64().unwrap();
    assert_eq!(
        n("meta") + n("databases") + n("free_list_tree") + n("other") + n("free"),
        n("used"),
        "{space:#}"
    );
    // The DUP_SORT samples keep key 0's 400 values in a tree of their own: pages no database
    // record counts, shown as "other".
    assert!(n("other") > 0, "{space:#}");
    let check = String::from_utf8(ok(cmd(hedge(), argv!["check", dir.path()]), b"")).unwrap();
    assert!(check.contains("consistent"), "{check}");
    let names: Vec<&str> =
        space["databases"].as_array().unwrap().iter().filter_map(|d| d["name"].as_str()).collect();
    assert_eq!(names.len(), samples.len());
    assert_eq!(space["page_size"], 4096);
    assert_eq!(n("in_file") * 4096, space["file_bytes"].as_u64().unwrap());
}

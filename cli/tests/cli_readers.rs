//! `hedge readers`: live readers with their snapshots, slots of dead processes marked and
//! cleared by `--clear-stale` (and then no longer pinning pages in `hedge space`).

mod common;

use common::*;

use hedge::types::Bytes;
use hedge::{CommitOrAbort, Database, EnvOpenOptions};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn readers_lists_live_and_dead_readers_and_clears_the_dead_ones() {
    let dir = tempfile::tempdir().unwrap();
    let env_dir = dir.path().join("env");
    std::fs::create_dir(&env_dir).unwrap();
    // SAFETY (tests): the files are only touched through LMDB.
    let env =
        unsafe { EnvOpenOptions::new().read_txn_without_tls().map_size(16 << 20).open(&env_dir) }.unwrap();
    let db: Database<Bytes, Bytes> = env
        .create_databases_and_commit(env.write_txn().unwrap(), |o, w| {
            o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit)
        })
        .unwrap()
        .unwrap_commit();
    let mut wtxn = env.write_txn().unwrap();
    for i in 0..200u32 {
        db.put(&mut wtxn, &i.to_be_bytes(), &[0; 3000]).unwrap();
    }
    wtxn.commit().unwrap();

    assert!(text(&ok(cmd(hedge(), argv!["readers", &env_dir]), b"")).starts_with("no readers"));
    let rtxn = env.read_txn().unwrap();
    let listed = text(&ok(cmd(hedge(), argv!["readers", &env_dir]), b""));
    let mine = listed.lines().find(|l| l.split_whitespace().next() == Some(&std::process::id().to_string()));
    let mine = mine.unwrap_or_else(|| panic!("{listed}"));
    assert!(mine.contains(&format!(" {} ", rtxn.id())) && mine.contains("running, started "), "{listed}");
    drop(rtxn);

    // A process that dies holding a snapshot: a dump stuck writing to a pipe nobody reads.
    let mut child = cmd(hedge(), argv!["dump", &env_dir])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    // The first bytes of the dump: its read transaction is live (until the dump ends, which
    // it cannot while the pipe is full).
    std::io::Read::read_exact(&mut stdout, &mut [0; 1]).unwrap();
    let child_pid = child.id();
    while !env.readers().unwrap().iter().any(|r| r.pid == child_pid && r.txn_id.is_some()) {
        std::thread::yield_now();
    }
    child.kill().unwrap();
    child.wait().unwrap();
    drop(stdout);
    // Writes while the dead reader's slot pins its snapshot.
    let mut wtxn = env.write_txn().unwrap();
    for i in 0..100u32 {
        db.put(&mut wtxn, &i.to_be_bytes(), &[1; 3000]).unwrap();
    }
    wtxn.commit().unwrap();

    let listed = text(&ok(cmd(hedge(), argv!["readers", &env_dir]), b""));
    let dead = listed.lines().find(|l| l.split_whitespace().next() == Some(&child_pid.to_string()));
    assert!(dead.is_some_and(|l| l.contains("gone")), "{listed}");
    let space: serde_json::Value =
        serde_json::from_slice(&ok(cmd(hedge(), argv!["space", "--json", &env_dir]), b"")).unwrap();
    let pin = space["free"]["pinned_by"].as_array().unwrap().iter().find(|p| p["pid"] == child_pid).cloned();
    assert!(pin.is_some_and(|p| p["running"] == false && p["pages"].as_u64().unwrap() >= 100), "{space:#}");
    let words = text(&ok(cmd(hedge(), argv!["space", &env_dir]), b"")).replace('\n', " ");
    assert!(
        words.contains("a process that is gone: `hedge readers --clear-stale` frees its slot"),
        "{words}"
    );

    let cleared = text(&ok(cmd(hedge(), argv!["readers", "--clear-stale", &env_dir]), b""));
    assert!(cleared.starts_with("cleared 1 stale reader slot "), "{cleared}");
    assert!(!cleared.contains(&format!(" {child_pid} ")), "{cleared}");
    let space: serde_json::Value =
        serde_json::from_slice(&ok(cmd(hedge(), argv!["space", "--json", &env_dir]), b"")).unwrap();
    assert_eq!(space["free"]["pinned"], 0, "{space:#}");
}

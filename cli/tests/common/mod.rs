//! What the `hedge` command's suites share: running it and upstream's tools, and sample
//! environments.

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use hedge::types::Bytes;
use hedge::{CommitOrAbort, Database, DatabaseFlags, EnvOpenOptions};

/// The `hedge` binary under test.
pub fn hedge() -> Command {
    Command::new(env!("CARGO_BIN_EXE_hedge"))
}

/// One of upstream's tools (`mdb_dump`, ...), built from the pinned pristine source.
pub fn upstream(tool: &str) -> Command {
    Command::new(Path::new(hedge_tests::built::UPSTREAM_TOOLS).join(tool))
}

/// Runs `cmd` with `stdin`, and checks that it ended by itself (no signal) and did not
/// panic, whatever its status.
pub fn run(mut cmd: Command, stdin: &[u8]) -> Output {
    let shown = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{shown}: {e}"));
    let mut input = child.stdin.take().expect("piped");
    let stdin = stdin.to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = input.write_all(&stdin);
    });
    let out = child.wait_with_output().expect("wait");
    feeder.join().expect("feeder");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.code().is_some(), "{shown} was killed by a signal: {:?}\n{stderr}", out.status);
    assert!(!stderr.contains("panicked"), "{shown} panicked:\n{stderr}");
    out
}

/// Runs `cmd` and returns its standard output, which it must produce successfully.
pub fn ok(cmd: Command, stdin: &[u8]) -> Vec<u8> {
    let shown = format!("{cmd:?}");
    let out = run(cmd, stdin);
    assert!(out.status.success(), "{shown} failed: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

/// A command line from strings and paths: `argv!["dump", "-p", &env]`.
#[macro_export]
macro_rules! argv {
    ($($arg:expr),* $(,)?) => {
        vec![$(std::ffi::OsString::from(AsRef::<std::ffi::OsStr>::as_ref(&$arg))),*]
    };
}

/// `program` with `args`.
pub fn cmd(mut program: Command, args: Vec<std::ffi::OsString>) -> Command {
    program.args(args);
    program
}

/// A database's entries as (key, value), duplicates included.
pub type Entries = Vec<(Vec<u8>, Vec<u8>)>;

/// One database of a sample: name, flags, entries in the order LMDB keeps them.
pub struct Sample {
    pub name: Option<&'static str>,
    pub flags: DatabaseFlags,
    pub entries: Entries,
}

/// Databases that cover what the dump format carries: every byte value in keys and values,
/// text with backslashes, empty values, values on overflow pages, duplicates (sorted
/// in-node and in their own trees), fixed-size duplicates, integer and reversed keys.
pub fn samples() -> Vec<Sample> {
    let all_bytes: Vec<u8> = (0..=255).collect();
    let mut plain: Entries = vec![
        (b"a\\b".to_vec(), b"back\\slash and \"quotes\"".to_vec()),
        (b"bytes".to_vec(), all_bytes.clone()),
        (b"empty".to_vec(), Vec::new()),
        (b"large".to_vec(), (0..20_000u32).map(|i| (i * 7 % 251) as u8).collect()),
        (vec![0, 1, 2, 255], b"binary key".to_vec()),
    ];
    for i in 0..300u32 {
        plain.push((format!("key{i:04}").into_bytes(), format!("value {i} \t~\x7f").into_bytes()));
    }
    plain.sort();
    let mut dups: Entries = Vec::new();
    for k in 0..40u32 {
        // Key 0 has enough duplicates for a sub-tree of its own; the others stay in-node.
        let count = if k == 0 { 400 } else { k % 5 + 1 };
        for d in 0..count {
            dups.push((format!("k{k:02}").into_bytes(), format!("dup {d:05}").into_bytes()));
        }
    }
    dups.sort();
    let mut fixed: Entries = Vec::new();
    for k in 0..10u8 {
        for d in 0..(k as u32 * 30) {
            fixed.push((vec![b'f', k], d.to_be_bytes().to_vec()));
        }
    }
    let mut ints: Entries =
        (0..500u64).map(|i| ((i * 1_000_003).to_ne_bytes().to_vec(), vec![i as u8; 3])).collect();
    ints.sort_by_key(|(k, _)| u64::from_ne_bytes(k[..].try_into().unwrap()));
    let mut reversed: Entries =
        (0..50u32).map(|i| (format!("{i}-rev").into_bytes(), b"r".to_vec())).collect();
    reversed.sort_by(|a, b| a.0.iter().rev().cmp(b.0.iter().rev()));
    vec![
        Sample { name: Some("plain"), flags: DatabaseFlags::empty(), entries: plain },
        Sample { name: Some("dups"), flags: DatabaseFlags::DUP_SORT, entries: dups },
        Sample {
            name: Some("fixed"),
            flags: DatabaseFlags::DUP_SORT | DatabaseFlags::DUP_FIXED,
            entries: fixed,
        },
        Sample { name: Some("ints"), flags: DatabaseFlags::INTEGER_KEY, entries: ints },
        Sample { name: Some("reversed"), flags: DatabaseFlags::REVERSE_KEY, entries: reversed },
        Sample { name: Some("empty db"), flags: DatabaseFlags::empty(), entries: Vec::new() },
    ]
}

/// Writes `samples` into a new environment at `dir` (closed on return).
pub fn write_env(dir: &Path, samples: &[Sample]) {
    // SAFETY (tests): the files are only touched through LMDB.
    let env = unsafe { EnvOpenOptions::new().map_size(64 << 20).max_dbs(16).open(dir) }.expect("open");
    let wtxn = env.write_txn().expect("write txn");
    let dbs: Vec<Database<Bytes, Bytes>> = env
        .create_databases_and_commit(wtxn, |o, w| {
            let mut dbs = Vec::new();
            for sample in samples {
                let mut options = o.database_options().types::<Bytes, Bytes>();
                if let Some(name) = sample.name {
                    options.name(name);
                }
                options.flags(sample.flags);
                dbs.push(options.create(w)?);
            }
            Ok::<_, hedge::Error>(CommitOrAbort::<_, ()>::Commit(dbs))
        })
        .expect("create")
        .unwrap_commit();
    let mut wtxn = env.write_txn().expect("write txn");
    for (db, sample) in dbs.iter().zip(samples) {
        for (k, v) in &sample.entries {
            db.put(&mut wtxn, k, v).expect("put");
        }
    }
    wtxn.commit().expect("commit");
    env.prepare_for_closing().wait();
}

/// Reads every sample database of the environment at `dir` back (closed on return).
pub fn read_env(dir: &Path, samples: &[Sample]) -> Vec<Entries> {
    // SAFETY (tests): as above.
    let env = unsafe { EnvOpenOptions::new().max_dbs(16).open(dir) }.expect("open");
    let rtxn = env.read_txn().expect("read txn");
    let dbs: Vec<Option<Database<Bytes, Bytes>>> = env
        .open_databases_and_commit(rtxn, |o, r| {
            let mut dbs = Vec::new();
            for sample in samples {
                dbs.push(o.open_database(r, sample.name)?);
            }
            Ok::<_, hedge::Error>(CommitOrAbort::<_, ()>::Commit(dbs))
        })
        .expect("open databases")
        .unwrap_commit();
    let rtxn = env.read_txn().expect("read txn");
    let read = dbs
        .iter()
        .map(|db| {
            let db = db.expect("every sample database exists");
            db.iter(&rtxn)
                .expect("iter")
                .map(|e| e.map(|(k, v)| (k.to_vec(), v.to_vec())).expect("entry"))
                .collect()
        })
        .collect();
    drop(rtxn);
    env.prepare_for_closing().wait();
    read
}

/// A new directory path inside `dir` (not created).
pub fn fresh(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}

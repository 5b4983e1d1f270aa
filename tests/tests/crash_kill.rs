//! Crash consistency: a child process writes transactions and is killed with SIGKILL at
//! random points (at random times, just as it starts a commit, and while nested readers of
//! its write transaction are live); the parent reopens the environment and checks that
//! every commit the child acknowledged is there in full and nothing uncommitted is visible,
//! then lets the next child go on from there.
//!
//! Modes: durable (default flags), `WRITE_MAP`, `NO_META_SYNC`, `NO_SYNC`. SIGKILL ends the
//! process, not the OS: the kernel still holds every write the process made, so even
//! `NO_SYNC` and `NO_META_SYNC` keep every acknowledged commit here. What those modes give
//! up is durability against an OS crash or power loss (`NO_SYNC`: the commits since the last
//! sync, and integrity; with `NO_META_SYNC`: the last commit), which `crash_power` simulates
//! (`docs/durability.md`).
//!
//! `HEDGE_CRASH_KILLS` sets the kills per mode (default 6; `.ci/run` runs more).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hedge::types::{Bytes, Str};
use hedge::{Database, DatabaseFlags, EnvFlags};

const CHILD: &str = "HEDGE_CRASH_CHILD";
const PER_TXN: u64 = 40;

use hedge_tests::mix;

fn flags(mode: &str) -> EnvFlags {
    match mode {
        "writemap" => EnvFlags::WRITE_MAP,
        "no-meta-sync" => EnvFlags::NO_META_SYNC,
        "no-sync" => EnvFlags::NO_SYNC,
        _ => EnvFlags::empty(),
    }
}

fn key(txn: u64, i: u64) -> String {
    format!("t{txn:07}-{i:03}")
}

/// The value entry `i` of txn `txn` holds: every fifth one is an overflow value.
fn value(txn: u64, i: u64) -> Vec<u8> {
    let len = if i.is_multiple_of(5) { 9000 + (i as usize % 7) } else { 64 };
    let seed = mix(txn << 16 | i);
    (0..len).map(|j| (seed >> (j % 8 * 8)) as u8 ^ j as u8).collect()
}

fn open(dir: &std::path::Path, mode: &str) -> (hedge::Env, Database<'static, Str, Bytes>) {
    hedge_tests::env_with_database(dir, flags(mode), Some("crash"), DatabaseFlags::empty())
}

fn last_committed(db: &Database<Str, Bytes>, txn: &hedge::RoTxn) -> u64 {
    db.get(txn, "last").unwrap().map_or(0, |v| u64::from_be_bytes(v.try_into().unwrap()))
}

/// The child: writes txns until killed, reporting each step on stdout.
#[test]
fn crash_child() {
    let Ok(spec) = std::env::var(CHILD) else { return }; // a no-op in normal test runs
    let (dir, mode) = spec.split_once('|').expect("dir|mode");
    let (env, db) = open(dir.as_ref(), mode);
    let mut next = last_committed(&db, &env.read_txn().unwrap()) + 1;
    loop {
        let mut wtxn = env.write_txn().unwrap();
        for i in 0..PER_TXN {
            let v = value(next, i);
            if i.is_multiple_of(3) {
                db.put_reserved(&mut wtxn, &key(next, i), v.len(), |space| {
                    std::io::Write::write_all(space, &v)
                })
                .unwrap();
            } else {
                db.put(&mut wtxn, &key(next, i), &v).unwrap();
            }
        }
        db.put(&mut wtxn, "last", &next.to_be_bytes()).unwrap();
        if next.is_multiple_of(2) && hedge::PATCHED_LMDB {
            // Nested readers of the uncommitted txn, on threads, while the parent waits.
            let readers: Vec<_> = (0..3).map(|_| wtxn.nested_read_txn().unwrap()).collect();
            println!("readers {next}");
            std::thread::scope(|s| {
                for r in readers {
                    s.spawn(move || {
                        for i in 0..PER_TXN {
                            assert_eq!(
                                db.get(&r, &key(next, i)).unwrap().map(<[u8]>::len),
                                Some(value(next, i).len())
                            );
                        }
                    });
                }
            });
        }
        println!("committing {next}");
        wtxn.commit().unwrap();
        println!("acked {next}");
        next += 1;
    }
}

/// Kills a child at a point chosen by `strategy`; returns the last txn known to be committed:
/// the last one the child acknowledged, or `baseline` (what the parent found committed before
/// starting it) when the child is killed before its first acknowledgement.
fn run_and_kill(dir: &std::path::Path, mode: &str, strategy: u64, seed: u64, baseline: u64) -> (u64, String) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
        .env(CHILD, format!("{}|{mode}", dir.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let events = Arc::new(Mutex::new(Vec::<(Instant, String)>::new()));
    let stdout = child.stdout.take().unwrap();
    let reader = {
        let events = Arc::clone(&events);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                events.lock().unwrap().push((Instant::now(), line));
            }
        })
    };
    let started = Instant::now();
    let wait_for = |prefix: &str, nth: usize| loop {
        let seen = events.lock().unwrap().iter().filter(|(_, l)| l.starts_with(prefix)).count();
        if seen > nth || started.elapsed() > Duration::from_secs(20) {
            break;
        }
        std::hint::spin_loop();
    };
    let what = match strategy % 3 {
        0 => {
            std::thread::sleep(Duration::from_micros(2_000 + seed % 150_000));
            "at a random time"
        }
        1 => {
            wait_for("committing", (seed % 20) as usize);
            std::thread::sleep(Duration::from_micros(seed % 400));
            "as a commit starts"
        }
        _ => {
            wait_for("readers", (seed % 10) as usize);
            "while nested readers are live"
        }
    };
    // SIGKILL: no cleanup, no unwinding, no flush.
    child.kill().unwrap();
    child.wait().unwrap();
    reader.join().unwrap();
    // The child goes on from what is committed, so its acknowledgements must be exactly
    // baseline + 1, baseline + 2, ...: a gap or a restart means it saw a different last commit
    // than the parent checked.
    let acks: Vec<u64> = events
        .lock()
        .unwrap()
        .iter()
        .filter_map(|(_, l)| l.strip_prefix("acked ").map(|t| t.parse().unwrap()))
        .collect();
    let expected: Vec<u64> = (baseline + 1..).take(acks.len()).collect();
    assert_eq!(acks, expected, "{mode}: the child did not go on from txn {baseline}");
    (acks.last().copied().unwrap_or(baseline), what.to_string())
}

#[test]
fn sigkill_at_random_points_keeps_every_acknowledged_commit_and_nothing_else() {
    let kills: u64 = std::env::var("HEDGE_CRASH_KILLS").ok().and_then(|k| k.parse().ok()).unwrap_or(6);
    let mut survived = 0;
    for mode in ["durable", "writemap", "no-meta-sync", "no-sync"] {
        let dir = tempfile::tempdir().unwrap();
        // What the previous kill left committed (checked in full below); a child killed before
        // it acknowledges anything has still committed at least this, and at most one more.
        let mut baseline = 0;
        for k in 0..kills {
            let (acked, what) = run_and_kill(dir.path(), mode, k, mix(k ^ mode.len() as u64), baseline);
            let (env, db) = open(dir.path(), mode);
            let rtxn = env.read_txn().unwrap();
            let last = last_committed(&db, &rtxn);
            assert!(
                last >= acked,
                "{mode}, kill {k} {what}: txn {acked} was acknowledged (or found before), only {last} is there"
            );
            assert!(
                last <= acked + 1,
                "{mode}, kill {k} {what}: {last} committed but only {acked} acknowledged (or found before)"
            );
            // Every committed txn is there in full, and nothing of a later one.
            let mut count = 0;
            for entry in db.iter(&rtxn).unwrap() {
                let (k, v) = entry.unwrap();
                if k == "last" {
                    continue;
                }
                let (t, i) = k[1..].split_once('-').unwrap();
                let (t, i): (u64, u64) = (t.parse().unwrap(), i.parse().unwrap());
                assert!(t <= last, "{mode}: {k} of uncommitted txn {t} is visible (last committed {last})");
                assert_eq!(v, value(t, i), "{mode}: {k} has the wrong value");
                count += 1;
            }
            assert_eq!(count, last * PER_TXN, "{mode}: entries of committed txns are missing");
            drop(rtxn);
            let report = env.check().unwrap();
            assert!(report.is_ok(), "{mode} after kill {k}: {:?}", report.problems);
            println!("{mode}: kill {k} {what}: acked {acked}, found {last} committed in full");
            env.prepare_for_closing().wait();
            baseline = last;
            survived += 1;
        }
    }
    println!("{survived} kills survived");
}

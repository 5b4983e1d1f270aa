//! Power loss: what a crash of the OS or a power failure can leave of the data file, in each
//! sync mode, and what hedge then finds. `crash_kill` cannot show this: the page cache
//! outlives a killed process.
//!
//! `tests/c/power/recorder.c` runs a short workload over LMDB built into it with its file I/O
//! logged: every write of `data.mdb` (offset and bytes), every sync barrier and the range it
//! made durable, every change of size, and when each commit started, was acknowledged
//! (`mdb_txn_commit` returned 0) and was made durable by an explicit `mdb_env_sync`. Under
//! `WRITE_MAP` the OS may write any dirty page of the map back at any time: each version a page
//! had at a recording point (each put, each commit, each msync) is logged as a write of it.
//!
//! From the log this test builds crash states, as ALICE does ("All File Systems Are Not Created
//! Equal", OSDI 2014): at every point between two logged events, the file holds everything
//! written before the last barrier covering it; of the writes since, any subset may be lost and
//! a write may be torn at 512-byte sector boundaries. Per point it checks the states the OS
//! could produce by writing back in order (every prefix of the pending writes, and that prefix
//! with the next write torn), every subset of the pending writes when they are few, and random
//! subsets and random sector-level tears otherwise. Each distinct state becomes a `data.mdb`
//! with no lock file (as after a reboot), opened with hedge: the open either succeeds or fails
//! with an error, `Env::check` runs, and when it is clean every entry is read and compared with
//! what the workload committed; then one more txn is committed and checked.
//!
//! What each mode must show:
//! - durable (default flags) and `WRITE_MAP`: every acknowledged commit is there; nothing of
//!   an unacknowledged one unless all of it; `Env::check` clean.
//! - `NO_META_SYNC`, with or without `WRITE_MAP`: as durable, except that the last
//!   acknowledged commit may be lost.
//! - `NO_SYNC` and `WRITE_MAP | MAP_ASYNC`: LMDB promises nothing for a power loss (its
//!   documentation: "a system crash can then corrupt the database or lose the last
//!   transactions"); the states written back in order must still be consistent and hold the
//!   last explicitly synced commit (they are what a killed process leaves), the others are
//!   counted, not asserted on.
//!
//! Every state, in every mode, must open or fail with an error, and never crash the process.
//! The workload runs over the patched and the pristine library. A negative control runs it on
//! a disk that ignores flushes and requires acknowledged commits to be lost. The measured
//! figures, and what the model leaves out: `docs/durability.md`.
//!
//! Knobs (`.ci/reliability` sets larger ones): `HEDGE_POWER_TXNS` txns per workload (default
//! 10), `HEDGE_POWER_SAMPLES` random states per crash point (default 4),
//! `HEDGE_POWER_SUBSETS` the most pending writes whose subsets are all tried (default 4),
//! `HEDGE_POWER_SEED` the sampling seed.

#![cfg(target_os = "linux")]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use hedge::types::{Bytes, Str};
use hedge::{CommitOrAbort, Database, Env, EnvFlags, EnvOpenOptions};

// The workload, as recorder.c runs it.
const PER_TXN: u64 = 12;
const MAP_SIZE: usize = 512 * 1024;
const SECTOR: u64 = 512;
const PAGE: u64 = 4096;

fn value_len(t: u64, i: u64) -> usize {
    if i.is_multiple_of(4) {
        4500 + ((t * 131 + i * 17) % 900) as usize
    } else {
        40 + ((t + i) % 60) as usize
    }
}

fn value(t: u64, i: u64) -> Vec<u8> {
    (0..value_len(t, i) as u64).map(|j| (t * 29 + i * 7 + j * 13 + (j >> 8)) as u8).collect()
}

fn key(t: u64, i: u64) -> String {
    format!("t{t:06}-{i:02}")
}

/// The database after each txn of the workload (index: the txn, 0 for none), computed once.
struct Model(Vec<BTreeMap<String, Vec<u8>>>);

impl Model {
    fn new(txns: u64) -> Model {
        Model(
            (0..=txns + 1)
                .map(|last| {
                    let mut db = BTreeMap::new();
                    if last > 0 {
                        // The entries of txns `last - 2` to `last`, and `last`.
                        for t in last.saturating_sub(2).max(1)..=last {
                            for i in 0..PER_TXN {
                                db.insert(key(t, i), value(t, i));
                            }
                        }
                        db.insert("last".to_string(), last.to_be_bytes().to_vec());
                    }
                    db
                })
                .collect(),
        )
    }

    fn after(&self, last: u64) -> &BTreeMap<String, Vec<u8>> {
        &self.0[last as usize]
    }
}

/// Txn `t` of the workload, through hedge.
fn commit_txn(env: &Env, db: &Database<Str, Bytes>, model: &Model, t: u64) -> hedge::Result<()> {
    let mut wtxn = env.write_txn()?;
    for i in 0..PER_TXN {
        let k = key(t, i);
        db.put(&mut wtxn, &k, &model.after(t)[&k])?;
    }
    if t > 3 {
        for i in 0..PER_TXN {
            db.delete(&mut wtxn, &key(t - 3, i))?;
        }
    }
    db.put(&mut wtxn, "scratch", &vec![0x5c; 8000])?;
    db.delete(&mut wtxn, "scratch")?;
    db.put(&mut wtxn, "last", &t.to_be_bytes())?;
    wtxn.commit()
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Promise {
    /// Every acknowledged commit survives.
    Durable,
    /// All but the last acknowledged commit survive.
    AllButLast,
    /// Nothing is promised for a power loss.
    None,
}

struct Mode {
    name: &'static str,
    flags: EnvFlags,
    promise: Promise,
}

const MODES: &[Mode] = &[
    Mode { name: "durable", flags: EnvFlags::empty(), promise: Promise::Durable },
    Mode { name: "writemap", flags: EnvFlags::WRITE_MAP, promise: Promise::Durable },
    Mode { name: "no-meta-sync", flags: EnvFlags::NO_META_SYNC, promise: Promise::AllButLast },
    Mode {
        name: "writemap-no-meta-sync",
        flags: EnvFlags::WRITE_MAP.union(EnvFlags::NO_META_SYNC),
        promise: Promise::AllButLast,
    },
    Mode { name: "no-sync", flags: EnvFlags::NO_SYNC, promise: Promise::None },
    Mode { name: "map-async", flags: EnvFlags::WRITE_MAP.union(EnvFlags::MAP_ASYNC), promise: Promise::None },
];

// The recorder's log.

enum Event {
    Write { off: u64, bytes: Vec<u8> },
    Barrier { start: u64, end: u64 },
    SetLen(u64),
    Mark { kind: u8, txn: u64 },
}

const MARK_STARTED: u8 = 1;
const MARK_ACKED: u8 = 2;
const MARK_SYNCED: u8 = 3;

fn parse_log(mut log: &[u8]) -> Vec<Event> {
    fn take<'a>(log: &mut &'a [u8], n: usize) -> &'a [u8] {
        let (head, rest) = log.split_at(n);
        *log = rest;
        head
    }
    let u64_of = |b: &[u8]| u64::from_le_bytes(b.try_into().unwrap());
    let mut events = Vec::new();
    while !log.is_empty() {
        let event = match take(&mut log, 1)[0] {
            b'W' => {
                let off = u64_of(take(&mut log, 8));
                let len = u32::from_le_bytes(take(&mut log, 4).try_into().unwrap()) as usize;
                Event::Write { off, bytes: take(&mut log, len).to_vec() }
            }
            b'B' => Event::Barrier { start: u64_of(take(&mut log, 8)), end: u64_of(take(&mut log, 8)) },
            b'S' => Event::SetLen(u64_of(take(&mut log, 8))),
            b'M' => {
                let kind = take(&mut log, 1)[0];
                Event::Mark { kind, txn: u64_of(take(&mut log, 8)) }
            }
            other => panic!("unknown record {other:#x} in the recorder's log"),
        };
        events.push(event);
    }
    events
}

/// Runs the recorder; `flushes_ignored` makes it log no barrier (a disk that ignores flushes).
fn record(recorder: &str, mode: &str, txns: u64, flushes_ignored: bool) -> Vec<Event> {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let env_dir = dir.path().join("env");
    std::fs::create_dir(&env_dir).unwrap();
    let mut command = std::process::Command::new(recorder);
    if flushes_ignored {
        command.env("HEDGE_REC_NO_BARRIERS", "1");
    }
    let out = command
        .arg(&env_dir)
        .arg(mode)
        .arg(txns.to_string())
        .arg(&log)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {recorder}: {e}"));
    assert!(out.status.success(), "{recorder} {mode}: {}", String::from_utf8_lossy(&out.stderr));
    parse_log(&std::fs::read(log).unwrap())
}

// Crash states.

/// A write not yet covered by a barrier, or a size change.
#[derive(Clone)]
enum Pending {
    Write { off: u64, bytes: Vec<u8> },
    SetLen(u64),
}

/// What happens to a pending unit in one crash state.
#[derive(Clone, Copy)]
enum Fate {
    Kept,
    Lost,
    /// Only the sectors whose bit is set (bit `i`: the write's `i`th sector, counted from the
    /// sector its first byte is in; bits past 63 follow bit 63).
    Torn(u64),
}

fn apply(file: &mut Vec<u8>, unit: &Pending, fate: Fate) {
    match (unit, fate) {
        (_, Fate::Lost) => {}
        (Pending::SetLen(_), Fate::Torn(kept)) if kept & 1 == 0 => {}
        (Pending::SetLen(len), _) => set_len(file, *len as usize),
        (Pending::Write { off, bytes }, Fate::Kept) => write_at(file, *off, bytes),
        (Pending::Write { off, bytes }, Fate::Torn(sectors)) => {
            let mut pos = *off;
            let end = off + bytes.len() as u64;
            let mut n = 0;
            while pos < end {
                let next = ((pos / SECTOR + 1) * SECTOR).min(end);
                if sectors >> n.min(63) & 1 == 1 {
                    write_at(file, pos, &bytes[(pos - off) as usize..(next - off) as usize]);
                }
                pos = next;
                n += 1;
            }
        }
    }
}

fn write_at(file: &mut Vec<u8>, off: u64, bytes: &[u8]) {
    let end = off as usize + bytes.len();
    if file.len() < end {
        set_len(file, end);
    }
    file[off as usize..end].copy_from_slice(bytes);
}

/// `Vec::resize` by memcpy of zeroed memory: the per-byte loop `resize` is in an unoptimised
/// test build dominated the whole run.
fn set_len(file: &mut Vec<u8>, len: usize) {
    if len <= file.len() {
        file.truncate(len);
    } else {
        file.extend_from_slice(&vec![0; len - file.len()]);
    }
}

/// What identifies a state among those built on one durable file: the units not lost and
/// the sectors kept of each torn one (a tear keeping all or no sectors is no tear).
fn fate_key(pending: &[Pending], fates: &[Fate]) -> Vec<(usize, u64)> {
    pending
        .iter()
        .zip(fates)
        .enumerate()
        .filter_map(|(i, (unit, fate))| {
            let all = u64::MAX >> (64 - sectors(unit).min(64));
            match *fate {
                Fate::Lost => None,
                Fate::Kept => Some((i, all)),
                Fate::Torn(kept) if kept & all == 0 => None,
                Fate::Torn(kept) => Some((i, kept & all)),
            }
        })
        .collect()
}

fn sectors(unit: &Pending) -> u64 {
    match unit {
        Pending::Write { off, bytes } => (off + bytes.len() as u64).div_ceil(SECTOR) - off / SECTOR,
        Pending::SetLen(_) => 1,
    }
}

/// The file a sync barrier over `[start, end)` leaves durable, and what stays pending.
fn barrier(durable: &mut Vec<u8>, pending: &mut Vec<Pending>, start: u64, end: u64) {
    let mut still = Vec::new();
    for unit in pending.drain(..) {
        match unit {
            // Size changes reach the disk with the next sync of the file.
            Pending::SetLen(_) => apply(durable, &unit, Fate::Kept),
            Pending::Write { off, ref bytes } => {
                let w_end = off + bytes.len() as u64;
                let (lo, hi) = (off.max(start), w_end.min(end));
                if lo >= hi {
                    still.push(unit);
                    continue;
                }
                write_at(durable, lo, &bytes[(lo - off) as usize..(hi - off) as usize]);
                if off < lo {
                    still.push(Pending::Write { off, bytes: bytes[..(lo - off) as usize].to_vec() });
                }
                if hi < w_end {
                    still.push(Pending::Write { off: hi, bytes: bytes[(hi - off) as usize..].to_vec() });
                }
            }
        }
    }
    *pending = still;
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// The fates to try for `n` pending units at one crash point, each marked as a write-back in
/// order (a prefix of the pending writes, the last maybe torn) or not.
fn fates(pending: &[Pending], knobs: &Knobs, rng: &mut Rng) -> Vec<(bool, Vec<Fate>)> {
    let n = pending.len();
    let mut out = Vec::new();
    for kept in 0..=n {
        let mut f: Vec<Fate> = (0..n).map(|i| if i < kept { Fate::Kept } else { Fate::Lost }).collect();
        out.push((true, f.clone()));
        if kept < n && sectors(&pending[kept]) > 1 {
            let cut = 1 + rng.below(sectors(&pending[kept]).min(64) - 1);
            f[kept] = Fate::Torn((1u64 << cut) - 1);
            out.push((true, f));
        }
    }
    if n <= knobs.subsets {
        for mask in 0u64..1 << n {
            out.push((
                false,
                (0..n).map(|i| if mask >> i & 1 == 1 { Fate::Kept } else { Fate::Lost }).collect(),
            ));
        }
    } else {
        for _ in 0..knobs.samples {
            out.push((
                false,
                (0..n).map(|_| if rng.next() & 1 == 1 { Fate::Kept } else { Fate::Lost }).collect(),
            ));
        }
    }
    if n > 0 {
        for _ in 0..knobs.samples {
            let f = (0..n)
                .map(|_| match rng.below(3) {
                    0 => Fate::Kept,
                    1 => Fate::Lost,
                    _ => Fate::Torn(rng.next()),
                })
                .collect();
            out.push((false, f));
        }
    }
    out
}

// Checking a state.

/// What hedge found in a crash state.
#[derive(Clone, Debug)]
enum Found {
    /// The state of txn `last` exactly (0: nothing committed yet), `Env::check` clean.
    Committed(u64),
    /// The open failed with this error.
    Refused(String),
    /// `Env::check` found problems.
    Damaged(Vec<String>),
    /// `Env::check` was clean but the entries are not those of any commit: part of a txn is
    /// visible, or a committed entry is wrong.
    Mixed(String),
    /// hedge panicked (the state's file is kept, named here, for a reproducer).
    Panicked(String),
}

/// Opens the env in `dir` (its `data.mdb` just written, no lock file), checks it, reads it,
/// then commits the next txn of the workload and checks again.
fn examine(dir: &Path, flags: EnvFlags, model: &Model) -> Found {
    // SAFETY (tests): a scratch directory nothing else uses; the flags are LMDB's own.
    let env = match unsafe { EnvOpenOptions::new().flags(flags).map_size(MAP_SIZE).max_dbs(2).open(dir) } {
        Ok(env) => env,
        Err(e) => return Found::Refused(e.to_string()),
    };
    let found = examine_open(&env, model);
    env.prepare_for_closing().wait();
    found
}

/// Every entry of `db`, read in a new read txn.
fn read_all(env: &Env, db: &Database<Str, Bytes>) -> BTreeMap<String, Vec<u8>> {
    let rtxn = env.read_txn().unwrap();
    db.iter(&rtxn)
        .unwrap()
        .map(|e| e.map(|(k, v)| (k.to_string(), v.to_vec())))
        .collect::<Result<_, _>>()
        .unwrap()
}

fn examine_open(env: &Env, model: &Model) -> Found {
    let report = env.check().expect("Env::check runs");
    if !report.is_ok() {
        return Found::Damaged(report.problems);
    }
    let rtxn = env.read_txn().unwrap();
    let db: Option<Database<Str, Bytes>> = env
        .open_databases_and_commit(rtxn, |o, r| {
            o.open_database(r, Some("power")).map(CommitOrAbort::<_, ()>::Commit)
        })
        .unwrap()
        .unwrap_commit();
    let (last, entries) = match db {
        None => (0, BTreeMap::new()),
        Some(db) => {
            let entries = read_all(env, &db);
            let last =
                entries.get("last").map_or(0, |v| u64::from_be_bytes(v.as_slice().try_into().unwrap()));
            (last, entries)
        }
    };
    if last as usize >= model.0.len() - 1 {
        return Found::Mixed(format!("last = {last}: no such txn"));
    }
    let expected = model.after(last);
    if &entries != expected {
        let extra: Vec<&String> =
            entries.keys().filter(|k| entries.get(*k) != expected.get(*k)).take(4).collect();
        let missing: Vec<&String> = expected.keys().filter(|k| !entries.contains_key(*k)).take(4).collect();
        return Found::Mixed(format!("last = {last}; wrong or extra: {extra:?}; missing: {missing:?}"));
    }
    // Recovery goes on: the next txn commits on top of what was found.
    let db: Database<Str, Bytes> = env
        .create_databases_and_commit(env.write_txn().unwrap(), |o, w| {
            o.create_database(w, Some("power")).map(CommitOrAbort::<_, ()>::Commit)
        })
        .unwrap()
        .unwrap_commit();
    if let Err(e) = commit_txn(env, &db, model, last + 1) {
        return Found::Mixed(format!("last = {last}; the next commit failed: {e}"));
    }
    let report = env.check().expect("Env::check runs");
    if !report.is_ok() {
        return Found::Damaged(
            report.problems.into_iter().map(|p| format!("after the next commit: {p}")).collect(),
        );
    }
    if &read_all(env, &db) != model.after(last + 1) {
        return Found::Mixed(format!("last = {last}; after the next commit the entries are wrong"));
    }
    Found::Committed(last)
}

/// What made a state refused or damaged, in a few words (no numbers, no paths).
fn reason(found: &Found) -> Option<String> {
    let text = match found {
        // The error names the directory first.
        Found::Refused(e) if e.starts_with('/') => {
            format!("refused: {}", e.split_once(": ").map_or("", |(_, rest)| rest))
        }
        Found::Refused(e) => format!("refused: {e}"),
        Found::Damaged(problems) => format!("damaged: {}", problems[0]),
        Found::Panicked(text) => format!("panicked: {text}"),
        _ => return None,
    };
    let mut short = String::new();
    for c in text.chars().take(100) {
        let c = if c.is_ascii_digit() { '#' } else { c };
        if !(c == '#' && short.ends_with('#')) {
            short.push(c);
        }
    }
    Some(short)
}

/// Whether the data file is shorter than the newest meta page's last page says: hedge's
/// truncation guard then walks the free list at open.
fn short_file(file: &[u8]) -> bool {
    let meta = |m: usize| -> Option<(u64, u64)> {
        let page = file.get(m * PAGE as usize..(m + 1) * PAGE as usize)?;
        let u64_at = |o: usize| u64::from_le_bytes(page[o..o + 8].try_into().unwrap());
        (u32::from_le_bytes(page[16..20].try_into().unwrap()) == 0xBEEF_C0DE)
            .then(|| (u64_at(16 + 128), u64_at(16 + 120)))
    };
    match (meta(0), meta(1)) {
        (Some(a), Some(b)) => (a.max(b).1 + 1) * PAGE > file.len() as u64,
        (Some(m), None) | (None, Some(m)) => (m.1 + 1) * PAGE > file.len() as u64,
        (None, None) => false,
    }
}

struct Knobs {
    txns: u64,
    samples: usize,
    subsets: usize,
    seed: u64,
}

impl Knobs {
    fn from_env() -> Knobs {
        let var = |name: &str, default: u64| {
            std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
        };
        Knobs {
            txns: var("HEDGE_POWER_TXNS", 10),
            samples: var("HEDGE_POWER_SAMPLES", 4) as usize,
            subsets: var("HEDGE_POWER_SUBSETS", 4) as usize,
            seed: var("HEDGE_POWER_SEED", 0x5eed),
        }
    }
}

/// What one mode's crash states showed.
#[derive(Default)]
struct Tally {
    points: u64,
    built: u64,
    /// Crash states checked: a file and what had been acknowledged when it was left.
    checked: u64,
    /// Distinct files among them (each opened once).
    files: u64,
    in_order: u64,
    committed: u64,
    refused: u64,
    damaged: u64,
    mixed: u64,
    short: u64,
    /// Acknowledged commits lost → states.
    lost: BTreeMap<u64, u64>,
    /// States that do not hold intact a commit an explicit `mdb_env_sync` had made durable
    /// (refused, damaged, partial), by the commits started since that sync.
    lost_synced: BTreeMap<u64, u64>,
    /// Consistent states that hold an older commit than the last explicitly synced one.
    rolled_back_synced: u64,
    mixed_examples: Vec<String>,
    /// The kinds of errors the refused opens gave, and the first problem of damaged states.
    reasons: BTreeMap<String, u64>,
    violations: Vec<String>,
}

impl Tally {
    fn line(&self, mode: &str) -> String {
        format!(
            "{mode}: {} crash points, {} states built, {} distinct crash states checked ({} files; {} written back in order): \
             {} consistent, {} refused at open, {} damaged, {} partial/wrong; acknowledged commits lost \
             (lost: states) {:?}; {} consistent states older than the last explicit sync; states without the \
             explicitly synced commit intact (commits started since the sync: states) {:?}; {} had a short data file",
            self.points,
            self.built,
            self.checked,
            self.files,
            self.in_order,
            self.committed,
            self.refused,
            self.damaged,
            self.mixed,
            self.lost,
            self.rolled_back_synced,
            self.lost_synced,
            self.short
        )
    }
}

fn run_mode(recorder: &str, mode: &Mode, knobs: &Knobs, flushes_ignored: bool) -> Tally {
    let events = record(recorder, mode.name, knobs.txns, flushes_ignored);
    let model = Model::new(knobs.txns);
    // In memory when possible: each state is written and opened once.
    let scratch = tempfile::tempdir_in("/dev/shm").or_else(|_| tempfile::tempdir()).unwrap();
    let data = scratch.path().join("data.mdb");
    let lock = scratch.path().join("lock.mdb");
    let mut rng = Rng(knobs.seed ^ mode.name.len() as u64);
    let mut tally = Tally::default();
    // Crash states already checked (the file's key and what was acknowledged), and what hedge
    // found in each distinct file.
    let mut seen = HashSet::new();
    let mut opened = HashMap::new();
    let (mut durable, mut pending) = (Vec::new(), Vec::new());
    // Counts the barriers: states built on different durable files never share a key.
    let mut generation = 0u64;
    let (mut started, mut acked, mut synced) = (0u64, 0u64, 0u64);
    for at in 0..=events.len() {
        tally.points += 1;
        for (in_order, fate) in fates(&pending, knobs, &mut rng) {
            tally.built += 1;
            let key = (generation, fate_key(&pending, &fate));
            if !seen.insert((key.clone(), acked, started, synced, in_order)) {
                continue;
            }
            tally.checked += 1;
            tally.in_order += u64::from(in_order);
            let (found, short) = opened.entry(key).or_insert_with(|| {
                let mut file = durable.clone();
                for (unit, f) in pending.iter().zip(&fate) {
                    apply(&mut file, unit, *f);
                }
                std::fs::write(&data, &file).unwrap();
                let _ = std::fs::remove_file(&lock);
                let found = std::panic::catch_unwind(|| examine(scratch.path(), mode.flags, &model))
                    .unwrap_or_else(|panic| {
                        let kept = std::env::temp_dir()
                            .join(format!("crash_power-{}-{at}-{}.mdb", mode.name, tally.built));
                        std::fs::write(&kept, &file).unwrap();
                        let text = panic.downcast_ref::<String>().cloned().unwrap_or_default();
                        Found::Panicked(format!("{text} (the file: {})", kept.display()))
                    });
                (found, short_file(&file))
            });
            let (found, short) = (found.clone(), *short);
            if let Some(reason) = reason(&found) {
                let when = match (acked, synced) {
                    (0, _) => "nothing acknowledged yet",
                    (_, 0) => "before any explicit sync",
                    _ => "after an explicit sync",
                };
                *tally.reasons.entry(format!("[{when}] {reason}")).or_default() += 1;
            }
            tally.short += u64::from(short);
            let what = format!(
                "{}, after event {at} (acked {acked}, started {started}, synced {synced}, {} pending, {}{}): {found:?}",
                mode.name,
                pending.len(),
                if in_order { "written back in order" } else { "reordered" },
                if short { ", short file" } else { "" }
            );
            // The commit every such state must hold (`None`: it may hold anything, even be
            // damaged). A state written back in order is one the file had at some moment
            // after the last sync: consistent, whatever the mode.
            let required = match mode.promise {
                Promise::Durable => Some(acked),
                Promise::AllButLast => Some(acked.saturating_sub(1).max(synced)),
                Promise::None => in_order.then_some(synced),
            };
            if synced > 0 && !matches!(found, Found::Committed(_)) {
                *tally.lost_synced.entry(started - synced).or_default() += 1;
            }
            match &found {
                Found::Committed(last) => {
                    tally.committed += 1;
                    if *last < acked {
                        *tally.lost.entry(acked - last).or_default() += 1;
                    }
                    tally.rolled_back_synced += u64::from(*last < synced);
                    if *last > started || required.is_some_and(|r| *last < r) {
                        tally.violations.push(what);
                    }
                }
                // Before anything was made durable, the file may be no env yet.
                Found::Refused(_) => {
                    tally.refused += 1;
                    if required.is_some_and(|r| r > 0) {
                        tally.violations.push(what);
                    }
                }
                Found::Panicked(_) => tally.violations.push(what),
                Found::Damaged(_) | Found::Mixed(_) => {
                    if let Found::Mixed(entries) = &found {
                        tally.mixed += 1;
                        tally.mixed_examples.push(format!("{}, after event {at}: {entries}", mode.name));
                    } else {
                        tally.damaged += 1;
                    }
                    if required.is_some() {
                        tally.violations.push(what);
                    }
                }
            }
        }
        let Some(event) = events.get(at) else { break };
        match event {
            Event::Write { off, bytes } => pending.push(Pending::Write { off: *off, bytes: bytes.clone() }),
            Event::SetLen(len) => pending.push(Pending::SetLen(*len)),
            Event::Barrier { start, end } => {
                barrier(&mut durable, &mut pending, *start, *end);
                generation += 1;
            }
            Event::Mark { kind, txn } => match *kind {
                MARK_STARTED => started = *txn,
                MARK_ACKED => acked = *txn,
                MARK_SYNCED => synced = *txn,
                other => panic!("unknown mark {other}"),
            },
        }
    }
    tally.files = opened.len() as u64;
    tally
}

fn run_all(recorder: &str, variant: &str) {
    let knobs = Knobs::from_env();
    println!(
        "{variant}: {} txns per workload, {} samples and all subsets of up to {} pending writes per crash point, seed {:#x}",
        knobs.txns, knobs.samples, knobs.subsets, knobs.seed
    );
    let mut failures = Vec::new();
    for mode in MODES {
        let tally = run_mode(recorder, mode, &knobs, false);
        println!("{variant} {}", tally.line(mode.name));
        for v in tally.violations.iter().take(5) {
            println!("  VIOLATION {v}");
        }
        let mut reasons: Vec<_> = tally.reasons.iter().collect();
        reasons.sort_by(|a, b| b.1.cmp(a.1));
        // Every kind of refusal, and the commonest kinds of damage.
        let refusals = reasons.iter().filter(|(r, _)| r.contains("] refused"));
        for (reason, n) in refusals.chain(reasons.iter().filter(|(r, _)| !r.contains("] refused")).take(6)) {
            println!("  {n:5} {reason}");
        }
        for m in tally.mixed_examples.iter().take(3) {
            println!("  partial state (allowed in this mode): {m}");
        }
        if !tally.violations.is_empty() {
            failures.push(format!(
                "{}: {} states broke the mode's promise",
                mode.name,
                tally.violations.len()
            ));
        }
    }
    assert!(failures.is_empty(), "{variant}: {failures:?}");
}

#[test]
fn power_loss_keeps_what_each_mode_promises_patched() {
    run_all(hedge_tests::built::POWER_RECORDER, "patched");
}

/// The same workload over pristine LMDB: what the patches change of the writes (patch 0001
/// leaves freed dirty overflow pages unwritten) must not change what survives.
#[test]
fn power_loss_keeps_what_each_mode_promises_pristine() {
    run_all(hedge_tests::built::POWER_RECORDER_PRISTINE, "pristine");
}

/// The negative control: the same durable workload on a disk that ignores every flush must
/// lose acknowledged commits here, or the checks above could not fail.
#[test]
fn a_disk_that_ignores_flushes_loses_acknowledged_commits() {
    let knobs = Knobs { txns: 6, samples: 4, subsets: 4, seed: 0x5eed };
    for mode in MODES.iter().filter(|m| m.promise == Promise::Durable) {
        let tally = run_mode(hedge_tests::built::POWER_RECORDER, mode, &knobs, true);
        println!("{} with flushes ignored: {}", mode.name, tally.line(mode.name));
        assert!(
            tally.lost.keys().any(|&lost| lost > 0) && !tally.violations.is_empty(),
            "{}: no state lost an acknowledged commit although no write was ever made durable",
            mode.name
        );
    }
}

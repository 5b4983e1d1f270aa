//! Hostile data files: damaged or crafted copies of a real environment are opened and read
//! in a child process each, with and without `Env::check` first (the child reads everything
//! whatever the check found), then changed in one write txn per database and committed.
//! Reading and writing may fail (LMDB's `MDB_CORRUPTED` and friends, hedge's own refusals),
//! but the child must exit normally: a crash, an abort or a hang is a failure (patch 0009
//! makes LMDB check what it reads, and the pages a write txn changes).
//!
//! The environment: four txns over named databases, a plain one with overflow values, a
//! `DUP_SORT` one with sub-pages and sub-databases, a `DUP_SORT | DUP_FIXED` one (LEAF2 pages),
//! with deletes, so that the free list is not empty. Each case copies it and damages it:
//! bit flips, page headers, node offsets and node headers, a page copied over another,
//! two pages swapped, truncation, child and overflow page numbers and sub-database roots
//! out of range, crafted meta pages, sub-pages and LEAF2 key sizes, or several at once.
//!
//! `HEDGE_HOSTILE_CASES` (default 60) sets the number of mutated files, `HEDGE_HOSTILE_SEED`
//! the first seed; `.ci/reliability` runs a larger batch, and a small one with every child
//! under valgrind memcheck (`HEDGE_HOSTILE_VALGRIND=1`, or the path of a suppressions file).
//! The files in `tests/data/hostile/` (each the template's bytes it changes) crashed the
//! patched library once and are replayed in every run; `HEDGE_HOSTILE_KEEP=DIR` writes every
//! file that fails to DIR in that form, with an environment holding it next to it. Against
//! the pristine library (`--features pristine-lmdb`) the test only counts the failures.

use std::fmt::Write as _;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use hedge::types::Bytes;
use hedge::{CommitOrAbort, Database, DatabaseFlags, EnvFlags, EnvOpenOptions};

const CHILD: &str = "HEDGE_HOSTILE_CHILD";
const PAGE: usize = 4096;
const HDR: usize = 16;

use hedge_tests::mix;

/// A small deterministic generator for the mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = mix(self.0);
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

fn open_env(dir: &Path) -> hedge::Result<hedge::Env> {
    // SAFETY (tests): each environment is a private copy that only this process opens.
    unsafe { EnvOpenOptions::new().map_size(64 << 20).max_dbs(8).flags(EnvFlags::empty()).open(dir) }
}

fn value(i: u64, len: usize) -> Vec<u8> {
    (0..len).map(|j| (mix(i) >> (j % 8 * 8)) as u8 ^ j as u8).collect()
}

/// Writes the template environment into `dir` (see the module documentation) and returns
/// its data file.
fn build_template(dir: &Path) -> Vec<u8> {
    let env = open_env(dir).unwrap();
    let wtxn = env.write_txn().unwrap();
    let (plain, dups, fixed): (Database<Bytes, Bytes>, Database<Bytes, Bytes>, Database<Bytes, Bytes>) = env
        .create_databases_and_commit(wtxn, |opener, wtxn| {
            let plain = opener.create_database(wtxn, Some("plain"))?;
            let mut options = opener.database_options().types::<Bytes, Bytes>();
            let dups = options.name("dups").flags(DatabaseFlags::DUP_SORT).create(wtxn)?;
            let fixed = options
                .name("fixed")
                .flags(DatabaseFlags::DUP_SORT | DatabaseFlags::DUP_FIXED)
                .create(wtxn)?;
            Ok::<_, hedge::Error>(CommitOrAbort::<_, ()>::Commit((plain, dups, fixed)))
        })
        .unwrap()
        .unwrap_commit();
    for round in 0..4u64 {
        let mut wtxn = env.write_txn().unwrap();
        for i in 0..600u64 {
            let k = format!("key-{:05}", i * 4 + round);
            let len =
                if i % 40 == 7 { 5000 + (i as usize * 37) % 9000 } else { 30 + (i as usize * 13) % 170 };
            plain.put(&mut wtxn, k.as_bytes(), &value(i ^ round << 32, len)).unwrap();
        }
        for i in 0..60u64 {
            let k = format!("dup-{:03}-{round}", i);
            let n = if i % 12 == 5 { 250 } else { 1 + i % 6 };
            for d in 0..n {
                dups.put(
                    &mut wtxn,
                    k.as_bytes(),
                    format!("d{d:04}-{}", "x".repeat((d % 9) as usize)).as_bytes(),
                )
                .unwrap();
            }
        }
        for i in 0..20u64 {
            let k = format!("fix-{:03}-{round}", i);
            let n = if i % 5 == 2 { 600 } else { 1 + i % 4 };
            for d in 0..n {
                fixed.put(&mut wtxn, k.as_bytes(), &(d * 7919 + i).to_be_bytes()).unwrap();
            }
        }
        if round > 0 {
            // Deletes and overwrites of the previous rounds: free pages, a longer free list.
            for i in (0..600u64).step_by(3) {
                plain.delete(&mut wtxn, format!("key-{:05}", i * 4 + round - 1).as_bytes()).unwrap();
            }
            dups.delete(&mut wtxn, format!("dup-005-{}", round - 1).as_bytes()).unwrap();
        }
        wtxn.commit().unwrap();
    }
    let report = env.check().unwrap();
    assert!(report.is_ok(), "the template is sound: {report:?}");
    env.prepare_for_closing().wait();
    std::fs::read(dir.join("data.mdb")).unwrap()
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn put_u16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_le_bytes());
}

fn put_u64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

/// Pages of the template by kind (from their header flags).
struct Layout {
    pages: usize,
    branches: Vec<usize>,
    leaves: Vec<usize>,
    overflows: Vec<usize>,
}

fn layout(b: &[u8]) -> Layout {
    let pages = b.len() / PAGE;
    let (mut branches, mut leaves, mut overflows) = (vec![], vec![], vec![]);
    let mut p = 2;
    while p < pages {
        let flags = u16_at(b, p * PAGE + 10);
        if flags & 0x04 != 0 {
            overflows.push(p);
            p += (u32::from_le_bytes(b[p * PAGE + 12..p * PAGE + 16].try_into().unwrap()) as usize).max(1);
            continue;
        }
        if flags & 0x01 != 0 {
            branches.push(p);
        } else if flags & 0x02 != 0 {
            leaves.push(p);
        }
        p += 1;
    }
    Layout { pages, branches, leaves, overflows }
}

/// Offsets in the file of the nodes of tree page `p` (within the page only).
fn nodes(b: &[u8], p: usize) -> Vec<usize> {
    let base = p * PAGE;
    let lower = u16_at(b, base + 12) as usize;
    // A damaged lower may count more pointers than the page holds.
    let n = (lower.saturating_sub(HDR) / 2).min((PAGE - HDR) / 2);
    (0..n)
        .map(|i| u16_at(b, base + HDR + 2 * i) as usize)
        .filter(|&off| off + 8 <= PAGE)
        .map(|off| base + off)
        .collect()
}

/// A random u16 that is often near a boundary.
fn wild16(r: &mut Rng, around: u16) -> u16 {
    match r.below(6) {
        0 => r.next() as u16,
        1 => PAGE as u16 - 1 - r.below(16) as u16,
        2 => r.below(HDR + 4) as u16,
        3 => around.wrapping_add(r.below(64) as u16).wrapping_sub(32),
        4 => 0xffff - r.below(8) as u16,
        _ => around ^ (1 << r.below(16)),
    }
}

fn wild_pgno(r: &mut Rng, pages: usize) -> u64 {
    match r.below(5) {
        0 => r.below(2) as u64,
        1 => (pages + r.below(64)) as u64,
        2 => r.next(),
        3 => (pages - 1 - r.below(4.min(pages - 2))) as u64,
        _ => r.below(pages) as u64,
    }
}

/// Nodes of leaf pages whose flags match `mask` exactly in `want` (F_BIGDATA 1, F_SUBDATA 2,
/// F_DUPDATA 4), as file offsets.
fn leaf_nodes(b: &[u8], l: &Layout, mask: u16, want: u16) -> Vec<usize> {
    l.leaves.iter().flat_map(|&p| nodes(b, p)).filter(|&n| u16_at(b, n + 4) & mask == want).collect()
}

const KINDS: usize = 12;

/// Applies mutation `kind` to `b`; returns what it did.
fn mutate_once(b: &mut Vec<u8>, l: &Layout, kind: usize, r: &mut Rng) -> String {
    let pick = |v: &[usize], r: &mut Rng| v.get(r.below(v.len())).copied();
    match kind {
        0 => {
            let n = 1 + r.below(8);
            for _ in 0..n {
                let at = 2 * PAGE + r.below(b.len() - 2 * PAGE);
                b[at] ^= 1 << r.below(8);
            }
            format!("{n} bit flips")
        }
        1 => {
            let p = 2 + r.below(l.pages - 2);
            let base = p * PAGE;
            match r.below(5) {
                0 => put_u64(b, base, wild_pgno(r, l.pages)),
                f @ 1..=3 => {
                    let at = base + 8 + 2 * f;
                    let v = wild16(r, u16_at(b, at));
                    put_u16(b, at, v);
                }
                _ => b[base + 12..base + 16].copy_from_slice(&(r.next() as u32 >> r.below(32)).to_le_bytes()),
            }
            format!("header of page {p}")
        }
        2 => {
            let Some(p) = pick(&[&l.branches[..], &l.leaves[..]].concat(), r) else {
                return "nothing".into();
            };
            let base = p * PAGE;
            let n = (u16_at(b, base + 12) as usize).saturating_sub(HDR) / 2;
            let i = r.below(n + 2);
            let at = base + HDR + 2 * i;
            let v = wild16(r, u16_at(b, at));
            put_u16(b, at, v);
            format!("node offset {i} of page {p}")
        }
        3 => {
            let all: Vec<usize> =
                [&l.branches[..], &l.leaves[..]].concat().iter().flat_map(|&p| nodes(b, p)).collect();
            let Some(n) = pick(&all, r) else { return "nothing".into() };
            let field = r.below(4);
            let v = wild16(r, u16_at(b, n + 2 * field));
            put_u16(b, n + 2 * field, v);
            format!("node header field {field} at {n}")
        }
        4 => {
            let (from, to) = (2 + r.below(l.pages - 2), 2 + r.below(l.pages - 2));
            b.copy_within(from * PAGE..(from + 1) * PAGE, to * PAGE);
            format!("page {from} copied over page {to}")
        }
        5 => {
            let (x, y) = (2 + r.below(l.pages - 2), 2 + r.below(l.pages - 2));
            for i in 0..PAGE {
                b.swap(x * PAGE + i, y * PAGE + i);
            }
            format!("pages {x} and {y} swapped")
        }
        6 => {
            let len = if r.chance(50) {
                PAGE * (2 + r.below(l.pages - 2))
            } else {
                2 * PAGE + r.below(b.len() - 2 * PAGE)
            };
            b.truncate(len);
            format!("truncated to {len}")
        }
        7 => match r.below(3) {
            0 => {
                let all: Vec<usize> = l.branches.iter().flat_map(|&p| nodes(b, p)).collect();
                let Some(n) = pick(&all, r) else { return "nothing".into() };
                let pg = wild_pgno(r, l.pages);
                put_u16(b, n, pg as u16);
                put_u16(b, n + 2, (pg >> 16) as u16);
                put_u16(b, n + 4, (pg >> 32) as u16);
                format!("child pointer at {n} to {pg}")
            }
            1 => {
                let Some(n) = pick(&leaf_nodes(b, l, 1, 1), r) else { return "nothing".into() };
                let at = n + 8 + u16_at(b, n + 6) as usize;
                if at + 8 > b.len() {
                    return "nothing".into();
                }
                let pg = wild_pgno(r, l.pages);
                put_u64(b, at, pg);
                format!("overflow pointer at {n} to {pg}")
            }
            _ => {
                let Some(n) = pick(&leaf_nodes(b, l, 2, 2), r) else { return "nothing".into() };
                let at = n + 8 + u16_at(b, n + 6) as usize;
                if at + 48 > b.len() {
                    return "nothing".into();
                }
                let pg = wild_pgno(r, l.pages);
                put_u64(b, at + 40, pg);
                format!("sub-database root at {n} to {pg}")
            }
        },
        8 => {
            let m = r.below(2) * PAGE + HDR;
            let (field, v) = match r.below(8) {
                0 => (120, (l.pages as u64).wrapping_add(r.below(40) as u64).wrapping_sub(20)),
                1 => (24 + 40, wild_pgno(r, l.pages)),
                2 => (72 + 40, wild_pgno(r, l.pages)),
                3 => (128, r.next() >> r.below(64)),
                4 => (72 + 32, r.next()),
                5 => (24, r.next() >> 32),
                6 => (72 + 4, r.next() >> 48),
                _ => (120, r.next()),
            };
            if field == 24 || field == 72 + 4 {
                // mm_psize (with md_flags of the free DB), or the main DB's flags and depth
                let bytes = (v as u32).to_le_bytes();
                b[m + field..m + field + 4].copy_from_slice(&bytes);
            } else {
                put_u64(b, m + field, v);
            }
            format!("meta page {} field {field}", m / PAGE)
        }
        10 => {
            let Some(n) = pick(&leaf_nodes(b, l, 6, 4), r) else { return "nothing".into() };
            let sub = n + 8 + u16_at(b, n + 6) as usize;
            let size = u16_at(b, n) as usize;
            if sub + HDR > b.len() {
                return "nothing".into();
            }
            let at = match r.below(4) {
                0 => sub + 10,
                1 => sub + 12,
                2 => sub + 14,
                _ => sub + HDR + 2 * r.below(size.saturating_sub(HDR) / 2 + 1),
            };
            if at + 2 > b.len() {
                return "nothing".into();
            }
            let v = wild16(r, u16_at(b, at));
            put_u16(b, at, v);
            format!("sub-page at {sub}, field at {at}")
        }
        11 => {
            // The key size of LEAF2 pages: a DUP_FIXED sub-database's md_pad, or a sub-page's.
            let subdbs = leaf_nodes(b, l, 6, 6);
            let subpages = leaf_nodes(b, l, 6, 4);
            let (what, n) = if r.chance(50) {
                ("sub-database", pick(&subdbs, r))
            } else {
                ("sub-page", pick(&subpages, r))
            };
            let Some(n) = n else { return "nothing".into() };
            let at = n + 8 + u16_at(b, n + 6) as usize + if what == "sub-page" { 8 } else { 0 };
            if at + 4 > b.len() {
                return "nothing".into();
            }
            let v = match r.below(3) {
                0 => r.next() as u32,
                1 => 0,
                _ => u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
                    .wrapping_mul(1 + r.below(300) as u32),
            };
            b[at..at + 4].copy_from_slice(&v.to_le_bytes());
            format!("{what} key size at {at} to {v}")
        }
        _ => {
            let n = 2 + r.below(3);
            let mut what = String::new();
            for _ in 0..n {
                let k = [0, 1, 2, 3, 4, 7, 10, 11][r.below(8)];
                let _ = write!(what, "{}; ", mutate_once(b, l, k, r));
            }
            what
        }
    }
}

fn mutate(template: &[u8], l: &Layout, seed: u64) -> (Vec<u8>, String) {
    let mut r = Rng(seed.wrapping_mul(0x2545_f491_4f6c_dd1d) ^ 0x5eed);
    let mut b = template.to_vec();
    let kind = r.below(KINDS + 1);
    let kind = if kind == KINDS { 9 } else { kind };
    let what = mutate_once(&mut b, l, kind, &mut r);
    (b, what)
}

/// A mutation as a text file: the byte ranges that differ from the template, and the length.
fn describe(template: &[u8], file: &[u8], what: &str, seed: Option<u64>) -> String {
    let mut out = format!("# hostile data file: {what}\n");
    if let Some(seed) = seed {
        let _ = writeln!(out, "# seed {seed}");
    }
    let _ = writeln!(out, "template {:016x}\nlen {}", fingerprint(template), file.len());
    let mut i = 0;
    while i < file.len().min(template.len()) {
        if file[i] == template[i] {
            i += 1;
            continue;
        }
        let start = i;
        while i < file.len().min(template.len()) && file[i] != template[i] {
            i += 1;
        }
        let hex: String = file[start..i].iter().map(|x| format!("{x:02x}")).collect();
        let _ = writeln!(out, "at {start} {hex}");
    }
    out
}

/// The inverse of [`describe`].
fn apply(template: &[u8], text: &str) -> Vec<u8> {
    let mut b = template.to_vec();
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let mut parts = line.split_whitespace();
        match parts.next() {
            Some("template") => {
                let want = parts.next().unwrap_or("");
                if want != format!("{:016x}", fingerprint(template)) {
                    println!("note: this template differs from the one the file was made from");
                }
            }
            Some("len") => b.resize(parts.next().unwrap().parse().unwrap(), 0),
            Some("at") => {
                let at: usize = parts.next().unwrap().parse().unwrap();
                let hex = parts.next().unwrap();
                for (i, pair) in hex.as_bytes().chunks(2).enumerate() {
                    if at + i < b.len() {
                        b[at + i] = u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap();
                    }
                }
            }
            other => panic!("unknown line in a hostile file: {other:?}"),
        }
    }
    b
}

/// FNV-1a over the template's page headers and sizes: it names the layout, not the bytes of
/// unused space.
fn fingerprint(b: &[u8]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for p in 0..b.len() / PAGE {
        for &x in &b[p * PAGE..p * PAGE + HDR] {
            h = (h ^ x as u64).wrapping_mul(0x100_0000_01b3);
        }
    }
    h
}

/// What a child did, as the parent sees it.
#[derive(Debug, PartialEq)]
enum Outcome {
    Exited,
    Failed(String),
}

fn run_child(dir: &Path, check_first: bool) -> Outcome {
    let valgrind = std::env::var_os("HEDGE_HOSTILE_VALGRIND");
    let exe = std::env::current_exe().unwrap();
    let mut cmd = if let Some(supp) = &valgrind {
        let mut c = Command::new("valgrind");
        c.args(["-q", "--error-exitcode=99", "--leak-check=no"]);
        if supp != "1" {
            c.arg(format!("--suppressions={}", supp.to_string_lossy()));
        }
        c.arg(&exe);
        c
    } else {
        Command::new(&exe)
    };
    let mut child = cmd
        .args(["--exact", "hostile_child", "--nocapture", "--test-threads=1"])
        .env(CHILD, format!("{}|{}", dir.display(), if check_first { "check" } else { "read" }))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let limit = Duration::from_secs(if valgrind.is_some() { 300 } else { 30 });
    let started = Instant::now();
    let status: ExitStatus = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return Outcome::Failed(format!("hang: killed after {limit:?}"));
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let (mut stdout, mut stderr) = (String::new(), String::new());
    let _ = child.stdout.take().unwrap().read_to_string(&mut stdout);
    let _ = child.stderr.take().unwrap().read_to_string(&mut stderr);
    // What the child got through: its check's verdict, for one.
    let done: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.find("check: ").or_else(|| l.find("open: ")).map(|at| &l[at..]))
        .collect();
    if status.success() {
        return Outcome::Exited;
    }
    use std::os::unix::process::ExitStatusExt;
    let lines: Vec<&str> = stderr.lines().collect();
    let tail = format!("[{}]\n{}", done.join("; "), lines[lines.len().saturating_sub(6)..].join("\n"));
    match (status.signal(), status.code()) {
        (Some(sig), _) => Outcome::Failed(format!("signal {sig} {tail}")),
        (None, Some(99)) if valgrind.is_some() => Outcome::Failed(format!("memcheck errors {tail}")),
        (_, code) => Outcome::Failed(format!("exit {code:?} {tail}")),
    }
}

/// One way of reading a database: a read txn, the keys met so far, and where read bytes go.
type Pass<'a> = dyn Fn(&hedge::RoTxn, &mut Vec<Vec<u8>>, &mut dyn FnMut(&[u8])) -> hedge::Result<()> + 'a;

/// Reads everything hedge can reach: every named database forwards and backwards, gets of
/// the keys it met, duplicates, ranges. Errors end one database's reads (in a fresh txn for
/// the next); they are counted, not fatal.
fn read_everything(env: &hedge::Env) -> (u64, usize) {
    let mut touched = 0u64;
    let mut errors = 0usize;
    let mut sum =
        |bytes: &[u8]| touched = touched.wrapping_add(bytes.iter().map(|&x| x as u64).sum::<u64>() + 1);
    let names: Vec<(Vec<u8>, u16)> = match (|| -> hedge::Result<_> {
        let main: Database<Bytes, Bytes> = env
            .open_databases_and_commit(env.read_txn()?, |o, r| {
                o.open_database(r, None).map(CommitOrAbort::<_, ()>::Commit)
            })?
            .unwrap_commit()
            .expect("the unnamed database exists");
        let rtxn = env.read_txn()?;
        let mut names = vec![];
        for item in main.iter(&rtxn)? {
            let (k, v) = item?;
            let flags = if v.len() >= 6 { u16::from_le_bytes([v[4], v[5]]) } else { 0 };
            names.push((k.to_vec(), flags));
        }
        Ok(names)
    })() {
        Ok(names) => names,
        Err(_) => return (touched, 1),
    };
    for (name, flags) in names {
        let Ok(name) = String::from_utf8(name) else { continue };
        let flags = DatabaseFlags::from_bits_truncate(flags as u32 & 0x7e);
        let Ok(rtxn) = env.read_txn() else {
            errors += 1;
            continue;
        };
        let opened = env.open_databases_and_commit(rtxn, |o, r| {
            let mut options = o.database_options().types::<Bytes, Bytes>();
            options.name(&name).flags(flags).open(r).map(CommitOrAbort::<_, ()>::Commit)
        });
        let db = match opened {
            Ok(c) => match c.unwrap_commit() {
                Some(db) => db,
                None => continue,
            },
            Err(_) => {
                errors += 1;
                continue;
            }
        };
        let mut keys: Vec<Vec<u8>> = vec![];
        let passes: [&Pass; 4] = [
            &|t, keys, sum| {
                let _ = db.len(t)?;
                for item in db.iter(t)? {
                    let (k, v) = item?;
                    sum(k);
                    sum(v);
                    if keys.len() < 400 {
                        keys.push(k.to_vec());
                    }
                }
                Ok(())
            },
            &|t, _, sum| {
                for item in db.rev_iter(t)? {
                    let (k, v) = item?;
                    sum(k);
                    sum(v);
                }
                Ok(())
            },
            &|t, keys, sum| {
                for k in keys.iter() {
                    if let Some(v) = db.get(t, k)? {
                        sum(v);
                    }
                    if flags.contains(DatabaseFlags::DUP_SORT) {
                        let _ = db.count_duplicates(t, k)?;
                        if let Some(dups) = db.get_duplicates(t, k)? {
                            for item in dups {
                                sum(item?.1);
                            }
                        }
                    }
                }
                Ok(())
            },
            &|t, keys, sum| {
                for k in keys.iter().step_by(7) {
                    if let Some((k2, v)) = db.get_greater_than(t, k)? {
                        sum(k2);
                        sum(v);
                    }
                    if let Some((k2, v)) = db.get_lower_than(t, k)? {
                        sum(k2);
                        sum(v);
                    }
                    let from: &[u8] = k;
                    for item in
                        db.range(t, &(std::ops::Bound::Included(from), std::ops::Bound::Unbounded))?.take(20)
                    {
                        let (k2, v) = item?;
                        sum(k2);
                        sum(v);
                    }
                }
                if let Some((k, v)) = db.first(t)? {
                    sum(k);
                    sum(v);
                }
                if let Some((k, v)) = db.last(t)? {
                    sum(k);
                    sum(v);
                }
                Ok(())
            },
        ];
        for pass in passes {
            let Ok(rtxn) = env.read_txn() else {
                errors += 1;
                break;
            };
            if pass(&rtxn, &mut keys, &mut sum).is_err() {
                errors += 1;
            }
        }
    }
    (touched, errors)
}

/// Changes each database of the template in one write txn and commits: overwrites, deletes,
/// new keys (page splits), a large value, duplicates. Errors end a database's changes; they
/// are counted, not fatal.
fn write_some(env: &hedge::Env) -> usize {
    let mut errors = 0;
    for (name, flags) in [
        ("plain", DatabaseFlags::empty()),
        ("dups", DatabaseFlags::DUP_SORT),
        ("fixed", DatabaseFlags::DUP_SORT | DatabaseFlags::DUP_FIXED),
    ] {
        let Ok(rtxn) = env.read_txn() else { return errors + 1 };
        let opened = env.open_databases_and_commit(rtxn, |o, r| {
            let mut options = o.database_options().types::<Bytes, Bytes>();
            options.name(name).flags(flags).open(r).map(CommitOrAbort::<_, ()>::Commit)
        });
        let Ok(Some(db)) = opened.map(|c| c.unwrap_commit()) else {
            errors += 1;
            continue;
        };
        let result = (|| -> hedge::Result<()> {
            let mut wtxn = env.write_txn()?;
            let mut keys = vec![];
            for item in db.iter(&wtxn)?.take(200) {
                keys.push(item?.0.to_vec());
            }
            let fixed = flags.contains(DatabaseFlags::DUP_FIXED);
            for (i, k) in keys.iter().enumerate() {
                let v: Vec<u8> = if fixed { vec![i as u8; 8] } else { value(i as u64, 20 + i % 300) };
                if i % 3 == 0 {
                    db.delete(&mut wtxn, k)?;
                } else {
                    db.put(&mut wtxn, k, &v)?;
                }
            }
            for i in 0..300u64 {
                let v: Vec<u8> =
                    if fixed { vec![i as u8; 8] } else { value(i, if i == 7 { 9000 } else { 100 }) };
                db.put(&mut wtxn, format!("new-{i:04}").as_bytes(), &v)?;
            }
            wtxn.commit()?;
            Ok(())
        })();
        if result.is_err() {
            errors += 1;
        }
    }
    errors
}

/// The child: opens the environment named by `HEDGE_HOSTILE_CHILD` and reads it.
#[test]
fn hostile_child() {
    let Ok(spec) = std::env::var(CHILD) else { return }; // a no-op in normal test runs
    let (dir, mode) = spec.split_once('|').expect("dir|mode");
    let env = match open_env(dir.as_ref()) {
        Ok(env) => env,
        Err(e) => {
            println!("open: {e}");
            return;
        }
    };
    if mode == "check" {
        match env.check() {
            Ok(report) => println!("check: {} problems", report.problems.len()),
            Err(e) => println!("check: {e}"),
        }
    }
    let (touched, errors) = read_everything(&env);
    println!("read: {touched} bytes summed, {errors} errors");
    println!("write: {} errors", write_some(&env));
}

fn keep(dir: Option<&PathBuf>, name: &str, text: &str, bytes: &[u8]) {
    if let Some(dir) = dir {
        let env = dir.join(name.trim_end_matches(".txt"));
        std::fs::create_dir_all(&env).unwrap();
        std::fs::write(dir.join(name), text).unwrap();
        std::fs::write(env.join("data.mdb"), bytes).unwrap();
    }
}

#[test]
fn hostile_files() {
    if std::env::var_os(CHILD).is_some() {
        return;
    }
    let base = tempfile::tempdir().unwrap();
    let template = build_template(base.path());
    let l = layout(&template);
    assert!(l.branches.len() > 3 && l.overflows.len() > 10, "a template with structure: {} pages", l.pages);
    let cases: u64 = std::env::var("HEDGE_HOSTILE_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(60);
    let first: u64 = std::env::var("HEDGE_HOSTILE_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(1);
    let kept = std::env::var_os("HEDGE_HOSTILE_KEEP").map(PathBuf::from);
    let regressions = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/hostile");

    let mut files: Vec<(String, Vec<u8>, String)> = vec![];
    let mut listed: Vec<_> =
        std::fs::read_dir(&regressions).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default();
    listed.sort();
    for path in listed.iter().filter(|p| p.extension().is_some_and(|e| e == "txt")) {
        let text = std::fs::read_to_string(path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        files.push((name, apply(&template, &text), text.lines().next().unwrap_or("").to_string()));
    }
    let replayed = files.len();
    for seed in first..first + cases {
        let (b, what) = mutate(&template, &l, seed);
        files.push((format!("seed-{seed}.txt"), b, what));
    }

    let work = tempfile::tempdir().unwrap();
    let mut failures = vec![];
    let (mut runs, mut crashed_files) = (0, 0);
    for (name, bytes, what) in &files {
        let dir = work.path().join("env");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("data.mdb"), bytes).unwrap();
        let mut crashed = false;
        for check_first in [false, true] {
            runs += 1;
            if let Outcome::Failed(how) = run_child(&dir, check_first) {
                crashed = true;
                let mode = if check_first { "with" } else { "without" };
                failures.push(format!("{name} ({what}), {mode} Env::check: {how}"));
            }
            // A child that opened the env read-write may have changed it: start again.
            std::fs::write(dir.join("data.mdb"), bytes).unwrap();
            let _ = std::fs::remove_file(dir.join("lock.mdb"));
        }
        if crashed {
            crashed_files += 1;
            let seed =
                name.strip_prefix("seed-").and_then(|s| s.strip_suffix(".txt")).and_then(|s| s.parse().ok());
            keep(kept.as_ref(), name, &describe(&template, bytes, what, seed), bytes);
        }
    }
    println!(
        "hostile files: {} ({} replayed from tests/data/hostile, {cases} mutated from seed {first}), \
         {runs} children, {crashed_files} files crashed or hung a child ({} library)",
        files.len(),
        replayed,
        if hedge::PATCHED_LMDB { "patched" } else { "pristine" },
    );
    for f in &failures {
        println!("FAILED {f}");
    }
    if hedge::PATCHED_LMDB {
        assert!(failures.is_empty(), "{} children crashed or hung", failures.len());
    }
}

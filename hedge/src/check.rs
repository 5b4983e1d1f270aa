//! [`Env::check`](crate::Env::check): a consistency check that walks every page of the data
//! file with its own, defensive reader of LMDB's page format.
//!
//! LMDB trusts its pages: a damaged one can make it read garbage, return `MDB_CORRUPTED`
//! late, or stop the process on an internal assertion. The check therefore never asks LMDB
//! to follow a page: it reads pages from the file itself (through a read transaction that
//! pins the snapshot, so no page of it can be reused meanwhile), validates every header,
//! offset and size before using it. Key order is checked with hedge's own versions of LMDB's
//! comparisons, chosen by each tree's flags as the file has them (LMDB's comparators trust
//! sizes, and a damaged record can name one that is not there), or with the custom
//! comparator a database was opened with in this process; the check opens no database
//! handle. Layout: 64-bit `pgno_t`, `MDB_DEVEL` off (the layout of the pinned build).

use std::cmp::Ordering;
use std::collections::HashMap;
use std::fs::File;
use std::ops::ControlFlow;
use std::os::unix::fs::FileExt;

use crate::Result;
use crate::env::{CompareFn as Compare, EnvInner};
use crate::mdb::ffi;
use crate::mdb::handle::{RawEnv, RawTxn};

/// What [`Env::check`](crate::Env::check) found.
///
/// ```
/// # fn main() -> hedge::Result<()> {
/// # let dir = tempfile::tempdir()?;
/// let env = unsafe { hedge::EnvOpenOptions::new().open(dir.path())? };
/// let report = env.check()?;
/// assert!(report.is_ok(), "{report:?}");
/// assert_eq!(report.databases, 1);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// Databases checked (the unnamed one and every named one).
    pub databases: usize,
    /// Entries counted, over all databases (each duplicate of a `DUP_SORT` key counts).
    pub entries: u64,
    /// Pages of all the trees (branch, leaf and overflow pages of every database, of the
    /// `DUP_SORT` sub-databases and of the free list's own tree).
    pub tree_pages: u64,
    /// Pages listed as free.
    pub free_pages: u64,
    /// The last page number in use, from the meta page.
    pub last_page: u64,
    /// Every inconsistency found, in words; empty for a consistent environment.
    pub problems: Vec<String>,
}

impl CheckReport {
    /// Whether no problem was found.
    ///
    /// ```
    /// assert!(hedge::CheckReport::default().is_ok());
    /// ```
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

const HEADER: usize = 16;
const NODE: usize = 8;
const DB_RECORD: usize = 48;
const NUM_METAS: u64 = 2;
const MAGIC: u32 = 0xBEEF_C0DE;
const P_BRANCH: u16 = 0x01;
const P_LEAF: u16 = 0x02;
const P_OVERFLOW: u16 = 0x04;
const P_META: u16 = 0x08;
const P_LEAF2: u16 = 0x20;
const F_BIGDATA: u16 = 0x01;
const F_SUBDATA: u16 = 0x02;
const F_DUPDATA: u16 = 0x04;
const P_INVALID: u64 = u64::MAX;
/// Problems reported before the walk gives up on a damaged file.
const MAX_PROBLEMS: usize = 100;

/// A page's `lower`/`upper` are consistent. On a fixed-size (`LEAF2`) page LMDB counts keys
/// in `lower` (2 a key, beyond the page for 1-byte keys) and moves `upper` down by the key
/// size less 2 (so *up* for 1-byte keys): only the key count means something there, and the
/// caller checks that the keys fit.
fn bounds_ok(flags: u16, lower: usize, upper: usize, len: usize) -> bool {
    if flags & P_LEAF2 != 0 {
        return lower >= HEADER;
    }
    lower >= HEADER && lower <= upper && upper <= len
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// An `MDB_db` record: a tree's root and counters.
#[derive(Clone, Copy, Debug)]
struct DbRecord {
    pad: u32,
    flags: u16,
    depth: u16,
    branch: u64,
    leaf: u64,
    overflow: u64,
    entries: u64,
    root: u64,
}

impl DbRecord {
    fn parse(b: &[u8]) -> DbRecord {
        DbRecord {
            pad: u32_at(b, 0),
            flags: u16_at(b, 4),
            depth: u16_at(b, 6),
            branch: u64_at(b, 8),
            leaf: u64_at(b, 16),
            overflow: u64_at(b, 24),
            entries: u64_at(b, 32),
            root: u64_at(b, 40),
        }
    }
}

/// How keys of a tree are ordered.
#[derive(Clone, Copy)]
enum Order {
    /// Bytewise, shorter first on a tie (LMDB's default).
    Bytes,
    /// Bytewise from the last byte back (`REVERSE_KEY`, `REVERSE_DUP`).
    ReverseBytes,
    /// Native-endian unsigned integers of one size, 4 or 8 bytes (`INTEGER_KEY`,
    /// `INTEGER_DUP`, the free list's txn ids); other sizes are not compared.
    Integer,
    /// By the custom comparator the database was opened with in this process.
    Custom(Compare),
    /// No order to check (the values of a database without `DUP_SORT`).
    Unchecked,
}

impl Order {
    /// The order of a tree's keys, from its record's flags.
    fn keys(flags: u16, custom: Option<Compare>) -> Order {
        let flags = u32::from(flags);
        match custom {
            Some(compare) => Order::Custom(compare),
            None if flags & ffi::MDB_REVERSEKEY != 0 => Order::ReverseBytes,
            None if flags & ffi::MDB_INTEGERKEY != 0 => Order::Integer,
            None => Order::Bytes,
        }
    }

    /// The order of the duplicates of a tree's keys, from its record's flags.
    fn duplicates(flags: u16, custom: Option<Compare>) -> Order {
        let flags = u32::from(flags);
        match custom {
            _ if flags & ffi::MDB_DUPSORT == 0 => Order::Unchecked,
            Some(compare) => Order::Custom(compare),
            None if flags & ffi::MDB_INTEGERDUP != 0 => Order::Integer,
            None if flags & ffi::MDB_REVERSEDUP != 0 => Order::ReverseBytes,
            None => Order::Bytes,
        }
    }

    fn compare(self, a: &[u8], b: &[u8]) -> Option<Ordering> {
        match self {
            Order::Bytes => Some(a.cmp(b)),
            Order::ReverseBytes => Some(a.iter().rev().cmp(b.iter().rev())),
            Order::Integer => match (a.len(), b.len()) {
                (4, 4) => Some(u32_at(a, 0).cmp(&u32_at(b, 0))),
                (8, 8) => Some(u64_at(a, 0).cmp(&u64_at(b, 0))),
                _ => None,
            },
            // A comparator that panics on bytes it does not expect (a damaged file) only
            // leaves these keys unchecked.
            Order::Custom(compare) => std::panic::catch_unwind(|| compare(a, b)).ok(),
            Order::Unchecked => None,
        }
    }
}

/// The custom comparators (key, duplicates) of the databases opened in this process, by name
/// (`None`: the unnamed database).
type Customs = HashMap<Option<Vec<u8>>, (Option<Compare>, Option<Compare>)>;

/// A tree's own page counts, found by the walk.
#[derive(Default)]
struct Counts {
    branch: u64,
    leaf: u64,
    overflow: u64,
    entries: u64,
}

struct Walker<'p> {
    file: File,
    /// Told the number of pages reached so far, now and then.
    progress: &'p mut dyn FnMut(u64),
    reached: u64,
    customs: Customs,
    page_size: usize,
    last_page: u64,
    /// Pages the file holds (it may end before `last_page` when the last pages are free).
    file_pages: u64,
    /// Times each page was reached (trees and free list).
    seen: Vec<u8>,
    report: CheckReport,
}

pub(crate) fn run(env: &EnvInner, progress: &mut dyn FnMut(u64)) -> Result<CheckReport> {
    let customs = {
        let databases = env.databases.lock().unwrap_or_else(|e| e.into_inner());
        databases
            .iter()
            .map(|(name, open)| {
                (name.as_ref().map(|n| n.as_bytes().to_vec()), (open.key.custom, open.dup.custom))
            })
            .collect()
    };
    // LMDB keeps only two meta pages: two commits after the snapshot began, its meta page is
    // overwritten (the snapshot's pages stay pinned). Then the check starts again on a newer
    // snapshot; only a meta page missing every time is a problem.
    const ATTEMPTS: usize = 20;
    for attempt in 1..=ATTEMPTS {
        // SAFETY: a top-level read txn of this live env, ended below before the env can close
        // (the caller borrows the env for the whole call). It pins the snapshot: no page of
        // it can be reused while the walk reads the file.
        let txn = unsafe { RawTxn::begin(&env.raw, None, ffi::MDB_RDONLY) }?;
        let result = check(&env.raw, &txn, &customs, attempt == ATTEMPTS, progress);
        txn.abort();
        if let Some(report) = result.transpose() {
            return report;
        }
    }
    unreachable!("the last attempt always reports")
}

/// The snapshot's meta page: the free list's and the unnamed database's records and the
/// last page in use; or what is wrong with the meta pages.
fn snapshot_meta(
    file: &File,
    page_size: usize,
    txn: &RawTxn,
) -> std::result::Result<(DbRecord, DbRecord, u64), Vec<String>> {
    let mut problems = Vec::new();
    for m in 0..NUM_METAS {
        let mut page = vec![0; page_size];
        if file.read_exact_at(&mut page, m * page_size as u64).is_err() {
            problems.push(format!("meta page {m} cannot be read: the file is too short"));
            continue;
        }
        if u32_at(&page, HEADER) != MAGIC {
            problems.push(format!("meta page {m} has no LMDB magic number"));
            continue;
        }
        if u64_at(&page, HEADER + 128) == txn.id() as u64 {
            let free = DbRecord::parse(&page[HEADER + 24..]);
            let main = DbRecord::parse(&page[HEADER + 24 + DB_RECORD..]);
            return Ok((free, main, u64_at(&page, HEADER + 120)));
        }
    }
    problems.push(format!("no meta page has the txn id of the current snapshot ({})", txn.id()));
    Err(problems)
}

fn walker<'p>(
    file: File,
    customs: Customs,
    page_size: usize,
    last_page: u64,
    file_len: u64,
    progress: &'p mut dyn FnMut(u64),
) -> Walker<'p> {
    let mut seen = vec![0; last_page as usize + 1];
    seen[0] = 1;
    seen[1] = 1;
    let report = CheckReport { last_page, ..CheckReport::default() };
    Walker {
        file,
        progress,
        reached: 0,
        customs,
        page_size,
        last_page,
        file_pages: file_len / page_size as u64,
        seen,
        report,
    }
}

/// `None`: the snapshot's meta page was overwritten meanwhile (not on the `last` attempt).
fn check(
    env: &RawEnv,
    txn: &RawTxn,
    customs: &Customs,
    last: bool,
    progress: &mut dyn FnMut(u64),
) -> Result<Option<CheckReport>> {
    let file = env.clone_data_file()?;
    let page_size = env.stat().ms_psize as usize;
    let file_len = file.metadata()?.len();
    let (free, main, last_page) = match snapshot_meta(&file, page_size, txn) {
        Ok(meta) => meta,
        Err(_) if !last => return Ok(None),
        Err(problems) => return Ok(Some(CheckReport { problems, ..CheckReport::default() })),
    };
    let mut walker = walker(file, customs.clone(), page_size, last_page, file_len, progress);
    let (keys, dups) = walker.orders(None, main.flags);
    let entries = walker.tree("the unnamed database", main, keys, dups, true);
    walker.report.entries += entries;
    walker.report.databases += 1;
    walker.free_list(free);
    walker.account();
    (walker.progress)(walker.reached);
    Ok(Some(walker.report))
}

/// For opening a data file shorter than its meta page's last page: LMDB leaves the file
/// short when the last pages it allocated were freed before ever being written, which is
/// sound; pages in use past the end are not (reading them would fault). Returns the first
/// page in use past the end of the file, if any.
///
/// The missing pages are proven free from the free list cheaply (see [`TailProof`]); only
/// when that fails (a file that is really truncated, or a free list LMDB did not write) is
/// the whole free list walked to name the first page in use.
pub(crate) fn first_used_page_past_the_end(env: &RawEnv) -> Result<Option<u64>> {
    // SAFETY: as in `run`.
    let txn = unsafe { RawTxn::begin(env, None, ffi::MDB_RDONLY) }?;
    let result = (|| {
        let file = env.clone_data_file()?;
        let page_size = env.stat().ms_psize as usize;
        let file_len = file.metadata()?.len();
        let Ok((free, _, last_page)) = snapshot_meta(&file, page_size, &txn) else { return Ok(Some(0)) };
        if TailProof::new(&file, page_size, file_len, last_page).run(free).0 {
            return Ok(None);
        }
        let mut quiet = |_| {};
        let mut walker = walker(file, Customs::new(), page_size, last_page, file_len, &mut quiet);
        let file_pages = walker.file_pages;
        walker.free_list(free);
        if !walker.report.is_ok() {
            return Ok(Some(file_pages));
        }
        Ok((file_pages..=last_page).find(|&p| walker.seen[p as usize] == 0))
    })();
    txn.abort();
    result
}

/// Proves the pages past the end of a short data file free by finding each in the free
/// list, reading as little of it as LMDB's layout allows: the newest record first (a txn
/// that found no reclaimable record frees there), then the records from the oldest (LMDB
/// files what it reclaimed but did not use under the oldest ids), and of each record only
/// its first page numbers: LMDB keeps every record sorted, highest page first, so those past
/// the end come first. It stops as soon as every missing page is found. On a healthy env it
/// reads the free list's branch and leaf pages at most, and of its overflow records one
/// page each, never every listed page nor any tree page.
struct TailProof<'f> {
    file: &'f File,
    page_size: usize,
    file_pages: u64,
    last_page: u64,
    /// Pages past the end not yet found free (index: page - `file_pages`).
    missing: Vec<bool>,
    left: u64,
    /// Pages read so far (for the tests).
    reads: u64,
}

impl<'f> TailProof<'f> {
    fn new(file: &'f File, page_size: usize, file_len: u64, last_page: u64) -> TailProof<'f> {
        let file_pages = file_len / page_size as u64;
        let left = (last_page + 1).saturating_sub(file_pages);
        TailProof {
            file,
            page_size,
            file_pages,
            last_page,
            missing: vec![true; left as usize],
            left,
            reads: 0,
        }
    }

    /// Whether every page past the end was found free, and the pages read.
    fn run(mut self, free: DbRecord) -> (bool, u64) {
        if self.left > 0 && free.root != P_INVALID {
            // A damaged page stops a scan; the other may still find what is missing.
            let _ = self.scan(free.root, true, Some(1));
            if self.left > 0 {
                let _ = self.scan(free.root, false, None);
            }
        }
        (self.left == 0, self.reads)
    }

    fn read(&mut self, at: u64, buf: &mut [u8]) -> Option<()> {
        self.reads += 1;
        self.file.read_exact_at(buf, at).ok()
    }

    /// Visits the records of the free list's tree (newest or oldest first), `records` of
    /// them at most; breaks when done or on a page it cannot use.
    fn scan(&mut self, root: u64, newest_first: bool, mut records: Option<usize>) -> ControlFlow<()> {
        let mut stack = vec![root];
        let mut page = vec![0; self.page_size];
        // A damaged tree may point back at a page already read: stop rather than loop.
        let mut visited = std::collections::HashSet::new();
        while let Some(pgno) = stack.pop() {
            if pgno < NUM_METAS
                || pgno >= self.file_pages.min(self.last_page + 1)
                || !visited.insert(pgno)
                || self.read(pgno * self.page_size as u64, &mut page).is_none()
            {
                return ControlFlow::Break(());
            }
            let (flags, lower, upper) =
                (u16_at(&page, 10), u16_at(&page, 12) as usize, u16_at(&page, 14) as usize);
            if u64_at(&page, 0) != pgno || lower < HEADER || lower > upper || upper > self.page_size {
                return ControlFlow::Break(());
            }
            let n = (lower - HEADER) / 2;
            let mut nodes = Vec::with_capacity(n);
            for i in 0..n {
                let at = u16_at(&page, HEADER + 2 * i) as usize;
                if at < upper || at + NODE > self.page_size {
                    return ControlFlow::Break(());
                }
                nodes.push(at);
            }
            if newest_first {
                nodes.reverse();
            }
            let lo_hi = |at: usize| u16_at(&page, at) as u64 | (u16_at(&page, at + 2) as u64) << 16;
            if flags & P_BRANCH != 0 {
                // Pushed so that the first child to visit is popped first.
                stack.extend(nodes.iter().rev().map(|&at| lo_hi(at) | (u16_at(&page, at + 4) as u64) << 32));
                continue;
            }
            if flags & P_LEAF == 0 {
                return ControlFlow::Break(());
            }
            for at in nodes {
                let (size, node_flags) = (lo_hi(at), u16_at(&page, at + 4));
                let data = at + NODE + u16_at(&page, at + 6) as usize;
                if node_flags & F_BIGDATA != 0 {
                    if data + 8 > self.page_size {
                        return ControlFlow::Break(());
                    }
                    self.overflow_list(u64_at(&page, data), size)?;
                } else {
                    if data + size as usize > self.page_size {
                        return ControlFlow::Break(());
                    }
                    let list = page[data..data + size as usize].to_vec();
                    if self.list_part(&list, 0, size).is_none() {
                        return ControlFlow::Break(());
                    }
                }
                if self.left == 0 {
                    return ControlFlow::Break(());
                }
                if let Some(r) = records.as_mut() {
                    *r -= 1;
                    if *r == 0 {
                        return ControlFlow::Break(());
                    }
                }
            }
        }
        ControlFlow::Continue(())
    }

    /// Reads a record on overflow pages from page `first`, a page at a time, as far as it
    /// lists pages past the end.
    fn overflow_list(&mut self, first: u64, size: u64) -> ControlFlow<()> {
        let pages = (HEADER as u64 + size).div_ceil(self.page_size as u64);
        if first < NUM_METAS || first + pages > self.file_pages.min(self.last_page + 1) {
            return ControlFlow::Break(());
        }
        let mut chunk = vec![0; self.page_size];
        let mut at = 0;
        while at < size {
            let len = (size - at).min(self.page_size as u64 - 8) as usize;
            let buf = &mut chunk[..len];
            if self.read(first * self.page_size as u64 + HEADER as u64 + at, buf).is_none() {
                return ControlFlow::Break(());
            }
            let buf = buf.to_vec();
            match self.list_part(&buf, at, size) {
                Some(true) => at += len as u64,
                Some(false) => return ControlFlow::Continue(()),
                None => return ControlFlow::Break(()),
            }
        }
        ControlFlow::Continue(())
    }

    /// Takes the part of a page list (`size` bytes: a count, then page numbers, highest
    /// first) at byte `from`: marks its pages past the end found. `Some(true)`: the rest of
    /// the list may still list such pages; `None`: not a page list.
    fn list_part(&mut self, part: &[u8], from: u64, size: u64) -> Option<bool> {
        if size < 8 || !size.is_multiple_of(8) || !from.is_multiple_of(8) || !part.len().is_multiple_of(8) {
            return None;
        }
        for (k, id) in part.chunks_exact(8).enumerate() {
            let id = u64_at(id, 0);
            if from == 0 && k == 0 {
                if id != size / 8 - 1 {
                    return None;
                }
                continue;
            }
            if id < self.file_pages {
                return Some(false);
            }
            if id <= self.last_page {
                let slot = &mut self.missing[(id - self.file_pages) as usize];
                if std::mem::take(slot) {
                    self.left -= 1;
                    if self.left == 0 {
                        return Some(false);
                    }
                }
            }
        }
        Some(true)
    }
}

impl Walker<'_> {
    fn problem(&mut self, text: String) {
        if self.report.problems.len() < MAX_PROBLEMS {
            self.report.problems.push(text);
        }
    }

    fn giving_up(&self) -> bool {
        self.report.problems.len() >= MAX_PROBLEMS
    }

    /// Counts `pages` more pages reached, telling the progress callback every 1024.
    fn reached(&mut self, pages: u64) {
        let before = self.reached;
        self.reached += pages;
        if before / 1024 != self.reached / 1024 {
            (self.progress)(self.reached);
        }
    }

    /// Reads page `pgno` (and `extra` following pages), marking them reached.
    fn read(&mut self, what: &str, pgno: u64, pages: u64) -> Option<Vec<u8>> {
        if pgno < NUM_METAS || pgno.checked_add(pages).is_none_or(|end| end - 1 > self.last_page) {
            self.problem(format!(
                "{what}: page {pgno} (+{pages}) is outside the file's pages 2..={}",
                self.last_page
            ));
            return None;
        }
        // A page reached again is reported once and not walked again: a damaged tree that
        // points back into itself (through a child or a sub-database) would never end.
        let again = self.seen[pgno as usize] > 0;
        self.mark(what, pgno, pages);
        if again {
            return None;
        }
        if pgno + pages > self.file_pages {
            self.problem(format!(
                "{what}: page {} is past the end of the data file ({} pages): the file is truncated",
                (pgno + pages - 1).max(self.file_pages),
                self.file_pages
            ));
            return None;
        }
        let mut buf = vec![0; self.page_size];
        if let Err(e) = self.file.read_exact_at(&mut buf, pgno * self.page_size as u64) {
            self.problem(format!("{what}: page {pgno} cannot be read: {e}"));
            return None;
        }
        if u64_at(&buf, 0) != pgno {
            self.problem(format!("{what}: page {pgno} says it is page {}", u64_at(&buf, 0)));
            return None;
        }
        Some(buf)
    }

    /// Checks the overflow run at `first` holding a `size`-byte value and marks its pages;
    /// returns its length in pages (0 if unreadable). A run may be longer than the value
    /// needs: LMDB overwrites a value in place with a shorter one without shrinking its run.
    fn overflow_run(&mut self, what: &str, first: u64, size: usize) -> u64 {
        let Some(head) = self.read(what, first, 1) else { return 0 };
        let needed = (HEADER + size).div_ceil(self.page_size) as u64;
        let run = u32_at(&head, 12) as u64;
        if u16_at(&head, 10) & P_OVERFLOW == 0 || run < needed {
            self.problem(format!(
                "{what}: page {first} should start an overflow run of at least {needed} pages for a {size}-byte value"
            ));
            return 1;
        }
        if run > 1 {
            self.mark(what, first + 1, run - 1);
            if first + run > self.file_pages {
                self.problem(format!(
                    "{what}: the overflow run at page {first} ends past the end of the data file: truncated"
                ));
            }
        }
        run
    }

    /// Marks `count` pages from `pgno` as reached (no read), reporting any used twice.
    fn mark(&mut self, what: &str, pgno: u64, count: u64) {
        if pgno.checked_add(count).is_none_or(|end| end - 1 > self.last_page) {
            self.problem(format!(
                "{what}: pages {pgno}..{} run past the file's last page {}",
                pgno.saturating_add(count),
                self.last_page
            ));
            return;
        }
        self.reached(count);
        for p in pgno..pgno + count {
            self.seen[p as usize] = self.seen[p as usize].saturating_add(1);
            if self.seen[p as usize] == 2 {
                self.problem(format!("{what}: page {p} is used twice"));
            }
        }
    }

    /// The orders of the keys and of the duplicates of database `name` (`None`: the unnamed
    /// one) whose record has `flags`.
    fn orders(&self, name: Option<&[u8]>, flags: u16) -> (Order, Order) {
        let (keys, dups) = self.customs.get(&name.map(<[u8]>::to_vec)).copied().unwrap_or_default();
        (Order::keys(flags, keys), Order::duplicates(flags, dups))
    }

    /// Checks that `key` comes after `last` (strictly), then makes it the last one.
    fn in_order(&mut self, what: &str, order: Order, last: &mut Option<Vec<u8>>, key: &[u8]) {
        let out_of_order = last
            .as_deref()
            .is_some_and(|previous| order.compare(previous, key).is_some_and(|o| o != Ordering::Less));
        if let (true, Some(previous)) = (out_of_order, last.as_deref()) {
            self.problem(format!(
                "{what}: key {:02x?} is not after {:02x?}: out of order",
                &key[..key.len().min(16)],
                &previous[..previous.len().min(16)]
            ));
        }
        *last = Some(key.to_vec());
    }

    /// Walks one tree and compares what it found with the tree's record.
    fn tree(&mut self, what: &str, db: DbRecord, order: Order, dups: Order, main: bool) -> u64 {
        let mut counts = Counts::default();
        if db.root == P_INVALID {
            if db.branch + db.leaf + db.overflow + db.entries != 0 || db.depth != 0 {
                self.problem(format!("{what}: empty, but its record counts pages or entries"));
            }
            return 0;
        }
        let mut last = None;
        self.walk(what, db, order, dups, main, db.root, 1, &mut last, &mut counts);
        self.tally(what, &counts, &db);
        counts.entries
    }

    /// Compares what the walk of a tree found with the tree's record, and counts its pages.
    fn tally(&mut self, what: &str, counts: &Counts, db: &DbRecord) {
        for (name, found, recorded) in [
            ("branch pages", counts.branch, db.branch),
            ("leaf pages", counts.leaf, db.leaf),
            ("overflow pages", counts.overflow, db.overflow),
            ("entries", counts.entries, db.entries),
        ] {
            if found != recorded && !self.giving_up() {
                self.problem(format!("{what}: {found} {name} found, its record says {recorded}"));
            }
        }
        self.report.tree_pages += counts.branch + counts.leaf + counts.overflow;
    }

    #[allow(clippy::too_many_arguments)]
    fn walk(
        &mut self,
        what: &str,
        db: DbRecord,
        order: Order,
        dups: Order,
        main: bool,
        pgno: u64,
        depth: u16,
        last: &mut Option<Vec<u8>>,
        counts: &mut Counts,
    ) {
        if self.giving_up() {
            return;
        }
        let Some(page) = self.read(what, pgno, 1) else { return };
        let flags = u16_at(&page, 10);
        let (lower, upper) = (u16_at(&page, 12) as usize, u16_at(&page, 14) as usize);
        if !bounds_ok(flags, lower, upper, self.page_size) {
            self.problem(format!("{what}: page {pgno} has bounds {lower}..{upper} outside the page"));
            return;
        }
        let n = (lower - HEADER) / 2;
        if flags & P_BRANCH != 0 {
            counts.branch += 1;
            if depth >= db.depth || n == 0 {
                self.problem(format!(
                    "{what}: branch page {pgno} at depth {depth} of {} with {n} keys",
                    db.depth
                ));
                return;
            }
            let mut separators = None;
            for i in 0..n {
                let Some((node_flags, key, lo_hi)) = self.node(what, pgno, &page, i, upper) else { return };
                let child = lo_hi as u64 | (node_flags as u64) << 32;
                if i > 0 {
                    // The first node's key is empty by design; the others separate children.
                    let key = key.to_vec();
                    self.in_order(&format!("{what}, branch page {pgno}"), order, &mut separators, &key);
                }
                self.walk(what, db, order, dups, main, child, depth + 1, last, counts);
            }
        } else if flags & P_LEAF2 != 0 {
            counts.leaf += 1;
            let size = db.pad as usize;
            if depth != db.depth || size == 0 || HEADER + n * size > self.page_size {
                self.problem(format!("{what}: fixed-size leaf page {pgno} is inconsistent"));
                return;
            }
            for i in 0..n {
                let key = page[HEADER + i * size..HEADER + (i + 1) * size].to_vec();
                self.in_order(what, order, last, &key);
            }
            counts.entries += n as u64;
        } else if flags & P_LEAF != 0 {
            counts.leaf += 1;
            if depth != db.depth {
                self.problem(format!(
                    "{what}: leaf page {pgno} at depth {depth}, the tree's depth is {}",
                    db.depth
                ));
            }
            for i in 0..n {
                let Some((node_flags, key, size)) = self.node(what, pgno, &page, i, upper) else { return };
                let key = key.to_vec();
                self.in_order(what, order, last, &key);
                let data_at = self.node_offset(&page, i) + NODE + key.len();
                self.leaf_data(
                    what,
                    db,
                    dups,
                    main,
                    pgno,
                    &page,
                    data_at,
                    node_flags,
                    &key,
                    size as usize,
                    counts,
                );
            }
        } else {
            self.problem(format!(
                "{what}: page {pgno} is neither a branch nor a leaf page (flags {flags:#x})"
            ));
        }
    }

    fn node_offset(&self, page: &[u8], i: usize) -> usize {
        u16_at(page, HEADER + 2 * i) as usize
    }

    /// Node `i` of a page: its flags, key and `lo | hi << 16` field, all bounds-checked.
    fn node<'p>(
        &mut self,
        what: &str,
        pgno: u64,
        page: &'p [u8],
        i: usize,
        upper: usize,
    ) -> Option<(u16, &'p [u8], u32)> {
        let at = self.node_offset(page, i);
        if at < upper || at + NODE > page.len() {
            self.problem(format!(
                "{what}: page {pgno}, node {i} at offset {at} is outside the page's node area"
            ));
            return None;
        }
        let (lo, hi, flags, ksize) =
            (u16_at(page, at), u16_at(page, at + 2), u16_at(page, at + 4), u16_at(page, at + 6));
        let key_end = at + NODE + ksize as usize;
        if key_end > page.len() {
            self.problem(format!("{what}: page {pgno}, node {i}: its {ksize}-byte key runs past the page"));
            return None;
        }
        Some((flags, &page[at + NODE..key_end], lo as u32 | (hi as u32) << 16))
    }

    #[allow(clippy::too_many_arguments)]
    fn leaf_data(
        &mut self,
        what: &str,
        db: DbRecord,
        dups: Order,
        main: bool,
        pgno: u64,
        page: &[u8],
        at: usize,
        flags: u16,
        key: &[u8],
        size: usize,
        counts: &mut Counts,
    ) {
        let inline = if flags & F_BIGDATA != 0 { 8 } else { size };
        if at + inline > page.len() {
            self.problem(format!(
                "{what}: page {pgno}: the value of key {:02x?} runs past the page",
                &key[..key.len().min(16)]
            ));
            return;
        }
        let data = &page[at..at + inline];
        if flags & F_BIGDATA != 0 {
            counts.overflow += self.overflow_run(what, u64_at(data, 0), size);
            counts.entries += 1;
        } else if flags & F_SUBDATA != 0 && flags & F_DUPDATA == 0 {
            // A named database (only in the unnamed one).
            if !main || size != DB_RECORD {
                self.problem(format!("{what}: page {pgno}: a sub-database record where none can be"));
                return;
            }
            counts.entries += 1;
            let name = format!("database {:?}", String::from_utf8_lossy(key));
            let record = DbRecord::parse(data);
            let (keys, named_dups) = self.orders(Some(key), record.flags);
            let entries = self.tree(&name, record, keys, named_dups, false);
            self.report.entries += entries;
            self.report.databases += 1;
        } else if flags & F_DUPDATA != 0 && db.flags as u32 & ffi::MDB_DUPSORT == 0 {
            // Garbage in the node's flags (seen in files left by a power loss under NO_SYNC).
            self.problem(format!(
                "{what}: page {pgno}: key {:02x?} has duplicates, but the database is not DUP_SORT",
                &key[..key.len().min(16)]
            ));
        } else if flags & F_DUPDATA != 0 && flags & F_SUBDATA != 0 {
            if size != DB_RECORD {
                self.problem(format!(
                    "{what}: page {pgno}: the duplicates of key {:02x?} have a {size}-byte record",
                    &key[..key.len().min(16)]
                ));
                return;
            }
            // The duplicates of a key, in a sub-database.
            let sub = format!("{what}, duplicates of {:02x?}", &key[..key.len().min(16)]);
            if size != DB_RECORD {
                self.problem(format!("{sub}: page {pgno}: a sub-database record of {size} bytes"));
                return;
            }
            counts.entries += self.tree(&sub, DbRecord::parse(data), dups, Order::Unchecked, false);
        } else if flags & F_DUPDATA != 0 {
            // The duplicates of a key, in a sub-page inside the node.
            counts.entries += self.sub_page(what, db, dups, pgno, data);
        } else {
            counts.entries += 1;
        }
    }

    /// The duplicates in a sub-page; returns how many.
    fn sub_page(&mut self, what: &str, db: DbRecord, order: Order, pgno: u64, sub: &[u8]) -> u64 {
        let bad = |w: &mut Self| w.problem(format!("{what}: page {pgno}: a malformed duplicates sub-page"));
        if sub.len() < HEADER {
            bad(self);
            return 0;
        }
        let (flags, lower, upper) = (u16_at(sub, 10), u16_at(sub, 12) as usize, u16_at(sub, 14) as usize);
        if !bounds_ok(flags, lower, upper, sub.len()) {
            bad(self);
            return 0;
        }
        // A leaf page (LMDB asserts on anything else), LEAF2 in a DUP_FIXED database only.
        if flags & (P_BRANCH | P_LEAF | P_OVERFLOW | P_META) != P_LEAF
            || (flags & P_LEAF2 != 0) != (db.flags as u32 & ffi::MDB_DUPFIXED != 0)
        {
            bad(self);
            return 0;
        }
        let n = (lower - HEADER) / 2;
        let mut last = None;
        if flags & P_LEAF2 != 0 {
            let size = u16_at(sub, 8) as usize;
            if size == 0 || HEADER + n * size > sub.len() || (db.flags as u32 & ffi::MDB_DUPFIXED) == 0 {
                bad(self);
                return 0;
            }
            for i in 0..n {
                let value = sub[HEADER + i * size..HEADER + (i + 1) * size].to_vec();
                self.in_order(what, order, &mut last, &value);
            }
        } else {
            for i in 0..n {
                let Some((node_flags, value, _)) = self.node(what, pgno, sub, i, upper) else {
                    return i as u64;
                };
                // A duplicate is a bare key: flags would send LMDB to overflow pages or
                // duplicates of duplicates.
                if node_flags != 0 {
                    bad(self);
                    return i as u64;
                }
                let value = value.to_vec();
                self.in_order(what, order, &mut last, &value);
            }
        }
        n as u64
    }

    /// The free list: a tree keyed by txn id whose values list page numbers.
    fn free_list(&mut self, free: DbRecord) {
        let mut lists = Vec::new();
        self.collect_free(free, &mut lists);
        for (txn, ids) in lists {
            if ids.len() < 8 || ids.len() % 8 != 0 || u64_at(&ids, 0) as usize != ids.len() / 8 - 1 {
                self.problem(format!(
                    "free list of txn {txn}: a record of {} bytes is not a page list",
                    ids.len()
                ));
                continue;
            }
            for k in 1..ids.len() / 8 {
                let p = u64_at(&ids, k * 8);
                if p < NUM_METAS || p > self.last_page {
                    self.problem(format!("free list of txn {txn}: page {p} is outside the file"));
                    continue;
                }
                self.reached(1);
                self.seen[p as usize] = self.seen[p as usize].saturating_add(1);
                if self.seen[p as usize] == 2 {
                    self.problem(format!("free list of txn {txn}: page {p} is free and in use"));
                }
                self.report.free_pages += 1;
            }
        }
    }

    /// Walks the free list's tree (keys: txn ids) and returns its values.
    fn collect_free(&mut self, free: DbRecord, lists: &mut Vec<(u64, Vec<u8>)>) {
        if free.root == P_INVALID {
            return;
        }
        let mut counts = Counts::default();
        let mut stack = vec![(free.root, 1u16)];
        let mut last: Option<Vec<u8>> = None;
        while let Some((pgno, depth)) = stack.pop() {
            if self.giving_up() {
                return;
            }
            let Some(page) = self.read("the free list", pgno, 1) else { continue };
            let (flags, lower, upper) =
                (u16_at(&page, 10), u16_at(&page, 12) as usize, u16_at(&page, 14) as usize);
            if lower < HEADER || lower > upper || upper > self.page_size {
                self.problem(format!(
                    "the free list: page {pgno} has bounds {lower}..{upper} outside the page"
                ));
                continue;
            }
            let n = (lower - HEADER) / 2;
            if flags & P_BRANCH != 0 {
                counts.branch += 1;
                // Children in reverse so that they are visited in key order.
                for i in (0..n).rev() {
                    let Some((node_flags, _, lo_hi)) = self.node("the free list", pgno, &page, i, upper)
                    else {
                        break;
                    };
                    stack.push((lo_hi as u64 | (node_flags as u64) << 32, depth + 1));
                }
            } else if flags & P_LEAF != 0 {
                counts.leaf += 1;
                for i in 0..n {
                    let Some((node_flags, key, size)) = self.node("the free list", pgno, &page, i, upper)
                    else {
                        break;
                    };
                    let key = key.to_vec();
                    self.in_order("the free list", Order::Integer, &mut last, &key);
                    let at = self.node_offset(&page, i) + NODE + key.len();
                    let txn = if key.len() == 8 { u64_at(&key, 0) } else { 0 };
                    if node_flags & F_BIGDATA != 0 {
                        if at + 8 > page.len() {
                            self.problem(format!("the free list: page {pgno}: a value runs past the page"));
                            continue;
                        }
                        let first = u64_at(&page, at);
                        let run = self.overflow_run("the free list", first, size as usize);
                        counts.overflow += run;
                        if run > 0 {
                            let mut ids = vec![0; size as usize];
                            if self
                                .file
                                .read_exact_at(&mut ids, first * self.page_size as u64 + HEADER as u64)
                                .is_ok()
                            {
                                lists.push((txn, ids));
                            }
                        }
                    } else if at + size as usize <= page.len() {
                        lists.push((txn, page[at..at + size as usize].to_vec()));
                    } else {
                        self.problem(format!("the free list: page {pgno}: a value runs past the page"));
                    }
                    counts.entries += 1;
                }
            } else {
                self.problem(format!("the free list: page {pgno} is neither a branch nor a leaf page"));
            }
        }
        self.tally("the free list", &counts, &free);
    }

    /// Every page is reached exactly once (duplicates were reported as they were found).
    fn account(&mut self) {
        if self.giving_up() {
            return;
        }
        let unreached: Vec<u64> = (0..=self.last_page).filter(|&p| self.seen[p as usize] == 0).collect();
        if let Some(&first) = unreached.first() {
            self.problem(format!(
                "{} pages are in no tree and not free (leaked), the first is page {first}",
                unreached.len()
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Bytes, U32};
    use crate::{CommitOrAbort, Database, EnvFlags, EnvOpenOptions, byteorder::BigEndian};

    /// An env whose data file LMDB itself leaves short: the last txn puts and deletes a value
    /// too big for any free run, at the end of the file, never written. Before it, every
    /// other of 4000 values was deleted: a free list of some 12 000 pages (some 24 pages of
    /// page numbers), filed on overflow pages.
    fn short_env(dir: &std::path::Path) -> crate::Env {
        let open = || {
            // SAFETY: a fresh directory only this test uses.
            unsafe { EnvOpenOptions::new().flags(EnvFlags::NO_SYNC).map_size(256 << 20).open(dir) }.unwrap()
        };
        let env = open();
        let db: Database<U32<BigEndian>, Bytes> = env
            .create_databases_and_commit(env.write_txn().unwrap(), |o, w| {
                o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit)
            })
            .unwrap()
            .unwrap_commit();
        let mut wtxn = env.write_txn().unwrap();
        for k in 0..4000 {
            db.put(&mut wtxn, &k, &[1; 20_000]).unwrap();
        }
        wtxn.commit().unwrap();
        let mut wtxn = env.write_txn().unwrap();
        for k in (1..4000).step_by(2) {
            db.delete(&mut wtxn, &k).unwrap();
        }
        wtxn.commit().unwrap();
        // Small txns so that the last one has a record to reclaim: only then does LMDB take
        // pages freed while dirty back instead of writing them.
        for round in 0..4 {
            let mut wtxn = env.write_txn().unwrap();
            db.put(&mut wtxn, &1_000_000, &[round; 10]).unwrap();
            wtxn.commit().unwrap();
        }
        let mut wtxn = env.write_txn().unwrap();
        db.put(&mut wtxn, &1_000_000, &[9; 10]).unwrap();
        db.put(&mut wtxn, &u32::MAX, &[2; 1_000_000]).unwrap();
        db.delete(&mut wtxn, &u32::MAX).unwrap();
        wtxn.commit().unwrap();
        env.prepare_for_closing().wait();
        open()
    }

    /// The data file, page size, free list and unnamed database records and last page of the
    /// env's current snapshot.
    fn snapshot(env: &crate::Env) -> (File, usize, DbRecord, DbRecord, u64) {
        let raw = &env.inner.raw;
        // SAFETY: a read txn of the live env, aborted below.
        let txn = unsafe { RawTxn::begin(raw, None, ffi::MDB_RDONLY) }.unwrap();
        let file = raw.clone_data_file().unwrap();
        let page_size = raw.stat().ms_psize as usize;
        let (free, main, last_page) = snapshot_meta(&file, page_size, &txn).unwrap();
        txn.abort();
        (file, page_size, free, main, last_page)
    }

    #[test]
    fn a_short_healthy_file_is_proven_from_a_few_pages_of_the_free_list() {
        let dir = tempfile::tempdir().unwrap();
        let env = short_env(dir.path());
        let (file, page_size, free, _, last_page) = snapshot(&env);
        let file_len = file.metadata().unwrap().len();
        let missing = last_page + 1 - file_len / page_size as u64;
        assert!(missing > 6, "the setup leaves the file short by the big value's run: {missing} pages");
        let (proven, reads) = TailProof::new(&file, page_size, file_len, last_page).run(free);
        let report = env.check().unwrap();
        assert!(report.is_ok(), "{:?}", report.problems);
        // The page numbers the free list holds fill more than 20 pages; the proof reads the
        // records' first pages only.
        let free_list_pages = report.free_pages * 8 / page_size as u64;
        println!(
            "{reads} pages read proved {missing} missing pages free; the free list's page numbers fill {free_list_pages} pages"
        );
        assert!(proven, "every page past the end is free");
        assert!(
            reads * 2 < free_list_pages,
            "{reads} reads proved {missing} missing pages; the free list lists {} pages",
            report.free_pages
        );
    }

    #[test]
    fn a_free_list_branch_page_that_points_at_itself_ends_the_proof() {
        // Pages 0 and 1 (metas, unread here), page 2: a branch page of the free list whose
        // only child is page 2 itself. The meta says pages up to 5 exist.
        let mut bytes = vec![0u8; 3 * 4096];
        let page = &mut bytes[2 * 4096..];
        page[0..8].copy_from_slice(&2u64.to_le_bytes());
        page[10..12].copy_from_slice(&P_BRANCH.to_le_bytes());
        page[12..14].copy_from_slice(&((HEADER + 2) as u16).to_le_bytes());
        page[14..16].copy_from_slice(&4080u16.to_le_bytes());
        page[16..18].copy_from_slice(&4080u16.to_le_bytes());
        page[4080..4082].copy_from_slice(&2u16.to_le_bytes());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.mdb");
        std::fs::write(&path, &bytes).unwrap();
        let file = File::open(&path).unwrap();
        let free =
            DbRecord { pad: 0, flags: 0, depth: 2, branch: 1, leaf: 0, overflow: 0, entries: 0, root: 2 };
        let (proven, reads) = TailProof::new(&file, 4096, bytes.len() as u64, 5).run(free);
        assert!(!proven);
        assert!(reads <= 2, "each scan reads the page once: {reads}");
    }

    #[test]
    fn a_page_in_use_past_the_end_is_not_proven_free() {
        let dir = tempfile::tempdir().unwrap();
        let env = short_env(dir.path());
        let (file, page_size, free, main, last_page) = snapshot(&env);
        // Cut before the root of the unnamed database: a page in use, in no free list.
        let cut = main.root.max(free.root) * page_size as u64;
        let (proven, _) = TailProof::new(&file, page_size, cut, last_page).run(free);
        assert!(!proven, "pages in use past the end");
    }
}

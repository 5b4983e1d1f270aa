//! `hedge space`: where the pages of the data file go, and why the file is as big as it is.

use std::fmt::Write as _;
use std::path::Path;

use hedge::{DatabaseStat, FreeListEntry};
use serde_json::{Value, json};

use crate::open::{self, Failure, Named, explain};

/// A reader's hold on the free list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    pub pid: u32,
    pub txn_id: u64,
    /// Whether the process still runs (a slot of a dead process pins pages too, until
    /// `hedge readers --clear-stale`).
    pub running: bool,
    /// Free pages that only this reader keeps from reuse (freed by a transaction at or after
    /// its snapshot, before the next reader's).
    pub pages: u64,
    /// How long ago its process started (an upper bound of the transaction's age).
    pub process_age: Option<std::time::Duration>,
}

/// How the free pages split by what keeps them from reuse.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FreeSplit {
    pub total: u64,
    /// The next write transaction can reuse them.
    pub reusable: u64,
    /// Freed by the last commit: LMDB reuses them after the next one.
    pub after_next_commit: u64,
    /// Held by readers' snapshots, oldest reader first.
    pub pinned: Vec<Pin>,
}

/// Splits the free list by what holds each record: pages freed by transaction `f` are needed
/// by a reader whose snapshot is at most `f` (LMDB reuses a record only when every reader's
/// snapshot is newer than the transaction that freed it). Each record is charged to the
/// newest reader that needs it: what the oldest reader is charged is what its end releases,
/// and so on up, reader by reader.
pub fn split_free(free: &[FreeListEntry], readers: &[(u32, u64, bool)], last_txn_id: u64) -> FreeSplit {
    let mut pins: Vec<Pin> = Vec::new();
    let mut sorted: Vec<&(u32, u64, bool)> = readers.iter().collect();
    sorted.sort_by_key(|r| (r.1, r.0));
    for &&(pid, txn_id, running) in &sorted {
        pins.push(Pin { pid, txn_id, running, pages: 0, process_age: None });
    }
    let mut split = FreeSplit::default();
    for record in free {
        split.total += record.pages;
        match pins.iter().rposition(|p| p.txn_id <= record.freed_by) {
            Some(i) => pins[i].pages += record.pages,
            None if record.freed_by >= last_txn_id => split.after_next_commit += record.pages,
            None => split.reusable += record.pages,
        }
    }
    split.pinned = pins;
    split
}

/// Everything `hedge space` reports.
#[derive(Debug)]
pub struct Space {
    pub path: String,
    pub page_size: u64,
    pub file_bytes: u64,
    pub map_bytes: u64,
    pub last_txn_id: u64,
    /// Pages up to the last one in use (meta pages included).
    pub used_pages: u64,
    pub databases: Vec<(Option<String>, DatabaseStat)>,
    pub free_list_tree: DatabaseStat,
    pub free: FreeSplit,
}

impl Space {
    fn file_pages(&self) -> u64 {
        self.file_bytes / self.page_size
    }

    fn map_pages(&self) -> u64 {
        self.map_bytes / self.page_size
    }

    fn tree_pages(stat: &DatabaseStat) -> u64 {
        (stat.branch_pages + stat.leaf_pages + stat.overflow_pages) as u64
    }

    fn database_pages(&self) -> u64 {
        self.databases.iter().map(|(_, s)| Self::tree_pages(s)).sum()
    }

    /// Pages in use that no database's counters include: the trees of `DUP_SORT` keys with
    /// many values (LMDB counts them in no record).
    fn other_pages(&self) -> u64 {
        self.used_pages.saturating_sub(
            2 + self.database_pages() + Self::tree_pages(&self.free_list_tree) + self.free.total,
        )
    }

    /// The pages a compacting copy would keep (no free pages, no free list).
    fn compacted_pages(&self) -> u64 {
        self.used_pages.saturating_sub(self.free.total + Self::tree_pages(&self.free_list_tree))
    }

    pub fn to_json(&self) -> Value {
        let db = |name: &Option<String>, s: &DatabaseStat| {
            json!({
                "name": name,
                "depth": s.depth,
                "branch_pages": s.branch_pages,
                "leaf_pages": s.leaf_pages,
                "overflow_pages": s.overflow_pages,
                "entries": s.entries,
            })
        };
        json!({
            "path": self.path,
            "page_size": self.page_size,
            "file_bytes": self.file_bytes,
            "map_bytes": self.map_bytes,
            "last_txn_id": self.last_txn_id,
            "pages": {
                "in_file": self.file_pages(),
                "in_map": self.map_pages(),
                "used": self.used_pages,
                "meta": 2,
                "databases": self.database_pages(),
                "free_list_tree": Self::tree_pages(&self.free_list_tree),
                "other": self.other_pages(),
                "free": self.free.total,
                "in_file_past_last_used": self.file_pages().saturating_sub(self.used_pages),
                "in_map_past_last_used": self.map_pages().saturating_sub(self.used_pages),
            },
            "free": {
                "total": self.free.total,
                "reusable": self.free.reusable,
                "after_next_commit": self.free.after_next_commit,
                "pinned": self.free.pinned.iter().map(|p| p.pages).sum::<u64>(),
                "pinned_by": self.free.pinned.iter().map(|p| json!({
                    "pid": p.pid,
                    "txn_id": p.txn_id,
                    "commits_behind": self.last_txn_id.saturating_sub(p.txn_id),
                    "running": p.running,
                    "process_age_seconds": p.process_age.map(|a| a.as_secs()),
                    "pages": p.pages,
                })).collect::<Vec<_>>(),
            },
            "databases": self.databases.iter().map(|(n, s)| db(n, s)).collect::<Vec<_>>(),
            "compacted_bytes_estimate": self.compacted_pages() * self.page_size,
            "reading": self.reading(),
        })
    }

    /// The plain-language paragraph.
    pub fn reading(&self) -> String {
        let pct = |part: u64, whole: u64| (part * 100 + whole / 2).checked_div(whole).unwrap_or(0);
        let used = self.used_pages;
        let data = used.saturating_sub(self.free.total);
        let mut text = format!(
            "The data file is {} ({} pages of {}); the map lets it grow to {}. ",
            bytes(self.file_bytes),
            self.file_pages(),
            bytes(self.page_size),
            bytes(self.map_bytes)
        );
        if self.free.total == 0 {
            let _ = write!(text, "Every one of the {used} pages in use holds data: nothing is free. ");
        } else {
            let _ = write!(
                text,
                "{} % of the pages in use hold data; {} % ({}) are free pages kept for reuse (LMDB never gives \
                 space back to the file system; it reuses free pages for later writes). ",
                pct(data, used),
                pct(self.free.total, used),
                pages(self.free.total)
            );
            let pinned: u64 = self.free.pinned.iter().map(|p| p.pages).sum();
            for (i, pin) in self.free.pinned.iter().enumerate().filter(|(_, p)| p.pages > 0) {
                let behind = self.last_txn_id.saturating_sub(pin.txn_id);
                let _ = write!(
                    text,
                    "{} % of those ({}) are pinned by reader pid {} holding txn {} ({behind} commit{} behind \
                     the last{}){}: they cannot be reused until that read transaction ends{}, so writes \
                     meanwhile grow the file. ",
                    pct(pin.pages, self.free.total),
                    pages(pin.pages),
                    pin.pid,
                    pin.txn_id,
                    if behind == 1 { "" } else { "s" },
                    pin.process_age
                        .map(|a| format!("; its process started {} ago", crate::process::spoken(a)))
                        .unwrap_or_default(),
                    if pin.running {
                        ""
                    } else {
                        ", a process that is gone: `hedge readers --clear-stale` frees its slot"
                    },
                    if i == 0 { "" } else { " and every older reader has ended" },
                );
            }
            if pinned == 0 {
                text.push_str("No reader pins any of them. ");
            }
            if self.free.after_next_commit > 0 {
                let _ = write!(
                    text,
                    "{} freed by the last commit become{} reusable after the next one. ",
                    pages(self.free.after_next_commit),
                    if self.free.after_next_commit == 1 { "s" } else { "" }
                );
            }
        }
        let past = self.file_pages().saturating_sub(used);
        if past > 0 {
            let _ = write!(
                text,
                "The file holds {} past the last one in use (never used yet, or freed at the end). ",
                pages(past)
            );
        }
        let _ = write!(
            text,
            "A compacting copy (`hedge copy --compact`) would be about {}.",
            bytes(self.compacted_pages() * self.page_size)
        );
        text
    }

    pub fn to_text(&self) -> String {
        let pct = |part: u64| {
            if self.used_pages == 0 { 0.0 } else { part as f64 * 100.0 / self.used_pages as f64 }
        };
        let mut out = String::new();
        let _ = writeln!(out, "{}", self.path);
        let _ = writeln!(
            out,
            "  file on disk      {:>12}  {:>10} pages of {}",
            bytes(self.file_bytes),
            self.file_pages(),
            bytes(self.page_size)
        );
        let _ = writeln!(
            out,
            "  map size          {:>12}  {:>10} pages",
            bytes(self.map_bytes),
            self.map_pages()
        );
        let _ = writeln!(
            out,
            "  pages in use      {:>12}  {:>10} pages (up to the last page, txn {})",
            bytes(self.used_pages * self.page_size),
            self.used_pages,
            self.last_txn_id
        );
        let _ = writeln!(
            out,
            "\n  {:<28} {:>9} {:>9} {:>9} {:>9} {:>7}",
            "pages", "branch", "leaf", "overflow", "total", "% used"
        );
        let _ = writeln!(out, "  {:<28} {:>9} {:>9} {:>9} {:>9} {:>6.1}%", "meta", "", "", "", 2, pct(2));
        for (name, s) in &self.databases {
            let label = match name {
                None => "(unnamed database)".to_string(),
                Some(n) => format!("{n:?}"),
            };
            let total = Self::tree_pages(s);
            let _ = writeln!(
                out,
                "  {:<28} {:>9} {:>9} {:>9} {:>9} {:>6.1}%",
                truncate(&label, 28),
                s.branch_pages,
                s.leaf_pages,
                s.overflow_pages,
                total,
                pct(total)
            );
        }
        let t = &self.free_list_tree;
        let total = Self::tree_pages(t);
        let _ = writeln!(
            out,
            "  {:<28} {:>9} {:>9} {:>9} {:>9} {:>6.1}%",
            "(free list's own tree)",
            t.branch_pages,
            t.leaf_pages,
            t.overflow_pages,
            total,
            pct(total)
        );
        if self.other_pages() > 0 {
            let _ = writeln!(
                out,
                "  {:<28} {:>9} {:>9} {:>9} {:>9} {:>6.1}%",
                "(DUP_SORT value trees)",
                "",
                "",
                "",
                self.other_pages(),
                pct(self.other_pages())
            );
        }
        let _ = writeln!(
            out,
            "  {:<28} {:>9} {:>9} {:>9} {:>9} {:>6.1}%",
            "free",
            "",
            "",
            "",
            self.free.total,
            pct(self.free.total)
        );
        let _ = writeln!(out, "    {:<26} {:>39}", "reusable by the next write", self.free.reusable);
        if self.free.after_next_commit > 0 {
            let _ =
                writeln!(out, "    {:<26} {:>39}", "reusable after next commit", self.free.after_next_commit);
        }
        for pin in &self.free.pinned {
            let label = format!(
                "pinned by pid {}{} (txn {}, {} behind)",
                pin.pid,
                if pin.running { "" } else { " [gone]" },
                pin.txn_id,
                self.last_txn_id.saturating_sub(pin.txn_id)
            );
            let _ = writeln!(out, "    {:<56} {:>9}", label, pin.pages);
        }
        let _ = writeln!(
            out,
            "  {:<28} {:>39}",
            "in the file past the last",
            self.file_pages().saturating_sub(self.used_pages)
        );
        let _ = writeln!(
            out,
            "  {:<28} {:>39}",
            "in the map past the last",
            self.map_pages().saturating_sub(self.used_pages)
        );
        out.push('\n');
        out.push_str(&wrap(&self.reading(), 92));
        out.push('\n');
        out
    }
}

fn pages(n: u64) -> String {
    if n == 1 { "1 page".into() } else { format!("{n} pages") }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n { s.to_string() } else { s.chars().take(n - 1).chain(['…']).collect() }
}

fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = 0;
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        if line > 0 && line + 1 + word.len() > width {
            out.push('\n');
            line = 0;
        } else if line > 0 {
            out.push(' ');
            line += 1;
        }
        out.push_str(word);
        line += word.len();
    }
    out
}

/// A byte count for people: `12.3 MiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{n} B") } else { format!("{value:.1} {}", UNITS[unit]) }
}

pub fn space(path: &Path, trust: bool) -> Result<Space, Failure> {
    let at = open::locate(path)?;
    let (env, names) = open::open_for_reading(&at, trust)?;
    let main = open::open_main(&env, &at)?;
    let opened = open::open_named(&env, &at, &names)?;
    let rtxn = env.read_txn().map_err(|e| explain(&at, e))?;
    let info = env.info();
    let own = std::process::id();
    let readers: Vec<(u32, u64, bool)> = env
        .readers()
        .map_err(|e| explain(&at, e))?
        .into_iter()
        .filter(|r| r.pid != own)
        .filter_map(|r| Some((r.pid, r.txn_id?, crate::process::running(r.pid))))
        .collect();
    let (free, free_list_tree) = env.free_list(&rtxn).map_err(|e| explain(&at, e))?;
    let mut databases = vec![(None, main.stat(&rtxn).map_err(|e| explain(&at, e))?)];
    for (name, named) in opened {
        if let Named::Open(db) = named {
            databases.push((Some(open::name_text(&name)), db.stat(&rtxn).map_err(|e| explain(&at, e))?));
        }
    }
    let last_txn_id = rtxn.id() as u64;
    let mut free = split_free(&free, &readers, last_txn_id);
    for pin in &mut free.pinned {
        pin.process_age = crate::process::age(pin.pid);
    }
    Ok(Space {
        path: at.shown(),
        page_size: u64::from(free_list_tree.page_size),
        file_bytes: at.data.metadata().map_err(|e| Failure(format!("{}: {e}", at.data.display())))?.len(),
        map_bytes: info.map_size as u64,
        last_txn_id,
        used_pages: info.last_page_number as u64 + 1,
        databases,
        free_list_tree,
        free,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(freed_by: u64, pages: u64) -> FreeListEntry {
        FreeListEntry { freed_by, pages }
    }

    #[test]
    fn free_pages_are_charged_to_the_newest_reader_that_needs_them() {
        let free = [record(3, 5), record(5, 7), record(8, 11), record(10, 13)];
        // Readers at snapshots 5 and 8; the last commit is 10.
        let split = split_free(&free, &[(200, 8, true), (100, 5, false)], 10);
        assert_eq!(split.total, 36);
        assert_eq!(split.reusable, 5, "freed by 3, before every reader's snapshot");
        assert_eq!(split.after_next_commit, 0, "the reader at 8 needs what 10 freed");
        assert_eq!(
            split.pinned,
            [
                Pin { pid: 100, txn_id: 5, running: false, pages: 7, process_age: None },
                Pin { pid: 200, txn_id: 8, running: true, pages: 24, process_age: None },
            ]
        );
    }

    #[test]
    fn without_readers_only_the_last_commit_s_pages_wait() {
        let split = split_free(&[record(3, 5), record(10, 13)], &[], 10);
        assert_eq!((split.reusable, split.after_next_commit, split.pinned.len()), (5, 13, 0));
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(4096), "4.0 KiB");
        assert_eq!(bytes(3 << 30), "3.0 GiB");
    }
}

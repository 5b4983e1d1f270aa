//! [`Env::check`](crate::Env::check): an offline consistency check of an environment.

use std::ffi::CString;

use crate::Result;
use crate::mdb::error::MdbError;
use crate::mdb::ffi;
use crate::mdb::handle::{RawCursor, RawEnv, RawTxn};

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
    /// Entries visited, over all databases.
    pub entries: u64,
    /// Pages of the databases' trees (branch, leaf and overflow pages).
    pub tree_pages: u64,
    /// Pages in the free list.
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

const NUM_METAS: u64 = 2;

pub(crate) fn run(env: &RawEnv) -> Result<CheckReport> {
    let mut report = CheckReport::default();
    let info = env.info();
    let page_size = u64::from(env.stat().ms_psize);
    report.last_page = info.me_last_pgno as u64;
    let needed = (report.last_page + 1) * page_size;
    let file_len = env.clone_data_file()?.metadata()?.len();
    if file_len < needed {
        report.problems.push(format!(
            "the data file is truncated: the meta page says {} pages ({needed} bytes), the file has {file_len} bytes",
            report.last_page + 1
        ));
        return Ok(report); // reading the missing pages would fault
    }
    // SAFETY: a top-level read txn of this live env, ended below before the env can close
    // (the caller borrows the env for the whole call).
    let txn = unsafe { RawTxn::begin(env, None, ffi::MDB_RDONLY) }?;
    let result = check_txn(&txn, &mut report);
    txn.abort();
    result.map(|()| report)
}

fn check_txn(txn: &RawTxn, report: &mut CheckReport) -> Result<()> {
    let main = txn.dbi_open(None, 0)?;
    let mut databases: Vec<(String, ffi::MDB_dbi)> = vec![("the unnamed database".into(), main)];
    let mut names = Vec::new();
    {
        let mut cursor = RawCursor::open(txn, main)?;
        let mut op = ffi::MDB_FIRST;
        loop {
            match cursor.get(op, None) {
                Ok(Some((key, _))) => names.push(key.to_vec()),
                Ok(None) => break,
                Err(e) => {
                    report.problems.push(format!("listing the named databases: LMDB reports {e}"));
                    break;
                }
            }
            op = ffi::MDB_NEXT_NODUP;
        }
    }
    for name in names {
        let Ok(c_name) = CString::new(name.clone()) else { continue };
        let shown = String::from_utf8_lossy(&name).into_owned();
        match txn.dbi_open(Some(&c_name), 0) {
            Ok(dbi) => databases.push((format!("database {shown:?}"), dbi)),
            Err(MdbError::Incompatible) => {} // a plain key of the unnamed database
            Err(MdbError::DbsFull) => report.problems.push(format!(
                "database {shown:?} not checked: more named databases than the env's max_dbs; open it with a larger max_dbs"
            )),
            Err(e) => report.problems.push(format!("database {shown:?}: cannot be opened: {e}")),
        }
    }
    let mut any_dupsort = false;
    for (name, dbi) in &databases {
        any_dupsort |= check_database(txn, name, *dbi, report)?;
    }
    report.databases = databases.len();
    check_free_list(txn, report)?;
    if any_dupsort {
        // Sub-databases of DUP_SORT keys have pages that LMDB's API does not count.
    } else if report.problems.is_empty() {
        let accounted = NUM_METAS + report.tree_pages + report.free_pages;
        if accounted != report.last_page + 1 {
            report.problems.push(format!(
                "page accounting: {} tree pages + {} free pages + {NUM_METAS} meta pages = {accounted}, but pages \
                 0..={} are in use: pages are leaked or used twice",
                report.tree_pages, report.free_pages, report.last_page
            ));
        }
    }
    Ok(())
}

/// Walks one database in order; returns whether it is DUP_SORT.
fn check_database(txn: &RawTxn, name: &str, dbi: ffi::MDB_dbi, report: &mut CheckReport) -> Result<bool> {
    let dupsort = txn.dbi_flags(dbi)? & ffi::MDB_DUPSORT != 0;
    let stat = txn.stat(dbi)?;
    report.tree_pages += (stat.ms_branch_pages + stat.ms_leaf_pages + stat.ms_overflow_pages) as u64;
    let mut cursor = RawCursor::open(txn, dbi)?;
    let mut previous: Option<(&[u8], &[u8])> = None;
    let mut count = 0u64;
    let mut op = ffi::MDB_FIRST;
    loop {
        let (key, value) = match cursor.get(op, None) {
            Ok(Some(entry)) => entry,
            Ok(None) => break,
            Err(e) => {
                report.problems.push(format!("{name}: LMDB reports {e} after {count} entries"));
                break;
            }
        };
        // Read both ends of the value: its pages exist (LMDB checked their numbers).
        std::hint::black_box((value.first(), value.last()));
        if let Some((pk, pv)) = previous {
            let by_key = txn.compare(dbi, false, pk, key);
            let ordered = match by_key {
                std::cmp::Ordering::Less => true,
                std::cmp::Ordering::Equal => dupsort && txn.compare(dbi, true, pv, value).is_lt(),
                std::cmp::Ordering::Greater => false,
            };
            if !ordered {
                report.problems.push(format!(
                    "{name}: entry {count} is out of order (key {:02x?} after {:02x?})",
                    &key[..key.len().min(16)],
                    &pk[..pk.len().min(16)]
                ));
            }
        }
        previous = Some((key, value));
        count += 1;
        op = ffi::MDB_NEXT;
    }
    if count != stat.ms_entries as u64 {
        report.problems.push(format!("{name}: {count} entries visited, but its header counts {}", stat.ms_entries));
    }
    report.entries += count;
    Ok(dupsort)
}

/// Counts the free list's pages (LMDB's free database: values are page-number lists, a
/// count followed by that many page numbers).
fn check_free_list(txn: &RawTxn, report: &mut CheckReport) -> Result<()> {
    const FREE_DBI: ffi::MDB_dbi = 0;
    let word = std::mem::size_of::<usize>();
    let stat = txn.stat(FREE_DBI)?;
    report.tree_pages += (stat.ms_branch_pages + stat.ms_leaf_pages + stat.ms_overflow_pages) as u64;
    let mut cursor = RawCursor::open(txn, FREE_DBI)?;
    let mut op = ffi::MDB_FIRST;
    loop {
        match cursor.get(op, None) {
            Ok(Some((_, ids))) => {
                let n = ids.get(..word).map(|w| usize::from_ne_bytes(w.try_into().expect("one word")));
                match n {
                    Some(n) if ids.len() == (n + 1) * word => report.free_pages += n as u64,
                    _ => report.problems.push(format!("free list: a record of {} bytes is not a page list", ids.len())),
                }
            }
            Ok(None) => break,
            Err(e) => {
                report.problems.push(format!("free list: LMDB reports {e}"));
                break;
            }
        }
        op = ffi::MDB_NEXT;
    }
    Ok(())
}

//! `hedge stat`: what `mdb_stat -e -f -r -a` prints, line for line.

use std::fmt::Write as _;
use std::path::Path;

use hedge::{DatabaseStat, ReaderInfo};

use crate::open::{self, Failure, Named, explain};

/// The reader table as `mdb_reader_list` prints it.
pub fn reader_table(readers: &[ReaderInfo]) -> String {
    if readers.is_empty() {
        return "(no active readers)\n".into();
    }
    let mut out = String::from("    pid     thread     txnid\n");
    for r in readers {
        let txn = r.txn_id.map_or("-".to_string(), |t| t.to_string());
        let _ = writeln!(out, "{:>10} {:x} {txn}", r.pid, r.thread);
    }
    out
}

fn tree(out: &mut String, stat: &DatabaseStat) {
    let _ = write!(
        out,
        "  Tree depth: {}\n  Branch pages: {}\n  Leaf pages: {}\n  Overflow pages: {}\n  Entries: {}\n",
        stat.depth, stat.branch_pages, stat.leaf_pages, stat.overflow_pages, stat.entries
    );
}

/// The report of `hedge stat ENV [DB]`.
pub fn stat(path: &Path, database: Option<&str>, trust: bool) -> Result<String, Failure> {
    let at = open::locate(path)?;
    let mut out = String::new();
    let (env, names) = open::open_for_reading_after(&at, trust, |env| {
        let info = env.info();
        let page_size = env.unnamed_database_stat().page_size as usize;
        let map_addr =
            if info.map_addr.is_null() { "(nil)".to_string() } else { format!("{:p}", info.map_addr) };
        let _ = write!(
            out,
            "Environment Info\n  Map address: {map_addr}\n  Map size: {}\n  Page size: {page_size}\n  Max pages: {}\n  \
             Number of pages used: {}\n  Last transaction ID: {}\n  Max readers: {}\n  Number of readers used: {}\n",
            info.map_size,
            info.map_size / page_size,
            info.last_page_number + 1,
            info.last_txn_id,
            info.maximum_number_of_readers,
            info.number_of_readers,
        );
        out.push_str("Reader Table Status\n");
        out.push_str(&reader_table(&env.readers().map_err(|e| explain(&at, e))?));
        Ok(())
    })?;

    let main = open::open_main(&env, &at)?;
    let opened = match database {
        Some(name) => open::open_named(&env, &at, &[name.as_bytes().to_vec()])?,
        None => open::open_named(&env, &at, &names)?,
    };
    let rtxn = env.read_txn().map_err(|e| explain(&at, e))?;
    out.push_str("Freelist Status\n");
    let (free, free_tree) = env.free_list(&rtxn).map_err(|e| explain(&at, e))?;
    tree(&mut out, &free_tree);
    let _ = writeln!(out, "  Free pages: {}", free.iter().map(|r| r.pages).sum::<u64>());
    if database.is_none() {
        out.push_str("Status of Main DB\n");
        tree(&mut out, &main.stat(&rtxn).map_err(|e| explain(&at, e))?);
    }
    for (name, named) in opened {
        match named {
            Named::Open(db) => {
                let _ = writeln!(out, "Status of {}", open::name_text(&name));
                tree(&mut out, &db.stat(&rtxn).map_err(|e| explain(&at, e))?);
            }
            Named::NotUtf8 => {
                eprintln!(
                    "hedge: skipped the database named {:?}: its name is not UTF-8",
                    open::name_text(&name)
                )
            }
            Named::Missing | Named::NotADatabase if database.is_some() => {
                return open::fail(format!(
                    "{}: no database named {:?} (`hedge stat {}` lists the named databases)",
                    at.shown(),
                    open::name_text(&name),
                    at.shown()
                ));
            }
            Named::Missing | Named::NotADatabase => {}
        }
    }
    Ok(out)
}

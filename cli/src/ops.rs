//! `hedge check`, `hedge readers`, `hedge copy`.

use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use hedge::CompactionOption;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::open::{self, Failure, Opening, explain, fail};

/// Whether progress is drawn: on a terminal, unless turned off.
pub fn progress_wanted(no_progress: bool) -> bool {
    !no_progress && std::io::stderr().is_terminal()
}

fn bar(len: u64, wanted: bool, template: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(
        Some(len),
        if wanted { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() },
    );
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar
}

/// The outcome of `hedge check`: the text to print and whether the environment is sound.
pub fn check(path: &Path, progress: bool) -> Result<(String, bool), Failure> {
    let at = open::locate(path)?;
    let env = open::open(&at, Opening::default())?;
    let pages = env.info().last_page_number as u64 + 1;
    let bar = bar(pages, progress, "{spinner} checking {pos}/{len} pages [{bar:40}] {elapsed}");
    let report = env.check_with_progress(|done| bar.set_position(done)).map_err(|e| explain(&at, e))?;
    bar.finish_and_clear();
    let mut out = String::new();
    if report.is_ok() {
        let _ = writeln!(
            out,
            "{}: consistent: {} database{}, {} entries, {} pages in trees, {} free pages, last page {}",
            at.shown(),
            report.databases,
            if report.databases == 1 { "" } else { "s" },
            report.entries,
            report.tree_pages,
            report.free_pages,
            report.last_page
        );
    } else {
        let _ = writeln!(
            out,
            "{}: {} problem{} found:",
            at.shown(),
            report.problems.len(),
            plural(report.problems.len())
        );
        for problem in &report.problems {
            let _ = writeln!(out, "  {problem}");
        }
        let _ = writeln!(
            out,
            "The environment is damaged: restore it from a copy. A copy of what is still readable: hedge dump \
             --no-verify {} > salvage.txt (LMDB may stop on a damaged page).",
            at.shown()
        );
    }
    Ok((out, report.is_ok()))
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `hedge readers [--clear-stale]`.
pub fn readers(path: &Path, clear_stale: bool) -> Result<String, Failure> {
    let at = open::locate(path)?;
    let env = open::open(&at, Opening::default())?;
    let mut out = String::new();
    if clear_stale {
        let cleared = env.clear_stale_readers().map_err(|e| explain(&at, e))?;
        let _ = writeln!(
            out,
            "cleared {cleared} stale reader slot{} (of processes that are gone)",
            plural(cleared)
        );
    }
    let last = env.info().last_txn_id as u64;
    let readers = env.readers().map_err(|e| explain(&at, e))?;
    if readers.is_empty() {
        let _ = writeln!(out, "no readers (last txn {last})");
        return Ok(out);
    }
    let _ = writeln!(out, "{:>10} {:>16} {:>12} {:>14}  process", "pid", "thread", "txn", "behind last");
    for r in &readers {
        let (txn, behind) = match r.txn_id {
            Some(t) => (t.to_string(), last.saturating_sub(t).to_string()),
            None => ("-".into(), "(idle slot)".into()),
        };
        let state = match (crate::process::running(r.pid), crate::process::age(r.pid)) {
            (false, _) => "gone: stale slot (--clear-stale frees it)".to_string(),
            (true, Some(age)) => format!("running, started {} ago", crate::process::spoken(age)),
            (true, None) => "running".to_string(),
        };
        let _ = writeln!(out, "{:>10} {:>16x} {txn:>12} {behind:>14}  {state}", r.pid, r.thread);
    }
    Ok(out)
}

/// `hedge copy ENV DEST [--compact]`; returns the size of the copy.
pub fn copy(path: &Path, dest: &Path, compact: bool, trust: bool, progress: bool) -> Result<u64, Failure> {
    let at = open::locate(path)?;
    let shown = dest.display();
    let created = match std::fs::read_dir(dest) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return fail(format!(
                    "{shown} exists and is not empty: give a new or empty directory (hedge copy never overwrites)"
                ));
            }
            false
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir(dest).map_err(|e| {
                Failure(format!("{shown}: cannot create the directory: {e} (does its parent exist?)"))
            })?;
            true
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => {
            return fail(format!("{shown} exists and is a file: give a new or empty directory"));
        }
        Err(e) => return fail(format!("{shown}: {e}")),
    };
    let target = dest.join("data.mdb");
    let result = copy_into(&at, &target, compact, trust, progress);
    if result.is_err() {
        let _ = std::fs::remove_file(&target);
        if created {
            let _ = std::fs::remove_dir(dest);
        }
    }
    result
}

fn copy_into(
    at: &open::Located,
    target: &Path,
    compact: bool,
    trust: bool,
    progress: bool,
) -> Result<u64, Failure> {
    let env = open::open(at, Opening::default())?;
    if !trust {
        open::verify(&env, at)?;
    }
    let info = env.info();
    let page_size = u64::from(env.unnamed_database_stat().page_size);
    let used = info.last_page_number as u64 + 1;
    let expected = if compact {
        let rtxn = env.read_txn().map_err(|e| explain(at, e))?;
        let (free, tree) = env.free_list(&rtxn).map_err(|e| explain(at, e))?;
        let free: u64 = free.iter().map(|r| r.pages).sum();
        used.saturating_sub(free + (tree.branch_pages + tree.leaf_pages + tree.overflow_pages) as u64)
    } else {
        used
    } * page_size;
    let bar = bar(expected, progress, "{spinner} copying {bytes}/{total_bytes} [{bar:40}] {elapsed}");
    let done = AtomicBool::new(false);
    let option = if compact { CompactionOption::Enabled } else { CompactionOption::Disabled };
    let result = std::thread::scope(|s| {
        s.spawn(|| {
            let mut waited = Duration::ZERO;
            let mut said = false;
            while !done.load(Ordering::Acquire) {
                let written = std::fs::metadata(target).map(|m| m.len()).unwrap_or(0);
                bar.set_position(written.min(expected));
                if written == 0 && !compact && !said && waited >= Duration::from_secs(2) {
                    eprintln!(
                        "hedge: waiting for the write lock of {}: a plain copy takes it, and another process is \
                         writing (--compact copies without it). Ctrl-C gives up",
                        at.shown()
                    );
                    said = true;
                }
                std::thread::sleep(Duration::from_millis(100));
                waited += Duration::from_millis(100);
            }
        });
        let result = env.copy_to_path(target, option);
        done.store(true, Ordering::Release);
        result
    });
    bar.finish_and_clear();
    let file = result.map_err(|e| explain(at, e))?;
    file.sync_all().map_err(|e| Failure(format!("{}: {e}", target.display())))?;
    Ok(file.metadata().map(|m| m.len()).unwrap_or(0))
}

//! The regression programs of `tests/tests/soundness.rs` (hedge's soundness holes), ported to
//! heed 0.23.1 where its API allows, to list the holes heed has too.
//!
//! ```text
//! cargo run --release -p hedge-bench --bin heed_holes                 # every case, a table
//! cargo run --release -p hedge-bench --bin heed_holes -- 5 9b          # cases 5a to 5c, and 9b
//! HEED_HOLES_VALGRIND=1 cargo run --release -p hedge-bench --bin heed_holes
//! ```
//!
//! Many cases crash, abort or wait for ever, so each runs in a child process (this binary with
//! `--case <id>`); the parent kills a child that is still running after 20 s
//! (`HEED_HOLES_TIMEOUT_SECS`) and reports how each one ended. A child prints `step:` lines as
//! it goes (the last one says where a crash or a hang happened) and ends with a `RESULT` line.
//! Where the hole is undefined behaviour that does not crash by itself, the case makes it
//! observable (the address of the value returned, bytes that change under a borrowed value, a
//! database that reads back wrong); with `HEED_HOLES_VALGRIND=1` the cases marked so also run
//! under `valgrind -q --error-exitcode=99`, whose errors count as the hole. Holes 3 and 11 are
//! about hedge's `Env::check`, which heed does not have; 10b and 16 are not numbered holes of
//! soundness.rs (16 is its last, unnumbered test; 10b was found while porting 10).

use std::cmp::Ordering;
use std::fs;
use std::hint::black_box;
use std::io::{Read, Seek, Write};
use std::os::unix::process::ExitStatusExt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use heed::types::{Bytes, SerdeBincode, Str};
use heed::{
    CommitOrAbort, CompactionOption, Comparator, Database, DatabaseFlags, DefaultComparator, Env, EnvFlags,
    EnvOpenOptions, IntegerComparator, PutFlags, RoTxn, RwTxn, WithTls, WithoutTls,
};

/// The directory children create their files in; the parent removes it, also after a kill.
const TMP_VAR: &str = "HEED_HOLES_TMP";

/// What a case shows about heed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Verdict {
    /// The hole shows: a wrong or freed value, a crash, a hang, a lost commit, a broken order,
    /// a memory error.
    Hole,
    /// heed accepts what hedge refuses because LMDB then reads or writes out of bounds, but
    /// nothing showed in this run (valgrind may).
    Accepted,
    /// heed refuses, or behaves correctly.
    Safe,
    /// Reachable only through an `unsafe fn` whose documentation states the rule.
    UnsafeFn,
    /// heed has no such API.
    NotApplicable,
    /// The port itself failed (an unexpected error or panic): nothing learned.
    PortFailed,
}

impl Verdict {
    const ALL: [Verdict; 6] = [
        Verdict::Hole,
        Verdict::Accepted,
        Verdict::Safe,
        Verdict::UnsafeFn,
        Verdict::NotApplicable,
        Verdict::PortFailed,
    ];

    fn code(self) -> &'static str {
        match self {
            Verdict::Hole => "hole",
            Verdict::Accepted => "accepted",
            Verdict::Safe => "safe",
            Verdict::UnsafeFn => "unsafe-fn",
            Verdict::NotApplicable => "n/a",
            Verdict::PortFailed => "port-failed",
        }
    }

    fn from_code(code: &str) -> Option<Verdict> {
        Verdict::ALL.into_iter().find(|v| v.code() == code)
    }

    fn label(self) -> &'static str {
        match self {
            Verdict::Hole => "YES",
            Verdict::Accepted => "accepted, no symptom seen",
            Verdict::Safe => "no",
            Verdict::UnsafeFn => "only via an unsafe fn",
            Verdict::NotApplicable => "n/a",
            Verdict::PortFailed => "? (port failed)",
        }
    }
}

struct Case {
    id: &'static str,
    what: &'static str,
    /// `None`: heed has no API for it.
    run: Option<fn()>,
    /// The hole is a silent memory error: worth running under valgrind.
    valgrind: bool,
}

const CASES: &[Case] = &[
    Case {
        id: "1a",
        what: "get_or_put_with_flags(APPEND), key not last (Bytes)",
        run: Some(append_returns_the_input),
        valgrind: false,
    },
    Case {
        id: "1b",
        what: "get_or_put_with_flags(APPEND), key not last (SerdeBincode<&str>)",
        run: Some(append_returns_freed_bytes),
        valgrind: true,
    },
    Case {
        id: "1c",
        what: "get_or_put_reserved_with_flags(APPEND), key not last",
        run: Some(append_reserved),
        valgrind: false,
    },
    Case {
        id: "1d",
        what: "get_or_put_with_flags(APPEND_DUP), value not last",
        run: Some(append_dup),
        valgrind: true,
    },
    Case {
        id: "2",
        what: "nested_write_txn with a parent of another env",
        run: Some(nested_write_txn_of_another_env),
        valgrind: true,
    },
    Case { id: "3", what: "Env::check beside database openings", run: None, valgrind: false },
    Case {
        id: "4",
        what: "leaked WithTls static_read_txn, its thread exits",
        run: Some(leaked_reader_of_an_exited_thread),
        valgrind: false,
    },
    Case {
        id: "5a",
        what: "DUP_FIXED: values of 8 and 3 bytes beside a 4-byte one",
        run: Some(dup_fixed_other_sizes),
        valgrind: true,
    },
    Case {
        id: "5b",
        what: "DUP_FIXED: an empty value beside a 4-byte one",
        run: Some(dup_fixed_empty_beside),
        valgrind: true,
    },
    Case {
        id: "5c",
        what: "DUP_FIXED: an empty first value, then a 4-byte one",
        run: Some(dup_fixed_empty_first),
        valgrind: true,
    },
    Case {
        id: "6a",
        what: "IntegerComparator: keys of 0, 2, 3, 5, 8 bytes",
        run: Some(integer_keys_of_other_sizes),
        valgrind: true,
    },
    Case {
        id: "6b",
        what: "INTEGER_DUP: values of 4, 6, 0 bytes beside a u64",
        run: Some(integer_dups_of_other_sizes),
        valgrind: true,
    },
    Case {
        id: "7a",
        what: "put_reserved: the closure writes 3 bytes, panics",
        run: Some(|| reserved_left_unwritten(true)),
        valgrind: true,
    },
    Case {
        id: "7b",
        what: "put_reserved: the closure writes 3 bytes, returns Ok",
        run: Some(|| reserved_left_unwritten(false)),
        valgrind: true,
    },
    Case {
        id: "8a",
        what: "max_dbs(u32::MAX)",
        run: Some(|| huge_limits(Some(u32::MAX), None)),
        valgrind: true,
    },
    Case {
        id: "8b",
        what: "max_dbs(u32::MAX - 1)",
        run: Some(|| huge_limits(Some(u32::MAX - 1), None)),
        valgrind: true,
    },
    Case {
        id: "8c",
        what: "max_dbs(70_409_298): the write txn's int size wraps",
        run: Some(|| huge_limits(Some(WRAPPING_MAX_DBS), None)),
        valgrind: false,
    },
    Case {
        id: "8d",
        what: "max_readers(u32::MAX)",
        run: Some(|| huge_limits(None, Some(u32::MAX))),
        valgrind: false,
    },
    Case {
        id: "9a",
        what: "same env again: NO_SUB_DIR on dir/data.mdb",
        run: Some(|| same_env_twice(Reopen::DataFileNoSubDir)),
        valgrind: false,
    },
    Case {
        id: "9b",
        what: "same env again: a hard link to data.mdb",
        run: Some(|| same_env_twice(Reopen::HardLink)),
        valgrind: false,
    },
    Case {
        id: "9c",
        what: "same env again: a symlink to the directory",
        run: Some(|| same_env_twice(Reopen::Symlink)),
        valgrind: false,
    },
    Case {
        id: "9d",
        what: "same env again: the directory renamed",
        run: Some(|| same_env_twice(Reopen::RenamedDir)),
        valgrind: false,
    },
    Case {
        id: "9e",
        what: "same env again: lock.mdb as a NO_SUB_DIR data file",
        run: Some(|| same_env_twice(Reopen::LockFileAsData)),
        valgrind: false,
    },
    Case {
        id: "10a",
        what: "leaked nested reader below a nested write txn",
        run: Some(leaked_reader_below_nested_write),
        valgrind: true,
    },
    Case {
        id: "10b",
        what: "(extra) 2 nested readers, drop the 2nd, begin a 3rd",
        run: Some(nested_reader_after_a_dropped_sibling),
        valgrind: true,
    },
    Case { id: "11", what: "Env::check on damaged database records", run: None, valgrind: false },
    Case {
        id: "12",
        what: "reopen a database with another comparator",
        run: Some(reopen_with_another_comparator),
        valgrind: false,
    },
    Case {
        id: "13a",
        what: "try_clone_inner_file: is the handle writable?",
        run: Some(inner_file_is_writable),
        valgrind: false,
    },
    Case {
        id: "13b",
        what: "copy_to_file(Disabled) onto the env's data.mdb",
        run: Some(|| copy_onto_own_file("data.mdb", CompactionOption::Disabled)),
        valgrind: false,
    },
    Case {
        id: "13c",
        what: "copy_to_file(Enabled) onto the env's data.mdb",
        run: Some(|| copy_onto_own_file("data.mdb", CompactionOption::Enabled)),
        valgrind: false,
    },
    Case {
        id: "13d",
        what: "copy_to_file(Disabled) onto the env's lock.mdb",
        run: Some(|| copy_onto_own_file("lock.mdb", CompactionOption::Disabled)),
        valgrind: false,
    },
    Case {
        id: "14",
        what: "put_current with another key",
        run: Some(put_current_with_another_key),
        valgrind: false,
    },
    Case {
        id: "15a",
        what: "RwTxn: Send; commit on another thread, write_txn here",
        run: Some(write_txn_committed_on_another_thread),
        valgrind: false,
    },
    Case {
        id: "15b",
        what: "write_txn twice on one thread",
        run: Some(write_txn_twice_on_one_thread),
        valgrind: false,
    },
    Case {
        id: "15c",
        what: "copy_to_file(Disabled) while this thread writes",
        run: Some(plain_copy_while_writing),
        valgrind: false,
    },
    Case {
        id: "15d",
        what: "open databases inside create_databases_and_commit",
        run: Some(open_databases_inside_an_opening),
        valgrind: false,
    },
    Case {
        id: "16",
        what: "INTEGER_KEY on the unnamed db holding db names",
        run: Some(integer_key_on_the_unnamed_database),
        valgrind: true,
    },
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [flag, id] = args.as_slice() {
        if flag == "--case" {
            return child(id);
        }
    }
    parent(&args)
}

// ---------------------------------------------------------------------------------------------
// The parent: one child process per case, a table.

struct Run {
    verdict: Verdict,
    outcome: String,
    details: Vec<String>,
}

fn parent(filters: &[String]) -> ExitCode {
    let exe = std::env::current_exe().expect("the path of this binary");
    let valgrind = std::env::var("HEED_HOLES_VALGRIND").is_ok_and(|v| v == "1");
    let timeout = Duration::from_secs(
        std::env::var("HEED_HOLES_TIMEOUT_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(20),
    );
    let root = tempfile::tempdir().expect("a temporary directory");
    let cases: Vec<&Case> =
        CASES.iter().filter(|c| filters.is_empty() || filters.iter().any(|f| selects(f, c.id))).collect();
    if cases.is_empty() {
        eprintln!(
            "no case matches {filters:?}; the ids are {:?}",
            CASES.iter().map(|c| c.id).collect::<Vec<_>>()
        );
        return ExitCode::FAILURE;
    }
    println!(
        "heed 0.23.1 ({}), each case in its own process, killed after {} s{}",
        heed::lmdb_version().string,
        timeout.as_secs(),
        if valgrind { "; cases marked (valgrind) ran under valgrind -q --error-exitcode=99" } else { "" }
    );
    println!();
    let mut rows = Vec::new();
    let mut details = Vec::new();
    for case in cases {
        eprintln!("running {} {}", case.id, case.what);
        let under_valgrind = valgrind && case.valgrind;
        let run = run_case(case, &exe, root.path(), timeout, under_valgrind);
        let what = if under_valgrind { format!("{} (valgrind)", case.what) } else { case.what.to_owned() };
        rows.push([case.id.to_owned(), what.clone(), run.outcome, run.verdict.label().to_owned()]);
        if !run.details.is_empty() {
            details.push((format!("{} {what}", case.id), run.details));
        }
    }
    print_table(&["case", "what the program does", "outcome in heed 0.23.1", "hole in heed?"], &rows);
    println!();
    println!("Steps of each case (the last one is where a crash or hang happened):");
    for (title, lines) in details {
        println!();
        println!("{title}");
        for line in lines {
            println!("    {line}");
        }
    }
    ExitCode::SUCCESS
}

/// `5` selects 5a, 5b and 5c; `1` selects 1a to 1d, not 10a or 12.
fn selects(filter: &str, id: &str) -> bool {
    id.strip_prefix(filter).is_some_and(|rest| rest.chars().all(|c| c.is_ascii_alphabetic()))
}

fn run_case(case: &Case, exe: &Path, root: &Path, timeout: Duration, under_valgrind: bool) -> Run {
    if case.run.is_none() {
        return Run {
            verdict: Verdict::NotApplicable,
            outcome: "not applicable: heed has no Env::check".to_owned(),
            details: Vec::new(),
        };
    }
    let mut command = if under_valgrind {
        let mut command = Command::new("valgrind");
        command.args(["-q", "--error-exitcode=99"]).arg(exe);
        command
    } else {
        Command::new(exe)
    };
    command
        .args(["--case", case.id])
        .env(TMP_VAR, root)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("spawn a child");
    let stdout = drain(child.stdout.take().expect("piped"));
    let stderr = drain(child.stderr.take().expect("piped"));
    // Valgrind runs the program some 20 to 50 times slower.
    let limit = if under_valgrind { timeout * 3 } else { timeout };
    let started = Instant::now();
    let status: Option<ExitStatus> = loop {
        if let Some(status) = child.try_wait().expect("wait for a child") {
            break Some(status);
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stdout = stdout.join().expect("read the child's stdout");
    let stderr = stderr.join().expect("read the child's stderr");

    let steps: Vec<String> =
        stdout.lines().filter_map(|l| l.strip_prefix("step: ")).map(str::to_owned).collect();
    let result = stdout.lines().find_map(|l| l.strip_prefix("RESULT\t")).and_then(|r| {
        let (code, outcome) = r.split_once('\t')?;
        Some((Verdict::from_code(code)?, outcome.to_owned()))
    });
    let last_step = steps.last().map_or("its start", String::as_str);
    let memory_errors = valgrind_errors(&stderr);
    let signal = status.and_then(|s| s.signal());
    let (mut verdict, mut outcome) = match (status, signal, result) {
        (None, _, _) => (Verdict::Hole, format!("hang (killed after {} s) at: {last_step}", limit.as_secs())),
        (_, Some(signal), _) => {
            let mut outcome = format!("{} at: {last_step}", signal_name(signal));
            // An abort says why on stderr (LMDB's assertion, malloc's consistency check).
            if signal == libc::SIGABRT {
                if let Some(line) =
                    stderr.lines().rev().find(|l| !l.trim().is_empty() && !l.starts_with("=="))
                {
                    outcome.push_str(&format!(" [stderr: {}]", line.trim()));
                }
            }
            (Verdict::Hole, outcome)
        }
        (Some(_), None, Some(result)) => result,
        (Some(status), None, None) => {
            let line = stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("");
            (
                Verdict::PortFailed,
                format!("exit {:?} at: {last_step} [stderr: {}]", status.code(), line.trim()),
            )
        }
    };
    if !memory_errors.is_empty() {
        outcome.push_str(&format!("; valgrind: {}", summarise(&memory_errors)));
        verdict = Verdict::Hole;
    }
    let mut details = steps;
    details.extend(
        memory_errors
            .iter()
            .map(|e| format!("valgrind: {} in {}", e.headline, e.frame.as_deref().unwrap_or("?"))),
    );
    Run { verdict, outcome, details }
}

fn drain(mut pipe: impl Read + Send + 'static) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// One error of memcheck: its headline and the first frame in LMDB or in Rust code.
struct MemoryError {
    headline: String,
    frame: Option<String>,
}

fn valgrind_errors(stderr: &str) -> Vec<MemoryError> {
    const KINDS: [&str; 9] = [
        "Invalid read",
        "Invalid write",
        "Invalid free",
        "Conditional jump",
        "Use of uninitialised",
        "Syscall param",
        "Mismatched free",
        "Source and destination overlap",
        "Argument 'size'",
    ];
    // Memcheck prefixes every line with `==pid== `.
    let lines: Vec<&str> = stderr
        .lines()
        .filter_map(|l| l.strip_prefix("==").and_then(|l| l.split_once("== ")).map(|(_, rest)| rest))
        .collect();
    let mut errors = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if !KINDS.iter().any(|k| line.starts_with(k)) {
            continue;
        }
        let frames: Vec<&str> = lines[i + 1..]
            .iter()
            .take_while(|l| l.trim_start().starts_with("at ") || l.trim_start().starts_with("by "))
            // `at 0x4C2F: mdb_node_add (mdb.c:8630)` or `... (in /path/of/the/binary)`.
            .filter_map(|l| l.split_once(": ").map(|(_, f)| f.split(" (in ").next().unwrap_or(f)))
            .collect();
        // Not memcpy or writev: the LMDB function or the Rust code that called them.
        let frame = frames.iter().find(|f| f.starts_with("mdb_") || f.contains("heed")).or(frames.first());
        errors.push(MemoryError { headline: (*line).to_owned(), frame: frame.map(|f| (*f).to_owned()) });
    }
    errors
}

/// `N error(s): headline ×count, ...; first in frame`.
fn summarise(errors: &[MemoryError]) -> String {
    let mut kinds: Vec<(&str, usize)> = Vec::new();
    for error in errors {
        match kinds.iter_mut().find(|(headline, _)| *headline == error.headline) {
            Some((_, count)) => *count += 1,
            None => kinds.push((&error.headline, 1)),
        }
    }
    let kinds: Vec<String> = kinds.iter().map(|(headline, count)| format!("{headline} ×{count}")).collect();
    let first = errors.first().and_then(|e| e.frame.as_deref()).unwrap_or("?");
    format!("{} error(s): {}; the first in {first}", errors.len(), kinds.join(", "))
}

fn signal_name(signal: i32) -> String {
    match signal {
        libc::SIGSEGV => "SIGSEGV".to_owned(),
        libc::SIGABRT => "abort (SIGABRT)".to_owned(),
        libc::SIGBUS => "SIGBUS".to_owned(),
        libc::SIGILL => "SIGILL".to_owned(),
        libc::SIGFPE => "SIGFPE".to_owned(),
        libc::SIGTRAP => "SIGTRAP".to_owned(),
        libc::SIGKILL => "SIGKILL".to_owned(),
        other => format!("signal {other}"),
    }
}

fn print_table(header: &[&str; 4], rows: &[[String; 4]]) {
    let mut widths = header.map(|h| h.chars().count());
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; 4]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c}{}", " ".repeat(w - c.chars().count())))
            .collect();
        println!("| {} |", padded.join(" | "));
    };
    line(*header);
    println!("|{}|", widths.map(|w| "-".repeat(w + 2)).join("|"));
    for row in rows {
        line([&row[0], &row[1], &row[2], &row[3]].map(String::as_str));
    }
}

// ---------------------------------------------------------------------------------------------
// The child: one case, reported on stdout.

fn child(id: &str) -> ExitCode {
    match CASES.iter().find(|c| c.id == id).and_then(|c| c.run) {
        Some(run) => {
            run();
            // Every case ends with `finish`, which exits.
            eprintln!("case {id} returned without a result");
            ExitCode::FAILURE
        }
        None => {
            eprintln!("no runnable case {id}");
            ExitCode::FAILURE
        }
    }
}

fn step(message: impl AsRef<str>) {
    println!("step: {}", message.as_ref());
    let _ = std::io::stdout().flush();
}

/// Reports and exits without running destructors: closing an env that a case left broken is
/// not part of the case (and could crash after the result is known).
fn finish(verdict: Verdict, outcome: impl AsRef<str>) -> ! {
    println!("RESULT\t{}\t{}", verdict.code(), outcome.as_ref().replace(['\n', '\t'], " "));
    let _ = std::io::stdout().flush();
    std::process::exit(0)
}

fn hole(outcome: impl AsRef<str>) -> ! {
    finish(Verdict::Hole, outcome)
}

fn accepted(outcome: impl AsRef<str>) -> ! {
    finish(Verdict::Accepted, outcome)
}

fn safe(outcome: impl AsRef<str>) -> ! {
    finish(Verdict::Safe, outcome)
}

fn scratch() -> tempfile::TempDir {
    let root = std::env::var_os(TMP_VAR).map(PathBuf::from).unwrap_or_else(std::env::temp_dir);
    tempfile::tempdir_in(root).expect("a temporary directory")
}

fn open(path: &Path) -> Env {
    // SAFETY: a directory of this case only, opened once (but in case 9).
    unsafe { EnvOpenOptions::new().map_size(64 << 20).max_dbs(8).open(path) }.expect("open the env")
}

fn try_create<T, KC: 'static, DC: 'static, C: Comparator + 'static, CDUP: Comparator + 'static>(
    env: &Env<T>,
    name: &str,
    flags: DatabaseFlags,
) -> heed::Result<Database<'static, KC, DC, C, CDUP>> {
    Ok(env
        .create_databases_and_commit(env.write_txn()?, |opener, wtxn| {
            let mut options = opener
                .database_options()
                .types::<KC, DC>()
                .key_comparator::<C>()
                .dup_sort_comparator::<CDUP>();
            options.name(name).flags(flags);
            options.create(wtxn).map(CommitOrAbort::<_, ()>::Commit)
        })?
        .unwrap_commit())
}

fn create<T, KC: 'static, DC: 'static, C: Comparator + 'static, CDUP: Comparator + 'static>(
    env: &Env<T>,
    name: &str,
    flags: DatabaseFlags,
) -> Database<'static, KC, DC, C, CDUP> {
    try_create(env, name, flags).expect("create a database")
}

fn reopen<C: Comparator + 'static>(
    env: &Env,
    name: &str,
) -> heed::Result<Option<Database<'static, Str, Str, C>>> {
    env.open_databases_and_commit(env.read_txn()?, |opener, rtxn| {
        let mut options = opener.database_options().types::<Str, Str>().key_comparator::<C>();
        options.name(name);
        options.open(rtxn).map(CommitOrAbort::<_, ()>::Commit)
    })
    .map(CommitOrAbort::unwrap_commit)
}

fn err(e: &heed::Error) -> String {
    match e {
        heed::Error::Mdb(e) => format!("Err({e:?})"),
        heed::Error::Io(e) => format!("Err(Io: {e})"),
        other => format!("Err({other:?})"),
    }
}

fn res<T>(result: &heed::Result<T>, ok: impl FnOnce(&T) -> String) -> String {
    match result {
        Ok(value) => ok(value),
        Err(e) => err(e),
    }
}

/// Bytes as a string literal, with `\xNN` for what is not printable ASCII.
fn lossy(bytes: &[u8]) -> String {
    let text: String = bytes
        .iter()
        .map(|&b| match b {
            b' '..=b'~' if b != b'"' && b != b'\\' => char::from(b).to_string(),
            _ => format!("\\x{b:02x}"),
        })
        .collect();
    format!("\"{text}\"")
}

fn some(value: Option<&[u8]>) -> String {
    value.map_or("None".to_owned(), |v| format!("Some({})", lossy(v)))
}

/// The duplicates of `key`, as stored.
fn duplicates<C, CDUP>(db: Database<Bytes, Bytes, C, CDUP>, txn: &RoTxn, key: &[u8]) -> Vec<Vec<u8>> {
    match db.get_duplicates(txn, key).expect("read the duplicates") {
        Some(iter) => iter.map(|e| e.expect("a duplicate").1.to_vec()).collect(),
        None => Vec::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// 1: `MDB_APPEND` of a key that does not sort after the last one answers `MDB_KEYEXIST` without
// pointing the data at any value; heed decodes whatever the data pointed at: the caller's input.

fn append_returns_the_input() {
    let dir = scratch();
    let env = open(dir.path());
    let db: Database<Bytes, Bytes> = create(&env, "append", DatabaseFlags::empty());
    let mut wtxn = env.write_txn().unwrap();
    db.put(&mut wtxn, b"m", b"stored").unwrap();
    let input = b"caller's value".to_vec();
    let mut returned_input = Vec::new();
    for (key, place) in [(&b"a"[..], "before the last key \"m\""), (b"m", "the last key")] {
        let got = db.get_or_put_with_flags(&mut wtxn, PutFlags::APPEND, key, &input[..]);
        let is_input = matches!(&got, Ok(Some(v)) if v.as_ptr() == input.as_ptr());
        step(format!(
            "key {} ({place}): {}{}",
            lossy(key),
            res(&got, |v| format!("Ok({})", some(*v))),
            if is_input { ", at the address of the caller's input buffer" } else { "" }
        ));
        if is_input {
            returned_input.push(lossy(key));
        }
    }
    let inserted = db.get(&wtxn, b"a").unwrap();
    step(format!("get(\"a\") afterwards: {}", some(inserted)));
    if returned_input.is_empty() {
        safe("refused or returned the stored value")
    } else {
        hole(format!(
            "returns the caller's input buffer (same address) as the existing value, for keys {}",
            returned_input.join(" and ")
        ))
    }
}

/// With a codec whose encoding is a fresh buffer (every serde codec of heed), the bytes heed
/// decodes are those of its own encoding, freed when the call returns.
fn append_returns_freed_bytes() {
    let dir = scratch();
    let env = open(dir.path());
    let db: Database<Str, SerdeBincode<&str>> = create(&env, "append", DatabaseFlags::empty());
    let mut wtxn = env.write_txn().unwrap();
    db.put(&mut wtxn, "m", &"stored").unwrap();
    let input = "caller's value";
    let got = db.get_or_put_with_flags(&mut wtxn, PutFlags::APPEND, "a", &input);
    let value: &str = match got {
        Ok(Some(value)) => value,
        other => safe(res(&other, |v| format!("Ok({v:?})"))),
    };
    // Read on the stack: an allocation here could take the freed memory first. `black_box`:
    // read the memory again each time, as a later use in a program would.
    let read = |into: &mut [u8; 64]| {
        let bytes = black_box(value).as_bytes();
        into[..bytes.len()].copy_from_slice(bytes);
        bytes.len()
    };
    let mut first = [0u8; 64];
    let len = read(&mut first);
    // A buffer of the size of the freed encoding (bincode: an 8-byte length, then the bytes).
    let reused = vec![b'X'; 8 + input.len()];
    let inside = reused.as_ptr_range().contains(&value.as_ptr());
    let mut again = [0u8; 64];
    read(&mut again);
    let (first, again) = (lossy(&first[..len]), lossy(&again[..len]));
    step(format!("key \"a\": Ok(Some({first})) at {:p}", value.as_ptr()));
    step(format!(
        "after allocating a {}-byte buffer of 'X'{}: the value reads {again}",
        reused.len(),
        if inside { ", which holds the value's bytes" } else { "" }
    ));
    hole(format!(
        "returns a &str into heed's freed encoding of the caller's value: reads {first}, then {again}{}",
        if inside { " once the next allocation takes that memory" } else { "" }
    ))
}

/// The reserved variant hands LMDB a null data pointer: on `MDB_KEYEXIST` heed makes a slice of it.
fn append_reserved() {
    let dir = scratch();
    let env = open(dir.path());
    let db: Database<Bytes, Bytes> = create(&env, "append", DatabaseFlags::empty());
    let mut wtxn = env.write_txn().unwrap();
    db.put(&mut wtxn, b"m", b"stored").unwrap();
    let got = db.get_or_put_reserved_with_flags(&mut wtxn, PutFlags::APPEND, b"b", 4, |_| Ok(()));
    match got {
        Ok(Some(value)) => {
            let (len, at) = (value.len(), value.as_ptr());
            step(format!("key \"b\": Ok(Some(<{len} bytes at {at:p}>)); reading them"));
            let bytes = black_box(value).to_vec();
            hole(format!("returns a {len}-byte value at {at:p}, read as {bytes:?}"))
        }
        Ok(None) => {
            // `Some` of a slice whose pointer is null has the representation of `None`.
            let stored = db.get(&wtxn, b"b").unwrap();
            step(format!("key \"b\": Ok(None), \"inserted\"; get(\"b\") then: {}", some(stored)));
            match stored {
                None => hole(
                    "returns Ok(None) (\"inserted\") but stores nothing: heed made a &[u8] of LMDB's \
                     null output pointer, and Some(null slice) reads as None",
                ),
                Some(_) => safe("Ok(None): inserted"),
            }
        }
        other => safe(res(&other, |v| format!("Ok({})", some(*v)))),
    }
}

fn append_dup() {
    let dir = scratch();
    let env = open(dir.path());
    let db: Database<Bytes, Bytes> = create(&env, "dups", DatabaseFlags::DUP_SORT);
    let mut wtxn = env.write_txn().unwrap();
    db.put(&mut wtxn, b"k", b"z").unwrap();
    let got = db.get_or_put_with_flags(&mut wtxn, PutFlags::APPEND_DUP, b"k", b"a");
    let outcome = res(&got, |v| format!("Ok({})", some(*v)));
    match got {
        Ok(Some(b"z")) => safe(format!("{outcome}: the stored value")),
        _ => hole(outcome),
    }
}

// ---------------------------------------------------------------------------------------------
// 2: LMDB copies the parent's database table into one sized for the child's env.

fn nested_write_txn_of_another_env() {
    let (a, b) = (scratch(), scratch());
    // SAFETY: fresh directories.
    let small = unsafe { EnvOpenOptions::new().max_dbs(0).open(a.path()) }.unwrap();
    // SAFETY: as above.
    let big = unsafe { EnvOpenOptions::new().max_dbs(200).open(b.path()) }.unwrap();
    let mut parent = big.write_txn().unwrap();
    let nested = catch_unwind(AssertUnwindSafe(|| small.nested_write_txn(&mut parent).map(drop)));
    let outcome = match &nested {
        Err(panic) => format!(
            "panics: {:?}",
            panic.downcast_ref::<&str>().copied().or(panic.downcast_ref::<String>().map(String::as_str))
        ),
        Ok(result) => res(result, |_| "Ok(child)".to_owned()),
    };
    step(format!("small.nested_write_txn(&mut parent of big): {outcome}"));
    let usable = big.nested_write_txn(&mut parent).and_then(RwTxn::commit).and_then(|()| parent.commit());
    step(format!("the parent afterwards: nested txn and commits {}", res(&usable, |_| "Ok".to_owned())));
    match nested {
        Err(_) => safe(format!("refused by a panic ({outcome})")),
        Ok(Err(e)) => safe(format!("refused: {}", err(&e))),
        Ok(Ok(())) => hole("Ok: a child txn across envs"),
    }
}

// ---------------------------------------------------------------------------------------------
// 4: with thread-local reader slots, LMDB frees a thread's slot when the thread exits, even if
// its read txn was leaked: values read from it ('static here) change as writers reuse pages.

fn leaked_reader_of_an_exited_thread() {
    let dir = scratch();
    let env: Env<WithTls> = open(dir.path());
    let db: Database<Bytes, Bytes> = create(&env, "values", DatabaseFlags::empty());
    let mut wtxn = env.write_txn().unwrap();
    for i in 0u32..200 {
        db.put(&mut wtxn, &i.to_be_bytes(), &[1u8; 100]).unwrap();
    }
    wtxn.commit().unwrap();
    let leaked: &'static [u8] = std::thread::scope(|s| {
        s.spawn(|| {
            let owner = env.clone();
            let rtxn: &'static RoTxn<'static, WithTls> =
                Box::leak(Box::new(owner.static_read_txn().unwrap()));
            db.get(rtxn, &7u32.to_be_bytes()).unwrap().unwrap()
        })
        .join()
        .unwrap()
    });
    // The reader table's high-water mark shows whether a new reader got the leaked txn's slot
    // (released: 1) or the next one (still held: 2).
    let readers = std::thread::scope(|s| {
        s.spawn(|| {
            let rtxn = env.read_txn().unwrap();
            let readers = env.info().number_of_readers;
            drop(rtxn);
            readers
        })
        .join()
        .unwrap()
    });
    step(format!("after the thread exited, a new reader elsewhere: number_of_readers = {readers}"));
    // Enough rewrites that pages freed after the snapshot are reused; the leaked value is
    // looked at after each commit (a reused page may by chance hold the same bytes later).
    let mut changed = None;
    for round in 0..20u8 {
        let mut wtxn = env.write_txn().unwrap();
        for i in 0u32..200 {
            db.put(&mut wtxn, &i.to_be_bytes(), &[round + 2; 100]).unwrap();
        }
        wtxn.commit().unwrap();
        let now = black_box(leaked).to_vec();
        if changed.is_none() && now != [1u8; 100] {
            step(format!("after commit {}: the leaked 'static value is {:?}...", round + 1, &now[..8]));
            changed = Some((round + 1, now));
        }
    }
    let slot = if readers == 1 { "its reader slot was released" } else { "its reader slot was kept" };
    match changed {
        Some((commit, now)) => hole(format!(
            "{slot}; the leaked 'static value [1; 100] then changed (after commit {commit}: {:?}...)",
            &now[..4]
        )),
        None if readers == 1 => hole(format!("{slot} (the value did not change in this run)")),
        None => safe(slot),
    }
}

// ---------------------------------------------------------------------------------------------
// 5: a key's DUP_FIXED duplicates must have one size: LMDB copies values with the size the
// key's sub-page was made for (reading past shorter ones, losing longer ones' bytes).

fn dup_fixed_db() -> (tempfile::TempDir, Env, Database<'static, Bytes, Bytes>) {
    let dir = scratch();
    let env = open(dir.path());
    let db = create(&env, "fixed", DatabaseFlags::DUP_SORT | DatabaseFlags::DUP_FIXED);
    (dir, env, db)
}

/// Puts `values` (on the heap, exactly sized, so that valgrind sees reads past them) under
/// `key` one by one, then judges what is stored.
fn put_duplicates(key: &[u8], values: &[Vec<u8>]) -> ! {
    let (_dir, env, db) = dup_fixed_db();
    let mut wtxn = env.write_txn().unwrap();
    let mut puts = Vec::new();
    let mut kept = Vec::new();
    for value in values {
        step(format!("put {} -> {value:?}", lossy(key)));
        let put = db.put(&mut wtxn, key, value);
        let put = res(&put, |_| "Ok".to_owned());
        step(format!("  {put}"));
        if put == "Ok" {
            kept.push(value);
        }
        puts.push(format!("{} bytes {put}", value.len()));
    }
    let stored = duplicates(db, &wtxn, key);
    step(format!("the duplicates of {} now: {stored:?}", lossy(key)));
    let foreign: Vec<&Vec<u8>> = stored.iter().filter(|v| !kept.contains(v)).collect();
    let lost: Vec<&&Vec<u8>> = kept.iter().filter(|v| !stored.contains(v)).collect();
    let other_sizes = kept.iter().any(|v| v.len() != values[0].len());
    let puts = puts.join(", ");
    if !foreign.is_empty() || !lost.is_empty() {
        hole(format!("puts: {puts}; then stored {stored:?} (never put: {foreign:?}, lost: {lost:?})"))
    } else if other_sizes {
        accepted(format!("puts: {puts}; stored as put"))
    } else {
        safe(format!("puts: {puts}"))
    }
}

fn dup_fixed_other_sizes() {
    put_duplicates(b"k", &[vec![1; 4], vec![2; 8], vec![3; 3]])
}

fn dup_fixed_empty_beside() {
    put_duplicates(b"k", &[vec![1; 4], Vec::new()])
}

fn dup_fixed_empty_first() {
    put_duplicates(b"empty", &[Vec::new(), vec![5; 4]])
}

// ---------------------------------------------------------------------------------------------
// 6: LMDB's integer comparators read as many bytes as their first operand has, from both.

fn integer_keys_of_other_sizes() {
    let dir = scratch();
    let env = open(dir.path());
    let keys: Database<Bytes, Bytes, IntegerComparator> = create(&env, "ints", DatabaseFlags::empty());
    let mut wtxn = env.write_txn().unwrap();
    // What a map would hold after the calls that succeed, and where LMDB differs.
    let mut model = std::collections::BTreeMap::new();
    let mut accepted_calls = Vec::new();
    let mut wrong = Vec::new();
    // hedge's sequence; keys on the heap, exactly sized, so that valgrind sees reads past them.
    let calls: [(&str, Vec<u8>); 13] = [
        ("put", vec![1; 3]),
        ("put", vec![1; 5]),
        ("put", Vec::new()),
        ("put", 1u32.to_ne_bytes().to_vec()),
        ("put", vec![1; 8]),
        ("get", vec![1; 8]),
        ("delete", vec![1; 8]),
        ("put", vec![1; 2]),
        ("get", vec![1; 2]),
        ("delete", vec![1; 2]),
        ("put", vec![1; 3]),
        ("get", vec![1; 3]),
        ("delete", vec![1; 3]),
    ];
    for (call, key) in calls {
        let value = format!("{}-byte key", key.len()).into_bytes();
        let outcome = match call {
            "put" => {
                let put = keys.put(&mut wtxn, &key, &value);
                if put.is_ok() {
                    model.insert(key.clone(), value);
                }
                res(&put, |_| "Ok".to_owned())
            }
            "get" => {
                let got = keys.get(&wtxn, &key).map(|v| v.map(<[u8]>::to_vec));
                if let Ok(got) = &got {
                    if got.as_ref() != model.get(&key) {
                        wrong.push(format!("get of the {}-byte key: {}", key.len(), some(got.as_deref())));
                    }
                }
                res(&got, |v| format!("Ok({})", some(v.as_deref())))
            }
            _ => {
                let deleted = keys.delete(&mut wtxn, &key);
                if let Ok(deleted) = deleted {
                    if deleted != model.remove(&key).is_some() {
                        wrong.push(format!("delete of the {}-byte key: Ok({deleted})", key.len()));
                    }
                }
                res(&deleted, |d| format!("Ok({d})"))
            }
        };
        step(format!("{call} of a {}-byte key: {outcome}", key.len()));
        if key.len() != 4 && outcome.starts_with("Ok") {
            accepted_calls.push(format!("{call} {}", key.len()));
        }
    }
    let bound = [1u8; 8];
    let from = (std::ops::Bound::Included(&bound[..]), std::ops::Bound::Unbounded);
    let first = keys.range(&wtxn, &from).map(|mut r| r.next().map(|e| e.map(|(k, _)| k.to_vec())));
    step(format!("range from an 8-byte bound, first entry: {}", res(&first, |f| format!("Ok({f:?})"))));
    let stored: Vec<Vec<u8>> = keys.iter(&wtxn).unwrap().map(|e| e.unwrap().0.to_vec()).collect();
    let expected: Vec<Vec<u8>> = model.keys().cloned().collect();
    step(format!("keys stored: {stored:?}; a map would hold {expected:?}"));
    let mut sorted = stored.clone();
    sorted.sort();
    if sorted != expected {
        wrong.push(format!("keys stored {stored:?} where a map would hold {expected:?}"));
    }
    if !wrong.is_empty() {
        hole(format!("accepts {}; then {}", accepted_calls.join(", "), wrong.join("; ")))
    } else if !accepted_calls.is_empty() {
        accepted(format!("accepts {}", accepted_calls.join(", ")))
    } else {
        safe("refused")
    }
}

fn integer_dups_of_other_sizes() {
    let dir = scratch();
    let env = open(dir.path());
    // heed's way to ask for INTEGER_DUP.
    let dups: Database<Bytes, Bytes, DefaultComparator, IntegerComparator> =
        create(&env, "int-dups", DatabaseFlags::DUP_SORT);
    let mut wtxn = env.write_txn().unwrap();
    dups.put(&mut wtxn, b"k", &7u64.to_ne_bytes()).unwrap();
    let mut sizes = Vec::new();
    // As in soundness.rs: 4 and 6 bytes beside 8, and an empty value.
    for bad in [vec![1u8; 4], vec![1; 6], Vec::new()] {
        step(format!("put of a {}-byte duplicate beside a u64", bad.len()));
        let put = dups.put(&mut wtxn, b"k", &bad);
        step(format!("  {}", res(&put, |_| "Ok".to_owned())));
        if put.is_ok() {
            sizes.push(bad.len());
        }
    }
    dups.put(&mut wtxn, b"k", &3u64.to_ne_bytes()).unwrap();
    let stored = duplicates(dups, &wtxn, b"k");
    step(format!("the duplicates of \"k\": {stored:?}"));
    if sizes.is_empty() {
        safe("refused")
    } else {
        accepted(format!("accepts duplicates of {sizes:?} bytes beside u64s; stored: {stored:?}"))
    }
}

// ---------------------------------------------------------------------------------------------
// 7: `MDB_RESERVE` returns uninitialised memory; what the closure did not write stays so.

/// Frees heap memory full of 0xAA: memory LMDB mallocs next and does not initialise then shows
/// as non-zero bytes instead of the zeros of fresh pages.
fn poison_heap() {
    for size in [4096usize, 8192, 12288, 16384] {
        drop(black_box(vec![0xAAu8; size]));
    }
}

fn reserved_left_unwritten(panics: bool) {
    let dir = scratch();
    let env = open(dir.path());
    let db: Database<Bytes, Bytes> = create(&env, "reserved", DatabaseFlags::empty());
    let mut findings = Vec::new();
    for size in [100usize, 5000] {
        let mut wtxn = env.write_txn().unwrap();
        poison_heap();
        let call = catch_unwind(AssertUnwindSafe(|| {
            db.put_reserved(&mut wtxn, b"reserved", size, |space| {
                space.write_all(b"abc")?;
                if panics {
                    panic!("the closure panics");
                }
                Ok(())
            })
        }));
        let how = match &call {
            Err(_) => "the closure panicked (caught)".to_owned(),
            Ok(result) => format!("put_reserved returned {}", res(result, |_| "Ok(())".to_owned())),
        };
        match db.get(&wtxn, b"reserved").unwrap() {
            None => step(format!("{size} bytes: {how}; no value stored")),
            Some(value) => {
                let unwritten = &value[3..];
                let nonzero = unwritten.iter().filter(|&&b| b != 0).count();
                step(format!(
                    "{size} bytes: {how}; the value stays, {nonzero} of its {} unwritten bytes are not zero (first: {:02x?})",
                    unwritten.len(),
                    &unwritten[..8]
                ));
                findings.push((size, nonzero, unwritten.len()));
            }
        }
        let commit = wtxn.commit();
        step(format!("{size} bytes: commit {}", res(&commit, |_| "Ok".to_owned())));
    }
    let garbage: Vec<String> =
        findings.iter().filter(|f| f.1 > 0).map(|(size, n, of)| format!("{n}/{of} of {size}")).collect();
    let kept: Vec<String> = findings.iter().map(|f| f.0.to_string()).collect();
    let how = if panics { "after a panic" } else { "after Ok(()) (heed returns UnexpectedEof)" };
    if !garbage.is_empty() {
        hole(format!(
            "{how} the value stays and is committed; its unwritten bytes are heap garbage ({} bytes non-zero)",
            garbage.join(", ")
        ))
    } else if !kept.is_empty() {
        accepted(format!(
            "{how} values of {} bytes stay with unwritten (uninitialised) bytes, zero in this run",
            kept.join(" and ")
        ))
    } else {
        safe(format!("{how} no value stays"))
    }
}

// ---------------------------------------------------------------------------------------------
// 8: LMDB adds its 2 own databases to max_dbs in an `unsigned int` and sizes its write txn in
// an `int`; the reader table is 64 bytes per reader.

/// (WRAPPING_MAX_DBS + 2) * 61 = 2^32 + 4: the `int` size of LMDB's write txn (a `MDB_txn`
/// plus 61 bytes per database) wraps to a few bytes more than a bare `MDB_txn`.
const WRAPPING_MAX_DBS: u32 = 70_409_298;

fn huge_limits(max_dbs: Option<u32>, max_readers: Option<u32>) {
    let dir = scratch();
    let mut options = EnvOpenOptions::new();
    options.map_size(64 << 20);
    options.max_dbs(max_dbs.unwrap_or(8));
    if let Some(n) = max_readers {
        options.max_readers(n);
    }
    step("open");
    // SAFETY: a fresh directory.
    let env = match unsafe { options.open(dir.path()) } {
        Ok(env) => env,
        Err(e) => safe(format!("open refused: {}", err(&e))),
    };
    let lock = fs::metadata(dir.path().join("lock.mdb")).map(|m| m.len()).unwrap_or(0);
    step(format!("open: Ok; lock.mdb is {lock} bytes; max_readers() = {}", env.max_readers()));
    let used = (|| -> heed::Result<Option<String>> {
        step("create a database, write, read");
        let db: Database<Str, Str> = try_create(&env, "one of many", DatabaseFlags::empty())?;
        let mut wtxn = env.write_txn()?;
        db.put(&mut wtxn, "k", "v")?;
        wtxn.commit()?;
        let rtxn = env.read_txn()?;
        let value = db.get(&rtxn, "k")?.map(str::to_owned);
        drop(rtxn);
        step("clear_stale_readers");
        env.clear_stale_readers()?;
        Ok(value)
    })();
    let used = res(&used, |v| format!("Ok (read back {v:?})"));
    step(format!("using it: {used}"));
    let size = if lock > 1 << 30 { format!(" (a {} GiB lock file)", lock >> 30) } else { String::new() };
    accepted(format!("open Ok{size}; a database created, written, read: {used}"))
}

// ---------------------------------------------------------------------------------------------
// 9: one env opened twice in a process through another path to the same files. heed's
// `EnvOpenOptions::open` documents "Calling open twice in the same process, at the same time
// is OK"; it knows envs by canonical path.

#[derive(Clone, Copy)]
enum Reopen {
    DataFileNoSubDir,
    HardLink,
    Symlink,
    RenamedDir,
    LockFileAsData,
}

fn same_env_twice(how: Reopen) {
    let root = scratch();
    let dir = root.path().join("env");
    fs::create_dir(&dir).unwrap();
    let env = open(&dir);
    let db: Database<Str, Str> = create(&env, "still", DatabaseFlags::empty());
    let mut wtxn = env.write_txn().unwrap();
    db.put(&mut wtxn, "base", "committed").unwrap();
    wtxn.commit().unwrap();
    // A reader and a write txn of the first env stay live while the second opens.
    let reader = env.read_txn().unwrap();
    let readers_before = env.info().number_of_readers;
    let mut first = env.write_txn().unwrap();
    db.put(&mut first, "one", "from the first env").unwrap();
    let (path, flags) = match how {
        Reopen::DataFileNoSubDir => (dir.join("data.mdb"), EnvFlags::NO_SUB_DIR),
        Reopen::HardLink => {
            let linked = root.path().join("linked");
            fs::create_dir(&linked).unwrap();
            fs::hard_link(dir.join("data.mdb"), linked.join("data.mdb")).unwrap();
            (linked, EnvFlags::empty())
        }
        Reopen::Symlink => {
            let link = root.path().join("symlink");
            std::os::unix::fs::symlink(&dir, &link).unwrap();
            (link, EnvFlags::empty())
        }
        Reopen::RenamedDir => {
            let renamed = root.path().join("renamed");
            fs::rename(&dir, &renamed).unwrap();
            (renamed, EnvFlags::empty())
        }
        Reopen::LockFileAsData => (dir.join("lock.mdb"), EnvFlags::NO_SUB_DIR),
    };
    step(format!("opening {} again", path.strip_prefix(root.path()).unwrap_or(&path).display()));
    let mut options = EnvOpenOptions::new();
    options.map_size(64 << 20).max_dbs(8);
    // SAFETY: NO_SUB_DIR is not one of the flags heed's `flags` calls unsafe (the sync and
    // lock ones); opening an env twice is what heed's `open` says it handles.
    unsafe { options.flags(flags) };
    // SAFETY: as above.
    let second = match unsafe { options.open(&path) } {
        Ok(env) => env,
        Err(e) => safe(format!("refused: {}", err(&e))),
    };
    let readers_after = env.info().number_of_readers;
    drop(reader);
    step(format!("opened; the first env's readers: {readers_before} before, {readers_after} after"));
    let db2 = reopen::<DefaultComparator>(&second, "still").unwrap().expect("the database in the second env");
    let (got_lock, got_lock_rx) = mpsc::channel();
    let (go, go_rx) = mpsc::channel::<()>();
    let (concurrent, first_commit, second_commit) = std::thread::scope(|s| {
        let second = &second;
        let writer = s.spawn(move || {
            // Waits here if the two envs share a working write lock.
            let mut wtxn = second.write_txn().unwrap();
            got_lock.send(()).unwrap();
            db2.put(&mut wtxn, "two", "from the second env").unwrap();
            go_rx.recv().unwrap();
            wtxn.commit()
        });
        let concurrent = got_lock_rx.recv_timeout(Duration::from_secs(3)).is_ok();
        step(format!("a write txn of the second env while the first's is live: {concurrent}"));
        let first_commit = first.commit();
        go.send(()).unwrap();
        (concurrent, first_commit, writer.join().unwrap())
    });
    let rtxn = env.read_txn().unwrap();
    let one = db.get(&rtxn, "one").unwrap().is_some();
    let two = db.get(&rtxn, "two").unwrap().is_some();
    step(format!(
        "commits: first {}, second {}; the first env reads \"one\": {one}, \"two\": {two}",
        res(&first_commit, |_| "Ok".to_owned()),
        res(&second_commit, |_| "Ok".to_owned())
    ));
    let mut symptoms = Vec::new();
    if readers_after < readers_before {
        symptoms.push(format!("the reader table was reset ({readers_before} -> {readers_after} readers)"));
    }
    if concurrent {
        symptoms.push("two write txns at once".to_owned());
    }
    if first_commit.is_ok() && second_commit.is_ok() && !(one && two) {
        symptoms.push(format!("a commit lost (\"{}\" missing)", if one { "two" } else { "one" }));
    }
    if symptoms.is_empty() {
        accepted("opened twice; the two share their locks (no symptom)")
    } else {
        hole(format!("opened twice: {}", symptoms.join("; ")))
    }
}

// ---------------------------------------------------------------------------------------------
// 10: nested read txns of a write txn (heed 0.23's `RwTxn::nested_read_txn`).

/// hedge's sequence: a leaked reader of a nested write txn, itself leaked, then the child and
/// the parent end.
fn leaked_reader_below_nested_write() {
    let dir = scratch();
    let env = open(dir.path());
    let db: Database<Str, Str> = create(&env, "nested", DatabaseFlags::empty());
    let mut parent = env.write_txn().unwrap();
    db.put(&mut parent, "parent", "uncommitted").unwrap();
    {
        let mut child = env.nested_write_txn(&mut parent).unwrap();
        let mut grandchild = env.nested_write_txn(&mut child).unwrap();
        db.put(&mut grandchild, "grandchild", "uncommitted").unwrap();
        std::mem::forget(grandchild.nested_read_txn().unwrap());
        std::mem::forget(grandchild);
        step("dropping the child (its child and grandchild reader leaked)");
        drop(child);
    }
    step("committing the parent");
    let commit = parent.commit();
    step(format!("parent.commit(): {}", res(&commit, |_| "Ok".to_owned())));
    step("write_txn on this thread");
    let again = env.write_txn().map(RwTxn::abort);
    let seen = std::thread::scope(|s| {
        s.spawn(|| {
            let rtxn = env.read_txn().unwrap();
            (
                db.get(&rtxn, "parent").unwrap().map(str::to_owned),
                db.get(&rtxn, "grandchild").unwrap().is_some(),
            )
        })
        .join()
        .unwrap()
    });
    step(format!(
        "write_txn: {}; another thread reads parent = {:?}, grandchild present: {}",
        res(&again, |_| "Ok".to_owned()),
        seen.0,
        seen.1
    ));
    safe(format!(
        "no abort: LMDB ends the leaked reader with its ancestors; commit {}, the next write_txn {}",
        res(&commit, |_| "Ok".to_owned()),
        res(&again, |_| "Ok".to_owned())
    ))
}

/// Not in soundness.rs: LMDB keeps `mt_child` pointing at the last nested reader begun and
/// clears it only when the last one ends; beginning another reader reads that pointer's flags
/// (which decide nothing here: only valgrind sees the read of freed memory).
fn nested_reader_after_a_dropped_sibling() {
    let dir = scratch();
    let env = open(dir.path());
    let parent = env.write_txn().unwrap();
    let first = parent.nested_read_txn().unwrap();
    let second = parent.nested_read_txn().unwrap();
    step("two nested readers; dropping the second (LMDB frees it)");
    drop(second);
    step("beginning a third");
    let third = parent.nested_read_txn().map(drop);
    step(format!("the third: {}", res(&third, |_| "Ok".to_owned())));
    drop(first);
    accepted(format!(
        "a third nested reader after the second ended: {} (LMDB reads the freed second's flags)",
        res(&third, |_| "Ok".to_owned())
    ))
}

// ---------------------------------------------------------------------------------------------
// 12: comparators are env-wide in LMDB: reopening a database with another one swaps it under
// the first handle.

enum Backwards {}

impl Comparator for Backwards {
    fn compare(a: &[u8], b: &[u8]) -> Ordering {
        b.cmp(a)
    }
}

/// The default order, but as a custom comparator (heed installs those with `mdb_set_compare`).
enum Forwards {}

impl Comparator for Forwards {
    fn compare(a: &[u8], b: &[u8]) -> Ordering {
        a.cmp(b)
    }
}

fn reopen_with_another_comparator() {
    let dir = scratch();
    let env = open(dir.path());
    let db: Database<Str, Str, Backwards> = create(&env, "backwards", DatabaseFlags::empty());
    let mut wtxn = env.write_txn().unwrap();
    for k in ["a", "b", "c"] {
        db.put(&mut wtxn, k, k).unwrap();
    }
    wtxn.commit().unwrap();
    let plain = reopen::<DefaultComparator>(&env, "backwards");
    step(format!(
        "reopened with the default comparator: {}",
        res(&plain, |d| format!("Ok(found: {})", d.is_some()))
    ));
    let forwards = reopen::<Forwards>(&env, "backwards");
    step(format!(
        "reopened with another custom comparator: {}",
        res(&forwards, |d| format!("Ok(found: {})", d.is_some()))
    ));
    let mut wtxn = env.write_txn().unwrap();
    let put = db.put(&mut wtxn, "d", "d");
    let keys: Vec<String> = db.iter(&wtxn).unwrap().map(|e| e.unwrap().0.to_owned()).collect();
    let found: Vec<&str> =
        ["a", "b", "c", "d"].into_iter().filter(|k| db.get(&wtxn, k).unwrap().is_some()).collect();
    step(format!(
        "through the first (Backwards) handle: put \"d\" {}; iteration {keys:?}; found by get {found:?}",
        res(&put, |_| "Ok".to_owned())
    ));
    if keys != ["d", "c", "b", "a"] || found.len() != 4 {
        hole(format!(
            "reopening accepted; the first handle then iterates {keys:?} and finds only {found:?} by get"
        ))
    } else if forwards.is_ok() {
        accepted("reopening with another comparator accepted; no wrong order seen")
    } else {
        safe("reopening with another comparator refused")
    }
}

// ---------------------------------------------------------------------------------------------
// 13: the env's own files as targets.

fn expected(i: u32, round: u32) -> String {
    format!("value {i:05} round {round} {}", "-".repeat(80))
}

/// Without thread-local reader slots: a reader held across the copy and the copy's own reader
/// are on one thread.
fn copied_env() -> (tempfile::TempDir, Env<WithoutTls>, Database<'static, Str, Str>) {
    let dir = scratch();
    // SAFETY: a directory of this case only, opened once.
    let env = unsafe {
        EnvOpenOptions::new().read_txn_without_tls().map_size(64 << 20).max_dbs(8).open(dir.path())
    }
    .expect("open the env");
    let db: Database<Str, Str> = create(&env, "copied", DatabaseFlags::empty());
    let mut wtxn = env.write_txn().unwrap();
    for i in 0..2000u32 {
        db.put(&mut wtxn, &format!("{i:05}"), &expected(i, 0)).unwrap();
    }
    wtxn.commit().unwrap();
    // Free pages, so that a compacting copy renumbers the pages it writes; then rewrites,
    // which move the live pages into the freed ones, where the copy writes other pages.
    let mut wtxn = env.write_txn().unwrap();
    for i in (0..2000u32).step_by(2) {
        db.delete(&mut wtxn, &format!("{i:05}")).unwrap();
    }
    wtxn.commit().unwrap();
    for _ in 0..3 {
        let mut wtxn = env.write_txn().unwrap();
        for i in (1..2000u32).step_by(2) {
            db.put(&mut wtxn, &format!("{i:05}"), &expected(i, 0)).unwrap();
        }
        wtxn.commit().unwrap();
    }
    (dir, env, db)
}

/// How many of the 1000 remaining entries read back wrong or are missing in `rtxn`.
fn damage(rtxn: &RoTxn, db: Database<Str, Str>, round: u32) -> heed::Result<usize> {
    let mut wrong = 0;
    for i in (1..2000u32).step_by(2) {
        if db.get(rtxn, &format!("{i:05}"))? != Some(expected(i, round).as_str()) {
            wrong += 1;
        }
    }
    Ok(wrong)
}

fn inner_file_is_writable() {
    let (dir, env, db) = copied_env();
    let mut handle = env.try_clone_inner_file().unwrap();
    // The descriptor shares LMDB's file offset.
    let offset = handle.stream_position().unwrap();
    let write = handle.write_all(b"garbage");
    let file = fs::read(dir.path().join("data.mdb")).unwrap();
    let landed = file.windows(7).position(|w| w == b"garbage");
    step(format!("write_all(b\"garbage\") at offset {offset}: {write:?}; found in data.mdb at {landed:?}"));
    let rtxn = env.read_txn().unwrap();
    let wrong = damage(&rtxn, db, 0);
    step(format!("entries reading back wrong: {}", res(&wrong, |n| n.to_string())));
    match (write, landed) {
        (Ok(()), Some(at)) => hole(format!(
            "writable: a dup of LMDB's own read-write descriptor, sharing its offset; a write lands in \
             data.mdb at offset {at}"
        )),
        (write, _) => safe(format!("not writable: {write:?}")),
    }
}

fn copy_onto_own_file(file: &str, option: CompactionOption) {
    let (dir, env, db) = copied_env();
    let mut own = fs::OpenOptions::new().read(true).write(true).open(dir.path().join(file)).unwrap();
    // A reader whose snapshot the copy must not change.
    let held = env.read_txn().unwrap();
    step(format!("copy_to_file onto {file}"));
    let copy = env.copy_to_file(&mut own, option);
    step(format!("copy_to_file: {}; reading every entry back", res(&copy, |_| "Ok".to_owned())));
    let mut symptoms = Vec::new();
    let wrong = damage(&held, db, 0);
    step(format!(
        "entries reading back wrong in the reader begun before: {}",
        res(&wrong, |n| n.to_string())
    ));
    if !matches!(wrong, Ok(0)) {
        symptoms.push(format!(
            "the reader begun before the copy: wrong entries {}",
            res(&wrong, |n| n.to_string())
        ));
    }
    drop(held);
    // Writers reuse the free pages the env knows of.
    for round in 1..=5 {
        let write = (|| {
            let mut wtxn = env.write_txn()?;
            for i in (1..2000u32).step_by(2) {
                db.put(&mut wtxn, &format!("{i:05}"), &expected(i, round))?;
            }
            wtxn.commit()
        })();
        let wrong = env.read_txn().and_then(|rtxn| damage(&rtxn, db, round));
        step(format!(
            "rewrite {round}: {}; entries reading back wrong: {}",
            res(&write, |_| "Ok".to_owned()),
            res(&wrong, |n| n.to_string())
        ));
        if write.is_err() || !matches!(wrong, Ok(0)) {
            symptoms.push(format!(
                "rewrite {round}: {}, wrong entries {}",
                res(&write, |_| "Ok".to_owned()),
                res(&wrong, |n| n.to_string())
            ));
            break;
        }
    }
    if copy.is_err() {
        safe(format!("refused: {}", res(&copy, |_| String::new())))
    } else if symptoms.is_empty() {
        accepted("Ok (the env's own file rewritten under it; no damage seen)")
    } else {
        hole(format!("Ok; then {}", symptoms.join("; ")))
    }
}

// ---------------------------------------------------------------------------------------------
// 14: `MDB_CURRENT` writes the key it is given at the cursor's place without looking at it.

fn put_current_with_another_key() {
    let dir = scratch();
    let env = open(dir.path());
    let db: Database<Str, Str> = create(&env, "current", DatabaseFlags::empty());
    let mut wtxn = env.write_txn().unwrap();
    for k in ["a", "m", "z"] {
        db.put(&mut wtxn, k, "value").unwrap();
    }
    let mut iter = db.iter_mut(&mut wtxn).unwrap();
    iter.next().unwrap().unwrap();
    // SAFETY: nothing read through the iterator is used after the write. The key rule is in
    // the method's documentation, not in its `# Safety` section.
    let put = unsafe { iter.put_current("zz", "a longer value than before") };
    drop(iter);
    let keys: Vec<String> = db.iter(&wtxn).unwrap().map(|e| e.unwrap().0.to_owned()).collect();
    let zz = db.get(&wtxn, "zz").unwrap().is_some();
    step(format!(
        "put_current(\"zz\") on \"a\": {}; keys {keys:?}; get(\"zz\") finds it: {zz}",
        res(&put, |r| format!("Ok({r})"))
    ));
    if keys.windows(2).any(|w| w[0] >= w[1]) {
        finish(
            Verdict::UnsafeFn,
            format!("{}: the order breaks, keys {keys:?}", res(&put, |r| format!("Ok({r})"))),
        )
    } else {
        safe(format!("{}; keys {keys:?}", res(&put, |r| format!("Ok({r})"))))
    }
}

// ---------------------------------------------------------------------------------------------
// 15: waits that never end. LMDB's write lock is a mutex owned by the thread that began the
// write txn.

fn liveness_env() -> (tempfile::TempDir, Env, Database<'static, Str, Str>) {
    let dir = scratch();
    let env = open(dir.path());
    let db = create(&env, "liveness", DatabaseFlags::empty());
    (dir, env, db)
}

fn write_txn_committed_on_another_thread() {
    fn assert_send<T: Send>() {}
    // It compiles: heed's RwTxn is Send.
    assert_send::<RwTxn<'static>>();
    let (_dir, env, db) = liveness_env();
    let mut wtxn = env.write_txn().unwrap();
    db.put(&mut wtxn, "k", "v").unwrap();
    let commit = std::thread::scope(|s| s.spawn(move || wtxn.commit().is_ok()).join().unwrap());
    step(format!("RwTxn is Send; committed on another thread: {commit}; now write_txn on this thread"));
    let again = env.write_txn().map(RwTxn::abort);
    step(format!("write_txn: {}; now write_txn on a third thread", res(&again, |_| "Ok".to_owned())));
    let elsewhere =
        std::thread::scope(|s| s.spawn(|| env.write_txn().map(RwTxn::abort).is_ok()).join().unwrap());
    safe(format!(
        "write_txn afterwards: {} here, Ok: {elsewhere} on another thread",
        res(&again, |_| "Ok".to_owned())
    ))
}

fn write_txn_twice_on_one_thread() {
    let (_dir, env, _db) = liveness_env();
    let _first = env.write_txn().unwrap();
    step("a write txn is live; write_txn again on this thread");
    let second = env.write_txn().map(RwTxn::abort);
    safe(format!("the second write_txn: {}", res(&second, |_| "Ok".to_owned())))
}

fn plain_copy_while_writing() {
    let (_dir, env, _db) = liveness_env();
    let _wtxn = env.write_txn().unwrap();
    step("a write txn is live; copy_to_file(Disabled) on this thread");
    let copy = env.copy_to_file(&mut tempfile::tempfile().unwrap(), CompactionOption::Disabled);
    safe(format!("copy_to_file: {}", res(&copy, |_| "Ok".to_owned())))
}

fn open_databases_inside_an_opening() {
    let (_dir, env, _db) = liveness_env();
    step("open_databases_and_commit inside create_databases_and_commit's closure");
    let nested = env.create_databases_and_commit(env.write_txn().unwrap(), |_, _| {
        let inner = env.open_databases_and_commit(env.read_txn()?, |opener, rtxn| {
            opener.open_database::<Str, Str>(rtxn, Some("liveness")).map(CommitOrAbort::<_, ()>::Commit)
        });
        Ok::<_, heed::Error>(CommitOrAbort::<(), _>::Abort(inner.map(|_| ())))
    });
    let inner = match &nested {
        Ok(CommitOrAbort::Abort(inner)) => res(inner, |_| "Ok".to_owned()),
        Ok(CommitOrAbort::Commit(())) => "committed".to_owned(),
        Err(e) => err(e),
    };
    safe(format!("the inner opening: {inner}"))
}

// ---------------------------------------------------------------------------------------------
// 16 (soundness.rs's unnumbered last test): LMDB ORs new flags into the unnamed database, whose
// keys are the names of the others.

fn integer_key_on_the_unnamed_database() {
    let dir = scratch();
    let env = open(dir.path());
    let _named: Database<Str, Str> = create(&env, "a named one", DatabaseFlags::empty());
    let changed = env.create_databases_and_commit(env.write_txn().unwrap(), |opener, wtxn| {
        // heed's way to ask for INTEGER_KEY.
        let options = opener.database_options().types::<Bytes, Bytes>().key_comparator::<IntegerComparator>();
        options.create(wtxn).map(CommitOrAbort::<_, ()>::Commit)
    });
    step(format!("create the unnamed database with INTEGER_KEY: {}", res(&changed, |_| "Ok".to_owned())));
    if let Err(e) = changed {
        safe(format!("refused: {}", err(&e)))
    }
    // Names of odd size: LMDB's integer comparison then reads a byte before the name.
    let another = try_create::<_, Str, Str, DefaultComparator, DefaultComparator>(
        &env,
        "another",
        DatabaseFlags::empty(),
    );
    step(format!(
        "create \"another\" (looked up by name with the integer comparator): {}",
        res(&another, |_| "Ok".to_owned())
    ));
    let found = reopen::<DefaultComparator>(&env, "another").map(|d| d.is_some());
    step(format!("reopen \"another\": {}", res(&found, |f| format!("Ok(found: {f})"))));
    if let Err(e) = &another {
        hole(format!("accepted; then creating a database \"another\" fails: {}", err(e)))
    } else if !matches!(found, Ok(true)) {
        hole(format!(
            "accepted; then a database just created is not found again: {}",
            res(&found, |f| format!("Ok(found: {f})"))
        ))
    } else {
        accepted("accepted: the names of the databases are now compared as integers")
    }
}

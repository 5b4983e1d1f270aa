//! Runs each measurement in a fresh child process, interleaved with the other variants, and
//! summarises ratios as median [min–max] (bench/README.md, "Protocol").
//!
//! A child runs one variant once: it sets up its data (not measured), then measures one
//! phase with a monotonic clock and `getrusage(RUSAGE_SELF)` deltas (user/sys CPU, minor
//! faults), and prints one `MEASURED` line the parent parses.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// What a child measured for its phase.
#[derive(Clone, Debug, Default)]
pub struct Measurement {
    pub wall: f64,
    pub user: f64,
    pub sys: f64,
    pub minflt: f64,
    /// Workload-specific numbers (e.g. per-txn latencies, file size), by name.
    pub extra: Vec<(String, Vec<f64>)>,
}

impl Measurement {
    pub fn extra(&self, name: &str) -> Option<&[f64]> {
        self.extra.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_slice())
    }
}

fn rusage() -> libc::rusage {
    // SAFETY: an all-zero rusage is valid; getrusage fills it for this process.
    unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    }
}

fn seconds(t: libc::timeval) -> f64 {
    t.tv_sec as f64 + t.tv_usec as f64 * 1e-6
}

/// Measures `phase` in the current (child) process.
pub fn measure<T>(phase: impl FnOnce() -> T) -> (T, Measurement) {
    let (before, started) = (rusage(), Instant::now());
    let out = phase();
    let (wall, after) = (started.elapsed(), rusage());
    let m = Measurement {
        wall: wall.as_secs_f64(),
        user: seconds(after.ru_utime) - seconds(before.ru_utime),
        sys: seconds(after.ru_stime) - seconds(before.ru_stime),
        minflt: (after.ru_minflt - before.ru_minflt) as f64,
        extra: Vec::new(),
    };
    (out, m)
}

/// Prints the child's result for the parent.
pub fn report_child(m: &Measurement) {
    let mut line = format!("MEASURED {} {} {} {}", m.wall, m.user, m.sys, m.minflt);
    for (name, values) in &m.extra {
        let values: Vec<String> = values.iter().map(f64::to_string).collect();
        line.push_str(&format!(" {name}={}", values.join(",")));
    }
    println!("{line}");
}

/// Runs `bench child <args>` and parses its measurement.
pub fn run_child(args: &[String]) -> Result<Measurement, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut child_args = vec!["child".to_string()];
    child_args.extend_from_slice(args);
    run_program(&exe, &child_args, &[])
}

/// Runs a program that prints a `MEASURED` line (see [`report_child`]) and parses it.
pub fn run_program(exe: &Path, args: &[String], envs: &[(&str, String)]) -> Result<Measurement, String> {
    let out = Command::new(exe)
        .args(args)
        .envs(envs.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .map_err(|e| format!("{}: {e}", exe.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} {:?} failed ({}): {}",
            exe.display(),
            args,
            out.status,
            String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or("")
        ));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().find(|l| l.starts_with("MEASURED ")).ok_or("child printed no MEASURED line")?;
    let mut fields = line.split_whitespace().skip(1);
    let mut num = || fields.next().and_then(|f| f.parse::<f64>().ok()).ok_or("bad MEASURED line");
    let mut m = Measurement { wall: num()?, user: num()?, sys: num()?, minflt: num()?, extra: Vec::new() };
    for field in line.split_whitespace().skip(5) {
        if let Some((name, values)) = field.split_once('=') {
            let values = values.split(',').filter(|v| !v.is_empty()).filter_map(|v| v.parse().ok()).collect();
            m.extra.push((name.to_string(), values));
        }
    }
    Ok(m)
}

/// Median, min and max.
#[derive(Clone, Copy, Debug)]
pub struct Stats {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl Stats {
    pub fn of(values: impl IntoIterator<Item = f64>) -> Stats {
        let mut v: Vec<f64> = values.into_iter().collect();
        assert!(!v.is_empty(), "no values");
        v.sort_by(f64::total_cmp);
        let median =
            if v.len() % 2 == 1 { v[v.len() / 2] } else { (v[v.len() / 2 - 1] + v[v.len() / 2]) / 2.0 };
        Stats { median, min: v[0], max: v[v.len() - 1] }
    }

    pub fn ratio(&self) -> String {
        format!("{:.2} [{:.2}–{:.2}]", self.median, self.min, self.max)
    }
}

/// Runs every variant `rounds` times, interleaved (in a new order every round), and
/// returns the measurements per variant, in round order.
pub fn interleave(
    label: &str,
    variants: &[String],
    rounds: usize,
    args_of: impl Fn(&str) -> Vec<String>,
) -> Result<Vec<Vec<Measurement>>, String> {
    interleave_runs(label, variants, rounds, |variant| run_child(&args_of(variant)))
}

/// [`interleave`] with any way of running a variant once.
pub fn interleave_runs(
    label: &str,
    variants: &[String],
    rounds: usize,
    run: impl Fn(&str) -> Result<Measurement, String>,
) -> Result<Vec<Vec<Measurement>>, String> {
    let mut runs: Vec<Vec<Measurement>> = vec![Vec::new(); variants.len()];
    let started = Instant::now();
    for round in 0..rounds {
        // A new order every round (deterministic shuffle): a variant that always ran right
        // after the same other one would inherit its after-effects (writeback, reclaim).
        let mut order: Vec<usize> = (0..variants.len()).collect();
        for i in (1..order.len()).rev() {
            let j = (crate::data::mix((round as u64) << 32 | i as u64 ^ label.len() as u64) % (i as u64 + 1))
                as usize;
            order.swap(i, j);
        }
        for v in order {
            // Start every run with no dirty pages of earlier runs being written back.
            // SAFETY: sync(2) has no preconditions.
            unsafe { libc::sync() };
            runs[v].push(run(&variants[v])?);
        }
        eprint!(
            "\r  {label}: round {}/{rounds} ({:.0?})   ",
            round + 1,
            Duration::from_secs(started.elapsed().as_secs())
        );
    }
    eprintln!();
    Ok(runs)
}

/// Per-round ratios `a / b` of wall times (a value > 1 means `b` is faster).
pub fn wall_ratio(a: &[Measurement], b: &[Measurement]) -> Stats {
    Stats::of(a.iter().zip(b).map(|(x, y)| x.wall / y.wall))
}

/// Median of one field over rounds.
pub fn median_of(runs: &[Measurement], field: impl Fn(&Measurement) -> f64) -> f64 {
    Stats::of(runs.iter().map(field)).median
}

/// Runs this executable again (`args`) under callgrind, counting only inside functions named
/// `*measured_loop*`, and returns the instructions counted and the callgrind output file (for
/// `callgrind_annotate`; deleted when dropped).
pub fn callgrind_measured_loop(args: &[&str]) -> Result<(u64, tempfile::NamedTempFile), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    callgrind_inside(&exe, "*measured_loop*", args)
}

/// Runs `exe args` under callgrind, counting only inside functions whose names match
/// `functions` (callgrind's `--toggle-collect` pattern), and returns the instructions counted
/// and the callgrind output file (deleted when dropped).
pub fn callgrind_inside(
    exe: &Path,
    functions: &str,
    args: &[&str],
) -> Result<(u64, tempfile::NamedTempFile), String> {
    let out_file = tempfile::NamedTempFile::new().map_err(|e| e.to_string())?;
    let run = Command::new("valgrind")
        .args(["--tool=callgrind", &format!("--toggle-collect={functions}")])
        .arg(format!("--callgrind-out-file={}", out_file.path().display()))
        .arg(exe)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run valgrind (apt-get install valgrind): {e}"))?;
    if !run.status.success() {
        return Err(format!("{}: {}", args.join(" "), String::from_utf8_lossy(&run.stderr)));
    }
    let text = std::fs::read_to_string(out_file.path()).map_err(|e| e.to_string())?;
    let total = text
        .lines()
        .find_map(|l| l.strip_prefix("totals: ").or_else(|| l.strip_prefix("summary: ")))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .ok_or("no totals in the callgrind output")?;
    Ok((total, out_file))
}

/// `callgrind_annotate`'s table of a callgrind output file: every function with its own
/// (self) cost, most expensive first.
pub fn callgrind_annotate(out_file: &Path) -> Result<String, String> {
    let annotate = Command::new("callgrind_annotate")
        .arg("--threshold=100")
        .arg(out_file)
        .output()
        .map_err(|e| format!("cannot run callgrind_annotate: {e}"))?;
    Ok(String::from_utf8_lossy(&annotate.stdout).into_owned())
}

/// The instructions callgrind counted in the own code of the first function whose name
/// contains `name` (its self cost, from `callgrind_annotate`; 0 if it never ran).
pub fn callgrind_self_cost(out_file: &Path, name: &str) -> Result<u64, String> {
    let text = callgrind_annotate(out_file)?;
    let Some(line) = text.lines().find(|l| l.contains(name) && !l.contains("PROGRAM TOTALS")) else {
        return Ok(0);
    };
    let count = line.split_whitespace().next().unwrap_or("").replace(',', "");
    count.parse().map_err(|e| format!("callgrind_annotate line {line:?}: {e}"))
}

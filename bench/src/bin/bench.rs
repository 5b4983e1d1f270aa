//! Runs workloads W1–W6 side by side and writes `bench/REPORT.md` with one plot per
//! workload in `bench/plots/` (see bench/README.md). W6 runs with `--full` or `--only w6`.
//!
//! ```text
//! cargo run --release -p hedge-bench --bin bench -- [--full] [--rounds R] [--only w1,w3] [--w3-n 1000000,...]
//!     [--w6-n 100000] [--w6-without 0007] [--w6-without-bin PATH]
//! ```
//!
//! W6's "hedge without patch C" runs in a second `bench` binary built with
//! `HEDGE_LMDB_SKIP_PATCHES`: this one builds it with cargo (in its own target directory, next
//! to this binary's) unless `--w6-without-bin` names one. `bench skipped-patches` prints what a
//! binary's LMDB leaves out.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use hedge_bench::params::ScaleParams;
use hedge_bench::workloads::{self, Config, Section, Without};

const USAGE: &str = "usage: bench [--full] [--rounds R (default 5)] [--only w1,w2,w3,w4,w5,w6] \
                     [--w3-n N,N,...] [--w6-n N (default 100000)] [--w6-without PATCHES (default 0007)] \
                     [--w6-without-bin PATH] \
                     [--out DIR (default: bench/)]";

const WORKLOADS: [&str; 6] = ["w1", "w2", "w3", "w4", "w5", "w6"];

struct Options {
    config: Config,
    only: Vec<String>,
    w3_n: Option<Vec<u32>>,
    /// W6's number of vectors.
    w6_n: u32,
    /// `HEDGE_LMDB_SKIP_PATCHES` of W6's "hedge without" binary: patch C.
    w6_without: String,
    w6_without_bin: Option<PathBuf>,
    out: PathBuf,
}

fn parse() -> Result<Options, String> {
    let mut o = Options {
        config: Config { rounds: 5, full: false },
        only: Vec::new(),
        w3_n: None,
        w6_n: workloads::W6_PARAMS.n,
        w6_without: "0007".into(),
        w6_without_bin: None,
        out: PathBuf::from(env!("CARGO_MANIFEST_DIR")),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value\n{USAGE}"));
        match flag.as_str() {
            "--full" => o.config.full = true,
            "--rounds" => {
                o.config.rounds = value()?.parse().map_err(|e| format!("--rounds: {e}\n{USAGE}"))?;
                if o.config.rounds == 0 {
                    return Err(format!("--rounds must be at least 1\n{USAGE}"));
                }
            }
            "--only" => o.only = value()?.split(',').map(str::to_string).collect(),
            "--w3-n" => {
                let ns = value()?
                    .split(',')
                    .map(|n| n.parse::<u32>().map_err(|e| format!("--w3-n {n}: {e}")))
                    .collect::<Result<Vec<_>, _>>()?;
                if ns.iter().any(|&n| n < 10) {
                    return Err("--w3-n values must be at least 10".into());
                }
                o.w3_n = Some(ns);
            }
            "--w6-n" => {
                o.w6_n = value()?.parse().map_err(|e| format!("--w6-n: {e}\n{USAGE}"))?;
                if o.w6_n < 100 {
                    return Err("--w6-n must be at least 100".into());
                }
            }
            "--w6-without" => o.w6_without = value()?,
            "--w6-without-bin" => o.w6_without_bin = Some(value()?.into()),
            "--out" => o.out = value()?.into(),
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    for w in &o.only {
        if !WORKLOADS.contains(&w.as_str()) {
            return Err(format!("unknown workload {w}\n{USAGE}"));
        }
    }
    if o.only.is_empty() {
        // W6 alone takes about as long as W1–W5 at default sizes: it runs with --full.
        let all = if o.config.full { &WORKLOADS[..] } else { &WORKLOADS[..5] };
        o.only = all.iter().map(|w| w.to_string()).collect();
    }
    Ok(o)
}

fn command_line(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// The commit of the checkout this binary was built from (not of the working directory).
fn commit() -> String {
    command_line("git", &["-C", env!("CARGO_MANIFEST_DIR"), "rev-parse", "--short", "HEAD"])
}

fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .unwrap_or("?")
        .trim();
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kb: f64 = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    format!(
        "{model}, {cores} cores available, {:.1} GiB RAM, Linux {}",
        mem_kb / 1048576.0,
        command_line("uname", &["-r"])
    )
}

/// W5: the callgrind micro-benchmarks of `w5_micro`, built and run through cargo.
fn w5(plots: &std::path::Path) -> Result<Section, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    if Command::new("valgrind").arg("--version").output().is_err() {
        return Ok(Section { markdown: "Skipped: valgrind is not installed.\n".into(), goals: Vec::new() });
    }
    eprintln!("  W5: cargo run --release -p hedge-bench --bin w5_micro (callgrind)");
    let out = Command::new(cargo)
        .args(["run", "--release", "-q", "-p", "hedge-bench", "--bin", "w5_micro"])
        .output()
        .map_err(|e| format!("running w5_micro: {e}"))?;
    if !out.status.success() {
        return Err(format!("w5_micro failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let mut goals = Vec::new();
    let (mut categories, mut first, mut second) = (Vec::new(), Vec::new(), Vec::new());
    for line in text.lines().filter(|l| l.starts_with("| ")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() < 6 {
            continue;
        }
        if let (Ok(a), Ok(b)) = (cells[3].parse::<f64>(), cells[4].parse::<f64>()) {
            let at = categories.len() as f64;
            categories.push(format!("{} {}", cells[1], cells[2]));
            first.push((at, a));
            second.push((at, b));
        }
        let ratio: f64 = match cells[5].parse() {
            Ok(r) => r,
            Err(_) => continue,
        };
        match (cells[1], cells[2]) {
            ("get-nested", "default") => goals
                .push((format!("W5 nested get, default: hedge/heed {ratio:.3} (goal ≤ 1)"), ratio <= 1.0)),
            ("get-nested", "writemap") => goals.push((
                format!("W5 nested get, WRITEMAP: hedge/heed {ratio:.3} (goal ≤ 0.80)"),
                ratio <= 0.80,
            )),
            ("nested-begin-end", mode) => goals.push((
                format!("W5 nested begin+end, {mode}: hedge/heed {ratio:.3} (goal ≤ 0.5)"),
                ratio <= 0.5,
            )),
            (op, "typed/raw") => goals.push((
                format!("W5 wrapper overhead, {op}: typed/raw {ratio:.3} (goal ≤ 1.05)"),
                ratio <= 1.05,
            )),
            _ => {}
        }
    }
    hedge_bench::plot::bars(
        &plots.join("w5_instructions.svg"),
        "W5 instructions per operation (callgrind): hedge vs heed; typed vs raw",
        "instructions",
        &categories,
        &[
            hedge_bench::plot::Series { name: "hedge (typed rows: typed API)".into(), points: first },
            hedge_bench::plot::Series { name: "heed 0.23.1 (typed rows: hedge raw)".into(), points: second },
        ],
    )?;
    Ok(Section {
        markdown: format!(
            "Instruction counts (callgrind), deterministic:\n\n{text}\n![W5](plots/w5_instructions.svg)\n"
        ),
        goals,
    })
}

/// W6's "hedge without" binary: the one given, or this `bench` built by cargo with
/// `HEDGE_LMDB_SKIP_PATCHES` in its own target directory next to this binary's.
fn without_binary(patches: &str, given: Option<&Path>) -> Result<Without, String> {
    let bin = match given {
        Some(bin) => bin.to_path_buf(),
        None => {
            let exe = std::env::current_exe().map_err(|e| e.to_string())?;
            let target =
                exe.parent().and_then(Path::parent).ok_or("cannot tell this binary's target directory")?;
            let dir = target.join(format!("w6-without-{}", patches.replace([',', '/', ' '], "_")));
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            eprintln!(
                "  W6: HEDGE_LMDB_SKIP_PATCHES={patches} CARGO_TARGET_DIR={} cargo build --release -p hedge-bench --bin bench",
                dir.display()
            );
            let status = Command::new(cargo)
                .args(["build", "--release", "-q", "-p", "hedge-bench", "--bin", "bench"])
                .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
                .env("HEDGE_LMDB_SKIP_PATCHES", patches)
                .env("CARGO_TARGET_DIR", &dir)
                .status()
                .map_err(|e| format!("running cargo: {e}"))?;
            if !status.success() {
                return Err(format!(
                    "building `bench` without patches {patches} for W6 failed (cargo's message is above). \
                     While patch C (0007) is not in patches/series, leave out a patch that is, e.g. \
                     `--w6-without 0003`; or build such a binary yourself and pass `--w6-without-bin PATH`."
                ));
            }
            dir.join("release").join("bench")
        }
    };
    let out = Command::new(&bin).arg("skipped-patches").output().map_err(|e| {
        format!(
            "W6 needs `bench` built with HEDGE_LMDB_SKIP_PATCHES={patches}; cannot run {}: {e}",
            bin.display()
        )
    })?;
    let skipped: Vec<String> = String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect();
    if !out.status.success() || skipped.is_empty() {
        return Err(format!(
            "{} leaves no patch out: it is not a `bench` built with HEDGE_LMDB_SKIP_PATCHES={patches}",
            bin.display()
        ));
    }
    eprintln!("  W6: {} leaves out {}", bin.display(), skipped.join(", "));
    Ok(Without { label: patches.to_string(), skipped, bin })
}

fn run(o: Options) -> Result<(), String> {
    let plots = o.out.join("plots");
    std::fs::create_dir_all(&plots).map_err(|e| format!("creating {}: {e}", plots.display()))?;
    let started = std::time::Instant::now();
    let mut sections: Vec<(&str, Section)> = Vec::new();
    for w in &o.only {
        eprintln!("{w}:");
        let section = match w.as_str() {
            "w1" => ("W1 bulk insert", workloads::w1(&o.config, &plots)?),
            "w2" => ("W2 update churn", workloads::w2(&o.config, &plots)?),
            "w3" => (
                "W3 parallel reads of an uncommitted write txn",
                workloads::w3(&o.config, &plots, o.w3_n.clone())?,
            ),
            "w4" => ("W4 gets on committed data", workloads::w4(&o.config, &plots)?),
            "w5" => ("W5 micro (callgrind)", w5(&plots)?),
            "w6" => {
                let without = without_binary(&o.w6_without, o.w6_without_bin.as_deref())?;
                let p = ScaleParams { n: o.w6_n, ..workloads::W6_PARAMS };
                let mut section = workloads::w6(&o.config, &plots, &p, &without)?;
                // Kept by later runs that leave W6 out (see below): it says which run it is.
                section.markdown = format!(
                    "Measured by `bench -- {}` on {}, commit {}.\n\n{}",
                    std::env::args().skip(1).collect::<Vec<_>>().join(" "),
                    command_line("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
                    commit(),
                    section.markdown
                );
                ("W6 churn at scale", section)
            }
            _ => unreachable!("checked in parse"),
        };
        sections.push(section);
    }
    let mut md = String::new();
    writeln!(md, "# hedge benchmark report\n").unwrap();
    let given: Vec<String> = std::env::args().skip(1).collect();
    writeln!(md, "Generated by `cargo run --release -p hedge-bench --bin bench{}{}` (protocol: `bench/README.md`) in {:.0} s.\n",
        if given.is_empty() { "" } else { " -- " }, given.join(" "), started.elapsed().as_secs_f64()).unwrap();
    writeln!(md, "- Machine: {}", machine()).unwrap();
    writeln!(md, "- Date: {}", command_line("date", &["-u", "+%Y-%m-%d %H:%M UTC"])).unwrap();
    writeln!(md, "- Toolchain: {}; release profile", command_line("rustc", &["--version"])).unwrap();
    writeln!(
        md,
        "- hedge: commit {} (LMDB upstream {} + {:?}{})",
        commit(),
        &hedge_lmdb_sys::UPSTREAM_COMMIT[..12],
        hedge_lmdb_sys::PATCH_SERIES,
        if hedge_lmdb_sys::SKIPPED_PATCHES.is_empty() {
            String::new()
        } else {
            format!("; built WITHOUT {:?}", hedge_lmdb_sys::SKIPPED_PATCHES)
        }
    )
    .unwrap();
    writeln!(md, "- heed 0.23.1 with lmdb-master-sys 0.2.6; redb 4.5.0; libmdbx 0.9.0 with libmdbx 0.14.4 (W6 only) (all in this one binary: the LMDB symbols do not clash)").unwrap();
    writeln!(
        md,
        "- Settings: {} interleaved rounds per point, {} run; each measurement in a fresh child process\n",
        o.config.rounds,
        if o.config.full { "full" } else { "default (quick)" }
    )
    .unwrap();
    let goals: Vec<&(String, bool)> = sections.iter().flat_map(|(_, s)| &s.goals).collect();
    if !goals.is_empty() {
        writeln!(md, "## Goals\n").unwrap();
        for (text, met) in goals {
            writeln!(md, "- {} {text}", if *met { "met:" } else { "**missed:**" }).unwrap();
        }
        writeln!(md).unwrap();
    }
    for (title, section) in &sections {
        writeln!(md, "## {title}\n\n{}", section.markdown).unwrap();
    }
    let path = o.out.join("REPORT.md");
    // The downstream section is written by the `downstream` binary, W6 only by runs that ask
    // for it (`--full`, `--only w6`): a run that did not write them keeps them.
    let old = std::fs::read_to_string(&path).unwrap_or_default();
    for kept in ["W6", "Downstream"] {
        if sections.iter().any(|(title, _)| title.starts_with(kept)) {
            continue;
        }
        if let Some(section) = hedge_bench::report::section(&old, kept) {
            md = hedge_bench::report::replace_section(&md, kept, section);
        }
    }
    std::fs::write(&path, md).map_err(|e| format!("writing {}: {e}", path.display()))?;
    eprintln!("wrote {} and {}/*.svg", path.display(), plots.display());
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("child") => hedge_bench::child(&args[1..]),
        Some("skipped-patches") => {
            hedge_lmdb_sys::SKIPPED_PATCHES.iter().for_each(|p| println!("{p}"));
            Ok(())
        }
        _ => parse().and_then(run),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

//! A real client's workload: hannoy 0.3.0's `build_hnsw` benchmark on heed 0.23.1 and on
//! hedge, interleaved, as a ratio with its range (bench/README.md, "Downstream").
//!
//! The two programs are `bench/downstream/hannoy_build.rs` built against hannoy twice, once
//! with heed and once with hedge through a `heed` shim crate; `.ci/downstream` builds them
//! (release profile, no LTO) and runs this binary:
//!
//! ```sh
//! downstream --heed PATH --hedge PATH [--dims 512,768,1536] [--items 5000] [--rounds 5] [--threads 2,1]
//! ```
//!
//! Each round runs both programs once per point, in an order that changes every round; the
//! ratio hedge / heed is taken per round and reported as median [min–max] with the medians
//! of wall and CPU time. Prints a markdown section.

use std::path::PathBuf;
use std::process::ExitCode;

use hedge_bench::harness::{interleave_runs, median_of, Stats};

struct Config {
    heed: PathBuf,
    hedge: PathBuf,
    dims: Vec<usize>,
    items: usize,
    rounds: usize,
    threads: Vec<usize>,
    /// Where to put the section (replacing its earlier one), besides stdout.
    report: Option<PathBuf>,
}

fn list(value: &str) -> Result<Vec<usize>, String> {
    value.split(',').map(|v| v.parse().map_err(|_| format!("not a number: {v}"))).collect()
}

fn parse(args: &[String]) -> Result<Config, String> {
    let mut config = Config {
        heed: PathBuf::new(),
        hedge: PathBuf::new(),
        dims: vec![512, 768, 1536],
        items: 5000,
        rounds: 5,
        threads: vec![2, 1],
        report: None,
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--heed" => config.heed = value.into(),
            "--hedge" => config.hedge = value.into(),
            "--dims" => config.dims = list(value)?,
            "--items" => config.items = value.parse().map_err(|_| format!("--items {value}"))?,
            "--rounds" => config.rounds = value.parse().map_err(|_| format!("--rounds {value}"))?,
            "--threads" => config.threads = list(value)?,
            "--report" => config.report = Some(value.into()),
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    if config.heed.as_os_str().is_empty() || config.hedge.as_os_str().is_empty() {
        return Err("usage: downstream --heed PATH --hedge PATH [--dims 512,768,1536] [--items 5000] \
                    [--rounds 5] [--threads 2,1] [--report bench/REPORT.md]"
            .into());
    }
    Ok(config)
}

fn run(config: &Config) -> Result<(), String> {
    let mut md = String::new();
    macro_rules! out {
        ($($arg:tt)*) => {{
            let line = format!($($arg)*);
            println!("{line}");
            md.push_str(&line);
            md.push('\n');
        }};
    }
    out!("## Downstream: hannoy 0.3.0 `build_hnsw`, heed 0.23.1 against hedge\n");
    out!(
        "hannoy's own benchmark workload ({} random vectors, Cosine, M = 16, M0 = 32, \
         ef_construction = 32; the build timed, the inserts not), built in release without LTO \
         against heed and against hedge (a `heed` shim crate). {} interleaved rounds per point; \
         ratio = hedge / heed per round, median [min–max].\n",
        config.items,
        config.rounds
    );
    out!("| dims | threads | heed wall (s) | hedge wall (s) | wall ratio | CPU ratio |");
    out!("|---:|---:|---:|---:|---:|---:|");
    let variants = vec!["heed".to_string(), "hedge".to_string()];
    let mut all = Vec::new();
    for &threads in &config.threads {
        for &dim in &config.dims {
            let label = format!("hannoy build {dim} dims, {threads} threads");
            let runs = interleave_runs(&label, &variants, config.rounds, |variant| {
                let exe = if variant == "heed" { &config.heed } else { &config.hedge };
                hedge_bench::harness::run_program(
                    exe,
                    &[dim.to_string(), config.items.to_string()],
                    &[("RAYON_NUM_THREADS", threads.to_string())],
                )
            })?;
            let (heed, hedge) = (&runs[0], &runs[1]);
            let wall = Stats::of(hedge.iter().zip(heed).map(|(a, b)| a.wall / b.wall));
            let cpu = Stats::of(hedge.iter().zip(heed).map(|(a, b)| (a.user + a.sys) / (b.user + b.sys)));
            all.extend(hedge.iter().zip(heed).map(|(a, b)| a.wall / b.wall));
            out!(
                "| {dim} | {threads} | {:.2} | {:.2} | {:.3} [{:.3}–{:.3}] | {:.3} [{:.3}–{:.3}] |",
                median_of(heed, |m| m.wall),
                median_of(hedge, |m| m.wall),
                wall.median,
                wall.min,
                wall.max,
                cpu.median,
                cpu.min,
                cpu.max
            );
        }
    }
    let overall = Stats::of(all);
    out!(
        "\nAll points: wall ratio hedge / heed {:.3} [{:.3}–{:.3}] over {} paired runs.",
        overall.median,
        overall.min,
        overall.max,
        config.rounds * config.dims.len() * config.threads.len()
    );
    out!(
        "\nRun: {}, hannoy 0.3.0, heed 0.23.1, hedge commit {}; `{}`.",
        command_line("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
        command_line("git", &["rev-parse", "--short", "HEAD"]),
        std::env::args().collect::<Vec<_>>().join(" ")
    );
    if let Some(path) = &config.report {
        let old = std::fs::read_to_string(path).unwrap_or_default();
        let new = hedge_bench::report::replace_section(&old, "Downstream", &md);
        std::fs::write(path, new).map_err(|e| format!("writing {}: {e}", path.display()))?;
        eprintln!("wrote the Downstream section of {}", path.display());
    }
    Ok(())
}

/// The first line a command prints, or "?".
fn command_line(program: &str, args: &[&str]) -> String {
    std::process::Command::new(program)
        .args(args)
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.lines().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match parse(&args).and_then(|config| run(&config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

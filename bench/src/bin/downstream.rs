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
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    if config.heed.as_os_str().is_empty() || config.hedge.as_os_str().is_empty() {
        return Err("usage: downstream --heed PATH --hedge PATH [--dims 512,768,1536] [--items 5000] \
                    [--rounds 5] [--threads 2,1]"
            .into());
    }
    Ok(config)
}

fn run(config: &Config) -> Result<(), String> {
    println!("## Downstream: hannoy 0.3.0 `build_hnsw`, heed 0.23.1 against hedge\n");
    println!(
        "hannoy's own benchmark workload ({} random vectors, Cosine, M = 16, M0 = 32, \
         ef_construction = 32; the build timed, the inserts not), built in release without LTO \
         against heed and against hedge (a `heed` shim crate). {} interleaved rounds per point; \
         ratio = hedge / heed per round, median [min–max].\n",
        config.items, config.rounds
    );
    println!("| dims | threads | heed wall (s) | hedge wall (s) | wall ratio | CPU ratio |");
    println!("|---:|---:|---:|---:|---:|---:|");
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
            println!(
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
    println!(
        "\nAll points: wall ratio hedge / heed {:.3} [{:.3}–{:.3}] over {} paired runs.",
        overall.median,
        overall.min,
        overall.max,
        config.rounds * config.dims.len() * config.threads.len()
    );
    Ok(())
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

//! The parent side of each workload: which variants, which points, interleaved runs, and
//! the report section (markdown and a plot).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::harness::{
    callgrind_inside, callgrind_self_cost, interleave, interleave_runs, median_of, run_child, run_program,
    wall_ratio, Measurement, Stats,
};
use crate::params::{ChurnParams, Pattern, ReadParams, ScaleParams, WriteParams};
use crate::plot::{self, Axes, Series};

/// A finished section of the report.
pub struct Section {
    pub markdown: String,
    /// Goal lines for the summary at the top (text, met?).
    pub goals: Vec<(String, bool)>,
}

/// Sizes and repetitions; `quick` is the default run, `full` adds the large points.
#[derive(Clone, Debug)]
pub struct Config {
    pub rounds: usize,
    pub full: bool,
}

fn ms(seconds: f64) -> String {
    if seconds >= 1.0 {
        format!("{seconds:.2} s")
    } else {
        format!("{:.1} ms", seconds * 1e3)
    }
}

/// The nearest-rank `q` quantile of `values` (NaN when empty).
fn quantile(values: &[f64], q: f64) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v.get(((v.len() as f64 - 1.0) * q).round() as usize).copied().unwrap_or(f64::NAN)
}

fn args(workload: &str, variant: &str, params: Vec<String>) -> Vec<String> {
    let mut a = vec![workload.to_string(), variant.to_string()];
    a.extend(params);
    a
}

fn cpu(runs: &[Measurement]) -> String {
    format!(
        "{} u / {} s, {:.0} minflt",
        ms(median_of(runs, |m| m.user)),
        ms(median_of(runs, |m| m.sys)),
        median_of(runs, |m| m.minflt)
    )
}

// ---------------------------------------------------------------------------------------
// W1 bulk insert

const W1_VARIANTS: [(&str, &str); 8] = [
    ("hedge-put", "hedge put"),
    ("hedge-reserve", "hedge put_reserved_slice"),
    ("heed-put", "heed put"),
    ("heed-reserve", "heed put_reserved"),
    ("redb-put", "redb insert"),
    ("redb-reserve", "redb insert_reserve"),
    ("raw-patched", "raw reserve, patched"),
    ("raw-pristine", "raw reserve, pristine"),
];

pub fn w1(config: &Config, plots: &Path) -> Result<Section, String> {
    let mut points: Vec<(WriteParams, &str)> = Vec::new();
    let count = 20_000;
    let dims_list: &[usize] = if config.full { &[768, 1024, 1536, 3072] } else { &[768, 1536, 3072] };
    for &dims in dims_list {
        points.push((WriteParams { count, dims, per_txn: 0, writemap: false }, "one txn"));
    }
    points.push((WriteParams { count, dims: 768, per_txn: 100, writemap: false }, "100 per txn"));
    points.push((WriteParams { count, dims: 768, per_txn: 0, writemap: true }, "one txn, WRITEMAP"));
    if config.full {
        // 3072 dims take 4 pages each: 40,000 of them pass the dirty-list limit (131,071
        // pages at MDB_IDL_LOGN 16), so the txn spills.
        points.push((
            WriteParams { count: 40_000, dims: 3072, per_txn: 0, writemap: false },
            "one txn, spills",
        ));
    }
    let variants: Vec<String> = W1_VARIANTS.iter().map(|v| v.0.to_string()).collect();
    let mut md = String::new();
    writeln!(
        md,
        "Each value is produced by a real producer (f64 → f32 with normalisation) and stored under a \
         u32 key; LMDB with `NO_SYNC`, redb with `Durability::None`. Wall time of the whole ingest \
         (commit included), median of {} interleaved rounds; ratios per round, median [min–max].\n",
        config.rounds
    )
    .unwrap();
    writeln!(
        md,
        "| vectors | dims | mode | hedge/heed put | hedge/heed reserve | hedge put | hedge reserve | heed put | heed reserve | redb insert | redb reserve | raw patched/pristine | hedge reserve CPU |"
    )
    .unwrap();
    writeln!(md, "|---:|---:|---|---|---|---:|---:|---:|---:|---:|---:|---|---|").unwrap();
    let mut goals = Vec::new();
    let mut plot_series: Vec<Series> =
        W1_VARIANTS.iter().map(|(_, name)| Series { name: name.to_string(), points: Vec::new() }).collect();
    for (p, mode) in &points {
        let label = format!("W1 {} x {} dims, {mode}", p.count, p.dims);
        let runs = interleave(&label, &variants, config.rounds, |v| args("w1", v, p.to_args()))?;
        let put_ratio = wall_ratio(&runs[0], &runs[2]);
        let reserve_ratio = wall_ratio(&runs[1], &runs[3]);
        let raw_ratio = wall_ratio(&runs[6], &runs[7]);
        let wall = |i: usize| ms(median_of(&runs[i], |m| m.wall));
        writeln!(
            md,
            "| {} | {} | {mode} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            p.count,
            p.dims,
            put_ratio.ratio(),
            reserve_ratio.ratio(),
            wall(0),
            wall(1),
            wall(2),
            wall(3),
            wall(4),
            wall(5),
            raw_ratio.ratio(),
            cpu(&runs[1])
        )
        .unwrap();
        goals.push((
            format!("{label}: hedge/heed put wall {} (goal ≤ 1.0)", put_ratio.ratio()),
            put_ratio.median <= 1.0,
        ));
        goals.push((
            format!("{label}: hedge/heed reserve wall {} (goal ≤ 1.0)", reserve_ratio.ratio()),
            reserve_ratio.median <= 1.0,
        ));
        if *mode == "one txn" {
            for (i, s) in plot_series.iter_mut().enumerate() {
                s.points.push((p.dims as f64, median_of(&runs[i], |m| m.wall) * 1e3));
            }
        }
    }
    let path = plots.join("w1_bulk_insert.svg");
    plot::lines(
        &path,
        &Axes {
            title: &format!("W1 bulk insert, {count} vectors in one txn (median wall)"),
            x: "dimensions (f32)",
            y: "ms",
            log_x: false,
            log_y: false,
        },
        &plot_series,
    )?;
    writeln!(md, "\n![W1](plots/w1_bulk_insert.svg)").unwrap();
    Ok(Section { markdown: md, goals })
}

// ---------------------------------------------------------------------------------------
// W2 update churn

pub fn w2(config: &Config, plots: &Path) -> Result<Section, String> {
    let p = if config.full {
        ChurnParams { n: 20_000, txns: 400, percent: 5 }
    } else {
        ChurnParams { n: 10_000, txns: 200, percent: 5 }
    };
    let variants: Vec<String> = ["hedge", "heed", "redb"].iter().map(|s| s.to_string()).collect();
    let runs = interleave("W2 churn", &variants, config.rounds, |v| args("w2", v, p.to_args()))?;
    let mut md = String::new();
    writeln!(
        md,
        "{} vectors of 768/1536/3072 dims (by id), committed; then {} write txns, each overwriting \
         {} % of them (uniformly drawn) with a vector of another size, commit per txn (no fsync). \
         Medians of {} interleaved rounds.\n",
        p.n, p.txns, p.percent, config.rounds
    )
    .unwrap();
    writeln!(md, "| system | total | per txn p50 | per txn p99 | last 10 % of txns p50 | file size | CPU | vs heed (total) |").unwrap();
    writeln!(md, "|---|---:|---:|---:|---:|---:|---|---|").unwrap();
    let mut series = Vec::new();
    for (i, name) in variants.iter().enumerate() {
        let pct = |q: f64, tail: bool| {
            median_of(&runs[i], |m| {
                let v = m.extra("txn_ms").unwrap_or(&[]);
                quantile(if tail { &v[v.len() * 9 / 10..] } else { v }, q)
            })
        };
        let size =
            median_of(&runs[i], |m| m.extra("file_bytes").and_then(|v| v.first().copied()).unwrap_or(0.0));
        writeln!(
            md,
            "| {name} | {} | {:.2} ms | {:.2} ms | {:.2} ms | {:.1} MB | {} | {} |",
            ms(median_of(&runs[i], |m| m.wall)),
            pct(0.5, false),
            pct(0.99, false),
            pct(0.5, true),
            size / 1e6,
            cpu(&runs[i]),
            wall_ratio(&runs[i], &runs[1]).ratio()
        )
        .unwrap();
        // The run with the median total, its per-txn latencies smoothed over 10 txns.
        let mut order: Vec<usize> = (0..runs[i].len()).collect();
        order.sort_by(|&a, &b| runs[i][a].wall.total_cmp(&runs[i][b].wall));
        let lat = runs[i][order[order.len() / 2]].extra("txn_ms").unwrap_or(&[]).to_vec();
        let points = lat
            .chunks(10)
            .enumerate()
            .map(|(k, c)| ((k * 10) as f64, c.iter().sum::<f64>() / c.len() as f64))
            .collect();
        series.push(Series { name: name.clone(), points });
    }
    let path = plots.join("w2_churn.svg");
    plot::lines(
        &path,
        &Axes {
            title: "W2 update churn: per-txn latency over time (mean of 10 txns)",
            x: "txn",
            y: "ms",
            log_x: false,
            log_y: false,
        },
        &series,
    )?;
    writeln!(md, "\n![W2](plots/w2_churn.svg)").unwrap();
    Ok(Section { markdown: md, goals: Vec::new() })
}

// ---------------------------------------------------------------------------------------
// W3 parallel reads of an uncommitted write txn

const W3_VARIANTS: [(&str, usize, &str); 8] = [
    ("hedge-write-txn", 1, "write txn, 1 thread"),
    ("hedge-parallel", 1, "hedge ParallelReader, 1"),
    ("hedge-parallel", 2, "hedge ParallelReader, 2"),
    ("hedge-scan", 2, "full scan + pointers (Vec by id), 2"),
    ("hedge-scan-map", 2, "full scan + pointers (HashMap), 2"),
    ("heed-nested", 2, "heed nested readers, 2"),
    ("redb-shared", 2, "redb shared table, 2"),
    ("hedge-committed", 2, "committed, 2 (upper bound)"),
];

pub fn w3(config: &Config, plots: &Path, ns_override: Option<Vec<u32>>) -> Result<Section, String> {
    let ns = ns_override.unwrap_or(if config.full {
        vec![10_000, 100_000, 1_000_000]
    } else {
        vec![10_000, 100_000]
    });
    let fractions = [0.001, 0.01, 0.1, 1.0];
    let value_size = 256;
    let variants: Vec<String> = (0..W3_VARIANTS.len()).map(|i| i.to_string()).collect();
    let mut md = String::new();
    writeln!(
        md,
        "N entries (u32 key, {value_size}-byte graph-node value: 64 neighbour ids) written in one write \
         txn and **not committed**; then a read pass over a fraction of them. `uniform`: \
         independent gets of uniformly drawn ids; `walk`: an HNSW-like dependent walk (each value \
         names the next id). The pass is measured, including the creation and end of the nested \
         readers, and for the workaround the scan that collects a pointer per entry (it must be \
         redone after every batch of writes): into a `Vec` indexed by id (the cheapest form, only \
         possible because ids are dense here) or into a `HashMap` by key (the general form). \
         Multi-thread variants run on a rayon pool built before the measurement. Median wall of {} interleaved rounds; speed-up = \
         write-txn time / variant time, per round, median [min–max]. 2 cores, shared.\n",
        config.rounds
    )
    .unwrap();
    let mut goals = Vec::new();
    let mut plot_series: Vec<Series> = W3_VARIANTS
        .iter()
        .skip(1)
        .map(|(_, _, name)| Series { name: name.to_string(), points: Vec::new() })
        .collect();
    let largest = *ns.iter().max().unwrap();
    for pattern in [Pattern::Uniform, Pattern::Walk] {
        for &n in &ns {
            if pattern == Pattern::Walk && n != largest {
                continue;
            }
            writeln!(md, "\n**{} reads, N = {n}**\n", pattern.name()).unwrap();
            let mut header = String::from("| touched |");
            let mut rule = String::from("|---:|");
            for (_, _, name) in &W3_VARIANTS {
                header.push_str(&format!(" {name} |"));
                rule.push_str("---|");
            }
            writeln!(md, "{header}\n{rule}").unwrap();
            for &f in &fractions {
                let touched = ((n as f64 * f).round() as usize).max(1);
                let params =
                    |i: usize| ReadParams { n, value_size, touched, pattern, threads: W3_VARIANTS[i].1 };
                let label = format!("W3 {} N={n} touched={}%", pattern.name(), f * 100.0);
                let runs = interleave(&label, &variants, config.rounds, |v| {
                    let i: usize = v.parse().unwrap();
                    args("w3", W3_VARIANTS[i].0, params(i).to_args())
                })?;
                let mut row = format!("| {} % ({touched}) |", f * 100.0);
                for i in 0..W3_VARIANTS.len() {
                    let wall = median_of(&runs[i], |m| m.wall);
                    if i == 0 {
                        row.push_str(&format!(" {} |", ms(wall)));
                    } else {
                        row.push_str(&format!(
                            " {} ({}×) |",
                            ms(wall),
                            wall_ratio(&runs[0], &runs[i]).ratio()
                        ));
                    }
                }
                writeln!(md, "{row}").unwrap();
                if pattern == Pattern::Uniform && n == largest {
                    for (k, s) in plot_series.iter_mut().enumerate() {
                        s.points.push((
                            f * 100.0,
                            Stats::of(runs[0].iter().zip(&runs[k + 1]).map(|(a, b)| a.wall / b.wall)).median,
                        ));
                    }
                }
                let parallel_vs_write = wall_ratio(&runs[0], &runs[2]);
                let parallel_vs_scan = wall_ratio(&runs[3], &runs[2]);
                let parallel_vs_scan_map = wall_ratio(&runs[4], &runs[2]);
                if pattern == Pattern::Uniform && f >= 0.1 {
                    goals.push((
                        format!(
                            "W3 N={n}, {} % touched: ParallelReader (2 threads) vs write txn {} (goal ≥ 1.7)",
                            f * 100.0,
                            parallel_vs_write.ratio()
                        ),
                        parallel_vs_write.median >= 1.7,
                    ));
                }
                if pattern == Pattern::Uniform && n >= 1_000_000 && (f - 0.01).abs() < 1e-9 {
                    goals.push((
                        format!("W3 N={n}, 1 % touched: ParallelReader (2) vs full-scan workaround (Vec by id) {} (goal ≥ 10)", parallel_vs_scan.ratio()),
                        parallel_vs_scan.median >= 10.0,
                    ));
                    goals.push((
                        format!("W3 N={n}, 1 % touched: ParallelReader (2) vs full-scan workaround (HashMap) {} (goal ≥ 10)", parallel_vs_scan_map.ratio()),
                        parallel_vs_scan_map.median >= 10.0,
                    ));
                }
            }
        }
    }
    let path = plots.join("w3_parallel_reads.svg");
    plot::lines(
        &path,
        &Axes {
            title: &format!("W3 reads of an uncommitted write txn, N = {largest}: speed-up vs the write txn"),
            x: "entries touched (%)",
            y: "speed-up (×)",
            log_x: true,
            log_y: true,
        },
        &plot_series,
    )?;
    writeln!(md, "\n![W3](plots/w3_parallel_reads.svg)").unwrap();
    Ok(Section { markdown: md, goals })
}

// ---------------------------------------------------------------------------------------
// W4 read-only gets on committed data

const W4_VARIANTS: [(&str, usize, &str); 6] = [
    ("hedge-committed", 1, "hedge, 1 thread"),
    ("heed-committed", 1, "heed, 1 thread"),
    ("redb-committed", 1, "redb, 1 thread"),
    ("hedge-committed", 2, "hedge, 2 threads"),
    ("heed-committed", 2, "heed, 2 threads"),
    ("redb-committed", 2, "redb, 2 threads"),
];

pub fn w4(config: &Config, plots: &Path) -> Result<Section, String> {
    let n = if config.full { 1_000_000 } else { 100_000 };
    let value_size = 256;
    let variants: Vec<String> = (0..W4_VARIANTS.len()).map(|i| i.to_string()).collect();
    let runs = interleave("W4 committed gets", &variants, config.rounds, |v| {
        let i: usize = v.parse().unwrap();
        let p = ReadParams {
            n,
            value_size,
            touched: n as usize,
            pattern: Pattern::Uniform,
            threads: W4_VARIANTS[i].1,
        };
        args("w4", W4_VARIANTS[i].0, p.to_args())
    })?;
    let mut md = String::new();
    writeln!(
        md,
        "{n} committed entries ({value_size}-byte values), {n} uniformly drawn gets split over the \
         threads, each with its own read txn. Median of {} interleaved rounds.\n",
        config.rounds
    )
    .unwrap();
    writeln!(md, "| system | wall | gets/s | CPU | speed-up vs heed (same threads) |").unwrap();
    writeln!(md, "|---|---:|---:|---|---|").unwrap();
    let mut series: Vec<Series> = ["hedge", "heed", "redb"]
        .iter()
        .map(|s| Series { name: s.to_string(), points: Vec::new() })
        .collect();
    for (i, (_, threads, name)) in W4_VARIANTS.iter().enumerate() {
        let wall = median_of(&runs[i], |m| m.wall);
        let heed = if i < 3 { 1 } else { 4 };
        writeln!(
            md,
            "| {name} | {} | {:.2} M | {} | {} |",
            ms(wall),
            n as f64 / wall / 1e6,
            cpu(&runs[i]),
            wall_ratio(&runs[heed], &runs[i]).ratio()
        )
        .unwrap();
        series[i % 3].points.push((*threads as f64, n as f64 / wall / 1e6));
    }
    let path = plots.join("w4_committed_gets.svg");
    plot::lines(
        &path,
        &Axes {
            title: "W4 gets on committed data",
            x: "threads",
            y: "million gets/s",
            log_x: false,
            log_y: false,
        },
        &series,
    )?;
    writeln!(md, "\n![W4](plots/w4_committed_gets.svg)").unwrap();
    Ok(Section { markdown: md, goals: Vec::new() })
}

// ---------------------------------------------------------------------------------------
// W6 churn at scale

/// A `bench` binary built with `HEDGE_LMDB_SKIP_PATCHES`: its W6 child is "hedge without"
/// those patches.
#[derive(Clone, Debug)]
pub struct Without {
    /// The knob's value, as given (`0007`).
    pub label: String,
    /// The patch files that binary left out (its `SKIPPED_PATCHES`).
    pub skipped: Vec<String>,
    pub bin: PathBuf,
}

/// W6's parameters at the default size (`--full` runs the same; `--w6-n` changes `n`).
pub const W6_PARAMS: ScaleParams =
    ScaleParams { n: 100_000, txns: 300, percent: 2, hold_every: 50, hold_for: 25 };

/// A number every run reports once (file size, pages), median over the runs, with the
/// range when the runs disagree.
fn once(runs: &[Measurement], name: &str, show: impl Fn(f64) -> String) -> String {
    let values: Vec<f64> = runs.iter().filter_map(|m| m.extra(name)?.first().copied()).collect();
    if values.is_empty() {
        return "n/a".into();
    }
    let s = Stats::of(values);
    if s.min == s.max {
        show(s.median)
    } else {
        format!("{} [{}–{}]", show(s.median), show(s.min), show(s.max))
    }
}

pub fn w6(config: &Config, plots: &Path, p: &ScaleParams, without: &Without) -> Result<Section, String> {
    let names = [
        "hedge".to_string(),
        format!("hedge without {}", without.label),
        "heed 0.23.1".to_string(),
        "redb 4.5.0".to_string(),
        "libmdbx 0.9.0".to_string(),
    ];
    let variants: Vec<String> =
        ["hedge", "without", "heed", "redb", "mdbx"].iter().map(|s| s.to_string()).collect();
    let runs = interleave_runs("W6 churn at scale", &variants, config.rounds, |v| match v {
        "without" => {
            let child = [vec!["child".to_string()], args("w6", "hedge", p.to_args())].concat();
            run_program(&without.bin, &child, &[])
        }
        _ => run_child(&args("w6", v, p.to_args())),
    })?;
    let deciles = 10;
    let per_decile = (p.txns / deciles) as usize;
    let mut md = String::new();
    writeln!(
        md,
        "{} vectors of 768/1536/3072 f32 (1-, 2- and 4-page overflow values with 4 KiB pages), loaded in \
         txns of {} (not measured); then {} write txns, each replacing {} % of them ({} distinct random \
         keys, the same for every system) with a vector of another size. A read txn is begun before \
         every {}th txn and ended {} txns later, so that the pages freed meanwhile pile up and then \
         become reusable at once. No fsync: LMDB `NO_SYNC`, redb `Durability::None`, libmdbx \
         `UtterlyNoSync` (page size 4096, its default reclamation settings). Per-txn time: wall clock \
         from the write txn's begin to the end of its commit; total: the {} txns with the reader's begins \
         and ends. \"hedge without {}\" is this `bench` built with `HEDGE_LMDB_SKIP_PATCHES={}` ({}). \
         Medians of {} interleaved rounds; ratios per round, median [min–max]. Free pages at the end: \
         hedge `Env::free_list`; heed read raw from the free DB through lmdb-master-sys after closing; \
         libmdbx `Database::freelist` (its GC); redb has none to report.\n",
        p.n,
        ScaleParams::LOAD_BATCH,
        p.txns,
        p.percent,
        p.per_txn(),
        p.hold_every,
        p.hold_for,
        p.txns,
        without.label,
        without.label,
        without.skipped.join(", "),
        config.rounds
    )
    .unwrap();
    writeln!(
        md,
        "| system | total | total / hedge | per txn p50 | per txn p99 | file size | last page | free pages (records) | CPU |"
    )
    .unwrap();
    writeln!(md, "|---|---:|---|---:|---:|---:|---:|---:|---|").unwrap();
    let latencies = |m: &Measurement| m.extra("txn_ms").unwrap_or(&[]).to_vec();
    for (i, name) in names.iter().enumerate() {
        let free = once(&runs[i], "free_pages", |v| format!("{v:.0}"));
        let records = once(&runs[i], "free_records", |v| format!("{v:.0}"));
        writeln!(
            md,
            "| {name} | {} | {} | {:.1} ms | {:.1} ms | {} | {} | {} | {} |",
            ms(median_of(&runs[i], |m| m.wall)),
            if i == 0 { "1".to_string() } else { wall_ratio(&runs[i], &runs[0]).ratio() },
            median_of(&runs[i], |m| quantile(&latencies(m), 0.5)),
            median_of(&runs[i], |m| quantile(&latencies(m), 0.99)),
            once(&runs[i], "file_bytes", |v| format!("{v:.0} B ({:.0} MB)", v / 1e6)),
            once(&runs[i], "last_page", |v| format!("{v:.0}")),
            if records == "n/a" { free } else { format!("{free} ({records})") },
            cpu(&runs[i])
        )
        .unwrap();
    }
    writeln!(
        md,
        "\nPer decile of the txn sequence ({per_decile} txns each): p50 / p99 in ms, each the median over \
         the rounds of that run's decile (the p99 of {per_decile} txns is their slowest).\n"
    )
    .unwrap();
    let mut header = String::from("| txns |");
    let mut rule = String::from("|---|");
    for name in &names {
        header.push_str(&format!(" {name} |"));
        rule.push_str("---:|");
    }
    writeln!(md, "{header}\n{rule}").unwrap();
    let decile = |m: &Measurement, d: usize, q: f64| {
        let lat = latencies(m);
        quantile(lat.get(d * per_decile..((d + 1) * per_decile).min(lat.len())).unwrap_or(&[]), q)
    };
    let mut p50: Vec<Series> = names.iter().map(|n| Series { name: n.clone(), points: Vec::new() }).collect();
    let mut p99: Vec<Series> = names.iter().map(|n| Series { name: n.clone(), points: Vec::new() }).collect();
    for d in 0..deciles as usize {
        let mut row = format!("| {}–{} |", d * per_decile + 1, (d + 1) * per_decile);
        for i in 0..names.len() {
            let (a, b) =
                (median_of(&runs[i], |m| decile(m, d, 0.5)), median_of(&runs[i], |m| decile(m, d, 0.99)));
            row.push_str(&format!(" {a:.1} / {b:.1} |"));
            let x = ((d + 1) * per_decile) as f64;
            p50[i].points.push((x, a));
            p99[i].points.push((x, b));
        }
        writeln!(md, "{row}").unwrap();
    }
    w6_page_alloc(&mut md, p, without)?;
    for (series, what, file) in [(&p50, "p50", "w6_churn_p50.svg"), (&p99, "p99", "w6_churn_p99.svg")] {
        plot::lines(
            &plots.join(file),
            &Axes {
                title: &format!("W6 churn at scale: per-txn {what} per decile (median of rounds)"),
                x: "txn (end of decile)",
                y: "ms",
                log_x: false,
                log_y: false,
            },
            series,
        )?;
        writeln!(md, "\n![W6 {what}](plots/{file})").unwrap();
    }
    Ok(Section { markdown: md, goals: Vec::new() })
}

/// Txns of W6 counted with callgrind (two reader cycles at the default schedule).
const W6_CALLGRIND_TXNS: u32 = 100;

/// W6's instructions in LMDB's page allocation per churn txn: deterministic where wall time
/// is not, and the part patch C changes. Each LMDB system's child runs under callgrind,
/// counting inside `mdb_page_alloc` only, with the first txns and with none (the load alone);
/// the difference is divided by the txns. "All" includes what it calls (the zeroing of a
/// new overflow run, which patch 0002 cuts, free-list loading); "own code" is mostly its
/// search of the free list for a run of pages.
fn w6_page_alloc(md: &mut String, p: &ScaleParams, without: &Without) -> Result<(), String> {
    let txns = W6_CALLGRIND_TXNS.min(p.txns);
    writeln!(
        md,
        "\nInstructions in page allocation per txn of the first {txns} (callgrind, inside \
         `mdb_page_alloc`; the load's subtracted; deterministic, one run each). \"All\" includes what \
         it calls (zeroing new overflow pages, loading free-list records); \"own code\" is mostly its \
         search for a run of contiguous free pages.\n"
    )
    .unwrap();
    if std::process::Command::new("valgrind").arg("--version").output().is_err() {
        writeln!(md, "Skipped: valgrind is not installed.").unwrap();
        return Ok(());
    }
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let systems = [
        ("hedge".to_string(), exe.as_path(), "hedge"),
        (format!("hedge without {}", without.label), without.bin.as_path(), "hedge"),
        ("heed 0.23.1".to_string(), exe.as_path(), "heed"),
    ];
    writeln!(
        md,
        "| system | all, per txn | own code, per txn | own code, per replaced vector | own code / hedge's |\n\
         |---|---:|---:|---:|---:|"
    )
    .unwrap();
    let mut hedge = f64::NAN;
    for (name, bin, variant) in systems {
        let count = |txns: u32| -> Result<(f64, f64), String> {
            eprintln!("  W6: {name}, {txns} txns under callgrind");
            let params = ScaleParams { txns, ..p.clone() }.to_args();
            let mut child = vec!["child", "w6", variant];
            child.extend(params.iter().map(String::as_str));
            let (all, out_file) = callgrind_inside(bin, "*mdb_page_alloc*", &child)?;
            Ok((all as f64, callgrind_self_cost(out_file.path(), "mdb_page_alloc")? as f64))
        };
        let ((all, own), (load_all, load_own)) = (count(txns)?, count(0)?);
        let (all, own) = ((all - load_all) / f64::from(txns), (own - load_own) / f64::from(txns));
        if hedge.is_nan() {
            hedge = own;
        }
        writeln!(
            md,
            "| {name} | {:.3} M | {:.3} M | {:.0} | {:.3} |",
            all / 1e6,
            own / 1e6,
            own / p.per_txn() as f64,
            own / hedge
        )
        .unwrap();
    }
    Ok(())
}

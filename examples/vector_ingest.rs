//! The README's main job: ingest synthetic embeddings with hedge, run a nearest-neighbour
//! pass over them in parallel *before committing*, check it against a sequential run, commit.
//!
//! ```text
//! cargo run --release -p hedge-examples --example vector_ingest -- \
//!     [--count N] [--dims D] [--threads T] [--neighbours M] [--dir PATH] [--no-progress]
//! ```
//!
//! 1. One write transaction stores N embeddings with `put_reserved_slice`: the producer
//!    fills a `&mut [f32]` that is LMDB's own page (patch B: no copy, no zeroing by LMDB).
//! 2. Still uncommitted, a rayon pool of T threads reads them through a
//!    [`hedge::ParallelReader`] (nested read transactions, patch A): for every vector, the
//!    nearest of M candidate vectors (as an HNSW insertion would probe a graph). Vectors
//!    on overflow pages are borrowed in place (`PodSlice` decodes without a copy).
//! 3. The same pass runs sequentially through the write transaction; the results must be
//!    identical.
//! 4. The write transaction commits, and a plain read transaction checks the count.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use hedge::byteorder::BigEndian;
use hedge::codec::PodSlice;
use hedge::types::U32;
use hedge::{CommitOrAbort, Database, EnvFlags, EnvOpenOptions, ParallelReader, RoTxn};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;

type Vectors = Database<'static, U32<BigEndian>, PodSlice<f32>>;

/// Ingest synthetic embeddings with hedge, find each one's nearest candidate in parallel
/// through nested readers of the *uncommitted* write transaction, check the result against a
/// sequential pass, commit, and print throughput.
#[derive(Debug, Parser)]
#[command(name = "vector_ingest")]
struct Args {
    /// Number of vectors to write (at least 2: each is compared with others).
    #[arg(long, default_value_t = 20_000, value_parser = clap::value_parser!(u32).range(2..=100_000_000))]
    count: u32,
    /// Dimensions of each f32 vector (768 dims = 3 KiB, on overflow pages).
    #[arg(long, default_value_t = 768, value_parser = in_range(1, 1 << 16))]
    dims: usize,
    /// Threads of the parallel pass [default: the machine's cores].
    #[arg(long, value_parser = in_range(1, 256))]
    threads: Option<usize>,
    /// Candidates compared per vector, as an HNSW insertion would probe a graph.
    #[arg(long, default_value_t = 16, value_parser = in_range(1, 1024))]
    neighbours: usize,
    /// Directory of the environment [default: a temporary directory, removed at the end].
    #[arg(long, value_name = "PATH")]
    dir: Option<std::path::PathBuf>,
    /// Do not draw progress bars.
    #[arg(long = "no-progress", action = clap::ArgAction::SetFalse)]
    progress: bool,
}

/// A parser of `usize` values in `min..=max` (clap's ranged parsers stop at `u64`/`i64`).
fn in_range(min: usize, max: usize) -> impl Fn(&str) -> Result<usize, String> + Clone {
    move |text| match text.parse::<usize>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        Ok(n) => Err(format!("{n} is not in {min}..={max}")),
        Err(e) => Err(e.to_string()),
    }
}

impl Args {
    fn threads(&self) -> usize {
        self.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(2, usize::from))
    }
}

/// A deterministic pseudo-random number from `x` (splitmix64).
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The synthetic embedding of `id`, unit length, written in place.
fn fill(id: u32, out: &mut [f32]) {
    let mut norm = 0.0f64;
    for (j, x) in out.iter_mut().enumerate() {
        let r = mix(u64::from(id) << 20 | j as u64);
        *x = (r >> 40) as f32 / (1u64 << 24) as f32 - 0.5;
        norm += f64::from(*x) * f64::from(*x);
    }
    let scale = (1.0 / norm.sqrt().max(f64::MIN_POSITIVE)) as f32;
    out.iter_mut().for_each(|x| *x *= scale);
}

/// The candidates of `id`: `m` other ids, as the neighbour lists of a graph index would give.
fn candidates(id: u32, m: usize, count: u32) -> impl Iterator<Item = u32> {
    (0..m as u64).map(move |k| {
        let c = (mix(u64::from(id) * 1_000_003 + k) % u64::from(count - 1)) as u32;
        if c >= id {
            c + 1
        } else {
            c
        }
    })
}

fn squared_distance(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// The nearest candidate of `id` and its distance, read through `txn`.
fn nearest(db: &Vectors, txn: &RoTxn, id: u32, args: &Args) -> hedge::Result<(u32, f32)> {
    let missing = |id: u32| hedge::Error::Io(std::io::Error::other(format!("vector {id} is missing")));
    let query = db.get(txn, &id)?.ok_or_else(|| missing(id))?;
    let mut best = (u32::MAX, f32::INFINITY);
    for c in candidates(id, args.neighbours, args.count) {
        let d = squared_distance(&query, &db.get(txn, &c)?.ok_or_else(|| missing(c))?);
        if d < best.1 || (d == best.1 && c < best.0) {
            best = (c, d);
        }
    }
    Ok(best)
}

fn progress(args: &Args, len: u64, what: &str) -> ProgressBar {
    if !args.progress {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len).with_message(what.to_string());
    bar.set_style(
        ProgressStyle::with_template("{msg:>28} [{bar:40}] {pos}/{len} ({per_sec}, {eta} left)")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    bar
}

fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let tmp;
    let dir = match &args.dir {
        Some(d) => {
            std::fs::create_dir_all(d).map_err(|e| format!("cannot create --dir {}: {e}", d.display()))?;
            d.clone()
        }
        None => {
            tmp = tempfile::tempdir()?;
            tmp.path().to_path_buf()
        }
    };
    let bytes = args.dims * 4;
    let page = 4096;
    // Each vector: its pages (overflow or a share of a leaf) + room for the free list and
    // the copies a write transaction makes; at least 64 MiB.
    let per_vector = (bytes + 64).div_ceil(page) * page + 256;
    let map_size = (args.count as usize * per_vector * 2).max(64 << 20).div_ceil(page) * page;
    // SAFETY: the environment's files are only used through this process's hedge env, and
    // NO_SYNC only risks losing the last commit on a crash (acceptable for a demo).
    let env = unsafe { EnvOpenOptions::new().map_size(map_size).flags(EnvFlags::NO_SYNC).open(&dir)? };
    println!(
        "hedge vector_ingest: {} vectors x {} dims ({} bytes each), {} neighbours each, {} threads, in {}",
        args.count,
        args.dims,
        bytes,
        args.neighbours,
        args.threads(),
        dir.display()
    );
    println!("LMDB: {} + patches {:?}", hedge::lmdb_version().string, hedge_lmdb_sys::PATCH_SERIES);
    let db: Vectors = env
        .create_databases_and_commit(env.write_txn()?, |o, w| {
            o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit)
        })?
        .unwrap_commit();

    // 1. Write every vector in place, in one write transaction.
    let bar = progress(&args, u64::from(args.count), "writing (put_reserved_slice)");
    let started = Instant::now();
    let mut wtxn = env.write_txn()?;
    for id in 0..args.count {
        db.put_reserved_slice(&mut wtxn, &id, args.dims, |v| {
            fill(id, v);
            Ok(())
        })?;
        if id % 1024 == 0 {
            bar.set_position(u64::from(id));
        }
    }
    bar.finish_and_clear();
    let wrote = started.elapsed();

    // 2. The nearest-neighbour pass over the uncommitted vectors, in parallel.
    let pool = rayon::ThreadPoolBuilder::new().num_threads(args.threads()).build()?;
    let bar = progress(&args, u64::from(args.count), "parallel pass (uncommitted)");
    let started = Instant::now();
    let view = ParallelReader::for_pool(&wtxn, &pool)?;
    let parallel: Vec<(u32, f32)> = pool.install(|| {
        (0..args.count)
            .into_par_iter()
            .map(|id| {
                if id % 1024 == 0 {
                    bar.inc(1024);
                }
                nearest(&db, view.txn()?, id, &args)
            })
            .collect::<hedge::Result<_>>()
    })?;
    drop(view);
    bar.finish_and_clear();
    let parallel_time = started.elapsed();

    // 3. The same pass, sequentially, through the write transaction itself.
    let bar = progress(&args, u64::from(args.count), "sequential pass (check)");
    let started = Instant::now();
    let mut sequential = Vec::with_capacity(args.count as usize);
    for id in 0..args.count {
        sequential.push(nearest(&db, &wtxn, id, &args)?);
        if id % 1024 == 0 {
            bar.set_position(u64::from(id));
        }
    }
    bar.finish_and_clear();
    let sequential_time = started.elapsed();
    if let Some(id) = (0..parallel.len()).find(|&i| parallel[i] != sequential[i]) {
        return Err(format!(
            "vector {id}: the parallel pass found {:?}, the sequential one {:?}",
            parallel[id], sequential[id]
        )
        .into());
    }

    // 4. Commit, and check from a plain read transaction.
    let started = Instant::now();
    wtxn.commit()?;
    let committed = started.elapsed();
    let rtxn = env.read_txn()?;
    let count = db.len(&rtxn)?;
    if count != u64::from(args.count) {
        return Err(format!("{count} vectors committed, expected {}", args.count).into());
    }

    let per_sec = |n: f64, d: Duration| n / d.as_secs_f64().max(1e-9);
    let reads = f64::from(args.count) * (args.neighbours + 1) as f64;
    println!(
        "write:      {:>9.2?}  {:>10.0} vectors/s  {:>7.1} MB/s",
        wrote,
        per_sec(f64::from(args.count), wrote),
        per_sec(f64::from(args.count) * bytes as f64 / 1e6, wrote)
    );
    println!(
        "parallel:   {:>9.2?}  {:>10.0} vector reads/s on {} threads (nested readers, uncommitted)",
        parallel_time,
        per_sec(reads, parallel_time),
        args.threads()
    );
    println!(
        "sequential: {:>9.2?}  {:>10.0} vector reads/s through the write txn; speed-up {:.2}x",
        sequential_time,
        per_sec(reads, sequential_time),
        sequential_time.as_secs_f64() / parallel_time.as_secs_f64().max(1e-9)
    );
    let mean = parallel.iter().map(|&(_, d)| f64::from(d)).sum::<f64>() / parallel.len() as f64;
    println!(
        "results:    identical for all {} vectors (mean nearest squared distance {mean:.4})",
        args.count
    );
    println!("commit:     {committed:>9.2?}  {count} vectors committed");
    Ok(())
}

fn main() -> ExitCode {
    // `--help` prints help and exits 0; a bad argument prints clap's error and exits 2.
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::error::ErrorKind;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<Args, clap::Error> {
        Args::try_parse_from(std::iter::once("vector_ingest").chain(args.iter().copied()))
    }

    #[test]
    fn the_command_is_well_formed() {
        Args::command().debug_assert();
    }

    #[test]
    fn help_is_help_not_an_error() {
        let help = parse(&["--help"]).unwrap_err();
        assert_eq!(help.kind(), ErrorKind::DisplayHelp);
        assert_eq!(help.exit_code(), 0);
        let text = help.to_string();
        for flag in ["--count", "--dims", "--threads", "--neighbours", "--dir", "--no-progress"] {
            assert!(text.contains(flag), "{flag} missing from --help:\n{text}");
        }
    }

    #[test]
    fn defaults_and_values() {
        let args = parse(&[]).unwrap();
        assert_eq!((args.count, args.dims, args.neighbours, args.progress), (20_000, 768, 16, true));
        assert!(args.threads() >= 1);
        let args = parse(&["--count", "5", "--dims", "4", "--threads", "3", "--no-progress"]).unwrap();
        assert_eq!((args.count, args.dims, args.threads(), args.progress), (5, 4, 3, false));
    }

    #[test]
    fn bad_arguments_are_errors_with_status_2() {
        for bad in
            [&["--count", "1"][..], &["--dims", "0"], &["--threads", "x"], &["--frobnicate"], &["--dims"]]
        {
            let err = parse(bad).unwrap_err();
            assert_ne!(err.kind(), ErrorKind::DisplayHelp, "{bad:?}");
            assert_eq!(err.exit_code(), 2, "{bad:?}");
        }
    }
}

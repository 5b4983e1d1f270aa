//! The README's main job: ingest synthetic embeddings with hedge, read them back from
//! several threads before committing, then commit.
//!
//! ```text
//! cargo run --release -p hedge-examples --example vector_ingest -- [--count N] [--dims D] [--threads T] [--dir PATH]
//! ```
//!
//! 1. One write transaction stores every vector with `put_reserved`: the producer
//!    (f64 → f32, normalised) writes straight into LMDB's page, no intermediate copy.
//! 2. Still uncommitted, the vectors are verified from T threads at once, each through a
//!    nested read transaction of the write transaction (patch A).
//! 3. The write transaction commits, and a plain read transaction checks the count.
//!
//! (The parallel reader of issue 6 will replace the hand-made threads.)

use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use hedge::byteorder::BigEndian;
use hedge::types::{Bytes, U32};
use hedge::{CommitOrAbort, Database, EnvFlags, EnvOpenOptions};

struct Args {
    count: u32,
    dims: usize,
    threads: usize,
    dir: Option<std::path::PathBuf>,
}

const USAGE: &str = "usage: vector_ingest [--count N (default 20000)] [--dims D (default 768)] \
                     [--threads T (default 4)] [--dir PATH (default: a temporary directory)]";

fn parse_args() -> Result<Args, String> {
    let mut args = Args { count: 20_000, dims: 768, threads: 4, dir: None };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value\n{USAGE}"));
        let number =
            |name: &str, v: String| v.parse::<usize>().map_err(|e| format!("{name} {v:?}: {e}\n{USAGE}"));
        match flag.as_str() {
            "--count" => args.count = number("--count", value("--count")?)? as u32,
            "--dims" => args.dims = number("--dims", value("--dims")?)?,
            "--threads" => args.threads = number("--threads", value("--threads")?)?,
            "--dir" => args.dir = Some(value("--dir")?.into()),
            "-h" | "--help" => return Err(USAGE.to_string()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    if args.dims == 0 || args.dims > 1 << 20 {
        return Err(format!("--dims must be between 1 and {}\n{USAGE}", 1 << 20));
    }
    if args.threads == 0 || args.threads > 256 {
        return Err(format!("--threads must be between 1 and 256\n{USAGE}"));
    }
    Ok(args)
}

/// The synthetic producer: a deterministic f64 embedding for `id`, normalised, as f32.
fn produce(id: u32, dims: usize) -> impl Iterator<Item = f32> {
    let raw: Vec<f64> = (0..dims).map(|j| ((id as f64 + 1.0) * (j as f64 + 0.5)).sin()).collect();
    let norm = raw.iter().map(|x| x * x).sum::<f64>().sqrt().max(f64::MIN_POSITIVE);
    raw.into_iter().map(move |x| (x / norm) as f32)
}

fn matches(stored: &[u8], id: u32, dims: usize) -> bool {
    stored.len() == dims * 4
        && stored.chunks_exact(4).zip(produce(id, dims)).all(|(c, x)| c == x.to_le_bytes())
}

fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let tmp;
    let dir = match &args.dir {
        Some(d) => {
            std::fs::create_dir_all(d)?;
            d.clone()
        }
        None => {
            tmp = tempfile::tempdir()?;
            tmp.path().to_path_buf()
        }
    };
    let bytes = args.dims * 4;
    let page = 4096;
    let map_size = ((args.count as usize * (bytes + 2 * page)).max(1 << 24)).div_ceil(page) * page;
    // SAFETY: the environment's files are only used through this process's hedge env, and
    // NO_SYNC only risks losing the last commit on a crash (acceptable for a demo).
    let env = unsafe { EnvOpenOptions::new().map_size(map_size).flags(EnvFlags::NO_SYNC).open(&dir)? };
    println!(
        "hedge vector_ingest: {} vectors x {} dims ({} bytes each) into {} (LMDB patches: {:?})",
        args.count,
        args.dims,
        bytes,
        dir.display(),
        hedge_lmdb_sys::PATCH_SERIES
    );
    let wtxn = env.write_txn()?;
    let db: Database<U32<BigEndian>, Bytes> = env
        .create_databases_and_commit(wtxn, |o, w| {
            o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit)
        })?
        .unwrap_commit();

    let started = Instant::now();
    let mut wtxn = env.write_txn()?;
    for id in 0..args.count {
        db.put_reserved(&mut wtxn, &id, bytes, |space| {
            for x in produce(id, args.dims) {
                space.write_all(&x.to_le_bytes())?;
            }
            Ok(())
        })?;
    }
    let wrote = started.elapsed();

    let started = Instant::now();
    let readers = (0..args.threads).map(|_| wtxn.nested_read_txn()).collect::<hedge::Result<Vec<_>>>()?;
    let bad: usize = std::thread::scope(|s| {
        let handles: Vec<_> = readers
            .into_iter()
            .enumerate()
            .map(|(t, rtxn)| {
                s.spawn(move || -> hedge::Result<usize> {
                    let mut bad = 0;
                    for id in (t as u32..args.count).step_by(args.threads) {
                        if !db.get(&rtxn, &id)?.is_some_and(|v| matches(v, id, args.dims)) {
                            bad += 1;
                        }
                    }
                    Ok(bad)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a verifying thread panicked"))
            .sum::<hedge::Result<usize>>()
    })?;
    let verified = started.elapsed();
    if bad > 0 {
        return Err(format!("{bad} vectors read back differ from what was written").into());
    }
    wtxn.commit()?;
    let rtxn = env.read_txn()?;
    let count = db.len(&rtxn)?;
    if count != u64::from(args.count) {
        return Err(format!("{count} vectors committed, expected {}", args.count).into());
    }

    let rate = |d: std::time::Duration| args.count as f64 / d.as_secs_f64().max(1e-9);
    println!("wrote {} vectors in {:.2?} ({:.0}/s, put_reserved, one txn)", args.count, wrote, rate(wrote));
    println!(
        "verified them uncommitted from {} threads (nested read txns) in {:.2?} ({:.0}/s)",
        args.threads,
        verified,
        rate(verified)
    );
    println!("committed: {count} vectors");
    Ok(())
}

fn main() -> ExitCode {
    let result = parse_args().map_err(Into::into).and_then(run);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

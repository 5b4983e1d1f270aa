//! hannoy 0.3.0's `build_hnsw` benchmark (benches/benchmark.rs) as one timed run, so that
//! `.ci/downstream` can build it twice, on heed and on hedge (a `heed` shim crate), and the
//! bench crate's `downstream` binary can run the two interleaved. Not a member of the
//! workspace: it is compiled in a temporary crate that depends on hannoy.
//!
//! `hannoy_build DIM ITEMS`: fills a fresh environment with ITEMS random DIM-dim vectors
//! (StdRng seeded with 42, as the benchmark), then builds the HNSW graph with M = 16,
//! M0 = 32, ef_construction = 32 in the same write transaction, and prints the build's wall
//! time, CPU time and minor faults as hedge-bench's harness reads them. Threads: rayon's pool (`RAYON_NUM_THREADS`).
use std::time::Instant;

use hannoy::distances::Cosine;
use hannoy::{Database, Writer};
use heed::{CommitOrAbort, EnvOpenOptions};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

const M: usize = 16;
const M0: usize = 32;

/// User and system CPU seconds and minor faults of this process so far.
fn usage() -> [f64; 3] {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: a valid out-pointer; RUSAGE_SELF always succeeds.
    let usage = unsafe {
        libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr());
        usage.assume_init()
    };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    [secs(usage.ru_utime), secs(usage.ru_stime), usage.ru_minflt as f64]
}

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).map(|a| a.parse().expect("DIM ITEMS")).collect();
    let [dim, items] = args[..] else { panic!("usage: hannoy_build DIM ITEMS") };
    let dir = tempfile::tempdir().unwrap();
    // SAFETY: a fresh directory, opened once by this process.
    let env = unsafe { EnvOpenOptions::new().map_size(2 << 30).open(dir.path()) }.unwrap();
    let db: Database<Cosine> = env
        .create_databases_and_commit(env.write_txn().unwrap(), |dbo, wtxn| {
            dbo.create_database(wtxn, None).map(CommitOrAbort::<_, ()>::Commit)
        })
        .unwrap()
        .unwrap_commit();
    let mut wtxn = env.write_txn().unwrap();
    let writer: Writer<Cosine> = Writer::new(db, 0, dim);
    let mut rng = StdRng::seed_from_u64(42);
    let mut vector = vec![0f32; dim];
    for id in 0..items {
        vector.fill_with(|| rng.random());
        writer.add_item(&mut wtxn, id as u32, &vector).unwrap();
    }
    let mut rng = StdRng::seed_from_u64(42);
    let (before, start) = (usage(), Instant::now());
    writer.builder(&mut rng).ef_construction(32).build::<M, M0>(&mut wtxn).unwrap();
    let wall = start.elapsed().as_secs_f64();
    let after = usage();
    // The line hedge-bench's harness parses: wall, user, sys, minor faults.
    println!("MEASURED {wall} {} {} {}", after[0] - before[0], after[1] - before[1], after[2] - before[2]);
    wtxn.abort();
}

//! W1 bulk insert (shared/BENCHMARKS.md), wall clock as ratios measured side by side:
//! hedge patched vs hedge pristine vs heed 0.23.1's LMDB (lmdb-master-sys 0.2.6), one
//! write txn of reserved puts fed by a real producer (f64 → f32 with normalisation), in
//! interleaved rounds, each run in a child process so that its user/sys CPU and minor
//! faults are its own (wait4).
//!
//! ```text
//! cargo run --release -p hedge-bench --bin w1_bulk -- [--count N] [--rounds R] [--dims 768,1536,3072]
//! ```

use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

const LIBS: [&str; 3] = ["patched", "pristine", "heed"];

struct Run {
    wall: Duration,
    user: Duration,
    sys: Duration,
    minflt: i64,
}

/// The producer: a deterministic f64 embedding, normalised, written as f32 bytes.
fn produce(id: u32, out: &mut [u8]) {
    let dims = out.len() / 4;
    let raw: Vec<f64> = (0..dims).map(|j| ((id as f64 + 1.0) * (j as f64 + 0.5)).sin()).collect();
    let norm = raw.iter().map(|x| x * x).sum::<f64>().sqrt().max(f64::MIN_POSITIVE);
    for (chunk, x) in out.chunks_exact_mut(4).zip(raw) {
        chunk.copy_from_slice(&((x / norm) as f32).to_le_bytes());
    }
}

macro_rules! bulk {
    ($name:ident, $ffi:path) => {
        fn $name(dims: usize, count: u32) {
            use $ffi as ffi;
            let dir = tempfile::tempdir().unwrap();
            let path = std::ffi::CString::new(dir.path().to_str().unwrap()).unwrap();
            let bytes = dims * 4;
            // SAFETY: raw LMDB calls on handles created here; each reserved region is
            // exactly `bytes` long and written in full before the next call.
            unsafe {
                let check = |rc: i32| assert_eq!(rc, 0, "LMDB error {rc}");
                let mut env = std::ptr::null_mut();
                check(ffi::mdb_env_create(&mut env));
                check(ffi::mdb_env_set_mapsize(env, count as usize * (bytes + 8192) + (64 << 20)));
                check(ffi::mdb_env_open(env, path.as_ptr(), ffi::MDB_NOSYNC, 0o644));
                let mut txn = std::ptr::null_mut();
                check(ffi::mdb_txn_begin(env, std::ptr::null_mut(), 0, &mut txn));
                let mut dbi = 0;
                check(ffi::mdb_dbi_open(txn, std::ptr::null(), 0, &mut dbi));
                for id in 0..count {
                    let key = id.to_be_bytes();
                    let mut k = ffi::MDB_val { mv_size: 4, mv_data: key.as_ptr() as *mut _ };
                    let mut v = ffi::MDB_val { mv_size: bytes, mv_data: std::ptr::null_mut() };
                    check(ffi::mdb_put(txn, dbi, &mut k, &mut v, ffi::MDB_RESERVE));
                    produce(id, std::slice::from_raw_parts_mut(v.mv_data as *mut u8, bytes));
                }
                check(ffi::mdb_txn_commit(txn));
                ffi::mdb_env_close(env);
            }
        }
    };
}

bulk!(bulk_patched, hedge_lmdb_sys);
bulk!(bulk_pristine, hedge_lmdb_sys::pristine);
bulk!(bulk_heed, lmdb_master_sys);

fn child(lib: &str, dims: usize, count: u32) -> Result<Run, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let started = Instant::now();
    let child = Command::new(exe)
        .args(["run", lib, &dims.to_string(), &count.to_string()])
        .spawn()
        .map_err(|e| e.to_string())?;
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for the child spawned above; the out-pointers are valid.
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    let wall = started.elapsed();
    if pid < 0 || !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        return Err(format!("{lib} {dims} failed (status {status})"));
    }
    let tv = |t: libc::timeval| Duration::from_micros(t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64);
    Ok(Run { wall, user: tv(usage.ru_utime), sys: tv(usage.ru_stime), minflt: usage.ru_minflt })
}

fn median(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    (v[v.len() / 2], v[0], v[v.len() - 1])
}

fn report(count: u32, rounds: usize, dims_list: &[usize]) -> Result<(), String> {
    println!(
        "W1 bulk insert: {count} reserved f32 vectors in one txn (MDB_NOSYNC), {rounds} interleaved rounds\n"
    );
    println!("| dims | value | patched / pristine wall | patched / heed wall | patched wall, user, sys | pristine | heed | minor faults patched / pristine / heed |");
    println!("|---:|---:|---|---|---|---|---|---|");
    for &dims in dims_list {
        let mut runs: Vec<Vec<Run>> = (0..LIBS.len()).map(|_| Vec::new()).collect();
        for round in 0..rounds {
            // Rotate the order each round so that no library always runs first.
            for i in 0..LIBS.len() {
                let lib = (i + round) % LIBS.len();
                runs[lib].push(child(LIBS[lib], dims, count)?);
            }
        }
        let ratio = |a: usize, b: usize| {
            median(
                runs[a]
                    .iter()
                    .zip(&runs[b])
                    .map(|(x, y)| x.wall.as_secs_f64() / y.wall.as_secs_f64())
                    .collect(),
            )
        };
        let summary = |lib: usize| {
            let m = |f: &dyn Fn(&Run) -> f64| median(runs[lib].iter().map(f).collect()).0;
            format!(
                "{:.3} s ({:.3} u, {:.3} s)",
                m(&|r| r.wall.as_secs_f64()),
                m(&|r| r.user.as_secs_f64()),
                m(&|r| r.sys.as_secs_f64())
            )
        };
        let faults = |lib: usize| median(runs[lib].iter().map(|r| r.minflt as f64).collect()).0;
        let (r1, lo1, hi1) = ratio(0, 1);
        let (r2, lo2, hi2) = ratio(0, 2);
        println!(
            "| {dims} | {} B | {r1:.3} [{lo1:.3}–{hi1:.3}] | {r2:.3} [{lo2:.3}–{hi2:.3}] | {} | {} | {} | {:.0} / {:.0} / {:.0} |",
            dims * 4,
            summary(0),
            summary(1),
            summary(2),
            faults(0),
            faults(1),
            faults(2)
        );
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = if args.first().map(String::as_str) == Some("run") {
        let bulk: Option<fn(usize, u32)> = match args.get(1).map(String::as_str) {
            Some("patched") => Some(bulk_patched),
            Some("pristine") => Some(bulk_pristine),
            Some("heed") => Some(bulk_heed),
            _ => None,
        };
        match (bulk, args.get(2).and_then(|d| d.parse().ok()), args.get(3).and_then(|c| c.parse().ok())) {
            (Some(bulk), Some(dims), Some(count)) => {
                bulk(dims, count);
                Ok(())
            }
            _ => Err("usage: w1_bulk run <patched|pristine|heed> <dims> <count>".to_string()),
        }
    } else {
        let mut count = 20_000;
        let mut rounds = 7;
        let mut dims = vec![768, 1024, 1536, 3072];
        let mut it = args.iter();
        let mut bad = None;
        while let Some(flag) = it.next() {
            let value = it.next();
            match (flag.as_str(), value) {
                ("--count", Some(v)) => {
                    count = v.parse().unwrap_or_else(|_| {
                        bad = Some(format!("--count {v}"));
                        0
                    })
                }
                ("--rounds", Some(v)) => {
                    rounds = v.parse().unwrap_or_else(|_| {
                        bad = Some(format!("--rounds {v}"));
                        0
                    })
                }
                ("--dims", Some(v)) => dims = v.split(',').filter_map(|d| d.parse().ok()).collect(),
                _ => bad = Some(format!("unknown argument {flag}")),
            }
        }
        match bad {
            Some(b) => Err(format!("{b}\nusage: w1_bulk [--count N] [--rounds R] [--dims 768,1536]")),
            None if count == 0 || rounds == 0 || dims.is_empty() => {
                Err("count, rounds and dims must be positive".into())
            }
            None => report(count, rounds, &dims),
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

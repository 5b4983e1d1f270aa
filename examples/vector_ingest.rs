//! The README's main job: store synthetic embeddings in LMDB and read them back.
//!
//! ```text
//! cargo run --release -p hedge-examples --example vector_ingest -- [--count N] [--dims D] [--dir PATH]
//! ```
//!
//! For now this drives the patched library through the raw bindings (`hedge-lmdb-sys`):
//! it writes every vector with `MDB_RESERVE` (the producer converts f64 → f32 and
//! normalises straight into LMDB's page), commits, reads everything back and checks it.
//! It becomes the typed, parallel version once hedge's API and `ParallelReader` land.

use std::ffi::{c_int, CStr, CString};
use std::process::ExitCode;
use std::ptr;
use std::time::Instant;

use hedge_lmdb_sys as ffi;

struct Args {
    count: u32,
    dims: usize,
    dir: Option<std::path::PathBuf>,
}

const USAGE: &str = "usage: vector_ingest [--count N (default 20000)] [--dims D (default 768)] [--dir PATH (default: a temporary directory)]";

fn parse_args() -> Result<Args, String> {
    let mut args = Args { count: 20_000, dims: 768, dir: None };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value\n{USAGE}"));
        match flag.as_str() {
            "--count" => {
                args.count = value("--count")?.parse().map_err(|e| format!("--count: {e}\n{USAGE}"))?;
            }
            "--dims" => {
                args.dims = value("--dims")?.parse().map_err(|e| format!("--dims: {e}\n{USAGE}"))?;
                if args.dims == 0 || args.dims > 1 << 20 {
                    return Err(format!("--dims must be between 1 and {}\n{USAGE}", 1 << 20));
                }
            }
            "--dir" => args.dir = Some(value("--dir")?.into()),
            "-h" | "--help" => return Err(USAGE.to_string()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    Ok(args)
}

fn check(what: &str, rc: c_int) -> Result<(), String> {
    if rc == 0 {
        return Ok(());
    }
    // SAFETY: mdb_strerror returns a NUL-terminated string for any code.
    let message = unsafe { CStr::from_ptr(ffi::mdb_strerror(rc)) };
    Err(format!("{what}: {}", message.to_string_lossy()))
}

/// The synthetic producer: a deterministic f64 embedding for `id`, normalised to unit
/// length and written as f32 into `out`.
fn produce(id: u32, out: &mut [f32]) {
    let raw: Vec<f64> = (0..out.len()).map(|j| ((id as f64 + 1.0) * (j as f64 + 0.5)).sin()).collect();
    let norm = raw.iter().map(|x| x * x).sum::<f64>().sqrt().max(f64::MIN_POSITIVE);
    for (o, x) in out.iter_mut().zip(raw) {
        *o = (x / norm) as f32;
    }
}

fn run(args: Args) -> Result<(), String> {
    let tmp;
    let dir = match &args.dir {
        Some(d) => {
            std::fs::create_dir_all(d).map_err(|e| format!("cannot create {}: {e}", d.display()))?;
            d.clone()
        }
        None => {
            tmp = tempfile::tempdir().map_err(|e| format!("cannot create a temporary directory: {e}"))?;
            tmp.path().to_path_buf()
        }
    };
    let bytes = args.dims * 4;
    let map_size = (args.count as usize * (bytes + 4096 + 64) * 2).max(1 << 24);
    let path =
        CString::new(dir.to_str().ok_or("the directory path is not UTF-8")?).map_err(|e| e.to_string())?;
    println!(
        "hedge vector_ingest: {} vectors x {} dims ({} bytes each) into {} (LMDB patches: {:?})",
        args.count,
        args.dims,
        bytes,
        dir.display(),
        ffi::PATCH_SERIES
    );

    // SAFETY: the raw LMDB sequence env → write txn → reserved puts → commit → read txn,
    // every handle used only while valid and closed before returning. Reserved regions
    // are exactly `bytes` long and fully written before the next LMDB call.
    unsafe {
        let mut env = ptr::null_mut();
        check("mdb_env_create", ffi::mdb_env_create(&mut env))?;
        let result = (|| {
            check("mdb_env_set_mapsize", ffi::mdb_env_set_mapsize(env, map_size))?;
            check("mdb_env_open", ffi::mdb_env_open(env, path.as_ptr(), ffi::MDB_NOSYNC, 0o644))?;
            let started = Instant::now();
            let mut txn = ptr::null_mut();
            check("mdb_txn_begin", ffi::mdb_txn_begin(env, ptr::null_mut(), 0, &mut txn))?;
            let mut dbi = 0;
            check("mdb_dbi_open", ffi::mdb_dbi_open(txn, ptr::null(), 0, &mut dbi))?;
            for id in 0..args.count {
                let key = id.to_be_bytes();
                let mut k = ffi::MDB_val { mv_size: 4, mv_data: key.as_ptr() as *mut _ };
                let mut v = ffi::MDB_val { mv_size: bytes, mv_data: ptr::null_mut() };
                if let Err(e) =
                    check("mdb_put(MDB_RESERVE)", ffi::mdb_put(txn, dbi, &mut k, &mut v, ffi::MDB_RESERVE))
                {
                    ffi::mdb_txn_abort(txn);
                    return Err(e);
                }
                // Values are 2-byte aligned in general; write bytes, not f32s, in place.
                let mut vector = vec![0f32; args.dims];
                produce(id, &mut vector);
                let dst = std::slice::from_raw_parts_mut(v.mv_data as *mut u8, bytes);
                for (chunk, x) in dst.chunks_exact_mut(4).zip(&vector) {
                    chunk.copy_from_slice(&x.to_le_bytes());
                }
            }
            check("mdb_txn_commit", ffi::mdb_txn_commit(txn))?;
            let wrote = started.elapsed();

            let started = Instant::now();
            check(
                "mdb_txn_begin(read)",
                ffi::mdb_txn_begin(env, ptr::null_mut(), ffi::MDB_RDONLY, &mut txn),
            )?;
            let mut expected = vec![0f32; args.dims];
            for id in 0..args.count {
                let key = id.to_be_bytes();
                let mut k = ffi::MDB_val { mv_size: 4, mv_data: key.as_ptr() as *mut _ };
                let mut v = ffi::MDB_val { mv_size: 0, mv_data: ptr::null_mut() };
                if let Err(e) = check("mdb_get", ffi::mdb_get(txn, dbi, &mut k, &mut v)) {
                    ffi::mdb_txn_abort(txn);
                    return Err(format!("vector {id}: {e}"));
                }
                produce(id, &mut expected);
                let stored = std::slice::from_raw_parts(v.mv_data as *const u8, v.mv_size);
                let same = stored.len() == bytes
                    && stored.chunks_exact(4).zip(&expected).all(|(c, x)| c == x.to_le_bytes());
                if !same {
                    ffi::mdb_txn_abort(txn);
                    return Err(format!("vector {id} read back differs from what was written"));
                }
            }
            ffi::mdb_txn_abort(txn);
            let read = started.elapsed();
            let rate = |d: std::time::Duration| args.count as f64 / d.as_secs_f64().max(1e-9);
            println!(
                "wrote {} vectors in {:.2?} ({:.0}/s, one txn, MDB_RESERVE)",
                args.count,
                wrote,
                rate(wrote)
            );
            println!("read and verified {} vectors in {:.2?} ({:.0}/s)", args.count, read, rate(read));
            Ok(())
        })();
        ffi::mdb_env_close(env);
        result
    }
}

fn main() -> ExitCode {
    match parse_args().and_then(run) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

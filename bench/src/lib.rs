//! hedge's side-by-side benchmarks (protocol: bench/README.md): workloads W1–W6 over hedge
//! (patched LMDB), hedge's pristine build or a build without one patch where meaningful,
//! heed 0.23.1 (lmdb-master-sys 0.2.6), redb 4.x and, in W6, libmdbx, each run in a fresh
//! child process, interleaved, summarised as median ratios with min–max, written to
//! `bench/REPORT.md` with one SVG plot per workload.
//! Not published; run with `cargo run --release -p hedge-bench --bin bench`.

pub mod data;
pub mod harness;
pub mod lmdb;
pub mod mdbx;
pub mod params;
pub mod plot;
pub mod raw;
pub mod redb_sys;
pub mod report;
pub mod workloads;

use harness::{report_child, Measurement};
use params::{ChurnParams, ReadParams, ScaleParams, WriteParams};

/// Runs one child measurement: `child <workload> <variant> <params...>`.
pub fn child(args: &[String]) -> Result<(), String> {
    let (workload, variant, rest) = match args {
        [w, v, rest @ ..] => (w.as_str(), v.as_str(), rest),
        _ => return Err("usage: bench child <workload> <variant> <params...>".into()),
    };
    let m: Measurement = match workload {
        "w1" => {
            let p = WriteParams::from_args(rest);
            match variant {
                "hedge-put" => lmdb::hedge_sys::w1(&p, false),
                "hedge-reserve" => lmdb::hedge_sys::w1(&p, true),
                "heed-put" => lmdb::heed_sys::w1(&p, false),
                "heed-reserve" => lmdb::heed_sys::w1(&p, true),
                "redb-put" => redb_sys::w1(&p, false),
                "redb-reserve" => redb_sys::w1(&p, true),
                "raw-patched" => raw::w1_patched(&p),
                "raw-pristine" => raw::w1_pristine(&p),
                other => return Err(format!("unknown W1 variant {other}")),
            }
        }
        "w2" => {
            let p = ChurnParams::from_args(rest);
            match variant {
                "hedge" => lmdb::hedge_sys::w2(&p),
                "heed" => lmdb::heed_sys::w2(&p),
                "redb" => redb_sys::w2(&p),
                other => return Err(format!("unknown W2 variant {other}")),
            }
        }
        "w6" => {
            let p = ScaleParams::from_args(rest);
            match variant {
                "hedge" => lmdb::w6_hedge(&p),
                "heed" => lmdb::w6_heed(&p),
                "redb" => redb_sys::w6(&p),
                "mdbx" => mdbx::w6(&p),
                other => return Err(format!("unknown W6 variant {other}")),
            }
        }
        "w3" | "w4" => {
            let p = ReadParams::from_args(rest);
            match variant {
                "hedge-write-txn" => lmdb::hedge_sys::w3_write_txn(&p),
                "hedge-parallel" => lmdb::w3_hedge_parallel(&p),
                "hedge-scan" => lmdb::hedge_sys::w3_scan(&p, false),
                "hedge-scan-map" => lmdb::hedge_sys::w3_scan(&p, true),
                "hedge-committed" => lmdb::hedge_sys::committed(&p),
                "heed-write-txn" => lmdb::heed_sys::w3_write_txn(&p),
                "heed-nested" => lmdb::w3_heed_nested(&p),
                "heed-committed" => lmdb::heed_sys::committed(&p),
                "redb-shared" => redb_sys::w3_shared(&p),
                "redb-committed" => redb_sys::committed(&p),
                other => return Err(format!("unknown W3/W4 variant {other}")),
            }
        }
        other => return Err(format!("unknown workload {other}")),
    };
    report_child(&m);
    Ok(())
}

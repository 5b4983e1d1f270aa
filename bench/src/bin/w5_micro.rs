//! W5 micro-benchmarks (see bench/README.md), counted in instructions with callgrind,
//! which is deterministic on these noisy machines.
//!
//! ```text
//! cargo run --release -p hedge-bench --bin w5_micro            # every configuration, a table
//! cargo run --release -p hedge-bench --bin w5_micro -- run hedge writemap get-nested
//! ```
//!
//! Without arguments the program runs itself once per configuration under
//! `valgrind --tool=callgrind --toggle-collect=*measured_loop*`, so only the measured loop
//! is counted (setup, env creation and the data set are not), and divides by the number of
//! operations. Both libraries run the same code through their raw bindings in one binary:
//! `hedge` is hedge-lmdb-sys (pinned mdb.master + patches/series), `heed` is
//! lmdb-master-sys 0.2.6 (what heed 0.23.1 links).
//!
//! Data set: 100,000 keys (u32, big endian) with 64-byte values, committed; then a write
//! txn overwrites every tenth key, so lookups meet both dirty and committed pages. Gets
//! visit the keys in a fixed pseudo-random order.

use std::hint::black_box;
use std::process::ExitCode;

const KEYS: u32 = 100_000;
const OPS: usize = 20_000;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    Default,
    WriteMap,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Op {
    /// `mdb_get` through the write txn itself.
    GetWrite,
    /// `mdb_get` through a read-only child of the write txn.
    GetNested,
    /// `mdb_get` through a top-level read txn on committed data (the floor).
    GetCommitted,
    /// `mdb_txn_begin(env, parent, MDB_RDONLY)` + `mdb_txn_abort`.
    NestedBeginEnd,
    /// `mdb_put` overwriting a key's 64-byte value in the write txn.
    Put,
}

const MODES: [(&str, Mode); 2] = [("default", Mode::Default), ("writemap", Mode::WriteMap)];
const OPERATIONS: [(&str, Op); 5] = [
    ("get-write", Op::GetWrite),
    ("get-nested", Op::GetNested),
    ("get-committed", Op::GetCommitted),
    ("nested-begin-end", Op::NestedBeginEnd),
    ("put", Op::Put),
];
const LIBS: [&str; 3] = ["hedge", "heed", "typed"];

/// The loop callgrind counts; everything outside it is excluded by `--toggle-collect`.
#[inline(never)]
fn measured_loop(body: &mut dyn FnMut()) {
    body()
}

/// The keys the loops look up, in a fixed place: glibc's memcmp/memcpy branch on the
/// alignment of their arguments, so keys on the stack (whose address depends on the size of
/// argv and the environment) would make counts differ between otherwise identical runs.
#[repr(C, align(64))]
struct Keys([[u8; 4]; OPS]);

static KEY_ORDER: Keys = {
    let mut keys = [[0u8; 4]; OPS];
    let mut i = 0;
    while i < OPS {
        keys[i] = ((i as u64 * 2_654_435_761 % KEYS as u64) as u32).to_be_bytes();
        i += 1;
    }
    Keys(keys)
};

fn key_at(i: usize) -> &'static [u8; 4] {
    &KEY_ORDER.0[i]
}

/// The same workload over one library's raw bindings.
macro_rules! workload {
    ($name:ident, $ffi:path) => {
        mod $name {
            use super::*;
            use std::ptr;
            use $ffi as ffi;

            fn check(what: &str, rc: i32) {
                assert_eq!(rc, 0, "{what} returned {rc}");
            }

            fn val(bytes: &[u8]) -> ffi::MDB_val {
                ffi::MDB_val { mv_size: bytes.len(), mv_data: bytes.as_ptr() as *mut _ }
            }

            pub fn run(mode: Mode, op: Op) {
                let dir = tempfile::tempdir().unwrap();
                let path = std::ffi::CString::new(dir.path().to_str().unwrap()).unwrap();
                let flags = ffi::MDB_NOSYNC | if mode == Mode::WriteMap { ffi::MDB_WRITEMAP } else { 0 };
                // SAFETY: a straight sequence of LMDB calls on handles created here; values
                // are read only while their txn is live and unchanged.
                unsafe {
                    let mut env = ptr::null_mut();
                    check("env_create", ffi::mdb_env_create(&mut env));
                    check("set_mapsize", ffi::mdb_env_set_mapsize(env, 1 << 30));
                    check("env_open", ffi::mdb_env_open(env, path.as_ptr(), flags, 0o644));
                    let mut txn = ptr::null_mut();
                    check("begin", ffi::mdb_txn_begin(env, ptr::null_mut(), 0, &mut txn));
                    let mut dbi = 0;
                    check("dbi_open", ffi::mdb_dbi_open(txn, ptr::null(), 0, &mut dbi));
                    let value = [7u8; 64];
                    for k in 0..KEYS {
                        let key = k.to_be_bytes();
                        check("put", ffi::mdb_put(txn, dbi, &mut val(&key), &mut val(&value), 0));
                    }
                    check("commit", ffi::mdb_txn_commit(txn));

                    let read = |txn: *mut ffi::MDB_txn| {
                        measured_loop(&mut || {
                            for i in 0..OPS {
                                let mut data = val(&[]);
                                let rc = ffi::mdb_get(txn, dbi, &mut val(key_at(i)), &mut data);
                                black_box((rc, data.mv_size));
                            }
                        })
                    };
                    if op == Op::GetCommitted {
                        check(
                            "begin(read)",
                            ffi::mdb_txn_begin(env, ptr::null_mut(), ffi::MDB_RDONLY, &mut txn),
                        );
                        read(txn);
                        ffi::mdb_txn_abort(txn);
                        ffi::mdb_env_close(env);
                        return;
                    }

                    let mut parent = ptr::null_mut();
                    check("begin", ffi::mdb_txn_begin(env, ptr::null_mut(), 0, &mut parent));
                    let newer = [9u8; 64];
                    for k in (0..KEYS).step_by(10) {
                        let key = k.to_be_bytes();
                        check("put", ffi::mdb_put(parent, dbi, &mut val(&key), &mut val(&newer), 0));
                    }
                    match op {
                        Op::GetWrite => read(parent),
                        Op::GetNested => {
                            let mut child = ptr::null_mut();
                            check(
                                "begin(child)",
                                ffi::mdb_txn_begin(env, parent, ffi::MDB_RDONLY, &mut child),
                            );
                            read(child);
                            ffi::mdb_txn_abort(child);
                        }
                        Op::NestedBeginEnd => measured_loop(&mut || {
                            for _ in 0..OPS {
                                let mut child = ptr::null_mut();
                                let rc = ffi::mdb_txn_begin(env, parent, ffi::MDB_RDONLY, &mut child);
                                black_box(rc);
                                ffi::mdb_txn_abort(child);
                            }
                        }),
                        Op::Put => {
                            let newest = [11u8; 64];
                            measured_loop(&mut || {
                                for i in 0..OPS {
                                    let rc =
                                        ffi::mdb_put(parent, dbi, &mut val(key_at(i)), &mut val(&newest), 0);
                                    black_box(rc);
                                }
                            })
                        }
                        Op::GetCommitted => unreachable!(),
                    }
                    ffi::mdb_txn_abort(parent);
                    ffi::mdb_env_close(env);
                }
            }
        }
    };
}

workload!(hedge, hedge_lmdb_sys);
workload!(heed, lmdb_master_sys);

/// The same get-write and put loops through hedge's typed API (`Database<Bytes, Bytes>`, so
/// that no codec work is counted): the wrapper's own cost over the raw calls.
mod typed {
    use super::*;
    use ::hedge::types::Bytes;
    use ::hedge::{CommitOrAbort, Database, EnvFlags, EnvOpenOptions};

    pub fn run(mode: Mode, op: Op) {
        let dir = tempfile::tempdir().unwrap();
        let flags =
            EnvFlags::NO_SYNC | if mode == Mode::WriteMap { EnvFlags::WRITE_MAP } else { EnvFlags::empty() };
        // SAFETY: a fresh directory only this process uses.
        let env = unsafe { EnvOpenOptions::new().map_size(1 << 30).flags(flags).open(dir.path()) }.unwrap();
        let db: Database<Bytes, Bytes> = env
            .create_databases_and_commit(env.write_txn().unwrap(), |o, w| {
                o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit)
            })
            .unwrap()
            .unwrap_commit();
        let mut wtxn = env.write_txn().unwrap();
        for k in 0..KEYS {
            db.put(&mut wtxn, &k.to_be_bytes(), &[7u8; 64]).unwrap();
        }
        wtxn.commit().unwrap();
        let mut wtxn = env.write_txn().unwrap();
        for k in (0..KEYS).step_by(10) {
            db.put(&mut wtxn, &k.to_be_bytes(), &[9u8; 64]).unwrap();
        }
        match op {
            Op::GetWrite => measured_loop(&mut || {
                for i in 0..OPS {
                    black_box(db.get(&wtxn, key_at(i)).map(|v| v.map(<[u8]>::len)).ok());
                }
            }),
            Op::Put => {
                let newest = [11u8; 64];
                measured_loop(&mut || {
                    for i in 0..OPS {
                        black_box(db.put(&mut wtxn, key_at(i), &newest).is_ok());
                    }
                })
            }
            other => panic!("no typed variant of {other:?}"),
        }
        wtxn.abort();
    }
}

fn parse<T: Copy>(table: &[(&str, T)], word: &str) -> Option<T> {
    table.iter().find(|(name, _)| *name == word).map(|(_, v)| *v)
}

/// Instructions per operation of one configuration, counted by callgrind.
fn count(lib: &str, mode: &str, op: &str) -> Result<f64, String> {
    let (total, _) = hedge_bench::harness::callgrind_measured_loop(&["run", lib, mode, op])?;
    Ok(total as f64 / OPS as f64)
}

fn report() -> Result<(), String> {
    println!("W5 micro: instructions per operation (callgrind, {OPS} ops, {KEYS} keys, 10% dirty)\n");
    println!("| operation | mode | hedge | heed 0.23.1 (lmdb-master-sys 0.2.6) | hedge / heed |");
    println!("|---|---|---:|---:|---:|");
    let mut results = Vec::new();
    for (op, _) in OPERATIONS {
        for (mode, _) in MODES {
            let h = count("hedge", mode, op)?;
            let r = count("heed", mode, op)?;
            println!("| {op} | {mode} | {h:.0} | {r:.0} | {:.3} |", h / r);
            results.push((op, mode, h, r));
        }
    }
    // hedge's typed API over its raw calls (same loops, default mode).
    for op in ["get-write", "put"] {
        let typed = count("typed", "default", op)?;
        let raw = results.iter().find(|x| x.0 == op && x.1 == "default").map(|x| x.2).unwrap();
        println!("| {op} | typed/raw | {typed:.0} | {raw:.0} | {:.3} |", typed / raw);
    }
    let get =
        |op: &str, mode: &str| results.iter().find(|x| x.0 == op && x.1 == mode).map(|x| (x.2, x.3)).unwrap();
    println!();
    for (mode, _) in MODES {
        let (hn, rn) = get("get-nested", mode);
        let (hw, rw) = get("get-write", mode);
        println!("{mode}: nested-reader get / write-txn get = {:.3} (hedge), {:.3} (heed)", hn / hw, rn / rw);
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        [] => report(),
        ["run", lib, mode, op] => match (parse(&MODES, mode), parse(&OPERATIONS, op)) {
            (Some(mode), Some(op)) if lib == "hedge" => {
                hedge::run(mode, op);
                Ok(())
            }
            (Some(mode), Some(op)) if lib == "heed" => {
                heed::run(mode, op);
                Ok(())
            }
            (Some(mode), Some(op)) if lib == "typed" => {
                typed::run(mode, op);
                Ok(())
            }
            _ => Err(format!("unknown configuration {lib} {mode} {op}; libs {LIBS:?}")),
        },
        _ => Err("usage: w5_micro [run <hedge|heed|typed> <default|writemap> <get-write|get-nested|get-committed|nested-begin-end|put>]".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

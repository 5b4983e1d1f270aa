//! The LMDB systems through their typed wrappers: hedge (patched LMDB) and heed 0.23.1
//! (lmdb-master-sys 0.2.6). The code is the same text for both (a macro over the crate
//! path): a heed user's code, renamed. Only the nested-reader pass differs: hedge's
//! `ParallelReader`, heed's `nested_read_txn` per thread.

use crate::data;
use crate::harness::{measure, Measurement};
use crate::params::{on_workers, pool, read_pass, ChurnParams, ReadParams, ScaleParams, WriteParams};

macro_rules! lmdb_system {
    ($module:ident, $lib:ident, $reserve:path) => {
        pub mod $module {
            use super::*;
            use $lib::byteorder::BigEndian;
            use $lib::types::{Bytes, U32};
            use $lib::{CommitOrAbort, Database, Env, EnvFlags, EnvOpenOptions, WithoutTls};

            pub type Db = Database<'static, U32<BigEndian>, Bytes>;

            pub fn open(dir: &std::path::Path, map_size: usize, writemap: bool) -> (Env<WithoutTls>, Db) {
                let mut flags = EnvFlags::NO_SYNC;
                if writemap {
                    flags |= EnvFlags::WRITE_MAP;
                }
                // SAFETY: a fresh directory only this process uses; NO_SYNC and WRITE_MAP are
                // sound here (no crash recovery is measured, no stray writes).
                let env = unsafe {
                    EnvOpenOptions::new().read_txn_without_tls().map_size(map_size).flags(flags).open(dir)
                }
                .expect("open env");
                let db = env
                    .create_databases_and_commit(env.write_txn().unwrap(), |o, w| {
                        o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit)
                    })
                    .expect("create db")
                    .unwrap_commit();
                (env, db)
            }

            /// A write txn with the W3/W4 data set, uncommitted.
            fn load<'e>(env: &'e Env<WithoutTls>, db: &Db, p: &ReadParams) -> $lib::RwTxn<'e> {
                let mut wtxn = env.write_txn().unwrap();
                for id in 0..p.n {
                    db.put(&mut wtxn, &id, &data::node_value(id, p.n, p.value_size)).unwrap();
                }
                wtxn
            }

            fn visit(db: &Db, txn: &$lib::RoTxn, id: u32, step: usize) -> (u64, u32) {
                let v = db.get(txn, &id).unwrap().expect("present");
                (data::touch(v), data::neighbour(v, step))
            }

            /// W3 through the write txn itself, one thread.
            pub fn w3_write_txn(p: &ReadParams) -> Measurement {
                let dir = tempfile::tempdir().unwrap();
                let (env, db) = open(dir.path(), p.map_size(), false);
                let wtxn = load(&env, &db, p);
                let ids = p.shares().concat();
                let (sum, m) = measure(|| read_pass(&ids, p.pattern, |id, step| visit(&db, &wtxn, id, step)));
                std::hint::black_box(sum);
                m
            }

            /// W3, the old workaround: scan the write txn collecting a pointer per entry,
            /// then read through the pointers from `threads` threads. The scan is measured:
            /// it has to be redone after every batch of writes. The pointers go into a `Vec`
            /// indexed by id (the cheapest form, possible because ids are dense here) or,
            /// with `by_key`, into a map by key (the general form).
            pub fn w3_scan(p: &ReadParams, by_key: bool) -> Measurement {
                let dir = tempfile::tempdir().unwrap();
                let (env, db) = open(dir.path(), p.map_size(), false);
                let wtxn = load(&env, &db, p);
                let shares = p.shares();
                let pool = pool(p.threads);
                let (sum, m) = measure(|| {
                    let mut dense: Vec<&[u8]> = Vec::new();
                    let mut map: std::collections::HashMap<u32, &[u8]> = std::collections::HashMap::new();
                    if by_key {
                        map.reserve(p.n as usize);
                    } else {
                        dense.reserve(p.n as usize);
                    }
                    for entry in db.iter(&wtxn).unwrap() {
                        let (k, v) = entry.unwrap();
                        if by_key {
                            map.insert(k, v);
                        } else {
                            dense.push(v);
                        }
                    }
                    on_workers(&pool, &shares, |_, ids| {
                        read_pass(ids, p.pattern, |id, step| {
                            let v = if by_key { map[&id] } else { dense[id as usize] };
                            (data::touch(v), data::neighbour(v, step))
                        })
                    })
                });
                std::hint::black_box(sum);
                m
            }

            /// W3's upper bound and W4: the data committed, read by `threads` threads each
            /// with its own read txn.
            pub fn committed(p: &ReadParams) -> Measurement {
                let dir = tempfile::tempdir().unwrap();
                let (env, db) = open(dir.path(), p.map_size(), false);
                load(&env, &db, p).commit().unwrap();
                let shares = p.shares();
                let pool = pool(p.threads);
                let (sum, m) = measure(|| {
                    on_workers(&pool, &shares, |_, ids| {
                        let rtxn = env.read_txn().unwrap();
                        read_pass(ids, p.pattern, |id, step| visit(&db, &rtxn, id, step))
                    })
                });
                std::hint::black_box(sum);
                m
            }

            /// W1: `count` vectors produced and stored with `put` (from a buffer) or a
            /// reserved write.
            pub fn w1(p: &WriteParams, reserve: bool) -> Measurement {
                let dir = tempfile::tempdir().unwrap();
                let (env, db) = open(dir.path(), p.map_size(), p.writemap);
                let ((), mut m) = measure(|| {
                    let mut wtxn = env.write_txn().unwrap();
                    let mut buffer = vec![0f32; p.dims];
                    for id in 0..p.count {
                        if reserve {
                            $reserve(&db, &mut wtxn, id, p.dims, &mut buffer);
                        } else {
                            data::produce(id, &mut buffer);
                            db.put(&mut wtxn, &id, bytemuck::cast_slice(&buffer)).unwrap();
                        }
                        if p.ends_txn(id) {
                            wtxn.commit().unwrap();
                            wtxn = env.write_txn().unwrap();
                        }
                    }
                    wtxn.commit().unwrap();
                });
                let size = std::fs::metadata(dir.path().join("data.mdb")).map(|m| m.len()).unwrap_or(0);
                m.extra.push(("file_bytes".into(), vec![size as f64]));
                m
            }

            /// W2: mixed-size vectors, then `txns` txns each overwriting `percent` % of them
            /// with another size; per-txn latency and the file size.
            pub fn w2(p: &ChurnParams) -> Measurement {
                let dir = tempfile::tempdir().unwrap();
                let (env, db) = open(dir.path(), p.map_size(), false);
                let mut buffer = Vec::new();
                let mut put = |wtxn: &mut $lib::RwTxn, id: u32, round: u32| {
                    buffer.resize(ChurnParams::dims(id, round), 0f32);
                    data::produce(id ^ round, &mut buffer);
                    db.put(wtxn, &id, bytemuck::cast_slice(&buffer)).unwrap();
                };
                let mut wtxn = env.write_txn().unwrap();
                for id in 0..p.n {
                    put(&mut wtxn, id, 0);
                }
                wtxn.commit().unwrap();
                let mut latencies = Vec::with_capacity(p.txns as usize);
                let ((), mut m) = measure(|| {
                    for round in 1..=p.txns {
                        let started = std::time::Instant::now();
                        let mut wtxn = env.write_txn().unwrap();
                        for id in p.round_ids(round) {
                            put(&mut wtxn, id, round);
                        }
                        wtxn.commit().unwrap();
                        latencies.push(started.elapsed().as_secs_f64() * 1e3);
                    }
                });
                let size = std::fs::metadata(dir.path().join("data.mdb")).map(|m| m.len()).unwrap_or(0);
                m.extra.push(("txn_ms".into(), latencies));
                m.extra.push(("file_bytes".into(), vec![size as f64]));
                m
            }

            /// W6 (`ScaleParams::run`), plus the file size and last page. Returns the
            /// environment and its directory too, for the free list.
            pub fn w6(p: &ScaleParams) -> (Measurement, Env<WithoutTls>, tempfile::TempDir) {
                let dir = tempfile::tempdir().unwrap();
                let (env, db) = open(dir.path(), p.map_size(), false);
                let mut m = p.run(
                    |entries| {
                        let mut wtxn = env.write_txn().unwrap();
                        for &(id, value) in entries {
                            db.put(&mut wtxn, &id, value).unwrap();
                        }
                        wtxn.commit().unwrap();
                    },
                    || env.read_txn().unwrap(),
                );
                let size = std::fs::metadata(dir.path().join("data.mdb")).map(|m| m.len()).unwrap_or(0);
                m.extra.push(("file_bytes".into(), vec![size as f64]));
                m.extra.push(("last_page".into(), vec![env.info().last_page_number as f64]));
                (m, env, dir)
            }
        }
    };
}

/// W6 on hedge; the free list through `Env::free_list`.
pub fn w6_hedge(p: &ScaleParams) -> Measurement {
    let (mut m, env, _dir) = hedge_sys::w6(p);
    let rtxn = env.read_txn().unwrap();
    let (records, _) = env.free_list(&rtxn).unwrap();
    m.extra.push(("free_pages".into(), vec![records.iter().map(|r| r.pages as f64).sum()]));
    m.extra.push(("free_records".into(), vec![records.len() as f64]));
    m
}

/// W6 on heed 0.23.1, which does not expose the free list: once its environment is closed,
/// the file is opened again through lmdb-master-sys and the free DB read raw.
pub fn w6_heed(p: &ScaleParams) -> Measurement {
    let (mut m, env, dir) = heed_sys::w6(p);
    env.prepare_for_closing().wait();
    let (pages, records) = crate::raw::free_list_heed(dir.path());
    m.extra.push(("free_pages".into(), vec![pages as f64]));
    m.extra.push(("free_records".into(), vec![records as f64]));
    m
}

lmdb_system!(hedge_sys, hedge, super::w1_reserve_hedge);
lmdb_system!(heed_sys, heed, super::w1_reserve_heed);

fn w1_reserve_hedge(db: &hedge_sys::Db, wtxn: &mut hedge::RwTxn, id: u32, dims: usize, _buffer: &mut [f32]) {
    // hedge's typed reserved write: the producer fills LMDB's page as a &mut [f32].
    db.remap_data_type::<hedge::codec::PodSlice<f32>>()
        .put_reserved_slice(wtxn, &id, dims, |v| {
            data::produce(id, v);
            Ok(())
        })
        .unwrap();
}

fn w1_reserve_heed(db: &heed_sys::Db, wtxn: &mut heed::RwTxn, id: u32, dims: usize, buffer: &mut [f32]) {
    // heed's reserved write hands out an io::Write: produce, then write the bytes in.
    use std::io::Write;
    db.put_reserved(wtxn, &id, dims * 4, |space| {
        data::produce(id, buffer);
        space.write_all(bytemuck::cast_slice(buffer))
    })
    .unwrap();
}

/// W3 through hedge's `ParallelReader` with `threads` threads (the view's creation and
/// drop are measured).
pub fn w3_hedge_parallel(p: &ReadParams) -> Measurement {
    let dir = tempfile::tempdir().unwrap();
    let (env, db) = hedge_sys::open(dir.path(), p.map_size(), false);
    let mut wtxn = env.write_txn().unwrap();
    for id in 0..p.n {
        db.put(&mut wtxn, &id, &data::node_value(id, p.n, p.value_size)).unwrap();
    }
    let shares = p.shares();
    let pool = pool(p.threads);
    let (sum, m) = measure(|| {
        let view = hedge::ParallelReader::for_pool(&wtxn, &pool).unwrap();
        on_workers(&pool, &shares, |_, ids| {
            let txn = view.txn().unwrap();
            read_pass(ids, p.pattern, |id, step| {
                let v = db.get(txn, &id).unwrap().expect("present");
                (data::touch(v), data::neighbour(v, step))
            })
        })
    });
    std::hint::black_box(sum);
    m
}

/// W3 through heed 0.23.1's nested read txns (lmdb-master-sys 0.2.6), one per thread.
pub fn w3_heed_nested(p: &ReadParams) -> Measurement {
    let dir = tempfile::tempdir().unwrap();
    let (env, db) = heed_sys::open(dir.path(), p.map_size(), false);
    let mut wtxn = env.write_txn().unwrap();
    for id in 0..p.n {
        db.put(&mut wtxn, &id, &data::node_value(id, p.n, p.value_size)).unwrap();
    }
    let shares = p.shares();
    let pool = pool(p.threads);
    let (sum, m) = measure(|| {
        // One nested reader per worker, begun here on the owner thread, each taken (and
        // ended) by its worker.
        let readers: Vec<std::sync::Mutex<Option<heed::RoTxn<heed::WithoutTls>>>> =
            (0..p.threads).map(|_| std::sync::Mutex::new(Some(wtxn.nested_read_txn().unwrap()))).collect();
        on_workers(&pool, &shares, |worker, ids| {
            let txn = readers[worker].lock().unwrap().take().expect("one reader per worker");
            read_pass(ids, p.pattern, |id, step| {
                let v = db.get(&txn, &id).unwrap().expect("present");
                (data::touch(v), data::neighbour(v, step))
            })
        })
    });
    std::hint::black_box(sum);
    m
}

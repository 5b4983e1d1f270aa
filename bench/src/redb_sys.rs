//! redb 4.x, the same workloads. Reads of uncommitted data from several threads share the
//! write transaction's `Table` by reference (redb's tables are `Sync`).

use redb::{Database, Durability, ReadableDatabase, ReadableTable, TableDefinition};

use crate::data;
use crate::harness::{measure, Measurement};
use crate::params::{on_workers, pool, read_pass, ChurnParams, ReadParams, ScaleParams, WriteParams};

const TABLE: TableDefinition<u32, &[u8]> = TableDefinition::new("bench");

fn create(dir: &std::path::Path) -> Database {
    Database::builder().create(dir.join("bench.redb")).expect("create redb")
}

fn begin(db: &Database) -> redb::WriteTransaction {
    let mut wtx = db.begin_write().unwrap();
    // As LMDB's NO_SYNC in the LMDB runs: no fsync at commit.
    wtx.set_durability(Durability::None).unwrap();
    wtx
}

fn file_size(dir: &std::path::Path) -> f64 {
    std::fs::metadata(dir.join("bench.redb")).map(|m| m.len() as f64).unwrap_or(0.0)
}

fn load(table: &mut redb::Table<u32, &[u8]>, p: &ReadParams) {
    for id in 0..p.n {
        table.insert(id, data::node_value(id, p.n, p.value_size).as_slice()).unwrap();
    }
}

fn visit(table: &impl ReadableTable<u32, &'static [u8]>, id: u32, step: usize) -> (u64, u32) {
    let guard = table.get(id).unwrap().expect("present");
    let v = guard.value();
    (data::touch(v), data::neighbour(v, step))
}

/// W3: the uncommitted write txn's table, shared by `threads` threads.
pub fn w3_shared(p: &ReadParams) -> Measurement {
    let dir = tempfile::tempdir().unwrap();
    let db = create(dir.path());
    let wtx = begin(&db);
    let mut table = wtx.open_table(TABLE).unwrap();
    load(&mut table, p);
    let shares = p.shares();
    let pool = pool(p.threads);
    let table = &table;
    let (sum, m) = measure(|| {
        on_workers(&pool, &shares, |_, ids| read_pass(ids, p.pattern, |id, step| visit(table, id, step)))
    });
    std::hint::black_box(sum);
    m
}

/// W4: committed data, one read txn per thread.
pub fn committed(p: &ReadParams) -> Measurement {
    let dir = tempfile::tempdir().unwrap();
    let db = create(dir.path());
    let wtx = begin(&db);
    {
        let mut table = wtx.open_table(TABLE).unwrap();
        load(&mut table, p);
    }
    wtx.commit().unwrap();
    let shares = p.shares();
    let pool = pool(p.threads);
    let (sum, m) = measure(|| {
        on_workers(&pool, &shares, |_, ids| {
            let rtx = db.begin_read().unwrap();
            let table = rtx.open_table(TABLE).unwrap();
            read_pass(ids, p.pattern, |id, step| visit(&table, id, step))
        })
    });
    std::hint::black_box(sum);
    m
}

/// W1: `insert` from a buffer, or `insert_reserve` filled from the producer's buffer.
pub fn w1(p: &WriteParams, reserve: bool) -> Measurement {
    let dir = tempfile::tempdir().unwrap();
    let db = create(dir.path());
    let ((), mut m) = measure(|| {
        let mut buffer = vec![0f32; p.dims];
        let mut wtx = begin(&db);
        let mut id = 0;
        while id < p.count {
            {
                let mut table = wtx.open_table(TABLE).unwrap();
                loop {
                    data::produce(id, &mut buffer);
                    let bytes: &[u8] = bytemuck::cast_slice(&buffer);
                    if reserve {
                        let mut guard = table.insert_reserve(id, bytes.len()).unwrap();
                        guard.as_mut().copy_from_slice(bytes);
                    } else {
                        table.insert(id, bytes).unwrap();
                    }
                    let end = p.ends_txn(id);
                    id += 1;
                    if end || id == p.count {
                        break;
                    }
                }
            }
            wtx.commit().unwrap();
            if id < p.count {
                wtx = begin(&db);
            } else {
                break;
            }
        }
    });
    m.extra.push(("file_bytes".into(), vec![file_size(dir.path())]));
    m
}

/// W2: the same churn as the LMDB systems.
pub fn w2(p: &ChurnParams) -> Measurement {
    let dir = tempfile::tempdir().unwrap();
    let db = create(dir.path());
    let mut buffer = Vec::new();
    let mut put = |table: &mut redb::Table<u32, &[u8]>, id: u32, round: u32| {
        buffer.resize(ChurnParams::dims(id, round), 0f32);
        data::produce(id ^ round, &mut buffer);
        table.insert(id, bytemuck::cast_slice::<f32, u8>(&buffer)).unwrap();
    };
    let wtx = begin(&db);
    {
        let mut table = wtx.open_table(TABLE).unwrap();
        for id in 0..p.n {
            put(&mut table, id, 0);
        }
    }
    wtx.commit().unwrap();
    let mut latencies = Vec::with_capacity(p.txns as usize);
    let ((), mut m) = measure(|| {
        for round in 1..=p.txns {
            let started = std::time::Instant::now();
            let wtx = begin(&db);
            {
                let mut table = wtx.open_table(TABLE).unwrap();
                for id in p.round_ids(round) {
                    put(&mut table, id, round);
                }
            }
            wtx.commit().unwrap();
            latencies.push(started.elapsed().as_secs_f64() * 1e3);
        }
    });
    m.extra.push(("txn_ms".into(), latencies));
    m.extra.push(("file_bytes".into(), vec![file_size(dir.path())]));
    m
}

/// W6 (`ScaleParams::run`), plus the file size (redb has no page count or free list to
/// report).
pub fn w6(p: &ScaleParams) -> Measurement {
    let dir = tempfile::tempdir().unwrap();
    let db = create(dir.path());
    let mut m = p.run(
        |entries| {
            let wtx = begin(&db);
            {
                let mut table = wtx.open_table(TABLE).unwrap();
                for &(id, value) in entries {
                    table.insert(id, value).unwrap();
                }
            }
            wtx.commit().unwrap();
        },
        || db.begin_read().unwrap(),
    );
    m.extra.push(("file_bytes".into(), vec![file_size(dir.path())]));
    m
}

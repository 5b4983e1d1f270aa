//! libmdbx (the `libmdbx` crate 0.9, libmdbx 0.14), LMDB's descendant, for W6 only: the same
//! churn, to see how its page reclamation (`rp_augment_limit`, left at its default) copes.

use libmdbx::{
    Database, DatabaseOptions, Mode, NoWriteMap, PageSize, ReadWriteOptions, SyncMode, TableFlags, WriteFlags,
};

use crate::data;
use crate::harness::Measurement;
use crate::params::ScaleParams;

fn open(dir: &std::path::Path, map_size: usize) -> Database<NoWriteMap> {
    let options = DatabaseOptions {
        // As LMDB's NO_SYNC in the LMDB runs: no fsync at commit.
        mode: Mode::ReadWrite(ReadWriteOptions {
            sync_mode: SyncMode::UtterlyNoSync,
            max_size: Some(map_size as isize),
            ..ReadWriteOptions::default()
        }),
        // 4 KiB pages, as LMDB's here: the same 1-, 2- and 4-page values.
        page_size: Some(PageSize::Set(4096)),
        ..DatabaseOptions::default()
    };
    Database::open_with_options(dir, options).expect("open mdbx")
}

/// W6 (`ScaleParams::run`), plus the file size, last page and the pages of its free list
/// (GC).
pub fn w6(p: &ScaleParams) -> Measurement {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path(), p.map_size());
    let mut m = p.run(
        |entries| {
            let wtxn = db.begin_rw_txn().unwrap();
            {
                let table = wtxn.create_table(None, TableFlags::empty()).unwrap();
                for &(id, value) in entries {
                    wtxn.put(&table, data::key(id), value, WriteFlags::UPSERT).unwrap();
                }
            }
            wtxn.commit().unwrap();
        },
        || db.begin_ro_txn().unwrap(),
    );
    let size = std::fs::metadata(dir.path().join("mdbx.dat")).map(|m| m.len()).unwrap_or(0);
    m.extra.push(("file_bytes".into(), vec![size as f64]));
    m.extra.push(("last_page".into(), vec![db.info().unwrap().last_pgno() as f64]));
    m.extra.push(("free_pages".into(), vec![db.freelist().unwrap() as f64]));
    m
}

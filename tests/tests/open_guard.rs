//! The truncation guard of `EnvOpenOptions::open`: a data file shorter than its meta page's
//! last page is refused unless every page past its end is free. How often it fires after
//! ordinary churn, what it costs, and that it stays cheap when it fires on a healthy env.
//!
//! LMDB leaves the file short on its own: pages allocated at the end of the file and freed
//! in the same txn (an overflow value put and then overwritten or deleted before the commit)
//! are never written, yet the meta page counts them.
//!
//! `HEDGE_GUARD_CHURN=full` runs the churn experiment at the bench's W2 and W6 sizes (10 000
//! values × 200 txns × 5 %, 100 000 × 300 × 2 %); the default is a small version of both. The
//! 10 GB measurement is `#[ignore]`d: `cargo test -p hedge-tests --test open_guard --
//! --ignored --nocapture` (`HEDGE_GUARD_GB` sets the size).

use std::path::Path;
use std::time::Instant;

use hedge::types::{Bytes, U32};
use hedge::{byteorder::BigEndian, CommitOrAbort, Database, Env, EnvFlags, EnvOpenOptions};

/// Opens `dir`; `map_size` 0 keeps the size the env records.
fn open(dir: &Path, flags: EnvFlags, map_size: usize) -> hedge::Result<Env> {
    let mut options = EnvOpenOptions::new();
    if map_size > 0 {
        options.map_size(map_size);
    }
    // SAFETY (tests): only hedge touches these files while they are open.
    unsafe { options.flags(flags).max_dbs(2).open(dir) }
}

fn database(env: &Env) -> Database<'_, U32<BigEndian>, Bytes> {
    env.create_databases_and_commit(env.write_txn().unwrap(), |o, w| {
        o.create_database(w, Some("values")).map(CommitOrAbort::<_, ()>::Commit)
    })
    .unwrap()
    .unwrap_commit()
}

/// Whether the data file is shorter than the last page LMDB counts: the guard's condition.
fn short(env: &Env) -> bool {
    let needed = (env.info().last_page_number as u64 + 1) * u64::from(env.unnamed_database_stat().page_size);
    env.real_disk_size().unwrap() < needed
}

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Churn as the bench's W2 (`hold_reader`: false) and W6 (a read txn held across every
/// fourth txn) do it: `n` vectors of 768/1536/3072 f32, then `txns` txns each overwriting
/// `percent` % of them (drawn uniformly, so some twice in one txn) with another size; with
/// `temporary`, each txn also puts a 1 MiB value and deletes it before committing.
/// Returns (commits after which the file was short, commits); the env must reopen.
fn churn(n: u32, txns: u32, percent: u32, hold_reader: bool, temporary: bool) -> (u32, u32) {
    let dir = tempfile::tempdir().unwrap();
    let env = open(dir.path(), EnvFlags::NO_SYNC, 4 << 30).unwrap();
    let db = database(&env);
    let sizes = [768 * 4, 1536 * 4, 3072 * 4];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut wtxn = env.write_txn().unwrap();
    for id in 0..n {
        db.put(&mut wtxn, &id, &vec![id as u8; sizes[id as usize % 3]]).unwrap();
    }
    wtxn.commit().unwrap();
    let mut short_after = 0;
    for t in 0..txns {
        let reader = (hold_reader && t % 4 == 0).then(|| env.read_txn().unwrap());
        let mut wtxn = env.write_txn().unwrap();
        for _ in 0..n * percent / 100 {
            let id = rng.below(n as u64) as u32;
            let old = db.get(&wtxn, &id).unwrap().map_or(0, <[u8]>::len);
            let len =
                sizes[(sizes.iter().position(|&s| s == old).unwrap_or(0) + 1 + rng.below(2) as usize) % 3];
            db.put(&mut wtxn, &id, &vec![t as u8; len]).unwrap();
        }
        if temporary {
            db.put(&mut wtxn, &u32::MAX, &vec![t as u8; 1 << 20]).unwrap();
            db.delete(&mut wtxn, &u32::MAX).unwrap();
        }
        wtxn.commit().unwrap();
        drop(reader);
        short_after += u32::from(short(&env));
    }
    let was_short = short(&env);
    env.prepare_for_closing().wait();
    let env = open(dir.path(), EnvFlags::empty(), 4 << 30).expect("the guard lets a healthy env open");
    assert!(env.check().unwrap().is_ok());
    assert_eq!(short(&env), was_short);
    (short_after, txns)
}

#[test]
fn how_often_ordinary_churn_leaves_the_data_file_short() {
    let full = std::env::var("HEDGE_GUARD_CHURN").is_ok_and(|v| v == "full");
    let runs = if full {
        [
            ("W2", 10_000, 200, 5, false, false),
            ("W6", 100_000, 300, 2, true, false),
            ("W2", 10_000, 200, 5, false, true),
        ]
    } else {
        [
            ("W2", 1_000, 40, 5, false, false),
            ("W6", 2_000, 40, 2, true, false),
            ("W2", 1_000, 40, 5, false, true),
        ]
    };
    for (name, n, txns, percent, hold, temporary) in runs {
        let (short_after, commits) = churn(n, txns, percent, hold, temporary);
        println!(
            "{name}-like churn ({n} values, {txns} txns × {percent} %{}{}): the data file was short after \
             {short_after} of {commits} commits",
            if hold { ", a reader held across every fourth" } else { "" },
            if temporary { ", a 1 MiB value put and deleted in each" } else { "" }
        );
        if temporary {
            // The reopens above went through the guard's proof, not around it.
            assert!(short_after > 0, "a value freed while dirty at the end of the file leaves it short");
        }
    }
}

/// Seconds of `EnvOpenOptions::open` + close, best of `rounds`.
fn open_seconds(dir: &Path, rounds: usize) -> f64 {
    (0..rounds)
        .map(|_| {
            let started = Instant::now();
            let env = open(dir, EnvFlags::empty(), 0).unwrap();
            let took = started.elapsed().as_secs_f64();
            env.prepare_for_closing().wait();
            took
        })
        .fold(f64::INFINITY, f64::min)
}

/// A `gb` GB env built sparsely: values reserved under WRITE_MAP and never written (the map
/// pages are holes), the file then cut to the last page in use. With `delete_half`, every
/// other value is deleted (a free list of half the file's pages, in runs too short for what
/// follows). Then, without WRITE_MAP, one txn puts and deletes a 96 MiB value at the end of
/// the file: LMDB counts its pages but never writes them, and the file is left short, healthy.
fn sparse_env(dir: &Path, gb: u64, delete_half: bool) {
    use hedge_lmdb_sys as ffi;
    use std::ffi::CString;
    const VALUE: usize = 64 << 20;
    let values = (gb << 30) / VALUE as u64;
    let map_size = ((gb + 2) << 30) as usize;
    let path = CString::new(dir.to_str().unwrap()).unwrap();
    let check = |rc: i32| assert_eq!(rc, 0, "LMDB error {rc}");
    // SAFETY (tests): one env, one txn at a time, every handle used only while live; the
    // reserved values are deliberately never written (their pages stay holes in the file).
    unsafe {
        let mut env = std::ptr::null_mut();
        check(ffi::mdb_env_create(&mut env));
        check(ffi::mdb_env_set_mapsize(env, map_size));
        check(ffi::mdb_env_open(env, path.as_ptr(), ffi::MDB_WRITEMAP | ffi::MDB_NOSYNC, 0o600));
        let mut txn = std::ptr::null_mut();
        check(ffi::mdb_txn_begin(env, std::ptr::null_mut(), 0, &mut txn));
        let mut dbi = 0;
        check(ffi::mdb_dbi_open(txn, std::ptr::null(), 0, &mut dbi));
        for i in 0..values as u32 {
            let key = i.to_be_bytes();
            let mut k = ffi::MDB_val { mv_size: 4, mv_data: key.as_ptr() as *mut _ };
            let mut d = ffi::MDB_val { mv_size: VALUE, mv_data: std::ptr::null_mut() };
            check(ffi::mdb_put(txn, dbi, &mut k, &mut d, ffi::MDB_RESERVE));
        }
        check(ffi::mdb_txn_commit(txn));
        if delete_half {
            check(ffi::mdb_txn_begin(env, std::ptr::null_mut(), 0, &mut txn));
            for i in (1..values as u32).step_by(2) {
                let key = i.to_be_bytes();
                let mut k = ffi::MDB_val { mv_size: 4, mv_data: key.as_ptr() as *mut _ };
                check(ffi::mdb_del(txn, dbi, &mut k, std::ptr::null_mut()));
            }
            check(ffi::mdb_txn_commit(txn));
        }
        let mut info = std::mem::zeroed();
        check(ffi::mdb_env_info(env, &mut info));
        check(ffi::mdb_env_sync(env, 1));
        ffi::mdb_env_close(env);
        // WRITE_MAP sized the file to the map: cut it to the pages in use, as a file written
        // without WRITE_MAP would be.
        let file = std::fs::OpenOptions::new().write(true).open(dir.join("data.mdb")).unwrap();
        file.set_len((info.me_last_pgno as u64 + 1) * 4096).unwrap();
    }
    let env = open(dir, EnvFlags::NO_SYNC, map_size).unwrap();
    let db: Database<U32<BigEndian>, Bytes> = env
        .open_databases_and_commit(env.read_txn().unwrap(), |o, r| {
            o.open_database(r, None).map(CommitOrAbort::<_, ()>::Commit)
        })
        .unwrap()
        .unwrap_commit()
        .unwrap();
    // A few small txns first, so that the free list has a record the last txn can reclaim:
    // LMDB returns pages freed while dirty to its reclaimed list only when it has one.
    for round in 0..4u8 {
        let mut wtxn = env.write_txn().unwrap();
        db.put(&mut wtxn, &(u32::MAX - 1), &[round; 100]).unwrap();
        wtxn.commit().unwrap();
    }
    let mut wtxn = env.write_txn().unwrap();
    db.put(&mut wtxn, &(u32::MAX - 1), &[9; 100]).unwrap();
    db.put(&mut wtxn, &u32::MAX, &vec![7; 96 << 20]).unwrap();
    db.delete(&mut wtxn, &u32::MAX).unwrap();
    wtxn.commit().unwrap();
    env.force_sync().unwrap();
    env.prepare_for_closing().wait();
}

#[test]
#[ignore = "builds a 10 GB sparse env (HEDGE_GUARD_GB); run with --ignored --nocapture"]
fn open_cost_on_a_large_env() {
    let gb: u64 = std::env::var("HEDGE_GUARD_GB").ok().and_then(|v| v.parse().ok()).unwrap_or(10);
    for (what, delete_half) in [("all values kept", false), ("every other value deleted", true)] {
        let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        let started = Instant::now();
        sparse_env(dir.path(), gb, delete_half);
        let built = started.elapsed().as_secs_f64();
        let env = open(dir.path(), EnvFlags::empty(), 0).unwrap();
        let (file, last, free) = {
            let rtxn = env.read_txn().unwrap();
            let (entries, _) = env.free_list(&rtxn).unwrap();
            (
                env.real_disk_size().unwrap(),
                env.info().last_page_number as u64,
                entries.iter().map(|e| e.pages).sum::<u64>(),
            )
        };
        assert!(short(&env), "the setup must leave the file short: {file} bytes, last page {last}");
        env.prepare_for_closing().wait();
        let guarded = open_seconds(dir.path(), 5);
        // The same env with the file extended to the last page: the guard does not fire.
        std::fs::OpenOptions::new()
            .write(true)
            .open(dir.path().join("data.mdb"))
            .unwrap()
            .set_len((last + 1) * 4096)
            .unwrap();
        let unguarded = open_seconds(dir.path(), 5);
        println!(
            "{gb} GB env ({what}; built sparse in {built:.1} s): {} pages, {free} free, file {} pages short; \
             open+close {:.3} ms with the guard firing, {:.3} ms with a full-length file",
            last + 1,
            last + 1 - file / 4096,
            guarded * 1e3,
            unguarded * 1e3
        );
    }
}

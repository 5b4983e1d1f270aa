//! One round of `.ci/downstream`'s crossover check, built twice: on heed and on hedge (a
//! `heed` shim). `crossover ENV ROUND BACKEND` opens ENV, checks that everything earlier rounds
//! wrote (maybe on the other backend) reads back exactly and is found by a search, adds
//! ITEMS_PER_ROUND vectors to a hannoy and an arroy index, rebuilds both, commits, and checks
//! again.
use std::process::ExitCode;

use rand::SeedableRng;
use rand::rngs::StdRng;

const DIMS: usize = 24;
const ITEMS_PER_ROUND: u32 = 150;

/// The vector of an item: a pure function of its id, so any round can check any earlier one.
fn vector(item: u32) -> Vec<f32> {
    let mut state = u64::from(item).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..DIMS)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5
        })
        .collect()
}

type Hannoy = hannoy::Database<'static, hannoy::distances::Euclidean>;
type Arroy = arroy::Database<'static, arroy::distances::Euclidean>;

/// The two indexes' databases, created if absent.
fn databases(env: &'static heed::Env) -> Result<(Hannoy, Arroy), String> {
    let wtxn = env.write_txn().map_err(|e| e.to_string())?;
    env.create_databases_and_commit(wtxn, |opener, wtxn| {
        let hannoy: Hannoy = opener.create_database(wtxn, Some("hannoy"))?;
        let arroy: Arroy = opener.create_database(wtxn, Some("arroy"))?;
        Ok::<_, heed::Error>(heed::CommitOrAbort::<_, ()>::Commit((hannoy, arroy)))
    })
    .map(heed::CommitOrAbort::unwrap_commit)
    .map_err(|e| e.to_string())
}

fn check(env: &'static heed::Env, items: u32, backend: &str, when: &str) -> Result<(), String> {
    let (hdb, adb) = databases(env)?;
    let rtxn = env.read_txn().map_err(|e| e.to_string())?;
    let hreader = hannoy::Reader::<hannoy::distances::Euclidean>::open(&rtxn, 0, hdb)
        .map_err(|e| format!("hannoy reader: {e}"))?;
    let areader = arroy::Reader::<arroy::distances::Euclidean>::open(&rtxn, 0, adb)
        .map_err(|e| format!("arroy reader: {e}"))?;
    if hreader.n_items() != u64::from(items) || areader.n_items() != u64::from(items) {
        return Err(format!(
            "{when} on {backend}: {} hannoy and {} arroy items, expected {items}",
            hreader.n_items(),
            areader.n_items()
        ));
    }
    let (mut hfound, mut afound) = (0, 0);
    for item in 0..items {
        let expected = vector(item);
        let h = hreader.item_vector(&rtxn, item).map_err(|e| e.to_string())?;
        let a = areader.item_vector(&rtxn, item).map_err(|e| e.to_string())?;
        if h.as_deref() != Some(&expected[..]) || a.as_deref() != Some(&expected[..]) {
            return Err(format!("{when} on {backend}: item {item}'s vector does not read back"));
        }
        let hn = hreader.nns(1).ef_search(64).by_vector(&rtxn, &expected).map_err(|e| e.to_string())?;
        hfound += usize::from(hn.into_nns().first().map(|n| n.0) == Some(item));
        let an = areader.nns(1).by_vector(&rtxn, &expected).map_err(|e| e.to_string())?;
        afound += usize::from(an.first().map(|n| n.0) == Some(item));
    }
    // Both indexes are approximate: nearly every vector must find itself.
    let floor = items as usize * 9 / 10;
    if hfound < floor || afound < floor {
        return Err(format!(
            "{when} on {backend}: only {hfound} (hannoy) and {afound} (arroy) of {items} vectors find themselves"
        ));
    }
    println!("  {when} on {backend}: {items} items read back; found themselves: hannoy {hfound}, arroy {afound}");
    Ok(())
}

fn round(path: &str, round: u32, backend: &str) -> Result<(), String> {
    std::fs::create_dir_all(path).map_err(|e| e.to_string())?;
    // SAFETY: this process is the only one using the environment while it runs.
    let env = unsafe { heed::EnvOpenOptions::new().map_size(256 << 20).max_dbs(4).open(path) }
        .map_err(|e| e.to_string())?;
    // arroy's writer wants a `Database<'static, _>`, and a database handle borrows its env.
    let env: &'static heed::Env = Box::leak(Box::new(env));
    let before = (round - 1) * ITEMS_PER_ROUND;
    if before > 0 {
        check(env, before, backend, "before writing")?;
    }
    let (hdb, adb) = databases(env)?;
    let mut wtxn = env.write_txn().map_err(|e| e.to_string())?;
    let hwriter = hannoy::Writer::new(hdb, 0, DIMS);
    let awriter = arroy::Writer::new(adb, 0, DIMS);
    for item in before..before + ITEMS_PER_ROUND {
        let v = vector(item);
        hwriter.add_item(&mut wtxn, item, &v).map_err(|e| e.to_string())?;
        awriter.add_item(&mut wtxn, item, &v).map_err(|e| e.to_string())?;
    }
    let mut rng = StdRng::seed_from_u64(u64::from(round));
    hwriter
        .builder(&mut rng)
        .ef_construction(100)
        .build::<16, 32>(&mut wtxn)
        .map_err(|e| format!("hannoy build: {e}"))?;
    awriter.builder(&mut rng).build(&mut wtxn).map_err(|e| format!("arroy build: {e}"))?;
    wtxn.commit().map_err(|e| e.to_string())?;
    check(env, before + ITEMS_PER_ROUND, backend, "after writing")
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let [_, path, n, backend] = &args[..] else {
        eprintln!("usage: crossover ENV ROUND BACKEND");
        return ExitCode::from(2);
    };
    let n: u32 = n.parse().expect("ROUND is a number from 1");
    println!("round {n} on {backend}");
    match round(path, n, backend) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("round {n} on {backend}: {e}");
            ExitCode::FAILURE
        }
    }
}

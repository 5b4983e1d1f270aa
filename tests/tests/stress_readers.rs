//! Reader stress: many threads read through nested readers of one write transaction and
//! drop them at random moments while the owner waits, round after round, with the owner
//! writing between rounds. `HEDGE_STRESS_ROUNDS` scales it (`.ci/run` runs a longer one).

use hedge::byteorder::BigEndian;
use hedge::types::U32;
use hedge::{Database, DatabaseFlags, EnvFlags, Error, MdbError};

const KEYS: u32 = 2_000;
const THREADS: usize = 8;
const READERS_PER_THREAD: usize = 3;

fn rounds() -> u32 {
    std::env::var("HEDGE_STRESS_ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(60)
}

use hedge_tests::mix;

#[test]
fn threads_drop_nested_readers_at_random_while_the_owner_waits() {
    for flags in [EnvFlags::empty(), EnvFlags::WRITE_MAP] {
        let dir = tempfile::tempdir().unwrap();
        let (env, db): (_, Database<U32<BigEndian>, U32<BigEndian>>) =
            hedge_tests::env_with_database(dir.path(), flags, None, DatabaseFlags::empty());
        let mut wtxn = env.write_txn().unwrap();
        if !hedge_tests::nested_readers_available(&wtxn) {
            return;
        }
        let mut model = vec![0u32; KEYS as usize];
        for k in 0..KEYS {
            db.put(&mut wtxn, &k, &0).unwrap();
        }
        let rounds = rounds();
        let (mut blocked_seen, mut reads) = (0, 0u64);
        for round in 1..=rounds {
            let readers: Vec<Vec<_>> = (0..THREADS)
                .map(|_| (0..READERS_PER_THREAD).map(|_| wtxn.nested_read_txn().unwrap()).collect())
                .collect();
            let model_ref = &model;
            let (blocked, done) = std::thread::scope(|s| {
                let handles: Vec<_> = readers
                    .into_iter()
                    .enumerate()
                    .map(|(t, mine)| {
                        s.spawn(move || {
                            let mut n = 0u64;
                            for (r, reader) in mine.into_iter().enumerate() {
                                let seed = mix(u64::from(round) << 32 | (t * 16 + r) as u64);
                                // Each reader reads a random number of keys, then is dropped.
                                for i in 0..(seed % 300) {
                                    let k = (mix(seed ^ i) % u64::from(KEYS)) as u32;
                                    assert_eq!(db.get(&reader, &k).unwrap(), Some(model_ref[k as usize]));
                                    n += 1;
                                }
                                if seed.is_multiple_of(7) {
                                    std::thread::yield_now();
                                }
                                drop(reader);
                            }
                            n
                        })
                    })
                    .collect();
                // The owner reads meanwhile: refused while any child lives, fine after.
                let blocked = match db.get(&wtxn, &0) {
                    Err(Error::Mdb(MdbError::BadTxn)) => 1,
                    Ok(v) => {
                        assert_eq!(v, Some(model_ref[0]));
                        0
                    }
                    Err(e) => panic!("unexpected {e}"),
                };
                (blocked, handles.into_iter().map(|h| h.join().unwrap()).sum::<u64>())
            });
            blocked_seen += blocked;
            reads += done;
            // Every reader is gone: the owner writes again.
            for i in 0..50 {
                let k = (mix(u64::from(round) * 1000 + i) % u64::from(KEYS)) as u32;
                model[k as usize] = round;
                db.put(&mut wtxn, &k, &round).unwrap();
            }
        }
        wtxn.commit().unwrap();
        let rtxn = env.read_txn().unwrap();
        for (k, &v) in model.iter().enumerate() {
            assert_eq!(db.get(&rtxn, &(k as u32)).unwrap(), Some(v));
        }
        println!(
            "{flags:?}: {rounds} rounds, {} nested readers, {reads} reads; the owner found itself blocked in {blocked_seen} rounds",
            u64::from(rounds) * (THREADS * READERS_PER_THREAD) as u64
        );
    }
}

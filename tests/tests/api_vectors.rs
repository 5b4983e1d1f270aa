//! hedge's vector codec and typed reserved writes (beyond heed's API).

use std::borrow::Cow;

use hedge::codec::PodSlice;
use hedge::types::{Bytes, Str};
use hedge::{Database, Error};

fn open_db<T: 'static>(dir: &tempfile::TempDir) -> (hedge::Env, Database<'static, Str, PodSlice<T>>) {
    hedge_tests::env_with_database(dir.path(), hedge::EnvFlags::empty(), None, hedge::DatabaseFlags::empty())
}

#[test]
fn vectors_round_trip_aligned_or_not() {
    let dir = tempfile::tempdir().unwrap();
    let (env, db) = open_db::<f32>(&dir);
    let mut wtxn = env.write_txn().unwrap();
    // Small vectors live inline in leaf pages at 2-byte alignment: decoded with a copy
    // when needed, always equal.
    let mut copied = 0;
    for n in 1..64usize {
        let v: Vec<f32> = (0..n).map(|i| i as f32 * 0.5 - 3.0).collect();
        let key = format!("small-{n:03}");
        db.put(&mut wtxn, &key, &v).unwrap();
        let got = db.get(&wtxn, &key).unwrap().unwrap();
        copied += matches!(got, Cow::Owned(_)) as usize;
        assert_eq!(&*got, &v[..]);
    }
    println!("{copied} of 63 inline vectors needed the copying path");
    // Embedding-sized vectors are overflow values: always borrowed.
    for dims in [512usize, 768, 1536, 3072] {
        let v: Vec<f32> = (0..dims).map(|i| (i as f32).cos()).collect();
        db.put(&mut wtxn, "big", &v).unwrap();
        let got = db.get(&wtxn, "big").unwrap().unwrap();
        assert!(matches!(got, Cow::Borrowed(_)), "{dims} dims");
        assert_eq!(&*got, &v[..]);
    }
    // A value whose length is not a whole number of f32 is a Decoding error.
    db.remap_data_type::<Bytes>().put(&mut wtxn, "odd", &[1, 2, 3, 4, 5][..]).unwrap();
    assert!(matches!(db.get(&wtxn, "odd"), Err(Error::Decoding(_))));
    wtxn.commit().unwrap();
}

#[test]
fn typed_reserved_writes_fill_in_place_and_never_leave_garbage() {
    let dir = tempfile::tempdir().unwrap();
    let (env, db) = open_db::<f32>(&dir);
    let mut wtxn = env.write_txn().unwrap();
    db.put_reserved_elements(&mut wtxn, "v", 1024, (0..1024).map(|i| i as f32)).unwrap();
    let got = db.get(&wtxn, "v").unwrap().unwrap();
    assert!(got.iter().enumerate().all(|(i, &x)| x == i as f32));
    // A producer that stops early: an error, and zeros for the missing elements.
    let err =
        db.put_reserved_elements(&mut wtxn, "short", 1024, (0..1000).map(|i| i as f32 + 1.0)).unwrap_err();
    assert!(matches!(err, Error::Io(_)), "{err:?}");
    let got = db.get(&wtxn, "short").unwrap().unwrap();
    assert!(got[..1000].iter().all(|&x| x >= 1.0) && got[1000..].iter().all(|&x| x == 0.0));
    // Extra elements are ignored: `len` decides.
    db.put_reserved_elements(&mut wtxn, "long", 4, (0..100).map(|i| i as f32)).unwrap();
    assert_eq!(&*db.get(&wtxn, "long").unwrap().unwrap(), &[0.0, 1.0, 2.0, 3.0]);
    wtxn.commit().unwrap();

    let dir = tempfile::tempdir().unwrap();
    let (env, db) = open_db::<u16>(&dir);
    let mut wtxn = env.write_txn().unwrap();
    db.put_reserved_elements(&mut wtxn, "q", 3000, (0..3000u16).map(|i| i.wrapping_mul(7))).unwrap();
    let got = db.get(&wtxn, "q").unwrap().unwrap();
    assert!(got.iter().enumerate().all(|(i, &x)| x == (i as u16).wrapping_mul(7)));
    wtxn.commit().unwrap();
}

#[test]
fn reserved_slices_are_filled_in_place_under_every_env_mode() {
    use hedge::EnvFlags;
    for flags in [
        EnvFlags::empty(),
        EnvFlags::WRITE_MAP,
        EnvFlags::NO_MEM_INIT,
        EnvFlags::WRITE_MAP | EnvFlags::NO_MEM_INIT,
    ] {
        let dir = tempfile::tempdir().unwrap();
        let (env, db): (_, Database<Str, PodSlice<f32>>) =
            hedge_tests::env_with_database(dir.path(), flags, None, hedge::DatabaseFlags::empty());
        let mut wtxn = env.write_txn().unwrap();
        // Overflow-sized (in place) and inline-sized (maybe staged) vectors.
        for len in [1usize, 3, 17, 768, 3000] {
            let key = format!("v{len}");
            db.put_reserved_slice(&mut wtxn, &key, len, |v| {
                assert!(v.iter().all(|&x| x == 0.0), "{flags:?}: the slice starts zeroed");
                v.iter_mut().enumerate().for_each(|(i, x)| *x = i as f32 + 0.25);
                Ok(())
            })
            .unwrap();
            let got = db.get(&wtxn, &key).unwrap().unwrap();
            assert_eq!(got.len(), len);
            assert!(got.iter().enumerate().all(|(i, &x)| x == i as f32 + 0.25), "{flags:?} {len}");
        }
        // A failing fill: its error, and the value holds what it wrote and zeros.
        let err = db
            .put_reserved_slice(&mut wtxn, "failed", 2048, |v| {
                v[..10].fill(7.0);
                Err(std::io::Error::other("producer gave up"))
            })
            .unwrap_err();
        assert!(matches!(&err, Error::Io(e) if e.to_string() == "producer gave up"), "{err:?}");
        let got = db.get(&wtxn, "failed").unwrap().unwrap();
        assert!(got[..10].iter().all(|&x| x == 7.0) && got[10..].iter().all(|&x| x == 0.0), "{flags:?}");
        wtxn.commit().unwrap();
        let rtxn = env.read_txn().unwrap();
        assert_eq!(db.get(&rtxn, "v3000").unwrap().unwrap()[2999], 2999.25);
        assert_eq!(db.len(&rtxn).unwrap(), 6);
    }
}

#[test]
fn zero_sized_and_overflowing_lengths_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (env, db) = open_db::<f32>(&dir);
    let mut wtxn = env.write_txn().unwrap();
    let err = db.put_reserved_slice(&mut wtxn, "huge", usize::MAX / 2, |_| Ok(())).unwrap_err();
    assert!(matches!(&err, Error::Io(e) if e.kind() == std::io::ErrorKind::InvalidInput), "{err:?}");
    let units = db.remap_data_type::<PodSlice<()>>();
    let err = units.put_reserved_slice(&mut wtxn, "unit", 4, |_| Ok(())).unwrap_err();
    assert!(matches!(&err, Error::Io(e) if e.kind() == std::io::ErrorKind::InvalidInput), "{err:?}");
    assert!(db.is_empty(&wtxn).unwrap());
}

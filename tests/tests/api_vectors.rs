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

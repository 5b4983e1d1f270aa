//! `put_reserved`: safe code never sees bytes nobody wrote, with or without WRITE_MAP and
//! NO_MEM_INIT, on overflow-sized values (which LMDB with patch B does not zero).

use std::io::{self, Seek, SeekFrom, Write};

use hedge::types::{Bytes, Str};
use hedge::{Database, EnvFlags, Error};

const SIZE: usize = 12 * 1024;

fn setup(dir: &tempfile::TempDir, flags: EnvFlags) -> (hedge::Env, Database<'static, Str, Bytes>) {
    hedge_tests::env_with_database(dir.path(), flags, None, hedge::DatabaseFlags::empty())
}

fn pattern(i: usize) -> u8 {
    (i % 251) as u8 + 1 // never 0, so zeros can only come from zero-filling
}

#[test]
fn reserved_writes_never_expose_unwritten_bytes() {
    let modes = [
        EnvFlags::empty(),
        EnvFlags::WRITE_MAP,
        EnvFlags::NO_MEM_INIT,
        EnvFlags::WRITE_MAP | EnvFlags::NO_MEM_INIT,
    ];
    for flags in modes {
        let dir = tempfile::tempdir().unwrap();
        let (env, db) = setup(&dir, flags);
        let mut wtxn = env.write_txn().unwrap();

        // A full write.
        db.put_reserved(&mut wtxn, "full", SIZE, |space| {
            assert_eq!(space.size(), SIZE);
            let bytes: Vec<u8> = (0..SIZE).map(pattern).collect();
            space.write_all(&bytes)
        })
        .unwrap();
        let value = db.get(&wtxn, "full").unwrap().unwrap();
        assert!(value.iter().enumerate().all(|(i, &b)| b == pattern(i)), "{flags:?}");

        // The closure fails after 100 bytes: its error, and zeros after them.
        let err = db
            .put_reserved(&mut wtxn, "failed", SIZE, |space| {
                space.write_all(&[7; 100])?;
                Err(io::Error::other("producer failed"))
            })
            .unwrap_err();
        assert!(matches!(&err, Error::Io(e) if e.to_string() == "producer failed"), "{err:?}");
        let value = db.get(&wtxn, "failed").unwrap().unwrap();
        assert_eq!(value.len(), SIZE);
        assert!(value[..100].iter().all(|&b| b == 7) && value[100..].iter().all(|&b| b == 0), "{flags:?}");

        // The closure returns Ok having written 5000 bytes: an error saying so, zeros after.
        let err = db.put_reserved(&mut wtxn, "short", SIZE, |space| space.write_all(&[9; 5000])).unwrap_err();
        match &err {
            Error::Io(e) => {
                assert_eq!(e.kind(), io::ErrorKind::InvalidData);
                assert!(e.to_string().contains("wrote 5000 of the 12288 reserved bytes"), "{e}");
            }
            other => panic!("{other:?}"),
        }

        // A forward seek leaves zeros in the gap; written_mut covers the gap.
        db.put_reserved(&mut wtxn, "seek", SIZE, |space| {
            space.write_all(&[1; 10])?;
            space.seek(SeekFrom::Start(100))?;
            space.write_all(&[2; 10])?;
            assert_eq!(space.written_mut().len(), 110);
            assert!(space.written_mut()[10..100].iter().all(|&b| b == 0));
            space.fill_zeroes();
            Ok(())
        })
        .unwrap();

        // Writing past the end is refused, and the rest is zeroed.
        let err = db.put_reserved(&mut wtxn, "over", 16, |space| space.write_all(&[3; 17])).unwrap_err();
        assert!(matches!(&err, Error::Io(e) if e.kind() == io::ErrorKind::WriteZero), "{err:?}");
        assert_eq!(db.get(&wtxn, "over").unwrap(), Some(&[0u8; 16][..]));
        wtxn.commit().unwrap();

        // What reached the disk: reopen and read.
        drop(env);
        let (env, db) = setup(&dir, flags);
        let rtxn = env.read_txn().unwrap();
        let short = db.get(&rtxn, "short").unwrap().unwrap();
        assert!(short[..5000].iter().all(|&b| b == 9) && short[5000..].iter().all(|&b| b == 0), "{flags:?}");
        let seek = db.get(&rtxn, "seek").unwrap().unwrap();
        assert!(seek[..10].iter().all(|&b| b == 1) && seek[10..100].iter().all(|&b| b == 0));
        assert!(seek[100..110].iter().all(|&b| b == 2) && seek[110..].iter().all(|&b| b == 0));
    }
}

#[test]
fn get_or_put_reserved_returns_the_existing_value_or_fills_a_new_one() {
    let dir = tempfile::tempdir().unwrap();
    let (env, db) = setup(&dir, EnvFlags::empty());
    let mut wtxn = env.write_txn().unwrap();
    let existing =
        db.get_or_put_reserved(&mut wtxn, "k", SIZE, |space| space.write_all(&vec![5; SIZE])).unwrap();
    assert_eq!(existing, None);
    let mut called = false;
    let existing = db
        .get_or_put_reserved(&mut wtxn, "k", 8, |space| {
            called = true;
            space.write_all(&[0; 8])
        })
        .unwrap()
        .unwrap();
    assert!(!called, "the closure must not run when the key exists");
    assert_eq!(existing.len(), SIZE);
    assert!(existing.iter().all(|&b| b == 5));
    // A short write of a new key: error, and zeros after what was written.
    let err = db.get_or_put_reserved(&mut wtxn, "new", 4, |space| space.write_all(&[1])).unwrap_err();
    assert!(matches!(err, Error::Io(_)), "{err:?}");
    assert_eq!(db.get(&wtxn, "new").unwrap(), Some(&[1, 0, 0, 0][..]));
    wtxn.commit().unwrap();
}

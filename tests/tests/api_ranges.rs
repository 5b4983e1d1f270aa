//! Ranges, prefixes and nearest-key lookups, checked against a BTreeMap on random byte keys
//! (alphabet with 0x00 and 0xFF so that prefix ends and empty ranges come up).

use std::collections::BTreeMap;
use std::ops::Bound;

use hedge::types::{Bytes, Str};
use hedge::{Database, DatabaseFlags, EnvFlags};

struct Rng(u64);
impl Rng {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n
    }
    fn key(&mut self) -> Vec<u8> {
        const ALPHABET: [u8; 5] = [0x00, 0x01, 0x7f, 0xfe, 0xff];
        let len = 1 + self.next(4);
        (0..len).map(|_| ALPHABET[self.next(ALPHABET.len())]).collect()
    }
    fn bound(&mut self) -> Bound<Vec<u8>> {
        match self.next(3) {
            0 => Bound::Unbounded,
            1 => Bound::Included(self.key()),
            _ => Bound::Excluded(self.key()),
        }
    }
}

fn model_range(m: &BTreeMap<Vec<u8>, Vec<u8>>, start: &Bound<Vec<u8>>, end: &Bound<Vec<u8>>) -> Vec<Vec<u8>> {
    m.keys()
        .filter(|k| match start {
            Bound::Included(s) => *k >= s,
            Bound::Excluded(s) => *k > s,
            Bound::Unbounded => true,
        })
        .filter(|k| match end {
            Bound::Included(e) => *k <= e,
            Bound::Excluded(e) => *k < e,
            Bound::Unbounded => true,
        })
        .cloned()
        .collect()
}

#[test]
fn ranges_prefixes_and_nearest_keys_match_a_btreemap() {
    let dir = tempfile::tempdir().unwrap();
    // SAFETY (tests): the env files are only touched through hedge.
    let (env, db): (_, Database<Bytes, Bytes>) =
        hedge_tests::env_with_database(dir.path(), EnvFlags::empty(), None, DatabaseFlags::empty());
    let mut rng = Rng(7);
    let mut model = BTreeMap::new();
    let mut wtxn = env.write_txn().unwrap();

    // An empty database first.
    assert_eq!(db.range(&wtxn, &(Bound::<&[u8]>::Unbounded, Bound::Unbounded)).unwrap().count(), 0);
    assert_eq!(db.rev_prefix_iter(&wtxn, &[0xff][..]).unwrap().count(), 0);
    assert_eq!(db.get_lower_than(&wtxn, &[0x01][..]).unwrap(), None);

    for i in 0..300u32 {
        let k = rng.key();
        let v = i.to_be_bytes().to_vec();
        db.put(&mut wtxn, &k, &v).unwrap();
        model.insert(k, v);
    }
    let keys = |it: &mut dyn Iterator<Item = hedge::Result<(&[u8], &[u8])>>| -> Vec<Vec<u8>> {
        it.map(|r| r.unwrap().0.to_vec()).collect()
    };
    for _ in 0..500 {
        let (start, end) = (rng.bound(), rng.bound());
        let range = (start.as_ref().map(Vec::as_slice), end.as_ref().map(Vec::as_slice));
        let want = model_range(&model, &start, &end);
        let got = keys(&mut db.range(&wtxn, &range).unwrap());
        assert_eq!(got, want, "range {start:?}..{end:?}");
        let mut rev = keys(&mut db.rev_range(&wtxn, &range).unwrap());
        rev.reverse();
        assert_eq!(rev, want, "rev_range {start:?}..{end:?}");

        let prefix = rng.key();
        let want: Vec<Vec<u8>> = model.keys().filter(|k| k.starts_with(&prefix)).cloned().collect();
        assert_eq!(keys(&mut db.prefix_iter(&wtxn, &prefix[..]).unwrap()), want, "prefix {prefix:?}");
        let mut rev = keys(&mut db.rev_prefix_iter(&wtxn, &prefix[..]).unwrap());
        rev.reverse();
        assert_eq!(rev, want, "rev_prefix {prefix:?}");

        let probe = rng.key();
        let first = |mut it: Box<dyn Iterator<Item = &Vec<u8>> + '_>| it.next().cloned();
        let lower = first(Box::new(model.range::<Vec<u8>, _>(..probe.clone()).map(|(k, _)| k).rev()));
        let lower_eq = first(Box::new(model.range::<Vec<u8>, _>(..=probe.clone()).map(|(k, _)| k).rev()));
        let greater = first(Box::new(
            model.range::<Vec<u8>, _>((Bound::Excluded(probe.clone()), Bound::Unbounded)).map(|(k, _)| k),
        ));
        let greater_eq = first(Box::new(model.range::<Vec<u8>, _>(probe.clone()..).map(|(k, _)| k)));
        let got = |r: hedge::Result<Option<(&[u8], &[u8])>>| r.unwrap().map(|(k, _)| k.to_vec());
        assert_eq!(got(db.get_lower_than(&wtxn, &probe[..])), lower, "lower than {probe:?}");
        assert_eq!(got(db.get_lower_than_or_equal_to(&wtxn, &probe[..])), lower_eq, "<= {probe:?}");
        assert_eq!(got(db.get_greater_than(&wtxn, &probe[..])), greater, "greater than {probe:?}");
        assert_eq!(got(db.get_greater_than_or_equal_to(&wtxn, &probe[..])), greater_eq, ">= {probe:?}");
    }
    wtxn.commit().unwrap();
}

#[test]
fn ranges_over_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let (env, db): (_, Database<Str, Str>) =
        hedge_tests::env_with_database(dir.path(), EnvFlags::empty(), Some("dups"), DatabaseFlags::DUP_SORT);
    let mut wtxn = env.write_txn().unwrap();
    for (k, v) in [("a", "1"), ("b", "1"), ("b", "2"), ("b", "3"), ("c", "1")] {
        db.put(&mut wtxn, k, v).unwrap();
    }
    let all = |it: &mut dyn Iterator<Item = hedge::Result<(&str, &str)>>| -> Vec<(String, String)> {
        it.map(|r| r.map(|(k, v)| (k.to_string(), v.to_string())).unwrap()).collect()
    };
    let pairs =
        |v: &[(&str, &str)]| v.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>();
    assert_eq!(
        all(&mut db.range(&wtxn, &(Bound::Included("b"), Bound::Included("b"))).unwrap()),
        pairs(&[("b", "1"), ("b", "2"), ("b", "3")])
    );
    assert_eq!(
        all(&mut db.rev_range(&wtxn, &(Bound::Included("b"), Bound::Included("b"))).unwrap()),
        pairs(&[("b", "3"), ("b", "2"), ("b", "1")])
    );
    assert_eq!(
        all(&mut db.range(&wtxn, &(Bound::Excluded("a"), Bound::Excluded("c"))).unwrap()),
        pairs(&[("b", "1"), ("b", "2"), ("b", "3")])
    );
    assert_eq!(
        all(&mut db.rev_range(&wtxn, &(Bound::Included("a"), Bound::Excluded("c"))).unwrap()),
        pairs(&[("b", "3"), ("b", "2"), ("b", "1"), ("a", "1")])
    );
    let keys: Vec<&str> = db
        .range(&wtxn, &(Bound::<&str>::Unbounded, Bound::Unbounded))
        .unwrap()
        .move_between_keys()
        .map(|r| r.unwrap().0)
        .collect();
    assert_eq!(keys, ["a", "b", "c"]);
    assert_eq!(db.get_greater_than(&wtxn, "a").unwrap(), Some(("b", "1")));
    wtxn.commit().unwrap();
}

/// heed 0.23.1 returns nothing here (checked by hand): its reverse prefix iteration starts
/// from the prefix's equal-length successor `[ff ff 00]`, and the key `[ff ff]` sorts
/// between it and the prefix's keys. hedge starts from the shortest successor `[ff ff]`.
#[test]
fn reverse_prefix_finds_keys_when_a_shorter_key_follows_the_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let (env, db): (_, Database<Bytes, Bytes>) =
        hedge_tests::env_with_database(dir.path(), EnvFlags::empty(), None, DatabaseFlags::empty());
    let mut wtxn = env.write_txn().unwrap();
    for k in [&[0xffu8, 0xfe, 0xff, 0x00][..], &[0xff, 0xff], &[0xff, 0xfe], &[0xff, 0xff, 0x01]] {
        db.put(&mut wtxn, k, b"v").unwrap();
    }
    let prefix = &[0xff, 0xfe, 0xff][..];
    let rev: Vec<&[u8]> = db.rev_prefix_iter(&wtxn, prefix).unwrap().map(|r| r.unwrap().0).collect();
    assert_eq!(rev, [&[0xff, 0xfe, 0xff, 0x00][..]]);
    // All-0xFF prefixes have no successor: reverse iteration starts from the last key.
    let rev: Vec<&[u8]> =
        db.rev_prefix_iter(&wtxn, &[0xff, 0xff][..]).unwrap().map(|r| r.unwrap().0).collect();
    assert_eq!(rev, [&[0xff, 0xff, 0x01][..], &[0xff, 0xff][..]]);
    wtxn.commit().unwrap();
}

#[test]
fn write_ranges_and_prefixes_delete_and_replace_like_a_btreemap() {
    let dir = tempfile::tempdir().unwrap();
    let (env, db): (_, Database<Bytes, Bytes>) =
        hedge_tests::env_with_database(dir.path(), EnvFlags::empty(), None, DatabaseFlags::empty());
    let mut rng = Rng(11);
    let mut model = BTreeMap::new();
    let mut wtxn = env.write_txn().unwrap();
    for round in 0..60u32 {
        for _ in 0..20 {
            let (k, v) = (rng.key(), round.to_be_bytes().to_vec());
            db.put(&mut wtxn, &k, &v).unwrap();
            model.insert(k, v);
        }
        match round % 3 {
            0 => {
                let (start, end) = (rng.bound(), rng.bound());
                let range = (start.as_ref().map(Vec::as_slice), end.as_ref().map(Vec::as_slice));
                let mut iter = db.range_mut(&mut wtxn, &range).unwrap();
                while let Some(entry) = iter.next() {
                    entry.unwrap();
                    // SAFETY: no value of the iterator is used after the write.
                    assert!(unsafe { iter.del_current() }.unwrap());
                }
                for k in model_range(&model, &start, &end) {
                    model.remove(&k);
                }
            }
            1 => {
                let prefix = rng.key();
                let mut iter = db.prefix_iter_mut(&mut wtxn, &prefix[..]).unwrap();
                while let Some(entry) = iter.next() {
                    let key = entry.unwrap().0.to_vec();
                    // SAFETY: `key` is an owned copy; nothing borrowed is used after the write.
                    assert!(unsafe { iter.put_current(&key, b"replaced") }.unwrap());
                }
                for (k, v) in model.iter_mut() {
                    if k.starts_with(&prefix) {
                        *v = b"replaced".to_vec();
                    }
                }
            }
            _ => {
                let prefix = rng.key();
                let mut iter = db.rev_prefix_iter_mut(&mut wtxn, &prefix[..]).unwrap();
                while let Some(entry) = iter.next() {
                    entry.unwrap();
                    // SAFETY: as above.
                    assert!(unsafe { iter.del_current() }.unwrap());
                }
                model.retain(|k, _| !k.starts_with(&prefix));
            }
        }
        let got: Vec<(Vec<u8>, Vec<u8>)> =
            db.iter(&wtxn).unwrap().map(|r| r.map(|(k, v)| (k.to_vec(), v.to_vec())).unwrap()).collect();
        let want: Vec<(Vec<u8>, Vec<u8>)> = model.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        assert_eq!(got, want, "round {round}");
    }
    wtxn.commit().unwrap();
}

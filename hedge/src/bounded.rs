//! Range and prefix iterators (read side), with heed 0.23's types: a shared engine that
//! positions a cursor with `MDB_SET_RANGE` and stops at the bound, comparing keys in the
//! database's order as LMDB has it (`mdb_cmp`).

use std::cmp::Ordering;
use std::marker::PhantomData;
use std::ops::Bound;

use heed_traits::{BytesDecode, Comparator, LexicographicComparator};

use crate::iter::iteration_method::{IterationMethod, MoveBetweenKeys, MoveThroughDuplicateValues};
use crate::iter::{decode_entry, write_methods};
use crate::mdb::error::MdbError;
use crate::mdb::ffi;
use crate::mdb::handle::{Entry, RawCursor};
use crate::{DefaultComparator, Error, PutFlags, ReservedSpace, Result};

/// Turns a prefix into the smallest key above every key that starts with it, in `C`'s
/// order: its last element below the maximum incremented, and what follows dropped
/// (`[ff fe ff]` → `[ff ff]`). A successor of the same length (`[ff ff 00]`) would not do:
/// the shorter key `[ff ff]` sorts between it and the prefix's keys. `false` if the prefix
/// is all maximal elements: then no key is above its keys.
pub(crate) fn advance<C: LexicographicComparator>(bytes: &mut Vec<u8>) -> bool {
    match bytes.iter().rposition(|&b| b != C::max_elem()) {
        None => false,
        Some(i) => {
            bytes[i] = C::successor(bytes[i]).expect("an element below the maximum has a successor");
            bytes.truncate(i + 1);
            true
        }
    }
}

/// Where an iteration starts and stops, in encoded key bytes.
pub(crate) enum Bounds {
    Range { start: Bound<Vec<u8>>, end: Bound<Vec<u8>> },
    Prefix(Vec<u8>),
}

pub(crate) fn owned(bound: Bound<&[u8]>) -> Bound<Vec<u8>> {
    match bound {
        Bound::Included(b) => Bound::Included(b.to_vec()),
        Bound::Excluded(b) => Bound::Excluded(b.to_vec()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

/// The first entry at or after `key` (any entry for an empty key).
fn seek<'t>(cursor: &mut RawCursor<'t>, key: &[u8]) -> std::result::Result<Option<Entry<'t>>, MdbError> {
    if key.is_empty() { cursor.get(ffi::MDB_FIRST, None) } else { cursor.get(ffi::MDB_SET_RANGE, Some(key)) }
}

/// The last entry before the first entry at or after `key` (the last one if none is).
fn seek_before<'t>(
    cursor: &mut RawCursor<'t>,
    key: &[u8],
) -> std::result::Result<Option<Entry<'t>>, MdbError> {
    match seek(cursor, key)? {
        Some(_) if key.is_empty() => Ok(None),
        Some(_) => cursor.get(ffi::MDB_PREV, None),
        None => cursor.get(ffi::MDB_LAST, None),
    }
}

/// The last entry of the last key at or before `key`.
fn seek_last_at_or_before<'t>(
    cursor: &mut RawCursor<'t>,
    key: &[u8],
) -> std::result::Result<Option<Entry<'t>>, MdbError> {
    match seek(cursor, key)? {
        Some((k, _)) if cursor.compare_keys(k, key) == Ordering::Equal => {
            // The last duplicate of `key`: past its duplicates, then one back.
            match cursor.get(ffi::MDB_NEXT_NODUP, None)? {
                Some(_) => cursor.get(ffi::MDB_PREV, None),
                None => cursor.get(ffi::MDB_LAST, None),
            }
        }
        Some(_) => cursor.get(ffi::MDB_PREV, None),
        None => cursor.get(ffi::MDB_LAST, None),
    }
}

/// The bounded iteration engine: forwards or backwards, and the bound check.
pub(crate) struct Engine<'txn> {
    pub(crate) cursor: RawCursor<'txn>,
    bounds: Bounds,
    forward: bool,
    started: bool,
    done: bool,
}

impl<'txn> Engine<'txn> {
    /// Fails if a bound is a key LMDB's comparator for the database cannot take (an
    /// `INTEGER_KEY` of another size), or for a prefix if the database is not ordered
    /// bytewise (`REVERSE_KEY`, `INTEGER_KEY`: keys sharing a prefix are not together).
    pub(crate) fn new(
        cursor: RawCursor<'txn>,
        bounds: Bounds,
        forward: bool,
    ) -> std::result::Result<Self, MdbError> {
        match &bounds {
            Bounds::Range { start, end } => {
                for bound in [start, end] {
                    if let Bound::Included(key) | Bound::Excluded(key) = bound {
                        cursor.check_key(key)?;
                    }
                }
            }
            Bounds::Prefix(_) => {
                if cursor.db_flags()? & (ffi::MDB_REVERSEKEY | ffi::MDB_INTEGERKEY) != 0 {
                    return Err(MdbError::Incompatible);
                }
            }
        }
        Ok(Engine { cursor, bounds, forward, started: false, done: false })
    }

    fn first<C: LexicographicComparatorOrNot>(
        &mut self,
    ) -> std::result::Result<Option<Entry<'txn>>, MdbError> {
        let cursor = &mut self.cursor;
        match (&self.bounds, self.forward) {
            (Bounds::Range { start, .. }, true) => match start {
                Bound::Unbounded => cursor.get(ffi::MDB_FIRST, None),
                Bound::Included(s) => seek(cursor, s),
                Bound::Excluded(s) => match seek(cursor, s)? {
                    Some((k, _)) if cursor.compare_keys(k, s) == Ordering::Equal => {
                        cursor.get(ffi::MDB_NEXT_NODUP, None)
                    }
                    other => Ok(other),
                },
            },
            (Bounds::Range { end, .. }, false) => match end {
                Bound::Unbounded => cursor.get(ffi::MDB_LAST, None),
                Bound::Included(e) => seek_last_at_or_before(cursor, e),
                Bound::Excluded(e) => seek_before(cursor, e),
            },
            (Bounds::Prefix(p), true) => seek(cursor, p),
            (Bounds::Prefix(p), false) => {
                let mut after = p.clone();
                if !p.is_empty() && C::advance(&mut after) {
                    seek_before(cursor, &after)
                } else {
                    cursor.get(ffi::MDB_LAST, None)
                }
            }
        }
    }

    /// Whether `key` is still inside the bounds (in the direction of travel).
    /// Whether `key` (of the database) is within the bounds, in LMDB's order of the database
    /// (which hedge's Rust comparator types only mirror: a database created with
    /// `INTEGER_KEY` but handled as `DefaultComparator` is still ordered as integers).
    fn inside(&self, key: &[u8]) -> bool {
        let cmp = |bound: &[u8]| self.cursor.compare_keys(key, bound);
        match &self.bounds {
            Bounds::Prefix(p) => key.starts_with(p),
            Bounds::Range { end, .. } if self.forward => match end {
                Bound::Unbounded => true,
                Bound::Included(e) => cmp(e) != Ordering::Greater,
                Bound::Excluded(e) => cmp(e) == Ordering::Less,
            },
            Bounds::Range { start, .. } => match start {
                Bound::Unbounded => true,
                Bound::Included(s) => cmp(s) != Ordering::Less,
                Bound::Excluded(s) => cmp(s) == Ordering::Greater,
            },
        }
    }

    /// Deletes every entry of a range, returns how many.
    ///
    /// # Safety
    /// The cursor's txn is a write txn borrowed mutably by the caller, so no value read
    /// through it is alive.
    pub(crate) unsafe fn delete_all<C: LexicographicComparatorOrNot>(
        &mut self,
    ) -> std::result::Result<usize, MdbError> {
        let mut count = 0;
        while let Some(entry) = self.next_entry::<C, MoveThroughDuplicateValues>() {
            entry?;
            // SAFETY: per the contract; the entry just read is not used after this.
            unsafe { self.cursor.del(0) }?;
            count += 1;
        }
        Ok(count)
    }

    pub(crate) fn next_entry<C: LexicographicComparatorOrNot, IM: IterationMethod>(
        &mut self,
    ) -> Option<std::result::Result<Entry<'txn>, MdbError>> {
        if self.done {
            return None;
        }
        let result = if self.started {
            self.cursor.get(if self.forward { IM::NEXT } else { IM::PREV }, None)
        } else {
            self.started = true;
            self.first::<C>()
        };
        match result {
            Ok(Some(entry)) if self.inside(entry.0) => Some(Ok(entry)),
            Ok(_) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// Range iterators compare in the database's own order (LMDB's); prefix iterators also need
/// a lexicographic comparator type, to find where a prefix ends. This lets one engine serve
/// both.
pub(crate) trait LexicographicComparatorOrNot {
    fn advance(bytes: &mut Vec<u8>) -> bool;
}

/// A comparator used by a range: its order is enough.
pub(crate) struct RangeOrder<C>(PhantomData<C>);

impl<C: Comparator> LexicographicComparatorOrNot for RangeOrder<C> {
    fn advance(_: &mut Vec<u8>) -> bool {
        false
    }
}

/// A comparator used by a prefix iteration: lexicographic, so the end of a prefix exists.
pub(crate) struct PrefixOrder<C>(PhantomData<C>);

impl<C: LexicographicComparator> LexicographicComparatorOrNot for PrefixOrder<C> {
    fn advance(bytes: &mut Vec<u8>) -> bool {
        advance::<C>(bytes)
    }
}

macro_rules! bounded_iterator {
    ($(#[$doc:meta])* $name:ident, $order:ident, $bound:path) => {
        $(#[$doc])*
        pub struct $name<'txn, KC, DC, C = DefaultComparator, IM = MoveThroughDuplicateValues> {
            engine: Engine<'txn>,
            marker: PhantomData<(KC, DC, C, IM)>,
        }

        impl<'txn, KC, DC, C, IM> $name<'txn, KC, DC, C, IM> {
            pub(crate) fn new(engine: Engine<'txn>) -> Self {
                $name { engine, marker: PhantomData }
            }

            fn retype<KC2, DC2, IM2>(self) -> $name<'txn, KC2, DC2, C, IM2> {
                $name { engine: self.engine, marker: PhantomData }
            }

            /// Visit each key once, even in a `DUP_SORT` database.
            ///
            /// ```
            /// # use hedge::types::*; use hedge::*;
            /// # fn main() -> hedge::Result<()> {
            /// # let dir = tempfile::tempdir()?;
            /// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
            /// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| { let mut d = o.database_options().types::<Str, Str>(); d.flags(DatabaseFlags::DUP_SORT); d.create(w).map(CommitOrAbort::<_, ()>::Commit) })?.unwrap_commit();
            /// let mut wtxn = env.write_txn()?;
            /// for (k, v) in [("a", "1"), ("a", "2"), ("b", "1")] {
            ///     db.put(&mut wtxn, k, v)?;
            /// }
            /// assert_eq!(db.range(&wtxn, &(std::ops::Bound::Included("a"), std::ops::Bound::Unbounded))?.move_between_keys().count(), 2);
            /// # Ok(()) }
            /// ```
            pub fn move_between_keys(self) -> $name<'txn, KC, DC, C, MoveBetweenKeys> {
                self.retype()
            }

            /// Visit every value of every key (the default).
            ///
            /// ```
            /// # use hedge::types::*; use hedge::*;
            /// # fn main() -> hedge::Result<()> {
            /// # let dir = tempfile::tempdir()?;
            /// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
            /// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| { let mut d = o.database_options().types::<Str, Str>(); d.flags(DatabaseFlags::DUP_SORT); d.create(w).map(CommitOrAbort::<_, ()>::Commit) })?.unwrap_commit();
            /// let mut wtxn = env.write_txn()?;
            /// for (k, v) in [("a", "1"), ("a", "2"), ("b", "1")] {
            ///     db.put(&mut wtxn, k, v)?;
            /// }
            /// assert_eq!(db.range(&wtxn, &(std::ops::Bound::Included("a"), std::ops::Bound::Unbounded))?.move_between_keys().move_through_duplicate_values().count(), 3);
            /// # Ok(()) }
            /// ```
            pub fn move_through_duplicate_values(self) -> $name<'txn, KC, DC, C, MoveThroughDuplicateValues> {
                self.retype()
            }

            /// The same iterator with other codecs.
            ///
            /// ```
            /// # use hedge::types::*; use hedge::*;
            /// # fn main() -> hedge::Result<()> {
            /// # let dir = tempfile::tempdir()?;
            /// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
            /// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
            /// let mut wtxn = env.write_txn()?;
            /// db.put(&mut wtxn, "a", "1")?;
            /// let (k, v) = db.range(&wtxn, &(std::ops::Bound::Included("a"), std::ops::Bound::Unbounded))?.remap_types::<Bytes, Bytes>().next().unwrap()?;
            /// assert_eq!((k, v), (&b"a"[..], &b"1"[..]));
            /// # Ok(()) }
            /// ```
            pub fn remap_types<KC2, DC2>(self) -> $name<'txn, KC2, DC2, C, IM> {
                self.retype()
            }

            /// The same iterator with another key codec.
            ///
            /// ```
            /// # use hedge::types::*; use hedge::*;
            /// # fn main() -> hedge::Result<()> {
            /// # let dir = tempfile::tempdir()?;
            /// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
            /// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
            /// let mut wtxn = env.write_txn()?;
            /// db.put(&mut wtxn, "a", "1")?;
            /// let (k, _) = db.range(&wtxn, &(std::ops::Bound::Included("a"), std::ops::Bound::Unbounded))?.remap_key_type::<Bytes>().next().unwrap()?;
            /// assert_eq!(k, b"a");
            /// # Ok(()) }
            /// ```
            pub fn remap_key_type<KC2>(self) -> $name<'txn, KC2, DC, C, IM> {
                self.retype()
            }

            /// The same iterator with another value codec.
            ///
            /// ```
            /// # use hedge::types::*; use hedge::*;
            /// # fn main() -> hedge::Result<()> {
            /// # let dir = tempfile::tempdir()?;
            /// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
            /// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
            /// let mut wtxn = env.write_txn()?;
            /// db.put(&mut wtxn, "a", "1")?;
            /// let (_, v) = db.range(&wtxn, &(std::ops::Bound::Included("a"), std::ops::Bound::Unbounded))?.remap_data_type::<DecodeIgnore>().next().unwrap()?;
            /// assert_eq!(v, ());
            /// # Ok(()) }
            /// ```
            pub fn remap_data_type<DC2>(self) -> $name<'txn, KC, DC2, C, IM> {
                self.retype()
            }

            /// The same iterator, with values decoded only when asked.
            ///
            /// ```
            /// # use hedge::types::*; use hedge::*;
            /// # fn main() -> hedge::Result<()> {
            /// # let dir = tempfile::tempdir()?;
            /// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
            /// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
            /// let mut wtxn = env.write_txn()?;
            /// db.put(&mut wtxn, "a", "1")?;
            /// let (_, lazy) = db.range(&wtxn, &(std::ops::Bound::Included("a"), std::ops::Bound::Unbounded))?.lazily_decode_data().next().unwrap()?;
            /// assert_eq!(lazy.decode().unwrap(), "1");
            /// # Ok(()) }
            /// ```
            pub fn lazily_decode_data(self) -> $name<'txn, KC, heed_types::LazyDecode<DC>, C, IM> {
                self.retype()
            }
        }

        impl<'txn, KC, DC, C, IM> Iterator for $name<'txn, KC, DC, C, IM>
        where
            KC: BytesDecode<'txn>,
            DC: BytesDecode<'txn>,
            C: $bound,
            IM: IterationMethod,
        {
            type Item = Result<(KC::DItem, DC::DItem)>;

            fn next(&mut self) -> Option<Self::Item> {
                Some(match self.engine.next_entry::<$order<C>, IM>()? {
                    Ok(entry) => decode_entry::<KC, DC>(entry),
                    Err(e) => Err(e.into()),
                })
            }
        }
    };
}

bounded_iterator!(
    /// The entries of a key range, in key order; from [`Database::range`](crate::Database::range)
    /// (example there).
    RoRange, RangeOrder, Comparator
);
bounded_iterator!(
    /// The entries of a key range, in reverse key order; from [`Database::rev_range`](crate::Database::rev_range)
    /// (example there).
    RoRevRange, RangeOrder, Comparator
);
bounded_iterator!(
    /// The entries whose key starts with a prefix, in key order; from [`Database::prefix_iter`](crate::Database::prefix_iter)
    /// (example there).
    RoPrefix, PrefixOrder, LexicographicComparator
);
bounded_iterator!(
    /// The entries whose key starts with a prefix, in reverse key order; from
    /// [`Database::rev_prefix_iter`](crate::Database::rev_prefix_iter) (example there).
    RoRevPrefix, PrefixOrder, LexicographicComparator
);

bounded_iterator!(
    /// [`RoRange`] in a write transaction, with the `unsafe` cursor writes; from
    /// [`Database::range_mut`](crate::Database::range_mut) (example there).
    RwRange, RangeOrder, Comparator
);
bounded_iterator!(
    /// [`RoRevRange`] in a write transaction, with the `unsafe` cursor writes; from
    /// [`Database::rev_range_mut`](crate::Database::rev_range_mut) (example there).
    RwRevRange, RangeOrder, Comparator
);
bounded_iterator!(
    /// [`RoPrefix`] in a write transaction, with the `unsafe` cursor writes; from
    /// [`Database::prefix_iter_mut`](crate::Database::prefix_iter_mut) (example there).
    RwPrefix, PrefixOrder, LexicographicComparator
);
bounded_iterator!(
    /// [`RoRevPrefix`] in a write transaction, with the `unsafe` cursor writes; from
    /// [`Database::rev_prefix_iter_mut`](crate::Database::rev_prefix_iter_mut) (example there).
    RwRevPrefix, PrefixOrder, LexicographicComparator
);

write_methods!(RwRange<C>, engine.cursor);
write_methods!(RwRevRange<C>, engine.cursor);
write_methods!(RwPrefix<C>, engine.cursor);
write_methods!(RwRevPrefix<C>, engine.cursor);

/// One positioning for the `get_*_than*` methods.
pub(crate) fn position<'t>(
    cursor: &mut RawCursor<'t>,
    key: &[u8],
    greater: bool,
    or_equal: bool,
) -> std::result::Result<Option<Entry<'t>>, MdbError> {
    cursor.check_key(key)?;
    match (greater, or_equal) {
        (true, true) => seek(cursor, key),
        (true, false) => match seek(cursor, key)? {
            Some((k, _)) if cursor.compare_keys(k, key) == Ordering::Equal => {
                cursor.get(ffi::MDB_NEXT_NODUP, None)
            }
            other => Ok(other),
        },
        (false, true) => match seek(cursor, key)? {
            Some(entry) if cursor.compare_keys(entry.0, key) == Ordering::Equal => Ok(Some(entry)),
            Some(_) => cursor.get(ffi::MDB_PREV, None),
            None => cursor.get(ffi::MDB_LAST, None),
        },
        (false, false) => seek_before(cursor, key),
    }
}

#[cfg(test)]
mod tests {
    use super::advance;
    use crate::DefaultComparator;

    #[test]
    fn a_prefix_advances_to_its_shortest_successor() {
        let next = |p: &[u8]| {
            let mut v = p.to_vec();
            advance::<DefaultComparator>(&mut v).then_some(v)
        };
        assert_eq!(next(&[0xff, 0xfe, 0xff]), Some(vec![0xff, 0xff]));
        assert_eq!(next(&[0x01, 0x02]), Some(vec![0x01, 0x03]));
        assert_eq!(next(&[0x00, 0xff, 0xff]), Some(vec![0x01]));
        assert_eq!(next(&[0xff, 0xff]), None);
    }
}

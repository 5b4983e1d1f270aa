//! Iterators over a database, with heed 0.23's types.

use std::marker::PhantomData;

use heed_traits::BytesDecode;

use crate::mdb::ffi;
use crate::mdb::handle::{Entry, RawCursor};
use crate::{Error, PutFlags, ReservedSpace, Result};

pub mod iteration_method {
    //! How an iterator moves in a `DUP_SORT` database: through every value
    //! ([`MoveThroughDuplicateValues`], the default), from key to key
    //! ([`MoveBetweenKeys`]), or through the values of one key ([`MoveOnCurrentKeyDuplicates`]).

    use crate::mdb::ffi;

    /// An iteration method: the cursor operations that move forwards and backwards.
    ///
    /// ```
    /// # use hedge::types::*; use hedge::*;
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| { let mut d = o.database_options().types::<Str, Str>(); d.flags(DatabaseFlags::DUP_SORT); d.create(w).map(CommitOrAbort::<_, ()>::Commit) })?.unwrap_commit();
    /// use hedge::iteration_method::MoveBetweenKeys;
    /// let mut wtxn = env.write_txn()?;
    /// db.put(&mut wtxn, "a", "1")?;
    /// db.put(&mut wtxn, "a", "2")?;
    /// let keys: hedge::RoIter<Str, Str, MoveBetweenKeys> = db.iter(&wtxn)?.move_between_keys();
    /// assert_eq!(keys.count(), 1);
    /// # Ok(()) }
    /// ```
    pub trait IterationMethod {
        #[doc(hidden)]
        const NEXT: ffi::MDB_cursor_op;
        #[doc(hidden)]
        const PREV: ffi::MDB_cursor_op;
    }

    /// Visit every value of every key.
    ///
    /// ```
    /// # use hedge::types::*; use hedge::*;
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| { let mut d = o.database_options().types::<Str, Str>(); d.flags(DatabaseFlags::DUP_SORT); d.create(w).map(CommitOrAbort::<_, ()>::Commit) })?.unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// db.put(&mut wtxn, "a", "1")?;
    /// db.put(&mut wtxn, "a", "2")?;
    /// assert_eq!(db.iter(&wtxn)?.count(), 2, "the default");
    /// # Ok(()) }
    /// ```
    #[derive(Debug, Clone, Copy)]
    pub enum MoveThroughDuplicateValues {}

    impl IterationMethod for MoveThroughDuplicateValues {
        const NEXT: ffi::MDB_cursor_op = ffi::MDB_NEXT;
        const PREV: ffi::MDB_cursor_op = ffi::MDB_PREV;
    }

    /// Visit each key once (its first value).
    ///
    /// ```
    /// # use hedge::types::*; use hedge::*;
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| { let mut d = o.database_options().types::<Str, Str>(); d.flags(DatabaseFlags::DUP_SORT); d.create(w).map(CommitOrAbort::<_, ()>::Commit) })?.unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// db.put(&mut wtxn, "a", "1")?;
    /// db.put(&mut wtxn, "a", "2")?;
    /// assert_eq!(db.rev_iter(&wtxn)?.move_between_keys().count(), 1);
    /// # Ok(()) }
    /// ```
    #[derive(Debug, Clone, Copy)]
    pub enum MoveBetweenKeys {}

    impl IterationMethod for MoveBetweenKeys {
        const NEXT: ffi::MDB_cursor_op = ffi::MDB_NEXT_NODUP;
        const PREV: ffi::MDB_cursor_op = ffi::MDB_PREV_NODUP;
    }

    /// Visit the values of the current key only.
    ///
    /// ```
    /// # use hedge::types::*; use hedge::*;
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| { let mut d = o.database_options().types::<Str, Str>(); d.flags(DatabaseFlags::DUP_SORT); d.create(w).map(CommitOrAbort::<_, ()>::Commit) })?.unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// db.put(&mut wtxn, "a", "1")?;
    /// db.put(&mut wtxn, "a", "2")?;
    /// db.put(&mut wtxn, "b", "1")?;
    /// // What get_duplicates returns.
    /// let dups: hedge::RoIter<Str, Str, hedge::iteration_method::MoveOnCurrentKeyDuplicates> =
    ///     db.get_duplicates(&wtxn, "a")?.unwrap();
    /// assert_eq!(dups.count(), 2);
    /// # Ok(()) }
    /// ```
    #[derive(Debug, Clone, Copy)]
    pub enum MoveOnCurrentKeyDuplicates {}

    impl IterationMethod for MoveOnCurrentKeyDuplicates {
        const NEXT: ffi::MDB_cursor_op = ffi::MDB_NEXT_DUP;
        const PREV: ffi::MDB_cursor_op = ffi::MDB_PREV_DUP;
    }
}

use iteration_method::{IterationMethod, MoveBetweenKeys, MoveThroughDuplicateValues};

/// Decodes one entry with the key and value codecs.
pub(crate) fn decode_entry<'txn, KC, DC>(entry: Entry<'txn>) -> Result<(KC::DItem, DC::DItem)>
where
    KC: BytesDecode<'txn>,
    DC: BytesDecode<'txn>,
{
    let key = KC::bytes_decode(entry.0).map_err(Error::Decoding)?;
    let data = DC::bytes_decode(entry.1).map_err(Error::Decoding)?;
    Ok((key, data))
}

fn decode_pair<'txn, KC, DC>(entry: Option<Entry<'txn>>) -> Option<Result<(KC::DItem, DC::DItem)>>
where
    KC: BytesDecode<'txn>,
    DC: BytesDecode<'txn>,
{
    entry.map(decode_entry::<KC, DC>)
}

macro_rules! read_iterator {
    ($(#[$doc:meta])* $name:ident, $first:expr, $step:ident) => {
        $(#[$doc])*
        pub struct $name<'txn, KC, DC, IM = MoveThroughDuplicateValues> {
            cursor: RawCursor<'txn>,
            first: ffi::MDB_cursor_op,
            /// Yield the first entry only (the value of a key in a database without duplicates).
            single: bool,
            started: bool,
            done: bool,
            marker: PhantomData<(KC, DC, IM)>,
        }

        impl<'txn, KC, DC, IM> $name<'txn, KC, DC, IM> {
            pub(crate) fn new(cursor: RawCursor<'txn>) -> Self {
                $name { cursor, first: $first, single: false, started: false, done: false, marker: PhantomData }
            }

            /// Starts from the entry the cursor already stands on; `single`: and stops there.
            #[allow(dead_code)] // used by one of the two iterators only
            pub(crate) fn from_current(cursor: RawCursor<'txn>, single: bool) -> Self {
                $name { cursor, first: ffi::MDB_GET_CURRENT, single, started: false, done: false, marker: PhantomData }
            }

            fn retype<KC2, DC2, IM2>(self) -> $name<'txn, KC2, DC2, IM2> {
                $name {
                    cursor: self.cursor,
                    first: self.first,
                    single: self.single,
                    started: self.started,
                    done: self.done,
                    marker: PhantomData,
                }
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
            /// assert_eq!(db.iter(&wtxn)?.move_between_keys().count(), 2);
            /// # Ok(()) }
            /// ```
            pub fn move_between_keys(self) -> $name<'txn, KC, DC, MoveBetweenKeys> {
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
            /// assert_eq!(db.iter(&wtxn)?.move_between_keys().move_through_duplicate_values().count(), 3);
            /// # Ok(()) }
            /// ```
            pub fn move_through_duplicate_values(self) -> $name<'txn, KC, DC, MoveThroughDuplicateValues> {
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
            /// let (k, v) = db.iter(&wtxn)?.remap_types::<Bytes, Bytes>().next().unwrap()?;
            /// assert_eq!((k, v), (&b"a"[..], &b"1"[..]));
            /// # Ok(()) }
            /// ```
            pub fn remap_types<KC2, DC2>(self) -> $name<'txn, KC2, DC2, IM> {
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
            /// let (k, _) = db.iter(&wtxn)?.remap_key_type::<Bytes>().next().unwrap()?;
            /// assert_eq!(k, b"a");
            /// # Ok(()) }
            /// ```
            pub fn remap_key_type<KC2>(self) -> $name<'txn, KC2, DC, IM> {
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
            /// let (_, v) = db.iter(&wtxn)?.remap_data_type::<DecodeIgnore>().next().unwrap()?;
            /// assert_eq!(v, ());
            /// # Ok(()) }
            /// ```
            pub fn remap_data_type<DC2>(self) -> $name<'txn, KC, DC2, IM> {
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
            /// let (_, lazy) = db.iter(&wtxn)?.lazily_decode_data().next().unwrap()?;
            /// assert_eq!(lazy.decode().unwrap(), "1");
            /// # Ok(()) }
            /// ```
            pub fn lazily_decode_data(self) -> $name<'txn, KC, heed_types::LazyDecode<DC>, IM> {
                self.retype()
            }
        }

        impl<'txn, KC, DC, IM> Iterator for $name<'txn, KC, DC, IM>
        where
            KC: BytesDecode<'txn>,
            DC: BytesDecode<'txn>,
            IM: IterationMethod,
        {
            type Item = Result<(KC::DItem, DC::DItem)>;

            fn next(&mut self) -> Option<Self::Item> {
                if self.done || (self.started && self.single) {
                    return None;
                }
                let op = if self.started { IM::$step } else { self.first };
                self.started = true;
                match self.cursor.get(op, None) {
                    Ok(entry) => {
                        if entry.is_none() {
                            self.done = true;
                        }
                        decode_pair::<KC, DC>(entry)
                    }
                    Err(e) => {
                        self.done = true;
                        Some(Err(e.into()))
                    }
                }
            }
        }
    };
}

read_iterator!(
    /// Iterates over a database in key order; from [`Database::iter`](crate::Database::iter)
    /// (example there).
    RoIter, ffi::MDB_FIRST, NEXT
);
read_iterator!(
    /// Iterates over a database in reverse key order; from
    /// [`Database::rev_iter`](crate::Database::rev_iter) (example there).
    RoRevIter, ffi::MDB_LAST, PREV
);

read_iterator!(
    /// Iterates over a database in key order within a write transaction, and can change the
    /// entries it visits; from [`Database::iter_mut`](crate::Database::iter_mut)
    /// (example there).
    RwIter, ffi::MDB_FIRST, NEXT
);
read_iterator!(
    /// Iterates over a database in reverse key order within a write transaction, and can
    /// change the entries it visits; from [`Database::rev_iter_mut`](crate::Database::rev_iter_mut)
    /// (example there).
    RwRevIter, ffi::MDB_LAST, PREV
);

/// The `unsafe` writes of the `Rw*` iterators; `$($cursor).+` is where their cursor is.
macro_rules! write_methods {
    ($name:ident $(<$c:ident>)?, $($cursor:ident).+) => {
        impl<'txn, KC, DC, $($c,)? IM> $name<'txn, KC, DC, $($c,)? IM> {
            /// Deletes the entry the iterator last returned; the next call returns the one
            /// after it. `false` if there was none.
            ///
            /// # Safety
            /// No value returned by this iterator before may be used afterwards: the write can
            /// move the pages they point into.
            ///
            /// ```
            /// # use hedge::types::*; use hedge::*;
            /// # fn main() -> hedge::Result<()> {
            /// # let dir = tempfile::tempdir()?;
            /// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
            /// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
            /// let mut wtxn = env.write_txn()?;
            /// for key in ["a", "b"] {
            ///     db.put(&mut wtxn, key, "v")?;
            /// }
            /// let mut iter = db.iter_mut(&mut wtxn)?;
            /// iter.next().transpose()?;
            /// // SAFETY: nothing read through the iterator is used after the write.
            /// assert!(unsafe { iter.del_current()? });
            /// assert_eq!(iter.next().transpose()?.map(|(k, _)| k), Some("b"));
            /// drop(iter);
            /// assert_eq!(db.len(&wtxn)?, 1);
            /// # Ok(()) }
            /// ```
            pub unsafe fn del_current(&mut self) -> Result<bool> {
                // SAFETY: the txn is a write txn borrowed mutably by this iterator; the caller
                // upholds the rule about earlier values.
                match unsafe { self.$($cursor).+.del(0) } {
                    Ok(()) => Ok(true),
                    Err(e) if e.not_found() => Ok(false),
                    Err(e) => Err(e.into()),
                }
            }

            /// Replaces the entry the iterator last returned. `key` must be its key (checked: an
            /// error otherwise, since LMDB would write the other key at this entry's place). In a
            /// `DUP_SORT` database, `data` replaces the current duplicate *in place* (LMDB does
            /// not re-sort): it must sort between the duplicates before and after it, which is
            /// checked too (an `InvalidInput` error otherwise; in a `DUP_FIXED` one it must also
            /// have the duplicates' size: `MdbError::BadValSize`).
            ///
            /// # Safety
            /// No value returned by this iterator before may be used afterwards: the write can
            /// move the pages they point into.
            ///
            /// ```
            /// # use hedge::types::*; use hedge::*;
            /// # fn main() -> hedge::Result<()> {
            /// # let dir = tempfile::tempdir()?;
            /// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
            /// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
            /// let mut wtxn = env.write_txn()?;
            /// db.put(&mut wtxn, "a", "old")?;
            /// let mut iter = db.iter_mut(&mut wtxn)?;
            /// iter.next().transpose()?;
            /// // SAFETY: nothing read through the iterator is used after the write.
            /// assert!(unsafe { iter.put_current("a", "new")? });
            /// drop(iter);
            /// assert_eq!(db.get(&wtxn, "a")?, Some("new"));
            /// # Ok(()) }
            /// ```
            pub unsafe fn put_current<'a>(&mut self, key: &'a KC::EItem, data: &'a DC::EItem) -> Result<bool>
            where
                KC: heed_traits::BytesEncode<'a>,
                DC: heed_traits::BytesEncode<'a>,
            {
                let key = KC::bytes_encode(key).map_err(Error::Encoding)?;
                let data = DC::bytes_encode(data).map_err(Error::Encoding)?;
                $crate::iter::refuse_other_key(&mut self.$($cursor).+, &key, ffi::MDB_CURRENT)?;
                $crate::iter::refuse_out_of_place(&mut self.$($cursor).+, &key, &data)?;
                // SAFETY: the caller upholds the rules above; the key is the current one.
                unsafe { $crate::iter::put_current(&mut self.$($cursor).+, &key, &data) }
            }

            /// Puts through the cursor with `flags` (e.g. `PutFlags::APPEND`), a value of another
            /// codec if needed. With LMDB's `MDB_CURRENT` among the flags, `key` must be the
            /// current entry's (checked).
            ///
            /// # Safety
            /// As [`put_current`](Self::put_current).
            ///
            /// ```
            /// # use hedge::types::*; use hedge::*;
            /// # fn main() -> hedge::Result<()> {
            /// # let dir = tempfile::tempdir()?;
            /// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
            /// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
            /// let mut wtxn = env.write_txn()?;
            /// db.put(&mut wtxn, "a", "1")?;
            /// let mut iter = db.iter_mut(&mut wtxn)?;
            /// iter.next().transpose()?;
            /// // Append a key after the last one, with another value codec.
            /// // SAFETY: nothing read through the iterator is used after the write.
            /// unsafe { iter.put_current_with_options::<Bytes>(PutFlags::APPEND, "b", &[0xff])? };
            /// drop(iter);
            /// assert_eq!(db.remap_data_type::<Bytes>().get(&wtxn, "b")?, Some(&[0xff][..]));
            /// # Ok(()) }
            /// ```
            pub unsafe fn put_current_with_options<'a, NDC>(
                &mut self,
                flags: PutFlags,
                key: &'a KC::EItem,
                data: &'a NDC::EItem,
            ) -> Result<()>
            where
                KC: heed_traits::BytesEncode<'a>,
                NDC: heed_traits::BytesEncode<'a>,
            {
                let key = KC::bytes_encode(key).map_err(Error::Encoding)?;
                let data = NDC::bytes_encode(data).map_err(Error::Encoding)?;
                $crate::iter::refuse_other_key(&mut self.$($cursor).+, &key, flags.checked_bits()?)?;
                // SAFETY: the caller upholds the rules of put_current.
                unsafe { self.$($cursor).+.put(&key, &data, flags.checked_bits()?) }?;
                Ok(())
            }

            /// Reserves `data_size` bytes through the cursor (`MDB_RESERVE` and `flags`) and lets
            /// `write_func` fill them, with [`Database::put_reserved`](crate::Database::put_reserved)'s
            /// rule: a failed or short write gets an error and the rest zeroed. With LMDB's
            /// `MDB_CURRENT` among the flags, `key` must be the current entry's (checked).
            /// Refused in `DUP_SORT` databases (`MdbError::Incompatible`).
            ///
            /// # Safety
            /// As [`del_current`](Self::del_current).
            ///
            /// ```
            /// # use hedge::types::*; use hedge::*;
            /// # fn main() -> hedge::Result<()> {
            /// # let dir = tempfile::tempdir()?;
            /// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
            /// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
            /// use std::io::Write;
            /// let mut wtxn = env.write_txn()?;
            /// db.put(&mut wtxn, "a", "old")?;
            /// let mut iter = db.iter_mut(&mut wtxn)?;
            /// iter.next().transpose()?;
            /// // SAFETY: nothing read through the iterator is used after the write.
            /// unsafe { iter.put_current_reserved_with_flags(PutFlags::empty(), "a", 3, |space| space.write_all(b"new"))? };
            /// drop(iter);
            /// assert_eq!(db.get(&wtxn, "a")?, Some("new"));
            /// # Ok(()) }
            /// ```
            pub unsafe fn put_current_reserved_with_flags<'a, F>(
                &mut self,
                flags: PutFlags,
                key: &'a KC::EItem,
                data_size: usize,
                write_func: F,
            ) -> Result<bool>
            where
                KC: heed_traits::BytesEncode<'a>,
                F: FnOnce(&mut ReservedSpace) -> std::io::Result<()>,
            {
                let key = KC::bytes_encode(key).map_err(Error::Encoding)?;
                $crate::iter::refuse_other_key(&mut self.$($cursor).+, &key, flags.checked_bits()?)?;
                // SAFETY: as in del_current.
                let Some(start) = (unsafe { self.$($cursor).+.reserve(&key, data_size, flags.checked_bits()?) }?) else {
                    return Ok(false);
                };
                // SAFETY: LMDB reserved `data_size` writable bytes, valid until the next write
                // in the txn, which cannot happen while `space` lives.
                let mut space = unsafe { ReservedSpace::new(start, data_size) };
                let result = write_func(&mut space);
                crate::reserved::finish(&mut space, result)?;
                Ok(true)
            }
        }
    };
}

pub(crate) use write_methods;

/// Replaces the entry under the cursor. In a `DUP_SORT` database LMDB's `MDB_CURRENT` loses a
/// duplicate replaced by one of another size (found by fuzz_api: the last duplicate of a
/// key, 4 bytes replaced by 5, vanished), so there the duplicate is deleted and the new one
/// put: the same place, since it sorts there (checked before).
///
/// # Safety
/// As `RawCursor::put`.
pub(crate) unsafe fn put_current(cursor: &mut RawCursor<'_>, key: &[u8], data: &[u8]) -> Result<bool> {
    if cursor.db_flags()? & ffi::MDB_DUPSORT == 0 {
        // SAFETY: per the contract.
        return Ok(unsafe { cursor.put(key, data, ffi::MDB_CURRENT) }?);
    }
    if cursor.get(ffi::MDB_GET_CURRENT, None)?.is_none() {
        return Ok(false);
    }
    // What LMDB would refuse after the delete is refused before it: a duplicate longer than
    // a key, or an empty one beside others.
    if data.len() > cursor.max_key_size() || (data.is_empty() && cursor.count()? > 1) {
        return Err(crate::MdbError::BadValSize.into());
    }
    // SAFETY: per the contract; nothing read above is used after the writes.
    unsafe {
        cursor.del(0)?;
        cursor.put(key, data, 0)?;
    }
    Ok(true)
}

/// `MDB_CURRENT` replaces a duplicate in place: in a `DUP_SORT` database the new value must
/// sort between the current one's neighbours, or the order of the key's values breaks.
pub(crate) fn refuse_out_of_place(cursor: &mut RawCursor<'_>, key: &[u8], data: &[u8]) -> Result<()> {
    if cursor.duplicate_sorts_in_place(key, data)? {
        return Ok(());
    }
    Err(Error::Io(std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        "put_current: in a DUP_SORT database the new value must sort where the current one is \
         (between its neighbours); delete the current value and put the new one instead",
    )))
}

/// `MDB_CURRENT` replaces the entry under the cursor without looking at the key it is given:
/// another key would be written at this entry's place, out of order. So it must be the
/// current key, byte for byte.
pub(crate) fn refuse_other_key(
    cursor: &mut RawCursor<'_>,
    key: &[u8],
    flags: std::ffi::c_uint,
) -> Result<()> {
    if flags & ffi::MDB_CURRENT == 0 {
        return Ok(());
    }
    match cursor.get(ffi::MDB_GET_CURRENT, None) {
        Ok(Some((current, _))) if current != key => Err(Error::Io(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "put_current: the key given is not the key of the entry the iterator is on (LMDB would \
             write it in that entry's place, out of order); use Database::put for another key",
        ))),
        // No current entry: LMDB refuses the put itself.
        _ => Ok(()),
    }
}

write_methods!(RwIter, cursor);
write_methods!(RwRevIter, cursor);

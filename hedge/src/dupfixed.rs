//! Values of `DUP_FIXED` databases in blocks: `MDB_MULTIPLE` writes many duplicates of a key
//! in one call, `MDB_GET_MULTIPLE`/`MDB_NEXT_MULTIPLE` read them a page at a time
//! (beyond heed's API).

use std::marker::PhantomData;

use heed_traits::{BytesDecode, BytesEncode};

use crate::database::{decode, encode};
use crate::mdb::ffi;
use crate::mdb::handle::RawCursor;
use crate::{Database, Error, Result, RoTxn, RwTxn};

impl<KC, DC, C, CDUP> Database<'_, KC, DC, C, CDUP> {
    /// Stores every value of `values` as a duplicate of `key` in one `MDB_MULTIPLE` call (the
    /// database must be `DUP_SORT | DUP_FIXED`); returns the count LMDB reports, which is
    /// every value given: a value that is already a duplicate of `key` (or repeated in
    /// `values`) counts but is stored once, as duplicates are a set. Use
    /// [`count_duplicates`](Database::count_duplicates) for how many the key now has.
    ///
    /// The values are encoded into one contiguous buffer, so they must all have the same
    /// encoded size, else `Error::Encoding` says which one differs and nothing is written.
    /// On a database without `DUP_FIXED` this is `Error::Mdb(MdbError::Incompatible)`.
    /// An empty `values` writes nothing and returns 0.
    ///
    /// ```
    /// use hedge::types::{Str, U32};
    /// use hedge::{byteorder::BigEndian, CommitOrAbort, Database, DatabaseFlags};
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// let env = unsafe { hedge::EnvOpenOptions::new().max_dbs(1).open(dir.path())? };
    /// let wtxn = env.write_txn()?;
    /// let postings: Database<Str, U32<BigEndian>> = env
    ///     .create_databases_and_commit(wtxn, |o, wtxn| {
    ///         let mut options = o.database_options().types::<Str, U32<BigEndian>>();
    ///         options.name("postings").flags(DatabaseFlags::DUP_SORT | DatabaseFlags::DUP_FIXED);
    ///         options.create(wtxn).map(CommitOrAbort::<_, ()>::Commit)
    ///     })?
    ///     .unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// let documents: Vec<u32> = (0..10_000).collect();
    /// assert_eq!(postings.put_fixed_duplicates(&mut wtxn, "lmdb", &documents)?, 10_000);
    /// assert_eq!(postings.count_duplicates(&wtxn, "lmdb")?, 10_000);
    /// # Ok(()) }
    /// ```
    pub fn put_fixed_duplicates<'a, I>(&self, txn: &mut RwTxn, key: &'a KC::EItem, values: I) -> Result<usize>
    where
        KC: BytesEncode<'a>,
        DC: BytesEncode<'a>,
        DC::EItem: 'a,
        I: IntoIterator<Item = &'a DC::EItem>,
    {
        self.check(txn)?;
        let key = encode::<KC>(key)?;
        let mut buffer = Vec::new();
        let mut size = None;
        for (index, value) in values.into_iter().enumerate() {
            let bytes = encode::<DC>(value)?;
            match size {
                None if bytes.is_empty() => {
                    return Err(Error::Encoding("DUP_FIXED values cannot be empty".into()));
                }
                None => size = Some(bytes.len()),
                Some(size) if size != bytes.len() => {
                    return Err(Error::Encoding(
                        format!(
                            "DUP_FIXED values must all have one size: value {index} encodes to {} bytes, \
                             the first to {size}",
                            bytes.len()
                        )
                        .into(),
                    ));
                }
                Some(_) => {}
            }
            buffer.extend_from_slice(&bytes);
        }
        let Some(size) = size else { return Ok(0) };
        let mut cursor = RawCursor::open(txn.raw(), self.dbi())?;
        let total = buffer.len() / size;
        let mut done = 0;
        while done < total {
            // SAFETY: `txn` is a write txn borrowed mutably, so no value read through it is
            // alive.
            let stored = unsafe { cursor.put_multiple(&key, &buffer[done * size..], size, 0) }?;
            // LMDB stops after the first value, reporting 0, when it equals the key's only
            // value (it rewrites it in place and returns before its loop): go on after it.
            done += stored.max(1);
        }
        Ok(total)
    }

    /// The duplicates of `key` in a `DUP_SORT | DUP_FIXED` database, read a block (up to a
    /// page of contiguous values) at a time with `MDB_GET_MULTIPLE`/`MDB_NEXT_MULTIPLE`;
    /// `None` if the key is absent. Iterate it for decoded values, or take whole blocks with
    /// [`FixedDuplicates::next_block`] (zero-copy, e.g. to cast them to a `&[u32]`).
    ///
    /// On a database without `DUP_FIXED` this is `Error::Mdb(MdbError::Incompatible)`.
    ///
    /// ```
    /// use hedge::types::{Bytes, Str};
    /// use hedge::{CommitOrAbort, Database, DatabaseFlags};
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// let env = unsafe { hedge::EnvOpenOptions::new().max_dbs(1).open(dir.path())? };
    /// let wtxn = env.write_txn()?;
    /// let db: Database<Str, Bytes> = env
    ///     .create_databases_and_commit(wtxn, |o, wtxn| {
    ///         let mut options = o.database_options().types::<Str, Bytes>();
    ///         options.name("ids").flags(DatabaseFlags::DUP_SORT | DatabaseFlags::DUP_FIXED);
    ///         options.create(wtxn).map(CommitOrAbort::<_, ()>::Commit)
    ///     })?
    ///     .unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// let ids: Vec<[u8; 8]> = (0u64..5_000).map(u64::to_be_bytes).collect();
    /// db.put_fixed_duplicates(&mut wtxn, "k", ids.iter().map(|id| &id[..]))?;
    ///
    /// let mut duplicates = db.fixed_duplicates(&wtxn, "k")?.expect("the key exists");
    /// assert_eq!(duplicates.value_size(), 8);
    /// let mut seen = 0;
    /// while let Some(block) = duplicates.next_block()? {
    ///     for id in block.chunks_exact(8) {
    ///         assert_eq!(id, ids[seen]);
    ///         seen += 1;
    ///     }
    /// }
    /// assert_eq!(seen, 5_000);
    /// // Or value by value:
    /// assert_eq!(db.fixed_duplicates(&wtxn, "k")?.unwrap().count(), 5_000);
    /// # Ok(()) }
    /// ```
    pub fn fixed_duplicates<'a, 'txn>(
        &self,
        txn: &'txn RoTxn,
        key: &'a KC::EItem,
    ) -> Result<Option<FixedDuplicates<'txn, DC>>>
    where
        KC: BytesEncode<'a>,
    {
        self.check(txn)?;
        let key = encode::<KC>(key)?;
        if txn.raw().dbi_flags(self.dbi())? & ffi::MDB_DUPFIXED == 0 {
            return Err(crate::MdbError::Incompatible.into());
        }
        let mut cursor = RawCursor::open(txn.raw(), self.dbi())?;
        let Some((_, first)) = cursor.get(ffi::MDB_SET, Some(&key))? else { return Ok(None) };
        Ok(Some(FixedDuplicates {
            cursor,
            value_size: first.len(),
            first: Some(first),
            block: &[],
            done: false,
            marker: PhantomData,
        }))
    }
}

/// The duplicates of one key of a `DUP_FIXED` database, from
/// [`Database::fixed_duplicates`]: an iterator of decoded values, read from LMDB a block
/// (up to a page of contiguous values) at a time.
///
/// ```
/// # fn main() -> hedge::Result<()> {
/// # let dir = tempfile::tempdir()?;
/// # let env = unsafe { hedge::EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
/// use hedge::types::{Str, U64};
/// use hedge::{byteorder::BigEndian, CommitOrAbort, DatabaseFlags};
/// let db = env
///     .create_databases_and_commit(env.write_txn()?, |opener, wtxn| {
///         let mut options = opener.database_options().types::<Str, U64<BigEndian>>();
///         options.name("ids").flags(DatabaseFlags::DUP_SORT | DatabaseFlags::DUP_FIXED);
///         options.create(wtxn).map(CommitOrAbort::<_, ()>::Commit)
///     })?
///     .unwrap_commit();
/// let mut wtxn = env.write_txn()?;
/// db.put_fixed_duplicates(&mut wtxn, "k", &[3, 1, 2])?;
/// let ids: Vec<u64> = db.fixed_duplicates(&wtxn, "k")?.unwrap().collect::<hedge::Result<_>>()?;
/// assert_eq!(ids, [1, 2, 3]);
/// # Ok(()) }
/// ```
pub struct FixedDuplicates<'txn, DC> {
    cursor: RawCursor<'txn>,
    value_size: usize,
    /// The value the cursor was positioned on, until the first block is read.
    first: Option<&'txn [u8]>,
    /// What is left of the current block.
    block: &'txn [u8],
    done: bool,
    marker: PhantomData<DC>,
}

impl<'txn, DC> FixedDuplicates<'txn, DC> {
    /// The size in bytes of every value of this key.
    ///
    /// ```
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { hedge::EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// use hedge::types::{Str, U32};
    /// use hedge::{byteorder::BigEndian, CommitOrAbort, DatabaseFlags};
    /// let db = env
    ///     .create_databases_and_commit(env.write_txn()?, |opener, wtxn| {
    ///         let mut options = opener.database_options().types::<Str, U32<BigEndian>>();
    ///         options.name("ids").flags(DatabaseFlags::DUP_SORT | DatabaseFlags::DUP_FIXED);
    ///         options.create(wtxn).map(CommitOrAbort::<_, ()>::Commit)
    ///     })?
    ///     .unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// db.put(&mut wtxn, "k", &7)?;
    /// assert_eq!(db.fixed_duplicates(&wtxn, "k")?.unwrap().value_size(), 4);
    /// # Ok(()) }
    /// ```
    pub fn value_size(&self) -> usize {
        self.value_size
    }

    /// The values not yet returned of the current block, or the next block: contiguous
    /// values of [`value_size`](Self::value_size) bytes each, borrowed from the
    /// transaction. `None` after the last one.
    ///
    /// ```
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { hedge::EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// use hedge::types::{Str, U32};
    /// use hedge::{byteorder::NativeEndian, CommitOrAbort, DatabaseFlags};
    /// let db = env
    ///     .create_databases_and_commit(env.write_txn()?, |opener, wtxn| {
    ///         let mut options = opener.database_options().types::<Str, U32<NativeEndian>>();
    ///         options.name("ids").flags(DatabaseFlags::DUP_SORT | DatabaseFlags::DUP_FIXED);
    ///         options.create(wtxn).map(CommitOrAbort::<_, ()>::Commit)
    ///     })?
    ///     .unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// let ids: Vec<u32> = (0..3_000).collect();
    /// db.put_fixed_duplicates(&mut wtxn, "k", &ids)?;
    /// let mut duplicates = db.fixed_duplicates(&wtxn, "k")?.unwrap();
    /// let mut total = 0;
    /// while let Some(block) = duplicates.next_block()? {
    ///     // A block is contiguous u32s (unaligned in general: copy them out).
    ///     total += block.chunks_exact(4).map(|b| u32::from_ne_bytes(b.try_into().unwrap()) as u64).sum::<u64>();
    /// }
    /// assert_eq!(total, ids.iter().map(|&i| i as u64).sum::<u64>());
    /// # Ok(()) }
    /// ```
    pub fn next_block(&mut self) -> Result<Option<&'txn [u8]>> {
        if !self.block.is_empty() {
            return Ok(Some(std::mem::take(&mut self.block)));
        }
        if self.done {
            return Ok(None);
        }
        let block = match self.first.take() {
            Some(first) => self.cursor.get_multiple(false, first),
            None => self.cursor.get_multiple(true, &[]),
        };
        match block {
            Ok(Some(block)) if !block.is_empty() => Ok(Some(block)),
            Ok(_) => {
                self.done = true;
                Ok(None)
            }
            Err(e) => {
                self.done = true;
                Err(e.into())
            }
        }
    }
}

impl<'txn, DC: BytesDecode<'txn>> Iterator for FixedDuplicates<'txn, DC> {
    type Item = Result<DC::DItem>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.block.is_empty() {
            match self.next_block() {
                Ok(Some(block)) => self.block = block,
                Ok(None) => return None,
                Err(e) => return Some(Err(e)),
            }
        }
        // Zero-sized values cannot be written (MdbError::BadValSize), but a file written
        // elsewhere may hold them: one value per block then, never an endless run of them.
        let size =
            if self.value_size == 0 { self.block.len() } else { self.value_size.min(self.block.len()) };
        let (value, rest) = self.block.split_at(size);
        self.block = rest;
        Some(decode::<DC>(value))
    }
}

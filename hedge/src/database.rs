//! Databases: opening them ([`DatabaseOpenOptions`], [`DatabaseOpener`]) and the typed
//! handle [`Database`], with heed 0.23's API.

use std::any::TypeId;
use std::borrow::Cow;
use std::cmp::Ordering;
use std::ffi::CString;
use std::marker::PhantomData;
use std::num::NonZeroUsize;
use std::{fmt, io};

use heed_traits::{BytesDecode, BytesEncode, Comparator, LexicographicComparator};

use std::ops::{Bound, RangeBounds};

use crate::bounded::{
    Bounds, Engine, RangeOrder, RoPrefix, RoRange, RoRevPrefix, RoRevRange, RwPrefix, RwRange, RwRevPrefix,
    RwRevRange, owned, position,
};
use crate::env::ComparatorKind;
use crate::iter::iteration_method::MoveOnCurrentKeyDuplicates;
use crate::iter::{RoIter, RoRevIter, RwIter, RwRevIter, decode_entry};
use crate::mdb::ffi;
use crate::mdb::handle::{RawCursor, RawTxn, compare_with};
use crate::{
    CommitOrAbort, CommitToken, DatabaseFlags, Env, Error, OnCommit, PutFlags, ReservedSpace, Result, RoTxn,
    RwTxn,
};

/// Statistics of a database, from `mdb_stat`.
///
/// ```
/// # use hedge::types::*; use hedge::*;
/// # fn main() -> hedge::Result<()> {
/// # let dir = tempfile::tempdir()?;
/// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
/// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
/// let mut wtxn = env.write_txn()?;
/// db.put(&mut wtxn, "k", "v")?;
/// let stat = db.stat(&wtxn)?;
/// assert_eq!((stat.entries, stat.depth, stat.leaf_pages), (1, 1, 1));
/// assert!(stat.page_size.is_power_of_two());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DatabaseStat {
    /// Size of a page in bytes.
    pub page_size: u32,
    /// Depth of the B-tree.
    pub depth: u32,
    /// Internal (non-leaf) pages.
    pub branch_pages: usize,
    /// Leaf pages.
    pub leaf_pages: usize,
    /// Overflow pages (values larger than a node).
    pub overflow_pages: usize,
    /// Entries (key/value pairs).
    pub entries: usize,
}

impl DatabaseStat {
    /// The bytes the database's pages take (branch, leaf and overflow pages; free pages are
    /// the environment's, not counted).
    ///
    /// ```
    /// # use hedge::types::*; use hedge::*;
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { EnvOpenOptions::new().open(dir.path())? };
    /// # let db: Database<Str, Bytes> = env.create_databases_and_commit(env.write_txn()?, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// db.put(&mut wtxn, "big", &[0; 10_000])?;
    /// let stat = db.stat(&wtxn)?;
    /// assert_eq!(stat.non_free_page_size(), (1 + stat.overflow_pages) * stat.page_size as usize);
    /// # Ok(()) }
    /// ```
    pub fn non_free_page_size(&self) -> usize {
        (self.branch_pages + self.leaf_pages + self.overflow_pages) * self.page_size as usize
    }
}

impl From<ffi::MDB_stat> for DatabaseStat {
    fn from(st: ffi::MDB_stat) -> Self {
        DatabaseStat {
            page_size: st.ms_psize,
            depth: st.ms_depth,
            branch_pages: st.ms_branch_pages,
            leaf_pages: st.ms_leaf_pages,
            overflow_pages: st.ms_overflow_pages,
            entries: st.ms_entries,
        }
    }
}

/// Placeholder for the key and value types of [`DatabaseOpenOptions`] before
/// [`types`](DatabaseOpenOptions::types) is called.
///
/// ```
/// # fn main() -> hedge::Result<()> {
/// # let dir = tempfile::tempdir()?;
/// # let env = unsafe { hedge::EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
/// use hedge::types::{Str, U64};
/// use hedge::{byteorder::BigEndian, CommitOrAbort};
/// let counts = env
///     .create_databases_and_commit(env.write_txn()?, |opener, wtxn| {
///         // database_options() starts with Unspecified key and value types: pick them.
///         let options = opener.database_options().types::<Str, U64<BigEndian>>();
///         options.create(wtxn).map(CommitOrAbort::<_, ()>::Commit)
///     })?
///     .unwrap_commit();
/// let mut wtxn = env.write_txn()?;
/// counts.put(&mut wtxn, "visits", &1)?;
/// # Ok(()) }
/// ```
pub enum Unspecified {}

/// LMDB's default order: bytes compared lexicographically (`memcmp`).
///
/// ```
/// # use hedge::types::*; use hedge::*;
/// # fn main() -> hedge::Result<()> {
/// # let dir = tempfile::tempdir()?;
/// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
/// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
/// let mut wtxn = env.write_txn()?;
/// for key in ["b", "ab", "a"] {
///     db.put(&mut wtxn, key, key)?;
/// }
/// let keys: Vec<&str> = db.iter(&wtxn)?.map(|e| e.map(|(k, _)| k)).collect::<hedge::Result<_>>()?;
/// assert_eq!(keys, ["a", "ab", "b"]);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub enum DefaultComparator {}

impl LexicographicComparator for DefaultComparator {
    fn compare_elem(a: u8, b: u8) -> Ordering {
        a.cmp(&b)
    }
    fn successor(elem: u8) -> Option<u8> {
        elem.checked_add(1)
    }
    fn predecessor(elem: u8) -> Option<u8> {
        elem.checked_sub(1)
    }
    fn max_elem() -> u8 {
        u8::MAX
    }
    fn min_elem() -> u8 {
        u8::MIN
    }
}

/// Keys (or duplicates) are native-endian unsigned integers of one size (`u32`, `u64`):
/// LMDB's `INTEGER_KEY`/`INTEGER_DUP`, set automatically when this comparator is chosen.
///
/// ```
/// # fn main() -> hedge::Result<()> {
/// # let dir = tempfile::tempdir()?;
/// # let env = unsafe { hedge::EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
/// use hedge::types::U32;
/// use hedge::{byteorder::NativeEndian, CommitOrAbort, IntegerComparator};
/// let db = env
///     .create_databases_and_commit(env.write_txn()?, |opener, wtxn| {
///         let mut options = opener
///             .database_options()
///             .types::<U32<NativeEndian>, U32<NativeEndian>>()
///             .key_comparator::<IntegerComparator>();
///         options.name("by-id");
///         options.create(wtxn).map(CommitOrAbort::<_, ()>::Commit)
///     })?
///     .unwrap_commit();
/// let mut wtxn = env.write_txn()?;
/// for id in [300u32, 2, 1_000_000] {
///     db.put(&mut wtxn, &id, &(id * 2))?;
/// }
/// // Numeric order, although native-endian bytes do not sort that way.
/// assert_eq!(db.first(&wtxn)?, Some((2, 4)));
/// assert_eq!(db.last(&wtxn)?, Some((1_000_000, 2_000_000)));
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub enum IntegerComparator {}

impl Comparator for IntegerComparator {
    fn compare(a: &[u8], b: &[u8]) -> Ordering {
        fn int(bytes: &[u8]) -> u64 {
            match bytes.len() {
                4 => u32::from_ne_bytes(bytes.try_into().unwrap()) as u64,
                8 => u64::from_ne_bytes(bytes.try_into().unwrap()),
                n => panic!("IntegerComparator: {n}-byte key, expected 4 or 8 bytes"),
            }
        }
        int(a).cmp(&int(b))
    }
}

/// Options to open or create a database; get them from [`DatabaseOpener::database_options`].
///
/// ```
/// # fn main() -> hedge::Result<()> {
/// # let dir = tempfile::tempdir()?;
/// # let env = unsafe { hedge::EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
/// use hedge::types::Str;
/// use hedge::{CommitOrAbort, DatabaseFlags};
/// let tags = env
///     .create_databases_and_commit(env.write_txn()?, |opener, wtxn| {
///         let mut options = opener.database_options().types::<Str, Str>();
///         options.name("tags").flags(DatabaseFlags::DUP_SORT);
///         options.create(wtxn).map(CommitOrAbort::<_, ()>::Commit)
///     })?
///     .unwrap_commit();
/// let mut wtxn = env.write_txn()?;
/// tags.put(&mut wtxn, "apple", "red")?;
/// tags.put(&mut wtxn, "apple", "round")?;
/// assert_eq!(tags.count_duplicates(&wtxn, "apple")?, 2);
/// # Ok(()) }
/// ```
pub struct DatabaseOpenOptions<'e, 'n, T, KC, DC, C = DefaultComparator, CDUP = DefaultComparator> {
    env: &'e Env<T>,
    opening: OpeningId,
    name: Option<&'n str>,
    flags: DatabaseFlags,
    types: PhantomData<(KC, DC, C, CDUP)>,
}

impl<T, KC, DC, C, CDUP> Clone for DatabaseOpenOptions<'_, '_, T, KC, DC, C, CDUP> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T, KC, DC, C, CDUP> Copy for DatabaseOpenOptions<'_, '_, T, KC, DC, C, CDUP> {}

impl<'e, 'n, T, KC, DC, C, CDUP> DatabaseOpenOptions<'e, 'n, T, KC, DC, C, CDUP> {
    fn retype<NKC, NDC, NC, NCDUP>(self) -> DatabaseOpenOptions<'e, 'n, T, NKC, NDC, NC, NCDUP> {
        DatabaseOpenOptions {
            env: self.env,
            opening: self.opening,
            name: self.name,
            flags: self.flags,
            types: PhantomData,
        }
    }

    /// The key and value codecs.
    ///
    /// ```
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { hedge::EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// use hedge::types::{Str, U32};
    /// use hedge::{byteorder::BigEndian, CommitOrAbort};
    /// let db = env
    ///     .create_databases_and_commit(env.write_txn()?, |opener, wtxn| {
    ///         opener.database_options().types::<Str, U32<BigEndian>>().create(wtxn).map(CommitOrAbort::<_, ()>::Commit)
    ///     })?
    ///     .unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// db.put(&mut wtxn, "answer", &42)?;
    /// assert_eq!(db.get(&wtxn, "answer")?, Some(42));
    /// # Ok(()) }
    /// ```
    pub fn types<NKC, NDC>(self) -> DatabaseOpenOptions<'e, 'n, T, NKC, NDC, C, CDUP> {
        self.retype()
    }

    /// The order of keys ([`DefaultComparator`], [`IntegerComparator`] or your own
    /// [`Comparator`]; one that panics aborts the process).
    ///
    /// ```
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { hedge::EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// use std::cmp::Ordering;
    /// use hedge::types::Str;
    /// use hedge::{CommitOrAbort, Comparator};
    /// enum Backwards {}
    /// impl Comparator for Backwards {
    ///     fn compare(a: &[u8], b: &[u8]) -> Ordering {
    ///         b.cmp(a)
    ///     }
    /// }
    /// let db = env
    ///     .create_databases_and_commit(env.write_txn()?, |opener, wtxn| {
    ///         let mut options = opener.database_options().types::<Str, Str>().key_comparator::<Backwards>();
    ///         options.name("backwards");
    ///         options.create(wtxn).map(CommitOrAbort::<_, ()>::Commit)
    ///     })?
    ///     .unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// db.put(&mut wtxn, "a", "first in bytes")?;
    /// db.put(&mut wtxn, "b", "first in this order")?;
    /// assert_eq!(db.first(&wtxn)?, Some(("b", "first in this order")));
    /// # Ok(()) }
    /// ```
    pub fn key_comparator<NC>(self) -> DatabaseOpenOptions<'e, 'n, T, KC, DC, NC, CDUP> {
        self.retype()
    }

    /// The order of duplicate values in a `DUP_SORT` database.
    ///
    /// ```
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { hedge::EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// use std::cmp::Ordering;
    /// use hedge::types::Str;
    /// use hedge::{CommitOrAbort, Comparator, DatabaseFlags};
    /// enum ByLength {}
    /// impl Comparator for ByLength {
    ///     fn compare(a: &[u8], b: &[u8]) -> Ordering {
    ///         a.len().cmp(&b.len()).then(a.cmp(b))
    ///     }
    /// }
    /// let db = env
    ///     .create_databases_and_commit(env.write_txn()?, |opener, wtxn| {
    ///         let mut options = opener.database_options().types::<Str, Str>().dup_sort_comparator::<ByLength>();
    ///         options.name("words").flags(DatabaseFlags::DUP_SORT);
    ///         options.create(wtxn).map(CommitOrAbort::<_, ()>::Commit)
    ///     })?
    ///     .unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// for word in ["ccc", "a", "bb"] {
    ///     db.put(&mut wtxn, "k", word)?;
    /// }
    /// let words: Vec<&str> = db.get_duplicates(&wtxn, "k")?.unwrap().map(|e| e.map(|(_, v)| v)).collect::<hedge::Result<_>>()?;
    /// assert_eq!(words, ["a", "bb", "ccc"]);
    /// # Ok(()) }
    /// ```
    pub fn dup_sort_comparator<NCDUP>(self) -> DatabaseOpenOptions<'e, 'n, T, KC, DC, C, NCDUP> {
        self.retype()
    }

    /// The database's name; without one, the unnamed (main) database. Named databases need
    /// `EnvOpenOptions::max_dbs`.
    ///
    /// ```
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { hedge::EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// use hedge::types::Str;
    /// use hedge::CommitOrAbort;
    /// let (users, groups) = env
    ///     .create_databases_and_commit(env.write_txn()?, |opener, wtxn| {
    ///         let mut options = opener.database_options().types::<Str, Str>();
    ///         let users = options.name("users").create(wtxn)?;
    ///         let groups = options.name("groups").create(wtxn)?;
    ///         Ok::<_, hedge::Error>(CommitOrAbort::<_, ()>::Commit((users, groups)))
    ///     })?
    ///     .unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// users.put(&mut wtxn, "ada", "admin")?;
    /// assert!(groups.is_empty(&wtxn)?);
    /// # Ok(()) }
    /// ```
    pub fn name(&mut self, name: &'n str) -> &mut Self {
        self.name = Some(name);
        self
    }

    /// The database's flags (`DUP_SORT`, ...).
    ///
    /// ```
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { hedge::EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// use hedge::types::Str;
    /// use hedge::{CommitOrAbort, DatabaseFlags};
    /// let db = env
    ///     .create_databases_and_commit(env.write_txn()?, |opener, wtxn| {
    ///         let mut options = opener.database_options().types::<Str, Str>();
    ///         options.name("multi").flags(DatabaseFlags::DUP_SORT);
    ///         options.create(wtxn).map(CommitOrAbort::<_, ()>::Commit)
    ///     })?
    ///     .unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// db.put(&mut wtxn, "k", "1")?;
    /// db.put(&mut wtxn, "k", "2")?;
    /// assert_eq!(db.len(&wtxn)?, 2);
    /// # Ok(()) }
    /// ```
    pub fn flags(&mut self, flags: DatabaseFlags) -> &mut Self {
        self.flags = flags;
        self
    }

    /// Opens the handle; returns it with the generation a `Database` of it must carry.
    fn init(&self, txn: &RawTxn, create: bool) -> Result<(ffi::MDB_dbi, u64)>
    where
        C: Comparator + 'static,
        CDUP: Comparator + 'static,
    {
        self.env.inner.check_opening(self.opening.serial)?;
        assert_eq!(
            self.opening.txn,
            txn_ident(txn),
            "databases must be opened with the transaction given to open_databases_and_commit / \
             create_databases_and_commit"
        );
        let mut flags = self.flags.bits();
        if create {
            flags |= ffi::MDB_CREATE;
        }
        if TypeId::of::<C>() == TypeId::of::<IntegerComparator>() {
            flags |= ffi::MDB_INTEGERKEY;
        }
        if TypeId::of::<CDUP>() == TypeId::of::<IntegerComparator>() {
            flags |= ffi::MDB_INTEGERDUP;
        }
        if flags & (ffi::MDB_DUPFIXED | ffi::MDB_INTEGERDUP | ffi::MDB_REVERSEDUP) != 0
            && flags & ffi::MDB_DUPSORT == 0
        {
            // LMDB accepts DUP_FIXED alone and then builds the main tree of fixed-size pages
            // with a key size of 0 (lost values, then an assertion).
            return Err(Error::Io(io::Error::new(
                io::ErrorKind::InvalidInput,
                "DUP_FIXED, INTEGER_DUP and REVERSE_DUP (or a duplicate comparator) describe duplicates: \
                 they need DUP_SORT",
            )));
        }
        let name = match self.name {
            Some(name) => Some(CString::new(name).map_err(|_| {
                Error::Io(io::Error::new(io::ErrorKind::InvalidInput, "a database name cannot contain NUL"))
            })?),
            None => None,
        };
        let (key, dup) = (ComparatorKind::of::<C>(), ComparatorKind::of::<CDUP>());
        let inner = &self.env.inner;
        // LMDB keeps named databases' records in the unnamed database, ordered by its
        // comparator, which is not stored: a custom one there and named databases do not mix
        // (a process that opens a named database first looks its name up in the default
        // order, misses it, and creates a second record).
        if self.name.is_none() && key.custom.is_some() && inner.has_named_databases() {
            return Err(mixing(format!(
                "the unnamed database cannot take the custom key comparator {} while named databases \
                 are open: their records are ordered by it",
                key.type_name
            )));
        }
        // Not a let chain: those need Rust 1.88, and the crate's rust-version is 1.87.
        let main_with_comparator =
            self.name.and_then(|_| inner.registered_database(&None)).filter(|main| main.key.custom.is_some());
        if let Some(main) = main_with_comparator {
            return Err(mixing(format!(
                "no named database beside an unnamed database with the custom key comparator {}: \
                 the named databases' records would be ordered by it",
                main.key.type_name
            )));
        }
        let registry_key = self.name.map(str::to_owned);
        let registered = inner.registered_database(&registry_key);
        if let Some(open) = registered {
            for (what, now, asked) in [("key", open.key, key), ("duplicate", open.dup, dup)] {
                if now != asked {
                    return Err(Error::Io(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        format!(
                            "database {}: already open with the {what} comparator {}, cannot be opened \
                             with {}: LMDB keeps one comparator per database for the whole env; \
                             open it with the same comparator types",
                            self.name.map_or("(unnamed)".into(), |n| format!("{n:?}")),
                            now.type_name,
                            asked.type_name
                        ),
                    )));
                }
            }
        }
        let dbi = match (&name, registered) {
            // LMDB's open of the unnamed database resets its comparators env-wide, under the
            // handles already in use: not again once it is open.
            (None, Some(open)) => {
                refuse_main_flags(txn, flags, true)?;
                open.dbi
            }
            (None, None) => {
                // A read txn cannot store new flags, though LMDB would order by them env-wide.
                refuse_main_flags(txn, flags, self.opening.read_only)?;
                txn.dbi_open(None, flags)?
            }
            (Some(name), _) => txn.dbi_open(Some(name), flags)?,
        };
        if registered.is_none() {
            if key.custom.is_some() {
                txn.set_comparator(dbi, compare_with::<C>, false)?;
            }
            if dup.custom.is_some() {
                txn.set_comparator(dbi, compare_with::<CDUP>, true)?;
            }
            let generation = inner.pending_database(registry_key, dbi, key, dup);
            return Ok((dbi, generation));
        }
        Ok((dbi, registered.map_or(0, |open| open.generation)))
    }

    /// Opens the database if it exists (`Ok(None)` if not).
    ///
    /// ```
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { hedge::EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// use hedge::types::Str;
    /// use hedge::{CommitOrAbort, Database};
    /// let opened: Option<Database<Str, Str>> = env
    ///     .open_databases_and_commit(env.read_txn()?, |opener, rtxn| {
    ///         let mut options = opener.database_options().types::<Str, Str>();
    ///         options.name("not-created-yet");
    ///         options.open(rtxn).map(CommitOrAbort::<_, ()>::Commit)
    ///     })?
    ///     .unwrap_commit();
    /// assert!(opened.is_none());
    /// # Ok(()) }
    /// ```
    pub fn open(&self, rtxn: &RoTxn<'_>) -> Result<Option<Database<'e, KC, DC, C, CDUP>>>
    where
        KC: 'static,
        DC: 'static,
        C: Comparator + 'static,
        CDUP: Comparator + 'static,
    {
        assert_same_env(self.env.ident(), rtxn);
        match self.init(rtxn.raw(), false) {
            Ok((dbi, generation)) => Ok(Some(Database::new(self.env.ident(), dbi, generation))),
            Err(Error::Mdb(e)) if e.not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Opens the database, creating it if needed.
    ///
    /// ```
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { hedge::EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// use hedge::types::Str;
    /// use hedge::CommitOrAbort;
    /// let db = env
    ///     .create_databases_and_commit(env.write_txn()?, |opener, wtxn| {
    ///         let mut options = opener.database_options().types::<Str, Str>();
    ///         options.name("created");
    ///         options.create(wtxn).map(CommitOrAbort::<_, ()>::Commit)
    ///     })?
    ///     .unwrap_commit();
    /// let rtxn = env.read_txn()?;
    /// assert!(db.is_empty(&rtxn)?);
    /// # Ok(()) }
    /// ```
    pub fn create(&self, wtxn: &mut RwTxn<'_>) -> Result<Database<'e, KC, DC, C, CDUP>>
    where
        KC: 'static,
        DC: 'static,
        C: Comparator + 'static,
        CDUP: Comparator + 'static,
    {
        assert_same_env(self.env.ident(), wtxn);
        let (dbi, generation) = self.init(wtxn.raw(), true)?;
        Ok(Database::new(self.env.ident(), dbi, generation))
    }
}

/// LMDB ORs the persistent flags asked for into the unnamed database's (it never refuses
/// them): turned on over existing keys, `INTEGER_KEY` would compare them out of bounds and
/// `DUP_SORT` would read plain values as duplicates. So new flags are taken only on an
/// empty unnamed database that no handle uses yet, in a write txn (`frozen`: it is open
/// already, or the txn is read-only and could not store them).
fn refuse_main_flags(txn: &RawTxn, flags: u32, frozen: bool) -> Result<()> {
    const PERSISTENT: u32 = ffi::MDB_REVERSEKEY
        | ffi::MDB_DUPSORT
        | ffi::MDB_INTEGERKEY
        | ffi::MDB_DUPFIXED
        | ffi::MDB_INTEGERDUP
        | ffi::MDB_REVERSEDUP;
    let now = txn.dbi_flags(MAIN_DBI)?;
    let asked = flags & PERSISTENT;
    if now | asked == now {
        return Ok(());
    }
    if frozen || txn.stat(MAIN_DBI)?.ms_entries != 0 {
        return Err(Error::Io(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "the unnamed database has flags {:?}; adding {:?} is only possible while it is empty, \
                 not yet open, and in create_databases_and_commit (a read txn cannot store them)",
                DatabaseFlags::from_bits_truncate(now),
                DatabaseFlags::from_bits_truncate(asked & !now)
            ),
        )));
    }
    Ok(())
}

fn mixing(what: String) -> Error {
    Error::Io(io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("{what}; use a named database for custom-ordered keys"),
    ))
}

/// LMDB's handle of the unnamed database.
const MAIN_DBI: ffi::MDB_dbi = 1;

/// Whether the unnamed database holds a named database's record. LMDB's API does not show
/// node flags; a record is a 48-byte value (an `MDB_db`) that LMDB refuses to overwrite as a
/// plain value (`MDB_INCOMPATIBLE`), so each value of that size is rewritten with itself
/// through the cursor (a no-op for a plain value).
fn holds_named_databases(txn: &mut RwTxn) -> Result<bool> {
    const DB_RECORD: usize = 48;
    if txn.raw().dbi_flags(MAIN_DBI)? & ffi::MDB_DUPSORT != 0 {
        return Ok(false); // LMDB refuses named databases beside a DUP_SORT unnamed one
    }
    let mut cursor = RawCursor::open(txn.raw(), MAIN_DBI)?;
    let mut op = ffi::MDB_FIRST;
    while let Some((key, data)) = cursor.get(op, None)? {
        op = ffi::MDB_NEXT;
        if data.len() != DB_RECORD {
            continue;
        }
        let (key, data) = (key.to_vec(), data.to_vec());
        // SAFETY: the txn is a write txn borrowed mutably; the slices read above were copied
        // and are not used after the write.
        match unsafe { cursor.put(&key, &data, ffi::MDB_CURRENT) } {
            Ok(_) => {}
            Err(crate::MdbError::Incompatible) => return Ok(true),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(false)
}

fn txn_ident(txn: &RawTxn) -> NonZeroUsize {
    NonZeroUsize::new(txn.as_ptr() as usize).expect("a txn pointer is never null")
}

/// Panics (with a message saying what is wrong) if `txn` is not of the env `env_ident`:
/// using one env's database with another env's transaction would read the wrong file.
#[inline]
#[track_caller]
fn assert_same_env<T>(env_ident: NonZeroUsize, txn: &RoTxn<'_, T>) {
    let txn_env = txn.env_inner().ident;
    if env_ident != txn_env {
        other_env(env_ident, txn_env)
    }
}

/// The panic of [`assert_same_env`], out of line: every read inlines the check, none the panic.
#[cold]
#[inline(never)]
#[track_caller]
fn other_env(database_env: NonZeroUsize, txn_env: NonZeroUsize) -> ! {
    panic!(
        "this database belongs to another environment than the transaction \
         (database's env {database_env:#x}, transaction's env {txn_env:#x})"
    )
}

/// Opens and creates databases inside [`Env::open_databases_and_commit`] and
/// [`Env::create_databases_and_commit`].
///
/// ```
/// # fn main() -> hedge::Result<()> {
/// # let dir = tempfile::tempdir()?;
/// # let env = unsafe { hedge::EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
/// use hedge::types::{Bytes, Str};
/// use hedge::{CommitOrAbort, Database};
/// // Open what exists, abort (and say so) if something is missing.
/// let opened = env.open_databases_and_commit(env.read_txn()?, |opener, rtxn| {
///     let main: Option<Database<Str, Bytes>> = opener.open_database(rtxn, None)?;
///     let named: Option<Database<Str, Bytes>> = opener.open_database(rtxn, Some("absent"))?;
///     Ok::<_, hedge::Error>(match (main, named) {
///         (Some(main), Some(named)) => CommitOrAbort::Commit((main, named)),
///         _ => CommitOrAbort::Abort("a database is missing"),
///     })
/// })?;
/// assert_eq!(opened.abort(), Some("a database is missing"));
/// # Ok(()) }
/// ```
pub struct DatabaseOpener<'e, T> {
    env: &'e Env<T>,
    opening: OpeningId,
}

/// Which opening (`open_databases_and_commit` / `create_databases_and_commit` call) an opener
/// and its options belong to: they work only inside it, with its transaction.
#[derive(Clone, Copy)]
struct OpeningId {
    /// `EnvInner::begin_opening`'s serial, never reused.
    serial: u64,
    txn: NonZeroUsize,
    read_only: bool,
}

impl<'e, T> DatabaseOpener<'e, T> {
    /// Options for opening or creating one database.
    ///
    /// ```
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { hedge::EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// use hedge::types::{Str, U8};
    /// use hedge::CommitOrAbort;
    /// let db = env
    ///     .create_databases_and_commit(env.write_txn()?, |opener, wtxn| {
    ///         let mut options = opener.database_options().types::<Str, U8>();
    ///         options.name("levels");
    ///         options.create(wtxn).map(CommitOrAbort::<_, ()>::Commit)
    ///     })?
    ///     .unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// db.put(&mut wtxn, "ada", &9)?;
    /// # Ok(()) }
    /// ```
    pub fn database_options(&self) -> DatabaseOpenOptions<'e, 'static, T, Unspecified, Unspecified> {
        DatabaseOpenOptions {
            env: self.env,
            opening: self.opening,
            name: None,
            flags: DatabaseFlags::empty(),
            types: PhantomData,
        }
    }

    /// Opens a database if it exists, with default comparators.
    ///
    /// ```
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { hedge::EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// use hedge::types::{Bytes, Str};
    /// use hedge::{CommitOrAbort, Database};
    /// let main: Option<Database<Str, Bytes>> = env
    ///     .open_databases_and_commit(env.read_txn()?, |opener, rtxn| {
    ///         opener.open_database(rtxn, None).map(CommitOrAbort::<_, ()>::Commit)
    ///     })?
    ///     .unwrap_commit();
    /// assert!(main.is_some(), "the unnamed database always exists");
    /// # Ok(()) }
    /// ```
    pub fn open_database<KC: 'static, DC: 'static>(
        &self,
        rtxn: &RoTxn<'e>,
        name: Option<&str>,
    ) -> Result<Option<Database<'e, KC, DC>>> {
        let mut options = self.database_options().types::<KC, DC>();
        if let Some(name) = name {
            options.name(name);
        }
        options.open(rtxn)
    }

    /// Opens a database, creating it if needed, with default comparators.
    ///
    /// ```
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { hedge::EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// use hedge::types::{Bytes, Str};
    /// use hedge::{CommitOrAbort, Database};
    /// let blobs: Database<Str, Bytes> = env
    ///     .create_databases_and_commit(env.write_txn()?, |opener, wtxn| {
    ///         opener.create_database(wtxn, Some("blobs")).map(CommitOrAbort::<_, ()>::Commit)
    ///     })?
    ///     .unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// blobs.put(&mut wtxn, "empty", &[])?;
    /// # Ok(()) }
    /// ```
    pub fn create_database<KC: 'static, DC: 'static>(
        &self,
        wtxn: &mut RwTxn<'e>,
        name: Option<&str>,
    ) -> Result<Database<'e, KC, DC>> {
        let mut options = self.database_options().types::<KC, DC>();
        if let Some(name) = name {
            options.name(name);
        }
        options.create(wtxn)
    }
}

impl<T> Env<T> {
    /// Opens databases with a read transaction and commits it, which makes the handles
    /// usable for the life of the env. `f` decides: commit (and return the handles) or abort.
    ///
    /// ```
    /// use hedge::types::{Str, U32};
    /// use hedge::{byteorder::BigEndian, CommitOrAbort, Database};
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// let env = unsafe { hedge::EnvOpenOptions::new().max_dbs(2).open(dir.path())? };
    /// let wtxn = env.write_txn()?;
    /// let _: Database<Str, U32<BigEndian>> = env
    ///     .create_databases_and_commit(wtxn, |opener, wtxn| {
    ///         opener.create_database(wtxn, Some("ages")).map(CommitOrAbort::<_, ()>::Commit)
    ///     })?
    ///     .unwrap_commit();
    /// let rtxn = env.read_txn()?;
    /// let ages: Option<Database<Str, U32<BigEndian>>> = env
    ///     .open_databases_and_commit(rtxn, |opener, rtxn| {
    ///         opener.open_database(rtxn, Some("ages")).map(CommitOrAbort::<_, ()>::Commit)
    ///     })?
    ///     .unwrap_commit();
    /// assert!(ages.is_some());
    /// # Ok(()) }
    /// ```
    pub fn open_databases_and_commit<'e, 'a: 'e, F, D, A, E>(
        &'a self,
        rtxn: RoTxn<'e, T>,
        f: F,
    ) -> std::result::Result<CommitOrAbort<D::Committed, A>, E>
    where
        F: FnOnce(&DatabaseOpener<'e, T>, &RoTxn<'e, T>) -> std::result::Result<CommitOrAbort<D, A>, E>,
        D: OnCommit,
        E: From<Error>,
    {
        self.inner.check_txn_generation(rtxn.opened_at())?;
        if rtxn.is_nested() {
            return Err(Error::Io(io::Error::new(
                io::ErrorKind::InvalidInput,
                "databases cannot be opened in a nested read transaction (its siblings read the \
                 env's database table meanwhile): open them with Env::read_txn or Env::write_txn",
            ))
            .into());
        }
        let opening = self.inner.begin_opening()?;
        let opener = DatabaseOpener {
            env: self,
            opening: OpeningId { serial: opening.serial(), txn: txn_ident(rtxn.raw()), read_only: true },
        };
        match f(&opener, &rtxn)? {
            CommitOrAbort::Commit(databases) => {
                rtxn.commit()?;
                opening.committed();
                Ok(CommitOrAbort::Commit(databases.on_commit(&CommitToken::new(self.ident()))))
            }
            CommitOrAbort::Abort(aborted) => Ok(CommitOrAbort::Abort(aborted)),
        }
    }

    /// Creates (or opens) databases with a write transaction and commits it; see
    /// [`open_databases_and_commit`](Self::open_databases_and_commit).
    ///
    /// ```
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { hedge::EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// use hedge::types::{Str, U32};
    /// use hedge::{byteorder::BigEndian, CommitOrAbort};
    /// let (names, ages) = env
    ///     .create_databases_and_commit(env.write_txn()?, |opener, wtxn| {
    ///         let names = opener.create_database::<U32<BigEndian>, Str>(wtxn, Some("names"))?;
    ///         let ages = opener.create_database::<Str, U32<BigEndian>>(wtxn, Some("ages"))?;
    ///         Ok::<_, hedge::Error>(CommitOrAbort::<_, ()>::Commit((names, ages)))
    ///     })?
    ///     .unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// names.put(&mut wtxn, &1, "ada")?;
    /// ages.put(&mut wtxn, "ada", &36)?;
    /// wtxn.commit()?;
    /// # Ok(()) }
    /// ```
    pub fn create_databases_and_commit<'e, 'a: 'e, F, D, A, E>(
        &'a self,
        mut wtxn: RwTxn<'e>,
        f: F,
    ) -> std::result::Result<CommitOrAbort<D::Committed, A>, E>
    where
        F: FnOnce(&DatabaseOpener<'e, T>, &mut RwTxn<'e>) -> std::result::Result<CommitOrAbort<D, A>, E>,
        D: OnCommit,
        E: From<Error>,
    {
        self.inner.check_txn_generation(wtxn.opened_at())?;
        if wtxn.is_nested() {
            return Err(Error::Io(io::Error::new(
                io::ErrorKind::InvalidInput,
                "databases cannot be created in a nested write transaction (its parent may still \
                 abort them after they are handed out): use a top-level one",
            ))
            .into());
        }
        let opening = self.inner.begin_opening()?;
        let opener = DatabaseOpener {
            env: self,
            opening: OpeningId { serial: opening.serial(), txn: txn_ident(wtxn.raw()), read_only: false },
        };
        let result = f(&opener, &mut wtxn)?;
        // The closure has `&mut` to the txn: it could have swapped another one in.
        if txn_ident(wtxn.raw()) != opener.opening.txn || wtxn.env_inner().ident != self.ident() {
            return Err(Error::Io(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the closure of create_databases_and_commit replaced its transaction: the databases \
                 opened in the first one are not committed",
            ))
            .into());
        }
        match result {
            CommitOrAbort::Commit(databases) => {
                wtxn.commit()?;
                opening.committed();
                Ok(CommitOrAbort::Commit(databases.on_commit(&CommitToken::new(self.ident()))))
            }
            CommitOrAbort::Abort(aborted) => Ok(CommitOrAbort::Abort(aborted)),
        }
    }
}

/// A typed database: keys encoded and decoded by `KC`, values by `DC`, ordered by `C`
/// (and duplicates by `CDUP`). `Copy`: a handle, valid for the life of its env.
///
/// ```
/// # use hedge::types::*; use hedge::*;
/// # fn main() -> hedge::Result<()> {
/// # let dir = tempfile::tempdir()?;
/// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
/// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
/// let mut wtxn = env.write_txn()?;
/// db.put(&mut wtxn, "hello", "world")?;
/// wtxn.commit()?;
/// let rtxn = env.read_txn()?;
/// assert_eq!(db.get(&rtxn, "hello")?, Some("world"));
/// # Ok(()) }
/// ```
pub struct Database<'t, KC, DC, C = DefaultComparator, CDUP = DefaultComparator> {
    env_ident: NonZeroUsize,
    dbi: ffi::MDB_dbi,
    /// Which opening of the handle this is: a handle of an opening that did not commit, or of
    /// a database deleted since, is refused (`MdbError::BadDbi`) instead of reaching whatever
    /// database LMDB put in its slot later.
    generation: u64,
    marker: PhantomData<(&'t (), KC, DC, C, CDUP)>,
}

impl<KC, DC, C, CDUP> Clone for Database<'_, KC, DC, C, CDUP> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<KC, DC, C, CDUP> Copy for Database<'_, KC, DC, C, CDUP> {}

impl<KC, DC, C, CDUP> fmt::Debug for Database<'_, KC, DC, C, CDUP> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Database")
            .field("dbi", &self.dbi)
            .field("key_codec", &std::any::type_name::<KC>())
            .field("data_codec", &std::any::type_name::<DC>())
            .finish()
    }
}

impl<'t, KC, DC, C, CDUP> OnCommit for Database<'t, KC, DC, C, CDUP> {
    type Committed = Database<'static, KC, DC, C, CDUP>;

    fn on_commit(self, token: &CommitToken) -> Self::Committed {
        assert_eq!(token.env_ident(), self.env_ident, "the commit token comes from another environment");
        Database {
            env_ident: self.env_ident,
            dbi: self.dbi,
            generation: self.generation,
            marker: PhantomData,
        }
    }
}

pub(crate) fn encode<'a, X: BytesEncode<'a>>(item: &'a X::EItem) -> Result<Cow<'a, [u8]>> {
    X::bytes_encode(item).map_err(Error::Encoding)
}

pub(crate) fn decode<'a, X: BytesDecode<'a>>(bytes: &'a [u8]) -> Result<X::DItem> {
    X::bytes_decode(bytes).map_err(Error::Decoding)
}

impl<'t, KC, DC, C, CDUP> Database<'t, KC, DC, C, CDUP> {
    fn new(env_ident: NonZeroUsize, dbi: ffi::MDB_dbi, generation: u64) -> Self {
        Database { env_ident, dbi, generation, marker: PhantomData }
    }

    /// Panics (as heed does) if `txn` is of another env; fails with `MdbError::BadDbi` if the
    /// handle is stale.
    #[inline]
    #[track_caller]
    pub(crate) fn check<T>(&self, txn: &RoTxn<'_, T>) -> Result<()> {
        assert_same_env(self.env_ident, txn);
        if txn.env_inner().is_current_database(self.dbi, self.generation) {
            Ok(())
        } else {
            Err(Error::Mdb(crate::MdbError::BadDbi))
        }
    }

    pub(crate) fn dbi(&self) -> ffi::MDB_dbi {
        self.dbi
    }

    /// The value of `key`, decoded; `None` if absent. The value may borrow from the
    /// transaction, so it cannot outlive it nor be held across a write.
    ///
    /// ```
    /// # use hedge::types::*; use hedge::*;
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// db.put(&mut wtxn, "k", "v")?;
    /// assert_eq!(db.get(&wtxn, "k")?, Some("v"));
    /// assert_eq!(db.get(&wtxn, "missing")?, None);
    /// # Ok(()) }
    /// ```
    pub fn get<'a, 'txn>(&self, txn: &'txn RoTxn, key: &'a KC::EItem) -> Result<Option<DC::DItem>>
    where
        KC: BytesEncode<'a>,
        DC: BytesDecode<'txn>,
    {
        self.check(txn)?;
        let key = encode::<KC>(key)?;
        match txn.raw().get(self.dbi, &key)? {
            Some(bytes) => decode::<DC>(bytes).map(Some),
            None => Ok(None),
        }
    }

    /// Stores `data` under `key`, replacing a previous value (or adding a duplicate in a
    /// `DUP_SORT` database).
    ///
    /// ```
    /// # use hedge::types::*; use hedge::*;
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// db.put(&mut wtxn, "k", "old")?;
    /// db.put(&mut wtxn, "k", "new")?;
    /// assert_eq!(db.get(&wtxn, "k")?, Some("new"));
    /// # Ok(()) }
    /// ```
    pub fn put<'a>(&self, txn: &mut RwTxn, key: &'a KC::EItem, data: &'a DC::EItem) -> Result<()>
    where
        KC: BytesEncode<'a>,
        DC: BytesEncode<'a>,
    {
        self.put_with_flags(txn, PutFlags::empty(), key, data)
    }

    /// [`put`](Self::put) with LMDB's put flags (`NO_OVERWRITE` → `MdbError::KeyExist` if
    /// the key exists; `APPEND` → `KeyExist` if the key is not the largest; ...).
    ///
    /// ```
    /// # use hedge::types::*; use hedge::*;
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// db.put_with_flags(&mut wtxn, PutFlags::NO_OVERWRITE, "k", "first")?;
    /// let again = db.put_with_flags(&mut wtxn, PutFlags::NO_OVERWRITE, "k", "second");
    /// assert!(matches!(again, Err(Error::Mdb(MdbError::KeyExist))));
    /// // APPEND: keys given in order are added at the end without a search.
    /// db.put_with_flags(&mut wtxn, PutFlags::APPEND, "z", "last")?;
    /// # Ok(()) }
    /// ```
    pub fn put_with_flags<'a>(
        &self,
        txn: &mut RwTxn,
        flags: PutFlags,
        key: &'a KC::EItem,
        data: &'a DC::EItem,
    ) -> Result<()>
    where
        KC: BytesEncode<'a>,
        DC: BytesEncode<'a>,
    {
        self.check(txn)?;
        let key = encode::<KC>(key)?;
        let data = encode::<DC>(data)?;
        let flags = flags.checked_bits()?;
        // SAFETY: `txn` is borrowed mutably, so no value read through it is alive.
        Ok(unsafe { txn.raw().put(self.dbi, &key, &data, flags) }?)
    }

    /// Reserves `data_size` bytes for `key`'s value and lets `write_func` fill them in place
    /// (`MDB_RESERVE`: no intermediate buffer, no copy).
    ///
    /// If `write_func` fails, or returns `Ok` having written fewer than `data_size` bytes,
    /// the unwritten rest is zeroed and an error is returned (`Error::Io`: the closure's
    /// own error, or `InvalidData` saying how much was written): a value is never left with
    /// bytes that nobody wrote. The entry then holds the partial value; abort the
    /// transaction to keep the previous one.
    ///
    /// In a `DUP_SORT` database this is `Error::Mdb(MdbError::Incompatible)`: LMDB sorts
    /// duplicates by their bytes, which a reserved write fills in only after the put (heed
    /// passes the flag on and the database's order silently breaks).
    ///
    /// ```
    /// use std::io::Write;
    /// use hedge::types::{Bytes, Str};
    /// use hedge::{CommitOrAbort, Database};
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { hedge::EnvOpenOptions::new().open(dir.path())? };
    /// # let wtxn = env.write_txn()?;
    /// # let db: Database<Str, Bytes> = env.create_databases_and_commit(wtxn, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// let vector: Vec<f32> = (0..768).map(|i| i as f32).collect();
    /// db.put_reserved(&mut wtxn, "v", vector.len() * 4, |space| {
    ///     for x in &vector {
    ///         space.write_all(&x.to_le_bytes())?;
    ///     }
    ///     Ok(())
    /// })?;
    /// assert_eq!(db.get(&wtxn, "v")?.map(<[u8]>::len), Some(3072));
    /// // Writing short is an error, and the rest reads as zeros.
    /// let err = db.put_reserved(&mut wtxn, "w", 8, |space| space.write_all(&[1, 2, 3]));
    /// assert!(err.is_err());
    /// assert_eq!(db.get(&wtxn, "w")?, Some(&[1, 2, 3, 0, 0, 0, 0, 0][..]));
    /// # Ok(()) }
    /// ```
    pub fn put_reserved<'a, F>(
        &self,
        txn: &mut RwTxn,
        key: &'a KC::EItem,
        data_size: usize,
        write_func: F,
    ) -> Result<()>
    where
        KC: BytesEncode<'a>,
        F: FnOnce(&mut ReservedSpace) -> std::io::Result<()>,
    {
        self.check(txn)?;
        let key = encode::<KC>(key)?;
        // SAFETY: `txn` is borrowed mutably, so no value read through it is alive, and it
        // stays borrowed while the closure fills the space (no other write can move it).
        let start = unsafe { txn.raw().reserve(self.dbi, &key, data_size, 0) }?;
        // SAFETY: LMDB reserved `data_size` writable bytes at `start`, valid until the next
        // write in this txn, which cannot happen before `space` is dropped below.
        let mut space = unsafe { ReservedSpace::new(start, data_size) };
        let result = write_func(&mut space);
        crate::reserved::finish(&mut space, result)
    }

    /// The values of `key`, in a `DUP_SORT` database all its duplicates (in any database, its
    /// value); `None` if the key is absent.
    ///
    /// ```
    /// # use hedge::types::*; use hedge::*;
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| { let mut d = o.database_options().types::<Str, Str>(); d.flags(DatabaseFlags::DUP_SORT); d.create(w).map(CommitOrAbort::<_, ()>::Commit) })?.unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// for v in ["b", "a", "c"] {
    ///     db.put(&mut wtxn, "k", v)?;
    /// }
    /// db.put(&mut wtxn, "other", "x")?;
    /// let values: Vec<&str> = db.get_duplicates(&wtxn, "k")?.unwrap().map(|e| e.map(|(_, v)| v)).collect::<hedge::Result<_>>()?;
    /// assert_eq!(values, ["a", "b", "c"]);
    /// assert!(db.get_duplicates(&wtxn, "missing")?.is_none());
    /// # Ok(()) }
    /// ```
    pub fn get_duplicates<'a, 'txn>(
        &self,
        txn: &'txn RoTxn,
        key: &'a KC::EItem,
    ) -> Result<Option<RoIter<'txn, KC, DC, MoveOnCurrentKeyDuplicates>>>
    where
        KC: BytesEncode<'a>,
    {
        self.check(txn)?;
        let key = encode::<KC>(key)?;
        // LMDB's MDB_NEXT_DUP moves to the next key in a database without duplicates.
        let single = txn.raw().dbi_flags(self.dbi)? & ffi::MDB_DUPSORT == 0;
        let mut cursor = RawCursor::open(txn.raw(), self.dbi)?;
        Ok(cursor.get(ffi::MDB_SET, Some(&key))?.map(|_| RoIter::from_current(cursor, single)))
    }

    /// How many values `key` has: its duplicates in a `DUP_SORT` database, 1 otherwise, 0 if
    /// the key is absent (LMDB's `mdb_cursor_count`; beyond heed's API).
    ///
    /// ```
    /// use hedge::types::Str;
    /// use hedge::{CommitOrAbort, Database, DatabaseFlags};
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// let env = unsafe { hedge::EnvOpenOptions::new().max_dbs(1).open(dir.path())? };
    /// let wtxn = env.write_txn()?;
    /// let tags: Database<Str, Str> = env
    ///     .create_databases_and_commit(wtxn, |o, wtxn| {
    ///         let mut options = o.database_options().types::<Str, Str>();
    ///         options.name("tags").flags(DatabaseFlags::DUP_SORT);
    ///         options.create(wtxn).map(CommitOrAbort::<_, ()>::Commit)
    ///     })?
    ///     .unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// for tag in ["red", "round", "ripe"] {
    ///     tags.put(&mut wtxn, "apple", tag)?;
    /// }
    /// assert_eq!(tags.count_duplicates(&wtxn, "apple")?, 3);
    /// assert_eq!(tags.count_duplicates(&wtxn, "pear")?, 0);
    /// # Ok(()) }
    /// ```
    pub fn count_duplicates<'a>(&self, txn: &RoTxn, key: &'a KC::EItem) -> Result<usize>
    where
        KC: BytesEncode<'a>,
    {
        self.check(txn)?;
        let key = encode::<KC>(key)?;
        let mut cursor = RawCursor::open(txn.raw(), self.dbi)?;
        match cursor.get(ffi::MDB_SET, Some(&key))? {
            Some(_) => Ok(cursor.count()?),
            None => Ok(0),
        }
    }

    /// Stores `data` under `key` unless the key exists; returns `None` if it stored it, else
    /// the existing value (not replaced).
    ///
    /// Unlike heed 0.23, the returned value borrows the transaction, so it cannot be held
    /// across the next write (which could move the page it points into).
    ///
    /// ```
    /// # use hedge::types::*; use hedge::*;
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// assert_eq!(db.get_or_put(&mut wtxn, "k", "first")?, None);
    /// assert_eq!(db.get_or_put(&mut wtxn, "k", "second")?, Some("first"));
    /// # Ok(()) }
    /// ```
    pub fn get_or_put<'a, 'txn>(
        &self,
        txn: &'txn mut RwTxn,
        key: &'a KC::EItem,
        data: &'a DC::EItem,
    ) -> Result<Option<DC::DItem>>
    where
        KC: BytesEncode<'a>,
        DC: BytesEncode<'a> + BytesDecode<'txn>,
    {
        self.get_or_put_with_flags(txn, PutFlags::empty(), key, data)
    }

    /// [`get_or_put`](Self::get_or_put) with put flags.
    ///
    /// ```
    /// # use hedge::types::*; use hedge::*;
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// assert_eq!(db.get_or_put_with_flags(&mut wtxn, PutFlags::empty(), "k", "v")?, None);
    /// assert_eq!(db.get_or_put_with_flags(&mut wtxn, PutFlags::empty(), "k", "w")?, Some("v"));
    /// # Ok(()) }
    /// ```
    pub fn get_or_put_with_flags<'a, 'txn>(
        &self,
        txn: &'txn mut RwTxn,
        flags: PutFlags,
        key: &'a KC::EItem,
        data: &'a DC::EItem,
    ) -> Result<Option<DC::DItem>>
    where
        KC: BytesEncode<'a>,
        DC: BytesEncode<'a> + BytesDecode<'txn>,
    {
        self.check(txn)?;
        let key = encode::<KC>(key)?;
        let data = encode::<DC>(data)?;
        let txn: &'txn RwTxn = txn;
        let flags = flags.checked_bits()?;
        // SAFETY: `txn` was borrowed mutably for 'txn, so no value read through it is alive,
        // and the existing value returned stays borrowed with it.
        match unsafe { txn.raw().put_or_existing(self.dbi, &key, &data, flags) }? {
            None => Ok(None),
            Some(existing) => decode::<DC>(existing).map(Some),
        }
    }

    /// Reserves `data_size` bytes for `key` and lets `write_func` fill them, unless the key
    /// exists: then returns its value (not replaced) and does not call `write_func`. The
    /// reserved write follows [`put_reserved`](Self::put_reserved)'s rule; the returned value
    /// borrows the transaction, as in [`get_or_put`](Self::get_or_put).
    ///
    /// ```
    /// # use hedge::types::*; use hedge::*;
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
    /// use std::io::Write;
    /// let mut wtxn = env.write_txn()?;
    /// let existing = db.get_or_put_reserved(&mut wtxn, "k", 5, |space| space.write_all(b"fresh"))?;
    /// assert_eq!(existing, None);
    /// let existing = db.get_or_put_reserved(&mut wtxn, "k", 5, |_| unreachable!("not called"))?;
    /// assert_eq!(existing, Some("fresh"));
    /// # Ok(()) }
    /// ```
    pub fn get_or_put_reserved<'a, 'txn, F>(
        &self,
        txn: &'txn mut RwTxn,
        key: &'a KC::EItem,
        data_size: usize,
        write_func: F,
    ) -> Result<Option<DC::DItem>>
    where
        KC: BytesEncode<'a>,
        F: FnOnce(&mut ReservedSpace) -> io::Result<()>,
        DC: BytesDecode<'txn>,
    {
        self.get_or_put_reserved_with_flags(txn, PutFlags::empty(), key, data_size, write_func)
    }

    /// [`get_or_put_reserved`](Self::get_or_put_reserved) with put flags.
    ///
    /// ```
    /// # use hedge::types::*; use hedge::*;
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
    /// use std::io::Write;
    /// let mut wtxn = env.write_txn()?;
    /// let existing = db.get_or_put_reserved_with_flags(&mut wtxn, PutFlags::empty(), "k", 2, |s| s.write_all(b"hi"))?;
    /// assert_eq!(existing, None);
    /// assert_eq!(db.get(&wtxn, "k")?, Some("hi"));
    /// # Ok(()) }
    /// ```
    pub fn get_or_put_reserved_with_flags<'a, 'txn, F>(
        &self,
        txn: &'txn mut RwTxn,
        flags: PutFlags,
        key: &'a KC::EItem,
        data_size: usize,
        write_func: F,
    ) -> Result<Option<DC::DItem>>
    where
        KC: BytesEncode<'a>,
        F: FnOnce(&mut ReservedSpace) -> io::Result<()>,
        DC: BytesDecode<'txn>,
    {
        self.check(txn)?;
        let key = encode::<KC>(key)?;
        let txn: &'txn RwTxn = txn;
        let flags = flags.checked_bits()?;
        // SAFETY: `txn` was borrowed mutably for 'txn, so no value read through it is alive.
        match unsafe { txn.raw().reserve_or_existing(self.dbi, &key, data_size, flags) }? {
            Err(existing) => decode::<DC>(existing).map(Some),
            Ok(start) => {
                // SAFETY: LMDB reserved `data_size` writable bytes, valid until the next write
                // in the txn, which cannot happen while `space` lives.
                let mut space = unsafe { ReservedSpace::new(start, data_size) };
                let result = write_func(&mut space);
                crate::reserved::finish(&mut space, result).map(|()| None)
            }
        }
    }

    /// Deletes one `key`/`data` pair of a `DUP_SORT` database (in any database: the entry, if
    /// its value is `data`); `false` if there was none.
    ///
    /// ```
    /// # use hedge::types::*; use hedge::*;
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| { let mut d = o.database_options().types::<Str, Str>(); d.flags(DatabaseFlags::DUP_SORT); d.create(w).map(CommitOrAbort::<_, ()>::Commit) })?.unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// db.put(&mut wtxn, "k", "a")?;
    /// db.put(&mut wtxn, "k", "b")?;
    /// assert!(db.delete_one_duplicate(&mut wtxn, "k", "a")?);
    /// assert!(!db.delete_one_duplicate(&mut wtxn, "k", "a")?);
    /// assert_eq!(db.get(&wtxn, "k")?, Some("b"));
    /// # Ok(()) }
    /// ```
    pub fn delete_one_duplicate<'a>(
        &self,
        txn: &mut RwTxn,
        key: &'a KC::EItem,
        data: &'a DC::EItem,
    ) -> Result<bool>
    where
        KC: BytesEncode<'a>,
        DC: BytesEncode<'a>,
    {
        self.check(txn)?;
        let key = encode::<KC>(key)?;
        let data = encode::<DC>(data)?;
        let flags = txn.raw().dbi_flags(self.dbi)?;
        let dup_sort = flags & ffi::MDB_DUPSORT != 0;
        // Without DUP_SORT LMDB ignores the value and deletes the key whatever it holds.
        if !dup_sort && txn.raw().get(self.dbi, &key)?.is_none_or(|stored| stored != &data[..]) {
            return Ok(false);
        }
        // An empty value can only be a key's lone value (LMDB refuses it beside others), and
        // LMDB refuses to look one up among several (MDB_BAD_VALSIZE): it is not there. (With
        // DUP_FIXED or INTEGER_DUP no value is empty: the size rules answer below.)
        if dup_sort && data.is_empty() && flags & (ffi::MDB_DUPFIXED | ffi::MDB_INTEGERDUP) == 0 {
            let mut cursor = RawCursor::open(txn.raw(), self.dbi)?;
            if cursor.get(ffi::MDB_SET, Some(&key))?.is_none() || cursor.count()? > 1 {
                return Ok(false);
            }
        }
        // SAFETY: `txn` is borrowed mutably, so no value read through it is alive (the value
        // compared above is not used after this point).
        Ok(unsafe { txn.raw().del(self.dbi, &key, Some(&data)) }?)
    }

    /// Deletes every entry whose key is in `range`; returns how many were deleted.
    ///
    /// ```
    /// # use hedge::types::*; use hedge::*;
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// for key in ["a", "b", "c", "d"] {
    ///     db.put(&mut wtxn, key, key)?;
    /// }
    /// use std::ops::Bound;
    /// assert_eq!(db.delete_range(&mut wtxn, &(Bound::Included("b"), Bound::Included("c")))?, 2);
    /// assert_eq!(db.len(&wtxn)?, 2);
    /// # Ok(()) }
    /// ```
    pub fn delete_range<'a, 'txn, R>(&self, txn: &'txn mut RwTxn, range: &'a R) -> Result<usize>
    where
        KC: BytesEncode<'a>,
        C: Comparator,
        R: RangeBounds<KC::EItem>,
    {
        let mut engine = self.engine(txn, range, true)?;
        // SAFETY: `txn` is borrowed mutably for the whole call, so no value read through it
        // is alive.
        Ok(unsafe { engine.delete_all::<RangeOrder<C>>() }?)
    }

    /// Deletes the database from the environment.
    ///
    /// # Safety
    /// No other handle of this database (a copy of it) may be used afterwards.
    ///
    /// ```
    /// # use hedge::types::*; use hedge::*;
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// db.put(&mut wtxn, "k", "v")?;
    /// // SAFETY: no other handle of this database is used afterwards.
    /// unsafe { db.remove(&mut wtxn)? };
    /// wtxn.commit()?;
    /// # Ok(()) }
    /// ```
    pub unsafe fn remove(self, txn: &mut RwTxn) -> Result<()> {
        self.check(txn)?;
        // SAFETY: `txn` is borrowed mutably; the caller guarantees the handle is not reused.
        unsafe { txn.raw().drop_db(self.dbi, true) }?;
        // LMDB closed the handle env-wide: its slot (and comparators) may go to another name.
        txn.env_inner().forget_database(self.dbi);
        Ok(())
    }

    /// Writes `len` [`Pod`](bytemuck::Pod) elements (an embedding) for `key` in place: the
    /// values `elements` yields go straight into LMDB's reserved space, with no buffer and
    /// no copy of the whole value (beyond heed's API). Fewer than `len` elements is an error
    /// and the rest is zeroed, as in [`put_reserved`](Self::put_reserved).
    ///
    /// ```
    /// use hedge::codec::PodSlice;
    /// use hedge::types::Str;
    /// use hedge::{CommitOrAbort, Database};
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { hedge::EnvOpenOptions::new().open(dir.path())? };
    /// # let wtxn = env.write_txn()?;
    /// let db: Database<Str, PodSlice<f32>> = env
    ///     .create_databases_and_commit(wtxn, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?
    ///     .unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// // A producer: f64 features, normalised, written as f32 directly into the page.
    /// let raw: Vec<f64> = (0..1536).map(|i| (i as f64).sin()).collect();
    /// let norm = raw.iter().map(|x| x * x).sum::<f64>().sqrt();
    /// db.put_reserved_elements(&mut wtxn, "doc-1", raw.len(), raw.iter().map(|x| (x / norm) as f32))?;
    /// assert_eq!(db.get(&wtxn, "doc-1")?.unwrap().len(), 1536);
    /// # Ok(()) }
    /// ```
    pub fn put_reserved_elements<'a, T, I>(
        &self,
        txn: &mut RwTxn,
        key: &'a KC::EItem,
        len: usize,
        elements: I,
    ) -> Result<()>
    where
        KC: BytesEncode<'a>,
        T: bytemuck::Pod,
        I: IntoIterator<Item = T>,
    {
        let bytes = crate::codec::byte_len::<T>(len)?;
        self.put_reserved(txn, key, bytes, |space| {
            use std::io::Write;
            for element in elements.into_iter().take(len) {
                space.write_all(bytemuck::bytes_of(&element))?;
            }
            Ok(())
        })
    }

    /// Deletes `key` (all its duplicates in a `DUP_SORT` database); `false` if it was absent.
    ///
    /// ```
    /// # use hedge::types::*; use hedge::*;
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// db.put(&mut wtxn, "k", "v")?;
    /// assert!(db.delete(&mut wtxn, "k")?);
    /// assert!(!db.delete(&mut wtxn, "k")?);
    /// # Ok(()) }
    /// ```
    pub fn delete<'a>(&self, txn: &mut RwTxn, key: &'a KC::EItem) -> Result<bool>
    where
        KC: BytesEncode<'a>,
    {
        self.check(txn)?;
        let key = encode::<KC>(key)?;
        // SAFETY: `txn` is borrowed mutably, so no value read through it is alive.
        Ok(unsafe { txn.raw().del(self.dbi, &key, None) }?)
    }

    /// Removes every entry.
    ///
    /// ```
    /// # use hedge::types::*; use hedge::*;
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// db.put(&mut wtxn, "k", "v")?;
    /// db.clear(&mut wtxn)?;
    /// assert!(db.is_empty(&wtxn)?);
    /// # Ok(()) }
    /// ```
    pub fn clear(&self, txn: &mut RwTxn) -> Result<()> {
        self.check(txn)?;
        if self.dbi == MAIN_DBI && holds_named_databases(txn)? {
            return Err(Error::Io(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the unnamed database holds the records of named databases: emptying it would drop \
                 them without freeing their pages (LMDB's mdb_drop). Delete its own keys instead, or \
                 use a named database",
            )));
        }
        // SAFETY: `txn` is borrowed mutably; the database itself stays (no delete).
        Ok(unsafe { txn.raw().drop_db(self.dbi, false) }?)
    }

    /// Statistics of the database as this transaction sees it.
    ///
    /// ```
    /// # use hedge::types::*; use hedge::*;
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// db.put(&mut wtxn, "k", "v")?;
    /// assert_eq!(db.stat(&wtxn)?.entries, 1);
    /// # Ok(()) }
    /// ```
    pub fn stat(&self, txn: &RoTxn) -> Result<DatabaseStat> {
        self.check(txn)?;
        Ok(txn.raw().stat(self.dbi)?.into())
    }

    /// The flags the database was created with, as stored in the environment (a database
    /// opened without giving its flags has them all the same).
    ///
    /// ```
    /// # use hedge::types::*; use hedge::*;
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// let wtxn = env.write_txn()?;
    /// env.create_databases_and_commit(wtxn, |o, w| {
    ///     let mut options = o.database_options().types::<Str, Str>();
    ///     options.name("tags").flags(DatabaseFlags::DUP_SORT);
    ///     options.create(w).map(CommitOrAbort::<_, ()>::Commit)
    /// })?;
    /// // Opened by name only: LMDB reads the flags from the file.
    /// let rtxn = env.read_txn()?;
    /// let tags: Database<Bytes, Bytes> = env
    ///     .open_databases_and_commit(rtxn, |o, r| o.open_database(r, Some("tags")).map(CommitOrAbort::<_, ()>::Commit))?
    ///     .unwrap_commit()
    ///     .expect("created above");
    /// let rtxn = env.read_txn()?;
    /// assert_eq!(tags.flags(&rtxn)?, DatabaseFlags::DUP_SORT);
    /// # Ok(()) }
    /// ```
    pub fn flags(&self, txn: &RoTxn) -> Result<DatabaseFlags> {
        self.check(txn)?;
        Ok(DatabaseFlags::from_bits_truncate(txn.raw().dbi_flags(self.dbi)?))
    }

    /// The number of entries.
    ///
    /// ```
    /// # use hedge::types::*; use hedge::*;
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| { let mut d = o.database_options().types::<Str, Str>(); d.flags(DatabaseFlags::DUP_SORT); d.create(w).map(CommitOrAbort::<_, ()>::Commit) })?.unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// db.put(&mut wtxn, "k", "1")?;
    /// db.put(&mut wtxn, "k", "2")?;
    /// assert_eq!(db.len(&wtxn)?, 2, "every duplicate counts");
    /// # Ok(()) }
    /// ```
    pub fn len(&self, txn: &RoTxn) -> Result<u64> {
        Ok(self.stat(txn)?.entries as u64)
    }

    /// Whether the database has no entry.
    ///
    /// ```
    /// # use hedge::types::*; use hedge::*;
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
    /// let rtxn = env.read_txn()?;
    /// assert!(db.is_empty(&rtxn)?);
    /// # Ok(()) }
    /// ```
    pub fn is_empty(&self, txn: &RoTxn) -> Result<bool> {
        Ok(self.len(txn)? == 0)
    }

    /// The first entry in key order, or `None` if the database is empty.
    ///
    /// ```
    /// # use hedge::types::*; use hedge::*;
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// assert_eq!(db.first(&wtxn)?, None);
    /// db.put(&mut wtxn, "b", "2")?;
    /// db.put(&mut wtxn, "a", "1")?;
    /// assert_eq!(db.first(&wtxn)?, Some(("a", "1")));
    /// # Ok(()) }
    /// ```
    pub fn first<'txn>(&self, txn: &'txn RoTxn) -> Result<Option<(KC::DItem, DC::DItem)>>
    where
        KC: BytesDecode<'txn>,
        DC: BytesDecode<'txn>,
    {
        self.iter(txn)?.next().transpose()
    }

    /// The last entry in key order, or `None` if the database is empty.
    ///
    /// ```
    /// # use hedge::types::*; use hedge::*;
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// db.put(&mut wtxn, "b", "2")?;
    /// db.put(&mut wtxn, "a", "1")?;
    /// assert_eq!(db.last(&wtxn)?, Some(("b", "2")));
    /// # Ok(()) }
    /// ```
    pub fn last<'txn>(&self, txn: &'txn RoTxn) -> Result<Option<(KC::DItem, DC::DItem)>>
    where
        KC: BytesDecode<'txn>,
        DC: BytesDecode<'txn>,
    {
        self.rev_iter(txn)?.next().transpose()
    }

    /// Every entry in key order (every value of each key in a `DUP_SORT` database; see
    /// [`RoIter::move_between_keys`]).
    ///
    /// ```
    /// use hedge::types::{Str, U32};
    /// use hedge::{byteorder::BigEndian, CommitOrAbort, Database};
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { hedge::EnvOpenOptions::new().open(dir.path())? };
    /// # let wtxn = env.write_txn()?;
    /// # let db: Database<U32<BigEndian>, Str> = env.create_databases_and_commit(wtxn, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// for (i, name) in ["zero", "one", "two"].into_iter().enumerate().rev() {
    ///     db.put(&mut wtxn, &(i as u32), name)?;
    /// }
    /// let all: Vec<(u32, &str)> = db.iter(&wtxn)?.collect::<hedge::Result<_>>()?;
    /// assert_eq!(all, [(0, "zero"), (1, "one"), (2, "two")]);
    /// assert_eq!(db.last(&wtxn)?, Some((2, "two")));
    /// # Ok(()) }
    /// ```
    pub fn iter<'txn>(&self, txn: &'txn RoTxn) -> Result<RoIter<'txn, KC, DC>> {
        self.check(txn)?;
        Ok(RoIter::new(RawCursor::open(txn.raw(), self.dbi)?))
    }

    /// Every entry in key order, in a write transaction, with the `unsafe` write methods of
    /// [`RwIter`] (delete or replace the entry just returned, append through the cursor).
    ///
    /// ```
    /// # use hedge::types::*; use hedge::*;
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// for key in ["a", "b", "c"] {
    ///     db.put(&mut wtxn, key, "v")?;
    /// }
    /// let mut iter = db.iter_mut(&mut wtxn)?;
    /// while let Some((key, _)) = iter.next().transpose()? {
    ///     if key == "b" {
    ///         // SAFETY: no value read through this iterator is used after the write.
    ///         unsafe { iter.del_current()? };
    ///     }
    /// }
    /// drop(iter);
    /// assert_eq!(db.len(&wtxn)?, 2);
    /// # Ok(()) }
    /// ```
    pub fn iter_mut<'txn>(&self, txn: &'txn mut RwTxn) -> Result<RwIter<'txn, KC, DC>> {
        self.check(txn)?;
        let txn: &'txn RwTxn = txn;
        Ok(RwIter::new(RawCursor::open(txn.raw(), self.dbi)?))
    }

    /// Every entry in reverse key order, in a write transaction (see [`iter_mut`](Self::iter_mut)).
    ///
    /// ```
    /// # use hedge::types::*; use hedge::*;
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// for key in ["a", "b", "c"] {
    ///     db.put(&mut wtxn, key, "old")?;
    /// }
    /// let mut iter = db.rev_iter_mut(&mut wtxn)?;
    /// let (last, _) = iter.next().unwrap()?;
    /// assert_eq!(last, "c");
    /// // SAFETY: `last` is not used after the write.
    /// unsafe { iter.put_current("c", "new")? };
    /// drop(iter);
    /// assert_eq!(db.get(&wtxn, "c")?, Some("new"));
    /// # Ok(()) }
    /// ```
    pub fn rev_iter_mut<'txn>(&self, txn: &'txn mut RwTxn) -> Result<RwRevIter<'txn, KC, DC>> {
        self.check(txn)?;
        let txn: &'txn RwTxn = txn;
        Ok(RwRevIter::new(RawCursor::open(txn.raw(), self.dbi)?))
    }

    /// Every entry in reverse key order.
    ///
    /// ```
    /// # use hedge::types::*; use hedge::*;
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// for key in ["a", "b", "c"] {
    ///     db.put(&mut wtxn, key, key)?;
    /// }
    /// let keys: Vec<&str> = db.rev_iter(&wtxn)?.map(|e| e.map(|(k, _)| k)).collect::<hedge::Result<_>>()?;
    /// assert_eq!(keys, ["c", "b", "a"]);
    /// # Ok(()) }
    /// ```
    pub fn rev_iter<'txn>(&self, txn: &'txn RoTxn) -> Result<RoRevIter<'txn, KC, DC>> {
        self.check(txn)?;
        Ok(RoRevIter::new(RawCursor::open(txn.raw(), self.dbi)?))
    }

    fn nearest<'a, 'txn>(
        &self,
        txn: &'txn RoTxn,
        key: &'a KC::EItem,
        greater: bool,
        or_equal: bool,
    ) -> Result<Option<(KC::DItem, DC::DItem)>>
    where
        KC: BytesEncode<'a> + BytesDecode<'txn>,
        DC: BytesDecode<'txn>,
        C: Comparator,
    {
        self.check(txn)?;
        let key = encode::<KC>(key)?;
        let mut cursor = RawCursor::open(txn.raw(), self.dbi)?;
        position(&mut cursor, &key, greater, or_equal)?.map(decode_entry::<KC, DC>).transpose()
    }

    /// The entry with the greatest key strictly lower than `key`.
    ///
    /// ```
    /// # use hedge::types::*; use hedge::*;
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// for key in ["b", "d"] {
    ///     db.put(&mut wtxn, key, key)?;
    /// }
    /// assert_eq!(db.get_lower_than(&wtxn, "d")?, Some(("b", "b")));
    /// assert_eq!(db.get_lower_than(&wtxn, "b")?, None);
    /// # Ok(()) }
    /// ```
    pub fn get_lower_than<'a, 'txn>(
        &self,
        txn: &'txn RoTxn,
        key: &'a KC::EItem,
    ) -> Result<Option<(KC::DItem, DC::DItem)>>
    where
        KC: BytesEncode<'a> + BytesDecode<'txn>,
        DC: BytesDecode<'txn>,
        C: Comparator,
    {
        self.nearest(txn, key, false, false)
    }

    /// The entry with the greatest key lower than or equal to `key`.
    ///
    /// ```
    /// # use hedge::types::*; use hedge::*;
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// for key in ["b", "d"] {
    ///     db.put(&mut wtxn, key, key)?;
    /// }
    /// assert_eq!(db.get_lower_than_or_equal_to(&wtxn, "d")?, Some(("d", "d")));
    /// assert_eq!(db.get_lower_than_or_equal_to(&wtxn, "c")?, Some(("b", "b")));
    /// assert_eq!(db.get_lower_than_or_equal_to(&wtxn, "a")?, None);
    /// # Ok(()) }
    /// ```
    pub fn get_lower_than_or_equal_to<'a, 'txn>(
        &self,
        txn: &'txn RoTxn,
        key: &'a KC::EItem,
    ) -> Result<Option<(KC::DItem, DC::DItem)>>
    where
        KC: BytesEncode<'a> + BytesDecode<'txn>,
        DC: BytesDecode<'txn>,
        C: Comparator,
    {
        self.nearest(txn, key, false, true)
    }

    /// The entry with the smallest key strictly greater than `key`.
    ///
    /// ```
    /// # use hedge::types::*; use hedge::*;
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// for key in ["b", "d"] {
    ///     db.put(&mut wtxn, key, key)?;
    /// }
    /// assert_eq!(db.get_greater_than(&wtxn, "b")?, Some(("d", "d")));
    /// assert_eq!(db.get_greater_than(&wtxn, "d")?, None);
    /// # Ok(()) }
    /// ```
    pub fn get_greater_than<'a, 'txn>(
        &self,
        txn: &'txn RoTxn,
        key: &'a KC::EItem,
    ) -> Result<Option<(KC::DItem, DC::DItem)>>
    where
        KC: BytesEncode<'a> + BytesDecode<'txn>,
        DC: BytesDecode<'txn>,
        C: Comparator,
    {
        self.nearest(txn, key, true, false)
    }

    /// The entry with the smallest key greater than or equal to `key`.
    ///
    /// ```
    /// # use hedge::types::*; use hedge::*;
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// for key in ["b", "d"] {
    ///     db.put(&mut wtxn, key, key)?;
    /// }
    /// assert_eq!(db.get_greater_than_or_equal_to(&wtxn, "b")?, Some(("b", "b")));
    /// assert_eq!(db.get_greater_than_or_equal_to(&wtxn, "c")?, Some(("d", "d")));
    /// assert_eq!(db.get_greater_than_or_equal_to(&wtxn, "e")?, None);
    /// # Ok(()) }
    /// ```
    pub fn get_greater_than_or_equal_to<'a, 'txn>(
        &self,
        txn: &'txn RoTxn,
        key: &'a KC::EItem,
    ) -> Result<Option<(KC::DItem, DC::DItem)>>
    where
        KC: BytesEncode<'a> + BytesDecode<'txn>,
        DC: BytesDecode<'txn>,
        C: Comparator,
    {
        self.nearest(txn, key, true, true)
    }

    fn engine<'a, 'txn, R>(&self, txn: &'txn RoTxn, range: &'a R, forward: bool) -> Result<Engine<'txn>>
    where
        KC: BytesEncode<'a>,
        R: RangeBounds<KC::EItem>,
    {
        self.check(txn)?;
        let bound = |b: Bound<&'a KC::EItem>| -> Result<Bound<Vec<u8>>> {
            Ok(match b {
                Bound::Included(item) => owned(Bound::Included(&encode::<KC>(item)?)),
                Bound::Excluded(item) => owned(Bound::Excluded(&encode::<KC>(item)?)),
                Bound::Unbounded => Bound::Unbounded,
            })
        };
        let bounds = Bounds::Range { start: bound(range.start_bound())?, end: bound(range.end_bound())? };
        Ok(Engine::new(RawCursor::open(txn.raw(), self.dbi)?, bounds, forward)?)
    }

    /// The entries whose keys are in `range`, in key order.
    ///
    /// ```
    /// use hedge::types::{Str, U32};
    /// use hedge::{byteorder::BigEndian, CommitOrAbort, Database};
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { hedge::EnvOpenOptions::new().open(dir.path())? };
    /// # let wtxn = env.write_txn()?;
    /// # let db: Database<U32<BigEndian>, Str> = env.create_databases_and_commit(wtxn, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// for i in 0..10u32 {
    ///     db.put(&mut wtxn, &i, "x")?;
    /// }
    /// let keys: Vec<u32> = db.range(&wtxn, &(3..6))?.map(|r| r.map(|(k, _)| k)).collect::<hedge::Result<_>>()?;
    /// assert_eq!(keys, [3, 4, 5]);
    /// # Ok(()) }
    /// ```
    pub fn range<'a, 'txn, R>(&self, txn: &'txn RoTxn, range: &'a R) -> Result<RoRange<'txn, KC, DC, C>>
    where
        KC: BytesEncode<'a>,
        R: RangeBounds<KC::EItem>,
    {
        Ok(RoRange::new(self.engine(txn, range, true)?))
    }

    /// The entries whose keys are in `range`, in reverse key order.
    ///
    /// ```
    /// # use hedge::types::*; use hedge::*;
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// for key in ["a", "b", "c", "d"] {
    ///     db.put(&mut wtxn, key, key)?;
    /// }
    /// use std::ops::Bound;
    /// let keys: Vec<&str> = db.rev_range(&wtxn, &(Bound::Included("b"), Bound::Excluded("d")))?.map(|e| e.map(|(k, _)| k)).collect::<hedge::Result<_>>()?;
    /// assert_eq!(keys, ["c", "b"]);
    /// # Ok(()) }
    /// ```
    pub fn rev_range<'a, 'txn, R>(
        &self,
        txn: &'txn RoTxn,
        range: &'a R,
    ) -> Result<RoRevRange<'txn, KC, DC, C>>
    where
        KC: BytesEncode<'a>,
        R: RangeBounds<KC::EItem>,
    {
        Ok(RoRevRange::new(self.engine(txn, range, false)?))
    }

    /// [`range`](Self::range) in a write transaction, with the `unsafe` cursor writes.
    ///
    /// ```
    /// # use hedge::types::*; use hedge::*;
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// for key in ["a", "b", "c", "d"] {
    ///     db.put(&mut wtxn, key, "old")?;
    /// }
    /// use std::ops::Bound;
    /// let mut range = db.range_mut(&mut wtxn, &(Bound::Included("b"), Bound::Included("c")))?;
    /// while let Some((key, _)) = range.next().transpose()? {
    ///     let key = key.to_owned();
    ///     // SAFETY: no value read through the iterator is used after the write.
    ///     unsafe { range.put_current(&key, "new")? };
    /// }
    /// drop(range);
    /// assert_eq!(db.get(&wtxn, "c")?, Some("new"));
    /// assert_eq!(db.get(&wtxn, "d")?, Some("old"));
    /// # Ok(()) }
    /// ```
    pub fn range_mut<'a, 'txn, R>(
        &self,
        txn: &'txn mut RwTxn,
        range: &'a R,
    ) -> Result<RwRange<'txn, KC, DC, C>>
    where
        KC: BytesEncode<'a>,
        R: RangeBounds<KC::EItem>,
    {
        let txn: &'txn RwTxn = txn;
        Ok(RwRange::new(self.engine(txn, range, true)?))
    }

    /// [`rev_range`](Self::rev_range) in a write transaction, with the `unsafe` cursor writes.
    ///
    /// ```
    /// # use hedge::types::*; use hedge::*;
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// for key in ["a", "b", "c", "d"] {
    ///     db.put(&mut wtxn, key, key)?;
    /// }
    /// use std::ops::Bound;
    /// let mut range = db.rev_range_mut(&mut wtxn, &(Bound::Included("b"), Bound::Unbounded))?;
    /// while range.next().transpose()?.is_some() {
    ///     // SAFETY: no value read through the iterator is used after the write.
    ///     unsafe { range.del_current()? };
    /// }
    /// drop(range);
    /// assert_eq!(db.len(&wtxn)?, 1);
    /// # Ok(()) }
    /// ```
    pub fn rev_range_mut<'a, 'txn, R>(
        &self,
        txn: &'txn mut RwTxn,
        range: &'a R,
    ) -> Result<RwRevRange<'txn, KC, DC, C>>
    where
        KC: BytesEncode<'a>,
        R: RangeBounds<KC::EItem>,
    {
        let txn: &'txn RwTxn = txn;
        Ok(RwRevRange::new(self.engine(txn, range, false)?))
    }

    /// [`prefix_iter`](Self::prefix_iter) in a write transaction, with the `unsafe` cursor writes.
    ///
    /// ```
    /// # use hedge::types::*; use hedge::*;
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// for key in ["tmp/1", "tmp/2", "keep"] {
    ///     db.put(&mut wtxn, key, "v")?;
    /// }
    /// let mut iter = db.prefix_iter_mut(&mut wtxn, "tmp/")?;
    /// while iter.next().transpose()?.is_some() {
    ///     // SAFETY: no value read through the iterator is used after the write.
    ///     unsafe { iter.del_current()? };
    /// }
    /// drop(iter);
    /// assert_eq!(db.first(&wtxn)?, Some(("keep", "v")));
    /// # Ok(()) }
    /// ```
    pub fn prefix_iter_mut<'a, 'txn>(
        &self,
        txn: &'txn mut RwTxn,
        prefix: &'a KC::EItem,
    ) -> Result<RwPrefix<'txn, KC, DC, C>>
    where
        KC: BytesEncode<'a>,
        C: LexicographicComparator,
    {
        let txn: &'txn RwTxn = txn;
        Ok(RwPrefix::new(self.prefix_engine(txn, prefix, true)?))
    }

    /// [`rev_prefix_iter`](Self::rev_prefix_iter) in a write transaction, with the `unsafe`
    /// cursor writes.
    ///
    /// ```
    /// # use hedge::types::*; use hedge::*;
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// for key in ["log/1", "log/2", "log/3"] {
    ///     db.put(&mut wtxn, key, "v")?;
    /// }
    /// // Drop the newest entry of the prefix.
    /// let mut iter = db.rev_prefix_iter_mut(&mut wtxn, "log/")?;
    /// assert_eq!(iter.next().transpose()?.map(|(k, _)| k), Some("log/3"));
    /// // SAFETY: the key read above is not used after the write.
    /// unsafe { iter.del_current()? };
    /// drop(iter);
    /// assert_eq!(db.last(&wtxn)?.map(|(k, _)| k), Some("log/2"));
    /// # Ok(()) }
    /// ```
    pub fn rev_prefix_iter_mut<'a, 'txn>(
        &self,
        txn: &'txn mut RwTxn,
        prefix: &'a KC::EItem,
    ) -> Result<RwRevPrefix<'txn, KC, DC, C>>
    where
        KC: BytesEncode<'a>,
        C: LexicographicComparator,
    {
        let txn: &'txn RwTxn = txn;
        Ok(RwRevPrefix::new(self.prefix_engine(txn, prefix, false)?))
    }

    fn prefix_engine<'a, 'txn>(
        &self,
        txn: &'txn RoTxn,
        prefix: &'a KC::EItem,
        forward: bool,
    ) -> Result<Engine<'txn>>
    where
        KC: BytesEncode<'a>,
    {
        self.check(txn)?;
        let prefix = encode::<KC>(prefix)?.into_owned();
        Ok(Engine::new(RawCursor::open(txn.raw(), self.dbi)?, Bounds::Prefix(prefix), forward)?)
    }

    /// The entries whose encoded key starts with the encoded `prefix`, in key order.
    ///
    /// ```
    /// # use hedge::types::*; use hedge::*;
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// for key in ["user/1", "user/2", "video/1"] {
    ///     db.put(&mut wtxn, key, "v")?;
    /// }
    /// assert_eq!(db.prefix_iter(&wtxn, "user/")?.count(), 2);
    /// # Ok(()) }
    /// ```
    pub fn prefix_iter<'a, 'txn>(
        &self,
        txn: &'txn RoTxn,
        prefix: &'a KC::EItem,
    ) -> Result<RoPrefix<'txn, KC, DC, C>>
    where
        KC: BytesEncode<'a>,
        C: LexicographicComparator,
    {
        Ok(RoPrefix::new(self.prefix_engine(txn, prefix, true)?))
    }

    /// The entries whose encoded key starts with the encoded `prefix`, in reverse key order.
    ///
    /// ```
    /// # use hedge::types::*; use hedge::*;
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// for key in ["user/1", "user/2", "video/1"] {
    ///     db.put(&mut wtxn, key, "v")?;
    /// }
    /// let keys: Vec<&str> = db.rev_prefix_iter(&wtxn, "user/")?.map(|e| e.map(|(k, _)| k)).collect::<hedge::Result<_>>()?;
    /// assert_eq!(keys, ["user/2", "user/1"]);
    /// # Ok(()) }
    /// ```
    pub fn rev_prefix_iter<'a, 'txn>(
        &self,
        txn: &'txn RoTxn,
        prefix: &'a KC::EItem,
    ) -> Result<RoRevPrefix<'txn, KC, DC, C>>
    where
        KC: BytesEncode<'a>,
        C: LexicographicComparator,
    {
        Ok(RoRevPrefix::new(self.prefix_engine(txn, prefix, false)?))
    }

    /// The same database with other codecs.
    ///
    /// ```
    /// # use hedge::types::*; use hedge::*;
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// db.put(&mut wtxn, "k", "v")?;
    /// let raw = db.remap_types::<Bytes, Bytes>();
    /// assert_eq!(raw.get(&wtxn, b"k")?, Some(&b"v"[..]));
    /// # Ok(()) }
    /// ```
    pub fn remap_types<KC2, DC2>(self) -> Database<'t, KC2, DC2, C, CDUP> {
        Database::new(self.env_ident, self.dbi, self.generation)
    }

    /// The same database with another key codec.
    ///
    /// ```
    /// # use hedge::types::*; use hedge::*;
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// db.put(&mut wtxn, "k", "v")?;
    /// assert_eq!(db.remap_key_type::<Bytes>().get(&wtxn, b"k")?, Some("v"));
    /// # Ok(()) }
    /// ```
    pub fn remap_key_type<KC2>(self) -> Database<'t, KC2, DC, C, CDUP> {
        Database::new(self.env_ident, self.dbi, self.generation)
    }

    /// The same database with another value codec.
    ///
    /// ```
    /// # use hedge::types::*; use hedge::*;
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// db.put(&mut wtxn, "k", "v")?;
    /// assert_eq!(db.remap_data_type::<Bytes>().get(&wtxn, "k")?, Some(&b"v"[..]));
    /// assert_eq!(db.remap_data_type::<DecodeIgnore>().get(&wtxn, "k")?, Some(()));
    /// # Ok(()) }
    /// ```
    pub fn remap_data_type<DC2>(self) -> Database<'t, KC, DC2, C, CDUP> {
        Database::new(self.env_ident, self.dbi, self.generation)
    }

    /// The same database, with values decoded only when asked ([`heed_types::LazyDecode`]).
    ///
    /// ```
    /// # use hedge::types::*; use hedge::*;
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// db.put(&mut wtxn, "k", "v")?;
    /// let lazy = db.lazily_decode_data().get(&wtxn, "k")?.unwrap();
    /// assert_eq!(lazy.decode().unwrap(), "v");
    /// # Ok(()) }
    /// ```
    pub fn lazily_decode_data(self) -> Database<'t, KC, heed_types::LazyDecode<DC>, C, CDUP> {
        Database::new(self.env_ident, self.dbi, self.generation)
    }
}

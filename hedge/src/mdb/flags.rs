//! LMDB's flags as bitflags, with heed 0.23's names.

use bitflags::bitflags;

use super::ffi;

bitflags! {
    /// Flags of an environment, given to [`EnvOpenOptions::flags`](crate::EnvOpenOptions::flags).
    ///
    /// ```
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// use hedge::EnvFlags;
    /// let file = dir.path().join("single-file.mdb");
    /// // SAFETY: only hedge touches these files.
    /// let env = unsafe { hedge::EnvOpenOptions::new().flags(EnvFlags::NO_SUB_DIR).open(&file)? };
    /// assert!(file.is_file());
    /// assert!(env.flags()?.unwrap().contains(EnvFlags::NO_SUB_DIR));
    /// # Ok(()) }
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
    #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
    #[repr(transparent)]
    pub struct EnvFlags: u32 {
        /// Map at a fixed address (experimental in LMDB).
        const FIXED_MAP = ffi::MDB_FIXEDMAP;
        /// The path is the data file itself, not a directory; the lock file is `<path>-lock`.
        const NO_SUB_DIR = ffi::MDB_NOSUBDIR;
        /// Do not fsync after commit. A killed process loses nothing; a power loss or an OS
        /// crash may lose every transaction since the last
        /// [`Env::force_sync`](crate::Env::force_sync), and, when the disk writes back out of
        /// order, leave the env damaged once a transaction has started after that sync
        /// (measured with simulated power losses: `docs/durability.md`).
        const NO_SYNC = ffi::MDB_NOSYNC;
        /// Open on the previous snapshot (a recovery aid).
        const PREV_SNAPSHOT = ffi::MDB_PREVSNAPSHOT;
        /// Open read-only; write transactions are refused.
        const READ_ONLY = ffi::MDB_RDONLY;
        /// fsync data but not the meta page after commit: a power loss may lose the last
        /// acknowledged transaction, never more, and never damages the env.
        const NO_META_SYNC = ffi::MDB_NOMETASYNC;
        /// Write through a writable memory map instead of `pwrite`; as durable as the default
        /// (the map is msync'd before the meta page is written).
        const WRITE_MAP = ffi::MDB_WRITEMAP;
        /// With `WRITE_MAP`, flush asynchronously: on a power loss, as `NO_SYNC`.
        const MAP_ASYNC = ffi::MDB_MAPASYNC;
        /// Do not tie read transactions to threads; prefer
        /// [`EnvOpenOptions::read_txn_without_tls`](crate::EnvOpenOptions::read_txn_without_tls).
        const NO_TLS = ffi::MDB_NOTLS;
        /// No locking at all: the caller serialises every access.
        const NO_LOCK = ffi::MDB_NOLOCK;
        /// Disable OS read-ahead on the map.
        const NO_READ_AHEAD = ffi::MDB_NORDAHEAD;
        /// Do not zero unused parts of pages before writing them.
        const NO_MEM_INIT = ffi::MDB_NOMEMINIT;
    }
}

bitflags! {
    /// Flags of a database, given to [`DatabaseOpenOptions::flags`](crate::DatabaseOpenOptions).
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
    ///         options.name("scores").flags(DatabaseFlags::DUP_SORT | DatabaseFlags::DUP_FIXED);
    ///         options.create(wtxn).map(CommitOrAbort::<_, ()>::Commit)
    ///     })?
    ///     .unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// db.put(&mut wtxn, "ada", &3)?;
    /// db.put(&mut wtxn, "ada", &1)?;
    /// assert_eq!(db.count_duplicates(&wtxn, "ada")?, 2);
    /// # Ok(()) }
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
    #[repr(transparent)]
    pub struct DatabaseFlags: u32 {
        /// Keys compared from their last byte backwards.
        const REVERSE_KEY = ffi::MDB_REVERSEKEY;
        /// Several sorted values per key.
        const DUP_SORT = ffi::MDB_DUPSORT;
        /// Keys are native `u32`/`usize` integers.
        const INTEGER_KEY = ffi::MDB_INTEGERKEY;
        /// With `DUP_SORT`, all values of a key have the same size.
        const DUP_FIXED = ffi::MDB_DUPFIXED;
        /// With `DUP_SORT`, values are native integers.
        const INTEGER_DUP = ffi::MDB_INTEGERDUP;
        /// With `DUP_SORT`, values compared from their last byte backwards.
        const REVERSE_DUP = ffi::MDB_REVERSEDUP;
    }
}

bitflags! {
    /// Flags of a put, given to `Database::put_with_flags`.
    ///
    /// ```
    /// # use hedge::types::*; use hedge::*;
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| { let mut d = o.database_options().types::<Str, Str>(); d.flags(DatabaseFlags::DUP_SORT); d.create(w).map(CommitOrAbort::<_, ()>::Commit) })?.unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// db.put(&mut wtxn, "k", "v")?;
    /// let again = db.put_with_flags(&mut wtxn, PutFlags::NO_DUP_DATA, "k", "v");
    /// assert!(matches!(again, Err(Error::Mdb(MdbError::KeyExist))));
    /// db.put_with_flags(&mut wtxn, PutFlags::APPEND_DUP, "k", "w")?;
    /// # Ok(()) }
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
    #[repr(transparent)]
    pub struct PutFlags: u32 {
        /// With `DUP_SORT`, fail with `KeyExist` if the key/value pair exists.
        const NO_DUP_DATA = ffi::MDB_NODUPDATA;
        /// Fail with `KeyExist` if the key exists.
        const NO_OVERWRITE = ffi::MDB_NOOVERWRITE;
        /// Append at the end (keys must come in order, else `KeyExist`).
        const APPEND = ffi::MDB_APPEND;
        /// Append a duplicate at the end of its key's values.
        const APPEND_DUP = ffi::MDB_APPENDDUP;
    }
}

impl PutFlags {
    /// The bits to give LMDB. `PutFlags::from_bits_retain` can carry any bit, among them
    /// LMDB's `MDB_RESERVE`, `MDB_MULTIPLE` and `MDB_CURRENT`, which change what LMDB does with
    /// the data pointer (a reserved value nobody writes) or where it writes: bits hedge does not
    /// define are refused.
    #[inline]
    pub(crate) fn checked_bits(self) -> crate::Result<std::ffi::c_uint> {
        let unknown = self.bits() & !PutFlags::all().bits();
        if unknown != 0 {
            return Err(unknown_put_flags(unknown));
        }
        Ok(self.bits())
    }
}

#[cold]
fn unknown_put_flags(unknown: u32) -> crate::Error {
    crate::Error::Io(std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        format!(
            "PutFlags {unknown:#x} are not put flags hedge knows: use NO_OVERWRITE, NO_DUP_DATA, \
             APPEND and APPEND_DUP (reserved writes have their own methods)"
        ),
    ))
}

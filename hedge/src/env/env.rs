use std::fmt;
use std::fs::File;
use std::marker::PhantomData;
use std::num::NonZeroUsize;
use std::path::Path;
use std::sync::Arc;

use super::{CompactionOption, EnvClosingEvent, EnvInfo, EnvInner, FlagSetMode};
use crate::mdb::ffi;
use crate::{DatabaseStat, EnvFlags, Result, RoTxn, RwTxn, WithTls, WithoutTls};

/// An open LMDB environment. Cheap to clone (a shared handle), `Send` and `Sync`; LMDB
/// closes it when the last clone, and the last `'static` read transaction, are gone.
///
/// `T` is the TLS mode of its read transactions ([`WithTls`] or [`WithoutTls`]).
///
/// ```
/// # fn main() -> hedge::Result<()> {
/// # let dir = tempfile::tempdir()?;
/// # let env = unsafe { hedge::EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
/// let worker = env.clone();
/// std::thread::spawn(move || {
///     let rtxn = worker.read_txn().unwrap();
///     assert!(rtxn.id() <= worker.info().last_txn_id);
/// })
/// .join()
/// .unwrap();
/// # Ok(()) }
/// ```
pub struct Env<T = WithTls> {
    pub(crate) inner: Arc<EnvInner>,
    _tls: PhantomData<T>,
}

impl<T> Clone for Env<T> {
    fn clone(&self) -> Self {
        Env { inner: Arc::clone(&self.inner), _tls: PhantomData }
    }
}

impl<T> fmt::Debug for Env<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Env").field("path", &self.inner.path.display()).finish_non_exhaustive()
    }
}

impl<T> Env<T> {
    pub(crate) fn from_inner(inner: Arc<EnvInner>) -> Env<T> {
        Env { inner, _tls: PhantomData }
    }

    /// Identifies this environment (for checking that a database belongs to it).
    pub(crate) fn ident(&self) -> NonZeroUsize {
        self.inner.ident
    }

    /// Begins a write transaction. LMDB allows one at a time per environment: this blocks
    /// while another thread or process holds one.
    ///
    /// ```
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { hedge::EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// # use hedge::{types::Str, CommitOrAbort, Database};
    /// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
    /// let before = env.info().last_txn_id;
    /// let mut wtxn = env.write_txn()?;
    /// db.put(&mut wtxn, "k", "v")?;
    /// wtxn.commit()?;
    /// assert_eq!(env.info().last_txn_id, before + 1);
    /// # Ok(()) }
    /// ```
    pub fn write_txn(&self) -> Result<RwTxn<'_>> {
        RwTxn::new(self)
    }

    /// Begins a write transaction nested in `parent`: its changes reach the database when
    /// both it and `parent` commit. `parent` is borrowed until it ends.
    ///
    /// ```
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// let env = unsafe { hedge::EnvOpenOptions::new().open(dir.path())? };
    /// let mut wtxn = env.write_txn()?;
    /// let nested = env.nested_write_txn(&mut wtxn)?;
    /// nested.abort();
    /// wtxn.commit()?;
    /// # Ok(()) }
    /// ```
    pub fn nested_write_txn<'p>(&'p self, parent: &'p mut RwTxn) -> Result<RwTxn<'p>> {
        RwTxn::nested(self, parent)
    }

    /// Begins a read transaction: a consistent snapshot of the last commit.
    ///
    /// ```
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { hedge::EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// let rtxn = env.read_txn()?;
    /// assert_eq!(rtxn.id(), 0, "nothing committed yet");
    /// # Ok(()) }
    /// ```
    pub fn read_txn(&self) -> Result<RoTxn<'_, T>> {
        RoTxn::new(self)
    }

    /// Begins a read transaction that owns a handle of the env, so it can be kept anywhere
    /// (e.g. in a struct with the data it reads).
    ///
    /// ```
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { hedge::EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// struct Snapshot {
    ///     txn: hedge::RoTxn<'static, hedge::WithTls>,
    /// }
    /// let snapshot = Snapshot { txn: env.clone().static_read_txn()? };
    /// drop(env);
    /// assert_eq!(snapshot.txn.id(), 0);
    /// # Ok(()) }
    /// ```
    pub fn static_read_txn(self) -> Result<RoTxn<'static, T>> {
        RoTxn::new_static(self)
    }

    /// Statistics of the unnamed (main) database.
    ///
    /// ```
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { hedge::EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// assert_eq!(env.unnamed_database_stat().entries, 0);
    /// # Ok(()) }
    /// ```
    pub fn unnamed_database_stat(&self) -> DatabaseStat {
        self.inner.raw.stat().into()
    }

    /// Information about the environment (map size, last page, readers...).
    ///
    /// ```
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { hedge::EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// let info = env.info();
    /// assert_eq!(info.map_size, 1 << 20, "LMDB's default: 1 MiB");
    /// assert_eq!(info.number_of_readers, 0);
    /// # Ok(()) }
    /// ```
    pub fn info(&self) -> EnvInfo {
        let info = self.inner.raw.info();
        EnvInfo {
            map_addr: info.me_mapaddr,
            map_size: info.me_mapsize,
            last_page_number: info.me_last_pgno,
            last_txn_id: info.me_last_txnid,
            maximum_number_of_readers: info.me_maxreaders,
            number_of_readers: info.me_numreaders,
        }
    }

    /// The size of the data file on disk, in bytes.
    ///
    /// ```
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { hedge::EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// assert!(env.real_disk_size()? > 0);
    /// # Ok(()) }
    /// ```
    #[cfg(unix)]
    pub fn real_disk_size(&self) -> Result<u64> {
        Ok(self.inner.raw.clone_data_file()?.metadata()?.len())
    }

    /// A new, read-only handle on the data file (for inspection), with a file offset of its
    /// own.
    ///
    /// ```
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { hedge::EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// let file = env.try_clone_inner_file()?;
    /// assert_eq!(file.metadata()?.len(), env.real_disk_size()?);
    /// # Ok(()) }
    /// ```
    #[cfg(unix)]
    pub fn try_clone_inner_file(&self) -> Result<File> {
        Ok(self.inner.raw.clone_data_file()?)
    }

    /// The environment's flags, or `None` if LMDB reports bits hedge does not know.
    ///
    /// ```
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { hedge::EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// assert_eq!(env.flags()?, Some(hedge::EnvFlags::empty()));
    /// # Ok(()) }
    /// ```
    pub fn flags(&self) -> Result<Option<EnvFlags>> {
        Ok(EnvFlags::from_bits(self.get_flags()?))
    }

    /// The environment's flags as LMDB's raw bits.
    ///
    /// ```
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { hedge::EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// assert_eq!(env.get_flags()?, 0);
    /// # Ok(()) }
    /// ```
    pub fn get_flags(&self) -> Result<u32> {
        let flags = self.inner.raw.flags()?;
        // hedge sets MDB_NOTLS on every env (see EnvOpenOptions::open); a WithTls env reports
        // what it was opened with.
        Ok(if self.inner.tls { flags & !ffi::MDB_NOTLS } else { flags })
    }

    /// Turns flags on or off on the open environment (those LMDB allows to change:
    /// `NO_SYNC`, `NO_META_SYNC`, `MAP_ASYNC`, `NO_MEM_INIT`).
    ///
    /// # Safety
    /// No write transaction of this env may be in flight, and the flags' own caveats apply
    /// (see [`EnvOpenOptions::flags`](crate::EnvOpenOptions::flags)).
    ///
    /// ```
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { hedge::EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// use hedge::{EnvFlags, FlagSetMode};
    /// // SAFETY: no write transaction is in flight; losing the last commits on a crash is fine here.
    /// unsafe { env.set_flags(EnvFlags::NO_SYNC, FlagSetMode::Enable)? };
    /// assert_eq!(env.flags()?, Some(EnvFlags::NO_SYNC));
    /// // SAFETY: as above.
    /// unsafe { env.set_flags(EnvFlags::NO_SYNC, FlagSetMode::Disable)? };
    /// # Ok(()) }
    /// ```
    pub unsafe fn set_flags(&self, flags: EnvFlags, mode: FlagSetMode) -> Result<()> {
        // SAFETY: the caller upholds the contract.
        Ok(unsafe { self.inner.raw.set_flags(flags.bits(), mode == FlagSetMode::Enable) }?)
    }

    /// Copies the environment into `file` (a consistent snapshot), compacted or not.
    ///
    /// ```
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { hedge::EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// let mut file = tempfile::tempfile()?;
    /// env.copy_to_file(&mut file, hedge::CompactionOption::Disabled)?;
    /// assert!(file.metadata()?.len() > 0);
    /// # Ok(()) }
    /// ```
    #[cfg(unix)]
    pub fn copy_to_file(&self, file: &mut File, option: CompactionOption) -> Result<()> {
        use std::os::fd::AsRawFd;
        // SAFETY: `file` is open and borrowed mutably for the whole call.
        unsafe { self.copy_to_fd(file.as_raw_fd(), option) }
    }

    /// Copies the environment into a new file at `path` (refusing to overwrite one) and
    /// returns it.
    ///
    /// ```
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { hedge::EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// let backup = tempfile::tempdir()?;
    /// env.copy_to_path(backup.path().join("data.mdb"), hedge::CompactionOption::Enabled)?;
    /// // A copy is an environment of its own.
    /// let copy = unsafe { hedge::EnvOpenOptions::new().open(backup.path())? };
    /// assert_eq!(copy.info().last_txn_id, env.info().last_txn_id);
    /// # Ok(()) }
    /// ```
    #[cfg(unix)]
    pub fn copy_to_path<P: AsRef<Path>>(&self, path: P, option: CompactionOption) -> Result<File> {
        let mut file = File::options().create_new(true).write(true).read(true).open(path)?;
        self.copy_to_file(&mut file, option)?;
        Ok(file)
    }

    /// Copies the environment into an open file descriptor.
    ///
    /// # Safety
    /// `fd` must be open for writing for the duration of the call.
    ///
    /// ```
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { hedge::EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// use std::os::fd::AsRawFd;
    /// let file = tempfile::tempfile()?;
    /// // SAFETY: the file stays open for the whole call.
    /// unsafe { env.copy_to_fd(file.as_raw_fd(), hedge::CompactionOption::Disabled)? };
    /// # Ok(()) }
    /// ```
    pub unsafe fn copy_to_fd(&self, fd: ffi::mdb_filehandle_t, option: CompactionOption) -> Result<()> {
        let flags = match option {
            CompactionOption::Enabled => ffi::MDB_CP_COMPACT,
            CompactionOption::Disabled => 0,
        };
        self.refuse_copy_target(fd, option)?;
        // SAFETY: the caller guarantees `fd`.
        Ok(unsafe { self.inner.raw.copy_to_fd(fd, flags) }?)
    }

    /// A copy onto the env's own data or lock file would overwrite pages and reader slots
    /// in use; a plain copy on a thread holding this env's write txn would wait for ever for
    /// LMDB's write lock (a compacting copy does not take it).
    fn refuse_copy_target(&self, fd: ffi::mdb_filehandle_t, option: CompactionOption) -> Result<()> {
        let invalid = |kind, what: &str| Err(crate::Error::Io(std::io::Error::new(kind, what.to_owned())));
        #[cfg(unix)]
        {
            // SAFETY: the caller of copy_to_fd guarantees an open descriptor for the call;
            // it is only borrowed to read its metadata.
            let target = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
            let target = super::FileId::of(&File::from(target.try_clone_to_owned()?).metadata()?);
            if self.inner.files.contains(&target) {
                return invalid(
                    std::io::ErrorKind::InvalidInput,
                    "cannot copy an environment onto its own data or lock file: copy it to a new file",
                );
            }
        }
        if matches!(option, CompactionOption::Disabled) {
            self.inner.refuse_inside_opening("make a plain copy (it takes the write lock)")?;
        }
        let writer = *self.inner.writer.lock().unwrap_or_else(|e| e.into_inner());
        if matches!(option, CompactionOption::Disabled) && writer == Some(std::thread::current().id()) {
            return invalid(
                std::io::ErrorKind::Deadlock,
                "a plain copy waits for the write lock, which this thread holds in a write \
                 transaction: commit or abort it first, or copy with CompactionOption::Enabled",
            );
        }
        Ok(())
    }

    /// Checks the environment's consistency: the data file is as long as its meta page says,
    /// every database (the unnamed one and each named one) can be walked to the end, its
    /// entries are in order by its comparator and as many as its header counts, the free
    /// list is well formed, and (without `DUP_SORT` databases, whose sub-database pages
    /// LMDB's API does not count) every page is in exactly one tree or the free list.
    ///
    /// LMDB itself checks little when reading (page numbers in range, page types): a damaged
    /// B-tree page can go unnoticed, or surface as `MdbError::Corrupted` much later. Run this
    /// on a copy or with no writer active; it reads every page once.
    ///
    /// ```
    /// # use hedge::types::*; use hedge::*;
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { EnvOpenOptions::new().max_dbs(2).open(dir.path())? };
    /// let db: Database<Str, Str> = env
    ///     .create_databases_and_commit(env.write_txn()?, |o, w| o.create_database(w, Some("kv")).map(CommitOrAbort::<_, ()>::Commit))?
    ///     .unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// db.put(&mut wtxn, "k", "v")?;
    /// wtxn.commit()?;
    /// let report = env.check()?;
    /// assert!(report.is_ok(), "{:?}", report.problems);
    /// assert_eq!((report.databases, report.entries), (2, 2)); // the name "kv" is an entry too
    /// # Ok(()) }
    /// ```
    #[cfg(unix)]
    pub fn check(&self) -> Result<crate::CheckReport> {
        crate::check::run(&self.inner, &mut |_| {})
    }

    /// [`check`](Self::check), telling `progress` now and then how many pages it has reached
    /// (meta pages aside; up to `info().last_page_number - 1` for a consistent environment,
    /// reached last), e.g. for a progress bar.
    ///
    /// ```
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { hedge::EnvOpenOptions::new().open(dir.path())? };
    /// let mut reached = 0;
    /// let report = env.check_with_progress(|pages| reached = pages)?;
    /// assert!(report.is_ok());
    /// assert_eq!(reached, report.tree_pages + report.free_pages);
    /// # Ok(()) }
    /// ```
    #[cfg(unix)]
    pub fn check_with_progress(&self, mut progress: impl FnMut(u64)) -> Result<crate::CheckReport> {
        crate::check::run(&self.inner, &mut progress)
    }

    /// Flushes the data to disk, even with `NO_SYNC`/`MAP_ASYNC`.
    ///
    /// ```
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { hedge::EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// env.force_sync()?;
    /// # Ok(()) }
    /// ```
    pub fn force_sync(&self) -> Result<()> {
        Ok(self.inner.raw.sync(true)?)
    }

    /// The path the environment was opened with (canonical).
    ///
    /// ```
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { hedge::EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// assert_eq!(env.path(), dir.path().canonicalize()?);
    /// # Ok(()) }
    /// ```
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The size of the reader table.
    ///
    /// ```
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { hedge::EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// assert_eq!(env.max_readers(), 126, "LMDB's default");
    /// # Ok(()) }
    /// ```
    pub fn max_readers(&self) -> u32 {
        self.inner.raw.max_readers().unwrap_or(0)
    }

    /// The largest key (and `DUP_SORT` value) LMDB accepts, in bytes.
    ///
    /// ```
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { hedge::EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// assert_eq!(env.max_key_size(), 511, "LMDB's default build");
    /// # Ok(()) }
    /// ```
    pub fn max_key_size(&self) -> usize {
        self.inner.raw.max_key_size()
    }

    /// Drops this handle and returns an event that fires once the environment is closed
    /// (when every other clone and `'static` read transaction is gone too).
    ///
    /// ```
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { hedge::EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// let event = env.prepare_for_closing();
    /// event.wait();
    /// // Closed: the path can be opened again, with other options.
    /// let env = unsafe { hedge::EnvOpenOptions::new().max_dbs(1).open(dir.path())? };
    /// # drop(env);
    /// # Ok(()) }
    /// ```
    pub fn prepare_for_closing(self) -> EnvClosingEvent {
        self.inner.closing_event()
    }

    /// Clears reader slots left by dead processes; returns how many.
    ///
    /// ```
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { hedge::EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// assert_eq!(env.clear_stale_readers()?, 0);
    /// # Ok(()) }
    /// ```
    pub fn clear_stale_readers(&self) -> Result<usize> {
        Ok(self.inner.raw.reader_check()?)
    }

    /// The reader table's slots in use, of every process that has the environment open
    /// (LMDB's `mdb_reader_list`). A reader holding an old snapshot keeps the pages freed
    /// since from being reused: the file grows instead.
    ///
    /// ```
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// let env = unsafe { hedge::EnvOpenOptions::new().read_txn_without_tls().open(dir.path())? };
    /// assert!(env.readers()?.iter().all(|r| r.txn_id.is_none()));
    /// let rtxn = env.read_txn()?;
    /// let holding: Vec<_> = env.readers()?.into_iter().filter_map(|r| r.txn_id).collect();
    /// assert_eq!(holding, [rtxn.id() as u64]);
    /// # Ok(()) }
    /// ```
    pub fn readers(&self) -> Result<Vec<crate::ReaderInfo>> {
        let lines = self.inner.raw.reader_list()?;
        let mut readers = Vec::new();
        for line in &lines {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // The header line and "(no active readers)" / "(no reader locks)" do not parse.
            let [pid, thread, txn] = fields[..] else { continue };
            let (Ok(pid), Ok(thread)) = (pid.parse::<u32>(), u64::from_str_radix(thread, 16)) else {
                continue;
            };
            let txn_id = if txn == "-" {
                None
            } else {
                Some(txn.parse::<u64>().map_err(|_| {
                    crate::Error::Io(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!("unexpected line in LMDB's reader list: {line:?}"),
                    ))
                })?)
            };
            readers.push(crate::ReaderInfo { pid, thread, txn_id });
        }
        Ok(readers)
    }

    /// The free list as `txn` sees it: for each write transaction that freed pages, how
    /// many (LMDB's free-list database, `FREE_DBI`), in order of transaction id, and the
    /// statistics of the free list's own tree. `txn` must be a read transaction of this
    /// environment (LMDB refuses to read the free list in a write transaction).
    ///
    /// Pages freed by a transaction whose id is at least the oldest live reader's snapshot
    /// ([`readers`](Self::readers)) cannot be reused yet.
    ///
    /// ```
    /// # use hedge::types::*; use hedge::*;
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { EnvOpenOptions::new().open(dir.path())? };
    /// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
    /// for value in ["a", "b"] {
    ///     let mut wtxn = env.write_txn()?;
    ///     db.put(&mut wtxn, "k", value)?;
    ///     wtxn.commit()?; // the second commit frees the pages the first one wrote
    /// }
    /// let rtxn = env.read_txn()?;
    /// let (free, stat) = env.free_list(&rtxn)?;
    /// let pages: u64 = free.iter().map(|r| r.pages).sum();
    /// assert!(pages > 0);
    /// assert_eq!(stat.entries, free.len());
    /// # Ok(()) }
    /// ```
    pub fn free_list(&self, txn: &RoTxn) -> Result<(Vec<crate::FreeListEntry>, DatabaseStat)> {
        if txn.env_inner().ident != self.inner.ident {
            return Err(crate::Error::Io(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "this transaction belongs to another environment: read the free list with one of its own",
            )));
        }
        const FREE_DBI: ffi::MDB_dbi = 0;
        let stat = txn.raw().stat(FREE_DBI)?.into();
        let mut cursor = crate::mdb::handle::RawCursor::open(txn.raw(), FREE_DBI)?;
        let mut entries = Vec::new();
        while let Some((key, data)) = cursor.get(ffi::MDB_NEXT, None)? {
            // A txn id, and a page list: its length, then the page numbers.
            let (Ok(key), Some(count)) = (<[u8; 8]>::try_from(key), data.get(..8)) else {
                return Err(crate::MdbError::Corrupted.into());
            };
            let count = u64::from_ne_bytes(count.try_into().expect("8 bytes"));
            entries.push(crate::FreeListEntry { freed_by: u64::from_ne_bytes(key), pages: count });
        }
        Ok((entries, stat))
    }

    /// Changes the map size (e.g. after `MdbError::MapFull`); `new_size` must be a multiple
    /// of the OS page size.
    ///
    /// # Safety
    /// No transaction of this environment may be live in this process.
    ///
    /// ```
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { hedge::EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// // SAFETY: no transaction of this env is live.
    /// unsafe { env.resize(64 * 1024 * 1024)? };
    /// assert_eq!(env.info().map_size, 64 * 1024 * 1024);
    /// # Ok(()) }
    /// ```
    pub unsafe fn resize(&self, new_size: usize) -> Result<()> {
        let page = crate::mdb::handle::os_page_size();
        if !new_size.is_multiple_of(page) {
            return Err(crate::Error::Io(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("map size ({new_size}) must be a multiple of the system page size ({page})"),
            )));
        }
        // SAFETY: the caller upholds the contract.
        Ok(unsafe { self.inner.raw.resize(new_size) }?)
    }
}

impl Env<WithoutTls> {
    /// A read-only child of `parent`: see [`RwTxn::nested_read_txn`].
    ///
    /// ```
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// let env = unsafe { hedge::EnvOpenOptions::new().read_txn_without_tls().open(dir.path())? };
    /// let wtxn = env.write_txn()?;
    /// let reader = env.nested_read_txn(&wtxn)?;
    /// assert_eq!(reader.id(), wtxn.id());
    /// # Ok(()) }
    /// ```
    pub fn nested_read_txn<'p>(&'p self, parent: &'p RwTxn) -> Result<RoTxn<'p, WithoutTls>> {
        parent.nested_read_txn()
    }
}

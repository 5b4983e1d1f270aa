use std::ffi::CString;
use std::io;
use std::marker::PhantomData;
use std::path::Path;
use std::sync::Arc;

use super::{Env, EnvInner, FileId, OPENED, already_open, canonical};
use crate::mdb::handle::{RawEnv, os_page_size};
use crate::{EnvFlags, Error, Result, TlsUsage, WithTls, WithoutTls};

/// Options to open an environment, as heed 0.23's.
///
/// ```
/// # fn main() -> hedge::Result<()> {
/// # let dir = tempfile::tempdir()?;
/// let env = unsafe {
///     hedge::EnvOpenOptions::new()
///         .read_txn_without_tls()
///         .map_size(64 * 1024 * 1024)
///         .max_dbs(4)
///         .open(dir.path())?
/// };
/// assert_eq!(env.info().map_size, 64 * 1024 * 1024);
/// # Ok(()) }
/// ```
pub struct EnvOpenOptions<T: TlsUsage = WithTls> {
    map_size: Option<usize>,
    max_readers: Option<u32>,
    max_dbs: Option<u32>,
    flags: EnvFlags,
    _tls: PhantomData<T>,
}

impl EnvOpenOptions<WithTls> {
    /// Default options: LMDB's map size (1 MiB: set [`map_size`](Self::map_size) for real data) and reader count (126), no named
    /// databases, read transactions tied to their thread.
    ///
    /// ```
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// let env = unsafe { hedge::EnvOpenOptions::new().open(dir.path())? };
    /// assert_eq!(env.info().map_size, 1 << 20);
    /// # Ok(()) }
    /// ```
    pub fn new() -> EnvOpenOptions<WithTls> {
        EnvOpenOptions {
            map_size: None,
            max_readers: None,
            max_dbs: None,
            flags: EnvFlags::empty(),
            _tls: PhantomData,
        }
    }

    /// The most named databases [`max_dbs`](Self::max_dbs) accepts. LMDB sizes each
    /// transaction's tables as `int`s of about 60 bytes per database (and adds its own two
    /// to the count in an `unsigned int`): far beyond this, they wrap.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// let options = hedge::EnvOpenOptions::new().max_dbs(hedge::EnvOpenOptions::MAX_DBS + 1).clone();
    /// assert!(unsafe { options.open(dir.path()) }.is_err());
    /// ```
    pub const MAX_DBS: u32 = 1 << 24;

    /// The largest reader table [`max_readers`](Self::max_readers) accepts (64 bytes a
    /// slot: a 1 GiB lock file; LMDB counts readers in `int`s).
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// let options = hedge::EnvOpenOptions::new().max_readers(u32::MAX).clone();
    /// assert!(unsafe { options.open(dir.path()) }.is_err());
    /// ```
    pub const MAX_READERS: u32 = 1 << 24;
}

impl Default for EnvOpenOptions<WithTls> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: TlsUsage> Clone for EnvOpenOptions<T> {
    fn clone(&self) -> Self {
        EnvOpenOptions { _tls: PhantomData, ..*self }
    }
}

impl<T: TlsUsage> EnvOpenOptions<T> {
    fn retag<U: TlsUsage>(self) -> EnvOpenOptions<U> {
        let EnvOpenOptions { map_size, max_readers, max_dbs, flags, .. } = self;
        EnvOpenOptions { map_size, max_readers, max_dbs, flags, _tls: PhantomData }
    }

    /// Read transactions use LMDB's thread-local reader slots: a `RoTxn` stays on its thread
    /// and a thread has one at a time.
    ///
    /// ```
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// let env: hedge::Env<hedge::WithTls> =
    ///     unsafe { hedge::EnvOpenOptions::new().read_txn_without_tls().read_txn_with_tls().open(dir.path())? };
    /// # drop(env);
    /// # Ok(()) }
    /// ```
    pub fn read_txn_with_tls(self) -> EnvOpenOptions<WithTls> {
        self.retag()
    }

    /// Read transactions are not tied to a thread (`MDB_NOTLS`): a `RoTxn` is `Send`, and a
    /// thread may hold several.
    ///
    /// ```
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// let env = unsafe { hedge::EnvOpenOptions::new().read_txn_without_tls().open(dir.path())? };
    /// // Read transactions can move between threads, and one thread can hold several.
    /// let (a, b) = (env.read_txn()?, env.read_txn()?);
    /// std::thread::scope(|s| s.spawn(move || drop(a)).join().unwrap());
    /// drop(b);
    /// # Ok(()) }
    /// ```
    pub fn read_txn_without_tls(self) -> EnvOpenOptions<WithoutTls> {
        self.retag()
    }

    /// The size of the memory map, in bytes: the maximum size of the database. Must be a
    /// multiple of the OS page size (checked at [`open`](Self::open)).
    ///
    /// ```
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// let env = unsafe { hedge::EnvOpenOptions::new().map_size(1 << 30).open(dir.path())? };
    /// assert_eq!(env.info().map_size, 1 << 30);
    /// # Ok(()) }
    /// ```
    pub fn map_size(&mut self, size: usize) -> &mut Self {
        self.map_size = Some(size);
        self
    }

    /// The size of the reader table: how many read transactions may be live at once.
    /// From 1 to [`MAX_READERS`](EnvOpenOptions::MAX_READERS) (checked at [`open`](Self::open)).
    ///
    /// ```
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// let env = unsafe { hedge::EnvOpenOptions::new().max_readers(500).open(dir.path())? };
    /// assert_eq!(env.max_readers(), 500);
    /// # Ok(()) }
    /// ```
    pub fn max_readers(&mut self, readers: u32) -> &mut Self {
        self.max_readers = Some(readers);
        self
    }

    /// How many named databases may be opened: up to [`MAX_DBS`](EnvOpenOptions::MAX_DBS) (checked at
    /// [`open`](Self::open)).
    ///
    /// ```
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// let env = unsafe { hedge::EnvOpenOptions::new().max_dbs(10).open(dir.path())? };
    /// # drop(env);
    /// # Ok(()) }
    /// ```
    pub fn max_dbs(&mut self, dbs: u32) -> &mut Self {
        self.max_dbs = Some(dbs);
        self
    }

    /// Environment flags.
    ///
    /// # Safety
    /// Some flags trade durability or safety for speed (`NO_SYNC`, `NO_LOCK`, `WRITE_MAP`
    /// with a corrupting application, ...): read LMDB's documentation of each.
    ///
    /// ```
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// use hedge::EnvFlags;
    /// // SAFETY: nothing else writes these files; WRITE_MAP is sound with a correct program.
    /// let env = unsafe { hedge::EnvOpenOptions::new().flags(EnvFlags::WRITE_MAP | EnvFlags::NO_READ_AHEAD).open(dir.path())? };
    /// assert_eq!(env.flags()?, Some(EnvFlags::WRITE_MAP | EnvFlags::NO_READ_AHEAD));
    /// # Ok(()) }
    /// ```
    pub unsafe fn flags(&mut self, flags: EnvFlags) -> &mut Self {
        self.flags = flags;
        self
    }

    /// Opens the environment at `path`: a directory (created beforehand), or with
    /// `NO_SUB_DIR` the data file itself.
    ///
    /// Errors: [`Error::EnvAlreadyOpened`] if this path is open in this process already;
    /// `Error::Io` with `InvalidInput` for a map size that is not a multiple of the OS page
    /// size; `Error::Io` for a missing directory; `MdbError::Invalid` for a file that is not
    /// an LMDB environment.
    ///
    /// # Safety
    /// LMDB's memory map is only sound if no other process or code writes the files except
    /// through LMDB, and the environment is not opened twice in this process by other means
    /// than hedge (another library, or a raw `mdb_env_open`).
    ///
    /// ```
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// let options = hedge::EnvOpenOptions::new();
    /// let env = unsafe { options.open(dir.path())? };
    /// // One Env per path per process.
    /// assert!(matches!(unsafe { options.open(dir.path()) }, Err(hedge::Error::EnvAlreadyOpened)));
    /// drop(env);
    /// # Ok(()) }
    /// ```
    pub unsafe fn open<P: AsRef<Path>>(&self, path: P) -> Result<Env<T>> {
        self.check_limits()?;
        let path = canonical(path.as_ref())?;
        let mut opened = OPENED.write().unwrap_or_else(|e| e.into_inner());
        let files = env_files(&path, self.flags)?;
        if already_open(&opened, &files) {
            return Err(Error::EnvAlreadyOpened);
        }
        let c_path = CString::new(path.as_os_str().as_encoded_bytes()).map_err(|_| {
            Error::Io(io::Error::new(io::ErrorKind::InvalidInput, "the path contains a NUL byte"))
        })?;
        // The RawEnv closes itself on any error below.
        let raw = RawEnv::create()?;
        if let Some(size) = self.map_size {
            raw.set_map_size(size)?;
        }
        if let Some(readers) = self.max_readers {
            raw.set_max_readers(readers)?;
        }
        if let Some(dbs) = self.max_dbs {
            raw.set_max_dbs(dbs)?;
        }
        // Always MDB_NOTLS, also for WithTls: with thread-local reader slots, LMDB frees a
        // thread's slot when the thread exits, even if a read txn of it was leaked and values
        // read from it (`'static` ones from `static_read_txn`) are still in use elsewhere;
        // the slot's snapshot could then be overwritten under them. WithTls keeps its
        // stricter API (a `RoTxn<WithTls>` is `!Send`).
        raw.open(&c_path, (self.flags | EnvFlags::NO_TLS).bits(), 0o600)?;
        refuse_truncated(&raw, &path)?;
        let inner = EnvInner::new(&mut opened, raw, path, T::ENABLED, files, self.max_dbs.unwrap_or(0));
        Ok(Env::from_inner(Arc::new(inner)))
    }

    /// Refuses numeric options LMDB cannot hold, before anything is opened.
    fn check_limits(&self) -> Result<()> {
        let invalid = |what: String| Err(Error::Io(io::Error::new(io::ErrorKind::InvalidInput, what)));
        if let Some(size) = self.map_size {
            let page = os_page_size();
            if !size.is_multiple_of(page) {
                return invalid(format!(
                    "map size ({size}) must be a multiple of the system page size ({page})"
                ));
            }
        }
        if let Some(readers) = self.max_readers
            && !(1..=EnvOpenOptions::<WithTls>::MAX_READERS).contains(&readers)
        {
            return invalid(format!(
                "max_readers({readers}): the reader table holds 1 to {} slots",
                EnvOpenOptions::<WithTls>::MAX_READERS
            ));
        }
        if let Some(dbs) = self.max_dbs
            && dbs > EnvOpenOptions::<WithTls>::MAX_DBS
        {
            return invalid(format!(
                "max_dbs({dbs}): at most {} named databases",
                EnvOpenOptions::<WithTls>::MAX_DBS
            ));
        }
        Ok(())
    }
}

/// The identities of the files LMDB will use for the env at `path` (data file first, then
/// the lock file), creating them (empty, as LMDB would) if they do not exist yet, so that
/// they can be compared with those of the envs already open before LMDB touches them.
#[cfg(unix)]
fn env_files(path: &Path, flags: EnvFlags) -> Result<Vec<FileId>> {
    let (data, lock) = if flags.contains(EnvFlags::NO_SUB_DIR) {
        let mut lock = path.as_os_str().to_owned();
        lock.push("-lock");
        (path.to_path_buf(), std::path::PathBuf::from(lock))
    } else {
        (path.join("data.mdb"), path.join("lock.mdb"))
    };
    let identity = |file: &Path, create: bool| -> io::Result<FileId> {
        match std::fs::metadata(file) {
            Ok(m) => Ok(FileId::of(&m)),
            Err(e) if e.kind() == io::ErrorKind::NotFound && create => {
                use std::os::unix::fs::OpenOptionsExt;
                match std::fs::File::options().write(true).create_new(true).mode(0o600).open(file) {
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                    Err(e) => return Err(e),
                }
                Ok(FileId::of(&std::fs::metadata(file)?))
            }
            Err(e) => Err(e),
        }
    };
    let read_only = flags.contains(EnvFlags::READ_ONLY);
    // Errors as LMDB would give them (the OS's, for the same file).
    let mut files = vec![identity(&data, !read_only)?];
    if !flags.contains(EnvFlags::NO_LOCK) {
        // A read-only env on a read-only file system may have no lock file (LMDB then goes
        // without): nothing to compare then.
        if let Ok(lock) = identity(&lock, true) {
            files.push(lock);
        }
    }
    Ok(files)
}

/// LMDB maps the data file and trusts its meta page: reading a page past the end of a
/// truncated file faults (SIGBUS) instead of failing. A file shorter than its meta page says
/// is refused at open, unless every page past its end is free (LMDB leaves the file short
/// when the last pages it allocated were freed before being written).
#[cfg(unix)]
fn refuse_truncated(raw: &RawEnv, path: &Path) -> Result<()> {
    let pages = raw.info().me_last_pgno as u64 + 1;
    let needed = pages * u64::from(raw.stat().ms_psize);
    let actual = raw.clone_data_file()?.metadata()?.len();
    if actual >= needed {
        return Ok(());
    }
    match crate::check::first_used_page_past_the_end(raw)? {
        None => Ok(()),
        Some(page) => Err(Error::Io(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{}: the data file is truncated: it has {actual} bytes, but page {page} and others up to \
                 {pages} pages ({needed} bytes) are in use; restore the environment from a copy",
                path.display()
            ),
        ))),
    }
}

#[cfg(not(unix))]
fn refuse_truncated(_: &RawEnv, _: &Path) -> Result<()> {
    Ok(())
}

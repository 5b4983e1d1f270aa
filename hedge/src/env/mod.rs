//! Environments: opening one ([`EnvOpenOptions`]), using it ([`Env`]), and what comes with
//! them (info, closing events, commit tokens).

mod commit;
#[allow(clippy::module_inception)]
mod env;
mod options;

use std::any::TypeId;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::ffi::c_void;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::atomic::{self, AtomicU64, AtomicUsize};
use std::sync::{Arc, Condvar, LazyLock, Mutex, RwLock};
use std::thread::ThreadId;
use std::time::Duration;
use std::{fmt, io};

pub use commit::{CommitOrAbort, CommitToken, OnCommit};
pub use env::Env;
pub use options::EnvOpenOptions;

use crate::mdb::handle::RawEnv;

/// Environments open in this process. LMDB forbids opening one twice in a process: the
/// second open takes the lock file's (per-process) lock again, resets the reader table under
/// the first, or uses another lock file for the same data. Paths do not tell (hard links,
/// renamed directories, `NO_SUB_DIR` on `dir/data.mdb` beside `dir`), so envs are known by
/// the identity of their files.
static OPENED: LazyLock<RwLock<Vec<Opened>>> = LazyLock::new(RwLock::default);

/// One open env's entry in [`OPENED`].
struct Opened {
    /// Its data file and, unless `NO_LOCK`, its lock file.
    files: Vec<FileId>,
    path: PathBuf,
    closing: Arc<ClosingSignal>,
}

/// A file's identity: device and inode.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct FileId {
    dev: u64,
    ino: u64,
}

impl FileId {
    #[cfg(unix)]
    pub(crate) fn of(metadata: &std::fs::Metadata) -> FileId {
        use std::os::unix::fs::MetadataExt;
        FileId { dev: metadata.dev(), ino: metadata.ino() }
    }
}

/// Source of [`EnvInner::ident`]: never reused, unlike the address of an `MDB_env`.
static NEXT_ENV_IDENT: AtomicUsize = AtomicUsize::new(1);

/// Source of openings' serials and of database handles' generations (never 0, never reused).
static NEXT_SERIAL: AtomicU64 = AtomicU64::new(1);

fn next_serial() -> u64 {
    NEXT_SERIAL.fetch_add(1, atomic::Ordering::Relaxed)
}

/// A custom comparator's comparison.
pub(crate) type CompareFn = fn(&[u8], &[u8]) -> Ordering;

/// A comparator hedge installed for a database, known by its Rust type.
#[derive(Clone, Copy)]
pub(crate) struct ComparatorKind {
    pub(crate) type_id: TypeId,
    pub(crate) type_name: &'static str,
    /// The comparison itself for a custom comparator (`None`: LMDB's own, chosen by flags).
    pub(crate) custom: Option<CompareFn>,
}

impl ComparatorKind {
    pub(crate) fn of<C: heed_traits::Comparator + 'static>() -> ComparatorKind {
        let type_id = TypeId::of::<C>();
        let builtin = [TypeId::of::<crate::DefaultComparator>(), TypeId::of::<crate::IntegerComparator>()];
        ComparatorKind {
            type_id,
            type_name: std::any::type_name::<C>(),
            custom: if builtin.contains(&type_id) { None } else { Some(C::compare) },
        }
    }
}

impl PartialEq for ComparatorKind {
    fn eq(&self, other: &Self) -> bool {
        self.type_id == other.type_id
    }
}

/// A database handle opened (and committed) in this env: the comparators LMDB has for it,
/// which are env-wide and so cannot change while the handle may be in use.
#[derive(Clone, Copy)]
pub(crate) struct OpenDatabase {
    pub(crate) dbi: crate::mdb::ffi::MDB_dbi,
    pub(crate) key: ComparatorKind,
    pub(crate) dup: ComparatorKind,
    /// What `Database` handles of it carry (see `EnvInner::is_current_database`).
    pub(crate) generation: u64,
}

/// What an `Env` shares between its clones. Fields drop in order: LMDB closes the env
/// (`raw`) before the files are released and the closing event fires (`registration`), so a
/// new `open` of the same files cannot overlap this close.
pub(crate) struct EnvInner {
    pub(crate) raw: RawEnv,
    pub(crate) path: PathBuf,
    /// Unique in the process for its whole run: what databases and commit tokens are
    /// checked against.
    pub(crate) ident: NonZeroUsize,
    /// Whether the env is a `WithTls` one (LMDB's `MDB_NOTLS` is always set, see
    /// `EnvOpenOptions::open`; this only decides what `Env::get_flags` reports).
    pub(crate) tls: bool,
    /// Serialises the opening of database handles (`mdb_dbi_open` is not thread-safe), and
    /// the thread holding it, so that a nested attempt fails instead of deadlocking.
    pub(crate) open_lock: Mutex<()>,
    pub(crate) open_owner: Mutex<Option<ThreadId>>,
    /// Databases opened and committed, by name (`None`: the unnamed one).
    pub(crate) databases: Mutex<HashMap<Option<String>, OpenDatabase>>,
    /// Databases opened by the opening in progress, not committed yet.
    pending: Mutex<Vec<(Option<String>, OpenDatabase)>>,
    /// The thread whose top-level write txn holds LMDB's write lock, if one does.
    pub(crate) writer: Mutex<Option<ThreadId>>,
    /// Per LMDB handle slot, the generation of the database committed in it (0: none).
    generations: Box<[AtomicU64]>,
    /// The serial of the opening in progress (0: none).
    current_opening: AtomicU64,
    /// Openings that committed new handles so far. A txn begun before one of them has a
    /// stale count of LMDB's handle slots, and opening a database with it would hand out a
    /// slot already in use (`mdb_dbi_open` takes the txn's count as the next free slot).
    openings_committed: AtomicU64,
    /// The env's data and lock files, to refuse copying the env onto them.
    pub(crate) files: Vec<FileId>,
    registration: Registration,
}

impl EnvInner {
    /// A newly opened env, entered in `opened` (the locked [`OPENED`]).
    fn new(
        opened: &mut Vec<Opened>,
        raw: RawEnv,
        path: PathBuf,
        tls: bool,
        files: Vec<FileId>,
        max_dbs: u32,
    ) -> EnvInner {
        let closing = Arc::new(ClosingSignal::default());
        opened.push(Opened { files: files.clone(), path: path.clone(), closing: Arc::clone(&closing) });
        let ident = NEXT_ENV_IDENT.fetch_add(1, atomic::Ordering::Relaxed);
        EnvInner {
            raw,
            path,
            ident: NonZeroUsize::new(ident).expect("the counter starts at 1 and never wraps"),
            tls,
            open_lock: Mutex::new(()),
            open_owner: Mutex::new(None),
            databases: Mutex::default(),
            pending: Mutex::default(),
            writer: Mutex::new(None),
            // LMDB's two databases (free list, unnamed) and max_dbs named ones.
            generations: (0..max_dbs as usize + 2).map(|_| AtomicU64::new(0)).collect(),
            current_opening: AtomicU64::new(0),
            openings_committed: AtomicU64::new(0),
            files,
            registration: Registration { closing },
        }
    }

    fn closing_event(&self) -> EnvClosingEvent {
        EnvClosingEvent(Arc::clone(&self.registration.closing))
    }

    /// Takes the right to open database handles (until the [`Opening`] is dropped); fails
    /// instead of deadlocking when this thread already has it (a database opened from inside
    /// the closure of `open_databases_and_commit`).
    pub(crate) fn begin_opening(&self) -> crate::Result<Opening<'_>> {
        let me = std::thread::current().id();
        if *self.open_owner.lock().unwrap_or_else(|e| e.into_inner()) == Some(me) {
            return Err(crate::Error::Io(io::Error::new(
                io::ErrorKind::Deadlock,
                "databases are already being opened on this thread (open_databases_and_commit or \
                 create_databases_and_commit called from inside another's closure): open them all in \
                 the outer closure",
            )));
        }
        let serialised = self.open_lock.lock().unwrap_or_else(|e| e.into_inner());
        *self.open_owner.lock().unwrap_or_else(|e| e.into_inner()) = Some(me);
        let serial = next_serial();
        self.current_opening.store(serial, atomic::Ordering::Relaxed);
        Ok(Opening { env: self, serial, committed: false, _serialised: serialised })
    }

    /// Database options and openers work only inside the opening that made them (they can be
    /// moved out of its closure; its txn's address may be another txn's later).
    pub(crate) fn check_opening(&self, serial: u64) -> crate::Result<()> {
        let me = std::thread::current().id();
        let owner = *self.open_owner.lock().unwrap_or_else(|e| e.into_inner());
        if owner == Some(me) && self.current_opening.load(atomic::Ordering::Relaxed) == serial {
            return Ok(());
        }
        Err(crate::Error::Io(io::Error::new(
            io::ErrorKind::InvalidInput,
            "database options and openers work only inside the closure of the \
             open_databases_and_commit / create_databases_and_commit call that made them",
        )))
    }

    /// Whether a named database is open (or being opened) in this env.
    pub(crate) fn has_named_databases(&self) -> bool {
        self.databases.lock().unwrap_or_else(|e| e.into_inner()).keys().any(Option::is_some)
            || self.pending.lock().unwrap_or_else(|e| e.into_inner()).iter().any(|(n, _)| n.is_some())
    }

    /// The generation of openings a txn begun now belongs to (read before it begins).
    pub(crate) fn openings_committed(&self) -> u64 {
        self.openings_committed.load(atomic::Ordering::Acquire)
    }

    /// Refuses, for opening databases, a txn begun before another opening committed.
    pub(crate) fn check_txn_generation(&self, opened_at: u64) -> crate::Result<()> {
        if opened_at == self.openings_committed() {
            return Ok(());
        }
        Err(crate::Error::Io(io::Error::new(
            io::ErrorKind::InvalidInput,
            "this transaction began before other databases were opened (LMDB would give a database \
             opened with it a handle slot already in use): open databases with a transaction begun \
             just before",
        )))
    }

    /// Whether a `Database` handle of slot `dbi` with `generation` is the database committed in
    /// that slot, or one opened by the opening in progress.
    #[inline]
    pub(crate) fn is_current_database(&self, dbi: crate::mdb::ffi::MDB_dbi, generation: u64) -> bool {
        let committed = self.generations.get(dbi as usize).map(|g| g.load(atomic::Ordering::Acquire));
        committed == Some(generation) || self.is_pending_database(dbi, generation)
    }

    #[cold]
    fn is_pending_database(&self, dbi: crate::mdb::ffi::MDB_dbi, generation: u64) -> bool {
        let pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        pending.iter().any(|(_, open)| open.dbi == dbi && open.generation == generation)
    }

    /// Inside the closure of `open_databases_and_commit`, this thread holds the env's
    /// database-opening lock, which a thread holding LMDB's write lock may be waiting for
    /// (`create_databases_and_commit`): taking the write lock here could wait for ever.
    pub(crate) fn refuse_inside_opening(&self, what: &str) -> crate::Result<()> {
        if *self.open_owner.lock().unwrap_or_else(|e| e.into_inner()) == Some(std::thread::current().id()) {
            return Err(crate::Error::Io(io::Error::new(
                io::ErrorKind::Deadlock,
                format!(
                    "cannot {what} inside the closure of open_databases_and_commit: it holds the env's \
                     database-opening lock, which a writer may be waiting for. Do it after the call"
                ),
            )));
        }
        Ok(())
    }

    /// The database `name` as opened and committed earlier, or as opened by the opening in
    /// progress.
    pub(crate) fn registered_database(&self, name: &Option<String>) -> Option<OpenDatabase> {
        let databases = self.databases.lock().unwrap_or_else(|e| e.into_inner());
        databases.get(name).copied().or_else(|| {
            let pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            pending.iter().find(|(n, _)| n == name).map(|(_, open)| *open)
        })
    }

    /// Records a database opened by the opening in progress (registered if it commits);
    /// returns the generation its handles carry.
    pub(crate) fn pending_database(
        &self,
        name: Option<String>,
        dbi: crate::mdb::ffi::MDB_dbi,
        key: ComparatorKind,
        dup: ComparatorKind,
    ) -> u64 {
        let generation = next_serial();
        let open = OpenDatabase { dbi, key, dup, generation };
        self.pending.lock().unwrap_or_else(|e| e.into_inner()).push((name, open));
        generation
    }

    /// After LMDB closed the handle `dbi` (a deleted database): its handles are stale.
    pub(crate) fn forget_database(&self, dbi: crate::mdb::ffi::MDB_dbi) {
        self.databases.lock().unwrap_or_else(|e| e.into_inner()).retain(|_, open| open.dbi != dbi);
        if let Some(generation) = self.generations.get(dbi as usize) {
            generation.store(0, atomic::Ordering::Release);
        }
    }

    /// LMDB's `mdb_dbi_open` of the unnamed database set its comparators env-wide from the
    /// opening txn's flags (and hedge may have put a custom one over them); the opening did
    /// not commit, so they go back to what the committed flags say.
    fn reset_unnamed_comparators(&self) {
        use crate::mdb::{ffi, handle::RawTxn};
        // SAFETY: a top-level read txn of this live env, ended below; the open lock is held
        // (by the dropping `Opening`), so no other opening runs.
        let txn = unsafe { RawTxn::begin(&self.raw, None, ffi::MDB_RDONLY) };
        if let Ok(txn) = txn {
            // Nothing to report from a Drop: at worst the comparators stay as they were.
            let _ = txn.dbi_open(None, 0);
            txn.abort();
        }
    }
}

/// The opening of database handles in progress on one thread (see
/// [`EnvInner::begin_opening`]).
pub(crate) struct Opening<'e> {
    env: &'e EnvInner,
    serial: u64,
    committed: bool,
    _serialised: std::sync::MutexGuard<'e, ()>,
}

impl Opening<'_> {
    pub(crate) fn serial(&self) -> u64 {
        self.serial
    }

    /// The transaction committed: the handles it opened are the env's now.
    pub(crate) fn committed(mut self) {
        let pending = std::mem::take(&mut *self.env.pending.lock().unwrap_or_else(|e| e.into_inner()));
        if !pending.is_empty() {
            self.env.openings_committed.fetch_add(1, atomic::Ordering::AcqRel);
        }
        for (_, open) in &pending {
            if let Some(generation) = self.env.generations.get(open.dbi as usize) {
                generation.store(open.generation, atomic::Ordering::Release);
            }
        }
        self.env.databases.lock().unwrap_or_else(|e| e.into_inner()).extend(pending);
        self.committed = true;
    }
}

impl Drop for Opening<'_> {
    fn drop(&mut self) {
        // Uncommitted handles were closed by LMDB with their transaction.
        let pending = std::mem::take(&mut *self.env.pending.lock().unwrap_or_else(|e| e.into_inner()));
        if !self.committed && pending.iter().any(|(name, _)| name.is_none()) {
            self.env.reset_unnamed_comparators();
        }
        self.env.current_opening.store(0, atomic::Ordering::Relaxed);
        *self.env.open_owner.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

/// Whether an env of this process uses one of `files`.
fn already_open(opened: &[Opened], files: &[FileId]) -> bool {
    opened.iter().any(|o| o.files.iter().any(|f| files.contains(f)))
}

/// An env's entry in [`OPENED`]; dropping it removes the entry and signals the closing.
struct Registration {
    closing: Arc<ClosingSignal>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut opened = OPENED.write().unwrap_or_else(|e| e.into_inner());
        opened.retain(|o| !Arc::ptr_eq(&o.closing, &self.closing));
        drop(opened);
        self.closing.signal();
    }
}

/// Signalled once an env's last handle is gone and LMDB has closed it.
#[derive(Default)]
struct ClosingSignal {
    closed: Mutex<bool>,
    cond: Condvar,
}

impl ClosingSignal {
    fn signal(&self) {
        *self.closed.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.cond.notify_all();
    }
}

/// Waits for an environment to be closed: from [`Env::prepare_for_closing`] or
/// [`env_closing_event`].
///
/// ```
/// # fn main() -> hedge::Result<()> {
/// # let dir = tempfile::tempdir()?;
/// # let env = unsafe { hedge::EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
/// let event = hedge::env_closing_event(dir.path()).expect("open");
/// let closer = std::thread::spawn(move || drop(env));
/// event.wait();
/// closer.join().unwrap();
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct EnvClosingEvent(Arc<ClosingSignal>);

impl EnvClosingEvent {
    /// Blocks until the environment is closed.
    ///
    /// ```
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { hedge::EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// let event = env.prepare_for_closing();
    /// event.wait();
    /// # Ok(()) }
    /// ```
    pub fn wait(&self) {
        let mut closed = self.0.closed.lock().unwrap_or_else(|e| e.into_inner());
        while !*closed {
            closed = self.0.cond.wait(closed).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Blocks until the environment is closed or `timeout` passed; `true` if it is closed.
    ///
    /// ```
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { hedge::EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// use std::time::Duration;
    /// let rtxn = env.clone().static_read_txn()?;
    /// let event = env.prepare_for_closing();
    /// assert!(!event.wait_timeout(Duration::from_millis(10)), "a 'static read txn keeps it open");
    /// drop(rtxn);
    /// assert!(event.wait_timeout(Duration::from_secs(10)));
    /// # Ok(()) }
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        let closed = self.0.closed.lock().unwrap_or_else(|e| e.into_inner());
        let (closed, _) = self
            .0
            .cond
            .wait_timeout_while(closed, timeout, |closed| !*closed)
            .unwrap_or_else(|e| e.into_inner());
        *closed
    }
}

impl fmt::Debug for EnvClosingEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnvClosingEvent").finish_non_exhaustive()
    }
}

/// The closing event of the environment open at `path` in this process, if one is.
///
/// ```
/// # fn main() -> hedge::Result<()> {
/// # let dir = tempfile::tempdir()?;
/// let env = unsafe { hedge::EnvOpenOptions::new().open(dir.path())? };
/// let event = hedge::env_closing_event(env.path()).expect("open");
/// drop(env);
/// event.wait();
/// assert!(hedge::env_closing_event(dir.path()).is_none());
/// # Ok(()) }
/// ```
pub fn env_closing_event<P: AsRef<Path>>(path: P) -> Option<EnvClosingEvent> {
    let path = path.as_ref();
    let data_file = if path.is_dir() { path.join("data.mdb") } else { path.to_path_buf() };
    let id = std::fs::metadata(data_file).ok().map(|m| FileId::of(&m));
    let canonical = canonical(path).ok();
    let opened = OPENED.read().unwrap_or_else(|e| e.into_inner());
    opened
        .iter()
        .find(|o| Some(&o.path) == canonical.as_ref() || id.is_some_and(|id| o.files[0] == id))
        .map(|o| EnvClosingEvent(Arc::clone(&o.closing)))
}

/// The path an env is known by (`Env::path`): the canonical path; for a data file that does
/// not exist yet (`NO_SUB_DIR`), its canonical directory joined with the file name.
fn canonical(path: &Path) -> io::Result<PathBuf> {
    match path.canonicalize() {
        Ok(path) => Ok(path),
        Err(e) if e.kind() == io::ErrorKind::NotFound => match (path.parent(), path.file_name()) {
            (Some(dir), Some(name)) => {
                let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
                Ok(dir.canonicalize()?.join(name))
            }
            _ => Err(e),
        },
        Err(e) => Err(e),
    }
}

/// Information about an environment, from `mdb_env_info`.
///
/// ```
/// # fn main() -> hedge::Result<()> {
/// # let dir = tempfile::tempdir()?;
/// # let env = unsafe { hedge::EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
/// let hedge::EnvInfo { map_size, last_txn_id, maximum_number_of_readers, .. } = env.info();
/// assert_eq!((map_size, last_txn_id, maximum_number_of_readers), (1 << 20, 0, 126));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct EnvInfo {
    /// Address of the memory map (only meaningful with `FIXED_MAP`).
    pub map_addr: *mut c_void,
    /// Size of the map in bytes.
    pub map_size: usize,
    /// Number of the last page used.
    pub last_page_number: usize,
    /// Id of the last committed transaction.
    pub last_txn_id: usize,
    /// Size of the reader table.
    pub maximum_number_of_readers: u32,
    /// Reader slots in use.
    pub number_of_readers: u32,
}

/// A slot of the reader table in use (from `mdb_reader_list`): a read transaction of some
/// process, or a slot a process keeps for its next one.
///
/// ```
/// # fn main() -> hedge::Result<()> {
/// # let dir = tempfile::tempdir()?;
/// # let env = unsafe { hedge::EnvOpenOptions::new().read_txn_without_tls().open(dir.path())? };
/// let rtxn = env.read_txn()?;
/// let readers = env.readers()?;
/// let me = readers.iter().find(|r| r.pid == std::process::id()).expect("this process reads");
/// assert_eq!(me.txn_id, Some(rtxn.id() as u64));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReaderInfo {
    /// The process holding the slot.
    pub pid: u32,
    /// The thread that took the slot (an opaque `pthread_t`).
    pub thread: u64,
    /// The snapshot (txn id) the reader holds; `None` for a slot kept between transactions
    /// (it pins nothing).
    pub txn_id: Option<u64>,
}

/// One record of the free list: pages that the write transaction `freed_by` stopped using.
/// LMDB reuses them once no reader can still see them: when every live reader's snapshot is
/// newer than `freed_by` (see [`Env::free_list`]).
///
/// ```
/// let record = hedge::FreeListEntry { freed_by: 7, pages: 3 };
/// assert_eq!(record.pages, 3);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FreeListEntry {
    /// The id of the transaction that freed the pages.
    pub freed_by: u64,
    /// How many pages it freed.
    pub pages: u64,
}

/// Whether [`Env::copy_to_file`] compacts (omits free pages and renumbers) the copy.
///
/// ```
/// # fn main() -> hedge::Result<()> {
/// # let dir = tempfile::tempdir()?;
/// # let env = unsafe { hedge::EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
/// let compacted = tempfile::tempfile()?;
/// let mut compacted = compacted;
/// env.copy_to_file(&mut compacted, hedge::CompactionOption::Enabled)?;
/// # Ok(()) }
/// ```
#[derive(Debug, Copy, Clone)]
pub enum CompactionOption {
    /// Compact: slower, smaller copy.
    Enabled,
    /// Copy pages as they are.
    Disabled,
}

/// Whether [`Env::set_flags`] turns the flags on or off.
///
/// ```
/// # fn main() -> hedge::Result<()> {
/// # let dir = tempfile::tempdir()?;
/// # let env = unsafe { hedge::EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
/// use hedge::{EnvFlags, FlagSetMode};
/// // SAFETY: no write transaction is in flight.
/// unsafe { env.set_flags(EnvFlags::NO_META_SYNC, FlagSetMode::Enable)? };
/// assert_eq!(env.flags()?, Some(EnvFlags::NO_META_SYNC));
/// # Ok(()) }
/// ```
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FlagSetMode {
    /// Turn the flags on.
    Enable,
    /// Turn the flags off.
    Disable,
}

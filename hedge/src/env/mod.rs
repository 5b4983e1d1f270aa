//! Environments: opening one ([`EnvOpenOptions`]), using it ([`Env`]), and what comes with
//! them (info, closing events, commit tokens).

mod commit;
#[allow(clippy::module_inception)]
mod env;
mod options;

use std::collections::HashMap;
use std::ffi::c_void;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, LazyLock, Mutex, RwLock};
use std::time::Duration;
use std::{fmt, io};

pub use commit::{CommitOrAbort, CommitToken, OnCommit};
pub use env::Env;
pub use options::EnvOpenOptions;

use crate::mdb::handle::RawEnv;

/// Environments open in this process, by canonical path: LMDB forbids opening one twice.
static OPENED: LazyLock<RwLock<HashMap<PathBuf, Arc<ClosingSignal>>>> = LazyLock::new(RwLock::default);

/// What an `Env` shares between its clones. Fields drop in order: LMDB closes the env
/// (`raw`) before the path is released and the closing event fires (`registration`), so a
/// new `open` of the same path cannot overlap this close.
pub(crate) struct EnvInner {
    pub(crate) raw: RawEnv,
    pub(crate) path: PathBuf,
    /// Serialises the opening of database handles (`mdb_dbi_open` is not thread-safe).
    pub(crate) open_lock: Mutex<()>,
    registration: Registration,
}

impl EnvInner {
    fn closing_event(&self) -> EnvClosingEvent {
        EnvClosingEvent(Arc::clone(&self.registration.closing))
    }
}

/// An env's entry in [`OPENED`]; dropping it removes the entry and signals the closing.
struct Registration {
    path: PathBuf,
    closing: Arc<ClosingSignal>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut opened = OPENED.write().unwrap_or_else(|e| e.into_inner());
        opened.remove(&self.path);
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
    let opened = OPENED.read().unwrap_or_else(|e| e.into_inner());
    let path = canonical(path.as_ref()).ok()?;
    opened.get(&path).map(|signal| EnvClosingEvent(Arc::clone(signal)))
}

/// The key of the registry: the canonical path; for a data file that does not exist yet
/// (`NO_SUB_DIR`), its canonical directory joined with the file name.
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

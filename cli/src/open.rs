//! Finding and opening the environment a command names, with errors that say what to do.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use hedge::types::Bytes;
use hedge::{CommitOrAbort, Database, Env, EnvFlags, EnvOpenOptions, MdbError, WithoutTls};

/// A database read and written as raw bytes.
pub type Db = Database<'static, Bytes, Bytes>;

/// A failed command: the message to print (it says what to do).
#[derive(Debug)]
pub struct Failure(pub String);

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

pub fn fail<T>(message: impl Into<String>) -> Result<T, Failure> {
    Err(Failure(message.into()))
}

impl Failure {
    /// What the reader of the output stopped reading early (`hedge dump ENV | head`) fails
    /// with: not an error to report.
    pub const OUTPUT_CLOSED: &str = "the output was closed";

    /// A failure to write `what`.
    pub fn writing(what: &str, e: io::Error) -> Failure {
        if e.kind() == io::ErrorKind::BrokenPipe {
            return Failure(Failure::OUTPUT_CLOSED.into());
        }
        Failure(format!("writing {what}: {e}"))
    }
}

/// An environment on disk: a directory with `data.mdb`, or the data file itself.
#[derive(Debug, Clone)]
pub struct Located {
    /// As the user gave it.
    pub path: PathBuf,
    /// The data file.
    pub data: PathBuf,
    /// The path is the data file (LMDB's `NO_SUB_DIR`).
    pub file: bool,
}

impl Located {
    pub fn shown(&self) -> String {
        self.path.display().to_string()
    }
}

/// What LMDB's or hedge's error means for the environment at `at`, and what to do.
pub fn explain(at: &Located, error: hedge::Error) -> Failure {
    let path = at.shown();
    Failure(match error {
        hedge::Error::Mdb(MdbError::Invalid) => format!(
            "{path}: not an LMDB environment: {} has no LMDB header. Give the directory that holds \
             data.mdb, or the data file itself",
            at.data.display()
        ),
        hedge::Error::Mdb(MdbError::VersionMismatch) => format!(
            "{path}: written by an LMDB of another data format version (or damaged): open it with \
             the LMDB that wrote it and dump it with that version's mdb_dump"
        ),
        hedge::Error::Mdb(e @ (MdbError::Corrupted | MdbError::PageNotFound | MdbError::Panic)) => {
            // The error's own text gives the same advice, for a path it does not know.
            let code = match e {
                MdbError::Corrupted => "MDB_CORRUPTED",
                MdbError::PageNotFound => "MDB_PAGE_NOTFOUND",
                _ => "MDB_PANIC",
            };
            format!(
                "{path}: the environment is damaged ({code}): `hedge check {path}` lists the problems; \
                 restore it from a copy"
            )
        }
        hedge::Error::Mdb(MdbError::ReadersFull) => format!(
            "{path}: the reader table is full: `hedge readers {path} --clear-stale` frees the slots of \
             processes that died; otherwise end some readers"
        ),
        hedge::Error::Mdb(MdbError::MapFull) => {
            format!("{path}: the map is full: give a larger map size (--map-size BYTES)")
        }
        hedge::Error::Io(e) if e.kind() == io::ErrorKind::PermissionDenied => format!(
            "{path}: permission denied ({e}): run as a user who may read the environment's files \
             (and write its lock file)"
        ),
        hedge::Error::Io(e) if e.kind() == io::ErrorKind::NotFound => {
            format!("{path}: {e}: give the directory that holds data.mdb, or the data file itself")
        }
        other => {
            // hedge's own messages may name the environment already (by its canonical path).
            let message = other.to_string();
            let canonical = at.path.canonicalize().unwrap_or_else(|_| at.path.clone());
            if message.starts_with(&path) || message.starts_with(&canonical.display().to_string()) {
                message
            } else {
                format!("{path}: {message}")
            }
        }
    })
}

/// Finds the environment at `path` without touching it.
pub fn locate(path: &Path) -> Result<Located, Failure> {
    let shown = path.display();
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return fail(format!(
                "{shown}: no such file or directory: give the directory that holds data.mdb, or the data \
                 file itself"
            ));
        }
        Err(e) => return fail(format!("{shown}: {e}")),
    };
    let (data, file) =
        if meta.is_dir() { (path.join("data.mdb"), false) } else { (path.to_path_buf(), true) };
    match std::fs::metadata(&data) {
        Ok(m) if m.len() == 0 => fail(format!(
            "{}: an empty file, not an LMDB environment (an environment whose creation never finished \
             holds no data: remove it)",
            data.display()
        )),
        Ok(m) if m.is_file() => Ok(Located { path: path.to_path_buf(), data, file }),
        Ok(_) => fail(format!("{}: not a regular file: not an LMDB environment", data.display())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => fail(format!(
            "{shown}: a directory without data.mdb: not an LMDB environment. Give the directory that \
             holds data.mdb, or the data file itself"
        )),
        Err(e) => fail(format!("{}: {e}", data.display())),
    }
}

/// How a command opens the environment.
#[derive(Clone, Copy, Debug, Default)]
pub struct Opening {
    pub write: bool,
    pub max_dbs: u32,
    pub map_size: Option<usize>,
    pub max_readers: Option<u32>,
}

/// Opens the environment found by [`locate`] (or to be created by `load`).
pub fn open(at: &Located, how: Opening) -> Result<Env<WithoutTls>, Failure> {
    let mut options = EnvOpenOptions::new().read_txn_without_tls();
    options.max_dbs(how.max_dbs);
    if let Some(size) = how.map_size {
        options.map_size(size);
    }
    if let Some(readers) = how.max_readers {
        options.max_readers(readers);
    }
    let mut flags = EnvFlags::empty();
    if !how.write {
        flags |= EnvFlags::READ_ONLY;
    }
    if at.file {
        flags |= EnvFlags::NO_SUB_DIR;
    }
    // SAFETY: READ_ONLY and NO_SUB_DIR change where LMDB looks and what it may write, nothing
    // it relies on; the environment's files are the user's LMDB files, written only through
    // LMDB (the memory map's precondition), and this process opens them once.
    unsafe { options.flags(flags) };
    // SAFETY: as above.
    unsafe { options.open(&at.path) }.map_err(|e| explain(at, e))
}

/// Closes `env` (the last handle) and waits until LMDB has.
pub fn close(env: Env<WithoutTls>) {
    env.prepare_for_closing().wait();
}

/// Walks every page (hedge's own defensive reader, `Env::check`) before a command reads
/// the environment, so that a damaged one is refused as a whole: with hedge's patch 0009 LMDB
/// reports the damage it meets (`MDB_CORRUPTED`), but only when a read reaches it, after a
/// dump or copy may have written part of its output.
pub fn verify(env: &Env<WithoutTls>, at: &Located) -> Result<(), Failure> {
    let report = env.check().map_err(|e| explain(at, e))?;
    if let Some(first) = report.problems.first() {
        let path = at.shown();
        let more = match report.problems.len() {
            1 => String::new(),
            n => format!(" (and {} more)", n - 1),
        };
        return fail(format!(
            "{path}: the environment is damaged: {first}{more}. `hedge check {path}` lists every problem; \
             restore the environment from a copy (hedge reads no part of a damaged environment, so that \
             no dump or copy of it is partial)"
        ));
    }
    Ok(())
}

/// The names of the named databases, from the unnamed database's records: keys without a
/// NUL byte whose value is a 48-byte database record (a plain value of that size is told
/// apart when the database is opened: LMDB refuses it as incompatible).
pub fn database_names(env: &Env<WithoutTls>, at: &Located) -> Result<Vec<Vec<u8>>, Failure> {
    const DB_RECORD: usize = 48;
    let main = open_main(env, at)?;
    let rtxn = env.read_txn().map_err(|e| explain(at, e))?;
    let mut names = Vec::new();
    for entry in main.iter(&rtxn).map_err(|e| explain(at, e))? {
        let (key, value) = entry.map_err(|e| explain(at, e))?;
        if value.len() == DB_RECORD && !key.contains(&0) && names.last().is_none_or(|n: &Vec<u8>| n != key) {
            names.push(key.to_vec());
        }
    }
    Ok(names)
}

/// The unnamed database.
pub fn open_main(env: &Env<WithoutTls>, at: &Located) -> Result<Db, Failure> {
    let rtxn = env.read_txn().map_err(|e| explain(at, e))?;
    let main = env
        .open_databases_and_commit(rtxn, |o, r| o.open_database(r, None).map(CommitOrAbort::<_, ()>::Commit))
        .map_err(|e| explain(at, e))?
        .unwrap_commit();
    match main {
        Some(db) => Ok(db),
        None => fail(format!("{}: the unnamed database cannot be opened", at.shown())),
    }
}

/// What opening a named database found.
pub enum Named {
    Open(Db),
    /// No such key in the unnamed database.
    Missing,
    /// The key holds a plain value, not a database.
    NotADatabase,
    /// hedge opens databases by `&str` names.
    NotUtf8,
}

/// Opens the named databases `names` (in one read transaction, committed so that the handles
/// stay usable).
pub fn open_named(
    env: &Env<WithoutTls>,
    at: &Located,
    names: &[Vec<u8>],
) -> Result<Vec<(Vec<u8>, Named)>, Failure> {
    let rtxn = env.read_txn().map_err(|e| explain(at, e))?;
    let opened = env
        .open_databases_and_commit(rtxn, |o, r| {
            let mut opened = Vec::new();
            for name in names {
                let Ok(text) = std::str::from_utf8(name) else {
                    opened.push(Err(Named::NotUtf8));
                    continue;
                };
                opened.push(match o.open_database::<Bytes, Bytes>(r, Some(text)) {
                    Ok(Some(db)) => Ok(db),
                    Ok(None) => Err(Named::Missing),
                    Err(hedge::Error::Mdb(MdbError::Incompatible)) => Err(Named::NotADatabase),
                    Err(e) => return Err(e),
                });
            }
            Ok(CommitOrAbort::<_, ()>::Commit(opened))
        })
        .map_err(|e| explain(at, e))?
        .unwrap_commit();
    Ok(names.iter().cloned().zip(opened.into_iter().map(|o| o.map_or_else(|n| n, Named::Open))).collect())
}

/// Opens the environment read-only with room for every named database, after checking it
/// (unless `trust`); returns it and the names of its named databases.
pub fn open_for_reading(at: &Located, trust: bool) -> Result<(Env<WithoutTls>, Vec<Vec<u8>>), Failure> {
    open_for_reading_after(at, trust, |_| Ok(()))
}

/// [`open_for_reading`], showing the freshly opened environment to `first_look` before any
/// transaction begins (what `mdb_stat` reports of the environment comes from there).
pub fn open_for_reading_after(
    at: &Located,
    trust: bool,
    first_look: impl FnOnce(&Env<WithoutTls>) -> Result<(), Failure>,
) -> Result<(Env<WithoutTls>, Vec<Vec<u8>>), Failure> {
    // One database slot: enough to look a name up (and to open it) without reopening.
    let env = open(at, Opening { max_dbs: 1, ..Opening::default() })?;
    first_look(&env)?;
    if !trust {
        verify(&env, at)?;
    }
    let names = database_names(&env, at)?;
    if names.len() <= 1 {
        return Ok((env, names));
    }
    // LMDB sizes its handle table at open: reopen with one slot per named database.
    close(env);
    let max_dbs = u32::try_from(names.len()).unwrap_or(u32::MAX).min(EnvOpenOptions::MAX_DBS);
    let env = open(at, Opening { max_dbs, ..Opening::default() })?;
    Ok((env, names))
}

/// Shows a database name as the dump and stat tools do (its bytes), lossily for a terminal.
pub fn name_text(name: &[u8]) -> String {
    String::from_utf8_lossy(name).into_owned()
}

//! The error type of hedge: heed 0.23's, variant for variant.

use std::{error, fmt, io};

use crate::BoxedError;
use crate::mdb::error::MdbError;

/// An error of hedge: heed 0.23's [`Error`] with the same variants, so that `match`es
/// written for heed compile unchanged. LMDB codes that are `errno` values (e.g. `ENOSPC`)
/// become [`Error::Io`] with that OS error, as in heed.
///
/// ```
/// # use hedge::types::*; use hedge::*;
/// # fn main() -> hedge::Result<()> {
/// # let dir = tempfile::tempdir()?;
/// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
/// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
/// let mut wtxn = env.write_txn()?;
/// db.put(&mut wtxn, "k", "v")?;
/// let err = db.put_with_flags(&mut wtxn, PutFlags::NO_OVERWRITE, "k", "w").unwrap_err();
/// match err {
///     Error::Mdb(MdbError::KeyExist) => {} // what a heed user matches, unchanged
///     other => panic!("unexpected: {other}"),
/// }
/// // Stored bytes that do not decode are a Decoding error.
/// db.remap_data_type::<Bytes>().put(&mut wtxn, "bad", &[0xff])?;
/// assert!(matches!(db.get(&wtxn, "bad"), Err(Error::Decoding(_))));
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub enum Error {
    /// An I/O error: from the file system, or an `errno` returned by LMDB.
    Io(io::Error),
    /// An LMDB error.
    Mdb(MdbError),
    /// A key or value could not be encoded by its codec.
    Encoding(BoxedError),
    /// A stored key or value could not be decoded by its codec (wrong type or size).
    Decoding(BoxedError),
    /// This path is already open in this process as another `Env`: LMDB forbids opening an
    /// environment twice in one process. Reuse (clone) the open `Env`, or close it first.
    EnvAlreadyOpened,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "{e}"),
            Error::Mdb(e) => write!(f, "{e}"),
            Error::Encoding(e) => write!(f, "error while encoding: {e}"),
            Error::Decoding(e) => write!(f, "error while decoding: {e}"),
            Error::EnvAlreadyOpened => f.write_str(
                "environment already open in this program: reuse the open Env, or close it to open it \
                 again with different options",
            ),
        }
    }
}

impl error::Error for Error {
    fn source(&self) -> Option<&(dyn error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            Error::Mdb(e) => Some(e),
            Error::Encoding(e) | Error::Decoding(e) => Some(&**e),
            Error::EnvAlreadyOpened => None,
        }
    }
}

impl From<MdbError> for Error {
    fn from(error: MdbError) -> Error {
        match error {
            MdbError::Other(errno) => Error::Io(io::Error::from_raw_os_error(errno)),
            error => Error::Mdb(error),
        }
    }
}

impl From<io::Error> for Error {
    fn from(error: io::Error) -> Error {
        Error::Io(error)
    }
}

/// `Result<T, hedge::Error>`.
///
/// ```
/// fn open(path: &std::path::Path) -> hedge::Result<hedge::Env> {
///     unsafe { hedge::EnvOpenOptions::new().open(path) }
/// }
/// let dir = tempfile::tempdir().unwrap();
/// assert!(open(dir.path()).is_ok());
/// assert!(open(&dir.path().join("missing")).is_err());
/// ```
pub type Result<T> = std::result::Result<T, Error>;

//! The error type of hedge: heed 0.23's, variant for variant.

use std::{error, fmt, io};

use crate::BoxedError;
use crate::mdb::error::MdbError;

/// An error of hedge: heed 0.23's [`Error`] with the same variants, so that `match`es
/// written for heed compile unchanged. LMDB codes that are `errno` values (e.g. `ENOSPC`)
/// become [`Error::Io`] with that OS error, as in heed.
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
pub type Result<T> = std::result::Result<T, Error>;

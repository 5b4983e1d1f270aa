use std::ffi::{CStr, c_int};
use std::fmt;

use super::ffi;

/// An error code returned by LMDB, with heed 0.23's variant names.
///
/// The enum is exhaustive, as heed's is, so that `match`es written for heed compile
/// unchanged; codes without a variant (`errno` values such as `ENOSPC`) are [`Other`].
///
/// [`Other`]: MdbError::Other
///
/// ```
/// use hedge::MdbError;
///
/// for code in [-30799, -30782, 28] {
///     assert_eq!(MdbError::from_err_code(code).to_err_code(), code);
/// }
/// assert_eq!(MdbError::from_err_code(28), MdbError::Other(28));
/// ```
#[derive(Debug, Copy, Clone, Eq, PartialEq)]
pub enum MdbError {
    /// `MDB_KEYEXIST`: the key/data pair already exists (`NO_OVERWRITE`, `NO_DUP_DATA`),
    /// or an `APPEND` put was not in order.
    KeyExist,
    /// `MDB_NOTFOUND`: no matching key/data pair.
    NotFound,
    /// `MDB_PAGE_NOTFOUND`: a requested page was not found; usually a damaged file.
    PageNotFound,
    /// `MDB_CORRUPTED`: the data file is damaged: a page or record LMDB read is not valid (a
    /// page of the wrong type or number, a node or value past its page, an overflow run or a
    /// sub-database record that does not fit, a meta page naming pages the file lacks). The
    /// transaction that met it is unusable; its message says what to do.
    Corrupted,
    /// `MDB_PANIC`: a fatal error occurred earlier; the environment must be closed.
    Panic,
    /// `MDB_VERSION_MISMATCH`: the environment was written by an incompatible LMDB.
    VersionMismatch,
    /// `MDB_INVALID`: the file is not an LMDB data file.
    Invalid,
    /// `MDB_MAP_FULL`: the map size is reached; commit or abort, then resize the env.
    MapFull,
    /// `MDB_DBS_FULL`: more named databases than `max_dbs`.
    DbsFull,
    /// `MDB_READERS_FULL`: more concurrent readers than `max_readers`.
    ReadersFull,
    /// `MDB_TLS_FULL`: too many TLS keys in use (Windows only).
    TlsFull,
    /// `MDB_TXN_FULL`: the transaction has too many dirty pages; commit it and go on in a new one.
    TxnFull,
    /// `MDB_CURSOR_FULL`: cursor stack too deep; internal error.
    CursorFull,
    /// `MDB_PAGE_FULL`: page has not enough space; internal error.
    PageFull,
    /// `MDB_MAP_RESIZED`: another process grew the map beyond this env's map size.
    MapResized,
    /// `MDB_INCOMPATIBLE`: the operation does not fit the database's flags (e.g. a
    /// `DUP_SORT` operation on a plain database), or a database was re-created differently.
    Incompatible,
    /// `MDB_BAD_RSLOT`: invalid reuse of a reader slot (e.g. two TLS read txns on one thread).
    BadRslot,
    /// `MDB_BAD_TXN`: the transaction is unusable (failed earlier, finished, or blocked by a
    /// live child); abort it.
    BadTxn,
    /// `MDB_BAD_VALSIZE`: key or value size not supported: an empty or over-long key, a
    /// `DUP_SORT` value over the key size limit, or a wrong `DUP_FIXED` size.
    BadValSize,
    /// `MDB_BAD_DBI`: the database handle was closed or changed unexpectedly.
    BadDbi,
    /// `MDB_PROBLEM`: unexpected problem; the transaction should be aborted.
    Problem,
    /// Any other code, usually an `errno` value.
    Other(c_int),
}

const NAMED: [(MdbError, c_int); 21] = [
    (MdbError::KeyExist, ffi::MDB_KEYEXIST),
    (MdbError::NotFound, ffi::MDB_NOTFOUND),
    (MdbError::PageNotFound, ffi::MDB_PAGE_NOTFOUND),
    (MdbError::Corrupted, ffi::MDB_CORRUPTED),
    (MdbError::Panic, ffi::MDB_PANIC),
    (MdbError::VersionMismatch, ffi::MDB_VERSION_MISMATCH),
    (MdbError::Invalid, ffi::MDB_INVALID),
    (MdbError::MapFull, ffi::MDB_MAP_FULL),
    (MdbError::DbsFull, ffi::MDB_DBS_FULL),
    (MdbError::ReadersFull, ffi::MDB_READERS_FULL),
    (MdbError::TlsFull, ffi::MDB_TLS_FULL),
    (MdbError::TxnFull, ffi::MDB_TXN_FULL),
    (MdbError::CursorFull, ffi::MDB_CURSOR_FULL),
    (MdbError::PageFull, ffi::MDB_PAGE_FULL),
    (MdbError::MapResized, ffi::MDB_MAP_RESIZED),
    (MdbError::Incompatible, ffi::MDB_INCOMPATIBLE),
    (MdbError::BadRslot, ffi::MDB_BAD_RSLOT),
    (MdbError::BadTxn, ffi::MDB_BAD_TXN),
    (MdbError::BadValSize, ffi::MDB_BAD_VALSIZE),
    (MdbError::BadDbi, ffi::MDB_BAD_DBI),
    (MdbError::Problem, ffi::MDB_PROBLEM),
];

impl MdbError {
    /// Whether this is [`MdbError::NotFound`].
    ///
    /// ```
    /// use hedge::MdbError;
    /// assert!(MdbError::NotFound.not_found());
    /// assert!(!MdbError::KeyExist.not_found());
    /// ```
    pub fn not_found(&self) -> bool {
        *self == MdbError::NotFound
    }

    /// The error for an LMDB return code (`0` is not an error; it maps to `Other(0)`).
    ///
    /// ```
    /// use hedge::MdbError;
    /// assert_eq!(MdbError::from_err_code(-30799), MdbError::KeyExist);
    /// assert_eq!(MdbError::from_err_code(28), MdbError::Other(28));
    /// ```
    pub fn from_err_code(err_code: c_int) -> MdbError {
        NAMED.iter().find(|(_, code)| *code == err_code).map_or(MdbError::Other(err_code), |(e, _)| *e)
    }

    /// The LMDB return code of this error; `from_err_code(e.to_err_code()) == e`.
    ///
    /// ```
    /// use hedge::MdbError;
    /// assert_eq!(MdbError::MapFull.to_err_code(), -30792);
    /// assert_eq!(MdbError::from_err_code(MdbError::MapFull.to_err_code()), MdbError::MapFull);
    /// ```
    pub fn to_err_code(&self) -> c_int {
        match self {
            MdbError::Other(code) => *code,
            named => NAMED.iter().find(|(e, _)| e == named).map(|(_, code)| *code).unwrap_or_default(),
        }
    }
}

/// What to do about a damaged data file, after the code's own text.
const DAMAGED: &str =
    "the data file is damaged: restore it from a backup (`hedge check ENV` lists what is damaged)";

impl fmt::Display for MdbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == MdbError::Corrupted {
            // LMDB's own text ("Located page was wrong type") predates its other checks.
            return write!(f, "MDB_CORRUPTED: {DAMAGED}");
        }
        // SAFETY: mdb_strerror returns a NUL-terminated string that is static for LMDB's
        // codes and from strerror(3) otherwise; it is copied out before anything else runs
        // on this thread.
        let message = unsafe { CStr::from_ptr(ffi::mdb_strerror(self.to_err_code())) };
        f.write_str(&message.to_string_lossy())?;
        if *self == MdbError::PageNotFound {
            write!(f, ": {DAMAGED}")?;
        }
        Ok(())
    }
}

impl std::error::Error for MdbError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_lmdb_code_round_trips_and_is_named() {
        for code in ffi::MDB_KEYEXIST..=ffi::MDB_LAST_ERRCODE {
            let err = MdbError::from_err_code(code);
            assert!(!matches!(err, MdbError::Other(_)), "{code} has no variant");
            assert_eq!(err.to_err_code(), code);
            assert!(err.to_string().starts_with("MDB_"), "{err}");
        }
        assert!(MdbError::Corrupted.to_string().contains("restore it from a backup"));
        assert!(
            MdbError::PageNotFound
                .to_string()
                .starts_with("MDB_PAGE_NOTFOUND: Requested page not found: the")
        );
        for errno in [1, 2, 12, 22, 28] {
            assert_eq!(MdbError::from_err_code(errno), MdbError::Other(errno));
            assert_eq!(MdbError::Other(errno).to_err_code(), errno);
        }
    }
}

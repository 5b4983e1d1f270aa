//! hedge: a safe, typed LMDB wrapper with heed 0.23's API, over an LMDB built from pristine
//! upstream source with hedge's patch series (concurrent nested read-only transactions of
//! a write transaction; `MDB_RESERVE` on overflow pages without wasted copies).
//!
//! The crate is being built up issue by issue; today it offers LMDB's error codes as
//! [`MdbError`] and [`lmdb_version`]. Code written for heed keeps its names:
//!
//! ```
//! use hedge::MdbError;
//!
//! let err = MdbError::from_err_code(-30798);
//! assert_eq!(err, MdbError::NotFound);
//! assert!(err.not_found());
//! assert_eq!(err.to_string(), "MDB_NOTFOUND: No matching key/data pair found");
//! ```

#![deny(missing_docs)]
#![warn(clippy::undocumented_unsafe_blocks)]

mod database;
mod env;
mod error;
mod mdb;
mod txn;

pub use byteorder;
pub use heed_traits::{BoxedError, BytesDecode, BytesEncode, Comparator, LexicographicComparator};
pub use heed_types as types;

pub use database::{
    Database, DatabaseOpenOptions, DatabaseOpener, DatabaseStat, DefaultComparator, IntegerComparator,
    Unspecified,
};
pub use env::{
    env_closing_event, CommitOrAbort, CommitToken, CompactionOption, Env, EnvClosingEvent, EnvInfo,
    EnvOpenOptions, FlagSetMode, OnCommit,
};
pub use error::{Error, Result};
pub use mdb::error::MdbError;
pub use mdb::flags::{DatabaseFlags, EnvFlags, PutFlags};
pub use mdb::version::{lmdb_version, LmdbVersion};
pub use txn::{AnyTls, RoTxn, RwTxn, TlsUsage, WithTls, WithoutTls};

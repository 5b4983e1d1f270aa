//! hedge: a safe, typed LMDB wrapper with heed 0.23's API, over an LMDB built from pristine
//! upstream source with hedge's patch series (concurrent nested read-only transactions of
//! a write transaction; `MDB_RESERVE` on overflow pages without wasted copies).
//!
//! Code written for heed 0.23 keeps its names: `heed = { package = "hedge", ... }` (heed's
//! own examples build and run unchanged that way). Beyond heed: nested read transactions on
//! every write transaction whatever the TLS mode, reserved writes that never leave unwritten
//! bytes, [`codec::PodSlice`] for embeddings (zero-copy when aligned),
//! [`Database::put_reserved_slice`] (fill a `&mut [f32]` in LMDB's page) and
//! [`Database::put_reserved_elements`] (produce a vector straight into it),
//! [`Database::count_duplicates`], and `MDB_MULTIPLE`/`MDB_GET_MULTIPLE` for `DUP_FIXED`
//! databases ([`Database::put_fixed_duplicates`], [`Database::fixed_duplicates`]).
//!
//! [`ParallelReader`] (feature `parallel`, on by default) reads an uncommitted write
//! transaction from a whole rayon pool at once; [`Env::check`] walks every page of an
//! environment and reports inconsistencies LMDB itself would not notice (or would abort on).
//! [`Env::readers`] and [`Env::free_list`] show what keeps freed pages from reuse (the
//! `hedge` command of the `hedge-cli` package reports space from them).
//!
//! The feature `pristine-lmdb` links upstream LMDB without the patches instead
//! ([`PATCHED_LMDB`] says which one is linked), for comparisons.
//!
//! ```
//! use hedge::types::{Str, U32};
//! use hedge::{byteorder::BigEndian, CommitOrAbort, Database, EnvOpenOptions};
//!
//! # fn main() -> hedge::Result<()> {
//! # let dir = tempfile::tempdir()?;
//! let env = unsafe { EnvOpenOptions::new().max_dbs(1).open(dir.path())? };
//! let wtxn = env.write_txn()?;
//! let db: Database<Str, U32<BigEndian>> = env
//!     .create_databases_and_commit(wtxn, |opener, wtxn| {
//!         opener.create_database(wtxn, Some("ages")).map(CommitOrAbort::<_, ()>::Commit)
//!     })?
//!     .unwrap_commit();
//!
//! let mut wtxn = env.write_txn()?;
//! db.put(&mut wtxn, "alice", &31)?;
//! // Read the uncommitted state from another thread through a nested read transaction.
//! let reader = wtxn.nested_read_txn()?;
//! std::thread::scope(|s| {
//!     s.spawn(move || assert_eq!(db.get(&reader, "alice").unwrap(), Some(31)));
//! });
//! db.put(&mut wtxn, "bob", &27)?;
//! wtxn.commit()?;
//! let rtxn = env.read_txn()?;
//! assert_eq!(db.len(&rtxn)?, 2);
//! # Ok(()) }
//! ```
//!
//! # Rules the compiler enforces
//!
//! Each example below is refused at compile time (they run as `compile_fail` tests, and
//! `.ci/compile-fail` checks that each fails with the error code it names).
//!
//! A value read from a transaction cannot outlive it:
//!
//! ```compile_fail,E0597
//! # use hedge::types::Str; use hedge::{CommitOrAbort, Database};
//! # fn main() -> hedge::Result<()> { let dir = tempfile::tempdir()?;
//! # let env = unsafe { hedge::EnvOpenOptions::new().open(dir.path())? };
//! # let wtxn = env.write_txn()?;
//! # let db: Database<Str, Str> = env.create_databases_and_commit(wtxn, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
//! let value = {
//!     let rtxn = env.read_txn()?;
//!     db.get(&rtxn, "k")?
//! };
//! # drop(value); Ok(()) }
//! ```
//!
//! nor be held across a write of the same transaction:
//!
//! ```compile_fail,E0502
//! # use hedge::types::Str; use hedge::{CommitOrAbort, Database};
//! # fn main() -> hedge::Result<()> { let dir = tempfile::tempdir()?;
//! # let env = unsafe { hedge::EnvOpenOptions::new().open(dir.path())? };
//! # let wtxn = env.write_txn()?;
//! # let db: Database<Str, Str> = env.create_databases_and_commit(wtxn, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
//! let mut wtxn = env.write_txn()?;
//! let value = db.get(&wtxn, "k")?;
//! db.put(&mut wtxn, "k", "new")?;
//! drop(value);
//! # Ok(()) }
//! ```
//!
//! A write transaction cannot write while a nested read transaction of it lives:
//!
//! ```compile_fail,E0502
//! # use hedge::types::Str; use hedge::{CommitOrAbort, Database};
//! # fn main() -> hedge::Result<()> { let dir = tempfile::tempdir()?;
//! # let env = unsafe { hedge::EnvOpenOptions::new().open(dir.path())? };
//! # let wtxn = env.write_txn()?;
//! # let db: Database<Str, Str> = env.create_databases_and_commit(wtxn, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
//! let mut wtxn = env.write_txn()?;
//! let reader = wtxn.nested_read_txn()?;
//! db.put(&mut wtxn, "k", "v")?;
//! drop(reader);
//! # Ok(()) }
//! ```
//!
//! nor while a [`ParallelReader`] of it lives:
//!
//! ```compile_fail,E0502
//! # use hedge::types::Str; use hedge::{CommitOrAbort, Database};
//! # fn main() -> hedge::Result<()> { let dir = tempfile::tempdir()?;
//! # let env = unsafe { hedge::EnvOpenOptions::new().open(dir.path())? };
//! # let wtxn = env.write_txn()?;
//! # let db: Database<Str, Str> = env.create_databases_and_commit(wtxn, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
//! let mut wtxn = env.write_txn()?;
//! let view = hedge::ParallelReader::new(&wtxn)?;
//! db.put(&mut wtxn, "k", "v")?;
//! drop(view);
//! # Ok(()) }
//! ```
//!
//! nor commit, abort or be dropped:
//!
//! ```compile_fail,E0505
//! # fn main() -> hedge::Result<()> { let dir = tempfile::tempdir()?;
//! # let env = unsafe { hedge::EnvOpenOptions::new().open(dir.path())? };
//! let wtxn = env.write_txn()?;
//! let reader = wtxn.nested_read_txn()?;
//! wtxn.commit()?;
//! drop(reader);
//! # Ok(()) }
//! ```
//!
//! ```compile_fail,E0505
//! # fn main() -> hedge::Result<()> { let dir = tempfile::tempdir()?;
//! # let env = unsafe { hedge::EnvOpenOptions::new().open(dir.path())? };
//! let wtxn = env.write_txn()?;
//! let reader = wtxn.nested_read_txn()?;
//! wtxn.abort();
//! drop(reader);
//! # Ok(()) }
//! ```
//!
//! ```compile_fail,E0505
//! # fn main() -> hedge::Result<()> { let dir = tempfile::tempdir()?;
//! # let env = unsafe { hedge::EnvOpenOptions::new().open(dir.path())? };
//! let wtxn = env.write_txn()?;
//! let reader = wtxn.nested_read_txn()?;
//! drop(wtxn);
//! drop(reader);
//! # Ok(()) }
//! ```
//!
//! A nested write transaction borrows its parent mutably:
//!
//! ```compile_fail,E0505
//! # fn main() -> hedge::Result<()> { let dir = tempfile::tempdir()?;
//! # let env = unsafe { hedge::EnvOpenOptions::new().open(dir.path())? };
//! let mut parent = env.write_txn()?;
//! let child = env.nested_write_txn(&mut parent)?;
//! parent.commit()?;
//! child.commit()?;
//! # Ok(()) }
//! ```
//!
//! A read transaction of a TLS env stays on its thread:
//!
//! ```compile_fail,E0277
//! # fn main() -> hedge::Result<()> { let dir = tempfile::tempdir()?;
//! # let env = unsafe { hedge::EnvOpenOptions::new().open(dir.path())? };
//! fn send<T: Send>(_: T) {}
//! send(env.read_txn()?);
//! # Ok(()) }
//! ```
//!
//! A write transaction stays on the thread that began it (LMDB's write lock is a mutex that
//! thread owns: committing elsewhere would leave it locked; heed 0.23's `RwTxn` is `Send`):
//!
//! ```compile_fail,E0277
//! # fn main() -> hedge::Result<()> { let dir = tempfile::tempdir()?;
//! # let env = unsafe { hedge::EnvOpenOptions::new().read_txn_without_tls().open(dir.path())? };
//! let wtxn = env.write_txn()?;
//! std::thread::scope(|s| {
//!     s.spawn(move || wtxn.commit());
//! });
//! # Ok(()) }
//! ```
//!
//! and no transaction is shared between threads; nested readers move, they are not `Sync`:
//!
//! ```compile_fail,E0277
//! # fn main() -> hedge::Result<()> { let dir = tempfile::tempdir()?;
//! # let env = unsafe { hedge::EnvOpenOptions::new().open(dir.path())? };
//! fn sync<T: Sync>(_: &T) {}
//! let wtxn = env.write_txn()?;
//! sync(&wtxn.nested_read_txn()?);
//! # Ok(()) }
//! ```
//!
//! Iterators (cursors) stay on their thread, even over a `Send` transaction:
//!
//! ```compile_fail,E0277
//! # use hedge::types::Str; use hedge::{CommitOrAbort, Database};
//! # fn main() -> hedge::Result<()> { let dir = tempfile::tempdir()?;
//! # let env = unsafe { hedge::EnvOpenOptions::new().read_txn_without_tls().open(dir.path())? };
//! # let wtxn = env.write_txn()?;
//! # let db: Database<Str, Str> = env.create_databases_and_commit(wtxn, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
//! fn send<T: Send>(_: T) {}
//! let rtxn = env.read_txn()?;
//! send(db.iter(&rtxn)?);
//! # Ok(()) }
//! ```
//!
//! (A nested reader is `Send`, which the example at the top of this page uses, and so is
//! a read transaction of a `WithoutTls` env.)

#![deny(missing_docs)]
#![warn(clippy::undocumented_unsafe_blocks)]

mod bounded;
#[cfg(unix)]
mod check;
pub mod codec;
mod database;
mod dupfixed;
mod env;
mod error;
mod iter;
mod mdb;
#[cfg(feature = "parallel")]
mod parallel;
mod reserved;
mod txn;

pub use byteorder;
pub use heed_traits::{BoxedError, BytesDecode, BytesEncode, Comparator, LexicographicComparator};
pub use heed_types as types;

pub use bounded::{RoPrefix, RoRange, RoRevPrefix, RoRevRange, RwPrefix, RwRange, RwRevPrefix, RwRevRange};
#[cfg(unix)]
pub use check::CheckReport;
pub use database::{
    Database, DatabaseOpenOptions, DatabaseOpener, DatabaseStat, DefaultComparator, IntegerComparator,
    Unspecified,
};
pub use dupfixed::FixedDuplicates;
pub use env::{
    CommitOrAbort, CommitToken, CompactionOption, Env, EnvClosingEvent, EnvInfo, EnvOpenOptions, FlagSetMode,
    FreeListEntry, OnCommit, ReaderInfo, env_closing_event,
};
pub use error::{Error, Result};
pub use iter::{RoIter, RoRevIter, RwIter, RwRevIter, iteration_method};
pub use mdb::error::MdbError;
pub use mdb::flags::{DatabaseFlags, EnvFlags, PutFlags};
pub use mdb::version::{LmdbVersion, PATCHED_LMDB, lmdb_version};
#[cfg(feature = "parallel")]
pub use parallel::ParallelReader;
pub use reserved::ReservedSpace;
pub use txn::{AnyTls, RoTxn, RwTxn, TlsUsage, WithTls, WithoutTls};

//! Read and write transactions, with heed 0.23's types and TLS markers.
//!
//! Borrowing carries LMDB's rules: a transaction borrows its [`Env`]; a nested write
//! transaction borrows its parent mutably, a nested read transaction borrows it immutably,
//! so the parent cannot write, commit, abort or be dropped while a child lives. Reading
//! through the parent while read-only children live compiles, and fails with
//! `Error::Mdb(MdbError::BadTxn)` at run time (patch A blocks the parent).

use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::{io, thread};

use crate::env::EnvInner;
use crate::mdb::error::MdbError;
use crate::mdb::ffi;
use crate::mdb::handle::RawTxn;
use crate::{Env, Error, Result};

/// Marker: a [`RoTxn`] of this env stays on the thread that began it (`!Send`), as heed's
/// `WithTls` read transactions do. (hedge opens every env with LMDB's `MDB_NOTLS` all the
/// same: with thread-local reader slots, LMDB would free a leaked read txn's slot when its
/// thread exits, under values still in use. So a thread may hold several read txns.)
///
/// ```
/// # fn main() -> hedge::Result<()> {
/// # let dir = tempfile::tempdir()?;
/// # let env = unsafe { hedge::EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
/// let env: &hedge::Env<hedge::WithTls> = &env;
/// let rtxn: hedge::RoTxn<hedge::WithTls> = env.read_txn()?;
/// # drop(rtxn);
/// # Ok(()) }
/// ```
pub enum WithTls {}

/// Marker: read transactions are not tied to a thread (LMDB's `MDB_NOTLS`): a [`RoTxn`] is
/// `Send`, and a thread may hold several.
///
/// ```
/// # fn main() -> hedge::Result<()> {
/// # let dir = tempfile::tempdir()?;
/// let env: hedge::Env<hedge::WithoutTls> =
///     unsafe { hedge::EnvOpenOptions::new().read_txn_without_tls().open(dir.path())? };
/// let rtxn = env.read_txn()?;
/// std::thread::scope(|s| s.spawn(move || drop(rtxn)).join().unwrap());
/// # Ok(()) }
/// ```
pub enum WithoutTls {}

/// Marker for transactions whose TLS mode does not matter (what database methods take).
///
/// ```
/// # fn main() -> hedge::Result<()> {
/// # let dir = tempfile::tempdir()?;
/// # let env = unsafe { hedge::EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
/// // Functions that only read take `&RoTxn` (= `&RoTxn<AnyTls>`): every read txn derefs to it.
/// fn snapshot_id(txn: &hedge::RoTxn) -> usize {
///     txn.id()
/// }
/// let rtxn = env.read_txn()?;
/// assert_eq!(snapshot_id(&rtxn), 0);
/// let wtxn = env.write_txn()?;
/// assert_eq!(snapshot_id(&wtxn), 1);
/// # drop(rtxn);
/// # Ok(()) }
/// ```
pub enum AnyTls {}

/// The TLS modes: [`WithTls`], [`WithoutTls`], [`AnyTls`].
///
/// ```
/// use hedge::{TlsUsage, WithTls, WithoutTls};
/// assert!(WithTls::ENABLED && !WithoutTls::ENABLED);
/// ```
pub trait TlsUsage {
    /// Whether LMDB's thread-local reader slots are used.
    const ENABLED: bool;
}

impl TlsUsage for WithTls {
    const ENABLED: bool = true;
}

impl TlsUsage for WithoutTls {
    const ENABLED: bool = false;
}

impl TlsUsage for AnyTls {
    const ENABLED: bool = false;
}

/// The environment a transaction belongs to: borrowed, or owned by a `'static` read txn.
pub(crate) enum EnvRef<'e> {
    Borrowed(&'e Arc<EnvInner>),
    Owned(Arc<EnvInner>),
}

impl EnvRef<'_> {
    #[inline]
    pub(crate) fn inner(&self) -> &EnvInner {
        match self {
            EnvRef::Borrowed(inner) => inner,
            EnvRef::Owned(inner) => inner,
        }
    }
}

/// A read-only transaction (also what a [`RwTxn`] dereferences to, for reading).
///
/// `T` is the TLS mode of the env it came from. A `RoTxn<WithoutTls>` is `Send`: nested
/// read transactions of a write transaction are, so that each can be moved to a worker
/// thread; no transaction is `Sync`.
///
/// ```
/// # fn main() -> hedge::Result<()> {
/// # let dir = tempfile::tempdir()?;
/// let env = unsafe { hedge::EnvOpenOptions::new().open(dir.path())? };
/// let rtxn = env.read_txn()?;
/// assert_eq!(rtxn.id(), env.info().last_txn_id);
/// # Ok(()) }
/// ```
#[repr(transparent)]
pub struct RoTxn<'e, T = AnyTls> {
    inner: RoTxnInner<'e>,
    _tls: PhantomData<&'e T>,
}

/// Everything of a [`RoTxn`] but its TLS marker, so that the marker can change by reference.
struct RoTxnInner<'e> {
    txn: Option<RawTxn>,
    env: EnvRef<'e>,
    /// For a nested read txn: the live-reader counts of its parent and the parent's
    /// ancestors, each of which it holds up while it lives.
    parent_children: Option<&'e Descendants<'e>>,
    /// `EnvInner::openings_committed` when it began (see `check_txn_generation`).
    opened_at: u64,
}

/// The read-only transactions begun, and not yet ended, under a write transaction or under
/// any of its nested write transactions. Counting every ancestor (not only the direct
/// parent) keeps a leaked reader visible to all of them: LMDB cannot end a transaction
/// below which a read-only child still lives (patch A), and aborting an ancestor aborts its
/// open nested write transactions too.
pub(crate) struct Descendants<'p> {
    readers: AtomicUsize,
    parent: Option<&'p Descendants<'p>>,
}

impl<'p> Descendants<'p> {
    fn new(parent: Option<&'p Descendants<'p>>) -> Self {
        Descendants { readers: AtomicUsize::new(0), parent }
    }

    fn chain(&self) -> impl Iterator<Item = &Descendants<'p>> {
        std::iter::successors(Some(self), |d| d.parent)
    }

    fn reader_begun(&self) {
        for d in self.chain() {
            d.readers.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn reader_ended(&self) {
        for d in self.chain() {
            d.readers.fetch_sub(1, Ordering::Release);
        }
    }

    fn live(&self) -> usize {
        self.readers.load(Ordering::Acquire)
    }
}

// SAFETY: without TLS, LMDB lets a read txn be used and ended by any one thread at a time;
// nested read txns (patch A) are made for exactly that. `RoTxn` is not `Sync`: one thread
// at a time. `EnvRef` is Send (Arc<EnvInner>, &EnvInner: EnvInner is Sync).
unsafe impl Send for RoTxn<'_, WithoutTls> {}

impl<'e, T> RoTxn<'e, T> {
    fn begin_top(env: EnvRef<'e>) -> Result<RoTxn<'e, T>> {
        let opened_at = env.inner().openings_committed();
        // SAFETY: no parent; the txn keeps `env` alive (borrow or Arc) until it is ended in
        // `end`, which runs at the latest in Drop.
        let txn = unsafe { RawTxn::begin(&env.inner().raw, None, ffi::MDB_RDONLY) }?;
        Ok(RoTxn::from_parts(txn, env, None, opened_at))
    }

    fn from_parts(
        txn: RawTxn,
        env: EnvRef<'e>,
        parent_children: Option<&'e Descendants<'e>>,
        opened_at: u64,
    ) -> RoTxn<'e, T> {
        RoTxn { inner: RoTxnInner { txn: Some(txn), env, parent_children, opened_at }, _tls: PhantomData }
    }

    /// See `EnvInner::check_txn_generation`.
    pub(crate) fn opened_at(&self) -> u64 {
        self.inner.opened_at
    }

    pub(crate) fn new(env: &'e Env<T>) -> Result<RoTxn<'e, T>> {
        RoTxn::begin_top(EnvRef::Borrowed(&env.inner))
    }

    pub(crate) fn new_static(env: Env<T>) -> Result<RoTxn<'static, T>> {
        RoTxn::begin_top(EnvRef::Owned(env.inner))
    }

    #[inline]
    pub(crate) fn raw(&self) -> &RawTxn {
        self.inner.txn.as_ref().expect("a transaction is only ended by consuming it")
    }

    #[inline]
    pub(crate) fn env_inner(&self) -> &EnvInner {
        self.inner.env.inner()
    }

    /// Whether this is a nested read txn (of a write txn).
    pub(crate) fn is_nested(&self) -> bool {
        self.inner.parent_children.is_some()
    }

    /// The transaction's id: for a read transaction, the id of the snapshot it reads
    /// (a nested one reads its parent's, so it has the parent's id).
    ///
    /// ```
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { hedge::EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// let wtxn = env.write_txn()?;
    /// let nested = wtxn.nested_read_txn()?;
    /// assert_eq!(nested.id(), wtxn.id(), "a nested reader reads its parent's state");
    /// # Ok(()) }
    /// ```
    pub fn id(&self) -> usize {
        self.raw().id()
    }

    /// Ends the txn: a read-only txn has nothing to commit, so this is LMDB's abort.
    fn end(&mut self) {
        if let Some(txn) = self.inner.txn.take() {
            txn.abort();
            if let Some(parent) = self.inner.parent_children {
                parent.reader_ended();
            }
        }
    }

    /// Commits a read transaction: makes the database handles opened in it available to the
    /// whole env (`Env::open_databases_and_commit` does this for you).
    pub(crate) fn commit(mut self) -> Result<()> {
        let txn = self.inner.txn.take().expect("a transaction is only ended by consuming it");
        let result = txn.commit().map_err(Error::from);
        if let Some(parent) = self.inner.parent_children {
            parent.reader_ended();
        }
        result
    }
}

impl<T> std::fmt::Debug for RoTxn<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoTxn").field("id", &self.id()).field("nested", &self.is_nested()).finish()
    }
}

impl<T> Drop for RoTxn<'_, T> {
    fn drop(&mut self) {
        self.end();
    }
}

impl<'e> Deref for RoTxn<'e, WithTls> {
    type Target = RoTxn<'e, AnyTls>;

    #[inline]
    fn deref(&self) -> &Self::Target {
        // SAFETY: RoTxn is repr(transparent) over RoTxnInner whatever T is (T only appears
        // in a zero-sized PhantomData); AnyTls only narrows what the reference can do.
        unsafe { &*(self as *const RoTxn<'e, WithTls> as *const RoTxn<'e, AnyTls>) }
    }
}

impl<'e> Deref for RoTxn<'e, WithoutTls> {
    type Target = RoTxn<'e, AnyTls>;

    #[inline]
    fn deref(&self) -> &Self::Target {
        // SAFETY: as for WithTls above.
        unsafe { &*(self as *const RoTxn<'e, WithoutTls> as *const RoTxn<'e, AnyTls>) }
    }
}

/// A read-write transaction. It dereferences to a [`RoTxn`] for reading.
///
/// Dropping it without [`commit`](RwTxn::commit) aborts it.
///
/// ```
/// # fn main() -> hedge::Result<()> {
/// # let dir = tempfile::tempdir()?;
/// let env = unsafe { hedge::EnvOpenOptions::new().open(dir.path())? };
/// let wtxn = env.write_txn()?;
/// // A write transaction prepares the next snapshot.
/// assert_eq!(wtxn.id(), env.info().last_txn_id + 1);
/// wtxn.commit()?;
/// # Ok(()) }
/// ```
pub struct RwTxn<'p> {
    txn: RoTxn<'p, WithoutTls>,
    /// Read-only transactions begun under this one (directly or under a nested write child)
    /// and not yet ended; non-zero at commit or drop only if one was leaked
    /// (`mem::forget`), since each borrows this txn.
    children: Descendants<'p>,
    /// Whether this is the env's top-level write txn (which owns LMDB's write lock).
    top: bool,
    /// LMDB's write lock is a mutex owned by the thread that began the txn: committing or
    /// aborting on another thread would leave it locked for ever. So a `RwTxn` is `!Send`
    /// (heed 0.23's is `Send`).
    _owner_thread: PhantomData<*const ()>,
}

impl<'p> RwTxn<'p> {
    pub(crate) fn new<T>(env: &'p Env<T>) -> Result<RwTxn<'p>> {
        let mut writer = env.inner.writer.lock().unwrap_or_else(|e| e.into_inner());
        if *writer == Some(thread::current().id()) {
            return Err(Error::Io(io::Error::new(
                io::ErrorKind::Deadlock,
                "this thread already holds a write transaction of this environment, and LMDB allows \
                 one at a time: waiting for it here would never end. Commit or abort it first, or \
                 begin a nested one with Env::nested_write_txn",
            )));
        }
        // Not held while LMDB waits for another thread's write txn to end.
        drop(writer);
        env.inner.refuse_inside_opening("begin a write transaction")?;
        let opened_at = env.inner.openings_committed();
        // SAFETY: no parent; the txn borrows the env for 'p and is ended by commit, abort or
        // Drop.
        let txn = unsafe { RawTxn::begin(&env.inner.raw, None, 0) }?;
        writer = env.inner.writer.lock().unwrap_or_else(|e| e.into_inner());
        *writer = Some(thread::current().id());
        Ok(RwTxn::wrap(txn, EnvRef::Borrowed(&env.inner), None, opened_at))
    }

    pub(crate) fn nested(env: &'p Env<impl Sized>, parent: &'p mut RwTxn<'_>) -> Result<RwTxn<'p>> {
        if !std::ptr::eq(parent.env_inner(), &*env.inner) {
            return Err(Error::Io(io::Error::new(
                io::ErrorKind::InvalidInput,
                "nested_write_txn: the parent transaction belongs to another environment; begin the \
                 nested transaction from the parent's own Env",
            )));
        }
        let parent: &'p RwTxn<'_> = parent;
        // SAFETY: `parent` is a live txn of this env (checked above), mutably borrowed for 'p,
        // so it cannot be used or ended while the child lives; the child ends at the latest in
        // its Drop.
        let txn = unsafe { RawTxn::begin(&env.inner.raw, Some(parent.txn.raw()), 0) }?;
        Ok(RwTxn::wrap(txn, EnvRef::Borrowed(&env.inner), Some(&parent.children), parent.opened_at()))
    }

    fn wrap(txn: RawTxn, env: EnvRef<'p>, parent: Option<&'p Descendants<'p>>, opened_at: u64) -> RwTxn<'p> {
        RwTxn {
            txn: RoTxn::from_parts(txn, env, None, opened_at),
            children: Descendants::new(parent),
            top: parent.is_none(),
            _owner_thread: PhantomData,
        }
    }

    /// Begins a read-only child of this transaction: it sees this transaction's uncommitted
    /// changes, is `Send` (move it to another thread), and any number may exist at once.
    /// While one lives, this transaction cannot be written, committed or dropped (it is
    /// borrowed), and reads through it fail with `MdbError::BadTxn`.
    ///
    /// Works whatever the env's TLS mode: children take no reader slot. Needs hedge's patched
    /// LMDB (the default build, see [`PATCHED_LMDB`](crate::PATCHED_LMDB)); upstream LMDB
    /// refuses read-only children with `MdbError::BadTxn`.
    ///
    /// ```
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// let env = unsafe { hedge::EnvOpenOptions::new().open(dir.path())? };
    /// let wtxn = env.write_txn()?;
    /// let children: Vec<_> = (0..4).map(|_| wtxn.nested_read_txn()).collect::<hedge::Result<_>>()?;
    /// std::thread::scope(|s| {
    ///     for child in children {
    ///         s.spawn(move || assert_eq!(child.id(), child.id()));
    ///     }
    /// });
    /// wtxn.commit()?;
    /// # Ok(()) }
    /// ```
    pub fn nested_read_txn<'a>(&'a self) -> Result<RoTxn<'a, WithoutTls>> {
        let env = &self.txn.inner.env;
        // SAFETY: the parent is live and borrowed for 'a, so it cannot be ended while the
        // child lives; the child is ended at the latest in its Drop.
        let txn = unsafe { RawTxn::begin(&env.inner().raw, Some(self.txn.raw()), ffi::MDB_RDONLY) }?;
        self.children.reader_begun();
        let env = match env {
            EnvRef::Borrowed(inner) => EnvRef::Borrowed(inner),
            EnvRef::Owned(inner) => EnvRef::Owned(Arc::clone(inner)),
        };
        Ok(RoTxn::from_parts(txn, env, Some(&self.children), self.opened_at()))
    }

    #[inline]
    pub(crate) fn raw(&self) -> &RawTxn {
        self.txn.raw()
    }

    /// Whether this is a nested write txn.
    pub(crate) fn is_nested(&self) -> bool {
        !self.top
    }

    fn leaked_children(&self) -> usize {
        self.children.live()
    }

    /// Just before the top-level txn ends (and LMDB's write lock with it).
    fn release_writer(&self) {
        if self.top {
            *self.txn.env_inner().writer.lock().unwrap_or_else(|e| e.into_inner()) = None;
        }
    }

    /// Commits the transaction.
    ///
    /// If a nested read transaction of it was leaked (`mem::forget`), LMDB could never end
    /// this transaction safely: the commit returns `Error::Mdb(MdbError::BadTxn)` ("has a
    /// child") and the transaction is left open, holding the env's write lock until the
    /// process exits. Nothing is committed, freed or corrupted.
    ///
    /// ```
    /// # use hedge::types::*; use hedge::*;
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// db.put(&mut wtxn, "k", "v")?;
    /// wtxn.commit()?;
    /// let rtxn = env.read_txn()?;
    /// assert_eq!(db.get(&rtxn, "k")?, Some("v"));
    /// # Ok(()) }
    /// ```
    pub fn commit(mut self) -> Result<()> {
        if self.leaked_children() > 0 {
            self.leak();
            return Err(Error::Mdb(MdbError::BadTxn));
        }
        let txn = self.txn.inner.txn.take().expect("a transaction is only ended by consuming it");
        // Before LMDB unlocks: another thread's write txn may begin as soon as it does.
        self.release_writer();
        txn.commit().map_err(Error::from)
    }

    /// Abandons the transaction's changes (also what dropping it does). If a nested read
    /// transaction was leaked, the transaction is left open instead, see [`commit`](Self::commit).
    ///
    /// ```
    /// # use hedge::types::*; use hedge::*;
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// db.put(&mut wtxn, "k", "v")?;
    /// wtxn.abort();
    /// let rtxn = env.read_txn()?;
    /// assert_eq!(db.get(&rtxn, "k")?, None);
    /// # Ok(()) }
    /// ```
    pub fn abort(self) {
        drop(self)
    }

    /// Forgets the LMDB transaction without ending it: the only safe thing to do with a
    /// parent whose child can no longer be ended.
    fn leak(&mut self) {
        // RawTxn has no Drop: taking it out without commit or abort leaves the LMDB
        // transaction open, which is the point.
        let _open_forever = self.txn.inner.txn.take();
    }
}

impl std::fmt::Debug for RwTxn<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RwTxn").field("id", &self.id()).field("nested", &!self.top).finish()
    }
}

impl Drop for RwTxn<'_> {
    fn drop(&mut self) {
        if self.leaked_children() > 0 {
            // The write lock stays with this thread for ever: a later write_txn here fails
            // instead of waiting.
            self.leak();
        } else if self.txn.inner.txn.is_some() {
            self.release_writer();
            self.txn.end();
        }
    }
}

impl<'p> Deref for RwTxn<'p> {
    type Target = RoTxn<'p, WithoutTls>;

    #[inline]
    fn deref(&self) -> &Self::Target {
        &self.txn
    }
}

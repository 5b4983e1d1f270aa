//! [`ParallelReader`]: a frozen view of a write transaction, read from many threads at once
//! through nested read transactions (patch A), one per thread.

use std::io;

use crossbeam_channel::{Receiver, TryRecvError};
use heed_traits::{BytesDecode, BytesEncode};
use thread_local::ThreadLocal;

use crate::{Database, Error, Result, RoTxn, RwTxn, WithoutTls};

/// A frozen view of a [`RwTxn`] that any number of threads read at once: its uncommitted
/// writes included, with no copy and no commit.
///
/// It is made of nested read transactions of the write transaction, all begun up front on
/// the calling thread and handed out through a channel: the first time a thread reads, it
/// takes one and keeps it for the life of the view (in a per-view thread-local slot), so a
/// thread always reads through the same transaction and never waits for another. Share the
/// view by reference (`&ParallelReader` is `Send`: the view is `Sync`), e.g. with rayon's
/// parallel iterators; [`new`](Self::new) makes one reader per thread of the current rayon
/// pool plus one for the calling thread, [`for_pool`](Self::for_pool) for another pool.
///
/// The view borrows the write transaction: the transaction cannot write, commit or abort
/// until the view is dropped, and dropping the view ends every reader. Values read through
/// it borrow the view and can be sent to other threads while it lives.
///
/// Needs hedge's patched LMDB (see [`PATCHED_LMDB`](crate::PATCHED_LMDB)).
///
/// # Example: an HNSW-style insertion loop
///
/// Each round reads the graph in parallel (including what earlier rounds wrote and did not
/// commit), collects the changes, drops the view, writes them, and goes on; one commit at
/// the end.
///
/// ```
/// use hedge::types::{U32, SerdeBincode};
/// use hedge::{byteorder::BigEndian, CommitOrAbort, Database, ParallelReader};
/// use rayon::prelude::*;
///
/// # fn main() -> hedge::Result<()> {
/// # let dir = tempfile::tempdir()?;
/// let env = unsafe { hedge::EnvOpenOptions::new().map_size(64 << 20).open(dir.path())? };
/// // node id -> (vector, neighbour ids)
/// let graph: Database<U32<BigEndian>, SerdeBincode<(Vec<f32>, Vec<u32>)>> = env
///     .create_databases_and_commit(env.write_txn()?, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?
///     .unwrap_commit();
/// let point = |id: u32| vec![(id % 7) as f32, (id % 11) as f32];
/// let distance = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f32>();
///
/// let mut wtxn = env.write_txn()?;
/// graph.put(&mut wtxn, &0, &(point(0), vec![]))?;
/// for batch in (1..200u32).collect::<Vec<_>>().chunks(20) {
///     // Read in parallel: the nearest existing node of every new point.
///     let view = ParallelReader::new(&wtxn)?;
///     let links: Vec<(u32, u32)> = batch
///         .par_iter()
///         .map(|&id| {
///             let txn = view.txn()?;
///             let mut best = (f32::MAX, 0);
///             for entry in graph.iter(txn)? {
///                 let (other, (vector, _)) = entry?;
///                 let d = distance(&point(id), &vector);
///                 if d < best.0 {
///                     best = (d, other);
///                 }
///             }
///             Ok((id, best.1))
///         })
///         .collect::<hedge::Result<_>>()?;
///     drop(view); // every reader ends here; the transaction can write again
///     for (id, nearest) in links {
///         graph.put(&mut wtxn, &id, &(point(id), vec![nearest]))?;
///     }
/// }
/// wtxn.commit()?;
/// let rtxn = env.read_txn()?;
/// assert_eq!(graph.len(&rtxn)?, 200);
/// # Ok(()) }
/// ```
pub struct ParallelReader<'p> {
    /// The reader each thread took, for the life of the view.
    taken: ThreadLocal<RoTxn<'p, WithoutTls>>,
    /// Readers no thread took yet.
    spare: Receiver<RoTxn<'p, WithoutTls>>,
    readers: usize,
}

impl<'p> ParallelReader<'p> {
    /// A view with one reader per thread of the current rayon pool (the global one unless
    /// called inside `ThreadPool::install`) plus one for the calling thread; for another
    /// pool, [`for_pool`](Self::for_pool).
    ///
    /// ```
    /// # use hedge::ParallelReader;
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { hedge::EnvOpenOptions::new().open(dir.path())? };
    /// let wtxn = env.write_txn()?;
    /// let view = ParallelReader::new(&wtxn)?;
    /// assert_eq!(view.readers(), rayon::current_num_threads() + 1);
    /// # Ok(()) }
    /// ```
    pub fn new(wtxn: &'p RwTxn<'_>) -> Result<ParallelReader<'p>> {
        ParallelReader::with_readers(wtxn, rayon::current_num_threads() + 1)
    }

    /// A view with one reader per thread of `pool` plus one for the calling thread. Call it
    /// on the thread that owns the write transaction, then read inside `pool.install`.
    ///
    /// ```
    /// # use hedge::ParallelReader;
    /// # use rayon::prelude::*;
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { hedge::EnvOpenOptions::new().open(dir.path())? };
    /// let pool = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap();
    /// let wtxn = env.write_txn()?;
    /// let view = ParallelReader::for_pool(&wtxn, &pool)?;
    /// let ids: Vec<usize> = pool.install(|| (0..8).into_par_iter().map(|_| view.txn().unwrap().id()).collect());
    /// assert!(ids.iter().all(|&id| id == wtxn.id()));
    /// # Ok(()) }
    /// ```
    pub fn for_pool(wtxn: &'p RwTxn<'_>, pool: &rayon::ThreadPool) -> Result<ParallelReader<'p>> {
        ParallelReader::with_readers(wtxn, pool.current_num_threads() + 1)
    }

    /// A view with `readers` readers: at most that many threads can read through it. Each
    /// costs a small allocation (no reader slot of the env: nested readers take none).
    ///
    /// ```
    /// # use hedge::ParallelReader;
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { hedge::EnvOpenOptions::new().open(dir.path())? };
    /// let wtxn = env.write_txn()?;
    /// let view = ParallelReader::with_readers(&wtxn, 4)?;
    /// std::thread::scope(|s| {
    ///     for _ in 0..4 {
    ///         s.spawn(|| view.txn().map(|txn| txn.id()).unwrap());
    ///     }
    /// });
    /// # Ok(()) }
    /// ```
    pub fn with_readers(wtxn: &'p RwTxn<'_>, readers: usize) -> Result<ParallelReader<'p>> {
        if readers == 0 {
            return Err(Error::Io(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a ParallelReader needs at least one reader",
            )));
        }
        let (sender, spare) = crossbeam_channel::bounded(readers);
        for _ in 0..readers {
            // Begun here, on the thread that owns the write transaction, as LMDB requires.
            let reader = wtxn.nested_read_txn()?;
            sender.try_send(reader).expect("the channel has room for every reader");
        }
        Ok(ParallelReader { taken: ThreadLocal::with_capacity(readers), spare, readers })
    }

    /// How many readers the view has: how many threads can read through it.
    ///
    /// ```
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { hedge::EnvOpenOptions::new().open(dir.path())? };
    /// let wtxn = env.write_txn()?;
    /// assert_eq!(hedge::ParallelReader::with_readers(&wtxn, 3)?.readers(), 3);
    /// # Ok(()) }
    /// ```
    pub fn readers(&self) -> usize {
        self.readers
    }

    /// This thread's read transaction (taken from the view's spare readers on first use);
    /// pass it to any [`Database`] read method.
    ///
    /// Errors with `Error::Io` (`Other`) if more threads than [`readers`](Self::readers)
    /// read through the view: make it with [`with_readers`](Self::with_readers) and the
    /// number of threads that will use it.
    ///
    /// ```
    /// # use hedge::types::Str; use hedge::{CommitOrAbort, Database, ParallelReader};
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { hedge::EnvOpenOptions::new().open(dir.path())? };
    /// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// db.put(&mut wtxn, "k", "uncommitted")?;
    /// let view = ParallelReader::with_readers(&wtxn, 1)?;
    /// assert_eq!(db.get(view.txn()?, "k")?, Some("uncommitted"));
    /// // A second thread finds no reader left.
    /// std::thread::scope(|s| assert!(s.spawn(|| view.txn().is_err()).join().unwrap()));
    /// # Ok(()) }
    /// ```
    pub fn txn(&self) -> Result<&RoTxn<'p>> {
        let txn = self.taken.get_or_try(|| match self.spare.try_recv() {
            Ok(reader) => Ok(reader),
            Err(TryRecvError::Empty | TryRecvError::Disconnected) => {
                Err(Error::Io(io::Error::other(format!(
                    "every one of this ParallelReader's {} readers is taken by another thread: make it with \
                 ParallelReader::with_readers and the number of threads that read through it",
                    self.readers
                ))))
            }
        })?;
        Ok(&**txn)
    }

    /// The value of `key` in `db`, read through this thread's reader: a shorthand for
    /// `db.get(view.txn()?, key)`.
    ///
    /// ```
    /// # use hedge::types::Str; use hedge::{CommitOrAbort, Database, ParallelReader};
    /// # use rayon::prelude::*;
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { hedge::EnvOpenOptions::new().open(dir.path())? };
    /// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// let keys: Vec<String> = (0..100).map(|i| format!("key-{i}")).collect();
    /// for key in &keys {
    ///     db.put(&mut wtxn, key, "v")?;
    /// }
    /// let view = ParallelReader::new(&wtxn)?;
    /// let found = keys.par_iter().filter(|k| view.get(&db, k.as_str()).unwrap().is_some()).count();
    /// assert_eq!(found, 100);
    /// # Ok(()) }
    /// ```
    pub fn get<'a, 'v, KC, DC, C, CDUP>(
        &'v self,
        db: &Database<'_, KC, DC, C, CDUP>,
        key: &'a KC::EItem,
    ) -> Result<Option<DC::DItem>>
    where
        KC: BytesEncode<'a>,
        DC: BytesDecode<'v>,
    {
        db.get(self.txn()?, key)
    }
}

impl std::fmt::Debug for ParallelReader<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParallelReader").field("readers", &self.readers).finish_non_exhaustive()
    }
}

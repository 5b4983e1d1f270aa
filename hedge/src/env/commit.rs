//! Committing database handles: what a database-opening closure returns.

use std::num::NonZeroUsize;

/// What the closure given to `Env::open_databases_and_commit` or
/// `Env::create_databases_and_commit` decides: commit (and keep the opened databases) or
/// abort (and return something else).
///
/// ```
/// # fn main() -> hedge::Result<()> {
/// # let dir = tempfile::tempdir()?;
/// # let env = unsafe { hedge::EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
/// use hedge::types::{Bytes, Str};
/// use hedge::{CommitOrAbort, Database};
/// // Commit the handles, or abort with a reason.
/// let outcome = env.open_databases_and_commit(env.read_txn()?, |opener, rtxn| {
///     let db: Option<Database<Str, Bytes>> = opener.open_database(rtxn, Some("settings"))?;
///     Ok::<_, hedge::Error>(db.map_or(CommitOrAbort::Abort("no settings yet"), CommitOrAbort::Commit))
/// })?;
/// assert!(outcome.is_abort());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitOrAbort<T, A> {
    /// Commit the transaction; `T` becomes `T::Committed`.
    Commit(T),
    /// Abort the transaction and return `A`.
    Abort(A),
}

impl<T, A> CommitOrAbort<T, A> {
    /// The committed value, if it was a commit.
    ///
    /// ```
    /// use hedge::CommitOrAbort;
    /// assert_eq!(CommitOrAbort::<u8, &str>::Commit(1).commit(), Some(1));
    /// assert_eq!(CommitOrAbort::<u8, &str>::Abort("no").commit(), None);
    /// ```
    pub fn commit(self) -> Option<T> {
        match self {
            CommitOrAbort::Commit(t) => Some(t),
            CommitOrAbort::Abort(_) => None,
        }
    }

    /// The abort value, if it was an abort.
    ///
    /// ```
    /// use hedge::CommitOrAbort;
    /// assert_eq!(CommitOrAbort::<u8, &str>::Abort("no").abort(), Some("no"));
    /// assert_eq!(CommitOrAbort::<u8, &str>::Commit(1).abort(), None);
    /// ```
    pub fn abort(self) -> Option<A> {
        match self {
            CommitOrAbort::Commit(_) => None,
            CommitOrAbort::Abort(a) => Some(a),
        }
    }

    /// Whether it was an abort.
    ///
    /// ```
    /// use hedge::CommitOrAbort;
    /// assert!(CommitOrAbort::<u8, &str>::Abort("no").is_abort());
    /// assert!(!CommitOrAbort::<u8, &str>::Commit(1).is_abort());
    /// ```
    pub fn is_abort(&self) -> bool {
        matches!(self, CommitOrAbort::Abort(_))
    }

    /// The committed value.
    ///
    /// # Panics
    /// If it was an abort.
    ///
    /// ```
    /// use hedge::CommitOrAbort;
    /// assert_eq!(CommitOrAbort::<u8, ()>::Commit(7).unwrap_commit(), 7);
    /// ```
    #[track_caller]
    pub fn unwrap_commit(self) -> T
    where
        A: std::fmt::Debug,
    {
        match self {
            CommitOrAbort::Commit(t) => t,
            CommitOrAbort::Abort(a) => {
                panic!("called `CommitOrAbort::unwrap_commit()` on an `Abort` value: {a:?}")
            }
        }
    }

    /// The abort value.
    ///
    /// # Panics
    /// If it was a commit.
    ///
    /// ```
    /// use hedge::CommitOrAbort;
    /// assert_eq!(CommitOrAbort::<u8, &str>::Abort("no").unwrap_abort(), "no");
    /// ```
    #[track_caller]
    pub fn unwrap_abort(self) -> A
    where
        T: std::fmt::Debug,
    {
        match self {
            CommitOrAbort::Commit(t) => {
                panic!("called `CommitOrAbort::unwrap_abort()` on a `Commit` value: {t:?}")
            }
            CommitOrAbort::Abort(a) => a,
        }
    }
}

impl<T, E> From<Result<T, E>> for CommitOrAbort<T, E> {
    fn from(result: Result<T, E>) -> Self {
        match result {
            Ok(t) => CommitOrAbort::Commit(t),
            Err(e) => CommitOrAbort::Abort(e),
        }
    }
}

impl<T, E> From<CommitOrAbort<T, E>> for Result<T, E> {
    fn from(value: CommitOrAbort<T, E>) -> Self {
        match value {
            CommitOrAbort::Commit(t) => Ok(t),
            CommitOrAbort::Abort(e) => Err(e),
        }
    }
}

/// Proof that a transaction of one environment committed: turns the database handles opened
/// in it into handles usable for the life of the env ([`OnCommit`]).
///
/// ```
/// # fn main() -> hedge::Result<()> {
/// # let dir = tempfile::tempdir()?;
/// # let env = unsafe { hedge::EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
/// use hedge::types::{Str, U8};
/// use hedge::{CommitOrAbort, Database};
/// // The token is created by `*_databases_and_commit` after the commit and turns the
/// // `Database<'txn, ..>` opened in the closure into a `Database<'static, ..>`.
/// let db: Database<'static, Str, U8> = env
///     .create_databases_and_commit(env.write_txn()?, |opener, wtxn| {
///         opener.create_database(wtxn, None).map(CommitOrAbort::<_, ()>::Commit)
///     })?
///     .unwrap_commit();
/// # let _ = db;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct CommitToken {
    env_ident: NonZeroUsize,
}

impl CommitToken {
    pub(crate) fn new(env_ident: NonZeroUsize) -> CommitToken {
        CommitToken { env_ident }
    }

    /// Identifies the environment the commit happened in.
    pub(crate) fn env_ident(&self) -> NonZeroUsize {
        self.env_ident
    }
}

/// Values that change when the transaction that produced them commits: database handles
/// become usable beyond that transaction. Implemented for handles and for containers and
/// tuples of them.
///
/// ```
/// # fn main() -> hedge::Result<()> {
/// # let dir = tempfile::tempdir()?;
/// # let env = unsafe { hedge::EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
/// use hedge::types::{Str, U8};
/// use hedge::{CommitOrAbort, Database};
/// // Tuples, Options, Vecs and arrays of handles commit as one.
/// let dbs: Vec<Database<Str, U8>> = env
///     .create_databases_and_commit(env.write_txn()?, |opener, wtxn| {
///         let dbs = ["a", "b", "c"]
///             .into_iter()
///             .map(|name| opener.create_database(wtxn, Some(name)))
///             .collect::<hedge::Result<Vec<_>>>()?;
///         Ok::<_, hedge::Error>(CommitOrAbort::<_, ()>::Commit(dbs))
///     })?
///     .unwrap_commit();
/// assert_eq!(dbs.len(), 3);
/// # Ok(()) }
/// ```
pub trait OnCommit {
    /// What the value becomes after the commit.
    type Committed;

    /// Converts the value, given the proof of commit.
    fn on_commit(self, token: &CommitToken) -> Self::Committed;
}

impl OnCommit for () {
    type Committed = ();

    fn on_commit(self, _: &CommitToken) {}
}

impl<A: OnCommit> OnCommit for Option<A> {
    type Committed = Option<A::Committed>;

    fn on_commit(self, token: &CommitToken) -> Self::Committed {
        self.map(|a| a.on_commit(token))
    }
}

impl<T: OnCommit, E> OnCommit for Result<T, E> {
    type Committed = Result<T::Committed, E>;

    fn on_commit(self, token: &CommitToken) -> Self::Committed {
        self.map(|t| t.on_commit(token))
    }
}

impl<T: OnCommit, const N: usize> OnCommit for [T; N] {
    type Committed = [T::Committed; N];

    fn on_commit(self, token: &CommitToken) -> Self::Committed {
        self.map(|t| t.on_commit(token))
    }
}

impl<T: OnCommit> OnCommit for Vec<T> {
    type Committed = Vec<T::Committed>;

    fn on_commit(self, token: &CommitToken) -> Self::Committed {
        self.into_iter().map(|t| t.on_commit(token)).collect()
    }
}

macro_rules! on_commit_tuple {
    ($($name:ident)+) => {
        impl<$($name: OnCommit),+> OnCommit for ($($name,)+) {
            type Committed = ($($name::Committed,)+);

            #[allow(non_snake_case)]
            fn on_commit(self, token: &CommitToken) -> Self::Committed {
                let ($($name,)+) = self;
                ($($name.on_commit(token),)+)
            }
        }
    };
}

on_commit_tuple! { A }
on_commit_tuple! { A B }
on_commit_tuple! { A B C }
on_commit_tuple! { A B C D }
on_commit_tuple! { A B C D E }
on_commit_tuple! { A B C D E F }
on_commit_tuple! { A B C D E F G }
on_commit_tuple! { A B C D E F G H }
on_commit_tuple! { A B C D E F G H I }
on_commit_tuple! { A B C D E F G H I J }
on_commit_tuple! { A B C D E F G H I J K }
on_commit_tuple! { A B C D E F G H I J K L }

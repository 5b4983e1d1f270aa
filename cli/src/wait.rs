//! Waiting for LMDB's write lock without leaving the user wondering why nothing happens.

use std::sync::mpsc;
use std::time::Duration;

use hedge::{Env, RwTxn, WithoutTls};

use crate::open::{Failure, Located, explain};

/// How long a wait for the write lock goes unmentioned.
const QUIET_WAIT: Duration = Duration::from_secs(2);

/// Runs `f`, which may wait for the write lock of the environment at `at`; says on stderr
/// what it waits for if that takes long.
pub fn saying_if_blocked<T>(at: &Located, f: impl FnOnce() -> T) -> T {
    let (done, waiting) = mpsc::channel::<()>();
    let path = at.shown();
    std::thread::scope(|s| {
        s.spawn(move || {
            if waiting.recv_timeout(QUIET_WAIT) == Err(mpsc::RecvTimeoutError::Timeout) {
                eprintln!(
                    "hedge: waiting for the write lock of {path}: another process is writing to it (or died \
                     holding it, which LMDB detects when that process's lock is released). Ctrl-C gives up"
                );
            }
        });
        let result = f();
        let _ = done.send(());
        result
    })
}

/// Begins a write transaction, saying so if another writer makes it wait.
pub fn write_txn<'e>(env: &'e Env<WithoutTls>, at: &Located) -> Result<RwTxn<'e>, Failure> {
    saying_if_blocked(at, || env.write_txn()).map_err(|e| explain(at, e))
}

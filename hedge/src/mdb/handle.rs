//! Owned LMDB handles. Every call into LMDB for environments and transactions goes
//! through these types; the typed layer above adds lifetimes and codecs.

use std::ffi::{c_int, c_uint, CStr};
use std::mem::MaybeUninit;
use std::ptr::{self, NonNull};

use super::error::MdbError;
use super::ffi;

/// Turns an LMDB return code into a `Result`.
pub(crate) fn mdb_result(rc: c_int) -> Result<(), MdbError> {
    if rc == 0 {
        Ok(())
    } else {
        Err(MdbError::from_err_code(rc))
    }
}

/// An `MDB_env`, closed on drop.
pub(crate) struct RawEnv(NonNull<ffi::MDB_env>);

// SAFETY: an MDB_env may be used from any thread (lmdb.h: "an environment may be shared by
// threads"); the per-transaction thread rules are enforced by the transaction types.
unsafe impl Send for RawEnv {}
// SAFETY: as above; the env's own calls are thread-safe.
unsafe impl Sync for RawEnv {}

impl RawEnv {
    pub(crate) fn create() -> Result<RawEnv, MdbError> {
        let mut env = ptr::null_mut();
        // SAFETY: `env` is a valid out-pointer.
        mdb_result(unsafe { ffi::mdb_env_create(&mut env) })?;
        Ok(RawEnv(NonNull::new(env).expect("mdb_env_create returned success and a null env")))
    }

    pub(crate) fn as_ptr(&self) -> *mut ffi::MDB_env {
        self.0.as_ptr()
    }

    pub(crate) fn set_map_size(&self, size: usize) -> Result<(), MdbError> {
        // SAFETY: the env is live; LMDB validates the size itself.
        mdb_result(unsafe { ffi::mdb_env_set_mapsize(self.as_ptr(), size) })
    }

    pub(crate) fn set_max_readers(&self, readers: c_uint) -> Result<(), MdbError> {
        // SAFETY: the env is live and not yet open (LMDB checks).
        mdb_result(unsafe { ffi::mdb_env_set_maxreaders(self.as_ptr(), readers) })
    }

    pub(crate) fn set_max_dbs(&self, dbs: c_uint) -> Result<(), MdbError> {
        // SAFETY: the env is live and not yet open (LMDB checks).
        mdb_result(unsafe { ffi::mdb_env_set_maxdbs(self.as_ptr(), dbs) })
    }

    pub(crate) fn open(&self, path: &CStr, flags: c_uint, mode: ffi::mdb_mode_t) -> Result<(), MdbError> {
        // SAFETY: `path` is NUL-terminated and outlives the call; LMDB copies it.
        mdb_result(unsafe { ffi::mdb_env_open(self.as_ptr(), path.as_ptr(), flags, mode) })
    }

    pub(crate) fn info(&self) -> ffi::MDB_envinfo {
        let mut info = MaybeUninit::uninit();
        // SAFETY: mdb_env_info fills the struct and cannot fail on an open env.
        unsafe {
            ffi::mdb_env_info(self.as_ptr(), info.as_mut_ptr());
            info.assume_init()
        }
    }

    pub(crate) fn stat(&self) -> ffi::MDB_stat {
        let mut stat = MaybeUninit::uninit();
        // SAFETY: mdb_env_stat fills the struct and cannot fail on an open env.
        unsafe {
            ffi::mdb_env_stat(self.as_ptr(), stat.as_mut_ptr());
            stat.assume_init()
        }
    }

    pub(crate) fn flags(&self) -> Result<c_uint, MdbError> {
        let mut flags = 0;
        // SAFETY: valid out-pointer, live env.
        mdb_result(unsafe { ffi::mdb_env_get_flags(self.as_ptr(), &mut flags) })?;
        Ok(flags)
    }

    /// # Safety
    /// Changing flags such as `NO_SYNC` is only sound while no write transaction of this
    /// env is in flight (LMDB does not lock for it).
    pub(crate) unsafe fn set_flags(&self, flags: c_uint, on: bool) -> Result<(), MdbError> {
        // SAFETY: the caller upholds the contract above; the env is live.
        mdb_result(unsafe { ffi::mdb_env_set_flags(self.as_ptr(), flags, c_int::from(on)) })
    }

    pub(crate) fn max_readers(&self) -> Result<c_uint, MdbError> {
        let mut readers = 0;
        // SAFETY: valid out-pointer, live env.
        mdb_result(unsafe { ffi::mdb_env_get_maxreaders(self.as_ptr(), &mut readers) })?;
        Ok(readers)
    }

    pub(crate) fn max_key_size(&self) -> usize {
        // SAFETY: a getter on a live env.
        unsafe { ffi::mdb_env_get_maxkeysize(self.as_ptr()) as usize }
    }

    pub(crate) fn sync(&self, force: bool) -> Result<(), MdbError> {
        // SAFETY: a flush of a live env.
        mdb_result(unsafe { ffi::mdb_env_sync(self.as_ptr(), c_int::from(force)) })
    }

    pub(crate) fn reader_check(&self) -> Result<usize, MdbError> {
        let mut dead: c_int = 0;
        // SAFETY: valid out-pointer, live env.
        mdb_result(unsafe { ffi::mdb_reader_check(self.as_ptr(), &mut dead) })?;
        Ok(dead as usize)
    }

    /// # Safety
    /// No transaction of this process may be live on the env (lmdb.h's contract for
    /// `mdb_env_set_mapsize` on an open env).
    pub(crate) unsafe fn resize(&self, size: usize) -> Result<(), MdbError> {
        self.set_map_size(size)
    }

    pub(crate) fn fd(&self) -> Result<ffi::mdb_filehandle_t, MdbError> {
        let mut fd = 0 as ffi::mdb_filehandle_t;
        // SAFETY: valid out-pointer, live env.
        mdb_result(unsafe { ffi::mdb_env_get_fd(self.as_ptr(), &mut fd) })?;
        Ok(fd)
    }

    /// # Safety
    /// `fd` must be a file descriptor open for writing for the duration of the call.
    pub(crate) unsafe fn copy_to_fd(&self, fd: ffi::mdb_filehandle_t, flags: c_uint) -> Result<(), MdbError> {
        // SAFETY: the caller guarantees `fd`; the env is live.
        mdb_result(unsafe { ffi::mdb_env_copyfd2(self.as_ptr(), fd, flags) })
    }
}

impl Drop for RawEnv {
    fn drop(&mut self) {
        // SAFETY: the env is owned here; the typed layer keeps it alive (Arc) for as long as
        // any transaction or database handle of it may be used.
        unsafe { ffi::mdb_env_close(self.as_ptr()) }
    }
}

/// An `MDB_txn`. It does not end itself on drop: the owner decides between commit and
/// abort (and, for a parent whose children leaked, neither).
pub(crate) struct RawTxn(NonNull<ffi::MDB_txn>);

impl RawTxn {
    /// # Safety
    /// `parent`, if any, must be a live transaction of `env`, and the new transaction must be
    /// ended (committed or aborted) before `env` is closed and before `parent` is.
    pub(crate) unsafe fn begin(
        env: &RawEnv,
        parent: Option<&RawTxn>,
        flags: c_uint,
    ) -> Result<RawTxn, MdbError> {
        let mut txn = ptr::null_mut();
        let parent = parent.map_or(ptr::null_mut(), RawTxn::as_ptr);
        // SAFETY: the caller upholds the contract; LMDB validates flags and parent state.
        mdb_result(unsafe { ffi::mdb_txn_begin(env.as_ptr(), parent, flags, &mut txn) })?;
        Ok(RawTxn(NonNull::new(txn).expect("mdb_txn_begin returned success and a null txn")))
    }

    pub(crate) fn as_ptr(&self) -> *mut ffi::MDB_txn {
        self.0.as_ptr()
    }

    pub(crate) fn id(&self) -> usize {
        // SAFETY: a getter on a live txn.
        unsafe { ffi::mdb_txn_id(self.as_ptr()) }
    }

    /// Commits. The txn is gone afterwards whatever the result: on failure LMDB aborted it.
    /// (A commit refused because read-only children are live would keep it; the typed layer
    /// never asks for one, see `RwTxn::commit`.)
    pub(crate) fn commit(self) -> Result<(), MdbError> {
        // SAFETY: the txn is live and owned, and has no live children.
        mdb_result(unsafe { ffi::mdb_txn_commit(self.as_ptr()) })
    }

    pub(crate) fn abort(self) {
        // SAFETY: the txn is live and owned, and has no live children (the typed layer's
        // borrows guarantee it, and it never aborts a parent whose children leaked).
        unsafe { ffi::mdb_txn_abort(self.as_ptr()) }
    }
}

/// The OS page size, which LMDB's map size must be a multiple of.
pub(crate) fn os_page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if size > 0 {
        size as usize
    } else {
        4096
    }
}

#[cfg(unix)]
impl RawEnv {
    /// A new `File` for the env's data file (a duplicate of LMDB's descriptor).
    pub(crate) fn clone_data_file(&self) -> std::io::Result<std::fs::File> {
        use std::os::fd::BorrowedFd;
        let fd = self.fd().map_err(|e| std::io::Error::other(e.to_string()))?;
        // SAFETY: LMDB keeps the descriptor open for as long as the env is, and `self` is
        // borrowed for the call; try_clone_to_owned makes an independent dup.
        let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
        Ok(std::fs::File::from(borrowed.try_clone_to_owned()?))
    }
}

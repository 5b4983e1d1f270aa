//! What LMDB assumes about the sizes of keys and values and does not check.
//!
//! LMDB's integer comparators read as many bytes as their *first* operand has from both
//! operands, so an `INTEGER_KEY` key (or `INTEGER_DUP` value) whose size is not the size of
//! the keys already stored is an out-of-bounds read, and one that is neither an `unsigned
//! int` nor a `size_t` is compared as garbage. A `DUP_FIXED` key's duplicates are copied
//! with the size of the ones already there, so a value of another size reads past its end
//! (or is cut), and an empty one turns the key's sub-page into zero-byte slots. lmdb.h
//! states these rules ("the keys must all be of the same size", "the data items for this
//! database are all the same size"); mdb.c trusts them.
//!
//! Every call of the FFI layer that hands LMDB a key or a value of a database therefore
//! asks [`check`] first, which answers `MDB_BAD_VALSIZE` (LMDB's own code for "wrong
//! DUPFIXED size") instead. Databases without these flags pay one `mdb_dbi_flags` call.

use std::ffi::{c_uint, c_void};
use std::mem::size_of;
use std::ptr;

use super::error::MdbError;
use super::ffi;
use super::handle::mdb_result;

/// The sizes LMDB's integer comparators support: `unsigned int` and `size_t`.
fn integer_size(bytes: &[u8]) -> Result<(), MdbError> {
    if bytes.len() == size_of::<c_uint>() || bytes.len() == size_of::<usize>() {
        Ok(())
    } else {
        Err(MdbError::BadValSize)
    }
}

/// Refuses a key (`key`) and/or a value (`data`, a duplicate of `key`) that would break
/// LMDB's size assumptions for database `dbi` of `txn` (see the module's documentation).
/// `data` is ignored without `DUP_SORT`: LMDB never compares values there. `storing`: the
/// value is about to be stored (not only looked up or deleted).
///
/// Two more things LMDB does not check are refused here, whatever the sizes:
/// - `DUP_FIXED` without `DUP_SORT` (a file written elsewhere; hedge refuses to create one):
///   LMDB then builds the main tree of fixed-size pages with a key size of 0, loses values and
///   later fails an assertion (`MdbError::Incompatible`);
/// - in a `DUP_SORT` database, a second value for a key whose only value is empty: when LMDB
///   moves the first value into the key's sub-page it takes an empty one for "nothing to move"
///   and drops it (`MDB_BAD_VALSIZE`).
///
/// # Safety
/// `txn` is a live transaction used by this thread only, with no write in progress.
#[inline]
pub(crate) unsafe fn check(
    txn: *mut ffi::MDB_txn,
    dbi: ffi::MDB_dbi,
    key: Option<&[u8]>,
    data: Option<&[u8]>,
    storing: bool,
) -> Result<(), MdbError> {
    let mut flags: c_uint = 0;
    // SAFETY: live txn (contract), valid out-pointer; LMDB checks the dbi.
    mdb_result(unsafe { ffi::mdb_dbi_flags(txn, dbi, &mut flags) })?;
    // Most databases have none of these flags: one test, no call.
    if flags & (ffi::MDB_INTEGERKEY | ffi::MDB_DUPSORT | ffi::MDB_DUPFIXED) == 0 {
        return Ok(());
    }
    // SAFETY: as for this function.
    unsafe { check_flagged(txn, dbi, flags, key, data, storing) }
}

/// [`check`] for a database with `INTEGER_KEY`, `DUP_SORT` or `DUP_FIXED`.
///
/// # Safety
/// As [`check`].
#[cold]
unsafe fn check_flagged(
    txn: *mut ffi::MDB_txn,
    dbi: ffi::MDB_dbi,
    flags: c_uint,
    key: Option<&[u8]>,
    data: Option<&[u8]>,
    storing: bool,
) -> Result<(), MdbError> {
    let integer_key = flags & ffi::MDB_INTEGERKEY != 0;
    let dup_sort = flags & ffi::MDB_DUPSORT != 0;
    if flags & ffi::MDB_DUPFIXED != 0 && !dup_sort {
        return Err(MdbError::Incompatible);
    }
    let sized_dups = dup_sort && flags & (ffi::MDB_DUPFIXED | ffi::MDB_INTEGERDUP) != 0;
    if !integer_key && !dup_sort {
        return Ok(());
    }
    if let (true, Some(key)) = (integer_key, key) {
        integer_size(key)?;
        // SAFETY: as for this function.
        if let Some(first) = unsafe { first_entry(txn, dbi, None) }?
            && first.key != key.len()
        {
            return Err(MdbError::BadValSize);
        }
    }
    let (true, Some(key), Some(data)) = (dup_sort, key, data) else { return Ok(()) };
    if sized_dups {
        if data.is_empty() {
            return Err(MdbError::BadValSize);
        }
        if flags & ffi::MDB_INTEGERDUP != 0 {
            integer_size(data)?;
        }
    } else if !storing || data.is_empty() {
        return Ok(());
    }
    // The key was checked above, so looking it up compares nothing out of bounds.
    // SAFETY: as for this function.
    if let Some(existing) = unsafe { first_entry(txn, dbi, Some(key)) }? {
        let lone_empty = storing && existing.data == 0 && existing.count == 1 && !data.is_empty();
        if lone_empty || (sized_dups && existing.data != data.len()) {
            return Err(MdbError::BadValSize);
        }
    }
    Ok(())
}

/// What [`first_entry`] found: sizes and the key's number of values.
struct Found {
    key: usize,
    data: usize,
    count: usize,
}

/// The first entry of the database (`key: None`) or `key`'s first value, as sizes only (the
/// bytes are not kept: a write may move them), with the number of values of its key.
///
/// # Safety
/// As [`check`].
unsafe fn first_entry(
    txn: *mut ffi::MDB_txn,
    dbi: ffi::MDB_dbi,
    key: Option<&[u8]>,
) -> Result<Option<Found>, MdbError> {
    let mut cursor = ptr::null_mut();
    // SAFETY: live txn, valid out-pointer; the cursor is closed below on every path.
    mdb_result(unsafe { ffi::mdb_cursor_open(txn, dbi, &mut cursor) })?;
    let mut k = ffi::MDB_val {
        mv_size: key.map_or(0, <[u8]>::len),
        mv_data: key.map_or(ptr::null_mut(), |k| k.as_ptr() as *mut c_void),
    };
    let mut d = ffi::MDB_val { mv_size: 0, mv_data: ptr::null_mut() };
    let op = if key.is_some() { ffi::MDB_SET_KEY } else { ffi::MDB_FIRST };
    // SAFETY: live cursor; the key outlives the call and is only read.
    let mut rc = unsafe { ffi::mdb_cursor_get(cursor, &mut k, &mut d, op) };
    let mut count = 1;
    if rc == 0 {
        // SAFETY: live, positioned cursor; valid out-pointer. Without DUP_SORT LMDB answers
        // MDB_INCOMPATIBLE: one value.
        match unsafe { ffi::mdb_cursor_count(cursor, &mut count) } {
            0 => {}
            e if e == ffi::MDB_INCOMPATIBLE => count = 1,
            e => rc = e,
        }
    }
    // SAFETY: the cursor was opened above and is not used again.
    unsafe { ffi::mdb_cursor_close(cursor) };
    match rc {
        0 => Ok(Some(Found { key: k.mv_size, data: d.mv_size, count })),
        rc if rc == ffi::MDB_NOTFOUND => Ok(None),
        rc => Err(MdbError::from_err_code(rc)),
    }
}

use std::ffi::CStr;

use super::ffi;

/// The version of the LMDB library hedge is linked with.
///
/// ```
/// let hedge::LmdbVersion { major, minor, patch, string } = hedge::lmdb_version();
/// println!("{string} ({major}.{minor}.{patch})");
/// assert!(major == 0 && minor == 9);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LmdbVersion {
    /// The version string, e.g. `"LMDB 0.9.70: (December 19, 2015)"`.
    pub string: &'static str,
    /// Major version number.
    pub major: i32,
    /// Minor version number.
    pub minor: i32,
    /// Patch version number.
    pub patch: i32,
}

/// The version of the LMDB library hedge is linked with (the pinned upstream commit, with
/// hedge's patches applied; see `hedge_lmdb_sys::PATCH_SERIES`).
///
/// ```
/// let v = hedge::lmdb_version();
/// assert_eq!((v.major, v.minor), (0, 9));
/// assert!(v.string.starts_with("LMDB 0.9"));
/// ```
pub fn lmdb_version() -> LmdbVersion {
    let (mut major, mut minor, mut patch) = (0, 0, 0);
    // SAFETY: mdb_version writes the three ints it is given and returns a pointer to a
    // static, NUL-terminated ASCII string.
    let string = unsafe { CStr::from_ptr(ffi::mdb_version(&mut major, &mut minor, &mut patch)) };
    LmdbVersion { string: string.to_str().unwrap_or("LMDB (unprintable version)"), major, minor, patch }
}

/// Whether the linked LMDB has hedge's patch series applied: `true` unless hedge was built
/// with the `pristine-lmdb` feature, which links the same upstream source without the
/// patches (then [`RwTxn::nested_read_txn`](crate::RwTxn::nested_read_txn) fails with
/// `MdbError::BadTxn`, as upstream LMDB refuses read-only children).
///
/// ```
/// if hedge::PATCHED_LMDB {
///     println!("concurrent nested readers available");
/// }
/// ```
pub const PATCHED_LMDB: bool = ffi::PATCHED;

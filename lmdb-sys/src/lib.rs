//! Raw bindings to LMDB, built from pristine upstream source with hedge's patch series.
//!
//! The build script takes LMDB's `mdb.master` source at the commit pinned in `vendor/`,
//! verifies it against pinned SHA-256 checksums, applies `patches/series` to a copy in
//! `OUT_DIR` and compiles it with `cc`. Nothing is taken from the system: there is no
//! fallback to a system liblmdb, which would silently drop the patches.
//!
//! Every C symbol carries a prefix (`hedge_mdb_env_open`), so this library links into the
//! same binary as another LMDB (heed's `lmdb-master-sys`, a system liblmdb); the Rust
//! names are LMDB's own (`mdb_env_open`).
//!
//! With the `pristine` feature the same source is also built *without* the patches, under
//! the prefix `hedge_pristine_`, as the module `pristine`: same types, same function
//! names. Regression tests run one scenario against both to show what a patch changes.
//!
//! The package carries the pinned pristine tree (`lmdb/`), the series (`patches/`) and the
//! pin (`vendor/`); the build needs no network. Under `DOCS_RS` no C is compiled.
//!
//! ```
//! use hedge_lmdb_sys as ffi;
//!
//! let mut major = 0;
//! // SAFETY: mdb_version only writes the three integers it is given (or ignores NULLs).
//! let version = unsafe {
//!     std::ffi::CStr::from_ptr(ffi::mdb_version(&mut major, std::ptr::null_mut(), std::ptr::null_mut()))
//! };
//! assert_eq!(major, 0);
//! assert!(version.to_str().unwrap().starts_with("LMDB 0.9"));
//! assert!(ffi::PATCHED);
//! ```

#![deny(missing_docs)]

#[allow(missing_docs, non_camel_case_types, non_snake_case, non_upper_case_globals)]
mod types {
    pub use libc::mode_t;
    include!(concat!(env!("OUT_DIR"), "/lmdb_types.rs"));
    /// lmdb.h's `MDB_SIZE_MAX` (`SIZE_MAX`), which bindgen cannot evaluate.
    pub const MDB_SIZE_MAX: usize = usize::MAX;
}

pub use types::*;

include!(concat!(env!("OUT_DIR"), "/build_info.rs"));

#[allow(missing_docs, non_camel_case_types, non_snake_case, non_upper_case_globals, clippy::all)]
mod patched {
    use crate::types::*;
    include!(concat!(env!("OUT_DIR"), "/lmdb_functions_hedge_.rs"));
}

pub use patched::*;

/// `true`: the crate root links the library built with `patches/series` applied (less
/// [`SKIPPED_PATCHES`], which only a build with `HEDGE_LMDB_SKIP_PATCHES` set leaves out).
pub const PATCHED: bool = true;

/// Prefix of the C symbols of the library the crate root links to.
pub const SYMBOL_PREFIX: &str = "hedge_";

/// LMDB built from the same pristine source **without** the patch series, under the symbol
/// prefix `hedge_pristine_`. Types and constants are the crate root's; functions have the
/// same names and signatures, so a test can be written once and run against both:
///
/// ```
/// use hedge_lmdb_sys as patched;
/// use hedge_lmdb_sys::pristine;
/// assert!(patched::PATCHED && !pristine::PATCHED);
/// assert_ne!(patched::mdb_version as *const () as usize, pristine::mdb_version as *const () as usize);
/// ```
#[cfg(feature = "pristine")]
pub mod pristine {
    pub use crate::types::*;

    #[allow(missing_docs, non_camel_case_types, non_snake_case, non_upper_case_globals, clippy::all)]
    mod functions {
        use crate::types::*;
        include!(concat!(env!("OUT_DIR"), "/lmdb_functions_hedge_pristine_.rs"));
    }

    pub use functions::*;

    /// `false`: this module links the library built without the patch series.
    pub const PATCHED: bool = false;

    /// Prefix of the C symbols of this library.
    pub const SYMBOL_PREFIX: &str = "hedge_pristine_";
}

// The build script's self-contained steps, tested here because cargo does not run tests of
// build scripts.
#[cfg(test)]
#[path = "../build/patch.rs"]
mod build_patch;
#[cfg(test)]
#[path = "../build/pin.rs"]
mod build_pin;
#[cfg(test)]
#[path = "../build/rename.rs"]
mod build_rename;

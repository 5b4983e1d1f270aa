//! The FFI layer: the only module that talks to `hedge-lmdb-sys`. Everything `unsafe` in
//! hedge lives below here, each block with the invariant it relies on.

pub(crate) mod error;
pub(crate) mod flags;
pub(crate) mod handle;
pub(crate) mod rules;
pub(crate) mod version;

#[cfg(not(feature = "pristine-lmdb"))]
pub(crate) use hedge_lmdb_sys as ffi;
#[cfg(feature = "pristine-lmdb")]
pub(crate) use hedge_lmdb_sys::pristine as ffi;

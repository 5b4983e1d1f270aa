//! Codecs beyond heed-types, for embeddings: slices of plain numbers stored as their bytes.

use std::borrow::Cow;
use std::marker::PhantomData;
use std::mem::size_of;

use bytemuck::Pod;
use heed_traits::{BoxedError, BytesDecode, BytesEncode};

/// A slice of [`Pod`] elements (`f32`, `u8`, `i16`, ...) stored as their native bytes.
///
/// Decoding borrows the stored bytes when they are aligned for `T` (values on overflow
/// pages are: every embedding of 512+ `f32` dimensions) and copies them only when they
/// are not (small values stored inline in a page). A length that is not a multiple of
/// `size_of::<T>()` is a `Decoding` error.
///
/// ```
/// use std::borrow::Cow;
/// use hedge::codec::PodSlice;
/// use hedge::types::U32;
/// use hedge::{byteorder::BigEndian, CommitOrAbort, Database};
/// # fn main() -> hedge::Result<()> {
/// # let dir = tempfile::tempdir()?;
/// # let env = unsafe { hedge::EnvOpenOptions::new().open(dir.path())? };
/// # let wtxn = env.write_txn()?;
/// let db: Database<U32<BigEndian>, PodSlice<f32>> = env
///     .create_databases_and_commit(wtxn, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?
///     .unwrap_commit();
/// let mut wtxn = env.write_txn()?;
/// let embedding: Vec<f32> = (0..768).map(|i| i as f32 / 768.0).collect();
/// db.put(&mut wtxn, &7, &embedding)?;
/// let stored = db.get(&wtxn, &7)?.unwrap();
/// assert!(matches!(stored, Cow::Borrowed(_)), "overflow values are aligned: no copy");
/// assert_eq!(&*stored, &embedding[..]);
/// # Ok(()) }
/// ```
pub struct PodSlice<T>(PhantomData<T>);

impl<'a, T: Pod> BytesEncode<'a> for PodSlice<T> {
    type EItem = [T];

    fn bytes_encode(item: &'a [T]) -> Result<Cow<'a, [u8]>, BoxedError> {
        Ok(Cow::Borrowed(bytemuck::cast_slice(item)))
    }
}

impl<'a, T: Pod> BytesDecode<'a> for PodSlice<T> {
    type DItem = Cow<'a, [T]>;

    fn bytes_decode(bytes: &'a [u8]) -> Result<Cow<'a, [T]>, BoxedError> {
        let size = size_of::<T>();
        if size == 0 || !bytes.len().is_multiple_of(size) {
            return Err(format!(
                "{} bytes are not a whole number of {}-byte {} elements",
                bytes.len(),
                size,
                std::any::type_name::<T>()
            )
            .into());
        }
        Ok(match bytemuck::try_cast_slice(bytes) {
            Ok(slice) => Cow::Borrowed(slice),
            Err(_) => Cow::Owned(bytes.chunks_exact(size).map(bytemuck::pod_read_unaligned).collect()),
        })
    }
}

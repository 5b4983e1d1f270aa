//! Codecs beyond heed-types, for embeddings: slices of plain numbers stored as their bytes.

use std::borrow::Cow;
use std::io::{self, Write};
use std::marker::PhantomData;
use std::mem::{MaybeUninit, size_of};

use bytemuck::Pod;
use heed_traits::{BoxedError, BytesDecode, BytesEncode};

use crate::{Database, Error, RwTxn};

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

impl<KC, T: Pod, C, CDUP> Database<'_, KC, PodSlice<T>, C, CDUP> {
    /// Reserves room for `len` elements under `key` and hands `fill` the value as a
    /// `&mut [T]` to fill in place.
    ///
    /// The slice starts zeroed (safe Rust cannot hand out a `&mut [f32]` over memory never
    /// written), which costs one `memset` of the value and nothing else: no buffer, no copy,
    /// when the reserved space is aligned for `T`, as values on overflow pages always are.
    /// Small inline values are not always aligned: they are filled in a zeroed buffer that
    /// is then copied in. To skip the zeroing too, produce the elements with
    /// [`put_reserved_elements`](Database::put_reserved_elements).
    ///
    /// If `fill` fails, its error is returned and the value holds what it wrote, zeros
    /// elsewhere; abort the transaction to keep the previous value.
    ///
    /// ```
    /// use hedge::codec::PodSlice;
    /// use hedge::types::Str;
    /// use hedge::{CommitOrAbort, Database};
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { hedge::EnvOpenOptions::new().open(dir.path())? };
    /// # let wtxn = env.write_txn()?;
    /// let db: Database<Str, PodSlice<f32>> = env
    ///     .create_databases_and_commit(wtxn, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?
    ///     .unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// db.put_reserved_slice(&mut wtxn, "doc-1", 768, |vector| {
    ///     for (i, x) in vector.iter_mut().enumerate() {
    ///         *x = (i as f32).sin();
    ///     }
    ///     Ok(())
    /// })?;
    /// assert_eq!(db.get(&wtxn, "doc-1")?.unwrap()[1], 1f32.sin());
    /// # Ok(()) }
    /// ```
    pub fn put_reserved_slice<'a, F>(
        &self,
        txn: &mut RwTxn,
        key: &'a KC::EItem,
        len: usize,
        fill: F,
    ) -> crate::Result<()>
    where
        KC: BytesEncode<'a>,
        F: FnOnce(&mut [T]) -> io::Result<()>,
    {
        let bytes = byte_len::<T>(len)?;
        self.put_reserved(txn, key, bytes, |space| {
            let start = space.as_uninit_mut().as_mut_ptr();
            if start.cast::<T>().is_aligned() {
                space.as_uninit_mut().fill(MaybeUninit::new(0));
                // SAFETY: every byte of the space was just initialised.
                unsafe { space.assume_written(bytes) };
                fill(bytemuck::cast_slice_mut(space.written_mut()))
            } else {
                let mut staging = vec![T::zeroed(); len];
                let result = fill(&mut staging);
                space.write_all(bytemuck::cast_slice(&staging))?;
                result
            }
        })
    }
}

/// The size in bytes of `len` elements of `T`, or a clear error.
pub(crate) fn byte_len<T>(len: usize) -> crate::Result<usize> {
    let invalid = |what: String| Error::Io(io::Error::new(io::ErrorKind::InvalidInput, what));
    match size_of::<T>() {
        0 => Err(invalid(format!("{} is zero-sized: nothing to store", std::any::type_name::<T>()))),
        size => len.checked_mul(size).ok_or_else(|| invalid(format!("{len} elements overflow usize bytes"))),
    }
}

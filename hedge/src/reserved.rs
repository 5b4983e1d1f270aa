//! The space LMDB reserves for a value written in place (`MDB_RESERVE`).

use std::io;
use std::marker::PhantomData;
use std::mem::MaybeUninit;

/// Space reserved in the database for a value, handed to the closure of
/// [`Database::put_reserved`](crate::Database::put_reserved) to fill in place (no copy).
///
/// Until written, its bytes are uninitialised (LMDB neither copies nor zeroes reserved
/// space), so they are only exposed as `MaybeUninit`: [`written_mut`](Self::written_mut) gives
/// the part written so far, which is always a prefix of the space (seeking forward past it
/// zero-fills the gap). If the closure fails or fills less than [`size`](Self::size), hedge
/// zeroes the rest and returns an error; if the closure panics, the rest is zeroed as the
/// panic unwinds. No byte that was never written can be read or committed.
///
/// ```
/// # use hedge::types::*; use hedge::*;
/// # fn main() -> hedge::Result<()> {
/// # let dir = tempfile::tempdir()?;
/// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
/// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
/// use std::io::Write;
/// let mut wtxn = env.write_txn()?;
/// db.put_reserved(&mut wtxn, "greeting", 11, |space: &mut ReservedSpace| {
///     write!(space, "hello ")?;
///     space.write_all(b"world")
/// })?;
/// assert_eq!(db.get(&wtxn, "greeting")?, Some("hello world"));
/// # Ok(()) }
/// ```
pub struct ReservedSpace<'a> {
    start: *mut MaybeUninit<u8>,
    size: usize,
    /// Bytes `[0, written)` are initialised.
    written: usize,
    /// Where the next write goes (`<= written`, or `== written` after a forward seek).
    head: usize,
    _space: PhantomData<&'a mut [MaybeUninit<u8>]>,
}

impl ReservedSpace<'_> {
    /// # Safety
    /// `start` must be valid for writes of `size` bytes for `'a`.
    pub(crate) unsafe fn new<'a>(start: *mut u8, size: usize) -> ReservedSpace<'a> {
        ReservedSpace { start: start.cast(), size, written: 0, head: 0, _space: PhantomData }
    }

    fn space(&mut self) -> &mut [MaybeUninit<u8>] {
        // SAFETY: `start` is valid for `size` bytes for 'a (constructor's contract), and
        // MaybeUninit<u8> may hold any (or no) value.
        unsafe { std::slice::from_raw_parts_mut(self.start, self.size) }
    }

    /// The size of the reserved space.
    ///
    /// ```
    /// # use hedge::types::*; use hedge::*;
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// db.put_reserved(&mut wtxn, "k", 4, |space| {
    ///     assert_eq!(space.size(), 4);
    ///     space.fill_zeroes();
    ///     Ok(())
    /// })?;
    /// # Ok(()) }
    /// ```
    pub fn size(&self) -> usize {
        self.size
    }

    /// Bytes left from the write position to the end.
    ///
    /// ```
    /// # use hedge::types::*; use hedge::*;
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
    /// use std::io::Write;
    /// let mut wtxn = env.write_txn()?;
    /// db.put_reserved(&mut wtxn, "k", 4, |space| {
    ///     space.write_all(b"ab")?;
    ///     assert_eq!(space.remaining(), 2);
    ///     space.write_all(b"cd")
    /// })?;
    /// # Ok(()) }
    /// ```
    pub fn remaining(&self) -> usize {
        self.size - self.head
    }

    /// The bytes written so far (a prefix of the space).
    ///
    /// ```
    /// # use hedge::types::*; use hedge::*;
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
    /// use std::io::Write;
    /// let mut wtxn = env.write_txn()?;
    /// db.put_reserved(&mut wtxn, "k", 5, |space| {
    ///     space.write_all(b"hello")?;
    ///     space.written_mut().make_ascii_uppercase();
    ///     Ok(())
    /// })?;
    /// assert_eq!(db.get(&wtxn, "k")?, Some("HELLO"));
    /// # Ok(()) }
    /// ```
    pub fn written_mut(&mut self) -> &mut [u8] {
        let written = self.written;
        // SAFETY: [0, written) is initialised (the type's invariant); u8 and MaybeUninit<u8>
        // have the same layout.
        unsafe { std::slice::from_raw_parts_mut(self.start.cast::<u8>(), written) }
    }

    /// Zeroes everything from the write position to the end, which counts as written.
    ///
    /// ```
    /// # use hedge::types::*; use hedge::*;
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
    /// use std::io::Write;
    /// let bytes = db.remap_data_type::<Bytes>();
    /// let mut wtxn = env.write_txn()?;
    /// bytes.put_reserved(&mut wtxn, "k", 6, |space| {
    ///     space.write_all(b"ab")?;
    ///     space.fill_zeroes();
    ///     Ok(())
    /// })?;
    /// assert_eq!(bytes.get(&wtxn, "k")?, Some(&b"ab\0\0\0\0"[..]));
    /// # Ok(()) }
    /// ```
    pub fn fill_zeroes(&mut self) {
        let head = self.head;
        self.space()[head..].fill(MaybeUninit::new(0));
        self.written = self.size;
        self.head = self.size;
    }

    /// The whole space, for writing through `MaybeUninit`; then call
    /// [`assume_written`](Self::assume_written).
    ///
    /// Through this slice any byte can be made uninitialised again (`MaybeUninit::uninit()`,
    /// or a copy from the unwritten part), so what counted as written so far no longer does:
    /// until `assume_written`, [`written_mut`](Self::written_mut) is empty and the whole
    /// space would be zeroed at the end. (heed 0.23's `written_mut` trusts the old prefix.)
    ///
    /// ```
    /// # use hedge::types::*; use hedge::*;
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
    /// use std::mem::MaybeUninit;
    /// let mut wtxn = env.write_txn()?;
    /// db.put_reserved(&mut wtxn, "k", 3, |space| {
    ///     for (dst, &b) in space.as_uninit_mut().iter_mut().zip(b"xyz") {
    ///         *dst = MaybeUninit::new(b);
    ///     }
    ///     // SAFETY: the three bytes were just written.
    ///     unsafe { space.assume_written(3) };
    ///     Ok(())
    /// })?;
    /// assert_eq!(db.get(&wtxn, "k")?, Some("xyz"));
    /// # Ok(()) }
    /// ```
    pub fn as_uninit_mut(&mut self) -> &mut [MaybeUninit<u8>] {
        self.written = 0;
        self.head = 0;
        self.space()
    }

    /// Declares the first `len` bytes written (through [`as_uninit_mut`](Self::as_uninit_mut)).
    ///
    /// # Safety
    /// The first `len` bytes must have been initialised, and `len <= size()`.
    ///
    /// ```
    /// # use hedge::types::*; use hedge::*;
    /// # fn main() -> hedge::Result<()> {
    /// # let dir = tempfile::tempdir()?;
    /// # let env = unsafe { EnvOpenOptions::new().max_dbs(4).open(dir.path())? };
    /// # let db: Database<Str, Str> = env.create_databases_and_commit(env.write_txn()?, |o, w| o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit))?.unwrap_commit();
    /// let mut wtxn = env.write_txn()?;
    /// db.put_reserved(&mut wtxn, "k", 2, |space| {
    ///     space.as_uninit_mut()[0].write(b'o');
    ///     space.as_uninit_mut()[1].write(b'k');
    ///     // SAFETY: both bytes were just written.
    ///     unsafe { space.assume_written(2) };
    ///     Ok(())
    /// })?;
    /// assert_eq!(db.get(&wtxn, "k")?, Some("ok"));
    /// # Ok(()) }
    /// ```
    pub unsafe fn assume_written(&mut self, len: usize) {
        assert!(len <= self.size, "assume_written({len}) beyond the reserved {} bytes", self.size);
        self.written = len;
        self.head = len;
    }

    /// Zeroes what was not written; returns how much was written before.
    pub(crate) fn zero_rest(&mut self) -> usize {
        let written = self.written;
        self.space()[written..].fill(MaybeUninit::new(0));
        self.written = self.size;
        written
    }
}

/// A closure that panics skips `finish`: the space is zeroed on the way out instead, so a
/// caller that catches the panic and goes on with the transaction never reads (or commits)
/// a byte that was never written.
impl Drop for ReservedSpace<'_> {
    fn drop(&mut self) {
        self.zero_rest();
    }
}

impl io::Write for ReservedSpace<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_all(buf)?;
        Ok(buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        if buf.len() > self.remaining() {
            return Err(io::Error::new(
                io::ErrorKind::WriteZero,
                format!(
                    "{} bytes do not fit in the {} left of the reserved space",
                    buf.len(),
                    self.remaining()
                ),
            ));
        }
        let head = self.head;
        for (dst, &b) in self.space()[head..head + buf.len()].iter_mut().zip(buf) {
            *dst = MaybeUninit::new(b);
        }
        self.head += buf.len();
        self.written = self.written.max(self.head);
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl io::Seek for ReservedSpace<'_> {
    fn seek(&mut self, pos: io::SeekFrom) -> io::Result<u64> {
        let target = match pos {
            io::SeekFrom::Start(p) => i128::from(p),
            io::SeekFrom::End(d) => self.size as i128 + i128::from(d),
            io::SeekFrom::Current(d) => self.head as i128 + i128::from(d),
        };
        if target < 0 || target > self.size as i128 {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "seek outside the reserved space"));
        }
        let target = target as usize;
        if target > self.written {
            // Keep [0, written) initialised: what is skipped becomes zeros.
            let written = self.written;
            self.space()[written..target].fill(MaybeUninit::new(0));
            self.written = target;
        }
        self.head = target;
        Ok(target as u64)
    }
}

/// Ends a reserved write: zeroes what was not written, and turns a failed or short write into
/// an error (the closure's own, or `InvalidData` saying how much was written).
pub(crate) fn finish(space: &mut ReservedSpace<'_>, result: io::Result<()>) -> crate::Result<()> {
    let size = space.size();
    let written = space.zero_rest();
    match result {
        Err(e) => Err(crate::Error::Io(e)),
        Ok(()) if written < size => Err(crate::Error::Io(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "put_reserved: the closure wrote {written} of the {size} reserved bytes; the rest was zeroed"
            ),
        ))),
        Ok(()) => Ok(()),
    }
}

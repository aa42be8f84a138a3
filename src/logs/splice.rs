//! splice(2) from a child's output pipe into a log file: the kernel moves the bytes into the
//! page cache without the read+write round trip through user space. Only the syscall, the
//! "how many bytes before the next rotation" rule and the error classification live here;
//! `RotatingFile::splice_from` does the bookkeeping.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

/// Rotating files smaller than this keep the read+write path: splice honours maxbytes exactly,
/// so a tiny maxbytes would mean a rotation (renames, an open) every few bytes, where a read
/// chunk rotates once per chunk.
pub const SPLICE_MIN_MAXBYTES: u64 = 64 * 1024;

/// How many bytes the next splice may move into a file that holds `size` bytes: all of `want`
/// when the file does not rotate (`maxbytes` 0), else only what is left before `maxbytes` so the
/// file ends exactly there. A file already at or over `maxbytes` (opened that way, or its last
/// rotation failed) takes `want`, then rotates, as a write would.
pub fn splice_budget(size: u64, maxbytes: u64, want: usize) -> usize {
    if maxbytes == 0 || size >= maxbytes {
        return want;
    }
    usize::try_from(maxbytes - size).map_or(want, |left| left.min(want))
}

/// Errors that mean this file (its filesystem) cannot be a splice target at all: the channel
/// goes back to read+write for good. Anything else (ENOSPC, EIO, EFBIG ...) is a write problem
/// the read path reports and counts.
pub fn splice_unsupported(error: &io::Error) -> bool {
    matches!(
        error.raw_os_error(),
        Some(libc::EINVAL | libc::ENOSYS | libc::EOPNOTSUPP | libc::EBADF | libc::ESPIPE)
    )
}

/// Moves up to `len` bytes from `pipe` into `file` at `offset` (the file's own position and its
/// O_APPEND flag are not used: splice refuses O_APPEND targets). Never waits for the pipe: an
/// empty pipe is `WouldBlock`, an empty pipe without writers is `Ok(0)`.
pub fn splice_at(pipe: RawFd, file: RawFd, offset: u64, len: usize) -> io::Result<usize> {
    let Ok(mut offset) = libc::loff_t::try_from(offset) else {
        return Err(io::Error::from_raw_os_error(libc::EFBIG));
    };
    splice_retrying(pipe, file, Some(&mut offset), len)
}

/// One non-blocking splice from the pipe `from` into `to` (at `*offset` when given), retried
/// after EINTR.
fn splice_retrying(
    from: RawFd,
    to: RawFd,
    mut offset: Option<&mut libc::loff_t>,
    len: usize,
) -> io::Result<usize> {
    crate::sys::retry_eintr(|| {
        let offset_ptr = offset
            .as_deref_mut()
            .map_or(std::ptr::null_mut(), |o| o as *mut libc::loff_t);
        // SAFETY: both descriptors are open and owned by the caller; `offset` outlives the call.
        unsafe {
            libc::splice(
                from,
                std::ptr::null_mut(),
                to,
                offset_ptr,
                len,
                libc::SPLICE_F_NONBLOCK | libc::SPLICE_F_MOVE,
            )
        }
    })
}

/// Sets or clears O_APPEND on an open file.
pub fn set_append(file: RawFd, append: bool) -> io::Result<()> {
    // SAFETY: fcntl on a descriptor the caller owns; failure leaves the flags as they were.
    let flags = unsafe { libc::fcntl(file, libc::F_GETFL) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    let wanted = if append {
        flags | libc::O_APPEND
    } else {
        flags & !libc::O_APPEND
    };
    if wanted == flags {
        return Ok(());
    }
    // SAFETY: as above.
    if unsafe { libc::fcntl(file, libc::F_SETFL, wanted) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_stops_at_maxbytes_and_is_unlimited_without_rotation() {
        let cases: &[(u64, u64, usize, usize)] = &[
            // (size, maxbytes, want, budget)
            (0, 0, 1 << 20, 1 << 20),
            (5 << 30, 0, 4096, 4096),
            (0, 100_000, 1 << 20, 100_000),
            (99_999, 100_000, 1 << 20, 1),
            (40_000, 100_000, 10_000, 10_000),
            (40_000, 100_000, 60_000, 60_000),
            (40_000, 100_000, 60_001, 60_000),
            (100_000, 100_000, 8192, 8192),
            (250_000, 100_000, 8192, 8192),
            (0, u64::MAX, 1 << 20, 1 << 20),
        ];
        for &(size, maxbytes, want, budget) in cases {
            assert_eq!(
                splice_budget(size, maxbytes, want),
                budget,
                "size {size} maxbytes {maxbytes} want {want}"
            );
        }
    }

    #[test]
    fn unsupported_errors_are_the_filesystem_kind_only() {
        for errno in [libc::EINVAL, libc::ENOSYS, libc::EOPNOTSUPP, libc::EBADF] {
            assert!(splice_unsupported(&io::Error::from_raw_os_error(errno)));
        }
        for errno in [
            libc::ENOSPC,
            libc::EIO,
            libc::EFBIG,
            libc::EDQUOT,
            libc::EAGAIN,
        ] {
            assert!(!splice_unsupported(&io::Error::from_raw_os_error(errno)));
        }
    }
}

/// A pipe between a child's pipe and a log file. splice(2) into a file holds the source pipe's
/// lock for the whole copy into the page cache, so a child writing into that pipe waits (spinning)
/// for every file write. Moving the bytes to this pipe first only passes page references (no
/// copy, the child's pipe is locked briefly), and the file copy then holds only this pipe's lock:
/// the child keeps writing meanwhile.
pub struct StagingPipe {
    read: OwnedFd,
    write: OwnedFd,
    capacity: usize,
}

impl StagingPipe {
    /// A non-blocking pipe of (ideally) `capacity` bytes.
    pub fn new(capacity: usize) -> io::Result<StagingPipe> {
        let (read, write) = crate::sys::pipe_nonblocking()?;
        let wanted = i32::try_from(capacity).unwrap_or(i32::MAX);
        // SAFETY: fcntl on our own pipe; a refusal keeps the default size, reported by GETPIPE_SZ.
        let got = unsafe {
            libc::fcntl(write.as_raw_fd(), libc::F_SETPIPE_SZ, wanted);
            libc::fcntl(write.as_raw_fd(), libc::F_GETPIPE_SZ)
        };
        Ok(StagingPipe {
            read,
            write,
            capacity: usize::try_from(got).unwrap_or(0).max(4096),
        })
    }

    /// The end the log file is spliced from.
    pub fn read_fd(&self) -> RawFd {
        self.read.as_raw_fd()
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Moves up to `len` bytes from `source` (a non-blocking pipe) into this (empty) pipe.
    /// Ok(0) = end of file; WouldBlock = the source is empty.
    pub fn fill_from(&self, source: RawFd, len: usize) -> io::Result<usize> {
        splice_retrying(source, self.write.as_raw_fd(), None, len.min(self.capacity))
    }
}

#[cfg(test)]
mod staging_tests {
    use super::*;

    fn pipe() -> (OwnedFd, OwnedFd) {
        crate::sys::pipe_nonblocking().expect("pipe")
    }

    fn write_all(fd: &OwnedFd, data: &[u8]) {
        let n = unsafe { libc::write(fd.as_raw_fd(), data.as_ptr().cast(), data.len()) };
        assert_eq!(n as usize, data.len());
    }

    fn read_some(fd: RawFd, max: usize) -> Vec<u8> {
        let mut buf = vec![0u8; max];
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        buf.truncate(n.max(0) as usize);
        buf
    }

    #[test]
    fn moves_bytes_reports_empty_and_end_of_file() {
        let staging = StagingPipe::new(1 << 20).unwrap();
        assert!(staging.capacity() >= 4096);
        let (child_read, child_write) = pipe();
        let err = staging.fill_from(child_read.as_raw_fd(), 100).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock, "empty source");
        write_all(&child_write, b"hello staged world");
        assert_eq!(staging.fill_from(child_read.as_raw_fd(), 5).unwrap(), 5);
        assert_eq!(read_some(staging.read_fd(), 64), b"hello");
        assert_eq!(staging.fill_from(child_read.as_raw_fd(), 1000).unwrap(), 13);
        assert_eq!(read_some(staging.read_fd(), 64), b" staged world");
        drop(child_write);
        assert_eq!(
            staging.fill_from(child_read.as_raw_fd(), 100).unwrap(),
            0,
            "EOF"
        );
    }

    #[test]
    fn never_moves_more_than_its_capacity() {
        let staging = StagingPipe::new(4096).unwrap();
        let (child_read, child_write) = pipe();
        let data: Vec<u8> = (0..20000u32).map(|i| (i % 251) as u8).collect();
        write_all(&child_write, &data);
        let moved = staging
            .fill_from(child_read.as_raw_fd(), data.len())
            .unwrap();
        assert!(
            moved <= staging.capacity(),
            "{moved} > {}",
            staging.capacity()
        );
        assert_eq!(read_some(staging.read_fd(), 1 << 20), &data[..moved]);
    }
}

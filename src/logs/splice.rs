//! splice(2) from a child's output pipe into a log file: the kernel moves the bytes into the
//! page cache without the read+write round trip through user space. Only the syscall, the
//! "how many bytes before the next rotation" rule and the error classification live here;
//! `RotatingFile::splice_from` does the bookkeeping.

use std::io;
use std::os::fd::RawFd;

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
    loop {
        // SAFETY: both descriptors are open and owned by the caller; `offset` outlives the call.
        let n = unsafe {
            libc::splice(
                pipe,
                std::ptr::null_mut(),
                file,
                &mut offset,
                len,
                libc::SPLICE_F_NONBLOCK | libc::SPLICE_F_MOVE,
            )
        };
        if n >= 0 {
            return Ok(n as usize);
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
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

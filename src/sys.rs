//! The libc calls several layers share (daemon, logs, HTTP, rpc): close-on-exec pipes, read and
//! write that retry EINTR, local time via localtime_r, and UTC calendar dates. A leaf: it
//! imports nothing from the crate. Calls used by one file only stay in that file.

use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::time::{SystemTime, UNIX_EPOCH};

fn pipe2(flags: libc::c_int) -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: fds has room for the two descriptors pipe2 writes.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), flags) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: pipe2 just created both descriptors; nothing else owns them.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// A blocking pipe (read end, write end), closed on exec: children get only the ends spawn
/// dup2()s onto their stdio.
pub fn pipe_cloexec() -> io::Result<(OwnedFd, OwnedFd)> {
    pipe2(libc::O_CLOEXEC)
}

/// A non-blocking, close-on-exec pipe (read end, write end), for the loop's own use.
pub fn pipe_nonblocking() -> io::Result<(OwnedFd, OwnedFd)> {
    pipe2(libc::O_CLOEXEC | libc::O_NONBLOCK)
}

/// Runs a byte-count syscall (read, write, splice, ...) until it is not interrupted by a signal:
/// the daemon's handlers are installed without SA_RESTART. Allocates nothing, so the forked child
/// may use it too.
pub fn retry_eintr(mut call: impl FnMut() -> isize) -> io::Result<usize> {
    loop {
        let n = call();
        if n >= 0 {
            return Ok(n as usize);
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

/// read(2), retried on EINTR. Ok(0) is end of file.
pub fn read(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: reading into a valid buffer of the stated length.
    retry_eintr(|| unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) })
}

/// write(2), retried on EINTR; may write less than `data`.
pub fn write(fd: RawFd, data: &[u8]) -> io::Result<usize> {
    // SAFETY: writing from a valid slice of the stated length.
    retry_eintr(|| unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) })
}

/// Broken-down local time (honouring TZ like the reference's `time.localtime`), to the
/// millisecond (truncated, as Python's logging does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalTime {
    pub year: i32,
    /// 1 = January.
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub millis: u32,
    /// Seconds east of UTC at that instant.
    pub utc_offset: i64,
}

impl LocalTime {
    /// The local time of a wall-clock instant; before the epoch, whole seconds only.
    pub fn from_system(time: SystemTime) -> LocalTime {
        let (secs, millis) = match time.duration_since(UNIX_EPOCH) {
            Ok(d) => (d.as_secs() as i64, d.subsec_millis()),
            Err(e) => (-(e.duration().as_secs() as i64), 0),
        };
        LocalTime {
            millis,
            ..LocalTime::from_epoch(secs)
        }
    }

    /// The local time of epoch seconds. If the C library cannot convert them (far out of range),
    /// 1970-01-01 00:00:00 at offset 0.
    pub fn from_epoch(secs: i64) -> LocalTime {
        let t = secs as libc::time_t;
        // SAFETY: tm is plain data (zeroed is a valid value); localtime_r only writes into it.
        let mut tm: libc::tm = unsafe { std::mem::zeroed() };
        let ok = unsafe { !libc::localtime_r(&t, &mut tm).is_null() };
        if !ok {
            return LocalTime {
                year: 1970,
                month: 1,
                day: 1,
                hour: 0,
                minute: 0,
                second: 0,
                millis: 0,
                utc_offset: 0,
            };
        }
        let field = |v: libc::c_int| u32::try_from(v).unwrap_or(0);
        LocalTime {
            year: tm.tm_year + 1900,
            month: field(tm.tm_mon + 1),
            day: field(tm.tm_mday),
            hour: field(tm.tm_hour),
            minute: field(tm.tm_min),
            second: field(tm.tm_sec),
            millis: 0,
            utc_offset: tm.tm_gmtoff,
        }
    }

    /// The C locale's `%b`: `Jan` .. `Dec`.
    pub fn month_abbr(&self) -> &'static str {
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        MONTHS
            .get(self.month.saturating_sub(1) as usize)
            .copied()
            .unwrap_or("Jan")
    }
}

/// Makes localtime_r see TZ changes; call once at startup (glibc otherwise reads TZ lazily).
pub fn init_timezone() {
    unsafe extern "C" {
        fn tzset();
    }
    // SAFETY: tzset has no arguments and only updates libc's timezone globals.
    unsafe { tzset() };
}

/// (year, month 1-12, day 1-31) of a day count since 1970-01-01, proleptic Gregorian
/// (H. Hinnant's `civil_from_days`): UTC dates without a time-zone database.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn pipes_carry_bytes_and_report_end_of_file() {
        let (r, w) = pipe_nonblocking().expect("pipe");
        use std::os::fd::AsRawFd;
        assert_eq!(write(w.as_raw_fd(), b"hi").expect("write"), 2);
        let mut buf = [0u8; 8];
        assert_eq!(read(r.as_raw_fd(), &mut buf).expect("read"), 2);
        assert_eq!(&buf[..2], b"hi");
        let empty = read(r.as_raw_fd(), &mut buf).expect_err("nothing to read");
        assert_eq!(empty.kind(), io::ErrorKind::WouldBlock);
        drop(w);
        assert_eq!(read(r.as_raw_fd(), &mut buf).expect("eof"), 0);
        let (r, w) = pipe_cloexec().expect("pipe");
        // SAFETY: F_GETFD on descriptors we own.
        let flags = unsafe { libc::fcntl(r.as_raw_fd(), libc::F_GETFD) };
        assert_eq!(flags & libc::FD_CLOEXEC, libc::FD_CLOEXEC);
        // SAFETY: as above.
        let status = unsafe { libc::fcntl(w.as_raw_fd(), libc::F_GETFL) };
        assert_eq!(status & libc::O_NONBLOCK, 0);
    }

    #[test]
    fn millis_are_truncated_not_rounded() {
        let time = UNIX_EPOCH + Duration::from_micros(1_700_000_000_999_999);
        assert_eq!(LocalTime::from_system(time).millis, 999);
    }

    #[test]
    fn local_time_agrees_with_seconds_of_day_modulo_offset() {
        // Whatever the zone, seconds match UTC's, and 60 s later is one minute later.
        let a = LocalTime::from_epoch(1_795_460_700 + 59);
        let b = LocalTime::from_epoch(1_795_460_760 + 59);
        assert_eq!(a.second, 59);
        assert_eq!((a.minute + 1) % 60, b.minute);
        assert!(a.year >= 2026);
        assert!((1..=12).contains(&a.month));
    }

    #[test]
    fn month_abbreviations_are_one_based() {
        let mut t = LocalTime::from_epoch(0);
        t.month = 1;
        assert_eq!(t.month_abbr(), "Jan");
        t.month = 12;
        assert_eq!(t.month_abbr(), "Dec");
    }

    #[test]
    fn civil_dates_across_the_epoch_and_leap_days() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_792), (2026, 12, 5));
    }
}

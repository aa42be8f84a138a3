//! Local wall-clock time for log lines (`YYYY-MM-DD HH:MM:SS,mmm`), via localtime_r.

use std::time::{SystemTime, UNIX_EPOCH};

/// Broken-down local time with truncated milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalTime {
    pub year: i32,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub millis: u32,
}

impl LocalTime {
    pub fn from_system(time: SystemTime) -> LocalTime {
        let (secs, millis) = match time.duration_since(UNIX_EPOCH) {
            Ok(d) => (d.as_secs() as i64, d.subsec_millis()),
            Err(e) => (-(e.duration().as_secs() as i64), 0),
        };
        let t: libc::time_t = secs as libc::time_t;
        // SAFETY: tm is plain data; localtime_r only writes into it.
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
                millis,
            };
        }
        LocalTime {
            year: tm.tm_year + 1900,
            month: (tm.tm_mon + 1) as u32,
            day: tm.tm_mday as u32,
            hour: tm.tm_hour as u32,
            minute: tm.tm_min as u32,
            second: tm.tm_sec as u32,
            millis,
        }
    }

    /// The reference's asctime: `2026-11-23 19:05:58,203`.
    pub fn asctime(&self) -> String {
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02},{:03}",
            self.year, self.month, self.day, self.hour, self.minute, self.second, self.millis
        )
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn asctime_pads_and_truncates() {
        let t = LocalTime {
            year: 2026,
            month: 1,
            day: 2,
            hour: 3,
            minute: 4,
            second: 5,
            millis: 7,
        };
        assert_eq!(t.asctime(), "2026-01-02 03:04:05,007");
    }

    #[test]
    fn millis_are_truncated_not_rounded() {
        let time = UNIX_EPOCH + Duration::from_micros(1_700_000_000_999_999);
        assert_eq!(LocalTime::from_system(time).millis, 999);
    }

    #[test]
    fn local_time_agrees_with_seconds_of_day_modulo_offset() {
        // Whatever the zone, minutes and seconds of a whole-hour offset zone match UTC's.
        let time = UNIX_EPOCH + Duration::from_secs(1_795_460_760 + 59);
        let local = LocalTime::from_system(time);
        assert_eq!(local.second, 59);
        assert!(local.year >= 2026);
    }
}

//! The reference's log-line timestamp (`YYYY-MM-DD HH:MM:SS,mmm`, Python logging's asctime) in
//! local time.

use crate::sys::LocalTime;
use std::time::SystemTime;

/// The reference's asctime: `2026-11-23 19:05:58,203`.
pub fn asctime(time: SystemTime) -> String {
    format_asctime(&LocalTime::from_system(time))
}

fn format_asctime(t: &LocalTime) -> String {
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02},{:03}",
        t.year, t.month, t.day, t.hour, t.minute, t.second, t.millis
    )
}

#[cfg(test)]
mod tests {
    use super::*;

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
            utc_offset: 0,
        };
        assert_eq!(format_asctime(&t), "2026-01-02 03:04:05,007");
    }
}

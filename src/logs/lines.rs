//! Line-prefixed output (`log_prefix=`, `log_timestamps=`): bytes from a child pipe in,
//! complete lines out as `[TIMESTAMP ]PREFIXLINE\n`, with a partial line carried until its
//! newline or until the pipe closes (then completed with one). Pure: the wall time of the loop
//! pass is an argument; nothing here reads a clock or writes anywhere.

use std::time::{SystemTime, UNIX_EPOCH};

/// A partial line longer than this is written as a line of its own (bounded memory per
/// channel for a child that never writes a newline).
pub const MAX_LINE: usize = 1 << 20;

/// The line assembler of one output channel.
#[derive(Debug, Clone)]
pub struct LinePrefixer {
    prefix: Vec<u8>,
    timestamps: bool,
    /// The start of a line whose newline has not come yet.
    carry: Vec<u8>,
}

impl LinePrefixer {
    pub fn new(prefix: Option<&str>, timestamps: bool) -> LinePrefixer {
        LinePrefixer {
            prefix: prefix.unwrap_or_default().as_bytes().to_vec(),
            timestamps,
            carry: Vec::new(),
        }
    }

    /// Appends to `out` every line `data` completes, prefixed (stamped with `wall`, the time
    /// the line was read); keeps the rest for the next call.
    pub fn feed(&mut self, data: &[u8], wall: SystemTime, out: &mut Vec<u8>) {
        let mut rest = data;
        let stamp = self.timestamps.then(|| rfc3339_millis(wall));
        while let Some(at) = rest.iter().position(|&b| b == b'\n') {
            let (line, tail) = rest.split_at(at + 1);
            self.emit(stamp.as_deref(), line, out);
            rest = tail;
        }
        self.carry.extend_from_slice(rest);
        if self.carry.len() >= MAX_LINE {
            self.emit(stamp.as_deref(), b"\n", out);
        }
    }

    /// The pipe closed: a partial line is completed with a newline.
    pub fn finish(&mut self, wall: SystemTime, out: &mut Vec<u8>) {
        if !self.carry.is_empty() {
            let stamp = self.timestamps.then(|| rfc3339_millis(wall));
            self.emit(stamp.as_deref(), b"\n", out);
        }
    }

    /// Whether a partial line is held.
    pub fn has_partial_line(&self) -> bool {
        !self.carry.is_empty()
    }

    /// Writes one line: stamp, prefix, the carried start, then `end` (which ends with `\n`).
    fn emit(&mut self, stamp: Option<&str>, end: &[u8], out: &mut Vec<u8>) {
        if let Some(stamp) = stamp {
            out.extend_from_slice(stamp.as_bytes());
            out.push(b' ');
        }
        out.extend_from_slice(&self.prefix);
        out.append(&mut self.carry);
        out.extend_from_slice(end);
    }
}

/// RFC 3339 in UTC with exactly three fractional digits: `2026-12-04T21:07:03.123Z`.
pub fn rfc3339_millis(t: SystemTime) -> String {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (days, of_day) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = crate::sys::civil_from_days(days as i64);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        of_day / 3600,
        of_day / 60 % 60,
        of_day % 60,
        since.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(secs: u64, millis: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_millis(millis)
    }

    #[test]
    fn timestamps_are_rfc3339_utc_with_millis() {
        let cases = [
            (at(0, 0), "1970-01-01T00:00:00.000Z"),
            (at(1_796_418_423, 123), "2026-12-04T21:07:03.123Z"),
            (at(951_782_400, 999), "2000-02-29T00:00:00.999Z"),
            (at(4_107_542_399, 5), "2100-02-28T23:59:59.005Z"),
            (
                UNIX_EPOCH - Duration::from_secs(5),
                "1970-01-01T00:00:00.000Z",
            ),
        ];
        for (t, want) in cases {
            assert_eq!(rfc3339_millis(t), want);
        }
    }

    /// (prefix, timestamps, chunks, expected output after each chunk, output at the end)
    type Case<'a> = (Option<&'a str>, bool, &'a [&'a str], &'a [&'a str], &'a str);

    #[test]
    fn lines_are_completed_prefixed_and_stamped() {
        let t = at(1_796_418_423, 123);
        let cases: &[Case] = &[
            (
                Some("[web] "),
                false,
                &["a\nb\n"],
                &["[web] a\n[web] b\n"],
                "",
            ),
            (
                Some("[web] "),
                false,
                &["par", "tial\nx"],
                &["", "[web] partial\n"],
                "[web] x\n",
            ),
            (
                None,
                true,
                &["one\n"],
                &["2026-12-04T21:07:03.123Z one\n"],
                "",
            ),
            (
                Some("p|"),
                true,
                &["\n"],
                &["2026-12-04T21:07:03.123Z p|\n"],
                "",
            ),
            (
                Some(""),
                false,
                &["", "no newline"],
                &["", ""],
                "no newline\n",
            ),
            (Some("> "), false, &["a\r\n"], &["> a\r\n"], ""),
        ];
        for (prefix, stamps, chunks, after, at_end) in cases {
            let mut p = LinePrefixer::new(*prefix, *stamps);
            for (chunk, want) in chunks.iter().zip(after.iter()) {
                let mut out = Vec::new();
                p.feed(chunk.as_bytes(), t, &mut out);
                assert_eq!(String::from_utf8_lossy(&out), *want, "{chunks:?}");
            }
            let mut out = Vec::new();
            p.finish(t, &mut out);
            assert_eq!(String::from_utf8_lossy(&out), *at_end, "{chunks:?} at end");
            assert!(!p.has_partial_line());
        }
    }

    #[test]
    fn an_endless_line_is_cut_at_the_bound() {
        let mut p = LinePrefixer::new(Some("x "), false);
        let mut out = Vec::new();
        p.feed(&vec![b'a'; MAX_LINE + 10], at(0, 0), &mut out);
        assert_eq!(out.len(), 2 + MAX_LINE + 10 + 1);
        assert!(out.ends_with(b"a\n") && !p.has_partial_line());
    }

    #[test]
    fn binary_output_passes_through() {
        let mut p = LinePrefixer::new(Some("b "), false);
        let mut out = Vec::new();
        p.feed(b"\xff\x00\n", at(0, 0), &mut out);
        assert_eq!(out, b"b \xff\x00\n");
    }
}

//! ANSI escape removal (`strip_ansi=true`): from `ESC [` up to and including the first byte in
//! `HfABCDRsuJKhlpm`, exactly like the reference's stripEscapes, but able to continue a sequence
//! across read boundaries.

const TERMINATORS: &[u8] = b"HfABCDRsuJKhlpm";
const ESC: u8 = 0x1b;

/// Stateful stripper for one output stream.
#[derive(Debug, Default, Clone)]
pub struct AnsiStripper {
    /// Inside `ESC [ ...`, waiting for a terminator.
    hiding: bool,
    /// The previous chunk ended with ESC: it is a sequence start if this chunk begins with `[`.
    pending_esc: bool,
}

impl AnsiStripper {
    pub fn new() -> AnsiStripper {
        AnsiStripper::default()
    }

    /// Strips one chunk. A trailing ESC is held back until the next chunk (or `finish`).
    pub fn strip(&mut self, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(data.len());
        let mut i = 0;
        if self.pending_esc {
            self.pending_esc = false;
            if data.first() == Some(&b'[') {
                self.hiding = true;
                i = 1;
            } else if data.is_empty() {
                self.pending_esc = true;
                return out;
            } else {
                out.push(ESC);
            }
        }
        while i < data.len() {
            if self.hiding {
                match data[i..].iter().position(|b| TERMINATORS.contains(b)) {
                    Some(p) => {
                        self.hiding = false;
                        i += p + 1;
                    }
                    None => return out,
                }
                continue;
            }
            match data[i..].iter().position(|&b| b == ESC) {
                None => {
                    out.extend_from_slice(&data[i..]);
                    return out;
                }
                Some(p) => {
                    let esc = i + p;
                    out.extend_from_slice(&data[i..esc]);
                    match data.get(esc + 1) {
                        Some(b'[') => {
                            self.hiding = true;
                            i = esc + 2;
                        }
                        Some(_) => {
                            out.push(ESC);
                            i = esc + 1;
                        }
                        None => {
                            self.pending_esc = true;
                            return out;
                        }
                    }
                }
            }
        }
        out
    }

    /// End of stream: a held-back ESC is plain text.
    pub fn finish(&mut self) -> Vec<u8> {
        self.hiding = false;
        if std::mem::take(&mut self.pending_esc) {
            vec![ESC]
        } else {
            Vec::new()
        }
    }
}

/// Strips a complete buffer (the reference's stripEscapes).
#[cfg(test)]
pub fn strip_ansi(data: &[u8]) -> Vec<u8> {
    let mut stripper = AnsiStripper::new();
    let mut out = stripper.strip(data);
    out.extend(stripper.finish());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A direct transcription of the reference's loop, as an oracle for the tests.
    fn reference_strip(s: &[u8]) -> Vec<u8> {
        let mut result = Vec::new();
        let mut show = true;
        let mut i = 0;
        while i < s.len() {
            if !show && TERMINATORS.contains(&s[i]) {
                show = true;
            } else if show {
                match s[i..].windows(2).position(|w| w == b"\x1b[") {
                    None => {
                        result.extend_from_slice(&s[i..]);
                        return result;
                    }
                    Some(p) => {
                        result.extend_from_slice(&s[i..i + p]);
                        i += p;
                        show = false;
                    }
                }
            }
            i += 1;
        }
        result
    }

    #[test]
    fn strip_table() {
        let cases: [(&[u8], &[u8]); 12] = [
            (b"\x1b[31mred\x1b[0m plain", b"red plain"),
            (b"no escapes\n", b"no escapes\n"),
            (b"\x1b[2J\x1b[Hscreen", b"screen"),
            (b"a\x1b[1;32;40mb", b"ab"),
            (b"lone \x1b here", b"lone \x1b here"),
            (b"end \x1b", b"end \x1b"),
            (b"\x1b\x1b[31mx", b"\x1bx"),
            (b"unterminated \x1b[12345", b"unterminated "),
            (b"\x1b[ hello", b"ello"), // ' h': h is a terminator
            (b"\x1b[[m", b""),
            (b"\x1b[K\n", b"\n"),
            (b"", b""),
        ];
        for (input, expected) in cases {
            assert_eq!(strip_ansi(input), expected, "{input:?}");
            assert_eq!(reference_strip(input), expected, "oracle {input:?}");
        }
    }

    #[test]
    fn every_split_point_gives_the_whole_buffer_result() {
        let inputs: [&[u8]; 4] = [
            b"x\x1b[31mred\x1b[0m plain\x1b[1;2Hz\x1b",
            b"\x1b\x1b[\x1b[mq",
            b"abc\x1b[12;34fdef\x1b[Kghi",
            b"\x1b[",
        ];
        for input in inputs {
            let whole = strip_ansi(input);
            assert_eq!(whole, reference_strip(input));
            for a in 0..=input.len() {
                for b in a..=input.len() {
                    let mut stripper = AnsiStripper::new();
                    let mut out = stripper.strip(&input[..a]);
                    out.extend(stripper.strip(&input[a..b]));
                    out.extend(stripper.strip(&input[b..]));
                    out.extend(stripper.finish());
                    assert_eq!(out, whole, "{input:?} split at {a},{b}");
                }
            }
        }
    }
}

//! Python emulation: the texts and parsing rules of the reference's interpreter that leak into
//! our output (`repr()` of str, bytes, float and lists, `int()` of a string, `str(OSError)`,
//! `os.path.dirname`). A leaf: it imports nothing from the crate.

/// Python's quote choice: single quotes unless the text has `'` and no `"`.
fn quote_for(has_single: bool, has_double: bool) -> char {
    if has_single && !has_double { '"' } else { '\'' }
}

/// `repr(bytes)`: `b'caf\xc3\xa9 \xff\n'`.
pub fn py_bytes_repr(data: &[u8]) -> String {
    let quote = quote_for(data.contains(&b'\''), data.contains(&b'"'));
    let mut out = String::with_capacity(data.len() + 3);
    out.push('b');
    out.push(quote);
    for &b in data {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            _ if b as char == quote => {
                out.push('\\');
                out.push(quote);
            }
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push(quote);
    out
}

/// `repr(str)` for the texts we meet (names, paths): non-printable ASCII and C1 controls are
/// escaped; other non-ASCII characters are kept, as Python does for printable ones.
pub fn py_repr(text: &str) -> String {
    let quote = quote_for(text.contains('\''), text.contains('"'));
    let mut out = String::with_capacity(text.len() + 2);
    out.push(quote);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            _ if c == quote => {
                out.push('\\');
                out.push(quote);
            }
            '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{a0}' => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            _ => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// `repr(list)` of items already rendered with their own `repr()`: `['a', 1]`.
pub fn list_repr(items: impl IntoIterator<Item = String>) -> String {
    let inner: Vec<String> = items.into_iter().collect();
    format!("[{}]", inner.join(", "))
}

/// `repr(float)` (also `str(float)`): the shortest digits that round-trip, in scientific
/// notation when the decimal exponent is below -4 or at least 16 (`1e+20`, `1e-05`), otherwise
/// positional with at least one fractional digit (`100.0`); `inf`, `-inf`, `nan`, `-0.0`.
pub fn float_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".to_string();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    let sign = if x.is_sign_negative() { "-" } else { "" };
    let sci = shortest_sci(x.abs());
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    // Python's float_repr_style 'short': positional while -4 <= exponent < 16.
    let body = if !(-4..16).contains(&exponent) {
        let (first, rest) = digits.split_at(1);
        let point = if rest.is_empty() { "" } else { "." };
        let esign = if exponent < 0 { '-' } else { '+' };
        format!("{first}{point}{rest}e{esign}{:02}", exponent.unsigned_abs())
    } else if exponent < 0 {
        let zeros = "0".repeat(exponent.unsigned_abs() as usize - 1);
        format!("0.{zeros}{digits}")
    } else {
        let point = exponent as usize + 1;
        if point >= digits.len() {
            format!("{digits}{}.0", "0".repeat(point - digits.len()))
        } else {
            let (int_part, frac) = digits.split_at(point);
            format!("{int_part}.{frac}")
        }
    };
    format!("{sign}{body}")
}

/// The shortest digits that round-trip, in `{:e}` form, chosen like Python's dtoa: when two
/// candidates of that length round-trip, the one nearer the exact value, and on an exact tie the
/// even one (Rust's shortest mode rounds such a tie up: 1658206780088562.25 gives `...2.3`,
/// Python `...2.2`).
fn shortest_sci(x: f64) -> String {
    let shortest = format!("{x:e}");
    let digits = shortest
        .split_once('e')
        .map_or(0, |(m, _)| m.chars().filter(char::is_ascii_digit).count());
    // Fixed precision is correctly rounded with ties to even: the nearest candidate of that
    // length. It may miss the round-trip interval next to a power of two, where the interval
    // below is narrower; then the shortest-mode answer stands.
    let nearest = format!("{:.*e}", digits.saturating_sub(1), x);
    if nearest.parse::<f64>() == Ok(x) {
        nearest
    } else {
        shortest
    }
}

/// Python's `str.isspace()`: Unicode White_Space plus the ASCII separators 0x1c-0x1f, the
/// characters `int(str)` and `str.strip()` remove.
fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// `int(text, radix)` for radix 10 or 8: surrounding whitespace, an optional sign, digits with
/// single underscores between them (and for radix 8 an optional `0o` prefix, as Python allows).
/// None where Python raises ValueError. Python's ints are unbounded; ours saturate at the i128
/// range, so callers range-check with `try_from` or clamp.
pub fn int(text: &str, radix: u32) -> Option<i128> {
    int_body(text.trim_matches(is_py_space), radix)
}

/// `int(bytes)`: as `int(str)` in radix 10, but only ASCII whitespace is stripped and the bytes
/// must be ASCII (non-ASCII bytes are never digits).
pub fn int_bytes(text: &[u8]) -> Option<i128> {
    let text = std::str::from_utf8(text).ok()?;
    int_body(
        text.trim_matches(|c: char| c.is_ascii_whitespace() || c == '\x0b'),
        10,
    )
}

fn int_body(text: &str, radix: u32) -> Option<i128> {
    let (negative, body) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let body = if radix == 8 {
        body.strip_prefix("0o")
            .or_else(|| body.strip_prefix("0O"))
            .map(|b| b.strip_prefix('_').unwrap_or(b))
            .unwrap_or(body)
    } else {
        body
    };
    if body.is_empty() || body.starts_with('_') || body.ends_with('_') || body.contains("__") {
        return None;
    }
    let mut value: i128 = 0;
    for c in body.chars().filter(|c| *c != '_') {
        let digit = c.to_digit(radix)?;
        value = value
            .saturating_mul(i128::from(radix))
            .saturating_add(i128::from(digit));
    }
    Some(if negative { -value } else { value })
}

/// The Python exception class `OSError(errno)` becomes (as the reference names it in messages).
pub fn os_error_class(errno: Option<i32>) -> &'static str {
    match errno {
        Some(libc::ECONNREFUSED) => "ConnectionRefusedError",
        Some(libc::ENOENT) => "FileNotFoundError",
        Some(libc::EACCES) | Some(libc::EPERM) => "PermissionError",
        Some(libc::ECONNRESET) => "ConnectionResetError",
        Some(libc::ECONNABORTED) => "ConnectionAbortedError",
        Some(libc::EPIPE) => "BrokenPipeError",
        Some(libc::ETIMEDOUT) => "TimeoutError",
        _ => "OSError",
    }
}

/// `str(OSError)`: `[Errno N] <strerror>`.
pub fn os_error_text(err: &std::io::Error) -> String {
    match err.raw_os_error() {
        Some(n) => format!("[Errno {n}] {}", nix::errno::Errno::from_raw(n).desc()),
        None => err.to_string(),
    }
}

/// `os.path.dirname`: everything before the last `/`, trailing slashes removed unless the head
/// is all slashes (`/a` -> `/`, `a` -> ``).
pub fn dirname(path: &str) -> &str {
    match path.rfind('/') {
        Some(i) => {
            let head = &path[..=i];
            let trimmed = head.trim_end_matches('/');
            if trimmed.is_empty() { head } else { trimmed }
        }
        None => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_repr_table() {
        let cases: [(&[u8], &str); 9] = [
            (b"READY\n", r"b'READY\n'"),
            (b"a\xff\n'", r#"b"a\xff\n'""#),
            (b"\x00", r"b'\x00'"),
            (b"caf\xc3\xa9 \xff\n", r"b'caf\xc3\xa9 \xff\n'"),
            (b"it's", r#"b"it's""#),
            (b"it's \"q\"", r#"b'it\'s "q"'"#),
            (b"\\\t\r\x00\x7f", r"b'\\\t\r\x00\x7f'"),
            (b"", "b''"),
            (b"RESULT 2\nOKREADY\n", r"b'RESULT 2\nOKREADY\n'"),
        ];
        for (input, expected) in cases {
            assert_eq!(py_bytes_repr(input), expected);
        }
    }

    #[test]
    fn str_repr_table() {
        let cases = [
            ("cat", "'cat'"),
            ("/tmp/a b", "'/tmp/a b'"),
            ("it's", r#""it's""#),
            ("tab\there", r"'tab\there'"),
            ("é", "'é'"),
            ("\u{85}", r"'\x85'"),
            ("a", "'a'"),
            ("abc", "'abc'"),
            ("notaurl", "'notaurl'"),
            ("a'b\"c", "'a\\'b\"c'"),
            ("a\nb", "'a\\nb'"),
            ("a\nb\\", "'a\\nb\\\\'"),
            ("back\\slash", "'back\\\\slash'"),
            ("tab\there\n", "'tab\\there\\n'"),
            ("\u{1}", "'\\x01'"),
        ];
        for (input, expected) in cases {
            assert_eq!(py_repr(input), expected, "{input:?}");
        }
    }

    /// `repr(float)` of these doubles (bit patterns), printed by Python 3.11 with
    /// `repr(struct.unpack('<d', struct.pack('<Q', bits))[0])`.
    const FLOAT_REPRS: &[(u64, &str)] = &[
        (0x0000000000000000, "0.0"),
        (0x8000000000000000, "-0.0"),
        (0x3ff0000000000000, "1.0"),
        (0xbff0000000000000, "-1.0"),
        (0x3fb999999999999a, "0.1"),
        (0x3fe0000000000000, "0.5"),
        (0x3ff8000000000000, "1.5"),
        (0x4004000000000000, "2.5"),
        (0xc002000000000000, "-2.25"),
        (0x4059000000000000, "100.0"),
        (0x430c6bf526340000, "1000000000000000.0"),
        (0x4341c37937e08000, "1e+16"),
        (0x4376345785d8a000, "1e+17"),
        (0x4415af1d78b58c40, "1e+20"),
        (0x444b1ae4d6e2ef50, "1e+21"),
        (0x4480f0cf064dd592, "1e+22"),
        (0x44b52d02c7e14af6, "1e+23"),
        (0x4340000000000000, "9007199254740992.0"),
        (0x43179085685d83c9, "1658206780088562.2"),
        (0x419d6f34547df3b6, "123456789.123"),
        (0x43118b54f22aeb03, "1234567890123456.8"),
        (0x4345ee2a2eb5a5c4, "1.2345678901234568e+16"),
        (0x3f1a36e2eb1c432d, "0.0001"),
        (0x3ee4f8b588e368f1, "1e-05"),
        (0x3e7ad7f29abcaf48, "1e-07"),
        (0x3f202c9dedbc309d, "0.0001234"),
        (0x3ee9e0fcaf9380fc, "1.234e-05"),
        (0x0000000000000001, "5e-324"),
        (0x0010000000000000, "2.2250738585072014e-308"),
        (0x7fefffffffffffff, "1.7976931348623157e+308"),
        (0x7e41eb2d66005835, "1.5e+300"),
        (0x81b01297d23ab683, "-1.5e-300"),
        (0x400921fb54442d18, "3.141592653589793"),
        (0x3fd5555555555555, "0.3333333333333333"),
        (0x3fd3333333333334, "0.30000000000000004"),
        (0x41dac123a5b9999a, "1795460758.9"),
        (0x41dac123a587e6b4, "1795460758.123456"),
        (0x7ff0000000000000, "inf"),
        (0xfff0000000000000, "-inf"),
        (0x7ff8000000000000, "nan"),
        (0x4341c37937e07fff, "9999999999999998.0"),
        (0x430c6bf52633ffff, "999999999999999.9"),
        (0x3f50624dd2f1a9fc, "0.001"),
        (0x3f506243162a38e4, "0.00099999"),
        (0x54b249ad2594c37d, "1e+100"),
        (0x3e4a69ff1b555051, "1.23e-08"),
        (0x40f0000000000000, "65536.0"),
        (0x00000000000007e8, "1e-320"),
        (0xbee4f8b588e368f1, "-1e-05"),
        (0xc341c37937e08000, "-1e+16"),
    ];

    #[test]
    fn float_repr_table_from_python() {
        for (bits, want) in FLOAT_REPRS {
            let x = f64::from_bits(*bits);
            assert_eq!(float_repr(x), *want, "repr({x:e})");
        }
    }

    /// Runs python3 (when installed) over many random doubles and compares every repr.
    #[test]
    fn float_repr_matches_python_on_random_doubles() {
        use std::io::Write;
        use std::process::{Command, Stdio};
        let script = "import sys, struct\nfor line in sys.stdin:\n    \
                      print(repr(struct.unpack('<d', struct.pack('<Q', int(line, 16)))[0]))\n";
        let Ok(mut child) = Command::new("python3")
            .args(["-c", script])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
        else {
            return;
        };
        // xorshift64: random bit patterns cover every exponent; the second half are "round"
        // decimals (k / 10^n), where positional/scientific boundaries and short digits matter.
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut values: Vec<f64> = (0..20_000).map(|_| f64::from_bits(next())).collect();
        for _ in 0..20_000 {
            let k = (next() % 1_000_000) as f64;
            let scale = 10f64.powi((next() % 60) as i32 - 30);
            values.push(k * scale);
        }
        // Every power of two, where the round-trip interval is lopsided.
        values.extend((1..2047u64).map(|e| f64::from_bits(e << 52)));
        values.extend((0..52).map(|k| f64::from_bits(1 << k)));
        let input: String = values
            .iter()
            .map(|v| format!("{:x}\n", v.to_bits()))
            .collect();
        let mut stdin = child.stdin.take().expect("piped stdin");
        let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
        let output = child.wait_with_output().expect("python3 runs");
        writer
            .join()
            .expect("writer thread")
            .expect("python3 reads its input");
        assert!(output.status.success());
        let text = String::from_utf8(output.stdout).expect("python prints ASCII");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), values.len());
        for (x, want) in values.iter().zip(lines) {
            assert_eq!(float_repr(*x), want, "repr of bits {:#018x}", x.to_bits());
        }
    }

    #[test]
    fn int_accepts_what_python_int_accepts() {
        let cases: &[(&str, u32, Option<i128>)] = &[
            ("0", 10, Some(0)),
            (" 12 ", 10, Some(12)),
            ("\u{1c}12\u{a0}", 10, Some(12)),
            ("+7", 10, Some(7)),
            ("-1600", 10, Some(-1600)),
            ("1_000", 10, Some(1000)),
            ("007", 10, Some(7)),
            (
                "99999999999999999999999",
                10,
                Some(99_999_999_999_999_999_999_999),
            ),
            ("1__0", 10, None),
            ("_1", 10, None),
            ("1_", 10, None),
            ("0x10", 10, None),
            ("0o17", 10, None),
            ("", 10, None),
            ("-", 10, None),
            ("+-1", 10, None),
            ("1.5", 10, None),
            ("1 2", 10, None),
            ("022", 8, Some(0o22)),
            ("0o22", 8, Some(0o22)),
            ("0O_22", 8, Some(0o22)),
            ("-0o7", 8, Some(-7)),
            ("8", 8, None),
            ("0o", 8, None),
        ];
        for (text, radix, want) in cases {
            assert_eq!(int(text, *radix), *want, "int({text:?}, {radix})");
        }
        assert_eq!(int_bytes(b" 12\x0b\n"), Some(12));
        assert_eq!(int_bytes(b"\x1c12"), None);
        assert_eq!(int_bytes(b"1\xff"), None);
        assert_eq!(int_bytes(b"-0"), Some(0));
    }

    #[test]
    fn os_errors_like_python() {
        let e = std::io::Error::from_raw_os_error(libc::ECONNREFUSED);
        assert_eq!(os_error_text(&e), "[Errno 111] Connection refused");
        assert_eq!(os_error_class(e.raw_os_error()), "ConnectionRefusedError");
        let e = std::io::Error::from_raw_os_error(libc::ENOENT);
        assert_eq!(os_error_text(&e), "[Errno 2] No such file or directory");
    }

    #[test]
    fn dirname_like_os_path() {
        let cases = [
            ("/a/b", "/a"),
            ("/a", "/"),
            ("a", ""),
            ("a//b", "a"),
            ("//a", "//"),
            ("a/b/", "a/b"),
        ];
        for (path, want) in cases {
            assert_eq!(dirname(path), want, "{path}");
        }
    }

    #[test]
    fn list_repr_joins_reprs() {
        assert_eq!(list_repr(["'a'".to_string(), "1".to_string()]), "['a', 1]");
        assert_eq!(list_repr(Vec::new()), "[]");
    }
}

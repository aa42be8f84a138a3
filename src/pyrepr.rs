//! Python `repr()` of str and bytes: the reference builds many texts with `%r` or `repr()`
//! (config errors, supervisorctl messages, log lines like `'cat' stdout output:`).

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
}

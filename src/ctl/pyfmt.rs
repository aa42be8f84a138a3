//! Python-compatible renderings the reference's output leaks: `repr()` of strings and the
//! `error: <class ...>, <message>: file: ... line: N` line of an unexpected exception.

/// Python's `repr(str)`: single quotes unless the text has `'` but no `"`; backslash escapes.
pub fn py_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::new();
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// The Python exception class the reference would report for an OS error.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repr_like_python() {
        for (s, want) in [
            ("notaurl", "'notaurl'"),
            ("it's", "\"it's\""),
            ("a'b\"c", "'a\\'b\"c'"),
            ("tab\there\n", "'tab\\there\\n'"),
            ("\u{1}", "'\\x01'"),
        ] {
            assert_eq!(py_repr(s), want, "{s}");
        }
    }

    #[test]
    fn os_errors_like_python() {
        let e = std::io::Error::from_raw_os_error(libc::ECONNREFUSED);
        assert_eq!(os_error_text(&e), "[Errno 111] Connection refused");
        assert_eq!(os_error_class(e.raw_os_error()), "ConnectionRefusedError");
        let e = std::io::Error::from_raw_os_error(libc::ENOENT);
        assert_eq!(os_error_text(&e), "[Errno 2] No such file or directory");
    }
}

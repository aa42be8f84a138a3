//! Python-compatible renderings of OS errors the reference's output leaks: the exception class
//! and `str()` used in its `error: <class ...>, <message>: file: ... line: N` line.

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
    fn os_errors_like_python() {
        let e = std::io::Error::from_raw_os_error(libc::ECONNREFUSED);
        assert_eq!(os_error_text(&e), "[Errno 111] Connection refused");
        assert_eq!(os_error_class(e.raw_os_error()), "ConnectionRefusedError");
        let e = std::io::Error::from_raw_os_error(libc::ENOENT);
        assert_eq!(os_error_text(&e), "[Errno 2] No such file or directory");
    }
}

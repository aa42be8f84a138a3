//! Decoding a raw waitpid() status into the reference's (exit status, text) pair.

use crate::signals;

/// The reference's exitstatus alone: the exit code, or -1 when killed by a signal (no text, so
/// a metrics scrape of thousands of processes allocates nothing for it).
pub fn exit_status(status: i32) -> i32 {
    if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    }
}

/// `(exitstatus, message)`: exitstatus is the exit code, or -1 when killed by a signal.
pub fn decode(status: i32) -> (i32, String) {
    if libc::WIFEXITED(status) {
        let es = libc::WEXITSTATUS(status);
        (es, format!("exit status {es}"))
    } else if libc::WIFSIGNALED(status) {
        let sig = libc::WTERMSIG(status);
        let mut msg = format!("terminated by {}", signal_name(sig));
        if libc::WCOREDUMP(status) {
            msg.push_str(" (core dumped)");
        }
        (-1, msg)
    } else {
        (-1, format!("unknown termination cause 0x{status:04x}"))
    }
}

/// `SIGTERM`, or `signal N` for numbers without a name (the reference's `signame`).
pub fn signal_name(sig: i32) -> String {
    signals::name(sig).unwrap_or_else(|| format!("signal {sig}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_match_the_reference() {
        let cases: &[(i32, i32, &str)] = &[
            (0, 0, "exit status 0"),
            (3 << 8, 3, "exit status 3"),
            (255 << 8, 255, "exit status 255"),
            (15, -1, "terminated by SIGTERM"),
            (9, -1, "terminated by SIGKILL"),
            (11 | 0x80, -1, "terminated by SIGSEGV (core dumped)"),
            (40, -1, "terminated by signal 40"),
            (0x137f, -1, "unknown termination cause 0x137f"),
        ];
        for (status, es, msg) in cases {
            assert_eq!(
                decode(*status),
                (*es, msg.to_string()),
                "status {status:#x}"
            );
            assert_eq!(exit_status(*status), *es, "status {status:#x}");
        }
    }
}

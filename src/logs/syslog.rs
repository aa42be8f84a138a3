//! A minimal syslog client: one datagram per message to /dev/log, formatted like glibc's syslog(3)
//! with the facility and priority Python's `syslog.syslog(msg)` uses (LOG_USER | LOG_INFO).

use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::time::SystemTime;

use crate::sys::LocalTime;

/// LOG_USER (1 << 3) | LOG_INFO (6).
const USER_INFO: u32 = 14;

/// Sends messages to the local syslog daemon. Never blocks: the socket is non-blocking and a
/// message that cannot be sent (no daemon, queue full) is dropped, as glibc does without LOG_CONS.
#[derive(Debug)]
pub struct SyslogSender {
    socket_path: PathBuf,
    socket: Option<UnixDatagram>,
    ident: String,
}

/// The reference's ident is the basename of its argv[0], i.e. `supervisord` (verified); we use
/// that name however the multicall binary was invoked.
fn default_ident() -> String {
    "supervisord".to_string()
}

/// `<14>Nov  3 09:05:01 ident: message` (the RFC 3164 shape glibc sends to /dev/log).
pub fn format_datagram(ident: &str, time: &LocalTime, message: &str) -> String {
    let month = time.month_abbr();
    format!(
        "<{USER_INFO}>{month} {:>2} {:02}:{:02}:{:02} {ident}: {message}",
        time.day, time.hour, time.minute, time.second
    )
}

impl SyslogSender {
    pub fn new() -> SyslogSender {
        SyslogSender::with_socket(PathBuf::from("/dev/log"), default_ident())
    }

    pub fn with_socket(socket_path: PathBuf, ident: String) -> SyslogSender {
        SyslogSender {
            socket_path,
            socket: None,
            ident,
        }
    }

    fn connect(&mut self) -> Option<&UnixDatagram> {
        if self.socket.is_none() {
            let socket = UnixDatagram::unbound().ok()?;
            socket.set_nonblocking(true).ok()?;
            socket.connect(&self.socket_path).ok()?;
            self.socket = Some(socket);
        }
        self.socket.as_ref()
    }

    /// Sends one message; failures are silent (the syslog daemon may be absent or restarting).
    pub fn send(&mut self, message: &str) {
        let time = LocalTime::from_system(SystemTime::now());
        let datagram = format_datagram(&self.ident, &time, message);
        let sent = match self.connect() {
            Some(socket) => socket.send(datagram.as_bytes()).is_ok(),
            None => return,
        };
        if !sent {
            // The daemon may have restarted: reconnect on the next message.
            self.socket = None;
        }
    }
}

impl Default for SyslogSender {
    fn default() -> Self {
        SyslogSender::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::testutil::TempDir;

    #[test]
    fn datagram_format() {
        let time = LocalTime {
            year: 2026,
            month: 11,
            day: 3,
            hour: 9,
            minute: 5,
            second: 1,
            millis: 999,
            utc_offset: 0,
        };
        assert_eq!(
            format_datagram("supervisord", &time, "hello"),
            "<14>Nov  3 09:05:01 supervisord: hello"
        );
    }

    #[test]
    fn sends_to_socket_and_tolerates_absence() {
        let dir = TempDir::new("syslog");
        let path = dir.join("log.sock");
        let mut sender = SyslogSender::with_socket(path.clone(), "prog".into());
        sender.send("nobody listening"); // must not fail or block
        let server = UnixDatagram::bind(&path).unwrap();
        sender.send("cat line one");
        let mut buf = [0u8; 256];
        let n = server.recv(&mut buf).unwrap();
        let text = std::str::from_utf8(&buf[..n]).unwrap();
        assert!(text.starts_with("<14>"), "{text}");
        assert!(text.ends_with(" prog: cat line one"), "{text}");
    }
}

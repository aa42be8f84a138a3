//! systemd readiness (`Type=notify`) without libsystemd: one datagram per state change to the
//! unix socket named by `$NOTIFY_SOCKET` (a path, or an abstract name when it starts with `@`),
//! sent non-blocking so the loop never waits on systemd. The reference has no such support; the
//! messages are ours (see docs/extensions.md).

use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};

/// The environment variable systemd sets for `Type=notify` services.
pub const NOTIFY_SOCKET: &str = "NOTIFY_SOCKET";

/// Where readiness messages go; a no-op when supervisord was not started by systemd.
pub struct Notifier {
    target: Option<(UnixDatagram, SocketAddr)>,
}

impl Notifier {
    /// Reads `$NOTIFY_SOCKET` once (children never see it: see `plan::BaseEnvironment`).
    pub fn from_env() -> Notifier {
        let target = std::env::var_os(NOTIFY_SOCKET).and_then(|v| {
            let addr = parse_address(v.as_encoded_bytes())?;
            let sock = UnixDatagram::unbound().ok()?;
            // A full socket buffer (systemd busy) drops the message instead of stalling the loop.
            sock.set_nonblocking(true).ok()?;
            Some((sock, addr))
        });
        Notifier { target }
    }

    /// Sends one message (`READY=1`, ...); failures are logged at debug level and otherwise
    /// ignored, as sd_notify's callers do.
    pub fn send(&self, message: &str) {
        let Some((sock, addr)) = &self.target else {
            return;
        };
        if let Err(e) = sock.send_to_addr(message.as_bytes(), addr) {
            log::debug!("could not notify systemd ({message:?}): {e}");
        }
    }

    pub fn ready(&self) {
        self.send("READY=1");
    }

    /// Before a restart (SIGHUP or `supervisorctl reload`); `READY=1` follows once the new
    /// configuration is up. MONOTONIC_USEC lets `Type=notify-reload` units match the reload.
    pub fn reloading(&self) {
        self.send(&format!("RELOADING=1\nMONOTONIC_USEC={}", monotonic_usec()));
    }

    pub fn stopping(&self) {
        self.send("STOPPING=1");
    }
}

fn monotonic_usec() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own; CLOCK_MONOTONIC always exists.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    (ts.tv_sec as u64) * 1_000_000 + (ts.tv_nsec as u64) / 1_000
}

/// `$NOTIFY_SOCKET` as a socket address: `@name` is abstract, anything else a path; empty or
/// otherwise unusable values (e.g. `vsock:` addresses) mean no notification.
fn parse_address(value: &[u8]) -> Option<SocketAddr> {
    match value {
        [] => None,
        [b'@', name @ ..] => {
            use std::os::linux::net::SocketAddrExt;
            SocketAddr::from_abstract_name(name).ok()
        }
        [b'/', ..] => {
            let path = std::path::Path::new(std::ffi::OsStr::from_bytes(value));
            SocketAddr::from_pathname(path).ok()
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        assert!(parse_address(b"").is_none());
        assert!(parse_address(b"vsock:2:1234").is_none());
        let path = parse_address(b"/run/systemd/notify").expect("path");
        assert_eq!(
            path.as_pathname(),
            Some(std::path::Path::new("/run/systemd/notify"))
        );
        use std::os::linux::net::SocketAddrExt;
        let abs = parse_address(b"@sd-notify").expect("abstract");
        assert_eq!(abs.as_abstract_name(), Some(&b"sd-notify"[..]));
    }

    #[test]
    fn sends_one_datagram_per_message() {
        let dir = crate::testutil::TempDir::new("notify");
        let path = dir.path().join("notify.sock");
        let server = UnixDatagram::bind(&path).expect("bind");
        let addr = parse_address(path.as_os_str().as_encoded_bytes()).expect("addr");
        let n = Notifier {
            target: Some((UnixDatagram::unbound().expect("sock"), addr)),
        };
        n.ready();
        n.stopping();
        let mut buf = [0u8; 128];
        let len = server.recv(&mut buf).expect("recv");
        assert_eq!(&buf[..len], b"READY=1");
        let len = server.recv(&mut buf).expect("recv");
        assert_eq!(&buf[..len], b"STOPPING=1");
        // Without a target nothing happens.
        Notifier { target: None }.ready();
    }
}

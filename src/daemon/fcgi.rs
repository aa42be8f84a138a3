//! The listening socket of a `[fcgi-program:x]` group: created when the group is created (unix
//! path unlinked first, mode and owner applied), put on fd 0 of every process of the group.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::fs::PermissionsExt;

use crate::config::model::FcgiOptions;

pub struct FcgiSocket {
    fd: OwnedFd,
    /// `unix:///path` or `tcp://host:port`, as configured (used in log lines).
    pub description: String,
}

impl FcgiSocket {
    pub fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

fn relisten(fd: RawFd, backlog: Option<u32>) -> io::Result<()> {
    let backlog = backlog.map_or(libc::SOMAXCONN, |b| b.min(i32::MAX as u32) as i32);
    // SAFETY: listen(2) on a socket we own; calling it again only changes the backlog.
    if unsafe { libc::listen(fd, backlog) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Creates, binds and listens. The socket stays blocking (FastCGI servers accept on fd 0).
pub fn open(opts: &FcgiOptions) -> io::Result<FcgiSocket> {
    let description = opts.socket.clone();
    let fd: OwnedFd = if let Some(path) = opts.socket.strip_prefix("unix://") {
        match std::fs::remove_file(path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let listener = std::os::unix::net::UnixListener::bind(path)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(opts.socket_mode))?;
        if let Some((uid, gid)) = opts.socket_owner {
            std::os::unix::fs::chown(path, Some(uid), gid)?;
        }
        listener.into()
    } else if let Some(addr) = opts.socket.strip_prefix("tcp://") {
        std::net::TcpListener::bind(addr)?.into()
    } else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("bad socket {description}"),
        ));
    };
    relisten(fd.as_raw_fd(), opts.socket_backlog)?;
    Ok(FcgiSocket { fd, description })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_socket_replaces_a_stale_file_and_gets_its_mode() {
        let dir = crate::testutil::TempDir::new("fcgi");
        let path = dir.join("f.sock");
        std::fs::write(&path, "stale").unwrap();
        let opts = FcgiOptions {
            socket: format!("unix://{}", path.display()),
            socket_backlog: Some(5),
            socket_owner: None,
            socket_mode: 0o640,
        };
        let sock = open(&opts).unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o640);
        assert!(std::os::unix::net::UnixStream::connect(&path).is_ok());
        assert!(sock.fd() > 2);
    }

    #[test]
    fn tcp_socket_listens() {
        let opts = FcgiOptions {
            socket: "tcp://127.0.0.1:0".into(),
            socket_backlog: None,
            socket_owner: None,
            socket_mode: 0o700,
        };
        let sock = open(&opts).unwrap();
        assert_eq!(sock.description, "tcp://127.0.0.1:0");
    }
}

//! Opening the configured listening sockets: inet (host:port) and unix (file, chmod, chown),
//! with the reference's stale-socket and address-in-use handling.

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::errno::Errno;

use crate::config::model::{InetHttpServerConfig, UnixHttpServerConfig};

const BACKLOG: libc::c_int = 1024;

/// Why the HTTP servers could not be opened. `Display` is the text after the daemon's `Error: `.
#[derive(Debug)]
pub enum BindError {
    /// Another program (possibly another supervisord) already serves the address.
    AddrInUse,
    /// chown of the unix socket was refused.
    Chown {
        path: PathBuf,
        uid: u32,
        gid: Option<u32>,
        user: String,
    },
    /// Any other socket error.
    Socket { errno: i32 },
    /// The inet host name did not resolve.
    Resolve { host: String, message: String },
}

impl std::fmt::Display for BindError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BindError::AddrInUse => write!(
                f,
                "Another program is already listening on a port that one of our HTTP servers is \
                 configured to use.  Shut this program down first before starting supervisord."
            ),
            BindError::Chown {
                path,
                uid,
                gid,
                user,
            } => {
                let gid = gid.map_or("-1".to_string(), |g| g.to_string());
                write!(
                    f,
                    "Not permitted to chown {} to uid/gid ({uid}, {gid}); adjust \"sockchown\" value in \
                     config file or on command line to values that the current user ({user}) can \
                     successfully chown",
                    path.display()
                )
            }
            BindError::Socket { errno } => {
                let name = format!("{:?}", Errno::from_raw(*errno));
                if name.starts_with('E') {
                    write!(
                        f,
                        "Cannot open an HTTP server: socket.error reported errno.{name} ({errno})"
                    )
                } else {
                    write!(
                        f,
                        "Cannot open an HTTP server: socket.error reported {errno}"
                    )
                }
            }
            BindError::Resolve { host, message } => {
                write!(
                    f,
                    "Cannot open an HTTP server: cannot resolve {host:?}: {message}"
                )
            }
        }
    }
}

impl BindError {
    fn from_io(err: &std::io::Error) -> BindError {
        match err.raw_os_error() {
            Some(libc::EADDRINUSE) => BindError::AddrInUse,
            Some(errno) => BindError::Socket { errno },
            None => BindError::Socket {
                errno: libc::EINVAL,
            },
        }
    }
}

/// Opens `[inet_http_server]`: IPv4 like the reference; empty host or `*` means all interfaces.
pub fn bind_inet(config: &InetHttpServerConfig) -> Result<mio::net::TcpListener, BindError> {
    let host = if config.host.is_empty() || config.host == "*" {
        "0.0.0.0"
    } else {
        config.host.as_str()
    };
    let addrs: Vec<std::net::SocketAddr> =
        std::net::ToSocketAddrs::to_socket_addrs(&(host, config.port))
            .map_err(|e| BindError::Resolve {
                host: host.to_string(),
                message: e.to_string(),
            })?
            .collect();
    let addr = addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or_else(|| addrs.first())
        .copied()
        .ok_or_else(|| BindError::Resolve {
            host: host.to_string(),
            message: "no address".into(),
        })?;
    // mio sets SO_REUSEADDR, CLOEXEC, O_NONBLOCK and a 1024 backlog.
    mio::net::TcpListener::bind(addr).map_err(|e| BindError::from_io(&e))
}

/// An open unix listener and the identity of the file it created (so shutdown removes only
/// our own socket, not one a successor put there).
pub struct UnixSocket {
    pub listener: mio::net::UnixListener,
    pub path: PathBuf,
    pub dev: u64,
    pub ino: u64,
}

/// Opens `[unix_http_server]`. The socket's mode is set on the descriptor before bind (Linux
/// applies it to the new file), so the path never exists with more permissions than `chmod`;
/// the exact mode and owner are then applied by path.
pub fn bind_unix(config: &UnixHttpServerConfig) -> Result<UnixSocket, BindError> {
    let path = &config.file;
    let mut attempts = 0;
    let fd = loop {
        attempts += 1;
        match try_bind_unix(path, config.chmod) {
            Ok(fd) => break fd,
            Err(errno) if errno == libc::EADDRINUSE && attempts <= 3 => {
                if socket_is_live(path) {
                    return Err(BindError::AddrInUse);
                }
                // Same wording and stream as the reference; never waits for a stderr reader
                // (this also runs in the loop, on a reload).
                crate::logs::stdout_copy::write_stderr(&format!(
                    "Unlinking stale socket {}\n",
                    path.display()
                ));
                if let Err(e) = std::fs::remove_file(path)
                    && e.kind() != std::io::ErrorKind::NotFound
                {
                    return Err(BindError::from_io(&e));
                }
            }
            Err(errno) if errno == libc::EADDRINUSE => return Err(BindError::AddrInUse),
            Err(errno) => return Err(BindError::Socket { errno }),
        }
    };
    let cleanup = |error: BindError| {
        let _ = std::fs::remove_file(path);
        error
    };
    // The descriptor mode was masked by the umask; widen it to exactly what was configured.
    if let Err(e) = std::fs::set_permissions(
        path,
        std::os::unix::fs::PermissionsExt::from_mode(config.chmod),
    ) {
        return Err(cleanup(BindError::from_io(&e)));
    }
    if let Some((uid, gid)) = config.chown {
        let result = nix::unistd::chown(
            path.as_path(),
            Some(nix::unistd::Uid::from_raw(uid)),
            gid.map(nix::unistd::Gid::from_raw),
        );
        match result {
            Ok(()) => {}
            Err(Errno::EPERM) => {
                // Named from /etc/passwd like every other user (config::users): no NSS, which
                // keeps getpwuid_r and its lookup machinery out of the static binary.
                let me = nix::unistd::getuid().as_raw().to_string();
                let user = crate::config::users::lookup_user(&me)
                    .ok()
                    .and_then(|u| u.user.name)
                    .unwrap_or(me);
                return Err(cleanup(BindError::Chown {
                    path: path.clone(),
                    uid,
                    gid,
                    user,
                }));
            }
            Err(errno) => {
                return Err(cleanup(BindError::Socket {
                    errno: errno as i32,
                }));
            }
        }
    }
    let meta = std::fs::symlink_metadata(path).map_err(|e| cleanup(BindError::from_io(&e)))?;
    let std_listener = std::os::unix::net::UnixListener::from(fd);
    Ok(UnixSocket {
        listener: mio::net::UnixListener::from_std(std_listener),
        path: path.clone(),
        dev: meta.dev(),
        ino: meta.ino(),
    })
}

/// socket + fchmod + bind + listen; returns the errno of the step that failed.
fn try_bind_unix(path: &Path, mode: u32) -> Result<OwnedFd, i32> {
    let bytes = path.as_os_str().as_bytes();
    // SAFETY: sockaddr_un is plain data; zeroed is a valid empty address.
    let mut addr: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    if bytes.len() >= addr.sun_path.len() || bytes.contains(&0) {
        return Err(libc::ENAMETOOLONG);
    }
    addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
    for (dst, src) in addr.sun_path.iter_mut().zip(bytes) {
        *dst = *src as libc::c_char;
    }
    // SAFETY: plain syscalls on a descriptor we own; errors are checked.
    unsafe {
        let raw = libc::socket(
            libc::AF_UNIX,
            libc::SOCK_STREAM | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
            0,
        );
        if raw < 0 {
            return Err(Errno::last_raw());
        }
        let fd = OwnedFd::from_raw_fd(raw);
        if libc::fchmod(fd.as_raw_fd(), mode & 0o777) < 0 {
            return Err(Errno::last_raw());
        }
        let len = std::mem::size_of::<libc::sa_family_t>() + bytes.len() + 1;
        if libc::bind(
            fd.as_raw_fd(),
            (&addr as *const libc::sockaddr_un).cast(),
            len as libc::socklen_t,
        ) < 0
        {
            return Err(Errno::last_raw());
        }
        if libc::listen(fd.as_raw_fd(), BACKLOG) < 0 {
            let errno = Errno::last_raw();
            let _ = std::fs::remove_file(path);
            return Err(errno);
        }
        Ok(fd)
    }
}

/// The reference's liveness probe: connect, send a tiny request, read one byte. Any failure
/// means nobody is serving there.
fn socket_is_live(path: &Path) -> bool {
    let Ok(mut stream) = std::os::unix::net::UnixStream::connect(path) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(2)));
    if stream.write_all(b"GET / HTTP/1.0\r\n\r\n").is_err() {
        return false;
    }
    let mut byte = [0u8; 1];
    match stream.read(&mut byte) {
        Ok(n) => n <= 1,
        // Something accepted the connection but is slow: assume it is alive rather than
        // deleting a working daemon's socket.
        Err(e) => matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
    }
}

/// Removes a unix socket file at shutdown if it is still the one we created.
pub fn remove_unix_socket(path: &Path, dev: u64, ino: u64) {
    if let Ok(meta) = std::fs::symlink_metadata(path)
        && meta.dev() == dev
        && meta.ino() == ino
    {
        let _ = std::fs::remove_file(path);
    }
}

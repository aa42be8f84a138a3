//! The foreground copy of the main log on stdout (`supervisord -n`), written without ever
//! blocking the daemon: a reader that stalls (stuck log driver, full pipe, tty in scroll-lock)
//! gets up to `QUEUE_LIMIT` bytes queued; records beyond that are dropped whole and counted.
//!
//! fd 1 itself is never switched to O_NONBLOCK: that flag lives on the open file description the
//! parent shell or terminal shares, and would break it after we exit. A pipe, FIFO or tty is
//! reopened through /proc/self/fd/1, which gives a private description to make non-blocking; a
//! socket (systemd's journal stream) takes `send(MSG_DONTWAIT)`; a regular file never waits on a
//! reader and is written as it is.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::fs::OpenOptionsExt;

/// Bytes kept for a stdout that is not being read; beyond this records are dropped.
pub const QUEUE_LIMIT: usize = 1 << 20;

/// A change worth one main-log record; the daemon takes it with `take_report` and logs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StdoutReport {
    /// The queue is full: records for stdout are being dropped.
    Dropping,
    /// The queue drained; `dropped_bytes` never reached stdout meanwhile.
    Recovered { dropped_bytes: u64 },
}

/// What a write to the target did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Drained {
    /// Everything asked for was written.
    All,
    /// The target is full; the rest waits.
    Blocked,
    /// The target is gone or broken (EPIPE, EBADF, EIO): output is discarded silently, as the
    /// reference ignores a closed stdout.
    Broken,
}

/// Writes `data` through `write` until it is done, full or broken; returns bytes written and how
/// it ended.
fn write_all_nonblocking(
    data: &[u8],
    write: &mut dyn FnMut(&[u8]) -> io::Result<usize>,
) -> (usize, Drained) {
    let mut written = 0;
    while written < data.len() {
        match write(&data[written..]) {
            Ok(0) => return (written, Drained::Broken),
            Ok(n) => written += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return (written, Drained::Blocked),
            Err(_) => return (written, Drained::Broken),
        }
    }
    (written, Drained::All)
}

/// The queue and drop accounting, independent of the target (pure; tested with fake writers).
#[derive(Debug, Default)]
pub struct StdoutQueue {
    pending: Vec<u8>,
    limit: usize,
    /// Dropping since the queue last filled up; cleared (with a report) when it drains.
    dropping: bool,
    dropped_bytes: u64,
    report: Option<StdoutReport>,
}

impl StdoutQueue {
    pub fn new(limit: usize) -> StdoutQueue {
        StdoutQueue {
            limit,
            ..StdoutQueue::default()
        }
    }

    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    #[cfg(test)]
    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }

    pub fn take_report(&mut self) -> Option<StdoutReport> {
        self.report.take()
    }

    /// Sends one record: queued bytes first, so the order is kept, then the record itself. A
    /// record that does not fit the queue is dropped whole (stdout never shows a torn line);
    /// the rest of a record the target took in part always waits.
    pub fn push(&mut self, record: &[u8], write: &mut dyn FnMut(&[u8]) -> io::Result<usize>) {
        if self.drain(write) == Drained::Broken {
            return;
        }
        if self.pending.is_empty() {
            let (written, drained) = write_all_nonblocking(record, write);
            if drained == Drained::Blocked {
                self.pending.extend_from_slice(&record[written..]);
            }
        } else if self.pending.len() + record.len() <= self.limit {
            self.pending.extend_from_slice(record);
        } else {
            self.dropped_bytes += record.len() as u64;
            if !self.dropping {
                self.dropping = true;
                self.report = Some(StdoutReport::Dropping);
            }
        }
        self.note_recovery();
    }

    /// Sends queued bytes if the target takes them now.
    pub fn flush(&mut self, write: &mut dyn FnMut(&[u8]) -> io::Result<usize>) {
        if self.drain(write) != Drained::Broken {
            self.note_recovery();
        }
    }

    fn drain(&mut self, write: &mut dyn FnMut(&[u8]) -> io::Result<usize>) -> Drained {
        if self.pending.is_empty() {
            return Drained::All;
        }
        let (written, drained) = write_all_nonblocking(&self.pending, write);
        if drained == Drained::Broken {
            // Nobody will read these; a later reader (never for a pipe) starts afresh.
            self.pending.clear();
            self.dropping = false;
            self.dropped_bytes = 0;
        } else {
            self.pending.drain(..written);
        }
        drained
    }

    fn note_recovery(&mut self) {
        if self.dropping && self.pending.is_empty() {
            self.dropping = false;
            self.report = Some(StdoutReport::Recovered {
                dropped_bytes: std::mem::take(&mut self.dropped_bytes),
            });
        }
    }
}

/// How fd 1 (or 2) is written.
#[derive(Debug)]
enum Target {
    /// A regular file (or block device): writes never wait for a reader.
    Direct(RawFd),
    /// Our own non-blocking open file description of the pipe/FIFO/tty behind the fd.
    Private(File),
    /// A socket: `send` with MSG_DONTWAIT (and MSG_NOSIGNAL).
    Socket(RawFd),
    /// A pipe or tty that could not be reopened (no /proc, or no permission): write only when
    /// poll says there is room, at most `chunk` bytes at a time (what one free slot takes).
    Guarded { fd: RawFd, chunk: usize },
    /// The fd is closed, or a pipe whose reader is gone.
    Closed,
}

const STDOUT: RawFd = 1;
const STDERR: RawFd = 2;

fn io_result(n: isize) -> io::Result<usize> {
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

fn write_fd(fd: RawFd, data: &[u8]) -> io::Result<usize> {
    // SAFETY: writes from a valid buffer of the given length.
    io_result(unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) })
}

/// Whether a write to `fd` would not wait now: there is room, or the reader is gone (POLLERR:
/// the write fails at once).
fn poll_writable(fd: RawFd) -> bool {
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLOUT,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    let n = unsafe { libc::poll(&mut pfd, 1, 0) };
    n > 0 && pfd.revents != 0
}

impl Target {
    /// Looks at what `fd` (1 or 2) is and picks how to write it without blocking.
    fn of_fd(fd: RawFd) -> Target {
        // SAFETY: fstat into a zeroed stat buffer.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        if unsafe { libc::fstat(fd, &mut st) } != 0 {
            return Target::Closed;
        }
        let kind = st.st_mode & libc::S_IFMT;
        match kind {
            libc::S_IFSOCK => Target::Socket(fd),
            libc::S_IFIFO | libc::S_IFCHR => {
                let reopened = OpenOptions::new()
                    .write(true)
                    .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC | libc::O_NOCTTY)
                    .open(format!("/proc/self/fd/{fd}"));
                match reopened {
                    Ok(file) => Target::Private(file),
                    // A FIFO opened non-blocking without a reader: writes would only EPIPE.
                    Err(e) if e.raw_os_error() == Some(libc::ENXIO) => Target::Closed,
                    Err(_) if kind == libc::S_IFIFO => Target::Guarded {
                        fd,
                        chunk: libc::PIPE_BUF,
                    },
                    // A tty reports room once its output buffer is nearly empty.
                    Err(_) => Target::Guarded { fd, chunk: 256 },
                }
            }
            _ => Target::Direct(fd),
        }
    }

    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        match self {
            Target::Direct(fd) => write_fd(*fd, data),
            Target::Private(file) => write_fd(file.as_raw_fd(), data),
            Target::Socket(fd) => {
                let flags = libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL;
                // SAFETY: sends from a valid buffer of the given length.
                io_result(unsafe { libc::send(*fd, data.as_ptr().cast(), data.len(), flags) })
            }
            Target::Guarded { fd, chunk } => {
                if !poll_writable(*fd) {
                    return Err(io::Error::from(io::ErrorKind::WouldBlock));
                }
                write_fd(*fd, &data[..data.len().min(*chunk)])
            }
            Target::Closed => Err(io::Error::from_raw_os_error(libc::EBADF)),
        }
    }
}

/// One message on stderr (e.g. `supervisord: could not write to log file ...`) without waiting
/// for a reader: a stderr nobody reads (often the same stuck pipe as stdout) loses what does not
/// fit at once instead of freezing the daemon.
pub fn write_stderr(message: &str) {
    let mut target = Target::of_fd(STDERR);
    let _ = write_all_nonblocking(message.as_bytes(), &mut |data| target.write(data));
}

/// The main log's stdout copy: a target chosen once from what fd 1 is, and the queue.
#[derive(Debug)]
pub struct StdoutCopy {
    target: Target,
    queue: StdoutQueue,
}

impl StdoutCopy {
    /// Looks at fd 1 (call before dropping privileges: reopening a pipe or tty through /proc
    /// needs permission on it).
    pub fn open() -> StdoutCopy {
        StdoutCopy::with_target(Target::of_fd(STDOUT))
    }

    /// A copy into `file` (a non-blocking pipe or tty), for tests.
    #[cfg(test)]
    pub fn to_file(file: File, limit: usize) -> StdoutCopy {
        StdoutCopy {
            target: Target::Private(file),
            queue: StdoutQueue::new(limit),
        }
    }

    fn with_target(target: Target) -> StdoutCopy {
        StdoutCopy {
            target,
            queue: StdoutQueue::new(QUEUE_LIMIT),
        }
    }

    pub fn write(&mut self, record: &[u8]) {
        let target = &mut self.target;
        self.queue.push(record, &mut |data| target.write(data));
    }

    /// Whether bytes wait for the reader: call `flush` again once `pending_fd` is writable.
    pub fn has_pending(&self) -> bool {
        self.queue.has_pending()
    }

    /// The descriptor to wait on for writability while bytes are queued.
    pub fn pending_fd(&self) -> Option<RawFd> {
        if !self.queue.has_pending() {
            return None;
        }
        match &self.target {
            Target::Direct(fd) | Target::Socket(fd) | Target::Guarded { fd, .. } => Some(*fd),
            Target::Private(file) => Some(file.as_raw_fd()),
            Target::Closed => None,
        }
    }

    pub fn flush(&mut self) {
        let target = &mut self.target;
        self.queue.flush(&mut |data| target.write(data));
    }

    pub fn take_report(&mut self) -> Option<StdoutReport> {
        self.queue.take_report()
    }
}

#[cfg(test)]
#[path = "stdout_copy_tests.rs"]
mod tests;

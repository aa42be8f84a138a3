//! The self-pipe: signal handlers write the signal number as one byte; the loop drains the pipe.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicI32, Ordering};

/// Signals the daemon handles through the pipe.
pub const HANDLED: [i32; 6] = [
    libc::SIGCHLD,
    libc::SIGTERM,
    libc::SIGINT,
    libc::SIGQUIT,
    libc::SIGHUP,
    libc::SIGUSR2,
];

/// Write end for the handler; -1 until installed. The only global besides the logger.
static WRITE_FD: AtomicI32 = AtomicI32::new(-1);

extern "C" fn on_signal(sig: libc::c_int) {
    let fd = WRITE_FD.load(Ordering::Relaxed);
    if fd >= 0 {
        let saved = io::Error::last_os_error().raw_os_error().unwrap_or(0);
        let byte = sig as u8;
        // SAFETY: write(2) is async-signal-safe; a full pipe just drops the byte, which is fine
        // because the loop drains all pending signals at once (and reaps in a loop).
        unsafe {
            libc::write(fd, (&byte as *const u8).cast(), 1);
            *libc::__errno_location() = saved;
        }
    }
}

/// The read end of the pipe, registered with the poller.
pub struct SignalPipe {
    read: OwnedFd,
    _write: OwnedFd,
}

impl SignalPipe {
    /// Creates the pipe and installs handlers for `HANDLED`; SIGPIPE is ignored.
    pub fn install() -> io::Result<SignalPipe> {
        let (read, write) = crate::sys::pipe_nonblocking()?;
        WRITE_FD.store(write.as_raw_fd(), Ordering::Relaxed);
        for sig in HANDLED {
            set_handler(
                sig,
                on_signal as extern "C" fn(libc::c_int) as *const () as usize,
            )?;
        }
        set_handler(libc::SIGPIPE, libc::SIG_IGN)?;
        Ok(SignalPipe {
            read,
            _write: write,
        })
    }

    pub fn fd(&self) -> RawFd {
        self.read.as_raw_fd()
    }

    /// Reads every pending byte; returns the distinct signals in arrival order.
    pub fn drain(&self) -> Vec<i32> {
        let mut seen = Vec::new();
        let mut buf = [0u8; 64];
        // Until empty (WouldBlock) or closed.
        while let Ok(n @ 1..) = crate::sys::read(self.read.as_raw_fd(), &mut buf) {
            for &b in buf.get(..n).unwrap_or_default() {
                let sig = i32::from(b);
                if !seen.contains(&sig) {
                    seen.push(sig);
                }
            }
        }
        seen
    }
}

impl Drop for SignalPipe {
    fn drop(&mut self) {
        WRITE_FD.store(-1, Ordering::Relaxed);
    }
}

fn set_handler(sig: i32, handler: usize) -> io::Result<()> {
    // SAFETY: a zeroed sigaction with an empty mask and a handler that only calls write(2).
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = handler;
        action.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut action.sa_mask);
        if libc::sigaction(sig, &action, std::ptr::null_mut()) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

//! Wake-ups for log targets that are full: a pipe, tty or socket nobody reads (the foreground
//! stdout copy, `logfile=/dev/stdout`, `stdout_logfile=/dev/stdout`). While bytes wait for such a
//! target, a duplicate of its descriptor is registered with the poller for writability, so the
//! loop retries the moment the reader makes room instead of polling on a timer.
//!
//! A duplicate, because the owner may close the target (or its number may be reused by a child
//! pipe) while we wait; the duplicate keeps the registration and its descriptor number ours.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use mio::unix::SourceFd;
use mio::{Interest, Registry};

/// The token of every registration here (see tokens.rs).
use super::tokens::LOG_WRITABLE as LOG_WRITABLE_TOKEN;

struct Wait {
    /// The owner's descriptor and what it was (device, inode) when we started waiting on it.
    target: (RawFd, (u64, u64)),
    watched: OwnedFd,
}

#[derive(Default)]
pub struct WriteWaits {
    waits: Vec<Wait>,
}

/// (device, inode) of what `fd` refers to now.
fn identity(fd: RawFd) -> Option<(u64, u64)> {
    // SAFETY: fstat into a zeroed stat buffer.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstat(fd, &mut st) } != 0 {
        return None;
    }
    Some((st.st_dev, st.st_ino))
}

fn watch(registry: &Registry, fd: RawFd) -> io::Result<OwnedFd> {
    // SAFETY: F_DUPFD_CLOEXEC returns a new descriptor we own, or -1.
    let dup = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) };
    if dup < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `dup` is a fresh descriptor nobody else owns.
    let watched = unsafe { OwnedFd::from_raw_fd(dup) };
    registry.register(
        &mut SourceFd(&watched.as_raw_fd()),
        LOG_WRITABLE_TOKEN,
        Interest::WRITABLE,
    )?;
    Ok(watched)
}

impl WriteWaits {
    /// Makes the registrations match `pending`, the descriptors of the targets that hold queued
    /// bytes right now. Returns false when some target cannot be waited on (the caller then
    /// retries on a timer).
    pub fn update(&mut self, registry: &Registry, pending: &[RawFd]) -> bool {
        let mut all_watched = true;
        let mut keep = vec![false; self.waits.len()];
        for &fd in pending {
            let Some(id) = identity(fd) else {
                all_watched = false;
                continue;
            };
            if let Some(i) = self.waits.iter().position(|w| w.target == (fd, id)) {
                keep[i] = true;
                continue;
            }
            match watch(registry, fd) {
                Ok(watched) => {
                    self.waits.push(Wait {
                        target: (fd, id),
                        watched,
                    });
                    keep.push(true);
                }
                Err(_) => all_watched = false,
            }
        }
        let mut kept = keep.into_iter();
        self.waits.retain(|w| {
            let keep = kept.next().unwrap_or(false);
            if !keep {
                // Closing the duplicate ends the registration too; deregistering first keeps
                // the poller's bookkeeping exact.
                let _ = registry.deregister(&mut SourceFd(&w.watched.as_raw_fd()));
            }
            keep
        });
        all_watched
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.waits.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mio::{Events, Poll};
    use std::time::Duration;

    fn nonblocking_pipe() -> (OwnedFd, OwnedFd) {
        crate::sys::pipe_nonblocking().expect("pipe")
    }

    /// Fills the pipe until a write would block.
    fn fill(fd: RawFd) {
        let chunk = [b'x'; 4096];
        // SAFETY: writes from a valid buffer.
        while unsafe { libc::write(fd, chunk.as_ptr().cast(), chunk.len()) } > 0 {}
    }

    fn drain(fd: RawFd) {
        let mut buf = [0u8; 65536];
        // SAFETY: reads into a valid buffer.
        while unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) } > 0 {}
    }

    fn wakes(poll: &mut Poll, timeout: Duration) -> bool {
        let mut events = Events::with_capacity(8);
        poll.poll(&mut events, Some(timeout)).unwrap();
        events.iter().any(|e| e.token() == LOG_WRITABLE_TOKEN)
    }

    #[test]
    fn a_full_pipe_wakes_the_poller_when_its_reader_makes_room() {
        let mut poll = Poll::new().unwrap();
        let (r, w) = nonblocking_pipe();
        fill(w.as_raw_fd());
        let mut waits = WriteWaits::default();
        assert!(waits.update(poll.registry(), &[w.as_raw_fd()]));
        assert!(
            !wakes(&mut poll, Duration::from_millis(50)),
            "full: no wake-up"
        );
        drain(r.as_raw_fd());
        assert!(wakes(&mut poll, Duration::from_secs(5)), "room: wake-up");
        // Still waiting (the queue was not empty yet) and full again: the next room wakes again.
        fill(w.as_raw_fd());
        assert!(waits.update(poll.registry(), &[w.as_raw_fd()]));
        assert_eq!(waits.len(), 1);
        while wakes(&mut poll, Duration::from_millis(20)) {}
        drain(r.as_raw_fd());
        assert!(wakes(&mut poll, Duration::from_secs(5)));
        // Nothing pending any more: the registration goes away.
        assert!(waits.update(poll.registry(), &[]));
        assert_eq!(waits.len(), 0);
    }

    #[test]
    fn a_reused_descriptor_number_gets_a_fresh_registration() {
        let poll = Poll::new().unwrap();
        let (_r1, w1) = nonblocking_pipe();
        let mut waits = WriteWaits::default();
        let number = w1.as_raw_fd();
        assert!(waits.update(poll.registry(), &[number]));
        let old = waits.waits[0].target;
        // The owner closes its target and another pipe takes the same number.
        let (_r2, w2) = nonblocking_pipe();
        // SAFETY: dup2 onto the number `w1` owns; `w1` is forgotten so it is not closed twice.
        assert_eq!(unsafe { libc::dup2(w2.as_raw_fd(), number) }, number);
        std::mem::forget(w1);
        // SAFETY: `number` now refers to the second pipe and is owned here.
        let reused = unsafe { OwnedFd::from_raw_fd(number) };
        assert!(waits.update(poll.registry(), &[reused.as_raw_fd()]));
        assert_eq!(waits.len(), 1);
        assert_eq!(waits.waits[0].target.0, number);
        assert_ne!(
            waits.waits[0].target, old,
            "a new target, so a new registration"
        );
    }

    #[test]
    fn a_closed_descriptor_cannot_be_watched() {
        let poll = Poll::new().unwrap();
        let mut waits = WriteWaits::default();
        assert!(!waits.update(poll.registry(), &[987_654]));
        assert_eq!(waits.len(), 0);
    }
}

//! `LogWatch`: inotify watches on the files that `/logtail` streams follow (and their
//! directories), so a stream wakes the daemon when its file changes instead of polling it.

use std::collections::BTreeSet;
use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Growth, truncation, rename (rotation) and removal of a followed file.
const FILE_EVENTS: u32 =
    libc::IN_MODIFY | libc::IN_ATTRIB | libc::IN_MOVE_SELF | libc::IN_DELETE_SELF;
/// A new file under any name in the directory (rotation creates the file again).
const DIR_EVENTS: u32 = libc::IN_CREATE | libc::IN_MOVED_TO;

/// What a batch of events was about, least to most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Changes {
    None,
    /// Only growth or truncation of watched files.
    Contents,
    /// A watched file was renamed, removed or had its links changed, or a file appeared in a
    /// watched directory: the paths may name other files now (rotation) and need watching again.
    Files,
}

/// The strongest change among the `struct inotify_event`s in `events`.
fn classify(events: &[u8]) -> Changes {
    let header = std::mem::size_of::<libc::inotify_event>();
    let field = |at: usize| {
        events
            .get(at..at + 4)
            .and_then(|b| b.try_into().ok())
            .map_or(0, u32::from_ne_bytes)
    };
    let mut changes = Changes::None;
    let mut at = 0;
    while at + header <= events.len() {
        let mask = field(at + 4);
        let name_len = field(at + 12) as usize;
        changes = changes.max(if mask & !libc::IN_MODIFY == 0 {
            Changes::Contents
        } else {
            Changes::Files
        });
        at += header + name_len;
    }
    changes
}

pub struct LogWatch {
    fd: OwnedFd,
    /// Watch descriptors added since the last `clear` (one per inode, however often added).
    watches: BTreeSet<i32>,
}

impl LogWatch {
    pub fn new() -> io::Result<LogWatch> {
        // SAFETY: inotify_init1 returns a new descriptor or -1.
        let fd = unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(LogWatch {
            // SAFETY: fd was just created and is owned by nobody else.
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
            watches: BTreeSet::new(),
        })
    }

    pub fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Watches `path` (the inode it names now) and its directory. Adding a file again after it
    /// was rotated watches the new file.
    pub fn add(&mut self, path: &Path) -> io::Result<()> {
        self.add_one(path, FILE_EVENTS)?;
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        self.add_one(dir, DIR_EVENTS)
    }

    fn add_one(&mut self, path: &Path, mask: u32) -> io::Result<()> {
        let name = CString::new(path.as_os_str().as_bytes())
            .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        // SAFETY: name is a valid C string; the fd is ours.
        let wd = unsafe { libc::inotify_add_watch(self.fd(), name.as_ptr(), mask) };
        if wd < 0 {
            return Err(io::Error::last_os_error());
        }
        self.watches.insert(wd);
        Ok(())
    }

    /// Reads every queued event and says what they were about (which file does not matter: the
    /// caller looks at all its streams).
    pub fn drain(&mut self) -> Changes {
        let mut changes = Changes::None;
        let mut buf = [0u8; 4096];
        // Until empty (WouldBlock).
        while let Ok(n @ 1..) = crate::sys::read(self.fd(), &mut buf) {
            changes = changes.max(classify(buf.get(..n).unwrap_or_default()));
        }
        changes
    }

    /// Drops every watch (no stream follows a file any more).
    pub fn clear(&mut self) {
        for wd in std::mem::take(&mut self.watches) {
            // SAFETY: removing a watch of our own descriptor; a stale wd only fails.
            unsafe { libc::inotify_rm_watch(self.fd(), wd) };
        }
        let _ = self.drain();
    }

    pub fn watch_count(&self) -> usize {
        self.watches.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::testutil::{TempDir, append};

    #[test]
    fn growth_rotation_and_recreation_are_reported() {
        let dir = TempDir::new("watch");
        let path = dir.join("a.log");
        append(&path, b"first\n");
        let mut watch = LogWatch::new().unwrap();
        watch.add(&path).unwrap();
        assert_eq!(watch.drain(), Changes::None, "nothing happened yet");
        append(&path, b"more\n");
        assert_eq!(watch.drain(), Changes::Contents, "growth");
        assert_eq!(watch.drain(), Changes::None, "drained");
        std::fs::rename(&path, dir.join("a.log.1")).unwrap();
        assert_eq!(watch.drain(), Changes::Files, "rename");
        append(&path, b"new file\n");
        assert_eq!(watch.drain(), Changes::Files, "a new file in the directory");
        // Adding the path again watches the new inode.
        watch.add(&path).unwrap();
        append(&path, b"grows\n");
        assert_eq!(watch.drain(), Changes::Contents, "growth of the new file");
        // Another file in another directory is not watched.
        let other = TempDir::new("watch-other");
        append(&other.join("b.log"), b"x\n");
        assert_eq!(watch.drain(), Changes::None);
    }

    #[test]
    fn clear_drops_every_watch() {
        let dir = TempDir::new("watch-clear");
        let path = dir.join("a.log");
        append(&path, b"x\n");
        let mut watch = LogWatch::new().unwrap();
        watch.add(&path).unwrap();
        watch.add(&path).unwrap();
        assert_eq!(watch.watch_count(), 2, "file and directory, each once");
        watch.clear();
        assert_eq!(watch.watch_count(), 0);
        append(&path, b"y\n");
        assert_eq!(watch.drain(), Changes::None);
        assert!(watch.add(&dir.join("missing.log")).is_err());
    }
}

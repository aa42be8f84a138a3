//! `FileFollower`: the data of a `/logtail` or `/mainlogtail` stream — the last 1024 bytes, then
//! growth, a notice on truncation, and the new file after rotation. Driven by the daemon's clock.

use std::fs::File;
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// How much of the existing file the stream starts with.
pub const FOLLOW_HEAD_BYTES: u64 = 1024;
/// How often the reference looks at the file (ours only when the file cannot be watched).
pub const FOLLOW_INTERVAL: Duration = Duration::from_millis(100);
/// Sent when the file shrank; the stream continues from the start of the file.
pub const TRUNCATED_NOTICE: &[u8] = b"==> File truncated <==\n";

/// Follows one file for one streaming response.
#[derive(Debug)]
pub struct FileFollower {
    path: PathBuf,
    file: File,
    dev: u64,
    ino: u64,
    /// Bytes of the current file already sent (the reference's `sz`).
    sent: u64,
    /// None: nothing to do until the daemon calls `wake` (the file is watched).
    next_poll: Option<Instant>,
    /// Polled every FOLLOW_INTERVAL (false once the daemon watches the file).
    interval_polling: bool,
}

impl FileFollower {
    /// Opens `path`; the first poll returns its last 1024 bytes (all of it if smaller).
    /// A missing or unreadable file is an error (the handler answers 404 / 500 itself).
    pub fn open(path: &Path, now: Instant) -> io::Result<FileFollower> {
        let file = File::open(path)?;
        let meta = file.metadata()?;
        Ok(FileFollower {
            path: path.to_path_buf(),
            file,
            dev: meta.dev(),
            ino: meta.ino(),
            sent: meta.len().saturating_sub(FOLLOW_HEAD_BYTES),
            next_poll: Some(now),
            interval_polling: true,
        })
    }

    /// Opens `path` to follow from byte `offset` (where a page that showed the file's end left
    /// off); an offset past the end (the file was truncated or rotated since) starts at 0.
    pub fn open_from(path: &Path, now: Instant, offset: u64) -> io::Result<FileFollower> {
        let mut follower = FileFollower::open(path, now)?;
        let len = follower.file.metadata()?.len();
        follower.sent = if offset <= len { offset } else { 0 };
        Ok(follower)
    }

    /// When the daemon should call `poll` next (immediately after open, and while data remains).
    pub fn next_deadline(&self) -> Option<Instant> {
        self.next_poll
    }

    /// The daemon watches the file (inotify) and calls `wake` when it changes: no interval polls.
    pub fn set_watched(&mut self) {
        self.interval_polling = false;
    }

    /// The file (or its directory) changed: poll at once.
    pub fn wake(&mut self, now: Instant) {
        self.next_poll = Some(now);
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Modification time of the followed file (for the `Last-Modified` header).
    pub fn modified(&self) -> Option<SystemTime> {
        self.file.metadata().and_then(|m| m.modified()).ok()
    }

    /// Reopens when the path now names another file (rotation); an unlinked path keeps the old one.
    /// Unlike the reference, the rest of the old file is sent before switching, so lines written
    /// just before a rotation are not lost.
    fn follow_rename(&mut self) {
        let Ok(meta) = std::fs::metadata(&self.path) else {
            return;
        };
        if (meta.dev(), meta.ino()) == (self.dev, self.ino) {
            return;
        }
        if self.file.metadata().is_ok_and(|old| old.len() > self.sent) {
            return;
        }
        if let Ok(file) = File::open(&self.path) {
            self.file = file;
            self.dev = meta.dev();
            self.ino = meta.ino();
            self.sent = 0;
        }
    }

    /// Returns what to send now (possibly nothing), at most `max_bytes` of file data. Call it at
    /// `next_deadline`, or earlier when the daemon knows it wrote to the file.
    pub fn poll(&mut self, now: Instant, max_bytes: usize) -> Vec<u8> {
        self.next_poll = self.interval_polling.then(|| now + FOLLOW_INTERVAL);
        self.follow_rename();
        let size = match self.file.metadata() {
            Ok(meta) => meta.len(),
            Err(_) => return Vec::new(),
        };
        if size < self.sent {
            self.sent = 0;
            return TRUNCATED_NOTICE.to_vec();
        }
        let available = size - self.sent;
        if available == 0 || max_bytes == 0 {
            return Vec::new();
        }
        let want = available.min(max_bytes as u64) as usize;
        let mut data = vec![0u8; want];
        let mut filled = 0;
        while filled < want {
            match self
                .file
                .read_at(&mut data[filled..], self.sent + filled as u64)
            {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
        }
        data.truncate(filled);
        self.sent += filled as u64;
        if (filled as u64) < available && filled > 0 {
            // More is waiting: let the daemon come back as soon as the client has room.
            self.next_poll = Some(now);
        }
        data
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::testutil::{TempDir, append};
    use std::io::Write;

    #[test]
    fn starts_with_last_1024_bytes_then_growth() {
        let dir = TempDir::new("follow");
        let path = dir.join("a.log");
        let content: Vec<u8> = (0..3000u32).map(|i| b'a' + (i % 26) as u8).collect();
        std::fs::write(&path, &content).unwrap();
        let t0 = Instant::now();
        let mut follower = FileFollower::open(&path, t0).unwrap();
        assert_eq!(follower.next_deadline(), Some(t0));
        assert_eq!(follower.poll(t0, 1 << 20), &content[3000 - 1024..]);
        assert_eq!(follower.next_deadline(), Some(t0 + FOLLOW_INTERVAL));
        assert!(follower.poll(t0 + FOLLOW_INTERVAL, 1 << 20).is_empty());
        append(&path, b"tick 12493\n");
        assert_eq!(
            follower.poll(t0 + 2 * FOLLOW_INTERVAL, 1 << 20),
            b"tick 12493\n"
        );
        assert!(follower.modified().is_some());
    }

    #[test]
    fn a_watched_follower_waits_for_wake() {
        let dir = TempDir::new("followwatched");
        let path = dir.join("a.log");
        std::fs::write(&path, b"one\n").unwrap();
        let t0 = Instant::now();
        let mut follower = FileFollower::open(&path, t0).unwrap();
        follower.set_watched();
        assert_eq!(follower.poll(t0, 1 << 20), b"one\n");
        assert_eq!(follower.next_deadline(), None, "no interval poll");
        append(&path, b"two\n");
        let t1 = t0 + FOLLOW_INTERVAL;
        follower.wake(t1);
        assert_eq!(follower.next_deadline(), Some(t1));
        assert_eq!(
            follower.poll(t1, 2),
            b"tw",
            "a partial poll asks to come back at once"
        );
        assert_eq!(follower.next_deadline(), Some(t1));
        assert_eq!(follower.poll(t1, 1 << 20), b"o\n");
        assert_eq!(follower.next_deadline(), None);
        assert_eq!(follower.path(), path.as_path());
    }

    #[test]
    fn small_file_is_sent_whole() {
        let dir = TempDir::new("followsmall");
        let path = dir.join("a.log");
        std::fs::write(&path, b"short\n").unwrap();
        let now = Instant::now();
        let mut follower = FileFollower::open(&path, now).unwrap();
        assert_eq!(follower.poll(now, 100), b"short\n");
        let empty = dir.join("empty.log");
        std::fs::write(&empty, b"").unwrap();
        let mut follower = FileFollower::open(&empty, now).unwrap();
        assert!(follower.poll(now, 100).is_empty());
    }

    #[test]
    fn max_bytes_splits_and_asks_to_come_back() {
        let dir = TempDir::new("followmax");
        let path = dir.join("a.log");
        std::fs::write(&path, b"0123456789").unwrap();
        let now = Instant::now();
        let mut follower = FileFollower::open(&path, now).unwrap();
        assert_eq!(follower.poll(now, 4), b"0123");
        assert_eq!(follower.next_deadline(), Some(now));
        assert_eq!(follower.poll(now, 4), b"4567");
        assert_eq!(follower.poll(now, 4), b"89");
        assert_eq!(follower.next_deadline(), Some(now + FOLLOW_INTERVAL));
    }

    #[test]
    fn truncation_sends_notice_and_restarts_from_zero() {
        let dir = TempDir::new("followtrunc");
        let path = dir.join("a.log");
        std::fs::write(&path, b"first line\nsecond line\n").unwrap();
        let now = Instant::now();
        let mut follower = FileFollower::open(&path, now).unwrap();
        follower.poll(now, 1 << 20);
        // Truncate in place (same inode) and write less than before.
        let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        file.set_len(0).unwrap();
        append(&path, b"new\n");
        assert_eq!(follower.poll(now, 1 << 20), TRUNCATED_NOTICE);
        assert_eq!(follower.poll(now, 1 << 20), b"new\n");
    }

    #[test]
    fn rotation_reopens_and_sends_new_file_from_start() {
        let dir = TempDir::new("followrot");
        let path = dir.join("a.log");
        std::fs::write(&path, b"old content\n").unwrap();
        let now = Instant::now();
        let mut follower = FileFollower::open(&path, now).unwrap();
        assert_eq!(follower.poll(now, 1 << 20), b"old content\n");
        std::fs::rename(&path, dir.join("a.log.1")).unwrap();
        append(&path, b"fresh\n");
        assert_eq!(follower.poll(now, 1 << 20), b"fresh\n");
        append(&path, b"more\n");
        assert_eq!(follower.poll(now, 1 << 20), b"more\n");
    }

    #[test]
    fn rotation_sends_rest_of_old_file_first() {
        let dir = TempDir::new("followdrain");
        let path = dir.join("a.log");
        std::fs::write(&path, b"old\n").unwrap();
        let now = Instant::now();
        let mut follower = FileFollower::open(&path, now).unwrap();
        assert_eq!(follower.poll(now, 100), b"old\n");
        append(&path, b"last old line\n");
        std::fs::rename(&path, dir.join("a.log.1")).unwrap();
        append(&path, b"fresh\n");
        assert_eq!(follower.poll(now, 100), b"last old line\n");
        assert_eq!(follower.poll(now, 100), b"fresh\n");
    }

    #[test]
    fn unlinked_file_keeps_following_old_descriptor() {
        let dir = TempDir::new("followunlink");
        let path = dir.join("a.log");
        std::fs::write(&path, b"x\n").unwrap();
        let now = Instant::now();
        let mut follower = FileFollower::open(&path, now).unwrap();
        follower.poll(now, 100);
        let mut writer = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        std::fs::remove_file(&path).unwrap();
        writer.write_all(b"y\n").unwrap();
        assert_eq!(follower.poll(now, 100), b"y\n");
    }

    #[test]
    fn missing_file_is_an_error() {
        let dir = TempDir::new("followmissing");
        assert!(FileFollower::open(&dir.join("nope"), Instant::now()).is_err());
    }
}

//! `RotatingFile`: an append-mode log file that rotates by size after each write, like the
//! reference's RotatingFileHandler, and that never panics or blocks on a full or broken target.

use std::fs::{File, OpenOptions};
use std::io::{self, Seek, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::splice::{
    SPLICE_MIN_MAXBYTES, set_append, splice_at, splice_budget, splice_unsupported,
};

/// A change in a log file's health, returned once per transition so the daemon logs it once.
#[derive(Debug)]
pub enum WriteReport {
    /// Writing started failing (disk full, EIO, pipe full, file could not be reopened ...).
    /// Later failures are only counted until writing works again.
    Failed { path: PathBuf, error: io::Error },
    /// Writing works again; `dropped_bytes` were lost while it did not.
    Recovered { path: PathBuf, dropped_bytes: u64 },
}

impl std::fmt::Display for WriteReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteReport::Failed { path, error } => {
                write!(
                    f,
                    "could not write to log file {}: {}",
                    path.display(),
                    error
                )
            }
            WriteReport::Recovered {
                path,
                dropped_bytes,
            } => write!(
                f,
                "writing to log file {} works again ({} bytes were lost)",
                path.display(),
                dropped_bytes
            ),
        }
    }
}

/// An append-mode log file with the reference's size-based rotation.
///
/// Rotation happens after each write when the file position is at least `maxbytes`:
/// `<f>.N-1 -> <f>.N ... <f> -> <f>.1`, then `<f>` is recreated empty. Only regular files rotate;
/// pipes, ttys and devices (`/dev/stdout`) are written as they are.
#[derive(Debug)]
pub struct RotatingFile {
    path: Arc<Path>,
    file: Option<File>,
    maxbytes: u64,
    backups: u32,
    /// Regular file: rotation applies. Anything else (pipe, tty, /dev/null) never rotates.
    regular: bool,
    /// Bytes that could not be written since the last successful write.
    dropped_since_failure: u64,
    /// Bytes that could not be written since this file was opened.
    dropped_total: u64,
    failing: bool,
    /// Bytes a full pipe or tty did not accept yet (never used for regular files).
    pending: Vec<u8>,
    /// O_APPEND is off on the open file because splice refuses append-mode targets; a write
    /// turns it back on first.
    append_cleared: bool,
    /// A splice into this file failed in a way that will not change (filesystem without splice
    /// support): only writes from now on.
    splice_disabled: bool,
    /// Every write ends at a line end (`log_prefix=` output): see `write_lines`.
    whole_lines: bool,
}

/// What one `RotatingFile::splice_from` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spliced {
    /// `bytes` moved into the file (and it rotated if that reached maxbytes). `emptied`: fewer
    /// than asked, so the pipe was empty at that moment and its next write wakes the poller.
    Moved { bytes: usize, emptied: bool },
    /// The pipe is empty (EAGAIN).
    Empty,
    /// The pipe is empty and its writers are gone.
    Eof,
    /// This file cannot take a splice (now: not a regular file, bytes queued; or ever: the
    /// filesystem refused). Nothing moved: read the pipe instead.
    Unsupported,
    /// Writing failed (disk full, EIO ...). Nothing moved: read the pipe instead, so the write
    /// path reports the problem once and counts the bytes it drops, and the child keeps going.
    Failed,
}

/// Bytes kept per target while a pipe or tty is not being read; beyond this output is dropped.
pub const PENDING_LIMIT: usize = 1 << 20;

/// Opens for appending without truncating; O_NONBLOCK so that opening a FIFO without a reader fails
/// (ENXIO) instead of hanging the daemon, and a full pipe drops output instead of blocking.
fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o666)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
}

/// The reopen after a rotation: the reference opens the base name with mode 'wb' (truncate).
fn open_truncate(path: &Path) -> io::Result<File> {
    // std refuses append+truncate together; the kernel accepts O_APPEND|O_TRUNC, and append keeps
    // a second writer of the same file (stdout and stderr to one path) from overwriting us.
    OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o666)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC | libc::O_TRUNC)
        .open(path)
}

fn is_regular(file: &File) -> bool {
    match file.metadata() {
        Ok(meta) => {
            let kind = meta.file_type();
            kind.is_file() && !kind.is_fifo() && !kind.is_char_device()
        }
        Err(_) => false,
    }
}

/// The longest start of `data` (complete lines) one write may take atomically: lines up to
/// PIPE_BUF bytes together, else one whole (longer) line, else everything (no newline).
fn whole_lines_chunk(data: &[u8]) -> &[u8] {
    let window = &data[..data.len().min(libc::PIPE_BUF)];
    if window.len() == data.len() && data.ends_with(b"\n") {
        return data;
    }
    if let Some(at) = window.iter().rposition(|&b| b == b'\n') {
        return &data[..=at];
    }
    match data.iter().position(|&b| b == b'\n') {
        Some(at) => &data[..=at],
        None => data,
    }
}

/// `write_counting` one whole-lines chunk at a time: a pipe takes a write of up to PIPE_BUF
/// bytes whole or not at all, so when it fills up no line is left half written for another
/// program's output to land in (only a single line longer than PIPE_BUF can be split).
fn write_lines(file: &mut File, data: &[u8]) -> (usize, Option<io::Error>) {
    let mut written = 0;
    while written < data.len() {
        let chunk = whole_lines_chunk(&data[written..]);
        let (n, error) = write_counting(file, chunk);
        written += n;
        if error.is_some() {
            return (written, error);
        }
    }
    (written, None)
}

/// rename that tolerates a missing source (the active log removed by a cleanup script).
fn rename_tolerant(from: &Path, to: &Path) -> io::Result<()> {
    match std::fs::rename(from, to) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// Writes as much of `data` as the target accepts; returns the bytes written and the error that
/// stopped it, if any.
fn write_counting(file: &mut File, data: &[u8]) -> (usize, Option<io::Error>) {
    let mut written = 0;
    while written < data.len() {
        match file.write(&data[written..]) {
            Ok(0) => return (written, Some(io::Error::from(io::ErrorKind::WriteZero))),
            Ok(n) => written += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return (written, Some(e)),
        }
    }
    (written, None)
}

pub fn backup_name(path: &Path, index: u32) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{index}"));
    PathBuf::from(name)
}

impl RotatingFile {
    /// Opens (creating with mode 0666 & ~umask) `path` for appending. `maxbytes` 0 = never rotate.
    pub fn open(path: impl AsRef<Path>, maxbytes: u64, backups: u32) -> io::Result<RotatingFile> {
        RotatingFile::open_shared(Arc::from(path.as_ref()), maxbytes, backups)
    }

    /// `open` with a path the caller shares (child logs keep one copy per channel).
    pub fn open_shared(path: Arc<Path>, maxbytes: u64, backups: u32) -> io::Result<RotatingFile> {
        let file = open_append(&path)?;
        let regular = is_regular(&file);
        Ok(RotatingFile {
            path,
            file: Some(file),
            maxbytes,
            backups,
            regular,
            dropped_since_failure: 0,
            dropped_total: 0,
            failing: false,
            pending: Vec::new(),
            append_cleared: false,
            splice_disabled: false,
            whole_lines: false,
        })
    }

    /// Writes (and queued bytes) go out in whole lines only (see `write_lines`); the caller
    /// hands over complete lines.
    pub fn set_whole_lines(&mut self, on: bool) {
        self.whole_lines = on;
    }

    /// Uses a freshly opened file (append mode) from now on.
    fn install(&mut self, file: File) {
        self.regular = is_regular(&file);
        self.file = Some(file);
        self.append_cleared = false;
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes lost to write errors since this file was opened.
    #[cfg(test)]
    pub fn dropped_bytes(&self) -> u64 {
        self.dropped_total
    }

    /// True between a `Failed` report and the next successful write.
    pub fn is_failing(&self) -> bool {
        self.failing
    }

    /// A regular file (rotates); false for pipes, ttys and devices such as /dev/stdout.
    pub fn is_regular(&self) -> bool {
        self.regular
    }

    /// Appends `data`, then rotates if due. Returns a report only when the health of the file
    /// changes (first failure, or recovery), so the caller can log it exactly once.
    ///
    /// A pipe or tty that is full (EAGAIN) does not lose data at once: up to `PENDING_LIMIT`
    /// bytes wait in memory and go out first on the next write or `flush_pending`.
    pub fn write(&mut self, data: &[u8]) -> Option<WriteReport> {
        if data.is_empty() {
            return None;
        }
        let mut error = None;
        if self.file.is_none() {
            // A previous reopen failed (e.g. directory not writable): try again now.
            match open_append(&self.path) {
                Ok(file) => self.install(file),
                Err(e) => error = Some(e),
            }
        }
        self.restore_append();
        let mut lost = 0;
        if self.file.is_none() {
            lost = data.len() as u64;
        } else {
            let (pending_lost, pending_error) = self.drain_pending();
            lost += pending_lost;
            error = error.or(pending_error);
            if self.pending.is_empty() {
                let whole_lines = self.whole_lines;
                let (written, write_error) = match self.file.as_mut() {
                    Some(file) if whole_lines => write_lines(file, data),
                    Some(file) => write_counting(file, data),
                    None => (0, None),
                };
                match write_error {
                    Some(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        lost += self.queue(&data[written..]);
                    }
                    Some(e) => {
                        lost += (data.len() - written) as u64;
                        error = error.or(Some(e));
                    }
                    None => {}
                }
            } else {
                lost += self.queue(data);
            }
            if lost > 0 && error.is_none() {
                error = Some(io::Error::new(
                    io::ErrorKind::WouldBlock,
                    "output target is full (not being read)",
                ));
            }
        }
        let report = self.account(lost, error);
        let rotated = self.rotate_if_due();
        self.report_rotation(report, rotated)
    }

    /// Keeps bytes a full pipe did not take; returns how many did not fit and are lost.
    fn queue(&mut self, data: &[u8]) -> u64 {
        let room = PENDING_LIMIT.saturating_sub(self.pending.len());
        let mut kept = room.min(data.len());
        if self.whole_lines && kept < data.len() {
            // Whole lines only: a cut line would run into the next output on the stream.
            kept = data[..kept]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |at| at + 1);
        }
        self.pending.extend_from_slice(&data[..kept]);
        (data.len() - kept) as u64
    }

    /// Writes queued bytes; returns bytes lost to a hard error (EPIPE, EIO) and that error.
    fn drain_pending(&mut self) -> (u64, Option<io::Error>) {
        if self.pending.is_empty() {
            return (0, None);
        }
        let whole_lines = self.whole_lines;
        let Some(file) = self.file.as_mut() else {
            return (0, None);
        };
        let (written, error) = if whole_lines {
            write_lines(file, &self.pending)
        } else {
            write_counting(file, &self.pending)
        };
        match error {
            Some(e) if e.kind() != io::ErrorKind::WouldBlock => {
                let lost = self.pending.len() as u64;
                self.pending.clear();
                (lost, Some(e))
            }
            _ => {
                self.pending.drain(..written);
                (0, None)
            }
        }
    }

    /// True when bytes wait for a full pipe/tty; the daemon should call `flush_pending` once the
    /// target takes output again (see `pending_fd`).
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// The descriptor to wait on for writability while bytes are queued.
    pub fn pending_fd(&self) -> Option<RawFd> {
        if self.pending.is_empty() {
            return None;
        }
        self.file.as_ref().map(AsRawFd::as_raw_fd)
    }

    /// Sends queued bytes if the target accepts them now.
    pub fn flush_pending(&mut self) -> Option<WriteReport> {
        if self.pending.is_empty() {
            return None;
        }
        let (lost, error) = self.drain_pending();
        if lost > 0 {
            return self.account(lost, error);
        }
        None
    }

    fn account(&mut self, lost: u64, error: Option<io::Error>) -> Option<WriteReport> {
        match error {
            Some(error) => {
                self.dropped_since_failure += lost;
                self.dropped_total += lost;
                if self.failing {
                    return None;
                }
                self.failing = true;
                Some(WriteReport::Failed {
                    path: self.path.to_path_buf(),
                    error,
                })
            }
            None if self.failing => {
                self.failing = false;
                let dropped_bytes = std::mem::take(&mut self.dropped_since_failure);
                Some(WriteReport::Recovered {
                    path: self.path.to_path_buf(),
                    dropped_bytes,
                })
            }
            None => None,
        }
    }

    /// A failed rotation is reported like a failed write (once, unless `report` already says
    /// something).
    fn report_rotation(
        &mut self,
        report: Option<WriteReport>,
        rotated: io::Result<()>,
    ) -> Option<WriteReport> {
        match rotated {
            Err(error) if report.is_none() && !self.failing => {
                self.failing = true;
                Some(WriteReport::Failed {
                    path: self.path.to_path_buf(),
                    error,
                })
            }
            _ => report,
        }
    }

    fn rotate_if_due(&mut self) -> io::Result<()> {
        if self.maxbytes == 0 || !self.regular {
            return Ok(());
        }
        // After an append-mode write the position is the file's end.
        let position = match self.file.as_mut() {
            Some(file) => file.stream_position()?,
            None => return Ok(()),
        };
        self.rotate_if_reached(position)
    }

    fn rotate_if_reached(&mut self, size: u64) -> io::Result<()> {
        if self.maxbytes == 0 || !self.regular || size < self.maxbytes {
            return Ok(());
        }
        self.rotate()
    }

    /// Writes go through append mode again (splice had turned it off).
    fn restore_append(&mut self) {
        if !self.append_cleared {
            return;
        }
        let Some(file) = self.file.as_mut() else {
            return;
        };
        if set_append(file.as_raw_fd(), true).is_ok() {
            self.append_cleared = false;
        } else {
            // Splices do not move the position: at least start this write at the end.
            let _ = file.seek(io::SeekFrom::End(0));
            self.splice_disabled = true;
        }
    }

    /// Whether `splice_from` may be used now: a regular file that is open, nothing queued, the
    /// filesystem has not refused splice, and rotation (if any) not so small that exact rotation
    /// would rotate every few bytes.
    pub fn splice_ready(&self) -> bool {
        self.regular
            && self.file.is_some()
            && self.pending.is_empty()
            && !self.splice_disabled
            && (self.maxbytes == 0 || self.maxbytes >= SPLICE_MIN_MAXBYTES)
    }

    /// Moves up to `want` (> 0) bytes from `pipe` (a non-blocking pipe) into the file without
    /// copying them through user space, at most up to `maxbytes`, then rotates when the file
    /// reached it. The report, as from `write`, says when the file recovered from an earlier
    /// failure or its rotation failed.
    pub fn splice_from(&mut self, pipe: RawFd, want: usize) -> (Spliced, Option<WriteReport>) {
        if !self.splice_ready() || want == 0 {
            return (Spliced::Unsupported, None);
        }
        let Some(file) = self.file.as_ref() else {
            return (Spliced::Unsupported, None);
        };
        let fd = file.as_raw_fd();
        // The end of the file, as an append would see it (another writer, a truncation).
        let size = match file.metadata() {
            Ok(meta) => meta.len(),
            Err(_) => return (Spliced::Failed, None),
        };
        if !self.append_cleared {
            if set_append(fd, false).is_err() {
                self.splice_disabled = true;
                return (Spliced::Unsupported, None);
            }
            self.append_cleared = true;
        }
        let budget = splice_budget(size, self.maxbytes, want);
        match splice_at(pipe, fd, size, budget) {
            Ok(0) => (Spliced::Eof, None),
            Ok(bytes) => {
                let report = self.account(0, None);
                let rotated = self.rotate_if_reached(size + bytes as u64);
                let report = self.report_rotation(report, rotated);
                let emptied = bytes < budget;
                (Spliced::Moved { bytes, emptied }, report)
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => (Spliced::Empty, None),
            Err(e) if splice_unsupported(&e) => {
                self.splice_disabled = true;
                self.restore_append();
                (Spliced::Unsupported, None)
            }
            Err(_) => (Spliced::Failed, None),
        }
    }

    /// Shifts the backups and recreates the base file empty (the reference's doRollover).
    pub fn rotate(&mut self) -> io::Result<()> {
        self.file = None;
        let mut result = Ok(());
        if self.backups > 0 {
            for index in (1..self.backups).rev() {
                let source = backup_name(&self.path, index);
                if source.exists()
                    && let Err(e) = rename_tolerant(&source, &backup_name(&self.path, index + 1))
                {
                    result = Err(e);
                }
            }
            if let Err(e) = rename_tolerant(&self.path, &backup_name(&self.path, 1)) {
                result = Err(e);
            }
        }
        match open_truncate(&self.path) {
            Ok(file) => self.install(file),
            Err(e) => result = Err(e),
        }
        result
    }

    /// Closes and reopens the same path in append mode (SIGUSR2, external rotation).
    pub fn reopen(&mut self) -> io::Result<()> {
        self.file = None;
        let file = open_append(&self.path)?;
        self.install(file);
        Ok(())
    }

    /// Deletes the file (a missing file is fine) and reopens it empty (clearProcessLogs, clearLog).
    pub fn clear(&mut self) -> io::Result<()> {
        self.file = None;
        if self.regular {
            match std::fs::remove_file(&self.path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => {
                    // Still reopen so logging continues; the caller reports the failure.
                    let _ = self.reopen();
                    return Err(e);
                }
                _ => {}
            }
        }
        self.reopen()
    }

    /// Current size of the open file (0 when closed or not a regular file).
    #[cfg(test)]
    pub fn position(&mut self) -> u64 {
        if !self.regular {
            return 0;
        }
        self.file
            .as_ref()
            .and_then(|f| f.metadata().ok())
            .map_or(0, |m| m.len())
    }
}

#[cfg(test)]
#[path = "rotating_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "rotating_splice_tests.rs"]
mod splice_tests;

//! The `/logtail/<namespec>[/stderr]` and `/mainlogtail` streams: each follows its file and
//! pushes what was appended, woken by inotify (or polling its file when inotify is unavailable).

use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::Instant;

use mio::{Registry, Token};

use crate::http::{self, Channel, Request, RequestId, Response};
use crate::logs::{Changes, FileFollower, LogWatch};
use crate::rpc::Backend;
use crate::rpc::backend::ProcessId;

/// Most bytes one tail poll sends (the rest follows on the next poll).
const TAIL_CHUNK: usize = 64 * 1024;

struct Tail {
    id: RequestId,
    follower: FileFollower,
}

/// The open streams and the watch that wakes them.
#[derive(Default)]
pub struct Tails {
    list: Vec<Tail>,
    /// Watches the files tails follow; None when inotify is unavailable (tails then poll).
    watch: Option<LogWatch>,
}

impl Tails {
    /// Registers the inotify descriptor under `token` (without it, tails poll their files).
    pub fn start(&mut self, registry: &Registry, token: Token) {
        self.watch = LogWatch::new()
            .and_then(|watch| {
                registry.register(
                    &mut mio::unix::SourceFd(&watch.fd()),
                    token,
                    mio::Interest::READABLE,
                )?;
                Ok(watch)
            })
            .map_err(|e| log::debug!("log tails will poll their files: no inotify ({e})"))
            .ok();
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        self.list
            .iter()
            .filter_map(|t| t.follower.next_deadline())
            .min()
    }

    /// Answers request `id` with a stream of `path` (404 when there is none); returns requests
    /// that were pipelined behind a 404.
    pub fn open(
        &mut self,
        server: &mut http::Server,
        id: RequestId,
        path: Option<PathBuf>,
        accel: bool,
        offset: Option<u64>,
        now: Instant,
    ) -> Vec<Request> {
        let open = |p: &Path| match offset {
            Some(offset) => FileFollower::open_from(p, now, offset),
            None => FileFollower::open(p, now),
        };
        let follower = match path.as_deref().map(open) {
            Some(Ok(f)) => f,
            _ => return server.respond(id, Response::error(404), now),
        };
        let mut headers = Vec::new();
        if let Some(modified) = follower.modified() {
            headers.push(("Last-Modified".to_string(), http::http_date(modified)));
        }
        headers.push((
            "Content-Type".to_string(),
            "text/plain;charset=utf-8".to_string(),
        ));
        if accel {
            headers.push(("X-Accel-Buffering".to_string(), "no".to_string()));
        }
        if server.start_stream(id, &headers, now) {
            let mut follower = follower;
            // Watched before the first poll, so no change after it is missed.
            if let Some(watch) = self.watch.as_mut()
                && watch.add(follower.path()).is_ok()
            {
                follower.set_watched();
            }
            self.list.push(Tail { id, follower });
            self.poll(server, now);
        }
        Vec::new()
    }

    /// Sends what the due tails' files gained; drops tails whose client went away.
    pub fn poll(&mut self, server: &mut http::Server, now: Instant) {
        self.list.retain_mut(|tail| {
            if !server.is_open(tail.id) {
                return false;
            }
            if tail.follower.next_deadline().is_none_or(|due| due > now) {
                return true;
            }
            let data = tail.follower.poll(now, TAIL_CHUNK);
            data.is_empty() || server.push_chunk(tail.id, &data, now)
        });
        if self.list.is_empty()
            && let Some(watch) = self.watch.as_mut()
            && watch.watch_count() > 0
        {
            watch.clear();
        }
    }

    /// A watched file or directory changed: every tail looks at its file now (after a rename or
    /// a new file, each path is watched again, so a rotated-in file is followed).
    pub fn wake(&mut self, server: &mut http::Server, now: Instant) {
        let Some(watch) = self.watch.as_mut() else {
            return;
        };
        let changes = watch.drain();
        if changes == Changes::None {
            return;
        }
        for tail in &mut self.list {
            // Only after a rename or a new file: the path may name a new inode to watch.
            if changes == Changes::Files {
                let _ = watch.add(tail.follower.path());
            }
            tail.follower.wake(now);
        }
        self.poll(server, now);
    }

    /// Ends every stream and stops watching.
    pub fn shutdown(&mut self, registry: &Registry) {
        self.list.clear();
        if let Some(watch) = self.watch.take() {
            let _ = registry.deregister(&mut mio::unix::SourceFd(&watch.fd()));
        }
    }
}

/// The log file a `/logtail/<namespec>[/<channel>]` request names, if it exists.
pub fn log_path(backend: &dyn Backend, namespec: &str, channel: Channel) -> Option<PathBuf> {
    let (group, name) = match namespec.split_once(':') {
        Some((g, n)) => (g, n),
        None => (namespec, namespec),
    };
    let process = backend.process(&ProcessId::new(group, name))?;
    let path = match channel {
        Channel::Stdout => process.stdout_logfile,
        Channel::Stderr => process.stderr_logfile,
    }?;
    path.exists().then_some(path)
}

/// The `offset=` of a tail request: the log page asks to continue where its text ended (the
/// reference's streams always start with the file's last 1024 bytes).
pub fn offset(query: Option<&str>) -> Option<u64> {
    query?
        .split('&')
        .find_map(|pair| pair.strip_prefix("offset="))
        .and_then(|v| v.parse().ok())
}

/// The last `max` bytes of a file and the file's length when they were read.
pub fn read_end(path: &Path, max: usize) -> std::io::Result<(Vec<u8>, u64)> {
    let file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    let start = len.saturating_sub(max as u64);
    let mut data = vec![0u8; (len - start) as usize];
    let mut filled = 0;
    while filled < data.len() {
        match file.read_at(&mut data[filled..], start + filled as u64) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    data.truncate(filled);
    Ok((data, start + filled as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_and_file_ends() {
        assert_eq!(offset(Some("offset=42")), Some(42));
        assert_eq!(offset(Some("x=1&offset=7")), Some(7));
        assert_eq!(offset(Some("offset=-1")), None);
        assert_eq!(offset(None), None);
        let tmp = crate::testutil::TempDir::new("dash-read-end");
        let path = tmp.join("log");
        std::fs::write(&path, b"0123456789").unwrap();
        assert_eq!(read_end(&path, 4).unwrap(), (b"6789".to_vec(), 10));
        assert_eq!(read_end(&path, 100).unwrap(), (b"0123456789".to_vec(), 10));
    }
}

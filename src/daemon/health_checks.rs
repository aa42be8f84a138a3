//! Running health checks for the loop: http/tcp probes as non-blocking sockets registered in the
//! one mio loop (tokens from `tokens::HEALTH_BASE`), exec probes as children in their own process
//! group (stdin on /dev/null, stdout and stderr into a pipe watched by the loop, whose first bytes
//! are kept for the log), reaped by the process table's normal reaping; when one ends, what is
//! left of its process group is killed. No threads, no DNS (addresses were resolved by the
//! config). The verdicts are the pure `process::health`'s; when checks are due is the table's
//! `health_deadlines`.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::rc::Rc;
use std::time::Instant;

use mio::net::TcpStream;
use mio::unix::SourceFd;
use mio::{Interest, Registry, Token};

use super::tokens;
use crate::process::health::{Monitor, Outcome};

/// Longest status line read from an http check (the rest of the answer is not read).
const MAX_STATUS_LINE: usize = 1024;
/// Bytes of an exec check's output kept (the rest is read and dropped, so a chatty check never
/// blocks on a full pipe).
const MAX_OUTPUT: usize = 1024;
/// Characters of that output shown in a failed check's reason.
const SHOWN_OUTPUT: usize = 200;

/// Where the process a check belongs to was when the check started: (group, slot) indexes.
/// Only a hint, checked against the check in flight (adding or removing a group moves indexes;
/// the check itself, a pid or a token, is unique while it runs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckOwner {
    pub gi: usize,
    pub pi: usize,
}

/// A process's health: the pure monitor and the check it has in flight.
#[derive(Debug)]
pub struct SlotHealth {
    pub monitor: Monitor,
    pub running: Option<Running>,
    /// `healthcheck_action=restart` stopped the process: start it once it is stopped.
    pub restart_pending: bool,
    /// The deadline this process has filed in the table's `health_deadlines` (the key to remove
    /// when it moves).
    pub(super) scheduled: Option<Instant>,
    /// An http check's request bytes, built by the first check (the config never changes under
    /// a process: `update` replaces it).
    pub(super) http_request: Option<Rc<[u8]>>,
}

impl SlotHealth {
    pub fn new(name: &str) -> SlotHealth {
        let mut monitor = Monitor::new(name);
        // The main log's level is set before any process exists and stays for the table's life.
        monitor.set_debug_lines(log::max_level() >= log::LevelFilter::Debug);
        SlotHealth {
            monitor,
            running: None,
            restart_pending: false,
            scheduled: None,
            http_request: None,
        }
    }
}

/// The request an http check sends.
pub fn http_request(host: &str, path: &str) -> Rc<[u8]> {
    format!(
        "GET {path} HTTP/1.0\r\nHost: {host}\r\nUser-Agent: supervisor-healthcheck\r\nConnection: close\r\n\r\n"
    )
    .into_bytes()
    .into()
}

/// A check in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Running {
    Exec(u32),
    Socket(Token),
}

enum Protocol {
    Tcp,
    Http {
        request: Rc<[u8]>,
        written: usize,
        /// A status line split across reads (most answers come whole in the first read).
        response: Vec<u8>,
    },
}

struct SocketCheck {
    owner: CheckOwner,
    stream: TcpStream,
    connected: bool,
    protocol: Protocol,
}

/// The read end of an exec check's stdout/stderr pipe and its first bytes.
struct OutputPipe {
    pipe: OwnedFd,
    head: Vec<u8>,
    /// Bytes were dropped past `MAX_OUTPUT`.
    cut: bool,
}

/// What a health token stands for.
enum Watched {
    Socket(SocketCheck),
    Output(OutputPipe),
}

/// An exec check until it is reaped.
struct ExecCheck {
    owner: CheckOwner,
    /// Its output pipe's token (None: the pipe could not be watched; the output is then read
    /// once, when the check ends).
    output: Option<Token>,
    /// The pipe itself when it is not watched.
    unwatched: Option<OutputPipe>,
}

/// Every health check in flight.
#[derive(Default)]
pub struct HealthChecks {
    /// A clone of the loop's registry, made by the first socket check (a clone is a dup'ed
    /// epoll fd: configs without checks open nothing new).
    registry: Option<Registry>,
    /// Check sockets and exec output pipes by token offset; freed offsets are reused.
    watched: Vec<Option<Watched>>,
    free: Vec<usize>,
    /// Exec checks by pid, until reaped (also after a cancel: the kill is not the reap).
    exec: HashMap<u32, ExecCheck>,
    /// /dev/null for exec checks' stdio, opened on first use.
    null: Option<File>,
}

/// A short reason for the log: the system's text of the errno (`connection refused`).
fn errno_text(e: &io::Error) -> String {
    let text = match e.raw_os_error() {
        Some(code) => {
            let full = io::Error::from_raw_os_error(code).to_string();
            // std appends ` (os error N)`.
            match full.rfind(" (os error") {
                Some(i) => full[..i].to_string(),
                None => full,
            }
        }
        None => e.to_string(),
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => text,
    }
}

impl HealthChecks {
    pub fn owns(&self, token: Token) -> bool {
        token.0 >= tokens::HEALTH_BASE && token.0 - tokens::HEALTH_BASE < self.watched.len()
    }

    /// The loop's registry, cloned on first use (a clone is a dup'ed epoll fd: configs without
    /// checks open nothing new).
    fn registry(&mut self, loop_registry: &Registry) -> io::Result<&Registry> {
        if self.registry.is_none() {
            self.registry = Some(loop_registry.try_clone()?);
        }
        self.registry
            .as_ref()
            .ok_or_else(|| io::Error::other("no poll registry"))
    }

    /// A free token offset (the slot is filled by `put`).
    fn reserve(&mut self) -> usize {
        self.free.pop().unwrap_or(self.watched.len())
    }

    fn put(&mut self, index: usize, watched: Watched) {
        if index == self.watched.len() {
            self.watched.push(Some(watched));
        } else {
            self.watched[index] = Some(watched);
        }
    }

    /// Starts a socket check (non-blocking connect). Err = an immediate failure.
    pub fn start_socket(
        &mut self,
        loop_registry: &Registry,
        owner: CheckOwner,
        addr: SocketAddr,
        http: Option<Rc<[u8]>>,
    ) -> Result<Token, Outcome> {
        let proto = if http.is_some() { "http" } else { "tcp" };
        let mut stream = TcpStream::connect(addr)
            .map_err(|e| Outcome::fail(format!("{proto} connect: {}", errno_text(&e))))?;
        let index = self.reserve();
        let token = Token(tokens::HEALTH_BASE + index);
        let registered = self.registry(loop_registry).and_then(|registry| {
            registry.register(&mut stream, token, Interest::READABLE | Interest::WRITABLE)
        });
        if let Err(e) = registered {
            self.free.push(index);
            return Err(Outcome::fail(format!("{proto} watch: {}", errno_text(&e))));
        }
        let protocol = match http {
            None => Protocol::Tcp,
            Some(request) => Protocol::Http {
                request,
                written: 0,
                response: Vec::new(),
            },
        };
        let check = SocketCheck {
            owner,
            stream,
            connected: false,
            protocol,
        };
        self.put(index, Watched::Socket(check));
        Ok(token)
    }

    /// Readiness of a check's socket or output pipe: Some when a socket check is over (the
    /// socket is closed).
    pub fn on_event(&mut self, token: Token) -> Option<(CheckOwner, Token, Outcome)> {
        let index = token.0.checked_sub(tokens::HEALTH_BASE)?;
        match self.watched.get_mut(index)?.as_mut()? {
            Watched::Socket(check) => {
                let outcome = check.advance()?;
                let owner = check.owner;
                self.close(token);
                Some((owner, token, outcome))
            }
            Watched::Output(output) => {
                output.read_available();
                None
            }
        }
    }

    /// Closes a socket check (finished or cancelled) or an exec check's output pipe.
    pub fn close(&mut self, token: Token) {
        drop(self.take(token));
    }

    /// Stops watching a token's socket or pipe and frees the token.
    fn take(&mut self, token: Token) -> Option<Watched> {
        let index = token.0.checked_sub(tokens::HEALTH_BASE)?;
        let mut watched = self.watched.get_mut(index).and_then(Option::take)?;
        if let Some(registry) = &self.registry {
            let _ = match &mut watched {
                Watched::Socket(check) => registry.deregister(&mut check.stream),
                Watched::Output(output) => {
                    registry.deregister(&mut SourceFd(&output.pipe.as_raw_fd()))
                }
            };
        }
        self.free.push(index);
        Some(watched)
    }

    /// An open /dev/null for an exec check's stdio.
    pub fn null_fd(&mut self) -> Result<i32, Outcome> {
        if self.null.is_none() {
            let file = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open("/dev/null")
                .map_err(|e| Outcome::fail(format!("exec: /dev/null: {}", errno_text(&e))))?;
            self.null = Some(file);
        }
        Ok(self.null.as_ref().map_or(-1, |f| f.as_raw_fd()))
    }

    /// A spawned exec check and its output pipe, watched by the loop so the check never
    /// blocks on a full pipe.
    pub fn add_exec(
        &mut self,
        loop_registry: &Registry,
        pid: u32,
        owner: CheckOwner,
        pipe: OwnedFd,
    ) {
        let output = OutputPipe {
            pipe,
            head: Vec::new(),
            cut: false,
        };
        let index = self.reserve();
        let token = Token(tokens::HEALTH_BASE + index);
        let fd = output.pipe.as_raw_fd();
        let registered = self
            .registry(loop_registry)
            .and_then(|registry| registry.register(&mut SourceFd(&fd), token, Interest::READABLE));
        let check = if registered.is_ok() {
            self.put(index, Watched::Output(output));
            ExecCheck {
                owner,
                output: Some(token),
                unwatched: None,
            }
        } else {
            self.free.push(index);
            ExecCheck {
                owner,
                output: None,
                unwatched: Some(output),
            }
        };
        self.exec.insert(pid, check);
    }

    /// A reaped pid that was an exec check: its owner (the check may have been cancelled) and
    /// what it printed, trimmed and bounded (None when it printed nothing). What is left of its
    /// process group (children it started and left behind) is killed now: the check is over.
    pub fn take_exec(&mut self, pid: u32) -> Option<(CheckOwner, Option<String>)> {
        let check = self.exec.remove(&pid)?;
        // SAFETY: kill(2) on the group of the check just reaped; its leftover members (if any)
        // keep the group, so its id cannot have been reused.
        unsafe { libc::kill(-(pid as i32), libc::SIGKILL) };
        let output = match check.output.and_then(|token| self.take(token)) {
            Some(Watched::Output(output)) => Some(output),
            _ => check.unwatched,
        };
        // What it wrote just before exiting is in the pipe already.
        let text = output.and_then(|mut output| {
            output.read_available();
            output.excerpt()
        });
        Some((check.owner, text))
    }

    /// Kills a cancelled or timed-out exec check: its whole process group, and the leader
    /// itself in case it has not made its group yet. The pid stays ours until reaped.
    pub fn kill_exec(pid: u32) {
        // SAFETY: kill(2) on a child we spawned and have not reaped (and its group).
        unsafe {
            libc::kill(-(pid as i32), libc::SIGKILL);
            libc::kill(pid as i32, libc::SIGKILL);
        }
    }
}

impl OutputPipe {
    /// Reads what the pipe holds (until it would block or ends), keeping the first
    /// `MAX_OUTPUT` bytes.
    fn read_available(&mut self) {
        let mut buf = [0u8; 4096];
        loop {
            match crate::sys::read(self.pipe.as_raw_fd(), &mut buf) {
                Ok(0) => return,
                Ok(n) => {
                    let room = MAX_OUTPUT.saturating_sub(self.head.len());
                    let got = buf.get(..n).unwrap_or_default();
                    self.head.extend_from_slice(&got[..room.min(got.len())]);
                    self.cut |= got.len() > room;
                }
                // WouldBlock, or an error: what was read is all there will be.
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return,
            }
        }
    }

    /// The output for a log line: trimmed, at most `SHOWN_OUTPUT` characters (then `...`),
    /// quoted with escapes (newlines and control characters stay on one line). None if empty.
    fn excerpt(&self) -> Option<String> {
        let text = String::from_utf8_lossy(&self.head);
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        let mut shown: String = text.chars().take(SHOWN_OUTPUT).collect();
        if self.cut || shown.len() < text.len() {
            shown.push_str("...");
        }
        Some(format!("{shown:?}"))
    }
}

impl SocketCheck {
    /// Moves the check on after readiness; Some when it is decided.
    fn advance(&mut self) -> Option<Outcome> {
        let proto = match self.protocol {
            Protocol::Tcp => "tcp",
            Protocol::Http { .. } => "http",
        };
        if !self.connected {
            if let Ok(Some(e)) | Err(e) = self.stream.take_error() {
                return Some(Outcome::fail(format!(
                    "{proto} connect: {}",
                    errno_text(&e)
                )));
            }
            match self.stream.peer_addr() {
                Ok(_) => self.connected = true,
                // Spurious wake-up: still connecting.
                Err(e) if e.kind() == io::ErrorKind::NotConnected => return None,
                Err(e) => {
                    return Some(Outcome::fail(format!(
                        "{proto} connect: {}",
                        errno_text(&e)
                    )));
                }
            }
        }
        let Protocol::Http {
            request,
            written,
            response,
        } = &mut self.protocol
        else {
            return Some(Outcome::pass("tcp connected"));
        };
        while *written < request.len() {
            match self.stream.write(&request[*written..]) {
                Ok(n) => *written += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return None,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Some(Outcome::fail(format!("http send: {}", errno_text(&e)))),
            }
        }
        let mut buf = [0u8; 512];
        loop {
            match self.stream.read(&mut buf) {
                Ok(0) => return Some(Outcome::fail("http no answer")),
                Ok(n) => {
                    // The usual answer has its whole status line in the first read: judged in
                    // place, without buffering.
                    if response.is_empty()
                        && let Some(outcome) = status_outcome(&buf[..n])
                    {
                        return Some(outcome);
                    }
                    response.extend_from_slice(&buf[..n]);
                    if let Some(outcome) = status_outcome(response) {
                        return Some(outcome);
                    }
                    if response.len() >= MAX_STATUS_LINE {
                        return Some(Outcome::fail("http bad answer"));
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return None,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Some(Outcome::fail(format!("http read: {}", errno_text(&e)))),
            }
        }
    }
}

/// The verdict of a complete status line (`HTTP/1.x NNN ...`): 2xx/3xx pass.
fn status_outcome(response: &[u8]) -> Option<Outcome> {
    let end = response.iter().position(|&b| b == b'\n')?;
    let line = String::from_utf8_lossy(&response[..end]);
    let mut words = line.split_whitespace();
    let code = match (words.next(), words.next()) {
        (Some(v), Some(c)) if v.starts_with("HTTP/") => c.parse::<u16>().ok(),
        _ => None,
    };
    Some(match code {
        // The usual answer's reason without an allocation per check.
        Some(200) => Outcome::pass("http 200"),
        Some(c @ 200..=399) => Outcome::pass(format!("http {c}")),
        Some(c) => Outcome::fail(format!("http {c}")),
        None => Outcome::fail("http bad answer"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines() {
        let cases: &[(&[u8], Option<Outcome>)] = &[
            (
                b"HTTP/1.1 200 OK\r\n",
                Some(Outcome::Pass("http 200".into())),
            ),
            (
                b"HTTP/1.0 302 Found\r\n",
                Some(Outcome::Pass("http 302".into())),
            ),
            (
                b"HTTP/1.1 503 Busy\r\nX: y",
                Some(Outcome::Fail("http 503".into())),
            ),
            (b"HTTP/1.1 199 x\n", Some(Outcome::fail("http 199"))),
            (b"SSH-2.0-x\r\n", Some(Outcome::fail("http bad answer"))),
            (b"HTTP/1.1 200 OK", None),
        ];
        for (input, want) in cases {
            assert_eq!(&status_outcome(input), want, "{input:?}");
        }
    }
}

//! Running health checks for the loop: http/tcp probes as non-blocking sockets registered in the
//! one mio loop (tokens from `tokens::HEALTH_BASE`), exec probes as children in their own process
//! group with /dev/null as stdio, reaped by the process table's normal reaping. No threads, no
//! DNS (addresses were resolved by the config). The verdicts are the pure `process::health`'s.
//! It also keeps the schedule: every process's next health deadline in one ordered set, so the
//! loop finds the due checks and its poll timeout without visiting every process.

use std::collections::{BTreeSet, HashMap};
use std::fs::File;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::rc::Rc;
use std::time::Instant;

use mio::net::TcpStream;
use mio::{Interest, Registry, Token};

use super::tokens;
use crate::process::health::{Monitor, Outcome};

/// Longest status line read from an http check (the rest of the answer is not read).
const MAX_STATUS_LINE: usize = 1024;

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
    /// The deadline this process has in the schedule (the key to remove when it moves).
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

/// Every health check in flight.
#[derive(Default)]
pub struct HealthChecks {
    /// A clone of the loop's registry, made by the first socket check (a clone is a dup'ed
    /// epoll fd: configs without checks open nothing new).
    registry: Option<Registry>,
    /// Socket checks by token offset; freed offsets are reused.
    sockets: Vec<Option<SocketCheck>>,
    free: Vec<usize>,
    /// Exec checks by pid, until reaped (also after a cancel: the kill is not the reap).
    exec: HashMap<u32, CheckOwner>,
    /// /dev/null for exec checks' stdio, opened on first use.
    null: Option<File>,
    /// Every process's next health deadline, by (deadline, group index, slot index): the
    /// first entry is the loop's next health wake-up. Rebuilt when groups move.
    pub(super) schedule: BTreeSet<(Instant, usize, usize)>,
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
        token.0 >= tokens::HEALTH_BASE && token.0 - tokens::HEALTH_BASE < self.sockets.len()
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
        let index = self.free.pop().unwrap_or(self.sockets.len());
        let token = Token(tokens::HEALTH_BASE + index);
        if self.registry.is_none() {
            let clone = loop_registry
                .try_clone()
                .map_err(|e| Outcome::fail(format!("{proto} watch: {}", errno_text(&e))))?;
            self.registry = Some(clone);
        }
        let Some(registry) = &self.registry else {
            return Err(Outcome::fail(format!("{proto}: no poll registry")));
        };
        if let Err(e) =
            registry.register(&mut stream, token, Interest::READABLE | Interest::WRITABLE)
        {
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
        if index == self.sockets.len() {
            self.sockets.push(Some(check));
        } else {
            self.sockets[index] = Some(check);
        }
        Ok(token)
    }

    /// Readiness of a check's socket: Some when the check is over (the socket is closed).
    pub fn on_event(&mut self, token: Token) -> Option<(CheckOwner, Token, Outcome)> {
        let index = token.0.checked_sub(tokens::HEALTH_BASE)?;
        let check = self.sockets.get_mut(index)?.as_mut()?;
        let outcome = check.advance()?;
        let owner = check.owner;
        self.close(token);
        Some((owner, token, outcome))
    }

    /// Closes a socket check (finished or cancelled).
    pub fn close(&mut self, token: Token) {
        let Some(index) = token.0.checked_sub(tokens::HEALTH_BASE) else {
            return;
        };
        if let Some(mut check) = self.sockets.get_mut(index).and_then(Option::take) {
            if let Some(registry) = &self.registry {
                let _ = registry.deregister(&mut check.stream);
            }
            self.free.push(index);
        }
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

    pub fn add_exec(&mut self, pid: u32, owner: CheckOwner) {
        self.exec.insert(pid, owner);
    }

    /// A reaped pid that was an exec check: its owner (the check may have been cancelled).
    pub fn take_exec(&mut self, pid: u32) -> Option<CheckOwner> {
        self.exec.remove(&pid)
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
                    if response.is_empty() {
                        if let Some(outcome) = status_outcome(&buf[..n]) {
                            return Some(outcome);
                        }
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
            (
                b"SSH-2.0-x\r\n",
                Some(Outcome::fail("http bad answer")),
            ),
            (b"HTTP/1.1 200 OK", None),
        ];
        for (input, want) in cases {
            assert_eq!(&status_outcome(input), want, "{input:?}");
        }
    }
}

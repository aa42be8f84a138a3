//! Running health checks for the loop: http/tcp probes as non-blocking sockets registered in the
//! one mio loop (tokens from `tokens::HEALTH_BASE`), exec probes as children in their own process
//! group with /dev/null as stdio, reaped by the process table's normal reaping. No threads, no
//! DNS (addresses were resolved by the config). The verdicts are the pure `process::health`'s.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::rc::Rc;

use mio::net::TcpStream;
use mio::{Interest, Registry, Token};

use super::tokens;
use crate::process::health::{Monitor, Outcome};

/// Longest status line read from an http check (the rest of the answer is not read).
const MAX_STATUS_LINE: usize = 1024;

/// Which process a check belongs to (names survive group changes; indexes do not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckOwner {
    pub group: Rc<str>,
    pub name: String,
}

/// A process's health: the pure monitor and the check it has in flight.
#[derive(Debug)]
pub struct SlotHealth {
    pub monitor: Monitor,
    pub running: Option<Running>,
    /// `healthcheck_action=restart` stopped the process: start it once it is stopped.
    pub restart_pending: bool,
}

impl SlotHealth {
    pub fn new(name: &str) -> SlotHealth {
        SlotHealth {
            monitor: Monitor::new(name),
            running: None,
            restart_pending: false,
        }
    }
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
        request: Vec<u8>,
        written: usize,
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
        http: Option<(&str, &str)>,
    ) -> Result<Token, Outcome> {
        let proto = if http.is_some() { "http" } else { "tcp" };
        let mut stream = TcpStream::connect(addr)
            .map_err(|e| Outcome::Fail(format!("{proto} connect: {}", errno_text(&e))))?;
        let index = self.free.pop().unwrap_or(self.sockets.len());
        let token = Token(tokens::HEALTH_BASE + index);
        if self.registry.is_none() {
            let clone = loop_registry
                .try_clone()
                .map_err(|e| Outcome::Fail(format!("{proto} watch: {}", errno_text(&e))))?;
            self.registry = Some(clone);
        }
        let Some(registry) = &self.registry else {
            return Err(Outcome::Fail(format!("{proto}: no poll registry")));
        };
        if let Err(e) =
            registry.register(&mut stream, token, Interest::READABLE | Interest::WRITABLE)
        {
            self.free.push(index);
            return Err(Outcome::Fail(format!("{proto} watch: {}", errno_text(&e))));
        }
        let protocol = match http {
            None => Protocol::Tcp,
            Some((host, path)) => Protocol::Http {
                request: format!(
                    "GET {path} HTTP/1.0\r\nHost: {host}\r\nUser-Agent: supervisor-healthcheck\r\nConnection: close\r\n\r\n"
                )
                .into_bytes(),
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
        let owner = check.owner.clone();
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
                .map_err(|e| Outcome::Fail(format!("exec: /dev/null: {}", errno_text(&e))))?;
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
                return Some(Outcome::Fail(format!(
                    "{proto} connect: {}",
                    errno_text(&e)
                )));
            }
            match self.stream.peer_addr() {
                Ok(_) => self.connected = true,
                // Spurious wake-up: still connecting.
                Err(e) if e.kind() == io::ErrorKind::NotConnected => return None,
                Err(e) => {
                    return Some(Outcome::Fail(format!(
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
            return Some(Outcome::Pass("tcp connected".to_string()));
        };
        while *written < request.len() {
            match self.stream.write(&request[*written..]) {
                Ok(n) => *written += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return None,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Some(Outcome::Fail(format!("http send: {}", errno_text(&e)))),
            }
        }
        let mut buf = [0u8; 512];
        loop {
            if let Some(outcome) = status_outcome(response) {
                return Some(outcome);
            }
            if response.len() >= MAX_STATUS_LINE {
                return Some(Outcome::Fail("http bad answer".to_string()));
            }
            match self.stream.read(&mut buf) {
                Ok(0) => return Some(Outcome::Fail("http no answer".to_string())),
                Ok(n) => response.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return None,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Some(Outcome::Fail(format!("http read: {}", errno_text(&e)))),
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
        Some(c @ 200..=399) => Outcome::Pass(format!("http {c}")),
        Some(c) => Outcome::Fail(format!("http {c}")),
        None => Outcome::Fail("http bad answer".to_string()),
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
            (b"HTTP/1.1 199 x\n", Some(Outcome::Fail("http 199".into()))),
            (
                b"SSH-2.0-x\r\n",
                Some(Outcome::Fail("http bad answer".into())),
            ),
            (b"HTTP/1.1 200 OK", None),
        ];
        for (input, want) in cases {
            assert_eq!(&status_outcome(input), want, "{input:?}");
        }
    }
}

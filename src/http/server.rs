//! The HTTP servers inside the daemon's mio loop: listeners and connections keyed by token,
//! reads and writes until WouldBlock, requests handed out and answers taken back by id.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant, SystemTime};

use mio::event::Event;
use mio::{Interest, Registry, Token};

use super::connection::{Accepted, Conn, EofOutcome, TimeoutOutcome};
use super::listener::{self, BindError, UnixSocket};
use super::policy::{self, RequestFacts, ServerPolicy, Verdict};
use super::ratelimit::RateLimit;
use super::request::{Limits, percent_decode};
use super::response::{Response, Version, access_log_date, write_response};
use super::router::{Route, route};
use crate::config::model::{Credentials, InetHttpServerConfig, UnixHttpServerConfig};

/// Identifies one request on one connection; stale ids (connection gone or reused) are ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RequestId {
    slot: usize,
    generation: u64,
}

#[cfg(test)]
impl RequestId {
    pub fn for_tests(slot: usize, generation: u64) -> RequestId {
        RequestId { slot, generation }
    }
}

/// A complete, authorised request for the daemon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub id: RequestId,
    pub route: Route,
    pub method: String,
    /// The request target as sent (%-encoded, with query).
    pub target: String,
    /// The %-decoded path without the query.
    pub path: String,
    /// The raw query string (after `?`), if any.
    pub query: Option<String>,
    pub version: Version,
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
    /// `ip:port` of the client, or `localhost:0` on a unix socket (as the reference logs it).
    pub peer: String,
    /// Section name of the server that received it (`inet_http_server`, `unix_http_server:x`).
    pub server: String,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }
}

enum ListenSocket {
    Tcp(mio::net::TcpListener),
    Unix(UnixSocket),
}

struct Listener {
    socket: ListenSocket,
    section: String,
    credentials: Option<Credentials>,
    policy: ServerPolicy,
}

/// Log lines about one client's failed logins or refused requests: at most one a minute.
const REPORT_INTERVAL: Duration = Duration::from_secs(60);
/// Clients tracked for those reports (beyond it they share one line).
const REPORT_CLIENTS: usize = 1024;

enum Stream {
    Tcp(mio::net::TcpStream),
    Unix(mio::net::UnixStream),
}

impl Stream {
    fn fd(&self) -> i32 {
        match self {
            Stream::Tcp(s) => s.as_raw_fd(),
            Stream::Unix(s) => s.as_raw_fd(),
        }
    }

    fn source(&mut self) -> &mut dyn mio::event::Source {
        match self {
            Stream::Tcp(s) => s,
            Stream::Unix(s) => s,
        }
    }

    fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        // SAFETY: buf is valid for writes of buf.len() bytes.
        let n = unsafe { libc::recv(self.fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
        if n < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(n as usize)
        }
    }

    fn send(&self, buf: &[u8]) -> io::Result<usize> {
        // MSG_NOSIGNAL: a vanished client must be an EPIPE here, never a SIGPIPE for the daemon.
        // SAFETY: buf is valid for reads of buf.len() bytes.
        let n = unsafe {
            libc::send(
                self.fd(),
                buf.as_ptr().cast(),
                buf.len(),
                libc::MSG_NOSIGNAL,
            )
        };
        if n < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(n as usize)
        }
    }

    fn shutdown_write(&self) {
        // SAFETY: plain syscall on our descriptor; failure only means the peer is gone.
        unsafe {
            libc::shutdown(self.fd(), libc::SHUT_WR);
        }
    }
}

struct Client {
    stream: Stream,
    conn: Conn,
    generation: u64,
    listener: usize,
    peer: String,
    /// The client's and our address of a TCP connection (None on a unix socket).
    peer_ip: Option<IpAddr>,
    local_ip: Option<IpAddr>,
    /// Shut down for writing already (draining).
    shut: bool,
    /// The socket reported the peer's EOF or an error (epoll RDHUP/HUP/ERR).
    peer_gone: bool,
}

/// All configured HTTP servers and their clients.
pub struct Server {
    listeners: Vec<Listener>,
    clients: Vec<Option<Client>>,
    limits: Limits,
    base: usize,
    next_generation: u64,
    failed_logins: RateLimit,
    refusals: RateLimit,
}

impl Server {
    /// Opens every configured server (inet first, like the reference). Call before dropping
    /// privileges; the unix socket files are created here.
    pub fn bind(
        unix: &[UnixHttpServerConfig],
        inet: &[InetHttpServerConfig],
        limits: Limits,
    ) -> Result<Server, BindError> {
        let mut listeners = Vec::new();
        let mut unix_paths: Vec<(std::path::PathBuf, u64, u64)> = Vec::new();
        let undo = |paths: &[(std::path::PathBuf, u64, u64)]| {
            for (path, dev, ino) in paths {
                listener::remove_unix_socket(path, *dev, *ino);
            }
        };
        for config in inet {
            match listener::bind_inet(config) {
                Ok(socket) => listeners.push(Listener {
                    socket: ListenSocket::Tcp(socket),
                    section: config.section.clone(),
                    credentials: config.credentials.clone(),
                    policy: ServerPolicy {
                        section: config.section.clone(),
                        inet: true,
                        authenticated: config.credentials.is_some(),
                        protected_mode: config.protected_mode,
                        configured_host: config.host.clone(),
                        allowed_hosts: config.allowed_hosts.clone(),
                    },
                }),
                Err(e) => {
                    undo(&unix_paths);
                    return Err(e);
                }
            }
        }
        for config in unix {
            match listener::bind_unix(config) {
                Ok(socket) => {
                    unix_paths.push((socket.path.clone(), socket.dev, socket.ino));
                    listeners.push(Listener {
                        socket: ListenSocket::Unix(socket),
                        section: config.section.clone(),
                        credentials: config.credentials.clone(),
                        policy: ServerPolicy {
                            section: config.section.clone(),
                            inet: false,
                            authenticated: config.credentials.is_some(),
                            protected_mode: false,
                            configured_host: String::new(),
                            allowed_hosts: Vec::new(),
                        },
                    });
                }
                Err(e) => {
                    undo(&unix_paths);
                    return Err(e);
                }
            }
        }
        Ok(Server {
            listeners,
            clients: Vec::new(),
            limits,
            base: 0,
            next_generation: 1,
            failed_logins: RateLimit::new(REPORT_INTERVAL, REPORT_CLIENTS),
            refusals: RateLimit::new(REPORT_INTERVAL, REPORT_CLIENTS),
        })
    }

    /// How many tokens (from the base given to `register`) the server uses.
    pub fn token_span(&self) -> usize {
        self.listeners.len() + self.limits.max_connections
    }

    /// Section names of servers without authentication (the daemon logs a CRIT for each).
    pub fn unauthenticated_sections(&self) -> Vec<String> {
        self.listeners
            .iter()
            .filter(|l| l.credentials.is_none())
            .map(|l| l.section.clone())
            .collect()
    }

    /// Unauthenticated TCP servers listening beyond loopback: (section, protected_mode). The
    /// daemon logs a CRIT line for each: in protected mode they refuse non-loopback clients.
    pub fn exposed_sections(&self) -> Vec<(String, bool)> {
        self.listeners
            .iter()
            .filter(|l| l.credentials.is_none())
            .filter_map(|l| match &l.socket {
                ListenSocket::Tcp(s) => {
                    let local = s.local_addr().ok()?;
                    let exposed = local.ip().is_unspecified() || !policy::is_loopback(local.ip());
                    exposed.then(|| (l.section.clone(), l.policy.protected_mode))
                }
                ListenSocket::Unix(_) => None,
            })
            .collect()
    }

    /// Registers the listeners; tokens `base .. base + token_span()` then belong to the server.
    pub fn register(&mut self, registry: &Registry, base: usize) -> io::Result<()> {
        self.base = base;
        for (i, l) in self.listeners.iter_mut().enumerate() {
            let token = Token(base + i);
            match &mut l.socket {
                ListenSocket::Tcp(s) => registry.register(s, token, Interest::READABLE)?,
                ListenSocket::Unix(s) => {
                    registry.register(&mut s.listener, token, Interest::READABLE)?
                }
            }
        }
        Ok(())
    }

    pub fn owns(&self, token: Token) -> bool {
        token.0 >= self.base && token.0 < self.base + self.token_span()
    }

    /// Handles readiness on one of our tokens; returns the requests that became complete.
    pub fn handle_event(
        &mut self,
        registry: &Registry,
        event: &Event,
        now: Instant,
    ) -> Vec<Request> {
        let mut out = Vec::new();
        let Some(index) = event.token().0.checked_sub(self.base) else {
            return out;
        };
        if index < self.listeners.len() {
            self.accept_all(registry, index, now, &mut out);
        } else if index - self.listeners.len() < self.clients.len() {
            let slot = index - self.listeners.len();
            // Nothing can reach the peer any more (HUP: a unix socket's peer closed, or both
            // directions are shut; an error such as a reset): whatever it asked is moot.
            if event.is_write_closed() {
                self.close(slot);
                return out;
            }
            // Remembered because the event comes once: a connection that has stopped reading
            // (a full pipeline behind a request the daemon still holds) would not see its EOF.
            if (event.is_read_closed() || event.is_error())
                && let Some(Some(client)) = self.clients.get_mut(slot)
            {
                client.peer_gone = true;
            }
            self.service(slot, now, &mut out);
        }
        out
    }

    /// Answers a request. Returns requests that were pipelined behind it and are now complete;
    /// the daemon must handle them like those from `handle_event`.
    #[must_use]
    pub fn respond(&mut self, id: RequestId, response: Response, now: Instant) -> Vec<Request> {
        let mut out = Vec::new();
        if let Some(client) = self.client_mut(id) {
            client.conn.respond(&response, now, SystemTime::now());
            self.service(id.slot, now, &mut out);
        }
        out
    }

    /// A 200 whose body `render` writes straight into the connection's output buffer (see
    /// `Conn::respond_rendered`: for large bodies such as /metrics).
    #[must_use]
    pub fn respond_rendered(
        &mut self,
        id: RequestId,
        content_type: &str,
        render: impl FnOnce(&mut Vec<u8>),
        now: Instant,
    ) -> Vec<Request> {
        let mut out = Vec::new();
        if let Some(client) = self.client_mut(id) {
            client
                .conn
                .respond_rendered(content_type, render, now, SystemTime::now());
            self.service(id.slot, now, &mut out);
        }
        out
    }

    /// Starts a streaming 200 response (for /logtail, /mainlogtail) with the given headers
    /// (Transfer-Encoding is added for HTTP/1.1). Returns false if the client is gone.
    pub fn start_stream(
        &mut self,
        id: RequestId,
        headers: &[(String, String)],
        now: Instant,
    ) -> bool {
        let Some(client) = self.client_mut(id) else {
            return false;
        };
        if !client.conn.start_stream(200, headers, SystemTime::now()) {
            return false;
        }
        let mut out = Vec::new();
        self.service(id.slot, now, &mut out);
        self.client_mut(id).is_some()
    }

    /// Sends stream bytes (chunked for HTTP/1.1, raw for 1.0). Returns false if the client is
    /// gone or was dropped for not reading; the daemon then forgets the stream.
    pub fn push_chunk(&mut self, id: RequestId, data: &[u8], now: Instant) -> bool {
        let limits = self.limits.clone();
        let Some(client) = self.client_mut(id) else {
            return false;
        };
        if !client.conn.push_chunk(data, &limits) {
            log::debug!("dropping slow HTTP stream client {}", client.peer);
            self.close(id.slot);
            return false;
        }
        let mut out = Vec::new();
        self.service(id.slot, now, &mut out);
        self.client_mut(id).is_some()
    }

    /// Ends a stream (closes its connection), e.g. to make room for a newer one.
    pub fn close_stream(&mut self, id: RequestId) {
        if self.is_open(id) {
            self.close(id.slot);
        }
    }

    /// How many more stream bytes `push_chunk` would take now (None when the client is gone):
    /// the limit less what is still unsent. Lets a producer with more to say wait for room.
    pub fn stream_room(&self, id: RequestId) -> Option<usize> {
        match self.clients.get(id.slot) {
            Some(Some(c)) if c.generation == id.generation => Some(
                self.limits
                    .max_stream_buffer
                    .saturating_sub(c.conn.pending_output().len()),
            ),
            _ => None,
        }
    }

    /// Whether the client of a request (e.g. a stream) is still connected.
    pub fn is_open(&self, id: RequestId) -> bool {
        matches!(self.clients.get(id.slot), Some(Some(c)) if c.generation == id.generation)
    }

    /// The earliest connection deadline (idle, request, stall, drain timeouts).
    pub fn next_deadline(&self) -> Option<Instant> {
        self.clients
            .iter()
            .flatten()
            .filter_map(|c| c.conn.deadline(&self.limits))
            .min()
    }

    /// Applies every deadline that has passed.
    pub fn handle_timeout(&mut self, now: Instant) {
        for slot in 0..self.clients.len() {
            let limits = &self.limits;
            let Some(client) = self.clients[slot].as_mut() else {
                continue;
            };
            if client.conn.deadline(limits).is_none_or(|d| d > now) {
                continue;
            }
            match client.conn.on_timeout(limits, now, SystemTime::now()) {
                TimeoutOutcome::Nothing => {}
                TimeoutOutcome::Close => self.close(slot),
                TimeoutOutcome::RequestTimedOut => {
                    let mut out = Vec::new();
                    self.service(slot, now, &mut out);
                }
            }
        }
    }

    /// Closes every connection and listener and removes the unix socket files we created.
    pub fn shutdown(&mut self, registry: &Registry) {
        for slot in 0..self.clients.len() {
            if let Some(mut client) = self.clients[slot].take() {
                let _ = registry.deregister(client.stream.source());
            }
        }
        for mut l in self.listeners.drain(..) {
            match &mut l.socket {
                ListenSocket::Tcp(s) => {
                    let _ = registry.deregister(s);
                }
                ListenSocket::Unix(s) => {
                    let _ = registry.deregister(&mut s.listener);
                    listener::remove_unix_socket(&s.path, s.dev, s.ino);
                }
            }
        }
    }

    /// Every descriptor the server holds (listeners, then clients), for fd-flag tests.
    #[cfg(test)]
    pub(crate) fn raw_fds(&self) -> Vec<i32> {
        let listeners = self.listeners.iter().map(|l| match &l.socket {
            ListenSocket::Tcp(s) => s.as_raw_fd(),
            ListenSocket::Unix(s) => s.listener.as_raw_fd(),
        });
        let clients = self.clients.iter().flatten().map(|c| c.stream.fd());
        listeners.chain(clients).collect()
    }

    fn client_mut(&mut self, id: RequestId) -> Option<&mut Client> {
        match self.clients.get_mut(id.slot) {
            Some(Some(c)) if c.generation == id.generation => Some(c),
            _ => None,
        }
    }

    fn accept_all(
        &mut self,
        registry: &Registry,
        index: usize,
        now: Instant,
        out: &mut Vec<Request>,
    ) {
        loop {
            let accepted = match &self.listeners[index].socket {
                ListenSocket::Tcp(l) => l.accept().map(|(s, addr)| {
                    let local = s.local_addr().ok().map(|a: SocketAddr| a.ip());
                    (Stream::Tcp(s), addr.to_string(), Some(addr.ip()), local)
                }),
                ListenSocket::Unix(l) => l
                    .listener
                    .accept()
                    .map(|(s, _)| (Stream::Unix(s), "localhost:0".to_string(), None, None)),
            };
            let (mut stream, peer, peer_ip, local_ip) = match accepted {
                Ok(pair) => pair,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    // EMFILE and friends: leave the backlog for later rather than spin.
                    log::warn!("HTTP accept failed: {e}");
                    return;
                }
            };
            // Slots grow on demand (up to max_connections) so an idle daemon holds none.
            let slot = match self.clients.iter().position(Option::is_none) {
                Some(slot) => slot,
                None if self.clients.len() < self.limits.max_connections => {
                    self.clients.push(None);
                    self.clients.len() - 1
                }
                None => {
                    refuse_busy(&stream);
                    continue;
                }
            };
            let token = Token(self.base + self.listeners.len() + slot);
            if let Err(e) = registry.register(
                stream.source(),
                token,
                Interest::READABLE | Interest::WRITABLE,
            ) {
                log::warn!("HTTP connection from {peer} not registered: {e}");
                continue;
            }
            let generation = self.next_generation;
            self.next_generation += 1;
            self.clients[slot] = Some(Client {
                stream,
                conn: Conn::new(now),
                generation,
                listener: index,
                peer,
                peer_ip,
                local_ip,
                shut: false,
                peer_gone: false,
            });
            self.service(slot, now, out);
        }
    }

    /// Reads what the connection can take, parses, answers what we answer ourselves, writes;
    /// repeats until nothing moves. Any I/O error closes only this connection.
    fn service(&mut self, slot: usize, now: Instant, out: &mut Vec<Request>) {
        // 4 KiB (the reference's asyncore read size): `read_input` reads until the socket is
        // empty, so a bigger request only takes more reads, while every stack page this buffer
        // touches stays resident for the daemon's life.
        let mut buf = [0u8; 4 * 1024];
        // A request handed to the daemon in this call is answered right after it returns (or
        // held): an EOF read behind it now must not count as the peer leaving a held request.
        let mut dispatched_here = false;
        loop {
            let Some(client) = self.clients.get_mut(slot).and_then(Option::as_mut) else {
                return;
            };
            let mut progressed = false;
            let reading = !(dispatched_here && client.conn.is_dispatched());
            if reading {
                match read_input(client, &self.limits, &mut buf, now) {
                    Some(read) => progressed |= read,
                    None => {
                        self.close(slot);
                        return;
                    }
                }
            }
            // Not reading (its buffer is full) yet gone: the EOF read above would have closed it.
            if reading
                && client.peer_gone
                && client.conn.read_room(&self.limits) == 0
                && client.conn.closes_on_eof()
            {
                self.close(slot);
                return;
            }
            // Parse and route.
            let listener = &self.listeners[client.listener];
            let wall = SystemTime::now();
            while let Some(accepted) =
                client
                    .conn
                    .advance(&self.limits, listener.credentials.as_ref(), now, wall)
            {
                progressed = true;
                dispatched_here = true;
                let request = make_request(accepted, slot, client, &listener.section);
                let facts = RequestFacts {
                    method: &request.method,
                    route: &request.route,
                    query: request.query.as_deref(),
                    headers: &request.headers,
                    peer: client.peer_ip,
                    local: client.local_ip,
                };
                if let Verdict::Refuse(reason) = policy::check(&listener.policy, &facts) {
                    let key = client_key(client.peer_ip);
                    if let Some((key, n)) = self.refusals.record(&key, now) {
                        log::warn!(
                            "HTTP request from {key} refused ({n} since the last such line): {reason}"
                        );
                    }
                    client
                        .conn
                        .respond(&Response::forbidden(&reason), now, wall);
                    continue;
                }
                match &request.route {
                    Route::Ok => {
                        client
                            .conn
                            .respond(&Response::ok("text/plain", "OK"), now, wall);
                    }
                    Route::Error(status) => {
                        client.conn.respond(&Response::error(*status), now, wall);
                    }
                    _ => out.push(request),
                }
            }
            log_client_notes(client, &mut self.failed_logins, now, wall);
            if !write_output(client, now) {
                self.close(slot);
                return;
            }
            if client.conn.ready_to_shut_down() && !client.shut {
                client.stream.shutdown_write();
                client.shut = true;
                client.conn.start_draining(now);
                progressed = true;
            }
            if client.conn.finished_after_eof() {
                self.close(slot);
                return;
            }
            if !progressed {
                return;
            }
        }
    }

    fn close(&mut self, slot: usize) {
        // Dropping the stream closes the descriptor, which also removes it from epoll.
        if let Some(client) = self.clients.get_mut(slot) {
            client.take();
        }
    }
}

/// Reads what the connection has room for, until it would block. Some(whether anything
/// happened: input or an EOF that leaves requests to answer); None: close it (an error, or an
/// EOF with nothing left to answer).
fn read_input(client: &mut Client, limits: &Limits, buf: &mut [u8], now: Instant) -> Option<bool> {
    let mut progressed = false;
    loop {
        let room = client.conn.read_room(limits).min(buf.len());
        if room == 0 {
            return Some(progressed);
        }
        match client.stream.recv(&mut buf[..room]) {
            Ok(0) => {
                if client.conn.on_eof() == EofOutcome::Close {
                    return None;
                }
                return Some(true);
            }
            Ok(n) => {
                client.conn.on_input(&buf[..n], now);
                progressed = true;
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Some(progressed),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return None,
        }
    }
}

/// Writes the connection's queued output until it would block; false: close it (an error).
fn write_output(client: &mut Client, now: Instant) -> bool {
    while !client.conn.pending_output().is_empty() {
        match client.stream.send(client.conn.pending_output()) {
            Ok(n) => client.conn.wrote(n, now),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return false,
        }
    }
    true
}

/// The log lines a pass over a connection owes: failed logins (rate-limited per client) and
/// the access log.
fn log_client_notes(
    client: &mut Client,
    failed_logins: &mut RateLimit,
    now: Instant,
    wall: SystemTime,
) {
    let failures = client.conn.take_auth_failures();
    if failures > 0 {
        let key = client_key(client.peer_ip);
        for _ in 0..failures {
            if let Some((key, n)) = failed_logins.record(&key, now) {
                log::warn!("HTTP authentication failed for {key} ({n} since the last such line)");
            }
        }
    }
    for entry in client.conn.take_access_entries() {
        log::trace!(
            "{} - - [{}] \"{}\" {} {}",
            client.peer,
            access_log_date(wall),
            entry.request_line,
            entry.status,
            entry.bytes
        );
    }
}

fn make_request(accepted: Accepted, slot: usize, client: &Client, section: &str) -> Request {
    let Accepted { head, body } = accepted;
    let (raw_path, query) = match head.target.split_once('?') {
        Some((p, q)) => (p, Some(q.to_string())),
        None => (head.target.as_str(), None),
    };
    Request {
        id: RequestId {
            slot,
            generation: client.generation,
        },
        route: route(&head.method, &head.target),
        path: percent_decode(raw_path),
        query,
        method: head.method,
        target: head.target.clone(),
        version: head.version,
        headers: head.headers,
        body,
        peer: client.peer.clone(),
        server: section.to_string(),
    }
}

/// The client as the rate-limited log lines name it: its IP address (all ports alike).
fn client_key(ip: Option<IpAddr>) -> String {
    ip.map_or_else(
        || "localhost".to_string(),
        |ip| ip.to_canonical().to_string(),
    )
}

/// Over the connection limit: one best-effort 503, then close. Never waits for the client.
fn refuse_busy(stream: &Stream) {
    let mut bytes = Vec::new();
    write_response(
        &mut bytes,
        Version::Http11,
        &Response::error(503).with_close(),
        false,
        SystemTime::now(),
    );
    let _ = stream.send(&bytes);
}

//! One client connection's protocol state, without I/O: bytes in, parsed requests out,
//! responses and stream chunks into an output buffer, deadlines as data.

use std::time::{Duration, Instant, SystemTime};

use super::auth::{self, AuthOutcome};
use super::request::{Head, HeadParse, Limits, parse_head};
use super::response::{Response, Version, write_chunk, write_head, write_response};
use crate::config::model::Credentials;

/// After an error that ends the connection, input is read and discarded this long so the
/// client sees the response instead of a reset.
const DRAIN_TIME: Duration = Duration::from_secs(2);

#[derive(Debug)]
enum Phase {
    /// Waiting for (more of) a request head.
    Head,
    /// Head accepted; collecting `length` body bytes.
    Body { head: Head, length: usize },
    /// A request is with the daemon; the next one is not parsed until it is answered, which
    /// keeps pipelined responses in request order.
    Dispatched {
        version: Version,
        keep_alive: bool,
        request_line: String,
    },
    /// A streaming response runs until the client goes; further input is discarded.
    Streaming { chunked: bool },
    /// Writing the last response, then close.
    Closing,
    /// Output done and our side shut down; discarding input until EOF or `until`.
    Draining { until: Instant },
}

/// A complete request the connection has accepted (authorised, body read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub head: Head,
    pub body: Vec<u8>,
}

/// A finished response for the access log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessEntry {
    pub request_line: String,
    pub status: u16,
    pub bytes: usize,
}

/// What a timeout did to the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutOutcome {
    Nothing,
    /// A 408 was queued; the connection closes after it.
    RequestTimedOut,
    Close,
}

#[derive(Debug)]
pub struct Conn {
    input: Vec<u8>,
    output: Vec<u8>,
    /// Bytes of `output` already sent.
    sent: usize,
    phase: Phase,
    last_activity: Instant,
    /// When the first byte of the request being received arrived.
    request_started: Option<Instant>,
    last_write_progress: Instant,
    access: Vec<AccessEntry>,
    /// Requests whose credentials were wrong or malformed (not those without any), since the
    /// server last asked: it logs them, rate-limited.
    auth_failures: u32,
    /// The peer shut down its sending side (EOF) while no request was with the daemon: what it
    /// sent in full before is still answered, then the connection closes.
    input_ended: bool,
}

/// What the peer's EOF does to the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EofOutcome {
    /// Close at once: nothing the peer sent is left to answer.
    Close,
    /// Requests received in full are answered first (the connection closes after them).
    AnswerFirst,
}

impl Conn {
    pub fn new(now: Instant) -> Conn {
        Conn {
            input: Vec::new(),
            output: Vec::new(),
            sent: 0,
            phase: Phase::Head,
            last_activity: now,
            request_started: None,
            last_write_progress: now,
            access: Vec::new(),
            auth_failures: 0,
            input_ended: false,
        }
    }

    /// How many more input bytes the connection will take now (0: stop reading until the
    /// state changes). This is what keeps per-connection memory bounded.
    pub fn read_room(&self, limits: &Limits) -> usize {
        if self.input_ended {
            return 0;
        }
        let cap = match &self.phase {
            // One byte past the limit lets the parser see that the limit was broken.
            Phase::Head | Phase::Dispatched { .. } => limits.max_head_bytes + 1,
            Phase::Body { length, .. } => *length,
            Phase::Streaming { .. } | Phase::Draining { .. } => return 64 * 1024,
            Phase::Closing => return 0,
        };
        cap.saturating_sub(self.input.len())
    }

    pub fn on_input(&mut self, data: &[u8], now: Instant) {
        self.last_activity = now;
        if matches!(
            self.phase,
            Phase::Streaming { .. } | Phase::Draining { .. } | Phase::Closing
        ) {
            return;
        }
        if self.request_started.is_none() && matches!(self.phase, Phase::Head) && !data.is_empty() {
            self.request_started = Some(now);
        }
        self.input.extend_from_slice(data);
    }

    /// Whether the connection waits for something other than input (the daemon's answer, or its
    /// last response to be written). When `read_room` is 0 this must hold; otherwise the
    /// connection would never read again and never see its peer's EOF.
    pub fn waits_for_output_or_daemon(&self) -> bool {
        matches!(self.phase, Phase::Dispatched { .. } | Phase::Closing)
    }

    /// Whether the peer's EOF, seen now, means it is gone (close at once, freeing the slot)
    /// rather than a half-close after its last request: a request the daemon has held since an
    /// earlier pass (the reference drops it too), a stream, or draining after our last response.
    /// A connection still writing its last response (`Closing`) flushes it first.
    pub fn closes_on_eof(&self) -> bool {
        !self.input_ended
            && matches!(
                self.phase,
                Phase::Dispatched { .. } | Phase::Streaming { .. } | Phase::Draining { .. }
            )
    }

    /// The peer's EOF (`recv` returned 0). A client that shuts down its write side after
    /// sending (`nc -N`, `shutdown(SHUT_WR)`) still gets the answers to what it sent in full,
    /// like under the reference; nothing more is read.
    pub fn on_eof(&mut self) -> EofOutcome {
        if self.closes_on_eof() {
            return EofOutcome::Close;
        }
        self.input_ended = true;
        EofOutcome::AnswerFirst
    }

    /// After parsing and writing: whether a connection whose peer has ended its input has
    /// nothing left to do (close it now). With output still queued it moves to `Closing`, which
    /// writes it and then ends the connection; while the daemon has a request, it waits.
    pub fn finished_after_eof(&mut self) -> bool {
        if !self.input_ended {
            return false;
        }
        match self.phase {
            // What is left of the input can never complete a request.
            Phase::Head | Phase::Body { .. } => {
                if self.pending_output().is_empty() {
                    return true;
                }
                self.phase = Phase::Closing;
                self.input.clear();
                false
            }
            Phase::Dispatched { .. } | Phase::Closing => false,
            Phase::Streaming { .. } | Phase::Draining { .. } => true,
        }
    }

    /// Parses as far as the input allows. Errors and auth failures are answered here; the
    /// return value is the next request for the caller, if one is complete.
    pub fn advance(
        &mut self,
        limits: &Limits,
        credentials: Option<&Credentials>,
        now: Instant,
        wall: SystemTime,
    ) -> Option<Accepted> {
        loop {
            match &self.phase {
                Phase::Head => {
                    let (head, skipped, len) = match parse_head(&self.input, limits) {
                        HeadParse::Partial => {
                            // Blank lines alone do not start a request.
                            if self.input.iter().all(|b| *b == b'\r' || *b == b'\n') {
                                self.request_started = None;
                            }
                            return None;
                        }
                        HeadParse::Error { error, version } => {
                            self.fail(version, error.status(), None, wall);
                            return None;
                        }
                        HeadParse::Complete { head, skipped, len } => (head, skipped, len),
                    };
                    self.input.drain(..skipped + len);
                    let request_line = head.request_line();
                    if let Some(credentials) = credentials {
                        let outcome = auth::check(credentials, head.header("authorization"));
                        if outcome != AuthOutcome::Allowed && head.header("authorization").is_some()
                        {
                            self.auth_failures = self.auth_failures.saturating_add(1);
                        }
                        match outcome {
                            AuthOutcome::Allowed => {}
                            AuthOutcome::Denied => {
                                self.finish_local(
                                    head.version,
                                    &Response::unauthorized(),
                                    request_line,
                                    false,
                                    wall,
                                );
                                return None;
                            }
                            AuthOutcome::Malformed => {
                                // The body (if any) is unread: close rather than parse it.
                                let response = Response::error(400).with_close();
                                self.finish_local(
                                    head.version,
                                    &response,
                                    request_line,
                                    false,
                                    wall,
                                );
                                return None;
                            }
                        }
                    }
                    if let Some(problem) = head.body_problem(limits) {
                        let response = Response::error(problem.status());
                        let keep = problem.keeps_connection() && head.keep_alive;
                        self.finish_local(head.version, &response, request_line, keep, wall);
                        self.request_started = (keep && !self.input.is_empty()).then_some(now);
                        continue;
                    }
                    let length = head.content_length.unwrap_or(0);
                    if head.expects_continue && self.input.len() < length {
                        self.output
                            .extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
                    }
                    self.phase = Phase::Body { head, length };
                }
                Phase::Body { length, .. } => {
                    let length = *length;
                    if self.input.len() < length {
                        return None;
                    }
                    let body: Vec<u8> = self.input.drain(..length).collect();
                    let Phase::Body { head, .. } = std::mem::replace(&mut self.phase, Phase::Head)
                    else {
                        return None;
                    };
                    self.phase = Phase::Dispatched {
                        version: head.version,
                        keep_alive: head.keep_alive,
                        request_line: head.request_line(),
                    };
                    self.request_started = None;
                    return Some(Accepted { head, body });
                }
                _ => return None,
            }
        }
    }

    /// Answers the dispatched request. Returns false if no request was waiting for an answer.
    pub fn respond(&mut self, response: &Response, now: Instant, wall: SystemTime) -> bool {
        let Some((version, keep_alive, request_line)) = self.dispatched() else {
            return false;
        };
        self.finish_local(version, response, request_line, keep_alive, wall);
        self.time_pipelined(now);
        true
    }

    /// What answering the dispatched request needs: its version, keep-alive and request line.
    fn dispatched(&self) -> Option<(Version, bool, String)> {
        let Phase::Dispatched {
            version,
            keep_alive,
            request_line,
        } = &self.phase
        else {
            return None;
        };
        Some((*version, *keep_alive, request_line.clone()))
    }

    /// After an answer: a request pipelined behind it (already in the input) has been waiting
    /// since now, so the request timeout counts from here.
    fn time_pipelined(&mut self, now: Instant) {
        if matches!(self.phase, Phase::Head) && !self.input.is_empty() {
            self.request_started = Some(now);
        }
    }

    /// `respond` with `Response::ok(content_type, body)` where `render` appends the body straight
    /// to the output buffer, which a kept-alive connection reuses: a large body (a /metrics
    /// scrape, ~1 MB for 1000 programs) is neither built in a fresh allocation (a page fault for
    /// every page, a quarter of the scrape's CPU) nor copied once more. The bytes are the same.
    pub fn respond_rendered(
        &mut self,
        content_type: &str,
        render: impl FnOnce(&mut Vec<u8>),
        now: Instant,
        wall: SystemTime,
    ) -> bool {
        let Some((version, keep_alive, request_line)) = self.dispatched() else {
            return false;
        };
        let start = self.output.len();
        render(&mut self.output);
        let length = self.output.len() - start;
        // The head states the body's length, so it is written after the body and moved in
        // front of it (one memmove of the body within the buffer, no new pages).
        let headers = [
            ("Content-Type".to_string(), content_type.to_string()),
            ("Content-Length".to_string(), length.to_string()),
        ];
        let keep_alive_10 = keep_alive && version == Version::Http10;
        let mut head = Vec::with_capacity(256);
        write_head(&mut head, version, 200, &headers, keep_alive_10, wall);
        let bytes = head.len() + length;
        self.output.splice(start..start, head);
        self.finished(request_line, 200, bytes, keep_alive);
        self.time_pipelined(now);
        true
    }

    /// Starts a never-ending response to the dispatched request: chunked for HTTP/1.1, raw
    /// bytes (and close at the end) for HTTP/1.0. Returns false if no request was waiting.
    pub fn start_stream(
        &mut self,
        status: u16,
        headers: &[(String, String)],
        wall: SystemTime,
    ) -> bool {
        let Some((version, _, request_line)) = self.dispatched() else {
            return false;
        };
        let chunked = version == Version::Http11;
        let mut headers = headers.to_vec();
        if chunked {
            headers.push(("Transfer-Encoding".into(), "chunked".into()));
        }
        let before = self.output.len();
        write_head(&mut self.output, version, status, &headers, false, wall);
        self.access.push(AccessEntry {
            request_line,
            status,
            bytes: self.output.len() - before,
        });
        self.input.clear();
        self.phase = Phase::Streaming { chunked };
        true
    }

    /// Queues stream data. Returns false when the client has fallen too far behind (or there is
    /// no stream): the caller then closes the connection.
    pub fn push_chunk(&mut self, data: &[u8], limits: &Limits) -> bool {
        let Phase::Streaming { chunked } = self.phase else {
            return false;
        };
        if self.pending_output().len() + data.len() > limits.max_stream_buffer {
            return false;
        }
        if chunked {
            write_chunk(&mut self.output, data);
        } else {
            self.output.extend_from_slice(data);
        }
        true
    }

    /// Whether a request is with the daemon, waiting for its answer.
    pub fn is_dispatched(&self) -> bool {
        matches!(self.phase, Phase::Dispatched { .. })
    }

    pub fn pending_output(&self) -> &[u8] {
        &self.output[self.sent..]
    }

    pub fn wrote(&mut self, n: usize, now: Instant) {
        self.sent += n;
        if n > 0 {
            self.last_write_progress = now;
            self.last_activity = now;
        }
        if self.sent == self.output.len() {
            self.output.clear();
            self.sent = 0;
        } else if self.sent > 64 * 1024 && self.sent * 2 > self.output.len() {
            self.output.drain(..self.sent);
            self.sent = 0;
        }
    }

    /// True once everything queued is written and the connection should be shut down for
    /// writing (then drained).
    pub fn ready_to_shut_down(&self) -> bool {
        matches!(self.phase, Phase::Closing) && self.pending_output().is_empty()
    }

    pub fn start_draining(&mut self, now: Instant) {
        self.phase = Phase::Draining {
            until: now + DRAIN_TIME,
        };
    }

    pub fn take_auth_failures(&mut self) -> u32 {
        std::mem::take(&mut self.auth_failures)
    }

    pub fn take_access_entries(&mut self) -> Vec<AccessEntry> {
        std::mem::take(&mut self.access)
    }

    /// The earliest time at which `on_timeout` has something to do.
    pub fn deadline(&self, limits: &Limits) -> Option<Instant> {
        let stall = (!self.pending_output().is_empty())
            .then(|| self.last_write_progress + limits.write_stall_timeout);
        let phase_deadline = match &self.phase {
            Phase::Head => Some(match self.request_started {
                Some(started) => started + limits.request_timeout,
                None => self.last_activity + limits.idle_timeout,
            }),
            Phase::Body { .. } => self
                .request_started
                .map(|started| started + limits.request_timeout),
            Phase::Dispatched { .. } | Phase::Streaming { .. } | Phase::Closing => None,
            Phase::Draining { until } => Some(*until),
        };
        match (stall, phase_deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    pub fn on_timeout(
        &mut self,
        limits: &Limits,
        now: Instant,
        wall: SystemTime,
    ) -> TimeoutOutcome {
        if !self.pending_output().is_empty()
            && now >= self.last_write_progress + limits.write_stall_timeout
        {
            return TimeoutOutcome::Close;
        }
        match &self.phase {
            Phase::Head | Phase::Body { .. } => {
                if let Some(started) = self.request_started {
                    if now >= started + limits.request_timeout {
                        let version = match &self.phase {
                            Phase::Body { head, .. } => head.version,
                            _ => Version::Http11,
                        };
                        self.fail(version, 408, None, wall);
                        return TimeoutOutcome::RequestTimedOut;
                    }
                } else if matches!(self.phase, Phase::Head)
                    && now >= self.last_activity + limits.idle_timeout
                {
                    return TimeoutOutcome::Close;
                }
                TimeoutOutcome::Nothing
            }
            Phase::Draining { until } if now >= *until => TimeoutOutcome::Close,
            _ => TimeoutOutcome::Nothing,
        }
    }

    /// Queues an error page and ends the connection after it.
    fn fail(
        &mut self,
        version: Version,
        status: u16,
        request_line: Option<String>,
        wall: SystemTime,
    ) {
        let response = Response::error(status).with_close();
        let line = request_line.unwrap_or_default();
        self.finish_local(version, &response, line, false, wall);
        self.input.clear();
        self.request_started = None;
    }

    /// Writes `response` and moves to the next request or to closing.
    fn finish_local(
        &mut self,
        version: Version,
        response: &Response,
        request_line: String,
        keep_alive: bool,
        wall: SystemTime,
    ) {
        let keep = keep_alive && !response.close;
        let keep_alive_10 = keep && version == Version::Http10;
        let bytes = write_response(&mut self.output, version, response, keep_alive_10, wall);
        self.finished(request_line, response.status, bytes, keep);
    }

    /// After a response of `bytes` was queued: its access-log entry, then the next request or
    /// closing.
    fn finished(&mut self, request_line: String, status: u16, bytes: usize, keep: bool) {
        if !request_line.is_empty() {
            self.access.push(AccessEntry {
                request_line,
                status,
                bytes,
            });
        }
        if keep {
            self.phase = Phase::Head;
        } else {
            self.phase = Phase::Closing;
            self.input.clear();
        }
    }
}

#[cfg(test)]
#[path = "connection_tests.rs"]
mod tests;

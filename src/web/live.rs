//! The dashboard's live feed, `GET /events` (text/event-stream): the subscriber list the daemon
//! feeds with the process-state transitions it emits (the same ones that become PROCESS_STATE
//! events), turned into server-rendered rows the page swaps in. Nothing here has a timer: an
//! idle daemon with dashboards open sleeps until a process changes state.

use std::collections::HashMap;
use std::time::Instant;

use crate::events::Event;
use crate::http::{self, RequestId, Response};

/// Most open streams. A new one evicts the oldest instead of being refused: a dashboard that
/// vanished without closing its socket (a laptop lid) must not lock everybody out, and with no
/// keep-alive timer nothing else would notice it before the next state change.
pub const MAX_CLIENTS: usize = 16;

/// How long the browser waits before reconnecting a dropped stream (the `retry:` field, ms).
const RETRY_MS: u32 = 2000;

/// Most bytes one stream may have waiting here for room in the server's buffer (a table is
/// about 1.3 KB per process); a client further behind is dropped and reconnects afresh.
const MAX_BACKLOG: usize = 8 * 1024 * 1024;

/// One open stream and what it has not been handed yet.
struct Client {
    id: RequestId,
    backlog: Vec<u8>,
    /// Bytes of `backlog` already handed to the server.
    handed: usize,
}

impl Client {
    /// Hands the server as much of the backlog as it has room for. False: the client is gone.
    fn flush(&mut self, server: &mut http::Server, now: Instant) -> bool {
        while self.handed < self.backlog.len() {
            let Some(room) = server.stream_room(self.id) else {
                return false;
            };
            let n = room.min(PIECE).min(self.backlog.len() - self.handed);
            if n == 0 {
                // Full: the loop comes back when the socket drains (after_pass).
                return true;
            }
            if !server.push_chunk(self.id, &self.backlog[self.handed..self.handed + n], now) {
                return false;
            }
            self.handed += n;
        }
        self.backlog.clear();
        self.handed = 0;
        true
    }
}

/// The open streams, oldest first, and what the page shows that only the transitions know.
#[derive(Default)]
pub struct Live {
    clients: Vec<Client>,
    /// Starts per process (namespec) since the daemon began, counted from the transitions into
    /// STARTING; the page's "restarts" column is this minus the first start.
    starts: HashMap<String, u32>,
}

/// What the page must learn after a batch of transitions.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Changes {
    /// Processes whose row changed, in the order they first changed.
    pub processes: Vec<String>,
    /// Groups came or went: the whole table is sent again.
    pub table: bool,
}

impl Live {
    /// Counts the starts in `events` and says what the open pages must be sent (nothing when no
    /// page is open: then only the counters move).
    pub fn note(&mut self, events: &[Event]) -> Changes {
        let mut changes = Changes::default();
        for event in events {
            match event {
                Event::ProcessState(change) => {
                    let ns = if change.process == change.group {
                        change.process.clone()
                    } else {
                        format!("{}:{}", change.group, change.process)
                    };
                    if change.to == crate::process::ProcessState::Starting {
                        *self.starts.entry(ns.clone()).or_default() += 1;
                    }
                    if !changes.processes.contains(&ns) {
                        changes.processes.push(ns);
                    }
                }
                Event::GroupAdded(_) | Event::GroupRemoved(_) => changes.table = true,
                _ => {}
            }
        }
        if self.clients.is_empty() {
            return Changes::default();
        }
        changes
    }

    /// Restarts of a process so far (starts after its first).
    pub fn restarts(&self, ns: &str) -> u32 {
        self.starts.get(ns).map_or(0, |n| n.saturating_sub(1))
    }

    /// Answers `GET /events` with a stream whose first event is `first` (the whole table).
    pub fn open(&mut self, server: &mut http::Server, id: RequestId, first: &str, now: Instant) {
        self.clients.retain(|c| server.is_open(c.id));
        if self.clients.len() >= MAX_CLIENTS {
            let oldest = self.clients.remove(0);
            server.close_stream(oldest.id);
        }
        let headers = [
            ("Content-Type", "text/event-stream"),
            ("Cache-Control", "no-cache"),
            ("X-Accel-Buffering", "no"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()));
        if !server.start_stream(id, &headers, now) {
            return;
        }
        let mut hello = format!("retry: {RETRY_MS}\n\n").into_bytes();
        hello.extend_from_slice(&frame("table", first));
        let mut client = Client {
            id,
            backlog: hello,
            handed: 0,
        };
        if client.flush(server, now) {
            self.clients.push(client);
        }
    }

    /// Sends one event to every open stream; a client that fell too far behind (more than
    /// MAX_BACKLOG waiting here) is closed and forgotten.
    pub fn send(&mut self, server: &mut http::Server, event: &str, data: &str, now: Instant) {
        let bytes = frame(event, data);
        self.clients.retain_mut(|c| {
            if c.backlog.len() - c.handed + bytes.len() > MAX_BACKLOG {
                server.close_stream(c.id);
                return false;
            }
            c.backlog.extend_from_slice(&bytes);
            c.flush(server, now)
        });
    }

    /// Once per loop pass: streams with a backlog take what their sockets made room for.
    pub fn poll(&mut self, server: &mut http::Server, now: Instant) {
        self.clients
            .retain_mut(|c| c.backlog.is_empty() || c.flush(server, now));
    }

    pub fn shutdown(&mut self) {
        self.clients.clear();
    }
}

/// Most bytes handed to the server at once (one HTTP chunk): a large event (the table of a
/// thousand processes) goes out as the socket takes it, never more than the server's
/// per-stream limit queued there; the rest waits in the client's backlog.
const PIECE: usize = 64 * 1024;

/// One server-sent event. `data` is split at newlines (each line its own `data:` field, which
/// the browser joins again), so no text can end the event early or inject a field.
pub fn frame(event: &str, data: &str) -> Vec<u8> {
    let mut out = format!("event: {event}\n");
    for line in data.split('\n') {
        out.push_str("data: ");
        out.push_str(line.strip_suffix('\r').unwrap_or(line));
        out.push('\n');
    }
    out.push('\n');
    out.into_bytes()
}

/// A stream request the server could not take (not a GET).
pub fn refuse() -> Response {
    Response::error(405)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::ProcessStateChange;
    use crate::process::ProcessState;

    fn change(group: &str, process: &str, to: ProcessState) -> Event {
        Event::ProcessState(ProcessStateChange {
            process: process.into(),
            group: group.into(),
            from: ProcessState::Stopped,
            to,
            pid: 0,
            tries: 0,
            expected: false,
        })
    }

    #[test]
    fn frames_cannot_be_broken_by_newlines() {
        assert_eq!(
            frame("row", "a\nb\r\nc"),
            b"event: row\ndata: a\ndata: b\ndata: c\n\n"
        );
        assert_eq!(frame("table", ""), b"event: table\ndata: \n\n");
    }

    #[test]
    fn starts_are_counted_without_pages_and_changes_only_reported_to_pages() {
        let mut live = Live::default();
        let events = [
            change("web", "web", ProcessState::Starting),
            change("web", "web", ProcessState::Running),
            change("pool", "w1", ProcessState::Starting),
            change("web", "web", ProcessState::Starting),
            Event::GroupAdded("x".into()),
        ];
        assert_eq!(live.note(&events), Changes::default());
        assert_eq!(live.restarts("web"), 1);
        assert_eq!(live.restarts("pool:w1"), 0);
        assert_eq!(live.restarts("nope"), 0);
        live.clients.push(Client {
            id: fake_id(),
            backlog: Vec::new(),
            handed: 0,
        });
        let changes = live.note(&events);
        assert_eq!(changes.processes, ["web", "pool:w1"]);
        assert!(changes.table);
        assert_eq!(live.restarts("web"), 3);
    }

    fn fake_id() -> RequestId {
        RequestId::for_tests(0, 1)
    }
}

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

/// The open streams, oldest first, and what the page shows that only the transitions know.
#[derive(Default)]
pub struct Live {
    clients: Vec<RequestId>,
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
        self.clients.retain(|c| server.is_open(*c));
        if self.clients.len() >= MAX_CLIENTS {
            let oldest = self.clients.remove(0);
            server.close_stream(oldest);
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
        if push(server, id, &hello, now) {
            self.clients.push(id);
        }
    }

    /// Sends one event to every open stream; a client that fell too far behind (its unsent
    /// bytes past the server's stream limit) is dropped by the server and forgotten here.
    pub fn send(&mut self, server: &mut http::Server, event: &str, data: &str, now: Instant) {
        let bytes = frame(event, data);
        self.clients.retain(|c| push(server, *c, &bytes, now));
    }

    pub fn shutdown(&mut self) {
        self.clients.clear();
    }
}

/// Pieces a large event (the table of a thousand processes) is handed to the server in: each is
/// written to the socket at once, so only what the client has not taken counts against the
/// server's per-stream limit, not the event's whole size.
const PIECE: usize = 64 * 1024;

fn push(server: &mut http::Server, id: RequestId, bytes: &[u8], now: Instant) -> bool {
    bytes
        .chunks(PIECE)
        .all(|piece| server.push_chunk(id, piece, now))
}

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
        live.clients.push(fake_id());
        let changes = live.note(&events);
        assert_eq!(changes.processes, ["web", "pool:w1"]);
        assert!(changes.table);
        assert_eq!(live.restarts("web"), 3);
    }

    fn fake_id() -> RequestId {
        RequestId::for_tests(0, 1)
    }
}

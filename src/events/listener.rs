//! The event-listener protocol, purely: one listener process's state (ACKNOWLEDGED, READY, BUSY,
//! UNKNOWN) driven by the bytes it writes on stdout (`READY\n`, `RESULT <n>\n<n bytes>`).

use crate::config::model::LogLevel;
use crate::events::pool::BufferedEvent;

const READY_TOKEN: &[u8] = b"READY\n";
const RESULT_PREFIX_LEN: usize = b"RESULT ".len();
/// A result line longer than this (no newline yet) is a protocol violation, not something to
/// buffer without end.
const MAX_RESULT_LINE: usize = 4096;

pub use crate::wire::ListenerState;

/// What the daemon must do after feeding listener output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListenerAction {
    Log(LogLevel, String),
    /// Put this event back at the head of the pool's buffer.
    Rebuffer(BufferedEvent),
}

/// One listener process's protocol state (a new one for every spawn).
#[derive(Debug, Clone)]
pub struct Listener {
    pub name: String,
    pub state: ListenerState,
    /// The event being processed while BUSY.
    pub event: Option<BufferedEvent>,
    pending: Vec<u8>,
    result_len: Option<usize>,
    /// Bytes of the current result read so far; only the first few are kept (`result`),
    /// since the only answer that matters is the two bytes `OK`.
    result_read: usize,
    result: Vec<u8>,
}

/// How much of a result body is kept: enough to tell `OK` from anything longer.
const RESULT_KEPT: usize = 2;
/// The most a listener's output can make the daemon hold between reads.
pub const MAX_BUFFERED: usize = MAX_RESULT_LINE + RESULT_KEPT;

impl Listener {
    pub fn new(name: &str) -> Listener {
        Listener {
            name: name.to_string(),
            state: ListenerState::Acknowledged,
            event: None,
            pending: Vec::new(),
            result_len: None,
            result_read: 0,
            result: Vec::new(),
        }
    }

    /// Can take an event now (the process must also be RUNNING).
    pub fn is_ready(&self) -> bool {
        self.state == ListenerState::Ready
    }

    /// Bytes of its output held back between reads: bounded by MAX_BUFFERED whatever it writes
    /// (checked by the fuzz target).
    pub fn buffered(&self) -> usize {
        self.pending.len() + self.result.len()
    }

    /// The daemon wrote an event's envelope to the listener.
    pub fn sent(&mut self, event: BufferedEvent) -> Vec<ListenerAction> {
        let msg = format!("event {} sent to listener {}", event.serial, self.name);
        self.state = ListenerState::Busy;
        self.event = Some(event);
        vec![ListenerAction::Log(LogLevel::Debug, msg)]
    }

    /// The listener process died: its event (if any) goes back to the pool.
    pub fn died(&mut self) -> Vec<ListenerAction> {
        self.event
            .take()
            .map(ListenerAction::Rebuffer)
            .into_iter()
            .collect()
    }

    /// Bytes the listener wrote on stdout.
    pub fn feed(&mut self, data: &[u8]) -> Vec<ListenerAction> {
        let mut out = Vec::new();
        self.pending.extend_from_slice(data);
        while !self.pending.is_empty() {
            match self.state {
                ListenerState::Unknown => {
                    self.pending.clear();
                }
                ListenerState::Acknowledged => {
                    if self.pending.len() < READY_TOKEN.len() {
                        break;
                    }
                    if self.pending.starts_with(READY_TOKEN) {
                        self.pending.drain(..READY_TOKEN.len());
                        self.change(ListenerState::Ready, &mut out);
                    } else {
                        self.pending.clear();
                        self.change(ListenerState::Unknown, &mut out);
                    }
                    self.event = None;
                }
                ListenerState::Ready => {
                    // Spurious output while waiting for an event breaks the protocol.
                    self.pending.clear();
                    self.event = None;
                    self.change(ListenerState::Unknown, &mut out);
                }
                ListenerState::Busy => {
                    if !self.busy_step(&mut out) {
                        break;
                    }
                }
            }
        }
        out
    }

    /// One step of reading a result; false when more bytes are needed.
    fn busy_step(&mut self, out: &mut Vec<ListenerAction>) -> bool {
        let Some(len) = self.result_len else {
            let Some(pos) = self.pending.iter().position(|&b| b == b'\n') else {
                if self.pending.len() > MAX_RESULT_LINE {
                    let shown = String::from_utf8_lossy(&self.pending[..64]).into_owned();
                    out.push(ListenerAction::Log(
                        LogLevel::Warn,
                        format!("{}: bad result line: '{shown}...'", self.name),
                    ));
                    self.change(ListenerState::Unknown, out);
                    self.pending.clear();
                    out.extend(self.event.take().map(ListenerAction::Rebuffer));
                }
                return false;
            };
            let line: Vec<u8> = self.pending.drain(..=pos).collect();
            let line = &line[..line.len() - 1];
            match result_length(line.get(RESULT_PREFIX_LEN..).unwrap_or(b"")) {
                Some(n) => self.result_len = Some(n),
                None => {
                    let shown = match std::str::from_utf8(line) {
                        Ok(s) => s.to_string(),
                        Err(_) => format!("Undecodable: {}", crate::python::py_bytes_repr(line)),
                    };
                    out.push(ListenerAction::Log(
                        LogLevel::Warn,
                        format!("{}: bad result line: '{}'", self.name, shown),
                    ));
                    self.change(ListenerState::Unknown, out);
                    self.pending.clear();
                    out.extend(self.event.take().map(ListenerAction::Rebuffer));
                    return false;
                }
            }
            return true;
        };
        // A listener may announce any length (`RESULT 99999999999`): count the body, keep only
        // its head, so memory stays bounded however much it writes.
        let take = (len - self.result_read).min(self.pending.len());
        let keep = take.min(RESULT_KEPT.saturating_sub(self.result.len()));
        self.result.extend_from_slice(&self.pending[..keep]);
        self.pending.drain(..take);
        self.result_read += take;
        if self.result_read < len {
            return false;
        }
        let is_ok = len == 2 && self.result == b"OK";
        self.result.clear();
        self.result_read = 0;
        self.result_len = None;
        if is_ok {
            out.push(ListenerAction::Log(
                LogLevel::Debug,
                format!("{}: event was processed", self.name),
            ));
            self.change(ListenerState::Acknowledged, out);
            self.event = None;
        } else {
            out.push(ListenerAction::Log(
                LogLevel::Warn,
                format!("{}: event was rejected", self.name),
            ));
            self.change(ListenerState::Acknowledged, out);
            out.extend(self.event.take().map(ListenerAction::Rebuffer));
        }
        true
    }

    fn change(&mut self, to: ListenerState, out: &mut Vec<ListenerAction>) {
        out.push(ListenerAction::Log(
            LogLevel::Debug,
            format!("{}: {} -> {}", self.name, self.state.name(), to.name()),
        ));
        self.state = to;
        if to == ListenerState::Unknown {
            out.push(ListenerAction::Log(
                LogLevel::Warn,
                format!(
                    "{}: has entered the UNKNOWN state and will no longer receive events, this usually indicates the process violated the eventlistener protocol",
                    self.name
                ),
            ));
        }
    }
}

/// The length in a result line, read as Python's `int()` reads bytes: surrounding ASCII
/// whitespace, an optional sign, digits with single underscores between them. A negative length
/// is refused (the reference would wait for it forever, see docs/differences.md).
fn result_length(text: &[u8]) -> Option<usize> {
    // `-0` parses as 0; any other negative fails the conversion.
    usize::try_from(crate::python::int_bytes(text)?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::Event;

    fn event(serial: u64) -> BufferedEvent {
        BufferedEvent {
            serial,
            pool_serial: serial,
            event: Event::SupervisorRunning,
        }
    }

    fn logs(actions: &[ListenerAction]) -> Vec<String> {
        actions
            .iter()
            .filter_map(|a| match a {
                ListenerAction::Log(l, m) => Some(format!("{l:?} {m}")),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn ready_ok_ready_cycle_even_split_across_reads() {
        let mut l = Listener::new("lst");
        assert!(l.feed(b"REA").is_empty());
        assert_eq!(
            logs(&l.feed(b"DY\n")),
            vec!["Debug lst: ACKNOWLEDGED -> READY"]
        );
        assert!(l.is_ready());
        assert_eq!(
            logs(&l.sent(event(8))),
            vec!["Debug event 8 sent to listener lst"]
        );
        assert_eq!(l.state, ListenerState::Busy);
        assert!(l.feed(b"RESULT 2\nO").is_empty());
        let a = l.feed(b"KREADY\n");
        assert_eq!(
            logs(&a),
            vec![
                "Debug lst: event was processed",
                "Debug lst: BUSY -> ACKNOWLEDGED",
                "Debug lst: ACKNOWLEDGED -> READY"
            ]
        );
        assert!(l.is_ready());
        assert!(l.event.is_none());
    }

    #[test]
    fn rejected_and_bad_results_rebuffer_the_event() {
        let mut l = Listener::new("lst");
        l.feed(b"READY\n");
        l.sent(event(3));
        let a = l.feed(b"RESULT 4\nFAIL");
        assert!(a.contains(&ListenerAction::Rebuffer(event(3))));
        assert!(logs(&a).contains(&"Warn lst: event was rejected".to_string()));
        assert_eq!(l.state, ListenerState::Acknowledged);

        l.feed(b"READY\n");
        l.sent(event(4));
        let a = l.feed(b"RESULT x\n");
        assert!(a.contains(&ListenerAction::Rebuffer(event(4))));
        assert!(logs(&a).contains(&"Warn lst: bad result line: 'RESULT x'".to_string()));
        assert_eq!(l.state, ListenerState::Unknown);
        assert!(l.feed(b"READY\n").is_empty(), "UNKNOWN is terminal");
    }

    #[test]
    fn result_lengths_read_like_python_int() {
        let cases: &[(&[u8], Option<usize>)] = &[
            (b"2", Some(2)),
            (b" 2 ", Some(2)),
            (b"2\r", Some(2)),
            (b"+2", Some(2)),
            (b"0002", Some(2)),
            (b"1_0", Some(10)),
            (b"-0", Some(0)),
            (b"-1", None),
            (b"1__0", None),
            (b"_1", None),
            (b"1_", None),
            (b"", None),
            (b"+", None),
            (b"2x", None),
            (b"\xff", None),
        ];
        for (text, want) in cases {
            assert_eq!(
                result_length(text),
                *want,
                "{:?}",
                String::from_utf8_lossy(text)
            );
        }
    }

    #[test]
    fn protocol_violations_enter_unknown() {
        let mut l = Listener::new("lst");
        let a = l.feed(b"HELLO!\n");
        assert_eq!(l.state, ListenerState::Unknown);
        assert!(logs(&a)[1].starts_with("Warn lst: has entered the UNKNOWN state"));
        let mut l = Listener::new("lst");
        l.feed(b"READY\n");
        l.feed(b"x");
        assert_eq!(l.state, ListenerState::Unknown);
    }

    #[test]
    fn an_endless_result_line_is_a_violation() {
        let mut l = Listener::new("lst");
        l.feed(b"READY\n");
        l.sent(event(5));
        let a = l.feed(&vec![b'x'; MAX_RESULT_LINE + 1]);
        assert!(a.contains(&ListenerAction::Rebuffer(event(5))));
        assert_eq!(l.state, ListenerState::Unknown);
    }

    #[test]
    fn a_huge_result_length_is_counted_not_buffered() {
        let mut l = Listener::new("lst");
        l.feed(b"READY\n");
        l.sent(event(6));
        let n = 3 * 1024 * 1024;
        assert!(l.feed(format!("RESULT {n}\n").as_bytes()).is_empty());
        let chunk = vec![b'y'; 64 * 1024];
        for _ in 0..(n / chunk.len()) - 1 {
            assert!(l.feed(&chunk).is_empty());
            assert!(l.buffered() <= RESULT_KEPT);
        }
        let a = l.feed(&chunk);
        assert!(a.contains(&ListenerAction::Rebuffer(event(6))));
        assert!(logs(&a).contains(&"Warn lst: event was rejected".to_string()));
        assert_eq!(l.state, ListenerState::Acknowledged);
        // The next result is read from scratch.
        l.feed(b"READY\n");
        l.sent(event(7));
        let a = l.feed(b"RESULT 2\nOK");
        assert!(logs(&a).contains(&"Debug lst: event was processed".to_string()));
        assert!(!a.iter().any(|x| matches!(x, ListenerAction::Rebuffer(_))));
    }

    #[test]
    fn death_while_busy_returns_the_event() {
        let mut l = Listener::new("lst");
        l.feed(b"READY\n");
        l.sent(event(9));
        assert_eq!(l.died(), vec![ListenerAction::Rebuffer(event(9))]);
        assert!(l.died().is_empty());
    }
}

//! Event types (names, the subtype hierarchy) and event payloads, as the reference's `events.py`
//! defines them. Pure: producing an event never does I/O; delivery to listeners lives elsewhere.

pub mod listener;
pub mod pool;

use crate::wire::ProcessState;

/// Every event type name, abstract ones included (those can be subscribed to, never emitted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    Event,
    ProcessState,
    ProcessStateStopped,
    ProcessStateExited,
    ProcessStateStarting,
    ProcessStateStopping,
    ProcessStateBackoff,
    ProcessStateFatal,
    ProcessStateRunning,
    ProcessStateUnknown,
    ProcessCommunication,
    ProcessCommunicationStdout,
    ProcessCommunicationStderr,
    ProcessLog,
    ProcessLogStdout,
    ProcessLogStderr,
    RemoteCommunication,
    SupervisorStateChange,
    SupervisorStateChangeRunning,
    SupervisorStateChangeStopping,
    Tick,
    Tick5,
    Tick60,
    Tick3600,
    ProcessGroup,
    ProcessGroupAdded,
    ProcessGroupRemoved,
}

use EventType as T;

/// (type, name, parent) in the reference's declaration order.
const TYPES: &[(EventType, &str, Option<EventType>)] = &[
    (T::Event, "EVENT", None),
    (T::ProcessState, "PROCESS_STATE", Some(T::Event)),
    (
        T::ProcessStateStopped,
        "PROCESS_STATE_STOPPED",
        Some(T::ProcessState),
    ),
    (
        T::ProcessStateExited,
        "PROCESS_STATE_EXITED",
        Some(T::ProcessState),
    ),
    (
        T::ProcessStateStarting,
        "PROCESS_STATE_STARTING",
        Some(T::ProcessState),
    ),
    (
        T::ProcessStateStopping,
        "PROCESS_STATE_STOPPING",
        Some(T::ProcessState),
    ),
    (
        T::ProcessStateBackoff,
        "PROCESS_STATE_BACKOFF",
        Some(T::ProcessState),
    ),
    (
        T::ProcessStateFatal,
        "PROCESS_STATE_FATAL",
        Some(T::ProcessState),
    ),
    (
        T::ProcessStateRunning,
        "PROCESS_STATE_RUNNING",
        Some(T::ProcessState),
    ),
    (
        T::ProcessStateUnknown,
        "PROCESS_STATE_UNKNOWN",
        Some(T::ProcessState),
    ),
    (
        T::ProcessCommunication,
        "PROCESS_COMMUNICATION",
        Some(T::Event),
    ),
    (
        T::ProcessCommunicationStdout,
        "PROCESS_COMMUNICATION_STDOUT",
        Some(T::ProcessCommunication),
    ),
    (
        T::ProcessCommunicationStderr,
        "PROCESS_COMMUNICATION_STDERR",
        Some(T::ProcessCommunication),
    ),
    (T::ProcessLog, "PROCESS_LOG", Some(T::Event)),
    (
        T::ProcessLogStdout,
        "PROCESS_LOG_STDOUT",
        Some(T::ProcessLog),
    ),
    (
        T::ProcessLogStderr,
        "PROCESS_LOG_STDERR",
        Some(T::ProcessLog),
    ),
    (
        T::RemoteCommunication,
        "REMOTE_COMMUNICATION",
        Some(T::Event),
    ),
    (
        T::SupervisorStateChange,
        "SUPERVISOR_STATE_CHANGE",
        Some(T::Event),
    ),
    (
        T::SupervisorStateChangeRunning,
        "SUPERVISOR_STATE_CHANGE_RUNNING",
        Some(T::SupervisorStateChange),
    ),
    (
        T::SupervisorStateChangeStopping,
        "SUPERVISOR_STATE_CHANGE_STOPPING",
        Some(T::SupervisorStateChange),
    ),
    (T::Tick, "TICK", Some(T::Event)),
    (T::Tick5, "TICK_5", Some(T::Tick)),
    (T::Tick60, "TICK_60", Some(T::Tick)),
    (T::Tick3600, "TICK_3600", Some(T::Tick)),
    (T::ProcessGroup, "PROCESS_GROUP", Some(T::Event)),
    (
        T::ProcessGroupAdded,
        "PROCESS_GROUP_ADDED",
        Some(T::ProcessGroup),
    ),
    (
        T::ProcessGroupRemoved,
        "PROCESS_GROUP_REMOVED",
        Some(T::ProcessGroup),
    ),
];

impl EventType {
    fn entry(self) -> &'static (EventType, &'static str, Option<EventType>) {
        // Every variant has exactly one row; the fallback is never taken.
        TYPES
            .iter()
            .find(|(t, _, _)| *t == self)
            .unwrap_or(&TYPES[0])
    }

    pub fn name(self) -> &'static str {
        self.entry().1
    }

    pub fn parent(self) -> Option<EventType> {
        self.entry().2
    }

    /// Case-insensitive lookup of a name from `events=`.
    pub fn from_name(name: &str) -> Option<EventType> {
        let upper = name.trim().to_ascii_uppercase();
        TYPES
            .iter()
            .find(|(_, n, _)| *n == upper)
            .map(|(t, _, _)| *t)
    }

    /// Whether an event of this type is delivered to a subscriber of `ancestor`.
    pub fn is_a(self, ancestor: EventType) -> bool {
        let mut current = Some(self);
        while let Some(t) = current {
            if t == ancestor {
                return true;
            }
            current = t.parent();
        }
        false
    }

    /// The concrete event type announcing that a process entered `state`.
    pub fn for_process_state(state: ProcessState) -> EventType {
        match state {
            ProcessState::Stopped => T::ProcessStateStopped,
            ProcessState::Starting => T::ProcessStateStarting,
            ProcessState::Running => T::ProcessStateRunning,
            ProcessState::Backoff => T::ProcessStateBackoff,
            ProcessState::Stopping => T::ProcessStateStopping,
            ProcessState::Exited => T::ProcessStateExited,
            ProcessState::Fatal => T::ProcessStateFatal,
            ProcessState::Unknown => T::ProcessStateUnknown,
        }
    }
}

/// A process state change, with the values captured at the moment of the change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessStateChange {
    pub process: String,
    pub group: String,
    pub from: ProcessState,
    pub to: ProcessState,
    /// The pid at the time of the change (the old pid for STOPPED/EXITED).
    pub pid: u32,
    /// Failed start attempts so far (STARTING/BACKOFF payloads).
    pub tries: u32,
    /// Whether an exit was expected (EXITED payload).
    pub expected: bool,
}

/// One event as emitted by the daemon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    ProcessState(ProcessStateChange),
    SupervisorRunning,
    SupervisorStopping,
    GroupAdded(String),
    GroupRemoved(String),
    Tick {
        kind: EventType,
        when: u64,
    },
    RemoteCommunication {
        kind: String,
        data: String,
    },
    ProcessLog {
        stderr: bool,
        process: String,
        group: String,
        pid: u32,
        data: String,
    },
    ProcessCommunication {
        stderr: bool,
        process: String,
        group: String,
        pid: u32,
        data: String,
    },
}

impl Event {
    pub fn event_type(&self) -> EventType {
        match self {
            Event::ProcessState(c) => EventType::for_process_state(c.to),
            Event::SupervisorRunning => T::SupervisorStateChangeRunning,
            Event::SupervisorStopping => T::SupervisorStateChangeStopping,
            Event::GroupAdded(_) => T::ProcessGroupAdded,
            Event::GroupRemoved(_) => T::ProcessGroupRemoved,
            Event::Tick { kind, .. } => *kind,
            Event::RemoteCommunication { .. } => T::RemoteCommunication,
            Event::ProcessLog { stderr: false, .. } => T::ProcessLogStdout,
            Event::ProcessLog { stderr: true, .. } => T::ProcessLogStderr,
            Event::ProcessCommunication { stderr: false, .. } => T::ProcessCommunicationStdout,
            Event::ProcessCommunication { stderr: true, .. } => T::ProcessCommunicationStderr,
        }
    }

    /// The payload exactly as the reference renders it (events.md §1).
    pub fn payload(&self) -> String {
        match self {
            Event::ProcessState(c) => {
                let mut s = format!(
                    "processname:{} groupname:{} from_state:{}",
                    c.process,
                    c.group,
                    c.from.name()
                );
                match c.to {
                    ProcessState::Starting | ProcessState::Backoff => {
                        s.push_str(&format!(" tries:{}", c.tries))
                    }
                    ProcessState::Exited => {
                        s.push_str(&format!(" expected:{} pid:{}", c.expected as u8, c.pid))
                    }
                    ProcessState::Running | ProcessState::Stopping | ProcessState::Stopped => {
                        s.push_str(&format!(" pid:{}", c.pid))
                    }
                    ProcessState::Fatal | ProcessState::Unknown => {}
                }
                s
            }
            Event::SupervisorRunning | Event::SupervisorStopping => String::new(),
            Event::GroupAdded(g) | Event::GroupRemoved(g) => format!("groupname:{g}\n"),
            Event::Tick { when, .. } => format!("when:{when}"),
            Event::RemoteCommunication { kind, data } => format!("type:{kind}\n{data}"),
            Event::ProcessLog {
                stderr,
                process,
                group,
                pid,
                data,
            } => {
                let channel = if *stderr { "stderr" } else { "stdout" };
                format!(
                    "processname:{process} groupname:{group} pid:{pid} channel:{channel}\n{data}"
                )
            }
            Event::ProcessCommunication {
                process,
                group,
                pid,
                data,
                ..
            } => {
                format!("processname:{process} groupname:{group} pid:{pid}\n{data}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(from: ProcessState, to: ProcessState) -> Event {
        Event::ProcessState(ProcessStateChange {
            process: "cat".into(),
            group: "grp".into(),
            from,
            to,
            pid: 42,
            tries: 2,
            expected: false,
        })
    }

    #[test]
    fn process_state_payloads() {
        use ProcessState as S;
        let cases = [
            (
                S::Stopped,
                S::Starting,
                "processname:cat groupname:grp from_state:STOPPED tries:2",
            ),
            (
                S::Starting,
                S::Backoff,
                "processname:cat groupname:grp from_state:STARTING tries:2",
            ),
            (
                S::Starting,
                S::Running,
                "processname:cat groupname:grp from_state:STARTING pid:42",
            ),
            (
                S::Running,
                S::Exited,
                "processname:cat groupname:grp from_state:RUNNING expected:0 pid:42",
            ),
            (
                S::Running,
                S::Stopping,
                "processname:cat groupname:grp from_state:RUNNING pid:42",
            ),
            (
                S::Stopping,
                S::Stopped,
                "processname:cat groupname:grp from_state:STOPPING pid:42",
            ),
            (
                S::Backoff,
                S::Fatal,
                "processname:cat groupname:grp from_state:BACKOFF",
            ),
            (
                S::Running,
                S::Unknown,
                "processname:cat groupname:grp from_state:RUNNING",
            ),
        ];
        for (from, to, want) in cases {
            let e = change(from, to);
            assert_eq!(e.payload(), want);
            assert_eq!(e.event_type(), EventType::for_process_state(to));
            assert_eq!(
                e.event_type().name(),
                format!("PROCESS_STATE_{}", to.name())
            );
        }
    }

    #[test]
    fn other_payloads() {
        assert_eq!(Event::GroupAdded("g".into()).payload(), "groupname:g\n");
        assert_eq!(Event::GroupRemoved("g".into()).payload(), "groupname:g\n");
        assert_eq!(Event::SupervisorRunning.payload(), "");
        assert_eq!(
            Event::Tick {
                kind: T::Tick5,
                when: 1795460760
            }
            .payload(),
            "when:1795460760"
        );
        let log = Event::ProcessLog {
            stderr: true,
            process: "p".into(),
            group: "g".into(),
            pid: 7,
            data: "hi\n".into(),
        };
        assert_eq!(
            log.payload(),
            "processname:p groupname:g pid:7 channel:stderr\nhi\n"
        );
        assert_eq!(log.event_type().name(), "PROCESS_LOG_STDERR");
    }

    #[test]
    fn hierarchy_and_names() {
        assert!(T::ProcessStateExited.is_a(T::ProcessState));
        assert!(T::ProcessStateExited.is_a(T::Event));
        assert!(!T::ProcessStateExited.is_a(T::Tick));
        assert!(T::Tick60.is_a(T::Tick));
        assert!(T::ProcessGroupAdded.is_a(T::ProcessGroup));
        assert_eq!(EventType::from_name("tick_5"), Some(T::Tick5));
        assert_eq!(EventType::from_name("PROCESS_STATE"), Some(T::ProcessState));
        assert_eq!(EventType::from_name("FOO"), None);
        for (t, name, _) in TYPES {
            assert_eq!(t.name(), *name);
            assert_eq!(EventType::from_name(name), Some(*t));
        }
    }
}

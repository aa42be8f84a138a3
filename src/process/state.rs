//! Process states with the reference's names and codes, and the state sets the RPC layer and
//! shutdown logic test against.

use std::fmt;

/// A supervised process's state; the discriminant is the reference's numeric code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProcessState {
    Stopped = 0,
    Starting = 10,
    Running = 20,
    Backoff = 30,
    Stopping = 40,
    Exited = 100,
    Fatal = 200,
    Unknown = 1000,
}

impl ProcessState {
    pub fn code(self) -> i32 {
        self as i32
    }

    /// The upper-case name used in RPC results, events and logs.
    pub fn name(self) -> &'static str {
        match self {
            ProcessState::Stopped => "STOPPED",
            ProcessState::Starting => "STARTING",
            ProcessState::Running => "RUNNING",
            ProcessState::Backoff => "BACKOFF",
            ProcessState::Stopping => "STOPPING",
            ProcessState::Exited => "EXITED",
            ProcessState::Fatal => "FATAL",
            ProcessState::Unknown => "UNKNOWN",
        }
    }

    /// States that shutdown waits for and that `status` reports as not running.
    pub fn is_stopped(self) -> bool {
        matches!(
            self,
            ProcessState::Stopped
                | ProcessState::Exited
                | ProcessState::Fatal
                | ProcessState::Unknown
        )
    }

    /// States `start` treats as already started and `stop` accepts.
    pub fn is_running(self) -> bool {
        matches!(
            self,
            ProcessState::Starting | ProcessState::Running | ProcessState::Backoff
        )
    }

    /// States in which a signal can be sent (there is a live pid).
    pub fn is_signallable(self) -> bool {
        matches!(
            self,
            ProcessState::Starting | ProcessState::Running | ProcessState::Stopping
        )
    }
}

impl fmt::Display for ProcessState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// supervisord's own state (`getState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SupervisorState {
    Running = 1,
    Restarting = 0,
    Shutdown = -1,
}

impl SupervisorState {
    pub fn code(self) -> i32 {
        self as i32
    }

    pub fn name(self) -> &'static str {
        match self {
            SupervisorState::Running => "RUNNING",
            SupervisorState::Restarting => "RESTARTING",
            SupervisorState::Shutdown => "SHUTDOWN",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names_match_the_reference() {
        let table = [
            (ProcessState::Stopped, 0, "STOPPED", true, false),
            (ProcessState::Starting, 10, "STARTING", false, true),
            (ProcessState::Running, 20, "RUNNING", false, true),
            (ProcessState::Backoff, 30, "BACKOFF", false, true),
            (ProcessState::Stopping, 40, "STOPPING", false, false),
            (ProcessState::Exited, 100, "EXITED", true, false),
            (ProcessState::Fatal, 200, "FATAL", true, false),
            (ProcessState::Unknown, 1000, "UNKNOWN", true, false),
        ];
        for (state, code, name, stopped, running) in table {
            assert_eq!(state.code(), code);
            assert_eq!(state.name(), name);
            assert_eq!(state.is_stopped(), stopped, "{name}");
            assert_eq!(state.is_running(), running, "{name}");
        }
    }

    #[test]
    fn supervisor_codes() {
        assert_eq!(SupervisorState::Running.code(), 1);
        assert_eq!(SupervisorState::Restarting.code(), 0);
        assert_eq!(SupervisorState::Shutdown.code(), -1);
    }
}

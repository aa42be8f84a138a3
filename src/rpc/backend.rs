//! The `Backend` trait: what the RPC layer needs from the daemon, as plain data and requests.
//!
//! The RPC layer never touches processes, pipes or the loop itself: it reads snapshots, asks for
//! actions and interprets the results into the reference's return values and faults. The daemon
//! implements this trait over its process table (src/daemon/rpc_backend.rs); tests use a fake.

use std::path::PathBuf;

use crate::config::model::Config;

/// A process's health-check verdict (`healthcheck=`).
pub use crate::process::health::Health;
/// Process and supervisord states with the reference's codes, names and state sets.
pub use crate::process::{ProcessState, SupervisorState};

/// A process by its group and process names (names survive across loop passes; indexes do not).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProcessId {
    pub group: String,
    pub name: String,
}

impl ProcessId {
    pub fn new(group: impl Into<String>, name: impl Into<String>) -> ProcessId {
        ProcessId {
            group: group.into(),
            name: name.into(),
        }
    }

    /// `name` when the process is named like its group, else `group:name` (the reference's
    /// "namespec", used in fault strings of group operations).
    pub fn namespec(&self) -> String {
        if self.group == self.name {
            self.name.clone()
        } else {
            format!("{}:{}", self.group, self.name)
        }
    }
}

/// One process as the RPC layer sees it at this moment.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessSnapshot {
    pub id: ProcessId,
    pub state: ProcessState,
    /// Wall-clock time of the last spawn, seconds since the epoch; 0 if never started.
    pub laststart: f64,
    /// Wall-clock time of the last exit (reap); 0 if never stopped.
    pub laststop: f64,
    /// Last spawn error (empty if none).
    pub spawnerr: String,
    /// Last exit status (0 if none; -1 if killed by a signal).
    pub exitstatus: i64,
    /// 0 when not running.
    pub pid: u32,
    /// Resolved log paths (AUTO already named), None when the channel is not logged to a file.
    pub stdout_logfile: Option<PathBuf>,
    pub stderr_logfile: Option<PathBuf>,
    /// A stop (kill) is in progress: stdin writes are refused like the reference.
    pub killing: bool,
    /// The last exit as a shell reports it: the exit code, or 128+N after signal N; None
    /// before the first exit (for probes and metrics; not part of the reference's API).
    pub exit_code: Option<i32>,
    /// It reached a state it will not leave by itself: EXITED with no restart coming, or
    /// FATAL (what `essential=` and `exit_when_idle=` act on).
    pub settled: bool,
    /// None when the program has no health check; else its verdict since it last entered
    /// RUNNING (`Starting` until the first one, and whenever the process is not RUNNING).
    pub health: Option<Health>,
    /// A start or restart held back by one of our keys (shown as the description).
    pub hold: Hold,
}

/// Why a process waits in a state of the reference's with a description of ours (extensions).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Hold {
    #[default]
    None,
    /// `depends_on=`: a start waits for dependencies (`waiting for db (healthy)`).
    Dependencies(String),
    /// `depends_on=`: a dependency cannot come up by itself (`blocked: db (running) is FATAL`).
    Blocked(String),
    /// `restart_delay=`/`backoff_max=`: an automatic restart is pending (`restarting in 8 s`).
    Restart(String),
}

impl Hold {
    /// The description to show instead of the reference's, if any.
    pub fn text(&self) -> Option<&str> {
        match self {
            Hold::None => None,
            Hold::Dependencies(t) | Hold::Blocked(t) | Hold::Restart(t) => Some(t),
        }
    }
}

#[cfg(test)]
impl ProcessSnapshot {
    /// A process that never ran (no pid, times, errors or logs), for tests.
    pub fn never_started(id: ProcessId, state: ProcessState) -> ProcessSnapshot {
        ProcessSnapshot {
            id,
            state,
            laststart: 0.0,
            laststop: 0.0,
            spawnerr: String::new(),
            exitstatus: 0,
            pid: 0,
            stdout_logfile: None,
            stderr_logfile: None,
            killing: false,
            exit_code: None,
            settled: false,
            health: None,
            hold: Hold::None,
        }
    }
}

/// One process as the probes and metrics read it: borrowed names, no allocation per process (a
/// scrape of thousands of processes must stay cheaper than `getAllProcessInfo`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProcessStatus<'a> {
    pub group: &'a str,
    pub name: &'a str,
    pub state: ProcessState,
    /// `autostart=` (readiness only waits for these).
    pub autostart: bool,
    /// The last exit's status is in `exitcodes=`.
    pub exit_expected: bool,
    /// After this exit the process is started again by itself (`autorestart=`).
    pub restarts_after_exit: bool,
    /// Wall-clock time of the last spawn, seconds since the epoch; 0 if never started.
    pub start_time: f64,
    /// The last exit status (None before any exit, and while running): the reference's
    /// exitstatus, what readiness judges an EXITED process by.
    pub exitstatus: Option<i32>,
    /// The last exit status kept across spawns (None before the first exit): metrics.
    pub last_exitstatus: Option<i32>,
    /// Spawn attempts since the process was added (the first and every restart).
    pub spawns: u64,
    /// Output bytes captured from the child: stdout, stderr.
    pub log_bytes: [u64; 2],
    /// The health check's verdict where the program has one (None: not checked).
    pub healthy: Option<Health>,
    /// The last spawn error (empty if none).
    pub spawnerr: &'a str,
}

/// An active process group and its processes, in priority order.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupSnapshot {
    pub name: String,
    pub processes: Vec<ProcessSnapshot>,
}

/// Why a command cannot be run (checked before any spawn, like the reference's startProcess).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandProblem {
    /// `can't find command '<x>'` → NO_FILE.
    NotFound(String),
    /// Not executable, a directory, no permission, unparsable or empty → NOT_EXECUTABLE.
    NotExecutable(String),
}

/// Result of re-reading the configuration: group names, each list sorted as the daemon diffs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigDiff {
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub removed: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddGroupError {
    /// No group of that name in the loaded configuration → BAD_NAME.
    NotInConfig,
    /// The group is already active → ALREADY_ADDED.
    AlreadyActive,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoveGroupError {
    /// No active group of that name → BAD_NAME.
    NotActive,
    /// A process of the group is not in the stopped set → STILL_RUNNING.
    StillRunning,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClearLogError {
    /// No log file configured or it does not exist → NO_FILE.
    NoFile,
    /// Removing or reopening failed → FAILED.
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StdinError {
    /// The child's stdin pipe is closed (EPIPE) → NO_FILE.
    Closed,
    /// Any other write error → FAILED with this message.
    Failed(String),
}

/// Everything the XML-RPC methods read from or ask of the daemon.
///
/// Requests return as soon as the action is initiated; waiting (wait=true) is done by the RPC
/// layer re-reading snapshots on each `rpc::poll`, so nothing here may block.
pub trait Backend {
    // --- supervisord itself ---
    fn supervisor_state(&self) -> SupervisorState;
    /// `identifier=` of `[supervisord]`.
    fn identification(&self) -> String;
    fn supervisor_pid(&self) -> u32;
    /// Namespaces under which the main interface (`supervisor.*`) is published: the names of
    /// `[rpcinterface:x]` sections using the standard factory (normally just `supervisor`).
    fn rpc_namespaces(&self) -> Vec<String> {
        vec!["supervisor".to_string()]
    }
    /// The main log file, if any.
    fn main_log_path(&self) -> Option<PathBuf>;
    /// Deletes the main log and reopens it (logging `reopening log file` at INFO).
    fn clear_main_log(&mut self) -> Result<(), ClearLogError>;
    /// Sets the mood to SHUTDOWN; returns at once.
    fn request_shutdown(&mut self);
    /// Sets the mood to RESTARTING; returns at once.
    fn request_restart(&mut self);

    // --- configuration and groups ---
    /// Re-parses the config file (keeping it as the "loaded" config) and diffs it with the
    /// active groups. Err = the config error text (CANT_REREAD).
    fn reload_config(&mut self) -> Result<ConfigDiff, String>;
    /// The currently loaded configuration (after the last successful reload).
    fn loaded_config(&self) -> &Config;
    fn add_group(&mut self, name: &str) -> Result<(), AddGroupError>;
    fn remove_group(&mut self, name: &str) -> Result<(), RemoveGroupError>;

    // --- process table ---
    /// Active groups, ascending priority (config order for ties), processes in priority order.
    fn groups(&self) -> Vec<GroupSnapshot>;
    fn group(&self, name: &str) -> Option<GroupSnapshot> {
        self.groups().into_iter().find(|g| g.name == name)
    }
    fn process(&self, id: &ProcessId) -> Option<ProcessSnapshot> {
        self.group(&id.group)?
            .processes
            .into_iter()
            .find(|p| p.id.name == id.name)
    }

    /// Every active process as the probes and metrics read it (one allocation for all), groups
    /// in `groups()` order, processes in config order. Default: none (backends without probes).
    fn statuses(&self) -> Vec<ProcessStatus<'_>> {
        Vec::new()
    }

    /// Creates every AUTO child log file start-up has not created yet; called before a request
    /// reads, tails or clears child logs, which must find those files.
    fn create_auto_logs(&mut self) {}

    // --- process requests ---
    /// The pre-spawn command checks (parse, lookup, stat, permissions).
    fn check_command(&self, id: &ProcessId) -> Result<(), CommandProblem>;
    /// Spawns the process, then reaps once (non-blocking) and runs one state transition, so a
    /// spawn error or startsecs=0 shows up in the next snapshot. Errors show up as `spawnerr`.
    fn start_process(&mut self, id: &ProcessId);
    /// Sends the stop signal (or moves BACKOFF to STOPPED), then reaps once.
    /// Err = the kill error message (FAILED).
    fn stop_process(&mut self, id: &ProcessId) -> Result<(), String>;
    /// Called while a stop is awaited: the daemon logs `waiting for <name> to stop` at most
    /// every 2 s while the process is STOPPING.
    fn report_stop_wait(&mut self, _id: &ProcessId) {}
    /// Sends `signal` to the process. Err = the kill error message (FAILED).
    fn signal_process(&mut self, id: &ProcessId, signal: i32) -> Result<(), String>;
    /// Truncates (removes and reopens) the process's stdout and stderr logs.
    fn clear_process_logs(&mut self, id: &ProcessId) -> Result<(), String>;
    /// Queues bytes for the child's stdin.
    fn write_stdin(&mut self, id: &ProcessId, data: &[u8]) -> Result<(), StdinError>;
    /// Emits REMOTE_COMMUNICATION with payload `type:<type>\n<data>`.
    fn remote_comm_event(&mut self, kind: &str, data: &str);

    /// `ids` reordered so that processes stop before what they depend on (`depends_on=`);
    /// the given order otherwise.
    fn dependents_first(&self, ids: Vec<ProcessId>) -> Vec<ProcessId> {
        ids
    }
    /// Drops the starts of `ids` held until their dependencies hold (`depends_on=`), so a
    /// `stop all` or group stop leaves them stopped for good.
    fn cancel_held_starts(&mut self, _ids: &[ProcessId]) {}
}

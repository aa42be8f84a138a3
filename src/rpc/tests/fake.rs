//! A fake `Backend` (a scripted process table) and small builders shared by the rpc unit tests.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::config::model::*;
use crate::rpc::backend::*;
use crate::rpc::deferred::Call;
use crate::rpc::deferred::Job;
use crate::rpc::dispatch;
use crate::rpc::wire::Value;
#[derive(Debug, Clone, PartialEq)]
pub(super) enum OnStart {
    /// Enters STARTING (startsecs > 0): a waiting start is pending.
    Starting,
    /// startsecs=0: RUNNING right after the spawn.
    Running,
    /// The spawn (or the immediate reap) recorded this error; state BACKOFF.
    SpawnError(String),
}

#[derive(Debug, Clone)]
pub(super) struct FakeProcess {
    pub(super) snap: ProcessSnapshot,
    pub(super) command: Result<(), CommandProblem>,
    pub(super) on_start: OnStart,
    /// Stop completes at once (BACKOFF-like) instead of going through STOPPING.
    pub(super) stops_at_once: bool,
    pub(super) stop_error: Option<String>,
    pub(super) signal_error: Option<String>,
    pub(super) clear_error: bool,
    pub(super) stdin: Vec<u8>,
    pub(super) stdin_closed: bool,
    pub(super) signals: Vec<i32>,
    pub(super) stop_reports: usize,
}

impl FakeProcess {
    pub(super) fn new(group: &str, name: &str, state: ProcessState) -> FakeProcess {
        FakeProcess {
            snap: ProcessSnapshot::never_started(ProcessId::new(group, name), state),
            command: Ok(()),
            on_start: OnStart::Starting,
            stops_at_once: false,
            stop_error: None,
            signal_error: None,
            clear_error: false,
            stdin: Vec::new(),
            stdin_closed: false,
            signals: Vec::new(),
            stop_reports: 0,
        }
    }

    pub(super) fn running(group: &str, name: &str, pid: u32) -> FakeProcess {
        let mut p = FakeProcess::new(group, name, ProcessState::Running);
        p.snap.pid = pid;
        p.snap.laststart = 1000.0;
        p
    }
}

pub(super) struct Fake {
    pub(super) state: SupervisorState,
    pub(super) namespaces: Vec<String>,
    pub(super) groups: Vec<(String, Vec<FakeProcess>)>,
    pub(super) config: Config,
    pub(super) main_log: Option<PathBuf>,
    pub(super) clear_main_log: Result<(), ClearLogError>,
    pub(super) reload: Result<ConfigDiff, String>,
    pub(super) events: Vec<(String, String)>,
    pub(super) shutdown_requested: bool,
    pub(super) restart_requested: bool,
    pub(super) next_pid: u32,
}

impl Fake {
    pub(super) fn new() -> Fake {
        Fake {
            state: SupervisorState::Running,
            namespaces: vec!["supervisor".into()],
            groups: Vec::new(),
            config: config(vec![]),
            main_log: None,
            clear_main_log: Ok(()),
            reload: Ok(ConfigDiff::default()),
            events: Vec::new(),
            shutdown_requested: false,
            restart_requested: false,
            next_pid: 100,
        }
    }

    pub(super) fn with_group(mut self, name: &str, processes: Vec<FakeProcess>) -> Fake {
        self.groups.push((name.to_string(), processes));
        self
    }

    pub(super) fn proc_mut(&mut self, group: &str, name: &str) -> &mut FakeProcess {
        self.groups
            .iter_mut()
            .find(|(g, _)| g == group)
            .and_then(|(_, ps)| ps.iter_mut().find(|p| p.snap.id.name == name))
            .expect("fake process")
    }

    fn find(&mut self, id: &ProcessId) -> Option<&mut FakeProcess> {
        self.groups
            .iter_mut()
            .find(|(g, _)| *g == id.group)
            .and_then(|(_, ps)| ps.iter_mut().find(|p| p.snap.id.name == id.name))
    }

    pub(super) fn set_state(&mut self, group: &str, name: &str, state: ProcessState) {
        let p = self.proc_mut(group, name);
        p.snap.state = state;
        if state.is_stopped() {
            p.snap.pid = 0;
            p.snap.killing = false;
        }
    }
}

impl Backend for Fake {
    fn supervisor_state(&self) -> SupervisorState {
        self.state
    }
    fn identification(&self) -> String {
        "supervisor".into()
    }
    fn supervisor_pid(&self) -> u32 {
        4242
    }
    fn rpc_namespaces(&self) -> Vec<String> {
        self.namespaces.clone()
    }
    fn main_log_path(&self) -> Option<PathBuf> {
        self.main_log.clone()
    }
    fn clear_main_log(&mut self) -> Result<(), ClearLogError> {
        self.clear_main_log.clone()
    }
    fn request_shutdown(&mut self) {
        self.shutdown_requested = true;
    }
    fn request_restart(&mut self) {
        self.restart_requested = true;
    }
    fn reload_config(&mut self) -> Result<ConfigDiff, String> {
        self.reload.clone()
    }
    fn loaded_config(&self) -> &Config {
        &self.config
    }
    fn add_group(&mut self, name: &str) -> Result<(), AddGroupError> {
        if self.groups.iter().any(|(g, _)| g == name) {
            return Err(AddGroupError::AlreadyActive);
        }
        let Some(gc) = self.config.groups.iter().find(|g| g.name == name) else {
            return Err(AddGroupError::NotInConfig);
        };
        let procs = gc
            .processes
            .iter()
            .map(|p| FakeProcess::new(name, &p.name, ProcessState::Stopped))
            .collect();
        self.groups.push((name.to_string(), procs));
        Ok(())
    }
    fn remove_group(&mut self, name: &str) -> Result<(), RemoveGroupError> {
        let Some(i) = self.groups.iter().position(|(g, _)| g == name) else {
            return Err(RemoveGroupError::NotActive);
        };
        if self.groups[i].1.iter().any(|p| !p.snap.state.is_stopped()) {
            return Err(RemoveGroupError::StillRunning);
        }
        self.groups.remove(i);
        Ok(())
    }
    fn groups(&self) -> Vec<GroupSnapshot> {
        self.groups
            .iter()
            .map(|(name, ps)| GroupSnapshot {
                name: name.clone(),
                processes: ps.iter().map(|p| p.snap.clone()).collect(),
            })
            .collect()
    }
    fn check_command(&self, id: &ProcessId) -> Result<(), CommandProblem> {
        self.groups
            .iter()
            .find(|(g, _)| *g == id.group)
            .and_then(|(_, ps)| ps.iter().find(|p| p.snap.id.name == id.name))
            .map(|p| p.command.clone())
            .unwrap_or(Ok(()))
    }
    fn start_process(&mut self, id: &ProcessId) {
        self.next_pid += 1;
        let pid = self.next_pid;
        let p = self.find(id).expect("started process exists");
        p.snap.spawnerr.clear();
        p.snap.laststart = 2000.0;
        match p.on_start.clone() {
            OnStart::Starting => {
                p.snap.state = ProcessState::Starting;
                p.snap.pid = pid;
            }
            OnStart::Running => {
                p.snap.state = ProcessState::Running;
                p.snap.pid = pid;
            }
            OnStart::SpawnError(msg) => {
                p.snap.state = ProcessState::Backoff;
                p.snap.spawnerr = msg;
            }
        }
    }
    fn stop_process(&mut self, id: &ProcessId) -> Result<(), String> {
        let p = self.find(id).expect("stopped process exists");
        if let Some(e) = &p.stop_error {
            return Err(e.clone());
        }
        if p.stops_at_once || p.snap.state == ProcessState::Backoff {
            p.snap.state = ProcessState::Stopped;
            p.snap.pid = 0;
        } else {
            p.snap.state = ProcessState::Stopping;
            p.snap.killing = true;
        }
        Ok(())
    }
    fn report_stop_wait(&mut self, id: &ProcessId) {
        if let Some(p) = self.find(id) {
            p.stop_reports += 1;
        }
    }
    fn signal_process(&mut self, id: &ProcessId, signal: i32) -> Result<(), String> {
        let p = self.find(id).expect("signalled process exists");
        if let Some(e) = &p.signal_error {
            return Err(e.clone());
        }
        p.signals.push(signal);
        Ok(())
    }
    fn clear_process_logs(&mut self, id: &ProcessId) -> Result<(), String> {
        let p = self.find(id).expect("process exists");
        if p.clear_error {
            Err("permission denied".into())
        } else {
            Ok(())
        }
    }
    fn write_stdin(&mut self, id: &ProcessId, data: &[u8]) -> Result<(), StdinError> {
        let p = self.find(id).expect("process exists");
        if p.stdin_closed {
            return Err(StdinError::Closed);
        }
        p.stdin.extend_from_slice(data);
        Ok(())
    }
    fn remote_comm_event(&mut self, kind: &str, data: &str) {
        self.events.push((kind.to_string(), data.to_string()));
    }
}

pub(super) fn channel(logfile: LogTarget) -> LogChannel {
    LogChannel {
        logfile,
        logfile_maxbytes: 50 * 1024 * 1024,
        logfile_backups: 10,
        capture_maxbytes: 0,
        events_enabled: false,
        syslog: false,
    }
}

pub(super) fn pconf(name: &str) -> ProcessConfig {
    ProcessConfig {
        command: format!("/bin/{name}"),
        stdout: channel(LogTarget::Auto),
        stderr: channel(LogTarget::Auto),
        ..crate::process::test_config(name)
    }
}

pub(super) fn gconf(name: &str, priority: i32, processes: Vec<ProcessConfig>) -> GroupConfig {
    GroupConfig {
        name: name.to_string(),
        priority,
        kind: GroupKind::Program,
        processes: crate::config::model::shared(processes),
    }
}

pub(super) fn config(groups: Vec<GroupConfig>) -> Config {
    Config {
        path: "/etc/supervisord.conf".into(),
        files: vec![],
        supervisord: SupervisordConfig {
            logfile: "/tmp/supervisord.log".into(),
            logfile_maxbytes: 0,
            logfile_backups: 0,
            loglevel: LogLevel::Info,
            pidfile: "/tmp/supervisord.pid".into(),
            umask: 0o22,
            nodaemon: true,
            silent: false,
            minfds: 1024,
            minprocs: 200,
            nocleanup: false,
            childlogdir: "/tmp".into(),
            user: None,
            directory: None,
            strip_ansi: false,
            environment: BTreeMap::new(),
            identifier: "supervisor".into(),
            extensions: Default::default(),
        },
        unix_http_servers: vec![],
        inet_http_servers: vec![],
        supervisorctl: None,
        rpcinterfaces: vec![],
        groups: crate::config::model::shared(groups),
        warnings: vec![],
        infos: vec![],
    }
}

/// A method's answer: the value, or (fault code, fault string).
pub(super) type Answer = Result<Value, (i64, String)>;

pub(super) fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_795_460_781)
}

pub(super) fn s(v: &str) -> Value {
    Value::string(v)
}

/// Runs a method that must answer at once.
pub(super) fn call(b: &mut Fake, method: &str, params: Vec<Value>) -> Answer {
    match dispatch::call(method, &params, b, now()) {
        Call::Done(r) => r.map_err(|f| (f.code.code(), f.text())),
        Call::Wait(job) => panic!("{method} unexpectedly waits: {job:?}"),
    }
}

/// Runs a method that must wait; returns the job.
pub(super) fn call_waiting(b: &mut Fake, method: &str, params: Vec<Value>) -> Job {
    match dispatch::call(method, &params, b, now()) {
        Call::Done(r) => panic!("{method} unexpectedly answered: {r:?}"),
        Call::Wait(job) => job,
    }
}

pub(super) fn poll_job(job: &mut Job, b: &mut Fake) -> Option<Answer> {
    job.poll(b, now())
        .map(|r| r.map_err(|f| (f.code.code(), f.text())))
}

pub(super) fn result(name: &str, group: &str, status: i64, description: &str) -> Value {
    Value::structure([
        ("name", s(name)),
        ("group", s(group)),
        ("status", Value::Int(status)),
        ("description", s(description)),
    ])
}

/// A small process table: `sleeper` (RUNNING), `grp` with `g1` STOPPED and `g2` RUNNING,
/// `quick` in BACKOFF and `idle` STOPPED.
pub(super) fn standard() -> Fake {
    Fake::new()
        .with_group(
            "sleeper",
            vec![FakeProcess::running("sleeper", "sleeper", 7)],
        )
        .with_group(
            "grp",
            vec![
                FakeProcess::new("grp", "g1", ProcessState::Stopped),
                FakeProcess::running("grp", "g2", 8),
            ],
        )
        .with_group(
            "quick",
            vec![FakeProcess::new("quick", "quick", ProcessState::Backoff)],
        )
        .with_group(
            "idle",
            vec![FakeProcess::new("idle", "idle", ProcessState::Stopped)],
        )
}

pub(super) fn err(code: i64, text: &str) -> Answer {
    Err((code, text.to_string()))
}

//! Unit tests of the method layer against a fake backend: every method, its faults and check
//! order, multicall, deferred (wait=true) replies and the wire-level request handling.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::backend::*;
use super::methods::{self, Call};
use super::wire::Value;
use super::{RpcOutcome, handle_request, poll};
use crate::config::model::*;

/// What the fake does when asked to start a process.
#[derive(Debug, Clone, PartialEq)]
enum OnStart {
    /// Enters STARTING (startsecs > 0): a waiting start is pending.
    Starting,
    /// startsecs=0: RUNNING right after the spawn.
    Running,
    /// The spawn (or the immediate reap) recorded this error; state BACKOFF.
    SpawnError(String),
}

#[derive(Debug, Clone)]
struct FakeProcess {
    snap: ProcessSnapshot,
    command: Result<(), CommandProblem>,
    on_start: OnStart,
    /// Stop completes at once (BACKOFF-like) instead of going through STOPPING.
    stops_at_once: bool,
    stop_error: Option<String>,
    signal_error: Option<String>,
    clear_error: bool,
    stdin: Vec<u8>,
    stdin_closed: bool,
    signals: Vec<i32>,
    stop_reports: usize,
}

impl FakeProcess {
    fn new(group: &str, name: &str, state: ProcessState) -> FakeProcess {
        FakeProcess {
            snap: ProcessSnapshot {
                id: ProcessId::new(group, name),
                state,
                laststart: 0.0,
                laststop: 0.0,
                spawnerr: String::new(),
                exitstatus: 0,
                pid: 0,
                stdout_logfile: None,
                stderr_logfile: None,
                killing: false,
            },
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

    fn running(group: &str, name: &str, pid: u32) -> FakeProcess {
        let mut p = FakeProcess::new(group, name, ProcessState::Running);
        p.snap.pid = pid;
        p.snap.laststart = 1000.0;
        p
    }
}

struct Fake {
    state: SupervisorState,
    namespaces: Vec<String>,
    groups: Vec<(String, Vec<FakeProcess>)>,
    config: Config,
    main_log: Option<PathBuf>,
    clear_main_log: Result<(), ClearLogError>,
    reload: Result<ConfigDiff, String>,
    events: Vec<(String, String)>,
    shutdown_requested: bool,
    restart_requested: bool,
    next_pid: u32,
}

impl Fake {
    fn new() -> Fake {
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

    fn with_group(mut self, name: &str, processes: Vec<FakeProcess>) -> Fake {
        self.groups.push((name.to_string(), processes));
        self
    }

    fn proc_mut(&mut self, group: &str, name: &str) -> &mut FakeProcess {
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

    fn set_state(&mut self, group: &str, name: &str, state: ProcessState) {
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

fn channel(logfile: LogTarget) -> LogChannel {
    LogChannel {
        logfile,
        logfile_maxbytes: 50 * 1024 * 1024,
        logfile_backups: 10,
        capture_maxbytes: 0,
        events_enabled: false,
        syslog: false,
    }
}

fn pconf(name: &str) -> ProcessConfig {
    ProcessConfig {
        name: name.to_string(),
        section: format!("program:{name}"),
        program_name: name.to_string(),
        process_num: 0,
        command: format!("/bin/{name}"),
        priority: 999,
        autostart: true,
        startsecs: 1,
        startretries: 3,
        autorestart: AutoRestart::Unexpected,
        exitcodes: vec![0],
        stopsignal: 15,
        stopwaitsecs: 10,
        stopasgroup: false,
        killasgroup: false,
        user: None,
        redirect_stderr: false,
        stdout: channel(LogTarget::Auto),
        stderr: channel(LogTarget::Auto),
        environment: BTreeMap::new(),
        directory: None,
        umask: None,
        serverurl: None,
    }
}

fn gconf(name: &str, priority: i32, processes: Vec<ProcessConfig>) -> GroupConfig {
    GroupConfig {
        name: name.to_string(),
        priority,
        kind: GroupKind::Program,
        processes,
    }
}

fn config(groups: Vec<GroupConfig>) -> Config {
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
        },
        unix_http_servers: vec![],
        inet_http_servers: vec![],
        supervisorctl: None,
        rpcinterfaces: vec![],
        groups,
        warnings: vec![],
        infos: vec![],
    }
}

/// A method's answer: the value, or (fault code, fault string).
type Answer = Result<Value, (i64, String)>;

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_795_460_781)
}

fn s(v: &str) -> Value {
    Value::string(v)
}

/// Runs a method that must answer at once.
fn call(b: &mut Fake, method: &str, params: Vec<Value>) -> Answer {
    match methods::call(method, &params, b, now()) {
        Call::Done(r) => r.map_err(|f| (f.code.code(), f.text())),
        Call::Wait(job) => panic!("{method} unexpectedly waits: {job:?}"),
    }
}

/// Runs a method that must wait; returns the job.
fn call_waiting(b: &mut Fake, method: &str, params: Vec<Value>) -> super::deferred::Job {
    match methods::call(method, &params, b, now()) {
        Call::Done(r) => panic!("{method} unexpectedly answered: {r:?}"),
        Call::Wait(job) => job,
    }
}

fn poll_job(job: &mut super::deferred::Job, b: &mut Fake) -> Option<Answer> {
    job.poll(b, now())
        .map(|r| r.map_err(|f| (f.code.code(), f.text())))
}

fn result(name: &str, group: &str, status: i64, description: &str) -> Value {
    Value::structure([
        ("name", s(name)),
        ("group", s(group)),
        ("status", Value::Int(status)),
        ("description", s(description)),
    ])
}

/// A small process table: `sleeper` (RUNNING), `grp` with `g1` STOPPED and `g2` RUNNING,
/// `quick` in BACKOFF and `idle` STOPPED.
fn standard() -> Fake {
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

fn err(code: i64, text: &str) -> Answer {
    Err((code, text.to_string()))
}

fn temp_path(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!("rpc-unit-{}-{tag}", std::process::id()))
}

#[test]
fn simple_getters() {
    let mut b = standard();
    assert_eq!(
        call(&mut b, "supervisor.getAPIVersion", vec![]),
        Ok(s("3.0"))
    );
    assert_eq!(call(&mut b, "supervisor.getVersion", vec![]), Ok(s("3.0")));
    assert_eq!(
        call(&mut b, "supervisor.getSupervisorVersion", vec![]),
        Ok(s("4.3.0"))
    );
    assert_eq!(
        call(&mut b, "supervisor.getIdentification", vec![]),
        Ok(s("supervisor"))
    );
    assert_eq!(
        call(&mut b, "supervisor.getPID", vec![]),
        Ok(Value::Int(4242))
    );
    assert_eq!(
        call(&mut b, "supervisor.getState", vec![]),
        Ok(Value::structure([
            ("statecode", Value::Int(1)),
            ("statename", s("RUNNING")),
        ]))
    );
}

#[test]
fn unknown_methods_and_parameter_counts() {
    let mut b = standard();
    let cases: Vec<(&str, Vec<Value>, i64, &str)> = vec![
        ("supervisor.nope", vec![], 1, "UNKNOWN_METHOD"),
        ("supervisor._getAllProcesses", vec![], 1, "UNKNOWN_METHOD"),
        ("getPID", vec![], 1, "UNKNOWN_METHOD"),
        ("a.b.c", vec![], 1, "UNKNOWN_METHOD"),
        ("supervisor.getPID.x", vec![], 1, "UNKNOWN_METHOD"),
        ("nope.getPID", vec![], 1, "UNKNOWN_METHOD"),
        ("system.getPID", vec![], 1, "UNKNOWN_METHOD"),
        ("supervisor.listMethods", vec![], 1, "UNKNOWN_METHOD"),
        (
            "supervisor.getPID",
            vec![Value::Int(1)],
            2,
            "INCORRECT_PARAMETERS",
        ),
        (
            "supervisor.getProcessInfo",
            vec![],
            2,
            "INCORRECT_PARAMETERS",
        ),
        (
            "supervisor.startProcess",
            vec![s("a"), Value::Bool(true), Value::Int(1)],
            2,
            "INCORRECT_PARAMETERS",
        ),
        (
            "supervisor.readLog",
            vec![Value::Int(0)],
            2,
            "INCORRECT_PARAMETERS",
        ),
        (
            "system.listMethods",
            vec![s("x")],
            2,
            "INCORRECT_PARAMETERS",
        ),
        ("system.multicall", vec![], 2, "INCORRECT_PARAMETERS"),
        (
            "supervisor.signalAllProcesses",
            vec![],
            2,
            "INCORRECT_PARAMETERS",
        ),
        // Wrong types: the reference crashes (HTTP 500); we answer INCORRECT_PARAMETERS.
        (
            "supervisor.getProcessInfo",
            vec![Value::Nil],
            2,
            "INCORRECT_PARAMETERS",
        ),
        (
            "supervisor.startProcess",
            vec![Value::Int(1)],
            2,
            "INCORRECT_PARAMETERS",
        ),
        (
            "supervisor.readLog",
            vec![s("x"), Value::Int(0)],
            20,
            "NO_FILE",
        ),
    ];
    for (method, params, code, text) in cases {
        assert_eq!(
            call(&mut b, method, params.clone()),
            err(code, text),
            "{method} {params:?}"
        );
    }
}

#[test]
fn shutdown_state_gates_supervisor_methods_only() {
    for state in [SupervisorState::Shutdown, SupervisorState::Restarting] {
        let mut b = standard();
        b.state = state;
        let gated: Vec<(&str, Vec<Value>)> = vec![
            ("supervisor.getAPIVersion", vec![]),
            ("supervisor.getState", vec![]),
            ("supervisor.getPID", vec![]),
            ("supervisor.readLog", vec![Value::Int(0), Value::Int(0)]),
            ("supervisor.shutdown", vec![]),
            ("supervisor.restart", vec![]),
            ("supervisor.reloadConfig", vec![]),
            ("supervisor.addProcessGroup", vec![s("x")]),
            ("supervisor.startProcess", vec![s("nope")]),
            ("supervisor.startProcessGroup", vec![s("grp")]),
            ("supervisor.stopAllProcesses", vec![]),
            ("supervisor.signalProcess", vec![s("nope"), s("HUP")]),
            // signalProcessGroup: group looked up first, but the gate comes before BAD_NAME.
            ("supervisor.signalProcessGroup", vec![s("nope"), s("HUP")]),
            ("supervisor.getProcessInfo", vec![s("nope")]),
            ("supervisor.getAllConfigInfo", vec![]),
            (
                "supervisor.tailProcessLog",
                vec![s("nope"), Value::Int(0), Value::Int(0)],
            ),
            ("supervisor.clearAllProcessLogs", vec![]),
            ("supervisor.sendProcessStdin", vec![s("sleeper"), s("x")]),
        ];
        for (method, params) in gated {
            assert_eq!(
                call(&mut b, method, params),
                err(6, "SHUTDOWN_STATE"),
                "{method}"
            );
        }
        // Parameter counts are checked before the gate.
        assert_eq!(
            call(&mut b, "supervisor.getPID", vec![Value::Int(1)]),
            err(2, "INCORRECT_PARAMETERS")
        );
        assert!(!b.shutdown_requested && !b.restart_requested);
        assert!(call(&mut b, "system.listMethods", vec![]).is_ok());
        assert_eq!(
            call(
                &mut b,
                "supervisor.sendRemoteCommEvent",
                vec![s("t"), s("d")]
            ),
            Ok(Value::Bool(true))
        );
        // signalAllProcesses signals first, then reports the shutdown.
        assert_eq!(
            call(&mut b, "supervisor.signalAllProcesses", vec![s("HUP")]),
            err(6, "SHUTDOWN_STATE")
        );
        assert_eq!(b.proc_mut("sleeper", "sleeper").signals, vec![1]);
    }
}

#[test]
fn fatal_supervisor_state_is_not_gated() {
    let mut b = standard();
    b.state = SupervisorState::Fatal;
    assert_eq!(
        call(&mut b, "supervisor.getState", vec![]),
        Ok(Value::structure([
            ("statecode", Value::Int(2)),
            ("statename", s("FATAL")),
        ]))
    );
}

#[test]
fn shutdown_and_restart_only_request() {
    let mut b = standard();
    assert_eq!(
        call(&mut b, "supervisor.shutdown", vec![]),
        Ok(Value::Bool(true))
    );
    assert!(b.shutdown_requested);
    assert_eq!(
        call(&mut b, "supervisor.restart", vec![]),
        Ok(Value::Bool(true))
    );
    assert!(b.restart_requested);
}

#[test]
fn namespec_resolution_faults() {
    let mut b = standard();
    let cases: Vec<(&str, Answer)> = vec![
        ("sleeper", Ok(s("sleeper"))),
        ("sleeper:sleeper", Ok(s("sleeper"))),
        ("grp:g1", Ok(s("g1"))),
        ("grp", err(10, "BAD_NAME: grp")),
        ("grp:*", err(10, "BAD_NAME: grp:*")),
        ("grp:", err(10, "BAD_NAME: grp:")),
        ("grp:nope", err(10, "BAD_NAME: grp:nope")),
        ("nope:*", err(10, "BAD_NAME: nope:*")),
        ("nope", err(10, "BAD_NAME: nope")),
        ("", err(10, "BAD_NAME: ")),
        ("grp:g1:x", err(10, "BAD_NAME: grp:g1:x")),
    ];
    for (name, want) in cases {
        let got = call(&mut b, "supervisor.getProcessInfo", vec![s(name)])
            .map(|info| info.member("name").cloned().unwrap());
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn all_process_info_is_sorted_by_group_then_name() {
    let mut b = Fake::new()
        .with_group(
            "zeta",
            vec![
                FakeProcess::new("zeta", "b", ProcessState::Stopped),
                FakeProcess::new("zeta", "a", ProcessState::Stopped),
            ],
        )
        .with_group(
            "alpha",
            vec![FakeProcess::new("alpha", "alpha", ProcessState::Stopped)],
        );
    let all = call(&mut b, "supervisor.getAllProcessInfo", vec![]).unwrap();
    let names: Vec<(String, String)> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i.member_str("group").unwrap().to_string(),
                i.member_str("name").unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            ("alpha".to_string(), "alpha".to_string()),
            ("zeta".into(), "a".into()),
            ("zeta".into(), "b".into())
        ]
    );
    let first = &all.as_array().unwrap()[0];
    assert_eq!(first.member_str("description"), Some("Not started"));
    assert_eq!(first.member_int("now"), Some(1_795_460_781));
}

#[test]
fn start_process_check_order_and_faults() {
    let mut b = standard();
    b.proc_mut("grp", "g1").command = Err(CommandProblem::NotFound(
        "can't find command '/nonexistent/bin'".into(),
    ));
    b.proc_mut("idle", "idle").command = Err(CommandProblem::NotExecutable(
        "command at '/tmp' is a directory".into(),
    ));
    // The command check comes before the state check, even for a running process.
    b.proc_mut("sleeper", "sleeper").command = Err(CommandProblem::NotExecutable(
        "command at '/x' is not executable".into(),
    ));
    let cases: Vec<(&str, Answer)> = vec![
        ("nope", err(10, "BAD_NAME: nope")),
        (
            "grp:g1",
            err(20, "NO_FILE: can't find command '/nonexistent/bin'"),
        ),
        (
            "idle",
            err(21, "NOT_EXECUTABLE: command at '/tmp' is a directory"),
        ),
        (
            "sleeper",
            err(21, "NOT_EXECUTABLE: command at '/x' is not executable"),
        ),
        ("grp:g2", err(60, "ALREADY_STARTED: grp:g2")),
        ("quick", err(60, "ALREADY_STARTED: quick")),
        ("quick:quick", err(60, "ALREADY_STARTED: quick:quick")),
    ];
    for (name, want) in cases {
        assert_eq!(
            call(
                &mut b,
                "supervisor.startProcess",
                vec![s(name), Value::Bool(false)]
            ),
            want,
            "{name}"
        );
    }
}

#[test]
fn start_unknown_state_and_spawn_error() {
    let mut b = standard();
    b.set_state("idle", "idle", ProcessState::Unknown);
    assert_eq!(
        call(&mut b, "supervisor.startProcess", vec![s("idle")]),
        err(30, "FAILED: idle is in an unknown process state")
    );
    b.proc_mut("grp", "g1").on_start = OnStart::SpawnError("Exited too quickly".into());
    assert_eq!(
        call(
            &mut b,
            "supervisor.startProcess",
            vec![s("grp:g1"), Value::Bool(false)]
        ),
        err(50, "SPAWN_ERROR: grp:g1")
    );
}

#[test]
fn start_without_wait_or_with_startsecs_zero_answers_at_once() {
    let mut b = standard();
    assert_eq!(
        call(
            &mut b,
            "supervisor.startProcess",
            vec![s("idle"), Value::Bool(false)]
        ),
        Ok(Value::Bool(true))
    );
    assert_eq!(
        b.proc_mut("idle", "idle").snap.state,
        ProcessState::Starting
    );
    b.proc_mut("grp", "g1").on_start = OnStart::Running;
    assert_eq!(
        call(&mut b, "supervisor.startProcess", vec![s("grp:g1")]),
        Ok(Value::Bool(true))
    );
    // wait is read by truthiness: "" and 0 mean no wait.
    let mut b = standard();
    assert_eq!(
        call(
            &mut b,
            "supervisor.startProcess",
            vec![s("idle"), Value::Int(0)]
        ),
        Ok(Value::Bool(true))
    );
}

#[test]
fn start_with_wait_resolves_on_running_spawn_error_or_abnormal_exit() {
    // RUNNING → true.
    let mut b = standard();
    let mut job = call_waiting(&mut b, "supervisor.startProcess", vec![s("idle")]);
    assert_eq!(poll_job(&mut job, &mut b), None);
    b.set_state("idle", "idle", ProcessState::Running);
    assert_eq!(poll_job(&mut job, &mut b), Some(Ok(Value::Bool(true))));

    // Exited too quickly → BACKOFF with a spawn error → SPAWN_ERROR.
    let mut b = standard();
    let mut job = call_waiting(&mut b, "supervisor.startProcess", vec![s("idle")]);
    b.set_state("idle", "idle", ProcessState::Backoff);
    b.proc_mut("idle", "idle").snap.spawnerr =
        "Exited too quickly (process log may have details)".into();
    assert_eq!(
        poll_job(&mut job, &mut b),
        Some(err(50, "SPAWN_ERROR: idle"))
    );

    // Stopped meanwhile (no spawn error) → ABNORMAL_TERMINATION, name as given.
    let mut b = standard();
    let mut job = call_waiting(&mut b, "supervisor.startProcess", vec![s("idle:idle")]);
    b.set_state("idle", "idle", ProcessState::Stopped);
    assert_eq!(
        poll_job(&mut job, &mut b),
        Some(err(40, "ABNORMAL_TERMINATION: idle:idle"))
    );

    // The group went away while waiting.
    let mut b = standard();
    let mut job = call_waiting(&mut b, "supervisor.startProcess", vec![s("idle")]);
    b.groups.retain(|(g, _)| g != "idle");
    assert_eq!(
        poll_job(&mut job, &mut b),
        Some(err(40, "ABNORMAL_TERMINATION: idle"))
    );
}

#[test]
fn start_group_acts_on_not_running_processes_only() {
    let mut b = standard();
    // Already-running processes are omitted; all running → [].
    b.proc_mut("grp", "g1").on_start = OnStart::Running;
    assert_eq!(
        call(&mut b, "supervisor.startProcessGroup", vec![s("grp")]),
        Ok(Value::Array(vec![result("g1", "grp", 80, "OK")]))
    );
    assert_eq!(
        call(&mut b, "supervisor.startProcessGroup", vec![s("grp")]),
        Ok(Value::Array(vec![]))
    );
    assert_eq!(
        call(&mut b, "supervisor.startProcessGroup", vec![s("nope")]),
        err(10, "BAD_NAME: nope")
    );
    // A group spec given to startProcess delegates to startProcessGroup.
    b.set_state("grp", "g1", ProcessState::Stopped);
    assert_eq!(
        call(&mut b, "supervisor.startProcess", vec![s("grp:*")]),
        Ok(Value::Array(vec![result("g1", "grp", 80, "OK")]))
    );
    b.set_state("grp", "g1", ProcessState::Stopped);
    assert_eq!(
        call(
            &mut b,
            "supervisor.startProcess",
            vec![s("grp:"), Value::Bool(false)]
        ),
        Ok(Value::Array(vec![result("g1", "grp", 80, "OK")]))
    );
    assert_eq!(
        call(&mut b, "supervisor.startProcess", vec![s("nope:*")]),
        err(10, "BAD_NAME: nope:*")
    );
}

#[test]
fn start_group_reports_per_process_faults_with_namespecs() {
    let mut b = Fake::new().with_group(
        "grp",
        vec![
            FakeProcess::new("grp", "a", ProcessState::Stopped),
            FakeProcess::new("grp", "b", ProcessState::Exited),
            FakeProcess::new("grp", "c", ProcessState::Fatal),
        ],
    );
    b.proc_mut("grp", "a").command = Err(CommandProblem::NotFound("can't find command 'x'".into()));
    b.proc_mut("grp", "b").on_start = OnStart::SpawnError("boom".into());
    b.proc_mut("grp", "c").on_start = OnStart::Running;
    assert_eq!(
        call(
            &mut b,
            "supervisor.startProcessGroup",
            vec![s("grp"), Value::Bool(true)]
        ),
        Ok(Value::Array(vec![
            result("a", "grp", 20, "NO_FILE: can't find command 'x'"),
            result("b", "grp", 50, "SPAWN_ERROR: grp:b"),
            result("c", "grp", 80, "OK"),
        ]))
    );
}

#[test]
fn start_all_with_wait_collects_results_in_completion_order() {
    let mut b = standard();
    // Stopped: grp:g1, idle. quick is BACKOFF (running set) → skipped.
    let mut job = call_waiting(&mut b, "supervisor.startAllProcesses", vec![]);
    assert_eq!(b.proc_mut("grp", "g1").snap.state, ProcessState::Starting);
    assert_eq!(
        b.proc_mut("idle", "idle").snap.state,
        ProcessState::Starting
    );
    assert_eq!(poll_job(&mut job, &mut b), None);
    b.set_state("idle", "idle", ProcessState::Running);
    assert_eq!(poll_job(&mut job, &mut b), None);
    b.set_state("grp", "g1", ProcessState::Exited);
    assert_eq!(
        poll_job(&mut job, &mut b),
        Some(Ok(Value::Array(vec![
            result("idle", "idle", 80, "OK"),
            result("g1", "grp", 40, "ABNORMAL_TERMINATION: grp:g1"),
        ])))
    );
    // Without wait the list comes back at once.
    let mut b = standard();
    assert_eq!(
        call(
            &mut b,
            "supervisor.startAllProcesses",
            vec![Value::Bool(false)]
        ),
        Ok(Value::Array(vec![
            result("g1", "grp", 80, "OK"),
            result("idle", "idle", 80, "OK"),
        ]))
    );
}

#[test]
fn stop_process_faults_and_immediate_answers() {
    let mut b = standard();
    b.proc_mut("grp", "g2").stop_error = Some("Failed to kill".into());
    let cases: Vec<(&str, Answer)> = vec![
        ("nope", err(10, "BAD_NAME: nope")),
        ("idle", err(70, "NOT_RUNNING: idle")),
        ("grp:g1", err(70, "NOT_RUNNING: grp:g1")),
        ("grp:g2", err(30, "FAILED: Failed to kill")),
        // BACKOFF stops at once without a signal.
        ("quick", Ok(Value::Bool(true))),
        ("sleeper", Ok(Value::Bool(true))),
    ];
    for (name, want) in cases {
        assert_eq!(
            call(
                &mut b,
                "supervisor.stopProcess",
                vec![s(name), Value::Bool(false)]
            ),
            want,
            "{name}"
        );
    }
    assert_eq!(
        b.proc_mut("sleeper", "sleeper").snap.state,
        ProcessState::Stopping
    );
    // A process that is already stopped after the request answers at once even with wait.
    let mut b = standard();
    b.proc_mut("sleeper", "sleeper").stops_at_once = true;
    assert_eq!(
        call(&mut b, "supervisor.stopProcess", vec![s("sleeper")]),
        Ok(Value::Bool(true))
    );
}

#[test]
fn stop_with_wait_resolves_when_stopped_and_reports_waiting() {
    let mut b = standard();
    let mut job = call_waiting(&mut b, "supervisor.stopProcess", vec![s("sleeper")]);
    assert_eq!(poll_job(&mut job, &mut b), None);
    assert_eq!(poll_job(&mut job, &mut b), None);
    assert_eq!(b.proc_mut("sleeper", "sleeper").stop_reports, 2);
    b.set_state("sleeper", "sleeper", ProcessState::Stopped);
    assert_eq!(poll_job(&mut job, &mut b), Some(Ok(Value::Bool(true))));
}

#[test]
fn stop_group_and_all() {
    let mut b = standard();
    assert_eq!(
        call(&mut b, "supervisor.stopProcessGroup", vec![s("nope")]),
        err(10, "BAD_NAME: nope")
    );
    let mut job = call_waiting(&mut b, "supervisor.stopProcess", vec![s("grp:*")]);
    b.set_state("grp", "g2", ProcessState::Stopped);
    assert_eq!(
        poll_job(&mut job, &mut b),
        Some(Ok(Value::Array(vec![result("g2", "grp", 80, "OK")])))
    );
    // All: running set = sleeper (RUNNING), quick (BACKOFF → stopped at once).
    let mut b = standard();
    let mut job = call_waiting(&mut b, "supervisor.stopAllProcesses", vec![]);
    assert_eq!(poll_job(&mut job, &mut b), None);
    b.set_state("grp", "g2", ProcessState::Stopped);
    assert_eq!(poll_job(&mut job, &mut b), None);
    b.set_state("sleeper", "sleeper", ProcessState::Stopped);
    assert_eq!(
        poll_job(&mut job, &mut b),
        Some(Ok(Value::Array(vec![
            result("quick", "quick", 80, "OK"),
            result("g2", "grp", 80, "OK"),
            result("sleeper", "sleeper", 80, "OK"),
        ])))
    );
    let mut b = standard();
    assert_eq!(
        call(
            &mut b,
            "supervisor.stopAllProcesses",
            vec![Value::Bool(false)]
        )
        .unwrap()
        .as_array()
        .unwrap()
        .len(),
        3
    );
}

#[test]
fn signal_process_check_order_and_signal_forms() {
    let mut b = standard();
    b.set_state("grp", "g2", ProcessState::Stopping);
    b.proc_mut("grp", "g2").signal_error = Some("kill failed".into());
    let cases: Vec<(&str, Value, Answer)> = vec![
        ("nope", s("FOO"), err(10, "BAD_NAME: nope")),
        ("idle", s("FOO"), err(11, "BAD_SIGNAL: FOO")),
        ("idle", s("HUP"), err(70, "NOT_RUNNING: idle")),
        ("quick", s("HUP"), err(70, "NOT_RUNNING: quick")),
        ("grp:g2", s("HUP"), err(30, "FAILED: kill failed")),
        ("sleeper", s("40"), err(11, "BAD_SIGNAL: 40")),
        ("sleeper", s("-1"), err(11, "BAD_SIGNAL: -1")),
        ("sleeper", Value::Int(99), err(11, "BAD_SIGNAL: 99")),
        ("sleeper", Value::Array(vec![]), err(11, "BAD_SIGNAL: []")),
        ("sleeper", s("HUP"), Ok(Value::Bool(true))),
        ("sleeper", s("usr1"), Ok(Value::Bool(true))),
        ("sleeper", s("SIGUSR2"), Ok(Value::Bool(true))),
        ("sleeper", s("10"), Ok(Value::Bool(true))),
        ("sleeper", Value::Int(15), Ok(Value::Bool(true))),
        ("sleeper", s("0"), Ok(Value::Bool(true))),
    ];
    for (name, sig, want) in cases {
        assert_eq!(
            call(
                &mut b,
                "supervisor.signalProcess",
                vec![s(name), sig.clone()]
            ),
            want,
            "{name} {sig:?}"
        );
    }
    assert_eq!(
        b.proc_mut("sleeper", "sleeper").signals,
        vec![1, 10, 12, 10, 15, 0]
    );
}

#[test]
fn signal_group_and_all() {
    let mut b = standard();
    b.set_state("grp", "g1", ProcessState::Starting);
    assert_eq!(
        call(
            &mut b,
            "supervisor.signalProcessGroup",
            vec![s("grp"), s("USR1")]
        ),
        Ok(Value::Array(vec![
            result("g1", "grp", 80, "OK"),
            result("g2", "grp", 80, "OK"),
        ]))
    );
    assert_eq!(
        call(
            &mut b,
            "supervisor.signalProcess",
            vec![s("grp:*"), s("BAD")]
        ),
        Ok(Value::Array(vec![
            result("g1", "grp", 11, "BAD_SIGNAL: BAD"),
            result("g2", "grp", 11, "BAD_SIGNAL: BAD"),
        ]))
    );
    assert_eq!(
        call(
            &mut b,
            "supervisor.signalProcessGroup",
            vec![s("nope"), s("HUP")]
        ),
        err(10, "BAD_NAME: nope")
    );
    // Nothing signallable: an empty list even for a bad signal.
    assert_eq!(
        call(
            &mut b,
            "supervisor.signalProcessGroup",
            vec![s("idle"), s("BAD")]
        ),
        Ok(Value::Array(vec![]))
    );
    assert_eq!(
        call(&mut b, "supervisor.signalAllProcesses", vec![s("TERM")]),
        Ok(Value::Array(vec![
            result("sleeper", "sleeper", 80, "OK"),
            result("g1", "grp", 80, "OK"),
            result("g2", "grp", 80, "OK"),
        ]))
    );
}

#[test]
fn groups_add_remove_and_reload() {
    let mut b = standard();
    b.config = config(vec![
        gconf("newgrp", 999, vec![pconf("n1")]),
        gconf("grp", 999, vec![]),
    ]);
    assert_eq!(
        call(&mut b, "supervisor.addProcessGroup", vec![s("newgrp")]),
        Ok(Value::Bool(true))
    );
    assert_eq!(
        call(&mut b, "supervisor.addProcessGroup", vec![s("newgrp")]),
        err(90, "ALREADY_ADDED: newgrp")
    );
    assert_eq!(
        call(&mut b, "supervisor.addProcessGroup", vec![s("nope")]),
        err(10, "BAD_NAME: nope")
    );
    assert_eq!(
        call(&mut b, "supervisor.removeProcessGroup", vec![s("grp")]),
        err(91, "STILL_RUNNING: grp")
    );
    assert_eq!(
        call(&mut b, "supervisor.removeProcessGroup", vec![s("nope")]),
        err(10, "BAD_NAME: nope")
    );
    assert_eq!(
        call(&mut b, "supervisor.removeProcessGroup", vec![s("newgrp")]),
        Ok(Value::Bool(true))
    );

    assert_eq!(
        call(&mut b, "supervisor.reloadConfig", vec![]),
        Ok(Value::Array(vec![Value::Array(vec![
            Value::Array(vec![]),
            Value::Array(vec![]),
            Value::Array(vec![]),
        ])]))
    );
    b.reload = Ok(ConfigDiff {
        added: vec!["a".into()],
        changed: vec!["c1".into(), "c2".into()],
        removed: vec!["r".into()],
    });
    assert_eq!(
        call(&mut b, "supervisor.reloadConfig", vec![]),
        Ok(Value::Array(vec![Value::Array(vec![
            Value::Array(vec![s("a")]),
            Value::Array(vec![s("c1"), s("c2")]),
            Value::Array(vec![s("r")]),
        ])]))
    );
    b.reload = Err("/etc/x.conf:3: bad".into());
    assert_eq!(
        call(&mut b, "supervisor.reloadConfig", vec![]),
        err(92, "CANT_REREAD: /etc/x.conf:3: bad")
    );
}

#[test]
fn main_log_read_and_clear() {
    let mut b = standard();
    assert_eq!(
        call(
            &mut b,
            "supervisor.readLog",
            vec![Value::Int(0), Value::Int(0)]
        ),
        err(20, "NO_FILE")
    );
    let path = temp_path("mainlog");
    b.main_log = Some(path.clone());
    let _ = std::fs::remove_file(&path);
    assert_eq!(
        call(
            &mut b,
            "supervisor.readMainLog",
            vec![Value::Int(0), Value::Int(0)]
        ),
        Err((20, format!("NO_FILE: {}", path.display())))
    );
    std::fs::write(&path, b"tick 1\ntick 2\n").unwrap();
    let cases: Vec<(Value, Value, Answer)> = vec![
        (Value::Int(0), Value::Int(5), Ok(s("tick "))),
        (Value::Int(-3), Value::Int(0), Ok(s(" 2\n"))),
        (Value::Int(-3), Value::Int(1), err(3, "BAD_ARGUMENTS")),
        (Value::Int(0), Value::Int(-1), err(3, "BAD_ARGUMENTS")),
        (Value::Int(100), Value::Int(0), Ok(s(""))),
        // Arguments go through int(): numeric strings work.
        (s("7"), s("0"), Ok(s("tick 2\n"))),
        (s("x"), Value::Int(0), err(2, "INCORRECT_PARAMETERS")),
    ];
    for (offset, length, want) in cases {
        assert_eq!(
            call(
                &mut b,
                "supervisor.readLog",
                vec![offset.clone(), length.clone()]
            ),
            want,
            "{offset:?} {length:?}"
        );
    }
    std::fs::write(&path, b"caf\xc3\xa9 \xff\n").unwrap();
    // Undecodable bytes: the reference answers HTTP 500; we substitute U+FFFD.
    assert_eq!(
        call(
            &mut b,
            "supervisor.readLog",
            vec![Value::Int(0), Value::Int(0)]
        ),
        Ok(s("café \u{fffd}\n"))
    );
    std::fs::remove_file(&path).unwrap();

    assert_eq!(
        call(&mut b, "supervisor.clearLog", vec![]),
        Ok(Value::Bool(true))
    );
    b.clear_main_log = Err(ClearLogError::NoFile);
    assert_eq!(
        call(&mut b, "supervisor.clearLog", vec![]),
        err(20, "NO_FILE")
    );
    b.clear_main_log = Err(ClearLogError::Failed);
    assert_eq!(
        call(&mut b, "supervisor.clearLog", vec![]),
        err(30, "FAILED")
    );
}

#[test]
fn process_log_read_and_tail() {
    let mut b = standard();
    let out = temp_path("stdout");
    std::fs::write(&out, b"hello world\n").unwrap();
    let missing = temp_path("missing");
    let _ = std::fs::remove_file(&missing);
    b.proc_mut("sleeper", "sleeper").snap.stdout_logfile = Some(out.clone());
    b.proc_mut("grp", "g1").snap.stderr_logfile = Some(missing.clone());
    let int = Value::Int;
    let read_cases: Vec<(&str, &str, Answer)> = vec![
        ("supervisor.readProcessStdoutLog", "sleeper", Ok(s("hello"))),
        ("supervisor.readProcessLog", "sleeper", Ok(s("hello"))),
        (
            "supervisor.readProcessStderrLog",
            "sleeper",
            err(20, "NO_FILE"),
        ),
        (
            "supervisor.readProcessStdoutLog",
            "nope",
            err(10, "BAD_NAME: nope"),
        ),
        (
            "supervisor.readProcessStdoutLog",
            "grp:*",
            err(10, "BAD_NAME: grp:*"),
        ),
        (
            "supervisor.readProcessStderrLog",
            "grp:g1",
            Err((20, format!("NO_FILE: {}", missing.display()))),
        ),
    ];
    for (method, name, want) in read_cases {
        assert_eq!(
            call(&mut b, method, vec![s(name), int(0), int(5)]),
            want,
            "{method} {name}"
        );
    }
    let tail = |v: &str, off: i64, of: bool| {
        Ok(Value::Array(vec![s(v), Value::Int(off), Value::Bool(of)]))
    };
    let tail_cases: Vec<(&str, &str, i64, i64, Answer)> = vec![
        (
            "supervisor.tailProcessStdoutLog",
            "sleeper",
            0,
            5,
            tail("orld\n", 12, true),
        ),
        (
            "supervisor.tailProcessLog",
            "sleeper",
            0,
            100,
            tail("hello world\n", 12, false),
        ),
        (
            "supervisor.tailProcessStdoutLog",
            "sleeper",
            12,
            100,
            tail("", 12, false),
        ),
        (
            "supervisor.tailProcessStdoutLog",
            "sleeper",
            6,
            6,
            tail("world\n", 12, false),
        ),
        (
            "supervisor.tailProcessStderrLog",
            "sleeper",
            0,
            5,
            tail("", 0, false),
        ),
        (
            "supervisor.tailProcessStderrLog",
            "grp:g1",
            0,
            5,
            tail("", 0, false),
        ),
        (
            "supervisor.tailProcessStdoutLog",
            "nope",
            0,
            5,
            err(10, "BAD_NAME: nope"),
        ),
    ];
    for (method, name, offset, length, want) in tail_cases {
        assert_eq!(
            call(&mut b, method, vec![s(name), int(offset), int(length)]),
            want,
            "{method} {name} {offset} {length}"
        );
    }
    std::fs::remove_file(&out).unwrap();
}

#[test]
fn clear_process_logs_one_and_all() {
    let mut b = standard();
    b.proc_mut("grp", "g2").clear_error = true;
    let cases: Vec<(&str, &str, Answer)> = vec![
        (
            "supervisor.clearProcessLogs",
            "sleeper",
            Ok(Value::Bool(true)),
        ),
        (
            "supervisor.clearProcessLog",
            "grp:g1",
            Ok(Value::Bool(true)),
        ),
        (
            "supervisor.clearProcessLogs",
            "grp:g2",
            err(30, "FAILED: grp:g2"),
        ),
        (
            "supervisor.clearProcessLogs",
            "grp:*",
            err(10, "BAD_NAME: grp:*"),
        ),
        (
            "supervisor.clearProcessLogs",
            "nope",
            err(10, "BAD_NAME: nope"),
        ),
    ];
    for (method, name, want) in cases {
        assert_eq!(call(&mut b, method, vec![s(name)]), want, "{name}");
    }
    assert_eq!(
        call(&mut b, "supervisor.clearAllProcessLogs", vec![]),
        Ok(Value::Array(vec![
            result("sleeper", "sleeper", 80, "OK"),
            result("g1", "grp", 80, "OK"),
            result("g2", "grp", 30, "FAILED: grp:g2"),
            result("quick", "quick", 80, "OK"),
            result("idle", "idle", 80, "OK"),
        ]))
    );
}

#[test]
fn send_process_stdin_check_order() {
    let mut b = standard();
    b.proc_mut("grp", "g2").stdin_closed = true;
    b.proc_mut("grp", "g1").snap.killing = true;
    b.proc_mut("grp", "g1").snap.pid = 9;
    let cases: Vec<(&str, Value, Answer)> = vec![
        // The data type is checked before the name.
        ("nope", Value::Int(5), err(2, "INCORRECT_PARAMETERS: 5")),
        (
            "nope",
            Value::Bool(true),
            err(2, "INCORRECT_PARAMETERS: True"),
        ),
        ("nope", s("x"), err(10, "BAD_NAME: nope")),
        ("idle", s("x"), err(70, "NOT_RUNNING: idle")),
        ("grp:g1", s("x"), err(70, "NOT_RUNNING: grp:g1")),
        ("grp:g2", s("x"), err(20, "NO_FILE: grp:g2")),
        ("sleeper", s("héllo\n"), Ok(Value::Bool(true))),
    ];
    for (name, data, want) in cases {
        assert_eq!(
            call(
                &mut b,
                "supervisor.sendProcessStdin",
                vec![s(name), data.clone()]
            ),
            want,
            "{name} {data:?}"
        );
    }
    assert_eq!(b.proc_mut("sleeper", "sleeper").stdin, "héllo\n".as_bytes());
}

#[test]
fn remote_comm_event_formats_any_argument() {
    let mut b = standard();
    assert_eq!(
        call(
            &mut b,
            "supervisor.sendRemoteCommEvent",
            vec![s("t"), s("data\n")]
        ),
        Ok(Value::Bool(true))
    );
    assert_eq!(
        call(
            &mut b,
            "supervisor.sendRemoteCommEvent",
            vec![Value::Int(5), Value::Bool(false)]
        ),
        Ok(Value::Bool(true))
    );
    assert_eq!(
        b.events,
        vec![
            ("t".to_string(), "data\n".to_string()),
            ("5".to_string(), "False".to_string())
        ]
    );
}

#[test]
fn config_info_fields_order_and_values() {
    let mut b = standard();
    let mut a = pconf("zz");
    a.directory = Some("/srv".into());
    a.user = Some(User {
        name: Some("nobody".into()),
        uid: 65534,
        gid: Some(65534),
    });
    a.stdout.logfile = LogTarget::File("/var/log/zz.log".into());
    a.stdout.logfile_maxbytes = 3 * 1024 * 1024 * 1024;
    a.stderr.logfile = LogTarget::None;
    a.serverurl = Some("unix:///tmp/s.sock".into());
    a.exitcodes = vec![0, 2];
    let mut sleeper = pconf("sleeper");
    sleeper.redirect_stderr = true;
    sleeper.stderr.logfile = LogTarget::None;
    b.config = config(vec![
        gconf("other", 5, vec![a]),
        gconf("sleeper", 999, vec![sleeper]),
        gconf("idle", 999, vec![pconf("idle")]),
    ]);
    b.proc_mut("sleeper", "sleeper").snap.stdout_logfile = Some("/tmp/sleeper-stdout.log".into());
    let all = call(&mut b, "supervisor.getAllConfigInfo", vec![]).unwrap();
    let all = all.as_array().unwrap();
    let names: Vec<&str> = all.iter().map(|i| i.member_str("name").unwrap()).collect();
    assert_eq!(names, ["idle", "sleeper", "zz"]);
    let keys: Vec<&str> = all[0]
        .as_struct()
        .unwrap()
        .iter()
        .map(|(k, _)| k.as_str())
        .collect();
    assert_eq!(
        keys,
        [
            "autostart",
            "directory",
            "uid",
            "command",
            "exitcodes",
            "group",
            "group_prio",
            "inuse",
            "killasgroup",
            "name",
            "process_prio",
            "redirect_stderr",
            "startretries",
            "startsecs",
            "stdout_capture_maxbytes",
            "stdout_events_enabled",
            "stdout_logfile",
            "stdout_logfile_backups",
            "stdout_logfile_maxbytes",
            "stdout_syslog",
            "stopsignal",
            "stopwaitsecs",
            "stderr_capture_maxbytes",
            "stderr_events_enabled",
            "stderr_logfile",
            "stderr_logfile_backups",
            "stderr_logfile_maxbytes",
            "stderr_syslog",
            "serverurl"
        ]
    );
    let idle = &all[0];
    assert_eq!(idle.member_str("directory"), Some("none"));
    assert_eq!(idle.member_str("uid"), Some("none"));
    assert_eq!(idle.member_str("serverurl"), Some("none"));
    assert_eq!(idle.member("inuse"), Some(&Value::Bool(true)));
    // Active but no file named yet by the (fake) daemon: still `auto`.
    assert_eq!(idle.member_str("stdout_logfile"), Some("auto"));
    assert_eq!(idle.member_int("stopsignal"), Some(15));
    assert_eq!(idle.member_int("stdout_logfile_maxbytes"), Some(52_428_800));
    let sleeper = &all[1];
    assert_eq!(
        sleeper.member_str("stdout_logfile"),
        Some("/tmp/sleeper-stdout.log")
    );
    assert_eq!(sleeper.member_str("stderr_logfile"), Some("none"));
    assert_eq!(sleeper.member("redirect_stderr"), Some(&Value::Bool(true)));
    let zz = &all[2];
    assert_eq!(zz.member("inuse"), Some(&Value::Bool(false)));
    assert_eq!(zz.member_str("group"), Some("other"));
    assert_eq!(zz.member_int("group_prio"), Some(5));
    assert_eq!(zz.member_int("process_prio"), Some(999));
    assert_eq!(zz.member_str("directory"), Some("/srv"));
    assert_eq!(zz.member_int("uid"), Some(65534));
    assert_eq!(zz.member_str("command"), Some("/bin/zz"));
    assert_eq!(
        zz.member("exitcodes"),
        Some(&Value::Array(vec![Value::Int(0), Value::Int(2)]))
    );
    assert_eq!(zz.member_str("stdout_logfile"), Some("/var/log/zz.log"));
    assert_eq!(zz.member_str("stderr_logfile"), Some("none"));
    assert_eq!(zz.member_str("serverurl"), Some("unix:///tmp/s.sock"));
    // 3 GB does not fit an XML-RPC int: clamped instead of failing the whole reply.
    assert_eq!(
        zz.member_int("stdout_logfile_maxbytes"),
        Some(i64::from(i32::MAX))
    );
}

#[test]
fn introspection() {
    let mut b = standard();
    let listed = call(&mut b, "system.listMethods", vec![]).unwrap();
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let expected = [
        "supervisor.addProcessGroup",
        "supervisor.clearAllProcessLogs",
        "supervisor.clearLog",
        "supervisor.clearProcessLog",
        "supervisor.clearProcessLogs",
        "supervisor.getAPIVersion",
        "supervisor.getAllConfigInfo",
        "supervisor.getAllProcessInfo",
        "supervisor.getIdentification",
        "supervisor.getPID",
        "supervisor.getProcessInfo",
        "supervisor.getState",
        "supervisor.getSupervisorVersion",
        "supervisor.getVersion",
        "supervisor.readLog",
        "supervisor.readMainLog",
        "supervisor.readProcessLog",
        "supervisor.readProcessStderrLog",
        "supervisor.readProcessStdoutLog",
        "supervisor.reloadConfig",
        "supervisor.removeProcessGroup",
        "supervisor.restart",
        "supervisor.sendProcessStdin",
        "supervisor.sendRemoteCommEvent",
        "supervisor.shutdown",
        "supervisor.signalAllProcesses",
        "supervisor.signalProcess",
        "supervisor.signalProcessGroup",
        "supervisor.startAllProcesses",
        "supervisor.startProcess",
        "supervisor.startProcessGroup",
        "supervisor.stopAllProcesses",
        "supervisor.stopProcess",
        "supervisor.stopProcessGroup",
        "supervisor.tailProcessLog",
        "supervisor.tailProcessStderrLog",
        "supervisor.tailProcessStdoutLog",
        "system.listMethods",
        "system.methodHelp",
        "system.methodSignature",
        "system.multicall",
    ];
    assert_eq!(names, expected);

    let sig = |b: &mut Fake, m: &str| call(b, "system.methodSignature", vec![s(m)]);
    let strs = |v: &[&str]| Ok(Value::Array(v.iter().map(|x| s(x)).collect()));
    assert_eq!(
        sig(&mut b, "supervisor.readProcessLog"),
        strs(&["string", "string", "int", "int"])
    );
    assert_eq!(
        sig(&mut b, "supervisor.startProcess"),
        strs(&["boolean", "string", "boolean"])
    );
    assert_eq!(sig(&mut b, "supervisor.getState"), strs(&["struct"]));
    assert_eq!(sig(&mut b, "system.multicall"), strs(&["array", "array"]));
    assert_eq!(
        sig(&mut b, "supervisor.nope"),
        err(4, "SIGNATURE_UNSUPPORTED")
    );
    assert_eq!(
        call(&mut b, "system.methodSignature", vec![Value::Int(1)]),
        err(4, "SIGNATURE_UNSUPPORTED")
    );
    let help = call(&mut b, "system.methodHelp", vec![s("supervisor.getPID")]).unwrap();
    assert!(help.as_str().unwrap().contains("@return int "), "{help:?}");
    assert_eq!(
        call(&mut b, "system.methodHelp", vec![s("supervisor._update")]),
        err(4, "SIGNATURE_UNSUPPORTED")
    );

    // Without the supervisor namespace only system.* is published.
    b.namespaces.clear();
    let listed = call(&mut b, "system.listMethods", vec![]).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 4);
    assert_eq!(
        call(&mut b, "supervisor.getPID", vec![]),
        err(1, "UNKNOWN_METHOD")
    );
    assert_eq!(
        sig(&mut b, "supervisor.getPID"),
        err(4, "SIGNATURE_UNSUPPORTED")
    );
}

fn mc(name: Option<Value>, params: Option<Vec<Value>>) -> Value {
    let mut members = Vec::new();
    if let Some(n) = name {
        members.push(("methodName".to_string(), n));
    }
    if let Some(p) = params {
        members.push(("params".to_string(), Value::Array(p)));
    }
    Value::Struct(members)
}

#[test]
fn multicall_results_and_errors() {
    let mut b = standard();
    let calls = Value::Array(vec![
        mc(Some(s("supervisor.getPID")), None),
        mc(Some(s("supervisor.nope")), Some(vec![])),
        mc(None, Some(vec![])),
        mc(Some(Value::Nil), None),
        mc(
            Some(s("system.multicall")),
            Some(vec![Value::Array(vec![])]),
        ),
        mc(Some(s("supervisor.getProcessInfo")), Some(vec![s("nope")])),
        mc(Some(s("supervisor.stopProcess")), Some(vec![s("idle")])),
        mc(Some(s("supervisor.getAPIVersion")), Some(vec![])),
        s("not a struct"),
        mc(Some(Value::Int(5)), None),
        mc(Some(s("")), None),
        Value::structure([
            ("methodName", s("supervisor.getPID")),
            ("params", Value::Int(5)),
        ]),
    ]);
    let fault = |code: i64, text: &str| {
        Value::structure([("faultCode", Value::Int(code)), ("faultString", s(text))])
    };
    assert_eq!(
        call(&mut b, "system.multicall", vec![calls]),
        Ok(Value::Array(vec![
            Value::Int(4242),
            fault(1, "UNKNOWN_METHOD"),
            fault(2, "INCORRECT_PARAMETERS: No methodName"),
            fault(2, "INCORRECT_PARAMETERS: No methodName"),
            fault(
                2,
                "INCORRECT_PARAMETERS: Recursive system.multicall forbidden"
            ),
            fault(10, "BAD_NAME: nope"),
            fault(70, "NOT_RUNNING: idle"),
            s("3.0"),
            fault(2, "INCORRECT_PARAMETERS"),
            fault(
                30,
                "FAILED: <class 'AttributeError'>:'int' object has no attribute 'split'",
            ),
            fault(1, "UNKNOWN_METHOD"),
            fault(2, "INCORRECT_PARAMETERS"),
        ]))
    );
    assert_eq!(
        call(&mut b, "system.multicall", vec![s("x")]),
        err(2, "INCORRECT_PARAMETERS")
    );
    assert_eq!(
        call(&mut b, "system.multicall", vec![Value::Array(vec![])]),
        Ok(Value::Array(vec![]))
    );
    // system.* in a multicall during shutdown works; supervisor.* faults per call.
    b.state = SupervisorState::Shutdown;
    let calls = Value::Array(vec![
        mc(Some(s("supervisor.getPID")), None),
        mc(
            Some(s("system.methodSignature")),
            Some(vec![s("supervisor.getPID")]),
        ),
    ]);
    assert_eq!(
        call(&mut b, "system.multicall", vec![calls]),
        Ok(Value::Array(vec![
            fault(6, "SHUTDOWN_STATE"),
            Value::Array(vec![s("int")]),
        ]))
    );
}

#[test]
fn multicall_waits_for_a_waiting_call_before_running_the_next() {
    let mut b = standard();
    let calls = Value::Array(vec![
        mc(Some(s("supervisor.startProcess")), Some(vec![s("idle")])),
        mc(Some(s("supervisor.stopProcess")), Some(vec![s("sleeper")])),
        mc(Some(s("supervisor.getPID")), None),
    ]);
    let mut job = call_waiting(&mut b, "system.multicall", vec![calls]);
    assert_eq!(
        b.proc_mut("idle", "idle").snap.state,
        ProcessState::Starting
    );
    // The stop has not been issued while the start waits.
    assert_eq!(
        b.proc_mut("sleeper", "sleeper").snap.state,
        ProcessState::Running
    );
    assert_eq!(poll_job(&mut job, &mut b), None);
    b.set_state("idle", "idle", ProcessState::Running);
    assert_eq!(poll_job(&mut job, &mut b), None);
    assert_eq!(
        b.proc_mut("sleeper", "sleeper").snap.state,
        ProcessState::Stopping
    );
    b.set_state("sleeper", "sleeper", ProcessState::Stopped);
    assert_eq!(
        poll_job(&mut job, &mut b),
        Some(Ok(Value::Array(vec![
            Value::Bool(true),
            Value::Bool(true),
            Value::Int(4242),
        ])))
    );
}

// --- wire level ---

fn body(method: &str, params: &str) -> Vec<u8> {
    format!(
        "<?xml version='1.0'?>\n<methodCall>\n<methodName>{method}</methodName>\n<params>\n{params}</params>\n</methodCall>\n"
    )
    .into_bytes()
}

fn reply_text(outcome: RpcOutcome) -> String {
    match outcome {
        RpcOutcome::Reply(bytes) => String::from_utf8(bytes).unwrap(),
        other => panic!("expected a reply, got {other:?}"),
    }
}

#[test]
fn wire_replies_are_python_bytes() {
    let mut b = standard();
    assert_eq!(
        reply_text(handle_request(
            &body("supervisor.getPID", ""),
            &mut b,
            now()
        )),
        "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><int>4242</int></value>\n</param>\n</params>\n</methodResponse>\n"
    );
    assert_eq!(
        reply_text(handle_request(
            &body(
                "supervisor.getProcessInfo",
                "<param>\n<value><string>nope</string></value>\n</param>\n"
            ),
            &mut b,
            now()
        )),
        "<?xml version='1.0'?>\n<methodResponse>\n<fault>\n<value><struct>\n<member>\n<name>faultCode</name>\n<value><int>10</int></value>\n</member>\n<member>\n<name>faultString</name>\n<value><string>BAD_NAME: nope</string></value>\n</member>\n</struct></value>\n</fault>\n</methodResponse>\n"
    );
}

#[test]
fn wire_bad_requests() {
    let mut b = standard();
    let cases: Vec<&[u8]> = vec![
        b"",
        b"not xml",
        b"<methodCall><methodName>x</methodName>",
        b"<methodCall><params/></methodCall>",
        b"<methodCall><methodName></methodName></methodCall>",
        b"<methodCall><methodName>supervisor.getPID</methodName><params><param><value><int>x</int></value></param></params></methodCall>",
        b"\xff\xfe<methodCall/>",
    ];
    for case in cases {
        assert!(
            matches!(handle_request(case, &mut b, now()), RpcOutcome::BadRequest),
            "{:?}",
            String::from_utf8_lossy(case)
        );
    }
}

#[test]
fn wire_server_decoding_quirks() {
    let mut b = standard();
    // No <params> at all is allowed.
    let text = reply_text(handle_request(
        b"<methodCall><methodName>supervisor.getAPIVersion</methodName></methodCall>",
        &mut b,
        now(),
    ));
    assert!(text.contains("<string>3.0</string>"), "{text}");
    // <i8> is passed as a string, which int() still accepts for offsets.
    let path = temp_path("wire-mainlog");
    std::fs::write(&path, b"abcdef").unwrap();
    b.main_log = Some(path.clone());
    let text = reply_text(handle_request(
        &body(
            "supervisor.readLog",
            "<param><value><i8>0</i8></value></param><param><value><i8>3</i8></value></param>",
        ),
        &mut b,
        now(),
    ));
    assert!(text.contains("<string>abc</string>"), "{text}");
    std::fs::remove_file(&path).unwrap();
    // base64 data arrives as a string (sendProcessStdin accepts it).
    let text = reply_text(handle_request(
        &body(
            "supervisor.sendProcessStdin",
            "<param><value>sleeper</value></param><param><value><base64>aGk=</base64></value></param>",
        ),
        &mut b,
        now(),
    ));
    assert!(text.contains("<boolean>1</boolean>"), "{text}");
    assert_eq!(b.proc_mut("sleeper", "sleeper").stdin, b"hi");
}

#[test]
fn wire_pending_call_is_polled_to_its_reply() {
    let mut b = standard();
    let outcome = handle_request(
        &body(
            "supervisor.startProcess",
            "<param><value><string>idle</string></value></param>",
        ),
        &mut b,
        now(),
    );
    let RpcOutcome::Pending(mut pending) = outcome else {
        panic!("expected pending, got {outcome:?}");
    };
    assert_eq!(pending.method(), "supervisor.startProcess");
    assert_eq!(poll(&mut pending, &mut b, now()), None);
    b.set_state("idle", "idle", ProcessState::Backoff);
    b.proc_mut("idle", "idle").snap.spawnerr = "Exited too quickly".into();
    let reply = String::from_utf8(poll(&mut pending, &mut b, now()).unwrap()).unwrap();
    assert!(reply.contains("<int>50</int>"), "{reply}");
    assert!(reply.contains("SPAWN_ERROR: idle"), "{reply}");
}

#[test]
fn large_pids_and_times_never_break_the_reply() {
    let mut b = standard();
    b.proc_mut("sleeper", "sleeper").snap.laststart = 1e13;
    b.proc_mut("sleeper", "sleeper").snap.exitstatus = 1 << 40;
    let text = reply_text(handle_request(
        &body("supervisor.getAllProcessInfo", ""),
        &mut b,
        now(),
    ));
    assert!(text.contains("<int>2147483647</int>"), "{text}");
}

//! Unit tests of the method layer against a fake backend: every method, its faults and check
//! order, multicall and deferred (wait=true) replies.

mod arity;
mod fake;
mod wire;

use fake::*;

use super::backend::*;
use super::wire::Value;
use crate::config::model::*;
use crate::testutil::TempDir;

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
    let tmp = TempDir::new("rpc-mainlog");
    let path = tmp.join("main.log");
    b.main_log = Some(path.clone());
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
    let tmp = TempDir::new("rpc-stdout");
    let out = tmp.join("stdout.log");
    std::fs::write(&out, b"hello world\n").unwrap();
    let missing = tmp.join("missing.log");
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

//! Transition-by-transition tests of the process state machine with a simulated clock.

use std::time::{Duration, Instant};

use super::*;
use crate::config::model::AutoRestart;
use crate::process::test_config;

const EXIT_0: i32 = 0;
const EXIT_3: i32 = 3 << 8;
const BY_SIGTERM: i32 = 15;
const BY_SIGKILL: i32 = 9;

struct Sim {
    t0: Instant,
    p: Process,
}

impl Sim {
    fn new(edit: impl FnOnce(&mut crate::config::model::ProcessConfig)) -> Sim {
        let mut c = test_config("cat");
        edit(&mut c);
        Sim {
            t0: Instant::now(),
            p: Process::new(c, "grp"),
        }
    }

    fn at(&self, ms: u64) -> Instant {
        self.t0 + Duration::from_millis(ms)
    }

    fn step(&mut self, input: Input, ms: u64) -> Vec<Action> {
        let now = self.at(ms);
        self.p.step(input, now)
    }

    fn deadline_ms(&self) -> Option<u64> {
        self.p
            .next_deadline()
            .map(|d| d.duration_since(self.t0).as_millis() as u64)
    }
}

fn logs(actions: &[Action]) -> Vec<String> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Log(level, m) => Some(format!("{level:?} {m}")),
            _ => None,
        })
        .collect()
}

fn transitions(actions: &[Action]) -> Vec<String> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Emit(e) => Some(format!("{} {}", e.event_type().name(), e.payload())),
            _ => None,
        })
        .collect()
}

fn spawned(sim: &mut Sim, pid: u32, ms: u64) {
    let a = sim.step(Input::Spawned(pid), ms);
    assert_eq!(
        logs(&a),
        vec![format!("Info spawned: 'cat' with pid {pid}")]
    );
}

#[test]
fn autostart_spawns_once_and_reaches_running_strictly_after_startsecs() {
    let mut sim = Sim::new(|_| {});
    let a = sim.step(Input::AutoStart, 0);
    assert_eq!(a.last(), Some(&Action::Spawn));
    assert_eq!(
        transitions(&a),
        vec!["PROCESS_STATE_STARTING processname:cat groupname:grp from_state:STOPPED tries:0"]
    );
    spawned(&mut sim, 100, 0);
    assert_eq!(sim.deadline_ms(), Some(1000));
    assert!(
        sim.step(Input::Timeout, 1000).is_empty(),
        "exactly startsecs is not enough"
    );
    let a = sim.step(Input::Timeout, 1001);
    assert_eq!(sim.p.state, ProcessState::Running);
    assert_eq!(
        transitions(&a),
        vec!["PROCESS_STATE_RUNNING processname:cat groupname:grp from_state:STARTING pid:100"]
    );
    assert_eq!(
        logs(&a),
        vec![
            "Info success: cat entered RUNNING state, process has stayed up for > than 1 seconds (startsecs)"
        ]
    );
    assert_eq!(sim.deadline_ms(), None);
    // A second autostart (e.g. a later pass) does nothing: it was started before.
    sim.step(Input::Stop, 2000);
    sim.step(Input::Exited(BY_SIGTERM), 2010);
    assert!(sim.step(Input::AutoStart, 2020).is_empty());
}

#[test]
fn autostart_false_does_not_start() {
    let mut sim = Sim::new(|c| c.autostart = false);
    assert!(sim.step(Input::AutoStart, 0).is_empty());
    assert_eq!(sim.p.state, ProcessState::Stopped);
}

#[test]
fn quick_exits_back_off_1_2_3_seconds_then_fatal() {
    let mut sim = Sim::new(|c| c.startretries = 2);
    sim.step(Input::AutoStart, 0);
    spawned(&mut sim, 10, 0);
    let a = sim.step(Input::Exited(EXIT_0), 100);
    assert_eq!(sim.p.state, ProcessState::Backoff);
    assert_eq!(
        transitions(&a),
        vec!["PROCESS_STATE_BACKOFF processname:cat groupname:grp from_state:STARTING tries:1"]
    );
    // Exit code 0 is expected, but an exit before startsecs is never expected.
    assert_eq!(
        logs(&a),
        vec!["Warn exited: cat (exit status 0; not expected)"]
    );
    assert_eq!(
        sim.p.spawnerr.as_deref(),
        Some("Exited too quickly (process log may have details)")
    );
    assert_eq!(sim.deadline_ms(), Some(1100));
    assert!(sim.step(Input::Timeout, 1100).is_empty());
    let a = sim.step(Input::Timeout, 1101);
    assert_eq!(
        transitions(&a),
        vec!["PROCESS_STATE_STARTING processname:cat groupname:grp from_state:BACKOFF tries:1"]
    );
    spawned(&mut sim, 11, 1101);
    sim.step(Input::Exited(EXIT_3), 1200);
    assert_eq!(sim.deadline_ms(), Some(3200), "second wait is 2 s");
    sim.step(Input::Timeout, 3201);
    spawned(&mut sim, 12, 3201);
    let a = sim.step(Input::Exited(EXIT_3), 3300);
    assert_eq!(sim.p.state, ProcessState::Fatal);
    assert_eq!(
        transitions(&a),
        vec![
            "PROCESS_STATE_BACKOFF processname:cat groupname:grp from_state:STARTING tries:3",
            "PROCESS_STATE_FATAL processname:cat groupname:grp from_state:BACKOFF",
        ]
    );
    assert_eq!(
        logs(&a),
        vec![
            "Warn exited: cat (exit status 3; not expected)",
            "Info gave up: cat entered FATAL state, too many start retries too quickly",
        ]
    );
    assert_eq!(sim.p.backoff, 0);
    assert_eq!(sim.deadline_ms(), None);
    // A manual start from FATAL works and starts counting from zero.
    let a = sim.step(Input::Start, 5000);
    assert!(transitions(&a)[0].ends_with("from_state:FATAL tries:0"));
}

#[test]
fn spawn_errors_back_off_and_give_up_with_the_message() {
    let mut sim = Sim::new(|c| c.startretries = 1);
    sim.step(Input::AutoStart, 0);
    let a = sim.step(Input::SpawnFailed("can't find command 'nope'".into()), 0);
    assert_eq!(logs(&a), vec!["Info spawnerr: can't find command 'nope'"]);
    assert_eq!(sim.p.state, ProcessState::Backoff);
    assert_eq!(sim.deadline_ms(), Some(1000));
    sim.step(Input::Timeout, 1001);
    let a = sim.step(Input::SpawnFailed("can't find command 'nope'".into()), 1001);
    assert_eq!(
        logs(&a),
        vec![
            "Info spawnerr: can't find command 'nope'",
            "Info gave up: cat entered FATAL state, too many start retries too quickly"
        ]
    );
    assert_eq!(sim.p.state, ProcessState::Fatal);
    assert_eq!(sim.p.spawnerr.as_deref(), Some("can't find command 'nope'"));
}

#[test]
fn exit_after_startsecs_with_each_autorestart_mode() {
    // (autorestart, exit status, expected?, restarts?)
    let cases = [
        (AutoRestart::Unexpected, EXIT_0, true, false),
        (AutoRestart::Unexpected, EXIT_3, false, true),
        (AutoRestart::Unexpected, BY_SIGKILL, false, true),
        (AutoRestart::Always, EXIT_0, true, true),
        (AutoRestart::Always, EXIT_3, false, true),
        (AutoRestart::Never, EXIT_0, true, false),
        (AutoRestart::Never, EXIT_3, false, false),
    ];
    for (mode, status, expected, restarts) in cases {
        let mut sim = Sim::new(|c| c.autorestart = mode);
        sim.step(Input::AutoStart, 0);
        spawned(&mut sim, 7, 0);
        sim.step(Input::Timeout, 1001);
        let a = sim.step(Input::Exited(status), 5000);
        let what = format!("{mode:?} {status}");
        assert_eq!(sim.p.state, ProcessState::Exited, "{what}");
        assert_eq!(
            transitions(&a),
            vec![format!(
                "PROCESS_STATE_EXITED processname:cat groupname:grp from_state:RUNNING expected:{} pid:7",
                expected as u8
            )],
            "{what}"
        );
        let tail = if expected { "expected" } else { "not expected" };
        let level = if expected { "Info" } else { "Warn" };
        assert!(logs(&a)[0].starts_with(level), "{what}");
        assert!(logs(&a)[0].ends_with(&format!("; {tail})")), "{what}");
        assert_eq!(sim.p.pid, 0);
        if restarts {
            assert_eq!(
                sim.deadline_ms(),
                Some(5000),
                "restart is due at once: {what}"
            );
            let a = sim.step(Input::Timeout, 5000);
            assert_eq!(a.last(), Some(&Action::Spawn), "{what}");
        } else {
            assert_eq!(sim.deadline_ms(), None, "{what}");
            assert!(sim.step(Input::Timeout, 9000).is_empty(), "{what}");
        }
    }
}

#[test]
fn startsecs_zero_program_restarts_at_most_once_per_second() {
    let mut sim = Sim::new(|c| {
        c.startsecs = 0;
        c.autorestart = AutoRestart::Always;
    });
    sim.step(Input::AutoStart, 0);
    spawned(&mut sim, 7, 0);
    assert_eq!(sim.deadline_ms(), Some(0));
    sim.step(Input::Timeout, 1);
    assert_eq!(sim.p.state, ProcessState::Running);
    sim.step(Input::Exited(EXIT_0), 200);
    assert_eq!(sim.p.state, ProcessState::Exited);
    assert_eq!(
        sim.deadline_ms(),
        Some(1000),
        "not sooner than 1 s after the start"
    );
    assert!(sim.step(Input::Timeout, 999).is_empty());
    assert_eq!(sim.step(Input::Timeout, 1000).last(), Some(&Action::Spawn));
}

#[test]
fn stop_escalates_to_sigkill_every_stopwaitsecs() {
    let mut sim = Sim::new(|c| {
        c.stopwaitsecs = 2;
        c.stopasgroup = false;
        c.killasgroup = true;
    });
    sim.step(Input::AutoStart, 0);
    spawned(&mut sim, 50, 0);
    sim.step(Input::Timeout, 1001);
    let a = sim.step(Input::Stop, 3000);
    assert!(a.contains(&Action::Kill {
        pid: 50,
        signal: 15,
        group: false
    }));
    assert_eq!(
        transitions(&a),
        vec!["PROCESS_STATE_STOPPING processname:cat groupname:grp from_state:RUNNING pid:50"]
    );
    assert_eq!(
        logs(&a),
        vec!["Debug killing cat (pid 50) with signal SIGTERM"]
    );
    assert_eq!(sim.deadline_ms(), Some(5000));
    assert!(sim.step(Input::Timeout, 4999).is_empty());
    let a = sim.step(Input::Timeout, 5000);
    assert_eq!(
        logs(&a),
        vec![
            "Warn killing 'cat' (50) with SIGKILL",
            "Debug killing cat (pid 50) process group with signal SIGKILL"
        ]
    );
    assert!(a.contains(&Action::Kill {
        pid: 50,
        signal: 9,
        group: true
    }));
    assert!(transitions(&a).is_empty(), "stays STOPPING");
    assert_eq!(sim.deadline_ms(), Some(7000), "repeated while it survives");
    let a = sim.step(Input::Exited(BY_SIGKILL), 7500);
    assert_eq!(sim.p.state, ProcessState::Stopped);
    assert_eq!(logs(&a), vec!["Warn stopped: cat (terminated by SIGKILL)"]);
    assert_eq!(
        transitions(&a),
        vec!["PROCESS_STATE_STOPPED processname:cat groupname:grp from_state:STOPPING pid:50"]
    );
    assert_eq!(sim.deadline_ms(), None);
}

#[test]
fn stopped_with_an_expected_code_logs_info_and_stopasgroup_signals_the_group() {
    let mut sim = Sim::new(|c| {
        c.stopasgroup = true;
        c.killasgroup = true;
        c.stopsignal = 2;
    });
    sim.step(Input::AutoStart, 0);
    spawned(&mut sim, 50, 0);
    let a = sim.step(Input::Stop, 10);
    assert!(a.contains(&Action::Kill {
        pid: 50,
        signal: 2,
        group: true
    }));
    assert_eq!(
        logs(&a),
        vec!["Debug killing cat (pid 50) process group with signal SIGINT"]
    );
    let a = sim.step(Input::Exited(EXIT_0), 20);
    assert_eq!(logs(&a), vec!["Info stopped: cat (exit status 0)"]);
    assert_eq!(sim.p.exitstatus, Some(0));
}

#[test]
fn stop_in_backoff_stops_without_a_signal_and_keeps_the_counter() {
    let mut sim = Sim::new(|_| {});
    sim.step(Input::AutoStart, 0);
    spawned(&mut sim, 5, 0);
    sim.step(Input::Exited(EXIT_3), 10);
    let a = sim.step(Input::Stop, 20);
    assert!(!a.iter().any(|a| matches!(a, Action::Kill { .. })));
    assert_eq!(sim.p.state, ProcessState::Stopped);
    assert_eq!(sim.p.backoff, 1);
    assert_eq!(
        transitions(&a),
        vec!["PROCESS_STATE_STOPPED processname:cat groupname:grp from_state:BACKOFF pid:0"]
    );
    assert_eq!(sim.deadline_ms(), None);
}

#[test]
fn shutdown_gives_up_backoff_stops_running_and_holds_restarts() {
    let mut sim = Sim::new(|c| c.autorestart = AutoRestart::Always);
    sim.step(Input::AutoStart, 0);
    spawned(&mut sim, 5, 0);
    sim.step(Input::Exited(EXIT_3), 10);
    let a = sim.step(Input::StopForShutdown, 20);
    assert_eq!(sim.p.state, ProcessState::Fatal);
    assert!(logs(&a).is_empty(), "give-up at shutdown is silent");

    let mut sim = Sim::new(|c| c.autorestart = AutoRestart::Always);
    sim.step(Input::AutoStart, 0);
    spawned(&mut sim, 5, 0);
    sim.step(Input::Timeout, 1001);
    sim.step(Input::Hold, 1500);
    sim.step(Input::Exited(EXIT_3), 2000);
    assert_eq!(sim.p.state, ProcessState::Exited);
    assert_eq!(sim.deadline_ms(), None, "no restart while holding");
    assert!(sim.step(Input::Timeout, 9000).is_empty());
}

#[test]
fn kill_failure_enters_unknown() {
    let mut sim = Sim::new(|_| {});
    sim.step(Input::AutoStart, 0);
    spawned(&mut sim, 5, 0);
    sim.step(Input::Stop, 10);
    let a = sim.step(Input::KillFailed("EPERM".into()), 10);
    assert_eq!(sim.p.state, ProcessState::Unknown);
    assert_eq!(
        logs(&a),
        vec!["Critical unknown problem killing cat (5):EPERM"]
    );
    assert!(!sim.p.killing);
    assert_eq!(sim.deadline_ms(), None);
}

#[test]
fn start_is_ignored_while_running_and_signal_needs_a_pid() {
    let mut sim = Sim::new(|_| {});
    let a = sim.step(Input::Signal(1), 0);
    assert_eq!(
        logs(&a),
        vec!["Debug attempted to send cat sig SIGHUP but it wasn't running"]
    );
    sim.step(Input::Start, 0);
    spawned(&mut sim, 5, 0);
    assert!(sim.step(Input::Start, 10).is_empty());
    let a = sim.step(Input::Signal(1), 20);
    assert_eq!(
        a.last(),
        Some(&Action::Kill {
            pid: 5,
            signal: 1,
            group: false
        })
    );
    assert_eq!(sim.p.state, ProcessState::Starting);
}

#[test]
fn exit_of_a_starting_process_after_startsecs_passes_through_running() {
    let mut sim = Sim::new(|_| {});
    sim.step(Input::AutoStart, 0);
    spawned(&mut sim, 5, 0);
    // No Timeout was delivered before the exit.
    let a = sim.step(Input::Exited(EXIT_0), 1500);
    assert_eq!(
        transitions(&a)
            .iter()
            .map(|t| t.split(' ').next().unwrap_or(""))
            .collect::<Vec<_>>(),
        vec!["PROCESS_STATE_RUNNING", "PROCESS_STATE_EXITED"]
    );
}

#[test]
fn start_while_stopping_warns_that_the_process_is_still_running() {
    let mut sim = Sim::new(|c| c.startsecs = 0);
    sim.step(Input::AutoStart, 0);
    spawned(&mut sim, 7, 0);
    sim.step(Input::Timeout, 1);
    sim.step(Input::Stop, 100);
    assert_eq!(sim.p.state, ProcessState::Stopping);
    let a = sim.step(Input::Start, 200);
    assert_eq!(logs(&a), vec!["Warn process 'cat' already running"]);
    assert!(transitions(&a).is_empty());
    assert!(!a.contains(&Action::Spawn));
    assert_eq!(sim.p.state, ProcessState::Stopping);
    assert_eq!(sim.p.laststart, Some(sim.at(0)), "the start time is kept");
    sim.step(Input::Exited(BY_SIGTERM), 300);
    assert_eq!(sim.p.state, ProcessState::Stopped);
}

#[test]
fn the_last_exit_status_outlives_the_restart() {
    // Metrics show it after a crash and restart, and in BACKOFF after a quick exit, where the
    // reference's exitstatus is already cleared.
    let mut sim = Sim::new(|c| c.autorestart = AutoRestart::Always);
    assert_eq!(sim.p.last_exit_status(), None);
    sim.step(Input::AutoStart, 0);
    spawned(&mut sim, 7, 0);
    sim.step(Input::Timeout, 1001);
    sim.step(Input::Exited(EXIT_3), 5000);
    assert_eq!(sim.step(Input::Timeout, 5000).last(), Some(&Action::Spawn));
    spawned(&mut sim, 8, 5000);
    assert_eq!(sim.p.state, ProcessState::Starting);
    assert_eq!(sim.p.exitstatus, None);
    assert_eq!(sim.p.last_exit_status(), Some(3));
    sim.step(Input::Exited(BY_SIGKILL), 5100);
    assert_eq!(sim.p.state, ProcessState::Backoff);
    assert_eq!(sim.p.exitstatus, None);
    assert_eq!(sim.p.last_exit_status(), Some(-1));
}

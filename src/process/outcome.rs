//! What a process's end means for supervisord itself (`essential=`, `exit_when_idle=`): whether
//! it reached a state it will not leave by itself, the exit status that hands to the daemon
//! (as a shell reports it), and whether it still counts as work in progress. Pure: decided from
//! the machine's data and the daemon's facts passed in.

use crate::process::ProcessState;
use crate::process::machine::Process;

/// How a process ended for good.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// EXITED and no restart will come; the raw wait status.
    Exited(i32),
    /// FATAL: too many failed starts (spawn errors included).
    Fatal,
    /// It can never start because a dependency went FATAL (the daemon says so; see
    /// `ProcessTable::blocked_by_dependency`).
    DependencyFailed,
}

/// Facts about a process that live in the daemon rather than in its machine.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Outlook {
    /// Queued for the daemon's start-up (autostart not done yet) or its start held until its
    /// dependencies hold.
    pub queued_for_start: bool,
    /// It will never be started: a dependency went FATAL.
    pub blocked: bool,
}

/// Some when `p` reached a state it will not leave by itself: EXITED without a pending
/// restart, FATAL, or a start that can never happen.
pub fn ending(p: &Process, outlook: Outlook) -> Option<Ending> {
    match p.state {
        ProcessState::Exited if !restart_pending(p) => {
            Some(Ending::Exited(p.wait_status.unwrap_or(0)))
        }
        ProcessState::Fatal => Some(Ending::Fatal),
        ProcessState::Stopped if outlook.blocked => Some(Ending::DependencyFailed),
        _ => None,
    }
}

/// An EXITED process waits for its automatic restart (the machine set its deadline).
fn restart_pending(p: &Process) -> bool {
    p.state == ProcessState::Exited && p.delay.is_some() && !p.holding
}

/// The exit status supervisord takes over: the program's exit code, 128+N after signal N,
/// 1 when it never ran properly (FATAL, spawn errors, a failed dependency).
pub fn exit_code(ending: &Ending) -> i32 {
    match *ending {
        Ending::Exited(status) if libc::WIFEXITED(status) => libc::WEXITSTATUS(status),
        Ending::Exited(status) if libc::WIFSIGNALED(status) => 128 + libc::WTERMSIG(status),
        _ => 1,
    }
}

/// The one main-log line saying why supervisord shuts down.
pub fn shutdown_reason(name: &str, ending: &Ending) -> String {
    let code = exit_code(ending);
    let what = match ending {
        Ending::Exited(status) => {
            let (_, text) = crate::process::wait_status::decode(*status);
            format!("exited ({text})")
        }
        Ending::Fatal => "entered FATAL state".to_string(),
        Ending::DependencyFailed => {
            "can never start (a dependency entered FATAL state)".to_string()
        }
    };
    format!("essential program {name} {what}: stopping all processes, exit status {code}")
}

/// Whether `p` is neither running, starting or stopping, nor waiting to restart or to start,
/// and never will be by itself (`exit_when_idle`).
pub fn idle(p: &Process, outlook: Outlook) -> bool {
    if outlook.queued_for_start && !outlook.blocked {
        return false;
    }
    match p.state {
        ProcessState::Starting
        | ProcessState::Running
        | ProcessState::Backoff
        | ProcessState::Stopping => false,
        ProcessState::Exited => !restart_pending(p),
        ProcessState::Stopped | ProcessState::Fatal | ProcessState::Unknown => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::AutoRestart;
    use crate::process::{Input, test_config};
    use std::time::{Duration, Instant};

    /// A process driven through the machine: spawned, then reaped with `status` after `ran`.
    fn exited(autorestart: AutoRestart, status: i32, ran: Duration) -> Process {
        let mut config = test_config("p");
        config.autorestart = autorestart;
        config.startsecs = 1;
        let mut p = Process::new(config, "g");
        let t0 = Instant::now();
        p.step(Input::Start, t0);
        p.step(Input::Spawned(42), t0);
        p.step(Input::Exited(status), t0 + ran);
        p
    }

    const LONG: Duration = Duration::from_secs(5);
    const NONE: Outlook = Outlook {
        queued_for_start: false,
        blocked: false,
    };

    #[test]
    fn endings_and_exit_codes() {
        let exit3 = 3 << 8;
        let cases = [
            // (autorestart, wait status, ran, ending, exit code, idle)
            (
                AutoRestart::Never,
                exit3,
                LONG,
                Some(Ending::Exited(exit3)),
                3,
                true,
            ),
            (
                AutoRestart::Never,
                0,
                LONG,
                Some(Ending::Exited(0)),
                0,
                true,
            ),
            (
                AutoRestart::Never,
                libc::SIGKILL,
                LONG,
                Some(Ending::Exited(9)),
                137,
                true,
            ),
            (
                AutoRestart::Never,
                libc::SIGTERM | 0x80,
                LONG,
                Some(Ending::Exited(15 | 0x80)),
                143,
                true,
            ),
            // An expected exit is final with autorestart=unexpected; an unexpected one restarts.
            (
                AutoRestart::Unexpected,
                0,
                LONG,
                Some(Ending::Exited(0)),
                0,
                true,
            ),
            (AutoRestart::Unexpected, exit3, LONG, None, -1, false),
            (AutoRestart::Always, 0, LONG, None, -1, false),
            // Exited too quickly: BACKOFF, a retry is due.
            (AutoRestart::Never, exit3, Duration::ZERO, None, -1, false),
        ];
        for (i, (autorestart, status, ran, want, code, is_idle)) in cases.into_iter().enumerate() {
            let p = exited(autorestart, status, ran);
            let got = ending(&p, NONE);
            assert_eq!(got, want, "case {i}");
            if let Some(e) = &got {
                assert_eq!(exit_code(e), code, "case {i}");
            }
            assert_eq!(idle(&p, NONE), is_idle, "case {i}");
        }
        assert_eq!(exit_code(&Ending::Fatal), 1);
        assert_eq!(exit_code(&Ending::DependencyFailed), 1);
    }

    #[test]
    fn fatal_after_spawn_errors_ends_with_status_1() {
        let mut config = test_config("p");
        config.startretries = 0;
        let mut p = Process::new(config, "g");
        let t0 = Instant::now();
        p.step(Input::Start, t0);
        p.step(Input::SpawnFailed("can't find command 'x'".into()), t0);
        assert_eq!(p.state, ProcessState::Fatal);
        assert_eq!(ending(&p, NONE), Some(Ending::Fatal));
        assert!(idle(&p, NONE));
        assert_eq!(
            shutdown_reason("p", &Ending::Fatal),
            "essential program p entered FATAL state: stopping all processes, exit status 1"
        );
    }

    #[test]
    fn an_operator_stop_is_no_ending() {
        let mut p = exited(AutoRestart::Never, 0, Duration::ZERO);
        let t0 = Instant::now();
        p.step(Input::Start, t0);
        p.step(Input::Spawned(43), t0);
        p.step(Input::Stop, t0 + LONG);
        p.step(Input::Exited(libc::SIGTERM), t0 + LONG);
        assert_eq!(p.state, ProcessState::Stopped);
        assert_eq!(ending(&p, NONE), None);
        assert!(idle(&p, NONE));
    }

    #[test]
    fn idle_waits_for_queued_starts_and_counts_blocked_programs_as_done() {
        let p = Process::new(test_config("p"), "g");
        let queued = Outlook {
            queued_for_start: true,
            blocked: false,
        };
        let blocked = Outlook {
            queued_for_start: true,
            blocked: true,
        };
        assert!(idle(&p, NONE));
        assert!(!idle(&p, queued));
        assert!(idle(&p, blocked));
        assert_eq!(ending(&p, NONE), None);
        assert_eq!(ending(&p, blocked), Some(Ending::DependencyFailed));
        assert!(
            shutdown_reason("p", &Ending::Exited(libc::SIGKILL)).ends_with(
                "exited (terminated by SIGKILL): stopping all processes, exit status 137"
            )
        );
        let running = exited(AutoRestart::Always, 0, LONG);
        assert!(!idle(&running, NONE), "a restart is pending");
    }
}

//! The pure per-process state machine: `step(input, now) -> actions`. No syscalls, no clock reads;
//! the daemon carries out the actions and feeds the results (spawned pid, exit status) back in.

use std::rc::Rc;
use std::time::{Duration, Instant, SystemTime};

use crate::config::model::{AutoRestart, LogLevel, ProcessConfig};
use crate::events::{Event, ProcessStateChange};
use crate::process::{restart, wait_status};
use crate::wire::ProcessState;

/// A program that exited within this long of its start is not restarted sooner than this long
/// after that start (the reference's pace, from its 1-second loop).
pub const MIN_RESTART_INTERVAL: Duration = Duration::from_secs(1);

/// What happened to a process (or what was asked of it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// supervisord start/reload: start if `autostart` and never started.
    AutoStart,
    /// An explicit start (RPC `startProcess`).
    Start,
    /// An explicit stop (RPC `stopProcess`).
    Stop,
    /// supervisord is shutting down: no more automatic (re)starts.
    Hold,
    /// Shutdown's `stop_all` for this process: stop if running, give up if in BACKOFF.
    StopForShutdown,
    /// Send a signal without intending to stop (RPC `signalProcess`).
    Signal(i32),
    /// The daemon forked the child.
    Spawned(u32),
    /// A pre-fork failure (command not found, pipe/fork error): the spawnerr message.
    SpawnFailed(String),
    /// The child was reaped with this raw wait status (its output already drained).
    Exited(i32),
    /// kill() failed with something other than ESRCH.
    KillFailed(String),
    /// Time passed: act on any due deadline.
    Timeout,
}

/// What the daemon must do, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Resolve the command and fork/exec; answer with `Spawned` or `SpawnFailed`.
    Spawn,
    /// kill(pid or -pid, signal); answer `KillFailed` on errors other than ESRCH.
    Kill {
        pid: u32,
        signal: i32,
        group: bool,
    },
    Log(LogLevel, String),
    Emit(Event),
}

/// One supervised process: its config and everything the state machine remembers.
#[derive(Debug, Clone)]
pub struct Process {
    pub config: Rc<ProcessConfig>,
    /// Shared with the group and the process's pipe owners.
    pub group: Rc<str>,
    pub state: ProcessState,
    /// 0 when no child is running.
    pub pid: u32,
    pub laststart: Option<Instant>,
    pub laststop: Option<Instant>,
    /// Wall-clock times of the last start/stop, filled in by the daemon for display (RPC).
    pub laststart_wall: Option<SystemTime>,
    pub laststop_wall: Option<SystemTime>,
    /// Failed start attempts in a row.
    pub backoff: u32,
    /// The pending deadline; its meaning depends on the state (see `next_deadline`).
    pub delay: Option<Instant>,
    /// A stop was requested and the child has not been reaped yet.
    pub killing: bool,
    /// The reference's exitstatus: cleared by each spawn and by an exit "too quickly" (what
    /// getProcessInfo reports).
    pub exitstatus: Option<i32>,
    /// The raw wait status of the last reaped child (None before the first exit); kept across
    /// spawns.
    pub wait_status: Option<i32>,
    pub spawnerr: Option<String>,
    /// No automatic starts any more (supervisord is shutting down or restarting).
    pub holding: bool,
    /// `restart_delay_max=`: consecutive unexpected exits after RUNNING (the doubling).
    pub restart_streak: u32,
    /// `restart_jitter=`: the random state of the spread (the daemon seeds it).
    pub jitter_state: u64,
}

impl Process {
    pub fn new(config: impl Into<Rc<ProcessConfig>>, group: impl Into<Rc<str>>) -> Process {
        Process {
            config: config.into(),
            group: group.into(),
            state: ProcessState::Stopped,
            pid: 0,
            laststart: None,
            laststop: None,
            laststart_wall: None,
            laststop_wall: None,
            backoff: 0,
            delay: None,
            killing: false,
            exitstatus: None,
            wait_status: None,
            spawnerr: None,
            holding: false,
            restart_streak: 0,
            jitter_state: 0,
        }
    }

    /// The last exit's status in the reference's encoding (the code, -1 after a signal), kept
    /// across spawns and quick exits: what an operator wants to see after a crash and restart
    /// (metrics), where `exitstatus` is already cleared. None before the first exit.
    pub fn last_exit_status(&self) -> Option<i32> {
        self.wait_status.map(wait_status::exit_status)
    }

    /// How long until a pending automatic restart of ours (`restart_delay=`, `backoff_max=`);
    /// None when none is pending or the program sets none of those keys.
    pub fn restart_pending(&self, now: Instant) -> Option<Duration> {
        if !self.config.extensions.restart.is_set()
            || self.holding
            || !matches!(self.state, ProcessState::Exited | ProcessState::Backoff)
        {
            return None;
        }
        self.delay.map(|d| d.saturating_duration_since(now))
    }

    pub fn name(&self) -> &str {
        &self.config.name
    }

    /// When `step(Input::Timeout, ..)` has something to do; None = nothing pending.
    pub fn next_deadline(&self) -> Option<Instant> {
        match self.state {
            ProcessState::Starting if self.pid != 0 => self
                .laststart
                .map(|start| start + Duration::from_secs(self.config.startsecs)),
            ProcessState::Backoff | ProcessState::Exited if self.holding => None,
            ProcessState::Backoff | ProcessState::Exited | ProcessState::Stopping => self.delay,
            _ => None,
        }
    }

    /// Advances the machine; returns the actions to carry out in order.
    pub fn step(&mut self, input: Input, now: Instant) -> Vec<Action> {
        let mut out = Vec::new();
        match input {
            Input::AutoStart => {
                if self.state == ProcessState::Stopped
                    && self.laststart.is_none()
                    && self.config.autostart
                    && !self.holding
                {
                    self.spawn(now, &mut out);
                }
            }
            Input::Start => {
                // A manual start cancels a pending delay (spawn clears it) and the doubling.
                self.restart_streak = 0;
                if matches!(
                    self.state,
                    ProcessState::Stopped
                        | ProcessState::Exited
                        | ProcessState::Fatal
                        | ProcessState::Backoff
                ) {
                    self.spawn(now, &mut out);
                } else if self.state == ProcessState::Stopping {
                    // startProcess lets STOPPING through (it is not "running"); the spawn
                    // refuses because the child is still alive, with the reference's warning.
                    self.spawn(now, &mut out);
                }
            }
            Input::Stop => {
                self.restart_streak = 0;
                self.stop(now, &mut out)
            }
            Input::Hold => self.holding = true,
            Input::StopForShutdown => {
                self.holding = true;
                match self.state {
                    ProcessState::Running | ProcessState::Starting => self.stop(now, &mut out),
                    ProcessState::Backoff => self.give_up(&mut out),
                    _ => {}
                }
            }
            Input::Signal(sig) => self.signal(sig, &mut out),
            Input::Spawned(pid) => {
                if self.state == ProcessState::Starting && self.pid == 0 {
                    self.pid = pid;
                    self.spawnerr = None;
                    self.log(
                        &mut out,
                        LogLevel::Info,
                        format!("spawned: '{}' with pid {}", self.name(), pid),
                    );
                }
            }
            Input::SpawnFailed(msg) => {
                if self.state == ProcessState::Starting && self.pid == 0 {
                    self.log(&mut out, LogLevel::Info, format!("spawnerr: {msg}"));
                    self.spawnerr = Some(msg);
                    self.enter_backoff(now, &mut out);
                    if self.backoff > self.config.startretries {
                        self.give_up_logged(&mut out);
                    }
                }
            }
            Input::Exited(status) => self.finish(status, now, &mut out),
            Input::KillFailed(msg) => {
                self.log(
                    &mut out,
                    LogLevel::Critical,
                    format!(
                        "unknown problem killing {} ({}):{}",
                        self.name(),
                        self.pid,
                        msg
                    ),
                );
                self.change_state(ProcessState::Unknown, false, &mut out);
                self.killing = false;
                self.delay = None;
            }
            Input::Timeout => self.on_timeout(now, &mut out),
        }
        out
    }

    fn on_timeout(&mut self, now: Instant, out: &mut Vec<Action>) {
        match self.state {
            ProcessState::Starting if self.pid != 0 => {
                let Some(start) = self.laststart else { return };
                // Strictly longer than startsecs, as the reference.
                if now.duration_since(start) > Duration::from_secs(self.config.startsecs) {
                    self.delay = None;
                    self.backoff = 0;
                    self.change_state(ProcessState::Running, true, out);
                    let msg = format!(
                        "success: {} entered RUNNING state, process has stayed up for > than {} seconds (startsecs)",
                        self.name(),
                        self.config.startsecs
                    );
                    self.log(out, LogLevel::Info, msg);
                }
            }
            ProcessState::Backoff => {
                if self.backoff > self.config.startretries {
                    self.give_up_logged(out);
                } else if !self.holding && self.delay.is_some_and(|d| now > d) {
                    self.spawn(now, out);
                }
            }
            ProcessState::Exited if !self.holding && self.delay.is_some_and(|d| now >= d) => {
                self.spawn(now, out);
            }
            ProcessState::Stopping if self.delay.is_some_and(|d| now >= d) && self.pid != 0 => {
                let msg = format!("killing '{}' ({}) with SIGKILL", self.name(), self.pid);
                self.log(out, LogLevel::Warn, msg);
                self.kill(libc::SIGKILL, now, out);
            }
            _ => {}
        }
    }

    fn spawn(&mut self, now: Instant, out: &mut Vec<Action>) {
        if self.pid != 0 {
            let msg = format!("process '{}' already running", self.name());
            self.log(out, LogLevel::Warn, msg);
            return;
        }
        self.killing = false;
        self.spawnerr = None;
        self.exitstatus = None;
        self.laststart = Some(now);
        self.delay = None;
        self.change_state(ProcessState::Starting, true, out);
        out.push(Action::Spawn);
    }

    fn enter_backoff(&mut self, now: Instant, out: &mut Vec<Action>) {
        self.backoff += 1;
        let wait = Duration::from_secs(u64::from(self.backoff));
        // backoff_max= caps the reference's linear backoff.
        let wait = self
            .config
            .extensions
            .restart
            .backoff_max
            .map_or(wait, |max| wait.min(max));
        self.delay = Some(now + wait);
        self.change_state(ProcessState::Backoff, true, out);
    }

    /// BACKOFF -> FATAL after too many retries, with the reference's log line.
    fn give_up_logged(&mut self, out: &mut Vec<Action>) {
        self.give_up(out);
        let msg = format!(
            "gave up: {} entered FATAL state, too many start retries too quickly",
            self.name()
        );
        self.log(out, LogLevel::Info, msg);
    }

    fn give_up(&mut self, out: &mut Vec<Action>) {
        self.delay = None;
        self.backoff = 0;
        self.change_state(ProcessState::Fatal, true, out);
    }

    fn stop(&mut self, now: Instant, out: &mut Vec<Action>) {
        if self.state == ProcessState::Exited && self.restart_pending(now).is_some() {
            // restart_delay=: a stop cancels the pending restart, like a stop in BACKOFF.
            self.delay = None;
            self.change_state(ProcessState::Stopped, true, out);
            return;
        }
        if self.state == ProcessState::Backoff {
            let msg = format!(
                "Attempted to kill {}, which is in BACKOFF state.",
                self.name()
            );
            self.log(out, LogLevel::Debug, msg);
            self.delay = None;
            self.change_state(ProcessState::Stopped, true, out);
            return;
        }
        if self.pid == 0 {
            let msg = format!(
                "attempted to kill {} with sig {} but it wasn't running",
                self.name(),
                wait_status::signal_name(self.config.stopsignal)
            );
            self.log(out, LogLevel::Debug, msg);
            return;
        }
        self.kill(self.config.stopsignal, now, out);
    }

    fn kill(&mut self, signal: i32, now: Instant, out: &mut Vec<Action>) {
        if !matches!(
            self.state,
            ProcessState::Running | ProcessState::Starting | ProcessState::Stopping
        ) {
            return;
        }
        let group = if self.state == ProcessState::Stopping {
            self.config.killasgroup
        } else {
            self.config.stopasgroup
        };
        let msg = format!(
            "killing {} (pid {}) {}with signal {}",
            self.name(),
            self.pid,
            if group { "process group " } else { "" },
            wait_status::signal_name(signal)
        );
        self.log(out, LogLevel::Debug, msg);
        self.killing = true;
        self.delay = Some(now + Duration::from_secs(self.config.stopwaitsecs));
        self.change_state(ProcessState::Stopping, true, out);
        out.push(Action::Kill {
            pid: self.pid,
            signal,
            group,
        });
    }

    fn signal(&mut self, signal: i32, out: &mut Vec<Action>) {
        let name = wait_status::signal_name(signal);
        if self.pid == 0 {
            let msg = format!(
                "attempted to send {} sig {} but it wasn't running",
                self.name(),
                name
            );
            self.log(out, LogLevel::Debug, msg);
            return;
        }
        let msg = format!("sending {} (pid {}) sig {}", self.name(), self.pid, name);
        self.log(out, LogLevel::Debug, msg);
        out.push(Action::Kill {
            pid: self.pid,
            signal,
            group: false,
        });
    }

    /// The child was reaped: decide STOPPED / BACKOFF / EXITED as the reference's `finish`.
    fn finish(&mut self, status: i32, now: Instant, out: &mut Vec<Action>) {
        if self.pid == 0 {
            return;
        }
        let (es, text) = wait_status::decode(status);
        self.laststop = Some(now);
        self.wait_status = Some(status);
        let too_quickly = self.laststart.is_some_and(|start| {
            now.duration_since(start) < Duration::from_secs(self.config.startsecs)
        });
        let expected = self.config.exitcodes.contains(&es);
        let name = self.name().to_string();

        if self.killing {
            self.killing = false;
            self.delay = None;
            self.exitstatus = Some(es);
            self.change_state(ProcessState::Stopped, true, out);
            let level = if expected {
                LogLevel::Info
            } else {
                LogLevel::Warn
            };
            self.log(out, level, format!("stopped: {name} ({text})"));
        } else if too_quickly && self.state == ProcessState::Starting {
            self.exitstatus = None;
            self.spawnerr = Some("Exited too quickly (process log may have details)".into());
            self.enter_backoff(now, out);
            self.log(
                out,
                LogLevel::Warn,
                format!("exited: {name} ({text}; not expected)"),
            );
            if self.backoff > self.config.startretries {
                self.pid = 0;
                self.give_up_logged(out);
            }
        } else {
            self.delay = None;
            self.backoff = 0;
            self.exitstatus = Some(es);
            if self.state == ProcessState::Starting {
                self.change_state(ProcessState::Running, true, out);
            }
            if expected {
                self.change_state(ProcessState::Exited, true, out);
                self.log(
                    out,
                    LogLevel::Info,
                    format!("exited: {name} ({text}; expected)"),
                );
            } else {
                self.spawnerr = Some(format!("Bad exit code {es}"));
                self.change_state(ProcessState::Exited, false, out);
                self.log(
                    out,
                    LogLevel::Warn,
                    format!("exited: {name} ({text}; not expected)"),
                );
            }
            let restart = match self.config.autorestart {
                AutoRestart::Always => true,
                AutoRestart::Unexpected => !expected,
                AutoRestart::Never => false,
            };
            if restart {
                // Restart at once, but keep the reference's pace of at most one start per second.
                let earliest = self.laststart.map_or(now, |s| s + MIN_RESTART_INTERVAL);
                let wait = self.restart_wait(expected, now);
                self.delay = Some(earliest.max(now + wait));
            }
        }
        self.pid = 0;
    }

    /// restart_delay=: how long to wait before this autorestart (zero without the key), and
    /// the doubling's bookkeeping.
    fn restart_wait(&mut self, expected: bool, now: Instant) -> Duration {
        let policy = self.config.extensions.restart;
        if policy.restart_delay.is_zero() {
            return Duration::ZERO;
        }
        let up_for = self
            .laststart
            .map_or(Duration::ZERO, |s| now.duration_since(s));
        let startsecs = Duration::from_secs(self.config.startsecs);
        if restart::streak_resets(&policy, up_for, startsecs) {
            self.restart_streak = 0;
        }
        let spread = if policy.restart_jitter_ppm > 0 {
            restart::spread(&mut self.jitter_state)
        } else {
            0.0
        };
        let wait = restart::delay(&policy, self.restart_streak, spread);
        if !expected {
            self.restart_streak = self.restart_streak.saturating_add(1);
        }
        wait
    }

    fn change_state(&mut self, to: ProcessState, expected: bool, out: &mut Vec<Action>) {
        let from = self.state;
        if from == to {
            return;
        }
        self.state = to;
        out.push(Action::Emit(Event::ProcessState(ProcessStateChange {
            process: self.config.name.clone(),
            group: self.group.to_string(),
            from,
            to,
            pid: self.pid,
            tries: self.backoff,
            expected,
        })));
    }

    fn log(&self, out: &mut Vec<Action>, level: LogLevel, msg: String) {
        out.push(Action::Log(level, msg));
    }
}

#[cfg(test)]
#[path = "machine_tests.rs"]
mod tests;

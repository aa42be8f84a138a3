//! The process table's side of health checks: it feeds the pure monitors (process::health)
//! the process's RUNNING state, due deadlines and check results, and carries out their steps
//! (start or cancel a check, log, restart the process). Every monitor change goes through
//! `step_monitor`, which also re-files the process's next deadline in `health_deadlines`.

use std::rc::Rc;
use std::time::Instant;

use mio::Token;

use super::health_checks::{CheckOwner, HealthChecks, Running, SlotHealth, http_request};
use super::plan;
use super::process_table::{ProcessTable, Slot};
use super::spawn;
use crate::config::model::{HealthCheck, Probe};
use crate::logs::log_at;
use crate::process::health::{Outcome, Step};
use crate::process::{Input, ProcessState, wait_status};

impl Slot {
    /// The check's config and the health state, when the program has a health check (the
    /// table creates the one exactly when the config has the other).
    fn health_parts(&mut self) -> Option<(&HealthCheck, &mut SlotHealth)> {
        let config = self.process.config.extensions.healthcheck.as_ref()?;
        Some((config, self.health.as_deref_mut()?))
    }
}

impl ProcessTable {
    /// After any input to a process with a health check: start or stop checking as it enters
    /// or leaves RUNNING; a pending health restart starts the process once it is stopped.
    pub(super) fn follow_health(&mut self, gi: usize, pi: usize, now: Instant) {
        let running = self.groups[gi].slots[pi].process.state == ProcessState::Running;
        self.step_monitor(gi, pi, now, |health, _| {
            health.monitor.set_running(running, now)
        });
        let slot = &mut self.groups[gi].slots[pi];
        let Some(health) = slot.health.as_mut() else {
            return;
        };
        if health.restart_pending && slot.process.holding {
            health.restart_pending = false;
        }
        if health.restart_pending && slot.process.state.is_stopped() {
            health.restart_pending = false;
            self.feed(gi, pi, Input::Start, now);
        }
    }

    /// An explicit start or stop request replaces a pending health restart.
    pub(super) fn forget_health_restart(&mut self, gi: usize, pi: usize) {
        if let Some(health) = self.groups[gi].slots[pi].health.as_mut() {
            health.restart_pending = false;
        }
    }

    /// Delivers the health deadlines that are due (taken from the head of `health_deadlines`).
    pub(super) fn health_timeouts(&mut self, now: Instant) {
        // Taken (and unfiled) first, then delivered: a delivery re-files its process, maybe
        // still due (it is then delivered on the next pass, which polls with a zero timeout).
        let due = self.health_deadlines.take_due(now);
        for &(gi, pi) in &due {
            if let Some(health) = self.groups[gi].slots[pi].health.as_mut() {
                health.scheduled = None;
            }
        }
        for (gi, pi) in due {
            self.step_monitor(gi, pi, now, |health, config| {
                if health.monitor.next_deadline(config).is_none_or(|d| d > now) {
                    return Vec::new();
                }
                health.monitor.on_timeout(config, now)
            });
        }
    }

    /// The earliest health deadline of any process.
    pub(super) fn next_health_deadline(&self) -> Option<Instant> {
        self.health_deadlines.first()
    }

    /// Readiness of a health-check socket.
    pub fn on_health_event(&mut self, token: Token, now: Instant) {
        if let Some((owner, token, outcome)) = self.health.on_event(token) {
            self.check_result(owner, Running::Socket(token), outcome, now);
        }
    }

    /// A reaped exec check (its result, unless it was cancelled or timed out already). A failed
    /// check's reason carries the start of what it printed (`exec exit status 1, output
    /// "connection refused"`): the reason is in the debug line of every failed check and in the
    /// `unhealthy` line.
    pub(super) fn exec_check_exited(
        &mut self,
        owner: CheckOwner,
        pid: u32,
        status: i32,
        output: Option<String>,
        now: Instant,
    ) {
        let outcome = if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0 {
            Outcome::pass("exec exit 0")
        } else {
            let (_, text) = wait_status::decode(status);
            match output {
                Some(output) => Outcome::fail(format!("exec {text}, output {output}")),
                None => Outcome::fail(format!("exec {text}")),
            }
        };
        self.check_result(owner, Running::Exec(pid), outcome, now);
    }

    /// Delivers a check's result to its process's monitor, if that check is still the one in
    /// flight (a cancelled check's late result is dropped).
    fn check_result(&mut self, owner: CheckOwner, check: Running, outcome: Outcome, now: Instant) {
        let Some((gi, pi)) = self.check_owner(owner, check) else {
            return;
        };
        self.step_monitor(gi, pi, now, |health, config| {
            health.running = None;
            health.monitor.on_result(config, outcome, now)
        });
    }

    /// The process whose check in flight is `check`: where it was when the check started, or,
    /// after groups moved, wherever it is now (a search, only then).
    fn check_owner(&self, hint: CheckOwner, check: Running) -> Option<(usize, usize)> {
        let runs = |gi: usize, pi: usize| {
            self.groups
                .get(gi)
                .and_then(|g| g.slots.get(pi))
                .and_then(|s| s.health.as_ref())
                .is_some_and(|h| h.running == Some(check))
        };
        if runs(hint.gi, hint.pi) {
            return Some((hint.gi, hint.pi));
        }
        (0..self.groups.len())
            .flat_map(|gi| (0..self.groups[gi].slots.len()).map(move |pi| (gi, pi)))
            .find(|&(gi, pi)| runs(gi, pi))
    }

    /// One change of a process's monitor: `change` gets its health state and check config
    /// (when it has both) and returns the monitor's steps, which are then carried out; last,
    /// the process's next deadline is re-filed.
    fn step_monitor(
        &mut self,
        gi: usize,
        pi: usize,
        now: Instant,
        change: impl FnOnce(&mut SlotHealth, &HealthCheck) -> Vec<Step>,
    ) {
        let Some((config, health)) = self.groups[gi].slots[pi].health_parts() else {
            return;
        };
        let steps = change(health, config);
        self.run_health_steps(gi, pi, steps, now);
        self.reschedule_health(gi, pi);
    }

    /// Moves the process's entry in `health_deadlines` to its monitor's next deadline.
    pub(super) fn reschedule_health(&mut self, gi: usize, pi: usize) {
        let Some((config, health)) = self.groups[gi].slots[pi].health_parts() else {
            return;
        };
        let next = health.monitor.next_deadline(config);
        self.health_deadlines
            .refile(&mut health.scheduled, next, gi, pi);
    }

    /// Carries out a monitor's steps; a check that fails at once is a result right away.
    fn run_health_steps(&mut self, gi: usize, pi: usize, steps: Vec<Step>, now: Instant) {
        for step in steps {
            match step {
                Step::StartCheck => {
                    if let Err(outcome) = self.start_check(gi, pi) {
                        self.step_monitor(gi, pi, now, |health, config| {
                            health.monitor.on_result(config, outcome, now)
                        });
                    }
                }
                Step::CancelCheck => self.cancel_check(gi, pi),
                Step::Log(level, msg) => log_at(level, &msg),
                Step::Restart => {
                    if let Some(health) = self.groups[gi].slots[pi].health.as_mut() {
                        health.restart_pending = true;
                    }
                    self.feed(gi, pi, Input::Stop, now);
                }
            }
        }
    }

    /// Starts the process's check; Err = it failed before it could run.
    fn start_check(&mut self, gi: usize, pi: usize) -> Result<(), Outcome> {
        let Some((config, health)) = self.groups[gi].slots[pi].health_parts() else {
            return Ok(());
        };
        let owner = CheckOwner { gi, pi };
        let running = match &config.probe {
            Probe::Tcp(addr) => {
                let token = self
                    .health
                    .start_socket(self.pipes.registry(), owner, *addr, None)?;
                Running::Socket(token)
            }
            Probe::Http { addr, host, path } => {
                let request = health
                    .http_request
                    .get_or_insert_with(|| http_request(host, path));
                let request = Some(Rc::clone(request));
                let token =
                    self.health
                        .start_socket(self.pipes.registry(), owner, *addr, request)?;
                Running::Socket(token)
            }
            Probe::Exec(command) => {
                let command = command.clone();
                Running::Exec(self.spawn_exec_check(gi, pi, &command, owner)?)
            }
        };
        if let Some(health) = self.groups[gi].slots[pi].health.as_mut() {
            health.running = Some(running);
        }
        Ok(())
    }

    /// Forks an exec check as the program would be (user, directory, environment), in its own
    /// process group, stdin on /dev/null and its output into a pipe the loop reads.
    fn spawn_exec_check(
        &mut self,
        gi: usize,
        pi: usize,
        command: &str,
        owner: CheckOwner,
    ) -> Result<u32, Outcome> {
        let null = self.health.null_fd()?;
        let group = self.groups[gi].config.name.clone();
        let process = Rc::clone(&self.groups[gi].slots[pi].process.config);
        let ctx = plan::SpawnContext::new(
            &self.base_environment,
            &self.config.supervisord,
            self.serverurl.as_deref(),
            self.child_nofile,
        );
        let plan = plan::build_command(&process, command, &group, &ctx)
            .map_err(|msg| Outcome::fail(format!("exec: {msg}")))?;
        let (pid, output) =
            spawn::spawn_check(&plan, null).map_err(|msg| Outcome::fail(format!("exec: {msg}")))?;
        drop(plan);
        self.health
            .add_exec(self.pipes.registry(), pid, owner, output);
        Ok(pid)
    }

    /// Abandons the check in flight: kills an exec check's process group (reaped later as
    /// usual), closes a socket.
    fn cancel_check(&mut self, gi: usize, pi: usize) {
        let Some(health) = self.groups[gi].slots[pi].health.as_mut() else {
            return;
        };
        match health.running.take() {
            Some(Running::Exec(pid)) => HealthChecks::kill_exec(pid),
            Some(Running::Socket(token)) => self.health.close(token),
            None => {}
        }
    }
}

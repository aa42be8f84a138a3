//! The process table's side of health checks: it feeds the pure monitors (process::health)
//! the process's RUNNING state, due deadlines and check results, and carries out their steps
//! (start or cancel a check, log, restart the process).

use std::rc::Rc;
use std::time::Instant;

use mio::Token;

use super::health_checks::{CheckOwner, HealthChecks, Running};
use super::plan;
use super::process_table::ProcessTable;
use super::spawn;
use crate::config::model::Probe;
use crate::logs::log_at;
use crate::process::health::{Outcome, Step};
use crate::process::{Input, ProcessState, wait_status};

impl ProcessTable {
    /// After any input to a process with a health check: start or stop checking as it enters
    /// or leaves RUNNING; a pending health restart starts the process once it is stopped.
    pub(super) fn follow_health(&mut self, gi: usize, pi: usize, now: Instant) {
        let slot = &mut self.groups[gi].slots[pi];
        let Some(health) = slot.health.as_mut() else {
            return;
        };
        let running = slot.process.state == ProcessState::Running;
        let steps = health.monitor.set_running(running, now);
        self.run_health_steps(gi, pi, steps, now);
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

    /// A due deadline of a process's health check.
    pub(super) fn health_timeout(&mut self, gi: usize, pi: usize, now: Instant) {
        let Some(config) = self.groups[gi].slots[pi]
            .process
            .config
            .extensions
            .healthcheck
            .clone()
        else {
            return;
        };
        let Some(health) = self.groups[gi].slots[pi].health.as_mut() else {
            return;
        };
        if health
            .monitor
            .next_deadline(&config)
            .is_none_or(|d| d > now)
        {
            return;
        }
        let steps = health.monitor.on_timeout(&config, now);
        self.run_health_steps(gi, pi, steps, now);
    }

    /// Readiness of a health-check socket.
    pub fn on_health_event(&mut self, token: Token, now: Instant) {
        if let Some((owner, token, outcome)) = self.health.on_event(token) {
            self.check_result(&owner, Running::Socket(token), outcome, now);
        }
    }

    /// A reaped exec check (its result, unless it was cancelled or timed out already).
    pub(super) fn exec_check_exited(
        &mut self,
        owner: CheckOwner,
        pid: u32,
        status: i32,
        now: Instant,
    ) {
        let outcome = if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0 {
            Outcome::Pass("exec exit 0".to_string())
        } else {
            let (_, text) = wait_status::decode(status);
            Outcome::Fail(format!("exec {text}"))
        };
        self.check_result(&owner, Running::Exec(pid), outcome, now);
    }

    /// Delivers a check's result to its process's monitor, if that check is still the one in
    /// flight (a cancelled check's late result is dropped).
    fn check_result(&mut self, owner: &CheckOwner, check: Running, outcome: Outcome, now: Instant) {
        let Some((gi, pi)) = self.find(&owner.group, &owner.name) else {
            return;
        };
        let Some(config) = self.groups[gi].slots[pi]
            .process
            .config
            .extensions
            .healthcheck
            .clone()
        else {
            return;
        };
        let Some(health) = self.groups[gi].slots[pi].health.as_mut() else {
            return;
        };
        if health.running != Some(check) {
            return;
        }
        health.running = None;
        let steps = health.monitor.on_result(&config, outcome, now);
        self.run_health_steps(gi, pi, steps, now);
    }

    /// Carries out a monitor's steps; a check that fails at once is a result right away.
    fn run_health_steps(&mut self, gi: usize, pi: usize, steps: Vec<Step>, now: Instant) {
        for step in steps {
            match step {
                Step::StartCheck => {
                    if let Err(outcome) = self.start_check(gi, pi) {
                        let Some(config) = self.groups[gi].slots[pi]
                            .process
                            .config
                            .extensions
                            .healthcheck
                            .clone()
                        else {
                            continue;
                        };
                        let Some(health) = self.groups[gi].slots[pi].health.as_mut() else {
                            continue;
                        };
                        let more = health.monitor.on_result(&config, outcome, now);
                        self.run_health_steps(gi, pi, more, now);
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
        let process = &self.groups[gi].slots[pi].process;
        let Some(config) = process.config.extensions.healthcheck.clone() else {
            return Ok(());
        };
        let owner = CheckOwner {
            group: Rc::clone(&process.group),
            name: process.name().to_string(),
        };
        let running = match &config.probe {
            Probe::Tcp(addr) => {
                let token = self
                    .health
                    .start_socket(self.pipes.registry(), owner, *addr, None)?;
                Running::Socket(token)
            }
            Probe::Http { addr, host, path } => {
                let http = Some((host.as_str(), path.as_str()));
                let token = self
                    .health
                    .start_socket(self.pipes.registry(), owner, *addr, http)?;
                Running::Socket(token)
            }
            Probe::Exec(command) => Running::Exec(self.spawn_exec_check(gi, pi, command, owner)?),
        };
        if let Some(health) = self.groups[gi].slots[pi].health.as_mut() {
            health.running = Some(running);
        }
        Ok(())
    }

    /// Forks an exec check as the program would be (user, directory, environment), in its own
    /// process group with /dev/null as stdio.
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
        let sd = &self.config.supervisord;
        let ctx = plan::SpawnContext {
            base_environment: &self.base_environment,
            global_environment: &sd.environment,
            global_env_files: &sd.extensions.env_file,
            serverurl: self.serverurl.as_deref(),
            minfds: sd.minfds,
            nofile: self.child_nofile,
        };
        let plan = plan::build_command(&process, command, &group, &ctx)
            .map_err(|msg| Outcome::Fail(format!("exec: {msg}")))?;
        let pid =
            spawn::spawn_quiet(&plan, null).map_err(|msg| Outcome::Fail(format!("exec: {msg}")))?;
        drop(plan);
        self.health.add_exec(pid, owner);
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

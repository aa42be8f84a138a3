//! The process table: groups and processes by name, feeding inputs to the pure state machine and
//! carrying out its actions (spawn, kill, log, emit), reaping, autostart and the shutdown plan.
//! It owns the child pipes (child_io.rs) and the event bus (event_bus.rs) its processes feed;
//! the RPC backend and the loop call in here.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::rc::Rc;
use std::time::{Duration, Instant, SystemTime};

use mio::Registry;

use super::child_io::{ChildPipes, Pipes, Stream};
use super::child_log::ChildLog;
use super::event_bus::EventBus;
use super::plan::{self, SpawnContext};
use super::spawn;
use crate::config::model::{Config, GroupConfig};
use crate::events::Event;
use crate::logs::Channel;
use crate::process::order::{StopEntry, next_stop_batch};
use crate::process::outcome::{self, Outlook};
use crate::process::{Action, Input, Process, ProcessState, SupervisorState, wait_status};

/// How often shutdown logs `waiting for ... to die`.
const SHUTDOWN_REPORT_INTERVAL: Duration = Duration::from_secs(3);
/// Shutdown: longest wait for an event listener to take its pool's pending events before it is
/// stopped (the reference's one loop pass per group gives a listener about a second).
const SHUTDOWN_EVENT_DRAIN: Duration = Duration::from_secs(1);

/// One process with its pipes and output destinations.
pub struct Slot {
    pub process: Process,
    pub pipes: Pipes,
    pub stdout_log: ChildLog,
    pub stderr_log: ChildLog,
    /// Bytes queued for the child's stdin (written when the pipe has room).
    pub stdin_buffer: Vec<u8>,
    /// Last `waiting for <name> to stop` line (logged at most every 2 s).
    pub last_stop_report: Option<Instant>,
    /// Protocol state when this process is an event listener (new for every spawn).
    pub listener: Option<Box<crate::events::listener::Listener>>,
    /// Spawn attempts since the process was added (metrics: restarts are all but the first).
    pub spawns: u64,
    /// Output bytes captured from the child (stdout, stderr), read or spliced (metrics).
    pub log_bytes: [u64; 2],
    /// The health check's state (None when the program has no `healthcheck=`).
    pub health: Option<Box<super::health_checks::SlotHealth>>,
    /// The deadline this process has filed in the table's `deadlines`.
    filed: Option<Instant>,
}

pub struct Group {
    pub config: Rc<GroupConfig>,
    pub slots: Vec<Slot>,
    /// The listening socket of a `[fcgi-program:x]` group (None if it could not be created).
    pub fcgi_socket: Option<super::fcgi::FcgiSocket>,
}

/// Why a start/stop/signal request was refused (the RPC layer maps these to faults).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestError {
    BadName,
    AlreadyStarted,
    NotRunning,
    /// e.g. `<name> is in an unknown process state`.
    Failed(String),
}

pub struct ProcessTable {
    pub config: Config,
    /// How to re-read the configuration (config file and command-line overrides).
    pub overrides: super::Overrides,
    pub state: SupervisorState,
    /// Groups in ascending (priority, name) order.
    pub groups: Vec<Group>,
    /// The parent's side of every child's pipes.
    pub pipes: ChildPipes,
    /// Emitted events and the event-listener pools they go to.
    pub bus: EventBus,
    /// Health checks in flight (sockets in the loop, exec checks by pid).
    pub health: super::health_checks::HealthChecks,
    /// Every process's next deadline (startsecs, backoff, stopwaitsecs, restart delays): the
    /// loop takes the due ones and its timeout from here, never visiting every process.
    deadlines: super::deadlines::Deadlines,
    /// Every checked process's next health-check deadline (the monitors' timers), kept apart
    /// from `deadlines` because each process files one entry in each.
    pub(super) health_deadlines: super::deadlines::Deadlines,
    /// Processes whose child logs hold bytes queued for a full pipe/tty target: the loop
    /// retries only these (see `flush_pending_logs`).
    pub(super) pending_logs: super::pending_logs::PendingLogs,
    /// Some AUTO log file is named but not created yet (see `create_auto_logs_step`).
    auto_logs_pending: bool,
    /// Processes still to be autostarted, in start order.
    autostart_queue: VecDeque<(String, String)>,
    shutdown: ShutdownProgress,
    pub(super) serverurl: Option<String>,
    /// supervisord's environment, the base of every child's.
    pub(super) base_environment: plan::BaseEnvironment,
    /// RLIMIT_NOFILE children get back (supervisord raised its own soft limit).
    pub child_nofile: Option<(u64, u64)>,
    /// supervisord's exit status, decided by the first essential program that ended for good
    /// (or `exit_when_idle`) before any shutdown began; None: 0.
    pub exit_status: Option<i32>,
    /// The idle check after start-up ran (`exit_when_idle`).
    startup_idle_checked: bool,
    /// Wall-clock time of the current loop pass (set by the loop): stamps prefixed output.
    pub wall: SystemTime,
    /// `depends_on=`: held starts and stops (dep_gate.rs).
    pub(super) deps: super::dep_gate::DepGate,
}

/// Where a shutdown (or restart) stands.
#[derive(Default)]
struct ShutdownProgress {
    /// Group names still to stop, ascending priority (the last is stopped first); None until the
    /// shutdown begins.
    stop_list: Option<Vec<String>>,
    last_report: Option<Instant>,
    /// (stop-list length when the current batch came up, when its listeners stop waiting for
    /// their pools to drain).
    drain: Option<(usize, Instant)>,
    /// The current batch is held back for its listeners (only then is `drain`'s end a deadline:
    /// a past end would make the loop spin until the shutdown is over).
    holding: bool,
}

/// supervisord's own server URL for children: first unix server, else first inet server.
pub fn server_url(config: &Config) -> Option<String> {
    if let Some(u) = config.unix_http_servers.first() {
        return Some(format!("unix://{}", u.file.display()));
    }
    config.inet_http_servers.first().map(|i| {
        let host = if i.host.is_empty() || i.host == "*" {
            "localhost"
        } else {
            &i.host
        };
        format!("http://{host}:{}", i.port)
    })
}

impl ProcessTable {
    pub fn new(
        config: Config,
        registry: Registry,
        overrides: super::Overrides,
        event_serial: u64,
    ) -> ProcessTable {
        let serverurl = server_url(&config);
        let mut sup = ProcessTable {
            config,
            overrides,
            state: SupervisorState::Running,
            groups: Vec::new(),
            health: super::health_checks::HealthChecks::default(),
            deadlines: Default::default(),
            health_deadlines: Default::default(),
            pending_logs: Default::default(),
            pipes: ChildPipes::new(registry),
            bus: EventBus::new(event_serial, SystemTime::now()),
            auto_logs_pending: false,
            autostart_queue: VecDeque::new(),
            shutdown: ShutdownProgress::default(),
            serverurl,
            base_environment: plan::BaseEnvironment::current(),
            child_nofile: None,
            exit_status: None,
            startup_idle_checked: false,
            wall: SystemTime::now(),
            deps: Default::default(),
        };
        let groups = sup.config.groups.clone();
        for g in groups {
            sup.add_group(g);
        }
        sup
    }

    /// Creates a group (AUTO log files now, as the reference) and emits PROCESS_GROUP_ADDED.
    pub fn add_group(&mut self, config: Rc<GroupConfig>) -> bool {
        if self.groups.iter().any(|g| g.config.name == config.name) {
            return false;
        }
        let sd = &self.config.supervisord;
        let mut slots = Vec::with_capacity(config.processes.len());
        let group_name: Rc<str> = Rc::from(config.name.as_str());
        for pc in &config.processes {
            let mut process = Process::new(pc.clone(), group_name.clone());
            if pc.extensions.restart.restart_jitter_ppm > 0 {
                // restart_jitter=: a random seed per process (the machine itself is pure).
                use std::hash::BuildHasher;
                process.jitter_state =
                    std::collections::hash_map::RandomState::new().hash_one(&pc.name) | 1;
            }
            let make = |channel| ChildLog::new(pc, channel, &sd.childlogdir, &sd.identifier);
            let stdout_log = make(Channel::Stdout);
            let stderr_log = make(Channel::Stderr);
            self.auto_logs_pending |= stdout_log.needs_auto_file() || stderr_log.needs_auto_file();
            slots.push(Slot {
                process,
                pipes: Pipes::default(),
                stdout_log,
                stderr_log,
                stdin_buffer: Vec::new(),
                last_stop_report: None,
                listener: None,
                spawns: 0,
                log_bytes: [0; 2],
                health: pc
                    .extensions
                    .healthcheck
                    .as_ref()
                    .map(|_| Box::new(super::health_checks::SlotHealth::new(&pc.name))),
                filed: None,
            });
        }
        // Keep (priority, name) order; later groups of equal priority go after existing ones.
        let pos = self
            .groups
            .iter()
            .position(|g| g.config.priority > config.priority)
            .unwrap_or(self.groups.len());
        if let crate::config::model::GroupKind::EventListener(opts) = &config.kind {
            self.bus.add_pool(&config.name, opts);
        }
        let fcgi_socket = match &config.kind {
            crate::config::model::GroupKind::FcgiProgram(opts) => {
                log::info!("Creating socket {}", opts.socket);
                super::fcgi::open(opts)
                    .map_err(|e| {
                        log::error!(target: "crit", "Could not create FastCGI socket {}: {e}", opts.socket)
                    })
                    .ok()
            }
            _ => None,
        };
        self.bus.emit(Event::GroupAdded(config.name.clone()));
        self.groups.insert(
            pos,
            Group {
                config,
                slots,
                fcgi_socket,
            },
        );
        self.refile_all_deadlines();
        self.refresh_dependencies();
        true
    }

    /// Removes a group whose processes are all stopped.
    pub fn remove_group(&mut self, name: &str) -> Result<(), RequestError> {
        let gi = self.group_index(name).ok_or(RequestError::BadName)?;
        if self.groups[gi]
            .slots
            .iter()
            .any(|s| !s.process.state.is_stopped())
        {
            return Err(RequestError::Failed(format!(
                "{name} has running processes"
            )));
        }
        let group = self.groups.remove(gi);
        self.refile_all_deadlines();
        if let Some(socket) = group.fcgi_socket {
            log::info!("Closing socket {}", socket.description);
        }
        self.bus.remove_pool(name);
        self.bus.emit(Event::GroupRemoved(name.to_string()));
        self.refresh_dependencies();
        Ok(())
    }

    /// Files every process's deadlines anew (process and health) and lists its queued log
    /// output anew: group indexes moved.
    fn refile_all_deadlines(&mut self) {
        self.pending_logs
            .rebuild(self.groups.iter().enumerate().flat_map(|(gi, g)| {
                g.slots
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| s.stdout_log.has_pending() || s.stderr_log.has_pending())
                    .map(move |(pi, _)| (gi, pi))
            }));
        self.deadlines.clear();
        self.health_deadlines.clear();
        for gi in 0..self.groups.len() {
            for pi in 0..self.groups[gi].slots.len() {
                let slot = &mut self.groups[gi].slots[pi];
                slot.filed = None;
                if let Some(health) = slot.health.as_mut() {
                    health.scheduled = None;
                }
                self.refile_process(gi, pi);
                self.reschedule_health(gi, pi);
            }
        }
    }

    /// Moves the process's entry in `deadlines` to its machine's next deadline (after every
    /// input: `feed` is the only way a machine changes).
    fn refile_process(&mut self, gi: usize, pi: usize) {
        let slot = &mut self.groups[gi].slots[pi];
        let next = slot.process.next_deadline();
        self.deadlines.refile(&mut slot.filed, next, gi, pi);
    }

    pub fn group_index(&self, name: &str) -> Option<usize> {
        self.groups.iter().position(|g| g.config.name == name)
    }

    pub fn find(&self, group: &str, process: &str) -> Option<(usize, usize)> {
        let gi = self.group_index(group)?;
        let pi = self.groups[gi]
            .slots
            .iter()
            .position(|s| s.process.name() == process)?;
        Some((gi, pi))
    }

    pub fn slot(&self, gi: usize, pi: usize) -> &Slot {
        &self.groups[gi].slots[pi]
    }

    /// Autostart every process, groups in ascending priority, all at once (no waiting for
    /// earlier ones to reach RUNNING).
    #[cfg(test)]
    pub fn autostart_all(&mut self, now: Instant) {
        self.queue_autostart();
        while self.autostart_step(now, Duration::MAX) {}
    }

    /// Queues every process for autostart (the loop spawns them in batches so the control
    /// socket answers while hundreds of programs start).
    pub fn queue_autostart(&mut self) {
        self.bus.emit(Event::SupervisorRunning);
        self.autostart_queue = self
            .groups
            .iter()
            .flat_map(|g| {
                g.slots
                    .iter()
                    .map(|s| (g.config.name.clone(), s.process.name().to_string()))
            })
            .collect();
    }

    /// Autostarts queued processes until `budget` has passed (at least one); returns whether
    /// more are queued.
    pub fn autostart_step(&mut self, now: Instant, budget: Duration) -> bool {
        let started = Instant::now();
        while self.state == SupervisorState::Running
            && let Some((group, name)) = self.autostart_queue.pop_front()
        {
            if let Some((gi, pi)) = self.find(&group, &name) {
                self.autostart_one(gi, pi, now);
            }
            if started.elapsed() >= budget {
                break;
            }
        }
        if !self.autostart_queue.is_empty() {
            return true;
        }
        if !self.startup_idle_checked {
            // Nothing (or nothing more) to autostart: maybe there is nothing to wait for.
            self.startup_idle_checked = true;
            self.check_idle();
        }
        if self.autostart_queue.capacity() > 0 {
            // Start-up is over: give back the queue and the heap pages freed since loading.
            self.autostart_queue = VecDeque::new();
            // SAFETY: malloc_trim only returns free heap pages to the kernel.
            unsafe { libc::malloc_trim(0) };
        }
        false
    }

    /// Creates pending AUTO log files until `budget` has passed; returns whether some are left.
    /// Runs in loop passes after start-up so the control socket answers meanwhile; everything
    /// that spawns or reads a child log creates its own file first.
    pub fn create_auto_logs_step(&mut self, budget: Duration) -> bool {
        if !self.auto_logs_pending {
            return false;
        }
        let started = Instant::now();
        let identifier = &self.config.supervisord.identifier;
        for slot in self.groups.iter_mut().flat_map(|g| g.slots.iter_mut()) {
            if !(slot.stdout_log.needs_auto_file() || slot.stderr_log.needs_auto_file()) {
                continue;
            }
            if started.elapsed() >= budget {
                return true;
            }
            let name = slot.process.name();
            slot.stdout_log.ensure_auto_file(name, identifier);
            slot.stderr_log.ensure_auto_file(name, identifier);
        }
        self.auto_logs_pending = false;
        false
    }

    /// Creates every pending AUTO log file now (before a request that reads logs).
    pub fn create_all_auto_logs(&mut self) {
        self.create_auto_logs_step(Duration::MAX);
    }

    /// RPC-style start of one process (no waiting here; the caller watches the state).
    pub fn start_process(
        &mut self,
        gi: usize,
        pi: usize,
        now: Instant,
    ) -> Result<(), RequestError> {
        let p = &self.groups[gi].slots[pi].process;
        if p.state == ProcessState::Unknown {
            return Err(RequestError::Failed(format!(
                "{} is in an unknown process state",
                p.name()
            )));
        }
        if p.state.is_running() {
            return Err(RequestError::AlreadyStarted);
        }
        if self.start_with_dependencies(gi, pi, now) {
            return Ok(());
        }
        // STOPPING goes on to the machine, which refuses to spawn over the live child and logs
        // the reference's `process 'x' already running` warning.
        self.forget_health_restart(gi, pi);
        self.feed(gi, pi, Input::Start, now);
        Ok(())
    }

    pub fn stop_process(&mut self, gi: usize, pi: usize, now: Instant) -> Result<(), RequestError> {
        // depends_on: stopping a held start cancels it.
        let was_held = self.cancel_hold(gi, pi);
        // restart_delay=: a stop cancels a pending restart (EXITED -> STOPPED).
        if self.groups[gi].slots[pi]
            .process
            .restart_pending(now)
            .is_some()
        {
            self.feed(gi, pi, Input::Stop, now);
            return Ok(());
        }
        if !self.groups[gi].slots[pi].process.state.is_running() {
            return if was_held {
                Ok(())
            } else {
                Err(RequestError::NotRunning)
            };
        }
        if self.hold_stop_for_dependents(gi, pi) {
            return Ok(());
        }
        self.forget_health_restart(gi, pi);
        self.feed(gi, pi, Input::Stop, now);
        Ok(())
    }

    pub fn signal_process(
        &mut self,
        gi: usize,
        pi: usize,
        sig: i32,
        now: Instant,
    ) -> Result<(), RequestError> {
        if !self.groups[gi].slots[pi].process.state.is_signallable() {
            return Err(RequestError::NotRunning);
        }
        self.feed(gi, pi, Input::Signal(sig), now);
        Ok(())
    }

    /// Feeds one input to a process's state machine and carries out its actions (which may
    /// feed it more inputs: a spawn's outcome, a failed kill).
    pub fn feed(&mut self, gi: usize, pi: usize, input: Input, now: Instant) {
        let mut queue = VecDeque::from([input]);
        while let Some(input) = queue.pop_front() {
            let actions = self.groups[gi].slots[pi].process.step(input, now);
            for action in actions {
                match action {
                    Action::Spawn => queue.push_back(self.spawn_child(gi, pi)),
                    Action::Kill { pid, signal, group } => {
                        if let Some(failed) = self.kill(gi, pi, pid, signal, group) {
                            queue.push_back(failed);
                        }
                    }
                    Action::Log(level, msg) => crate::logs::log_at(level, &msg),
                    Action::Emit(event) => self.bus.emit(event),
                }
            }
        }
        self.refile_process(gi, pi);
        if self.groups[gi].slots[pi].health.is_some() {
            self.follow_health(gi, pi, now);
        }
        self.check_ending(gi, pi);
    }

    /// After a process changed, while no shutdown has begun: an essential program that ended
    /// for good stops everything with its exit status; with `exit_when_idle`, so does the last
    /// program to finish (status 0).
    fn check_ending(&mut self, gi: usize, pi: usize) {
        if self.state != SupervisorState::Running || self.exit_status.is_some() {
            return;
        }
        let process = &self.groups[gi].slots[pi].process;
        if process.config.extensions.essential {
            let outlook = Outlook {
                queued_for_start: false,
                blocked: self.blocked_by_dependency(gi, pi),
            };
            if let Some(ending) = outcome::ending(process, outlook) {
                log::warn!("{}", outcome::shutdown_reason(process.name(), &ending));
                self.exit_status = Some(outcome::exit_code(&ending));
                self.request_stop(SupervisorState::Shutdown);
                return;
            }
        }
        if self.startup_idle_checked {
            self.check_idle();
        }
    }

    /// `exit_when_idle`: shuts down (status 0) once no process runs, starts, stops or waits to
    /// restart or to start, and none will by itself.
    fn check_idle(&mut self) {
        if !self.config.supervisord.extensions.exit_when_idle
            || self.state != SupervisorState::Running
            || self.exit_status.is_some()
            || !self.autostart_queue.is_empty()
        {
            return;
        }
        let all_idle = (0..self.groups.len()).all(|gi| {
            (0..self.groups[gi].slots.len()).all(|pi| {
                // A start held for its dependencies is still to come (unless blocked).
                let outlook = Outlook {
                    queued_for_start: self.is_held(gi, pi),
                    blocked: self.blocked_by_dependency(gi, pi),
                };
                outcome::idle(&self.groups[gi].slots[pi].process, outlook)
            })
        });
        if all_idle {
            log::info!("exit_when_idle: no program is running or will start: shutting down");
            self.exit_status = Some(0);
            self.request_stop(SupervisorState::Shutdown);
        }
    }

    fn kill(&mut self, gi: usize, pi: usize, pid: u32, signal: i32, group: bool) -> Option<Input> {
        let target = if group { -(pid as i32) } else { pid as i32 };
        // SAFETY: kill(2) with a pid we spawned (or its process group).
        if unsafe { libc::kill(target, signal) } == 0 {
            return None;
        }
        let err = io::Error::last_os_error();
        if err.raw_os_error() == Some(libc::ESRCH) {
            let name = self.groups[gi].slots[pi].process.name().to_string();
            log::debug!(
                "unable to signal {name} (pid {pid}), it probably just exited on its own: {err}"
            );
            return None;
        }
        Some(Input::KillFailed(format!("\n{err}")))
    }

    fn spawn_child(&mut self, gi: usize, pi: usize) -> Input {
        let sd = &self.config.supervisord;
        let ctx = SpawnContext::new(
            &self.base_environment,
            sd,
            self.serverurl.as_deref(),
            self.child_nofile,
        );
        let group_name = self.groups[gi].config.name.clone();
        let slot = &mut self.groups[gi].slots[pi];
        slot.spawns += 1;
        slot.process.laststart_wall = Some(SystemTime::now());
        let mut plan = match plan::build(&slot.process.config, &group_name, &ctx) {
            Ok(plan) => plan,
            Err(msg) => return Input::SpawnFailed(msg),
        };
        if let crate::config::model::GroupKind::FcgiProgram(opts) = &self.groups[gi].config.kind {
            match &self.groups[gi].fcgi_socket {
                Some(socket) => plan.stdin_socket = Some(socket.fd()),
                None => {
                    return Input::SpawnFailed(format!(
                        "Could not create FastCGI socket {}",
                        opts.socket
                    ));
                }
            }
        }
        let slot = &mut self.groups[gi].slots[pi];
        let is_listener = self.bus.is_pool(&group_name);
        let name = slot.process.config.name.as_str();
        slot.stdout_log.ensure_auto_file(name, &sd.identifier);
        slot.stderr_log.ensure_auto_file(name, &sd.identifier);
        for log in [&mut slot.stdout_log, &mut slot.stderr_log] {
            if let Err(e) = log.open(
                &slot.process.config,
                sd.strip_ansi,
                sd.loglevel,
                is_listener,
            ) {
                let name = slot.process.name();
                return Input::SpawnFailed(match e.raw_os_error() {
                    Some(libc::EMFILE) => format!("too many open files to spawn '{name}'"),
                    Some(code) => format!(
                        "unknown error making dispatchers for '{name}': {}",
                        super::command::errno_name(code)
                            .map_or_else(|| code.to_string(), str::to_string)
                    ),
                    None => format!("unknown error making dispatchers for '{name}': {e}"),
                });
            }
        }
        let child = match spawn::spawn(&plan) {
            Ok(child) => child,
            Err(msg) => return Input::SpawnFailed(msg),
        };
        let name = slot.process.name().to_string();
        let slot = &mut self.groups[gi].slots[pi];
        slot.stdin_buffer.clear();
        slot.listener =
            is_listener.then(|| Box::new(crate::events::listener::Listener::new(&name)));
        let process = &self.groups[gi].slots[pi].process;
        let owner = (process.group.clone(), process.config.clone());
        let stdin = child
            .stdin
            .and_then(|fd| self.pipes.register(fd, &owner, (gi, pi), Stream::Stdin));
        let stdout = self
            .pipes
            .register(child.stdout, &owner, (gi, pi), Stream::Stdout);
        let stderr = child
            .stderr
            .and_then(|fd| self.pipes.register(fd, &owner, (gi, pi), Stream::Stderr));
        self.groups[gi].slots[pi].pipes = Pipes {
            stdin,
            stdout,
            stderr,
        };
        Input::Spawned(child.pid)
    }

    /// Reaps every exited child (waitpid(-1) until none is left, orphans included).
    pub fn reap(&mut self, now: Instant) {
        loop {
            let mut status = 0;
            // SAFETY: waitpid with a valid status pointer.
            let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
            if pid > 0 {
                self.on_child_exit(pid as u32, status, now);
                continue;
            }
            if pid < 0 && io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return;
        }
    }

    fn on_child_exit(&mut self, pid: u32, status: i32, now: Instant) {
        // An exec health check is never taken for a program (their pids are live at once).
        if let Some((owner, output)) = self.health.take_exec(pid) {
            self.exec_check_exited(owner, pid, status, output, now);
            return;
        }
        let found = self.groups.iter().enumerate().find_map(|(gi, g)| {
            g.slots
                .iter()
                .position(|s| s.process.pid == pid)
                .map(|pi| (gi, pi))
        });
        let Some((gi, pi)) = found else {
            let (_, text) = wait_status::decode(status);
            log::info!("reaped unknown pid {pid} ({text})");
            return;
        };
        // Output written just before exit is still in the pipes: log it before the state changes.
        self.drain_pipe(gi, pi, Stream::Stdout, super::child_io::READS_AT_EXIT);
        self.drain_pipe(gi, pi, Stream::Stderr, super::child_io::READS_AT_EXIT);
        self.close_pipe(gi, pi, Stream::Stdout);
        self.close_pipe(gi, pi, Stream::Stderr);
        self.close_pipe(gi, pi, Stream::Stdin);
        let slot = &mut self.groups[gi].slots[pi];
        slot.process.laststop_wall = Some(SystemTime::now());
        self.feed(gi, pi, Input::Exited(status), now);
        self.listener_died(gi, pi);
    }

    /// Delivers due deadlines.
    pub fn handle_timeouts(&mut self, now: Instant) {
        // Taken from the set first (and unfiled), then delivered: a delivery re-files its
        // process (still due: delivered next pass); one that an earlier delivery already moved
        // is checked again rather than trusted.
        let due = self.deadlines.take_due(now);
        for &(gi, pi) in &due {
            self.groups[gi].slots[pi].filed = None;
        }
        for (gi, pi) in due {
            if self.groups[gi].slots[pi]
                .process
                .next_deadline()
                .is_some_and(|d| d <= now)
            {
                self.feed(gi, pi, Input::Timeout, now);
            }
            self.refile_process(gi, pi);
        }
        self.health_timeouts(now);
        self.settle_dependencies(now);
    }

    /// The earliest deadline of any process or of shutdown reporting.
    pub fn next_deadline(&self) -> Option<Instant> {
        let procs = self
            .deadlines
            .first()
            .into_iter()
            .chain(self.next_health_deadline());
        let report = match (&self.shutdown.stop_list, self.shutdown.last_report) {
            (Some(_), Some(t)) => Some(t + SHUTDOWN_REPORT_INTERVAL),
            _ => None,
        };
        let drain = self
            .shutdown
            .drain
            .filter(|_| self.shutdown.holding)
            .map(|(_, until)| until);
        procs.chain(report).chain(drain).min()
    }

    /// Enters shutdown (SIGTERM) or restart (SIGHUP).
    pub fn request_stop(&mut self, state: SupervisorState) {
        if self.state == SupervisorState::Shutdown {
            return;
        }
        self.state = state;
    }

    /// One shutdown pass; returns true once every process is stopped.
    pub fn shutdown_step(&mut self, now: Instant) -> bool {
        if self.shutdown.stop_list.is_none() {
            self.autostart_queue.clear();
            self.bus.emit(Event::SupervisorStopping);
            for gi in 0..self.groups.len() {
                for pi in 0..self.groups[gi].slots.len() {
                    self.feed(gi, pi, Input::Hold, now);
                }
            }
            self.shutdown.stop_list =
                Some(self.groups.iter().map(|g| g.config.name.clone()).collect());
        }
        loop {
            let index: HashMap<String, usize> = self
                .groups
                .iter()
                .enumerate()
                .map(|(gi, g)| (g.config.name.clone(), gi))
                .collect();
            let remaining = self.shutdown.stop_list.as_deref().unwrap_or_default();
            let entries: Vec<StopEntry> = remaining
                .iter()
                .map(|name| StopEntry {
                    priority: index.get(name).map(|&gi| self.groups[gi].config.priority),
                    listener: self.bus.is_pool(name),
                })
                .collect();
            let edges = self.group_stop_edges(remaining);
            let picked = next_stop_batch(&entries, &edges);
            if picked.is_empty() {
                break;
            }
            let batch: Vec<String> = picked.iter().map(|&i| remaining[i].clone()).collect();
            self.shutdown.holding = self.delay_for_event_drain(&batch, now);
            if self.shutdown.holding {
                break;
            }
            let batch_groups: Vec<usize> =
                batch.iter().filter_map(|n| index.get(n).copied()).collect();
            let mut all_stopped = true;
            for &gi in &batch_groups {
                let order = crate::process::order::stop_order(&self.groups[gi].slots, |s| {
                    (s.process.config.priority, s.process.name())
                });
                for pi in order {
                    // depends_on: a dependency waits until its dependents here have stopped.
                    if self.has_unstopped_dependents(gi, pi, &batch_groups) {
                        continue;
                    }
                    self.feed(gi, pi, Input::StopForShutdown, now);
                }
                all_stopped &= self.groups[gi]
                    .slots
                    .iter()
                    .all(|s| s.process.state.is_stopped());
            }
            if !all_stopped {
                break;
            }
            if let Some(list) = self.shutdown.stop_list.as_mut() {
                list.retain(|name| !batch.contains(name));
            }
        }
        let unstopped: Vec<&str> = self
            .groups
            .iter()
            .flat_map(|g| g.slots.iter())
            .filter(|s| !s.process.state.is_stopped())
            .map(|s| s.process.name())
            .collect();
        if unstopped.is_empty() {
            return true;
        }
        if self
            .shutdown
            .last_report
            .is_none_or(|t| now >= t + SHUTDOWN_REPORT_INTERVAL)
        {
            log::info!("waiting for {} to die", unstopped.join(", "));
            self.shutdown.last_report = Some(now);
        }
        false
    }

    /// Shutdown: whether to hold back stopping `batch` because one of its event listeners still
    /// has events to take (bounded by SHUTDOWN_EVENT_DRAIN from when the batch came up), so a
    /// listener sees the STOPPING/STOPPED events of the groups stopped before it.
    fn delay_for_event_drain(&mut self, batch: &[String], now: Instant) -> bool {
        let key = self.shutdown.stop_list.as_ref().map_or(0, |l| l.len());
        let until = match self.shutdown.drain {
            Some((k, until)) if k == key => until,
            _ => {
                let until = now + SHUTDOWN_EVENT_DRAIN;
                self.shutdown.drain = Some((key, until));
                until
            }
        };
        if now >= until {
            return false;
        }
        if self.listeners_have_pending_events(batch) {
            return true;
        }
        // Drained: once the batch is stopping, its own events must not hold it again.
        self.shutdown.drain = Some((key, now));
        false
    }

    /// At exit or restart: close the FastCGI sockets (the socket files stay, as the reference).
    pub fn close_sockets(&mut self) {
        for group in &mut self.groups {
            if let Some(socket) = group.fcgi_socket.take() {
                log::info!("Closing socket {}", socket.description);
            }
        }
    }

    /// SIGUSR2: reopen every child log file.
    pub fn reopen_logs(&mut self) {
        for slot in self.groups.iter_mut().flat_map(|g| g.slots.iter_mut()) {
            slot.stdout_log.reopen();
            slot.stderr_log.reopen();
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::daemon::Overrides;
    use crate::testutil::TempDir;

    /// A table over a fresh config file in a temp dir (`extra`: the program sections).
    pub(crate) fn table(tag: &str, extra: &str) -> (ProcessTable, mio::Poll, TempDir) {
        let dir = TempDir::new(tag);
        let d = dir.path().display();
        let conf = dir.join("supervisord.conf");
        let text = format!("[supervisord]\nlogfile={d}/main.log\nchildlogdir={d}\n\n{extra}");
        std::fs::write(&conf, text).unwrap();
        let overrides = Overrides {
            configuration: Some(conf),
            ..Overrides::default()
        };
        let config = crate::daemon::load_config(&overrides).unwrap();
        let poll = mio::Poll::new().unwrap();
        let registry = poll.registry().try_clone().unwrap();
        (ProcessTable::new(config, registry, overrides, 0), poll, dir)
    }

    /// Batches whose processes are all stopped already (never started) finish in the same
    /// pass: the whole shutdown, listeners included, takes one step.
    #[test]
    fn already_stopped_batches_all_finish_in_one_shutdown_step() {
        let (mut table, _poll, _dir) = table(
            "stopped",
            "[program:a]\ncommand=cat\nautostart=false\npriority=1\n\n\
             [program:b]\ncommand=cat\nautostart=false\npriority=5\n\n\
             [eventlistener:l]\ncommand=cat\nevents=TICK_5\nautostart=false\n",
        );
        table.request_stop(SupervisorState::Shutdown);
        let now = Instant::now();
        assert!(table.shutdown_step(now), "stopped groups held the shutdown");
        assert_eq!(table.shutdown.stop_list, Some(Vec::new()));
        assert!(!table.shutdown.holding);
    }

    /// Regression: once a shutdown batch's listeners had nothing left to take, the end of its
    /// drain wait (set to that moment) stayed a deadline, so the loop spun without sleeping
    /// until every process had died (seconds, up to stopwaitsecs).
    #[test]
    fn waiting_for_a_process_to_die_at_shutdown_sets_no_past_deadline() {
        let (mut table, _poll, _dir) = table(
            "spin",
            "[program:p]\ncommand=sleep 30\nstdout_logfile=NONE\nstderr_logfile=NONE\n",
        );
        let now = Instant::now();
        table.autostart_all(now);
        let pid = table.groups[0].slots[0].process.pid;
        assert!(pid > 0, "sleep did not start");
        table.request_stop(SupervisorState::Shutdown);
        let done = table.shutdown_step(now);
        let deadline = table.next_deadline();
        // The child is never reaped by the table here: collect it ourselves (only this pid).
        // SAFETY: kill and waitpid on the child this test spawned.
        unsafe {
            libc::kill(pid as i32, libc::SIGKILL);
            libc::waitpid(pid as i32, std::ptr::null_mut(), 0);
        }
        assert!(!done, "the process cannot be stopped before it is reaped");
        assert!(
            deadline.is_some_and(|d| d > now),
            "next deadline {deadline:?} is not after {now:?}"
        );
    }

    /// The health schedule holds one entry per checked RUNNING process, at its monitor's
    /// deadline; the table's next deadline is its head; due entries move on when delivered and
    /// leave when the process stops (nothing due: nothing wakes the loop).
    #[test]
    fn health_schedule_follows_the_monitors() {
        let (mut table, _poll, _dir) = table(
            "hc-schedule",
            "[program:a]\ncommand=sleep 30\nstartsecs=0\nnumprocs=3\nprocess_name=a%(process_num)s\n\
             stdout_logfile=NONE\nstderr_logfile=NONE\nhealthcheck=tcp:127.0.0.1:1\n\
             healthcheck_interval=5\n\n\
             [program:b]\ncommand=sleep 30\nstartsecs=0\nstdout_logfile=NONE\nstderr_logfile=NONE\n\
             healthcheck=tcp:127.0.0.1:1\nhealthcheck_interval=7\n\n\
             [program:c]\ncommand=sleep 30\nstartsecs=0\nstdout_logfile=NONE\nstderr_logfile=NONE\n",
        );
        assert_eq!(table.next_deadline(), None, "nothing runs: nothing is due");
        let t0 = Instant::now();
        table.autostart_all(t0);
        // startsecs=0: RUNNING once any time has passed.
        let t0 = t0 + Duration::from_millis(1);
        table.handle_timeouts(t0);
        let pids: Vec<u32> = table
            .groups
            .iter()
            .flat_map(|g| g.slots.iter().map(|s| s.process.pid))
            .collect();
        let consistent = |table: &ProcessTable| {
            let filed = table.health_deadlines.entries();
            for &(at, gi, pi) in &filed {
                let slot = &table.groups[gi].slots[pi];
                let config = slot.process.config.extensions.healthcheck.as_ref().unwrap();
                let health = slot.health.as_ref().unwrap();
                assert_eq!(health.monitor.next_deadline(config), Some(at));
                assert_eq!(health.scheduled, Some(at));
            }
            filed.len()
        };
        // Every process (checked or not) has filed its machine's deadline, if any.
        for (at, gi, pi) in table.deadlines.entries() {
            assert_eq!(table.groups[gi].slots[pi].process.next_deadline(), Some(at));
        }
        let with_deadline = table
            .groups
            .iter()
            .flat_map(|g| g.slots.iter())
            .filter(|s| s.process.next_deadline().is_some())
            .count();
        assert_eq!(table.deadlines.entries().len(), with_deadline);
        // The first checks ran at once (refused or in flight): each of the 4 is filed again.
        assert_eq!(consistent(&table), 4);
        let head = table.health_deadlines.first();
        assert!(head.is_some_and(|h| h > t0));
        // `None <= Some(_)` holds for Options: a table with no deadline must not pass.
        let next = table.next_deadline();
        assert!(next.is_some() && next <= head, "{next:?} vs {head:?}");
        // Whatever is due 10 s on is delivered; everything stays filed, later than that.
        let later = t0 + Duration::from_secs(10);
        table.handle_timeouts(later);
        assert_eq!(consistent(&table), 4);
        for gi in 0..table.groups.len() {
            for pi in 0..table.groups[gi].slots.len() {
                table.feed(gi, pi, Input::Stop, later);
            }
        }
        // SAFETY: kill and waitpid on the children this test spawned.
        for pid in pids {
            unsafe {
                libc::kill(pid as i32, libc::SIGKILL);
                libc::waitpid(pid as i32, std::ptr::null_mut(), 0);
            }
        }
        assert_eq!(
            consistent(&table),
            0,
            "stopping processes left checks filed"
        );
    }
}

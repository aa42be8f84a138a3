//! The one mio loop and its owner: `Daemon` holds everything the loop drives (the poller, the
//! signal self-pipe, the process table with its child pipes and event bus, the HTTP side, the
//! main log and the writability waits) and `run` is the loop. Each pass reads the monotonic
//! clock once and hands that `now` down; the poll timeout is the earliest deadline of anything
//! timed (none = block forever).

use std::io;
use std::time::{Duration, Instant, SystemTime};

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll};

use super::notify::Notifier;
use super::process_table::ProcessTable;
use super::rpc_backend::DaemonBackend;
use super::signal_pipe::SignalPipe;
use super::tokens;
use super::write_waits::WriteWaits;
use crate::logs::MainLogHandle;
use crate::process::SupervisorState;
use crate::web::Web;

/// Time per loop pass for start-up work (spawning autostart processes, creating AUTO log files),
/// so the control socket answers meanwhile.
const STARTUP_BUDGET: Duration = Duration::from_millis(3);
/// How soon to retry output queued for a full pipe/tty log target (child logs, the main log's
/// stdout copy) that cannot be waited on for writability.
const PENDING_LOG_RETRY: Duration = Duration::from_millis(50);

/// How the loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// With supervisord's exit status (0 unless an essential program decided otherwise).
    Shutdown(i32),
    Restart,
}

/// Watches the signal self-pipe (before anything else is registered).
pub fn register_signals(poll: &Poll, signals: &SignalPipe) -> io::Result<()> {
    poll.registry().register(
        &mut SourceFd(&signals.fd()),
        tokens::SIGNALS,
        Interest::READABLE,
    )
}

fn signal_name(sig: i32) -> String {
    crate::signals::name(sig).unwrap_or_else(|| format!("signal {sig}"))
}

/// Everything one configuration's loop drives.
pub struct Daemon<'a> {
    poll: Poll,
    events: Events,
    /// Installed once for the whole run (it outlives restarts).
    signals: &'a SignalPipe,
    /// systemd readiness (`$NOTIFY_SOCKET`), also for the whole run.
    notifier: &'a Notifier,
    table: ProcessTable,
    /// The HTTP servers: XML-RPC, log tails, the web pages.
    web: Web,
    main_log: MainLogHandle,
    /// Log targets with queued bytes, watched for writability.
    write_waits: WriteWaits,
}

impl<'a> Daemon<'a> {
    pub fn new(
        poll: Poll,
        signals: &'a SignalPipe,
        notifier: &'a Notifier,
        table: ProcessTable,
        web: Web,
        main_log: MainLogHandle,
    ) -> Daemon<'a> {
        Daemon {
            poll,
            events: Events::with_capacity(256),
            signals,
            notifier,
            table,
            web,
            main_log,
            write_waits: WriteWaits::default(),
        }
    }

    /// Runs until every process is stopped after a shutdown or restart request.
    pub fn run(&mut self) -> Exit {
        self.table.queue_autostart();
        // systemd hears READY=1 once per configuration, after the pass that spawned the last
        // autostart program (the HTTP servers already listen); RELOADING=1 / STOPPING=1 once
        // the stop begins, however it was requested (signal or XML-RPC).
        let mut ready_sent = false;
        let mut announced = SupervisorState::Running;
        loop {
            let (now, wall) = (Instant::now(), SystemTime::now());
            self.table.wall = wall;
            let sup = &mut self.table;
            let more_to_start = (sup.autostart_step(now, STARTUP_BUDGET)
                | sup.create_auto_logs_step(STARTUP_BUDGET))
            .then_some(now);
            sup.handle_timeouts(now);
            if !ready_sent && more_to_start.is_none() && sup.state == SupervisorState::Running {
                ready_sent = true;
                self.notifier.ready();
            }
            if sup.state != announced {
                announced = sup.state;
                match announced {
                    SupervisorState::Restarting => self.notifier.reloading(),
                    SupervisorState::Shutdown => self.notifier.stopping(),
                    _ => {}
                }
            }
            if sup.state != SupervisorState::Running && sup.shutdown_step(now) {
                return if sup.state == SupervisorState::Restarting {
                    Exit::Restart
                } else {
                    Exit::Shutdown(sup.exit_status.unwrap_or(0))
                };
            }
            let log = self.main_log;
            let mut clear = move || log.clear();
            self.web
                .after_pass(&mut DaemonBackend::new(sup, &mut clear, now), now, wall);
            report_main_log_health(&self.main_log);
            let backlog = sup.service_backlog(now).then_some(now);
            let coalesced = sup.service_coalesced(now);
            sup.bus.tick(wall);
            // The transitions that become PROCESS_STATE events also feed the open dashboards,
            // in the pass they happened (the loop may sleep right after).
            let emitted = sup.bus.take_emitted();
            if !emitted.is_empty() {
                let mut backend = DaemonBackend::new(sup, &mut clear, now);
                self.web.process_events(&mut backend, &emitted, now, wall);
            }
            sup.bus.restore(emitted);
            sup.bus.deliver();
            sup.dispatch_events();
            // `|`: both queues are retried every pass. Targets still full are waited on for
            // writability; the timer is only a fallback for one that cannot be polled.
            let mut full_targets = Vec::new();
            if sup.flush_pending_logs() | flush_main_log(&self.main_log) {
                self.table.pending_log_fds(&mut full_targets);
                self.main_log.pending_fds(&mut full_targets);
            }
            let log_retry = (!self.write_waits.update(self.poll.registry(), &full_targets))
                .then(|| now + PENDING_LOG_RETRY);
            let deadline = [
                self.table.next_deadline(),
                self.table.bus.next_tick_deadline(now, wall),
                log_retry,
                backlog,
                coalesced,
                more_to_start,
                self.web.next_deadline(),
            ]
            .into_iter()
            .flatten()
            .min();
            let timeout = deadline.map(|d| d.saturating_duration_since(now));
            if let Err(e) = self.poll.poll(&mut self.events, timeout) {
                if e.kind() != io::ErrorKind::Interrupted {
                    log::error!("poll failed: {e}");
                }
                continue;
            }
            let (now, wall) = (Instant::now(), SystemTime::now());
            self.table.wall = wall;
            for event in self.events.iter() {
                let token = event.token();
                if token == tokens::SIGNALS {
                    for sig in self.signals.drain() {
                        on_signal(&mut self.table, &self.main_log, sig, now);
                    }
                } else if self.table.pipes.owns(token) {
                    self.table.on_pipe_event(token, now);
                } else if self.table.health.owns(token) {
                    self.table.on_health_event(token, now);
                } else if self.web.owns(token) {
                    let log = self.main_log;
                    let mut clear = move || log.clear();
                    let mut backend = DaemonBackend::new(&mut self.table, &mut clear, now);
                    let registry = self.poll.registry();
                    self.web.on_event(&mut backend, registry, event, now, wall);
                }
            }
        }
    }

    /// After the loop: closes every HTTP connection and listener (removing our socket files).
    pub fn close_web(&mut self) {
        self.web.shutdown(self.poll.registry());
    }

    /// Last: closes the FastCGI sockets and the process table; returns the event serial the
    /// next configuration continues from.
    pub fn finish(mut self) -> u64 {
        self.table.close_sockets();
        self.table.bus.serial()
    }
}

/// Retries main-log output queued for a stalled stdout; returns whether some still waits.
fn flush_main_log(log: &MainLogHandle) -> bool {
    {
        let pending = log.flush_stdout();
        // Logged right away: with the queue drained the loop may sleep for long.
        let stdout_report = log.take_stdout_report();
        if let Some(report) = &stdout_report {
            log::warn!("{report}");
        }
        if report_main_log_health(log) || stdout_report.is_some() {
            return log.flush_stdout();
        }
        pending
    }
}

/// A failing (or recovered) main log file is reported once, on stderr as well (never waiting
/// for a stderr nobody reads). Returns whether there was something to report.
fn report_main_log_health(log: &MainLogHandle) -> bool {
    let Some(report) = log.take_report() else {
        return false;
    };
    crate::logs::stdout_copy::write_stderr(&format!("supervisord: {report}\n"));
    log::warn!("{report}");
    true
}

fn on_signal(sup: &mut ProcessTable, main_log: &MainLogHandle, sig: i32, now: Instant) {
    match sig {
        libc::SIGCHLD => {
            log::debug!("received SIGCHLD indicating a child quit");
            sup.reap(now);
        }
        libc::SIGTERM | libc::SIGINT | libc::SIGQUIT => {
            log::warn!("received {} indicating exit request", signal_name(sig));
            sup.request_stop(SupervisorState::Shutdown);
        }
        libc::SIGHUP => {
            if sup.state == SupervisorState::Shutdown {
                log::warn!("ignored SIGHUP indicating restart request (shutdown in progress)");
            } else {
                log::warn!("received SIGHUP indicating restart request");
                sup.request_stop(SupervisorState::Restarting);
            }
        }
        libc::SIGUSR2 => {
            log::info!("received SIGUSR2 indicating log reopen request");
            log::info!("supervisord logreopen");
            if let Err(e) = main_log.reopen() {
                log::error!("could not reopen the main log: {e}");
            }
            sup.reopen_logs();
        }
        other => {
            log::trace!(target: "blather", "received {} indicating nothing", signal_name(other))
        }
    }
}

//! The one mio loop: poll timeout = earliest deadline (none = block forever), self-pipe signals,
//! child pipes, reaping, shutdown bookkeeping.

use std::io;
use std::time::{Duration, Instant, SystemTime};

use mio::event::Event;
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Registry, Token};

use super::signal_pipe::SignalPipe;
use super::supervisor::Supervisor;
use super::write_waits::WriteWaits;
use crate::process::SupervisorState;

pub const SIGNAL_TOKEN: Token = Token(0);
/// Time per loop pass for start-up work (spawning autostart processes, creating AUTO log files),
/// so the control socket answers meanwhile.
const STARTUP_BUDGET: Duration = Duration::from_millis(3);
/// How soon to retry output queued for a full pipe/tty log target (child logs, the main log's
/// stdout copy) that cannot be waited on for writability.
const PENDING_LOG_RETRY: Duration = Duration::from_millis(50);

/// How the loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Shutdown,
    Restart,
}

/// What the loop drives besides the process table: the main log and the HTTP servers.
pub trait Hooks {
    fn reopen_main_log(&mut self);
    /// Once per loop pass, before polling (timers, held replies, streams).
    fn before_poll(&mut self, _sup: &mut Supervisor, _now: Instant) {}
    /// Sees the events emitted this pass (`sup.events`) before they go to event listeners: the
    /// web dashboards' live feed.
    fn on_emitted(&mut self, _sup: &mut Supervisor) {}
    /// Whether a readiness token belongs to the hooks (HTTP listeners and connections).
    fn owns(&self, _token: Token) -> bool {
        false
    }
    fn on_event(
        &mut self,
        _sup: &mut Supervisor,
        _registry: &Registry,
        _event: &Event,
        _now: Instant,
    ) {
    }
    fn next_deadline(&self) -> Option<Instant> {
        None
    }
    /// Retries main-log output queued for a stalled stdout; returns whether some still waits.
    fn flush_main_log(&mut self) -> bool {
        false
    }
    /// The descriptors main-log output waits on (after `flush_main_log` returned true).
    fn main_log_pending_fds(&self, _out: &mut Vec<std::os::fd::RawFd>) {}
}

pub fn register_signals(poll: &Poll, signals: &SignalPipe) -> io::Result<()> {
    poll.registry().register(
        &mut SourceFd(&signals.fd()),
        SIGNAL_TOKEN,
        Interest::READABLE,
    )
}

fn signal_name(sig: i32) -> String {
    crate::signals::name(sig).unwrap_or_else(|| format!("signal {sig}"))
}

/// Runs until every process is stopped after a shutdown or restart request.
pub fn run(
    sup: &mut Supervisor,
    poll: &mut Poll,
    signals: &SignalPipe,
    hooks: &mut dyn Hooks,
) -> Exit {
    let mut events = Events::with_capacity(256);
    let mut write_waits = WriteWaits::default();
    sup.queue_autostart();
    loop {
        let now = Instant::now();
        let more_to_start = (sup.autostart_step(now, STARTUP_BUDGET)
            | sup.create_auto_logs_step(STARTUP_BUDGET))
        .then_some(now);
        sup.handle_timeouts(now);
        if sup.state != SupervisorState::Running && sup.shutdown_step(now) {
            return if sup.state == SupervisorState::Restarting {
                Exit::Restart
            } else {
                Exit::Shutdown
            };
        }
        hooks.before_poll(sup, now);
        let backlog = sup.service_backlog().then_some(now);
        let coalesced = sup.service_coalesced(now);
        let wall = SystemTime::now();
        sup.tick(wall);
        if !sup.events.is_empty() {
            hooks.on_emitted(sup);
        }
        sup.deliver_events();
        sup.dispatch_events();
        // `|`: both queues are retried every pass. Targets still full are waited on for
        // writability; the timer is only a fallback for one that cannot be polled.
        let mut full_targets = Vec::new();
        if sup.flush_pending_logs() | hooks.flush_main_log() {
            sup.pending_log_fds(&mut full_targets);
            hooks.main_log_pending_fds(&mut full_targets);
        }
        let log_retry =
            (!write_waits.update(poll.registry(), &full_targets)).then(|| now + PENDING_LOG_RETRY);
        let deadline = [
            sup.next_deadline(),
            sup.next_tick_deadline(now, wall),
            log_retry,
            backlog,
            coalesced,
            more_to_start,
            hooks.next_deadline(),
        ]
        .into_iter()
        .flatten()
        .min();
        let timeout = deadline.map(|d| d.saturating_duration_since(now));
        if let Err(e) = poll.poll(&mut events, timeout) {
            if e.kind() != io::ErrorKind::Interrupted {
                log::error!("poll failed: {e}");
            }
            continue;
        }
        let now = Instant::now();
        for event in events.iter() {
            let token = event.token();
            if token == SIGNAL_TOKEN {
                for sig in signals.drain() {
                    on_signal(sup, sig, now, hooks);
                }
            } else if sup.owns_token(token) {
                sup.on_pipe_event(token);
            } else if hooks.owns(token) {
                hooks.on_event(sup, poll.registry(), event, now);
            }
        }
    }
}

fn on_signal(sup: &mut Supervisor, sig: i32, now: Instant, hooks: &mut dyn Hooks) {
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
            hooks.reopen_main_log();
            sup.reopen_logs();
        }
        other => {
            log::trace!(target: "blather", "received {} indicating nothing", signal_name(other))
        }
    }
}

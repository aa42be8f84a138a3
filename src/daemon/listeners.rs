//! Event delivery for the process table: emitted events go into subscribed pools (global serial),
//! READY listeners get envelopes on stdin, results and deaths rebuffer; TICK events at wall-clock
//! boundaries, only while some pool subscribes to them.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::child_io::StdinError;
use super::supervisor::{Supervisor, log_at};
use crate::config::model::EventListenerOptions;
use crate::events::listener::{ListenerAction, ListenerState};
use crate::events::pool::Pool;
use crate::events::{Event, EventType};
use crate::process::ProcessState;

const TICKS: [(EventType, u64); 3] = [
    (EventType::Tick5, 5),
    (EventType::Tick60, 60),
    (EventType::Tick3600, 3600),
];

fn epoch_secs(wall: SystemTime) -> u64 {
    wall.duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

/// The current boundary of each TICK period (no event is due for it).
pub fn tick_boundaries(wall: SystemTime) -> [u64; 3] {
    let now = epoch_secs(wall);
    TICKS.map(|(_, period)| now - now % period)
}

impl Supervisor {
    pub(super) fn add_pool(&mut self, name: &str, opts: &EventListenerOptions) {
        // A pool subscribes when it is created: events emitted before (e.g. the ADDED events of
        // groups created earlier at start-up) go only to the pools that existed then.
        self.deliver_events();
        let subscriptions = opts
            .events
            .iter()
            .filter_map(|e| EventType::from_name(e))
            .collect();
        self.pools.retain(|p| p.name != name);
        self.pools
            .push(Pool::new(name, subscriptions, opts.buffer_size));
    }

    fn subscribed_ticks(&self) -> impl Iterator<Item = (usize, EventType, u64)> + '_ {
        TICKS
            .iter()
            .enumerate()
            .filter(|(_, (kind, _))| self.pools.iter().any(|p| p.subscribes_to(*kind)))
            .map(|(i, (kind, period))| (i, *kind, *period))
    }

    /// Emits TICK_* events for boundaries crossed since the last pass.
    pub fn tick(&mut self, wall: SystemTime) {
        let current = tick_boundaries(wall);
        let mut due = Vec::new();
        for (i, kind, _) in self.subscribed_ticks() {
            if current[i] != self.ticks[i] {
                due.push((i, kind));
            }
        }
        for (i, kind) in due {
            self.ticks[i] = current[i];
            self.events.push(Event::Tick {
                kind,
                when: current[i],
            });
        }
        // Unsubscribed periods just follow the clock so a later subscription starts fresh.
        for (i, b) in current.iter().enumerate() {
            if !self.pools.iter().any(|p| p.subscribes_to(TICKS[i].0)) {
                self.ticks[i] = *b;
            }
        }
    }

    /// When the next subscribed TICK boundary is due (None if nobody listens to ticks).
    pub fn next_tick_deadline(&self, now: Instant, wall: SystemTime) -> Option<Instant> {
        let since_epoch = wall.duration_since(UNIX_EPOCH).unwrap_or_default();
        self.subscribed_ticks()
            .map(|(i, _, period)| {
                let next = Duration::from_secs(self.ticks[i] + period);
                now + next.saturating_sub(since_epoch)
            })
            .min()
    }

    /// Moves emitted events into the pools that subscribe to them.
    pub fn deliver_events(&mut self) {
        for event in std::mem::take(&mut self.events) {
            let kind = event.event_type();
            if !self.pools.iter().any(|p| p.subscribes_to(kind)) {
                continue;
            }
            let serial = self.event_serial;
            self.event_serial = self.event_serial.wrapping_add(1);
            for pool in self.pools.iter_mut().filter(|p| p.subscribes_to(kind)) {
                for (level, msg) in pool.accept(serial, event.clone()) {
                    log_at(level, &msg);
                }
            }
        }
    }

    /// Sends buffered events to READY listeners of RUNNING processes, oldest first.
    ///
    /// A listener whose stdin pipe still holds part of an earlier envelope (it answered without
    /// reading) is not sent more: the event waits in the bounded pool buffer instead of piling
    /// up in our memory. A listener whose stdin refuses the envelope (EPIPE) keeps its state and
    /// the event is offered to the next member, as in the reference.
    pub fn dispatch_events(&mut self) {
        for pool_index in 0..self.pools.len() {
            // Runs every loop pass: nothing to allocate for a pool with nothing buffered.
            if self.pools[pool_index].buffer.is_empty() {
                continue;
            }
            let identifier = self.config.supervisord.identifier.clone();
            let pool_name = self.pools[pool_index].name.clone();
            let Some(gi) = self.group_index(&pool_name) else {
                continue;
            };
            let mut refused = vec![false; self.groups[gi].slots.len()];
            let mut attempted = false;
            while !self.pools[pool_index].buffer.is_empty() {
                let ready = self.groups[gi].slots.iter().enumerate().position(|(i, s)| {
                    !refused[i]
                        && s.process.state == ProcessState::Running
                        && s.stdin_buffer.is_empty()
                        && s.listener.as_ref().is_some_and(|l| l.is_ready())
                });
                let Some(pi) = ready else { break };
                attempted = true;
                let Some(event) = self.pools[pool_index].buffer.pop_front() else {
                    break;
                };
                let envelope = self.pools[pool_index].envelope(&event, &identifier);
                match self.write_stdin(gi, pi, envelope.as_bytes()) {
                    Ok(()) => {
                        let slot = &mut self.groups[gi].slots[pi];
                        if let Some(listener) = slot.listener.as_mut() {
                            for action in listener.sent(event) {
                                if let ListenerAction::Log(level, msg) = action {
                                    log_at(level, &msg);
                                }
                            }
                        }
                    }
                    Err(e) => {
                        refused[pi] = true;
                        let name = self.groups[gi].slots[pi].process.name().to_string();
                        if let StdinError::Failed(msg) = &e {
                            log::error!("could not send event to listener {name}: {msg}");
                        } else {
                            log::debug!(
                                "epipe occurred while sending event {} to listener {name}, listener state unchanged",
                                event.serial
                            );
                        }
                        // Back at the head, unlogged: the reference only logs a rebuffering
                        // when no member took it.
                        self.pools[pool_index].buffer.push_front(event);
                    }
                }
            }
            if attempted && let Some(msg) = self.pools[pool_index].left_behind_message() {
                log::debug!("{msg}");
            }
        }
    }

    pub(super) fn apply_listener_actions(&mut self, pool_name: &str, actions: Vec<ListenerAction>) {
        for action in actions {
            match action {
                ListenerAction::Log(level, msg) => log_at(level, &msg),
                ListenerAction::Rebuffer(event) => {
                    if let Some(pool) = self.pools.iter_mut().find(|p| p.name == pool_name) {
                        for (level, msg) in pool.rebuffer(event) {
                            log_at(level, &msg);
                        }
                    }
                }
            }
        }
    }

    /// Whether a listener of one of these groups is RUNNING and has an event to take or to
    /// finish (events emitted but not yet moved into pools count too).
    pub(super) fn listeners_have_pending_events(&self, groups: &[String]) -> bool {
        groups.iter().any(|name| {
            let Some(gi) = self.group_index(name) else {
                return false;
            };
            let alive = self.groups[gi].slots.iter().filter(|s| {
                s.process.state == ProcessState::Running
                    && s.listener
                        .as_ref()
                        .is_some_and(|l| l.state != ListenerState::Unknown)
            });
            let mut busy = false;
            let mut any_alive = false;
            for slot in alive {
                any_alive = true;
                busy |= slot
                    .listener
                    .as_ref()
                    .is_some_and(|l| l.state == ListenerState::Busy);
            }
            let pool = self.pools.iter().find(|p| &p.name == name);
            let queued = pool.is_some_and(|p| {
                !p.buffer.is_empty() || self.events.iter().any(|e| p.subscribes_to(e.event_type()))
            });
            any_alive && (busy || queued)
        })
    }

    /// A listener process exited: a BUSY event goes back to its pool.
    pub(super) fn listener_died(&mut self, gi: usize, pi: usize) {
        let group = self.groups[gi].config.name.clone();
        let actions = match self.groups[gi].slots[pi].listener.as_mut() {
            Some(listener) => listener.died(),
            None => return,
        };
        self.apply_listener_actions(&group, actions);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::daemon::Overrides;

    #[test]
    fn a_pool_only_gets_events_emitted_after_it_was_created() {
        let dir = crate::testutil::TempDir::new("listeners-pools");
        let d = dir.path().display();
        let conf = dir.join("supervisord.conf");
        std::fs::write(
            &conf,
            format!(
                "[supervisord]\nlogfile={d}/main.log\nchildlogdir={d}\n\n\
                 [eventlistener:a]\ncommand=cat\nevents=PROCESS_GROUP\nautostart=false\n\n\
                 [eventlistener:b]\ncommand=cat\nevents=PROCESS_GROUP\nautostart=false\n\n\
                 [program:p]\ncommand=cat\nautostart=false\n"
            ),
        )
        .unwrap();
        let overrides = Overrides {
            configuration: Some(conf),
            ..Overrides::default()
        };
        let config = crate::daemon::load_config(&overrides).unwrap();
        let poll = mio::Poll::new().unwrap();
        let registry = poll.registry().try_clone().unwrap();
        let mut sup = Supervisor::new(config, registry, overrides, 0);
        sup.deliver_events();
        let buffered = |pool: &str| -> Vec<(u64, u64, String)> {
            let pool = sup.pools.iter().find(|p| p.name == pool).unwrap();
            pool.buffer
                .iter()
                .map(|e| (e.serial, e.pool_serial, e.event.payload()))
                .collect()
        };
        let added = |g: &str| format!("groupname:{g}\n");
        assert_eq!(
            buffered("a"),
            vec![(0, 0, added("a")), (1, 1, added("b")), (2, 2, added("p"))]
        );
        assert_eq!(buffered("b"), vec![(1, 0, added("b")), (2, 1, added("p"))]);
    }
}

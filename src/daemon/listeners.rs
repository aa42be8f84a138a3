//! Event listeners in the process table: READY listener processes get the envelopes their pool
//! buffered (on stdin), their results and deaths put events back into the pool; shutdown asks
//! whether a listener still has events to take. The pools themselves are the event bus's.

use super::child_io::StdinError;
use super::process_table::ProcessTable;
use crate::events::listener::{ListenerAction, ListenerState};
use crate::logs::log_at;
use crate::process::ProcessState;

impl ProcessTable {
    /// Sends buffered events to READY listeners of RUNNING processes, oldest first.
    ///
    /// A listener whose stdin pipe still holds part of an earlier envelope (it answered without
    /// reading) is not sent more: the event waits in the bounded pool buffer instead of piling
    /// up in our memory. A listener whose stdin refuses the envelope (EPIPE) keeps its state and
    /// the event is offered to the next member, as in the reference.
    pub fn dispatch_events(&mut self) {
        for pool_index in 0..self.bus.pools().len() {
            // Runs every loop pass: nothing to allocate for a pool with nothing buffered.
            if self.bus.pool_mut(pool_index).buffer.is_empty() {
                continue;
            }
            let identifier = self.config.supervisord.identifier.clone();
            let pool_name = self.bus.pool_mut(pool_index).name.clone();
            let Some(gi) = self.group_index(&pool_name) else {
                continue;
            };
            let mut refused = vec![false; self.groups[gi].slots.len()];
            let mut attempted = false;
            while !self.bus.pool_mut(pool_index).buffer.is_empty() {
                let ready = self.groups[gi].slots.iter().enumerate().position(|(i, s)| {
                    !refused[i]
                        && s.process.state == ProcessState::Running
                        && s.stdin_buffer.is_empty()
                        && s.listener.as_ref().is_some_and(|l| l.is_ready())
                });
                let Some(pi) = ready else { break };
                attempted = true;
                let Some(event) = self.bus.pool_mut(pool_index).buffer.pop_front() else {
                    break;
                };
                let envelope = self.bus.pool_mut(pool_index).envelope(&event, &identifier);
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
                        self.bus.pool_mut(pool_index).buffer.push_front(event);
                    }
                }
            }
            if attempted && let Some(msg) = self.bus.pool_mut(pool_index).left_behind_message() {
                log::debug!("{msg}");
            }
        }
    }

    pub(super) fn apply_listener_actions(&mut self, pool_name: &str, actions: Vec<ListenerAction>) {
        for action in actions {
            match action {
                ListenerAction::Log(level, msg) => log_at(level, &msg),
                ListenerAction::Rebuffer(event) => self.bus.rebuffer(pool_name, event),
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
            any_alive && (busy || self.bus.has_queued(name))
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
    #[test]
    fn a_pool_only_gets_events_emitted_after_it_was_created() {
        let (mut sup, _poll, _dir) = crate::daemon::process_table::tests::table(
            "listeners-pools",
            "[eventlistener:a]\ncommand=cat\nevents=PROCESS_GROUP\nautostart=false\n\n\
             [eventlistener:b]\ncommand=cat\nevents=PROCESS_GROUP\nautostart=false\n\n\
             [program:p]\ncommand=cat\nautostart=false\n",
        );
        sup.bus.deliver();
        let buffered = |pool: &str| -> Vec<(u64, u64, String)> {
            let pool = sup.bus.pools().iter().find(|p| p.name == pool).unwrap();
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

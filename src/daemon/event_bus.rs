//! The event bus: events the process table emitted, waiting to be delivered; the event-listener
//! pools (one per `[eventlistener:x]` group) they are delivered into, under the global serial;
//! and TICK events at wall-clock boundaries, only while some pool subscribes to them. Handing
//! buffered events to listener processes is the process table's part (listeners.rs).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::config::model::EventListenerOptions;
use crate::events::pool::Pool;
use crate::events::{Event, EventType};
use crate::logs::log_at;

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

pub struct EventBus {
    /// Events emitted since the loop last delivered them.
    emitted: Vec<Event>,
    pools: Vec<Pool>,
    /// The global event serial (continues across restarts).
    serial: u64,
    /// Last TICK boundary seen for 5, 60 and 3600 seconds.
    ticks: [u64; 3],
}

impl EventBus {
    pub fn new(serial: u64, wall: SystemTime) -> EventBus {
        EventBus {
            emitted: Vec::new(),
            pools: Vec::new(),
            serial,
            ticks: tick_boundaries(wall),
        }
    }

    pub fn emit(&mut self, event: Event) {
        self.emitted.push(event);
    }

    /// The events emitted since the last delivery, lent out (the web dashboards' live feed reads
    /// them before delivery); give them back with `restore`.
    pub fn take_emitted(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.emitted)
    }

    /// Puts lent events back ahead of any emitted meanwhile, keeping their order.
    pub fn restore(&mut self, mut events: Vec<Event>) {
        events.append(&mut self.emitted);
        self.emitted = events;
    }

    /// The next event serial (carried into the next configuration after a restart).
    pub fn serial(&self) -> u64 {
        self.serial
    }

    pub fn pools(&self) -> &[Pool] {
        &self.pools
    }

    pub(super) fn pool_mut(&mut self, index: usize) -> &mut Pool {
        &mut self.pools[index]
    }

    /// Whether `group` is an event listener group (has a pool).
    pub fn is_pool(&self, group: &str) -> bool {
        self.pools.iter().any(|p| p.name == group)
    }

    pub(super) fn add_pool(&mut self, name: &str, opts: &EventListenerOptions) {
        // A pool subscribes when it is created: events emitted before (e.g. the ADDED events of
        // groups created earlier at start-up) go only to the pools that existed then.
        self.deliver();
        let subscriptions = opts
            .events
            .iter()
            .filter_map(|e| EventType::from_name(e))
            .collect();
        self.pools.retain(|p| p.name != name);
        self.pools
            .push(Pool::new(name, subscriptions, opts.buffer_size));
    }

    pub(super) fn remove_pool(&mut self, name: &str) {
        self.pools.retain(|p| p.name != name);
    }

    /// An event a listener did not finish goes back into its pool.
    pub(super) fn rebuffer(&mut self, pool_name: &str, event: crate::events::pool::BufferedEvent) {
        if let Some(pool) = self.pools.iter_mut().find(|p| p.name == pool_name) {
            for (level, msg) in pool.rebuffer(event) {
                log_at(level, &msg);
            }
        }
    }

    /// Whether the pool of `group` has events buffered, or emitted and not yet delivered.
    pub(super) fn has_queued(&self, group: &str) -> bool {
        let pool = self.pools.iter().find(|p| p.name == group);
        pool.is_some_and(|p| {
            !p.buffer.is_empty() || self.emitted.iter().any(|e| p.subscribes_to(e.event_type()))
        })
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
            self.emitted.push(Event::Tick {
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
    pub fn deliver(&mut self) {
        for event in std::mem::take(&mut self.emitted) {
            let kind = event.event_type();
            if !self.pools.iter().any(|p| p.subscribes_to(kind)) {
                continue;
            }
            let serial = self.serial;
            self.serial = self.serial.wrapping_add(1);
            for pool in self.pools.iter_mut().filter(|p| p.subscribes_to(kind)) {
                for (level, msg) in pool.accept(serial, event.clone()) {
                    log_at(level, &msg);
                }
            }
        }
    }
}

//! An event-listener pool, purely: subscriptions, the bounded FIFO buffer with the reference's
//! overflow rule, pool serials, and the envelope written to a listener.

use std::collections::VecDeque;

use crate::config::model::LogLevel;
use crate::events::{Event, EventType};

/// An event accepted by a pool, with its global and per-pool serials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BufferedEvent {
    pub serial: u64,
    pub pool_serial: u64,
    pub event: Event,
}

#[derive(Debug, Clone)]
pub struct Pool {
    pub name: String,
    pub subscriptions: Vec<EventType>,
    pub capacity: usize,
    pub buffer: VecDeque<BufferedEvent>,
    next_pool_serial: u64,
}

impl Pool {
    pub fn new(name: &str, subscriptions: Vec<EventType>, capacity: usize) -> Pool {
        Pool {
            name: name.to_string(),
            subscriptions,
            capacity: capacity.max(1),
            buffer: VecDeque::new(),
            next_pool_serial: 0,
        }
    }

    pub fn subscribes_to(&self, kind: EventType) -> bool {
        self.subscriptions.iter().any(|s| kind.is_a(*s))
    }

    /// Appends a new event (serial already assigned); the oldest is dropped when full.
    pub fn accept(&mut self, serial: u64, event: Event) -> Vec<(LogLevel, String)> {
        let pool_serial = self.next_pool_serial;
        self.next_pool_serial = self.next_pool_serial.wrapping_add(1);
        let mut logs = self.make_room();
        self.buffer.push_back(BufferedEvent {
            serial,
            pool_serial,
            event,
        });
        logs.shrink_to_fit();
        logs
    }

    /// Puts an event back at the head (rejected, failed, or its listener died).
    pub fn rebuffer(&mut self, event: BufferedEvent) -> Vec<(LogLevel, String)> {
        let mut logs = vec![(
            LogLevel::Debug,
            self.rebuffering_message(event.serial, self.buffer.len()),
        )];
        logs.extend(self.make_room());
        self.buffer.push_front(event);
        logs
    }

    /// The reference's debug line for an event put back at the head of a buffer that then
    /// holds `others` events besides it.
    pub fn rebuffering_message(&self, serial: u64, others: usize) -> String {
        format!(
            "rebuffering event {serial} for pool {} (buf size={others}, max={})",
            self.name, self.capacity
        )
    }

    /// The line the reference logs when a dispatch pass leaves events behind (every READY
    /// member took one): it takes the next event out and puts it back.
    pub fn left_behind_message(&self) -> Option<String> {
        let head = self.buffer.front()?;
        Some(self.rebuffering_message(head.serial, self.buffer.len() - 1))
    }

    fn make_room(&mut self) -> Vec<(LogLevel, String)> {
        let mut logs = Vec::new();
        while self.buffer.len() >= self.capacity {
            if let Some(old) = self.buffer.pop_front() {
                logs.push((
                    LogLevel::Error,
                    format!(
                        "pool {} event buffer overflowed, discarding event {}",
                        self.name, old.serial
                    ),
                ));
            }
        }
        logs
    }

    /// The envelope + payload written to the listener's stdin.
    pub fn envelope(&self, event: &BufferedEvent, identifier: &str) -> String {
        let payload = event.event.payload();
        format!(
            "ver:3.0 server:{} serial:{} pool:{} poolserial:{} eventname:{} len:{}\n{}",
            identifier,
            event.serial,
            self.name,
            event.pool_serial,
            event.event.event_type().name(),
            payload.chars().count(),
            payload
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overflow_drops_the_oldest() {
        let mut p = Pool::new("lst", vec![EventType::Event], 2);
        assert!(p.accept(0, Event::SupervisorRunning).is_empty());
        assert!(p.accept(1, Event::SupervisorRunning).is_empty());
        let logs = p.accept(2, Event::SupervisorRunning);
        assert_eq!(
            logs,
            vec![(
                LogLevel::Error,
                "pool lst event buffer overflowed, discarding event 0".to_string()
            )]
        );
        let serials: Vec<u64> = p.buffer.iter().map(|e| e.serial).collect();
        assert_eq!(serials, vec![1, 2]);
        assert_eq!(p.buffer[1].pool_serial, 2);
    }

    #[test]
    fn rebuffering_lines_name_the_head_and_the_others() {
        let mut p = Pool::new("bad", vec![EventType::Event], 3);
        assert_eq!(p.left_behind_message(), None);
        p.accept(4, Event::SupervisorRunning);
        p.accept(5, Event::SupervisorRunning);
        assert_eq!(
            p.left_behind_message().as_deref(),
            Some("rebuffering event 4 for pool bad (buf size=1, max=3)")
        );
        let head = p.buffer.pop_front().unwrap();
        let logs = p.rebuffer(head);
        assert_eq!(
            logs,
            vec![(
                LogLevel::Debug,
                "rebuffering event 4 for pool bad (buf size=1, max=3)".to_string()
            )]
        );
    }

    #[test]
    fn envelope_counts_characters() {
        let p = Pool::new("lst", vec![EventType::Event], 10);
        let e = BufferedEvent {
            serial: 8,
            pool_serial: 8,
            event: Event::RemoteCommunication {
                kind: "t".into(),
                data: "café".into(),
            },
        };
        assert_eq!(
            p.envelope(&e, "supervisor"),
            "ver:3.0 server:supervisor serial:8 pool:lst poolserial:8 eventname:REMOTE_COMMUNICATION len:11\ntype:t\ncafé"
        );
    }

    #[test]
    fn subscriptions_include_subtypes() {
        let p = Pool::new("lst", vec![EventType::ProcessState, EventType::Tick60], 10);
        assert!(p.subscribes_to(EventType::ProcessStateExited));
        assert!(p.subscribes_to(EventType::Tick60));
        assert!(!p.subscribes_to(EventType::Tick5));
        assert!(!p.subscribes_to(EventType::ProcessGroupAdded));
    }
}

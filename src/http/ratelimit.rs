//! Log lines about hostile or broken clients (failed logins, refused requests) at most once per
//! interval per client, with a count of what was held back. Pure: time is an argument.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The reports of the last interval, per client key (an IP address).
#[derive(Debug)]
pub struct RateLimit {
    interval: Duration,
    /// Keys kept at most; a flood from many addresses shares one catch-all key beyond it.
    capacity: usize,
    entries: HashMap<String, Entry>,
}

#[derive(Debug)]
struct Entry {
    last_report: Instant,
    /// Events since the last report that were not reported.
    held: u64,
}

/// Key that clients share once `capacity` keys are in use.
pub const OTHERS: &str = "other clients";

impl RateLimit {
    pub fn new(interval: Duration, capacity: usize) -> RateLimit {
        RateLimit {
            interval,
            capacity: capacity.max(1),
            entries: HashMap::new(),
        }
    }

    /// Records one event for `key` at `now`. Some(n): write a line now, covering n events
    /// (this one and those held back since the last line); None: stay quiet.
    pub fn record(&mut self, key: &str, now: Instant) -> Option<(String, u64)> {
        let key = if self.entries.contains_key(key) || self.make_room(now) {
            key.to_string()
        } else {
            OTHERS.to_string()
        };
        match self.entries.get_mut(&key) {
            Some(entry) if now < entry.last_report + self.interval => {
                entry.held += 1;
                None
            }
            Some(entry) => {
                let n = entry.held + 1;
                entry.last_report = now;
                entry.held = 0;
                Some((key, n))
            }
            None => {
                self.entries.insert(
                    key.clone(),
                    Entry {
                        last_report: now,
                        held: 0,
                    },
                );
                Some((key, 1))
            }
        }
    }

    /// Whether a new key fits, after forgetting keys whose interval is over and that hold
    /// nothing back (their next event is reported at once anyway).
    fn make_room(&mut self, now: Instant) -> bool {
        if self.fits() {
            return true;
        }
        let interval = self.interval;
        self.entries
            .retain(|_, e| e.held > 0 || now < e.last_report + interval);
        self.fits()
    }

    /// One more key fits, keeping a place for the catch-all key.
    fn fits(&self) -> bool {
        let reserved = usize::from(!self.entries.contains_key(OTHERS));
        self.entries.len() + reserved < self.capacity
    }

    #[cfg(test)]
    fn keys(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn once_a_minute_per_client_with_the_held_count() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let mut limit = RateLimit::new(s(60), 100);
        // (offset, key, expected report)
        let steps: &[(u64, &str, Option<u64>)] = &[
            (0, "10.0.0.1", Some(1)),
            (1, "10.0.0.1", None),
            (2, "10.0.0.1", None),
            (2, "10.0.0.2", Some(1)),
            (59, "10.0.0.1", None),
            (60, "10.0.0.1", Some(4)),
            (61, "10.0.0.2", None),
            (62, "10.0.0.2", Some(2)),
            (119, "10.0.0.1", None),
            (500, "10.0.0.1", Some(2)),
            (501, "10.0.0.1", None),
        ];
        for (offset, key, want) in steps {
            let got = limit.record(key, t0 + s(*offset)).map(|(k, n)| {
                assert_eq!(k, *key);
                n
            });
            assert_eq!(got, *want, "t+{offset}s {key}");
        }
    }

    #[test]
    fn many_clients_share_a_catch_all_key_and_memory_stays_bounded() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let mut limit = RateLimit::new(s(60), 4);
        for i in 0..3 {
            assert_eq!(
                limit.record(&format!("a{i}"), t0),
                Some((format!("a{i}"), 1))
            );
        }
        // The fourth and later new clients within the interval are lumped together.
        assert_eq!(limit.record("b0", t0), Some((OTHERS.to_string(), 1)));
        for i in 1..1000 {
            assert_eq!(limit.record(&format!("b{i}"), t0 + s(1)), None);
        }
        assert_eq!(limit.keys(), 4);
        // Once the quiet ones expire, new clients get their own lines again; the catch-all
        // keeps its held count until its next line.
        assert_eq!(limit.record("c0", t0 + s(61)), Some(("c0".to_string(), 1)));
        for i in 1..3 {
            limit.record(&format!("c{i}"), t0 + s(61));
        }
        assert_eq!(
            limit.record("d0", t0 + s(62)),
            Some((OTHERS.to_string(), 1000))
        );
        assert!(limit.keys() <= 4);
    }
}

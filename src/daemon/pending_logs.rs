//! Which processes' child logs hold bytes queued for a full pipe/tty target
//! (`stdout_logfile=/dev/stdout`), keyed by (group index, slot index): the loop retries and waits
//! on only these instead of visiting every process's two logs each pass. An entry is added
//! wherever output is written (a drain, a pipe's close) and dropped once its logs are empty
//! again; indexes move when groups are added or removed, and the owner then lists them anew.

use std::collections::BTreeSet;

#[derive(Debug, Default)]
pub struct PendingLogs {
    /// Ordered so retries go out in table order, as when every slot was visited.
    slots: BTreeSet<(usize, usize)>,
}

impl PendingLogs {
    /// Lists the process if `pending` (one of its logs still holds queued bytes). An entry
    /// whose logs drained meanwhile is harmless: the next retry drops it.
    pub fn note(&mut self, gi: usize, pi: usize, pending: bool) {
        if pending {
            self.slots.insert((gi, pi));
        }
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The listed processes, in table order.
    pub fn iter(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.slots.iter().copied()
    }

    /// Takes every entry (for a retry; the owner notes again those still pending).
    pub fn take(&mut self) -> Vec<(usize, usize)> {
        std::mem::take(&mut self.slots).into_iter().collect()
    }

    /// Lists anew from every process's state (after group indexes moved).
    pub fn rebuild(&mut self, pending: impl IntoIterator<Item = (usize, usize)>) {
        self.slots = pending.into_iter().collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noted_slots_come_back_in_table_order_once() {
        let mut p = PendingLogs::default();
        assert!(p.is_empty());
        p.note(2, 0, true);
        p.note(0, 3, true);
        p.note(1, 1, false);
        p.note(0, 3, true);
        assert_eq!(p.iter().collect::<Vec<_>>(), vec![(0, 3), (2, 0)]);
        assert_eq!(p.take(), vec![(0, 3), (2, 0)]);
        assert!(p.is_empty());
        // A group was inserted before the others: entries are listed at their new indexes.
        p.note(0, 0, true);
        p.rebuild([(1, 0), (0, 2)]);
        assert_eq!(p.iter().collect::<Vec<_>>(), vec![(0, 2), (1, 0)]);
    }
}

//! An ordered set of per-process deadlines keyed by (group index, slot index): the loop takes
//! what is due and its poll timeout from the head instead of visiting every process each pass.
//! The owner keeps, next to each process, the deadline it filed (`filed`), so moving an entry
//! is one removal and one insertion; indexes move when groups are added or removed, and the
//! owner then files everything anew.

use std::collections::BTreeSet;
use std::time::Instant;

#[derive(Debug, Default)]
pub struct Deadlines {
    set: BTreeSet<(Instant, usize, usize)>,
}

impl Deadlines {
    /// Moves the process's entry from `filed` to `next` (and records it in `filed`).
    pub fn refile(
        &mut self,
        filed: &mut Option<Instant>,
        next: Option<Instant>,
        gi: usize,
        pi: usize,
    ) {
        if *filed == next {
            return;
        }
        if let Some(old) = filed.take() {
            self.set.remove(&(old, gi, pi));
        }
        if let Some(at) = next {
            self.set.insert((at, gi, pi));
        }
        *filed = next;
    }

    /// The earliest deadline.
    pub fn first(&self) -> Option<Instant> {
        self.set.first().map(|&(at, _, _)| at)
    }

    /// Removes and returns the processes whose deadline is `now` or earlier, earliest first.
    /// Their owner must clear their `filed` (the entries are gone) before filing them again.
    pub fn take_due(&mut self, now: Instant) -> Vec<(usize, usize)> {
        let mut due = Vec::new();
        while let Some(&(at, gi, pi)) = self.set.first() {
            if at > now {
                break;
            }
            self.set.pop_first();
            due.push((gi, pi));
        }
        due
    }

    pub fn clear(&mut self) {
        self.set.clear();
    }

    /// Every entry, earliest first (tests check them against the processes).
    #[cfg(test)]
    pub fn entries(&self) -> Vec<(Instant, usize, usize)> {
        self.set.iter().copied().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn refile_moves_one_entry_and_take_due_pops_in_order() {
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        let mut d = Deadlines::default();
        let (mut a, mut b, mut c) = (None, None, None);
        d.refile(&mut a, Some(at(30)), 0, 0);
        d.refile(&mut b, Some(at(10)), 0, 1);
        d.refile(&mut c, Some(at(20)), 1, 0);
        assert_eq!(d.first(), Some(at(10)));
        d.refile(&mut b, Some(at(40)), 0, 1);
        assert_eq!(d.first(), Some(at(20)));
        assert_eq!(d.entries().len(), 3);
        d.refile(&mut c, None, 1, 0);
        assert_eq!((c, d.entries().len()), (None, 2));
        assert_eq!(d.take_due(at(35)), vec![(0, 0)]);
        assert_eq!(d.take_due(at(35)), vec![]);
        assert_eq!(d.first(), Some(at(40)));
        assert_eq!(d.take_due(at(100)), vec![(0, 1)]);
        assert_eq!(d.first(), None);
    }
}

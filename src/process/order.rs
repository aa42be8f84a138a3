//! Ordering of groups and processes: start in ascending (priority, name), stop in reverse; at
//! shutdown, which groups stop together.

/// Indices of `items` in start order: ascending priority, ties by name, then by input position.
pub fn start_order<T>(items: &[T], key: impl Fn(&T) -> (i32, &str)) -> Vec<usize> {
    crate::sort::order(items.len(), &|a, b| key(&items[a]).cmp(&key(&items[b])))
}

/// Indices in stop order: the exact reverse of the start order.
pub fn stop_order<T>(items: &[T], key: impl Fn(&T) -> (i32, &str)) -> Vec<usize> {
    let mut idx = start_order(items, key);
    idx.reverse();
    idx
}

/// A group still to stop at shutdown, as far as choosing the next batch goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StopEntry {
    /// The group's priority (None: the group is gone, e.g. removed meanwhile).
    pub priority: Option<i32>,
    /// The group is an event listener pool.
    pub listener: bool,
}

/// The next shutdown (or `stop all`) batch: indices into `remaining` (the groups still to stop,
/// in ascending priority: the last is stopped first), highest index first; empty when nothing
/// is left. `stop_before` holds `(a, b)` pairs of `remaining` indices: group `a` depends on
/// group `b` (`depends_on=`), so `a` must be stopped before `b` is.
///
/// Highest priority number first; groups of equal priority are stopped together, the next
/// priority once all of them are stopped. An event listener group goes alone (as every group
/// does in the reference), so the listeners stopped after it still get its STOPPING/STOPPED
/// events; a listener also ends the batch of equal priority before it. Dependencies win over
/// priority: a group is not stopped while a group that depends on it is left (a cycle between
/// groups, possible with `[group:x]` members, falls back to priority alone).
pub fn next_stop_batch(remaining: &[StopEntry], stop_before: &[(usize, usize)]) -> Vec<usize> {
    let free = |i: &usize| {
        !stop_before
            .iter()
            .any(|&(a, b)| b == *i && a != *i && a < remaining.len())
    };
    let mut candidates: Vec<usize> = (0..remaining.len()).filter(free).collect();
    if candidates.is_empty() {
        candidates = (0..remaining.len()).collect();
    }
    let Some(&last) = candidates.last() else {
        return Vec::new();
    };
    if remaining[last].listener {
        return vec![last];
    }
    candidates
        .iter()
        .rev()
        .copied()
        .take_while(|&i| {
            remaining[i].priority == remaining[last].priority && !remaining[i].listener
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A group for `batches`: (name, priority, is a listener pool).
    type Group = (&'static str, Option<i32>, bool);

    /// Every batch of a whole shutdown, assuming each batch stops completely, by names;
    /// `deps`: (dependent, dependency) pairs of group names.
    fn batches_with(groups: &[Group], deps: &[(&str, &str)]) -> Vec<Vec<&'static str>> {
        let mut remaining: Vec<_> = groups.to_vec();
        let mut out = Vec::new();
        loop {
            let entries: Vec<StopEntry> = remaining
                .iter()
                .map(|&(_, priority, listener)| StopEntry { priority, listener })
                .collect();
            let index = |name: &str| remaining.iter().position(|g| g.0 == name);
            let edges: Vec<(usize, usize)> = deps
                .iter()
                .filter_map(|(a, b)| Some((index(a)?, index(b)?)))
                .collect();
            let batch = next_stop_batch(&entries, &edges);
            if batch.is_empty() {
                return out;
            }
            out.push(batch.iter().map(|&i| remaining[i].0).collect());
            let mut sorted = batch.clone();
            crate::sort::sort(&mut sorted);
            for i in sorted.into_iter().rev() {
                remaining.remove(i);
            }
        }
    }

    fn batches(groups: &[Group]) -> Vec<Vec<&'static str>> {
        batches_with(groups, &[])
    }

    #[test]
    fn dependencies_win_over_priority() {
        let p = |name, priority| (name, Some(priority), false);
        // web (priority 1) depends on db (priority 999): web stops first anyway.
        assert_eq!(
            batches_with(&[p("web", 1), p("db", 999)], &[("web", "db")]),
            vec![vec!["web"], vec!["db"]]
        );
        // Equal priorities: the dependency waits for its dependents' batch.
        assert_eq!(
            batches_with(
                &[p("db", 5), p("migrate", 5), p("web", 5), p("other", 5)],
                &[("web", "db"), ("web", "migrate"), ("migrate", "db")]
            ),
            vec![vec!["other", "web"], vec!["migrate"], vec!["db"]]
        );
        // Unrelated groups keep the priority order.
        assert_eq!(
            batches_with(
                &[p("a", 1), p("db", 2), p("b", 3), p("web", 4)],
                &[("web", "db")]
            ),
            vec![vec!["web"], vec!["b"], vec!["db"], vec!["a"]]
        );
        // A cycle between groups falls back to priority.
        assert_eq!(
            batches_with(&[p("a", 1), p("b", 2)], &[("a", "b"), ("b", "a")]),
            vec![vec!["b"], vec!["a"]]
        );
    }

    #[test]
    fn shutdown_batches() {
        let p = |name, priority| (name, Some(priority), false);
        let l = |name, priority| (name, Some(priority), true);
        let case = |what: &str, groups: &[Group], expected: &[&[&str]]| {
            let expected: Vec<Vec<&str>> = expected.iter().map(|b| b.to_vec()).collect();
            assert_eq!(batches(groups), expected, "{what}");
        };
        case("nothing left", &[], &[]);
        case("one group", &[p("a", 999)], &[&["a"]]);
        case(
            "highest priority first, one batch per priority",
            &[p("a", 1), p("b", 2), p("c", 3)],
            &[&["c"], &["b"], &["a"]],
        );
        case(
            "equal priorities stop together, later ones first",
            &[p("a", 1), p("b", 5), p("c", 5), p("d", 9)],
            &[&["d"], &["c", "b"], &["a"]],
        );
        case(
            "listeners (default priority -1) are stopped last, each alone",
            &[l("la", -1), l("lb", -1), p("a", 999), p("b", 999)],
            &[&["b", "a"], &["lb"], &["la"]],
        );
        case(
            "a listener ends a batch of its priority",
            &[p("a", 5), l("l", 5), p("b", 5), p("c", 5)],
            &[&["c", "b"], &["l"], &["a"]],
        );
        case(
            "removed groups (no priority) go together",
            &[p("a", 1), ("gone1", None, false), ("gone2", None, false)],
            &[&["gone2", "gone1"], &["a"]],
        );
    }

    #[test]
    fn start_ascending_stop_descending() {
        let items = [(10, "b"), (5, "z"), (10, "a"), (-1, "listener"), (999, "c")];
        fn key<'a>(t: &'a (i32, &'static str)) -> (i32, &'a str) {
            (t.0, t.1)
        }
        assert_eq!(start_order(&items, key), vec![3, 1, 2, 0, 4]);
        assert_eq!(stop_order(&items, key), vec![4, 0, 2, 1, 3]);
    }
}

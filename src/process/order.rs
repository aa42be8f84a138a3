//! Ordering of groups and processes: start in ascending (priority, name), stop in reverse; at
//! shutdown, which groups stop together.

/// Indices of `items` in start order: ascending priority, ties by name, then by input position.
pub fn start_order<T>(items: &[T], key: impl Fn(&T) -> (i32, &str)) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..items.len()).collect();
    idx.sort_by(|&a, &b| key(&items[a]).cmp(&key(&items[b])));
    idx
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

/// How many groups at the end of `remaining` (the groups still to stop, in ascending priority:
/// the last is stopped first) form the next shutdown batch; 0 when nothing is left.
///
/// Highest priority number first; groups of equal priority are stopped together, the next
/// priority once all of them are stopped. An event listener group goes alone (as every group
/// does in the reference), so the listeners stopped after it still get its STOPPING/STOPPED
/// events; a listener also ends the batch of equal priority before it.
pub fn next_stop_batch(remaining: &[StopEntry]) -> usize {
    let Some(last) = remaining.last() else {
        return 0;
    };
    if last.listener {
        return 1;
    }
    remaining
        .iter()
        .rev()
        .take_while(|e| e.priority == last.priority && !e.listener)
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A group for `batches`: (name, priority, is a listener pool).
    type Group = (&'static str, Option<i32>, bool);

    /// Every batch of a whole shutdown, assuming each batch stops completely, by names.
    fn batches(groups: &[Group]) -> Vec<Vec<&'static str>> {
        let mut remaining: Vec<_> = groups.to_vec();
        let mut out = Vec::new();
        loop {
            let entries: Vec<StopEntry> = remaining
                .iter()
                .map(|&(_, priority, listener)| StopEntry { priority, listener })
                .collect();
            let n = next_stop_batch(&entries);
            if n == 0 {
                return out;
            }
            let batch = remaining.split_off(remaining.len() - n);
            out.push(batch.iter().rev().map(|g| g.0).collect());
        }
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

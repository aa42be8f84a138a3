//! Ordering of groups and processes: start in ascending (priority, name), stop in reverse.

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

#[cfg(test)]
mod tests {
    use super::*;

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

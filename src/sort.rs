//! Stable sorting through one shared copy of the standard library's sort.
//!
//! Every `slice::sort_by` (or `sort`, `sort_by_key`) on a new element type or closure compiles a
//! fresh copy of the stable sort, 6-10 KB of machine code each; the crate sorts a dozen kinds of
//! rows, which cost the static binary about 100 KB. Here the standard sort runs once, on indices,
//! with the comparison behind a `dyn`; only the small permutation step is compiled per type. The
//! lists sorted are short (groups, processes, names), so the indirect call does not show.

use std::cmp::Ordering;

/// Sorts `v` stably by `cmp`, exactly like `v.sort_by(cmp)`.
pub fn sort_by<T>(v: &mut [T], cmp: impl Fn(&T, &T) -> Ordering) {
    let perm = order(v.len(), &|a, b| cmp(&v[a], &v[b]));
    permute(v, perm);
}

/// Sorts `v` stably by the key `key` gives, exactly like `v.sort_by_key(key)`.
pub fn sort_by_key<T, K: Ord>(v: &mut [T], key: impl Fn(&T) -> K) {
    sort_by(v, |a, b| key(a).cmp(&key(b)));
}

/// Sorts `v` stably in ascending order, exactly like `v.sort()`.
pub fn sort<T: Ord>(v: &mut [T]) {
    sort_by(v, T::cmp);
}

/// The stable order of `0..n` under `cmp` (indices, smallest first): the one instance of the
/// standard sort.
#[inline(never)]
pub fn order(n: usize, cmp: &dyn Fn(usize, usize) -> Ordering) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..n).collect();
    idx.sort_by(|&a, &b| cmp(a, b));
    idx
}

/// Moves `v[perm[k]]` to `v[k]` for every k, in place, one cycle of the permutation at a time.
fn permute<T>(v: &mut [T], mut perm: Vec<usize>) {
    for start in 0..perm.len() {
        let mut cur = start;
        // A visited slot is marked as its own source, so each cycle is walked once.
        while perm[cur] != start && perm[cur] != cur {
            let next = perm[cur];
            v.swap(cur, next);
            perm[cur] = cur;
            cur = next;
        }
        perm[cur] = cur;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every permutation of a small multiset, against the standard stable sort.
    #[test]
    fn sort_by_matches_std_stable_sort() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for len in 0..40 {
            for _ in 0..50 {
                let mut v: Vec<(u8, usize)> = (0..len)
                    .map(|i| {
                        seed ^= seed << 13;
                        seed ^= seed >> 7;
                        seed ^= seed << 17;
                        ((seed % 5) as u8, i)
                    })
                    .collect();
                let mut want = v.clone();
                want.sort_by_key(|a| a.0);
                sort_by(&mut v, |a, b| a.0.cmp(&b.0));
                assert_eq!(v, want);
            }
        }
    }

    #[test]
    fn sort_and_sort_by_key() {
        let mut v = vec!["b".to_string(), "c".into(), "a".into()];
        sort(&mut v);
        assert_eq!(v, ["a", "b", "c"]);
        let mut w = [(3, 'x'), (1, 'y'), (3, 'a'), (2, 'z')];
        sort_by_key(&mut w, |p| p.0);
        assert_eq!(w, [(1, 'y'), (2, 'z'), (3, 'x'), (3, 'a')]);
    }
}

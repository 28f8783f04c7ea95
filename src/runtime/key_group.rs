//! Key groups: the unit in which keyed state is partitioned and moved.
//!
//! `key_group = hash(key) % max_parallelism` and
//! `subtask = key_group * parallelism / max_parallelism` (Flink's formula), so each subtask owns a
//! contiguous range of key groups and a change of parallelism only moves whole ranges.

use std::ops::Range;

/// Flink's default maximum parallelism for small jobs.
pub const DEFAULT_MAX_PARALLELISM: usize = 128;
/// The largest maximum parallelism (Flink's bound, 2^15).
pub const UPPER_BOUND_MAX_PARALLELISM: usize = 1 << 15;

pub fn key_group_for_hash(hash: u64, max_parallelism: usize) -> usize {
    (hash % max_parallelism as u64) as usize
}

pub fn subtask_for_key_group(key_group: usize, parallelism: usize, max_parallelism: usize) -> usize {
    key_group * parallelism / max_parallelism
}

/// The key groups subtask `index` of `parallelism` owns.
pub fn key_group_range(index: usize, parallelism: usize, max_parallelism: usize) -> Range<usize> {
    let start = (index * max_parallelism).div_ceil(parallelism);
    let end = ((index + 1) * max_parallelism).div_ceil(parallelism);
    start..end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_cover_all_groups_and_match_the_routing_formula() {
        for max_p in [1, 7, 128, 1000] {
            for p in 1..=max_p.min(16) {
                let mut next = 0;
                for index in 0..p {
                    let range = key_group_range(index, p, max_p);
                    assert_eq!(range.start, next, "p={p} max_p={max_p}");
                    for kg in range.clone() {
                        assert_eq!(subtask_for_key_group(kg, p, max_p), index);
                    }
                    next = range.end;
                }
                assert_eq!(next, max_p);
            }
        }
    }

    #[test]
    fn flink_formula() {
        assert_eq!(key_group_for_hash(130, 128), 2);
        assert_eq!(subtask_for_key_group(63, 2, 128), 0);
        assert_eq!(subtask_for_key_group(64, 2, 128), 1);
        assert_eq!(subtask_for_key_group(127, 3, 128), 2);
        assert_eq!(key_group_range(1, 3, 128), 43..86);
    }
}

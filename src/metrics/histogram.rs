//! A histogram of latencies that one thread records into and any thread reads, without locks:
//! log-linear buckets (eight per power of two, so a percentile is within 12.5 % of the true
//! value), in microseconds, up to about 2^42 µs (51 days; longer ones count in the last bucket).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Sub-buckets per power of two.
const SUB_BITS: u32 = 3;
const SUB: usize = 1 << SUB_BITS;
/// Powers of two covered above the first `SUB` exact values.
const OCTAVES: usize = 40;
pub const BUCKETS: usize = SUB + OCTAVES * SUB;

/// Latencies recorded by one thread (the task's), read by any.
#[derive(Debug)]
pub struct LatencyHistogram {
    counts: Box<[AtomicU64]>,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        LatencyHistogram {
            counts: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
        }
    }
}

impl LatencyHistogram {
    /// Counts `n` records that took `latency` (the recording thread only: a load and a store,
    /// no read-modify-write).
    pub fn record(&self, latency: Duration, n: u64) {
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        let bucket = &self.counts[bucket_of(micros)];
        bucket.store(bucket.load(Ordering::Relaxed).wrapping_add(n), Ordering::Relaxed);
    }

    /// The counts so far.
    pub fn snapshot(&self) -> HistogramSnapshot {
        HistogramSnapshot {
            counts: self.counts.iter().map(|c| c.load(Ordering::Relaxed)).collect(),
        }
    }
}

/// The counts of a histogram at one moment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HistogramSnapshot {
    counts: Vec<u64>,
}

/// Latency percentiles, in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Percentiles {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    /// How many records they describe.
    pub count: u64,
}

impl HistogramSnapshot {
    /// What was recorded after `earlier` (a snapshot of the same histogram).
    pub fn since(&self, earlier: &HistogramSnapshot) -> HistogramSnapshot {
        HistogramSnapshot {
            counts: self
                .counts
                .iter()
                .enumerate()
                .map(|(i, c)| c.saturating_sub(earlier.counts.get(i).copied().unwrap_or(0)))
                .collect(),
        }
    }

    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// p50, p95 and p99, or None when nothing was recorded.
    pub fn percentiles(&self) -> Option<Percentiles> {
        let count = self.count();
        if count == 0 {
            return None;
        }
        let at = |q: f64| {
            // The smallest bucket holding the ceil(q * count)-th record.
            let rank = ((q * count as f64).ceil() as u64).clamp(1, count);
            let mut seen = 0;
            for (i, c) in self.counts.iter().enumerate() {
                seen += c;
                if seen >= rank {
                    return middle_of(i) / 1000.0;
                }
            }
            middle_of(BUCKETS - 1) / 1000.0
        };
        Some(Percentiles {
            p50: at(0.50),
            p95: at(0.95),
            p99: at(0.99),
            count,
        })
    }
}

/// The bucket of a latency of `micros`.
fn bucket_of(micros: u64) -> usize {
    if micros < SUB as u64 {
        return micros as usize;
    }
    let octave = (63 - micros.leading_zeros()) as usize; // >= SUB_BITS
    let sub = ((micros >> (octave - SUB_BITS as usize)) as usize) & (SUB - 1);
    (SUB + (octave - SUB_BITS as usize) * SUB + sub).min(BUCKETS - 1)
}

/// The lowest latency (µs) of bucket `i`.
fn low_of(i: usize) -> f64 {
    if i < SUB {
        return i as f64;
    }
    let octave = (i - SUB) / SUB + SUB_BITS as usize;
    let sub = (i - SUB) % SUB;
    ((SUB + sub) as f64) * 2f64.powi((octave - SUB_BITS as usize) as i32)
}

/// The middle of bucket `i` (µs): what a percentile falling in it reports.
fn middle_of(i: usize) -> f64 {
    if i < SUB {
        return i as f64;
    }
    (low_of(i) + low_of(i + 1)) / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_ordered_and_cover_their_values() {
        let mut last = 0;
        for micros in [0u64, 1, 7, 8, 9, 15, 16, 17, 100, 1_000, 123_456, 10_000_000, 1 << 41] {
            let b = bucket_of(micros);
            assert!(b >= last, "{micros}");
            last = b;
            assert!(
                low_of(b) <= micros as f64 && (micros as f64) < low_of(b + 1),
                "{micros} in bucket {b}"
            );
        }
        assert_eq!(bucket_of(u64::MAX), BUCKETS - 1);
    }

    #[test]
    fn percentiles_are_within_an_eighth_of_the_true_values() {
        let h = LatencyHistogram::default();
        // 1..=1000 ms, one record each.
        for ms in 1..=1000u64 {
            h.record(Duration::from_millis(ms), 1);
        }
        let p = h.snapshot().percentiles().unwrap();
        assert_eq!(p.count, 1000);
        for (got, want) in [(p.p50, 500.0), (p.p95, 950.0), (p.p99, 990.0)] {
            assert!((got - want).abs() / want <= 0.125, "{got} vs {want}");
        }
    }

    #[test]
    fn a_later_snapshot_minus_an_earlier_one_is_what_came_between() {
        let h = LatencyHistogram::default();
        h.record(Duration::from_secs(5), 100);
        let before = h.snapshot();
        h.record(Duration::from_millis(2), 10);
        let between = h.snapshot().since(&before);
        assert_eq!(between.count(), 10);
        let p = between.percentiles().unwrap();
        assert!((p.p99 - 2.0).abs() < 0.25, "{p:?}");
        assert_eq!(HistogramSnapshot::default().percentiles(), None);
    }
}

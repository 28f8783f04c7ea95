//! Timers of a keyed operator: unique per (time, key, namespace), fired in time order.

use std::collections::{BTreeMap, HashSet};
use std::hash::{BuildHasherDefault, Hash};

use crate::runtime::key::{FastHasher, Key};

/// The two clocks a timer can follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TimeDomain {
    EventTime,
    ProcessingTime,
}

/// A timer: fire at `time` for `key` in namespace `namespace` (a window, or `()` for process
/// functions).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timer<N> {
    pub time: i64,
    pub key: Key,
    pub namespace: N,
}

type Bucket<N> = HashSet<(Key, N), BuildHasherDefault<FastHasher>>;

/// The timers of one clock: by time, then a set of (key, namespace) per time, so that
/// registering the same timer again costs one ordered lookup of an integer and one hash.
#[derive(Debug)]
struct Timers<N> {
    by_time: BTreeMap<i64, Bucket<N>>,
    /// The timers of the earliest due time, taken out of `by_time` to fire one by one.
    firing: Vec<(Key, N)>,
    firing_time: i64,
    len: usize,
    /// The size of the last bucket that fired, to size new buckets (timers of one time tend to
    /// come in similar numbers, e.g. one per key at each window end).
    last_bucket: usize,
}

impl<N: Eq + Hash + Clone> Timers<N> {
    fn new() -> Self {
        Timers {
            by_time: BTreeMap::new(),
            firing: Vec::new(),
            firing_time: i64::MIN,
            len: 0,
            last_bucket: 0,
        }
    }

    fn insert(&mut self, time: i64, key: Key, namespace: N) {
        if !self.firing.is_empty()
            && time == self.firing_time
            && self.firing.iter().any(|(k, n)| *k == key && *n == namespace)
        {
            return;
        }
        let size = self.last_bucket;
        let bucket = self
            .by_time
            .entry(time)
            .or_insert_with(|| Bucket::with_capacity_and_hasher(size, Default::default()));
        if bucket.insert((key, namespace)) {
            self.len += 1;
        }
    }

    fn remove(&mut self, time: i64, key: Key, namespace: N) {
        if !self.firing.is_empty() && time == self.firing_time {
            if let Some(i) = self.firing.iter().position(|(k, n)| *k == key && *n == namespace) {
                self.firing.swap_remove(i);
                self.len -= 1;
                return;
            }
        }
        if let Some(bucket) = self.by_time.get_mut(&time) {
            if bucket.remove(&(key, namespace)) {
                self.len -= 1;
            }
            if bucket.is_empty() {
                self.by_time.remove(&time);
            }
        }
    }

    fn pop_due(&mut self, now: i64) -> Option<Timer<N>> {
        if self.firing.is_empty() {
            let entry = self.by_time.first_entry()?;
            if *entry.key() > now {
                return None;
            }
            self.firing_time = *entry.key();
            self.firing.extend(entry.remove());
            self.last_bucket = self.firing.len();
        }
        let (key, namespace) = self.firing.pop()?;
        self.len -= 1;
        Some(Timer {
            time: self.firing_time,
            key,
            namespace,
        })
    }

    fn first_time(&self) -> Option<i64> {
        if !self.firing.is_empty() {
            return Some(self.firing_time);
        }
        self.by_time.keys().next().copied()
    }

    fn clear(&mut self) {
        self.by_time.clear();
        self.firing.clear();
        self.len = 0;
    }
}

/// The event-time and processing-time timers of one operator instance. Due timers come out in
/// time order; timers of the same time in no particular order.
#[derive(Debug)]
pub struct TimerService<N: Eq + Hash + Clone> {
    event: Timers<N>,
    processing: Timers<N>,
}

impl<N: Eq + Hash + Clone> Default for TimerService<N> {
    fn default() -> Self {
        TimerService {
            event: Timers::new(),
            processing: Timers::new(),
        }
    }
}

impl<N: Eq + Hash + Clone> TimerService<N> {
    fn timers(&mut self, domain: TimeDomain) -> &mut Timers<N> {
        match domain {
            TimeDomain::EventTime => &mut self.event,
            TimeDomain::ProcessingTime => &mut self.processing,
        }
    }

    /// Registers a timer; registering the same (time, key, namespace) twice keeps one.
    pub fn register(&mut self, domain: TimeDomain, time: i64, key: Key, namespace: N) {
        self.timers(domain).insert(time, key, namespace);
    }

    pub fn delete(&mut self, domain: TimeDomain, time: i64, key: Key, namespace: N) {
        self.timers(domain).remove(time, key, namespace);
    }

    /// Removes and returns an earliest timer of `domain` due at `now` (time <= now).
    pub fn pop_due(&mut self, domain: TimeDomain, now: i64) -> Option<Timer<N>> {
        self.timers(domain).pop_due(now)
    }

    /// The time of the earliest processing-time timer.
    pub fn next_processing_time(&self) -> Option<i64> {
        self.processing.first_time()
    }

    pub fn len(&self, domain: TimeDomain) -> usize {
        match domain {
            TimeDomain::EventTime => self.event.len,
            TimeDomain::ProcessingTime => self.processing.len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.event.len == 0 && self.processing.len == 0
    }

    /// Every timer, for a snapshot.
    pub fn all(&self) -> Vec<(TimeDomain, Timer<&N>)> {
        let mut out = Vec::with_capacity(self.event.len + self.processing.len);
        for (domain, timers) in [
            (TimeDomain::EventTime, &self.event),
            (TimeDomain::ProcessingTime, &self.processing),
        ] {
            for (key, namespace) in &timers.firing {
                out.push((
                    domain,
                    Timer {
                        time: timers.firing_time,
                        key: key.clone(),
                        namespace,
                    },
                ));
            }
            for (time, bucket) in &timers.by_time {
                for (key, namespace) in bucket {
                    out.push((
                        domain,
                        Timer {
                            time: *time,
                            key: key.clone(),
                            namespace,
                        },
                    ));
                }
            }
        }
        out
    }

    /// Drops every processing-time timer (a bounded job that ends does not fire them); returns
    /// how many there were.
    pub fn clear_processing(&mut self) -> usize {
        let dropped = self.processing.len;
        self.processing.clear();
        dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timers_are_unique_and_fire_in_time_order() {
        let mut t: TimerService<()> = TimerService::default();
        t.register(TimeDomain::EventTime, 30, Key::Int(1), ());
        t.register(TimeDomain::EventTime, 10, Key::Int(2), ());
        t.register(TimeDomain::EventTime, 10, Key::Int(2), ());
        t.register(TimeDomain::EventTime, 20, Key::Int(1), ());
        assert_eq!(t.len(TimeDomain::EventTime), 3);
        let fired: Vec<i64> = std::iter::from_fn(|| t.pop_due(TimeDomain::EventTime, 25))
            .map(|t| t.time)
            .collect();
        assert_eq!(fired, vec![10, 20]);
        assert_eq!(t.pop_due(TimeDomain::EventTime, 29), None);
        t.delete(TimeDomain::EventTime, 30, Key::Int(1), ());
        assert!(t.is_empty());
    }

    #[test]
    fn domains_are_separate() {
        let mut t: TimerService<u8> = TimerService::default();
        t.register(TimeDomain::ProcessingTime, 5, Key::Int(1), 1);
        t.register(TimeDomain::EventTime, 5, Key::Int(1), 1);
        assert_eq!(t.next_processing_time(), Some(5));
        assert!(t.pop_due(TimeDomain::ProcessingTime, 5).is_some());
        assert_eq!(t.next_processing_time(), None);
        assert_eq!(t.len(TimeDomain::EventTime), 1);
    }
}

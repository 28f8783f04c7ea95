//! Timers of a keyed operator: unique per (time, key, namespace), fired in time order.

use std::collections::BTreeSet;

use crate::runtime::key::Key;

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

/// The event-time and processing-time timers of one operator instance.
#[derive(Debug)]
pub struct TimerService<N: Ord + Clone> {
    event: BTreeSet<Timer<N>>,
    processing: BTreeSet<Timer<N>>,
}

impl<N: Ord + Clone> Default for TimerService<N> {
    fn default() -> Self {
        TimerService {
            event: BTreeSet::new(),
            processing: BTreeSet::new(),
        }
    }
}

impl<N: Ord + Clone> TimerService<N> {
    fn set(&mut self, domain: TimeDomain) -> &mut BTreeSet<Timer<N>> {
        match domain {
            TimeDomain::EventTime => &mut self.event,
            TimeDomain::ProcessingTime => &mut self.processing,
        }
    }

    /// Registers a timer; registering the same (time, key, namespace) twice keeps one.
    pub fn register(&mut self, domain: TimeDomain, time: i64, key: Key, namespace: N) {
        self.set(domain).insert(Timer { time, key, namespace });
    }

    pub fn delete(&mut self, domain: TimeDomain, time: i64, key: Key, namespace: N) {
        self.set(domain).remove(&Timer { time, key, namespace });
    }

    /// Removes and returns the earliest timer of `domain` due at `now` (time <= now).
    pub fn pop_due(&mut self, domain: TimeDomain, now: i64) -> Option<Timer<N>> {
        let set = self.set(domain);
        if set.first().is_some_and(|t| t.time <= now) {
            set.pop_first()
        } else {
            None
        }
    }

    /// The time of the earliest processing-time timer.
    pub fn next_processing_time(&self) -> Option<i64> {
        self.processing.first().map(|t| t.time)
    }

    pub fn len(&self, domain: TimeDomain) -> usize {
        match domain {
            TimeDomain::EventTime => self.event.len(),
            TimeDomain::ProcessingTime => self.processing.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.event.is_empty() && self.processing.is_empty()
    }

    /// Drops every processing-time timer (a bounded job that ends does not fire them).
    pub fn clear_processing(&mut self) {
        self.processing.clear();
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

//! Triggers: when a window's contents are emitted (FIRE) and dropped (PURGE).

use crate::runtime::key::Key;
use crate::runtime::operator::OperatorResult;
use crate::time::timer_service::TimeDomain;
use crate::window::window::{window_start, Window};

/// What a trigger decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TriggerResult {
    Continue,
    Fire,
    Purge,
    FireAndPurge,
}

impl TriggerResult {
    pub fn is_fire(self) -> bool {
        matches!(self, TriggerResult::Fire | TriggerResult::FireAndPurge)
    }

    pub fn is_purge(self) -> bool {
        matches!(self, TriggerResult::Purge | TriggerResult::FireAndPurge)
    }
}

/// A timer a trigger asks for, for the current key and window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimerRequest {
    Register(TimeDomain, i64),
    Delete(TimeDomain, i64),
}

/// What a trigger sees and asks for while deciding about one window of one key.
#[derive(Debug)]
pub struct TriggerContext {
    /// The key whose window is being decided about.
    pub key: Option<Key>,
    pub watermark: i64,
    pub processing_time: i64,
    pub requests: Vec<TimerRequest>,
}

impl TriggerContext {
    pub fn register(&mut self, domain: TimeDomain, time: i64) {
        self.requests.push(TimerRequest::Register(domain, time));
    }

    pub fn delete(&mut self, domain: TimeDomain, time: i64) {
        self.requests.push(TimerRequest::Delete(domain, time));
    }
}

/// Per key and window state of the built-in triggers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TriggerState {
    /// CountTrigger: elements since the last fire.
    pub count: i64,
    /// Continuous triggers: the time of the next fire.
    pub fire_time: Option<i64>,
}

impl TriggerState {
    /// The state of a window merged from windows with states `self` and `other`.
    pub fn merge(self, other: TriggerState) -> TriggerState {
        TriggerState {
            count: self.count + other.count,
            fire_time: match (self.fire_time, other.fire_time) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            },
        }
    }
}

/// A trigger written by the user (in Python), called by the window operator.
pub trait CustomTrigger<V>: Send {
    fn on_element(
        &mut self,
        value: &V,
        timestamp: i64,
        window: &Window,
        ctx: &mut TriggerContext,
    ) -> OperatorResult<TriggerResult>;
    fn on_event_time(&mut self, time: i64, window: &Window, ctx: &mut TriggerContext) -> OperatorResult<TriggerResult>;
    fn on_processing_time(
        &mut self,
        time: i64,
        window: &Window,
        ctx: &mut TriggerContext,
    ) -> OperatorResult<TriggerResult>;
    fn can_merge(&self) -> bool;
    fn on_merge(&mut self, window: &Window, ctx: &mut TriggerContext) -> OperatorResult;
    fn clear(&mut self, window: &Window, ctx: &mut TriggerContext) -> OperatorResult;
}

/// The built-in triggers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// Fires when the watermark passes the window's end (`EventTimeTrigger`).
    EventTime,
    /// Fires when processing time passes the window's end (`ProcessingTimeTrigger`).
    ProcessingTime,
    /// Fires every `n` elements (`CountTrigger`).
    Count(i64),
    /// The inner trigger, with every FIRE made FIRE_AND_PURGE (`PurgingTrigger`).
    Purging(Box<Trigger>),
    /// Fires every interval of event time, and at the window's end.
    ContinuousEventTime(i64),
    /// Fires every interval of processing time.
    ContinuousProcessingTime(i64),
    /// Never fires (the default of global windows).
    Never,
}

impl Trigger {
    /// Whether the trigger keeps per-window state (counts, fire times).
    pub fn is_stateful(&self) -> bool {
        match self {
            Trigger::Count(_) | Trigger::ContinuousEventTime(_) | Trigger::ContinuousProcessingTime(_) => true,
            Trigger::Purging(inner) => inner.is_stateful(),
            Trigger::EventTime | Trigger::ProcessingTime | Trigger::Never => false,
        }
    }

    /// Whether the trigger reads processing time.
    pub fn uses_processing_time(&self) -> bool {
        match self {
            Trigger::ProcessingTime | Trigger::ContinuousProcessingTime(_) => true,
            Trigger::Purging(inner) => inner.uses_processing_time(),
            _ => false,
        }
    }

    pub fn can_merge(&self) -> bool {
        match self {
            Trigger::Purging(inner) => inner.can_merge(),
            _ => true,
        }
    }

    pub fn on_element(
        &self,
        timestamp: i64,
        window: &Window,
        state: &mut TriggerState,
        ctx: &mut TriggerContext,
    ) -> TriggerResult {
        match self {
            Trigger::EventTime => {
                if window.max_timestamp() <= ctx.watermark {
                    TriggerResult::Fire
                } else {
                    ctx.register(TimeDomain::EventTime, window.max_timestamp());
                    TriggerResult::Continue
                }
            }
            Trigger::ProcessingTime => {
                ctx.register(TimeDomain::ProcessingTime, window.max_timestamp());
                TriggerResult::Continue
            }
            Trigger::Count(n) => {
                state.count += 1;
                if state.count >= *n {
                    state.count = 0;
                    TriggerResult::Fire
                } else {
                    TriggerResult::Continue
                }
            }
            Trigger::Purging(inner) => purge(inner.on_element(timestamp, window, state, ctx)),
            Trigger::ContinuousEventTime(interval) => {
                if window.max_timestamp() <= ctx.watermark {
                    return TriggerResult::Fire;
                }
                ctx.register(TimeDomain::EventTime, window.max_timestamp());
                if state.fire_time.is_none() {
                    let start = window_start(timestamp, 0, *interval);
                    let next = start.saturating_add(*interval).min(window.max_timestamp());
                    state.fire_time = Some(next);
                    ctx.register(TimeDomain::EventTime, next);
                }
                TriggerResult::Continue
            }
            Trigger::ContinuousProcessingTime(interval) => {
                if state.fire_time.is_none() {
                    let now = ctx.processing_time;
                    let start = window_start(now, 0, *interval);
                    let next = start.saturating_add(*interval).min(window.max_timestamp());
                    state.fire_time = Some(next);
                    ctx.register(TimeDomain::ProcessingTime, next);
                }
                TriggerResult::Continue
            }
            Trigger::Never => TriggerResult::Continue,
        }
    }

    pub fn on_time(
        &self,
        domain: TimeDomain,
        time: i64,
        window: &Window,
        state: &mut TriggerState,
        ctx: &mut TriggerContext,
    ) -> TriggerResult {
        match (self, domain) {
            (Trigger::EventTime, TimeDomain::EventTime) => {
                if time == window.max_timestamp() {
                    TriggerResult::Fire
                } else {
                    TriggerResult::Continue
                }
            }
            (Trigger::ProcessingTime, TimeDomain::ProcessingTime) => TriggerResult::Fire,
            (Trigger::Purging(inner), _) => purge(inner.on_time(domain, time, window, state, ctx)),
            (Trigger::ContinuousEventTime(interval), TimeDomain::EventTime) => {
                if time == window.max_timestamp() {
                    return TriggerResult::Fire;
                }
                if state.fire_time == Some(time) {
                    let next = time.saturating_add(*interval).min(window.max_timestamp());
                    state.fire_time = Some(next);
                    ctx.register(TimeDomain::EventTime, next);
                    return TriggerResult::Fire;
                }
                TriggerResult::Continue
            }
            (Trigger::ContinuousProcessingTime(interval), TimeDomain::ProcessingTime) => {
                if state.fire_time == Some(time) {
                    let next = time.saturating_add(*interval).min(window.max_timestamp());
                    state.fire_time = Some(next);
                    ctx.register(TimeDomain::ProcessingTime, next);
                    return TriggerResult::Fire;
                }
                TriggerResult::Continue
            }
            _ => TriggerResult::Continue,
        }
    }

    /// `window` is the result of a merge; `state` is the merged state.
    pub fn on_merge(&self, window: &Window, state: &TriggerState, ctx: &mut TriggerContext) {
        match self {
            Trigger::EventTime => {
                if window.max_timestamp() > ctx.watermark {
                    ctx.register(TimeDomain::EventTime, window.max_timestamp());
                }
            }
            Trigger::ProcessingTime => {
                if window.max_timestamp() > ctx.processing_time {
                    ctx.register(TimeDomain::ProcessingTime, window.max_timestamp());
                }
            }
            Trigger::Purging(inner) => inner.on_merge(window, state, ctx),
            Trigger::ContinuousEventTime(_) => {
                if window.max_timestamp() > ctx.watermark {
                    ctx.register(TimeDomain::EventTime, window.max_timestamp());
                }
                if let Some(t) = state.fire_time {
                    ctx.register(TimeDomain::EventTime, t);
                }
            }
            Trigger::ContinuousProcessingTime(_) => {
                if let Some(t) = state.fire_time {
                    ctx.register(TimeDomain::ProcessingTime, t);
                }
            }
            Trigger::Count(_) | Trigger::Never => {}
        }
    }

    /// The window is gone: delete the timers this trigger registered for it.
    pub fn clear(&self, window: &Window, state: &TriggerState, ctx: &mut TriggerContext) {
        match self {
            Trigger::EventTime => ctx.delete(TimeDomain::EventTime, window.max_timestamp()),
            Trigger::ProcessingTime => ctx.delete(TimeDomain::ProcessingTime, window.max_timestamp()),
            Trigger::Purging(inner) => inner.clear(window, state, ctx),
            Trigger::ContinuousEventTime(_) => {
                if let Some(t) = state.fire_time {
                    ctx.delete(TimeDomain::EventTime, t);
                }
            }
            Trigger::ContinuousProcessingTime(_) => {
                if let Some(t) = state.fire_time {
                    ctx.delete(TimeDomain::ProcessingTime, t);
                }
            }
            Trigger::Count(_) | Trigger::Never => {}
        }
    }
}

fn purge(result: TriggerResult) -> TriggerResult {
    match result {
        TriggerResult::Fire => TriggerResult::FireAndPurge,
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(watermark: i64) -> TriggerContext {
        TriggerContext {
            key: None,
            watermark,
            processing_time: 0,
            requests: Vec::new(),
        }
    }

    const W: Window = Window::Time { start: 0, end: 10 };

    #[test]
    fn event_time_fires_at_the_window_end() {
        let mut s = TriggerState::default();
        let mut c = ctx(5);
        assert_eq!(
            Trigger::EventTime.on_element(3, &W, &mut s, &mut c),
            TriggerResult::Continue
        );
        assert_eq!(c.requests, vec![TimerRequest::Register(TimeDomain::EventTime, 9)]);
        assert_eq!(
            Trigger::EventTime.on_time(TimeDomain::EventTime, 9, &W, &mut s, &mut c),
            TriggerResult::Fire
        );
        assert_eq!(
            Trigger::EventTime.on_time(TimeDomain::EventTime, 8, &W, &mut s, &mut c),
            TriggerResult::Continue
        );
        // A window the watermark already passed fires at once (allowed lateness re-fire).
        assert_eq!(
            Trigger::EventTime.on_element(3, &W, &mut s, &mut ctx(9)),
            TriggerResult::Fire
        );
    }

    #[test]
    fn count_fires_every_n_and_purging_purges() {
        let t = Trigger::Purging(Box::new(Trigger::Count(2)));
        let mut s = TriggerState::default();
        let mut c = ctx(0);
        assert_eq!(t.on_element(0, &W, &mut s, &mut c), TriggerResult::Continue);
        assert_eq!(t.on_element(0, &W, &mut s, &mut c), TriggerResult::FireAndPurge);
        assert_eq!(s.count, 0);
    }

    #[test]
    fn continuous_event_time_fires_every_interval_and_at_the_end() {
        let t = Trigger::ContinuousEventTime(4);
        let mut s = TriggerState::default();
        let mut c = ctx(i64::MIN);
        assert_eq!(t.on_element(1, &W, &mut s, &mut c), TriggerResult::Continue);
        assert_eq!(s.fire_time, Some(4));
        assert_eq!(
            t.on_time(TimeDomain::EventTime, 4, &W, &mut s, &mut c),
            TriggerResult::Fire
        );
        assert_eq!(s.fire_time, Some(8));
        assert_eq!(
            t.on_time(TimeDomain::EventTime, 8, &W, &mut s, &mut c),
            TriggerResult::Fire
        );
        assert_eq!(s.fire_time, Some(9), "the next fire is capped at the window end");
        assert_eq!(
            t.on_time(TimeDomain::EventTime, 9, &W, &mut s, &mut c),
            TriggerResult::Fire
        );
    }

    #[test]
    fn merged_state_sums_counts_and_keeps_the_earliest_fire() {
        let a = TriggerState {
            count: 2,
            fire_time: Some(7),
        };
        let b = TriggerState {
            count: 1,
            fire_time: Some(5),
        };
        assert_eq!(
            a.merge(b),
            TriggerState {
                count: 3,
                fire_time: Some(5)
            }
        );
    }
}

//! The window operator's side of its trigger: the trigger's context and timer requests, the
//! built-in triggers' per-window state, and the timers that drop a window at its cleanup time.

use super::{WindowOperator, WindowTrigger};
use crate::runtime::key::Key;
use crate::runtime::operator::OperatorResult;
use crate::runtime::record::Data;
use crate::time::timer_service::TimeDomain;
use crate::window::functions::WindowFunctions;
use crate::window::trigger::{TimerRequest, Trigger, TriggerContext, TriggerResult, TriggerState};
use crate::window::window::Window;

impl<V: Data, F: WindowFunctions<V>> WindowOperator<V, F> {
    pub(super) fn context(&mut self, key: &Key) -> TriggerContext {
        TriggerContext {
            key: matches!(self.trigger, WindowTrigger::Custom(_)).then(|| key.clone()),
            watermark: self.watermark,
            processing_time: if self.needs_processing_time {
                self.clock.now()
            } else {
                0
            },
            requests: std::mem::take(&mut self.requests),
        }
    }

    pub(super) fn apply_requests(&mut self, key: &Key, window: &Window, mut ctx: TriggerContext) {
        for request in ctx.requests.drain(..) {
            match request {
                TimerRequest::Register(domain, time) => self.timers.register(domain, time, key.clone(), *window),
                // The timer that is firing now is already gone.
                TimerRequest::Delete(domain, time) if self.popped == Some((domain, time)) => {}
                TimerRequest::Delete(domain, time) => self.timers.delete(domain, time, key.clone(), *window),
            }
        }
        self.requests = ctx.requests;
    }

    pub(super) fn trigger_state(&self, key: &Key, window: &Window) -> TriggerState {
        if !self.stateful_trigger {
            return TriggerState::default();
        }
        self.trigger_state
            .get(&(key.clone(), *window))
            .copied()
            .unwrap_or_default()
    }

    pub(super) fn set_trigger_state(&mut self, key: &Key, window: &Window, state: TriggerState) {
        if !self.stateful_trigger {
            return;
        }
        if state == TriggerState::default() {
            self.trigger_state.remove(&(key.clone(), *window));
        } else {
            self.trigger_state.insert((key.clone(), *window), state);
        }
    }

    pub(super) fn trigger_on_element(
        &mut self,
        key: &Key,
        value: &V,
        timestamp: i64,
        window: &Window,
    ) -> OperatorResult<TriggerResult> {
        let mut ctx = self.context(key);
        let mut state = self.trigger_state(key, window);
        let result = match &mut self.trigger {
            WindowTrigger::BuiltIn(t) => t.on_element(timestamp, window, &mut state, &mut ctx),
            WindowTrigger::Custom(t) => t.on_element(value, timestamp, window, &mut ctx)?,
        };
        self.set_trigger_state(key, window, state);
        self.apply_requests(key, window, ctx);
        Ok(result)
    }

    pub(super) fn trigger_on_time(
        &mut self,
        domain: TimeDomain,
        time: i64,
        key: &Key,
        window: &Window,
    ) -> OperatorResult<TriggerResult> {
        let mut ctx = self.context(key);
        let mut state = self.trigger_state(key, window);
        let result = match &mut self.trigger {
            WindowTrigger::BuiltIn(t) => t.on_time(domain, time, window, &mut state, &mut ctx),
            WindowTrigger::Custom(t) => match domain {
                TimeDomain::EventTime => t.on_event_time(time, window, &mut ctx)?,
                TimeDomain::ProcessingTime => t.on_processing_time(time, window, &mut ctx)?,
            },
        };
        self.set_trigger_state(key, window, state);
        self.apply_requests(key, window, ctx);
        Ok(result)
    }

    pub(super) fn trigger_clear(&mut self, key: &Key, window: &Window) -> OperatorResult {
        let mut ctx = self.context(key);
        let state = self.trigger_state(key, window);
        match &mut self.trigger {
            WindowTrigger::BuiltIn(t) => t.clear(window, &state, &mut ctx),
            WindowTrigger::Custom(t) => t.clear(window, &mut ctx)?,
        }
        self.set_trigger_state(key, window, TriggerState::default());
        self.apply_requests(key, window, ctx);
        Ok(())
    }

    /// Registers the timer that drops a new window's state at its cleanup time (unless the
    /// event-time trigger's own timer is that same timer).
    pub(super) fn register_cleanup_timer(&mut self, key: &Key, window: &Window) {
        let time = self.cleanup_time(window);
        if time == i64::MAX {
            return;
        }
        if time == window.max_timestamp()
            && matches!(self.trigger, WindowTrigger::BuiltIn(Trigger::EventTime))
            && time > self.watermark
        {
            return;
        }
        let domain = if self.assigner.is_event_time() {
            TimeDomain::EventTime
        } else {
            TimeDomain::ProcessingTime
        };
        self.timers.register(domain, time, key.clone(), *window);
    }

    pub(super) fn delete_cleanup_timer(&mut self, key: &Key, window: &Window) {
        let time = self.cleanup_time(window);
        if time == i64::MAX || self.popped.is_some_and(|(_, t)| t == time) {
            return;
        }
        let domain = if self.assigner.is_event_time() {
            TimeDomain::EventTime
        } else {
            TimeDomain::ProcessingTime
        };
        self.timers.delete(domain, time, key.clone(), *window);
    }
}

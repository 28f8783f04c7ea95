//! The window operator: assigns each record of a keyed stream to windows, keeps each window's
//! contents per key, asks the trigger when to emit, and drops a window once event time passed
//! its end plus the allowed lateness. Semantics follow Flink's WindowOperator exactly (see
//! DESIGN.md §6): a window `[start, end)` fires when the watermark reaches `end - 1`; a record
//! for a window whose cleanup time passed is not added; within the allowed lateness a late record
//! fires its window again; a record late for all its windows goes to the late side output, or is
//! dropped and counted.
//!
//! The parts: the trigger's side (`operator/triggering.rs`), the grouped fast path
//! (`operator/fast_path.rs`) and checkpoints (`operator/checkpoint.rs`, format in
//! `window/snapshot.rs`).

mod checkpoint;
mod fast_path;
mod triggering;

use crate::checkpoint::{SnapshotContext, SnapshotStats};
use crate::runtime::key::{FastMap, Key, KeyMap};
use crate::runtime::key_group::DEFAULT_MAX_PARALLELISM;
use crate::runtime::operator::{DroppedAtEnd, Operator, OperatorError, OperatorResult, Output, TaskInfo};
use crate::runtime::record::{Data, Record, NO_TIMESTAMP};
use crate::time::clock::Clock;
use crate::time::timer_service::{TimeDomain, TimerService};
use crate::window::assigner::Assigner;
use crate::window::functions::{FireTime, WindowFunctions};
use crate::window::grouped::WindowGroups;
use crate::window::trigger::{CustomTrigger, TimerRequest, Trigger, TriggerResult, TriggerState};
use crate::window::window::Window;

/// The trigger of a window operator: a built-in one or the user's.
pub enum WindowTrigger<V> {
    BuiltIn(Trigger),
    Custom(Box<dyn CustomTrigger<V>>),
}

/// How a window operator is set up.
pub struct WindowSpec<V> {
    pub assigner: Assigner,
    /// None: the assigner's default trigger.
    pub trigger: Option<WindowTrigger<V>>,
    pub allowed_lateness: i64,
    /// The side output port late records go to, if one is read.
    pub late_port: Option<u32>,
}

pub struct WindowOperator<V, F: WindowFunctions<V>> {
    assigner: Assigner,
    trigger: WindowTrigger<V>,
    /// Count windows with their own trigger: a fired window is complete and can be dropped.
    drop_after_fire: bool,
    allowed_lateness: i64,
    late_port: Option<u32>,
    functions: F,
    /// The fast path (non-merging time windows with the event-time trigger): contents grouped
    /// by window, fired by the watermark without timers. None: the general path below.
    groups: Option<WindowGroups<F::Acc>>,
    /// Each key's windows and their contents (a key has few windows at a time). Keys whose
    /// windows are all gone keep an empty entry, so that a key that comes back costs no
    /// insertion; `empty_keys` counts them, and they are pruned when they are many.
    contents: KeyMap<Vec<(Window, F::Acc)>>,
    empty_keys: usize,
    /// Each (key, window)'s built-in trigger state, for triggers that have one.
    trigger_state: FastMap<(Key, Window), TriggerState>,
    stateful_trigger: bool,
    needs_processing_time: bool,
    /// Reused for the timer requests of each trigger call.
    requests: Vec<TimerRequest>,
    /// The timer being fired, while a window is cleared at its cleanup time.
    popped: Option<(TimeDomain, i64)>,
    /// Merging assigners: each key's current sessions.
    sessions: KeyMap<Vec<Window>>,
    /// Count assigners: records seen per key.
    counts: KeyMap<i64>,
    timers: TimerService<Window>,
    watermark: i64,
    clock: Clock,
    late_dropped: u64,
    /// The processing-time windows and timers the end of its bounded input dropped.
    dropped_at_end: DroppedAtEnd,
    windows: Vec<Window>,
    /// Key groups of checkpoints are of this max parallelism.
    max_parallelism: usize,
}

impl<V: Data, F: WindowFunctions<V>> WindowOperator<V, F> {
    pub fn new(spec: WindowSpec<V>, functions: F) -> Self {
        let (trigger, drop_after_fire) = match spec.trigger {
            Some(t) => (t, false),
            None => match spec.assigner {
                Assigner::Tumbling { event_time: true, .. }
                | Assigner::Sliding { event_time: true, .. }
                | Assigner::Session { event_time: true, .. } => (WindowTrigger::BuiltIn(Trigger::EventTime), false),
                Assigner::Tumbling { .. } | Assigner::Sliding { .. } | Assigner::Session { .. } => {
                    (WindowTrigger::BuiltIn(Trigger::ProcessingTime), false)
                }
                Assigner::Global => (WindowTrigger::BuiltIn(Trigger::Never), false),
                Assigner::CountTumbling { size } | Assigner::CountSliding { size, .. } => {
                    (WindowTrigger::BuiltIn(Trigger::Count(size)), true)
                }
            },
        };
        let grouped = matches!(
            (&trigger, spec.assigner),
            (
                WindowTrigger::BuiltIn(Trigger::EventTime),
                Assigner::Tumbling { event_time: true, .. } | Assigner::Sliding { event_time: true, .. }
            )
        );
        let (stateful_trigger, needs_processing_time) = match &trigger {
            WindowTrigger::BuiltIn(t) => (
                t.is_stateful(),
                t.uses_processing_time() || !spec.assigner.is_event_time(),
            ),
            WindowTrigger::Custom(_) => (false, true),
        };
        WindowOperator {
            assigner: spec.assigner,
            trigger,
            stateful_trigger,
            needs_processing_time,
            requests: Vec::new(),
            popped: None,
            drop_after_fire,
            allowed_lateness: spec.allowed_lateness.max(0),
            late_port: spec.late_port,
            functions,
            groups: grouped.then(WindowGroups::default),
            contents: KeyMap::default(),
            empty_keys: 0,
            trigger_state: FastMap::default(),
            sessions: KeyMap::default(),
            counts: KeyMap::default(),
            timers: TimerService::default(),
            watermark: i64::MIN,
            clock: Clock::System,
            late_dropped: 0,
            dropped_at_end: DroppedAtEnd::default(),
            windows: Vec::new(),
            max_parallelism: DEFAULT_MAX_PARALLELISM,
        }
    }

    /// When a window's state is dropped: the end of its allowed lateness (event time) or its
    /// end (processing time). `i64::MAX` means never.
    fn cleanup_time(&self, window: &Window) -> i64 {
        if self.assigner.is_event_time() {
            window.max_timestamp().saturating_add(self.allowed_lateness)
        } else {
            window.max_timestamp()
        }
    }

    fn is_window_late(&self, window: &Window) -> bool {
        self.assigner.is_event_time() && self.cleanup_time(window) <= self.watermark
    }

    fn is_element_late(&self, timestamp: i64) -> bool {
        self.assigner.is_event_time() && timestamp.saturating_add(self.allowed_lateness) <= self.watermark
    }

    fn take_contents(&mut self, key: &Key, window: &Window) -> Option<F::Acc> {
        let windows = self.contents.get_mut(key)?;
        let i = windows.iter().position(|(w, _)| w == window)?;
        let (_, acc) = windows.swap_remove(i);
        if windows.is_empty() {
            self.empty_keys += 1;
            if self.empty_keys > 1024 && self.empty_keys * 2 > self.contents.len() {
                self.contents.retain(|_, w| !w.is_empty());
                self.empty_keys = 0;
            }
        }
        Some(acc)
    }

    fn put_contents(&mut self, key: &Key, window: Window, acc: F::Acc) {
        match self.contents.get_mut(key) {
            Some(windows) => {
                if windows.is_empty() {
                    self.empty_keys -= 1;
                }
                windows.push((window, acc));
            }
            None => {
                self.contents.insert(key.clone(), vec![(window, acc)]);
            }
        }
    }

    /// Adds `value` to a window's contents. Returns whether the window is new.
    fn add_to_contents(&mut self, key: &Key, window: &Window, value: V) -> OperatorResult<bool> {
        if let Some(windows) = self.contents.get_mut(key) {
            if let Some((_, acc)) = windows.iter_mut().find(|(w, _)| w == window) {
                self.functions.add(acc, value)?;
                return Ok(false);
            }
        }
        let acc = self.functions.create(value)?;
        self.put_contents(key, *window, acc);
        Ok(true)
    }

    fn emit(&mut self, key: &Key, window: &Window, out: &mut Output<V>) -> OperatorResult {
        let Some(acc) = self
            .contents
            .get(key)
            .and_then(|windows| windows.iter().find(|(w, _)| w == window).map(|(_, a)| a))
        else {
            return Ok(());
        };
        let time = FireTime {
            timestamp: window.max_timestamp(),
            watermark: self.watermark,
            processing_time: self.clock.now(),
        };
        self.functions.emit(key, window, acc, time, out)
    }

    /// Acts on a trigger's decision for one window.
    fn act(&mut self, result: TriggerResult, key: &Key, window: &Window, out: &mut Output<V>) -> OperatorResult {
        if result.is_fire() {
            self.emit(key, window, out)?;
            if self.drop_after_fire {
                return self.clear_window(key, window);
            }
        }
        if result.is_purge() {
            self.take_contents(key, window);
        }
        Ok(())
    }

    /// Drops everything about a window: contents, trigger state and timers, the user function's
    /// per-window state, and (sessions) the window itself.
    fn clear_window(&mut self, key: &Key, window: &Window) -> OperatorResult {
        self.take_contents(key, window);
        self.trigger_clear(key, window)?;
        self.delete_cleanup_timer(key, window);
        self.functions.clear(key, window)?;
        if self.assigner.is_merging() {
            if let Some(sessions) = self.sessions.get_mut(key) {
                sessions.retain(|w| w != window);
                if sessions.is_empty() {
                    self.sessions.remove(key);
                }
            }
        }
        Ok(())
    }

    /// How many windows hold contents, and how many timers are set.
    #[cfg(test)]
    pub fn held(&self) -> (usize, usize) {
        let grouped = self.groups.as_ref().map_or(0, |g| g.len().1);
        let windows = self.contents.values().map(Vec::len).sum::<usize>() + grouped;
        (
            windows,
            self.timers.len(TimeDomain::EventTime) + self.timers.len(TimeDomain::ProcessingTime),
        )
    }

    fn process_record(&mut self, record: Record<V>, out: &mut Output<V>) -> OperatorResult {
        let key = record
            .key
            .clone()
            .ok_or_else(|| OperatorError::new("a window operator received a record without a key"))?;
        let time = if self.assigner.is_event_time() {
            if record.timestamp == NO_TIMESTAMP {
                return Err(OperatorError::new(
                    "a record has no timestamp, but the window is an event-time window: did you forget \
                     assign_timestamps_and_watermarks(...), or mean a processing-time window?",
                ));
            }
            record.timestamp
        } else {
            self.clock.now()
        };
        let gap = match self.assigner {
            Assigner::Session { gap: Some(g), .. } => g,
            Assigner::Session { gap: None, .. } => {
                let g = self.functions.session_gap(&record.value)?;
                if g <= 0 {
                    return Err(OperatorError::new(format!(
                        "the session gap extractor returned {g}: a session gap must be positive"
                    )));
                }
                g
            }
            _ => 0,
        };
        let count = match self.assigner {
            Assigner::CountTumbling { .. } | Assigner::CountSliding { .. } => {
                let c = self.counts.entry(key.clone()).or_insert(0);
                *c += 1;
                *c - 1
            }
            _ => 0,
        };
        let mut windows = std::mem::take(&mut self.windows);
        windows.clear();
        self.assigner.assign(time, gap, count, &mut windows);
        let result = if self.assigner.is_merging() {
            self.add_to_session(key, record, windows[0], out)
        } else {
            self.add_to_windows(key, record, &windows, out)
        };
        self.windows = windows;
        result
    }

    /// Adds a record to each of its windows that is not late (a copy for each but the last),
    /// or passes it to the late output when all are.
    fn add_to_windows(
        &mut self,
        key: Key,
        record: Record<V>,
        windows: &[Window],
        out: &mut Output<V>,
    ) -> OperatorResult {
        let timestamp = record.timestamp;
        let live = windows.iter().filter(|w| !self.is_window_late(w)).count();
        if live == 0 {
            return self.late(record, out);
        }
        let mut value = Some(record.value);
        let mut seen = 0;
        for window in windows {
            if self.is_window_late(window) {
                continue;
            }
            seen += 1;
            let v = if seen == live {
                value.take().expect("the value is used once, for the last window")
            } else {
                value
                    .as_ref()
                    .expect("the value is kept until the last window")
                    .duplicate()
            };
            if self.groups.is_some() {
                self.add_to_group(&key, window, v, out)?;
            } else {
                self.add_to_window(&key, window, v, timestamp, out)?;
            }
        }
        Ok(())
    }

    /// The general path: the trigger decides about `window` after `value` joins it.
    fn add_to_window(
        &mut self,
        key: &Key,
        window: &Window,
        value: V,
        timestamp: i64,
        out: &mut Output<V>,
    ) -> OperatorResult {
        let result = self.trigger_on_element(key, &value, timestamp, window)?;
        let is_new = self.add_to_contents(key, window, value)?;
        self.act(result, key, window, out)?;
        if is_new {
            self.register_cleanup_timer(key, window);
        }
        Ok(())
    }

    fn add_to_session(
        &mut self,
        key: Key,
        record: Record<V>,
        new_window: Window,
        out: &mut Output<V>,
    ) -> OperatorResult {
        // The sessions the new one touches, transitively, and the window they all merge into.
        let mut merged = new_window;
        let mut absorbed: Vec<Window> = Vec::new();
        if let Some(sessions) = self.sessions.get(&key) {
            let mut rest: Vec<Window> = sessions.clone();
            loop {
                let before = absorbed.len();
                rest.retain(|w| {
                    if w.touches(&merged) {
                        merged = merged.cover(w);
                        absorbed.push(*w);
                        false
                    } else {
                        true
                    }
                });
                if absorbed.len() == before {
                    break;
                }
            }
        }
        if self.is_window_late(&merged) {
            return self.late(record, out);
        }
        absorbed.sort();
        let inside_existing = absorbed.len() == 1 && absorbed[0] == merged;
        if !absorbed.is_empty() && !inside_existing {
            self.merge_sessions(&key, &absorbed, merged)?;
        }
        if absorbed.is_empty() || !inside_existing {
            let sessions = self.sessions.entry(key.clone()).or_default();
            sessions.retain(|w| !absorbed.contains(w));
            sessions.push(merged);
            sessions.sort();
        }
        let timestamp = record.timestamp;
        let result = self.trigger_on_element(&key, &record.value, timestamp, &merged)?;
        self.add_to_contents(&key, &merged, record.value)?;
        self.act(result, &key, &merged, out)?;
        // Always: a session that merged gets a new cleanup time (its parts' timers are gone).
        self.register_cleanup_timer(&key, &merged);
        Ok(())
    }

    /// Sessions `absorbed` become `merged`: their contents and trigger state combine, their
    /// timers go, and the trigger learns of the merge.
    fn merge_sessions(&mut self, key: &Key, absorbed: &[Window], merged: Window) -> OperatorResult {
        let mut acc: Option<F::Acc> = None;
        let mut state = TriggerState::default();
        for window in absorbed {
            if let Some(a) = self.take_contents(key, window) {
                acc = Some(match acc {
                    None => a,
                    Some(into) => self.functions.merge(into, a)?,
                });
            }
            state = state.merge(self.trigger_state(key, window));
            self.trigger_clear(key, window)?;
            self.delete_cleanup_timer(key, window);
        }
        if let Some(a) = acc {
            self.put_contents(key, merged, a);
        }
        let mut ctx = self.context(key);
        match &mut self.trigger {
            WindowTrigger::BuiltIn(t) => {
                t.on_merge(&merged, &state, &mut ctx);
                self.set_trigger_state(key, &merged, state);
            }
            WindowTrigger::Custom(t) => t.on_merge(&merged, &mut ctx)?,
        }
        self.apply_requests(key, &merged, ctx);
        Ok(())
    }

    /// A record too late for every window it belongs to.
    fn late(&mut self, record: Record<V>, out: &mut Output<V>) -> OperatorResult {
        if !self.is_element_late(record.timestamp) {
            // Not late by the record's own time (an odd merge): nothing to do but drop it quietly
            // is what Flink does too.
            return Ok(());
        }
        match self.late_port {
            Some(port) => out.emit_side(
                port,
                Record {
                    value: record.value,
                    timestamp: record.timestamp,
                    key: None,
                },
            ),
            None => self.late_dropped += 1,
        }
        Ok(())
    }

    fn on_timer(
        &mut self,
        domain: TimeDomain,
        time: i64,
        key: Key,
        window: Window,
        out: &mut Output<V>,
    ) -> OperatorResult {
        if self.assigner.is_merging() && !self.sessions.get(&key).is_some_and(|s| s.contains(&window)) {
            return Ok(()); // a timer of a session that was merged away
        }
        let result = self.trigger_on_time(domain, time, &key, &window)?;
        let cleanup_domain = if self.assigner.is_event_time() {
            TimeDomain::EventTime
        } else {
            TimeDomain::ProcessingTime
        };
        let cleanup = self.assigner.is_time() && domain == cleanup_domain && time == self.cleanup_time(&window);
        if !cleanup {
            return self.act(result, &key, &window, out);
        }
        // The window's last moment: fire, then drop everything about it. Deleting the timer that
        // is firing now is skipped: it is already gone.
        if result.is_fire() {
            self.emit(&key, &window, out)?;
        }
        self.popped = Some((domain, time));
        let cleared = self.clear_window(&key, &window);
        self.popped = None;
        cleared
    }
}

impl<V: Data, F: WindowFunctions<V>> Operator<V> for WindowOperator<V, F> {
    fn open(&mut self, info: &TaskInfo) -> OperatorResult {
        self.clock = info.clock.clone();
        if self.assigner.is_merging() {
            if let WindowTrigger::Custom(t) = &self.trigger {
                if !t.can_merge() {
                    return Err(OperatorError::new(
                        "session windows need a trigger that can merge: its can_merge() returned False",
                    ));
                }
            }
        }
        self.max_parallelism = info.max_parallelism;
        if info.restore.is_some() {
            self.restore(info)?;
            self.functions.restore_state(info)?;
        }
        self.functions.open()
    }

    fn snapshot_state(&mut self, ctx: &SnapshotContext<'_>) -> OperatorResult<SnapshotStats> {
        self.write_snapshot(ctx)
    }

    fn process_batch(&mut self, _input: usize, batch: &mut Vec<Record<V>>, out: &mut Output<V>) -> OperatorResult {
        for (i, record) in batch.drain(..).enumerate() {
            self.process_record(record, out).map_err(|mut e| {
                e.record_in_batch.get_or_insert(i);
                e
            })?;
        }
        Ok(())
    }

    fn on_watermark(&mut self, watermark: i64, out: &mut Output<V>) -> OperatorResult<Option<i64>> {
        // Never back: a restored operator keeps its watermark until upstream passes it again.
        self.watermark = self.watermark.max(watermark);
        self.fire_groups(watermark, out)?;
        while let Some(timer) = self.timers.pop_due(TimeDomain::EventTime, watermark) {
            self.on_timer(TimeDomain::EventTime, timer.time, timer.key, timer.namespace, out)?;
        }
        Ok(Some(watermark))
    }

    fn next_processing_time(&self) -> Option<i64> {
        self.timers.next_processing_time()
    }

    fn on_processing_time(&mut self, now: i64, out: &mut Output<V>) -> OperatorResult {
        while let Some(timer) = self.timers.pop_due(TimeDomain::ProcessingTime, now) {
            self.on_timer(TimeDomain::ProcessingTime, timer.time, timer.key, timer.namespace, out)?;
        }
        Ok(())
    }

    fn finish(&mut self, _out: &mut Output<V>) -> OperatorResult {
        // A bounded input ends without firing processing-time timers (Flink's STREAMING mode);
        // the job reports the windows (with contents) and other timers that never fire.
        let timers = self.timers.clear_processing() as u64;
        let windows = if self.assigner.is_processing_time() {
            self.contents.values().map(|w| w.len() as u64).sum()
        } else {
            0
        };
        self.dropped_at_end.windows += windows;
        // Each pending processing-time window has its own timer at its end; the others are a
        // trigger's (global and count windows have no end, so nothing of theirs is counted).
        self.dropped_at_end.timers += timers.saturating_sub(windows);
        Ok(())
    }

    fn dropped_at_end(&self) -> DroppedAtEnd {
        self.dropped_at_end
    }

    fn metrics(&self) -> Vec<(&'static str, u64)> {
        vec![("numLateRecordsDropped", self.late_dropped)]
    }

    fn close(&mut self) -> OperatorResult {
        self.contents.clear();
        self.empty_keys = 0;
        if let Some(g) = self.groups.as_mut() {
            g.clear();
        }
        self.functions.close()
    }
}

//! The window operator's fast path (non-merging event-time windows with the event-time
//! trigger): contents grouped by window in [`crate::window::grouped::WindowGroups`], fired whole
//! by the watermark, with no timer per key and window.

use super::WindowOperator;
use crate::runtime::key::Key;
use crate::runtime::operator::{OperatorResult, Output};
use crate::runtime::record::Data;
use crate::window::functions::{FireTime, WindowFunctions};
use crate::window::window::Window;

impl<V: Data, F: WindowFunctions<V>> WindowOperator<V, F> {
    /// The fast path: adds `value` to `window`'s group; a window the watermark already passed
    /// (within the allowed lateness) fires again for this key at once.
    pub(super) fn add_to_group(&mut self, key: &Key, window: &Window, value: V, out: &mut Output<V>) -> OperatorResult {
        let Some(groups) = self.groups.as_mut() else {
            return Ok(());
        };
        let (group, exists) = groups.slot(key, *window);
        if window.max_timestamp() <= self.watermark {
            // Created or touched after the watermark passed its end: it fires per record now.
            group.fired = true;
        }
        let fired = group.fired;
        if exists {
            let acc = group.keys.get_mut(key).expect("the key's contents exist");
            self.functions.add(acc, value)?;
        } else {
            let acc = self.functions.create(value)?;
            group.keys.insert(key.clone(), acc);
        }
        if fired {
            self.emit_group_key(key, window, out)?;
        }
        Ok(())
    }

    pub(super) fn emit_group_key(&mut self, key: &Key, window: &Window, out: &mut Output<V>) -> OperatorResult {
        let time = FireTime {
            timestamp: window.max_timestamp(),
            watermark: self.watermark,
            processing_time: self.clock.now(),
        };
        if let Some(acc) = self.groups.as_ref().and_then(|g| g.get(key, window)) {
            self.functions.emit(key, window, acc, time, out)?;
        }
        Ok(())
    }

    /// The fast path: the watermark fires every window it passed, whole, and drops those past
    /// their allowed lateness.
    pub(super) fn fire_groups(&mut self, watermark: i64, out: &mut Output<V>) -> OperatorResult {
        let Some(groups) = self.groups.as_mut() else {
            return Ok(());
        };
        for window in groups.due(watermark) {
            let cleanup = self.cleanup_time(&window) <= watermark;
            let Some(groups) = self.groups.as_mut() else { break };
            let time = FireTime {
                timestamp: window.max_timestamp(),
                watermark,
                processing_time: self.clock.now(),
            };
            if cleanup {
                let Some(group) = groups.remove(&window) else { continue };
                for (key, acc) in &group.keys {
                    if !group.fired {
                        self.functions.emit(key, &window, acc, time, out)?;
                    }
                    self.functions.clear(key, &window)?;
                }
            } else if let Some(group) = groups.group_mut(&window) {
                if !group.fired {
                    group.fired = true;
                    for (key, acc) in &group.keys {
                        self.functions.emit(key, &window, acc, time, out)?;
                    }
                }
            }
        }
        Ok(())
    }
}

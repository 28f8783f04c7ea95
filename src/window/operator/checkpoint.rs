//! The window operator in checkpoints: everything it keeps written by key group (the format is
//! in [`crate::window::snapshot`]), its timers (namespace: the window), its watermark, and the
//! functions' own state; and all of it read back for the key groups a subtask owns.

use super::WindowOperator;
use crate::checkpoint::{SnapshotContext, SnapshotStats};
use crate::runtime::key_group::key_group_range;
use crate::runtime::operator::{OperatorError, OperatorResult, TaskInfo};
use crate::runtime::record::Data;
use crate::time::timer_snapshot::{restore_timers, write_timers};
use crate::window::functions::WindowFunctions;
use crate::window::snapshot::{read_window_state, window_bytes, window_of_bytes, WindowEntry, WindowStateWriter};

fn snapshot_error(e: impl std::fmt::Display) -> OperatorError {
    OperatorError::new(format!("the window operator's state: {e}"))
}

impl<V: Data, F: WindowFunctions<V>> WindowOperator<V, F> {
    /// Writes the window contents (both paths), built-in trigger state, sessions, counts, the
    /// watermark, the timers and the functions' state into `ctx.directory`.
    pub(super) fn write_snapshot(&mut self, ctx: &SnapshotContext<'_>) -> OperatorResult<SnapshotStats> {
        let mut w = WindowStateWriter::new(self.max_parallelism);
        let mut bytes = Vec::new();
        for (key, windows) in &self.contents {
            for (window, acc) in windows {
                bytes.clear();
                self.functions.encode(acc, &mut bytes)?;
                w.contents(key, window, &bytes);
            }
        }
        if let Some(groups) = &self.groups {
            for (window, group) in groups.iter() {
                for (key, acc) in &group.keys {
                    bytes.clear();
                    self.functions.encode(acc, &mut bytes)?;
                    w.grouped(key, window, group.fired, &bytes);
                }
            }
        }
        for ((key, window), state) in &self.trigger_state {
            w.trigger_state(key, window, state);
        }
        for (key, sessions) in &self.sessions {
            w.sessions(key, sessions);
        }
        for (key, count) in &self.counts {
            w.count(key, *count);
        }
        let mut stats = SnapshotStats::full(w.write(ctx.directory, self.watermark).map_err(snapshot_error)?);
        let timers = write_timers(ctx.directory, &self.timers, window_bytes).map_err(snapshot_error)?;
        stats.add(SnapshotStats::full(timers));
        stats.add(self.functions.snapshot_state(ctx, self.max_parallelism)?);
        Ok(stats)
    }

    /// Takes back what [`WindowOperator::write_snapshot`] wrote, for the key groups of this
    /// subtask, from the snapshots of every old subtask in `info.restore`.
    pub(super) fn restore(&mut self, info: &TaskInfo) -> OperatorResult {
        let Some(restore) = &info.restore else {
            return Ok(());
        };
        let key_groups = key_group_range(info.subtask_index, info.parallelism, info.max_parallelism);
        let functions = &mut self.functions;
        let contents = &mut self.contents;
        let mut groups = self.groups.as_mut();
        let trigger_state = &mut self.trigger_state;
        let sessions = &mut self.sessions;
        let counts = &mut self.counts;
        let decode = |functions: &mut F, bytes: &[u8]| functions.decode(bytes).map_err(|e| e.to_string());
        let watermark = read_window_state(
            &restore.directories,
            key_groups.clone(),
            info.max_parallelism,
            |entry| {
                match entry {
                    WindowEntry::Contents {
                        key,
                        window,
                        contents: bytes,
                    } => {
                        if groups.is_some() {
                            return Err(kind_changed());
                        }
                        let acc = decode(functions, bytes)?;
                        contents.entry(key).or_default().push((window, acc));
                    }
                    WindowEntry::Grouped {
                        key,
                        window,
                        fired,
                        contents: bytes,
                    } => {
                        let acc = decode(functions, bytes)?;
                        groups
                            .as_mut()
                            .ok_or_else(kind_changed)?
                            .insert(key, window, fired, acc);
                    }
                    WindowEntry::Trigger { key, window, state } => {
                        trigger_state.insert((key, window), state);
                    }
                    WindowEntry::Sessions { key, sessions: s } => {
                        sessions.insert(key, s);
                    }
                    WindowEntry::Count { key, count } => {
                        counts.insert(key, count);
                    }
                }
                Ok(())
            },
        )
        .map_err(snapshot_error)?;
        if let Some(w) = watermark {
            self.watermark = w;
        }
        restore_timers(
            &restore.directories,
            key_groups,
            info.max_parallelism,
            &mut self.timers,
            window_of_bytes,
        )
        .map_err(snapshot_error)
    }
}

fn kind_changed() -> String {
    "the checkpoint was taken by a window operator of another kind (its assigner or trigger changed)".into()
}

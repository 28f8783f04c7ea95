//! `FileSource`: the lines of text files, read by parallel subtasks, each file by one of them,
//! bounded (the files there when the job starts) or unbounded (directories are listed again at
//! an interval for new files).
//!
//! The source reads bytes in Rust and hands each batch of lines to a [`LineConverter`], which
//! makes the job's values of them (Python strings in the bindings). Its position (the files not
//! finished, with the offset after the last line emitted, and the files already given out) is
//! operator state: see [`state`].

pub mod enumerate;
pub mod line_reader;
pub mod state;

use std::collections::VecDeque;
use std::marker::PhantomData;
use std::path::PathBuf;
use std::time::Instant;

use crate::checkpoint::{SnapshotContext, SnapshotStats};
use crate::connectors::charset::Charset;
use crate::connectors::file_error::FileError;
use crate::runtime::operator::{OperatorError, OperatorResult, Output, Source, SourceStatus, TaskInfo};
use crate::runtime::record::Data;
use crate::time::clock::Clock;

use self::enumerate::{list_files, owner};
use self::line_reader::LineReader;
use self::state::{SourceState, Split};

/// What a file source reads.
#[derive(Clone, Debug)]
pub struct FileSourceConfig {
    /// Files and directories (absolute paths, so that each file has one name in every run).
    pub paths: Vec<PathBuf>,
    /// Unbounded: list the directories again this often (ms). Bounded when None.
    pub monitor_interval_ms: Option<i64>,
    pub charset: Charset,
}

/// The lines of one batch: line `i` is `text[ends[i - 1]..ends[i]]` (from 0 for the first).
#[derive(Default, Debug)]
pub struct Lines {
    pub text: String,
    pub ends: Vec<usize>,
}

impl Lines {
    pub fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        let mut start = 0;
        self.ends.iter().map(move |&end| {
            let line = &self.text[start..end];
            start = end;
            line
        })
    }
}

/// Makes the job's values of lines of text.
pub trait LineConverter<V>: Send {
    /// Emits one record per line of `lines` into `out`, in order.
    fn emit(&mut self, lines: &Lines, out: &mut Output<V>) -> OperatorResult;
}

pub struct FileSource<V, C> {
    config: FileSourceConfig,
    converter: C,
    subtask: usize,
    parallelism: usize,
    clock: Clock,
    /// The files to read, the first one being read.
    splits: VecDeque<Split>,
    reader: Option<LineReader>,
    state: SourceState,
    /// When to list the directories next (unbounded mode).
    next_scan: Option<i64>,
    lines: Lines,
    _values: PhantomData<fn() -> V>,
}

fn failure(e: FileError) -> OperatorError {
    OperatorError::new(e)
}

impl<V: Data, C: LineConverter<V>> FileSource<V, C> {
    pub fn new(config: FileSourceConfig, converter: C) -> Self {
        FileSource {
            config,
            converter,
            subtask: 0,
            parallelism: 1,
            clock: Clock::System,
            splits: VecDeque::new(),
            reader: None,
            state: SourceState::default(),
            next_scan: None,
            lines: Lines::default(),
            _values: PhantomData,
        }
    }

    /// Lists the paths and queues the files of this subtask that no subtask was given yet.
    fn scan(&mut self) -> Result<(), FileError> {
        for path in list_files(&self.config.paths)? {
            if owner(&path, self.parallelism) == self.subtask && !self.state.taken.contains(&path) {
                self.state.taken.insert(path.clone());
                self.splits.push_back(Split { path, offset: 0 });
            }
        }
        Ok(())
    }

    /// The state as a checkpoint now would record it.
    pub fn current_state(&self) -> SourceState {
        let mut splits: Vec<Split> = self.splits.iter().cloned().collect();
        if let (Some(reader), Some(first)) = (&self.reader, splits.first_mut()) {
            first.offset = reader.offset();
        }
        SourceState {
            splits,
            taken: self.state.taken.clone(),
        }
    }

    /// Reads up to `max` lines into `self.lines`.
    fn read_lines(&mut self, max: usize) -> Result<(), FileError> {
        self.lines.clear();
        while self.lines.len() < max {
            let reader = match &mut self.reader {
                Some(reader) => reader,
                None => match self.splits.front() {
                    None => break,
                    Some(split) => {
                        self.reader
                            .insert(LineReader::open(&split.path, split.offset, self.config.charset)?)
                    }
                },
            };
            if reader.read_line(&mut self.lines.text)? {
                self.lines.ends.push(self.lines.text.len());
            } else {
                self.reader = None;
                self.splits.pop_front();
            }
        }
        Ok(())
    }
}

impl<V: Data, C: LineConverter<V>> Source<V> for FileSource<V, C> {
    fn open(&mut self, info: &TaskInfo) -> OperatorResult {
        self.subtask = info.subtask_index;
        self.parallelism = info.parallelism;
        self.clock = info.clock.clone();
        match &info.restore {
            Some(restore) => {
                self.state =
                    SourceState::restore(&restore.directories, self.subtask, self.parallelism).map_err(failure)?;
                self.splits = std::mem::take(&mut self.state.splits).into();
            }
            // Bounded: the files there now. Unbounded: listed on the first poll.
            None if self.config.monitor_interval_ms.is_none() => self.scan().map_err(failure)?,
            None => {}
        }
        if self.config.monitor_interval_ms.is_some() {
            self.next_scan = Some(i64::MIN);
        }
        Ok(())
    }

    fn poll_batch(&mut self, max: usize, _deadline: Instant, out: &mut Output<V>) -> OperatorResult<SourceStatus> {
        if let (Some(due), Some(interval)) = (self.next_scan, self.config.monitor_interval_ms) {
            let now = self.clock.now();
            if now >= due {
                self.scan().map_err(failure)?;
                self.next_scan = Some(now.saturating_add(interval.max(1)));
            }
        }
        self.read_lines(max.max(1)).map_err(failure)?;
        if !self.lines.is_empty() {
            self.converter.emit(&self.lines, out)?;
        }
        Ok(if !self.splits.is_empty() {
            SourceStatus::More
        } else if self.config.monitor_interval_ms.is_none() {
            SourceStatus::Exhausted
        } else if !self.lines.is_empty() {
            SourceStatus::MoreLater
        } else {
            SourceStatus::Idle
        })
    }

    fn snapshot_state(&mut self, ctx: &SnapshotContext<'_>) -> OperatorResult<SnapshotStats> {
        let bytes = self
            .current_state()
            .to_snapshot()
            .write_to(ctx.directory)
            .map_err(OperatorError::new)?;
        Ok(SnapshotStats::full(bytes))
    }

    fn close(&mut self) -> OperatorResult {
        self.reader = None;
        Ok(())
    }
}

#[cfg(test)]
mod tests;

//! A chain: operators fused into one task. A batch goes through every operator of the chain
//! without crossing a channel; only the last operator's output is routed to other tasks.
//!
//! What an operator emits — records, side-output records, and progress (watermarks, idleness)
//! placed between its records — flows on in order: records before a watermark reach the next
//! operator before it sees that watermark.

use std::path::Path;

use crate::checkpoint::{subtask_directory, SnapshotContext, SnapshotStats};
use crate::runtime::operator::{DroppedAtEnd, Operator, OperatorError, Output, Progress, TaskInfo};
use crate::runtime::output::TaskOutputs;
use crate::runtime::record::{Data, Record};

/// An error from operator `operator` of the chain (its index), with how many records that
/// operator had received before the batch that failed.
#[derive(Debug)]
pub struct ChainError {
    pub operator: usize,
    pub records_before_batch: u64,
    pub error: OperatorError,
}

struct Link<V: Data> {
    operator: Box<dyn Operator<V>>,
    info: TaskInfo,
    out: Output<V>,
    records_in: u64,
    /// Records emitted (main and side outputs).
    records_out: u64,
    /// The names of the operators that run as this link (more than one when it absorbed its
    /// successors), for metrics.
    names: Vec<String>,
}

/// The operators of one task, in order.
pub struct OperatorChain<V: Data> {
    links: Vec<Link<V>>,
}

impl<V: Data> OperatorChain<V> {
    /// The chain of `operators` (each with the info it is opened with). Where an operator
    /// absorbs its successor ([`Operator::absorb`]), the two become one link.
    pub fn new(operators: Vec<(Box<dyn Operator<V>>, TaskInfo)>) -> Self {
        let mut links: Vec<Link<V>> = Vec::with_capacity(operators.len());
        for (mut operator, info) in operators {
            if let Some(last) = links.last_mut() {
                if last.operator.absorb(operator.as_mut()) {
                    last.names.push(info.operator_name.clone());
                    continue;
                }
            }
            let names = vec![info.operator_name.clone()];
            links.push(Link {
                operator,
                info,
                out: Output::default(),
                records_in: 0,
                records_out: 0,
                names,
            });
        }
        OperatorChain { links }
    }

    /// The info of link `index`.
    pub fn info(&self, index: usize) -> Option<&TaskInfo> {
        self.links.get(index).map(|l| &l.info)
    }

    pub fn len(&self) -> usize {
        self.links.len()
    }

    pub fn is_empty(&self) -> bool {
        self.links.is_empty()
    }

    fn fail(&self, operator: usize, error: OperatorError) -> ChainError {
        ChainError {
            operator,
            records_before_batch: self.links[operator].records_in,
            error,
        }
    }

    /// Opens the operators, first to last.
    pub fn open(&mut self) -> Result<(), ChainError> {
        for i in 0..self.links.len() {
            let link = &mut self.links[i];
            if let Err(e) = link.operator.open(&link.info) {
                return Err(self.fail(i, e));
            }
        }
        Ok(())
    }

    /// Runs `batch`, which arrived on logical input `input`, through the chain. A chain without
    /// operators (a source feeding other tasks directly) routes the batch as it is.
    pub fn process(
        &mut self,
        input: usize,
        batch: &mut Vec<Record<V>>,
        outputs: &mut TaskOutputs<V>,
    ) -> Result<(), ChainError> {
        if self.links.is_empty() {
            return self.deliver(0, batch, outputs);
        }
        self.process_at(0, input, batch, outputs)
    }

    /// Operator `i` processes `batch`; what it emits flows on.
    fn process_at(
        &mut self,
        i: usize,
        input: usize,
        batch: &mut Vec<Record<V>>,
        outputs: &mut TaskOutputs<V>,
    ) -> Result<(), ChainError> {
        let n = batch.len() as u64;
        let link = &mut self.links[i];
        let result = link.operator.process_batch(input, batch, &mut link.out);
        link.records_in += n;
        batch.clear();
        if let Err(e) = result {
            let mut err = self.failed_after_output(i, e, outputs);
            err.records_before_batch -= n;
            return Err(err);
        }
        self.forward(i, outputs)
    }

    /// Operator `i` failed with `e`: what it emitted before still goes on through the chain, as
    /// it would have record by record, so that results computed before a failure reach the
    /// user. A failure while forwarding is not the first one and is not reported.
    fn failed_after_output(&mut self, i: usize, e: OperatorError, outputs: &mut TaskOutputs<V>) -> ChainError {
        let err = self.fail(i, e);
        let _ = self.forward(i, outputs);
        err
    }

    /// Moves what operator `i` emitted on: into operator i + 1, or, from the last operator, to
    /// the task's outputs. Side outputs of operators inside the chain have no consumer (a side
    /// output that is consumed ends the chain), so they are dropped.
    fn forward(&mut self, i: usize, outputs: &mut TaskOutputs<V>) -> Result<(), ChainError> {
        let last = i + 1 == self.links.len();
        let mut main = std::mem::take(&mut self.links[i].out.main);
        let progress = std::mem::take(&mut self.links[i].out.progress);
        let mut side = std::mem::take(&mut self.links[i].out.side);
        self.links[i].records_out += (main.len() + side.len()) as u64;
        let mut result = Ok(());
        if last {
            let mut one = Vec::with_capacity(1);
            for (port, record) in side.drain(..) {
                one.push(record);
                if let Err(e) = outputs.write(port, &mut one) {
                    result = Err(self.fail(i, e));
                    break;
                }
            }
        }
        side.clear();
        if result.is_ok() {
            result = self.dispatch(i + 1, &mut main, &progress, outputs);
        }
        // Give the buffers back to the link so their capacity is reused.
        let link = &mut self.links[i];
        main.clear();
        link.out.main = main;
        link.out.side = side;
        result
    }

    /// Hands `records`, with `progress` marks between them, to operator `next` (or out of the
    /// task when `next` is past the last): records before a watermark go first.
    fn dispatch(
        &mut self,
        next: usize,
        records: &mut Vec<Record<V>>,
        progress: &[(usize, Progress)],
        outputs: &mut TaskOutputs<V>,
    ) -> Result<(), ChainError> {
        if progress.is_empty() {
            return self.deliver(next, records, outputs);
        }
        let mut rest: Vec<Record<V>> = std::mem::take(records);
        let mut taken = 0;
        for (position, mark) in progress {
            let mut segment: Vec<Record<V>> = rest.drain(..position - taken).collect();
            taken = *position;
            self.deliver(next, &mut segment, outputs)?;
            match *mark {
                Progress::Watermark(w) => self.watermark_from(next, w, outputs)?,
                Progress::Idle(idle) => outputs.emit_idle(idle),
            }
        }
        self.deliver(next, &mut rest, outputs)
    }

    /// What a source emitted, into the chain.
    pub fn ingest(&mut self, out: &mut Output<V>, outputs: &mut TaskOutputs<V>) -> Result<(), ChainError> {
        let progress = std::mem::take(&mut out.progress);
        let result = self.dispatch(0, &mut out.main, &progress, outputs);
        out.main.clear();
        result
    }

    /// Records for operator `next`, or out of the task when `next` is past the last.
    fn deliver(
        &mut self,
        next: usize,
        records: &mut Vec<Record<V>>,
        outputs: &mut TaskOutputs<V>,
    ) -> Result<(), ChainError> {
        if records.is_empty() {
            return Ok(());
        }
        if next >= self.links.len() {
            let culprit = self.links.len().saturating_sub(1);
            return outputs.write(0, records).map_err(|e| ChainError {
                operator: culprit,
                records_before_batch: self.links.get(culprit).map_or(0, |l| l.records_in),
                error: e,
            });
        }
        self.process_at(next, 0, records, outputs)
    }

    /// Event time reached `watermark` for operators `from..`: each sees it after the records that
    /// operators before it emitted; what the last lets through goes out of the task.
    fn watermark_from(&mut self, from: usize, watermark: i64, outputs: &mut TaskOutputs<V>) -> Result<(), ChainError> {
        let mut current = Some(watermark);
        for i in from..self.links.len() {
            let Some(w) = current else { return Ok(()) };
            let link = &mut self.links[i];
            current = match link.operator.on_watermark(w, &mut link.out) {
                Ok(current) => current,
                Err(e) => return Err(self.failed_after_output(i, e, outputs)),
            };
            self.forward(i, outputs)?;
        }
        if let Some(w) = current {
            outputs.emit_watermark(w);
        }
        Ok(())
    }

    /// Event time of the task's input reached `watermark`.
    pub fn on_watermark(&mut self, watermark: i64, outputs: &mut TaskOutputs<V>) -> Result<(), ChainError> {
        self.watermark_from(0, watermark, outputs)
    }

    /// The earliest processing time any operator waits for.
    pub fn next_processing_time(&self) -> Option<i64> {
        self.links
            .iter()
            .filter_map(|l| l.operator.next_processing_time())
            .min()
    }

    /// Processing time reached `now`: operators with something due fire it, first to last.
    pub fn on_processing_time(&mut self, now: i64, outputs: &mut TaskOutputs<V>) -> Result<(), ChainError> {
        for i in 0..self.links.len() {
            let due = self.links[i].operator.next_processing_time().is_some_and(|t| t <= now);
            if due {
                let link = &mut self.links[i];
                if let Err(e) = link.operator.on_processing_time(now, &mut link.out) {
                    return Err(self.failed_after_output(i, e, outputs));
                }
                self.forward(i, outputs)?;
            }
        }
        Ok(())
    }

    /// Checkpoint `id`, whose directory is `checkpoint_directory`: every operator snapshots
    /// into its own directory there, first to last.
    pub fn snapshot_state(
        &mut self,
        id: u64,
        timestamp: i64,
        checkpoint_directory: &Path,
    ) -> Result<SnapshotStats, ChainError> {
        let mut total = SnapshotStats::default();
        for i in 0..self.links.len() {
            let link = &mut self.links[i];
            let directory = subtask_directory(checkpoint_directory, &link.info.operator_id, link.info.subtask_index);
            let result = std::fs::create_dir_all(&directory)
                .map_err(|e| {
                    OperatorError::new(format!(
                        "checkpoint {id}: cannot make the directory {}: {e}",
                        directory.display()
                    ))
                })
                .and_then(|()| {
                    link.operator.snapshot_state(&SnapshotContext {
                        checkpoint_id: id,
                        timestamp,
                        directory: &directory,
                        checkpoint_directory,
                    })
                });
            match result {
                Ok(stats) => total.add(stats),
                Err(e) => return Err(self.fail(i, e)),
            }
        }
        Ok(total)
    }

    /// Checkpoint `id` completed: every operator hears it, first to last.
    pub fn notify_checkpoint_complete(&mut self, id: u64) -> Result<(), ChainError> {
        for i in 0..self.links.len() {
            self.links[i]
                .operator
                .notify_checkpoint_complete(id)
                .map_err(|e| self.fail(i, e))?;
        }
        Ok(())
    }

    /// Every input ended: operators finish first to last, so what one emits while finishing
    /// reaches the next before it finishes.
    pub fn finish(&mut self, outputs: &mut TaskOutputs<V>) -> Result<(), ChainError> {
        for i in 0..self.links.len() {
            let link = &mut self.links[i];
            if let Err(e) = link.operator.finish(&mut link.out) {
                return Err(self.failed_after_output(i, e, outputs));
            }
            self.forward(i, outputs)?;
        }
        Ok(())
    }

    /// The operators that dropped processing-time windows or timers at the end of their input,
    /// by name, with what they dropped.
    pub fn dropped_at_end(&self) -> Vec<(String, DroppedAtEnd)> {
        self.links
            .iter()
            .map(|l| (l.info.operator_name.clone(), l.operator.dropped_at_end()))
            .filter(|(_, d)| !d.is_empty())
            .collect()
    }

    /// The names of the operators, in chain order; operators that run as one (consecutive
    /// Python functions fused into one loop) are named together, `"Map -> Filter"`.
    pub fn operator_names(&self) -> Vec<String> {
        self.links.iter().map(|l| l.names.join(" -> ")).collect()
    }

    /// Each operator's records in and out, in chain order.
    pub fn operator_counts(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.links.iter().map(|l| (l.records_in, l.records_out))
    }

    /// The operators' counters, summed by name.
    pub fn metrics(&self) -> Vec<(&'static str, u64)> {
        let mut all: Vec<(&'static str, u64)> = Vec::new();
        for link in &self.links {
            for (name, value) in link.operator.metrics() {
                match all.iter_mut().find(|(n, _)| *n == name) {
                    Some(entry) => entry.1 += value,
                    None => all.push((name, value)),
                }
            }
        }
        all
    }

    /// Closes every operator (also after a failure); returns the first error.
    pub fn close(&mut self) -> Result<(), ChainError> {
        let mut first = None;
        for i in 0..self.links.len() {
            let link = &mut self.links[i];
            link.out.main.clear();
            link.out.side.clear();
            link.out.progress.clear();
            if let Err(e) = link.operator.close() {
                if first.is_none() {
                    first = Some(self.fail(i, e));
                }
            }
        }
        first.map_or(Ok(()), Err)
    }
}

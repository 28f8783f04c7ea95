//! A chain: operators fused into one task. A batch goes through every operator of the chain
//! without crossing a channel; only the last operator's output is routed to other tasks.

use crate::runtime::operator::{Operator, OperatorError, Output, TaskInfo};
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
                    continue;
                }
            }
            links.push(Link {
                operator,
                info,
                out: Output::default(),
                records_in: 0,
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
            return outputs.write(0, batch).map_err(|e| ChainError {
                operator: 0,
                records_before_batch: 0,
                error: e,
            });
        }
        self.run_link(0, input, batch, outputs)
    }

    /// Operator `start` processes `batch`; whatever it emits flows on through the chain.
    fn run_link(
        &mut self,
        start: usize,
        input: usize,
        batch: &mut Vec<Record<V>>,
        outputs: &mut TaskOutputs<V>,
    ) -> Result<(), ChainError> {
        let n = batch.len() as u64;
        let link = &mut self.links[start];
        let result = link.operator.process_batch(input, batch, &mut link.out);
        link.records_in += n;
        if let Err(e) = result {
            let mut err = self.fail(start, e);
            err.records_before_batch -= n;
            return Err(err);
        }
        self.forward(start, outputs)
    }

    /// Moves what operator `i` emitted on: into operator i + 1, or, from the last operator, to
    /// the task's outputs. Side outputs of operators inside the chain have no consumer (a side
    /// output that is consumed ends the chain), so they are dropped.
    fn forward(&mut self, mut i: usize, outputs: &mut TaskOutputs<V>) -> Result<(), ChainError> {
        let last = self.links.len() - 1;
        loop {
            if i == last {
                let link = &mut self.links[i];
                let mut by_port: Vec<(u32, Record<V>)> = std::mem::take(&mut link.out.side);
                let result = outputs.write(0, &mut link.out.main).and_then(|()| {
                    let mut one = Vec::with_capacity(1);
                    for (port, record) in by_port.drain(..) {
                        one.push(record);
                        outputs.write(port, &mut one)?;
                    }
                    Ok(())
                });
                link.out.side = by_port;
                return result.map_err(|e| self.fail(i, e));
            }
            self.links[i].out.side.clear();
            if self.links[i].out.main.is_empty() {
                return Ok(());
            }
            let mut batch = std::mem::take(&mut self.links[i].out.main);
            let n = batch.len() as u64;
            let (head, tail) = self.links.split_at_mut(i + 1);
            let next = &mut tail[0];
            let result = next.operator.process_batch(0, &mut batch, &mut next.out);
            next.records_in += n;
            batch.clear();
            head[i].out.main = batch;
            if let Err(e) = result {
                let mut err = self.fail(i + 1, e);
                err.records_before_batch -= n;
                return Err(err);
            }
            i += 1;
        }
    }

    /// Event time advanced. Each operator sees the watermark after the records that operators
    /// before it emitted on the same watermark. Returns the watermark to send downstream.
    pub fn on_watermark(
        &mut self,
        watermark: i64,
        outputs: &mut TaskOutputs<V>,
    ) -> Result<Option<i64>, ChainError> {
        let mut current = Some(watermark);
        for i in 0..self.links.len() {
            let Some(w) = current else { break };
            let link = &mut self.links[i];
            current = link
                .operator
                .on_watermark(w, &mut link.out)
                .map_err(|e| self.fail(i, e))?;
            self.forward(i, outputs)?;
        }
        Ok(current)
    }

    /// Checkpoint `id`: every operator snapshots, first to last.
    pub fn on_barrier(&mut self, id: u64) -> Result<(), ChainError> {
        for i in 0..self.links.len() {
            self.links[i]
                .operator
                .on_barrier(id)
                .map_err(|e| self.fail(i, e))?;
        }
        Ok(())
    }

    /// Every input ended: operators finish first to last, so what one emits while finishing
    /// reaches the next before it finishes.
    pub fn finish(&mut self, outputs: &mut TaskOutputs<V>) -> Result<(), ChainError> {
        for i in 0..self.links.len() {
            let link = &mut self.links[i];
            link.operator
                .finish(&mut link.out)
                .map_err(|e| self.fail(i, e))?;
            self.forward(i, outputs)?;
        }
        Ok(())
    }

    /// Closes every operator (also after a failure); returns the first error.
    pub fn close(&mut self) -> Result<(), ChainError> {
        let mut first = None;
        for i in 0..self.links.len() {
            let link = &mut self.links[i];
            link.out.main.clear();
            link.out.side.clear();
            if let Err(e) = link.operator.close() {
                if first.is_none() {
                    first = Some(self.fail(i, e));
                }
            }
        }
        first.map_or(Ok(()), Err)
    }
}

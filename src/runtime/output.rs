//! The sending side of a task: per-channel buffers that are flushed as batches when full or when
//! the buffer timeout passes, and the bounded channels that give backpressure.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{SendTimeoutError, Sender};

use crate::metrics::task::TaskMetrics;
use crate::runtime::message::{Message, Origin};
use crate::runtime::operator::OperatorResult;
use crate::runtime::partitioner::{Route, Router};
use crate::runtime::record::{Data, Record};

/// How long a blocked send waits before it looks at the cancel flag again.
const CANCEL_CHECK_INTERVAL: Duration = Duration::from_millis(50);

/// The job was cancelled, or the receiving side went away (it failed or was cancelled).
#[derive(Debug, PartialEq, Eq)]
pub struct Stopped;

/// Sends `message`, waiting while the channel is full (backpressure) but never past a cancel.
/// Returns how long the send was blocked.
pub fn send_blocking<V>(
    sender: &Sender<Message<V>>,
    message: Message<V>,
    cancelled: &AtomicBool,
) -> Result<Duration, Stopped> {
    send_until(sender, message, cancelled, None, None)
}

/// As [`send_blocking`], giving up at `deadline` too; while blocked, `live` shows it.
fn send_until<V>(
    sender: &Sender<Message<V>>,
    message: Message<V>,
    cancelled: &AtomicBool,
    deadline: Option<Instant>,
    live: Option<&TaskMetrics>,
) -> Result<Duration, Stopped> {
    let mut message = match sender.try_send(message) {
        Ok(()) => return Ok(Duration::ZERO),
        Err(crossbeam_channel::TrySendError::Disconnected(_)) => return Err(Stopped),
        Err(crossbeam_channel::TrySendError::Full(m)) => m,
    };
    let blocked_since = Instant::now();
    if let Some(live) = live {
        live.set_blocked(Some(blocked_since));
    }
    let result = loop {
        if cancelled.load(Ordering::Relaxed) || deadline.is_some_and(|d| Instant::now() >= d) {
            break Err(Stopped);
        }
        match sender.send_timeout(message, CANCEL_CHECK_INTERVAL) {
            Ok(()) => break Ok(blocked_since.elapsed()),
            Err(SendTimeoutError::Timeout(m)) => message = m,
            Err(SendTimeoutError::Disconnected(_)) => break Err(Stopped),
        }
    };
    if let Some(live) = live {
        live.set_blocked(None);
    }
    result
}

/// One channel to one receiving subtask: the records waiting to be batched, and the messages
/// ready to be sent, in order.
pub struct ChannelWriter<V> {
    sender: Sender<Message<V>>,
    pending: Vec<Record<V>>,
    /// The estimated bytes of `pending`.
    pending_bytes: usize,
    pending_since: Option<Instant>,
    /// The origin of the oldest pending record.
    pending_origin: Origin,
    ready: VecDeque<Message<V>>,
}

/// What a record written now goes with: the size a batch is cut at, and the origin of the
/// records being processed.
#[derive(Clone, Copy)]
struct WriteContext {
    batch_bytes: usize,
    origin: Origin,
}

impl<V: Data> ChannelWriter<V> {
    pub fn new(sender: Sender<Message<V>>) -> Self {
        ChannelWriter {
            sender,
            pending: Vec::new(),
            pending_bytes: 0,
            pending_since: None,
            pending_origin: None,
            ready: VecDeque::new(),
        }
    }

    /// Adds `record` (of about `size` bytes) to the pending batch, and queues that batch once
    /// it holds `batch_bytes`, so that no message on a channel is much larger. Inside
    /// [`Data::scope`].
    fn push(&mut self, record: Record<V>, size: usize, ctx: WriteContext, stats: &mut OutputStats) {
        if self.pending_since.is_none() {
            self.pending_since = Some(Instant::now());
            self.pending_origin = ctx.origin;
        }
        self.pending_bytes = self.pending_bytes.saturating_add(size);
        self.pending.push(record);
        if self.pending_bytes >= ctx.batch_bytes {
            self.seal(stats);
        }
    }

    /// Queues `message` after the records pending now.
    fn enqueue(&mut self, message: Message<V>, stats: &mut OutputStats) {
        self.seal(stats);
        self.ready.push_back(message);
    }

    /// Moves the pending records into the queue as one batch.
    fn seal(&mut self, stats: &mut OutputStats) {
        if self.pending.is_empty() {
            return;
        }
        let batch = std::mem::take(&mut self.pending);
        self.pending_since = None;
        self.pending_bytes = 0;
        stats.records_out += batch.len() as u64;
        stats.batches_out += 1;
        self.ready.push_back(Message::Batch(batch, self.pending_origin.take()));
    }

    fn is_due(&self, now: Instant, policy: &FlushPolicy) -> bool {
        match self.pending_since {
            None => false,
            Some(since) => {
                self.pending.len() >= policy.batch_size
                    || self.pending_bytes >= policy.batch_bytes
                    || now.duration_since(since) >= policy.buffer_timeout
            }
        }
    }

    /// Sends the queued messages, in order, giving up at a cancel or at `deadline`.
    fn send_ready(
        &mut self,
        cancelled: &AtomicBool,
        deadline: Option<Instant>,
        stats: &mut OutputStats,
        live: Option<&TaskMetrics>,
    ) -> Result<(), Stopped> {
        while let Some(message) = self.ready.pop_front() {
            stats.blocked += send_until(&self.sender, message, cancelled, deadline, live)?;
        }
        Ok(())
    }

    /// Drops what is pending and queued. Only called inside [`Data::scope`].
    fn discard(&mut self) {
        self.pending.clear();
        self.pending_bytes = 0;
        self.pending_since = None;
        self.ready.clear();
    }
}

/// When pending records are sent.
#[derive(Clone, Copy, Debug)]
pub struct FlushPolicy {
    /// A channel's pending records are sent once there are this many.
    pub batch_size: usize,
    /// ... or once the oldest has waited this long (zero: after every step).
    pub buffer_timeout: Duration,
    /// ... or once they hold about this many bytes ([`Data::size_estimate`]), so that the data
    /// in flight on a channel stays within its capacity times this (plus one record per batch).
    pub batch_bytes: usize,
}

/// What a task's outputs did, for metrics.
#[derive(Clone, Copy, Debug, Default)]
pub struct OutputStats {
    pub records_out: u64,
    pub batches_out: u64,
    /// Estimated bytes of the records written ([`Data::size_estimate`]).
    pub bytes_out: u64,
    /// Time spent waiting on full channels: backpressure from downstream.
    pub blocked: Duration,
}

/// One output edge of a task: a router and a channel per connected receiving subtask.
pub struct EdgeWriter<V> {
    router: Router<V>,
    channels: Vec<ChannelWriter<V>>,
}

impl<V: Data> EdgeWriter<V> {
    pub fn new(router: Router<V>, channels: Vec<ChannelWriter<V>>) -> Self {
        EdgeWriter { router, channels }
    }

    fn write(&mut self, record: Record<V>, size: usize, ctx: WriteContext, stats: &mut OutputStats) -> OperatorResult {
        let n = self.channels.len();
        if n == 1 {
            if let Router::Custom(_) = self.router {
                self.router.route(&record, n)?;
            }
            self.channels[0].push(record, size, ctx, stats);
            return Ok(());
        }
        match self.router.route(&record, n)? {
            Route::One(c) => self.channels[c].push(record, size, ctx, stats),
            Route::All => {
                for c in 1..n {
                    let copy = record.duplicate();
                    self.channels[c].push(copy, size, ctx, stats);
                }
                self.channels[0].push(record, size, ctx, stats);
            }
        }
        Ok(())
    }
}

/// All outputs of a task: for each port of the chain's last operator (0 = main, then side
/// outputs), the edges that consume it.
pub struct TaskOutputs<V> {
    edges: Vec<EdgeWriter<V>>,
    edges_by_port: Vec<Vec<usize>>,
    policy: FlushPolicy,
    /// The last watermark sent, so that only advancing ones go out.
    last_watermark: i64,
    idle: bool,
    /// The origin of the records being processed now (see [`TaskOutputs::set_origin`]).
    origin: Origin,
    /// The task's metrics, which show a send blocked on a full channel while it waits.
    live: Option<Arc<TaskMetrics>>,
    pub stats: OutputStats,
}

impl<V: Data> TaskOutputs<V> {
    pub fn new(edges: Vec<(u32, EdgeWriter<V>)>, policy: FlushPolicy) -> Self {
        let ports = edges.iter().map(|(p, _)| *p as usize + 1).max().unwrap_or(1);
        let mut edges_by_port = vec![Vec::new(); ports];
        let mut writers = Vec::with_capacity(edges.len());
        for (i, (port, edge)) in edges.into_iter().enumerate() {
            edges_by_port[port as usize].push(i);
            writers.push(edge);
        }
        TaskOutputs {
            edges: writers,
            edges_by_port,
            policy,
            last_watermark: i64::MIN,
            idle: false,
            origin: None,
            live: None,
            stats: OutputStats::default(),
        }
    }

    pub fn policy(&self) -> FlushPolicy {
        self.policy
    }

    /// Shows sends blocked on a full channel in `metrics` while they wait (None: not).
    pub fn show_blocked_in(&mut self, metrics: Option<Arc<TaskMetrics>>) {
        self.live = metrics;
    }

    /// Records written from now on come from records that a source handed on at `origin`
    /// (None: not from source records directly). A batch carries the origin of its oldest
    /// record, for latency metrics downstream.
    pub fn set_origin(&mut self, origin: Origin) {
        self.origin = origin;
    }

    /// How full the fullest output channel is (0 to 1; 0 without channels).
    pub fn pool_usage(&self) -> f64 {
        self.edges
            .iter()
            .flat_map(|e| e.channels.iter())
            .map(|c| match c.sender.capacity() {
                Some(cap) if cap > 0 => c.sender.len() as f64 / cap as f64,
                _ => 0.0,
            })
            .fold(0.0, f64::max)
    }

    /// The last watermark sent downstream.
    pub fn watermark(&self) -> i64 {
        self.last_watermark
    }

    /// Routes records of `port` into the pending buffers. Inside [`Data::scope`]; never blocks.
    /// Records of a port that nothing consumes are dropped here.
    pub fn write(&mut self, port: u32, records: &mut Vec<Record<V>>) -> OperatorResult {
        if !records.is_empty() && self.idle {
            self.idle = false;
            self.enqueue_all(|| Message::Idle(false));
        }
        let Some(targets) = self.edges_by_port.get(port as usize) else {
            records.clear();
            return Ok(());
        };
        let ctx = WriteContext {
            batch_bytes: self.policy.batch_bytes,
            origin: self.origin,
        };
        let stats = &mut self.stats;
        match targets.len() {
            0 => records.clear(),
            1 => {
                let edge = &mut self.edges[targets[0]];
                for record in records.drain(..) {
                    let size = record.value.size_estimate();
                    stats.bytes_out += size as u64;
                    edge.write(record, size, ctx, stats)?;
                }
            }
            _ => {
                let (last, rest) = targets.split_last().expect("two or more targets");
                for record in records.drain(..) {
                    let size = record.value.size_estimate();
                    stats.bytes_out += (size * targets.len()) as u64;
                    for &e in rest {
                        self.edges[e].write(record.duplicate(), size, ctx, stats)?;
                    }
                    self.edges[*last].write(record, size, ctx, stats)?;
                }
            }
        }
        Ok(())
    }

    fn enqueue_all(&mut self, message: impl Fn() -> Message<V>) {
        for edge in &mut self.edges {
            for channel in &mut edge.channels {
                channel.enqueue(message(), &mut self.stats);
            }
        }
    }

    /// Queues `watermark` on every channel, after the records written so far, if it is newer
    /// than the last one. Inside [`Data::scope`]; sent by the next [`TaskOutputs::flush`].
    pub fn emit_watermark(&mut self, watermark: i64) {
        if watermark > self.last_watermark {
            self.last_watermark = watermark;
            self.enqueue_all(|| Message::Watermark(watermark));
        }
    }

    /// Queues an idleness change on every channel, if it is one.
    pub fn emit_idle(&mut self, idle: bool) {
        if idle != self.idle {
            self.idle = idle;
            self.enqueue_all(|| Message::Idle(idle));
        }
    }

    /// Queues a control message on every channel, after the records written so far.
    pub fn emit_control(&mut self, message: impl Fn() -> Message<V>) {
        self.enqueue_all(message);
    }

    /// Sends queued messages, and the batches that are full or have waited long enough (all,
    /// when `force`). Outside [`Data::scope`]: this may block on a full channel.
    pub fn flush(&mut self, force: bool, cancelled: &AtomicBool) -> Result<(), Stopped> {
        let now = Instant::now();
        let policy = self.policy;
        for edge in &mut self.edges {
            for channel in &mut edge.channels {
                if force || channel.is_due(now, &policy) {
                    channel.seal(&mut self.stats);
                }
                channel.send_ready(cancelled, None, &mut self.stats, self.live.as_deref())?;
            }
        }
        Ok(())
    }

    /// Sends every record written so far and the messages queued with them, waiting on full
    /// channels until `deadline` at most (not at all once the job is cancelled): what a task
    /// that stops early produced still reaches the tasks (and the collecting iterator) that
    /// read it. Returns whether everything went out.
    pub fn flush_before_stop(&mut self, cancelled: &AtomicBool, deadline: Instant) -> bool {
        let mut all_sent = true;
        for edge in &mut self.edges {
            for channel in &mut edge.channels {
                channel.seal(&mut self.stats);
                all_sent &= channel
                    .send_ready(cancelled, Some(deadline), &mut self.stats, self.live.as_deref())
                    .is_ok();
            }
        }
        all_sent
    }

    /// The earliest time a pending batch becomes due, if any is pending.
    pub fn next_flush_deadline(&self) -> Option<Instant> {
        self.edges
            .iter()
            .flat_map(|e| e.channels.iter())
            .filter_map(|c| c.pending_since)
            .min()
            .map(|t| t + self.policy.buffer_timeout)
    }

    /// Drops every pending record and queued message. Inside [`Data::scope`], when the task stops
    /// early.
    pub fn discard(&mut self) {
        for edge in &mut self.edges {
            for channel in &mut edge.channels {
                channel.discard();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::partitioner::Partitioning;
    use crossbeam_channel::bounded;

    fn outputs(
        partitioning: Partitioning<i64>,
        receivers: usize,
        policy: FlushPolicy,
    ) -> (TaskOutputs<i64>, Vec<crossbeam_channel::Receiver<Message<i64>>>) {
        let mut channels = Vec::new();
        let mut rxs = Vec::new();
        for _ in 0..receivers {
            let (tx, rx) = bounded(4);
            channels.push(ChannelWriter::new(tx));
            rxs.push(rx);
        }
        let edge = EdgeWriter::new(Router::new(&partitioning, 0, 128), channels);
        (TaskOutputs::new(vec![(0, edge)], policy), rxs)
    }

    fn batch(values: std::ops::Range<i64>) -> Vec<Record<i64>> {
        values.map(Record::new).collect()
    }

    fn received(rx: &crossbeam_channel::Receiver<Message<i64>>) -> Vec<Vec<i64>> {
        rx.try_iter()
            .map(|m| match m {
                Message::Batch(b, _) => b.into_iter().map(|r| r.value).collect(),
                other => panic!("unexpected {other:?}"),
            })
            .collect()
    }

    #[test]
    fn full_batches_are_sent_and_partial_ones_wait_for_the_timeout() {
        let never = AtomicBool::new(false);
        let policy = FlushPolicy {
            batch_size: 4,
            buffer_timeout: Duration::from_millis(200),
            batch_bytes: usize::MAX,
        };
        let (mut out, rxs) = outputs(Partitioning::Forward, 1, policy);
        out.write(0, &mut batch(0..6)).unwrap();
        out.flush(false, &never).unwrap();
        assert_eq!(received(&rxs[0]), vec![vec![0, 1, 2, 3, 4, 5]]);
        out.write(0, &mut batch(6..8)).unwrap();
        out.flush(false, &never).unwrap();
        assert!(received(&rxs[0]).is_empty(), "a partial batch left before its timeout");
        let deadline = out.next_flush_deadline().unwrap();
        assert!(deadline > Instant::now());
        std::thread::sleep(deadline - Instant::now());
        out.flush(false, &never).unwrap();
        assert_eq!(received(&rxs[0]), vec![vec![6, 7]]);
        assert_eq!(out.next_flush_deadline(), None);
    }

    #[test]
    fn batches_are_cut_at_their_share_of_the_bytes() {
        let never = AtomicBool::new(false);
        // An i64 counts 8 bytes: a batch is cut once it holds 3 values.
        let policy = FlushPolicy {
            batch_size: 1024,
            buffer_timeout: Duration::from_secs(10),
            batch_bytes: 24,
        };
        let (mut out, rxs) = outputs(Partitioning::Forward, 1, policy);
        out.write(0, &mut batch(0..7)).unwrap();
        out.flush(false, &never).unwrap();
        assert_eq!(received(&rxs[0]), vec![vec![0, 1, 2], vec![3, 4, 5]]);
        assert_eq!(out.stats.bytes_out, 56);
        out.flush(true, &never).unwrap();
        assert_eq!(received(&rxs[0]), vec![vec![6]]);
    }

    #[test]
    fn a_stopping_task_sends_what_it_has_but_does_not_wait_once_cancelled() {
        let policy = FlushPolicy {
            batch_size: 2,
            buffer_timeout: Duration::from_secs(10),
            batch_bytes: usize::MAX,
        };
        let (mut out, rxs) = outputs(Partitioning::Forward, 1, policy);
        out.write(0, &mut batch(0..3)).unwrap();
        let never = AtomicBool::new(false);
        assert!(out.flush_before_stop(&never, Instant::now() + Duration::from_secs(5)));
        assert_eq!(received(&rxs[0]), vec![vec![0, 1, 2]]);
        // More than a channel holds (4 messages): a cancelled job's task gives up at once.
        for w in 0..5 {
            out.write(0, &mut batch(w..w + 1)).unwrap();
            out.emit_watermark(w);
        }
        let cancelled = AtomicBool::new(true);
        let started = Instant::now();
        assert!(!out.flush_before_stop(&cancelled, Instant::now() + Duration::from_secs(60)));
        assert!(started.elapsed() < Duration::from_secs(30));
        assert_eq!(rxs[0].len(), 4);
    }

    #[test]
    fn zero_timeout_flushes_after_every_step() {
        let never = AtomicBool::new(false);
        let policy = FlushPolicy {
            batch_size: 1024,
            buffer_timeout: Duration::ZERO,
            batch_bytes: usize::MAX,
        };
        let (mut out, rxs) = outputs(Partitioning::Forward, 1, policy);
        out.write(0, &mut batch(0..1)).unwrap();
        out.flush(false, &never).unwrap();
        assert_eq!(received(&rxs[0]), vec![vec![0]]);
    }

    #[test]
    fn control_messages_follow_pending_records() {
        let never = AtomicBool::new(false);
        let policy = FlushPolicy {
            batch_size: 100,
            buffer_timeout: Duration::from_secs(10),
            batch_bytes: usize::MAX,
        };
        let (mut out, rxs) = outputs(Partitioning::Rebalance, 2, policy);
        out.write(0, &mut batch(0..3)).unwrap();
        out.emit_watermark(7);
        out.emit_watermark(5);
        out.flush(false, &never).unwrap();
        let kinds: Vec<String> = rxs[0]
            .try_iter()
            .map(|m| format!("{m:?}").split('(').next().unwrap().to_string())
            .collect();
        assert_eq!(kinds, vec!["Batch", "Watermark"]);
        let second: Vec<Message<i64>> = rxs[1].try_iter().collect();
        assert!(matches!(second[0], Message::Batch(ref b, _) if b.len() == 1));
        assert!(matches!(second[1], Message::Watermark(7)));
    }

    #[test]
    fn broadcast_partitioning_copies_to_every_channel() {
        let never = AtomicBool::new(false);
        let policy = FlushPolicy {
            batch_size: 1,
            buffer_timeout: Duration::ZERO,
            batch_bytes: usize::MAX,
        };
        let (mut out, rxs) = outputs(Partitioning::Broadcast, 3, policy);
        out.write(0, &mut batch(0..2)).unwrap();
        out.flush(true, &never).unwrap();
        for rx in &rxs {
            assert_eq!(received(rx), vec![vec![0, 1]]);
        }
    }

    #[test]
    fn a_blocked_send_gives_up_when_cancelled() {
        let cancelled = AtomicBool::new(false);
        let (tx, _rx) = bounded::<Message<i64>>(1);
        send_blocking(&tx, Message::EndOfInput, &cancelled).unwrap();
        std::thread::scope(|s| {
            s.spawn(|| {
                std::thread::sleep(Duration::from_millis(60));
                cancelled.store(true, Ordering::Relaxed);
            });
            assert_eq!(send_blocking(&tx, Message::EndOfInput, &cancelled), Err(Stopped));
        });
    }

    #[test]
    fn a_send_to_a_vanished_receiver_stops() {
        let never = AtomicBool::new(false);
        let (tx, rx) = bounded::<Message<i64>>(1);
        drop(rx);
        assert_eq!(send_blocking(&tx, Message::EndOfInput, &never), Err(Stopped));
    }
}

//! The receiving side of a task: its input channels, read in arrival order, with checkpoint
//! barrier alignment.

use std::collections::VecDeque;
use std::time::Instant;

use crossbeam_channel::{Receiver, RecvTimeoutError, Select, TryRecvError};

use crate::runtime::message::{Message, Origin};
use crate::runtime::output::Stopped;
use crate::runtime::record::Record;

/// One input channel: from one sending subtask, feeding logical input `input` of the task's
/// first operator.
pub struct InputChannel<V> {
    pub receiver: Receiver<Message<V>>,
    pub input: usize,
}

/// What the gate delivers.
#[derive(Debug)]
pub enum GateEvent<V> {
    Records {
        input: usize,
        batch: Vec<Record<V>>,
        origin: Origin,
    },
    Watermark {
        channel: usize,
        watermark: i64,
    },
    /// Channel `channel` became idle (true) or active again (false).
    Idle {
        channel: usize,
        idle: bool,
    },
    /// Every channel delivered barrier `id` (or is closed): the checkpoint is taken here.
    Barrier(u64),
    EndOfChannel {
        channel: usize,
    },
    /// Nothing arrived before the deadline.
    Timeout,
}

/// How a gate treats checkpoint barriers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BarrierMode {
    /// Exactly-once: a channel that delivered barrier n is held back until every channel has.
    /// At-least-once: it is not; the barrier goes on once every channel delivered it.
    pub align: bool,
    /// Senders go on sending barriers after their end of input (a job with checkpoints, whose
    /// tasks stay until the final checkpoint): an ended channel is read until its sender is
    /// gone, and alignment waits for its barriers.
    pub after_end: bool,
}

impl Default for BarrierMode {
    fn default() -> Self {
        BarrierMode {
            align: true,
            after_end: false,
        }
    }
}

/// Reads a task's input channels. A channel that delivered a checkpoint barrier is held back
/// until every channel has (aligned checkpoints), so records after the barrier wait.
pub struct InputGate<V> {
    channels: Vec<InputChannel<V>>,
    ended: Vec<bool>,
    /// Ended and no longer read (its sender is gone, or it sends nothing after its end).
    closed: Vec<bool>,
    blocked: Vec<bool>,
    open: usize,
    aligning: Option<u64>,
    alignment_started: Option<Instant>,
    last_alignment: std::time::Duration,
    mode: BarrierMode,
    ready: VecDeque<GateEvent<V>>,
    next: usize,
}

impl<V> InputGate<V> {
    pub fn new(channels: Vec<InputChannel<V>>) -> Self {
        Self::with_barriers(channels, BarrierMode::default())
    }

    pub fn with_barriers(channels: Vec<InputChannel<V>>, mode: BarrierMode) -> Self {
        let n = channels.len();
        InputGate {
            channels,
            ended: vec![false; n],
            closed: vec![false; n],
            blocked: vec![false; n],
            open: n,
            aligning: None,
            alignment_started: None,
            last_alignment: std::time::Duration::ZERO,
            mode,
            ready: VecDeque::new(),
            next: 0,
        }
    }

    /// How long the last completed alignment held input back (from the first barrier to the
    /// last).
    pub fn last_alignment(&self) -> std::time::Duration {
        self.last_alignment
    }

    pub fn channel_count(&self) -> usize {
        self.channels.len()
    }

    /// How full the fullest input channel is (0 to 1).
    pub fn pool_usage(&self) -> f64 {
        self.channels
            .iter()
            .map(|c| match c.receiver.capacity() {
                Some(cap) if cap > 0 => c.receiver.len() as f64 / cap as f64,
                _ => 0.0,
            })
            .fold(0.0, f64::max)
    }

    /// Whether every channel has ended.
    pub fn is_finished(&self) -> bool {
        self.open == 0 && self.ready.is_empty()
    }

    /// The records already delivered and not yet read, from every channel, without waiting:
    /// what is left to read once the senders stopped early (failed or cancelled). Other
    /// messages are dropped; the gate is not read afterwards.
    pub fn drain_records(&mut self) -> Vec<Record<V>> {
        let mut records = Vec::new();
        for event in self.ready.drain(..) {
            if let GateEvent::Records { batch, .. } = event {
                records.extend(batch);
            }
        }
        for channel in &self.channels {
            while let Ok(message) = channel.receiver.try_recv() {
                if let Message::Batch(batch, _) = message {
                    records.extend(batch);
                }
            }
        }
        records
    }

    /// The next event, waiting until `deadline` at most. `Err(Stopped)` when a sender vanished
    /// without ending its channel (it failed or was cancelled).
    pub fn poll(&mut self, deadline: Instant) -> Result<GateEvent<V>, Stopped> {
        loop {
            if let Some(event) = self.ready.pop_front() {
                return Ok(event);
            }
            if !(0..self.channels.len()).any(|c| self.readable(c)) {
                return Ok(GateEvent::Timeout);
            }
            match self.receive(deadline)? {
                None => return Ok(GateEvent::Timeout),
                Some((channel, message)) => self.accept(channel, message),
            }
        }
    }

    /// Blocks until a readable channel has a message (not taking it) or `deadline` passes.
    pub fn wait(&mut self, deadline: Instant) {
        self.wait_or::<()>(deadline, None);
    }

    /// As [`InputGate::wait`], also waking when `other` has a message.
    pub fn wait_or<T>(&mut self, deadline: Instant, other: Option<&Receiver<T>>) {
        if !self.ready.is_empty() {
            return;
        }
        let readable: Vec<usize> = (0..self.channels.len()).filter(|&c| self.readable(c)).collect();
        if readable.is_empty() && other.is_none() {
            let now = Instant::now();
            if deadline > now {
                std::thread::sleep(deadline - now);
            }
            return;
        }
        let mut select = Select::new();
        for &c in &readable {
            select.recv(&self.channels[c].receiver);
        }
        if let Some(other) = other {
            select.recv(other);
        }
        let _ = select.ready_deadline(deadline);
    }

    fn readable(&self, c: usize) -> bool {
        !(self.closed[c] || self.mode.align && self.blocked[c])
    }

    /// A channel's sender is gone: normal after its end when barriers come after the end.
    fn disconnected(&mut self, c: usize) -> Result<(), Stopped> {
        if self.ended[c] {
            self.closed[c] = true;
            self.complete_alignment();
            Ok(())
        } else {
            Err(Stopped)
        }
    }

    fn receive(&mut self, deadline: Instant) -> Result<Option<(usize, Message<V>)>, Stopped> {
        let n = self.channels.len();
        // Fast path: take whatever is there, round-robin so no channel starves.
        for i in 0..n {
            let c = (self.next + i) % n;
            if !self.readable(c) {
                continue;
            }
            match self.channels[c].receiver.try_recv() {
                Ok(m) => {
                    self.next = (c + 1) % n;
                    return Ok(Some((c, m)));
                }
                Err(TryRecvError::Empty) => {}
                Err(TryRecvError::Disconnected) => {
                    self.disconnected(c)?;
                    return Ok(None);
                }
            }
        }
        let readable: Vec<usize> = (0..n).filter(|&c| self.readable(c)).collect();
        if readable.is_empty() {
            return Ok(None);
        }
        if readable.len() == 1 {
            let c = readable[0];
            return match self.channels[c].receiver.recv_deadline(deadline) {
                Ok(m) => Ok(Some((c, m))),
                Err(RecvTimeoutError::Timeout) => Ok(None),
                Err(RecvTimeoutError::Disconnected) => self.disconnected(c).map(|()| None),
            };
        }
        let mut select = Select::new();
        for &c in &readable {
            select.recv(&self.channels[c].receiver);
        }
        let op = match select.select_deadline(deadline) {
            Ok(op) => op,
            Err(_) => return Ok(None),
        };
        let c = readable[op.index()];
        match op.recv(&self.channels[c].receiver) {
            Ok(m) => Ok(Some((c, m))),
            Err(_) => self.disconnected(c).map(|()| None),
        }
    }

    fn accept(&mut self, channel: usize, message: Message<V>) {
        match message {
            Message::Batch(batch, origin) => self.ready.push_back(GateEvent::Records {
                input: self.channels[channel].input,
                batch,
                origin,
            }),
            Message::Watermark(watermark) => self.ready.push_back(GateEvent::Watermark { channel, watermark }),
            Message::Idle(idle) => self.ready.push_back(GateEvent::Idle { channel, idle }),
            Message::Barrier(id) => {
                self.blocked[channel] = true;
                if self.aligning.is_none() {
                    self.alignment_started = Some(Instant::now());
                }
                self.aligning = Some(id);
                self.complete_alignment();
            }
            Message::EndOfInput => {
                if !self.ended[channel] {
                    self.ended[channel] = true;
                    self.closed[channel] = !self.mode.after_end;
                    self.open -= 1;
                    self.ready.push_back(GateEvent::EndOfChannel { channel });
                }
                self.complete_alignment();
            }
        }
    }

    fn complete_alignment(&mut self) {
        let Some(id) = self.aligning else { return };
        let aligned = (0..self.channels.len()).all(|c| self.closed[c] || self.blocked[c]);
        if aligned {
            self.blocked.iter_mut().for_each(|b| *b = false);
            self.aligning = None;
            self.last_alignment = self
                .alignment_started
                .take()
                .map_or(Default::default(), |t| t.elapsed());
            self.ready.push_back(GateEvent::Barrier(id));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossbeam_channel::{bounded, Sender};
    use std::time::Duration;

    fn gate(n: usize) -> (InputGate<i64>, Vec<Sender<Message<i64>>>) {
        let mut channels = Vec::new();
        let mut senders = Vec::new();
        for i in 0..n {
            let (tx, rx) = bounded(16);
            channels.push(InputChannel {
                receiver: rx,
                input: i % 2,
            });
            senders.push(tx);
        }
        (InputGate::new(channels), senders)
    }

    fn soon() -> Instant {
        Instant::now() + Duration::from_millis(20)
    }

    fn values(event: GateEvent<i64>) -> Vec<i64> {
        match event {
            GateEvent::Records { batch, .. } => batch.into_iter().map(|r| r.value).collect(),
            other => panic!("expected records, got {other:?}"),
        }
    }

    #[test]
    fn records_carry_their_logical_input() {
        let (mut g, tx) = gate(2);
        tx[1].send(Message::Batch(vec![Record::new(5)], None)).unwrap();
        match g.poll(soon()).unwrap() {
            GateEvent::Records { input, batch, .. } => {
                assert_eq!(input, 1);
                assert_eq!(batch[0].value, 5);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(g.poll(soon()).unwrap(), GateEvent::Timeout));
    }

    #[test]
    fn barrier_alignment_holds_back_channels_that_delivered_it() {
        let (mut g, tx) = gate(2);
        tx[0].send(Message::Barrier(1)).unwrap();
        tx[0].send(Message::Batch(vec![Record::new(100)], None)).unwrap();
        tx[1].send(Message::Batch(vec![Record::new(1)], None)).unwrap();
        // Channel 0's record after the barrier must wait; channel 1's record before it flows.
        assert_eq!(values(g.poll(soon()).unwrap()), vec![1]);
        assert!(matches!(g.poll(soon()).unwrap(), GateEvent::Timeout));
        tx[1].send(Message::Barrier(1)).unwrap();
        assert!(matches!(g.poll(soon()).unwrap(), GateEvent::Barrier(1)));
        assert_eq!(values(g.poll(soon()).unwrap()), vec![100]);
    }

    #[test]
    fn an_ended_channel_does_not_block_alignment() {
        let (mut g, tx) = gate(2);
        tx[0].send(Message::Barrier(3)).unwrap();
        tx[1].send(Message::EndOfInput).unwrap();
        let mut events = Vec::new();
        for _ in 0..2 {
            events.push(format!("{:?}", g.poll(soon()).unwrap()));
        }
        assert!(events.contains(&"Barrier(3)".to_string()), "{events:?}");
        assert!(!g.is_finished());
        tx[0].send(Message::EndOfInput).unwrap();
        assert!(matches!(
            g.poll(soon()).unwrap(),
            GateEvent::EndOfChannel { channel: 0 }
        ));
        assert!(g.is_finished());
    }

    #[test]
    fn a_vanished_sender_stops_the_gate() {
        let (mut g, mut tx) = gate(1);
        drop(tx.pop());
        assert_eq!(g.poll(soon()).err(), Some(Stopped));
    }

    #[test]
    fn waits_until_the_deadline_for_any_channel() {
        let (mut g, tx) = gate(3);
        let sender = tx[2].clone();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(30));
            sender.send(Message::Watermark(9)).unwrap();
        });
        let event = g.poll(Instant::now() + Duration::from_secs(5)).unwrap();
        assert!(matches!(
            event,
            GateEvent::Watermark {
                channel: 2,
                watermark: 9
            }
        ));
        t.join().unwrap();
    }

    fn checkpoint_gate(n: usize, align: bool) -> (InputGate<i64>, Vec<Sender<Message<i64>>>) {
        let (g, tx) = gate(n);
        let channels = g.channels;
        (
            InputGate::with_barriers(channels, BarrierMode { align, after_end: true }),
            tx,
        )
    }

    #[test]
    fn barriers_after_the_end_of_input_are_aligned() {
        let (mut g, mut tx) = checkpoint_gate(2, true);
        tx[0].send(Message::EndOfInput).unwrap();
        tx[1].send(Message::EndOfInput).unwrap();
        assert!(matches!(g.poll(soon()).unwrap(), GateEvent::EndOfChannel { .. }));
        assert!(matches!(g.poll(soon()).unwrap(), GateEvent::EndOfChannel { .. }));
        assert!(g.is_finished());
        tx[0].send(Message::Barrier(7)).unwrap();
        assert!(
            matches!(g.poll(soon()).unwrap(), GateEvent::Timeout),
            "waits for channel 1"
        );
        tx[1].send(Message::Barrier(7)).unwrap();
        assert!(matches!(g.poll(soon()).unwrap(), GateEvent::Barrier(7)));
        // Senders that go after their end are no failure.
        drop(tx.pop());
        drop(tx.pop());
        assert!(matches!(g.poll(soon()).unwrap(), GateEvent::Timeout));
    }

    #[test]
    fn at_least_once_does_not_hold_back_channels() {
        let (mut g, tx) = checkpoint_gate(2, false);
        tx[0].send(Message::Barrier(1)).unwrap();
        tx[0].send(Message::Batch(vec![Record::new(100)], None)).unwrap();
        assert_eq!(values(g.poll(soon()).unwrap()), vec![100]);
        tx[1].send(Message::Barrier(1)).unwrap();
        assert!(matches!(g.poll(soon()).unwrap(), GateEvent::Barrier(1)));
    }
}

//! `from_iterable`: whatever a Python iterator (a generator, a file, a queue-reading loop, ...)
//! yields, bounded or not (parallelism 1).
//!
//! The iterator is read on a thread of its own, ahead of the task by a bounded queue (in items
//! and in bytes). So a call that blocks inside the iterator (`queue.get()`, a socket read)
//! never holds back the records read before it, and never keeps the job from stopping: the task
//! waits on the queue, not in the user's code. When the job stops before the iterator's end,
//! the reader stops after the call in progress returns (an interrupt ends Python code that does
//! not return). A job that stops before it delivered all it read (a failure, a cancel, a
//! `limit`) marks its iterators spent ([`mark_spent`]), so that a later `from_iterable` of the
//! same iterator is refused with a message saying why.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TryRecvError, TrySendError};
use pyo3::prelude::*;
use pyo3::types::PyIterator;

use crate::bindings::interrupt::interrupt_thread;
use crate::bindings::value::{size_of_value, PyValue, CONTAINER_DEPTH};
use crate::runtime::job_handle::TASK_STACK_BYTES;
use crate::runtime::operator::{OperatorError, OperatorResult, Output, Source, SourceStatus, TaskInfo};
use crate::runtime::record::Record;

/// Items read ahead of the task at most.
const READ_AHEAD: usize = 1024;
/// How often a reader with a full queue looks again.
const FULL_RETRY: Duration = Duration::from_micros(500);
/// How long a stopping source gives its reader to end before interrupting it.
const READER_GRACE: Duration = Duration::from_millis(200);

/// What the reader hands the task.
enum Item {
    /// A value and its estimated size in bytes.
    Value(Py<PyAny>, usize),
    /// The iterator raised.
    Failed(PyErr),
    /// The iterator ended.
    End,
}

/// What the reader and the source share.
struct Shared {
    stop: AtomicBool,
    /// Estimated bytes of the values in the queue.
    queued_bytes: AtomicUsize,
    /// The reader's Python thread id, once it runs (0 before).
    thread_id: AtomicU64,
    /// Set when the reader's loop has ended.
    done: AtomicBool,
}

pub struct IterableSource {
    /// Handed to the reader when the source opens.
    iterator: Py<PyIterator>,
    items: Option<Receiver<Item>>,
    shared: Arc<Shared>,
    /// Bytes of values in the queue and in one batch, at most (one value always fits).
    batch_bytes: usize,
    ended: bool,
}

impl IterableSource {
    pub fn new(iterator: Py<PyIterator>) -> Self {
        IterableSource {
            iterator,
            items: None,
            shared: Arc::new(Shared {
                stop: AtomicBool::new(false),
                queued_bytes: AtomicUsize::new(0),
                thread_id: AtomicU64::new(0),
                done: AtomicBool::new(false),
            }),
            batch_bytes: usize::MAX,
            ended: false,
        }
    }

    /// Stops the reader: at once if it is waiting for room, after the call in progress if it is
    /// in the iterator, by an interrupt if that call does not return soon.
    fn stop_reader(&mut self, py: Python<'_>) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Values still queued go now, with the interpreter held.
        drop(self.items.take());
        let shared = &self.shared;
        let until = Instant::now() + READER_GRACE;
        py.detach(|| {
            while !shared.done.load(Ordering::SeqCst) && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        let id = shared.thread_id.load(Ordering::SeqCst);
        if !shared.done.load(Ordering::SeqCst) && id != 0 {
            interrupt_thread(py, id);
        }
    }
}

impl Source<PyValue> for IterableSource {
    fn open(&mut self, info: &TaskInfo) -> OperatorResult {
        self.batch_bytes = info.batch_bytes;
        let (sender, receiver) = crossbeam_channel::bounded(READ_AHEAD);
        let iterator = Python::attach(|py| self.iterator.clone_ref(py));
        let shared = Arc::clone(&self.shared);
        let budget = info.batch_bytes;
        std::thread::Builder::new()
            .name(format!("ferroflow {} reader", info.task_name))
            .stack_size(TASK_STACK_BYTES)
            .spawn(move || read(iterator, sender, shared, budget))
            .map_err(|e| OperatorError::new(format!("could not start the thread that reads the iterable: {e}")))?;
        self.items = Some(receiver);
        Ok(())
    }

    fn poll_batch(&mut self, max: usize, deadline: Instant, out: &mut Output<PyValue>) -> OperatorResult<SourceStatus> {
        let Some(items) = &self.items else {
            return Ok(SourceStatus::Exhausted);
        };
        if self.ended {
            return Ok(SourceStatus::Exhausted);
        }
        Python::attach(|py| {
            // The first item may be long in coming: wait for it without the interpreter.
            let first = match items.try_recv() {
                Ok(item) => item,
                Err(TryRecvError::Empty) => match py.detach(|| items.recv_deadline(deadline)) {
                    Ok(item) => item,
                    Err(RecvTimeoutError::Timeout) => return Ok(SourceStatus::MoreLater),
                    Err(RecvTimeoutError::Disconnected) => return Err(reader_vanished()),
                },
                Err(TryRecvError::Disconnected) => return Err(reader_vanished()),
            };
            let (mut count, mut bytes) = (0usize, 0usize);
            let mut item = Some(first);
            while let Some(next) = item.take() {
                match next {
                    Item::Value(value, size) => {
                        self.shared.queued_bytes.fetch_sub(size, Ordering::SeqCst);
                        out.emit(Record::new(PyValue(value)));
                        count += 1;
                        bytes = bytes.saturating_add(size);
                    }
                    Item::Failed(error) => {
                        self.ended = true;
                        return Err(OperatorError::new(error));
                    }
                    Item::End => {
                        self.ended = true;
                        return Ok(SourceStatus::Exhausted);
                    }
                }
                if count >= max || bytes >= self.batch_bytes {
                    return Ok(SourceStatus::More);
                }
                item = items.try_recv().ok();
            }
            // The reader is behind: what came goes on now rather than at the buffer timeout.
            Ok(SourceStatus::MoreLater)
        })
    }

    fn close(&mut self) -> OperatorResult {
        if self.items.is_some() {
            Python::attach(|py| self.stop_reader(py));
        }
        Ok(())
    }
}

/// Marks the iterators of `from_iterable` sources spent: their job stopped before it delivered
/// all it read from them (see `ferroflow.datastream._iterables`).
pub fn mark_spent(py: Python<'_>, iterators: &[Py<PyAny>]) -> PyResult<()> {
    if iterators.is_empty() {
        return Ok(());
    }
    let mark = py.import("ferroflow.datastream._iterables")?.getattr("mark_spent")?;
    for iterator in iterators {
        mark.call1((iterator.bind(py),))?;
    }
    Ok(())
}

fn reader_vanished() -> OperatorError {
    OperatorError::new("internal error in ferroflow: the thread reading the iterable ended early")
}

/// The reader thread: takes items from the iterator and queues them, within `budget` bytes
/// (one item always fits), until the iterator ends or raises, or the source stops.
fn read(iterator: Py<PyIterator>, items: Sender<Item>, shared: Arc<Shared>, budget: usize) {
    Python::attach(|py| {
        if let Ok(id) = py
            .import("_thread")
            .and_then(|t| t.call_method0("get_ident"))
            .and_then(|id| id.extract::<u64>())
        {
            shared.thread_id.store(id, Ordering::SeqCst);
        }
        let mut iterator = iterator.into_bound(py);
        loop {
            if shared.stop.load(Ordering::SeqCst) {
                break;
            }
            let next = match iterator.next() {
                None => Item::End,
                Some(Ok(value)) => {
                    let size = size_of_value(&value, CONTAINER_DEPTH);
                    Item::Value(value.unbind(), size)
                }
                Some(Err(error)) => Item::Failed(error),
            };
            let last = !matches!(next, Item::Value(..));
            if !queue(py, &items, next, &shared, budget) || last {
                break;
            }
        }
        shared.done.store(true, Ordering::SeqCst);
    });
}

/// Queues `item` once there is room; false when the source stopped.
fn queue(py: Python<'_>, items: &Sender<Item>, item: Item, shared: &Shared, budget: usize) -> bool {
    let size = match &item {
        Item::Value(_, size) => *size,
        _ => 0,
    };
    let mut item = item;
    loop {
        if shared.stop.load(Ordering::SeqCst) {
            return false;
        }
        let queued = shared.queued_bytes.load(Ordering::SeqCst);
        if queued == 0 || queued.saturating_add(size) <= budget {
            // Counted before it is sent, so that the task never takes away more than was added.
            shared.queued_bytes.fetch_add(size, Ordering::SeqCst);
            match items.try_send(item) {
                Ok(()) => return true,
                Err(TrySendError::Full(back)) => {
                    shared.queued_bytes.fetch_sub(size, Ordering::SeqCst);
                    item = back;
                }
                Err(TrySendError::Disconnected(_)) => return false,
            }
        }
        py.detach(|| std::thread::sleep(FULL_RETRY));
    }
}

//! End-to-end tests of the runtime with plain Rust values: whole jobs on threads and channels.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::graph::stream_graph::{JobConfig, NodeKind, StreamEdge, StreamGraph};
use crate::runtime::job::{DeployedJob, JobError};
use crate::runtime::key::Key;
use crate::runtime::key_group::{key_group_for_hash, subtask_for_key_group};
use crate::runtime::operator::{Operator, OperatorError, OperatorResult, Output, Source, SourceStatus, TaskInfo};
use crate::runtime::output::FlushPolicy;
use crate::runtime::partitioner::Partitioning;
use crate::runtime::record::Record;
use crate::runtime::task::TaskFailure;

/// `0..count` split over the subtasks; endless when `count` is None.
struct Numbers {
    next: i64,
    end: Option<i64>,
}

impl Source<i64> for Numbers {
    fn poll_batch(&mut self, max: usize, _: Instant, out: &mut Output<i64>) -> OperatorResult<SourceStatus> {
        for _ in 0..max {
            if self.end.is_some_and(|e| self.next >= e) {
                return Ok(SourceStatus::Exhausted);
            }
            out.emit(Record::new(self.next));
            self.next += 1;
        }
        Ok(SourceStatus::More)
    }
}

fn numbers(count: Option<i64>) -> NodeKind<i64> {
    NodeKind::Source(Box::new(move |info: &TaskInfo| {
        let (p, i) = (info.parallelism as i64, info.subtask_index as i64);
        let (next, end) = match count {
            Some(n) => (n * i / p, Some(n * (i + 1) / p)),
            None => (0, None),
        };
        Ok(Box::new(Numbers { next, end }) as Box<dyn Source<i64>>)
    }))
}

/// Adds one; fails at `fail_at` if set; keys records by `value % keys` if set.
struct AddOne {
    fail_at: Option<i64>,
    keys: Option<i64>,
}

impl Operator<i64> for AddOne {
    fn process_batch(&mut self, _: usize, batch: &mut Vec<Record<i64>>, out: &mut Output<i64>) -> OperatorResult {
        for (i, r) in batch.drain(..).enumerate() {
            if Some(r.value) == self.fail_at {
                return Err(OperatorError::at_record(format!("failed at {}", r.value), i));
            }
            let mut next = Record::new(r.value + 1);
            next.key = self.keys.map(|k| Key::Int(next.value % k));
            out.emit(next);
        }
        Ok(())
    }
}

fn add_one(fail_at: Option<i64>, keys: Option<i64>) -> NodeKind<i64> {
    NodeKind::Operator(Box::new(move |_: &TaskInfo| {
        Ok(Box::new(AddOne { fail_at, keys }) as Box<dyn Operator<i64>>)
    }))
}

/// What a sink subtask saw: (subtask, value) pairs, the watermarks, and whether it finished.
#[derive(Default)]
struct Seen {
    values: Vec<(usize, i64, Option<Key>)>,
    watermarks: Vec<(usize, i64)>,
    finished: usize,
}

struct Collect {
    subtask: usize,
    seen: Arc<Mutex<Seen>>,
    delay: Duration,
}

impl Operator<i64> for Collect {
    fn open(&mut self, info: &TaskInfo) -> OperatorResult {
        self.subtask = info.subtask_index;
        Ok(())
    }

    fn process_batch(&mut self, _: usize, batch: &mut Vec<Record<i64>>, _: &mut Output<i64>) -> OperatorResult {
        std::thread::sleep(self.delay);
        let mut seen = self.seen.lock().unwrap();
        for r in batch.drain(..) {
            seen.values.push((self.subtask, r.value, r.key));
        }
        Ok(())
    }

    fn on_watermark(&mut self, watermark: i64, _: &mut Output<i64>) -> OperatorResult<Option<i64>> {
        self.seen.lock().unwrap().watermarks.push((self.subtask, watermark));
        Ok(Some(watermark))
    }

    fn finish(&mut self, _: &mut Output<i64>) -> OperatorResult {
        self.seen.lock().unwrap().finished += 1;
        Ok(())
    }
}

fn collect(seen: &Arc<Mutex<Seen>>, delay: Duration) -> NodeKind<i64> {
    let seen = Arc::clone(seen);
    NodeKind::Sink(Box::new(move |_: &TaskInfo| {
        Ok(Box::new(Collect {
            subtask: 0,
            seen: Arc::clone(&seen),
            delay,
        }) as Box<dyn Operator<i64>>)
    }))
}

fn graph(capacity: usize) -> StreamGraph<i64> {
    StreamGraph::new(JobConfig {
        name: "test".into(),
        max_parallelism: 128,
        chaining_enabled: true,
        flush: FlushPolicy {
            batch_size: 64,
            buffer_timeout: Duration::from_millis(5),
            batch_bytes: usize::MAX,
        },
        channel_capacity: capacity,
        clock: crate::time::clock::Clock::System,
        cancellation_timeout: None,
        metrics: Default::default(),
    })
}

fn edge(source: usize, partitioning: Partitioning<i64>) -> Vec<StreamEdge<i64>> {
    vec![StreamEdge {
        source,
        port: 0,
        input: 0,
        partitioning,
    }]
}

#[test]
fn every_record_arrives_once_across_a_rebalance() {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let mut g = graph(4);
    let s = g.add_node("Numbers", 2, numbers(Some(10_000)), vec![]).unwrap();
    let m = g
        .add_node("AddOne", 3, add_one(None, None), edge(s, Partitioning::Rebalance))
        .unwrap();
    g.add_node(
        "Collect",
        3,
        collect(&seen, Duration::ZERO),
        edge(m, Partitioning::Forward),
    )
    .unwrap();
    let summary = DeployedJob::deploy(&g, &Default::default())
        .unwrap()
        .start()
        .join()
        .unwrap();
    let seen = seen.lock().unwrap();
    let mut values: Vec<i64> = seen.values.iter().map(|v| v.1).collect();
    values.sort_unstable();
    assert_eq!(values, (1..=10_000).collect::<Vec<_>>());
    let subtasks: HashSet<usize> = seen.values.iter().map(|v| v.0).collect();
    assert_eq!(subtasks.len(), 3, "rebalance reached every subtask");
    assert_eq!(seen.finished, 3);
    // The final watermark reaches every sink subtask exactly once.
    let mut maxes: Vec<usize> = seen
        .watermarks
        .iter()
        .filter(|w| w.1 == i64::MAX)
        .map(|w| w.0)
        .collect();
    maxes.sort_unstable();
    assert_eq!(maxes, vec![0, 1, 2]);
    assert_eq!(
        summary.tasks.len(),
        2 + 3,
        "source tasks, then the chained AddOne -> Collect tasks"
    );
}

#[test]
fn keyed_exchange_sends_each_key_to_its_key_group_owner() {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let mut g = graph(4);
    let s = g.add_node("Numbers", 2, numbers(Some(5_000)), vec![]).unwrap();
    let k = g
        .add_node("KeyBy", 2, add_one(None, Some(97)), edge(s, Partitioning::Forward))
        .unwrap();
    g.add_node(
        "Collect",
        3,
        collect(&seen, Duration::ZERO),
        edge(k, Partitioning::Keyed),
    )
    .unwrap();
    DeployedJob::deploy(&g, &Default::default())
        .unwrap()
        .start()
        .join()
        .unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(seen.values.len(), 5_000);
    let mut owner: HashMap<Key, usize> = HashMap::new();
    for (subtask, _, key) in &seen.values {
        let key = key.clone().expect("records keep their key across the exchange");
        let expected = subtask_for_key_group(key_group_for_hash(key.stable_hash(), 128), 3, 128);
        assert_eq!(*subtask, expected);
        assert_eq!(*owner.entry(key).or_insert(*subtask), *subtask);
    }
    assert_eq!(owner.len(), 97);
}

#[test]
fn a_failing_operator_stops_the_job_and_names_itself() {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let mut g = graph(2);
    let s = g.add_node("Numbers", 2, numbers(None), vec![]).unwrap();
    let m = g
        .add_node("Boom", 2, add_one(Some(3_000), None), edge(s, Partitioning::Rebalance))
        .unwrap();
    g.add_node(
        "Collect",
        2,
        collect(&seen, Duration::ZERO),
        edge(m, Partitioning::Forward),
    )
    .unwrap();
    let started = Instant::now();
    let err = DeployedJob::deploy(&g, &Default::default())
        .unwrap()
        .start()
        .join()
        .expect_err("the job fails");
    assert!(started.elapsed() < Duration::from_secs(20));
    match err {
        JobError::Failed(TaskFailure::Operator {
            operator,
            error,
            record_index,
            ..
        }) => {
            assert_eq!(operator, "Boom");
            assert_eq!(error.to_string(), "failed at 3000");
            assert!(record_index.is_some());
        }
        other => panic!("unexpected {other:?}"),
    }
}

/// Panics at the first record (a bug in an operator).
struct Panics;

impl Operator<i64> for Panics {
    fn process_batch(&mut self, _: usize, _: &mut Vec<Record<i64>>, _: &mut Output<i64>) -> OperatorResult {
        panic!("broken invariant");
    }
}

#[test]
fn a_panicking_task_fails_the_job_instead_of_hanging_it() {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let mut g = graph(2);
    let s = g.add_node("Numbers", 1, numbers(None), vec![]).unwrap();
    let m = g
        .add_node(
            "Buggy",
            2,
            NodeKind::Operator(Box::new(|_: &TaskInfo| Ok(Box::new(Panics) as Box<dyn Operator<i64>>))),
            edge(s, Partitioning::Rebalance),
        )
        .unwrap();
    g.add_node(
        "Collect",
        2,
        collect(&seen, Duration::ZERO),
        edge(m, Partitioning::Forward),
    )
    .unwrap();
    let err = DeployedJob::deploy(&g, &Default::default())
        .unwrap()
        .start()
        .join()
        .expect_err("the job fails");
    match err {
        JobError::Failed(TaskFailure::Operator { error, .. }) => {
            assert!(
                error.to_string().contains("(task panicked): broken invariant"),
                "{error}"
            );
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn cancel_stops_an_endless_job() {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let mut g = graph(2);
    let s = g.add_node("Numbers", 1, numbers(None), vec![]).unwrap();
    g.add_node(
        "Collect",
        2,
        collect(&seen, Duration::from_millis(1)),
        edge(s, Partitioning::Rebalance),
    )
    .unwrap();
    let job = DeployedJob::deploy(&g, &Default::default()).unwrap().start();
    assert!(!job.wait_timeout(Duration::from_millis(100)));
    job.cancel();
    assert!(job.wait_timeout(Duration::from_secs(10)), "tasks stop after a cancel");
    assert!(matches!(job.join(), Err(JobError::Cancelled)));
    assert!(!seen.lock().unwrap().values.is_empty());
}

#[test]
fn a_slow_consumer_backpressures_the_source() {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let mut g = graph(1);
    let s = g.add_node("Numbers", 1, numbers(Some(2_000)), vec![]).unwrap();
    g.node_mut(s).chaining = crate::graph::stream_graph::Chaining::Never;
    g.add_node(
        "Slow",
        1,
        collect(&seen, Duration::from_millis(2)),
        edge(s, Partitioning::Forward),
    )
    .unwrap();
    let summary = DeployedJob::deploy(&g, &Default::default())
        .unwrap()
        .start()
        .join()
        .unwrap();
    let source = summary.tasks.iter().find(|t| t.task_name == "Numbers").unwrap();
    assert!(
        source.output.blocked > Duration::from_millis(5),
        "blocked {:?}",
        source.output.blocked
    );
    assert_eq!(seen.lock().unwrap().values.len(), 2_000);
}

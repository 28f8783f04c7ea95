//! End-to-end checkpoints with plain Rust values: a source that records its position, a keyed
//! running sum whose state is snapshotted, and a two-phase-commit sink; a job that fails
//! mid-way and a second run restored from its latest checkpoint commit exactly what a run
//! without failure commits.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::checkpoint::coordinator::CheckpointHistory;
use crate::checkpoint::metadata::{find_latest, CheckpointMetadata};
use crate::checkpoint::options::{CheckpointOptions, CheckpointingMode};
use crate::checkpoint::positions::{restore_positions, write_positions};
use crate::checkpoint::restore::RestorePlan;
use crate::checkpoint::{SnapshotContext, SnapshotStats};
use crate::graph::stream_graph::{JobConfig, NodeKind, StreamEdge, StreamGraph};
use crate::runtime::job::{CheckpointSetup, DeployedJob, JobError, RunSetup};
use crate::runtime::key::Key;
use crate::runtime::key_group::{key_group_for_hash, key_group_range};
use crate::runtime::operator::{Operator, OperatorError, OperatorResult, Output, Source, SourceStatus, TaskInfo};
use crate::runtime::output::FlushPolicy;
use crate::runtime::partitioner::Partitioning;
use crate::runtime::record::Record;

const N: i64 = 3000;
const KEYS: i64 = 7;

/// `0..N` split over the subtasks, a few records per poll, position in checkpoints.
struct Slow {
    next: i64,
    end: i64,
}

impl Source<i64> for Slow {
    fn poll_batch(&mut self, _max: usize, _: Instant, out: &mut Output<i64>) -> OperatorResult<SourceStatus> {
        std::thread::sleep(Duration::from_micros(300));
        for _ in 0..10 {
            if self.next >= self.end {
                return Ok(SourceStatus::Exhausted);
            }
            let mut r = Record::new(self.next);
            r.key = Some(Key::Int(self.next % KEYS));
            out.emit(r);
            self.next += 1;
        }
        Ok(SourceStatus::More)
    }

    fn snapshot_state(&mut self, ctx: &SnapshotContext<'_>) -> OperatorResult<SnapshotStats> {
        let mut p = self.next.to_le_bytes().to_vec();
        p.extend_from_slice(&self.end.to_le_bytes());
        write_positions(ctx.directory, vec![p]).map_err(|e| OperatorError::new(e.to_string()))
    }
}

fn slow_source() -> NodeKind<i64> {
    NodeKind::Source(Box::new(|info: &TaskInfo| {
        let (p, i) = (info.parallelism as i64, info.subtask_index as i64);
        let (mut next, mut end) = (N * i / p, N * (i + 1) / p);
        if let Some(positions) = restore_positions(info).map_err(|e| OperatorError::new(e.to_string()))? {
            // Same parallelism in these tests: one position each.
            let pos = &positions[0];
            next = i64::from_le_bytes(pos[..8].try_into().unwrap());
            end = i64::from_le_bytes(pos[8..].try_into().unwrap());
        }
        Ok(Box::new(Slow { next, end }) as Box<dyn Source<i64>>)
    }))
}

/// Running sum per key; passes each record on and emits the final sums (as `-(sum * 10 +
/// key)`) at the end of input. Fails at `fail_at` while armed.
struct Sum {
    sums: HashMap<i64, i64>,
    fail_at: i64,
    armed: Arc<AtomicBool>,
}

impl Operator<i64> for Sum {
    fn process_batch(&mut self, _: usize, batch: &mut Vec<Record<i64>>, out: &mut Output<i64>) -> OperatorResult {
        for (i, r) in batch.drain(..).enumerate() {
            if r.value == self.fail_at && self.armed.swap(false, Ordering::SeqCst) {
                return Err(OperatorError::at_record("injected failure", i));
            }
            *self.sums.entry(r.value % KEYS).or_default() += r.value;
            out.emit(Record::new(r.value));
        }
        Ok(())
    }

    fn finish(&mut self, out: &mut Output<i64>) -> OperatorResult {
        for (k, s) in &self.sums {
            out.emit(Record::new(-(s * 10 + k)));
        }
        Ok(())
    }

    fn snapshot_state(&mut self, ctx: &SnapshotContext<'_>) -> OperatorResult<SnapshotStats> {
        let text: String = self.sums.iter().map(|(k, v)| format!("{k} {v}\n")).collect();
        std::fs::write(ctx.directory.join("sums"), &text).map_err(|e| OperatorError::new(e.to_string()))?;
        Ok(SnapshotStats::full(text.len() as u64))
    }
}

fn sum(armed: &Arc<AtomicBool>, fail_at: i64) -> NodeKind<i64> {
    let armed = Arc::clone(armed);
    NodeKind::Operator(Box::new(move |info: &TaskInfo| {
        let mut sums = HashMap::new();
        if let Some(restore) = &info.restore {
            let mine = key_group_range(info.subtask_index, info.parallelism, info.max_parallelism);
            for dir in &restore.directories {
                let text = std::fs::read_to_string(dir.join("sums")).unwrap_or_default();
                for line in text.lines() {
                    let mut parts = line.split(' ');
                    let k: i64 = parts.next().unwrap().parse().unwrap();
                    let v: i64 = parts.next().unwrap().parse().unwrap();
                    if mine.contains(&key_group_for_hash(Key::Int(k).stable_hash(), info.max_parallelism)) {
                        sums.insert(k, v);
                    }
                }
            }
        }
        Ok(Box::new(Sum {
            sums,
            fail_at,
            armed: Arc::clone(&armed),
        }) as Box<dyn Operator<i64>>)
    }))
}

/// What the sinks made visible, and how often each checkpoint's batch was committed.
#[derive(Default)]
struct Committed {
    values: Vec<i64>,
    /// (subtask, checkpoint) batches committed.
    batches: BTreeSet<(usize, u64)>,
}

/// A two-phase-commit sink: records since the last barrier are pending; at a barrier they are
/// staged under that checkpoint (and in the snapshot); a completed checkpoint commits what is
/// staged up to it, once.
struct TwoPhase {
    subtask: usize,
    pending: Vec<i64>,
    staged: BTreeMap<u64, Vec<i64>>,
    committed: Arc<Mutex<Committed>>,
}

impl TwoPhase {
    fn commit_up_to(&mut self, id: u64) {
        let mut c = self.committed.lock().unwrap();
        let ready: Vec<u64> = self.staged.range(..=id).map(|(k, _)| *k).collect();
        for k in ready {
            let values = self.staged.remove(&k).unwrap_or_default();
            if c.batches.insert((self.subtask, k)) {
                c.values.extend(values);
            }
        }
    }
}

impl Operator<i64> for TwoPhase {
    fn process_batch(&mut self, _: usize, batch: &mut Vec<Record<i64>>, _: &mut Output<i64>) -> OperatorResult {
        self.pending.extend(batch.drain(..).map(|r| r.value));
        Ok(())
    }

    fn snapshot_state(&mut self, ctx: &SnapshotContext<'_>) -> OperatorResult<SnapshotStats> {
        let pending = std::mem::take(&mut self.pending);
        self.staged.insert(ctx.checkpoint_id, pending);
        let text: String = self
            .staged
            .iter()
            .flat_map(|(id, vs)| vs.iter().map(move |v| format!("{id} {v}\n")))
            .collect();
        std::fs::write(ctx.directory.join("staged"), &text).map_err(|e| OperatorError::new(e.to_string()))?;
        Ok(SnapshotStats::full(text.len() as u64))
    }

    fn notify_checkpoint_complete(&mut self, id: u64) -> OperatorResult {
        self.commit_up_to(id);
        Ok(())
    }
}

fn two_phase(committed: &Arc<Mutex<Committed>>) -> NodeKind<i64> {
    let committed = Arc::clone(committed);
    NodeKind::Sink(Box::new(move |info: &TaskInfo| {
        let mut sink = TwoPhase {
            subtask: info.subtask_index,
            pending: Vec::new(),
            staged: BTreeMap::new(),
            committed: Arc::clone(&committed),
        };
        if let Some(restore) = &info.restore {
            // Same parallelism: this subtask's own staged batches, all covered by the
            // checkpoint restored from, so they are committed now (idempotently).
            let text = std::fs::read_to_string(restore.directories[info.subtask_index].join("staged")).unwrap();
            for line in text.lines() {
                let mut parts = line.split(' ');
                let id: u64 = parts.next().unwrap().parse().unwrap();
                let v: i64 = parts.next().unwrap().parse().unwrap();
                sink.staged.entry(id).or_default().push(v);
            }
            sink.commit_up_to(restore.checkpoint_id);
        }
        Ok(Box::new(sink) as Box<dyn Operator<i64>>)
    }))
}

fn job(armed: &Arc<AtomicBool>, committed: &Arc<Mutex<Committed>>) -> StreamGraph<i64> {
    let mut g = StreamGraph::new(JobConfig {
        name: "checkpointed".into(),
        max_parallelism: 128,
        chaining_enabled: true,
        flush: FlushPolicy {
            batch_size: 64,
            buffer_timeout: Duration::from_millis(2),
            batch_bytes: usize::MAX,
        },
        channel_capacity: 4,
        clock: crate::time::clock::Clock::System,
        cancellation_timeout: None,
        metrics: Default::default(),
    });
    let edge = |source, partitioning| {
        vec![StreamEdge {
            source,
            port: 0,
            input: 0,
            partitioning,
        }]
    };
    let s = g.add_node("Source", 2, slow_source(), vec![]).unwrap();
    let m = g
        .add_node("Sum", 2, sum(armed, 2700), edge(s, Partitioning::Keyed))
        .unwrap();
    g.add_node("Sink", 2, two_phase(committed), edge(m, Partitioning::Forward))
        .unwrap();
    g
}

fn expected() -> Vec<i64> {
    let mut sums: HashMap<i64, i64> = HashMap::new();
    for v in 0..N {
        *sums.entry(v % KEYS).or_default() += v;
    }
    let mut out: Vec<i64> = (0..N).collect();
    out.extend(sums.iter().map(|(k, s)| -(s * 10 + k)));
    out.sort();
    out
}

/// The job without its injected failure, what its sink committed, and its checkpoint history.
fn unarmed_job() -> (Arc<Mutex<Committed>>, Arc<Mutex<CheckpointHistory>>, StreamGraph<i64>) {
    let committed = Arc::new(Mutex::new(Committed::default()));
    let g = job(&Arc::new(AtomicBool::new(false)), &committed);
    (committed, Arc::new(Mutex::new(CheckpointHistory::default())), g)
}

fn temp(name: &str) -> PathBuf {
    crate::checkpoint::test_directory(&format!("ckpt-{name}"))
}

fn setup(
    dir: &Path,
    mode: CheckpointingMode,
    restore: Option<RestorePlan>,
    history: &Arc<Mutex<CheckpointHistory>>,
) -> RunSetup {
    let mut options = CheckpointOptions::new(Duration::from_millis(15), dir.to_path_buf());
    options.mode = mode;
    options.num_retained = 2;
    RunSetup {
        run_id: "run".into(),
        attempt: 0,
        restore,
        checkpointing: Some(CheckpointSetup {
            options,
            job_id: "job".into(),
            history: Arc::clone(history),
            savepoints: None,
        }),
    }
}

#[test]
fn a_job_commits_everything_once_through_its_final_checkpoint() {
    let dir = temp("final");
    let (committed, history, g) = unarmed_job();
    DeployedJob::deploy(&g, &setup(&dir, CheckpointingMode::ExactlyOnce, None, &history))
        .unwrap()
        .start()
        .join()
        .unwrap();
    let mut values = committed.lock().unwrap().values.clone();
    values.sort();
    assert_eq!(values, expected());
    let h = history.lock().unwrap();
    assert!(
        h.completed.len() >= 2,
        "periodic and final checkpoints: {:?}",
        h.completed.len()
    );
    // Only the newest two are kept on disk.
    let on_disk: Vec<_> = std::fs::read_dir(dir.join("job")).unwrap().flatten().collect();
    assert_eq!(on_disk.len(), 2);
    let (latest, _) = find_latest(&dir);
    let (_, meta) = latest.unwrap();
    assert_eq!(meta.checkpoint_id, h.latest().unwrap().id);
    assert_eq!(meta.operators.len(), 3);
    assert!(meta.operators.values().all(|o| o.parallelism == 2 && o.has_state));
    drop(h);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_failed_job_resumed_from_its_latest_checkpoint_commits_exactly_once() {
    for mode in [CheckpointingMode::ExactlyOnce, CheckpointingMode::AtLeastOnce] {
        let dir = temp(&format!("resume-{mode:?}"));
        let armed = Arc::new(AtomicBool::new(true));
        let committed = Arc::new(Mutex::new(Committed::default()));
        let history = Arc::new(Mutex::new(CheckpointHistory::default()));
        let g = job(&armed, &committed);
        let err = DeployedJob::deploy(&g, &setup(&dir, mode, None, &history))
            .unwrap()
            .start()
            .join()
            .unwrap_err();
        assert!(matches!(err, JobError::Failed(_)));
        let (latest, refused) = find_latest(&dir);
        assert!(refused.is_empty(), "{refused:?}");
        let (chk, meta) = latest.expect("a checkpoint completed before the failure");
        let resumed_from = meta.checkpoint_id;
        let restore = RestorePlan {
            directory: chk,
            metadata: CheckpointMetadata::read(&dir.join("job").join(format!("chk-{resumed_from}")))
                .unwrap()
                .1,
            ignore_unclaimed: false,
        };
        {
            let mut h = history.lock().unwrap();
            h.next_id = resumed_from + 1;
        }
        DeployedJob::deploy(&g, &setup(&dir, mode, Some(restore), &history))
            .unwrap()
            .start()
            .join()
            .unwrap();
        let mut values = committed.lock().unwrap().values.clone();
        values.sort();
        if mode == CheckpointingMode::ExactlyOnce {
            assert_eq!(values, expected());
        } else {
            // At least once: every result, some maybe twice.
            values.dedup();
            assert_eq!(values, expected());
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn a_job_stopped_with_a_savepoint_resumes_from_it_exactly_once() {
    let dir = temp("stop-savepoint");
    let (committed, history, g) = unarmed_job();
    let (requests, savepoints) = crossbeam_channel::unbounded();
    let mut first = setup(&dir, CheckpointingMode::ExactlyOnce, None, &history);
    if let Some(c) = first.checkpointing.as_mut() {
        c.savepoints = Some(savepoints);
    }
    let job_handle = DeployedJob::deploy(&g, &first).unwrap().start();
    std::thread::sleep(Duration::from_millis(10));
    let (reply, answer) = crossbeam_channel::bounded(1);
    let target = dir.join("savepoints");
    requests
        .send(crate::checkpoint::savepoint::SavepointRequest {
            target: target.clone(),
            stop: true,
            reply,
        })
        .unwrap();
    let savepoint = answer.recv_timeout(Duration::from_secs(20)).unwrap().unwrap();
    // Stopped with a savepoint: the job ends as finished, before the end of its input.
    job_handle.join().unwrap();
    let before = committed.lock().unwrap().values.len();
    assert!(before < expected().len(), "the job stopped early: {before}");
    assert!(savepoint.starts_with(&target));
    let (_, meta) = CheckpointMetadata::read(&savepoint).unwrap();
    assert_eq!(meta.kind, "savepoint");
    // The checkpoints may all go; the savepoint alone resumes the job.
    std::fs::remove_dir_all(dir.join("job")).unwrap();
    let restore = RestorePlan {
        directory: savepoint,
        metadata: meta.clone(),
        ignore_unclaimed: false,
    };
    history.lock().unwrap().next_id = meta.checkpoint_id + 1;
    DeployedJob::deploy(
        &g,
        &setup(&dir, CheckpointingMode::ExactlyOnce, Some(restore), &history),
    )
    .unwrap()
    .start()
    .join()
    .unwrap();
    let mut values = committed.lock().unwrap().values.clone();
    values.sort();
    assert_eq!(values, expected());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn restoring_checks_operator_ids_and_max_parallelism() {
    let dir = temp("claims");
    let (committed, history, g) = unarmed_job();
    let mut s = setup(&dir, CheckpointingMode::ExactlyOnce, None, &history);
    if let Some(c) = s.checkpointing.as_mut() {
        c.options.retention = crate::checkpoint::options::Retention::RetainOnCancellation;
    }
    DeployedJob::deploy(&g, &s).unwrap().start().join().unwrap();
    let (latest, _) = find_latest(&dir);
    let (chk, meta) = latest.unwrap();
    let mut plan = RestorePlan {
        directory: chk,
        metadata: meta,
        ignore_unclaimed: false,
    };
    // A job whose sum operator has another id does not claim the sum's state.
    let mut other = job(&Arc::new(AtomicBool::new(false)), &committed);
    other.nodes[1].uid = Some("renamed".into());
    let restore_setup = RunSetup {
        restore: Some(plan.clone()),
        ..RunSetup::default()
    };
    let err = DeployedJob::deploy(&other, &restore_setup)
        .err()
        .expect("unclaimed state");
    assert!(err.to_string().contains("does not have: '1-sum' (Sum)"), "{err}");
    plan.ignore_unclaimed = true;
    let ignoring = RunSetup {
        restore: Some(plan.clone()),
        ..RunSetup::default()
    };
    assert!(DeployedJob::deploy(&other, &ignoring).is_ok());
    // Each operator's key groups are recorded with it (older metadata: the job's only).
    assert!(plan.metadata.operators.values().all(|e| e.max_parallelism == Some(128)));
    for entry in plan.metadata.operators.values_mut() {
        entry.max_parallelism = None;
    }
    plan.metadata.max_parallelism = 64;
    let err = DeployedJob::deploy(
        &g,
        &RunSetup {
            restore: Some(plan),
            ..RunSetup::default()
        },
    )
    .err()
    .expect("max parallelism differs");
    assert!(err.to_string().contains("max parallelism 64"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

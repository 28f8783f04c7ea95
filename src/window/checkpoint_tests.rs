//! Window operators in checkpoints: each scenario runs once without interruption, then again
//! with a snapshot part-way (at 1 or 2 subtasks) restored into 1, 2 and 3 fresh subtasks, each
//! taking the keys of its key groups; every window result must be the same.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::checkpoint::{OperatorRestore, SnapshotContext};
use crate::runtime::key::Key;
use crate::runtime::key_group::{key_group_for_hash, subtask_for_key_group};
use crate::runtime::operator::{Operator, OperatorError, OperatorResult, Output, TaskInfo};
use crate::runtime::record::Record;
use crate::time::clock::Clock;
use crate::window::assigner::Assigner;
use crate::window::functions::{FireTime, WindowFunctions};
use crate::window::operator::{WindowOperator, WindowSpec, WindowTrigger};
use crate::window::trigger::Trigger;
use crate::window::window::Window;

const MAX_PARALLELISM: usize = 128;

/// A fired window: key, window, its values in arrival order, the result's timestamp.
type Fired = (Key, Window, Vec<i64>, i64);

/// Keeps each window's values in arrival order and logs every window that fires.
struct Collect {
    log: Arc<Mutex<Vec<Fired>>>,
}

impl WindowFunctions<i64> for Collect {
    type Acc = Vec<i64>;

    fn create(&mut self, value: i64) -> OperatorResult<Vec<i64>> {
        Ok(vec![value])
    }

    fn add(&mut self, acc: &mut Vec<i64>, value: i64) -> OperatorResult {
        acc.push(value);
        Ok(())
    }

    fn merge(&mut self, mut into: Vec<i64>, other: Vec<i64>) -> OperatorResult<Vec<i64>> {
        into.extend(other);
        Ok(into)
    }

    fn emit(
        &mut self,
        key: &Key,
        window: &Window,
        acc: &Vec<i64>,
        time: FireTime,
        out: &mut Output<i64>,
    ) -> OperatorResult {
        self.log
            .lock()
            .unwrap()
            .push((key.clone(), *window, acc.clone(), time.timestamp));
        out.emit(Record::with_timestamp(acc.iter().sum(), time.timestamp));
        Ok(())
    }

    fn session_gap(&mut self, value: &i64) -> OperatorResult<i64> {
        Ok(value.rem_euclid(4) + 1)
    }

    fn encode(&mut self, acc: &Vec<i64>, out: &mut Vec<u8>) -> OperatorResult {
        for v in acc {
            out.extend_from_slice(&v.to_le_bytes());
        }
        Ok(())
    }

    fn decode(&mut self, bytes: &[u8]) -> OperatorResult<Vec<i64>> {
        if !bytes.len().is_multiple_of(8) {
            return Err(OperatorError::new("contents of a length that is no multiple of 8"));
        }
        Ok(bytes
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes(c.try_into().unwrap()))
            .collect())
    }
}

#[derive(Clone, Copy, Debug)]
enum Ev {
    /// key, value, event timestamp
    Record(i64, i64, i64),
    Watermark(i64),
    /// processing time moves to
    Clock(i64),
}

/// The subtasks of one window operator, fed as a keyed exchange would.
struct Subtasks {
    ops: Vec<WindowOperator<i64, Collect>>,
    out: Output<i64>,
    clock: Clock,
}

fn key_of(k: i64) -> Key {
    Key::Int(k)
}

impl Subtasks {
    fn new(
        spec: &dyn Fn() -> WindowSpec<i64>,
        parallelism: usize,
        restore: Option<&[PathBuf]>,
        log: &Arc<Mutex<Vec<Fired>>>,
        clock: &Clock,
    ) -> Subtasks {
        let restore = restore.map(|dirs| {
            Arc::new(OperatorRestore {
                checkpoint_id: 1,
                directories: dirs.to_vec(),
            })
        });
        let ops = (0..parallelism)
            .map(|index| {
                let mut op = WindowOperator::new(spec(), Collect { log: log.clone() });
                let info = TaskInfo {
                    clock: clock.clone(),
                    job_name: "t".into(),
                    operator_name: "Window".into(),
                    task_name: "t".into(),
                    subtask_index: index,
                    parallelism,
                    max_parallelism: MAX_PARALLELISM,
                    attempt_number: 0,
                    operator_id: "window".into(),
                    restore: restore.clone(),
                    run_id: "test".into(),
                    batch_bytes: usize::MAX,
                    user_metrics: Default::default(),
                };
                op.open(&info).unwrap();
                op
            })
            .collect();
        Subtasks {
            ops,
            out: Output::default(),
            clock: clock.clone(),
        }
    }

    fn feed(&mut self, ev: Ev) {
        match ev {
            Ev::Record(k, v, ts) => {
                let key = key_of(k);
                let group = key_group_for_hash(key.stable_hash(), MAX_PARALLELISM);
                let index = subtask_for_key_group(group, self.ops.len(), MAX_PARALLELISM);
                let mut r = Record::with_timestamp(v, ts);
                r.key = Some(key);
                self.ops[index].process_batch(0, &mut vec![r], &mut self.out).unwrap();
            }
            Ev::Watermark(w) => {
                for op in &mut self.ops {
                    op.on_watermark(w, &mut self.out).unwrap();
                }
            }
            Ev::Clock(t) => {
                self.clock.advance_to(t);
                for op in &mut self.ops {
                    if op.next_processing_time().is_some_and(|due| due <= t) {
                        op.on_processing_time(t, &mut self.out).unwrap();
                    }
                }
            }
        }
    }

    /// Each subtask's snapshot, in `base/<index>`.
    fn snapshot(&mut self, base: &Path) -> Vec<PathBuf> {
        let mut dirs = Vec::new();
        for (index, op) in self.ops.iter_mut().enumerate() {
            let dir = base.join(index.to_string());
            std::fs::create_dir_all(&dir).unwrap();
            let stats = op
                .snapshot_state(&SnapshotContext {
                    checkpoint_id: 1,
                    timestamp: 0,
                    directory: &dir,
                    checkpoint_directory: base,
                })
                .unwrap();
            assert!(stats.bytes > 0);
            dirs.push(dir);
        }
        dirs
    }

    fn end(&mut self) {
        for op in &mut self.ops {
            op.on_watermark(i64::MAX, &mut self.out).unwrap();
            op.finish(&mut self.out).unwrap();
        }
    }

    fn late_dropped(&self) -> u64 {
        self.ops.iter().map(|op| op.metrics()[0].1).sum()
    }
}

fn sorted(log: &Arc<Mutex<Vec<Fired>>>) -> Vec<Fired> {
    let mut fired = log.lock().unwrap().clone();
    fired.sort();
    fired
}

/// A directory under the system's temporary directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("ferroflow-window-ckpt-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `events` without interruption, then, for several cut points, old parallelisms 1 and 2
/// and new parallelisms 1, 2 and 3: the events before the cut, a snapshot, the rest on
/// restored subtasks. Every run must fire the same windows with the same contents.
fn check(name: &str, spec: &dyn Fn() -> WindowSpec<i64>, events: &[Ev]) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut whole = Subtasks::new(spec, 1, None, &log, &Clock::manual(0));
    for ev in events {
        whole.feed(*ev);
    }
    whole.end();
    let expected = sorted(&log);
    let expected_late = whole.late_dropped();
    assert!(
        expected.len() > 5,
        "{name}: the scenario fires too few windows: {expected:?}"
    );

    let tmp = TempDir::new(name);
    let n = events.len();
    for cut in [n / 3, n / 2, 2 * n / 3] {
        for old in [1, 2] {
            for new in [1, 2, 3] {
                let log = Arc::new(Mutex::new(Vec::new()));
                let clock = Clock::manual(0);
                let mut before = Subtasks::new(spec, old, None, &log, &clock);
                for ev in &events[..cut] {
                    before.feed(*ev);
                }
                let base = tmp.0.join(format!("{cut}-{old}-{new}"));
                let dirs = before.snapshot(&base);
                let late_before = before.late_dropped();
                drop(before);
                let mut after = Subtasks::new(spec, new, Some(&dirs), &log, &clock);
                for ev in &events[cut..] {
                    after.feed(*ev);
                }
                after.end();
                let got = sorted(&log);
                assert_eq!(
                    got, expected,
                    "{name}: cut at {cut}, {old} -> {new} subtasks: the fired windows differ"
                );
                assert_eq!(
                    late_before + after.late_dropped(),
                    expected_late,
                    "{name}: cut at {cut}, {old} -> {new}: late records"
                );
            }
        }
    }
}

/// A deterministic stream of records of 12 keys, timestamps rising with disorder (some records
/// late), a watermark every 8 records and processing time moving on.
fn events(count: usize, seed: u64) -> Vec<Ev> {
    let mut state = seed;
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as i64
    };
    let mut out = Vec::new();
    let mut max_ts = 0;
    for i in 0..count as i64 {
        let ts = (i * 3 + next().rem_euclid(20) - 10).max(0);
        max_ts = max_ts.max(ts);
        out.push(Ev::Record(next().rem_euclid(12), next().rem_euclid(100), ts));
        if i % 8 == 7 {
            out.push(Ev::Watermark(max_ts - 6));
            out.push(Ev::Clock(i * 3));
        }
    }
    out
}

fn spec(assigner: Assigner, trigger: Option<Trigger>, lateness: i64) -> WindowSpec<i64> {
    WindowSpec {
        assigner,
        trigger: trigger.map(WindowTrigger::BuiltIn),
        allowed_lateness: lateness,
        late_port: None,
    }
}

#[test]
fn tumbling_windows_on_the_grouped_fast_path_resume_with_lateness_and_late_drops() {
    let assigner = Assigner::Tumbling {
        event_time: true,
        size: 20,
        offset: 0,
    };
    check("tumbling-grouped", &|| spec(assigner, None, 7), &events(300, 1));
}

#[test]
fn sliding_windows_on_the_grouped_fast_path_resume() {
    let assigner = Assigner::Sliding {
        event_time: true,
        size: 30,
        slide: 10,
        offset: 0,
    };
    check("sliding-grouped", &|| spec(assigner, None, 0), &events(300, 2));
}

#[test]
fn tumbling_windows_with_a_continuous_trigger_keep_their_fire_times_and_timers() {
    let assigner = Assigner::Tumbling {
        event_time: true,
        size: 40,
        offset: 0,
    };
    let trigger = Some(Trigger::ContinuousEventTime(9));
    check(
        "tumbling-continuous",
        &|| spec(assigner, trigger.clone(), 5),
        &events(300, 3),
    );
}

#[test]
fn merging_sessions_resume() {
    let assigner = Assigner::Session {
        event_time: true,
        gap: Some(6),
    };
    check("sessions", &|| spec(assigner, None, 4), &events(300, 4));
    let dynamic = Assigner::Session {
        event_time: true,
        gap: None,
    };
    check("dynamic-sessions", &|| spec(dynamic, None, 0), &events(300, 5));
}

#[test]
fn count_windows_keep_their_counts() {
    check(
        "count-tumbling",
        &|| spec(Assigner::CountTumbling { size: 3 }, None, 0),
        &events(200, 6),
    );
    check(
        "count-sliding",
        &|| spec(Assigner::CountSliding { size: 4, slide: 2 }, None, 0),
        &events(200, 7),
    );
}

#[test]
fn global_windows_keep_their_count_trigger_state() {
    check(
        "global-count",
        &|| spec(Assigner::Global, Some(Trigger::Count(3)), 0),
        &events(200, 8),
    );
    check(
        "global-purging-count",
        &|| spec(Assigner::Global, Some(Trigger::Purging(Box::new(Trigger::Count(4)))), 0),
        &events(200, 9),
    );
}

#[test]
fn processing_time_windows_keep_their_timers() {
    let tumbling = Assigner::Tumbling {
        event_time: false,
        size: 25,
        offset: 0,
    };
    check("processing-tumbling", &|| spec(tumbling, None, 0), &events(300, 10));
    let sessions = Assigner::Session {
        event_time: false,
        gap: Some(5),
    };
    check("processing-sessions", &|| spec(sessions, None, 0), &events(300, 11));
    let continuous = Assigner::Tumbling {
        event_time: false,
        size: 60,
        offset: 0,
    };
    let trigger = Some(Trigger::ContinuousProcessingTime(7));
    check(
        "processing-continuous",
        &|| spec(continuous, trigger.clone(), 0),
        &events(300, 12),
    );
}

#[test]
fn a_pending_processing_time_timer_fires_after_the_restore() {
    let tmp = TempDir::new("pending-timer");
    let log = Arc::new(Mutex::new(Vec::new()));
    let clock = Clock::manual(3);
    let assigner = Assigner::Tumbling {
        event_time: false,
        size: 10,
        offset: 0,
    };
    let make = || spec(assigner, None, 0);
    // Two keys that go to different subtasks of 2.
    let subtask = |k: i64| {
        subtask_for_key_group(
            key_group_for_hash(key_of(k).stable_hash(), MAX_PARALLELISM),
            2,
            MAX_PARALLELISM,
        )
    };
    let other = (2..).find(|k| subtask(*k) != subtask(1)).unwrap();
    let mut before = Subtasks::new(&make, 1, None, &log, &clock);
    before.feed(Ev::Record(1, 5, 0));
    before.feed(Ev::Record(other, 7, 0));
    let dirs = before.snapshot(&tmp.0);
    drop(before);
    let mut after = Subtasks::new(&make, 2, Some(&dirs), &log, &clock);
    let due: Vec<Option<i64>> = after.ops.iter().map(|op| op.next_processing_time()).collect();
    assert!(due.iter().all(|d| d.is_none_or(|t| t == 9)), "{due:?}");
    assert_eq!(
        due.iter().filter(|d| d.is_some()).count(),
        2,
        "each subtask has its key's timer"
    );
    after.feed(Ev::Clock(9));
    let fired = sorted(&log);
    let window = Window::Time { start: 0, end: 10 };
    assert_eq!(
        fired,
        vec![(key_of(1), window, vec![5], 9), (key_of(other), window, vec![7], 9)]
    );
}

#[test]
fn a_restore_keeps_the_watermark_so_late_records_stay_late() {
    let tmp = TempDir::new("watermark");
    let log = Arc::new(Mutex::new(Vec::new()));
    let clock = Clock::manual(0);
    let assigner = Assigner::Tumbling {
        event_time: true,
        size: 10,
        offset: 0,
    };
    let make = || spec(assigner, None, 0);
    let mut before = Subtasks::new(&make, 1, None, &log, &clock);
    before.feed(Ev::Record(1, 5, 3));
    before.feed(Ev::Watermark(15));
    let dirs = before.snapshot(&tmp.0);
    let mut after = Subtasks::new(&make, 1, Some(&dirs), &log, &clock);
    // Upstream starts again below the restored watermark: the record stays late.
    after.feed(Ev::Watermark(2));
    after.feed(Ev::Record(1, 6, 4));
    after.end();
    assert_eq!(after.late_dropped(), 1);
    assert_eq!(sorted(&log).len(), 1, "only the window that fired before the snapshot");
}

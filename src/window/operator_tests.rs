//! The window operator with plain Rust values: a sum per window.

use crate::runtime::key::Key;
use crate::runtime::operator::{Operator, OperatorResult, Output, TaskInfo};
use crate::runtime::record::Record;
use crate::time::clock::Clock;
use crate::window::assigner::Assigner;
use crate::window::functions::{FireTime, WindowFunctions};
use crate::window::operator::{WindowOperator, WindowSpec, WindowTrigger};
use crate::window::trigger::Trigger;
use crate::window::window::Window;

/// Sums values; emits `start * 1_000_000 + sum` so tests can read window and sum from one i64.
struct Sum;

impl WindowFunctions<i64> for Sum {
    type Acc = i64;

    fn create(&mut self, value: i64) -> OperatorResult<i64> {
        Ok(value)
    }

    fn add(&mut self, acc: &mut i64, value: i64) -> OperatorResult {
        *acc += value;
        Ok(())
    }

    fn merge(&mut self, into: i64, other: i64) -> OperatorResult<i64> {
        Ok(into + other)
    }

    fn emit(
        &mut self,
        _key: &Key,
        window: &Window,
        acc: &i64,
        time: FireTime,
        out: &mut Output<i64>,
    ) -> OperatorResult {
        let start = match window {
            Window::Time { start, .. } => *start,
            Window::Count(id) => *id,
            Window::Global => -1,
        };
        out.emit(Record::with_timestamp(start * 1_000_000 + acc, time.timestamp));
        Ok(())
    }

    fn session_gap(&mut self, value: &i64) -> OperatorResult<i64> {
        Ok(*value)
    }

    fn encode(&mut self, acc: &i64, out: &mut Vec<u8>) -> OperatorResult {
        out.extend_from_slice(&acc.to_le_bytes());
        Ok(())
    }

    fn decode(&mut self, bytes: &[u8]) -> OperatorResult<i64> {
        Ok(i64::from_le_bytes(bytes.try_into().map_err(|_| {
            crate::runtime::operator::OperatorError::new("not 8 bytes")
        })?))
    }
}

struct Harness {
    op: WindowOperator<i64, Sum>,
    out: Output<i64>,
    clock: Clock,
}

impl Harness {
    fn new(assigner: Assigner, trigger: Option<Trigger>, lateness: i64, late_port: Option<u32>) -> Harness {
        let spec = WindowSpec {
            assigner,
            trigger: trigger.map(WindowTrigger::BuiltIn),
            allowed_lateness: lateness,
            late_port,
        };
        let mut op = WindowOperator::new(spec, Sum);
        let clock = Clock::manual(0);
        let info = TaskInfo {
            clock: clock.clone(),
            job_name: "t".into(),
            operator_name: "Window".into(),
            task_name: "t".into(),
            subtask_index: 0,
            parallelism: 1,
            max_parallelism: 128,
            attempt_number: 0,
            operator_id: "window".into(),
            restore: None,
            run_id: "test".into(),
            batch_bytes: usize::MAX,
            user_metrics: Default::default(),
        };
        op.open(&info).unwrap();
        Harness {
            op,
            out: Output::default(),
            clock,
        }
    }

    fn record(&mut self, key: i64, value: i64, ts: i64) {
        let mut r = Record::with_timestamp(value, ts);
        r.key = Some(Key::Int(key));
        self.op.process_batch(0, &mut vec![r], &mut self.out).unwrap();
    }

    fn watermark(&mut self, w: i64) {
        self.op.on_watermark(w, &mut self.out).unwrap();
    }

    fn processing_time(&mut self, t: i64) {
        self.clock.advance_to(t);
        self.op.on_processing_time(t, &mut self.out).unwrap();
    }

    /// (window start, sum) pairs emitted since the last call.
    fn emitted(&mut self) -> Vec<(i64, i64)> {
        self.out
            .main
            .drain(..)
            .map(|r| (r.value.div_euclid(1_000_000), r.value.rem_euclid(1_000_000)))
            .collect()
    }

    fn late(&mut self) -> Vec<i64> {
        self.out.side.drain(..).map(|(_, r)| r.value).collect()
    }
}

fn tumbling(size: i64) -> Assigner {
    Assigner::Tumbling {
        event_time: true,
        size,
        offset: 0,
    }
}

#[test]
fn a_tumbling_window_fires_when_the_watermark_reaches_its_end_minus_one() {
    let mut h = Harness::new(tumbling(5), None, 0, None);
    h.record(1, 1, 0);
    h.record(1, 2, 4);
    h.record(1, 4, 5);
    h.watermark(3);
    assert_eq!(h.emitted(), vec![]);
    h.watermark(4);
    assert_eq!(h.emitted(), vec![(0, 3)]);
    h.watermark(i64::MAX);
    assert_eq!(h.emitted(), vec![(5, 4)]);
}

#[test]
fn results_carry_the_window_max_timestamp() {
    let mut h = Harness::new(tumbling(5), None, 0, None);
    h.record(1, 1, 2);
    h.watermark(10);
    assert_eq!(h.out.main[0].timestamp, 4);
}

#[test]
fn allowed_lateness_refires_with_all_contents_then_drops_and_counts() {
    let mut h = Harness::new(tumbling(10), None, 5, None);
    h.record(1, 1, 1);
    h.watermark(9);
    assert_eq!(h.emitted(), vec![(0, 1)]);
    h.record(1, 10, 2); // late, within lateness: fires again with everything
    assert_eq!(h.emitted(), vec![(0, 11)]);
    h.watermark(14); // cleanup time 9 + 5 = 14: state is dropped
    h.record(1, 100, 3); // too late: dropped and counted
    assert_eq!(h.emitted(), vec![]);
    assert_eq!(h.op.metrics(), vec![("numLateRecordsDropped", 1)]);
}

#[test]
fn late_records_go_to_the_side_output_when_one_is_read() {
    let mut h = Harness::new(tumbling(10), None, 0, Some(1));
    h.record(1, 1, 1);
    h.watermark(20);
    h.record(1, 7, 3);
    assert_eq!(h.late(), vec![7]);
    assert_eq!(h.op.metrics(), vec![("numLateRecordsDropped", 0)]);
}

#[test]
fn sliding_windows_each_get_the_record() {
    let mut h = Harness::new(
        Assigner::Sliding {
            event_time: true,
            size: 4,
            slide: 2,
            offset: 0,
        },
        None,
        0,
        None,
    );
    h.record(1, 1, 3);
    h.watermark(i64::MAX);
    let mut got = h.emitted();
    got.sort();
    assert_eq!(got, vec![(0, 1), (2, 1)]);
}

#[test]
fn sessions_merge_including_touching_ones() {
    let mut h = Harness::new(
        Assigner::Session {
            event_time: true,
            gap: Some(5),
        },
        None,
        0,
        None,
    );
    h.record(1, 1, 0); // [0, 5)
    h.record(1, 1, 8); // [8, 13)
    h.record(1, 1, 4); // [4, 9): bridges both into [0, 13)
    h.record(1, 1, 13); // [13, 18) touches [0, 13)
    h.record(1, 1, 30); // its own session
    h.watermark(i64::MAX);
    assert_eq!(h.emitted(), vec![(0, 4), (30, 1)]);
}

#[test]
fn a_session_fires_only_after_it_stops_growing() {
    let mut h = Harness::new(
        Assigner::Session {
            event_time: true,
            gap: Some(5),
        },
        None,
        0,
        None,
    );
    h.record(1, 1, 0);
    h.watermark(3);
    h.record(1, 1, 4); // extends to [0, 9)
    h.watermark(5);
    assert_eq!(h.emitted(), vec![], "the merged window ends at 9");
    h.watermark(8);
    assert_eq!(h.emitted(), vec![(0, 2)]);
}

#[test]
fn count_windows_fire_full_windows_only() {
    let mut h = Harness::new(Assigner::CountSliding { size: 2, slide: 1 }, None, 0, None);
    for v in [1, 3, 5] {
        h.record(1, v, 0);
    }
    h.watermark(i64::MAX);
    // Windows 0 = {1, 3}, 1 = {3, 5}; window 2 = {5} never fills.
    assert_eq!(h.emitted(), vec![(0, 4), (1, 8)]);

    let mut t = Harness::new(Assigner::CountTumbling { size: 2 }, None, 0, None);
    for v in [1, 2, 3, 4, 5] {
        t.record(1, v, 0);
    }
    t.watermark(i64::MAX);
    assert_eq!(t.emitted(), vec![(0, 3), (1, 7)]);
}

#[test]
fn global_windows_with_a_purging_count_trigger() {
    let trigger = Trigger::Purging(Box::new(Trigger::Count(2)));
    let mut h = Harness::new(Assigner::Global, Some(trigger), 0, None);
    for v in [1, 2, 3, 4, 5] {
        h.record(1, v, 0);
    }
    assert_eq!(h.emitted(), vec![(-1, 3), (-1, 7)]);
}

#[test]
fn processing_time_windows_follow_the_clock() {
    let mut h = Harness::new(
        Assigner::Tumbling {
            event_time: false,
            size: 10,
            offset: 0,
        },
        None,
        0,
        None,
    );
    h.processing_time(3);
    h.record(1, 1, 0);
    h.record(2, 5, 0);
    assert_eq!(h.op.next_processing_time(), Some(9));
    h.processing_time(8);
    assert_eq!(h.emitted(), vec![]);
    h.processing_time(9);
    let mut got = h.emitted();
    got.sort();
    assert_eq!(got, vec![(0, 1), (0, 5)]);
    assert_eq!(h.op.next_processing_time(), None);
}

#[test]
fn keys_have_separate_windows() {
    let mut h = Harness::new(tumbling(5), None, 0, None);
    h.record(1, 1, 0);
    h.record(2, 10, 1);
    h.record(1, 2, 2);
    h.watermark(i64::MAX);
    let mut got = h.emitted();
    got.sort();
    assert_eq!(got, vec![(0, 3), (0, 10)]);
}

#[test]
fn an_event_time_window_needs_timestamps() {
    let mut h = Harness::new(tumbling(5), None, 0, None);
    let mut r = Record::new(1);
    r.key = Some(Key::Int(1));
    let err = h.op.process_batch(0, &mut vec![r], &mut h.out).unwrap_err();
    assert!(err.to_string().contains("assign_timestamps_and_watermarks"), "{err}");
}

#[test]
fn fired_windows_leave_no_state_behind() {
    let mut h = Harness::new(tumbling(1000), None, 0, None);
    let mut fired = 0;
    for i in 0..20_000i64 {
        h.record(i % 10, 1, i);
        if i % 100 == 99 {
            h.watermark(i - 101);
            fired += h.emitted().len();
        }
    }
    let (windows, timers) = h.op.held();
    assert!(windows <= 20, "{windows} windows still held after {fired} fired");
    assert!(timers <= 20, "{timers} timers still set");
    h.watermark(i64::MAX);
    assert_eq!(h.op.held(), (0, 0));
}

#[test]
fn a_window_created_after_the_watermark_fires_once_per_late_record() {
    let mut h = Harness::new(tumbling(1), None, 1, None);
    h.watermark(0);
    h.record(1, 1, 0);
    assert_eq!(h.emitted(), vec![(0, 1)]);
    h.watermark(i64::MAX);
    assert_eq!(h.emitted(), vec![], "the final watermark does not fire it again");
}

#[test]
fn a_merged_session_is_cleaned_up_at_its_own_cleanup_time() {
    // Gap 1, lateness 9: [0, 1) and [1, 2) merge into [0, 2), whose cleanup time is 1 + 9 = 10.
    let mut h = Harness::new(
        Assigner::Session {
            event_time: true,
            gap: Some(1),
        },
        None,
        9,
        None,
    );
    h.record(1, 2, 0);
    h.record(1, 1, 1);
    h.record(1, 1, 3);
    h.watermark(10);
    assert_eq!(h.emitted(), vec![(0, 3), (3, 1)]);
    // [2, 3) touches [3, 4) (still within its lateness) but not [0, 2), which is gone.
    h.record(1, 1, 2);
    assert_eq!(h.emitted(), vec![(2, 2)]);
}

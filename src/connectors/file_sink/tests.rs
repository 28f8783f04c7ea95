use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::*;
use crate::connectors::file_sink::bucket_assigner::DateTimeFormat;
use crate::connectors::file_sink::time_zone::TimeZone;
use crate::connectors::{test_dir, test_info};

/// `value + "\n"`.
struct Lines;

impl RowEncoder<String> for Lines {
    fn encode(&mut self, batch: &mut Vec<Record<String>>, rows: &mut EncodedRows) -> OperatorResult {
        for r in batch.drain(..) {
            rows.bytes.extend_from_slice(r.value.as_bytes());
            rows.bytes.push(b'\n');
            rows.end_row();
        }
        Ok(())
    }
}

fn config(base: &Path, rolling: RollingPolicy, commit_on_finish: bool) -> FileSinkConfig {
    FileSinkConfig {
        base_path: base.to_path_buf(),
        assigner: BucketAssigner::BasePath,
        rolling,
        part_prefix: "part".into(),
        part_suffix: ".txt".into(),
        bucket_check_interval_ms: 1000,
        commit_on_finish,
    }
}

const SMALL: RollingPolicy = RollingPolicy::Default {
    part_size: 10,
    rollover_interval_ms: 60_000,
    inactivity_interval_ms: 60_000,
};

fn sink(cfg: FileSinkConfig) -> FileSink<String, Lines> {
    FileSink::new(cfg, Lines)
}

fn write(s: &mut FileSink<String, Lines>, values: &[&str]) {
    let mut batch: Vec<Record<String>> = values.iter().map(|v| Record::new(v.to_string())).collect();
    s.process_batch(0, &mut batch, &mut Output::default()).unwrap();
}

fn snapshot(s: &mut FileSink<String, Lines>, id: u64, dir: &Path) -> PathBuf {
    let d = dir.join(format!("chk-{id}"));
    std::fs::create_dir_all(&d).unwrap();
    let ctx = SnapshotContext {
        checkpoint_id: id,
        timestamp: 0,
        directory: &d,
        checkpoint_directory: dir,
    };
    s.snapshot_state(&ctx).unwrap();
    d
}

/// Files under `dir`, recursively: (visible, hidden) relative names.
fn files(dir: &Path) -> (Vec<String>, Vec<String>) {
    fn walk(base: &Path, dir: &Path, out: &mut (Vec<String>, Vec<String>)) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for e in entries {
            let path = e.unwrap().path();
            if path.is_dir() {
                walk(base, &path, out);
                continue;
            }
            let rel = path.strip_prefix(base).unwrap().to_string_lossy().into_owned();
            let hidden = path.file_name().unwrap().to_string_lossy().starts_with('.');
            if hidden { &mut out.1 } else { &mut out.0 }.push(rel);
        }
    }
    let mut out = (Vec::new(), Vec::new());
    walk(dir, dir, &mut out);
    out.0.sort();
    out.1.sort();
    out
}

/// The lines of the finished files, counted.
fn finished_lines(dir: &Path) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for f in files(dir).0 {
        for line in std::fs::read_to_string(dir.join(f)).unwrap().lines() {
            *counts.entry(line.to_string()).or_insert(0) += 1;
        }
    }
    counts
}

fn expect(lines: &[&str]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for l in lines {
        *counts.entry(l.to_string()).or_insert(0) += 1;
    }
    counts
}

#[test]
fn without_checkpoints_files_are_hidden_until_the_end_then_finished() {
    let out = test_dir("sink-plain");
    let mut s = sink(config(&out, RollingPolicy::DEFAULT, true));
    s.open(&test_info(0, 1, Clock::manual(0), "run", None)).unwrap();
    write(&mut s, &["a", "b"]);
    write(&mut s, &["c"]);
    let (visible, hidden) = files(&out);
    assert!(visible.is_empty() && hidden.len() == 1, "{visible:?} {hidden:?}");
    assert!(
        hidden[0].starts_with(".part-") && hidden[0].contains(".txt.inprogress."),
        "{hidden:?}"
    );
    s.finish(&mut Output::default()).unwrap();
    s.close().unwrap();
    let (visible, hidden) = files(&out);
    assert!(hidden.is_empty());
    assert_eq!(visible.len(), 1);
    assert!(
        visible[0].starts_with("part-") && visible[0].ends_with("-0-0.txt"),
        "{visible:?}"
    );
    assert_eq!(std::fs::read_to_string(out.join(&visible[0])).unwrap(), "a\nb\nc\n");
}

#[test]
fn part_size_rolls_into_several_files_with_counted_names() {
    let out = test_dir("sink-size");
    let mut s = sink(config(&out, SMALL, true));
    s.open(&test_info(1, 2, Clock::manual(0), "run", None)).unwrap();
    let values: Vec<String> = (0..20).map(|i| format!("value-{i}")).collect();
    let refs: Vec<&str> = values.iter().map(String::as_str).collect();
    write(&mut s, &refs);
    s.finish(&mut Output::default()).unwrap();
    let (visible, _) = files(&out);
    // Each file takes records until it is larger than 10 bytes: 2 records of 8 bytes.
    assert_eq!(visible.len(), 10, "{visible:?}");
    for counter in 0..10 {
        assert!(
            visible.iter().any(|f| f.ends_with(&format!("-1-{counter}.txt"))),
            "{visible:?}"
        );
    }
    assert_eq!(finished_lines(&out), expect(&refs));
}

#[test]
fn pending_files_wait_for_a_checkpoint_at_or_after_the_one_that_recorded_them() {
    let out = test_dir("sink-cycle");
    let chk = test_dir("sink-cycle-chk");
    let mut s = sink(config(&out, SMALL, false));
    s.open(&test_info(0, 1, Clock::manual(0), "run", None)).unwrap();
    write(&mut s, &["aaaaaaaaaaa"]); // 12 bytes: the next record rolls
    snapshot(&mut s, 1, &chk); // 12 bytes > 10: the policy rolls it at the checkpoint
    write(&mut s, &["b"]);
    s.notify_checkpoint_complete(1).unwrap();
    assert_eq!(
        finished_lines(&out),
        expect(&["aaaaaaaaaaa"]),
        "rolled at checkpoint 1, committed by it"
    );
    write(&mut s, &["cccccccccc"]); // "b\n" + 11 bytes: 13 > 10
    write(&mut s, &["d"]); // rolls the file with b and c: pending, not yet recorded
    s.notify_checkpoint_complete(1).unwrap(); // a repeated notification commits nothing new
    assert_eq!(finished_lines(&out).len(), 1);
    snapshot(&mut s, 2, &chk);
    snapshot(&mut s, 3, &chk);
    assert_eq!(
        finished_lines(&out).len(),
        1,
        "nothing is finished before its checkpoint completes"
    );
    // Notifications may skip ids: 3 commits what 2 recorded.
    s.notify_checkpoint_complete(3).unwrap();
    assert_eq!(finished_lines(&out), expect(&["aaaaaaaaaaa", "b", "cccccccccc"]));
    s.finish(&mut Output::default()).unwrap();
    assert_eq!(
        finished_lines(&out).len(),
        3,
        "with checkpoints, the end waits for the final one"
    );
    snapshot(&mut s, 4, &chk);
    s.notify_checkpoint_complete(4).unwrap();
    assert_eq!(finished_lines(&out), expect(&["aaaaaaaaaaa", "b", "cccccccccc", "d"]));
    assert!(files(&out).1.is_empty());
}

#[test]
fn on_checkpoint_policy_rolls_at_each_checkpoint_only() {
    let out = test_dir("sink-on-checkpoint");
    let chk = test_dir("sink-on-checkpoint-chk");
    let mut s = sink(config(&out, RollingPolicy::OnCheckpoint, false));
    let clock = Clock::manual(0);
    s.open(&test_info(0, 1, clock.clone(), "run", None)).unwrap();
    assert_eq!(s.next_processing_time(), None);
    write(&mut s, &[&"x".repeat(1000), "y"]);
    snapshot(&mut s, 1, &chk);
    write(&mut s, &["z"]);
    s.notify_checkpoint_complete(1).unwrap();
    let (visible, hidden) = files(&out);
    assert_eq!((visible.len(), hidden.len()), (1, 1));
}

#[test]
fn time_based_rolling_at_the_bucket_check_interval() {
    let out = test_dir("sink-time");
    let policy = RollingPolicy::Default {
        part_size: 1 << 20,
        rollover_interval_ms: 10_000,
        inactivity_interval_ms: 3_000,
    };
    let clock = Clock::manual(0);
    let mut s = sink(config(&out, policy, true));
    s.open(&test_info(0, 1, clock.clone(), "run", None)).unwrap();
    assert_eq!(s.next_processing_time(), Some(1000));
    write(&mut s, &["a"]);
    clock.advance_to(2000);
    s.on_processing_time(2000, &mut Output::default()).unwrap();
    assert_eq!(s.pending_now.len(), 0, "active for 2 s only");
    assert_eq!(s.next_processing_time(), Some(3000));
    clock.advance_to(3000);
    s.on_processing_time(3000, &mut Output::default()).unwrap();
    assert_eq!(s.pending_now.len(), 1, "inactive for 3 s: rolled");
    write(&mut s, &["b"]);
    s.finish(&mut Output::default()).unwrap();
    assert_eq!(files(&out).0.len(), 2);
}

#[test]
fn date_time_buckets_are_directories_named_by_processing_time() {
    let out = test_dir("sink-buckets");
    let mut cfg = config(&out, RollingPolicy::DEFAULT, true);
    cfg.assigner = BucketAssigner::DateTime {
        format: DateTimeFormat::parse("yyyy-MM-dd--HH").unwrap(),
        zone: TimeZone::UTC,
    };
    let clock = Clock::manual(0);
    let mut s = sink(cfg);
    s.open(&test_info(0, 1, clock.clone(), "run", None)).unwrap();
    write(&mut s, &["midnight"]);
    clock.advance_to(3_600_000 + 5);
    write(&mut s, &["one"]);
    s.finish(&mut Output::default()).unwrap();
    let (visible, _) = files(&out);
    assert_eq!(visible.len(), 2);
    assert!(visible[0].starts_with("1970-01-01--00/part-"), "{visible:?}");
    assert!(visible[1].starts_with("1970-01-01--01/part-"), "{visible:?}");
}

/// Run 1 writes, checkpoints, writes more and crashes; run 2 restores: readers see exactly the
/// records before the checkpoint plus what run 2 writes.
#[test]
fn restore_commits_pending_truncates_in_progress_and_deletes_orphans() {
    let out = test_dir("sink-restore");
    let chk = test_dir("sink-restore-chk");
    let mut run1 = sink(config(&out, SMALL, false));
    run1.open(&test_info(0, 1, Clock::manual(0), "run-1", None)).unwrap();
    write(&mut run1, &["0123456789a", "in-progress"]); // the first file rolls: pending
    let state = snapshot(&mut run1, 1, &chk); // pending a; in-progress "in-progress\n" (12 > 10: rolled too)
    write(&mut run1, &["lost"]);
    write(&mut run1, &["lost-too-lost-too"]);
    write(&mut run1, &["lost-3"]);
    run1.close().unwrap(); // crash: notify(1) never came
    let (visible, hidden) = files(&out);
    assert!(visible.is_empty());
    assert_eq!(hidden.len(), 4);
    // A file of another sink in the same directory is left alone.
    let foreign = out.join(".part-foreign.inprogress.x");
    std::fs::write(&foreign, "other").unwrap();

    for attempt in ["run-2", "run-3"] {
        // run-3: run 2 crashed after restoring; restoring again is idempotent.
        let mut run = sink(config(&out, SMALL, true));
        run.open(&test_info(0, 1, Clock::manual(0), attempt, Some(vec![state.clone()])))
            .unwrap();
        assert_eq!(finished_lines(&out), expect(&["0123456789a", "in-progress"]));
        let hidden = files(&out).1;
        assert_eq!(hidden, [".part-foreign.inprogress.x"], "orphans deleted");
        run.close().unwrap();
    }
    let mut run = sink(config(&out, SMALL, true));
    run.open(&test_info(0, 1, Clock::manual(0), "run-4", Some(vec![state])))
        .unwrap();
    write(&mut run, &["new"]);
    run.finish(&mut Output::default()).unwrap();
    assert_eq!(finished_lines(&out), expect(&["0123456789a", "in-progress", "new"]));
}

#[test]
fn restored_in_progress_files_are_cut_back_and_written_on() {
    let out = test_dir("sink-resume");
    let chk = test_dir("sink-resume-chk");
    let mut run1 = sink(config(&out, RollingPolicy::DEFAULT, false));
    run1.open(&test_info(0, 1, Clock::manual(7), "run-1", None)).unwrap();
    write(&mut run1, &["kept"]);
    let state = snapshot(&mut run1, 1, &chk);
    write(&mut run1, &["dropped"]);
    run1.close().unwrap();
    let mut run2 = sink(config(&out, RollingPolicy::DEFAULT, true));
    run2.open(&test_info(0, 1, Clock::manual(9), "run-2", Some(vec![state])))
        .unwrap();
    write(&mut run2, &["added"]);
    run2.finish(&mut Output::default()).unwrap();
    let (visible, hidden) = files(&out);
    assert!(hidden.is_empty());
    assert_eq!(visible.len(), 1, "the restored file is continued");
    assert_eq!(std::fs::read_to_string(out.join(&visible[0])).unwrap(), "kept\nadded\n");
}

fn rescale(from: usize, to: usize) {
    let out = test_dir(&format!("sink-rescale-{from}-{to}"));
    let chk = test_dir(&format!("sink-rescale-chk-{from}-{to}"));
    let mut states = Vec::new();
    let mut expected = Vec::new();
    for i in 0..from {
        let mut s = sink(config(&out, SMALL, false));
        s.open(&test_info(i, from, Clock::manual(0), "run-1", None)).unwrap();
        let values: Vec<String> = (0..5).map(|n| format!("s{i}-{n}")).collect();
        let refs: Vec<&str> = values.iter().map(String::as_str).collect();
        write(&mut s, &refs);
        expected.extend(values);
        states.push(snapshot(&mut s, 1, &chk.join(i.to_string())));
        write(&mut s, &["after-the-checkpoint"]);
        s.close().unwrap();
    }
    for i in 0..to {
        let mut s = sink(config(&out, SMALL, true));
        s.open(&test_info(i, to, Clock::manual(0), "run-2", Some(states.clone())))
            .unwrap();
        s.finish(&mut Output::default()).unwrap();
        s.close().unwrap();
    }
    let refs: Vec<&str> = expected.iter().map(String::as_str).collect();
    assert_eq!(finished_lines(&out), expect(&refs), "{from} -> {to}");
    assert!(files(&out).1.is_empty(), "{from} -> {to}: {:?}", files(&out).1);
}

#[test]
fn restore_at_another_parallelism_keeps_every_record_once() {
    rescale(1, 2);
    rescale(2, 1);
    rescale(3, 2);
}

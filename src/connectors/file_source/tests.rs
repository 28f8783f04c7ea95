use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use super::*;
use crate::connectors::{test_dir, test_info};
use crate::runtime::record::Record;

/// Lines as Rust strings.
struct Strings;

impl LineConverter<String> for Strings {
    fn emit(&mut self, lines: &Lines, out: &mut Output<String>) -> OperatorResult {
        for line in lines.iter() {
            out.emit(Record::new(line.to_string()));
        }
        Ok(())
    }
}

fn source(paths: &[&Path], monitor: Option<i64>) -> FileSource<String, Strings> {
    FileSource::new(
        FileSourceConfig {
            paths: paths.iter().map(|p| p.to_path_buf()).collect(),
            monitor_interval_ms: monitor,
            charset: Charset::Utf8,
        },
        Strings,
    )
}

/// Polls until the source is exhausted (or idle); returns the lines and the last status.
fn drain(s: &mut FileSource<String, Strings>, max: usize) -> (Vec<String>, SourceStatus) {
    let mut lines = Vec::new();
    loop {
        let mut out = Output::default();
        let status = s.poll_batch(max, Instant::now(), &mut out).unwrap();
        assert!(out.main.len() <= max);
        lines.extend(out.main.into_iter().map(|r| r.value));
        if matches!(status, SourceStatus::Exhausted | SourceStatus::Idle) {
            return (lines, status);
        }
    }
}

fn write_files(dir: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

fn counts(lines: &[String]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for l in lines {
        *m.entry(l.clone()).or_insert(0) += 1;
    }
    m
}

fn expected_lines(n_files: usize, per_file: usize) -> Vec<String> {
    (0..n_files)
        .flat_map(|f| (0..per_file).map(move |l| format!("f{f}-l{l}")))
        .collect()
}

fn many_files(dir: &Path, n_files: usize, per_file: usize) {
    for f in 0..n_files {
        let text: String = (0..per_file).map(|l| format!("f{f}-l{l}\n")).collect();
        std::fs::write(dir.join(format!("f{f}.txt")), text).unwrap();
    }
}

#[test]
fn bounded_source_reads_every_line_once_in_batches() {
    let dir = test_dir("source-bounded");
    write_files(
        &dir,
        &[
            ("a.txt", "1\n2\n3\n"),
            ("sub/b.txt", "4\r\n5"),
            ("_c.txt", "hidden"),
            ("e.txt", ""),
        ],
    );
    let mut s = source(&[&dir], None);
    s.open(&test_info(0, 1, Clock::manual(0), "r", None)).unwrap();
    let (lines, status) = drain(&mut s, 2);
    assert_eq!(status, SourceStatus::Exhausted);
    assert_eq!(lines, ["1", "2", "3", "4", "5"]);
}

#[test]
fn parallel_subtasks_split_the_files() {
    let dir = test_dir("source-parallel");
    many_files(&dir, 12, 5);
    for parallelism in [1, 2, 3] {
        let mut all = Vec::new();
        for i in 0..parallelism {
            let mut s = source(&[&dir], None);
            s.open(&test_info(i, parallelism, Clock::manual(0), "r", None)).unwrap();
            all.extend(drain(&mut s, 7).0);
        }
        assert_eq!(
            counts(&all),
            counts(&expected_lines(12, 5)),
            "parallelism {parallelism}"
        );
    }
}

/// Reads some lines, snapshots, reads on (what a failed run would do), then restores at
/// another parallelism: the restored job's lines and the lines before the snapshot are every
/// line once.
fn rescale(from: usize, to: usize) {
    let dir = test_dir(&format!("source-rescale-{from}-{to}"));
    let snapshots = test_dir(&format!("source-rescale-snap-{from}-{to}"));
    many_files(&dir, 7, 9);
    let mut before = Vec::new();
    let mut dirs = Vec::new();
    for i in 0..from {
        let mut s = source(&[&dir], None);
        s.open(&test_info(i, from, Clock::manual(0), "r1", None)).unwrap();
        // One batch of 4 lines, then a checkpoint.
        let mut out = Output::default();
        s.poll_batch(4, Instant::now(), &mut out).unwrap();
        before.extend(out.main.into_iter().map(|r| r.value));
        let d = snapshots.join(i.to_string());
        std::fs::create_dir_all(&d).unwrap();
        let ctx = SnapshotContext {
            checkpoint_id: 1,
            timestamp: 0,
            directory: &d,
            checkpoint_directory: &snapshots,
        };
        s.snapshot_state(&ctx).unwrap();
        dirs.push(d);
        // Lines read after the checkpoint are lost with the failed run.
        drain(&mut s, 3);
    }
    // A file added after the checkpoint: a bounded restored job does not list again.
    std::fs::write(dir.join("late.txt"), "late\n").unwrap();
    let mut after = Vec::new();
    for i in 0..to {
        let mut s = source(&[&dir], None);
        s.open(&test_info(i, to, Clock::manual(0), "r2", Some(dirs.clone())))
            .unwrap();
        after.extend(drain(&mut s, 5).0);
    }
    before.extend(after);
    assert_eq!(counts(&before), counts(&expected_lines(7, 9)), "{from} -> {to}");
}

#[test]
fn restoring_at_another_parallelism_reads_every_line_once() {
    rescale(1, 2);
    rescale(2, 1);
    rescale(2, 3);
    rescale(1, 1);
}

#[test]
fn unbounded_source_finds_new_files_at_its_interval() {
    let dir = test_dir("source-monitor");
    write_files(&dir, &[("a.txt", "a\n")]);
    let clock = Clock::manual(1_000);
    let mut s = source(&[&dir], Some(500));
    s.open(&test_info(0, 1, clock.clone(), "r", None)).unwrap();
    let (lines, status) = drain(&mut s, 10);
    assert_eq!((lines, status), (vec!["a".to_string()], SourceStatus::Idle));
    write_files(&dir, &[("b.txt", "b\n"), (".b.txt.inprogress", "no\n")]);
    assert_eq!(
        drain(&mut s, 10).0,
        Vec::<String>::new(),
        "not listed before the interval"
    );
    clock.advance_to(1_500);
    assert_eq!(drain(&mut s, 10).0, ["b"]);
    clock.advance_to(2_000);
    assert_eq!(drain(&mut s, 10), (vec![], SourceStatus::Idle), "a file is read once");

    // Restored: the files already taken are not read again; new ones are.
    let snap = test_dir("source-monitor-snap");
    let ctx = SnapshotContext {
        checkpoint_id: 1,
        timestamp: 0,
        directory: &snap,
        checkpoint_directory: &snap,
    };
    s.snapshot_state(&ctx).unwrap();
    write_files(&dir, &[("c.txt", "c\n")]);
    let mut all = Vec::new();
    for i in 0..2 {
        let mut r = source(&[&dir], Some(500));
        r.open(&test_info(i, 2, clock.clone(), "r2", Some(vec![snap.to_path_buf()])))
            .unwrap();
        all.extend(drain(&mut r, 10).0);
    }
    assert_eq!(all, ["c"]);
}

#[test]
fn missing_paths_and_bad_text_are_errors_naming_the_file() {
    let dir = test_dir("source-errors");
    let mut s = source(&[&dir.join("absent")], None);
    let err = s
        .open(&test_info(0, 1, Clock::manual(0), "r", None))
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("absent"), "{err}");
    std::fs::write(dir.join("bad.txt"), b"ok\n\xc3\x28\n").unwrap();
    let mut s = source(&[&dir], None);
    s.open(&test_info(0, 1, Clock::manual(0), "r", None)).unwrap();
    let mut out = Output::default();
    let err = s.poll_batch(10, Instant::now(), &mut out).err().unwrap().to_string();
    assert!(err.contains("bad.txt") && err.contains("byte offset 3"), "{err}");
}

//! Sources and sinks that need no Python: a source fed by hand (tests), and the file source
//! and file sink (their Python values are made by adapters in `bindings::connectors`).

pub mod charset;
pub mod connector_state;
pub mod file_error;
pub mod file_sink;
pub mod file_source;
pub mod manual_source;

/// A fresh, empty directory for a test, removed with what it holds when dropped.
#[cfg(test)]
pub(crate) struct TestDir(std::path::PathBuf);

#[cfg(test)]
impl std::ops::Deref for TestDir {
    type Target = std::path::Path;

    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

#[cfg(test)]
impl AsRef<std::path::Path> for TestDir {
    fn as_ref(&self) -> &std::path::Path {
        &self.0
    }
}

#[cfg(test)]
impl Drop for TestDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A fresh, empty directory for a test.
#[cfg(test)]
pub(crate) fn test_dir(name: &str) -> TestDir {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("ferroflow-{name}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a test directory can be made");
    TestDir(dir)
}

/// Each old subtask's operator state in a directory of its own under a fresh test directory,
/// in subtask order; removed when dropped.
#[cfg(test)]
pub(crate) struct TestSnapshots {
    _dir: TestDir,
    dirs: Vec<std::path::PathBuf>,
}

#[cfg(test)]
impl std::ops::Deref for TestSnapshots {
    type Target = [std::path::PathBuf];

    fn deref(&self) -> &[std::path::PathBuf] {
        &self.dirs
    }
}

/// Writes each old subtask's operator state into a directory of its own under a fresh test
/// directory.
#[cfg(test)]
pub(crate) fn write_test_snapshots(
    snapshots: impl IntoIterator<Item = crate::state::operator_state::OperatorStateSnapshot>,
    name: &str,
) -> TestSnapshots {
    let dir = test_dir(name);
    let dirs = snapshots
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            let d = dir.join(i.to_string());
            s.write_to(&d).expect("a test snapshot can be written");
            d
        })
        .collect();
    TestSnapshots { _dir: dir, dirs }
}

/// A task info for tests of connectors: subtask `index` of `parallelism`, restoring from
/// `restore` when given.
#[cfg(test)]
pub(crate) fn test_info(
    index: usize,
    parallelism: usize,
    clock: crate::time::clock::Clock,
    run_id: &str,
    restore: Option<Vec<std::path::PathBuf>>,
) -> crate::runtime::operator::TaskInfo {
    crate::runtime::operator::TaskInfo {
        clock,
        job_name: "test".into(),
        operator_name: "connector".into(),
        task_name: "connector".into(),
        subtask_index: index,
        parallelism,
        max_parallelism: 128,
        attempt_number: 0,
        operator_id: "connector".into(),
        restore: restore.map(|directories| {
            std::sync::Arc::new(crate::checkpoint::OperatorRestore {
                checkpoint_id: 1,
                directories,
            })
        }),
        run_id: run_id.into(),
        batch_bytes: usize::MAX,
        user_metrics: Default::default(),
    }
}

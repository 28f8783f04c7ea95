//! Working directories a killed process left behind. Each process that makes RocksDB stores in a
//! base directory holds an advisory lock (`flock`) on `ferroflow-rocksdb-<pid>.lock` there for as
//! long as one of its stores is open; the operating system releases it when the process dies,
//! however it dies. When a process takes its lock, it removes the directories
//! (`ferroflow-rocksdb-<pid>-<n>-...`) of every process whose lock file is no longer locked, and
//! that lock file. A live process's directories, and anything not named this way, are left alone.
//! The last store of a process to close removes its lock file.

use std::collections::HashMap;
use std::fs::{File, OpenOptions, TryLockError};
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The start of the names of the stores' directories and lock files.
pub const PREFIX: &str = "ferroflow-rocksdb-";

/// This process's locks, by base directory, with the number of leases of each.
static LOCKS: Mutex<Option<HashMap<PathBuf, Held>>> = Mutex::new(None);

struct Held {
    _file: File,
    leases: usize,
}

/// This process's claim on its working directories in a base directory: the lock stays held
/// while a lease of it lives.
#[derive(Debug)]
pub struct DirectoryLease {
    base: PathBuf,
}

/// The lock file of process `pid` in `base`.
fn lock_path(base: &Path, pid: u32) -> PathBuf {
    base.join(format!("{PREFIX}{pid}.lock"))
}

/// The process id in a lock file's name, if it is one.
fn lock_owner(name: &str) -> Option<u32> {
    name.strip_prefix(PREFIX)?.strip_suffix(".lock")?.parse().ok()
}

/// Whether `name` is a working directory of process `pid`: `<PREFIX><pid>-<n>-...`.
fn is_directory_of(name: &str, pid: u32) -> bool {
    name.strip_prefix(PREFIX)
        .and_then(|rest| rest.strip_prefix(&format!("{pid}-")))
        .and_then(|rest| rest.split_once('-'))
        .is_some_and(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Whether `file` is still the file at `path` (not unlinked or replaced since it was opened).
fn is_file_at(file: &File, path: &Path) -> bool {
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

fn context(path: &Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

impl DirectoryLease {
    /// A lease of this process's lock in `base`, taken (and the leftovers of dead processes
    /// removed) if this process holds no lease there yet.
    pub fn take(base: &Path) -> io::Result<DirectoryLease> {
        let base = base.to_path_buf();
        let mut locks = LOCKS.lock().unwrap_or_else(|e| e.into_inner());
        let locks = locks.get_or_insert_with(HashMap::new);
        if let Some(held) = locks.get_mut(&base) {
            held.leases += 1;
            return Ok(DirectoryLease { base });
        }
        let file = lock(&base)?;
        remove_leftovers(&base);
        locks.insert(base.clone(), Held { _file: file, leases: 1 });
        Ok(DirectoryLease { base })
    }
}

impl Drop for DirectoryLease {
    fn drop(&mut self) {
        let mut locks = LOCKS.lock().unwrap_or_else(|e| e.into_inner());
        let Some(locks) = locks.as_mut() else { return };
        let Some(held) = locks.get_mut(&self.base) else { return };
        held.leases -= 1;
        if held.leases == 0 {
            // Unlinked while still locked: another process never takes it for a dead one's.
            let _ = std::fs::remove_file(lock_path(&self.base, std::process::id()));
            locks.remove(&self.base);
        }
    }
}

/// Takes this process's lock in `base`; removes directories an earlier process with the same
/// id left there.
fn lock(base: &Path) -> io::Result<File> {
    let pid = std::process::id();
    let path = lock_path(base, pid);
    loop {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| context(&path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(io::Error::new(
                    io::ErrorKind::WouldBlock,
                    format!("{} is locked by another process with this process's id", path.display()),
                ))
            }
            Err(TryLockError::Error(e)) => return Err(context(&path, e)),
        }
        // A process that found the file unlocked before this one locked it may have removed
        // it: then lock the new one.
        if is_file_at(&file, &path) {
            remove_directories_of(base, pid);
            return Ok(file);
        }
    }
}

/// Removes the directories and lock files of processes in `base` that no longer hold their lock.
fn remove_leftovers(base: &Path) {
    let Ok(entries) = std::fs::read_dir(base) else { return };
    let own = std::process::id();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(lock_owner) else {
            continue;
        };
        if pid == own {
            continue;
        }
        let path = entry.path();
        let Ok(file) = File::open(&path) else { continue };
        // Locked: its process is alive. Unlocked but no longer the file at `path`: another
        // process cleaned up first (and a new process with that id may have locked a new one).
        if file.try_lock().is_ok() && is_file_at(&file, &path) {
            remove_directories_of(base, pid);
            let _ = std::fs::remove_file(&path);
        }
    }
}

/// Removes the working directories of process `pid` in `base`.
fn remove_directories_of(base: &Path, pid: u32) {
    let Ok(entries) = std::fs::read_dir(base) else { return };
    for entry in entries.flatten() {
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if is_dir && entry.file_name().to_str().is_some_and(|n| is_directory_of(n, pid)) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_matched_exactly() {
        assert_eq!(lock_owner("ferroflow-rocksdb-42.lock"), Some(42));
        assert_eq!(lock_owner("ferroflow-rocksdb-x.lock"), None);
        assert_eq!(lock_owner("ferroflow-rocksdb-42-0-op-0"), None);
        assert!(is_directory_of("ferroflow-rocksdb-42-0-Map-1", 42));
        assert!(!is_directory_of("ferroflow-rocksdb-42-0-Map-1", 4));
        assert!(!is_directory_of("ferroflow-rocksdb-420-0-Map-1", 42));
        assert!(!is_directory_of("ferroflow-rocksdb-42-x-Map-1", 42));
        assert!(!is_directory_of("ferroflow-rocksdb-test-42-0", 42));
        assert!(!is_directory_of("ferroflow-rocksdb-42.lock", 42));
    }

    #[test]
    fn a_dead_process_s_directories_go_and_a_live_one_s_stay() {
        let base = std::env::temp_dir().join(format!("ferroflow-lock-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        std::fs::create_dir_all(&base).unwrap();
        // A dead process (its lock file unlocked) and a live one (locked here, by another file
        // description, as another process would).
        let (dead, live) = (u32::MAX - 1, u32::MAX - 2);
        for pid in [dead, live] {
            std::fs::create_dir_all(base.join(format!("{PREFIX}{pid}-0-op-0/sub"))).unwrap();
            std::fs::write(lock_path(&base, pid), b"").unwrap();
        }
        let live_lock = File::open(lock_path(&base, live)).unwrap();
        live_lock.try_lock().unwrap();
        std::fs::create_dir_all(base.join("ferroflow-rocksdb-mine")).unwrap();
        let lease = DirectoryLease::take(&base).unwrap();
        let again = DirectoryLease::take(&base).unwrap();
        assert!(lock_path(&base, std::process::id()).exists());
        assert!(!base.join(format!("{PREFIX}{dead}-0-op-0")).exists());
        assert!(!lock_path(&base, dead).exists());
        assert!(base.join(format!("{PREFIX}{live}-0-op-0")).exists());
        assert!(lock_path(&base, live).exists());
        assert!(base.join("ferroflow-rocksdb-mine").exists());
        drop(lease);
        assert!(lock_path(&base, std::process::id()).exists());
        drop(again);
        assert!(!lock_path(&base, std::process::id()).exists());
        drop(live_lock);
        std::fs::remove_dir_all(&base).unwrap();
    }
}

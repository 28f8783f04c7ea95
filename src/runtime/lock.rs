//! Locking the engine's shared bookkeeping (job control, checkpoint history, a job's outcome).

use std::sync::{Mutex, MutexGuard};

/// Locks `m`, also after a thread panicked while holding it: every critical section on these
/// mutexes is a single push, take or assignment, so what a panicking thread left is consistent,
/// and a panic (a bug, reported as a task failure) must not take the job's shutdown with it.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

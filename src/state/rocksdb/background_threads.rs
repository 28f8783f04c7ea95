//! RocksDB's background threads (one flush and one compaction thread, in the thread pools of
//! RocksDB's default `Env`, which every database of the process shares) run while a store is
//! open, and end when the last store of the process closes: a database opening raises the pools
//! to what it needs; the last store's close sets them to zero threads, and they exit.

use std::sync::Mutex;

/// How many stores of this process are open.
static OPEN_STORES: Mutex<usize> = Mutex::new(0);

/// One open store's use of the background threads; dropped after its database closed.
#[derive(Debug)]
pub struct ThreadsInUse(());

impl ThreadsInUse {
    /// Opens a store's database with `open`, counted as a user of the background threads.
    pub fn open<T, E>(open: impl FnOnce() -> Result<T, E>) -> Result<(T, ThreadsInUse), E> {
        let mut open_stores = OPEN_STORES.lock().unwrap_or_else(|e| e.into_inner());
        let value = open()?;
        *open_stores += 1;
        Ok((value, ThreadsInUse(())))
    }
}

impl Drop for ThreadsInUse {
    fn drop(&mut self) {
        let mut open_stores = OPEN_STORES.lock().unwrap_or_else(|e| e.into_inner());
        *open_stores -= 1;
        if *open_stores == 0 {
            // The default Env is process-wide; this handle to it does not own it.
            if let Ok(mut env) = rocksdb::Env::new() {
                env.set_background_threads(0);
                env.set_high_priority_background_threads(0);
            }
        }
    }
}

//! Which backend keeps a job's keyed state: the heap (objects as they are) or RocksDB (bytes on
//! local disk, for state larger than memory), and where RocksDB puts its files.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::state::rocksdb::directory_lock::{DirectoryLease, PREFIX};
use crate::state::rocksdb::options::RocksDbMemory;
use crate::state::rocksdb::StoreDirectory;

/// The memory budget of a job's RocksDB stores when none is configured.
pub const DEFAULT_ROCKSDB_MEMORY: usize = 256 << 20;

#[derive(Clone, Debug, Default)]
pub enum StateBackendConfig {
    #[default]
    HashMap,
    RocksDb(RocksDbBackendConfig),
}

#[derive(Clone, Debug)]
pub struct RocksDbBackendConfig {
    /// The directory the stores' directories are made in.
    pub local_directory: PathBuf,
    /// Shared by every store of the job.
    pub memory: RocksDbMemory,
}

impl RocksDbBackendConfig {
    /// Stores under `local_directory` (the system's temporary directory if none), sharing a
    /// memory budget of `memory_bytes`.
    pub fn new(local_directory: Option<PathBuf>, memory_bytes: usize) -> RocksDbBackendConfig {
        RocksDbBackendConfig {
            local_directory: local_directory.unwrap_or_else(std::env::temp_dir),
            memory: RocksDbMemory::new(memory_bytes),
        }
    }

    /// A directory no other store of this process uses, named after the operator and subtask,
    /// with this process's lease on its working directories in the local directory (taking it
    /// removes what killed processes left there).
    pub fn store_directory(&self, operator: &str, subtask: usize) -> std::io::Result<StoreDirectory> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let operator: String = operator
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' })
            .take(40)
            .collect();
        let lease = DirectoryLease::take(&self.local_directory)?;
        let path = self.local_directory.join(format!(
            "{PREFIX}{}-{}-{operator}-{subtask}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        Ok(StoreDirectory {
            path,
            lease: Some(lease),
        })
    }
}

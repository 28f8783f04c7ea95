//! Keyed state in an embedded RocksDB: values are bytes (the caller serializes), one column
//! family per state, rows laid out by [`layout`]. State can be larger than memory: RocksDB keeps
//! what does not fit its memory budget on disk.

pub mod background_threads;
pub mod directory_lock;
pub mod layout;
pub mod options;
pub mod snapshot;
pub mod write_cache;

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use rocksdb::{DBPinnableSlice, IteratorMode, ReadOptions, WriteBatch, WriteOptions, DB};

/// A row's value: a pending write, or RocksDB's.
pub enum StateValue<'a> {
    Pending(&'a [u8]),
    Stored(DBPinnableSlice<'a>),
    /// A list RocksDB holds with pending appends.
    Joined(Vec<u8>),
}

impl std::ops::Deref for StateValue<'_> {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            StateValue::Pending(v) => v,
            StateValue::Stored(v) => v,
            StateValue::Joined(v) => v,
        }
    }
}

use crate::runtime::key::Key;
use crate::state::keyed::{ttl_mismatch, Namespace, StateId, StateKind};
use crate::time::clock::Clock;

use self::background_threads::ThreadsInUse;
use self::directory_lock::DirectoryLease;
use self::layout::{parse_row, prefix_end};
use self::options::{column_family_options, db_options, RocksDbMemory, TtlSetting};
use self::write_cache::{PendingWrite, WriteCache};

/// A RocksDB operation that failed, or state that cannot be read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RocksDbError(pub String);

impl fmt::Display for RocksDbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RocksDbError {}

impl From<rocksdb::Error> for RocksDbError {
    fn from(e: rocksdb::Error) -> Self {
        RocksDbError(format!("RocksDB: {e}"))
    }
}

/// What a store needs besides its directory: the job's memory budget, the max parallelism its
/// key groups are of, and processing time (for the compaction filter of states with a TTL).
#[derive(Clone, Debug)]
pub struct RocksDbSettings {
    pub memory: RocksDbMemory,
    pub max_parallelism: usize,
    pub clock: Clock,
}

/// A registered state.
#[derive(Clone, Debug)]
pub struct StateInfo {
    pub name: String,
    pub kind: StateKind,
    pub ttl: TtlSetting,
}

impl StateInfo {
    fn column_family(&self) -> String {
        column_family_of(&self.name)
    }
}

/// The column family of the state `name` (prefixed: RocksDB's own family is "default").
fn column_family_of(name: &str) -> String {
    format!("state:{name}")
}

/// A store's directory, with this process's lease on it when it is one of the process's working
/// directories (see [`directory_lock`]); none for a directory the caller chose.
#[derive(Debug)]
pub struct StoreDirectory {
    pub path: PathBuf,
    pub lease: Option<DirectoryLease>,
}

impl From<PathBuf> for StoreDirectory {
    fn from(path: PathBuf) -> StoreDirectory {
        StoreDirectory { path, lease: None }
    }
}

/// Removes a store's directory once its database is closed (a field declared after the
/// database, so it drops after it), then lets go of its lease.
#[derive(Debug)]
struct RemoveOnDrop(StoreDirectory);

impl RemoveOnDrop {
    fn path(&self) -> &Path {
        &self.0.path
    }
}

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0.path);
    }
}

/// The keyed state of one operator instance in RocksDB.
pub struct RocksDbKeyedState {
    db: DB,
    /// Options of column families made after opening: their compaction filters must outlive
    /// the database (RocksDB keeps only a pointer), so they drop after it.
    column_family_options: Vec<rocksdb::Options>,
    _directory: RemoveOnDrop,
    /// Dropped after the database closed.
    _threads: ThreadsInUse,
    settings: RocksDbSettings,
    states: Vec<StateInfo>,
    ids: HashMap<String, StateId>,
    read: ReadOptions,
    write: WriteOptions,
    /// The latest writes, not yet in RocksDB.
    pending: WriteCache,
    /// Names of the SST files of the last snapshot (the next one reports what is new).
    last_snapshot_files: Vec<String>,
}

impl fmt::Debug for RocksDbKeyedState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RocksDbKeyedState({})", self.directory().display())
    }
}

fn write_options() -> WriteOptions {
    let mut write = WriteOptions::default();
    // Durability comes from snapshots (checkpoints), as in Flink: no write-ahead log.
    write.disable_wal(true);
    write
}

impl RocksDbKeyedState {
    /// A new, empty store in `directory` (created; removed again when the store is dropped).
    pub fn open(
        directory: impl Into<StoreDirectory>,
        settings: RocksDbSettings,
    ) -> Result<RocksDbKeyedState, RocksDbError> {
        let directory = directory.into();
        if directory.path.exists() {
            return Err(RocksDbError(format!(
                "{} already exists: a new state store needs a directory of its own",
                directory.path.display()
            )));
        }
        std::fs::create_dir_all(&directory.path)
            .map_err(|e| RocksDbError(format!("{}: {e}", directory.path.display())))?;
        let guard = RemoveOnDrop(directory);
        let opened = ThreadsInUse::open(|| DB::open(&db_options(&settings.memory), guard.path()))?;
        Ok(RocksDbKeyedState::with_db(opened, guard, settings, Vec::new()))
    }

    fn with_db(
        (db, threads): (DB, ThreadsInUse),
        directory: RemoveOnDrop,
        settings: RocksDbSettings,
        states: Vec<StateInfo>,
    ) -> Self {
        let ids = states
            .iter()
            .enumerate()
            .map(|(id, s)| (s.name.clone(), id as StateId))
            .collect();
        RocksDbKeyedState {
            db,
            column_family_options: Vec::new(),
            _directory: directory,
            _threads: threads,
            settings,
            states,
            ids,
            read: ReadOptions::default(),
            write: write_options(),
            pending: WriteCache::default(),
            last_snapshot_files: Vec::new(),
        }
    }

    pub fn directory(&self) -> &Path {
        self._directory.path()
    }

    pub fn max_parallelism(&self) -> usize {
        self.settings.max_parallelism
    }

    /// The id of state `name`, made with its column family the first time. A name keeps its
    /// kind; a new time-to-live replaces the old one.
    pub fn register(&mut self, name: &str, kind: StateKind, ttl_ms: Option<i64>) -> Result<StateId, String> {
        if let Some(&id) = self.ids.get(name) {
            let state = &self.states[id as usize];
            if state.kind != kind {
                return Err(format!(
                    "the state '{name}' is already a {}, so it cannot also be a {}: give it another name",
                    state.kind.name(),
                    kind.name()
                ));
            }
            if state.ttl.get().is_some() != ttl_ms.is_some() {
                return Err(ttl_mismatch(name, state.ttl.get().is_some()));
            }
            state.ttl.set(ttl_ms);
            return Ok(id);
        }
        let state = StateInfo {
            name: name.to_string(),
            kind,
            ttl: TtlSetting::new(ttl_ms),
        };
        self.create_column_family(&state).map_err(|e| e.to_string())?;
        let id = self.states.len() as StateId;
        self.ids.insert(name.to_string(), id);
        self.states.push(state);
        Ok(id)
    }

    fn create_column_family(&mut self, state: &StateInfo) -> Result<(), RocksDbError> {
        let options = self.column_family_options(state);
        self.db.create_cf(state.column_family(), &options)?;
        self.column_family_options.push(options);
        Ok(())
    }

    fn column_family_options(&self, state: &StateInfo) -> rocksdb::Options {
        let ttl = state
            .ttl
            .get()
            .map(|_| (state.ttl.clone(), self.settings.clock.clone()));
        column_family_options(&self.settings.memory, state.kind, ttl)
    }

    pub fn id_of(&self, name: &str) -> Option<StateId> {
        self.ids.get(name).copied()
    }

    pub fn states(&self) -> &[StateInfo] {
        &self.states
    }

    fn cf(&self, state: StateId) -> Result<&rocksdb::ColumnFamily, RocksDbError> {
        let info = self
            .states
            .get(state as usize)
            .ok_or_else(|| RocksDbError(format!("no state with id {state}")))?;
        self.db
            .cf_handle(&info.column_family())
            .ok_or_else(|| RocksDbError(format!("the column family of state '{}' is missing", info.name)))
    }

    /// Sets `out` to the row key prefix of (`key`, `namespace`).
    pub fn row_prefix(&self, out: &mut Vec<u8>, key: &Key, namespace: &Namespace) {
        layout::row_prefix(out, key, namespace, self.settings.max_parallelism);
    }

    /// The value of a row: its pending write, or what RocksDB holds (with pending list appends
    /// joined to it).
    pub fn get(&self, state: StateId, row: &[u8]) -> Result<Option<StateValue<'_>>, RocksDbError> {
        match self.pending.get(state, row) {
            Some(PendingWrite::Put(value)) => Ok(Some(StateValue::Pending(value))),
            Some(PendingWrite::Delete) => Ok(None),
            Some(PendingWrite::Merge(elements)) => {
                let mut joined = self.stored(state, row)?.map(|v| v.to_vec()).unwrap_or_default();
                joined.extend_from_slice(elements);
                Ok(Some(StateValue::Joined(joined)))
            }
            None => Ok(self.stored(state, row)?.map(StateValue::Stored)),
        }
    }

    /// What RocksDB holds for a row.
    fn stored(&self, state: StateId, row: &[u8]) -> Result<Option<DBPinnableSlice<'_>>, RocksDbError> {
        Ok(self.db.get_pinned_cf_opt(self.cf(state)?, row, &self.read)?)
    }

    pub fn put(&mut self, state: StateId, row: &[u8], value: &[u8]) -> Result<(), RocksDbError> {
        self.cf(state)?;
        if self.pending.write(state, row, PendingWrite::Put(value.to_vec())) {
            self.flush()?;
        }
        Ok(())
    }

    /// Appends list elements (framed by [`layout::push_element`]) to the row's list.
    pub fn merge(&mut self, state: StateId, row: &[u8], elements: &[u8]) -> Result<(), RocksDbError> {
        self.cf(state)?;
        if self.pending.merge(state, row, elements) {
            self.flush()?;
        }
        Ok(())
    }

    pub fn delete(&mut self, state: StateId, row: &[u8]) -> Result<(), RocksDbError> {
        self.cf(state)?;
        if self.pending.write(state, row, PendingWrite::Delete) {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes the pending writes to RocksDB, as one batch.
    pub fn flush(&mut self) -> Result<(), RocksDbError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let mut batch = WriteBatch::default();
        for (state, rows) in self.pending.states() {
            let cf = self.cf(state)?;
            for (row, write) in rows {
                match write {
                    PendingWrite::Put(value) => batch.put_cf(cf, row, value),
                    PendingWrite::Delete => batch.delete_cf(cf, row),
                    PendingWrite::Merge(elements) => batch.merge_cf(cf, row, elements),
                }
            }
        }
        self.db.write_opt(batch, &self.write)?;
        // Only once RocksDB has them: a failed write keeps them pending.
        self.pending.take();
        Ok(())
    }

    /// Calls `f(rest_of_row, value)` for every row starting with `prefix`, in row order;
    /// stops early when `f` returns false.
    pub fn scan_prefix(
        &mut self,
        state: StateId,
        prefix: &[u8],
        mut f: impl FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<(), RocksDbError> {
        self.flush()?;
        let mut read = ReadOptions::default();
        if let Some(end) = prefix_end(prefix) {
            read.set_iterate_upper_bound(end);
        }
        let mut iter = self.db.raw_iterator_cf_opt(self.cf(state)?, read);
        iter.seek(prefix);
        while let (Some(row), Some(value)) = (iter.key(), iter.value()) {
            if !row.starts_with(prefix) || !f(&row[prefix.len()..], value) {
                break;
            }
            iter.next();
        }
        iter.status()?;
        Ok(())
    }

    /// Deletes every row starting with `prefix`.
    pub fn delete_prefix(&mut self, state: StateId, prefix: &[u8]) -> Result<(), RocksDbError> {
        let mut rows = Vec::new();
        self.scan_prefix(state, prefix, |rest, _| {
            let mut row = prefix.to_vec();
            row.extend_from_slice(rest);
            rows.push(row);
            true
        })?;
        if rows.is_empty() {
            return Ok(());
        }
        let cf = self.cf(state)?;
        let mut batch = WriteBatch::default();
        for row in rows {
            batch.delete_cf(cf, row);
        }
        Ok(self.db.write_opt(batch, &self.write)?)
    }

    /// The keys with a row of `state` in `namespace`, in row order.
    pub fn keys(&mut self, state: StateId, namespace: &Namespace) -> Result<Vec<Key>, RocksDbError> {
        self.flush()?;
        let mut keys: Vec<Key> = Vec::new();
        let iter = self
            .db
            .iterator_cf_opt(self.cf(state)?, ReadOptions::default(), IteratorMode::Start);
        for item in iter {
            let (row, _) = item?;
            let (key, ns, _) = parse_row(&row).map_err(|e| RocksDbError(format!("a damaged row key: {e}")))?;
            if ns == *namespace && keys.last() != Some(&key) {
                keys.push(key);
            }
        }
        Ok(keys)
    }

    /// Counts the rows of every state, by reading them all.
    pub fn count_rows(&mut self) -> Result<u64, RocksDbError> {
        self.flush()?;
        let mut rows = 0;
        for id in 0..self.states.len() {
            let mut iter = self
                .db
                .raw_iterator_cf_opt(self.cf(id as StateId)?, ReadOptions::default());
            iter.seek_to_first();
            while iter.valid() {
                rows += 1;
                iter.next();
            }
            iter.status()?;
        }
        Ok(rows)
    }

    /// Compacts every state, running the compaction filters over all rows. Twice: the first
    /// compaction turns a list's appends (merge operands, which filters do not see) into one
    /// value, the second filters it.
    pub fn compact(&mut self) -> Result<(), RocksDbError> {
        self.flush()?;
        for id in 0..self.states.len() {
            let cf = self.cf(id as StateId)?;
            self.db.flush_cf(cf)?;
            self.db.compact_range_cf(cf, None::<&[u8]>, None::<&[u8]>);
            if self.states[id].kind == StateKind::List {
                self.db.compact_range_cf(cf, None::<&[u8]>, None::<&[u8]>);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;

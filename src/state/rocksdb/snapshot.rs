//! Snapshots of a RocksDB store, and restoring them at the same or another parallelism.
//!
//! A snapshot directory holds `rocksdb/`, a native RocksDB checkpoint (SST files hard-linked from
//! the live database, so files that did not change since the last snapshot are shared, not
//! copied: snapshots are incremental), and `rocksdb-state.json`, written last and renamed into
//! place: the states (name, kind, time-to-live) and the max parallelism of the key groups, with
//! its checksum (`crate::state::checksum`; RocksDB checks its own files).
//!
//! Restoring links the files of the first snapshot into a new database and deletes the key groups
//! outside the wanted range (as Flink does when rescaling); rows of the wanted range in the other
//! snapshots are copied in.

use std::collections::BTreeSet;
use std::ops::Range;
use std::path::Path;

use rocksdb::{ColumnFamilyDescriptor, WriteBatch, DB};
use serde::{Deserialize, Serialize};

use crate::state::checksum;
use crate::state::keyed::StateKind;

use super::background_threads::ThreadsInUse;
use super::layout::{key_group_of, key_group_rows};
use super::options::{db_options, TtlSetting};
use super::{
    column_family_of, RemoveOnDrop, RocksDbError, RocksDbKeyedState, RocksDbSettings, StateInfo, StoreDirectory,
};

const META_FILE: &str = "rocksdb-state.json";
const CHECKPOINT_DIR: &str = "rocksdb";
const FORMAT: &str = "ferroflow-rocksdb-2";

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct StateMeta {
    name: String,
    kind: String,
    ttl_ms: Option<i64>,
}

#[derive(Serialize, Deserialize, Debug)]
struct Meta {
    format: String,
    max_parallelism: usize,
    states: Vec<StateMeta>,
    /// The file's CRC-32 (`crate::state::checksum`); last, so that it is the file's last field.
    #[serde(default)]
    checksum: String,
}

/// What a snapshot holds, and what it added to the one before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RocksDbSnapshotInfo {
    /// SST files, and their bytes.
    pub files: usize,
    pub bytes: u64,
    /// SST files that the store's previous snapshot did not have, and their bytes: what an
    /// incremental checkpoint uploads.
    pub new_files: usize,
    pub new_bytes: u64,
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> RocksDbError + '_ {
    move |e| RocksDbError(format!("{}: {e}", path.display()))
}

fn kind_name(kind: StateKind) -> &'static str {
    match kind {
        StateKind::Value => "value",
        StateKind::List => "list",
        StateKind::Map => "map",
        StateKind::Reducing => "reducing",
        StateKind::Aggregating => "aggregating",
    }
}

/// Whether `directory` holds a RocksDB snapshot (rather than a heap one).
pub fn is_rocksdb_snapshot(directory: &Path) -> bool {
    directory.join(META_FILE).is_file()
}

fn read_meta(directory: &Path) -> Result<Meta, RocksDbError> {
    let path = directory.join(META_FILE);
    let bytes = std::fs::read(&path).map_err(io(&path))?;
    let meta: Meta = serde_json::from_slice(&bytes)
        .map_err(|e| RocksDbError(format!("{} is not a readable RocksDB snapshot: {e}", path.display())))?;
    if meta.format != FORMAT {
        return Err(RocksDbError(format!(
            "{} was written by another version of ferroflow (format '{}'; this version reads '{FORMAT}')",
            path.display(),
            meta.format
        )));
    }
    checksum::check_json(&bytes)
        .map_err(|e| RocksDbError(format!("{} is not a readable RocksDB snapshot: {e}", path.display())))?;
    Ok(meta)
}

fn sst_files(directory: &Path) -> Result<Vec<(String, u64)>, RocksDbError> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(directory).map_err(io(directory))? {
        let entry = entry.map_err(io(directory))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".sst") {
            let len = entry.metadata().map_err(io(&entry.path()))?.len();
            files.push((name, len));
        }
    }
    files.sort();
    Ok(files)
}

/// Hard-links the SST files of `from` into `to` (copies them where links are impossible, as
/// across file systems) and copies the other files: a live database must not write into a
/// snapshot's MANIFEST.
fn link_database(from: &Path, to: &Path) -> Result<(), RocksDbError> {
    std::fs::create_dir_all(to).map_err(io(to))?;
    for entry in std::fs::read_dir(from).map_err(io(from))? {
        let entry = entry.map_err(io(from))?;
        let source = entry.path();
        let target = to.join(entry.file_name());
        let is_sst = entry.file_name().to_string_lossy().ends_with(".sst");
        if !is_sst || std::fs::hard_link(&source, &target).is_err() {
            std::fs::copy(&source, &target).map_err(io(&source))?;
        }
    }
    Ok(())
}

impl RocksDbKeyedState {
    /// Writes a snapshot of every state to `directory` (which must not exist yet).
    pub fn snapshot_to(&mut self, directory: &Path) -> Result<RocksDbSnapshotInfo, RocksDbError> {
        if directory.exists() {
            return Err(RocksDbError(format!(
                "{} already exists: each snapshot needs a directory of its own",
                directory.display()
            )));
        }
        std::fs::create_dir_all(directory).map_err(io(directory))?;
        let written = self.write_snapshot(directory);
        if written.is_err() {
            // Nothing half-written stays behind to be taken for a snapshot.
            let _ = std::fs::remove_dir_all(directory);
        }
        written
    }

    fn write_snapshot(&mut self, directory: &Path) -> Result<RocksDbSnapshotInfo, RocksDbError> {
        self.flush()?;
        let checkpoint = directory.join(CHECKPOINT_DIR);
        rocksdb::checkpoint::Checkpoint::new(&self.db)?.create_checkpoint(&checkpoint)?;
        let meta = Meta {
            format: FORMAT.into(),
            max_parallelism: self.settings.max_parallelism,
            states: self
                .states
                .iter()
                .map(|s| StateMeta {
                    name: s.name.clone(),
                    kind: kind_name(s.kind).into(),
                    ttl_ms: s.ttl.get(),
                })
                .collect(),
            checksum: checksum::UNSEALED.into(),
        };
        let text = checksum::seal_json(serde_json::to_vec_pretty(&meta).map_err(|e| RocksDbError(e.to_string()))?);
        let partial = directory.join(format!("{META_FILE}.partial"));
        std::fs::write(&partial, text).map_err(io(&partial))?;
        let target = directory.join(META_FILE);
        std::fs::rename(&partial, &target).map_err(io(&target))?;

        let files = sst_files(&checkpoint)?;
        let new: Vec<&(String, u64)> = files
            .iter()
            .filter(|(name, _)| !self.last_snapshot_files.contains(name))
            .collect();
        let info = RocksDbSnapshotInfo {
            files: files.len(),
            bytes: files.iter().map(|(_, len)| len).sum(),
            new_files: new.len(),
            new_bytes: new.iter().map(|(_, len)| len).sum(),
        };
        self.last_snapshot_files = files.into_iter().map(|(name, _)| name).collect();
        Ok(info)
    }

    /// A store in `directory` (which must not exist yet) holding key groups `key_groups` of the
    /// snapshots in `snapshots`, taken by the subtasks of an earlier run at any parallelism.
    pub fn restore_from(
        snapshots: &[&Path],
        key_groups: Range<usize>,
        directory: impl Into<StoreDirectory>,
        settings: RocksDbSettings,
    ) -> Result<RocksDbKeyedState, RocksDbError> {
        let directory = directory.into();
        let Some((first, others)) = snapshots.split_first() else {
            return RocksDbKeyedState::open(directory, settings);
        };
        if directory.path.exists() {
            return Err(RocksDbError(format!(
                "{} already exists: a restored state store needs a directory of its own",
                directory.path.display()
            )));
        }
        let metas = snapshots
            .iter()
            .map(|dir| read_meta(dir))
            .collect::<Result<Vec<Meta>, _>>()?;
        for (meta, dir) in metas.iter().zip(snapshots) {
            if meta.max_parallelism != settings.max_parallelism {
                return Err(RocksDbError(format!(
                    "{} was taken with max parallelism {}, this job has {}: key groups of different max \
                     parallelisms cannot be combined",
                    dir.display(),
                    meta.max_parallelism,
                    settings.max_parallelism
                )));
            }
        }
        let guard = RemoveOnDrop(directory);
        link_database(&first.join(CHECKPOINT_DIR), guard.path())?;
        let states = states_of(&metas[0])?;
        let opened = ThreadsInUse::open(|| open_with(guard.path(), &states, &settings))?;
        let mut store = RocksDbKeyedState::with_db(opened, guard, settings, states);
        store.keep_only(&key_groups)?;
        for (dir, meta) in others.iter().zip(&metas[1..]) {
            store.copy_in(dir, meta, &key_groups)?;
        }
        Ok(store)
    }

    /// Deletes the rows of key groups outside `key_groups`.
    fn keep_only(&self, key_groups: &Range<usize>) -> Result<(), RocksDbError> {
        let (start, end) = key_group_rows(key_groups);
        for id in 0..self.states.len() {
            let cf = self.cf(id as u32)?;
            if key_groups.start > 0 {
                self.db.delete_range_cf_opt(cf, &[][..], &start[..], &self.write)?;
            }
            if let Some(end) = &end {
                self.db
                    .delete_range_cf_opt(cf, &end[..], &[u8::MAX; 8][..], &self.write)?;
            }
        }
        Ok(())
    }

    /// Copies the rows of key groups `key_groups` of another snapshot into this store.
    fn copy_in(&mut self, snapshot: &Path, meta: &Meta, key_groups: &Range<usize>) -> Result<(), RocksDbError> {
        let states = states_of(meta)?;
        for state in &states {
            let ttl = state.ttl.get();
            self.register(&state.name, state.kind, ttl)
                .map_err(|e| RocksDbError(format!("{}: {e}", snapshot.display())))?;
        }
        // Opened from a linked copy, so the snapshot itself stays untouched.
        let scratch = RemoveOnDrop(StoreDirectory::from(
            self.directory()
                .with_extension(format!("restoring-{}", std::process::id())),
        ));
        let _ = std::fs::remove_dir_all(scratch.path());
        link_database(&snapshot.join(CHECKPOINT_DIR), scratch.path())?;
        let source = open_with(scratch.path(), &states, &self.settings)?;
        let (start, _) = key_group_rows(key_groups);
        for state in &states {
            let from = source
                .cf_handle(&column_family_of(&state.name))
                .ok_or_else(|| RocksDbError(format!("{}: state '{}' is missing", snapshot.display(), state.name)))?;
            let id = self.ids[&state.name];
            let to = self.cf(id)?;
            let mut batch = WriteBatch::default();
            let rows = source.iterator_cf(from, rocksdb::IteratorMode::From(&start, rocksdb::Direction::Forward));
            for item in rows {
                let (row, value) = item?;
                if !key_group_of(&row).is_some_and(|g| key_groups.contains(&g)) {
                    break;
                }
                batch.put_cf(to, row, value);
                if batch.len() >= 10_000 {
                    self.db.write_opt(std::mem::take(&mut batch), &self.write)?;
                }
            }
            self.db.write_opt(batch, &self.write)?;
        }
        drop(source);
        Ok(())
    }
}

fn states_of(meta: &Meta) -> Result<Vec<StateInfo>, RocksDbError> {
    let mut names = BTreeSet::new();
    meta.states
        .iter()
        .map(|s| {
            if !names.insert(s.name.as_str()) {
                return Err(RocksDbError(format!("the state '{}' is listed twice", s.name)));
            }
            let kind = StateKind::parse(&s.kind)
                .ok_or_else(|| RocksDbError(format!("the state '{}' is of unknown kind '{}'", s.name, s.kind)))?;
            Ok(StateInfo {
                name: s.name.clone(),
                kind,
                ttl: TtlSetting::new(s.ttl_ms),
            })
        })
        .collect()
}

fn open_with(directory: &Path, states: &[StateInfo], settings: &RocksDbSettings) -> Result<DB, RocksDbError> {
    let descriptors: Vec<ColumnFamilyDescriptor> = states
        .iter()
        .map(|state| {
            let ttl = state.ttl.get().map(|_| (state.ttl.clone(), settings.clock.clone()));
            ColumnFamilyDescriptor::new(
                state.column_family(),
                super::options::column_family_options(&settings.memory, state.kind, ttl),
            )
        })
        .collect();
    Ok(DB::open_cf_descriptors(
        &db_options(&settings.memory),
        directory,
        descriptors,
    )?)
}

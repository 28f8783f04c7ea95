//! Snapshots of a subtask's keyed state, by key group, and restoring them at the same or another
//! parallelism.
//!
//! A snapshot is one file, `keyed-state.bin`, in a directory of its own:
//!
//! ```text
//! "FFKEYED2"  max_parallelism:u32
//! states:u32   { id:u32  kind:u8 (high bit: values stamped with a TTL)  name:bytes }*
//! groups:u32   { key_group:u32  length:u64  { state:u32 key namespace value:bytes }* }*
//! crc32:u32
//! ```
//!
//! Every snapshot file of the engine has this frame (`write_snapshot_file`,
//! `read_snapshot_file`): 8 bytes of magic whose last byte is the format version, and the CRC-32
//! of everything before it at the end (`crate::state::checksum`). A file whose checksum does not
//! match, or of another format version, is refused with an error naming it.
//!
//! Groups are written in order with their byte length, so a restore skips the groups outside
//! the key-group range it wants without decoding them. Values go through the caller's codec
//! (Python objects are pickled by the bindings). The file is written under a temporary name and
//! renamed, so a snapshot directory never holds half a snapshot.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::runtime::key::Key;
use crate::runtime::key_group::key_group_for_hash;
use crate::state::checksum;
use crate::state::codec::{DecodeError, Reader, Writer};
use crate::state::keyed::{KeyedState, Namespace, StateId, StateKind};

const MAGIC: &[u8; 8] = b"FFKEYED2";
const FILE_NAME: &str = "keyed-state.bin";

/// Why a snapshot could not be written or restored.
#[derive(Debug)]
pub enum SnapshotError {
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    /// The snapshot's bytes are not what was written (damaged, truncated, another kind of file).
    Corrupt {
        path: PathBuf,
        error: DecodeError,
    },
    /// The snapshot was written in another format version (by another version of ferroflow).
    Version {
        path: PathBuf,
        found: char,
        expected: char,
    },
    /// The state's value codec refused a value (it cannot be serialized or read back).
    Value {
        state: String,
        message: String,
    },
    /// Snapshots taken with different maximum parallelisms cannot be combined.
    MaxParallelism {
        expected: usize,
        found: usize,
        path: PathBuf,
    },
    /// One name, two kinds of state, in the snapshots being restored.
    KindClash(String),
}

impl fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SnapshotError::Io { path, error } => write!(f, "{}: {error}", path.display()),
            SnapshotError::Corrupt { path, error } => {
                write!(f, "{} cannot be restored: {error}", path.display())
            }
            SnapshotError::Version { path, found, expected } => write!(
                f,
                "{} was written by another version of ferroflow (snapshot format {found}; this \
                 version reads format {expected})",
                path.display()
            ),
            SnapshotError::Value { state, message } => write!(f, "state '{state}': {message}"),
            SnapshotError::MaxParallelism { expected, found, path } => write!(
                f,
                "{} was taken with max parallelism {found}, other snapshots with {expected}: \
                 key groups of different max parallelisms cannot be combined",
                path.display()
            ),
            SnapshotError::KindClash(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for SnapshotError {}

/// Writes `bytes` to `dir/name` (`dir` made if needed), followed by their checksum
/// (`crate::state::checksum`): under a temporary name, then renamed, so a snapshot directory
/// never holds half a file. `bytes` start with the file's magic, whose last byte is its format
/// version. Returns the bytes written.
pub(crate) fn write_snapshot_file(dir: &Path, name: &str, bytes: &[u8]) -> Result<u64, SnapshotError> {
    use std::io::Write;
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |error| SnapshotError::Io { path, error }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let partial = dir.join(format!("{name}.partial"));
    std::fs::File::create(&partial)
        .and_then(|mut f| {
            f.write_all(bytes)?;
            f.write_all(&checksum::trailer(bytes))
        })
        .map_err(io(&partial))?;
    let target = dir.join(name);
    std::fs::rename(&partial, &target).map_err(io(&target))?;
    Ok((bytes.len() + checksum::TRAILER_LEN) as u64)
}

/// The path and bytes (checksum trailer removed) of `dir/name`, which must start with `magic`
/// (`what` the file should be, for the error) and match its checksum. A file of the same kind
/// but another format version (the magic's last byte) is refused as written by another version.
pub(crate) fn read_snapshot_file(
    dir: &Path,
    name: &str,
    magic: &[u8],
    what: &str,
) -> Result<(PathBuf, Vec<u8>), SnapshotError> {
    let path = dir.join(name);
    let mut bytes = std::fs::read(&path).map_err(|error| SnapshotError::Io {
        path: path.clone(),
        error,
    })?;
    let family = &magic[..magic.len() - 1];
    if bytes.len() >= magic.len() && bytes.starts_with(family) && !bytes.starts_with(magic) {
        return Err(SnapshotError::Version {
            path,
            found: char::from(bytes[magic.len() - 1]),
            expected: char::from(magic[magic.len() - 1]),
        });
    }
    let corrupt = |message: String| SnapshotError::Corrupt {
        path: path.clone(),
        error: DecodeError(message),
    };
    if !bytes.starts_with(magic) {
        return Err(corrupt(format!("it is not {what}")));
    }
    let body = checksum::check_trailer(&bytes).map_err(corrupt)?.len();
    bytes.truncate(body);
    Ok((path, bytes))
}

/// What a snapshot wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotInfo {
    pub entries: usize,
    pub key_groups: usize,
    pub bytes: u64,
}

/// The bit of a state's kind tag that says its values are stamped with a time-to-live.
const STAMPED: u8 = 0x80;

fn kind_tag(kind: StateKind) -> u8 {
    match kind {
        StateKind::Value => 0,
        StateKind::List => 1,
        StateKind::Map => 2,
        StateKind::Reducing => 3,
        StateKind::Aggregating => 4,
    }
}

fn kind_of_tag(tag: u8) -> Result<StateKind, DecodeError> {
    Ok(match tag {
        0 => StateKind::Value,
        1 => StateKind::List,
        2 => StateKind::Map,
        3 => StateKind::Reducing,
        4 => StateKind::Aggregating,
        _ => return Err(DecodeError(format!("unknown state kind tag {tag}"))),
    })
}

impl<V> KeyedState<V> {
    /// Writes every entry to `dir` (created if needed), grouped by key group of
    /// `max_parallelism`; `encode` turns a value into bytes.
    pub fn snapshot_to(
        &self,
        dir: &Path,
        max_parallelism: usize,
        mut encode: impl FnMut(&V) -> Result<Vec<u8>, String>,
    ) -> Result<SnapshotInfo, SnapshotError> {
        let names: HashMap<StateId, &str> = self.states().map(|(name, id, _)| (id, name)).collect();
        let mut groups: BTreeMap<usize, Writer> = BTreeMap::new();
        let mut entries = 0;
        for (state, key, namespace, value) in self.entries() {
            let value = encode(value).map_err(|message| SnapshotError::Value {
                state: names.get(&state).copied().unwrap_or("?").to_string(),
                message,
            })?;
            let group = groups
                .entry(key_group_for_hash(key.stable_hash(), max_parallelism))
                .or_default();
            group.u32(state);
            group.key(key);
            group.namespace(&namespace);
            group.bytes(&value);
            entries += 1;
        }
        let mut out = Writer::default();
        out.bytes.extend_from_slice(MAGIC);
        out.u32(max_parallelism as u32);
        let mut states: Vec<_> = self.states().collect();
        states.sort_by_key(|(_, id, _)| *id);
        out.u32(states.len() as u32);
        for (name, id, kind) in states {
            out.u32(id);
            // The high bit: the state's values are stamped with a time-to-live.
            out.u8(kind_tag(kind) | if self.is_stamped(id) { STAMPED } else { 0 });
            out.bytes(name.as_bytes());
        }
        out.u32(groups.len() as u32);
        for (key_group, group) in &groups {
            out.u32(*key_group as u32);
            out.bytes(&group.bytes);
        }
        let bytes = write_snapshot_file(dir, FILE_NAME, &out.bytes)?;
        Ok(SnapshotInfo {
            entries,
            key_groups: groups.len(),
            bytes,
        })
    }

    /// The state of a subtask owning `key_groups`, from the snapshots of the subtasks of an
    /// earlier run (any parallelism: each snapshot gives the entries of its groups in range).
    pub fn restore_from(
        snapshots: &[&Path],
        key_groups: Range<usize>,
        mut decode: impl FnMut(&[u8]) -> Result<V, String>,
    ) -> Result<KeyedState<V>, SnapshotError> {
        let mut state = KeyedState::default();
        let mut max_parallelism: Option<usize> = None;
        for dir in snapshots {
            let (path, bytes) = read_snapshot_file(dir, FILE_NAME, MAGIC, "a keyed-state snapshot")?;
            let corrupt = |error| SnapshotError::Corrupt {
                path: path.clone(),
                error,
            };
            let mut r = Reader::new(&bytes[MAGIC.len()..]);
            let found = r.u32().map_err(corrupt)? as usize;
            match max_parallelism {
                Some(expected) if expected != found => {
                    return Err(SnapshotError::MaxParallelism { expected, found, path });
                }
                _ => max_parallelism = Some(found),
            }
            // The snapshot's state ids, as ids of the restored state (and their names).
            let mut ids: HashMap<StateId, (StateId, String)> = HashMap::new();
            for _ in 0..r.u32().map_err(corrupt)? {
                let id = r.u32().map_err(corrupt)?;
                let tag = r.u8().map_err(corrupt)?;
                let kind = kind_of_tag(tag & !STAMPED).map_err(corrupt)?;
                let name = r.str().map_err(corrupt)?;
                let new_id = state.register(name, kind).map_err(SnapshotError::KindClash)?;
                state
                    .set_stamped(new_id, tag & STAMPED != 0)
                    .map_err(SnapshotError::KindClash)?;
                ids.insert(id, (new_id, name.to_string()));
            }
            for _ in 0..r.u32().map_err(corrupt)? {
                let key_group = r.u32().map_err(corrupt)? as usize;
                let group = r.bytes().map_err(corrupt)?;
                if !key_groups.contains(&key_group) {
                    continue;
                }
                let mut g = Reader::new(group);
                while !g.is_at_end() {
                    let id = g.u32().map_err(corrupt)?;
                    let key: Key = g.key().map_err(corrupt)?;
                    let namespace: Namespace = g.namespace().map_err(corrupt)?;
                    let value = g.bytes().map_err(corrupt)?;
                    let (id, name) = ids
                        .get(&id)
                        .ok_or_else(|| corrupt(DecodeError(format!("entry of unknown state {id}"))))?;
                    let value = decode(value).map_err(|message| SnapshotError::Value {
                        state: name.clone(),
                        message,
                    })?;
                    state.put(*id, &key, namespace, value);
                }
            }
            if !r.is_at_end() {
                return Err(corrupt(DecodeError("bytes after the last key group".into())));
            }
        }
        Ok(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::key_group::key_group_range;
    use crate::window::window::Window;

    /// A directory under the system's temporary directory, removed when dropped.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> TempDir {
            let dir = std::env::temp_dir().join(format!("ferroflow-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            TempDir(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn encode(v: &i64) -> Result<Vec<u8>, String> {
        Ok(v.to_le_bytes().to_vec())
    }

    fn decode(b: &[u8]) -> Result<i64, String> {
        Ok(i64::from_le_bytes(b.try_into().map_err(|_| "not 8 bytes".to_string())?))
    }

    /// Every entry by state name, key and namespace.
    fn contents(s: &KeyedState<i64>) -> HashMap<(String, Key, Namespace), i64> {
        let names: HashMap<StateId, String> = s.states().map(|(n, id, _)| (id, n.to_string())).collect();
        s.entries()
            .map(|(id, k, ns, v)| ((names[&id].clone(), k.clone(), ns), *v))
            .collect()
    }

    fn key(i: i64) -> Key {
        match i % 3 {
            0 => Key::Int(i),
            1 => Key::Str(format!("k{i}").into()),
            _ => Key::Tuple(vec![Key::Int(i), Key::Bool(i % 2 == 0)].into()),
        }
    }

    /// The state of subtask `index` of `parallelism`: the keys of `0..n` it owns.
    fn subtask_state(index: usize, parallelism: usize, n: i64) -> KeyedState<i64> {
        let mut s = KeyedState::default();
        let count = s.register("count", StateKind::Value).unwrap();
        let sum = s.register("sum", StateKind::Reducing).unwrap();
        let range = key_group_range(index, parallelism, 128);
        for i in 0..n {
            let k = key(i);
            if !range.contains(&key_group_for_hash(k.stable_hash(), 128)) {
                continue;
            }
            s.put(count, &k, Namespace::Global, i);
            s.put(sum, &k, Namespace::Window(Window::Time { start: i, end: i + 10 }), -i);
        }
        s
    }

    #[test]
    fn a_snapshot_restores_exactly() {
        let dir = TempDir::new("snapshot-exact");
        let original = subtask_state(0, 1, 1000);
        let info = original.snapshot_to(&dir.0, 128, encode).unwrap();
        assert_eq!(info.entries, 2000);
        assert!(info.key_groups > 100, "{info:?}");
        let restored = KeyedState::restore_from(&[&dir.0], 0..128, decode).unwrap();
        assert_eq!(contents(&restored), contents(&original));
        assert!(!dir.0.join("keyed-state.bin.partial").exists());
    }

    #[test]
    fn snapshots_of_two_subtasks_restore_into_three_and_into_one() {
        let dirs = [TempDir::new("rescale-0"), TempDir::new("rescale-1")];
        let mut all = HashMap::new();
        for (index, dir) in dirs.iter().enumerate() {
            let s = subtask_state(index, 2, 500);
            s.snapshot_to(&dir.0, 128, encode).unwrap();
            all.extend(contents(&s));
        }
        let paths: Vec<&Path> = dirs.iter().map(|d| d.0.as_path()).collect();
        for parallelism in [1, 3] {
            let mut union = HashMap::new();
            for index in 0..parallelism {
                let range = key_group_range(index, parallelism, 128);
                let restored = KeyedState::restore_from(&paths, range.clone(), decode).unwrap();
                for ((_, k, _), _) in contents(&restored) {
                    assert!(range.contains(&key_group_for_hash(k.stable_hash(), 128)));
                }
                let before = union.len();
                let part = contents(&restored);
                let part_len = part.len();
                union.extend(part);
                assert_eq!(union.len(), before + part_len, "a key restored into two subtasks");
            }
            assert_eq!(union, all, "parallelism {parallelism}");
        }
    }

    #[test]
    fn a_value_the_codec_refuses_names_the_state() {
        let dir = TempDir::new("snapshot-refused");
        let s = subtask_state(0, 1, 10);
        let err = s
            .snapshot_to(&dir.0, 128, |v| {
                if *v == 4 {
                    Err("cannot pickle 'generator'".into())
                } else {
                    encode(v)
                }
            })
            .unwrap_err();
        assert_eq!(err.to_string(), "state 'count': cannot pickle 'generator'");
        assert!(!dir.0.join("keyed-state.bin").exists());
    }

    #[test]
    fn damaged_or_mismatched_snapshots_are_errors() {
        let a = TempDir::new("damaged-a");
        let b = TempDir::new("damaged-b");
        let s = subtask_state(0, 1, 50);
        s.snapshot_to(&a.0, 128, encode).unwrap();
        s.snapshot_to(&b.0, 64, encode).unwrap();
        let err = KeyedState::restore_from(&[&a.0, &b.0], 0..128, decode).unwrap_err();
        assert!(
            matches!(
                err,
                SnapshotError::MaxParallelism {
                    expected: 128,
                    found: 64,
                    ..
                }
            ),
            "{err}"
        );

        let file = a.0.join("keyed-state.bin");
        let bytes = std::fs::read(&file).unwrap();
        for cut in [0, 5, 12, bytes.len() / 2, bytes.len() - 1] {
            std::fs::write(&file, &bytes[..cut]).unwrap();
            let err = KeyedState::restore_from(&[&a.0], 0..128, decode).unwrap_err();
            assert!(matches!(err, SnapshotError::Corrupt { .. }), "cut {cut}: {err}");
        }
        let missing = TempDir::new("damaged-missing");
        assert!(matches!(
            KeyedState::<i64>::restore_from(&[&missing.0], 0..128, decode),
            Err(SnapshotError::Io { .. })
        ));
    }

    #[test]
    fn every_changed_byte_of_a_keyed_snapshot_is_refused_naming_it() {
        let dir = TempDir::new("snapshot-flips");
        subtask_state(0, 1, 3).snapshot_to(&dir.0, 128, encode).unwrap();
        crate::state::checksum::assert_every_flip_refused(&dir.0.join(FILE_NAME), || {
            KeyedState::restore_from(&[&dir.0], 0..128, decode)
                .map(drop)
                .map_err(|e| e.to_string())
        });
    }

    #[test]
    fn a_snapshot_of_another_format_version_says_so() {
        let dir = TempDir::new("snapshot-version");
        subtask_state(0, 1, 3).snapshot_to(&dir.0, 128, encode).unwrap();
        let file = dir.0.join(FILE_NAME);
        let mut bytes = std::fs::read(&file).unwrap();
        bytes[7] = b'1';
        std::fs::write(&file, &bytes).unwrap();
        let err = KeyedState::restore_from(&[&dir.0], 0..128, decode).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "{} was written by another version of ferroflow (snapshot format 1; this version reads format 2)",
                file.display()
            )
        );
    }
}

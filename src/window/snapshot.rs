//! What a window operator keeps, in checkpoints: one file, `window-state.bin`, in the operator
//! instance's snapshot directory, grouped by key group so that a restore at any parallelism
//! takes exactly the entries of the key groups it owns.
//!
//! ```text
//! "FFWINDW2"  max_parallelism:u32  watermark:i64
//! groups:u32  { key_group:u32  length:u64  { entry }* }*
//!
//! entry:  0 key window contents:bytes               a window's contents (general path)
//!         1 key window fired:u8 contents:bytes      a window's contents (grouped fast path)
//!         2 key window count:i64 fire:u8 time:i64   a built-in trigger's state
//!         3 key n:u32 window*                        a key's merging sessions
//!         4 key count:i64                            a key's records seen (count windows)
//! window: as a namespace of keyed state (src/state/codec.rs)
//! crc32:u32 (crate::state::checksum)
//! ```
//!
//! Contents are the bytes the window functions make of them (`WindowFunctions::encode`; pickle
//! in the bindings). Timers are written next to this file by `crate::time::timer_snapshot`, and
//! the functions' own state (keyed state of `window_state()`, Python triggers) by the functions.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::runtime::key::Key;
use crate::runtime::key_group::key_group_for_hash;
use crate::state::codec::{DecodeError, Reader, Writer};
use crate::state::keyed::Namespace;
use crate::state::snapshot::{read_snapshot_file, write_snapshot_file, SnapshotError};
use crate::window::trigger::TriggerState;
use crate::window::window::Window;

const MAGIC: &[u8; 8] = b"FFWINDW2";
pub const FILE_NAME: &str = "window-state.bin";

const CONTENTS: u8 = 0;
const GROUPED: u8 = 1;
const TRIGGER: u8 = 2;
const SESSIONS: u8 = 3;
const COUNT: u8 = 4;

/// The bytes of a window (as a keyed-state namespace), e.g. for a timer's namespace.
pub fn window_bytes(window: &Window) -> Vec<u8> {
    let mut w = Writer::default();
    w.namespace(&Namespace::Window(*window));
    w.bytes
}

/// The window `bytes` hold (see [`window_bytes`]).
pub fn window_of_bytes(bytes: &[u8]) -> Result<Window, DecodeError> {
    let mut r = Reader::new(bytes);
    let window = read_window(&mut r)?;
    if !r.is_at_end() {
        return Err(DecodeError("bytes after a window".into()));
    }
    Ok(window)
}

fn read_window(r: &mut Reader<'_>) -> Result<Window, DecodeError> {
    match r.namespace()? {
        Namespace::Window(w) => Ok(w),
        Namespace::Global => Err(DecodeError("a window was expected, not the global namespace".into())),
    }
}

/// Collects a window operator instance's entries by key group, then writes them.
pub struct WindowStateWriter {
    max_parallelism: usize,
    groups: BTreeMap<usize, Writer>,
    /// The last key written and its key group: entries of one key come together.
    last: Option<(Key, usize)>,
    entries: usize,
}

impl WindowStateWriter {
    pub fn new(max_parallelism: usize) -> Self {
        WindowStateWriter {
            max_parallelism,
            groups: BTreeMap::new(),
            last: None,
            entries: 0,
        }
    }

    /// The buffer of `key`'s key group, with the entry's tag and key written.
    fn entry(&mut self, tag: u8, key: &Key) -> &mut Writer {
        let group = match &self.last {
            Some((last, group)) if last == key => *group,
            _ => {
                let group = key_group_for_hash(key.stable_hash(), self.max_parallelism);
                self.last = Some((key.clone(), group));
                group
            }
        };
        self.entries += 1;
        let w = self.groups.entry(group).or_default();
        w.u8(tag);
        w.key(key);
        w
    }

    /// A window's contents on the general path.
    pub fn contents(&mut self, key: &Key, window: &Window, contents: &[u8]) {
        let w = self.entry(CONTENTS, key);
        w.namespace(&Namespace::Window(*window));
        w.bytes(contents);
    }

    /// A window's contents on the grouped fast path; `fired`: the window already fired.
    pub fn grouped(&mut self, key: &Key, window: &Window, fired: bool, contents: &[u8]) {
        let w = self.entry(GROUPED, key);
        w.namespace(&Namespace::Window(*window));
        w.u8(fired as u8);
        w.bytes(contents);
    }

    pub fn trigger_state(&mut self, key: &Key, window: &Window, state: &TriggerState) {
        let w = self.entry(TRIGGER, key);
        w.namespace(&Namespace::Window(*window));
        w.i64(state.count);
        w.u8(state.fire_time.is_some() as u8);
        w.i64(state.fire_time.unwrap_or(0));
    }

    pub fn sessions(&mut self, key: &Key, sessions: &[Window]) {
        let w = self.entry(SESSIONS, key);
        w.u32(sessions.len() as u32);
        for s in sessions {
            w.namespace(&Namespace::Window(*s));
        }
    }

    pub fn count(&mut self, key: &Key, count: i64) {
        self.entry(COUNT, key).i64(count);
    }

    /// Writes `dir/window-state.bin`, with the operator's `watermark`. Returns the bytes written.
    pub fn write(self, dir: &Path, watermark: i64) -> Result<u64, SnapshotError> {
        let mut out = Writer::default();
        out.bytes.extend_from_slice(MAGIC);
        out.u32(self.max_parallelism as u32);
        out.i64(watermark);
        out.u32(self.groups.len() as u32);
        for (group, w) in &self.groups {
            out.u32(*group as u32);
            out.bytes(&w.bytes);
        }
        write_snapshot_file(dir, FILE_NAME, &out.bytes)
    }

    pub fn entries(&self) -> usize {
        self.entries
    }
}

/// One entry read back.
#[derive(Debug, PartialEq, Eq)]
pub enum WindowEntry<'a> {
    Contents {
        key: Key,
        window: Window,
        contents: &'a [u8],
    },
    Grouped {
        key: Key,
        window: Window,
        fired: bool,
        contents: &'a [u8],
    },
    Trigger {
        key: Key,
        window: Window,
        state: TriggerState,
    },
    Sessions {
        key: Key,
        sessions: Vec<Window>,
    },
    Count {
        key: Key,
        count: i64,
    },
}

fn read_entry<'a>(r: &mut Reader<'a>) -> Result<WindowEntry<'a>, DecodeError> {
    let tag = r.u8()?;
    let key = r.key()?;
    Ok(match tag {
        CONTENTS => WindowEntry::Contents {
            key,
            window: read_window(r)?,
            contents: r.bytes()?,
        },
        GROUPED => WindowEntry::Grouped {
            key,
            window: read_window(r)?,
            fired: r.u8()? != 0,
            contents: r.bytes()?,
        },
        TRIGGER => {
            let window = read_window(r)?;
            let count = r.i64()?;
            let has_fire = r.u8()? != 0;
            let time = r.i64()?;
            WindowEntry::Trigger {
                key,
                window,
                state: TriggerState {
                    count,
                    fire_time: has_fire.then_some(time),
                },
            }
        }
        SESSIONS => {
            let n = r.u32()?;
            let mut sessions = Vec::with_capacity((n as usize).min(1024));
            for _ in 0..n {
                sessions.push(read_window(r)?);
            }
            WindowEntry::Sessions { key, sessions }
        }
        COUNT => WindowEntry::Count { key, count: r.i64()? },
        other => return Err(DecodeError(format!("unknown window entry tag {other}"))),
    })
}

/// Reads the window state of the key groups `key_groups` (of `max_parallelism`) from the
/// snapshot directories of the old subtasks `dirs`, giving each entry to `each`. A directory
/// without a window snapshot holds no entries. Returns the lowest watermark of the snapshots
/// (None when none has one).
pub fn read_window_state(
    dirs: &[PathBuf],
    key_groups: Range<usize>,
    max_parallelism: usize,
    mut each: impl FnMut(WindowEntry<'_>) -> Result<(), String>,
) -> Result<Option<i64>, SnapshotError> {
    let mut watermark: Option<i64> = None;
    for dir in dirs {
        if !dir.join(FILE_NAME).exists() {
            continue;
        }
        let (path, bytes) = read_snapshot_file(dir, FILE_NAME, MAGIC, "a window-state snapshot")?;
        let corrupt = |error| SnapshotError::Corrupt {
            path: path.clone(),
            error,
        };
        let mut r = Reader::new(&bytes[MAGIC.len()..]);
        let found = r.u32().map_err(corrupt)? as usize;
        if found != max_parallelism {
            return Err(SnapshotError::MaxParallelism {
                expected: max_parallelism,
                found,
                path,
            });
        }
        let w = r.i64().map_err(corrupt)?;
        watermark = Some(watermark.map_or(w, |m| m.min(w)));
        for _ in 0..r.u32().map_err(corrupt)? {
            let group = r.u32().map_err(corrupt)? as usize;
            let bytes = r.bytes().map_err(corrupt)?;
            if !key_groups.contains(&group) {
                continue;
            }
            let mut g = Reader::new(bytes);
            while !g.is_at_end() {
                let entry = read_entry(&mut g).map_err(corrupt)?;
                each(entry).map_err(|message| SnapshotError::Value {
                    state: "window contents".into(),
                    message,
                })?;
            }
        }
        if !r.is_at_end() {
            return Err(corrupt(DecodeError("bytes after the last key group".into())));
        }
    }
    Ok(watermark)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::key_group::key_group_range;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ferroflow-window-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn entries_read_back_by_key_group() {
        let dir = temp_dir("format");
        let mut w = WindowStateWriter::new(128);
        let win = Window::Time { start: -5, end: 10 };
        for k in 0..40 {
            let key = Key::Int(k);
            w.contents(&key, &win, &[k as u8]);
            w.grouped(&key, &Window::Count(k), k % 2 == 0, b"");
            w.trigger_state(
                &key,
                &Window::Global,
                &TriggerState {
                    count: k,
                    fire_time: (k % 3 == 0).then_some(-k),
                },
            );
            w.sessions(&key, &[win, Window::Time { start: 20, end: 30 }]);
            w.count(&key, k * 10);
        }
        assert_eq!(w.entries(), 200);
        w.write(&dir, 77).unwrap();
        let mut seen = 0;
        for i in 0..3 {
            let range = key_group_range(i, 3, 128);
            let watermark = read_window_state(std::slice::from_ref(&dir), range.clone(), 128, |e| {
                let key = match &e {
                    WindowEntry::Contents { key, contents, .. } => {
                        assert_eq!(*contents, [*key_int(key) as u8]);
                        key
                    }
                    WindowEntry::Grouped { key, fired, window, .. } => {
                        assert_eq!(*fired, key_int(key) % 2 == 0);
                        assert_eq!(*window, Window::Count(*key_int(key)));
                        key
                    }
                    WindowEntry::Trigger { key, state, .. } => {
                        assert_eq!(state.count, *key_int(key));
                        key
                    }
                    WindowEntry::Sessions { key, sessions } => {
                        assert_eq!(sessions.len(), 2);
                        key
                    }
                    WindowEntry::Count { key, count } => {
                        assert_eq!(*count, key_int(key) * 10);
                        key
                    }
                };
                assert!(range.contains(&key_group_for_hash(key.stable_hash(), 128)));
                seen += 1;
                Ok(())
            })
            .unwrap();
            assert_eq!(watermark, Some(77));
        }
        assert_eq!(seen, 200);
        assert!(matches!(
            read_window_state(std::slice::from_ref(&dir), 0..64, 64, |_| Ok(())),
            Err(SnapshotError::MaxParallelism { .. })
        ));
        let file = dir.join(FILE_NAME);
        let bytes = std::fs::read(&file).unwrap();
        std::fs::write(&file, &bytes[..bytes.len() - 3]).unwrap();
        assert!(matches!(
            read_window_state(std::slice::from_ref(&dir), 0..128, 128, |_| Ok(())),
            Err(SnapshotError::Corrupt { .. })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn key_int(key: &Key) -> &i64 {
        match key {
            Key::Int(i) => i,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn windows_as_bytes_round_trip() {
        for w in [Window::Time { start: 1, end: 2 }, Window::Count(-3), Window::Global] {
            assert_eq!(window_of_bytes(&window_bytes(&w)).unwrap(), w);
        }
        assert!(window_of_bytes(&[0]).is_err(), "the global namespace is no window");
    }

    #[test]
    fn every_changed_byte_of_a_window_snapshot_is_refused_naming_it() {
        let dir = temp_dir("flips");
        let mut w = WindowStateWriter::new(128);
        let win = Window::Time { start: 0, end: 10 };
        w.contents(&Key::Int(1), &win, b"c");
        w.grouped(&Key::Int(2), &win, true, b"g");
        w.trigger_state(
            &Key::Int(1),
            &win,
            &TriggerState {
                count: 2,
                fire_time: Some(9),
            },
        );
        w.sessions(&Key::Int(3), &[win]);
        w.count(&Key::Int(4), 5);
        w.write(&dir, 3).unwrap();
        crate::state::checksum::assert_every_flip_refused(&dir.join(FILE_NAME), || {
            read_window_state(std::slice::from_ref(&dir), 0..128, 128, |_| Ok(()))
                .map(drop)
                .map_err(|e| e.to_string())
        });
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

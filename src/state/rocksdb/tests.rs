use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::layout::{elements, push_element, stamp};
use super::options::RocksDbMemory;
use super::snapshot::is_rocksdb_snapshot;
use super::*;
use crate::runtime::key_group::key_group_range;
use crate::window::window::Window;

/// A fresh directory under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "ferroflow-rocksdb-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&path);
        TempDir(path)
    }

    fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn settings(clock: Clock) -> RocksDbSettings {
    RocksDbSettings {
        memory: RocksDbMemory::new(16 << 20),
        max_parallelism: 128,
        clock,
    }
}

fn open(dir: &Path) -> RocksDbKeyedState {
    RocksDbKeyedState::open(dir.to_path_buf(), settings(Clock::manual(0))).unwrap()
}

fn row(store: &RocksDbKeyedState, key: &Key, namespace: &Namespace) -> Vec<u8> {
    let mut out = Vec::new();
    store.row_prefix(&mut out, key, namespace);
    out
}

fn value(store: &mut RocksDbKeyedState, state: StateId, key: &Key) -> Option<Vec<u8>> {
    let row = row(store, key, &Namespace::Global);
    store.get(state, &row).unwrap().map(|v| v.to_vec())
}

#[test]
fn values_lists_and_map_rows_are_kept_by_state_key_and_namespace() {
    let tmp = TempDir::new();
    let mut store = open(&tmp.join("db"));
    let counts = store.register("counts", StateKind::Value, None).unwrap();
    let log = store.register("log", StateKind::List, None).unwrap();
    let table = store.register("table", StateKind::Map, None).unwrap();
    assert_eq!(store.register("counts", StateKind::Value, None), Ok(counts));
    assert!(store
        .register("counts", StateKind::List, None)
        .unwrap_err()
        .contains("already a ValueState"));

    let (a, b) = (Key::Str("a".into()), Key::Int(2));
    let window = Namespace::Window(Window::Time { start: 0, end: 10 });
    let (a_global, a_window, b_global) = (
        row(&store, &a, &Namespace::Global),
        row(&store, &a, &window),
        row(&store, &b, &Namespace::Global),
    );
    store.put(counts, &a_global, b"1").unwrap();
    store.put(counts, &a_window, b"w").unwrap();
    store.put(counts, &b_global, b"2").unwrap();
    assert_eq!(value(&mut store, counts, &a).as_deref(), Some(&b"1"[..]));
    assert_eq!(value(&mut store, counts, &b).as_deref(), Some(&b"2"[..]));
    assert_eq!(store.get(counts, &a_window).unwrap().as_deref(), Some(&b"w"[..]));
    store.delete(counts, &a_global).unwrap();
    assert_eq!(value(&mut store, counts, &a), None);
    assert_eq!(store.keys(counts, &Namespace::Global).unwrap(), vec![b.clone()]);

    // Appends are merges; the list reads back in order.
    for element in [&b"x"[..], b"yy", b""] {
        let mut framed = Vec::new();
        push_element(&mut framed, element);
        store.merge(log, &a_global, &framed).unwrap();
    }
    let list = value(&mut store, log, &a).unwrap();
    let got: Vec<&[u8]> = elements(&list).collect::<Result<_, _>>().unwrap();
    assert_eq!(got, vec![&b"x"[..], b"yy", b""]);

    // Map entries are rows under the (key, namespace) prefix; another key's rows stay apart.
    let prefix_a = row(&store, &a, &Namespace::Global);
    let prefix_b = row(&store, &b, &Namespace::Global);
    for (prefix, entries) in [(&prefix_a, ["k1", "k2", "k3"]), (&prefix_b, ["k1", "z", "q"])] {
        for k in entries {
            let mut r = prefix.clone();
            r.extend_from_slice(k.as_bytes());
            store.put(table, &r, k.to_uppercase().as_bytes()).unwrap();
        }
    }
    let mut seen = BTreeMap::new();
    store
        .scan_prefix(table, &prefix_a, |rest, v| {
            seen.insert(rest.to_vec(), v.to_vec());
            true
        })
        .unwrap();
    assert_eq!(
        seen,
        BTreeMap::from([
            (b"k1".to_vec(), b"K1".to_vec()),
            (b"k2".to_vec(), b"K2".to_vec()),
            (b"k3".to_vec(), b"K3".to_vec())
        ])
    );
    store.delete_prefix(table, &prefix_a).unwrap();
    let mut left = 0;
    store
        .scan_prefix(table, &prefix_a, |_, _| {
            left += 1;
            true
        })
        .unwrap();
    assert_eq!(left, 0);
    store
        .scan_prefix(table, &prefix_b, |_, _| {
            left += 1;
            true
        })
        .unwrap();
    assert_eq!(left, 3);
    assert_eq!(store.keys(table, &Namespace::Global).unwrap(), vec![b]);
}

#[test]
fn the_store_directory_goes_when_the_store_does() {
    let tmp = TempDir::new();
    let dir = tmp.join("db");
    let mut store = open(&dir);
    store.register("s", StateKind::Value, None).unwrap();
    assert!(dir.join("CURRENT").exists());
    assert!(RocksDbKeyedState::open(dir.clone(), settings(Clock::System)).is_err());
    drop(store);
    assert!(!dir.exists());
}

/// Keys 0..n with value `key * 10` in state "v" and a two-element list in "l".
fn fill(store: &mut RocksDbKeyedState, keys: impl Iterator<Item = i64>) {
    let v = store.register("v", StateKind::Value, None).unwrap();
    let l = store.register("l", StateKind::List, None).unwrap();
    for k in keys {
        let r = row(store, &Key::Int(k), &Namespace::Global);
        store.put(v, &r, (k * 10).to_string().as_bytes()).unwrap();
        let mut framed = Vec::new();
        push_element(&mut framed, b"a");
        push_element(&mut framed, k.to_string().as_bytes());
        store.merge(l, &r, &framed).unwrap();
    }
}

fn key_group_of_key(k: i64) -> usize {
    crate::runtime::key_group::key_group_for_hash(Key::Int(k).stable_hash(), 128)
}

#[test]
fn snapshots_restore_exactly_at_the_same_and_at_other_parallelisms() {
    let tmp = TempDir::new();
    // Two subtasks, each holding the keys of its key groups.
    let mut snapshots = Vec::new();
    for subtask in 0..2 {
        let range = key_group_range(subtask, 2, 128);
        let mut store = open(&tmp.join(&format!("live-{subtask}")));
        fill(&mut store, (0..1000).filter(|k| range.contains(&key_group_of_key(*k))));
        let dir = tmp.join(&format!("snap-{subtask}"));
        let info = store.snapshot_to(&dir).unwrap();
        assert!(info.files > 0 && info.bytes > 0);
        assert!(is_rocksdb_snapshot(&dir));
        // The snapshot outlives its store.
        drop(store);
        snapshots.push(dir);
    }
    let paths: Vec<&Path> = snapshots.iter().map(PathBuf::as_path).collect();
    for parallelism in [1, 2, 3] {
        let mut seen = 0;
        for subtask in 0..parallelism {
            let range = key_group_range(subtask, parallelism, 128);
            let store = RocksDbKeyedState::restore_from(
                &paths,
                range.clone(),
                tmp.join(&format!("restored-{parallelism}-{subtask}")),
                settings(Clock::System),
            )
            .unwrap();
            let mut store = store;
            let v = store.id_of("v").unwrap();
            let l = store.id_of("l").unwrap();
            for k in 0..1000 {
                let mine = range.contains(&key_group_of_key(k));
                let got = value(&mut store, v, &Key::Int(k));
                assert_eq!(got.is_some(), mine, "key {k} at parallelism {parallelism}");
                if let Some(got) = got {
                    assert_eq!(got, (k * 10).to_string().into_bytes());
                    let list = value(&mut store, l, &Key::Int(k)).unwrap();
                    let items: Vec<&[u8]> = elements(&list).collect::<Result<_, _>>().unwrap();
                    assert_eq!(items, vec![&b"a"[..], k.to_string().as_bytes()]);
                    seen += 1;
                }
            }
            assert_eq!(
                store.count_rows().unwrap() as usize,
                2 * store.keys(v, &Namespace::Global).unwrap().len()
            );
        }
        assert_eq!(seen, 1000, "parallelism {parallelism}");
    }
    // Snapshots are left as they were.
    for dir in &snapshots {
        assert!(is_rocksdb_snapshot(dir));
    }
}

#[test]
fn a_second_snapshot_shares_the_unchanged_files_of_the_first() {
    let tmp = TempDir::new();
    let mut store = open(&tmp.join("db"));
    fill(&mut store, 0..20_000);
    let first = store.snapshot_to(&tmp.join("s1")).unwrap();
    assert_eq!((first.new_files, first.new_bytes), (first.files, first.bytes));
    fill(&mut store, 20_000..20_100);
    let second = store.snapshot_to(&tmp.join("s2")).unwrap();
    assert!(second.files > first.files);
    assert!(second.new_files < second.files, "{second:?}");
    assert!(second.new_bytes < first.bytes / 10, "{first:?} then {second:?}");
    // Shared files are the same file on disk (hard links), not copies.
    let mut shared = 0;
    for entry in std::fs::read_dir(tmp.join("s1").join("rocksdb")).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name.to_string_lossy().ends_with(".sst") {
            let again = tmp.join("s2").join("rocksdb").join(&name);
            assert_eq!(entry.metadata().unwrap().ino(), std::fs::metadata(again).unwrap().ino());
            shared += 1;
        }
    }
    assert_eq!(shared, first.files);
    assert!(
        store.snapshot_to(&tmp.join("s2")).is_err(),
        "a snapshot never overwrites another"
    );
}

#[test]
fn snapshots_of_other_max_parallelisms_are_refused() {
    let tmp = TempDir::new();
    let mut store = open(&tmp.join("db"));
    fill(&mut store, 0..10);
    store.snapshot_to(&tmp.join("s")).unwrap();
    let mut other = settings(Clock::System);
    other.max_parallelism = 256;
    let err = RocksDbKeyedState::restore_from(&[&tmp.join("s")], 0..256, tmp.join("r"), other).unwrap_err();
    assert!(err.0.contains("max parallelism 128"), "{err}");
    std::fs::write(tmp.join("s").join("rocksdb-state.json"), "{").unwrap();
    let err = RocksDbKeyedState::restore_from(&[&tmp.join("s")], 0..128, tmp.join("r2"), settings(Clock::System))
        .unwrap_err();
    assert!(err.0.contains("not a readable RocksDB snapshot"), "{err}");
}

#[test]
fn every_changed_byte_of_a_snapshots_state_file_is_refused() {
    let tmp = TempDir::new();
    let mut store = open(&tmp.join("db"));
    fill(&mut store, 0..3);
    store.snapshot_to(&tmp.join("s")).unwrap();
    let restores = AtomicUsize::new(0);
    crate::state::checksum::assert_every_flip_refused(&tmp.join("s").join("rocksdb-state.json"), || {
        let n = restores.fetch_add(1, Ordering::SeqCst);
        RocksDbKeyedState::restore_from(
            &[&tmp.join("s")],
            0..128,
            tmp.join(&format!("r{n}")),
            settings(Clock::System),
        )
        .map(drop)
        .map_err(|e| e.0)
    });
    let meta = tmp.join("s").join("rocksdb-state.json");
    let text = std::fs::read_to_string(&meta)
        .unwrap()
        .replace("ferroflow-rocksdb-2", "ferroflow-rocksdb-1");
    std::fs::write(&meta, text).unwrap();
    let err = RocksDbKeyedState::restore_from(&[&tmp.join("s")], 0..128, tmp.join("old"), settings(Clock::System))
        .unwrap_err();
    assert!(err.0.contains("written by another version of ferroflow"), "{err}");
}

#[test]
fn compaction_drops_expired_entries_of_states_with_a_time_to_live() {
    let tmp = TempDir::new();
    let clock = Clock::manual(1_000);
    let mut store = RocksDbKeyedState::open(tmp.join("db"), settings(clock.clone())).unwrap();
    let seen = store.register("seen", StateKind::Value, Some(100)).unwrap();
    let log = store.register("log", StateKind::List, Some(100)).unwrap();
    let plain = store.register("plain", StateKind::Value, None).unwrap();
    for k in 0..100 {
        let r = row(&store, &Key::Int(k), &Namespace::Global);
        // Even keys were last touched at 1000, odd ones at 1050.
        let touched = if k % 2 == 0 { 1_000 } else { 1_050 };
        store.put(seen, &r, &stamp(touched, b"x")).unwrap();
        store.put(plain, &r, b"kept").unwrap();
        let mut framed = Vec::new();
        push_element(&mut framed, &stamp(1_000, b"old"));
        if k % 2 == 1 {
            push_element(&mut framed, &stamp(1_050, b"new"));
        }
        store.merge(log, &r, &framed).unwrap();
    }
    clock.advance_to(1_120);
    store.compact().unwrap();
    for k in 0..100 {
        let live = k % 2 == 1;
        assert_eq!(value(&mut store, seen, &Key::Int(k)).is_some(), live, "key {k}");
        assert_eq!(value(&mut store, log, &Key::Int(k)).is_some(), live, "list of key {k}");
        assert!(value(&mut store, plain, &Key::Int(k)).is_some());
    }
    assert!(store.register("seen", StateKind::Value, None).is_err());
}

#[test]
fn pending_writes_read_back_and_join_what_rocksdb_holds() {
    let tmp = TempDir::new();
    let mut store = open(&tmp.join("db"));
    let log = store.register("log", StateKind::List, None).unwrap();
    let v = store.register("v", StateKind::Value, None).unwrap();
    let r = row(&store, &Key::Int(1), &Namespace::Global);
    let framed = |e: &[u8]| {
        let mut out = Vec::new();
        push_element(&mut out, e);
        out
    };
    let list = |store: &mut RocksDbKeyedState| -> Vec<Vec<u8>> {
        let value = store.get(log, &r).unwrap().map(|v| v.to_vec()).unwrap_or_default();
        elements(&value).map(|e| e.unwrap().to_vec()).collect()
    };
    store.merge(log, &r, &framed(b"a")).unwrap();
    store.flush().unwrap();
    // Appends to a list in RocksDB wait as a merge; reading joins them.
    store.merge(log, &r, &framed(b"b")).unwrap();
    store.merge(log, &r, &framed(b"c")).unwrap();
    assert_eq!(list(&mut store), vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]);
    // A delete then an append starts a new list; a put then an append extends it.
    store.delete(log, &r).unwrap();
    store.merge(log, &r, &framed(b"d")).unwrap();
    assert_eq!(list(&mut store), vec![b"d".to_vec()]);
    store.flush().unwrap();
    assert_eq!(list(&mut store), vec![b"d".to_vec()]);
    // Many writes go to RocksDB in batches; the last write of each row wins.
    for round in 0..3 {
        for k in 0..10_000i64 {
            let r = row(&store, &Key::Int(k), &Namespace::Global);
            store.put(v, &r, &(k * 10 + round).to_le_bytes()).unwrap();
        }
    }
    for k in [0, 4095, 4096, 9999] {
        assert_eq!(
            value(&mut store, v, &Key::Int(k)),
            Some((k * 10 + 2).to_le_bytes().to_vec())
        );
    }
    store.delete(v, &row(&store, &Key::Int(5), &Namespace::Global)).unwrap();
    assert_eq!(value(&mut store, v, &Key::Int(5)), None);
    assert_eq!(store.count_rows().unwrap(), 1 + 9_999);
}

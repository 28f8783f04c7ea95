//! Timers in checkpoints: every timer of an operator instance written to `timers.bin`, and the
//! timers of the key groups a subtask owns read back from the snapshots of any number of old
//! subtasks.
//!
//! ```text
//! "FFTIMER2"  count:u64  { domain:u8  time:i64  key  namespace:bytes }*
//! crc32:u32 (crate::state::checksum)
//! ```

use std::hash::Hash;
use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::runtime::key_group::key_group_for_hash;
use crate::state::codec::{DecodeError, Reader, Writer};
use crate::state::snapshot::{read_snapshot_file, write_snapshot_file, SnapshotError};
use crate::time::timer_service::{TimeDomain, TimerService};

const MAGIC: &[u8; 8] = b"FFTIMER2";
const FILE_NAME: &str = "timers.bin";

/// Writes every timer of `timers` to `dir`; `namespace` gives a namespace's bytes. Writes
/// nothing when there are no timers. Returns the bytes written.
pub fn write_timers<N: Eq + Hash + Clone>(
    dir: &Path,
    timers: &TimerService<N>,
    namespace: impl Fn(&N) -> Vec<u8>,
) -> Result<u64, SnapshotError> {
    let all = timers.all();
    if all.is_empty() {
        return Ok(0);
    }
    let mut w = Writer::default();
    w.bytes.extend_from_slice(MAGIC);
    w.u64(all.len() as u64);
    for (domain, timer) in all {
        w.u8(match domain {
            TimeDomain::EventTime => 0,
            TimeDomain::ProcessingTime => 1,
        });
        w.i64(timer.time);
        w.key(&timer.key);
        w.bytes(&namespace(timer.namespace));
    }
    write_snapshot_file(dir, FILE_NAME, &w.bytes)
}

/// Registers in `timers` the timers of keys in `key_groups` (of `max_parallelism`) found in
/// the snapshot directories `dirs` (a directory without timers has none).
pub fn restore_timers<N: Eq + Hash + Clone>(
    dirs: &[PathBuf],
    key_groups: Range<usize>,
    max_parallelism: usize,
    timers: &mut TimerService<N>,
    namespace: impl Fn(&[u8]) -> Result<N, DecodeError>,
) -> Result<(), SnapshotError> {
    for dir in dirs {
        if !dir.join(FILE_NAME).exists() {
            continue;
        }
        let (path, bytes) = read_snapshot_file(dir, FILE_NAME, MAGIC, "a timer snapshot")?;
        let corrupt = |error| SnapshotError::Corrupt {
            path: path.clone(),
            error,
        };
        let mut r = Reader::new(&bytes[MAGIC.len()..]);
        for _ in 0..r.u64().map_err(corrupt)? {
            let domain = match r.u8().map_err(corrupt)? {
                0 => TimeDomain::EventTime,
                1 => TimeDomain::ProcessingTime,
                other => return Err(corrupt(DecodeError(format!("unknown time domain {other}")))),
            };
            let time = r.i64().map_err(corrupt)?;
            let key = r.key().map_err(corrupt)?;
            let ns = namespace(r.bytes().map_err(corrupt)?).map_err(corrupt)?;
            if key_groups.contains(&key_group_for_hash(key.stable_hash(), max_parallelism)) {
                timers.register(domain, time, key, ns);
            }
        }
        if !r.is_at_end() {
            return Err(corrupt(DecodeError("bytes after the last timer".into())));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::key::Key;
    use crate::runtime::key_group::key_group_range;

    #[test]
    fn timers_round_trip_split_by_key_group() {
        let dir = std::env::temp_dir().join(format!("ff-timers-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut t: TimerService<()> = TimerService::default();
        for k in 0..50 {
            t.register(TimeDomain::EventTime, 100 + k, Key::Int(k), ());
            t.register(TimeDomain::ProcessingTime, 7, Key::Int(k), ());
        }
        assert!(write_timers(&dir, &t, |_| Vec::new()).unwrap() > 0);
        let mut total = 0;
        for i in 0..3 {
            let mut restored: TimerService<()> = TimerService::default();
            restore_timers(
                std::slice::from_ref(&dir),
                key_group_range(i, 3, 128),
                128,
                &mut restored,
                |_| Ok(()),
            )
            .unwrap();
            total += restored.len(TimeDomain::EventTime);
            assert_eq!(
                restored.len(TimeDomain::EventTime),
                restored.len(TimeDomain::ProcessingTime)
            );
        }
        assert_eq!(total, 50);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn every_changed_byte_of_a_timer_snapshot_is_refused_naming_it() {
        let dir = std::env::temp_dir().join(format!("ff-timers-flips-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut t: TimerService<Vec<u8>> = TimerService::default();
        t.register(TimeDomain::EventTime, 100, Key::Int(1), vec![7]);
        t.register(TimeDomain::ProcessingTime, 7, Key::Str("k".into()), vec![]);
        write_timers(&dir, &t, |n| n.clone()).unwrap();
        crate::state::checksum::assert_every_flip_refused(&dir.join(FILE_NAME), || {
            let mut restored: TimerService<Vec<u8>> = TimerService::default();
            restore_timers(std::slice::from_ref(&dir), 0..128, 128, &mut restored, |b| {
                Ok(b.to_vec())
            })
            .map_err(|e| e.to_string())
        });
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

//! Operator state: named lists of elements kept by one operator instance (not by key), and how
//! they are handed out when a job restores at another parallelism.
//!
//! As in Flink: the elements of a list state are split evenly over the new subtasks (each old
//! subtask's elements in order, then the next subtask's); a union list state gives every new
//! subtask all elements of all old subtasks; a broadcast state (every subtask keeps the same
//! copy) gives new subtask `i` the copy of old subtask `i % old parallelism`, round robin.
//!
//! A snapshot is one file, `operator-state.bin`, in a directory of its own:
//!
//! ```text
//! "FFOPST02"  states:u32  { name:bytes  mode:u8  elements:u64  { element:bytes }* }*
//! crc32:u32 (crate::state::checksum)
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use crate::state::codec::{DecodeError, Reader, Writer};
use crate::state::snapshot::{read_snapshot_file, write_snapshot_file, SnapshotError};

const MAGIC: &[u8; 8] = b"FFOPST02";
const FILE_NAME: &str = "operator-state.bin";

/// How a list state's elements go to the subtasks of a restored job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Distribution {
    /// Split evenly: each element goes to one subtask.
    Split,
    /// Every subtask gets every element.
    Union,
    /// Every subtask keeps the same elements: each gets one old subtask's copy.
    Broadcast,
}

impl Distribution {
    fn tag(self) -> u8 {
        match self {
            Distribution::Split => 0,
            Distribution::Union => 1,
            Distribution::Broadcast => 2,
        }
    }

    fn of_tag(tag: u8) -> Result<Distribution, DecodeError> {
        match tag {
            0 => Ok(Distribution::Split),
            1 => Ok(Distribution::Union),
            2 => Ok(Distribution::Broadcast),
            _ => Err(DecodeError(format!("unknown distribution tag {tag}"))),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Distribution::Split => "list state",
            Distribution::Union => "union list state",
            Distribution::Broadcast => "broadcast state",
        }
    }
}

/// The operator state of one subtask as snapshots hold it: by name, its distribution and its
/// elements' bytes.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct OperatorStateSnapshot {
    pub states: BTreeMap<String, (Distribution, Vec<Vec<u8>>)>,
}

impl OperatorStateSnapshot {
    /// Writes the snapshot to `dir` (created if needed); returns the bytes written.
    pub fn write_to(&self, dir: &Path) -> Result<u64, SnapshotError> {
        let mut w = Writer::default();
        w.bytes.extend_from_slice(MAGIC);
        w.u32(self.states.len() as u32);
        for (name, (distribution, elements)) in &self.states {
            w.bytes(name.as_bytes());
            w.u8(distribution.tag());
            w.u64(elements.len() as u64);
            for e in elements {
                w.bytes(e);
            }
        }
        write_snapshot_file(dir, FILE_NAME, &w.bytes)
    }

    fn read_from(dir: &Path) -> Result<OperatorStateSnapshot, SnapshotError> {
        let (path, bytes) = read_snapshot_file(dir, FILE_NAME, MAGIC, "an operator-state snapshot")?;
        let corrupt = |error| SnapshotError::Corrupt {
            path: path.clone(),
            error,
        };
        let mut r = Reader::new(&bytes[MAGIC.len()..]);
        let mut snapshot = OperatorStateSnapshot::default();
        for _ in 0..r.u32().map_err(corrupt)? {
            let name = r.str().map_err(corrupt)?.to_string();
            let distribution = Distribution::of_tag(r.u8().map_err(corrupt)?).map_err(corrupt)?;
            let n = r.u64().map_err(corrupt)?;
            let mut elements = Vec::new();
            for _ in 0..n {
                elements.push(r.bytes().map_err(corrupt)?.to_vec());
            }
            snapshot.states.insert(name, (distribution, elements));
        }
        if !r.is_at_end() {
            return Err(corrupt(DecodeError("bytes after the last state".into())));
        }
        Ok(snapshot)
    }

    /// The operator state of subtask `index` of `parallelism`, from the snapshots of all
    /// subtasks of an earlier run, in subtask order.
    pub fn restore_from(
        snapshots: &[&Path],
        index: usize,
        parallelism: usize,
    ) -> Result<OperatorStateSnapshot, SnapshotError> {
        let olds = snapshots
            .iter()
            .map(|dir| OperatorStateSnapshot::read_from(dir))
            .collect::<Result<Vec<_>, _>>()?;
        OperatorStateSnapshot::redistribute(&olds, index, parallelism)
    }

    /// What subtask `index` of `parallelism` gets of the old subtasks' state `olds`.
    pub fn redistribute(
        olds: &[OperatorStateSnapshot],
        index: usize,
        parallelism: usize,
    ) -> Result<OperatorStateSnapshot, SnapshotError> {
        let mut all: BTreeMap<&str, (Distribution, Vec<&Vec<u8>>)> = BTreeMap::new();
        // The old subtask whose copies of the broadcast states this subtask gets.
        let copy = index % olds.len().max(1);
        for (old_index, old) in olds.iter().enumerate() {
            for (name, (distribution, elements)) in &old.states {
                let entry = all.entry(name).or_insert((*distribution, Vec::new()));
                if entry.0 != *distribution {
                    return Err(SnapshotError::KindClash(format!(
                        "the operator state '{name}' is a {} in one snapshot and a {} in another",
                        entry.0.name(),
                        distribution.name()
                    )));
                }
                if *distribution != Distribution::Broadcast || old_index == copy {
                    entry.1.extend(elements);
                }
            }
        }
        let mut mine = OperatorStateSnapshot::default();
        for (name, (distribution, elements)) in all {
            let share: Vec<Vec<u8>> = match distribution {
                Distribution::Union | Distribution::Broadcast => elements.into_iter().cloned().collect(),
                Distribution::Split => {
                    let n = elements.len();
                    let (start, end) = (index * n / parallelism, (index + 1) * n / parallelism);
                    elements[start..end].iter().map(|e| (*e).clone()).collect()
                }
            };
            mine.states.insert(name.to_string(), (distribution, share));
        }
        Ok(mine)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(states: &[(&str, Distribution, &[&str])]) -> OperatorStateSnapshot {
        OperatorStateSnapshot {
            states: states
                .iter()
                .map(|(name, d, elements)| {
                    (
                        name.to_string(),
                        (*d, elements.iter().map(|e| e.as_bytes().to_vec()).collect()),
                    )
                })
                .collect(),
        }
    }

    fn elements(s: &OperatorStateSnapshot, name: &str) -> Vec<String> {
        s.states[name]
            .1
            .iter()
            .map(|e| String::from_utf8(e.clone()).unwrap())
            .collect()
    }

    #[test]
    fn list_state_is_split_and_union_state_is_given_to_every_subtask() {
        let olds = [
            snapshot(&[
                ("offsets", Distribution::Split, &["a0", "a1", "a2"]),
                ("seen", Distribution::Union, &["x"]),
            ]),
            snapshot(&[
                ("offsets", Distribution::Split, &["b0", "b1"]),
                ("seen", Distribution::Union, &["y", "z"]),
            ]),
        ];
        for parallelism in 1..=6 {
            let mut split = Vec::new();
            for index in 0..parallelism {
                let mine = OperatorStateSnapshot::redistribute(&olds, index, parallelism).unwrap();
                let share = elements(&mine, "offsets");
                assert!(share.len() <= 5usize.div_ceil(parallelism), "{share:?}");
                split.extend(share);
                assert_eq!(elements(&mine, "seen"), vec!["x", "y", "z"]);
            }
            assert_eq!(split, vec!["a0", "a1", "a2", "b0", "b1"], "parallelism {parallelism}");
        }
    }

    #[test]
    fn broadcast_state_gives_each_new_subtask_one_old_copy_round_robin() {
        let olds = [
            snapshot(&[("rules", Distribution::Broadcast, &["a", "b"])]),
            snapshot(&[("rules", Distribution::Broadcast, &["a", "b", "c"])]),
        ];
        let copies: Vec<Vec<String>> = (0..5)
            .map(|index| elements(&OperatorStateSnapshot::redistribute(&olds, index, 5).unwrap(), "rules"))
            .collect();
        let (first, second) = (vec!["a", "b"], vec!["a", "b", "c"]);
        assert_eq!(
            copies,
            vec![first.clone(), second.clone(), first.clone(), second, first]
        );
    }

    #[test]
    fn snapshots_read_back_and_damage_is_an_error() {
        let dir = std::env::temp_dir().join(format!("ferroflow-opstate-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let s = snapshot(&[("offsets", Distribution::Split, &["1", "", "333"])]);
        let bytes = s.write_to(&dir).unwrap();
        assert_eq!(OperatorStateSnapshot::restore_from(&[&dir], 0, 1).unwrap(), s);
        let file = dir.join(FILE_NAME);
        assert_eq!(std::fs::metadata(&file).unwrap().len(), bytes);
        let data = std::fs::read(&file).unwrap();
        std::fs::write(&file, &data[..data.len() - 1]).unwrap();
        assert!(matches!(
            OperatorStateSnapshot::restore_from(&[&dir], 0, 1),
            Err(SnapshotError::Corrupt { .. })
        ));
        let other = snapshot(&[("offsets", Distribution::Union, &["u"])]);
        assert!(matches!(
            OperatorStateSnapshot::redistribute(&[s, other], 0, 1),
            Err(SnapshotError::KindClash(_))
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn every_changed_byte_of_a_snapshot_is_refused_naming_it() {
        let dir = std::env::temp_dir().join(format!("ferroflow-opstate-flips-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        snapshot(&[
            ("offsets", Distribution::Split, &["1", "22"]),
            ("u", Distribution::Union, &["x"]),
        ])
        .write_to(&dir)
        .unwrap();
        crate::state::checksum::assert_every_flip_refused(&dir.join(FILE_NAME), || {
            OperatorStateSnapshot::restore_from(&[&dir], 0, 1)
                .map(drop)
                .map_err(|e| e.to_string())
        });
        let _ = std::fs::remove_dir_all(&dir);
    }
}

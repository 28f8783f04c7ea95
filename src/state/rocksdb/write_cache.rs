//! Writes not yet in RocksDB: a store keeps its latest writes in memory and hands them to
//! RocksDB as one write batch when there are many (by count or bytes), and before anything reads
//! RocksDB directly (scans, snapshots, compactions). Reads of a row look here first, so a reader
//! always sees its own writes; a row written again and again (a counter per key) reaches RocksDB
//! once per batch instead of once per write.

use std::collections::HashMap;

use crate::state::keyed::StateId;

/// Rows held before they go to RocksDB.
const MAX_ROWS: usize = 4096;
/// Bytes of rows and values held before they go to RocksDB.
const MAX_BYTES: usize = 4 << 20;

/// The latest write of a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PendingWrite {
    Put(Vec<u8>),
    Delete,
    /// List elements appended to a row whose value is not known here (it is in RocksDB).
    Merge(Vec<u8>),
}

impl PendingWrite {
    fn bytes(&self) -> usize {
        match self {
            PendingWrite::Put(v) | PendingWrite::Merge(v) => v.len(),
            PendingWrite::Delete => 0,
        }
    }
}

/// The pending writes of a store, by state and row.
#[derive(Debug, Default)]
pub struct WriteCache {
    states: Vec<HashMap<Vec<u8>, PendingWrite>>,
    rows: usize,
    bytes: usize,
}

impl WriteCache {
    fn rows_of(&mut self, state: StateId) -> &mut HashMap<Vec<u8>, PendingWrite> {
        let i = state as usize;
        if self.states.len() <= i {
            self.states.resize_with(i + 1, HashMap::new);
        }
        &mut self.states[i]
    }

    /// The pending write of a row, if there is one.
    pub fn get(&self, state: StateId, row: &[u8]) -> Option<&PendingWrite> {
        self.states.get(state as usize)?.get(row)
    }

    /// Records a write; says whether the cache is now full (time to flush).
    pub fn write(&mut self, state: StateId, row: &[u8], write: PendingWrite) -> bool {
        let added = write.bytes();
        let replaced = self.rows_of(state).insert(row.to_vec(), write);
        if replaced.is_none() {
            self.bytes += row.len();
        }
        self.account(replaced.as_ref(), added)
    }

    /// Records list elements appended to a row; says whether the cache is now full.
    pub fn merge(&mut self, state: StateId, row: &[u8], elements: &[u8]) -> bool {
        let rows = self.rows_of(state);
        let new_row = match rows.get_mut(row) {
            Some(PendingWrite::Put(value) | PendingWrite::Merge(value)) => {
                value.extend_from_slice(elements);
                false
            }
            Some(slot @ PendingWrite::Delete) => {
                *slot = PendingWrite::Put(elements.to_vec());
                false
            }
            None => {
                rows.insert(row.to_vec(), PendingWrite::Merge(elements.to_vec()));
                true
            }
        };
        self.rows += usize::from(new_row);
        self.bytes += elements.len() + if new_row { row.len() } else { 0 };
        self.is_full()
    }

    fn account(&mut self, replaced: Option<&PendingWrite>, added: usize) -> bool {
        match replaced {
            Some(old) => self.bytes = self.bytes - old.bytes() + added,
            None => {
                self.rows += 1;
                self.bytes += added;
            }
        }
        self.is_full()
    }

    fn is_full(&self) -> bool {
        self.rows >= MAX_ROWS || self.bytes >= MAX_BYTES
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// The pending writes, by state.
    pub fn states(&self) -> impl Iterator<Item = (StateId, &HashMap<Vec<u8>, PendingWrite>)> {
        self.states
            .iter()
            .enumerate()
            .filter(|(_, rows)| !rows.is_empty())
            .map(|(id, rows)| (id as StateId, rows))
    }

    /// Takes every pending write, by state.
    pub fn take(&mut self) -> Vec<HashMap<Vec<u8>, PendingWrite>> {
        self.rows = 0;
        self.bytes = 0;
        std::mem::take(&mut self.states)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_latest_write_of_a_row_wins_and_appends_join_it() {
        let mut cache = WriteCache::default();
        assert!(!cache.write(0, b"a", PendingWrite::Put(b"1".to_vec())));
        cache.write(0, b"a", PendingWrite::Put(b"2".to_vec()));
        cache.write(1, b"a", PendingWrite::Delete);
        assert_eq!(cache.get(0, b"a"), Some(&PendingWrite::Put(b"2".to_vec())));
        assert_eq!(cache.get(1, b"a"), Some(&PendingWrite::Delete));
        assert_eq!(cache.get(2, b"a"), None);
        // Appending to a known value extends it; to a deleted row starts a new value; to an
        // unknown row records a merge.
        cache.merge(0, b"a", b"+x");
        cache.merge(1, b"a", b"y");
        cache.merge(0, b"b", b"z");
        cache.merge(0, b"b", b"w");
        assert_eq!(cache.get(0, b"a"), Some(&PendingWrite::Put(b"2+x".to_vec())));
        assert_eq!(cache.get(1, b"a"), Some(&PendingWrite::Put(b"y".to_vec())));
        assert_eq!(cache.get(0, b"b"), Some(&PendingWrite::Merge(b"zw".to_vec())));
        let taken = cache.take();
        assert_eq!(taken.iter().map(HashMap::len).sum::<usize>(), 3);
        assert!(cache.is_empty() && cache.get(0, b"a").is_none());
    }

    #[test]
    fn the_cache_is_full_at_its_row_or_byte_limit() {
        let mut cache = WriteCache::default();
        for i in 0..MAX_ROWS - 1 {
            assert!(!cache.write(0, &i.to_le_bytes(), PendingWrite::Delete));
        }
        // Writing a row again does not add a row.
        assert!(!cache.write(0, &0usize.to_le_bytes(), PendingWrite::Delete));
        assert!(cache.write(0, b"last", PendingWrite::Delete));
        cache.take();
        assert!(cache.write(3, b"big", PendingWrite::Put(vec![0; MAX_BYTES])));
    }
}

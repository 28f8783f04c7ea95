//! How keyed state lies in RocksDB.
//!
//! A row's key is `key_group:u16 (big-endian) | key | namespace [| map key]`, in the byte forms of
//! [`crate::state::codec`]. The key group comes first, so the rows of a key-group range are one
//! range of row keys (restoring at another parallelism reads and deletes whole ranges), and the
//! rows of one (key, namespace) share a prefix (a MapState's entries are one prefix scan).
//!
//! A list's value is its elements, each `length:u32 | bytes`, so appending is a RocksDB merge
//! that concatenates. A state with time-to-live stamps each value (each list element, each map
//! entry) as `last_access_ms:i64 | bytes`, which the compaction filter reads.

use std::ops::Range;

use crate::runtime::key::Key;
use crate::runtime::key_group::key_group_for_hash;
use crate::state::codec::{DecodeError, Reader, Writer};
use crate::state::keyed::Namespace;

/// Bytes of the key-group prefix of every row key.
pub const KEY_GROUP_BYTES: usize = 2;

/// Sets `out` to the row key prefix of (`key`, `namespace`).
pub fn row_prefix(out: &mut Vec<u8>, key: &Key, namespace: &Namespace, max_parallelism: usize) {
    out.clear();
    let key_group = key_group_for_hash(key.stable_hash(), max_parallelism) as u16;
    out.extend_from_slice(&key_group.to_be_bytes());
    let mut writer = Writer {
        bytes: std::mem::take(out),
    };
    writer.key(key);
    writer.namespace(namespace);
    *out = writer.bytes;
}

/// The first row key of `key_group` (and the end of the range of the group before it).
pub fn key_group_start(key_group: usize) -> [u8; KEY_GROUP_BYTES] {
    (key_group as u16).to_be_bytes()
}

/// The row-key range of key groups `key_groups` as (start, end); no end when the range reaches
/// the last possible group.
pub fn key_group_rows(key_groups: &Range<usize>) -> (Vec<u8>, Option<Vec<u8>>) {
    let start = key_group_start(key_groups.start).to_vec();
    let end = (key_groups.end <= u16::MAX as usize).then(|| key_group_start(key_groups.end).to_vec());
    (start, end)
}

/// The key group of a row key.
pub fn key_group_of(row: &[u8]) -> Option<usize> {
    let bytes: [u8; KEY_GROUP_BYTES] = row.get(..KEY_GROUP_BYTES)?.try_into().ok()?;
    Some(u16::from_be_bytes(bytes) as usize)
}

/// The key, namespace and the rest (a map entry's key bytes) of a row key.
pub fn parse_row(row: &[u8]) -> Result<(Key, Namespace, &[u8]), DecodeError> {
    let body = row
        .get(KEY_GROUP_BYTES..)
        .ok_or_else(|| DecodeError("a row key shorter than its key group".into()))?;
    let mut reader = Reader::new(body);
    let key = reader.key()?;
    let namespace = reader.namespace()?;
    Ok((key, namespace, reader.rest()))
}

/// The smallest byte string greater than every string starting with `prefix`, if there is one.
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// Appends one list element to `out`.
pub fn push_element(out: &mut Vec<u8>, element: &[u8]) {
    out.extend_from_slice(&(element.len() as u32).to_le_bytes());
    out.extend_from_slice(element);
}

/// The elements of a list value.
pub fn elements(list: &[u8]) -> Elements<'_> {
    Elements { rest: list }
}

/// Iterator over the elements of a list value; a damaged value ends in an error.
pub struct Elements<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Elements<'a> {
    type Item = Result<&'a [u8], DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let mut reader = Reader::new(self.rest);
        let element = reader
            .u32()
            .and_then(|len| reader.take(len as usize))
            .map(|element| (element, reader.rest()));
        Some(match element {
            Ok((element, rest)) => {
                self.rest = rest;
                Ok(element)
            }
            Err(e) => {
                self.rest = &[];
                Err(e)
            }
        })
    }
}

/// Bytes of a time-to-live stamp.
pub const STAMP_BYTES: usize = 8;

/// `value` stamped with its last access time.
pub fn stamp(last_access: i64, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(STAMP_BYTES + value.len());
    out.extend_from_slice(&last_access.to_le_bytes());
    out.extend_from_slice(value);
    out
}

/// The last access time and the value of a stamped value.
pub fn unstamp(stamped: &[u8]) -> Result<(i64, &[u8]), DecodeError> {
    if stamped.len() < STAMP_BYTES {
        return Err(DecodeError("a time-to-live value shorter than its stamp".into()));
    }
    let (time, value) = stamped.split_at(STAMP_BYTES);
    let mut bytes = [0u8; STAMP_BYTES];
    bytes.copy_from_slice(time);
    Ok((i64::from_le_bytes(bytes), value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::window::window::Window;

    #[test]
    fn rows_start_with_their_key_group_and_read_back() {
        let key = Key::Tuple(vec![Key::Str("a".into()), Key::Int(3)].into());
        let namespace = Namespace::Window(Window::Time { start: 0, end: 10 });
        let mut row = Vec::new();
        row_prefix(&mut row, &key, &namespace, 128);
        let group = key_group_for_hash(key.stable_hash(), 128);
        assert_eq!(key_group_of(&row), Some(group));
        row.extend_from_slice(b"entry");
        let (k, n, rest) = parse_row(&row).unwrap();
        assert_eq!((k, n, rest), (key, namespace, &b"entry"[..]));
        assert!(parse_row(&row[..5]).is_err());
    }

    #[test]
    fn a_key_group_range_is_a_row_range() {
        let (start, end) = key_group_rows(&(3..7));
        let mut row = Vec::new();
        for i in 0..2000 {
            row_prefix(&mut row, &Key::Int(i), &Namespace::Global, 128);
            let inside = (3..7).contains(&key_group_of(&row).unwrap());
            let in_rows = row >= start && end.as_ref().is_none_or(|end| &row < end);
            assert_eq!(inside, in_rows, "key {i}");
        }
        assert_eq!(key_group_rows(&(0..65536)).1, None);
    }

    #[test]
    fn prefix_end_bounds_every_extension() {
        assert_eq!(prefix_end(&[1, 2]), Some(vec![1, 3]));
        assert_eq!(prefix_end(&[1, 255]), Some(vec![2]));
        assert_eq!(prefix_end(&[255, 255]), None);
        let end = prefix_end(&[7, 255, 3]).unwrap();
        assert!(&[7, 255, 3, 255, 255][..] < end.as_slice());
        assert!(&[7, 255, 4][..] >= end.as_slice());
    }

    #[test]
    fn list_elements_and_stamps_read_back() {
        let mut list = Vec::new();
        for e in [&b"one"[..], b"", b"three"] {
            push_element(&mut list, e);
        }
        let got: Vec<&[u8]> = elements(&list).collect::<Result<_, _>>().unwrap();
        assert_eq!(got, vec![&b"one"[..], b"", b"three"]);
        assert!(elements(&list[..list.len() - 1]).any(|e| e.is_err()));
        let stamped = stamp(-42, b"v");
        assert_eq!(unstamp(&stamped).unwrap(), (-42, &b"v"[..]));
        assert!(unstamp(b"short").is_err());
    }
}

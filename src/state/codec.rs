//! The byte forms of what keyed state is addressed by (keys, namespaces) and the little reader
//! and writer snapshots are made of. The forms are stable: snapshots written by one run are
//! read by another.

use std::fmt;

use crate::runtime::key::{Key, MAX_KEY_DEPTH};
use crate::state::keyed::Namespace;
use crate::window::window::Window;

/// A snapshot that cannot be read: truncated, of another format, or with a value the state's
/// codec refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(pub String);

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Appends values to a byte buffer.
#[derive(Default)]
pub struct Writer {
    pub bytes: Vec<u8>,
}

impl Writer {
    pub fn u8(&mut self, v: u8) {
        self.bytes.push(v);
    }

    pub fn u32(&mut self, v: u32) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }

    pub fn u64(&mut self, v: u64) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }

    pub fn i64(&mut self, v: i64) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }

    /// A length (u64) and the bytes.
    pub fn bytes(&mut self, v: &[u8]) {
        self.u64(v.len() as u64);
        self.bytes.extend_from_slice(v);
    }

    pub fn key(&mut self, key: &Key) {
        match key {
            Key::None => self.u8(0),
            Key::Bool(b) => {
                self.u8(1);
                self.u8(*b as u8);
            }
            Key::Int(i) => {
                self.u8(2);
                self.i64(*i);
            }
            Key::BigInt(s) => {
                self.u8(3);
                self.bytes(s.as_bytes());
            }
            Key::Float(bits) => {
                self.u8(4);
                self.u64(*bits);
            }
            Key::Str(s) => {
                self.u8(5);
                self.bytes(s.as_bytes());
            }
            Key::Bytes(b) => {
                self.u8(6);
                self.bytes(b);
            }
            Key::Tuple(items) => {
                self.u8(7);
                self.u64(items.len() as u64);
                for item in items.iter() {
                    self.key(item);
                }
            }
            Key::Opaque(b) => {
                self.u8(8);
                self.bytes(b);
            }
        }
    }

    pub fn namespace(&mut self, namespace: &Namespace) {
        match namespace {
            Namespace::Global => self.u8(0),
            Namespace::Window(Window::Time { start, end }) => {
                self.u8(1);
                self.i64(*start);
                self.i64(*end);
            }
            Namespace::Window(Window::Count(id)) => {
                self.u8(2);
                self.i64(*id);
            }
            Namespace::Window(Window::Global) => self.u8(3),
        }
    }
}

/// Reads what a [`Writer`] wrote; every read checks the bytes are there.
pub struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, at: 0 }
    }

    pub fn is_at_end(&self) -> bool {
        self.at == self.bytes.len()
    }

    /// The bytes not read yet; the reader is then at its end.
    pub fn rest(&mut self) -> &'a [u8] {
        let rest = &self.bytes[self.at..];
        self.at = self.bytes.len();
        rest
    }

    pub fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|end| *end <= self.bytes.len())
            .ok_or_else(|| DecodeError(format!("truncated: wanted {n} bytes at offset {}", self.at)))?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }

    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    pub fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    pub fn i64(&mut self) -> Result<i64, DecodeError> {
        Ok(i64::from_le_bytes(self.array()?))
    }

    /// A length-prefixed byte string.
    pub fn bytes(&mut self) -> Result<&'a [u8], DecodeError> {
        let len = self.u64()?;
        let len = usize::try_from(len).map_err(|_| DecodeError(format!("length {len} is too large")))?;
        self.take(len)
    }

    pub fn str(&mut self) -> Result<&'a str, DecodeError> {
        std::str::from_utf8(self.bytes()?).map_err(|e| DecodeError(format!("invalid text: {e}")))
    }

    pub fn key(&mut self) -> Result<Key, DecodeError> {
        self.key_within(MAX_KEY_DEPTH)
    }

    /// A key of at most `depth` levels of nested tuples (a damaged snapshot must not recurse
    /// without bound).
    fn key_within(&mut self, depth: usize) -> Result<Key, DecodeError> {
        Ok(match self.u8()? {
            0 => Key::None,
            1 => Key::Bool(self.u8()? != 0),
            2 => Key::Int(self.i64()?),
            3 => Key::BigInt(self.str()?.into()),
            4 => Key::Float(self.u64()?),
            5 => Key::Str(self.str()?.into()),
            6 => Key::Bytes(self.bytes()?.into()),
            7 => {
                let depth = depth
                    .checked_sub(1)
                    .ok_or_else(|| DecodeError(format!("keys nested deeper than {MAX_KEY_DEPTH} tuples")))?;
                let n = self.u64()?;
                let mut items = Vec::new();
                for _ in 0..n {
                    items.push(self.key_within(depth)?);
                }
                Key::Tuple(items.into())
            }
            8 => Key::Opaque(self.bytes()?.into()),
            tag => return Err(DecodeError(format!("unknown key tag {tag}"))),
        })
    }

    pub fn namespace(&mut self) -> Result<Namespace, DecodeError> {
        Ok(match self.u8()? {
            0 => Namespace::Global,
            1 => Namespace::Window(Window::Time {
                start: self.i64()?,
                end: self.i64()?,
            }),
            2 => Namespace::Window(Window::Count(self.i64()?)),
            3 => Namespace::Window(Window::Global),
            tag => return Err(DecodeError(format!("unknown namespace tag {tag}"))),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_namespaces_read_back_as_written() {
        let keys = [
            Key::None,
            Key::Bool(true),
            Key::Int(-7),
            Key::BigInt("123456789012345678901234567890".into()),
            Key::Float(2.5f64.to_bits()),
            Key::Str("café".into()),
            Key::Bytes(vec![0, 255].into()),
            Key::Tuple(vec![Key::Int(1), Key::Tuple(vec![Key::Str("x".into())].into())].into()),
            Key::Opaque(vec![1, 2, 3].into()),
        ];
        let namespaces = [
            Namespace::Global,
            Namespace::Window(Window::Time { start: -5, end: 10 }),
            Namespace::Window(Window::Count(3)),
            Namespace::Window(Window::Global),
        ];
        let mut w = Writer::default();
        for k in &keys {
            w.key(k);
        }
        for n in &namespaces {
            w.namespace(n);
        }
        let mut r = Reader::new(&w.bytes);
        for k in &keys {
            assert_eq!(&r.key().unwrap(), k);
        }
        for n in &namespaces {
            assert_eq!(&r.namespace().unwrap(), n);
        }
        assert!(r.is_at_end());
    }

    #[test]
    fn truncated_or_unknown_bytes_are_errors_not_panics() {
        let mut w = Writer::default();
        w.key(&Key::Str("hello".into()));
        for cut in 0..w.bytes.len() {
            assert!(Reader::new(&w.bytes[..cut]).key().is_err(), "cut at {cut}");
        }
        assert!(Reader::new(&[99]).key().is_err());
        assert!(Reader::new(&[9]).namespace().is_err());
        // A length that does not fit is refused before any allocation.
        let mut huge = vec![6];
        huge.extend_from_slice(&u64::MAX.to_le_bytes());
        assert!(Reader::new(&huge).key().is_err());
        // Tuples nested without end are refused, not a stack overflow.
        let nested: Vec<u8> = std::iter::repeat_n([7u8, 1, 0, 0, 0, 0, 0, 0, 0], 100_000)
            .flatten()
            .collect();
        assert!(Reader::new(&nested).key().is_err());
    }
}

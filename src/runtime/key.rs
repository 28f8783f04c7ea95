//! Keys of keyed streams, as small Rust values with a hash that is stable across processes.
//!
//! A key selector's result is converted once, where the selector runs, into a [`Key`]; the key
//! then travels with its record to the keyed operator. The hash decides the key group
//! (see [`crate::runtime::key_group`]), so it must never change between runs or machines: it is
//! computed from a canonical byte encoding, not from Rust's or Python's randomised hashing.

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};

/// How deeply tuples may nest in a key: a key is refused when it is made (and a snapshot when it
/// is read) past this depth, so that nothing that walks a key (hashing, encoding, dropping)
/// recurses without bound.
pub const MAX_KEY_DEPTH: usize = 64;

/// A key. Python values map to the variant of their type; values of other types are kept as a
/// stable byte encoding of the value (`Opaque`). Two keys are equal when they have the same type
/// and the same value, recursively in tuples (PyFlink compares keys in serialized form): `True`,
/// `1` and `1.0` are three keys, `0.0` and `-0.0` two.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Key {
    None,
    Bool(bool),
    Int(i64),
    /// An integer outside the range of `i64`, in decimal.
    BigInt(Box<str>),
    /// A float, by its bits (`-0.0` is not `0.0`); every NaN is one key, with the bits of
    /// `f64::NAN`.
    Float(u64),
    Str(Box<str>),
    Bytes(Box<[u8]>),
    Tuple(Box<[Key]>),
    /// Any other hashable value, by a stable encoding of it (for Python values: its pickle).
    Opaque(Box<[u8]>),
}

impl Key {
    /// The key's stable 64-bit hash.
    pub fn stable_hash(&self) -> u64 {
        let mut h = StableHasher::new();
        self.feed(&mut h);
        h.finish()
    }

    fn feed(&self, h: &mut StableHasher) {
        match self {
            Key::None => h.write(&[0]),
            Key::Bool(b) => h.write(&[1, *b as u8]),
            Key::Int(i) => {
                h.write(&[2]);
                h.write(&i.to_le_bytes());
            }
            Key::BigInt(s) => {
                h.write(&[3]);
                h.write_len_prefixed(s.as_bytes());
            }
            Key::Float(bits) => {
                h.write(&[4]);
                h.write(&bits.to_le_bytes());
            }
            Key::Str(s) => {
                h.write(&[5]);
                h.write_len_prefixed(s.as_bytes());
            }
            Key::Bytes(b) => {
                h.write(&[6]);
                h.write_len_prefixed(b);
            }
            Key::Tuple(items) => {
                h.write(&[7]);
                h.write(&(items.len() as u64).to_le_bytes());
                for item in items.iter() {
                    item.feed(h);
                }
            }
            Key::Opaque(b) => {
                h.write(&[8]);
                h.write_len_prefixed(b);
            }
        }
    }

    /// The key of a float: its bits, so that it stays a float and `-0.0` stays apart from
    /// `0.0`; every NaN is the same key (a NaN key finds its own state again).
    pub fn from_f64(value: f64) -> Key {
        if value.is_nan() {
            Key::Float(f64::NAN.to_bits())
        } else {
            Key::Float(value.to_bits())
        }
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Key::None => write!(f, "None"),
            Key::Bool(b) => write!(f, "{}", if *b { "True" } else { "False" }),
            Key::Int(i) => write!(f, "{i}"),
            Key::BigInt(s) => write!(f, "{s}"),
            Key::Float(bits) => write!(f, "{}", f64::from_bits(*bits)),
            Key::Str(s) => write!(f, "{s:?}"),
            Key::Bytes(b) => write!(f, "<{} bytes>", b.len()),
            Key::Tuple(items) => {
                write!(f, "(")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{item}")?;
                }
                write!(f, ")")
            }
            Key::Opaque(b) => write!(f, "<object, {} bytes encoded>", b.len()),
        }
    }
}

/// A map by key for in-memory state. Its hasher is a fast multiplicative one (keys are hashed
/// once or twice per record); it is not the stable hash, which decides key groups.
pub type KeyMap<T> = FastMap<Key, T>;

/// A hash map with the fast hasher, for in-memory state keyed by keys and more.
pub type FastMap<K, T> = HashMap<K, T, BuildHasherDefault<FastHasher>>;

/// A rotate-xor-multiply hasher (FxHash) finished with an avalanche: a few instructions per
/// word.
#[derive(Default, Clone, Copy)]
pub struct FastHasher(u64);

impl FastHasher {
    const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(Self::SEED);
    }
}

impl Hasher for FastHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_i64(&mut self, i: i64) {
        self.add(i as u64);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn write_isize(&mut self, i: isize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        // The multiplies leave some bits poorly mixed for keys that differ in a few bits (keys
        // 0..n with windows that are multiples of a size collided a lot): finish with
        // MurmurHash3's avalanche, so that every bit of the hash depends on every input bit.
        let mut k = self.0;
        k ^= k >> 33;
        k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
        k ^= k >> 33;
        k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        k ^ (k >> 33)
    }
}

/// FNV-1a over the canonical encoding, finished with MurmurHash3's 64-bit avalanche so that
/// nearby keys spread over key groups.
struct StableHasher(u64);

impl StableHasher {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;

    fn new() -> Self {
        StableHasher(Self::OFFSET)
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(Self::PRIME);
        }
    }

    fn write_len_prefixed(&mut self, bytes: &[u8]) {
        self.write(&(bytes.len() as u64).to_le_bytes());
        self.write(bytes);
    }

    fn finish(&self) -> u64 {
        let mut k = self.0;
        k ^= k >> 33;
        k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
        k ^= k >> 33;
        k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        k ^= k >> 33;
        k
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_stable_across_runs() {
        // Pinned values (also computed by an independent implementation): a change here breaks
        // restoring state that an earlier version wrote.
        assert_eq!(Key::Int(1).stable_hash(), 0x8f96_f0d6_b617_55b0);
        assert_eq!(Key::Int(-7).stable_hash(), 0x6dbb_5922_53df_f5d1);
        assert_eq!(Key::Str("user-1".into()).stable_hash(), 0xb1af_5ac3_545e_75f3);
    }

    #[test]
    fn types_do_not_collide() {
        assert_ne!(Key::Int(1).stable_hash(), Key::Bool(true).stable_hash());
        assert_ne!(
            Key::Str("1".into()).stable_hash(),
            Key::Bytes(b"1".to_vec().into()).stable_hash()
        );
        assert_ne!(
            Key::Tuple(vec![Key::Str("ab".into()), Key::Str("c".into())].into()).stable_hash(),
            Key::Tuple(vec![Key::Str("a".into()), Key::Str("bc".into())].into()).stable_hash()
        );
    }

    #[test]
    fn key_map_finds_equal_keys() {
        let mut m: KeyMap<u32> = KeyMap::default();
        m.insert(Key::Str("abcdefghij".into()), 1);
        m.insert(Key::Tuple(vec![Key::Int(1), Key::Str("x".into())].into()), 2);
        assert_eq!(m.get(&Key::Str("abcdefghij".into())), Some(&1));
        assert_eq!(
            m.get(&Key::Tuple(vec![Key::Int(1), Key::Str("x".into())].into())),
            Some(&2)
        );
        assert_eq!(m.get(&Key::Str("abcdefghi".into())), None);
    }

    #[test]
    fn keys_of_other_types_or_signs_differ() {
        assert_eq!(Key::from_f64(3.0), Key::Float(3.0f64.to_bits()));
        assert_ne!(Key::from_f64(1.0), Key::Int(1));
        assert_ne!(Key::Int(1), Key::Bool(true));
        assert_ne!(Key::from_f64(0.0), Key::from_f64(-0.0));
        assert_ne!(Key::from_f64(0.0).stable_hash(), Key::from_f64(-0.0).stable_hash());
        assert_ne!(Key::from_f64(1.0).stable_hash(), Key::Int(1).stable_hash());
        // Every NaN, whatever its sign and payload, is one key with one hash.
        let other_nan = f64::from_bits(f64::NAN.to_bits() | 1);
        assert!(other_nan.is_nan());
        assert_eq!(Key::from_f64(f64::NAN), Key::from_f64(-other_nan));
        assert_eq!(
            Key::from_f64(f64::NAN).stable_hash(),
            Key::from_f64(-other_nan).stable_hash()
        );
    }
}

//! Checksums of the files a checkpoint holds, so that a damaged file is refused rather than
//! restored as wrong state.
//!
//! CRC-32 (IEEE, as `zlib.crc32`) detects every error burst of up to 32 bits, so every changed
//! byte for sure. A binary snapshot file ends with the CRC-32 of all bytes before it (`u32`,
//! little-endian); a JSON file (a checkpoint's `_metadata`, a RocksDB snapshot's
//! `rocksdb-state.json`) ends with a `"checksum"` field: 8 hex digits, the CRC-32 of the file
//! with those digits written as `00000000`.

/// The bytes of the trailer a binary snapshot file ends with.
pub const TRAILER_LEN: usize = 4;

const JSON_FIELD: &[u8] = b"\"checksum\": \"";
/// The value a JSON file's `checksum` field holds before [`seal_json`] fills it in.
pub const UNSEALED: &str = "00000000";

/// The CRC-32 of `bytes`.
pub fn crc32(bytes: &[u8]) -> u32 {
    crc32fast::hash(bytes)
}

/// The trailer to write after `bytes`.
pub fn trailer(bytes: &[u8]) -> [u8; TRAILER_LEN] {
    crc32(bytes).to_le_bytes()
}

/// The bytes of a file before its trailer, if the trailer matches them; else what is wrong.
pub fn check_trailer(file: &[u8]) -> Result<&[u8], String> {
    let Some(split) = file.len().checked_sub(TRAILER_LEN) else {
        return Err("it is too short to hold a checksum (truncated)".into());
    };
    let (body, stored) = file.split_at(split);
    let mut expected = [0u8; TRAILER_LEN];
    expected.copy_from_slice(stored);
    let actual = crc32(body);
    if actual != u32::from_le_bytes(expected) {
        return Err(format!(
            "checksum mismatch (stored {:08x}, computed {actual:08x}): the file is damaged",
            u32::from_le_bytes(expected)
        ));
    }
    Ok(body)
}

/// Where the 8 hex digits of a JSON file's checksum start.
fn json_digits(text: &[u8]) -> Option<usize> {
    let at = text.windows(JSON_FIELD.len()).rposition(|w| w == JSON_FIELD)? + JSON_FIELD.len();
    (text.len() >= at + UNSEALED.len()).then_some(at)
}

/// Fills in the `checksum` field of JSON `text`, serialized with the field last and holding
/// [`UNSEALED`].
pub fn seal_json(mut text: Vec<u8>) -> Vec<u8> {
    if let Some(at) = json_digits(&text) {
        let digits = format!("{:08x}", crc32(&text));
        text[at..at + UNSEALED.len()].copy_from_slice(digits.as_bytes());
    }
    text
}

/// Checks the `checksum` field of a JSON file's bytes; what is wrong when it does not match.
pub fn check_json(text: &[u8]) -> Result<(), String> {
    let Some(at) = json_digits(text) else {
        return Err("it has no checksum field (damaged, or not written by this version of ferroflow)".into());
    };
    let digits = &text[at..at + UNSEALED.len()];
    let stored = std::str::from_utf8(digits)
        .ok()
        .and_then(|d| u32::from_str_radix(d, 16).ok())
        .ok_or("its checksum field is not 8 hex digits: the file is damaged")?;
    let mut unsealed = text.to_vec();
    unsealed[at..at + UNSEALED.len()].copy_from_slice(UNSEALED.as_bytes());
    let actual = crc32(&unsealed);
    if actual != stored {
        return Err(format!(
            "checksum mismatch (stored {stored:08x}, computed {actual:08x}): the file is damaged"
        ));
    }
    Ok(())
}

/// For tests: changes every byte of a file in turn (alternately flipping one bit and all eight)
/// and checks that `restore` refuses each damaged file with an error naming it.
#[cfg(test)]
pub(crate) fn assert_every_flip_refused(file: &std::path::Path, mut restore: impl FnMut() -> Result<(), String>) {
    let original = std::fs::read(file).unwrap();
    assert!(!original.is_empty());
    let name = file.to_string_lossy().into_owned();
    for i in 0..original.len() {
        let mut damaged = original.clone();
        damaged[i] ^= if i % 2 == 0 { 0x01 } else { 0xff };
        std::fs::write(file, &damaged).unwrap();
        match restore() {
            Ok(()) => panic!("{name} with byte {i} of {} changed was restored", original.len()),
            Err(e) => assert!(e.contains(&name), "byte {i}: the error does not name {name}: {e}"),
        }
    }
    std::fs::write(file, &original).unwrap();
    restore().unwrap();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_is_zlibs() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
    }

    #[test]
    fn a_trailer_catches_every_changed_byte() {
        let mut file = b"FFTEST01 some bytes".to_vec();
        file.extend_from_slice(&trailer(&file));
        assert_eq!(check_trailer(&file).unwrap(), b"FFTEST01 some bytes");
        for i in 0..file.len() {
            for flip in [0x01u8, 0x80, 0xff] {
                let mut damaged = file.clone();
                damaged[i] ^= flip;
                assert!(check_trailer(&damaged).is_err(), "byte {i} ^ {flip:#x}");
            }
        }
        assert!(check_trailer(&file[..3]).is_err());
    }

    #[test]
    fn a_json_checksum_catches_every_changed_byte() {
        let text = seal_json(b"{\n  \"a\": 1,\n  \"checksum\": \"00000000\"\n}".to_vec());
        assert!(!text.windows(8).any(|w| w == UNSEALED.as_bytes()));
        check_json(&text).unwrap();
        for i in 0..text.len() {
            let mut damaged = text.clone();
            damaged[i] ^= 0x01;
            assert!(check_json(&damaged).is_err(), "byte {i}");
        }
        assert!(check_json(b"{\"a\": 1}").unwrap_err().contains("no checksum"));
    }
}

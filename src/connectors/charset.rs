//! The character sets the file connectors read and write: UTF-8, US-ASCII and ISO-8859-1 (the
//! ones whose line terminators are the ASCII bytes `\n` and `\r`, so lines are found in the
//! bytes before decoding).

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Charset {
    Utf8,
    Ascii,
    Latin1,
}

/// A byte sequence that is not valid in the charset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// Offset of the first bad byte, from the start of the bytes given.
    pub offset: usize,
    pub message: String,
}

/// A character the charset cannot represent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodeError {
    pub character: char,
    pub charset: Charset,
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the character {:?} cannot be written in {}",
            self.character,
            self.charset.name()
        )
    }
}

impl std::error::Error for EncodeError {}

impl Charset {
    /// The charset of a Java or Python name (`"UTF-8"`, `"utf8"`, `"ISO-8859-1"`, `"latin-1"`,
    /// `"US-ASCII"`, ...); None for a charset the connectors do not support.
    pub fn parse(name: &str) -> Option<Charset> {
        let canonical: String = name
            .chars()
            .filter(|c| *c != '-' && *c != '_')
            .flat_map(char::to_lowercase)
            .collect();
        match canonical.as_str() {
            "utf8" => Some(Charset::Utf8),
            "usascii" | "ascii" => Some(Charset::Ascii),
            "iso88591" | "latin1" | "l1" | "iso885911987" => Some(Charset::Latin1),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Charset::Utf8 => "UTF-8",
            Charset::Ascii => "US-ASCII",
            Charset::Latin1 => "ISO-8859-1",
        }
    }

    /// Appends the text of `bytes` to `out`.
    pub fn decode_into(self, bytes: &[u8], out: &mut String) -> Result<(), DecodeError> {
        match self {
            Charset::Utf8 => match std::str::from_utf8(bytes) {
                Ok(s) => out.push_str(s),
                Err(e) => {
                    return Err(DecodeError {
                        offset: e.valid_up_to(),
                        message: "invalid UTF-8".into(),
                    })
                }
            },
            Charset::Ascii => {
                if let Some(offset) = bytes.iter().position(|b| !b.is_ascii()) {
                    return Err(DecodeError {
                        offset,
                        message: format!("byte 0x{:02x} is not US-ASCII", bytes[offset]),
                    });
                }
                // ASCII is valid UTF-8.
                out.push_str(std::str::from_utf8(bytes).unwrap_or_default());
            }
            Charset::Latin1 => out.extend(bytes.iter().map(|&b| b as char)),
        }
        Ok(())
    }

    /// Appends the bytes of `text` to `out`.
    pub fn encode_into(self, text: &str, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match self {
            Charset::Utf8 => out.extend_from_slice(text.as_bytes()),
            Charset::Ascii | Charset::Latin1 => {
                let limit = if self == Charset::Ascii { 0x80 } else { 0x100 };
                for c in text.chars() {
                    if (c as u32) >= limit {
                        return Err(EncodeError {
                            character: c,
                            charset: self,
                        });
                    }
                    out.push(c as u8);
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_round_trips() {
        assert_eq!(Charset::parse("UTF-8"), Some(Charset::Utf8));
        assert_eq!(Charset::parse("utf_8"), Some(Charset::Utf8));
        assert_eq!(Charset::parse("latin-1"), Some(Charset::Latin1));
        assert_eq!(Charset::parse("US-ASCII"), Some(Charset::Ascii));
        assert_eq!(Charset::parse("UTF-16"), None);
        let mut bytes = Vec::new();
        Charset::Latin1.encode_into("café", &mut bytes).unwrap();
        assert_eq!(bytes, b"caf\xe9");
        let mut text = String::new();
        Charset::Latin1.decode_into(&bytes, &mut text).unwrap();
        assert_eq!(text, "café");
        assert!(Charset::Ascii.encode_into("é", &mut Vec::new()).is_err());
        let err = Charset::Utf8.decode_into(b"ab\xffc", &mut String::new()).unwrap_err();
        assert_eq!(err.offset, 2);
        let err = Charset::Ascii.decode_into(b"abc\x80", &mut String::new()).unwrap_err();
        assert_eq!(err.offset, 3);
    }
}

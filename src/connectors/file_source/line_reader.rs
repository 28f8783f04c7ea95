//! Reads a text file line by line from a byte offset, as Java's `BufferedReader.readLine`
//! splits lines: at `\n`, `\r\n` or a lone `\r`; the terminator is not part of the line, and a
//! last line without one is a line too.

use std::fs::File;
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::connectors::charset::Charset;
use crate::connectors::file_error::FileError;

const BUFFER_SIZE: usize = 64 * 1024;

pub struct LineReader {
    path: PathBuf,
    reader: BufReader<File>,
    /// The offset after the last line read.
    offset: u64,
    charset: Charset,
    line: Vec<u8>,
}

impl LineReader {
    /// Opens `path` to read the lines after byte `offset`.
    pub fn open(path: &Path, offset: u64, charset: Charset) -> Result<LineReader, FileError> {
        let mut file = File::open(path).map_err(FileError::io(path, "open"))?;
        if offset > 0 {
            let len = file.metadata().map_err(FileError::io(path, "read the size of"))?.len();
            if offset > len {
                return Err(FileError::state(
                    path,
                    format!("the checkpoint says {offset} bytes of this file were read, but it has only {len}"),
                ));
            }
            file.seek(SeekFrom::Start(offset))
                .map_err(FileError::io(path, format!("seek to byte {offset} in")))?;
        }
        Ok(LineReader {
            path: path.to_path_buf(),
            reader: BufReader::with_capacity(BUFFER_SIZE, file),
            offset,
            charset,
            line: Vec::new(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The byte offset after the last line read.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Appends the next line's text to `text`; false at the end of the file.
    pub fn read_line(&mut self, text: &mut String) -> Result<bool, FileError> {
        self.line.clear();
        let mut consumed = 0u64;
        loop {
            let buf = fill(&mut self.reader, &self.path, self.offset)?;
            if buf.is_empty() {
                if consumed == 0 {
                    return Ok(false);
                }
                break;
            }
            match buf.iter().position(|&b| b == b'\n' || b == b'\r') {
                Some(i) => {
                    let carriage_return = buf[i] == b'\r';
                    self.line.extend_from_slice(&buf[..i]);
                    self.reader.consume(i + 1);
                    consumed += i as u64 + 1;
                    if carriage_return && fill(&mut self.reader, &self.path, self.offset)?.first() == Some(&b'\n') {
                        self.reader.consume(1);
                        consumed += 1;
                    }
                    break;
                }
                None => {
                    let n = buf.len();
                    self.line.extend_from_slice(buf);
                    self.reader.consume(n);
                    consumed += n as u64;
                }
            }
        }
        let start = self.offset;
        self.charset
            .decode_into(&self.line, text)
            .map_err(|e| FileError::Decode {
                path: self.path.clone(),
                offset: start + e.offset as u64,
                message: format!("{} (the file is read as {})", e.message, self.charset.name()),
            })?;
        self.offset += consumed;
        Ok(true)
    }
}

fn fill<'a>(reader: &'a mut BufReader<File>, path: &Path, offset: u64) -> Result<&'a [u8], FileError> {
    reader
        .fill_buf()
        .map_err(FileError::io(path, format!("read (after byte {offset})")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_of(bytes: &[u8], from: u64) -> Vec<(String, u64)> {
        let dir = crate::connectors::test_dir("lines");
        let path = dir.join("f.txt");
        std::fs::write(&path, bytes).unwrap();
        let mut reader = LineReader::open(&path, from, Charset::Utf8).unwrap();
        let mut out = Vec::new();
        loop {
            let mut text = String::new();
            if !reader.read_line(&mut text).unwrap() {
                break;
            }
            out.push((text, reader.offset()));
        }
        out
    }

    fn texts(v: &[(String, u64)]) -> Vec<&str> {
        v.iter().map(|(t, _)| t.as_str()).collect()
    }

    #[test]
    fn lines_split_as_java_read_line() {
        assert_eq!(texts(&lines_of(b"a\nb\r\nc\rd", 0)), ["a", "b", "c", "d"]);
        assert_eq!(texts(&lines_of(b"a\n\nb\n", 0)), ["a", "", "b"]);
        assert_eq!(texts(&lines_of(b"\r\n\r\n", 0)), ["", ""]);
        assert_eq!(texts(&lines_of(b"\r\r\n\n", 0)), ["", "", ""]);
        assert!(lines_of(b"", 0).is_empty());
        assert_eq!(texts(&lines_of("é€😀\nx".as_bytes(), 0)), ["é€😀", "x"]);
    }

    #[test]
    fn offsets_are_after_each_line_and_reading_resumes_there() {
        let data = b"one\r\ntwo\rthree\nfour";
        let all = lines_of(data, 0);
        assert_eq!(all.iter().map(|(_, o)| *o).collect::<Vec<_>>(), [5, 9, 15, 19]);
        for (i, (_, offset)) in all.iter().enumerate() {
            let rest = lines_of(data, *offset);
            assert_eq!(texts(&rest), texts(&all[i + 1..]));
        }
    }

    #[test]
    fn long_lines_cross_buffers() {
        let long = "x".repeat(BUFFER_SIZE * 2 + 17);
        let data = format!("{long}\r\n{long}\n");
        let all = lines_of(data.as_bytes(), 0);
        assert_eq!(texts(&all), [long.as_str(), long.as_str()]);
        assert_eq!(all[1].1, data.len() as u64);
    }

    #[test]
    fn bad_bytes_name_the_file_and_offset() {
        let dir = crate::connectors::test_dir("bad-lines");
        let path = dir.join("bad.txt");
        std::fs::write(&path, b"fine\nab\xffcd\n").unwrap();
        let mut reader = LineReader::open(&path, 0, Charset::Utf8).unwrap();
        let mut text = String::new();
        assert!(reader.read_line(&mut text).unwrap());
        let err = reader.read_line(&mut text).unwrap_err().to_string();
        assert!(err.contains("bad.txt") && err.contains("byte offset 7"), "{err}");
        let beyond = LineReader::open(&path, 100, Charset::Utf8).err().unwrap().to_string();
        assert!(beyond.contains("only 11"), "{beyond}");
    }
}

//! How the file connectors keep their state in checkpoints: operator state (see
//! [`crate::state::operator_state`]) whose elements are small versioned records.
//!
//! An element is `version:u8` and then its fields, written with [`Writer`]. A reader refuses an
//! element of another version, or with bytes missing or left over, naming the snapshot
//! directory it came from.

use std::path::{Path, PathBuf};

use crate::connectors::file_error::FileError;
use crate::state::codec::{DecodeError, Reader, Writer};
use crate::state::operator_state::OperatorStateSnapshot;

/// The version of the elements written now.
pub const ELEMENT_VERSION: u8 = 1;

/// A writer with the element's version written.
pub fn element_writer() -> Writer {
    let mut w = Writer::default();
    w.u8(ELEMENT_VERSION);
    w
}

/// Decodes one element of state `state` found in the snapshot in `dir` with `decode`, which
/// must read it to its end.
pub fn decode_element<T>(
    dir: &Path,
    state: &str,
    bytes: &[u8],
    decode: impl FnOnce(&mut Reader<'_>) -> Result<T, DecodeError>,
) -> Result<T, FileError> {
    let bad = |message: String| {
        FileError::state(
            dir,
            format!("the operator state '{state}' of this snapshot cannot be read: {message}"),
        )
    };
    let mut r = Reader::new(bytes);
    let version = r.u8().map_err(|e| bad(e.0))?;
    if version != ELEMENT_VERSION {
        return Err(bad(format!(
            "it has an element of version {version}, this version of ferroflow reads version {ELEMENT_VERSION}"
        )));
    }
    let value = decode(&mut r).map_err(|e| bad(e.0))?;
    if !r.is_at_end() {
        return Err(bad("an element has bytes after its last field".into()));
    }
    Ok(value)
}

/// The operator state of each old subtask (in subtask order), read one by one so that an error
/// names the snapshot it is in.
pub fn read_old_snapshots(dirs: &[PathBuf]) -> Result<Vec<OperatorStateSnapshot>, FileError> {
    dirs.iter()
        .map(|dir| {
            OperatorStateSnapshot::restore_from(&[dir.as_path()], 0, 1)
                .map_err(|e| FileError::state(dir, format!("the snapshot cannot be read: {e}")))
        })
        .collect()
}

/// The elements of state `name` in `snapshot` (none if it has no such state).
pub fn elements<'a>(snapshot: &'a OperatorStateSnapshot, name: &str) -> &'a [Vec<u8>] {
    snapshot
        .states
        .get(name)
        .map_or(&[], |(_, elements)| elements.as_slice())
}

/// A path as bytes, the same on every run on this machine.
pub fn path_bytes(path: &Path) -> Vec<u8> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        path.as_os_str().as_bytes().to_vec()
    }
    #[cfg(not(unix))]
    {
        path.to_string_lossy().into_owned().into_bytes()
    }
}

/// The path [`path_bytes`] gave.
pub fn path_of_bytes(bytes: &[u8]) -> Result<PathBuf, DecodeError> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        Ok(PathBuf::from(std::ffi::OsStr::from_bytes(bytes)))
    }
    #[cfg(not(unix))]
    {
        std::str::from_utf8(bytes)
            .map(PathBuf::from)
            .map_err(|e| DecodeError(format!("a path is not valid text: {e}")))
    }
}

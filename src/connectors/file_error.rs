//! What can go wrong reading and writing files, with the file and what was being done.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

#[derive(Debug)]
pub enum FileError {
    /// An I/O error while doing `action` ("read", "create", "rename ... to ...") with `path`.
    Io {
        path: PathBuf,
        action: String,
        error: io::Error,
    },
    /// Bytes of `path` at `offset` are not valid text in the charset.
    Decode {
        path: PathBuf,
        offset: u64,
        message: String,
    },
    /// The checkpoint state of a file connector cannot be used (corrupt, another version, or
    /// pointing at files that are not as recorded).
    State { path: PathBuf, message: String },
    /// A value the sink's encoder cannot write.
    Encode(String),
}

impl FileError {
    pub fn io(path: &Path, action: impl Into<String>) -> impl FnOnce(io::Error) -> FileError {
        let path = path.to_path_buf();
        let action = action.into();
        move |error| FileError::Io { path, action, error }
    }

    pub fn state(path: &Path, message: impl Into<String>) -> FileError {
        FileError::State {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }

    /// For an I/O error: its kind (the bindings pick the Python exception by it).
    pub fn io_kind(&self) -> Option<io::ErrorKind> {
        match self {
            FileError::Io { error, .. } => Some(error.kind()),
            _ => None,
        }
    }
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileError::Io { path, action, error } => {
                write!(f, "cannot {action} {}: {error}", path.display())
            }
            FileError::Decode { path, offset, message } => {
                write!(f, "{}: {message} at byte offset {offset}", path.display())
            }
            FileError::State { path, message } => write!(f, "{}: {message}", path.display()),
            FileError::Encode(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for FileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            FileError::Io { error, .. } => Some(error),
            _ => None,
        }
    }
}

//! Part files of a file sink: their names, the in-progress file being written, and committing
//! a pending file (an atomic rename to its finished name).
//!
//! Names, as Flink's: finished `<prefix>-<uuid>-<subtask>-<counter><suffix>`; while written,
//! hidden: `.<prefix>-<uuid>-<subtask>-<counter><suffix>.inprogress.<token>`. The uuid is derived
//! from the run and the sink's operator id, so files of different runs (and of different sinks
//! of one run) differ; the token from the operator id alone, so that a restored sink knows its
//! own in-progress files of earlier runs.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::connectors::file_error::FileError;
use crate::connectors::file_sink::rolling::PartFileInfo;
use crate::runtime::key::Key;

const WRITE_BUFFER: usize = 64 * 1024;
const IN_PROGRESS: &str = ".inprogress.";
const UUID_LEN: usize = 36;

/// A UUID-shaped text derived from `seed`: the same for the same seed in every process.
pub fn derived_uuid(seed: &str) -> String {
    let a = Key::Str(seed.into()).stable_hash();
    let b = Key::Tuple(Box::new([Key::Str(seed.into()), Key::Int(1)])).stable_hash();
    let hex = format!("{a:016x}{b:016x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// How one subtask of a sink names its part files.
#[derive(Clone, Debug)]
pub struct PartNames {
    pub prefix: String,
    pub suffix: String,
    /// Unique to this run of this sink.
    pub run_uuid: String,
    /// The same for every run of this sink.
    pub token: String,
    pub subtask: usize,
}

impl PartNames {
    pub fn new(prefix: &str, suffix: &str, run_id: &str, operator_id: &str, subtask: usize) -> Self {
        PartNames {
            prefix: prefix.to_string(),
            suffix: suffix.to_string(),
            run_uuid: derived_uuid(&format!("run\0{run_id}\0{operator_id}")),
            token: derived_uuid(&format!("sink\0{operator_id}")),
            subtask,
        }
    }

    pub fn finished(&self, counter: u64) -> String {
        format!(
            "{}-{}-{}-{counter}{}",
            self.prefix, self.run_uuid, self.subtask, self.suffix
        )
    }

    pub fn in_progress(&self, counter: u64) -> String {
        format!(".{}{IN_PROGRESS}{}", self.finished(counter), self.token)
    }

    /// For the name of an in-progress file of this sink (of any run and subtask): the uuid of
    /// the run that wrote it. None for any other name.
    pub fn in_progress_run<'a>(&self, name: &'a str) -> Option<&'a str> {
        let rest = name
            .strip_prefix('.')?
            .strip_prefix(self.prefix.as_str())?
            .strip_prefix('-')?;
        let (finished, token) = rest.rsplit_once(IN_PROGRESS)?;
        if token != self.token {
            return None;
        }
        let middle = finished.strip_suffix(self.suffix.as_str())?;
        if middle.len() <= UUID_LEN || !middle.is_char_boundary(UUID_LEN) {
            return None;
        }
        let (uuid, numbers) = middle.split_at(UUID_LEN);
        let numbers = numbers.strip_prefix('-')?;
        let (subtask, counter) = numbers.split_once('-')?;
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        (digits(subtask) && digits(counter)).then_some(uuid)
    }
}

/// A part file closed for writing, waiting for the checkpoint that makes it visible.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    /// The hidden in-progress file.
    pub path: PathBuf,
    /// Its finished name.
    pub target: PathBuf,
    /// Its length when it was closed.
    pub length: u64,
}

/// The part file a bucket writes now.
pub struct InProgressFile {
    pub path: PathBuf,
    pub target: PathBuf,
    writer: BufWriter<File>,
    pub info: PartFileInfo,
}

fn sync_dir(dir: &Path) -> Result<(), FileError> {
    // Makes a rename or a new file durable; not possible everywhere (then the OS decides).
    #[cfg(unix)]
    {
        if let Ok(d) = File::open(dir) {
            d.sync_all().map_err(FileError::io(dir, "sync the directory"))?;
        }
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

impl InProgressFile {
    /// Creates `path` (which must not exist), to be committed as `target`.
    pub fn create(path: PathBuf, target: PathBuf, now: i64) -> Result<InProgressFile, FileError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(FileError::io(dir, "create the bucket directory"))?;
        }
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(FileError::io(&path, "create the part file"))?;
        Ok(InProgressFile {
            writer: BufWriter::with_capacity(WRITE_BUFFER, file),
            path,
            target,
            info: PartFileInfo {
                size: 0,
                creation_time: now,
                last_update_time: now,
            },
        })
    }

    /// Continues writing the in-progress file `path` that a checkpoint recorded with `length`
    /// bytes: what was written after that checkpoint is cut off.
    pub fn resume(
        path: PathBuf,
        target: PathBuf,
        length: u64,
        creation_time: i64,
        now: i64,
    ) -> Result<InProgressFile, FileError> {
        let mut file = OpenOptions::new().write(true).open(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                FileError::state(
                    &path,
                    "this in-progress part file, recorded in the checkpoint being restored, is gone \
                     (deleted, or committed by a run that went on after a later checkpoint)",
                )
            } else {
                FileError::io(&path, "open the in-progress part file")(e)
            }
        })?;
        truncate(&mut file, &path, length)?;
        file.seek(SeekFrom::Start(length))
            .map_err(FileError::io(&path, "seek to the end of"))?;
        Ok(InProgressFile {
            writer: BufWriter::with_capacity(WRITE_BUFFER, file),
            path,
            target,
            info: PartFileInfo {
                size: length,
                creation_time,
                last_update_time: now,
            },
        })
    }

    pub fn write(&mut self, bytes: &[u8], now: i64) -> Result<(), FileError> {
        self.writer
            .write_all(bytes)
            .map_err(FileError::io(&self.path, "write to the part file"))?;
        self.info.size += bytes.len() as u64;
        self.info.last_update_time = now;
        Ok(())
    }

    /// Writes everything to disk (a checkpoint then records the length).
    pub fn persist(&mut self) -> Result<u64, FileError> {
        self.writer
            .flush()
            .map_err(FileError::io(&self.path, "write to the part file"))?;
        self.writer
            .get_ref()
            .sync_data()
            .map_err(FileError::io(&self.path, "sync the part file"))?;
        Ok(self.info.size)
    }

    /// Closes the file for writing: it is pending.
    pub fn close(mut self) -> Result<Pending, FileError> {
        let length = self.persist()?;
        Ok(Pending {
            path: self.path,
            target: self.target,
            length,
        })
    }
}

/// Cuts `file` (at `path`) to `length`; an error if it is shorter (data a checkpoint counted
/// on is lost).
fn truncate(file: &mut File, path: &Path, length: u64) -> Result<(), FileError> {
    let actual = file.metadata().map_err(FileError::io(path, "read the size of"))?.len();
    if actual < length {
        return Err(FileError::state(
            path,
            format!("the checkpoint recorded {length} bytes in this part file, but it has only {actual}"),
        ));
    }
    if actual > length {
        file.set_len(length)
            .map_err(FileError::io(path, format!("truncate to {length} bytes")))?;
        file.sync_data().map_err(FileError::io(path, "sync the part file"))?;
    }
    Ok(())
}

/// Makes a pending file finished: renames it to its target. Idempotent: when the pending file
/// is gone and the target exists, it was committed before (a notification repeated after
/// recovery). Returns whether it renamed.
pub fn commit(pending: &Pending) -> Result<bool, FileError> {
    let mut file = match OpenOptions::new().write(true).open(&pending.path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if pending.target.exists() {
                return Ok(false);
            }
            return Err(FileError::state(
                &pending.path,
                format!(
                    "this pending part file cannot be committed: neither it nor its finished name {} exists",
                    pending.target.display()
                ),
            ));
        }
        Err(e) => return Err(FileError::io(&pending.path, "open the pending part file")(e)),
    };
    truncate(&mut file, &pending.path, pending.length)?;
    drop(file);
    std::fs::rename(&pending.path, &pending.target).map_err(FileError::io(
        &pending.path,
        format!("rename (commit) to {}", pending.target.display()),
    ))?;
    if let Some(dir) = pending.target.parent() {
        sync_dir(dir)?;
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_flinks_and_in_progress_names_are_recognised() {
        let names = PartNames::new("p", ".txt", "run-1", "7-sink", 3);
        let finished = names.finished(12);
        assert!(
            finished.starts_with("p-") && finished.ends_with("-3-12.txt"),
            "{finished}"
        );
        assert_eq!(finished.len(), "p-".len() + UUID_LEN + "-3-12.txt".len());
        let hidden = names.in_progress(12);
        assert_eq!(hidden, format!(".{finished}.inprogress.{}", names.token));
        assert_eq!(names.in_progress_run(&hidden), Some(names.run_uuid.as_str()));
        // Another run of the same sink: recognised, with its own run.
        let other_run = PartNames::new("p", ".txt", "run-2", "7-sink", 0);
        assert_ne!(other_run.run_uuid, names.run_uuid);
        assert_eq!(
            names.in_progress_run(&other_run.in_progress(0)),
            Some(other_run.run_uuid.as_str())
        );
        // Another sink, a finished file, other prefixes: not this sink's in-progress files.
        let other_sink = PartNames::new("p", ".txt", "run-1", "8-sink", 3);
        assert_eq!(names.in_progress_run(&other_sink.in_progress(12)), None);
        assert_eq!(names.in_progress_run(&finished), None);
        assert_eq!(
            names.in_progress_run(&PartNames::new("q", ".txt", "r", "7-sink", 0).in_progress(0)),
            None
        );
        assert_eq!(derived_uuid("x"), derived_uuid("x"));
    }

    #[test]
    fn commit_is_an_idempotent_rename_and_resume_truncates() {
        let dir = crate::connectors::test_dir("part-file");
        let (path, target) = (dir.join(".a.inprogress.t"), dir.join("a"));
        let mut f = InProgressFile::create(path.clone(), target.clone(), 5).unwrap();
        f.write(b"one\n", 6).unwrap();
        assert_eq!(f.persist().unwrap(), 4);
        f.write(b"two\n", 7).unwrap();
        drop(f); // a crash after the checkpoint that recorded 4 bytes
        let mut f = InProgressFile::resume(path.clone(), target.clone(), 4, 5, 8).unwrap();
        assert_eq!(f.info.creation_time, 5);
        f.write(b"three\n", 9).unwrap();
        let pending = f.close().unwrap();
        assert_eq!(pending.length, 10);
        assert!(commit(&pending).unwrap());
        assert!(!commit(&pending).unwrap(), "a second commit finds it done");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "one\nthree\n");
        assert!(!path.exists());
        std::fs::remove_file(&target).unwrap();
        assert!(commit(&pending).unwrap_err().to_string().contains("neither"));
        let short = InProgressFile::resume(dir.join("absent"), target, 1, 0, 0)
            .err()
            .unwrap();
        assert!(short.to_string().contains("gone"), "{short}");
    }
}

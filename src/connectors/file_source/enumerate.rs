//! Finding the files a file source reads, and which subtask reads each.
//!
//! Directories are listed recursively. Files and directories found while listing whose names
//! start with '.' or '_' are hidden (Flink's default file filter): in-progress files of a file
//! sink, `_SUCCESS` markers. A path the user names explicitly is read even if its name starts
//! so. Each file is read by one subtask: the one its path's stable hash picks, so every subtask
//! decides alike, at any time and in any run, without talking to the others.

use std::path::{Path, PathBuf};

use crate::connectors::connector_state::path_bytes;
use crate::connectors::file_error::FileError;
use crate::runtime::key::Key;

/// Whether a file or directory found while listing is skipped.
pub fn is_hidden(name: &std::ffi::OsStr) -> bool {
    let name = name.to_string_lossy();
    name.starts_with('.') || name.starts_with('_')
}

/// Every file under `roots` (a root that is a file is itself), sorted.
pub fn list_files(roots: &[PathBuf]) -> Result<Vec<PathBuf>, FileError> {
    let mut files = Vec::new();
    for root in roots {
        let meta = std::fs::metadata(root).map_err(FileError::io(root, "read the input path"))?;
        if meta.is_dir() {
            list_dir(root, &mut files)?;
        } else {
            files.push(root.clone());
        }
    }
    files.sort();
    files.dedup();
    Ok(files)
}

fn list_dir(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), FileError> {
    let entries = std::fs::read_dir(dir).map_err(FileError::io(dir, "list the directory"))?;
    for entry in entries {
        let entry = entry.map_err(FileError::io(dir, "list the directory"))?;
        if is_hidden(&entry.file_name()) {
            continue;
        }
        let path = entry.path();
        // Follows symbolic links; an entry that vanished since the listing is skipped.
        let meta = match std::fs::metadata(&path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(FileError::io(&path, "read the metadata of")(e)),
        };
        if meta.is_dir() {
            list_dir(&path, out)?;
        } else if meta.is_file() {
            out.push(path);
        }
    }
    Ok(())
}

/// The subtask (of `parallelism`) that reads `path`.
pub fn owner(path: &Path, parallelism: usize) -> usize {
    (Key::Bytes(path_bytes(path).into_boxed_slice()).stable_hash() % parallelism.max(1) as u64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listing_is_recursive_sorted_and_skips_hidden_entries() {
        let dir = crate::connectors::test_dir("enumerate");
        std::fs::create_dir_all(dir.join("sub/deeper")).unwrap();
        std::fs::create_dir_all(dir.join("_skipped")).unwrap();
        for f in [
            "b.txt",
            "a.txt",
            "sub/c.txt",
            "sub/deeper/d.txt",
            ".hidden",
            "_SUCCESS",
            "_skipped/e.txt",
        ] {
            std::fs::write(dir.join(f), "x").unwrap();
        }
        let found = list_files(&[dir.to_path_buf()]).unwrap();
        let names: Vec<_> = found
            .iter()
            .map(|p| p.strip_prefix(&dir).unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["a.txt", "b.txt", "sub/c.txt", "sub/deeper/d.txt"]);
        // Named explicitly: read even though hidden; named twice: once.
        let explicit = list_files(&[dir.join("_SUCCESS"), dir.join("a.txt"), dir.join("a.txt")]).unwrap();
        assert_eq!(explicit, [dir.join("_SUCCESS"), dir.join("a.txt")]);
        let missing = list_files(&[dir.join("nope")]).unwrap_err().to_string();
        assert!(missing.contains("nope"), "{missing}");
    }

    #[test]
    fn each_file_has_one_stable_owner() {
        let paths: Vec<PathBuf> = (0..200)
            .map(|i| PathBuf::from(format!("/data/in/file-{i}.txt")))
            .collect();
        for parallelism in 1..5 {
            let mut counts = vec![0; parallelism];
            for p in &paths {
                let o = owner(p, parallelism);
                assert_eq!(o, owner(p, parallelism));
                counts[o] += 1;
            }
            assert!(counts.iter().all(|c| *c > 200 / parallelism / 2), "{counts:?}");
        }
        // The hash is fixed: the same in every process and run (a restored job relies on it).
        assert_eq!(owner(Path::new("/data/in/file-0.txt"), 1000), 301);
    }
}

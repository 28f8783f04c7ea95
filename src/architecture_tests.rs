//! Checks of the project's structure that the compiler does not make.

use std::path::Path;

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("source directory is readable") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The engine never touches Python: only `src/bindings/` (and the module entry in `lib.rs`)
/// may use pyo3.
#[test]
fn only_the_bindings_use_pyo3() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let offenders: Vec<String> = files
        .iter()
        .filter(|p| {
            !p.starts_with(src.join("bindings")) && !p.ends_with("lib.rs") && !p.ends_with("architecture_tests.rs")
        })
        .filter(|p| std::fs::read_to_string(p).is_ok_and(|text| text.contains("pyo3")))
        .map(|p| p.display().to_string())
        .collect();
    assert!(offenders.is_empty(), "pyo3 used outside src/bindings/: {offenders:?}");
}

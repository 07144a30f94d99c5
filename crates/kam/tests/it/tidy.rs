//! Tidy rules over the whole workspace: every Rust file opens with a `//!` line; no ignored tests,
//! no debug-print or todo macros in the tree.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if path.is_dir() {
            if name != "target" && !name.starts_with('.') {
                rust_files(&path, out);
            }
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_rust_file_says_what_it_is_for_and_nothing_is_skipped() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    assert!(files.len() > 20, "found {} files", files.len());
    let mut problems = Vec::new();
    let ignore = ["#[", "ignore]"].concat();
    let dbg = ["dbg", "!("].concat();
    let todo = ["todo", "!("].concat();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        if !text.trim_start().starts_with("//!") {
            problems.push(format!("{}: does not open with a //! line", file.display()));
        }
        for marker in [&ignore, &dbg, &todo] {
            if text.contains(marker.as_str()) {
                problems.push(format!("{}: contains {marker}", file.display()));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

//! `cargo xtask ci`: the whole check — unused dependencies, format, lints, tests — exactly what `.ci/run` runs after it
//! has installed the system packages. If it passes locally, CI is green.

use std::{
    fs,
    path::{Path, PathBuf},
    process::{Command, ExitCode},
};

fn cargo(args: &[&str]) -> bool {
    eprintln!("xtask: cargo {}", args.join(" "));
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(args)
        .status()
        .is_ok_and(|status| status.success())
}

/// Ballista (`--engine`, and the test that runs a date through its standalone mode) is off in a
/// newcomer's first build and on in CI.
const DISTRIBUTED: &str = "kam-query/distributed";

fn main() -> ExitCode {
    let task = std::env::args().nth(1).unwrap_or_default();
    match task.as_str() {
        "ci" => {
            let unused = unused_dependencies(Path::new("crates"));
            if !unused.is_empty() {
                for line in &unused {
                    eprintln!("xtask: unused dependency: {line}");
                }
                eprintln!("xtask: failed: remove the dependencies above (or use them)");
                return ExitCode::FAILURE;
            }
            let steps: [&[&str]; 3] = [
                &["fmt", "--all", "--", "--check"],
                &[
                    "clippy",
                    "--workspace",
                    "--all-targets",
                    "--features",
                    DISTRIBUTED,
                    "--",
                    "-D",
                    "warnings",
                ],
                &[
                    "test",
                    "--workspace",
                    "--all-targets",
                    "--features",
                    DISTRIBUTED,
                ],
            ];
            for step in steps {
                if !cargo(step) {
                    eprintln!("xtask: failed: cargo {}", step.join(" "));
                    return ExitCode::FAILURE;
                }
            }
            eprintln!("xtask: ci passed");
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("usage: cargo xtask ci   (format check, clippy -D warnings, all tests)");
            ExitCode::FAILURE
        }
    }
}

/// Dependencies a crate declares and never names: `crates/<crate>/Cargo.toml`'s
/// `[dependencies]` (checked against `src/` and `build.rs`) and `[dev-dependencies]` (against
/// `tests/`, `benches/` and `src/`). A dependency is used when its library name (`-` as `_`)
/// appears as a word in one of those files. As `crate: dependency (section)` lines.
fn unused_dependencies(crates: &Path) -> Vec<String> {
    let mut unused = Vec::new();
    let Ok(entries) = fs::read_dir(crates) else {
        return vec![format!("cannot read {}", crates.display())];
    };
    let mut dirs: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    dirs.sort();
    for dir in dirs {
        let Ok(manifest) = fs::read_to_string(dir.join("Cargo.toml")) else {
            continue;
        };
        let name = dir
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let mut src = String::new();
        read_sources(&dir.join("src"), &mut src);
        read_sources(&dir.join("build.rs"), &mut src);
        let mut tests = src.clone();
        read_sources(&dir.join("tests"), &mut tests);
        read_sources(&dir.join("benches"), &mut tests);
        for (section, text) in [("dependencies", &src), ("dev-dependencies", &tests)] {
            for dependency in section_names(&manifest, section) {
                let library = dependency.replace('-', "_");
                if !mentions(text, &library) {
                    unused.push(format!("{name}: {dependency} ({section})"));
                }
            }
        }
    }
    unused
}

/// The names declared in one `[section]` of a manifest.
fn section_names(manifest: &str, section: &str) -> Vec<String> {
    let header = format!("[{section}]");
    let mut inside = false;
    let mut names = Vec::new();
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            inside = line == header;
            continue;
        }
        if inside && let Some((key, _)) = line.split_once(['=', '.']) {
            let key = key.trim();
            if !key.is_empty() && !key.starts_with('#') {
                names.push(key.to_owned());
            }
        }
    }
    names
}

/// Appends every `.rs` file under `path` (or `path` itself) to `out`.
fn read_sources(path: &Path, out: &mut String) {
    if path.is_dir() {
        for entry in fs::read_dir(path).into_iter().flatten().flatten() {
            read_sources(&entry.path(), out);
        }
    } else if path.extension().is_some_and(|e| e == "rs")
        && let Ok(text) = fs::read_to_string(path)
    {
        out.push_str(&text);
        out.push('\n');
    }
}

/// Whether `word` appears in `text` with no identifier character on either side.
fn mentions(text: &str, word: &str) -> bool {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dependency_is_used_when_its_library_name_appears_as_a_word() {
        let manifest = "[package]\nname = \"x\"\n[dependencies]\nserde.workspace = true\ntokio-rustls = { version = \"1\" }\n[dev-dependencies]\ntempfile = \"3\"\n";
        assert_eq!(
            section_names(manifest, "dependencies"),
            ["serde", "tokio-rustls"]
        );
        assert_eq!(section_names(manifest, "dev-dependencies"), ["tempfile"]);
        assert!(mentions("use tokio_rustls::TlsAcceptor;", "tokio_rustls"));
        assert!(!mentions("use my_serde_helpers;", "serde"));
        assert!(!mentions("serde_json::json!()", "serde"));
    }
}

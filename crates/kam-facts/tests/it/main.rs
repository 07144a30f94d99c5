//! kam-facts against real Parquet files on disk: the indicator batch on hand-made facts, against
//! a naive computation, incremental against full, and through Ballista (feature `distributed`).

#[cfg(feature = "distributed")]
mod distributed;
mod incremental;
mod indicators;
mod naive;

use std::path::Path;

/// Copies the facts (not the rollups) to `to`: a run there starts from scratch.
pub(crate) fn copy_facts(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let target = to.join(&name);
        if entry.path().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_facts(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

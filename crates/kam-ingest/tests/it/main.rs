//! kam-ingest against real files on disk: every bad-input case of the import issue that reading
//! and validation decide, and the synthetic bank's own extracts.

mod bad_input;
mod import;
mod master;
mod synthetic;

use std::path::Path;

use kam_ingest::{
    FileReport, KeySet, Mapping, ReadError, Reject, read_file,
    reader::{Row, RowSink},
};

/// Collects everything a read hands on.
#[derive(Debug, Default)]
pub struct Collected {
    pub rows: Vec<Row>,
    pub rejects: Vec<Reject>,
}

impl RowSink for Collected {
    fn row(&mut self, row: Row) {
        self.rows.push(row);
    }
    fn reject(&mut self, reject: Reject) {
        self.rejects.push(reject);
    }
}

/// Reads one file with the mapping's kind for its name.
pub fn read(
    mapping: &Mapping,
    path: &Path,
    seen: &mut KeySet,
) -> (Result<FileReport, ReadError>, Collected) {
    let name = path.file_name().unwrap().to_str().unwrap();
    let kind = mapping
        .kind_for(name)
        .unwrap_or_else(|| panic!("no kind for {name}"));
    let mut collected = Collected::default();
    let report = read_file(path, kind, seen, &mut collected);
    (report, collected)
}

#[test]
fn the_documented_mapping_example_is_a_valid_mapping() {
    let doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/mapping.md"),
    )
    .unwrap();
    let start = doc.find("```toml\n").expect("an example block") + "```toml\n".len();
    let end = start + doc[start..].find("```").expect("the block ends");
    let mapping =
        Mapping::parse("docs/mapping.md", &doc[start..end]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(mapping.kinds.len(), 3);
    assert!(mapping.kind_for("TXN_20261127.dat").is_some());
}

//! kam-ingest against real files on disk: every bad-input case of the import issue that reading
//! and validation decide, and the synthetic bank's own extracts.

mod bad_input;
mod defects;
mod import;
mod keys;
mod master;
mod outcomes;
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
    fn restart(&mut self) {
        self.rows.clear();
        self.rejects.clear();
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

#[test]
fn docs_extracts_documents_every_kind_field_and_code() {
    let doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/extracts.md"),
    )
    .unwrap();
    for kind in kam_ingest::ExtractKind::ALL {
        let heading = format!("— `{kind}_YYYYMMDD.csv`");
        let start = doc
            .find(&heading)
            .unwrap_or_else(|| panic!("no section for {kind}"));
        let section = &doc[start..];
        let section = &section[..section.find("\n#").unwrap_or(section.len())];
        assert!(section.contains("```csv\n"), "{kind}: no example file");
        for field in kind.fields() {
            let row = format!("| {} ", field.name);
            assert!(
                section.contains(&row),
                "{kind}: field {} undocumented",
                field.name
            );
            if let kam_ingest::FieldType::Choice(codes) = field.ty {
                for code in codes {
                    assert!(
                        section.contains(&format!("`{code}`")),
                        "{kind}.{}: code {code} undocumented",
                        field.name
                    );
                }
            }
        }
        // The example's header is kam's own column list for the kind.
        let example = &section[section.find("```csv\n").unwrap() + 7..];
        let header = example.lines().next().unwrap();
        let names: Vec<&str> = kind.fields().iter().map(|f| f.name).collect();
        assert_eq!(header, names.join(","), "{kind}: example header");
    }
}

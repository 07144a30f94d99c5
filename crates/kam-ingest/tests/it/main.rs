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
fn the_documented_sql_staging_example_is_a_valid_mapping() {
    let doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/mapping.md"),
    )
    .unwrap();
    let section = &doc[doc
        .find("### 示例：一个核心系统的四张表")
        .expect("the worked example")..];
    let start = section.find("```toml\n").expect("an example block") + "```toml\n".len();
    let end = start + section[start..].find("```").expect("the block ends");
    let text = &section[start..end];
    let mapping = Mapping::parse("docs/mapping.md", text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(mapping.sources.len(), 4);
    assert_eq!(mapping.sql_kinds().count(), 3);
    let contracts = &mapping.sources["loan_contract"];
    assert!(!contracts.header);
    assert_eq!(contracts.delimiter, 1);
    assert_eq!(contracts.names.len(), 8);
    assert_eq!(
        mapping.source_for("LNCONT_20261127.dat").unwrap().name,
        "loan_contract"
    );
    // Each query's line is where its text starts in the file.
    let loans = mapping.kinds[&kam_ingest::ExtractKind::Loans]
        .sql
        .as_ref()
        .unwrap();
    assert_eq!(
        text.lines().nth(loans.line - 1).unwrap().trim(),
        "select run.business_date,"
    );
    assert!(mapping.kind_for("loans.sql_20261127.parquet").is_some());
    assert!(mapping.kind_for("LNCONT_20261127.dat").is_none());
}

#[test]
fn a_sql_kind_or_source_table_that_cannot_work_is_refused_by_name() {
    let cases = [
        (
            "[sources.t]\n[kinds.fees]\nsql = \"select 1\"\n[kinds.fees.columns]\namount = \"X\"\n",
            "sql and columns exclude each other",
        ),
        (
            "[kinds.fees]\nsql = \"select 1\"\n",
            "sql needs source tables",
        ),
        (
            "[sources.Bad-Name]\n[kinds.fees]\nsql = \"select 1\"\n",
            "lower-case letters",
        ),
        ("[sources.kam_run]\n", "kam's table of the run"),
        ("[sources.t]\nheader = false\n", "names = ["),
        (
            "[sources.t]\nnames = [\"a\"]\n",
            "names is for files without a header row",
        ),
        (
            "[sources.t]\ndates = [\"_line\"]\n",
            "names starting with _",
        ),
    ];
    for (body, expected) in cases {
        let text = format!("version = 1\n{body}[kinds.products]\nfiles = \"p*\"\n");
        let error = Mapping::parse("m.toml", &text).unwrap_err();
        assert!(error.en.contains(expected), "{body}: {error}");
    }
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

/// The customers and accounts the hand-written fact files name (customers 1001, 1002 and 100001;
/// accounts 6222001 of 100001, 6222002 of 1001 and 6222003 of 1002), defined as a bank's first night does: master files imported before
/// the facts, since a fact naming an undefined customer or account is a reject.
pub async fn known_parties(store: &kam_store::Store, dir: &Path) {
    let dir = dir.join("master");
    std::fs::create_dir_all(&dir).unwrap();
    let files = [
        (
            "org_units_20261101.csv",
            "org_code,name,kind,parent_code\nHO,总行,head_office,\nBR1,北京分行,tier1_branch,HO\n",
        ),
        (
            "products_20261101.csv",
            "product_code,name,line,need_category,risk_level\nDEP,单位活期存款,corporate,settlement,R1\n",
        ),
        (
            "customers_20261101.csv",
            "cif_no,kind,name,line,org_code,industry,account_type,risk_tolerance,id_number,phone,since\n\
             1001,corporate,甲公司,corporate,BR1,C,,,,,2020-01-01\n\
             1002,corporate,乙公司,corporate,BR1,C,,,,,2020-01-01\n\
             100001,corporate,丙公司,corporate,BR1,C,,,,,2020-01-01\n",
        ),
        (
            "accounts_20261101.csv",
            "account_no,cif_no,product_code,currency,org_code,opened_on\n\
             6222001,100001,DEP,CNY,BR1,2020-01-02\n\
             6222002,1001,DEP,CNY,BR1,2020-01-02\n\
             6222003,1002,DEP,CNY,BR1,2020-01-02\n",
        ),
    ];
    let facts = kam_facts::FactWriter::new(dir.join("facts"));
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        let (outcome, rejects) = import_collecting(
            store,
            &facts,
            &path,
            &options(false, kam_ingest::import::RejectLimit::Count(0)),
        )
        .await;
        assert!(
            matches!(outcome, kam_ingest::import::FileOutcome::Imported { .. })
                && rejects.is_empty(),
            "{name}: {outcome:?} {rejects:?}"
        );
    }
}

/// The ledger's fact batches (what the fact-import tests count; `known_parties` adds master ones).
pub async fn fact_batches(store: &kam_store::Store) -> Vec<kam_store::ImportBatch> {
    store
        .import_batches()
        .await
        .unwrap()
        .into_iter()
        .filter(|b| ["balances", "transactions", "loans", "fees"].contains(&b.kind.as_str()))
        .collect()
}

/// Import options as the tests vary them: `--replace` and `--max-rejects`.
pub fn options(
    replace: bool,
    max_rejects: kam_ingest::import::RejectLimit,
) -> kam_ingest::import::ImportOptions {
    kam_ingest::import::ImportOptions {
        business_date: None,
        replace,
        max_rejects,
        keys_in_memory: kam_ingest::reader::KEYS_IN_MEMORY,
        references: Default::default(),
    }
}

/// Imports one file in kam's own format as the CLI does: its outcome and its rejects.
pub async fn import_collecting(
    store: &kam_store::Store,
    facts: &kam_facts::FactWriter,
    path: &Path,
    options: &kam_ingest::import::ImportOptions,
) -> (kam_ingest::import::FileOutcome, Vec<Reject>) {
    import_mapped(store, facts, &Mapping::kam_default(), path, options).await
}

/// Imports one file through `mapping` as the CLI does: its outcome and its rejects.
pub async fn import_mapped(
    store: &kam_store::Store,
    facts: &kam_facts::FactWriter,
    mapping: &Mapping,
    path: &Path,
    options: &kam_ingest::import::ImportOptions,
) -> (kam_ingest::import::FileOutcome, Vec<Reject>) {
    let mut rejects = Vec::new();
    let outcome = kam_ingest::import::import_file(
        store,
        facts,
        mapping,
        path,
        options,
        &kam_store::Actor::system("test"),
        kam_ingest::import::Feedback {
            rejects: &mut rejects,
            progress: &mut |_, _| {},
        },
    )
    .await
    .unwrap();
    (outcome, rejects)
}

//! The synthetic bank's own extracts read with the built-in mapping: zero rejects, and the
//! reconciliation adds up exactly.

use kam_ingest::{KeySet, Mapping};
use kam_synth::{Bank, ExtractFormat, ExtractWriter, Scale, SynthConfig, write_reference};

use crate::read;

#[test]
fn the_synthetic_banks_extracts_read_with_zero_rejects_and_reconcile() {
    let dir = tempfile::tempdir().unwrap();
    let mut bank = Bank::generate(SynthConfig::new(Scale::Tiny, 5).with_days(5));
    write_reference(
        dir.path(),
        &bank.reference,
        bank.config.end,
        ExtractFormat::Csv,
    )
    .unwrap();
    let mut writer = ExtractWriter::new(dir.path(), ExtractFormat::Csv).unwrap();
    let mut expected_amount: i128 = 0;
    let mut expected_rows = 0u64;
    for day in bank.facts() {
        expected_amount += day
            .transactions
            .iter()
            .map(|t| i128::from(t.amount_minor))
            .sum::<i128>();
        expected_rows += day.transactions.len() as u64;
        writer.write_day(&day).unwrap();
    }
    let mapping = Mapping::kam_default();
    let mut files: Vec<_> = ["reference", "daily"]
        .iter()
        .flat_map(|d| {
            std::fs::read_dir(dir.path().join(d))
                .unwrap()
                .map(|e| e.unwrap().path())
        })
        .collect();
    files.sort();
    assert_eq!(files.len(), 12 + 5 * 4);
    let mut seen = std::collections::HashMap::<_, KeySet>::new();
    let (mut txn_rows, mut txn_amount) = (0u64, 0i128);
    for path in &files {
        let name = path.file_name().unwrap().to_str().unwrap();
        let kind = mapping.kind_for(name).unwrap().kind;
        let (report, got) = read(&mapping, path, seen.entry(kind).or_default());
        let report = report.unwrap_or_else(|e| panic!("{e}"));
        assert!(
            got.rejects.is_empty(),
            "{name}: {:?}",
            &got.rejects[..got.rejects.len().min(3)]
        );
        assert_eq!(report.rows_read, report.loaded);
        if kind == kam_ingest::ExtractKind::Transactions {
            txn_rows += report.loaded;
            txn_amount += report.amount_sums["amount"];
        }
    }
    assert_eq!((txn_rows, txn_amount), (expected_rows, expected_amount));
}

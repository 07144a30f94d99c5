//! Duplicate business keys with bounded memory: however few keys the set may hold, a file (or
//! several) reads to exactly what an unbounded set gives — the same rows, counts, sums and
//! rejects — with the late duplicates found on disk and the file read a second time.

use std::{fs, path::Path};

use kam_ingest::{KeySet, Mapping, RejectCode};
use proptest::prelude::*;

use crate::read;

const HEADER: &str = "business_date,txn_id,account_no,cif_no,direction,amount,currency,channel,counterparty_name,counterparty_bank,reversal,reverses_txn_id\n";

/// A transactions file from (id, amount in fen, bad?) triples; a bad row has an unknown direction.
fn transactions(rows: &[(u8, u32, bool)]) -> String {
    let mut text = String::from(HEADER);
    for (id, fen, bad) in rows {
        let direction = if *bad { "sideways" } else { "credit" };
        text += &format!(
            "2026-11-27,T{id},6222001,100001,{direction},{}.{:02},CNY,mobile,张三,本行,N,\n",
            fen / 100 + 1,
            fen % 100
        );
    }
    text
}

/// What a read hands on, in a comparable form.
type Outcome = (
    Vec<(u64, u64, u64, u64)>,
    Vec<Vec<(u64, RejectCode)>>,
    Vec<Vec<u64>>,
    Vec<i128>,
);

fn read_all(dir: &Path, files: &[String], keys: &mut KeySet) -> Outcome {
    let mapping = Mapping::kam_default();
    let mut outcome = Outcome::default();
    for (n, text) in files.iter().enumerate() {
        let path = dir.join(format!("transactions_2026112{n}.csv"));
        fs::write(&path, text).unwrap();
        let (report, got) = read(&mapping, &path, keys);
        let report = report.unwrap();
        outcome.0.push((
            report.rows_read,
            report.loaded,
            report.rejected,
            report.duplicates,
        ));
        outcome
            .1
            .push(got.rejects.iter().map(|r| (r.line, r.code)).collect());
        outcome.2.push(got.rows.iter().map(|r| r.line).collect());
        outcome.3.push(report.amount_sums["amount"]);
    }
    outcome
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn a_bounded_key_set_reads_exactly_like_an_unbounded_one(
        files in prop::collection::vec(
            prop::collection::vec((0u8..40, 0u32..100_000, prop::bool::weighted(0.1)), 0..60),
            1..4,
        ),
        cap in 0usize..50,
    ) {
        let texts: Vec<String> = files.iter().map(|rows| transactions(rows)).collect();
        let dir = tempfile::tempdir().unwrap();
        let expected = read_all(dir.path(), &texts, &mut KeySet::default());
        let spill = dir.path().join("spill");
        let got = read_all(dir.path(), &texts, &mut KeySet::bounded(cap, &spill));
        prop_assert_eq!(got, expected);
    }
}

#[test]
fn a_late_duplicate_is_found_on_disk_and_reported_once() {
    let dir = tempfile::tempdir().unwrap();
    // Two keys fit in memory; T9 and its repeat both come after that.
    let text = transactions(&[
        (1, 100, false),
        (2, 100, false),
        (9, 100, false),
        (3, 100, false),
        (9, 250, false),
        (1, 100, false),
    ]);
    let path = dir.path().join("transactions_20261127.csv");
    fs::write(&path, text).unwrap();
    let spill = dir.path().join("spill");
    let mut keys = KeySet::bounded(2, &spill);
    let (report, got) = read(&Mapping::kam_default(), &path, &mut keys);
    let report = report.unwrap();
    assert_eq!(
        (report.rows_read, report.loaded, report.duplicates),
        (6, 4, 2)
    );
    // Lines 6 (T9 again, found on disk) and 7 (T1 again, found in memory), once each.
    let duplicates: Vec<(u64, RejectCode)> = got.rejects.iter().map(|r| (r.line, r.code)).collect();
    assert_eq!(
        duplicates,
        [(6, RejectCode::DuplicateKey), (7, RejectCode::DuplicateKey)]
    );
    assert_eq!(got.rows.len(), 4);
    assert_eq!(report.amount_sums["amount"], 4 * 200);
    // The spill directory lives while the set does and goes with it.
    assert_eq!(fs::read_dir(&spill).unwrap().count(), 1);
    drop(keys);
    assert_eq!(fs::read_dir(&spill).unwrap().count(), 0);
}

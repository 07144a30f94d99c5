//! The nightly run reuses the rollups of earlier nights and computes exactly what a run from
//! scratch computes: night after night across a month's end, and after a late batch corrects a
//! day already rolled up.

use std::{collections::BTreeMap, path::Path};

use crate::copy_facts;

use chrono::NaiveDate;
use kam_facts::{BalanceRow, FactWriter, TransactionRow};
use kam_query::{
    FactQuery,
    indicators::{Computed, IndicatorRequest, Spreads, compute},
};
use kam_synth::{Bank, Scale, SynthConfig};

async fn run(
    root: &Path,
    committed: &[String],
    as_of: NaiveDate,
    customers: &[String],
) -> Computed {
    let own = ["本行".to_owned()];
    let since = BTreeMap::new();
    let request = IndicatorRequest {
        as_of,
        windows: &[7, 30, 90],
        customers,
        since: &since,
        currency: "CNY",
        spreads: Spreads::default(),
        months: 2,
        outflow_days: 7,
        own_banks: &own,
        loan_lookback_days: 30,
    };
    let query = FactQuery::open(root, committed).await.unwrap();
    compute(&query, &request).await.unwrap()
}

fn assert_same(night: NaiveDate, incremental: &Computed, full: &Computed) {
    assert_eq!(incremental.values.len(), full.values.len(), "{night}");
    for (a, b) in incremental.values.iter().zip(&full.values) {
        assert_eq!(a, b, "{night}");
    }
    assert_eq!(incremental.months, full.months, "{night}");
    assert_eq!(
        incremental.monthly_contribution, full.monthly_contribution,
        "{night}"
    );
    assert_eq!(incremental.monthly_figures, full.monthly_figures, "{night}");
    assert_eq!(incremental.alert_facts, full.alert_facts, "{night}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incremental_nights_equal_full_runs() {
    let end = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
    let first_night = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
    let correction_night = NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
    let corrected_day = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
    let mut bank = Bank::generate(SynthConfig::new(Scale::Tiny, 7).with_days(80).with_end(end));
    let customers = crate::customer_numbers(&bank);
    let days: Vec<_> = bank.facts().collect();
    let dir = tempfile::tempdir().unwrap();
    let writer = FactWriter::new(dir.path());
    let write = |batch: &str, day| crate::write_synthetic_day(&writer, batch, day);
    let mut committed = vec!["history".to_owned()];
    for day in days.iter().filter(|d| d.date < first_night) {
        write("history", day);
    }
    let mut nights = 0;
    for day in days.iter().filter(|d| d.date >= first_night) {
        let night = day.date;
        let batch = format!("night-{night}");
        write(&batch, day);
        committed.push(batch);
        if night == correction_night {
            // A late batch for a day already rolled up (inside last month's whole file): one
            // account's balance restated, one transaction added.
            let old = days.iter().find(|d| d.date == corrected_day).unwrap();
            let balance = BalanceRow {
                balance_minor: old.balances[0].balance_minor + 123_456_700,
                ..old.balances[0].clone()
            };
            writer.write_day(corrected_day, "late", &[balance]).unwrap();
            let txn = TransactionRow {
                txn_id: "LATE-1".into(),
                amount_minor: 987_654,
                ..old.transactions[0].clone()
            };
            writer.write_day(corrected_day, "late", &[txn]).unwrap();
            committed.push("late".to_owned());
        }
        let incremental = run(dir.path(), &committed, night, &customers).await;
        let scratch = tempfile::tempdir().unwrap();
        copy_facts(dir.path(), scratch.path());
        let full = run(scratch.path(), &committed, night, &customers).await;
        assert_same(night, &incremental, &full);
        // The run from scratch computed every day; a normal night one day of each rollup from
        // one day of facts (the balances from the night before's state).
        assert!(
            full.rollups.computed_days >= 3 * 70,
            "{night}: {:?}",
            full.rollups
        );
        assert_eq!(full.rollups.reused_days, 0, "{night}");
        if night == first_night {
            assert_eq!(incremental.rollups.reused_days, 0);
        } else if night == correction_night {
            // November again: 30 days of transactions and of balances (and their 31 before).
            assert!(
                incremental.rollups.computed_days > 30 + 30,
                "{:?}",
                incremental.rollups
            );
        } else {
            assert_eq!(
                incremental.rollups.computed_days, 3,
                "{night}: {:?}",
                incremental.rollups
            );
            assert_eq!(
                incremental.rollups.fact_days_read, 3,
                "{night}: {:?}",
                incremental.rollups
            );
            assert!(incremental.rollups.reused_days >= 3 * 70, "{night}");
        }
        nights += 1;
    }
    assert_eq!(nights, 8);
    // The late batch is in the numbers: its transaction counts for its customer.
    let with_late = run(dir.path(), &committed, end, &customers).await;
    let before: Vec<String> = committed.iter().filter(|b| *b != "late").cloned().collect();
    let without = run(dir.path(), &before, end, &customers).await;
    assert_ne!(with_late.values, without.values);
}

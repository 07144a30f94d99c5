//! The same indicators through Ballista's in-process standalone scheduler and executor as through
//! the embedded engine, row for row, on a synthetic bank (feature `distributed`; `cargo xtask ci`
//! turns it on). A fact kind without files is an empty table on both engines.

use std::collections::BTreeMap;

use kam_facts::FactWriter;
use kam_query::{
    Engine, FactQuery,
    indicators::{IndicatorRequest, Spreads, compute},
};
use kam_synth::{Bank, Scale, SynthConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ballista_standalone_computes_what_the_embedded_engine_computes() {
    let dir = tempfile::tempdir().unwrap();
    let mut bank = Bank::generate(SynthConfig::new(Scale::Tiny, 11).with_days(70));
    let as_of = bank.config.end;
    let writer = FactWriter::new(dir.path());
    for day in bank.facts() {
        writer.write_day(day.date, "b", &day.balances).unwrap();
        writer.write_day(day.date, "b", &day.transactions).unwrap();
        writer.write_day(day.date, "b", &day.loans).unwrap();
        // No fee files at all: the fee table is empty on both engines.
    }
    let customers = crate::customer_numbers(&bank);
    let own = ["本行".to_owned()];
    let since = BTreeMap::new();
    let request = IndicatorRequest {
        as_of,
        windows: &[7, 30, 90],
        customers: &customers,
        since: &since,
        currency: "CNY",
        spreads: Spreads::default(),
        months: 2,
        outflow_days: 7,
        own_banks: &own,
        loan_lookback_days: 30,
    };
    let committed = ["b".to_owned()];
    let embedded = FactQuery::open_on(dir.path(), &committed, &Engine::Embedded)
        .await
        .unwrap();
    // A copy of the facts without the rollups: Ballista computes them too, not only the sums.
    let copy = tempfile::tempdir().unwrap();
    crate::copy_facts(dir.path(), copy.path());
    let standalone = FactQuery::open_on(copy.path(), &committed, &Engine::Standalone)
        .await
        .unwrap();
    let here = compute(&embedded, &request).await.unwrap();
    let there = compute(&standalone, &request).await.unwrap();
    assert!(
        here.values.len() > 1_000 && here.values.iter().any(|v| v.value.is_some()),
        "a bank worth comparing"
    );
    assert_eq!(here.values.len(), there.values.len());
    for (a, b) in here.values.iter().zip(&there.values) {
        assert_eq!(a, b);
    }
    assert_eq!(here.months, there.months);
    assert_eq!(here.monthly_contribution, there.monthly_contribution);
    assert_eq!(here.monthly_figures, there.monthly_figures);
    assert_eq!(here.alert_facts, there.alert_facts);
    assert_eq!(
        there.rollups.reused_days, 0,
        "Ballista computed every rollup"
    );
}

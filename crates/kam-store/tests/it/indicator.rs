//! The batch's latest indicator values on both back ends: a run replaces the previous one whole,
//! integers and reals and empties round-trip, unknown customers are skipped, and each run is
//! recorded with its audit event.

use chrono::NaiveDate;
use kam_core::{codec::Bars, tier::Movement};
use kam_store::{Store, StoredIndicator};

use crate::fixture::{build, system};

crate::on_both_backends!(
    a_batch_run_replaces_the_latest_values_whole,
    a_month_of_tiers_is_replaced_whole_and_explains_itself,
);

fn value(
    cif: &str,
    code: &str,
    window: i64,
    int: Option<i64>,
    real: Option<f64>,
) -> StoredIndicator {
    StoredIndicator {
        cif_no: cif.into(),
        code: code.into(),
        window_days: window,
        value_int: int,
        value_real: real,
    }
}

async fn a_batch_run_replaces_the_latest_values_whole(store: Store) {
    build(&store).await;
    assert_eq!(store.latest_batch_date().await.unwrap(), None);
    let customers = store
        .batch_customers(crate::fixture::today())
        .await
        .unwrap();
    assert!(
        customers
            .iter()
            .any(|c| c.cif_no == "C0001" && c.since == NaiveDate::from_ymd_opt(2020, 1, 1))
    );
    let first = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
    let written = store
        .save_indicators(
            &system(),
            first,
            "2026-11-27T01:00:00.000Z",
            3,
            &[
                value("C0001", "txn_count", 30, Some(12), None),
                value("C0001", "margin", 30, None, Some(0.0375)),
                value("C0001", "avg_txn_amount", 30, None, None),
                value("C0002", "aum", 0, Some(9_007_199_254_740_993), None),
                value("NOBODY", "aum", 0, Some(1), None),
            ],
        )
        .await
        .unwrap();
    assert_eq!(written, 4, "the unknown customer is skipped");
    let everything = crate::fixture::scope(&store, "ho.kam").await;
    let c1 = everything.indicators_of("C0001").await.unwrap();
    // Another branch's RM: the customer is not there, like one that does not exist.
    let rm_c = crate::fixture::scope(&store, "rm.corp.c").await;
    assert!(matches!(
        rm_c.indicators_of("C0001").await,
        Err(kam_store::Error::NotFound { .. })
    ));
    assert!(matches!(
        everything.indicators_of("NOPE").await,
        Err(kam_store::Error::NotFound { .. })
    ));
    // A visible customer without values yet: none.
    assert!(everything.indicators_of("C0004").await.unwrap().is_empty());
    assert_eq!(
        c1,
        vec![
            value("C0001", "avg_txn_amount", 30, None, None),
            value("C0001", "margin", 30, None, Some(0.0375)),
            value("C0001", "txn_count", 30, Some(12), None),
        ]
    );
    // Beyond 2⁵³: an integer, never a float.
    assert_eq!(
        everything.indicators_of("C0002").await.unwrap()[0].value_int,
        Some(9_007_199_254_740_993)
    );

    // Many values of one customer in its one row: empties, and reals that read back exactly
    // (quarters here, and the 0.0375 above).
    let many: Vec<StoredIndicator> = (0..20_001)
        .map(|i| {
            let real = (i >= 10_000).then_some(f64::from(i) / 4.0);
            value("C0001", &format!("c{i:05}"), 30, None, real)
        })
        .collect();
    store
        .save_indicators(&system(), first, "2026-11-27T01:00:00.000Z", 3, &many)
        .await
        .unwrap();
    assert_eq!(everything.indicators_of("C0001").await.unwrap(), many);

    let second = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
    store
        .save_indicators(
            &system(),
            second,
            "2026-11-28T01:00:00.000Z",
            3,
            &[value("C0002", "aum", 0, Some(5), None)],
        )
        .await
        .unwrap();
    assert!(everything.indicators_of("C0001").await.unwrap().is_empty());
    assert_eq!(
        everything.indicators_of("C0002").await.unwrap(),
        vec![value("C0002", "aum", 0, Some(5), None)]
    );
    let runs = store.batch_runs().await.unwrap();
    assert_eq!(
        runs.iter()
            .map(|r| (r.as_of, r.indicator_values))
            .collect::<Vec<_>>(),
        vec![(second, 1), (first, 20_001), (first, 4)]
    );
    assert_eq!(store.latest_batch_date().await.unwrap(), Some(second));
    // A backfill of the earlier date is recorded, leaves the latest values and the latest date.
    store
        .record_backfill_run(&system(), first, "2026-11-28T02:00:00.000Z", 3)
        .await
        .unwrap();
    assert_eq!(store.latest_batch_date().await.unwrap(), Some(second));
    assert_eq!(everything.indicators_of("C0002").await.unwrap().len(), 1);
    assert_eq!(
        store.batch_runs().await.unwrap()[0].indicator_values,
        0,
        "the backfill's run, newest first"
    );
    let events = store.audit_events(None, 100).await.unwrap();
    assert_eq!(events.iter().filter(|e| e.action == "batch_run").count(), 4);
}

fn tier(cif: &str, month: &str, tier: i64, movement: &str) -> kam_store::StoredTier {
    kam_store::StoredTier {
        cif_no: cif.into(),
        month: month.into(),
        as_of: NaiveDate::parse_from_str(&format!("{month}-28"), "%Y-%m-%d").unwrap(),
        tier,
        tier_name: ["战略", "核心", "重点", "基础", "一般"][usize::try_from(tier - 1).unwrap()]
            .into(),
        tier_name_en: ["strategic", "core", "key", "basic", "general"]
            [usize::try_from(tier - 1).unwrap()]
        .into(),
        months_below: 1,
        on_watch: false,
        movement: Movement::parse(movement).unwrap(),
        measured_tier: tier + 1,
        rule_id: "kam-default".into(),
        rule_version: 1,
        indicator: "avg_daily_deposit_90d".into(),
        value_int: Some(123_456_789),
        bars: Bars(vec![5_000_000_000, 1_000_000_000, 100_000_000, 10_000_000]),
    }
}

async fn a_month_of_tiers_is_replaced_whole_and_explains_itself(store: Store) {
    build(&store).await;
    let october = [
        tier("C0001", "2026-10", 2, "new"),
        tier("C0002", "2026-10", 4, "new"),
    ];
    assert_eq!(
        store
            .save_tiers(&system(), "2026-10", &october)
            .await
            .unwrap(),
        2
    );
    let november = [tier("C0001", "2026-11", 1, "upgraded")];
    store
        .save_tiers(&system(), "2026-11", &november)
        .await
        .unwrap();
    // Re-running November replaces it, October stays.
    let again = [tier("C0001", "2026-11", 2, "below")];
    store
        .save_tiers(&system(), "2026-11", &again)
        .await
        .unwrap();
    let last_month = store.tiers_of_month("2026-10").await.unwrap();
    assert_eq!(last_month.len(), 2);
    assert_eq!(last_month["C0002"], october[1]);
    assert_eq!(
        store.latest_tier("C0001").await.unwrap(),
        Some(again[0].clone())
    );
    assert_eq!(store.latest_tier("P0001").await.unwrap(), None);
}

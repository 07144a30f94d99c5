//! `kam batch`: wiring only — customers from the store, indicators from kam-facts over the
//! committed facts, the snapshot to Parquet and the latest values back to the store, then each
//! customer's tier for the month by kam-core's rules (starting from last month's tier).

use std::{
    collections::{BTreeMap, HashMap},
    path::Path,
    time::Instant,
};

use chrono::NaiveDate;
use kam_core::{
    customer::CustomerKind,
    rules::Rules,
    tier::{TierMove, TierState, monthly_step},
};
use kam_facts::{
    FactQuery,
    indicators::{IndicatorRequest, Measure, Spreads, compute, write_snapshot},
};
use kam_store::{Actor, Store, StoredIndicator, StoredTier};

/// What one run did, for the terminal.
#[derive(Debug)]
pub struct Summary {
    /// Seconds per stage, in order.
    pub stages: Vec<(&'static str, f64)>,
    pub customers: usize,
    pub values: usize,
    pub stored: usize,
    pub snapshot_bytes: u64,
    /// Customers per tier (1 … 5) this month, and how many are on watch.
    pub tiers: [usize; 5],
    pub on_watch: usize,
    pub seconds: f64,
}

/// Computes and stores every indicator for `as_of`.
pub async fn run(
    store: &Store,
    facts_dir: &Path,
    actor: &Actor,
    as_of: NaiveDate,
    windows: &[u32],
    rules: &Rules,
) -> anyhow::Result<Summary> {
    let started = Instant::now();
    let mut stages = Vec::new();
    let mut lap = Instant::now();
    let mut stage = |name: &'static str| {
        stages.push((name, lap.elapsed().as_secs_f64()));
        lap = Instant::now();
    };
    let started_at = chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string();
    let customers = store.batch_customers().await?;
    let mut committed = Vec::new();
    for (_, ledger_kind) in crate::build::FACT_KINDS {
        committed.extend(store.committed_batch_ids(ledger_kind).await?);
    }
    stage("customers");
    let query = FactQuery::open(facts_dir, &committed).await?;
    stage("facts");
    let cifs: Vec<String> = customers.iter().map(|c| c.cif_no.clone()).collect();
    let since: BTreeMap<String, NaiveDate> = customers
        .iter()
        .filter_map(|c| c.since.map(|s| (c.cif_no.clone(), s)))
        .collect();
    let request = IndicatorRequest {
        as_of,
        windows,
        customers: &cifs,
        since: &since,
        currency: "CNY",
        spreads: Spreads::default(),
    };
    let values = compute(&query, &request).await?;
    stage("indicators");
    let snapshot_bytes = write_snapshot(facts_dir, as_of, &values)?;
    stage("snapshot");
    let stored: Vec<StoredIndicator> = values
        .iter()
        .map(|v| StoredIndicator {
            cif_no: v.cif_no.clone(),
            code: v.code.to_owned(),
            window_days: v.window_days.map_or(0, i64::from),
            value_int: match v.value {
                Some(Measure::Int(n)) => Some(n),
                _ => None,
            },
            value_real: match v.value {
                Some(Measure::Real(x)) => Some(x),
                _ => None,
            },
        })
        .collect();
    let written = store
        .save_indicators(
            actor,
            as_of,
            &started_at,
            i64::try_from(cifs.len()).unwrap_or(i64::MAX),
            &stored,
        )
        .await?;
    stage("store");

    // Tiers: the rule's indicator per customer, then the month's step from last month's tier.
    let month = as_of.format("%Y-%m").to_string();
    let last_month = (as_of - chrono::Duration::days(i64::from(chrono::Datelike::day(&as_of))))
        .format("%Y-%m")
        .to_string();
    let previous = store.tiers_of_month(&last_month).await?;
    let by_key: HashMap<(&str, &str, Option<u32>), Option<i64>> = values
        .iter()
        .map(|v| {
            let int = match v.value {
                Some(Measure::Int(n)) => Some(n),
                _ => None,
            };
            ((v.cif_no.as_str(), v.code, v.window_days), int)
        })
        .collect();
    let mut tiers = [0usize; 5];
    let mut on_watch = 0;
    let stored_tiers: Vec<StoredTier> = customers
        .iter()
        .map(|c| {
            let rule = if c.kind == CustomerKind::Individual {
                &rules.retail
            } else {
                &rules.corporate
            };
            let value = by_key
                .get(&(c.cif_no.as_str(), rule.indicator.code, rule.window))
                .copied()
                .flatten();
            let measured = rule.scale.measure(value);
            let before = previous.get(&c.cif_no).map(|t| TierState {
                tier: usize::try_from(t.tier - 1).unwrap_or(4).min(4),
                months_below: u32::try_from(t.months_below).unwrap_or(0),
            });
            let (state, movement) = monthly_step(before, measured, rules.watch_months);
            let watch = state.on_watch(rules.watch_months);
            tiers[state.tier] += 1;
            on_watch += usize::from(watch);
            StoredTier {
                cif_no: c.cif_no.clone(),
                month: month.clone(),
                as_of,
                tier: state.tier as i64 + 1,
                tier_name: rule.scale.names[state.tier].clone(),
                months_below: i64::from(state.months_below),
                on_watch: watch,
                movement: match movement {
                    TierMove::New => "new",
                    TierMove::Upgraded => "upgraded",
                    TierMove::Held => "held",
                    TierMove::Below { .. } => "below",
                    TierMove::Downgraded => "downgraded",
                }
                .to_owned(),
                measured_tier: measured as i64 + 1,
                rule_id: rules.id.clone(),
                rule_version: i64::from(rules.version),
                indicator: rule.column(),
                value_int: value,
                bars: rule
                    .scale
                    .bars
                    .iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(","),
            }
        })
        .collect();
    store.save_tiers(actor, &month, &stored_tiers).await?;
    stage("tiers");
    Ok(Summary {
        tiers,
        on_watch,
        stages,
        customers: cifs.len(),
        values: values.len(),
        stored: written,
        snapshot_bytes,
        seconds: started.elapsed().as_secs_f64(),
    })
}

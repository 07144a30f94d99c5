//! `kam batch`: wiring only — customers from the store, indicators from kam-facts over the
//! committed facts, the snapshot to Parquet and the latest values back to the store.

use std::{collections::BTreeMap, path::Path, time::Instant};

use chrono::NaiveDate;
use kam_facts::{
    FactQuery,
    indicators::{IndicatorRequest, Measure, Spreads, compute, write_snapshot},
};
use kam_store::{Actor, Store, StoredIndicator};

/// What one run did, for the terminal.
#[derive(Debug)]
pub struct Summary {
    /// Seconds per stage, in order.
    pub stages: Vec<(&'static str, f64)>,
    pub customers: usize,
    pub values: usize,
    pub stored: usize,
    pub snapshot_bytes: u64,
    pub seconds: f64,
}

/// Computes and stores every indicator for `as_of`.
pub async fn run(
    store: &Store,
    facts_dir: &Path,
    actor: &Actor,
    as_of: NaiveDate,
    windows: &[u32],
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
    Ok(Summary {
        stages,
        customers: cifs.len(),
        values: values.len(),
        stored: written,
        snapshot_bytes,
        seconds: started.elapsed().as_secs_f64(),
    })
}

//! `kam batch`: wiring only — customers from the store, indicators from kam-query over the
//! committed facts, the classifications from kam-core (`diagnose`), the snapshots to Parquet and
//! the latest results and alerts back to the store.

use std::{
    collections::{BTreeMap, HashMap},
    path::Path,
    time::Instant,
};

use anyhow::Context;
use chrono::{Datelike, NaiveDate};
use kam_core::{
    classes::RetailTier,
    codec::{Bars, BoardScores, MonthSeries, join_codes},
    diagnosis::{Diagnosis, Subject, diagnose},
    rules::Rules,
    tier::TierState,
};
use kam_facts::{FactKind, snapshot::write_snapshot, write_text_snapshot};
use kam_query::{
    Engine, FactQuery,
    indicators::{IndicatorRequest, IndicatorValue, Measure, Spreads, compute},
};
use kam_store::{
    Actor, AlertSync, BatchCustomer, OpportunityFigures, Store, StoredClass, StoredFinding,
    StoredIndicator, StoredTier,
};

/// The fact kinds in the order of the demo's per-kind totals, with their extract-kind names (the
/// ledger's): the batch reads the committed batches of each.
pub const FACT_KINDS: [(FactKind, &str); 4] = [
    (FactKind::Balance, "balances"),
    (FactKind::Transaction, "transactions"),
    (FactKind::Loan, "loans"),
    (FactKind::Fee, "fees"),
];

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
    /// Retail customers per retail tier: private banking, wealth, VIP.
    pub retail_tiers: [usize; 3],
    pub key_accounts: usize,
    pub starred: usize,
    pub alerts: AlertSync,
    /// An older date than the latest run's: written to the Parquet history, not to the store's
    /// latest values.
    pub backfill: bool,
    /// What the facts' rollups of earlier runs saved (the incremental run).
    pub rollups: kam_query::indicators::RollupStats,
    pub seconds: f64,
}

/// Computes, classifies and stores everything for `as_of`. The windows the rules read are
/// computed whatever `windows` says.
pub async fn run(
    store: &Store,
    facts_dir: &Path,
    actor: &Actor,
    as_of: NaiveDate,
    windows: &[u32],
    rules: &Rules,
    engine: &Engine,
) -> anyhow::Result<Summary> {
    let started = Instant::now();
    let mut stages = Vec::new();
    let mut lap = Instant::now();
    let mut stage = |name: &'static str| {
        stages.push((name, lap.elapsed().as_secs_f64()));
        lap = Instant::now();
    };
    let mut windows = windows.to_vec();
    windows.extend(rules.windows());
    windows.sort_unstable();
    windows.dedup();
    let started_at = chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string();
    let mut customers = store.batch_customers(as_of).await?;
    let mut committed = Vec::new();
    for (_, ledger_kind) in FACT_KINDS {
        committed.extend(store.committed_batch_ids(ledger_kind).await?);
    }
    stage("customers");
    let query = FactQuery::open_on(facts_dir, &committed, engine).await?;
    stage("facts");
    let cifs: Vec<String> = customers.iter().map(|c| c.cif_no.clone()).collect();
    let since: BTreeMap<String, NaiveDate> = customers
        .iter()
        .filter_map(|c| c.since.map(|s| (c.cif_no.clone(), s)))
        .collect();
    let request = IndicatorRequest {
        as_of,
        windows: &windows,
        customers: &cifs,
        since: &since,
        currency: "CNY",
        spreads: Spreads::default(),
        months: rules.customer_value.months,
        outflow_days: rules.alerts.outflow.days,
        own_banks: &rules.alerts.outflow.own_bank,
        loan_lookback_days: rules.alerts.loan_class.lookback_days,
    };
    let mut computed = compute(&query, &request).await?;
    // The contact indicators kam keeps records for come from the store, not the facts.
    let tasks = store.task_counts(as_of, &windows).await?;
    let opportunities = store
        .opportunity_figures(as_of, &windows, &rules.pipeline)
        .await?;
    from_records(&mut computed.values, &tasks, &opportunities);
    for c in &mut customers {
        c.stalled_days = opportunities.get(&c.cif_no).and_then(|f| f.stalled_days);
    }
    stage("indicators");

    // What the classification reads from the store, read before anything is written: last
    // month's tiers (hysteresis: this month's starts from them) and the board's manual scores.
    // A date older than the latest run's (a backfill) goes to the Parquet history only: the
    // store's latest values, classes and this month's tiers stay those of the later date.
    let latest = store.latest_batch_date().await?;
    let is_latest = latest.is_none_or(|l| as_of >= l);
    let month = as_of.format("%Y-%m").to_string();
    let last_month = (as_of - chrono::Duration::days(i64::from(as_of.day())))
        .format("%Y-%m")
        .to_string();
    let previous = store.tiers_of_month(&last_month).await?;
    let manual = store.manual_scores(&rules.scoring.id).await?;
    let stored: Vec<StoredIndicator> = computed
        .values
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
    let value_count = computed.values.len();
    let rollups = computed.rollups;

    // The snapshot, the classification and its history are CPU work and Parquet files; writing
    // the indicators is the store's. They do not depend on each other, so they run at once.
    let classifying = {
        let facts_dir = facts_dir.to_path_buf();
        let rules = rules.clone();
        let month = month.clone();
        tokio::task::spawn_blocking(move || {
            classify(
                &facts_dir, as_of, &month, &rules, &customers, &previous, &manual, &computed,
            )
        })
    };
    let customer_count = i64::try_from(cifs.len()).unwrap_or(i64::MAX);
    let written = if is_latest {
        store
            .save_indicators(actor, as_of, &started_at, customer_count, &stored)
            .await?
    } else {
        store
            .record_backfill_run(actor, as_of, &started_at, customer_count)
            .await?;
        0
    };
    drop(stored);
    stage("store");
    let Classified {
        snapshot_bytes,
        diagnoses,
        results,
    } = classifying.await.context("the classification thread")??;
    stage("snapshot + classify");

    let latest_month = latest.map(|l| l.format("%Y-%m").to_string());
    if is_latest || latest_month.as_deref() != Some(month.as_str()) {
        store.save_tiers(actor, &month, &results.tiers).await?;
    }
    if is_latest {
        store.save_classes(actor, as_of, &results.classes).await?;
    }
    let alerts = store
        .sync_alerts(
            actor,
            as_of,
            &rules.id,
            i64::from(rules.version),
            &results.findings,
        )
        .await?;
    stage("results");

    let mut summary = Summary {
        tiers: [0; 5],
        on_watch: 0,
        retail_tiers: [0; 3],
        key_accounts: 0,
        starred: 0,
        alerts,
        backfill: !is_latest,
        rollups,
        stages,
        customers: cifs.len(),
        values: value_count,
        stored: written,
        snapshot_bytes,
        seconds: started.elapsed().as_secs_f64(),
    };
    for (t, d) in results.tiers.iter().zip(&diagnoses) {
        summary.tiers[d.state.tier] += 1;
        summary.on_watch += usize::from(t.on_watch);
        if let Some(r) = d.retail_tier {
            summary.retail_tiers[r as usize] += 1;
        }
        summary.key_accounts += usize::from(d.key_account);
        summary.starred += usize::from(d.board.as_ref().is_some_and(|b| b.starred));
    }
    Ok(summary)
}

/// What the classification thread hands back.
struct Classified {
    snapshot_bytes: u64,
    diagnoses: Vec<Diagnosis>,
    results: Results,
}

/// The indicators' snapshot, kam-core's decision for every customer, and the results' history,
/// for one date: everything of a run that needs no store.
#[allow(clippy::too_many_arguments)] // one call site; the run's own values, named
fn classify(
    facts_dir: &Path,
    as_of: NaiveDate,
    month: &str,
    rules: &Rules,
    customers: &[BatchCustomer],
    previous: &HashMap<String, StoredTier>,
    manual: &HashMap<(String, String), u8>,
    computed: &kam_query::indicators::Computed,
) -> anyhow::Result<Classified> {
    let values = &computed.values;
    let snapshot_bytes = write_snapshot(facts_dir, as_of, values)?;
    let by_key = ValueIndex::new(values);
    let subjects: Vec<Subject> = customers
        .iter()
        .map(|c| subject(c, as_of, previous, computed))
        .collect();
    let diagnoses = diagnose(
        rules,
        &subjects,
        |cif, code, window| by_key.int(cif, code, window),
        |cif, criterion| manual.get(&(cif.to_owned(), criterion.to_owned())).copied(),
    );
    let months: Vec<String> = computed
        .months
        .iter()
        .map(|m| m.format("%Y-%m").to_string())
        .collect();
    let results = Results::assemble(
        rules,
        as_of,
        month,
        &months,
        &subjects,
        &diagnoses,
        &computed.monthly_figures,
    );
    results.write_history(facts_dir, as_of)?;
    Ok(Classified {
        snapshot_bytes,
        diagnoses,
        results,
    })
}

/// Sets the indicators kam keeps records for (the facts hold none): `task_count` from the
/// tasks and activities, `expected_sales` and `process_count` from the opportunities. A customer
/// without any has 0.
fn from_records(
    values: &mut [IndicatorValue],
    tasks: &HashMap<(String, u32), i64>,
    opportunities: &HashMap<String, OpportunityFigures>,
) {
    for v in values.iter_mut() {
        let figures = opportunities.get(&v.cif_no);
        let n = match (v.code, v.window_days) {
            ("task_count", Some(window)) => {
                tasks.get(&(v.cif_no.clone(), window)).copied().unwrap_or(0)
            }
            ("process_count", Some(window)) => figures
                .and_then(|f| f.moved.get(&window))
                .copied()
                .unwrap_or(0),
            ("expected_sales", _) => figures.map_or(0, |f| f.expected_sales),
            _ => continue,
        };
        v.value = Some(Measure::Int(n));
    }
}

fn subject(
    c: &BatchCustomer,
    as_of: NaiveDate,
    previous: &HashMap<String, StoredTier>,
    computed: &kam_query::indicators::Computed,
) -> Subject {
    let facts = computed
        .alert_facts
        .get(&c.cif_no)
        .copied()
        .unwrap_or_default();
    Subject {
        cif_no: c.cif_no.clone(),
        name: c.name.clone(),
        kind: c.kind,
        flagged: c.flagged,
        group_member: c.group_member,
        has_lead_rm: c.has_lead_rm,
        days_since_visit: c.last_visit.map(|day| (as_of - day).num_days()),
        stalled_days: c.stalled_days,
        previous: previous.get(&c.cif_no).map(|t| TierState {
            tier: usize::try_from(t.tier - 1).unwrap_or(4).min(4),
            months_below: u32::try_from(t.months_below).unwrap_or(0),
        }),
        monthly_contribution: computed
            .monthly_contribution
            .get(&c.cif_no)
            .cloned()
            .unwrap_or_default(),
        outflow: facts.outflow,
        prior_worst_loan_class: facts.prior_worst_loan_class,
    }
}

/// The store's rows for one date's diagnoses, and the same as Parquet history.
struct Results {
    tiers: Vec<StoredTier>,
    classes: Vec<StoredClass>,
    findings: Vec<StoredFinding>,
}

fn text<T: ToString>(value: Option<T>) -> String {
    value.map_or(String::new(), |v| v.to_string())
}

impl Results {
    fn assemble(
        rules: &Rules,
        as_of: NaiveDate,
        month: &str,
        months: &[String],
        subjects: &[Subject],
        diagnoses: &[Diagnosis],
        figures: &BTreeMap<String, kam_query::indicators::MonthlyFigures>,
    ) -> Self {
        let by_month = |series: &[i64]| {
            MonthSeries(months.iter().cloned().zip(series.iter().copied()).collect())
        };
        let mut tiers = Vec::with_capacity(subjects.len());
        let mut classes = Vec::with_capacity(subjects.len());
        let mut findings = Vec::new();
        for (s, d) in subjects.iter().zip(diagnoses) {
            let rule = rules.tier_rule(s.kind);
            tiers.push(StoredTier {
                cif_no: s.cif_no.clone(),
                month: month.to_owned(),
                as_of,
                tier: d.state.tier as i64 + 1,
                tier_name: rule.scale.names[d.state.tier].clone(),
                tier_name_en: rule.names_en[d.state.tier].clone(),
                months_below: i64::from(d.state.months_below),
                on_watch: d.state.on_watch(rules.watch_months),
                movement: d.movement.movement(),
                measured_tier: d.measured as i64 + 1,
                rule_id: rules.id.clone(),
                rule_version: i64::from(rules.version),
                indicator: rule.column(),
                value_int: d.tier_value,
                bars: Bars(rule.scale.bars.to_vec()),
            });
            let board = d.board.as_ref();
            classes.push(StoredClass {
                cif_no: s.cif_no.clone(),
                as_of,
                rule_id: rules.id.clone(),
                rule_version: i64::from(rules.version),
                retail_tier: d.retail_tier,
                retail_tier_name: d.retail_tier.map(|t| rules.retail_tiers.name(t).to_owned()),
                retail_tier_name_en: d
                    .retail_tier
                    .map(|t| rules.retail_tiers.name_en(t).to_owned()),
                retail_indicator: kam_core::rules::column(
                    rules.retail_tiers.indicator,
                    rules.retail_tiers.window,
                ),
                retail_value: d.retail_value,
                account_types: d.account_types.clone(),
                key_account: d.key_account,
                value_months: by_month(&s.monthly_contribution),
                deposit_months: figures
                    .get(&s.cif_no)
                    .map_or_else(MonthSeries::default, |f| by_month(&f.deposit)),
                loan_months: figures
                    .get(&s.cif_no)
                    .map_or_else(MonthSeries::default, |f| by_month(&f.loan)),
                fee_months: figures
                    .get(&s.cif_no)
                    .map_or_else(MonthSeries::default, |f| by_month(&f.fees)),
                value_total: d.value_total,
                value_slope: d.value_slope,
                value_trend: d.value_trend,
                value_score: i64::from(d.value_score),
                board: board.map(|_| rules.scoring.id.clone()),
                board_scores: board.map(|b| {
                    BoardScores(
                        rules
                            .scoring
                            .criteria
                            .iter()
                            .zip(&b.scores)
                            .map(|(c, s)| (c.code.clone(), *s))
                            .collect(),
                    )
                }),
                board_total: board.map(|b| b.total),
                board_average: board.and_then(|b| b.average),
                starred: board.is_some_and(|b| b.starred),
            });
            for f in &d.findings {
                let (evidence, thresholds) = f.evidence.encode(f.tier);
                findings.push(StoredFinding {
                    cif_no: s.cif_no.clone(),
                    kind: f.kind,
                    tier: f.tier,
                    evidence,
                    thresholds,
                });
            }
        }
        Self {
            tiers,
            classes,
            findings,
        }
    }

    /// Every date's tiers, classifications, stars and findings as Parquet under
    /// `<facts>/classification/as_of=D/`, with their explanations.
    fn write_history(&self, facts_dir: &Path, as_of: NaiveDate) -> anyhow::Result<()> {
        let rows: Vec<Vec<String>> = self
            .tiers
            .iter()
            .zip(&self.classes)
            .map(|(t, c)| {
                vec![
                    t.cif_no.clone(),
                    t.tier.to_string(),
                    t.tier_name.clone(),
                    u8::from(t.on_watch).to_string(),
                    t.movement.to_string(),
                    t.measured_tier.to_string(),
                    t.indicator.clone(),
                    text(t.value_int),
                    t.bars.to_string(),
                    text(c.retail_tier.map(RetailTier::code)),
                    text(c.retail_tier_name.clone()),
                    c.retail_indicator.clone(),
                    text(c.retail_value),
                    join_codes(&c.account_types),
                    u8::from(c.key_account).to_string(),
                    c.value_months.to_string(),
                    c.value_total.to_string(),
                    text(c.value_slope),
                    c.value_trend.code().to_owned(),
                    c.value_score.to_string(),
                    text(c.board.clone()),
                    text(c.board_scores.as_ref()),
                    text(c.board_total),
                    text(c.board_average),
                    u8::from(c.starred).to_string(),
                    c.rule_id.clone(),
                    c.rule_version.to_string(),
                ]
            })
            .collect();
        write_text_snapshot(
            facts_dir,
            "classification",
            as_of,
            "customers",
            &CLASS_HEADER,
            &rows,
        )?;
        let rows: Vec<Vec<String>> = self
            .findings
            .iter()
            .map(|f| {
                vec![
                    f.cif_no.clone(),
                    f.kind.code().to_owned(),
                    f.tier.to_string(),
                    f.evidence.clone(),
                    f.thresholds.clone(),
                ]
            })
            .collect();
        write_text_snapshot(
            facts_dir,
            "classification",
            as_of,
            "findings",
            &FINDING_HEADER,
            &rows,
        )?;
        Ok(())
    }
}

/// The columns of `classification/as_of=D/customers.parquet` (docs/rules.md).
pub const CLASS_HEADER: [&str; 27] = [
    "cif_no",
    "tier",
    "tier_name",
    "on_watch",
    "movement",
    "measured_tier",
    "tier_indicator",
    "tier_value",
    "tier_bars",
    "retail_tier",
    "retail_tier_name",
    "retail_indicator",
    "retail_value",
    "account_types",
    "key_account",
    "value_months",
    "value_total",
    "value_slope",
    "value_trend",
    "value_score",
    "board",
    "board_scores",
    "board_total",
    "board_average",
    "starred",
    "rule_id",
    "rule_version",
];

/// The columns of `classification/as_of=D/findings.parquet`: the alert conditions that held on D.
pub const FINDING_HEADER: [&str; 5] = ["cif_no", "kind", "tier", "evidence", "thresholds"];

/// The integer indicator values by (customer, code, window) for the rules, without a map of
/// millions of entries: the values come as one run per customer in the same (catalogue, window)
/// order, so a customer's run and a position in it find one (checked, else looked for in the run).
struct ValueIndex<'a> {
    values: &'a [IndicatorValue],
    /// Per customer, where its run starts and ends.
    runs: foldhash::HashMap<&'a str, (usize, usize)>,
    /// (code, window) → position in a run, from the first run.
    offsets: foldhash::HashMap<(&'a str, Option<u32>), usize>,
}

impl<'a> ValueIndex<'a> {
    fn new(values: &'a [IndicatorValue]) -> Self {
        let mut runs: foldhash::HashMap<&str, (usize, usize)> = foldhash::HashMap::default();
        let mut start = 0;
        for (at, value) in values.iter().enumerate() {
            if values[start].cif_no != value.cif_no {
                runs.insert(&values[start].cif_no, (start, at));
                start = at;
            }
        }
        if let Some(first) = values.get(start) {
            runs.insert(&first.cif_no, (start, values.len()));
        }
        let first_run = values
            .first()
            .map_or(0, |first| runs[first.cif_no.as_str()].1);
        let offsets = values[..first_run]
            .iter()
            .enumerate()
            .map(|(at, v)| ((v.code, v.window_days), at))
            .collect();
        Self {
            values,
            runs,
            offsets,
        }
    }

    fn int(&self, cif: &str, code: &str, window: Option<u32>) -> Option<i64> {
        let (start, end) = *self.runs.get(cif)?;
        let run = &self.values[start..end];
        let matches = |v: &&IndicatorValue| v.code == code && v.window_days == window;
        let found = self
            .offsets
            .get(&(code, window))
            .and_then(|at| run.get(*at))
            .filter(matches)
            .or_else(|| run.iter().find(matches))?;
        match found.value {
            Some(Measure::Int(n)) => Some(n),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(
        cif: &str,
        code: &'static str,
        window: Option<u32>,
        v: Option<Measure>,
    ) -> IndicatorValue {
        IndicatorValue {
            cif_no: cif.into(),
            code,
            window_days: window,
            value: v,
        }
    }

    #[test]
    fn value_index_finds_each_customers_values_even_out_of_order() {
        let values = vec![
            value("A1", "aum", None, Some(Measure::Int(5))),
            value("A1", "txn_count", Some(30), Some(Measure::Int(7))),
            value("A1", "margin", Some(30), Some(Measure::Real(0.5))),
            // B2's run in another order: found by the fall-back walk.
            value("B2", "txn_count", Some(30), Some(Measure::Int(9))),
            value("B2", "aum", None, None),
            value("C3", "aum", None, Some(Measure::Int(-3))),
        ];
        let index = ValueIndex::new(&values);
        assert_eq!(index.int("A1", "aum", None), Some(5));
        assert_eq!(index.int("A1", "txn_count", Some(30)), Some(7));
        assert_eq!(index.int("A1", "txn_count", Some(90)), None);
        assert_eq!(
            index.int("A1", "margin", Some(30)),
            None,
            "a real is not an int"
        );
        assert_eq!(index.int("B2", "txn_count", Some(30)), Some(9));
        assert_eq!(index.int("B2", "aum", None), None);
        assert_eq!(index.int("C3", "aum", None), Some(-3));
        assert_eq!(index.int("D4", "aum", None), None);
        assert_eq!(ValueIndex::new(&[]).int("A1", "aum", None), None);
    }
}

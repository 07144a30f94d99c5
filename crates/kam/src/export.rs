//! `kam export indicators|pareto`: wiring only — the snapshot of a date from kam-facts, the
//! customers the exporting user may see from the store (visibility decided by kam-core, applied by
//! kam-store), the 80/20 rule from kam-core, one CSV row per customer, and the export in the audit
//! trail.

use std::{collections::HashSet, path::Path};

use chrono::NaiveDate;
use kam_store::{Actor, CustomerFilter, Store};

/// A date's snapshot limited to what the exporting user may see, and who the actor is.
struct Visible {
    actor: Actor,
    columns: Vec<String>,
    rows: Vec<(String, Vec<String>)>,
}

async fn visible_snapshot(
    store: &Store,
    facts_dir: &Path,
    as_of: NaiveDate,
    as_user: Option<&str>,
) -> anyhow::Result<Visible> {
    let Some((columns, rows)) = kam_facts::indicators::read_snapshot(facts_dir, as_of)? else {
        anyhow::bail!(
            "{as_of} 没有批处理结果，请先运行 kam batch --as-of {as_of} / no batch results for {as_of}; run kam batch --as-of {as_of} first"
        );
    };
    let (actor, visible): (Actor, Option<HashSet<String>>) = match as_user {
        Some(username) => {
            let user = store.user_by_username(username).await?;
            let scope = store.scope_for(&user, as_of).await?;
            let filter = CustomerFilter {
                limit: i64::MAX,
                ..CustomerFilter::default()
            };
            let visible = store
                .find_customers(&scope, &filter)
                .await?
                .into_iter()
                .map(|c| c.cif_no.to_string())
                .collect();
            (Actor::user(user.id, user.username.as_str()), Some(visible))
        }
        None => (Actor::system("export"), None),
    };
    let rows = rows
        .into_iter()
        .filter(|(cif, _)| visible.as_ref().is_none_or(|v| v.contains(cif)))
        .collect();
    Ok(Visible {
        actor,
        columns,
        rows,
    })
}

/// Writes `out` and returns the number of customers in it.
pub async fn indicators(
    store: &Store,
    facts_dir: &Path,
    as_of: NaiveDate,
    as_user: Option<&str>,
    out: &Path,
) -> anyhow::Result<usize> {
    let Visible {
        actor,
        columns,
        rows,
    } = visible_snapshot(store, facts_dir, as_of, as_user).await?;
    let mut writer = csv::Writer::from_path(out)?;
    let mut header = vec!["cif_no".to_owned()];
    header.extend(columns);
    writer.write_record(&header)?;
    let mut written = 0;
    for (cif, cells) in rows {
        writer.write_record(std::iter::once(cif).chain(cells))?;
        written += 1;
    }
    writer.flush()?;
    store
        .record_event(
            &actor,
            "export",
            "indicator_value",
            &as_of.to_string(),
            &format!("{written} customers → {}", out.display()),
        )
        .await?;
    Ok(written)
}

/// What `pareto` found, for the terminal.
#[derive(Debug)]
pub struct ParetoSummary {
    pub customers: usize,
    pub total: i128,
    pub gini: Option<f64>,
    pub top20_share: Option<f64>,
    pub class_counts: [usize; 3],
}

/// The 80/20 rule on one indicator column (e.g. `contribution_365d`): each customer's rank, value,
/// share, cumulative share and ABC class as CSV; the Lorenz curve's Gini and the top 20%'s share
/// for the terminal. Empty values count as 0.
pub async fn pareto(
    store: &Store,
    facts_dir: &Path,
    as_of: NaiveDate,
    as_user: Option<&str>,
    indicator: &str,
    out: &Path,
) -> anyhow::Result<ParetoSummary> {
    let Visible {
        actor,
        columns,
        rows,
    } = visible_snapshot(store, facts_dir, as_of, as_user).await?;
    let Some(at) = columns.iter().position(|c| c == indicator) else {
        anyhow::bail!(
            "没有指标列 {indicator}；可用：{} / no indicator column {indicator}; available: {}",
            columns.join(", "),
            columns.join(", ")
        );
    };
    let mut values = Vec::with_capacity(rows.len());
    for (cif, cells) in &rows {
        let cell = &cells[at];
        let value: i64 = if cell.is_empty() {
            0
        } else {
            cell.parse().map_err(|_| {
                anyhow::anyhow!(
                    "{indicator} 不是金额或计数指标（{cell}）/ {indicator} is not a money or count indicator ({cell})"
                )
            })?
        };
        values.push((cif.clone(), value));
    }
    let result = kam_core::pareto::pareto(&values);
    let mut writer = csv::Writer::from_path(out)?;
    writer.write_record([
        "rank",
        "cif_no",
        indicator,
        "share",
        "cumulative_share",
        "class",
    ])?;
    let mut class_counts = [0usize; 3];
    for (rank, r) in result.ranked.iter().enumerate() {
        class_counts[r.class as usize] += 1;
        writer.write_record([
            (rank + 1).to_string(),
            r.key.clone(),
            r.value.to_string(),
            format!("{:.6}", r.share),
            format!("{:.6}", r.cumulative_share),
            r.class.as_str().to_owned(),
        ])?;
    }
    writer.flush()?;
    store
        .record_event(
            &actor,
            "export",
            "pareto",
            &format!("{as_of} {indicator}"),
            &format!("{} customers → {}", result.ranked.len(), out.display()),
        )
        .await?;
    Ok(ParetoSummary {
        customers: result.ranked.len(),
        total: result.total,
        gini: result.gini,
        top20_share: result.top20_share,
        class_counts,
    })
}

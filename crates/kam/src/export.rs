//! `kam export indicators`: wiring only — the snapshot of a date from kam-facts, the customers the
//! exporting user may see from the store (visibility decided by kam-core, applied by kam-store),
//! one CSV row per customer, and the export in the audit trail.

use std::{collections::HashSet, path::Path};

use chrono::NaiveDate;
use kam_store::{Actor, CustomerFilter, Store};

/// Writes `out` and returns the number of customers in it.
pub async fn indicators(
    store: &Store,
    facts_dir: &Path,
    as_of: NaiveDate,
    as_user: Option<&str>,
    out: &Path,
) -> anyhow::Result<usize> {
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
    let mut writer = csv::Writer::from_path(out)?;
    let mut header = vec!["cif_no".to_owned()];
    header.extend(columns);
    writer.write_record(&header)?;
    let mut written = 0;
    for (cif, cells) in rows {
        if visible.as_ref().is_some_and(|v| !v.contains(&cif)) {
            continue;
        }
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

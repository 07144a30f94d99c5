//! `kam export indicators|tiers|alerts|pareto`: wiring only — a date's snapshot from kam-facts
//! or the alerts from the store, limited to the customers the exporting user may see (visibility
//! decided by kam-core, applied by kam-store), the 80/20 rule from kam-core, one row per customer
//! as CSV, Excel or Parquet, and the export in the audit trail.

use std::{collections::HashMap, path::Path};

use chrono::NaiveDate;
use kam_store::{Actor, CustomerFilter, Store, UserStore};

/// The file formats of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
    Parquet,
}

impl Format {
    /// The flag when given, else the output file's extension, else CSV.
    pub fn resolve(flag: Option<Format>, out: &Path) -> Format {
        flag.unwrap_or_else(|| {
            match out
                .extension()
                .and_then(|e| e.to_str())
                .map(str::to_ascii_lowercase)
                .as_deref()
            {
                Some("xlsx") => Format::Xlsx,
                Some("parquet") => Format::Parquet,
                _ => Format::Csv,
            }
        })
    }
}

/// What a workbook's title lines say about an export (CSV and Parquet carry data only).
#[derive(Debug, Clone, Copy)]
pub struct About<'a> {
    /// What is exported (`indicator_value`, `customer_class`, `alert`, …).
    pub what: &'a str,
    pub data_date: &'a str,
    /// Who exported: a user name, or `system:…` for the console's whole-bank read.
    pub by: &'a str,
}

/// Writes a table: CSV (UTF-8), an Excel workbook through kam's one Excel writer (`kam-sheet`:
/// a named sheet, the title lines, a frozen header, whole numbers as numbers — money stays in
/// fen, as the column codes say — and the first column, the customer number, always text) or
/// Parquet (text columns, empty cells null). Returns the rows written.
pub fn write_table(
    format: Format,
    out: &Path,
    about: &About<'_>,
    header: &[String],
    rows: &[Vec<String>],
) -> anyhow::Result<usize> {
    match format {
        Format::Csv => {
            // Every cell neutralised against formula injection: names come from extracts and
            // notes from the web (docs: README, `kam export`).
            let safe = kam_core::cell::spreadsheet_safe;
            let mut writer = csv::Writer::from_path(out)?;
            writer.write_record(header.iter().map(|cell| safe(cell).into_owned()))?;
            for row in rows {
                writer.write_record(row.iter().map(|cell| safe(cell).into_owned()))?;
            }
            writer.flush()?;
        }
        Format::Xlsx => {
            use kam_sheet::Cell;
            let cells: Vec<Vec<Cell>> = rows
                .iter()
                .map(|row| {
                    row.iter()
                        .enumerate()
                        .map(|(c, cell)| match cell.parse::<i64>() {
                            Ok(n) if c > 0 => Cell::Count(Some(n)),
                            _ if cell.is_empty() => Cell::Count(None),
                            _ => Cell::Text(cell.clone()),
                        })
                        .collect()
                })
                .collect();
            let scope = match about.by.strip_prefix("system:") {
                Some(_) => "全行 whole bank".to_owned(),
                None => format!("{} 可见范围 what {} may see", about.by, about.by),
            };
            let line = format!(
                "数据日期 data date {} · 范围 scope {scope} · 导出 exported by {} {}",
                about.data_date,
                about.by,
                chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
            );
            let bytes = kam_sheet::workbook(&kam_sheet::Sheet {
                name: about.what,
                title: &format!("kam export {} {}", about.what, about.data_date),
                about: &line,
                heads: header,
                rows: &cells,
                fen_per_unit: 1,
            })?;
            std::fs::write(out, bytes)?;
        }
        Format::Parquet => {
            let names: Vec<&str> = header.iter().map(String::as_str).collect();
            let mut writer = kam_facts::TextTableWriter::create(out, &names)?;
            for row in rows {
                writer.write(row)?;
            }
            writer.finish()?;
        }
    }
    Ok(rows.len())
}

/// Who reads, and what they may see: the user's handle with `--as-user`, else the console's
/// whole-bank, read-only handle audited as `system:{job}`.
pub async fn reader(
    store: &Store,
    job: &str,
    as_of: NaiveDate,
    as_user: Option<&str>,
) -> anyhow::Result<UserStore> {
    Ok(match as_user {
        Some(username) => {
            let user = store.user_by_username(username).await?;
            store.for_user(&user, as_of).await?
        }
        None => store.whole_bank(job, as_of),
    })
}

/// The customers a handle sees (the store applies kam-core's rule): number → name.
pub async fn visible_customers(reader: &UserStore) -> anyhow::Result<HashMap<String, String>> {
    let filter = CustomerFilter {
        limit: i64::MAX,
        ..CustomerFilter::default()
    };
    Ok(reader
        .find_customers(&filter)
        .await?
        .into_iter()
        .map(|c| (c.cif_no.to_string(), c.name))
        .collect())
}

/// A date's indicator snapshot limited to what the exporting user may see.
struct Visible {
    actor: Actor,
    columns: Vec<String>,
    rows: Vec<(String, Vec<String>)>,
}

pub fn not_run(as_of: NaiveDate) -> anyhow::Error {
    anyhow::anyhow!(
        "{as_of} 没有批处理结果，请先运行 kam batch --as-of {as_of} / no batch results for {as_of}; run kam batch --as-of {as_of} first"
    )
}

async fn visible_snapshot(
    store: &Store,
    facts_dir: &Path,
    as_of: NaiveDate,
    as_user: Option<&str>,
) -> anyhow::Result<Visible> {
    let Some((columns, rows)) = kam_facts::snapshot::read_snapshot(facts_dir, as_of)? else {
        return Err(not_run(as_of));
    };
    let reader = reader(store, "export", as_of, as_user).await?;
    let actor = reader.actor().clone();
    let visible = visible_customers(&reader).await?;
    let rows = rows
        .into_iter()
        .filter(|(cif, _)| visible.contains_key(cif))
        .collect();
    Ok(Visible {
        actor,
        columns,
        rows,
    })
}

/// What one export wrote, for the terminal.
#[derive(Debug, Clone, Copy)]
pub struct Written {
    pub rows: usize,
    pub format: Format,
}

/// Every indicator of a date: one row per customer, the customer number first, then a column per
/// indicator and window, money in fen.
pub async fn indicators(
    store: &Store,
    facts_dir: &Path,
    as_of: NaiveDate,
    as_user: Option<&str>,
    format: Format,
    out: &Path,
) -> anyhow::Result<Written> {
    let Visible {
        actor,
        columns,
        rows,
    } = visible_snapshot(store, facts_dir, as_of, as_user).await?;
    let mut header = vec!["cif_no".to_owned()];
    header.extend(columns);
    let rows: Vec<Vec<String>> = rows
        .into_iter()
        .map(|(cif, cells)| std::iter::once(cif).chain(cells).collect())
        .collect();
    deliver(
        store,
        &actor,
        ("indicator_value", &as_of.to_string()),
        format,
        out,
        &header,
        &rows,
    )
    .await
}

/// Each customer's tier, retail tier, account types, value and board of a date, with what decided
/// them (the batch's `classification/as_of=D/customers.parquet`).
pub async fn tiers(
    store: &Store,
    facts_dir: &Path,
    as_of: NaiveDate,
    as_user: Option<&str>,
    format: Format,
    out: &Path,
) -> anyhow::Result<Written> {
    let Some((header, rows)) =
        kam_facts::read_text_snapshot(facts_dir, "classification", as_of, "customers")?
    else {
        return Err(not_run(as_of));
    };
    let reader = reader(store, "export", as_of, as_user).await?;
    let actor = reader.actor().clone();
    let visible = visible_customers(&reader).await?;
    let rows: Vec<Vec<String>> = rows
        .into_iter()
        .filter(|row| row.first().is_some_and(|cif| visible.contains_key(cif)))
        .collect();
    deliver(
        store,
        &actor,
        ("customer_class", &as_of.to_string()),
        format,
        out,
        &header,
        &rows,
    )
    .await
}

/// The alerts active on a date (raised on or before it, not cleared by it), with their status,
/// evidence and thresholds.
pub async fn alerts(
    store: &Store,
    as_of: NaiveDate,
    as_user: Option<&str>,
    format: Format,
    out: &Path,
) -> anyhow::Result<Written> {
    let reader = reader(store, "export", as_of, as_user).await?;
    let actor = reader.actor().clone();
    let header: Vec<String> = [
        "cif_no",
        "customer_name",
        "kind",
        "kind_zh",
        "status",
        "tier",
        "raised_on",
        "last_seen_on",
        "cleared_on",
        "evidence",
        "thresholds",
        "rule_id",
        "rule_version",
        "handled_by",
        "note",
    ]
    .map(String::from)
    .to_vec();
    let rows: Vec<Vec<String>> = reader
        .alerts_active_on(as_of)
        .await?
        .into_iter()
        .map(|a| {
            let zh = a.kind.zh();
            vec![
                a.cif_no,
                a.customer_name,
                a.kind.code().to_owned(),
                zh.to_owned(),
                a.status.to_string(),
                a.tier.to_string(),
                a.raised_on.to_string(),
                a.last_seen_on.to_string(),
                a.cleared_on.map_or(String::new(), |d| d.to_string()),
                a.evidence,
                a.thresholds,
                a.rule_id,
                a.rule_version.to_string(),
                a.handled_by.unwrap_or_default(),
                a.note.unwrap_or_default(),
            ]
        })
        .collect();
    deliver(
        store,
        &actor,
        ("alert", &as_of.to_string()),
        format,
        out,
        &header,
        &rows,
    )
    .await
}

/// Writes the table and records the export in the audit trail: who, what (`entity`, `key`), how
/// many rows, where to.
#[allow(clippy::too_many_arguments)]
async fn deliver(
    store: &Store,
    actor: &Actor,
    (entity, key): (&str, &str),
    format: Format,
    out: &Path,
    header: &[String],
    rows: &[Vec<String>],
) -> anyhow::Result<Written> {
    let about = About {
        what: entity,
        data_date: key,
        by: actor.name.as_str(),
    };
    let written = write_table(format, out, &about, header, rows)?;
    store
        .record_event(
            actor,
            "export",
            entity,
            key,
            &format!("{written} rows → {}", out.display()),
        )
        .await?;
    Ok(Written {
        rows: written,
        format,
    })
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
    format: Format,
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
    let header: Vec<String> = [
        "rank",
        "cif_no",
        indicator,
        "share",
        "cumulative_share",
        "class",
    ]
    .map(String::from)
    .to_vec();
    let mut class_counts = [0usize; 3];
    let rows: Vec<Vec<String>> = result
        .ranked
        .iter()
        .enumerate()
        .map(|(rank, r)| {
            class_counts[r.class as usize] += 1;
            vec![
                (rank + 1).to_string(),
                r.key.clone(),
                r.value.to_string(),
                format!("{:.6}", r.share),
                format!("{:.6}", r.cumulative_share),
                r.class.as_str().to_owned(),
            ]
        })
        .collect();
    deliver(
        store,
        &actor,
        ("pareto", &format!("{as_of} {indicator}")),
        format,
        out,
        &header,
        &rows,
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

#[cfg(test)]
mod tests {
    use calamine::{Data, Reader, Xlsx};

    use super::*;

    #[test]
    fn a_console_workbook_has_a_named_sheet_title_lines_and_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("tiers.xlsx");
        let header = ["cif_no".to_owned(), "tier".to_owned(), "name".to_owned()];
        let rows = [vec![
            "000123".to_owned(),
            "2".to_owned(),
            "甲公司".to_owned(),
        ]];
        let about = About {
            what: "customer_class",
            data_date: "2026-11-27",
            by: "system:export",
        };
        write_table(Format::Xlsx, &out, &about, &header, &rows).unwrap();
        let mut book: Xlsx<_> = calamine::open_workbook(&out).unwrap();
        assert_eq!(book.sheet_names(), ["customer_class"]);
        let range = book.worksheet_range("customer_class").unwrap();
        let text = |r, c| match range.get_value((r, c)) {
            Some(Data::String(s)) => s.clone(),
            other => format!("{other:?}"),
        };
        assert!(text(0, 0).contains("customer_class 2026-11-27"));
        assert!(text(1, 0).contains("全行 whole bank"), "{}", text(1, 0));
        assert_eq!(text(2, 0), "cif_no");
        // The customer number keeps its leading zeros; the tier is a number.
        assert_eq!(text(3, 0), "000123");
        assert_eq!(range.get_value((3, 1)), Some(&Data::Float(2.0)));
    }
}

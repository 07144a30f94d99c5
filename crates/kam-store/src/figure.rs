//! Balances on the date, their averages and their changes (时点余额, 日均, 较上日 / 较上月末 / 较年初 /
//! 同比) for deposits, loans and AUM: written per customer with the batch's indicators, summed by the
//! database over the customers a user sees (home and the portfolio show a unit's figures).

use chrono::NaiveDate;
use sqlx::{Any, Row, Transaction};

use kam_core::indicator::{COMPARED, Comparison, change_code};

use crate::{Result, StoredIndicator, UserStore, bulk::insert_rows, sql::Arg};

/// The window of the average shown next to a balance on the date: the shortest of the default
/// windows, the month a banker compares with.
pub const AVERAGE_WINDOW: i64 = 30;

/// One figure (deposits, loans or AUM) over a set of customers. Each amount is in fen; an empty
/// one is what the facts cannot give (no customer had it, or a comparison before the first
/// extract).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FigureLine {
    pub balance: Option<i64>,
    /// The average over the last `AVERAGE_WINDOW` days.
    pub average: Option<i64>,
    /// The change against each of `Comparison::ALL`, in that order.
    pub changes: [Option<i64>; 4],
}

/// Deposits, loans and AUM summed over the customers in reach.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnitFigures {
    /// The customers with figures (those the batch computed).
    pub customers: i64,
    pub as_of: Option<NaiveDate>,
    /// In the order of `kam_core::indicator::COMPARED`: deposits, loans, AUM.
    pub lines: [FigureLine; 3],
}

/// The column names of one figure: balance, average, then one per comparison.
fn columns(figure: &str) -> Vec<String> {
    ["balance", "avg"]
        .into_iter()
        .map(str::to_owned)
        .chain(Comparison::ALL.iter().map(|c| c.suffix().to_owned()))
        .map(|suffix| format!("{figure}_{suffix}"))
        .collect()
}

/// The indicator (code, window) each column is taken from.
fn sources(figure: &str) -> Vec<(&'static str, i64)> {
    let (balance, average) = match figure {
        "deposit" => ("deposit_balance", "avg_daily_deposit"),
        "loan" => ("loan_balance", "avg_debt"),
        _ => ("aum", "avg_aum"),
    };
    [(balance, 0), (average, AVERAGE_WINDOW)]
        .into_iter()
        .chain(Comparison::ALL.iter().map(|c| (change_code(figure, *c), 0)))
        .collect()
}

/// Replaces the figures with those of the customers' `values`, inside the batch's transaction
/// that replaces the indicators (`Store::save_indicators`), so both are of the same date.
pub(crate) async fn replace(
    tx: &mut Transaction<'_, Any>,
    max_binds: usize,
    as_of: NaiveDate,
    ids: &std::collections::HashMap<String, i64>,
    values: &[StoredIndicator],
) -> Result<()> {
    sqlx::query("delete from figure_latest")
        .execute(&mut **tx)
        .await?;
    let wanted: Vec<(&str, i64)> = COMPARED.iter().flat_map(|f| sources(f)).collect();
    let mut by_customer: std::collections::BTreeMap<&str, Vec<Option<i64>>> =
        std::collections::BTreeMap::new();
    for value in values {
        let Some(at) = wanted
            .iter()
            .position(|(code, window)| *code == value.code && *window == value.window_days)
        else {
            continue;
        };
        by_customer
            .entry(value.cif_no.as_str())
            .or_insert_with(|| vec![None; wanted.len()])[at] = value.value_int;
    }
    let as_of_text = as_of.to_string();
    let rows: Vec<Vec<Arg>> = by_customer
        .into_iter()
        .filter_map(|(cif, figures)| {
            let id = *ids.get(cif)?;
            let mut row = vec![Arg::Int(id), Arg::from(as_of_text.as_str())];
            row.extend(figures.into_iter().map(Arg::from));
            Some(row)
        })
        .collect();
    let names: Vec<String> = COMPARED.iter().flat_map(|f| columns(f)).collect();
    insert_rows(
        tx,
        max_binds,
        &format!(
            "insert into figure_latest (customer_id, as_of, {})",
            names.join(", ")
        ),
        "",
        rows,
    )
    .await?;
    Ok(())
}

impl UserStore {
    /// Deposits, loans and AUM on the latest batch date — on the date, on average and against
    /// the day before, last month-end, the year's start and a year earlier — summed over the
    /// customers in reach (of the unit chosen, for a handle narrowed to one).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn unit_figures(&self) -> Result<UnitFigures> {
        let names: Vec<String> = COMPARED.iter().flat_map(|f| columns(f)).collect();
        // PostgreSQL sums bigints as numeric: cast back (a bank's total fits a bigint of fen).
        let sums: Vec<String> = names
            .iter()
            .map(|n| format!("cast(sum(f.{n}) as bigint) as {n}"))
            .collect();
        let sql = self.visible(&format!(
            "select count(f.customer_id) as n, max(f.as_of) as as_of, {} \
             from customer c join figure_latest f on f.customer_id = c.id",
            sums.join(", ")
        ));
        let row = sql.query().fetch_one(self.pool()).await?;
        let mut lines = [FigureLine::default(); 3];
        for (line, figure) in lines.iter_mut().zip(COMPARED) {
            let get = |name: &str| -> Result<Option<i64>> {
                Ok(row.try_get(format!("{figure}_{name}").as_str())?)
            };
            line.balance = get("balance")?;
            line.average = get("avg")?;
            for (change, comparison) in line.changes.iter_mut().zip(Comparison::ALL) {
                *change = get(comparison.suffix())?;
            }
        }
        let as_of: Option<String> = row.try_get("as_of")?;
        Ok(UnitFigures {
            customers: row.try_get("n")?,
            as_of: as_of
                .as_deref()
                .map(|text| crate::customer::parse_date("figure_latest.as_of", text))
                .transpose()?,
            lines,
        })
    }
}

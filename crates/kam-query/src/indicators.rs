//! The indicators of kam-core's catalogue (docs/indicators.md) computed over the committed facts
//! with DataFusion. One scan per fact kind computes every window at once; SQL does the sums, counts,
//! minima and maxima, and Rust derives averages (rounded half away from zero to the fen) and ratios,
//! so that each formula is written once, exactly, and money never passes through a float.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use datafusion::arrow::array::{Array, Int64Array, RecordBatch};
use kam_core::indicator::Comparison;

pub use kam_core::indicator::{
    CATALOGUE, DEFAULT_WINDOWS, Family, IndicatorSpec, Measure, Spreads, Unit, contribution,
    interval, rounded_div,
};

pub use crate::rollup::{CARRY_DAYS, RollupStats};
use crate::{
    query::FactQuery,
    rollup::{Rollup, RollupParams, Rollups},
};
pub use kam_facts::snapshot::IndicatorValue;
use kam_facts::{
    FactError,
    snapshot::{epoch_date, epoch_day, first_column_text, int_at, int_column},
};

/// What the batch asks for.
#[derive(Debug, Clone)]
pub struct IndicatorRequest<'a> {
    pub as_of: NaiveDate,
    pub windows: &'a [u32],
    /// Every customer of the bank: a customer without facts still gets its zeros and nulls.
    pub customers: &'a [String],
    /// The relationship start date per customer where the master data gives one (for tenure).
    pub since: &'a BTreeMap<String, NaiveDate>,
    /// Only amounts in this currency are summed (there is no FX table yet).
    pub currency: &'a str,
    pub spreads: Spreads,
    /// The customer-value series: this many complete calendar months up to D (0: none).
    pub months: u32,
    /// The alerts' inputs: debits to other banks over this many days up to D …
    pub outflow_days: u32,
    /// … where a counterparty bank named here is this bank, not another;
    pub own_banks: &'a [String],
    /// and the worst loan class this many days before D.
    pub loan_lookback_days: u32,
}

/// Everything one run computes over the facts.
#[derive(Debug, Clone, Default)]
pub struct Computed {
    /// Every indicator of the catalogue, by customer, then catalogue order, then window.
    pub values: Vec<IndicatorValue>,
    /// The first day of each month of the customer-value series, oldest first: the complete
    /// calendar months up to D that the facts cover from their first day.
    pub months: Vec<NaiveDate>,
    /// Per customer (all of them), the contribution of each of those months, fen.
    pub monthly_contribution: BTreeMap<String, Vec<i64>>,
    /// Per customer (all of them), what each of those months held: the customer 360's trends.
    pub monthly_figures: BTreeMap<String, MonthlyFigures>,
    /// Per customer with anything to say: what the alert rules read besides the indicators.
    pub alert_facts: BTreeMap<String, AlertFacts>,
    /// How much of the work the rollups of earlier runs saved.
    pub rollups: RollupStats,
}

/// A customer's months side by side (fen, one entry per month of `Computed::months`): what the
/// contribution is made of, read from the same month sums at no extra scan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MonthlyFigures {
    /// Average daily deposit balance of the month.
    pub deposit: Vec<i64>,
    /// Average daily loan outstanding of the month.
    pub loan: Vec<i64>,
    /// Fee income of the month.
    pub fees: Vec<i64>,
}

/// What the alert rules read that is not an indicator.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AlertFacts {
    /// Non-reversal debits to other banks in the last `outflow_days` days, fen.
    pub outflow: i64,
    /// The worst loan class `loan_lookback_days` before D (1 pass … 5 loss), `None` without loans.
    pub prior_worst_loan_class: Option<i64>,
}

/// Days `[first, last]`, both included, as days since 1970-01-01.
type Range = (i64, i64);

/// The complete calendar months before D's (D's own when D is its last day), oldest first: each
/// month's first day and its range.
pub fn month_ranges(as_of: NaiveDate, months: u32) -> Vec<(NaiveDate, Range)> {
    use chrono::{Datelike, Months};
    let next = as_of + chrono::Duration::days(1);
    let end_month = if next.month() != as_of.month() {
        next
    } else {
        as_of.with_day(1).expect("day 1 exists")
    };
    (1..=months)
        .rev()
        .map(|back| {
            let first = end_month - Months::new(back);
            let last = first + Months::new(1) - chrono::Duration::days(1);
            (first, (epoch_day(first), epoch_day(last)))
        })
        .collect()
}

/// Every indicator of the catalogue for every customer, sorted by customer, then catalogue order,
/// then window.
pub async fn compute(
    query: &FactQuery,
    request: &IndicatorRequest<'_>,
) -> Result<Computed, FactError> {
    let windows = request.windows;
    let d = epoch_day(request.as_of);
    let widest = i64::from(windows.iter().copied().max().unwrap_or(1));
    // The windows' ranges first, then the customer-value months': one scan per kind serves both.
    // Only months the facts cover: a month before the first extract is unknown, not zero.
    let months: Vec<(NaiveDate, Range)> = month_ranges(request.as_of, request.months)
        .into_iter()
        .filter(|(first, _)| query.first_date().is_some_and(|d| d <= *first))
        .collect();
    let ranges: Vec<Range> = windows
        .iter()
        .map(|w| (d - i64::from(*w) + 1, d))
        .chain(months.iter().map(|(_, range)| *range))
        .collect();
    // Every day up to D folded per customer, computed now only where no earlier run did.
    let mut rollups = Rollups::new(
        query,
        RollupParams {
            currency: request.currency,
            own_banks: request.own_banks,
        },
    );
    // The days balances are compared with (较上日/较上月/较年初/同比): only those the facts
    // cover; before the first extract a balance is unknown, not zero.
    let compared: Vec<Option<i64>> = Comparison::ALL
        .iter()
        .map(|c| {
            let day = c.date(request.as_of);
            query
                .first_date()
                .is_some_and(|first| first <= day)
                .then(|| epoch_day(day))
        })
        .collect();
    // The held and fee rollups are read from the earliest range (and the loan look-back, and the
    // compared days) on.
    let needed_from = ranges
        .iter()
        .map(|r| r.0)
        .chain(compared.iter().flatten().copied())
        .chain([d - i64::from(request.loan_lookback_days)])
        .min()
        .unwrap_or(d);
    rollups
        .ensure(request.as_of, epoch_date(needed_from))
        .await?;
    let rollup_stats = rollups.stats;
    // Independent queries, run side by side so both cores work on them.
    let lookback = request.loan_lookback_days;
    let (transactions, first_last, held, loans_today, loans_before, fees) = tokio::try_join!(
        transaction_aggregates(query, request, d, widest, &rollups.months),
        first_last_transactions(query, request, &rollups.months),
        held_sums(query, &ranges, d, &compared),
        loans_on_date(query, d),
        async {
            if lookback > 0 {
                loans_on_date(query, d - i64::from(lookback)).await
            } else {
                Ok(BTreeMap::new())
            }
        },
        fee_sums(query, request, &ranges),
    )?;
    let mut monthly_contribution = BTreeMap::new();
    let mut monthly_figures = BTreeMap::new();
    let mut alert_facts = BTreeMap::new();

    let mut out = Vec::with_capacity(request.customers.len() * CATALOGUE.len() * windows.len());
    let mut customers: Vec<&String> = request.customers.iter().collect();
    customers.sort();
    customers.dedup();
    let empty_t = CustomerTxns {
        windows: vec![TxnWindow::default(); windows.len()],
        outflow: 0,
    };
    let empty_h = Held {
        window_sums: vec![vec![0; ranges.len()]; 3],
        on_date: vec![0; 3],
        on_compared: vec![vec![0; 3]; compared.len()],
    };
    // Each indicator's formula found once, not by comparing its code for every customer.
    let formulas: Vec<(&IndicatorSpec, Formula)> = CATALOGUE
        .iter()
        .map(|spec| (spec, Formula::of(spec.code)))
        .collect();
    for cif in customers {
        let t = transactions.get(cif).unwrap_or(&empty_t);
        let h = held.get(cif).unwrap_or(&empty_h);
        // Balances, then outstanding loans, then overdue principal.
        let (balance, outstanding, overdue) = (0, 1, 2);
        let today = loans_today.get(cif).copied().unwrap_or_default();
        let fee = fees.get(cif);
        let mut figures = MonthlyFigures::default();
        let series = months
            .iter()
            .enumerate()
            .map(|(m, (_, (first, last)))| {
                let r = windows.len() + m;
                let days = last - first + 1;
                let average =
                    |sum: i64| rounded_div(i128::from(sum), i128::from(days)).unwrap_or(0);
                let (fees, deposit, loan) = (
                    fee.map_or(0, |f| f[r]),
                    average(h.window_sums[balance][r]),
                    average(h.window_sums[outstanding][r]),
                );
                figures.deposit.push(deposit);
                figures.loan.push(loan);
                figures.fees.push(fees);
                contribution(fees, deposit, loan, days, request.spreads)
            })
            .collect();
        monthly_contribution.insert(cif.clone(), series);
        monthly_figures.insert(cif.clone(), figures);
        let facts = AlertFacts {
            outflow: t.outflow,
            prior_worst_loan_class: loans_before
                .get(cif)
                .and_then(|l| (l.worst_class > 0).then_some(l.worst_class)),
        };
        if facts != AlertFacts::default() {
            alert_facts.insert(cif.clone(), facts);
        }
        let mut push = |code: &'static str, window: Option<u32>, value: Option<Measure>| {
            out.push(IndicatorValue {
                cif_no: cif.clone(),
                code,
                window_days: window,
                value,
            });
        };
        let int = |v: Option<i64>| v.map(Measure::Int);
        let real = |v: Option<f64>| v.map(Measure::Real);
        for (spec, formula) in &formulas {
            if !spec.windowed {
                let value = match formula {
                    Formula::TenureDays => {
                        let start = request
                            .since
                            .get(cif)
                            .copied()
                            .or_else(|| first_last.get(cif).map(|(first, _)| *first));
                        int(start
                            .filter(|s| *s <= request.as_of)
                            .map(|s| (request.as_of - s).num_days()))
                    }
                    Formula::IdleDays => int(first_last
                        .get(cif)
                        .map(|(_, last)| (request.as_of - *last).num_days())),
                    // No opportunities exist yet: their open amount × probability is 0.
                    Formula::ExpectedSales => int(Some(0)),
                    Formula::Aum | Formula::DepositBalance => int(Some(h.on_date[balance])),
                    // The figure on D less the figure on the compared day, when the facts reach it.
                    &Formula::Change { held, comparison } => int(compared[comparison]
                        .map(|_| h.on_date[held] - h.on_compared[comparison][held])),
                    Formula::LoanBalance => int(Some(h.on_date[outstanding])),
                    Formula::CreditLimit => int(Some(today.credit_limit)),
                    Formula::Utilisation => real(
                        (today.credit_limit > 0)
                            .then(|| h.on_date[outstanding] as f64 / today.credit_limit as f64),
                    ),
                    Formula::WorstLoanClass => {
                        int((today.worst_class > 0).then_some(today.worst_class))
                    }
                    other => unreachable!("{other:?} is windowed"),
                };
                push(spec.code, None, value);
                continue;
            }
            for (w, &window) in windows.iter().enumerate() {
                let days = i64::from(window);
                let tw = &t.windows[w];
                let avg_deposit =
                    rounded_div(i128::from(h.window_sums[balance][w]), i128::from(days));
                let avg_debt =
                    rounded_div(i128::from(h.window_sums[outstanding][w]), i128::from(days));
                let fee_sum = fee.map_or(0, |f| f[w]);
                let contribution = contribution(
                    fee_sum,
                    avg_deposit.unwrap_or(0),
                    avg_debt.unwrap_or(0),
                    days,
                    request.spreads,
                );
                let value = match formula {
                    Formula::TxnCount => int(Some(tw.count)),
                    Formula::TxnAmount => int(Some(tw.amount)),
                    Formula::AvgTxnAmount => int(rounded_div(tw.amount.into(), tw.count.into())),
                    Formula::MaxTxnAmount => int(tw.max_amount),
                    Formula::ReversalCount => int(Some(tw.reversal_count)),
                    Formula::ReversalAmount => int(Some(tw.reversal_amount)),
                    Formula::AvgTxnInterval => real(interval(tw.first_day, tw.last_day, tw.days)),
                    Formula::Contribution => int(Some(contribution)),
                    Formula::Margin => {
                        let base = avg_deposit.unwrap_or(0) + avg_debt.unwrap_or(0);
                        real(
                            (base > 0)
                                .then(|| contribution as f64 / base as f64 * 365.0 / days as f64),
                        )
                    }
                    Formula::MaxInflow => int(tw.max_inflow),
                    Formula::AvgInflow => {
                        int(rounded_div(tw.inflow_amount.into(), tw.inflow_count.into()))
                    }
                    Formula::AvgInflowInterval => real(interval(
                        tw.first_inflow_day,
                        tw.last_inflow_day,
                        tw.inflow_days,
                    )),
                    Formula::AvgDebt => int(avg_debt),
                    Formula::AvgOverdueRatio => {
                        real((h.window_sums[outstanding][w] > 0).then(|| {
                            h.window_sums[overdue][w] as f64 / h.window_sums[outstanding][w] as f64
                        }))
                    }
                    Formula::AvgDailyDeposit => int(avg_deposit),
                    // AUM is the balances kam's facts carry (deposits) until wealth holdings
                    // arrive as facts; then it adds them and parts from avg_daily_deposit.
                    Formula::AvgAum => int(avg_deposit),
                    // Tasks, processes and service cases do not exist yet: none of each, and a
                    // share of no cases is empty.
                    Formula::NoneYet => int(Some(0)),
                    Formula::ShareOfNone => None,
                    other => unreachable!("{other:?} has no windowed formula"),
                };
                push(spec.code, Some(window), value);
            }
        }
    }
    Ok(Computed {
        values: out,
        months: months.into_iter().map(|(first, _)| first).collect(),
        monthly_contribution,
        monthly_figures,
        alert_facts,
        rollups: rollup_stats,
    })
}

/// How an indicator of the catalogue is computed (docs/indicators.md), by its code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Formula {
    TenureDays,
    IdleDays,
    ExpectedSales,
    Aum,
    LoanBalance,
    /// Deposits on the date (时点余额).
    DepositBalance,
    /// A held figure (0 balances, 1 outstanding loans) on D against `Comparison::ALL[comparison]`.
    Change {
        held: usize,
        comparison: usize,
    },
    CreditLimit,
    Utilisation,
    WorstLoanClass,
    TxnCount,
    TxnAmount,
    AvgTxnAmount,
    MaxTxnAmount,
    ReversalCount,
    ReversalAmount,
    AvgTxnInterval,
    Contribution,
    Margin,
    MaxInflow,
    AvgInflow,
    AvgInflowInterval,
    AvgDebt,
    AvgOverdueRatio,
    AvgDailyDeposit,
    AvgAum,
    /// Tasks, processes and service cases do not exist yet: none of each.
    NoneYet,
    /// The share of a kind of service case: of no cases, empty.
    ShareOfNone,
}

impl Formula {
    fn of(code: &str) -> Self {
        match code {
            "tenure_days" => Self::TenureDays,
            "idle_days" => Self::IdleDays,
            "expected_sales" => Self::ExpectedSales,
            "aum" => Self::Aum,
            "loan_balance" => Self::LoanBalance,
            "credit_limit" => Self::CreditLimit,
            "utilisation" => Self::Utilisation,
            "worst_loan_class" => Self::WorstLoanClass,
            "txn_count" => Self::TxnCount,
            "txn_amount" => Self::TxnAmount,
            "avg_txn_amount" => Self::AvgTxnAmount,
            "max_txn_amount" => Self::MaxTxnAmount,
            "reversal_count" => Self::ReversalCount,
            "reversal_amount" => Self::ReversalAmount,
            "avg_txn_interval_days" => Self::AvgTxnInterval,
            "contribution" => Self::Contribution,
            "margin" => Self::Margin,
            "max_inflow" => Self::MaxInflow,
            "avg_inflow" => Self::AvgInflow,
            "avg_inflow_interval_days" => Self::AvgInflowInterval,
            "avg_debt" => Self::AvgDebt,
            "avg_overdue_ratio" => Self::AvgOverdueRatio,
            "avg_daily_deposit" => Self::AvgDailyDeposit,
            "avg_aum" => Self::AvgAum,
            "task_count" | "process_count" | "praise_count" | "complaint_count"
            | "suggestion_count" => Self::NoneYet,
            "praise_share" | "complaint_share" | "suggestion_share" => Self::ShareOfNone,
            "deposit_balance" => Self::DepositBalance,
            other if other.contains("_change_") => {
                let (figure, suffix) = other
                    .split_once("_change_")
                    .expect("checked: it contains the separator");
                // AUM is the balances kam's facts carry (deposits), like `aum`.
                let held = match figure {
                    "deposit" | "aum" => 0,
                    "loan" => 1,
                    other => unreachable!("{other} is not a compared figure"),
                };
                let comparison = Comparison::ALL
                    .iter()
                    .position(|c| c.suffix() == suffix)
                    .unwrap_or_else(|| unreachable!("{other} has no comparison"));
                Self::Change { held, comparison }
            }
            other => unreachable!("{other} is in the catalogue without a formula"),
        }
    }
}

/// The transaction aggregates of one customer in one window.
#[derive(Debug, Clone, Default)]
struct TxnWindow {
    count: i64,
    amount: i64,
    max_amount: Option<i64>,
    reversal_count: i64,
    reversal_amount: i64,
    days: i64,
    first_day: Option<i64>,
    last_day: Option<i64>,
    inflow_count: i64,
    inflow_amount: i64,
    max_inflow: Option<i64>,
    inflow_days: i64,
    first_inflow_day: Option<i64>,
    last_inflow_day: Option<i64>,
}

/// One customer's transactions: the windows' aggregates and the recent outflow to other banks.
#[derive(Debug, Clone)]
struct CustomerTxns {
    windows: Vec<TxnWindow>,
    outflow: i64,
}

impl TxnWindow {
    /// Adds the aggregates of another stretch of days (disjoint from this one's).
    fn merge(&mut self, other: &TxnWindow) {
        let max = |a: Option<i64>, b: Option<i64>| a.max(b);
        let min = |a: Option<i64>, b: Option<i64>| match (a, b) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.count += other.count;
        self.amount += other.amount;
        self.max_amount = max(self.max_amount, other.max_amount);
        self.reversal_count += other.reversal_count;
        self.reversal_amount += other.reversal_amount;
        self.days += other.days;
        self.first_day = min(self.first_day, other.first_day);
        self.last_day = max(self.last_day, other.last_day);
        self.inflow_count += other.inflow_count;
        self.inflow_amount += other.inflow_amount;
        self.max_inflow = max(self.max_inflow, other.max_inflow);
        self.inflow_days += other.inflow_days;
        self.first_inflow_day = min(self.first_inflow_day, other.first_inflow_day);
        self.last_inflow_day = max(self.last_inflow_day, other.last_inflow_day);
    }
}

/// The aggregates of one window, in [`TxnWindow`]'s field order: the column's name (suffixed by
/// the window, `n_30`), the function, what it reads from a month summary, and from a daily row —
/// only rows passing the extra filter (a day with a non-reversal transaction; with a credit).
const TXN_AGGREGATES: [(&str, &str, &str, &str, &str); 14] = [
    ("n", "SUM", "n", "", "n"),
    ("amount", "SUM", "amount", "", "amount"),
    ("max", "MAX", "max_amount", "", "max_amount"),
    ("rev_n", "SUM", "rev_n", "", "rev_n"),
    ("rev_amount", "SUM", "rev_amount", "", "rev_amount"),
    ("days", "SUM", "days", " AND n > 0", "1"),
    ("first", "MIN", "first_day", " AND n > 0", "day"),
    ("last", "MAX", "last_day", " AND n > 0", "day"),
    ("in_n", "SUM", "in_n", "", "in_n"),
    ("in_amount", "SUM", "in_amount", "", "in_amount"),
    ("in_max", "MAX", "in_max", "", "in_max"),
    ("in_days", "SUM", "in_days", " AND in_n > 0", "1"),
    ("in_first", "MIN", "in_first", " AND in_n > 0", "day"),
    ("in_last", "MAX", "in_last", " AND in_n > 0", "day"),
];

/// One window's aggregate columns over the rows passing `condition`, from the month summaries
/// (`monthly`) or the daily rollup.
fn txn_columns(w: u32, condition: &str, monthly: bool) -> String {
    TXN_AGGREGATES
        .iter()
        .map(|(name, function, month, filter, day)| {
            let (filter, value) = if monthly {
                ("", *month)
            } else {
                (*filter, *day)
            };
            format!(", {function}(CASE WHEN {condition}{filter} THEN {value} END) AS {name}_{w}")
        })
        .collect()
}

/// Reads rows of per-window aggregates named as in [`TXN_AGGREGATES`] (and `outflow` when there).
fn read_txn_windows(
    batches: &[RecordBatch],
    windows: &[u32],
) -> Result<BTreeMap<String, CustomerTxns>, FactError> {
    let mut out = BTreeMap::new();
    for batch in batches {
        let cif = &first_column_text(batch)?;
        // `outflow` is only in the daily query's result.
        let column = |name: &str| {
            batch
                .column_by_name(name)
                .map(|_| int_column(batch, name))
                .transpose()
        };
        let per_window = windows
            .iter()
            .map(|w| {
                TXN_AGGREGATES
                    .iter()
                    .map(|(name, ..)| column(&format!("{name}_{w}")))
                    .collect::<Result<Vec<_>, _>>()
            })
            .collect::<Result<Vec<_>, _>>()?;
        let outflow = column("outflow")?;
        let at = |column: &Option<Int64Array>, row: usize| {
            column
                .as_ref()
                .filter(|c| !c.is_null(row))
                .map(|c| c.value(row))
        };
        for row in 0..batch.num_rows() {
            let windows = per_window
                .iter()
                .map(|c| {
                    let get = |k: usize| at(&c[k], row);
                    TxnWindow {
                        count: get(0).unwrap_or(0),
                        amount: get(1).unwrap_or(0),
                        max_amount: get(2),
                        reversal_count: get(3).unwrap_or(0),
                        reversal_amount: get(4).unwrap_or(0),
                        days: get(5).unwrap_or(0),
                        first_day: get(6),
                        last_day: get(7),
                        inflow_count: get(8).unwrap_or(0),
                        inflow_amount: get(9).unwrap_or(0),
                        max_inflow: get(10),
                        inflow_days: get(11).unwrap_or(0),
                        first_inflow_day: get(12),
                        last_inflow_day: get(13),
                    }
                })
                .collect();
            let outflow = at(&outflow, row).unwrap_or(0);
            out.insert(cif.value(row).to_owned(), CustomerTxns { windows, outflow });
        }
    }
    Ok(out)
}

/// Per window: the finished months wholly inside it from their month summaries, the other days
/// (the window's first, partial month; D's month) from the daily rollup; then merged.
async fn transaction_aggregates(
    query: &FactQuery,
    request: &IndicatorRequest<'_>,
    d: i64,
    widest: i64,
    months: &[(i64, i64)],
) -> Result<BTreeMap<String, CustomerTxns>, FactError> {
    let windows = request.windows;
    let outflow_days = i64::from(request.outflow_days);
    let start = d - widest.max(outflow_days) + 1;
    // Per window: its first day, and the days its whole months cover.
    let covered: Vec<(i64, Option<Range>)> = windows
        .iter()
        .map(|w| {
            let s = d - i64::from(*w) + 1;
            let whole: Vec<&(i64, i64)> = months.iter().filter(|m| m.0 >= s && m.1 <= d).collect();
            let range = match (whole.first(), whole.last()) {
                (Some(first), Some(last)) => Some((first.0, last.1)),
                _ => None,
            };
            (s, range)
        })
        .collect();
    let mut monthly = String::new();
    let mut daily = String::new();
    // The daily rows any window (or the outflow) reads.
    let mut needed = vec![format!("day BETWEEN {} AND {d}", d - outflow_days + 1)];
    for (w, (s, whole)) in windows.iter().zip(&covered) {
        let m = format!("month_first >= {s} AND month_last <= {d}");
        monthly += &txn_columns(*w, &m, true);
        let c = match whole {
            Some((first, last)) => {
                needed.push(format!("day BETWEEN {s} AND {}", first - 1));
                needed.push(format!("day BETWEEN {} AND {d}", last + 1));
                format!("day >= {s} AND day NOT BETWEEN {first} AND {last}")
            }
            None => {
                needed.push(format!("day BETWEEN {s} AND {d}"));
                format!("day >= {s}")
            }
        };
        daily += &txn_columns(*w, &c, false);
    }
    daily += &format!(
        ", SUM(CASE WHEN day >= {} THEN out_other END) AS outflow",
        d - outflow_days + 1
    );
    let daily_sql = format!(
        "SELECT cif_no{daily} FROM {table} WHERE day BETWEEN {start} AND {d} AND ({needed}) \
         GROUP BY cif_no",
        table = Rollup::Transaction.table(),
        needed = needed.join(" OR "),
    );
    let mut out = read_txn_windows(&query.sql(&daily_sql).await?, windows)?;
    if covered.iter().any(|(_, whole)| whole.is_some()) {
        let monthly_sql = format!(
            "SELECT cif_no{monthly} FROM txn_monthly WHERE month_first >= {start} GROUP BY cif_no"
        );
        for (cif, months) in read_txn_windows(&query.sql(&monthly_sql).await?, windows)? {
            match out.get_mut(&cif) {
                Some(days) => {
                    for (into, from) in days.windows.iter_mut().zip(&months.windows) {
                        into.merge(from);
                    }
                }
                None => {
                    out.insert(cif, months);
                }
            }
        }
    }
    Ok(out)
}

/// Each customer's first and last transaction that is not a reversal, up to the as-of date: from
/// the month summaries and the days after the last finished month.
async fn first_last_transactions(
    query: &FactQuery,
    request: &IndicatorRequest<'_>,
    months: &[(i64, i64)],
) -> Result<BTreeMap<String, (NaiveDate, NaiveDate)>, FactError> {
    let d = epoch_day(request.as_of);
    let after = months.last().map_or(i64::MIN, |m| m.1);
    // The rollups reach back to the first fact day: this is every transaction ever.
    let daily = format!(
        "SELECT cif_no, MIN(day) AS first_day, MAX(day) AS last_day FROM {daily} \
         WHERE n > 0 AND day > {after} AND day <= {d} GROUP BY cif_no",
        daily = Rollup::Transaction.table(),
    );
    let monthly = format!(
        "SELECT cif_no, MIN(first_day) AS first_day, MAX(last_day) AS last_day FROM txn_monthly \
         WHERE month_last <= {d} GROUP BY cif_no"
    );
    let mut out: BTreeMap<String, (NaiveDate, NaiveDate)> = BTreeMap::new();
    for sql in [monthly, daily] {
        for batch in &query.sql(&sql).await? {
            let cif = &first_column_text(batch)?;
            for row in 0..batch.num_rows() {
                let (Some(first), Some(last)) = (
                    int_at(batch, "first_day", row),
                    int_at(batch, "last_day", row),
                ) else {
                    continue;
                };
                let (first, last) = (epoch_date(first), epoch_date(last));
                out.entry(cif.value(row).to_owned())
                    .and_modify(|(f, l)| {
                        *f = (*f).min(first);
                        *l = (*l).max(last);
                    })
                    .or_insert((first, last));
            }
        }
    }
    Ok(out)
}

/// The sums over each range's days of what was holding per customer (balances, outstanding loans,
/// overdue principal), and what holds on the as-of date itself.
#[derive(Debug, Clone)]
struct Held {
    /// `[value][range]`: Σ over the range's days of the value holding that day.
    window_sums: Vec<Vec<i64>>,
    /// `[value]`: the value holding on the as-of date.
    on_date: Vec<i64>,
    /// `[comparison][value]`: the value holding on each compared day (0 where none is read).
    on_compared: Vec<Vec<i64>>,
}

/// A range's sum of a value held, per calendar month it touches: the month's running sum at the
/// range's last day in that month, less the running sum the day before the range's first day in
/// it (when the range starts after the month's first day).
fn month_terms((first, last): Range) -> Vec<(i64, Option<i64>)> {
    use chrono::Datelike;
    let mut out = Vec::new();
    let mut day = first;
    while day <= last {
        let date = epoch_date(day);
        let month_first = epoch_day(date.with_day(1).expect("day 1 exists"));
        let month_last = epoch_day(
            date.with_day(1).expect("day 1 exists") + chrono::Months::new(1)
                - chrono::Duration::days(1),
        );
        let end = last.min(month_last);
        out.push((end, (day > month_first).then_some(day - 1)));
        day = month_last + 1;
    }
    out
}

async fn held_sums(
    query: &FactQuery,
    ranges: &[Range],
    d: i64,
    compared: &[Option<i64>],
) -> Result<BTreeMap<String, Held>, FactError> {
    const VALUES: [&str; 3] = ["balance", "outstanding", "overdue"];
    let columns = VALUES.map(|v| format!("cum_{v}"));
    let terms: Vec<Vec<(i64, Option<i64>)>> = ranges.iter().map(|r| month_terms(*r)).collect();
    // What holds on D is the month's running sum on D less that on the day before (when in the
    // same month).
    let today = month_terms((d, d))[0];
    let then: Vec<Option<(i64, Option<i64>)>> = compared
        .iter()
        .map(|day| day.map(|x| month_terms((x, x))[0]))
        .collect();
    // The days whose rows are read: two or so per range and month, and D's.
    let mut points: Vec<i64> = terms
        .iter()
        .flatten()
        .chain([&today])
        .chain(then.iter().flatten())
        .flat_map(|(end, before)| [Some(*end), *before])
        .flatten()
        .collect();
    points.sort_unstable();
    points.dedup();
    let list = points
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT cif_no, day, cum_balance, cum_outstanding, cum_overdue \
         FROM {daily} WHERE day IN ({list})",
        daily = Rollup::Held.table(),
    );
    // Per customer: the month's running sums on each point.
    let mut found: BTreeMap<String, Vec<[i64; 3]>> = BTreeMap::new();
    for batch in &query.sql(&sql).await? {
        let cif = &first_column_text(batch)?;
        for row in 0..batch.num_rows() {
            let day = int_at(batch, "day", row).unwrap_or(i64::MIN);
            let Ok(at) = points.binary_search(&day) else {
                continue;
            };
            let sums = match found.get_mut(cif.value(row)) {
                Some(entry) => entry,
                None => found
                    .entry(cif.value(row).to_owned())
                    .or_insert_with(|| vec![[0; 3]; points.len()]),
            };
            for (v, column) in columns.iter().enumerate() {
                sums[at][v] = int_at(batch, column, row).unwrap_or(0);
            }
        }
    }
    let at = |day: i64| {
        points
            .binary_search(&day)
            .expect("every term's day is a point")
    };
    let sum = |sums: &[[i64; 3]], v: usize, (end, before): (i64, Option<i64>)| {
        sums[at(end)][v] - before.map_or(0, |b| sums[at(b)][v])
    };
    Ok(found
        .into_iter()
        .map(|(cif, sums)| {
            let window_sums = (0..VALUES.len())
                .map(|v| {
                    terms
                        .iter()
                        .map(|range| range.iter().map(|term| sum(&sums, v, *term)).sum())
                        .collect()
                })
                .collect();
            (
                cif,
                Held {
                    window_sums,
                    on_date: (0..VALUES.len()).map(|v| sum(&sums, v, today)).collect(),
                    on_compared: then
                        .iter()
                        .map(|term| {
                            (0..VALUES.len())
                                .map(|v| term.map_or(0, |term| sum(&sums, v, term)))
                                .collect()
                        })
                        .collect(),
                },
            )
        })
        .collect())
}

/// What the loans say on the as-of date: credit limits and the worst five-category class.
#[derive(Debug, Clone, Copy, Default)]
struct LoansToday {
    credit_limit: i64,
    /// 1 pass … 5 loss; 0 without loans.
    worst_class: i64,
}

async fn loans_on_date(
    query: &FactQuery,
    d: i64,
) -> Result<BTreeMap<String, LoansToday>, FactError> {
    let sql = format!(
        "SELECT cif_no, credit_limit, worst_class FROM {daily} WHERE day = {d}",
        daily = Rollup::Held.table(),
    );
    let mut out = BTreeMap::new();
    for batch in &query.sql(&sql).await? {
        let cif = &first_column_text(batch)?;
        for row in 0..batch.num_rows() {
            out.insert(
                cif.value(row).to_owned(),
                LoansToday {
                    credit_limit: int_at(batch, "credit_limit", row).unwrap_or(0),
                    worst_class: int_at(batch, "worst_class", row).unwrap_or(0),
                },
            );
        }
    }
    Ok(out)
}

/// Fee income per range of days.
async fn fee_sums(
    query: &FactQuery,
    request: &IndicatorRequest<'_>,
    ranges: &[Range],
) -> Result<BTreeMap<String, Vec<i64>>, FactError> {
    let d = epoch_day(request.as_of);
    let earliest = ranges.iter().map(|r| r.0).min().unwrap_or(d);
    let columns: String = ranges
        .iter()
        .enumerate()
        .map(|(r, (first, last))| {
            format!(", SUM(CASE WHEN day BETWEEN {first} AND {last} THEN fee END) AS f_{r}")
        })
        .collect();
    let sql = format!(
        "SELECT cif_no{columns} FROM {daily} WHERE day BETWEEN {earliest} AND {d} GROUP BY cif_no",
        daily = Rollup::Fee.table(),
    );
    let mut out = BTreeMap::new();
    for batch in &query.sql(&sql).await? {
        let cif = &first_column_text(batch)?;
        for row in 0..batch.num_rows() {
            out.insert(
                cif.value(row).to_owned(),
                (0..ranges.len())
                    .map(|r| int_at(batch, &format!("f_{r}"), row).unwrap_or(0))
                    .collect(),
            );
        }
    }
    Ok(out)
}

/// A SQL string literal.
pub(crate) fn sql_text(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

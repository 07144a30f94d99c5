//! The indicator catalogue (docs/indicators.md): every indicator's code, family, unit and names,
//! and the formulas that turn sums into averages, intervals and contribution — exactly, in integer
//! fen rounded half away from zero. kam-facts computes the sums over the facts; the arithmetic on
//! them is here, once.

/// The family an indicator belongs to (交易类 / 财务类 / 联络类: transactions, finances, contact).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Transaction,
    Financial,
    Contact,
}

/// What an indicator's number is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Money in fen (分), an integer.
    Fen,
    Count,
    Days,
    /// Days on average between events (a real number: 416.7 days, never a percentage).
    AverageDays,
    /// A loan's five-level class (五级分类), 1 正常 … 5 损失.
    LoanClass,
    /// A ratio or share (a float; never money).
    Ratio,
}

/// One indicator of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndicatorSpec {
    pub code: &'static str,
    pub family: Family,
    pub unit: Unit,
    /// Computed per window (`txn_count_30d`) rather than as of the date alone.
    pub windowed: bool,
    pub zh: &'static str,
    pub en: &'static str,
}

macro_rules! spec {
    ($code:literal, $family:ident, $unit:ident, $windowed:literal, $zh:literal, $en:literal) => {
        IndicatorSpec {
            code: $code,
            family: Family::$family,
            unit: Unit::$unit,
            windowed: $windowed,
            zh: $zh,
            en: $en,
        }
    };
}

/// Every indicator, in the order exports and pages show them.
pub const CATALOGUE: &[IndicatorSpec] = &[
    spec!(
        "txn_count",
        Transaction,
        Count,
        true,
        "交易笔数",
        "transactions"
    ),
    spec!(
        "txn_amount",
        Transaction,
        Fen,
        true,
        "交易金额",
        "transaction amount"
    ),
    spec!(
        "avg_txn_amount",
        Transaction,
        Fen,
        true,
        "平均交易金额",
        "average transaction"
    ),
    spec!(
        "max_txn_amount",
        Transaction,
        Fen,
        true,
        "最大交易金额",
        "largest transaction"
    ),
    spec!(
        "reversal_count",
        Transaction,
        Count,
        true,
        "冲正（退货）笔数",
        "reversals"
    ),
    spec!(
        "reversal_amount",
        Transaction,
        Fen,
        true,
        "冲正（退货）金额",
        "reversal amount"
    ),
    spec!(
        "tenure_days",
        Transaction,
        Days,
        false,
        "交易时长（天）",
        "tenure in days"
    ),
    spec!(
        "idle_days",
        Transaction,
        Days,
        false,
        "未交易天数",
        "days since the last transaction"
    ),
    spec!(
        "avg_txn_interval_days",
        Transaction,
        AverageDays,
        true,
        "平均交易间隔（天）",
        "average days between transactions"
    ),
    spec!(
        "contribution",
        Transaction,
        Fen,
        true,
        "贡献度",
        "contribution"
    ),
    spec!(
        "margin",
        Transaction,
        Ratio,
        true,
        "利润率（年化）",
        "margin (annualised)"
    ),
    spec!(
        "expected_sales",
        Transaction,
        Fen,
        false,
        "预期销售额",
        "expected sales"
    ),
    spec!(
        "max_inflow",
        Financial,
        Fen,
        true,
        "最大资金流入",
        "largest inflow"
    ),
    spec!(
        "avg_inflow",
        Financial,
        Fen,
        true,
        "平均资金流入",
        "average inflow"
    ),
    spec!(
        "avg_inflow_interval_days",
        Financial,
        AverageDays,
        true,
        "平均流入间隔（天）",
        "average days between inflows"
    ),
    spec!("avg_debt", Financial, Fen, true, "平均负债", "average debt"),
    spec!(
        "avg_overdue_ratio",
        Financial,
        Ratio,
        true,
        "平均逾期比率",
        "average overdue ratio"
    ),
    spec!(
        "avg_daily_deposit",
        Financial,
        Fen,
        true,
        "日均存款",
        "average daily deposit"
    ),
    spec!(
        "avg_aum",
        Financial,
        Fen,
        true,
        "日均管理资产",
        "average daily AUM"
    ),
    spec!(
        "deposit_balance",
        Financial,
        Fen,
        false,
        "存款时点余额",
        "deposit balance on the date"
    ),
    spec!(
        "deposit_change_day",
        Financial,
        Fen,
        false,
        "存款较上日",
        "deposits vs the day before"
    ),
    spec!(
        "deposit_change_month",
        Financial,
        Fen,
        false,
        "存款较上月末",
        "deposits vs last month-end"
    ),
    spec!(
        "deposit_change_ytd",
        Financial,
        Fen,
        false,
        "存款较年初",
        "deposits vs the start of the year"
    ),
    spec!(
        "deposit_change_yoy",
        Financial,
        Fen,
        false,
        "存款同比",
        "deposits vs a year earlier"
    ),
    spec!(
        "loan_balance",
        Financial,
        Fen,
        false,
        "贷款余额",
        "loan balance"
    ),
    spec!(
        "loan_change_day",
        Financial,
        Fen,
        false,
        "贷款较上日",
        "loans vs the day before"
    ),
    spec!(
        "loan_change_month",
        Financial,
        Fen,
        false,
        "贷款较上月末",
        "loans vs last month-end"
    ),
    spec!(
        "loan_change_ytd",
        Financial,
        Fen,
        false,
        "贷款较年初",
        "loans vs the start of the year"
    ),
    spec!(
        "loan_change_yoy",
        Financial,
        Fen,
        false,
        "贷款同比",
        "loans vs a year earlier"
    ),
    spec!(
        "aum",
        Financial,
        Fen,
        false,
        "管理资产（AUM）",
        "assets under management"
    ),
    spec!(
        "aum_change_day",
        Financial,
        Fen,
        false,
        "管理资产较上日",
        "AUM vs the day before"
    ),
    spec!(
        "aum_change_month",
        Financial,
        Fen,
        false,
        "管理资产较上月末",
        "AUM vs last month-end"
    ),
    spec!(
        "aum_change_ytd",
        Financial,
        Fen,
        false,
        "管理资产较年初",
        "AUM vs the start of the year"
    ),
    spec!(
        "aum_change_yoy",
        Financial,
        Fen,
        false,
        "管理资产同比",
        "AUM vs a year earlier"
    ),
    spec!(
        "credit_limit",
        Financial,
        Fen,
        false,
        "授信额度",
        "credit limit"
    ),
    spec!(
        "utilisation",
        Financial,
        Ratio,
        false,
        "授信使用率",
        "credit utilisation"
    ),
    spec!(
        "worst_loan_class",
        Financial,
        LoanClass,
        false,
        "最差五级分类",
        "worst loan class"
    ),
    spec!("task_count", Contact, Count, true, "相关任务数", "tasks"),
    spec!(
        "process_count",
        Contact,
        Count,
        true,
        "相关进程数",
        "processes"
    ),
    spec!("praise_count", Contact, Count, true, "表扬次数", "praise"),
    spec!(
        "complaint_count",
        Contact,
        Count,
        true,
        "投诉次数",
        "complaints"
    ),
    spec!(
        "suggestion_count",
        Contact,
        Count,
        true,
        "建议次数",
        "suggestions"
    ),
    spec!(
        "praise_share",
        Contact,
        Ratio,
        true,
        "表扬比例",
        "praise share"
    ),
    spec!(
        "complaint_share",
        Contact,
        Ratio,
        true,
        "投诉比例",
        "complaint share"
    ),
    spec!(
        "suggestion_share",
        Contact,
        Ratio,
        true,
        "建议比例",
        "suggestion share"
    ),
];

/// The windows computed unless configured otherwise: 30, 90 and 365 days ending on the as-of date.
pub const DEFAULT_WINDOWS: &[u32] = &[30, 90, 365];

/// How the contribution is priced: interest margin on deposits and loans, in basis points a year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spreads {
    pub deposit_bp: i64,
    pub loan_bp: i64,
}

impl Default for Spreads {
    fn default() -> Self {
        Self {
            deposit_bp: 150,
            loan_bp: 250,
        }
    }
}

/// One computed value. Money, counts and days are integers; ratios are floats.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Measure {
    Int(i64),
    Real(f64),
}

/// `numerator / denominator` rounded half away from zero; `None` over nothing.
pub fn rounded_div(numerator: i128, denominator: i128) -> Option<i64> {
    if denominator == 0 {
        return None;
    }
    let quotient = numerator / denominator;
    let remainder = numerator % denominator;
    let bump = if 2 * remainder.abs() >= denominator.abs() {
        if (numerator < 0) == (denominator < 0) {
            1
        } else {
            -1
        }
    } else {
        0
    };
    i64::try_from(quotient + bump).ok()
}

/// Fee income plus the interest margin earned over `days` on the average deposit and debt.
pub fn contribution(
    fees: i64,
    avg_deposit: i64,
    avg_debt: i64,
    days: i64,
    spreads: Spreads,
) -> i64 {
    let margin = |balance: i64, bp: i64| {
        rounded_div(
            i128::from(balance) * i128::from(bp) * i128::from(days),
            10_000 * 365,
        )
        .unwrap_or(0)
    };
    fees + margin(avg_deposit, spreads.deposit_bp) + margin(avg_debt, spreads.loan_bp)
}

/// (last − first) / (distinct days − 1); nothing to say with fewer than two days.
pub fn interval(first: Option<i64>, last: Option<i64>, days: i64) -> Option<f64> {
    match (first, last) {
        (Some(first), Some(last)) if days >= 2 => Some((last - first) as f64 / (days - 1) as f64),
        _ => None,
    }
}

/// The comparisons every Chinese bank report shows next to a balance on the date: 较上日 (the day
/// before), 较上月 (the last day of the previous month), 较年初 (the last day of the previous year:
/// the year's opening balance) and 同比 (the same date a year earlier; 29 February compares with
/// 28 February).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Day,
    Month,
    YearStart,
    YearAgo,
}

impl Comparison {
    pub const ALL: [Comparison; 4] = [
        Comparison::Day,
        Comparison::Month,
        Comparison::YearStart,
        Comparison::YearAgo,
    ];

    /// The suffix of the indicator's code: `deposit_change_day`, `…_month`, `…_ytd`, `…_yoy`.
    pub fn suffix(self) -> &'static str {
        match self {
            Comparison::Day => "day",
            Comparison::Month => "month",
            Comparison::YearStart => "ytd",
            Comparison::YearAgo => "yoy",
        }
    }

    /// The date `as_of` is compared with.
    pub fn date(self, as_of: chrono::NaiveDate) -> chrono::NaiveDate {
        use chrono::Datelike;
        match self {
            Comparison::Day => as_of - chrono::Duration::days(1),
            Comparison::Month => {
                as_of.with_day(1).expect("day 1 exists") - chrono::Duration::days(1)
            }
            Comparison::YearStart => chrono::NaiveDate::from_ymd_opt(as_of.year() - 1, 12, 31)
                .expect("31 December exists"),
            // chrono clamps to the month's last day: 2028-02-29 → 2027-02-28.
            Comparison::YearAgo => as_of - chrono::Months::new(12),
        }
    }
}

/// The balance-like figures compared: deposits on the date, outstanding loans, AUM.
pub const COMPARED: [&str; 3] = ["deposit", "loan", "aum"];

/// The code of a comparison indicator: `change_code("loan", Comparison::YearStart)` is
/// `loan_change_ytd`, a code of the catalogue.
pub fn change_code(figure: &str, comparison: Comparison) -> &'static str {
    CATALOGUE
        .iter()
        .find(|s| {
            s.code
                .strip_prefix(figure)
                .and_then(|rest| rest.strip_prefix("_change_"))
                == Some(comparison.suffix())
        })
        .map(|s| s.code)
        .expect("every compared figure has its four comparisons in the catalogue")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn division_rounds_half_away_from_zero() {
        assert_eq!(rounded_div(5, 2), Some(3));
        assert_eq!(rounded_div(-5, 2), Some(-3));
        assert_eq!(rounded_div(4, 3), Some(1));
        assert_eq!(rounded_div(5, 3), Some(2));
        assert_eq!(rounded_div(-4, 3), Some(-1));
        assert_eq!(rounded_div(1, 0), None);
    }

    #[test]
    fn comparisons_take_the_dates_a_bank_report_takes() {
        let day = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap();
        let on = day(2028, 2, 29);
        let dates: Vec<_> = Comparison::ALL.iter().map(|c| c.date(on)).collect();
        assert_eq!(
            dates,
            [
                day(2028, 2, 28),
                day(2028, 1, 31),
                day(2027, 12, 31),
                day(2027, 2, 28)
            ]
        );
        // On the first of January the month-end and the year-start are the same day.
        let new_year = day(2027, 1, 1);
        assert_eq!(Comparison::Month.date(new_year), day(2026, 12, 31));
        assert_eq!(Comparison::YearStart.date(new_year), day(2026, 12, 31));
        for figure in COMPARED {
            for comparison in Comparison::ALL {
                let code = change_code(figure, comparison);
                assert!(code.starts_with(figure) && code.ends_with(comparison.suffix()));
            }
        }
    }

    #[test]
    fn every_code_is_unique() {
        let mut codes: Vec<&str> = CATALOGUE.iter().map(|s| s.code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), CATALOGUE.len());
    }
}

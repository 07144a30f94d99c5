//! Every indicator on hand-made facts with its expected value worked out by hand: window ends
//! inclusive, a leap day inside the window, a reversal of a transaction outside it, a customer with
//! only reversals, one with one transaction, one with nothing; snapshots carried forward.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use kam_facts::{BalanceRow, Direction, FactWriter, FeeRow, LoanRow, TransactionRow};
use kam_query::{
    FactQuery,
    indicators::{AlertFacts, IndicatorRequest, IndicatorValue, Measure, Spreads, compute},
};

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

fn txn(id: &str, cif: &str, direction: Direction, fen: i64, reversal: bool) -> TransactionRow {
    TransactionRow {
        txn_id: id.into(),
        account_no: format!("{cif}-1"),
        cif_no: cif.into(),
        direction,
        amount_minor: fen,
        currency: "CNY".into(),
        channel: "counter".into(),
        counterparty_name: String::new(),
        counterparty_bank: "本行".into(),
        reversal,
        reverses_txn_id: reversal.then(|| "T0".to_owned()),
    }
}

fn loan(outstanding: i64, overdue: i64, class: &'static str) -> LoanRow {
    LoanRow {
        loan_no: "L1".into(),
        cif_no: "A".into(),
        currency: "CNY".into(),
        outstanding_minor: outstanding,
        overdue_principal_minor: overdue,
        overdue_days: if overdue > 0 { 40 } else { 0 },
        loan_class: class.into(),
        credit_limit_minor: 2_000_000,
    }
}

/// The hand-made bank, written as one committed batch ("b1") plus an uncommitted one ("ghost")
/// whose rows must not count.
fn write_facts(root: &std::path::Path) {
    let facts = FactWriter::new(root);
    let credit = Direction::Credit;
    let debit = Direction::Debit;
    let days: Vec<(&str, Vec<TransactionRow>)> = vec![
        ("2024-01-01", vec![txn("T1", "A", credit, 100, false)]),
        ("2024-02-23", vec![txn("T2", "A", credit, 3_000, false)]),
        (
            "2024-02-24",
            vec![
                txn("T3", "A", debit, 5_001, false),
                txn("T7", "B", credit, 700, true),
            ],
        ),
        (
            "2024-02-29",
            vec![
                txn("T4", "A", debit, 2_000, true),
                txn("T5", "C", credit, 1_234, false),
            ],
        ),
        ("2024-03-01", vec![txn("T6", "A", credit, 10_000, false)]),
        // After the as-of date: never counted.
        ("2024-03-02", vec![txn("T8", "A", credit, 99_999, false)]),
    ];
    for (date, rows) in &days {
        facts.write_day(day(date), "b1", rows).unwrap();
    }
    facts
        .write_day(
            day("2024-03-01"),
            "ghost",
            &[txn("G1", "A", credit, 1, false)],
        )
        .unwrap();
    let balance = |fen| BalanceRow {
        account_no: "A-1".into(),
        cif_no: "A".into(),
        currency: "CNY".into(),
        balance_minor: fen,
    };
    facts
        .write_day(day("2024-02-20"), "b1", &[balance(100_000)])
        .unwrap();
    facts
        .write_day(day("2024-02-28"), "b1", &[balance(200_000)])
        .unwrap();
    facts
        .write_day(day("2024-01-31"), "b1", &[loan(1_000_000, 0, "pass")])
        .unwrap();
    facts
        .write_day(
            day("2024-02-29"),
            "b1",
            &[loan(900_000, 100_000, "substandard")],
        )
        .unwrap();
    let fee = FeeRow {
        cif_no: "A".into(),
        fee_code: "wire".into(),
        amount_minor: 50_000,
        currency: "CNY".into(),
    };
    facts.write_day(day("2024-02-26"), "b1", &[fee]).unwrap();
}

async fn values() -> BTreeMap<(String, String), Option<Measure>> {
    let dir = tempfile::tempdir().unwrap();
    write_facts(dir.path());
    let query = FactQuery::open(dir.path(), &["b1".to_owned()])
        .await
        .unwrap();
    let customers: Vec<String> = ["A", "B", "C", "D"].map(String::from).to_vec();
    let since = BTreeMap::from([("D".to_owned(), day("2020-03-01"))]);
    let request = IndicatorRequest {
        as_of: day("2024-03-01"),
        windows: &[7, 30],
        customers: &customers,
        since: &since,
        currency: "CNY",
        spreads: Spreads::default(),
        months: 0,
        outflow_days: 0,
        own_banks: &[],
        loan_lookback_days: 0,
    };
    compute(&query, &request)
        .await
        .unwrap()
        .values
        .into_iter()
        .map(
            |IndicatorValue {
                 cif_no,
                 code,
                 window_days,
                 value,
             }| {
                let name = match window_days {
                    Some(w) => format!("{code}_{w}d"),
                    None => code.to_owned(),
                };
                ((cif_no, name), value)
            },
        )
        .collect()
}

fn int(v: i64) -> Option<Measure> {
    Some(Measure::Int(v))
}

fn real(v: f64) -> Option<Measure> {
    Some(Measure::Real(v))
}

#[tokio::test]
async fn each_indicator_on_hand_made_facts() {
    let got = values().await;
    let check = |cif: &str, expected: &[(&str, Option<Measure>)]| {
        for (name, want) in expected {
            let value = got
                .get(&(cif.to_owned(), (*name).to_owned()))
                .unwrap_or_else(|| panic!("{cif} {name} missing"));
            match (value, want) {
                (Some(Measure::Real(a)), Some(Measure::Real(b))) => {
                    assert!((a - b).abs() < 1e-9, "{cif} {name}: {a} != {b}");
                }
                _ => assert_eq!(value, want, "{cif} {name}"),
            }
        }
    };
    // A, 7 days (2024-02-24 ..= 2024-03-01): T3 (debit 50.01, the first day) and T6 (credit 100.00,
    // the last day); T4 is a reversal (of a January transaction); T8 is after the date; the
    // uncommitted batch's G1 does not count.
    check(
        "A",
        &[
            ("txn_count_7d", int(2)),
            ("txn_amount_7d", int(15_001)),
            ("avg_txn_amount_7d", int(7_501)), // 7,500.5 rounds away from zero
            ("max_txn_amount_7d", int(10_000)),
            ("reversal_count_7d", int(1)),
            ("reversal_amount_7d", int(2_000)),
            ("avg_txn_interval_days_7d", real(6.0)),
            ("max_inflow_7d", int(10_000)),
            ("avg_inflow_7d", int(10_000)),
            ("avg_inflow_interval_days_7d", None),
            // 30 days (2024-02-01 ..= 2024-03-01) add T2 (credit 30.00 on 02-23).
            ("txn_count_30d", int(3)),
            ("txn_amount_30d", int(18_001)),
            ("avg_txn_amount_30d", int(6_000)),
            ("avg_txn_interval_days_30d", real(3.5)),
            ("avg_inflow_30d", int(6_500)),
            ("avg_inflow_interval_days_30d", real(7.0)),
            // First transaction 2024-01-01: 31 + 29 days to 2024-03-01.
            ("tenure_days", int(60)),
            // The last non-reversal transaction is T6 on the date itself.
            ("idle_days", int(0)),
            ("avg_aum_7d", int(142_857)),
            // No tasks or service cases exist yet: none, and no share of none.
            ("task_count_30d", int(0)),
            ("complaint_count_7d", int(0)),
            ("complaint_share_30d", None),
            // Balances 1,000.00 from 02-20 and 2,000.00 from 02-28, carried to the date:
            // 7 days: 4 × 100,000 + 3 × 200,000 = 1,000,000 / 7 = 142,857.14.
            ("avg_daily_deposit_7d", int(142_857)),
            // 30 days: nothing before 02-20, then 8 × 100,000 + 3 × 200,000 = 1,400,000 / 30.
            ("avg_daily_deposit_30d", int(46_667)),
            ("aum", int(200_000)),
            // Loan snapshots 01-31 (10,000.00, pass) and 02-29 (9,000.00, 1,000.00 overdue):
            // 7 days: 5 × 1,000,000 + 2 × 900,000 = 6,800,000 / 7 = 971,428.57.
            ("avg_debt_7d", int(971_429)),
            ("avg_overdue_ratio_7d", real(200_000.0 / 6_800_000.0)),
            // 30 days: the January snapshot carried over 02-01 ..= 02-28.
            ("avg_debt_30d", int(993_333)),
            ("avg_overdue_ratio_30d", real(200_000.0 / 29_800_000.0)),
            ("loan_balance", int(900_000)),
            ("credit_limit", int(2_000_000)),
            ("utilisation", real(0.45)),
            ("worst_loan_class", int(3)),
            // Fees 500.00 + 1.5% a year on 142,857 for 7 days (41.10 → 41)
            // + 2.5% a year on 971,429 for 7 days (465.75 → 466).
            ("contribution_7d", int(50_507)),
            (
                "margin_7d",
                real(50_507.0 / (142_857.0 + 971_429.0) * 365.0 / 7.0),
            ),
            ("expected_sales", int(0)),
        ],
    );
    // B has only a reversal: nothing to average, no tenure.
    check(
        "B",
        &[
            ("txn_count_7d", int(0)),
            ("txn_amount_7d", int(0)),
            ("avg_txn_amount_7d", None),
            ("max_txn_amount_7d", None),
            ("reversal_count_7d", int(1)),
            ("reversal_amount_7d", int(700)),
            ("tenure_days", None),
            ("idle_days", None),
            ("avg_daily_deposit_30d", int(0)),
            ("utilisation", None),
            ("worst_loan_class", None),
            ("margin_30d", None),
        ],
    );
    // C: one transaction on the leap day.
    check(
        "C",
        &[
            ("txn_count_7d", int(1)),
            ("avg_txn_amount_7d", int(1_234)),
            ("avg_txn_interval_days_7d", None),
            ("tenure_days", int(1)),
            ("idle_days", int(1)),
        ],
    );
    // D: no facts at all, a relationship start date from the master data.
    check(
        "D",
        &[
            ("txn_count_30d", int(0)),
            ("avg_txn_amount_30d", None),
            ("tenure_days", int(1_461)),
            ("contribution_30d", int(0)),
        ],
    );
}

#[test]
fn docs_indicators_documents_every_code_of_the_catalogue() {
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/indicators.md"),
    )
    .unwrap();
    for spec in kam_query::indicators::CATALOGUE {
        let row = format!("| `{}` | {} | {} |", spec.code, spec.zh, spec.en);
        assert!(doc.contains(&row), "docs/indicators.md lacks the row {row}");
    }
}

/// The customer-value months and the alerts' inputs on the same hand-made bank, plus a customer E
/// whose debits go to other banks, to this bank, to no named bank and back (a reversal).
#[tokio::test]
async fn monthly_contribution_and_alert_facts() {
    let dir = tempfile::tempdir().unwrap();
    write_facts(dir.path());
    let facts = FactWriter::new(dir.path());
    let to = |id: &str, direction: Direction, fen: i64, bank: &'static str, reversal: bool| {
        TransactionRow {
            counterparty_bank: bank.into(),
            ..txn(id, "E", direction, fen, reversal)
        }
    };
    let debit = Direction::Debit;
    for (date, row) in [
        ("2024-02-23", to("E1", debit, 1_000, "建设银行", false)),
        ("2024-02-24", to("E2", debit, 30_000, "工商银行", false)),
        ("2024-02-25", to("E3", debit, 500, "本行", false)),
        ("2024-02-26", to("E4", debit, 700, "", false)),
        ("2024-02-27", to("E5", debit, 900, "农业银行", true)),
        (
            "2024-03-01",
            to("E6", Direction::Credit, 2_000, "招商银行", false),
        ),
    ] {
        facts.write_day(day(date), "e", &[row]).unwrap();
    }
    let query = FactQuery::open(dir.path(), &["b1".to_owned(), "e".to_owned()])
        .await
        .unwrap();
    let customers: Vec<String> = ["A", "E"].map(String::from).to_vec();
    let own = ["本行".to_owned()];
    let request = IndicatorRequest {
        as_of: day("2024-03-01"),
        windows: &[30],
        customers: &customers,
        since: &BTreeMap::new(),
        currency: "CNY",
        spreads: Spreads::default(),
        months: 2,
        outflow_days: 7,
        own_banks: &own,
        loan_lookback_days: 30,
    };
    let computed = compute(&query, &request).await.unwrap();
    // March is not complete on 2024-03-01: the months are January and February.
    assert_eq!(computed.months, [day("2024-01-01"), day("2024-02-01")]);
    // January: only the loan snapshot of 01-31 (1,000,000 fen for one day of 31): average debt
    // 32,258, margin 32,258 × 2.5% × 31/365 = 68. February: fees 50,000; average deposit
    // (8 × 100,000 + 2 × 200,000) / 29 = 41,379, margin × 1.5% × 29/365 = 49; average debt
    // (28 × 1,000,000 + 900,000) / 29 = 996,552, margin × 2.5% × 29/365 = 1,979.
    assert_eq!(
        computed.monthly_contribution["A"],
        [68, 50_000 + 49 + 1_979]
    );
    assert_eq!(computed.monthly_contribution["E"], [0, 0]);
    // The same months' parts, for the 360's trends.
    let a = &computed.monthly_figures["A"];
    assert_eq!(
        (&a.deposit[..], &a.loan[..], &a.fees[..]),
        (&[0, 41_379][..], &[32_258, 996_552][..], &[0, 50_000][..])
    );
    assert_eq!(computed.monthly_figures["E"].deposit, [0, 0]);
    assert_eq!(
        computed.alert_facts["A"],
        AlertFacts {
            outflow: 0,
            prior_worst_loan_class: Some(1)
        }
    );
    // Only E2: E1 is 8 days back, E3 goes to this bank, E4 to no named bank, E5 is a reversal.
    assert_eq!(
        computed.alert_facts["E"],
        AlertFacts {
            outflow: 30_000,
            prior_worst_loan_class: None
        }
    );
    let idle: BTreeMap<&str, Option<Measure>> = computed
        .values
        .iter()
        .filter(|v| v.code == "idle_days")
        .map(|v| (v.cif_no.as_str(), v.value))
        .collect();
    assert_eq!(idle["A"], Some(Measure::Int(0)));
    assert_eq!(idle["E"], Some(Measure::Int(0)));
}

//! The DataFusion indicators against an independent, naive computation in plain Rust over the
//! same synthetic bank's facts, customer by customer: the two share no code but the catalogue.

use std::collections::{BTreeMap, HashMap};

use kam_facts::FactWriter;
use kam_query::{
    FactQuery,
    indicators::{IndicatorRequest, Measure, Spreads, compute, rounded_div},
};
use kam_synth::{Bank, Scale, SynthConfig};

#[derive(Debug, Default, Clone)]
struct Naive {
    count: i64,
    amount: i64,
    max: Option<i64>,
    reversals: i64,
    reversal_amount: i64,
    inflow_max: Option<i64>,
    /// Σ over the window's days of the customer's balances.
    deposit_days: i64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn datafusion_agrees_with_a_naive_computation_on_a_synthetic_bank() {
    let dir = tempfile::tempdir().unwrap();
    let mut bank = Bank::generate(SynthConfig::new(Scale::Tiny, 5).with_days(45));
    let as_of = bank.config.end;
    let windows = [7u32, 30];
    let writer = FactWriter::new(dir.path());
    let mut naive: HashMap<(String, u32), Naive> = HashMap::new();
    // Balances of each account on each day (the synthetic bank writes every account daily).
    let mut aum: HashMap<String, i64> = HashMap::new();
    for day in bank.facts() {
        crate::write_synthetic_day(&writer, "b", &day);
        let age = (as_of - day.date).num_days();
        for window in windows {
            if age >= i64::from(window) {
                continue;
            }
            for t in &day.transactions {
                let n = naive.entry((t.cif_no.clone(), window)).or_default();
                if t.reversal {
                    n.reversals += 1;
                    n.reversal_amount += t.amount_minor;
                } else {
                    n.count += 1;
                    n.amount += t.amount_minor;
                    n.max = n.max.max(Some(t.amount_minor));
                    if t.direction == kam_facts::Direction::Credit {
                        n.inflow_max = n.inflow_max.max(Some(t.amount_minor));
                    }
                }
            }
            for b in &day.balances {
                naive
                    .entry((b.cif_no.clone(), window))
                    .or_default()
                    .deposit_days += b.balance_minor;
            }
        }
        if day.date == as_of {
            for b in &day.balances {
                *aum.entry(b.cif_no.clone()).or_default() += b.balance_minor;
            }
        }
    }
    let customers = crate::customer_numbers(&bank);
    let query = FactQuery::open(dir.path(), &["b".to_owned()])
        .await
        .unwrap();
    let since = BTreeMap::new();
    let request = IndicatorRequest {
        as_of,
        windows: &windows,
        customers: &customers,
        since: &since,
        currency: "CNY",
        spreads: Spreads::default(),
        months: 0,
        outflow_days: 0,
        own_banks: &[],
        loan_lookback_days: 0,
    };
    let got = compute(&query, &request).await.unwrap().values;
    let mut checked = 0;
    let mut with_transactions = 0;
    for value in &got {
        let Some(window) = value.window_days else {
            if value.code == "aum" {
                let want = aum.get(&value.cif_no).copied().unwrap_or(0);
                assert_eq!(value.value, Some(Measure::Int(want)), "{}", value.cif_no);
                checked += 1;
            }
            continue;
        };
        let n = naive
            .get(&(value.cif_no.clone(), window))
            .cloned()
            .unwrap_or_default();
        let want = match value.code {
            "txn_count" => Some(Measure::Int(n.count)),
            "txn_amount" => Some(Measure::Int(n.amount)),
            "avg_txn_amount" => rounded_div(n.amount.into(), n.count.into()).map(Measure::Int),
            "max_txn_amount" => n.max.map(Measure::Int),
            "reversal_count" => Some(Measure::Int(n.reversals)),
            "reversal_amount" => Some(Measure::Int(n.reversal_amount)),
            "max_inflow" => n.inflow_max.map(Measure::Int),
            "avg_daily_deposit" => {
                rounded_div(n.deposit_days.into(), i128::from(window)).map(Measure::Int)
            }
            _ => continue,
        };
        if value.code == "txn_count" && n.count > 0 {
            with_transactions += 1;
        }
        assert_eq!(
            value.value, want,
            "{} {}_{window}d",
            value.cif_no, value.code
        );
        checked += 1;
    }
    // The comparison is not vacuous: many customers, many with transactions.
    assert!(customers.len() > 100, "{}", customers.len());
    assert!(with_transactions > 50, "{with_transactions}");
    assert!(checked > customers.len() * 10, "{checked}");
}

/// 时点余额 and 较上日 / 较上月 / 较年初 / 同比 against the balances of the synthetic bank's own rows,
/// over more than a year so that every comparison reaches facts; and empty, not a whole balance,
/// where the compared day is before the first extract.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn balances_on_the_date_and_their_comparisons_agree_with_the_rows() {
    use kam_core::indicator::{COMPARED, Comparison, change_code};
    let dir = tempfile::tempdir().unwrap();
    let mut bank = Bank::generate(SynthConfig::new(Scale::Tiny, 11).with_days(400));
    let as_of = bank.config.end;
    let writer = FactWriter::new(dir.path());
    // Per day and customer: (deposits, outstanding loans) as the rows say, on the days that count.
    let early = as_of - chrono::Duration::days(359);
    let mut days: Vec<chrono::NaiveDate> = Comparison::ALL.iter().map(|c| c.date(as_of)).collect();
    days.push(as_of);
    days.push(early);
    days.extend(Comparison::ALL.iter().map(|c| c.date(early)));
    let mut held: HashMap<(chrono::NaiveDate, String), (i64, i64)> = HashMap::new();
    let mut first = None;
    for day in bank.facts() {
        first.get_or_insert(day.date);
        crate::write_synthetic_day(&writer, "b", &day);
        if days.contains(&day.date) {
            for b in &day.balances {
                held.entry((day.date, b.cif_no.clone())).or_default().0 += b.balance_minor;
            }
            for l in &day.loans {
                held.entry((day.date, l.cif_no.clone())).or_default().1 += l.outstanding_minor;
            }
        }
    }
    let first = first.unwrap();
    let customers = crate::customer_numbers(&bank);
    let query = FactQuery::open(dir.path(), &["b".to_owned()])
        .await
        .unwrap();
    let since = BTreeMap::new();
    let mut checked = 0;
    let mut moved = 0;
    let mut empty = 0;
    for on in [as_of, early] {
        let request = IndicatorRequest {
            as_of: on,
            windows: &[30],
            customers: &customers,
            since: &since,
            currency: "CNY",
            spreads: Spreads::default(),
            months: 0,
            outflow_days: 0,
            own_banks: &[],
            loan_lookback_days: 0,
        };
        let got = compute(&query, &request).await.unwrap().values;
        let value = |cif: &str, code: &str| {
            got.iter()
                .find(|v| v.cif_no == cif && v.code == code)
                .unwrap_or_else(|| panic!("{cif} {code}"))
                .value
        };
        let figures = |date, cif: &str| {
            held.get(&(date, cif.to_owned()))
                .copied()
                .unwrap_or_default()
        };
        for cif in &customers {
            let now = figures(on, cif);
            assert_eq!(
                value(cif, "deposit_balance"),
                Some(Measure::Int(now.0)),
                "{cif} deposit_balance on {on}"
            );
            for comparison in Comparison::ALL {
                let then_day = comparison.date(on);
                let then = figures(then_day, cif);
                for figure in COMPARED {
                    let (a, b) = match figure {
                        "loan" => (now.1, then.1),
                        _ => (now.0, then.0),
                    };
                    let want = (then_day >= first).then_some(Measure::Int(a - b));
                    let code = change_code(figure, comparison);
                    assert_eq!(value(cif, code), want, "{cif} {code} on {on}");
                    checked += 1;
                    if want.is_some_and(|w| w != Measure::Int(0)) {
                        moved += 1;
                    }
                    if want.is_none() {
                        empty += 1;
                    }
                }
            }
        }
    }
    // Not vacuous: balances moved, and the early date's year-ago comparisons are empty.
    assert!(moved > customers.len(), "{moved}");
    assert!(empty >= customers.len() * 3, "{empty}");
    assert!(checked > customers.len() * 20, "{checked}");
}

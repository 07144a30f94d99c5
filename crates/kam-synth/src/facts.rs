//! The daily facts of the synthetic bank, generated one day at a time.

use chrono::{Datelike, NaiveDate, Weekday};
use kam_facts::{BalanceRow, Direction, FeeRow, LoanRow, TransactionRow};
use rand::{Rng, seq::IndexedRandom};
use rand_distr::{Distribution, LogNormal, Poisson};

use crate::{
    bank::{Bank, Story},
    names,
};

/// Everything that happened on one business date.
#[derive(Debug, Clone, Default)]
pub struct DayFacts {
    pub date: NaiveDate,
    pub balances: Vec<BalanceRow>,
    pub transactions: Vec<TransactionRow>,
    pub loans: Vec<LoanRow>,
    pub fees: Vec<FeeRow>,
}

impl DayFacts {
    pub fn row_count(&self) -> usize {
        self.balances.len() + self.transactions.len() + self.loans.len() + self.fees.len()
    }
}

/// Iterates the days from the config's start to its end, evolving the bank's accounts.
#[derive(Debug)]
pub struct FactStream<'a> {
    bank: &'a mut Bank,
    day: usize,
    days: usize,
}

impl Bank {
    /// The fact stream; when it is exhausted, the bank's accounts hold their end-date state.
    pub fn facts(&mut self) -> FactStream<'_> {
        let days = self.config.days;
        FactStream {
            bank: self,
            day: 0,
            days,
        }
    }
}

const CNY: &str = "CNY";

fn loan_class(overdue_days: i32) -> &'static str {
    match overdue_days {
        0 => "pass",
        1..=90 => "special_mention",
        91..=180 => "substandard",
        181..=360 => "doubtful",
        _ => "loss",
    }
}

impl Iterator for FactStream<'_> {
    type Item = DayFacts;

    fn next(&mut self) -> Option<DayFacts> {
        if self.day >= self.days {
            return None;
        }
        let day = self.day;
        self.day += 1;
        let days = self.days;
        let date = self.bank.config.start() + chrono::Days::new(day as u64);
        let weekend = matches!(date.weekday(), Weekday::Sat | Weekday::Sun);
        let bank = &mut *self.bank;
        let rng = &mut bank.rng;
        let mut facts = DayFacts {
            date,
            ..DayFacts::default()
        };
        let mut txn_seq = 0u32;
        let mut next_txn_id = || {
            txn_seq += 1;
            format!("T{}{:08}", date.format("%Y%m%d"), txn_seq)
        };
        let amount_share = LogNormal::new((0.04f64).ln(), 0.9).expect("valid");

        for account in &mut bank.deposits {
            let progress = day as f64 / days as f64;
            let after_story = day >= account.story_day;
            let target = account.target_yuan
                * match account.story {
                    Story::Growing => 1.0 + 0.9 * progress,
                    Story::Draining if after_story => {
                        (1.0 - (day - account.story_day) as f64 / 45.0).max(0.03)
                    }
                    _ => 1.0 + 0.08 * (progress * std::f64::consts::TAU * 2.0).sin(),
                };
            let quiet = account.story == Story::Dormant && after_story;
            let rate = if quiet {
                0.0
            } else if weekend && account.corporate {
                account.txn_rate * 0.2
            } else {
                account.txn_rate
            };
            let count = if rate > 0.0 {
                Poisson::new(rate).expect("positive rate").sample(rng) as usize
            } else {
                0
            };
            for _ in 0..count {
                let balance_yuan = account.balance_minor as f64 / 100.0;
                // Mean reversion toward the (story-bent) target: below it, money tends to come in.
                let gap = ((target - balance_yuan) / target.max(1.0)).clamp(-1.0, 1.0);
                let draining = account.story == Story::Draining && after_story;
                let p_credit = if draining {
                    0.15
                } else {
                    (0.5 + 0.45 * gap).clamp(0.05, 0.95)
                };
                let direction = if rng.random_bool(p_credit) {
                    Direction::Credit
                } else {
                    Direction::Debit
                };
                let share = if draining && direction == Direction::Debit {
                    0.25
                } else {
                    amount_share.sample(rng).min(0.8)
                };
                let mut amount = ((target * share) * 100.0).round() as i64;
                if direction == Direction::Debit {
                    amount = amount.min(account.balance_minor);
                }
                if amount < 100 {
                    continue;
                }
                let bank_name =
                    if draining && direction == Direction::Debit || rng.random_bool(0.55) {
                        *names::OTHER_BANKS.choose(rng).expect("banks")
                    } else {
                        names::OWN_BANK
                    };
                let channel = if account.corporate {
                    *["ebank", "host_to_host", "counter", "ebank"]
                        .choose(rng)
                        .expect("channels")
                } else {
                    *["mobile", "mobile", "pos", "atm", "counter", "ebank"]
                        .choose(rng)
                        .expect("channels")
                };
                let txn_id = next_txn_id();
                let counterparty = bank
                    .counterparties
                    .choose(rng)
                    .expect("counterparties")
                    .clone();
                account.balance_minor += if direction == Direction::Credit {
                    amount
                } else {
                    -amount
                };
                let reversed = rng.random_bool(0.004);
                facts.transactions.push(TransactionRow {
                    txn_id: txn_id.clone(),
                    account_no: account.account_no.clone(),
                    cif_no: account.cif_no.clone(),
                    direction,
                    amount_minor: amount,
                    currency: CNY.into(),
                    channel: channel.into(),
                    counterparty_name: counterparty.clone(),
                    counterparty_bank: bank_name.into(),
                    reversal: false,
                    reverses_txn_id: None,
                });
                if reversed {
                    // A 退货 (a return): the same amount back the other way, pointing at the original.
                    let back = if direction == Direction::Credit {
                        Direction::Debit
                    } else {
                        Direction::Credit
                    };
                    account.balance_minor += if back == Direction::Credit {
                        amount
                    } else {
                        -amount
                    };
                    facts.transactions.push(TransactionRow {
                        txn_id: next_txn_id(),
                        account_no: account.account_no.clone(),
                        cif_no: account.cif_no.clone(),
                        direction: back,
                        amount_minor: amount,
                        currency: CNY.into(),
                        channel: channel.into(),
                        counterparty_name: counterparty,
                        counterparty_bank: bank_name.into(),
                        reversal: true,
                        reverses_txn_id: Some(txn_id),
                    });
                }
            }
            let fee_chance = if account.corporate { 0.06 } else { 0.004 };
            if !quiet && rng.random_bool(fee_chance) {
                let fee = ((target * 0.0004 * amount_share.sample(rng) * 25.0) * 100.0)
                    .round()
                    .clamp(100.0, 5.0e8) as i64;
                let code = if account.corporate {
                    *[
                        "settlement_fee",
                        "cash_mgmt_fee",
                        "advisory_fee",
                        "guarantee_fee",
                    ]
                    .choose(rng)
                    .expect("codes")
                } else {
                    *["wealth_fee", "card_fee"].choose(rng).expect("codes")
                };
                facts.fees.push(FeeRow {
                    cif_no: account.cif_no.clone(),
                    fee_code: code.into(),
                    amount_minor: fee,
                    currency: CNY.into(),
                });
            }
        }

        // Salaries on the 10th: one batch debit per employer, one credit per employee.
        if date.day() == 10 {
            for link in &bank.payroll {
                let total: i64 = link
                    .employee_accounts
                    .iter()
                    .map(|(_, amount)| amount)
                    .sum();
                let employer = &mut bank.deposits[link.employer_account];
                let employer_cif = employer.cif_no.clone();
                if employer.balance_minor < total {
                    // A corporate deposit cannot go negative: the employer first moves funds in.
                    let top_up = total - employer.balance_minor;
                    employer.balance_minor += top_up;
                    facts.transactions.push(TransactionRow {
                        txn_id: next_txn_id(),
                        account_no: employer.account_no.clone(),
                        cif_no: employer_cif.clone(),
                        direction: Direction::Credit,
                        amount_minor: top_up,
                        currency: CNY.into(),
                        channel: "ebank".into(),
                        counterparty_name: "资金归集".into(),
                        counterparty_bank: names::OWN_BANK.into(),
                        reversal: false,
                        reverses_txn_id: None,
                    });
                }
                employer.balance_minor -= total;
                let employer_name = format!("代发工资 {}", employer.account_no);
                facts.transactions.push(TransactionRow {
                    txn_id: next_txn_id(),
                    account_no: employer.account_no.clone(),
                    cif_no: employer_cif.clone(),
                    direction: Direction::Debit,
                    amount_minor: total,
                    currency: CNY.into(),
                    channel: "batch".into(),
                    counterparty_name: "代发工资".into(),
                    counterparty_bank: names::OWN_BANK.into(),
                    reversal: false,
                    reverses_txn_id: None,
                });
                for (employee, amount) in &link.employee_accounts {
                    let account = &mut bank.deposits[*employee];
                    account.balance_minor += amount;
                    facts.transactions.push(TransactionRow {
                        txn_id: next_txn_id(),
                        account_no: account.account_no.clone(),
                        cif_no: account.cif_no.clone(),
                        direction: Direction::Credit,
                        amount_minor: *amount,
                        currency: CNY.into(),
                        channel: "batch".into(),
                        counterparty_name: employer_name.clone(),
                        counterparty_bank: names::OWN_BANK.into(),
                        reversal: false,
                        reverses_txn_id: None,
                    });
                }
            }
        }

        facts.balances = bank
            .deposits
            .iter()
            .map(|a| BalanceRow {
                account_no: a.account_no.clone(),
                cif_no: a.cif_no.clone(),
                currency: CNY.into(),
                balance_minor: a.balance_minor,
            })
            .collect();

        for loan in &mut bank.loans {
            let defaulted = loan.default_day.is_some_and(|d| day >= d);
            if defaulted {
                loan.overdue_days += 1;
                if date.day() == 1 {
                    loan.overdue_principal_minor = (loan.overdue_principal_minor
                        + loan.installment_minor)
                        .min(loan.outstanding_minor);
                }
            } else if date.day() == 1 {
                loan.outstanding_minor = (loan.outstanding_minor - loan.installment_minor).max(0);
                if loan.outstanding_minor < loan.limit_minor / 4 && rng.random_bool(0.5) {
                    // A new drawdown on the facility.
                    loan.outstanding_minor = loan.limit_minor * 7 / 10;
                    loan.installment_minor = loan.outstanding_minor / 36;
                }
            }
            facts.loans.push(LoanRow {
                loan_no: loan.loan_no.clone(),
                cif_no: loan.cif_no.clone(),
                currency: CNY.into(),
                outstanding_minor: loan.outstanding_minor,
                overdue_principal_minor: loan.overdue_principal_minor,
                overdue_days: loan.overdue_days,
                loan_class: loan_class(loan.overdue_days).into(),
                credit_limit_minor: loan.limit_minor,
            });
        }
        Some(facts)
    }
}

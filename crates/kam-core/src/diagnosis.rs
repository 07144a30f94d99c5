//! One batch date's classifications for every customer, from the rules, the indicator values and
//! what the store knows: the month's tier step, retail tier, account types, key account, customer
//! value, the scoring board and the alert findings. Pure, so the batch is wiring and every result
//! can be tested without a database.

use crate::{
    alert::{AlertInput, Finding, evaluate},
    classes::{RetailTier, account_types, economic, is_key_account},
    customer::{AccountType, CustomerKind},
    rules::{Rules, TierRule},
    scoring::{Candidate, Source},
    tier::{TierMove, TierState, monthly_step},
    value::{Trend, slope, trend, value_scores},
};

/// What the batch knows of one customer besides its indicator values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    pub cif_no: String,
    pub name: String,
    pub kind: CustomerKind,
    pub flagged: AccountType,
    pub group_member: bool,
    pub has_lead_rm: bool,
    /// Last month's tier, where there was one.
    pub previous: Option<TierState>,
    /// The contribution of each month of the customer-value series, oldest first.
    pub monthly_contribution: Vec<i64>,
    /// Debits to other banks over the outflow rule's days, fen.
    pub outflow: i64,
    pub prior_worst_loan_class: Option<i64>,
    /// Days from the last logged visit to the batch date; `None`: never visited.
    pub days_since_visit: Option<i64>,
    /// Days since the longest-unmoved open opportunity last moved; `None`: none open.
    pub stalled_days: Option<i64>,
}

/// One customer's results, in the order of the subjects.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnosis {
    pub state: TierState,
    pub movement: TierMove,
    /// The tier the value earns this month on its own (0 best).
    pub measured: usize,
    /// The tier rule's indicator value.
    pub tier_value: Option<i64>,
    pub retail_tier: Option<RetailTier>,
    pub retail_value: Option<i64>,
    pub account_types: Vec<AccountType>,
    pub key_account: bool,
    pub value_total: i64,
    pub value_slope: Option<f64>,
    pub value_trend: Trend,
    pub value_score: u8,
    /// For a board candidate: a score per criterion, the total, the board's average and ★.
    pub board: Option<BoardResult>,
    pub findings: Vec<Finding>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BoardResult {
    pub scores: Vec<Option<u8>>,
    pub total: i64,
    pub average: Option<f64>,
    pub starred: bool,
}

impl Rules {
    /// The tier rule of a customer's kind.
    pub fn tier_rule(&self, kind: CustomerKind) -> &TierRule {
        match kind {
            CustomerKind::Individual => &self.retail,
            CustomerKind::Corporate => &self.corporate,
        }
    }
}

/// Every customer's results. `value(cif, code, window)` gives an integer indicator value;
/// `manual(cif, criterion)` a score entered on the board.
pub fn diagnose(
    rules: &Rules,
    subjects: &[Subject],
    value: impl Fn(&str, &str, Option<u32>) -> Option<i64>,
    manual: impl Fn(&str, &str) -> Option<u8>,
) -> Vec<Diagnosis> {
    // The economic rank is among corporates only.
    let rank = &rules.account_types;
    let corporate: Vec<usize> = (0..subjects.len())
        .filter(|&i| subjects[i].kind == CustomerKind::Corporate)
        .collect();
    let ranked: Vec<Option<i64>> = corporate
        .iter()
        .map(|&i| value(&subjects[i].cif_no, rank.indicator.code, rank.window))
        .collect();
    let mut is_economic = vec![false; subjects.len()];
    for (&i, flag) in corporate.iter().zip(economic(&ranked, rank.top_percent)) {
        is_economic[i] = flag;
    }
    // Value scores rank within each kind.
    let totals: Vec<i64> = subjects
        .iter()
        .map(|s| s.monthly_contribution.iter().sum())
        .collect();
    let mut scores = vec![0u8; subjects.len()];
    for kind in [CustomerKind::Corporate, CustomerKind::Individual] {
        let members: Vec<usize> = (0..subjects.len())
            .filter(|&i| subjects[i].kind == kind)
            .collect();
        let population: Vec<i64> = members.iter().map(|&i| totals[i]).collect();
        for (&i, score) in members.iter().zip(value_scores(&population)) {
            scores[i] = score;
        }
    }
    let drop = &rules.alerts.deposit_drop;
    let mut out: Vec<Diagnosis> = subjects
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let rule = rules.tier_rule(s.kind);
            let tier_value = value(&s.cif_no, rule.indicator.code, rule.window);
            let measured = rule.scale.measure(tier_value);
            let (state, movement) = monthly_step(s.previous, measured, rules.watch_months);
            let types = account_types(s.flagged, s.group_member, is_economic[i]);
            let key_account = is_key_account(state.tier, rules.key_account_tiers, &types);
            let (retail_tier, retail_value) = if s.kind == CustomerKind::Individual {
                let r = &rules.retail_tiers;
                let v = value(&s.cif_no, r.indicator.code, r.window);
                (r.measure(v), v)
            } else {
                (None, None)
            };
            let input = AlertInput {
                tier: state.tier,
                key_account,
                corporate: s.kind == CustomerKind::Corporate,
                recent_deposit: value(&s.cif_no, "avg_daily_deposit", Some(drop.recent_days)),
                baseline_deposit: value(&s.cif_no, "avg_daily_deposit", Some(drop.baseline_days)),
                outflow: s.outflow,
                idle_days: value(&s.cif_no, "idle_days", None),
                worst_loan_class: value(&s.cif_no, "worst_loan_class", None),
                prior_worst_loan_class: s.prior_worst_loan_class,
                has_lead_rm: s.has_lead_rm,
                days_since_visit: s.days_since_visit,
                stalled_days: s.stalled_days,
            };
            Diagnosis {
                state,
                movement,
                measured,
                tier_value,
                retail_tier,
                retail_value,
                account_types: types,
                key_account,
                value_total: totals[i],
                value_slope: slope(&s.monthly_contribution),
                value_trend: trend(
                    &s.monthly_contribution,
                    f64::from(rules.customer_value.trend_percent),
                ),
                value_score: scores[i],
                board: None,
                findings: evaluate(&rules.alerts, &input),
            }
        })
        .collect();
    // The board's candidates: corporate key accounts; the average is theirs.
    let board = &rules.scoring;
    let candidates: Vec<usize> = (0..subjects.len())
        .filter(|&i| subjects[i].kind == CustomerKind::Corporate && out[i].key_account)
        .collect();
    let columns: Vec<Candidate> = candidates
        .iter()
        .map(|&i| {
            let s = &subjects[i];
            Candidate {
                cif_no: s.cif_no.clone(),
                name: s.name.clone(),
                scores: board
                    .criteria
                    .iter()
                    .map(|c| match &c.source {
                        Source::Manual => manual(&s.cif_no, &c.code),
                        Source::Indicator {
                            indicator, window, ..
                        } => c.score(value(&s.cif_no, indicator.code, *window)),
                    })
                    .collect(),
            }
        })
        .collect();
    let outcome = board.evaluate(&columns);
    for ((&i, column), scored) in candidates.iter().zip(columns).zip(outcome.scored) {
        out[i].board = Some(BoardResult {
            scores: column.scores,
            total: scored.total,
            average: outcome.average,
            starred: scored.starred,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::{alert::AlertKind, value::Trend};

    fn subject(cif: &str, kind: CustomerKind) -> Subject {
        Subject {
            cif_no: cif.into(),
            name: cif.into(),
            kind,
            flagged: AccountType::Ordinary,
            group_member: false,
            has_lead_rm: true,
            previous: None,
            monthly_contribution: vec![100; 12],
            outflow: 0,
            prior_worst_loan_class: None,
            days_since_visit: Some(1),
            stalled_days: None,
        }
    }

    #[test]
    fn a_small_bank_is_classified_and_explained() {
        let rules = Rules::builtin();
        let yuan = |y: i64| y * 100;
        let values: HashMap<(&str, &str, Option<u32>), i64> = HashMap::from([
            // A: 60M yuan average deposit over 90 days → tier 1, a key account without a lead RM.
            (("A", "avg_daily_deposit", Some(90)), yuan(60_000_000)),
            (("A", "avg_daily_deposit", Some(30)), yuan(60_000_000)),
            (("A", "contribution", Some(365)), yuan(900_000)),
            (("A", "idle_days", None), 1),
            // B: 2M yuan → tier 3; its deposit fell by half in the last 30 days.
            (("B", "avg_daily_deposit", Some(90)), yuan(2_000_000)),
            (("B", "avg_daily_deposit", Some(30)), yuan(1_000_000)),
            (("B", "contribution", Some(365)), yuan(30_000)),
            // C: a flagged strategic customer with a small deposit.
            (("C", "avg_daily_deposit", Some(90)), yuan(50_000)),
            (("C", "contribution", Some(365)), yuan(500)),
            // P: a retail customer with 1.2M yuan average AUM.
            (("P", "avg_aum", Some(30)), yuan(1_200_000)),
            (("P", "contribution", Some(365)), yuan(16_000)),
        ]);
        let subjects = vec![
            Subject {
                has_lead_rm: false,
                monthly_contribution: (1..=12).map(|m| m * 1_000).collect(),
                ..subject("A", CustomerKind::Corporate)
            },
            subject("B", CustomerKind::Corporate),
            Subject {
                flagged: AccountType::Strategic,
                previous: Some(TierState {
                    tier: 0,
                    months_below: 0,
                }),
                ..subject("C", CustomerKind::Corporate)
            },
            subject("P", CustomerKind::Individual),
        ];
        let got = diagnose(
            &rules,
            &subjects,
            |cif, code, window| values.get(&(cif, code, window)).copied(),
            |cif, criterion| (cif == "A" && criterion == "relationship").then_some(9),
        );
        let a = &got[0];
        assert_eq!((a.state.tier, a.movement), (0, TierMove::New));
        // The top 10% of 3 corporates by contribution is one: A.
        assert_eq!(a.account_types, [AccountType::Economic]);
        assert!(a.key_account);
        assert_eq!(a.value_trend, Trend::Rising);
        assert_eq!(a.value_score, 100);
        assert_eq!(
            a.findings.iter().map(|f| f.kind).collect::<Vec<_>>(),
            [AlertKind::NoLeadRm]
        );
        let b = &got[1];
        assert_eq!(b.state.tier, 2);
        assert!(!b.key_account && b.board.is_none());
        assert_eq!(
            b.findings.iter().map(|f| f.kind).collect::<Vec<_>>(),
            [AlertKind::DepositDrop]
        );
        // C measures tier 5 but was tier 1: one month below, not yet on watch; strategic.
        let c = &got[2];
        assert_eq!(
            (c.state.tier, c.measured, c.movement),
            (0, 4, TierMove::Below { months: 1 })
        );
        assert_eq!(c.account_types, [AccountType::Strategic]);
        let p = &got[3];
        assert_eq!(p.retail_tier, Some(RetailTier::Wealth));
        // 16,000 yuan of contribution: 较高价值 (tier 2) of the retail scale.
        assert_eq!(p.state.tier, 1);
        assert!(p.board.is_none(), "the board is for corporates");
        // The board: A and C are the candidates. A: relationship 9, scale 9, contribution 7,
        // credit 9 (no loans) = 34; C: scale 1, contribution 1, credit 9 = 11; average 22.5.
        let board_a = a.board.as_ref().unwrap();
        assert_eq!(
            board_a.scores,
            [Some(9), None, Some(9), Some(7), Some(9), None]
        );
        assert_eq!((board_a.total, board_a.starred), (34, true));
        let board_c = c.board.as_ref().unwrap();
        assert_eq!((board_c.total, board_c.starred), (11, false));
        assert_eq!(board_c.average, Some(22.5));
    }
}

//! Alert rules (预警): what makes the batch raise an alert for a customer on a date, with thresholds
//! per tier and the evidence that explains it. Pure: the batch supplies the inputs; the store keeps
//! each alert open from the night it is raised until someone handles it or its condition clears,
//! so an alert is raised once, not every night.

crate::code_enum! {
    /// Where an alert is: raised and open, handled by someone (stays handled), or resolved by the
    /// batch when its condition no longer holds.
    pub enum AlertStatus as "alert_status" {
        Open = "open",
        Handled = "handled",
        Resolved = "resolved",
    }
}

/// The kinds of alert, in the order the inbox lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AlertKind {
    /// 存款下降: the recent average daily deposit fell against the customer's own baseline.
    DepositDrop,
    /// 资金外流: debits to other banks in the last days are a large share of the balance.
    Outflow,
    /// 睡眠客户: no transaction for many days.
    Dormant,
    /// 贷款分类下调: the worst loan class is worse than it was.
    LoanClass,
    /// 无主办客户经理: a key account without a lead RM.
    NoLeadRm,
}

impl AlertKind {
    pub const ALL: [AlertKind; 5] = [
        AlertKind::DepositDrop,
        AlertKind::Outflow,
        AlertKind::Dormant,
        AlertKind::LoanClass,
        AlertKind::NoLeadRm,
    ];

    pub fn code(self) -> &'static str {
        match self {
            AlertKind::DepositDrop => "deposit_drop",
            AlertKind::Outflow => "outflow",
            AlertKind::Dormant => "dormant",
            AlertKind::LoanClass => "loan_class",
            AlertKind::NoLeadRm => "no_lead_rm",
        }
    }

    pub fn parse(code: &str) -> Result<Self, crate::ParseError> {
        Self::ALL
            .into_iter()
            .find(|k| k.code() == code)
            .ok_or_else(|| {
                let codes: Vec<&str> = Self::ALL.iter().map(|k| k.code()).collect();
                crate::ParseError::not_one_of("alert_kind", code, &codes)
            })
    }

    pub fn zh(self) -> &'static str {
        match self {
            AlertKind::DepositDrop => "存款下降",
            AlertKind::Outflow => "资金流向他行",
            AlertKind::Dormant => "长期无交易",
            AlertKind::LoanClass => "贷款分类下调",
            AlertKind::NoLeadRm => "重点客户无主办客户经理",
        }
    }

    pub fn en(self) -> &'static str {
        match self {
            AlertKind::DepositDrop => "deposit drop",
            AlertKind::Outflow => "money moving to other banks",
            AlertKind::Dormant => "dormant",
            AlertKind::LoanClass => "loan class worsened",
            AlertKind::NoLeadRm => "key account without a lead RM",
        }
    }
}

/// The thresholds, one per tier (index 0 = tier 1) where they differ by tier. Money in fen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertRules {
    pub deposit_drop: DepositDropRule,
    pub outflow: OutflowRule,
    pub dormant_days: [i64; 5],
    /// The worst loan class is compared with the one this many days earlier.
    pub loan_class_lookback_days: u32,
    pub no_lead_rm: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepositDropRule {
    /// The recent window (30) and the baseline window (90) of `avg_daily_deposit`.
    pub recent_days: u32,
    pub baseline_days: u32,
    /// More than this percent down …
    pub percent: [i64; 5],
    /// … and more than this many fen down.
    pub fen: [i64; 5],
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutflowRule {
    pub days: u32,
    /// Debits to other banks above this percent of the baseline average daily deposit.
    pub percent: [i64; 5],
    /// Counterparty bank names that are this bank (a transfer to them is not an outflow).
    pub own_bank: Vec<String>,
}

/// What the batch knows of one customer on the date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AlertInput {
    /// The customer's five-tier tier, 0 (best) to 4.
    pub tier: usize,
    pub key_account: bool,
    pub recent_deposit: Option<i64>,
    pub baseline_deposit: Option<i64>,
    /// Non-reversed debits to other banks in the outflow window, fen.
    pub outflow: i64,
    /// Days since the last transaction; `None` if the customer never transacted.
    pub idle_days: Option<i64>,
    /// 1 pass … 5 loss; `None` without loans.
    pub worst_loan_class: Option<i64>,
    pub prior_worst_loan_class: Option<i64>,
    pub has_lead_rm: bool,
}

/// One alert condition that holds, with its explanation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub kind: AlertKind,
    /// The inputs, `name=value` joined by `; ` (money in fen).
    pub evidence: String,
    /// The thresholds that applied, same form.
    pub thresholds: String,
}

const CLASS_ZH: [&str; 5] = ["正常", "关注", "次级", "可疑", "损失"];

/// Every alert condition that holds for one customer.
pub fn evaluate(rules: &AlertRules, input: &AlertInput) -> Vec<Finding> {
    let tier = input.tier.min(4);
    let mut out = Vec::new();
    let drop = &rules.deposit_drop;
    if let (Some(recent), Some(baseline)) = (input.recent_deposit, input.baseline_deposit) {
        let fell = baseline - recent;
        // Exact: fell / baseline > percent / 100, in integers.
        if baseline > 0
            && i128::from(fell) * 100 > i128::from(drop.percent[tier]) * i128::from(baseline)
            && fell > drop.fen[tier]
        {
            out.push(Finding {
                kind: AlertKind::DepositDrop,
                evidence: format!(
                    "avg_daily_deposit_{}d={recent}; avg_daily_deposit_{}d={baseline}; drop={fell}",
                    drop.recent_days, drop.baseline_days
                ),
                thresholds: format!(
                    "tier={}; drop_percent>{}; drop_fen>{}",
                    tier + 1,
                    drop.percent[tier],
                    drop.fen[tier]
                ),
            });
        }
    }
    let flow = &rules.outflow;
    if let Some(baseline) = input.baseline_deposit
        && baseline > 0
        && i128::from(input.outflow) * 100 > i128::from(flow.percent[tier]) * i128::from(baseline)
    {
        out.push(Finding {
            kind: AlertKind::Outflow,
            evidence: format!(
                "outflow_other_banks_{}d={}; avg_daily_deposit_{}d={baseline}",
                flow.days, input.outflow, drop.baseline_days
            ),
            thresholds: format!("tier={}; outflow_percent>{}", tier + 1, flow.percent[tier]),
        });
    }
    if let Some(idle) = input.idle_days
        && idle >= rules.dormant_days[tier]
    {
        out.push(Finding {
            kind: AlertKind::Dormant,
            evidence: format!("idle_days={idle}"),
            thresholds: format!("tier={}; idle_days>={}", tier + 1, rules.dormant_days[tier]),
        });
    }
    if let Some(now) = input.worst_loan_class {
        let before = input.prior_worst_loan_class.unwrap_or(1);
        if now > before {
            let name = |class: i64| {
                usize::try_from(class - 1)
                    .ok()
                    .and_then(|i| CLASS_ZH.get(i))
                    .copied()
                    .unwrap_or("?")
            };
            out.push(Finding {
                kind: AlertKind::LoanClass,
                evidence: format!(
                    "worst_loan_class={now}({}); {}_days_before={before}({})",
                    name(now),
                    rules.loan_class_lookback_days,
                    name(before)
                ),
                thresholds: format!("lookback_days={}", rules.loan_class_lookback_days),
            });
        }
    }
    if rules.no_lead_rm && input.key_account && !input.has_lead_rm {
        out.push(Finding {
            kind: AlertKind::NoLeadRm,
            evidence: format!("key_account=true; tier={}; lead_rm=none", tier + 1),
            thresholds: "key accounts need a lead RM".to_owned(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yuan(y: i64) -> i64 {
        y * 100
    }

    fn rules() -> AlertRules {
        AlertRules {
            deposit_drop: DepositDropRule {
                recent_days: 30,
                baseline_days: 90,
                percent: [20, 20, 30, 30, 40],
                fen: [100_000, 50_000, 10_000, 5_000, 1_000].map(yuan),
            },
            outflow: OutflowRule {
                days: 7,
                percent: [30, 30, 40, 50, 50],
                own_bank: vec!["本行".into()],
            },
            dormant_days: [30, 30, 60, 90, 180],
            loan_class_lookback_days: 30,
            no_lead_rm: true,
        }
    }

    fn kinds(input: &AlertInput) -> Vec<AlertKind> {
        evaluate(&rules(), input).iter().map(|f| f.kind).collect()
    }

    #[test]
    fn a_deposit_drop_needs_both_the_percent_and_the_amount() {
        let base = AlertInput {
            tier: 0,
            baseline_deposit: Some(yuan(1_000_000)),
            ..AlertInput::default()
        };
        // 21% and 210,000 yuan down: both bars passed.
        let fell = AlertInput {
            recent_deposit: Some(yuan(790_000)),
            ..base
        };
        assert_eq!(kinds(&fell), [AlertKind::DepositDrop]);
        let finding = &evaluate(&rules(), &fell)[0];
        assert_eq!(
            finding.evidence,
            "avg_daily_deposit_30d=79000000; avg_daily_deposit_90d=100000000; drop=21000000"
        );
        assert_eq!(
            finding.thresholds,
            "tier=1; drop_percent>20; drop_fen>10000000"
        );
        // Exactly 20% is not more than 20%.
        let at_bar = AlertInput {
            recent_deposit: Some(yuan(800_000)),
            ..base
        };
        assert!(kinds(&at_bar).is_empty());
        // 50% down but only 50,000 yuan: a small customer of tier 1's bar is not alerted.
        let small = AlertInput {
            recent_deposit: Some(yuan(50_000)),
            baseline_deposit: Some(yuan(100_000)),
            ..base
        };
        assert!(kinds(&small).is_empty());
        // The same for a tier-5 customer passes its own, lower bar.
        assert_eq!(
            kinds(&AlertInput { tier: 4, ..small }),
            [AlertKind::DepositDrop]
        );
    }

    #[test]
    fn outflow_dormant_loan_class_and_lead_rm() {
        let input = AlertInput {
            tier: 1,
            key_account: true,
            baseline_deposit: Some(yuan(1_000)),
            recent_deposit: Some(yuan(1_000)),
            outflow: yuan(301),
            idle_days: Some(30),
            worst_loan_class: Some(3),
            prior_worst_loan_class: Some(2),
            has_lead_rm: false,
        };
        assert_eq!(
            kinds(&input),
            [
                AlertKind::Outflow,
                AlertKind::Dormant,
                AlertKind::LoanClass,
                AlertKind::NoLeadRm
            ]
        );
        let calm = AlertInput {
            outflow: yuan(300),
            idle_days: Some(29),
            worst_loan_class: Some(2),
            has_lead_rm: true,
            ..input
        };
        assert!(kinds(&calm).is_empty());
        let loan = evaluate(&rules(), &input)
            .into_iter()
            .find(|f| f.kind == AlertKind::LoanClass)
            .unwrap();
        assert_eq!(
            loan.evidence,
            "worst_loan_class=3(次级); 30_days_before=2(关注)"
        );
        // A new loan already below pass counts as worse than pass.
        let new_bad = AlertInput {
            worst_loan_class: Some(2),
            prior_worst_loan_class: None,
            ..calm
        };
        assert_eq!(kinds(&new_bad), [AlertKind::LoanClass]);
    }

    #[test]
    fn codes_round_trip() {
        for kind in AlertKind::ALL {
            assert_eq!(AlertKind::parse(kind.code()), Ok(kind));
        }
        assert!(AlertKind::parse("deposit-drop").is_err());
        for status in AlertStatus::ALL {
            assert_eq!(AlertStatus::parse(status.as_str()), Ok(*status));
        }
    }
}

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
    /// 贷款分类下调或不良: the worst loan class is worse than it was, or at or below the rule's
    /// holding class (次级 and worse: non-performing) while it stays there.
    LoanClass,
    /// 无主办客户经理: a key account without a lead RM.
    NoLeadRm,
    /// 未按期拜访: a corporate key account not visited within its tier's contact interval (or
    /// never).
    NotVisited,
    /// 商机停滞: an open opportunity of the customer has not moved for longer than the bar.
    StuckOpportunity,
}

impl AlertKind {
    pub const ALL: [AlertKind; 7] = [
        AlertKind::DepositDrop,
        AlertKind::Outflow,
        AlertKind::Dormant,
        AlertKind::LoanClass,
        AlertKind::NoLeadRm,
        AlertKind::NotVisited,
        AlertKind::StuckOpportunity,
    ];

    pub fn code(self) -> &'static str {
        match self {
            AlertKind::DepositDrop => "deposit_drop",
            AlertKind::Outflow => "outflow",
            AlertKind::Dormant => "dormant",
            AlertKind::LoanClass => "loan_class",
            AlertKind::NoLeadRm => "no_lead_rm",
            AlertKind::NotVisited => "not_visited",
            AlertKind::StuckOpportunity => "stuck_opportunity",
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
            AlertKind::LoanClass => "贷款分类下调或不良",
            AlertKind::NoLeadRm => "重点客户无主办客户经理",
            AlertKind::NotVisited => "重点客户未按期拜访",
            AlertKind::StuckOpportunity => "商机停滞",
        }
    }

    pub fn en(self) -> &'static str {
        match self {
            AlertKind::DepositDrop => "deposit drop",
            AlertKind::Outflow => "money moving to other banks",
            AlertKind::Dormant => "dormant",
            AlertKind::LoanClass => "loan class worsened or non-performing",
            AlertKind::NoLeadRm => "key account without a lead RM",
            AlertKind::NotVisited => "key account not visited in time",
            AlertKind::StuckOpportunity => "opportunity stuck",
        }
    }
}

/// The thresholds, one per tier (index 0 = tier 1) where they differ by tier. Money in fen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertRules {
    pub deposit_drop: DepositDropRule,
    pub outflow: OutflowRule,
    pub dormant_days: [i64; 5],
    pub loan_class: LoanClassRule,
    pub no_lead_rm: bool,
    /// The days a key account may go without a logged visit, per tier (the contact rule's
    /// intervals); `None` when the rule is off.
    pub not_visited: Option<[i64; 5]>,
    /// An open opportunity without a stage move for more than this many days is stuck; `None`
    /// when the rule is off.
    pub stuck_opportunity_days: Option<i64>,
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
    /// Debits to other banks above this percent of the baseline average daily deposit …
    pub percent: [i64; 5],
    /// … and above this many fen: a few yuan leaving a near-empty account is not news.
    pub min_fen: [i64; 5],
    /// Counterparty bank names that are this bank (a transfer to them is not an outflow).
    pub own_bank: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoanClassRule {
    /// The worst loan class is compared with the one this many days earlier.
    pub lookback_days: u32,
    /// A worst class at or below this one (3 = 次级: non-performing) is flagged while it holds,
    /// changed or not; `None` flags changes only.
    pub hold_class: Option<i64>,
}

/// What the batch knows of one customer on the date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AlertInput {
    /// The customer's five-tier tier, 0 (best) to 4.
    pub tier: usize,
    pub key_account: bool,
    /// A corporate customer: visits (and their coverage) are a company's; an individual's
    /// relationship is kept by calls and meetings the visit rule does not count.
    pub corporate: bool,
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
    /// Days since the last logged visit; `None` when none was ever logged.
    pub days_since_visit: Option<i64>,
    /// Days since the open opportunity that moved longest ago last moved; `None` without open
    /// opportunities.
    pub stalled_days: Option<i64>,
}

/// One alert condition that holds, with its explanation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub kind: AlertKind,
    /// The customer's tier the thresholds were taken from, 1 … 5.
    pub tier: i64,
    pub evidence: Evidence,
}

/// Why an alert fired: the figures the rule read and the bars it applied, typed. It is stored as
/// two texts (`encode`: `name=value; …` for the figures and `name>bar; …` for the thresholds,
/// money in fen) that stay readable in the Parquet history and in a CSV export, and is read back
/// (`decode`) to be written in a banker's words (the web's messages) with the page's unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Evidence {
    DepositDrop {
        recent_days: u32,
        baseline_days: u32,
        /// Average daily deposit over the recent and the baseline window, fen.
        recent: i64,
        baseline: i64,
        /// The bars: more than `percent` % and more than `min_drop` fen down.
        percent: i64,
        min_drop: i64,
    },
    Outflow {
        days: u32,
        baseline_days: u32,
        /// Debits to other banks in the window, fen.
        outflow: i64,
        /// The baseline average daily deposit, fen.
        baseline: i64,
        /// The bars: more than `percent` % of the baseline and more than `min_outflow` fen.
        percent: i64,
        min_outflow: i64,
    },
    Dormant {
        idle_days: i64,
        /// The bar: this many days or more.
        days: i64,
    },
    LoanClass {
        /// The worst class now and `lookback_days` earlier (1 pass … 5 loss; no loan then = 1).
        now: i64,
        before: i64,
        lookback_days: u32,
        /// The class from which a holding class is flagged, if the rule has one.
        hold_class: Option<i64>,
    },
    NoLeadRm,
    NotVisited {
        /// Days since the last logged visit; `None`: never visited.
        days: Option<i64>,
        /// The bar: more than this many days.
        interval: i64,
    },
    StuckOpportunity {
        /// Days since the longest-unmoved open opportunity last changed stage.
        days: i64,
        /// The bar: more than this many days.
        bar: i64,
    },
}

impl Evidence {
    pub fn kind(&self) -> AlertKind {
        match self {
            Evidence::DepositDrop { .. } => AlertKind::DepositDrop,
            Evidence::Outflow { .. } => AlertKind::Outflow,
            Evidence::Dormant { .. } => AlertKind::Dormant,
            Evidence::LoanClass { .. } => AlertKind::LoanClass,
            Evidence::NoLeadRm => AlertKind::NoLeadRm,
            Evidence::NotVisited { .. } => AlertKind::NotVisited,
            Evidence::StuckOpportunity { .. } => AlertKind::StuckOpportunity,
        }
    }

    /// The stored texts: the figures and the thresholds (with the tier they came from).
    pub fn encode(&self, tier: i64) -> (String, String) {
        match *self {
            Evidence::DepositDrop {
                recent_days,
                baseline_days,
                recent,
                baseline,
                percent,
                min_drop,
            } => (
                format!(
                    "avg_daily_deposit_{recent_days}d={recent}; avg_daily_deposit_{baseline_days}d={baseline}; drop={}",
                    baseline - recent
                ),
                format!("tier={tier}; drop_percent>{percent}; drop_fen>{min_drop}"),
            ),
            Evidence::Outflow {
                days,
                baseline_days,
                outflow,
                baseline,
                percent,
                min_outflow,
            } => (
                format!(
                    "outflow_other_banks_{days}d={outflow}; avg_daily_deposit_{baseline_days}d={baseline}"
                ),
                format!("tier={tier}; outflow_percent>{percent}; outflow_fen>{min_outflow}"),
            ),
            Evidence::Dormant { idle_days, days } => (
                format!("idle_days={idle_days}"),
                format!("tier={tier}; idle_days>={days}"),
            ),
            Evidence::LoanClass {
                now,
                before,
                lookback_days,
                hold_class,
            } => (
                format!(
                    "worst_loan_class={now}({}); {lookback_days}_days_before={before}({})",
                    class_zh(now),
                    class_zh(before)
                ),
                match hold_class {
                    Some(hold) => format!("lookback_days={lookback_days}; hold_class>={hold}"),
                    None => format!("lookback_days={lookback_days}"),
                },
            ),
            Evidence::NoLeadRm => (
                format!("key_account=true; tier={tier}; lead_rm=none"),
                "lead_rm=required".to_owned(),
            ),
            Evidence::NotVisited { days, interval } => (
                match days {
                    Some(days) => format!("days_since_visit={days}"),
                    None => "days_since_visit=never".to_owned(),
                },
                format!("tier={tier}; days_since_visit>{interval}"),
            ),
            Evidence::StuckOpportunity { days, bar } => (
                format!("days_since_stage_move={days}"),
                format!("days_since_stage_move>{bar}"),
            ),
        }
    }

    /// Reads the stored texts back. Texts written before a bar existed read with that bar at 0
    /// (`outflow_fen`) or absent (`hold_class`), which is what the rule applied then.
    pub fn decode(
        kind: AlertKind,
        evidence: &str,
        thresholds: &str,
    ) -> Result<Self, crate::ParseError> {
        if kind == AlertKind::NoLeadRm {
            // Nothing to read: earlier versions stored an English sentence as its threshold.
            return Ok(Evidence::NoLeadRm);
        }
        let figures = Pairs::read(evidence)?;
        let bars = Pairs::read(thresholds)?;
        Ok(match kind {
            AlertKind::DepositDrop => {
                let ((recent_days, recent), (baseline_days, baseline)) =
                    figures.two_windows("avg_daily_deposit_")?;
                Evidence::DepositDrop {
                    recent_days,
                    baseline_days,
                    recent,
                    baseline,
                    percent: bars.number("drop_percent")?,
                    min_drop: bars.number("drop_fen")?,
                }
            }
            AlertKind::Outflow => {
                let (days, outflow) = figures.window("outflow_other_banks_")?;
                let (baseline_days, baseline) = figures.window("avg_daily_deposit_")?;
                Evidence::Outflow {
                    days,
                    baseline_days,
                    outflow,
                    baseline,
                    percent: bars.number("outflow_percent")?,
                    min_outflow: bars.optional("outflow_fen")?.unwrap_or(0),
                }
            }
            AlertKind::Dormant => Evidence::Dormant {
                idle_days: figures.number("idle_days")?,
                days: bars.number("idle_days")?,
            },
            AlertKind::LoanClass => {
                let lookback_days = u32::try_from(bars.number("lookback_days")?).map_err(|_| {
                    bad(
                        thresholds,
                        "lookback_days is out of range",
                        "lookback_days 超出范围",
                    )
                })?;
                Evidence::LoanClass {
                    now: figures.number("worst_loan_class")?,
                    before: figures.number(&format!("{lookback_days}_days_before"))?,
                    lookback_days,
                    hold_class: bars.optional("hold_class")?,
                }
            }
            AlertKind::NoLeadRm => Evidence::NoLeadRm,
            AlertKind::NotVisited => Evidence::NotVisited {
                days: match figures.items.iter().find(|(n, _)| *n == "days_since_visit") {
                    Some((_, "never")) => None,
                    _ => Some(figures.number("days_since_visit")?),
                },
                interval: bars.number("days_since_visit")?,
            },
            AlertKind::StuckOpportunity => Evidence::StuckOpportunity {
                days: figures.number("days_since_stage_move")?,
                bar: bars.number("days_since_stage_move")?,
            },
        })
    }

    /// `outflow` or `drop` as a whole percent of the baseline, rounded half up; `None` on an
    /// empty baseline.
    pub fn share_percent(part: i64, whole: i64) -> Option<i64> {
        (whole > 0).then(|| {
            let scaled = i128::from(part) * 200 + i128::from(whole);
            i64::try_from(scaled / (2 * i128::from(whole))).unwrap_or(i64::MAX)
        })
    }
}

fn bad(text: &str, en: &str, zh: &str) -> crate::ParseError {
    crate::ParseError::new("alert_evidence", text, en, zh)
}

/// A window's length in days and its figure.
type Window = (u32, i64);

/// `name=value` (or `name>bar`, `name>=bar`) items joined by `; `, values whole numbers, with an
/// optional `(名称)` after a number (a loan class's name).
struct Pairs<'a> {
    text: &'a str,
    items: Vec<(&'a str, &'a str)>,
}

impl<'a> Pairs<'a> {
    fn read(text: &'a str) -> Result<Self, crate::ParseError> {
        let mut items = Vec::new();
        for item in text.split(';').map(str::trim).filter(|i| !i.is_empty()) {
            let at = item
                .find(['=', '>'])
                .ok_or_else(|| bad(text, "an item is not name=value", "有一项不是 名称=取值"))?;
            let value = item[at..].trim_start_matches(['>', '=']);
            items.push((item[..at].trim(), value.trim()));
        }
        Ok(Self { text, items })
    }

    fn optional(&self, name: &str) -> Result<Option<i64>, crate::ParseError> {
        let Some((_, value)) = self.items.iter().find(|(n, _)| *n == name) else {
            return Ok(None);
        };
        // A loan class carries its name: `4(可疑)`; the number is what counts.
        let number = value.split('(').next().unwrap_or(value);
        number.parse().map(Some).map_err(|_| {
            bad(
                self.text,
                &format!("{name} is not a whole number"),
                &format!("{name} 不是整数"),
            )
        })
    }

    fn number(&self, name: &str) -> Result<i64, crate::ParseError> {
        self.optional(name)?.ok_or_else(|| {
            bad(
                self.text,
                &format!("{name} is missing"),
                &format!("缺少 {name}"),
            )
        })
    }

    /// Every `<prefix><days>d=value` item, in order.
    fn windows(&self, prefix: &str) -> Result<Vec<Window>, crate::ParseError> {
        let mut out = Vec::new();
        for (name, _) in &self.items {
            if let Some(days) = name.strip_prefix(prefix).and_then(|r| r.strip_suffix('d'))
                && let Ok(days) = days.parse()
            {
                out.push((days, self.number(name)?));
            }
        }
        Ok(out)
    }

    fn window(&self, prefix: &str) -> Result<Window, crate::ParseError> {
        match self.windows(prefix)?.as_slice() {
            [one] => Ok(*one),
            _ => Err(bad(
                self.text,
                &format!("expected one {prefix}<days>d"),
                &format!("应有一项 {prefix}<天数>d"),
            )),
        }
    }

    fn two_windows(&self, prefix: &str) -> Result<(Window, Window), crate::ParseError> {
        match self.windows(prefix)?.as_slice() {
            [first, second] => Ok((*first, *second)),
            _ => Err(bad(
                self.text,
                &format!("expected two {prefix}<days>d"),
                &format!("应有两项 {prefix}<天数>d"),
            )),
        }
    }
}

const CLASS_ZH: [&str; 5] = ["正常", "关注", "次级", "可疑", "损失"];

fn class_zh(class: i64) -> &'static str {
    usize::try_from(class - 1)
        .ok()
        .and_then(|i| CLASS_ZH.get(i))
        .copied()
        .unwrap_or("?")
}

/// Every alert condition that holds for one customer.
pub fn evaluate(rules: &AlertRules, input: &AlertInput) -> Vec<Finding> {
    let tier = input.tier.min(4);
    let finding = |evidence: Evidence| Finding {
        kind: evidence.kind(),
        tier: tier as i64 + 1,
        evidence,
    };
    let mut out = Vec::new();
    let drop = &rules.deposit_drop;
    if let (Some(recent), Some(baseline)) = (input.recent_deposit, input.baseline_deposit) {
        let fell = baseline - recent;
        // Exact: fell / baseline > percent / 100, in integers.
        if baseline > 0
            && i128::from(fell) * 100 > i128::from(drop.percent[tier]) * i128::from(baseline)
            && fell > drop.fen[tier]
        {
            out.push(finding(Evidence::DepositDrop {
                recent_days: drop.recent_days,
                baseline_days: drop.baseline_days,
                recent,
                baseline,
                percent: drop.percent[tier],
                min_drop: drop.fen[tier],
            }));
        }
    }
    let flow = &rules.outflow;
    if let Some(baseline) = input.baseline_deposit
        && baseline > 0
        && i128::from(input.outflow) * 100 > i128::from(flow.percent[tier]) * i128::from(baseline)
        && input.outflow > flow.min_fen[tier]
    {
        out.push(finding(Evidence::Outflow {
            days: flow.days,
            baseline_days: drop.baseline_days,
            outflow: input.outflow,
            baseline,
            percent: flow.percent[tier],
            min_outflow: flow.min_fen[tier],
        }));
    }
    if let Some(idle) = input.idle_days
        && idle >= rules.dormant_days[tier]
    {
        out.push(finding(Evidence::Dormant {
            idle_days: idle,
            days: rules.dormant_days[tier],
        }));
    }
    if let Some(now) = input.worst_loan_class {
        let before = input.prior_worst_loan_class.unwrap_or(1);
        let held = rules.loan_class.hold_class.is_some_and(|hold| now >= hold);
        if now > before || held {
            out.push(finding(Evidence::LoanClass {
                now,
                before,
                lookback_days: rules.loan_class.lookback_days,
                hold_class: rules.loan_class.hold_class,
            }));
        }
    }
    if rules.no_lead_rm && input.key_account && !input.has_lead_rm {
        out.push(finding(Evidence::NoLeadRm));
    }
    if let Some(intervals) = rules.not_visited
        && input.key_account
        && input.corporate
        && input
            .days_since_visit
            .is_none_or(|days| days > intervals[tier])
    {
        out.push(finding(Evidence::NotVisited {
            days: input.days_since_visit,
            interval: intervals[tier],
        }));
    }
    if let (Some(bar), Some(days)) = (rules.stuck_opportunity_days, input.stalled_days)
        && crate::opportunity::is_stuck(days, bar)
    {
        out.push(finding(Evidence::StuckOpportunity { days, bar }));
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
                min_fen: [0; 5],
                own_bank: vec!["本行".into()],
            },
            dormant_days: [30, 30, 60, 90, 180],
            loan_class: LoanClassRule {
                lookback_days: 30,
                hold_class: None,
            },
            not_visited: None,
            stuck_opportunity_days: Some(30),
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
        let (evidence, thresholds) = finding.evidence.encode(finding.tier);
        assert_eq!(
            evidence,
            "avg_daily_deposit_30d=79000000; avg_daily_deposit_90d=100000000; drop=21000000"
        );
        assert_eq!(thresholds, "tier=1; drop_percent>20; drop_fen>10000000");
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
            days_since_visit: Some(10),
            stalled_days: None,
            corporate: true,
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
            loan.evidence.encode(loan.tier).0,
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
    fn an_opportunity_unmoved_past_the_bar_is_stuck() {
        let input = AlertInput {
            stalled_days: Some(31),
            has_lead_rm: true,
            ..AlertInput::default()
        };
        assert_eq!(kinds(&input), [AlertKind::StuckOpportunity]);
        let found = &evaluate(&rules(), &input)[0];
        let (figures, bars) = found.evidence.encode(found.tier);
        assert_eq!(
            Evidence::decode(AlertKind::StuckOpportunity, &figures, &bars).unwrap(),
            Evidence::StuckOpportunity { days: 31, bar: 30 }
        );
        let at_bar = AlertInput {
            stalled_days: Some(30),
            ..input
        };
        assert!(kinds(&at_bar).is_empty(), "at the bar is not past it");
        let mut off = rules();
        off.stuck_opportunity_days = None;
        assert!(evaluate(&off, &input).is_empty());
    }

    #[test]
    fn a_corporate_key_account_not_visited_within_its_interval_or_ever_is_flagged() {
        let mut rules = rules();
        rules.not_visited = Some([30, 30, 60, 90, 180]);
        let input = |days, key_account| AlertInput {
            tier: 0,
            key_account,
            corporate: true,
            days_since_visit: days,
            has_lead_rm: true,
            ..AlertInput::default()
        };
        assert!(kinds_with(&rules, &input(Some(30), true)).is_empty());
        assert!(
            kinds_with(&rules, &input(None, false)).is_empty(),
            "key accounts only"
        );
        let individual = AlertInput {
            corporate: false,
            ..input(None, true)
        };
        assert!(
            kinds_with(&rules, &individual).is_empty(),
            "a company's visits: an individual's contact is not a visit"
        );
        for days in [Some(31), None] {
            let found = evaluate(&rules, &input(days, true));
            assert_eq!(found.len(), 1);
            let (figures, bars) = found[0].evidence.encode(found[0].tier);
            let back = Evidence::decode(AlertKind::NotVisited, &figures, &bars).unwrap();
            assert_eq!(back, found[0].evidence, "{figures} / {bars}");
        }
        rules.not_visited = None;
        assert!(kinds_with(&rules, &input(None, true)).is_empty(), "off");
    }

    fn kinds_with(rules: &AlertRules, input: &AlertInput) -> Vec<AlertKind> {
        evaluate(rules, input).iter().map(|f| f.kind).collect()
    }

    #[test]
    fn a_small_outflow_is_not_news_and_a_bad_class_is_flagged_while_it_holds() {
        let mut rules = rules();
        rules.outflow.min_fen = [yuan(10_000); 5];
        // 59.58 yuan out of an account averaging 24.10 yuan: 247 %, but below the minimum.
        let tiny = AlertInput {
            tier: 4,
            baseline_deposit: Some(2_410),
            outflow: 5_958,
            ..AlertInput::default()
        };
        assert!(evaluate(&rules, &tiny).is_empty());
        let large = AlertInput {
            baseline_deposit: Some(yuan(20_000)),
            outflow: yuan(10_001),
            ..tiny
        };
        assert_eq!(
            evaluate(&rules, &large)
                .iter()
                .map(|f| f.kind)
                .collect::<Vec<_>>(),
            [AlertKind::Outflow]
        );
        // 可疑 a month ago and now: no change, so only the holding rule sees it.
        let doubtful = AlertInput {
            worst_loan_class: Some(4),
            prior_worst_loan_class: Some(4),
            ..AlertInput::default()
        };
        assert!(evaluate(&rules, &doubtful).is_empty());
        rules.loan_class.hold_class = Some(3);
        let found = evaluate(&rules, &doubtful);
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].evidence.encode(found[0].tier),
            (
                "worst_loan_class=4(可疑); 30_days_before=4(可疑)".to_owned(),
                "lookback_days=30; hold_class>=3".to_owned()
            )
        );
        // 关注 is above the holding class and unchanged: nothing.
        let special = AlertInput {
            worst_loan_class: Some(2),
            prior_worst_loan_class: Some(2),
            ..AlertInput::default()
        };
        assert!(evaluate(&rules, &special).is_empty());
    }

    #[test]
    fn evidence_reads_back_what_it_wrote() {
        let cases = [
            Evidence::DepositDrop {
                recent_days: 30,
                baseline_days: 90,
                recent: 79_000_000,
                baseline: 100_000_000,
                percent: 20,
                min_drop: 10_000_000,
            },
            Evidence::Outflow {
                days: 7,
                baseline_days: 90,
                outflow: 3_890_602_434,
                baseline: 6_678_377_537,
                percent: 30,
                min_outflow: 100_000,
            },
            Evidence::Dormant {
                idle_days: 95,
                days: 90,
            },
            Evidence::LoanClass {
                now: 4,
                before: 2,
                lookback_days: 30,
                hold_class: Some(3),
            },
            Evidence::LoanClass {
                now: 3,
                before: 1,
                lookback_days: 45,
                hold_class: None,
            },
            Evidence::NoLeadRm,
        ];
        for evidence in cases {
            let (figures, bars) = evidence.encode(2);
            assert_eq!(
                Evidence::decode(evidence.kind(), &figures, &bars),
                Ok(evidence),
                "{figures} / {bars}"
            );
        }
        // What earlier versions stored still reads: no outflow minimum, the English sentence.
        assert_eq!(
            Evidence::decode(
                AlertKind::Outflow,
                "outflow_other_banks_7d=3890602434; avg_daily_deposit_90d=6678377537",
                "tier=2; outflow_percent>30"
            ),
            Ok(Evidence::Outflow {
                days: 7,
                baseline_days: 90,
                outflow: 3_890_602_434,
                baseline: 6_678_377_537,
                percent: 30,
                min_outflow: 0,
            })
        );
        assert_eq!(
            Evidence::decode(
                AlertKind::NoLeadRm,
                "key_account=true; tier=1; lead_rm=none",
                "key accounts need a lead RM"
            ),
            Ok(Evidence::NoLeadRm)
        );
        // Damaged text is an error, not a zero.
        assert!(Evidence::decode(AlertKind::Dormant, "idle_days=9x", "idle_days>=90").is_err());
        assert!(Evidence::decode(AlertKind::Dormant, "", "idle_days>=90").is_err());
        assert!(
            Evidence::decode(
                AlertKind::Outflow,
                "avg_daily_deposit_90d=5",
                "outflow_percent>30"
            )
            .is_err()
        );
        assert_eq!(
            Evidence::share_percent(3_890_602_434, 6_678_377_537),
            Some(58)
        );
        assert_eq!(Evidence::share_percent(1, 0), None);
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

//! Opportunities (商机) and the funnel (漏斗): the stages an opportunity moves through, each with a
//! default probability and a progress checklist (项目进展速查表) whose items must be ticked to
//! leave it; the rule for a move (forward only past a ticked checklist; lost from anywhere with a
//! reason; closed is final); and the funnel's arithmetic — count, amount and weighted amount per
//! stage, conversion between stages, days in stage, won and lost by reason. Amounts in fen.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::{ParseError, code_enum};

/// How an opportunity ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Outcome {
    Won,
    Lost,
}

/// An item of a stage's progress checklist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChecklistItem {
    pub code: String,
    pub zh: String,
    pub en: String,
}

/// A stage of the funnel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    pub code: String,
    pub zh: String,
    pub en: String,
    /// The default probability of winning from this stage, percent.
    pub probability: u8,
    /// Items to tick before leaving the stage forward.
    pub checklist: Vec<ChecklistItem>,
    /// `Some` for a closing stage (won, lost).
    pub outcome: Option<Outcome>,
}

/// The funnel's stages in order: the open ones, then won, then lost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pipeline {
    pub stages: Vec<Stage>,
}

fn item(code: &str, zh: &str, en: &str) -> ChecklistItem {
    ChecklistItem {
        code: code.into(),
        zh: zh.into(),
        en: en.into(),
    }
}

fn stage(code: &str, zh: &str, en: &str, probability: u8, checklist: Vec<ChecklistItem>) -> Stage {
    Stage {
        code: code.into(),
        zh: zh.into(),
        en: en.into(),
        probability,
        checklist,
        outcome: None,
    }
}

impl Pipeline {
    /// The default funnel: 线索 → 接触 → 需求确认 → 方案 → 审批/谈判 → 成交 / 失败.
    pub fn default_stages() -> Self {
        let mut stages = vec![
            stage(
                "lead",
                "线索",
                "lead",
                10,
                vec![
                    item(
                        "need_seen",
                        "已看到客户的潜在需求",
                        "a possible need is seen",
                    ),
                    item(
                        "contact_named",
                        "已确定要接触的关键人",
                        "the key person to contact is named",
                    ),
                ],
            ),
            stage(
                "contact",
                "接触",
                "contact",
                20,
                vec![
                    item("met_key_person", "已拜访关键人", "a key person was visited"),
                    item(
                        "banks_known",
                        "已了解客户现有合作银行",
                        "the customer's current banks are known",
                    ),
                ],
            ),
            stage(
                "needs_confirmed",
                "需求确认",
                "needs confirmed",
                40,
                vec![
                    item(
                        "explicit_need",
                        "客户说出明确需求",
                        "the customer stated an explicit need",
                    ),
                    item(
                        "budget_timing",
                        "已了解预算与时间",
                        "budget and timing are known",
                    ),
                    item(
                        "decision_maker",
                        "已确认决策人和决策流程",
                        "the decision maker and process are known",
                    ),
                ],
            ),
            stage(
                "proposal",
                "方案",
                "proposal",
                60,
                vec![
                    item("proposal_sent", "方案已提交客户", "the proposal was sent"),
                    item(
                        "users_agree",
                        "使用者与技术把关者认可方案",
                        "users and technical buyers agree",
                    ),
                ],
            ),
            stage(
                "approval",
                "审批/谈判",
                "approval & negotiation",
                80,
                vec![
                    item(
                        "approved",
                        "行内审批已通过",
                        "the bank's approval is granted",
                    ),
                    item(
                        "terms_agreed",
                        "价格与条款已谈妥",
                        "price and terms are agreed",
                    ),
                ],
            ),
        ];
        stages.push(Stage {
            outcome: Some(Outcome::Won),
            ..stage("won", "成交", "won", 100, Vec::new())
        });
        stages.push(Stage {
            outcome: Some(Outcome::Lost),
            ..stage("lost", "失败", "lost", 0, Vec::new())
        });
        Self { stages }
    }

    pub fn stage(&self, code: &str) -> Option<&Stage> {
        self.stages.iter().find(|s| s.code == code)
    }

    fn position(&self, code: &str) -> Option<usize> {
        self.stages.iter().position(|s| s.code == code)
    }

    /// The open stages, in order.
    pub fn open_stages(&self) -> impl Iterator<Item = &Stage> {
        self.stages.iter().filter(|s| s.outcome.is_none())
    }

    /// Whether an opportunity in `from` with `ticked` items may move to `to` (a `reason` given
    /// for a loss). Forward moves (won included) need every item of `from`'s checklist ticked —
    /// the refusal lists the missing ones; a step back is allowed (a proposal rejected goes back to
    /// needs confirmation); lost needs a reason and is allowed from any open stage; a closed
    /// opportunity does not move.
    pub fn check_move(
        &self,
        from: &str,
        to: &str,
        ticked: &[String],
        reason: Option<&str>,
    ) -> Result<(), ParseError> {
        let unknown = |code: &str| {
            let codes: Vec<&str> = self.stages.iter().map(|s| s.code.as_str()).collect();
            ParseError::not_one_of("stage", code, &codes)
        };
        let (Some(i), Some(j)) = (self.position(from), self.position(to)) else {
            return Err(unknown(if self.position(from).is_none() {
                from
            } else {
                to
            }));
        };
        let (source, target) = (&self.stages[i], &self.stages[j]);
        if source.outcome.is_some() {
            return Err(ParseError::new(
                "stage",
                to,
                "a closed opportunity does not move",
                "已结束的商机不能再变更阶段",
            ));
        }
        match target.outcome {
            Some(Outcome::Lost) => {
                if reason.is_none_or(|r| r.trim().chars().count() < 2) {
                    return Err(ParseError::new(
                        "reason",
                        reason.unwrap_or(""),
                        "say why it was lost",
                        "请填写失败原因",
                    ));
                }
                return Ok(());
            }
            _ if j <= i => return Ok(()),
            _ => {}
        }
        let missing: Vec<&ChecklistItem> = source
            .checklist
            .iter()
            .filter(|item| !ticked.contains(&item.code))
            .collect();
        if !missing.is_empty() {
            let zh: Vec<&str> = missing.iter().map(|m| m.zh.as_str()).collect();
            let en: Vec<&str> = missing.iter().map(|m| m.en.as_str()).collect();
            return Err(ParseError::new(
                "checklist",
                missing
                    .iter()
                    .map(|m| m.code.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
                format!("to leave {}, tick first: {}", source.en, en.join("; ")),
                format!("离开“{}”前须完成：{}", source.zh, zh.join("；")),
            ));
        }
        Ok(())
    }
}

/// An opportunity as the funnel reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunnelItem {
    pub stage: String,
    /// Fen.
    pub amount: i64,
    /// Percent; the stage's default unless the owner set one.
    pub probability: u8,
}

/// A stage's row of the funnel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunnelRow {
    pub stage: String,
    pub count: u32,
    pub amount: i64,
    /// Σ amount × probability / 100, rounded half away from zero once per row.
    pub weighted: i64,
}

/// The open stages' rows, in order (closed opportunities are counted by `outcomes`).
pub fn funnel(pipeline: &Pipeline, items: &[FunnelItem]) -> Vec<FunnelRow> {
    pipeline
        .open_stages()
        .map(|stage| {
            let mine: Vec<&FunnelItem> = items.iter().filter(|i| i.stage == stage.code).collect();
            let weighted: i128 = mine
                .iter()
                .map(|i| i128::from(i.amount) * i128::from(i.probability))
                .sum();
            FunnelRow {
                stage: stage.code.clone(),
                count: u32::try_from(mine.len()).unwrap_or(u32::MAX),
                amount: mine.iter().map(|i| i.amount).sum(),
                weighted: i64::try_from(div_round(weighted, 100)).unwrap_or(i64::MAX),
            }
        })
        .collect()
}

/// `a / b` rounded half away from zero.
fn div_round(a: i128, b: i128) -> i128 {
    let q = a / b;
    let r = a % b;
    if 2 * r.abs() >= b.abs() {
        q + a.signum() * b.signum()
    } else {
        q
    }
}

/// One entry of an opportunity's stage history: it entered `stage` on `on`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageEntry {
    pub opportunity: i64,
    pub stage: String,
    pub on: NaiveDate,
}

/// Conversion from each open stage to the next: of the opportunities that ever entered stage
/// `i`, the share (percent, rounded down) that later entered a later open stage or won. `None`
/// for a stage nobody entered.
pub fn conversion(pipeline: &Pipeline, history: &[StageEntry]) -> Vec<(String, Option<u32>)> {
    let open: Vec<&Stage> = pipeline.open_stages().collect();
    let rank = |code: &str| -> Option<usize> {
        match pipeline.stage(code)?.outcome {
            Some(Outcome::Won) => Some(open.len()),
            Some(Outcome::Lost) => None,
            None => open.iter().position(|s| s.code == code),
        }
    };
    // The furthest rank each opportunity reached.
    let mut furthest: BTreeMap<i64, usize> = BTreeMap::new();
    for entry in history {
        if let Some(r) = rank(&entry.stage) {
            let best = furthest.entry(entry.opportunity).or_insert(r);
            *best = (*best).max(r);
        }
    }
    open.iter()
        .enumerate()
        .map(|(i, stage)| {
            let entered = furthest.values().filter(|&&r| r >= i).count();
            let passed = furthest.values().filter(|&&r| r > i).count();
            let share = (entered > 0).then(|| u32::try_from(passed * 100 / entered).unwrap_or(100));
            (stage.code.clone(), share)
        })
        .collect()
}

/// The average whole days an opportunity spent in each open stage it left (entry to the next
/// entry), `None` where none has left it yet.
pub fn days_in_stage(pipeline: &Pipeline, history: &[StageEntry]) -> Vec<(String, Option<i64>)> {
    let mut by_opportunity: BTreeMap<i64, Vec<&StageEntry>> = BTreeMap::new();
    for entry in history {
        by_opportunity
            .entry(entry.opportunity)
            .or_default()
            .push(entry);
    }
    let mut spent: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    for entries in by_opportunity.values_mut() {
        entries.sort_by_key(|e| e.on);
        for pair in entries.windows(2) {
            let days = (pair[1].on - pair[0].on).num_days();
            let slot = spent.entry(pair[0].stage.as_str()).or_default();
            slot.0 += days;
            slot.1 += 1;
        }
    }
    pipeline
        .open_stages()
        .map(|s| {
            let avg = spent.get(s.code.as_str()).map(|(days, n)| {
                i64::try_from(div_round(i128::from(*days), i128::from(*n))).unwrap_or(i64::MAX)
            });
            (s.code.clone(), avg)
        })
        .collect()
}

code_enum! {
    /// Where the bank stands against the competitor bank on an opportunity.
    pub enum Position as "position" {
        Leading = "leading",
        Even = "even",
        Behind = "behind",
        Unknown = "unknown",
    }
}

code_enum! {
    /// A buying influence's part in the decision (购买影响者).
    pub enum InfluenceRole as "influence_role" {
        /// 经济决策者: releases the money, says the last yes.
        Economic = "economic",
        /// 使用者: works with what is bought.
        User = "user",
        /// 技术把关者: screens the offer against criteria and can say no.
        Technical = "technical",
        /// 内线/教练: guides us to the sale.
        Coach = "coach",
    }
}

code_enum! {
    /// How a buying influence stands towards us.
    pub enum Attitude as "attitude" {
        Supportive = "supportive",
        Neutral = "neutral",
        Opposed = "opposed",
    }
}

code_enum! {
    /// An obstacle is open until its action clears it.
    pub enum ObstacleStatus as "obstacle_status" {
        Open = "open",
        Cleared = "cleared",
    }
}

/// At most this many products on one opportunity.
pub const PRODUCT_LIMIT: usize = 8;

/// An opportunity as a form or the API gives it. The stage is not here: it moves by
/// `Pipeline::check_move`, never by an edit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOpportunity {
    pub title: String,
    /// Product codes of the bank's catalogue (checked against it by the store).
    pub products: Vec<String>,
    /// Fen, CNY; more than zero.
    pub amount: i64,
    /// The colleague who owns it (a user name).
    pub owner: String,
    pub expected_close: NaiveDate,
    pub competitor: Option<String>,
    pub position: Position,
    /// Percent, when the owner overrides the stage's default.
    pub probability: Option<u8>,
    /// Sold to the customer's whole group (集团商机), the customer being the group's company
    /// the bank deals with.
    pub for_group: bool,
    pub notes: Option<String>,
}

impl NewOpportunity {
    /// Checks the fields a form or the API gives; the first refusal names its field.
    #[allow(clippy::too_many_arguments)]
    pub fn parse(
        title: &str,
        products: &[String],
        amount_yuan: &str,
        owner: &str,
        expected_close: NaiveDate,
        competitor: &str,
        position: Position,
        probability: &str,
        for_group: bool,
        notes: &str,
    ) -> Result<Self, ParseError> {
        let title = crate::activity::line("title", title)?;
        let mut codes: Vec<String> = Vec::new();
        for code in products.iter().map(|c| c.trim()).filter(|c| !c.is_empty()) {
            if !codes.iter().any(|c| c == code) {
                codes.push(code.to_owned());
            }
        }
        if codes.is_empty() || codes.len() > PRODUCT_LIMIT {
            return Err(ParseError::new(
                "products",
                codes.join(","),
                format!("name 1 to {PRODUCT_LIMIT} products"),
                format!("请选择 1 至 {PRODUCT_LIMIT} 个产品"),
            ));
        }
        let amount = crate::money::Money::parse_yuan_with(
            amount_yuan,
            crate::money::Currency::parse("CNY")?,
            Some(','),
        )?
        .minor();
        if amount <= 0 {
            return Err(ParseError::new(
                "amount",
                amount_yuan,
                "an opportunity's amount is more than zero",
                "商机金额须大于零",
            ));
        }
        let owner = owner.trim();
        if owner.is_empty() || owner.chars().count() > 64 {
            return Err(ParseError::new(
                "owner",
                owner,
                "name a colleague by their user name",
                "请填写同事的登录名",
            ));
        }
        let probability = match probability.trim() {
            "" => None,
            text => Some(
                text.parse::<u8>()
                    .ok()
                    .filter(|p| *p <= 100)
                    .ok_or_else(|| {
                        ParseError::new(
                            "probability",
                            text,
                            "a whole percent from 0 to 100, or empty for the stage's",
                            "请填写 0 至 100 的整数百分比，留空则用阶段默认值",
                        )
                    })?,
            ),
        };
        Ok(Self {
            title,
            products: codes,
            amount,
            owner: owner.to_owned(),
            expected_close,
            competitor: crate::activity::note("competitor", competitor, 60)?,
            position,
            probability,
            for_group,
            notes: crate::activity::note("notes", notes, crate::activity::NOTE_LIMIT)?,
        })
    }

    /// An expected close no earlier than a year before `today` and no later than five years
    /// after (a typo's year is caught).
    pub fn check(&self, today: NaiveDate) -> Result<(), ParseError> {
        if self.expected_close < today - chrono::Days::new(366)
            || self.expected_close > today + chrono::Days::new(1830)
        {
            return Err(ParseError::new(
                "expected_close",
                self.expected_close.to_string(),
                "the expected close is within a year back and five years ahead",
                "预计成交日须在一年前至五年后之间",
            ));
        }
        Ok(())
    }
}

/// An obstacle (障碍点) as a form gives it: one obstacle, exactly one action against it
/// (一颗子弹一个敌人), whose owner and due day make it a task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewObstacle {
    pub text: String,
    pub action: String,
    pub owner: String,
    pub due: NaiveDate,
}

impl NewObstacle {
    pub fn parse(
        text: &str,
        action: &str,
        owner: &str,
        due: NaiveDate,
    ) -> Result<Self, ParseError> {
        let text = crate::activity::line("obstacle", text)?;
        let action = crate::activity::line("action", action)?;
        if action.contains(['\n', ';', '；']) {
            return Err(ParseError::new(
                "action",
                action,
                "one obstacle, one action: write a single action (add another obstacle for another)",
                "一颗子弹一个敌人：每个障碍点只写一项行动（另一项请另设障碍点）",
            ));
        }
        Ok(Self {
            text,
            action,
            owner: owner.trim().to_owned(),
            due,
        })
    }
}

/// The probability an open opportunity counts with: the owner's, or its stage's default.
pub fn probability_of(pipeline: &Pipeline, stage: &str, own: Option<u8>) -> u8 {
    own.unwrap_or_else(|| pipeline.stage(stage).map_or(0, |s| s.probability))
}

/// `expected_sales` of one customer (docs/indicators.md): Σ amount × probability / 100 over its
/// open opportunities, rounded half away from zero once.
pub fn expected_sales(items: &[FunnelItem]) -> i64 {
    let sum: i128 = items
        .iter()
        .map(|i| i128::from(i.amount) * i128::from(i.probability))
        .sum();
    i64::try_from(div_round(sum, 100)).unwrap_or(i64::MAX)
}

/// Whether an open opportunity that last moved `days_since_move` days ago is stuck under a bar
/// of `stuck_days` (more than the bar: stuck).
pub fn is_stuck(days_since_move: i64, stuck_days: i64) -> bool {
    days_since_move > stuck_days
}

/// A closed opportunity, as the funnel's won-and-lost table reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closed {
    pub outcome: Outcome,
    /// Why it was lost (a won one has none).
    pub reason: Option<String>,
    /// Fen.
    pub amount: i64,
    pub on: NaiveDate,
}

/// A row of won and lost by reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutcomeRow {
    pub outcome: Outcome,
    /// `None` for the won row.
    pub reason: Option<String>,
    pub count: u32,
    pub amount: i64,
}

/// Won, then lost by reason (most first, then by reason), of the opportunities closed from
/// `from` to `to` inclusive. Reasons are compared as written, trimmed.
pub fn outcomes(closed: &[Closed], from: NaiveDate, to: NaiveDate) -> Vec<OutcomeRow> {
    let mut rows: BTreeMap<(Outcome, Option<String>), (u32, i64)> = BTreeMap::new();
    for c in closed.iter().filter(|c| c.on >= from && c.on <= to) {
        let reason = match c.outcome {
            Outcome::Won => None,
            Outcome::Lost => c.reason.as_deref().map(|r| r.trim().to_owned()),
        };
        let slot = rows.entry((c.outcome, reason)).or_default();
        slot.0 += 1;
        slot.1 += c.amount;
    }
    let mut out: Vec<OutcomeRow> = rows
        .into_iter()
        .map(|((outcome, reason), (count, amount))| OutcomeRow {
            outcome,
            reason,
            count,
            amount,
        })
        .collect();
    out.sort_by(|a, b| {
        a.outcome
            .cmp(&b.outcome)
            .then(b.count.cmp(&a.count))
            .then(a.reason.cmp(&b.reason))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: &str) -> NaiveDate {
        d.parse().unwrap()
    }

    #[test]
    fn leaving_a_stage_forward_needs_its_checklist_and_a_loss_needs_a_reason() {
        let p = Pipeline::default_stages();
        let refused = p
            .check_move("lead", "contact", &["need_seen".into()], None)
            .unwrap_err();
        assert_eq!(refused.field, "checklist");
        assert_eq!(refused.value, "contact_named");
        assert!(
            refused.reason_zh.contains("已确定要接触的关键人"),
            "{}",
            refused.reason_zh
        );
        let both = ["need_seen".to_owned(), "contact_named".to_owned()];
        assert_eq!(p.check_move("lead", "contact", &both, None), Ok(()));
        // Skipping ahead still needs the current stage's items only; going back needs nothing.
        assert_eq!(p.check_move("lead", "proposal", &both, None), Ok(()));
        assert_eq!(
            p.check_move("proposal", "needs_confirmed", &[], None),
            Ok(())
        );
        assert_eq!(
            p.check_move("approval", "won", &[], None)
                .unwrap_err()
                .field,
            "checklist"
        );
        assert_eq!(
            p.check_move("contact", "lost", &[], None)
                .unwrap_err()
                .field,
            "reason"
        );
        assert_eq!(
            p.check_move("contact", "lost", &[], Some("他行利率更低")),
            Ok(())
        );
        assert_eq!(
            p.check_move("won", "lost", &[], Some("xx"))
                .unwrap_err()
                .field,
            "stage"
        );
        assert_eq!(
            p.check_move("lead", "nowhere", &[], None)
                .unwrap_err()
                .field,
            "stage"
        );
    }

    #[test]
    fn the_funnel_weighs_amounts_by_probability_and_rounds_once_per_stage() {
        let p = Pipeline::default_stages();
        let item = |stage: &str, amount: i64, probability: u8| FunnelItem {
            stage: stage.into(),
            amount,
            probability,
        };
        let rows = funnel(
            &p,
            &[
                item("lead", 1_000_000, 10),
                item("lead", 5, 10),
                item("proposal", 300_000_000, 60),
                item("proposal", 1, 50),
                item("won", 9_999, 100),
            ],
        );
        assert_eq!(rows.len(), 5, "open stages only");
        assert_eq!(
            rows[0],
            FunnelRow {
                stage: "lead".into(),
                count: 2,
                amount: 1_000_005,
                // 100,000.5 → 100,001 (half away from zero), rounded once for the row.
                weighted: 100_001,
            }
        );
        assert_eq!((rows[3].count, rows[3].weighted), (2, 180_000_001));
        assert_eq!(rows[1].count, 0);
    }

    #[test]
    fn conversion_and_days_come_from_the_stage_history() {
        let p = Pipeline::default_stages();
        let e = |o: i64, stage: &str, on: &str| StageEntry {
            opportunity: o,
            stage: stage.into(),
            on: day(on),
        };
        let history = [
            e(1, "lead", "2026-01-01"),
            e(1, "contact", "2026-01-11"),
            e(1, "won", "2026-02-10"),
            e(2, "lead", "2026-01-05"),
            e(2, "lost", "2026-01-08"),
            e(3, "lead", "2026-01-10"),
            e(3, "contact", "2026-01-30"),
        ];
        let conv = conversion(&p, &history);
        // Three entered lead, two went on; two entered contact, one went on (won).
        assert_eq!(conv[0], ("lead".into(), Some(66)));
        assert_eq!(conv[1], ("contact".into(), Some(50)));
        assert_eq!(conv[3].1, Some(100), "the won one passed every stage");
        let days = days_in_stage(&p, &history);
        // lead: 10, 3 and 20 days → 11; contact: 30 days (the open one has not left).
        assert_eq!(days[0], ("lead".into(), Some(11)));
        assert_eq!(days[1], ("contact".into(), Some(30)));
        assert_eq!(days[2].1, None);
    }

    #[test]
    fn an_opportunity_names_products_and_an_amount_in_fen() {
        let close = day("2027-03-31");
        let products = vec![
            "LN-WC".to_owned(),
            " LN-WC ".to_owned(),
            "DEP-CUR-C".to_owned(),
        ];
        let parse = |amount: &str, probability: &str, products: &[String]| {
            NewOpportunity::parse(
                "流动资金贷款续作",
                products,
                amount,
                "rm1",
                close,
                "某股份行",
                Position::Even,
                probability,
                false,
                "",
            )
        };
        let o = parse("1,200,000.50", "", &products).unwrap();
        assert_eq!(o.amount, 120_000_050);
        assert_eq!(o.products, ["LN-WC", "DEP-CUR-C"], "trimmed, once each");
        assert_eq!(o.probability, None);
        assert_eq!(parse("100", "35", &products).unwrap().probability, Some(35));
        assert_eq!(parse("0", "", &products).unwrap_err().field, "amount");
        assert_eq!(parse("12.345", "", &products).unwrap_err().field, "amount");
        assert_eq!(parse("1e6", "", &products).unwrap_err().field, "amount");
        assert_eq!(
            parse("100", "101", &products).unwrap_err().field,
            "probability"
        );
        assert_eq!(
            parse("100", "3.5", &products).unwrap_err().field,
            "probability"
        );
        assert_eq!(parse("100", "", &[]).unwrap_err().field, "products");
        let today = day("2026-12-06");
        assert_eq!(o.check(today), Ok(()));
        let far = NewOpportunity {
            expected_close: day("2036-01-01"),
            ..o
        };
        assert_eq!(far.check(today).unwrap_err().field, "expected_close");
    }

    #[test]
    fn an_obstacle_has_exactly_one_action() {
        let due = day("2026-12-10");
        let ok =
            NewObstacle::parse("财务总监倾向他行", "约财务总监面谈利率方案", "rm1", due).unwrap();
        assert_eq!(ok.action, "约财务总监面谈利率方案");
        let two = NewObstacle::parse("财务总监倾向他行", "约面谈；报价", "rm1", due).unwrap_err();
        assert_eq!(two.field, "action");
        assert!(two.reason_zh.contains("一颗子弹一个敌人"));
        assert_eq!(
            NewObstacle::parse("x", "约面谈", "rm1", due)
                .unwrap_err()
                .field,
            "obstacle"
        );
    }

    #[test]
    fn expected_sales_weighs_once_and_stuck_is_past_the_bar() {
        let p = Pipeline::default_stages();
        assert_eq!(probability_of(&p, "proposal", None), 60);
        assert_eq!(probability_of(&p, "proposal", Some(75)), 75);
        let items = [
            FunnelItem {
                stage: "lead".into(),
                amount: 5,
                probability: 10,
            },
            FunnelItem {
                stage: "lead".into(),
                amount: 5,
                probability: 10,
            },
        ];
        // 0.5 + 0.5 = 1 fen: rounding each would give 2.
        assert_eq!(expected_sales(&items), 1);
        assert_eq!(expected_sales(&[]), 0);
        assert!(!is_stuck(30, 30));
        assert!(is_stuck(31, 30));
    }

    #[test]
    fn won_and_lost_are_counted_by_reason_within_the_period() {
        let c = |outcome, reason: Option<&str>, amount, on: &str| Closed {
            outcome,
            reason: reason.map(str::to_owned),
            amount,
            on: day(on),
        };
        let closed = [
            c(Outcome::Won, None, 100, "2026-11-02"),
            c(Outcome::Lost, Some("价格 "), 10, "2026-11-03"),
            c(Outcome::Lost, Some("价格"), 20, "2026-11-20"),
            c(Outcome::Lost, Some("审批未过"), 5, "2026-11-21"),
            c(Outcome::Won, None, 7, "2026-10-31"),
        ];
        let rows = outcomes(&closed, day("2026-11-01"), day("2026-11-30"));
        assert_eq!(rows.len(), 3);
        assert_eq!(
            (rows[0].outcome, rows[0].count, rows[0].amount),
            (Outcome::Won, 1, 100)
        );
        assert_eq!(rows[1].reason.as_deref(), Some("价格"));
        assert_eq!((rows[1].count, rows[1].amount), (2, 30));
        assert_eq!(rows[2].reason.as_deref(), Some("审批未过"));
    }
}

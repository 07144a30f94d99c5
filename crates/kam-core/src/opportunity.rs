//! Opportunities (商机) and the funnel (漏斗): the stages an opportunity moves through, each with a
//! default probability and a progress checklist (项目进展速查表) whose items must be ticked to
//! leave it; the rule for a move (forward only past a ticked checklist; lost from anywhere with a
//! reason; closed is final); and the funnel's arithmetic — count, amount and weighted amount per
//! stage, conversion between stages, days in stage, won and lost by reason. Amounts in fen.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::ParseError;

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
}

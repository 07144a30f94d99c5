//! The RMs' opportunities (商机) in the synthetic bank: a year of selling to the companies they
//! lead — each opened on a day, moved through the funnel's stages with their checklists ticked,
//! won, lost with a reason, or still open (some stuck for weeks), with obstacles and their one
//! action each, and buying influences from the company's key people. Derived from each customer's
//! number and the day the demo is built, not from the random stream (the extracts stay
//! byte-identical), like the visit history.

use std::collections::HashMap;

use chrono::{Days, NaiveDate};
use kam_core::{
    assignment::AssignmentRole,
    customer::{AccountType, CustomerKind},
    opportunity::{Attitude, InfluenceRole, NewObstacle, NewOpportunity, Pipeline, Position},
    reference::{OpportunityRecord, ReferenceData},
};

/// What is sold, with the products it names and a typical size in yuan.
const DEALS: [(&str, &[&str], i64); 8] = [
    ("流动资金贷款续作", &["LN-WC"], 20_000_000),
    ("新增流动资金授信", &["LN-WC", "BA-DRAFT"], 30_000_000),
    ("厂区建设项目贷款", &["LN-PRJ"], 80_000_000),
    ("现金管理平台上线", &["CASH-MGMT", "DEP-AGR-C"], 5_000_000),
    ("代发工资迁移至我行", &["PAYROLL", "DEP-CUR-C"], 3_000_000),
    ("定期存款引入", &["DEP-TIME-C"], 15_000_000),
    ("银行承兑汇票业务", &["BA-DRAFT"], 10_000_000),
    ("远期结售汇套保", &["FX-FWD"], 6_000_000),
];
const COMPETITORS: [&str; 5] = ["工商银行", "建设银行", "招商银行", "兴业银行", "本地农商行"];
const LOST: [&str; 4] = [
    "他行利率更低",
    "客户内部审批未通过",
    "客户需求取消",
    "我行审批未通过",
];
const OBSTACLES: [(&str, &str); 5] = [
    ("财务总监倾向继续用他行", "约财务总监面谈利率方案"),
    ("担保方式未谈妥", "与风险部商定担保替代方案"),
    ("董事长尚未表态", "请支行行长拜访董事长"),
    ("对我行系统对接有顾虑", "安排科技人员上门演示"),
    ("价格比他行高", "申请优惠利率审批"),
];
/// Open opportunities stuck this long in their stage (past the shipped 30-day bar).
const STUCK_DAYS: u64 = 45;

/// A number from a text, the same on every machine.
fn hash(text: &str) -> u64 {
    text.bytes().fold(2_166_136_261, |h, b| {
        h.wrapping_mul(16_777_619).wrapping_add(u64::from(b))
    })
}

/// The opportunities of the bank's companies with a lead RM and key people, up to `today`.
pub fn opportunity_history(reference: &ReferenceData, today: NaiveDate) -> Vec<OpportunityRecord> {
    let pipeline = Pipeline::default_stages();
    let open: Vec<&kam_core::opportunity::Stage> = pipeline.open_stages().collect();
    let leads: HashMap<&str, &str> = reference
        .assignments
        .iter()
        .filter(|a| a.role == AssignmentRole::Lead && a.effective_to.is_none())
        .map(|a| (a.cif_no.as_str(), a.username.as_str()))
        .collect();
    let mut people: HashMap<&str, Vec<&str>> = HashMap::new();
    for p in &reference.key_people {
        people
            .entry(p.cif_no.as_str())
            .or_default()
            .push(p.person.name.as_str());
    }
    let mut out = Vec::new();
    for customer in &reference.customers {
        let cif = customer.cif_no.as_str();
        let (Some(rm), Some(met)) = (leads.get(cif), people.get(cif)) else {
            continue;
        };
        if customer.kind != CustomerKind::Corporate {
            continue;
        }
        let h = hash(cif);
        let important = matches!(
            customer.account_type,
            AccountType::Strategic | AccountType::Important | AccountType::Group
        );
        // Two in five companies are being sold to; the important ones more often and more.
        let count = match (important, h % 5) {
            (true, 0 | 1) => 2,
            (true, _) | (false, 0 | 1) => 1,
            _ => 0,
        };
        for n in 0..count {
            let k = h / 5 + n * 7;
            let (title, products, size) = DEALS[(k % 8) as usize];
            // Size: the deal's typical size × 0.5 … 2, rounded to ten thousand yuan.
            let yuan = size / 2 * (2 + (k / 8 % 7) as i64) / 2 / 10_000 * 10_000;
            // Where it ends: won, lost, or open at a stage.
            let fate = k / 11 % 20;
            let (last, outcome): (usize, Option<bool>) = match fate {
                0..=4 => (open.len() - 1, Some(true)),
                5..=7 => ((k % 4) as usize, Some(false)),
                _ => ((k / 13 % open.len() as u64) as usize, None),
            };
            let stuck = outcome.is_none() && k % 6 == 1;
            // A stage every one to three weeks, as a worked deal moves; the last move (or the
            // opening) days ago for a live one, weeks ago for a stuck one, any time in the past
            // year for a closed one.
            let steps = last as u64 + u64::from(outcome.is_some());
            let step_days = 8 + k % 12;
            let back = match outcome {
                Some(_) => k / 3 % 300,
                None if stuck => STUCK_DAYS + k % 20,
                None => k % 10,
            };
            let end = today - Days::new(back);
            let opened = end - Days::new(steps * step_days);
            let mut moves = Vec::new();
            let mut ticks = Vec::new();
            let mut day = opened;
            for stage in open.iter().take(last + 1).skip(1) {
                day = day + Days::new(step_days.max(1));
                moves.push((stage.code.clone(), day.min(today), (*rm).to_owned(), None));
            }
            for stage in open.iter().take(last) {
                for item in &stage.checklist {
                    ticks.push((stage.code.clone(), item.code.clone()));
                }
            }
            match outcome {
                Some(true) => {
                    day = day + Days::new(step_days.max(1));
                    moves.push(("won".to_owned(), day.min(today), (*rm).to_owned(), None));
                    for item in &open[last].checklist {
                        ticks.push((open[last].code.clone(), item.code.clone()));
                    }
                }
                Some(false) => {
                    day = day + Days::new(step_days.max(1));
                    moves.push((
                        "lost".to_owned(),
                        day.min(today),
                        (*rm).to_owned(),
                        Some(LOST[(k % 4) as usize].to_owned()),
                    ));
                }
                None => {
                    // Part of the current stage's checklist done.
                    for item in open[last].checklist.iter().take((k % 2) as usize + 1) {
                        ticks.push((open[last].code.clone(), item.code.clone()));
                    }
                }
            }
            let since = moves.last().map_or(opened, |m| m.1);
            // Obstacles from needs confirmed on: cleared when won, open on a stuck one.
            let mut obstacles = Vec::new();
            if last >= 2 || outcome == Some(true) {
                let (text, action) = OBSTACLES[(k % 5) as usize];
                let due = (since + Days::new(7 + k % 10)).max(opened);
                let cleared = match outcome {
                    Some(_) => Some(since),
                    None if !stuck && k.is_multiple_of(3) => {
                        Some((since + Days::new(3)).min(today))
                    }
                    None => None,
                };
                obstacles.push((
                    NewObstacle {
                        text: text.to_owned(),
                        action: action.to_owned(),
                        owner: (*rm).to_owned(),
                        due,
                    },
                    cleared,
                ));
            }
            let roles = [
                (InfluenceRole::Economic, Attitude::Neutral),
                (InfluenceRole::Technical, Attitude::Supportive),
                (InfluenceRole::Coach, Attitude::Supportive),
            ];
            let influences = met
                .iter()
                .zip(roles)
                .take(1 + (k % 3) as usize)
                .map(|(name, (role, attitude))| {
                    let attitude = if stuck && role == InfluenceRole::Economic {
                        Attitude::Opposed
                    } else {
                        attitude
                    };
                    ((*name).to_owned(), role, attitude)
                })
                .collect();
            let close = match outcome {
                Some(_) => since,
                None => today + Days::new(15 + k % 120),
            };
            out.push(OpportunityRecord {
                cif_no: cif.to_owned(),
                opportunity: NewOpportunity {
                    title: title.to_owned(),
                    products: products.iter().map(|p| (*p).to_owned()).collect(),
                    amount: yuan.max(100_000) * 100,
                    owner: (*rm).to_owned(),
                    expected_close: close,
                    competitor: Some(COMPETITORS[(k % 5) as usize].to_owned()),
                    position: [
                        Position::Leading,
                        Position::Even,
                        Position::Behind,
                        Position::Unknown,
                    ][(k / 5 % 4) as usize],
                    probability: None,
                    for_group: customer.account_type == AccountType::Group && n == 0,
                    notes: None,
                },
                opened_on: opened,
                moves,
                ticks,
                obstacles,
                influences,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_history_moves_by_the_funnel_rule_and_ends_won_lost_or_open() {
        let bank = crate::Bank::generate(crate::SynthConfig::new(crate::Scale::Small, 7));
        let today = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        let records = opportunity_history(&bank.reference, today);
        assert!(records.len() > 10, "{} opportunities", records.len());
        let pipeline = Pipeline::default_stages();
        let (mut won, mut lost, mut stuck) = (0, 0, 0);
        for r in &records {
            let mut from = "lead".to_owned();
            let mut previous = r.opened_on;
            for (to, on, _, reason) in &r.moves {
                let ticked: Vec<String> = r
                    .ticks
                    .iter()
                    .filter(|(s, _)| *s == from)
                    .map(|(_, i)| i.clone())
                    .collect();
                assert_eq!(
                    pipeline.check_move(&from, to, &ticked, reason.as_deref()),
                    Ok(()),
                    "{} {from} → {to}",
                    r.cif_no
                );
                assert!(
                    *on >= previous && *on <= today,
                    "{} moves in order",
                    r.cif_no
                );
                previous = *on;
                from.clone_from(to);
            }
            match from.as_str() {
                "won" => won += 1,
                "lost" => lost += 1,
                _ if (today - previous).num_days() > 30 => stuck += 1,
                _ => {}
            }
            assert!(r.opportunity.amount > 0);
        }
        assert!(
            won > 0 && lost > 0 && stuck > 0,
            "{won} won, {lost} lost, {stuck} stuck"
        );
        // The weekly reports drafted from the same records say what was moved.
        let (activities, tasks) = crate::work_history(&bank.reference, (today, today));
        let reports =
            crate::weekly_reports(&bank.reference, (&activities, &tasks), &records, today);
        assert!(
            reports
                .iter()
                .any(|r| r.body.contains(" → ") && r.body.contains("五、商机进展（推进")),
            "a report names a stage move"
        );
    }
}

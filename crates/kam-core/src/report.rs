//! The weekly report (周报): written deterministically from what an RM logged in a week — visits
//! and other activities by customer and tier, tasks done and overdue, opportunities moved and won
//! with their amounts, next week's planned visits —
//! as a text the RM edits before submitting it. The same records always give the same text.

use chrono::{Datelike, Days, NaiveDate};

use crate::ParseError;

/// The Monday of `day`'s week: a report's key.
pub fn week_of(day: NaiveDate) -> NaiveDate {
    day - Days::new(u64::from(day.weekday().num_days_from_monday()))
}

/// A week's Monday read from `YYYY-MM-DD` (any day of the week names its Monday).
pub fn parse_week(text: &str) -> Result<NaiveDate, ParseError> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map(week_of)
        .map_err(|_| {
            ParseError::new(
                "week",
                text,
                "not a YYYY-MM-DD date",
                "不是 YYYY-MM-DD 格式的日期",
            )
        })
}

/// An activity of the week as the report names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportActivity {
    pub day: NaiveDate,
    pub customer: String,
    /// The customer's tier name, when tiered.
    pub tier: Option<String>,
    /// The kind in the report's language (拜访, call …).
    pub kind: String,
    pub purpose: String,
    pub outcome: Option<String>,
}

/// A task as the report names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportTask {
    pub due: NaiveDate,
    pub customer: String,
    pub title: String,
}

/// An opportunity's stage move in the week.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportMove {
    pub day: NaiveDate,
    pub customer: String,
    pub title: String,
    /// The stages' names in the report's language.
    pub from: String,
    pub to: String,
    /// Fen.
    pub amount: i64,
    /// Moved to won.
    pub won: bool,
}

/// What a week holds for one user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WeekWork {
    pub logged: Vec<ReportActivity>,
    /// Stage moves of one's opportunities.
    pub moved: Vec<ReportMove>,
    pub done: Vec<ReportTask>,
    /// Open and due before the week's end.
    pub overdue: Vec<ReportTask>,
    /// Planned in the following week.
    pub planned: Vec<ReportActivity>,
}

/// The report's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    Zh,
    En,
}

/// Longest report kept.
pub const REPORT_LIMIT: usize = 20_000;

/// A report's text as saved: within bounds (`body` names the field).
pub fn check_body(body: &str) -> Result<String, ParseError> {
    let body = body.trim_end();
    if body.trim().is_empty() || body.chars().count() > REPORT_LIMIT {
        return Err(ParseError::new(
            "body",
            body.chars().take(20).collect::<String>(),
            format!("write the report: 1 to {REPORT_LIMIT} characters"),
            format!("请填写周报（1 至 {REPORT_LIMIT} 字）"),
        ));
    }
    Ok(body.to_owned())
}

/// The draft of the week starting `monday`, in `lang`: a heading, then each section with its
/// lines in a fixed order (by day, then customer), empty sections saying so.
pub fn draft(monday: NaiveDate, work: &WeekWork, lang: Language) -> String {
    let zh = lang == Language::Zh;
    let sunday = monday + Days::new(6);
    let mut logged = work.logged.clone();
    logged.sort_by(|a, b| (a.day, &a.customer).cmp(&(b.day, &b.customer)));
    let mut planned = work.planned.clone();
    planned.sort_by(|a, b| (a.day, &a.customer).cmp(&(b.day, &b.customer)));
    let mut done = work.done.clone();
    done.sort_by(|a, b| (a.due, &a.customer, &a.title).cmp(&(b.due, &b.customer, &b.title)));
    let mut overdue = work.overdue.clone();
    overdue.sort_by(|a, b| (a.due, &a.customer, &a.title).cmp(&(b.due, &b.customer, &b.title)));
    let customers = {
        let mut names: Vec<&str> = logged.iter().map(|a| a.customer.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        names.len()
    };
    let mut out = Vec::new();
    out.push(if zh {
        format!("周报 {monday} 至 {sunday}")
    } else {
        format!("Weekly report {monday} to {sunday}")
    });
    out.push(String::new());
    out.push(if zh {
        format!("一、本周拜访与活动（{} 次，{customers} 户）", logged.len())
    } else {
        format!(
            "1. Visits and activities this week ({}, {customers} customers)",
            logged.len()
        )
    });
    let activity_line = |a: &ReportActivity| {
        let tier = a
            .tier
            .as_deref()
            .map(|t| format!("［{t}］"))
            .unwrap_or_default();
        let outcome = match (&a.outcome, zh) {
            (Some(o), true) => format!("；结果：{o}"),
            (Some(o), false) => format!("; outcome: {o}"),
            (None, _) => String::new(),
        };
        format!(
            "- {} {}{tier} {}：{}{outcome}",
            a.day.format("%m-%d"),
            a.customer,
            a.kind,
            a.purpose
        )
    };
    push_lines(&mut out, logged.iter().map(activity_line), zh);
    out.push(String::new());
    out.push(if zh {
        format!("二、完成的任务（{} 项）", done.len())
    } else {
        format!("2. Tasks done ({})", done.len())
    });
    let task_line =
        |k: &ReportTask| format!("- {} {}：{}", k.due.format("%m-%d"), k.customer, k.title);
    push_lines(&mut out, done.iter().map(task_line), zh);
    out.push(String::new());
    out.push(if zh {
        format!("三、逾期未完成的任务（{} 项）", overdue.len())
    } else {
        format!("3. Tasks overdue ({})", overdue.len())
    });
    push_lines(&mut out, overdue.iter().map(task_line), zh);
    out.push(String::new());
    out.push(if zh {
        format!("四、下周计划拜访（{} 次）", planned.len())
    } else {
        format!("4. Visits planned next week ({})", planned.len())
    });
    push_lines(&mut out, planned.iter().map(activity_line), zh);
    out.push(String::new());
    let mut moved = work.moved.clone();
    moved.sort_by(|a, b| (a.day, &a.customer, &a.title).cmp(&(b.day, &b.customer, &b.title)));
    let won: Vec<&ReportMove> = moved.iter().filter(|m| m.won).collect();
    let won_amount = wan(won.iter().map(|m| m.amount).sum(), zh);
    out.push(if zh {
        format!(
            "五、商机进展（推进 {} 次，成交 {} 笔，成交金额 {won_amount}）",
            moved.len(),
            won.len()
        )
    } else {
        format!(
            "5. Opportunities ({} moves, {} won, {won_amount} won)",
            moved.len(),
            won.len()
        )
    });
    let move_line = |m: &ReportMove| {
        format!(
            "- {} {} {}：{} → {}（{}）",
            m.day.format("%m-%d"),
            m.customer,
            m.title,
            m.from,
            m.to,
            wan(m.amount, zh)
        )
    };
    push_lines(&mut out, moved.iter().map(move_line), zh);
    out.push(String::new());
    out.push(if zh {
        "六、需要协调的事项".to_owned()
    } else {
        "6. Help needed".to_owned()
    });
    out.push(if zh {
        "- （请填写）".to_owned()
    } else {
        "- (to fill in)".to_owned()
    });
    out.join("\n")
}

/// An amount in 万元 to the hundredth, rounded half away from zero, with thousands separators:
/// `1,200.00 万元` (`CNY 10k` in English).
fn wan(fen: i64, zh: bool) -> String {
    let hundredths = i128::from(fen);
    let (q, r) = (hundredths / 10_000, hundredths % 10_000);
    let x = if 2 * r.abs() >= 10_000 {
        q + hundredths.signum()
    } else {
        q
    };
    let whole = (x.abs() / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if x < 0 { "-" } else { "" };
    let unit = if zh { " 万元" } else { " CNY 10k" };
    format!("{sign}{grouped}.{:02}{unit}", x.abs() % 100)
}

fn push_lines(out: &mut Vec<String>, lines: impl Iterator<Item = String>, zh: bool) {
    let before = out.len();
    out.extend(lines);
    if out.len() == before {
        out.push(if zh {
            "- 无".to_owned()
        } else {
            "- none".to_owned()
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: &str) -> NaiveDate {
        d.parse().unwrap()
    }

    fn work() -> WeekWork {
        let activity = |d: &str,
                        customer: &str,
                        tier: Option<&str>,
                        kind: &str,
                        purpose: &str,
                        outcome: Option<&str>| ReportActivity {
            day: day(d),
            customer: customer.into(),
            tier: tier.map(Into::into),
            kind: kind.into(),
            purpose: purpose.into(),
            outcome: outcome.map(Into::into),
        };
        let task = |d: &str, customer: &str, title: &str| ReportTask {
            due: day(d),
            customer: customer.into(),
            title: title.into(),
        };
        WeekWork {
            logged: vec![
                activity("2026-12-03", "乙公司", None, "电话", "确认授信需求", None),
                activity(
                    "2026-12-01",
                    "甲公司",
                    Some("战略"),
                    "拜访",
                    "介绍现金管理方案",
                    Some("同意下周看方案"),
                ),
                activity(
                    "2026-12-03",
                    "甲公司",
                    Some("战略"),
                    "拜访",
                    "回访",
                    Some("提供了报表"),
                ),
            ],
            done: vec![task("2026-12-02", "甲公司", "发送方案")],
            overdue: vec![task("2026-11-28", "丙公司", "准备续授信材料")],
            planned: vec![activity(
                "2026-12-08",
                "丙公司",
                Some("核心"),
                "拜访",
                "沟通续授信安排",
                None,
            )],
            moved: vec![
                ReportMove {
                    day: day("2026-12-04"),
                    customer: "甲公司".into(),
                    title: "流动资金贷款续作".into(),
                    from: "审批/谈判".into(),
                    to: "成交".into(),
                    amount: 1_200_000_050,
                    won: true,
                },
                ReportMove {
                    day: day("2026-12-02"),
                    customer: "乙公司".into(),
                    title: "现金管理".into(),
                    from: "线索".into(),
                    to: "接触".into(),
                    amount: 4_999,
                    won: false,
                },
            ],
        }
    }

    #[test]
    fn the_draft_is_the_same_for_the_same_week() {
        let monday = week_of(day("2026-12-03"));
        assert_eq!(monday, day("2026-11-30"));
        insta::assert_snapshot!(draft(monday, &work(), Language::Zh), @r"
        周报 2026-11-30 至 2026-12-06

        一、本周拜访与活动（3 次，2 户）
        - 12-01 甲公司［战略］ 拜访：介绍现金管理方案；结果：同意下周看方案
        - 12-03 乙公司 电话：确认授信需求
        - 12-03 甲公司［战略］ 拜访：回访；结果：提供了报表

        二、完成的任务（1 项）
        - 12-02 甲公司：发送方案

        三、逾期未完成的任务（1 项）
        - 11-28 丙公司：准备续授信材料

        四、下周计划拜访（1 次）
        - 12-08 丙公司［核心］ 拜访：沟通续授信安排

        五、商机进展（推进 2 次，成交 1 笔，成交金额 1,200.00 万元）
        - 12-02 乙公司 现金管理：线索 → 接触（0.00 万元）
        - 12-04 甲公司 流动资金贷款续作：审批/谈判 → 成交（1,200.00 万元）

        六、需要协调的事项
        - （请填写）
        ");
        let mut shuffled = work();
        shuffled.logged.reverse();
        assert_eq!(
            draft(monday, &shuffled, Language::Zh),
            draft(monday, &work(), Language::Zh),
            "order does not depend on the records' order"
        );
        let empty = draft(monday, &WeekWork::default(), Language::En);
        assert!(empty.contains("1. Visits and activities this week (0, 0 customers)\n- none"));
    }

    #[test]
    fn a_body_is_checked_and_any_day_names_its_monday() {
        assert_eq!(check_body("  \n").unwrap_err().field, "body");
        assert_eq!(check_body("周报\n").unwrap(), "周报");
        assert_eq!(parse_week("2026-12-06").unwrap(), day("2026-11-30"));
        assert!(parse_week("12/06").is_err());
    }
}

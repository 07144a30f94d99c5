//! Visits, calls, meetings and events with a customer (拜访与活动): planned, logged with structured
//! SPIN notes and the needs found (隐含/明确), moved or cancelled with a reason. What makes an
//! activity acceptable is decided here; the store keeps it and turns next steps into tasks.

use chrono::{NaiveDate, NaiveDateTime};

use crate::{ParseError, code_enum, id::KeyPersonId};

code_enum! {
    /// What kind of contact it was.
    pub enum ActivityKind as "activity_kind" {
        Visit = "visit",
        Call = "call",
        Meeting = "meeting",
        Event = "event",
    }
}

impl ActivityKind {
    pub fn label_zh(self) -> &'static str {
        match self {
            ActivityKind::Visit => "拜访",
            ActivityKind::Call => "电话",
            ActivityKind::Meeting => "会议",
            ActivityKind::Event => "活动",
        }
    }
}

code_enum! {
    /// Planned (in the calendar), done (logged), or cancelled with a reason.
    pub enum ActivityStatus as "activity_status" {
        Planned = "planned",
        Done = "done",
        Cancelled = "cancelled",
    }
}

code_enum! {
    /// 隐含需求 (the customer states a problem or dissatisfaction) or 明确需求 (the customer states a
    /// want or an intention to act). SPIN's point: implied needs become explicit through
    /// implication and need-payoff questions; only explicit needs predict a sale.
    pub enum NeedKind as "need_kind" {
        Implied = "implied",
        Explicit = "explicit",
    }
}

code_enum! {
    /// Whether a need found is still open or has been met (by a product, or otherwise).
    pub enum NeedStatus as "need_status" {
        Open = "open",
        Met = "met",
    }
}

/// The SPIN notes of a conversation: each question type's answer as the RM heard it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Spin {
    /// 背景问题: the customer's situation (facts, volumes, current banks).
    pub situation: Option<String>,
    /// 难点问题: problems, difficulties, dissatisfactions.
    pub problem: Option<String>,
    /// 暗示问题: the consequences of those problems.
    pub implication: Option<String>,
    /// 需求-效益问题: the value of solving them, in the customer's words.
    pub need_payoff: Option<String>,
}

impl Spin {
    pub fn is_empty(&self) -> bool {
        self.situation.is_none()
            && self.problem.is_none()
            && self.implication.is_none()
            && self.need_payoff.is_none()
    }
}

/// A need found in a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundNeed {
    pub text: String,
    pub kind: NeedKind,
}

/// A next step agreed in a conversation: it becomes a task of `owner` (a user name; the one who
/// logs it when empty), due on `due`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextStep {
    pub text: String,
    pub due: NaiveDate,
    pub owner: Option<String>,
}

/// At most this many needs and next steps in one activity (the form's rows).
pub const LIST_LIMIT: usize = 5;
/// Longest note (each SPIN field, the outcome).
pub const NOTE_LIMIT: usize = 2_000;

/// The field names of the list rows, so a refusal names the row: `need_2`, `step_3_due`.
pub const NEED_FIELDS: [&str; LIST_LIMIT] = ["need_1", "need_2", "need_3", "need_4", "need_5"];
pub const STEP_FIELDS: [&str; LIST_LIMIT] = ["step_1", "step_2", "step_3", "step_4", "step_5"];
pub const STEP_DUE_FIELDS: [&str; LIST_LIMIT] = [
    "step_1_due",
    "step_2_due",
    "step_3_due",
    "step_4_due",
    "step_5_due",
];

/// An activity as a form or the API gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewActivity {
    pub kind: ActivityKind,
    /// When, in the bank's time.
    pub starts: NaiveDateTime,
    pub minutes: Option<u32>,
    pub place: Option<String>,
    pub purpose: String,
    /// Our people beside the one who logs it (user names).
    pub colleagues: Vec<String>,
    /// The customer's key people who take part.
    pub people: Vec<KeyPersonId>,
    pub spin: Spin,
    pub needs: Vec<FoundNeed>,
    pub outcome: Option<String>,
    pub next_steps: Vec<NextStep>,
}

/// A text field: trimmed, empty is `None`, at most `max` characters.
pub fn note(field: &'static str, value: &str, max: usize) -> Result<Option<String>, ParseError> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    if value.chars().count() > max {
        return Err(ParseError::new(
            field,
            value.chars().take(20).collect::<String>(),
            format!("at most {max} characters"),
            format!("最多 {max} 个字"),
        ));
    }
    Ok(Some(value.to_owned()))
}

/// A required short text (a purpose, a need, a step, a reason): 2 to 200 characters.
pub fn line(field: &'static str, value: &str) -> Result<String, ParseError> {
    let value = value.trim();
    let n = value.chars().count();
    if !(2..=200).contains(&n) || value.chars().any(char::is_control) {
        return Err(ParseError::new(
            field,
            value.chars().take(20).collect::<String>(),
            "write 2 to 200 characters",
            "请填写 2 至 200 个字",
        ));
    }
    Ok(value.to_owned())
}

impl NewActivity {
    /// Whether the activity may be kept with `status` on `today`; the first refusal names its
    /// field. A logged activity took place on or before today; a planned one is today or later
    /// (a plan for the past is logged instead). Needs and next steps come out of a conversation
    /// that happened: a plan carries neither. A next step is due on or after the activity's day.
    pub fn check(&self, status: ActivityStatus, today: NaiveDate) -> Result<(), ParseError> {
        let day = self.starts.date();
        match status {
            ActivityStatus::Done if day > today => {
                return Err(ParseError::new(
                    "starts",
                    self.starts.to_string(),
                    "a logged activity has taken place: today or earlier (plan it instead)",
                    "已发生的活动日期应为今天或以前（未来的请作为计划）",
                ));
            }
            ActivityStatus::Planned if day < today => {
                return Err(ParseError::new(
                    "starts",
                    self.starts.to_string(),
                    "a plan is for today or later (log what took place instead)",
                    "计划日期应为今天或以后（已发生的请直接记录）",
                ));
            }
            _ => {}
        }
        if day < today - chrono::Days::new(366) {
            return Err(ParseError::new(
                "starts",
                self.starts.to_string(),
                "more than a year ago",
                "日期早于一年前",
            ));
        }
        line("purpose", &self.purpose)?;
        if let Some(m) = self.minutes
            && !(1..=24 * 60).contains(&m)
        {
            return Err(ParseError::new(
                "minutes",
                m.to_string(),
                "minutes from 1 to 1440",
                "时长应为 1 至 1440 分钟",
            ));
        }
        if status == ActivityStatus::Planned
            && (!self.needs.is_empty() || !self.next_steps.is_empty())
        {
            let field = if self.needs.is_empty() {
                STEP_FIELDS[0]
            } else {
                NEED_FIELDS[0]
            };
            return Err(ParseError::new(
                field,
                "",
                "needs and next steps are recorded when the activity is logged",
                "需求与后续行动在记录活动结果时填写",
            ));
        }
        if self.needs.len() > LIST_LIMIT || self.next_steps.len() > LIST_LIMIT {
            return Err(ParseError::new(
                NEED_FIELDS[LIST_LIMIT - 1],
                "",
                format!("at most {LIST_LIMIT} needs and {LIST_LIMIT} next steps"),
                format!("需求与后续行动各最多 {LIST_LIMIT} 条"),
            ));
        }
        for (need, field) in self.needs.iter().zip(NEED_FIELDS) {
            line(field, &need.text)?;
        }
        for (i, step) in self.next_steps.iter().enumerate() {
            line(STEP_FIELDS[i], &step.text)?;
            if step.due < day || step.due > day + chrono::Days::new(366) {
                return Err(ParseError::new(
                    STEP_DUE_FIELDS[i],
                    step.due.to_string(),
                    "due on or after the activity's day, within a year",
                    "到期日应在活动当天或以后，一年以内",
                ));
            }
        }
        Ok(())
    }
}

/// An activity as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity {
    pub id: crate::id::ActivityId,
    pub customer_id: crate::id::CustomerId,
    pub status: ActivityStatus,
    pub details: NewActivity,
    /// Why it was moved (the latest move) or cancelled.
    pub reason: Option<String>,
    /// Who logged or planned it (a user name).
    pub created_by: String,
    pub version: i64,
}

impl Activity {
    /// Whether `next` (with `status`) moves a planned activity to another time: a move needs a
    /// reason, kept and audited.
    pub fn is_moved_by(&self, next: &NewActivity, status: ActivityStatus) -> bool {
        self.status == ActivityStatus::Planned
            && status == ActivityStatus::Planned
            && next.starts != self.details.starts
    }

    /// Whether the status may go from this one to `next`: a plan is kept, logged or cancelled;
    /// a logged activity may have its notes corrected (or be withdrawn by cancelling it); a
    /// cancelled one is final.
    pub fn may_become(&self, next: ActivityStatus) -> bool {
        match self.status {
            ActivityStatus::Planned => true,
            ActivityStatus::Done => next != ActivityStatus::Planned,
            ActivityStatus::Cancelled => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: &str) -> NaiveDate {
        d.parse().unwrap()
    }

    fn visit(on: &str) -> NewActivity {
        NewActivity {
            kind: ActivityKind::Visit,
            starts: day(on).and_hms_opt(9, 30, 0).unwrap(),
            minutes: Some(60),
            place: Some("客户办公室".into()),
            purpose: "了解代发工资需求".into(),
            colleagues: vec![],
            people: vec![],
            spin: Spin::default(),
            needs: vec![],
            outcome: None,
            next_steps: vec![],
        }
    }

    #[test]
    fn a_logged_activity_is_past_and_a_plan_is_future() {
        let today = day("2026-12-06");
        assert_eq!(
            visit("2026-12-06").check(ActivityStatus::Done, today),
            Ok(())
        );
        assert_eq!(
            visit("2026-12-07")
                .check(ActivityStatus::Done, today)
                .unwrap_err()
                .field,
            "starts"
        );
        assert_eq!(
            visit("2026-12-05")
                .check(ActivityStatus::Planned, today)
                .unwrap_err()
                .field,
            "starts"
        );
        assert_eq!(
            visit("2026-12-08").check(ActivityStatus::Planned, today),
            Ok(())
        );
    }

    #[test]
    fn needs_and_steps_are_checked_row_by_row_and_only_when_logged() {
        let today = day("2026-12-06");
        let mut a = visit("2026-12-04");
        a.needs = vec![
            FoundNeed {
                text: "希望缩短资金到账时间".into(),
                kind: NeedKind::Implied,
            },
            FoundNeed {
                text: "x".into(),
                kind: NeedKind::Explicit,
            },
        ];
        assert_eq!(
            a.check(ActivityStatus::Done, today).unwrap_err().field,
            "need_2"
        );
        a.needs.pop();
        a.next_steps = vec![
            NextStep {
                text: "发送现金管理方案".into(),
                due: day("2026-12-10"),
                owner: None,
            },
            NextStep {
                text: "约财务总监面谈".into(),
                due: day("2026-12-01"),
                owner: None,
            },
        ];
        assert_eq!(
            a.check(ActivityStatus::Done, today).unwrap_err().field,
            "step_2_due"
        );
        a.next_steps[1].due = day("2026-12-04");
        assert_eq!(a.check(ActivityStatus::Done, today), Ok(()));
        a.starts = day("2026-12-09").and_hms_opt(10, 0, 0).unwrap();
        a.next_steps.clear();
        assert_eq!(
            a.check(ActivityStatus::Planned, today).unwrap_err().field,
            "need_1"
        );
        a.purpose = " ".into();
        a.needs.clear();
        assert_eq!(
            a.check(ActivityStatus::Planned, today).unwrap_err().field,
            "purpose"
        );
    }

    #[test]
    fn a_cancelled_activity_is_final_and_a_move_is_a_plan_retimed() {
        let stored = Activity {
            id: crate::id::ActivityId(1),
            customer_id: crate::id::CustomerId(1),
            status: ActivityStatus::Planned,
            details: visit("2026-12-08"),
            reason: None,
            created_by: "rm".into(),
            version: 1,
        };
        assert!(stored.is_moved_by(&visit("2026-12-09"), ActivityStatus::Planned));
        assert!(!stored.is_moved_by(&visit("2026-12-08"), ActivityStatus::Planned));
        assert!(!stored.is_moved_by(&visit("2026-12-09"), ActivityStatus::Done));
        assert!(stored.may_become(ActivityStatus::Done));
        let done = Activity {
            status: ActivityStatus::Done,
            ..stored.clone()
        };
        assert!(!done.may_become(ActivityStatus::Planned));
        assert!(done.may_become(ActivityStatus::Cancelled));
        let cancelled = Activity {
            status: ActivityStatus::Cancelled,
            ..stored
        };
        assert!(!cancelled.may_become(ActivityStatus::Done));
    }
}

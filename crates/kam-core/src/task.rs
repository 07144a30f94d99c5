//! Tasks (任务): a colleague's piece of work on a customer, due on a day, with a priority; made by
//! hand, from an activity's next steps or from an obstacle's action; done and reopened. The
//! rules of a task and of "my day" (what is due, what is overdue) are here.

use chrono::NaiveDate;

use crate::{
    ParseError,
    activity::{line, note},
    code_enum,
    id::{ActivityId, CustomerId, TaskId, UserId},
};

code_enum! {
    /// How urgent a task is.
    pub enum Priority as "priority" {
        High = "high",
        Normal = "normal",
        Low = "low",
    }
}

code_enum! {
    /// Open or done; a task withdrawn by mistake is deleted (softly, with a reason).
    pub enum TaskStatus as "task_status" {
        Open = "open",
        Done = "done",
    }
}

code_enum! {
    /// Where a task came from.
    pub enum TaskSource as "task_source" {
        Hand = "hand",
        NextStep = "next_step",
        Obstacle = "obstacle",
    }
}

/// A task as a form or the API gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTask {
    pub title: String,
    pub due: NaiveDate,
    /// The colleague who does it (a user name).
    pub owner: String,
    pub priority: Priority,
    pub notes: Option<String>,
}

impl NewTask {
    pub fn parse(
        title: &str,
        due: NaiveDate,
        owner: &str,
        priority: Priority,
        notes: &str,
    ) -> Result<Self, ParseError> {
        let owner = owner.trim();
        if owner.is_empty() || owner.chars().count() > 64 {
            return Err(ParseError::new(
                "owner",
                owner,
                "name a colleague by their user name",
                "请填写同事的登录名",
            ));
        }
        Ok(Self {
            title: line("title", title)?,
            due,
            owner: owner.to_owned(),
            priority,
            notes: note("notes", notes, crate::activity::NOTE_LIMIT)?,
        })
    }

    /// A due day within a year before and five years after `today` (a typo's year is caught).
    pub fn check(&self, today: NaiveDate) -> Result<(), ParseError> {
        if self.due < today - chrono::Days::new(366) || self.due > today + chrono::Days::new(1830) {
            return Err(ParseError::new(
                "due",
                self.due.to_string(),
                "a due day within a year before and five years after today",
                "到期日应在今天之前一年至之后五年之间",
            ));
        }
        Ok(())
    }
}

/// A task as stored, with the names a page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    pub id: TaskId,
    pub customer_id: CustomerId,
    pub cif_no: String,
    pub customer_name: String,
    pub title: String,
    pub due: NaiveDate,
    pub owner_id: UserId,
    pub owner: String,
    pub owner_name: String,
    pub priority: Priority,
    pub status: TaskStatus,
    pub done_on: Option<NaiveDate>,
    pub notes: Option<String>,
    pub source: TaskSource,
    /// The activity whose next step it is.
    pub activity_id: Option<ActivityId>,
    pub version: i64,
}

/// Where an open task stands on `today`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Due {
    /// Past its day and not done.
    Overdue,
    Today,
    Later,
    Done,
}

impl Task {
    pub fn due_on(&self, today: NaiveDate) -> Due {
        match self.status {
            TaskStatus::Done => Due::Done,
            TaskStatus::Open if self.due < today => Due::Overdue,
            TaskStatus::Open if self.due == today => Due::Today,
            TaskStatus::Open => Due::Later,
        }
    }

    /// Days past due (0 unless overdue).
    pub fn days_overdue(&self, today: NaiveDate) -> i64 {
        match self.due_on(today) {
            Due::Overdue => (today - self.due).num_days(),
            _ => 0,
        }
    }
}

/// "My day"'s order: overdue first (oldest first), then today's, then later ones by day; within
/// a day high priority first.
pub fn my_day_order(tasks: &mut [Task], today: NaiveDate) {
    let rank = |p: Priority| match p {
        Priority::High => 0,
        Priority::Normal => 1,
        Priority::Low => 2,
    };
    tasks.sort_by_key(|t| (t.due_on(today), t.due, rank(t.priority), t.id));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: &str) -> NaiveDate {
        d.parse().unwrap()
    }

    fn task(id: i64, due: &str, priority: Priority, status: TaskStatus) -> Task {
        Task {
            id: TaskId(id),
            customer_id: CustomerId(1),
            cif_no: "C1".into(),
            customer_name: "甲公司".into(),
            title: "送方案".into(),
            due: day(due),
            owner_id: UserId(1),
            owner: "rm".into(),
            owner_name: "王".into(),
            priority,
            status,
            done_on: None,
            notes: None,
            source: TaskSource::Hand,
            activity_id: None,
            version: 1,
        }
    }

    #[test]
    fn overdue_then_today_then_later_high_priority_first() {
        let today = day("2026-12-06");
        let mut tasks = vec![
            task(1, "2026-12-08", Priority::High, TaskStatus::Open),
            task(2, "2026-12-06", Priority::Low, TaskStatus::Open),
            task(3, "2026-12-06", Priority::High, TaskStatus::Open),
            task(4, "2026-12-01", Priority::Normal, TaskStatus::Open),
            task(5, "2026-12-01", Priority::Normal, TaskStatus::Done),
        ];
        my_day_order(&mut tasks, today);
        let ids: Vec<i64> = tasks.iter().map(|t| t.id.0).collect();
        assert_eq!(ids, vec![4, 3, 2, 1, 5]);
        assert_eq!(tasks[0].days_overdue(today), 5);
        assert_eq!(tasks[4].days_overdue(today), 0);
    }

    #[test]
    fn a_task_names_what_is_wrong() {
        let today = day("2026-12-06");
        assert_eq!(
            NewTask::parse("x", today, "rm", Priority::Normal, "")
                .unwrap_err()
                .field,
            "title"
        );
        assert_eq!(
            NewTask::parse("送方案", today, " ", Priority::Normal, "")
                .unwrap_err()
                .field,
            "owner"
        );
        let t = NewTask::parse("送方案", day("2036-12-06"), "rm", Priority::Normal, "").unwrap();
        assert_eq!(t.check(today).unwrap_err().field, "due");
        let t = NewTask::parse("送方案", today, "rm", Priority::Normal, "  ").unwrap();
        assert_eq!(t.notes, None);
        assert_eq!(t.check(today), Ok(()));
    }
}

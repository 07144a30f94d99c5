//! Tasks (任务) on the user handle: added by hand, from an activity's next steps or from an
//! obstacle's action; edited by version; done and reopened; deleted softly with a reason. A task
//! is read and changed through its customer's reach; whom it may be given to is kam-core's rule
//! (`Scope::may_give_alert_to`: oneself, or a manager's RMs and presidents in reach).

use chrono::NaiveDate;
use kam_core::{
    activity::line,
    id::{ActivityId, CustomerId, TaskId, UserId},
    task::{NewTask, Priority, Task, TaskSource, TaskStatus},
};
use sqlx::{Row, any::AnyRow};

use crate::{
    Error, Result, UserStore, audit,
    bulk::insert_one,
    customer::parse_date,
    handle::WriteTx,
    org::corrupt,
    sql::{Sql, Values},
};

/// Which tasks to read: all in reach by default.
#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    /// Only this colleague's.
    pub owner: Option<UserId>,
    pub customer: Option<CustomerId>,
    /// Only the next steps of this activity.
    pub activity: Option<ActivityId>,
    /// Due on or after / on or before.
    pub due_from: Option<NaiveDate>,
    pub due_to: Option<NaiveDate>,
    pub open_only: bool,
    /// At most this many (0: no limit).
    pub limit: u32,
}

const TASK_COLUMNS: &str = "t.id, t.customer_id, c.cif_no, c.name as customer_name, t.title, \
    t.due_on, t.owner_id, u.username as owner, u.display_name as owner_name, t.priority, \
    t.status, t.done_on, t.notes, t.source, t.activity_id, t.version";

const TASK_FROM: &str =
    "from customer c join task t on t.customer_id = c.id join app_user u on u.id = t.owner_id";

fn task_from_row(row: &AnyRow) -> Result<Task> {
    let date = |column: &'static str| -> Result<Option<NaiveDate>> {
        row.try_get::<Option<String>, _>(column)?
            .map(|d| parse_date(column, &d))
            .transpose()
    };
    Ok(Task {
        id: TaskId(row.try_get("id")?),
        customer_id: CustomerId(row.try_get("customer_id")?),
        cif_no: row.try_get("cif_no")?,
        customer_name: row.try_get("customer_name")?,
        title: row.try_get("title")?,
        due: parse_date("due_on", &row.try_get::<String, _>("due_on")?)?,
        owner_id: UserId(row.try_get("owner_id")?),
        owner: row.try_get("owner")?,
        owner_name: row.try_get("owner_name")?,
        priority: Priority::parse(&row.try_get::<String, _>("priority")?).map_err(corrupt)?,
        status: TaskStatus::parse(&row.try_get::<String, _>("status")?).map_err(corrupt)?,
        done_on: date("done_on")?,
        notes: row.try_get("notes")?,
        source: TaskSource::parse(&row.try_get::<String, _>("source")?).map_err(corrupt)?,
        activity_id: row
            .try_get::<Option<i64>, _>("activity_id")?
            .map(ActivityId),
        version: row.try_get("version")?,
    })
}

/// A new task's row (version 1), open or done on a day: the one writer of `task`, for a
/// user's task and the bulk load alike.
pub(crate) fn task_values(
    (customer, activity, owner): (CustomerId, Option<ActivityId>, UserId),
    task: &NewTask,
    (source, done_on): (TaskSource, Option<NaiveDate>),
    (by, now): (&str, &str),
) -> Values {
    let status = if done_on.is_some() {
        TaskStatus::Done
    } else {
        TaskStatus::Open
    };
    Values::new()
        .put("customer_id", customer.0)
        .put("activity_id", activity.map(|a| a.0))
        .put("title", task.title.as_str())
        .put("due_on", task.due.to_string())
        .put("owner_id", owner.0)
        .put("priority", task.priority.as_str())
        .put("status", status.as_str())
        .put("done_on", done_on.map(|d| d.to_string()))
        .put("notes", task.notes.clone())
        .put("source", source.as_str())
        .put("version", 1_i64)
        .put("created_by", by)
        .put("created_at", now)
}

impl crate::Store {
    /// For the batch: per customer number and window `w`, the indicator `task_count`
    /// (docs/indicators.md) — tasks (not deleted) due or done in the `w` days ending on `as_of`,
    /// plus activities logged (not cancelled) in them. Customers with none are absent. A system
    /// read over the whole bank, like `batch_customers`.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn task_counts(
        &self,
        as_of: NaiveDate,
        windows: &[u32],
    ) -> Result<std::collections::HashMap<(String, u32), i64>> {
        let mut out = std::collections::HashMap::new();
        let to = as_of.to_string();
        let until = (as_of + chrono::Days::new(1)).to_string();
        for &window in windows {
            let from = (as_of - chrono::Days::new(u64::from(window))).to_string();
            let in_window = |column: &str, sql: &mut Sql| {
                sql.push(&format!(" and {column} > "))
                    .bind(from.clone())
                    .push(&format!(" and {column} <= "))
                    .bind(to.clone());
            };
            let mut sql = Sql::new(
                "select c.cif_no, count(*) as n from task t join customer c on c.id = t.customer_id \
                 where t.deleted_on is null and ((1 = 1",
            );
            in_window("t.due_on", &mut sql);
            sql.push(") or (t.done_on is not null");
            in_window("t.done_on", &mut sql);
            sql.push(")) group by c.cif_no");
            for row in sql.query().fetch_all(self.pool()).await? {
                out.insert(
                    (row.try_get::<String, _>("cif_no")?, window),
                    row.try_get::<i64, _>("n")?,
                );
            }
            // Logged activities: `starts_at` is 'YYYY-MM-DD HH:MM', so the day after `as_of` bounds it.
            let rows = Sql::new(
                "select c.cif_no, count(*) as n from activity a join customer c on c.id = a.customer_id \
                 where a.status = 'done' and a.starts_at >= ",
            )
            .bind((as_of - chrono::Days::new(u64::from(window).saturating_sub(1))).to_string())
            .push(" and a.starts_at < ")
            .bind(until.clone())
            .push(" group by c.cif_no")
            .query()
            .fetch_all(self.pool())
            .await?;
            for row in rows {
                *out.entry((row.try_get::<String, _>("cif_no")?, window))
                    .or_insert(0) += row.try_get::<i64, _>("n")?;
            }
        }
        Ok(out)
    }
}

impl UserStore {
    /// The writing transaction for a change to task `id`, found through its customer's reach
    /// (a deleted task is `NotFound`), with the task as stored; `Conflict` when it was saved
    /// since `seen`.
    async fn begin_task_write(
        &self,
        id: TaskId,
        action: &str,
        seen: i64,
    ) -> Result<(WriteTx, Task)> {
        let mut find = self.visible(&format!("select {TASK_COLUMNS} {TASK_FROM}"));
        find.push(" and t.deleted_on is null and t.id = ")
            .bind(id.0);
        let (tx, row) = self
            .begin_customer_write(find, action, "task", &id.to_string())
            .await?;
        let task = task_from_row(&row)?;
        if task.version != seen {
            return Err(Error::Conflict {
                entity: "task",
                key: id.to_string(),
            });
        }
        Ok((tx, task))
    }

    /// Adds a task on a customer in reach for `task.owner` (oneself, or for a manager a
    /// colleague in reach: `NotPermitted` otherwise, audited).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn add_task(&self, customer_id: CustomerId, task: &NewTask) -> Result<TaskId> {
        let (mut tx, cif_no) = self
            .begin_customer_change(customer_id, "add", "task")
            .await?;
        task.check(self.scope().on())?;
        let id = self
            .insert_task(
                &mut tx,
                customer_id,
                task,
                (TaskSource::Hand, None),
                "owner",
            )
            .await?;
        audit::record(
            &mut tx,
            self.actor(),
            "add",
            "task",
            &cif_no,
            &format!("{}: {} ({})", id.0, task.title, task.owner),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Inserts a task in `tx` after kam-core's check of its owner (`field` names the owner's
    /// field in a refusal: `owner`, or a next step's row).
    pub(crate) async fn insert_task(
        &self,
        tx: &mut WriteTx,
        customer_id: CustomerId,
        task: &NewTask,
        (source, activity): (TaskSource, Option<ActivityId>),
        field: &'static str,
    ) -> Result<TaskId> {
        let owner = self.colleague_for_work(tx, &task.owner, field).await?.id;
        let now = audit::now();
        let row = task_values(
            (customer_id, activity, owner),
            task,
            (source, None),
            (self.actor().name.as_str(), &now),
        );
        let id = insert_one(tx, "task", row, ("task", &task.title)).await?;
        Ok(TaskId(id))
    }

    /// Changes an open or done task's title, day, owner, priority and notes. `seen` is the
    /// version the form started from. Returns the new version.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn edit_task(&self, id: TaskId, task: &NewTask, seen: i64) -> Result<i64> {
        let (mut tx, stored) = self.begin_task_write(id, "edit", seen).await?;
        task.check(self.scope().on())?;
        let owner = if task.owner == stored.owner {
            stored.owner_id
        } else {
            self.colleague_for_work(&mut tx, &task.owner, "owner")
                .await?
                .id
        };
        let version = seen + 1;
        self.save_versioned(
            &mut tx,
            ("task", id.0),
            Values::new()
                .put("title", task.title.as_str())
                .put("due_on", task.due.to_string())
                .put("owner_id", owner.0)
                .put("priority", task.priority.as_str())
                .put("notes", task.notes.clone()),
            version,
        )
        .await?;
        let detail = format!(
            "{}: {} ({}) due {} version {version}",
            id.0, task.title, task.owner, task.due
        );
        self.commit_audited(tx, ("edit", "task", &stored.cif_no), &detail)
            .await?;
        Ok(version)
    }

    /// Marks a task done (today) or reopens it. Returns the new version.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn set_task_status(&self, id: TaskId, status: TaskStatus, seen: i64) -> Result<i64> {
        let action = match status {
            TaskStatus::Done => "done",
            TaskStatus::Open => "reopen",
        };
        let (mut tx, stored) = self.begin_task_write(id, action, seen).await?;
        let version = seen + 1;
        let done_on = (status == TaskStatus::Done).then(|| self.scope().on().to_string());
        self.save_versioned(
            &mut tx,
            ("task", id.0),
            Values::new()
                .put("status", status.as_str())
                .put("done_on", done_on),
            version,
        )
        .await?;
        let detail = format!("{}: {}", id.0, stored.title);
        self.commit_audited(tx, (action, "task", &stored.cif_no), &detail)
            .await?;
        Ok(version)
    }

    /// Deletes a task made by mistake: the row stays with the day and the reason (2–200
    /// characters), audited, and no list shows it again.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn delete_task(&self, id: TaskId, reason: &str, seen: i64) -> Result<()> {
        let (mut tx, stored) = self.begin_task_write(id, "delete", seen).await?;
        let reason = line("reason", reason)?;
        self.save_versioned(
            &mut tx,
            ("task", id.0),
            Values::new()
                .put("deleted_on", self.scope().on().to_string())
                .put("deleted_reason", reason.as_str()),
            seen + 1,
        )
        .await?;
        let detail = format!("{}: {}: {reason}", id.0, stored.title);
        self.commit_audited(tx, ("delete", "task", &stored.cif_no), &detail)
            .await?;
        Ok(())
    }

    /// The tasks on customers in reach that `filter` selects, by due day (not deleted ones).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn tasks(&self, filter: &TaskFilter) -> Result<Vec<Task>> {
        let mut sql = self.visible(&format!("select {TASK_COLUMNS} {TASK_FROM}"));
        sql.push(" and t.deleted_on is null");
        if let Some(owner) = filter.owner {
            sql.push(" and t.owner_id = ").bind(owner.0);
        }
        if let Some(customer) = filter.customer {
            sql.push(" and t.customer_id = ").bind(customer.0);
        }
        if let Some(activity) = filter.activity {
            sql.push(" and t.activity_id = ").bind(activity.0);
        }
        if let Some(from) = filter.due_from {
            sql.push(" and t.due_on >= ").bind(from.to_string());
        }
        if let Some(to) = filter.due_to {
            sql.push(" and t.due_on <= ").bind(to.to_string());
        }
        if filter.open_only {
            sql.push(" and t.status = 'open'");
        }
        sql.push(" order by t.due_on, t.id");
        if filter.limit > 0 {
            sql.push(&format!(" limit {}", filter.limit));
        }
        let rows = sql.query().fetch_all(self.pool()).await?;
        rows.iter().map(task_from_row).collect()
    }

    /// One task in reach (`NotFound` otherwise, or when deleted).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn task(&self, id: TaskId) -> Result<Task> {
        let mut sql = self.visible(&format!("select {TASK_COLUMNS} {TASK_FROM}"));
        sql.push(" and t.deleted_on is null and t.id = ").bind(id.0);
        let row = self.fetch_visible(sql, "task", &id.to_string()).await?;
        task_from_row(&row)
    }
}

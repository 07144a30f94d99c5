//! Activities (拜访与活动) and the needs they find, on the user handle: planned or logged on a
//! customer in reach, with our people and the customer's key people who took part, SPIN notes and
//! the outcome; a plan moved or cancelled with a reason; needs kept as the customer's needs list
//! and next steps made tasks in the same transaction. A key person's last contact is read from
//! here.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use kam_core::{
    ParseError,
    activity::{
        Activity, ActivityKind, ActivityStatus, FoundNeed, NeedKind, NeedStatus, NewActivity,
        STEP_FIELDS, Spin, line,
    },
    id::{ActivityId, CustomerId, KeyPersonId, NeedId, UserId},
    reference::{ActivityRecord, TaskRecord},
    task::{NewTask, Priority, Task, TaskSource},
};
use sqlx::{Row, any::AnyRow};

use crate::{
    Error, Result, Store, UserStore, audit,
    bulk::insert_one,
    customer::parse_date,
    handle::WriteTx,
    org::corrupt,
    sql::{Sql, Values},
    task::TaskFilter,
    user::user_by_username_on,
};

/// How `starts_at` is written: the bank's local time to the minute, so that text order is time
/// order and the day is its first ten characters.
const STARTS_FORMAT: &str = "%Y-%m-%d %H:%M";

/// A need found at a customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Need {
    pub id: NeedId,
    pub customer_id: CustomerId,
    pub activity_id: Option<ActivityId>,
    pub text: String,
    pub kind: NeedKind,
    pub status: NeedStatus,
    pub found_on: NaiveDate,
    pub met_on: Option<NaiveDate>,
}

/// An activity in a list (the 360, the calendar, my day).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityRow {
    pub id: ActivityId,
    pub customer_id: CustomerId,
    pub cif_no: String,
    pub customer_name: String,
    pub kind: ActivityKind,
    pub status: ActivityStatus,
    pub starts: NaiveDateTime,
    pub place: Option<String>,
    pub purpose: String,
    pub outcome: Option<String>,
    /// Our people, by display name.
    pub colleagues: Vec<String>,
    /// The customer's key people, by name.
    pub people: Vec<String>,
    /// The customer's latest tier name, in Chinese and English, when tiered.
    pub tier_name: Option<String>,
    pub tier_name_en: Option<String>,
}

/// One activity whole: the record, who took part by name, the needs it found and its tasks.
#[derive(Debug, Clone)]
pub struct ActivityView {
    pub activity: Activity,
    pub cif_no: String,
    pub customer_name: String,
    /// (user name, display name) of our people.
    pub colleagues: Vec<(String, String)>,
    /// (id, name) of the customer's key people.
    pub people: Vec<(KeyPersonId, String)>,
    pub needs: Vec<Need>,
    pub tasks: Vec<Task>,
}

const NEED_COLUMNS: &str =
    "select n.id, n.customer_id, n.activity_id, n.text, n.kind, n.status, n.found_on, n.met_on";

const ACTIVITY_COLUMNS: &str = "a.id, a.customer_id, a.kind, a.status, a.starts_at, a.minutes, \
    a.place, a.purpose, a.situation, a.problem, a.implication, a.need_payoff, a.outcome, \
    a.reason, a.created_by, a.version";

fn starts_from(text: &str) -> Result<NaiveDateTime> {
    NaiveDateTime::parse_from_str(text, STARTS_FORMAT).map_err(|_| {
        corrupt(ParseError::new(
            "starts_at",
            text,
            "not a YYYY-MM-DD HH:MM time",
            "不是 YYYY-MM-DD HH:MM 格式的时间",
        ))
    })
}

fn activity_from_row(row: &AnyRow) -> Result<Activity> {
    Ok(Activity {
        id: ActivityId(row.try_get("id")?),
        customer_id: CustomerId(row.try_get("customer_id")?),
        status: ActivityStatus::parse(&row.try_get::<String, _>("status")?).map_err(corrupt)?,
        details: NewActivity {
            kind: ActivityKind::parse(&row.try_get::<String, _>("kind")?).map_err(corrupt)?,
            starts: starts_from(&row.try_get::<String, _>("starts_at")?)?,
            minutes: row
                .try_get::<Option<i64>, _>("minutes")?
                .and_then(|m| u32::try_from(m).ok()),
            place: row.try_get("place")?,
            purpose: row.try_get("purpose")?,
            colleagues: Vec::new(),
            people: Vec::new(),
            spin: Spin {
                situation: row.try_get("situation")?,
                problem: row.try_get("problem")?,
                implication: row.try_get("implication")?,
                need_payoff: row.try_get("need_payoff")?,
            },
            needs: Vec::new(),
            outcome: row.try_get("outcome")?,
            next_steps: Vec::new(),
        },
        reason: row.try_get("reason")?,
        created_by: row.try_get("created_by")?,
        version: row.try_get("version")?,
    })
}

fn need_from_row(row: &AnyRow) -> Result<Need> {
    Ok(Need {
        id: NeedId(row.try_get("id")?),
        customer_id: CustomerId(row.try_get("customer_id")?),
        activity_id: row
            .try_get::<Option<i64>, _>("activity_id")?
            .map(ActivityId),
        text: row.try_get("text")?,
        kind: NeedKind::parse(&row.try_get::<String, _>("kind")?).map_err(corrupt)?,
        status: NeedStatus::parse(&row.try_get::<String, _>("status")?).map_err(corrupt)?,
        found_on: parse_date("found_on", &row.try_get::<String, _>("found_on")?)?,
        met_on: row
            .try_get::<Option<String>, _>("met_on")?
            .map(|d| parse_date("met_on", &d))
            .transpose()?,
    })
}

impl UserStore {
    /// Plans (`Planned`) or logs (`Done`) an activity on a customer in reach. The one who
    /// writes it takes part with `activity.colleagues`; its key people must be the customer's
    /// current ones; a logged activity's needs join the customer's needs list and its next steps
    /// become tasks, all in one transaction (kam-core's checks first: `Invalid` names the field).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn add_activity(
        &self,
        customer_id: CustomerId,
        activity: &NewActivity,
        status: ActivityStatus,
    ) -> Result<ActivityId> {
        let action = if status == ActivityStatus::Planned {
            "plan"
        } else {
            "log"
        };
        let (mut tx, cif_no) = self
            .begin_customer_change(customer_id, action, "activity")
            .await?;
        if status == ActivityStatus::Cancelled {
            return Err(Error::Invalid(ParseError::new(
                "status",
                status.as_str(),
                "an activity is planned or logged; cancelling comes after",
                "活动应先计划或记录，之后才能取消",
            )));
        }
        activity.check(status, self.scope().on())?;
        let mut colleagues = activity.colleagues.clone();
        colleagues.insert(0, self.actor().name.clone());
        let users = participants(&mut tx, &colleagues).await?;
        check_people(&mut tx, customer_id, &activity.people).await?;
        let now = audit::now();
        let row = activity_values(activity, status)
            .put("customer_id", customer_id.0)
            .put("version", 1_i64)
            .put("created_by", self.actor().name.as_str())
            .put("created_at", now.as_str());
        let id = ActivityId(insert_one(&mut tx, "activity", row, ("activity", &cif_no)).await?);
        write_participants(&mut tx, id, &users, &activity.people).await?;
        self.write_findings(&mut tx, customer_id, id, activity, status)
            .await?;
        let detail = format!(
            "{}: {} {} {}",
            id.0,
            activity.kind,
            activity.starts.format(STARTS_FORMAT),
            activity.purpose
        );
        audit::record(&mut tx, self.actor(), action, "activity", &cif_no, &detail).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Saves an activity of a customer in reach as `activity` with `status`: a plan kept, moved
    /// (a new time needs `reason`, kept and audited) or logged; a logged one's notes corrected
    /// (needs and next steps given are added). `seen` is the version the form started from
    /// (`Conflict` when saved since). Returns the new version.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn save_activity(
        &self,
        customer_id: CustomerId,
        id: ActivityId,
        activity: &NewActivity,
        (status, reason): (ActivityStatus, Option<&str>),
        seen: i64,
    ) -> Result<i64> {
        let (mut tx, cif_no) = self
            .begin_customer_change(customer_id, "edit", "activity")
            .await?;
        let stored = current_activity(&mut tx, customer_id, id, seen).await?;
        if !stored.may_become(status) || status == ActivityStatus::Cancelled {
            return Err(Error::Invalid(ParseError::new(
                "status",
                status.as_str(),
                "a logged activity cannot be planned again, and a cancelled one is final",
                "已记录的活动不能改回计划，已取消的活动不能再修改",
            )));
        }
        activity.check(status, self.scope().on())?;
        let moved = stored.is_moved_by(activity, status);
        let reason = match (moved, reason) {
            (true, r) => Some(line("reason", r.unwrap_or_default())?),
            (false, _) => stored.reason.clone(),
        };
        if activity.colleagues.is_empty() {
            return Err(Error::Invalid(ParseError::new(
                "colleagues",
                "",
                "name at least one of our people who took part",
                "请至少填写一位参加的本行人员",
            )));
        }
        let users = participants(&mut tx, &activity.colleagues).await?;
        check_people(&mut tx, customer_id, &activity.people).await?;
        let version = seen + 1;
        self.save_versioned(
            &mut tx,
            ("activity", id.0),
            activity_values(activity, status).put("reason", reason.clone()),
            version,
        )
        .await?;
        for table in ["activity_user", "activity_person"] {
            Sql::new(&format!("delete from {table} where activity_id = "))
                .bind(id.0)
                .query()
                .execute(&mut *tx)
                .await?;
        }
        write_participants(&mut tx, id, &users, &activity.people).await?;
        self.write_findings(&mut tx, customer_id, id, activity, status)
            .await?;
        let action = match (stored.status, status, moved) {
            (_, _, true) => "move",
            (ActivityStatus::Planned, ActivityStatus::Done, _) => "log",
            _ => "edit",
        };
        let mut detail = format!(
            "{}: {} {} version {version}",
            id.0,
            activity.starts.format(STARTS_FORMAT),
            activity.purpose
        );
        if moved && let Some(r) = &reason {
            detail.push_str(&format!(
                " (moved from {}: {r})",
                stored.details.starts.format(STARTS_FORMAT)
            ));
        }
        audit::record(&mut tx, self.actor(), action, "activity", &cif_no, &detail).await?;
        tx.commit().await?;
        Ok(version)
    }

    /// Cancels a planned activity, or withdraws a logged one entered by mistake, with a reason
    /// (2–200 characters): the row stays, audited.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn cancel_activity(
        &self,
        customer_id: CustomerId,
        id: ActivityId,
        reason: &str,
        seen: i64,
    ) -> Result<()> {
        let (mut tx, cif_no) = self
            .begin_customer_change(customer_id, "cancel", "activity")
            .await?;
        let stored = current_activity(&mut tx, customer_id, id, seen).await?;
        let reason = line("reason", reason)?;
        if !stored.may_become(ActivityStatus::Cancelled) {
            return Err(Error::Invalid(ParseError::new(
                "status",
                stored.status.as_str(),
                "already cancelled",
                "已经取消",
            )));
        }
        Sql::new("update activity set status = 'cancelled', reason = ")
            .bind(reason.as_str())
            .push(", version = ")
            .bind(seen + 1)
            .push(", updated_by = ")
            .bind(self.actor().name.as_str())
            .push(", updated_at = ")
            .bind(audit::now())
            .push(" where id = ")
            .bind(id.0)
            .query()
            .execute(&mut *tx)
            .await?;
        let detail = format!("{}: {}: {reason}", id.0, stored.details.purpose);
        audit::record(
            &mut tx,
            self.actor(),
            "cancel",
            "activity",
            &cif_no,
            &detail,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Marks a need of a customer in reach met (today) or open again.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn set_need_status(
        &self,
        customer_id: CustomerId,
        need: NeedId,
        status: NeedStatus,
    ) -> Result<()> {
        let (mut tx, cif_no) = self
            .begin_customer_change(customer_id, "need", "activity")
            .await?;
        let met_on = (status == NeedStatus::Met).then(|| self.scope().on().to_string());
        let changed = Sql::new("update customer_need set status = ")
            .bind(status.as_str())
            .push(", met_on = ")
            .bind(met_on)
            .push(" where id = ")
            .bind(need.0)
            .push(" and customer_id = ")
            .bind(customer_id.0)
            .query()
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if changed == 0 {
            return Err(Error::NotFound {
                entity: "customer_need",
                key: need.to_string(),
            });
        }
        let detail = format!("{}: {status}", need.0);
        audit::record(
            &mut tx,
            self.actor(),
            "need",
            "customer_need",
            &cif_no,
            &detail,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Inserts a logged activity's needs and turns its next steps into tasks.
    async fn write_findings(
        &self,
        tx: &mut WriteTx,
        customer_id: CustomerId,
        id: ActivityId,
        activity: &NewActivity,
        status: ActivityStatus,
    ) -> Result<()> {
        if status != ActivityStatus::Done {
            return Ok(());
        }
        let now = audit::now();
        for need in &activity.needs {
            let row = need_values(customer_id.0, id.0, need, activity.starts.date(), None)
                .put("created_by", self.actor().name.as_str())
                .put("created_at", now.as_str());
            insert_one(tx, "customer_need", row, ("customer_need", &need.text)).await?;
        }
        for (i, step) in activity.next_steps.iter().enumerate() {
            let task = NewTask {
                title: step.text.clone(),
                due: step.due,
                owner: step
                    .owner
                    .clone()
                    .unwrap_or_else(|| self.actor().name.clone()),
                priority: Priority::Normal,
                notes: None,
            };
            self.insert_task(
                tx,
                customer_id,
                &task,
                (TaskSource::NextStep, Some(id)),
                STEP_FIELDS[i],
            )
            .await?;
        }
        Ok(())
    }

    /// A customer in reach's activities, latest first (`limit` 0: all).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn activities(
        &self,
        customer_id: CustomerId,
        limit: u32,
    ) -> Result<Vec<ActivityRow>> {
        let mut sql = self.activity_rows();
        sql.push(" and a.customer_id = ")
            .bind(customer_id.0)
            .push(" order by a.starts_at desc, a.id desc");
        if limit > 0 {
            sql.push(&format!(" limit {limit}"));
        }
        let rows = self.read_activity_rows(sql).await?;
        self.reached_or_empty(customer_id, rows).await
    }

    /// The activities in reach from `from` to `to` (both days included), by time; only those
    /// `user` takes part in when given (my day, my week).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn activities_between(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        user: Option<UserId>,
    ) -> Result<Vec<ActivityRow>> {
        let mut sql = self.activity_rows();
        sql.push(" and a.starts_at >= ")
            .bind(from.to_string())
            .push(" and a.starts_at < ")
            .bind((to + chrono::Days::new(1)).to_string());
        if let Some(user) = user {
            sql.push(" and a.id in (select activity_id from activity_user where user_id = ")
                .bind(user.0)
                .push(")");
        }
        sql.push(" order by a.starts_at, a.id");
        self.read_activity_rows(sql).await
    }

    fn activity_rows(&self) -> Sql {
        self.visible(
            "select a.id, a.customer_id, c.cif_no, c.name as customer_name, a.kind, a.status, \
             a.starts_at, a.place, a.purpose, a.outcome, t.tier_name, t.tier_name_en \
             from customer c join activity a on a.customer_id = c.id \
             left join tier_month t on t.customer_id = c.id \
             and t.month = (select max(month) from tier_month)",
        )
    }

    /// The rows `sql` selects, with the names of who took part (two reads for the whole list).
    async fn read_activity_rows(&self, sql: Sql) -> Result<Vec<ActivityRow>> {
        let rows = sql.query().fetch_all(self.pool()).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            out.push(ActivityRow {
                id: ActivityId(row.try_get("id")?),
                customer_id: CustomerId(row.try_get("customer_id")?),
                cif_no: row.try_get("cif_no")?,
                customer_name: row.try_get("customer_name")?,
                kind: ActivityKind::parse(&row.try_get::<String, _>("kind")?).map_err(corrupt)?,
                status: ActivityStatus::parse(&row.try_get::<String, _>("status")?)
                    .map_err(corrupt)?,
                starts: starts_from(&row.try_get::<String, _>("starts_at")?)?,
                place: row.try_get("place")?,
                purpose: row.try_get("purpose")?,
                outcome: row.try_get("outcome")?,
                colleagues: Vec::new(),
                people: Vec::new(),
                tier_name: row.try_get("tier_name")?,
                tier_name_en: row.try_get("tier_name_en")?,
            });
        }
        if out.is_empty() {
            return Ok(out);
        }
        let ids: Vec<i64> = out.iter().map(|a| a.id.0).collect();
        let mut names: HashMap<i64, (Vec<String>, Vec<String>)> = HashMap::new();
        for chunk in ids.chunks(500) {
            let mut sql = Sql::new(
                "select au.activity_id, 0 as side, u.display_name as name from activity_user au \
                 join app_user u on u.id = au.user_id where au.activity_id in (",
            );
            push_ids(&mut sql, chunk);
            sql.push(
                ") union all select ap.activity_id, 1 as side, k.name from activity_person ap \
                 join key_person k on k.id = ap.key_person_id where ap.activity_id in (",
            );
            push_ids(&mut sql, chunk);
            sql.push(") order by 1, 2, 3");
            for row in sql.query().fetch_all(self.pool()).await? {
                let entry = names.entry(row.try_get("activity_id")?).or_default();
                let name: String = row.try_get("name")?;
                if row.try_get::<i64, _>("side")? == 0 {
                    entry.0.push(name);
                } else {
                    entry.1.push(name);
                }
            }
        }
        for a in &mut out {
            if let Some((colleagues, people)) = names.remove(&a.id.0) {
                a.colleagues = colleagues;
                a.people = people;
            }
        }
        Ok(out)
    }

    /// One activity of a customer in reach, whole (`NotFound` otherwise).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn activity(&self, customer_id: CustomerId, id: ActivityId) -> Result<ActivityView> {
        let mut sql = self.visible(&format!(
            "select {ACTIVITY_COLUMNS}, c.cif_no, c.name as customer_name \
             from customer c join activity a on a.customer_id = c.id"
        ));
        sql.push(" and a.id = ")
            .bind(id.0)
            .push(" and a.customer_id = ")
            .bind(customer_id.0);
        let row = self.fetch_visible(sql, "activity", &id.to_string()).await?;
        let mut activity = activity_from_row(&row)?;
        // Who took part, both sides in one statement (side 0: our people; side 1: the
        // customer's key people), ordered by user name and by key person id.
        let mut participants = Sql::new(
            "select 0 as side, u.username, cast(null as bigint) as person_id, u.display_name as name \
             from activity_user au join app_user u on u.id = au.user_id where au.activity_id = ",
        );
        participants.bind(id.0).push(
            " union all select 1, null, k.id, k.name from activity_person ap \
             join key_person k on k.id = ap.key_person_id where ap.activity_id = ",
        );
        participants.bind(id.0).push(" order by 1, 2, 3");
        let mut colleagues: Vec<(String, String)> = Vec::new();
        let mut people: Vec<(KeyPersonId, String)> = Vec::new();
        for r in participants.query().fetch_all(self.pool()).await? {
            let name: String = r.try_get("name")?;
            match r.try_get::<i64, _>("side")? {
                0 => colleagues.push((r.try_get("username")?, name)),
                _ => people.push((KeyPersonId(r.try_get("person_id")?), name)),
            }
        }
        activity.details.colleagues = colleagues.iter().map(|(u, _)| u.clone()).collect();
        activity.details.people = people.iter().map(|(id, _)| *id).collect();
        // The customer is proven in reach by the row above: its needs and tasks from this
        // activity are read by the activity alone.
        let needs = Sql::new(&format!(
            "{NEED_COLUMNS} from customer_need n where n.customer_id = "
        ))
        .bind(customer_id.0)
        .push(" and n.activity_id = ")
        .bind(id.0)
        .push(" order by n.id")
        .query()
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(need_from_row)
        .collect::<Result<Vec<_>>>()?;
        let tasks = self
            .tasks(&TaskFilter {
                customer: Some(customer_id),
                activity: Some(id),
                ..TaskFilter::default()
            })
            .await?;
        Ok(ActivityView {
            activity,
            cif_no: row.try_get("cif_no")?,
            customer_name: row.try_get("customer_name")?,
            colleagues,
            people,
            needs,
            tasks,
        })
    }

    /// A customer in reach's needs list: open ones first, latest found first.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn needs(&self, customer_id: CustomerId) -> Result<Vec<Need>> {
        let mut sql = self.visible(&format!(
            "{NEED_COLUMNS} from customer c join customer_need n on n.customer_id = c.id"
        ));
        sql.push(" and c.id = ").bind(customer_id.0).push(
            " order by case when n.status = 'open' then 0 else 1 end, n.found_on desc, n.id desc",
        );
        let rows = sql.query().fetch_all(self.pool()).await?;
        let needs = rows.iter().map(need_from_row).collect::<Result<Vec<_>>>()?;
        self.reached_or_empty(customer_id, needs).await
    }

    /// The day of each current key person's latest logged activity at a customer in reach.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn last_contacts(
        &self,
        customer_id: CustomerId,
    ) -> Result<HashMap<KeyPersonId, NaiveDate>> {
        let mut sql = self.visible(
            "select ap.key_person_id, max(a.starts_at) as last_at from customer c \
             join activity a on a.customer_id = c.id \
             join activity_person ap on ap.activity_id = a.id",
        );
        sql.push(" and c.id = ")
            .bind(customer_id.0)
            .push(" and a.status = 'done' group by ap.key_person_id");
        let rows = sql.query().fetch_all(self.pool()).await?;
        let contacts = rows
            .iter()
            .map(|r| {
                let at = starts_from(&r.try_get::<String, _>("last_at")?)?;
                Ok((KeyPersonId(r.try_get("key_person_id")?), at.date()))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(self
            .reached_or_empty(customer_id, contacts)
            .await?
            .into_iter()
            .collect())
    }
}

/// A corporate customer's visits in a period, for visit coverage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerVisits {
    pub cif_no: String,
    pub name: String,
    /// The latest month's tier (1 … 5).
    pub tier: u8,
    /// Logged visits an RM / a sub-branch president took part in.
    pub rm_visits: u32,
    pub president_visits: u32,
    /// The latest logged visit of any time.
    pub last_visit: Option<NaiveDate>,
}

impl UserStore {
    /// Every tiered corporate customer in reach with its logged visits (kind `visit`) from `from`
    /// to `to` by an RM and by a sub-branch president, and its latest visit ever.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn visit_tallies(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<CustomerVisits>> {
        let (from, until) = (from.to_string(), (to + chrono::Days::new(1)).to_string());
        let by = |role: &str| {
            format!(
                "(select count(*) from activity a where a.customer_id = c.id and a.status = 'done' \
                 and a.kind = 'visit' and a.starts_at >= $from and a.starts_at < $until and exists \
                 (select 1 from activity_user au join app_user u on u.id = au.user_id \
                 where au.activity_id = a.id and u.role = '{role}'))"
            )
        };
        // Customers are the only table of the outer query, so both databases start from the
        // visibility clause's index searches (a join with the tier month made SQLite walk every
        // tier of the bank); a customer without a tier in the latest month is skipped below.
        let head = format!(
            "select c.cif_no, c.name, (select t.tier from tier_month t where t.customer_id = c.id \
             and t.month = (select max(month) from tier_month)) as tier, \
             {} as rm_visits, {} as president_visits, \
             (select max(a.starts_at) from activity a where a.customer_id = c.id and a.status = 'done' \
             and a.kind = 'visit') as last_at from customer c",
            by("relationship_manager"),
            by("sub_branch_president")
        );
        // The two dates appear in each count: bound once per use, in order.
        let mut sql = Sql::new("");
        let mut parts = head.split("$from");
        sql.push(parts.next().unwrap_or_default());
        for part in parts {
            sql.bind(from.clone());
            let (before, after) = part.split_once("$until").unwrap_or((part, ""));
            sql.push(before).bind(until.clone()).push(after);
        }
        let mut sql = self.visible_from(sql);
        sql.push(" and c.kind = 'corporate' order by 3, c.cif_no");
        let rows = sql.query().fetch_all(self.pool()).await?;
        rows.iter()
            .filter(|r| !matches!(r.try_get::<Option<i64>, _>("tier"), Ok(None)))
            .map(|r| {
                let count = |column: &str| -> Result<u32> {
                    Ok(u32::try_from(r.try_get::<i64, _>(column)?).unwrap_or(u32::MAX))
                };
                Ok(CustomerVisits {
                    cif_no: r.try_get("cif_no")?,
                    name: r.try_get("name")?,
                    tier: u8::try_from(r.try_get::<i64, _>("tier")?).unwrap_or(5),
                    rm_visits: count("rm_visits")?,
                    president_visits: count("president_visits")?,
                    last_visit: r
                        .try_get::<Option<String>, _>("last_at")?
                        .map(|at| starts_from(&at).map(|s| s.date()))
                        .transpose()?,
                })
            })
            .collect()
    }
}

/// What the bulk load of a bank's work history wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkCounts {
    pub activities: usize,
    pub needs: usize,
    pub tasks: usize,
}

impl Store {
    /// Loads a bank's history of activities, needs and tasks (the synthetic bank's) in one
    /// transaction with one audit row, through the same row writers as a user's save. Records of
    /// unknown customers, users or key people are skipped (a history, not an extract: nothing to
    /// reject to). Each customer's activities must start at distinct times — the key that ties a
    /// task to its activity.
    pub async fn load_work(
        &self,
        actor: &crate::Actor,
        activities: &[ActivityRecord],
        tasks: &[TaskRecord],
    ) -> Result<WorkCounts> {
        let mut tx = self.begin_write().await?;
        let max_binds = self.backend().max_binds();
        let customers = crate::indicator::customer_ids(&mut tx).await?;
        let users: HashMap<String, i64> = sqlx::query("select username, id from app_user")
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<i64, _>(1)?)))
            .collect::<Result<_>>()?;
        let people: HashMap<(i64, String), i64> =
            sqlx::query("select customer_id, name, id from key_person where retired_on is null")
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|r| {
                    Ok((
                        (r.try_get::<i64, _>(0)?, r.try_get::<String, _>(1)?),
                        r.try_get::<i64, _>(2)?,
                    ))
                })
                .collect::<Result<_>>()?;
        let now = audit::now();
        let known: Vec<(&ActivityRecord, i64)> = activities
            .iter()
            .filter_map(|a| Some((a, *customers.get(&a.cif_no)?)))
            .collect();
        let rows = known
            .iter()
            .map(|(a, customer)| {
                activity_values(&a.activity, a.status)
                    .put("reason", a.reason.clone())
                    .put("customer_id", *customer)
                    .put("version", 1_i64)
                    .put("created_by", a.created_by.as_str())
                    .put("created_at", now.as_str())
            })
            .collect();
        let written =
            crate::bulk::insert_values(&mut tx, max_binds, "activity", rows, None).await?;
        let ids: HashMap<(i64, String), i64> =
            sqlx::query("select customer_id, starts_at, id from activity")
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|r| {
                    Ok((
                        (r.try_get::<i64, _>(0)?, r.try_get::<String, _>(1)?),
                        r.try_get::<i64, _>(2)?,
                    ))
                })
                .collect::<Result<_>>()?;
        let id_of = |customer: i64, starts: &NaiveDateTime| {
            ids.get(&(customer, starts.format(STARTS_FORMAT).to_string()))
                .copied()
        };
        let (mut with_users, mut with_people, mut needs) = (Vec::new(), Vec::new(), Vec::new());
        for (a, customer) in &known {
            let Some(id) = id_of(*customer, &a.activity.starts) else {
                continue;
            };
            for name in &a.activity.colleagues {
                if let Some(user) = users.get(name) {
                    with_users.push(vec![id.into(), (*user).into()]);
                }
            }
            for name in &a.people {
                if let Some(person) = people.get(&(*customer, name.clone())) {
                    with_people.push(vec![id.into(), (*person).into()]);
                }
            }
            for (need, met) in a.activity.needs.iter().zip(&a.met) {
                needs.push(
                    need_values(*customer, id, need, a.activity.starts.date(), *met)
                        .put("created_by", a.created_by.as_str())
                        .put("created_at", now.as_str()),
                );
            }
        }
        crate::bulk::insert_rows(
            &mut tx,
            max_binds,
            "insert into activity_user (activity_id, user_id)",
            "",
            with_users,
        )
        .await?;
        crate::bulk::insert_rows(
            &mut tx,
            max_binds,
            "insert into activity_person (activity_id, key_person_id)",
            "",
            with_people,
        )
        .await?;
        let needs =
            crate::bulk::insert_values(&mut tx, max_binds, "customer_need", needs, None).await?;
        let task_rows = tasks
            .iter()
            .filter_map(|t| {
                let customer = *customers.get(&t.cif_no)?;
                let owner = *users.get(&t.task.owner)?;
                let activity = match &t.activity_starts {
                    Some(starts) => Some(ActivityId(id_of(customer, starts)?)),
                    None => None,
                };
                Some(crate::task::task_values(
                    (CustomerId(customer), activity, UserId(owner)),
                    &t.task,
                    (t.source, t.done_on),
                    (t.created_by.as_str(), &now),
                ))
            })
            .collect();
        let tasks = crate::bulk::insert_values(&mut tx, max_binds, "task", task_rows, None).await?;
        let counts = WorkCounts {
            activities: written,
            needs,
            tasks,
        };
        audit::record(
            &mut tx,
            actor,
            "bulk_load",
            "activity",
            "history",
            &format!("{written} activities, {needs} needs, {tasks} tasks"),
        )
        .await?;
        tx.commit().await?;
        Ok(counts)
    }
}

/// A need's row: found on a day, open or met: the one writer of `customer_need` (with the
/// caller's `created_by`, `created_at`).
fn need_values(
    customer: i64,
    activity: i64,
    need: &FoundNeed,
    found: NaiveDate,
    met: Option<NaiveDate>,
) -> Values {
    Values::new()
        .put("customer_id", customer)
        .put("activity_id", activity)
        .put("text", need.text.as_str())
        .put("kind", need.kind.as_str())
        .put(
            "status",
            if met.is_some() {
                NeedStatus::Met
            } else {
                NeedStatus::Open
            }
            .as_str(),
        )
        .put("found_on", found.to_string())
        .put("met_on", met.map(|d| d.to_string()))
}

/// The columns an activity's form decides.
fn activity_values(a: &NewActivity, status: ActivityStatus) -> Values {
    Values::new()
        .put("kind", a.kind.as_str())
        .put("status", status.as_str())
        .put("starts_at", a.starts.format(STARTS_FORMAT).to_string())
        .put("minutes", a.minutes.map(i64::from))
        .put("place", a.place.clone())
        .put("purpose", a.purpose.trim())
        .put("situation", a.spin.situation.clone())
        .put("problem", a.spin.problem.clone())
        .put("implication", a.spin.implication.clone())
        .put("need_payoff", a.spin.need_payoff.clone())
        .put("outcome", a.outcome.clone())
}

/// An activity of the customer at the version a form started from.
async fn current_activity(
    tx: &mut WriteTx,
    customer_id: CustomerId,
    id: ActivityId,
    seen: i64,
) -> Result<Activity> {
    let row = Sql::new(&format!(
        "select {ACTIVITY_COLUMNS} from activity a where a.id = "
    ))
    .bind(id.0)
    .push(" and a.customer_id = ")
    .bind(customer_id.0)
    .query()
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(|| Error::NotFound {
        entity: "activity",
        key: id.to_string(),
    })?;
    let activity = activity_from_row(&row)?;
    if activity.version != seen {
        return Err(Error::Conflict {
            entity: "activity",
            key: id.to_string(),
        });
    }
    Ok(activity)
}

/// Our people by user name: each an active user (`Invalid` on `colleagues` otherwise), once.
async fn participants(tx: &mut WriteTx, names: &[String]) -> Result<Vec<UserId>> {
    let mut ids = Vec::new();
    for name in names {
        match user_by_username_on(&mut **tx, name).await {
            Ok(user) if !user.disabled => {
                if !ids.contains(&user.id) {
                    ids.push(user.id);
                }
            }
            _ => {
                return Err(Error::Invalid(ParseError::new(
                    "colleagues",
                    name.as_str(),
                    "no active user with this name",
                    "没有此登录名的在职用户",
                )));
            }
        }
    }
    Ok(ids)
}

/// Every person is a current key person of the customer (`Invalid` on `people` otherwise).
async fn check_people(
    tx: &mut WriteTx,
    customer_id: CustomerId,
    people: &[KeyPersonId],
) -> Result<()> {
    for person in people {
        let found = Sql::new("select id from key_person where retired_on is null and id = ")
            .bind(person.0)
            .push(" and customer_id = ")
            .bind(customer_id.0)
            .query()
            .fetch_optional(&mut **tx)
            .await?;
        if found.is_none() {
            return Err(Error::Invalid(ParseError::new(
                "people",
                person.to_string(),
                "not a current key person of this customer",
                "不是该客户的现任关键人",
            )));
        }
    }
    Ok(())
}

async fn write_participants(
    tx: &mut WriteTx,
    id: ActivityId,
    users: &[UserId],
    people: &[KeyPersonId],
) -> Result<()> {
    for user in users {
        Sql::new("insert into activity_user (activity_id, user_id) values (")
            .bind(id.0)
            .push(", ")
            .bind(user.0)
            .push(")")
            .query()
            .execute(&mut **tx)
            .await?;
    }
    let mut seen = Vec::new();
    for person in people.iter().filter(|p| {
        let new = !seen.contains(*p);
        seen.push(**p);
        new
    }) {
        Sql::new("insert into activity_person (activity_id, key_person_id) values (")
            .bind(id.0)
            .push(", ")
            .bind(person.0)
            .push(")")
            .query()
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

fn push_ids(sql: &mut Sql, ids: &[i64]) {
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.bind(*id);
    }
}

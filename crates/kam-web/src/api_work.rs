//! The JSON API of an RM's work: a customer's activities (plan, log, move, cancel), its needs, and
//! tasks (read, add, edit, done, reopen, delete) and the calendar. Each call is the page's store
//! call on the token's user handle: reach (404), a read-only role (403), a stale version (409)
//! and a refused value (422 naming the field) are the store's and kam-core's answers, audited
//! there.

use axum::{
    Json,
    extract::{Path, Query, State},
    http::StatusCode,
};
use chrono::{NaiveDate, NaiveDateTime};
use kam_core::{
    ParseError,
    activity::{
        ActivityKind, ActivityStatus, FoundNeed, NeedKind, NewActivity, NextStep, Spin, note,
    },
    id::{ActivityId, KeyPersonId, TaskId},
    task::{NewTask, Priority, Task, TaskStatus},
};
use kam_store::{ActivityRow, ActivityView, Need, TaskFilter};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    App,
    api::{ApiError, ApiUser},
    api_write::{Body, given},
};

/// An activity in a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActivitySummary {
    pub id: i64,
    pub cif_no: String,
    pub customer_name: String,
    /// `visit`, `call`, `meeting`, `event`.
    pub kind: String,
    /// `planned`, `done`, `cancelled`.
    pub status: String,
    /// The bank's local time, `YYYY-MM-DDTHH:MM`.
    pub starts: String,
    pub place: Option<String>,
    pub purpose: String,
    pub outcome: Option<String>,
    /// Our people and the customer's key people, by name.
    pub colleagues: Vec<String>,
    pub people: Vec<String>,
}

impl From<&ActivityRow> for ActivitySummary {
    fn from(a: &ActivityRow) -> Self {
        Self {
            id: a.id.0,
            cif_no: a.cif_no.clone(),
            customer_name: a.customer_name.clone(),
            kind: a.kind.as_str().into(),
            status: a.status.as_str().into(),
            starts: a.starts.format(STARTS).to_string(),
            place: a.place.clone(),
            purpose: a.purpose.clone(),
            outcome: a.outcome.clone(),
            colleagues: a.colleagues.clone(),
            people: a.people.clone(),
        }
    }
}

const STARTS: &str = "%Y-%m-%dT%H:%M";

/// The SPIN notes of a conversation.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct SpinNotes {
    pub situation: Option<String>,
    pub problem: Option<String>,
    pub implication: Option<String>,
    pub need_payoff: Option<String>,
}

/// A need as found.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NeedInput {
    pub text: String,
    /// `implied` or `explicit`.
    pub kind: String,
}

/// A next step: it becomes a task.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StepInput {
    pub text: String,
    /// `YYYY-MM-DD`, on or after the activity's day.
    pub due: String,
    /// A user name; the caller when absent.
    pub owner: Option<String>,
}

/// An activity as a client sends it (to plan or log, or whole to save).
#[derive(Debug, Deserialize, ToSchema)]
pub struct ActivityInput {
    /// `planned` (today or later) or `done` (today or earlier).
    pub status: String,
    /// `visit`, `call`, `meeting`, `event`.
    pub kind: String,
    /// The bank's local time, `YYYY-MM-DDTHH:MM`.
    pub starts: String,
    pub minutes: Option<u32>,
    pub place: Option<String>,
    pub purpose: String,
    /// Our people by user name (the caller is added when the activity is new).
    #[serde(default)]
    pub colleagues: Vec<String>,
    /// The customer's key people by id.
    #[serde(default)]
    pub people: Vec<i64>,
    #[serde(default)]
    pub spin: SpinNotes,
    #[serde(default)]
    pub needs: Vec<NeedInput>,
    pub outcome: Option<String>,
    #[serde(default)]
    pub next_steps: Vec<StepInput>,
    /// Why a planned activity's time changes (required then).
    pub reason: Option<String>,
    /// On a save, the version read: a save since is a 409.
    pub version: Option<i64>,
}

/// A `YYYY-MM-DD` day of a request body or query, refused naming `field`.
pub(crate) fn date(field: &'static str, text: &str) -> Result<NaiveDate, ParseError> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
        ParseError::new(
            field,
            text,
            "not a YYYY-MM-DD date",
            "不是 YYYY-MM-DD 格式的日期",
        )
    })
}

impl ActivityInput {
    fn activity(&self) -> Result<(ActivityStatus, NewActivity), ParseError> {
        let status = ActivityStatus::parse(self.status.trim())?;
        let starts = NaiveDateTime::parse_from_str(self.starts.trim(), STARTS).map_err(|_| {
            ParseError::new(
                "starts",
                self.starts.as_str(),
                "not a YYYY-MM-DDTHH:MM time",
                "不是 YYYY-MM-DDTHH:MM 格式的时间",
            )
        })?;
        let long = |field: &'static str, text: &Option<String>| {
            note(
                field,
                text.as_deref().unwrap_or(""),
                kam_core::activity::NOTE_LIMIT,
            )
        };
        let needs = self
            .needs
            .iter()
            .map(|n| {
                Ok(FoundNeed {
                    text: n.text.trim().to_owned(),
                    kind: NeedKind::parse(n.kind.trim())?,
                })
            })
            .collect::<Result<_, ParseError>>()?;
        let next_steps = self
            .next_steps
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let field =
                    kam_core::activity::STEP_DUE_FIELDS[i.min(kam_core::activity::LIST_LIMIT - 1)];
                Ok(NextStep {
                    text: s.text.trim().to_owned(),
                    due: date(field, &s.due)?,
                    owner: given(s.owner.clone()),
                })
            })
            .collect::<Result<_, ParseError>>()?;
        Ok((
            status,
            NewActivity {
                kind: ActivityKind::parse(self.kind.trim())?,
                starts,
                minutes: self.minutes,
                place: long("place", &self.place)?,
                purpose: self.purpose.trim().to_owned(),
                colleagues: self
                    .colleagues
                    .iter()
                    .map(|c| c.trim().to_owned())
                    .collect(),
                people: self.people.iter().map(|p| KeyPersonId(*p)).collect(),
                spin: Spin {
                    situation: long("situation", &self.spin.situation)?,
                    problem: long("problem", &self.spin.problem)?,
                    implication: long("implication", &self.spin.implication)?,
                    need_payoff: long("need_payoff", &self.spin.need_payoff)?,
                },
                needs,
                outcome: long("outcome", &self.outcome)?,
                next_steps,
            },
        ))
    }
}

/// A need on the customer's list.
#[derive(Debug, Serialize, ToSchema)]
pub struct NeedItem {
    pub id: i64,
    pub activity_id: Option<i64>,
    pub text: String,
    /// `implied` or `explicit`.
    pub kind: String,
    /// `open` or `met`.
    pub status: String,
    pub found_on: String,
    pub met_on: Option<String>,
}

impl From<&Need> for NeedItem {
    fn from(n: &Need) -> Self {
        Self {
            id: n.id.0,
            activity_id: n.activity_id.map(|a| a.0),
            text: n.text.clone(),
            kind: n.kind.as_str().into(),
            status: n.status.as_str().into(),
            found_on: n.found_on.to_string(),
            met_on: n.met_on.map(|d| d.to_string()),
        }
    }
}

/// A task.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskItem {
    pub id: i64,
    pub cif_no: String,
    pub customer_name: String,
    pub title: String,
    pub due: String,
    pub owner: String,
    pub owner_name: String,
    /// `high`, `normal`, `low`.
    pub priority: String,
    /// `open` or `done`.
    pub status: String,
    pub done_on: Option<String>,
    pub notes: Option<String>,
    /// `hand`, `next_step`, `obstacle`.
    pub source: String,
    pub activity_id: Option<i64>,
    pub version: i64,
}

impl From<&Task> for TaskItem {
    fn from(t: &Task) -> Self {
        Self {
            id: t.id.0,
            cif_no: t.cif_no.clone(),
            customer_name: t.customer_name.clone(),
            title: t.title.clone(),
            due: t.due.to_string(),
            owner: t.owner.clone(),
            owner_name: t.owner_name.clone(),
            priority: t.priority.as_str().into(),
            status: t.status.as_str().into(),
            done_on: t.done_on.map(|d| d.to_string()),
            notes: t.notes.clone(),
            source: t.source.as_str().into(),
            activity_id: t.activity_id.map(|a| a.0),
            version: t.version,
        }
    }
}

/// One activity whole, with the needs it found and the tasks it made.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActivityItem {
    pub id: i64,
    pub cif_no: String,
    pub status: String,
    pub kind: String,
    pub starts: String,
    pub minutes: Option<u32>,
    pub place: Option<String>,
    pub purpose: String,
    /// Our people's user names.
    pub colleagues: Vec<String>,
    /// Key people's ids.
    pub people: Vec<i64>,
    pub spin: SpinNotes,
    pub outcome: Option<String>,
    /// Why it was moved or cancelled.
    pub reason: Option<String>,
    pub needs: Vec<NeedItem>,
    pub tasks: Vec<TaskItem>,
    pub version: i64,
}

impl From<ActivityView> for ActivityItem {
    fn from(v: ActivityView) -> Self {
        let a = v.activity;
        let d = a.details;
        Self {
            id: a.id.0,
            cif_no: v.cif_no,
            status: a.status.as_str().into(),
            kind: d.kind.as_str().into(),
            starts: d.starts.format(STARTS).to_string(),
            minutes: d.minutes,
            place: d.place,
            purpose: d.purpose,
            colleagues: d.colleagues,
            people: d.people.iter().map(|p| p.0).collect(),
            spin: SpinNotes {
                situation: d.spin.situation,
                problem: d.spin.problem,
                implication: d.spin.implication,
                need_payoff: d.spin.need_payoff,
            },
            outcome: d.outcome,
            reason: a.reason,
            needs: v.needs.iter().map(NeedItem::from).collect(),
            tasks: v.tasks.iter().map(TaskItem::from).collect(),
            version: a.version,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/customers/{cif}/activities",
    params(("cif" = String, Path, description = "customer number")),
    responses((status = 200, body = [ActivitySummary]), (status = 404, description = "missing or out of reach")),
    security(("bearer" = [])))]
pub(crate) async fn activities(
    api: ApiUser,
    Path(cif): Path<String>,
) -> Result<Json<Vec<ActivitySummary>>, ApiError> {
    let customer = api.store.customer_by_cif(&cif).await?;
    let rows = api.store.activities(customer.id, 0).await?;
    Ok(Json(rows.iter().map(ActivitySummary::from).collect()))
}

#[utoipa::path(get, path = "/api/v1/customers/{cif}/activities/{activity}",
    params(("cif" = String, Path, description = "customer number"),
        ("activity" = i64, Path, description = "the activity's id")),
    responses((status = 200, body = ActivityItem), (status = 404, description = "missing or out of reach")),
    security(("bearer" = [])))]
pub(crate) async fn activity(
    api: ApiUser,
    Path((cif, id)): Path<(String, i64)>,
) -> Result<Json<ActivityItem>, ApiError> {
    let customer = api.store.customer_by_cif(&cif).await?;
    let view = api.store.activity(customer.id, ActivityId(id)).await?;
    Ok(Json(ActivityItem::from(view)))
}

#[utoipa::path(post, path = "/api/v1/customers/{cif}/activities",
    params(("cif" = String, Path, description = "customer number")),
    request_body = ActivityInput,
    responses((status = 201, body = ActivityItem),
        (status = 403, description = "the role may only look"),
        (status = 404, description = "missing or out of reach"),
        (status = 422, description = "a value refused, naming its field", body = crate::error::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub(crate) async fn add_activity(
    api: ApiUser,
    Path(cif): Path<String>,
    Body(input): Body<ActivityInput>,
) -> Result<(StatusCode, Json<ActivityItem>), ApiError> {
    let customer = api.store.customer_by_cif(&cif).await?;
    let (status, new) = input.activity()?;
    let id = api.store.add_activity(customer.id, &new, status).await?;
    let view = api.store.activity(customer.id, id).await?;
    Ok((StatusCode::CREATED, Json(ActivityItem::from(view))))
}

#[utoipa::path(put, path = "/api/v1/customers/{cif}/activities/{activity}",
    params(("cif" = String, Path, description = "customer number"),
        ("activity" = i64, Path, description = "the activity's id")),
    request_body = ActivityInput,
    responses((status = 200, body = ActivityItem),
        (status = 403, description = "the role may only look"),
        (status = 404, description = "missing or out of reach"),
        (status = 409, description = "saved by someone else since `version`"),
        (status = 422, description = "a value refused, naming its field (a moved plan without `reason`)", body = crate::error::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub(crate) async fn save_activity(
    api: ApiUser,
    Path((cif, id)): Path<(String, i64)>,
    Body(input): Body<ActivityInput>,
) -> Result<Json<ActivityItem>, ApiError> {
    let customer = api.store.customer_by_cif(&cif).await?;
    let (status, new) = input.activity()?;
    api.store
        .save_activity(
            customer.id,
            ActivityId(id),
            &new,
            (status, input.reason.as_deref()),
            input.version.unwrap_or(-1),
        )
        .await?;
    let view = api.store.activity(customer.id, ActivityId(id)).await?;
    Ok(Json(ActivityItem::from(view)))
}

/// Why, and the version read.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ReasonInput {
    /// 2 to 200 characters.
    pub reason: String,
    pub version: i64,
}

#[utoipa::path(post, path = "/api/v1/customers/{cif}/activities/{activity}/cancel",
    params(("cif" = String, Path, description = "customer number"),
        ("activity" = i64, Path, description = "the activity's id")),
    request_body = ReasonInput,
    responses((status = 204, description = "cancelled: kept with the reason, audited"),
        (status = 403, description = "the role may only look"),
        (status = 404, description = "missing or out of reach"),
        (status = 409, description = "saved by someone else since `version`"),
        (status = 422, description = "no reason, or cancelled already", body = crate::error::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub(crate) async fn cancel_activity(
    api: ApiUser,
    Path((cif, id)): Path<(String, i64)>,
    Body(input): Body<ReasonInput>,
) -> Result<StatusCode, ApiError> {
    let customer = api.store.customer_by_cif(&cif).await?;
    api.store
        .cancel_activity(customer.id, ActivityId(id), &input.reason, input.version)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/customers/{cif}/needs",
    params(("cif" = String, Path, description = "customer number")),
    responses((status = 200, body = [NeedItem]), (status = 404, description = "missing or out of reach")),
    security(("bearer" = [])))]
pub(crate) async fn needs(
    api: ApiUser,
    Path(cif): Path<String>,
) -> Result<Json<Vec<NeedItem>>, ApiError> {
    let customer = api.store.customer_by_cif(&cif).await?;
    let needs = api.store.needs(customer.id).await?;
    Ok(Json(needs.iter().map(NeedItem::from).collect()))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub(crate) struct TaskQuery {
    /// `true`: only the caller's tasks (the default); `false`: every task in reach.
    mine: Option<bool>,
    /// Due on or after / on or before, `YYYY-MM-DD`.
    from: Option<String>,
    to: Option<String>,
    /// `true`: open tasks only.
    open: Option<bool>,
}

#[utoipa::path(get, path = "/api/v1/tasks", params(TaskQuery),
    responses((status = 200, body = [TaskItem]), (status = 422, description = "a date that does not read", body = crate::error::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub(crate) async fn tasks(
    api: ApiUser,
    Query(query): Query<TaskQuery>,
) -> Result<Json<Vec<TaskItem>>, ApiError> {
    let owner = match (query.mine.unwrap_or(true), api.store.user()) {
        (true, Some(user)) => Some(user.id),
        _ => None,
    };
    let filter = TaskFilter {
        owner,
        due_from: query.from.as_deref().map(|d| date("from", d)).transpose()?,
        due_to: query.to.as_deref().map(|d| date("to", d)).transpose()?,
        open_only: query.open.unwrap_or(false),
        limit: 1_000,
        ..TaskFilter::default()
    };
    let tasks = api.store.tasks(&filter).await?;
    Ok(Json(tasks.iter().map(TaskItem::from).collect()))
}

/// A task as a client sends it.
#[derive(Debug, Deserialize, ToSchema)]
pub struct TaskInput {
    pub title: String,
    /// `YYYY-MM-DD`.
    pub due: String,
    /// A user name: the caller, or for a manager a colleague in reach.
    pub owner: String,
    /// `high`, `normal`, `low`.
    pub priority: String,
    pub notes: Option<String>,
    /// On an edit, the version read.
    pub version: Option<i64>,
}

impl TaskInput {
    fn task(&self) -> Result<NewTask, ParseError> {
        NewTask::parse(
            &self.title,
            date("due", &self.due)?,
            &self.owner,
            Priority::parse(self.priority.trim())?,
            self.notes.as_deref().unwrap_or(""),
        )
    }
}

#[utoipa::path(post, path = "/api/v1/customers/{cif}/tasks",
    params(("cif" = String, Path, description = "customer number")),
    request_body = TaskInput,
    responses((status = 201, body = TaskItem),
        (status = 403, description = "the role may only look"),
        (status = 404, description = "missing or out of reach"),
        (status = 422, description = "a value refused, naming its field", body = crate::error::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub(crate) async fn add_task(
    api: ApiUser,
    Path(cif): Path<String>,
    Body(input): Body<TaskInput>,
) -> Result<(StatusCode, Json<TaskItem>), ApiError> {
    let customer = api.store.customer_by_cif(&cif).await?;
    let id = api.store.add_task(customer.id, &input.task()?).await?;
    let task = api.store.task(id).await?;
    Ok((StatusCode::CREATED, Json(TaskItem::from(&task))))
}

#[utoipa::path(put, path = "/api/v1/tasks/{task}",
    params(("task" = i64, Path, description = "the task's id")),
    request_body = TaskInput,
    responses((status = 200, body = TaskItem),
        (status = 403, description = "the role may only look"),
        (status = 404, description = "missing, deleted or out of reach"),
        (status = 409, description = "saved by someone else since `version`"),
        (status = 422, description = "a value refused, naming its field", body = crate::error::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub(crate) async fn edit_task(
    api: ApiUser,
    Path(id): Path<i64>,
    Body(input): Body<TaskInput>,
) -> Result<Json<TaskItem>, ApiError> {
    api.store.task(TaskId(id)).await?;
    api.store
        .edit_task(TaskId(id), &input.task()?, input.version.unwrap_or(-1))
        .await?;
    Ok(Json(TaskItem::from(&api.store.task(TaskId(id)).await?)))
}

/// The version read.
#[derive(Debug, Deserialize, ToSchema)]
pub struct VersionInput {
    pub version: i64,
}

async fn set_status(
    api: &ApiUser,
    id: i64,
    status: TaskStatus,
    version: i64,
) -> Result<Json<TaskItem>, ApiError> {
    api.store
        .set_task_status(TaskId(id), status, version)
        .await?;
    Ok(Json(TaskItem::from(&api.store.task(TaskId(id)).await?)))
}

#[utoipa::path(post, path = "/api/v1/tasks/{task}/done",
    params(("task" = i64, Path, description = "the task's id")),
    request_body = VersionInput,
    responses((status = 200, body = TaskItem),
        (status = 403, description = "the role may only look"),
        (status = 404, description = "missing, deleted or out of reach"),
        (status = 409, description = "saved by someone else since `version`")),
    security(("bearer" = [])))]
pub(crate) async fn done_task(
    api: ApiUser,
    Path(id): Path<i64>,
    Body(input): Body<VersionInput>,
) -> Result<Json<TaskItem>, ApiError> {
    set_status(&api, id, TaskStatus::Done, input.version).await
}

#[utoipa::path(post, path = "/api/v1/tasks/{task}/reopen",
    params(("task" = i64, Path, description = "the task's id")),
    request_body = VersionInput,
    responses((status = 200, body = TaskItem),
        (status = 403, description = "the role may only look"),
        (status = 404, description = "missing, deleted or out of reach"),
        (status = 409, description = "saved by someone else since `version`")),
    security(("bearer" = [])))]
pub(crate) async fn reopen_task(
    api: ApiUser,
    Path(id): Path<i64>,
    Body(input): Body<VersionInput>,
) -> Result<Json<TaskItem>, ApiError> {
    set_status(&api, id, TaskStatus::Open, input.version).await
}

#[utoipa::path(post, path = "/api/v1/tasks/{task}/delete",
    params(("task" = i64, Path, description = "the task's id")),
    request_body = ReasonInput,
    responses((status = 204, description = "deleted: kept with the reason, audited"),
        (status = 403, description = "the role may only look"),
        (status = 404, description = "missing, deleted or out of reach"),
        (status = 409, description = "saved by someone else since `version`"),
        (status = 422, description = "no reason", body = crate::error::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub(crate) async fn delete_task(
    api: ApiUser,
    Path(id): Path<i64>,
    Body(input): Body<ReasonInput>,
) -> Result<StatusCode, ApiError> {
    api.store
        .delete_task(TaskId(id), &input.reason, input.version)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub(crate) struct CalendarQuery {
    /// First and last day, `YYYY-MM-DD` (at most 62 days; today and the six days after it
    /// by default).
    from: Option<String>,
    to: Option<String>,
    /// `true`: only activities the caller takes part in (the default).
    mine: Option<bool>,
}

#[utoipa::path(get, path = "/api/v1/calendar", params(CalendarQuery),
    responses((status = 200, body = [ActivitySummary]), (status = 422, description = "dates that do not read, or too long a period", body = crate::error::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub(crate) async fn calendar(
    State(app): State<App>,
    api: ApiUser,
    Query(query): Query<CalendarQuery>,
) -> Result<Json<Vec<ActivitySummary>>, ApiError> {
    let from = match &query.from {
        Some(d) => date("from", d)?,
        None => app.today(),
    };
    let to = match &query.to {
        Some(d) => date("to", d)?,
        None => from + chrono::Days::new(6),
    };
    if to < from || (to - from).num_days() > 62 {
        return Err(ParseError::new(
            "to",
            to.to_string(),
            "from a day on or after `from`, at most 62 days",
            "应不早于 from，且最多 62 天",
        )
        .into());
    }
    let user = match (query.mine.unwrap_or(true), api.store.user()) {
        (true, Some(user)) => Some(user.id),
        _ => None,
    };
    let rows = api.store.activities_between(from, to, user).await?;
    Ok(Json(rows.iter().map(ActivitySummary::from).collect()))
}

/// A weekly report: the stored one, or kam's draft from the records when none is saved.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportItem {
    /// The week's Monday.
    pub week: String,
    pub body: String,
    /// `draft` (kam's, when `version` is 0), `saved` or `submitted`.
    pub status: String,
    /// 0 before the first save.
    pub version: i64,
}

/// A report as a client saves it.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ReportInput {
    pub body: String,
    /// The version read (0 for a first save).
    pub version: i64,
    /// `true` submits it (then it no longer changes).
    #[serde(default)]
    pub submit: bool,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub(crate) struct LangQuery {
    /// `en` for an English draft; Chinese by default.
    lang: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/reports/{week}",
    params(("week" = String, Path, description = "any day of the week, YYYY-MM-DD"), LangQuery),
    responses((status = 200, body = ReportItem), (status = 422, description = "not a date", body = crate::error::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub(crate) async fn report(
    State(app): State<App>,
    api: ApiUser,
    Path(week): Path<String>,
    Query(query): Query<LangQuery>,
) -> Result<Json<ReportItem>, ApiError> {
    let monday = kam_core::report::parse_week(&week)?;
    let me = api
        .store
        .user()
        .map(|u| u.username.to_string())
        .ok_or(crate::error::WebError::NotFound)?;
    let item = match api.store.report(&me, monday).await? {
        Some(r) => ReportItem {
            week: monday.to_string(),
            status: if r.submitted { "submitted" } else { "saved" }.into(),
            body: r.body,
            version: r.version,
        },
        None => {
            let lang = if query.lang.as_deref() == Some("en") {
                kam_core::report::Language::En
            } else {
                kam_core::report::Language::Zh
            };
            ReportItem {
                week: monday.to_string(),
                body: crate::pages::reports::draft_for(&app, &api.store, monday, lang).await?,
                status: "draft".into(),
                version: 0,
            }
        }
    };
    Ok(Json(item))
}

#[utoipa::path(put, path = "/api/v1/reports/{week}",
    params(("week" = String, Path, description = "any day of the week, YYYY-MM-DD")),
    request_body = ReportInput,
    responses((status = 200, body = ReportItem),
        (status = 403, description = "the role may only look"),
        (status = 409, description = "saved since `version`"),
        (status = 422, description = "an empty report, or one submitted already", body = crate::error::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub(crate) async fn save_report(
    api: ApiUser,
    Path(week): Path<String>,
    Body(input): Body<ReportInput>,
) -> Result<Json<ReportItem>, ApiError> {
    let monday = kam_core::report::parse_week(&week)?;
    let version = api
        .store
        .save_report(monday, &input.body, input.submit, input.version)
        .await?;
    Ok(Json(ReportItem {
        week: monday.to_string(),
        body: kam_core::report::check_body(&input.body)?,
        status: if input.submit { "submitted" } else { "saved" }.into(),
        version,
    }))
}

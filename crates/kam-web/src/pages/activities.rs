//! Activities (拜访与活动) from the 360: a visit, call, meeting or event planned or logged on its
//! own form — when and where, who took part (our people and the customer's key people), the
//! purpose, SPIN notes, the needs found (implied or explicit), the outcome and next steps that
//! become tasks. A plan is moved (with a reason) or logged when it took place; either is
//! cancelled with a reason. Also the 360's work sections: the activities, the needs list and the
//! customer's open tasks.

use std::collections::HashMap;

use askama::Template;
use axum::{
    Form,
    extract::{Path, Query, State},
    response::Response,
};
use chrono::{NaiveDate, NaiveTime};
use kam_core::{
    activity::{
        ActivityKind, ActivityStatus, FoundNeed, LIST_LIMIT, NeedKind, NeedStatus, NewActivity,
        NextStep, Spin, note,
    },
    id::{ActivityId, CustomerId, KeyPersonId, NeedId},
    task::TaskStatus,
};
use kam_store::{ActivityRow, ActivityView, TaskFilter};
use serde::Deserialize;

use crate::{
    App,
    error::WebError,
    i18n::Tr,
    pages::{
        Choice, Chrome, FieldError, back_to_360, code_choices, no_customer_pages, render_form,
        writable,
    },
    session::Signed,
};

/// This page's routes, into the one route table.
pub(crate) fn routes(routes: crate::Routes) -> crate::Routes {
    routes
        .get("/customers/{cif}/activities/new", new_form)
        .post("/customers/{cif}/activities", add)
        .get("/customers/{cif}/activities/{activity}", edit_form)
        .post("/customers/{cif}/activities/{activity}", save)
        .post("/customers/{cif}/activities/{activity}/cancel", cancel)
        .post("/customers/{cif}/needs/{need}", need_status)
}

/// The rows of needs and next steps the form offers (kam-core takes up to `LIST_LIMIT`).
const FORM_ROWS: usize = 3;

/// A need row as typed.
#[derive(Debug, Default, Clone)]
pub(crate) struct NeedRow {
    pub text: String,
    pub kind: String,
}

/// A next step row as typed.
#[derive(Debug, Default, Clone)]
pub(crate) struct StepRow {
    pub text: String,
    pub due: String,
    pub owner: String,
}

/// An activity's fields as the form carries them (text, so a refused value is shown as typed).
/// Read from the form's pairs: the key people are ticked boxes sharing one name.
#[derive(Debug, Default, Clone)]
pub(crate) struct ActivityForm {
    pub kind: String,
    pub status: String,
    pub date: String,
    pub time: String,
    pub minutes: String,
    pub place: String,
    pub purpose: String,
    /// Our people beside the one who saves, by user name, separated by commas or spaces.
    pub colleagues: String,
    pub people: Vec<String>,
    pub situation: String,
    pub problem: String,
    pub implication: String,
    pub need_payoff: String,
    pub outcome: String,
    pub needs: Vec<NeedRow>,
    pub steps: Vec<StepRow>,
    /// Why a plan is moved.
    pub reason: String,
    pub version: String,
}

impl ActivityForm {
    pub(crate) fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut form = Self {
            needs: vec![NeedRow::default(); FORM_ROWS],
            steps: vec![StepRow::default(); FORM_ROWS],
            ..Self::default()
        };
        for (key, value) in pairs {
            let row = |prefix: &str| -> Option<(usize, String)> {
                let rest = key.strip_prefix(prefix)?;
                let (n, field) = rest.split_once('_').unwrap_or((rest, ""));
                let n: usize = n.parse().ok()?;
                (1..=FORM_ROWS)
                    .contains(&n)
                    .then(|| (n - 1, field.to_owned()))
            };
            if let Some((i, field)) = row("need_") {
                match field.as_str() {
                    "" => form.needs[i].text = value,
                    "kind" => form.needs[i].kind = value,
                    _ => {}
                }
                continue;
            }
            if let Some((i, field)) = row("step_") {
                match field.as_str() {
                    "" => form.steps[i].text = value,
                    "due" => form.steps[i].due = value,
                    "owner" => form.steps[i].owner = value,
                    _ => {}
                }
                continue;
            }
            match key.as_str() {
                "kind" => form.kind = value,
                "status" => form.status = value,
                "date" => form.date = value,
                "time" => form.time = value,
                "minutes" => form.minutes = value,
                "place" => form.place = value,
                "purpose" => form.purpose = value,
                "colleagues" => form.colleagues = value,
                "people" if !value.trim().is_empty() => form.people.push(value),
                "situation" => form.situation = value,
                "problem" => form.problem = value,
                "implication" => form.implication = value,
                "need_payoff" => form.need_payoff = value,
                "outcome" => form.outcome = value,
                "reason" => form.reason = value,
                "version" => form.version = value,
                _ => {}
            }
        }
        form
    }

    fn of(view: &ActivityView) -> Self {
        let a = &view.activity;
        let d = &a.details;
        let text = |s: &Option<String>| s.clone().unwrap_or_default();
        Self {
            kind: d.kind.as_str().to_owned(),
            status: a.status.as_str().to_owned(),
            date: d.starts.date().to_string(),
            time: d.starts.format("%H:%M").to_string(),
            minutes: d.minutes.map(|m| m.to_string()).unwrap_or_default(),
            place: text(&d.place),
            purpose: d.purpose.clone(),
            colleagues: d.colleagues.join(", "),
            people: d.people.iter().map(|p| p.0.to_string()).collect(),
            situation: text(&d.spin.situation),
            problem: text(&d.spin.problem),
            implication: text(&d.spin.implication),
            need_payoff: text(&d.spin.need_payoff),
            outcome: text(&d.outcome),
            needs: vec![NeedRow::default(); FORM_ROWS],
            steps: vec![StepRow::default(); FORM_ROWS],
            reason: String::new(),
            version: a.version.to_string(),
        }
    }

    /// The status the form asks for.
    fn status(&self) -> Result<ActivityStatus, FieldError> {
        ActivityStatus::parse(&self.status)
            .ok()
            .filter(|s| *s != ActivityStatus::Cancelled)
            .ok_or_else(|| FieldError::new("status", String::new()))
    }

    /// The activity the form describes, or the first field it gets wrong.
    fn activity(&self, t: &Tr<'_>) -> Result<NewActivity, FieldError> {
        let refused =
            |field: &'static str, e: kam_core::ParseError| FieldError::new(field, t.reason(&e));
        let date = |field: &'static str, s: &str| -> Result<NaiveDate, FieldError> {
            NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| {
                FieldError::new(field, t.with("profile-not-a-date", &[("value", s.into())]))
            })
        };
        let kind = ActivityKind::parse(&self.kind).map_err(|e| refused("kind", e))?;
        let day = date("date", &self.date)?;
        let time = match self.time.trim() {
            "" => NaiveTime::from_hms_opt(9, 0, 0).expect("a time"),
            s => NaiveTime::parse_from_str(s, "%H:%M")
                .map_err(|_| FieldError::new("time", t.get("activity-not-a-time")))?,
        };
        let minutes = match self.minutes.trim() {
            "" => None,
            s => Some(
                s.parse::<u32>()
                    .map_err(|_| FieldError::new("minutes", t.get("activity-minutes")))?,
            ),
        };
        let long = |field: &'static str, s: &str| {
            note(field, s, kam_core::activity::NOTE_LIMIT).map_err(|e| refused(field, e))
        };
        let people = self
            .people
            .iter()
            .map(|p| p.parse().map(KeyPersonId))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| FieldError::new("people", t.get("activity-people-invalid")))?;
        let mut needs = Vec::new();
        for (i, row) in self.needs.iter().enumerate() {
            if row.text.trim().is_empty() {
                continue;
            }
            let field = kam_core::activity::NEED_FIELDS[i];
            let kind = NeedKind::parse(&row.kind).map_err(|e| refused(field, e))?;
            needs.push(FoundNeed {
                text: row.text.trim().to_owned(),
                kind,
            });
        }
        let mut next_steps = Vec::new();
        for (i, row) in self.steps.iter().enumerate() {
            if row.text.trim().is_empty() {
                continue;
            }
            let due = date(kam_core::activity::STEP_DUE_FIELDS[i], &row.due)?;
            next_steps.push(NextStep {
                text: row.text.trim().to_owned(),
                due,
                owner: Some(row.owner.trim().to_owned()).filter(|o| !o.is_empty()),
            });
        }
        Ok(NewActivity {
            kind,
            starts: day.and_time(time),
            minutes,
            place: long("place", &self.place)?,
            purpose: self.purpose.trim().to_owned(),
            colleagues: self
                .colleagues
                .split([',', '，', '、', ' ', ';', '；'])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            people,
            spin: Spin {
                situation: long("situation", &self.situation)?,
                problem: long("problem", &self.problem)?,
                implication: long("implication", &self.implication)?,
                need_payoff: long("need_payoff", &self.need_payoff)?,
            },
            needs,
            outcome: long("outcome", &self.outcome)?,
            next_steps,
        })
    }
}

/// The form's field for a refusal kam-core or the store names (`starts` is the date).
fn field_of(field: &'static str) -> &'static str {
    match field {
        "starts" => "date",
        other => other,
    }
}

#[derive(Template)]
#[template(path = "activity.html")]
struct ActivityPage<'a> {
    c: Chrome<'a>,
    cif_no: String,
    customer: String,
    /// `None` for a new activity.
    activity: Option<i64>,
    /// The stored status (`planned`, `done`, `cancelled`); the new one's for a new activity.
    stored_status: String,
    /// Why it was moved or cancelled, as stored.
    stored_reason: String,
    form: ActivityForm,
    kinds: Vec<Choice>,
    need_kinds: Vec<Choice>,
    statuses: Vec<Choice>,
    people: Vec<Choice>,
    colleagues: Vec<Choice>,
    /// The needs and tasks it made, as stored.
    found: Vec<String>,
    tasks: Vec<String>,
    /// Whether the user may change it (a read-only role reads the page without its buttons).
    may_edit: bool,
    error: Option<FieldError>,
}

impl ActivityPage<'_> {
    fn error_on(&self, field: &str) -> Option<String> {
        FieldError::on(&self.error, field)
    }

    fn action(&self) -> String {
        match self.activity {
            Some(id) => format!("/customers/{}/activities/{id}", self.cif_no),
            None => format!("/customers/{}/activities", self.cif_no),
        }
    }

    /// The refusal of a list row's field: `need_2`, `step_1_due`.
    fn row_error(&self, prefix: &str, n: &usize, suffix: &str) -> Option<String> {
        self.error_on(&format!("{prefix}_{n}{suffix}"))
    }

    fn spin_value(&self, field: &str) -> &str {
        match field {
            "situation" => &self.form.situation,
            "problem" => &self.form.problem,
            "implication" => &self.form.implication,
            _ => &self.form.need_payoff,
        }
    }

    fn ticked(&self, person: &str) -> bool {
        self.form.people.iter().any(|p| p == person)
    }

    fn cancelled(&self) -> bool {
        self.stored_status == "cancelled"
    }

    /// Whether the form records what was found (a logged activity, or a plan to be logged).
    fn logs(&self) -> bool {
        self.stored_status != "cancelled"
    }
}

async fn page(
    app: &App,
    signed: &Signed,
    cif: &str,
    stored: Option<&ActivityView>,
    form: ActivityForm,
    error: Option<FieldError>,
) -> Result<Response, WebError> {
    let t = signed.tr(app);
    let customer = signed.store.customer_by_cif(cif).await?;
    let people = signed
        .store
        .key_people(customer.id)
        .await?
        .into_iter()
        .map(|p| Choice {
            value: p.id.0.to_string(),
            label: format!("{}（{}）", p.name, t.code("contact-role", p.role.as_str())),
        })
        .collect();
    let colleagues = signed
        .store
        .list_users()
        .await?
        .into_iter()
        .filter(|u| !u.disabled && u.role.serves_customers())
        .map(|u| Choice {
            value: u.username.to_string(),
            label: u.display_name,
        })
        .collect();
    let title = t.get(match (stored, form.status.as_str()) {
        (Some(_), _) => "activity-title-edit",
        (None, "planned") => "activity-title-plan",
        (None, _) => "activity-title-log",
    });
    let stored_status = stored
        .map(|v| v.activity.status.as_str().to_owned())
        .unwrap_or_else(|| form.status.clone());
    let statuses = match stored.map(|v| v.activity.status) {
        Some(ActivityStatus::Planned) => code_choices(&t, "activity-status", &["planned", "done"]),
        _ => Vec::new(),
    };
    let page = ActivityPage {
        c: Chrome::new(app, signed, "customers", title),
        cif_no: customer.cif_no.to_string(),
        customer: customer.name.clone(),
        activity: stored.map(|v| v.activity.id.0),
        stored_status,
        stored_reason: stored
            .and_then(|v| v.activity.reason.clone())
            .unwrap_or_default(),
        form,
        kinds: code_choices(&t, "activity-kind", ActivityKind::CODES),
        need_kinds: code_choices(&t, "need-kind", NeedKind::CODES),
        statuses,
        people,
        colleagues,
        found: stored
            .map(|v| {
                v.needs
                    .iter()
                    .map(|n| format!("{}（{}）", n.text, t.code("need-kind", n.kind.as_str())))
                    .collect()
            })
            .unwrap_or_default(),
        tasks: stored
            .map(|v| {
                v.tasks
                    .iter()
                    .map(|task| {
                        format!(
                            "{} · {} · {} · {}",
                            task.title,
                            task.due,
                            task.owner_name,
                            t.code("task-status", task.status.as_str())
                        )
                    })
                    .collect()
            })
            .unwrap_or_default(),
        may_edit: signed.scope().may_write(),
        error,
    };
    let refused = page.error.clone();
    render_form(&page, refused.as_ref())
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct NewQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    date: String,
}

pub(crate) async fn new_form(
    State(app): State<App>,
    signed: Signed,
    Path(cif): Path<String>,
    Query(query): Query<NewQuery>,
) -> Result<Response, WebError> {
    writable(&signed, &cif).await?;
    let planned = query.status == "planned";
    let today = app.today();
    let day = NaiveDate::parse_from_str(&query.date, "%Y-%m-%d").unwrap_or(if planned {
        today + chrono::Days::new(1)
    } else {
        today
    });
    let form = ActivityForm {
        kind: ActivityKind::Visit.as_str().to_owned(),
        status: if planned { "planned" } else { "done" }.to_owned(),
        date: day.to_string(),
        time: "10:00".into(),
        minutes: "60".into(),
        needs: vec![
            NeedRow {
                kind: NeedKind::Implied.as_str().to_owned(),
                ..NeedRow::default()
            };
            FORM_ROWS
        ],
        steps: vec![StepRow::default(); FORM_ROWS],
        ..ActivityForm::default()
    };
    page(&app, &signed, &cif, None, form, None).await
}

pub(crate) async fn edit_form(
    State(app): State<App>,
    signed: Signed,
    Path((cif, id)): Path<(String, i64)>,
) -> Result<Response, WebError> {
    no_customer_pages(&signed)?;
    let customer = signed.store.customer_by_cif(&cif).await?;
    let view = signed.store.activity(customer.id, ActivityId(id)).await?;
    let mut form = ActivityForm::of(&view);
    for row in &mut form.needs {
        row.kind = NeedKind::Implied.as_str().to_owned();
    }
    page(&app, &signed, &cif, Some(&view), form, None).await
}

/// A refusal of the store that names a field of the form: shown next to it, values kept.
fn form_error(t: &Tr<'_>, error: kam_store::Error) -> Result<FieldError, WebError> {
    match error {
        kam_store::Error::Invalid(e) => Ok(FieldError::new(field_of(e.field), t.reason(&e))),
        other => Err(other.into()),
    }
}

pub(crate) async fn add(
    State(app): State<App>,
    signed: Signed,
    Path(cif): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let customer = writable(&signed, &cif).await?;
    let t = signed.tr(&app);
    let form = ActivityForm::from_pairs(pairs);
    let parsed = form.status().and_then(|s| Ok((s, form.activity(&t)?)));
    let (status, activity) = match parsed {
        Ok(parsed) => parsed,
        Err(error) => return page(&app, &signed, &cif, None, form, Some(error)).await,
    };
    if let Err(e) = signed.store.add_activity(customer, &activity, status).await {
        let error = form_error(&t, e)?;
        return page(&app, &signed, &cif, None, form, Some(error)).await;
    }
    let key = match status {
        ActivityStatus::Planned => "activity-planned",
        _ => "activity-logged",
    };
    let note = t.with(key, &[("purpose", activity.purpose.as_str().into())]);
    back_to_360(&app, &signed, &cif, "activities", note).await
}

pub(crate) async fn save(
    State(app): State<App>,
    signed: Signed,
    Path((cif, id)): Path<(String, i64)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let customer = writable(&signed, &cif).await?;
    let t = signed.tr(&app);
    let stored = signed.store.activity(customer, ActivityId(id)).await?;
    let mut form = ActivityForm::from_pairs(pairs);
    if stored.activity.status == ActivityStatus::Done {
        // A logged activity stays logged: the form has no status to choose.
        form.status = "done".into();
    }
    let parsed = form.status().and_then(|s| Ok((s, form.activity(&t)?)));
    let (status, activity) = match parsed {
        Ok(parsed) => parsed,
        Err(error) => return page(&app, &signed, &cif, Some(&stored), form, Some(error)).await,
    };
    let seen: i64 = form.version.trim().parse().unwrap_or(-1);
    let reason = Some(form.reason.as_str()).filter(|r| !r.trim().is_empty());
    match signed
        .store
        .save_activity(customer, ActivityId(id), &activity, (status, reason), seen)
        .await
    {
        Ok(_) => {}
        Err(kam_store::Error::Conflict { .. }) => return Err(WebError::Conflict),
        Err(e) => {
            let error = form_error(&t, e)?;
            return page(&app, &signed, &cif, Some(&stored), form, Some(error)).await;
        }
    }
    let note = t.with(
        "activity-saved",
        &[("purpose", activity.purpose.as_str().into())],
    );
    back_to_360(&app, &signed, &cif, "activities", note).await
}

#[derive(Debug, Deserialize)]
pub(crate) struct CancelForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    version: String,
}

pub(crate) async fn cancel(
    State(app): State<App>,
    signed: Signed,
    Path((cif, id)): Path<(String, i64)>,
    Form(form): Form<CancelForm>,
) -> Result<Response, WebError> {
    let customer = writable(&signed, &cif).await?;
    let t = signed.tr(&app);
    let seen: i64 = form.version.trim().parse().unwrap_or(-1);
    let stored = signed.store.activity(customer, ActivityId(id)).await?;
    match signed
        .store
        .cancel_activity(customer, ActivityId(id), &form.reason, seen)
        .await
    {
        Ok(()) => {}
        Err(kam_store::Error::Invalid(e)) => {
            let error = FieldError::new(
                if e.field == "reason" {
                    "cancel_reason"
                } else {
                    "status"
                },
                t.reason(&e),
            );
            let form = ActivityForm::of(&stored);
            return page(&app, &signed, &cif, Some(&stored), form, Some(error)).await;
        }
        Err(kam_store::Error::Conflict { .. }) => return Err(WebError::Conflict),
        Err(other) => return Err(other.into()),
    }
    let note = t.with(
        "activity-cancelled",
        &[("purpose", stored.activity.details.purpose.as_str().into())],
    );
    back_to_360(&app, &signed, &cif, "activities", note).await
}

#[derive(Debug, Deserialize)]
pub(crate) struct NeedForm {
    #[serde(default)]
    status: String,
}

pub(crate) async fn need_status(
    State(app): State<App>,
    signed: Signed,
    Path((cif, need)): Path<(String, i64)>,
    Form(form): Form<NeedForm>,
) -> Result<Response, WebError> {
    let customer = writable(&signed, &cif).await?;
    let t = signed.tr(&app);
    let status = NeedStatus::parse(&form.status).map_err(|e| WebError::BadRequest(t.reason(&e)))?;
    signed
        .store
        .set_need_status(customer, NeedId(need), status)
        .await?;
    let note = t.get(match status {
        NeedStatus::Met => "need-marked-met",
        NeedStatus::Open => "need-marked-open",
    });
    back_to_360(&app, &signed, &cif, "needs", note).await
}

/// An activity as a list shows it (the 360, my day, the calendar).
#[derive(Debug)]
pub(crate) struct ActivityLine {
    pub id: i64,
    pub cif_no: String,
    pub customer: String,
    pub day: String,
    pub time: String,
    pub kind: String,
    pub status: String,
    pub status_code: &'static str,
    pub purpose: String,
    pub place: String,
    pub outcome: String,
    pub who: String,
}

impl ActivityLine {
    pub(crate) fn new(t: &Tr<'_>, a: &ActivityRow) -> Self {
        let mut who = a.colleagues.clone();
        who.extend(a.people.iter().cloned());
        Self {
            id: a.id.0,
            cif_no: a.cif_no.clone(),
            customer: a.customer_name.clone(),
            day: a.starts.date().to_string(),
            time: a.starts.format("%H:%M").to_string(),
            kind: t.code("activity-kind", a.kind.as_str()),
            status: t.code("activity-status", a.status.as_str()),
            status_code: a.status.as_str(),
            purpose: a.purpose.clone(),
            place: a.place.clone().unwrap_or_default(),
            outcome: a.outcome.clone().unwrap_or_default(),
            who: who.join("、"),
        }
    }
}

/// A need on the 360.
#[derive(Debug)]
pub(crate) struct NeedLine {
    pub id: i64,
    pub text: String,
    pub kind: String,
    pub explicit: bool,
    pub open: bool,
    pub found_on: String,
    pub met_on: String,
}

/// A task as a list shows it.
#[derive(Debug)]
pub(crate) struct TaskLine {
    pub id: i64,
    pub cif_no: String,
    pub customer: String,
    pub title: String,
    pub due: String,
    /// `overdue`, `today`, `later` or `done`, for the row's class.
    pub state: &'static str,
    pub state_label: String,
    pub priority: String,
    pub high: bool,
    pub owner: String,
    pub open: bool,
    pub version: i64,
}

impl TaskLine {
    pub(crate) fn new(t: &Tr<'_>, task: &kam_core::task::Task, today: NaiveDate) -> Self {
        use kam_core::task::Due;
        let state = match task.due_on(today) {
            Due::Overdue => "overdue",
            Due::Today => "today",
            Due::Later => "later",
            Due::Done => "done",
        };
        let state_label = match task.due_on(today) {
            Due::Overdue => t.with(
                "task-overdue-days",
                &[("n", task.days_overdue(today).into())],
            ),
            _ => t.code("task-due", state),
        };
        Self {
            id: task.id.0,
            cif_no: task.cif_no.clone(),
            customer: task.customer_name.clone(),
            title: task.title.clone(),
            due: task.due.to_string(),
            state,
            state_label,
            priority: t.code("priority", task.priority.as_str()),
            high: task.priority == kam_core::task::Priority::High,
            owner: task.owner_name.clone(),
            open: task.status == TaskStatus::Open,
            version: task.version,
        }
    }
}

/// The 360's work sections of one customer: its latest activities, its needs list and its
/// open tasks; and each key person's last contact.
pub(crate) struct Work {
    pub activities: Vec<ActivityLine>,
    pub needs: Vec<NeedLine>,
    pub tasks: Vec<TaskLine>,
    pub opportunities: Vec<crate::pages::opportunities::OpportunityLine>,
    pub contacts: HashMap<KeyPersonId, NaiveDate>,
}

/// How many activities the 360 lists (the rest are in the calendar).
const LATEST: u32 = 10;

pub(crate) async fn work_of(
    app: &App,
    signed: &Signed,
    customer: CustomerId,
) -> Result<Work, WebError> {
    let t = signed.tr(app);
    let store = &signed.store;
    let activities = store
        .activities(customer, LATEST)
        .await?
        .iter()
        .map(|a| ActivityLine::new(&t, a))
        .collect();
    let needs = store
        .needs(customer)
        .await?
        .into_iter()
        .map(|n| NeedLine {
            id: n.id.0,
            text: n.text,
            kind: t.code("need-kind", n.kind.as_str()),
            explicit: n.kind == NeedKind::Explicit,
            open: n.status == NeedStatus::Open,
            found_on: n.found_on.to_string(),
            met_on: n.met_on.map(|d| d.to_string()).unwrap_or_default(),
        })
        .collect();
    let mut tasks = store
        .tasks(&TaskFilter {
            customer: Some(customer),
            open_only: true,
            ..TaskFilter::default()
        })
        .await?;
    kam_core::task::my_day_order(&mut tasks, app.today());
    let tasks = tasks
        .iter()
        .map(|task| TaskLine::new(&t, task, app.today()))
        .collect();
    let opportunities = store
        .opportunities(&kam_store::OpportunityFilter {
            customer: Some(customer),
            closed_since: Some(app.today() - chrono::Days::new(365)),
            ..kam_store::OpportunityFilter::default()
        })
        .await?
        .iter()
        .map(|o| crate::pages::opportunities::OpportunityLine::new(app, &t, o))
        .collect();
    Ok(Work {
        activities,
        needs,
        tasks,
        opportunities,
        contacts: store.last_contacts(customer).await?,
    })
}

/// At most this many needs or steps in one activity, as kam-core says.
const _: () = assert!(FORM_ROWS <= LIST_LIMIT);

//! Tasks (任务): the list of one's own (or, for a manager, the team's) tasks by due day — overdue
//! first —, a task's form (added from a customer's 360, edited by version), and done / reopen /
//! delete (with a reason) from the lists. Every change goes through the store's checks: reach,
//! write permission, whom work may be given to (kam-core), the version.

use askama::Template;
use axum::{
    Form,
    extract::{Path, Query, State},
    response::Response,
};
use chrono::NaiveDate;
use kam_core::{
    id::TaskId,
    task::{NewTask, Priority, Task, TaskStatus, my_day_order},
};
use kam_store::TaskFilter;
use serde::Deserialize;

use crate::{
    App,
    error::WebError,
    i18n::Tr,
    pages::{
        Choice, Chrome, FieldError, activities::TaskLine, code_choices, no_customer_pages, render,
        render_form, writable,
    },
    session::{Signed, redirect_with},
};

/// This page's routes, into the one route table.
pub(crate) fn routes(routes: crate::Routes) -> crate::Routes {
    routes
        .get("/tasks", list)
        .get("/customers/{cif}/tasks/new", new_form)
        .post("/customers/{cif}/tasks", add)
        .get("/tasks/{task}", edit_form)
        .post("/tasks/{task}", save)
        .post("/tasks/{task}/done", done)
        .post("/tasks/{task}/reopen", reopen)
        .post("/tasks/{task}/delete", delete)
}

/// How many tasks a list shows at most.
const LIST_LIMIT: u32 = 500;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ListQuery {
    /// `mine` (default) or `team` (a manager's: every task in reach).
    #[serde(default)]
    who: String,
    /// `open` (default), `overdue`, `done` or `all`.
    #[serde(default)]
    state: String,
}

#[derive(Template)]
#[template(path = "tasks.html")]
struct TasksPage<'a> {
    c: Chrome<'a>,
    note: Option<String>,
    who: String,
    state: String,
    /// Whether the user may choose the team's tasks (a manager).
    team_choice: bool,
    may_edit: bool,
    tasks: Vec<TaskLine>,
    count_text: String,
    back: String,
}

/// Tasks the user or their team owns, as the lists read them.
pub(crate) async fn read_tasks(
    signed: &Signed,
    mine: bool,
    filter: TaskFilter,
) -> Result<Vec<Task>, WebError> {
    let filter = TaskFilter {
        owner: mine.then(|| signed.user().id),
        ..filter
    };
    Ok(signed.store.tasks(&filter).await?)
}

pub(crate) async fn list(
    State(app): State<App>,
    signed: Signed,
    Query(query): Query<ListQuery>,
) -> Result<Response, WebError> {
    no_customer_pages(&signed)?;
    let t = signed.tr(&app);
    let today = app.today();
    let team_choice = signed.scope().reads_team_work();
    let mine = !(team_choice && query.who == "team");
    let state = match query.state.as_str() {
        s @ ("overdue" | "done" | "all") => s,
        _ => "open",
    };
    let filter = TaskFilter {
        open_only: matches!(state, "open" | "overdue"),
        due_to: (state == "overdue").then(|| today - chrono::Days::new(1)),
        limit: LIST_LIMIT,
        ..TaskFilter::default()
    };
    let mut tasks = read_tasks(&signed, mine, filter).await?;
    if state == "done" {
        tasks.retain(|t| t.status == TaskStatus::Done);
    }
    my_day_order(&mut tasks, today);
    let lines: Vec<TaskLine> = tasks
        .iter()
        .map(|task| TaskLine::new(&t, task, today))
        .collect();
    let page = TasksPage {
        c: Chrome::new(&app, &signed, "tasks", t.get("tasks-title")),
        note: signed.session.flash.as_ref().map(|f| f.note.clone()),
        who: if mine { "mine" } else { "team" }.into(),
        state: state.into(),
        team_choice,
        may_edit: signed.scope().may_write(),
        count_text: t.with(
            "tasks-count",
            &[
                ("n", lines.len().into()),
                (
                    "overdue",
                    lines.iter().filter(|l| l.state == "overdue").count().into(),
                ),
            ],
        ),
        tasks: lines,
        back: format!(
            "/tasks?who={}&state={state}",
            if mine { "mine" } else { "team" }
        ),
    };
    render(&page)
}

/// A task's fields as the form carries them.
#[derive(Debug, Default, Deserialize, Clone)]
pub(crate) struct TaskForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    due: String,
    #[serde(default)]
    owner: String,
    #[serde(default)]
    priority: String,
    #[serde(default)]
    notes: String,
    #[serde(default)]
    version: String,
}

impl TaskForm {
    fn of(task: &Task) -> Self {
        Self {
            title: task.title.clone(),
            due: task.due.to_string(),
            owner: task.owner.clone(),
            priority: task.priority.as_str().to_owned(),
            notes: task.notes.clone().unwrap_or_default(),
            version: task.version.to_string(),
        }
    }

    fn task(&self, t: &Tr<'_>, today: NaiveDate) -> Result<NewTask, FieldError> {
        let refused =
            |field: &'static str, e: kam_core::ParseError| FieldError::new(field, t.reason(&e));
        let due = NaiveDate::parse_from_str(self.due.trim(), "%Y-%m-%d").map_err(|_| {
            FieldError::new(
                "due",
                t.with("profile-not-a-date", &[("value", self.due.as_str().into())]),
            )
        })?;
        let priority = Priority::parse(&self.priority).map_err(|e| refused("priority", e))?;
        let task = NewTask::parse(&self.title, due, &self.owner, priority, &self.notes)
            .map_err(|e| refused(e.field, e))?;
        task.check(today).map_err(|e| refused(e.field, e))?;
        Ok(task)
    }
}

#[derive(Template)]
#[template(path = "task.html")]
struct TaskPage<'a> {
    c: Chrome<'a>,
    cif_no: String,
    customer: String,
    /// `None` for a new task.
    task: Option<i64>,
    /// Done, for an existing task.
    done: bool,
    form: TaskForm,
    priorities: Vec<Choice>,
    colleagues: Vec<Choice>,
    /// Whether the user may change it (a read-only role reads it without the buttons).
    may_edit: bool,
    error: Option<FieldError>,
}

impl TaskPage<'_> {
    fn error_on(&self, field: &str) -> Option<String> {
        FieldError::on(&self.error, field)
    }

    fn action(&self) -> String {
        match self.task {
            Some(id) => format!("/tasks/{id}"),
            None => format!("/customers/{}/tasks", self.cif_no),
        }
    }
}

/// Whom the user may give work to, for the owner's list: kam-core's rule (`may_give_alert_to`:
/// themselves, and a manager's RMs and presidents in reach), the one the store applies on save.
pub(crate) async fn owners(signed: &Signed) -> Result<Vec<Choice>, WebError> {
    let paths: std::collections::HashMap<_, _> = signed
        .store
        .list_org_units()
        .await?
        .into_iter()
        .map(|u| (u.id, u.path))
        .collect();
    Ok(signed
        .store
        .list_users()
        .await?
        .into_iter()
        .filter(|u| {
            !u.disabled
                && paths
                    .get(&u.org_unit_id)
                    .is_some_and(|path| signed.scope().may_give_alert_to(u, path))
        })
        .map(|u| Choice {
            value: u.username.to_string(),
            label: u.display_name,
        })
        .collect())
}

async fn page(
    app: &App,
    signed: &Signed,
    (cif, task): (&str, Option<&Task>),
    form: TaskForm,
    error: Option<FieldError>,
) -> Result<Response, WebError> {
    let t = signed.tr(app);
    let customer = signed.store.customer_by_cif(cif).await?;
    let page = TaskPage {
        c: Chrome::new(
            app,
            signed,
            "tasks",
            t.get(if task.is_some() {
                "task-title-edit"
            } else {
                "task-title-new"
            }),
        ),
        cif_no: customer.cif_no.to_string(),
        customer: customer.name.clone(),
        task: task.map(|t| t.id.0),
        done: task.is_some_and(|t| t.status == TaskStatus::Done),
        form,
        priorities: code_choices(&t, "priority", Priority::CODES),
        colleagues: owners(signed).await?,
        may_edit: signed.scope().may_write(),
        error,
    };
    let refused = page.error.clone();
    render_form(&page, refused.as_ref())
}

pub(crate) async fn new_form(
    State(app): State<App>,
    signed: Signed,
    Path(cif): Path<String>,
) -> Result<Response, WebError> {
    writable(&signed, &cif).await?;
    let form = TaskForm {
        due: (app.today() + chrono::Days::new(1)).to_string(),
        owner: signed.user().username.to_string(),
        priority: Priority::Normal.as_str().to_owned(),
        ..TaskForm::default()
    };
    page(&app, &signed, (&cif, None), form, None).await
}

fn form_error(t: &Tr<'_>, error: kam_store::Error) -> Result<FieldError, WebError> {
    match error {
        kam_store::Error::Invalid(e) => Ok(FieldError::new(
            match e.field {
                "title" | "due" | "priority" | "notes" => e.field,
                _ => "owner",
            },
            t.reason(&e),
        )),
        other => Err(other.into()),
    }
}

pub(crate) async fn add(
    State(app): State<App>,
    signed: Signed,
    Path(cif): Path<String>,
    Form(form): Form<TaskForm>,
) -> Result<Response, WebError> {
    let customer = writable(&signed, &cif).await?;
    let t = signed.tr(&app);
    let task = match form.task(&t, app.today()) {
        Ok(task) => task,
        Err(error) => return page(&app, &signed, (&cif, None), form, Some(error)).await,
    };
    if let Err(e) = signed.store.add_task(customer, &task).await {
        let error = form_error(&t, e)?;
        return page(&app, &signed, (&cif, None), form, Some(error)).await;
    }
    let note = t.with("task-added", &[("title", task.title.as_str().into())]);
    crate::pages::back_to_360(&app, &signed, &cif, "tasks", note).await
}

async fn stored(signed: &Signed, id: i64) -> Result<Task, WebError> {
    no_customer_pages(signed)?;
    Ok(signed.store.task(TaskId(id)).await?)
}

pub(crate) async fn edit_form(
    State(app): State<App>,
    signed: Signed,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    let task = stored(&signed, id).await?;
    page(
        &app,
        &signed,
        (&task.cif_no, Some(&task)),
        TaskForm::of(&task),
        None,
    )
    .await
}

pub(crate) async fn save(
    State(app): State<App>,
    signed: Signed,
    Path(id): Path<i64>,
    Form(form): Form<TaskForm>,
) -> Result<Response, WebError> {
    let task = stored(&signed, id).await?;
    crate::pages::writes(&signed)?;
    let t = signed.tr(&app);
    let new = match form.task(&t, app.today()) {
        Ok(new) => new,
        Err(error) => {
            return page(
                &app,
                &signed,
                (&task.cif_no, Some(&task)),
                form,
                Some(error),
            )
            .await;
        }
    };
    let seen: i64 = form.version.trim().parse().unwrap_or(-1);
    match signed.store.edit_task(TaskId(id), &new, seen).await {
        Ok(_) => {}
        Err(kam_store::Error::Conflict { .. }) => return Err(WebError::Conflict),
        Err(e) => {
            let error = form_error(&t, e)?;
            return page(
                &app,
                &signed,
                (&task.cif_no, Some(&task)),
                form,
                Some(error),
            )
            .await;
        }
    }
    let note = t.with("task-saved", &[("title", new.title.as_str().into())]);
    back(&app, &signed, "", note).await
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct StatusForm {
    #[serde(default)]
    version: String,
    #[serde(default)]
    reason: String,
    /// The page to return to (a local path).
    #[serde(default)]
    back: String,
}

async fn set_status(
    app: &App,
    signed: &Signed,
    id: i64,
    form: &StatusForm,
    status: TaskStatus,
) -> Result<Response, WebError> {
    let task = stored(signed, id).await?;
    let t = signed.tr(app);
    let seen: i64 = form.version.trim().parse().unwrap_or(-1);
    match signed.store.set_task_status(TaskId(id), status, seen).await {
        Ok(_) => {}
        Err(kam_store::Error::Conflict { .. }) => return Err(WebError::Conflict),
        Err(e) => return Err(e.into()),
    }
    let key = match status {
        TaskStatus::Done => "task-done",
        TaskStatus::Open => "task-reopened",
    };
    let note = t.with(key, &[("title", task.title.as_str().into())]);
    back(app, signed, &form.back, note).await
}

pub(crate) async fn done(
    State(app): State<App>,
    signed: Signed,
    Path(id): Path<i64>,
    Form(form): Form<StatusForm>,
) -> Result<Response, WebError> {
    set_status(&app, &signed, id, &form, TaskStatus::Done).await
}

pub(crate) async fn reopen(
    State(app): State<App>,
    signed: Signed,
    Path(id): Path<i64>,
    Form(form): Form<StatusForm>,
) -> Result<Response, WebError> {
    set_status(&app, &signed, id, &form, TaskStatus::Open).await
}

pub(crate) async fn delete(
    State(app): State<App>,
    signed: Signed,
    Path(id): Path<i64>,
    Form(form): Form<StatusForm>,
) -> Result<Response, WebError> {
    let task = stored(&signed, id).await?;
    let t = signed.tr(&app);
    let seen: i64 = form.version.trim().parse().unwrap_or(-1);
    match signed
        .store
        .delete_task(TaskId(id), &form.reason, seen)
        .await
    {
        Ok(()) => {}
        Err(kam_store::Error::Invalid(e)) => {
            let error = FieldError::new("reason", t.reason(&e));
            return page(
                &app,
                &signed,
                (&task.cif_no, Some(&task)),
                TaskForm::of(&task),
                Some(error),
            )
            .await;
        }
        Err(kam_store::Error::Conflict { .. }) => return Err(WebError::Conflict),
        Err(e) => return Err(e.into()),
    }
    let note = t.with("task-deleted", &[("title", task.title.as_str().into())]);
    back(&app, &signed, "", note).await
}

/// Back to the page the change was made from (a local path only), or the task list.
async fn back(app: &App, signed: &Signed, to: &str, note: String) -> Result<Response, WebError> {
    let flash = kam_store::Flash {
        note,
        secret: None,
        field: Some("tasks".into()),
    };
    let to = crate::security::local_path_or(to, "/tasks");
    redirect_with(app, signed, &to, flash).await
}

//! Weekly reports (周报): kam writes the week's draft from what was logged (kam-core's `draft`),
//! the RM edits it and saves or submits it (version-checked; a submitted report is kept as it
//! was); a manager sees the team's reports of a week and who has not submitted; every report
//! prints and exports to Excel (audited).

use askama::Template;
use axum::{
    Form,
    extract::{Path, Query, State},
    response::Response,
};
use chrono::{Days, NaiveDate};
use kam_core::{
    activity::ActivityStatus,
    report::{
        Language, ReportActivity, ReportMove, ReportTask, WeekWork, draft, parse_week, week_of,
    },
};
use kam_store::{ActivityRow, StoredReport, TaskFilter};
use serde::Deserialize;

use crate::{
    App,
    error::WebError,
    excel::{Cell, SheetTitle, TitleLabels, workbook},
    format,
    i18n::Tr,
    pages::{Chrome, FieldError, no_customer_pages, render, render_form, xlsx_download},
    session::{Signed, redirect_with},
};

/// This page's routes, into the one route table.
pub(crate) fn routes(routes: crate::Routes) -> crate::Routes {
    routes
        .get("/reports", mine)
        .post("/reports", save)
        .get("/reports/team", team)
        .get("/reports/export.xlsx", export)
        .get("/reports/of/{user}", of_user)
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct WeekQuery {
    /// Any day of the week (this week by default).
    #[serde(default)]
    week: String,
    /// `1`: write the draft afresh from the records (a saved draft is replaced only on save).
    #[serde(default)]
    regenerate: String,
    /// For the export: whose report (one's own by default).
    #[serde(default)]
    user: String,
}

fn week(query: &str, today: NaiveDate) -> NaiveDate {
    parse_week(query).unwrap_or_else(|_| week_of(today))
}

/// kam's draft of `store`'s user's week starting `monday`, in `lang` (the pages and the API).
pub(crate) async fn draft_for(
    app: &App,
    store: &kam_store::UserStore,
    monday: NaiveDate,
    lang: Language,
) -> Result<String, WebError> {
    let locale = match lang {
        Language::Zh => crate::i18n::Locale::ZhCn,
        Language::En => crate::i18n::Locale::En,
    };
    let t = Tr::new(app.i18n(), locale);
    Ok(draft(
        monday,
        &week_work(app, store, &t, monday).await?,
        lang,
    ))
}

/// The week's work of `store`'s user, as the draft reads it.
async fn week_work(
    app: &App,
    store: &kam_store::UserStore,
    t: &Tr<'_>,
    monday: NaiveDate,
) -> Result<WeekWork, WebError> {
    let me = store.user().ok_or(WebError::NotFound)?.id;
    let today = app.today();
    let sunday = monday + Days::new(6);
    let item = |a: &ActivityRow| ReportActivity {
        day: a.starts.date(),
        customer: a.customer_name.clone(),
        tier: if t.is_zh() {
            a.tier_name.clone()
        } else {
            a.tier_name_en
                .clone()
                .filter(|n| !n.is_empty())
                .or(a.tier_name.clone())
        },
        kind: t.code("activity-kind", a.kind.as_str()),
        purpose: a.purpose.clone(),
        outcome: a.outcome.clone(),
    };
    let this_week = store.activities_between(monday, sunday, Some(me)).await?;
    let next_week = store
        .activities_between(sunday + Days::new(1), sunday + Days::new(7), Some(me))
        .await?;
    let tasks = store
        .tasks(&TaskFilter {
            owner: Some(me),
            ..TaskFilter::default()
        })
        .await?;
    // Overdue when the week ended (or today, for the week under way): due before then and not
    // done by then.
    let cutoff = if sunday < today {
        sunday + Days::new(1)
    } else {
        today
    };
    let task = |k: &kam_core::task::Task| ReportTask {
        due: k.due,
        customer: k.customer_name.clone(),
        title: k.title.clone(),
    };
    let pipeline = &app.rules().pipeline;
    let moved = store
        .moves_between(Some(me), monday, sunday)
        .await?
        .iter()
        .map(|m| ReportMove {
            day: m.on,
            customer: m.customer_name.clone(),
            title: m.title.clone(),
            from: crate::pages::opportunities::stage_label(t, pipeline, &m.from),
            to: crate::pages::opportunities::stage_label(t, pipeline, &m.to),
            amount: m.amount,
            won: pipeline.stage(&m.to).and_then(|s| s.outcome)
                == Some(kam_core::opportunity::Outcome::Won),
        })
        .collect();
    Ok(WeekWork {
        moved,
        logged: this_week
            .iter()
            .filter(|a| a.status == ActivityStatus::Done)
            .map(item)
            .collect(),
        done: tasks
            .iter()
            .filter(|k| k.done_on.is_some_and(|d| d >= monday && d <= sunday))
            .map(task)
            .collect(),
        overdue: tasks
            .iter()
            .filter(|k| k.due < cutoff && k.done_on.is_none_or(|d| d >= cutoff))
            .map(task)
            .collect(),
        planned: next_week
            .iter()
            .filter(|a| a.status == ActivityStatus::Planned)
            .map(item)
            .collect(),
    })
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage<'a> {
    c: Chrome<'a>,
    week: String,
    period: String,
    prev: String,
    next: String,
    /// The author's name when reading someone else's report.
    author: String,
    body: String,
    version: i64,
    status: String,
    editable: bool,
    export: String,
    manager: bool,
    note: Option<String>,
    error: Option<FieldError>,
}

impl ReportPage<'_> {
    fn error_on(&self, field: &str) -> Option<String> {
        FieldError::on(&self.error, field)
    }
}

fn status_of(t: &Tr<'_>, app: &App, report: Option<&StoredReport>) -> String {
    match report {
        Some(r) if r.submitted => t.with(
            "report-submitted-at",
            &[(
                "at",
                format::bank_time(
                    app.config().zone,
                    r.submitted_at.as_deref().unwrap_or(&r.updated_at),
                )
                .into(),
            )],
        ),
        Some(r) => t.with("report-draft-saved", &[("version", r.version.into())]),
        None => t.get("report-not-written"),
    }
}

/// The page for the signed-in user's report of `monday`, with `body` when the form was refused.
async fn my_page(
    app: &App,
    signed: &Signed,
    monday: NaiveDate,
    (regenerate, refused): (bool, Option<(String, i64, FieldError)>),
) -> Result<Response, WebError> {
    let t = signed.tr(app);
    let me = signed.user().username.to_string();
    let stored = signed.store.report(&me, monday).await?;
    let lang = if t.is_zh() {
        Language::Zh
    } else {
        Language::En
    };
    let (body, version, error) = match (refused, &stored) {
        (Some((body, version, error)), _) => (body, version, Some(error)),
        (None, Some(r)) if !regenerate || r.submitted => (r.body.clone(), r.version, None),
        (None, r) => (
            draft_for(app, &signed.store, monday, lang).await?,
            r.as_ref().map_or(0, |r| r.version),
            None,
        ),
    };
    let page = ReportPage {
        c: Chrome::new(app, signed, "reports", t.get("report-title")),
        week: monday.to_string(),
        period: format!("{monday} – {}", monday + Days::new(6)),
        prev: format!("/reports?week={}", monday - Days::new(7)),
        next: format!("/reports?week={}", monday + Days::new(7)),
        author: String::new(),
        status: status_of(&t, app, stored.as_ref()),
        editable: signed.scope().may_write() && !stored.as_ref().is_some_and(|r| r.submitted),
        export: format!("/reports/export.xlsx?week={monday}"),
        manager: signed.scope().reads_team_work(),
        note: signed
            .session
            .flash
            .as_ref()
            .filter(|f| f.field.as_deref() == Some("report"))
            .map(|f| f.note.clone()),
        body,
        version,
        error,
    };
    let refused = page.error.clone();
    render_form(&page, refused.as_ref())
}

pub(crate) async fn mine(
    State(app): State<App>,
    signed: Signed,
    Query(query): Query<WeekQuery>,
) -> Result<Response, WebError> {
    no_customer_pages(&signed)?;
    let monday = week(&query.week, app.today());
    my_page(&app, &signed, monday, (query.regenerate == "1", None)).await
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ReportForm {
    #[serde(default)]
    week: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    version: String,
    /// `save` or `submit`.
    #[serde(default)]
    action: String,
}

pub(crate) async fn save(
    State(app): State<App>,
    signed: Signed,
    Form(form): Form<ReportForm>,
) -> Result<Response, WebError> {
    no_customer_pages(&signed)?;
    let t = signed.tr(&app);
    let monday = parse_week(&form.week).map_err(|e| WebError::BadRequest(t.reason(&e)))?;
    let seen: i64 = form.version.trim().parse().unwrap_or(-1);
    let submit = form.action == "submit";
    match signed
        .store
        .save_report(monday, &form.body, submit, seen)
        .await
    {
        Ok(_) => {}
        Err(kam_store::Error::Invalid(e)) => {
            let error = FieldError::new(
                if e.field == "status" {
                    "status"
                } else {
                    "body"
                },
                t.reason(&e),
            );
            return my_page(
                &app,
                &signed,
                monday,
                (false, Some((form.body, seen, error))),
            )
            .await;
        }
        Err(kam_store::Error::Conflict { .. }) => return Err(WebError::Conflict),
        Err(e) => return Err(e.into()),
    }
    let flash = kam_store::Flash {
        note: t.get(if submit {
            "report-submitted"
        } else {
            "report-saved"
        }),
        secret: None,
        field: Some("report".into()),
    };
    redirect_with(&app, &signed, &format!("/reports?week={monday}"), flash).await
}

pub(crate) async fn of_user(
    State(app): State<App>,
    signed: Signed,
    Path(user): Path<String>,
    Query(query): Query<WeekQuery>,
) -> Result<Response, WebError> {
    no_customer_pages(&signed)?;
    let t = signed.tr(&app);
    let monday = week(&query.week, app.today());
    let stored = signed.store.report(&user, monday).await?;
    let author = signed
        .store
        .list_users()
        .await?
        .into_iter()
        .find(|u| u.username.as_str() == user)
        .map_or_else(|| user.clone(), |u| u.display_name);
    let page = ReportPage {
        c: Chrome::new(&app, &signed, "reports", t.get("report-title")),
        week: monday.to_string(),
        period: format!("{monday} – {}", monday + Days::new(6)),
        prev: format!("/reports/of/{user}?week={}", monday - Days::new(7)),
        next: format!("/reports/of/{user}?week={}", monday + Days::new(7)),
        author,
        status: status_of(&t, &app, stored.as_ref()),
        editable: false,
        export: format!("/reports/export.xlsx?week={monday}&user={user}"),
        manager: signed.scope().reads_team_work(),
        note: None,
        body: stored.map(|r| r.body).unwrap_or_default(),
        version: 0,
        error: None,
    };
    render(&page)
}

/// A member of the team's row.
pub(crate) struct Member {
    pub username: String,
    pub name: String,
    pub role: String,
    /// `submitted`, `draft` or `missing`.
    pub state: &'static str,
    pub status: String,
}

#[derive(Template)]
#[template(path = "reports_team.html")]
struct TeamPage<'a> {
    c: Chrome<'a>,
    week: String,
    period: String,
    prev: String,
    next: String,
    members: Vec<Member>,
    summary: String,
}

pub(crate) async fn team(
    State(app): State<App>,
    signed: Signed,
    Query(query): Query<WeekQuery>,
) -> Result<Response, WebError> {
    no_customer_pages(&signed)?;
    let t = signed.tr(&app);
    let monday = week(&query.week, app.today());
    let team = signed.store.team_reports(monday).await?;
    let members: Vec<Member> = team
        .iter()
        .map(|m| Member {
            username: m.user.username.to_string(),
            name: m.user.display_name.clone(),
            role: crate::pages::role_label(&t, m.user.role),
            state: match &m.report {
                Some(r) if r.submitted => "submitted",
                Some(_) => "draft",
                None => "missing",
            },
            status: status_of(&t, &app, m.report.as_ref()),
        })
        .collect();
    let summary = t.with(
        "report-team-summary",
        &[
            ("n", members.len().into()),
            (
                "submitted",
                members
                    .iter()
                    .filter(|m| m.state == "submitted")
                    .count()
                    .into(),
            ),
        ],
    );
    render(&TeamPage {
        c: Chrome::new(&app, &signed, "reports", t.get("report-team-title")),
        week: monday.to_string(),
        period: format!("{monday} – {}", monday + Days::new(6)),
        prev: format!("/reports/team?week={}", monday - Days::new(7)),
        next: format!("/reports/team?week={}", monday + Days::new(7)),
        members,
        summary,
    })
}

pub(crate) async fn export(
    State(app): State<App>,
    signed: Signed,
    Query(query): Query<WeekQuery>,
) -> Result<Response, WebError> {
    no_customer_pages(&signed)?;
    let t = signed.tr(&app);
    let monday = week(&query.week, app.today());
    let author = if query.user.is_empty() {
        signed.user().username.to_string()
    } else {
        query.user.clone()
    };
    let report = signed
        .store
        .report(&author, monday)
        .await?
        .ok_or(WebError::NotFound)?;
    let rows: Vec<Vec<Cell>> = report
        .body
        .lines()
        .enumerate()
        .map(|(i, line)| {
            vec![
                Cell::Count(i64::try_from(i + 1).ok()),
                Cell::Text(line.to_owned()),
            ]
        })
        .collect();
    let title = SheetTitle {
        sheet: t.get("report-title"),
        title: format!("{} · {author} · {monday}", t.get("report-title")),
        data_date: String::new(),
        scope: status_of(&t, &app, Some(&report)),
        exported_by: signed.user().display_name.clone(),
        exported_at: format::bank_time(app.config().zone, &chrono::Utc::now().to_rfc3339()),
    };
    let heads = [t.get("report-line"), t.get("report-text")];
    let bytes = workbook(
        &title,
        &TitleLabels::new(&t),
        app.config().amount_unit,
        &heads,
        &rows,
    )?;
    signed
        .store
        .record_event(
            "export",
            "weekly_report",
            &format!("{author}/{monday}"),
            &format!("{} lines", rows.len()),
        )
        .await?;
    Ok(xlsx_download(
        &format!("weekly-report-{author}-{monday}.xlsx"),
        bytes,
    ))
}

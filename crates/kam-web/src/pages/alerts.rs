//! The alert inbox: filter by status, kind and "given to me"; a manager gives an alert to someone
//! of their unit; whoever may change the customer marks it handled with a note. Handled alerts
//! leave the inbox (open is the default view) and stay in history (status "handled").

use askama::Template;
use axum::{
    Form,
    extract::{Path, Query, State},
    response::{IntoResponse, Redirect, Response},
};
use kam_core::alert::{AlertKind, AlertStatus};
use kam_store::AlertFilter;
use serde::Deserialize;

use crate::{
    App,
    error::WebError,
    pages::{Choice, Chrome, no_customer_pages, render},
    session::Signed,
};

/// This page's routes, into the one route table.
pub(crate) fn routes(routes: crate::Routes) -> crate::Routes {
    routes
        .get("/alerts", inbox)
        .post("/alerts/assign", assign_many)
        .post("/alerts/{id}/assign", assign)
        .post("/alerts/{id}/handle", handle)
}

const PAGE_SIZE: i64 = 50;

#[derive(Debug)]
pub(crate) struct InboxRow {
    pub id: i64,
    pub cif_no: String,
    pub customer_name: String,
    pub kind: String,
    /// The kind's code: a "no lead RM" alert links to where the lead is appointed.
    pub kind_code: &'static str,
    pub status: String,
    /// Whether it is open (it may then be given to someone or handled).
    pub open: bool,
    pub tier: i64,
    pub raised_on: String,
    pub last_seen_on: String,
    /// What was found and the bars, in the reader's words and unit, and what to do.
    pub evidence: String,
    pub thresholds: String,
    pub action: String,
    pub rule: String,
    pub assigned_to: String,
    /// The receiver by name (and login).
    pub assigned_name: String,
    pub handled: String,
}

#[derive(Template)]
#[template(path = "alerts.html")]
struct InboxPage<'a> {
    c: Chrome<'a>,
    status: String,
    kind: String,
    mine: bool,
    kinds: Vec<Choice>,
    rows: Vec<InboxRow>,
    count_text: String,
    may_write: bool,
    /// Whether the user appoints lead RMs (kam-core).
    appoints: bool,
    assignees: Vec<Choice>,
    page: i64,
    pages: i64,
    base_query: String,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct InboxQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    mine: String,
    #[serde(default)]
    page: String,
}

pub(crate) async fn inbox(
    State(app): State<App>,
    signed: Signed,
    Query(query): Query<InboxQuery>,
) -> Result<Response, WebError> {
    no_customer_pages(&signed)?;
    let t = signed.tr(&app);
    // What the filter form sends; anything else is the default (open alerts, every kind).
    let status = match query.status.as_str() {
        "all" => None,
        code => Some(AlertStatus::parse(code).unwrap_or(AlertStatus::Open)),
    };
    let kind = AlertKind::parse(&query.kind).ok();
    let page = crate::pages::page_number(&query.page);
    let filter = AlertFilter {
        status,
        kind,
        assigned_to: (query.mine == "1").then(|| signed.user().username.to_string()),
        limit: PAGE_SIZE,
        offset: (page - 1) * PAGE_SIZE,
    };
    let (alerts, total) = signed.store.alert_inbox(&filter).await?;
    // People by name, not by login: the receiver and who handled it. The users are read once,
    // for the names and for whom the alerts may be given to.
    let users = signed.store.list_users().await?;
    let names: std::collections::HashMap<String, String> = users
        .iter()
        .map(|u| (u.username.to_string(), u.display_name.clone()))
        .collect();
    let name = |login: &str| {
        names
            .get(login)
            .map_or_else(|| login.to_owned(), |n| format!("{n} ({login})"))
    };
    let rows = alerts
        .iter()
        .map(|a| {
            (
                a,
                crate::evidence::explain(&t, a.kind, &a.evidence, &a.thresholds),
            )
        })
        .map(|(a, said)| InboxRow {
            id: a.id,
            cif_no: a.cif_no.clone(),
            customer_name: a.customer_name.clone(),
            kind: t.code("alert", a.kind.code()),
            kind_code: a.kind.code(),
            status: t.code("status", a.status.as_str()),
            open: a.status == AlertStatus::Open,
            tier: a.tier,
            raised_on: a.raised_on.to_string(),
            last_seen_on: a.last_seen_on.to_string(),
            evidence: said.text,
            thresholds: said.bars,
            action: said.action,
            rule: format!("{} v{}", a.rule_id, a.rule_version),
            assigned_to: a.assigned_to.clone().unwrap_or_default(),
            assigned_name: a.assigned_to.as_deref().map(name).unwrap_or_default(),
            handled: match (&a.handled_by, &a.note) {
                (Some(by), Some(note)) => format!("{}: {note}", name(by)),
                (Some(by), None) => name(by),
                _ => String::new(),
            },
        })
        .collect();
    let kinds = AlertKind::ALL
        .iter()
        .map(|k| Choice {
            value: k.code().to_owned(),
            label: t.code("alert", k.code()),
        })
        .collect();
    let assignees = assignees(&app, &signed, &users).await?;
    let status = status.map_or("all", AlertStatus::as_str).to_owned();
    let kind = kind.map_or("", AlertKind::code).to_owned();
    let base_query = serde_urlencoded::to_string([
        ("status", status.as_str()),
        ("kind", kind.as_str()),
        ("mine", query.mine.as_str()),
    ])
    .unwrap_or_default();
    render(&InboxPage {
        c: Chrome::new(&app, &signed, "alerts", t.get("alerts-title")),
        count_text: t.with("alerts-count", &[("count", total.into())]),
        status,
        kind,
        mine: query.mine == "1",
        kinds,
        rows,
        may_write: signed.scope().may_write(),
        appoints: signed.scope().appoints_relationship_managers(),
        assignees,
        page,
        pages: ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1),
        base_query,
    })
}

/// Whom a user may give an alert to, as kam-core decides (`Scope::may_give_alert_to`): themself
/// first, then the colleagues within their reach. The store applies the same rule on the write.
async fn assignees(
    app: &App,
    signed: &Signed,
    users: &[kam_core::user::User],
) -> Result<Vec<Choice>, WebError> {
    let me = signed.user();
    let mut choices = vec![Choice {
        value: me.username.to_string(),
        label: format!("{} ({})", me.display_name, signed.tr(app).get("me")),
    }];
    if !signed.scope().gives_alerts_to_others() {
        // Nobody else to offer: no need to read the units.
        return Ok(choices);
    }
    let units = signed.store.list_org_units().await?;
    for user in users {
        let Some(unit) = units.iter().find(|u| u.id == user.org_unit_id) else {
            continue;
        };
        if user.id != me.id && signed.scope().may_give_alert_to(user, &unit.path) {
            choices.push(Choice {
                value: user.username.to_string(),
                label: format!("{} ({})", user.display_name, user.username),
            });
        }
    }
    Ok(choices)
}

#[derive(Debug, Deserialize)]
pub(crate) struct AssignForm {
    #[serde(default)]
    assignee: String,
    #[serde(default)]
    back: String,
}

pub(crate) async fn assign(
    signed: Signed,
    Path(id): Path<i64>,
    Form(form): Form<AssignForm>,
) -> Result<Response, WebError> {
    let back = back_to(&form.back);
    let assignee = Some(form.assignee.trim()).filter(|a| !a.is_empty());
    // The store checks the alert's reach first (404), then the receiver (403).
    signed.store.assign_alert(id, assignee).await?;
    Ok(Redirect::to(&back).into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct HandleForm {
    #[serde(default)]
    note: String,
    #[serde(default)]
    back: String,
}

pub(crate) async fn handle(
    signed: Signed,
    Path(id): Path<i64>,
    Form(form): Form<HandleForm>,
) -> Result<Response, WebError> {
    let back = back_to(&form.back);
    // The store checks reach (404), write permission (403) and the note (422, naming the field).
    signed.store.handle_alert(id, &form.note).await?;
    Ok(Redirect::to(&back).into_response())
}

/// Gives several alerts at once (the rows ticked on the inbox) to one person — the Monday
/// meeting's "these five to Wang". Each is checked by the store as if given alone: the first
/// refusal stops the rest and is shown; those given before it stay given (each is audited).
pub(crate) async fn assign_many(
    signed: Signed,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.trim())
    };
    let back = back_to(field("back"));
    let assignee = Some(field("assignee")).filter(|a| !a.is_empty());
    let mut ids = Vec::new();
    for (_, value) in fields.iter().filter(|(k, _)| k == "id") {
        ids.push(value.trim().parse::<i64>().map_err(|_| {
            WebError::from(kam_core::ParseError::new(
                "id",
                value.clone(),
                "not an alert number",
                "不是预警编号",
            ))
        })?);
    }
    if ids.is_empty() {
        return Err(WebError::Unprocessable {
            field: Some("id".into()),
            zh: "请先勾选要分配的预警".into(),
            en: "Tick the alerts to give first".into(),
        });
    }
    for id in ids {
        signed.store.assign_alert(id, assignee).await?;
    }
    Ok(Redirect::to(&back).into_response())
}

/// Where a form on the alert list or a 360 returns to: back there, or to the inbox. Decided
/// before the change is written, so a bad `back` never follows a change with an error.
fn back_to(back: &str) -> String {
    crate::security::local_path(back)
        .filter(|path| path.starts_with("/alerts") || path.starts_with("/customers/"))
        .unwrap_or_else(|| "/alerts".to_owned())
}

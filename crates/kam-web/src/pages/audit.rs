//! The audit trail for auditors: sign-ins, reads of personal data, reveals, exports and changes,
//! newest first, in the bank's time, with actions and objects in words; filtered by date, actor,
//! action, record and text; exported to Excel (the export is itself audited). Any other role gets
//! the same 404 as a page that does not exist (separation of duties).

use askama::Template;
use axum::{
    extract::{Query, State},
    response::Response,
};
use chrono::NaiveDate;
use kam_store::{AuditEvent, AuditFilter};
use serde::Deserialize;

use crate::{
    App,
    error::WebError,
    excel::{self, Cell, SheetTitle, TitleLabels},
    format,
    i18n::Tr,
    pages::{Choice, Chrome, render, xlsx_download},
    session::Signed,
};

/// This page's routes, into the one route table.
pub(crate) fn routes(routes: crate::Routes) -> crate::Routes {
    routes
        .get("/audit", audit)
        .get("/audit/export.xlsx", export)
}

/// Events per page.
const PAGE_SIZE: i64 = 100;
/// The most events one export holds.
const EXPORT_LIMIT: i64 = 100_000;

/// Actions the trail records, in the order the filter offers them. An action refused by the store
/// is recorded as `<action>_refused`.
const ACTIONS: &[&str] = &[
    "sign_in",
    "sign_in_failed",
    "sign_out",
    "view",
    "reveal",
    "export",
    "score",
    "assign",
    "end",
    "handle",
    "add",
    "create",
    "create_token",
    "revoke_token",
    "change_password",
    "reset_password",
    "disable",
    "enable",
    "set_locale",
    "begin",
    "commit",
    "revert",
    "undo_pending",
    "bulk_load",
    "generated",
    "batch_run",
];

/// One event as the auditor reads it.
#[derive(Debug)]
pub(crate) struct Line {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub refused: bool,
    pub entity: String,
    pub key: String,
    /// The detail's first words, and the whole when longer (folded).
    pub summary: String,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage<'a> {
    c: Chrome<'a>,
    q: String,
    actor: String,
    action: String,
    key: String,
    from: String,
    to: String,
    actors: Vec<Choice>,
    actions: Vec<Choice>,
    lines: Vec<Line>,
    count_text: String,
    /// The bank's time zone, as the times are shown (`+08:00`).
    zone: String,
    page: i64,
    pages: i64,
    base_query: String,
    /// A date that does not read, said next to its field.
    date_error: Option<String>,
}

#[derive(Debug, Default, Deserialize, serde::Serialize)]
pub(crate) struct AuditQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    key: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default, skip_serializing)]
    page: String,
}

/// A label of the trail's vocabulary (`audit-action-view`), or the code itself when it has none.
fn label(t: &Tr<'_>, prefix: &str, code: &str) -> String {
    t.code(prefix, code)
}

fn line(t: &Tr<'_>, zone: kam_core::clock::BankZone, e: AuditEvent) -> Line {
    let (action, refused) = match e.action.strip_suffix("_refused") {
        Some(base) => (base.to_owned(), true),
        None => (e.action.clone(), false),
    };
    let summary: String = e.detail.chars().take(48).collect();
    let folded = summary.chars().count() < e.detail.chars().count();
    Line {
        at: format::bank_time(zone, &e.at),
        actor: e.actor,
        action: label(t, "audit-action", &action),
        refused,
        entity: label(t, "audit-entity", &e.entity),
        key: e.entity_key,
        summary: if folded {
            format!("{summary}…")
        } else {
            summary
        },
        detail: if folded { e.detail } else { String::new() },
    }
}

/// The filter the query asks for; a date that does not read is named.
fn filter(
    t: &Tr<'_>,
    zone: kam_core::clock::BankZone,
    query: &AuditQuery,
) -> (AuditFilter, Option<String>) {
    let mut error = None;
    let mut day = |text: &str, field: &str| -> Option<NaiveDate> {
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map_err(|_| {
                error = Some(t.with(
                    "audit-bad-date",
                    &[("field", t.get(field).into()), ("value", text.into())],
                ));
            })
            .ok()
    };
    let from = day(&query.from, "audit-from");
    let to = day(&query.to, "audit-to");
    // The bank's day D runs from its midnight to the next, as instants in UTC.
    let instant = |d: NaiveDate| {
        zone.start_of(d)
            .format("%Y-%m-%dT%H:%M:%S%.3fZ")
            .to_string()
    };
    let page = crate::pages::page_number(&query.page);
    (
        AuditFilter {
            text: Some(query.q.trim().to_owned()),
            actor: Some(query.actor.trim().to_owned()),
            action: Some(query.action.trim().to_owned()),
            key: Some(query.key.trim().to_owned()),
            from: from.map(instant),
            until: to.and_then(|d| d.succ_opt()).map(instant),
            limit: PAGE_SIZE,
            offset: (page - 1) * PAGE_SIZE,
        },
        error,
    )
}

/// An action as the auditor reads it, a refused one marked so.
fn action_label(t: &Tr<'_>, code: &str) -> String {
    match code.strip_suffix("_refused") {
        Some(base) => format!(
            "{} · {}",
            label(t, "audit-action", base),
            t.get("audit-refused")
        ),
        None => label(t, "audit-action", code),
    }
}

/// The trail is the auditor's: anyone else gets the 404 of a page that does not exist. Then the
/// reader's translator, the bank's zone and the filter the query asks for.
fn auditor_only<'a>(
    app: &'a App,
    signed: &Signed,
    query: &AuditQuery,
) -> Result<
    (
        Tr<'a>,
        kam_core::clock::BankZone,
        AuditFilter,
        Option<String>,
    ),
    WebError,
> {
    if !signed.user().role.may_read_audit() {
        return Err(WebError::NotFound);
    }
    let t = signed.tr(app);
    let zone = app.config().zone;
    let (filter, date_error) = filter(&t, zone, query);
    Ok((t, zone, filter, date_error))
}

pub(crate) async fn audit(
    State(app): State<App>,
    signed: Signed,
    Query(query): Query<AuditQuery>,
) -> Result<Response, WebError> {
    let (t, zone, filter, date_error) = auditor_only(&app, &signed, &query)?;
    let (events, total) = signed.store.audit_search(&filter).await?;
    let users = signed.store.list_users().await?;
    let actors = users
        .iter()
        .map(|u| Choice {
            value: u.username.to_string(),
            label: format!("{} ({})", u.display_name, u.username),
        })
        .collect();
    let actions = ACTIONS
        .iter()
        .flat_map(|a| [a.to_string(), format!("{a}_refused")])
        .map(|code| Choice {
            label: action_label(&t, &code),
            value: code,
        })
        .collect();
    let page = crate::pages::page_number(&query.page);
    let base_query = serde_urlencoded::to_string(&query).unwrap_or_default();
    render(&AuditPage {
        c: Chrome::new(&app, &signed, "audit", t.get("audit-title")),
        lines: events.into_iter().map(|e| line(&t, zone, e)).collect(),
        count_text: t.with("audit-count", &[("count", format::count(total).into())]),
        q: query.q,
        actor: query.actor,
        action: query.action,
        key: query.key,
        from: query.from,
        to: query.to,
        actors,
        actions,
        zone: zone.to_string(),
        page,
        pages: ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1),
        base_query,
        date_error,
    })
}

/// The events the filter finds as an Excel workbook, audited (who exported which filter).
pub(crate) async fn export(
    State(app): State<App>,
    signed: Signed,
    Query(query): Query<AuditQuery>,
) -> Result<Response, WebError> {
    let (t, zone, mut filter, date_error) = auditor_only(&app, &signed, &query)?;
    if let Some(message) = date_error {
        return Err(WebError::BadRequest(message));
    }
    filter.limit = EXPORT_LIMIT;
    filter.offset = 0;
    let (events, total) = signed.store.audit_search(&filter).await?;
    let described = serde_urlencoded::to_string(&query).unwrap_or_default();
    signed
        .store
        .record_audit_export(&format!("{} rows; {described}", events.len()))
        .await?;
    let heads = [
        t.get("audit-at"),
        t.get("audit-actor"),
        t.get("audit-action"),
        t.get("audit-entity"),
        t.get("audit-key"),
        t.get("audit-detail"),
    ];
    let rows: Vec<Vec<Cell>> = events
        .into_iter()
        .map(|e| {
            let action = action_label(&t, &e.action);
            let l = line(&t, zone, e);
            let detail = if l.detail.is_empty() {
                l.summary
            } else {
                l.detail
            };
            [l.at, l.actor, action, l.entity, l.key, detail]
                .into_iter()
                .map(Cell::Text)
                .collect()
        })
        .collect();
    let title = SheetTitle {
        sheet: t.get("audit-title"),
        data_date: String::new(),
        title: format!(
            "{} · {} {}",
            t.get("audit-title"),
            format::count(total),
            t.get("audit-rows")
        ),
        scope: if described.is_empty() {
            t.get("audit-all")
        } else {
            described
        },
        exported_by: signed.user().display_name.clone(),
        exported_at: format::bank_time(zone, &app.now().to_rfc3339()),
    };
    let bytes = excel::workbook(&title, &TitleLabels::new(&t), t.unit, &heads, &rows)?;
    Ok(xlsx_download("audit.xlsx", bytes))
}

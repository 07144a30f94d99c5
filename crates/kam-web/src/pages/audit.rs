//! The audit trail for auditors: sign-ins, reveals, exports and changes, newest first, searchable.
//! Any other role gets the same 404 as a page that does not exist (separation of duties).

use askama::Template;
use axum::{
    extract::{Query, State},
    response::Response,
};
use kam_store::AuditEvent;
use serde::Deserialize;

use crate::{
    App,
    error::WebError,
    pages::{Chrome, render},
    session::Signed,
};

/// This page's routes, into the one route table.
pub(crate) fn routes(routes: crate::Routes) -> crate::Routes {
    routes.get("/audit", audit)
}

/// Events shown per search.
const LIMIT: i64 = 500;

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage<'a> {
    c: Chrome<'a>,
    q: String,
    events: Vec<AuditEvent>,
    /// The bank's time zone, as the times are shown (`+08:00`).
    zone: String,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct AuditQuery {
    #[serde(default)]
    q: String,
}

pub(crate) async fn audit(
    State(app): State<App>,
    signed: Signed,
    Query(query): Query<AuditQuery>,
) -> Result<Response, WebError> {
    if !signed.user().role.may_read_audit() {
        return Err(WebError::NotFound);
    }
    let t = signed.tr(&app);
    let search = Some(query.q.trim()).filter(|q| !q.is_empty());
    let zone = app.config().zone;
    let events = signed
        .store
        .audit_events(search, LIMIT)
        .await?
        .into_iter()
        .map(|e| AuditEvent {
            at: crate::format::bank_time(zone, &e.at),
            ..e
        })
        .collect();
    render(&AuditPage {
        c: Chrome::new(&app, &signed, "audit", t.get("audit-title")),
        q: query.q,
        events,
        zone: zone.to_string(),
    })
}

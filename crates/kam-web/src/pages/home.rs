//! Home, "my day": the counts that matter for the role, the open alerts in the user's reach, and
//! the best-tier customers in it — what a relationship manager looks at first in the morning.

use askama::Template;
use axum::{extract::State, response::Response};
use kam_store::{CustomerFilter, CustomerSort, StoredAlert};

use crate::{
    App,
    error::WebError,
    pages::{
        Chrome,
        customers::{Row, rows},
        portfolio::Mover,
        render,
    },
    session::Signed,
};

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage<'a> {
    c: Chrome<'a>,
    as_of: String,
    customer_count: i64,
    alert_count: usize,
    key_count: i64,
    alerts: Vec<AlertRow>,
    rows: Vec<Row>,
    moves: Vec<Mover>,
}

pub(crate) struct AlertRow {
    pub id: i64,
    pub cif_no: String,
    pub customer_name: String,
    pub kind: String,
    pub raised_on: String,
    pub evidence: String,
}

impl AlertRow {
    pub(crate) fn new(alert: &StoredAlert, kind: String) -> Self {
        Self {
            id: alert.id,
            cif_no: alert.cif_no.clone(),
            customer_name: alert.customer_name.clone(),
            kind,
            raised_on: alert.raised_on.to_string(),
            evidence: alert.evidence.clone(),
        }
    }
}

pub(crate) async fn home(State(app): State<App>, signed: Signed) -> Result<Response, WebError> {
    let t = signed.tr(&app);
    let store = app.store();
    let as_of = store
        .latest_batch_date()
        .await?
        .map_or_else(|| t.get("no-batch-yet"), |d| d.to_string());
    let everything = CustomerFilter::default();
    let customer_count = store.count_customers(&signed.scope, &everything).await?;
    let key_filter = CustomerFilter {
        sort: CustomerSort::Tier,
        limit: 10,
        ..CustomerFilter::default()
    };
    let top = store.find_customers(&signed.scope, &key_filter).await?;
    let key_count = store
        .count_customers(
            &signed.scope,
            &CustomerFilter {
                tier: Some(1),
                ..CustomerFilter::default()
            },
        )
        .await?;
    let open = store.alerts(&signed.scope, true).await?;
    let moves = store
        .tier_moves(&signed.scope, 15)
        .await?
        .into_iter()
        .map(|r| Mover {
            up: r.movement.as_deref() == Some("upgraded"),
            movement: t.code("move", r.movement.as_deref().unwrap_or("")),
            tier: r.tier_name.unwrap_or_default(),
            cif_no: r.cif_no,
            name: r.name,
        })
        .collect();
    let alerts = open
        .iter()
        .take(10)
        .map(|a| AlertRow::new(a, t.code("alert", &a.kind)))
        .collect();
    render(&HomePage {
        c: Chrome::new(&app, &signed, "home", t.get("home-title")),
        as_of,
        customer_count,
        alert_count: open.len(),
        key_count,
        alerts,
        rows: rows(&t, &top),
        moves,
    })
}

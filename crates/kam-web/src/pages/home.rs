//! Home, "my day": the counts that matter for the role, the open alerts in the user's reach, and
//! the best-tier customers in it — what a relationship manager looks at first in the morning.

use askama::Template;
use axum::{
    extract::{Query, State},
    response::Response,
};
use kam_core::tier::Movement;
use kam_store::{CustomerFilter, CustomerSort, StoredAlert};
use serde::Deserialize;

use crate::{
    App,
    error::WebError,
    pages::{
        Choice, Chrome,
        activities::{ActivityLine, TaskLine},
        customers::{Row, rows},
        portfolio::Mover,
        reachable_units, render, tier_name, unit_choices,
    },
    session::Signed,
};

/// This page's routes, into the one route table.
pub(crate) fn routes(routes: crate::Routes) -> crate::Routes {
    routes.get("/", home)
}

/// How many stuck opportunities home lists (the rest are on the opportunities page).
const STUCK_SHOWN: usize = 10;

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage<'a> {
    c: Chrome<'a>,
    as_of: String,
    /// The figures as a banker reads them: 2,282, not 2282.
    customer_count: String,
    alert_count: String,
    key_count: String,
    alerts: Vec<AlertRow>,
    rows: Vec<Row>,
    moves: Vec<Mover>,
    /// The units a manager may put in scope (empty for an RM) and the chosen one's code.
    units: Vec<Choice>,
    unit: String,
    /// Alerts raised by the latest batch.
    new_alerts: String,
    /// Deposits, loans and AUM of the unit in scope, with their changes.
    figures: crate::pages::FiguresTable,
    /// My day: today's activities I take part in, my tasks due today or overdue.
    today_activities: Vec<ActivityLine>,
    tasks: Vec<TaskLine>,
    overdue: usize,
    /// Open opportunities without a stage move past the rules' bar: one's own, or for a
    /// manager the team's in scope; the longest-stuck first.
    opportunities: Vec<crate::pages::opportunities::OpportunityLine>,
    stuck_total: usize,
    /// A note after a task was done from this page; where done/reopen return.
    note: Option<String>,
    may_edit: bool,
    back: String,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct HomeQuery {
    #[serde(default)]
    unit: String,
}

pub(crate) struct AlertRow {
    pub id: i64,
    pub cif_no: String,
    pub customer_name: String,
    pub kind: String,
    pub raised_on: String,
    /// What was found, in the reader's words and unit.
    pub evidence: String,
    /// What to do about it.
    pub action: String,
    /// Raised by the latest batch: new since yesterday.
    pub new: bool,
}

impl AlertRow {
    pub(crate) fn new(t: &crate::i18n::Tr<'_>, alert: &StoredAlert) -> Self {
        let said = crate::evidence::explain(t, alert.kind, &alert.evidence, &alert.thresholds);
        Self {
            id: alert.id,
            cif_no: alert.cif_no.clone(),
            customer_name: alert.customer_name.clone(),
            kind: t.code("alert", alert.kind.code()),
            raised_on: alert.raised_on.to_string(),
            evidence: said.text,
            action: said.action,
            new: false,
        }
    }
}

pub(crate) async fn home(
    State(app): State<App>,
    signed: Signed,
    Query(query): Query<HomeQuery>,
) -> Result<Response, WebError> {
    let t = signed.tr(&app);
    let latest = signed.store.latest_batch_date().await?;
    let as_of = latest.map_or_else(|| t.get("no-batch-yet"), |d| d.to_string());
    // A manager looks at one unit of their subtree; kam-core narrows the scope (never widens it).
    let units = reachable_units(&signed).await?;
    let chosen = units.iter().find(|u| u.code == query.unit);
    let store = match chosen {
        Some(unit) => signed.store.narrowed_to(&unit.path),
        None => signed.store.clone(),
    };
    let everything = CustomerFilter::default();
    let customer_count = store.count_customers(&everything).await?;
    let key_filter = CustomerFilter {
        sort: CustomerSort::Tier,
        limit: 10,
        ..CustomerFilter::default()
    };
    let top = store.find_customers(&key_filter).await?;
    let key_count = store
        .count_customers(&CustomerFilter {
            tier: Some(1),
            ..CustomerFilter::default()
        })
        .await?;
    let open = store.alerts(true).await?;
    let figures = crate::pages::figures_table(&t, &store.unit_figures().await?);
    let moves = store
        .tier_moves(15)
        .await?
        .into_iter()
        .map(|r| Mover {
            up: r.movement == Some(Movement::Upgraded),
            movement: t.code("move", r.movement.map_or("", Movement::as_str)),
            tier: match (r.tier, r.tier_name.as_deref()) {
                (Some(tier), Some(zh)) => tier_name(&t, tier, zh, r.tier_name_en.as_deref()),
                _ => String::new(),
            },
            cif_no: r.cif_no,
            name: r.name,
        })
        .collect();
    let is_new = |a: &StoredAlert| Some(a.raised_on) == latest;
    let new_alerts = open.iter().filter(|a| is_new(a)).count();
    // New alerts first (what changed overnight), then the rest, newest first.
    let mut listed: Vec<&StoredAlert> = open.iter().collect();
    listed.sort_by_key(|a| !is_new(a));
    let alerts = listed
        .into_iter()
        .take(10)
        .map(|a| AlertRow {
            new: is_new(a),
            ..AlertRow::new(&t, a)
        })
        .collect();
    // My day reads the user's own work, whichever unit is in scope.
    let today = app.today();
    let (today_activities, mut tasks) = if signed.scope().sees_customers() {
        let me = signed.user().id;
        let activities = signed
            .store
            .activities_between(today, today, Some(me))
            .await?;
        let tasks = signed
            .store
            .tasks(&kam_store::TaskFilter {
                owner: Some(me),
                due_to: Some(today),
                open_only: true,
                ..kam_store::TaskFilter::default()
            })
            .await?;
        (activities, tasks)
    } else {
        (Vec::new(), Vec::new())
    };
    let mut stuck: Vec<crate::pages::opportunities::OpportunityLine> =
        if signed.scope().sees_customers() {
            let mine = !signed.scope().reads_team_work();
            store
                .opportunities(&kam_store::OpportunityFilter {
                    owner: mine.then(|| signed.user().id),
                    open_only: true,
                    ..kam_store::OpportunityFilter::default()
                })
                .await?
                .iter()
                .map(|o| crate::pages::opportunities::OpportunityLine::new(&app, &t, o))
                .filter(|o| o.stuck)
                .collect()
        } else {
            Vec::new()
        };
    stuck.sort_by_key(|o| std::cmp::Reverse(o.days_in_stage));
    let stuck_total = stuck.len();
    stuck.truncate(STUCK_SHOWN);
    kam_core::task::my_day_order(&mut tasks, today);
    let tasks: Vec<TaskLine> = tasks.iter().map(|k| TaskLine::new(&t, k, today)).collect();
    render(&HomePage {
        today_activities: today_activities
            .iter()
            .map(|a| ActivityLine::new(&t, a))
            .collect(),
        overdue: tasks.iter().filter(|k| k.state == "overdue").count(),
        tasks,
        opportunities: stuck,
        stuck_total,
        note: signed
            .session
            .flash
            .as_ref()
            .filter(|f| f.field.as_deref() == Some("tasks"))
            .map(|f| f.note.clone()),
        may_edit: signed.scope().may_write(),
        back: "/".into(),
        c: Chrome::new(&app, &signed, "home", t.get("home-title")),
        as_of,
        customer_count: crate::format::count(customer_count),
        alert_count: crate::format::count(open.len() as i64),
        key_count: crate::format::count(key_count),
        alerts,
        rows: rows(&t, &top),
        moves,
        units: unit_choices(&units),
        unit: chosen.map(|u| u.code.clone()).unwrap_or_default(),
        new_alerts: crate::format::count(new_alerts as i64),
        figures,
    })
}

//! The pre-visit brief (访前简报): one printable page (A4, and readable on a phone) for a visit,
//! written from kam's own data — what changed since the last logged visit (balances and their
//! months, the tier, alerts raised and handled, accounts opened or closed), the key people who
//! will be there with their stage and days since contact, the open opportunities with their
//! stage and open obstacles (each with its action), the needs still open, the last
//! visit's SPIN notes and next steps with their status, and the customer's open tasks. Every
//! figure says its rule, inputs and date.

use askama::Template;
use axum::{
    extract::{Path, State},
    response::Response,
};
use chrono::NaiveDate;
use kam_core::{
    activity::{ActivityStatus, NeedStatus},
    contact::contact_state,
    id::ActivityId,
    indicator::{CATALOGUE, Unit},
    task::my_day_order,
};
use kam_store::TaskFilter;

use crate::{
    App,
    error::WebError,
    pages::{
        Chrome,
        activities::TaskLine,
        customers::{Field, indicator_label, value_cell},
        home::AlertRow,
        no_customer_pages, render, tier_name,
    },
    session::Signed,
};

/// This page's routes, into the one route table.
pub(crate) fn routes(routes: crate::Routes) -> crate::Routes {
    routes.get("/customers/{cif}/activities/{activity}/brief", brief)
}

/// How far back "since the last visit" reaches when no visit was logged before.
const WITHOUT_VISIT_DAYS: u64 = 90;
/// How many months of balances the brief shows.
const MONTHS: usize = 6;

/// A key person who will be there.
pub(crate) struct Attendee {
    pub name: String,
    pub role: String,
    pub title: String,
    pub stage: String,
    pub stage_since: String,
    /// "2026-10-06（61 天前）· 疏远（间隔 30 天）" or "未记录联系".
    pub contact: String,
    pub freshness: &'static str,
    pub closeness: String,
    pub notes: String,
}

/// One month row of the balances' trend.
pub(crate) struct BriefObstacle {
    pub opportunity: String,
    pub text: String,
    pub action: String,
    pub owner: String,
    pub due: String,
}

pub(crate) struct MonthLine {
    pub month: String,
    pub deposit: String,
    pub loan: String,
}

#[derive(Template)]
#[template(path = "visit_brief.html")]
struct BriefPage<'a> {
    c: Chrome<'a>,
    cif_no: String,
    customer: String,
    when: String,
    kind: String,
    status: String,
    place: String,
    purpose: String,
    ours: String,
    activity: i64,
    /// "since 2026-10-06 (the last visit)" or "in the last 90 days (no visit logged)".
    since: String,
    as_of: String,
    figures: Vec<Field>,
    tier: String,
    months: Vec<MonthLine>,
    alerts: Vec<AlertRow>,
    handled: Vec<String>,
    accounts: Vec<String>,
    attendees: Vec<Attendee>,
    needs: Vec<String>,
    last_spin: Vec<Field>,
    last_steps: Vec<TaskLine>,
    tasks: Vec<TaskLine>,
    /// Open opportunities with their stage; and their open obstacles, each with its action.
    opportunities: Vec<crate::pages::opportunities::OpportunityLine>,
    obstacles: Vec<BriefObstacle>,
    may_edit: bool,
    back: String,
}

pub(crate) async fn brief(
    State(app): State<App>,
    signed: Signed,
    Path((cif, id)): Path<(String, i64)>,
) -> Result<Response, WebError> {
    no_customer_pages(&signed)?;
    let t = signed.tr(&app);
    let today = app.today();
    let store = &signed.store;
    // The one visibility decision: the 360's read (customer, indicators, alerts, tier, class).
    let view = store.customer_view(&cif).await?;
    let customer = &view.customer;
    let visit = store.activity(customer.id, ActivityId(id)).await?;
    let a = &visit.activity;
    let starts = a.details.starts;
    // The last logged activity before this one.
    let last = store
        .activities(customer.id, 0)
        .await?
        .into_iter()
        .find(|row| row.status == ActivityStatus::Done && row.starts < starts && row.id != a.id);
    let since_day: NaiveDate = match &last {
        Some(row) => row.starts.date(),
        None => starts.date() - chrono::Days::new(WITHOUT_VISIT_DAYS),
    };
    let since = match &last {
        Some(row) => t.with(
            "brief-since-visit",
            &[("day", row.starts.date().to_string().into())],
        ),
        None => t.with("brief-since-none", &[("n", WITHOUT_VISIT_DAYS.into())]),
    };
    // Balances on the batch's date and their changes, as the 360 shows them.
    let find = |code: &str, window: i64| {
        view.indicators
            .iter()
            .find(|v| v.code == code && v.window_days == window)
    };
    let unit_of = |code: &str| {
        CATALOGUE
            .iter()
            .find(|s| s.code == code)
            .map_or(Unit::Fen, |s| s.unit)
    };
    let mut figures = Vec::new();
    for (figure, balance, key) in [
        ("deposit", "deposit_balance", "brief-deposit"),
        ("loan", "loan_balance", "brief-loan"),
        ("aum", "aum", "brief-aum"),
    ] {
        let cell = |code: &str| value_cell(&t, unit_of(code), find(code, 0));
        figures.push(Field {
            label: t.with_unit(key),
            value: t.with(
                "brief-figure",
                &[
                    ("balance", cell(balance).into()),
                    ("month", cell(&format!("{figure}_change_month")).into()),
                    ("ytd", cell(&format!("{figure}_change_ytd")).into()),
                ],
            ),
        });
    }
    let as_of = view
        .tier
        .as_ref()
        .map(|tier| tier.as_of.to_string())
        .or_else(|| view.class.as_ref().map(|c| c.as_of.to_string()))
        .unwrap_or_else(|| t.get("no-batch-yet"));
    let tier = match &view.tier {
        Some(tier) => t.with(
            "brief-tier",
            &[
                (
                    "tier",
                    tier_name(&t, tier.tier, &tier.tier_name, Some(&tier.tier_name_en)).into(),
                ),
                ("month", tier.month.as_str().into()),
                ("movement", t.code("move", tier.movement.as_str()).into()),
                ("indicator", indicator_label(&t, &tier.indicator).into()),
            ],
        ),
        None => t.get("brief-no-tier"),
    };
    let months = match &view.class {
        Some(class) => {
            let deposits = class.deposit_months.points();
            let loans = class.loan_months.points();
            deposits
                .iter()
                .rev()
                .take(MONTHS)
                .rev()
                .map(|(month, fen)| MonthLine {
                    month: month.clone(),
                    deposit: t.amount(*fen),
                    loan: loans
                        .iter()
                        .find(|(m, _)| m == month)
                        .map_or_else(|| "—".to_owned(), |(_, v)| t.amount(*v)),
                })
                .collect()
        }
        None => Vec::new(),
    };
    let alerts = view
        .alerts
        .iter()
        .filter(|al| al.raised_on >= since_day && al.handled_by.is_none())
        .map(|al| AlertRow::new(&t, al))
        .collect();
    let handled = view
        .alerts
        .iter()
        .filter(|al| al.raised_on >= since_day && al.handled_by.is_some())
        .map(|al| {
            format!(
                "{} · {} · {}：{}",
                al.raised_on,
                t.code("alert", al.kind.code()),
                al.handled_by.clone().unwrap_or_default(),
                al.note.clone().unwrap_or_default()
            )
        })
        .collect();
    let accounts = store
        .account_events(customer.id, since_day)
        .await?
        .into_iter()
        .map(|e| match e.closed_on {
            Some(day) if day >= since_day => t.with(
                "brief-account-closed",
                &[
                    ("product", e.product.into()),
                    ("tail", e.account_tail.into()),
                    ("day", day.to_string().into()),
                ],
            ),
            _ => t.with(
                "brief-account-opened",
                &[
                    ("product", e.product.into()),
                    ("tail", e.account_tail.into()),
                    ("day", e.opened_on.to_string().into()),
                ],
            ),
        })
        .collect();
    // The key people who will be there (everyone current when none is named).
    let contacts = store.last_contacts(customer.id).await?;
    let interval = app.rules().contact.interval_for(
        view.tier
            .as_ref()
            .and_then(|tier| u8::try_from(tier.tier).ok()),
    );
    let named: Vec<_> = visit.people.iter().map(|(id, _)| *id).collect();
    let attendees = view
        .key_people
        .iter()
        .filter(|p| named.is_empty() || named.contains(&p.id))
        .map(|p| {
            let state = contact_state(p.closeness, contacts.get(&p.id).copied(), today, interval);
            Attendee {
                name: p.name.clone(),
                role: t.code("contact-role", p.role.as_str()),
                title: p.title.clone().unwrap_or_default(),
                stage: t.code("stage", p.stage.as_str()),
                stage_since: p.stage_since.map(|d| d.to_string()).unwrap_or_default(),
                contact: match (state.last, state.days) {
                    (Some(day), Some(days)) => format!(
                        "{} · {}",
                        t.with(
                            "contact-last",
                            &[("day", day.to_string().into()), ("n", days.into())]
                        ),
                        t.with(
                            "brief-freshness",
                            &[
                                ("state", t.code("freshness", state.freshness.code()).into()),
                                ("n", interval.into()),
                            ],
                        )
                    ),
                    _ => t.code("freshness", state.freshness.code()),
                },
                freshness: state.freshness.code(),
                closeness: if state.shown_closeness == p.closeness {
                    p.closeness.get().to_string()
                } else {
                    format!("{} ↓（{}）", state.shown_closeness.get(), p.closeness.get())
                },
                notes: p.details.notes.clone().unwrap_or_default(),
            }
        })
        .collect();
    let needs = store
        .needs(customer.id)
        .await?
        .into_iter()
        .filter(|n| n.status == NeedStatus::Open)
        .map(|n| {
            format!(
                "{}（{}，{}）",
                n.text,
                t.code("need-kind", n.kind.as_str()),
                n.found_on
            )
        })
        .collect();
    // The last visit's notes and next steps with their status.
    let (last_spin, last_steps) = match &last {
        Some(row) => {
            let last = store.activity(customer.id, row.id).await?;
            let d = &last.activity.details;
            let mut notes = Vec::new();
            for (key, text) in [
                ("activity-purpose", Some(d.purpose.clone())),
                ("spin-situation", d.spin.situation.clone()),
                ("spin-problem", d.spin.problem.clone()),
                ("spin-implication", d.spin.implication.clone()),
                ("spin-need-payoff", d.spin.need_payoff.clone()),
                ("activity-outcome", d.outcome.clone()),
            ] {
                if let Some(value) = text {
                    notes.push(Field {
                        label: t.get(key),
                        value,
                    });
                }
            }
            let steps = last
                .tasks
                .iter()
                .map(|k| TaskLine::new(&t, k, today))
                .collect();
            (notes, steps)
        }
        None => (Vec::new(), Vec::new()),
    };
    let mut open = store
        .tasks(&TaskFilter {
            customer: Some(customer.id),
            open_only: true,
            ..TaskFilter::default()
        })
        .await?;
    my_day_order(&mut open, today);
    let tasks = open.iter().map(|k| TaskLine::new(&t, k, today)).collect();
    let open_opportunities = store
        .opportunities(&kam_store::OpportunityFilter {
            customer: Some(customer.id),
            open_only: true,
            ..kam_store::OpportunityFilter::default()
        })
        .await?;
    let obstacles = store
        .open_obstacles(customer.id)
        .await?
        .into_iter()
        .map(|(opportunity, b)| BriefObstacle {
            opportunity,
            text: b.text,
            action: b.action,
            owner: b.owner_name.unwrap_or_default(),
            due: b.due.map(|d| d.to_string()).unwrap_or_default(),
        })
        .collect();
    let opportunities = open_opportunities
        .iter()
        .map(|o| crate::pages::opportunities::OpportunityLine::new(&app, &t, o))
        .collect();
    let page = BriefPage {
        c: Chrome::new(&app, &signed, "customers", t.get("brief-title")),
        cif_no: customer.cif_no.to_string(),
        customer: customer.name.clone(),
        when: starts.format("%Y-%m-%d %H:%M").to_string(),
        kind: t.code("activity-kind", a.details.kind.as_str()),
        status: t.code("activity-status", a.status.as_str()),
        place: a.details.place.clone().unwrap_or_default(),
        purpose: a.details.purpose.clone(),
        ours: visit
            .colleagues
            .iter()
            .map(|(_, name)| name.as_str())
            .collect::<Vec<_>>()
            .join("、"),
        activity: a.id.0,
        since,
        as_of,
        figures,
        tier,
        months,
        alerts,
        handled,
        accounts,
        attendees,
        needs,
        last_spin,
        last_steps,
        tasks,
        opportunities,
        obstacles,
        may_edit: signed.scope().may_write(),
        back: format!("/customers/{}/activities/{}/brief", customer.cif_no, a.id.0),
    };
    render(&page)
}

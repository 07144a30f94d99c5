//! Visit coverage (拜访覆盖) of the unit in scope: per tier, how many corporate customers the
//! rules' visits a month require of an RM and of the sub-branch president, how many were visited
//! that often in the month, and who falls short — with their last visit and a way to plan one.
//! The sub-branch president's Monday question: which key accounts has nobody been to see?

use askama::Template;
use axum::{
    extract::{Query, State},
    response::Response,
};
use chrono::{Datelike, Days, Months, NaiveDate};
use kam_core::coverage::{VisitTally, coverage, overdue};
use serde::Deserialize;

use crate::{
    App,
    error::WebError,
    pages::{Choice, Chrome, no_customer_pages, reachable_units, render, unit_choices},
    session::Signed,
};

/// This page's routes, into the one route table.
pub(crate) fn routes(routes: crate::Routes) -> crate::Routes {
    routes.get("/coverage", page)
}

/// How many customers falling short the page lists.
const SHORT_LIST: usize = 200;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct CoverageQuery {
    #[serde(default)]
    unit: String,
    /// `YYYY-MM`; the current month by default.
    #[serde(default)]
    month: String,
}

pub(crate) struct Row {
    pub tier: String,
    pub customers: u32,
    pub cells: [kam_core::coverage::CoverageCell; 2],
}

pub(crate) struct Short {
    pub cif_no: String,
    pub name: String,
    pub tier: String,
    pub rm: String,
    pub president: String,
    pub last_visit: String,
}

#[derive(Template)]
#[template(path = "coverage.html")]
struct CoveragePage<'a> {
    c: Chrome<'a>,
    units: Vec<Choice>,
    unit: String,
    month: String,
    months: Vec<String>,
    period: String,
    rows: Vec<Row>,
    short: Vec<Short>,
    short_total: usize,
    may_edit: bool,
}

/// The first day of `month` (`YYYY-MM`), or of today's month.
fn first_of(month: &str, today: NaiveDate) -> NaiveDate {
    NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d")
        .ok()
        .filter(|d| *d <= today)
        .unwrap_or_else(|| today.with_day(1).expect("the first of a month"))
}

pub(crate) async fn page(
    State(app): State<App>,
    signed: Signed,
    Query(query): Query<CoverageQuery>,
) -> Result<Response, WebError> {
    no_customer_pages(&signed)?;
    let t = signed.tr(&app);
    let today = app.today();
    let units = reachable_units(&signed).await?;
    let chosen = units.iter().find(|u| u.code == query.unit);
    let store = match chosen {
        Some(unit) => signed.store.narrowed_to(&unit.path),
        None => signed.store.clone(),
    };
    let from = first_of(&query.month, today);
    let end = from + Months::new(1) - Days::new(1);
    let to = end.min(today);
    let customers = store.visit_tallies(from, to).await?;
    let rule = app.rules().contact;
    let tallies: Vec<VisitTally> = customers
        .iter()
        .map(|c| VisitTally {
            tier: c.tier,
            rm_visits: c.rm_visits,
            president_visits: c.president_visits,
        })
        .collect();
    let tier_label = |tier: u8| {
        let names = &app.rules().corporate;
        let i = usize::from(tier.clamp(1, 5)) - 1;
        if t.is_zh() {
            names.scale.names[i].clone()
        } else {
            names.names_en[i].clone()
        }
    };
    let rows = coverage(&rule, &tallies)
        .iter()
        .map(|r| Row {
            tier: tier_label(r.tier),
            customers: r.customers,
            cells: [r.rm, r.president],
        })
        .collect();
    let i = |tier: u8| usize::from(tier.clamp(1, 5)) - 1;
    let mut short: Vec<&kam_store::CustomerVisits> = customers
        .iter()
        .filter(|c| {
            overdue(rule.rm_visits_per_month[i(c.tier)], c.rm_visits)
                || overdue(
                    rule.president_visits_per_month[i(c.tier)],
                    c.president_visits,
                )
        })
        .collect();
    // The best tiers first, then the longest without a visit.
    short.sort_by_key(|c| (c.tier, c.last_visit));
    let short_total = short.len();
    let visits = |done: u32, required: u32| {
        if required == 0 {
            "—".to_owned()
        } else {
            format!("{done} / {required}")
        }
    };
    let short = short
        .into_iter()
        .take(SHORT_LIST)
        .map(|c| Short {
            cif_no: c.cif_no.clone(),
            name: c.name.clone(),
            tier: tier_label(c.tier),
            rm: visits(c.rm_visits, rule.rm_visits_per_month[i(c.tier)]),
            president: visits(
                c.president_visits,
                rule.president_visits_per_month[i(c.tier)],
            ),
            last_visit: c.last_visit.map_or_else(
                || t.get("coverage-never"),
                |d| {
                    t.with(
                        "contact-last",
                        &[
                            ("day", d.to_string().into()),
                            ("n", (today - d).num_days().into()),
                        ],
                    )
                },
            ),
        })
        .collect();
    let month = from.format("%Y-%m").to_string();
    let months = (0..12)
        .filter_map(|n| today.with_day(1)?.checked_sub_months(Months::new(n)))
        .map(|d| d.format("%Y-%m").to_string())
        .collect();
    let page = CoveragePage {
        c: Chrome::new(&app, &signed, "portfolio", t.get("coverage-title")),
        units: unit_choices(&units),
        unit: chosen.map(|u| u.code.clone()).unwrap_or_default(),
        period: t.with(
            "coverage-period",
            &[
                ("from", from.to_string().into()),
                ("to", to.to_string().into()),
            ],
        ),
        month,
        months,
        rows,
        short,
        short_total,
        may_edit: signed.scope().may_write(),
    };
    render(&page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_month_in_the_future_or_unreadable_is_this_month() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 6).unwrap();
        assert_eq!(
            first_of("2026-10", today),
            NaiveDate::from_ymd_opt(2026, 10, 1).unwrap()
        );
        assert_eq!(
            first_of("2027-01", today),
            NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()
        );
        assert_eq!(
            first_of("x", today),
            NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()
        );
    }
}

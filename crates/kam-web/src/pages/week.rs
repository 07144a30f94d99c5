//! My week (我的日程): a calendar of one's visits and other activities and the tasks due, a week
//! or a month at a time; a manager may show the team's. An item opens its own form, where its
//! day is changed (a planned visit with the reason for the move).

use askama::Template;
use axum::{
    extract::{Query, State},
    response::Response,
};
use chrono::{Datelike, Days, NaiveDate};
use kam_store::TaskFilter;
use serde::Deserialize;

use crate::{
    App,
    error::WebError,
    pages::{
        Chrome,
        activities::{ActivityLine, TaskLine},
        no_customer_pages, render,
        tasks::read_tasks,
    },
    session::Signed,
};

/// This page's routes, into the one route table.
pub(crate) fn routes(routes: crate::Routes) -> crate::Routes {
    routes.get("/week", week)
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct WeekQuery {
    /// `week` (default) or `month`.
    #[serde(default)]
    view: String,
    /// A day in the period shown (today by default).
    #[serde(default)]
    date: String,
    /// `mine` (default) or `team` (a manager's).
    #[serde(default)]
    who: String,
}

/// One day of the calendar.
pub(crate) struct Day {
    pub date: String,
    pub label: String,
    pub today: bool,
    /// Outside the month shown (the month view's first and last weeks).
    pub outside: bool,
    pub activities: Vec<ActivityLine>,
    pub tasks: Vec<TaskLine>,
}

#[derive(Template)]
#[template(path = "week.html")]
struct WeekPage<'a> {
    c: Chrome<'a>,
    month: bool,
    who: String,
    team_choice: bool,
    period: String,
    /// The day the period is shown around (kept when the view changes).
    anchor: String,
    prev: String,
    next: String,
    today: String,
    weeks: Vec<Vec<Day>>,
    weekdays: Vec<String>,
    counts: String,
}

/// The Monday on or before `day`.
fn monday_of(day: NaiveDate) -> NaiveDate {
    day - Days::new(u64::from(day.weekday().num_days_from_monday()))
}

/// The days a view shows: a week from its Monday, or whole weeks covering the month.
pub(crate) fn period(day: NaiveDate, month: bool) -> (NaiveDate, NaiveDate) {
    if month {
        let first = day.with_day(1).expect("the first of a month");
        let next = first
            .checked_add_months(chrono::Months::new(1))
            .expect("a month later");
        let last = next - Days::new(1);
        (monday_of(first), monday_of(last) + Days::new(6))
    } else {
        let from = monday_of(day);
        (from, from + Days::new(6))
    }
}

pub(crate) async fn week(
    State(app): State<App>,
    signed: Signed,
    Query(query): Query<WeekQuery>,
) -> Result<Response, WebError> {
    no_customer_pages(&signed)?;
    let t = signed.tr(&app);
    let today = app.today();
    let month = query.view == "month";
    let team_choice = signed.scope().reads_team_work();
    let mine = !(team_choice && query.who == "team");
    let day = NaiveDate::parse_from_str(&query.date, "%Y-%m-%d").unwrap_or(today);
    let (from, to) = period(day, month);
    let me = signed.user().id;
    let activities = signed
        .store
        .activities_between(from, to, mine.then_some(me))
        .await?;
    let tasks = read_tasks(
        &signed,
        mine,
        TaskFilter {
            due_from: Some(from),
            due_to: Some(to),
            ..TaskFilter::default()
        },
    )
    .await?;
    let mut weeks: Vec<Vec<Day>> = Vec::new();
    let mut d = from;
    while d <= to {
        if d.weekday().num_days_from_monday() == 0 {
            weeks.push(Vec::new());
        }
        let key = d.to_string();
        let day_activities = activities
            .iter()
            .filter(|a| a.starts.date() == d)
            .map(|a| ActivityLine::new(&t, a))
            .collect();
        let day_tasks = tasks
            .iter()
            .filter(|k| k.due == d)
            .map(|k| TaskLine::new(&t, k, today))
            .collect();
        weeks.last_mut().expect("a week begun").push(Day {
            label: if month {
                d.day().to_string()
            } else {
                format!(
                    "{} {}",
                    d.format("%m-%d"),
                    t.code("weekday", &d.weekday().number_from_monday().to_string())
                )
            },
            date: key,
            today: d == today,
            outside: month && d.month() != day.month(),
            activities: day_activities,
            tasks: day_tasks,
        });
        d = d + Days::new(1);
    }
    let (prev, next) = if month {
        (
            day.checked_sub_months(chrono::Months::new(1))
                .unwrap_or(day),
            day.checked_add_months(chrono::Months::new(1))
                .unwrap_or(day),
        )
    } else {
        (day - Days::new(7), day + Days::new(7))
    };
    let view = if month { "month" } else { "week" };
    let who = if mine { "mine" } else { "team" };
    let link = |d: NaiveDate| format!("/week?view={view}&date={d}&who={who}");
    let page = WeekPage {
        c: Chrome::new(&app, &signed, "week", t.get("week-title")),
        month,
        who: who.into(),
        team_choice,
        period: if month {
            day.format("%Y-%m").to_string()
        } else {
            format!("{from} – {to}")
        },
        anchor: day.to_string(),
        prev: link(prev),
        next: link(next),
        today: link(today),
        weekdays: (1..=7).map(|n| t.code("weekday", &n.to_string())).collect(),
        counts: t.with(
            "week-counts",
            &[
                ("activities", activities.len().into()),
                ("tasks", tasks.len().into()),
            ],
        ),
        weeks,
    };
    render(&page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_month_is_shown_in_whole_weeks_from_monday() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 6).unwrap();
        let (from, to) = period(day, true);
        assert_eq!(from, NaiveDate::from_ymd_opt(2026, 11, 30).unwrap());
        assert_eq!(to, NaiveDate::from_ymd_opt(2027, 1, 3).unwrap());
        let (from, to) = period(day, false);
        assert_eq!(from, NaiveDate::from_ymd_opt(2026, 11, 30).unwrap());
        assert_eq!(to, day);
    }
}

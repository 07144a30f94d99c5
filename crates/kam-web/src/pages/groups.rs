//! The group page: members across branches (those the user may see, and how many there are in
//! all), the lead unit, co-units and lead RM, and consolidated deposits, loans by five-class and
//! contribution over the visible members.

use std::collections::BTreeMap;

use askama::Template;
use axum::{
    extract::{Path, State},
    response::Response,
};
use kam_store::StoredIndicator;

use crate::{
    App,
    error::WebError,
    pages::{
        Chrome,
        customers::{Field, Node},
        render,
    },
    session::Signed,
};

/// This page's routes, into the one route table.
pub(crate) fn routes(routes: crate::Routes) -> crate::Routes {
    routes.get("/groups/{group}", show)
}

#[derive(Debug)]
pub(crate) struct MemberRow {
    pub node: Node,
    pub deposit: String,
    pub loan: String,
    pub loan_class: String,
    pub contribution: String,
}

#[derive(Template)]
#[template(path = "group.html")]
struct GroupPage<'a> {
    c: Chrome<'a>,
    code: String,
    name: String,
    facts: Vec<Field>,
    coverage: String,
    members: Vec<MemberRow>,
    totals: Vec<Field>,
    loans_by_class: Vec<Field>,
}

fn value(values: &[StoredIndicator], code: &str, window: i64) -> Option<i64> {
    values
        .iter()
        .find(|v| v.code == code && v.window_days == window)
        .and_then(|v| v.value_int)
}

pub(crate) async fn show(
    State(app): State<App>,
    signed: Signed,
    Path(code): Path<String>,
) -> Result<Response, WebError> {
    let t = signed.tr(&app);
    let store = &signed.store;
    let view = store.group_by_code(&code).await?;
    let nodes = store.group_nodes(view.group.id).await?;
    let units = store.list_org_units().await?;
    let unit_name = |id| {
        units
            .iter()
            .find(|u| u.id == id)
            .map_or_else(String::new, |u| u.name.clone())
    };
    let lead_rm = match view.group.lead_rm_id {
        Some(id) => store
            .list_users()
            .await?
            .into_iter()
            .find(|u| u.id == id)
            .map(|u| format!("{} ({})", u.display_name, u.username)),
        None => None,
    };
    let field = |key: &str, value: String| Field {
        label: t.get(key),
        value,
    };
    let facts = vec![
        field("group-lead-unit", unit_name(view.group.lead_unit_id)),
        field(
            "group-co-units",
            view.group
                .co_unit_ids
                .iter()
                .map(|id| unit_name(*id))
                .collect::<Vec<_>>()
                .join("、"),
        ),
        field("group-lead-rm", lead_rm.unwrap_or_else(|| "—".into())),
    ];

    let tree = crate::pages::customers::tree(&nodes, kam_core::id::CustomerId(-1));
    let mut members = Vec::with_capacity(tree.len());
    let (mut deposits, mut loans, mut contribution) = (0i64, 0i64, 0i64);
    let mut by_class: BTreeMap<i64, i64> = BTreeMap::new();
    for node in tree {
        let values = store.indicators_of(&node.cif_no).await?;
        let deposit = value(&values, "avg_daily_deposit", 90);
        let loan = value(&values, "loan_balance", 0);
        let class = value(&values, "worst_loan_class", 0);
        let contributed = value(&values, "contribution", 365);
        deposits += deposit.unwrap_or(0);
        loans += loan.unwrap_or(0);
        contribution += contributed.unwrap_or(0);
        if let (Some(loan), Some(class)) = (loan, class)
            && loan != 0
        {
            *by_class.entry(class).or_default() += loan;
        }
        members.push(MemberRow {
            deposit: t.amount_or_dash(deposit),
            loan: t.amount_or_dash(loan),
            loan_class: class.map_or_else(|| "—".into(), |c| t.code("loan-class", &c.to_string())),
            contribution: t.amount_or_dash(contributed),
            node,
        });
    }
    let totals = vec![
        field("group-deposits", t.money(deposits)),
        field("group-loans", t.money(loans)),
        field("group-contribution", t.money(contribution)),
    ];
    let loans_by_class = by_class
        .into_iter()
        .map(|(class, amount)| Field {
            label: t.code("loan-class", &class.to_string()),
            value: t.money(amount),
        })
        .collect();
    render(&GroupPage {
        c: Chrome::new(&app, &signed, "customers", view.group.name.clone()),
        code: view.group.code.clone(),
        name: view.group.name.clone(),
        facts,
        coverage: t.with(
            "group-coverage",
            &[
                ("visible", (members.len() as i64).into()),
                ("all", view.member_count.into()),
            ],
        ),
        members,
        totals,
        loans_by_class,
    })
}

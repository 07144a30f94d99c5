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
    excel::{Cell, SheetTitle, TitleLabels},
    pages::{
        Chrome,
        customers::{Field, Node},
        render,
    },
    session::Signed,
};

/// This page's routes, into the one route table.
pub(crate) fn routes(routes: crate::Routes) -> crate::Routes {
    routes
        .get("/groups/{group}", show)
        .get("/groups/{group}/export.xlsx", export)
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
    /// The members' opportunities in reach (open, then closed in the last year), and the open
    /// ones summed.
    opportunities: Vec<crate::pages::opportunities::OpportunityLine>,
    opportunities_open: String,
}

fn value(values: &[StoredIndicator], code: &str, window: i64) -> Option<i64> {
    values
        .iter()
        .find(|v| v.code == code && v.window_days == window)
        .and_then(|v| v.value_int)
}

/// One member's consolidated figures (the latest batch's indicators).
#[derive(Debug, Clone, Copy)]
struct Figures {
    /// Average daily deposits over 90 days, fen.
    deposit: Option<i64>,
    loan: Option<i64>,
    /// The worst five-class loan class (1 正常 … 5 损失).
    class: Option<i64>,
    /// Contribution over 365 days, fen.
    contribution: Option<i64>,
}

/// The group (404 when none of its members is in reach) and its members in reach, in tree
/// order, with their figures: what the page and its export show.
async fn member_figures(
    store: &kam_store::UserStore,
    code: &str,
) -> Result<(kam_store::GroupView, Vec<(Node, Figures)>), WebError> {
    let view = store.group_by_code(code).await?;
    let nodes = store.group_nodes(view.group.id).await?;
    let tree = crate::pages::customers::tree(&nodes, kam_core::id::CustomerId(-1));
    let mut out = Vec::with_capacity(tree.len());
    for node in tree {
        let values = store.indicators_of(&node.cif_no).await?;
        let figures = Figures {
            deposit: value(&values, "avg_daily_deposit", 90),
            loan: value(&values, "loan_balance", 0),
            class: value(&values, "worst_loan_class", 0),
            contribution: value(&values, "contribution", 365),
        };
        out.push((node, figures));
    }
    Ok((view, out))
}

/// The group's members in reach as a workbook: the page's table with amounts as numbers in the
/// page's unit, and the title lines saying the group, the data date and who exported it.
/// Audited like every export.
pub(crate) async fn export(
    State(app): State<App>,
    signed: Signed,
    Path(code): Path<String>,
) -> Result<Response, WebError> {
    let t = signed.tr(&app);
    let store = &signed.store;
    let (view, figures) = member_figures(store, &code).await?;
    let heads = vec![
        t.get("col-cif"),
        t.get("col-name"),
        t.get("col-unit"),
        t.with_unit("group-col-deposit"),
        t.with_unit("group-col-loan"),
        t.get("group-col-class"),
        t.with_unit("group-col-contribution"),
    ];
    let rows: Vec<Vec<Cell>> = figures
        .iter()
        .map(|(node, f)| {
            vec![
                Cell::Text(node.cif_no.clone()),
                Cell::Text(format!("{}{}", "　".repeat(node.depth), node.name)),
                Cell::Text(node.unit.clone()),
                Cell::Amount(f.deposit),
                Cell::Amount(f.loan),
                Cell::Text(
                    f.class
                        .map_or_else(String::new, |c| t.code("loan-class", &c.to_string())),
                ),
                Cell::Amount(f.contribution),
            ]
        })
        .collect();
    store
        .record_event(
            "export",
            "customer_group",
            &code,
            &format!(
                "xlsx: {} members in reach of {}",
                rows.len(),
                view.member_count
            ),
        )
        .await?;
    let as_of = store.latest_batch_date().await?;
    let title = SheetTitle {
        sheet: view.group.name.clone(),
        title: format!("{} {}", view.group.name, t.get("group-members-title")),
        data_date: as_of.map(|d| d.to_string()).unwrap_or_default(),
        scope: t.with(
            "group-coverage",
            &[
                ("visible", (rows.len() as i64).into()),
                ("all", view.member_count.into()),
            ],
        ),
        exported_by: signed.user().display_name.clone(),
        exported_at: crate::format::bank_time(app.config().zone, &app.now().to_rfc3339()),
    };
    let bytes = crate::excel::workbook(&title, &TitleLabels::new(&t), t.unit, &heads, &rows)?;
    Ok(crate::pages::xlsx_download(
        &format!("kam-group-{code}.xlsx"),
        bytes,
    ))
}

pub(crate) async fn show(
    State(app): State<App>,
    signed: Signed,
    Path(code): Path<String>,
) -> Result<Response, WebError> {
    let t = signed.tr(&app);
    let store = &signed.store;
    let (view, figures) = member_figures(store, &code).await?;
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

    let (mut deposits, mut loans, mut contribution) = (0i64, 0i64, 0i64);
    let mut by_class: BTreeMap<i64, i64> = BTreeMap::new();
    let mut members = Vec::with_capacity(figures.len());
    for (node, f) in figures {
        deposits += f.deposit.unwrap_or(0);
        loans += f.loan.unwrap_or(0);
        contribution += f.contribution.unwrap_or(0);
        if let (Some(loan), Some(class)) = (f.loan, f.class)
            && loan != 0
        {
            *by_class.entry(class).or_default() += loan;
        }
        members.push(MemberRow {
            deposit: t.amount_or_dash(f.deposit),
            loan: t.amount_or_dash(f.loan),
            loan_class: f
                .class
                .map_or_else(|| "—".into(), |c| t.code("loan-class", &c.to_string())),
            contribution: t.amount_or_dash(f.contribution),
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
    let rows = store
        .opportunities(&kam_store::OpportunityFilter {
            group: Some(view.group.id),
            closed_since: Some(app.today() - chrono::Days::new(365)),
            ..kam_store::OpportunityFilter::default()
        })
        .await?;
    let open: Vec<_> = rows.iter().filter(|o| o.is_open()).collect();
    let pipeline = &app.rules().pipeline;
    let weighted = kam_core::opportunity::expected_sales(
        &open
            .iter()
            .map(|o| o.funnel_item(pipeline))
            .collect::<Vec<_>>(),
    );
    let opportunities_open = t.with(
        "group-opportunities-open",
        &[
            ("n", (open.len() as i64).into()),
            (
                "amount",
                t.money(open.iter().map(|o| o.amount).sum()).into(),
            ),
            ("weighted", t.money(weighted).into()),
        ],
    );
    let opportunities = rows
        .iter()
        .map(|o| crate::pages::opportunities::OpportunityLine::new(&app, &t, o))
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
        opportunities,
        opportunities_open,
    })
}

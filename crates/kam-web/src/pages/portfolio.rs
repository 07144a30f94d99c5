//! The portfolio of the unit in scope — what the sub-branch president brings to the Monday
//! meeting: the tier distribution, the 80/20 of contribution (Lorenz curve, Gini, top-20% share,
//! ABC), the top of the key-account scoring board with ★, and the customers who moved tier.

use std::collections::BTreeMap;

use askama::Template;
use axum::{
    extract::{Query, State},
    response::Response,
};
use kam_core::pareto::pareto;
use kam_core::{customer::CustomerKind, tier::Movement};
use kam_store::PortfolioRow;
use serde::Deserialize;

use crate::{
    App, chart,
    error::WebError,
    format,
    pages::{Choice, Chrome, no_customer_pages, reachable_units, render, tier_name, unit_choices},
    session::Signed,
};

/// This page's routes, into the one route table.
pub(crate) fn routes(routes: crate::Routes) -> crate::Routes {
    routes.get("/portfolio", portfolio)
}

/// Candidates shown at the top of the board (the whole board is on `/board`).
const BOARD_ROWS: usize = 10;
/// Movers listed.
const MOVERS: usize = 30;

#[derive(Debug)]
pub(crate) struct BoardRow {
    pub cif_no: String,
    pub name: String,
    pub cells: Vec<String>,
    pub total: String,
    pub starred: bool,
}

#[derive(Debug)]
pub(crate) struct Mover {
    pub cif_no: String,
    pub name: String,
    pub tier: String,
    pub movement: String,
    pub up: bool,
}

#[derive(Template)]
#[template(path = "portfolio.html")]
struct PortfolioPage<'a> {
    c: Chrome<'a>,
    units: Vec<Choice>,
    unit: String,
    customers: String,
    /// Per tier ladder (corporate, retail): its title and its chart.
    tier_charts: Vec<(String, String)>,
    lorenz_chart: String,
    gini: String,
    top20: String,
    total: String,
    abc: Vec<(String, usize)>,
    board: BoardView,
    movers: Vec<Mover>,
    /// Deposits, loans and AUM of the unit in scope, with their changes.
    figures: crate::pages::FiguresTable,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct PortfolioQuery {
    #[serde(default)]
    unit: String,
}

pub(crate) async fn portfolio(
    State(app): State<App>,
    signed: Signed,
    Query(query): Query<PortfolioQuery>,
) -> Result<Response, WebError> {
    no_customer_pages(&signed)?;
    let t = signed.tr(&app);
    let store = &signed.store;
    let reach = reachable_units(&signed).await?;
    // A unit outside the user's own subtree is not a choice: the whole reach instead.
    let chosen = reach.iter().find(|u| u.code == query.unit);
    let rows = store.portfolio(chosen.map(|u| u.id)).await?;
    let figures = match chosen {
        Some(unit) => store.narrowed_to(&unit.path).unit_figures().await?,
        None => store.unit_figures().await?,
    };

    // Corporate and retail customers climb separate ladders (战略 … 一般, 高价值 … 低价值): one chart
    // each, never one ladder's names on the other's customers.
    let tier_charts: Vec<(String, String)> = [CustomerKind::Corporate, CustomerKind::Individual]
        .into_iter()
        .filter_map(|kind| {
            let of_kind: Vec<&PortfolioRow> = rows.iter().filter(|r| r.kind == kind).collect();
            if of_kind.is_empty() {
                return None;
            }
            let title = t.get(&format!("portfolio-tiers-{}", kind.as_str()));
            let counts = tier_counts(&t, &of_kind);
            Some((title.clone(), chart::count_bars(&counts, &title)))
        })
        .collect();

    let values: Vec<(String, i64)> = rows
        .iter()
        .filter_map(|r| Some((r.cif_no.clone(), r.value_total?)))
        .collect();
    let curve = pareto(&values);
    let mut abc: BTreeMap<&str, usize> = BTreeMap::new();
    for ranked in &curve.ranked {
        *abc.entry(ranked.class.as_str()).or_default() += 1;
    }

    let board = board(&app, &t, &signed, &rows).await?;
    let mut movers: Vec<&PortfolioRow> = rows
        .iter()
        .filter(|r| matches!(r.movement, Some(Movement::Upgraded | Movement::Downgraded)))
        .collect();
    movers.sort_by_key(|r| (r.movement.map(Movement::as_str), r.tier, r.cif_no.clone()));
    let movers = movers
        .into_iter()
        .take(MOVERS)
        .map(|r| Mover {
            cif_no: r.cif_no.clone(),
            name: r.name.clone(),
            tier: match (r.tier, r.tier_name.as_deref()) {
                (Some(tier), Some(zh)) => tier_name(&t, tier, zh, r.tier_name_en.as_deref()),
                _ => String::new(),
            },
            movement: t.code("move", r.movement.map_or("", Movement::as_str)),
            up: r.movement == Some(Movement::Upgraded),
        })
        .collect();

    render(&PortfolioPage {
        c: Chrome::new(&app, &signed, "portfolio", t.get("portfolio-title")),
        units: unit_choices(&reach),
        unit: chosen.map(|u| u.code.clone()).unwrap_or_default(),
        customers: format::count(rows.len() as i64),
        tier_charts,
        lorenz_chart: chart::lorenz(&curve.lorenz, &t.get("portfolio-lorenz")),
        gini: curve.gini.map_or_else(|| "—".into(), |g| format!("{g:.3}")),
        top20: curve
            .top20_share
            .map_or_else(|| "—".into(), format::percent),
        total: t.money(i64::try_from(curve.total).unwrap_or(i64::MAX)),
        abc: abc.into_iter().map(|(k, n)| (k.to_owned(), n)).collect(),
        board,
        movers,
        figures: crate::pages::figures_table(&t, &figures),
    })
}

/// The board's top rows for the portfolio.
pub(crate) struct BoardView {
    pub title: String,
    pub heads: Vec<String>,
    pub rows: Vec<BoardRow>,
    pub bar: String,
    pub candidates: String,
}

/// Customers per tier of one ladder, labelled by the ladder's names; no tier yet counts apart.
fn tier_counts(t: &crate::i18n::Tr<'_>, rows: &[&PortfolioRow]) -> Vec<(String, i64)> {
    let mut tiers: BTreeMap<i64, i64> = BTreeMap::new();
    for row in rows {
        *tiers.entry(row.tier.unwrap_or(0)).or_default() += 1;
    }
    tiers
        .iter()
        .map(|(tier, n)| {
            let label = match tier {
                0 => t.get("tier-none"),
                tier => rows
                    .iter()
                    .find(|r| r.tier == Some(*tier))
                    .and_then(|r| {
                        let zh = r.tier_name.as_deref()?;
                        Some(tier_name(t, *tier, zh, r.tier_name_en.as_deref()))
                    })
                    .unwrap_or_else(|| t.code("tier", &tier.to_string())),
            };
            (label, *n)
        })
        .collect()
}

/// The top of the key-account scoring board (大客户综合评分表) in reach: a row per candidate, a
/// column per criterion by its name, with the manual scores as they are now; the whole board, and
/// the entry of manual scores, is on `/board`.
async fn board(
    app: &App,
    t: &crate::i18n::Tr<'_>,
    signed: &Signed,
    rows: &[PortfolioRow],
) -> Result<BoardView, WebError> {
    let rules = app.rules();
    let board = &rules.scoring;
    let manual = signed.store.board_manual_scores(&board.id).await?;
    let ranked = crate::pages::board::rank(board, rows, &manual);
    let lines = ranked
        .candidates
        .iter()
        .zip(&ranked.outcome.scored)
        .take(BOARD_ROWS)
        .map(|(c, s)| BoardRow {
            cif_no: c.cif_no.clone(),
            name: c.name.clone(),
            cells: c
                .scores
                .iter()
                .map(|score| score.map_or_else(|| "—".into(), |s| s.to_string()))
                .collect(),
            total: s.total.to_string(),
            starred: s.starred,
        })
        .collect();
    let bar = crate::pages::board::star_bar(t, &ranked.outcome);
    Ok(BoardView {
        title: t.pick(&board.zh, Some(&board.en)),
        heads: crate::pages::board::criterion_heads(t, board)
            .into_iter()
            .map(|h| h.name)
            .collect(),
        rows: lines,
        bar,
        candidates: format::count(ranked.candidates.len() as i64),
    })
}

//! The portfolio of the unit in scope — what the sub-branch president brings to the Monday
//! meeting: the tier distribution, the 80/20 of contribution (Lorenz curve, Gini, top-20% share,
//! ABC), the scoring board as the seed's matrix with ★, and the customers who moved tier.

use std::collections::BTreeMap;

use askama::Template;
use axum::{
    extract::{Query, State},
    response::Response,
};
use kam_core::{customer::CustomerKind, tier::Movement};
use kam_core::{pareto::pareto, rules::Rules, scoring::Candidate};
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

/// Candidates shown on the board (the seed's table has a handful of columns).
const BOARD_COLUMNS: usize = 10;
/// Movers listed.
const MOVERS: usize = 30;

#[derive(Debug)]
pub(crate) struct BoardRow {
    pub name: String,
    pub cells: Vec<String>,
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
    board_title: String,
    board_heads: Vec<String>,
    board_rows: Vec<BoardRow>,
    board_totals: Vec<String>,
    board_stars: Vec<bool>,
    board_bar: String,
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

    // Corporate and retail customers climb separate ladders (战略 … 一般, 钻石 … 普通): one chart
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

    let (board_title, board_heads, board_rows, board_totals, board_stars, board_bar) =
        board(&t, &rows);
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
        board_title,
        board_heads,
        board_rows,
        board_totals,
        board_stars,
        board_bar,
        movers,
        figures: crate::pages::figures_table(&t, &figures),
    })
}

type BoardView = (
    String,
    Vec<String>,
    Vec<BoardRow>,
    Vec<String>,
    Vec<bool>,
    String,
);

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

/// The scoring board as the seed's matrix: criteria down, the best candidates across, totals, ★
/// at or above the shown candidates' average (kam-core's `Board::evaluate` decides).
fn board(t: &crate::i18n::Tr<'_>, rows: &[PortfolioRow]) -> BoardView {
    let rules = Rules::builtin();
    let board = &rules.scoring;
    let mut candidates: Vec<&PortfolioRow> =
        rows.iter().filter(|r| r.board_scores.is_some()).collect();
    candidates.sort_by_key(|r| {
        (
            std::cmp::Reverse(r.board_total.unwrap_or(0)),
            r.cif_no.clone(),
        )
    });
    candidates.truncate(BOARD_COLUMNS);
    let parsed: Vec<Candidate> = candidates
        .iter()
        .map(|r| {
            let scores: BTreeMap<&str, Option<u8>> = r
                .board_scores
                .iter()
                .flat_map(|s| s.scores())
                .map(|(code, score)| (code.as_str(), *score))
                .collect();
            Candidate {
                cif_no: r.cif_no.clone(),
                name: r.name.clone(),
                scores: board
                    .criteria
                    .iter()
                    .map(|c| scores.get(c.code.as_str()).copied().flatten())
                    .collect(),
            }
        })
        .collect();
    let outcome = board.evaluate(&parsed);
    let rows = board
        .criteria
        .iter()
        .enumerate()
        .map(|(i, criterion)| BoardRow {
            name: if t.is_zh() {
                criterion.zh.clone()
            } else {
                criterion.en.clone()
            },
            cells: parsed
                .iter()
                .map(|c| c.scores[i].map_or_else(|| "—".into(), |s| s.to_string()))
                .collect(),
        })
        .collect();
    (
        if t.is_zh() {
            board.zh.clone()
        } else {
            board.en.clone()
        },
        parsed.iter().map(|c| c.name.clone()).collect(),
        rows,
        outcome.scored.iter().map(|s| s.total.to_string()).collect(),
        outcome.scored.iter().map(|s| s.starred).collect(),
        outcome.average.map_or_else(String::new, |a| {
            t.with(
                "portfolio-star-bar",
                &[("average", format!("{a:.1}").into())],
            )
        }),
    )
}

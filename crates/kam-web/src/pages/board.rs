//! The key-account scoring board (大客户综合评分表) of the customers in reach: one row per candidate
//! (the corporate key accounts the batch put on the board), a column per criterion by its name,
//! the total and ★. The manual criteria (客户关系, 政策支持 …) are entered here by whoever may change
//! the customer — typically the key-account manager — with who and when shown, audited, and a
//! version check so two people never silently overwrite each other. Totals and ★ are worked out
//! again with the scores as they are now (kam-core's `Board::evaluate`), not as of the last batch.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::{
    Form,
    extract::{Path, Query, State},
    response::Response,
};
use kam_core::scoring::{Board, Candidate, Outcome, SCALE, Source};
use kam_store::{ManualScore, PortfolioRow, ScoreEntry, Seen};
use serde::Deserialize;

use crate::{
    App,
    error::WebError,
    format,
    i18n::Tr,
    pages::{Choice, Chrome, no_customer_pages, reachable_units, render, unit_choices},
    session::{Signed, redirect_with},
};

/// This page's routes, into the one route table.
pub(crate) fn routes(routes: crate::Routes) -> crate::Routes {
    routes
        .get("/board", board_page)
        .post("/board/{cif}/scores", save_scores)
}

const PAGE_SIZE: usize = 50;

/// The board's candidates in reach with the manual scores as they are now, ranked by total (best
/// first, then customer number), and their outcome against each other.
pub(crate) struct Ranked {
    pub candidates: Vec<Candidate>,
    pub outcome: Outcome,
}

pub(crate) fn rank(board: &Board, rows: &[PortfolioRow], manual: &[ManualScore]) -> Ranked {
    let now: HashMap<(&str, &str), u8> = manual
        .iter()
        .map(|s| ((s.cif_no.as_str(), s.criterion.as_str()), s.score))
        .collect();
    let mut candidates: Vec<Candidate> = rows
        .iter()
        .filter_map(|r| {
            let stored: BTreeMap<&str, Option<u8>> = r
                .board_scores
                .as_ref()?
                .scores()
                .iter()
                .map(|(code, score)| (code.as_str(), *score))
                .collect();
            Some(Candidate {
                cif_no: r.cif_no.clone(),
                name: r.name.clone(),
                scores: board
                    .criteria
                    .iter()
                    .map(|c| match c.source {
                        // Entered since the batch counts at once.
                        Source::Manual => now.get(&(r.cif_no.as_str(), c.code.as_str())).copied(),
                        Source::Indicator { .. } => stored.get(c.code.as_str()).copied().flatten(),
                    })
                    .collect(),
            })
        })
        .collect();
    let outcome = board.evaluate(&candidates);
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    order.sort_by(|&a, &b| {
        outcome.scored[b]
            .total
            .cmp(&outcome.scored[a].total)
            .then_with(|| candidates[a].cif_no.cmp(&candidates[b].cif_no))
    });
    let scored = order.iter().map(|&i| outcome.scored[i].clone()).collect();
    let mut taken: Vec<Option<Candidate>> = candidates.drain(..).map(Some).collect();
    let candidates = order.iter().filter_map(|&i| taken[i].take()).collect();
    Ranked {
        candidates,
        outcome: Outcome {
            scored,
            average: outcome.average,
        },
    }
}

/// What earns ★ on this board ("≥ 平均分 19.0"), or why nobody has one; empty without candidates.
pub(crate) fn star_bar(t: &Tr<'_>, outcome: &Outcome) -> String {
    let anyone_starred = outcome.scored.iter().any(|s| s.starred);
    match outcome.average {
        Some(_) if !anyone_starred => t.get("board-no-star"),
        Some(average) => t.with(
            "portfolio-star-bar",
            &[("average", format!("{average:.1}").into())],
        ),
        None => String::new(),
    }
}

/// A criterion's header: its name in the reader's language, its weight when not 1.
pub(crate) fn criterion_heads(t: &Tr<'_>, board: &Board) -> Vec<Head> {
    board
        .criteria
        .iter()
        .map(|c| Head {
            code: c.code.clone(),
            name: t.pick(&c.zh, Some(&c.en)),
            weight: (c.weight != 1).then(|| format!("×{}", c.weight)),
            manual: c.source == Source::Manual,
        })
        .collect()
}

#[derive(Debug)]
pub(crate) struct Head {
    pub code: String,
    pub name: String,
    pub weight: Option<String>,
    pub manual: bool,
}

#[derive(Debug)]
pub(crate) struct Cell {
    pub code: String,
    pub manual: bool,
    /// The score shown (a dash when unscored).
    pub shown: String,
    /// The score as a form value ("" when unscored).
    pub value: String,
    /// When it was entered, as stored (the form's version check), and by whom, as people read it.
    pub seen: String,
    pub entered: String,
}

#[derive(Debug)]
pub(crate) struct Line {
    pub rank: usize,
    pub cif_no: String,
    pub name: String,
    pub cells: Vec<Cell>,
    pub total: String,
    pub starred: bool,
}

#[derive(Template)]
#[template(path = "board.html")]
struct BoardPage<'a> {
    c: Chrome<'a>,
    title: String,
    heads: Vec<Head>,
    lines: Vec<Line>,
    /// "★ at or above the average of 29.1 points", or why nobody is starred.
    bar: String,
    /// Unscored manual criteria, said once above the board.
    unscored: String,
    count: String,
    may_score: bool,
    scale: Vec<u8>,
    units: Vec<Choice>,
    unit: String,
    note: Option<String>,
    page: usize,
    pages: usize,
    /// The query of this view, for the pager and for the forms to come back to.
    here: String,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct BoardQuery {
    #[serde(default)]
    unit: String,
    #[serde(default)]
    page: String,
}

pub(crate) async fn board_page(
    State(app): State<App>,
    signed: Signed,
    Query(query): Query<BoardQuery>,
) -> Result<Response, WebError> {
    no_customer_pages(&signed)?;
    let t = signed.tr(&app);
    let rules = app.rules();
    let board = &rules.scoring;
    let reach = reachable_units(&signed).await?;
    let chosen = reach.iter().find(|u| u.code == query.unit);
    let rows = signed.store.portfolio(chosen.map(|u| u.id)).await?;
    let manual = signed.store.board_manual_scores(&board.id).await?;
    let ranked = rank(board, &rows, &manual);
    let users = signed.store.list_users().await?;
    let names: HashMap<&str, &str> = users
        .iter()
        .map(|u| (u.username.as_str(), u.display_name.as_str()))
        .collect();
    let entered: HashMap<(&str, &str), &ManualScore> = manual
        .iter()
        .map(|s| ((s.cif_no.as_str(), s.criterion.as_str()), s))
        .collect();
    let heads = criterion_heads(&t, board);
    let total = ranked.candidates.len();
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    let page = usize::try_from(crate::pages::page_number(&query.page))
        .unwrap_or(1)
        .min(pages);
    let lines = ranked
        .candidates
        .iter()
        .zip(&ranked.outcome.scored)
        .enumerate()
        .skip((page - 1) * PAGE_SIZE)
        .take(PAGE_SIZE)
        .map(|(i, (candidate, scored))| Line {
            rank: i + 1,
            cif_no: candidate.cif_no.clone(),
            name: candidate.name.clone(),
            cells: heads
                .iter()
                .zip(&candidate.scores)
                .map(|(head, score)| {
                    let stored = entered
                        .get(&(candidate.cif_no.as_str(), head.code.as_str()))
                        .filter(|_| head.manual);
                    Cell {
                        code: head.code.clone(),
                        manual: head.manual,
                        shown: score.map_or_else(|| "—".to_owned(), |s| s.to_string()),
                        value: score.map(|s| s.to_string()).unwrap_or_default(),
                        seen: stored.map(|s| s.entered_at.clone()).unwrap_or_default(),
                        entered: stored
                            .map(|s| {
                                format!(
                                    "{} · {}",
                                    names
                                        .get(s.entered_by.as_str())
                                        .unwrap_or(&s.entered_by.as_str()),
                                    format::bank_time(app.config().zone, &s.entered_at)
                                )
                            })
                            .unwrap_or_default(),
                    }
                })
                .collect(),
            total: scored.total.to_string(),
            starred: scored.starred,
        })
        .collect();
    let bar = star_bar(&t, &ranked.outcome);
    // Manual criteria nobody in reach has a score for yet: said once, not as a column of dashes.
    let unscored: Vec<String> = heads
        .iter()
        .enumerate()
        .filter(|(i, h)| h.manual && ranked.candidates.iter().all(|c| c.scores[*i].is_none()))
        .map(|(_, h)| h.name.clone())
        .collect();
    let unscored = if unscored.is_empty() || total == 0 {
        String::new()
    } else {
        t.with(
            "board-unscored",
            &[("criteria", unscored.join("、").into())],
        )
    };
    let unit = chosen.map(|u| u.code.clone()).unwrap_or_default();
    let here = serde_urlencoded::to_string([("unit", unit.as_str())]).unwrap_or_default();
    render(&BoardPage {
        c: Chrome::new(&app, &signed, "board", t.pick(&board.zh, Some(&board.en))),
        title: t.pick(&board.zh, Some(&board.en)),
        heads,
        lines,
        bar,
        unscored,
        count: t.with(
            "board-count",
            &[("count", format::count(total as i64).into())],
        ),
        may_score: signed.scope().may_write(),
        scale: SCALE.iter().rev().copied().collect(),
        units: unit_choices(&reach),
        unit,
        note: signed.session.flash.as_ref().map(|f| f.note.clone()),
        page,
        pages,
        here,
    })
}

/// The manual scores of one candidate as a form sends them: `score-<criterion>` (empty: leave
/// it), `seen-<criterion>` (when the score shown was entered; empty: none was), and `back`.
pub(crate) async fn save_scores(
    State(app): State<App>,
    signed: Signed,
    Path(cif): Path<String>,
    Form(fields): Form<HashMap<String, String>>,
) -> Result<Response, WebError> {
    no_customer_pages(&signed)?;
    // Out of reach is 404 whatever the form holds, even a form that changes nothing.
    signed.store.customer_by_cif(&cif).await?;
    let rules = app.rules();
    let board = &rules.scoring;
    let back = crate::security::local_path(fields.get("back").map_or("", String::as_str))
        .filter(|path| path.starts_with("/board"))
        .unwrap_or_else(|| "/board".to_owned());
    let t = signed.tr(&app);
    let mut changed = 0;
    // Every value is checked before any is written: a bad one leaves the row as it was.
    let mut writes = Vec::new();
    for criterion in board.criteria.iter().filter(|c| c.source == Source::Manual) {
        let text = fields
            .get(&format!("score-{}", criterion.code))
            .map_or("", |v| v.trim());
        let shown = fields
            .get(&format!("shown-{}", criterion.code))
            .map_or("", |v| v.trim());
        if text.is_empty() || text == shown {
            continue;
        }
        let score: u8 = text.parse().map_err(|_| {
            WebError::from(kam_core::ParseError::new(
                "score",
                text,
                "a score is 1, 3, 5, 7 or 9",
                "分数应为 1、3、5、7 或 9",
            ))
        })?;
        board.check_manual(&criterion.code, score)?;
        let seen = match fields
            .get(&format!("seen-{}", criterion.code))
            .map_or("", |v| v.trim())
        {
            "" => Seen::Nothing,
            at => Seen::At(at.to_owned()),
        };
        writes.push(ScoreEntry::new(&criterion.code, score, seen));
    }
    if !writes.is_empty() {
        // Reach (404), write permission (403) and what the form showed (409) are the store's;
        // the row's scores are written together or not at all.
        signed
            .store
            .set_manual_scores(&cif, &board.id, &writes)
            .await?;
        changed = writes.len();
    }
    let note = t.with(
        "board-saved",
        &[("cif", cif.as_str().into()), ("count", changed.into())],
    );
    redirect_with(
        &app,
        &signed,
        &back,
        kam_store::Flash {
            note,
            secret: None,
            field: None,
        },
    )
    .await
}

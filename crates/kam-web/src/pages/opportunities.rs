//! Opportunities (商机) and the funnel (漏斗): the list of one's own (or the team's) opportunities
//! as a table or a kanban by stage; an opportunity's page — its details (edited by version), the
//! progress checklist (项目进展速查表) and the move to another stage, obstacles each with one
//! action that becomes a task (一颗子弹一个敌人), buying influences from the key people, the stage
//! history; and the funnel of the unit in scope (count, amount and weighted amount per stage,
//! conversion, days in stage, won and lost by reason over a period). Every change goes through
//! the store's checks; the stage rule is kam-core's.

use askama::Template;
use axum::{
    Form,
    extract::{Path, Query, State},
    response::Response,
};
use chrono::{Datelike, NaiveDate};
use kam_core::{
    id::{KeyPersonId, ObstacleId, OpportunityId},
    opportunity::{
        Attitude, InfluenceRole, NewObstacle, NewOpportunity, ObstacleStatus, Outcome, Pipeline,
        Position, conversion, days_in_stage, funnel, is_stuck, outcomes, probability_of,
    },
    task::TaskStatus,
};
use kam_store::{Advance, OpportunityFilter, OpportunityRow, OpportunityView};
use serde::Deserialize;

use crate::{
    App,
    error::WebError,
    i18n::Tr,
    pages::{
        Choice, Chrome, FieldError, code_choices, no_customer_pages, reachable_units, render,
        render_form, unit_choices, writable, writes,
    },
    session::{Signed, redirect_with},
};

/// This page's routes, into the one route table.
pub(crate) fn routes(routes: crate::Routes) -> crate::Routes {
    routes
        .get("/opportunities", list)
        .get("/opportunities/funnel", funnel_page)
        .get("/customers/{cif}/opportunities/new", new_form)
        .post("/customers/{cif}/opportunities", add)
        .get("/opportunities/{opportunity}", show)
        .post("/opportunities/{opportunity}", save)
        .post("/opportunities/{opportunity}/advance", advance)
        .post("/opportunities/{opportunity}/delete", delete)
        .post("/opportunities/{opportunity}/obstacles", add_obstacle)
        .post(
            "/opportunities/{opportunity}/obstacles/{obstacle}/clear",
            clear_obstacle,
        )
        .post("/opportunities/{opportunity}/influences", set_influence)
        .post(
            "/opportunities/{opportunity}/influences/{person}/delete",
            remove_influence,
        )
}

/// How many opportunities a list shows at most.
const LIST_LIMIT: u32 = 1_000;

/// A stage's name in the reader's language.
pub(crate) fn stage_label(t: &Tr<'_>, pipeline: &Pipeline, code: &str) -> String {
    pipeline
        .stage(code)
        .map_or_else(|| code.to_owned(), |s| t.pick(&s.zh, Some(&s.en)))
}

/// An opportunity as a list shows it.
pub(crate) struct OpportunityLine {
    pub id: i64,
    pub cif_no: String,
    pub customer: String,
    pub title: String,
    pub products: String,
    pub amount: String,
    pub stage_code: String,
    pub stage: String,
    pub probability: u8,
    pub weighted: String,
    pub expected_close: String,
    pub owner: String,
    pub team: String,
    pub days_in_stage: i64,
    pub stuck: bool,
    pub open: bool,
    pub won: bool,
    pub obstacles: i64,
    pub lost_reason: String,
    /// Sold to the customer's whole group (集团商机).
    pub for_group: bool,
}

impl OpportunityLine {
    pub(crate) fn new(app: &App, t: &Tr<'_>, o: &OpportunityRow) -> Self {
        let rules = app.rules();
        let pipeline = &rules.pipeline;
        let today = app.today();
        let item = o.funnel_item(pipeline);
        let probability = item.probability;
        let days = (o.closed_on.unwrap_or(today) - o.stage_since).num_days();
        let weighted = kam_core::opportunity::expected_sales(&[item]);
        Self {
            id: o.id.0,
            cif_no: o.cif_no.clone(),
            customer: o.customer_name.clone(),
            title: o.title.clone(),
            products: o.product_names.join("、"),
            amount: t.amount(o.amount),
            stage_code: o.stage.clone(),
            stage: stage_label(t, pipeline, &o.stage),
            probability,
            weighted: if o.is_open() {
                t.amount(weighted)
            } else {
                String::new()
            },
            expected_close: o.expected_close.to_string(),
            owner: o.owner_name.clone(),
            team: o.team.clone(),
            days_in_stage: days,
            stuck: o.is_open()
                && rules
                    .alerts
                    .stuck_opportunity_days
                    .is_some_and(|bar| is_stuck(days, bar)),
            open: o.is_open(),
            won: pipeline.stage(&o.stage).and_then(|s| s.outcome) == Some(Outcome::Won),
            obstacles: o.open_obstacles,
            for_group: o.for_group,
            lost_reason: o.lost_reason.clone().unwrap_or_default(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ListQuery {
    /// `mine` (default) or `team`.
    #[serde(default)]
    who: String,
    /// `table` (default) or `kanban`.
    #[serde(default)]
    view: String,
    /// `open` (default), `won`, `lost` or `all`.
    #[serde(default)]
    state: String,
}

/// A kanban column: an open stage and its cards.
pub(crate) struct Column {
    pub stage: String,
    pub count: usize,
    pub amount: String,
    pub cards: Vec<OpportunityLine>,
}

#[derive(Template)]
#[template(path = "opportunities.html")]
struct ListPage<'a> {
    c: Chrome<'a>,
    note: Option<String>,
    who: String,
    view: String,
    state: String,
    team_choice: bool,
    opportunities: Vec<OpportunityLine>,
    columns: Vec<Column>,
    count_text: String,
}

pub(crate) async fn list(
    State(app): State<App>,
    signed: Signed,
    Query(query): Query<ListQuery>,
) -> Result<Response, WebError> {
    no_customer_pages(&signed)?;
    let t = signed.tr(&app);
    let team_choice = signed.scope().reads_team_work();
    let mine = !(team_choice && query.who == "team");
    let kanban = query.view == "kanban";
    let state = match query.state.as_str() {
        s @ ("won" | "lost" | "all") if !kanban => s,
        _ => "open",
    };
    let rows = signed
        .store
        .opportunities(&OpportunityFilter {
            owner: mine.then(|| signed.user().id),
            open_only: state == "open",
            limit: LIST_LIMIT,
            ..OpportunityFilter::default()
        })
        .await?;
    let pipeline = &app.rules().pipeline;
    let outcome = |o: &OpportunityRow| pipeline.stage(&o.stage).and_then(|s| s.outcome);
    let rows: Vec<&OpportunityRow> = rows
        .iter()
        .filter(|o| match state {
            "won" => outcome(o) == Some(Outcome::Won),
            "lost" => outcome(o) == Some(Outcome::Lost),
            _ => true,
        })
        .collect();
    let lines: Vec<OpportunityLine> = rows
        .iter()
        .map(|o| OpportunityLine::new(&app, &t, o))
        .collect();
    let total: i64 = rows.iter().map(|o| o.amount).sum();
    let count_text = t.with(
        "opportunities-count",
        &[
            ("n", lines.len().into()),
            ("amount", t.money(total).into()),
            ("stuck", lines.iter().filter(|l| l.stuck).count().into()),
        ],
    );
    let (lines, columns) = if kanban {
        let columns = pipeline
            .open_stages()
            .map(|stage| {
                let of_stage: Vec<&OpportunityRow> = rows
                    .iter()
                    .copied()
                    .filter(|o| o.stage == stage.code)
                    .collect();
                Column {
                    stage: t.pick(&stage.zh, Some(&stage.en)),
                    count: of_stage.len(),
                    amount: t.money(of_stage.iter().map(|o| o.amount).sum()),
                    cards: of_stage
                        .iter()
                        .map(|o| OpportunityLine::new(&app, &t, o))
                        .collect(),
                }
            })
            .collect();
        (Vec::new(), columns)
    } else {
        (lines, Vec::new())
    };
    let page = ListPage {
        c: Chrome::new(&app, &signed, "opportunities", t.get("opportunities-title")),
        note: signed.session.flash.as_ref().map(|f| f.note.clone()),
        who: if mine { "mine" } else { "team" }.into(),
        view: if kanban { "kanban" } else { "table" }.into(),
        state: state.into(),
        team_choice,
        opportunities: lines,
        columns,
        count_text,
    };
    render(&page)
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct FunnelQuery {
    #[serde(default)]
    unit: String,
    /// `mine` for one's own only.
    #[serde(default)]
    who: String,
    /// The period of won and lost: from, to (`YYYY-MM-DD`); this year to today by default.
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

pub(crate) struct FunnelLine {
    pub stage: String,
    pub count: u32,
    pub amount: String,
    pub weighted: String,
    pub probability: u8,
    pub conversion: String,
    pub days: String,
    /// Bar width, percent of the widest stage's amount.
    pub width: u32,
}

pub(crate) struct OutcomeLine {
    pub won: bool,
    pub reason: String,
    pub count: u32,
    pub amount: String,
}

#[derive(Template)]
#[template(path = "funnel.html")]
struct FunnelPage<'a> {
    c: Chrome<'a>,
    units: Vec<Choice>,
    unit: String,
    who: String,
    from: String,
    to: String,
    lines: Vec<FunnelLine>,
    total_text: String,
    outcomes: Vec<OutcomeLine>,
    win_rate: String,
    explain: String,
}

pub(crate) async fn funnel_page(
    State(app): State<App>,
    signed: Signed,
    Query(query): Query<FunnelQuery>,
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
    let mine = query.who == "mine" || !signed.scope().reads_team_work();
    let owner = mine.then(|| signed.user().id);
    let day = |text: &str| NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok();
    let to = day(&query.to).unwrap_or(today);
    let from = day(&query.from)
        .filter(|f| *f <= to)
        .unwrap_or_else(|| NaiveDate::from_ymd_opt(to.year(), 1, 1).unwrap_or(to));
    let pipeline = &app.rules().pipeline;
    let facts = store.funnel(owner, pipeline).await?;
    let stages = funnel(pipeline, &facts.open);
    let conv = conversion(pipeline, &facts.history);
    let days = days_in_stage(pipeline, &facts.history);
    let widest = stages.iter().map(|r| r.amount).max().unwrap_or(0).max(1);
    let lines = stages
        .iter()
        .enumerate()
        .map(|(i, r)| FunnelLine {
            stage: stage_label(&t, pipeline, &r.stage),
            count: r.count,
            amount: t.amount(r.amount),
            weighted: t.amount(r.weighted),
            probability: probability_of(pipeline, &r.stage, None),
            conversion: conv
                .get(i)
                .and_then(|(_, share)| *share)
                .map_or_else(|| "—".to_owned(), |s| format!("{s}%")),
            days: days
                .get(i)
                .and_then(|(_, d)| *d)
                .map_or_else(|| "—".to_owned(), |d| d.to_string()),
            width: u32::try_from(i128::from(r.amount) * 100 / i128::from(widest)).unwrap_or(0),
        })
        .collect();
    let outcome_rows = outcomes(&facts.closed, from, to);
    let won: u32 = outcome_rows
        .iter()
        .filter(|r| r.outcome == Outcome::Won)
        .map(|r| r.count)
        .sum();
    let all: u32 = outcome_rows.iter().map(|r| r.count).sum();
    let page = FunnelPage {
        c: Chrome::new(&app, &signed, "opportunities", t.get("funnel-title")),
        units: unit_choices(&units),
        unit: chosen.map(|u| u.code.clone()).unwrap_or_default(),
        who: if mine { "mine" } else { "team" }.into(),
        from: from.to_string(),
        to: to.to_string(),
        total_text: t.with(
            "funnel-total",
            &[
                ("n", stages.iter().map(|r| r.count).sum::<u32>().into()),
                (
                    "amount",
                    t.money(stages.iter().map(|r| r.amount).sum()).into(),
                ),
                (
                    "weighted",
                    t.money(stages.iter().map(|r| r.weighted).sum()).into(),
                ),
            ],
        ),
        lines,
        outcomes: outcome_rows
            .iter()
            .map(|r| OutcomeLine {
                won: r.outcome == Outcome::Won,
                reason: r.reason.clone().unwrap_or_default(),
                count: r.count,
                amount: t.money(r.amount),
            })
            .collect(),
        win_rate: (won * 100)
            .checked_div(all)
            .map_or_else(|| "—".to_owned(), |rate| format!("{rate}%")),
        explain: t.with("funnel-explain", &[("day", today.to_string().into())]),
    };
    render(&page)
}

/// An opportunity's details as the form carries them (text, so a refused value is shown as
/// typed). Read from the form's pairs: the products are ticked boxes sharing one name.
#[derive(Debug, Default, Clone)]
pub(crate) struct OpportunityForm {
    pub title: String,
    pub products: Vec<String>,
    pub amount: String,
    pub owner: String,
    pub expected_close: String,
    pub competitor: String,
    pub position: String,
    pub probability: String,
    pub for_group: bool,
    pub notes: String,
    pub version: String,
}

impl OpportunityForm {
    fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut form = Self::default();
        for (key, value) in pairs {
            match key.as_str() {
                "title" => form.title = value,
                "products" => form.products.push(value),
                "amount" => form.amount = value,
                "owner" => form.owner = value,
                "expected_close" => form.expected_close = value,
                "competitor" => form.competitor = value,
                "position" => form.position = value,
                "probability" => form.probability = value,
                "for_group" => form.for_group = !value.is_empty(),
                "notes" => form.notes = value,
                "version" => form.version = value,
                _ => {}
            }
        }
        form
    }

    fn of(o: &OpportunityRow) -> Self {
        Self {
            title: o.title.clone(),
            products: o.products.clone(),
            amount: crate::format::amount(o.amount, kam_core::money::AmountUnit::Yuan)
                .replace(',', ""),
            owner: o.owner.clone(),
            expected_close: o.expected_close.to_string(),
            competitor: o.competitor.clone().unwrap_or_default(),
            position: o.position.as_str().to_owned(),
            probability: o.probability.map(|p| p.to_string()).unwrap_or_default(),
            for_group: o.for_group,
            notes: o.notes.clone().unwrap_or_default(),
            version: o.version.to_string(),
        }
    }

    fn parse(&self, t: &Tr<'_>, today: NaiveDate) -> Result<NewOpportunity, FieldError> {
        let refused = |e: kam_core::ParseError| FieldError::new(e.field, t.reason(&e));
        let close =
            NaiveDate::parse_from_str(self.expected_close.trim(), "%Y-%m-%d").map_err(|_| {
                FieldError::new(
                    "expected_close",
                    t.with(
                        "profile-not-a-date",
                        &[("value", self.expected_close.as_str().into())],
                    ),
                )
            })?;
        let position = Position::parse(&self.position).map_err(refused)?;
        let o = NewOpportunity::parse(
            &self.title,
            &self.products,
            &self.amount,
            &self.owner,
            close,
            &self.competitor,
            position,
            &self.probability,
            self.for_group,
            &self.notes,
        )
        .map_err(refused)?;
        o.check(today).map_err(refused)?;
        Ok(o)
    }
}

/// A checklist item as the move form shows it.
pub(crate) struct Tick {
    pub code: String,
    pub label: String,
    pub ticked: bool,
}

pub(crate) struct MoveLine {
    pub on: String,
    pub from: String,
    pub to: String,
    pub by: String,
    pub reason: String,
}

pub(crate) struct ObstacleLine {
    pub id: i64,
    pub text: String,
    pub action: String,
    pub owner: String,
    pub due: String,
    pub open: bool,
    pub cleared_on: String,
    pub task: Option<i64>,
    pub task_done: bool,
}

pub(crate) struct InfluenceLine {
    pub person: i64,
    pub name: String,
    pub title: String,
    pub role: String,
    pub attitude_code: String,
    pub attitude: String,
}

/// The move form as typed.
#[derive(Debug, Default, Clone)]
pub(crate) struct AdvanceForm {
    pub ticked: Vec<String>,
    pub to: String,
    pub reason: String,
    pub version: String,
}

/// An obstacle's form as typed.
#[derive(Debug, Default, Clone, Deserialize)]
pub(crate) struct ObstacleForm {
    #[serde(default)]
    pub obstacle: String,
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub owner: String,
    #[serde(default)]
    pub due: String,
}

/// A buying influence's form as typed.
#[derive(Debug, Default, Clone, Deserialize)]
pub(crate) struct InfluenceForm {
    #[serde(default)]
    pub person: String,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub attitude: String,
}

#[derive(Template)]
#[template(path = "opportunity.html")]
struct OpportunityPage<'a> {
    c: Chrome<'a>,
    note: Option<String>,
    cif_no: String,
    customer: String,
    /// `None` for a new opportunity.
    line: Option<OpportunityLine>,
    group_name: String,
    form: OpportunityForm,
    products: Vec<Choice>,
    positions: Vec<Choice>,
    colleagues: Vec<Choice>,
    /// The current stage's checklist, the stages to move to, the move as typed.
    ticks: Vec<Tick>,
    stages: Vec<Choice>,
    advance: AdvanceForm,
    moves: Vec<MoveLine>,
    obstacles: Vec<ObstacleLine>,
    obstacle: ObstacleForm,
    influences: Vec<InfluenceLine>,
    influence: InfluenceForm,
    people: Vec<Choice>,
    roles: Vec<Choice>,
    attitudes: Vec<Choice>,
    may_edit: bool,
    error: Option<FieldError>,
}

impl OpportunityPage<'_> {
    fn error_on(&self, field: &str) -> Option<String> {
        FieldError::on(&self.error, field)
    }

    fn action(&self) -> String {
        match &self.line {
            Some(line) => format!("/opportunities/{}", line.id),
            None => format!("/customers/{}/opportunities", self.cif_no),
        }
    }

    fn has_product(&self, code: &str) -> bool {
        self.form.products.iter().any(|p| p == code)
    }
}

/// What a refused form on the opportunity's page keeps: the form that was refused, as typed.
#[derive(Default)]
struct Typed {
    form: Option<OpportunityForm>,
    advance: Option<AdvanceForm>,
    obstacle: Option<ObstacleForm>,
    influence: Option<InfluenceForm>,
}

async fn page(
    app: &App,
    signed: &Signed,
    cif: &str,
    view: Option<&OpportunityView>,
    typed: Typed,
    error: Option<FieldError>,
) -> Result<Response, WebError> {
    let t = signed.tr(app);
    let customer = signed.store.customer_by_cif(cif).await?;
    let pipeline = &app.rules().pipeline;
    let products = signed
        .store
        .products()
        .await?
        .into_iter()
        .filter(|p| p.line == customer.line)
        .map(|p| Choice {
            label: format!("{} {}", p.code, p.name),
            value: p.code,
        })
        .collect();
    let people = signed
        .store
        .key_people(customer.id)
        .await?
        .into_iter()
        .map(|p| Choice {
            value: p.id.0.to_string(),
            label: match &p.title {
                Some(title) => format!("{} · {title}", p.name),
                None => p.name.clone(),
            },
        })
        .collect();
    let row = view.map(|v| &v.row);
    let ticks = row
        .and_then(|r| pipeline.stage(&r.stage))
        .map(|stage| {
            let ticked = match &typed.advance {
                Some(a) => a.ticked.clone(),
                None => view.map(|v| v.ticked(&stage.code)).unwrap_or_default(),
            };
            stage
                .checklist
                .iter()
                .map(|item| Tick {
                    code: item.code.clone(),
                    label: t.pick(&item.zh, Some(&item.en)),
                    ticked: ticked.contains(&item.code),
                })
                .collect()
        })
        .unwrap_or_default();
    let stages = pipeline
        .stages
        .iter()
        .map(|s| Choice {
            value: s.code.clone(),
            label: t.pick(&s.zh, Some(&s.en)),
        })
        .collect();
    let label = |code: &str| stage_label(&t, pipeline, code);
    let moves = view
        .map(|v| {
            v.moves
                .iter()
                .rev()
                .map(|m| MoveLine {
                    on: m.on.to_string(),
                    from: m.from.as_deref().map(label).unwrap_or_default(),
                    to: label(&m.to),
                    by: m.by.clone(),
                    reason: m.reason.clone().unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default();
    let obstacles = view
        .map(|v| {
            v.obstacles
                .iter()
                .map(|o| ObstacleLine {
                    id: o.id.0,
                    text: o.text.clone(),
                    action: o.action.clone(),
                    owner: o.owner_name.clone().unwrap_or_default(),
                    due: o.due.map(|d| d.to_string()).unwrap_or_default(),
                    open: o.status == ObstacleStatus::Open,
                    cleared_on: o.cleared_on.map(|d| d.to_string()).unwrap_or_default(),
                    task: o.task_id.map(|id| id.0),
                    task_done: o.task_status == Some(TaskStatus::Done),
                })
                .collect()
        })
        .unwrap_or_default();
    let influences = view
        .map(|v| {
            v.influences
                .iter()
                .map(|i| InfluenceLine {
                    person: i.person.0,
                    name: i.name.clone(),
                    title: i.title.clone().unwrap_or_default(),
                    role: t.code("influence-role", i.role.as_str()),
                    attitude_code: i.attitude.as_str().to_owned(),
                    attitude: t.code("attitude", i.attitude.as_str()),
                })
                .collect()
        })
        .unwrap_or_default();
    let form = typed.form.unwrap_or_else(|| match row {
        Some(r) => OpportunityForm::of(r),
        None => OpportunityForm {
            owner: signed.user().username.to_string(),
            position: Position::Unknown.as_str().to_owned(),
            expected_close: (app.today() + chrono::Days::new(90)).to_string(),
            ..OpportunityForm::default()
        },
    });
    let advance = typed.advance.unwrap_or_else(|| AdvanceForm {
        to: row
            .and_then(|r| {
                let i = pipeline.stages.iter().position(|s| s.code == r.stage)?;
                pipeline.stages.get(i + 1).map(|s| s.code.clone())
            })
            .unwrap_or_default(),
        version: row.map(|r| r.version.to_string()).unwrap_or_default(),
        ..AdvanceForm::default()
    });
    let obstacle = typed.obstacle.unwrap_or_else(|| ObstacleForm {
        owner: row.map(|r| r.owner.clone()).unwrap_or_default(),
        due: (app.today() + chrono::Days::new(7)).to_string(),
        ..ObstacleForm::default()
    });
    let title = match row {
        Some(r) => r.title.clone(),
        None => t.get("opportunity-title-new"),
    };
    let page = OpportunityPage {
        c: Chrome::new(app, signed, "opportunities", title),
        note: signed.session.flash.as_ref().map(|f| f.note.clone()),
        cif_no: customer.cif_no.to_string(),
        customer: customer.name.clone(),
        line: row.map(|r| OpportunityLine::new(app, &t, r)),
        group_name: view
            .filter(|v| v.row.for_group)
            .and_then(|v| v.group_name.clone())
            .unwrap_or_default(),
        form,
        products,
        positions: code_choices(&t, "position", Position::CODES),
        colleagues: crate::pages::tasks::owners(signed).await?,
        ticks,
        stages,
        advance,
        moves,
        obstacles,
        obstacle,
        influences,
        influence: typed.influence.unwrap_or_default(),
        people,
        roles: code_choices(&t, "influence-role", InfluenceRole::CODES),
        attitudes: code_choices(&t, "attitude", Attitude::CODES),
        may_edit: signed.scope().may_write() && row.is_none_or(OpportunityRow::is_open),
        error,
    };
    let refused = page.error.clone();
    render_form(&page, refused.as_ref())
}

pub(crate) async fn new_form(
    State(app): State<App>,
    signed: Signed,
    Path(cif): Path<String>,
) -> Result<Response, WebError> {
    writable(&signed, &cif).await?;
    page(&app, &signed, &cif, None, Typed::default(), None).await
}

/// A store refusal on a form as a field's message; anything else is the page's error.
fn refusal(
    t: &Tr<'_>,
    error: kam_store::Error,
    fallback: &'static str,
) -> Result<FieldError, WebError> {
    match error {
        kam_store::Error::Invalid(e) => Ok(FieldError::new(
            if e.field.is_empty() {
                fallback
            } else {
                e.field
            },
            t.reason(&e),
        )),
        kam_store::Error::Conflict { .. } => Err(WebError::Conflict),
        other => Err(other.into()),
    }
}

pub(crate) async fn add(
    State(app): State<App>,
    signed: Signed,
    Path(cif): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let customer = writable(&signed, &cif).await?;
    let t = signed.tr(&app);
    let form = OpportunityForm::from_pairs(pairs);
    let refused = |form: OpportunityForm| Typed {
        form: Some(form),
        ..Typed::default()
    };
    let new = match form.parse(&t, app.today()) {
        Ok(new) => new,
        Err(error) => return page(&app, &signed, &cif, None, refused(form), Some(error)).await,
    };
    let id = match signed
        .store
        .add_opportunity(customer, &new, &app.rules().pipeline)
        .await
    {
        Ok(id) => id,
        Err(e) => {
            let error = refusal(&t, e, "title")?;
            return page(&app, &signed, &cif, None, refused(form), Some(error)).await;
        }
    };
    let note = t.with("opportunity-added", &[("title", new.title.as_str().into())]);
    back(&app, &signed, id, note).await
}

async fn stored(signed: &Signed, id: i64) -> Result<OpportunityView, WebError> {
    no_customer_pages(signed)?;
    Ok(signed.store.opportunity(OpportunityId(id)).await?)
}

pub(crate) async fn show(
    State(app): State<App>,
    signed: Signed,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    let view = stored(&signed, id).await?;
    let cif = view.row.cif_no.clone();
    page(&app, &signed, &cif, Some(&view), Typed::default(), None).await
}

/// The opportunity's page again with `typed` kept and `error` shown.
async fn refused_on(
    app: &App,
    signed: &Signed,
    view: &OpportunityView,
    typed: Typed,
    error: FieldError,
) -> Result<Response, WebError> {
    page(
        app,
        signed,
        &view.row.cif_no,
        Some(view),
        typed,
        Some(error),
    )
    .await
}

pub(crate) async fn save(
    State(app): State<App>,
    signed: Signed,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let view = stored(&signed, id).await?;
    writes(&signed)?;
    let t = signed.tr(&app);
    let form = OpportunityForm::from_pairs(pairs);
    let typed = |form: OpportunityForm| Typed {
        form: Some(form),
        ..Typed::default()
    };
    let new = match form.parse(&t, app.today()) {
        Ok(new) => new,
        Err(error) => return refused_on(&app, &signed, &view, typed(form), error).await,
    };
    let seen: i64 = form.version.trim().parse().unwrap_or(-1);
    if let Err(e) = signed
        .store
        .edit_opportunity(OpportunityId(id), &new, seen)
        .await
    {
        let error = refusal(&t, e, "title")?;
        return refused_on(&app, &signed, &view, typed(form), error).await;
    }
    let note = t.with("opportunity-saved", &[("title", new.title.as_str().into())]);
    back(&app, &signed, OpportunityId(id), note).await
}

pub(crate) async fn advance(
    State(app): State<App>,
    signed: Signed,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let view = stored(&signed, id).await?;
    writes(&signed)?;
    let t = signed.tr(&app);
    let mut form = AdvanceForm::default();
    for (key, value) in pairs {
        match key.as_str() {
            "tick" => form.ticked.push(value),
            "to" => form.to = value,
            "reason" => form.reason = value,
            "version" => form.version = value,
            _ => {}
        }
    }
    let seen: i64 = form.version.trim().parse().unwrap_or(-1);
    let asked = Advance {
        ticked: form.ticked.clone(),
        to: form.to.trim().to_owned(),
        reason: Some(form.reason.clone()).filter(|r| !r.trim().is_empty()),
    };
    let pipeline = &app.rules().pipeline;
    if let Err(e) = signed
        .store
        .advance_opportunity(OpportunityId(id), &asked, pipeline, seen)
        .await
    {
        let error = refusal(&t, e, "to")?;
        let typed = Typed {
            advance: Some(form),
            ..Typed::default()
        };
        return refused_on(&app, &signed, &view, typed, error).await;
    }
    let note = if asked.to == view.row.stage {
        t.get("opportunity-ticked")
    } else {
        t.with(
            "opportunity-moved",
            &[("stage", stage_label(&t, pipeline, &asked.to).into())],
        )
    };
    back(&app, &signed, OpportunityId(id), note).await
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct DeleteForm {
    #[serde(default)]
    version: String,
    #[serde(default)]
    reason: String,
}

pub(crate) async fn delete(
    State(app): State<App>,
    signed: Signed,
    Path(id): Path<i64>,
    Form(form): Form<DeleteForm>,
) -> Result<Response, WebError> {
    let view = stored(&signed, id).await?;
    writes(&signed)?;
    let t = signed.tr(&app);
    let seen: i64 = form.version.trim().parse().unwrap_or(-1);
    if let Err(e) = signed
        .store
        .delete_opportunity(OpportunityId(id), &form.reason, seen)
        .await
    {
        let error = refusal(&t, e, "reason")?;
        return refused_on(&app, &signed, &view, Typed::default(), error).await;
    }
    let note = t.with(
        "opportunity-deleted",
        &[("title", view.row.title.as_str().into())],
    );
    crate::pages::back_to_360(&app, &signed, &view.row.cif_no, "opportunities", note).await
}

pub(crate) async fn add_obstacle(
    State(app): State<App>,
    signed: Signed,
    Path(id): Path<i64>,
    Form(form): Form<ObstacleForm>,
) -> Result<Response, WebError> {
    let view = stored(&signed, id).await?;
    writes(&signed)?;
    let t = signed.tr(&app);
    let typed = |form: ObstacleForm| Typed {
        obstacle: Some(form),
        ..Typed::default()
    };
    let parsed = NaiveDate::parse_from_str(form.due.trim(), "%Y-%m-%d")
        .map_err(|_| {
            FieldError::new(
                "obstacle_due",
                t.with("profile-not-a-date", &[("value", form.due.as_str().into())]),
            )
        })
        .and_then(|due| {
            NewObstacle::parse(&form.obstacle, &form.action, &form.owner, due)
                .map_err(|e| FieldError::new(obstacle_field(e.field), t.reason(&e)))
        });
    let obstacle = match parsed {
        Ok(o) => o,
        Err(error) => return refused_on(&app, &signed, &view, typed(form), error).await,
    };
    if let Err(e) = signed
        .store
        .add_obstacle(OpportunityId(id), &obstacle)
        .await
    {
        let FieldError { field, message } = refusal(&t, e, "obstacle")?;
        let error = FieldError::new(obstacle_field(field), message);
        return refused_on(&app, &signed, &view, typed(form), error).await;
    }
    let note = t.with(
        "obstacle-added",
        &[("action", obstacle.action.as_str().into())],
    );
    back(&app, &signed, OpportunityId(id), note).await
}

/// The obstacle form's name for a refused field (its owner and day are not the opportunity's).
fn obstacle_field(field: &'static str) -> &'static str {
    match field {
        "owner" => "obstacle_owner",
        "due" => "obstacle_due",
        "action" => "action",
        _ => "obstacle",
    }
}

pub(crate) async fn clear_obstacle(
    State(app): State<App>,
    signed: Signed,
    Path((id, obstacle)): Path<(i64, i64)>,
) -> Result<Response, WebError> {
    stored(&signed, id).await?;
    writes(&signed)?;
    let t = signed.tr(&app);
    signed
        .store
        .clear_obstacle(OpportunityId(id), ObstacleId(obstacle))
        .await?;
    back(&app, &signed, OpportunityId(id), t.get("obstacle-cleared")).await
}

pub(crate) async fn set_influence(
    State(app): State<App>,
    signed: Signed,
    Path(id): Path<i64>,
    Form(form): Form<InfluenceForm>,
) -> Result<Response, WebError> {
    let view = stored(&signed, id).await?;
    writes(&signed)?;
    let t = signed.tr(&app);
    let typed = |form: InfluenceForm| Typed {
        influence: Some(form),
        ..Typed::default()
    };
    let parsed = (|| {
        let person = form.person.trim().parse::<i64>().map_err(|_| {
            kam_core::ParseError::new(
                "person",
                form.person.as_str(),
                "choose one of the customer's key people",
                "请选择客户的关键人",
            )
        })?;
        Ok::<_, kam_core::ParseError>((
            KeyPersonId(person),
            InfluenceRole::parse(&form.role)?,
            Attitude::parse(&form.attitude)?,
        ))
    })();
    let (person, role, attitude) = match parsed {
        Ok(p) => p,
        Err(e) => {
            let error = FieldError::new(influence_field(e.field), t.reason(&e));
            return refused_on(&app, &signed, &view, typed(form), error).await;
        }
    };
    if let Err(e) = signed
        .store
        .set_influence(OpportunityId(id), person, role, attitude)
        .await
    {
        let error = refusal(&t, e, "person")?;
        let error = FieldError::new(influence_field(error.field), error.message);
        return refused_on(&app, &signed, &view, typed(form), error).await;
    }
    back(&app, &signed, OpportunityId(id), t.get("influence-saved")).await
}

fn influence_field(field: &'static str) -> &'static str {
    match field {
        "influence_role" => "role",
        "attitude" => "attitude",
        _ => "person",
    }
}

pub(crate) async fn remove_influence(
    State(app): State<App>,
    signed: Signed,
    Path((id, person)): Path<(i64, i64)>,
) -> Result<Response, WebError> {
    stored(&signed, id).await?;
    writes(&signed)?;
    let t = signed.tr(&app);
    signed
        .store
        .remove_influence(OpportunityId(id), KeyPersonId(person))
        .await?;
    back(&app, &signed, OpportunityId(id), t.get("influence-removed")).await
}

/// Back to the opportunity's page with a one-time note (post/redirect/get).
async fn back(
    app: &App,
    signed: &Signed,
    id: OpportunityId,
    note: String,
) -> Result<Response, WebError> {
    let flash = kam_store::Flash {
        note,
        secret: None,
        field: Some("opportunity".into()),
    };
    redirect_with(app, signed, &format!("/opportunities/{id}"), flash).await
}

//! The JSON API of opportunities (商机) and the funnel: list, open, read, edit, move (with the
//! checklist), delete, obstacles (each with its one action, a task) and buying influences. Each
//! call is the page's store call on the token's user handle: reach (404), a read-only role (403),
//! a stale version (409) and a refused value (422 naming the field, e.g. the checklist items
//! missing to leave a stage) are the store's and kam-core's answers, audited there. Amounts are
//! integer fen, CNY.

use axum::{
    Json,
    extract::{Path, Query, State},
    http::StatusCode,
};
use kam_core::{
    ParseError,
    id::{KeyPersonId, ObstacleId, OpportunityId},
    opportunity::{
        Attitude, InfluenceRole, NewObstacle, NewOpportunity, Position, conversion, days_in_stage,
        funnel, probability_of,
    },
};
use kam_store::{Advance, OpportunityFilter, OpportunityRow, OpportunityView};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    App,
    api::{ApiError, ApiUser},
    api_work::date,
    api_write::Body,
};

/// An opportunity in a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct OpportunitySummary {
    pub id: i64,
    pub cif_no: String,
    pub customer_name: String,
    pub title: String,
    /// Product codes of the catalogue.
    pub products: Vec<String>,
    /// Integer fen.
    pub amount_fen: i64,
    pub currency: String,
    pub owner: String,
    /// The team: the owner's unit when it was opened.
    pub team: String,
    /// The stage's code (the rules file's `[pipeline]`).
    pub stage: String,
    /// The day it entered its stage.
    pub stage_since: String,
    /// The probability it counts with, percent (its own, or the stage's).
    pub probability: u8,
    /// Its own probability, when set.
    pub own_probability: Option<u8>,
    pub expected_close: String,
    pub competitor: Option<String>,
    /// `leading`, `even`, `behind`, `unknown`.
    pub position: String,
    pub for_group: bool,
    pub closed_on: Option<String>,
    pub lost_reason: Option<String>,
    pub open_obstacles: i64,
    pub version: i64,
}

impl OpportunitySummary {
    fn new(app: &App, o: &OpportunityRow) -> Self {
        Self {
            id: o.id.0,
            cif_no: o.cif_no.clone(),
            customer_name: o.customer_name.clone(),
            title: o.title.clone(),
            products: o.products.clone(),
            amount_fen: o.amount,
            currency: "CNY".into(),
            owner: o.owner.clone(),
            team: o.team.clone(),
            stage: o.stage.clone(),
            stage_since: o.stage_since.to_string(),
            probability: probability_of(&app.rules().pipeline, &o.stage, o.probability),
            own_probability: o.probability,
            expected_close: o.expected_close.to_string(),
            competitor: o.competitor.clone(),
            position: o.position.as_str().into(),
            for_group: o.for_group,
            closed_on: o.closed_on.map(|d| d.to_string()),
            lost_reason: o.lost_reason.clone(),
            open_obstacles: o.open_obstacles,
            version: o.version,
        }
    }
}

/// A move of the stage history.
#[derive(Debug, Serialize, ToSchema)]
pub struct MoveItem {
    pub from: Option<String>,
    pub to: String,
    pub on: String,
    pub by: String,
    pub reason: Option<String>,
}

/// An obstacle with its action's task.
#[derive(Debug, Serialize, ToSchema)]
pub struct ObstacleItem {
    pub id: i64,
    pub obstacle: String,
    pub action: String,
    /// `open` or `cleared`.
    pub status: String,
    pub cleared_on: Option<String>,
    pub task_id: Option<i64>,
    pub due: Option<String>,
}

/// A buying influence.
#[derive(Debug, Serialize, ToSchema)]
pub struct InfluenceItem {
    /// The key person's id.
    pub person: i64,
    pub name: String,
    /// `economic`, `user`, `technical`, `coach`.
    pub role: String,
    /// `supportive`, `neutral`, `opposed`.
    pub attitude: String,
}

/// One opportunity whole.
#[derive(Debug, Serialize, ToSchema)]
pub struct OpportunityDetail {
    #[serde(flatten)]
    pub summary: OpportunitySummary,
    pub notes: Option<String>,
    /// The current stage's checklist items ticked.
    pub ticked: Vec<String>,
    /// The current stage's checklist items still to tick before it may move forward.
    pub to_tick: Vec<String>,
    pub history: Vec<MoveItem>,
    pub obstacles: Vec<ObstacleItem>,
    pub influences: Vec<InfluenceItem>,
}

impl OpportunityDetail {
    fn new(app: &App, v: &OpportunityView) -> Self {
        let ticked = v.ticked(&v.row.stage);
        let to_tick = app
            .rules()
            .pipeline
            .stage(&v.row.stage)
            .map(|s| {
                s.checklist
                    .iter()
                    .filter(|i| !ticked.contains(&i.code))
                    .map(|i| i.code.clone())
                    .collect()
            })
            .unwrap_or_default();
        Self {
            summary: OpportunitySummary::new(app, &v.row),
            notes: v.row.notes.clone(),
            ticked,
            to_tick,
            history: v
                .moves
                .iter()
                .map(|m| MoveItem {
                    from: m.from.clone(),
                    to: m.to.clone(),
                    on: m.on.to_string(),
                    by: m.by.clone(),
                    reason: m.reason.clone(),
                })
                .collect(),
            obstacles: v
                .obstacles
                .iter()
                .map(|o| ObstacleItem {
                    id: o.id.0,
                    obstacle: o.text.clone(),
                    action: o.action.clone(),
                    status: o.status.as_str().into(),
                    cleared_on: o.cleared_on.map(|d| d.to_string()),
                    task_id: o.task_id.map(|t| t.0),
                    due: o.due.map(|d| d.to_string()),
                })
                .collect(),
            influences: v
                .influences
                .iter()
                .map(|i| InfluenceItem {
                    person: i.person.0,
                    name: i.name.clone(),
                    role: i.role.as_str().into(),
                    attitude: i.attitude.as_str().into(),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub(crate) struct OpportunityQuery {
    /// `true`: only the caller's (the default, except with `group`); `false`: every one in reach.
    mine: Option<bool>,
    /// `true`: open ones only.
    open: Option<bool>,
    /// A group's code: only the opportunities on its members in reach (404 when none is).
    group: Option<String>,
}

fn owner_of(api: &ApiUser, mine: Option<bool>) -> Option<kam_core::id::UserId> {
    match (mine.unwrap_or(true), api.store.user()) {
        (true, Some(user)) => Some(user.id),
        _ => None,
    }
}

#[utoipa::path(get, path = "/api/v1/opportunities", params(OpportunityQuery),
    responses((status = 200, body = [OpportunitySummary])),
    security(("bearer" = [])))]
pub(crate) async fn opportunities(
    State(app): State<App>,
    api: ApiUser,
    Query(query): Query<OpportunityQuery>,
) -> Result<Json<Vec<OpportunitySummary>>, ApiError> {
    let group = match &query.group {
        Some(code) => Some(api.store.group_by_code(code).await?.group.id),
        None => None,
    };
    let mine = query.mine.or(group.map(|_| false));
    let rows = api
        .store
        .opportunities(&OpportunityFilter {
            owner: owner_of(&api, mine),
            group,
            open_only: query.open.unwrap_or(false),
            limit: 1_000,
            ..OpportunityFilter::default()
        })
        .await?;
    Ok(Json(
        rows.iter()
            .map(|o| OpportunitySummary::new(&app, o))
            .collect(),
    ))
}

/// A stage's row of the funnel.
#[derive(Debug, Serialize, ToSchema)]
pub struct FunnelStage {
    pub stage: String,
    pub count: u32,
    pub amount_fen: i64,
    /// Σ amount × probability / 100, rounded once for the stage.
    pub weighted_fen: i64,
    /// Of those that entered the stage, the share (percent, rounded down) that went further.
    pub conversion_percent: Option<u32>,
    /// Average whole days in the stage of those that left it.
    pub average_days: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/funnel", params(OpportunityQuery),
    responses((status = 200, body = [FunnelStage])),
    security(("bearer" = [])))]
pub(crate) async fn funnel_stages(
    State(app): State<App>,
    api: ApiUser,
    Query(query): Query<OpportunityQuery>,
) -> Result<Json<Vec<FunnelStage>>, ApiError> {
    let owner = owner_of(&api, query.mine);
    let pipeline = &app.rules().pipeline;
    let facts = api.store.funnel(owner, pipeline).await?;
    let conv = conversion(pipeline, &facts.history);
    let days = days_in_stage(pipeline, &facts.history);
    Ok(Json(
        funnel(pipeline, &facts.open)
            .into_iter()
            .enumerate()
            .map(|(i, r)| FunnelStage {
                stage: r.stage,
                count: r.count,
                amount_fen: r.amount,
                weighted_fen: r.weighted,
                conversion_percent: conv.get(i).and_then(|c| c.1),
                average_days: days.get(i).and_then(|d| d.1),
            })
            .collect(),
    ))
}

/// An opportunity as a client sends it.
#[derive(Debug, Deserialize, ToSchema)]
pub struct OpportunityInput {
    pub title: String,
    /// Product codes of the catalogue (1 to 8).
    pub products: Vec<String>,
    /// Integer fen, more than zero.
    pub amount_fen: i64,
    /// A user name: the caller, or for a manager an RM or president in reach.
    pub owner: String,
    /// `YYYY-MM-DD`.
    pub expected_close: String,
    pub competitor: Option<String>,
    /// `leading`, `even`, `behind`, `unknown` (the default).
    pub position: Option<String>,
    /// Percent; absent: the stage's.
    pub probability: Option<u8>,
    #[serde(default)]
    pub for_group: bool,
    pub notes: Option<String>,
    /// On an edit, the version read.
    pub version: Option<i64>,
}

impl OpportunityInput {
    fn opportunity(&self) -> Result<NewOpportunity, ParseError> {
        if self.amount_fen <= 0 {
            return Err(ParseError::new(
                "amount_fen",
                self.amount_fen.to_string(),
                "an opportunity's amount is more than zero",
                "商机金额须大于零",
            ));
        }
        let yuan = format!("{}.{:02}", self.amount_fen / 100, self.amount_fen % 100);
        NewOpportunity::parse(
            &self.title,
            &self.products,
            &yuan,
            &self.owner,
            date("expected_close", &self.expected_close)?,
            self.competitor.as_deref().unwrap_or(""),
            Position::parse(self.position.as_deref().unwrap_or("unknown"))?,
            &self.probability.map(|p| p.to_string()).unwrap_or_default(),
            self.for_group,
            self.notes.as_deref().unwrap_or(""),
        )
    }
}

async fn detail(
    app: &App,
    api: &ApiUser,
    id: OpportunityId,
) -> Result<OpportunityDetail, ApiError> {
    Ok(OpportunityDetail::new(
        app,
        &api.store.opportunity(id).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/customers/{cif}/opportunities",
    params(("cif" = String, Path, description = "customer number")),
    request_body = OpportunityInput,
    responses((status = 201, body = OpportunityDetail),
        (status = 403, description = "the role may only look"),
        (status = 404, description = "missing or out of reach"),
        (status = 422, description = "a value refused, naming its field", body = crate::error::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub(crate) async fn add_opportunity(
    State(app): State<App>,
    api: ApiUser,
    Path(cif): Path<String>,
    Body(input): Body<OpportunityInput>,
) -> Result<(StatusCode, Json<OpportunityDetail>), ApiError> {
    let customer = api.store.customer_by_cif(&cif).await?;
    let id = api
        .store
        .add_opportunity(customer.id, &input.opportunity()?, &app.rules().pipeline)
        .await?;
    Ok((StatusCode::CREATED, Json(detail(&app, &api, id).await?)))
}

#[utoipa::path(get, path = "/api/v1/opportunities/{opportunity}",
    params(("opportunity" = i64, Path, description = "the opportunity's id")),
    responses((status = 200, body = OpportunityDetail), (status = 404, description = "missing, deleted or out of reach")),
    security(("bearer" = [])))]
pub(crate) async fn opportunity(
    State(app): State<App>,
    api: ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<OpportunityDetail>, ApiError> {
    Ok(Json(detail(&app, &api, OpportunityId(id)).await?))
}

#[utoipa::path(put, path = "/api/v1/opportunities/{opportunity}",
    params(("opportunity" = i64, Path, description = "the opportunity's id")),
    request_body = OpportunityInput,
    responses((status = 200, body = OpportunityDetail),
        (status = 403, description = "the role may only look"),
        (status = 404, description = "missing, deleted or out of reach"),
        (status = 409, description = "saved by someone else since `version`"),
        (status = 422, description = "a value refused, naming its field; a closed opportunity", body = crate::error::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub(crate) async fn edit_opportunity(
    State(app): State<App>,
    api: ApiUser,
    Path(id): Path<i64>,
    Body(input): Body<OpportunityInput>,
) -> Result<Json<OpportunityDetail>, ApiError> {
    // Reach first: a record out of reach answers 404 whatever the body says.
    api.store.opportunity(OpportunityId(id)).await?;
    let new = input.opportunity()?;
    api.store
        .edit_opportunity(OpportunityId(id), &new, input.version.unwrap_or(-1))
        .await?;
    Ok(Json(detail(&app, &api, OpportunityId(id)).await?))
}

/// A move: the current stage's ticked items, and the stage to go to (the current one saves the
/// ticks only).
#[derive(Debug, Deserialize, ToSchema)]
pub struct AdvanceInput {
    #[serde(default)]
    pub ticked: Vec<String>,
    pub to: String,
    /// Required to mark it lost.
    pub reason: Option<String>,
    pub version: i64,
}

#[utoipa::path(post, path = "/api/v1/opportunities/{opportunity}/advance",
    params(("opportunity" = i64, Path, description = "the opportunity's id")),
    request_body = AdvanceInput,
    responses((status = 200, body = OpportunityDetail),
        (status = 403, description = "the role may only look"),
        (status = 404, description = "missing, deleted or out of reach"),
        (status = 409, description = "saved by someone else since `version`"),
        (status = 422, description = "refused by the stage rule: `checklist` names the items still to tick, `reason` a loss without one, `stage` a closed opportunity", body = crate::error::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub(crate) async fn advance(
    State(app): State<App>,
    api: ApiUser,
    Path(id): Path<i64>,
    Body(input): Body<AdvanceInput>,
) -> Result<Json<OpportunityDetail>, ApiError> {
    let asked = Advance {
        ticked: input.ticked.iter().map(|t| t.trim().to_owned()).collect(),
        to: input.to.trim().to_owned(),
        reason: crate::api_write::given(input.reason),
    };
    api.store
        .advance_opportunity(
            OpportunityId(id),
            &asked,
            &app.rules().pipeline,
            input.version,
        )
        .await?;
    Ok(Json(detail(&app, &api, OpportunityId(id)).await?))
}

#[utoipa::path(post, path = "/api/v1/opportunities/{opportunity}/delete",
    params(("opportunity" = i64, Path, description = "the opportunity's id")),
    request_body = crate::api_work::ReasonInput,
    responses((status = 204, description = "deleted: kept with the reason, audited, no longer counted"),
        (status = 403, description = "the role may only look"),
        (status = 404, description = "missing, deleted or out of reach"),
        (status = 409, description = "saved by someone else since `version`"),
        (status = 422, description = "no reason", body = crate::error::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub(crate) async fn delete_opportunity(
    api: ApiUser,
    Path(id): Path<i64>,
    Body(input): Body<crate::api_work::ReasonInput>,
) -> Result<StatusCode, ApiError> {
    api.store
        .delete_opportunity(OpportunityId(id), &input.reason, input.version)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An obstacle and its one action.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ObstacleInput {
    pub obstacle: String,
    /// Exactly one action; it becomes a task.
    pub action: String,
    /// The action's owner (a user name).
    pub owner: String,
    /// The action's due day, `YYYY-MM-DD`.
    pub due: String,
}

#[utoipa::path(post, path = "/api/v1/opportunities/{opportunity}/obstacles",
    params(("opportunity" = i64, Path, description = "the opportunity's id")),
    request_body = ObstacleInput,
    responses((status = 201, body = OpportunityDetail),
        (status = 403, description = "the role may only look"),
        (status = 404, description = "missing, deleted or out of reach"),
        (status = 422, description = "a value refused, naming its field (`action` with more than one action)", body = crate::error::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub(crate) async fn add_obstacle(
    State(app): State<App>,
    api: ApiUser,
    Path(id): Path<i64>,
    Body(input): Body<ObstacleInput>,
) -> Result<(StatusCode, Json<OpportunityDetail>), ApiError> {
    api.store.opportunity(OpportunityId(id)).await?;
    let obstacle = NewObstacle::parse(
        &input.obstacle,
        &input.action,
        &input.owner,
        date("due", &input.due)?,
    )?;
    api.store.add_obstacle(OpportunityId(id), &obstacle).await?;
    Ok((
        StatusCode::CREATED,
        Json(detail(&app, &api, OpportunityId(id)).await?),
    ))
}

#[utoipa::path(post, path = "/api/v1/opportunities/{opportunity}/obstacles/{obstacle}/clear",
    params(("opportunity" = i64, Path, description = "the opportunity's id"),
        ("obstacle" = i64, Path, description = "the obstacle's id")),
    responses((status = 204, description = "cleared; its task done"),
        (status = 403, description = "the role may only look"),
        (status = 404, description = "missing, cleared already or out of reach")),
    security(("bearer" = [])))]
pub(crate) async fn clear_obstacle(
    api: ApiUser,
    Path((id, obstacle)): Path<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    api.store
        .clear_obstacle(OpportunityId(id), ObstacleId(obstacle))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A key person's part in the decision and attitude.
#[derive(Debug, Deserialize, ToSchema)]
pub struct InfluenceInput {
    /// `economic`, `user`, `technical`, `coach`.
    pub role: String,
    /// `supportive`, `neutral`, `opposed`.
    pub attitude: String,
}

#[utoipa::path(put, path = "/api/v1/opportunities/{opportunity}/influences/{person}",
    params(("opportunity" = i64, Path, description = "the opportunity's id"),
        ("person" = i64, Path, description = "a key person of the customer")),
    request_body = InfluenceInput,
    responses((status = 204, description = "saved"),
        (status = 403, description = "the role may only look"),
        (status = 404, description = "missing or out of reach"),
        (status = 422, description = "not a current key person of the customer, or a code refused", body = crate::error::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub(crate) async fn set_influence(
    api: ApiUser,
    Path((id, person)): Path<(i64, i64)>,
    Body(input): Body<InfluenceInput>,
) -> Result<StatusCode, ApiError> {
    api.store.opportunity(OpportunityId(id)).await?;
    let role = InfluenceRole::parse(&input.role)?;
    let attitude = Attitude::parse(&input.attitude)?;
    api.store
        .set_influence(OpportunityId(id), KeyPersonId(person), role, attitude)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/opportunities/{opportunity}/influences/{person}/delete",
    params(("opportunity" = i64, Path, description = "the opportunity's id"),
        ("person" = i64, Path, description = "a key person of the customer")),
    responses((status = 204, description = "removed"),
        (status = 403, description = "the role may only look"),
        (status = 404, description = "missing or out of reach")),
    security(("bearer" = [])))]
pub(crate) async fn remove_influence(
    api: ApiUser,
    Path((id, person)): Path<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    api.store
        .remove_influence(OpportunityId(id), KeyPersonId(person))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

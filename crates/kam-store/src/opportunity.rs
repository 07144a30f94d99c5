//! Opportunities (商机) on the user handle: opened on a customer in reach with products, an
//! amount in fen, an owner and the owner's unit as its team; edited by version; moved through the
//! rules file's stages by kam-core's rule (the progress checklist ticked in the same transaction,
//! every move kept); obstacles with their one action written as a task; buying influences from
//! the customer's key people; deleted softly with a reason. The batch's `expected_sales`,
//! `process_count` and stuck opportunities are read here too.

use std::collections::HashMap;

use chrono::NaiveDate;
use kam_core::{
    ParseError,
    activity::line,
    id::{CustomerId, GroupId, KeyPersonId, ObstacleId, OpportunityId, TaskId, UserId},
    opportunity::{
        Attitude, Closed, FunnelItem, InfluenceRole, NewObstacle, NewOpportunity, ObstacleStatus,
        Outcome, Pipeline, Position, StageEntry, expected_sales, probability_of,
    },
    reference::OpportunityRecord,
    task::{NewTask, Priority, TaskSource, TaskStatus},
};
use sqlx::{Row, any::AnyRow};

use crate::{
    Error, Result, Store, UserStore, audit,
    bulk::insert_one,
    customer::parse_date,
    handle::WriteTx,
    org::corrupt,
    sql::{Sql, Values},
};

/// What the funnel is computed from (kam-core's `funnel`, `conversion`, `days_in_stage`,
/// `outcomes`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FunnelFacts {
    pub open: Vec<FunnelItem>,
    pub closed: Vec<Closed>,
    pub history: Vec<StageEntry>,
}

/// An opportunity in a list (the table, the kanban, the 360, the funnel).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpportunityRow {
    pub id: OpportunityId,
    pub customer_id: CustomerId,
    pub cif_no: String,
    pub customer_name: String,
    pub title: String,
    pub products: Vec<String>,
    /// The products' names in the catalogue, in the same order (a code the catalogue no longer
    /// has stays as its code).
    pub product_names: Vec<String>,
    /// Fen, CNY.
    pub amount: i64,
    pub owner_id: UserId,
    pub owner: String,
    pub owner_name: String,
    /// The team: the owner's unit when it was opened.
    pub team: String,
    pub stage: String,
    /// The day it entered its stage.
    pub stage_since: NaiveDate,
    /// The owner's own probability, if set (the stage's default applies otherwise).
    pub probability: Option<u8>,
    pub expected_close: NaiveDate,
    pub competitor: Option<String>,
    pub position: Position,
    pub for_group: bool,
    pub notes: Option<String>,
    pub closed_on: Option<NaiveDate>,
    pub lost_reason: Option<String>,
    pub open_obstacles: i64,
    pub version: i64,
}

impl OpportunityRow {
    pub fn is_open(&self) -> bool {
        self.closed_on.is_none()
    }

    /// What the funnel counts of it: stage, amount, and its own probability or its stage's
    /// (kam-core `probability_of`).
    pub fn funnel_item(&self, pipeline: &Pipeline) -> FunnelItem {
        FunnelItem {
            stage: self.stage.clone(),
            amount: self.amount,
            probability: probability_of(pipeline, &self.stage, self.probability),
        }
    }

    /// The form's fields as stored (for an edit that starts from them).
    pub fn details(&self) -> NewOpportunity {
        NewOpportunity {
            title: self.title.clone(),
            products: self.products.clone(),
            amount: self.amount,
            owner: self.owner.clone(),
            expected_close: self.expected_close,
            competitor: self.competitor.clone(),
            position: self.position,
            probability: self.probability,
            for_group: self.for_group,
            notes: self.notes.clone(),
        }
    }
}

/// One move of an opportunity's stage history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageMove {
    /// `None` for the first entry (opened).
    pub from: Option<String>,
    pub to: String,
    pub on: NaiveDate,
    pub by: String,
    pub reason: Option<String>,
}

/// An obstacle with its action's task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Obstacle {
    pub id: ObstacleId,
    pub text: String,
    pub action: String,
    pub status: ObstacleStatus,
    pub cleared_on: Option<NaiveDate>,
    pub task_id: Option<TaskId>,
    pub owner_name: Option<String>,
    pub due: Option<NaiveDate>,
    pub task_status: Option<TaskStatus>,
}

/// A buying influence: a key person of the customer with their part and attitude.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Influence {
    pub person: KeyPersonId,
    pub name: String,
    pub title: Option<String>,
    pub role: InfluenceRole,
    pub attitude: Attitude,
}

/// One opportunity whole.
#[derive(Debug, Clone)]
pub struct OpportunityView {
    pub row: OpportunityRow,
    pub moves: Vec<StageMove>,
    /// (stage, item) ticked.
    pub ticks: Vec<(String, String)>,
    pub obstacles: Vec<Obstacle>,
    pub influences: Vec<Influence>,
    /// The customer's group, for an opportunity sold to the group.
    pub group_name: Option<String>,
    pub created_by: String,
}

impl OpportunityView {
    /// The items of `stage` ticked.
    pub fn ticked(&self, stage: &str) -> Vec<String> {
        self.ticks
            .iter()
            .filter(|(s, _)| s == stage)
            .map(|(_, item)| item.clone())
            .collect()
    }
}

/// A stage move of an opportunity in reach, with what a report names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MovedOpportunity {
    pub on: NaiveDate,
    pub cif_no: String,
    pub customer_name: String,
    pub title: String,
    /// Fen.
    pub amount: i64,
    pub from: String,
    pub to: String,
}

/// Which opportunities to read: all in reach (open and closed) by default.
#[derive(Debug, Clone, Default)]
pub struct OpportunityFilter {
    pub owner: Option<UserId>,
    pub customer: Option<CustomerId>,
    /// Only those on the members of this group (集团商机 and the members' own).
    pub group: Option<GroupId>,
    pub open_only: bool,
    /// Closed on or after this day (open ones are kept).
    pub closed_since: Option<NaiveDate>,
    /// At most this many (0: no limit).
    pub limit: u32,
}

/// A move as a form or the API asks for it: the current stage's ticks, and the stage to go to
/// (the current one to save the ticks only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advance {
    pub ticked: Vec<String>,
    pub to: String,
    /// Why it was lost.
    pub reason: Option<String>,
}

/// What the batch reads of one customer's opportunities on a date.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpportunityFigures {
    /// `expected_sales`, fen.
    pub expected_sales: i64,
    /// Days since the longest-unmoved open opportunity last moved.
    pub stalled_days: Option<i64>,
    /// Per window: open opportunities that moved in it (`process_count`).
    pub moved: HashMap<u32, i64>,
}

const OPPORTUNITY_COLUMNS: &str = "o.id, o.customer_id, c.cif_no, c.name as customer_name, \
    o.title, o.products, o.amount_minor, o.owner_id, u.username as owner, \
    u.display_name as owner_name, tu.name as team_name, o.stage, o.stage_since, o.probability, o.expected_close, \
    o.competitor, o.position, o.for_group, o.notes, o.closed_on, o.lost_reason, o.version, \
    (select count(*) from obstacle b where b.opportunity_id = o.id and b.status = 'open') \
    as open_obstacles";

const OPPORTUNITY_FROM: &str = "from customer c join opportunity o on o.customer_id = c.id \
    join app_user u on u.id = o.owner_id join org_unit tu on tu.id = o.unit_id";

/// An obstacle with its action's task (the task's owner and due day), as `obstacle_from_row` reads it.
const OBSTACLE_COLUMNS: &str = "b.id, b.text, b.action, b.status, b.cleared_on, t.id as task_id, \
    au.display_name as action_owner, t.due_on, t.status as task_status";
const OBSTACLE_TASK: &str = "left join task t on t.obstacle_id = b.id and t.deleted_on is null \
    left join app_user au on au.id = t.owner_id";

fn obstacle_from_row(r: &AnyRow) -> Result<Obstacle> {
    Ok(Obstacle {
        id: ObstacleId(r.try_get("id")?),
        text: r.try_get("text")?,
        action: r.try_get("action")?,
        status: ObstacleStatus::parse(&r.try_get::<String, _>("status")?).map_err(corrupt)?,
        cleared_on: date_of(r, "cleared_on")?,
        task_id: r.try_get::<Option<i64>, _>("task_id")?.map(TaskId),
        owner_name: r.try_get("action_owner")?,
        due: date_of(r, "due_on")?,
        task_status: r
            .try_get::<Option<String>, _>("task_status")?
            .map(|s| TaskStatus::parse(&s).map_err(corrupt))
            .transpose()?,
    })
}

fn date_of(row: &AnyRow, column: &'static str) -> Result<Option<NaiveDate>> {
    row.try_get::<Option<String>, _>(column)?
        .map(|d| parse_date(column, &d))
        .transpose()
}

fn opportunity_from_row(row: &AnyRow) -> Result<OpportunityRow> {
    let products: String = row.try_get("products")?;
    Ok(OpportunityRow {
        id: OpportunityId(row.try_get("id")?),
        customer_id: CustomerId(row.try_get("customer_id")?),
        cif_no: row.try_get("cif_no")?,
        customer_name: row.try_get("customer_name")?,
        title: row.try_get("title")?,
        products: products.split(',').map(str::to_owned).collect(),
        product_names: Vec::new(),
        amount: row.try_get("amount_minor")?,
        owner_id: UserId(row.try_get("owner_id")?),
        owner: row.try_get("owner")?,
        owner_name: row.try_get("owner_name")?,
        team: row.try_get("team_name")?,
        stage: row.try_get("stage")?,
        stage_since: parse_date("stage_since", &row.try_get::<String, _>("stage_since")?)?,
        probability: row
            .try_get::<Option<i64>, _>("probability")?
            .and_then(|p| u8::try_from(p).ok()),
        expected_close: parse_date(
            "expected_close",
            &row.try_get::<String, _>("expected_close")?,
        )?,
        competitor: row.try_get("competitor")?,
        position: Position::parse(&row.try_get::<String, _>("position")?).map_err(corrupt)?,
        for_group: row.try_get::<i64, _>("for_group")? != 0,
        notes: row.try_get("notes")?,
        closed_on: date_of(row, "closed_on")?,
        lost_reason: row.try_get("lost_reason")?,
        open_obstacles: row.try_get("open_obstacles")?,
        version: row.try_get("version")?,
    })
}

/// The columns an opportunity's details write (an insert adds the rest).
fn detail_values(o: &NewOpportunity, owner: UserId) -> Values {
    Values::new()
        .put("title", o.title.as_str())
        .put("products", o.products.join(","))
        .put("amount_minor", o.amount)
        .put("currency", "CNY")
        .put("owner_id", owner.0)
        .put("probability", o.probability.map(i64::from))
        .put("expected_close", o.expected_close.to_string())
        .put("competitor", o.competitor.clone())
        .put("position", o.position.as_str())
        .put("for_group", i64::from(o.for_group))
        .put("notes", o.notes.clone())
}

fn move_values(
    opportunity: i64,
    (from, to): (Option<&str>, &str),
    (on, by, at): (NaiveDate, &str, &str),
    reason: Option<&str>,
) -> Values {
    Values::new()
        .put("opportunity_id", opportunity)
        .put("from_stage", from.map(str::to_owned))
        .put("to_stage", to)
        .put("moved_on", on.to_string())
        .put("moved_by", by)
        .put("moved_at", at)
        .put("reason", reason.map(str::to_owned))
}

fn obstacle_values(opportunity: i64, o: &NewObstacle, cleared_on: Option<NaiveDate>) -> Values {
    let status = if cleared_on.is_some() {
        ObstacleStatus::Cleared
    } else {
        ObstacleStatus::Open
    };
    Values::new()
        .put("opportunity_id", opportunity)
        .put("text", o.text.as_str())
        .put("action", o.action.as_str())
        .put("status", status.as_str())
        .put("cleared_on", cleared_on.map(|d| d.to_string()))
}

/// The task of an obstacle's action.
fn action_task(o: &NewObstacle) -> NewTask {
    NewTask {
        title: o.action.clone(),
        due: o.due,
        owner: o.owner.clone(),
        priority: Priority::High,
        notes: Some(o.text.clone()),
    }
}

/// Refuses product codes not in the catalogue, naming the first unknown one.
async fn check_products(tx: &mut WriteTx, products: &[String]) -> Result<()> {
    let known: Vec<String> = sqlx::query("select code from product")
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|r| r.try_get::<String, _>(0))
        .collect::<std::result::Result<_, _>>()?;
    if let Some(unknown) = products.iter().find(|p| !known.contains(p)) {
        return Err(Error::Invalid(ParseError::new(
            "products",
            unknown.as_str(),
            "not a product of the bank's catalogue",
            "不是本行产品目录中的产品",
        )));
    }
    Ok(())
}

impl UserStore {
    /// The writing transaction for a change to opportunity `id`, found through its customer's
    /// reach (a deleted one is `NotFound`); `Conflict` when it was saved since `seen` (`None`:
    /// additions beside it, such as an obstacle, that do not change what was seen).
    async fn begin_opportunity_write(
        &self,
        id: OpportunityId,
        action: &str,
        seen: Option<i64>,
    ) -> Result<(WriteTx, OpportunityRow)> {
        let mut find = self.visible(&format!("select {OPPORTUNITY_COLUMNS} {OPPORTUNITY_FROM}"));
        find.push(" and o.deleted_on is null and o.id = ")
            .bind(id.0);
        let (tx, row) = self
            .begin_customer_write(find, action, "opportunity", &id.to_string())
            .await?;
        let stored = opportunity_from_row(&row)?;
        if seen.is_some_and(|seen| seen != stored.version) {
            return Err(Error::Conflict {
                entity: "opportunity",
                key: id.to_string(),
            });
        }
        Ok((tx, stored))
    }

    /// Opens an opportunity on a customer in reach, in the funnel's first stage, owned by
    /// `o.owner` (oneself, or for a manager an RM or president in reach) and counted under the
    /// owner's unit.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn add_opportunity(
        &self,
        customer_id: CustomerId,
        o: &NewOpportunity,
        pipeline: &Pipeline,
    ) -> Result<OpportunityId> {
        let (mut tx, cif_no) = self
            .begin_customer_change(customer_id, "add", "opportunity")
            .await?;
        o.check(self.scope().on())?;
        check_products(&mut tx, &o.products).await?;
        let owner = self.colleague_for_work(&mut tx, &o.owner, "owner").await?;
        let first = pipeline
            .open_stages()
            .next()
            .map(|s| s.code.clone())
            .unwrap_or_default();
        let today = self.scope().on();
        let now = audit::now();
        let by = self.actor().name.as_str();
        let row = detail_values(o, owner.id)
            .put("customer_id", customer_id.0)
            .put("unit_id", owner.org_unit_id.0)
            .put("stage", first.as_str())
            .put("stage_since", today.to_string())
            .put("version", 1_i64)
            .put("created_by", by)
            .put("created_at", now.as_str());
        let id = insert_one(&mut tx, "opportunity", row, ("opportunity", &o.title)).await?;
        move_values(id, (None, &first), (today, by, &now), None)
            .into_insert("opportunity_move")
            .query()
            .execute(&mut *tx)
            .await?;
        let detail = format!("{id}: {} {} fen ({})", o.title, o.amount, o.owner);
        self.commit_audited(tx, ("add", "opportunity", &cif_no), &detail)
            .await?;
        Ok(OpportunityId(id))
    }

    /// Changes an opportunity's details (not its stage). `seen` is the version the form started
    /// from. Returns the new version. A closed opportunity is kept as it closed.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn edit_opportunity(
        &self,
        id: OpportunityId,
        o: &NewOpportunity,
        seen: i64,
    ) -> Result<i64> {
        let (mut tx, stored) = self.begin_opportunity_write(id, "edit", Some(seen)).await?;
        closed_is_final(&stored)?;
        o.check(self.scope().on())?;
        check_products(&mut tx, &o.products).await?;
        let owner = if o.owner == stored.owner {
            stored.owner_id
        } else {
            self.colleague_for_work(&mut tx, &o.owner, "owner")
                .await?
                .id
        };
        let version = seen + 1;
        self.save_versioned(
            &mut tx,
            ("opportunity", id.0),
            detail_values(o, owner),
            version,
        )
        .await?;
        let detail = format!(
            "{id}: {} {} fen ({}) version {version}",
            o.title, o.amount, o.owner
        );
        self.commit_audited(tx, ("edit", "opportunity", &stored.cif_no), &detail)
            .await?;
        Ok(version)
    }

    /// Saves the current stage's checklist ticks and moves the opportunity to `advance.to` by
    /// kam-core's rule (`Pipeline::check_move`: forward past a ticked checklist, back freely,
    /// lost with a reason, closed is final), keeping the move. `to` equal to the current stage
    /// saves the ticks only. Returns the new version.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn advance_opportunity(
        &self,
        id: OpportunityId,
        advance: &Advance,
        pipeline: &Pipeline,
        seen: i64,
    ) -> Result<i64> {
        let (mut tx, stored) = self.begin_opportunity_write(id, "move", Some(seen)).await?;
        closed_is_final(&stored)?;
        let stage = pipeline
            .stage(&stored.stage)
            .ok_or_else(|| corrupt(ParseError::not_one_of("stage", &stored.stage, &[])))?;
        if let Some(bad) = advance
            .ticked
            .iter()
            .find(|t| !stage.checklist.iter().any(|item| &item.code == *t))
        {
            return Err(Error::Invalid(ParseError::new(
                "checklist",
                bad.as_str(),
                "not an item of this stage's checklist",
                "不是本阶段速查表中的项目",
            )));
        }
        let moving = advance.to != stored.stage;
        let reason = advance
            .reason
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty());
        if moving {
            pipeline.check_move(&stored.stage, &advance.to, &advance.ticked, reason)?;
        }
        let reason = match reason {
            Some(r) => Some(line("reason", r)?),
            None => None,
        };
        let today = self.scope().on();
        let now = audit::now();
        let by = self.actor().name.clone();
        sqlx::query("delete from opportunity_tick where opportunity_id = $1 and stage = $2")
            .bind(id.0)
            .bind(stored.stage.as_str())
            .execute(&mut *tx)
            .await?;
        for item in &advance.ticked {
            Values::new()
                .put("opportunity_id", id.0)
                .put("stage", stored.stage.as_str())
                .put("item", item.as_str())
                .put("ticked_by", by.as_str())
                .put("ticked_on", today.to_string())
                .into_insert("opportunity_tick")
                .query()
                .execute(&mut *tx)
                .await?;
        }
        let mut values = Values::new();
        if moving {
            let target = pipeline.stage(&advance.to).map(|s| s.outcome);
            let lost = target == Some(Some(Outcome::Lost));
            values = values
                .put("stage", advance.to.as_str())
                .put("stage_since", today.to_string())
                .put(
                    "closed_on",
                    matches!(target, Some(Some(_))).then(|| today.to_string()),
                )
                .put("lost_reason", if lost { reason.clone() } else { None });
            move_values(
                id.0,
                (Some(&stored.stage), &advance.to),
                (today, &by, &now),
                reason.as_deref(),
            )
            .into_insert("opportunity_move")
            .query()
            .execute(&mut *tx)
            .await?;
        }
        let version = seen + 1;
        self.save_versioned(&mut tx, ("opportunity", id.0), values, version)
            .await?;
        let (action, detail) = if moving {
            (
                "move",
                format!(
                    "{id}: {} → {}{}",
                    stored.stage,
                    advance.to,
                    reason.map(|r| format!(": {r}")).unwrap_or_default()
                ),
            )
        } else {
            (
                "tick",
                format!("{id}: {} [{}]", stored.stage, advance.ticked.join(",")),
            )
        };
        self.commit_audited(tx, (action, "opportunity", &stored.cif_no), &detail)
            .await?;
        Ok(version)
    }

    /// Deletes an opportunity opened by mistake: the row stays with the day and the reason,
    /// audited, and no list or funnel counts it again.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn delete_opportunity(
        &self,
        id: OpportunityId,
        reason: &str,
        seen: i64,
    ) -> Result<()> {
        let (mut tx, stored) = self
            .begin_opportunity_write(id, "delete", Some(seen))
            .await?;
        let reason = line("reason", reason)?;
        self.save_versioned(
            &mut tx,
            ("opportunity", id.0),
            Values::new()
                .put("deleted_on", self.scope().on().to_string())
                .put("deleted_reason", reason.as_str()),
            seen + 1,
        )
        .await?;
        let detail = format!("{id}: {}: {reason}", stored.title);
        self.commit_audited(tx, ("delete", "opportunity", &stored.cif_no), &detail)
            .await?;
        Ok(())
    }

    /// Adds an obstacle to an open opportunity with its one action, written as a high-priority
    /// task of the action's owner (kam-core's rule on whom work may be given to) due on its day.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn add_obstacle(&self, id: OpportunityId, o: &NewObstacle) -> Result<ObstacleId> {
        let (mut tx, stored) = self
            .begin_opportunity_write(id, "add_obstacle", None)
            .await?;
        closed_is_final(&stored)?;
        let task = action_task(o);
        task.check(self.scope().on())
            .map_err(|e| Error::Invalid(ParseError { field: "due", ..e }))?;
        let owner = self.colleague_for_work(&mut tx, &o.owner, "owner").await?;
        let now = audit::now();
        let by = self.actor().name.as_str();
        let row = obstacle_values(id.0, o, None)
            .put("created_by", by)
            .put("created_at", now.as_str());
        let obstacle = insert_one(&mut tx, "obstacle", row, ("obstacle", &o.text)).await?;
        let row = crate::task::task_values(
            (stored.customer_id, None, owner.id),
            &task,
            (TaskSource::Obstacle, None),
            (by, &now),
        )
        .put("opportunity_id", id.0)
        .put("obstacle_id", obstacle);
        insert_one(&mut tx, "task", row, ("task", &task.title)).await?;
        let detail = format!(
            "{id}/{obstacle}: {} → {} ({}, {})",
            o.text, o.action, o.owner, o.due
        );
        self.commit_audited(tx, ("add_obstacle", "opportunity", &stored.cif_no), &detail)
            .await?;
        Ok(ObstacleId(obstacle))
    }

    /// Marks an obstacle cleared today, and its action's task done if it is still open.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn clear_obstacle(&self, id: OpportunityId, obstacle: ObstacleId) -> Result<()> {
        let (mut tx, stored) = self
            .begin_opportunity_write(id, "clear_obstacle", None)
            .await?;
        let today = self.scope().on().to_string();
        let cleared = sqlx::query(
            "update obstacle set status = 'cleared', cleared_on = $1 \
             where id = $2 and opportunity_id = $3 and status = 'open'",
        )
        .bind(today.as_str())
        .bind(obstacle.0)
        .bind(id.0)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if cleared == 0 {
            return Err(Error::NotFound {
                entity: "obstacle",
                key: obstacle.to_string(),
            });
        }
        sqlx::query(
            "update task set status = 'done', done_on = $1, version = version + 1, \
             updated_by = $2, updated_at = $3 \
             where obstacle_id = $4 and status = 'open' and deleted_on is null",
        )
        .bind(today.as_str())
        .bind(self.actor().name.as_str())
        .bind(audit::now())
        .bind(obstacle.0)
        .execute(&mut *tx)
        .await?;
        let detail = format!("{id}/{obstacle}");
        self.commit_audited(
            tx,
            ("clear_obstacle", "opportunity", &stored.cif_no),
            &detail,
        )
        .await?;
        Ok(())
    }

    /// Names one of the customer's current key people as a buying influence with their part and
    /// attitude (again: changes them).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn set_influence(
        &self,
        id: OpportunityId,
        person: KeyPersonId,
        role: InfluenceRole,
        attitude: Attitude,
    ) -> Result<()> {
        let (mut tx, stored) = self
            .begin_opportunity_write(id, "set_influence", None)
            .await?;
        let name: Option<String> = sqlx::query_scalar(
            "select name from key_person where id = $1 and customer_id = $2 and retired_on is null",
        )
        .bind(person.0)
        .bind(stored.customer_id.0)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(name) = name else {
            return Err(Error::Invalid(ParseError::new(
                "person",
                person.to_string(),
                "choose one of the customer's current key people",
                "请从该客户现有的关键人中选择",
            )));
        };
        sqlx::query(
            "delete from buying_influence where opportunity_id = $1 and key_person_id = $2",
        )
        .bind(id.0)
        .bind(person.0)
        .execute(&mut *tx)
        .await?;
        Values::new()
            .put("opportunity_id", id.0)
            .put("key_person_id", person.0)
            .put("role", role.as_str())
            .put("attitude", attitude.as_str())
            .put("created_by", self.actor().name.as_str())
            .put("created_at", audit::now())
            .into_insert("buying_influence")
            .query()
            .execute(&mut *tx)
            .await?;
        let detail = format!("{id}: {name} {role} {attitude}");
        self.commit_audited(
            tx,
            ("set_influence", "opportunity", &stored.cif_no),
            &detail,
        )
        .await?;
        Ok(())
    }

    /// Takes a key person off an opportunity's buying influences.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn remove_influence(&self, id: OpportunityId, person: KeyPersonId) -> Result<()> {
        let (mut tx, stored) = self
            .begin_opportunity_write(id, "remove_influence", None)
            .await?;
        let removed = sqlx::query(
            "delete from buying_influence where opportunity_id = $1 and key_person_id = $2",
        )
        .bind(id.0)
        .bind(person.0)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if removed == 0 {
            return Err(Error::NotFound {
                entity: "buying_influence",
                key: person.to_string(),
            });
        }
        let detail = format!("{id}: key person {person}");
        self.commit_audited(
            tx,
            ("remove_influence", "opportunity", &stored.cif_no),
            &detail,
        )
        .await?;
        Ok(())
    }

    /// The opportunities on customers in reach that `filter` selects (not deleted ones), open
    /// first by expected close, then closed ones latest first.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn opportunities(&self, filter: &OpportunityFilter) -> Result<Vec<OpportunityRow>> {
        let mut sql = self.visible(&format!("select {OPPORTUNITY_COLUMNS} {OPPORTUNITY_FROM}"));
        sql.push(" and o.deleted_on is null");
        if let Some(owner) = filter.owner {
            sql.push(" and o.owner_id = ").bind(owner.0);
        }
        if let Some(customer) = filter.customer {
            sql.push(" and o.customer_id = ").bind(customer.0);
        }
        if let Some(group) = filter.group {
            sql.push(
                " and o.customer_id in (select customer_id from group_member where group_id = ",
            )
            .bind(group.0)
            .push(")");
        }
        if filter.open_only {
            sql.push(" and o.closed_on is null");
        }
        if let Some(since) = filter.closed_since {
            sql.push(" and (o.closed_on is null or o.closed_on >= ")
                .bind(since.to_string())
                .push(")");
        }
        sql.push(
            " order by case when o.closed_on is null then 0 else 1 end, \
             case when o.closed_on is null then o.expected_close end, o.closed_on desc, o.id",
        );
        if filter.limit > 0 {
            sql.push(&format!(" limit {}", filter.limit));
        }
        let rows = sql.query().fetch_all(self.pool()).await?;
        let mut rows = rows
            .iter()
            .map(opportunity_from_row)
            .collect::<Result<Vec<_>>>()?;
        self.name_products(&mut rows).await?;
        Ok(rows)
    }

    /// Puts the catalogue's names on `rows`' products, one read of the catalogue for the list.
    async fn name_products(&self, rows: &mut [OpportunityRow]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let names: HashMap<String, String> = sqlx::query("select code, name from product")
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<_>>()?;
        for row in rows {
            row.product_names = row
                .products
                .iter()
                .map(|code| names.get(code).unwrap_or(code).clone())
                .collect();
        }
        Ok(())
    }

    /// One opportunity in reach with its history, ticks, obstacles and buying influences
    /// (`NotFound` otherwise, or when deleted).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn opportunity(&self, id: OpportunityId) -> Result<OpportunityView> {
        let mut sql = self.visible(&format!(
            "select {OPPORTUNITY_COLUMNS}, o.created_by as opened_by, \
             (select g.name from group_member gm join customer_group g on g.id = gm.group_id \
              where gm.customer_id = c.id order by g.id limit 1) as group_name \
             {OPPORTUNITY_FROM}"
        ));
        sql.push(" and o.deleted_on is null and o.id = ").bind(id.0);
        let found = self
            .fetch_visible(sql, "opportunity", &id.to_string())
            .await?;
        let mut row = [opportunity_from_row(&found)?];
        self.name_products(&mut row).await?;
        let [row] = row;
        // The opportunity was read through the scope above: its parts are read by its id.
        let moves = sqlx::query(
            "select from_stage, to_stage, moved_on, moved_by, reason from opportunity_move \
             where opportunity_id = $1 order by moved_on, id",
        )
        .bind(id.0)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| {
            Ok(StageMove {
                from: r.try_get("from_stage")?,
                to: r.try_get("to_stage")?,
                on: parse_date("moved_on", &r.try_get::<String, _>("moved_on")?)?,
                by: r.try_get("moved_by")?,
                reason: r.try_get("reason")?,
            })
        })
        .collect::<Result<_>>()?;
        let ticks = sqlx::query(
            "select stage, item from opportunity_tick where opportunity_id = $1 order by stage, item",
        )
        .bind(id.0)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect::<Result<_>>()?;
        let obstacles = Sql::new(&format!(
            "select {OBSTACLE_COLUMNS} from obstacle b {OBSTACLE_TASK}"
        ))
        .push(" where b.opportunity_id = ")
        .bind(id.0)
        .push(" order by b.status desc, b.id")
        .query()
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(obstacle_from_row)
        .collect::<Result<_>>()?;
        let influences = sqlx::query(
            "select p.id, p.name, p.title, i.role, i.attitude from buying_influence i \
             join key_person p on p.id = i.key_person_id where i.opportunity_id = $1 \
             order by i.role, p.name",
        )
        .bind(id.0)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| {
            Ok(Influence {
                person: KeyPersonId(r.try_get("id")?),
                name: r.try_get("name")?,
                title: r.try_get("title")?,
                role: InfluenceRole::parse(&r.try_get::<String, _>("role")?).map_err(corrupt)?,
                attitude: Attitude::parse(&r.try_get::<String, _>("attitude")?).map_err(corrupt)?,
            })
        })
        .collect::<Result<_>>()?;
        Ok(OpportunityView {
            row,
            moves,
            ticks,
            obstacles,
            influences,
            group_name: found.try_get("group_name")?,
            created_by: found.try_get("opened_by")?,
        })
    }

    /// The open obstacles of a customer's open opportunities in reach, each with its
    /// opportunity's title, in one read (the pre-visit brief): soonest expected close first.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn open_obstacles(&self, customer_id: CustomerId) -> Result<Vec<(String, Obstacle)>> {
        let mut sql = self.visible(&format!(
            "select o.title, {OBSTACLE_COLUMNS} from customer c \
             join opportunity o on o.customer_id = c.id \
             join obstacle b on b.opportunity_id = o.id {OBSTACLE_TASK}"
        ));
        sql.push(" and c.id = ").bind(customer_id.0).push(
            " and o.deleted_on is null and o.closed_on is null and b.status = 'open' \
                 order by o.expected_close, o.id, b.id",
        );
        sql.query()
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| Ok((r.try_get("title")?, obstacle_from_row(r)?)))
            .collect()
    }

    /// What the funnel of the opportunities in reach (`owner`'s only, if given) is computed
    /// from, in two lean reads: each open one's stage, amount and probability (its own, else its
    /// stage's); each closed one's outcome, reason, amount and day; every stage each entered,
    /// with the day (conversion and days in stage).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn funnel(&self, owner: Option<UserId>, pipeline: &Pipeline) -> Result<FunnelFacts> {
        let owned = |sql: &mut Sql| {
            sql.push(" and o.deleted_on is null");
            if let Some(owner) = owner {
                sql.push(" and o.owner_id = ").bind(owner.0);
            }
        };
        let mut sql = self.visible(
            "select o.stage, o.amount_minor, o.probability, o.closed_on, o.lost_reason \
             from customer c join opportunity o on o.customer_id = c.id",
        );
        owned(&mut sql);
        let mut facts = FunnelFacts::default();
        for r in sql.query().fetch_all(self.pool()).await? {
            let stage: String = r.try_get("stage")?;
            let amount: i64 = r.try_get("amount_minor")?;
            match date_of(&r, "closed_on")? {
                None => {
                    let own = r
                        .try_get::<Option<i64>, _>("probability")?
                        .and_then(|p| u8::try_from(p).ok());
                    facts.open.push(FunnelItem {
                        probability: probability_of(pipeline, &stage, own),
                        stage,
                        amount,
                    });
                }
                Some(on) => {
                    if let Some(outcome) = pipeline.stage(&stage).and_then(|s| s.outcome) {
                        facts.closed.push(Closed {
                            outcome,
                            reason: r.try_get("lost_reason")?,
                            amount,
                            on,
                        });
                    }
                }
            }
        }
        let mut sql = self.visible(
            "select m.opportunity_id, m.to_stage, m.moved_on from customer c \
             join opportunity o on o.customer_id = c.id \
             join opportunity_move m on m.opportunity_id = o.id",
        );
        owned(&mut sql);
        sql.push(" order by m.opportunity_id, m.moved_on, m.id");
        for r in sql.query().fetch_all(self.pool()).await? {
            facts.history.push(StageEntry {
                opportunity: r.try_get(0)?,
                stage: r.try_get(1)?,
                on: parse_date("moved_on", &r.try_get::<String, _>(2)?)?,
            });
        }
        Ok(facts)
    }

    /// The stage moves (not the openings) from `from` to `to` inclusive of the opportunities in
    /// reach (`owner`'s only, if given), by day: what a weekly report says was moved and won.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn moves_between(
        &self,
        owner: Option<UserId>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<MovedOpportunity>> {
        let mut sql = self.visible(
            "select m.moved_on, c.cif_no, c.name, o.title, o.amount_minor, m.from_stage, \
             m.to_stage from customer c join opportunity o on o.customer_id = c.id \
             join opportunity_move m on m.opportunity_id = o.id",
        );
        sql.push(" and o.deleted_on is null and m.from_stage is not null and m.moved_on >= ")
            .bind(from.to_string())
            .push(" and m.moved_on <= ")
            .bind(to.to_string());
        if let Some(owner) = owner {
            sql.push(" and o.owner_id = ").bind(owner.0);
        }
        sql.push(" order by m.moved_on, c.cif_no, m.id");
        let rows = sql.query().fetch_all(self.pool()).await?;
        rows.iter()
            .map(|r| {
                Ok(MovedOpportunity {
                    on: parse_date("moved_on", &r.try_get::<String, _>(0)?)?,
                    cif_no: r.try_get(1)?,
                    customer_name: r.try_get(2)?,
                    title: r.try_get(3)?,
                    amount: r.try_get(4)?,
                    from: r.try_get(5)?,
                    to: r.try_get(6)?,
                })
            })
            .collect()
    }

    /// The colleague named by `username`, if kam-core lets this user give them work (an
    /// opportunity, a task): oneself, or a manager's RM or president in reach. An unknown name
    /// gets the same answer as one out of reach.
    pub(crate) async fn colleague_for_work(
        &self,
        tx: &mut WriteTx,
        username: &str,
        field: &'static str,
    ) -> Result<kam_core::user::User> {
        match crate::user::user_with_unit_on(&mut **tx, username).await? {
            Some((owner, unit))
                if !owner.disabled && self.scope().may_give_alert_to(&owner, &unit) =>
            {
                Ok(owner)
            }
            _ => Err(Error::Invalid(ParseError::new(
                field,
                username,
                "work goes to yourself or, for a manager, to an RM or president in reach",
                "工作只能交给自己，或由管理者交给其辖内的客户经理或行长",
            ))),
        }
    }
}

/// Refuses a change to a won or lost opportunity.
fn closed_is_final(stored: &OpportunityRow) -> Result<()> {
    if stored.is_open() {
        Ok(())
    } else {
        Err(Error::Invalid(ParseError::new(
            "stage",
            stored.stage.as_str(),
            "a closed opportunity is kept as it closed",
            "已结束的商机保持结束时的样子，不能再修改",
        )))
    }
}

/// What the bulk load of a bank's opportunities wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpportunityCounts {
    pub opportunities: usize,
    pub moves: usize,
    pub obstacles: usize,
}

impl Store {
    /// For the batch: per customer number, `expected_sales`, the longest stall and, per window,
    /// `process_count` (docs/indicators.md) on `as_of`, from each opportunity's stage on that
    /// day (its history read back, so a backfill sees the stage it had then). A system read over
    /// the whole bank, like `batch_customers`.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn opportunity_figures(
        &self,
        as_of: NaiveDate,
        windows: &[u32],
        pipeline: &Pipeline,
    ) -> Result<HashMap<String, OpportunityFigures>> {
        let day = as_of.to_string();
        let opportunities = sqlx::query(
            "select o.id, c.cif_no, o.amount_minor, o.probability from opportunity o \
             join customer c on c.id = o.customer_id \
             where o.deleted_on is null",
        )
        .fetch_all(self.pool())
        .await?;
        let moves = sqlx::query(
            "select opportunity_id, to_stage, moved_on from opportunity_move \
             where moved_on <= $1 order by opportunity_id, moved_on, id",
        )
        .bind(day.as_str())
        .fetch_all(self.pool())
        .await?;
        // Each opportunity's last entry on or before the day: its stage then and since when.
        let mut last: HashMap<i64, (String, NaiveDate)> = HashMap::new();
        for r in &moves {
            let on = parse_date("moved_on", &r.try_get::<String, _>(2)?)?;
            last.insert(r.try_get(0)?, (r.try_get(1)?, on));
        }
        let mut items: HashMap<String, Vec<FunnelItem>> = HashMap::new();
        let mut out: HashMap<String, OpportunityFigures> = HashMap::new();
        for r in &opportunities {
            let id: i64 = r.try_get(0)?;
            let Some((stage, since)) = last.get(&id) else {
                continue;
            };
            if pipeline.stage(stage).is_none_or(|s| s.outcome.is_some()) {
                continue;
            }
            let cif: String = r.try_get(1)?;
            let own = r
                .try_get::<Option<i64>, _>(3)?
                .and_then(|p| u8::try_from(p).ok());
            items.entry(cif.clone()).or_default().push(FunnelItem {
                stage: stage.clone(),
                amount: r.try_get(2)?,
                probability: probability_of(pipeline, stage, own),
            });
            let figures = out.entry(cif).or_default();
            let stalled = (as_of - *since).num_days();
            figures.stalled_days = Some(figures.stalled_days.map_or(stalled, |d| d.max(stalled)));
            for &w in windows {
                // Moved in the `w` days ending on the day: entered its stage after day − w.
                if stalled < i64::from(w) {
                    *figures.moved.entry(w).or_insert(0) += 1;
                }
            }
        }
        for (cif, items) in items {
            out.entry(cif).or_default().expected_sales = expected_sales(&items);
        }
        Ok(out)
    }

    /// Loads a bank's history of opportunities (the synthetic bank's) in one transaction with
    /// one audit row, through the same row writers as a user's save. Records of unknown
    /// customers or owners are skipped; key people and obstacle owners unknown are left out.
    pub async fn load_opportunities(
        &self,
        actor: &crate::Actor,
        records: &[OpportunityRecord],
        pipeline: &Pipeline,
    ) -> Result<OpportunityCounts> {
        let mut tx = self.begin_write().await?;
        let max_binds = self.backend().max_binds();
        let customers = crate::indicator::customer_ids(&mut tx).await?;
        let users: HashMap<String, (i64, i64)> =
            sqlx::query("select username, id, org_unit_id from app_user")
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|r| Ok((r.try_get::<String, _>(0)?, (r.try_get(1)?, r.try_get(2)?))))
                .collect::<Result<_>>()?;
        let people: HashMap<(i64, String), i64> =
            sqlx::query("select customer_id, name, id from key_person where retired_on is null")
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|r| Ok(((r.try_get(0)?, r.try_get(1)?), r.try_get(2)?)))
                .collect::<Result<_>>()?;
        let first = pipeline
            .open_stages()
            .next()
            .map(|s| s.code.clone())
            .unwrap_or_default();
        let now = audit::now();
        let (mut moves, mut ticks, mut influences) = (Vec::new(), Vec::new(), Vec::new());
        let (mut written, mut obstacles) = (0, 0);
        for record in records {
            let o = &record.opportunity;
            let (Some(&customer), Some(&(owner, unit))) =
                (customers.get(&record.cif_no), users.get(&o.owner))
            else {
                continue;
            };
            let (stage, since) = record
                .moves
                .last()
                .map_or((first.as_str(), record.opened_on), |(s, on, _, _)| {
                    (s.as_str(), *on)
                });
            let closing = pipeline.stage(stage).and_then(|s| s.outcome);
            let row = detail_values(o, UserId(owner))
                .put("customer_id", customer)
                .put("unit_id", unit)
                .put("stage", stage)
                .put("stage_since", since.to_string())
                .put("closed_on", closing.map(|_| since.to_string()))
                .put(
                    "lost_reason",
                    match closing {
                        Some(Outcome::Lost) => record.moves.last().and_then(|m| m.3.clone()),
                        _ => None,
                    },
                )
                .put("version", 1_i64)
                .put("created_by", o.owner.as_str())
                .put("created_at", now.as_str());
            let id = insert_one(&mut tx, "opportunity", row, ("opportunity", &o.title)).await?;
            written += 1;
            moves.push(move_values(
                id,
                (None, &first),
                (record.opened_on, &o.owner, &now),
                None,
            ));
            let mut from = first.clone();
            for (to, on, by, reason) in &record.moves {
                moves.push(move_values(
                    id,
                    (Some(&from), to),
                    (*on, by, &now),
                    reason.as_deref(),
                ));
                from.clone_from(to);
            }
            for (stage, item) in &record.ticks {
                ticks.push(
                    Values::new()
                        .put("opportunity_id", id)
                        .put("stage", stage.as_str())
                        .put("item", item.as_str())
                        .put("ticked_by", o.owner.as_str())
                        .put("ticked_on", since.to_string()),
                );
            }
            for (obstacle, cleared) in &record.obstacles {
                let Some(&(owner, _)) = users.get(&obstacle.owner) else {
                    continue;
                };
                let row = obstacle_values(id, obstacle, *cleared)
                    .put("created_by", o.owner.as_str())
                    .put("created_at", now.as_str());
                let obstacle_id =
                    insert_one(&mut tx, "obstacle", row, ("obstacle", &obstacle.text)).await?;
                obstacles += 1;
                let row = crate::task::task_values(
                    (CustomerId(customer), None, UserId(owner)),
                    &action_task(obstacle),
                    (TaskSource::Obstacle, *cleared),
                    (o.owner.as_str(), &now),
                )
                .put("opportunity_id", id)
                .put("obstacle_id", obstacle_id);
                insert_one(&mut tx, "task", row, ("task", &obstacle.action)).await?;
            }
            // Two key people of one company may share a name: the first is named, once.
            let mut named = std::collections::HashSet::new();
            for (name, role, attitude) in &record.influences {
                if let Some(person) = people.get(&(customer, name.clone()))
                    && named.insert(*person)
                {
                    influences.push(
                        Values::new()
                            .put("opportunity_id", id)
                            .put("key_person_id", *person)
                            .put("role", role.as_str())
                            .put("attitude", attitude.as_str())
                            .put("created_by", o.owner.as_str())
                            .put("created_at", now.as_str()),
                    );
                }
            }
        }
        let moved =
            crate::bulk::insert_values(&mut tx, max_binds, "opportunity_move", moves, None).await?;
        crate::bulk::insert_values(&mut tx, max_binds, "opportunity_tick", ticks, None).await?;
        crate::bulk::insert_values(&mut tx, max_binds, "buying_influence", influences, None)
            .await?;
        audit::record(
            &mut tx,
            actor,
            "bulk_load",
            "opportunity",
            "history",
            &format!("{written} opportunities, {moved} moves, {obstacles} obstacles"),
        )
        .await?;
        tx.commit().await?;
        Ok(OpportunityCounts {
            opportunities: written,
            moves: moved,
            obstacles,
        })
    }
}

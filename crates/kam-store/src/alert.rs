//! Alerts in the store: raised by the batch from its findings and kept open from the night they
//! are raised until handled or cleared, so each is raised once; the inbox, giving an alert to a
//! colleague and handling it, each through the reader's scope.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use sqlx::Row;

use kam_core::alert::{AlertKind, AlertStatus};

use crate::{
    Actor, Error, Result, Store, UserStore, audit,
    bulk::insert_values,
    customer::parse_date,
    indicator::customer_ids,
    org::corrupt,
    sql::{Sql, Values},
    user::user_with_unit_on,
};

/// One alert condition found by the batch for one customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFinding {
    pub cif_no: String,
    pub kind: AlertKind,
    /// The customer's tier (1 … 5) whose thresholds applied.
    pub tier: i64,
    pub evidence: String,
    pub thresholds: String,
}

/// An alert as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAlert {
    pub id: i64,
    pub cif_no: String,
    pub customer_name: String,
    pub kind: AlertKind,
    pub status: AlertStatus,
    pub tier: i64,
    pub raised_on: NaiveDate,
    pub last_seen_on: NaiveDate,
    pub cleared_on: Option<NaiveDate>,
    pub evidence: String,
    pub thresholds: String,
    pub rule_id: String,
    pub rule_version: i64,
    pub handled_by: Option<String>,
    pub note: Option<String>,
    /// The username the alert is given to, if anyone.
    pub assigned_to: Option<String>,
}

/// Which alerts an inbox shows.
#[derive(Debug, Clone, Default)]
pub struct AlertFilter {
    /// `None` for every status.
    pub status: Option<AlertStatus>,
    pub kind: Option<AlertKind>,
    /// Only those given to this username.
    pub assigned_to: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

/// What one night did to the alerts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AlertSync {
    /// New alerts.
    pub raised: usize,
    /// Active alerts whose condition still holds (not raised again).
    pub continuing: usize,
    /// Active alerts whose condition no longer holds.
    pub cleared: usize,
    /// The date was earlier than alerts already seen: alerts only move forward, so nothing changed.
    pub skipped: bool,
}

impl Store {
    /// Brings the alerts in line with one night's findings, in one transaction: a finding
    /// without an active alert of its customer and kind raises one; one with an active alert only
    /// moves its `last_seen_on`; an active alert without a finding is cleared (an open one becomes
    /// `resolved`, a handled one stays handled). Re-running a date changes nothing; a date older
    /// than the latest night already synced changes nothing either (`skipped`).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn sync_alerts(
        &self,
        actor: &Actor,
        as_of: NaiveDate,
        rule_id: &str,
        rule_version: i64,
        findings: &[StoredFinding],
    ) -> Result<AlertSync> {
        let mut tx = self.begin_write().await?;
        let day = as_of.to_string();
        // A backfill of an older date must not clear (or re-raise) what later nights found.
        let latest: Option<String> = sqlx::query("select max(last_seen_on) from alert")
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
        if latest.is_some_and(|latest| latest > day) {
            return Ok(AlertSync {
                skipped: true,
                ..AlertSync::default()
            });
        }
        let ids = customer_ids(&mut tx).await?;
        let active: HashMap<(i64, AlertKind), i64> =
            sqlx::query("select customer_id, kind, id from alert where cleared_on is null")
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|row| {
                    let kind = AlertKind::parse(&row.try_get::<String, _>(1)?).map_err(corrupt)?;
                    Ok(((row.try_get(0)?, kind), row.try_get(2)?))
                })
                .collect::<Result<_>>()?;
        let mut seen: HashSet<i64> = HashSet::new();
        let mut new_rows = Vec::new();
        for f in findings {
            let Some(&customer) = ids.get(&f.cif_no) else {
                continue;
            };
            match active.get(&(customer, f.kind)) {
                Some(&id) => {
                    seen.insert(id);
                }
                None => new_rows.push(
                    Values::new()
                        .put("customer_id", customer)
                        .put("kind", f.kind.code())
                        .put("status", AlertStatus::Open.as_str())
                        .put("tier", f.tier)
                        .put("raised_on", day.as_str())
                        .put("last_seen_on", day.as_str())
                        .put("evidence", f.evidence.as_str())
                        .put("thresholds", f.thresholds.as_str())
                        .put("rule_id", rule_id)
                        .put("rule_version", rule_version),
                ),
            }
        }
        let cleared: Vec<i64> = active
            .values()
            .copied()
            .filter(|id| !seen.contains(id))
            .collect();
        let seen: Vec<i64> = seen.into_iter().collect();
        // Bounded id lists per statement: both dialects cap the parameters of one statement.
        for chunk in seen.chunks(500) {
            let mut sql = Sql::new("update alert set last_seen_on = ");
            sql.bind(day.as_str()).push(" where id in (");
            push_ids(&mut sql, chunk);
            sql.query().execute(&mut *tx).await?;
        }
        for chunk in cleared.chunks(500) {
            let mut sql = Sql::new(
                "update alert set status = case when status = 'open' then 'resolved' else status end, cleared_on = ",
            );
            sql.bind(day.as_str()).push(" where id in (");
            push_ids(&mut sql, chunk);
            sql.query().execute(&mut *tx).await?;
        }
        let raised =
            insert_values(&mut tx, self.backend().max_binds(), "alert", new_rows, None).await?;
        let sync = AlertSync {
            raised,
            continuing: seen.len(),
            cleared: cleared.len(),
            skipped: false,
        };
        audit::record(
            &mut tx,
            actor,
            "batch_run",
            "alert",
            &day,
            &format!(
                "{} raised, {} continuing, {} cleared",
                sync.raised, sync.continuing, sync.cleared
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(sync)
    }
}

impl UserStore {
    /// An alert inbox: the alerts in reach that match `filter`, newest first, and how many match
    /// in all.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn alert_inbox(&self, filter: &AlertFilter) -> Result<(Vec<StoredAlert>, i64)> {
        let filtered = |head: &str| {
            let mut sql = self.visible(head);
            if let Some(status) = &filter.status {
                sql.push(" and a.status = ").bind(status.as_str());
            }
            if let Some(kind) = &filter.kind {
                sql.push(" and a.kind = ").bind(kind.code());
            }
            if let Some(user) = &filter.assigned_to {
                sql.push(" and a.assigned_to = ").bind(user.as_str());
            }
            sql
        };
        let count =
            filtered("select count(*) as n from alert a join customer c on c.id = a.customer_id");
        let total: i64 = count.query().fetch_one(self.pool()).await?.try_get("n")?;
        let mut sql = filtered(ALERT_COLUMNS);
        sql.push(" order by a.raised_on desc, c.cif_no, a.kind limit ")
            .bind(if filter.limit > 0 { filter.limit } else { 50 })
            .push(" offset ")
            .bind(filter.offset.max(0));
        let alerts = sql
            .query()
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(alert_from_row)
            .collect::<Result<_>>()?;
        Ok((alerts, total))
    }

    /// `NotFound` unless the alert exists and its customer is in reach.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn alert_visible(&self, id: i64) -> Result<()> {
        self.fetch_visible(self.find_alert(id, false), "alert", &id.to_string())
            .await
            .map(|_| ())
    }

    /// Gives an open alert to a user (or takes it back with `None`). `NotFound` when the alert
    /// does not exist, is not open or its customer is out of reach; `ReadOnly` for a read-only
    /// scope; `NotPermitted` for a receiver kam-core says no to. Every refusal is audited.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn assign_alert(&self, id: i64, username: Option<&str>) -> Result<()> {
        let key = id.to_string();
        let (mut tx, _) = self
            .begin_customer_write(self.find_alert(id, true), "assign", "alert", &key)
            .await?;
        if let Some(name) = username {
            // kam-core decides; an unknown name gets the same answer as one out of reach, so
            // the form cannot be used to learn which user names exist.
            let permitted = user_with_unit_on(&mut *tx, name)
                .await?
                .is_some_and(|(receiver, unit)| self.scope().may_give_alert_to(&receiver, &unit));
            if !permitted {
                let refused = Error::NotPermitted(
                    "an alert goes to its giver or to an RM or president within their reach",
                );
                return Err(self.refuse(tx, "assign", "alert", &key, refused).await);
            }
        }
        Sql::new("update alert set assigned_to = ")
            .bind(username)
            .push(" where id = ")
            .bind(id)
            .query()
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut tx,
            self.actor(),
            "assign",
            "alert",
            &key,
            username.unwrap_or("-"),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Marks an open alert handled with a note. `NotFound` when it does not exist, is not open or
    /// its customer is out of reach; `ReadOnly` for a read-only scope (audited either way);
    /// `Invalid` (field `note`) without a note.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn handle_alert(&self, id: i64, note: &str) -> Result<()> {
        let key = id.to_string();
        let (mut tx, _) = self
            .begin_customer_write(self.find_alert(id, true), "handle", "alert", &key)
            .await?;
        // What was done is the point of handling: a note of 1 to 2,000 characters.
        let note = note.trim();
        if note.is_empty() || note.chars().count() > 2_000 {
            return Err(Error::Invalid(kam_core::ParseError::new(
                "note",
                note.chars().take(40).collect::<String>(),
                "say what was done (1 to 2,000 characters)",
                "请写明处理情况（1 至 2000 字）",
            )));
        }
        Sql::new("update alert set status = 'handled', handled_by = ")
            .bind(self.actor().name.as_str())
            .push(", handled_at = ")
            .bind(audit::now())
            .push(", note = ")
            .bind(note)
            .push(" where id = ")
            .bind(id)
            .query()
            .execute(&mut *tx)
            .await?;
        audit::record(&mut tx, self.actor(), "handle", "alert", &key, note).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The alerts in reach, newest first; only open ones when `open_only`.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn alerts(&self, open_only: bool) -> Result<Vec<StoredAlert>> {
        let mut sql = self.visible(ALERT_COLUMNS);
        if open_only {
            sql.push(" and a.status = 'open'");
        }
        self.list_alerts(sql).await
    }

    /// One visible customer's alerts, newest first (open, handled and resolved); `NotFound` for
    /// a customer out of reach, like every read of one customer.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn alerts_of(&self, cif_no: &str) -> Result<Vec<StoredAlert>> {
        self.customer_by_cif(cif_no).await?;
        self.alerts_of_checked(cif_no).await
    }

    /// `alerts_of` once the caller has read the customer through the scope (the 360's head).
    pub(crate) async fn alerts_of_checked(&self, cif_no: &str) -> Result<Vec<StoredAlert>> {
        let mut sql = self.visible(ALERT_COLUMNS);
        sql.push(" and c.cif_no = ").bind(cif_no);
        self.list_alerts(sql).await
    }

    /// The alerts in reach that were active on `day`: raised on or before it and not cleared by
    /// it (whatever their status), newest first.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn alerts_active_on(&self, day: NaiveDate) -> Result<Vec<StoredAlert>> {
        let day = day.to_string();
        let mut sql = self.visible(ALERT_COLUMNS);
        sql.push(" and a.raised_on <= ")
            .bind(day.as_str())
            .push(" and (a.cleared_on is null or a.cleared_on > ")
            .bind(day.as_str())
            .push(")");
        self.list_alerts(sql).await
    }

    async fn list_alerts(&self, mut sql: Sql) -> Result<Vec<StoredAlert>> {
        sql.push(" order by a.raised_on desc, c.cif_no, a.kind");
        sql.query()
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(alert_from_row)
            .collect()
    }

    /// The one statement that finds alert `id` when its customer is in reach (and, with
    /// `open_only`, when it is open): the inbox's reads and writes check the same way.
    fn find_alert(&self, id: i64, open_only: bool) -> Sql {
        let mut sql =
            self.visible("select a.id from alert a join customer c on c.id = a.customer_id");
        sql.push(" and a.id = ").bind(id);
        if open_only {
            sql.push(" and a.status = 'open'");
        }
        sql
    }
}

fn push_ids(sql: &mut Sql, ids: &[i64]) {
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.bind(*id);
    }
    sql.push(")");
}

const ALERT_COLUMNS: &str = "select a.id, c.cif_no, c.name, a.kind, a.status, a.tier, a.raised_on, \
    a.last_seen_on, a.cleared_on, a.evidence, a.thresholds, a.rule_id, a.rule_version, \
    a.handled_by, a.note, a.assigned_to from alert a join customer c on c.id = a.customer_id";

fn alert_from_row(row: &sqlx::any::AnyRow) -> Result<StoredAlert> {
    let date = |name: &'static str| -> Result<NaiveDate> {
        parse_date(name, &row.try_get::<String, _>(name)?)
    };
    Ok(StoredAlert {
        id: row.try_get("id")?,
        cif_no: row.try_get("cif_no")?,
        customer_name: row.try_get("name")?,
        kind: AlertKind::parse(&row.try_get::<String, _>("kind")?).map_err(corrupt)?,
        status: AlertStatus::parse(&row.try_get::<String, _>("status")?).map_err(corrupt)?,
        tier: row.try_get("tier")?,
        raised_on: date("raised_on")?,
        last_seen_on: date("last_seen_on")?,
        cleared_on: row
            .try_get::<Option<String>, _>("cleared_on")?
            .as_deref()
            .map(|t| parse_date("cleared_on", t))
            .transpose()?,
        evidence: row.try_get("evidence")?,
        thresholds: row.try_get("thresholds")?,
        rule_id: row.try_get("rule_id")?,
        rule_version: row.try_get("rule_version")?,
        handled_by: row.try_get("handled_by")?,
        note: row.try_get("note")?,
        assigned_to: row.try_get("assigned_to")?,
    })
}

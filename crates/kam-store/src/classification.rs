//! The batch's classifications in the store: each customer's retail tier, account types, value and
//! board (latest as-of), the scores people give on the board's manual criteria, and alerts — kept
//! open from the night they are raised until handled or cleared, so each is raised once.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use sqlx::Row;

use kam_core::{org::OrgPath, visibility::Scope};

use crate::{
    Actor, Error, Result, Store, audit,
    bulk::insert_rows,
    customer::parse_date,
    indicator::customer_ids,
    org::corrupt,
    sql::{Arg, Sql},
    user::{user_columns_of, user_from_row},
    visibility::push_visible,
};

/// One customer's classifications as of one date.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredClass {
    pub cif_no: String,
    pub as_of: NaiveDate,
    pub rule_id: String,
    pub rule_version: i64,
    /// `private_banking`, `wealth`, `vip`; `None` for none (and for corporates).
    pub retail_tier: Option<String>,
    pub retail_tier_name: Option<String>,
    /// The column the retail tier read, e.g. `avg_aum_30d`, and its value.
    pub retail_indicator: String,
    pub retail_value: Option<i64>,
    /// Account type codes, most important first, comma-separated; empty for none.
    pub account_types: String,
    pub key_account: bool,
    /// `YYYY-MM=fen` per month, comma-separated, oldest first.
    pub value_months: String,
    /// The same months' average daily deposit, average loan outstanding and fee income, in the
    /// same form (the 360's trends).
    pub deposit_months: String,
    pub loan_months: String,
    pub fee_months: String,
    pub value_total: i64,
    pub value_slope: Option<f64>,
    pub value_trend: String,
    pub value_score: i64,
    /// The board id when the customer is a candidate, with `criterion=score` (or `-`) per row.
    pub board: Option<String>,
    pub board_scores: Option<String>,
    pub board_total: Option<i64>,
    pub board_average: Option<f64>,
    pub starred: bool,
}

/// One alert condition found by the batch for one customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFinding {
    pub cif_no: String,
    pub kind: String,
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
    pub kind: String,
    /// `open`, `handled`, `resolved`.
    pub status: String,
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
    /// `open`, `handled`, `resolved`; `None` for every status.
    pub status: Option<String>,
    pub kind: Option<String>,
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
    /// Replaces every customer's classifications with those of `as_of`, in one transaction with
    /// its audit event. Rows of customers the store does not know are skipped.
    pub async fn save_classes(
        &self,
        actor: &Actor,
        as_of: NaiveDate,
        classes: &[StoredClass],
    ) -> Result<usize> {
        let rows = classes.iter().map(|c| {
            (
                c.cif_no.as_str(),
                vec![
                    Arg::from(c.as_of.to_string()),
                    Arg::from(c.rule_id.as_str()),
                    Arg::Int(c.rule_version),
                    Arg::from(c.retail_tier.as_deref()),
                    Arg::from(c.retail_tier_name.as_deref()),
                    Arg::from(c.retail_indicator.as_str()),
                    Arg::from(c.retail_value),
                    Arg::from(c.account_types.as_str()),
                    Arg::Int(i64::from(c.key_account)),
                    Arg::from(c.value_months.as_str()),
                    Arg::Int(c.value_total),
                    Arg::from(c.value_slope),
                    Arg::from(c.value_trend.as_str()),
                    Arg::Int(c.value_score),
                    Arg::from(c.board.as_deref()),
                    Arg::from(c.board_scores.as_deref()),
                    Arg::from(c.board_total),
                    Arg::from(c.board_average),
                    Arg::Int(i64::from(c.starred)),
                    Arg::from(c.deposit_months.as_str()),
                    Arg::from(c.loan_months.as_str()),
                    Arg::from(c.fee_months.as_str()),
                ],
            )
        });
        self.replace_for_customers(
            actor,
            Sql::new("delete from customer_class"),
            "insert into customer_class (customer_id, as_of, rule_id, rule_version, retail_tier, \
             retail_tier_name, retail_indicator, retail_value, account_types, key_account, value_months, \
             value_total, value_slope, value_trend, value_score, board, board_scores, board_total, \
             board_average, starred, deposit_months, loan_months, fee_months)",
            rows,
            ("customer_class", &as_of.to_string(), "customers"),
        )
        .await
    }

    /// One customer's latest classifications; `NotFound` when it does not exist, `scope` may not
    /// see it, or the batch has not run.
    pub async fn class_of(&self, scope: &Scope, cif_no: &str) -> Result<StoredClass> {
        let mut sql = Sql::new(&class_columns());
        sql.push(" where c.cif_no = ").bind(cif_no);
        let row = self
            .fetch_visible(sql, scope, "customer_class", cif_no)
            .await?;
        class_from_row(&row)
    }

    /// Every latest classification `scope` may see, by customer number.
    pub async fn classes(&self, scope: &Scope) -> Result<Vec<StoredClass>> {
        let mut sql = Sql::new(&class_columns());
        sql.push(" where ");
        push_visible(&mut sql, scope);
        sql.push(" order by c.cif_no");
        sql.query()
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(class_from_row)
            .collect()
    }

    /// Sets (or replaces) one manual score on a board for the user behind `scope`, with its audit
    /// event. Checked in the writing transaction: a customer out of the scope's reach is
    /// `NotFound` (like a missing one); a read-only scope (auditor, risk officer, the system) is
    /// refused with `ReadOnly`, nothing written and the refusal audited.
    pub async fn set_manual_score(
        &self,
        actor: &Actor,
        scope: &Scope,
        cif_no: &str,
        board: &str,
        criterion: &str,
        score: u8,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let mut find = Sql::new("select c.id from customer c where c.cif_no = ");
        find.bind(cif_no).push(" and ");
        push_visible(&mut find, scope);
        let id: Option<i64> = find
            .query()
            .fetch_optional(&mut *tx)
            .await?
            .map(|row| row.try_get(0))
            .transpose()?;
        let id = id.ok_or_else(|| Error::NotFound {
            entity: "customer",
            key: cif_no.to_owned(),
        })?;
        let key = format!("{cif_no}/{board}/{criterion}");
        if !scope.may_write() {
            audit::record(
                &mut tx,
                actor,
                "score_refused",
                "manual_score",
                &key,
                "read-only",
            )
            .await?;
            tx.commit().await?;
            return Err(Error::ReadOnly);
        }
        Sql::new("delete from manual_score where customer_id = ")
            .bind(id)
            .push(" and board = ")
            .bind(board)
            .push(" and criterion = ")
            .bind(criterion)
            .query()
            .execute(&mut *tx)
            .await?;
        Sql::new("insert into manual_score (customer_id, board, criterion, score, entered_by, entered_at) values (")
            .bind(id)
            .push(", ")
            .bind(board)
            .push(", ")
            .bind(criterion)
            .push(", ")
            .bind(i64::from(score))
            .push(", ")
            .bind(actor.name.as_str())
            .push(", ")
            .bind(audit::now())
            .push(")")
            .query()
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut tx,
            actor,
            "score",
            "manual_score",
            &key,
            &score.to_string(),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every manual score of one board, by customer number and criterion (for the batch).
    pub async fn manual_scores(&self, board: &str) -> Result<HashMap<(String, String), u8>> {
        Sql::new(
            "select c.cif_no, s.criterion, s.score from manual_score s \
             join customer c on c.id = s.customer_id where s.board = ",
        )
        .bind(board)
        .query()
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|row| {
            let score: i64 = row.try_get(2)?;
            Ok((
                (row.try_get(0)?, row.try_get(1)?),
                u8::try_from(score).unwrap_or(0),
            ))
        })
        .collect()
    }

    /// Brings the alerts in line with one night's findings, in one transaction: a finding
    /// without an active alert of its customer and kind raises one; one with an active alert only
    /// moves its `last_seen_on`; an active alert without a finding is cleared (an open one becomes
    /// `resolved`, a handled one stays handled). Re-running a date changes nothing; a date older
    /// than the latest night already synced changes nothing either (`skipped`).
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
        let active: HashMap<(i64, String), i64> =
            sqlx::query("select customer_id, kind, id from alert where cleared_on is null")
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|row| Ok(((row.try_get(0)?, row.try_get(1)?), row.try_get(2)?)))
                .collect::<Result<_>>()?;
        let mut seen: HashSet<i64> = HashSet::new();
        let mut new_rows = Vec::new();
        for f in findings {
            let Some(&customer) = ids.get(&f.cif_no) else {
                continue;
            };
            match active.get(&(customer, f.kind.clone())) {
                Some(&id) => {
                    seen.insert(id);
                }
                None => new_rows.push(vec![
                    Arg::Int(customer),
                    Arg::from(f.kind.as_str()),
                    Arg::from("open"),
                    Arg::Int(f.tier),
                    Arg::from(day.as_str()),
                    Arg::from(day.as_str()),
                    Arg::from(f.evidence.as_str()),
                    Arg::from(f.thresholds.as_str()),
                    Arg::from(rule_id),
                    Arg::Int(rule_version),
                ]),
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
        let raised = insert_rows(
            &mut tx,
            self.backend().max_binds(),
            "insert into alert (customer_id, kind, status, tier, raised_on, last_seen_on, evidence, \
             thresholds, rule_id, rule_version)",
            "",
            new_rows,
        )
        .await?;
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

    /// An alert inbox: the alerts `scope` may see that match `filter`, newest first, and how many
    /// match in all.
    pub async fn alert_inbox(
        &self,
        scope: &Scope,
        filter: &AlertFilter,
    ) -> Result<(Vec<StoredAlert>, i64)> {
        let push_filter = |sql: &mut Sql| {
            sql.push(" where ");
            push_visible(sql, scope);
            if let Some(status) = &filter.status {
                sql.push(" and a.status = ").bind(status.as_str());
            }
            if let Some(kind) = &filter.kind {
                sql.push(" and a.kind = ").bind(kind.as_str());
            }
            if let Some(user) = &filter.assigned_to {
                sql.push(" and a.assigned_to = ").bind(user.as_str());
            }
        };
        let mut count =
            Sql::new("select count(*) as n from alert a join customer c on c.id = a.customer_id");
        push_filter(&mut count);
        let total: i64 = count.query().fetch_one(self.pool()).await?.try_get("n")?;
        let mut sql = Sql::new(ALERT_COLUMNS);
        push_filter(&mut sql);
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

    /// `NotFound` unless the alert exists and its customer is in `scope`'s reach.
    pub async fn alert_visible(&self, scope: &Scope, id: i64) -> Result<()> {
        visible_alert(scope, id, false)
            .query()
            .fetch_optional(self.pool())
            .await?
            .map(|_| ())
            .ok_or_else(|| alert_not_found(id))
    }

    /// Gives an open alert to a user (or takes it back with `None`). `NotFound` when the alert
    /// does not exist or its customer is out of reach; `ReadOnly` for a read-only scope.
    pub async fn assign_alert(
        &self,
        actor: &Actor,
        scope: &Scope,
        id: i64,
        username: Option<&str>,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        check_alert_writable(&mut tx, scope, id).await?;
        if let Some(name) = username {
            let receiver = Sql::new(&format!(
                "select o.path as unit_path, {} from app_user u join org_unit o on o.id = u.org_unit_id where u.username = ",
                user_columns_of("u")
            ))
            .bind(name)
            .query()
            .fetch_optional(&mut *tx)
            .await?;
            // kam-core decides; an unknown name gets the same answer as one out of reach, so
            // the form cannot be used to learn which user names exist.
            let permitted = match receiver {
                Some(row) => {
                    let path =
                        OrgPath::parse(&row.try_get::<String, _>("unit_path")?).map_err(corrupt)?;
                    scope.may_give_alert_to(&user_from_row(&row)?, &path)
                }
                None => false,
            };
            if !permitted {
                return Err(Error::NotPermitted(
                    "an alert goes to its giver or to an RM or president within their reach",
                ));
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
            actor,
            "assign",
            "alert",
            &id.to_string(),
            username.unwrap_or("-"),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Marks an alert handled with a note. `NotFound` when it does not exist or `scope` may not
    /// see its customer.
    pub async fn handle_alert(
        &self,
        actor: &Actor,
        scope: &Scope,
        id: i64,
        note: &str,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        check_alert_writable(&mut tx, scope, id).await?;
        Sql::new("update alert set status = 'handled', handled_by = ")
            .bind(actor.name.as_str())
            .push(", handled_at = ")
            .bind(audit::now())
            .push(", note = ")
            .bind(note)
            .push(" where id = ")
            .bind(id)
            .query()
            .execute(&mut *tx)
            .await?;
        audit::record(&mut tx, actor, "handle", "alert", &id.to_string(), note).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The alerts `scope` may see, newest first; only open ones when `open_only`.
    pub async fn alerts(&self, scope: &Scope, open_only: bool) -> Result<Vec<StoredAlert>> {
        let mut sql = Sql::new(ALERT_COLUMNS);
        sql.push(" where ");
        push_visible(&mut sql, scope);
        if open_only {
            sql.push(" and a.status = 'open'");
        }
        self.list_alerts(sql).await
    }

    /// One visible customer's alerts, newest first (open, handled and resolved).
    pub async fn alerts_of(&self, scope: &Scope, cif_no: &str) -> Result<Vec<StoredAlert>> {
        let mut sql = Sql::new(ALERT_COLUMNS);
        sql.push(" where c.cif_no = ").bind(cif_no).push(" and ");
        push_visible(&mut sql, scope);
        self.list_alerts(sql).await
    }

    /// The alerts `scope` may see that were active on `day`: raised on or before it and not
    /// cleared by it (whatever their status), newest first.
    pub async fn alerts_active_on(
        &self,
        scope: &Scope,
        day: NaiveDate,
    ) -> Result<Vec<StoredAlert>> {
        let day = day.to_string();
        let mut sql = Sql::new(ALERT_COLUMNS);
        sql.push(" where ");
        push_visible(&mut sql, scope);
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
}

/// An open alert whose customer `scope` may see (`NotFound` otherwise) and may change
/// (`ReadOnly` otherwise: auditors and risk officers look, they do not handle).
async fn check_alert_writable(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    scope: &Scope,
    id: i64,
) -> Result<()> {
    if visible_alert(scope, id, true)
        .query()
        .fetch_optional(&mut **tx)
        .await?
        .is_none()
    {
        return Err(alert_not_found(id));
    }
    if !scope.may_write() {
        return Err(Error::ReadOnly);
    }
    Ok(())
}

/// The one statement that finds alert `id` when its customer is in `scope`'s reach (and, with
/// `open_only`, when it is open): the inbox's reads and writes check the same way.
fn visible_alert(scope: &Scope, id: i64, open_only: bool) -> Sql {
    let mut sql =
        Sql::new("select a.id from alert a join customer c on c.id = a.customer_id where a.id = ");
    sql.bind(id).push(if open_only {
        " and a.status = 'open' and "
    } else {
        " and "
    });
    push_visible(&mut sql, scope);
    sql
}

fn alert_not_found(id: i64) -> Error {
    Error::NotFound {
        entity: "alert",
        key: id.to_string(),
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

/// The columns of a `StoredClass`, in `class_from_row_at`'s order (the 360's head reads them too).
pub(crate) const CLASS_FIELDS: &str = "c.cif_no, k.as_of, k.rule_id, k.rule_version, k.retail_tier, \
    k.retail_tier_name, k.retail_indicator, k.retail_value, k.account_types, k.key_account, \
    k.value_months, k.value_total, k.value_slope, k.value_trend, k.value_score, k.board, \
    k.board_scores, k.board_total, k.board_average, k.starred, k.deposit_months, k.loan_months, \
    k.fee_months";

fn class_columns() -> String {
    format!("select {CLASS_FIELDS} from customer_class k join customer c on c.id = k.customer_id")
}

fn class_from_row(row: &sqlx::any::AnyRow) -> Result<StoredClass> {
    class_from_row_at(row, 0)
}

/// A `StoredClass` from `CLASS_FIELDS` starting at column `at`.
pub(crate) fn class_from_row_at(row: &sqlx::any::AnyRow, at: usize) -> Result<StoredClass> {
    Ok(StoredClass {
        cif_no: row.try_get(at)?,
        as_of: parse_date("as_of", &row.try_get::<String, _>(at + 1)?)?,
        rule_id: row.try_get(at + 2)?,
        rule_version: row.try_get(at + 3)?,
        retail_tier: row.try_get(at + 4)?,
        retail_tier_name: row.try_get(at + 5)?,
        retail_indicator: row.try_get(at + 6)?,
        retail_value: row.try_get(at + 7)?,
        account_types: row.try_get(at + 8)?,
        key_account: row.try_get::<i64, _>(at + 9)? != 0,
        value_months: row.try_get(at + 10)?,
        value_total: row.try_get(at + 11)?,
        value_slope: row.try_get(at + 12)?,
        value_trend: row.try_get(at + 13)?,
        value_score: row.try_get(at + 14)?,
        board: row.try_get(at + 15)?,
        board_scores: row.try_get(at + 16)?,
        board_total: row.try_get(at + 17)?,
        board_average: row.try_get(at + 18)?,
        starred: row.try_get::<i64, _>(at + 19)? != 0,
        deposit_months: row.try_get(at + 20)?,
        loan_months: row.try_get(at + 21)?,
        fee_months: row.try_get(at + 22)?,
    })
}

const ALERT_COLUMNS: &str = "select a.id, c.cif_no, c.name, a.kind, a.status, a.tier, a.raised_on, \
    a.last_seen_on, a.cleared_on, a.evidence, a.thresholds, a.rule_id, a.rule_version, \
    a.handled_by, a.note, a.assigned_to from alert a join customer c on c.id = a.customer_id";

fn alert_from_row(row: &sqlx::any::AnyRow) -> Result<StoredAlert> {
    let date = |i: usize, name: &'static str| -> Result<NaiveDate> {
        parse_date(name, &row.try_get::<String, _>(i)?)
    };
    Ok(StoredAlert {
        id: row.try_get(0)?,
        cif_no: row.try_get(1)?,
        customer_name: row.try_get(2)?,
        kind: row.try_get(3)?,
        status: row.try_get(4)?,
        tier: row.try_get(5)?,
        raised_on: date(6, "raised_on")?,
        last_seen_on: date(7, "last_seen_on")?,
        cleared_on: row
            .try_get::<Option<String>, _>(8)?
            .as_deref()
            .map(|t| parse_date("cleared_on", t))
            .transpose()?,
        evidence: row.try_get(9)?,
        thresholds: row.try_get(10)?,
        rule_id: row.try_get(11)?,
        rule_version: row.try_get(12)?,
        handled_by: row.try_get(13)?,
        note: row.try_get(14)?,
        assigned_to: row.try_get(15)?,
    })
}

//! The diagnosis batch's latest results: indicator values per customer for the pages, and a row per
//! batch run. The store records what kam-facts computed; it computes nothing itself.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use sqlx::{Row, any::AnyRow};

use kam_core::{
    codec::Bars,
    customer::{AccountType, CustomerKind},
    tier::Movement,
    user::Role,
};

use crate::{
    Actor, Result, Store, UserStore, audit,
    bulk::{insert_rows, insert_values},
    customer::parse_date,
    org::corrupt,
    sql::{Arg, Sql, Values},
};

/// One value to store. `window_days` is 0 for an indicator of the date alone.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredIndicator {
    pub cif_no: String,
    pub code: String,
    pub window_days: i64,
    pub value_int: Option<i64>,
    pub value_real: Option<f64>,
}

/// A customer as the batch needs it: its number, kind and relationship start date, the account
/// type flagged in the master data, whether it belongs to a group and whether a lead RM is
/// assigned on the batch date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchCustomer {
    pub cif_no: String,
    pub name: String,
    pub kind: CustomerKind,
    pub since: Option<NaiveDate>,
    pub flagged: AccountType,
    pub group_member: bool,
    pub has_lead_rm: bool,
    /// The day of the latest logged visit on or before the batch date.
    pub last_visit: Option<NaiveDate>,
    /// Days since the longest-unmoved open opportunity last moved (filled in by the batch from
    /// `Store::opportunity_figures`; `None` here).
    pub stalled_days: Option<i64>,
}

/// One customer's tier for one month, with everything that decided it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTier {
    pub cif_no: String,
    /// `YYYY-MM`.
    pub month: String,
    pub as_of: NaiveDate,
    /// 1 (best) to 5.
    pub tier: i64,
    pub tier_name: String,
    /// The same in English (empty for rows written before names were kept in both languages).
    pub tier_name_en: String,
    pub months_below: i64,
    pub on_watch: bool,
    pub movement: Movement,
    pub measured_tier: i64,
    pub rule_id: String,
    pub rule_version: i64,
    /// The indicator column, e.g. `avg_daily_deposit_90d`.
    pub indicator: String,
    pub value_int: Option<i64>,
    /// The four bars of the scale, best first, in the indicator's unit.
    pub bars: Bars,
}

/// One finished batch run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchRun {
    pub as_of: NaiveDate,
    pub actor: String,
    pub started_at: String,
    pub finished_at: String,
    pub customers: i64,
    pub indicator_values: i64,
}

impl Store {
    /// Every customer, for the batch (a system run over the whole bank, not a user's read: no
    /// visibility scope applies, and nothing here reaches a page).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn batch_customers(&self, on: NaiveDate) -> Result<Vec<BatchCustomer>> {
        let on_day = on;
        let on = on.to_string();
        let rows = Sql::new(
            "select c.cif_no, c.kind, c.since, c.name, c.account_type, \
               cast(case when exists (select 1 from group_member g where g.customer_id = c.id) \
                 then 1 else 0 end as bigint), \
               cast(case when exists (select 1 from rm_assignment a where a.customer_id = c.id \
                 and a.role = 'lead' and a.effective_from <= ",
        )
        .bind(on.as_str())
        .push(" and (a.effective_to is null or a.effective_to > ")
        .bind(on.as_str())
        .push(
            ")) then 1 else 0 end as bigint), (select max(v.starts_at) from activity v \
             where v.customer_id = c.id and v.status = 'done' and v.kind = 'visit' \
             and v.starts_at < ",
        )
        .bind((on_day + chrono::Days::new(1)).to_string())
        .push(") from customer c order by c.cif_no")
        .query()
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                let since: Option<String> = row.try_get(2)?;
                let kind: String = row.try_get(1)?;
                let flagged: String = row.try_get(4)?;
                Ok(BatchCustomer {
                    cif_no: row.try_get(0)?,
                    name: row.try_get(3)?,
                    kind: CustomerKind::parse(&kind).map_err(corrupt)?,
                    since: since
                        .as_deref()
                        .map(|text| parse_date("since", text))
                        .transpose()?,
                    flagged: AccountType::parse(&flagged).map_err(corrupt)?,
                    group_member: row.try_get::<i64, _>(5)? != 0,
                    has_lead_rm: row.try_get::<i64, _>(6)? != 0,
                    // `YYYY-MM-DD HH:MM`: the day is its first ten characters.
                    last_visit: row
                        .try_get::<Option<String>, _>(7)?
                        .map(|at| parse_date("starts_at", at.get(..10).unwrap_or(&at)))
                        .transpose()?,
                    stalled_days: None,
                })
            })
            .collect()
    }

    /// Replaces the latest indicator values with those of `as_of`, in one transaction with the
    /// batch run's row and its audit event: the pages see the old snapshot or the new one, never
    /// a mixture. Values of customers the store does not know are skipped; the count written is
    /// returned.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn save_indicators(
        &self,
        actor: &Actor,
        as_of: NaiveDate,
        started_at: &str,
        customers: i64,
        values: &[StoredIndicator],
    ) -> Result<usize> {
        let mut tx = self.begin_write().await?;
        sqlx::query("delete from indicator_latest")
            .execute(&mut *tx)
            .await?;
        let as_of_text = as_of.to_string();
        let mut by_customer: BTreeMap<&str, (usize, String)> = BTreeMap::new();
        for value in values {
            let (count, text) = by_customer.entry(value.cif_no.as_str()).or_default();
            *count += 1;
            encode_value(text, value);
        }
        let ids = customer_ids(&mut tx).await?;
        let mut written = 0;
        let rows: Vec<Vec<Arg>> = by_customer
            .into_iter()
            .filter_map(|(cif, (count, text))| {
                let id = *ids.get(cif)?;
                written += count;
                Some(vec![
                    Arg::Int(id),
                    Arg::from(as_of_text.as_str()),
                    Arg::from(text.as_str()),
                ])
            })
            .collect();
        insert_rows(
            &mut tx,
            self.backend().max_binds(),
            "insert into indicator_latest (customer_id, as_of, indicator_values)",
            "",
            rows,
        )
        .await?;
        crate::figure::replace(&mut tx, self.backend().max_binds(), as_of, &ids, values).await?;
        record_run(&mut tx, actor, as_of, started_at, customers, written).await?;
        tx.commit().await?;
        Ok(written)
    }

    /// Records a run for a date older than the latest run's (a backfill): its results went to the
    /// Parquet history; the latest values in the store stay those of the later date.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn record_backfill_run(
        &self,
        actor: &Actor,
        as_of: NaiveDate,
        started_at: &str,
        customers: i64,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        record_run(&mut tx, actor, as_of, started_at, customers, 0).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The latest date any batch ran for (`None` before the first run).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn latest_batch_date(&self) -> Result<Option<NaiveDate>> {
        let latest: Option<String> = sqlx::query_scalar("select max(as_of) from batch_run")
            .fetch_one(self.pool())
            .await?;
        latest.map(|d| parse_date("as_of", &d)).transpose()
    }

    /// Batch runs, newest first.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn batch_runs(&self) -> Result<Vec<BatchRun>> {
        let rows = sqlx::query(
            "select as_of, actor, started_at, finished_at, customers, indicator_values \
             from batch_run order by id desc",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(BatchRun {
                    as_of: parse_date("as_of", &row.try_get::<String, _>(0)?)?,
                    actor: row.try_get(1)?,
                    started_at: row.try_get(2)?,
                    finished_at: row.try_get(3)?,
                    customers: row.try_get(4)?,
                    indicator_values: row.try_get(5)?,
                })
            })
            .collect()
    }

    /// The tiers of one month (`YYYY-MM`), by customer number: where the next month starts from.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn tiers_of_month(&self, month: &str) -> Result<HashMap<String, StoredTier>> {
        let rows = Sql::new(&format!("{} where t.month = ", tier_columns()))
            .bind(month)
            .query()
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|row| tier_from_row(row).map(|t| (t.cif_no.clone(), t)))
            .collect()
    }

    /// A customer's latest tier, with its explanation.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn latest_tier(&self, cif_no: &str) -> Result<Option<StoredTier>> {
        let rows = Sql::new(&format!("{} where c.cif_no = ", tier_columns()))
            .bind(cif_no)
            .push(" order by t.month desc limit 1")
            .query()
            .fetch_all(self.pool())
            .await?;
        rows.first().map(tier_from_row).transpose()
    }

    /// Replaces one month's tiers in one transaction with its audit event.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn save_tiers(
        &self,
        actor: &Actor,
        month: &str,
        tiers: &[StoredTier],
    ) -> Result<usize> {
        let mut delete = Sql::new("delete from tier_month where month = ");
        delete.bind(month);
        let rows = tiers.iter().map(|t| {
            let values = Values::new()
                .put("month", t.month.as_str())
                .put("as_of", t.as_of.to_string())
                .put("tier", t.tier)
                .put("tier_name", t.tier_name.as_str())
                .put("tier_name_en", t.tier_name_en.as_str())
                .put("months_below", t.months_below)
                .put("on_watch", i64::from(t.on_watch))
                .put("move", t.movement.as_str())
                .put("measured_tier", t.measured_tier)
                .put("rule_id", t.rule_id.as_str())
                .put("rule_version", t.rule_version)
                .put("indicator", t.indicator.as_str())
                .put("value_int", t.value_int)
                .put("bars", t.bars.to_string());
            (t.cif_no.as_str(), values)
        });
        self.replace_for_customers(
            actor,
            delete,
            "tier_month",
            rows,
            ("tier_month", month, "tiers"),
        )
        .await
    }

    /// One batch result replaced in one transaction: `delete`, then the rows of the customers the
    /// store knows (each given its customer id first), then the audit event
    /// `(entity, key, "N what")`. Returns the rows written.
    pub(crate) async fn replace_for_customers<'a>(
        &self,
        actor: &Actor,
        delete: Sql,
        table: &str,
        rows: impl IntoIterator<Item = (&'a str, Values)>,
        (entity, key, what): (&str, &str, &str),
    ) -> Result<usize> {
        let mut tx = self.begin_write().await?;
        delete.query().execute(&mut *tx).await?;
        let written =
            insert_for_customers(&mut tx, self.backend().max_binds(), table, rows).await?;
        audit::record(
            &mut tx,
            actor,
            "batch_run",
            entity,
            key,
            &format!("{written} {what}"),
        )
        .await?;
        tx.commit().await?;
        Ok(written)
    }
}

/// Inserts rows keyed by customer number, each prefixed with that customer's id; rows of customers
/// the store does not know are skipped (and not counted).
pub(crate) async fn insert_for_customers<'a>(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    max_binds: usize,
    table: &str,
    rows: impl IntoIterator<Item = (&'a str, Values)>,
) -> Result<usize> {
    let ids = customer_ids(tx).await?;
    let rows: Vec<Values> = rows
        .into_iter()
        .filter_map(|(cif, values)| Some(values.first("customer_id", *ids.get(cif)?)))
        .collect();
    insert_values(tx, max_binds, table, rows, None).await
}

/// Every customer's id by customer number, read inside the writing transaction.
pub(crate) async fn customer_ids(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
) -> Result<HashMap<String, i64>> {
    sqlx::query("select cif_no, id from customer")
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|row| Ok((row.try_get::<String, _>(0)?, row.try_get::<i64, _>(1)?)))
        .collect()
}

/// The columns of a `StoredTier` as a select list, each under its own name with a `t_` prefix, so
/// a statement that reads other tables beside it (the 360's head) reads it by name too.
pub(crate) const TIER_FIELDS: &str = "c.cif_no as t_cif_no, t.month as t_month, t.as_of as t_as_of, \
    t.tier as t_tier, t.tier_name as t_tier_name, t.tier_name_en as t_tier_name_en, \
    t.months_below as t_months_below, \
    t.on_watch as t_on_watch, t.move as t_move, t.measured_tier as t_measured_tier, \
    t.rule_id as t_rule_id, t.rule_version as t_rule_version, t.indicator as t_indicator, \
    t.value_int as t_value_int, t.bars as t_bars";

fn tier_columns() -> String {
    format!("select {TIER_FIELDS} from tier_month t join customer c on c.id = t.customer_id")
}

fn tier_from_row(row: &AnyRow) -> Result<StoredTier> {
    tier_from_row_opt(row)?.ok_or_else(|| {
        corrupt(kam_core::ParseError::new(
            "month",
            "",
            "a tier row without its month",
            "层级记录缺少月份",
        ))
    })
}

/// A `StoredTier` from `TIER_FIELDS`, by name; `None` when the (left-joined) row is absent.
pub(crate) fn tier_from_row_opt(row: &AnyRow) -> Result<Option<StoredTier>> {
    let Some(month) = row.try_get::<Option<String>, _>("t_month")? else {
        return Ok(None);
    };
    Ok(Some(StoredTier {
        cif_no: row.try_get("t_cif_no")?,
        month,
        as_of: parse_date("as_of", &row.try_get::<String, _>("t_as_of")?)?,
        tier: row.try_get("t_tier")?,
        tier_name: row.try_get("t_tier_name")?,
        tier_name_en: row.try_get("t_tier_name_en")?,
        months_below: row.try_get("t_months_below")?,
        on_watch: row.try_get::<i64, _>("t_on_watch")? != 0,
        movement: Movement::parse(&row.try_get::<String, _>("t_move")?).map_err(corrupt)?,
        measured_tier: row.try_get("t_measured_tier")?,
        rule_id: row.try_get("t_rule_id")?,
        rule_version: row.try_get("t_rule_version")?,
        indicator: row.try_get("t_indicator")?,
        value_int: row.try_get("t_value_int")?,
        bars: Bars::parse(&row.try_get::<String, _>("t_bars")?).map_err(corrupt)?,
    }))
}

/// The batch run's row and its audit event, inside the caller's transaction.
async fn record_run(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    actor: &Actor,
    as_of: NaiveDate,
    started_at: &str,
    customers: i64,
    written: usize,
) -> Result<()> {
    let as_of_text = as_of.to_string();
    Sql::new("insert into batch_run (as_of, actor, started_at, finished_at, customers, indicator_values) values (")
        .bind(as_of_text.as_str())
        .push(", ")
        .bind(actor.name.as_str())
        .push(", ")
        .bind(started_at)
        .push(", ")
        .bind(audit::now())
        .push(", ")
        .bind(customers)
        .push(", ")
        .bind(i64::try_from(written).unwrap_or(i64::MAX))
        .push(")")
        .query()
        .execute(&mut **tx)
        .await?;
    audit::record(
        tx,
        actor,
        "batch_run",
        "indicator_value",
        &as_of_text,
        &format!("{written} values for {customers} customers"),
    )
    .await
}

/// One value as a line of `indicator_latest.indicator_values`: code, window, integer, real, by
/// tabs. A real is written in Rust's shortest form that reads back to the same number.
fn encode_value(text: &mut String, value: &StoredIndicator) {
    use std::fmt::Write;
    debug_assert!(!value.code.contains(['\t', '\n']), "{}", value.code);
    let int = value.value_int.map(|n| n.to_string()).unwrap_or_default();
    let real = value.value_real.map(|x| x.to_string()).unwrap_or_default();
    let _ = writeln!(text, "{}\t{}\t{int}\t{real}", value.code, value.window_days);
}

pub(crate) fn decode_values(cif_no: &str, text: &str) -> Result<Vec<StoredIndicator>> {
    let bad = |line: &str| {
        corrupt(kam_core::ParseError::new(
            "indicator_values",
            format!("{cif_no}: {line}"),
            "not a line of code, window, integer, real",
            "不是“代码、窗口、整数、实数”格式的一行",
        ))
    };
    text.lines()
        .map(|line| {
            let mut fields = line.split('\t');
            let (Some(code), Some(window), Some(int), Some(real), None) = (
                fields.next(),
                fields.next(),
                fields.next(),
                fields.next(),
                fields.next(),
            ) else {
                return Err(bad(line));
            };
            Ok(StoredIndicator {
                cif_no: cif_no.to_owned(),
                code: code.to_owned(),
                window_days: window.parse().map_err(|_| bad(line))?,
                value_int: (!int.is_empty())
                    .then(|| int.parse())
                    .transpose()
                    .map_err(|_| bad(line))?,
                value_real: (!real.is_empty())
                    .then(|| real.parse())
                    .transpose()
                    .map_err(|_| bad(line))?,
            })
        })
        .collect()
}

impl UserStore {
    /// The as-of date of the latest batch run (not customer data: every user may know it).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn latest_batch_date(&self) -> Result<Option<NaiveDate>> {
        self.store().latest_batch_date().await
    }

    /// Batch runs, newest first, for administrators (`Role::may_administer`).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn batch_runs(&self) -> Result<Vec<BatchRun>> {
        self.require(Role::may_administer)?;
        self.store().batch_runs().await
    }

    /// The stored values of one customer (latest snapshot), by code and window: none before its
    /// first batch; `NotFound` for a customer out of reach, exactly as for one that does not
    /// exist.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn indicators_of(&self, cif_no: &str) -> Result<Vec<StoredIndicator>> {
        let mut sql = self.visible(
            "select v.indicator_values from customer c \
             left join indicator_latest v on v.customer_id = c.id",
        );
        sql.push(" and c.cif_no = ").bind(cif_no);
        let row = self.fetch_visible(sql, "customer", cif_no).await?;
        let text: Option<String> = row.try_get(0)?;
        let mut values = match text {
            Some(text) => decode_values(cif_no, &text)?,
            None => Vec::new(),
        };
        values.sort_by(|a, b| (&a.code, a.window_days).cmp(&(&b.code, b.window_days)));
        Ok(values)
    }
}

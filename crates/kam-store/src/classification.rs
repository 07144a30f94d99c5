//! The batch's classifications in the store: each customer's retail tier, account types, value and
//! board (latest as-of), and the scores people give on the board's manual criteria. Alerts are
//! in `alert.rs`.

use std::collections::HashMap;

use chrono::NaiveDate;
use kam_core::{
    classes::RetailTier,
    codec::{BoardScores, MonthSeries, join_codes, parse_codes},
    customer::AccountType,
    value::Trend,
};
use sqlx::{Row, any::AnyRow};

use crate::{
    Actor, Error, Result, Store, UserStore, audit,
    customer::parse_date,
    org::corrupt,
    sql::{Sql, Values},
};

/// One customer's classifications as of one date.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredClass {
    pub cif_no: String,
    pub as_of: NaiveDate,
    pub rule_id: String,
    pub rule_version: i64,
    /// `None` for none (and for corporates).
    pub retail_tier: Option<RetailTier>,
    pub retail_tier_name: Option<String>,
    pub retail_tier_name_en: Option<String>,
    /// The column the retail tier read, e.g. `avg_aum_30d`, and its value.
    pub retail_indicator: String,
    pub retail_value: Option<i64>,
    /// Most important first; empty for none.
    pub account_types: Vec<AccountType>,
    pub key_account: bool,
    /// The contribution per month, oldest first.
    pub value_months: MonthSeries,
    /// The same months' average daily deposit, average loan outstanding and fee income (the
    /// 360's trends).
    pub deposit_months: MonthSeries,
    pub loan_months: MonthSeries,
    pub fee_months: MonthSeries,
    pub value_total: i64,
    pub value_slope: Option<f64>,
    pub value_trend: Trend,
    pub value_score: i64,
    /// The board id when the customer is a candidate, with its scores per criterion.
    pub board: Option<String>,
    pub board_scores: Option<BoardScores>,
    pub board_total: Option<i64>,
    pub board_average: Option<f64>,
    pub starred: bool,
}

/// A class row's values, column by column (the column list comes from the same calls).
fn class_values(c: &StoredClass) -> Values {
    Values::new()
        .put("as_of", c.as_of.to_string())
        .put("rule_id", c.rule_id.as_str())
        .put("rule_version", c.rule_version)
        .put("retail_tier", c.retail_tier.map(RetailTier::code))
        .put("retail_tier_name", c.retail_tier_name.as_deref())
        .put("retail_tier_name_en", c.retail_tier_name_en.as_deref())
        .put("retail_indicator", c.retail_indicator.as_str())
        .put("retail_value", c.retail_value)
        .put("account_types", join_codes(&c.account_types))
        .put("key_account", i64::from(c.key_account))
        .put("value_months", c.value_months.to_string())
        .put("value_total", c.value_total)
        .put("value_slope", c.value_slope)
        .put("value_trend", c.value_trend.code())
        .put("value_score", c.value_score)
        .put("board", c.board.as_deref())
        .put(
            "board_scores",
            c.board_scores.as_ref().map(ToString::to_string),
        )
        .put("board_total", c.board_total)
        .put("board_average", c.board_average)
        .put("starred", i64::from(c.starred))
        .put("deposit_months", c.deposit_months.to_string())
        .put("loan_months", c.loan_months.to_string())
        .put("fee_months", c.fee_months.to_string())
}

impl Store {
    /// Replaces every customer's classifications with those of `as_of`, in one transaction with
    /// its audit event. Rows of customers the store does not know are skipped.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn save_classes(
        &self,
        actor: &Actor,
        as_of: NaiveDate,
        classes: &[StoredClass],
    ) -> Result<usize> {
        let rows = classes.iter().map(|c| (c.cif_no.as_str(), class_values(c)));
        self.replace_for_customers(
            actor,
            Sql::new("delete from customer_class"),
            "customer_class",
            rows,
            ("customer_class", &as_of.to_string(), "customers"),
        )
        .await
    }
}

impl UserStore {
    /// One customer's latest classifications; `NotFound` when it does not exist, is out of reach,
    /// or the batch has not run.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn class_of(&self, cif_no: &str) -> Result<StoredClass> {
        let mut sql = self.visible(&class_columns());
        sql.push(" and c.cif_no = ").bind(cif_no);
        let row = self.fetch_visible(sql, "customer_class", cif_no).await?;
        class_of_row(&row)
    }

    /// Every latest classification in reach, by customer number.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn classes(&self) -> Result<Vec<StoredClass>> {
        let mut sql = self.visible(&class_columns());
        sql.push(" order by c.cif_no");
        sql.query()
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(class_of_row)
            .collect()
    }

    /// Sets (or replaces) a customer's manual scores on a board — one row of the board's form —
    /// in one transaction, each with its audit event: all are written or none. Checked in the
    /// writing transaction: a customer out of reach is `NotFound` (like a missing one); a
    /// read-only scope (auditor, risk officer, the console's whole-bank read) is `ReadOnly`;
    /// either refusal is audited and nothing else is written. A form passes what it showed of
    /// each score (`seen`): if someone else entered one since, the write is `Conflict` and
    /// nothing is written.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn set_manual_scores(
        &self,
        cif_no: &str,
        board: &str,
        entries: &[ScoreEntry],
    ) -> Result<()> {
        let keys: Vec<&str> = entries.iter().map(|e| e.criterion.as_str()).collect();
        let key = format!("{cif_no}/{board}/{}", keys.join("+"));
        let mut find = self.visible("select c.id from customer c");
        find.push(" and c.cif_no = ").bind(cif_no);
        let (mut tx, found) = self
            .begin_customer_write(find, "score", "manual_score", &key)
            .await?;
        let id: i64 = found.try_get(0)?;
        let now = audit::now();
        for entry in entries {
            let criterion = entry.criterion.as_str();
            let key = format!("{cif_no}/{board}/{criterion}");
            if entry.seen != Seen::Unchecked {
                let stored: Option<String> = score_row("select entered_at", id, board, criterion)
                    .query()
                    .fetch_optional(&mut *tx)
                    .await?
                    .map(|row| row.try_get(0))
                    .transpose()?;
                let expected = match &entry.seen {
                    Seen::At(at) => Some(at.as_str()),
                    _ => None,
                };
                if stored.as_deref() != expected {
                    return Err(Error::Conflict {
                        entity: "manual_score",
                        key,
                    });
                }
            }
            score_row("delete", id, board, criterion)
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
                .bind(i64::from(entry.score))
                .push(", ")
                .bind(self.actor().name.as_str())
                .push(", ")
                .bind(now.as_str())
                .push(")")
                .query()
                .execute(&mut *tx)
                .await?;
            audit::record(
                &mut tx,
                self.actor(),
                "score",
                "manual_score",
                &key,
                &entry.score.to_string(),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// `head` (a select list or `delete`) on one customer's score of one criterion of a board.
fn score_row(head: &str, customer: i64, board: &str, criterion: &str) -> Sql {
    let mut sql = Sql::new(&format!("{head} from manual_score where customer_id = "));
    sql.bind(customer)
        .push(" and board = ")
        .bind(board)
        .push(" and criterion = ")
        .bind(criterion);
    sql
}

/// One manual score to enter, with what the form showed of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoreEntry {
    pub criterion: String,
    pub score: u8,
    pub seen: Seen,
}

impl ScoreEntry {
    pub fn new(criterion: &str, score: u8, seen: Seen) -> Self {
        Self {
            criterion: criterion.to_owned(),
            score,
            seen,
        }
    }
}

/// What a form showed of a record when it was opened: the write goes ahead only if that is
/// still so, so two people never silently overwrite each other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// No check: the console's `kam score set` and an import state the value outright.
    Unchecked,
    /// The form showed no value.
    Nothing,
    /// The form showed the value entered at this instant (as stored).
    At(String),
}

/// One manual score as entered: by whom and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManualScore {
    pub cif_no: String,
    pub criterion: String,
    pub score: u8,
    pub entered_by: String,
    pub entered_at: String,
}

impl UserStore {
    /// The manual scores of one board on the customers in reach, with who entered them and when.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn board_manual_scores(&self, board: &str) -> Result<Vec<ManualScore>> {
        let mut sql = self.visible(
            "select c.cif_no, s.criterion, s.score, s.entered_by, s.entered_at from customer c \
             join manual_score s on s.customer_id = c.id",
        );
        sql.push(" and s.board = ").bind(board);
        sql.push(" order by c.cif_no, s.criterion");
        sql.query()
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|row| {
                let score: i64 = row.try_get(2)?;
                Ok(ManualScore {
                    cif_no: row.try_get(0)?,
                    criterion: row.try_get(1)?,
                    score: u8::try_from(score).unwrap_or(0),
                    entered_by: row.try_get(3)?,
                    entered_at: row.try_get(4)?,
                })
            })
            .collect()
    }
}

impl Store {
    /// Every manual score of one board, by customer number and criterion (for the batch).
    #[tracing::instrument(level = "debug", skip_all)]
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

    /// Loads manual scores for the demo bank — `(customer number, criterion, score)`, entered by
    /// `entered_by` now — in one transaction with one audit row; unknown numbers are skipped.
    /// Returns how many were written.
    pub async fn load_manual_scores(
        &self,
        actor: &Actor,
        board: &str,
        entered_by: &str,
        scores: &[(String, String, u8)],
    ) -> Result<usize> {
        let mut tx = self.begin_write().await?;
        let ids = crate::indicator::customer_ids(&mut tx).await?;
        let now = audit::now();
        let rows: Vec<Vec<crate::sql::Arg>> = scores
            .iter()
            .filter_map(|(cif, criterion, score)| {
                Some(vec![
                    (*ids.get(cif)?).into(),
                    board.into(),
                    criterion.as_str().into(),
                    i64::from(*score).into(),
                    entered_by.into(),
                    now.as_str().into(),
                ])
            })
            .collect();
        let written = crate::bulk::insert_rows(
            &mut tx,
            self.backend().max_binds(),
            "insert into manual_score (customer_id, board, criterion, score, entered_by, entered_at)",
            "",
            rows,
        )
        .await?;
        audit::record(
            &mut tx,
            actor,
            "bulk_load",
            "manual_score",
            board,
            &format!("{written} scores by {entered_by}"),
        )
        .await?;
        tx.commit().await?;
        Ok(written)
    }
}

/// The columns of a `StoredClass` as a select list, each under its own name with a `k_` prefix, so
/// a statement that reads other tables beside it (the 360's head) reads it by name too.
pub(crate) const CLASS_FIELDS: &str = "c.cif_no as k_cif_no, k.as_of as k_as_of, \
    k.rule_id as k_rule_id, k.rule_version as k_rule_version, k.retail_tier as k_retail_tier, \
    k.retail_tier_name as k_retail_tier_name, k.retail_tier_name_en as k_retail_tier_name_en, \
    k.retail_indicator as k_retail_indicator, \
    k.retail_value as k_retail_value, k.account_types as k_account_types, \
    k.key_account as k_key_account, k.value_months as k_value_months, \
    k.value_total as k_value_total, k.value_slope as k_value_slope, \
    k.value_trend as k_value_trend, k.value_score as k_value_score, k.board as k_board, \
    k.board_scores as k_board_scores, k.board_total as k_board_total, \
    k.board_average as k_board_average, k.starred as k_starred, \
    k.deposit_months as k_deposit_months, k.loan_months as k_loan_months, \
    k.fee_months as k_fee_months";

fn class_columns() -> String {
    format!("select {CLASS_FIELDS} from customer_class k join customer c on c.id = k.customer_id")
}

/// A `StoredClass` from `CLASS_FIELDS`, by name; `None` when the (left-joined) row is absent.
pub(crate) fn class_from_row(row: &AnyRow) -> Result<Option<StoredClass>> {
    let Some(as_of) = row.try_get::<Option<String>, _>("k_as_of")? else {
        return Ok(None);
    };
    let text = |name: &str| row.try_get::<String, _>(name);
    let series = |name: &str| MonthSeries::parse(&text(name)?).map_err(corrupt);
    Ok(Some(StoredClass {
        cif_no: text("k_cif_no")?,
        as_of: parse_date("as_of", &as_of)?,
        rule_id: text("k_rule_id")?,
        rule_version: row.try_get("k_rule_version")?,
        retail_tier: row
            .try_get::<Option<String>, _>("k_retail_tier")?
            .map(|t| RetailTier::parse(&t))
            .transpose()
            .map_err(corrupt)?,
        retail_tier_name: row.try_get("k_retail_tier_name")?,
        retail_tier_name_en: row.try_get("k_retail_tier_name_en")?,
        retail_indicator: text("k_retail_indicator")?,
        retail_value: row.try_get("k_retail_value")?,
        account_types: parse_codes(&text("k_account_types")?, AccountType::parse)
            .map_err(corrupt)?,
        key_account: row.try_get::<i64, _>("k_key_account")? != 0,
        value_months: series("k_value_months")?,
        value_total: row.try_get("k_value_total")?,
        value_slope: row.try_get("k_value_slope")?,
        value_trend: Trend::parse(&text("k_value_trend")?).map_err(corrupt)?,
        value_score: row.try_get("k_value_score")?,
        board: row.try_get("k_board")?,
        board_scores: row
            .try_get::<Option<String>, _>("k_board_scores")?
            .map(|s| BoardScores::parse(&s))
            .transpose()
            .map_err(corrupt)?,
        board_total: row.try_get("k_board_total")?,
        board_average: row.try_get("k_board_average")?,
        starred: row.try_get::<i64, _>("k_starred")? != 0,
        deposit_months: series("k_deposit_months")?,
        loan_months: series("k_loan_months")?,
        fee_months: series("k_fee_months")?,
    }))
}

/// `class_from_row` for a statement that reads only classes (never absent).
fn class_of_row(row: &AnyRow) -> Result<StoredClass> {
    class_from_row(row)?.ok_or_else(|| {
        corrupt(kam_core::ParseError::new(
            "as_of",
            "",
            "a class row without its date",
            "分类记录缺少日期",
        ))
    })
}

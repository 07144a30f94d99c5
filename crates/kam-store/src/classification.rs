//! The batch's classifications in the store: each customer's retail tier, account types, value and
//! board (latest as-of), and the scores people give on the board's manual criteria. Alerts are
//! in `alert.rs`.

use std::collections::HashMap;

use chrono::NaiveDate;
use sqlx::Row;

use crate::{
    Actor, Result, Store, UserStore, audit,
    customer::parse_date,
    sql::{Arg, Sql},
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
}

impl UserStore {
    /// One customer's latest classifications; `NotFound` when it does not exist, is out of reach,
    /// or the batch has not run.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn class_of(&self, cif_no: &str) -> Result<StoredClass> {
        let mut sql = self.visible(&class_columns());
        sql.push(" and c.cif_no = ").bind(cif_no);
        let row = self.fetch_visible(sql, "customer_class", cif_no).await?;
        class_from_row(&row)
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
            .map(class_from_row)
            .collect()
    }

    /// Sets (or replaces) one manual score on a board, with its audit event. Checked in the
    /// writing transaction: a customer out of reach is `NotFound` (like a missing one); a
    /// read-only scope (auditor, risk officer, the console's whole-bank read) is `ReadOnly`;
    /// either refusal is audited and nothing else is written.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn set_manual_score(
        &self,
        cif_no: &str,
        board: &str,
        criterion: &str,
        score: u8,
    ) -> Result<()> {
        let key = format!("{cif_no}/{board}/{criterion}");
        let mut find = self.visible("select c.id from customer c");
        find.push(" and c.cif_no = ").bind(cif_no);
        let (mut tx, found) = self
            .begin_customer_write(find, "score", "manual_score", &key)
            .await?;
        let id: i64 = found.try_get(0)?;
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
            .bind(self.actor().name.as_str())
            .push(", ")
            .bind(audit::now())
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
            &score.to_string(),
        )
        .await?;
        tx.commit().await?;
        Ok(())
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

//! The nights of `kam nightly`: each day it took, how it ended, its files and rows, its batch's
//! time and what failed — written by the job, read by administrators on their page.

use chrono::NaiveDate;
use kam_core::{code_enum, user::Role};
use sqlx::Row;

use crate::{Actor, Result, Store, UserStore, audit, customer::parse_date, org::corrupt, sql::Sql};

code_enum! {
    /// How a night's day ended.
    pub enum NightOutcome as "night_outcome" {
        /// Imported, batched and archived.
        Done = "done",
        /// Files were refused: the day's folder went to quarantine with the reason.
        Quarantined = "quarantined",
        /// The job could not finish the day (the batch failed, the store went away): it is done
        /// again on the next run.
        Failed = "failed",
    }
}

/// One night's day, as the job records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NightRun {
    pub business_date: NaiveDate,
    pub outcome: NightOutcome,
    pub files_imported: i64,
    pub files_already: i64,
    pub files_refused: i64,
    pub rows_rejected: i64,
    /// The batch's time, when it ran.
    pub batch_millis: Option<i64>,
    /// What failed, or why the day was quarantined.
    pub reason: Option<String>,
    pub started_at: String,
    pub finished_at: String,
}

impl Store {
    /// Records how a day of the night ended (audited as the job).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn record_night(&self, actor: &Actor, night: &NightRun) -> Result<()> {
        let mut tx = self.begin_write().await?;
        Sql::new(
            "insert into night_run (business_date, outcome, files_imported, files_already, \
             files_refused, rows_rejected, batch_millis, reason, started_at, finished_at) values (",
        )
        .bind(night.business_date.to_string())
        .push(", ")
        .bind(night.outcome.as_str())
        .push(", ")
        .bind(night.files_imported)
        .push(", ")
        .bind(night.files_already)
        .push(", ")
        .bind(night.files_refused)
        .push(", ")
        .bind(night.rows_rejected)
        .push(", ")
        .bind(night.batch_millis)
        .push(", ")
        .bind(night.reason.clone())
        .push(", ")
        .bind(night.started_at.as_str())
        .push(", ")
        .bind(night.finished_at.as_str())
        .push(")")
        .query()
        .execute(&mut *tx)
        .await?;
        audit::record(
            &mut tx,
            actor,
            "night",
            "night_run",
            &night.business_date.to_string(),
            night.outcome.as_str(),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

impl UserStore {
    /// The latest nights, newest first, for administrators (`Role::may_administer`).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn nights(&self, limit: i64) -> Result<Vec<NightRun>> {
        self.require(Role::may_administer)?;
        let rows = Sql::new(
            "select business_date, outcome, files_imported, files_already, files_refused, \
             rows_rejected, batch_millis, reason, started_at, finished_at from night_run \
             order by id desc limit ",
        )
        .bind(limit)
        .query()
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(NightRun {
                    business_date: parse_date(
                        "business_date",
                        &row.try_get::<String, _>("business_date")?,
                    )?,
                    outcome: NightOutcome::parse(&row.try_get::<String, _>("outcome")?)
                        .map_err(corrupt)?,
                    files_imported: row.try_get("files_imported")?,
                    files_already: row.try_get("files_already")?,
                    files_refused: row.try_get("files_refused")?,
                    rows_rejected: row.try_get("rows_rejected")?,
                    batch_millis: row.try_get("batch_millis")?,
                    reason: row.try_get("reason")?,
                    started_at: row.try_get("started_at")?,
                    finished_at: row.try_get("finished_at")?,
                })
            })
            .collect()
    }
}

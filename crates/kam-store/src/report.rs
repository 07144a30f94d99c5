//! Weekly reports (周报) on the user handle: one per user and week, saved as a draft by version
//! and submitted once (then kept as submitted); read by their author and by the managers whose
//! reach covers the author (kam-core's `Scope::reads_reports_of`); the team's reports of a week
//! with who has not submitted.

use chrono::NaiveDate;
use kam_core::{ParseError, report::check_body, user::User};
use sqlx::{Row, any::AnyRow};

use crate::{
    Error, Result, UserStore, audit,
    customer::parse_date,
    org::corrupt,
    sql::{Sql, Values},
    user::{user_columns_of, user_from_row, user_with_unit_on},
};

/// A report as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredReport {
    pub username: String,
    pub week: NaiveDate,
    pub body: String,
    pub submitted: bool,
    /// When it was submitted (UTC, ISO 8601).
    pub submitted_at: Option<String>,
    pub updated_at: String,
    pub version: i64,
}

/// A member of the team with their report of the week, if any.
#[derive(Debug, Clone)]
pub struct TeamReport {
    pub user: User,
    pub report: Option<StoredReport>,
}

const REPORT_COLUMNS: &str =
    "r.week_start, r.body, r.status, r.submitted_at, r.updated_at, r.version, u.username as author";

fn report_from_row(row: &AnyRow) -> Result<StoredReport> {
    Ok(StoredReport {
        username: row.try_get("author")?,
        week: parse_date("week_start", &row.try_get::<String, _>("week_start")?)?,
        body: row.try_get("body")?,
        submitted: row.try_get::<String, _>("status")? == "submitted",
        submitted_at: row.try_get("submitted_at")?,
        updated_at: row.try_get("updated_at")?,
        version: row.try_get("version")?,
    })
}

/// A new report's row (version 1): the one writer of `weekly_report`, for a user's first save
/// and the bulk load alike.
fn report_values(user: i64, week: NaiveDate, body: &str, submitted: bool, now: &str) -> Values {
    Values::new()
        .put("user_id", user)
        .put("week_start", week.to_string())
        .put("body", body)
        .put("status", if submitted { "submitted" } else { "draft" })
        .put("submitted_at", submitted.then(|| now.to_owned()))
        .put("version", 1_i64)
        .put("created_at", now)
        .put("updated_at", now)
}

impl crate::Store {
    /// Loads a bank's history of weekly reports (the synthetic bank's) in one transaction with
    /// one audit row; reports of unknown users are skipped. Returns how many were written.
    pub async fn load_reports(
        &self,
        actor: &crate::Actor,
        reports: &[kam_core::reference::ReportRecord],
    ) -> Result<usize> {
        let mut tx = self.begin_write().await?;
        let users: std::collections::HashMap<String, i64> =
            sqlx::query("select username, id from app_user")
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<i64, _>(1)?)))
                .collect::<Result<_>>()?;
        let now = audit::now();
        let rows = reports
            .iter()
            .filter_map(|r| {
                let user = *users.get(&r.username)?;
                Some(report_values(user, r.week, &r.body, r.submitted, &now))
            })
            .collect();
        let written = crate::bulk::insert_values(
            &mut tx,
            self.backend().max_binds(),
            "weekly_report",
            rows,
            None,
        )
        .await?;
        audit::record(
            &mut tx,
            actor,
            "bulk_load",
            "weekly_report",
            "history",
            &format!("{written} reports"),
        )
        .await?;
        tx.commit().await?;
        Ok(written)
    }
}

impl UserStore {
    /// `username`'s report of the week starting `week`, if written; `NotFound` when the user is
    /// unknown or their reports are out of this handle's reach.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn report(&self, username: &str, week: NaiveDate) -> Result<Option<StoredReport>> {
        let reads = user_with_unit_on(self.pool(), username)
            .await?
            .is_some_and(|(author, unit)| self.scope().reads_reports_of(&author, &unit));
        if !reads {
            return Err(Error::NotFound {
                entity: "weekly_report",
                key: format!("{username}/{week}"),
            });
        }
        let row = Sql::new(&format!(
            "select {REPORT_COLUMNS} from weekly_report r join app_user u on u.id = r.user_id where u.username = "
        ))
        .bind(username)
        .push(" and r.week_start = ")
        .bind(week.to_string())
        .query()
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(report_from_row).transpose()
    }

    /// Saves the signed-in user's report of the week starting `week` — `seen` is the version
    /// read (0 for a first save) — and submits it when `submit`. A submitted report is not
    /// changed again (`Invalid` on `status`); someone's save since `seen` is `Conflict`; a
    /// read-only scope is `ReadOnly` (audited). Returns the new version.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn save_report(
        &self,
        week: NaiveDate,
        body: &str,
        submit: bool,
        seen: i64,
    ) -> Result<i64> {
        let key = format!("{}/{week}", self.actor().name);
        let mut tx = self.store().begin_write().await?;
        let Some(user) = self.user().filter(|_| self.scope().may_write()) else {
            return Err(self
                .refuse(tx, "save", "weekly_report", &key, Error::ReadOnly)
                .await);
        };
        let body = check_body(body)?;
        let stored = Sql::new("select status, version from weekly_report where user_id = ")
            .bind(user.id.0)
            .push(" and week_start = ")
            .bind(week.to_string())
            .query()
            .fetch_optional(&mut *tx)
            .await?;
        let now = audit::now();
        let status = if submit { "submitted" } else { "draft" };
        let version = match stored {
            None if seen == 0 => {
                report_values(user.id.0, week, &body, submit, &now)
                    .into_insert("weekly_report")
                    .query()
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| Error::from_write(e, "weekly_report", &key))?;
                1
            }
            Some(row) if row.try_get::<i64, _>("version")? == seen => {
                if row.try_get::<String, _>("status")? == "submitted" {
                    return Err(Error::Invalid(ParseError::new(
                        "status",
                        "submitted",
                        "a submitted report is kept as it was submitted",
                        "周报已提交，不能再修改",
                    )));
                }
                Values::new()
                    .put("body", body.as_str())
                    .put("status", status)
                    .put("submitted_at", submit.then(|| now.clone()))
                    .put("version", seen + 1)
                    .put("updated_at", now.as_str())
                    .into_update("weekly_report")
                    .push(" where user_id = ")
                    .bind(user.id.0)
                    .push(" and week_start = ")
                    .bind(week.to_string())
                    .query()
                    .execute(&mut *tx)
                    .await?;
                seen + 1
            }
            _ => {
                return Err(Error::Conflict {
                    entity: "weekly_report",
                    key,
                });
            }
        };
        let action = if submit { "submit" } else { "save" };
        audit::record(
            &mut tx,
            self.actor(),
            action,
            "weekly_report",
            &key,
            &format!("version {version}"),
        )
        .await?;
        tx.commit().await?;
        Ok(version)
    }

    /// The week's reports of everyone whose reports this handle reads who serves customers (RMs
    /// and sub-branch presidents in reach; the reader too), by user name — `report` is `None`
    /// for those who have written none.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn team_reports(&self, week: NaiveDate) -> Result<Vec<TeamReport>> {
        let users = Sql::new(&format!(
            "select o.path as unit_path, {} from app_user u join org_unit o on o.id = u.org_unit_id \
             where u.disabled = 0 and u.role in ('relationship_manager', 'sub_branch_president') \
             order by u.username",
            user_columns_of("u")
        ))
        .query()
        .fetch_all(self.pool())
        .await?;
        let mut team = Vec::new();
        for row in &users {
            let user = user_from_row(row)?;
            let unit = kam_core::org::OrgPath::parse(&row.try_get::<String, _>("unit_path")?)
                .map_err(corrupt)?;
            if self.scope().reads_reports_of(&user, &unit) {
                team.push(user);
            }
        }
        let reports = Sql::new(&format!(
            "select {REPORT_COLUMNS} from weekly_report r join app_user u on u.id = r.user_id where r.week_start = "
        ))
        .bind(week.to_string())
        .query()
        .fetch_all(self.pool())
        .await?;
        let mut by_author: std::collections::HashMap<String, StoredReport> = reports
            .iter()
            .map(|row| report_from_row(row).map(|r| (r.username.clone(), r)))
            .collect::<Result<_>>()?;
        Ok(team
            .into_iter()
            .map(|user| TeamReport {
                report: by_author.remove(user.username.as_str()),
                user,
            })
            .collect())
    }
}

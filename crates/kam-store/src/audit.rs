//! The audit trail: who changed what and when, written by the store in the changing transaction.

use kam_core::{id::UserId, user::Role};
use sqlx::{Any, Row, Transaction};

use crate::{Result, Store, UserStore, sql::Sql};

/// Who is acting: a signed-in user, or a named system job (`kam import`, `kam demo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: Option<UserId>,
    pub name: String,
}

impl Actor {
    pub fn user(id: UserId, username: &str) -> Self {
        Self {
            user_id: Some(id),
            name: username.to_owned(),
        }
    }

    pub fn system(job: &str) -> Self {
        Self {
            user_id: None,
            name: format!("system:{job}"),
        }
    }
}

/// One row of the audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_key: String,
    pub detail: String,
}

pub(crate) fn now() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// Writes one audit row inside `tx`; the change and its record commit or vanish together.
pub(crate) async fn record(
    tx: &mut Transaction<'_, Any>,
    actor: &Actor,
    action: &str,
    entity: &str,
    entity_key: &str,
    detail: &str,
) -> Result<()> {
    Sql::new("insert into audit_event (at, actor_user_id, actor, action, entity, entity_key, detail) values (")
        .bind(now())
        .push(", ")
        .bind(actor.user_id.map(|id| id.0))
        .push(", ")
        .bind(actor.name.as_str())
        .push(", ")
        .bind(action)
        .push(", ")
        .bind(entity)
        .push(", ")
        .bind(entity_key)
        .push(", ")
        .bind(detail)
        .push(")")
        .query()
        .execute(&mut **tx)
        .await?;
    Ok(())
}

impl Store {
    /// Records an event that is not a change (a reveal of a personal identifier, an export, a
    /// sign-in) in a transaction of its own.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn record_event(
        &self,
        actor: &Actor,
        action: &str,
        entity: &str,
        entity_key: &str,
        detail: &str,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        record(&mut tx, actor, action, entity, entity_key, detail).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The newest audit events first, optionally only those whose actor, action, entity or key
    /// contains `search`. People read them through `UserStore::audit_events`.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn audit_events(&self, search: Option<&str>, limit: i64) -> Result<Vec<AuditEvent>> {
        let filter = AuditFilter {
            text: search.map(str::to_owned),
            limit,
            ..AuditFilter::default()
        };
        Ok(self.audit_search(&filter).await?.0)
    }

    /// The audit events matching `filter`, newest first, and how many match in all.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn audit_search(&self, filter: &AuditFilter) -> Result<(Vec<AuditEvent>, i64)> {
        let mut count = Sql::new("select count(*) as n from audit_event where 1 = 1");
        push_audit_filter(&mut count, filter);
        let total: i64 = count.query().fetch_one(self.pool()).await?.try_get("n")?;
        let mut sql = Sql::new(
            "select id, at, actor, action, entity, entity_key, detail from audit_event where 1 = 1",
        );
        push_audit_filter(&mut sql, filter);
        sql.push(" order by id desc limit ")
            .bind(filter.limit.max(1))
            .push(" offset ")
            .bind(filter.offset.max(0));
        let rows = sql.query().fetch_all(self.pool()).await?;
        rows.iter()
            .map(|row| {
                Ok(AuditEvent {
                    id: row.try_get("id")?,
                    at: row.try_get("at")?,
                    actor: row.try_get("actor")?,
                    action: row.try_get("action")?,
                    entity: row.try_get("entity")?,
                    entity_key: row.try_get("entity_key")?,
                    detail: row.try_get("detail")?,
                })
            })
            .collect::<Result<Vec<_>>>()
            .map(|events| (events, total))
    }
}

/// What an auditor looks for in the trail; empty means everything.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Contained in the actor, action, entity or key.
    pub text: Option<String>,
    /// The actor's user name, exactly.
    pub actor: Option<String>,
    /// The action (`view`, `reveal`, `export`, `score` …), exactly; `*_refused` with `refused`.
    pub action: Option<String>,
    /// The record's key (a customer number, an alert's number) contained in the key.
    pub key: Option<String>,
    /// Instants (as stored: RFC 3339 UTC with milliseconds) from, inclusive, and until, exclusive:
    /// the caller turns the bank's days into them.
    pub from: Option<String>,
    pub until: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

fn push_audit_filter(sql: &mut Sql, filter: &AuditFilter) {
    let like = |text: &str| {
        format!(
            "%{}%",
            text.replace('!', "!!")
                .replace('%', "!%")
                .replace('_', "!_")
        )
    };
    if let Some(text) = filter.text.as_deref().filter(|t| !t.is_empty()) {
        let pattern = like(text);
        sql.push(" and (actor like ")
            .bind(pattern.clone())
            .push(" escape '!' or action like ")
            .bind(pattern.clone())
            .push(" escape '!' or entity like ")
            .bind(pattern.clone())
            .push(" escape '!' or entity_key like ")
            .bind(pattern)
            .push(" escape '!')");
    }
    if let Some(actor) = filter.actor.as_deref().filter(|t| !t.is_empty()) {
        sql.push(" and actor = ").bind(actor);
    }
    if let Some(action) = filter.action.as_deref().filter(|t| !t.is_empty()) {
        sql.push(" and action = ").bind(action);
    }
    if let Some(key) = filter.key.as_deref().filter(|t| !t.is_empty()) {
        sql.push(" and entity_key like ")
            .bind(like(key))
            .push(" escape '!'");
    }
    if let Some(from) = &filter.from {
        sql.push(" and at >= ").bind(from.as_str());
    }
    if let Some(until) = &filter.until {
        sql.push(" and at < ").bind(until.as_str());
    }
}

impl UserStore {
    /// The audit trail as `Store::audit_events`, for roles that may read it (kam-core's
    /// `Role::may_read_audit`); `NotPermitted` for the others.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn audit_events(&self, search: Option<&str>, limit: i64) -> Result<Vec<AuditEvent>> {
        self.require(Role::may_read_audit)?;
        self.store().audit_events(search, limit).await
    }

    /// `Store::audit_search`, for roles that may read the trail; `NotPermitted` for the others.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn audit_search(&self, filter: &AuditFilter) -> Result<(Vec<AuditEvent>, i64)> {
        self.require(Role::may_read_audit)?;
        self.store().audit_search(filter).await
    }

    /// Records that this user exported the audit trail (the export of the trail is itself in
    /// the trail), for roles that may read it.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn record_audit_export(&self, detail: &str) -> Result<()> {
        self.require(Role::may_read_audit)?;
        self.store()
            .record_event(self.actor(), "export", "audit_event", "audit", detail)
            .await
    }
}

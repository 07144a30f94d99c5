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
        let mut sql =
            Sql::new("select id, at, actor, action, entity, entity_key, detail from audit_event");
        if let Some(text) = search {
            let pattern = format!("%{text}%");
            sql.push(" where actor like ")
                .bind(pattern.clone())
                .push(" or action like ")
                .bind(pattern.clone())
                .push(" or entity like ")
                .bind(pattern.clone())
                .push(" or entity_key like ")
                .bind(pattern);
        }
        sql.push(" order by id desc limit ").bind(limit);
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
            .collect()
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
}

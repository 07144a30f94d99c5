//! Users in SQL: creation (with the role ↔ unit rule), listing, disabling, and their scope.

use kam_core::{
    id::{OrgUnitId, UserId},
    org::Line,
    user::{NewUser, Role, User, Username},
};
use sqlx::{Any, Row, Transaction, any::AnyRow};

use crate::{
    Actor, Error, Result, Store, UserStore, audit,
    org::{corrupt, org_unit_by_code_on},
    sql::{Arg, Sql},
};

const USER_COLUMNS: &str =
    "select id, username, display_name, role, org_unit_id, line, disabled from app_user";

/// The user columns of `user_from_row`, qualified by a table alias, for joins.
pub(crate) fn user_columns_of(alias: &str) -> String {
    [
        "id",
        "username",
        "display_name",
        "role",
        "org_unit_id",
        "line",
        "disabled",
    ]
    .map(|c| format!("{alias}.{c}"))
    .join(", ")
}

pub(crate) fn user_from_row(row: &AnyRow) -> Result<User> {
    Ok(User {
        id: UserId(row.try_get("id")?),
        username: Username::parse(&row.try_get::<String, _>("username")?).map_err(corrupt)?,
        display_name: row.try_get("display_name")?,
        role: Role::parse(&row.try_get::<String, _>("role")?).map_err(corrupt)?,
        org_unit_id: OrgUnitId(row.try_get("org_unit_id")?),
        line: row
            .try_get::<Option<String>, _>("line")?
            .map(|l| Line::parse(&l))
            .transpose()
            .map_err(corrupt)?,
        disabled: row.try_get::<i64, _>("disabled")? != 0,
    })
}

impl Store {
    /// Creates a user with an already hashed password (hashing is kam-core's, salting the caller's).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_user(
        &self,
        actor: &Actor,
        user: &NewUser,
        password_hash: &str,
    ) -> Result<User> {
        let mut tx = self.begin_write().await?;
        let created = insert_user(&mut tx, actor, user, password_hash).await?;
        tx.commit().await?;
        Ok(created)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn list_users(&self) -> Result<Vec<User>> {
        let rows = Sql::new(&format!(
            "{USER_COLUMNS} order by org_unit_id, role, username"
        ))
        .query()
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(user_from_row).collect()
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn user_by_username(&self, username: &str) -> Result<User> {
        user_by_username_on(self.pool(), username).await
    }

    /// The stored PHC hash, for the sign-in path only.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn password_hash(&self, user_id: UserId) -> Result<String> {
        let hash: String = Sql::new("select password_hash from app_user where id = ")
            .bind(user_id.0)
            .query()
            .fetch_one(self.pool())
            .await?
            .try_get("password_hash")?;
        Ok(hash)
    }

    /// Disables (or re-enables) a user. Users are never deleted: the audit trail refers to them.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn set_user_disabled(
        &self,
        actor: &Actor,
        username: &str,
        disabled: bool,
    ) -> Result<User> {
        let action = if disabled { "disable" } else { "enable" };
        self.update_user(
            actor,
            username,
            "disabled",
            i64::from(disabled).into(),
            action,
        )
        .await
    }

    /// Sets a new password hash (a reset by an administrator, or the first password of a user
    /// imported from an HR list), lifts a sign-in lock, and in the same transaction ends every
    /// session and revokes every API token of the user: whoever held the old password is out.
    /// The hash is never written to the audit trail; what was ended is.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn set_password_hash(
        &self,
        actor: &Actor,
        username: &str,
        password_hash: &str,
    ) -> Result<User> {
        // `NotFound` here; users are never deleted, so the update below finds the row.
        let user = self.user_by_username(username).await?;
        let mut tx = self.begin_write().await?;
        Sql::new("update app_user set password_hash = ")
            .bind(password_hash)
            .push(", failed_logins = 0, locked_until = null where id = ")
            .bind(user.id.0)
            .query()
            .execute(&mut *tx)
            .await?;
        let ended = crate::session::end_access(&mut tx, user.id, None).await?;
        audit::record(&mut tx, actor, "reset_password", "user", username, &ended).await?;
        tx.commit().await?;
        Ok(user)
    }

    /// Sets one column of a user, audited as `action` (without the value).
    async fn update_user(
        &self,
        actor: &Actor,
        username: &str,
        column: &'static str,
        value: Arg,
        action: &str,
    ) -> Result<User> {
        let mut tx = self.begin_write().await?;
        let changed = Sql::new(&format!("update app_user set {column} = "))
            .bind(value)
            .push(" where username = ")
            .bind(username)
            .query()
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if changed == 0 {
            return Err(Error::NotFound {
                entity: "user",
                key: username.to_owned(),
            });
        }
        audit::record(&mut tx, actor, action, "user", username, "").await?;
        tx.commit().await?;
        self.user_by_username(username).await
    }
}

/// A user by name on `on` (the pool, or a transaction that reads it with its writes).
pub(crate) async fn user_by_username_on<'e, E>(on: E, username: &str) -> Result<User>
where
    E: sqlx::Executor<'e, Database = Any>,
{
    let row = Sql::new(&format!("{USER_COLUMNS} where username = "))
        .bind(username)
        .query()
        .fetch_optional(on)
        .await?
        .ok_or_else(|| Error::NotFound {
            entity: "user",
            key: username.to_owned(),
        })?;
    user_from_row(&row)
}

/// A user by name with the path of the unit they work at (for kam-core's reach rules on
/// colleagues: whom work may be given to), or `None` for an unknown name.
pub(crate) async fn user_with_unit_on<'e, E>(
    on: E,
    username: &str,
) -> Result<Option<(User, kam_core::org::OrgPath)>>
where
    E: sqlx::Executor<'e, Database = Any>,
{
    let row = Sql::new(&format!(
        "select o.path as unit_path, {} from app_user u join org_unit o on o.id = u.org_unit_id where u.username = ",
        user_columns_of("u")
    ))
    .bind(username)
    .query()
    .fetch_optional(on)
    .await?;
    row.map(|row| {
        let path = kam_core::org::OrgPath::parse(&row.try_get::<String, _>("unit_path")?)
            .map_err(corrupt)?;
        Ok((user_from_row(&row)?, path))
    })
    .transpose()
}

/// Inserts a user inside `tx`, checking the role against the unit's level.
pub(crate) async fn insert_user(
    tx: &mut Transaction<'_, Any>,
    actor: &Actor,
    user: &NewUser,
    password_hash: &str,
) -> Result<User> {
    let unit = org_unit_by_code_on(tx, &user.org_unit_code).await?;
    user.check_unit(unit.kind)?;
    let id: i64 = Sql::new("insert into app_user (username, display_name, role, org_unit_id, line, password_hash, disabled, created_at) values (")
        .bind(user.username.as_str())
        .push(", ")
        .bind(user.display_name.as_str())
        .push(", ")
        .bind(user.role.as_str())
        .push(", ")
        .bind(unit.id.0)
        .push(", ")
        .bind(user.line.map(Line::as_str))
        .push(", ")
        .bind(password_hash)
        .push(", 0, ")
        .bind(audit::now())
        .push(") returning id")
        .query()
        .fetch_one(&mut **tx)
        .await
        .map_err(|e| Error::from_write(e, "user", user.username.to_string()))?
        .try_get("id")?;
    let detail = format!("role={} unit={}", user.role, unit.code);
    audit::record(tx, actor, "create", "user", user.username.as_str(), &detail).await?;
    Ok(User {
        id: UserId(id),
        username: user.username.clone(),
        display_name: user.display_name.clone(),
        role: user.role,
        org_unit_id: unit.id,
        line: user.line,
        disabled: false,
    })
}

impl UserStore {
    /// Every user (names, roles and units: the directory an alert is given from).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn list_users(&self) -> Result<Vec<User>> {
        self.store().list_users().await
    }

    /// Every user with their unit's path and name, in one statement: what a manager's page
    /// needs to ask kam-core whom they may appoint (`Scope::may_appoint`) and to name owners.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn users_with_units(&self) -> Result<Vec<(User, kam_core::org::OrgPath, String)>> {
        Sql::new(&format!(
            "select {}, o.path as unit_path, o.name as unit_name \
             from app_user u join org_unit o on o.id = u.org_unit_id \
             order by u.org_unit_id, u.role, u.username",
            user_columns_of("u")
        ))
        .query()
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|row| {
            Ok((
                user_from_row(row)?,
                kam_core::org::OrgPath::parse(&row.try_get::<String, _>("unit_path")?)
                    .map_err(corrupt)?,
                row.try_get("unit_name")?,
            ))
        })
        .collect()
    }

    /// An administrator resets a user's password (`Store::set_password_hash`); any other role is
    /// refused, the refusal audited.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn reset_password(&self, username: &str, password_hash: &str) -> Result<User> {
        self.administer("reset_password", username).await?;
        self.store()
            .set_password_hash(self.actor(), username, password_hash)
            .await
    }

    /// An administrator disables or enables a user (`Store::set_user_disabled`); any other role
    /// is refused, the refusal audited.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn set_user_disabled(&self, username: &str, disabled: bool) -> Result<User> {
        let action = if disabled { "disable" } else { "enable" };
        self.administer(action, username).await?;
        self.store()
            .set_user_disabled(self.actor(), username, disabled)
            .await
    }

    /// An administrator adds a user with an already hashed first password (the role checked
    /// against the unit's level by kam-core; a taken name is `Conflict`); audited.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn add_user(&self, user: &NewUser, password_hash: &str) -> Result<User> {
        self.administer("create", user.username.as_str()).await?;
        self.store()
            .create_user(self.actor(), user, password_hash)
            .await
    }

    /// An administrator changes a user's name, role, unit and line. `seen` is the user as the
    /// form showed it: if someone changed the user since, the write is `Conflict` and nothing is
    /// written. kam-core checks the role against the unit and the line; audited with what
    /// changed.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn edit_user(&self, seen: &User, change: &NewUser) -> Result<User> {
        let username = seen.username.as_str();
        self.administer("edit", username).await?;
        let mut tx = self.store().begin_write().await?;
        let now = user_by_username_on(&mut *tx, username).await?;
        if now != *seen {
            return Err(Error::Conflict {
                entity: "user",
                key: username.to_owned(),
            });
        }
        let unit = org_unit_by_code_on(&mut tx, &change.org_unit_code).await?;
        change.check_unit(unit.kind)?;
        Sql::new("update app_user set display_name = ")
            .bind(change.display_name.as_str())
            .push(", role = ")
            .bind(change.role.as_str())
            .push(", org_unit_id = ")
            .bind(unit.id.0)
            .push(", line = ")
            .bind(change.line.map(Line::as_str))
            .push(" where id = ")
            .bind(now.id.0)
            .query()
            .execute(&mut *tx)
            .await?;
        let detail = format!(
            "role={}→{} unit={}→{} line={}→{}",
            now.role,
            change.role,
            now.org_unit_id.0,
            unit.code,
            now.line.map_or("-", Line::as_str),
            change.line.map_or("-", Line::as_str)
        );
        audit::record(&mut tx, self.actor(), "edit", "user", username, &detail).await?;
        tx.commit().await?;
        self.store().user_by_username(username).await
    }

    /// Refuses (audited) unless this user administers kam (`Role::may_administer`).
    async fn administer(&self, action: &str, username: &str) -> Result<()> {
        if let Err(refused) = self.require(Role::may_administer) {
            let tx = self.store().begin_write().await?;
            return Err(self.refuse(tx, action, "user", username, refused).await);
        }
        Ok(())
    }
}

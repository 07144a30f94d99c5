//! Sign-in state in SQL: lockout counters, web sessions and personal API tokens. Tokens arrive
//! already hashed (the web layer hashes them); the store never sees a usable token.

use chrono::NaiveDate;
use chrono::{DateTime, Duration, Utc};
use kam_core::{id::UserId, org::OrgPath, user::User};
use sqlx::{Row, any::AnyRow};

use crate::{
    Actor, Error, Result, Store, UserStore, audit,
    handle::WriteTx,
    org::corrupt,
    sql::{Arg, Sql},
    user::{user_columns_of, user_from_row},
};

/// A user as the sign-in form needs it.
#[derive(Debug, Clone)]
pub struct SignInAccount {
    pub user: User,
    pub password_hash: String,
    pub failed_logins: i64,
    pub locked_until: Option<DateTime<Utc>>,
    pub locale: String,
}

/// A live web session and its user.
#[derive(Debug, Clone)]
pub struct WebSession {
    pub id: i64,
    pub user: User,
    /// The user's unit's path, read with the session so that the scope needs no second query.
    pub unit_path: OrgPath,
    pub locale: String,
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    /// The one-time message a form left for the page it redirected to, read with the session.
    pub flash: Option<Flash>,
}

/// What a form leaves for the page it redirects to (post/redirect/get), shown once: a note in the
/// user's language, and what may be shown only this once (a new token, a one-time password, a
/// revealed identifier, with the field it is).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flash {
    pub note: String,
    pub secret: Option<String>,
    pub field: Option<String>,
}

/// A personal API token as its owner sees it (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// What a sign-in attempt may do, decided before the password is checked.
#[derive(Debug, Clone)]
pub enum SignInAttempt {
    /// No such user: check a dummy hash (the same time), then fail.
    Unknown,
    /// The account is locked: check a dummy hash, then fail the same way as a wrong password.
    Locked,
    /// This attempt was counted as a failure in advance — the count and the lock check in one
    /// conditional update — and may check the password; a success clears the count.
    Granted {
        account: SignInAccount,
        /// The failures in a row this attempt makes if the password is wrong.
        failures: i64,
        /// Set when this attempt's failure locks the account.
        locks_until: Option<DateTime<Utc>>,
    },
}

pub(crate) fn timestamp(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

fn parse_timestamp(field: &'static str, text: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            corrupt(kam_core::ParseError::new(
                field,
                text,
                "not an RFC 3339 time",
                "不是 RFC 3339 格式的时间",
            ))
        })
}

fn session_from_row(row: &AnyRow) -> Result<WebSession> {
    Ok(WebSession {
        id: row.try_get("session_id")?,
        user: user_from_row(row)?,
        unit_path: path_from_row(row)?,
        locale: row.try_get("locale")?,
        csrf_token: row.try_get("csrf_token")?,
        created_at: parse_timestamp("created_at", &row.try_get::<String, _>("s_created_at")?)?,
        last_seen_at: parse_timestamp("last_seen_at", &row.try_get::<String, _>("last_seen_at")?)?,
        flash: row
            .try_get::<Option<String>, _>("flash_note")?
            .map(|note| -> Result<Flash> {
                Ok(Flash {
                    note,
                    secret: row.try_get("flash_secret")?,
                    field: row.try_get("flash_field")?,
                })
            })
            .transpose()?,
    })
}

/// Whether a token's use, last noted at `last`, is to be noted again: a write per request would
/// serialise SQLite under load, and a minute's precision is plenty for a "last used" column.
fn use_note_due(last: Option<DateTime<Utc>>, interval: Duration) -> bool {
    last.is_none_or(|last| Utc::now() - last > interval)
}

/// How often a session's activity is noted: a tenth of the idle timeout, at most a minute. The
/// noted time lags the real last use by at most this much, which `WebSession::idle_beyond`
/// allows for, so an active session is never ended early.
pub fn activity_note_interval(idle_timeout: Duration) -> Duration {
    std::cmp::min(Duration::seconds(60), idle_timeout / 10)
}

fn path_from_row(row: &AnyRow) -> Result<OrgPath> {
    OrgPath::parse(&row.try_get::<String, _>("unit_path")?).map_err(corrupt)
}

impl WebSession {
    /// Whether the session has been unused for longer than `idle_timeout`, counted from its real
    /// last use: that is at most one note interval after the noted one, so the session ends
    /// between `idle_timeout` and `idle_timeout` plus a tenth (at most a minute) after it.
    pub fn idle_beyond(&self, now: DateTime<Utc>, idle_timeout: Duration) -> bool {
        now - self.last_seen_at > idle_timeout + activity_note_interval(idle_timeout)
    }
}

/// The user behind a personal API token, with their unit's path (for the scope).
#[derive(Debug, Clone)]
pub struct TokenUser {
    pub user: User,
    pub unit_path: OrgPath,
}

/// Ends every web session of a user but `keep`, and revokes every API token of theirs, inside
/// the transaction that changes their password: nothing opened with the old password goes on
/// working. Returns what was ended, for the audit detail.
pub(crate) async fn end_access(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user_id: UserId,
    keep: Option<i64>,
) -> Result<String> {
    let mut sessions = Sql::new("delete from web_session where user_id = ");
    sessions.bind(user_id.0);
    if let Some(keep) = keep {
        sessions.push(" and id <> ").bind(keep);
    }
    let sessions = sessions.query().execute(&mut **tx).await?.rows_affected();
    let tokens = Sql::new("update api_token set revoked_at = ")
        .bind(audit::now())
        .push(" where revoked_at is null and user_id = ")
        .bind(user_id.0)
        .query()
        .execute(&mut **tx)
        .await?
        .rows_affected();
    Ok(format!("sessions_ended={sessions} tokens_revoked={tokens}"))
}

/// The web's door to the store: sign-in, sessions and API tokens, and from a live session or
/// token the user's handle (`UserStore`) — nothing else. kam-web receives this and never the
/// system handle (`Store`), so every customer read it makes is scoped by construction.
#[derive(Debug, Clone)]
pub struct Sessions {
    store: Store,
}

impl Store {
    /// The web's door (see `Sessions`).
    pub fn sessions(&self) -> Sessions {
        Sessions {
            store: self.clone(),
        }
    }
}

impl Sessions {
    /// The handle of a live session's user on `on` (today in the bank's time zone).
    pub fn for_session(&self, session: &WebSession, on: NaiveDate) -> UserStore {
        UserStore::new(self.store.clone(), &session.user, &session.unit_path, on)
    }

    /// The handle of an API token's user on `on`.
    pub fn for_token(&self, token: &TokenUser, on: NaiveDate) -> UserStore {
        UserStore::new(self.store.clone(), &token.user, &token.unit_path, on)
    }

    fn pool(&self) -> &sqlx::AnyPool {
        self.store.pool()
    }

    async fn begin_write(&self) -> Result<WriteTx> {
        self.store.begin_write().await
    }

    /// Starts a sign-in: claims one guess for `username` in a single conditional update that
    /// counts the failure in advance and refuses once `lock_after` failures in a row have locked
    /// the account for `lock_for` — so however many attempts arrive at once, at most
    /// `lock_after` passwords are ever checked per lock. A success (`open_session`) clears the
    /// count; an expired lock starts the count again.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn begin_sign_in(
        &self,
        username: &str,
        lock_after: i64,
        lock_for: Duration,
    ) -> Result<SignInAttempt> {
        let now = Utc::now();
        let until = now + lock_for;
        let mut tx = self.begin_write().await?;
        // `locked_until` is set when the count reaches the limit, and is in the past once the
        // lock has run out: then the count starts from this attempt again.
        let restart = "(case when locked_until is null then failed_logins else 0 end)";
        let claimed = Sql::new(&format!(
            "update app_user set failed_logins = {restart} + 1, \
             locked_until = case when {restart} + 1 >= "
        ))
        .bind(lock_after)
        .push(" then ")
        .bind(timestamp(until))
        .push(" else null end where username = ")
        .bind(username)
        .push(" and (locked_until is null or locked_until <= ")
        .bind(timestamp(now))
        .push(") returning failed_logins, locked_until")
        .query()
        .fetch_optional(&mut *tx)
        .await?;
        let Some(claimed) = claimed else {
            let exists = Sql::new("select id from app_user where username = ")
                .bind(username)
                .query()
                .fetch_optional(&mut *tx)
                .await?
                .is_some();
            tx.commit().await?;
            return Ok(if exists {
                SignInAttempt::Locked
            } else {
                SignInAttempt::Unknown
            });
        };
        let failures: i64 = claimed.try_get("failed_logins")?;
        let locks_until = claimed
            .try_get::<Option<String>, _>("locked_until")?
            .map(|t| parse_timestamp("locked_until", &t))
            .transpose()?;
        let row = Sql::new(&format!(
            "select {}, u.password_hash, u.failed_logins, u.locked_until, u.locale from app_user u where u.username = ",
            user_columns_of("u")
        ))
        .bind(username)
        .query()
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(SignInAttempt::Granted {
            account: SignInAccount {
                user: user_from_row(&row)?,
                password_hash: row.try_get("password_hash")?,
                failed_logins: failures,
                locked_until: locks_until,
                locale: row.try_get("locale")?,
            },
            failures,
            locks_until,
        })
    }

    /// Audits a failed sign-in (the trail shows password guessing): a wrong password — already
    /// counted by `begin_sign_in` —, a locked account or an unknown name.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn record_failed_sign_in(
        &self,
        username: &str,
        attempt: &SignInAttempt,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let actor = Actor {
            user_id: None,
            name: format!("anonymous:{username}"),
        };
        let detail = match attempt {
            SignInAttempt::Granted {
                locks_until: Some(until),
                ..
            } => format!("locked_until={}", timestamp(*until)),
            SignInAttempt::Granted { failures, .. } => format!("failures={failures}"),
            SignInAttempt::Locked => "refused: locked".to_owned(),
            SignInAttempt::Unknown => "unknown user".to_owned(),
        };
        audit::record(&mut tx, &actor, "sign_in_failed", "user", username, &detail).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A successful sign-in: clears the failure count and the lock, opens a session under
    /// `token_hash` (a new id every sign-in) and records it.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn open_session(
        &self,
        user: &User,
        token_hash: &str,
        csrf_token: &str,
        detail: &str,
    ) -> Result<()> {
        let now = audit::now();
        let mut tx = self.begin_write().await?;
        Sql::new("update app_user set failed_logins = 0, locked_until = null where id = ")
            .bind(user.id.0)
            .query()
            .execute(&mut *tx)
            .await?;
        Sql::new("insert into web_session (token_hash, user_id, csrf_token, created_at, last_seen_at) values (")
            .bind(token_hash)
            .push(", ")
            .bind(user.id.0)
            .push(", ")
            .bind(csrf_token)
            .push(", ")
            .bind(now.as_str())
            .push(", ")
            .bind(now.as_str())
            .push(")")
            .query()
            .execute(&mut *tx)
            .await?;
        let actor = Actor::user(user.id, user.username.as_str());
        audit::record(
            &mut tx,
            &actor,
            "sign_in",
            "user",
            user.username.as_str(),
            detail,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The session behind a token hash, with its user, if it exists.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn session(&self, token_hash: &str) -> Result<Option<WebSession>> {
        let row = Sql::new(&format!(
            "select s.id as session_id, s.csrf_token, s.created_at as s_created_at, s.last_seen_at, u.locale, \
             s.flash_note, s.flash_secret, s.flash_field, \
             o.path as unit_path, {} \
             from web_session s join app_user u on u.id = s.user_id join org_unit o on o.id = u.org_unit_id \
             where s.token_hash = ",
            user_columns_of("u")
        ))
        .bind(token_hash)
        .query()
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(session_from_row).transpose()
    }

    /// Leaves `flash` for the next page of `session` (replacing one not yet shown).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn set_flash(&self, session: &WebSession, flash: &Flash) -> Result<()> {
        Sql::new("update web_session set flash_note = ")
            .bind(flash.note.as_str())
            .push(", flash_secret = ")
            .bind(flash.secret.as_deref())
            .push(", flash_field = ")
            .bind(flash.field.as_deref())
            .push(" where id = ")
            .bind(session.id)
            .query()
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Clears the flash `session` was read with (it has been shown), only when it is still that
    /// one: a flash set meanwhile by another request stays for its page.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn clear_flash(&self, session: &WebSession) -> Result<()> {
        let Some(flash) = &session.flash else {
            return Ok(());
        };
        Sql::new("update web_session set flash_note = null, flash_secret = null, flash_field = null where id = ")
            .bind(session.id)
            .push(" and flash_note = ")
            .bind(flash.note.as_str())
            .query()
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Notes a session's activity (the idle timeout counts from it), at most once per
    /// `activity_note_interval`.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn touch_session(&self, session: &WebSession, idle_timeout: Duration) -> Result<()> {
        if !use_note_due(
            Some(session.last_seen_at),
            activity_note_interval(idle_timeout),
        ) {
            return Ok(());
        }
        Sql::new("update web_session set last_seen_at = ")
            .bind(audit::now())
            .push(" where id = ")
            .bind(session.id)
            .query()
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Ends one session: signed out (audited with `action`), or expired.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn end_session(&self, session: &WebSession, action: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        Sql::new("delete from web_session where id = ")
            .bind(session.id)
            .query()
            .execute(&mut *tx)
            .await?;
        let actor = Actor::user(session.user.id, session.user.username.as_str());
        audit::record(
            &mut tx,
            &actor,
            action,
            "user",
            session.user.username.as_str(),
            "",
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The user behind an unrevoked token hash (and notes its use), or `None`.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn api_token_user(&self, token_hash: &str) -> Result<Option<TokenUser>> {
        let row = Sql::new(&format!(
            "select t.id as token_id, t.last_used_at, o.path as unit_path, {} \
             from api_token t join app_user u on u.id = t.user_id join org_unit o on o.id = u.org_unit_id \
             where t.revoked_at is null and t.token_hash = ",
            user_columns_of("u")
        ))
        .bind(token_hash)
        .query()
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let token_id: i64 = row.try_get("token_id")?;
        let last_used: Option<String> = row.try_get("last_used_at")?;
        let last_used = last_used
            .map(|text| parse_timestamp("last_used_at", &text))
            .transpose()?;
        if use_note_due(last_used, Duration::seconds(60)) {
            Sql::new("update api_token set last_used_at = ")
                .bind(Arg::from(audit::now()))
                .push(" where id = ")
                .bind(token_id)
                .query()
                .execute(self.pool())
                .await?;
        }
        Ok(Some(TokenUser {
            user: user_from_row(&row)?,
            unit_path: path_from_row(&row)?,
        }))
    }
}

impl UserStore {
    /// The signed-in user, for changes to their own account (the console's whole-bank handle
    /// has none).
    fn own(&self) -> Result<&User> {
        self.user().ok_or(Error::NotPermitted(
            "only a signed-in user has an account to change",
        ))
    }

    /// The user's stored PHC hash, to check their current password before a change.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn own_password_hash(&self) -> Result<String> {
        let user_id = self.own()?.id;
        self.store().password_hash(user_id).await
    }

    /// A user changes their own password: the new hash; every other session of theirs ended and
    /// every API token revoked (this session stays: it has just shown the current password).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn change_own_password(
        &self,
        session: &WebSession,
        password_hash: &str,
    ) -> Result<()> {
        let user = self.own()?;
        if session.user.id != user.id {
            return Err(Error::NotPermitted(
                "a password is changed only by its owner",
            ));
        }
        let mut tx = self.store().begin_write().await?;
        Sql::new("update app_user set password_hash = ")
            .bind(password_hash)
            .push(" where id = ")
            .bind(user.id.0)
            .query()
            .execute(&mut *tx)
            .await?;
        let ended = end_access(&mut tx, user.id, Some(session.id)).await?;
        let key = user.username.as_str();
        audit::record(
            &mut tx,
            self.actor(),
            "change_password",
            "user",
            key,
            &ended,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The user's interface language (`zh-CN` or `en`).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn set_locale(&self, locale: &str) -> Result<()> {
        let user_id = self.own()?.id;
        let actor = self.actor();
        let mut tx = self.store().begin_write().await?;
        Sql::new("update app_user set locale = ")
            .bind(locale)
            .push(" where id = ")
            .bind(user_id.0)
            .query()
            .execute(&mut *tx)
            .await?;
        audit::record(&mut tx, actor, "set_locale", "user", &actor.name, locale).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A new personal API token under `token_hash`, audited.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_api_token(&self, name: &str, token_hash: &str) -> Result<i64> {
        let user_id = self.own()?.id;
        let mut tx = self.store().begin_write().await?;
        let id: i64 =
            Sql::new("insert into api_token (user_id, name, token_hash, created_at) values (")
                .bind(user_id.0)
                .push(", ")
                .bind(name)
                .push(", ")
                .bind(token_hash)
                .push(", ")
                .bind(audit::now())
                .push(") returning id")
                .query()
                .fetch_one(&mut *tx)
                .await?
                .try_get("id")?;
        audit::record(
            &mut tx,
            self.actor(),
            "create_token",
            "api_token",
            &id.to_string(),
            name,
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The user's own tokens, newest first.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn api_tokens(&self) -> Result<Vec<ApiToken>> {
        let user_id = self.own()?.id;
        let rows = Sql::new(
            "select id, name, created_at, last_used_at, revoked_at from api_token where user_id = ",
        )
        .bind(user_id.0)
        .push(" order by id desc")
        .query()
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ApiToken {
                    id: row.try_get("id")?,
                    name: row.try_get("name")?,
                    created_at: row.try_get("created_at")?,
                    last_used_at: row.try_get("last_used_at")?,
                    revoked_at: row.try_get("revoked_at")?,
                })
            })
            .collect()
    }

    /// Revokes one of the user's own tokens; another user's token (or a revoked one) is
    /// `NotFound`, the refusal audited.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn revoke_api_token(&self, id: i64) -> Result<()> {
        let user_id = self.own()?.id;
        let mut tx = self.store().begin_write().await?;
        let changed = Sql::new("update api_token set revoked_at = ")
            .bind(audit::now())
            .push(" where id = ")
            .bind(id)
            .push(" and user_id = ")
            .bind(user_id.0)
            .push(" and revoked_at is null")
            .query()
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if changed == 0 {
            let missing = Error::NotFound {
                entity: "api_token",
                key: id.to_string(),
            };
            return Err(self
                .refuse(tx, "revoke_token", "api_token", &id.to_string(), missing)
                .await);
        }
        audit::record(
            &mut tx,
            self.actor(),
            "revoke_token",
            "api_token",
            &id.to_string(),
            "",
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

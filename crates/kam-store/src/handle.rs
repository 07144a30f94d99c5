//! The store as one user sees it: `UserStore`, the only handle the web and the API receive.
//!
//! Every read on it is limited in SQL to the customers kam-core's `Scope` admits, and every write
//! on customer data checks kam-core's write rule inside the transaction that writes, auditing a
//! refusal as well as a change. This module is the only one that writes the visibility SQL: a
//! query on the handle starts from `visible` (or `begin_customer_write`), so a new query cannot
//! forget the scope. The system handle (`Store`: migrations, import, the batch) is made by the
//! binary; the web receives `Sessions`, which makes a `UserStore` from a live session or token and
//! nothing else.

use chrono::NaiveDate;
use kam_core::{
    org::OrgPath,
    user::{Role, User},
    visibility::{Reach, Scope, scope_for},
};
use sqlx::{Any, AnyPool, Transaction, any::AnyRow};

use crate::{
    Actor, Error, Result, Store, audit,
    sql::{Sql, Values},
};

/// A write transaction on the user handle, begun by `begin_customer_write` once the rule allowed it.
pub(crate) type WriteTx = Transaction<'static, Any>;

/// The store as one user (or the operator's whole-bank read) sees it. Cheap to clone.
#[derive(Debug, Clone)]
pub struct UserStore {
    store: Store,
    scope: Scope,
    /// `None` for the operator's whole-bank read at the console (`Store::whole_bank`).
    user: Option<User>,
    actor: Actor,
}

impl Store {
    /// `user`'s handle on `on`: their scope decided by kam-core from their unit's path.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn for_user(&self, user: &User, on: NaiveDate) -> Result<UserStore> {
        let unit = self.org_unit(user.org_unit_id).await?;
        Ok(UserStore::new(self.clone(), user, &unit.path, on))
    }

    /// The console's whole-bank, read-only handle (`kam export` without `--as-user`), audited
    /// under `system:{job}`. It writes nothing: kam-core's system scope is read-only.
    pub fn whole_bank(&self, job: &str, on: NaiveDate) -> UserStore {
        UserStore {
            store: self.clone(),
            scope: Scope::system(on),
            user: None,
            actor: Actor::system(job),
        }
    }
}

impl UserStore {
    pub(crate) fn new(store: Store, user: &User, unit_path: &OrgPath, on: NaiveDate) -> Self {
        Self {
            store,
            scope: scope_for(user, unit_path, on),
            actor: Actor::user(user.id, user.username.as_str()),
            user: Some(user.clone()),
        }
    }

    /// What this handle may see, decided by kam-core.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// Who the audit trail names for this handle's changes and reads.
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// The signed-in user; `None` for the console's whole-bank read.
    pub fn user(&self) -> Option<&User> {
        self.user.as_ref()
    }

    /// The same user, their reach narrowed to `unit` (a manager's unit in scope: never wider).
    pub fn narrowed_to(&self, unit: &OrgPath) -> Self {
        Self {
            scope: self.scope.narrowed_to(unit),
            ..self.clone()
        }
    }

    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        self.store.pool()
    }

    /// Refuses unless the user's role passes `gate` (kam-core's `Role::may_*`). The console's
    /// whole-bank handle passes: the operator at the console runs the store.
    pub(crate) fn require(&self, gate: fn(Role) -> bool) -> Result<()> {
        match &self.user {
            Some(user) if !gate(user.role) => Err(Error::NotPermitted(
                "this role may not use this part of kam",
            )),
            _ => Ok(()),
        }
    }

    /// A statement over the customers in reach: `head` selects from `customer c` (with any joins)
    /// and the WHERE clause begins with the scope's restriction, so the caller goes on with
    /// `" and …"`. The one way the handle's reads start.
    pub(crate) fn visible(&self, head: &str) -> Sql {
        self.visible_from(Sql::new(head))
    }

    /// `visible` for a head that binds values of its own (in a subquery of its select list).
    pub(crate) fn visible_from(&self, mut head: Sql) -> Sql {
        head.push(" where ");
        push_visible_as(&mut head, &self.scope, self.store.backend(), "c");
        head
    }

    /// Restricts a second customer alias in the same statement (such as the employers of the
    /// customer being read) to the scope.
    pub(crate) fn restrict(&self, sql: &mut Sql, alias: &str) {
        push_visible_as(sql, &self.scope, self.store.backend(), alias);
    }

    /// The one row `sql` (from `visible`) selects, or `NotFound` for `entity` `key` — the same
    /// answer whether the record does not exist or is out of reach.
    pub(crate) async fn fetch_visible(
        &self,
        sql: Sql,
        entity: &'static str,
        key: &str,
    ) -> Result<AnyRow> {
        sql.query()
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| Error::NotFound {
                entity,
                key: key.to_owned(),
            })
    }

    /// Begins the transaction of a change to customer data: `find` (from `visible`) selects the
    /// record to change (its id first). Out of reach (or missing) is `NotFound`, a read-only scope is
    /// `ReadOnly`; either refusal is audited (`{action}_refused`) and nothing else is written.
    pub(crate) async fn begin_customer_write(
        &self,
        find: Sql,
        action: &str,
        entity: &'static str,
        key: &str,
    ) -> Result<(WriteTx, AnyRow)> {
        let mut tx = self.store.begin_write().await?;
        let found = find.query().fetch_optional(&mut *tx).await?;
        let Some(row) = found else {
            let error = Error::NotFound {
                entity,
                key: key.to_owned(),
            };
            return Err(self.refuse(tx, action, entity, key, error).await);
        };
        if !self.scope.may_write() {
            return Err(self.refuse(tx, action, entity, key, Error::ReadOnly).await);
        }
        Ok((tx, row))
    }

    /// `begin_customer_write` for customer `customer_id` by id: the writing transaction of a
    /// change to something the customer holds (key people, team, activities, tasks), with its
    /// customer number for the audit trail.
    pub(crate) async fn begin_customer_change(
        &self,
        customer_id: kam_core::id::CustomerId,
        action: &str,
        entity: &'static str,
    ) -> Result<(WriteTx, String)> {
        let mut find = self.visible("select c.id, c.cif_no from customer c");
        find.push(" and c.id = ").bind(customer_id.0);
        let (tx, row) = self
            .begin_customer_write(find, action, entity, &customer_id.to_string())
            .await?;
        Ok((tx, sqlx::Row::try_get(&row, "cif_no")?))
    }

    /// Writes `values` to row `id` of `table` as save `version`, stamped with this handle's actor
    /// and now: the one update of a version-checked record (activities, tasks, opportunities).
    pub(crate) async fn save_versioned(
        &self,
        tx: &mut WriteTx,
        (table, id): (&str, i64),
        values: Values,
        version: i64,
    ) -> Result<()> {
        let mut sql = values
            .put("version", version)
            .put("updated_by", self.actor.name.as_str())
            .put("updated_at", audit::now())
            .into_update(table);
        sql.push(" where id = ").bind(id);
        sql.query().execute(&mut **tx).await?;
        Ok(())
    }

    /// Records the change in the audit trail under this handle's actor and commits `tx`: the
    /// last step of every write on the handle.
    pub(crate) async fn commit_audited(
        &self,
        mut tx: WriteTx,
        (action, entity, key): (&str, &str, &str),
        detail: &str,
    ) -> Result<()> {
        audit::record(&mut tx, &self.actor, action, entity, key, detail).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records a refused change (`{action}_refused`, the reason as detail) in `tx`, commits it
    /// alone, and gives back `error` for the caller to return.
    pub(crate) async fn refuse(
        &self,
        mut tx: WriteTx,
        action: &str,
        entity: &str,
        key: &str,
        error: Error,
    ) -> Error {
        let reason = match &error {
            Error::NotFound { .. } => "not found or out of reach",
            Error::ReadOnly => "read-only",
            Error::NotPermitted(why) => why,
            _ => "refused",
        };
        let recorded = async {
            audit::record(
                &mut tx,
                &self.actor,
                &format!("{action}_refused"),
                entity,
                key,
                reason,
            )
            .await?;
            tx.commit().await?;
            Ok::<_, Error>(())
        }
        .await;
        match recorded {
            Ok(()) => error,
            Err(failure) => failure,
        }
    }

    /// Records an event that is not a change — a reveal, an export, a download — under this
    /// handle's actor, in a transaction of its own.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn record_event(
        &self,
        action: &str,
        entity: &str,
        entity_key: &str,
        detail: &str,
    ) -> Result<()> {
        self.store
            .record_event(&self.actor, action, entity, entity_key, detail)
            .await
    }
}

/// Appends `(…)` restricting the customer alias `c` to what `scope` admits.
///
/// It mirrors `Scope::admits` clause for clause; the conformance suite checks the two agree on
/// every customer of a synthetic bank for every user and every read of the handle.
fn push_visible_as(sql: &mut Sql, scope: &Scope, backend: crate::Backend, c: &str) {
    let (open, close) = backend.in_ids();
    sql.push("(");
    match scope.reach() {
        Reach::Nothing => {
            sql.push("1 = 0");
        }
        Reach::Everything => {
            sql.push("1 = 1");
        }
        Reach::Subtree(path) => {
            // Booked in the subtree, or a member of a group whose lead unit (主办行) is in it.
            sql.push(&format!(
                "{c}.org_unit_id{open}select id from org_unit where "
            ));
            backend.push_under(sql, "path", path);
            sql.push(&format!(
                "{close} or {c}.id{open}select gm.customer_id from group_member gm \
                 join customer_group g on g.id = gm.group_id \
                 join org_unit lu on lu.id = g.lead_unit_id where "
            ));
            backend.push_under(sql, "lu.path", path);
            sql.push(close);
        }
        Reach::Book(rm) => {
            let on = scope.on().to_string();
            sql.push(&format!(
                "{c}.id{open}select customer_id from rm_assignment where user_id = "
            ))
            .bind(rm.0)
            .push(" and effective_from <= ")
            .bind(on.clone())
            .push(" and (effective_to is null or effective_to > ")
            .bind(on)
            .push(&format!(
                "){close} or {c}.id{open}select gm.customer_id from group_member gm \
                 join customer_group g on g.id = gm.group_id where g.lead_rm_id = "
            ))
            .bind(rm.0)
            .push(close);
        }
    }
    sql.push(")");
    if let Some(line) = scope.line() {
        sql.push(&format!(" and {c}.line = ")).bind(line.as_str());
    }
}

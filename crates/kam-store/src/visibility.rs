//! Applies a kam-core `Scope` inside SQL: the WHERE clause every customer query carries.

use kam_core::visibility::{Reach, Scope};
use sqlx::any::AnyRow;

use crate::{Error, Result, Store, sql::Sql};

impl Store {
    /// The one row `sql` (a query on customer alias `c`, its WHERE clause begun) selects among
    /// the customers `scope` may see; `NotFound` for `entity` `key` when there is none — the
    /// same answer whether the customer does not exist or is outside the scope.
    pub(crate) async fn fetch_visible(
        &self,
        mut sql: Sql,
        scope: &Scope,
        entity: &'static str,
        key: &str,
    ) -> Result<AnyRow> {
        sql.push(" and ");
        push_visible(&mut sql, scope);
        sql.query()
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| Error::NotFound {
                entity,
                key: key.to_owned(),
            })
    }
}

/// Appends `(…)` restricting the customer alias `c` to what `scope` admits.
///
/// It mirrors `Scope::admits` clause for clause; the conformance suite checks the two agree on
/// every customer of a synthetic bank for every user.
pub(crate) fn push_visible(sql: &mut Sql, scope: &Scope) {
    push_visible_as(sql, scope, "c");
}

/// `push_visible` for a customer table under another alias (a subquery about a second customer,
/// such as the employers of the customer a statement reads).
pub(crate) fn push_visible_as(sql: &mut Sql, scope: &Scope, c: &str) {
    sql.push("(");
    match scope.reach() {
        Reach::Nothing => {
            sql.push("1 = 0");
        }
        Reach::Everything => {
            sql.push("1 = 1");
        }
        Reach::Subtree(path) => {
            // Paths are digits and slashes only, so LIKE needs no escaping.
            sql.push(&format!(
                "{c}.org_unit_id in (select id from org_unit where path like "
            ))
            .bind(format!("{}%", path.as_str()))
            .push(")");
        }
        Reach::Book(rm) => {
            let on = scope.on().to_string();
            sql.push(&format!("{c}.id in (select customer_id from rm_assignment where user_id = "))
                .bind(rm.0)
                .push(" and effective_from <= ")
                .bind(on.clone())
                .push(" and (effective_to is null or effective_to > ")
                .bind(on)
                .push(&format!(")) or {c}.id in (select gm.customer_id from group_member gm join customer_group g on g.id = gm.group_id where g.lead_rm_id = "))
                .bind(rm.0)
                .push(")");
        }
    }
    sql.push(")");
    if let Some(line) = scope.line() {
        sql.push(&format!(" and {c}.line = ")).bind(line.as_str());
    }
}

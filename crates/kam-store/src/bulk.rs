//! Loading a whole `ReferenceData` set at once (the demo bank, later a first import): multi-row
//! inserts in one transaction, so 50,000 customers take seconds, not minutes.

use std::collections::HashMap;

use kam_core::{
    id::{CustomerId, GroupId, UserId},
    reference::ReferenceData,
};
use sqlx::{Any, Row, Transaction};

use crate::{
    Actor, Error, Result, Store, audit,
    group::write_members,
    org::insert_org_unit,
    relationship::{NewAssignment, write_assignments},
    rows,
    sql::{Arg, Sql, Upsert, Values},
    user::insert_user,
};

/// How many rows of each kind a bulk load wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoadCounts {
    pub org_units: usize,
    pub users: usize,
    pub products: usize,
    pub customers: usize,
    pub groups: usize,
    pub group_members: usize,
    pub key_people: usize,
    pub assignments: usize,
    pub accounts: usize,
    pub holdings: usize,
    pub payroll_links: usize,
    pub account_parties: usize,
}

/// Multi-row `head values (…), (…) tail`, as many rows per statement as the dialect's bind limit
/// allows. `tail` is empty for plain inserts or an `on conflict … do update` clause for merges.
/// Returns the rows the database reports written: with a merge's `where` on the update, rows that
/// were already as given are not counted.
pub(crate) async fn insert_rows(
    tx: &mut Transaction<'_, Any>,
    max_binds: usize,
    head: &str,
    tail: &str,
    rows: Vec<Vec<Arg>>,
) -> Result<usize> {
    let Some(width) = rows.first().map(Vec::len) else {
        return Ok(0);
    };
    let mut written = 0;
    let per_statement = (max_binds / width).max(1);
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let mut sql = Sql::new(head);
        sql.push(" values ");
        for (index, row) in rows.by_ref().take(per_statement).enumerate() {
            sql.push(if index == 0 { "(" } else { ", (" });
            for (column, arg) in row.into_iter().enumerate() {
                if column > 0 {
                    sql.push(", ");
                }
                sql.bind(arg);
            }
            sql.push(")");
        }
        sql.push(tail);
        debug_assert!(sql.arg_count() <= max_binds);
        written += sql.query().execute(&mut **tx).await?.rows_affected();
    }
    Ok(usize::try_from(written).unwrap_or(usize::MAX))
}

/// `insert_rows` for rows built column by column (`Values`): the column list is the rows' own, and
/// `upsert` (when given) says how a row already there is met.
pub(crate) async fn insert_values(
    tx: &mut Transaction<'_, Any>,
    max_binds: usize,
    table: &str,
    rows: Vec<Values>,
    upsert: Option<Upsert>,
) -> Result<usize> {
    let Some(first) = rows.first() else {
        return Ok(0);
    };
    let columns = first.columns().to_vec();
    debug_assert!(rows.iter().all(|r| r.columns() == columns.as_slice()));
    let head = format!("insert into {table} ({})", columns.join(", "));
    let tail = upsert.map(|u| u.tail(table)).unwrap_or_default();
    let rows = rows.into_iter().map(Values::into_args).collect();
    insert_rows(tx, max_binds, &head, &tail, rows).await
}

/// One row (`Values`) into `table`, returning its new id: the single-row writers use the same row
/// builders (`rows.rs`) as the bulk load and the merge. A unique key already taken is `Conflict`
/// for `entity` `key`.
pub(crate) async fn insert_one(
    tx: &mut Transaction<'_, Any>,
    table: &str,
    values: Values,
    (entity, key): (&'static str, &str),
) -> Result<i64> {
    let mut sql = values.into_insert(table);
    sql.push(" returning id");
    Ok(sql
        .query()
        .fetch_one(&mut **tx)
        .await
        .map_err(|e| Error::from_write(e, entity, key))?
        .try_get("id")?)
}

async fn code_map(
    tx: &mut Transaction<'_, Any>,
    query: &'static str,
) -> Result<HashMap<String, i64>> {
    let rows = sqlx::query(query).fetch_all(&mut **tx).await?;
    rows.iter()
        .map(|row| Ok((row.try_get::<String, _>(1)?, row.try_get::<i64, _>(0)?)))
        .collect()
}

fn lookup(map: &HashMap<String, i64>, entity: &'static str, key: &str) -> Result<i64> {
    map.get(key).copied().ok_or_else(|| Error::NotFound {
        entity,
        key: key.to_owned(),
    })
}

impl Store {
    /// Loads a complete reference set into an empty store, in one transaction. Org units and users
    /// go through the ordinary (audited, checked) inserts; the bulk of the rows goes in multi-row
    /// inserts with one audit row naming the counts. `password_hashes[i]` belongs to `data.users[i]`.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn bulk_load(
        &self,
        actor: &Actor,
        data: &ReferenceData,
        password_hashes: &[String],
    ) -> Result<LoadCounts> {
        assert_eq!(
            data.users.len(),
            password_hashes.len(),
            "one password hash per user"
        );
        let max_binds = self.backend().max_binds();
        let now = audit::now();
        // One transaction for everything: killed at any point, the store holds the whole bank or
        // none of it, so `kam demo` can tell a finished load from an interrupted one.
        let mut tx = self.begin_write().await?;
        for unit in &data.org_units {
            insert_org_unit(&mut tx, actor, unit).await?;
        }
        for (user, hash) in data.users.iter().zip(password_hashes) {
            insert_user(&mut tx, actor, user, hash).await?;
        }
        let units = code_map(&mut tx, "select id, code from org_unit").await?;
        let users = code_map(&mut tx, "select id, username from app_user").await?;

        let rows = data
            .products
            .iter()
            .map(|p| rows::product(p, &now))
            .collect();
        let products_written =
            insert_values(&mut tx, max_binds, rows::PRODUCT.name, rows, None).await?;
        let products = code_map(&mut tx, "select id, code from product").await?;

        let mut rows = Vec::with_capacity(data.customers.len());
        for c in &data.customers {
            rows.push(rows::customer(
                c,
                lookup(&units, "org_unit", &c.org_unit_code)?,
                &now,
            ));
        }
        let customers_written = insert_values(&mut tx, max_binds, rows::CUSTOMER.name, rows, None)
            .await
            .map_err(|e| match e {
                Error::Database(db) => Error::from_write(db, "customer", "(bulk)"),
                other => other,
            })?;
        let customers = code_map(&mut tx, "select id, cif_no from customer").await?;

        let mut rows = Vec::new();
        for g in &data.groups {
            let lead_rm = g
                .lead_rm_username
                .as_deref()
                .map(|u| lookup(&users, "user", u))
                .transpose()?;
            let lead_unit = lookup(&units, "org_unit", &g.lead_unit_code)?;
            rows.push(rows::group(g, lead_unit, lead_rm, &now));
        }
        let groups_written =
            insert_values(&mut tx, max_binds, rows::GROUP.name, rows, None).await?;
        let groups = code_map(&mut tx, "select id, code from customer_group").await?;
        let mut rows = Vec::new();
        for g in &data.groups {
            for co in &g.co_unit_codes {
                rows.push(rows::group_co_unit(
                    lookup(&groups, "group", &g.code)?,
                    lookup(&units, "org_unit", co)?,
                ));
            }
        }
        insert_values(&mut tx, max_binds, rows::GROUP_CO_UNIT, rows, None).await?;

        // Members and assignments through their one writer, with kam-core's rules: a reference
        // set that breaks them is refused whole.
        let mut placements = Vec::new();
        for m in &data.group_members {
            let parent = m
                .parent_cif_no
                .as_deref()
                .map(|p| lookup(&customers, "customer", p))
                .transpose()?;
            placements.push((
                CustomerId(lookup(&customers, "customer", &m.cif_no)?),
                GroupId(lookup(&groups, "group", &m.group_code)?),
                parent.map(CustomerId),
            ));
        }
        let (broken, members_written) = write_members(&mut tx, max_binds, &placements).await?;
        if let Some((_, error)) = broken.into_iter().next() {
            return Err(Error::Invalid(error));
        }

        let mut rows = Vec::new();
        for k in &data.key_people {
            let customer = lookup(&customers, "customer", &k.cif_no)?;
            rows.push(rows::key_person(
                customer,
                &k.person,
                k.stage_since,
                (actor.name.as_str(), &now),
            ));
        }
        let key_people_written =
            insert_values(&mut tx, max_binds, rows::KEY_PERSON.name, rows, None).await?;

        let mut assignments = Vec::new();
        for a in &data.assignments {
            assignments.push(NewAssignment {
                customer: CustomerId(lookup(&customers, "customer", &a.cif_no)?),
                user: UserId(lookup(&users, "user", &a.username)?),
                role: a.role,
                from: a.effective_from,
                to: a.effective_to,
            });
        }
        let (broken, assignments_written) =
            write_assignments(&mut tx, max_binds, &assignments).await?;
        if let Some((_, error)) = broken.into_iter().next() {
            return Err(Error::Invalid(error));
        }

        let mut rows = Vec::new();
        for a in &data.accounts {
            rows.push(rows::account(
                a,
                lookup(&customers, "customer", &a.cif_no)?,
                lookup(&products, "product", &a.product_code)?,
                lookup(&units, "org_unit", &a.org_unit_code)?,
            ));
        }
        let accounts_written =
            insert_values(&mut tx, max_binds, rows::ACCOUNT.name, rows, None).await?;

        let mut rows = Vec::new();
        for h in &data.holdings {
            rows.push(vec![
                lookup(&customers, "customer", &h.cif_no)?.into(),
                lookup(&products, "product", &h.product_code)?.into(),
                h.amount.minor().into(),
                h.amount.currency().as_str().into(),
                h.as_of.to_string().into(),
            ]);
        }
        let holdings_written = insert_rows(
            &mut tx,
            max_binds,
            "insert into holding (customer_id, product_id, amount_minor, currency, as_of)",
            "",
            rows,
        )
        .await?;

        let mut rows = Vec::new();
        for p in &data.payroll_links {
            rows.push(rows::payroll_link(
                lookup(&customers, "customer", &p.employer_cif_no)?,
                lookup(&customers, "customer", &p.employee_cif_no)?,
                p,
            ));
        }
        let payroll_written =
            insert_values(&mut tx, max_binds, rows::PAYROLL_LINK.name, rows, None).await?;

        let mut rows = Vec::new();
        if !data.account_parties.is_empty() {
            let accounts = code_map(&mut tx, "select id, account_no from account").await?;
            for p in &data.account_parties {
                rows.push(rows::account_party(
                    lookup(&accounts, "account", &p.account_no)?,
                    lookup(&customers, "customer", &p.cif_no)?,
                    p,
                ));
            }
        }
        let parties_written =
            insert_values(&mut tx, max_binds, rows::ACCOUNT_PARTY.name, rows, None).await?;

        let counts = LoadCounts {
            org_units: data.org_units.len(),
            users: data.users.len(),
            products: products_written,
            customers: customers_written,
            groups: groups_written,
            group_members: members_written,
            key_people: key_people_written,
            assignments: assignments_written,
            accounts: accounts_written,
            holdings: holdings_written,
            payroll_links: payroll_written,
            account_parties: parties_written,
        };
        audit::record(
            &mut tx,
            actor,
            "bulk_load",
            "reference_data",
            "",
            &format!("{counts:?}"),
        )
        .await?;
        tx.commit().await?;
        Ok(counts)
    }
}

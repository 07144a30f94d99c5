//! Loading a whole `ReferenceData` set at once (the demo bank, later a first import): multi-row
//! inserts in one transaction, so 50,000 customers take seconds, not minutes.

use std::collections::HashMap;

use kam_core::{
    customer::{IdNumber, Industry, Phone, RiskTolerance},
    reference::ReferenceData,
};
use sqlx::{Any, Row, Transaction};

use crate::{
    Actor, Error, Result, Store, audit,
    org::insert_org_unit,
    sql::{Arg, Sql},
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
}

/// Multi-row `head values (…), (…) tail`, as many rows per statement as the dialect's bind limit
/// allows. `tail` is empty for plain inserts or an `on conflict … do update` clause for merges.
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
    let count = rows.len();
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
        sql.query().execute(&mut **tx).await?;
    }
    Ok(count)
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
        let mut tx = self.pool().begin().await?;
        for unit in &data.org_units {
            insert_org_unit(&mut tx, actor, unit).await?;
        }
        for (user, hash) in data.users.iter().zip(password_hashes) {
            insert_user(&mut tx, actor, user, hash).await?;
        }
        let units = code_map(&mut tx, "select id, code from org_unit").await?;
        let users = code_map(&mut tx, "select id, username from app_user").await?;

        let mut rows = Vec::new();
        for p in &data.products {
            rows.push(vec![
                p.code.clone().into(),
                p.name.clone().into(),
                p.line.as_str().into(),
                p.need_category.as_str().into(),
                p.risk_level.as_str().into(),
                now.clone().into(),
            ]);
        }
        let products_written = insert_rows(
            &mut tx,
            max_binds,
            "insert into product (code, name, line, need_category, risk_level, created_at)",
            "",
            rows,
        )
        .await?;
        let products = code_map(&mut tx, "select id, code from product").await?;

        let mut rows = Vec::with_capacity(data.customers.len());
        for c in &data.customers {
            rows.push(vec![
                c.cif_no.as_str().into(),
                c.kind.as_str().into(),
                c.name.clone().into(),
                c.line.as_str().into(),
                lookup(&units, "org_unit", &c.org_unit_code)?.into(),
                c.industry.map(Industry::as_str).into(),
                c.account_type.as_str().into(),
                c.risk_tolerance.map(RiskTolerance::as_str).into(),
                c.id_number.as_ref().map(IdNumber::reveal).into(),
                c.phone.as_ref().map(Phone::reveal).into(),
                c.since.to_string().into(),
                now.clone().into(),
            ]);
        }
        let customers_written = insert_rows(&mut tx, max_binds, "insert into customer (cif_no, kind, name, line, org_unit_id, industry, account_type, risk_tolerance, id_number, phone, since, created_at)", "", rows).await
            .map_err(|e| match e { Error::Database(db) => Error::from_write(db, "customer", "(bulk)"), other => other })?;
        let customers = code_map(&mut tx, "select id, cif_no from customer").await?;

        let mut rows = Vec::new();
        for g in &data.groups {
            let lead_rm = g
                .lead_rm_username
                .as_deref()
                .map(|u| lookup(&users, "user", u))
                .transpose()?;
            rows.push(vec![
                g.code.clone().into(),
                g.name.clone().into(),
                lookup(&units, "org_unit", &g.lead_unit_code)?.into(),
                lead_rm.into(),
                now.clone().into(),
            ]);
        }
        let groups_written = insert_rows(
            &mut tx,
            max_binds,
            "insert into customer_group (code, name, lead_unit_id, lead_rm_id, created_at)",
            "",
            rows,
        )
        .await?;
        let groups = code_map(&mut tx, "select id, code from customer_group").await?;
        let mut rows = Vec::new();
        for g in &data.groups {
            for co in &g.co_unit_codes {
                rows.push(vec![
                    lookup(&groups, "group", &g.code)?.into(),
                    lookup(&units, "org_unit", co)?.into(),
                ]);
            }
        }
        insert_rows(
            &mut tx,
            max_binds,
            "insert into group_co_unit (group_id, org_unit_id)",
            "",
            rows,
        )
        .await?;

        let mut rows = Vec::new();
        for m in &data.group_members {
            let parent = m
                .parent_cif_no
                .as_deref()
                .map(|p| lookup(&customers, "customer", p))
                .transpose()?;
            rows.push(vec![
                lookup(&customers, "customer", &m.cif_no)?.into(),
                lookup(&groups, "group", &m.group_code)?.into(),
                parent.into(),
            ]);
        }
        let members_written = insert_rows(
            &mut tx,
            max_binds,
            "insert into group_member (customer_id, group_id, parent_customer_id)",
            "",
            rows,
        )
        .await?;

        let mut rows = Vec::new();
        for k in &data.key_people {
            let p = &k.person;
            rows.push(vec![
                lookup(&customers, "customer", &k.cif_no)?.into(),
                p.name.clone().into(),
                p.role.as_str().into(),
                p.title.clone().into(),
                i64::from(p.closeness.get()).into(),
                i64::from(p.trust.get()).into(),
                i64::from(p.favour.get()).into(),
                p.stage.as_str().into(),
                now.clone().into(),
            ]);
        }
        let key_people_written = insert_rows(&mut tx, max_binds, "insert into key_person (customer_id, name, role, title, closeness, trust, favour, stage, created_at)", "", rows).await?;

        let mut rows = Vec::new();
        for a in &data.assignments {
            rows.push(vec![
                lookup(&customers, "customer", &a.cif_no)?.into(),
                lookup(&users, "user", &a.username)?.into(),
                a.role.as_str().into(),
                a.effective_from.to_string().into(),
                a.effective_to.map(|d| d.to_string()).into(),
                now.clone().into(),
            ]);
        }
        let assignments_written = insert_rows(&mut tx, max_binds, "insert into rm_assignment (customer_id, user_id, role, effective_from, effective_to, created_at)", "", rows).await?;

        let mut rows = Vec::new();
        for a in &data.accounts {
            rows.push(vec![
                a.account_no.clone().into(),
                lookup(&customers, "customer", &a.cif_no)?.into(),
                lookup(&products, "product", &a.product_code)?.into(),
                a.currency.as_str().into(),
                lookup(&units, "org_unit", &a.org_unit_code)?.into(),
                a.opened_on.to_string().into(),
            ]);
        }
        let accounts_written = insert_rows(&mut tx, max_binds, "insert into account (account_no, customer_id, product_id, currency, org_unit_id, opened_on)", "", rows).await?;

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
            rows.push(vec![
                lookup(&customers, "customer", &p.employer_cif_no)?.into(),
                lookup(&customers, "customer", &p.employee_cif_no)?.into(),
                p.monthly_amount.minor().into(),
                p.monthly_amount.currency().as_str().into(),
                p.since.to_string().into(),
            ]);
        }
        let payroll_written = insert_rows(&mut tx, max_binds, "insert into payroll_link (employer_id, employee_id, monthly_amount_minor, currency, since)", "", rows).await?;

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

//! Merging master data from extracts (org units, users, products, customers, groups, members, key
//! people, RM assignments, accounts, payroll links) by business key, in one transaction that also
//! writes the import batch's ledger row: killed at any moment, the batch is wholly there or not.
//!
//! A row whose references cannot be resolved (an account of a customer never defined) or that
//! breaks a rule of the domain is refused — returned to the caller as a `Refusal` — and the rest
//! of the chunk is applied. Every check runs before any statement, because a failed statement
//! aborts a PostgreSQL transaction as a whole.

use std::collections::{BTreeSet, HashMap};

use kam_core::{
    ParseError,
    contact::NewKeyPerson,
    customer::{IdNumber, Industry, NewCustomer, Phone, RiskTolerance},
    group::NewGroup,
    org::{Line, NewOrgUnit, OrgKind},
    product::NewProduct,
    reference::{AccountRecord, AssignmentRecord, KeyPersonRecord, MemberRecord, PayrollRecord},
    user::NewUser,
};
use sqlx::{Any, AssertSqlSafe, Row, Transaction};

use crate::{
    Actor, Result, Store, audit,
    bulk::insert_rows,
    ledger::{BatchState, NewImportBatch, insert_batch, mark_replaced},
    org::insert_org_unit,
    sql::{Arg, Sql},
};

/// The password hash of a user created from an HR list: no password verifies against it, so the
/// user cannot sign in until an administrator sets one. Extracts never carry passwords.
pub const NO_PASSWORD: &str = "!";

/// One chunk of master rows of a single kind, keyed by the bank's codes.
#[derive(Debug, Clone)]
pub enum MasterChunk {
    OrgUnits(Vec<NewOrgUnit>),
    Users(Vec<NewUser>),
    Products(Vec<NewProduct>),
    Customers(Vec<NewCustomer>),
    Groups(Vec<NewGroup>),
    GroupMembers(Vec<MemberRecord>),
    KeyPeople(Vec<KeyPersonRecord>),
    Assignments(Vec<AssignmentRecord>),
    Accounts(Vec<AccountRecord>),
    PayrollLinks(Vec<PayrollRecord>),
}

impl MasterChunk {
    fn table(&self) -> &'static str {
        match self {
            Self::OrgUnits(_) => "org_unit",
            Self::Users(_) => "app_user",
            Self::Products(_) => "product",
            Self::Customers(_) => "customer",
            Self::Groups(_) => "customer_group",
            Self::GroupMembers(_) => "group_member",
            Self::KeyPeople(_) => "key_person",
            Self::Assignments(_) => "rm_assignment",
            Self::Accounts(_) => "account",
            Self::PayrollLinks(_) => "payroll_link",
        }
    }
}

/// Why a row was not merged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalKind {
    /// It names a record (customer, org unit, product, user, group) that does not exist.
    UnknownReference,
    /// It breaks a rule of the domain (an org unit moved, an assignment ending before it starts).
    Rule,
}

/// A row of a chunk that was not merged: `index` into the chunk, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub index: usize,
    pub kind: RefusalKind,
    pub error: ParseError,
}

/// How many rows a merge added and changed (rows merged unchanged count as updated).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MergeCounts {
    pub inserted: u64,
    pub updated: u64,
}

/// A merge in progress: an open transaction. Dropped without `commit`, nothing happened.
#[derive(Debug)]
pub struct Merge {
    tx: Transaction<'static, Any>,
    max_binds: usize,
    now: String,
    /// The table merged into and its row count before the first chunk: merges never delete, so
    /// the growth is the number inserted.
    table: Option<(&'static str, i64)>,
    merged: u64,
}

impl Store {
    /// Opens a merge. On SQLite this holds the write lock until commit or drop.
    pub async fn begin_merge(&self) -> Result<Merge> {
        Ok(Merge {
            tx: self.pool().begin().await?,
            max_binds: self.backend().max_binds(),
            now: audit::now(),
            table: None,
            merged: 0,
        })
    }
}

fn unknown(
    index: usize,
    field: &'static str,
    value: &str,
    what_en: &str,
    what_zh: &str,
) -> Refusal {
    Refusal {
        index,
        kind: RefusalKind::UnknownReference,
        error: ParseError::new(
            field,
            value,
            format!(
                "no {what_en} with this code exists (neither stored nor earlier in this import)"
            ),
            format!("不存在此编号的{what_zh}（库中没有，本次导入中也未定义）"),
        ),
    }
}

fn rule(index: usize, error: ParseError) -> Refusal {
    Refusal {
        index,
        kind: RefusalKind::Rule,
        error,
    }
}

async fn row_count(tx: &mut Transaction<'static, Any>, table: &str) -> Result<i64> {
    let sql = format!("select count(*) as n from {table}");
    Ok(sqlx::query(AssertSqlSafe(sql))
        .fetch_one(&mut **tx)
        .await?
        .try_get("n")?)
}

/// Ids of the given codes of `table.column`, asked in chunks that fit the bind limit.
async fn ids_of<'a>(
    tx: &mut Transaction<'static, Any>,
    max_binds: usize,
    table: &str,
    column: &str,
    codes: impl IntoIterator<Item = &'a str>,
) -> Result<HashMap<String, i64>> {
    let codes: BTreeSet<&str> = codes.into_iter().collect();
    let codes: Vec<&str> = codes.into_iter().collect();
    let mut found = HashMap::with_capacity(codes.len());
    for part in codes.chunks(max_binds.max(1)) {
        let mut sql = Sql::new(&format!(
            "select id, {column} as code from {table} where {column} in ("
        ));
        for (i, code) in part.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.bind(*code);
        }
        sql.push(")");
        for row in sql.query().fetch_all(&mut **tx).await? {
            found.insert(
                row.try_get::<String, _>("code")?,
                row.try_get::<i64, _>("id")?,
            );
        }
    }
    Ok(found)
}

impl Merge {
    /// Merges one chunk; returns the rows refused. All chunks of a merge are of one kind.
    pub async fn apply(&mut self, actor: &Actor, chunk: MasterChunk) -> Result<Vec<Refusal>> {
        let table = chunk.table();
        match self.table {
            Some((merging, _)) => assert_eq!(merging, table, "one kind per merge"),
            None => self.table = Some((table, row_count(&mut self.tx, table).await?)),
        }
        let (refused, merged) = match chunk {
            MasterChunk::OrgUnits(rows) => self.org_units(actor, rows).await?,
            MasterChunk::Users(rows) => self.users(rows).await?,
            MasterChunk::Products(rows) => self.products(rows).await?,
            MasterChunk::Customers(rows) => self.customers(rows).await?,
            MasterChunk::Groups(rows) => self.groups(rows).await?,
            MasterChunk::GroupMembers(rows) => self.group_members(rows).await?,
            MasterChunk::KeyPeople(rows) => self.key_people(rows).await?,
            MasterChunk::Assignments(rows) => self.assignments(rows).await?,
            MasterChunk::Accounts(rows) => self.accounts(rows).await?,
            MasterChunk::PayrollLinks(rows) => self.payroll_links(rows).await?,
        };
        self.merged += merged as u64;
        Ok(refused)
    }

    /// Writes the batch's ledger row (committed, replacing `replaces`) and the audit row, and
    /// commits everything at once.
    pub async fn commit(
        mut self,
        actor: &Actor,
        batch: &NewImportBatch,
        replaces: Option<&str>,
    ) -> Result<MergeCounts> {
        let counts = match self.table {
            Some((table, before)) => {
                let after = row_count(&mut self.tx, table).await?;
                let inserted = u64::try_from(after - before).unwrap_or(0);
                MergeCounts {
                    inserted,
                    updated: self.merged.saturating_sub(inserted),
                }
            }
            None => MergeCounts::default(),
        };
        // The replaced batch leaves its slot first: one committed batch per slot is a unique index.
        if let Some(old) = replaces {
            mark_replaced(&mut self.tx, actor, old, &batch.batch_id).await?;
        }
        insert_batch(&mut self.tx, actor, batch, BatchState::Committed).await?;
        audit::record(
            &mut self.tx,
            actor,
            "merge",
            "import_batch",
            &batch.batch_id,
            &format!(
                "{} {} {}: inserted {} updated {}",
                batch.kind, batch.business_date, batch.file_name, counts.inserted, counts.updated
            ),
        )
        .await?;
        self.tx.commit().await?;
        Ok(counts)
    }

    async fn upsert(&mut self, head: &str, tail: &str, rows: Vec<Vec<Arg>>) -> Result<usize> {
        insert_rows(&mut self.tx, self.max_binds, head, tail, rows).await
    }

    /// Org units one by one, parents first: a unit whose parent comes later in the same chunk
    /// waits for it. An existing unit may be renamed; moving it in the tree re-scopes every
    /// customer below it, so that is done in kam by an administrator, not by an extract.
    async fn org_units(
        &mut self,
        actor: &Actor,
        rows: Vec<NewOrgUnit>,
    ) -> Result<(Vec<Refusal>, usize)> {
        let mut known: HashMap<String, (OrgKind, Option<String>)> = HashMap::new();
        let stored = sqlx::query(
            "select u.code, u.kind, p.code as parent_code from org_unit u left join org_unit p on p.id = u.parent_id",
        )
        .fetch_all(&mut *self.tx)
        .await?;
        for row in stored {
            let kind = OrgKind::parse(&row.try_get::<String, _>("kind")?)
                .map_err(crate::Error::Corrupt)?;
            known.insert(row.try_get("code")?, (kind, row.try_get("parent_code")?));
        }
        let mut refused = Vec::new();
        let mut merged = 0;
        let mut waiting: Vec<(usize, NewOrgUnit)> = rows.into_iter().enumerate().collect();
        loop {
            let before = waiting.len();
            let mut still = Vec::new();
            for (index, unit) in waiting {
                if let Some((kind, parent)) = known.get(&unit.code) {
                    if *kind != unit.kind || *parent != unit.parent_code {
                        refused.push(rule(
                            index,
                            ParseError::new(
                                "parent_code",
                                unit.parent_code.clone().unwrap_or_default(),
                                "this org unit exists with another level or parent; moving a unit re-scopes its customers and is done in kam, not by import",
                                "该机构已存在且层级或上级不同；机构调整会改变其下客户的可见范围，须在 kam 中操作，不能通过导入",
                            ),
                        ));
                        continue;
                    }
                    Sql::new("update org_unit set name = ")
                        .bind(unit.name.as_str())
                        .push(" where code = ")
                        .bind(unit.code.as_str())
                        .query()
                        .execute(&mut *self.tx)
                        .await?;
                    merged += 1;
                } else if unit
                    .parent_code
                    .as_ref()
                    .is_none_or(|p| known.contains_key(p))
                {
                    match insert_org_unit(&mut self.tx, actor, &unit).await {
                        Ok(_) => {
                            known.insert(unit.code.clone(), (unit.kind, unit.parent_code.clone()));
                            merged += 1;
                        }
                        Err(crate::Error::Invalid(error)) => refused.push(rule(index, error)),
                        Err(other) => return Err(other),
                    }
                } else {
                    still.push((index, unit));
                }
            }
            waiting = still;
            if waiting.is_empty() || waiting.len() == before {
                break;
            }
        }
        for (index, unit) in waiting {
            let parent = unit.parent_code.unwrap_or_default();
            refused.push(unknown(index, "parent_code", &parent, "org unit", "机构"));
        }
        refused.sort_by_key(|r| r.index);
        Ok((refused, merged))
    }

    /// Units by code with their level, for the checks that need it (a user's role fits its unit).
    async fn units(&mut self) -> Result<HashMap<String, (i64, OrgKind)>> {
        let rows = sqlx::query("select id, code, kind from org_unit")
            .fetch_all(&mut *self.tx)
            .await?;
        rows.iter()
            .map(|row| {
                let kind = OrgKind::parse(&row.try_get::<String, _>("kind")?)
                    .map_err(crate::Error::Corrupt)?;
                Ok((row.try_get("code")?, (row.try_get("id")?, kind)))
            })
            .collect()
    }

    async fn users(&mut self, rows: Vec<NewUser>) -> Result<(Vec<Refusal>, usize)> {
        let units = self.units().await?;
        let mut refused = Vec::new();
        let mut good = Vec::new();
        for (index, user) in rows.into_iter().enumerate() {
            let Some((unit_id, unit_kind)) = units.get(&user.org_unit_code) else {
                refused.push(unknown(
                    index,
                    "org_code",
                    &user.org_unit_code,
                    "org unit",
                    "机构",
                ));
                continue;
            };
            if let Err(error) = user.check_unit(*unit_kind) {
                refused.push(rule(index, error));
                continue;
            }
            good.push(vec![
                user.username.as_str().into(),
                user.display_name.into(),
                user.role.as_str().into(),
                (*unit_id).into(),
                user.line.map(Line::as_str).into(),
                NO_PASSWORD.into(),
                self.now.clone().into(),
            ]);
        }
        // A merged user keeps its password hash and its disabled flag: those belong to kam.
        let merged = self.upsert(
            "insert into app_user (username, display_name, role, org_unit_id, line, password_hash, created_at)",
            " on conflict (username) do update set display_name = excluded.display_name, role = excluded.role, org_unit_id = excluded.org_unit_id, line = excluded.line",
            good,
        ).await?;
        Ok((refused, merged))
    }

    async fn products(&mut self, rows: Vec<NewProduct>) -> Result<(Vec<Refusal>, usize)> {
        let now = self.now.clone();
        let good = rows
            .into_iter()
            .map(|p| {
                vec![
                    p.code.into(),
                    p.name.into(),
                    p.line.as_str().into(),
                    p.need_category.as_str().into(),
                    p.risk_level.as_str().into(),
                    now.clone().into(),
                ]
            })
            .collect();
        let merged = self.upsert(
            "insert into product (code, name, line, need_category, risk_level, created_at)",
            " on conflict (code) do update set name = excluded.name, line = excluded.line, need_category = excluded.need_category, risk_level = excluded.risk_level",
            good,
        ).await?;
        Ok((Vec::new(), merged))
    }

    async fn customers(&mut self, rows: Vec<NewCustomer>) -> Result<(Vec<Refusal>, usize)> {
        let units = ids_of(
            &mut self.tx,
            self.max_binds,
            "org_unit",
            "code",
            rows.iter().map(|c| c.org_unit_code.as_str()),
        )
        .await?;
        let mut refused = Vec::new();
        let mut good = Vec::with_capacity(rows.len());
        for (index, c) in rows.into_iter().enumerate() {
            let Some(unit) = units.get(&c.org_unit_code) else {
                refused.push(unknown(
                    index,
                    "org_code",
                    &c.org_unit_code,
                    "org unit",
                    "机构",
                ));
                continue;
            };
            good.push(vec![
                c.cif_no.as_str().into(),
                c.kind.as_str().into(),
                c.name.into(),
                c.line.as_str().into(),
                (*unit).into(),
                c.industry.map(Industry::as_str).into(),
                c.account_type.as_str().into(),
                c.risk_tolerance.map(RiskTolerance::as_str).into(),
                c.id_number.as_ref().map(IdNumber::reveal).into(),
                c.phone.as_ref().map(Phone::reveal).into(),
                c.since.to_string().into(),
                self.now.clone().into(),
            ]);
        }
        let merged = self.upsert(
            "insert into customer (cif_no, kind, name, line, org_unit_id, industry, account_type, risk_tolerance, id_number, phone, since, created_at)",
            " on conflict (cif_no) do update set kind = excluded.kind, name = excluded.name, line = excluded.line, org_unit_id = excluded.org_unit_id, industry = excluded.industry, account_type = excluded.account_type, risk_tolerance = excluded.risk_tolerance, id_number = excluded.id_number, phone = excluded.phone, since = excluded.since",
            good,
        ).await?;
        Ok((refused, merged))
    }

    async fn groups(&mut self, rows: Vec<NewGroup>) -> Result<(Vec<Refusal>, usize)> {
        let units = self.units().await?;
        let users = ids_of(
            &mut self.tx,
            self.max_binds,
            "app_user",
            "username",
            rows.iter().filter_map(|g| g.lead_rm_username.as_deref()),
        )
        .await?;
        let mut refused = Vec::new();
        let mut good = Vec::new();
        let mut accepted = Vec::new();
        'rows: for (index, g) in rows.into_iter().enumerate() {
            let Some((lead_unit, _)) = units.get(&g.lead_unit_code) else {
                refused.push(unknown(
                    index,
                    "lead_org_code",
                    &g.lead_unit_code,
                    "org unit",
                    "机构",
                ));
                continue;
            };
            for co in &g.co_unit_codes {
                if !units.contains_key(co) {
                    refused.push(unknown(index, "co_org_codes", co, "org unit", "机构"));
                    continue 'rows;
                }
            }
            let lead_rm = match g.lead_rm_username.as_deref() {
                Some(username) => match users.get(username) {
                    Some(id) => Some(*id),
                    None => {
                        refused.push(unknown(index, "lead_rm", username, "user", "用户"));
                        continue;
                    }
                },
                None => None,
            };
            good.push(vec![
                g.code.as_str().into(),
                g.name.as_str().into(),
                (*lead_unit).into(),
                lead_rm.into(),
                self.now.clone().into(),
            ]);
            accepted.push(g);
        }
        let merged = self.upsert(
            "insert into customer_group (code, name, lead_unit_id, lead_rm_id, created_at)",
            " on conflict (code) do update set name = excluded.name, lead_unit_id = excluded.lead_unit_id, lead_rm_id = excluded.lead_rm_id",
            good,
        ).await?;
        // The co-units of a merged group are the file's list, replacing what was stored.
        let groups = ids_of(
            &mut self.tx,
            self.max_binds,
            "customer_group",
            "code",
            accepted.iter().map(|g| g.code.as_str()),
        )
        .await?;
        let mut co_rows = Vec::new();
        for g in &accepted {
            let group_id = groups[&g.code];
            Sql::new("delete from group_co_unit where group_id = ")
                .bind(group_id)
                .query()
                .execute(&mut *self.tx)
                .await?;
            let codes: BTreeSet<&String> = g.co_unit_codes.iter().collect();
            for code in codes {
                co_rows.push(vec![group_id.into(), units[code].0.into()]);
            }
        }
        self.upsert(
            "insert into group_co_unit (group_id, org_unit_id)",
            "",
            co_rows,
        )
        .await?;
        Ok((refused, merged))
    }

    async fn customer_ids<'a>(
        &mut self,
        codes: impl IntoIterator<Item = &'a str>,
    ) -> Result<HashMap<String, i64>> {
        ids_of(&mut self.tx, self.max_binds, "customer", "cif_no", codes).await
    }

    async fn group_members(&mut self, rows: Vec<MemberRecord>) -> Result<(Vec<Refusal>, usize)> {
        let customers =
            self.customer_ids(rows.iter().flat_map(|m| {
                std::iter::once(m.cif_no.as_str()).chain(m.parent_cif_no.as_deref())
            }))
            .await?;
        let groups = ids_of(
            &mut self.tx,
            self.max_binds,
            "customer_group",
            "code",
            rows.iter().map(|m| m.group_code.as_str()),
        )
        .await?;
        let mut refused = Vec::new();
        let mut good = Vec::new();
        for (index, m) in rows.into_iter().enumerate() {
            let Some(group) = groups.get(&m.group_code) else {
                refused.push(unknown(index, "group_code", &m.group_code, "group", "集团"));
                continue;
            };
            let Some(customer) = customers.get(&m.cif_no) else {
                refused.push(unknown(index, "cif_no", &m.cif_no, "customer", "客户"));
                continue;
            };
            let parent = match m.parent_cif_no.as_deref() {
                Some(p) if p == m.cif_no => {
                    refused.push(rule(
                        index,
                        ParseError::new(
                            "parent_cif_no",
                            p,
                            "a member cannot be its own parent",
                            "成员不能是自己的上级",
                        ),
                    ));
                    continue;
                }
                Some(p) => match customers.get(p) {
                    Some(id) => Some(*id),
                    None => {
                        refused.push(unknown(index, "parent_cif_no", p, "customer", "客户"));
                        continue;
                    }
                },
                None => None,
            };
            good.push(vec![(*customer).into(), (*group).into(), parent.into()]);
        }
        let merged = self.upsert(
            "insert into group_member (customer_id, group_id, parent_customer_id)",
            " on conflict (customer_id) do update set group_id = excluded.group_id, parent_customer_id = excluded.parent_customer_id",
            good,
        ).await?;
        Ok((refused, merged))
    }

    async fn key_people(&mut self, rows: Vec<KeyPersonRecord>) -> Result<(Vec<Refusal>, usize)> {
        let customers = self
            .customer_ids(rows.iter().map(|k| k.cif_no.as_str()))
            .await?;
        let mut refused = Vec::new();
        let mut good = Vec::new();
        for (index, k) in rows.into_iter().enumerate() {
            let Some(customer) = customers.get(&k.cif_no) else {
                refused.push(unknown(index, "cif_no", &k.cif_no, "customer", "客户"));
                continue;
            };
            let NewKeyPerson {
                name,
                role,
                title,
                closeness,
                trust,
                favour,
                stage,
            } = k.person;
            good.push(vec![
                (*customer).into(),
                name.into(),
                role.as_str().into(),
                title.into(),
                i64::from(closeness.get()).into(),
                i64::from(trust.get()).into(),
                i64::from(favour.get()).into(),
                stage.as_str().into(),
                self.now.clone().into(),
            ]);
        }
        let merged = self.upsert(
            "insert into key_person (customer_id, name, role, title, closeness, trust, favour, stage, created_at)",
            " on conflict (customer_id, name, role) do update set title = excluded.title, closeness = excluded.closeness, trust = excluded.trust, favour = excluded.favour, stage = excluded.stage",
            good,
        ).await?;
        Ok((refused, merged))
    }

    async fn assignments(&mut self, rows: Vec<AssignmentRecord>) -> Result<(Vec<Refusal>, usize)> {
        let customers = self
            .customer_ids(rows.iter().map(|a| a.cif_no.as_str()))
            .await?;
        let users = ids_of(
            &mut self.tx,
            self.max_binds,
            "app_user",
            "username",
            rows.iter().map(|a| a.username.as_str()),
        )
        .await?;
        let mut refused = Vec::new();
        let mut good = Vec::new();
        for (index, a) in rows.into_iter().enumerate() {
            let Some(customer) = customers.get(&a.cif_no) else {
                refused.push(unknown(index, "cif_no", &a.cif_no, "customer", "客户"));
                continue;
            };
            let Some(user) = users.get(&a.username) else {
                refused.push(unknown(index, "username", &a.username, "user", "用户"));
                continue;
            };
            if let Some(to) = a.effective_to
                && to <= a.effective_from
            {
                refused.push(rule(
                    index,
                    ParseError::new(
                        "effective_to",
                        to.to_string(),
                        "an assignment ends after it starts (effective_to is exclusive)",
                        "分管结束日期应晚于开始日期（结束日不含）",
                    ),
                ));
                continue;
            }
            good.push(vec![
                (*customer).into(),
                (*user).into(),
                a.role.as_str().into(),
                a.effective_from.to_string().into(),
                a.effective_to.map(|d| d.to_string()).into(),
                self.now.clone().into(),
            ]);
        }
        let merged = self.upsert(
            "insert into rm_assignment (customer_id, user_id, role, effective_from, effective_to, created_at)",
            " on conflict (customer_id, user_id, role, effective_from) do update set effective_to = excluded.effective_to",
            good,
        ).await?;
        Ok((refused, merged))
    }

    async fn accounts(&mut self, rows: Vec<AccountRecord>) -> Result<(Vec<Refusal>, usize)> {
        let customers = self
            .customer_ids(rows.iter().map(|a| a.cif_no.as_str()))
            .await?;
        let products = ids_of(
            &mut self.tx,
            self.max_binds,
            "product",
            "code",
            rows.iter().map(|a| a.product_code.as_str()),
        )
        .await?;
        let units = ids_of(
            &mut self.tx,
            self.max_binds,
            "org_unit",
            "code",
            rows.iter().map(|a| a.org_unit_code.as_str()),
        )
        .await?;
        let mut refused = Vec::new();
        let mut good = Vec::new();
        for (index, a) in rows.into_iter().enumerate() {
            let Some(customer) = customers.get(&a.cif_no) else {
                refused.push(unknown(index, "cif_no", &a.cif_no, "customer", "客户"));
                continue;
            };
            let Some(product) = products.get(&a.product_code) else {
                refused.push(unknown(
                    index,
                    "product_code",
                    &a.product_code,
                    "product",
                    "产品",
                ));
                continue;
            };
            let Some(unit) = units.get(&a.org_unit_code) else {
                refused.push(unknown(
                    index,
                    "org_code",
                    &a.org_unit_code,
                    "org unit",
                    "机构",
                ));
                continue;
            };
            good.push(vec![
                a.account_no.into(),
                (*customer).into(),
                (*product).into(),
                a.currency.as_str().into(),
                (*unit).into(),
                a.opened_on.to_string().into(),
            ]);
        }
        let merged = self.upsert(
            "insert into account (account_no, customer_id, product_id, currency, org_unit_id, opened_on)",
            " on conflict (account_no) do update set customer_id = excluded.customer_id, product_id = excluded.product_id, currency = excluded.currency, org_unit_id = excluded.org_unit_id, opened_on = excluded.opened_on",
            good,
        ).await?;
        Ok((refused, merged))
    }

    async fn payroll_links(&mut self, rows: Vec<PayrollRecord>) -> Result<(Vec<Refusal>, usize)> {
        let customers = self
            .customer_ids(
                rows.iter()
                    .flat_map(|p| [p.employer_cif_no.as_str(), p.employee_cif_no.as_str()]),
            )
            .await?;
        let mut refused = Vec::new();
        let mut good = Vec::new();
        for (index, p) in rows.into_iter().enumerate() {
            let Some(employer) = customers.get(&p.employer_cif_no) else {
                refused.push(unknown(
                    index,
                    "employer_cif_no",
                    &p.employer_cif_no,
                    "customer",
                    "客户",
                ));
                continue;
            };
            let Some(employee) = customers.get(&p.employee_cif_no) else {
                refused.push(unknown(
                    index,
                    "employee_cif_no",
                    &p.employee_cif_no,
                    "customer",
                    "客户",
                ));
                continue;
            };
            if employer == employee {
                refused.push(rule(
                    index,
                    ParseError::new(
                        "employee_cif_no",
                        p.employee_cif_no.as_str(),
                        "an employer does not pay itself",
                        "代发单位与员工不能是同一客户",
                    ),
                ));
                continue;
            }
            if p.monthly_amount.minor() < 0 {
                refused.push(rule(
                    index,
                    ParseError::new(
                        "monthly_amount",
                        p.monthly_amount.minor().to_string(),
                        "a monthly payroll amount is not negative",
                        "月代发金额不能为负",
                    ),
                ));
                continue;
            }
            good.push(vec![
                (*employer).into(),
                (*employee).into(),
                p.monthly_amount.minor().into(),
                p.monthly_amount.currency().as_str().into(),
                p.since.to_string().into(),
            ]);
        }
        let merged = self.upsert(
            "insert into payroll_link (employer_id, employee_id, monthly_amount_minor, currency, since)",
            " on conflict (employer_id, employee_id) do update set monthly_amount_minor = excluded.monthly_amount_minor, currency = excluded.currency, since = excluded.since",
            good,
        ).await?;
        Ok((refused, merged))
    }
}

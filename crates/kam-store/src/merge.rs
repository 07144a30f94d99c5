//! Merging master data from extracts (org units, users, products, customers, groups, members, key
//! people, RM assignments, accounts, payroll links, corporate archives) by business key, in one transaction that also
//! writes the import batch's ledger row: killed at any moment, the batch is wholly there or not.
//!
//! A row whose references cannot be resolved (an account of a customer never defined) or that
//! breaks a rule of the domain is refused — returned to the caller as a `Refusal` — and the rest
//! of the chunk is applied. Every check runs before any statement, because a failed statement
//! aborts a PostgreSQL transaction as a whole.

use std::collections::{BTreeSet, HashMap};

use kam_core::{
    ParseError,
    customer::NewCustomer,
    group::NewGroup,
    id::{CustomerId, GroupId, UserId},
    org::{Line, NewOrgUnit, OrgKind},
    product::{AccountRole, NewProduct},
    reference::{
        AccountPartyRecord, AccountRecord, AssignmentRecord, HoldingRecord, KeyPersonRecord,
        MemberRecord, PayrollRecord, ProfileRecord,
    },
    user::NewUser,
};
use sqlx::{Any, AssertSqlSafe, Row, Transaction};

use crate::{
    Actor, Result, Store, audit,
    bulk::insert_values,
    group::write_members,
    ledger::{BatchState, NewImportBatch, insert_batch, mark_replaced},
    org::insert_org_unit,
    relationship::{NewAssignment, write_assignments},
    rows,
    rows::Table,
    sql::{Sql, Values},
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
    Holdings(Vec<HoldingRecord>),
    AccountParties(Vec<AccountPartyRecord>),
    Profiles(Vec<ProfileRecord>),
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
            Self::Holdings(_) => "holding",
            Self::AccountParties(_) => "account_party",
            Self::Profiles(_) => "corporate_profile",
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

/// How many rows a merge added and changed (rows already as given count as neither).
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
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn begin_merge(&self) -> Result<Merge> {
        Ok(Merge {
            tx: self.begin_write().await?,
            max_binds: self.backend().max_binds(),
            now: audit::now(),
            table: None,
            merged: 0,
        })
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

/// What rows refer to by code.
#[derive(Debug, Clone, Copy)]
enum Referent {
    OrgUnit,
    User,
    Product,
    Customer,
    Group,
    Account,
}

impl Referent {
    /// The table and its unique code column.
    fn table_column(self) -> (&'static str, &'static str) {
        match self {
            Self::OrgUnit => ("org_unit", "code"),
            Self::User => ("app_user", "username"),
            Self::Product => ("product", "code"),
            Self::Customer => ("customer", "cif_no"),
            Self::Group => ("customer_group", "code"),
            Self::Account => ("account", "account_no"),
        }
    }

    /// The refusal of row `index`, whose `field` names a `code` that does not exist.
    fn missing(self, index: usize, field: &'static str, code: &str) -> Refusal {
        let (en, zh) = match self {
            Self::OrgUnit => ("org unit", "机构"),
            Self::User => ("user", "用户"),
            Self::Product => ("product", "产品"),
            Self::Customer => ("customer", "客户"),
            Self::Group => ("group", "集团"),
            Self::Account => ("account", "账户"),
        };
        Refusal {
            index,
            kind: RefusalKind::UnknownReference,
            error: ParseError::new(
                field,
                code,
                format!(
                    "no {en} with this code exists (neither stored nor earlier in this import)"
                ),
                format!("不存在此编号的{zh}（库中没有，本次导入中也未定义）"),
            ),
        }
    }
}

/// The ids of the codes one chunk names, of one referent.
struct Ids {
    of: Referent,
    ids: HashMap<String, i64>,
}

impl Ids {
    /// The id of `code`, or `None` with row `index` refused.
    fn get(
        &self,
        index: usize,
        field: &'static str,
        code: &str,
        refused: &mut Vec<Refusal>,
    ) -> Option<i64> {
        let id = self.ids.get(code).copied();
        if id.is_none() {
            refused.push(self.of.missing(index, field, code));
        }
        id
    }

    /// An optional reference: `Some(None)` when the row names none, `None` (row refused) when it
    /// names one that does not exist.
    fn get_opt(
        &self,
        index: usize,
        field: &'static str,
        code: Option<&str>,
        refused: &mut Vec<Refusal>,
    ) -> Option<Option<i64>> {
        match code {
            Some(code) => self.get(index, field, code, refused).map(Some),
            None => Some(None),
        }
    }
}

impl Merge {
    /// Merges one chunk; returns the rows refused. All chunks of a merge are of one kind.
    #[tracing::instrument(level = "debug", skip_all)]
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
            MasterChunk::KeyPeople(rows) => self.key_people(actor, rows).await?,
            MasterChunk::Assignments(rows) => self.assignments(rows).await?,
            MasterChunk::Accounts(rows) => self.accounts(rows).await?,
            MasterChunk::PayrollLinks(rows) => self.payroll_links(rows).await?,
            MasterChunk::Holdings(rows) => self.holdings(rows).await?,
            MasterChunk::AccountParties(rows) => self.account_parties(rows).await?,
            MasterChunk::Profiles(rows) => self.profiles(actor, rows).await?,
        };
        self.merged += merged as u64;
        Ok(refused)
    }

    /// Writes the batch's ledger row (committed, replacing `replaces`) and the audit row, and
    /// commits everything at once.
    #[tracing::instrument(level = "debug", skip_all)]
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

    /// Inserts or updates by business key; returns the rows actually written — a row already
    /// as given is left alone and not counted, so a re-import reports nothing updated.
    async fn upsert(&mut self, table: Table, rows: Vec<Values>) -> Result<usize> {
        insert_values(
            &mut self.tx,
            self.max_binds,
            table.name,
            rows,
            Some(table.upsert),
        )
        .await
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
                    // Counted only when the name really changes.
                    let renamed = Sql::new("update org_unit set name = ")
                        .bind(unit.name.as_str())
                        .push(" where code = ")
                        .bind(unit.code.as_str())
                        .push(" and name <> ")
                        .bind(unit.name.as_str())
                        .query()
                        .execute(&mut *self.tx)
                        .await?
                        .rows_affected();
                    merged += usize::try_from(renamed).unwrap_or(0);
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
            refused.push(Referent::OrgUnit.missing(index, "parent_code", &parent));
        }
        refused.sort_by_key(|r| r.index);
        Ok((refused, merged))
    }

    /// The ids of `codes` (asked in parts that fit the bind limit).
    async fn ids<'a>(
        &mut self,
        of: Referent,
        codes: impl IntoIterator<Item = &'a str>,
    ) -> Result<Ids> {
        let (table, column) = of.table_column();
        let codes: Vec<&str> = codes
            .into_iter()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut ids = HashMap::with_capacity(codes.len());
        for part in codes.chunks(self.max_binds.max(1)) {
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
            for row in sql.query().fetch_all(&mut *self.tx).await? {
                ids.insert(
                    row.try_get::<String, _>("code")?,
                    row.try_get::<i64, _>("id")?,
                );
            }
        }
        Ok(Ids { of, ids })
    }

    /// The customer each of these accounts belongs to.
    async fn account_holders(&mut self, accounts: &[i64]) -> Result<HashMap<i64, i64>> {
        let mut holders = HashMap::with_capacity(accounts.len());
        for part in accounts.chunks(self.max_binds.max(1)) {
            let mut sql = Sql::new("select id, customer_id from account where id in (");
            for (i, id) in part.iter().enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                sql.bind(*id);
            }
            sql.push(")");
            for row in sql.query().fetch_all(&mut *self.tx).await? {
                holders.insert(
                    row.try_get::<i64, _>("id")?,
                    row.try_get::<i64, _>("customer_id")?,
                );
            }
        }
        Ok(holders)
    }

    async fn users(&mut self, rows: Vec<NewUser>) -> Result<(Vec<Refusal>, usize)> {
        // Every unit with its level: a user's role must fit the level of its unit.
        let mut units: HashMap<String, (i64, OrgKind)> = HashMap::new();
        for row in sqlx::query("select id, code, kind from org_unit")
            .fetch_all(&mut *self.tx)
            .await?
        {
            let kind = OrgKind::parse(&row.try_get::<String, _>("kind")?)
                .map_err(crate::Error::Corrupt)?;
            units.insert(row.try_get("code")?, (row.try_get("id")?, kind));
        }
        let mut refused = Vec::new();
        let mut good = Vec::new();
        for (index, user) in rows.into_iter().enumerate() {
            let Some((unit_id, unit_kind)) = units.get(&user.org_unit_code) else {
                refused.push(Referent::OrgUnit.missing(index, "org_code", &user.org_unit_code));
                continue;
            };
            if let Err(error) = user.check_unit(*unit_kind) {
                refused.push(rule(index, error));
                continue;
            }
            good.push(
                Values::new()
                    .put("username", user.username.as_str())
                    .put("display_name", user.display_name)
                    .put("role", user.role.as_str())
                    .put("org_unit_id", *unit_id)
                    .put("line", user.line.map(Line::as_str))
                    .put("password_hash", NO_PASSWORD)
                    .put("created_at", self.now.as_str()),
            );
        }
        // A merged user keeps its password hash and its disabled flag: those belong to kam.
        let merged = self.upsert(rows::USER, good).await?;
        Ok((refused, merged))
    }

    async fn products(&mut self, rows: Vec<NewProduct>) -> Result<(Vec<Refusal>, usize)> {
        let good = rows.iter().map(|p| rows::product(p, &self.now)).collect();
        let merged = self.upsert(rows::PRODUCT, good).await?;
        Ok((Vec::new(), merged))
    }

    async fn customers(&mut self, rows: Vec<NewCustomer>) -> Result<(Vec<Refusal>, usize)> {
        let units = self
            .ids(
                Referent::OrgUnit,
                rows.iter().map(|c| c.org_unit_code.as_str()),
            )
            .await?;
        let mut refused = Vec::new();
        let mut good = Vec::with_capacity(rows.len());
        for (index, c) in rows.iter().enumerate() {
            if let Some(unit) = units.get(index, "org_code", &c.org_unit_code, &mut refused) {
                good.push(rows::customer(c, unit, &self.now));
            }
        }
        let merged = self.upsert(rows::CUSTOMER, good).await?;
        Ok((refused, merged))
    }

    async fn groups(&mut self, rows: Vec<NewGroup>) -> Result<(Vec<Refusal>, usize)> {
        let units = self
            .ids(
                Referent::OrgUnit,
                rows.iter().flat_map(|g| {
                    std::iter::once(g.lead_unit_code.as_str())
                        .chain(g.co_unit_codes.iter().map(String::as_str))
                }),
            )
            .await?;
        let users = self
            .ids(
                Referent::User,
                rows.iter().filter_map(|g| g.lead_rm_username.as_deref()),
            )
            .await?;
        let mut refused = Vec::new();
        let mut good = Vec::new();
        // Each accepted group with the ids of its co-units.
        let mut accepted: Vec<(&NewGroup, Vec<i64>)> = Vec::new();
        for (index, g) in rows.iter().enumerate() {
            let Some(lead_unit) =
                units.get(index, "lead_org_code", &g.lead_unit_code, &mut refused)
            else {
                continue;
            };
            let co_codes: BTreeSet<&String> = g.co_unit_codes.iter().collect();
            let Some(co_units) = co_codes
                .into_iter()
                .map(|co| units.get(index, "co_org_codes", co, &mut refused))
                .collect::<Option<Vec<i64>>>()
            else {
                continue;
            };
            let Some(lead_rm) = users.get_opt(
                index,
                "lead_rm",
                g.lead_rm_username.as_deref(),
                &mut refused,
            ) else {
                continue;
            };
            good.push(rows::group(g, lead_unit, lead_rm, &self.now));
            accepted.push((g, co_units));
        }
        let merged = self.upsert(rows::GROUP, good).await?;
        // The co-units of a merged group are the file's list, replacing what was stored.
        let groups = self
            .ids(
                Referent::Group,
                accepted.iter().map(|(g, _)| g.code.as_str()),
            )
            .await?;
        let mut co_rows = Vec::new();
        for (g, co_units) in accepted {
            let group_id = groups.ids[&g.code];
            Sql::new("delete from group_co_unit where group_id = ")
                .bind(group_id)
                .query()
                .execute(&mut *self.tx)
                .await?;
            co_rows.extend(
                co_units
                    .into_iter()
                    .map(|unit| rows::group_co_unit(group_id, unit)),
            );
        }
        insert_values(
            &mut self.tx,
            self.max_binds,
            rows::GROUP_CO_UNIT,
            co_rows,
            None,
        )
        .await?;
        Ok((refused, merged))
    }

    async fn group_members(&mut self, rows: Vec<MemberRecord>) -> Result<(Vec<Refusal>, usize)> {
        let customers = self
            .ids(
                Referent::Customer,
                rows.iter().flat_map(|m| {
                    std::iter::once(m.cif_no.as_str()).chain(m.parent_cif_no.as_deref())
                }),
            )
            .await?;
        let groups = self
            .ids(Referent::Group, rows.iter().map(|m| m.group_code.as_str()))
            .await?;
        let mut refused = Vec::new();
        let mut good = Vec::new();
        let mut index_of = Vec::new();
        for (index, m) in rows.iter().enumerate() {
            let (Some(group), Some(customer)) = (
                groups.get(index, "group_code", &m.group_code, &mut refused),
                customers.get(index, "cif_no", &m.cif_no, &mut refused),
            ) else {
                continue;
            };
            let Some(parent) = customers.get_opt(
                index,
                "parent_cif_no",
                m.parent_cif_no.as_deref(),
                &mut refused,
            ) else {
                continue;
            };
            good.push((CustomerId(customer), GroupId(group), parent.map(CustomerId)));
            index_of.push(index);
        }
        // kam-core's tree rules per group (one root, parents in the group, no cycle) in the one
        // writer, against what the table holds and the rows before.
        let (broken, merged) = write_members(&mut self.tx, self.max_binds, &good).await?;
        Ok((with_broken(refused, broken, &index_of), merged))
    }

    async fn key_people(
        &mut self,
        actor: &Actor,
        rows: Vec<KeyPersonRecord>,
    ) -> Result<(Vec<Refusal>, usize)> {
        let customers = self
            .ids(Referent::Customer, rows.iter().map(|k| k.cif_no.as_str()))
            .await?;
        let owners = self
            .ids(
                Referent::User,
                rows.iter()
                    .filter_map(|k| k.person.details.owner.as_deref()),
            )
            .await?;
        let today = latest_bank_day();
        let mut refused = Vec::new();
        let mut good = Vec::new();
        for (index, k) in rows.iter().enumerate() {
            let owner = owners.get_opt(
                index,
                "owner",
                k.person.details.owner.as_deref(),
                &mut refused,
            );
            if let Err(error) = k.person.details.check(today) {
                refused.push(rule(index, error));
                continue;
            }
            if let (Some(customer), Some(_)) = (
                customers.get(index, "cif_no", &k.cif_no, &mut refused),
                owner,
            ) {
                good.push(rows::key_person(
                    customer,
                    &k.person,
                    k.stage_since,
                    (actor.name.as_str(), &self.now),
                ));
            }
        }
        let merged = self.upsert(rows::KEY_PERSON, good).await?;
        Ok((first_per_row(refused), merged))
    }

    async fn assignments(&mut self, rows: Vec<AssignmentRecord>) -> Result<(Vec<Refusal>, usize)> {
        let customers = self
            .ids(Referent::Customer, rows.iter().map(|a| a.cif_no.as_str()))
            .await?;
        let users = self
            .ids(Referent::User, rows.iter().map(|a| a.username.as_str()))
            .await?;
        let mut refused = Vec::new();
        let mut good = Vec::new();
        let mut index_of = Vec::new();
        for (index, a) in rows.iter().enumerate() {
            let (Some(customer), Some(user)) = (
                customers.get(index, "cif_no", &a.cif_no, &mut refused),
                users.get(index, "username", &a.username, &mut refused),
            ) else {
                continue;
            };
            good.push(NewAssignment {
                customer: CustomerId(customer),
                user: UserId(user),
                role: a.role,
                from: a.effective_from,
                to: a.effective_to,
            });
            index_of.push(index);
        }
        // kam-core's history rules (hand-over, no overlapping leads) in the one writer.
        let (broken, merged) = write_assignments(&mut self.tx, self.max_binds, &good).await?;
        Ok((with_broken(refused, broken, &index_of), merged))
    }

    async fn accounts(&mut self, rows: Vec<AccountRecord>) -> Result<(Vec<Refusal>, usize)> {
        let customers = self
            .ids(Referent::Customer, rows.iter().map(|a| a.cif_no.as_str()))
            .await?;
        let products = self
            .ids(
                Referent::Product,
                rows.iter().map(|a| a.product_code.as_str()),
            )
            .await?;
        let units = self
            .ids(
                Referent::OrgUnit,
                rows.iter().map(|a| a.org_unit_code.as_str()),
            )
            .await?;
        let mut refused = Vec::new();
        let mut good = Vec::new();
        for (index, a) in rows.iter().enumerate() {
            let (Some(customer), Some(product), Some(unit)) = (
                customers.get(index, "cif_no", &a.cif_no, &mut refused),
                products.get(index, "product_code", &a.product_code, &mut refused),
                units.get(index, "org_code", &a.org_unit_code, &mut refused),
            ) else {
                continue;
            };
            good.push(rows::account(a, customer, product, unit));
        }
        let merged = self.upsert(rows::ACCOUNT, good).await?;
        Ok((first_per_row(refused), merged))
    }

    async fn payroll_links(&mut self, rows: Vec<PayrollRecord>) -> Result<(Vec<Refusal>, usize)> {
        let customers = self
            .ids(
                Referent::Customer,
                rows.iter()
                    .flat_map(|p| [p.employer_cif_no.as_str(), p.employee_cif_no.as_str()]),
            )
            .await?;
        let mut refused = Vec::new();
        let mut good = Vec::new();
        for (index, p) in rows.iter().enumerate() {
            let (Some(employer), Some(employee)) = (
                customers.get(index, "employer_cif_no", &p.employer_cif_no, &mut refused),
                customers.get(index, "employee_cif_no", &p.employee_cif_no, &mut refused),
            ) else {
                continue;
            };
            let broken = if employer == employee {
                Some(ParseError::new(
                    "employee_cif_no",
                    p.employee_cif_no.as_str(),
                    "an employer does not pay itself",
                    "代发单位与员工不能是同一客户",
                ))
            } else if p.monthly_amount.minor() < 0 {
                Some(ParseError::new(
                    "monthly_amount",
                    p.monthly_amount.minor().to_string(),
                    "a monthly payroll amount is not negative",
                    "月代发金额不能为负",
                ))
            } else {
                None
            };
            if let Some(error) = broken {
                refused.push(rule(index, error));
                continue;
            }
            good.push(rows::payroll_link(employer, employee, p));
        }
        let merged = self.upsert(rows::PAYROLL_LINK, good).await?;
        Ok((first_per_row(refused), merged))
    }

    /// Account parties: a joint owner or an authorised user of an account, by (account,
    /// customer). The account's own customer may be listed as its owner, not as authorised.
    async fn account_parties(
        &mut self,
        rows: Vec<AccountPartyRecord>,
    ) -> Result<(Vec<Refusal>, usize)> {
        let customers = self
            .ids(Referent::Customer, rows.iter().map(|p| p.cif_no.as_str()))
            .await?;
        let accounts = self
            .ids(
                Referent::Account,
                rows.iter().map(|p| p.account_no.as_str()),
            )
            .await?;
        let holders = self
            .account_holders(&accounts.ids.values().copied().collect::<Vec<_>>())
            .await?;
        let mut refused = Vec::new();
        let mut good = Vec::new();
        for (index, p) in rows.iter().enumerate() {
            let (Some(customer), Some(account)) = (
                customers.get(index, "cif_no", &p.cif_no, &mut refused),
                accounts.get(index, "account_no", &p.account_no, &mut refused),
            ) else {
                continue;
            };
            if p.role == AccountRole::Authorised && holders.get(&account) == Some(&customer) {
                refused.push(rule(
                    index,
                    ParseError::new(
                        "role",
                        p.role.as_str(),
                        "the account's own customer is its owner, not an authorised user",
                        "账户所属客户是账户的户主，不能是授权人",
                    ),
                ));
                continue;
            }
            good.push(rows::account_party(account, customer, p));
        }
        let merged = self.upsert(rows::ACCOUNT_PARTY, good).await?;
        Ok((first_per_row(refused), merged))
    }

    /// Holdings: a customer's amount of a product on a day, by (customer, product, currency, day).
    async fn holdings(&mut self, rows: Vec<HoldingRecord>) -> Result<(Vec<Refusal>, usize)> {
        let customers = self
            .ids(Referent::Customer, rows.iter().map(|h| h.cif_no.as_str()))
            .await?;
        let products = self
            .ids(
                Referent::Product,
                rows.iter().map(|h| h.product_code.as_str()),
            )
            .await?;
        let mut refused = Vec::new();
        let mut good = Vec::new();
        for (index, h) in rows.iter().enumerate() {
            let (Some(customer), Some(product)) = (
                customers.get(index, "cif_no", &h.cif_no, &mut refused),
                products.get(index, "product_code", &h.product_code, &mut refused),
            ) else {
                continue;
            };
            if h.amount.minor() < 0 {
                refused.push(rule(
                    index,
                    ParseError::new(
                        "amount",
                        h.amount.minor().to_string(),
                        "a holding's amount is not negative",
                        "持有金额不能为负",
                    ),
                ));
                continue;
            }
            good.push(rows::holding(customer, product, h));
        }
        let merged = self.upsert(rows::HOLDING, good).await?;
        Ok((first_per_row(refused), merged))
    }

    /// Corporate archives: the extract's fields laid over the stored archive (the RM's entries
    /// stay where the extract is empty), checked by kam-core as a person's save is, and written
    /// as a new version by the same writer; an archive the extract leaves as it was is not
    /// touched. A later row for the same customer in one chunk is a duplicate the reader refused.
    async fn profiles(
        &mut self,
        actor: &Actor,
        rows: Vec<ProfileRecord>,
    ) -> Result<(Vec<Refusal>, usize)> {
        let today = latest_bank_day();
        let mut refused = Vec::new();
        let mut merged = 0;
        for (index, record) in rows.iter().enumerate() {
            let Some((id, corporate, stored)) =
                crate::profile::customer_with_profile(&mut self.tx, &record.cif_no).await?
            else {
                refused.push(Referent::Customer.missing(index, "cif_no", &record.cif_no));
                continue;
            };
            if !corporate {
                refused.push(rule(
                    index,
                    ParseError::new(
                        "cif_no",
                        record.cif_no.as_str(),
                        "the archive is kept for corporate customers",
                        "信息档案只用于对公客户",
                    ),
                ));
                continue;
            }
            let (before, version) = match stored {
                Some(s) => (s.profile, s.version),
                None => (kam_core::profile::CorporateProfile::default(), 0),
            };
            let after = before.overlaid(&record.profile);
            if let Err(error) = after.check(today) {
                refused.push(rule(index, error));
                continue;
            }
            if after == before && version > 0 {
                continue;
            }
            crate::profile::write_profile(
                &mut self.tx,
                id,
                &after,
                version + 1,
                actor.name.as_str(),
            )
            .await?;
            merged += 1;
        }
        Ok((refused, merged))
    }
}

/// The latest day that may be "today" somewhere a bank runs: a date not after it (a birthday, a
/// founding) is not in the future. The merge has no bank zone, and a zone ahead of UTC may be a
/// day ahead.
fn latest_bank_day() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive() + chrono::Duration::days(1)
}

/// The refusals of a chunk with those of a table's writer added: `broken` indexes the rows handed
/// to the writer, `index_of` maps them back to the chunk's rows. One per row, in row order.
fn with_broken(
    mut refused: Vec<Refusal>,
    broken: Vec<(usize, ParseError)>,
    index_of: &[usize],
) -> Vec<Refusal> {
    refused.extend(
        broken
            .into_iter()
            .map(|(at, error)| rule(index_of[at], error)),
    );
    refused.sort_by_key(|r| r.index);
    first_per_row(refused)
}

/// One refusal per row (its first reason), as a reject names one reason per row; the lookups of
/// a row's several references each refuse it on their own.
fn first_per_row(mut refused: Vec<Refusal>) -> Vec<Refusal> {
    refused.dedup_by_key(|r| r.index);
    refused
}

//! Customers in SQL. Every read takes a `Scope`; an invisible customer is `NotFound`.

use chrono::NaiveDate;
use kam_core::{
    ParseError,
    codec::BoardScores,
    customer::{
        AccountType, CifNo, Customer, CustomerKind, IdNumber, Industry, NewCustomer, Phone,
        RiskTolerance, Sex,
    },
    id::{CustomerId, OrgUnitId, UserId},
    org::Line,
    tier::Movement,
    user::Role,
};
use sqlx::{Row, any::AnyRow};

use crate::{
    Actor, Error, Result, Store, UserStore, audit,
    bulk::insert_one,
    org::corrupt,
    rows,
    sql::{Arg, Sql},
};

/// One line of a customer list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerSummary {
    pub id: CustomerId,
    pub cif_no: CifNo,
    pub name: String,
    pub kind: CustomerKind,
    pub line: Line,
    pub org_unit_code: String,
    pub org_unit_name: String,
    pub account_type: AccountType,
    pub industry: Option<Industry>,
    /// The five-tier class of the latest month the batch wrote, and its name.
    pub tier: Option<i64>,
    pub tier_name: Option<String>,
    pub tier_name_en: Option<String>,
    pub key_account: bool,
    /// The retail tier (私人银行/财富/贵宾) of the latest batch, by its names; none for corporates.
    pub retail_tier_name: Option<String>,
    pub retail_tier_name_en: Option<String>,
    /// Contribution over the customer-value months (fen), from the latest batch.
    pub value_total: Option<i64>,
    /// Deposits, loans and AUM on the latest batch date (fen): the export's key figures.
    pub deposit_balance: Option<i64>,
    pub loan_balance: Option<i64>,
    pub aum_balance: Option<i64>,
    pub open_alerts: i64,
    /// The lead relationship manager's display name today.
    pub lead_rm: Option<String>,
}

/// Filters for a customer list; empty means everything the scope sees.
#[derive(Debug, Clone, Default)]
pub struct CustomerFilter {
    /// Matches any part of the customer number or of the name, or (for plain letters) the
    /// name's pinyin initials.
    pub text: Option<String>,
    pub kind: Option<CustomerKind>,
    pub account_type: Option<AccountType>,
    pub industry: Option<Industry>,
    /// Only customers booked in this unit's subtree.
    pub org_unit: Option<OrgUnitId>,
    /// Only customers this user is on the team of (lead or member) on `on`.
    pub rm: Option<(UserId, NaiveDate)>,
    /// Only customers of this tier (1 … 5) in the latest month the batch wrote.
    pub tier: Option<i64>,
    /// Only retail customers of this retail tier (私人银行/财富/贵宾) in the latest batch.
    pub retail_tier: Option<kam_core::classes::RetailTier>,
    /// Only customers with an open alert.
    pub open_alert: bool,
    pub sort: CustomerSort,
    pub limit: i64,
    pub offset: i64,
}

/// The order of a customer list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CustomerSort {
    #[default]
    CifNo,
    Name,
    /// Best tier first, then the biggest contribution.
    Tier,
    /// Biggest contribution first.
    Value,
}

pub(crate) fn parse_date(field: &'static str, text: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
        corrupt(ParseError::new(
            field,
            text,
            "not a YYYY-MM-DD date",
            "不是 YYYY-MM-DD 格式的日期",
        ))
    })
}

fn optional<T>(
    row: &AnyRow,
    column: &str,
    parse: impl Fn(&str) -> Result<T, ParseError>,
) -> Result<Option<T>> {
    row.try_get::<Option<String>, _>(column)?
        .map(|text| parse(&text))
        .transpose()
        .map_err(corrupt)
}

const CUSTOMER_COLUMNS: &str = "select c.id, c.cif_no, c.kind, c.name, c.line, c.org_unit_id, c.industry, c.account_type, c.risk_tolerance, c.id_number, c.phone, c.since, c.birth_date, c.sex from customer c";

pub(crate) fn customer_from_row(row: &AnyRow) -> Result<Customer> {
    Ok(Customer {
        id: CustomerId(row.try_get("id")?),
        cif_no: CifNo::parse(&row.try_get::<String, _>("cif_no")?).map_err(corrupt)?,
        kind: CustomerKind::parse(&row.try_get::<String, _>("kind")?).map_err(corrupt)?,
        name: row.try_get("name")?,
        line: Line::parse(&row.try_get::<String, _>("line")?).map_err(corrupt)?,
        org_unit_id: OrgUnitId(row.try_get("org_unit_id")?),
        industry: optional(row, "industry", Industry::parse)?,
        account_type: AccountType::parse(&row.try_get::<String, _>("account_type")?)
            .map_err(corrupt)?,
        risk_tolerance: optional(row, "risk_tolerance", RiskTolerance::parse)?,
        id_number: optional(row, "id_number", IdNumber::parse)?,
        phone: optional(row, "phone", Phone::parse)?,
        since: parse_date("since", &row.try_get::<String, _>("since")?)?,
        birth_date: row
            .try_get::<Option<String>, _>("birth_date")?
            .map(|d| parse_date("birth_date", &d))
            .transpose()?,
        sex: optional(row, "sex", Sex::parse)?,
    })
}

impl Store {
    /// Adds a customer (system jobs: import, demo). Visibility then follows from its unit and RMs.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_customer(
        &self,
        actor: &Actor,
        customer: &NewCustomer,
    ) -> Result<CustomerId> {
        let unit = self.org_unit_by_code(&customer.org_unit_code).await?;
        let mut tx = self.begin_write().await?;
        let row = rows::customer(customer, unit.id.0, &audit::now());
        let key = customer.cif_no.to_string();
        let id = insert_one(&mut tx, rows::CUSTOMER.name, row, ("customer", &key)).await?;
        audit::record(
            &mut tx,
            actor,
            "create",
            "customer",
            customer.cif_no.as_str(),
            &customer.name,
        )
        .await?;
        tx.commit().await?;
        Ok(CustomerId(id))
    }
}

impl UserStore {
    /// The customers in reach that match `filter`, by customer number.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn find_customers(&self, filter: &CustomerFilter) -> Result<Vec<CustomerSummary>> {
        // The scope's date is the only date a scoped read uses (the lead RM shown is the one of
        // the day the reader sees). One lead at most on a day — the writer of rm_assignment keeps
        // leads from overlapping —, so `min` only makes the subquery a scalar for PostgreSQL.
        let today = self.scope().on().to_string();
        let mut sql = Sql::new(
            "select c.id, c.cif_no, c.name, c.kind, c.line, c.account_type, c.industry, \
               o.code as org_code, o.name as org_name, t.tier, t.tier_name, t.tier_name_en, \
               cc.key_account, cc.value_total, cc.retail_tier_name, cc.retail_tier_name_en, \
               f.deposit_balance, f.loan_balance, f.aum_balance, \
               (select count(*) from alert a where a.customer_id = c.id and a.status = 'open') as open_alerts, \
               (select min(u.display_name) from rm_assignment r join app_user u on u.id = r.user_id \
                 where r.customer_id = c.id and r.role = 'lead' and r.effective_from <= ",
        );
        sql.bind(today.as_str())
            .push(" and (r.effective_to is null or r.effective_to > ")
            .bind(today.as_str())
            .push(
                ")) as lead_rm \
             from customer c join org_unit o on o.id = c.org_unit_id \
             left join customer_class cc on cc.customer_id = c.id \
             left join figure_latest f on f.customer_id = c.id \
             left join tier_month t on t.customer_id = c.id \
               and t.month = (select max(month) from tier_month)",
            );
        let mut sql = self.visible_from(sql);
        push_filter(&mut sql, filter);
        sql.push(match filter.sort {
            CustomerSort::CifNo => " order by c.cif_no",
            CustomerSort::Name => " order by c.name, c.cif_no",
            CustomerSort::Tier => {
                " order by coalesce(t.tier, 9), coalesce(cc.value_total, 0) desc, c.cif_no"
            }
            CustomerSort::Value => " order by coalesce(cc.value_total, 0) desc, c.cif_no",
        });
        sql.push(" limit ")
            .bind(if filter.limit > 0 { filter.limit } else { 50 })
            .push(" offset ")
            .bind(filter.offset.max(0));
        let rows = sql.query().fetch_all(self.pool()).await?;
        rows.iter()
            .map(|row| {
                Ok(CustomerSummary {
                    id: CustomerId(row.try_get("id")?),
                    cif_no: CifNo::parse(&row.try_get::<String, _>("cif_no")?).map_err(corrupt)?,
                    name: row.try_get("name")?,
                    kind: CustomerKind::parse(&row.try_get::<String, _>("kind")?)
                        .map_err(corrupt)?,
                    line: Line::parse(&row.try_get::<String, _>("line")?).map_err(corrupt)?,
                    org_unit_code: row.try_get("org_code")?,
                    org_unit_name: row.try_get("org_name")?,
                    account_type: AccountType::parse(&row.try_get::<String, _>("account_type")?)
                        .map_err(corrupt)?,
                    industry: optional(row, "industry", Industry::parse)?,
                    tier: row.try_get("tier")?,
                    tier_name: row.try_get("tier_name")?,
                    tier_name_en: row.try_get("tier_name_en")?,
                    key_account: row.try_get::<Option<i64>, _>("key_account")? == Some(1),
                    retail_tier_name: row.try_get("retail_tier_name")?,
                    retail_tier_name_en: row.try_get("retail_tier_name_en")?,
                    value_total: row.try_get("value_total")?,
                    deposit_balance: row.try_get("deposit_balance")?,
                    loan_balance: row.try_get("loan_balance")?,
                    aum_balance: row.try_get("aum_balance")?,
                    open_alerts: row.try_get("open_alerts")?,
                    lead_rm: row.try_get("lead_rm")?,
                })
            })
            .collect()
    }

    /// How many customers in reach match `filter` (limit and offset ignored).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn count_customers(&self, filter: &CustomerFilter) -> Result<i64> {
        let mut sql = self.visible(
            "select count(*) as n from customer c left join tier_month t on t.customer_id = c.id \
             and t.month = (select max(month) from tier_month)",
        );
        push_filter(&mut sql, filter);
        Ok(sql.query().fetch_one(self.pool()).await?.try_get("n")?)
    }

    /// One customer, or `NotFound` when it does not exist or is out of reach.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn customer(&self, id: CustomerId) -> Result<Customer> {
        self.one_customer("c.id", id.0.into(), &id.to_string())
            .await
    }

    /// One customer by customer number; `NotFound` as for `customer`.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn customer_by_cif(&self, cif_no: &str) -> Result<Customer> {
        self.one_customer("c.cif_no", cif_no.into(), cif_no).await
    }

    /// `rows` a read of customer `id`'s records selected through `visible`: rows prove the
    /// customer in reach, so only an empty answer costs a second statement, the check that
    /// tells out of reach (`NotFound`) from nothing to show.
    pub(crate) async fn reached_or_empty<T>(&self, id: CustomerId, rows: Vec<T>) -> Result<Vec<T>> {
        if rows.is_empty() {
            self.customer(id).await?;
        }
        Ok(rows)
    }

    async fn one_customer(&self, column: &'static str, value: Arg, key: &str) -> Result<Customer> {
        let mut sql = self.visible(CUSTOMER_COLUMNS);
        sql.push(&format!(" and {column} = ")).bind(value);
        let row = self.fetch_visible(sql, "customer", key).await?;
        customer_from_row(&row)
    }
}

/// A personal identifier of a customer that a user may unmask (`UserStore::reveal_identifier`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Identifier {
    IdNumber,
    Phone,
}

impl Identifier {
    pub fn parse(text: &str) -> Result<Self> {
        match text {
            "id_number" => Ok(Self::IdNumber),
            "phone" => Ok(Self::Phone),
            _ => Err(Error::Invalid(ParseError::new(
                "field",
                text,
                "not an identifier that can be shown (id_number, phone)",
                "不是可查看的证件信息（id_number、phone）",
            ))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::IdNumber => "id_number",
            Self::Phone => "phone",
        }
    }
}

impl UserStore {
    /// Unmasks one personal identifier of a customer in reach, for a role that may
    /// (`Role::may_reveal`), for a known field (`Identifier`), with a reason of at least two
    /// characters; the reveal is audited with its reason, a refusal (out of reach, or by role)
    /// too. `Ok(None)` when the customer has no such identifier.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn reveal_identifier(
        &self,
        cif_no: &str,
        field: &str,
        reason: &str,
    ) -> Result<Option<String>> {
        let found = self.customer_by_cif(cif_no).await;
        let refused = match &found {
            Err(Error::NotFound { .. }) => Some(Error::NotFound {
                entity: "customer",
                key: cif_no.to_owned(),
            }),
            Ok(_) => self.require(Role::may_reveal).err(),
            Err(_) => None,
        };
        if let Some(refused) = refused {
            let tx = self.store().begin_write().await?;
            return Err(self.refuse(tx, "reveal", "customer", cif_no, refused).await);
        }
        let customer = found?;
        let field = Identifier::parse(field)?;
        let reason = reason.trim();
        if reason.chars().count() < 2 {
            return Err(Error::Invalid(ParseError::new(
                "reason",
                reason,
                "say why the identifier is needed",
                "请填写查看原因",
            )));
        }
        let value = match field {
            Identifier::IdNumber => customer.id_number.as_ref().map(|v| v.reveal().to_owned()),
            Identifier::Phone => customer.phone.as_ref().map(|v| v.reveal().to_owned()),
        };
        if value.is_some() {
            let detail = format!(
                "field={} reason={}",
                field.as_str(),
                reason.chars().take(200).collect::<String>()
            );
            self.record_event("reveal", "customer", cif_no, &detail)
                .await?;
        }
        Ok(value)
    }
}

fn push_filter(sql: &mut Sql, filter: &CustomerFilter) {
    if let Some(text) = filter
        .text
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        // What the user typed is matched literally: LIKE's own wildcards are escaped.
        let literal = text
            .replace('!', "!!")
            .replace('%', "!%")
            .replace('_', "!_");
        // Any part of the number: a banker often remembers its last digits.
        sql.push(" and (c.cif_no like ")
            .bind(format!("%{literal}%"))
            .push(" escape '!' or c.name like ")
            .bind(format!("%{literal}%"))
            .push(" escape '!'");
        if let Some(initials) = kam_core::search::initials_query(text) {
            sql.push(" or c.name_initials like ")
                .bind(format!("%{initials}%"));
        }
        sql.push(")");
    }
    if let Some(industry) = filter.industry {
        sql.push(" and c.industry = ").bind(industry.as_str());
    }
    if let Some(unit) = filter.org_unit {
        sql.push(" and c.org_unit_id in (select d.id from org_unit d join org_unit p on d.path like p.path || '%' where p.id = ")
            .bind(unit.0)
            .push(")");
    }
    if let Some((user, on)) = filter.rm {
        let on = on.to_string();
        sql.push(" and exists (select 1 from rm_assignment r where r.customer_id = c.id and r.user_id = ")
            .bind(user.0)
            .push(" and r.effective_from <= ")
            .bind(on.as_str())
            .push(" and (r.effective_to is null or r.effective_to > ")
            .bind(on.as_str())
            .push("))");
    }
    if let Some(tier) = filter.tier {
        sql.push(" and t.tier = ").bind(tier);
    }
    if let Some(retail) = filter.retail_tier {
        sql.push(
            " and exists (select 1 from customer_class k where k.customer_id = c.id and k.retail_tier = ",
        )
        .bind(retail.code())
        .push(")");
    }
    if filter.open_alert {
        sql.push(
            " and exists (select 1 from alert a where a.customer_id = c.id and a.status = 'open')",
        );
    }
    if let Some(kind) = filter.kind {
        sql.push(" and c.kind = ").bind(kind.as_str());
    }
    if let Some(account_type) = filter.account_type {
        sql.push(" and c.account_type = ")
            .bind(account_type.as_str());
    }
}

/// One customer as the portfolio page needs it: its tier and contribution from the latest batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortfolioRow {
    pub cif_no: String,
    pub name: String,
    /// Corporate and individual customers climb separate tier ladders.
    pub kind: CustomerKind,
    pub tier: Option<i64>,
    pub tier_name: Option<String>,
    pub tier_name_en: Option<String>,
    /// The latest month's move.
    pub movement: Option<Movement>,
    pub value_total: Option<i64>,
    pub board_scores: Option<BoardScores>,
    pub board_total: Option<i64>,
}

impl UserStore {
    /// The customers in reach whose tier moved in the latest month the batch wrote (up, down, or
    /// below the bar and on watch), best tier first — "what changed since the last batch".
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn tier_moves(&self, limit: i64) -> Result<Vec<PortfolioRow>> {
        let mut sql = self.visible(
            "select c.cif_no, c.name, c.kind, t.tier, t.tier_name, t.tier_name_en, t.move, cc.value_total, cc.board_scores, cc.board_total \
             from tier_month t join customer c on c.id = t.customer_id \
             left join customer_class cc on cc.customer_id = c.id",
        );
        sql.push(
            " and t.month = (select max(month) from tier_month) \
               and t.move in (",
        );
        for (i, moved) in [Movement::Upgraded, Movement::Downgraded, Movement::Below]
            .into_iter()
            .enumerate()
        {
            sql.push(if i == 0 { "" } else { ", " })
                .bind(moved.as_str());
        }
        sql.push(")");
        sql.push(" order by t.tier, coalesce(cc.value_total, 0) desc, c.cif_no limit ")
            .bind(limit);
        let rows = sql.query().fetch_all(self.pool()).await?;
        rows.iter().map(portfolio_row).collect()
    }

    /// Every customer in reach (in `unit`'s subtree when given), with its latest tier, move
    /// and contribution — one query for the portfolio's distribution, Pareto, board and movers.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn portfolio(&self, unit: Option<OrgUnitId>) -> Result<Vec<PortfolioRow>> {
        let mut sql = self.visible(
            "select c.cif_no, c.name, c.kind, t.tier, t.tier_name, t.tier_name_en, t.move, cc.value_total, cc.board_scores, cc.board_total \
             from customer c left join customer_class cc on cc.customer_id = c.id \
             left join tier_month t on t.customer_id = c.id \
               and t.month = (select max(month) from tier_month)",
        );
        push_filter(
            &mut sql,
            &CustomerFilter {
                org_unit: unit,
                ..CustomerFilter::default()
            },
        );
        sql.push(" order by c.cif_no");
        let rows = sql.query().fetch_all(self.pool()).await?;
        rows.iter().map(portfolio_row).collect()
    }
}

fn portfolio_row(row: &AnyRow) -> Result<PortfolioRow> {
    Ok(PortfolioRow {
        cif_no: row.try_get("cif_no")?,
        name: row.try_get("name")?,
        kind: CustomerKind::parse(&row.try_get::<String, _>("kind")?).map_err(corrupt)?,
        tier: row.try_get("tier")?,
        tier_name: row.try_get("tier_name")?,
        tier_name_en: row.try_get("tier_name_en")?,
        movement: row
            .try_get::<Option<String>, _>("move")?
            .map(|m| Movement::parse(&m))
            .transpose()
            .map_err(corrupt)?,
        value_total: row.try_get("value_total")?,
        board_scores: row
            .try_get::<Option<String>, _>("board_scores")?
            .map(|s| BoardScores::parse(&s))
            .transpose()
            .map_err(corrupt)?,
        board_total: row.try_get("board_total")?,
    })
}

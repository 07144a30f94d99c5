//! A customer's whole page in one call: the customer and its one-to-one parts through the
//! reader's scope in one statement, then the lists that hang off it, read side by side. The page and the API both use it.

use kam_core::{
    contact::KeyPerson,
    customer::{Customer, CustomerKind},
    id::{GroupId, OrgUnitId},
    org::{OrgKind, OrgPath, OrgUnit},
    product::{AccountRole, Holding, Product},
};

use sqlx::Row;

use crate::{
    CustomerGroup, PayrollPeople, PayrollSummary, Result, StoredAlert, StoredClass,
    StoredIndicator, StoredProfile, StoredTier, TeamMember, UserStore,
    classification::{CLASS_FIELDS, class_from_row},
    customer::customer_from_row,
    indicator::{TIER_FIELDS, decode_values, tier_from_row_opt},
    org::corrupt,
    sql::Sql,
};

/// One account-party relationship as the 360 lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountPartyLine {
    /// Masked (first 6 and last 4).
    pub account_no: String,
    pub role: AccountRole,
    pub since: Option<chrono::NaiveDate>,
    /// True when the customer viewed is the party to another customer's account; false when
    /// the other customer is a party to one of its accounts.
    pub as_party: bool,
    /// The other customer: its number and name when in the reader's reach, else `None`.
    pub other: Option<(String, String)>,
}

/// Everything a customer 360 shows.
#[derive(Debug, Clone)]
pub struct CustomerView {
    pub customer: Customer,
    pub unit: OrgUnit,
    /// The team on the reader's day, lead first.
    pub team: Vec<TeamMember>,
    pub key_people: Vec<KeyPerson>,
    /// The latest holdings, each with its product.
    pub holdings: Vec<(Holding, Product)>,
    /// The group with the members the scope may see.
    pub group: Option<CustomerGroup>,
    pub indicators: Vec<StoredIndicator>,
    pub alerts: Vec<StoredAlert>,
    pub tier: Option<StoredTier>,
    pub class: Option<StoredClass>,
    pub payroll: PayrollSummary,
    /// The accounts this customer is a party to beside their customer, and the other parties to
    /// this customer's own accounts (joint owners, authorised users).
    pub account_parties: Vec<AccountPartyLine>,
    /// The payroll people both ways (read only on the sides that have links).
    pub payroll_people: PayrollPeople,
    /// A corporate's archive, when one was saved.
    pub archive: Option<StoredProfile>,
}

/// The 360's head in one statement: the customer (through the scope: the one visibility
/// decision) with its latest classes and tier (`CLASS_FIELDS` and `TIER_FIELDS`, read by name), its unit, its latest indicator values, its group's name and size and the payroll
/// figures. Every statement saved is several thread hand-offs saved on SQLite and a round trip
/// on PostgreSQL, on the page relationship managers open most.
fn head_select() -> String {
    format!(
        "select {CLASS_FIELDS}, {TIER_FIELDS}, c.id, c.cif_no, c.kind, c.name, c.line, \
         c.org_unit_id, c.industry, c.account_type, c.risk_tolerance, c.id_number, c.phone, c.since, c.birth_date, c.sex, \
         o.code as unit_code, o.name as unit_name, o.kind as unit_kind, o.parent_id as unit_parent_id, \
         o.path as unit_path, v.indicator_values, \
         g.id as group_id, g.code as group_code, g.name as group_name, \
         (select count(*) from group_member n where n.group_id = g.id) as group_size, \
         (select count(*) from payroll_link where currency = 'CNY' and employer_id = c.id) as payroll_n, \
         (select cast(coalesce(sum(monthly_amount_minor), 0) as bigint) from payroll_link \
             where currency = 'CNY' and employer_id = c.id) as payroll_total, \
         (select count(*) from payroll_link where employer_id = c.id) as employer_links, \
         (select count(*) from payroll_link where employee_id = c.id) as employee_links, \
         (select count(*) from account_party where customer_id = c.id) \
             + (select count(*) from account_party ap join account aa on aa.id = ap.account_id \
                 where aa.customer_id = c.id) as party_links, \
         (select count(*) from payroll_link p join customer e on e.id = p.employer_id \
             where p.employee_id = c.id and "
    )
}

const HEAD_FROM: &str = ") as payroll_employers \
    from customer c join org_unit o on o.id = c.org_unit_id \
    left join customer_class k on k.customer_id = c.id \
    left join tier_month t on t.customer_id = c.id \
        and t.month = (select max(m.month) from tier_month m where m.customer_id = c.id) \
    left join indicator_latest v on v.customer_id = c.id \
    left join group_member gm on gm.customer_id = c.id \
    left join customer_group g on g.id = gm.group_id";

impl UserStore {
    /// One customer's 360 as this user sees it on their scope's day; `NotFound` when missing or
    /// out of reach.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn customer_view(&self, cif_no: &str) -> Result<CustomerView> {
        let on = self.scope().on();
        // The one visibility decision: everything below is read only after it.
        let mut head = Sql::new(&head_select());
        // The employers are counted only where the scope reaches them too.
        self.restrict(&mut head, "e");
        head.push(HEAD_FROM);
        let mut sql = self.visible_from(head);
        sql.push(" and c.cif_no = ").bind(cif_no);
        let head = self.fetch_visible(sql, "customer", cif_no).await?;
        // A missing left-joined row reads as nulls: its as-of date (classes) or month (tier).
        let class = class_from_row(&head)?;
        let tier = tier_from_row_opt(&head)?;
        let customer = customer_from_row(&head)?;
        let id = customer.id;
        let unit = OrgUnit {
            id: customer.org_unit_id,
            code: head.try_get("unit_code")?,
            name: head.try_get("unit_name")?,
            kind: OrgKind::parse(&head.try_get::<String, _>("unit_kind")?).map_err(corrupt)?,
            parent_id: head
                .try_get::<Option<i64>, _>("unit_parent_id")?
                .map(OrgUnitId),
            path: OrgPath::parse(&head.try_get::<String, _>("unit_path")?).map_err(corrupt)?,
        };
        let indicators = match head.try_get::<Option<String>, _>("indicator_values")? {
            Some(text) => decode_values(cif_no, &text)?,
            None => Vec::new(),
        };
        let group = match head.try_get::<Option<i64>, _>("group_id")? {
            Some(group_id) => Some((
                GroupId(group_id),
                head.try_get::<String, _>("group_code")?,
                head.try_get::<String, _>("group_name")?,
                head.try_get::<i64, _>("group_size")?,
            )),
            None => None,
        };
        let payroll_n: i64 = head.try_get("payroll_n")?;
        let payroll_total: i64 = head.try_get("payroll_total")?;

        let nodes = async {
            match &group {
                Some((group_id, ..)) => self.group_nodes(*group_id).await,
                None => Ok(Vec::new()),
            }
        };
        // An individual's 360 is a read of personal information: it is in the audit trail (等保
        // 三级 asks that such access be traceable), written beside the other reads.
        let viewed = async {
            if customer.kind == CustomerKind::Individual {
                self.record_event("view", "customer", cif_no, "360").await
            } else {
                Ok(())
            }
        };
        let payroll_people = self.payroll_people_unchecked(
            id,
            head.try_get::<i64, _>("employer_links")? > 0,
            head.try_get::<i64, _>("employee_links")? > 0,
        );
        let archive = async {
            match customer.kind {
                CustomerKind::Corporate => self.corporate_profile_unchecked(id).await,
                CustomerKind::Individual => Ok(None),
            }
        };
        let parties =
            self.account_parties_unchecked(id, head.try_get::<i64, _>("party_links")? > 0);
        let (
            team,
            key_people,
            holdings,
            nodes,
            alerts,
            (),
            payroll_people,
            archive,
            account_parties,
        ) = tokio::try_join!(
            self.store().team_of_unchecked(id, on),
            self.store().key_people_unchecked(id),
            self.store().held_products_unchecked(id),
            nodes,
            self.alerts_of_checked(cif_no),
            viewed,
            payroll_people,
            archive,
            parties,
        )?;
        let group = group.map(|(id, code, name, member_count)| CustomerGroup {
            id,
            code,
            name,
            member_count,
            nodes,
        });
        Ok(CustomerView {
            customer,
            unit,
            team,
            key_people,
            holdings,
            group,
            indicators,
            alerts,
            tier,
            class,
            payroll: PayrollSummary {
                employees: payroll_n,
                monthly_fen: payroll_total,
                employers_in_reach: head.try_get("payroll_employers")?,
            },
            payroll_people,
            archive,
            account_parties,
        })
    }

    /// The account parties of a customer already proven in reach, when the head counted any:
    /// both ways in one statement, the other customer named only where the reader reaches it.
    async fn account_parties_unchecked(
        &self,
        id: kam_core::id::CustomerId,
        wanted: bool,
    ) -> Result<Vec<AccountPartyLine>> {
        if !wanted {
            return Ok(Vec::new());
        }
        // As a party to others' accounts (the other is the account's customer), then the others
        // party to its own accounts.
        let mut sql = Sql::new("");
        for (as_party, other, this) in [
            (1, "a.customer_id", "p.customer_id"),
            (0, "p.customer_id", "a.customer_id"),
        ] {
            if as_party == 0 {
                sql.push(" union all ");
            }
            sql.push(&format!(
                "select a.account_no, p.role, p.since, {as_party} as as_party, o.cif_no, o.name, \
                 case when "
            ));
            self.restrict(&mut sql, "o");
            sql.push(&format!(
                " then 1 else 0 end as in_reach from account_party p \
                 join account a on a.id = p.account_id join customer o on o.id = {other} \
                 where p.customer_id <> a.customer_id and {this} = "
            ))
            .bind(id.0);
        }
        sql.push(" order by 4 desc, 1");
        sql.query()
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|row| {
                let in_reach = row.try_get::<i64, _>("in_reach")? == 1;
                Ok(AccountPartyLine {
                    account_no: kam_core::customer::mask_account_no(
                        &row.try_get::<String, _>("account_no")?,
                    ),
                    role: AccountRole::parse(&row.try_get::<String, _>("role")?)
                        .map_err(corrupt)?,
                    since: row
                        .try_get::<Option<String>, _>("since")?
                        .map(|d| crate::customer::parse_date("since", &d))
                        .transpose()?,
                    as_party: row.try_get::<i64, _>("as_party")? == 1,
                    other: in_reach
                        .then(|| {
                            Ok::<_, sqlx::Error>((row.try_get("cif_no")?, row.try_get("name")?))
                        })
                        .transpose()?,
                })
            })
            .collect()
    }
}

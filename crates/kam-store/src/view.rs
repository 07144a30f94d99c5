//! A customer's whole page in one call: the customer and its one-to-one parts through the
//! reader's scope in one statement, then the lists that hang off it, read side by side. The page and the API both use it.

use kam_core::{
    contact::KeyPerson,
    customer::{Customer, CustomerKind},
    id::{GroupId, OrgUnitId},
    org::{OrgKind, OrgPath, OrgUnit},
    product::{Holding, Product},
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
        let (team, key_people, holdings, nodes, alerts, (), payroll_people, archive) = tokio::try_join!(
            self.store().team_of_unchecked(id, on),
            self.store().key_people_unchecked(id),
            self.store().held_products_unchecked(id),
            nodes,
            self.alerts_of_checked(cif_no),
            viewed,
            payroll_people,
            archive,
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
        })
    }
}

//! A customer's whole page in one call: the customer through the reader's scope once, then
//! everything that hangs off it, read side by side. The page and the API both use it.

use chrono::NaiveDate;
use kam_core::{
    contact::KeyPerson, customer::Customer, org::OrgUnit, product::Holding, visibility::Scope,
};

use crate::{
    Error, GroupNode, GroupView, Result, Store, StoredAlert, StoredClass, StoredIndicator,
    StoredTier, TeamMember,
};

/// Everything a customer 360 shows.
#[derive(Debug, Clone)]
pub struct CustomerView {
    pub customer: Customer,
    pub unit: OrgUnit,
    /// The team on the reader's day, lead first.
    pub team: Vec<TeamMember>,
    pub key_people: Vec<KeyPerson>,
    pub holdings: Vec<Holding>,
    /// The group with the members the scope may see, and those members with names.
    pub group: Option<(GroupView, Vec<GroupNode>)>,
    pub indicators: Vec<StoredIndicator>,
    pub alerts: Vec<StoredAlert>,
    pub tier: Option<StoredTier>,
    pub class: Option<StoredClass>,
    /// 代发工资 as employer: employees paid through the bank and their monthly total (CNY fen).
    pub payroll_employees: i64,
    pub payroll_monthly_fen: i64,
    /// 代发工资 as employee: the employers in reach that pay this customer.
    pub payroll_employers: usize,
}

impl Store {
    /// One customer's 360 as `scope` sees it on `on`; `NotFound` when missing or out of reach.
    pub async fn customer_view(
        &self,
        scope: &Scope,
        cif_no: &str,
        on: NaiveDate,
    ) -> Result<CustomerView> {
        // The one visibility decision: everything below is read only after it.
        let customer = self.customer_by_cif(scope, cif_no).await?;
        let id = customer.id;
        let class = async {
            match self.class_of(scope, cif_no).await {
                Ok(class) => Ok(Some(class)),
                Err(Error::NotFound { .. }) => Ok(None),
                Err(other) => Err(other),
            }
        };
        let group = async {
            match self.group_of_customer(scope, id).await? {
                Some(view) => {
                    let nodes = self.group_nodes(scope, view.group.id).await?;
                    Ok(Some((view, nodes)))
                }
                None => Ok(None),
            }
        };
        let payroll = async {
            let totals = self.payroll_totals(scope, id).await?;
            let links = self.payroll_links(scope, id).await?;
            Ok((totals, links.iter().filter(|l| l.employee_id == id).count()))
        };
        let (unit, team, key_people, holdings, group, indicators, alerts, tier, class, payroll) = tokio::try_join!(
            self.org_unit(customer.org_unit_id),
            self.team_of_unchecked(id, on),
            self.key_people_unchecked(id),
            self.holdings_unchecked(id),
            group,
            self.indicators_of(scope, cif_no),
            self.alerts_of(scope, cif_no),
            self.latest_tier(cif_no),
            class,
            payroll,
        )?;
        let ((payroll_employees, payroll_monthly_fen), payroll_employers) = payroll;
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
            payroll_employees,
            payroll_monthly_fen,
            payroll_employers,
        })
    }
}

//! A customer's whole page in one call: the customer through the reader's scope once, then
//! everything that hangs off it, read side by side. The page and the API both use it.

use chrono::NaiveDate;
use kam_core::{
    contact::KeyPerson,
    customer::Customer,
    org::OrgUnit,
    product::{Holding, Product},
    visibility::Scope,
};

use crate::{
    CustomerGroup, Error, PayrollSummary, Result, Store, StoredAlert, StoredClass, StoredIndicator,
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
    /// The latest holdings, each with its product.
    pub holdings: Vec<(Holding, Product)>,
    /// The group with the members the scope may see.
    pub group: Option<CustomerGroup>,
    pub indicators: Vec<StoredIndicator>,
    pub alerts: Vec<StoredAlert>,
    pub tier: Option<StoredTier>,
    pub class: Option<StoredClass>,
    pub payroll: PayrollSummary,
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
        let (unit, team, key_people, holdings, group, indicators, alerts, tier, class, payroll) = tokio::try_join!(
            self.org_unit(customer.org_unit_id),
            self.team_of_unchecked(id, on),
            self.key_people_unchecked(id),
            self.held_products_unchecked(id),
            self.customer_group_unchecked(scope, id),
            self.indicators_of(scope, cif_no),
            self.alerts_of(scope, cif_no),
            self.latest_tier(cif_no),
            class,
            self.payroll_summary_unchecked(scope, id),
        )?;
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
            payroll,
        })
    }
}

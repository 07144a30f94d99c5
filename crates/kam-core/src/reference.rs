//! A whole set of reference data (the slowly changing part of a bank: org tree, staff, products,
//! customers, groups, key people, assignments, accounts, holdings, payroll) keyed by the bank's own
//! codes — what the synthetic bank produces and what a bulk load into the store consumes.

use chrono::NaiveDate;

use crate::{
    assignment::AssignmentRole,
    contact::NewKeyPerson,
    customer::NewCustomer,
    group::NewGroup,
    money::{Currency, Money},
    org::NewOrgUnit,
    product::NewProduct,
    profile::CorporateProfile,
    user::NewUser,
};

#[derive(Debug, Clone, Default)]
pub struct ReferenceData {
    /// In tree order: every parent before its children.
    pub org_units: Vec<NewOrgUnit>,
    pub users: Vec<NewUser>,
    pub products: Vec<NewProduct>,
    pub customers: Vec<NewCustomer>,
    pub groups: Vec<NewGroup>,
    pub group_members: Vec<MemberRecord>,
    pub key_people: Vec<KeyPersonRecord>,
    pub assignments: Vec<AssignmentRecord>,
    pub accounts: Vec<AccountRecord>,
    pub holdings: Vec<HoldingRecord>,
    pub payroll_links: Vec<PayrollRecord>,
    /// Corporate archives (大客户信息档案) the core system keeps.
    pub profiles: Vec<ProfileRecord>,
}

/// The archive of a corporate customer, by customer number.
#[derive(Debug, Clone)]
pub struct ProfileRecord {
    pub cif_no: String,
    pub profile: CorporateProfile,
}

#[derive(Debug, Clone)]
pub struct MemberRecord {
    pub group_code: String,
    pub cif_no: String,
    /// `None` for the group's root (the parent company).
    pub parent_cif_no: Option<String>,
}

#[derive(Debug, Clone)]
pub struct KeyPersonRecord {
    pub cif_no: String,
    pub person: NewKeyPerson,
    /// The day the person's stage was entered, when the source knows it.
    pub stage_since: Option<NaiveDate>,
}

#[derive(Debug, Clone)]
pub struct AssignmentRecord {
    pub cif_no: String,
    pub username: String,
    pub role: AssignmentRole,
    pub effective_from: NaiveDate,
    pub effective_to: Option<NaiveDate>,
}

/// An account (存款/贷款账户) of a customer, booked at an org unit.
#[derive(Debug, Clone)]
pub struct AccountRecord {
    pub account_no: String,
    pub cif_no: String,
    pub product_code: String,
    pub currency: Currency,
    pub org_unit_code: String,
    pub opened_on: NaiveDate,
}

#[derive(Debug, Clone)]
pub struct HoldingRecord {
    pub cif_no: String,
    pub product_code: String,
    pub amount: Money,
    pub as_of: NaiveDate,
}

#[derive(Debug, Clone)]
pub struct PayrollRecord {
    pub employer_cif_no: String,
    pub employee_cif_no: String,
    pub monthly_amount: Money,
    pub since: NaiveDate,
}

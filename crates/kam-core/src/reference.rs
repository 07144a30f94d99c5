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
    /// Joint owners and authorised users of accounts, beside each account's customer.
    pub account_parties: Vec<AccountPartyRecord>,
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

/// A party to an account beside or as its owner: a joint owner or an authorised user.
#[derive(Debug, Clone)]
pub struct AccountPartyRecord {
    pub account_no: String,
    pub cif_no: String,
    pub role: crate::product::AccountRole,
    pub since: Option<NaiveDate>,
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

/// A visit or other activity as a bank's history holds it (the synthetic bank's two years of an
/// RM's work): our people by user name, the customer's key people by name, the needs found with
/// the day each was met.
#[derive(Debug, Clone)]
pub struct ActivityRecord {
    pub cif_no: String,
    /// Who logged or planned it (a user name); also among `activity.colleagues`.
    pub created_by: String,
    pub status: crate::activity::ActivityStatus,
    /// Its `people` and `next_steps` are empty: the people are `people`, the steps are tasks.
    pub activity: crate::activity::NewActivity,
    pub people: Vec<String>,
    /// Why it was moved or cancelled.
    pub reason: Option<String>,
    /// For each of `activity.needs`, the day it was met.
    pub met: Vec<Option<NaiveDate>>,
}

/// A task as a bank's history holds it: of an activity (named by its customer and start) or by
/// hand, done on a day or open.
#[derive(Debug, Clone)]
pub struct TaskRecord {
    pub cif_no: String,
    pub created_by: String,
    pub task: crate::task::NewTask,
    pub source: crate::task::TaskSource,
    pub activity_starts: Option<chrono::NaiveDateTime>,
    pub done_on: Option<NaiveDate>,
}

/// A weekly report as a bank's history holds it.
#[derive(Debug, Clone)]
pub struct ReportRecord {
    pub username: String,
    /// The week's Monday.
    pub week: NaiveDate,
    pub body: String,
    pub submitted: bool,
}

/// An opportunity as a bank's history holds it: opened on a day by its owner, moved through
/// stages (each move with its day and who moved it), its checklist ticks, obstacles (each with
/// its one action, cleared on a day or open) and buying influences (key people by name).
#[derive(Debug, Clone)]
pub struct OpportunityRecord {
    pub cif_no: String,
    pub opportunity: crate::opportunity::NewOpportunity,
    pub opened_on: NaiveDate,
    /// Every stage entered after the first, in order: (stage, day, who, reason for a loss).
    pub moves: Vec<(String, NaiveDate, String, Option<String>)>,
    /// (stage, item) ticked.
    pub ticks: Vec<(String, String)>,
    /// The obstacle, and the day it was cleared (its task done then).
    pub obstacles: Vec<(crate::opportunity::NewObstacle, Option<NaiveDate>)>,
    /// (key person's name, role, attitude).
    pub influences: Vec<(
        String,
        crate::opportunity::InfluenceRole,
        crate::opportunity::Attitude,
    )>,
}

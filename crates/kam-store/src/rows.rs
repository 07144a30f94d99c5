//! The insert heads and argument rows of the master tables, written once for the two writers
//! that fill them in bulk: the bulk load of a whole reference set (`bulk.rs`) and the merge of
//! extracts by business key (`merge.rs`). Each writer resolves codes to ids its own way.

use chrono::NaiveDate;
use kam_core::{
    assignment::AssignmentRole,
    contact::NewKeyPerson,
    customer::{IdNumber, Industry, NewCustomer, Phone, RiskTolerance},
    group::NewGroup,
    product::NewProduct,
    reference::{AccountRecord, PayrollRecord},
    search::name_initials,
};

use crate::sql::Arg;

pub(crate) const PRODUCT: &str =
    "insert into product (code, name, line, need_category, risk_level, created_at)";

pub(crate) fn product(p: &NewProduct, now: &str) -> Vec<Arg> {
    vec![
        p.code.as_str().into(),
        p.name.as_str().into(),
        p.line.as_str().into(),
        p.need_category.as_str().into(),
        p.risk_level.as_str().into(),
        now.into(),
    ]
}

pub(crate) const CUSTOMER: &str = "insert into customer (cif_no, kind, name, line, org_unit_id, industry, account_type, risk_tolerance, id_number, phone, since, created_at, name_initials)";

pub(crate) fn customer(c: &NewCustomer, unit: i64, now: &str) -> Vec<Arg> {
    vec![
        c.cif_no.as_str().into(),
        c.kind.as_str().into(),
        c.name.as_str().into(),
        c.line.as_str().into(),
        unit.into(),
        c.industry.map(Industry::as_str).into(),
        c.account_type.as_str().into(),
        c.risk_tolerance.map(RiskTolerance::as_str).into(),
        c.id_number.as_ref().map(IdNumber::reveal).into(),
        c.phone.as_ref().map(Phone::reveal).into(),
        c.since.to_string().into(),
        now.into(),
        name_initials(&c.name).into(),
    ]
}

pub(crate) const GROUP: &str =
    "insert into customer_group (code, name, lead_unit_id, lead_rm_id, created_at)";

pub(crate) fn group(g: &NewGroup, lead_unit: i64, lead_rm: Option<i64>, now: &str) -> Vec<Arg> {
    vec![
        g.code.as_str().into(),
        g.name.as_str().into(),
        lead_unit.into(),
        lead_rm.into(),
        now.into(),
    ]
}

pub(crate) const GROUP_CO_UNIT: &str = "insert into group_co_unit (group_id, org_unit_id)";

pub(crate) const GROUP_MEMBER: &str =
    "insert into group_member (customer_id, group_id, parent_customer_id)";

pub(crate) fn group_member(customer: i64, group: i64, parent: Option<i64>) -> Vec<Arg> {
    vec![customer.into(), group.into(), parent.into()]
}

pub(crate) const KEY_PERSON: &str = "insert into key_person (customer_id, name, role, title, closeness, trust, favour, stage, created_at)";

pub(crate) fn key_person(customer: i64, p: &NewKeyPerson, now: &str) -> Vec<Arg> {
    vec![
        customer.into(),
        p.name.as_str().into(),
        p.role.as_str().into(),
        p.title.as_deref().into(),
        i64::from(p.closeness.get()).into(),
        i64::from(p.trust.get()).into(),
        i64::from(p.favour.get()).into(),
        p.stage.as_str().into(),
        now.into(),
    ]
}

pub(crate) const ASSIGNMENT: &str = "insert into rm_assignment (customer_id, user_id, role, effective_from, effective_to, created_at)";

pub(crate) fn assignment(
    customer: i64,
    user: i64,
    role: AssignmentRole,
    from: NaiveDate,
    to: Option<NaiveDate>,
    now: &str,
) -> Vec<Arg> {
    vec![
        customer.into(),
        user.into(),
        role.as_str().into(),
        from.to_string().into(),
        to.map(|d| d.to_string()).into(),
        now.into(),
    ]
}

pub(crate) const ACCOUNT: &str =
    "insert into account (account_no, customer_id, product_id, currency, org_unit_id, opened_on)";

pub(crate) fn account(a: &AccountRecord, customer: i64, product: i64, unit: i64) -> Vec<Arg> {
    vec![
        a.account_no.as_str().into(),
        customer.into(),
        product.into(),
        a.currency.as_str().into(),
        unit.into(),
        a.opened_on.to_string().into(),
    ]
}

pub(crate) const PAYROLL_LINK: &str =
    "insert into payroll_link (employer_id, employee_id, monthly_amount_minor, currency, since)";

pub(crate) fn payroll_link(employer: i64, employee: i64, p: &PayrollRecord) -> Vec<Arg> {
    vec![
        employer.into(),
        employee.into(),
        p.monthly_amount.minor().into(),
        p.monthly_amount.currency().as_str().into(),
        p.since.to_string().into(),
    ]
}

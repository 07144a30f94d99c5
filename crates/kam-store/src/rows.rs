//! The master tables' rows, column by column (`Values`: the column list and the values come from
//! the same calls), and each table's business key and merged columns (`Table`), written once for
//! the writers that fill them: the bulk load of a whole reference set (`bulk.rs`), the merge of
//! extracts by business key (`merge.rs`) and the single-row writers. Each resolves codes to ids
//! its own way.

use chrono::NaiveDate;
use kam_core::{
    assignment::AssignmentRole,
    contact::NewKeyPerson,
    customer::{IdNumber, Industry, NewCustomer, Phone, RiskTolerance, Sex},
    group::NewGroup,
    product::NewProduct,
    reference::{AccountPartyRecord, AccountRecord, HoldingRecord, PayrollRecord},
    search::name_initials,
};

use crate::sql::{Upsert, Values};

/// A master table: its name, and how a row already there (same business key) is merged.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Table {
    pub name: &'static str,
    pub upsert: Upsert,
}

pub(crate) const PRODUCT: Table = Table {
    name: "product",
    upsert: Upsert {
        key: &["code"],
        update: &["name", "line", "need_category", "risk_level"],
        dated: None,
        versioned: false,
    },
};

pub(crate) fn product(p: &NewProduct, now: &str) -> Values {
    Values::new()
        .put("code", p.code.as_str())
        .put("name", p.name.as_str())
        .put("line", p.line.as_str())
        .put("need_category", p.need_category.as_str())
        .put("risk_level", p.risk_level.as_str())
        .put("created_at", now)
}

pub(crate) const CUSTOMER: Table = Table {
    name: "customer",
    upsert: Upsert {
        key: &["cif_no"],
        update: &[
            "kind",
            "name",
            "line",
            "org_unit_id",
            "industry",
            "account_type",
            "risk_tolerance",
            "id_number",
            "phone",
            "since",
            "name_initials",
            "birth_date",
            "sex",
        ],
        dated: None,
        versioned: false,
    },
};

pub(crate) fn customer(c: &NewCustomer, unit: i64, now: &str) -> Values {
    Values::new()
        .put("cif_no", c.cif_no.as_str())
        .put("kind", c.kind.as_str())
        .put("name", c.name.as_str())
        .put("line", c.line.as_str())
        .put("org_unit_id", unit)
        .put("industry", c.industry.map(Industry::as_str))
        .put("account_type", c.account_type.as_str())
        .put(
            "risk_tolerance",
            c.risk_tolerance.map(RiskTolerance::as_str),
        )
        .put("id_number", c.id_number.as_ref().map(IdNumber::reveal))
        .put("phone", c.phone.as_ref().map(Phone::reveal))
        .put("since", c.since.to_string())
        .put("created_at", now)
        .put("name_initials", name_initials(&c.name))
        .put("birth_date", c.birth_date.map(|d| d.to_string()))
        .put("sex", c.sex.map(Sex::as_str))
}

pub(crate) const GROUP: Table = Table {
    name: "customer_group",
    upsert: Upsert {
        key: &["code"],
        update: &["name", "lead_unit_id", "lead_rm_id"],
        dated: None,
        versioned: false,
    },
};

pub(crate) fn group(g: &NewGroup, lead_unit: i64, lead_rm: Option<i64>, now: &str) -> Values {
    Values::new()
        .put("code", g.code.as_str())
        .put("name", g.name.as_str())
        .put("lead_unit_id", lead_unit)
        .put("lead_rm_id", lead_rm)
        .put("created_at", now)
}

/// The co-units of a group: replaced whole, never merged row by row.
pub(crate) const GROUP_CO_UNIT: &str = "group_co_unit";

pub(crate) fn group_co_unit(group: i64, unit: i64) -> Values {
    Values::new()
        .put("group_id", group)
        .put("org_unit_id", unit)
}

pub(crate) const GROUP_MEMBER: Table = Table {
    name: "group_member",
    upsert: Upsert {
        key: &["customer_id"],
        update: &["group_id", "parent_customer_id"],
        dated: None,
        versioned: false,
    },
};

pub(crate) fn group_member(customer: i64, group: i64, parent: Option<i64>) -> Values {
    Values::new()
        .put("customer_id", customer)
        .put("group_id", group)
        .put("parent_customer_id", parent)
}

pub(crate) const KEY_PERSON: Table = Table {
    name: "key_person",
    upsert: Upsert {
        key: &["customer_id", "name", "role"],
        // The mobile, birthday, owner and notes come with the first file only: after that they
        // are the RM's (docs/extracts.md). A change of stage takes the file's day for it.
        update: &["title", "closeness", "trust", "favour", "stage"],
        dated: Some(("stage_since", "stage")),
        versioned: true,
    },
};

/// A new key person's row: version 1, saved `now` by `by`, in its stage since `stage_since`
/// (unknown for people an extract brings).
pub(crate) fn key_person(
    customer: i64,
    p: &NewKeyPerson,
    stage_since: Option<NaiveDate>,
    (by, now): (&str, &str),
) -> Values {
    let d = &p.details;
    Values::new()
        .put("customer_id", customer)
        .put("name", p.name.as_str())
        .put("role", p.role.as_str())
        .put("title", p.title.as_deref())
        .put("closeness", i64::from(p.closeness.get()))
        .put("trust", i64::from(p.trust.get()))
        .put("favour", i64::from(p.favour.get()))
        .put("stage", p.stage.as_str())
        .put("stage_since", stage_since.map(|d| d.to_string()))
        .put("phone", d.phone.as_ref().map(|p| p.reveal().to_owned()))
        .put("birthday", d.birthday.map(|d| d.to_string()))
        .put("owner", d.owner.clone())
        .put("notes", d.notes.clone())
        .put("version", 1i64)
        .put("updated_by", by)
        .put("updated_at", now)
        .put("created_at", now)
}

/// RM assignments: new rows only — a stored row's end is set by `relationship::write_assignments`.
pub(crate) const ASSIGNMENT: &str = "rm_assignment";

pub(crate) fn assignment(
    customer: i64,
    user: i64,
    role: AssignmentRole,
    from: NaiveDate,
    to: Option<NaiveDate>,
    now: &str,
) -> Values {
    Values::new()
        .put("customer_id", customer)
        .put("user_id", user)
        .put("role", role.as_str())
        .put("effective_from", from.to_string())
        .put("effective_to", to.map(|d| d.to_string()))
        .put("created_at", now)
}

pub(crate) const ACCOUNT: Table = Table {
    name: "account",
    upsert: Upsert {
        key: &["account_no"],
        update: &[
            "customer_id",
            "product_id",
            "currency",
            "org_unit_id",
            "opened_on",
        ],
        dated: None,
        versioned: false,
    },
};

pub(crate) fn account(a: &AccountRecord, customer: i64, product: i64, unit: i64) -> Values {
    Values::new()
        .put("account_no", a.account_no.as_str())
        .put("customer_id", customer)
        .put("product_id", product)
        .put("currency", a.currency.as_str())
        .put("org_unit_id", unit)
        .put("opened_on", a.opened_on.to_string())
}

pub(crate) const ACCOUNT_PARTY: Table = Table {
    name: "account_party",
    upsert: Upsert {
        key: &["account_id", "customer_id"],
        update: &["role", "since"],
        dated: None,
        versioned: false,
    },
};

pub(crate) fn account_party(account: i64, customer: i64, p: &AccountPartyRecord) -> Values {
    Values::new()
        .put("account_id", account)
        .put("customer_id", customer)
        .put("role", p.role.as_str())
        .put("since", p.since.map(|d| d.to_string()))
}

pub(crate) const HOLDING: Table = Table {
    name: "holding",
    upsert: Upsert {
        key: &["customer_id", "product_id", "currency", "as_of"],
        update: &["amount_minor"],
        dated: None,
        versioned: false,
    },
};

pub(crate) fn holding(customer: i64, product: i64, h: &HoldingRecord) -> Values {
    Values::new()
        .put("customer_id", customer)
        .put("product_id", product)
        .put("amount_minor", h.amount.minor())
        .put("currency", h.amount.currency().as_str())
        .put("as_of", h.as_of.to_string())
}

pub(crate) const PAYROLL_LINK: Table = Table {
    name: "payroll_link",
    upsert: Upsert {
        key: &["employer_id", "employee_id"],
        update: &["monthly_amount_minor", "currency", "since"],
        dated: None,
        versioned: false,
    },
};

pub(crate) fn payroll_link(employer: i64, employee: i64, p: &PayrollRecord) -> Values {
    Values::new()
        .put("employer_id", employer)
        .put("employee_id", employee)
        .put("monthly_amount_minor", p.monthly_amount.minor())
        .put("currency", p.monthly_amount.currency().as_str())
        .put("since", p.since.to_string())
}

/// Users from an HR list: a merged user keeps its password hash and its disabled flag (those
/// belong to kam), so neither is among the merged columns.
pub(crate) const USER: Table = Table {
    name: "app_user",
    upsert: Upsert {
        key: &["username"],
        update: &["display_name", "role", "org_unit_id", "line"],
        dated: None,
        versioned: false,
    },
};

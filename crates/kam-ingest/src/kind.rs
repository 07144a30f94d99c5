//! The extract kinds kam reads and the fields of each: name, type, whether required. This is the
//! catalogue a mapping file is checked against ("unknown field" lists these names).

use kam_core::{
    assignment::AssignmentRole,
    code_enum,
    contact::{ContactRole, RelationshipStage},
    customer::{AccountType, CustomerKind, Industry, RiskTolerance, Sex},
    org::{Line, OrgKind},
    product::{AccountRole, NeedCategory, ProductRisk},
    profile::{Listing, RevenueBand},
    user::Role,
};

code_enum! {
    /// A kind of extract file.
    pub enum ExtractKind as "kind" {
        OrgUnits = "org_units",
        Users = "users",
        Products = "products",
        Customers = "customers",
        Groups = "groups",
        GroupMembers = "group_members",
        KeyPeople = "key_people",
        RmAssignments = "rm_assignments",
        Accounts = "accounts",
        PayrollLinks = "payroll_links",
        Holdings = "holdings",
        AccountParties = "account_parties",
        CorporateProfiles = "corporate_profiles",
        Balances = "balances",
        Transactions = "transactions",
        Loans = "loans",
        Fees = "fees",
    }
}

/// What a field holds, and so how its text is parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// Free text (names, titles).
    Text,
    /// A bank code kept as given (customer number, account number, org code).
    Code,
    /// A calendar date, parsed with the mapping's date format.
    Date,
    /// Money: yuan with up to two decimals, or fen, per the mapping; never a float.
    Amount,
    /// A whole number.
    Count,
    /// Yes/no (`Y`/`N`, `1`/`0`, `true`/`false`).
    Flag,
    /// An ISO 4217 currency code.
    Currency,
    /// One of a closed list of codes (after the mapping's code list is applied).
    Choice(&'static [&'static str]),
    /// A resident ID number with its GB 11643 check digit (personal: masked in rejects).
    IdNumber,
    /// A mobile number (personal: masked in rejects).
    Phone,
}

impl FieldType {
    /// Personal identifiers are masked wherever a value is echoed back (rejects, messages).
    pub fn is_personal(self) -> bool {
        matches!(self, IdNumber | Phone)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    pub name: &'static str,
    pub ty: FieldType,
    pub required: bool,
}

const fn req(name: &'static str, ty: FieldType) -> FieldSpec {
    FieldSpec {
        name,
        ty,
        required: true,
    }
}

const fn opt(name: &'static str, ty: FieldType) -> FieldSpec {
    FieldSpec {
        name,
        ty,
        required: false,
    }
}

use FieldType::*;

const DIRECTIONS: &[&str] = &["credit", "debit"];
const LOAN_CLASSES: &[&str] = &["pass", "special_mention", "substandard", "doubtful", "loss"];

const ORG_UNITS_FIELDS: &[FieldSpec] = &[
    req("org_code", Code),
    req("name", Text),
    req("kind", Choice(OrgKind::CODES)),
    opt("parent_code", Code),
];

const USERS_FIELDS: &[FieldSpec] = &[
    req("username", Code),
    req("display_name", Text),
    req("role", Choice(Role::CODES)),
    req("org_code", Code),
    opt("line", Choice(Line::CODES)),
];

const PRODUCTS_FIELDS: &[FieldSpec] = &[
    req("product_code", Code),
    req("name", Text),
    req("line", Choice(Line::CODES)),
    req("need_category", Choice(NeedCategory::CODES)),
    req("risk_level", Choice(ProductRisk::CODES)),
];

const CUSTOMERS_FIELDS: &[FieldSpec] = &[
    req("cif_no", Code),
    req("kind", Choice(CustomerKind::CODES)),
    req("name", Text),
    req("line", Choice(Line::CODES)),
    req("org_code", Code),
    opt("industry", Choice(Industry::CODES)),
    opt("account_type", Choice(AccountType::CODES)),
    opt("risk_tolerance", Choice(RiskTolerance::CODES)),
    opt("id_number", IdNumber),
    opt("phone", Phone),
    req("since", Date),
    opt("birth_date", Date),
    opt("sex", Choice(Sex::CODES)),
];

const GROUPS_FIELDS: &[FieldSpec] = &[
    req("group_code", Code),
    req("name", Text),
    req("lead_org_code", Code),
    opt("co_org_codes", Text),
    opt("lead_rm", Code),
];

const GROUP_MEMBERS_FIELDS: &[FieldSpec] = &[
    req("group_code", Code),
    req("cif_no", Code),
    opt("parent_cif_no", Code),
];

const KEY_PEOPLE_FIELDS: &[FieldSpec] = &[
    req("cif_no", Code),
    req("name", Text),
    req("contact_role", Choice(ContactRole::CODES)),
    opt("title", Text),
    req("closeness", Count),
    req("trust", Count),
    req("favour", Count),
    req("stage", Choice(RelationshipStage::CODES)),
    opt("stage_since", Date),
    opt("phone", Phone),
    opt("birthday", Date),
    opt("owner", Code),
    opt("notes", Text),
];

const RM_ASSIGNMENTS_FIELDS: &[FieldSpec] = &[
    req("cif_no", Code),
    req("username", Code),
    req("role", Choice(AssignmentRole::CODES)),
    req("effective_from", Date),
    opt("effective_to", Date),
];

const ACCOUNTS_FIELDS: &[FieldSpec] = &[
    req("account_no", Code),
    req("cif_no", Code),
    req("product_code", Code),
    req("currency", Currency),
    req("org_code", Code),
    req("opened_on", Date),
];

const PAYROLL_LINKS_FIELDS: &[FieldSpec] = &[
    req("employer_cif_no", Code),
    req("employee_cif_no", Code),
    req("monthly_amount", Amount),
    req("currency", Currency),
    req("since", Date),
];

/// Who else is party to an account: a joint owner, or a user the owner authorised.
const ACCOUNT_PARTIES_FIELDS: &[FieldSpec] = &[
    req("account_no", Code),
    req("cif_no", Code),
    req("role", Choice(AccountRole::CODES)),
    opt("since", Date),
];

/// What a customer holds of a product on a day (a card, a fund, a deposit product): the amount
/// is 0 where only the holding counts (a card).
const HOLDINGS_FIELDS: &[FieldSpec] = &[
    req("cif_no", Code),
    req("product_code", Code),
    req("as_of", Date),
    opt("amount", Amount),
    req("currency", Currency),
];

const CORPORATE_PROFILES_FIELDS: &[FieldSpec] = &[
    req("cif_no", Code),
    opt("legal_representative", Text),
    opt("registered_capital", Amount),
    opt("capital_currency", Currency),
    opt("established_on", Date),
    opt("business_scope", Text),
    opt("credit_code", Code),
    opt("listing", Choice(Listing::CODES)),
    opt("employees", Count),
    opt("revenue_band", Choice(RevenueBand::CODES)),
    opt("our_share_percent", Count),
    opt("main_banks", Text),
];

const BALANCES_FIELDS: &[FieldSpec] = &[
    req("business_date", Date),
    req("account_no", Code),
    req("cif_no", Code),
    req("currency", Currency),
    req("balance", Amount),
];

const TRANSACTIONS_FIELDS: &[FieldSpec] = &[
    req("business_date", Date),
    req("txn_id", Code),
    req("account_no", Code),
    req("cif_no", Code),
    req("direction", Choice(DIRECTIONS)),
    req("amount", Amount),
    req("currency", Currency),
    opt("channel", Text),
    opt("counterparty_name", Text),
    opt("counterparty_bank", Text),
    opt("reversal", Flag),
    opt("reverses_txn_id", Code),
];

const LOANS_FIELDS: &[FieldSpec] = &[
    req("business_date", Date),
    req("loan_no", Code),
    req("cif_no", Code),
    req("currency", Currency),
    req("outstanding", Amount),
    req("overdue_principal", Amount),
    req("overdue_days", Count),
    req("loan_class", Choice(LOAN_CLASSES)),
    opt("credit_limit", Amount),
];

const FEES_FIELDS: &[FieldSpec] = &[
    req("business_date", Date),
    req("cif_no", Code),
    req("fee_code", Code),
    req("amount", Amount),
    req("currency", Currency),
];

impl ExtractKind {
    /// The fields of this kind, in the order of kam's own extract format.
    pub fn fields(self) -> &'static [FieldSpec] {
        match self {
            ExtractKind::OrgUnits => ORG_UNITS_FIELDS,
            ExtractKind::Users => USERS_FIELDS,
            ExtractKind::Products => PRODUCTS_FIELDS,
            ExtractKind::Customers => CUSTOMERS_FIELDS,
            ExtractKind::Groups => GROUPS_FIELDS,
            ExtractKind::GroupMembers => GROUP_MEMBERS_FIELDS,
            ExtractKind::KeyPeople => KEY_PEOPLE_FIELDS,
            ExtractKind::RmAssignments => RM_ASSIGNMENTS_FIELDS,
            ExtractKind::Accounts => ACCOUNTS_FIELDS,
            ExtractKind::PayrollLinks => PAYROLL_LINKS_FIELDS,
            ExtractKind::Holdings => HOLDINGS_FIELDS,
            ExtractKind::AccountParties => ACCOUNT_PARTIES_FIELDS,
            ExtractKind::CorporateProfiles => CORPORATE_PROFILES_FIELDS,
            ExtractKind::Balances => BALANCES_FIELDS,
            ExtractKind::Transactions => TRANSACTIONS_FIELDS,
            ExtractKind::Loans => LOANS_FIELDS,
            ExtractKind::Fees => FEES_FIELDS,
        }
    }

    /// The fields that identify a row: a second row with the same key (in the file or across the
    /// files of one run) is a duplicate. Empty: every row stands alone (fees).
    pub fn business_key(self) -> &'static [&'static str] {
        match self {
            ExtractKind::OrgUnits => &["org_code"],
            ExtractKind::Users => &["username"],
            ExtractKind::Products => &["product_code"],
            ExtractKind::Customers => &["cif_no"],
            ExtractKind::Groups => &["group_code"],
            ExtractKind::GroupMembers => &["cif_no"],
            ExtractKind::KeyPeople => &["cif_no", "name", "contact_role"],
            ExtractKind::RmAssignments => &["cif_no", "username", "role", "effective_from"],
            ExtractKind::Accounts => &["account_no"],
            ExtractKind::PayrollLinks => &["employer_cif_no", "employee_cif_no"],
            ExtractKind::Holdings => &["cif_no", "product_code", "currency", "as_of"],
            ExtractKind::AccountParties => &["account_no", "cif_no"],
            ExtractKind::CorporateProfiles => &["cif_no"],
            ExtractKind::Balances => &["business_date", "account_no"],
            ExtractKind::Transactions => &["txn_id"],
            ExtractKind::Loans => &["business_date", "loan_no"],
            ExtractKind::Fees => &[],
        }
    }

    /// The amount fields summed for the reconciliation report.
    pub fn amount_fields(self) -> impl Iterator<Item = &'static str> {
        self.fields()
            .iter()
            .filter(|f| f.ty == Amount)
            .map(|f| f.name)
    }

    /// Facts go to Parquet; everything else is operational data merged into the SQL store.
    pub fn is_fact(self) -> bool {
        matches!(
            self,
            ExtractKind::Balances
                | ExtractKind::Transactions
                | ExtractKind::Loans
                | ExtractKind::Fees
        )
    }

    pub fn field(self, name: &str) -> Option<&'static FieldSpec> {
        self.fields().iter().find(|f| f.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_business_key_names_real_required_fields() {
        for kind in ExtractKind::ALL {
            for key in kind.business_key() {
                let field = kind.field(key).unwrap_or_else(|| panic!("{kind}: {key}"));
                assert!(field.required, "{kind}: key field {key} must be required");
            }
        }
    }
}

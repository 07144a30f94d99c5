//! Users (staff) and their roles.

use crate::{
    ParseError, code_enum,
    id::{OrgUnitId, UserId},
    org::{Line, OrgKind},
};

code_enum! {
    /// What a user does in the bank; together with the org unit and line it decides visibility.
    pub enum Role as "role" {
        Administrator = "administrator",
        HeadOfficeKeyAccountManager = "head_office_kam",
        BranchManager = "branch_manager",
        SubBranchPresident = "sub_branch_president",
        RelationshipManager = "relationship_manager",
        Teller = "teller",
        RiskOfficer = "risk_officer",
        Auditor = "auditor",
    }
}

impl Role {
    pub fn label_zh(self) -> &'static str {
        match self {
            Role::Administrator => "系统管理员",
            Role::HeadOfficeKeyAccountManager => "总行大客户经理",
            Role::BranchManager => "分行行长",
            Role::SubBranchPresident => "支行行长",
            Role::RelationshipManager => "客户经理",
            Role::Teller => "柜员",
            Role::RiskOfficer => "风险经理",
            Role::Auditor => "审计员",
        }
    }

    /// The org levels a user of this role may be placed at.
    pub fn allowed_units(self) -> &'static [OrgKind] {
        use OrgKind::*;
        match self {
            Role::HeadOfficeKeyAccountManager => &[HeadOffice],
            Role::BranchManager => &[Tier1Branch, Tier2Branch],
            Role::SubBranchPresident => &[SubBranch],
            Role::RelationshipManager | Role::Teller => &[Tier1Branch, Tier2Branch, SubBranch],
            Role::Administrator | Role::RiskOfficer | Role::Auditor => {
                &[HeadOffice, Tier1Branch, Tier2Branch, SubBranch]
            }
        }
    }

    /// Whether users of this role keep a book of customers (the "by RM" filter of a list).
    pub fn keeps_a_book(self) -> bool {
        self == Role::RelationshipManager
    }

    /// Only the auditor reads the audit trail (separation of duties).
    pub fn may_read_audit(self) -> bool {
        self == Role::Auditor
    }

    /// Only the administrator manages users and the org tree.
    pub fn may_administer(self) -> bool {
        self == Role::Administrator
    }

    /// Who may unmask a personal identifier (ID number, phone) of a customer they can see: the
    /// roles that serve customers. Auditors, risk officers and tellers see masked values only.
    /// Every reveal also needs a reason and is written to the audit trail.
    pub fn may_reveal(self) -> bool {
        matches!(
            self,
            Role::HeadOfficeKeyAccountManager
                | Role::BranchManager
                | Role::SubBranchPresident
                | Role::RelationshipManager
        )
    }

    /// Whether users of this role serve customers — visit them, own tasks, take part in
    /// activities: the same roles that may reveal an identifier.
    pub fn serves_customers(self) -> bool {
        self.may_reveal()
    }

    /// An RM always works one line (对公 or 对私 客户经理); other roles may or may not be limited.
    pub fn requires_line(self) -> bool {
        self == Role::RelationshipManager
    }
}

/// A login name: 3–64 characters of lower-case ASCII letters, digits, `.`, `_`, `-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Username(String);

impl Username {
    pub fn parse(value: &str) -> Result<Self, ParseError> {
        let value = value.trim();
        let ok = (3..=64).contains(&value.len())
            && value
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
        if ok {
            Ok(Self(value.to_owned()))
        } else {
            Err(ParseError::new(
                "username",
                value,
                "a username is 3–64 lower-case letters, digits, '.', '_' or '-'",
                "用户名应为 3–64 个小写字母、数字、“.”、“_” 或 “-”",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Username {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A user as stored (without the password hash, which only the sign-in path reads).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub username: Username,
    pub display_name: String,
    pub role: Role,
    pub org_unit_id: OrgUnitId,
    /// The business line the user is limited to; `None` means every line.
    pub line: Option<Line>,
    pub disabled: bool,
}

/// A user to be created; `parse` enforces role ↔ unit level ↔ line.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: Username,
    pub display_name: String,
    pub role: Role,
    pub org_unit_code: String,
    pub line: Option<Line>,
}

impl NewUser {
    pub fn parse(
        username: &str,
        display_name: &str,
        role: Role,
        org_unit_code: &str,
        line: Option<Line>,
    ) -> Result<Self, ParseError> {
        if role.requires_line() && line.is_none() {
            return Err(ParseError::new(
                "line",
                "",
                format!(
                    "a {} needs a business line: {}",
                    role.as_str(),
                    Line::CODES.join(", ")
                ),
                format!(
                    "{}必须指定条线：{}",
                    role.label_zh(),
                    Line::CODES.join(", ")
                ),
            ));
        }
        Ok(Self {
            username: Username::parse(username)?,
            display_name: crate::org::parse_name("display_name", display_name)?,
            role,
            org_unit_code: crate::org::parse_code("org_unit", org_unit_code)?,
            line,
        })
    }

    /// Checks the unit the user is placed at against the role (the store calls this once the
    /// unit's kind is known).
    pub fn check_unit(&self, unit_kind: OrgKind) -> Result<(), ParseError> {
        if self.role.allowed_units().contains(&unit_kind) {
            Ok(())
        } else {
            let allowed: Vec<&str> = self
                .role
                .allowed_units()
                .iter()
                .map(|k| k.as_str())
                .collect();
            Err(ParseError::new(
                "org_unit",
                self.org_unit_code.clone(),
                format!(
                    "a {} is placed at one of: {}, not at a {}",
                    self.role.as_str(),
                    allowed.join(", "),
                    unit_kind.as_str()
                ),
                format!("{}不能设在{}", self.role.label_zh(), unit_kind.label_zh()),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_rm_without_a_line_is_refused() {
        let error = NewUser::parse("wang.rm", "王经理", Role::RelationshipManager, "0101", None)
            .unwrap_err();
        assert_eq!(error.field, "line");
    }

    #[test]
    fn a_sub_branch_president_must_sit_at_a_sub_branch() {
        let user =
            NewUser::parse("li.p", "李行长", Role::SubBranchPresident, "0101", None).unwrap();
        assert!(user.check_unit(OrgKind::SubBranch).is_ok());
        assert!(user.check_unit(OrgKind::Tier1Branch).is_err());
    }

    #[test]
    fn usernames_are_plain_lower_case() {
        assert!(Username::parse("zhang.san-01").is_ok());
        for bad in ["ab", "Zhang", "zhang san", "张三"] {
            assert!(Username::parse(bad).is_err(), "{bad}");
        }
    }
}

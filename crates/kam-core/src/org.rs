//! The bank's org tree (head office → tier-1 branch → tier-2 branch → sub-branch) and business lines.

use crate::{ParseError, code_enum, id::OrgUnitId};

code_enum! {
    /// The level of an org unit; a unit's parent is always exactly one level up.
    pub enum OrgKind as "org_kind" {
        HeadOffice = "head_office",
        Tier1Branch = "tier1_branch",
        Tier2Branch = "tier2_branch",
        SubBranch = "sub_branch",
    }
}

impl OrgKind {
    /// The kind a parent of this kind must have; `None` for the head office (the root).
    pub fn parent_kind(self) -> Option<OrgKind> {
        match self {
            OrgKind::HeadOffice => None,
            OrgKind::Tier1Branch => Some(OrgKind::HeadOffice),
            OrgKind::Tier2Branch => Some(OrgKind::Tier1Branch),
            OrgKind::SubBranch => Some(OrgKind::Tier2Branch),
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            OrgKind::HeadOffice => "总行",
            OrgKind::Tier1Branch => "一级分行",
            OrgKind::Tier2Branch => "二级分行",
            OrgKind::SubBranch => "支行",
        }
    }
}

code_enum! {
    /// A business line (条线). Customers are booked in one; managers may be limited to one.
    pub enum Line as "line" {
        Corporate = "corporate",
        Retail = "retail",
        International = "international",
        SmallBusiness = "small_business",
        InvestmentBanking = "investment_banking",
        Treasury = "treasury",
    }
}

impl Line {
    pub fn label_zh(self) -> &'static str {
        match self {
            Line::Corporate => "公司",
            Line::Retail => "零售",
            Line::International => "国际",
            Line::SmallBusiness => "小企业",
            Line::InvestmentBanking => "投行",
            Line::Treasury => "资金",
        }
    }
}

/// The materialised path of an org unit: the ids from the root down, `/1/4/13/`.
///
/// Visibility by subtree is then one prefix comparison in SQL (`path like '/1/4/%'`) instead of a
/// recursive query, and the same comparison here in Rust. A closure table was the alternative; the
/// tree is four levels deep and rarely re-parented, so a path is simpler and as fast.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OrgPath(String);

impl OrgPath {
    pub fn root(id: OrgUnitId) -> Self {
        Self(format!("/{id}/"))
    }

    pub fn child(&self, id: OrgUnitId) -> Self {
        Self(format!("{}{id}/", self.0))
    }

    pub fn parse(value: &str) -> Result<Self, ParseError> {
        let well_formed = value.len() >= 3
            && value.starts_with('/')
            && value.ends_with('/')
            && value[1..value.len() - 1]
                .split('/')
                .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()));
        if well_formed {
            Ok(Self(value.to_owned()))
        } else {
            Err(ParseError::new(
                "org_path",
                value,
                "an org path is ids between slashes, e.g. /1/4/13/",
                "机构路径应为以斜杠分隔的编号，例如 /1/4/13/",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True when `other` is this unit or below it.
    pub fn contains(&self, other: &OrgPath) -> bool {
        other.0.starts_with(&self.0)
    }

    pub fn depth(&self) -> usize {
        self.0.matches('/').count() - 1
    }
}

/// A unit of the org tree as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgUnit {
    pub id: OrgUnitId,
    /// The bank's own code for the unit (机构号), kept as given.
    pub code: String,
    pub name: String,
    pub kind: OrgKind,
    pub parent_id: Option<OrgUnitId>,
    pub path: OrgPath,
}

/// The units at and below `home` (a manager's choice of the unit in scope), in the given order;
/// empty when `home` is not among `units`.
pub fn subtree_of(units: &[OrgUnit], home: OrgUnitId) -> Vec<&OrgUnit> {
    let Some(home) = units.iter().find(|u| u.id == home) else {
        return Vec::new();
    };
    units
        .iter()
        .filter(|u| home.path.contains(&u.path))
        .collect()
}

/// A unit to be created. `parse` checks the code and name; the store checks the parent's kind.
#[derive(Debug, Clone)]
pub struct NewOrgUnit {
    pub code: String,
    pub name: String,
    pub kind: OrgKind,
    /// The parent's code; `None` only for the head office.
    pub parent_code: Option<String>,
}

impl NewOrgUnit {
    pub fn parse(
        code: &str,
        name: &str,
        kind: OrgKind,
        parent_code: Option<&str>,
    ) -> Result<Self, ParseError> {
        let code = parse_code("org_code", code)?;
        let name = parse_name("org_name", name)?;
        match (kind.parent_kind(), parent_code) {
            (None, Some(parent)) => Err(ParseError::new(
                "parent_code",
                parent,
                "the head office has no parent",
                "总行没有上级机构",
            )),
            (Some(_), None) => Err(ParseError::new(
                "parent_code",
                "",
                "every unit below the head office needs a parent",
                "总行以下的机构必须有上级机构",
            )),
            _ => Ok(Self {
                code,
                name,
                kind,
                parent_code: parent_code.map(str::to_owned),
            }),
        }
    }
}

/// The org tree has one root: a head office may be added only while there is none. A second
/// one would split the tree, and with it every reach that is a subtree.
pub fn check_one_root(unit: &NewOrgUnit, existing_root: Option<&str>) -> Result<(), ParseError> {
    match (unit.kind, existing_root) {
        (OrgKind::HeadOffice, Some(root)) if root != unit.code => Err(ParseError::new(
            "kind",
            unit.kind.as_str(),
            format!(
                "the org tree already has its head office, {root}; a second head office would split the tree — give this unit its parent, or correct its level"
            ),
            format!(
                "机构树已有总行 {root}，不能再有第二个总行（会把机构树分成两棵）；请给出其上级机构，或更正其层级"
            ),
        )),
        _ => Ok(()),
    }
}

/// A bank code (机构号, 客户号, 产品号…): printable ASCII without spaces, 1–32 characters, kept as given.
pub(crate) fn parse_code(field: &'static str, value: &str) -> Result<String, ParseError> {
    let value = value.trim();
    if (1..=32).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(value.to_owned())
    } else {
        Err(ParseError::new(
            field,
            value,
            "a code is 1–32 visible ASCII characters without spaces",
            "编号应为 1–32 个不含空格的可见 ASCII 字符",
        ))
    }
}

/// A display name: not blank, at most 200 characters, no control characters.
pub fn parse_name(field: &'static str, value: &str) -> Result<String, ParseError> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > 200 || value.chars().any(char::is_control) {
        Err(ParseError::new(
            field,
            value,
            "a name is 1–200 characters without control characters",
            "名称应为 1–200 个字符，且不含控制字符",
        ))
    } else {
        Ok(value.to_owned())
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn the_tree_has_one_head_office() {
        let head = NewOrgUnit::parse("100000", "总行", OrgKind::HeadOffice, None).unwrap();
        let other = NewOrgUnit::parse("900000", "另一总行", OrgKind::HeadOffice, None).unwrap();
        let branch =
            NewOrgUnit::parse("110000", "分行", OrgKind::Tier1Branch, Some("100000")).unwrap();
        assert!(check_one_root(&head, None).is_ok());
        assert!(
            check_one_root(&head, Some("100000")).is_ok(),
            "the same one again"
        );
        assert!(check_one_root(&branch, Some("100000")).is_ok());
        let refused = check_one_root(&other, Some("100000")).unwrap_err();
        assert_eq!(refused.field, "kind");
        assert!(
            refused
                .reason_en
                .contains("already has its head office, 100000")
        );
        assert!(refused.reason_zh.contains("不能再有第二个总行"));
    }
    use super::*;

    fn unit(id: i64, path: &str) -> OrgUnit {
        OrgUnit {
            id: OrgUnitId(id),
            code: format!("U{id}"),
            name: format!("机构{id}"),
            kind: OrgKind::SubBranch,
            parent_id: None,
            path: OrgPath::parse(path).unwrap(),
        }
    }

    #[test]
    fn a_subtree_is_the_unit_and_everything_below_it() {
        let units = [
            unit(1, "/1/"),
            unit(2, "/1/2/"),
            unit(3, "/1/2/3/"),
            unit(4, "/1/4/"),
            unit(22, "/1/22/"),
        ];
        let ids = |home| {
            subtree_of(&units, OrgUnitId(home))
                .iter()
                .map(|u| u.id.0)
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(1), [1, 2, 3, 4, 22]);
        assert_eq!(ids(2), [2, 3], "unit 22 shares a digit, not a branch");
        assert_eq!(ids(3), [3]);
        assert!(ids(99).is_empty());
    }

    #[test]
    fn a_path_contains_its_subtree_but_not_its_siblings() {
        let branch = OrgPath::root(OrgUnitId(1)).child(OrgUnitId(4));
        let sub = branch.child(OrgUnitId(13));
        let sibling = OrgPath::root(OrgUnitId(1)).child(OrgUnitId(44));
        assert!(branch.contains(&sub));
        assert!(branch.contains(&branch));
        assert!(!branch.contains(&sibling));
        assert!(!sub.contains(&branch));
        assert_eq!(sub.depth(), 3);
    }

    #[test]
    fn a_unit_id_prefix_is_not_mistaken_for_an_ancestor() {
        // /1/4/ must not contain /1/44/: the trailing slash is what makes prefix matching sound.
        let four = OrgPath::parse("/1/4/").unwrap();
        assert!(!four.contains(&OrgPath::parse("/1/44/").unwrap()));
    }

    #[test]
    fn malformed_paths_are_refused() {
        for bad in ["", "/", "1/2/", "/1/2", "/1//2/", "/a/"] {
            assert!(OrgPath::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn only_the_head_office_has_no_parent() {
        assert!(NewOrgUnit::parse("001", "总行", OrgKind::HeadOffice, None).is_ok());
        assert!(NewOrgUnit::parse("002", "北京分行", OrgKind::Tier1Branch, None).is_err());
        assert!(NewOrgUnit::parse("001", "总行", OrgKind::HeadOffice, Some("000")).is_err());
    }

    #[test]
    fn an_unknown_line_lists_the_accepted_ones() {
        let error = Line::parse("wholesale").unwrap_err();
        assert!(error.reason_en.contains("corporate, retail"), "{error}");
    }
}

//! Group customers (集团客户): a tree of member customers with a lead unit (主办行) and co-units.

use crate::{
    ParseError,
    id::{CustomerId, GroupId, OrgUnitId, UserId},
};

/// A group as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub id: GroupId,
    pub code: String,
    pub name: String,
    /// 主办行: the unit that leads the relationship with the whole group.
    pub lead_unit_id: OrgUnitId,
    /// 协办行: units that serve members of the group.
    pub co_unit_ids: Vec<OrgUnitId>,
    /// The group's customer lead; sees every member wherever it is booked.
    pub lead_rm_id: Option<UserId>,
}

/// A member in the group tree; the root (the parent company) has no parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupMember {
    pub group_id: GroupId,
    pub customer_id: CustomerId,
    pub parent_customer_id: Option<CustomerId>,
}

/// A group to be created.
#[derive(Debug, Clone)]
pub struct NewGroup {
    pub code: String,
    pub name: String,
    pub lead_unit_code: String,
    pub co_unit_codes: Vec<String>,
    pub lead_rm_username: Option<String>,
}

impl NewGroup {
    pub fn parse(
        code: &str,
        name: &str,
        lead_unit_code: &str,
        co_unit_codes: &[&str],
        lead_rm_username: Option<&str>,
    ) -> Result<Self, ParseError> {
        let lead_unit_code = crate::org::parse_code("lead_unit", lead_unit_code)?;
        let co_unit_codes = co_unit_codes
            .iter()
            .map(|code| crate::org::parse_code("co_units", code))
            .collect::<Result<Vec<_>, _>>()?;
        if co_unit_codes.contains(&lead_unit_code) {
            return Err(ParseError::new(
                "co_units",
                lead_unit_code,
                "the lead unit cannot also be a co-unit",
                "主办行不能同时是协办行",
            ));
        }
        Ok(Self {
            code: crate::org::parse_code("group_code", code)?,
            name: crate::org::parse_name("group_name", name)?,
            lead_unit_code,
            co_unit_codes,
            lead_rm_username: lead_rm_username.map(str::to_owned),
        })
    }
}

/// Checks that adding `child` under `parent` keeps the member list a tree (no cycles, one root).
/// `members` are the current (child, parent) pairs of the group.
pub fn check_tree_edge(
    members: &[(CustomerId, Option<CustomerId>)],
    child: CustomerId,
    parent: Option<CustomerId>,
) -> Result<(), ParseError> {
    let parent_of = |id: CustomerId| members.iter().find(|(c, _)| *c == id).and_then(|(_, p)| *p);
    match parent {
        None if members.iter().any(|(_, p)| p.is_none()) => Err(ParseError::new(
            "parent",
            "",
            "the group already has a root member",
            "该集团已有根成员（母公司）",
        )),
        Some(parent) if !members.iter().any(|(c, _)| *c == parent) => Err(ParseError::new(
            "parent",
            parent.to_string(),
            "the parent is not a member of the group",
            "上级成员不在该集团中",
        )),
        Some(parent) => {
            let mut cursor = Some(parent);
            let mut steps = 0;
            while let Some(node) = cursor {
                if node == child || steps > members.len() {
                    return Err(ParseError::new(
                        "parent",
                        parent.to_string(),
                        "this would make the group tree a cycle",
                        "会导致集团树形结构出现循环",
                    ));
                }
                cursor = parent_of(node);
                steps += 1;
            }
            Ok(())
        }
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_has_one_root_and_no_cycles() {
        let members = [(CustomerId(1), None), (CustomerId(2), Some(CustomerId(1)))];
        assert!(check_tree_edge(&members, CustomerId(3), Some(CustomerId(2))).is_ok());
        assert!(check_tree_edge(&members, CustomerId(3), None).is_err());
        assert!(check_tree_edge(&members, CustomerId(3), Some(CustomerId(9))).is_err());
        assert!(check_tree_edge(&members, CustomerId(1), Some(CustomerId(2))).is_err());
    }

    #[test]
    fn the_lead_unit_is_not_a_co_unit() {
        assert!(NewGroup::parse("G1", "华能集团", "0101", &["0101"], None).is_err());
        assert!(NewGroup::parse("G1", "华能集团", "0101", &["0201"], None).is_ok());
    }
}

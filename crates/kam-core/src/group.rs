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

/// A group's member tree as changes arrive — one member added from a form, or an extract's rows
/// merged in order: each change is placed only if the tree stays a tree (one root, every parent a
/// member, no cycle, no member its own parent), and a refused change leaves the tree as it was.
#[derive(Debug, Clone, Default)]
pub struct MemberTree {
    parent: std::collections::HashMap<CustomerId, Option<CustomerId>>,
}

impl MemberTree {
    /// The tree of the current (member, parent) pairs of one group.
    pub fn new(members: impl IntoIterator<Item = (CustomerId, Option<CustomerId>)>) -> Self {
        Self {
            parent: members.into_iter().collect(),
        }
    }

    pub fn contains(&self, member: CustomerId) -> bool {
        self.parent.contains_key(&member)
    }

    /// A member's parent (`Some(None)` for the root), or `None` when it is not a member.
    pub fn parent_of(&self, member: CustomerId) -> Option<Option<CustomerId>> {
        self.parent.get(&member).copied()
    }

    /// Places `child` under `parent` (`None`: the root, the parent company), adding it or moving
    /// it within the group.
    pub fn place(
        &mut self,
        child: CustomerId,
        parent: Option<CustomerId>,
    ) -> Result<(), ParseError> {
        let refused = |value: String, en: &str, zh: &str| {
            Err(ParseError::new(
                "parent",
                value,
                en.to_owned(),
                zh.to_owned(),
            ))
        };
        match parent {
            None if self
                .parent
                .iter()
                .any(|(member, up)| up.is_none() && *member != child) =>
            {
                return refused(
                    String::new(),
                    "the group already has a root member",
                    "该集团已有根成员（母公司）",
                );
            }
            None => {}
            Some(parent) if parent == child => {
                return refused(
                    parent.to_string(),
                    "a member cannot be its own parent",
                    "成员不能是自己的上级",
                );
            }
            Some(parent) if !self.contains(parent) => {
                return refused(
                    parent.to_string(),
                    "the parent is not a member of the group",
                    "上级成员不在该集团中",
                );
            }
            Some(parent) => {
                // Walking up from the parent must not meet the child (or go round for ever).
                let mut cursor = Some(parent);
                let mut steps = 0;
                while let Some(node) = cursor {
                    if node == child || steps > self.parent.len() {
                        return refused(
                            parent.to_string(),
                            "this would make the group tree a cycle",
                            "会导致集团树形结构出现循环",
                        );
                    }
                    cursor = self.parent.get(&node).copied().flatten();
                    steps += 1;
                }
            }
        }
        self.parent.insert(child, parent);
        Ok(())
    }

    /// Takes `member` out of the group (it moves to another one); refused while members hang
    /// under it, whose parent would then be outside the group.
    pub fn remove(&mut self, member: CustomerId) -> Result<(), ParseError> {
        if self.parent.values().any(|up| *up == Some(member)) {
            return Err(ParseError::new(
                "group_code",
                member.to_string(),
                "other members of its current group hang under this member; move them first",
                "该成员在原集团下仍有下级成员，请先调整下级成员",
            ));
        }
        self.parent.remove(&member);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_has_one_root_and_no_cycles() {
        let tree =
            || MemberTree::new([(CustomerId(1), None), (CustomerId(2), Some(CustomerId(1)))]);
        assert!(tree().place(CustomerId(3), Some(CustomerId(2))).is_ok());
        assert!(tree().place(CustomerId(3), None).is_err(), "a second root");
        assert!(
            tree().place(CustomerId(1), None).is_ok(),
            "the root stays the root"
        );
        assert!(
            tree().place(CustomerId(3), Some(CustomerId(9))).is_err(),
            "no such parent"
        );
        assert!(
            tree().place(CustomerId(1), Some(CustomerId(2))).is_err(),
            "a cycle"
        );
        assert!(
            tree().place(CustomerId(2), Some(CustomerId(2))).is_err(),
            "its own parent"
        );
        // A refused change leaves the tree as it was.
        let mut t = tree();
        assert!(t.place(CustomerId(1), Some(CustomerId(2))).is_err());
        assert!(t.place(CustomerId(3), Some(CustomerId(1))).is_ok());
        assert!(
            t.remove(CustomerId(1)).is_err(),
            "members hang under the root"
        );
        assert!(t.remove(CustomerId(3)).is_ok());
        assert!(!t.contains(CustomerId(3)));
    }

    #[test]
    fn the_lead_unit_is_not_a_co_unit() {
        assert!(NewGroup::parse("G1", "华能集团", "0101", &["0101"], None).is_err());
        assert!(NewGroup::parse("G1", "华能集团", "0101", &["0201"], None).is_ok());
    }
}

//! Key people at corporate customers (四大金刚 and influencers) and the state of the relationship.

use crate::{
    ParseError, code_enum,
    id::{CustomerId, KeyPersonId},
};

code_enum! {
    /// A company's four key people (认识企业的4大金刚: decision maker, finance head, accountant,
    /// cashier) plus influencers and others.
    pub enum ContactRole as "contact_role" {
        DecisionMaker = "decision_maker",
        FinanceHead = "finance_head",
        Accountant = "accountant",
        Cashier = "cashier",
        Influencer = "influencer",
        Other = "other",
    }
}

impl ContactRole {
    pub fn label_zh(self) -> &'static str {
        match self {
            ContactRole::DecisionMaker => "决策人",
            ContactRole::FinanceHead => "财务负责人",
            ContactRole::Accountant => "会计",
            ContactRole::Cashier => "出纳",
            ContactRole::Influencer => "影响者",
            ContactRole::Other => "其他",
        }
    }
}

code_enum! {
    /// 建 → 做 → 拉 → 用: build, deepen, extend, leverage.
    pub enum RelationshipStage as "relationship_stage" {
        Build = "build",
        Deepen = "deepen",
        Extend = "extend",
        Leverage = "leverage",
    }
}

impl RelationshipStage {
    pub fn next(self) -> Option<Self> {
        match self {
            Self::Build => Some(Self::Deepen),
            Self::Deepen => Some(Self::Extend),
            Self::Extend => Some(Self::Leverage),
            Self::Leverage => None,
        }
    }
}

/// A 1–5 rating of closeness (亲近度), trust (信任度) or favour (人情).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rating(u8);

impl Rating {
    pub fn new(field: &'static str, value: i64) -> Result<Self, ParseError> {
        match u8::try_from(value) {
            Ok(v @ 1..=5) => Ok(Self(v)),
            _ => Err(ParseError::new(
                field,
                value.to_string(),
                "a rating is a whole number from 1 to 5",
                "评分应为 1 到 5 的整数",
            )),
        }
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

/// A key person as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPerson {
    pub id: KeyPersonId,
    pub customer_id: CustomerId,
    pub name: String,
    pub role: ContactRole,
    pub title: Option<String>,
    pub closeness: Rating,
    pub trust: Rating,
    pub favour: Rating,
    pub stage: RelationshipStage,
}

/// A key person to be added.
#[derive(Debug, Clone)]
pub struct NewKeyPerson {
    pub name: String,
    pub role: ContactRole,
    pub title: Option<String>,
    pub closeness: Rating,
    pub trust: Rating,
    pub favour: Rating,
    pub stage: RelationshipStage,
}

impl NewKeyPerson {
    pub fn parse(
        name: &str,
        role: ContactRole,
        title: Option<&str>,
        ratings: [i64; 3],
        stage: RelationshipStage,
    ) -> Result<Self, ParseError> {
        Ok(Self {
            name: crate::org::parse_name("name", name)?,
            role,
            title: title
                .map(|t| crate::org::parse_name("title", t))
                .transpose()?,
            closeness: Rating::new("closeness", ratings[0])?,
            trust: Rating::new("trust", ratings[1])?,
            favour: Rating::new("favour", ratings[2])?,
            stage,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratings_outside_one_to_five_are_refused() {
        assert!(Rating::new("trust", 0).is_err());
        assert!(Rating::new("trust", 6).is_err());
        assert_eq!(Rating::new("trust", 5).unwrap().get(), 5);
    }

    #[test]
    fn the_stages_run_build_deepen_extend_leverage() {
        let mut stage = RelationshipStage::Build;
        let mut seen = vec![stage];
        while let Some(next) = stage.next() {
            seen.push(next);
            stage = next;
        }
        assert_eq!(seen, RelationshipStage::ALL);
    }
}

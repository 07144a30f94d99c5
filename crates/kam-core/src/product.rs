//! Products, what customers hold of them, and payroll links from employers to employees.

use chrono::NaiveDate;

use crate::{
    ParseError, code_enum,
    customer::RiskTolerance,
    id::{CustomerId, ProductId},
    money::Money,
    org::Line,
};

code_enum! {
    /// A party's part in an account: a (joint) owner, or a user the owner authorised (授权人).
    pub enum AccountRole as "account_role" {
        Owner = "owner",
        Authorised = "authorised",
    }
}

code_enum! {
    /// Product risk level (产品风险等级) R1–R5.
    pub enum ProductRisk as "risk_level" {
        R1 = "R1", R2 = "R2", R3 = "R3", R4 = "R4", R5 = "R5",
    }
}

impl ProductRisk {
    /// Suitability: a customer may buy a product whose risk level is at most their tolerance.
    pub fn suits(self, tolerance: RiskTolerance) -> bool {
        let risk = ProductRisk::ALL.iter().position(|r| *r == self);
        let tol = RiskTolerance::ALL.iter().position(|t| *t == tolerance);
        risk <= tol
    }
}

code_enum! {
    /// A customer's five cash-flow needs (与现金流动相关的客户五大需求) plus the retail wealth need.
    pub enum NeedCategory as "need_category" {
        Settlement = "settlement",
        Financing = "financing",
        CashManagement = "cash_management",
        Investment = "investment",
        RiskHedging = "risk_hedging",
        Wealth = "wealth",
    }
}

/// A product of the bank's catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub id: ProductId,
    pub code: String,
    pub name: String,
    pub line: Line,
    pub need_category: NeedCategory,
    pub risk_level: ProductRisk,
}

#[derive(Debug, Clone)]
pub struct NewProduct {
    pub code: String,
    pub name: String,
    pub line: Line,
    pub need_category: NeedCategory,
    pub risk_level: ProductRisk,
}

impl NewProduct {
    pub fn parse(
        code: &str,
        name: &str,
        line: Line,
        need_category: NeedCategory,
        risk_level: ProductRisk,
    ) -> Result<Self, ParseError> {
        Ok(Self {
            code: crate::org::parse_code("product_code", code)?,
            name: crate::org::parse_name("product_name", name)?,
            line,
            need_category,
            risk_level,
        })
    }
}

/// What a customer holds of a product on a date (a balance, a position, a facility).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holding {
    pub customer_id: CustomerId,
    pub product_id: ProductId,
    pub amount: Money,
    pub as_of: NaiveDate,
}

/// 代发工资: an employer pays an employee's salary through the bank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayrollLink {
    pub employer_id: CustomerId,
    pub employee_id: CustomerId,
    pub monthly_amount: Money,
    pub since: NaiveDate,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_c3_customer_suits_r3_but_not_r4() {
        assert!(ProductRisk::R3.suits(RiskTolerance::C3));
        assert!(ProductRisk::R1.suits(RiskTolerance::C3));
        assert!(!ProductRisk::R4.suits(RiskTolerance::C3));
    }
}

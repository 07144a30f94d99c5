//! The other classifications of the batch: retail tiers (贵宾 / 财富 / 私人银行 by average AUM),
//! account types (经济 by contribution rank, 集团 by group membership, 战略 and 重要 as flagged in
//! the master data) and who counts as a key account (大客户).

use crate::{customer::AccountType, indicator::IndicatorSpec};

/// A retail customer's tier by assets; most retail customers have none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RetailTier {
    PrivateBanking,
    Wealth,
    Vip,
}

impl RetailTier {
    /// Best first, the order of the rule's names and bars.
    pub const ALL: [RetailTier; 3] = [
        RetailTier::PrivateBanking,
        RetailTier::Wealth,
        RetailTier::Vip,
    ];

    pub fn code(self) -> &'static str {
        match self {
            RetailTier::PrivateBanking => "private_banking",
            RetailTier::Wealth => "wealth",
            RetailTier::Vip => "vip",
        }
    }

    pub fn parse(code: &str) -> Result<Self, crate::ParseError> {
        Self::ALL
            .into_iter()
            .find(|t| t.code() == code)
            .ok_or_else(|| {
                let codes: Vec<&str> = Self::ALL.iter().map(|t| t.code()).collect();
                crate::ParseError::not_one_of("retail_tier", code, &codes)
            })
    }
}

/// Retail tiers by one indicator (by default the 30-day average AUM, i.e. 月日均 AUM).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetailTierRule {
    pub indicator: &'static IndicatorSpec,
    pub window: Option<u32>,
    /// 私人银行, 财富, 贵宾 (configurable).
    pub names: [String; 3],
    /// The same in English (private banking, wealth, VIP).
    pub names_en: [String; 3],
    /// The least value of each, strictly descending, in fen.
    pub bars: [i64; 3],
}

impl RetailTierRule {
    pub fn measure(&self, value: Option<i64>) -> Option<RetailTier> {
        let value = value?;
        self.bars
            .iter()
            .position(|bar| value >= *bar)
            .map(|i| RetailTier::ALL[i])
    }

    pub fn name(&self, tier: RetailTier) -> &str {
        &self.names[Self::at(tier)]
    }

    pub fn name_en(&self, tier: RetailTier) -> &str {
        &self.names_en[Self::at(tier)]
    }

    fn at(tier: RetailTier) -> usize {
        RetailTier::ALL
            .iter()
            .position(|t| *t == tier)
            .expect("every tier is listed")
    }
}

/// Which corporates are 经济大客户: the top `top_percent` % by an indicator (contribution), counting
/// only positive values. Returns a flag per input, in input order; ties at the cut are all in.
pub fn economic(values: &[Option<i64>], top_percent: u32) -> Vec<bool> {
    let mut positive: Vec<i64> = values
        .iter()
        .flatten()
        .copied()
        .filter(|v| *v > 0)
        .collect();
    let take = (values.len() * top_percent as usize).div_ceil(100);
    if take == 0 || positive.is_empty() {
        return vec![false; values.len()];
    }
    positive.sort_unstable_by(|a, b| b.cmp(a));
    let cut = positive[take.min(positive.len()) - 1];
    values
        .iter()
        .map(|v| v.is_some_and(|v| v > 0 && v >= cut))
        .collect()
}

/// A customer's account types, most important first: 战略 and 重要 as flagged, 集团 when it belongs
/// to a group, 经济 when ranked so. Empty for an ordinary customer.
pub fn account_types(flagged: AccountType, group_member: bool, economic: bool) -> Vec<AccountType> {
    let mut out = Vec::new();
    for (holds, kind) in [
        (flagged == AccountType::Strategic, AccountType::Strategic),
        (flagged == AccountType::Important, AccountType::Important),
        (
            group_member || flagged == AccountType::Group,
            AccountType::Group,
        ),
        (
            economic || flagged == AccountType::Economic,
            AccountType::Economic,
        ),
    ] {
        if holds {
            out.push(kind);
        }
    }
    out
}

/// A key account (大客户): in one of the top `key_tiers` value tiers, or of any account type.
pub fn is_key_account(tier: usize, key_tiers: usize, types: &[AccountType]) -> bool {
    tier < key_tiers || !types.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicator::CATALOGUE;

    #[test]
    fn retail_tiers_by_bars() {
        let rule = RetailTierRule {
            indicator: CATALOGUE.iter().find(|s| s.code == "avg_aum").unwrap(),
            window: Some(30),
            names: ["私人银行".into(), "财富".into(), "贵宾".into()],
            names_en: ["private banking".into(), "wealth".into(), "VIP".into()],
            bars: [600, 100, 30],
        };
        assert_eq!(rule.name_en(RetailTier::Vip), "VIP");
        let tiers: Vec<Option<RetailTier>> = [Some(600), Some(599), Some(30), Some(29), None]
            .into_iter()
            .map(|v| rule.measure(v))
            .collect();
        assert_eq!(
            tiers,
            [
                Some(RetailTier::PrivateBanking),
                Some(RetailTier::Wealth),
                Some(RetailTier::Vip),
                None,
                None
            ]
        );
        assert_eq!(rule.name(RetailTier::Wealth), "财富");
    }

    #[test]
    fn economic_takes_the_top_share_of_positive_values() {
        let values = [
            Some(50),
            Some(10),
            None,
            Some(-5),
            Some(40),
            Some(10),
            Some(0),
            Some(1),
            Some(2),
            Some(3),
        ];
        // 20% of 10 customers = 2: 50 and 40.
        assert_eq!(
            economic(&values, 20),
            [
                true, false, false, false, true, false, false, false, false, false
            ]
        );
        // 30% = 3: the third is 10, and both customers at 10 are in.
        assert_eq!(economic(&values, 30).iter().filter(|e| **e).count(), 4);
        assert!(economic(&values, 0).iter().all(|e| !e));
        assert!(economic(&[Some(0), None], 100).iter().all(|e| !e));
    }

    #[test]
    fn account_types_in_order_and_key_accounts() {
        assert_eq!(
            account_types(AccountType::Strategic, true, true),
            [
                AccountType::Strategic,
                AccountType::Group,
                AccountType::Economic
            ]
        );
        assert!(account_types(AccountType::Ordinary, false, false).is_empty());
        assert!(is_key_account(1, 2, &[]));
        assert!(!is_key_account(2, 2, &[]));
        assert!(is_key_account(4, 2, &[AccountType::Important]));
    }
}

//! The corporate archive (大客户信息档案): what a banker keeps about a company beyond the core
//! system's master data — legal representative, registered capital, established date, business
//! scope, unified social credit code, listing, employees, revenue band, and the banks it works
//! with and our share of its wallet. Entered by the RM (versioned, audited by the store); every
//! value checked here.

use chrono::NaiveDate;

use crate::{ParseError, money::Money};

crate::code_enum! {
    /// Listed, preparing a listing, or neither.
    pub enum Listing as "listing" {
        NotListed = "not_listed",
        PreListing = "pre_listing",
        Listed = "listed",
    }
}

crate::code_enum! {
    /// Annual revenue (营业收入) in bands, as a banker records it.
    pub enum RevenueBand as "revenue_band" {
        Under10m = "under_10m",
        From10mTo100m = "10m_100m",
        From100mTo1b = "100m_1b",
        From1bTo10b = "1b_10b",
        Over10b = "over_10b",
    }
}

/// 统一社会信用代码 (GB 32100-2015): 18 characters of `0-9A-HJ-NPQRTUWXY`, the last a check
/// character over the first seventeen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditCode(String);

const CODE_CHARS: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const CODE_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

impl CreditCode {
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let code = text.trim().to_ascii_uppercase();
        let bad = |en: &str, zh: &str| ParseError::new("credit_code", text, en, zh);
        if code.chars().count() != 18 {
            return Err(bad(
                "a unified social credit code has 18 characters",
                "统一社会信用代码应为 18 位",
            ));
        }
        let values: Option<Vec<u32>> = code
            .chars()
            .map(|c| CODE_CHARS.find(c).map(|i| i as u32))
            .collect();
        let Some(values) = values else {
            return Err(bad(
                "only digits and the letters A–Y without I, O, S, V, Z",
                "只能含数字及字母（不含 I、O、S、V、Z）",
            ));
        };
        let sum: u32 = values[..17]
            .iter()
            .zip(CODE_WEIGHTS)
            .map(|(v, w)| v * w)
            .sum();
        let check = (31 - sum % 31) % 31;
        if values[17] != check {
            return Err(bad(
                "the check character does not match (a typing error?)",
                "校验位不符（是否输错？）",
            ));
        }
        Ok(Self(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The code whose first seventeen characters are `body`, with its check character.
    pub fn complete(body: &str) -> Result<Self, ParseError> {
        let sum: u32 = body
            .chars()
            .zip(CODE_WEIGHTS)
            .map(|(c, w)| CODE_CHARS.find(c).map_or(0, |v| v as u32) * w)
            .sum();
        let check = CODE_CHARS
            .chars()
            .nth(((31 - sum % 31) % 31) as usize)
            .unwrap_or('0');
        Self::parse(&format!("{body}{check}"))
    }
}

/// A bank the company works with, and its share of the company's wallet (percent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MainBank {
    pub name: String,
    pub share_percent: u8,
}

/// The archive of one corporate customer. Every field may be unknown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CorporateProfile {
    pub legal_representative: Option<String>,
    pub registered_capital: Option<Money>,
    pub established_on: Option<NaiveDate>,
    pub business_scope: Option<String>,
    pub credit_code: Option<CreditCode>,
    pub listing: Option<Listing>,
    pub employees: Option<i64>,
    pub revenue_band: Option<RevenueBand>,
    /// Our share of the company's banking (percent).
    pub our_share_percent: Option<u8>,
    /// The other banks it works with, main first.
    pub main_banks: Vec<MainBank>,
}

/// Longest free text kept in a field.
pub const TEXT_LIMIT: usize = 500;

impl MainBank {
    /// The banks of an extract cell, `name:share` pairs separated by `;` (full-width `；` and
    /// `：` too, as Chinese spreadsheets type them): `工商银行:35;招商银行:25`. The whole cell
    /// is read or it is refused, naming the pair that could not be read.
    pub fn parse_list(text: &str) -> Result<Vec<MainBank>, ParseError> {
        text.split([';', '；'])
            .map(str::trim)
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let bad = || {
                    ParseError::new(
                        "main_banks",
                        pair,
                        "each bank is written name:share, e.g. 工商银行:35",
                        "每家银行写作“名称:占比”，如 工商银行:35",
                    )
                };
                let (name, share) = pair.rsplit_once([':', '：']).ok_or_else(bad)?;
                let share = share.trim().trim_end_matches('%');
                if share.is_empty() || !share.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(bad());
                }
                Ok(MainBank {
                    name: name.trim().to_owned(),
                    share_percent: share.parse().map_err(|_| bad())?,
                })
            })
            .collect()
    }
}

impl CorporateProfile {
    /// This archive with what an extract carries laid over it: a field the extract gives
    /// replaces the stored one, a field it leaves empty keeps what the RM entered (a core
    /// system knows the credit code and capital; rarely the other banks or our share).
    pub fn overlaid(&self, extract: &CorporateProfile) -> CorporateProfile {
        fn pick<T: Clone>(extract: &Option<T>, stored: &Option<T>) -> Option<T> {
            extract.clone().or_else(|| stored.clone())
        }
        CorporateProfile {
            legal_representative: pick(&extract.legal_representative, &self.legal_representative),
            registered_capital: pick(&extract.registered_capital, &self.registered_capital),
            established_on: pick(&extract.established_on, &self.established_on),
            business_scope: pick(&extract.business_scope, &self.business_scope),
            credit_code: pick(&extract.credit_code, &self.credit_code),
            listing: pick(&extract.listing, &self.listing),
            employees: pick(&extract.employees, &self.employees),
            revenue_band: pick(&extract.revenue_band, &self.revenue_band),
            our_share_percent: pick(&extract.our_share_percent, &self.our_share_percent),
            main_banks: if extract.main_banks.is_empty() {
                self.main_banks.clone()
            } else {
                extract.main_banks.clone()
            },
        }
    }

    /// Checks what was entered as a whole: names and scope within bounds, a date not in the
    /// future of `today`, non-negative counts and capital, and shares that add up to at most
    /// 100 % with ours. The first refusal names its field.
    pub fn check(&self, today: NaiveDate) -> Result<(), ParseError> {
        let text = |field: &'static str, value: &Option<String>| -> Result<(), ParseError> {
            match value {
                Some(v) if v.chars().count() > TEXT_LIMIT => Err(ParseError::new(
                    field,
                    v.chars().take(20).collect::<String>(),
                    format!("at most {TEXT_LIMIT} characters"),
                    format!("最多 {TEXT_LIMIT} 个字"),
                )),
                _ => Ok(()),
            }
        };
        text("legal_representative", &self.legal_representative)?;
        text("business_scope", &self.business_scope)?;
        if let Some(capital) = &self.registered_capital
            && capital.minor() < 0
        {
            return Err(ParseError::new(
                "registered_capital",
                capital.to_string(),
                "registered capital cannot be negative",
                "注册资本不能为负",
            ));
        }
        if let Some(day) = self.established_on
            && day > today
        {
            return Err(ParseError::new(
                "established_on",
                day.to_string(),
                "an established date cannot be in the future",
                "成立日期不能晚于今天",
            ));
        }
        if let Some(n) = self.employees
            && !(0..=10_000_000).contains(&n)
        {
            return Err(ParseError::new(
                "employees",
                n.to_string(),
                "employees are 0 to 10,000,000",
                "员工人数应在 0 至 10,000,000 之间",
            ));
        }
        let mut total = u32::from(self.our_share_percent.unwrap_or(0));
        for bank in &self.main_banks {
            if bank.name.trim().is_empty() || bank.name.chars().count() > 100 {
                return Err(ParseError::new(
                    "main_banks",
                    bank.name.clone(),
                    "a bank's name is 1 to 100 characters",
                    "银行名称应为 1 至 100 个字",
                ));
            }
            total += u32::from(bank.share_percent);
        }
        if total > 100 || self.our_share_percent.is_some_and(|s| s > 100) {
            return Err(ParseError::new(
                "main_banks",
                format!("{total}%"),
                "the shares, ours included, add up to more than 100 %",
                "各行占比（含本行）合计超过 100%",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credit_codes_are_checked_by_their_last_character() {
        // A code built with the standard's weights: its check character is the one computed.
        let body = "91110108MA01ABCDE";
        let sum: u32 = body
            .chars()
            .zip(CODE_WEIGHTS)
            .map(|(c, w)| CODE_CHARS.find(c).unwrap() as u32 * w)
            .sum();
        let check = CODE_CHARS
            .chars()
            .nth(((31 - sum % 31) % 31) as usize)
            .unwrap();
        let good = format!("{body}{check}");
        assert_eq!(CreditCode::parse(&good).unwrap().as_str(), good);
        assert_eq!(
            CreditCode::parse(&good.to_lowercase()).unwrap().as_str(),
            good
        );
        let other = CODE_CHARS.chars().find(|c| *c != check).unwrap();
        assert!(
            CreditCode::parse(&format!("{body}{other}")).is_err(),
            "wrong check"
        );
        assert!(CreditCode::parse(&good[..17]).is_err(), "too short");
        assert!(CreditCode::parse("91110108MA01ABCDI0").is_err(), "no I");
    }

    #[test]
    fn bank_lists_are_read_whole() {
        let banks = MainBank::parse_list("工商银行:35；招商银行：25%; ").unwrap();
        assert_eq!(
            banks,
            vec![
                MainBank {
                    name: "工商银行".into(),
                    share_percent: 35
                },
                MainBank {
                    name: "招商银行".into(),
                    share_percent: 25
                }
            ]
        );
        assert_eq!(MainBank::parse_list("").unwrap(), vec![]);
        for bad in [
            "工商银行",
            "工商银行:3x",
            "工商银行:",
            "工商银行:-5",
            "工商银行:999",
        ] {
            let error = MainBank::parse_list(bad).unwrap_err();
            assert_eq!(error.field, "main_banks", "{bad}");
        }
    }

    #[test]
    fn an_extract_replaces_only_the_fields_it_gives() {
        let stored = CorporateProfile {
            legal_representative: Some("王建国".into()),
            our_share_percent: Some(40),
            main_banks: vec![MainBank {
                name: "工商银行".into(),
                share_percent: 30,
            }],
            ..CorporateProfile::default()
        };
        let extract = CorporateProfile {
            legal_representative: Some("李明华".into()),
            employees: Some(300),
            ..CorporateProfile::default()
        };
        let merged = stored.overlaid(&extract);
        assert_eq!(merged.legal_representative.as_deref(), Some("李明华"));
        assert_eq!(merged.employees, Some(300));
        assert_eq!(merged.our_share_percent, Some(40));
        assert_eq!(merged.main_banks, stored.main_banks);
        assert_eq!(stored.overlaid(&CorporateProfile::default()), stored);
    }

    #[test]
    fn a_profile_is_checked_as_a_whole() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 6).unwrap();
        let mut profile = CorporateProfile {
            our_share_percent: Some(40),
            main_banks: vec![
                MainBank {
                    name: "工商银行".into(),
                    share_percent: 35,
                },
                MainBank {
                    name: "招商银行".into(),
                    share_percent: 25,
                },
            ],
            employees: Some(1200),
            ..CorporateProfile::default()
        };
        assert_eq!(profile.check(today), Ok(()));
        profile.main_banks[1].share_percent = 26;
        assert_eq!(profile.check(today).unwrap_err().field, "main_banks");
        profile.main_banks[1].share_percent = 25;
        profile.established_on = today.succ_opt();
        assert_eq!(profile.check(today).unwrap_err().field, "established_on");
        profile.established_on = None;
        profile.employees = Some(-1);
        assert_eq!(profile.check(today).unwrap_err().field, "employees");
    }
}

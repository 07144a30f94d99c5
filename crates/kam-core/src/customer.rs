//! Customers (corporate and individual), their identifiers, and the masking of personal data.

use chrono::NaiveDate;

use crate::{
    ParseError, code_enum,
    id::{CustomerId, OrgUnitId},
    org::Line,
};

/// A customer number (客户号 / CIF), kept exactly as the bank gives it, as text.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CifNo(String);

impl CifNo {
    pub fn parse(value: &str) -> Result<Self, ParseError> {
        crate::org::parse_code("cif_no", value).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for CifNo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

code_enum! {
    pub enum CustomerKind as "customer_kind" {
        Corporate = "corporate",
        Individual = "individual",
    }
}

code_enum! {
    /// 经济大客户 / 重要客户 / 集团客户 / 战略客户; `Ordinary` for everyone not (yet) a key account.
    pub enum AccountType as "account_type" {
        Ordinary = "ordinary",
        Economic = "economic",
        Important = "important",
        Group = "group",
        Strategic = "strategic",
    }
}

impl AccountType {
    pub fn label_zh(self) -> &'static str {
        match self {
            AccountType::Ordinary => "普通客户",
            AccountType::Economic => "经济大客户",
            AccountType::Important => "重要客户",
            AccountType::Group => "集团客户",
            AccountType::Strategic => "战略客户",
        }
    }

    pub fn is_key_account(self) -> bool {
        self != AccountType::Ordinary
    }
}

code_enum! {
    /// An individual's sex as the bank's records hold it (for the retail segments and the 360).
    pub enum Sex as "sex" {
        Female = "female",
        Male = "male",
    }
}

code_enum! {
    /// Suitability level of an individual (风险承受能力), matched against product risk R1–R5.
    pub enum RiskTolerance as "risk_tolerance" {
        C1 = "C1", C2 = "C2", C3 = "C3", C4 = "C4", C5 = "C5",
    }
}

code_enum! {
    /// Industry by GB/T 4754-2017 section (门类), A–T.
    pub enum Industry as "industry" {
        A = "A", B = "B", C = "C", D = "D", E = "E", F = "F", G = "G", H = "H", I = "I", J = "J",
        K = "K", L = "L", M = "M", N = "N", O = "O", P = "P", Q = "Q", R = "R", S = "S", T = "T",
    }
}

impl Industry {
    pub fn label_zh(self) -> &'static str {
        use Industry::*;
        match self {
            A => "农、林、牧、渔业",
            B => "采矿业",
            C => "制造业",
            D => "电力、热力、燃气及水生产和供应业",
            E => "建筑业",
            F => "批发和零售业",
            G => "交通运输、仓储和邮政业",
            H => "住宿和餐饮业",
            I => "信息传输、软件和信息技术服务业",
            J => "金融业",
            K => "房地产业",
            L => "租赁和商务服务业",
            M => "科学研究和技术服务业",
            N => "水利、环境和公共设施管理业",
            O => "居民服务、修理和其他服务业",
            P => "教育",
            Q => "卫生和社会工作",
            R => "文化、体育和娱乐业",
            S => "公共管理、社会保障和社会组织",
            T => "国际组织",
        }
    }

    /// The section's English name as the standard's English edition gives it.
    pub fn label_en(self) -> &'static str {
        use Industry::*;
        match self {
            A => "Agriculture, forestry, animal husbandry and fishery",
            B => "Mining",
            C => "Manufacturing",
            D => "Electricity, heat, gas and water production and supply",
            E => "Construction",
            F => "Wholesale and retail trade",
            G => "Transport, storage and postal services",
            H => "Accommodation and catering",
            I => "Information transmission, software and IT services",
            J => "Finance",
            K => "Real estate",
            L => "Leasing and business services",
            M => "Scientific research and technical services",
            N => "Water conservancy, environment and public facilities management",
            O => "Resident, repair and other services",
            P => "Education",
            Q => "Health and social work",
            R => "Culture, sports and entertainment",
            S => "Public administration, social security and social organisations",
            T => "International organisations",
        }
    }
}

/// A resident ID number (居民身份证号码) with a valid GB 11643-1999 check digit.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdNumber(String);

impl std::fmt::Debug for IdNumber {
    /// Masked even in debug output, so a personal identifier never lands whole in a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "IdNumber({})", self.masked())
    }
}

impl IdNumber {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &'static [u8; 11] = b"10X98765432";

    /// The check character for the first 17 digits (which must be ASCII digits).
    pub fn check_char(first17: &[u8]) -> char {
        let sum: u32 = first17
            .iter()
            .zip(Self::WEIGHTS)
            .map(|(digit, weight)| u32::from(digit - b'0') * weight)
            .sum();
        Self::CHECK[(sum % 11) as usize] as char
    }

    pub fn parse(value: &str) -> Result<Self, ParseError> {
        let value = value.trim().to_ascii_uppercase();
        let bytes = value.as_bytes();
        let shape = bytes.len() == 18
            && bytes[..17].iter().all(u8::is_ascii_digit)
            && (bytes[17].is_ascii_digit() || bytes[17] == b'X');
        if !shape {
            return Err(ParseError::new(
                "id_number",
                mask_middle(&value, 3, 4),
                "an ID number is 17 digits and a check digit or X",
                "身份证号码应为 17 位数字加一位校验码（数字或 X）",
            ));
        }
        if Self::check_char(&bytes[..17]) != bytes[17] as char {
            return Err(ParseError::new(
                "id_number",
                mask_middle(&value, 3, 4),
                "the check digit is wrong (GB 11643)",
                "校验码错误（GB 11643）",
            ));
        }
        Ok(Self(value))
    }

    /// The whole number — only for the reveal path, which is audited by the caller.
    pub fn reveal(&self) -> &str {
        &self.0
    }

    /// `110***********1234`: the first three and the last four.
    pub fn masked(&self) -> String {
        mask_middle(&self.0, 3, 4)
    }

    /// The birth date the number carries (digits 7–14), when it is a calendar date.
    pub fn birth_date(&self) -> Option<NaiveDate> {
        NaiveDate::parse_from_str(&self.0[6..14], "%Y%m%d").ok()
    }

    /// The sex the number carries: the 17th digit is odd for a man, even for a woman.
    pub fn sex(&self) -> Sex {
        if (self.0.as_bytes()[16] - b'0') % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        }
    }
}

/// A mainland mobile number: 11 digits starting with 1.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

impl std::fmt::Debug for Phone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Phone({})", self.masked())
    }
}

impl Phone {
    pub fn parse(value: &str) -> Result<Self, ParseError> {
        let digits: String = value.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        if digits.len() == 11
            && digits.starts_with('1')
            && digits.bytes().all(|b| b.is_ascii_digit())
        {
            Ok(Self(digits))
        } else {
            Err(ParseError::new(
                "phone",
                mask_middle(&digits, 3, 4),
                "a mobile number is 11 digits starting with 1",
                "手机号码应为以 1 开头的 11 位数字",
            ))
        }
    }

    pub fn reveal(&self) -> &str {
        &self.0
    }

    /// A number as an edit form sends it back: empty is none; the masked form of `kept` (what
    /// the form showed, since a form is not a reveal) keeps it; anything else is read whole.
    pub fn parse_keeping(text: &str, kept: Option<&Phone>) -> Result<Option<Self>, ParseError> {
        match (text.trim(), kept) {
            ("", _) => Ok(None),
            (t, Some(kept)) if t == kept.masked() => Ok(Some(kept.clone())),
            (t, _) => Self::parse(t).map(Some),
        }
    }

    /// `138****1234`.
    pub fn masked(&self) -> String {
        mask_middle(&self.0, 3, 4)
    }
}

/// Keeps `head` characters and `tail` characters and stars the rest; short values are all stars.
pub fn mask_middle(value: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() <= head + tail {
        return "*".repeat(chars.len());
    }
    let mut out: String = chars[..head].iter().collect();
    out.extend(std::iter::repeat_n('*', chars.len() - head - tail));
    out.extend(&chars[chars.len() - tail..]);
    out
}

/// An account or card number masked as first 6 + last 4 (the card industry's rule).
pub fn mask_account_no(value: &str) -> String {
    mask_middle(value, 6, 4)
}

/// A customer as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    pub id: CustomerId,
    pub cif_no: CifNo,
    pub kind: CustomerKind,
    pub name: String,
    /// The business line the customer is booked in.
    pub line: Line,
    pub org_unit_id: OrgUnitId,
    pub industry: Option<Industry>,
    pub account_type: AccountType,
    pub risk_tolerance: Option<RiskTolerance>,
    pub id_number: Option<IdNumber>,
    pub phone: Option<Phone>,
    /// The relationship start date (开户日 / 建立关系日).
    pub since: NaiveDate,
    /// An individual's birth date and sex (from the extract, or the ID number's).
    pub birth_date: Option<NaiveDate>,
    pub sex: Option<Sex>,
}

/// A customer to be created; `parse` enforces the rules between the fields.
#[derive(Debug, Clone)]
pub struct NewCustomer {
    pub cif_no: CifNo,
    pub kind: CustomerKind,
    pub name: String,
    pub line: Line,
    pub org_unit_code: String,
    pub industry: Option<Industry>,
    pub account_type: AccountType,
    pub risk_tolerance: Option<RiskTolerance>,
    pub id_number: Option<IdNumber>,
    pub phone: Option<Phone>,
    pub since: NaiveDate,
    pub birth_date: Option<NaiveDate>,
    pub sex: Option<Sex>,
}

impl NewCustomer {
    /// Individuals are retail and have no industry; corporates are not retail and have no
    /// risk tolerance (suitability applies to individuals), no personal ID number, birth date or
    /// sex. An individual's birth date and sex come from the ID number when not given, and must
    /// agree with it when both are; a birth date is after 1900 and not after the relationship
    /// began.
    pub fn check(mut self) -> Result<Self, ParseError> {
        if let Some(id) = &self.id_number {
            if let (Some(given), Some(carried)) = (self.birth_date, id.birth_date())
                && given != carried
            {
                return Err(ParseError::new(
                    "birth_date",
                    given.to_string(),
                    "the birth date differs from the one the ID number carries",
                    "出生日期与身份证号码中的出生日期不一致",
                ));
            }
            if self.sex.is_some_and(|sex| sex != id.sex()) {
                return Err(ParseError::new(
                    "sex",
                    self.sex.map(Sex::as_str).unwrap_or_default(),
                    "the sex differs from the one the ID number carries",
                    "性别与身份证号码中的性别不一致",
                ));
            }
            self.birth_date = self.birth_date.or(id.birth_date());
            self.sex = self.sex.or(Some(id.sex()));
        }
        if let Some(born) = self.birth_date {
            let earliest = NaiveDate::from_ymd_opt(1900, 1, 1).expect("a date");
            if born < earliest || born > self.since {
                return Err(ParseError::new(
                    "birth_date",
                    born.to_string(),
                    "a birth date is after 1900 and not after the relationship began (since)",
                    "出生日期应晚于 1900 年且不晚于建立关系日（since）",
                ));
            }
        }
        match self.kind {
            CustomerKind::Individual => {
                if self.line != Line::Retail {
                    return Err(ParseError::new(
                        "line",
                        self.line.as_str(),
                        "an individual customer is booked in the retail line",
                        "对私客户应归属零售条线",
                    ));
                }
                if self.industry.is_some() {
                    return Err(ParseError::new(
                        "industry",
                        self.industry.map(Industry::as_str).unwrap_or_default(),
                        "an individual customer has no industry",
                        "对私客户没有行业分类",
                    ));
                }
            }
            CustomerKind::Corporate => {
                if self.line == Line::Retail {
                    return Err(ParseError::new(
                        "line",
                        "retail",
                        "a corporate customer is not booked in the retail line",
                        "对公客户不能归属零售条线",
                    ));
                }
                if self.risk_tolerance.is_some()
                    || self.id_number.is_some()
                    || self.birth_date.is_some()
                    || self.sex.is_some()
                {
                    return Err(ParseError::new(
                        "risk_tolerance",
                        "",
                        "risk tolerance, ID number, birth date and sex belong to individuals",
                        "风险承受能力、身份证号码、出生日期和性别仅适用于对私客户",
                    ));
                }
            }
        }
        if self.account_type == AccountType::Group && self.kind == CustomerKind::Individual {
            return Err(ParseError::new(
                "account_type",
                "group",
                "only a corporate customer is a group account",
                "只有对公客户可以是集团客户",
            ));
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_masked_number_sent_back_keeps_the_stored_one() {
        let kept = Phone::parse("13912345678").unwrap();
        assert_eq!(
            Phone::parse_keeping("139****5678", Some(&kept)),
            Ok(Some(kept.clone()))
        );
        assert_eq!(Phone::parse_keeping(" ", Some(&kept)), Ok(None));
        assert_eq!(
            Phone::parse_keeping("13800000000", Some(&kept))
                .unwrap()
                .unwrap()
                .reveal(),
            "13800000000"
        );
        assert!(Phone::parse_keeping("139****5678", None).is_err());
        assert!(Phone::parse_keeping("139****0000", Some(&kept)).is_err());
    }

    use super::*;

    #[test]
    fn an_individual_takes_birth_date_and_sex_from_the_id_number_and_must_agree_with_it() {
        let id = IdNumber::parse("11010519491231002X").unwrap();
        assert_eq!(id.birth_date(), NaiveDate::from_ymd_opt(1949, 12, 31));
        assert_eq!(id.sex(), Sex::Female);
        let person = NewCustomer {
            cif_no: CifNo::parse("C1").unwrap(),
            kind: CustomerKind::Individual,
            name: "王芳".into(),
            line: Line::Retail,
            org_unit_code: "110101".into(),
            industry: None,
            account_type: AccountType::Ordinary,
            risk_tolerance: None,
            id_number: Some(id),
            phone: None,
            since: NaiveDate::from_ymd_opt(2010, 1, 1).unwrap(),
            birth_date: None,
            sex: None,
        };
        let checked = person.clone().check().unwrap();
        assert_eq!(checked.birth_date, NaiveDate::from_ymd_opt(1949, 12, 31));
        assert_eq!(checked.sex, Some(Sex::Female));
        let male = NewCustomer {
            sex: Some(Sex::Male),
            ..person.clone()
        };
        assert_eq!(male.check().unwrap_err().field, "sex");
        let later = NewCustomer {
            id_number: None,
            birth_date: NaiveDate::from_ymd_opt(2011, 1, 1),
            ..person.clone()
        };
        assert_eq!(later.check().unwrap_err().field, "birth_date");
        let company = NewCustomer {
            kind: CustomerKind::Corporate,
            line: Line::Corporate,
            id_number: None,
            sex: Some(Sex::Male),
            ..person
        };
        assert!(company.check().is_err());
    }

    #[test]
    fn the_standard_example_id_number_passes_its_check_digit() {
        // The worked example of GB 11643-1999.
        assert!(IdNumber::parse("11010519491231002X").is_ok());
        assert!(IdNumber::parse("110105194912310021").is_err());
    }

    #[test]
    fn a_lower_case_x_is_accepted_as_the_check_character() {
        assert_eq!(
            IdNumber::parse("11010519491231002x").unwrap().reveal(),
            "11010519491231002X"
        );
    }

    #[test]
    fn identifiers_are_masked_as_banks_show_them() {
        let id = IdNumber::parse("11010519491231002X").unwrap();
        assert_eq!(id.masked(), "110***********002X");
        assert_eq!(format!("{id:?}"), "IdNumber(110***********002X)");
        assert_eq!(
            Phone::parse("138 0013 1234").unwrap().masked(),
            "138****1234"
        );
        assert_eq!(
            mask_account_no("6222021234567890123"),
            "622202*********0123"
        );
        assert_eq!(mask_middle("12", 3, 4), "**");
    }

    #[test]
    fn a_bad_id_number_error_does_not_repeat_the_number() {
        let error = IdNumber::parse("110105194912310021").unwrap_err();
        assert!(!error.value.contains("194912"), "{}", error.value);
    }
}

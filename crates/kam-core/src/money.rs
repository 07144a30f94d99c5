//! Money as integer minor units (分) with a currency code — never a float.

use std::fmt;

use crate::ParseError;

/// An ISO 4217 currency code: three upper-case ASCII letters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

impl Currency {
    pub const CNY: Currency = Currency(*b"CNY");
    pub const USD: Currency = Currency(*b"USD");

    pub fn parse(value: &str) -> Result<Self, ParseError> {
        let bytes = value.trim().as_bytes();
        match bytes {
            [a, b, c] if bytes.iter().all(u8::is_ascii_uppercase) => Ok(Currency([*a, *b, *c])),
            _ => Err(ParseError::new(
                "currency",
                value,
                "a currency is three upper-case letters (ISO 4217), e.g. CNY",
                "币种应为三个大写字母（ISO 4217），例如 CNY",
            )),
        }
    }

    pub fn as_str(&self) -> &str {
        // Constructed only from ASCII upper-case letters.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An amount in minor units (fen for CNY) of one currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    minor: i64,
    currency: Currency,
}

impl Money {
    pub fn from_minor(minor: i64, currency: Currency) -> Self {
        Self { minor, currency }
    }

    pub fn cny(minor: i64) -> Self {
        Self::from_minor(minor, Currency::CNY)
    }

    pub fn minor(&self) -> i64 {
        self.minor
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// Parses a decimal yuan amount exactly ("1234.5", "-0.01", ".5"): digits with an optional
    /// sign and decimal point, at most two decimals, no separators, no exponent, never through a
    /// float. The whole text must be the amount: nothing is skipped or ignored.
    pub fn parse_yuan(value: &str, currency: Currency) -> Result<Self, ParseError> {
        Self::parse_yuan_with(value, currency, None)
    }

    /// `parse_yuan`, where the whole part may also be written in groups of three digits divided by
    /// `thousands` ("1,234,567.89"). Only valid groups are accepted: "12,34", "1,2,3" and "1,,000"
    /// are refused, never read as another number.
    pub fn parse_yuan_with(
        value: &str,
        currency: Currency,
        thousands: Option<char>,
    ) -> Result<Self, ParseError> {
        let bad = |en: &str, zh: &str| ParseError::new("amount", value, en, zh);
        let text = value.trim();
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text.strip_prefix('+').unwrap_or(text)),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        if whole.is_empty() && fraction.is_empty() {
            return Err(bad("an amount needs digits", "金额缺少数字"));
        }
        let whole = match thousands {
            Some(separator) if whole.contains(separator) => {
                ungroup(whole, separator).ok_or_else(|| {
                    bad(
                        &format!(
                            "a thousands separator \"{separator}\" must divide the whole part into groups of three digits"
                        ),
                        &format!("千分位分隔符“{separator}”须将整数部分分为每组三位数字"),
                    )
                })?
            }
            _ => whole.to_owned(),
        };
        if !whole.bytes().all(|b| b.is_ascii_digit())
            || !fraction.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(bad(
                "an amount is digits with an optional sign and decimal point",
                "金额只能包含数字、正负号和小数点",
            ));
        }
        if fraction.len() > 2 {
            return Err(bad(
                "an amount in yuan has at most two decimals (fen)",
                "以元为单位的金额最多两位小数（分）",
            ));
        }
        let overflow = || bad("the amount is too large", "金额超出范围");
        let whole: i64 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| overflow())?
        };
        let fen: i64 = match fraction.len() {
            0 => 0,
            1 => fraction.parse::<i64>().map_err(|_| overflow())? * 10,
            _ => fraction.parse().map_err(|_| overflow())?,
        };
        let minor = whole
            .checked_mul(100)
            .and_then(|m| m.checked_add(fen))
            .ok_or_else(overflow)?;
        Ok(Self::from_minor(
            if negative { -minor } else { minor },
            currency,
        ))
    }

    pub fn checked_add(self, other: Money) -> Option<Money> {
        if self.currency != other.currency {
            return None;
        }
        Some(Self::from_minor(
            self.minor.checked_add(other.minor)?,
            self.currency,
        ))
    }
}

/// The digits of a whole number written in thousands groups ("1,234,567" → "1234567"), or `None`
/// unless the first group has one to three digits and every later group exactly three.
pub fn ungroup(whole: &str, separator: char) -> Option<String> {
    let mut groups = whole.split(separator);
    let first = groups.next()?;
    let digits = |g: &str| g.bytes().all(|b| b.is_ascii_digit());
    if first.is_empty() || first.len() > 3 || !digits(first) {
        return None;
    }
    let mut out = first.to_owned();
    for group in groups {
        if group.len() != 3 || !digits(group) {
            return None;
        }
        out.push_str(group);
    }
    Some(out)
}

/// Minor units as an exact decimal in major units: `-123456` → `"-1234.56"`. Takes `i128` so sums
/// of many `i64` amounts print without overflow.
pub fn decimal_text(minor: i128) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

impl fmt::Display for Money {
    /// `1234567.89 CNY` — exact, with the sign in front.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}",
            decimal_text(i128::from(self.minor)),
            self.currency
        )
    }
}

crate::code_enum! {
    /// The unit a page writes amounts in, one per column, named in the column's header (a bank
    /// setting; 万元 by default, as Chinese bank reports read).
    #[derive(Default)]
    pub enum AmountUnit as "amount_unit" {
        Yuan = "yuan",
        #[default]
        Wan = "wan",
        Yi = "yi",
    }
}

impl AmountUnit {
    /// Fen in one unit.
    pub fn fen(self) -> i64 {
        match self {
            AmountUnit::Yuan => 100,
            AmountUnit::Wan => 1_000_000,
            AmountUnit::Yi => 10_000_000_000,
        }
    }

    /// The unit's Chinese name: 元, 万元, 亿元.
    pub fn zh(self) -> &'static str {
        match self {
            AmountUnit::Yuan => "元",
            AmountUnit::Wan => "万元",
            AmountUnit::Yi => "亿元",
        }
    }

    /// The unit in English: CNY, CNY 10k, CNY 100m.
    pub fn en(self) -> &'static str {
        match self {
            AmountUnit::Yuan => "CNY",
            AmountUnit::Wan => "CNY 10k",
            AmountUnit::Yi => "CNY 100m",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn yuan_with_decimals_parses_to_exact_fen() {
        let cases = [
            ("0.01", 1),
            ("1", 100),
            ("1.5", 150),
            ("-12345.67", -1_234_567),
            (".5", 50),
        ];
        for (text, fen) in cases {
            assert_eq!(
                Money::parse_yuan(text, Currency::CNY).unwrap().minor(),
                fen,
                "{text}"
            );
        }
    }

    #[test]
    fn thousands_separators_only_where_allowed_and_only_in_groups_of_three() {
        let grouped = |text| Money::parse_yuan_with(text, Currency::CNY, Some(','));
        assert_eq!(grouped("-12,345.67").unwrap().minor(), -1_234_567);
        assert_eq!(grouped("1,234,567").unwrap().minor(), 123_456_700);
        assert_eq!(grouped("999").unwrap().minor(), 99_900);
        for text in [
            "12,34",
            "12,345,67",
            "1,2,3",
            "1,,000",
            ",123",
            "1234,567",
            "1,234,",
        ] {
            assert!(grouped(text).is_err(), "{text}");
        }
        // Without the setting a comma is never part of an amount.
        for text in ["12,34", "1,234.56", "1,,000"] {
            assert!(Money::parse_yuan(text, Currency::CNY).is_err(), "{text}");
        }
    }

    #[test]
    fn an_amount_with_three_decimals_is_refused_with_a_reason() {
        let error = Money::parse_yuan("1.005", Currency::CNY).unwrap_err();
        assert_eq!(error.field, "amount");
        assert!(error.reason_en.contains("two decimals"));
    }

    #[test]
    fn garbage_and_overflow_are_refused() {
        for text in ["", "-", "1e5", "abc", "1.2.3", "99999999999999999999"] {
            assert!(Money::parse_yuan(text, Currency::CNY).is_err(), "{text}");
        }
    }

    #[test]
    fn currencies_are_three_upper_case_letters() {
        assert_eq!(Currency::parse("USD").unwrap(), Currency::USD);
        assert!(Currency::parse("usd").is_err());
        assert!(Currency::parse("RMB1").is_err());
    }

    #[test]
    fn different_currencies_do_not_add() {
        assert_eq!(
            Money::cny(1).checked_add(Money::from_minor(1, Currency::USD)),
            None
        );
    }

    proptest! {
        #[test]
        fn display_and_parse_round_trip(minor in -10_000_000_000_000i64..10_000_000_000_000) {
            let money = Money::cny(minor);
            let shown = money.to_string();
            let number = shown.trim_end_matches(" CNY");
            prop_assert_eq!(Money::parse_yuan(number, Currency::CNY).unwrap(), money);
        }
    }
}

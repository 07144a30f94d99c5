//! Parsing one field's text into a typed value — exactly, never through a float — or saying why not.

use chrono::{Datelike, NaiveDate};
use kam_core::{
    customer::{IdNumber, Phone},
    money::{Currency, Money},
};

use crate::{kind::FieldType, reject::RejectCode};

/// A parsed field.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Value {
    Null,
    Text(String),
    Date(NaiveDate),
    /// Minor units (fen).
    Amount(i64),
    Count(i64),
    Flag(bool),
}

impl Value {
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(text) => Some(text),
            _ => None,
        }
    }

    /// Moves the text out, leaving `Null`: a row is consumed field by field, without copies.
    pub fn take_text(&mut self) -> Option<String> {
        match std::mem::replace(self, Value::Null) {
            Value::Text(text) => Some(text),
            _ => None,
        }
    }

    /// `take_text`, with an absent value as empty text.
    pub fn take_string(&mut self) -> String {
        self.take_text().unwrap_or_default()
    }

    pub fn date(&self) -> Option<NaiveDate> {
        match self {
            Value::Date(date) => Some(*date),
            _ => None,
        }
    }

    /// Minor units (fen) of an amount.
    pub fn amount(&self) -> Option<i64> {
        match self {
            Value::Amount(minor) => Some(*minor),
            _ => None,
        }
    }

    pub fn count(&self) -> Option<i64> {
        match self {
            Value::Count(n) => Some(*n),
            _ => None,
        }
    }

    /// Appends an unambiguous byte form (a tag, the length, the content) for fingerprinting a
    /// business key: `("ab", "c")` and `("a", "bc")` differ.
    pub fn write_key(&self, out: &mut Vec<u8>) {
        let mut put = |tag: u8, bytes: &[u8]| {
            out.push(tag);
            out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
            out.extend_from_slice(bytes);
        };
        match self {
            Value::Null => put(0, &[]),
            Value::Text(text) => put(1, text.as_bytes()),
            Value::Date(date) => put(2, &date.num_days_from_ce().to_le_bytes()),
            Value::Amount(minor) => put(3, &minor.to_le_bytes()),
            Value::Count(n) => put(4, &n.to_le_bytes()),
            Value::Flag(flag) => put(5, &[u8::from(*flag)]),
        }
    }

    /// A stable text form, for business keys and output files.
    pub fn key_text(&self) -> String {
        match self {
            Value::Null => String::new(),
            Value::Text(text) => text.clone(),
            Value::Date(date) => date.to_string(),
            Value::Amount(minor) | Value::Count(minor) => minor.to_string(),
            Value::Flag(flag) => flag.to_string(),
        }
    }
}

/// How amounts are written in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AmountUnit {
    /// `1234.56` (at most two decimals; thousands separators allowed).
    Yuan,
    /// `123456` (integer minor units).
    Fen,
}

/// How dates are written in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateFormat {
    /// A chrono strftime pattern, e.g. `%Y-%m-%d`, `%Y%m%d`, `%d.%m.%y`.
    pub pattern: String,
    /// With a two-digit year (`%y`): years below the pivot are 20xx, the others 19xx.
    pub century_pivot: u32,
}

impl DateFormat {
    fn has_two_digit_year(&self) -> bool {
        self.pattern.contains("%y")
    }

    pub fn parse(&self, text: &str) -> Option<NaiveDate> {
        // The two formats nearly every extract uses are parsed by hand: chrono's general parser
        // re-reads the pattern for every value, a third of an import's date cost.
        match self.pattern.as_str() {
            "%Y-%m-%d"
                if text.len() == 10 && text.as_bytes()[4] == b'-' && text.as_bytes()[7] == b'-' =>
            {
                return ymd(&text[0..4], &text[5..7], &text[8..10]);
            }
            "%Y%m%d" if text.len() == 8 => return ymd(&text[0..4], &text[4..6], &text[6..8]),
            _ => {}
        }
        // Timestamps are accepted where a date is wanted: the time part is ignored when the
        // pattern itself has no time.
        let date = NaiveDate::parse_from_str(text, &self.pattern)
            .or_else(|_| NaiveDate::parse_and_remainder(text, &self.pattern).map(|(d, _)| d))
            .ok()?;
        if self.has_two_digit_year() {
            let two_digits = date.year().rem_euclid(100) as u32;
            let century = if two_digits < self.century_pivot {
                2000
            } else {
                1900
            };
            return date.with_year((century + two_digits) as i32);
        }
        Some(date)
    }
}

fn ymd(year: &str, month: &str, day: &str) -> Option<NaiveDate> {
    let digits = |part: &str| {
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse::<u32>().ok())
            .flatten()
    };
    NaiveDate::from_ymd_opt(
        i32::try_from(digits(year)?).ok()?,
        digits(month)?,
        digits(day)?,
    )
}

/// Why a field did not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub code: RejectCode,
    pub en: String,
    pub zh: String,
}

impl FieldError {
    fn new(code: RejectCode, en: impl Into<String>, zh: impl Into<String>) -> Self {
        Self {
            code,
            en: en.into(),
            zh: zh.into(),
        }
    }
}

/// Parses `raw` (already mapped through the code list) as `ty`. Empty text is `Null`; whether
/// that is allowed is the caller's (required-field) check.
pub fn parse_value(
    ty: FieldType,
    raw: &str,
    dates: &DateFormat,
    unit: AmountUnit,
) -> Result<Value, FieldError> {
    let text = raw.trim();
    // The replacement character can only be in non-ASCII text; most fields are ASCII, and the
    // search for a three-byte pattern cost a tenth of an import.
    if !text.is_ascii() && text.contains('\u{FFFD}') {
        return Err(FieldError::new(
            RejectCode::Encoding,
            "the text is not valid in the file's declared encoding",
            "文本与文件声明的编码不符",
        ));
    }
    if text.is_empty() {
        return Ok(Value::Null);
    }
    match ty {
        FieldType::Text => Ok(Value::Text(text.to_owned())),
        FieldType::Code => {
            if text.chars().any(char::is_control) {
                Err(FieldError::new(
                    RejectCode::BadCode,
                    "a code may not contain control characters",
                    "编号不能包含控制字符",
                ))
            } else {
                Ok(Value::Text(text.to_owned()))
            }
        }
        FieldType::Date => dates.parse(text).map(Value::Date).ok_or_else(|| {
            FieldError::new(
                RejectCode::BadDate,
                format!("not a date in the format {}", dates.pattern),
                format!("不是格式为 {} 的日期", dates.pattern),
            )
        }),
        FieldType::Amount => match unit {
            AmountUnit::Yuan => Money::parse_yuan(text, Currency::CNY)
                .map(|m| Value::Amount(m.minor()))
                .map_err(|e| {
                    let code = if e.reason_en.contains("two decimals") {
                        RejectCode::AmountPrecision
                    } else {
                        RejectCode::BadAmount
                    };
                    FieldError::new(code, e.reason_en, e.reason_zh)
                }),
            AmountUnit::Fen => text.parse::<i64>().map(Value::Amount).map_err(|_| {
                FieldError::new(
                    RejectCode::BadAmount,
                    "an amount in fen is a whole number",
                    "以分为单位的金额应为整数",
                )
            }),
        },
        FieldType::Count => text
            .parse::<i64>()
            .map(Value::Count)
            .map_err(|_| FieldError::new(RejectCode::BadNumber, "not a whole number", "不是整数")),
        FieldType::Flag => match text.to_ascii_lowercase().as_str() {
            "y" | "yes" | "1" | "true" | "t" | "是" => Ok(Value::Flag(true)),
            "n" | "no" | "0" | "false" | "f" | "否" => Ok(Value::Flag(false)),
            _ => Err(FieldError::new(
                RejectCode::UnknownCode,
                "not a yes/no value (Y/N, 1/0, true/false)",
                "不是是/否取值（Y/N、1/0、true/false）",
            )),
        },
        FieldType::Currency => Currency::parse(text)
            .map(|c| Value::Text(c.to_string()))
            .map_err(|e| FieldError::new(RejectCode::UnknownCode, e.reason_en, e.reason_zh)),
        FieldType::Choice(codes) => {
            if codes.contains(&text) {
                Ok(Value::Text(text.to_owned()))
            } else {
                Err(FieldError::new(
                    RejectCode::UnknownCode,
                    format!("unknown code; accepted: {}", codes.join(", ")),
                    format!("未知代码；可接受：{}", codes.join(", ")),
                ))
            }
        }
        FieldType::IdNumber => IdNumber::parse(text)
            .map(|id| Value::Text(id.reveal().to_owned()))
            .map_err(|e| FieldError::new(RejectCode::BadIdNumber, e.reason_en, e.reason_zh)),
        FieldType::Phone => Phone::parse(text)
            .map(|p| Value::Text(p.reveal().to_owned()))
            .map_err(|e| FieldError::new(RejectCode::BadPhone, e.reason_en, e.reason_zh)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iso() -> DateFormat {
        DateFormat {
            pattern: "%Y-%m-%d".into(),
            century_pivot: 50,
        }
    }

    #[test]
    fn two_digit_years_follow_the_stated_pivot() {
        let berka = DateFormat {
            pattern: "%y%m%d".into(),
            century_pivot: 30,
        };
        assert_eq!(berka.parse("930101"), NaiveDate::from_ymd_opt(1993, 1, 1));
        assert_eq!(berka.parse("250101"), NaiveDate::from_ymd_opt(2025, 1, 1));
    }

    #[test]
    fn yyyymmdd_integers_and_timestamps_parse_as_dates() {
        let compact = DateFormat {
            pattern: "%Y%m%d".into(),
            century_pivot: 50,
        };
        assert_eq!(
            compact.parse("20261127"),
            NaiveDate::from_ymd_opt(2026, 11, 27)
        );
        assert_eq!(
            iso().parse("2026-11-27 23:59:59"),
            NaiveDate::from_ymd_opt(2026, 11, 27)
        );
        assert_eq!(iso().parse("2026-02-30"), None);
    }

    #[test]
    fn amounts_parse_exactly_in_yuan_or_fen() {
        assert_eq!(
            parse_value(FieldType::Amount, "1,234.5", &iso(), AmountUnit::Yuan),
            Ok(Value::Amount(123_450))
        );
        assert_eq!(
            parse_value(FieldType::Amount, "-7", &iso(), AmountUnit::Fen),
            Ok(Value::Amount(-7))
        );
        let three = parse_value(FieldType::Amount, "1.005", &iso(), AmountUnit::Yuan).unwrap_err();
        assert_eq!(three.code, RejectCode::AmountPrecision);
        let fen = parse_value(FieldType::Amount, "1.5", &iso(), AmountUnit::Fen).unwrap_err();
        assert_eq!(fen.code, RejectCode::BadAmount);
    }

    #[test]
    fn replacement_characters_mean_the_wrong_encoding() {
        let error =
            parse_value(FieldType::Text, "招\u{FFFD}银行", &iso(), AmountUnit::Yuan).unwrap_err();
        assert_eq!(error.code, RejectCode::Encoding);
    }

    #[test]
    fn unknown_codes_list_the_accepted_ones() {
        let error = parse_value(
            FieldType::Choice(&["credit", "debit"]),
            "PRIJEM",
            &iso(),
            AmountUnit::Yuan,
        )
        .unwrap_err();
        assert_eq!(error.code, RejectCode::UnknownCode);
        assert!(error.en.contains("credit, debit"));
    }
}

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

/// The unit amounts are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AmountUnit {
    /// `1234.56` (at most two decimals).
    Yuan,
    /// `123456` (integer minor units).
    Fen,
}

/// How amounts are written in a file: the unit, and the thousands separator if the mapping
/// declares one (`thousands = ","`). Without it a separator is never part of an amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AmountFormat {
    pub unit: AmountUnit,
    pub thousands: Option<char>,
}

impl AmountFormat {
    pub const YUAN: AmountFormat = AmountFormat {
        unit: AmountUnit::Yuan,
        thousands: None,
    };
    pub const FEN: AmountFormat = AmountFormat {
        unit: AmountUnit::Fen,
        thousands: None,
    };

    /// Parses an amount in this format to minor units; the whole text must be the amount.
    pub fn parse(&self, text: &str) -> Result<i64, FieldError> {
        match self.unit {
            AmountUnit::Yuan => Money::parse_yuan_with(text, Currency::CNY, self.thousands)
                .map(|m| m.minor())
                .map_err(|e| {
                    let code = if e.reason_en.contains("two decimals") {
                        RejectCode::AmountPrecision
                    } else {
                        RejectCode::BadAmount
                    };
                    FieldError::new(code, e.reason_en, e.reason_zh)
                }),
            AmountUnit::Fen => {
                let bad = || {
                    FieldError::new(
                        RejectCode::BadAmount,
                        "an amount in fen is a whole number",
                        "以分为单位的金额应为整数",
                    )
                };
                let (sign, digits) = match text.strip_prefix('-') {
                    Some(rest) => ("-", rest),
                    None => ("", text.strip_prefix('+').unwrap_or(text)),
                };
                let digits = match self.thousands {
                    Some(separator) if digits.contains(separator) => {
                        kam_core::money::ungroup(digits, separator).ok_or_else(bad)?
                    }
                    _ => digits.to_owned(),
                };
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(bad());
                }
                format!("{sign}{digits}").parse::<i64>().map_err(|_| {
                    FieldError::new(
                        RejectCode::BadAmount,
                        "the amount is too large",
                        "金额超出范围",
                    )
                })
            }
        }
    }

    /// The canonical text of an amount in this format (no separators): what `parse` reads back.
    pub fn format(&self, minor: i64) -> String {
        match self.unit {
            AmountUnit::Yuan => kam_core::money::decimal_text(i128::from(minor)),
            AmountUnit::Fen => minor.to_string(),
        }
    }
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

    /// Parses a date written in this format. The whole text must be the date — optionally
    /// followed by a time of day (`2026-11-27 23:59:59`, `…T23:59`), which is ignored where a date
    /// is wanted — and it must read back the same: `2011-12-091` or `931107xyz` is not a date.
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
        let (date, rest) = NaiveDate::parse_and_remainder(text, &self.pattern).ok()?;
        if !rest.is_empty() && !is_time_of_day(rest) {
            return None;
        }
        // chrono reads some fields leniently (a year of five digits, a day without its zero);
        // the date must be written exactly as the pattern writes it.
        if date.format(&self.pattern).to_string() != text[..text.len() - rest.len()] {
            return None;
        }
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

    /// The text of a date in this format: what `parse` reads back.
    pub fn format(&self, date: NaiveDate) -> String {
        date.format(&self.pattern).to_string()
    }
}

/// ` 23:59:59`, `T23:59`, ` 23:59:59.123`: a time of day after a date.
fn is_time_of_day(rest: &str) -> bool {
    let Some(time) = rest.strip_prefix(' ').or_else(|| rest.strip_prefix('T')) else {
        return false;
    };
    ["%H:%M:%S%.f", "%H:%M"]
        .iter()
        .any(|pattern| chrono::NaiveTime::parse_from_str(time, pattern).is_ok())
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

/// The longest code (customer, account, loan, org and product numbers): a core system's keys are
/// far shorter; a longer one is a broken file, not a key.
pub const CODE_MAX_CHARS: usize = 64;
/// The longest free text (names, titles, notes) an extract may carry in one field.
pub const TEXT_MAX_CHARS: usize = 2_000;

/// `text` without the white space around it, as `str::trim` — the usual field, which starts and
/// ends with a visible ASCII character, returned as it is without a Unicode scan.
pub(crate) fn trim(text: &str) -> &str {
    match (text.as_bytes().first(), text.as_bytes().last()) {
        (Some(first), Some(last)) if first.is_ascii_graphic() && last.is_ascii_graphic() => text,
        _ => text.trim(),
    }
}

/// Whether `text` has more than `max` characters; counting stops at the limit (a 10 MB field
/// costs no more than a long one), and a text of at most `max` bytes is not counted at all.
fn longer_than(text: &str, max: usize) -> bool {
    text.len() > max && text.chars().nth(max).is_some()
}

/// Whether `text` holds a control character (NUL, line breaks, C1 controls); ASCII text is
/// looked at byte by byte.
fn has_control(text: &str, ascii: bool) -> bool {
    if ascii {
        text.bytes().any(|b| b < 0x20 || b == 0x7f)
    } else {
        text.chars().any(char::is_control)
    }
}

/// Parses `raw` (already mapped through the code list) as `ty`. Empty text is `Null`; whether
/// that is allowed is the caller's (required-field) check.
pub fn parse_value(
    ty: FieldType,
    raw: &str,
    dates: &DateFormat,
    amounts: &AmountFormat,
) -> Result<Value, FieldError> {
    let text = trim(raw);
    let ascii = text.is_ascii();
    // The replacement character can only be in non-ASCII text; most fields are ASCII, and the
    // search for a three-byte pattern cost a tenth of an import.
    if !ascii && text.contains('\u{FFFD}') {
        return Err(FieldError::new(
            RejectCode::Encoding,
            "the text is not valid in the file's declared encoding",
            "文本与文件声明的编码不符",
        ));
    }
    if text.is_empty() {
        return Ok(Value::Null);
    }
    let too_long = |max: usize| {
        FieldError::new(
            RejectCode::TooLong,
            format!("longer than the {max} characters this field allows"),
            format!("超过此字段允许的 {max} 个字符"),
        )
    };
    match ty {
        FieldType::Text => {
            if longer_than(text, TEXT_MAX_CHARS) {
                Err(too_long(TEXT_MAX_CHARS))
            } else if has_control(text, ascii) {
                Err(FieldError::new(
                    RejectCode::Malformed,
                    "text may not contain control characters (NUL, line breaks, …)",
                    "文本不能包含控制字符（NUL、换行等）",
                ))
            } else {
                Ok(Value::Text(text.to_owned()))
            }
        }
        FieldType::Code => {
            if longer_than(text, CODE_MAX_CHARS) {
                Err(too_long(CODE_MAX_CHARS))
            } else if has_control(text, ascii) {
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
        FieldType::Amount => amounts.parse(text).map(Value::Amount),
        // Every count in the catalogue (days overdue, ratings) is zero or more.
        FieldType::Count => match text.parse::<i64>() {
            Ok(n) if n >= 0 => Ok(Value::Count(n)),
            Ok(_) => Err(FieldError::new(
                RejectCode::BadNumber,
                "a count cannot be negative",
                "计数不能为负数",
            )),
            Err(_) => Err(FieldError::new(
                RejectCode::BadNumber,
                "not a whole number",
                "不是整数",
            )),
        },
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
        assert_eq!(
            iso().parse("2026-11-27T08:30"),
            NaiveDate::from_ymd_opt(2026, 11, 27)
        );
        assert_eq!(iso().parse("2026-02-30"), None);
    }

    #[test]
    fn amounts_parse_exactly_in_yuan_or_fen() {
        let grouped = AmountFormat {
            unit: AmountUnit::Yuan,
            thousands: Some(','),
        };
        assert_eq!(
            parse_value(FieldType::Amount, "1,234.5", &iso(), &grouped),
            Ok(Value::Amount(123_450))
        );
        // Without `thousands` in the mapping a comma is refused, never dropped.
        for text in ["12,34", "12,345,67", "1,2,3", "1,,000", "1,234.5"] {
            let error = parse_value(FieldType::Amount, text, &iso(), &AmountFormat::YUAN);
            assert_eq!(
                error.map_err(|e| e.code),
                Err(RejectCode::BadAmount),
                "{text}"
            );
        }
        // With it, only valid groups of three.
        for text in ["12,34", "12,345,67", "1,2,3", "1,,000"] {
            let error = parse_value(FieldType::Amount, text, &iso(), &grouped);
            assert_eq!(
                error.map_err(|e| e.code),
                Err(RejectCode::BadAmount),
                "{text}"
            );
        }
        assert_eq!(
            parse_value(FieldType::Amount, "-7", &iso(), &AmountFormat::FEN),
            Ok(Value::Amount(-7))
        );
        let three =
            parse_value(FieldType::Amount, "1.005", &iso(), &AmountFormat::YUAN).unwrap_err();
        assert_eq!(three.code, RejectCode::AmountPrecision);
        let fen = parse_value(FieldType::Amount, "1.5", &iso(), &AmountFormat::FEN).unwrap_err();
        assert_eq!(fen.code, RejectCode::BadAmount);
    }

    #[test]
    fn a_date_is_the_whole_field() {
        for text in [
            "2011-12-091",
            "2011-12-09x",
            "2011-12-09 ",
            "2011-12-09 25:00",
            "2011-12-9",
        ] {
            assert_eq!(iso().parse(text), None, "{text}");
        }
        let berka = DateFormat {
            pattern: "%y%m%d".into(),
            century_pivot: 30,
        };
        for text in ["931107xyz", "9311071", "93117"] {
            assert_eq!(berka.parse(text), None, "{text}");
        }
        let dotted = DateFormat {
            pattern: "%d.%m.%Y".into(),
            century_pivot: 50,
        };
        assert_eq!(
            dotted.parse("07.11.1993"),
            NaiveDate::from_ymd_opt(1993, 11, 7)
        );
        assert_eq!(dotted.parse("07.11.19931"), None);
    }

    #[test]
    fn codes_and_text_have_limits_and_counts_no_sign() {
        let long_code = "6".repeat(CODE_MAX_CHARS + 1);
        let error = parse_value(FieldType::Code, &long_code, &iso(), &AmountFormat::YUAN);
        assert_eq!(error.map_err(|e| e.code), Err(RejectCode::TooLong));
        let huge_name = "名".repeat(10 * 1024 * 1024 / 3);
        let error = parse_value(FieldType::Text, &huge_name, &iso(), &AmountFormat::YUAN);
        assert_eq!(error.map_err(|e| e.code), Err(RejectCode::TooLong));
        let nul = parse_value(FieldType::Text, "招商\0银行", &iso(), &AmountFormat::YUAN);
        assert_eq!(nul.map_err(|e| e.code), Err(RejectCode::Malformed));
        let negative = parse_value(FieldType::Count, "-1", &iso(), &AmountFormat::YUAN);
        assert_eq!(negative.map_err(|e| e.code), Err(RejectCode::BadNumber));
        assert_eq!(
            parse_value(FieldType::Count, "0", &iso(), &AmountFormat::YUAN),
            Ok(Value::Count(0))
        );
    }

    #[test]
    fn replacement_characters_mean_the_wrong_encoding() {
        let error = parse_value(
            FieldType::Text,
            "招\u{FFFD}银行",
            &iso(),
            &AmountFormat::YUAN,
        )
        .unwrap_err();
        assert_eq!(error.code, RejectCode::Encoding);
    }

    #[test]
    fn unknown_codes_list_the_accepted_ones() {
        let error = parse_value(
            FieldType::Choice(&["credit", "debit"]),
            "PRIJEM",
            &iso(),
            &AmountFormat::YUAN,
        )
        .unwrap_err();
        assert_eq!(error.code, RejectCode::UnknownCode);
        assert!(error.en.contains("credit, debit"));
    }
}

/// The property the parsers keep: a text is accepted only if all of it is the value. Each
/// parser is compared with an independent reading of its documented grammar, on random texts
/// made of the characters that matter to it, so a prefix read and the rest ignored, or a
/// character dropped, fails.
#[cfg(test)]
mod round_trip {
    use proptest::prelude::*;

    use super::*;

    /// The documented amount grammar, read independently: `[+-]` digits (or groups of three
    /// divided by the separator) `[.d[d]]`, at least one digit.
    fn expected_amount(text: &str, format: &AmountFormat) -> Option<i64> {
        let text = text.trim();
        let (negative, body) = match text.as_bytes().first()? {
            b'-' => (true, &text[1..]),
            b'+' => (false, &text[1..]),
            _ => (false, text),
        };
        let (whole, fraction) = match body.find('.') {
            Some(i) if format.unit == AmountUnit::Yuan => (&body[..i], &body[i + 1..]),
            _ => (body, ""),
        };
        if fraction.len() > 2 || !fraction.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let mut digits = String::new();
        match format.thousands {
            Some(sep) if whole.contains(sep) => {
                for (i, group) in whole.split(sep).enumerate() {
                    let ok = if i == 0 {
                        (1..=3).contains(&group.len())
                    } else {
                        group.len() == 3
                    };
                    if !ok || !group.chars().all(|c| c.is_ascii_digit()) {
                        return None;
                    }
                    digits.push_str(group);
                }
            }
            _ => {
                if !whole.chars().all(|c| c.is_ascii_digit()) {
                    return None;
                }
                digits.push_str(whole);
            }
        }
        if digits.is_empty() && fraction.is_empty() {
            return None;
        }
        let whole: i128 = if digits.is_empty() {
            0
        } else {
            digits.parse().ok()?
        };
        let minor = match format.unit {
            AmountUnit::Yuan => whole * 100 + format!("{fraction:0<2}").parse::<i128>().ok()?,
            AmountUnit::Fen => whole,
        };
        i64::try_from(if negative { -minor } else { minor }).ok()
    }

    fn formats() -> [AmountFormat; 4] {
        [
            AmountFormat::YUAN,
            AmountFormat::FEN,
            AmountFormat {
                unit: AmountUnit::Yuan,
                thousands: Some(','),
            },
            AmountFormat {
                unit: AmountUnit::Fen,
                thousands: Some('\''),
            },
        ]
    }

    fn dates() -> [DateFormat; 4] {
        ["%Y-%m-%d", "%Y%m%d", "%y%m%d", "%d.%m.%Y"].map(|pattern| DateFormat {
            pattern: pattern.into(),
            century_pivot: 30,
        })
    }

    proptest! {
        /// The shortcut for fields that start and end visibly trims exactly as `str::trim` does,
        /// Unicode white space (the full-width space of Chinese text) included.
        #[test]
        fn the_fast_trim_is_strs_trim(text in "[ a-z0-9\u{3000}\u{a0}\t\u{2003}é中]{0,8}") {
            prop_assert_eq!(trim(&text), text.trim());
        }

        /// The byte-wise control check of ASCII text agrees with `char::is_control`, and the
        /// length check with counting characters.
        #[test]
        fn the_fast_checks_agree_with_counting_characters(
            text in "[a-z\u{0}-\u{1f}\u{7f}\u{85}中é]{0,12}",
            max in 0usize..10,
        ) {
            prop_assert_eq!(has_control(&text, text.is_ascii()), text.chars().any(char::is_control));
            prop_assert_eq!(longer_than(&text, max), text.chars().count() > max);
        }

        #[test]
        fn amounts_are_accepted_exactly_when_the_grammar_says(text in "[-+0-9,.' x]{0,16}") {
            for format in formats() {
                let parsed = parse_value(FieldType::Amount, &text, &dates()[0], &format);
                let expected = expected_amount(&text, &format);
                match (parsed, expected) {
                    (Ok(Value::Null), _) => prop_assert!(text.trim().is_empty()),
                    (Ok(Value::Amount(minor)), Some(want)) => {
                        prop_assert_eq!(minor, want);
                        // The canonical text reads back to the same amount.
                        prop_assert_eq!(format.parse(&format.format(minor)).ok(), Some(minor));
                    }
                    (Err(_), None) => {}
                    (parsed, expected) => prop_assert!(
                        false,
                        "{text:?} in {format:?}: parsed {parsed:?}, grammar {expected:?}"
                    ),
                }
            }
        }

        #[test]
        fn dates_are_the_whole_field(
            day in 0i64..40_000,
            suffix in "([0-9xT: .]{0,4}| [0-9]{2}:[0-9]{2}(:[0-9]{2})?)",
        ) {
            let date = NaiveDate::from_ymd_opt(1950, 1, 1).unwrap() + chrono::Days::new(day as u64);
            for format in dates() {
                let text = format!("{}{suffix}", format.format(date));
                let parsed = parse_value(FieldType::Date, &text, &format, &AmountFormat::YUAN);
                if let Ok(Value::Date(got)) = parsed {
                    // Accepted: the date as written, then nothing or a real time of day.
                    let written = format.format(got);
                    prop_assert!(text.trim().starts_with(&written), "{text:?} read as {got}");
                    let rest = &text.trim()[written.len()..];
                    prop_assert!(rest.is_empty() || is_time_of_day(rest), "{text:?}: rest {rest:?}");
                    prop_assert_eq!(format.parse(&written), Some(got));
                } else if suffix.trim().is_empty() {
                    // Within the pattern's range, the formatted date itself is always accepted.
                    let in_range = !format.has_two_digit_year()
                        || format.parse(&format.format(date)).is_some();
                    prop_assert!(!in_range, "{text:?} refused: {parsed:?}");
                }
            }
        }

        #[test]
        fn other_fields_read_back_as_written(text in "[-+0-9a-zA-Z ,.:\u{4e00}\u{662f}\u{5426}]{0,12}") {
            let types = [
                FieldType::Text,
                FieldType::Code,
                FieldType::Count,
                FieldType::Flag,
                FieldType::Currency,
                FieldType::Choice(&["credit", "debit"]),
                FieldType::IdNumber,
                FieldType::Phone,
            ];
            for ty in types {
                match parse_value(ty, &text, &dates()[0], &AmountFormat::YUAN) {
                    Ok(Value::Null) => prop_assert!(text.trim().is_empty()),
                    Ok(Value::Text(value)) => prop_assert!(
                        value.eq_ignore_ascii_case(text.trim()),
                        "{ty:?}: {text:?} read as {value:?}"
                    ),
                    Ok(Value::Count(n)) => {
                        // Digits with an optional sign (zero padding allowed), that number, never
                        // below zero.
                        let body = text.trim().trim_start_matches(['+', '-']);
                        prop_assert!(!body.is_empty() && body.bytes().all(|b| b.is_ascii_digit()));
                        prop_assert_eq!(Some(n), expected_amount(&text, &AmountFormat::FEN));
                        prop_assert!(n >= 0);
                    }
                    Ok(Value::Flag(flag)) => {
                        let words: &[&str] = if flag {
                            &["y", "yes", "1", "true", "t", "是"]
                        } else {
                            &["n", "no", "0", "false", "f", "否"]
                        };
                        prop_assert!(words.contains(&text.trim().to_lowercase().as_str()));
                    }
                    Ok(other) => prop_assert!(false, "{ty:?}: {text:?} read as {other:?}"),
                    Err(_) => {}
                }
            }
        }
    }
}

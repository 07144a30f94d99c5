//! Numbers the way bankers read them: amounts in one unit per column (the bank's setting, 万元 by
//! default) with thousands separators, the unit in the header; yuan inside an English sentence.
//! Money arrives as integer fen and is formatted with integer arithmetic only.

use crate::i18n::Locale;

/// `1234567` → `1,234,567`.
pub(crate) fn thousands(value: u128) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// `fen` divided by `unit_fen`, rounded half away from zero to `decimals` places, with separators.
fn scaled(fen: i64, unit_fen: u128, decimals: u32) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let magnitude = u128::from(fen.unsigned_abs());
    let factor = 10u128.pow(decimals);
    let rounded = (magnitude * factor * 2 + unit_fen) / (unit_fen * 2);
    let whole = rounded / factor;
    if decimals == 0 {
        return format!("{sign}{}", thousands(whole));
    }
    let fraction = rounded % factor;
    format!(
        "{sign}{}.{fraction:0width$}",
        thousands(whole),
        width = decimals as usize
    )
}

/// Yuan as an English reader writes them: `¥1,234,567.89`, `-¥1.50`.
fn yuan(fen: i64) -> String {
    let text = scaled(fen, 100, 2);
    match text.strip_prefix('-') {
        Some(rest) => format!("-¥{rest}"),
        None => format!("¥{text}"),
    }
}

/// An amount in `unit` with two decimals and separators, no unit: `3890602434` fen in 万元 →
/// `389.06`. The column's header names the unit.
pub(crate) fn amount(fen: i64, unit: kam_core::money::AmountUnit) -> String {
    scaled(fen, u128::from(unit.fen().unsigned_abs()), 2)
}

/// An amount inside a sentence: in zh-CN in `unit` with its name (`389.06 万元`); in English in
/// yuan (`¥3,890,602.43`), because an English reader does not count in 万.
pub(crate) fn amount_with_unit(
    fen: i64,
    unit: kam_core::money::AmountUnit,
    locale: Locale,
) -> String {
    match locale {
        Locale::ZhCn => format!("{} {}", amount(fen, unit), unit.zh()),
        Locale::En => yuan(fen),
    }
}

/// A ratio as a percentage with one decimal.
pub(crate) fn percent(ratio: f64) -> String {
    format!("{:.1}%", ratio * 100.0)
}

/// A count as a banker reads it: 2,282 (counts are never negative; a sign would be dropped).
pub(crate) fn count(n: i64) -> String {
    thousands(u128::from(n.unsigned_abs()))
}

/// A stored instant (RFC 3339, UTC) as the bank's wall-clock time, `2026-12-06 13:05:21`; a text
/// that does not read is shown as stored.
pub(crate) fn bank_time(zone: kam_core::clock::BankZone, at: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(at).map_or_else(
        |_| at.to_owned(),
        |instant| {
            zone.local(instant.with_timezone(&chrono::Utc))
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_unit_for_a_column() {
        use kam_core::money::AmountUnit;
        // The same unit for a big and a small amount: no 元/万元/亿元 jumping row by row.
        assert_eq!(amount(3_890_602_434, AmountUnit::Wan), "3,890.60");
        assert_eq!(amount(450_000, AmountUnit::Wan), "0.45");
        assert_eq!(amount(-17_600_000_000, AmountUnit::Yi), "-1.76");
        assert_eq!(amount(5_958, AmountUnit::Yuan), "59.58");
        assert_eq!(
            amount_with_unit(389_060_000, AmountUnit::Wan, Locale::ZhCn),
            "389.06 万元"
        );
        assert_eq!(
            amount_with_unit(389_060_000, AmountUnit::Wan, Locale::En),
            "¥3,890,600.00"
        );
    }

    #[test]
    fn english_amounts_are_yuan() {
        assert_eq!(yuan(123_456_789), "¥1,234,567.89");
        assert_eq!(yuan(-150), "-¥1.50");
    }

    #[test]
    fn rounding_is_half_away_from_zero_and_exact() {
        // 12,345.675 万元 → 12,345.68 (no float in the way).
        use kam_core::money::AmountUnit;
        assert_eq!(amount(123_456_750_000 / 10, AmountUnit::Yi), "1.23");
        assert_eq!(amount(1_234_567_500, AmountUnit::Wan), "1,234.57");
        assert_eq!(amount(-1_234_567_500, AmountUnit::Wan), "-1,234.57");
        assert_eq!(amount(-5, AmountUnit::Yuan), "-0.05");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(999), "999");
    }

    #[test]
    fn instants_show_in_the_banks_zone() {
        let zone = kam_core::clock::BankZone::default();
        assert_eq!(
            bank_time(zone, "2026-12-05T17:30:00.000Z"),
            "2026-12-06 01:30:00",
            "after midnight in Beijing"
        );
        assert_eq!(bank_time(zone, "not a time"), "not a time");
    }
}

//! Numbers the way Chinese bankers read them: 万元 / 亿元 with thousands separators in zh-CN, yuan
//! in en. Money arrives as integer fen and is formatted with integer arithmetic only.

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

/// An amount in fen for a table cell: 亿元 from one hundred million yuan, 万元 from ten thousand,
/// else 元 (zh-CN); ¥ and yuan with two decimals (en).
pub(crate) fn money(fen: i64, locale: Locale) -> String {
    const YUAN: u128 = 100;
    const WAN: u128 = 10_000 * YUAN;
    const YI: u128 = 100_000_000 * YUAN;
    match locale {
        Locale::En => {
            let text = scaled(fen, YUAN, 2);
            match text.strip_prefix('-') {
                Some(rest) => format!("-¥{rest}"),
                None => format!("¥{text}"),
            }
        }
        Locale::ZhCn => {
            let magnitude = u128::from(fen.unsigned_abs());
            if magnitude >= YI {
                format!("{} 亿元", scaled(fen, YI, 2))
            } else if magnitude >= WAN {
                format!("{} 万元", scaled(fen, WAN, 2))
            } else {
                format!("{} 元", scaled(fen, YUAN, 2))
            }
        }
    }
}

/// An optional amount; an empty value (an average over nothing) shows as a dash, never 0.
pub(crate) fn money_or_dash(fen: Option<i64>, locale: Locale) -> String {
    fen.map_or_else(|| "—".to_owned(), |fen| money(fen, locale))
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
    fn chinese_amounts_use_wan_and_yi() {
        assert_eq!(money(123_456, Locale::ZhCn), "1,234.56 元");
        assert_eq!(money(1_234_567_800, Locale::ZhCn), "1,234.57 万元");
        assert_eq!(money(250_000_000_000, Locale::ZhCn), "25.00 亿元");
        assert_eq!(money(-5_000_000, Locale::ZhCn), "-5.00 万元");
        assert_eq!(money(0, Locale::ZhCn), "0.00 元");
    }

    #[test]
    fn english_amounts_are_yuan() {
        assert_eq!(money(123_456_789, Locale::En), "¥1,234,567.89");
        assert_eq!(money(-150, Locale::En), "-¥1.50");
        assert_eq!(money_or_dash(None, Locale::En), "—");
    }

    #[test]
    fn rounding_is_half_away_from_zero_and_exact() {
        // 12,345.675 万元 → 12,345.68 (no float in the way).
        assert_eq!(money(123_456_750_000 / 10, Locale::ZhCn), "1.23 亿元");
        assert_eq!(money(1_234_567_500, Locale::ZhCn), "1,234.57 万元");
        assert_eq!(money(-1_234_567_500, Locale::ZhCn), "-1,234.57 万元");
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

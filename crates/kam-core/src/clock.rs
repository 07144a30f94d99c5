//! The bank's calendar: which day it is, in the bank's time zone, at a given instant. One rule
//! for every "today" kam computes (the scope's date, the lead RM shown in a list, the date a
//! manual score is entered under), so that between 00:00 and 08:00 Beijing time no part of kam
//! works on yesterday. Reading the time is I/O and stays outside kam-core: callers pass the
//! instant (from a `Clock`, which tests replace).

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, Utc};

use crate::ParseError;

/// The source of the current instant: the system's in production, a fixed one in tests.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> DateTime<Utc>;
}

/// The bank's time zone as a UTC offset. Chinese banks keep one offset all year (no daylight
/// saving), so a fixed offset is exact; the default is Beijing time, +08:00.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BankZone(FixedOffset);

impl Default for BankZone {
    fn default() -> Self {
        Self::BEIJING
    }
}

impl BankZone {
    /// UTC+08:00 (Asia/Shanghai).
    pub const BEIJING: BankZone = match FixedOffset::east_opt(8 * 3600) {
        Some(offset) => BankZone(offset),
        None => panic!("+08:00 is a valid offset"),
    };

    /// `+08:00`, `-05:30`, `+00:00`.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        text.trim()
            .parse::<FixedOffset>()
            .map(BankZone)
            .map_err(|_| {
                ParseError::new(
                    "time_zone",
                    text,
                    "a time zone is a UTC offset such as +08:00",
                    "时区应为 UTC 偏移，例如 +08:00",
                )
            })
    }

    /// The bank's date at `at`.
    pub fn date_of(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.0).date_naive()
    }

    /// The instant the bank's day `day` begins (its midnight), in UTC: a day's events are those
    /// from `start_of(day)` until `start_of(day + 1)`.
    pub fn start_of(&self, day: NaiveDate) -> DateTime<Utc> {
        let midnight = day.and_hms_opt(0, 0, 0).expect("midnight exists");
        (midnight - self.0).and_utc()
    }

    /// The bank's wall-clock time at `at`.
    pub fn local(&self, at: DateTime<Utc>) -> NaiveDateTime {
        at.with_timezone(&self.0).naive_local()
    }
}

impl std::fmt::Display for BankZone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bank_day_turns_at_midnight_beijing_time() {
        let zone = BankZone::default();
        let before = "2026-12-05T15:59:59Z".parse::<DateTime<Utc>>().unwrap();
        let after = "2026-12-05T16:00:00Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(
            zone.date_of(before),
            NaiveDate::from_ymd_opt(2026, 12, 5).unwrap()
        );
        assert_eq!(
            zone.date_of(after),
            NaiveDate::from_ymd_opt(2026, 12, 6).unwrap()
        );
        assert_eq!(zone.to_string(), "+08:00");
    }

    #[test]
    fn a_banks_day_starts_at_its_midnight() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 6).unwrap();
        let start = BankZone::BEIJING.start_of(day);
        assert_eq!(start.to_rfc3339(), "2026-12-05T16:00:00+00:00");
        assert_eq!(BankZone::BEIJING.date_of(start), day);
        assert_eq!(
            BankZone::BEIJING.date_of(start - chrono::Duration::seconds(1)),
            day.pred_opt().unwrap()
        );
    }

    #[test]
    fn zones_are_utc_offsets() {
        assert_eq!(BankZone::parse("+08:00").unwrap(), BankZone::BEIJING);
        let utc = BankZone::parse("+00:00").unwrap();
        let at = "2026-12-05T23:30:00Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(
            utc.date_of(at),
            NaiveDate::from_ymd_opt(2026, 12, 5).unwrap()
        );
        for bad in ["Asia/Shanghai", "8", "+25:00", ""] {
            assert!(BankZone::parse(bad).is_err(), "{bad}");
        }
    }
}

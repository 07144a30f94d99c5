//! An alert's evidence in a banker's words: the figures the rule read and the bars it applied, in
//! the reader's language with amounts in the page's unit, and what to do about it. kam-core's
//! `Evidence` reads the stored text; the sentences are messages (`evidence-*`, `bars-*`,
//! `action-*`) in both languages.

use fluent_bundle::FluentValue;
use kam_core::alert::{AlertKind, Evidence};

use crate::{format, i18n::Tr};

/// One alert explained.
#[derive(Debug, Clone)]
pub(crate) struct Explained {
    /// What was found: "近7日转出他行 389.06 万元，为90日日均存款 670.00 万元的 58%".
    pub text: String,
    /// The bars that applied: "超过 30% 且超过 50.00 万元".
    pub bars: String,
    /// The suggested action.
    pub action: String,
}

/// Explains a stored alert. Text that does not read (a damaged row) is shown as stored rather
/// than hidden: the banker still sees something to ask about.
pub(crate) fn explain(t: &Tr<'_>, kind: AlertKind, evidence: &str, thresholds: &str) -> Explained {
    let action = t.get(&format!("action-{}", kind.code()));
    match Evidence::decode(kind, evidence, thresholds) {
        Ok(found) => {
            let (text, bars) = sentences(t, &found);
            Explained { text, bars, action }
        }
        Err(_) => Explained {
            text: evidence.to_owned(),
            bars: thresholds.to_owned(),
            action,
        },
    }
}

fn sentences(t: &Tr<'_>, found: &Evidence) -> (String, String) {
    let days = |d: u32| FluentValue::from(i64::from(d));
    let class = |c: i64| t.code("loan-class", &c.to_string());
    let share = |part: i64, whole: i64| {
        Evidence::share_percent(part, whole).map_or_else(|| "—".to_owned(), format::count)
    };
    match *found {
        Evidence::DepositDrop {
            recent_days,
            baseline_days,
            recent,
            baseline,
            percent,
            min_drop,
        } => (
            t.with(
                "evidence-deposit_drop",
                &[
                    ("recent_days", days(recent_days)),
                    ("baseline_days", days(baseline_days)),
                    ("recent", t.money(recent).into()),
                    ("baseline", t.money(baseline).into()),
                    ("drop", t.money(baseline - recent).into()),
                    ("share", share(baseline - recent, baseline).into()),
                ],
            ),
            t.with(
                "bars-deposit_drop",
                &[
                    ("percent", percent.into()),
                    ("min", t.money(min_drop).into()),
                ],
            ),
        ),
        Evidence::Outflow {
            days: window,
            baseline_days,
            outflow,
            baseline,
            percent,
            min_outflow,
        } => (
            t.with(
                "evidence-outflow",
                &[
                    ("days", days(window)),
                    ("baseline_days", days(baseline_days)),
                    ("outflow", t.money(outflow).into()),
                    ("baseline", t.money(baseline).into()),
                    ("share", share(outflow, baseline).into()),
                ],
            ),
            t.with(
                "bars-outflow",
                &[
                    ("percent", percent.into()),
                    ("min", t.money(min_outflow).into()),
                ],
            ),
        ),
        Evidence::Dormant { idle_days, days } => (
            t.with(
                "evidence-dormant",
                &[("idle", format::count(idle_days).into())],
            ),
            t.with("bars-dormant", &[("days", format::count(days).into())]),
        ),
        Evidence::LoanClass {
            now,
            before,
            lookback_days,
            hold_class,
        } => {
            let key = if now > before {
                "evidence-loan_class-worse"
            } else {
                "evidence-loan_class-held"
            };
            let text = t.with(
                key,
                &[
                    ("now", class(now).into()),
                    ("before", class(before).into()),
                    ("lookback", days(lookback_days)),
                ],
            );
            let bars = match hold_class {
                Some(hold) => t.with(
                    "bars-loan_class-hold",
                    &[
                        ("lookback", days(lookback_days)),
                        ("hold", class(hold).into()),
                    ],
                ),
                None => t.with("bars-loan_class", &[("lookback", days(lookback_days))]),
            };
            (text, bars)
        }
        Evidence::NoLeadRm => (t.get("evidence-no_lead_rm"), t.get("bars-no_lead_rm")),
        Evidence::NotVisited { days, interval } => (
            match days {
                Some(days) => t.with(
                    "evidence-not_visited",
                    &[("days", format::count(days).into())],
                ),
                None => t.get("evidence-not_visited-never"),
            },
            t.with(
                "bars-not_visited",
                &[("interval", format::count(interval).into())],
            ),
        ),
        Evidence::StuckOpportunity { days, bar } => (
            t.with(
                "evidence-stuck_opportunity",
                &[("days", format::count(days).into())],
            ),
            t.with(
                "bars-stuck_opportunity",
                &[("bar", format::count(bar).into())],
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use kam_core::money::AmountUnit;

    use super::*;
    use crate::i18n::{I18n, Locale};

    #[test]
    fn an_outflow_reads_like_a_banker_writes_it() {
        let i18n = I18n::load();
        let zh = Tr::new(&i18n, Locale::ZhCn).in_unit(AmountUnit::Wan);
        let said = explain(
            &zh,
            AlertKind::Outflow,
            "outflow_other_banks_7d=3890602434; avg_daily_deposit_90d=6678377537",
            "tier=1; outflow_percent>30; outflow_fen>50000000",
        );
        assert_eq!(
            said.text,
            "近7日转出他行 3,890.60 万元，为90日日均存款 6,678.38 万元的 58%"
        );
        assert_eq!(said.bars, "超过 30% 且超过 50.00 万元");
        assert!(!said.action.is_empty() && !said.action.starts_with("action-"));
        let en = Tr::new(&i18n, Locale::En).in_unit(AmountUnit::Wan);
        let said = explain(
            &en,
            AlertKind::Outflow,
            "outflow_other_banks_7d=3890602434; avg_daily_deposit_90d=6678377537",
            "tier=1; outflow_percent>30",
        );
        assert_eq!(
            said.text,
            "¥38,906,024.34 sent to other banks in 7 days: 58% of the 90-day average daily deposit of ¥66,783,775.37"
        );
        assert_eq!(said.bars, "more than 30% and more than ¥0.00");
    }

    #[test]
    fn every_kind_has_its_sentences_and_an_action_in_both_languages() {
        let i18n = I18n::load();
        let stored = [
            (
                AlertKind::DepositDrop,
                "avg_daily_deposit_30d=79000000; avg_daily_deposit_90d=100000000; drop=21000000",
                "tier=1; drop_percent>20; drop_fen>10000000",
            ),
            (
                AlertKind::Dormant,
                "idle_days=1095",
                "tier=4; idle_days>=90",
            ),
            (
                AlertKind::LoanClass,
                "worst_loan_class=4(可疑); 30_days_before=4(可疑)",
                "lookback_days=30; hold_class>=3",
            ),
            (
                AlertKind::LoanClass,
                "worst_loan_class=3(次级); 30_days_before=2(关注)",
                "lookback_days=30",
            ),
            (
                AlertKind::NoLeadRm,
                "key_account=true; tier=1; lead_rm=none",
                "lead_rm=required",
            ),
            (
                AlertKind::NotVisited,
                "days_since_visit=45",
                "tier=1; days_since_visit>30",
            ),
            (
                AlertKind::NotVisited,
                "days_since_visit=never",
                "tier=2; days_since_visit>30",
            ),
            (
                AlertKind::StuckOpportunity,
                "days_since_stage_move=45",
                "days_since_stage_move>30",
            ),
        ];
        for locale in [Locale::ZhCn, Locale::En] {
            let t = Tr::new(&i18n, locale);
            for (kind, evidence, thresholds) in stored {
                let said = explain(&t, kind, evidence, thresholds);
                for text in [&said.text, &said.bars, &said.action] {
                    assert!(
                        !text.contains('=') && !text.contains("evidence-") && !text.is_empty(),
                        "{locale:?} {kind:?}: {text}"
                    );
                }
            }
        }
        let zh = Tr::new(&i18n, Locale::ZhCn);
        let dormant = explain(
            &zh,
            AlertKind::Dormant,
            "idle_days=1095",
            "tier=4; idle_days>=90",
        );
        assert_eq!(dormant.text, "已连续 1,095 天无交易");
        let held = explain(
            &zh,
            AlertKind::LoanClass,
            "worst_loan_class=4(可疑); 30_days_before=4(可疑)",
            "lookback_days=30; hold_class>=3",
        );
        assert_eq!(
            held.text,
            "最差贷款五级分类为可疑（30天前为可疑），仍处不良"
        );
        assert_eq!(held.bars, "较30天前下调，或处于次级及以下");
        let late = explain(
            &zh,
            AlertKind::NotVisited,
            "days_since_visit=45",
            "tier=1; days_since_visit>30",
        );
        assert_eq!(late.text, "已 45 天没有拜访记录");
        assert_eq!(late.bars, "超过 30 天未拜访");
        // A damaged row shows as stored, not as nothing.
        let damaged = explain(&zh, AlertKind::Dormant, "idle_days=x", "idle_days>=90");
        assert_eq!(damaged.text, "idle_days=x");
    }
}

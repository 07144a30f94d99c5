//! The classification rules file (TOML, versioned): which indicator and bars make each line's five
//! tiers, and how many months of watch before a downgrade. The defaults ship in the binary
//! (`rules/default.toml`); a bank edits a copy. Every result records the rule id and version.

use serde::Deserialize;

use crate::{
    alert::{AlertRules, DepositDropRule, LoanClassRule, OutflowRule},
    classes::RetailTierRule,
    indicator::{CATALOGUE, IndicatorSpec, Unit},
    money::{Currency, Money},
    scoring::{Board, Criterion, SCALE, Source, StarBar},
    tier::TierScale,
};

/// The contact rule of a rules file that has none (the shipped file's values).
const BUILTIN_CONTACT: ContactRule = ContactRule {
    interval_days: [30, 30, 60, 90, 180],
    rm_visits_per_month: [3, 2, 1, 0, 0],
    president_visits_per_month: [1, 1, 0, 0, 0],
};

/// The rules kam ships with.
pub const DEFAULT_RULES: &str = include_str!("../rules/default.toml");

/// Rules, checked: every indicator exists, every bar parses exactly, bars are ordered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    pub id: String,
    pub version: u32,
    pub watch_months: u32,
    /// Tiers 1 ..= this are key accounts.
    pub key_account_tiers: usize,
    pub corporate: TierRule,
    pub retail: TierRule,
    pub retail_tiers: RetailTierRule,
    pub account_types: AccountTypeRule,
    pub customer_value: ValueRule,
    pub alerts: AlertRules,
    pub scoring: Board,
    pub contact: ContactRule,
    /// The opportunity funnel's stages (`[pipeline]`; the built-in ones when absent).
    pub pipeline: crate::opportunity::Pipeline,
}

/// How often a customer's people should be contacted and visited, by tier (index 0 = tier 1):
/// the freshness of a relationship, the fade of closeness, and visit coverage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactRule {
    /// Days between contacts with a customer's key people the tier expects.
    pub interval_days: [u32; 5],
    /// Visits a month the lead RM owes a customer of the tier (0: none required).
    pub rm_visits_per_month: [u32; 5],
    /// Visits a month the sub-branch president owes a customer of the tier.
    pub president_visits_per_month: [u32; 5],
}

impl ContactRule {
    /// The interval for a customer in `tier` (1–5); the last tier's for one not yet tiered.
    pub fn interval_for(&self, tier: Option<u8>) -> u32 {
        let i = tier.map_or(4, |t| usize::from(t.clamp(1, 5)) - 1);
        self.interval_days[i]
    }
}

/// One line's five tiers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TierRule {
    pub indicator: &'static IndicatorSpec,
    /// The window of a windowed indicator; `None` for one of the date alone.
    pub window: Option<u32>,
    pub scale: TierScale,
    /// The scale's names in English, best first (the interface's English; `scale.names` are
    /// the Chinese).
    pub names_en: [String; 5],
}

impl TierRule {
    /// The indicator's column name in exports (`avg_daily_deposit_90d`, `aum`).
    pub fn column(&self) -> String {
        column(self.indicator, self.window)
    }
}

/// 经济大客户 by rank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountTypeRule {
    pub indicator: &'static IndicatorSpec,
    pub window: Option<u32>,
    pub top_percent: u32,
}

/// Customer value (CAM).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValueRule {
    pub months: u32,
    pub trend_percent: u32,
}

/// An indicator's column name: `txn_count_30d`, or the code alone for one not windowed.
pub fn column(indicator: &IndicatorSpec, window: Option<u32>) -> String {
    match window {
        Some(w) => format!("{}_{w}d", indicator.code),
        None => indicator.code.to_owned(),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    id: String,
    version: u32,
    watch_months: u32,
    key_account_tiers: usize,
    tiers: TiersFile,
    retail_tiers: RetailTiersFile,
    account_types: AccountTypesFile,
    customer_value: ValueFile,
    alerts: AlertsFile,
    scoring: ScoringFile,
    /// Absent in a rules file older than version 4: the built-in contact rule applies.
    contact: Option<ContactRule>,
    /// Absent: the built-in funnel.
    pipeline: Option<PipelineFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PipelineFile {
    stages: Vec<StageFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StageFile {
    code: String,
    zh: String,
    en: String,
    probability: u8,
    #[serde(default)]
    checklist: Vec<ItemFile>,
    /// `won` or `lost` for a closing stage.
    outcome: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ItemFile {
    code: String,
    zh: String,
    en: String,
}

/// The funnel of a `[pipeline]` section, checked: codes of lower-case letters, digits and `_`,
/// unique; probabilities 0–100; at least one open stage, then exactly one `won` and one `lost`
/// stage, last, without checklists.
fn pipeline(source: &str, file: PipelineFile) -> Result<crate::opportunity::Pipeline, String> {
    use crate::opportunity::{ChecklistItem, Outcome, Pipeline, Stage};
    let where_ = format!("{source}: [pipeline]");
    let code_ok = |c: &str| {
        !c.is_empty()
            && c.len() <= 40
            && c.chars()
                .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_')
    };
    let mut stages: Vec<Stage> = Vec::new();
    for s in file.stages {
        if !code_ok(&s.code) || stages.iter().any(|t| t.code == s.code) {
            return Err(format!(
                "{where_}: 阶段代码 {} 应为唯一的小写字母、数字或下划线 / stage code {} must be unique lower-case letters, digits or _",
                s.code, s.code
            ));
        }
        if s.probability > 100 {
            return Err(format!(
                "{where_} {}: probability 应为 0–100 / must be 0–100",
                s.code
            ));
        }
        let outcome = match s.outcome.as_deref() {
            None => None,
            Some("won") => Some(Outcome::Won),
            Some("lost") => Some(Outcome::Lost),
            Some(other) => {
                return Err(format!(
                    "{where_} {}: outcome {other} 应为 won 或 lost / must be won or lost",
                    s.code
                ));
            }
        };
        let mut checklist: Vec<ChecklistItem> = Vec::new();
        for i in s.checklist {
            if !code_ok(&i.code) || checklist.iter().any(|c| c.code == i.code) {
                return Err(format!(
                    "{where_} {}: 速查表项目代码 {} 无效或重复 / checklist code {} is invalid or repeated",
                    s.code, i.code, i.code
                ));
            }
            checklist.push(ChecklistItem {
                code: i.code,
                zh: i.zh,
                en: i.en,
            });
        }
        stages.push(Stage {
            code: s.code,
            zh: s.zh,
            en: s.en,
            probability: s.probability,
            checklist,
            outcome,
        });
    }
    let open = stages.iter().take_while(|s| s.outcome.is_none()).count();
    let closing: Vec<Option<Outcome>> = stages[open..].iter().map(|s| s.outcome).collect();
    let closing_ok = closing.len() == 2
        && closing.contains(&Some(Outcome::Won))
        && closing.contains(&Some(Outcome::Lost))
        && stages[open..].iter().all(|s| s.checklist.is_empty());
    if open == 0 || !closing_ok {
        return Err(format!(
            "{where_}: 应先列出进行中的阶段，最后是一个 won 和一个 lost 阶段（不带速查表） / the open stages come first, then one won and one lost stage (without checklists)"
        ));
    }
    Ok(Pipeline { stages })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TiersFile {
    corporate: TierFile,
    retail: TierFile,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TierFile {
    indicator: String,
    window: Option<u32>,
    names: [String; 5],
    /// The names in English; the Chinese names stand in when absent.
    names_en: Option<[String; 5]>,
    /// Yuan for money indicators (exact, at most two decimals), plain integers otherwise.
    bars: [String; 4],
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RetailTiersFile {
    indicator: String,
    window: Option<u32>,
    names: [String; 3],
    /// The names in English; the Chinese names stand in when absent.
    names_en: Option<[String; 3]>,
    bars: [String; 3],
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountTypesFile {
    economic_indicator: String,
    economic_window: Option<u32>,
    economic_top_percent: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ValueFile {
    months: u32,
    trend_percent: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AlertsFile {
    no_lead_rm: bool,
    /// Absent in a rules file older than version 4: off.
    #[serde(default)]
    not_visited: bool,
    /// Absent in a rules file older than version 5: off.
    stuck_opportunity_days: Option<u32>,
    deposit_drop: DepositDropFile,
    outflow: OutflowFile,
    dormant: DormantFile,
    loan_class: LoanClassFile,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DepositDropFile {
    recent_days: u32,
    baseline_days: u32,
    percent: [i64; 5],
    yuan: [String; 5],
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OutflowFile {
    days: u32,
    percent: [i64; 5],
    /// Optional so that a bank's rules file written before the minimum existed still reads.
    min_yuan: Option<[String; 5]>,
    own_bank: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DormantFile {
    days: [i64; 5],
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LoanClassFile {
    lookback_days: u32,
    hold_class: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScoringFile {
    id: String,
    zh: String,
    en: String,
    star: String,
    criteria: Vec<CriterionFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CriterionFile {
    code: String,
    zh: String,
    en: String,
    #[serde(default = "one")]
    weight: u32,
    source: String,
    indicator: Option<String>,
    window: Option<u32>,
    bars: Option<[String; 4]>,
    #[serde(default)]
    lower_is_better: bool,
    when_empty: Option<u8>,
}

fn one() -> u32 {
    1
}

/// Finds an indicator and checks its window; the message says where and lists the valid codes.
fn indicator(
    where_: &str,
    code: &str,
    window: Option<u32>,
) -> Result<&'static IndicatorSpec, String> {
    let indicator = CATALOGUE.iter().find(|s| s.code == code).ok_or_else(|| {
        let codes: Vec<&str> = CATALOGUE.iter().map(|s| s.code).collect();
        format!(
            "{where_}: 未知指标 {code} / unknown indicator {code}; 可用 valid: {}",
            codes.join(", ")
        )
    })?;
    if indicator.windowed != window.is_some() {
        return Err(format!(
            "{where_}: 指标 {} {} / indicator {} {}",
            indicator.code,
            if indicator.windowed {
                "需要 window"
            } else {
                "不分窗口，不能有 window"
            },
            indicator.code,
            if indicator.windowed {
                "needs a window"
            } else {
                "has no window"
            }
        ));
    }
    // Bars compare whole numbers: a ratio or an average of days is a real number.
    if matches!(indicator.unit, Unit::Ratio | Unit::AverageDays) {
        return Err(format!(
            "{where_}: 门槛需要金额或计数指标，{} 是比率或平均值 / bars need a money or count indicator; {} is a ratio or an average",
            indicator.code, indicator.code
        ));
    }
    Ok(indicator)
}

/// Parses bars in the indicator's unit: yuan, exactly, for money; integers otherwise.
fn bars<const N: usize>(
    where_: &str,
    indicator: &IndicatorSpec,
    texts: &[String; N],
) -> Result<[i64; N], String> {
    let mut out = [0i64; N];
    for (bar, text) in out.iter_mut().zip(texts) {
        *bar = if indicator.unit == Unit::Fen {
            yuan(where_, text)?
        } else {
            text.trim()
                .parse()
                .map_err(|_| format!("{where_}: bars: “{text}” 不是整数 / is not an integer"))?
        };
    }
    Ok(out)
}

fn yuan(where_: &str, text: &str) -> Result<i64, String> {
    Ok(Money::parse_yuan_with(text, Currency::CNY, Some(','))
        .map_err(|e| format!("{where_}: bars: {e}"))?
        .minor())
}

fn strictly<const N: usize>(where_: &str, bars: &[i64; N], descending: bool) -> Result<(), String> {
    let bad = bars.windows(2).find(|pair| {
        if descending {
            pair[0] <= pair[1]
        } else {
            pair[0] >= pair[1]
        }
    });
    match bad {
        Some(pair) if descending => Err(format!(
            "{where_}: 门槛应严格递减：{} 不大于 {} / bars must strictly descend: {} is not above {}",
            pair[0], pair[1], pair[0], pair[1]
        )),
        Some(pair) => Err(format!(
            "{where_}: 门槛应严格递增：{} 不小于 {} / bars must strictly ascend: {} is not below {}",
            pair[0], pair[1], pair[0], pair[1]
        )),
        None => Ok(()),
    }
}

impl Rules {
    /// Parses and checks a rules file; the message names the file, the section and what is wrong,
    /// in zh-CN and en.
    pub fn parse(source: &str, text: &str) -> Result<Self, String> {
        let file: RulesFile = toml::from_str(text).map_err(|e| format!("{source}: {e}"))?;
        if file.watch_months == 0 {
            return Err(format!(
                "{source}: watch_months 应至少为 1 / watch_months must be at least 1"
            ));
        }
        if file.key_account_tiers > 5 {
            return Err(format!(
                "{source}: key_account_tiers 应在 0 到 5 之间 / key_account_tiers must be 0 to 5"
            ));
        }
        let tier = |line: &str, t: TierFile| -> Result<TierRule, String> {
            let where_ = format!("{source}: [tiers.{line}]");
            let indicator = indicator(&where_, &t.indicator, t.window)?;
            let bars = bars(&where_, indicator, &t.bars)?;
            let names_en = t.names_en.unwrap_or_else(|| t.names.clone());
            let scale = TierScale::new(t.names, bars).map_err(|e| format!("{where_}: {e}"))?;
            Ok(TierRule {
                indicator,
                window: t.window,
                scale,
                names_en,
            })
        };
        let corporate = tier("corporate", file.tiers.corporate)?;
        let retail = tier("retail", file.tiers.retail)?;
        let retail_tiers = {
            let t = file.retail_tiers;
            let where_ = format!("{source}: [retail_tiers]");
            let indicator = indicator(&where_, &t.indicator, t.window)?;
            let bars = bars(&where_, indicator, &t.bars)?;
            strictly(&where_, &bars, true)?;
            RetailTierRule {
                indicator,
                window: t.window,
                names_en: t.names_en.unwrap_or_else(|| t.names.clone()),
                names: t.names,
                bars,
            }
        };
        let account_types = {
            let t = file.account_types;
            let where_ = format!("{source}: [account_types]");
            if t.economic_top_percent > 100 {
                return Err(format!(
                    "{where_}: economic_top_percent 应在 0 到 100 之间 / must be 0 to 100"
                ));
            }
            AccountTypeRule {
                indicator: indicator(&where_, &t.economic_indicator, t.economic_window)?,
                window: t.economic_window,
                top_percent: t.economic_top_percent,
            }
        };
        if !(1..=36).contains(&file.customer_value.months) {
            return Err(format!(
                "{source}: [customer_value] months 应在 1 到 36 之间 / months must be 1 to 36"
            ));
        }
        let alerts = {
            let a = file.alerts;
            let where_ = format!("{source}: [alerts.deposit_drop]");
            let mut fen = [0i64; 5];
            for (f, text) in fen.iter_mut().zip(&a.deposit_drop.yuan) {
                *f = yuan(&where_, text)?;
            }
            let mut min_outflow = [0i64; 5];
            if let Some(texts) = &a.outflow.min_yuan {
                let where_ = format!("{source}: [alerts.outflow] min_yuan");
                for (f, text) in min_outflow.iter_mut().zip(texts) {
                    *f = yuan(&where_, text)?;
                }
            }
            if let Some(class) = a.loan_class.hold_class
                && !(1..=5).contains(&class)
            {
                return Err(format!(
                    "{source}: [alerts.loan_class] hold_class 应为 1（正常）到 5（损失）/ must be 1 (pass) to 5 (loss)"
                ));
            }
            for (name, days) in [
                ("deposit_drop.recent_days", a.deposit_drop.recent_days),
                ("deposit_drop.baseline_days", a.deposit_drop.baseline_days),
                ("outflow.days", a.outflow.days),
                ("loan_class.lookback_days", a.loan_class.lookback_days),
            ] {
                if days == 0 {
                    return Err(format!(
                        "{source}: [alerts] {name} 应至少为 1 / {name} must be at least 1"
                    ));
                }
            }
            AlertRules {
                deposit_drop: DepositDropRule {
                    recent_days: a.deposit_drop.recent_days,
                    baseline_days: a.deposit_drop.baseline_days,
                    percent: a.deposit_drop.percent,
                    fen,
                },
                outflow: OutflowRule {
                    days: a.outflow.days,
                    percent: a.outflow.percent,
                    min_fen: min_outflow,
                    own_bank: a.outflow.own_bank,
                },
                dormant_days: a.dormant.days,
                loan_class: LoanClassRule {
                    lookback_days: a.loan_class.lookback_days,
                    hold_class: a.loan_class.hold_class,
                },
                no_lead_rm: a.no_lead_rm,
                // Filled in from the contact rule below, which the file may give after.
                not_visited: a.not_visited.then_some([0; 5]),
                stuck_opportunity_days: a.stuck_opportunity_days.map(i64::from),
            }
        };
        let scoring = {
            let s = file.scoring;
            let star = if s.star == "average" {
                StarBar::Average
            } else {
                StarBar::Fixed(s.star.trim().parse().map_err(|_| {
                    format!(
                        "{source}: [scoring] star: “{}” 应为 average 或整数分数 / must be average or a whole number of points",
                        s.star
                    )
                })?)
            };
            let mut criteria = Vec::new();
            for c in s.criteria {
                let where_ = format!("{source}: [[scoring.criteria]] {}", c.code);
                let source = match (c.source.as_str(), &c.indicator, &c.bars) {
                    ("manual", None, None) => Source::Manual,
                    ("indicator", Some(code), Some(texts)) => {
                        let indicator = indicator(&where_, code, c.window)?;
                        let bars = bars(&where_, indicator, texts)?;
                        strictly(&where_, &bars, !c.lower_is_better)?;
                        if let Some(score) = c.when_empty
                            && !SCALE.contains(&score)
                        {
                            return Err(format!(
                                "{where_}: when_empty 应为 1、3、5、7 或 9 / must be 1, 3, 5, 7 or 9"
                            ));
                        }
                        Source::Indicator {
                            indicator,
                            window: c.window,
                            bars,
                            lower_is_better: c.lower_is_better,
                            when_empty: c.when_empty,
                        }
                    }
                    _ => {
                        return Err(format!(
                            "{where_}: source 应为 manual（不带 indicator 与 bars）或 indicator（带 indicator 与 bars）/ \
                             source must be manual (without indicator and bars) or indicator (with both)"
                        ));
                    }
                };
                criteria.push(Criterion {
                    code: c.code,
                    zh: c.zh,
                    en: c.en,
                    weight: c.weight,
                    source,
                });
            }
            Board {
                id: s.id,
                zh: s.zh,
                en: s.en,
                criteria,
                star,
            }
        };
        let contact = match file.contact {
            Some(c) => {
                if c.interval_days.contains(&0) {
                    return Err(format!(
                        "{source}: [contact] interval_days 应至少为 1 / interval_days must be at least 1"
                    ));
                }
                c
            }
            None => BUILTIN_CONTACT,
        };
        let mut alerts = alerts;
        if let Some(days) = alerts.not_visited.as_mut() {
            *days = contact.interval_days.map(i64::from);
        }
        let pipeline = match file.pipeline {
            Some(p) => pipeline(source, p)?,
            None => crate::opportunity::Pipeline::default_stages(),
        };
        Ok(Rules {
            id: file.id,
            version: file.version,
            watch_months: file.watch_months,
            key_account_tiers: file.key_account_tiers,
            corporate,
            retail,
            retail_tiers,
            account_types,
            customer_value: ValueRule {
                months: file.customer_value.months,
                trend_percent: file.customer_value.trend_percent,
            },
            alerts,
            scoring,
            contact,
            pipeline,
        })
    }

    /// The rules kam ships with.
    pub fn builtin() -> Self {
        Self::parse("rules/default.toml", DEFAULT_RULES).expect("the shipped rules are valid")
    }

    /// Every window the rules read, so the batch computes them whatever `--windows` says.
    pub fn windows(&self) -> Vec<u32> {
        let mut out: Vec<u32> = [
            self.corporate.window,
            self.retail.window,
            self.retail_tiers.window,
            self.account_types.window,
            Some(self.alerts.deposit_drop.recent_days),
            Some(self.alerts.deposit_drop.baseline_days),
        ]
        .into_iter()
        .flatten()
        .chain(self.scoring.criteria.iter().filter_map(|c| match c.source {
            Source::Indicator { window, .. } => window,
            Source::Manual => None,
        }))
        .collect();
        out.sort_unstable();
        out.dedup();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_rules_parse_with_exact_bars() {
        let rules = Rules::builtin();
        assert_eq!(
            (rules.id.as_str(), rules.version, rules.watch_months),
            ("kam-default", 5, 3)
        );
        assert_eq!(
            rules.contact, BUILTIN_CONTACT,
            "the fallback is the shipped rule"
        );
        assert_eq!(rules.contact.interval_for(Some(1)), 30);
        assert_eq!(rules.contact.interval_for(None), 180);
        let without = DEFAULT_RULES.split("\n[contact]").next().unwrap();
        assert_eq!(
            Rules::parse("v3", without).unwrap().contact,
            BUILTIN_CONTACT
        );
        assert_eq!(
            rules.pipeline,
            crate::opportunity::Pipeline::default_stages(),
            "the shipped funnel is the built-in one"
        );
        let unordered = DEFAULT_RULES.replacen("outcome = \"won\"", "", 1);
        assert!(
            Rules::parse("x", &unordered)
                .unwrap_err()
                .contains("[pipeline]")
        );
        assert_eq!(rules.corporate.column(), "avg_daily_deposit_90d");
        assert_eq!(rules.corporate.scale.bars[0], 5_000_000_000);
        assert_eq!(rules.retail.column(), "contribution_365d");
        assert_eq!(rules.retail.scale.names[0], "高价值");
        assert_eq!(
            rules.corporate.names_en[0], "strategic",
            "names in both languages"
        );
        assert_eq!(rules.retail_tiers.bars[0], 600_000_000);
        assert_eq!(rules.alerts.deposit_drop.fen[0], 100_000_000);
        assert_eq!(rules.alerts.outflow.min_fen[4], 500_000);
        assert_eq!(rules.alerts.loan_class.hold_class, Some(3));
        assert_eq!(rules.scoring.criteria.len(), 6);
        assert_eq!(rules.scoring.star, StarBar::Average);
        assert_eq!(rules.windows(), [30, 90, 365]);
    }

    #[test]
    fn docs_rules_shows_the_shipped_rules_verbatim() {
        let doc = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/rules.md"),
        )
        .unwrap();
        let start = doc.find("```toml\n").expect("an example") + "```toml\n".len();
        let end = start + doc[start..].find("```").expect("its end");
        assert_eq!(&doc[start..end], DEFAULT_RULES);
    }

    #[test]
    fn a_bad_rules_file_says_what_and_where() {
        let bad = DEFAULT_RULES.replace("indicator = \"avg_aum\"", "indicator = \"aumm\"");
        let error = Rules::parse("bank.toml", &bad).unwrap_err();
        assert!(
            error.contains("bank.toml: [retail_tiers]") && error.contains("aumm"),
            "{error}"
        );
        assert!(
            error.contains("avg_daily_deposit"),
            "lists the valid codes: {error}"
        );
        let bad = DEFAULT_RULES.replace("\"100000\"]", "\"100000.001\"]");
        let error = Rules::parse("bank.toml", &bad).unwrap_err();
        assert!(error.contains("[tiers.corporate]: bars"), "{error}");
        let bad = DEFAULT_RULES.replacen("window = 90\n", "", 1);
        assert!(
            Rules::parse("bank.toml", &bad)
                .unwrap_err()
                .contains("needs a window")
        );
        let bad = DEFAULT_RULES.replace(
            "source = \"manual\"",
            "source = \"manual\"\nbars = [\"1\", \"2\", \"3\", \"4\"]",
        );
        let error = Rules::parse("bank.toml", &bad).unwrap_err();
        assert!(
            error.contains("[[scoring.criteria]] relationship") && error.contains("manual"),
            "{error}"
        );
        let bad = DEFAULT_RULES.replace(
            "bars = [\"1\", \"2\", \"3\", \"4\"]",
            "bars = [\"4\", \"3\", \"2\", \"1\"]",
        );
        assert!(
            Rules::parse("bank.toml", &bad)
                .unwrap_err()
                .contains("[[scoring.criteria]] credit: 门槛应严格递增")
        );
        let bad = DEFAULT_RULES.replace("star = \"average\"", "star = \"many\"");
        assert!(
            Rules::parse("bank.toml", &bad)
                .unwrap_err()
                .contains("[scoring] star")
        );
        let fixed = DEFAULT_RULES.replace("star = \"average\"", "star = \"30\"");
        assert_eq!(
            Rules::parse("bank.toml", &fixed).unwrap().scoring.star,
            StarBar::Fixed(30)
        );
        let bad = DEFAULT_RULES.replace("watch_months = 3", "watch_months = 3\ncolour = 1");
        assert!(
            Rules::parse("bank.toml", &bad)
                .unwrap_err()
                .contains("colour")
        );
        let bad = DEFAULT_RULES.replace("\"10000000\", \"1000000\"", "\"1000000\", \"10000000\"");
        assert!(
            Rules::parse("bank.toml", &bad)
                .unwrap_err()
                .contains("descend")
        );
    }
}

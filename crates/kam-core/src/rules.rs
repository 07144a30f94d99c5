//! The classification rules file (TOML, versioned): which indicator and bars make each line's five
//! tiers, and how many months of watch before a downgrade. The defaults ship in the binary
//! (`rules/default.toml`); a bank edits a copy. Every result records the rule id and version.

use serde::Deserialize;

use crate::{
    indicator::{CATALOGUE, IndicatorSpec, Unit},
    money::{Currency, Money},
    tier::TierScale,
};

/// The rules kam ships with.
pub const DEFAULT_RULES: &str = include_str!("../rules/default.toml");

/// Rules, checked: every indicator exists, every bar parses exactly, bars descend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    pub id: String,
    pub version: u32,
    pub watch_months: u32,
    pub corporate: TierRule,
    pub retail: TierRule,
}

/// One line's five tiers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TierRule {
    pub indicator: &'static IndicatorSpec,
    /// The window of a windowed indicator; `None` for one of the date alone.
    pub window: Option<u32>,
    pub scale: TierScale,
}

impl TierRule {
    /// The indicator's column name in exports (`avg_daily_deposit_90d`, `aum`).
    pub fn column(&self) -> String {
        match self.window {
            Some(w) => format!("{}_{w}d", self.indicator.code),
            None => self.indicator.code.to_owned(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    id: String,
    version: u32,
    watch_months: u32,
    tiers: TiersFile,
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
    /// Yuan for money indicators (exact, at most two decimals), plain integers otherwise.
    bars: [String; 4],
}

impl Rules {
    /// Parses and checks a rules file; the message names the file and what is wrong, in zh-CN and en.
    pub fn parse(source: &str, text: &str) -> Result<Self, String> {
        let file: RulesFile = toml::from_str(text).map_err(|e| format!("{source}: {e}"))?;
        if file.watch_months == 0 {
            return Err(format!(
                "{source}: watch_months 应至少为 1 / watch_months must be at least 1"
            ));
        }
        let tier = |line: &str, t: TierFile| -> Result<TierRule, String> {
            let where_ = format!("{source}: [tiers.{line}]");
            let indicator = CATALOGUE
                .iter()
                .find(|s| s.code == t.indicator)
                .ok_or_else(|| {
                    let codes: Vec<&str> = CATALOGUE.iter().map(|s| s.code).collect();
                    format!(
                        "{where_}: 未知指标 {} / unknown indicator {}; 可用 valid: {}",
                        t.indicator,
                        t.indicator,
                        codes.join(", ")
                    )
                })?;
            if indicator.windowed != t.window.is_some() {
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
            if indicator.unit == Unit::Ratio {
                return Err(format!(
                    "{where_}: 五级分类需要金额或计数指标，{} 是比率 / tiers need a money or count indicator; {} is a ratio",
                    indicator.code, indicator.code
                ));
            }
            let mut bars = [0i64; 4];
            for (bar, text) in bars.iter_mut().zip(&t.bars) {
                *bar = if indicator.unit == Unit::Fen {
                    Money::parse_yuan(text, Currency::CNY)
                        .map_err(|e| format!("{where_}: bars: {e}"))?
                        .minor()
                } else {
                    text.trim().parse().map_err(|_| {
                        format!("{where_}: bars: “{text}” 不是整数 / is not an integer")
                    })?
                };
            }
            let scale = TierScale::new(t.names, bars).map_err(|e| format!("{where_}: {e}"))?;
            Ok(TierRule {
                indicator,
                window: t.window,
                scale,
            })
        };
        Ok(Rules {
            id: file.id,
            version: file.version,
            watch_months: file.watch_months,
            corporate: tier("corporate", file.tiers.corporate)?,
            retail: tier("retail", file.tiers.retail)?,
        })
    }

    /// The rules kam ships with.
    pub fn builtin() -> Self {
        Self::parse("rules/default.toml", DEFAULT_RULES).expect("the shipped rules are valid")
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
            ("kam-default", 1, 3)
        );
        assert_eq!(rules.corporate.column(), "avg_daily_deposit_90d");
        assert_eq!(rules.corporate.scale.bars[0], 5_000_000_000);
        assert_eq!(rules.retail.column(), "aum");
        assert_eq!(rules.retail.scale.names[0], "私人银行");
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
        let bad = DEFAULT_RULES.replace("indicator = \"aum\"", "indicator = \"aumm\"");
        let error = Rules::parse("bank.toml", &bad).unwrap_err();
        assert!(
            error.contains("bank.toml: [tiers.retail]") && error.contains("aumm"),
            "{error}"
        );
        assert!(
            error.contains("avg_daily_deposit"),
            "lists the valid codes: {error}"
        );
        let bad = DEFAULT_RULES.replace("\"100000\"]", "\"100000.001\"]");
        let error = Rules::parse("bank.toml", &bad).unwrap_err();
        assert!(error.contains("[tiers.corporate]: bars"), "{error}");
        let bad = DEFAULT_RULES.replace("window = 90\n", "");
        assert!(
            Rules::parse("bank.toml", &bad)
                .unwrap_err()
                .contains("needs a window")
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

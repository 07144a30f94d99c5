//! The interface in zh-CN (first) and en: Fluent message files embedded in the binary, one bundle
//! per language, looked up by key. A key missing from a file shows as the key itself, and a test
//! checks both files have the same keys.

use std::fmt;

use fluent_bundle::{FluentArgs, FluentResource, FluentValue, concurrent::FluentBundle};
use kam_core::money::AmountUnit;
use unic_langid::langid;

/// The interface languages, Chinese first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locale {
    ZhCn,
    En,
}

impl Locale {
    pub fn code(self) -> &'static str {
        match self {
            Locale::ZhCn => "zh-CN",
            Locale::En => "en",
        }
    }

    /// A stored or requested code; anything unknown is Chinese.
    pub fn from_code(code: &str) -> Self {
        if code.eq_ignore_ascii_case("en") || code.to_ascii_lowercase().starts_with("en-") {
            Locale::En
        } else {
            Locale::ZhCn
        }
    }

    /// The first language of an `Accept-Language` header that kam speaks, else Chinese.
    pub fn from_accept_language(header: &str) -> Self {
        for part in header.split(',') {
            let tag = part
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            if tag.starts_with("zh") {
                return Locale::ZhCn;
            }
            if tag.starts_with("en") {
                return Locale::En;
            }
        }
        Locale::ZhCn
    }
}

pub(crate) const ZH_CN_FTL: &str = include_str!("../locales/zh-CN.ftl");
pub(crate) const EN_FTL: &str = include_str!("../locales/en.ftl");

pub(crate) struct I18n {
    zh: FluentBundle<FluentResource>,
    en: FluentBundle<FluentResource>,
}

impl fmt::Debug for I18n {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("I18n { zh-CN, en }")
    }
}

fn bundle(source: &str, lang: unic_langid::LanguageIdentifier) -> FluentBundle<FluentResource> {
    let resource = FluentResource::try_new(source.to_owned())
        .unwrap_or_else(|(_, errors)| panic!("embedded message file does not parse: {errors:?}"));
    let mut bundle = FluentBundle::new_concurrent(vec![lang]);
    // Without this, every placeable is wrapped in U+2068/U+2069 isolation marks.
    bundle.set_use_isolating(false);
    bundle
        .add_resource(resource)
        .expect("embedded message files have no duplicate keys");
    bundle
}

impl I18n {
    pub(crate) fn load() -> Self {
        Self {
            zh: bundle(ZH_CN_FTL, langid!("zh-CN")),
            en: bundle(EN_FTL, langid!("en")),
        }
    }

    fn bundle(&self, locale: Locale) -> &FluentBundle<FluentResource> {
        match locale {
            Locale::ZhCn => &self.zh,
            Locale::En => &self.en,
        }
    }

    /// The message `key` in `locale`, with `args`; the key itself when missing.
    pub(crate) fn message(&self, locale: Locale, key: &str, args: Option<&FluentArgs>) -> String {
        let bundle = self.bundle(locale);
        let Some(pattern) = bundle.get_message(key).and_then(|m| m.value()) else {
            return key.to_owned();
        };
        let mut errors = Vec::new();
        bundle
            .format_pattern(pattern, args, &mut errors)
            .into_owned()
    }
}

/// A translator bound to one request's language, for handlers and templates.
#[derive(Clone, Copy)]
pub(crate) struct Tr<'a> {
    pub locale: Locale,
    /// The unit amounts are written in (the bank's setting).
    pub unit: AmountUnit,
    i18n: &'a I18n,
}

impl fmt::Debug for Tr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tr({})", self.locale.code())
    }
}

impl<'a> Tr<'a> {
    pub(crate) fn new(i18n: &'a I18n, locale: Locale) -> Self {
        Self {
            locale,
            unit: AmountUnit::default(),
            i18n,
        }
    }

    /// The same translator writing amounts in `unit`.
    pub(crate) fn in_unit(self, unit: AmountUnit) -> Self {
        Self { unit, ..self }
    }

    /// An amount for a cell of a column headed with the unit: `389.06` (万元), no unit.
    pub fn amount(&self, fen: i64) -> String {
        crate::format::amount(fen, self.unit)
    }

    /// An optional amount for a cell; nothing to average shows as a dash, never 0.
    pub fn amount_or_dash(&self, fen: Option<i64>) -> String {
        fen.map_or_else(|| "—".to_owned(), |fen| self.amount(fen))
    }

    /// An optional amount inside a sentence; a dash when there is none.
    pub fn money_or_dash(&self, fen: Option<i64>) -> String {
        fen.map_or_else(|| "—".to_owned(), |fen| self.money(fen))
    }

    /// An amount inside a sentence, with its unit: `389.06 万元`; in English in yuan, `¥3,890,602.43`.
    pub fn money(&self, fen: i64) -> String {
        crate::format::amount_with_unit(fen, self.unit, self.locale)
    }

    /// A refusal's reason in the reader's language.
    pub fn reason(&self, error: &kam_core::ParseError) -> String {
        if self.is_zh() {
            error.reason_zh.clone()
        } else {
            error.reason_en.clone()
        }
    }

    /// A column's header with the unit its amounts are in: 贡献（万元）, Contribution (CNY 10k).
    pub fn with_unit(&self, key: &str) -> String {
        match self.locale {
            Locale::ZhCn => format!("{}（{}）", self.get(key), self.unit_label()),
            Locale::En => format!("{} ({})", self.get(key), self.unit_label()),
        }
    }

    /// The unit for a column's header: 万元 / CNY 10k.
    pub fn unit_label(&self) -> &'static str {
        match self.locale {
            Locale::ZhCn => self.unit.zh(),
            Locale::En => self.unit.en(),
        }
    }

    /// The message `key`.
    pub fn get(&self, key: &str) -> String {
        self.i18n.message(self.locale, key, None)
    }

    /// The message `key` with named arguments.
    pub fn with(&self, key: &str, args: &[(&str, FluentValue<'_>)]) -> String {
        let mut fluent_args = FluentArgs::new();
        for (name, value) in args {
            fluent_args.set(*name, value.clone());
        }
        self.i18n.message(self.locale, key, Some(&fluent_args))
    }

    /// A code's label (`role-relationship_manager`, `tier-3`…): `prefix-code`, or the code.
    /// A name the rules define in both languages: the English one in the English interface when
    /// it has one, else the Chinese.
    pub fn pick(&self, zh: &str, en: Option<&str>) -> String {
        match en.filter(|en| !en.is_empty()) {
            Some(en) if !self.is_zh() => en.to_owned(),
            _ => zh.to_owned(),
        }
    }

    pub fn code(&self, prefix: &str, code: &str) -> String {
        let key = format!("{prefix}-{code}");
        let text = self.get(&key);
        if text == key { code.to_owned() } else { text }
    }

    pub fn is_zh(&self) -> bool {
        self.locale == Locale::ZhCn
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn keys(source: &str) -> BTreeSet<String> {
        source
            .lines()
            .filter(|line| line.chars().next().is_some_and(|c| c.is_ascii_alphabetic()))
            .filter_map(|line| line.split_once('=').map(|(key, _)| key.trim().to_owned()))
            .collect()
    }

    #[test]
    fn both_languages_have_the_same_messages() {
        let zh = keys(ZH_CN_FTL);
        let en = keys(EN_FTL);
        assert!(zh.len() > 50, "only {} messages", zh.len());
        let only_zh: Vec<_> = zh.difference(&en).collect();
        let only_en: Vec<_> = en.difference(&zh).collect();
        assert!(
            only_zh.is_empty() && only_en.is_empty(),
            "zh only {only_zh:?}, en only {only_en:?}"
        );
    }

    #[test]
    fn messages_format_without_isolation_marks() {
        let i18n = I18n::load();
        let tr = Tr::new(&i18n, Locale::En);
        let text = tr.with("customers-count", &[("count", FluentValue::from(3))]);
        assert!(text.contains('3') && !text.contains('\u{2068}'), "{text}");
        assert_eq!(Tr::new(&i18n, Locale::ZhCn).get("nav-customers"), "客户");
    }

    #[test]
    fn accept_language_picks_the_first_known() {
        assert_eq!(
            Locale::from_accept_language("en-US,en;q=0.9,zh;q=0.8"),
            Locale::En
        );
        assert_eq!(
            Locale::from_accept_language("zh-CN,zh;q=0.9,en;q=0.8"),
            Locale::ZhCn
        );
        assert_eq!(Locale::from_accept_language("fr-FR"), Locale::ZhCn);
    }
}

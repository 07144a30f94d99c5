//! Layered settings: defaults → `kam.toml` → `KAM_…` environment (`__` for nesting) → flags.
//! One typed struct, passed explicitly; the database URL's password never shows in `Debug`.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use figment::{
    Figment,
    providers::{Env, Format, Serialized, Toml},
};
use kam_store::DatabaseUrl;
use kam_synth::Scale;
use serde::{Deserialize, Serialize};

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Holds `kam.db` (SQLite) and `facts/` unless `database` / `facts` say otherwise.
    pub data_dir: PathBuf,
    /// `postgres://…` for a server; empty for the SQLite file in `data_dir`.
    pub database: Option<String>,
    /// Where the Parquet facts live; defaults to `<data_dir>/facts`.
    pub facts: Option<PathBuf>,
    /// Minimum password length (the policy also wants three character classes).
    pub password_min_length: usize,
    /// The bank's time zone as a UTC offset (`+08:00`): the date of every "today".
    pub time_zone: String,
    /// The classification rules file (docs/rules.md) the batch, the board and the pages use;
    /// unset: the built-in rules. `--rules` on a command overrides it.
    pub rules: Option<PathBuf>,
    /// `kam nightly`'s inbox: one folder per business day (`YYYYMMDD/`); `--inbox` overrides it.
    pub inbox: Option<PathBuf>,
    /// The mapping file (docs/mapping.md) `kam nightly` imports with; unset: kam's own format.
    pub mapping: Option<PathBuf>,
    pub demo: DemoSettings,
    pub web: WebSettings,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebSettings {
    /// Where `kam serve` listens.
    pub bind: String,
    /// A session unused this long ends.
    pub idle_timeout_minutes: u64,
    /// A session ends this long after sign-in.
    pub absolute_timeout_hours: u64,
    /// PEM certificate chain and private key: with both, `kam serve` speaks HTTPS only.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// The unit of amounts on the pages: yuan, wan (万元) or yi (亿元).
    pub amount_unit: String,
    /// The largest upload of a day's files on the nights page, in MB.
    pub upload_limit_mb: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoSettings {
    pub scale: String,
    pub seed: u64,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("data_dir", &self.data_dir)
            .field(
                "database",
                &self
                    .database
                    .as_deref()
                    .map(DatabaseUrl::parse)
                    .map(|u| u.map(|u| u.to_string())),
            )
            .field("facts", &self.facts)
            .field("password_min_length", &self.password_min_length)
            .field("time_zone", &self.time_zone)
            .field("rules", &self.rules)
            .field("inbox", &self.inbox)
            .field("mapping", &self.mapping)
            .field("demo", &self.demo)
            .field("web", &self.web)
            .finish()
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("kam-data"),
            database: None,
            facts: None,
            password_min_length: 10,
            time_zone: "+08:00".into(),
            rules: None,
            inbox: None,
            mapping: None,
            demo: DemoSettings {
                scale: "demo".into(),
                seed: 20_261_129,
            },
            web: WebSettings {
                bind: "127.0.0.1:8080".into(),
                idle_timeout_minutes: 30,
                absolute_timeout_hours: 12,
                tls_cert: None,
                tls_key: None,
                amount_unit: "wan".into(),
                upload_limit_mb: 2048,
            },
        }
    }
}

/// Flag values that override everything else (only those given on the command line).
#[derive(Debug, Default, Serialize)]
pub struct FlagOverrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facts: Option<PathBuf>,
}

/// Environment variables with the KAM_ prefix that belong to the test harness and the benchmark
/// scripts, not to settings.
const NOT_SETTINGS: &[&str] = &[
    "require_postgres",
    "require_browser",
    "require_distributed",
    "require_real_data",
    "real_data",
    "pg_bin",
    "log",
    "report_peak_rss",
    "bench_dir",
    "peers_venv",
    "bench_seconds",
    "bench_user",
    "bin",
];

impl Settings {
    pub fn load(config_file: Option<&Path>, flags: &FlagOverrides) -> anyhow::Result<Self> {
        let file = config_file
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("kam.toml"));
        if config_file.is_some() && !file.exists() {
            bail!("配置文件不存在 / config file not found: {}", file.display());
        }
        let settings: Settings = Figment::from(Serialized::defaults(Settings::default()))
            .merge(Toml::file(&file))
            .merge(Env::prefixed("KAM_").split("__").ignore(NOT_SETTINGS))
            .merge(Serialized::defaults(flags))
            .extract()
            .with_context(|| {
                format!(
                    "配置无效 / invalid settings (defaults → {} → KAM_* → flags)",
                    file.display()
                )
            })?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> anyhow::Result<()> {
        if let Some(url) = &self.database {
            DatabaseUrl::parse(url).map_err(|e| anyhow::anyhow!("设置项 database：{e}"))?;
        }
        self.demo_scale()?;
        if !(8..=128).contains(&self.password_min_length) {
            bail!(
                "设置项 password_min_length：取值 {} 无效，应为 8 到 128（password_min_length must be 8–128）",
                self.password_min_length
            );
        }
        if !(1..=480).contains(&self.web.idle_timeout_minutes)
            || !(1..=72).contains(&self.web.absolute_timeout_hours)
        {
            bail!(
                "设置项 web：idle_timeout_minutes 应为 1–480，absolute_timeout_hours 应为 1–72（web.idle_timeout_minutes must be 1–480, web.absolute_timeout_hours 1–72)"
            );
        }
        self.zone()?;
        self.amount_unit()?;
        if self.web.tls_cert.is_some() != self.web.tls_key.is_some() {
            bail!(
                "设置项 web.tls_cert 与 web.tls_key 须同时设置（web.tls_cert and web.tls_key go together)"
            );
        }
        Ok(())
    }

    /// The unit the pages write amounts in.
    pub fn amount_unit(&self) -> anyhow::Result<kam_core::money::AmountUnit> {
        kam_core::money::AmountUnit::parse(&self.web.amount_unit)
            .map_err(|e| anyhow::anyhow!("设置项 web.amount_unit：{e}"))
    }

    /// The bank's time zone.
    pub fn zone(&self) -> anyhow::Result<kam_core::clock::BankZone> {
        kam_core::clock::BankZone::parse(&self.time_zone)
            .map_err(|e| anyhow::anyhow!("设置项 time_zone：{e}"))
    }

    /// Today in the bank's time zone.
    pub fn today(&self) -> anyhow::Result<chrono::NaiveDate> {
        Ok(self.zone()?.date_of(chrono::Utc::now()))
    }

    pub fn demo_scale(&self) -> anyhow::Result<Scale> {
        Scale::parse(&self.demo.scale).map_err(|e| anyhow::anyhow!("设置项 demo.scale：{e}"))
    }

    fn is_postgres(&self) -> bool {
        self.database
            .as_deref()
            .is_some_and(|u| u.starts_with("postgres"))
    }

    pub fn database_url(&self) -> anyhow::Result<DatabaseUrl> {
        match &self.database {
            Some(url) => Ok(DatabaseUrl::parse(url)?),
            None => Ok(DatabaseUrl::sqlite_file(self.data_dir.join("kam.db"))),
        }
    }

    /// Where the Parquet facts are. With PostgreSQL they cannot be assumed to sit next to the
    /// database, so a command that reads or writes facts needs `--facts`; one that does not
    /// (`kam migrate`, users, the web) never asks for it.
    pub fn facts_dir(&self) -> anyhow::Result<PathBuf> {
        match &self.facts {
            Some(facts) => Ok(facts.clone()),
            None if self.is_postgres() => bail!(
                "使用 PostgreSQL 时，读写事实数据的命令须用 --facts 指定事实数据目录（with --database postgres://… a command that reads or writes facts needs --facts DIR)"
            ),
            None => Ok(self.data_dir.join("facts")),
        }
    }
}

/// The commented example printed by `kam config default`.
pub const EXAMPLE: &str = r#"# kam.toml — kam 的配置文件 / kam's settings file.
# Order of precedence: built-in defaults < this file < KAM_* environment variables < command-line flags.
# Environment variables use "__" for nesting, e.g. KAM_DEMO__SCALE=small.

# Data directory: holds the SQLite file kam.db and the Parquet facts (facts/).
# 数据目录：包含 SQLite 数据库文件 kam.db 与 Parquet 事实数据 facts/。
data_dir = "kam-data"

# PostgreSQL for a multi-user deployment (then also set `facts`). Leave unset for SQLite.
# 生产部署可使用 PostgreSQL（此时须同时设置 facts）。不设置则使用 SQLite。
# database = "postgres://kam:password@db.example.internal:5432/kam"
# facts = "/srv/kam/facts"

# Password policy: minimum length (plus three of: upper, lower, digits, symbols).
# 密码策略：最小长度（且须包含大写、小写、数字、符号中的三类）。
password_min_length = 10

# The bank's time zone as a UTC offset: the date of every "today" (scopes, lists, scores).
# 银行所在时区（UTC 偏移）：所有“今天”均按此计算。
time_zone = "+08:00"

# The classification rules (tiers, board, alerts; docs/rules.md) for the batch and the pages.
# Unset: the built-in rules. 分类规则文件（层级、评分表、预警；见 docs/rules.md），不设置则使用内置规则。
# rules = "/etc/kam/rules.toml"

# `kam nightly`: the inbox of the bank's daily folders (YYYYMMDD/) and the mapping it imports with
# (docs/mapping.md; unset: kam's own format). 夜间作业：每日文件夹所在的收件目录，以及导入所用的映射文件。
# inbox = "/srv/kam/inbox"
# mapping = "/etc/kam/bank.toml"

[demo]
# Size of the synthetic bank: tiny, small, demo, large, huge. 合成银行规模。
scale = "demo"
# Same seed, same bank, byte for byte. 相同种子生成完全相同的数据。
seed = 20261129

[web]
# Where `kam serve` listens. 网页服务监听地址。
bind = "127.0.0.1:8080"
# Sessions end after this long unused, and this long after sign-in. 会话空闲超时与绝对超时。
idle_timeout_minutes = 30
absolute_timeout_hours = 12
# HTTPS from certificate files (PEM); with both set, cookies are Secure and HSTS is sent.
# 证书与私钥（PEM 格式）；两者都设置时以 HTTPS 提供服务。
# tls_cert = "/etc/kam/tls/fullchain.pem"
# tls_key = "/etc/kam/tls/key.pem"
# The unit of amounts on the pages, one per column, named in the header: yuan, wan (万元), yi (亿元).
# 页面金额单位（每列一个单位，列标题注明）：yuan 元、wan 万元、yi 亿元。
amount_unit = "wan"
# The largest upload of a day's files on the nights page (administration), in MB; larger days
# go into the inbox by file transfer. 夜间作业页面单次上传上限（MB）。
upload_limit_mb = 2048
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_printed_example_is_a_valid_settings_file() {
        let parsed: Settings = Figment::from(Serialized::defaults(Settings::default()))
            .merge(Toml::string(EXAMPLE))
            .extract()
            .unwrap();
        parsed.validate().unwrap();
        assert_eq!(parsed.demo.scale, "demo");
    }

    #[test]
    fn an_unknown_scale_names_the_key_and_the_accepted_values() {
        let mut settings = Settings::default();
        settings.demo.scale = "gigantic".into();
        let message = settings.validate().unwrap_err().to_string();
        assert!(
            message.contains("demo.scale") && message.contains("tiny, small, demo, large, huge"),
            "{message}"
        );
    }

    #[test]
    fn the_time_zone_is_a_utc_offset_named_when_wrong() {
        let settings = Settings {
            time_zone: "Asia/Shanghai".into(),
            ..Settings::default()
        };
        let message = format!("{:#}", settings.validate().unwrap_err());
        assert!(
            message.contains("time_zone") && message.contains("+08:00"),
            "{message}"
        );
        assert_eq!(
            Settings::default().zone().unwrap(),
            kam_core::clock::BankZone::BEIJING
        );
    }

    #[test]
    fn an_unknown_database_scheme_names_both_accepted_ones() {
        let settings = Settings {
            database: Some("mysql://x".into()),
            ..Settings::default()
        };
        let message = format!("{:#}", settings.validate().unwrap_err());
        assert!(
            message.contains("sqlite://") && message.contains("postgres://"),
            "{message}"
        );
    }

    #[test]
    fn the_database_password_is_redacted_in_debug() {
        let settings = Settings {
            database: Some("postgres://kam:s3cret@db/kam".into()),
            facts: Some("/srv/facts".into()),
            ..Settings::default()
        };
        assert!(!format!("{settings:?}").contains("s3cret"));
    }
}

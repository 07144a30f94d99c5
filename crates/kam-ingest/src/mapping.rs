//! Mapping files (TOML): how one bank's files fit kam's extract kinds — encoding, delimiter,
//! quoting, header, rows to skip, column renames, constants, date format, amount unit, code lists,
//! default currency — checked completely before a single row is read.

use std::{collections::BTreeMap, path::Path};

use chrono::format::{Item, StrftimeItems};
use encoding_rs::Encoding;
use kam_core::money::Currency;
use serde::Deserialize;

use crate::{
    kind::ExtractKind,
    value::{AmountFormat, AmountUnit, DateFormat},
};

/// A mapping file that cannot be used, with where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("映射文件 {file}：{zh}（{en}）")]
pub struct MappingError {
    pub file: String,
    pub en: String,
    pub zh: String,
}

/// Field names that would hold authentication data; kam never stores them.
const FORBIDDEN_WORDS: &[&str] = &[
    "password",
    "passwd",
    "pin",
    "cvv",
    "cvc",
    "cvn",
    "track",
    "expiry",
    "expiration",
    "密码",
];

/// True for a column or field name that looks like authentication data.
pub fn looks_like_authentication_data(name: &str) -> bool {
    let lower = name.to_lowercase();
    lower
        .split(|c: char| !c.is_alphanumeric())
        .any(|word| FORBIDDEN_WORDS.contains(&word))
        || lower.contains("密码")
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct FormatFile {
    encoding: Option<String>,
    delimiter: Option<String>,
    quote: Option<String>,
    header: Option<bool>,
    skip_rows: Option<usize>,
    date_format: Option<String>,
    century_pivot: Option<u32>,
    amount_unit: Option<String>,
    /// The thousands separator amounts may be grouped with (`","`); without it none is accepted.
    thousands: Option<String>,
    currency: Option<String>,
    /// `reject` (default) or `warn`: what a resident ID number failing its check digit does.
    id_number_check: Option<String>,
    /// `reject` (default) or `hold`: what a fact row naming an undefined customer or account does.
    unknown_reference: Option<String>,
    /// With `hold`: business days a held row waits for its master data before it is rejected.
    hold_days: Option<u32>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum ColumnFile {
    Name(String),
    Position(usize),
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct KindFile {
    /// Glob-like file name pattern (`*` wildcard) that selects this kind's files in a directory.
    files: Option<String>,
    /// The kind as a SQL query over the mapping's source tables (SQL staging); its line in the
    /// mapping file is kept for the messages of a query that fails.
    sql: Option<toml::Spanned<String>>,
    #[serde(flatten)]
    format: FormatFile,
    #[serde(default)]
    columns: BTreeMap<String, ColumnFile>,
    #[serde(default)]
    constants: BTreeMap<String, String>,
    #[serde(default)]
    codes: BTreeMap<String, BTreeMap<String, String>>,
    /// Transactions only: the amount carries the direction in its sign (negative = debit).
    #[serde(default)]
    signed_amount: bool,
}

/// A bank's raw file as a table of SQL staging: its own layout, and the columns read as dates.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceFile {
    files: Option<String>,
    #[serde(flatten)]
    format: FormatFile,
    /// Column names when the file has no header row.
    #[serde(default)]
    names: Vec<String>,
    /// Columns holding dates in the source's date format: each becomes `YYYY-MM-DD` text, and a
    /// value that is not a date rejects its row.
    #[serde(default)]
    dates: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingFile {
    version: u32,
    #[serde(default)]
    defaults: FormatFile,
    #[serde(default)]
    sources: BTreeMap<String, SourceFile>,
    #[serde(default)]
    kinds: BTreeMap<String, KindFile>,
}

/// Where a field's value comes from in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Column {
    /// A header name.
    Named(String),
    /// A 1-based position (files without a header row).
    Position(usize),
}

/// One kind's complete, checked mapping.
#[derive(Debug, Clone)]
pub struct KindMapping {
    pub kind: ExtractKind,
    pub files: String,
    pub encoding: &'static Encoding,
    pub delimiter: u8,
    pub quote: Option<u8>,
    pub header: bool,
    pub skip_rows: usize,
    pub dates: DateFormat,
    pub amounts: AmountFormat,
    pub currency: Currency,
    /// field → column; fields absent here are read from a same-named header column.
    pub columns: BTreeMap<&'static str, Column>,
    pub constants: BTreeMap<&'static str, String>,
    /// field → (bank code → kam code).
    pub codes: BTreeMap<&'static str, BTreeMap<String, String>>,
    pub signed_amount: bool,
    pub id_number_check: IdNumberCheck,
    /// The business date of the file being read (from its name, or `--business-date`): a fact
    /// row of another date is rejected. Set per file by the import and the check, never by the
    /// mapping file.
    pub business_date: Option<chrono::NaiveDate>,
    /// Set when the kind is a SQL query over source tables: its files are the query's results.
    pub sql: Option<SqlQuery>,
    /// A fact kind's rows naming an undefined customer or account are held (for up to this many
    /// business days) instead of rejected: master data may arrive a night later.
    pub hold_days: Option<u32>,
}

/// How long a held row waits for its master data unless the mapping says (`hold_days`).
pub const DEFAULT_HOLD_DAYS: u32 = 7;

/// A kind's SQL query, with the line of the mapping file it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlQuery {
    pub text: String,
    pub line: usize,
}

/// How a delimited file is split and its dates written: a kind's file or a source table.
#[derive(Debug, Clone, Copy)]
pub struct Layout<'a> {
    pub encoding: &'static Encoding,
    pub delimiter: u8,
    pub quote: Option<u8>,
    pub header: bool,
    pub skip_rows: usize,
    pub dates: &'a DateFormat,
}

impl KindMapping {
    pub fn layout(&self) -> Layout<'_> {
        Layout {
            encoding: self.encoding,
            delimiter: self.delimiter,
            quote: self.quote,
            header: self.header,
            skip_rows: self.skip_rows,
            dates: &self.dates,
        }
    }
}

/// A source table of SQL staging: a bank's raw file (`account.csv`, `disp.csv`, …) read with its
/// own layout into a table the kinds' queries name; every cell text, dates made `YYYY-MM-DD`, and
/// two more columns, `_file` and `_line`, saying where each row came from.
#[derive(Debug, Clone)]
pub struct SourceMapping {
    /// The table's name in the queries.
    pub name: String,
    pub files: String,
    pub encoding: &'static Encoding,
    pub delimiter: u8,
    pub quote: Option<u8>,
    pub header: bool,
    pub skip_rows: usize,
    pub dates: DateFormat,
    /// Column names of a file without a header row.
    pub names: Vec<String>,
    pub date_columns: Vec<String>,
}

impl SourceMapping {
    pub fn layout(&self) -> Layout<'_> {
        Layout {
            encoding: self.encoding,
            delimiter: self.delimiter,
            quote: self.quote,
            header: self.header,
            skip_rows: self.skip_rows,
            dates: &self.dates,
        }
    }
}

/// What a resident ID number that fails the GB 11643 check does to its row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdNumberCheck {
    /// The row is rejected (the default).
    Reject,
    /// The row loads without the ID number, and a warning says where it was.
    Warn,
}

/// A whole mapping file: one `KindMapping` per kind it describes.
#[derive(Debug, Clone)]
pub struct Mapping {
    pub source: String,
    /// Source tables of SQL staging, by name.
    pub sources: BTreeMap<String, SourceMapping>,
    pub kinds: BTreeMap<ExtractKind, KindMapping>,
}

impl Mapping {
    pub fn from_path(path: &Path) -> Result<Self, MappingError> {
        let text = std::fs::read_to_string(path).map_err(|e| MappingError {
            file: path.display().to_string(),
            en: format!("cannot read: {e}"),
            zh: format!("无法读取：{e}"),
        })?;
        Self::parse(&path.display().to_string(), &text)
    }

    /// kam's own extract format (docs/extracts.md): every kind, header names = field names.
    pub fn kam_default() -> Self {
        let mut text = String::from("version = 1\n");
        for kind in ExtractKind::ALL {
            // Master files may carry a date (`customers_20261127.csv`) or not (`customers.xlsx`);
            // any extension, so workbooks and CSV alike (control files are never offered).
            let pattern = if kind.is_fact() {
                format!("{kind}_*")
            } else {
                format!("{kind}*")
            };
            text.push_str(&format!("[kinds.{kind}]\nfiles = \"{pattern}\"\n"));
        }
        Self::parse("(kam default)", &text).expect("the built-in mapping is valid")
    }

    pub fn parse(source: &str, text: &str) -> Result<Self, MappingError> {
        let error = |en: String, zh: String| MappingError {
            file: source.to_owned(),
            en,
            zh,
        };
        let file: MappingFile = toml::from_str(text)
            .map_err(|e| error(e.to_string(), format!("TOML 格式或键名错误：{e}")))?;
        if file.version != 1 {
            return Err(error(
                format!(
                    "version {} is not supported; this kam reads version 1",
                    file.version
                ),
                format!("不支持版本 {}，本程序读取版本 1", file.version),
            ));
        }
        let mut sources = BTreeMap::new();
        for (name, source_file) in &file.sources {
            let source =
                resolve_source(name, &file.defaults, source_file).map_err(|(en, zh)| {
                    error(
                        format!("[sources.{name}] {en}"),
                        format!("[sources.{name}] {zh}"),
                    )
                })?;
            sources.insert(name.clone(), source);
        }
        let mut kinds = BTreeMap::new();
        for (name, kind_file) in &file.kinds {
            let kind = ExtractKind::parse(name).map_err(|e| {
                error(
                    format!("[kinds.{name}]: {}", e.reason_en),
                    format!("[kinds.{name}]：{}", e.reason_zh),
                )
            })?;
            let mut mapping = resolve(kind, &file.defaults, kind_file).map_err(|(en, zh)| {
                error(
                    format!("[kinds.{name}] {en}"),
                    format!("[kinds.{name}] {zh}"),
                )
            })?;
            if let Some(sql) = &kind_file.sql {
                mapping.sql = Some(sql_kind(kind_file, sql, text, &sources).map_err(
                    |(en, zh)| {
                        error(
                            format!("[kinds.{name}] {en}"),
                            format!("[kinds.{name}] {zh}"),
                        )
                    },
                )?);
                // The query's results are what is read: named by the staging, dates ISO.
                mapping.files = format!("{kind}.sql_*.parquet");
                mapping.header = true;
                mapping.skip_rows = 0;
                mapping.dates.pattern = "%Y-%m-%d".into();
            }
            kinds.insert(kind, mapping);
        }
        if kinds.is_empty() {
            return Err(error(
                "the mapping describes no kind ([kinds.<kind>])".into(),
                "映射文件未描述任何数据类型（[kinds.<类型>]）".into(),
            ));
        }
        Ok(Self {
            source: source.to_owned(),
            sources,
            kinds,
        })
    }

    /// The kind whose file pattern matches `file_name`, if exactly one does. A kind defined by
    /// SQL matches only its staged results.
    pub fn kind_for(&self, file_name: &str) -> Option<&KindMapping> {
        self.kinds
            .values()
            .find(|k| glob_match(&k.files, file_name))
    }

    /// The source table whose file pattern matches `file_name`.
    pub fn source_for(&self, file_name: &str) -> Option<&SourceMapping> {
        self.sources
            .values()
            .find(|s| glob_match(&s.files, file_name))
    }

    /// The kinds defined as SQL queries over the source tables, in import order.
    pub fn sql_kinds(&self) -> impl Iterator<Item = &KindMapping> {
        self.kinds.values().filter(|k| k.sql.is_some())
    }
}

/// Checks a kind's `sql` key: no column map beside it (the query's column names are the fields),
/// no file pattern (its files are the query's results), at least one source table to query.
fn sql_kind(
    file: &KindFile,
    sql: &toml::Spanned<String>,
    text: &str,
    sources: &BTreeMap<String, SourceMapping>,
) -> Result<SqlQuery, Problem> {
    if !file.columns.is_empty() {
        return Err((
            "sql and columns exclude each other: name each field in the query (… as cif_no)".into(),
            "sql 与 columns 不能同时使用：请在查询中为每个字段命名（… as cif_no）".into(),
        ));
    }
    if file.files.is_some() {
        return Err((
            "sql and files exclude each other: the query reads the source tables ([sources.<name>])".into(),
            "sql 与 files 不能同时使用：查询读取的是源表（[sources.<名称>]）".into(),
        ));
    }
    if sources.is_empty() {
        return Err((
            "sql needs source tables: declare the bank's files as [sources.<name>]".into(),
            "sql 需要源表：请以 [sources.<名称>] 声明银行的原始文件".into(),
        ));
    }
    if sql.get_ref().trim().is_empty() {
        return Err(("sql is empty".into(), "sql 为空".into()));
    }
    // The query text starts after the key's opening quotes; its first line is the key's line
    // unless the value opens with a line break (a `"""` string).
    let start = sql.span().start;
    let mut line = text[..start.min(text.len())].matches('\n').count() + 1;
    let value = &text[start.min(text.len())..];
    if value.starts_with("\"\"\"\n") || value.starts_with("'''\n") {
        line += 1;
    }
    Ok(SqlQuery {
        text: sql.get_ref().clone(),
        line,
    })
}

/// A table name a query can use unquoted.
fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn resolve_source(
    name: &str,
    defaults: &FormatFile,
    file: &SourceFile,
) -> Result<SourceMapping, Problem> {
    if name == crate::stage::RUN_TABLE {
        return Err((
            format!(
                "{name} is kam's table of the run (its business date); name the source otherwise"
            ),
            format!("{name} 是 kam 的运行表（业务日期），请另取源表名称"),
        ));
    }
    if !is_identifier(name) {
        return Err((
            "a source table's name is lower-case letters, digits and _ (it is a table name in SQL)"
                .into(),
            "源表名称只能由小写字母、数字和 _ 组成（它是 SQL 中的表名）".into(),
        ));
    }
    let format = &file.format;
    let layout = resolve_layout(format, defaults)?;
    let header = format.header.or(defaults.header).unwrap_or(true);
    if !header && file.names.is_empty() {
        return Err((
            "header = false: name the columns with names = [\"…\", …]".into(),
            "header = false：请用 names = [\"…\", …] 为各列命名".into(),
        ));
    }
    if header && !file.names.is_empty() {
        return Err((
            "names is for files without a header row (header = false)".into(),
            "names 仅用于没有表头的文件（header = false）".into(),
        ));
    }
    for column in file.names.iter().chain(&file.dates) {
        if column.starts_with('_') {
            return Err((
                format!("column {column}: names starting with _ are kam's (_file, _line)"),
                format!("列 {column}：以 _ 开头的名称由 kam 使用（_file、_line）"),
            ));
        }
    }
    Ok(SourceMapping {
        name: name.to_owned(),
        files: file.files.clone().unwrap_or_else(|| format!("{name}*")),
        encoding: layout.0,
        delimiter: layout.1,
        quote: layout.2,
        header,
        skip_rows: format.skip_rows.or(defaults.skip_rows).unwrap_or(0),
        dates: layout.3,
        names: file.names.clone(),
        date_columns: file.dates.clone(),
    })
}

/// Encoding, delimiter, quote and date format, from a section or the defaults.
fn resolve_layout(
    format: &FormatFile,
    defaults: &FormatFile,
) -> Result<(&'static Encoding, u8, Option<u8>, DateFormat), Problem> {
    let encoding_name = pick(format, defaults, |f| f.encoding.as_ref())
        .map(String::as_str)
        .unwrap_or("utf-8");
    let encoding = match encoding_name.to_ascii_lowercase().as_str() {
        "utf-8" | "utf8" => encoding_rs::UTF_8,
        "gbk" | "cp936" => encoding_rs::GBK,
        "gb18030" => encoding_rs::GB18030,
        other => {
            return Err((
                format!("encoding = \"{other}\": accepted are utf-8, gbk, gb18030"),
                format!("encoding = \"{other}\"：可接受 utf-8、gbk、gb18030"),
            ));
        }
    };
    let delimiter = parse_byte(
        "delimiter",
        pick(format, defaults, |f| f.delimiter.as_ref())
            .map(String::as_str)
            .unwrap_or(","),
    )?;
    let quote = match pick(format, defaults, |f| f.quote.as_ref())
        .map(String::as_str)
        .unwrap_or("\"")
    {
        "none" | "" => None,
        text => Some(parse_byte("quote", text)?),
    };
    let pattern = pick(format, defaults, |f| f.date_format.as_ref())
        .cloned()
        .unwrap_or_else(|| "%Y-%m-%d".into());
    if StrftimeItems::new(&pattern).any(|item| matches!(item, Item::Error)) {
        return Err((
            format!("date_format = \"{pattern}\" is not a valid strftime pattern"),
            format!("date_format = \"{pattern}\" 不是有效的 strftime 格式"),
        ));
    }
    let century_pivot = format
        .century_pivot
        .or(defaults.century_pivot)
        .unwrap_or(50);
    if century_pivot > 99 {
        return Err((
            "century_pivot must be 0–99".into(),
            "century_pivot 应为 0–99".into(),
        ));
    }
    Ok((
        encoding,
        delimiter,
        quote,
        DateFormat {
            pattern,
            century_pivot,
        },
    ))
}

type Problem = (String, String);

fn pick<'a>(
    kind: &'a FormatFile,
    defaults: &'a FormatFile,
    get: impl Fn(&FormatFile) -> Option<&String>,
) -> Option<&'a String> {
    get(kind).or_else(|| get(defaults))
}

fn resolve(
    kind: ExtractKind,
    defaults: &FormatFile,
    file: &KindFile,
) -> Result<KindMapping, Problem> {
    let format = &file.format;
    let (encoding, delimiter, quote, dates) = resolve_layout(format, defaults)?;
    let amount_unit = match pick(format, defaults, |f| f.amount_unit.as_ref())
        .map(String::as_str)
        .unwrap_or("yuan")
    {
        "yuan" => AmountUnit::Yuan,
        "fen" => AmountUnit::Fen,
        other => {
            return Err((
                format!("amount_unit = \"{other}\": accepted are yuan, fen"),
                format!("amount_unit = \"{other}\"：可接受 yuan、fen"),
            ));
        }
    };
    let thousands = match pick(format, defaults, |f| f.thousands.as_ref()).map(String::as_str) {
        None | Some("") => None,
        Some(text @ ("," | "'" | " " | "_")) => text.chars().next(),
        Some(other) => {
            return Err((
                format!("thousands = \"{other}\": accepted are \",\", \"'\", \" \", \"_\""),
                format!("thousands = \"{other}\"：可接受 \",\"、\"'\"、\" \"、\"_\""),
            ));
        }
    };
    if delimiter == b',' && thousands == Some(',') && quote.is_none() {
        return Err((
            "thousands = \",\" with delimiter \",\" needs quoting (quote must not be \"none\")"
                .into(),
            "thousands = \",\" 与分隔符 \",\" 同时使用时须启用引号（quote 不能为 \"none\"）".into(),
        ));
    }
    let currency_text = pick(format, defaults, |f| f.currency.as_ref())
        .map(String::as_str)
        .unwrap_or("CNY");
    let currency = Currency::parse(currency_text).map_err(|e| {
        (
            format!("currency: {}", e.reason_en),
            format!("currency：{}", e.reason_zh),
        )
    })?;

    let id_number_check = match pick(format, defaults, |f| f.id_number_check.as_ref())
        .map(String::as_str)
        .unwrap_or("reject")
    {
        "reject" => IdNumberCheck::Reject,
        "warn" => IdNumberCheck::Warn,
        other => {
            return Err((
                format!("id_number_check = \"{other}\": accepted are reject, warn"),
                format!("id_number_check = \"{other}\"：可接受 reject、warn"),
            ));
        }
    };

    let hold = match pick(format, defaults, |f| f.unknown_reference.as_ref()).map(String::as_str) {
        None | Some("reject") => false,
        Some("hold") => true,
        Some(other) => {
            return Err((
                format!("unknown_reference = \"{other}\": accepted are reject, hold"),
                format!("unknown_reference = \"{other}\"：可接受 reject、hold"),
            ));
        }
    };
    if format.unknown_reference.as_deref() == Some("hold") && !kind.is_fact() {
        return Err((
            "unknown_reference = \"hold\" applies to fact kinds (balances, transactions, loans, fees); master data is merged as it comes".into(),
            "unknown_reference = \"hold\" 仅适用于事实数据（余额、交易、贷款、手续费）；主数据按到达顺序合并".into(),
        ));
    }
    let hold_days = format.hold_days.or(defaults.hold_days);
    if hold_days.is_some() && !hold {
        return Err((
            "hold_days needs unknown_reference = \"hold\"".into(),
            "hold_days 需与 unknown_reference = \"hold\" 同时使用".into(),
        ));
    }
    if hold_days.is_some_and(|d| !(1..=90).contains(&d)) {
        return Err((
            "hold_days must be 1–90".into(),
            "hold_days 应为 1–90".into(),
        ));
    }
    let hold_days = (hold && kind.is_fact()).then(|| hold_days.unwrap_or(DEFAULT_HOLD_DAYS));
    let field_of = |name: &str, table: &str| -> Result<&'static str, Problem> {
        if looks_like_authentication_data(name) {
            return Err((
                format!(
                    "{table}.{name}: authentication data (passwords, PINs, card security codes, track data, expiry) is never stored"
                ),
                format!(
                    "{table}.{name}：认证数据（密码、PIN、卡安全码、磁道数据、有效期）一律不保存"
                ),
            ));
        }
        kind.field(name).map(|f| f.name).ok_or_else(|| {
            let valid: Vec<&str> = kind.fields().iter().map(|f| f.name).collect();
            (
                format!(
                    "{table}.{name}: unknown field of {kind}; valid fields: {}",
                    valid.join(", ")
                ),
                format!(
                    "{table}.{name}：{kind} 没有此字段；有效字段：{}",
                    valid.join(", ")
                ),
            )
        })
    };
    let mut columns = BTreeMap::new();
    for (name, column) in &file.columns {
        let field = field_of(name, "columns")?;
        let column = match column {
            ColumnFile::Name(header) => Column::Named(header.clone()),
            ColumnFile::Position(0) => {
                return Err((
                    format!("columns.{name}: positions start at 1"),
                    format!("columns.{name}：列位置从 1 开始"),
                ));
            }
            ColumnFile::Position(position) => Column::Position(*position),
        };
        columns.insert(field, column);
    }
    let mut constants = BTreeMap::new();
    for (name, value) in &file.constants {
        constants.insert(field_of(name, "constants")?, value.clone());
    }
    let mut codes = BTreeMap::new();
    for (name, table) in &file.codes {
        codes.insert(field_of(name, "codes")?, table.clone());
    }
    let header = format.header.or(defaults.header).unwrap_or(true);
    if !header && file.sql.is_none() {
        // `currency` falls back to the default currency, `direction` to the sign of a signed amount.
        let implied =
            |name: &str| name == "currency" || (name == "direction" && file.signed_amount);
        for field in kind
            .fields()
            .iter()
            .filter(|f| f.required && !implied(f.name))
        {
            if !columns.contains_key(field.name) && !constants.contains_key(field.name) {
                return Err((
                    format!(
                        "header = false: the required field {} needs a column position or a constant",
                        field.name
                    ),
                    format!(
                        "header = false：必填字段 {} 需要指定列位置或常量",
                        field.name
                    ),
                ));
            }
        }
    }
    if file.signed_amount && kind != ExtractKind::Transactions {
        return Err((
            "signed_amount applies to transactions only".into(),
            "signed_amount 仅适用于交易流水".into(),
        ));
    }
    Ok(KindMapping {
        kind,
        files: file.files.clone().unwrap_or_else(|| format!("{kind}*")),
        encoding,
        delimiter,
        quote,
        header,
        skip_rows: format.skip_rows.or(defaults.skip_rows).unwrap_or(0),
        dates,
        amounts: AmountFormat {
            unit: amount_unit,
            thousands,
        },
        currency,
        columns,
        constants,
        codes,
        signed_amount: file.signed_amount,
        id_number_check,
        business_date: None,
        sql: None,
        hold_days,
    })
}

/// A one-byte delimiter or quote: a character, `tab`, or an escape such as `\x01` or `\t`.
fn parse_byte(key: &str, text: &str) -> Result<u8, Problem> {
    let byte = match text {
        "tab" | "\\t" | "\t" => Some(b'\t'),
        _ if text.starts_with("\\x") && text.len() == 4 => u8::from_str_radix(&text[2..], 16).ok(),
        _ if text.len() == 1 && text.is_ascii() => Some(text.as_bytes()[0]),
        _ => None,
    };
    byte.ok_or_else(|| {
        (
            format!(
                "{key} = \"{text}\": one ASCII character, \"tab\", or an escape like \"\\x01\""
            ),
            format!("{key} = \"{text}\"：应为一个 ASCII 字符、\"tab\" 或 \"\\x01\" 这样的转义"),
        )
    })
}

/// `*` matches any run of characters; everything else matches itself.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let mut rest = name;
    for (index, part) in parts.iter().enumerate() {
        if index == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if index == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_mapping_covers_every_kind() {
        let mapping = Mapping::kam_default();
        assert_eq!(mapping.kinds.len(), ExtractKind::ALL.len());
        assert_eq!(
            mapping.kind_for("transactions_20261127.csv").unwrap().kind,
            ExtractKind::Transactions
        );
        assert_eq!(
            mapping.kind_for("customers.csv").unwrap().kind,
            ExtractKind::Customers
        );
        assert!(mapping.kind_for("notes.txt").is_none());
    }

    #[test]
    fn an_unknown_field_lists_the_valid_ones() {
        let error = Mapping::parse(
            "m.toml",
            "version = 1\n[kinds.transactions.columns]\namout = \"AMT\"\n",
        )
        .unwrap_err();
        assert!(
            error.en.contains("amout") && error.en.contains("business_date, txn_id"),
            "{error}"
        );
    }

    #[test]
    fn a_mapping_that_targets_authentication_data_is_refused() {
        let error = Mapping::parse(
            "m.toml",
            "version = 1\n[kinds.accounts.columns]\ncard_cvv = \"CVV2\"\n",
        )
        .unwrap_err();
        assert!(error.en.contains("never stored"), "{error}");
    }

    #[test]
    fn a_berka_like_mapping_parses_with_all_its_options() {
        let text = r#"
version = 1
[defaults]
encoding = "gb18030"
delimiter = ";"
date_format = "%y%m%d"
century_pivot = 30
[kinds.transactions]
files = "trans*.asc"
signed_amount = false
amount_unit = "yuan"
currency = "CZK"
[kinds.transactions.columns]
txn_id = "trans_id"
business_date = "date"
direction = "type"
[kinds.transactions.constants]
channel = "counter"
[kinds.transactions.codes.direction]
PRIJEM = "credit"
VYDAJ = "debit"
[kinds.balances]
header = false
delimiter = "\x01"
[kinds.balances.columns]
business_date = 1
account_no = 2
cif_no = 3
currency = 4
balance = 5
"#;
        let mapping = Mapping::parse("berka.toml", text).unwrap();
        let txns = &mapping.kinds[&ExtractKind::Transactions];
        assert_eq!(txns.encoding, encoding_rs::GB18030);
        assert_eq!(txns.delimiter, b';');
        assert_eq!(txns.currency.as_str(), "CZK");
        assert_eq!(txns.codes["direction"]["PRIJEM"], "credit");
        assert_eq!(mapping.kinds[&ExtractKind::Balances].delimiter, 1);
        assert!(glob_match("trans*.asc", "trans_1993.asc"));
    }

    #[test]
    fn bad_options_name_the_key_and_the_accepted_values() {
        let cases = [
            ("encoding = \"latin1\"", "utf-8, gbk, gb18030"),
            ("amount_unit = \"cents\"", "yuan, fen"),
            ("delimiter = \"||\"", "one ASCII character"),
            ("date_format = \"%Q\"", "strftime"),
            ("unknown_reference = \"keep\"", "reject, hold"),
            ("hold_days = 3", "needs unknown_reference"),
            ("unknown_reference = \"hold\"\nhold_days = 0", "1–90"),
        ];
        for (line, expected) in cases {
            let text = format!("version = 1\n[kinds.fees]\n{line}\n");
            let error = Mapping::parse("m.toml", &text).unwrap_err();
            assert!(error.en.contains(expected), "{line}: {error}");
        }
    }

    #[test]
    fn master_data_is_never_held() {
        let error = Mapping::parse(
            "m.toml",
            "version = 1\n[kinds.customers]\nunknown_reference = \"hold\"\n",
        )
        .unwrap_err();
        assert!(error.en.contains("applies to fact kinds"), "{error}");
        // From the defaults it applies to the fact kinds only.
        let mapping = Mapping::parse(
            "m.toml",
            "version = 1\n[defaults]\nunknown_reference = \"hold\"\n[kinds.customers]\n[kinds.fees]\n",
        )
        .unwrap();
        assert_eq!(mapping.kinds[&ExtractKind::Customers].hold_days, None);
        assert_eq!(
            mapping.kinds[&ExtractKind::Fees].hold_days,
            Some(DEFAULT_HOLD_DAYS)
        );
    }

    #[test]
    fn a_headerless_file_needs_positions_for_required_fields() {
        let error =
            Mapping::parse("m.toml", "version = 1\n[kinds.fees]\nheader = false\n").unwrap_err();
        assert!(error.en.contains("business_date"), "{error}");
    }
}

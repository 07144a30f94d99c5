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

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingFile {
    version: u32,
    #[serde(default)]
    defaults: FormatFile,
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
        let mut kinds = BTreeMap::new();
        for (name, kind_file) in &file.kinds {
            let kind = ExtractKind::parse(name).map_err(|e| {
                error(
                    format!("[kinds.{name}]: {}", e.reason_en),
                    format!("[kinds.{name}]：{}", e.reason_zh),
                )
            })?;
            let mapping = resolve(kind, &file.defaults, kind_file).map_err(|(en, zh)| {
                error(
                    format!("[kinds.{name}] {en}"),
                    format!("[kinds.{name}] {zh}"),
                )
            })?;
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
            kinds,
        })
    }

    /// The kind whose file pattern matches `file_name`, if exactly one does.
    pub fn kind_for(&self, file_name: &str) -> Option<&KindMapping> {
        self.kinds
            .values()
            .find(|k| glob_match(&k.files, file_name))
    }
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
    if !header {
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
        dates: DateFormat {
            pattern,
            century_pivot,
        },
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
        ];
        for (line, expected) in cases {
            let text = format!("version = 1\n[kinds.fees]\n{line}\n");
            let error = Mapping::parse("m.toml", &text).unwrap_err();
            assert!(error.en.contains(expected), "{line}: {error}");
        }
    }

    #[test]
    fn a_headerless_file_needs_positions_for_required_fields() {
        let error =
            Mapping::parse("m.toml", "version = 1\n[kinds.fees]\nheader = false\n").unwrap_err();
        assert!(error.en.contains("business_date"), "{error}");
    }
}

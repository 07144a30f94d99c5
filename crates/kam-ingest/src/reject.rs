//! Rejected rows: where (file, line, column, field), what (the value, personal identifiers
//! masked), why (a stable code and a message in zh-CN and en).

use std::{io, path::Path};

use kam_core::code_enum;

code_enum! {
    /// A stable reason code; tools and the interface key their translations on it.
    pub enum RejectCode as "reject_code" {
        Encoding = "encoding",
        FieldCount = "field_count",
        Missing = "missing_value",
        BadDate = "bad_date",
        BadAmount = "bad_amount",
        AmountPrecision = "amount_precision",
        BadNumber = "bad_number",
        BadCode = "bad_code",
        UnknownCode = "unknown_code",
        BadIdNumber = "bad_id_number",
        BadPhone = "bad_phone",
        DuplicateKey = "duplicate_key",
        UnknownReference = "unknown_reference",
        Malformed = "malformed",
        /// A quote opened and never closed: the lines after it were read as one field.
        UnclosedQuote = "unclosed_quote",
        /// Longer than its field allows (codes 64 characters, text 2,000).
        TooLong = "too_long",
        /// A fact row whose business date is not the date of its file.
        DateMismatch = "business_date_mismatch",
        /// A rule of the domain (an individual outside the retail line, a moved org unit).
        Rule = "rule_violation",
    }
}

/// Whether the row stayed out (a reject) or loaded with the problem noted (a warning, e.g. an ID
/// number failing its check digit when the mapping says `id_number_check = "warn"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Reject,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Reject => "reject",
            Severity::Warning => "warning",
        }
    }
}

/// One rejected row (one reason; a row with several bad fields is reported at its first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    pub severity: Severity,
    pub file: String,
    pub line: u64,
    /// The source column (header name or 1-based position), empty for row-level reasons.
    pub column: String,
    pub field: String,
    /// The offending value, masked when it is a personal identifier.
    pub value: String,
    pub code: RejectCode,
    pub message_zh: String,
    pub message_en: String,
}

/// An offending value as a reject shows it: at most 200 characters, control characters written
/// as escapes (`\u{0}`), so a NUL or a line break in a bad field can be shown, stored with the
/// batch (PostgreSQL refuses NUL in text) and exported without breaking anything.
pub fn shown_text(raw: &str) -> String {
    let mut out = String::new();
    for c in raw.chars().take(200) {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

impl Reject {
    /// A reject of a whole row (no single column to blame): malformed, wrong field count.
    pub fn of_row(file: &str, line: u64, code: RejectCode, zh: String, en: String) -> Self {
        Self {
            severity: Severity::Reject,
            file: file.to_owned(),
            line,
            column: String::new(),
            field: String::new(),
            value: String::new(),
            code,
            message_zh: zh,
            message_en: en,
        }
    }
}

impl Reject {
    /// The row as the store keeps it with its batch (for the administrator's download).
    pub fn to_stored(&self) -> kam_store::BatchReject {
        kam_store::BatchReject {
            file_name: self.file.clone(),
            line: i64::try_from(self.line).unwrap_or(i64::MAX),
            column: self.column.clone(),
            field: self.field.clone(),
            value: self.value.clone(),
            severity: self.severity.as_str().to_owned(),
            reason_code: self.code.as_str().to_owned(),
            message_zh: self.message_zh.clone(),
            message_en: self.message_en.clone(),
        }
    }
}

/// Writes rejects as a UTF-8 CSV with a header row, every text cell spreadsheet-safe.
pub fn write_rejects(path: &Path, rejects: &[Reject]) -> io::Result<()> {
    let mut out = csv::Writer::from_path(path).map_err(io::Error::other)?;
    out.write_record([
        "file",
        "line",
        "column",
        "field",
        "value",
        "severity",
        "reason_code",
        "message_zh",
        "message_en",
    ])
    .map_err(io::Error::other)?;
    // The values come from the bank's files: neutralised against formula injection.
    let safe = kam_core::cell::spreadsheet_safe;
    for r in rejects {
        let cells = [
            safe(&r.file),
            r.line.to_string().into(),
            safe(&r.column),
            safe(&r.field),
            safe(&r.value),
            r.severity.as_str().into(),
            r.code.as_str().into(),
            safe(&r.message_zh),
            safe(&r.message_en),
        ];
        out.write_record(cells.iter().map(|cell| cell.as_bytes()))
            .map_err(io::Error::other)?;
    }
    out.flush()
}

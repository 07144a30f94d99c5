//! The import of master data (org units, users, products, customers, groups, members, key people,
//! RM assignments, accounts, payroll links): rows become kam-core records, which the store merges
//! by business key in one transaction together with the batch's ledger row.
//!
//! The file is read on a blocking thread and handed over in chunks through a bounded channel, so
//! memory stays flat however many customers a file holds and parsing overlaps the SQL.

use std::path::PathBuf;

use chrono::NaiveDate;
use kam_core::{
    ParseError,
    assignment::AssignmentRole,
    contact::{ContactRole, NewKeyPerson, RelationshipStage},
    customer::{
        AccountType, CifNo, CustomerKind, IdNumber, Industry, NewCustomer, Phone, RiskTolerance,
    },
    group::NewGroup,
    money::{Currency, Money},
    org::{Line, NewOrgUnit, OrgKind},
    product::{NeedCategory, NewProduct, ProductRisk},
    reference::{AccountRecord, AssignmentRecord, KeyPersonRecord, MemberRecord, PayrollRecord},
    user::{NewUser, Role},
};
use kam_store::{MasterChunk, RefusalKind};
use tokio::sync::mpsc;

use crate::{
    kind::ExtractKind,
    mapping::KindMapping,
    reader::{FileReport, KeySet, ReadError, Row, RowSink, read_file},
    reject::{Reject, RejectCode, Severity},
    value::Value,
};

/// Rows per merge chunk: large enough for multi-row statements, small enough to bound memory.
const CHUNK_ROWS: usize = 2_000;

/// What the reading thread hands over.
pub(crate) enum Message {
    Rows(Vec<Row>),
    Reject(Reject),
    Progress(u64, u64),
}

struct ChannelSink {
    sender: mpsc::Sender<Message>,
    rows: Vec<Row>,
    /// The receiver went away (the import stopped): read on, send nothing.
    closed: bool,
}

impl ChannelSink {
    fn send(&mut self, message: Message) {
        if !self.closed && self.sender.blocking_send(message).is_err() {
            self.closed = true;
        }
    }
}

impl RowSink for ChannelSink {
    fn row(&mut self, row: Row) {
        self.rows.push(row);
        if self.rows.len() >= CHUNK_ROWS {
            let rows = std::mem::replace(&mut self.rows, Vec::with_capacity(CHUNK_ROWS));
            self.send(Message::Rows(rows));
        }
    }
    fn reject(&mut self, reject: Reject) {
        self.send(Message::Reject(reject));
    }
    fn progress(&mut self, rows_read: u64, bytes_read: u64) {
        self.send(Message::Progress(rows_read, bytes_read));
    }
}

/// Starts reading `path` on a blocking thread; messages arrive on the receiver, the report (or
/// the reason the file cannot be read) on the join handle.
pub(crate) fn spawn_reader(
    path: PathBuf,
    mapping: KindMapping,
) -> (
    mpsc::Receiver<Message>,
    tokio::task::JoinHandle<Result<FileReport, ReadError>>,
) {
    let (sender, receiver) = mpsc::channel(4);
    let handle = tokio::task::spawn_blocking(move || {
        let mut sink = ChannelSink {
            sender,
            rows: Vec::with_capacity(CHUNK_ROWS),
            closed: false,
        };
        let mut seen = KeySet::default();
        let report = read_file(&path, &mapping, &mut seen, &mut sink);
        let rest = std::mem::take(&mut sink.rows);
        if !rest.is_empty() {
            sink.send(Message::Rows(rest));
        }
        report
    });
    (receiver, handle)
}

/// A chunk ready for the store, with each record's source line and amount (for the reconciliation
/// when the store refuses it), and the rows that failed a domain rule on the way.
pub(crate) struct Converted {
    pub chunk: MasterChunk,
    pub lines: Vec<u64>,
    pub amounts: Vec<i64>,
    pub rejects: Vec<(Reject, i64)>,
}

/// The source column of a field as a reject names it: the header name, `#n`, or the field.
pub(crate) fn column_of(mapping: &KindMapping, field: &str) -> String {
    match mapping.columns.get(field) {
        Some(crate::mapping::Column::Named(name)) => name.clone(),
        Some(crate::mapping::Column::Position(position)) => format!("#{position}"),
        None => field.to_owned(),
    }
}

/// The reject for a row the domain or the store refused.
pub(crate) fn refusal_reject(
    file: &str,
    mapping: &KindMapping,
    line: u64,
    code: RejectCode,
    error: ParseError,
) -> Reject {
    let personal = mapping
        .kind
        .field(error.field)
        .is_some_and(|f| f.ty.is_personal());
    let value = if personal {
        kam_core::customer::mask_middle(&error.value, 3, 4)
    } else {
        error.value.chars().take(200).collect()
    };
    Reject {
        severity: Severity::Reject,
        file: file.to_owned(),
        line,
        column: column_of(mapping, error.field),
        field: error.field.to_owned(),
        value,
        code,
        message_zh: error.reason_zh,
        message_en: error.reason_en,
    }
}

pub(crate) fn refusal_code(kind: RefusalKind) -> RejectCode {
    match kind {
        RefusalKind::UnknownReference => RejectCode::UnknownReference,
        RefusalKind::Rule => RejectCode::Rule,
    }
}

/// Turns rows (values in catalogue order) into the chunk of their kind.
pub(crate) fn convert(
    kind: ExtractKind,
    file: &str,
    mapping: &KindMapping,
    rows: Vec<Row>,
) -> Converted {
    let mut converted = Converted {
        chunk: empty_chunk(kind),
        lines: Vec::with_capacity(rows.len()),
        amounts: Vec::with_capacity(rows.len()),
        rejects: Vec::new(),
    };
    for mut row in rows {
        let amount = row
            .values
            .iter()
            .map(|v| match v {
                Value::Amount(minor) => *minor,
                _ => 0,
            })
            .sum();
        match push_record(&mut converted.chunk, &mut row.values) {
            Ok(()) => {
                converted.lines.push(row.line);
                converted.amounts.push(amount);
            }
            Err(error) => converted.rejects.push((
                refusal_reject(file, mapping, row.line, RejectCode::Rule, error),
                amount,
            )),
        }
    }
    converted
}

fn empty_chunk(kind: ExtractKind) -> MasterChunk {
    match kind {
        ExtractKind::OrgUnits => MasterChunk::OrgUnits(Vec::new()),
        ExtractKind::Users => MasterChunk::Users(Vec::new()),
        ExtractKind::Products => MasterChunk::Products(Vec::new()),
        ExtractKind::Customers => MasterChunk::Customers(Vec::new()),
        ExtractKind::Groups => MasterChunk::Groups(Vec::new()),
        ExtractKind::GroupMembers => MasterChunk::GroupMembers(Vec::new()),
        ExtractKind::KeyPeople => MasterChunk::KeyPeople(Vec::new()),
        ExtractKind::RmAssignments => MasterChunk::Assignments(Vec::new()),
        ExtractKind::Accounts => MasterChunk::Accounts(Vec::new()),
        ExtractKind::PayrollLinks => MasterChunk::PayrollLinks(Vec::new()),
        fact => unreachable!("{fact} is a fact kind, imported to Parquet"),
    }
}

// Field access by catalogue position. The reader has checked presence and type of every field,
// so what is read here is well-formed text; the domain constructors check the rest.

fn take(value: &mut Value) -> Option<String> {
    match std::mem::replace(value, Value::Null) {
        Value::Text(text) => Some(text),
        _ => None,
    }
}

fn text(value: &mut Value) -> String {
    take(value).unwrap_or_default()
}

fn date(value: &Value) -> Option<NaiveDate> {
    match value {
        Value::Date(date) => Some(*date),
        _ => None,
    }
}

fn count(value: &Value) -> i64 {
    match value {
        Value::Count(n) => *n,
        _ => 0,
    }
}

/// Parses a code the reader has already checked against its list.
fn code<T>(value: &Value, parse: fn(&str) -> Result<T, ParseError>) -> Result<T, ParseError> {
    parse(value.as_text().unwrap_or_default())
}

fn opt_code<T>(
    value: &Value,
    parse: fn(&str) -> Result<T, ParseError>,
) -> Result<Option<T>, ParseError> {
    value.as_text().map(parse).transpose()
}

fn required_date(value: &Value, field: &'static str) -> Result<NaiveDate, ParseError> {
    date(value).ok_or_else(|| ParseError::new(field, "", "a date is required", "日期必填"))
}

fn push_record(chunk: &mut MasterChunk, v: &mut [Value]) -> Result<(), ParseError> {
    match chunk {
        MasterChunk::OrgUnits(rows) => rows.push(NewOrgUnit::parse(
            &text(&mut v[0]),
            &text(&mut v[1]),
            code(&v[2], OrgKind::parse)?,
            take(&mut v[3]).as_deref(),
        )?),
        MasterChunk::Users(rows) => rows.push(NewUser::parse(
            &text(&mut v[0]),
            &text(&mut v[1]),
            code(&v[2], Role::parse)?,
            &text(&mut v[3]),
            opt_code(&v[4], Line::parse)?,
        )?),
        MasterChunk::Products(rows) => rows.push(NewProduct::parse(
            &text(&mut v[0]),
            &text(&mut v[1]),
            code(&v[2], Line::parse)?,
            code(&v[3], NeedCategory::parse)?,
            code(&v[4], ProductRisk::parse)?,
        )?),
        MasterChunk::Customers(rows) => rows.push(
            NewCustomer {
                cif_no: CifNo::parse(&text(&mut v[0]))?,
                kind: code(&v[1], CustomerKind::parse)?,
                name: kam_core::org::parse_name("name", &text(&mut v[2]))?,
                line: code(&v[3], Line::parse)?,
                org_unit_code: text(&mut v[4]),
                industry: opt_code(&v[5], Industry::parse)?,
                account_type: opt_code(&v[6], AccountType::parse)?.unwrap_or(AccountType::Ordinary),
                risk_tolerance: opt_code(&v[7], RiskTolerance::parse)?,
                id_number: opt_code(&v[8], IdNumber::parse)?,
                phone: opt_code(&v[9], Phone::parse)?,
                since: required_date(&v[10], "since")?,
            }
            .check()?,
        ),
        MasterChunk::Groups(rows) => {
            let co_units = text(&mut v[3]);
            let co_units: Vec<&str> = co_units
                .split([';', ',', '；', '，'])
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .collect();
            rows.push(NewGroup::parse(
                &text(&mut v[0]),
                &text(&mut v[1]),
                &text(&mut v[2]),
                &co_units,
                take(&mut v[4]).as_deref(),
            )?);
        }
        MasterChunk::GroupMembers(rows) => rows.push(MemberRecord {
            group_code: text(&mut v[0]),
            cif_no: text(&mut v[1]),
            parent_cif_no: take(&mut v[2]),
        }),
        MasterChunk::KeyPeople(rows) => {
            let cif_no = text(&mut v[0]);
            let person = NewKeyPerson::parse(
                &text(&mut v[1]),
                code(&v[2], ContactRole::parse)?,
                take(&mut v[3]).as_deref(),
                [count(&v[4]), count(&v[5]), count(&v[6])],
                code(&v[7], RelationshipStage::parse)?,
            )?;
            rows.push(KeyPersonRecord { cif_no, person });
        }
        MasterChunk::Assignments(rows) => rows.push(AssignmentRecord {
            cif_no: text(&mut v[0]),
            username: text(&mut v[1]),
            role: code(&v[2], AssignmentRole::parse)?,
            effective_from: required_date(&v[3], "effective_from")?,
            effective_to: date(&v[4]),
        }),
        MasterChunk::Accounts(rows) => rows.push(AccountRecord {
            account_no: text(&mut v[0]),
            cif_no: text(&mut v[1]),
            product_code: text(&mut v[2]),
            currency: code(&v[3], Currency::parse)?,
            org_unit_code: text(&mut v[4]),
            opened_on: required_date(&v[5], "opened_on")?,
        }),
        MasterChunk::PayrollLinks(rows) => {
            let minor = match v[2] {
                Value::Amount(minor) => minor,
                _ => 0,
            };
            rows.push(PayrollRecord {
                employer_cif_no: text(&mut v[0]),
                employee_cif_no: text(&mut v[1]),
                monthly_amount: Money::from_minor(minor, code(&v[3], Currency::parse)?),
                since: required_date(&v[4], "since")?,
            });
        }
    }
    Ok(())
}

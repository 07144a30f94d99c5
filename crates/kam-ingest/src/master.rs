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
    contact::{ContactRole, NewKeyPerson, PersonDetails, RelationshipStage},
    customer::{
        AccountType, CifNo, CustomerKind, IdNumber, Industry, NewCustomer, Phone, RiskTolerance,
        Sex,
    },
    group::NewGroup,
    money::{Currency, Money},
    org::{Line, NewOrgUnit, OrgKind},
    product::{AccountRole, NeedCategory, NewProduct, ProductRisk},
    profile::{CorporateProfile, CreditCode, Listing, MainBank, RevenueBand},
    reference::{
        AccountPartyRecord, AccountRecord, AssignmentRecord, HoldingRecord, KeyPersonRecord,
        MemberRecord, PayrollRecord, ProfileRecord,
    },
    user::{NewUser, Role},
};
use kam_store::{MasterChunk, RefusalKind};
use tokio::sync::mpsc;

use crate::{
    kind::ExtractKind,
    mapping::KindMapping,
    reader::{FileReport, KeySet, ReadError, Row, RowAmounts, RowSink, read_file},
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
    fn restart(&mut self) {
        // Rows already merged cannot be taken back, which is why master data keeps every key
        // in memory (`KeySet::default`) and is never read twice.
        unreachable!("a master file is read once")
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

/// A chunk ready for the store, with each record's source line and amounts (for the
/// reconciliation when the store refuses it), and the rows that failed a domain rule on the way.
pub(crate) struct Converted {
    pub chunk: MasterChunk,
    pub lines: Vec<u64>,
    /// Per row, the source file its line is in when a SQL query made it.
    pub sources: Vec<Option<String>>,
    pub amounts: Vec<RowAmounts>,
    pub rejects: Vec<(Reject, RowAmounts)>,
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
        crate::reject::shown_text(&error.value)
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
        sources: Vec::with_capacity(rows.len()),
        amounts: Vec::with_capacity(rows.len()),
        rejects: Vec::new(),
    };
    for mut row in rows {
        let amount = row.amounts(kind);
        match push_record(&mut converted.chunk, &mut row.values) {
            Ok(()) => {
                converted.lines.push(row.line);
                converted.sources.push(row.source);
                converted.amounts.push(amount);
            }
            Err(error) => converted.rejects.push((
                refusal_reject(
                    row.source.as_deref().unwrap_or(file),
                    mapping,
                    row.line,
                    RejectCode::Rule,
                    error,
                ),
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
        ExtractKind::Holdings => MasterChunk::Holdings(Vec::new()),
        ExtractKind::AccountParties => MasterChunk::AccountParties(Vec::new()),
        ExtractKind::CorporateProfiles => MasterChunk::Profiles(Vec::new()),
        fact => unreachable!("{fact} is a fact kind, imported to Parquet"),
    }
}

// Field access by catalogue position. The reader has checked presence and type of every field,
// so what is read here is well-formed text; the domain constructors check the rest.

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
    value
        .date()
        .ok_or_else(|| ParseError::new(field, "", "a date is required", "日期必填"))
}

fn push_record(chunk: &mut MasterChunk, v: &mut [Value]) -> Result<(), ParseError> {
    match chunk {
        MasterChunk::OrgUnits(rows) => rows.push(NewOrgUnit::parse(
            &v[0].take_string(),
            &v[1].take_string(),
            code(&v[2], OrgKind::parse)?,
            v[3].take_text().as_deref(),
        )?),
        MasterChunk::Users(rows) => rows.push(NewUser::parse(
            &v[0].take_string(),
            &v[1].take_string(),
            code(&v[2], Role::parse)?,
            &v[3].take_string(),
            opt_code(&v[4], Line::parse)?,
        )?),
        MasterChunk::Products(rows) => rows.push(NewProduct::parse(
            &v[0].take_string(),
            &v[1].take_string(),
            code(&v[2], Line::parse)?,
            code(&v[3], NeedCategory::parse)?,
            code(&v[4], ProductRisk::parse)?,
        )?),
        MasterChunk::Customers(rows) => rows.push(
            NewCustomer {
                cif_no: CifNo::parse(&v[0].take_string())?,
                kind: code(&v[1], CustomerKind::parse)?,
                name: kam_core::org::parse_name("name", &v[2].take_string())?,
                line: code(&v[3], Line::parse)?,
                org_unit_code: v[4].take_string(),
                industry: opt_code(&v[5], Industry::parse)?,
                account_type: opt_code(&v[6], AccountType::parse)?.unwrap_or(AccountType::Ordinary),
                risk_tolerance: opt_code(&v[7], RiskTolerance::parse)?,
                id_number: opt_code(&v[8], IdNumber::parse)?,
                phone: opt_code(&v[9], Phone::parse)?,
                since: required_date(&v[10], "since")?,
                birth_date: v[11].date(),
                sex: opt_code(&v[12], Sex::parse)?,
            }
            .check()?,
        ),
        MasterChunk::Groups(rows) => {
            let co_units = v[3].take_string();
            let co_units: Vec<&str> = co_units
                .split([';', ',', '；', '，'])
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .collect();
            rows.push(NewGroup::parse(
                &v[0].take_string(),
                &v[1].take_string(),
                &v[2].take_string(),
                &co_units,
                v[4].take_text().as_deref(),
            )?);
        }
        MasterChunk::GroupMembers(rows) => rows.push(MemberRecord {
            group_code: v[0].take_string(),
            cif_no: v[1].take_string(),
            parent_cif_no: v[2].take_text(),
        }),
        MasterChunk::KeyPeople(rows) => {
            let cif_no = v[0].take_string();
            let person = NewKeyPerson::parse(
                &v[1].take_string(),
                code(&v[2], ContactRole::parse)?,
                v[3].take_text().as_deref(),
                [
                    v[4].count().unwrap_or(0),
                    v[5].count().unwrap_or(0),
                    v[6].count().unwrap_or(0),
                ],
                code(&v[7], RelationshipStage::parse)?,
            )?
            .with_details(PersonDetails {
                phone: opt_code(&v[9], Phone::parse)?,
                birthday: v[10].date(),
                owner: v[11].take_text(),
                notes: v[12].take_text(),
            });
            rows.push(KeyPersonRecord {
                cif_no,
                person,
                stage_since: v[8].date(),
            });
        }
        MasterChunk::Assignments(rows) => rows.push(AssignmentRecord {
            cif_no: v[0].take_string(),
            username: v[1].take_string(),
            role: code(&v[2], AssignmentRole::parse)?,
            effective_from: required_date(&v[3], "effective_from")?,
            effective_to: v[4].date(),
        }),
        MasterChunk::Accounts(rows) => rows.push(AccountRecord {
            account_no: v[0].take_string(),
            cif_no: v[1].take_string(),
            product_code: v[2].take_string(),
            currency: code(&v[3], Currency::parse)?,
            org_unit_code: v[4].take_string(),
            opened_on: required_date(&v[5], "opened_on")?,
        }),
        MasterChunk::PayrollLinks(rows) => {
            let minor = v[2].amount().unwrap_or(0);
            rows.push(PayrollRecord {
                employer_cif_no: v[0].take_string(),
                employee_cif_no: v[1].take_string(),
                monthly_amount: Money::from_minor(minor, code(&v[3], Currency::parse)?),
                since: required_date(&v[4], "since")?,
            });
        }
        MasterChunk::AccountParties(rows) => rows.push(AccountPartyRecord {
            account_no: v[0].take_string(),
            cif_no: v[1].take_string(),
            role: code(&v[2], AccountRole::parse)?,
            since: v[3].date(),
        }),
        MasterChunk::Holdings(rows) => rows.push(HoldingRecord {
            cif_no: v[0].take_string(),
            product_code: v[1].take_string(),
            as_of: required_date(&v[2], "as_of")?,
            amount: Money::from_minor(v[3].amount().unwrap_or(0), code(&v[4], Currency::parse)?),
        }),
        MasterChunk::Profiles(rows) => {
            let capital = match v[2].amount() {
                Some(minor) => {
                    let currency = opt_code(&v[3], Currency::parse)?.unwrap_or(Currency::CNY);
                    Some(Money::from_minor(minor, currency))
                }
                None => None,
            };
            let percent = |value: &Value| -> Result<Option<u8>, ParseError> {
                value
                    .count()
                    .map(|n| {
                        u8::try_from(n).ok().filter(|p| *p <= 100).ok_or_else(|| {
                            ParseError::new(
                                "our_share_percent",
                                n.to_string(),
                                "a share is 0 to 100 percent",
                                "占比应在 0 至 100 之间",
                            )
                        })
                    })
                    .transpose()
            };
            let profile = CorporateProfile {
                legal_representative: v[1].take_text(),
                registered_capital: capital,
                established_on: v[4].date(),
                business_scope: v[5].take_text(),
                credit_code: opt_code(&v[6], CreditCode::parse)?,
                listing: opt_code(&v[7], Listing::parse)?,
                employees: v[8].count(),
                revenue_band: opt_code(&v[9], RevenueBand::parse)?,
                our_share_percent: percent(&v[10])?,
                main_banks: MainBank::parse_list(v[11].as_text().unwrap_or_default())?,
            };
            rows.push(ProfileRecord {
                cif_no: v[0].take_string(),
                profile,
            });
        }
    }
    Ok(())
}

/// Passes rows and rejects on to the caller's sink and, for a master kind, runs each chunk of
/// rows through the import's own conversion into kam-core records, turning refused rows into
/// rejects.
struct CheckingSink<'a, S: RowSink> {
    inner: &'a mut S,
    kind: ExtractKind,
    file: String,
    mapping: &'a KindMapping,
    rows: Vec<Row>,
    /// Amounts of the rows the domain refused (they leave `loaded` at the end).
    refused: Vec<RowAmounts>,
}

impl<S: RowSink> CheckingSink<'_, S> {
    fn flush(&mut self) {
        let rows = std::mem::take(&mut self.rows);
        if rows.is_empty() {
            return;
        }
        for (reject, amounts) in convert(self.kind, &self.file, self.mapping, rows).rejects {
            self.inner.reject(reject);
            self.refused.push(amounts);
        }
    }
}

impl<S: RowSink> RowSink for CheckingSink<'_, S> {
    fn row(&mut self, row: Row) {
        if !self.kind.is_fact() {
            self.rows.push(row.clone());
            if self.rows.len() >= CHUNK_ROWS {
                self.flush();
            }
        }
        self.inner.row(row);
    }
    fn reject(&mut self, reject: Reject) {
        self.inner.reject(reject);
    }
    fn restart(&mut self) {
        self.rows.clear();
        self.refused.clear();
        self.inner.restart();
    }
    fn progress(&mut self, rows_read: u64, bytes_read: u64) {
        self.inner.progress(rows_read, bytes_read);
    }
}

/// What `kam import check` runs for one file: the reader with the file's business date (from its
/// name, as the import takes it), then for master kinds the import's own conversion into kam-core
/// records — one validation for both, so a row the import would refuse by a domain rule (a name
/// too long, a control character) is reported by the check too. Only what needs the stored data
/// (unknown references) is left to the import itself. The sink receives the rows and rejects.
pub fn check_file(
    path: &std::path::Path,
    mapping: &KindMapping,
    keys: &mut KeySet,
    sink: &mut impl RowSink,
) -> Result<FileReport, ReadError> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let mapping = KindMapping {
        business_date: crate::import::date_in_name(name),
        ..mapping.clone()
    };
    let mut checking = CheckingSink {
        inner: sink,
        kind: mapping.kind,
        file: path.display().to_string(),
        mapping: &mapping,
        rows: Vec::new(),
        refused: Vec::new(),
    };
    let mut report = read_file(path, &mapping, keys, &mut checking)?;
    checking.flush();
    for amounts in &checking.refused {
        report.unload(amounts);
    }
    Ok(report)
}

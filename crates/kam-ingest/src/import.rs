//! The import of extracts: one batch per file, recorded in the store's ledger, idempotent and safe
//! against kill -9. Facts (balances, transactions, loans, fees) are written to Parquet through
//! kam-facts; master data is merged into the store by `master.rs`.
//!
//! Order of a fact batch: read and validate the whole file into staged (hidden) Parquet files → check
//! the reject limit → record the batch as pending → publish the files → commit (swapping out a
//! replaced batch in the same transaction) → remove the replaced batch's files. A run that dies
//! anywhere leaves either nothing, or a pending batch that the next run removes before it starts.

use std::{
    fs::File,
    io::{self, Read},
    path::{Path, PathBuf},
};

use chrono::NaiveDate;
use kam_facts::{
    BalanceRow, BatchWriter, Direction, FactError, FactRows, FactWriter, FeeRow, LoanRow,
    StagedBatch, TransactionRow,
};
use kam_store::{Actor, ImportBatch, MergeCounts, NewImportBatch, Store};
use sha2::{Digest, Sha256};

use crate::{
    control::check_control_file,
    held::HeldWriter,
    kind::ExtractKind,
    mapping::{KindMapping, Mapping},
    master,
    reader::{
        FileReport, KeySet, ReadError, Row, RowAmounts, RowSink, SPILL_PREFIX, Unloaded, read_file,
    },
    reference::{ReferenceCheck, References},
    reject::Reject,
    value::Value,
};

/// When a batch has too many rejects to be committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectLimit {
    /// More than this many rejected rows.
    Count(u64),
    /// More than this share of the rows read, in parts per million (`0.5%` = 5,000).
    PartsPerMillion(u64),
}

impl RejectLimit {
    /// Parses `N` or `P%` (P with up to four decimals), e.g. `100`, `0.5%`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let bad = || {
            format!(
                "--max-rejects “{text}”：应为整数 N 或百分比 P%（a count N or a share P%, e.g. 100 or 0.5%)"
            )
        };
        if let Some(percent) = text.strip_suffix('%') {
            let (whole, fraction) = percent.split_once('.').unwrap_or((percent, ""));
            if fraction.len() > 4 || whole.is_empty() && fraction.is_empty() {
                return Err(bad());
            }
            let whole: u64 = if whole.is_empty() {
                0
            } else {
                whole.parse().map_err(|_| bad())?
            };
            let fraction: u64 = format!("{fraction:0<4}").parse().map_err(|_| bad())?;
            let ppm = whole * 10_000 + fraction;
            if ppm > 1_000_000 {
                return Err(bad());
            }
            Ok(Self::PartsPerMillion(ppm))
        } else {
            text.parse().map(Self::Count).map_err(|_| bad())
        }
    }

    /// The limit as given on the command line (`0`, `100`, `0.5%`).
    pub fn text(self) -> String {
        match self {
            Self::Count(n) => n.to_string(),
            Self::PartsPerMillion(ppm) => {
                let fraction = format!("{:04}", ppm % 10_000);
                let fraction = fraction.trim_end_matches('0');
                match fraction.is_empty() {
                    true => format!("{}%", ppm / 10_000),
                    false => format!("{}.{fraction}%", ppm / 10_000),
                }
            }
        }
    }

    pub fn exceeded(self, rejected: u64, read: u64) -> bool {
        match self {
            Self::Count(limit) => rejected > limit,
            Self::PartsPerMillion(ppm) => {
                u128::from(rejected) * 1_000_000 > u128::from(read) * u128::from(ppm)
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// The business date of every file; otherwise read from an 8-digit date in the file name.
    pub business_date: Option<NaiveDate>,
    /// Replace the committed batch of the same slot with a corrected file.
    pub replace: bool,
    pub max_rejects: RejectLimit,
    /// Business keys of a fact file held in memory before the rest go to disk
    /// (`reader::KEYS_IN_MEMORY` unless a test wants the disk path on a small file).
    pub keys_in_memory: usize,
    /// The master keys read for the reference checks, kept for the run's next fact files.
    pub references: crate::reference::ReferenceCache,
}

/// Where an import reports as it goes: every reject, and progress (rows read, bytes read).
pub struct Feedback<'a> {
    pub rejects: &'a mut Vec<Reject>,
    pub progress: &'a mut dyn FnMut(u64, u64),
}

impl std::fmt::Debug for Feedback<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Feedback")
            .field("rejects", &self.rejects.len())
            .finish_non_exhaustive()
    }
}

/// What happened to one file.
#[derive(Debug)]
pub enum FileOutcome {
    Imported {
        batch_id: String,
        report: FileReport,
        replaced: Option<String>,
        /// Parquet bytes written (facts); 0 for master data.
        bytes: u64,
        /// Rows inserted and updated (master data); `None` for facts.
        merged: Option<MergeCounts>,
    },
    /// The same content was imported before; nothing was done.
    AlreadyImported { batch: ImportBatch },
    /// Nothing was committed, for the reason given (zh-CN, en).
    Refused {
        file: String,
        zh: String,
        en: String,
        report: Option<FileReport>,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Store(#[from] kam_store::Error),
    #[error(transparent)]
    Facts(#[from] FactError),
    #[error("{file}: {source}")]
    Io { file: String, source: io::Error },
    #[error(
        "批次 {batch_id}（{kind}）是按业务键合并的主数据，无法撤销；请导入更正文件并加 --replace / batch {batch_id} ({kind}) is master data merged by business key and cannot be reverted; import a corrected file with --replace"
    )]
    NotRevertible { batch_id: String, kind: String },
}

/// What the start of an import run found and undid. Hold `lock` for the whole run: it keeps a
/// second import off these facts, which is what makes removing staging files safe.
#[derive(Debug)]
pub struct Recovery {
    pub lock: kam_facts::ImportLock,
    /// Pending batches of a killed run, undone.
    pub undone: Vec<String>,
    /// Staging files left by a killed or failed run (a full disk), removed.
    pub staging_removed: usize,
}

/// Starts an import run: takes the import lock, then undoes what a killed or failed run left —
/// its pending batches (files and ledger rows), its staging files, its spilled business keys.
pub async fn recover(
    store: &Store,
    facts: &FactWriter,
    actor: &Actor,
) -> Result<Recovery, ImportError> {
    let lock = facts.lock_imports()?;
    let mut undone = Vec::new();
    // Business keys a killed run spilled to disk.
    if let Ok(entries) = std::fs::read_dir(facts.root()) {
        for entry in entries.flatten() {
            if entry
                .file_name()
                .to_string_lossy()
                .starts_with(SPILL_PREFIX)
            {
                std::fs::remove_dir_all(entry.path()).ok();
            }
        }
    }
    for batch in store.pending_batches().await? {
        facts.remove_batch(&batch.batch_id)?;
        store.forget_pending_batch(actor, &batch.batch_id).await?;
        undone.push(batch.batch_id);
    }
    let staging_removed = facts.remove_staging_files(&lock)?;
    Ok(Recovery {
        lock,
        undone,
        staging_removed,
    })
}

/// SHA-256 of a file's bytes, streamed.
pub fn content_hash(path: &Path) -> io::Result<String> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    Ok(format!("{:x}", hasher.finalize()))
}

/// The first run of eight digits in a file name that is a valid YYYYMMDD date.
pub fn date_in_name(name: &str) -> Option<NaiveDate> {
    let bytes = name.as_bytes();
    (0..bytes.len().saturating_sub(7))
        .filter(|&i| bytes[i..i + 8].iter().all(u8::is_ascii_digit))
        .filter(|&i| {
            (i == 0 || !bytes[i - 1].is_ascii_digit())
                && bytes.get(i + 8).is_none_or(|b| !b.is_ascii_digit())
        })
        .find_map(|i| NaiveDate::parse_from_str(&name[i..i + 8], "%Y%m%d").ok())
}

/// What every import of a file decides before reading it: its kind, business date, content
/// hash, the batch it would replace and the id of the new batch.
struct Plan {
    file: String,
    name: String,
    /// The kind's mapping, with this file's business date set (its fact rows must have it).
    mapping: KindMapping,
    business_date: NaiveDate,
    hash: String,
    existing: Option<ImportBatch>,
    batch_id: String,
}

impl Plan {
    fn refused(&self, zh: &str, en: &str, report: FileReport) -> FileOutcome {
        FileOutcome::Refused {
            file: self.file.clone(),
            zh: format!("{zh}，本批次未提交"),
            en: format!("{en}; the batch was not committed"),
            report: Some(report),
        }
    }

    /// The file cannot be read at all (its message is already in both languages).
    fn unreadable(&self, error: &ReadError) -> FileOutcome {
        FileOutcome::Refused {
            file: self.file.clone(),
            zh: error.zh(),
            en: error.en(),
            report: None,
        }
    }

    /// The ledger row of the batch, from the reconciled report, with the file's rejects.
    fn ledger_row(&self, report: &FileReport, rejects: &[Reject]) -> NewImportBatch {
        let amount_total: i128 = report.amount_sums.values().sum();
        NewImportBatch {
            batch_id: self.batch_id.clone(),
            kind: self.mapping.kind.as_str().to_owned(),
            business_date: self.business_date,
            file_name: self.name.clone(),
            content_hash: self.hash.clone(),
            rows_read: to_i64(report.rows_read),
            loaded: to_i64(report.loaded),
            rejected: to_i64(report.rejected),
            duplicates: to_i64(report.duplicates),
            held: to_i64(report.held),
            amount_total_minor: i64::try_from(amount_total).unwrap_or(i64::MAX),
            rejects: rejects
                .iter()
                .take(kam_store::MAX_STORED_REJECTS)
                .map(Reject::to_stored)
                .collect(),
        }
    }

    /// Why a read file may not be committed: its control file disagrees, or too many rejects.
    fn objection(
        &self,
        path: &Path,
        options: &ImportOptions,
        report: &FileReport,
    ) -> Option<(String, String)> {
        if let Err(problem) = check_control_file(path, self.mapping.amounts, report) {
            return Some(problem);
        }
        let (rejected, read) = (report.rejected + report.duplicates, report.rows_read);
        options.max_rejects.exceeded(rejected, read).then(|| {
            (
                format!(
                    "拒绝 {rejected} 行（共 {read} 行），超过 --max-rejects 上限 {limit}：修正文件后重新导入，\
                     或以 --max-rejects 放宽上限只导入正确的行",
                    limit = options.max_rejects.text()
                ),
                format!(
                    "{rejected} of {read} rows rejected, above --max-rejects {limit}: import the corrected \
                     file again, or allow some with --max-rejects to load only the good rows",
                    limit = options.max_rejects.text()
                ),
            )
        })
    }
}

async fn plan(
    store: &Store,
    mapping: &Mapping,
    path: &Path,
    options: &ImportOptions,
) -> Result<Result<Plan, FileOutcome>, ImportError> {
    let file = path.display().to_string();
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_owned();
    let refused = |zh: String, en: String| {
        Ok(Err(FileOutcome::Refused {
            file: file.clone(),
            zh,
            en,
            report: None,
        }))
    };
    let Some(kind_mapping) = mapping.kind_for(&name) else {
        return refused(
            "映射中没有匹配此文件名的类型".into(),
            "no kind of the mapping matches this file name".into(),
        );
    };
    let kind = kind_mapping.kind;
    let Some(business_date) = options.business_date.or_else(|| date_in_name(&name)) else {
        return refused(
            "无法确定业务日期：文件名中没有 YYYYMMDD 日期，请用 --business-date 指定".into(),
            "cannot tell the business date: no YYYYMMDD date in the file name; give --business-date".into(),
        );
    };
    let hash = content_hash(path).map_err(|source| ImportError::Io {
        file: file.clone(),
        source,
    })?;
    if let Some(batch) = store
        .committed_batch_with_content(kind.as_str(), business_date, &hash)
        .await?
    {
        return Ok(Err(FileOutcome::AlreadyImported { batch }));
    }
    let existing = store
        .committed_batch_in_slot(kind.as_str(), business_date, &name)
        .await?;
    if let Some(old) = &existing
        && !options.replace
    {
        return refused(
            format!(
                "该文件位（{kind}，{business_date}，{name}）已有内容不同的批次 {}；如为更正文件，请加 --replace",
                old.batch_id
            ),
            format!(
                "batch {} with different content already holds this slot ({kind}, {business_date}, {name}); add --replace for a corrected file",
                old.batch_id
            ),
        );
    }
    let batch_id = unique_batch_id(store, kind, business_date, &hash).await?;
    Ok(Ok(Plan {
        file,
        name,
        mapping: KindMapping {
            business_date: Some(business_date),
            ..kind_mapping.clone()
        },
        business_date,
        hash,
        existing,
        batch_id,
    }))
}

/// Imports one file as one batch: facts to Parquet, master data merged into the store.
pub async fn import_file(
    store: &Store,
    facts: &FactWriter,
    mapping: &Mapping,
    path: &Path,
    options: &ImportOptions,
    actor: &Actor,
    feedback: Feedback<'_>,
) -> Result<FileOutcome, ImportError> {
    let plan = match plan(store, mapping, path, options).await? {
        Ok(plan) => plan,
        Err(outcome) => return Ok(outcome),
    };
    if plan.mapping.kind.is_fact() {
        import_facts(store, facts, plan, path, options, actor, feedback, false).await
    } else {
        import_master(store, plan, path, options, actor, feedback).await
    }
}

/// Facts: read and staged on two threads, committed with the ledger row. `retry` is a release of
/// held rows, which commits nothing when every row still waits.
#[allow(clippy::too_many_arguments)]
async fn import_facts(
    store: &Store,
    facts: &FactWriter,
    plan: Plan,
    path: &Path,
    options: &ImportOptions,
    actor: &Actor,
    feedback: Feedback<'_>,
    retry: bool,
) -> Result<FileOutcome, ImportError> {
    let (batch_id, kind_mapping) = (&plan.batch_id, &plan.mapping);
    let Feedback { rejects, progress } = feedback;
    // This file's rejects are the ones added from here on (a restarted read truncates to here).
    let first_reject = rejects.len();
    let mut seen = KeySet::bounded(options.keys_in_memory, facts.root());
    // The customers and accounts the rows may name, read before the file.
    let references = References::load(
        store,
        kind_mapping.kind,
        facts,
        (
            plan.business_date,
            plan.existing.as_ref().map(|old| old.batch_id.as_str()),
        ),
        &options.references,
    )
    .await?;
    // Where the rows that wait for their master data go, when the mapping holds them.
    let held_path = kind_mapping.hold_days.map(|days| {
        let until = plan.business_date + chrono::Days::new(u64::from(days));
        crate::held::held_dir(facts.root()).join(crate::held::held_name(
            kind_mapping.kind,
            plan.business_date,
            until,
            batch_id,
        ))
    });
    // One call, typed by the row conversion of the kind.
    macro_rules! stage_with {
        ($convert:expr) => {
            stage(
                facts,
                batch_id,
                path,
                kind_mapping,
                (&mut seen, &references, held_path.clone()),
                Feedback {
                    rejects: &mut *rejects,
                    progress: &mut *progress,
                },
                $convert,
            )
        };
    }
    let read = match kind_mapping.kind {
        ExtractKind::Balances => stage_with!(to_balance),
        ExtractKind::Transactions => stage_with!(to_transaction),
        ExtractKind::Loans => stage_with!(to_loan),
        ExtractKind::Fees => stage_with!(to_fee),
        _ => unreachable!("only fact kinds reach here"),
    };
    let (report, staged, held) = match read {
        Ok(done) => done,
        Err(StageError::Read(error)) => return Ok(plan.unreadable(&error)),
        Err(StageError::Facts(error)) => return Err(error.into()),
    };
    let discard = |staged: StagedBatch| {
        staged.discard();
        if let Some(held) = &held {
            std::fs::remove_file(held).ok();
        }
    };
    if let Some((zh, en)) = plan.objection(path, options, &report) {
        discard(staged);
        return Ok(plan.refused(&zh, &en, report));
    }
    // A release of held rows in which nothing was released is not a batch: the rows wait on.
    if retry && report.held == report.rows_read {
        discard(staged);
        return Ok(plan.refused("仍在等待主数据", "still waiting for master data", report));
    }
    store
        .begin_import_batch(actor, &plan.ledger_row(&report, &rejects[first_reject..]))
        .await?;
    let bytes = staged.publish()?;
    let replaced = plan.existing.as_ref().map(|old| old.batch_id.clone());
    store
        .commit_import_batch(actor, batch_id, replaced.as_deref())
        .await?;
    if let Some(old) = &replaced {
        facts.remove_batch(old)?;
    }
    Ok(FileOutcome::Imported {
        batch_id: plan.batch_id,
        report,
        replaced,
        bytes,
        merged: None,
    })
}

/// Master data: read on a thread, converted and merged chunk by chunk in one transaction that
/// commits with the ledger row — or is rolled back whole when the file may not be committed.
async fn import_master(
    store: &Store,
    plan: Plan,
    path: &Path,
    options: &ImportOptions,
    actor: &Actor,
    feedback: Feedback<'_>,
) -> Result<FileOutcome, ImportError> {
    let Feedback { rejects, progress } = feedback;
    let first_reject = rejects.len();
    let kind = plan.mapping.kind;
    let (mut receiver, reader) = master::spawn_reader(path.to_path_buf(), plan.mapping.clone());
    let mut merge = store.begin_merge().await?;
    // Rows that passed the reader but not the domain or the store, with their amounts.
    let mut refused: Vec<RowAmounts> = Vec::new();
    while let Some(message) = receiver.recv().await {
        match message {
            master::Message::Rows(rows) => {
                let mut converted = master::convert(kind, &plan.file, &plan.mapping, rows);
                for (reject, amounts) in converted.rejects {
                    refused.push(amounts);
                    rejects.push(reject);
                }
                for refusal in merge.apply(actor, converted.chunk).await? {
                    refused.push(std::mem::take(&mut converted.amounts[refusal.index]));
                    rejects.push(master::refusal_reject(
                        converted.sources[refusal.index]
                            .as_deref()
                            .unwrap_or(&plan.file),
                        &plan.mapping,
                        converted.lines[refusal.index],
                        master::refusal_code(refusal.kind),
                        refusal.error,
                    ));
                }
            }
            master::Message::Reject(reject) => rejects.push(reject),
            master::Message::Progress(rows, bytes) => progress(rows, bytes),
        }
    }
    let mut report = match reader.await {
        Ok(Ok(report)) => report,
        Ok(Err(error)) => return Ok(plan.unreadable(&error)),
        Err(panic) => std::panic::resume_unwind(panic.into_panic()),
    };
    for amounts in &refused {
        report.unload(amounts);
    }
    if let Some((zh, en)) = plan.objection(path, options, &report) {
        drop(merge);
        return Ok(plan.refused(&zh, &en, report));
    }
    let replaced = plan.existing.as_ref().map(|old| old.batch_id.clone());
    let counts = merge
        .commit(
            actor,
            &plan.ledger_row(&report, &rejects[first_reject..]),
            replaced.as_deref(),
        )
        .await?;
    Ok(FileOutcome::Imported {
        batch_id: plan.batch_id,
        report,
        replaced,
        bytes: 0,
        merged: Some(counts),
    })
}

/// Reverts a committed batch: it stops counting at once (ledger), then its files go.
pub async fn revert(
    store: &Store,
    facts: &FactWriter,
    actor: &Actor,
    batch_id: &str,
) -> Result<ImportBatch, ImportError> {
    let batch = store.import_batch(batch_id).await?;
    if ExtractKind::parse(&batch.kind).is_ok_and(|kind| !kind.is_fact()) {
        return Err(ImportError::NotRevertible {
            batch_id: batch_id.to_owned(),
            kind: batch.kind,
        });
    }
    let batch = store.revert_import_batch(actor, batch_id).await?;
    facts.remove_batch(batch_id)?;
    Ok(batch)
}

fn to_i64(count: u64) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}

async fn unique_batch_id(
    store: &Store,
    kind: ExtractKind,
    date: NaiveDate,
    hash: &str,
) -> Result<String, ImportError> {
    // The same content gets a suffix only when it was imported before and since reverted or
    // replaced; ask about the candidates one by one rather than reading the whole ledger per file.
    let base = format!("{kind}-{}-{}", date.format("%Y%m%d"), &hash[..12]);
    for n in 1.. {
        let candidate = if n == 1 {
            base.clone()
        } else {
            format!("{base}-{n}")
        };
        if !store.batch_id_taken(&candidate).await? {
            return Ok(candidate);
        }
    }
    unreachable!("an unbounded search ends with a free id")
}

enum StageError {
    Read(ReadError),
    Facts(FactError),
}

/// Rows handed from the reading thread to the writing thread at a time.
const HAND_OVER_ROWS: usize = 8 * 1024;

/// The reading side of a fact import: converts each good row and hands the rows over in chunks
/// to the thread that encodes and writes Parquet, so parsing and encoding use two cores.
/// What the reading thread tells the writing one.
enum ToWriter<R> {
    Rows(Vec<(NaiveDate, R)>),
    /// The file is read again from the start: drop what was written.
    Restart,
}

struct FactSink<'a, R: FactRows> {
    chunk: Vec<(NaiveDate, R)>,
    kind: ExtractKind,
    references: &'a References,
    check: ReferenceCheck,
    /// The amounts of rows the reader passed and the reference check rejected: taken out of the
    /// report's loaded rows and sums once the file is read.
    unloaded: Vec<(RowAmounts, Unloaded)>,
    /// Where rows naming undefined master data go when the mapping holds them (made with the
    /// first such row), and the file's name for it.
    held: Option<HeldWriter>,
    held_path: Option<PathBuf>,
    held_error: Option<io::Error>,
    writer: std::sync::mpsc::SyncSender<ToWriter<R>>,
    /// Where this file's rejects begin in `rejects`.
    rejects_start: usize,
    /// The writer stopped (it failed; its error comes back when it is joined).
    writer_gone: bool,
    convert: fn(&mut [Value]) -> (NaiveDate, R),
    rejects: &'a mut Vec<Reject>,
    progress: &'a mut dyn FnMut(u64, u64),
}

impl<R: FactRows> FactSink<'_, R> {
    fn hand_over(&mut self) {
        let chunk = std::mem::replace(&mut self.chunk, Vec::with_capacity(HAND_OVER_ROWS));
        self.send(ToWriter::Rows(chunk));
    }

    fn send(&mut self, message: ToWriter<R>) {
        if !self.writer_gone && self.writer.send(message).is_err() {
            self.writer_gone = true;
        }
    }
}

impl<R: FactRows> RowSink for FactSink<'_, R> {
    fn row(&mut self, mut row: Row) {
        if self.writer_gone {
            return;
        }
        if let Some(mut reject) = self.check.check(self.references, &row.values, row.line) {
            if let Some(source) = row.source.take() {
                reject.file = source;
            }
            if reject.code == crate::RejectCode::UnknownReference
                && let Some(path) = &self.held_path
            {
                if self.held.is_none() {
                    match HeldWriter::create(path.clone(), self.kind) {
                        Ok(writer) => self.held = Some(writer),
                        Err(error) => self.held_error = Some(error),
                    }
                }
                if let Some(held) = &mut self.held
                    && let Err(error) = held.write(&row.values)
                {
                    self.held_error = Some(error);
                }
                self.unloaded.push((row.amounts(self.kind), Unloaded::Held));
                return;
            }
            let to = if reject.code == crate::RejectCode::DuplicateKey {
                Unloaded::Duplicate
            } else {
                Unloaded::Rejected
            };
            self.unloaded.push((row.amounts(self.kind), to));
            self.rejects.push(reject);
            return;
        }
        self.chunk.push((self.convert)(&mut row.values));
        if self.chunk.len() >= HAND_OVER_ROWS {
            self.hand_over();
        }
    }
    fn reject(&mut self, reject: Reject) {
        self.rejects.push(reject);
    }
    fn restart(&mut self) {
        self.chunk.clear();
        self.unloaded.clear();
        if let Some(held) = self.held.take() {
            held.discard();
        }
        self.rejects.truncate(self.rejects_start);
        self.send(ToWriter::Restart);
    }
    fn progress(&mut self, rows_read: u64, bytes_read: u64) {
        (self.progress)(rows_read, bytes_read);
    }
}

fn stage<R: FactRows + Send>(
    facts: &FactWriter,
    batch_id: &str,
    path: &Path,
    mapping: &KindMapping,
    (seen, references, held_path): (&mut KeySet, &References, Option<PathBuf>),
    feedback: Feedback<'_>,
    convert: fn(&mut [Value]) -> (NaiveDate, R),
) -> Result<(FileReport, StagedBatch, Option<PathBuf>), StageError> {
    let Feedback { rejects, progress } = feedback;
    // A few chunks in flight keep both threads busy without letting memory grow.
    let (sender, receiver) = std::sync::mpsc::sync_channel::<ToWriter<R>>(4);
    std::thread::scope(|scope| {
        let writing = scope.spawn(move || {
            let mut writer = BatchWriter::new(facts, batch_id);
            for message in receiver {
                match message {
                    ToWriter::Rows(chunk) => {
                        for (date, row) in chunk {
                            // On an error the receiver is dropped here, which the reader notices.
                            writer.push(date, row)?;
                        }
                    }
                    ToWriter::Restart => writer.restart(),
                }
            }
            writer.finish()
        });
        let mut sink = FactSink {
            chunk: Vec::with_capacity(HAND_OVER_ROWS),
            kind: mapping.kind,
            references,
            check: ReferenceCheck::new(&path.display().to_string(), mapping),
            unloaded: Vec::new(),
            held: None,
            held_path: held_path.clone(),
            held_error: None,
            writer: sender,
            rejects_start: rejects.len(),
            writer_gone: false,
            convert,
            rejects,
            progress,
        };
        let mut report = read_file(path, mapping, seen, &mut sink);
        sink.hand_over();
        if let Ok(report) = &mut report {
            for (amounts, to) in &sink.unloaded {
                report.unload_as(amounts, *to);
            }
        }
        let held = sink.held.take();
        let held_error = sink.held_error.take();
        drop(sink);
        let written = match writing.join() {
            Ok(written) => written,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        // The held rows are made whole on disk before the batch can commit.
        let held = match (held, held_error) {
            (Some(held), None) => held.finish().map(Some),
            (held, Some(error)) => {
                if let Some(held) = held {
                    held.discard();
                }
                Err(error)
            }
            (None, None) => Ok(None),
        };
        match (report, written, held) {
            (Ok(report), Ok(staged), Ok(held)) => Ok((report, staged, held)),
            (report, written, held) => {
                if let Ok(Some(path)) = &held {
                    std::fs::remove_file(path).ok();
                }
                let written = match written {
                    Ok(staged) => {
                        staged.discard();
                        Ok(())
                    }
                    Err(error) => Err(error),
                };
                Err(match (report, written, held) {
                    (Err(error), _, _) => StageError::Read(error),
                    (_, Err(error), _) => StageError::Facts(error),
                    (_, _, Err(source)) => StageError::Read(ReadError::Io {
                        file: format!("{} (held rows)", path.display()),
                        source,
                    }),
                    _ => unreachable!("one of them failed"),
                })
            }
        }
    })
}

// Row → fact conversions. The reader has already checked every required field's presence and
// type, so a mismatch here is a bug in the catalogue, not bad input.

/// The business date of a fact row: required by every fact kind, so the reader has checked it.
fn date(value: &Value) -> NaiveDate {
    value
        .date()
        .expect("the catalogue makes a fact's business date required")
}

fn to_balance(v: &mut [Value]) -> (NaiveDate, BalanceRow) {
    (
        date(&v[0]),
        BalanceRow {
            account_no: v[1].take_string(),
            cif_no: v[2].take_string(),
            currency: v[3].take_string().into(),
            balance_minor: v[4].amount().unwrap_or(0),
        },
    )
}

fn to_transaction(v: &mut [Value]) -> (NaiveDate, TransactionRow) {
    let direction = if v[4].as_text() == Some("debit") {
        Direction::Debit
    } else {
        Direction::Credit
    };
    (
        date(&v[0]),
        TransactionRow {
            txn_id: v[1].take_string(),
            account_no: v[2].take_string(),
            cif_no: v[3].take_string(),
            direction,
            amount_minor: v[5].amount().unwrap_or(0),
            currency: v[6].take_string().into(),
            channel: v[7].take_string().into(),
            counterparty_name: v[8].take_string(),
            counterparty_bank: v[9].take_string().into(),
            reversal: v[10] == Value::Flag(true),
            reverses_txn_id: v[11].take_text(),
        },
    )
}

fn to_loan(v: &mut [Value]) -> (NaiveDate, LoanRow) {
    let overdue_days = v[6]
        .count()
        .map_or(0, |days| i32::try_from(days).unwrap_or(i32::MAX));
    (
        date(&v[0]),
        LoanRow {
            loan_no: v[1].take_string(),
            cif_no: v[2].take_string(),
            currency: v[3].take_string().into(),
            outstanding_minor: v[4].amount().unwrap_or(0),
            overdue_principal_minor: v[5].amount().unwrap_or(0),
            overdue_days,
            loan_class: v[7].take_string().into(),
            credit_limit_minor: v[8].amount().unwrap_or(0),
        },
    )
}

fn to_fee(v: &mut [Value]) -> (NaiveDate, FeeRow) {
    (
        date(&v[0]),
        FeeRow {
            cif_no: v[1].take_string(),
            fee_code: v[2].take_string().into(),
            amount_minor: v[3].amount().unwrap_or(0),
            currency: v[4].take_string().into(),
        },
    )
}

/// The files in the order an import takes them: master data in dependency order (org units before
/// users before customers before accounts …), then facts; within a kind by path. Files no kind
/// matches come last (they are refused one by one with the reason).
pub fn import_order(mapping: &Mapping, mut files: Vec<PathBuf>) -> Vec<PathBuf> {
    let rank = |path: &PathBuf| {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        mapping
            .kind_for(name)
            .and_then(|k| ExtractKind::ALL.iter().position(|a| *a == k.kind))
            .unwrap_or(usize::MAX)
    };
    files.sort_by(|a, b| rank(a).cmp(&rank(b)).then_with(|| a.cmp(b)));
    files
}

/// Files of the inputs, recursively, sorted by path (so which of two duplicates wins never
/// depends on the file system). Control files and hidden files are left out.
pub fn collect_files(inputs: &[PathBuf]) -> io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut stack: Vec<PathBuf> = inputs.to_vec();
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            for entry in std::fs::read_dir(&path)? {
                stack.push(entry?.path());
            }
        } else if path.exists() {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            if !(name.starts_with('.') || name.ends_with(".ok") || name.ends_with(".ctl")) {
                files.push(path);
            }
        } else {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("文件不存在 / no such file: {}", path.display()),
            ));
        }
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reject_limits_parse_counts_and_exact_percentages() {
        assert_eq!(RejectLimit::parse("100"), Ok(RejectLimit::Count(100)));
        assert_eq!(
            RejectLimit::parse("0.5%"),
            Ok(RejectLimit::PartsPerMillion(5_000))
        );
        assert_eq!(
            RejectLimit::parse("12%"),
            Ok(RejectLimit::PartsPerMillion(120_000))
        );
        for bad in ["", "-1", "1.5", "%", "101%", "0.00001%"] {
            assert!(RejectLimit::parse(bad).is_err(), "{bad}");
        }
        assert!(RejectLimit::PartsPerMillion(5_000).exceeded(6, 1_000));
        assert!(!RejectLimit::PartsPerMillion(5_000).exceeded(5, 1_000));
        assert!(RejectLimit::Count(0).exceeded(1, 10));
        // Said back as it was given.
        for text in ["0", "100", "0.5%", "12%", "0.0125%"] {
            assert_eq!(RejectLimit::parse(text).unwrap().text(), text);
        }
    }

    #[test]
    fn the_business_date_is_read_from_the_file_name() {
        assert_eq!(
            date_in_name("transactions_20261127.csv"),
            NaiveDate::from_ymd_opt(2026, 11, 27)
        );
        assert_eq!(
            date_in_name("TXN.20260101.D.dat"),
            NaiveDate::from_ymd_opt(2026, 1, 1)
        );
        assert_eq!(date_in_name("txn_123456789.csv"), None);
        assert_eq!(date_in_name("txn_20261340.csv"), None);
    }
}

/// What became of one held file when its rows were tried again.
#[derive(Debug)]
pub struct Release {
    pub file: PathBuf,
    /// Its rows' last day had passed: those still naming undefined master data were rejected.
    pub expired: bool,
    /// `Imported` (some rows released, or all rejected when expired); `AlreadyImported` (a run
    /// was killed after releasing them); `Refused` with every row still held.
    pub outcome: FileOutcome,
}

impl Release {
    /// True when every row still waits (nothing was committed).
    pub fn still_held(&self) -> bool {
        matches!(&self.outcome, FileOutcome::Refused { report: Some(r), .. } if r.held == r.rows_read)
    }
}

/// Tries the held rows of every committed batch again, oldest business date first: rows whose
/// customer and account are now defined load as a batch of the held file; the others are held on
/// — until a batch of the same kind with a later business date than their last day has been
/// committed, when they are rejected (`unknown_reference`). A held file whose batch was replaced,
/// reverted or never committed is removed; one whose release was committed is removed too (also
/// when a run was killed before it could be: its content is then recognised as imported).
pub async fn release_held(
    store: &Store,
    facts: &FactWriter,
    options: &ImportOptions,
    actor: &Actor,
    feedback: Feedback<'_>,
) -> Result<Vec<Release>, ImportError> {
    let dir = crate::held::held_dir(facts.root());
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(Vec::new());
    };
    let mut files: Vec<(crate::held::HeldName, PathBuf)> = entries
        .flatten()
        .filter_map(|e| {
            let name = crate::held::parse_held_name(e.file_name().to_str()?)?;
            Some((name, e.path()))
        })
        .collect();
    files.sort_by(|a, b| (a.0.date, &a.1).cmp(&(b.0.date, &b.1)));
    if files.is_empty() {
        return Ok(Vec::new());
    }
    let batches = store.import_batches().await?;
    let latest = |kind: ExtractKind| {
        batches
            .iter()
            .filter(|b| b.kind == kind.as_str() && b.state == kam_store::BatchState::Committed)
            .map(|b| b.business_date)
            .max()
    };
    let Feedback { rejects, progress } = feedback;
    let mut released = Vec::new();
    for (held, path) in files {
        let origin = batches.iter().find(|b| b.batch_id == held.batch_id);
        match origin.map(|b| b.state) {
            Some(kam_store::BatchState::Committed) => {}
            // Still being written by this run's import (cannot happen after `recover`).
            Some(kam_store::BatchState::Pending) => continue,
            _ => {
                std::fs::remove_file(&path).map_err(|source| ImportError::Io {
                    file: path.display().to_string(),
                    source,
                })?;
                continue;
            }
        }
        let expired = latest(held.kind).is_some_and(|day| day > held.until);
        let mut mapping = Mapping::kam_default();
        if let Some(kind) = mapping.kinds.get_mut(&held.kind) {
            let left = u32::try_from((held.until - held.date).num_days()).unwrap_or(0);
            kind.hold_days = (!expired).then_some(left);
        }
        let options = ImportOptions {
            business_date: Some(held.date),
            replace: false,
            // Every held row is accounted for in the release's batch, rejected ones included.
            max_rejects: RejectLimit::Count(u64::MAX),
            keys_in_memory: options.keys_in_memory,
            references: Default::default(),
        };
        let outcome = match plan(store, &mapping, &path, &options).await? {
            Ok(plan) => {
                import_facts(
                    store,
                    facts,
                    plan,
                    &path,
                    &options,
                    actor,
                    Feedback {
                        rejects: &mut *rejects,
                        progress: &mut *progress,
                    },
                    true,
                )
                .await?
            }
            Err(outcome) => outcome,
        };
        if matches!(
            outcome,
            FileOutcome::Imported { .. } | FileOutcome::AlreadyImported { .. }
        ) {
            std::fs::remove_file(&path).map_err(|source| ImportError::Io {
                file: path.display().to_string(),
                source,
            })?;
        }
        released.push(Release {
            file: path,
            expired,
            outcome,
        });
    }
    Ok(released)
}

//! Streams one extract file through its mapping: decode, split, map columns to fields, parse and
//! check each field, detect duplicate business keys — handing on good rows and rejects as they
//! come, so memory does not grow with the file.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    fs::File,
    hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState},
    io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write},
    path::Path,
    path::PathBuf,
};

use encoding_rs_io::{DecodeReaderBytes, DecodeReaderBytesBuilder};
use kam_core::customer::mask_middle;

use crate::{
    kind::{ExtractKind, FieldSpec, FieldType},
    mapping::IdNumberCheck,
    mapping::{Column, KindMapping, Layout, looks_like_authentication_data},
    reject::{Reject, RejectCode, Severity},
    value::{Value, parse_value},
};

/// One good row: values in the order of `kind.fields()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub line: u64,
    pub values: Vec<Value>,
    /// The source file of a row a kind's SQL query made (its `line` is that file's): what a
    /// reject of the row names instead of the staged result.
    pub source: Option<String>,
}

/// The amounts of one row, by field (what a row adds to `FileReport::amount_sums`).
pub type RowAmounts = Vec<(&'static str, i64)>;

impl Row {
    pub fn amounts(&self, kind: ExtractKind) -> RowAmounts {
        kind.fields()
            .iter()
            .zip(&self.values)
            .filter_map(|(field, value)| value.amount().map(|minor| (field.name, minor)))
            .collect()
    }
}

/// What became of every row of a file: rows read = loaded + rejected + duplicates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileReport {
    pub file: String,
    pub kind: ExtractKind,
    pub rows_read: u64,
    pub loaded: u64,
    pub rejected: u64,
    pub duplicates: u64,
    /// Rows held until the master data they name arrives (`unknown_reference = "hold"`):
    /// read = loaded + rejected + duplicates + held.
    pub held: u64,
    /// Rows loaded with a problem noted (not counted as rejected).
    pub warned: u64,
    /// Sum of each amount field over the loaded rows, in fen.
    pub amount_sums: BTreeMap<&'static str, i128>,
    /// Columns dropped because they look like authentication data, and similar notices.
    pub warnings: Vec<String>,
}

impl FileReport {
    /// A row the reader loaded but a later step refused: it moves from loaded to rejected and
    /// its amounts leave the sums, so the reconciliation still adds up.
    pub fn unload(&mut self, amounts: &[(&'static str, i64)]) {
        self.unload_as(amounts, Unloaded::Rejected);
    }

    /// As `unload`, counted as `to` says.
    pub fn unload_as(&mut self, amounts: &[(&'static str, i64)], to: Unloaded) {
        self.loaded -= 1;
        match to {
            Unloaded::Rejected => self.rejected += 1,
            Unloaded::Duplicate => self.duplicates += 1,
            Unloaded::Held => self.held += 1,
        }
        for (field, minor) in amounts {
            if let Some(sum) = self.amount_sums.get_mut(field) {
                *sum -= i128::from(*minor);
            }
        }
    }
}

/// Where a row the reader loaded and a later step took out is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unloaded {
    Rejected,
    /// A key an earlier batch committed.
    Duplicate,
    /// Held until the master data it names arrives.
    Held,
}

/// A file that cannot be read at all (as opposed to rows that are rejected).
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{file}: 无法读取（cannot read）: {source}")]
    Io { file: String, source: io::Error },
    #[error("{file}: {zh}（{en}）")]
    Layout {
        file: String,
        en: String,
        zh: String,
    },
}

impl ReadError {
    /// The reason in Chinese, without the file (a report names the file once, beside it).
    pub fn zh(&self) -> String {
        match self {
            Self::Io { source, .. } => format!("无法读取：{source}"),
            Self::Layout { zh, .. } => zh.clone(),
        }
    }

    /// The reason in English, without the file.
    pub fn en(&self) -> String {
        match self {
            Self::Io { source, .. } => format!("cannot read: {source}"),
            Self::Layout { en, .. } => en.clone(),
        }
    }
}

/// Business-key fingerprints held in memory by default before later keys go to disk: 7/8 of 2²⁰,
/// so the set's table stays at 2²⁰ slots (17 MiB) whatever the size of the file.
pub const KEYS_IN_MEMORY: usize = 917_504;

/// Spill files per set; a key's fingerprint picks one, so each is settled on its own.
const SPILL_PARTS: usize = 64;

/// One spilled key: fingerprint (16 bytes), file number (4), line (8).
const SPILL_ENTRY: usize = 28;

/// The business keys already read in one run, kept as 128-bit fingerprints (XXH3-128 of the key's
/// fields, seeded per run) instead of strings. Two different keys collide with probability about
/// n²/2¹²⁹ — for 10⁸ rows, 10⁻²³.
///
/// Memory is bounded: the first `memory_cap` fingerprints live in a hash set; once it is full,
/// a key found in it is a duplicate at once, and any other key is written to a spill file on disk
/// and provisionally loaded. At the end of each file the spill files are sorted and compared
/// (`settle`); a duplicate found there makes `read_file` read the file a second time with the
/// duplicate lines known. A file of any size thus needs the same memory, and only a file with
/// duplicates beyond the first `memory_cap` keys is read twice.
#[derive(Debug)]
pub struct KeySet {
    seen: HashSet<u128, BuildHasherDefault<Fingerprint>>,
    seed: u64,
    /// The key's fields, written one after the other with their lengths (reused per row).
    buffer: Vec<u8>,
    memory_cap: usize,
    spill_in: PathBuf,
    spill: Option<Spill>,
    /// The file being read, counted from 0; spilled keys carry it so that a duplicate is reported
    /// in the file where it occurs.
    file_no: u32,
}

#[derive(Debug)]
struct Spill {
    dir: tempfile::TempDir,
    parts: Vec<BufWriter<File>>,
    /// Whether the current file spilled anything (otherwise there is nothing new to settle).
    fresh: bool,
}

impl Default for KeySet {
    /// Every key in memory: for master data, whose rows are merged as they are read and so cannot
    /// be taken back by a second pass.
    fn default() -> Self {
        Self::bounded(usize::MAX, &std::env::temp_dir())
    }
}

impl KeySet {
    /// At most `memory_cap` fingerprints in memory; the rest spill into a temporary directory
    /// made inside `spill_in` (removed when the set is dropped).
    pub fn bounded(memory_cap: usize, spill_in: &Path) -> Self {
        Self {
            seen: HashSet::default(),
            seed: RandomState::new().hash_one(0u8),
            buffer: Vec::with_capacity(64),
            memory_cap,
            spill_in: spill_in.to_owned(),
            spill: None,
            file_no: 0,
        }
    }

    /// Records the key made of `values[positions]`, read at `line`; false when it was already
    /// there. A key spilled to disk counts as new until `settle` says otherwise.
    fn insert(&mut self, values: &[Value], positions: &[usize], line: u64) -> io::Result<bool> {
        self.buffer.clear();
        for position in positions {
            values[*position].write_key(&mut self.buffer);
        }
        let key = twox_hash::XxHash3_128::oneshot_with_seed(self.seed, &self.buffer);
        if self.seen.len() < self.memory_cap {
            return Ok(self.seen.insert(key));
        }
        if self.seen.contains(&key) {
            return Ok(false);
        }
        let spill = match &mut self.spill {
            Some(spill) => spill,
            None => self.spill.insert(Spill::create(&self.spill_in)?),
        };
        spill.fresh = true;
        let mut entry = [0u8; SPILL_ENTRY];
        entry[..16].copy_from_slice(&key.to_le_bytes());
        entry[16..20].copy_from_slice(&self.file_no.to_le_bytes());
        entry[20..].copy_from_slice(&line.to_le_bytes());
        // The top bits pick the part; the set's own table uses the low bits.
        spill.parts[(key >> 122) as usize].write_all(&entry)?;
        Ok(true)
    }

    /// Ends the current file: the lines of its rows whose key was spilled and had been read
    /// before (in this file or an earlier one), in order.
    fn settle(&mut self) -> io::Result<Vec<u64>> {
        let file_no = self.file_no;
        self.file_no += 1;
        let Some(spill) = self.spill.as_mut().filter(|s| s.fresh) else {
            return Ok(Vec::new());
        };
        spill.fresh = false;
        let mut duplicates = Vec::new();
        for (index, part) in spill.parts.iter_mut().enumerate() {
            part.flush()?;
            let bytes = std::fs::read(spill.dir.path().join(index.to_string()))?;
            let mut entries: Vec<(u128, u32, u64)> = bytes
                .chunks_exact(SPILL_ENTRY)
                .map(|e| {
                    (
                        u128::from_le_bytes(e[..16].try_into().expect("16 bytes")),
                        u32::from_le_bytes(e[16..20].try_into().expect("4 bytes")),
                        u64::from_le_bytes(e[20..].try_into().expect("8 bytes")),
                    )
                })
                .collect();
            entries.sort_unstable();
            // Within a run of equal fingerprints the first (earliest file, then line) is the
            // original; the others of the current file are its duplicates.
            for pair in entries.windows(2) {
                if pair[0].0 == pair[1].0 && pair[1].1 == file_no {
                    duplicates.push(pair[1].2);
                }
            }
        }
        duplicates.sort_unstable();
        Ok(duplicates)
    }

    pub fn len(&self) -> usize {
        self.seen.len()
    }

    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

impl Spill {
    fn create(parent: &Path) -> io::Result<Self> {
        std::fs::create_dir_all(parent)?;
        let dir = tempfile::Builder::new()
            .prefix(SPILL_PREFIX)
            .tempdir_in(parent)?;
        let parts = (0..SPILL_PARTS)
            .map(|index| {
                File::create(dir.path().join(index.to_string()))
                    .map(|file| BufWriter::with_capacity(64 * 1024, file))
            })
            .collect::<io::Result<_>>()?;
        Ok(Self {
            dir,
            parts,
            fresh: false,
        })
    }
}

/// The name prefix of spill directories, so a run killed mid-file can have its leftovers removed.
pub const SPILL_PREFIX: &str = ".keys-";

/// How a pass over a file decides duplicates.
enum Dedup<'a> {
    /// The first pass: keys against the set; the lines of the duplicates found at once.
    Keys {
        set: &'a mut KeySet,
        duplicates: Vec<u64>,
    },
    /// The second pass: every duplicate line is known (sorted).
    Known(&'a [u64]),
}

impl Dedup<'_> {
    fn is_duplicate(
        &mut self,
        values: &[Value],
        positions: &[usize],
        line: u64,
    ) -> io::Result<bool> {
        match self {
            Dedup::Keys { set, duplicates } => {
                let duplicate = !set.insert(values, positions, line)?;
                if duplicate {
                    duplicates.push(line);
                }
                Ok(duplicate)
            }
            Dedup::Known(lines) => Ok(lines.binary_search(&line).is_ok()),
        }
    }
}

/// The set's own hasher: a fingerprint is already uniformly random, so it is its own hash.
#[derive(Debug, Default)]
pub(crate) struct Fingerprint(u64);

impl Hasher for Fingerprint {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*byte);
        }
    }
    fn write_u128(&mut self, value: u128) {
        self.0 = value as u64 ^ (value >> 64) as u64;
    }
}

/// Where rows and rejects go.
pub trait RowSink {
    fn row(&mut self, row: Row);
    fn reject(&mut self, reject: Reject);
    /// Forget every row and reject of the current file: it is about to be read again, because
    /// duplicates were found only when its spilled keys were settled (see `KeySet`).
    fn restart(&mut self);
    /// Called every `PROGRESS_EVERY` rows with the rows read and the (decoded) bytes read so far.
    fn progress(&mut self, _rows_read: u64, _bytes_read: u64) {}
}

/// How often `RowSink::progress` is called.
pub const PROGRESS_EVERY: u64 = 64 * 1024;

/// Where each field's text comes from.
#[derive(Debug, Clone)]
enum Source {
    Index(usize, String),
    Constant(String),
    Absent,
}

/// Reads `path` as `mapping.kind`. `seen_keys` carries business keys across the files of one run,
/// so a key repeated in a second file is a duplicate too.
pub fn read_file(
    path: &Path,
    mapping: &KindMapping,
    seen_keys: &mut KeySet,
    sink: &mut impl RowSink,
) -> Result<FileReport, ReadError> {
    let spill_error = |source| ReadError::Io {
        file: format!("{} (business keys spilled to disk)", path.display()),
        source,
    };
    let mut first = Dedup::Keys {
        set: seen_keys,
        duplicates: Vec::new(),
    };
    let report = read_pass(path, mapping, &mut first, sink)?;
    let Dedup::Keys {
        set,
        mut duplicates,
    } = first
    else {
        unreachable!("the first pass checks keys")
    };
    let late = set.settle().map_err(spill_error)?;
    if late.is_empty() {
        return Ok(report);
    }
    duplicates.extend(late);
    duplicates.sort_unstable();
    sink.restart();
    read_pass(path, mapping, &mut Dedup::Known(&duplicates), sink)
}

/// One pass over a file; `dedup` says how duplicates are recognised.
fn read_pass(
    path: &Path,
    mapping: &KindMapping,
    dedup: &mut Dedup<'_>,
    sink: &mut impl RowSink,
) -> Result<FileReport, ReadError> {
    let file_name = path.display().to_string();
    let layout = |en: String, zh: String| ReadError::Layout {
        file: file_name.clone(),
        en,
        zh,
    };
    let mut reader = Records::open(path, &mapping.layout()).map_err(|e| match e {
        OpenError::Io(source) => ReadError::Io {
            file: file_name.clone(),
            source,
        },
        OpenError::Unreadable(en, zh) => ReadError::Layout {
            file: file_name.clone(),
            en,
            zh,
        },
    })?;
    let mut record = csv::StringRecord::new();
    for _ in 0..mapping.skip_rows {
        if !matches!(reader.next(&mut record), Ok(Some(_))) {
            break;
        }
    }

    let kind = mapping.kind;
    let mut report = FileReport {
        file: file_name.clone(),
        kind,
        rows_read: 0,
        loaded: 0,
        rejected: 0,
        duplicates: 0,
        held: 0,
        warned: 0,
        amount_sums: kind.amount_fields().map(|f| (f, 0)).collect(),
        warnings: Vec::new(),
    };

    let header: Option<Vec<String>> = if mapping.header {
        match reader.next(&mut record).map(|more| more.map(|_| &record)) {
            Ok(Some(record)) => Some(
                record
                    .iter()
                    .map(|h| h.trim().trim_start_matches('\u{feff}').to_owned())
                    .collect(),
            ),
            Err(e) => {
                return Err(layout(
                    format!("unreadable header row: {e}"),
                    format!("表头无法读取：{e}"),
                ));
            }
            Ok(None) => {
                return Err(layout(
                    "the file is empty: not even a header row".into(),
                    "文件为空：连表头都没有".into(),
                ));
            }
        }
    } else {
        None
    };
    if let Some(header) = &header {
        for column in header.iter().filter(|c| looks_like_authentication_data(c)) {
            report.warnings.push(format!(
                "列 {column} 疑似认证数据，已丢弃 / column {column} looks like authentication data and was dropped"
            ));
        }
    }
    let sources =
        resolve_sources(kind, mapping, header.as_deref()).map_err(|(en, zh)| layout(en, zh))?;
    if let Some(header) = &header {
        // A column a field reads must be named once: otherwise which one holds the value?
        for source in &sources {
            if let Source::Index(_, name) = source {
                let at: Vec<String> = header
                    .iter()
                    .enumerate()
                    .filter(|(_, h)| *h == name)
                    .map(|(i, _)| (i + 1).to_string())
                    .collect();
                if at.len() > 1 {
                    return Err(layout(
                        format!(
                            "the header names column \"{name}\" {} times (positions {}): which one holds the value is unclear; rename or remove the extra column, or map the field by position",
                            at.len(),
                            at.join(", ")
                        ),
                        format!(
                            "表头中列“{name}”出现 {} 次（第 {} 列），无法确定取哪一列；请重命名或删除多余的列，或按列位置映射",
                            at.len(),
                            at.join("、")
                        ),
                    ));
                }
            }
        }
    }
    let mut expected_width = header.as_ref().map(Vec::len);
    let places = Places::of(kind);
    // A kind's SQL query may carry its rows' source file and line (`_file`, `_line` of a source
    // table): rejects then name those, not the staged result.
    let origin = header
        .as_ref()
        .filter(|_| mapping.sql.is_some())
        .and_then(|h| {
            let at = |name: &str| h.iter().position(|c| c == name);
            at("_file").zip(at("_line"))
        });

    let key_positions: Vec<usize> = kind
        .business_key()
        .iter()
        .map(|k| {
            kind.fields()
                .iter()
                .position(|f| f.name == *k)
                .expect("key fields exist")
        })
        .collect();

    // Per field, in catalogue order; only amount fields ever add to theirs.
    let mut amount_sums = vec![0i128; kind.fields().len()];
    let mut warnings = Vec::new();
    // Splitting records (and decoding) runs on its own thread, a chunk ahead of the checks.
    let (chunks, received) = std::sync::mpsc::sync_channel::<Vec<Item>>(4);
    let (recycle, recycled) = std::sync::mpsc::channel::<Vec<Item>>();
    std::thread::scope(|scope| {
        scope.spawn(move || split_records(reader, &chunks, &recycled));
        for chunk in received {
            for item in &chunk {
                let (line, record) = match item {
                    Item::Record { line, byte, record } => {
                        report.rows_read += 1;
                        if report.rows_read.is_multiple_of(PROGRESS_EVERY) {
                            sink.progress(report.rows_read, *byte);
                        }
                        (*line, record)
                    }
                    Item::Failed(e) if matches!(e.kind(), csv::ErrorKind::Io(_)) => {
                        return Err(ReadError::Io {
                            file: file_name.clone(),
                            source: io::Error::other(e.to_string()),
                        });
                    }
                    Item::Failed(e) => {
                        report.rows_read += 1;
                        let line = e.position().map_or(0, |p| p.line());
                        report.rejected += 1;
                        sink.reject(Reject::of_row(
                            &file_name,
                            line,
                            RejectCode::Malformed,
                            format!("行无法解析：{e}"),
                            format!("the row cannot be parsed: {e}"),
                        ));
                        continue;
                    }
                };
                // Duplicates found late are known by the row's own line in this file.
                let own_line = line;
                let (file_name, line) = match origin {
                    Some((file_at, line_at)) => (
                        record
                            .get(file_at)
                            .filter(|f| !f.is_empty())
                            .unwrap_or(&file_name),
                        record
                            .get(line_at)
                            .and_then(|l| l.parse().ok())
                            .unwrap_or(line),
                    ),
                    None => (file_name.as_str(), line),
                };
                let width = *expected_width.get_or_insert(record.len());
                // The wrong width: a field-count reject, or one per line an unclosed quote swallowed.
                let wrong = width_rejects(record, width, file_name, line);
                if !wrong.is_empty() {
                    report.rows_read += wrong.len() as u64 - 1;
                    report.rejected += wrong.len() as u64;
                    wrong.into_iter().for_each(|reject| sink.reject(reject));
                    continue;
                }
                let built = build_row(
                    kind,
                    mapping,
                    (&sources, places),
                    record,
                    line,
                    file_name,
                    &mut warnings,
                );
                for warning in warnings.drain(..) {
                    report.warned += 1;
                    sink.reject(warning);
                }
                match built {
                    Ok(mut row) => {
                        if origin.is_some() {
                            row.source = Some(file_name.to_owned());
                        }
                        if !key_positions.is_empty()
                            && dedup
                                .is_duplicate(&row.values, &key_positions, own_line)
                                .map_err(|source| ReadError::Io {
                                    file: format!("{file_name} (business keys spilled to disk)"),
                                    source,
                                })?
                        {
                            report.duplicates += 1;
                            sink.reject(Reject {
                        field: kind.business_key().join("+"),
                        value: key_positions
                            .iter()
                            .map(|p| row.values[*p].key_text())
                            .collect::<Vec<_>>()
                            .join("|"),
                        ..Reject::of_row(
                            file_name,
                            line,
                            RejectCode::DuplicateKey,
                            "业务键重复：同一键已在本次导入中出现".into(),
                            "duplicate business key: the same key was already read in this run"
                                .into(),
                        )
                    });
                            continue;
                        }
                        for (sum, value) in amount_sums.iter_mut().zip(&row.values) {
                            if let Value::Amount(minor) = value {
                                *sum += i128::from(*minor);
                            }
                        }
                        report.loaded += 1;
                        sink.row(row);
                    }
                    Err(reject) => {
                        report.rejected += 1;
                        sink.reject(*reject);
                    }
                }
            }
            // Recycling the emptied chunk saves the splitter allocating records afresh; it may be gone.
            recycle.send(chunk).ok();
        }
        Ok(())
    })?;
    for (spec, sum) in kind.fields().iter().zip(amount_sums) {
        if spec.ty == FieldType::Amount {
            report.amount_sums.insert(spec.name, sum);
        }
    }
    Ok(report)
}

/// The rejects of a record of the wrong width, one per line it takes (none when its width is
/// right): an unclosed quote swallowed the lines after it — the first reject names the quote,
/// each swallowed line is a row read and rejected —, otherwise one field-count reject. Only a
/// record of the wrong width is scanned (not every row's bytes).
pub(crate) fn width_rejects(
    record: &csv::StringRecord,
    width: usize,
    file: &str,
    line: u64,
) -> Vec<Reject> {
    if record.len() == width {
        return Vec::new();
    }
    let spanned = lines_spanned(record);
    if spanned == 1 {
        return vec![Reject::of_row(
            file,
            line,
            RejectCode::FieldCount,
            format!("应有 {width} 个字段，实际 {} 个", record.len()),
            format!("expected {width} fields, found {}", record.len()),
        )];
    }
    let last = line + spanned - 1;
    let mut rejects = vec![Reject::of_row(
        file,
        line,
        RejectCode::UnclosedQuote,
        format!("第 {line} 行的引号没有闭合：第 {line}–{last} 行被读成了一个字段"),
        format!(
            "the quote opened on line {line} is not closed: lines {line}–{last} were read as one field"
        ),
    )];
    rejects.extend((line + 1..=last).map(|swallowed| {
        Reject::of_row(
            file,
            swallowed,
            RejectCode::UnclosedQuote,
            format!("被第 {line} 行未闭合的引号吞入"),
            format!("swallowed by the quote left open on line {line}"),
        )
    }));
    rejects
}

/// The lines a record spans: one plus the line breaks inside its fields (the break that ends the
/// file is not a line of its own). More than one in a record of the wrong width means a quote was
/// opened and not closed where it should have been.
fn lines_spanned(record: &csv::StringRecord) -> u64 {
    let fields = record.len();
    1 + record
        .iter()
        .enumerate()
        .map(|(i, field)| {
            let field = if i + 1 == fields {
                field.trim_end_matches(['\r', '\n'])
            } else {
                field
            };
            field.bytes().filter(|b| *b == b'\n').count() as u64
        })
        .sum::<u64>()
}

/// One record from the splitting thread, or why it could not be split.
enum Item {
    Record {
        line: u64,
        /// Bytes read so far, for progress.
        byte: u64,
        record: csv::StringRecord,
    },
    Failed(csv::Error),
}

/// Records taken from a chunk per hand-over: enough to make a channel send rare.
const SPLIT_CHUNK: usize = 1024;

/// The splitting thread: reads records into chunks until the file ends, an I/O error, or the
/// checking side stops listening. Records of chunks that come back are reused.
fn split_records(
    mut reader: Records,
    chunks: &std::sync::mpsc::SyncSender<Vec<Item>>,
    recycled: &std::sync::mpsc::Receiver<Vec<Item>>,
) {
    let mut spare: Vec<csv::StringRecord> = Vec::new();
    let mut spare_chunks: Vec<Vec<Item>> = Vec::new();
    loop {
        while let Ok(mut returned) = recycled.try_recv() {
            spare.extend(returned.drain(..).filter_map(|item| match item {
                Item::Record { record, .. } => Some(record),
                Item::Failed(_) => None,
            }));
            spare_chunks.push(returned);
        }
        let mut chunk = spare_chunks
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(SPLIT_CHUNK));
        let mut finished = false;
        while chunk.len() < SPLIT_CHUNK {
            let mut record = spare.pop().unwrap_or_default();
            match reader.next(&mut record) {
                Ok(Some((line, byte))) => chunk.push(Item::Record { line, byte, record }),
                Ok(None) => {
                    finished = true;
                    break;
                }
                Err(error) => {
                    finished = matches!(error.kind(), csv::ErrorKind::Io(_));
                    chunk.push(Item::Failed(error));
                    if finished {
                        break;
                    }
                }
            }
        }
        if (!chunk.is_empty() && chunks.send(chunk).is_err()) || finished {
            return;
        }
    }
}

fn resolve_sources(
    kind: ExtractKind,
    mapping: &KindMapping,
    header: Option<&[String]>,
) -> Result<Vec<Source>, (String, String)> {
    let index_of: HashMap<&str, usize> = header
        .map(|h| {
            h.iter()
                .enumerate()
                .map(|(i, name)| (name.as_str(), i))
                .collect()
        })
        .unwrap_or_default();
    let available = || header.map(|h| h.join(", ")).unwrap_or_default();
    // Every problem of the layout is collected, so one refusal names each once: a mapping is
    // mended in one go, not one field per run.
    let mut sources = Vec::with_capacity(kind.fields().len());
    let mut not_in_header: Vec<String> = Vec::new();
    let mut beyond: Vec<String> = Vec::new();
    let mut unmapped: Vec<&str> = Vec::new();
    for spec in kind.fields() {
        let source = match mapping.columns.get(spec.name) {
            Some(Column::Named(name)) => match index_of.get(name.as_str()) {
                Some(i) => Source::Index(*i, name.clone()),
                None => {
                    not_in_header.push(format!("\"{name}\" ({})", spec.name));
                    Source::Absent
                }
            },
            Some(Column::Position(position)) => {
                if header.is_some_and(|h| *position > h.len()) {
                    beyond.push(format!("{position} ({})", spec.name));
                }
                Source::Index(position - 1, format!("#{position}"))
            }
            None => {
                if let Some(index) = index_of.get(spec.name) {
                    Source::Index(*index, spec.name.to_owned())
                } else if let Some(constant) = mapping.constants.get(spec.name) {
                    Source::Constant(constant.clone())
                } else if spec.name == "currency" {
                    Source::Constant(mapping.currency.to_string())
                } else if spec.required && !(spec.name == "direction" && mapping.signed_amount) {
                    unmapped.push(spec.name);
                    Source::Absent
                } else {
                    Source::Absent
                }
            }
        };
        sources.push(source);
    }
    let (mut en, mut zh) = (Vec::new(), Vec::new());
    if !not_in_header.is_empty() {
        let list = not_in_header.join(", ");
        en.push(format!("the header has no column {list}"));
        zh.push(format!("表头中没有列 {list}"));
    }
    if !beyond.is_empty() {
        let columns = header.map_or(0, <[String]>::len);
        let list = beyond.join(", ");
        en.push(format!(
            "column positions {list} are beyond the header's {columns} columns"
        ));
        zh.push(format!("列位置 {list} 超出表头的 {columns} 列"));
    }
    if !unmapped.is_empty() {
        let list = unmapped.join(", ");
        en.push(format!(
            "the required fields {list} have no column and no constant"
        ));
        zh.push(format!(
            "必填字段 {} 既无对应列也无常量",
            unmapped.join("、")
        ));
    }
    if en.is_empty() {
        return Ok(sources);
    }
    if header.is_some() {
        en.push(format!("the file has: {}", available()));
        zh.push(format!("文件中的列：{}", available()));
    }
    Err((en.join("; "), zh.join("；")))
}

/// Where the fields the row rules read are: found once per file, not once per row.
#[derive(Debug, Clone, Copy)]
struct Places {
    business_date: Option<usize>,
    amount: Option<usize>,
    direction: Option<usize>,
    outstanding: Option<usize>,
    overdue_principal: Option<usize>,
}

impl Places {
    fn of(kind: ExtractKind) -> Self {
        let at = |name: &str| kind.fields().iter().position(|f| f.name == name);
        Self {
            business_date: at("business_date"),
            amount: at("amount"),
            direction: at("direction"),
            outstanding: at("outstanding"),
            overdue_principal: at("overdue_principal"),
        }
    }
}

fn build_row(
    kind: ExtractKind,
    mapping: &KindMapping,
    (sources, places): (&[Source], Places),
    record: &csv::StringRecord,
    line: u64,
    file: &str,
    warnings: &mut Vec<Reject>,
) -> Result<Row, Box<Reject>> {
    let mut values = Vec::with_capacity(sources.len());
    for (spec, source) in kind.fields().iter().zip(sources) {
        let (raw, column) = match source {
            Source::Index(index, column) => (record.get(*index).unwrap_or(""), column.as_str()),
            Source::Constant(text) => (text.as_str(), "(constant)"),
            Source::Absent => ("", ""),
        };
        let mapped = mapping
            .codes
            .get(spec.name)
            .and_then(|codes| codes.get(crate::value::trim(raw)))
            .map_or(raw, String::as_str);
        let reject = |code: RejectCode, zh: String, en: String| {
            Box::new(Reject {
                severity: Severity::Reject,
                file: file.to_owned(),
                line,
                column: column.to_owned(),
                field: spec.name.to_owned(),
                value: shown_value(spec, raw),
                code,
                message_zh: zh,
                message_en: en,
            })
        };
        let value = match parse_value(spec.ty, mapped, &mapping.dates, &mapping.amounts) {
            Ok(value) => value,
            Err(e)
                if e.code == RejectCode::BadIdNumber
                    && mapping.id_number_check == IdNumberCheck::Warn =>
            {
                let mut warning = *reject(
                    e.code,
                    format!("{}（按映射设置仅警告：行已载入，证件号未保存）", e.zh),
                    format!(
                        "{} (a warning by the mapping: the row loaded without the ID number)",
                        e.en
                    ),
                );
                warning.severity = Severity::Warning;
                warnings.push(warning);
                Value::Null
            }
            Err(e) => return Err(reject(e.code, e.zh, e.en)),
        };
        if value == Value::Null
            && spec.required
            && !(spec.name == "direction" && mapping.signed_amount)
        {
            return Err(reject(
                RejectCode::Missing,
                format!("必填字段 {} 为空", spec.name),
                format!("the required field {} is empty", spec.name),
            ));
        }
        values.push(value);
    }
    if let Some(reject) = row_rules(kind, mapping, (sources, places), &values, line, file) {
        return Err(reject);
    }
    if let (ExtractKind::Transactions, Some(amount_at), Some(direction_at)) =
        (kind, places.amount, places.direction)
        && let Value::Amount(minor) = values[amount_at]
    {
        if mapping.signed_amount && values[direction_at] == Value::Null {
            values[direction_at] = Value::Text(if minor < 0 { "debit" } else { "credit" }.into());
            values[amount_at] = Value::Amount(minor.abs());
        } else if minor <= 0 {
            let column = match &sources[amount_at] {
                Source::Index(_, c) => c.clone(),
                _ => String::new(),
            };
            return Err(Box::new(Reject {
            severity: Severity::Reject,
                file: file.to_owned(),
                line,
                column,
                field: "amount".into(),
                value: minor.to_string(),
                code: RejectCode::BadAmount,
                message_zh: "交易金额应为正数，方向由 direction 字段表示（或在映射中设置 signed_amount）".into(),
                message_en: "a transaction amount is positive; the direction field says which way (or set signed_amount in the mapping)".into(),
            }));
        }
    }
    Ok(Row {
        line,
        values,
        source: None,
    })
}

/// The rules of a row beyond its fields' types: a fact row belongs to its file's business date,
/// and a loan's amounts fit together. The first broken rule, as a reject naming its field.
fn row_rules(
    kind: ExtractKind,
    mapping: &KindMapping,
    (sources, places): (&[Source], Places),
    values: &[Value],
    line: u64,
    file: &str,
) -> Option<Box<Reject>> {
    let at = |name: &str| {
        kind.fields()
            .iter()
            .position(|f| f.name == name)
            .expect("field exists")
    };
    let reject = |field: &str, value: String, zh: String, en: String, code: RejectCode| {
        let column = match &sources[at(field)] {
            Source::Index(_, c) => c.clone(),
            Source::Constant(_) => "(constant)".into(),
            Source::Absent => String::new(),
        };
        Some(Box::new(Reject {
            severity: Severity::Reject,
            file: file.to_owned(),
            line,
            column,
            field: field.to_owned(),
            value,
            code,
            message_zh: zh,
            message_en: en,
        }))
    };
    if let (true, Some(expected), Some(date_at)) =
        (kind.is_fact(), mapping.business_date, places.business_date)
        && let Some(date) = values[date_at].date()
        && date != expected
    {
        return reject(
            "business_date",
            date.to_string(),
            format!(
                "业务日期 {date} 与文件的业务日期 {expected} 不符（文件名中的日期或 --business-date）"
            ),
            format!(
                "the business date {date} is not the file's business date {expected} (the date in its name, or --business-date)"
            ),
            RejectCode::DateMismatch,
        );
    }
    if let (ExtractKind::Loans, Some(outstanding_at), Some(overdue_at)) =
        (kind, places.outstanding, places.overdue_principal)
    {
        let outstanding = values[outstanding_at].amount().unwrap_or(0);
        let overdue = values[overdue_at].amount().unwrap_or(0);
        let money = |minor: i64| kam_core::money::decimal_text(i128::from(minor));
        if outstanding < 0 {
            return reject(
                "outstanding",
                money(outstanding),
                "贷款余额不能为负数".into(),
                "a loan's outstanding amount cannot be negative".into(),
                RejectCode::BadAmount,
            );
        }
        if overdue < 0 {
            return reject(
                "overdue_principal",
                money(overdue),
                "逾期本金不能为负数".into(),
                "overdue principal cannot be negative".into(),
                RejectCode::BadAmount,
            );
        }
        if overdue > outstanding {
            return reject(
                "overdue_principal",
                money(overdue),
                format!("逾期本金超过贷款余额 {}", money(outstanding)),
                format!(
                    "overdue principal is above the outstanding amount {}",
                    money(outstanding)
                ),
                RejectCode::Rule,
            );
        }
    }
    None
}

/// The value as shown in a reject: personal identifiers masked, long text cut.
fn shown_value(spec: &FieldSpec, raw: &str) -> String {
    let raw = raw.trim();
    if spec.ty.is_personal() {
        mask_middle(raw, 3, 4)
    } else {
        crate::reject::shown_text(raw)
    }
}

/// Where records come from: a delimited text file (streamed), or the first sheet of a workbook
/// (XLSX, XLS, ODS — read whole, which is why workbooks are for the small master kinds).
pub(crate) enum Records {
    /// Any encoding other than UTF-8, decoded to UTF-8 as it streams.
    Csv(Box<csv::Reader<DecodeReaderBytes<BufReader<File>, Vec<u8>>>>),
    /// UTF-8 (the common case) split as bytes and checked field by field: no transcoding pass.
    /// A field with invalid bytes gets U+FFFD in their place, as the decoder would give, so the
    /// row is rejected for its encoding naming that column.
    Utf8 {
        reader: Box<csv::Reader<BufReader<File>>>,
        bytes: csv::ByteRecord,
    },
    /// Rows with their 1-based sheet row numbers, cells already as text.
    Sheet(std::vec::IntoIter<(u64, Vec<String>)>),
    /// A Parquet file, one record batch at a time. The column names come first as if they were
    /// a header line (when the mapping expects one), so row N of the data is line N + 1.
    Parquet {
        rows: Box<kam_facts::TextRows>,
        header: Option<Vec<String>>,
        line: u64,
        /// The file's size, to turn rows read into an estimate of bytes read for progress.
        size: u64,
    },
}

pub(crate) enum OpenError {
    Io(io::Error),
    /// Not readable as the workbook or Parquet file its name says it is: (en, zh).
    Unreadable(String, String),
}

/// True for the file names read as workbooks rather than delimited text.
pub fn is_workbook(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| ["xlsx", "xlsm", "xls", "ods"].contains(&e.to_ascii_lowercase().as_str()))
}

/// True for the file names read as Parquet.
pub fn is_parquet(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| ["parquet", "parq"].contains(&e.to_ascii_lowercase().as_str()))
}

impl Records {
    pub(crate) fn open(path: &Path, mapping: &Layout<'_>) -> Result<Self, OpenError> {
        if is_workbook(path) {
            return read_sheet(path, mapping).map(|rows| Records::Sheet(rows.into_iter()));
        }
        if is_parquet(path) {
            let size = std::fs::metadata(path).map_err(OpenError::Io)?.len();
            let rows = kam_facts::TextRows::open(path, &mapping.dates.pattern).map_err(|e| {
                OpenError::Unreadable(
                    format!("not a readable Parquet file: {e}"),
                    format!("无法作为 Parquet 文件读取：{e}"),
                )
            })?;
            let header = mapping.header.then(|| rows.columns().to_vec());
            return Ok(Records::Parquet {
                rows: Box::new(rows),
                header,
                line: 0,
                size,
            });
        }
        let mut file = File::open(path).map_err(OpenError::Io)?;
        let mut builder = csv::ReaderBuilder::new();
        builder
            .has_headers(false)
            .flexible(true)
            .delimiter(mapping.delimiter);
        match mapping.quote {
            Some(quote) => builder.quote(quote),
            None => builder.quoting(false),
        };
        if mapping.encoding == encoding_rs::UTF_8 {
            // A UTF-8 byte order mark is skipped; a UTF-16 one overrides the declared encoding,
            // which the decoding path below handles.
            let mut start = [0u8; 3];
            let read = read_up_to(&mut file, &mut start).map_err(OpenError::Io)?;
            let utf16 = read >= 2 && (start[..2] == [0xFF, 0xFE] || start[..2] == [0xFE, 0xFF]);
            if !utf16 {
                let skip = if start[..read] == [0xEF, 0xBB, 0xBF] {
                    3
                } else {
                    0
                };
                file.seek(SeekFrom::Start(skip)).map_err(OpenError::Io)?;
                return Ok(Records::Utf8 {
                    reader: Box::new(builder.from_reader(BufReader::with_capacity(1 << 20, file))),
                    bytes: csv::ByteRecord::new(),
                });
            }
            file.seek(SeekFrom::Start(0)).map_err(OpenError::Io)?;
        }
        let decoded = DecodeReaderBytesBuilder::new()
            .encoding(Some(mapping.encoding))
            .bom_override(true)
            .strip_bom(true)
            .build(BufReader::with_capacity(1 << 20, file));
        Ok(Records::Csv(Box::new(builder.from_reader(decoded))))
    }

    /// The next record into `record`, with its line (or sheet row) number and the bytes read so
    /// far (0 for sheets); `None` at the end.
    pub(crate) fn next(
        &mut self,
        record: &mut csv::StringRecord,
    ) -> Result<Option<(u64, u64)>, csv::Error> {
        match self {
            Records::Csv(reader) => Ok(reader
                .read_record(record)?
                .then(|| record.position().map_or((0, 0), |p| (p.line(), p.byte())))),
            Records::Utf8 { reader, bytes } => {
                if !reader.read_byte_record(bytes)? {
                    return Ok(None);
                }
                record.clear();
                for field in bytes.iter() {
                    match std::str::from_utf8(field) {
                        Ok(text) => record.push_field(text),
                        Err(_) => record.push_field(&String::from_utf8_lossy(field)),
                    }
                }
                Ok(Some(
                    bytes.position().map_or((0, 0), |p| (p.line(), p.byte())),
                ))
            }
            Records::Parquet {
                rows,
                header,
                line,
                size,
            } => {
                *line += 1;
                if let Some(names) = header.take() {
                    record.clear();
                    names.iter().for_each(|name| record.push_field(name));
                    return Ok(Some((*line, 0)));
                }
                let total = rows.total_rows().max(1);
                let done = *line;
                let Some(cells) = rows
                    .next_row()
                    .map_err(|e| csv::Error::from(io::Error::other(e.to_string())))?
                else {
                    return Ok(None);
                };
                record.clear();
                cells.iter().for_each(|cell| record.push_field(cell));
                let byte = u128::from(*size) * u128::from(done.min(total)) / u128::from(total);
                Ok(Some((*line, u64::try_from(byte).unwrap_or(u64::MAX))))
            }
            Records::Sheet(rows) => Ok(rows.next().map(|(line, cells)| {
                record.clear();
                for cell in &cells {
                    record.push_field(cell);
                }
                (line, 0)
            })),
        }
    }
}

/// Reads until `buffer` is full or the file ends; the number of bytes read.
fn read_up_to(file: &mut File, buffer: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match file.read(&mut buffer[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// The first sheet as text rows. Cells become the text a person sees: numbers in their shortest
/// exact decimal form (so `1234.56` stays `1234.56` and is then parsed exactly, never used as a
/// float), dates in the mapping's date format, empty cells empty. Columns keep their sheet
/// positions, so positional mappings count from column A.
fn read_sheet(path: &Path, mapping: &Layout<'_>) -> Result<Vec<(u64, Vec<String>)>, OpenError> {
    use calamine::{Data, Reader};
    let unreadable = |e: &dyn std::fmt::Display| {
        OpenError::Unreadable(
            format!("not a readable workbook: {e}"),
            format!("无法作为 Excel/ODS 工作簿读取：{e}"),
        )
    };
    let mut workbook = calamine::open_workbook_auto(path).map_err(|e| unreadable(&e))?;
    let range = match workbook.worksheet_range_at(0) {
        Some(Ok(range)) => range,
        Some(Err(e)) => return Err(unreadable(&e)),
        None => {
            return Err(OpenError::Unreadable(
                "the workbook has no sheet".into(),
                "工作簿中没有工作表".into(),
            ));
        }
    };
    let (first_row, first_column) = range.start().unwrap_or((0, 0));
    let text = |cell: &Data| -> String {
        match cell {
            Data::Empty => String::new(),
            Data::String(text) | Data::DateTimeIso(text) | Data::DurationIso(text) => text.clone(),
            Data::Int(n) => n.to_string(),
            Data::Float(f) => f.to_string(),
            Data::Bool(b) => b.to_string(),
            Data::DateTime(dt) => dt.as_datetime().map_or_else(
                || dt.as_f64().to_string(),
                |d| d.format(&mapping.dates.pattern).to_string(),
            ),
            Data::Error(e) => format!("#{e:?}"),
        }
    };
    Ok(range
        .rows()
        .enumerate()
        .filter(|(_, cells)| cells.iter().any(|c| *c != Data::Empty))
        .map(|(index, cells)| {
            let mut row = vec![String::new(); first_column as usize];
            row.extend(cells.iter().map(text));
            (u64::from(first_row) + index as u64 + 1, row)
        })
        .collect())
}

//! SQL staging: a bank's raw files (`account.csv`, `disp.csv`, …) read as the mapping's source
//! tables — each with its own layout — into Parquet tables of text, and the kinds the mapping
//! defines as SQL queries over them run by a query engine the caller provides (the binary's
//! DataFusion; kam-ingest does not link it). The results are files of kam's kinds, imported like
//! any other; their rows carry the source file and line back into the rejects.

use std::{
    collections::{BTreeMap, BTreeSet},
    fmt::Write as _,
    future::Future,
    path::{Path, PathBuf},
};

use chrono::NaiveDate;
use kam_facts::TextTableWriter;

use crate::{
    import::RejectLimit,
    kind::ExtractKind,
    mapping::{KindMapping, Mapping, SourceMapping},
    reader::{OpenError, ReadError, Records, width_rejects},
    reject::{Reject, RejectCode, shown_text},
};

/// Runs one kind's query over the staged source tables.
pub trait SqlEngine {
    /// Runs `query` over `tables` (table name → Parquet file of text columns) and writes its
    /// result to `out` as Parquet, every column text; the rows written, or the engine's reason.
    fn run(
        &self,
        tables: &[(String, PathBuf)],
        query: &str,
        out: &Path,
    ) -> impl Future<Output = Result<u64, String>> + Send;

    /// The tables `query` reads (its own CTEs aside), by the engine's parser; `None` when it
    /// cannot parse the query (running it says why).
    fn tables_read(&self, query: &str) -> Option<Vec<String>>;
}

/// Whether `query` reads `table` (case-insensitive): by the engine's parser, or — for a query it
/// cannot parse — when the name is a word of the query.
fn reads_table(engine: &impl SqlEngine, query: &str, table: &str) -> bool {
    match engine.tables_read(query) {
        Some(tables) => tables.iter().any(|t| t.eq_ignore_ascii_case(table)),
        None => names_table(query, table),
    }
}

/// How one source table was read: every row read is staged or rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceReport {
    pub name: String,
    pub files: Vec<String>,
    pub rows_read: u64,
    pub staged: u64,
    pub rejected: u64,
}

/// What the staging did: the source tables read, the kinds' results to import, and the kinds
/// that could not be staged with the reason (zh-CN, en).
#[derive(Debug, Default)]
pub struct Staging {
    pub sources: Vec<SourceReport>,
    pub staged: Vec<PathBuf>,
    pub refused: Vec<(ExtractKind, String, String)>,
    /// The inputs that are source tables: read by the staging, not imported as files themselves.
    pub source_files: Vec<PathBuf>,
}

/// The one-row table of the run a query may join: `kam_run.business_date` (`YYYY-MM-DD`).
pub const RUN_TABLE: &str = "kam_run";

/// The columns kam adds to every source table: the file and line each row came from.
pub const ORIGIN_COLUMNS: [&str; 2] = ["_file", "_line"];

/// True when `query` names `table` as a word (case-insensitive): the fallback of `reads_table`
/// for a query the engine cannot parse.
pub fn names_table(query: &str, table: &str) -> bool {
    let query = query.to_ascii_lowercase();
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    query.match_indices(table).any(|(at, _)| {
        let before = query[..at].chars().next_back();
        let after = query[at + table.len()..].chars().next();
        !before.is_some_and(is_word) && !after.is_some_and(is_word)
    })
}

/// Reads the files of one source table into one Parquet table at `out`: a row of the wrong width,
/// an unclosed quote, undecodable bytes or a date column holding no date is rejected (file, line,
/// column, value) and left out; the others are written with their file and line.
pub fn stage_source(
    files: &[PathBuf],
    source: &SourceMapping,
    out: &Path,
    rejects: &mut Vec<Reject>,
) -> Result<SourceReport, ReadError> {
    let mut report = SourceReport {
        name: source.name.clone(),
        files: files.iter().map(|f| f.display().to_string()).collect(),
        rows_read: 0,
        staged: 0,
        rejected: 0,
    };
    let mut table: Option<(TextTableWriter, Vec<String>)> = None;
    for path in files {
        let file = path.display().to_string();
        let layout = |en: String, zh: String| ReadError::Layout {
            file: file.clone(),
            en,
            zh,
        };
        let mut records = Records::open(path, &source.layout()).map_err(|e| match e {
            OpenError::Io(source) => ReadError::Io {
                file: file.clone(),
                source,
            },
            OpenError::Unreadable(en, zh) => layout(en, zh),
        })?;
        let mut record = csv::StringRecord::new();
        for _ in 0..source.skip_rows {
            if !matches!(records.next(&mut record), Ok(Some(_))) {
                break;
            }
        }
        let header: Vec<String> = if source.header {
            match records.next(&mut record) {
                Ok(Some(_)) => record
                    .iter()
                    .map(|h| h.trim().trim_start_matches('\u{feff}').to_owned())
                    .collect(),
                Ok(None) => {
                    return Err(layout(
                        "the file is empty: not even a header row".into(),
                        "文件为空：连表头都没有".into(),
                    ));
                }
                Err(e) => {
                    return Err(layout(
                        format!("unreadable header row: {e}"),
                        format!("表头无法读取：{e}"),
                    ));
                }
            }
        } else {
            source.names.clone()
        };
        check_header(&header, source).map_err(|(en, zh)| layout(en, zh))?;
        match &table {
            Some((_, first)) if *first != header => {
                return Err(layout(
                    format!(
                        "the columns ({}) are not those of the table's first file ({})",
                        header.join(", "),
                        first.join(", ")
                    ),
                    format!(
                        "列（{}）与该源表第一个文件的列（{}）不同",
                        header.join("、"),
                        first.join("、")
                    ),
                ));
            }
            Some(_) => {}
            None => {
                let mut columns: Vec<&str> = header.iter().map(String::as_str).collect();
                columns.extend(ORIGIN_COLUMNS);
                let writer = TextTableWriter::create(out, &columns).map_err(|e| ReadError::Io {
                    file: out.display().to_string(),
                    source: std::io::Error::other(e.to_string()),
                })?;
                table = Some((writer, header.clone()));
            }
        }
        let Some((writer, _)) = table.as_mut() else {
            unreachable!("the table was created above")
        };
        let dates: Vec<usize> = source
            .date_columns
            .iter()
            .filter_map(|d| header.iter().position(|h| h == d))
            .collect();
        let width = header.len();
        let mut cells: Vec<String> = Vec::with_capacity(width + 2);
        loop {
            let line = match records.next(&mut record) {
                Ok(Some((line, _))) => line,
                Ok(None) => break,
                Err(e) if matches!(e.kind(), csv::ErrorKind::Io(_)) => {
                    return Err(ReadError::Io {
                        file: file.clone(),
                        source: std::io::Error::other(e.to_string()),
                    });
                }
                Err(e) => {
                    report.rows_read += 1;
                    report.rejected += 1;
                    let line = e.position().map_or(0, |p| p.line());
                    rejects.push(Reject::of_row(
                        &file,
                        line,
                        RejectCode::Malformed,
                        format!("行无法解析：{e}"),
                        format!("the row cannot be parsed: {e}"),
                    ));
                    continue;
                }
            };
            report.rows_read += 1;
            match stage_row(&record, &header, &dates, source, (&file, line)) {
                Ok(()) => {}
                Err(mut problems) => {
                    // One reject per line: an unclosed quote's swallowed lines are rows read too.
                    report.rows_read += problems.len() as u64 - 1;
                    report.rejected += problems.len() as u64;
                    rejects.append(&mut problems);
                    continue;
                }
            }
            // The row's cells into the same buffers each time: no allocation per cell.
            cells.resize_with(width + 2, String::new);
            for (cell, text) in cells.iter_mut().zip(record.iter()) {
                cell.clear();
                cell.push_str(text);
            }
            for &at in &dates {
                let text = cells[at].trim();
                if !text.is_empty() {
                    let date = source.dates.parse(text).expect("checked by stage_row");
                    cells[at].clear();
                    write!(cells[at], "{}", date.format("%Y-%m-%d")).expect("writing to a string");
                }
            }
            cells[width].clear();
            cells[width].push_str(&file);
            cells[width + 1].clear();
            write!(cells[width + 1], "{line}").expect("writing to a string");
            writer.write(&cells).map_err(|e| ReadError::Io {
                file: out.display().to_string(),
                source: std::io::Error::other(e.to_string()),
            })?;
            report.staged += 1;
        }
    }
    if let Some((writer, _)) = table {
        writer.finish().map_err(|e| ReadError::Io {
            file: out.display().to_string(),
            source: std::io::Error::other(e.to_string()),
        })?;
    }
    Ok(report)
}

/// The header of a source file: each column named once, none of kam's own names, every date
/// column present.
fn check_header(header: &[String], source: &SourceMapping) -> Result<(), (String, String)> {
    let mut seen = BTreeSet::new();
    for name in header {
        if ORIGIN_COLUMNS.contains(&name.as_str()) {
            return Err((
                format!("column {name}: kam adds _file and _line itself; rename the column"),
                format!("列 {name}：_file 与 _line 由 kam 添加，请重命名该列"),
            ));
        }
        if !seen.insert(name) {
            return Err((
                format!("the header names column \"{name}\" twice"),
                format!("表头中列“{name}”出现两次"),
            ));
        }
    }
    let missing: Vec<&str> = source
        .date_columns
        .iter()
        .filter(|d| !header.contains(d))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        return Err((
            format!(
                "the date columns {} are not in the file (its columns: {})",
                missing.join(", "),
                header.join(", ")
            ),
            format!(
                "日期列 {} 不在文件中（文件的列：{}）",
                missing.join("、"),
                header.join("、")
            ),
        ));
    }
    Ok(())
}

/// Checks one source row: its width, its bytes, its dates. The rejects of a bad row.
fn stage_row(
    record: &csv::StringRecord,
    header: &[String],
    dates: &[usize],
    source: &SourceMapping,
    (file, line): (&str, u64),
) -> Result<(), Vec<Reject>> {
    let wrong = width_rejects(record, header.len(), file, line);
    if !wrong.is_empty() {
        return Err(wrong);
    }
    let at_column = |at: usize, code, zh: String, en: String, value: &str| Reject {
        column: header[at].clone(),
        field: header[at].clone(),
        value: shown_text(value),
        ..Reject::of_row(file, line, code, zh, en)
    };
    if let Some(at) = record.iter().position(|cell| cell.contains('\u{fffd}')) {
        let encoding = source.encoding.name();
        return Err(vec![at_column(
            at,
            RejectCode::Encoding,
            format!("含有不是 {encoding} 编码的字节"),
            format!("holds bytes that are not {encoding}"),
            &record[at],
        )]);
    }
    for &at in dates {
        let text = record[at].trim();
        if !text.is_empty() && source.dates.parse(text).is_none() {
            let pattern = &source.dates.pattern;
            return Err(vec![at_column(
                at,
                RejectCode::BadDate,
                format!("不是 {pattern} 格式的日期"),
                format!("not a date in the format {pattern}"),
                text,
            )]);
        }
    }
    Ok(())
}

/// The name of a kind's staged result: its business date in the name, as a file of the kind's
/// pattern in the mapping (`loans.sql_19981231.parquet`).
pub fn staged_name(kind: ExtractKind, business_date: NaiveDate) -> String {
    format!("{kind}.sql_{}.parquet", business_date.format("%Y%m%d"))
}

/// Stages the mapping's SQL kinds from `inputs`: reads each source table a query names, then
/// runs each kind's query into `work`. A source table with no file, or with more rejected rows
/// than `limit` allows, keeps the kinds that name it from being staged (they are refused, with
/// the reason); a query the engine refuses is refused naming the mapping file's line.
pub async fn stage_sql(
    mapping: &Mapping,
    inputs: &[PathBuf],
    business_date: NaiveDate,
    limit: RejectLimit,
    work: &Path,
    engine: &impl SqlEngine,
    rejects: &mut Vec<Reject>,
) -> Result<Staging, ReadError> {
    let mut staging = Staging::default();
    let mut by_source: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for path in inputs {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if let Some(source) = mapping.source_for(name) {
            by_source
                .entry(source.name.clone())
                .or_default()
                .push(path.clone());
            staging.source_files.push(path.clone());
        }
    }
    let kinds: Vec<&KindMapping> = mapping.sql_kinds().collect();
    if kinds.is_empty() {
        return Ok(staging);
    }
    std::fs::create_dir_all(work).map_err(|source| ReadError::Io {
        file: work.display().to_string(),
        source,
    })?;
    // Why a source table cannot be used: (zh, en).
    let mut unusable: BTreeMap<String, (String, String)> = BTreeMap::new();
    // The run itself as a table: the business date the queries compute for (a loan's months
    // elapsed, a fact row's date).
    let run = work.join(format!("{RUN_TABLE}.parquet"));
    let io = |source: kam_facts::FactError| ReadError::Io {
        file: run.display().to_string(),
        source: std::io::Error::other(source.to_string()),
    };
    let mut writer = TextTableWriter::create(&run, &["business_date"]).map_err(io)?;
    writer
        .write(&[business_date.format("%Y-%m-%d").to_string()])
        .map_err(io)?;
    writer.finish().map_err(io)?;
    let mut tables = vec![(RUN_TABLE.to_owned(), run.clone())];
    for source in mapping.sources.values() {
        let named = kinds.iter().any(|k| {
            k.sql
                .as_ref()
                .is_some_and(|q| reads_table(engine, &q.text, &source.name))
        });
        if !named {
            continue;
        }
        let Some(files) = by_source.get(&source.name) else {
            unusable.insert(
                source.name.clone(),
                (
                    format!(
                        "源表 {} 没有文件（files = \"{}\"）",
                        source.name, source.files
                    ),
                    format!(
                        "source table {} has no file (files = \"{}\")",
                        source.name, source.files
                    ),
                ),
            );
            continue;
        };
        let out = work.join(format!("{}.parquet", source.name));
        let (files_owned, source_owned, out_owned) = (files.clone(), source.clone(), out.clone());
        let (report, mut source_rejects) = tokio::task::spawn_blocking(move || {
            let mut rejects = Vec::new();
            stage_source(&files_owned, &source_owned, &out_owned, &mut rejects)
                .map(|report| (report, rejects))
        })
        .await
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic.into_panic()))?;
        rejects.append(&mut source_rejects);
        if limit.exceeded(report.rejected, report.rows_read) {
            unusable.insert(
                source.name.clone(),
                (
                    format!(
                        "源表 {} 拒绝 {} 行（共 {} 行），超过 --max-rejects 上限 {}",
                        source.name,
                        report.rejected,
                        report.rows_read,
                        limit.text()
                    ),
                    format!(
                        "source table {}: {} of {} rows rejected, above --max-rejects {}",
                        source.name,
                        report.rejected,
                        report.rows_read,
                        limit.text()
                    ),
                ),
            );
        } else {
            tables.push((source.name.clone(), out));
        }
        staging.sources.push(report);
    }
    for kind in kinds {
        let query = kind.sql.as_ref().expect("a SQL kind");
        let blocked: Vec<&(String, String)> = unusable
            .iter()
            .filter(|(name, _)| reads_table(engine, &query.text, name))
            .map(|(_, why)| why)
            .collect();
        if !blocked.is_empty() {
            staging.refused.push((
                kind.kind,
                blocked
                    .iter()
                    .map(|(zh, _)| zh.as_str())
                    .collect::<Vec<_>>()
                    .join("；"),
                blocked
                    .iter()
                    .map(|(_, en)| en.as_str())
                    .collect::<Vec<_>>()
                    .join("; "),
            ));
            continue;
        }
        let out = work.join(staged_name(kind.kind, business_date));
        match engine.run(&tables, &query.text, &out).await {
            Ok(_) => staging.staged.push(out),
            Err(reason) => staging.refused.push((
                kind.kind,
                format!(
                    "映射文件 {} 第 {} 行 [kinds.{}] 的查询无法执行：{reason}",
                    mapping.source, query.line, kind.kind
                ),
                format!(
                    "the query of [kinds.{}] at line {} of the mapping {} cannot run: {reason}",
                    kind.kind, query.line, mapping.source
                ),
            )),
        }
    }
    Ok(staging)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_names_a_table_only_as_a_whole_word() {
        let query = "select * from account a join disp d on d.account_id = a.account_id";
        assert!(names_table(query, "account"));
        assert!(names_table(query, "disp"));
        assert!(!names_table(query, "acc"));
        assert!(!names_table(query, "account_id_map"));
        assert!(names_table("SELECT x FROM Loan", "loan"));
    }
}

#[cfg(test)]
mod staging_tests {
    use super::*;
    use crate::mapping::Mapping;

    fn source() -> SourceMapping {
        let mapping = Mapping::parse(
            "m.toml",
            "version = 1\n[sources.t]\nfiles = \"t_*.csv\"\ndelimiter = \"|\"\ndate_format = \"%Y%m%d\"\n\
             dates = [\"D\"]\n[kinds.products]\nfiles = \"p*\"\n",
        )
        .unwrap();
        mapping.sources["t"].clone()
    }

    #[test]
    fn a_source_table_keeps_good_rows_with_their_line_and_rejects_the_others() {
        let dir = tempfile::tempdir().unwrap();
        let first = dir.path().join("t_1.csv");
        std::fs::write(
            &first,
            "A|D\nx|20261127\ny|20261399\nz\n\"open|20261127\nw|20261128\n",
        )
        .unwrap();
        let second = dir.path().join("t_2.csv");
        std::fs::write(&second, "A|D\nv|\n").unwrap();
        let out = dir.path().join("t.parquet");
        let mut rejects = Vec::new();
        let report = stage_source(&[first, second.clone()], &source(), &out, &mut rejects).unwrap();
        let codes: Vec<(u64, RejectCode)> = rejects.iter().map(|r| (r.line, r.code)).collect();
        assert_eq!(codes[0], (3, RejectCode::BadDate));
        assert_eq!(codes[1], (4, RejectCode::FieldCount));
        assert!(
            codes[2..]
                .iter()
                .all(|(_, c)| *c == RejectCode::UnclosedQuote),
            "{codes:?}"
        );
        assert_eq!(
            report.rows_read,
            report.staged + report.rejected,
            "{report:?}"
        );
        assert_eq!(report.staged, 2, "x and v; the quote swallowed w");
        let mut rows = kam_facts::TextRows::open(&out, "%Y-%m-%d").unwrap();
        assert_eq!(rows.columns(), ["A", "D", "_file", "_line"]);
        let first_row = rows.next_row().unwrap().unwrap().to_vec();
        assert_eq!(&first_row[..2], ["x", "2026-11-27"]);
        assert!(first_row[2].ends_with("t_1.csv") && first_row[3] == "2");
        // A file with other columns than the table's first is refused, naming both.
        let other = dir.path().join("t_3.csv");
        std::fs::write(&other, "A|D|E\nq|20261127|r\n").unwrap();
        let error = stage_source(&[second, other], &source(), &out, &mut Vec::new()).unwrap_err();
        assert!(
            error.en().contains("not those of the table's first file"),
            "{error}"
        );
    }
}

//! `kam import` and its subcommands, as the CLI shows them: `check` reads files through a mapping
//! and reports what an import would load and reject (writing nothing but an optional rejects
//! file); the import itself, `status` and `revert` call kam-ingest's import.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use anyhow::Context;
use chrono::NaiveDate;
use kam_core::money::decimal_text;
use kam_ingest::{
    ExtractKind, FileReport, KeySet, Mapping, Reject, Row, RowSink, check_file,
    import::{RejectLimit, collect_files, date_in_name},
    stage::{SqlEngine, Staging, stage_sql},
    write_rejects,
};

/// SQL staging's engine: kam-query's DataFusion session.
struct DataFusion;

impl SqlEngine for DataFusion {
    fn run(
        &self,
        tables: &[(String, PathBuf)],
        query: &str,
        out: &Path,
    ) -> impl Future<Output = Result<u64, String>> + Send {
        kam_query::staging::run_query(tables, query, out)
    }

    fn tables_read(&self, query: &str) -> Option<Vec<String>> {
        kam_query::staging::tables_read(query).ok()
    }
}

/// The files of a run after SQL staging: the inputs that are not source tables, then the kinds'
/// staged results (a mapping without SQL kinds leaves the inputs as they are). The staged files'
/// business date is `--business-date`, or the latest date in the source files' names, or `fallback`
/// (the night's day folder).
async fn stage(
    mapping: &Mapping,
    inputs: Vec<PathBuf>,
    (business_date, fallback): (Option<NaiveDate>, Option<NaiveDate>),
    limit: RejectLimit,
    work: &Path,
    rejects: &mut Vec<Reject>,
) -> anyhow::Result<(Vec<PathBuf>, Staging)> {
    if mapping.sql_kinds().next().is_none() {
        return Ok((inputs, Staging::default()));
    }
    let named_date = inputs
        .iter()
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| mapping.source_for(n).is_some())
        })
        .filter_map(|p| date_in_name(p.file_name()?.to_str()?))
        .max();
    let Some(date) = business_date.or(named_date).or(fallback) else {
        anyhow::bail!(
            "映射中有以 SQL 定义的类型：请用 --business-date 指定业务日期（源文件名中没有 YYYYMMDD 日期） / \
             the mapping defines kinds by SQL: give --business-date (no YYYYMMDD date in the source files' names)"
        );
    };
    // Left by a run that was killed: staged results are made again from the sources.
    if work.exists() {
        std::fs::remove_dir_all(work).with_context(|| format!("removing {}", work.display()))?;
    }
    let staging = stage_sql(mapping, &inputs, date, limit, work, &DataFusion, rejects).await?;
    let mut files: Vec<PathBuf> = inputs
        .into_iter()
        .filter(|p| !staging.source_files.contains(p))
        .collect();
    files.extend(staging.staged.iter().cloned());
    Ok((files, staging))
}

/// The summary rows of SQL staging: each source table read, and each kind that was not staged.
fn staging_rows(staging: &Staging, date: Option<NaiveDate>) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for source in &staging.sources {
        let files: Vec<&str> = source
            .files
            .iter()
            .map(|f| {
                Path::new(f)
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or(f)
            })
            .collect();
        rows.push(vec![
            files.join(" "),
            format!("源表 source {}", source.name),
            "—".to_owned(),
            source.rows_read.to_string(),
            source.staged.to_string(),
            source.rejected.to_string(),
            "—".to_owned(),
            "—".to_owned(),
            "已暂存 staged".to_owned(),
        ]);
    }
    for (kind, _, _) in &staging.refused {
        let name = date.map_or_else(
            || format!("{kind}.sql"),
            |d| kam_ingest::stage::staged_name(*kind, d),
        );
        let mut row = vec![name, kind.as_str().to_owned(), "—".to_owned()];
        row.extend(["—"; 5].map(str::to_owned));
        row.push("未导入 refused".to_owned());
        rows.push(row);
    }
    rows
}

/// Keeps every reject (for the rejects file) and counts rows without keeping them.
#[derive(Debug, Default)]
struct CheckSink {
    rejects: Vec<Reject>,
    /// Where the current file's rejects begin.
    file_start: usize,
}

impl RowSink for CheckSink {
    fn row(&mut self, _row: Row) {}
    fn reject(&mut self, reject: Reject) {
        self.rejects.push(reject);
    }
    fn restart(&mut self) {
        self.rejects.truncate(self.file_start);
    }
}

/// Shows the first rejects on the terminal (all of them go to `--rejects FILE`).
fn print_rejects(rejects: &[Reject]) {
    const SHOWN: usize = 20;
    for reject in rejects.iter().take(SHOWN) {
        let column = if reject.column.is_empty() {
            "(row)"
        } else {
            &reject.column
        };
        println!(
            "  {}:{} [{}] {column} = “{}”: {} / {}",
            reject.file,
            reject.line,
            reject.code,
            reject.value,
            reject.message_zh,
            reject.message_en
        );
    }
    if rejects.len() > SHOWN {
        let more = rejects.len() - SHOWN;
        println!("  … 另有 {more} 条 / {more} more");
    }
}

/// Runs the check; returns the exit status: 0 everything read cleanly, 3 rows were rejected, 4 a
/// file could not be read or matched no kind.
pub async fn check(
    mapping_path: Option<&Path>,
    inputs: &[PathBuf],
    business_date: Option<NaiveDate>,
    rejects_path: Option<&Path>,
) -> anyhow::Result<u8> {
    let mapping = match mapping_path {
        Some(path) => Mapping::from_path(path)?,
        None => Mapping::kam_default(),
    };
    let mut sink = CheckSink::default();
    let work = std::env::temp_dir().join(format!("kam-check-staging-{}", std::process::id()));
    let (files, staging) = stage(
        &mapping,
        collect_files(inputs)?,
        (business_date, None),
        RejectLimit::Count(u64::MAX),
        &work,
        &mut sink.rejects,
    )
    .await?;
    let checked = check_files(&mapping, &files, &mut sink);
    std::fs::remove_dir_all(&work).ok();
    let (reports, mut problems) = checked?;
    for (_, zh, en) in &staging.refused {
        problems.push(format!("{zh} / {en}"));
    }
    for source in &staging.sources {
        println!(
            "源表 source {}: 读取 read {}, 暂存 staged {}, 拒绝 rejected {}",
            source.name, source.rows_read, source.staged, source.rejected
        );
    }
    print_check(&reports, &sink, rejects_path, &problems)
}

/// Checks each file of a mapping's kind; the reports and the files that could not be checked.
fn check_files(
    mapping: &Mapping,
    files: &[PathBuf],
    sink: &mut CheckSink,
) -> anyhow::Result<(Vec<FileReport>, Vec<String>)> {
    let mut seen: BTreeMap<ExtractKind, KeySet> = BTreeMap::new();
    let mut reports: Vec<FileReport> = Vec::new();
    let mut problems = Vec::new();
    for path in files {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name.ends_with(".ok") || name.ends_with(".ctl") || name.starts_with('.') {
            continue;
        }
        let Some(kind) = mapping.kind_for(name) else {
            problems.push(format!(
                "{}: 映射中没有匹配此文件名的类型 / no kind of the mapping matches this file name",
                path.display()
            ));
            continue;
        };
        // Nothing is merged by a check, so every kind may spill its keys and be read twice.
        let keys = seen.entry(kind.kind).or_insert_with(|| {
            KeySet::bounded(kam_ingest::reader::KEYS_IN_MEMORY, &std::env::temp_dir())
        });
        sink.file_start = sink.rejects.len();
        match check_file(path, kind, keys, sink) {
            Ok(report) => {
                if let Err((zh, en)) =
                    kam_ingest::control::check_control_file(path, kind.amounts, &report)
                {
                    problems.push(format!("{zh} / {en}"));
                }
                reports.push(report);
            }
            Err(error) => problems.push(error.to_string()),
        }
    }
    Ok((reports, problems))
}

/// Prints a check's table, rejects and problems; the exit status (0 clean, 3 rejects, 4 errors).
fn print_check(
    reports: &[FileReport],
    sink: &CheckSink,
    rejects_path: Option<&Path>,
    problems: &[String],
) -> anyhow::Result<u8> {
    println!(
        "{:<44} {:<14} {:>10} {:>10} {:>8} {:>8}  金额合计 amount sums",
        "文件 file", "类型 kind", "读取 read", "载入 ok", "拒绝 rej", "重复 dup"
    );
    for r in reports {
        let file = Path::new(&r.file)
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or(&r.file);
        let sums: Vec<String> = r
            .amount_sums
            .iter()
            .map(|(field, fen)| format!("{field}={}", decimal_text(*fen)))
            .collect();
        println!(
            "{file:<44} {:<14} {:>10} {:>10} {:>8} {:>8}  {}",
            r.kind.as_str(),
            r.rows_read,
            r.loaded,
            r.rejected,
            r.duplicates,
            sums.join(" ")
        );
        for warning in &r.warnings {
            println!("    ! {warning}");
        }
    }
    let total = |f: fn(&FileReport) -> u64| reports.iter().map(f).sum::<u64>();
    println!(
        "合计 total: {} 个文件 files, 读取 read {}, 载入 loaded {}, 拒绝 rejected {}, 重复 duplicates {}",
        reports.len(),
        total(|r| r.rows_read),
        total(|r| r.loaded),
        total(|r| r.rejected),
        total(|r| r.duplicates)
    );
    print_rejects(&sink.rejects);
    if let Some(path) = rejects_path {
        write_rejects(path, &sink.rejects)
            .with_context(|| format!("writing {}", path.display()))?;
        println!("拒绝记录已写入 rejects written to {}", path.display());
    }
    for problem in problems {
        println!("错误 error: {problem}");
    }
    Ok(match (problems.is_empty(), sink.rejects.is_empty()) {
        (true, true) => 0,
        (true, false) => 3,
        (false, _) => 4,
    })
}

/// Options of `kam import` itself.
#[derive(Debug)]
pub struct RunArgs<'a> {
    pub mapping: Option<&'a Path>,
    pub inputs: &'a [PathBuf],
    pub options: kam_ingest::import::ImportOptions,
    pub rejects_path: Option<&'a Path>,
    /// The business date of SQL-staged kinds when neither `--business-date` nor the source files'
    /// names give one (the night's day folder).
    pub staging_date: Option<NaiveDate>,
    /// Where the nights page follows the run (file by file, rows as they are read).
    pub watch: Option<&'a crate::nightly::Watch>,
}

/// How a run of `kam import` ended, file by file: what the exit status says (docs/extracts.md).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RunOutcome {
    /// Files committed in this run.
    pub imported: usize,
    /// Files whose content was committed before (nothing done).
    pub already: usize,
    /// Files refused whole (nothing of them committed).
    pub refused: usize,
    /// Rows rejected in committed files (within `--max-rejects`).
    pub rejected_rows: u64,
}

impl RunOutcome {
    /// The exit status a scheduler reads: 0 all in and clean, 3 all in with rejected rows, 4 some
    /// files refused, 5 every file refused.
    pub fn exit_code(&self) -> u8 {
        match (self.imported + self.already, self.refused) {
            (_, 0) if self.rejected_rows == 0 => 0,
            (_, 0) => 3,
            (0, _) => 5,
            _ => 4,
        }
    }

    /// What the exit status means, in both languages.
    pub fn verdict(&self) -> &'static str {
        match self.exit_code() {
            0 => "全部导入 / every file imported",
            3 => "全部导入，但有被拒绝的行 / every file imported, some rows rejected",
            4 => {
                "部分导入：有文件未导入，见上表与原因 / partly imported: some files were not imported (table and reasons above)"
            }
            _ => {
                "未导入任何文件，见上表与原因 / nothing imported: every file was refused (table and reasons above)"
            }
        }
    }
}

/// Imports fact files; says file by file how they ended, and prints a summary table.
pub async fn run(
    store: &kam_store::Store,
    facts_dir: &Path,
    args: RunArgs<'_>,
) -> anyhow::Result<RunOutcome> {
    use kam_ingest::import::{FileOutcome, import_file, import_order, recover};
    let mapping = match args.mapping {
        Some(path) => Mapping::from_path(path)?,
        None => Mapping::kam_default(),
    };
    let facts = kam_facts::FactWriter::new(facts_dir);
    let actor = kam_store::Actor::system("import");
    // The lock is held until the run ends: no second import works on these facts meanwhile.
    let recovery = recover(store, &facts, &actor).await?;
    for undone in &recovery.undone {
        println!("已撤销中断的批次 {undone} / undid the interrupted batch {undone}");
    }
    if recovery.staging_removed > 0 {
        let n = recovery.staging_removed;
        println!(
            "已删除中断运行遗留的暂存文件 {n} 个 / removed {n} staging files left by an interrupted run"
        );
    }
    let mut rejects = Vec::new();
    let work = facts_dir.join(".sql-staging");
    let (files, staging) = stage(
        &mapping,
        collect_files(args.inputs)?,
        (args.options.business_date, args.staging_date),
        args.options.max_rejects,
        &work,
        &mut rejects,
    )
    .await?;
    let files = import_order(&mapping, files);
    let mut outcome = RunOutcome::default();
    let mut lines = Vec::new();
    // The summary: one row per file, whatever became of it.
    let mut table = vec![
        [
            "文件 file",
            "类型 kind",
            "批次 batch",
            "读取 read",
            "载入 loaded",
            "拒绝 rejected",
            "重复 dup",
            "暂挂 held",
            "结果 outcome",
        ]
        .map(str::to_owned)
        .to_vec(),
    ];
    let staged_date = staging
        .staged
        .first()
        .and_then(|p| date_in_name(p.file_name()?.to_str()?));
    table.extend(staging_rows(
        &staging,
        staged_date.or(args.options.business_date),
    ));
    outcome.refused += staging.refused.len();
    outcome.rejected_rows += staging.sources.iter().map(|s| s.rejected).sum::<u64>();
    for (kind, zh, en) in &staging.refused {
        lines.push(format!("未导入 NOT imported {kind}: {zh} / {en}"));
        if let Some(watch) = args.watch {
            watch.update(|p| {
                p.ended.push(kam_web::FileEnded {
                    name: format!("{kind} (SQL)"),
                    kind: kind.to_string(),
                    loaded: 0,
                    rejected: 0,
                    outcome: kam_web::FileEnd::Refused,
                });
            });
        }
    }
    let counts = |r: Option<&FileReport>| -> [String; 5] {
        match r {
            Some(r) => {
                [r.rows_read, r.loaded, r.rejected, r.duplicates, r.held].map(|n| n.to_string())
            }
            None => ["—", "—", "—", "—", "—"].map(str::to_owned),
        }
    };
    for (index, path) in files.iter().enumerate() {
        // One bar per file over its bytes: rows/s in the message, throughput and ETA from bytes.
        let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        let bar = indicatif::ProgressBar::new(size);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{prefix} [{elapsed_precise}] {wide_bar} {binary_bytes}/{binary_total_bytes} ({binary_bytes_per_sec}, ETA {eta}) {msg}",
            )
            .expect("valid template"),
        );
        bar.set_prefix(format!("{}/{}", index + 1, files.len()));
        let started = std::time::Instant::now();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        if let Some(watch) = args.watch {
            watch.update(|p| {
                p.file = Some(name.clone());
                p.file_index = index;
                p.files = files.len();
                (p.rows, p.bytes, p.size) = (0, 0, size);
            });
        }
        let mut progress = |rows: u64, bytes: u64| {
            if let Some(watch) = args.watch {
                watch.update(|p| (p.rows, p.bytes) = (rows, bytes));
            }
            bar.set_position(bytes);
            let rate = rows as f64 / started.elapsed().as_secs_f64().max(1e-3);
            bar.set_message(format!("{rows} 行 rows, {rate:.0} 行/秒 rows/s"));
        };
        let kind = mapping
            .kind_for(&name)
            .map_or_else(|| "—".to_owned(), |k| k.kind.as_str().to_owned());
        let file_outcome = import_file(
            store,
            &facts,
            &mapping,
            path,
            &args.options,
            &actor,
            kam_ingest::import::Feedback {
                rejects: &mut rejects,
                progress: &mut progress,
            },
        )
        .await?;
        bar.finish_and_clear();
        if let Some(watch) = args.watch {
            let count = |n: i64| u64::try_from(n).unwrap_or(0);
            let (loaded, rejected, end) = match &file_outcome {
                FileOutcome::Imported { report, .. } => {
                    (report.loaded, report.rejected, kam_web::FileEnd::Imported)
                }
                FileOutcome::AlreadyImported { batch } => (
                    count(batch.loaded),
                    count(batch.rejected),
                    kam_web::FileEnd::Already,
                ),
                FileOutcome::Refused { report, .. } => (
                    report.as_ref().map_or(0, |r| r.loaded),
                    report.as_ref().map_or(0, |r| r.rejected),
                    kam_web::FileEnd::Refused,
                ),
            };
            watch.update(|p| {
                p.ended.push(kam_web::FileEnded {
                    name: name.clone(),
                    kind: if kind == "—" {
                        String::new()
                    } else {
                        kind.clone()
                    },
                    loaded,
                    rejected,
                    outcome: end,
                });
            });
        }
        match file_outcome {
            FileOutcome::Imported {
                batch_id,
                report,
                replaced,
                bytes,
                merged,
            } => {
                let sums: Vec<String> = report
                    .amount_sums
                    .iter()
                    .map(|(f, fen)| format!("{f}={}", decimal_text(*fen)))
                    .collect();
                // Each part only when it says something: master kinds have no amounts.
                let mut parts = vec![format!(
                    "读取 read {} = 载入 loaded {} + 拒绝 rejected {} + 重复 duplicates {}",
                    report.rows_read, report.loaded, report.rejected, report.duplicates
                )];
                if !sums.is_empty() {
                    parts.push(sums.join(" "));
                }
                parts.push(merged.map_or_else(
                    || format!("{:.1} MB", bytes as f64 / 1e6),
                    |m| {
                        format!(
                            "新增 inserted {} 更新 updated {} 未变 unchanged {}",
                            m.inserted,
                            m.updated,
                            report.loaded.saturating_sub(m.inserted + m.updated)
                        )
                    },
                ));
                if let Some(old) = replaced {
                    parts.push(format!("替换 replaced {old}"));
                }
                lines.push(format!("导入 imported {batch_id}: {}", parts.join("; ")));
                lines.extend(report.warnings.iter().map(|w| format!("    ! {w}")));
                outcome.imported += 1;
                outcome.rejected_rows += report.rejected;
                let mut row = vec![name, kind, batch_id];
                row.extend(counts(Some(&report)));
                row.push("导入 imported".to_owned());
                table.push(row);
            }
            FileOutcome::AlreadyImported { batch } => {
                lines.push(format!(
                    "已导入过，跳过 already imported as {} ({})",
                    batch.batch_id, batch.file_name
                ));
                outcome.already += 1;
                let mut row = vec![name, kind, batch.batch_id.clone()];
                row.extend(
                    [
                        batch.rows_read,
                        batch.loaded,
                        batch.rejected,
                        batch.duplicates,
                        batch.held,
                    ]
                    .map(|n| n.to_string()),
                );
                row.push("已导入过 already".to_owned());
                table.push(row);
            }
            FileOutcome::Refused {
                file,
                zh,
                en,
                report,
            } => {
                outcome.refused += 1;
                lines.push(format!("未导入 NOT imported {file}: {zh} / {en}"));
                lines.extend(
                    report
                        .iter()
                        .flat_map(|r| &r.warnings)
                        .map(|w| format!("    ! {w}")),
                );
                let mut row = vec![name, kind, "—".to_owned()];
                row.extend(counts(report.as_ref()));
                row.push("未导入 refused".to_owned());
                table.push(row);
            }
        }
    }
    if work.exists() {
        std::fs::remove_dir_all(&work).with_context(|| format!("removing {}", work.display()))?;
    }
    // Rows held on earlier nights for master data this run may have brought.
    let releases = kam_ingest::import::release_held(
        store,
        &facts,
        &args.options,
        &actor,
        kam_ingest::import::Feedback {
            rejects: &mut rejects,
            progress: &mut |_, _| {},
        },
    )
    .await?;
    for release in &releases {
        let name = release
            .file
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        let kind = kam_ingest::held::parse_held_name(&name)
            .map_or_else(String::new, |h| h.kind.as_str().to_owned());
        let (batch, report, verdict) = match &release.outcome {
            _ if release.still_held() => ("—".to_owned(), None, "仍在等待主数据 still held"),
            FileOutcome::Imported {
                batch_id, report, ..
            } => {
                outcome.imported += 1;
                outcome.rejected_rows += report.rejected;
                lines.push(format!(
                    "释放暂挂行 released held rows {batch_id}: 载入 loaded {} 拒绝 rejected {} 仍暂挂 still held {}",
                    report.loaded, report.rejected, report.held
                ));
                let verdict = if release.expired {
                    "到期，余者拒绝 expired, rest rejected"
                } else {
                    "已释放 released"
                };
                (batch_id.clone(), Some(report), verdict)
            }
            FileOutcome::AlreadyImported { batch } => {
                (batch.batch_id.clone(), None, "已释放过 already released")
            }
            FileOutcome::Refused { zh, en, report, .. } => {
                outcome.refused += 1;
                lines.push(format!("未释放 NOT released {name}: {zh} / {en}"));
                ("—".to_owned(), report.as_ref(), "未导入 refused")
            }
        };
        let mut row = vec![name, kind, batch];
        row.extend(counts(report));
        row.push(verdict.to_owned());
        table.push(row);
    }
    for line in lines {
        println!("{line}");
    }
    print_rejects(&rejects);
    if let Some(path) = args.rejects_path {
        write_rejects(path, &rejects).with_context(|| format!("writing {}", path.display()))?;
        println!(
            "拒绝记录 {} 条已写入 / {} rejects written to {}",
            rejects.len(),
            rejects.len(),
            path.display()
        );
    }
    if table.len() > 1 {
        println!();
        crate::report::print_lines(crate::report::table_lines(&table));
    }
    Ok(outcome)
}

/// Prints the ledger.
pub async fn status(store: &kam_store::Store) -> anyhow::Result<()> {
    let mut rows = vec![
        [
            "批次 batch",
            "类型 kind",
            "业务日期 date",
            "状态 state",
            "读取 read",
            "载入 loaded",
            "拒绝 rejected",
            "重复 dup",
            "暂挂 held",
            "文件 file",
        ]
        .map(str::to_owned)
        .to_vec(),
    ];
    for b in store.import_batches().await? {
        rows.push(vec![
            b.batch_id,
            b.kind,
            b.business_date.to_string(),
            b.state.to_string(),
            b.rows_read.to_string(),
            b.loaded.to_string(),
            b.rejected.to_string(),
            b.duplicates.to_string(),
            b.held.to_string(),
            b.file_name,
        ]);
    }
    crate::report::print_lines(crate::report::table_lines(&rows));
    Ok(())
}

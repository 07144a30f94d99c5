//! `kam import` and its subcommands, as the CLI shows them: `check` reads files through a mapping
//! and reports what an import would load and reject (writing nothing but an optional rejects
//! file); the import itself, `status` and `revert` call kam-ingest's import.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use anyhow::Context;
use kam_core::money::decimal_text;
use kam_ingest::{
    ExtractKind, FileReport, KeySet, Mapping, Reject, Row, RowSink, check_file,
    import::collect_files, write_rejects,
};

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

/// Runs the check; returns whether everything read cleanly (no file errors, no rejects).
pub fn check(
    mapping_path: Option<&Path>,
    inputs: &[PathBuf],
    rejects_path: Option<&Path>,
) -> anyhow::Result<bool> {
    let mapping = match mapping_path {
        Some(path) => Mapping::from_path(path)?,
        None => Mapping::kam_default(),
    };
    let files = collect_files(inputs)?;
    let mut seen: BTreeMap<ExtractKind, KeySet> = BTreeMap::new();
    let mut sink = CheckSink::default();
    let mut reports: Vec<FileReport> = Vec::new();
    let mut problems = Vec::new();
    for path in &files {
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
        match check_file(path, kind, keys, &mut sink) {
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
    println!(
        "{:<44} {:<14} {:>10} {:>10} {:>8} {:>8}  金额合计 amount sums",
        "文件 file", "类型 kind", "读取 read", "载入 ok", "拒绝 rej", "重复 dup"
    );
    for r in &reports {
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
    for problem in &problems {
        println!("错误 error: {problem}");
    }
    Ok(problems.is_empty() && sink.rejects.is_empty())
}

/// Options of `kam import` itself.
#[derive(Debug)]
pub struct RunArgs<'a> {
    pub mapping: Option<&'a Path>,
    pub inputs: &'a [PathBuf],
    pub options: kam_ingest::import::ImportOptions,
    pub rejects_path: Option<&'a Path>,
}

/// Imports fact files; returns whether every file was imported or already present.
pub async fn run(
    store: &kam_store::Store,
    facts_dir: &Path,
    args: RunArgs<'_>,
) -> anyhow::Result<bool> {
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
    let files = import_order(&mapping, collect_files(args.inputs)?);
    let mut rejects = Vec::new();
    let mut all_good = true;
    let mut lines = Vec::new();
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
        let mut progress = |rows: u64, bytes: u64| {
            bar.set_position(bytes);
            let rate = rows as f64 / started.elapsed().as_secs_f64().max(1e-3);
            bar.set_message(format!("{rows} 行 rows, {rate:.0} 行/秒 rows/s"));
        };
        let outcome = import_file(
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
        match outcome {
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
            }
            FileOutcome::AlreadyImported { batch } => {
                lines.push(format!(
                    "已导入过，跳过 already imported as {} ({})",
                    batch.batch_id, batch.file_name
                ));
            }
            FileOutcome::Refused {
                file,
                zh,
                en,
                report,
            } => {
                all_good = false;
                let counts = report
                    .as_ref()
                    .map(|r| {
                        format!(
                            " [read {} loaded {} rejected {} duplicates {}]",
                            r.rows_read, r.loaded, r.rejected, r.duplicates
                        )
                    })
                    .unwrap_or_default();
                lines.push(format!("未导入 NOT imported {file}: {zh} / {en}{counts}"));
                lines.extend(
                    report
                        .iter()
                        .flat_map(|r| &r.warnings)
                        .map(|w| format!("    ! {w}")),
                );
            }
        }
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
    Ok(all_good)
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
            b.file_name,
        ]);
    }
    crate::report::print_lines(crate::report::table_lines(&rows));
    Ok(())
}

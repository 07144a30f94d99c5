//! `kam import check`: reads extract files through a mapping and reports what an import would
//! load and reject — without writing anything but the optional rejects file.

use std::{
    collections::{BTreeMap, HashSet},
    path::{Path, PathBuf},
};

use anyhow::{Context, bail};
use kam_ingest::{
    ExtractKind, FileReport, Mapping, Reject, Row, RowSink, read_file, write_rejects,
};

/// Keeps every reject (for the rejects file) and counts rows without keeping them.
#[derive(Debug, Default)]
struct CheckSink {
    rejects: Vec<Reject>,
}

impl RowSink for CheckSink {
    fn row(&mut self, _row: Row) {}
    fn reject(&mut self, reject: Reject) {
        self.rejects.push(reject);
    }
}

/// Files given directly, and the files of given directories (recursively, sorted by path so the
/// order — and so which of two duplicate rows is kept — never depends on the file system).
pub fn collect_files(inputs: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut stack: Vec<PathBuf> = inputs.to_vec();
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            for entry in
                std::fs::read_dir(&path).with_context(|| format!("reading {}", path.display()))?
            {
                stack.push(entry?.path());
            }
        } else if path.exists() {
            files.push(path);
        } else {
            bail!("文件不存在 / no such file: {}", path.display());
        }
    }
    files.sort();
    Ok(files)
}

fn yuan(fen: i128) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let abs = fen.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
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
    let mut seen: BTreeMap<ExtractKind, HashSet<String>> = BTreeMap::new();
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
        match read_file(path, kind, seen.entry(kind.kind).or_default(), &mut sink) {
            Ok(report) => reports.push(report),
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
            .map(|(field, fen)| format!("{field}={}", yuan(*fen)))
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
    for reject in sink.rejects.iter().take(20) {
        println!(
            "  {}:{} [{}] {} = “{}”: {} / {}",
            reject.file,
            reject.line,
            reject.code,
            if reject.column.is_empty() {
                "(row)"
            } else {
                &reject.column
            },
            reject.value,
            reject.message_zh,
            reject.message_en
        );
    }
    if sink.rejects.len() > 20 {
        println!(
            "  … 另有 {} 条 / {} more",
            sink.rejects.len() - 20,
            sink.rejects.len() - 20
        );
    }
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

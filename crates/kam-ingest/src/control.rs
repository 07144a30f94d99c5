//! Control files (`.ok` / `.ctl`) that banks send beside an extract with its expected row count
//! and amount total. A mismatch means the file is incomplete or altered: the batch is refused.
//!
//! Accepted contents: `rows=N` and `amount=TOTAL` lines (any order, `#` comments), or one line
//! `N|TOTAL` (also `,` or tab separated). The total is in the mapping's amount unit.

use std::path::{Path, PathBuf};

use crate::{
    kind::FieldType,
    reader::FileReport,
    value::{AmountFormat, DateFormat, Value, parse_value},
};

/// What a control file promises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Control {
    pub rows: u64,
    /// In fen.
    pub amount_total: Option<i64>,
}

/// The control file of an extract, if one exists: `X.csv.ok`, `X.ok`, `X.csv.ctl` or `X.ctl`.
pub fn find_control(path: &Path) -> Option<PathBuf> {
    let name = path.file_name()?.to_str()?;
    let stem = path.file_stem()?.to_str()?;
    ["ok", "ctl"]
        .iter()
        .flat_map(|ext| {
            [
                path.with_file_name(format!("{name}.{ext}")),
                path.with_file_name(format!("{stem}.{ext}")),
            ]
        })
        .find(|candidate| candidate.is_file())
}

fn amount(text: &str, amounts: AmountFormat) -> Result<i64, String> {
    let dates = DateFormat {
        pattern: "%Y-%m-%d".into(),
        century_pivot: 50,
    };
    match parse_value(FieldType::Amount, text, &dates, &amounts) {
        Ok(Value::Amount(minor)) => Ok(minor),
        Ok(_) => Err("empty amount".into()),
        Err(e) => Err(e.en),
    }
}

pub fn parse_control(text: &str, amounts: AmountFormat) -> Result<Control, String> {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let mut rows = None;
    let mut amount_total = None;
    if lines.iter().any(|l| l.contains('=')) {
        for line in lines {
            let (key, value) = line
                .split_once('=')
                .ok_or_else(|| format!("not key=value: {line}"))?;
            match key.trim().to_ascii_lowercase().as_str() {
                "rows" | "count" | "records" => {
                    rows = Some(
                        value
                            .trim()
                            .parse::<u64>()
                            .map_err(|_| format!("rows is not a whole number: {value}"))?,
                    );
                }
                "amount" | "total" | "amount_total" => {
                    amount_total = Some(amount(value.trim(), amounts)?);
                }
                _ => {}
            }
        }
    } else if let [line] = lines.as_slice() {
        let mut parts = line.split(['|', ',', '\t']).map(str::trim);
        rows = parts
            .next()
            .map(|n| {
                n.parse::<u64>()
                    .map_err(|_| format!("rows is not a whole number: {n}"))
            })
            .transpose()?;
        amount_total = parts.next().map(|a| amount(a, amounts)).transpose()?;
    }
    let rows = rows.ok_or("no row count (rows=N)")?;
    Ok(Control { rows, amount_total })
}

/// Checks a read file against its control file; the message says both sides in zh-CN and en.
pub fn verify(control: &Control, report: &FileReport) -> Result<(), (String, String)> {
    if control.rows != report.rows_read {
        return Err((
            format!(
                "控制文件记载 {} 行，文件实际 {} 行",
                control.rows, report.rows_read
            ),
            format!(
                "the control file says {} rows, the file has {}",
                control.rows, report.rows_read
            ),
        ));
    }
    if let (Some(expected), Some((field, &actual))) =
        (control.amount_total, report.amount_sums.iter().next())
    {
        if report.rejected + report.duplicates > 0 {
            return Ok(()); // a rejected row's amount is unknown; the row count above still holds
        }
        if i128::from(expected) != actual {
            return Err((
                format!("控制文件记载 {field} 合计 {expected} 分，文件实际 {actual} 分"),
                format!(
                    "the control file says {field} totals {expected} fen, the file totals {actual}"
                ),
            ));
        }
    }
    Ok(())
}

/// Finds, reads, parses and verifies the control file of `path`, if it has one. The error names
/// the control file and says both sides, in zh-CN and en.
pub fn check_control_file(
    path: &Path,
    amounts: AmountFormat,
    report: &FileReport,
) -> Result<(), (String, String)> {
    let Some(control_path) = find_control(path) else {
        return Ok(());
    };
    let shown = control_path.display();
    std::fs::read_to_string(&control_path)
        .map_err(|e| {
            (
                format!("控制文件无法读取：{e}"),
                format!("the control file cannot be read: {e}"),
            )
        })
        .and_then(|text| {
            parse_control(&text, amounts).map_err(|e| {
                (
                    format!("控制文件格式错误：{e}"),
                    format!("the control file is malformed: {e}"),
                )
            })
        })
        .and_then(|control| verify(&control, report))
        .map_err(|(zh, en)| (format!("{shown}：{zh}"), format!("{shown}: {en}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_control_file_styles_parse() {
        assert_eq!(
            parse_control("rows=3\namount=12.50\n", AmountFormat::YUAN),
            Ok(Control {
                rows: 3,
                amount_total: Some(1250)
            })
        );
        assert_eq!(
            parse_control("3|1250", AmountFormat::FEN),
            Ok(Control {
                rows: 3,
                amount_total: Some(1250)
            })
        );
        assert_eq!(
            parse_control("# count only\n7\n", AmountFormat::YUAN),
            Ok(Control {
                rows: 7,
                amount_total: None
            })
        );
        assert!(parse_control("amount=1.00", AmountFormat::YUAN).is_err());
        assert!(parse_control("rows=x", AmountFormat::YUAN).is_err());
    }
}

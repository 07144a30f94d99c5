//! The one Excel writer of kam's exports (the pages' and the console's): a sheet named for what
//! it holds, a title row, a line saying what the data is (its date, the scope, who exported it
//! when), a frozen header row, numbers as numbers — amounts in the reader's unit with two
//! decimals and a thousands separator, never text — and columns as wide as their content.
//! Labels arrive already in the reader's language; this crate knows no words.

use rust_xlsxwriter::{Format, Workbook, XlsxError};

/// One cell of an export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    Text(String),
    /// Money in fen, written in the sheet's unit (a number with two decimals); none is empty.
    Amount(Option<i64>),
    /// A whole number (a count, days, a value in its own unit); none is empty.
    Count(Option<i64>),
}

/// A sheet to write: its name, the title, the line under it, the header and the rows.
#[derive(Debug, Clone, Copy)]
pub struct Sheet<'a> {
    /// Excel allows 31 characters and none of `[]:*?/\`; others are replaced.
    pub name: &'a str,
    pub title: &'a str,
    /// What the data is: "数据日期 2026-11-27 · 范围 … · 导出 王伟 2026-12-06 09:30".
    pub about: &'a str,
    /// The column heads, naming the unit of amount columns.
    pub heads: &'a [String],
    pub rows: &'a [Vec<Cell>],
    /// Fen per unit of the amount columns: 1 (fen), 100 (元), 1,000,000 (万元), 10^10 (亿元).
    pub fen_per_unit: i64,
}

/// The row of the header (after the title and the line under it).
pub const HEAD_ROW: u32 = 2;

/// A sheet name Excel accepts.
pub fn sheet_name(name: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { '_' } else { c })
        .take(31)
        .collect();
    if clean.trim().is_empty() {
        "kam".to_owned()
    } else {
        clean
    }
}

/// How wide a text shows: a CJK character takes two columns.
fn width_of(text: &str) -> usize {
    text.chars()
        .map(|c| if (c as u32) > 0x2E80 { 2 } else { 1 })
        .sum()
}

/// How wide a number shows with its separators (and two decimals for an amount).
fn number_width(digits: usize, decimals: bool) -> usize {
    digits + digits.saturating_sub(1) / 3 + if decimals { 3 } else { 0 }
}

/// Excel's numbers are doubles: integers beyond 2^53 are not held exactly, so they are written
/// as text rather than silently rounded.
const EXACT: i64 = 1 << 53;

/// The workbook as bytes.
pub fn workbook(sheet: &Sheet<'_>) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let out = book.add_worksheet();
    out.set_name(sheet_name(sheet.name))?;
    let bold = Format::new().set_bold();
    let money = Format::new().set_num_format("#,##0.00");
    let whole = Format::new().set_num_format("#,##0");
    out.write_string_with_format(
        0,
        0,
        sheet.title,
        &Format::new().set_bold().set_font_size(13),
    )?;
    out.write_string(1, 0, sheet.about)?;
    let mut widths: Vec<usize> = sheet.heads.iter().map(|h| width_of(h)).collect();
    for (c, head) in sheet.heads.iter().enumerate() {
        out.write_string_with_format(HEAD_ROW, column(c)?, head, &bold)?;
    }
    let per_unit = sheet.fen_per_unit.max(1) as f64;
    for (i, row) in sheet.rows.iter().enumerate() {
        let r = HEAD_ROW + 1 + u32::try_from(i).map_err(|_| XlsxError::RowColumnLimitError)?;
        for (c, cell) in row.iter().enumerate() {
            let col = column(c)?;
            let shown = match cell {
                Cell::Text(text) => {
                    out.write_string(r, col, text)?;
                    width_of(text)
                }
                Cell::Amount(Some(fen)) if fen.abs() < EXACT => {
                    out.write_number_with_format(r, col, *fen as f64 / per_unit, &money)?;
                    let whole_units = fen.unsigned_abs() / sheet.fen_per_unit.max(1) as u64;
                    number_width(whole_units.to_string().len(), true) + usize::from(*fen < 0)
                }
                Cell::Count(Some(n)) if n.abs() < EXACT => {
                    out.write_number_with_format(r, col, *n as f64, &whole)?;
                    number_width(n.unsigned_abs().to_string().len(), false) + usize::from(*n < 0)
                }
                Cell::Amount(Some(n)) | Cell::Count(Some(n)) => {
                    let text = n.to_string();
                    out.write_string(r, col, &text)?;
                    text.len()
                }
                Cell::Amount(None) | Cell::Count(None) => 0,
            };
            if let Some(width) = widths.get_mut(c) {
                *width = (*width).max(shown);
            }
        }
    }
    for (c, width) in widths.iter().enumerate() {
        out.set_column_width(column(c)?, (*width).clamp(6, 60) as f64 + 2.0)?;
    }
    out.set_freeze_panes(HEAD_ROW + 1, 0)?;
    book.save_to_buffer()
}

fn column(c: usize) -> Result<u16, XlsxError> {
    u16::try_from(c).map_err(|_| XlsxError::RowColumnLimitError)
}

#[cfg(test)]
mod tests {
    use calamine::{Data, Reader, Xlsx};

    use super::*;

    #[test]
    fn sheet_names_and_widths() {
        assert_eq!(sheet_name("客户/名单[1]"), "客户_名单_1_");
        assert_eq!(sheet_name(""), "kam");
        assert_eq!(sheet_name(&"x".repeat(40)).len(), 31);
        assert_eq!(width_of("客户ab"), 6);
        assert_eq!(number_width(7, true), 12, "1,234,567.89");
        assert_eq!(number_width(3, false), 3);
    }

    #[test]
    fn a_sheet_reads_back_with_its_title_header_numbers_and_name() {
        let heads = [
            "客户号".to_owned(),
            "存款（万元）".to_owned(),
            "预警".to_owned(),
        ];
        let rows = [
            vec![
                Cell::Text("C0001".into()),
                Cell::Amount(Some(123_456_789)),
                Cell::Count(Some(3)),
            ],
            vec![
                Cell::Text("C0002".into()),
                Cell::Amount(None),
                Cell::Count(Some(EXACT)),
            ],
        ];
        let sheet = Sheet {
            name: "客户名单",
            title: "客户名单（2 户）",
            about: "数据日期 2026-11-27",
            heads: &heads,
            rows: &rows,
            fen_per_unit: 1_000_000,
        };
        let bytes = workbook(&sheet).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.xlsx");
        std::fs::write(&path, bytes).unwrap();
        let mut book: Xlsx<_> = calamine::open_workbook(&path).unwrap();
        assert_eq!(book.sheet_names(), ["客户名单"]);
        let range = book.worksheet_range("客户名单").unwrap();
        assert_eq!(
            range.get_value((0, 0)),
            Some(&Data::String("客户名单（2 户）".into()))
        );
        assert_eq!(
            range.get_value((HEAD_ROW, 1)),
            Some(&Data::String("存款（万元）".into()))
        );
        // 123,456,789 fen is 123.456789 万元: a number, not text.
        assert_eq!(
            range.get_value((HEAD_ROW + 1, 1)),
            Some(&Data::Float(123.456789))
        );
        assert_eq!(range.get_value((HEAD_ROW + 1, 2)), Some(&Data::Float(3.0)));
        // Beyond what a double holds exactly: text, not a rounded number.
        assert_eq!(
            range.get_value((HEAD_ROW + 2, 2)),
            Some(&Data::String(EXACT.to_string()))
        );
    }
}

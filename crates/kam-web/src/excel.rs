//! Every Excel export of the pages, one way: a sheet named for what it holds, a title row, a line
//! with the data date, the scope and who exported it when, a frozen header, numbers as numbers —
//! amounts in the page's unit with a number format, never text — and columns as wide as their
//! content.

use kam_core::money::AmountUnit;
use rust_xlsxwriter::{Format, Workbook};

use crate::error::WebError;

/// One cell of an export.
#[derive(Debug, Clone)]
pub(crate) enum Cell {
    Text(String),
    /// Money in fen, written in the sheet's unit (a number with two decimals); none is empty.
    Amount(Option<i64>),
    /// A whole number (a count, days).
    Count(i64),
}

/// What the lines above the header say.
#[derive(Debug, Clone)]
pub(crate) struct SheetTitle {
    /// The sheet's name (Excel allows 31 characters and no `[]:*?/\`).
    pub sheet: String,
    pub title: String,
    /// The data's date (the latest batch), or empty when it has none.
    pub data_date: String,
    /// What was selected (the filters, the unit in scope).
    pub scope: String,
    pub exported_by: String,
    pub exported_at: String,
}

/// A sheet name Excel accepts.
fn sheet_name(name: &str) -> String {
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

/// The workbook: `heads` (already naming the unit of amount columns) and `rows` under the title.
pub(crate) fn workbook(
    title: &SheetTitle,
    labels: &TitleLabels,
    unit: AmountUnit,
    heads: &[String],
    rows: &[Vec<Cell>],
) -> Result<Vec<u8>, WebError> {
    let failed = |e: rust_xlsxwriter::XlsxError| WebError::Internal(format!("xlsx: {e}"));
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(sheet_name(&title.sheet)).map_err(failed)?;
    let bold = Format::new().set_bold();
    let money = Format::new().set_num_format("#,##0.00");
    let whole = Format::new().set_num_format("#,##0");
    sheet
        .write_string_with_format(
            0,
            0,
            &title.title,
            &Format::new().set_bold().set_font_size(13),
        )
        .map_err(failed)?;
    let mut about = Vec::new();
    if !title.data_date.is_empty() {
        about.push(format!("{}{}", labels.data_date, title.data_date));
    }
    about.push(format!("{}{}", labels.scope, title.scope));
    about.push(format!(
        "{}{} {}",
        labels.exported_by, title.exported_by, title.exported_at
    ));
    sheet
        .write_string(1, 0, about.join(" · "))
        .map_err(failed)?;
    const HEAD: u32 = 2;
    let mut widths: Vec<usize> = heads.iter().map(|h| width_of(h)).collect();
    for (c, head) in heads.iter().enumerate() {
        sheet
            .write_string_with_format(HEAD, c as u16, head, &bold)
            .map_err(failed)?;
    }
    // Excel's numbers are doubles: an amount in 万元 with two decimals is shown exactly.
    let per_unit = unit.fen() as f64;
    for (i, row) in rows.iter().enumerate() {
        let r = HEAD + 1 + i as u32;
        for (c, cell) in row.iter().enumerate() {
            let col = c as u16;
            let shown = match cell {
                Cell::Text(text) => {
                    sheet.write_string(r, col, text).map_err(failed)?;
                    width_of(text)
                }
                Cell::Amount(Some(fen)) => {
                    sheet
                        .write_number_with_format(r, col, *fen as f64 / per_unit, &money)
                        .map_err(failed)?;
                    crate::format::amount(*fen, unit).len()
                }
                Cell::Amount(None) => 0,
                Cell::Count(n) => {
                    sheet
                        .write_number_with_format(r, col, *n as f64, &whole)
                        .map_err(failed)?;
                    n.to_string().len()
                }
            };
            if let Some(width) = widths.get_mut(c) {
                *width = (*width).max(shown);
            }
        }
    }
    for (c, width) in widths.iter().enumerate() {
        sheet
            .set_column_width(c as u16, (*width).clamp(6, 60) as f64 + 2.0)
            .map_err(failed)?;
    }
    sheet.set_freeze_panes(HEAD + 1, 0).map_err(failed)?;
    book.save_to_buffer().map_err(failed)
}

/// The words before the title line's values, in the reader's language.
#[derive(Debug, Clone)]
pub(crate) struct TitleLabels {
    pub data_date: String,
    pub scope: String,
    pub exported_by: String,
}

impl TitleLabels {
    pub(crate) fn new(t: &crate::i18n::Tr<'_>) -> Self {
        Self {
            data_date: t.get("export-data-date"),
            scope: t.get("export-scope"),
            exported_by: t.get("export-by"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sheet_names_and_widths() {
        assert_eq!(sheet_name("客户/名单[1]"), "客户_名单_1_");
        assert_eq!(sheet_name(""), "kam");
        assert_eq!(sheet_name(&"x".repeat(40)).len(), 31);
        assert_eq!(width_of("客户ab"), 6);
    }
}

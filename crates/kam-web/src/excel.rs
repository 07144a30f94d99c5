//! Every Excel export of the pages through kam's one Excel writer (`kam-sheet`): the title line
//! in the reader's language, amounts in the page's unit.

use kam_core::money::AmountUnit;
pub(crate) use kam_sheet::Cell;

use crate::error::WebError;

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

/// The workbook: `heads` (already naming the unit of amount columns) and `rows` under the title.
pub(crate) fn workbook(
    title: &SheetTitle,
    labels: &TitleLabels,
    unit: AmountUnit,
    heads: &[String],
    rows: &[Vec<Cell>],
) -> Result<Vec<u8>, WebError> {
    let mut about = Vec::new();
    if !title.data_date.is_empty() {
        about.push(format!("{}{}", labels.data_date, title.data_date));
    }
    about.push(format!("{}{}", labels.scope, title.scope));
    about.push(format!(
        "{}{} {}",
        labels.exported_by, title.exported_by, title.exported_at
    ));
    kam_sheet::workbook(&kam_sheet::Sheet {
        name: &title.sheet,
        title: &title.title,
        about: &about.join(" · "),
        heads,
        rows,
        fen_per_unit: unit.fen(),
    })
    .map_err(|e| WebError::Internal(format!("xlsx: {e}")))
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

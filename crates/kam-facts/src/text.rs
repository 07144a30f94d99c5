//! Any Parquet file read as rows of text cells — how an import takes a bank's Parquet extract
//! through the same mapping and checks as a CSV one, without Arrow leaving this crate — and the
//! other way, text rows written as a Parquet file of string columns (extracts in Parquet).
//!
//! Each cell becomes the text a person would see: integers and decimals exactly as stored
//! (`Decimal128(18, 2)` 1234.56 is `1234.56`, never a float), dates and timestamps in the caller's
//! date format, nulls empty. Reading is one record batch at a time, so memory does not grow with
//! the file.

use std::{
    fmt::Write as _,
    fs::File,
    path::{Path, PathBuf},
};

use std::sync::Arc;

use arrow::{
    array::{ArrayRef, RecordBatch, StringBuilder},
    datatypes::{DataType, Field, Schema, SchemaRef},
    util::display::{ArrayFormatter, FormatOptions},
};
use parquet::{
    arrow::{
        ArrowWriter,
        arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder},
    },
    basic::Compression,
    file::properties::WriterProperties,
};

use crate::FactError;

/// Rows decoded per record batch.
const BATCH_ROWS: usize = 8 * 1024;

/// A Parquet file's reader builder, its errors naming the file.
fn open_parquet(path: &Path) -> Result<ParquetRecordBatchReaderBuilder<File>, FactError> {
    let file = File::open(path).map_err(|source| FactError::Io {
        path: path.to_owned(),
        source,
    })?;
    ParquetRecordBatchReaderBuilder::try_new(file).map_err(|source| FactError::Parquet {
        path: path.to_owned(),
        source,
    })
}

/// Hands every value of one string column of a Parquet file to `each` (nulls skipped), reading
/// only that column, a record batch at a time: how an import learns the transaction ids earlier
/// batches committed without decoding their other columns.
pub fn each_string_in(
    path: &Path,
    column: &str,
    mut each: impl FnMut(&str),
) -> Result<(), FactError> {
    use arrow::array::{Array, AsArray};
    use parquet::arrow::ProjectionMask;
    let parquet = |source| FactError::Parquet {
        path: path.to_owned(),
        source,
    };
    let builder = open_parquet(path)?;
    let Some(index) = builder
        .schema()
        .fields()
        .iter()
        .position(|f| f.name() == column && f.data_type() == &DataType::Utf8)
    else {
        return Err(FactError::Parquet {
            path: path.to_owned(),
            source: parquet::errors::ParquetError::General(format!("no string column {column}")),
        });
    };
    let mask = ProjectionMask::roots(builder.parquet_schema(), [index]);
    let reader = builder
        .with_projection(mask)
        .with_batch_size(BATCH_ROWS)
        .build()
        .map_err(parquet)?;
    for batch in reader {
        let batch = batch.map_err(|e| parquet(e.into()))?;
        let values = batch.column(0).as_string::<i32>();
        for row in 0..values.len() {
            if values.is_valid(row) {
                each(values.value(row));
            }
        }
    }
    Ok(())
}

/// A Parquet file as a stream of text rows.
pub struct TextRows {
    columns: Vec<String>,
    reader: ParquetRecordBatchReader,
    date_format: String,
    total_rows: u64,
    /// The current batch's cells, row by row.
    cells: Vec<String>,
    rows_in_batch: usize,
    next_in_batch: usize,
    path: PathBuf,
}

impl std::fmt::Debug for TextRows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextRows")
            .field("path", &self.path)
            .field("columns", &self.columns)
            .field("total_rows", &self.total_rows)
            .finish_non_exhaustive()
    }
}

impl TextRows {
    /// Opens `path`; dates and timestamps will be written with the strftime `date_format`.
    pub fn open(path: &Path, date_format: &str) -> Result<Self, FactError> {
        let parquet = |source| FactError::Parquet {
            path: path.to_owned(),
            source,
        };
        let builder = open_parquet(path)?;
        let columns = builder
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        let total_rows = u64::try_from(builder.metadata().file_metadata().num_rows()).unwrap_or(0);
        let reader = builder
            .with_batch_size(BATCH_ROWS)
            .build()
            .map_err(parquet)?;
        Ok(Self {
            columns,
            reader,
            date_format: date_format.to_owned(),
            total_rows,
            cells: Vec::new(),
            rows_in_batch: 0,
            next_in_batch: 0,
            path: path.to_owned(),
        })
    }

    /// The column names, in file order.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// The number of rows the file's footer announces.
    pub fn total_rows(&self) -> u64 {
        self.total_rows
    }

    /// The next row's cells, one per column; `None` at the end.
    pub fn next_row(&mut self) -> Result<Option<&[String]>, FactError> {
        while self.next_in_batch == self.rows_in_batch {
            match self.reader.next() {
                None => return Ok(None),
                Some(Err(source)) => {
                    return Err(FactError::Parquet {
                        path: self.path.clone(),
                        source: source.into(),
                    });
                }
                Some(Ok(batch)) => self.format(&batch)?,
            }
        }
        let width = self.columns.len();
        let start = self.next_in_batch * width;
        self.next_in_batch += 1;
        Ok(Some(&self.cells[start..start + width]))
    }

    fn format(&mut self, batch: &RecordBatch) -> Result<(), FactError> {
        let options = FormatOptions::new()
            .with_null("")
            .with_date_format(Some(&self.date_format))
            .with_timestamp_format(Some(&self.date_format))
            .with_timestamp_tz_format(Some(&self.date_format));
        let formatters = batch
            .columns()
            .iter()
            .map(|column| ArrayFormatter::try_new(column.as_ref(), &options))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|source| FactError::Parquet {
                path: self.path.clone(),
                source: source.into(),
            })?;
        let width = formatters.len();
        self.cells.resize(batch.num_rows() * width, String::new());
        for (row, cells) in self.cells.chunks_mut(width.max(1)).enumerate() {
            for (cell, formatter) in cells.iter_mut().zip(&formatters) {
                cell.clear();
                write!(cell, "{}", formatter.value(row)).map_err(|_| FactError::Parquet {
                    path: self.path.clone(),
                    source: parquet::errors::ParquetError::General(format!(
                        "a value in row {row} cannot be shown as text"
                    )),
                })?;
            }
        }
        self.rows_in_batch = batch.num_rows();
        self.next_in_batch = 0;
        Ok(())
    }
}

/// Writes rows of text as a Parquet file whose columns are all strings (an empty cell is null):
/// the shape of an extract, in Parquet instead of CSV. Streams in record batches.
pub struct TextTableWriter {
    schema: SchemaRef,
    columns: Vec<StringBuilder>,
    writer: ArrowWriter<File>,
    buffered: usize,
    path: PathBuf,
}

impl std::fmt::Debug for TextTableWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextTableWriter")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl TextTableWriter {
    pub fn create(path: &Path, header: &[&str]) -> Result<Self, FactError> {
        let schema: SchemaRef = Arc::new(Schema::new(
            header
                .iter()
                .map(|name| Field::new(*name, DataType::Utf8, true))
                .collect::<Vec<_>>(),
        ));
        let file = File::create(path).map_err(|source| FactError::Io {
            path: path.to_owned(),
            source,
        })?;
        let properties = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .build();
        let writer =
            ArrowWriter::try_new(file, schema.clone(), Some(properties)).map_err(|source| {
                FactError::Parquet {
                    path: path.to_owned(),
                    source,
                }
            })?;
        Ok(Self {
            columns: header.iter().map(|_| StringBuilder::new()).collect(),
            schema,
            writer,
            buffered: 0,
            path: path.to_owned(),
        })
    }

    /// One row, a cell per header column.
    pub fn write<S: AsRef<str>>(&mut self, cells: &[S]) -> Result<(), FactError> {
        for (column, cell) in self.columns.iter_mut().zip(cells) {
            let cell = cell.as_ref();
            if cell.is_empty() {
                column.append_null();
            } else {
                column.append_value(cell);
            }
        }
        self.buffered += 1;
        if self.buffered >= BATCH_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), FactError> {
        if self.buffered == 0 {
            return Ok(());
        }
        let arrays: Vec<ArrayRef> = self
            .columns
            .iter_mut()
            .map(|c| Arc::new(c.finish()) as ArrayRef)
            .collect();
        self.buffered = 0;
        let parquet = |source| FactError::Parquet {
            path: self.path.clone(),
            source,
        };
        let batch =
            RecordBatch::try_new(self.schema.clone(), arrays).map_err(|e| parquet(e.into()))?;
        self.writer.write(&batch).map_err(parquet)
    }

    /// Writes what is buffered and the footer; the bytes of the file.
    pub fn finish(mut self) -> Result<u64, FactError> {
        self.flush()?;
        let path = self.path.clone();
        self.writer.close().map_err(|source| FactError::Parquet {
            path: path.clone(),
            source,
        })?;
        std::fs::metadata(&path)
            .map(|m| m.len())
            .map_err(|source| FactError::Io { path, source })
    }
}

/// The file of one as-of date's table of a batch result: `<root>/<kind>/as_of=D/<name>.parquet`.
pub fn snapshot_path(root: &Path, kind: &str, as_of: chrono::NaiveDate, name: &str) -> PathBuf {
    root.join(kind)
        .join(format!("as_of={as_of}"))
        .join(format!("{name}.parquet"))
}

/// Writes one as-of date's table of text cells (the batch's classifications and alerts) through a
/// temp file and a rename, replacing an earlier run of the same date. Returns the bytes written.
pub fn write_text_snapshot(
    root: &Path,
    kind: &str,
    as_of: chrono::NaiveDate,
    name: &str,
    header: &[&str],
    rows: &[Vec<String>],
) -> Result<u64, FactError> {
    let path = snapshot_path(root, kind, as_of, name);
    let dir = path.parent().expect("a snapshot has a directory");
    std::fs::create_dir_all(dir).map_err(|source| FactError::Io {
        path: dir.to_owned(),
        source,
    })?;
    let temp = dir.join(format!(".{name}.parquet.tmp"));
    let mut writer = TextTableWriter::create(&temp, header)?;
    for row in rows {
        writer.write(row)?;
    }
    let bytes = writer.finish()?;
    std::fs::rename(&temp, &path).map_err(|source| FactError::Io { path, source })?;
    Ok(bytes)
}

/// A table of text: its header and its rows.
pub type TextTable = (Vec<String>, Vec<Vec<String>>);

/// Reads back a table `write_text_snapshot` wrote: its header and rows; `None` when the batch has
/// not written it for that date.
pub fn read_text_snapshot(
    root: &Path,
    kind: &str,
    as_of: chrono::NaiveDate,
    name: &str,
) -> Result<Option<TextTable>, FactError> {
    let path = snapshot_path(root, kind, as_of, name);
    if !path.exists() {
        return Ok(None);
    }
    let mut rows = TextRows::open(&path, "%Y-%m-%d")?;
    let columns = rows.columns().to_vec();
    let mut out = Vec::new();
    while let Some(row) = rows.next_row()? {
        out.push(row.to_vec());
    }
    Ok(Some((columns, out)))
}

#[cfg(test)]
mod tests {

    use arrow::array::{Date32Array, Decimal128Array, Float64Array, Int64Array, StringArray};

    use super::*;

    #[test]
    fn text_tables_read_back_cell_for_cell() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("customers.parquet");
        let mut writer = TextTableWriter::create(&path, &["cif_no", "name", "phone"]).unwrap();
        let rows: Vec<[String; 3]> = (0..20_000)
            .map(|i| [format!("C{i:06}"), format!("客户{i}"), String::new()])
            .collect();
        for row in &rows {
            writer.write(row).unwrap();
        }
        assert!(writer.finish().unwrap() > 0);
        let mut read = TextRows::open(&path, "%Y-%m-%d").unwrap();
        assert_eq!(read.columns(), ["cif_no", "name", "phone"]);
        let mut count = 0;
        while let Some(cells) = read.next_row().unwrap() {
            assert_eq!(cells, rows[count].as_slice());
            count += 1;
        }
        assert_eq!(count, rows.len());
    }

    #[test]
    fn cells_read_as_the_text_a_person_sees() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.parquet");
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Utf8, true),
            Field::new("amount", DataType::Decimal128(18, 2), true),
            Field::new("fen", DataType::Int64, true),
            Field::new("rate", DataType::Float64, true),
            Field::new("day", DataType::Date32, true),
        ]));
        let columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(vec![Some("T1"), None])),
            Arc::new(
                Decimal128Array::from(vec![Some(123_456), Some(-5)])
                    .with_precision_and_scale(18, 2)
                    .unwrap(),
            ),
            Arc::new(Int64Array::from(vec![Some(100), None])),
            Arc::new(Float64Array::from(vec![Some(0.1), Some(1234.5)])),
            Arc::new(Date32Array::from(vec![Some(20_000), None])),
        ];
        let batch = RecordBatch::try_new(schema.clone(), columns).unwrap();
        let mut writer = ArrowWriter::try_new(File::create(&path).unwrap(), schema, None).unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();

        let mut rows = TextRows::open(&path, "%Y%m%d").unwrap();
        assert_eq!(rows.columns(), ["id", "amount", "fen", "rate", "day"]);
        assert_eq!(rows.total_rows(), 2);
        assert_eq!(
            rows.next_row().unwrap().unwrap(),
            ["T1", "1234.56", "100", "0.1", "20241004"]
        );
        assert_eq!(
            rows.next_row().unwrap().unwrap(),
            ["", "-0.05", "", "1234.5", ""]
        );
        assert!(rows.next_row().unwrap().is_none());
    }
}

//! The batch's indicator snapshots as Parquet (`<facts>/indicator/as_of=D/indicators.parquet`, long
//! form: customer, code, window, value) — written by the batch, read by exports and the web's
//! indicators by date — and the Arrow column helpers the readers of Parquet share. Format only:
//! no query engine.

use std::collections::BTreeMap;

use arrow::{
    array::{Array, AsArray, Int64Array, RecordBatch, StringArray},
    compute::cast,
    datatypes::{DataType, Float64Type, Int32Type, Int64Type},
};
use chrono::NaiveDate;
use kam_core::indicator::Measure;

use crate::FactError;

/// The value of one indicator for one customer (and window), as of one date. `None` is "over
/// nothing" (an average of no transactions), which is not 0.
#[derive(Debug, Clone, PartialEq)]
pub struct IndicatorValue {
    pub cif_no: String,
    pub code: &'static str,
    pub window_days: Option<u32>,
    pub value: Option<Measure>,
}

/// The date `day` days after 1970-01-01.
pub fn epoch_date(day: i64) -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid") + chrono::Duration::days(day)
}

/// Days since 1970-01-01, the integer form dates take in the SQL below.
pub fn epoch_day(date: NaiveDate) -> i64 {
    (date - NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid")).num_days()
}

/// Writes one as-of date's values as `<root>/indicator/as_of=YYYY-MM-DD/indicators.parquet` (long
/// form: customer, code, window, value), through a temp file and a rename, replacing an earlier
/// run for the same date. Returns the bytes written.
pub fn write_snapshot(
    root: &std::path::Path,
    as_of: NaiveDate,
    values: &[IndicatorValue],
) -> Result<u64, FactError> {
    use std::sync::Arc;

    use arrow::{
        array::{ArrayRef, Date32Array, Float64Array, Int32Array, Int64Array, StringArray},
        datatypes::{DataType, Field, Schema},
    };
    let final_path = root
        .join("indicator")
        .join(format!("as_of={as_of}"))
        .join("indicators.parquet");
    let schema = Arc::new(Schema::new(vec![
        Field::new("as_of", DataType::Date32, false),
        Field::new("cif_no", DataType::Utf8, false),
        Field::new("code", DataType::Utf8, false),
        Field::new("window_days", DataType::Int32, true),
        Field::new("value_int", DataType::Int64, true),
        Field::new("value_real", DataType::Float64, true),
    ]));
    let day = i32::try_from(epoch_day(as_of)).unwrap_or(i32::MAX);
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Date32Array::from(vec![day; values.len()])),
        Arc::new(StringArray::from_iter_values(
            values.iter().map(|v| v.cif_no.as_str()),
        )),
        Arc::new(StringArray::from_iter_values(values.iter().map(|v| v.code))),
        Arc::new(Int32Array::from_iter(values.iter().map(|v| {
            v.window_days.map(|w| i32::try_from(w).unwrap_or(i32::MAX))
        }))),
        Arc::new(Int64Array::from_iter(values.iter().map(
            |v| match v.value {
                Some(Measure::Int(n)) => Some(n),
                _ => None,
            },
        ))),
        Arc::new(Float64Array::from_iter(values.iter().map(
            |v| match v.value {
                Some(Measure::Real(x)) => Some(x),
                _ => None,
            },
        ))),
    ];
    let batch = RecordBatch::try_new(schema.clone(), columns).map_err(|e| FactError::Parquet {
        path: final_path.clone(),
        source: e.into(),
    })?;
    crate::writer::write_parquet_atomically(&final_path, schema, &[batch], None)
}

/// One as-of date's snapshot in wide form: the column names (`txn_count_30d`, `aum`, … in catalogue
/// and window order) and, per customer in customer order, its cells as text (integers as they are,
/// ratios in their shortest decimal form, empty for "over nothing"). `None` when the batch has not
/// run for that date.
pub type WideSnapshot = (Vec<String>, Vec<(String, Vec<String>)>);

pub fn read_snapshot(
    root: &std::path::Path,
    as_of: NaiveDate,
) -> Result<Option<WideSnapshot>, FactError> {
    let mut columns: Vec<String> = Vec::new();
    let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut rows: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let found = visit_snapshot(root, as_of, |cif, code, window, int, real| {
        let name = match window {
            Some(window) => format!("{code}_{window}d"),
            None => code.to_owned(),
        };
        let at = *index.entry(name.clone()).or_insert_with(|| {
            columns.push(name);
            columns.len() - 1
        });
        let cell = match (int, real) {
            (Some(n), _) => n.to_string(),
            (None, Some(x)) => x.to_string(),
            _ => String::new(),
        };
        let cells = rows.entry(cif.to_owned()).or_default();
        if cells.len() <= at {
            cells.resize(at + 1, String::new());
        }
        cells[at] = cell;
    })?;
    if !found {
        return Ok(None);
    }
    let width = columns.len();
    let rows = rows
        .into_iter()
        .map(|(cif, mut cells)| {
            cells.resize(width, String::new());
            (cif, cells)
        })
        .collect();
    Ok(Some((columns, rows)))
}

/// One value of a snapshot: code, window (`None` for an indicator of the date alone) and value.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotValue {
    pub code: String,
    pub window_days: Option<i64>,
    pub value_int: Option<i64>,
    pub value_real: Option<f64>,
}

/// One customer's values in an as-of date's snapshot (the web's indicators by date); `None` when
/// the batch has not run for that date.
pub fn customer_snapshot(
    root: &std::path::Path,
    as_of: NaiveDate,
    cif_no: &str,
) -> Result<Option<Vec<SnapshotValue>>, FactError> {
    let mut values = Vec::new();
    let found = visit_snapshot(root, as_of, |cif, code, window, int, real| {
        if cif == cif_no {
            values.push(SnapshotValue {
                code: code.to_owned(),
                window_days: window,
                value_int: int,
                value_real: real,
            });
        }
    })?;
    Ok(found.then_some(values))
}

/// Calls `visit(cif, code, window, int, real)` for every value of a date's snapshot; false when
/// there is no snapshot for the date.
fn visit_snapshot(
    root: &std::path::Path,
    as_of: NaiveDate,
    mut visit: impl FnMut(&str, &str, Option<i64>, Option<i64>, Option<f64>),
) -> Result<bool, FactError> {
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    let path = root
        .join("indicator")
        .join(format!("as_of={as_of}"))
        .join("indicators.parquet");
    let file = match std::fs::File::open(&path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(source) => return Err(FactError::Io { path, source }),
    };
    let parquet = |source| FactError::Parquet {
        path: path.clone(),
        source,
    };
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(parquet)?
        .build()
        .map_err(parquet)?;
    for batch in reader {
        let batch = batch.map_err(|e| parquet(e.into()))?;
        let text = |name| text_column(&batch, name);
        let (cif, code, window) = (text("cif_no")?, text("code")?, text("window_days")?);
        let reals = batch
            .column_by_name("value_real")
            .and_then(|c| c.as_primitive_opt::<Float64Type>().cloned());
        for row in 0..batch.num_rows() {
            let window = (!window.is_null(row))
                .then(|| window.value(row).parse::<i64>().ok())
                .flatten();
            let real = reals
                .as_ref()
                .filter(|r| !r.is_null(row))
                .map(|r| r.value(row));
            visit(
                cif.value(row),
                code.value(row),
                window,
                int_at(&batch, "value_int", row),
                real,
            );
        }
    }
    Ok(true)
}

/// The first column (the customer number) as plain strings, whatever string layout the reader
/// chose (DataFusion reads Parquet strings as views).
pub fn first_column_text(batch: &RecordBatch) -> Result<StringArray, FactError> {
    as_text(batch.column(0))
}

fn as_text(column: &dyn Array) -> Result<StringArray, FactError> {
    let text = cast(column, &DataType::Utf8).map_err(|e| FactError::Query(e.to_string()))?;
    Ok(text.as_string::<i32>().clone())
}

fn column<'a>(batch: &'a RecordBatch, name: &str) -> Result<&'a dyn Array, FactError> {
    batch
        .column_by_name(name)
        .map(AsRef::as_ref)
        .ok_or_else(|| FactError::Query(format!("no column {name}")))
}

/// A string column by name as plain strings (whatever layout the reader chose).
pub fn text_column(batch: &RecordBatch, name: &str) -> Result<StringArray, FactError> {
    as_text(column(batch, name)?)
}

/// An integer column by name as 64-bit integers.
pub fn int_column(batch: &RecordBatch, name: &str) -> Result<Int64Array, FactError> {
    let ints = cast(column(batch, name)?, &DataType::Int64)
        .map_err(|e| FactError::Query(e.to_string()))?;
    Ok(ints.as_primitive::<Int64Type>().clone())
}

/// An integer column's value by name (Int64 or Int32), `None` when null.
pub fn int_at(batch: &RecordBatch, name: &str, row: usize) -> Option<i64> {
    let column = batch.column_by_name(name)?;
    if column.is_null(row) {
        return None;
    }
    if let Some(values) = column.as_primitive_opt::<Int64Type>() {
        return Some(values.value(row));
    }
    column
        .as_primitive_opt::<Int32Type>()
        .map(|values| i64::from(values.value(row)))
}

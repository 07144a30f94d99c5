//! Writes one (kind, date, batch) Parquet file atomically: temp file, fsync, rename.

use std::{
    fs::{self, File},
    io,
    path::{Path, PathBuf},
};

use chrono::NaiveDate;
use parquet::{
    arrow::ArrowWriter,
    basic::Compression,
    file::properties::{EnabledStatistics, WriterProperties},
    schema::types::ColumnPath,
};

use crate::rows::{FactKind, FactRows};

#[derive(Debug, thiserror::Error)]
pub enum FactError {
    #[error("fact file {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("fact file {path}: {source}")]
    Parquet {
        path: PathBuf,
        source: parquet::errors::ParquetError,
    },
    /// A query over the facts failed (DataFusion's message).
    #[error("fact query: {0}")]
    Query(String),
}

/// `<root>/<kind>/date=YYYY-MM-DD`.
pub fn partition_dir(root: &Path, kind: FactKind, date: NaiveDate) -> PathBuf {
    root.join(kind.as_str()).join(format!("date={date}"))
}

/// Writes fact files under one root. Holds no open files between calls, so memory does not
/// grow with the number of days written.
#[derive(Debug, Clone)]
pub struct FactWriter {
    root: PathBuf,
    properties: WriterProperties,
}

impl FactWriter {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            // Snappy: fast and pure Rust; the facts are re-read by the batch every night, so
            // decode speed matters more than the last few percent of size.
            properties: WriterProperties::builder()
                .set_compression(Compression::SNAPPY)
                .set_max_row_group_row_count(Some(1 << 20))
                // Identifiers are (nearly) unique within a day's file: a dictionary only costs
                // hashing before the writer falls back to plain encoding anyway.
                .set_column_dictionary_enabled(ColumnPath::from("account_no"), false)
                .set_column_dictionary_enabled(ColumnPath::from("cif_no"), false)
                .set_column_dictionary_enabled(ColumnPath::from("txn_id"), false)
                .set_column_dictionary_enabled(ColumnPath::from("loan_no"), false)
                .set_column_dictionary_enabled(ColumnPath::from("reverses_txn_id"), false)
                // Min/max per column chunk is what date and id pruning needs; per-page statistics
                // on strings cost more than they save here.
                .set_statistics_enabled(EnabledStatistics::Chunk)
                .build(),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub(crate) fn properties(&self) -> &WriterProperties {
        &self.properties
    }

    /// Writes a day's rows of one kind as `<batch_id>.parquet`, replacing an earlier file of the
    /// same batch. Returns the bytes written. An empty day writes no file.
    pub fn write_day<R: FactRows>(
        &self,
        date: NaiveDate,
        batch_id: &str,
        rows: &[R],
    ) -> Result<u64, FactError> {
        if rows.is_empty() {
            return Ok(0);
        }
        let dir = partition_dir(&self.root, R::KIND, date);
        let batch = R::record_batch(rows, date, batch_id);
        write_parquet_atomically(
            &dir.join(format!("{batch_id}.parquet")),
            batch.schema(),
            &[batch],
            Some(self.properties.clone()),
        )
    }
}

/// Writes `batches` (of `schema`; none makes a file with no rows) to `path` through a temp file
/// beside it, fsync and a rename, so a reader or a crash never sees half a file. Returns the bytes
/// written.
pub fn write_parquet_atomically(
    path: &Path,
    schema: arrow::datatypes::SchemaRef,
    batches: &[arrow::array::RecordBatch],
    properties: Option<WriterProperties>,
) -> Result<u64, FactError> {
    let io_error = |path: &Path| {
        let path = path.to_owned();
        move |source| FactError::Io { path, source }
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(io_error(dir))?;
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let temp_path = dir.join(format!(".{name}.tmp"));
    let parquet_error = |source| FactError::Parquet {
        path: temp_path.clone(),
        source,
    };
    let file = File::create(&temp_path).map_err(io_error(&temp_path))?;
    let mut writer = ArrowWriter::try_new(file, schema, properties).map_err(parquet_error)?;
    for batch in batches {
        writer.write(batch).map_err(parquet_error)?;
    }
    let file = writer.into_inner().map_err(parquet_error)?;
    file.sync_all().map_err(io_error(&temp_path))?;
    let bytes = file.metadata().map_err(io_error(&temp_path))?.len();
    fs::rename(&temp_path, path).map_err(io_error(path))?;
    Ok(bytes)
}

/// Held for the whole of an import run: an exclusive lock on `<facts>/.import.lock`, released when
/// dropped (or when the process dies, kill -9 included). While it is held, staging files under the
/// facts belong to this run or to a dead one, so recovery may remove them.
#[derive(Debug)]
pub struct ImportLock {
    _file: File,
}

impl FactWriter {
    /// Takes the import lock, or says that another import is running on these facts.
    pub fn lock_imports(&self) -> Result<ImportLock, FactError> {
        let path = self.root.join(".import.lock");
        let io_error = |source| FactError::Io {
            path: path.clone(),
            source,
        };
        fs::create_dir_all(&self.root).map_err(io_error)?;
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io_error)?;
        match file.try_lock() {
            Ok(()) => Ok(ImportLock { _file: file }),
            Err(fs::TryLockError::WouldBlock) => Err(io_error(io::Error::new(
                io::ErrorKind::WouldBlock,
                "另一个导入正在此数据目录上运行，请等它结束 / another kam import is running on this data directory; wait for it to end",
            ))),
            Err(fs::TryLockError::Error(source)) => Err(io_error(source)),
        }
    }

    /// Removes every staging file (`.….tmp`) under the fact kinds' folders: left by a run that was
    /// killed or failed (a full disk) before it published or discarded them. Safe only under the
    /// import lock, which is why it asks for it. Returns the files removed.
    pub fn remove_staging_files(&self, _lock: &ImportLock) -> Result<usize, FactError> {
        let mut removed = 0;
        for kind in FactKind::ALL {
            let Ok(dates) = fs::read_dir(self.root.join(kind.as_str())) else {
                continue;
            };
            for date_dir in dates.filter_map(|e| e.ok().map(|e| e.path())) {
                let Ok(files) = fs::read_dir(&date_dir) else {
                    continue;
                };
                for file in files.filter_map(Result::ok) {
                    let name = file.file_name();
                    let name = name.to_string_lossy();
                    if name.starts_with('.') && name.ends_with(".tmp") {
                        let path = file.path();
                        match fs::remove_file(&path) {
                            Ok(()) => removed += 1,
                            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                            Err(source) => return Err(FactError::Io { path, source }),
                        }
                    }
                }
                // Only succeeds when empty, which is exactly when it should go.
                let _ = fs::remove_dir(&date_dir);
            }
        }
        Ok(removed)
    }

    /// Removes every file of `batch_id` (and any temp file it left behind) under every kind and
    /// date, and date folders left empty. Returns the number of files removed. Other batches'
    /// files are never touched.
    pub fn remove_batch(&self, batch_id: &str) -> Result<usize, FactError> {
        let names = [
            format!("{batch_id}.parquet"),
            format!(".{batch_id}.parquet.tmp"),
        ];
        let mut removed = 0;
        for kind in FactKind::ALL {
            let kind_dir = self.root.join(kind.as_str());
            let Ok(dates) = fs::read_dir(&kind_dir) else {
                continue;
            };
            for date_dir in dates.filter_map(|e| e.ok().map(|e| e.path())) {
                for name in &names {
                    let path = date_dir.join(name);
                    match fs::remove_file(&path) {
                        Ok(()) => removed += 1,
                        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                        Err(source) => return Err(FactError::Io { path, source }),
                    }
                }
                // Only succeeds when empty, which is exactly when it should go.
                let _ = fs::remove_dir(&date_dir);
            }
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rows::BalanceRow;
    use parquet::file::reader::{FileReader, SerializedFileReader};

    #[test]
    fn a_day_is_written_to_its_partition_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let writer = FactWriter::new(dir.path());
        let date = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
        let rows = vec![
            BalanceRow {
                account_no: "A1".into(),
                cif_no: "C1".into(),
                currency: "CNY".into(),
                balance_minor: 12_345,
            },
            BalanceRow {
                account_no: "A2".into(),
                cif_no: "C2".into(),
                currency: "CNY".into(),
                balance_minor: -1,
            },
        ];
        assert!(writer.write_day(date, "b1", &rows).unwrap() > 0);
        let path = dir.path().join("balance/date=2026-11-27/b1.parquet");
        let reader = SerializedFileReader::new(File::open(&path).unwrap()).unwrap();
        assert_eq!(reader.metadata().file_metadata().num_rows(), 2);
        let leftovers: Vec<_> = fs::read_dir(path.parent().unwrap()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temp file left behind");
    }

    #[test]
    fn removing_a_batch_leaves_other_batches_alone() {
        let dir = tempfile::tempdir().unwrap();
        let writer = FactWriter::new(dir.path());
        let row = BalanceRow {
            account_no: "A1".into(),
            cif_no: "C1".into(),
            currency: "CNY".into(),
            balance_minor: 1,
        };
        for day in 1..=3 {
            let date = NaiveDate::from_ymd_opt(2026, 11, day).unwrap();
            writer
                .write_day(date, "old", std::slice::from_ref(&row))
                .unwrap();
        }
        let date = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
        writer
            .write_day(date, "keep", std::slice::from_ref(&row))
            .unwrap();
        assert_eq!(writer.remove_batch("old").unwrap(), 3);
        assert!(
            dir.path()
                .join("balance/date=2026-11-01/keep.parquet")
                .exists()
        );
        assert!(
            !dir.path().join("balance/date=2026-11-02").exists(),
            "empty date folder removed"
        );
        assert_eq!(writer.remove_batch("old").unwrap(), 0);
    }

    #[test]
    fn an_empty_day_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let writer = FactWriter::new(dir.path());
        let date = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
        assert_eq!(writer.write_day::<BalanceRow>(date, "b1", &[]).unwrap(), 0);
        assert!(!dir.path().join("balance").exists());
    }
}

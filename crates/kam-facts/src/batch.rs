//! Streaming one import batch into Parquet: rows arrive in any number, are buffered a little per
//! business date, and written to hidden temp files; `publish` renames them all into place. Memory
//! is bounded by the open row groups, not by the size of the file being imported.

use std::{
    collections::BTreeMap,
    fs::{self, File},
    path::{Path, PathBuf},
};

use chrono::NaiveDate;
use parquet::{arrow::ArrowWriter, file::properties::WriterProperties};

use crate::{
    rows::FactRows,
    writer::{FactError, FactWriter, partition_dir},
};

/// Rows buffered per date before they are encoded.
const BUFFER_ROWS: usize = 64 * 1024;

/// Rows buffered across all dates of a batch: a file spanning many dates flushes everything
/// when it reaches this, so memory does not grow with the number of dates.
const BUFFER_ROWS_TOTAL: usize = 256 * 1024;

/// Encoded bytes held in open row groups across all dates before they are closed and written.
const ROW_GROUP_BYTES_TOTAL: usize = 256 << 20;

struct Part<R> {
    writer: ArrowWriter<File>,
    temp: PathBuf,
    final_path: PathBuf,
    pending: Vec<R>,
}

/// Writes one batch of one fact kind.
pub struct BatchWriter<R: FactRows> {
    root: PathBuf,
    batch_id: String,
    properties: WriterProperties,
    parts: BTreeMap<NaiveDate, Part<R>>,
    pending_total: usize,
}

impl<R: FactRows> std::fmt::Debug for BatchWriter<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchWriter")
            .field("root", &self.root)
            .field("batch_id", &self.batch_id)
            .finish()
    }
}

/// A batch whose files are complete and synced but not yet visible under their final names.
#[derive(Debug)]
pub struct StagedBatch {
    parts: Vec<(PathBuf, PathBuf)>,
    pub bytes: u64,
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> FactError + '_ {
    move |source| FactError::Io {
        path: path.to_owned(),
        source,
    }
}

impl<R: FactRows> BatchWriter<R> {
    pub fn new(facts: &FactWriter, batch_id: &str) -> Self {
        Self {
            root: facts.root().to_owned(),
            batch_id: batch_id.to_owned(),
            properties: facts.properties().clone(),
            parts: BTreeMap::new(),
            pending_total: 0,
        }
    }

    pub fn push(&mut self, date: NaiveDate, row: R) -> Result<(), FactError> {
        if !self.parts.contains_key(&date) {
            let dir = partition_dir(&self.root, R::KIND, date);
            fs::create_dir_all(&dir).map_err(io_error(&dir))?;
            let temp = dir.join(format!(".{}.parquet.tmp", self.batch_id));
            let final_path = dir.join(format!("{}.parquet", self.batch_id));
            let file = File::create(&temp).map_err(io_error(&temp))?;
            let writer = ArrowWriter::try_new(file, R::schema(), Some(self.properties.clone()))
                .map_err(|source| FactError::Parquet {
                    path: temp.clone(),
                    source,
                })?;
            self.parts.insert(
                date,
                Part {
                    writer,
                    temp,
                    final_path,
                    pending: Vec::new(),
                },
            );
        }
        let part = self.parts.get_mut(&date).expect("inserted above");
        part.pending.push(row);
        self.pending_total += 1;
        if part.pending.len() >= BUFFER_ROWS {
            self.pending_total -= part.pending.len();
            flush(part, date, &self.batch_id)?;
        }
        if self.pending_total >= BUFFER_ROWS_TOTAL {
            self.flush_all()?;
        }
        Ok(())
    }

    /// Encodes every date's buffered rows; closes the open row groups when they hold too much.
    fn flush_all(&mut self) -> Result<(), FactError> {
        for (date, part) in &mut self.parts {
            flush(part, *date, &self.batch_id)?;
        }
        self.pending_total = 0;
        let held: usize = self
            .parts
            .values()
            .map(|p| p.writer.in_progress_size())
            .sum();
        if held >= ROW_GROUP_BYTES_TOTAL {
            for part in self.parts.values_mut() {
                part.writer.flush().map_err(|source| FactError::Parquet {
                    path: part.temp.clone(),
                    source,
                })?;
            }
        }
        Ok(())
    }

    /// Drops everything written so far (temp files included) and starts the batch afresh.
    pub fn restart(&mut self) {
        for part in std::mem::take(&mut self.parts).into_values() {
            drop(part.writer);
            let _ = fs::remove_file(&part.temp);
        }
        self.pending_total = 0;
    }

    /// Encodes what is buffered, closes and syncs every temp file. On an error every temp file
    /// is removed (a full disk leaves nothing behind).
    pub fn finish(mut self) -> Result<StagedBatch, FactError> {
        let parts = std::mem::take(&mut self.parts);
        let temps: Vec<PathBuf> = parts.values().map(|p| p.temp.clone()).collect();
        let staged = Self::close(parts, &self.batch_id);
        if staged.is_err() {
            for temp in &temps {
                let _ = fs::remove_file(temp);
            }
        }
        staged
    }

    fn close(
        parts: BTreeMap<NaiveDate, Part<R>>,
        batch_id: &str,
    ) -> Result<StagedBatch, FactError> {
        let mut staged = StagedBatch {
            parts: Vec::new(),
            bytes: 0,
        };
        for (date, mut part) in parts {
            flush(&mut part, date, batch_id)?;
            let file = part
                .writer
                .into_inner()
                .map_err(|source| FactError::Parquet {
                    path: part.temp.clone(),
                    source,
                })?;
            file.sync_all().map_err(io_error(&part.temp))?;
            staged.bytes += file.metadata().map_err(io_error(&part.temp))?.len();
            staged.parts.push((part.temp, part.final_path));
        }
        Ok(staged)
    }
}

/// A writer dropped before `finish` (an error while pushing, a panic) removes its temp files.
impl<R: FactRows> Drop for BatchWriter<R> {
    fn drop(&mut self) {
        for part in std::mem::take(&mut self.parts).into_values() {
            drop(part.writer);
            let _ = fs::remove_file(&part.temp);
        }
    }
}

fn flush<R: FactRows>(
    part: &mut Part<R>,
    date: NaiveDate,
    batch_id: &str,
) -> Result<(), FactError> {
    if part.pending.is_empty() {
        return Ok(());
    }
    let batch = R::record_batch(&part.pending, date, batch_id);
    part.writer
        .write(&batch)
        .map_err(|source| FactError::Parquet {
            path: part.temp.clone(),
            source,
        })?;
    part.pending.clear();
    Ok(())
}

impl StagedBatch {
    /// Renames every part into place. Call only after the ledger records the batch as pending,
    /// so that a crash half-way is found and undone by the next run.
    pub fn publish(self) -> Result<u64, FactError> {
        for (temp, final_path) in &self.parts {
            fs::rename(temp, final_path).map_err(io_error(final_path))?;
        }
        Ok(self.bytes)
    }

    /// Removes the staged temp files (the batch is abandoned).
    pub fn discard(self) {
        for (temp, _) in &self.parts {
            let _ = fs::remove_file(temp);
        }
    }

    pub fn part_count(&self) -> usize {
        self.parts.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rows::BalanceRow;

    /// Every file under `dir`, hidden ones included.
    fn files(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for entry in fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(files(&path));
            } else {
                out.push(path);
            }
        }
        out
    }

    /// A writer that stops on an error (a full disk) is dropped: none of its staging files stay.
    #[test]
    fn an_abandoned_writer_leaves_no_staging_files() {
        let dir = tempfile::tempdir().unwrap();
        let facts = FactWriter::new(dir.path());
        let mut writer = BatchWriter::<BalanceRow>::new(&facts, "b8");
        for day in 1..=3 {
            let date = NaiveDate::from_ymd_opt(2026, 11, day).unwrap();
            let row = BalanceRow {
                account_no: "A1".into(),
                cif_no: "C".into(),
                currency: "CNY".into(),
                balance_minor: 1,
            };
            writer.push(date, row).unwrap();
        }
        assert_eq!(files(dir.path()).len(), 3, "one staging file per date");
        drop(writer);
        assert!(files(dir.path()).is_empty(), "{:?}", files(dir.path()));
    }

    #[test]
    fn a_batch_is_invisible_until_published_and_spans_dates() {
        let dir = tempfile::tempdir().unwrap();
        let facts = FactWriter::new(dir.path());
        let mut writer = BatchWriter::<BalanceRow>::new(&facts, "b7");
        for day in 1..=2 {
            for n in 0..100_000 {
                let date = NaiveDate::from_ymd_opt(2026, 11, day).unwrap();
                writer
                    .push(
                        date,
                        BalanceRow {
                            account_no: format!("A{n}"),
                            cif_no: "C".into(),
                            currency: "CNY".into(),
                            balance_minor: n,
                        },
                    )
                    .unwrap();
            }
        }
        let staged = writer.finish().unwrap();
        assert_eq!(staged.part_count(), 2);
        let final_path = dir.path().join("balance/date=2026-11-01/b7.parquet");
        assert!(!final_path.exists(), "nothing visible before publish");
        staged.publish().unwrap();
        assert!(final_path.exists());
        assert_eq!(facts.remove_batch("b7").unwrap(), 2);
    }
}

//! Held rows: with a mapping's `unknown_reference = "hold"`, a fact row naming a customer or an
//! account the master data does not define yet is not rejected but written to a held file beside
//! the facts (`<facts>/.held/`), in kam's own extract format. After every import run the held
//! files of committed batches are imported again: rows whose master data has arrived load as a
//! batch of their own, the others stay held — until a later business date than their last day
//! has been committed, when they are rejected with the reason. Nothing is lost or loaded twice:
//! a held file counts only once its batch is committed, and its rows' release is a batch whose
//! content the ledger recognises if a run is killed before the old file is removed.

use std::{
    fs::File,
    io::{self, BufWriter},
    path::{Path, PathBuf},
};

use chrono::NaiveDate;
use kam_core::money::decimal_text;

use crate::{ExtractKind, Value};

/// The folder of held files under the facts directory.
pub fn held_dir(facts_root: &Path) -> PathBuf {
    facts_root.join(".held")
}

/// A held file's name: its kind and business date (as kam's extract names have them), the last
/// day its rows wait, and the batch that held them:
/// `transactions_20261127.held-until-20261204.transactions-20261127-abc.csv`.
pub fn held_name(kind: ExtractKind, date: NaiveDate, until: NaiveDate, batch_id: &str) -> String {
    format!(
        "{kind}_{}.held-until-{}.{batch_id}.csv",
        date.format("%Y%m%d"),
        until.format("%Y%m%d")
    )
}

/// What a held file's name says: kind, business date, last day, the holding batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldName {
    pub kind: ExtractKind,
    pub date: NaiveDate,
    pub until: NaiveDate,
    pub batch_id: String,
}

pub fn parse_held_name(name: &str) -> Option<HeldName> {
    let (head, rest) = name.split_once(".held-until-")?;
    let (kind, date) = head.rsplit_once('_')?;
    let (until, batch) = rest.split_once('.')?;
    Some(HeldName {
        kind: ExtractKind::parse(kind).ok()?,
        date: NaiveDate::parse_from_str(date, "%Y%m%d").ok()?,
        until: NaiveDate::parse_from_str(until, "%Y%m%d").ok()?,
        batch_id: batch.strip_suffix(".csv")?.to_owned(),
    })
}

/// Writes held rows as a CSV file of the kind's fields in kam's format: dates `YYYY-MM-DD`,
/// amounts in yuan with two decimals, codes as kam's.
#[derive(Debug)]
pub struct HeldWriter {
    path: PathBuf,
    out: csv::Writer<BufWriter<File>>,
    pub rows: u64,
}

impl HeldWriter {
    pub fn create(path: PathBuf, kind: ExtractKind) -> io::Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut out = csv::Writer::from_writer(BufWriter::new(File::create(&path)?));
        out.write_record(kind.fields().iter().map(|f| f.name))
            .map_err(io::Error::other)?;
        Ok(Self { path, out, rows: 0 })
    }

    pub fn write(&mut self, values: &[Value]) -> io::Result<()> {
        self.out
            .write_record(values.iter().map(|value| match value {
                Value::Null => String::new(),
                Value::Text(text) => text.clone(),
                Value::Date(date) => date.to_string(),
                Value::Amount(minor) => decimal_text(i128::from(*minor)),
                Value::Count(n) => n.to_string(),
                Value::Flag(flag) => flag.to_string(),
            }))
            .map_err(io::Error::other)?;
        self.rows += 1;
        Ok(())
    }

    /// Flushes and syncs the file (it must be whole before its batch commits); its path.
    pub fn finish(self) -> io::Result<PathBuf> {
        let file = self
            .out
            .into_inner()
            .map_err(|e| io::Error::other(e.to_string()))?
            .into_inner()
            .map_err(io::Error::other)?;
        file.sync_all()?;
        Ok(self.path)
    }

    /// Drops what was written (the file is read again, or its batch is not committed).
    pub fn discard(self) {
        let path = self.path.clone();
        drop(self);
        std::fs::remove_file(path).ok();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_name_reads_back() {
        let date = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
        let until = NaiveDate::from_ymd_opt(2026, 12, 4).unwrap();
        let name = held_name(
            ExtractKind::Transactions,
            date,
            until,
            "transactions-20261127-0a1b",
        );
        assert_eq!(
            parse_held_name(&name),
            Some(HeldName {
                kind: ExtractKind::Transactions,
                date,
                until,
                batch_id: "transactions-20261127-0a1b".into()
            })
        );
        assert!(parse_held_name("transactions_20261127.csv").is_none());
    }
}

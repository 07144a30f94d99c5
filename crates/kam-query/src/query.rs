//! The DataFusion session over the fact files: one table per fact kind (`balance`, `transaction`,
//! `loan`, `fee`), its `date=YYYY-MM-DD` folders as a partition column so a date range reads only
//! its days, and the committed batches as the only rows that count.

use std::{path::Path, sync::Arc};

use datafusion::{
    arrow::{
        array::RecordBatch,
        datatypes::{DataType, Field, Schema, SchemaRef},
    },
    datasource::MemTable,
    execution::context::SessionContext,
    prelude::{ParquetReadOptions, SessionConfig},
};

use datafusion::parquet;
use kam_facts::{BalanceRow, FactError, FactKind, FactRows, FeeRow, LoanRow, TransactionRow};

use crate::indicators::sql_text;

/// Where the plans run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Engine {
    /// In this process (DataFusion).
    Embedded,
    /// Ballista's in-process scheduler and executor (feature `distributed`): the distributed
    /// path without a cluster, for tests.
    Standalone,
    /// A Ballista cluster's scheduler, `ballista://host:port` (feature `distributed`).
    Remote(String),
}

impl Engine {
    /// `embedded`, `standalone` or `ballista://host:port`.
    pub fn parse(text: &str) -> Result<Self, FactError> {
        match text {
            "embedded" => Ok(Engine::Embedded),
            "standalone" => Ok(Engine::Standalone),
            url if url.starts_with("ballista://") => Ok(Engine::Remote(url.to_owned())),
            other => Err(FactError::Query(format!(
                "--engine “{other}” 无效，应为 embedded、standalone 或 ballista://host:port / must be embedded, standalone or ballista://host:port"
            ))),
        }
    }
}

/// Queries over the committed facts under one root.
pub struct FactQuery {
    context: SessionContext,
    /// `batch_id IN (…)` of the committed batches (or `FALSE` when there are none).
    committed: String,
    /// The earliest day of any fact folder (committed or not: an approximation of coverage).
    first_date: Option<chrono::NaiveDate>,
    /// Where the facts are (and, under `.rollup/`, the rollups of them).
    root: std::path::PathBuf,
    /// The committed batches, for the rollups' fingerprints.
    committed_ids: std::collections::BTreeSet<String>,
}

impl std::fmt::Debug for FactQuery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FactQuery").finish_non_exhaustive()
    }
}

/// The name of the partition column the `date=…` folders give.
const PARTITION: &str = "date";

fn query_error(error: &datafusion::error::DataFusionError) -> FactError {
    FactError::Query(error.to_string())
}

impl FactQuery {
    /// Opens the facts under `root`, counting only rows of the `committed` batches (the ledger's
    /// word: a staged, pending, reverted or replaced batch's files are invisible here).
    pub async fn open(root: &Path, committed: &[String]) -> Result<Self, FactError> {
        Self::open_on(root, committed, &Engine::Embedded).await
    }

    /// As `open`, with the plans run by `engine`.
    pub async fn open_on(
        root: &Path,
        committed: &[String],
        engine: &Engine,
    ) -> Result<Self, FactError> {
        let context = match engine {
            Engine::Embedded => {
                let config = SessionConfig::new().with_target_partitions(
                    std::thread::available_parallelism().map_or(2, usize::from),
                );
                SessionContext::new_with_config(config)
            }
            distributed => ballista_context(distributed).await?,
        };
        let distributed = *engine != Engine::Embedded;
        for kind in FactKind::ALL {
            let dir = root.join(kind.as_str());
            let name = kind.as_str();
            // A cluster cannot ship an in-memory table: without files it reads an empty Parquet
            // file of the right shape, in a folder of its own.
            let source = if has_parquet(&dir) {
                Some(dir)
            } else if distributed {
                Some(empty_kind_dir(root, *kind)?)
            } else {
                None
            };
            if let Some(source) = source {
                let options = ParquetReadOptions::default()
                    .table_partition_cols(vec![(PARTITION.to_owned(), DataType::Utf8)]);
                let url = format!("{}/", source.display());
                context
                    .register_parquet(name, &url, options)
                    .await
                    .map_err(|e| query_error(&e))?;
            } else {
                // No facts of this kind yet: an empty table of the right shape.
                let mut fields: Vec<Field> = schema_of(*kind)
                    .fields()
                    .iter()
                    .map(|f| f.as_ref().clone())
                    .collect();
                fields.push(Field::new(PARTITION, DataType::Utf8, false));
                let schema = Arc::new(Schema::new(fields));
                let table = MemTable::try_new(schema, vec![vec![]]).map_err(|e| query_error(&e))?;
                context
                    .register_table(name, Arc::new(table))
                    .map_err(|e| query_error(&e))?;
            }
        }
        let committed_filter = if committed.is_empty() {
            "FALSE".to_owned()
        } else {
            let ids: Vec<String> = committed.iter().map(|id| sql_text(id)).collect();
            format!("batch_id IN ({})", ids.join(", "))
        };
        let first_date = FactKind::ALL
            .iter()
            .filter_map(|kind| first_partition(&root.join(kind.as_str())))
            .min();
        Ok(Self {
            context,
            committed: committed_filter,
            first_date,
            root: root.to_owned(),
            committed_ids: committed.iter().cloned().collect(),
        })
    }

    /// The earliest day any fact folder holds: where the facts' coverage begins.
    pub fn first_date(&self) -> Option<chrono::NaiveDate> {
        self.first_date
    }

    /// Where the facts are.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Whether `batch_id` is one of the committed batches.
    pub(crate) fn is_committed(&self, batch_id: &str) -> bool {
        self.committed_ids.contains(batch_id)
    }

    /// Registers (or replaces) table `name` as exactly these Parquet files of `schema`: the
    /// rollups a run chose, and no other file that happens to lie beside them.
    pub(crate) fn register_files(
        &self,
        name: &str,
        files: &[std::path::PathBuf],
        schema: SchemaRef,
    ) -> Result<(), FactError> {
        use datafusion::datasource::{
            file_format::parquet::ParquetFormat,
            listing::{ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl},
        };
        let urls = files
            .iter()
            .map(|path| ListingTableUrl::parse(path.to_string_lossy()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| query_error(&e))?;
        let options =
            ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet");
        let config = ListingTableConfig::new_with_multi_paths(urls)
            .with_listing_options(options)
            .with_schema(schema);
        let table = ListingTable::try_new(config).map_err(|e| query_error(&e))?;
        self.context
            .deregister_table(name)
            .map_err(|e| query_error(&e))?;
        self.context
            .register_table(name, Arc::new(table))
            .map_err(|e| query_error(&e))?;
        Ok(())
    }

    /// The filter that keeps only committed batches' rows.
    pub fn committed(&self) -> &str {
        &self.committed
    }

    /// A filter on the partition folders for the days `first..=last` (days since 1970-01-01),
    /// so only those folders are read.
    pub fn date_range(&self, first: i64, last: i64) -> String {
        let text = |day: i64| {
            let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid");
            epoch
                .checked_add_signed(chrono::Duration::days(day))
                .unwrap_or(chrono::NaiveDate::MIN)
                .format("%Y-%m-%d")
                .to_string()
        };
        format!(
            "{PARTITION} >= '{}' AND {PARTITION} <= '{}'",
            text(first.max(0)),
            text(last)
        )
    }

    /// Runs one statement and collects its result.
    pub async fn sql(&self, sql: &str) -> Result<Vec<RecordBatch>, FactError> {
        let frame = self.context.sql(sql).await.map_err(|e| query_error(&e))?;
        frame.collect().await.map_err(|e| query_error(&e))
    }
}

fn schema_of(kind: FactKind) -> SchemaRef {
    match kind {
        FactKind::Balance => BalanceRow::schema(),
        FactKind::Transaction => TransactionRow::schema(),
        FactKind::Loan => LoanRow::schema(),
        FactKind::Fee => FeeRow::schema(),
    }
}

/// Whether a published Parquet file (not a hidden temp file) is anywhere under `dir`.
fn has_parquet(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().any(|entry| {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') {
            false
        } else if path.is_dir() {
            has_parquet(&path)
        } else {
            name.ends_with(".parquet")
        }
    })
}

/// The earliest `date=YYYY-MM-DD` folder under a fact kind's directory.
fn first_partition(dir: &Path) -> Option<chrono::NaiveDate> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(|entry| {
            let name = entry.ok()?.file_name();
            let date = name
                .to_str()?
                .strip_prefix(&format!("{PARTITION}="))?
                .to_owned();
            chrono::NaiveDate::parse_from_str(&date, "%Y-%m-%d").ok()
        })
        .min()
}

#[cfg(feature = "distributed")]
async fn ballista_context(engine: &Engine) -> Result<SessionContext, FactError> {
    use ballista::prelude::SessionContextExt;
    match engine {
        Engine::Standalone => SessionContext::standalone().await,
        Engine::Remote(url) => SessionContext::remote(url).await,
        Engine::Embedded => unreachable!("the embedded engine needs no cluster"),
    }
    .map_err(|e| query_error(&e))
}

#[cfg(not(feature = "distributed"))]
async fn ballista_context(engine: &Engine) -> Result<SessionContext, FactError> {
    Err(FactError::Query(format!(
        "{engine:?}: 此 kam 未带 distributed 功能编译 / this kam was built without the `distributed` feature (cargo build --features kam-facts/distributed)"
    )))
}

/// `<root>/.empty/<kind>/`, holding one empty Parquet file of the kind's shape (written once).
fn empty_kind_dir(root: &Path, kind: FactKind) -> Result<std::path::PathBuf, FactError> {
    let top = root.join(".empty").join(kind.as_str());
    let dir = top.join(format!("{PARTITION}=1970-01-01"));
    std::fs::create_dir_all(&dir).map_err(|source| FactError::Io {
        path: dir.clone(),
        source,
    })?;
    let file = dir.join("empty.parquet");
    if !file.exists() {
        let out = std::fs::File::create(&file).map_err(|source| FactError::Io {
            path: file.clone(),
            source,
        })?;
        let parquet = |source| FactError::Parquet {
            path: file.clone(),
            source,
        };
        parquet::arrow::ArrowWriter::try_new(out, schema_of(kind), None)
            .map_err(parquet)?
            .close()
            .map_err(parquet)?;
    }
    Ok(top)
}

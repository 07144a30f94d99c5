//! kam-facts: the fact layer — daily balances, transactions, loan snapshots and fee income as
//! Parquet, partitioned by business date. The only crate that imports Arrow (and, with the
//! diagnosis batch, DataFusion).
//!
//! Layout: `<facts>/<kind>/date=YYYY-MM-DD/<batch_id>.parquet`. A file is written to a temp name
//! beside its final place and renamed, so a reader (or a crash) never sees half a file; one file
//! per (kind, date, batch) so a re-imported batch replaces exactly its own file.

mod batch;
pub mod indicators;
mod query;
mod rollup;
mod rows;
mod text;
mod writer;

pub use batch::{BatchWriter, StagedBatch};
pub use query::{Engine, FactQuery};
pub use rows::{BalanceRow, Direction, FactKind, FactRows, FeeRow, Label, LoanRow, TransactionRow};
pub use text::{TextRows, TextTableWriter, read_text_snapshot, snapshot_path, write_text_snapshot};
pub use writer::{FactError, FactWriter, ImportLock, partition_dir};

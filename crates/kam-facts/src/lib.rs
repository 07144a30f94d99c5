//! kam-facts: the fact *format* — daily balances, transactions, loan snapshots and fee income as
//! Parquet, partitioned by business date: row types, writers, readers, the batch's snapshots. With
//! kam-query (the fact *queries*: DataFusion, Ballista) the only crates that import Arrow; import,
//! the generator and the store's and web's tests link this one without the query engine.
//!
//! Layout: `<facts>/<kind>/date=YYYY-MM-DD/<batch_id>.parquet`. A file is written to a temp name
//! beside its final place and renamed, so a reader (or a crash) never sees half a file; one file
//! per (kind, date, batch) so a re-imported batch replaces exactly its own file.

mod batch;
mod rows;
pub mod snapshot;
mod text;
mod writer;

pub use batch::{BatchWriter, StagedBatch};
pub use rows::{BalanceRow, Direction, FactKind, FactRows, FeeRow, Label, LoanRow, TransactionRow};
pub use text::{
    TextRows, TextTableWriter, each_string_in, read_text_snapshot, snapshot_path,
    write_text_snapshot,
};
pub use writer::{FactError, FactWriter, ImportLock, partition_dir, write_parquet_atomically};

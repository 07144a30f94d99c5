//! kam-query: the fact *queries* of the diagnosis batch — a DataFusion session over kam-facts'
//! Parquet layout (`FactQuery`, embedded or on Ballista), the per-customer rollups the nightly run
//! keeps up to date (`rollup.rs`), and the indicator SQL of kam-core's catalogue
//! (`indicators::compute`), and the engine of SQL staging (`staging::run_query`: a mapping file's query over
//! a bank's raw tables). Only the batch (the `kam` binary) links this crate, so editing a page,
//! the store or the import never rebuilds or relinks the query engine.

pub mod indicators;
mod query;
mod rollup;
pub mod staging;

pub use query::{Engine, FactQuery};

//! kam-facts against real Parquet files on disk: the indicator batch on hand-made facts.

mod indicators;
mod naive;

//! kam-facts against real Parquet files on disk: the indicator batch on hand-made facts, against
//! a naive computation, and through Ballista (feature `distributed`).

#[cfg(feature = "distributed")]
mod distributed;
mod indicators;
mod naive;

//! kam-query against real Parquet files on disk: the indicator batch on hand-made facts, against
//! a naive computation, incremental against full, and through Ballista (feature `distributed`).

#[cfg(feature = "distributed")]
mod distributed;
mod incremental;
mod indicators;
mod naive;

use std::path::Path;

/// Copies the facts (not the rollups) to `to`: a run there starts from scratch.
pub(crate) fn copy_facts(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let target = to.join(&name);
        if entry.path().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_facts(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Writes every fact kind of one synthetic day as batch `batch`.
pub(crate) fn write_synthetic_day(
    writer: &kam_facts::FactWriter,
    batch: &str,
    day: &kam_synth::DayFacts,
) {
    writer.write_day(day.date, batch, &day.balances).unwrap();
    writer
        .write_day(day.date, batch, &day.transactions)
        .unwrap();
    writer.write_day(day.date, batch, &day.loans).unwrap();
    writer.write_day(day.date, batch, &day.fees).unwrap();
}

/// Every customer number of a synthetic bank.
pub(crate) fn customer_numbers(bank: &kam_synth::Bank) -> Vec<String> {
    bank.reference
        .customers
        .iter()
        .map(|c| c.cif_no.to_string())
        .collect()
}

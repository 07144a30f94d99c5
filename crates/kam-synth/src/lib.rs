//! kam-synth: a deterministic synthetic bank that looks like a real Chinese bank — org tree,
//! staff in every role, corporate and individual customers with heavy-tailed balances, groups
//! spread across branches, key people, payroll links — and its daily facts (balances,
//! transactions with reversals, loan snapshots with five-category classes, fee income), streamed
//! day by day so memory does not grow with the number of days.
//!
//! The same `seed`, `scale` and `end` give byte-identical output: one ChaCha stream drives
//! everything, in a fixed order.

mod bank;
mod extract;
mod facts;
mod names;
mod opportunity;
mod work;

use chrono::NaiveDate;
use kam_core::{ParseError, code_enum};

pub use bank::{Bank, DEMO_PASSWORD};
pub use extract::{ExtractFormat, ExtractWriter, write_reference, write_transactions_extract};
pub use facts::{DayFacts, FactStream};
pub use opportunity::opportunity_history;
pub use work::{weekly_reports, work_history};

code_enum! {
    /// How big a bank to build.
    pub enum Scale as "scale" {
        /// For unit tests: generated in well under a second.
        Tiny = "tiny",
        Small = "small",
        /// The default demo bank: 24 sub-branches, ~5,000 corporates, ~50,000 individuals.
        Demo = "demo",
        Large = "large",
        /// Millions of customers.
        Huge = "huge",
    }
}

/// The shape of a bank at a scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScaleSpec {
    pub tier1_branches: usize,
    pub tier2_per_tier1: usize,
    pub subs_per_tier2: usize,
    pub corporates: usize,
    pub individuals: usize,
    pub groups: usize,
    pub days: usize,
}

impl Scale {
    pub fn spec(self) -> ScaleSpec {
        let (
            tier1_branches,
            tier2_per_tier1,
            subs_per_tier2,
            corporates,
            individuals,
            groups,
            days,
        ) = match self {
            Scale::Tiny => (2, 1, 2, 60, 400, 4, 60),
            Scale::Small => (3, 2, 2, 1_000, 10_000, 20, 365),
            Scale::Demo => (3, 2, 4, 5_000, 50_000, 80, 730),
            Scale::Large => (6, 3, 5, 50_000, 500_000, 600, 730),
            Scale::Huge => (10, 4, 8, 200_000, 2_000_000, 2_000, 730),
        };
        ScaleSpec {
            tier1_branches,
            tier2_per_tier1,
            subs_per_tier2,
            corporates,
            individuals,
            groups,
            days,
        }
    }
}

/// Everything that decides the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SynthConfig {
    pub scale: Scale,
    pub seed: u64,
    /// The last business date of the facts (inclusive).
    pub end: NaiveDate,
    /// How many days of facts end on `end` (the scale's default unless overridden).
    pub days: usize,
}

impl SynthConfig {
    /// The fixed default end date, so that `kam synth` without `--end` is reproducible on any day.
    pub fn default_end() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 27).expect("valid date")
    }

    pub fn new(scale: Scale, seed: u64) -> Self {
        Self {
            scale,
            seed,
            end: Self::default_end(),
            days: scale.spec().days,
        }
    }

    /// Overrides the number of days (at least one), e.g. to show that memory does not grow with it.
    pub fn with_days(mut self, days: usize) -> Self {
        self.days = days.max(1);
        self
    }

    pub fn with_end(mut self, end: NaiveDate) -> Self {
        self.end = end;
        self
    }

    pub fn start(&self) -> NaiveDate {
        self.end - chrono::Days::new(self.days as u64 - 1)
    }
}

/// Parses a `--scale` value, naming the accepted ones on error.
pub fn parse_scale(value: &str) -> Result<Scale, ParseError> {
    Scale::parse(value)
}

#[cfg(test)]
mod tests {
    use std::{collections::BTreeMap, fs, path::Path};

    use kam_core::customer::CustomerKind;
    use kam_facts::FactWriter;
    use sha2::{Digest, Sha256};

    use super::*;

    fn write_everything(dir: &Path, config: SynthConfig) {
        let mut bank = Bank::generate(config);
        write_reference(dir, &bank.reference, bank.config.end, ExtractFormat::Csv).unwrap();
        let mut extracts = ExtractWriter::new(dir, ExtractFormat::Csv).unwrap();
        let parquet = FactWriter::new(dir.join("facts"));
        for day in bank.facts() {
            extracts.write_day(&day).unwrap();
            parquet.write_day(day.date, "synth", &day.balances).unwrap();
            parquet
                .write_day(day.date, "synth", &day.transactions)
                .unwrap();
        }
    }

    fn digests(dir: &Path) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(path) = stack.pop() {
            for entry in fs::read_dir(&path).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    let digest = Sha256::digest(fs::read(&path).unwrap());
                    out.insert(
                        path.strip_prefix(dir).unwrap().display().to_string(),
                        format!("{digest:x}"),
                    );
                }
            }
        }
        out
    }

    #[test]
    fn the_same_seed_gives_byte_identical_files() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        write_everything(a.path(), SynthConfig::new(Scale::Tiny, 42));
        write_everything(b.path(), SynthConfig::new(Scale::Tiny, 42));
        let (first, second) = (digests(a.path()), digests(b.path()));
        assert!(
            first.len() > 200,
            "reference, daily CSV and Parquet files: {}",
            first.len()
        );
        assert_eq!(first, second);
    }

    #[test]
    fn the_demo_archives_pass_kam_cores_check_and_half_the_companies_have_one() {
        let bank = Bank::generate(SynthConfig::new(Scale::Tiny, 3));
        let profiles = &bank.reference.profiles;
        let companies = bank
            .reference
            .customers
            .iter()
            .filter(|c| c.kind == CustomerKind::Corporate)
            .count();
        assert_eq!(profiles.len(), companies.div_ceil(2));
        for record in profiles {
            let cif = &record.cif_no;
            assert_eq!(record.profile.check(bank.config.end), Ok(()), "{cif}");
            assert!(
                record.profile.credit_code.is_some(),
                "{cif}: a valid credit code"
            );
        }
    }

    #[test]
    fn another_seed_gives_another_bank() {
        let one = Bank::generate(SynthConfig::new(Scale::Tiny, 1));
        let two = Bank::generate(SynthConfig::new(Scale::Tiny, 2));
        assert_ne!(
            one.reference.customers[0].name,
            two.reference.customers[0].name
        );
    }

    #[test]
    fn the_demo_bank_has_the_promised_shape_and_a_real_pareto() {
        let bank = Bank::generate(SynthConfig::new(Scale::Demo, 7));
        let data = &bank.reference;
        assert_eq!(data.org_units.len(), 1 + 3 + 6 + 24);
        assert!(
            (140..=200).contains(&data.users.len()),
            "{}",
            data.users.len()
        );
        let corporates = data
            .customers
            .iter()
            .filter(|c| c.kind == CustomerKind::Corporate)
            .count();
        assert_eq!(corporates, 5_000);
        assert_eq!(data.customers.len() - corporates, 50_000);
        assert!(
            (60..=80).contains(&data.groups.len()),
            "{}",
            data.groups.len()
        );
        let spanning = data
            .groups
            .iter()
            .filter(|g| !g.co_unit_codes.is_empty())
            .count();
        assert!(
            spanning * 10 >= data.groups.len() * 7,
            "most groups bank in several branches: {spanning}"
        );
        let mut deposits: Vec<i64> = bank
            .deposits
            .iter()
            .filter(|d| d.corporate)
            .map(|d| d.balance_minor)
            .collect();
        deposits.sort_unstable_by(|a, b| b.cmp(a));
        let total: i128 = deposits.iter().map(|d| i128::from(*d)).sum();
        let top: i128 = deposits[..deposits.len() / 5]
            .iter()
            .map(|d| i128::from(*d))
            .sum();
        let share = top as f64 / total as f64;
        assert!(
            share > 0.65,
            "top 20% of corporates hold {share:.2} of deposits"
        );
        assert!(!data.payroll_links.is_empty());
    }

    #[test]
    fn the_stories_are_in_the_facts() {
        let mut bank = Bank::generate(SynthConfig::new(Scale::Small, 3));
        let days: Vec<DayFacts> = bank.facts().collect();
        let last = days.last().unwrap();
        assert_eq!(days.len(), 365);
        // Dormant accounts: many accounts with no transaction in the last 60 days.
        let recent: std::collections::HashSet<&str> = days[days.len() - 60..]
            .iter()
            .flat_map(|d| d.transactions.iter().map(|t| t.account_no.as_str()))
            .collect();
        let dormant = last
            .balances
            .iter()
            .filter(|b| !recent.contains(b.account_no.as_str()))
            .count();
        assert!(dormant > 100, "{dormant}");
        // Money moving away: debits to other banks exist, and reversals point at real transactions.
        let reversals: Vec<_> = days
            .iter()
            .flat_map(|d| &d.transactions)
            .filter(|t| t.reversal)
            .collect();
        assert!(!reversals.is_empty());
        assert!(reversals.iter().all(|r| r.reverses_txn_id.is_some()));
        // Loans worsen through the five classes.
        assert!(last.loans.iter().any(|l| l.loan_class != "pass"));
        assert!(last.loans.iter().any(|l| l.loan_class == "pass"));
        assert!(days.iter().flat_map(|d| &d.fees).count() > 100);
    }
}

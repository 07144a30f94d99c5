//! Builds a synthetic bank into a data directory: Parquet facts streamed day by day on a writer
//! thread, then the reference data and end-date holdings bulk-loaded into the store.

use std::{path::Path, sync::mpsc, thread, time::Instant};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use kam_core::password::{HashCost, hash_password};
use kam_facts::{FactKind, FactWriter};
use kam_store::{Actor, LoadCounts, Store};
use kam_synth::{
    Bank, DEMO_PASSWORD, DayFacts, ExtractFormat, ExtractWriter, SynthConfig, write_reference,
};
use rand::RngCore;

/// The batch id prefix of the demo bank's facts; each fact kind is its own batch (`synth-balance`…).
pub const DEMO_BATCH: &str = "synth";

/// Rows and amount totals per fact kind, for the ledger.
#[derive(Debug, Default, Clone, Copy)]
pub struct KindTotals {
    pub rows: i64,
    pub amount_minor: i64,
}

/// The batch id of one fact kind of a generated bank.
pub fn kind_batch_id(prefix: &str, kind: FactKind) -> String {
    format!("{prefix}-{kind}")
}

/// Figures of one build, for the summary and for `kam bench synth`.
#[derive(Debug, Default, Clone, Copy)]
pub struct BuildFigures {
    pub customers: usize,
    pub fact_rows: u64,
    pub fact_bytes: u64,
    pub generate_reference_secs: f64,
    pub facts_secs: f64,
    pub load_secs: f64,
    /// The RMs' work history loaded.
    pub work: kam_store::WorkCounts,
    pub reports: usize,
    pub opportunities: kam_store::OpportunityCounts,
}

pub fn progress_bar(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(
            "{msg:12} [{elapsed_precise}] {wide_bar} {pos}/{len} ({per_sec}, ETA {eta})",
        )
        .expect("valid template"),
    );
    bar.set_message(what.to_owned());
    bar
}

/// Streams the bank's facts into `sink` on a separate thread (bounded channel: memory stays
/// flat however many days), returning rows and bytes written.
pub fn stream_facts(
    bank: &mut Bank,
    bar: &ProgressBar,
    mut sink: impl FnMut(&DayFacts) -> anyhow::Result<u64> + Send,
) -> anyhow::Result<(u64, u64)> {
    let (sender, receiver) = mpsc::sync_channel::<DayFacts>(4);
    thread::scope(|scope| {
        let writer = scope.spawn(move || -> anyhow::Result<(u64, u64)> {
            let (mut rows, mut bytes) = (0u64, 0u64);
            for day in receiver {
                rows += day.row_count() as u64;
                bytes += sink(&day)?;
            }
            Ok((rows, bytes))
        });
        for day in bank.facts() {
            if sender.send(day).is_err() {
                break; // the writer failed; its error is returned below
            }
            bar.inc(1);
        }
        drop(sender);
        writer.join().expect("fact writer thread panicked")
    })
}

/// Writes a day's four fact files; balances (the biggest) on a second thread, so encoding uses
/// both cores while the generator runs ahead.
pub fn write_parquet_day(writer: &FactWriter, day: &DayFacts, batch: &str) -> anyhow::Result<u64> {
    let id = |kind| kind_batch_id(batch, kind);
    thread::scope(|scope| {
        let balances =
            scope.spawn(|| writer.write_day(day.date, &id(FactKind::Balance), &day.balances));
        let others = writer.write_day(day.date, &id(FactKind::Transaction), &day.transactions)?
            + writer.write_day(day.date, &id(FactKind::Loan), &day.loans)?
            + writer.write_day(day.date, &id(FactKind::Fee), &day.fees)?;
        Ok(others + balances.join().expect("balance writer panicked")?)
    })
}

/// Adds a day's rows and amounts to the per-kind totals (amounts as the import sums them: every
/// amount field of the kind).
pub fn add_totals(totals: &mut [KindTotals; 4], day: &DayFacts) {
    let add = |t: &mut KindTotals, rows: usize, amount: i64| {
        t.rows += rows as i64;
        t.amount_minor += amount;
    };
    add(
        &mut totals[0],
        day.balances.len(),
        day.balances.iter().map(|r| r.balance_minor).sum(),
    );
    add(
        &mut totals[1],
        day.transactions.len(),
        day.transactions.iter().map(|r| r.amount_minor).sum(),
    );
    add(
        &mut totals[2],
        day.loans.len(),
        day.loans
            .iter()
            .map(|r| r.outstanding_minor + r.overdue_principal_minor + r.credit_limit_minor)
            .sum(),
    );
    add(
        &mut totals[3],
        day.fees.len(),
        day.fees.iter().map(|r| r.amount_minor).sum(),
    );
}

pub use kam_app::batch::FACT_KINDS;

/// Builds the whole demo bank: facts to `facts_dir`, reference data to `store`.
pub async fn build_bank(
    store: &Store,
    facts_dir: &Path,
    config: SynthConfig,
    today: chrono::NaiveDate,
    progress: &crate::warmup::Progress,
) -> anyhow::Result<(LoadCounts, BuildFigures)> {
    let mut figures = BuildFigures::default();
    let started = Instant::now();
    let mut bank = Bank::generate(config);
    figures.customers = bank.reference.customers.len();
    figures.generate_reference_secs = started.elapsed().as_secs_f64();

    // Every synthetic user has the one password the demo's sign-in page prints: one hash at
    // production cost serves them all. A hash per user (164 at the demo's scale, ~4 s of a core
    // the fact generator needs) would protect nothing the page does not already show; a user
    // who changes the password gets a hash of their own.
    let users = bank.reference.users.len();
    let hasher = thread::spawn(move || {
        let mut salt = [0u8; 16];
        rand::rng().fill_bytes(&mut salt);
        vec![hash_password(DEMO_PASSWORD, &salt, HashCost::Production); users]
    });

    let started = Instant::now();
    let writer = FactWriter::new(facts_dir);
    // One fixed batch id for the demo bank, removed first: a rebuild after an interrupted run
    // (or with another seed or scale) replaces the demo's facts instead of doubling them.
    let batch = DEMO_BATCH;
    for (kind, _) in FACT_KINDS {
        writer.remove_batch(&kind_batch_id(batch, kind))?;
    }
    let bar = progress_bar(config.days as u64, "facts 事实");
    progress.bar(&bar);
    let mut totals = [KindTotals::default(); 4];
    let (rows, bytes) = stream_facts(&mut bank, &bar, |day| {
        add_totals(&mut totals, day);
        write_parquet_day(&writer, day, batch)
    })?;
    bar.finish();
    // The ledger says which fact files count; the demo's are recorded before the reference data,
    // so a build killed in between is rebuilt (empty store) and its rows replaced, not doubled.
    let actor = Actor::system("demo");
    for ((kind, ledger_kind), total) in FACT_KINDS.iter().zip(totals) {
        store
            .record_generated_batch(
                &actor,
                &kam_store::NewImportBatch {
                    batch_id: kind_batch_id(batch, *kind),
                    kind: (*ledger_kind).to_owned(),
                    business_date: config.end,
                    file_name: format!(
                        "synthetic bank, seed {}, scale {}",
                        config.seed, config.scale
                    ),
                    content_hash: format!("synth-{}-{}-{}", config.seed, config.scale, config.days),
                    rows_read: total.rows,
                    loaded: total.rows,
                    rejected: 0,
                    duplicates: 0,
                    held: 0,
                    amount_total_minor: total.amount_minor,
                    rejects: Vec::new(),
                },
            )
            .await?;
    }
    figures.fact_rows = rows;
    figures.fact_bytes = bytes;
    figures.facts_secs = started.elapsed().as_secs_f64();

    progress.stage(1);
    let started = Instant::now();
    let mut data = bank.reference.clone();
    data.holdings = bank.holdings(config.end);
    let hashes = hasher.join().expect("password hashing thread panicked");
    let spinner = ProgressBar::new_spinner();
    spinner.set_message("loading the operational store 写入业务库…");
    spinner.enable_steady_tick(std::time::Duration::from_millis(200));
    let counts = store
        .bulk_load(&Actor::system("demo"), &data, &hashes)
        .await
        .context("loading the synthetic bank into the store")?;
    // The corporate archives the demo shows (through the same writer as a person's save).
    store
        .load_profiles(&Actor::system("demo"), &data.profiles, config.end)
        .await
        .context("loading the corporate archives")?;
    // The board's manual criteria as head office's key-account manager scored them, so the
    // board ranks and stars by all its criteria (a fifth of the companies left unscored).
    let rules = kam_core::rules::Rules::builtin();
    let manual: Vec<&str> = rules
        .scoring
        .criteria
        .iter()
        .filter(|c| c.source == kam_core::scoring::Source::Manual)
        .map(|c| c.code.as_str())
        .collect();
    if let Some(kam) = data
        .users
        .iter()
        .find(|u| u.role == kam_core::user::Role::HeadOfficeKeyAccountManager)
    {
        store
            .load_manual_scores(
                &Actor::system("demo"),
                &rules.scoring.id,
                kam.username.as_str(),
                &bank.manual_scores(&manual),
            )
            .await
            .context("loading the board's manual scores")?;
    }
    // The RMs' work up to today: visits with their notes, needs and tasks, and plans ahead.
    let (activities, tasks) = kam_synth::work_history(&data, (config.end, today));
    let work = store
        .load_work(&Actor::system("demo"), &activities, &tasks)
        .await
        .context("loading the RMs' visits and tasks")?;
    figures.work = work;
    // Their selling: opportunities through the funnel, with obstacles and buying influences.
    let opportunities = kam_synth::opportunity_history(&data, today);
    figures.opportunities = store
        .load_opportunities(&Actor::system("demo"), &opportunities, &rules.pipeline)
        .await
        .context("loading the RMs' opportunities")?;
    let reports = kam_synth::weekly_reports(&data, (&activities, &tasks), &opportunities, today);
    figures.reports = store
        .load_reports(&Actor::system("demo"), &reports)
        .await
        .context("loading the RMs' weekly reports")?;
    spinner.finish_and_clear();
    figures.load_secs = started.elapsed().as_secs_f64();
    Ok((counts, figures))
}

/// Writes the bank as extract files (reference CSVs + daily CSVs), and optionally Parquet facts.
pub fn write_extracts(
    out: &Path,
    config: SynthConfig,
    format: ExtractFormat,
    parquet: bool,
) -> anyhow::Result<(usize, u64, u64)> {
    let mut bank = Bank::generate(config);
    let files = write_reference(out, &bank.reference, bank.config.end, format)
        .with_context(|| format!("writing {}", out.display()))?;
    let mut extracts = ExtractWriter::new(out, format)?;
    let facts = FactWriter::new(out.join("facts"));
    let batch = DEMO_BATCH;
    if parquet {
        for (kind, _) in FACT_KINDS {
            facts.remove_batch(&kind_batch_id(batch, kind))?;
        }
    }
    let bar = progress_bar(config.days as u64, "extracts 文件");
    let (rows, bytes) = stream_facts(&mut bank, &bar, |day| {
        let before = extracts.bytes_written;
        extracts.write_day(day)?;
        let parquet_bytes = if parquet {
            write_parquet_day(&facts, day, batch)?
        } else {
            0
        };
        Ok(extracts.bytes_written - before + parquet_bytes)
    })?;
    bar.finish();
    Ok((files.len(), rows, bytes))
}

/// Peak resident memory of this process in MiB (Linux `VmHWM`), if known.
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

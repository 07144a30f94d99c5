//! Rollups: the committed facts folded per customer and day — the day's transactions, its fee
//! income, and the balances and loans holding that day — cached as Parquet under
//! `<facts>/.rollup/`, so that a nightly run reads one new day of facts plus the rollups instead of
//! two years of facts.
//!
//! A rollup file covers a *segment*: a whole calendar month once the month is over, and a single
//! day in the as-of date's own month. Its name is a fingerprint of everything it was computed
//! from (the committed fact files of its days with their sizes and times, the currency, the own
//! banks, this module's version), so a re-imported, reverted or late batch changes the name and the
//! segment is computed again; a stale file is never read, because each run registers exactly the
//! files of its own layout. The full run and the incremental run therefore read the same numbers:
//! the incremental run has merely found most of them already written.
//!
//! Balances and loans are snapshots. A snapshot holds on its own day and on following days until
//! the item's next snapshot, for at most [`CARRY_DAYS`] days after it. The "state" — per account
//! and loan the snapshot holding on a day — is kept for the last day computed, so the next day is
//! that state plus one day of snapshots, not 31 days of them.

use std::{
    collections::{BTreeMap, HashMap},
    hash::{DefaultHasher, Hash, Hasher},
    path::{Path, PathBuf},
    sync::Arc,
};

use chrono::{Datelike, Months, NaiveDate};
use datafusion::arrow::{
    array::{
        Array, ArrayRef, AsArray, Int64Array, Int64Builder, RecordBatch, StringArray, StringBuilder,
    },
    compute::{cast, concat_batches},
    datatypes::{DataType, Field, Int64Type, Schema, SchemaRef},
};

use datafusion::parquet;
use kam_facts::{
    FactError, FactKind,
    snapshot::{epoch_date, epoch_day, int_at, int_column, text_column},
    write_parquet_atomically,
};

use crate::{indicators::sql_text, query::FactQuery};

/// A snapshot (balance, loan) holds for at most this many days after its own day, until the
/// item's next snapshot: a monthly loan snapshot reaches the next month's, a closed account's last
/// balance fades after a month.
pub const CARRY_DAYS: i64 = 31;

/// Bumped whenever what a rollup file holds changes meaning, so old files are not read.
const VERSION: u32 = 3;

/// Missing finished months of transactions or fees computed by one query, at most this many.
const MONTHS_PER_QUERY: usize = 6;

/// Daily files of a finished month are concatenated into the month's file when at most this many
/// of its days are missing; otherwise the month is computed from the facts in one query.
const MAX_MISSING_FOR_CONCAT: usize = 3;

/// The three rollups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Rollup {
    /// Per customer and day: non-reversal count, amount, largest; reversals; credits; debits to
    /// other banks.
    Transaction,
    /// Per customer and day: fee income.
    Fee,
    /// Per customer and day: the credit limits holding that day and the worst loan class among
    /// them; and the sums of balances, outstanding and overdue principal over the month's days so
    /// far (`cum_*`), so that a range's sum is two rows per month instead of one per day (and a
    /// day's own values the difference of two rows). A customer that held anything in a month
    /// has a row on every later day of that month.
    Held,
}

impl Rollup {
    fn as_str(self) -> &'static str {
        match self {
            Rollup::Transaction => "transaction",
            Rollup::Fee => "fee",
            Rollup::Held => "held",
        }
    }

    /// The SQL table name the indicator queries read.
    pub(crate) fn table(self) -> &'static str {
        match self {
            Rollup::Transaction => "txn_daily",
            Rollup::Fee => "fee_daily",
            Rollup::Held => "held_daily",
        }
    }

    pub(crate) fn schema(self) -> SchemaRef {
        let columns: &[&str] = match self {
            Rollup::Transaction => &[
                "n",
                "amount",
                "max_amount",
                "rev_n",
                "rev_amount",
                "in_n",
                "in_amount",
                "in_max",
                "out_other",
            ],
            Rollup::Fee => &["fee"],
            Rollup::Held => &[
                "credit_limit",
                "worst_class",
                "cum_balance",
                "cum_outstanding",
                "cum_overdue",
            ],
        };
        let mut fields = vec![
            Field::new("cif_no", DataType::Utf8, false),
            Field::new("day", DataType::Int64, false),
        ];
        fields.extend(
            columns
                .iter()
                .map(|name| Field::new(*name, DataType::Int64, true)),
        );
        Arc::new(Schema::new(fields))
    }
}

/// Days `first..=last` a rollup file covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Segment {
    first: NaiveDate,
    last: NaiveDate,
    monthly: bool,
}

impl Segment {
    fn day(date: NaiveDate) -> Self {
        Self {
            first: date,
            last: date,
            monthly: false,
        }
    }

    fn folder(&self) -> String {
        if self.monthly {
            format!("month={}", self.first.format("%Y-%m"))
        } else {
            format!("date={}", self.first)
        }
    }

    fn days(&self) -> impl Iterator<Item = NaiveDate> + use<> {
        self.first.iter_days().take_while({
            let last = self.last;
            move |d| *d <= last
        })
    }

    fn len(&self) -> usize {
        usize::try_from((self.last - self.first).num_days() + 1).unwrap_or(0)
    }
}

/// Rollup files are read by day ranges and single days: row groups of a few days' rows at the
/// demo's scale let the reader skip the others by their statistics. Plain encoding with Snappy:
/// a third less time to write the dense held rollup than dictionaries, and smaller files.
fn properties() -> parquet::file::properties::WriterProperties {
    parquet::file::properties::WriterProperties::builder()
        .set_max_row_group_row_count(Some(64 * 1024))
        .set_dictionary_enabled(false)
        .set_compression(parquet::basic::Compression::SNAPPY)
        .build()
}

/// The first day of `date`'s month.
fn month_start(date: NaiveDate) -> NaiveDate {
    date.with_day(1).expect("day 1 exists")
}

/// The segments from `first` to `as_of`: each finished month whole, `as_of`'s month day by day
/// (all of it whole when `as_of` is its last day).
fn layout(first: NaiveDate, as_of: NaiveDate) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut month = first.with_day(1).expect("day 1 exists");
    while month <= as_of {
        let last = month + Months::new(1) - chrono::Duration::days(1);
        let start = month.max(first);
        if last <= as_of {
            out.push(Segment {
                first: start,
                last,
                monthly: true,
            });
        } else {
            out.extend(
                Segment {
                    first: start,
                    last: as_of,
                    monthly: false,
                }
                .days()
                .map(Segment::day),
            );
        }
        month = month + Months::new(1);
    }
    out
}

/// What a run did with the rollups: days computed from facts, days whose rollup was reused.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RollupStats {
    /// Days (summed over the three rollups) computed from the facts this run.
    pub computed_days: usize,
    /// Days (summed over the three rollups) found already computed.
    pub reused_days: usize,
    /// Days of fact folders read to compute them (a balance day needs the 31 before it unless
    /// the previous day's state is at hand).
    pub fact_days_read: usize,
    /// Seconds spent on the transaction, fee and held rollups (computing, or finding them).
    pub seconds: [f64; 3],
}

impl RollupStats {
    fn add(&mut self, other: &RollupStats) {
        self.computed_days += other.computed_days;
        self.reused_days += other.reused_days;
        self.fact_days_read += other.fact_days_read;
        for (mine, theirs) in self.seconds.iter_mut().zip(other.seconds) {
            *mine += theirs;
        }
    }
}

/// The parameters a rollup depends on besides the facts.
#[derive(Debug, Clone)]
pub(crate) struct RollupParams<'a> {
    pub currency: &'a str,
    pub own_banks: &'a [String],
}

/// Per (fact kind, day): a hash of the committed files of that day (0 without any).
struct FactIndex(HashMap<(FactKind, NaiveDate), u64>);

impl FactIndex {
    fn scan(query: &FactQuery) -> Self {
        let mut days = HashMap::new();
        for kind in FactKind::ALL {
            let Ok(folders) = std::fs::read_dir(query.root().join(kind.as_str())) else {
                continue;
            };
            for folder in folders.flatten() {
                let name = folder.file_name();
                let Some(date) = name
                    .to_str()
                    .and_then(|n| n.strip_prefix("date="))
                    .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                else {
                    continue;
                };
                let Ok(files) = std::fs::read_dir(folder.path()) else {
                    continue;
                };
                let mut committed: Vec<(String, u64, u128)> = files
                    .flatten()
                    .filter_map(|file| {
                        let name = file.file_name().to_str()?.to_owned();
                        let batch = name.strip_suffix(".parquet")?;
                        if name.starts_with('.') || !query.is_committed(batch) {
                            return None;
                        }
                        let meta = file.metadata().ok()?;
                        let modified = meta
                            .modified()
                            .ok()
                            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                            .map_or(0, |d| d.as_nanos());
                        Some((name, meta.len(), modified))
                    })
                    .collect();
                if committed.is_empty() {
                    continue;
                }
                committed.sort();
                let mut hasher = DefaultHasher::new();
                committed.hash(&mut hasher);
                days.insert((*kind, date), hasher.finish());
            }
        }
        Self(days)
    }

    fn get(&self, kind: FactKind, date: NaiveDate) -> u64 {
        self.0.get(&(kind, date)).copied().unwrap_or(0)
    }
}

/// Strings (customer, account and loan numbers) as small integers, numbered as first seen, so
/// that the held fold keys its maps and vectors by integers and allocates once per name, not per
/// snapshot row.
#[derive(Debug, Clone, Default)]
struct Names {
    ids: foldhash::HashMap<Box<str>, u32>,
    names: Vec<Box<str>>,
}

impl Names {
    fn id(&mut self, name: &str) -> u32 {
        if let Some(id) = self.ids.get(name) {
            return *id;
        }
        let id = u32::try_from(self.names.len()).expect("fewer than 4 billion names");
        self.names.push(name.into());
        self.ids.insert(name.into(), id);
        id
    }

    fn name(&self, id: u32) -> &str {
        &self.names[id as usize]
    }
}

/// Balances and loans, the two kinds of snapshot the held rollup folds.
const BALANCE: usize = 0;
const LOAN: usize = 1;
/// In the saved state only: a customer's month sums.
const MONTH: usize = 2;

/// One account's or loan's snapshot holding: the customer, its day, and its values (balance; or
/// outstanding, overdue principal, credit limit, class 1–5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Holding {
    customer: u32,
    day: i64,
    values: [i64; 4],
}

/// Per kind (balance, loan) and account or loan the snapshot holding on `day`, and per customer
/// the totals of those, kept up to date as snapshots arrive and expire (a day's rollup rows are
/// then a walk over the customers, not over every account).
#[derive(Debug, Clone, Default)]
struct State {
    day: i64,
    customers: Names,
    items: [Names; 2],
    /// `[kind][item id]`: the snapshot holding, if any.
    holdings: [Vec<Option<Holding>>; 2],
    /// By customer id.
    totals: Vec<Totals>,
    /// By customer id: the sums over `day`'s month up to `day`.
    month: Vec<MonthSums>,
    /// The snapshots by their own day, to expire them CARRY_DAYS later without a walk over every
    /// item (an entry whose item has a newer snapshot since is skipped).
    by_day: BTreeMap<i64, Vec<(usize, u32)>>,
    /// Per kind: the item last inserted, and per item the one inserted after it last time (a
    /// guess at the next, `u32::MAX` for none).
    last: [Option<u32>; 2],
    next: [Vec<u32>; 2],
}

/// One customer's Σ over the days of a month so far of balance, outstanding, overdue; and
/// whether it held anything in the month.
#[derive(Debug, Clone, Copy, Default)]
struct MonthSums {
    sums: [i64; 3],
    held: bool,
}

/// One customer's holdings: Σ balance, outstanding, overdue, credit limit; loans per class 0–5.
#[derive(Debug, Clone, Copy, Default)]
struct Totals {
    sums: [i64; 4],
    classes: [u32; 6],
    items: u32,
}

impl State {
    /// A snapshot of `item` (a `kind`) for `customer`. Two snapshots of one item on one day (two
    /// batches) resolve the same way whatever order they come in: the greater (customer number,
    /// values) holds.
    fn insert(&mut self, kind: usize, item: &str, customer: &str, day: i64, values: [i64; 4]) {
        let item = self.item_id(kind, item);
        let slots = &mut self.holdings[kind];
        if slots.len() <= item as usize {
            slots.resize(item as usize + 1, None);
        }
        let previous = slots[item as usize];
        // An item's customer is nearly always its last snapshot's: one string compare instead of
        // a second hash look-up per snapshot row.
        let customer = match previous {
            Some(old) if self.customers.name(old.customer) == customer => old.customer,
            _ => self.customers.id(customer),
        };
        let holding = Holding {
            customer,
            day,
            values,
        };
        if let Some(old) = previous {
            if old.day == day
                && (self.customers.name(old.customer), old.values)
                    > (self.customers.name(customer), values)
            {
                return;
            }
            Self::count(&mut self.totals, kind, &old, false);
        }
        self.holdings[kind][item as usize] = Some(holding);
        Self::count(&mut self.totals, kind, &holding, true);
        self.by_day.entry(day).or_default().push((kind, item));
    }

    /// `name`'s number among `kind`'s items. A day's snapshot file lists its items in the order
    /// of the day before, so the item after the last one is nearly always the one that followed
    /// it then: a string compare instead of a hash look-up per snapshot row.
    fn item_id(&mut self, kind: usize, name: &str) -> u32 {
        let guess = self.last[kind]
            .and_then(|last| self.next[kind].get(last as usize).copied())
            .filter(|guess| *guess != u32::MAX && self.items[kind].name(*guess) == name);
        let id = guess.unwrap_or_else(|| self.items[kind].id(name));
        if let Some(last) = self.last[kind] {
            let next = &mut self.next[kind];
            if next.len() <= last as usize {
                next.resize(last as usize + 1, u32::MAX);
            }
            next[last as usize] = id;
        }
        self.last[kind] = Some(id);
        id
    }

    /// Closes `day`: what is older than CARRY_DAYS stops holding, what holds adds to the month's
    /// sums (a new month starts from nothing).
    fn close(&mut self, day: i64) {
        self.expire(day);
        if epoch_date(day).day() == 1 {
            self.month.fill(MonthSums::default());
        }
        self.month.resize(self.totals.len(), MonthSums::default());
        for (month, totals) in self.month.iter_mut().zip(&self.totals) {
            if totals.items > 0 {
                for (sum, value) in month.sums.iter_mut().zip(totals.sums) {
                    *sum += value;
                }
                month.held = true;
            }
        }
    }

    /// Closes `day` for what holds: what is older than CARRY_DAYS stops holding.
    fn expire(&mut self, day: i64) {
        self.day = day;
        while let Some(entry) = self.by_day.first_entry() {
            if day - entry.key() <= CARRY_DAYS {
                break;
            }
            let (snapshot_day, expiring) = entry.remove_entry();
            for (kind, item) in expiring {
                let slot = &mut self.holdings[kind][item as usize];
                if let Some(holding) = slot.filter(|h| h.day == snapshot_day) {
                    *slot = None;
                    Self::count(&mut self.totals, kind, &holding, false);
                }
            }
        }
    }

    fn count(totals: &mut Vec<Totals>, kind: usize, holding: &Holding, add: bool) {
        let sign = if add { 1 } else { -1 };
        let at = holding.customer as usize;
        if totals.len() <= at {
            totals.resize(at + 1, Totals::default());
        }
        let entry = &mut totals[at];
        let [value, overdue, limit, class] = holding.values;
        if kind == BALANCE {
            entry.sums[0] += sign * value;
        } else {
            entry.sums[1] += sign * value;
            entry.sums[2] += sign * overdue;
            entry.sums[3] += sign * limit;
            let class = usize::try_from(class.clamp(0, 5)).unwrap_or(0);
            entry.classes[class] = entry.classes[class].wrapping_add_signed(sign as i32);
        }
        entry.items = entry.items.wrapping_add_signed(sign as i32);
        if entry.items == 0 {
            *entry = Totals::default();
        }
    }

    /// Every snapshot holding, in (kind, item number) order.
    fn holdings(&self) -> Vec<(usize, &str, &Holding)> {
        let mut out: Vec<(usize, &str, &Holding)> = (0..2)
            .flat_map(|kind| {
                self.holdings[kind]
                    .iter()
                    .enumerate()
                    .filter_map(move |(item, h)| h.as_ref().map(|h| (kind, item as u32, h)))
            })
            .map(|(kind, item, h)| (kind, self.items[kind].name(item), h))
            .collect();
        out.sort_unstable_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        out
    }
}

/// Builds what is missing and registers the three rollup tables for `as_of`.
pub(crate) struct Rollups<'a> {
    query: &'a FactQuery,
    params: RollupParams<'a>,
    index: FactIndex,
    dir: PathBuf,
    pub(crate) stats: RollupStats,
    /// The days (first, last) of the finished months `txn_monthly` sums, oldest first.
    pub(crate) months: Vec<(i64, i64)>,
}

impl<'a> Rollups<'a> {
    pub(crate) fn new(query: &'a FactQuery, params: RollupParams<'a>) -> Self {
        Self {
            index: FactIndex::scan(query),
            dir: query.root().join(".rollup"),
            query,
            params,
            stats: RollupStats::default(),
            months: Vec::new(),
        }
    }

    /// Makes sure every segment up to `as_of` is computed, then registers the tables. The
    /// transaction rollup reaches back to the first fact day (a customer's first transaction ever
    /// is an indicator); the fee and held rollups only to the first day of `needed_from`'s month
    /// (month-aligned, so that the next nights find the same segments).
    ///
    /// The three rollups are independent, so they are built side by side: while the held rollup
    /// folds snapshots on one core, DataFusion groups transactions on the other (each fold and
    /// Parquet write runs on a blocking thread, so neither holds up the other's queries).
    pub(crate) async fn ensure(
        &mut self,
        as_of: NaiveDate,
        needed_from: NaiveDate,
    ) -> Result<(), FactError> {
        let horizon = month_start(needed_from);
        let this = &*self;
        let (transaction, fee, held) = tokio::try_join!(
            this.ensure_one(Rollup::Transaction, as_of, horizon),
            this.ensure_one(Rollup::Fee, as_of, horizon),
            this.ensure_one(Rollup::Held, as_of, horizon),
        )?;
        for (stats, _) in [&transaction, &fee, &held] {
            self.stats.add(stats);
        }
        self.months = transaction.1;
        Ok(())
    }

    /// One rollup's segments up to `as_of`, computed where missing, registered as its table; with
    /// what it did, and for the transaction rollup the finished months `txn_monthly` sums.
    async fn ensure_one(
        &self,
        rollup: Rollup,
        as_of: NaiveDate,
        horizon: NaiveDate,
    ) -> Result<(RollupStats, Vec<(i64, i64)>), FactError> {
        let mut stats = RollupStats::default();
        let from = match rollup {
            Rollup::Transaction => self.query.first_date(),
            Rollup::Fee | Rollup::Held => self.query.first_date().map(|d| d.max(horizon)),
        };
        let segments = match from {
            Some(first) => layout(first, as_of),
            None => Vec::new(),
        };
        let started = std::time::Instant::now();
        let mut files = Vec::with_capacity(segments.len());
        // The held state at the end of the last segment computed in this loop.
        let mut state: Option<State> = None;
        // Each fingerprint once: the held one hashes 31 days more than the segment.
        let paths: Vec<PathBuf> = segments.iter().map(|s| self.path(rollup, s)).collect();
        let mut at = 0;
        while at < segments.len() {
            let (segment, path) = (&segments[at], &paths[at]);
            let mut run = at + 1;
            if path.exists() {
                stats.reused_days += segment.len();
                state = None;
            } else if !(segment.monthly
                && self
                    .month_of_days(rollup, segment, path, &mut state, &mut stats)
                    .await?)
            {
                // The segments computed together: missing months with no daily files to build
                // on, several in one query (the held fold month by month, to bound its memory);
                // or a run of missing days.
                let joins = |next: &Segment, count: usize| {
                    if segment.monthly {
                        rollup != Rollup::Held
                            && count < MONTHS_PER_QUERY
                            && next.monthly
                            && !self.has_daily_files(rollup, next)
                    } else {
                        !next.monthly
                    }
                };
                while run < segments.len()
                    && !paths[run].exists()
                    && joins(&segments[run], run - at)
                {
                    run += 1;
                }
                self.compute(
                    rollup,
                    &segments[at..run],
                    &paths[at..run],
                    &mut state,
                    &mut stats,
                )
                .await?;
            }
            for (segment, path) in segments[at..run].iter().zip(&paths[at..run]) {
                self.tidy(rollup, segment, path)?;
                files.push(path.clone());
            }
            at = run;
        }
        if let Some(state) = state.filter(|s| rollup == Rollup::Held && s.day == epoch_day(as_of)) {
            self.save_state(&state)?;
        }
        if files.is_empty() {
            // Nothing to read: one empty file, so every engine sees a table of the shape.
            let empty = self.dir.join(rollup.as_str()).join("empty.parquet");
            if !empty.exists() {
                write_parquet_atomically(&empty, rollup.schema(), &[], None)?;
            }
            files.push(empty);
        }
        self.query
            .register_files(rollup.table(), &files, rollup.schema())?;
        let months = if rollup == Rollup::Transaction {
            self.month_summaries(&segments, &paths).await?
        } else {
            Vec::new()
        };
        stats.seconds[rollup as usize] = started.elapsed().as_secs_f64();
        Ok((stats, months))
    }

    /// Each finished month's transactions summed per customer (`txn_monthly`), from its rollup
    /// file, so that a window reads a row per customer and month instead of one per day. The
    /// months, oldest first.
    async fn month_summaries(
        &self,
        segments: &[Segment],
        paths: &[PathBuf],
    ) -> Result<Vec<(i64, i64)>, FactError> {
        let schema = month_summary_schema();
        let mut files = Vec::new();
        let mut months = Vec::new();
        let mut missing = Vec::new();
        for (segment, path) in segments.iter().zip(paths).filter(|(s, _)| s.monthly) {
            let file = self.summary_path(segment, path);
            if !file.exists() {
                missing.push((*segment, path.clone(), file.clone()));
            }
            months.push((epoch_day(segment.first), epoch_day(segment.last)));
            files.push(file);
        }
        if !missing.is_empty() {
            off_thread(move || {
                for (segment, path, file) in missing {
                    let summary = summarise_month(&segment, &read_parquet(&path)?)?;
                    write_parquet_atomically(&file, month_summary_schema(), &[summary], None)?;
                    tidy_folder(&file)?;
                }
                Ok(())
            })
            .await?;
        }
        if files.is_empty() {
            let empty = self.dir.join(MONTH_SUMMARY).join("empty.parquet");
            if !empty.exists() {
                write_parquet_atomically(&empty, schema.clone(), &[], None)?;
            }
            files.push(empty);
        }
        self.query.register_files("txn_monthly", &files, schema)?;
        Ok(months)
    }

    /// The month summary of a finished month's transaction rollup file (named after it).
    fn summary_path(&self, segment: &Segment, path: &Path) -> PathBuf {
        self.dir
            .join(MONTH_SUMMARY)
            .join(segment.folder())
            .join(path.file_name().unwrap_or_default())
    }

    /// Writes a segment's rollup file off the async threads; for a finished month of
    /// transactions its month summary too, from the rows at hand rather than read back.
    async fn write_segment(
        &self,
        rollup: Rollup,
        segment: &Segment,
        path: &Path,
        batches: Vec<RecordBatch>,
    ) -> Result<(), FactError> {
        let summary = (rollup == Rollup::Transaction && segment.monthly)
            .then(|| self.summary_path(segment, path));
        let (segment, path, schema) = (*segment, path.to_owned(), rollup.schema());
        off_thread(move || {
            write_parquet_atomically(&path, schema, &batches, Some(properties()))?;
            if let Some(file) = summary {
                let rows = summarise_month(&segment, &batches)?;
                write_parquet_atomically(&file, month_summary_schema(), &[rows], None)?;
                tidy_folder(&file)?;
            }
            Ok(())
        })
        .await
    }

    fn fingerprint(&self, rollup: Rollup, segment: &Segment) -> u64 {
        let mut hasher = DefaultHasher::new();
        (VERSION, rollup.as_str(), self.params.currency).hash(&mut hasher);
        (segment.first, segment.last, segment.monthly).hash(&mut hasher);
        match rollup {
            Rollup::Transaction => {
                self.params.own_banks.hash(&mut hasher);
                for day in segment.days() {
                    self.index.get(FactKind::Transaction, day).hash(&mut hasher);
                }
            }
            Rollup::Fee => {
                for day in segment.days() {
                    self.index.get(FactKind::Fee, day).hash(&mut hasher);
                }
            }
            Rollup::Held => {
                self.hash_snapshots(month_start(segment.first), segment.last, &mut hasher);
            }
        }
        hasher.finish()
    }

    /// The balance and loan files that decide what holds on `first..=last`.
    fn hash_snapshots(&self, first: NaiveDate, last: NaiveDate, hasher: &mut DefaultHasher) {
        let from = first - chrono::Duration::days(CARRY_DAYS);
        for day in from.iter_days().take_while(|d| *d <= last) {
            self.index.get(FactKind::Balance, day).hash(hasher);
            self.index.get(FactKind::Loan, day).hash(hasher);
        }
    }

    fn path(&self, rollup: Rollup, segment: &Segment) -> PathBuf {
        self.dir
            .join(rollup.as_str())
            .join(segment.folder())
            .join(format!(
                "{:016x}.parquet",
                self.fingerprint(rollup, segment)
            ))
    }

    fn state_path(&self, day: NaiveDate) -> PathBuf {
        let mut hasher = DefaultHasher::new();
        (VERSION, "state", self.params.currency).hash(&mut hasher);
        self.hash_snapshots(month_start(day), day, &mut hasher);
        self.dir
            .join("state")
            .join(format!("date={day}"))
            .join(format!("{:016x}.parquet", hasher.finish()))
    }

    /// Removes what the segment's file replaces: older files of the segment, and the daily
    /// files of a month now whole.
    fn tidy(&self, rollup: Rollup, segment: &Segment, keep: &Path) -> Result<(), FactError> {
        let io = |path: &Path, source| FactError::Io {
            path: path.to_owned(),
            source,
        };
        tidy_folder(keep)?;
        if segment.monthly {
            for day in segment.days() {
                let folder = self
                    .dir
                    .join(rollup.as_str())
                    .join(Segment::day(day).folder());
                if folder.exists() {
                    std::fs::remove_dir_all(&folder).map_err(|e| io(&folder, e))?;
                }
            }
        }
        Ok(())
    }

    /// Whether any day of `month` has a daily file (then the month is built from them).
    fn has_daily_files(&self, rollup: Rollup, month: &Segment) -> bool {
        let folder = self.dir.join(rollup.as_str());
        month
            .days()
            .any(|day| folder.join(Segment::day(day).folder()).exists())
    }

    /// A finished month from its daily files when nearly all of them exist (the night a month
    /// ends): the missing days computed, then all concatenated. `false` when too many are missing.
    async fn month_of_days(
        &self,
        rollup: Rollup,
        month: &Segment,
        path: &Path,
        state: &mut Option<State>,
        stats: &mut RollupStats,
    ) -> Result<bool, FactError> {
        let days: Vec<(Segment, PathBuf)> = month
            .days()
            .map(|day| {
                let segment = Segment::day(day);
                let path = self.path(rollup, &segment);
                (segment, path)
            })
            .collect();
        let missing = days.iter().filter(|(_, p)| !p.exists()).count();
        if missing > MAX_MISSING_FOR_CONCAT || missing == days.len() {
            return Ok(false);
        }
        for (segment, day_path) in &days {
            if day_path.exists() {
                stats.reused_days += 1;
                *state = None;
            } else {
                self.compute(
                    rollup,
                    std::slice::from_ref(segment),
                    std::slice::from_ref(day_path),
                    state,
                    stats,
                )
                .await?;
            }
        }
        let (path, schema) = (path.to_owned(), rollup.schema());
        off_thread(move || {
            let mut batches = Vec::new();
            for (_, day_path) in &days {
                batches.extend(read_parquet(day_path)?);
            }
            write_parquet_atomically(&path, schema, &batches, Some(properties())).map(drop)
        })
        .await?;
        Ok(true)
    }

    /// Computes consecutive `segments` from the facts in one query and writes each one's file
    /// (`paths`, one per segment).
    async fn compute(
        &self,
        rollup: Rollup,
        segments: &[Segment],
        paths: &[PathBuf],
        state: &mut Option<State>,
        stats: &mut RollupStats,
    ) -> Result<(), FactError> {
        let (Some(head), Some(tail)) = (segments.first(), segments.last()) else {
            return Ok(());
        };
        let (first, last) = (epoch_day(head.first), epoch_day(tail.last));
        let days = usize::try_from(last - first + 1).unwrap_or(0);
        let batches = match rollup {
            Rollup::Transaction => {
                stats.fact_days_read += days;
                self.transactions(first, last).await?
            }
            Rollup::Fee => {
                stats.fact_days_read += days;
                self.fees(first, last).await?
            }
            Rollup::Held => {
                let seed = match state.take() {
                    Some(s) if s.day == first - 1 => Some(s),
                    _ => self.load_state(head.first - chrono::Duration::days(1))?,
                };
                let (batch, end) = self.held(first, last, seed, stats).await?;
                *state = Some(end);
                vec![batch]
            }
        };
        let schema = rollup.schema();
        let batches = batches
            .iter()
            .map(|b| conform(b, &schema))
            .collect::<Result<Vec<_>, _>>()?;
        stats.computed_days += days;
        if let [path] = paths {
            // One segment (a month, a night): its rows as they came, without a copy.
            return self.write_segment(rollup, head, path, batches).await;
        }
        // Every query orders its rows by day: each segment's rows are one stretch of them.
        let all = concat_batches(&schema, &batches).map_err(|e| FactError::Query(e.to_string()))?;
        let day = all
            .column_by_name("day")
            .and_then(|c| c.as_primitive_opt::<Int64Type>())
            .ok_or_else(|| FactError::Query("rollup without day".into()))?
            .clone();
        let mut start = 0;
        for (segment, path) in segments.iter().zip(paths) {
            let end_day = epoch_day(segment.last);
            let mut end = start;
            while end < all.num_rows() && day.value(end) <= end_day {
                end += 1;
            }
            self.write_segment(rollup, segment, path, vec![all.slice(start, end - start)])
                .await?;
            start = end;
        }
        Ok(())
    }

    async fn transactions(&self, first: i64, last: i64) -> Result<Vec<RecordBatch>, FactError> {
        let own: Vec<String> = self
            .params
            .own_banks
            .iter()
            .map(|b| sql_text(b))
            .chain([sql_text("")])
            .collect();
        let sql = format!(
            "SELECT cif_no, CAST(CAST(business_date AS INT) AS BIGINT) AS day, \
               SUM(CASE WHEN reversal THEN 0 ELSE 1 END) AS n, \
               SUM(CASE WHEN reversal THEN 0 ELSE amount_minor END) AS amount, \
               MAX(CASE WHEN reversal THEN NULL ELSE amount_minor END) AS max_amount, \
               SUM(CASE WHEN reversal THEN 1 ELSE 0 END) AS rev_n, \
               SUM(CASE WHEN reversal THEN amount_minor ELSE 0 END) AS rev_amount, \
               SUM(CASE WHEN NOT reversal AND direction = 'credit' THEN 1 ELSE 0 END) AS in_n, \
               SUM(CASE WHEN NOT reversal AND direction = 'credit' THEN amount_minor ELSE 0 END) AS in_amount, \
               MAX(CASE WHEN NOT reversal AND direction = 'credit' THEN amount_minor END) AS in_max, \
               SUM(CASE WHEN NOT reversal AND direction = 'debit' \
                 AND counterparty_bank NOT IN ({own}) THEN amount_minor ELSE 0 END) AS out_other \
             FROM \"transaction\" \
             WHERE {range} AND currency = {currency} AND {committed} \
             GROUP BY cif_no, business_date ORDER BY day",
            range = self.query.date_range(first, last),
            currency = sql_text(self.params.currency),
            committed = self.query.committed(),
            own = own.join(", "),
        );
        self.query.sql(&sql).await
    }

    async fn fees(&self, first: i64, last: i64) -> Result<Vec<RecordBatch>, FactError> {
        let sql = format!(
            "SELECT cif_no, CAST(CAST(business_date AS INT) AS BIGINT) AS day, \
               SUM(amount_minor) AS fee \
             FROM \"fee\" WHERE {range} AND currency = {currency} AND {committed} \
             GROUP BY cif_no, business_date ORDER BY day",
            range = self.query.date_range(first, last),
            currency = sql_text(self.params.currency),
            committed = self.query.committed(),
        );
        self.query.sql(&sql).await
    }

    /// What holds on each day of `first..=last` per customer, from the state of the day before
    /// (when at hand) and the snapshots since, or else from the snapshots of the 31 days before
    /// `first` on; and the state on `last`.
    async fn held(
        &self,
        first: i64,
        last: i64,
        seed: Option<State>,
        stats: &mut RollupStats,
    ) -> Result<(RecordBatch, State), FactError> {
        // Without the state of the day before: the snapshots that can hold on the month's first
        // day on (the month's sums start there).
        let read_from = if seed.is_some() {
            first
        } else {
            epoch_day(month_start(epoch_date(first))) - CARRY_DAYS
        };
        stats.fact_days_read += usize::try_from(last - read_from + 1).unwrap_or(0);
        let range = self.query.date_range(read_from, last);
        let currency = sql_text(self.params.currency);
        let committed = self.query.committed();
        let day = "CAST(CAST(business_date AS INT) AS BIGINT)";
        let balances = format!(
            "SELECT account_no AS item, cif_no, {day} AS day, balance_minor AS v0 \
             FROM \"balance\" WHERE {range} AND currency = {currency} AND {committed}"
        );
        let loans = format!(
            "SELECT loan_no AS item, cif_no, {day} AS day, \
               outstanding_minor AS v0, overdue_principal_minor AS v1, credit_limit_minor AS v2, \
               CAST(CASE loan_class WHEN 'pass' THEN 1 WHEN 'special_mention' THEN 2 \
                 WHEN 'substandard' THEN 3 WHEN 'doubtful' THEN 4 WHEN 'loss' THEN 5 ELSE 0 END AS BIGINT) AS v3 \
             FROM \"loan\" WHERE {range} AND currency = {currency} AND {committed}"
        );
        // Two queries, ordered here by day: a UNION ALL with ORDER BY does not finish on Ballista
        // 55's standalone mode, and sorting (day, batch, row) triples moves no strings.
        let mut parts = Vec::new();
        for (kind, sql) in [(BALANCE, balances), (LOAN, loans)] {
            for batch in &self.query.sql(&sql).await? {
                parts.push((kind, SnapshotColumns::of(batch)?));
            }
        }
        let seed = seed.unwrap_or_default();
        off_thread(move || fold_snapshots(&parts, seed, read_from, first, last)).await
    }

    fn save_state(&self, state: &State) -> Result<(), FactError> {
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid");
        let day = epoch + chrono::Duration::days(state.day);
        let path = self.state_path(day);
        if path.exists() {
            return Ok(());
        }
        // The holdings (kind 0 balance, 1 loan), then each customer's month sums (kind 2).
        let mut items = state.holdings();
        let month_rows: Vec<Holding> = state
            .month
            .iter()
            .enumerate()
            .filter(|(_, m)| m.held)
            .map(|(customer, m)| Holding {
                customer: customer as u32,
                day: state.day,
                values: [m.sums[0], m.sums[1], m.sums[2], 0],
            })
            .collect();
        items.extend(month_rows.iter().map(|h| (MONTH, "", h)));
        let int = |f: &dyn Fn(&Holding) -> i64| -> ArrayRef {
            Arc::new(Int64Array::from_iter_values(
                items.iter().map(|(_, _, h)| f(h)),
            ))
        };
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from_iter_values(
                items.iter().map(|(kind, _, _)| *kind as i64),
            )),
            Arc::new(StringArray::from_iter_values(
                items.iter().map(|(_, item, _)| *item),
            )),
            Arc::new(StringArray::from_iter_values(
                items
                    .iter()
                    .map(|(_, _, h)| state.customers.name(h.customer)),
            )),
            int(&|h| h.day),
            int(&|h| h.values[0]),
            int(&|h| h.values[1]),
            int(&|h| h.values[2]),
            int(&|h| h.values[3]),
        ];
        let schema = state_schema();
        let batch =
            RecordBatch::try_new(schema.clone(), columns).map_err(|e| FactError::Parquet {
                path: path.clone(),
                source: e.into(),
            })?;
        write_parquet_atomically(&path, schema, &[batch], None)?;
        // Only the newest states are worth keeping: a night needs the night before's.
        let folder = self.dir.join("state");
        for entry in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
            let keep = entry
                .file_name()
                .to_str()
                .and_then(|n| n.strip_prefix("date="))
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                .is_some_and(|d| d >= day - chrono::Duration::days(7));
            if !keep {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
        Ok(())
    }

    fn load_state(&self, day: NaiveDate) -> Result<Option<State>, FactError> {
        let path = self.state_path(day);
        if !path.exists() {
            return Ok(None);
        }
        let mut state = State::default();
        for batch in read_parquet(&path)? {
            let item = text_column(&batch, "item")?;
            let cif = text_column(&batch, "cif_no")?;
            for row in 0..batch.num_rows() {
                let get = |name: &str| int_at(&batch, name, row).unwrap_or(0);
                let values = [get("v0"), get("v1"), get("v2"), get("v3")];
                let kind = match get("src") {
                    0 => BALANCE,
                    1 => LOAN,
                    _ => {
                        let customer = state.customers.id(cif.value(row)) as usize;
                        if state.month.len() <= customer {
                            state.month.resize(customer + 1, MonthSums::default());
                        }
                        state.month[customer] = MonthSums {
                            sums: [values[0], values[1], values[2]],
                            held: true,
                        };
                        continue;
                    }
                };
                state.insert(kind, item.value(row), cif.value(row), get("day"), values);
            }
        }
        state.day = epoch_day(day);
        Ok(Some(state))
    }
}

/// Where the month summaries of the transaction rollup are, beside the rollups.
const MONTH_SUMMARY: &str = "transaction_month";

/// The summed columns of a month summary (as in the daily rollup), then the maxima, then the
/// active days' count, first and last (days with a non-reversal transaction; with a credit).
const MONTH_SUMS: [&str; 7] = [
    "n",
    "amount",
    "rev_n",
    "rev_amount",
    "in_n",
    "in_amount",
    "out_other",
];
const MONTH_MAXIMA: [&str; 2] = ["max_amount", "in_max"];

pub(crate) fn month_summary_schema() -> SchemaRef {
    let int = |name: &str, nullable| Field::new(name, DataType::Int64, nullable);
    let mut fields = vec![
        Field::new("cif_no", DataType::Utf8, false),
        int("month_first", false),
        int("month_last", false),
    ];
    fields.extend(MONTH_SUMS.iter().map(|n| int(n, false)));
    fields.extend(MONTH_MAXIMA.iter().map(|n| int(n, true)));
    for name in [
        "days",
        "first_day",
        "last_day",
        "in_days",
        "in_first",
        "in_last",
    ] {
        fields.push(int(name, !name.ends_with("days")));
    }
    Arc::new(Schema::new(fields))
}

/// One customer's month of the transaction rollup.
#[derive(Debug, Clone, Default)]
struct MonthTxns {
    sums: [i64; 7],
    maxima: [Option<i64>; 2],
    /// Active days, then days with a credit: count, first, last.
    days: [(i64, Option<i64>, Option<i64>); 2],
}

fn summarise_month(segment: &Segment, batches: &[RecordBatch]) -> Result<RecordBatch, FactError> {
    // Customers by number as they come (a hash of borrowed strings: a month is some 600,000
    // rows at the demo's scale), sorted once at the end.
    let texts = batches
        .iter()
        .map(|b| text_column(b, "cif_no"))
        .collect::<Result<Vec<_>, _>>()?;
    let mut index: foldhash::HashMap<&str, usize> = foldhash::HashMap::default();
    let mut months: Vec<MonthTxns> = Vec::new();
    for (batch, cif) in batches.iter().zip(&texts) {
        let int = |name| int_column(batch, name);
        let day = int("day")?;
        let sums = MONTH_SUMS
            .into_iter()
            .map(int)
            .collect::<Result<Vec<_>, _>>()?;
        let maxima = MONTH_MAXIMA
            .into_iter()
            .map(int)
            .collect::<Result<Vec<_>, _>>()?;
        let value = |column: &Int64Array, row| (!column.is_null(row)).then(|| column.value(row));
        for row in 0..batch.num_rows() {
            let at = *index.entry(cif.value(row)).or_insert_with(|| {
                months.push(MonthTxns::default());
                months.len() - 1
            });
            let month = &mut months[at];
            for (sum, column) in month.sums.iter_mut().zip(&sums) {
                *sum += value(column, row).unwrap_or(0);
            }
            for (max, column) in month.maxima.iter_mut().zip(&maxima) {
                if let Some(v) = value(column, row) {
                    *max = Some(max.map_or(v, |m| m.max(v)));
                }
            }
            let day = day.value(row);
            // Active days: with a non-reversal transaction (n), with a credit (in_n).
            for (days, column) in month.days.iter_mut().zip([&sums[0], &sums[4]]) {
                if value(column, row).unwrap_or(0) > 0 {
                    days.0 += 1;
                    days.1 = Some(days.1.map_or(day, |f| f.min(day)));
                    days.2 = Some(days.2.map_or(day, |l| l.max(day)));
                }
            }
        }
    }
    let mut order: Vec<(&str, usize)> = index.into_iter().collect();
    order.sort_unstable();
    let customers: Vec<&MonthTxns> = order.iter().map(|(_, at)| &months[*at]).collect();
    let (first, last) = (epoch_day(segment.first), epoch_day(segment.last));
    let rows = customers.len();
    let mut columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(
            order.iter().map(|(cif, _)| *cif),
        )),
        Arc::new(Int64Array::from_iter_values(std::iter::repeat_n(
            first, rows,
        ))),
        Arc::new(Int64Array::from_iter_values(std::iter::repeat_n(
            last, rows,
        ))),
    ];
    for k in 0..MONTH_SUMS.len() {
        columns.push(Arc::new(Int64Array::from_iter_values(
            customers.iter().map(|m| m.sums[k]),
        )));
    }
    for k in 0..MONTH_MAXIMA.len() {
        columns.push(Arc::new(Int64Array::from_iter(
            customers.iter().map(|m| m.maxima[k]),
        )));
    }
    for k in 0..2 {
        columns.push(Arc::new(Int64Array::from_iter_values(
            customers.iter().map(|m| m.days[k].0),
        )));
        columns.push(Arc::new(Int64Array::from_iter(
            customers.iter().map(|m| m.days[k].1),
        )));
        columns.push(Arc::new(Int64Array::from_iter(
            customers.iter().map(|m| m.days[k].2),
        )));
    }
    RecordBatch::try_new(month_summary_schema(), columns)
        .map_err(|e| FactError::Query(e.to_string()))
}

fn state_schema() -> SchemaRef {
    let int = |name: &str| Field::new(name, DataType::Int64, false);
    Arc::new(Schema::new(vec![
        int("src"),
        Field::new("item", DataType::Utf8, false),
        Field::new("cif_no", DataType::Utf8, false),
        int("day"),
        int("v0"),
        int("v1"),
        int("v2"),
        int("v3"),
    ]))
}

/// One query batch of snapshots: item and customer numbers as plain strings, day and values as
/// 64-bit integers (a loan's four values; a balance has only the first).
struct SnapshotColumns {
    item: StringArray,
    cif: StringArray,
    day: Int64Array,
    values: Vec<Int64Array>,
}

impl SnapshotColumns {
    fn of(batch: &RecordBatch) -> Result<Self, FactError> {
        let int = |name| int_column(batch, name);
        let values = ["v0", "v1", "v2", "v3"]
            .into_iter()
            .filter(|name| batch.column_by_name(name).is_some())
            .map(int)
            .collect::<Result<_, _>>()?;
        Ok(Self {
            item: text_column(batch, "item")?,
            cif: text_column(batch, "cif_no")?,
            day: int("day")?,
            values,
        })
    }

    /// A value, 0 where null.
    fn int(&self, column: &Int64Array, row: usize) -> i64 {
        if column.is_null(row) {
            0
        } else {
            column.value(row)
        }
    }

    fn values(&self, row: usize) -> [i64; 4] {
        let mut out = [0; 4];
        for (slot, column) in out.iter_mut().zip(&self.values) {
            *slot = self.int(column, row);
        }
        out
    }
}

/// The held rollup's columns as they are built, day by day, customers in order.
#[derive(Debug, Default)]
struct HeldColumns {
    cif_no: StringBuilder,
    day: Int64Builder,
    sums: [Int64Builder; 5],
}

impl HeldColumns {
    fn push_day(&mut self, day: i64, state: &State) {
        for ((customer, totals), month) in state.totals.iter().enumerate().zip(&state.month) {
            if !month.held {
                continue;
            }
            self.cif_no
                .append_value(state.customers.name(customer as u32));
            self.day.append_value(day);
            let worst = (1..6).rev().find(|c| totals.classes[*c] > 0).unwrap_or(0);
            let values = [
                totals.sums[3],
                i64::try_from(worst).unwrap_or(0),
                month.sums[0],
                month.sums[1],
                month.sums[2],
            ];
            for (column, value) in self.sums.iter_mut().zip(values) {
                column.append_value(value);
            }
        }
    }

    fn finish(mut self) -> Result<RecordBatch, FactError> {
        let mut columns: Vec<ArrayRef> =
            vec![Arc::new(self.cif_no.finish()), Arc::new(self.day.finish())];
        columns.extend(
            self.sums
                .iter_mut()
                .map(|v| Arc::new(v.finish()) as ArrayRef),
        );
        RecordBatch::try_new(Rollup::Held.schema(), columns)
            .map_err(|e| FactError::Query(e.to_string()))
    }
}

/// Removes the other files of `keep`'s folder (earlier fingerprints).
fn tidy_folder(keep: &Path) -> Result<(), FactError> {
    let Some(folder) = keep.parent() else {
        return Ok(());
    };
    let io = |path: &Path, source| FactError::Io {
        path: path.to_owned(),
        source,
    };
    for entry in std::fs::read_dir(folder)
        .map_err(|e| io(folder, e))?
        .flatten()
    {
        if entry.path() != keep {
            std::fs::remove_file(entry.path()).map_err(|e| io(&entry.path(), e))?;
        }
    }
    Ok(())
}

/// Runs CPU-bound work (a fold, a Parquet write) on tokio's blocking threads, so that the
/// rollups built side by side each keep a core and none stalls the others' queries.
async fn off_thread<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, FactError> + Send + 'static,
) -> Result<T, FactError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| FactError::Query(format!("rollup worker: {e}")))?
}

/// Folds snapshots (each query batch with its kind) into the held rows of `first..=last`, from
/// `state` as of the day before `read_from`; with the state on `last`.
fn fold_snapshots(
    parts: &[(usize, SnapshotColumns)],
    mut state: State,
    read_from: i64,
    first: i64,
    last: i64,
) -> Result<(RecordBatch, State), FactError> {
    let mut order: Vec<(i64, u32, u32)> = Vec::new();
    for (at, (_, part)) in parts.iter().enumerate() {
        let at = u32::try_from(at).expect("fewer than 4 billion batches");
        order.extend((0..part.day.len()).map(|row| {
            let row = u32::try_from(row).expect("batch of fewer than 4 billion rows");
            (part.int(&part.day, row as usize), at, row)
        }));
    }
    order.sort_unstable();
    let mut out = HeldColumns::default();
    let mut day_at = read_from;
    let mut advance = |state: &mut State, until: i64, out: &mut HeldColumns| {
        // Close every day before `until`: expire, then (inside the segment) sum.
        while day_at < until {
            state.close(day_at);
            if day_at >= first {
                out.push_day(day_at, state);
            }
            day_at += 1;
        }
    };
    for (day, at, row) in order {
        advance(&mut state, day, &mut out);
        let (kind, part) = &parts[at as usize];
        let row = row as usize;
        state.insert(
            *kind,
            part.item.value(row),
            part.cif.value(row),
            day,
            part.values(row),
        );
    }
    advance(&mut state, last + 1, &mut out);
    Ok((out.finish()?, state))
}

/// A query result cast to a rollup's schema (strings as plain Utf8, integers as Int64), so every
/// file of a rollup has exactly the same shape.
fn conform(batch: &RecordBatch, schema: &SchemaRef) -> Result<RecordBatch, FactError> {
    let columns = schema
        .fields()
        .iter()
        .zip(batch.columns())
        .map(|(field, column)| cast(column, field.data_type()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| FactError::Query(e.to_string()))?;
    RecordBatch::try_new(schema.clone(), columns).map_err(|e| FactError::Query(e.to_string()))
}

fn read_parquet(path: &Path) -> Result<Vec<RecordBatch>, FactError> {
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let parquet = |source| FactError::Parquet {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(|source| FactError::Io {
        path: path.to_owned(),
        source,
    })?;
    ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(parquet)?
        .build()
        .map_err(parquet)?
        .map(|batch| batch.map_err(|e| parquet(e.into())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn finished_months_are_whole_and_the_current_month_is_days() {
        let segments = layout(day("2024-01-20"), day("2024-03-02"));
        let folders: Vec<String> = segments.iter().map(Segment::folder).collect();
        assert_eq!(
            folders,
            [
                "month=2024-01",
                "month=2024-02",
                "date=2024-03-01",
                "date=2024-03-02"
            ]
        );
        // The first month starts on the first fact day; February has its leap day.
        assert_eq!(segments[0].len(), 12);
        assert_eq!(segments[1].len(), 29);
        // On a month's last day the month is whole.
        let end = layout(day("2024-01-20"), day("2024-02-29"));
        assert_eq!(end.len(), 2);
        assert!(end.iter().all(|s| s.monthly));
        assert!(layout(day("2024-03-01"), day("2024-02-29")).is_empty());
    }

    #[test]
    fn a_customers_totals_follow_snapshots_arriving_replacing_and_expiring() {
        // Day 0 is 1970-01-01; day 31 is 1 February, where the month's sums start again.
        let mut state = State::default();
        let mut rows = HeldColumns::default();
        let close = |state: &mut State, days: std::ops::RangeInclusive<i64>| {
            for day in days {
                state.close(day);
            }
        };
        state.insert(LOAN, "L1", "C", 0, [100, 10, 500, 3]);
        close(&mut state, 0..=4);
        state.insert(LOAN, "L2", "C", 5, [50, 0, 200, 1]);
        state.insert(BALANCE, "A1", "C", 5, [7, 0, 0, 0]);
        close(&mut state, 5..=5);
        // L1 restated on day 6: its old values leave the totals.
        state.insert(LOAN, "L1", "C", 6, [90, 0, 500, 4]);
        // Two snapshots of one item on one day: the greater holds, in either order.
        state.insert(BALANCE, "A2", "C", 6, [3, 0, 0, 0]);
        state.insert(BALANCE, "A2", "C", 6, [1, 0, 0, 0]);
        close(&mut state, 6..=6);
        rows.push_day(6, &state);
        // 31 days after day 5, L2 and A1 still hold on day 36 but not on day 37.
        close(&mut state, 7..=36);
        rows.push_day(36, &state);
        close(&mut state, 37..=37);
        rows.push_day(37, &state);
        // More than 31 days after day 6 nothing holds; the customer keeps its row (zeros, and
        // the month's sums) to the month's end.
        close(&mut state, 38..=38);
        rows.push_day(38, &state);
        assert!(state.holdings().is_empty());
        close(&mut state, 39..=59);
        rows.push_day(59, &state);
        let batch = rows.finish().unwrap();
        let column = |name: &str| -> Vec<i64> {
            (0..batch.num_rows())
                .map(|row| int_at(&batch, name, row).unwrap())
                .collect()
        };
        assert_eq!(column("day"), [6, 36, 37, 38]);
        assert_eq!(column("credit_limit"), [700, 700, 500, 0]);
        assert_eq!(column("worst_class"), [4, 4, 4, 0]);
        // January: L1 alone days 0–4, with L2 and A1 day 5, restated day 6 (balance 10,
        // outstanding 140). February: six days of day 36's holdings (10, 140) by day 36, then
        // day 37's (3, 90), then nothing.
        assert_eq!(column("cum_balance"), [17, 60, 63, 63]);
        assert_eq!(column("cum_outstanding"), [790, 840, 930, 930]);
        assert_eq!(column("cum_overdue"), [60, 0, 0, 0]);
    }
}

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
    array::{ArrayRef, AsArray, Int64Array, Int64Builder, RecordBatch, StringArray, StringBuilder},
    compute::{cast, concat_batches},
    datatypes::{DataType, Field, Int64Type, Schema, SchemaRef},
};

use crate::{
    FactError, FactKind,
    indicators::{epoch_day, int_at, sql_text},
    query::FactQuery,
    writer::write_parquet_atomically,
};

/// A snapshot (balance, loan) holds for at most this many days after its own day, until the
/// item's next snapshot: a monthly loan snapshot reaches the next month's, a closed account's last
/// balance fades after a month.
pub const CARRY_DAYS: i64 = 31;

/// Bumped whenever what a rollup file holds changes meaning, so old files are not read.
const VERSION: u32 = 1;

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
    /// Per customer and day: the balances, outstanding, overdue principal and credit limits
    /// holding that day, and the worst loan class among them.
    Held,
}

impl Rollup {
    pub(crate) const ALL: [Rollup; 3] = [Rollup::Transaction, Rollup::Fee, Rollup::Held];

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
                "balance",
                "outstanding",
                "overdue",
                "credit_limit",
                "worst_class",
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
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RollupStats {
    /// Days (summed over the three rollups) computed from the facts this run.
    pub computed_days: usize,
    /// Days (summed over the three rollups) found already computed.
    pub reused_days: usize,
    /// Days of fact folders read to compute them (a balance day needs the 31 before it unless
    /// the previous day's state is at hand).
    pub fact_days_read: usize,
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

/// One account's or loan's snapshot holding: the customer, its day, and its values (balance; or
/// outstanding, overdue principal, credit limit, class 1–5).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Holding {
    cif_no: String,
    day: i64,
    values: [i64; 4],
}

/// Per (0 balance / 1 loan, account or loan number) the snapshot holding on `day`, and per
/// customer the totals of those, kept up to date as snapshots arrive and expire (a day's rollup
/// rows are then a walk over the customers, not over every account).
#[derive(Debug, Clone, Default)]
struct State {
    day: i64,
    items: HashMap<(i64, String), Holding>,
    totals: BTreeMap<String, Totals>,
}

/// One customer's holdings: Σ balance, outstanding, overdue, credit limit; loans per class 0–5.
#[derive(Debug, Clone, Copy, Default)]
struct Totals {
    sums: [i64; 4],
    classes: [u32; 6],
    items: u32,
}

impl State {
    fn insert(&mut self, key: (i64, String), holding: Holding) {
        let src = key.0;
        Self::count(&mut self.totals, src, &holding, true);
        if let Some(old) = self.items.insert(key, holding) {
            Self::count(&mut self.totals, src, &old, false);
        }
    }

    /// Closes `day`: what is older than CARRY_DAYS stops holding.
    fn expire(&mut self, day: i64) {
        self.day = day;
        let totals = &mut self.totals;
        self.items.retain(|(src, _), holding| {
            let holds = day - holding.day <= CARRY_DAYS;
            if !holds {
                Self::count(totals, *src, holding, false);
            }
            holds
        });
    }

    fn count(totals: &mut BTreeMap<String, Totals>, src: i64, holding: &Holding, add: bool) {
        let sign = if add { 1 } else { -1 };
        let entry = match totals.get_mut(&holding.cif_no) {
            Some(entry) => entry,
            None => totals.entry(holding.cif_no.clone()).or_default(),
        };
        let [value, overdue, limit, class] = holding.values;
        if src == 0 {
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
            totals.remove(&holding.cif_no);
        }
    }
}

/// Builds what is missing and registers the three rollup tables for `as_of`.
pub(crate) struct Rollups<'a> {
    query: &'a FactQuery,
    params: RollupParams<'a>,
    index: FactIndex,
    dir: PathBuf,
    pub(crate) stats: RollupStats,
}

impl<'a> Rollups<'a> {
    pub(crate) fn new(query: &'a FactQuery, params: RollupParams<'a>) -> Self {
        Self {
            index: FactIndex::scan(query),
            dir: query.root().join(".rollup"),
            query,
            params,
            stats: RollupStats::default(),
        }
    }

    /// Makes sure every segment up to `as_of` is computed, then registers the tables.
    pub(crate) async fn ensure(&mut self, as_of: NaiveDate) -> Result<(), FactError> {
        let segments = match self.query.first_date() {
            Some(first) => layout(first, as_of),
            None => Vec::new(),
        };
        for rollup in Rollup::ALL {
            let mut files = Vec::with_capacity(segments.len());
            // The held state at the end of the last segment computed in this loop.
            let mut state: Option<State> = None;
            // Each fingerprint once: the held one hashes 31 days more than the segment.
            let paths: Vec<PathBuf> = segments.iter().map(|s| self.path(rollup, s)).collect();
            let mut at = 0;
            while at < segments.len() {
                let (segment, path) = (&segments[at], &paths[at]);
                // The segments computed together: a month, or a run of missing days.
                let mut run = at + 1;
                if path.exists() {
                    self.stats.reused_days += segment.len();
                    state = None;
                } else if segment.monthly {
                    if !self
                        .month_of_days(rollup, segment, path, &mut state)
                        .await?
                    {
                        self.compute(rollup, &segments[at..run], &paths[at..run], &mut state)
                            .await?;
                    }
                } else {
                    while run < segments.len() && !segments[run].monthly && !paths[run].exists() {
                        run += 1;
                    }
                    self.compute(rollup, &segments[at..run], &paths[at..run], &mut state)
                        .await?;
                }
                for (segment, path) in segments[at..run].iter().zip(&paths[at..run]) {
                    self.tidy(rollup, segment, path)?;
                    files.push(path.clone());
                }
                at = run;
            }
            if let Some(state) =
                state.filter(|s| rollup == Rollup::Held && s.day == epoch_day(as_of))
            {
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
        }
        Ok(())
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
            Rollup::Held => self.hash_snapshots(segment.first, segment.last, &mut hasher),
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
        self.hash_snapshots(day, day, &mut hasher);
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
        if let Some(folder) = keep.parent() {
            for entry in std::fs::read_dir(folder)
                .map_err(|e| io(folder, e))?
                .flatten()
            {
                if entry.path() != keep {
                    std::fs::remove_file(entry.path()).map_err(|e| io(&entry.path(), e))?;
                }
            }
        }
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

    /// A finished month from its daily files when nearly all of them exist (the night a month
    /// ends): the missing days computed, then all concatenated. `false` when too many are missing.
    async fn month_of_days(
        &mut self,
        rollup: Rollup,
        month: &Segment,
        path: &Path,
        state: &mut Option<State>,
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
        let mut batches = Vec::new();
        for (segment, day_path) in &days {
            if day_path.exists() {
                self.stats.reused_days += 1;
                *state = None;
            } else {
                self.compute(
                    rollup,
                    std::slice::from_ref(segment),
                    std::slice::from_ref(day_path),
                    state,
                )
                .await?;
            }
            batches.extend(read_parquet(day_path)?);
        }
        write_parquet_atomically(path, rollup.schema(), &batches, None)?;
        Ok(true)
    }

    /// Computes consecutive `segments` from the facts in one query and writes each one's file
    /// (`paths`, one per segment).
    async fn compute(
        &mut self,
        rollup: Rollup,
        segments: &[Segment],
        paths: &[PathBuf],
        state: &mut Option<State>,
    ) -> Result<(), FactError> {
        let (Some(head), Some(tail)) = (segments.first(), segments.last()) else {
            return Ok(());
        };
        let (first, last) = (epoch_day(head.first), epoch_day(tail.last));
        let days = usize::try_from(last - first + 1).unwrap_or(0);
        let batches = match rollup {
            Rollup::Transaction => {
                self.stats.fact_days_read += days;
                self.transactions(first, last).await?
            }
            Rollup::Fee => {
                self.stats.fact_days_read += days;
                self.fees(first, last).await?
            }
            Rollup::Held => {
                let seed = match state.take() {
                    Some(s) if s.day == first - 1 => Some(s),
                    _ => self.load_state(head.first - chrono::Duration::days(1))?,
                };
                let (batch, end) = self.held(first, last, seed).await?;
                *state = Some(end);
                vec![batch]
            }
        };
        let schema = rollup.schema();
        let batches = batches
            .iter()
            .map(|b| conform(b, &schema))
            .collect::<Result<Vec<_>, _>>()?;
        self.stats.computed_days += days;
        if let [path] = paths {
            // One segment (a month, a night): its rows as they came, without a copy.
            write_parquet_atomically(path, schema, &batches, None)?;
            return Ok(());
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
            write_parquet_atomically(path, schema.clone(), &[all.slice(start, end - start)], None)?;
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
             GROUP BY cif_no, business_date ORDER BY day, cif_no",
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
             GROUP BY cif_no, business_date ORDER BY day, cif_no",
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
        &mut self,
        first: i64,
        last: i64,
        seed: Option<State>,
    ) -> Result<(RecordBatch, State), FactError> {
        let read_from = if seed.is_some() {
            first
        } else {
            first - CARRY_DAYS
        };
        self.stats.fact_days_read += usize::try_from(last - read_from + 1).unwrap_or(0);
        let range = self.query.date_range(read_from, last);
        let currency = sql_text(self.params.currency);
        let committed = self.query.committed();
        let day = "CAST(CAST(business_date AS INT) AS BIGINT)";
        let balances = format!(
            "SELECT CAST(0 AS BIGINT) AS src, account_no AS item, cif_no, {day} AS day, \
               balance_minor AS v0, CAST(0 AS BIGINT) AS v1, CAST(0 AS BIGINT) AS v2, CAST(0 AS BIGINT) AS v3 \
             FROM \"balance\" WHERE {range} AND currency = {currency} AND {committed}"
        );
        let loans = format!(
            "SELECT CAST(1 AS BIGINT) AS src, loan_no AS item, cif_no, {day} AS day, \
               outstanding_minor AS v0, overdue_principal_minor AS v1, credit_limit_minor AS v2, \
               CAST(CASE loan_class WHEN 'pass' THEN 1 WHEN 'special_mention' THEN 2 \
                 WHEN 'substandard' THEN 3 WHEN 'doubtful' THEN 4 WHEN 'loss' THEN 5 ELSE 0 END AS BIGINT) AS v3 \
             FROM \"loan\" WHERE {range} AND currency = {currency} AND {committed}"
        );
        // (day, src, item, cif, values): sorted on all of it, so that two snapshots of one item on
        // one day (two batches) resolve the same way on every run. Two queries, sorted here: a
        // UNION ALL with ORDER BY does not finish on Ballista 55's standalone mode.
        let mut snapshots: Vec<(i64, i64, String, String, [i64; 4])> = Vec::new();
        for sql in [balances, loans] {
            for batch in &self.query.sql(&sql).await? {
                let item = text_column(batch, "item")?;
                let cif = text_column(batch, "cif_no")?;
                for row in 0..batch.num_rows() {
                    let get = |name: &str| int_at(batch, name, row).unwrap_or(0);
                    snapshots.push((
                        get("day"),
                        get("src"),
                        item.value(row).to_owned(),
                        cif.value(row).to_owned(),
                        [get("v0"), get("v1"), get("v2"), get("v3")],
                    ));
                }
            }
        }
        snapshots.sort_unstable();
        let mut state = seed.unwrap_or_default();
        let mut out = HeldColumns::default();
        let mut day_at = read_from;
        let mut advance = |state: &mut State, until: i64, out: &mut HeldColumns| {
            // Close every day before `until`: expire, then (inside the segment) sum.
            while day_at < until {
                state.expire(day_at);
                if day_at >= first {
                    out.push_day(day_at, state);
                }
                day_at += 1;
            }
        };
        for (day, src, item, cif_no, values) in snapshots {
            advance(&mut state, day, &mut out);
            state.insert(
                (src, item),
                Holding {
                    cif_no,
                    day,
                    values,
                },
            );
        }
        advance(&mut state, last + 1, &mut out);
        Ok((out.finish()?, state))
    }

    fn save_state(&self, state: &State) -> Result<(), FactError> {
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid");
        let day = epoch + chrono::Duration::days(state.day);
        let path = self.state_path(day);
        if path.exists() {
            return Ok(());
        }
        let mut items: Vec<(&(i64, String), &Holding)> = state.items.iter().collect();
        items.sort_by(|a, b| a.0.cmp(b.0));
        let int = |f: fn(&Holding) -> i64| -> ArrayRef {
            Arc::new(Int64Array::from_iter_values(
                items.iter().map(|(_, h)| f(h)),
            ))
        };
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from_iter_values(items.iter().map(|(k, _)| k.0))),
            Arc::new(StringArray::from_iter_values(
                items.iter().map(|(k, _)| k.1.as_str()),
            )),
            Arc::new(StringArray::from_iter_values(
                items.iter().map(|(_, h)| h.cif_no.as_str()),
            )),
            int(|h| h.day),
            int(|h| h.values[0]),
            int(|h| h.values[1]),
            int(|h| h.values[2]),
            int(|h| h.values[3]),
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
        let mut state = State {
            day: epoch_day(day),
            ..State::default()
        };
        for batch in read_parquet(&path)? {
            let item = text_column(&batch, "item")?;
            let cif = text_column(&batch, "cif_no")?;
            for row in 0..batch.num_rows() {
                let get = |name: &str| int_at(&batch, name, row).unwrap_or(0);
                state.insert(
                    (get("src"), item.value(row).to_owned()),
                    Holding {
                        cif_no: cif.value(row).to_owned(),
                        day: get("day"),
                        values: [get("v0"), get("v1"), get("v2"), get("v3")],
                    },
                );
            }
        }
        Ok(Some(state))
    }
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

/// The held rollup's columns as they are built, day by day, customers in order.
#[derive(Debug, Default)]
struct HeldColumns {
    cif_no: StringBuilder,
    day: Int64Builder,
    sums: [Int64Builder; 5],
}

impl HeldColumns {
    fn push_day(&mut self, day: i64, state: &State) {
        for (cif, totals) in &state.totals {
            self.cif_no.append_value(cif);
            self.day.append_value(day);
            let worst = (1..6).rev().find(|c| totals.classes[*c] > 0).unwrap_or(0);
            let values = [
                totals.sums[0],
                totals.sums[1],
                totals.sums[2],
                totals.sums[3],
                i64::try_from(worst).unwrap_or(0),
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

fn text_column(batch: &RecordBatch, name: &str) -> Result<StringArray, FactError> {
    let column = batch
        .column_by_name(name)
        .ok_or_else(|| FactError::Query(format!("no column {name}")))?;
    let text = cast(column, &DataType::Utf8).map_err(|e| FactError::Query(e.to_string()))?;
    Ok(text.as_string::<i32>().clone())
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
        let holding = |day, values| Holding {
            cif_no: "C".into(),
            day,
            values,
        };
        let mut state = State::default();
        state.insert((1, "L1".into()), holding(0, [100, 10, 500, 3]));
        state.insert((1, "L2".into()), holding(5, [50, 0, 200, 1]));
        state.insert((0, "A1".into()), holding(5, [7, 0, 0, 0]));
        // L1 restated on day 6: its old values leave the totals.
        state.insert((1, "L1".into()), holding(6, [90, 0, 500, 4]));
        state.expire(6);
        let mut rows = HeldColumns::default();
        rows.push_day(6, &state);
        // 31 days after day 5, L2 and A1 still hold on day 36 but not on day 37.
        state.expire(36);
        rows.push_day(36, &state);
        state.expire(37);
        rows.push_day(37, &state);
        let batch = rows.finish().unwrap();
        let column = |name: &str| -> Vec<i64> {
            (0..batch.num_rows())
                .map(|row| int_at(&batch, name, row).unwrap())
                .collect()
        };
        assert_eq!(column("day"), [6, 36, 37]);
        assert_eq!(column("balance"), [7, 7, 0]);
        assert_eq!(column("outstanding"), [140, 140, 90]);
        assert_eq!(column("overdue"), [0, 0, 0]);
        assert_eq!(column("credit_limit"), [700, 700, 500]);
        assert_eq!(column("worst_class"), [4, 4, 4]);
        // More than 31 days after L1 (day 6): nothing holds, the customer has no row at all.
        state.expire(6 + CARRY_DAYS + 1);
        assert!(state.totals.is_empty() && state.items.is_empty());
    }
}

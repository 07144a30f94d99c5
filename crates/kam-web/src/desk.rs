//! The night desk: what the administration's nights page asks of the binary, which alone can run
//! `kam nightly` (kam-web links neither the importer nor the fact engine). The page writes an
//! uploaded day into the inbox the desk names, asks the desk to start the night, and shows the
//! progress the desk reports.

use std::path::PathBuf;

use chrono::{DateTime, NaiveDate, Utc};

/// The binary's side of the nights page.
pub trait NightDesk: Send + Sync + std::fmt::Debug {
    /// The inbox the night reads (one folder per business day), or why there is none, in zh-CN
    /// and en (the page shows it instead of the upload form).
    fn inbox(&self) -> Result<PathBuf, (String, String)>;
    /// The largest upload of one day's files, in bytes.
    fn upload_limit(&self) -> u64;
    /// Starts the night on the inbox in the background. A night already at work takes up what
    /// arrived meanwhile when it ends: `false` says the request was queued behind it.
    fn start(&self) -> bool;
    /// The night at work, or the last one this server ran.
    fn progress(&self) -> NightProgress;
    /// The day folders waiting in the inbox, oldest first, each complete or not by the night's
    /// own rule (its `READY` marker, or every data file's control file).
    fn waiting_days(&self) -> Vec<WaitingDay>;
}

/// The marker a day's sender writes last: the day is complete (`kam nightly` reads it; the
/// upload writes it once every file has arrived).
pub const READY: &str = "READY.ok";

/// A day folder waiting in the inbox.
#[derive(Debug, Clone)]
pub struct WaitingDay {
    pub day: NaiveDate,
    pub complete: bool,
}

/// Where a night is, as the page shows it.
#[derive(Debug, Clone, Default)]
pub struct NightProgress {
    /// A night is at work now.
    pub running: bool,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// The day at work and its step.
    pub day: Option<NaiveDate>,
    pub step: NightStep,
    /// The file at work: its name, its place among the day's files, the rows and bytes read of
    /// its size.
    pub file: Option<String>,
    pub file_index: usize,
    pub files: usize,
    pub rows: u64,
    pub bytes: u64,
    pub size: u64,
    /// The day's files ended so far.
    pub ended: Vec<FileEnded>,
    /// Days done (imported, batched, archived) in this run.
    pub days_done: Vec<NaiveDate>,
    /// The day moved to quarantine (the night stopped there).
    pub quarantined: Option<NaiveDate>,
    /// The first day found incomplete (it and later days wait).
    pub waiting: Option<NaiveDate>,
    /// Another night (a scheduler's `kam nightly`) held the inbox: nothing was done.
    pub busy: bool,
    /// What stopped the night, for the administrator.
    pub error: Option<String>,
}

/// The step a night is at.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum NightStep {
    /// Nothing has run since the server started.
    #[default]
    Idle,
    /// Looking at the inbox, taking the lock.
    Starting,
    /// Staging source tables and importing the day's files.
    Importing,
    /// The diagnosis batch for the day.
    Batch,
    /// The night has ended (see the days done, quarantined, waiting, error).
    Ended,
}

impl NightStep {
    /// The code of its message (`night-step-<code>`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::Starting => "starting",
            Self::Importing => "importing",
            Self::Batch => "batch",
            Self::Ended => "ended",
        }
    }
}

/// One file of the day as it ended.
#[derive(Debug, Clone)]
pub struct FileEnded {
    pub name: String,
    /// The extract kind's code (`balances`…), or empty when none matched.
    pub kind: String,
    pub loaded: u64,
    pub rejected: u64,
    pub outcome: FileEnd,
}

/// How a file ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileEnd {
    Imported,
    /// Its content was committed before.
    Already,
    /// Refused whole.
    Refused,
}

impl FileEnd {
    /// The code of its message (`night-file-<code>`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Imported => "imported",
            Self::Already => "already",
            Self::Refused => "refused",
        }
    }
}

//! `kam nightly`: the unattended night. The inbox holds one folder per business day
//! (`YYYYMMDD/`); a day is complete when its `READY.ok` marker has arrived, or when every data
//! file in it has its control file (`.ok`/`.ctl`). Complete days are taken oldest first: the
//! day's files are imported (held rows released), the batch runs for that date, a report is
//! written to `reports/YYYYMMDD.txt`, and the folder moves to `archive/` — or, when files were
//! refused, to `quarantine/` with the reason, which stops the night there (later days wait for
//! it). Every step can be run again: the import skips what is committed, the batch of a date
//! gives the same results, and the move comes last, so a run killed at any point (kill -9
//! included) is completed by the next one without loss or doubling.

use std::{
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
};

use anyhow::Context;
use chrono::NaiveDate;
use kam_app::batch;
use kam_query::Engine;
use kam_store::{Actor, NightOutcome, NightRun, Store};

use crate::import::{RunArgs, RunOutcome};

/// The marker a day's sender writes last: the day is complete (one definition, shared with the
/// nights page's upload).
pub use kam_web::READY;

/// What `kam nightly` needs besides the store.
#[derive(Debug)]
pub struct NightArgs {
    pub inbox: PathBuf,
    pub facts_dir: PathBuf,
    pub mapping: Option<PathBuf>,
    pub max_rejects: kam_ingest::import::RejectLimit,
    pub windows: Vec<u32>,
    pub rules: kam_core::rules::Rules,
    pub engine: Engine,
    /// Where the nights page follows the night (`kam nightly` from a scheduler passes none).
    pub watch: Option<Watch>,
}

/// A night's progress as the nights page reads it, shared between the night and the server.
#[derive(Debug, Clone, Default)]
pub struct Watch(Arc<Mutex<kam_web::NightProgress>>);

impl Watch {
    /// Changes the progress (a poisoned lock — a panic mid-update — is taken over as it is).
    pub fn update(&self, change: impl FnOnce(&mut kam_web::NightProgress)) {
        let mut progress = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        change(&mut progress);
    }

    /// The progress as it stands.
    pub fn get(&self) -> kam_web::NightProgress {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}

/// How the night ended, day by day.
#[derive(Debug, Default)]
pub struct Night {
    /// Days imported, batched and archived.
    pub done: Vec<NaiveDate>,
    /// The day moved to quarantine (the night stops there).
    pub quarantined: Option<NaiveDate>,
    /// The first day still incomplete (it and later days wait).
    pub waiting: Option<NaiveDate>,
    /// Rows rejected within the limit on the days done.
    pub rejected_rows: u64,
    /// Another night held the inbox: nothing was done.
    pub busy: bool,
}

impl Night {
    /// The exit status a scheduler reads: 0 every complete day done cleanly (or nothing to do),
    /// 3 done with rows rejected, 4 a day quarantined. (1: the night could not run.)
    pub fn exit_code(&self) -> u8 {
        match (self.quarantined, self.rejected_rows) {
            (Some(_), _) => 4,
            (None, 0) => 0,
            (None, _) => 3,
        }
    }
}

/// The day folders of the inbox, oldest first.
pub(crate) fn day_folders(inbox: &Path) -> anyhow::Result<Vec<(NaiveDate, PathBuf)>> {
    let mut days = Vec::new();
    for entry in std::fs::read_dir(inbox)
        .with_context(|| format!("reading the inbox {}", inbox.display()))?
    {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.len() == 8
            && entry.path().is_dir()
            && let Ok(day) = NaiveDate::parse_from_str(name, "%Y%m%d")
        {
            days.push((day, entry.path()));
        }
    }
    days.sort();
    Ok(days)
}

/// A day is complete when its `READY.ok` is there, or when it has data files and each has its
/// control file.
pub fn is_complete(folder: &Path) -> anyhow::Result<bool> {
    if folder.join(READY).is_file() {
        return Ok(true);
    }
    let files = kam_ingest::import::collect_files(&[folder.to_path_buf()])?;
    Ok(!files.is_empty()
        && files
            .iter()
            .all(|f| kam_ingest::control::find_control(f).is_some()))
}

/// Moves `folder` to `into/<name>`; a folder of that name already there (an earlier run of a
/// day sent again) is kept, the new one taking the next free `<name>.N`.
fn move_into(folder: &Path, into: &Path) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(into).with_context(|| format!("creating {}", into.display()))?;
    let name = folder
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_owned();
    let mut target = into.join(&name);
    let mut n = 1;
    while target.exists() {
        target = into.join(format!("{name}.{n}"));
        n += 1;
    }
    std::fs::rename(folder, &target)
        .with_context(|| format!("moving {} to {}", folder.display(), target.display()))?;
    Ok(target)
}

/// Writes a report whole or not at all (temporary file, then rename).
fn write_report(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let temporary = path.with_extension("txt.tmp");
    std::fs::write(&temporary, text).with_context(|| format!("writing {}", temporary.display()))?;
    std::fs::rename(&temporary, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

fn import_lines(day: NaiveDate, outcome: &RunOutcome) -> String {
    format!(
        "业务日期 business date: {day}\n\
         导入文件 files imported: {}\n已导入过 already imported: {}\n未导入 refused: {}\n\
         拒绝行 rows rejected: {}\n结论 verdict: {}\n",
        outcome.imported,
        outcome.already,
        outcome.refused,
        outcome.rejected_rows,
        outcome.verdict()
    )
}

/// The night's record of a day for the administration page.
fn night_run(
    day: NaiveDate,
    outcome: NightOutcome,
    import: Option<&RunOutcome>,
    batch_millis: Option<i64>,
    reason: Option<String>,
    started_at: &str,
) -> NightRun {
    let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
    NightRun {
        business_date: day,
        outcome,
        files_imported: import.map_or(0, |i| count(i.imported)),
        files_already: import.map_or(0, |i| count(i.already)),
        files_refused: import.map_or(0, |i| count(i.refused)),
        rows_rejected: import.map_or(0, |i| i64::try_from(i.rejected_rows).unwrap_or(i64::MAX)),
        batch_millis,
        reason,
        started_at: started_at.to_owned(),
        finished_at: now(),
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Records a day that failed (the next run does it again), then hands the error on.
async fn failed(
    store: &Store,
    actor: &Actor,
    day: NaiveDate,
    import: Option<&RunOutcome>,
    started_at: &str,
    error: anyhow::Error,
) -> anyhow::Error {
    let record = night_run(
        day,
        NightOutcome::Failed,
        import,
        None,
        Some(format!("{error:#}")),
        started_at,
    );
    if let Err(also) = store.record_night(actor, &record).await {
        return error.context(format!("and the night could not be recorded: {also}"));
    }
    error
}

/// Runs the night: every complete day in order, until one is quarantined or incomplete.
pub async fn run(store: &Store, args: NightArgs) -> anyhow::Result<Night> {
    let inbox = &args.inbox;
    let (archive, quarantine, reports) = (
        inbox.join("archive"),
        inbox.join("quarantine"),
        inbox.join("reports"),
    );
    let mut night = Night::default();
    // One night at a time on an inbox, for the whole run (the import lock is per day): a second
    // run started by the scheduler meanwhile finds it at work and leaves.
    let lock_path = inbox.join(".nightly.lock");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .with_context(|| format!("opening {}", lock_path.display()))?;
    match lock.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            println!(
                "另一个夜间作业正在处理此收件目录，本次不做任何事 / another kam nightly is at work on this inbox; nothing done"
            );
            night.busy = true;
            return Ok(night);
        }
        Err(std::fs::TryLockError::Error(error)) => {
            return Err(error).with_context(|| format!("locking {}", lock_path.display()));
        }
    }
    // The master keys of the reference checks, kept from day to day of the night (read again
    // whenever a day brings master data).
    let references = kam_ingest::reference::ReferenceCache::default();
    for (day, folder) in day_folders(inbox)? {
        if !is_complete(&folder)? {
            println!(
                "{day}：文件未到齐（缺 {READY} 或控制文件），本日及以后各日等待 / {day}: not complete yet (no {READY} or control files); it and later days wait"
            );
            night.waiting = Some(day);
            break;
        }
        let stamp = day.format("%Y%m%d").to_string();
        let started_at = now();
        if let Some(watch) = &args.watch {
            watch.update(|p| {
                p.day = Some(day);
                p.step = kam_web::NightStep::Importing;
                p.file = None;
                p.ended.clear();
            });
        }
        let actor = Actor::system("nightly");
        println!("== {day} ==");
        let started = std::time::Instant::now();
        let rejects = reports.join(format!("{stamp}.rejects.csv"));
        std::fs::create_dir_all(&reports)?;
        let imported = crate::import::run(
            store,
            &args.facts_dir,
            RunArgs {
                mapping: args.mapping.as_deref(),
                inputs: std::slice::from_ref(&folder),
                options: kam_ingest::import::ImportOptions {
                    business_date: None,
                    replace: false,
                    max_rejects: args.max_rejects,
                    keys_in_memory: kam_ingest::reader::KEYS_IN_MEMORY,
                    references: references.clone(),
                },
                rejects_path: Some(&rejects),
                // A bank's raw tables seldom carry the date in their names; the folder does.
                staging_date: Some(day),
                watch: args.watch.as_ref(),
            },
        )
        .await
        .with_context(|| format!("importing the day {day}"));
        let outcome = match imported {
            Ok(outcome) => outcome,
            Err(error) => return Err(failed(store, &actor, day, None, &started_at, error).await),
        };
        let report = reports.join(format!("{stamp}.txt"));
        if matches!(outcome.exit_code(), 4 | 5) {
            let reason = format!(
                "{}拒绝记录 rejects: {}\n本日已移入隔离目录；修正后将文件夹移回收件目录重新运行 / the day was moved to \
                 quarantine; correct it, move the folder back into the inbox and run again\n",
                import_lines(day, &outcome),
                rejects.display()
            );
            let moved = move_into(&folder, &quarantine)?;
            std::fs::write(moved.join("REASON.txt"), &reason)?;
            write_report(
                &report,
                &format!("结果 outcome: 隔离 quarantined\n{reason}"),
            )?;
            store
                .record_night(
                    &actor,
                    &night_run(
                        day,
                        NightOutcome::Quarantined,
                        Some(&outcome),
                        None,
                        Some(reason),
                        &started_at,
                    ),
                )
                .await?;
            println!(
                "{day}：有文件未导入，已移入隔离目录 {} / {day}: files refused, moved to quarantine {}",
                moved.display(),
                moved.display()
            );
            night.quarantined = Some(day);
            break;
        }
        if let Some(watch) = &args.watch {
            watch.update(|p| {
                p.step = kam_web::NightStep::Batch;
                p.file = None;
            });
        }
        let batched = batch::run(
            store,
            &args.facts_dir,
            &actor,
            day,
            &args.windows,
            &args.rules,
            &args.engine,
        )
        .await
        .with_context(|| format!("the batch of {day}"));
        let summary = match batched {
            Ok(summary) => summary,
            Err(error) => {
                return Err(failed(store, &actor, day, Some(&outcome), &started_at, error).await);
            }
        };
        crate::report::print_batch(day, &summary);
        write_report(
            &report,
            &format!(
                "结果 outcome: 完成 done\n{}批处理 batch: {} 个客户 customers, {} 个指标值 values, {:.1} 秒 s\n\
                 用时 elapsed: {:.1} 秒 s\n",
                import_lines(day, &outcome),
                summary.customers,
                summary.values,
                summary.seconds,
                started.elapsed().as_secs_f64()
            ),
        )?;
        store
            .record_night(
                &actor,
                &night_run(
                    day,
                    NightOutcome::Done,
                    Some(&outcome),
                    Some((summary.seconds * 1000.0).round() as i64),
                    None,
                    &started_at,
                ),
            )
            .await?;
        // Last: until the folder has moved, a rerun does the day again (and finds it done).
        move_into(&folder, &archive)?;
        night.rejected_rows += outcome.rejected_rows;
        night.done.push(day);
        if let Some(watch) = &args.watch {
            watch.update(|p| p.days_done.push(day));
        }
    }
    println!(
        "夜间作业：完成 {} 天{}{} / nightly: {} day(s) done{}{}",
        night.done.len(),
        night
            .quarantined
            .map_or_else(String::new, |d| format!("，{d} 已隔离")),
        night
            .waiting
            .map_or_else(String::new, |d| format!("，{d} 起等待")),
        night.done.len(),
        night
            .quarantined
            .map_or_else(String::new, |d| format!(", {d} quarantined")),
        night
            .waiting
            .map_or_else(String::new, |d| format!(", waiting from {d}")),
    );
    Ok(night)
}

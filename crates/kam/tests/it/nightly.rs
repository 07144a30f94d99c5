//! `kam nightly` as a scheduler runs it: a week of the synthetic bank's day folders, the night
//! killed (SIGKILL) again and again at different moments and run again until it ends, compared
//! with the same week run once cleanly — nothing lost or doubled; an incomplete day waits, a day
//! with a refused file is quarantined with its reason.

use std::{
    path::Path,
    process::{Command, Stdio},
    time::Duration,
};

use crate::cli::{kam, text};

/// The synthetic bank's `days` days as an inbox: one folder per business day with its daily
/// files, the master files in the first, each day's `READY.ok` written last.
pub(crate) fn week_inbox(root: &Path, days: u32) -> Vec<String> {
    let out = root.join("extracts");
    let made = kam(&[
        "synth",
        "--out",
        out.to_str().unwrap(),
        "--scale",
        "tiny",
        "--days",
        &days.to_string(),
    ]);
    assert!(made.status.success(), "{}", text(&made));
    let inbox = root.join("inbox");
    let mut dates: Vec<String> = std::fs::read_dir(out.join("daily"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter_map(|name| name.rsplit_once('_').map(|(_, d)| d[..8].to_owned()))
        .collect();
    dates.sort();
    dates.dedup();
    assert_eq!(dates.len(), days as usize);
    for (index, date) in dates.iter().enumerate() {
        let folder = inbox.join(date);
        std::fs::create_dir_all(&folder).unwrap();
        for entry in std::fs::read_dir(out.join("daily")).unwrap() {
            let path = entry.unwrap().path();
            if path
                .file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .contains(date.as_str())
            {
                std::fs::copy(&path, folder.join(path.file_name().unwrap())).unwrap();
            }
        }
        if index == 0 {
            for entry in std::fs::read_dir(out.join("reference")).unwrap() {
                let path = entry.unwrap().path();
                std::fs::copy(&path, folder.join(path.file_name().unwrap())).unwrap();
            }
        }
        std::fs::write(folder.join("READY.ok"), "").unwrap();
    }
    dates
}

fn nightly(data: &str, inbox: &Path) -> std::process::Output {
    kam(&[
        "--data-dir",
        data,
        "nightly",
        "--inbox",
        inbox.to_str().unwrap(),
    ])
}

/// What the store and the batch hold after the week: every committed batch's file, kind, date
/// and counts (batch ids aside), and the last day's indicators as exported.
fn outcome_of(data: &str, root: &Path, last: &str) -> (Vec<String>, String) {
    let status = text(&kam(&["--data-dir", data, "import", "status"]));
    let mut batches: Vec<String> = status
        .lines()
        .filter(|l| l.contains("committed"))
        .map(|l| l.split_whitespace().skip(1).collect::<Vec<_>>().join(" "))
        .collect();
    batches.sort();
    let out = root.join(format!("indicators-{}.csv", batches.len()));
    let date = format!("{}-{}-{}", &last[..4], &last[4..6], &last[6..]);
    let export = kam(&[
        "--data-dir",
        data,
        "export",
        "indicators",
        "--as-of",
        &date,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(export.status.success(), "{}", text(&export));
    (batches, std::fs::read_to_string(out).unwrap())
}

#[test]
fn a_week_of_nights_killed_at_any_moment_ends_as_one_clean_run() {
    const DAYS: u32 = 7;
    let clean_root = tempfile::tempdir().unwrap();
    let dates = week_inbox(clean_root.path(), DAYS);
    let clean_data = clean_root.path().join("data");
    let clean_data = clean_data.to_str().unwrap();
    assert!(kam(&["--data-dir", clean_data, "init"]).status.success());
    let clean = nightly(clean_data, &clean_root.path().join("inbox"));
    assert_eq!(clean.status.code(), Some(0), "{}", text(&clean));
    let archived = std::fs::read_dir(clean_root.path().join("inbox/archive"))
        .unwrap()
        .count();
    assert_eq!(archived, DAYS as usize);
    let last = dates.last().unwrap();
    let expected = outcome_of(clean_data, clean_root.path(), last);
    // Each day's files once: 12 master files and 4 fact files a day.
    assert_eq!(expected.0.len(), 12 + 4 * DAYS as usize, "{:?}", expected.0);

    let root = tempfile::tempdir().unwrap();
    week_inbox(root.path(), DAYS);
    let data = root.path().join("data");
    let data = data.to_str().unwrap();
    assert!(kam(&["--data-dir", data, "init"]).status.success());
    let inbox = root.path().join("inbox");
    // Killed at moments spread over the night: inside imports, batches, reports and moves.
    for delay_ms in [120, 450, 800, 260, 1_300, 650, 2_000, 90, 1_700, 380] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_kam"))
            .args([
                "--data-dir",
                data,
                "nightly",
                "--inbox",
                inbox.to_str().unwrap(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        child.kill().unwrap();
        child.wait().unwrap();
    }
    let finished = nightly(data, &inbox);
    assert_eq!(finished.status.code(), Some(0), "{}", text(&finished));
    assert_eq!(
        std::fs::read_dir(inbox.join("archive")).unwrap().count(),
        DAYS as usize
    );
    for date in &dates {
        assert!(inbox.join("reports").join(format!("{date}.txt")).is_file());
    }
    // Every day's night is on record as done (a day done again after a kill is recorded again).
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let done: std::collections::BTreeSet<String> = runtime.block_on(async {
        let url = kam_store::DatabaseUrl::sqlite_file(Path::new(data).join("kam.db"));
        let store = kam_store::Store::connect(&url).await.unwrap();
        let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        store
            .whole_bank("test", today)
            .nights(100)
            .await
            .unwrap()
            .into_iter()
            .filter(|n| n.outcome == kam_store::NightOutcome::Done)
            .map(|n| n.business_date.format("%Y%m%d").to_string())
            .collect()
    });
    assert_eq!(done.into_iter().collect::<Vec<_>>(), dates);
    let got = outcome_of(data, root.path(), last);
    assert_eq!(got.0, expected.0, "the same batches, each once");
    assert_eq!(got.1, expected.1, "the same indicators on the last day");
    // A night with nothing new is clean and does nothing.
    let again = nightly(data, &inbox);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    assert!(text(&again).contains("0 day(s) done"), "{}", text(&again));
}

#[test]
fn an_incomplete_day_waits_and_a_day_with_a_refused_file_is_quarantined() {
    let root = tempfile::tempdir().unwrap();
    let dates = week_inbox(root.path(), 3);
    let inbox = root.path().join("inbox");
    let data = root.path().join("data");
    let data = data.to_str().unwrap();
    assert!(kam(&["--data-dir", data, "init"]).status.success());
    // The second day's marker has not arrived: only the first day is done.
    std::fs::remove_file(inbox.join(&dates[1]).join("READY.ok")).unwrap();
    let first = nightly(data, &inbox);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));
    assert!(text(&first).contains("1 day(s) done"), "{}", text(&first));
    assert!(inbox.join(&dates[1]).is_dir() && inbox.join(&dates[2]).is_dir());
    // It arrives with a bad row: the day is quarantined with its reason, the third day waits.
    let day = inbox.join(&dates[1]);
    let fees = day.join(format!("fees_{}.csv", dates[1]));
    let mut text_of_fees = std::fs::read_to_string(&fees).unwrap();
    text_of_fees.push_str("not,a,valid,row\n");
    std::fs::write(&fees, text_of_fees).unwrap();
    std::fs::write(day.join("READY.ok"), "").unwrap();
    let second = nightly(data, &inbox);
    assert_eq!(second.status.code(), Some(4), "{}", text(&second));
    let quarantined = inbox.join("quarantine").join(&dates[1]);
    let reason = std::fs::read_to_string(quarantined.join("REASON.txt")).unwrap();
    assert!(
        reason.contains("refused") && reason.contains("rejects"),
        "{reason}"
    );
    assert!(inbox.join(&dates[2]).is_dir(), "the later day waits");
}

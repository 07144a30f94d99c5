//! The fact import end to end, on SQLite and on PostgreSQL: idempotent re-runs, `--replace`,
//! revert, the reject limit, and undoing an interrupted run.

use std::{fs, path::Path};

use chrono::NaiveDate;
use kam_facts::FactWriter;
use kam_ingest::{
    Mapping,
    import::{FileOutcome, ImportOptions, RejectLimit, import_file, recover, revert},
};
use kam_store::{Actor, BatchState, NewImportBatch, Store};

use crate::options;

const HEADER: &str = "business_date,cif_no,fee_code,amount,currency\n";

fn actor() -> Actor {
    Actor::system("test")
}

async fn import(
    store: &Store,
    facts: &FactWriter,
    path: &Path,
    options: &ImportOptions,
) -> FileOutcome {
    crate::import_collecting(store, facts, path, options)
        .await
        .0
}

fn parquet_files(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let dir = root.join("fee/date=2026-11-27");
    if let Ok(entries) = fs::read_dir(dir) {
        for entry in entries {
            out.push(entry.unwrap().file_name().to_string_lossy().into_owned());
        }
    }
    out.sort();
    out
}

macro_rules! both {
    ($($name:ident),+) => {
        mod sqlite { $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { let db = kam_store::testing::sqlite().await; super::$name(db.store.clone()).await; }
        )+ }
        mod postgres { $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let Some(db) = kam_store::testing::postgres().await else { eprintln!("SKIPPED on PostgreSQL: {}", stringify!($name)); return; };
                super::$name(db.store.clone()).await;
            }
        )+ }
    };
}

both!(
    the_same_file_twice_is_a_reported_no_op,
    a_corrected_file_needs_replace_and_then_swaps_the_batch,
    a_reverted_batch_loses_its_files,
    too_many_rejects_commit_nothing,
    an_interrupted_run_is_undone_by_the_next,
    a_control_file_mismatch_refuses_the_batch,
    late_duplicates_found_on_disk_leave_the_batch_without_them,
    a_fact_naming_an_undefined_customer_or_account_is_a_reject,
    master_keys_are_read_once_a_run_and_again_after_master_data_changes,
    a_joint_owner_may_be_named_by_a_fact_row_and_an_authorised_user_may_not,
    a_transaction_id_committed_by_an_earlier_batch_is_a_duplicate,
    rows_naming_master_data_not_yet_there_are_held_until_it_arrives
);

/// With room for one key in memory, a duplicate is only found when the spilled keys are settled
/// after the whole file was written once: the file is read again and the batch holds each key
/// once, with one reject per duplicate and nothing left on disk from the spill.
async fn late_duplicates_found_on_disk_leave_the_batch_without_them(store: Store) {
    let dir = tempfile::tempdir().unwrap();
    crate::known_parties(&store, dir.path()).await;
    let facts = FactWriter::new(dir.path().join("facts"));
    let path = dir.path().join("transactions_20261127.csv");
    let row = |id: &str, amount: &str| {
        format!("2026-11-27,{id},6222001,100001,credit,{amount},CNY,mobile,张三,本行,N,\n")
    };
    let text = format!(
        "business_date,txn_id,account_no,cif_no,direction,amount,currency,channel,counterparty_name,counterparty_bank,reversal,reverses_txn_id\n{}{}{}{}{}",
        row("T1", "1.00"),
        row("T2", "2.00"),
        row("T3", "3.00"),
        row("T2", "20.00"),
        row("T4", "4.00"),
    );
    fs::write(&path, text).unwrap();
    let mut rejects = Vec::new();
    let outcome = import_file(
        &store,
        &facts,
        &Mapping::kam_default(),
        &path,
        &ImportOptions {
            keys_in_memory: 1,
            references: Default::default(),
            ..options(false, RejectLimit::Count(5))
        },
        &actor(),
        kam_ingest::import::Feedback {
            rejects: &mut rejects,
            progress: &mut |_, _| {},
        },
    )
    .await
    .unwrap();
    let FileOutcome::Imported { report, .. } = outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!(
        (report.rows_read, report.loaded, report.duplicates),
        (5, 4, 1)
    );
    assert_eq!(report.amount_sums["amount"], 1_000);
    let found: Vec<(u64, kam_ingest::RejectCode)> =
        rejects.iter().map(|r| (r.line, r.code)).collect();
    assert_eq!(found, [(5, kam_ingest::RejectCode::DuplicateKey)]);
    let batch = &crate::fact_batches(&store).await[0];
    assert_eq!((batch.loaded, batch.duplicates), (4, 1));
    // The batch keeps its rejects for the administrator's download: the one found on the
    // second pass, once (the first pass's state was dropped with the restart).
    let stored = store.import_rejects(&batch.batch_id).await.unwrap();
    let stored: Vec<(i64, &str, &str)> = stored
        .iter()
        .map(|r| (r.line, r.reason_code.as_str(), r.severity.as_str()))
        .collect();
    assert_eq!(stored, [(5, "duplicate_key", "reject")]);
    // The published file holds the four distinct transactions, the first T2 among them.
    let file = dir
        .path()
        .join("facts/transaction/date=2026-11-27")
        .join(format!("{}.parquet", batch.batch_id));
    let mut rows = kam_facts::TextRows::open(&file, "%Y-%m-%d").unwrap();
    let id_at = rows.columns().iter().position(|c| c == "txn_id").unwrap();
    let amount_at = rows
        .columns()
        .iter()
        .position(|c| c == "amount_minor")
        .unwrap();
    let mut held = Vec::new();
    while let Some(cells) = rows.next_row().unwrap() {
        held.push((cells[id_at].clone(), cells[amount_at].clone()));
    }
    let want: Vec<(String, String)> = [("T1", "100"), ("T2", "200"), ("T3", "300"), ("T4", "400")]
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect();
    assert_eq!(held, want);
    // Only the batch's file is left: no temp file of the first pass, no spilled keys.
    let leftovers: Vec<String> = fs::read_dir(dir.path().join("facts"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(leftovers, ["transaction"]);
    assert_eq!(
        fs::read_dir(dir.path().join("facts/transaction/date=2026-11-27"))
            .unwrap()
            .count(),
        1
    );
}

async fn a_control_file_mismatch_refuses_the_batch(store: Store) {
    let dir = tempfile::tempdir().unwrap();
    crate::known_parties(&store, dir.path()).await;
    let facts = FactWriter::new(dir.path().join("facts"));
    let path = dir.path().join("fees_20261127.csv");
    fs::write(
        &path,
        format!("{HEADER}2026-11-27,1001,card_fee,1.50,CNY\n2026-11-27,1002,card_fee,2.25,CNY\n"),
    )
    .unwrap();
    fs::write(
        dir.path().join("fees_20261127.csv.ok"),
        "rows=3\namount=3.75\n",
    )
    .unwrap();
    let refused = import(
        &store,
        &facts,
        &path,
        &options(false, RejectLimit::Count(0)),
    )
    .await;
    assert!(
        matches!(refused, FileOutcome::Refused { ref en, .. } if en.contains("says 3 rows, the file has 2")),
        "{refused:?}"
    );
    assert!(crate::fact_batches(&store).await.is_empty());
    fs::write(dir.path().join("fees_20261127.csv.ok"), "2|3.70").unwrap();
    let refused = import(
        &store,
        &facts,
        &path,
        &options(false, RejectLimit::Count(0)),
    )
    .await;
    assert!(
        matches!(refused, FileOutcome::Refused { ref en, .. } if en.contains("totals 370 fen, the file totals 375")),
        "{refused:?}"
    );
    fs::write(dir.path().join("fees_20261127.csv.ok"), "2|3.75").unwrap();
    let imported = import(
        &store,
        &facts,
        &path,
        &options(false, RejectLimit::Count(0)),
    )
    .await;
    assert!(
        matches!(imported, FileOutcome::Imported { .. }),
        "{imported:?}"
    );
}

async fn the_same_file_twice_is_a_reported_no_op(store: Store) {
    let dir = tempfile::tempdir().unwrap();
    crate::known_parties(&store, dir.path()).await;
    let facts = FactWriter::new(dir.path().join("facts"));
    let path = dir.path().join("fees_20261127.csv");
    fs::write(
        &path,
        format!("{HEADER}2026-11-27,1001,card_fee,1.50,CNY\n2026-11-27,1002,card_fee,2.25,CNY\n"),
    )
    .unwrap();
    let first = import(
        &store,
        &facts,
        &path,
        &options(false, RejectLimit::Count(0)),
    )
    .await;
    let FileOutcome::Imported {
        report, batch_id, ..
    } = first
    else {
        panic!("{first:?}")
    };
    assert_eq!((report.loaded, report.amount_sums["amount"]), (2, 375));
    let again = import(
        &store,
        &facts,
        &path,
        &options(false, RejectLimit::Count(0)),
    )
    .await;
    assert!(
        matches!(again, FileOutcome::AlreadyImported { ref batch } if batch.batch_id == batch_id),
        "{again:?}"
    );
    assert_eq!(
        parquet_files(facts.root()),
        vec![format!("{batch_id}.parquet")]
    );
}

async fn a_corrected_file_needs_replace_and_then_swaps_the_batch(store: Store) {
    let dir = tempfile::tempdir().unwrap();
    crate::known_parties(&store, dir.path()).await;
    let facts = FactWriter::new(dir.path().join("facts"));
    let path = dir.path().join("fees_20261127.csv");
    fs::write(
        &path,
        format!("{HEADER}2026-11-27,1001,card_fee,1.50,CNY\n"),
    )
    .unwrap();
    let FileOutcome::Imported { batch_id: old, .. } = import(
        &store,
        &facts,
        &path,
        &options(false, RejectLimit::Count(0)),
    )
    .await
    else {
        panic!()
    };
    fs::write(
        &path,
        format!("{HEADER}2026-11-27,1001,card_fee,1.60,CNY\n"),
    )
    .unwrap();
    let refused = import(
        &store,
        &facts,
        &path,
        &options(false, RejectLimit::Count(0)),
    )
    .await;
    assert!(
        matches!(refused, FileOutcome::Refused { ref en, .. } if en.contains("--replace")),
        "{refused:?}"
    );
    let replaced = import(&store, &facts, &path, &options(true, RejectLimit::Count(0))).await;
    let FileOutcome::Imported {
        batch_id: new,
        replaced: Some(gone),
        ..
    } = replaced
    else {
        panic!("{replaced:?}")
    };
    assert_eq!(gone, old);
    assert_eq!(
        store.committed_batch_ids("fees").await.unwrap(),
        vec![new.clone()]
    );
    assert_eq!(
        parquet_files(facts.root()),
        vec![format!("{new}.parquet")],
        "the old batch's file is gone"
    );
}

async fn a_reverted_batch_loses_its_files(store: Store) {
    let dir = tempfile::tempdir().unwrap();
    crate::known_parties(&store, dir.path()).await;
    let facts = FactWriter::new(dir.path().join("facts"));
    let path = dir.path().join("fees_20261127.csv");
    fs::write(
        &path,
        format!("{HEADER}2026-11-27,1001,card_fee,1.50,CNY\n"),
    )
    .unwrap();
    let FileOutcome::Imported { batch_id, .. } = import(
        &store,
        &facts,
        &path,
        &options(false, RejectLimit::Count(0)),
    )
    .await
    else {
        panic!()
    };
    let reverted = revert(&store, &facts, &actor(), &batch_id).await.unwrap();
    assert_eq!(reverted.state, BatchState::Reverted);
    assert!(parquet_files(facts.root()).is_empty());
    // Importing the same file again after a revert is a fresh batch, not a no-op.
    let again = import(
        &store,
        &facts,
        &path,
        &options(false, RejectLimit::Count(0)),
    )
    .await;
    assert!(matches!(again, FileOutcome::Imported { .. }), "{again:?}");
}

async fn too_many_rejects_commit_nothing(store: Store) {
    let dir = tempfile::tempdir().unwrap();
    crate::known_parties(&store, dir.path()).await;
    let facts = FactWriter::new(dir.path().join("facts"));
    let path = dir.path().join("fees_20261127.csv");
    fs::write(
        &path,
        format!("{HEADER}2026-11-27,1001,card_fee,1.505,CNY\n2026-11-27,1002,card_fee,2.00,CNY\n"),
    )
    .unwrap();
    let refused = import(
        &store,
        &facts,
        &path,
        &options(false, RejectLimit::Count(0)),
    )
    .await;
    assert!(
        matches!(refused, FileOutcome::Refused { ref en, .. } if en.contains("--max-rejects")),
        "{refused:?}"
    );
    assert!(crate::fact_batches(&store).await.is_empty());
    assert!(
        parquet_files(facts.root()).is_empty(),
        "no staged file left behind"
    );
    let accepted = import(
        &store,
        &facts,
        &path,
        &options(false, RejectLimit::PartsPerMillion(500_000)),
    )
    .await;
    let FileOutcome::Imported { report, .. } = accepted else {
        panic!("{accepted:?}")
    };
    assert_eq!((report.loaded, report.rejected), (1, 1));
}

async fn an_interrupted_run_is_undone_by_the_next(store: Store) {
    let dir = tempfile::tempdir().unwrap();
    crate::known_parties(&store, dir.path()).await;
    let facts = FactWriter::new(dir.path().join("facts"));
    // What a kill between "pending recorded" and "committed" leaves: a pending ledger row and
    // published files.
    let date = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
    store
        .begin_import_batch(
            &actor(),
            &NewImportBatch {
                batch_id: "fees-20261127-dead".into(),
                kind: "fees".into(),
                business_date: date,
                file_name: "fees_20261127.csv".into(),
                content_hash: "dead".into(),
                rows_read: 1,
                loaded: 1,
                rejected: 0,
                duplicates: 0,
                held: 0,
                amount_total_minor: 150,
                rejects: Vec::new(),
            },
        )
        .await
        .unwrap();
    facts
        .write_day(
            date,
            "fees-20261127-dead",
            &[kam_facts::FeeRow {
                cif_no: "1001".into(),
                fee_code: "card_fee".into(),
                amount_minor: 150,
                currency: "CNY".into(),
            }],
        )
        .unwrap();
    assert_eq!(parquet_files(facts.root()).len(), 1);
    // Staging files of runs that died before recording a batch (kill -9, a full disk): no ledger
    // row names them, the next run's start removes them all.
    for (day, batch) in [
        ("2026-11-25", "a"),
        ("2026-11-25", "b"),
        ("2026-11-26", "c"),
    ] {
        let dir = facts.root().join("balance").join(format!("date={day}"));
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join(format!(".balances-{batch}.parquet.tmp")), b"half").unwrap();
    }
    let recovery = recover(&store, &facts, &actor()).await.unwrap();
    assert_eq!(recovery.undone, vec!["fees-20261127-dead".to_owned()]);
    assert_eq!(recovery.staging_removed, 3);
    assert!(parquet_files(facts.root()).is_empty());
    assert!(
        !facts
            .root()
            .join("balance")
            .join("date=2026-11-25")
            .exists()
    );
    assert!(crate::fact_batches(&store).await.is_empty());
    // While this run holds the lock, a second import cannot start (nor remove its files).
    let second = recover(&store, &facts, &actor()).await.unwrap_err();
    assert!(
        second.to_string().contains("another kam import is running"),
        "{second}"
    );
    drop(recovery);
    recover(&store, &facts, &actor()).await.unwrap();
}

mod synthetic_bank {
    //! The synthetic bank's daily extracts through the real import, on both back ends: zero
    //! rejects, and the ledger's totals equal what the generator wrote.

    use super::*;
    use kam_synth::{Bank, ExtractFormat, ExtractWriter, Scale, SynthConfig};

    both!(
        the_synthetic_daily_extracts_import_with_zero_rejects_and_reconcile,
        the_synthetic_daily_extracts_in_parquet_import_the_same,
        kam_reads_its_own_parquet_facts_back_through_a_mapping
    );

    async fn the_synthetic_daily_extracts_import_with_zero_rejects_and_reconcile(store: Store) {
        synthetic_daily_import(store, ExtractFormat::Csv).await;
    }

    async fn the_synthetic_daily_extracts_in_parquet_import_the_same(store: Store) {
        synthetic_daily_import(store, ExtractFormat::Parquet).await;
    }

    /// Imports four days of the synthetic bank's daily extracts in `format`, checking zero
    /// rejects and the totals against the generator; returns the work directory.
    async fn synthetic_daily_import(store: Store, format: ExtractFormat) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let mut bank = Bank::generate(SynthConfig::new(Scale::Tiny, 9).with_days(4));
        // The master data first: facts naming undefined customers or accounts are rejects.
        let hashes = vec![kam_store::NO_PASSWORD.to_owned(); bank.reference.users.len()];
        store
            .bulk_load(&Actor::system("test"), &bank.reference, &hashes)
            .await
            .unwrap();
        let mut writer = ExtractWriter::new(dir.path(), format).unwrap();
        let (mut rows, mut amount) = (0i64, 0i64);
        for day in bank.facts() {
            rows += (day.balances.len() + day.transactions.len() + day.loans.len() + day.fees.len())
                as i64;
            amount += day.balances.iter().map(|b| b.balance_minor).sum::<i64>()
                + day.transactions.iter().map(|t| t.amount_minor).sum::<i64>()
                + day
                    .loans
                    .iter()
                    .map(|l| l.outstanding_minor + l.overdue_principal_minor + l.credit_limit_minor)
                    .sum::<i64>()
                + day.fees.iter().map(|f| f.amount_minor).sum::<i64>();
            writer.write_day(&day).unwrap();
        }
        let facts = FactWriter::new(dir.path().join("facts"));
        let files = kam_ingest::import::collect_files(&[dir.path().join("daily")]).unwrap();
        assert_eq!(files.len(), 16);
        for path in &files {
            let outcome =
                import(&store, &facts, path, &options(false, RejectLimit::Count(0))).await;
            assert!(
                matches!(outcome, FileOutcome::Imported { ref report, .. } if report.rejected == 0 && report.duplicates == 0),
                "{outcome:?}"
            );
        }
        let batches = crate::fact_batches(&store).await;
        assert_eq!(batches.len(), 16);
        assert_eq!(batches.iter().map(|b| b.loaded).sum::<i64>(), rows);
        assert_eq!(
            batches.iter().map(|b| b.amount_total_minor).sum::<i64>(),
            amount
        );
        dir
    }

    /// The Parquet files kam writes are an extract a mapping can describe (amounts in fen, the
    /// fact columns' names): exported facts come back in with the same rows and sums.
    async fn kam_reads_its_own_parquet_facts_back_through_a_mapping(store: Store) {
        let dir = synthetic_daily_import(store.clone(), ExtractFormat::Csv).await;
        let written = all_parquet_files(&dir.path().join("facts"));
        let exported = dir.path().join("exported");
        fs::create_dir_all(&exported).unwrap();
        // One file per kind and day, named as an extract is.
        for path in &written {
            let text = path.display().to_string();
            let kind = [
                ("balance", "balances"),
                ("transaction", "transactions"),
                ("loan", "loans"),
                ("fee", "fees"),
            ]
            .into_iter()
            .find_map(|(dir, kind)| text.contains(&format!("/{dir}/")).then_some(kind))
            .unwrap();
            let date = text.split("date=").nth(1).unwrap()[..10].replace('-', "");
            fs::copy(path, exported.join(format!("{kind}_{date}.parquet"))).unwrap();
        }
        let mapping = Mapping::parse(
            "kam-facts.toml",
            r#"
version = 1
[defaults]
amount_unit = "fen"
[kinds.balances.columns]
balance = "balance_minor"
[kinds.transactions.columns]
amount = "amount_minor"
[kinds.loans.columns]
outstanding = "outstanding_minor"
overdue_principal = "overdue_principal_minor"
credit_limit = "credit_limit_minor"
[kinds.fees.columns]
amount = "amount_minor"
"#,
        )
        .unwrap();
        let before = crate::fact_batches(&store).await;
        // The originals are reverted first, so the exported files are the only copy.
        let facts = FactWriter::new(dir.path().join("facts"));
        for batch in &before {
            revert(&store, &facts, &actor(), &batch.batch_id)
                .await
                .unwrap();
        }
        let other_facts = FactWriter::new(dir.path().join("facts-again"));
        for path in kam_ingest::import::collect_files(&[exported]).unwrap() {
            let mut rejects = Vec::new();
            let outcome = import_file(
                &store,
                &other_facts,
                &mapping,
                &path,
                &options(false, RejectLimit::Count(0)),
                &actor(),
                kam_ingest::import::Feedback {
                    rejects: &mut rejects,
                    progress: &mut |_, _| {},
                },
            )
            .await
            .unwrap();
            assert!(
                rejects.is_empty(),
                "{}: {:?}",
                path.display(),
                rejects.first()
            );
            assert!(
                matches!(outcome, FileOutcome::Imported { replaced: None, .. }),
                "{}: {outcome:?}",
                path.display()
            );
        }
        let after: Vec<_> = store
            .import_batches()
            .await
            .unwrap()
            .into_iter()
            .filter(|b| !before.iter().any(|o| o.batch_id == b.batch_id))
            .collect();
        let totals = |batches: &[kam_store::ImportBatch]| {
            let mut t: Vec<(String, String, i64, i64)> = batches
                .iter()
                .map(|b| {
                    (
                        b.kind.clone(),
                        b.business_date.to_string(),
                        b.loaded,
                        b.amount_total_minor,
                    )
                })
                .collect();
            t.sort();
            t
        };
        assert_eq!(totals(&after), totals(&before));
        assert_eq!(
            all_parquet_files(&dir.path().join("facts-again")).len(),
            written.len()
        );
    }

    /// Every Parquet file under `root`, at any depth.
    fn all_parquet_files(root: &Path) -> Vec<std::path::PathBuf> {
        let mut found = Vec::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for entry in fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "parquet") {
                    found.push(path);
                }
            }
        }
        found.sort();
        found
    }
}

/// A balance naming an account, or a fee naming a customer, that the master data does not define
/// is rejected as `unknown_reference` with its line, column and value — never loaded to count
/// for nobody — and one whose account is another customer's is a `rule_violation`; the report's
/// sums are those of the rows loaded.
async fn a_fact_naming_an_undefined_customer_or_account_is_a_reject(store: Store) {
    let dir = tempfile::tempdir().unwrap();
    crate::known_parties(&store, dir.path()).await;
    let facts = FactWriter::new(dir.path().join("facts"));
    let balances = dir.path().join("balances_20261127.csv");
    fs::write(
        &balances,
        "business_date,account_no,cif_no,currency,balance\n\
         2026-11-27,6222001,100001,CNY,10.00\n\
         2026-11-27,6229999,100001,CNY,20.00\n\
         2026-11-27,6222002,404404,CNY,40.00\n\
         2026-11-27,6222003,1001,CNY,80.00\n",
    )
    .unwrap();
    let (outcome, rejects) = crate::import_collecting(
        &store,
        &facts,
        &balances,
        &options(false, RejectLimit::Count(5)),
    )
    .await;
    let FileOutcome::Imported { report, .. } = outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!(
        (report.rows_read, report.loaded, report.rejected),
        (4, 1, 3)
    );
    assert_eq!(report.amount_sums["balance"], 1_000, "only the loaded row");
    let shown: Vec<_> = rejects
        .iter()
        .map(|r| (r.line, r.column.as_str(), r.value.as_str(), r.code))
        .collect();
    use kam_ingest::RejectCode::{Rule, UnknownReference};
    assert_eq!(
        shown,
        [
            (3, "account_no", "6229999", UnknownReference),
            (4, "cif_no", "404404", UnknownReference),
            (5, "cif_no", "1001", Rule),
        ]
    );
    assert!(
        rejects[2]
            .message_en
            .contains("account 6222003 belongs to another customer"),
        "{:?}",
        rejects[2]
    );
    assert!(rejects[0].message_zh.contains("账户主数据中没有此账号"));
    assert!(
        rejects[1]
            .message_en
            .contains("no customer with this number")
    );
    assert!(rejects[0].file.ends_with("balances_20261127.csv"));
    let batch = &crate::fact_batches(&store).await[0];
    assert_eq!((batch.loaded, batch.rejected), (1, 3));
    // With the default limit the same kind of file is refused whole.
    let fees = dir.path().join("fees_20261127.csv");
    fs::write(
        &fees,
        format!("{HEADER}2026-11-27,1001,card_fee,1.50,CNY\n2026-11-27,9999,card_fee,2.00,CNY\n"),
    )
    .unwrap();
    let refused = import(
        &store,
        &facts,
        &fees,
        &options(false, RejectLimit::Count(0)),
    )
    .await;
    assert!(
        matches!(refused, FileOutcome::Refused { report: Some(ref r), .. } if r.rejected == 1 && r.loaded == 1),
        "{refused:?}"
    );
}

/// The master keys of the reference checks are read for the first fact file of a run and kept
/// for the next ones — and read again once master data was committed since, so a fact row
/// naming an account defined meanwhile loads.
async fn master_keys_are_read_once_a_run_and_again_after_master_data_changes(store: Store) {
    let dir = tempfile::tempdir().unwrap();
    crate::known_parties(&store, dir.path()).await;
    let facts = FactWriter::new(dir.path().join("facts"));
    let run = options(false, RejectLimit::Count(0));
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        fs::write(&path, text).unwrap();
        path
    };
    let balances = |day: u32, account: &str| {
        write(
            &format!("balances_202611{day}.csv"),
            &format!(
                "business_date,account_no,cif_no,currency,balance\n\
                 2026-11-{day},{account},100001,CNY,10.00\n"
            ),
        )
    };
    let imported = |outcome: &FileOutcome| matches!(outcome, FileOutcome::Imported { report, .. } if report.loaded == 1 && report.rejected == 0);
    let first = import(&store, &facts, &balances(26, "6222001"), &run).await;
    assert!(imported(&first), "{first:?}");
    assert_eq!(run.references.reads(), 1);
    let fees = write(
        "fees_20261126.csv",
        &format!("{HEADER}2026-11-26,1001,card_fee,1.50,CNY\n"),
    );
    let second = import(&store, &facts, &fees, &run).await;
    assert!(imported(&second), "{second:?}");
    let third = import(&store, &facts, &balances(27, "6222001"), &run).await;
    assert!(imported(&third), "{third:?}");
    assert_eq!(
        run.references.reads(),
        1,
        "kept for the run's next fact files"
    );
    // An account defined meanwhile: the keys are read again and the row naming it loads.
    let accounts = write(
        "accounts_20261128.csv",
        "account_no,cif_no,product_code,currency,org_code,opened_on\n\
         6222777,100001,DEP,CNY,BR1,2026-11-28\n",
    );
    let defined = import(&store, &facts, &accounts, &run).await;
    assert!(
        matches!(defined, FileOutcome::Imported { .. }),
        "{defined:?}"
    );
    let fourth = import(&store, &facts, &balances(28, "6222777"), &run).await;
    assert!(imported(&fourth), "{fourth:?}");
    assert_eq!(run.references.reads(), 2);
    // An account nobody defined is still refused with the kept keys.
    let unknown = import(&store, &facts, &balances(29, "6222999"), &run).await;
    assert!(
        matches!(unknown, FileOutcome::Refused { .. }),
        "{unknown:?}"
    );
    assert_eq!(run.references.reads(), 2);
}

/// Account parties: a joint owner may be named by a balance of the joint account; an
/// authorised user may not (the account is not theirs); the account's own customer cannot be
/// listed as merely authorised on it.
async fn a_joint_owner_may_be_named_by_a_fact_row_and_an_authorised_user_may_not(store: Store) {
    let dir = tempfile::tempdir().unwrap();
    crate::known_parties(&store, dir.path()).await;
    let facts = FactWriter::new(dir.path().join("facts"));
    let parties = dir.path().join("account_parties_20261126.csv");
    fs::write(
        &parties,
        "account_no,cif_no,role,since\n\
         6222003,1001,owner,2021-01-01\n\
         6222002,100001,authorised,\n\
         6222001,100001,authorised,\n\
         6229999,1001,owner,\n",
    )
    .unwrap();
    let (outcome, rejects) = crate::import_collecting(
        &store,
        &facts,
        &parties,
        &options(false, RejectLimit::Count(5)),
    )
    .await;
    let FileOutcome::Imported { report, .. } = outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!((report.loaded, report.rejected), (2, 2), "{rejects:?}");
    let shown: Vec<_> = rejects
        .iter()
        .map(|r| (r.line, r.field.as_str(), r.code))
        .collect();
    use kam_ingest::RejectCode::{Rule, UnknownReference};
    assert_eq!(
        shown,
        [(4, "role", Rule), (5, "account_no", UnknownReference)]
    );
    let balances = dir.path().join("balances_20261127.csv");
    fs::write(
        &balances,
        "business_date,account_no,cif_no,currency,balance\n\
         2026-11-27,6222003,1001,CNY,20.00\n\
         2026-11-27,6222002,100001,CNY,40.00\n",
    )
    .unwrap();
    let (outcome, rejects) = crate::import_collecting(
        &store,
        &facts,
        &balances,
        &options(false, RejectLimit::Count(5)),
    )
    .await;
    let FileOutcome::Imported { report, .. } = outcome else {
        panic!("{outcome:?}");
    };
    // The joint owner's row loads (line 2); the authorised user's is refused (line 3).
    let shown: Vec<_> = rejects.iter().map(|r| (r.line, r.code)).collect();
    assert_eq!(shown, [(3, Rule)], "{rejects:?}");
    assert_eq!(report.loaded, 1);
}

/// A transaction id an earlier batch committed — of the same business date or the day before or
/// after — is a duplicate, counted as one and left out; further apart it is a new transaction,
/// and a corrected file that replaces its batch is not a duplicate of what it replaces.
async fn a_transaction_id_committed_by_an_earlier_batch_is_a_duplicate(store: Store) {
    let dir = tempfile::tempdir().unwrap();
    crate::known_parties(&store, dir.path()).await;
    let facts = FactWriter::new(dir.path().join("facts"));
    let header = "business_date,txn_id,account_no,cif_no,direction,amount,currency\n";
    let import = |name: &str, rows: &[&str], replace: bool| {
        let path = dir.path().join(name);
        let date = &name[13..21];
        let date = format!("{}-{}-{}", &date[..4], &date[4..6], &date[6..]);
        let mut text = header.to_owned();
        for id in rows {
            text.push_str(&format!("{date},{id},6222001,100001,credit,1.00,CNY\n"));
        }
        fs::write(&path, text).unwrap();
        let store = store.clone();
        let facts = facts.clone();
        async move {
            crate::import_collecting(
                &store,
                &facts,
                &path,
                &options(replace, RejectLimit::Count(5)),
            )
            .await
        }
    };
    let counts = |outcome: &FileOutcome| match outcome {
        FileOutcome::Imported { report, .. } => (report.loaded, report.duplicates),
        other => panic!("{other:?}"),
    };
    let (first, _) = import("transactions_20261127.csv", &["T1", "T2"], false).await;
    assert_eq!(counts(&first), (2, 0));
    // The same day's second file repeats T2.
    let (late, rejects) = import("transactions_20261127_late.csv", &["T2", "T3"], false).await;
    assert_eq!(counts(&late), (1, 1));
    assert_eq!(
        rejects
            .iter()
            .map(|r| (r.line, r.field.as_str(), r.value.as_str(), r.code))
            .collect::<Vec<_>>(),
        [(2, "txn_id", "T2", kam_ingest::RejectCode::DuplicateKey)]
    );
    assert!(
        rejects[0]
            .message_en
            .contains("committed by an earlier batch")
    );
    // The next day's file repeats T1; two days later T1 is another transaction.
    let (next, _) = import("transactions_20261128.csv", &["T1", "T4"], false).await;
    assert_eq!(counts(&next), (1, 1));
    let (later, _) = import("transactions_20261130.csv", &["T1"], false).await;
    assert_eq!(counts(&later), (1, 0));
    // A corrected first file replaces its batch: its own ids are not duplicates of it, T3 (the
    // late file's) is.
    let (corrected, _) = import("transactions_20261127.csv", &["T1", "T2", "T3", "T5"], true).await;
    let FileOutcome::Imported { replaced, .. } = &corrected else {
        panic!("{corrected:?}");
    };
    assert!(replaced.is_some());
    assert_eq!(counts(&corrected), (3, 1));
}

/// With `unknown_reference = "hold"`, a balance naming a customer or account not defined yet is
/// held, not rejected: the batch counts it apart; after the master data arrives the release
/// loads it as a batch of its own, once (a second release finds nothing); rows whose master data
/// never comes are rejected when a batch past their last day has been committed.
async fn rows_naming_master_data_not_yet_there_are_held_until_it_arrives(store: Store) {
    let dir = tempfile::tempdir().unwrap();
    crate::known_parties(&store, dir.path()).await;
    let facts = FactWriter::new(dir.path().join("facts"));
    let mapping = Mapping::parse(
        "hold.toml",
        "version = 1\n[kinds.balances]\nfiles = \"balances_*\"\nunknown_reference = \"hold\"\nhold_days = 2\n\
         [kinds.customers]\nfiles = \"customers_*\"\n[kinds.accounts]\nfiles = \"accounts_*\"\n",
    )
    .unwrap();
    let actor = Actor::system("test");
    let import = |name: &str, text: &str| {
        let path = dir.path().join(name);
        fs::write(&path, text).unwrap();
        let (store, facts, mapping) = (store.clone(), facts.clone(), mapping.clone());
        async move {
            crate::import_mapped(
                &store,
                &facts,
                &mapping,
                &path,
                &options(false, RejectLimit::Count(1)),
            )
            .await
        }
    };
    let release = || {
        let (store, facts, actor) = (store.clone(), facts.clone(), actor.clone());
        async move {
            let mut rejects = Vec::new();
            let released = kam_ingest::import::release_held(
                &store,
                &facts,
                &options(false, RejectLimit::Count(0)),
                &actor,
                kam_ingest::import::Feedback {
                    rejects: &mut rejects,
                    progress: &mut |_, _| {},
                },
            )
            .await
            .unwrap();
            (released, rejects)
        }
    };
    let header = "business_date,account_no,cif_no,currency,balance\n";
    // 6222009 and customer 1009 arrive tomorrow; 6222404 never does.
    let (outcome, rejects) = import(
        "balances_20261127.csv",
        &format!(
            "{header}2026-11-27,6222001,100001,CNY,10.00\n2026-11-27,6222009,1009,CNY,20.00\n\
             2026-11-27,6222404,1001,CNY,40.00\n2026-11-27,6222003,1001,CNY,80.00\n"
        ),
    )
    .await;
    let FileOutcome::Imported {
        report, batch_id, ..
    } = outcome
    else {
        panic!("{outcome:?} {rejects:?}");
    };
    // Another customer's account is still a rule violation: rejected, not held.
    assert_eq!(
        (
            report.rows_read,
            report.loaded,
            report.rejected,
            report.held
        ),
        (4, 1, 1, 2),
        "{rejects:?}"
    );
    assert_eq!(report.amount_sums["balance"], 1_000);
    let batch = store.import_batch(&batch_id).await.unwrap();
    assert_eq!((batch.loaded, batch.rejected, batch.held), (1, 1, 2));
    // Nothing has arrived: the release commits nothing, the rows wait.
    let (released, _) = release().await;
    assert_eq!(released.len(), 1);
    assert!(released[0].still_held(), "{released:?}");
    assert_eq!(crate::fact_batches(&store).await.len(), 1);
    // The master data arrives; the release loads one row and holds the other on.
    import(
        "customers_20261128.csv",
        "cif_no,kind,name,line,org_code,industry,account_type,risk_tolerance,id_number,phone,since\n\
         1009,corporate,丁公司,corporate,BR1,C,,,,,2020-01-01\n",
    )
    .await;
    import(
        "accounts_20261128.csv",
        "account_no,cif_no,product_code,currency,org_code,opened_on\n6222009,1009,DEP,CNY,BR1,2020-01-02\n",
    )
    .await;
    let (released, _) = release().await;
    let FileOutcome::Imported { report, .. } = &released[0].outcome else {
        panic!("{released:?}");
    };
    assert_eq!((report.loaded, report.rejected, report.held), (1, 0, 1));
    assert_eq!(report.amount_sums["balance"], 2_000);
    // Released once: the next release sees only the row still held.
    let (released, _) = release().await;
    assert_eq!(released.len(), 1);
    assert!(released[0].still_held());
    // A later day past the last one (2026-11-29) is committed: the last row is rejected.
    import(
        "balances_20261130.csv",
        &format!("{header}2026-11-30,6222001,100001,CNY,10.00\n"),
    )
    .await;
    let (released, rejects) = release().await;
    assert!(released[0].expired);
    let FileOutcome::Imported { report, .. } = &released[0].outcome else {
        panic!("{released:?}");
    };
    assert_eq!((report.loaded, report.rejected, report.held), (0, 1, 0));
    assert_eq!(rejects[0].value, "6222404");
    assert_eq!(rejects[0].code, kam_ingest::RejectCode::UnknownReference);
    let (released, _) = release().await;
    assert!(released.is_empty(), "no held file is left: {released:?}");
}

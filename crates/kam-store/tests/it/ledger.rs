//! The import ledger on both back ends: commit, replace as one swap, revert, and undoing a
//! pending batch left by an interrupted run.

use chrono::NaiveDate;
use kam_store::{BatchState, Error, NewImportBatch, Store};

use crate::fixture::system;

crate::on_both_backends!(
    a_batch_is_pending_until_committed_and_a_slot_holds_one_committed_batch,
    a_replacement_swaps_the_committed_batch_in_one_step,
    a_reverted_batch_no_longer_counts,
    a_pending_batch_can_be_forgotten,
);

fn batch(id: &str, hash: &str) -> NewImportBatch {
    NewImportBatch {
        batch_id: id.into(),
        kind: "transactions".into(),
        business_date: NaiveDate::from_ymd_opt(2026, 11, 27).unwrap(),
        file_name: "transactions_20261127.csv".into(),
        content_hash: hash.into(),
        rows_read: 10,
        loaded: 9,
        rejected: 1,
        duplicates: 0,
        held: 0,
        amount_total_minor: 123_456,
        rejects: Vec::new(),
    }
}

fn date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 27).unwrap()
}

async fn a_batch_is_pending_until_committed_and_a_slot_holds_one_committed_batch(store: Store) {
    store
        .begin_import_batch(&system(), &batch("b1", "h1"))
        .await
        .unwrap();
    assert!(
        store
            .committed_batch_ids("transactions")
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.pending_batches().await.unwrap().len(), 1);
    store
        .commit_import_batch(&system(), "b1", None)
        .await
        .unwrap();
    assert_eq!(
        store.committed_batch_ids("transactions").await.unwrap(),
        vec!["b1"]
    );
    let same = store
        .committed_batch_with_content("transactions", date(), "h1")
        .await
        .unwrap();
    assert_eq!(same.unwrap().loaded, 9);
    // A second file for the same slot cannot simply be committed beside the first.
    store
        .begin_import_batch(&system(), &batch("b2", "h2"))
        .await
        .unwrap();
    let error = store
        .commit_import_batch(&system(), "b2", None)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Conflict { .. }), "{error}");
    assert_eq!(
        store.committed_batch_ids("transactions").await.unwrap(),
        vec!["b1"]
    );
}

async fn a_replacement_swaps_the_committed_batch_in_one_step(store: Store) {
    store
        .begin_import_batch(&system(), &batch("b1", "h1"))
        .await
        .unwrap();
    store
        .commit_import_batch(&system(), "b1", None)
        .await
        .unwrap();
    store
        .begin_import_batch(&system(), &batch("b2", "h2"))
        .await
        .unwrap();
    store
        .commit_import_batch(&system(), "b2", Some("b1"))
        .await
        .unwrap();
    assert_eq!(
        store.committed_batch_ids("transactions").await.unwrap(),
        vec!["b2"]
    );
    let states: Vec<_> = store
        .import_batches()
        .await
        .unwrap()
        .into_iter()
        .map(|b| (b.batch_id, b.state))
        .collect();
    assert_eq!(
        states,
        vec![
            ("b1".into(), BatchState::Replaced),
            ("b2".into(), BatchState::Committed)
        ]
    );
    assert!(
        store
            .committed_batch_in_slot("transactions", date(), "transactions_20261127.csv")
            .await
            .unwrap()
            .is_some()
    );
}

async fn a_reverted_batch_no_longer_counts(store: Store) {
    store
        .begin_import_batch(&system(), &batch("b1", "h1"))
        .await
        .unwrap();
    store
        .commit_import_batch(&system(), "b1", None)
        .await
        .unwrap();
    let reverted = store.revert_import_batch(&system(), "b1").await.unwrap();
    assert_eq!(reverted.state, BatchState::Reverted);
    assert!(
        store
            .committed_batch_ids("transactions")
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        store.revert_import_batch(&system(), "b1").await,
        Err(Error::NotFound { .. })
    ));
    assert_eq!(
        store
            .audit_events(Some("import_batch"), 10)
            .await
            .unwrap()
            .len(),
        3
    );
}

async fn a_pending_batch_can_be_forgotten(store: Store) {
    store
        .begin_import_batch(&system(), &batch("b1", "h1"))
        .await
        .unwrap();
    store.forget_pending_batch(&system(), "b1").await.unwrap();
    assert!(store.pending_batches().await.unwrap().is_empty());
    assert!(store.import_batches().await.unwrap().is_empty());
}

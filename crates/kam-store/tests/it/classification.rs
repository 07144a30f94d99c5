//! The batch's classifications and alerts in the store, on both back ends: what the batch reads
//! of each customer, classifications replaced whole and read through visibility, manual scores,
//! and alerts raised once — continuing, cleared, handled, and raised anew only after clearing.

use chrono::NaiveDate;
use kam_core::{
    alert::{AlertKind, AlertStatus},
    codec::{BoardScores, MonthSeries},
    customer::AccountType,
    value::Trend,
};
use kam_store::{AlertSync, Error, ScoreEntry, Seen, Store, StoredClass, StoredFinding};

use crate::fixture::{build, scope, system, today};

crate::on_both_backends!(
    the_batch_reads_flags_groups_and_lead_rms,
    classes_are_replaced_whole_and_read_through_visibility,
    manual_scores_are_set_replaced_and_audited,
    an_alert_is_raised_once_and_stays_until_handled_or_cleared,
);

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
}

async fn the_batch_reads_flags_groups_and_lead_rms(store: Store) {
    build(&store).await;
    let customers = store.batch_customers(today()).await.unwrap();
    let of = |cif: &str| customers.iter().find(|c| c.cif_no == cif).unwrap();
    assert!(of("C0001").group_member && of("C0001").has_lead_rm);
    assert!(of("C0003").group_member);
    assert!(!of("C0004").group_member && of("C0004").has_lead_rm);
    // C0002 has a team member but no lead.
    assert!(!of("C0002").has_lead_rm);
    assert_eq!(of("C0002").name, "客户C0002");
    // Before the assignments began nobody had a lead RM.
    let early = store
        .batch_customers(NaiveDate::from_ymd_opt(2024, 12, 31).unwrap())
        .await
        .unwrap();
    assert!(early.iter().all(|c| !c.has_lead_rm));
}

pub(crate) fn class(cif: &str, as_of: NaiveDate, starred: bool) -> StoredClass {
    StoredClass {
        cif_no: cif.into(),
        as_of,
        rule_id: "kam-default".into(),
        rule_version: 2,
        retail_tier: None,
        retail_tier_name: None,
        retail_tier_name_en: None,
        retail_indicator: "avg_aum_30d".into(),
        retail_value: Some(12_345),
        account_types: vec![AccountType::Group, AccountType::Economic],
        key_account: true,
        value_months: MonthSeries::parse("2026-09=100,2026-10=200").unwrap(),
        deposit_months: MonthSeries::parse("2026-09=1000000,2026-10=1200000").unwrap(),
        loan_months: MonthSeries::parse("2026-09=0,2026-10=500000").unwrap(),
        fee_months: MonthSeries::parse("2026-09=100,2026-10=0").unwrap(),
        value_total: 300,
        value_slope: Some(100.0),
        value_trend: Trend::Rising,
        value_score: 87,
        board: Some("key-account-board".into()),
        board_scores: Some(BoardScores::parse("relationship=-,scale=7").unwrap()),
        board_total: Some(7),
        board_average: Some(5.5),
        starred,
    }
}

async fn classes_are_replaced_whole_and_read_through_visibility(store: Store) {
    build(&store).await;
    let everything = scope(&store, "ho.kam").await;
    store
        .save_classes(
            &system(),
            day(27),
            &[
                class("C0001", day(27), true),
                class("C0003", day(27), false),
            ],
        )
        .await
        .unwrap();
    let written = store
        .save_classes(
            &system(),
            day(28),
            &[
                class("C0001", day(28), false),
                class("NOBODY", day(28), true),
            ],
        )
        .await
        .unwrap();
    assert_eq!(written, 1, "the unknown customer is skipped");
    assert_eq!(
        everything.class_of("C0001").await.unwrap(),
        class("C0001", day(28), false)
    );
    // The earlier run's C0003 is gone: a run replaces the whole table.
    assert!(everything.class_of("C0003").await.is_err());
    // rm.corp.c sees neither C0001 (another branch) nor its class.
    let rm_c = scope(&store, "rm.corp.c").await;
    assert!(matches!(
        rm_c.class_of("C0001").await,
        Err(Error::NotFound { .. })
    ));
    assert!(rm_c.classes().await.unwrap().is_empty());
    assert_eq!(everything.classes().await.unwrap().len(), 1);
}

async fn manual_scores_are_set_replaced_and_audited(store: Store) {
    build(&store).await;
    let ho = scope(&store, "ho.kam").await;
    ho.set_manual_scores(
        "C0001",
        "board",
        &[ScoreEntry::new("relationship", 7, Seen::Unchecked)],
    )
    .await
    .unwrap();
    ho.set_manual_scores(
        "C0001",
        "board",
        &[ScoreEntry::new("relationship", 9, Seen::Unchecked)],
    )
    .await
    .unwrap();
    ho.set_manual_scores(
        "C0003",
        "board",
        &[ScoreEntry::new("policy", 3, Seen::Unchecked)],
    )
    .await
    .unwrap();
    let scores = store.manual_scores("board").await.unwrap();
    assert_eq!(scores.len(), 2);
    assert_eq!(scores[&("C0001".to_owned(), "relationship".to_owned())], 9);
    assert!(store.manual_scores("other").await.unwrap().is_empty());
    assert!(matches!(
        ho.set_manual_scores(
            "NOBODY",
            "board",
            &[ScoreEntry::new("policy", 3, Seen::Unchecked)]
        )
        .await,
        Err(Error::NotFound { .. })
    ));
    // Roles that may only look write nothing, and the refusal is in the trail; a customer out of
    // reach is not found, as if it did not exist.
    for (who, cif, refused_as_read_only) in [
        ("auditor", "C0001", true),
        ("risk.b1", "C0001", true),
        // C0003 is a member of a group 支行A leads: in risk.b1's reach, but only to read.
        ("risk.b1", "C0003", true),
        ("rm.corp.c", "C0001", false),
    ] {
        let answer = scope(&store, who)
            .await
            .set_manual_scores(
                cif,
                "board",
                &[ScoreEntry::new("relationship", 1, Seen::Unchecked)],
            )
            .await;
        if refused_as_read_only {
            assert!(matches!(answer, Err(Error::ReadOnly)), "{who}: {answer:?}");
        } else {
            assert!(
                matches!(answer, Err(Error::NotFound { .. })),
                "{who}: {answer:?}"
            );
        }
    }
    assert_eq!(
        store.manual_scores("board").await.unwrap(),
        scores,
        "nothing written"
    );
    let events = store.audit_events(None, 100).await.unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e.action == "score" && e.entity_key == "C0001/board/relationship")
            .count(),
        2
    );
    assert_eq!(
        events
            .iter()
            .filter(|e| e.action == "score_refused" && e.entity_key == "C0001/board/relationship")
            .count(),
        3,
        "the auditor's and the risk officer's refusals, and the out-of-reach RM's"
    );
    // The page reads them with who and when, and a form's write checks what it showed: two
    // people who opened the same score do not silently overwrite each other.
    let shown = ho.board_manual_scores("board").await.unwrap();
    assert_eq!(
        shown
            .iter()
            .map(|s| (s.cif_no.as_str(), s.criterion.as_str(), s.score))
            .collect::<Vec<_>>(),
        [("C0001", "relationship", 9), ("C0003", "policy", 3)]
    );
    assert!(
        shown
            .iter()
            .all(|s| s.entered_by == "ho.kam" && !s.entered_at.is_empty())
    );
    let seen = Seen::At(shown[0].entered_at.clone());
    ho.set_manual_scores(
        "C0001",
        "board",
        &[ScoreEntry::new("relationship", 5, seen.clone())],
    )
    .await
    .unwrap();
    assert!(matches!(
        ho.set_manual_scores(
            "C0001",
            "board",
            &[ScoreEntry::new("relationship", 1, seen.clone())]
        )
        .await,
        Err(Error::Conflict { .. })
    ));
    assert!(matches!(
        ho.set_manual_scores(
            "C0001",
            "board",
            &[ScoreEntry::new("relationship", 1, Seen::Nothing)]
        )
        .await,
        Err(Error::Conflict { .. })
    ));
    assert_eq!(
        store.manual_scores("board").await.unwrap()
            [&("C0001".to_owned(), "relationship".to_owned())],
        5,
        "the stale writes wrote nothing"
    );
    ho.set_manual_scores(
        "C0001",
        "board",
        &[ScoreEntry::new("potential", 7, Seen::Nothing)],
    )
    .await
    .unwrap();
    // A row of the form is one write: a stale second score leaves the first unwritten too.
    let before = store.manual_scores("board").await.unwrap();
    assert!(matches!(
        ho.set_manual_scores(
            "C0001",
            "board",
            &[
                ScoreEntry::new("policy", 9, Seen::Nothing),
                ScoreEntry::new("potential", 1, Seen::Nothing),
            ]
        )
        .await,
        Err(Error::Conflict { .. })
    ));
    assert_eq!(store.manual_scores("board").await.unwrap(), before);
    ho.set_manual_scores(
        "C0001",
        "board",
        &[
            ScoreEntry::new("policy", 9, Seen::Nothing),
            ScoreEntry::new("relationship", 3, Seen::Unchecked),
        ],
    )
    .await
    .unwrap();
    let after = store.manual_scores("board").await.unwrap();
    assert_eq!(after[&("C0001".to_owned(), "policy".to_owned())], 9);
    assert_eq!(after[&("C0001".to_owned(), "relationship".to_owned())], 3);
    // rm.corp.c does not reach C0001: none of its scores.
    assert!(
        scope(&store, "rm.corp.c")
            .await
            .board_manual_scores("board")
            .await
            .unwrap()
            .iter()
            .all(|s| s.cif_no != "C0001")
    );
}

fn finding(cif: &str, kind: &str, evidence: &str) -> StoredFinding {
    StoredFinding {
        cif_no: cif.into(),
        kind: AlertKind::parse(kind).unwrap(),
        tier: 2,
        evidence: evidence.into(),
        thresholds: "tier=2".into(),
    }
}

async fn an_alert_is_raised_once_and_stays_until_handled_or_cleared(store: Store) {
    build(&store).await;
    let actor = system();
    let everything = scope(&store, "ho.kam").await;
    let sync = |d: u32, findings: Vec<StoredFinding>| {
        let store = store.clone();
        let actor = actor.clone();
        async move {
            store
                .sync_alerts(&actor, day(d), "kam-default", 2, &findings)
                .await
                .unwrap()
        }
    };
    let night = vec![
        finding("C0001", "dormant", "idle_days=40"),
        finding("C0003", "deposit_drop", "drop=1"),
        finding("NOBODY", "dormant", "idle_days=1"),
    ];
    assert_eq!(
        sync(20, night.clone()).await,
        AlertSync {
            raised: 2,
            continuing: 0,
            cleared: 0,
            skipped: false
        }
    );
    // The same findings the next night, and a re-run of that night: nothing new.
    for _ in 0..2 {
        assert_eq!(
            sync(21, night.clone()).await,
            AlertSync {
                raised: 0,
                continuing: 2,
                cleared: 0,
                skipped: false
            }
        );
    }
    // A backfill of an older date leaves them alone.
    assert!(sync(19, vec![]).await.skipped);
    let alerts = everything.alerts(true).await.unwrap();
    assert_eq!(alerts.len(), 2);
    let dormant = alerts
        .iter()
        .find(|a| a.kind == AlertKind::Dormant)
        .unwrap();
    assert_eq!(
        (dormant.raised_on, dormant.last_seen_on),
        (day(20), day(21))
    );
    assert_eq!(dormant.evidence, "idle_days=40");
    // rm.corp.c sees only its own customer's alert, and cannot handle the other.
    let rm_c = scope(&store, "rm.corp.c").await;
    let visible = rm_c.alerts(false).await.unwrap();
    assert_eq!(visible.len(), 1);
    assert_eq!(visible[0].cif_no, "C0003");
    assert!(matches!(
        rm_c.handle_alert(dormant.id, "no").await,
        Err(Error::NotFound { .. })
    ));
    // Handled: out of the open list, not raised again while the condition holds.
    everything
        .handle_alert(dormant.id, "visited, funds return next week")
        .await
        .unwrap();
    assert_eq!(everything.alerts(true).await.unwrap().len(), 1);
    assert_eq!(sync(22, night.clone()).await.raised, 0);
    // The deposit drop clears: resolved. The dormancy clears too: it stays handled.
    assert_eq!(
        sync(23, vec![]).await,
        AlertSync {
            raised: 0,
            continuing: 0,
            cleared: 2,
            skipped: false
        }
    );
    let all = everything.alerts(false).await.unwrap();
    let status = |kind: AlertKind| {
        all.iter()
            .find(|a| a.kind == kind)
            .map(|a| (a.status, a.cleared_on))
            .unwrap()
    };
    assert_eq!(
        status(AlertKind::DepositDrop),
        (AlertStatus::Resolved, Some(day(23)))
    );
    assert_eq!(
        status(AlertKind::Dormant),
        (AlertStatus::Handled, Some(day(23)))
    );
    // Active on a date: raised by then and not yet cleared, whatever the status.
    assert_eq!(everything.alerts_active_on(day(22)).await.unwrap().len(), 2);
    assert!(
        everything
            .alerts_active_on(day(23))
            .await
            .unwrap()
            .is_empty()
    );
    // A new occurrence after clearing is a new alert; history keeps the old one.
    assert_eq!(sync(24, night).await.raised, 2);
    assert_eq!(everything.alerts(false).await.unwrap().len(), 4);
    assert_eq!(everything.alerts(true).await.unwrap().len(), 2);
}

//! kam-app's use cases on a real SQLite file with a synthetic bank, each told its day (no clock).

use chrono::NaiveDate;
use kam_app::{
    board,
    export::{self, Format},
};
use kam_core::{
    alert::AlertKind,
    password::{HashCost, hash_password},
    rules::Rules,
    user::Role,
};
use kam_store::{CustomerFilter, DatabaseUrl, Store, StoredFinding, UserStore};
use kam_synth::{Bank, Scale, SynthConfig};

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()
}

async fn bank(dir: &std::path::Path) -> Store {
    let store = Store::open(&DatabaseUrl::sqlite_file(dir.join("kam.db")))
        .await
        .unwrap();
    let bank = Bank::generate(SynthConfig::new(Scale::Tiny, 5));
    let data = &bank.reference;
    let hash = hash_password("Kam-2026-test", &[5; 16], HashCost::Cheap);
    store
        .bulk_load(
            &kam_store::Actor::system("test"),
            data,
            &vec![hash; data.users.len()],
        )
        .await
        .unwrap();
    store
}

/// The first user of `role` who sees at least one customer, with one customer they see.
async fn someone(store: &Store, role: Role) -> (UserStore, String) {
    for user in store.list_users().await.unwrap() {
        if user.role != role || user.disabled {
            continue;
        }
        let handle = store.for_user(&user, day()).await.unwrap();
        let seen = handle
            .find_customers(&CustomerFilter {
                limit: 1,
                ..CustomerFilter::default()
            })
            .await
            .unwrap();
        if let Some(customer) = seen.first() {
            return (handle, customer.cif_no.to_string());
        }
    }
    panic!("the tiny bank has a {role:?} who sees a customer");
}

#[tokio::test]
async fn a_manual_score_is_checked_against_the_rules_and_the_reader_before_it_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let store = bank(dir.path()).await;
    let rules = Rules::builtin();
    let board_id = rules.scoring.id.clone();
    let (rm, cif) = someone(&store, Role::RelationshipManager).await;
    let refused = [
        // An indicator's criterion is computed, not entered; 4 is not on the scale.
        board::set(&rm, &rules, &cif, "scale", 7).await,
        board::set(&rm, &rules, &cif, "relationship", 4).await,
        // A customer that does not exist is not found, like one out of reach.
        board::set(&rm, &rules, "no-such-customer", "relationship", 7).await,
    ];
    for answer in &refused {
        assert!(answer.is_err(), "{answer:?}");
    }
    let (auditor, seen) = someone(&store, Role::Auditor).await;
    let read_only = board::set(&auditor, &rules, &seen, "relationship", 7).await;
    assert!(
        read_only
            .as_ref()
            .is_err_and(|e| e.to_string().contains("may look but not enter scores")),
        "{read_only:?}"
    );
    assert!(store.manual_scores(&board_id).await.unwrap().is_empty());
    board::set(&rm, &rules, &cif, "relationship", 7)
        .await
        .unwrap();
    let scores = store.manual_scores(&board_id).await.unwrap();
    assert_eq!(scores.get(&(cif, "relationship".to_owned())), Some(&7));
}

#[tokio::test]
async fn an_export_holds_only_what_its_user_may_see_and_is_audited() {
    let dir = tempfile::tempdir().unwrap();
    let store = bank(dir.path()).await;
    let every = store
        .whole_bank("test", day())
        .find_customers(&CustomerFilter {
            limit: 1_000_000,
            ..CustomerFilter::default()
        })
        .await
        .unwrap();
    let findings: Vec<StoredFinding> = every
        .iter()
        .map(|c| StoredFinding {
            cif_no: c.cif_no.to_string(),
            kind: AlertKind::Dormant,
            tier: 3,
            evidence: "idle".into(),
            thresholds: "days=90".into(),
        })
        .collect();
    store
        .sync_alerts(
            &kam_store::Actor::system("test"),
            day(),
            "kam-default",
            1,
            &findings,
        )
        .await
        .unwrap();
    let (rm, _) = someone(&store, Role::RelationshipManager).await;
    let username = rm.user().unwrap().username.to_string();
    let mine = rm.alerts(false).await.unwrap().len();
    assert!(0 < mine && mine < every.len(), "{mine} of {}", every.len());
    let out = dir.path().join("alerts.csv");
    let written = export::alerts(&store, day(), Some(&username), Format::Csv, &out)
        .await
        .unwrap();
    assert_eq!(written.rows, mine, "the RM's alerts, no one else's");
    let lines = std::fs::read_to_string(&out).unwrap().lines().count();
    assert_eq!(lines, mine + 1, "a header and a line per alert");
    let whole = export::alerts(&store, day(), None, Format::Csv, &out)
        .await
        .unwrap();
    assert_eq!(whole.rows, every.len());
    let exports: Vec<_> = store
        .audit_events(Some("export"), 10)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "export")
        .map(|e| e.actor)
        .collect();
    assert_eq!(
        exports,
        ["system:export".to_owned(), username],
        "newest first"
    );
}

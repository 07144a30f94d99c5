//! The store's behaviour, identical on SQLite and PostgreSQL.

use chrono::NaiveDate;
use kam_core::{
    assignment::AssignmentRole,
    contact::{ContactRole, NewKeyPerson, RelationshipStage},
    customer::{AccountType, CifNo, CustomerKind, NewCustomer},
    org::{Line, NewOrgUnit, OrgKind},
    password::{HashCost, hash_password},
    user::{NewUser, Role},
};
use kam_store::{CustomerFilter, Error, Store};

use crate::fixture::{self, scope, system};

crate::on_both_backends!(
    migrating_twice_is_a_no_op,
    a_database_from_a_newer_kam_is_refused,
    a_unit_must_sit_exactly_one_level_below_its_parent,
    duplicate_business_keys_are_a_conflict,
    every_change_writes_the_audit_trail,
    a_lead_handover_keeps_the_history,
    key_people_are_added_and_read_back,
    a_key_person_is_edited_by_version_and_retired_with_a_reason,
    a_disabled_user_sees_nothing,
    customer_search_matches_number_prefix_and_name,
);

async fn migrating_twice_is_a_no_op(store: Store) {
    let again = store.migrate().await.unwrap();
    assert_eq!(again.applied_now, 0);
    assert_eq!(again.schema_version, store.known_schema_version());
}

async fn a_database_from_a_newer_kam_is_refused(store: Store) {
    fixture::build(&store).await;
    kam_store::testing::pretend_newer_schema(&store).await;
    let error = store.migrate().await.unwrap_err();
    assert!(matches!(error, Error::SchemaTooNew { .. }), "{error}");
    // Refused, not damaged: the data is still there.
    let auditor = scope(&store, "auditor").await;
    assert_eq!(
        auditor
            .count_customers(&CustomerFilter::default())
            .await
            .unwrap(),
        5
    );
}

async fn a_unit_must_sit_exactly_one_level_below_its_parent(store: Store) {
    fixture::build(&store).await;
    let skipping = NewOrgUnit::parse("0999", "越级支行", OrgKind::SubBranch, Some("0100")).unwrap();
    let error = store
        .create_org_unit(&system(), &skipping)
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::Invalid(ref e) if e.field == "parent_code"),
        "{error}"
    );
    let units = store.list_org_units().await.unwrap();
    assert_eq!(units.len(), 8);
    assert_eq!(units[0].code, "001", "the head office comes first");
    let sub_c = units.iter().find(|u| u.code == "0211").unwrap();
    assert_eq!(sub_c.path.depth(), 4);
}

async fn duplicate_business_keys_are_a_conflict(store: Store) {
    fixture::build(&store).await;
    let again = NewCustomer {
        cif_no: CifNo::parse("C0001").unwrap(),
        kind: CustomerKind::Corporate,
        name: "重复客户".into(),
        line: Line::Corporate,
        org_unit_code: "0111".into(),
        industry: None,
        account_type: AccountType::Ordinary,
        risk_tolerance: None,
        id_number: None,
        phone: None,
        since: fixture::today(),
        birth_date: None,
        sex: None,
    };
    let error = store.create_customer(&system(), &again).await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::Conflict {
                entity: "customer",
                ..
            }
        ),
        "{error}"
    );
    let user = NewUser::parse("auditor", "重复", Role::Auditor, "001", None).unwrap();
    let error = store.create_user(&system(), &user, "x").await.unwrap_err();
    assert!(
        matches!(error, Error::Conflict { entity: "user", .. }),
        "{error}"
    );
}

async fn every_change_writes_the_audit_trail(store: Store) {
    let fixture = fixture::build(&store).await;
    let before = store.audit_events(None, 10_000).await.unwrap().len();
    let president = fixture::user(&store, "president.a").await;
    let scope = store.for_user(&president, fixture::today()).await.unwrap();
    let person = NewKeyPerson::parse(
        "张总",
        ContactRole::DecisionMaker,
        Some("董事长"),
        [3, 4, 2],
        RelationshipStage::Deepen,
    )
    .unwrap();
    scope
        .add_key_person(fixture.c_corp_a, &person)
        .await
        .unwrap();
    let events = store.audit_events(Some("key_person"), 10).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].actor, "president.a");
    assert_eq!(events[0].entity_key, "C0001");
    assert_eq!(
        store.audit_events(None, 10_000).await.unwrap().len(),
        before + 1
    );
}

async fn a_lead_handover_keeps_the_history(store: Store) {
    let fixture = fixture::build(&store).await;
    let manager = scope(&store, "manager.b1").await;
    let handover = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
    // rm.corp.a leads C0001; hand it to rm.retail.a? No — to a corporate colleague we create.
    let colleague = NewUser::parse(
        "rm.corp.a2",
        "同事",
        Role::RelationshipManager,
        "0111",
        Some(Line::Corporate),
    )
    .unwrap();
    store
        .create_user(
            &system(),
            &colleague,
            &hash_password("Kam-2026-x", &[2; 16], HashCost::Cheap),
        )
        .await
        .unwrap();
    manager
        .assign_rm(
            fixture.c_corp_a,
            "rm.corp.a2",
            AssignmentRole::Lead,
            handover,
        )
        .await
        .unwrap();
    let history = manager.assignment_history(fixture.c_corp_a).await.unwrap();
    let leads: Vec<_> = history
        .iter()
        .filter(|a| a.role == AssignmentRole::Lead)
        .collect();
    assert_eq!(leads.len(), 2, "the old lead row is kept");
    assert_eq!(leads[0].effective_to, Some(handover));
    assert_eq!(leads[1].effective_to, None);
    // A lead starting before the current one would rewrite history.
    let early = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let error = manager
        .assign_rm(fixture.c_corp_a, "rm.corp.a", AssignmentRole::Lead, early)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Invalid(_)), "{error}");
    // The old lead no longer has C0001 in the book as of today, but still sees it through the group.
    let old_lead = scope(&store, "rm.corp.a").await;
    assert!(old_lead.customer(fixture.c_corp_a).await.is_ok());
}

async fn key_people_are_added_and_read_back(store: Store) {
    let fixture = fixture::build(&store).await;
    let rm = scope(&store, "rm.corp.a").await;
    let person = NewKeyPerson::parse(
        "李会计",
        ContactRole::Accountant,
        None,
        [2, 2, 1],
        RelationshipStage::Build,
    )
    .unwrap();
    rm.add_key_person(fixture.c_corp_a, &person).await.unwrap();
    let people = rm.key_people(fixture.c_corp_a).await.unwrap();
    assert_eq!(people.len(), 1);
    assert_eq!(people[0].role, ContactRole::Accountant);
    assert_eq!(people[0].trust.get(), 2);
    // Someone who cannot see the customer cannot list its key people either.
    let other = scope(&store, "rm.corp.c").await;
    assert!(matches!(
        other.key_people(fixture.c_corp_a).await,
        Err(Error::NotFound { .. })
    ));
}

async fn a_disabled_user_sees_nothing(store: Store) {
    fixture::build(&store).await;
    store
        .set_user_disabled(&system(), "ho.kam", true)
        .await
        .unwrap();
    let ho = scope(&store, "ho.kam").await;
    assert_eq!(
        ho.count_customers(&CustomerFilter::default())
            .await
            .unwrap(),
        0
    );
    assert!(matches!(
        store.set_user_disabled(&system(), "nobody", true).await,
        Err(Error::NotFound { .. })
    ));
}

async fn customer_search_matches_number_prefix_and_name(store: Store) {
    fixture::build(&store).await;
    let auditor = scope(&store, "auditor").await;
    let by_number = CustomerFilter {
        text: Some("C000".into()),
        ..Default::default()
    };
    assert_eq!(auditor.find_customers(&by_number).await.unwrap().len(), 4);
    let by_name = CustomerFilter {
        text: Some("P0001".into()),
        ..Default::default()
    };
    let found = auditor.find_customers(&by_name).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].kind, CustomerKind::Individual);
    let corporates = CustomerFilter {
        kind: Some(CustomerKind::Corporate),
        limit: 2,
        ..Default::default()
    };
    assert_eq!(auditor.find_customers(&corporates).await.unwrap().len(), 2);
    assert_eq!(auditor.count_customers(&corporates).await.unwrap(), 4);
    // LIKE wildcards typed by a user are taken literally.
    let wildcard = CustomerFilter {
        text: Some("%".into()),
        ..Default::default()
    };
    assert!(auditor.find_customers(&wildcard).await.unwrap().is_empty());
    let underscore = CustomerFilter {
        text: Some("C_001".into()),
        ..Default::default()
    };
    assert!(
        auditor
            .find_customers(&underscore)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn a_key_person_is_edited_by_version_and_retired_with_a_reason(store: Store) {
    use kam_core::contact::PersonDetails;
    let fixture = fixture::build(&store).await;
    let rm = scope(&store, "rm.corp.a").await;
    let today = fixture::today();
    let details = PersonDetails {
        phone: Some(kam_core::customer::Phone::parse("13800001234").unwrap()),
        birthday: NaiveDate::from_ymd_opt(1972, 5, 20),
        owner: Some("president.a".into()),
        notes: Some("每周三上午在厂区".into()),
    };
    let person = NewKeyPerson::parse(
        "王财务",
        ContactRole::FinanceHead,
        Some("财务总监"),
        [3, 3, 2],
        RelationshipStage::Build,
    )
    .unwrap()
    .with_details(details.clone());
    // Refused values name their field and write nothing.
    let mut unknown_owner = person.clone();
    unknown_owner.details.owner = Some("nobody".into());
    match rm.add_key_person(fixture.c_corp_a, &unknown_owner).await {
        Err(Error::Invalid(e)) => assert_eq!(e.field, "owner"),
        other => panic!("{other:?}"),
    }
    let mut unborn = person.clone();
    unborn.details.birthday = today.succ_opt();
    match rm.add_key_person(fixture.c_corp_a, &unborn).await {
        Err(Error::Invalid(e)) => assert_eq!(e.field, "birthday"),
        other => panic!("{other:?}"),
    }
    assert!(rm.key_people(fixture.c_corp_a).await.unwrap().is_empty());

    let id = rm.add_key_person(fixture.c_corp_a, &person).await.unwrap();
    let stored = rm.key_people(fixture.c_corp_a).await.unwrap().remove(0);
    assert_eq!((stored.id, stored.version), (id, 1));
    assert_eq!(stored.details, details);
    assert_eq!(stored.stage_since, Some(today));
    assert_eq!(
        stored.details.phone.as_ref().unwrap().masked(),
        "138****1234"
    );

    // An edit names the version it started from; a stale one writes nothing.
    let mut deeper = person.clone();
    deeper.stage = RelationshipStage::Deepen;
    deeper.closeness = kam_core::contact::Rating::new("closeness", 5).unwrap();
    let president = scope(&store, "president.a").await;
    assert_eq!(
        president
            .edit_key_person(fixture.c_corp_a, id, &deeper, 1)
            .await
            .unwrap(),
        2
    );
    assert!(matches!(
        rm.edit_key_person(fixture.c_corp_a, id, &person, 1).await,
        Err(Error::Conflict { .. })
    ));
    let now = rm.key_people(fixture.c_corp_a).await.unwrap().remove(0);
    assert_eq!(
        (now.stage, now.closeness.get(), now.version),
        (RelationshipStage::Deepen, 5, 2)
    );
    // Another customer's person, or one out of reach, is not found.
    assert!(matches!(
        rm.edit_key_person(fixture.c_corp_b, id, &person, 2).await,
        Err(Error::NotFound { .. })
    ));

    // Retired with a reason: gone from the list, kept in the table and the trail.
    match rm.retire_key_person(fixture.c_corp_a, id, " ", 2).await {
        Err(Error::Invalid(e)) => assert_eq!(e.field, "reason"),
        other => panic!("{other:?}"),
    }
    rm.retire_key_person(fixture.c_corp_a, id, "已调往集团总部", 2)
        .await
        .unwrap();
    assert!(rm.key_people(fixture.c_corp_a).await.unwrap().is_empty());
    assert!(matches!(
        rm.edit_key_person(fixture.c_corp_a, id, &person, 3).await,
        Err(Error::NotFound { .. })
    ));
    let trail = store.audit_events(Some("key_person"), 20).await.unwrap();
    let actions: Vec<&str> = trail.iter().map(|e| e.action.as_str()).collect();
    for action in ["add", "edit", "retire"] {
        assert!(actions.contains(&action), "{actions:?}");
    }
    assert!(trail.iter().any(|e| e.detail.contains("已调往集团总部")));
}

//! One writer per table: the import's merge, the bulk load and the single-row writes apply the
//! same kam-core rules — a group stays a tree, a new lead hands over and keeps the history — and
//! the database holds one open lead per customer even against SQL that skips the writer.

use chrono::NaiveDate;
use kam_core::{
    assignment::AssignmentRole,
    reference::{AssignmentRecord, MemberRecord},
};
use kam_store::{MasterChunk, NewImportBatch, RefusalKind, Store};

use crate::fixture::{self, system};

crate::on_both_backends!(
    merged_group_members_keep_each_group_a_tree,
    merged_leads_hand_over_and_keep_the_history,
    the_database_refuses_a_second_open_lead
);

fn batch(id: &str, kind: &str) -> NewImportBatch {
    NewImportBatch {
        batch_id: id.into(),
        kind: kind.into(),
        business_date: fixture::today(),
        file_name: format!("{id}.csv"),
        content_hash: id.into(),
        rows_read: 0,
        loaded: 0,
        rejected: 0,
        duplicates: 0,
        held: 0,
        amount_total_minor: 0,
        rejects: Vec::new(),
    }
}

fn member(group: &str, cif: &str, parent: Option<&str>) -> MemberRecord {
    MemberRecord {
        group_code: group.into(),
        cif_no: cif.into(),
        parent_cif_no: parent.map(str::to_owned),
    }
}

async fn members(store: &Store) -> Vec<(String, Option<String>)> {
    let handle = store.whole_bank("test", fixture::today());
    let view = handle.group_by_code("G001").await.unwrap();
    let nodes = handle.group_nodes(view.group.id).await.unwrap();
    let cif_of = |id| {
        nodes
            .iter()
            .find(|n| n.customer_id == id)
            .map(|n| n.cif_no.clone())
    };
    nodes
        .iter()
        .map(|n| (n.cif_no.clone(), n.parent_customer_id.and_then(cif_of)))
        .collect()
}

async fn merged_group_members_keep_each_group_a_tree(store: Store) {
    fixture::build(&store).await;
    // G001: C0001 is the root, C0003 hangs under it.
    let before = members(&store).await;
    assert_eq!(
        before,
        [
            ("C0001".into(), None),
            ("C0003".into(), Some("C0001".into()))
        ]
    );
    let mut merge = store.begin_merge().await.unwrap();
    let refused = merge
        .apply(
            &system(),
            MasterChunk::GroupMembers(vec![
                // A child before its parent in the file: it waits for it.
                member("G001", "C0004", Some("C0002")),
                member("G001", "C0002", Some("C0003")),
                // A second root, a cycle, a parent outside the group, its own parent.
                member("G001", "P0001", None),
                member("G001", "C0001", Some("C0004")),
                member("G001", "P0001", Some("C0009")),
                member("G001", "C0003", Some("C0003")),
            ]),
        )
        .await
        .unwrap();
    merge
        .commit(&system(), &batch("members-1", "group_member"), None)
        .await
        .unwrap();
    let refused: Vec<(usize, RefusalKind, &str)> = refused
        .iter()
        .map(|r| (r.index, r.kind, r.error.reason_en.as_str()))
        .collect();
    assert_eq!(
        refused,
        [
            (2, RefusalKind::Rule, "the group already has a root member"),
            (
                3,
                RefusalKind::Rule,
                "this would make the group tree a cycle"
            ),
            (4, RefusalKind::UnknownReference, refused[2].2),
            (5, RefusalKind::Rule, "a member cannot be its own parent"),
        ],
        "{refused:?}"
    );
    assert_eq!(
        members(&store).await,
        [
            ("C0001".into(), None),
            ("C0002".into(), Some("C0003".into())),
            ("C0003".into(), Some("C0001".into())),
            ("C0004".into(), Some("C0002".into())),
        ]
    );
    // A single-row write goes through the same rules.
    let handle = store.whole_bank("test", fixture::today());
    let group = handle.group_by_code("G001").await.unwrap().group.id;
    let p0001 = handle.customer_by_cif("P0001").await.unwrap().id;
    let answer = store.add_group_member(&system(), group, p0001, None).await;
    assert!(
        matches!(answer, Err(kam_store::Error::Invalid(ref e)) if e.field == "parent"),
        "{answer:?}"
    );
}

fn lead(cif: &str, rm: &str, from: &str, to: Option<&str>) -> AssignmentRecord {
    AssignmentRecord {
        cif_no: cif.into(),
        username: rm.into(),
        role: AssignmentRole::Lead,
        effective_from: from.parse().unwrap(),
        effective_to: to.map(|d| d.parse().unwrap()),
    }
}

async fn merged_leads_hand_over_and_keep_the_history(store: Store) {
    let fixture = fixture::build(&store).await;
    let handle = store.whole_bank("test", fixture::today());
    // C0004 is led by rm.corp.c since 2025-01-01 (the fixture).
    let rows = vec![
        lead("C0004", "president.a", "2026-03-01", None),
        // Before the lead that is open now: refused, nothing changes.
        lead("C0004", "rm.corp.a", "2024-06-01", None),
        // A closed period across a lead's: refused.
        lead("C0004", "rm.corp.a", "2025-06-01", Some("2025-07-01")),
    ];
    for round in 1..=2 {
        let mut merge = store.begin_merge().await.unwrap();
        let refused = merge
            .apply(&system(), MasterChunk::Assignments(rows.clone()))
            .await
            .unwrap();
        let counts = merge
            .commit(
                &system(),
                &batch(&format!("leads-{round}"), "rm_assignment"),
                None,
            )
            .await
            .unwrap();
        let refused: Vec<(usize, &str)> =
            refused.iter().map(|r| (r.index, r.error.field)).collect();
        assert_eq!(refused, [(1, "effective_from"), (2, "effective_from")]);
        // The first run hands over (one row closed, one inserted); the second changes nothing.
        let expected = if round == 1 { (1, 1) } else { (0, 0) };
        assert_eq!((counts.inserted, counts.updated), expected, "round {round}");
    }
    let history: Vec<(String, Option<NaiveDate>)> = handle
        .assignment_history(fixture.c_plain_c)
        .await
        .unwrap()
        .into_iter()
        .filter(|a| a.role == AssignmentRole::Lead)
        .map(|a| (a.effective_from.to_string(), a.effective_to))
        .collect();
    assert_eq!(
        history,
        [
            ("2025-01-01".into(), "2026-03-01".parse().ok()),
            ("2026-03-01".into(), None)
        ],
        "the old lead ends the day the new one starts"
    );
}

async fn the_database_refuses_a_second_open_lead(store: Store) {
    let fixture = fixture::build(&store).await;
    let president = fixture::user(&store, "president.a").await;
    // Around the writer, straight into the table: the partial unique index says no.
    let second = sqlx::query(
        "insert into rm_assignment (customer_id, user_id, role, effective_from, effective_to, created_at) \
         values ($1, $2, 'lead', '2026-06-01', null, '2026-06-01T00:00:00.000Z')",
    )
    .bind(fixture.c_corp_a.0)
    .bind(president.id.0)
    .execute(store.pool_for_tests())
    .await;
    assert!(second.is_err(), "a second open lead must not be stored");
    // Through the user handle the same change is a hand-over.
    let ho = fixture::scope(&store, "ho.kam").await;
    ho.assign_rm(
        fixture.c_corp_a,
        "president.a",
        AssignmentRole::Lead,
        "2026-06-01".parse().unwrap(),
    )
    .await
    .unwrap();
    let open: Vec<_> = ho
        .assignment_history(fixture.c_corp_a)
        .await
        .unwrap()
        .into_iter()
        .filter(|a| a.role == AssignmentRole::Lead && a.effective_to.is_none())
        .collect();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].user_id, president.id);
}

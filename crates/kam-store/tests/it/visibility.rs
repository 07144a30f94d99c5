//! The "done when" visibility cases, proven through the store's SQL on both back ends.

use std::collections::BTreeSet;

use kam_core::{
    contact::{ContactRole, NewKeyPerson, RelationshipStage},
    id::CustomerId,
};
use kam_store::{CustomerFilter, Error, Store};

use crate::fixture::{self, scope};

crate::on_both_backends!(
    an_rm_sees_own_book_and_teams_only,
    a_sub_branch_president_sees_the_sub_branch,
    a_branch_manager_sees_the_subtree_limited_by_line,
    a_corporate_rm_does_not_see_retail_customers,
    a_group_lead_rm_sees_the_whole_group_across_branches,
    an_auditor_reads_everything_but_cannot_write,
    administrators_and_tellers_see_no_customer,
    a_customer_out_of_scope_is_not_found,
);

async fn visible(store: &Store, username: &str) -> BTreeSet<CustomerId> {
    let scope = scope(store, username).await;
    let filter = CustomerFilter {
        limit: 1000,
        ..Default::default()
    };
    let found = scope.find_customers(&filter).await.unwrap();
    assert_eq!(
        found.len() as i64,
        scope.count_customers(&filter).await.unwrap()
    );
    found.into_iter().map(|c| c.id).collect()
}

async fn an_rm_sees_own_book_and_teams_only(store: Store) {
    let f = fixture::build(&store).await;
    // Own book C0001, team member on C0002, group lead of the group containing C0003.
    assert_eq!(
        visible(&store, "rm.corp.a").await,
        BTreeSet::from([f.c_corp_a, f.c_corp_b, f.c_group_c])
    );
    assert_eq!(
        visible(&store, "rm.corp.c").await,
        BTreeSet::from([f.c_group_c, f.c_plain_c])
    );
}

async fn a_sub_branch_president_sees_the_sub_branch(store: Store) {
    let f = fixture::build(&store).await;
    // The sub-branch's own customers, and C0003: booked at 支行C but a member of G001, which
    // 支行A leads (主办行) — the lead unit runs the whole relationship.
    assert_eq!(
        visible(&store, "president.a").await,
        BTreeSet::from([f.c_corp_a, f.c_retail_a, f.c_group_c])
    );
}

async fn a_branch_manager_sees_the_subtree_limited_by_line(store: Store) {
    let f = fixture::build(&store).await;
    // The branch leads G001 through 支行A: its corporate member C0003 (booked at 支行C) too.
    assert_eq!(
        visible(&store, "manager.b1").await,
        BTreeSet::from([f.c_corp_a, f.c_corp_b, f.c_retail_a, f.c_group_c])
    );
    assert_eq!(
        visible(&store, "manager.b1.retail").await,
        BTreeSet::from([f.c_retail_a])
    );
    assert_eq!(
        visible(&store, "risk.b1").await,
        BTreeSet::from([f.c_corp_a, f.c_corp_b, f.c_retail_a, f.c_group_c])
    );
}

async fn a_corporate_rm_does_not_see_retail_customers(store: Store) {
    let f = fixture::build(&store).await;
    // Even when put on the retail customer's team by mistake.
    let ho = scope(&store, "ho.kam").await;
    let start = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
    ho.assign_rm(
        f.c_retail_a,
        "rm.corp.a",
        kam_core::assignment::AssignmentRole::Member,
        start,
    )
    .await
    .unwrap();
    assert!(!visible(&store, "rm.corp.a").await.contains(&f.c_retail_a));
    assert_eq!(
        visible(&store, "rm.retail.a").await,
        BTreeSet::from([f.c_retail_a])
    );
}

async fn a_group_lead_rm_sees_the_whole_group_across_branches(store: Store) {
    let f = fixture::build(&store).await;
    let lead = scope(&store, "rm.corp.a").await;
    let view = lead.group(f.group).await.unwrap();
    assert_eq!(view.member_count, 2);
    assert_eq!(view.visible_members.len(), 2);
    assert!(
        lead.customer(f.c_group_c).await.is_ok(),
        "member booked in another branch"
    );
    // The other branch's RM sees the group, but only the member in their book.
    let other = scope(&store, "rm.corp.c").await;
    let partial = other.group(f.group).await.unwrap();
    assert_eq!(partial.visible_members.len(), 1);
    assert_eq!(partial.member_count, 2);
    // The retail RM sees no member, so the group does not exist for them.
    let retail = scope(&store, "rm.retail.a").await;
    assert!(matches!(
        retail.group(f.group).await,
        Err(Error::NotFound { .. })
    ));
}

async fn an_auditor_reads_everything_but_cannot_write(store: Store) {
    let f = fixture::build(&store).await;
    assert_eq!(visible(&store, "auditor").await.len(), 5);
    let auditor = scope(&store, "auditor").await;
    let person = NewKeyPerson::parse(
        "王出纳",
        ContactRole::Cashier,
        None,
        [1, 1, 1],
        RelationshipStage::Build,
    )
    .unwrap();
    let error = auditor
        .add_key_person(f.c_corp_a, &person)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::ReadOnly), "{error}");
    assert!(
        auditor.key_people(f.c_corp_a).await.unwrap().is_empty(),
        "nothing was written"
    );
}

async fn administrators_and_tellers_see_no_customer(store: Store) {
    fixture::build(&store).await;
    assert!(visible(&store, "admin").await.is_empty());
    assert!(visible(&store, "teller.a").await.is_empty());
}

async fn a_customer_out_of_scope_is_not_found(store: Store) {
    let f = fixture::build(&store).await;
    let rm = scope(&store, "rm.corp.c").await;
    let invisible = rm.customer(f.c_corp_a).await.unwrap_err();
    let missing = rm.customer(CustomerId(999_999)).await.unwrap_err();
    // Same answer for "not yours" and "does not exist".
    assert!(matches!(
        invisible,
        Error::NotFound {
            entity: "customer",
            ..
        }
    ));
    assert!(matches!(
        missing,
        Error::NotFound {
            entity: "customer",
            ..
        }
    ));
    assert!(matches!(
        rm.customer_by_cif("C0001").await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        rm.holdings(f.c_corp_a).await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        rm.payroll_links(f.c_corp_a).await,
        Err(Error::NotFound { .. })
    ));
}

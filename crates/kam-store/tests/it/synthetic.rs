//! The SQL visibility clause against kam-core's rule, customer by customer, for every user of a
//! synthetic bank — so the rule and its translation cannot drift apart.

use std::collections::{BTreeSet, HashMap};

use kam_core::{
    assignment::AssignmentRole,
    org::OrgPath,
    password::{HashCost, hash_password},
    visibility::Placement,
};
use kam_store::{CustomerFilter, Store};
use kam_synth::{Bank, Scale, SynthConfig};

use crate::fixture::{system, today};

crate::on_both_backends!(sql_visibility_agrees_with_the_rule_for_every_user_of_a_synthetic_bank);

async fn sql_visibility_agrees_with_the_rule_for_every_user_of_a_synthetic_bank(store: Store) {
    let bank = Bank::generate(SynthConfig::new(Scale::Tiny, 11));
    let data = &bank.reference;
    let hash = hash_password("Kam-2026-test", &[3; 16], HashCost::Cheap);
    let counts = store
        .bulk_load(&system(), data, &vec![hash; data.users.len()])
        .await
        .unwrap();
    assert_eq!(counts.customers, data.customers.len());

    let paths: HashMap<String, OrgPath> = store
        .list_org_units()
        .await
        .unwrap()
        .into_iter()
        .map(|u| (u.code, u.path))
        .collect();
    let users = store.list_users().await.unwrap();
    let user_id = |name: &str| {
        users
            .iter()
            .find(|u| u.username.as_str() == name)
            .unwrap()
            .id
    };
    let mut teams: HashMap<&str, Vec<_>> = HashMap::new();
    for a in &data.assignments {
        if a.effective_from <= today() && a.effective_to.is_none_or(|end| today() < end) {
            teams
                .entry(a.cif_no.as_str())
                .or_default()
                .push(user_id(&a.username));
        }
    }
    let group_lead: HashMap<&str, _> = data
        .group_members
        .iter()
        .filter_map(|m| {
            let group = data.groups.iter().find(|g| g.code == m.group_code)?;
            Some((
                m.cif_no.as_str(),
                user_id(group.lead_rm_username.as_deref()?),
            ))
        })
        .collect();
    assert!(
        data.assignments
            .iter()
            .any(|a| a.role == AssignmentRole::Member),
        "the bank has account teams"
    );

    let filter = CustomerFilter {
        limit: 1_000_000,
        ..Default::default()
    };
    let mut non_empty = 0;
    for user in &users {
        let scope = store.scope_for(user, today()).await.unwrap();
        let expected: BTreeSet<String> = data
            .customers
            .iter()
            .filter(|c| {
                scope.admits(&Placement {
                    org_path: &paths[&c.org_unit_code],
                    line: c.line,
                    team: teams
                        .get(c.cif_no.as_str())
                        .map(Vec::as_slice)
                        .unwrap_or(&[]),
                    group_lead_rm: group_lead.get(c.cif_no.as_str()).copied(),
                })
            })
            .map(|c| c.cif_no.to_string())
            .collect();
        let actual: BTreeSet<String> = store
            .find_customers(&scope, &filter)
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.cif_no.to_string())
            .collect();
        assert_eq!(actual, expected, "user {} ({})", user.username, user.role);
        non_empty += usize::from(!actual.is_empty());
    }
    assert!(
        non_empty > users.len() / 2,
        "most users see something: {non_empty} of {}",
        users.len()
    );
}

//! The customer 360, read in a few combined statements, against the separate reads for every user
//! of a synthetic bank. (Every read of the user handle against kam-core's rule: `matrix.rs`.)

use std::collections::BTreeSet;

use kam_core::{
    codec::Bars,
    password::{HashCost, hash_password},
    tier::Movement,
};
use kam_store::{CustomerFilter, Store};
use kam_synth::{Bank, Scale, SynthConfig};

use crate::fixture::{system, today};

crate::on_both_backends!(the_360_in_few_statements_agrees_with_the_separate_reads);

/// `customer_view` reads the 360 in a few combined statements; every part must equal what the
/// separate, individually checked reads give, for every user and every customer they may see,
/// and a customer out of reach must be `NotFound`.
async fn the_360_in_few_statements_agrees_with_the_separate_reads(store: Store) {
    let bank = Bank::generate(SynthConfig::new(Scale::Tiny, 7));
    let data = &bank.reference;
    let hash = hash_password("Kam-2026-test", &[3; 16], HashCost::Cheap);
    store
        .bulk_load(&system(), data, &vec![hash; data.users.len()])
        .await
        .unwrap();
    // Classes and two months of tiers for every third customer: the head reads them by position.
    let classed: Vec<&str> = data
        .customers
        .iter()
        .step_by(3)
        .map(|c| c.cif_no.as_str())
        .collect();
    let classes: Vec<_> = classed
        .iter()
        .map(|cif| crate::classification::class(cif, today(), cif.ends_with('1')))
        .collect();
    store
        .save_classes(&system(), today(), &classes)
        .await
        .unwrap();
    for (month, tier) in [("2026-10", 3), ("2026-11", 2)] {
        let tiers: Vec<_> = classed
            .iter()
            .map(|cif| kam_store::StoredTier {
                cif_no: (*cif).to_owned(),
                month: month.into(),
                as_of: today(),
                tier,
                tier_name: format!("第{tier}层"),
                tier_name_en: format!("tier {tier}"),
                months_below: 0,
                on_watch: false,
                movement: Movement::Held,
                measured_tier: tier,
                rule_id: "kam-default".into(),
                rule_version: 1,
                indicator: "avg_daily_deposit_90d".into(),
                value_int: Some(1_000_000),
                bars: Bars(vec![4, 3, 2, 1]),
            })
            .collect();
        store.save_tiers(&system(), month, &tiers).await.unwrap();
    }
    let users = store.list_users().await.unwrap();
    let all = CustomerFilter {
        limit: 1_000_000,
        ..Default::default()
    };
    let (mut viewed, mut in_groups, mut with_payroll, mut refused) = (0, 0, 0, 0);
    let mut classed_seen = 0;
    for user in &users {
        let scope = store.for_user(user, today()).await.unwrap();
        let visible: BTreeSet<String> = scope
            .find_customers(&all)
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.cif_no.to_string())
            .collect();
        for customer in data.customers.iter().step_by(7) {
            let cif = customer.cif_no.as_str();
            let view = scope.customer_view(cif).await;
            if !visible.contains(cif) {
                assert!(
                    matches!(view, Err(kam_store::Error::NotFound { .. })),
                    "{} must not see {cif}",
                    user.username
                );
                refused += 1;
                continue;
            }
            let view = view.unwrap();
            let id = view.customer.id;
            assert_eq!(view.customer, scope.customer_by_cif(cif).await.unwrap());
            assert_eq!(
                view.unit,
                store.org_unit(view.customer.org_unit_id).await.unwrap()
            );
            assert_eq!(view.indicators, scope.indicators_of(cif).await.unwrap());
            assert_eq!(view.alerts, scope.alerts_of(cif).await.unwrap());
            assert_eq!(view.class, scope.class_of(cif).await.ok());
            assert_eq!(view.tier, store.latest_tier(cif).await.unwrap());
            classed_seen += usize::from(view.class.is_some());
            if let Some(tier) = &view.tier {
                assert_eq!(tier.month, "2026-11", "the latest month");
            }
            assert_eq!(view.team, scope.team_of(id).await.unwrap());
            assert_eq!(view.key_people, scope.key_people(id).await.unwrap());
            let mut held: Vec<_> = view.holdings.iter().map(|(h, _)| h.clone()).collect();
            let mut holdings = scope.holdings(id).await.unwrap();
            held.sort_by_key(|h| (h.product_id, h.amount.currency().to_string()));
            holdings.sort_by_key(|h| (h.product_id, h.amount.currency().to_string()));
            assert_eq!(held, holdings);
            assert!(view.holdings.iter().all(|(h, p)| h.product_id == p.id));
            let group = scope.group_of_customer(id).await.unwrap();
            match (&view.group, group) {
                (None, None) => {}
                (Some(mine), Some(theirs)) => {
                    assert_eq!(
                        (&mine.code, &mine.name, mine.member_count),
                        (&theirs.group.code, &theirs.group.name, theirs.member_count)
                    );
                    assert_eq!(
                        mine.nodes,
                        scope.group_nodes(theirs.group.id).await.unwrap()
                    );
                    in_groups += 1;
                }
                (mine, theirs) => panic!("{cif}: group {mine:?} vs {theirs:?}"),
            }
            let (employees, monthly) = scope.payroll_totals(id).await.unwrap();
            let employers = scope
                .payroll_links(id)
                .await
                .unwrap()
                .iter()
                .filter(|l| l.employee_id == id)
                .count() as i64;
            assert_eq!(
                (
                    view.payroll.employees,
                    view.payroll.monthly_fen,
                    view.payroll.employers_in_reach
                ),
                (employees, monthly, employers),
                "{cif} payroll"
            );
            with_payroll += usize::from(employees > 0 || employers > 0);
            viewed += 1;
        }
    }
    assert!(
        viewed > 50 && refused > 50,
        "viewed {viewed}, refused {refused}"
    );
    assert!(
        in_groups > 0 && with_payroll > 0,
        "groups {in_groups}, payroll {with_payroll}"
    );
    assert!(classed_seen > 10, "classes read {classed_seen}");
}

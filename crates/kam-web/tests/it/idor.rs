//! The IDOR matrix: every route of the router (from `kam_web::route_table`, so a new route is
//! covered without anyone remembering it), called as a user of every role for customers that user
//! may not see — one of another subtree and one of another line where the bank has them. Any
//! answer but the same 404 a missing record gets fails the test.

use std::collections::BTreeSet;

use kam_core::user::Role;
use reqwest::{Method, StatusCode};

use crate::fixture::Server;

crate::on_both_backends!(no_route_shows_a_customer_out_of_reach);

/// Routes without a record in their path that act only on the signed-in user's own account.
const OWN_ACCOUNT_FORMS: &[&str] = &[
    "/sign-in",
    "/sign-out",
    "/me/locale",
    "/me/password",
    "/me/tokens",
    // Adding a user names no record; only administrators reach it (the admin tests).
    "/admin/users",
    // One's own weekly report: the week is in the form, the author is the signed-in user.
    "/reports",
    // The night: starting it and uploading a day name no record; only administrators reach them
    // (the nights tests).
    "/admin/nights/run",
    "/admin/nights/upload",
];

async fn no_route_shows_a_customer_out_of_reach(server: Server) {
    let table = kam_web::route_table();
    assert!(table.iter().any(|r| r.path.contains("{cif}")));
    let customers = &server.bank.reference.customers;
    let units = server.store.list_org_units().await.unwrap();
    let alerts = server.all_alerts().await;
    // A token of somebody (the auditor) that nobody else may revoke.
    let auditor = server.user_of(Role::Auditor).await;
    server.token_for(&auditor).await;
    let others_token = server.handle_of(&auditor).await.api_tokens().await.unwrap()[0].id;
    assert!(!alerts.is_empty(), "the fixture raised alerts");
    // An import batch: administration's record, out of reach of every other role.
    let batch = "balances-20261127-idor".to_owned();
    server
        .store
        .record_generated_batch(
            &kam_store::Actor::system("test"),
            &kam_store::NewImportBatch {
                batch_id: batch.clone(),
                kind: "balances".into(),
                business_date: chrono::NaiveDate::from_ymd_opt(2026, 11, 27).unwrap(),
                file_name: "balances_20261127.csv".into(),
                content_hash: "idor".into(),
                rows_read: 1,
                loaded: 0,
                rejected: 1,
                duplicates: 0,
                held: 0,
                amount_total_minor: 0,
                rejects: Vec::new(),
            },
        )
        .await
        .unwrap();
    // A task on each customer a role is tried with, given by head office to itself: the
    // task routes name the task alone, so it must be one of a customer out of reach.
    let head_office = server
        .handle_of(&server.user_of(Role::HeadOfficeKeyAccountManager).await)
        .await;
    let mut tasks: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    let mut opportunities: std::collections::HashMap<String, String> =
        std::collections::HashMap::new();
    let mut checked = 0;
    let mut groups_checked = 0;
    for role in Role::ALL {
        let user = server.user_of(*role).await;
        let visible: BTreeSet<String> = server.visible_cifs(&user).await.into_iter().collect();
        let home_unit = units.iter().find(|u| u.id == user.org_unit_id).unwrap();
        let outside = |c: &&kam_core::customer::NewCustomer| !visible.contains(c.cif_no.as_str());
        let other_subtree = customers.iter().filter(outside).find(|c| {
            units
                .iter()
                .find(|u| u.code == c.org_unit_code)
                .is_some_and(|u| !u.path.as_str().starts_with(home_unit.path.as_str()))
        });
        let other_line = customers
            .iter()
            .filter(outside)
            .find(|c| user.line.is_some_and(|line| c.line != line));
        let mut targets: Vec<String> = [other_subtree, other_line]
            .into_iter()
            .flatten()
            .map(|c| c.cif_no.to_string())
            .collect();
        if targets.is_empty() {
            // Nothing out of reach in another subtree or line (an administrator sees no customer
            // at all): any customer out of reach will do.
            targets.extend(customers.iter().find(outside).map(|c| c.cif_no.to_string()));
        }
        targets.dedup();
        if targets.is_empty() {
            // The whole bank is in reach (head office, auditor): nothing is out of reach.
            assert_eq!(visible.len(), customers.len(), "{role:?} sees everything");
            continue;
        }
        // Alerts out of reach: those of the target customers first, else any.
        let mut hidden_alerts: Vec<i64> = alerts
            .iter()
            .filter(|a| targets.contains(&a.cif_no))
            .map(|a| a.id)
            .take(2)
            .collect();
        if hidden_alerts.is_empty() {
            hidden_alerts.extend(
                alerts
                    .iter()
                    .find(|a| !visible.contains(&a.cif_no))
                    .map(|a| a.id),
            );
        }
        assert!(!hidden_alerts.is_empty(), "{role:?}: an alert out of reach");
        // Groups with no member in reach.
        let reference = &server.bank.reference;
        let hidden_group = reference
            .groups
            .iter()
            .find(|g| {
                reference
                    .group_members
                    .iter()
                    .filter(|m| m.group_code == g.code)
                    .all(|m| !visible.contains(&m.cif_no))
            })
            .map(|g| g.code.clone());
        for cif in &targets {
            if !tasks.contains_key(cif) {
                let customer = head_office.customer_by_cif(cif).await.unwrap();
                let owner = head_office.user().unwrap().username.to_string();
                let task = kam_core::task::NewTask::parse(
                    "idor",
                    crate::fixture::kam_web_today(),
                    &owner,
                    kam_core::task::Priority::Normal,
                    "",
                )
                .unwrap();
                let id = head_office.add_task(customer.id, &task).await.unwrap();
                tasks.insert(cif.clone(), id.0.to_string());
                let deal = kam_core::opportunity::NewOpportunity::parse(
                    "idor",
                    &["LN-WC".to_owned()],
                    "1000",
                    &owner,
                    crate::fixture::kam_web_today() + chrono::Days::new(30),
                    "",
                    kam_core::opportunity::Position::Unknown,
                    "",
                    false,
                    "",
                )
                .unwrap();
                let opportunity = head_office
                    .add_opportunity(
                        customer.id,
                        &deal,
                        &kam_core::opportunity::Pipeline::default_stages(),
                    )
                    .await
                    .unwrap();
                opportunities.insert(cif.clone(), opportunity.0.to_string());
            }
        }
        let mut client = server.client();
        client.sign_in(user.username.as_str()).await;
        let missing = client.get("/customers/999999999999").await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        let token = server.token_for(&user).await;
        for route in table.iter().filter(|r| r.access != kam_web::Access::Public) {
            let api = route.access == kam_web::Access::Token;
            // Each call: the customer out of reach, and an alert out of reach.
            let calls: Vec<(String, String)> = targets
                .iter()
                .zip(hidden_alerts.iter().cycle())
                .map(|(cif, alert)| (cif.clone(), alert.to_string()))
                .collect();
            for (cif, alert) in &calls {
                let answer = if route.path.contains('{') {
                    let path = route.path.replace("{cif}", cif).replace("{id}", alert);
                    let path = match &hidden_group {
                        Some(code) => path.replace("{group}", code),
                        None if path.contains("{group}") => continue,
                        None => path,
                    };
                    // Another user's API token.
                    let path = path.replace("{token}", &others_token.to_string());
                    // Another user's account: only the administrator manages accounts.
                    if path.contains("{user}") && *role == Role::Administrator {
                        continue;
                    }
                    let path = path.replace("{user}", auditor.username.as_str());
                    if path.contains("{batch}") && *role == Role::Administrator {
                        continue;
                    }
                    let path = path.replace("{batch}", &batch);
                    // A night's rejects: administration's record, like a batch.
                    if path.contains("{date}") && *role == Role::Administrator {
                        continue;
                    }
                    let path = path.replace("{date}", "2026-11-27");
                    // An assignment of the customer out of reach: the customer answers first.
                    let path = path.replace("{assignment}", "1");
                    // A key person of the customer out of reach: the customer answers first.
                    let path = path.replace("{person}", "1");
                    // An activity or need of the customer out of reach: the customer first.
                    let path = path.replace("{activity}", "1").replace("{need}", "1");
                    // One's own weekly report: the path names a week, never someone else's.
                    if path.contains("{week}") {
                        continue;
                    }
                    // A task of the customer out of reach.
                    let path = path.replace("{task}", &tasks[cif]);
                    // An opportunity of the customer out of reach; its obstacle: the
                    // opportunity answers first.
                    let path = path
                        .replace("{opportunity}", &opportunities[cif])
                        .replace("{obstacle}", "1");
                    assert!(
                        !path.contains('{'),
                        "{}: a parameter this matrix does not know; teach it",
                        route.path
                    );
                    if api && route.method == Method::GET {
                        client.get_api(&path, &token).await
                    } else if api {
                        // One body every write of the API reads (unknown fields are ignored).
                        let body = serde_json::json!({
                            "version": 0,
                            "username": user.username.as_str(),
                            "role": "member",
                            "scores": [{"criterion": "relationship", "score": 7, "seen": null}],
                            "note": "idor",
                            "name": "idor",
                            "closeness": 3,
                            "trust": 3,
                            "favour": 3,
                            "stage": "build",
                            "reason": "idor",
                            "status": "done",
                            "kind": "visit",
                            "starts": "2026-01-05T09:00",
                            "purpose": "idor",
                            "title": "idor",
                            "due": "2026-01-05",
                            "owner": user.username.as_str(),
                            "priority": "normal",
                            "products": ["LN-WC"],
                            "amount_fen": 100_000,
                            "expected_close": "2027-01-05",
                            "to": "contact",
                            "ticked": [],
                            "obstacle": "idor",
                            "action": "idor",
                            "attitude": "neutral",
                        });
                        client
                            .send_api(route.method.clone(), &path, &token, &body)
                            .await
                    } else if route.method == Method::GET {
                        client.get(&path).await
                    } else {
                        client
                            .post(
                                &path,
                                &[
                                    ("note", "idor"),
                                    ("reason", "idor"),
                                    ("assignee", user.username.as_str()),
                                    ("action", "disable"),
                                ],
                            )
                            .await
                    }
                } else if route.method == Method::GET {
                    let path = format!("{}?q={cif}", route.path);
                    let page = if api {
                        client.get_api(&path, &token).await
                    } else {
                        client.get(&path).await
                    };
                    // A page the role may not open at all answers 404 (e.g. the audit trail).
                    assert!(
                        page.status.is_success()
                            || page.status.is_redirection()
                            || page.status == StatusCode::NOT_FOUND,
                        "{} {}: {}",
                        route.method,
                        route.path,
                        page.status
                    );
                    assert!(
                        !page.body.contains(&format!("/customers/{cif}\""))
                            && !page.body.contains(&format!("\"cif_no\":\"{cif}\"")),
                        "{role:?} {}: lists {cif}, which is out of reach",
                        route.path
                    );
                    checked += 1;
                    continue;
                } else if route.path == "/alerts/assign" {
                    // Several alerts at once: the records are in the form.
                    client
                        .post(
                            route.path,
                            &[
                                ("id", alert.as_str()),
                                ("assignee", user.username.as_str()),
                                ("back", "/alerts"),
                            ],
                        )
                        .await
                } else {
                    assert!(
                        OWN_ACCOUNT_FORMS.contains(&route.path),
                        "{} {}: a form without a record in its path; add it to the matrix",
                        route.method,
                        route.path
                    );
                    continue;
                };
                if route.path.contains("{group}") {
                    groups_checked += 1;
                }
                assert_eq!(
                    answer.status,
                    StatusCode::NOT_FOUND,
                    "{role:?} {} {} for customer {cif} / alert {alert}",
                    route.method,
                    route.path
                );
                if !api {
                    assert_eq!(
                        answer.body, missing.body,
                        "out of reach answers exactly like missing"
                    );
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 10, "the matrix checked {checked} calls");
    assert!(groups_checked > 0, "a group out of reach was tried");
}

//! The user handle's matrices: every read of `UserStore` for every user of a synthetic bank against
//! kam-core's `Scope::admits`, and every write by every role that may not make it — refused,
//! nothing written, the refusal in the audit trail. A public method added to the handle and walked
//! by neither fails `every_method_of_the_user_handle_is_in_a_matrix`.

use std::collections::{BTreeSet, HashMap};

use kam_core::{
    activity::{ActivityStatus, NeedStatus},
    task::{NewTask, Priority, TaskStatus},
};
use kam_core::{
    alert::AlertKind,
    assignment::AssignmentRole,
    codec::Bars,
    contact::{ContactRole, NewKeyPerson, Rating, RelationshipStage},
    id::{CustomerId, GroupId},
    org::OrgPath,
    password::{HashCost, hash_password},
    tier::Movement,
    user::User,
    visibility::Placement,
};
use kam_store::{
    AlertFilter, CustomerFilter, Error, ScoreEntry, Seen, Store, StoredFinding, StoredIndicator,
    StoredTier, TaskFilter, UserStore,
};
use kam_synth::{Bank, Scale, SynthConfig};

use crate::fixture::{self, system, today};

crate::on_both_backends!(
    every_read_of_the_user_handle_agrees_with_the_rule_for_every_user,
    every_write_refused_to_a_role_out_of_reach_or_read_only_writes_nothing_and_is_audited
);

/// The reads the first matrix walks, the writes the second does, and the handle's accessors and
/// own-account methods (which touch no customer data and no one else's account).
const READS: &[&str] = &[
    "find_customers",
    "count_customers",
    "customer",
    "customer_by_cif",
    "customer_view",
    "portfolio",
    "tier_moves",
    "classes",
    "class_of",
    "indicators_of",
    "unit_figures",
    "corporate_profile",
    "board_manual_scores",
    "alerts",
    "alerts_of",
    "alert_inbox",
    "alerts_active_on",
    "alert_visible",
    "holdings",
    "account_events",
    "key_people",
    "last_contacts",
    "activities",
    "activities_between",
    "visit_tallies",
    "activity",
    "needs",
    "tasks",
    "task",
    "opportunities",
    "opportunity",
    "funnel",
    "moves_between",
    "open_obstacles",
    "team_of",
    "assignment_history",
    "payroll_links",
    "payroll_totals",
    "payroll_people",
    "group",
    "group_by_code",
    "group_of_customer",
    "group_nodes",
    "report",
    "team_reports",
    "audit_events",
    "audit_search",
    "record_audit_export",
    "import_batches",
    "import_rejects",
    "nights",
    "batch_runs",
    // Not customer data: every signed-in user may read them.
    "list_users",
    "users_with_units",
    "products",
    "list_org_units",
    "org_unit",
    "latest_batch_date",
];
const WRITES: &[&str] = &[
    "set_manual_scores",
    "assign_alert",
    "handle_alert",
    "add_key_person",
    "edit_key_person",
    "retire_key_person",
    "add_activity",
    "save_activity",
    "cancel_activity",
    "set_need_status",
    "save_report",
    "add_task",
    "edit_task",
    "set_task_status",
    "delete_task",
    "add_opportunity",
    "edit_opportunity",
    "advance_opportunity",
    "delete_opportunity",
    "add_obstacle",
    "clear_obstacle",
    "set_influence",
    "remove_influence",
    "assign_rm",
    "end_assignment",
    "save_corporate_profile",
    "revoke_api_token",
    "reset_password",
    "set_user_disabled",
    "add_user",
    "edit_user",
    "reveal_identifier",
];
const OWN: &[&str] = &[
    "scope",
    "actor",
    "user",
    "narrowed_to",
    "record_event",
    "own_password_hash",
    "change_own_password",
    "set_locale",
    "create_api_token",
    "api_tokens",
];

#[test]
fn every_method_of_the_user_handle_is_in_a_matrix() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&src).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let mut inside = false;
        for line in text.lines() {
            if line.starts_with("impl UserStore {") {
                inside = true;
            } else if line == "}" {
                inside = false;
            } else if inside
                && let Some(rest) = line
                    .strip_prefix("    pub async fn ")
                    .or_else(|| line.strip_prefix("    pub fn "))
            {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                found.push(name);
            }
        }
    }
    assert!(found.len() > 30, "the scan found the handle: {found:?}");
    let unwalked: Vec<&String> = found
        .iter()
        .filter(|name| ![READS, WRITES, OWN].concat().contains(&name.as_str()))
        .collect();
    assert!(
        unwalked.is_empty(),
        "methods of UserStore in no matrix (add them to READS or WRITES and walk them): {unwalked:?}"
    );
}

fn cifs<T>(rows: &[T], cif: impl Fn(&T) -> String) -> BTreeSet<String> {
    rows.iter().map(cif).collect()
}

fn not_found<T: std::fmt::Debug>(answer: &kam_store::Result<T>) -> bool {
    matches!(answer, Err(Error::NotFound { .. }))
}

/// Asserts that a per-customer read answers iff the customer is in reach, `NotFound` otherwise.
fn agrees<T: std::fmt::Debug>(
    who: &str,
    what: &str,
    cif: &str,
    visible: bool,
    answer: &kam_store::Result<T>,
) {
    if visible {
        assert!(answer.is_ok(), "{who} {what} {cif}: {answer:?}");
    } else {
        assert!(not_found(answer), "{who} must not {what} {cif}: {answer:?}");
    }
}

async fn every_read_of_the_user_handle_agrees_with_the_rule_for_every_user(store: Store) {
    let bank = Bank::generate(SynthConfig::new(Scale::Tiny, 13));
    let data = &bank.reference;
    let hash = hash_password("Kam-2026-test", &[3; 16], HashCost::Cheap);
    store
        .bulk_load(&system(), data, &vec![hash; data.users.len()])
        .await
        .unwrap();
    // Results of a batch for part of the bank: classes, two months of tiers with moves, alerts.
    let classed: Vec<&str> = data
        .customers
        .iter()
        .step_by(2)
        .map(|c| c.cif_no.as_str())
        .collect();
    let classes: Vec<_> = classed
        .iter()
        .map(|cif| crate::classification::class(cif, today(), false))
        .collect();
    store
        .save_classes(&system(), today(), &classes)
        .await
        .unwrap();
    for (month, moved) in [("2026-10", "held"), ("2026-11", "upgraded")] {
        let tiers: Vec<_> = classed
            .iter()
            .map(|cif| StoredTier {
                cif_no: (*cif).to_owned(),
                month: month.into(),
                as_of: today(),
                tier: 2,
                tier_name: "第2层".into(),
                tier_name_en: "tier 2".into(),
                months_below: 0,
                on_watch: false,
                movement: Movement::parse(moved).unwrap(),
                measured_tier: 2,
                rule_id: "kam-default".into(),
                rule_version: 1,
                indicator: "avg_daily_deposit_90d".into(),
                value_int: Some(1_000_000),
                bars: Bars(vec![4, 3, 2, 1]),
            })
            .collect();
        store.save_tiers(&system(), month, &tiers).await.unwrap();
    }
    let findings: Vec<_> = data
        .customers
        .iter()
        .step_by(3)
        .map(|c| StoredFinding {
            cif_no: c.cif_no.to_string(),
            kind: AlertKind::DepositDrop,
            tier: 2,
            evidence: "e".into(),
            thresholds: "t".into(),
        })
        .collect();
    store
        .sync_alerts(&system(), today(), "kam-default", 1, &findings)
        .await
        .unwrap();
    // Balances on the date for every third customer: the k-th has k yuan.
    let deposit = |cif: &str| -> i64 {
        100 * (1 + data
            .customers
            .iter()
            .position(|c| c.cif_no.as_str() == cif)
            .unwrap() as i64)
    };
    let with_figures: Vec<&str> = data
        .customers
        .iter()
        .step_by(3)
        .map(|c| c.cif_no.as_str())
        .collect();
    let values: Vec<StoredIndicator> = with_figures
        .iter()
        .map(|cif| StoredIndicator {
            cif_no: (*cif).to_owned(),
            code: "deposit_balance".into(),
            window_days: 0,
            value_int: Some(deposit(cif)),
            value_real: None,
        })
        .collect();
    store
        .save_indicators(&system(), today(), "2026-12-01T00:00:00Z", 1, &values)
        .await
        .unwrap();

    // What kam-core's rule admits, customer by customer.
    let paths: HashMap<String, OrgPath> = store
        .list_org_units()
        .await
        .unwrap()
        .into_iter()
        .map(|u| (u.code, u.path))
        .collect();
    let users = store.list_users().await.unwrap();
    let units_by_id: HashMap<kam_core::id::OrgUnitId, OrgPath> = store
        .list_org_units()
        .await
        .unwrap()
        .into_iter()
        .map(|u| (u.id, u.path))
        .collect();
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

    // The whole bank, for what exists at all.
    let bank_wide = store.whole_bank("test", today());
    let every = CustomerFilter {
        limit: 1_000_000,
        ..Default::default()
    };
    let all_customers = bank_wide.find_customers(&every).await.unwrap();
    let ids: HashMap<String, CustomerId> = all_customers
        .iter()
        .map(|c| (c.cif_no.to_string(), c.id))
        .collect();
    let all_alerts = bank_wide.alerts(false).await.unwrap();
    assert!(!all_alerts.is_empty());
    let alerted = cifs(&all_alerts, |a| a.cif_no.clone());
    let classed: BTreeSet<String> = classed.iter().map(|c| (*c).to_owned()).collect();
    // Manual scores on every fourth customer, entered by head office's key-account manager.
    let kam = users
        .iter()
        .find(|u| u.role == kam_core::user::Role::HeadOfficeKeyAccountManager && u.line.is_none())
        .expect("a head-office key-account manager of every line");
    let kam = store.for_user(kam, today()).await.unwrap();
    let mut scored = BTreeSet::new();
    for c in data.customers.iter().step_by(4) {
        kam.set_manual_scores(
            c.cif_no.as_str(),
            "board",
            &[ScoreEntry::new("relationship", 7, Seen::Nothing)],
        )
        .await
        .unwrap();
        scored.insert(c.cif_no.to_string());
    }
    // A logged visit (with a need and a next step: a task) on every sixth customer, by the same
    // manager.
    let mut visited = BTreeSet::new();
    let mut visits = Vec::new();
    let mut task_ids = Vec::new();
    let mut opportunity_ids = Vec::new();
    let pipeline = kam_core::opportunity::Pipeline::default_stages();
    for c in data.customers.iter().step_by(6) {
        let id = bank_wide
            .customer_by_cif(c.cif_no.as_str())
            .await
            .unwrap()
            .id;
        let visit = crate::activities::visit(today(), "matrix", kam.actor().name.as_str());
        let activity = kam
            .add_activity(id, &visit, ActivityStatus::Done)
            .await
            .unwrap();
        let tasks = kam
            .tasks(&TaskFilter {
                customer: Some(id),
                ..TaskFilter::default()
            })
            .await
            .unwrap();
        task_ids.push((c.cif_no.to_string(), tasks[0].id));
        // An opportunity on the same customers, with an obstacle (a second task).
        let deal = kam_core::opportunity::NewOpportunity::parse(
            "matrix",
            &[data.products[0].code.clone()],
            "1000",
            kam.actor().name.as_str(),
            today() + chrono::Days::new(30),
            "",
            kam_core::opportunity::Position::Unknown,
            "",
            false,
            "",
        )
        .unwrap();
        let opportunity = kam.add_opportunity(id, &deal, &pipeline).await.unwrap();
        // Lost the same day: one stage move each.
        kam.advance_opportunity(
            opportunity,
            &kam_store::Advance {
                ticked: Vec::new(),
                to: "lost".into(),
                reason: Some("客户需求取消".into()),
            },
            &pipeline,
            1,
        )
        .await
        .unwrap();
        opportunity_ids.push((c.cif_no.to_string(), opportunity));
        // And one still open with an open obstacle (the brief's list).
        let open = kam.add_opportunity(id, &deal, &pipeline).await.unwrap();
        kam.add_obstacle(
            open,
            &kam_core::opportunity::NewObstacle::parse(
                "财务总监倾向他行",
                "约财务总监面谈",
                kam.actor().name.as_str(),
                today() + chrono::Days::new(7),
            )
            .unwrap(),
        )
        .await
        .unwrap();
        visits.push((c.cif_no.to_string(), id, activity));
        visited.insert(c.cif_no.to_string());
    }
    let groups: Vec<(GroupId, String, BTreeSet<String>)> = {
        let mut out = Vec::new();
        for g in &data.groups {
            let view = bank_wide.group_by_code(&g.code).await.unwrap();
            let members = cifs(&data.group_members, |m| {
                if m.group_code == g.code {
                    m.cif_no.to_string()
                } else {
                    String::new()
                }
            });
            let members = members.into_iter().filter(|c| !c.is_empty()).collect();
            out.push((view.group.id, g.code.clone(), members));
        }
        out
    };
    assert!(!groups.is_empty());

    assert!(
        data.assignments
            .iter()
            .any(|a| a.role == AssignmentRole::Member),
        "the bank has account teams"
    );
    // Each group member's group's lead unit (主办行).
    let lead_unit: HashMap<&str, &OrgPath> = data
        .group_members
        .iter()
        .filter_map(|m| {
            let group = data.groups.iter().find(|g| g.code == m.group_code)?;
            Some((m.cif_no.as_str(), &paths[&group.lead_unit_code]))
        })
        .collect();
    let mut customers_seen = 0;
    let mut users_seeing = 0;
    for user in &users {
        let handle = store.for_user(user, today()).await.unwrap();
        let who = user.username.as_str();
        let expected: BTreeSet<String> = data
            .customers
            .iter()
            .filter(|c| {
                handle.scope().admits(&Placement {
                    org_path: &paths[&c.org_unit_code],
                    line: c.line,
                    team: teams
                        .get(c.cif_no.as_str())
                        .map(Vec::as_slice)
                        .unwrap_or(&[]),
                    group_lead_rm: group_lead.get(c.cif_no.as_str()).copied(),
                    group_lead_unit: lead_unit.get(c.cif_no.as_str()).copied(),
                })
            })
            .map(|c| c.cif_no.to_string())
            .collect();
        customers_seen += expected.len();
        users_seeing += usize::from(!expected.is_empty());
        let within = |of: &BTreeSet<String>| -> BTreeSet<String> {
            of.intersection(&expected).cloned().collect()
        };

        // Lists.
        let found = handle.find_customers(&every).await.unwrap();
        assert_eq!(
            cifs(&found, |c| c.cif_no.to_string()),
            expected,
            "{who} find_customers"
        );
        assert_eq!(
            handle.count_customers(&every).await.unwrap(),
            expected.len() as i64,
            "{who}"
        );
        let manual = handle.board_manual_scores("board").await.unwrap();
        assert_eq!(
            cifs(&manual, |s| s.cif_no.clone()),
            within(&scored),
            "{who} board_manual_scores"
        );
        // The unit's figures sum exactly the customers in reach.
        let figures = handle.unit_figures().await.unwrap();
        let summed: Vec<&&str> = with_figures
            .iter()
            .filter(|cif| expected.contains(**cif))
            .collect();
        assert_eq!(figures.customers, summed.len() as i64, "{who} unit_figures");
        assert_eq!(
            figures.lines[0].balance,
            (!summed.is_empty()).then(|| summed.iter().map(|cif| deposit(cif)).sum::<i64>()),
            "{who} unit_figures deposits"
        );
        assert_eq!(
            figures.lines[1].balance, None,
            "{who}: no loan figures were written"
        );
        let portfolio = handle.portfolio(None).await.unwrap();
        assert_eq!(
            cifs(&portfolio, |r| r.cif_no.clone()),
            expected,
            "{who} portfolio"
        );
        let moves = handle.tier_moves(1_000_000).await.unwrap();
        assert_eq!(
            cifs(&moves, |r| r.cif_no.clone()),
            within(&classed),
            "{who} tier_moves"
        );
        let classes = handle.classes().await.unwrap();
        assert_eq!(
            cifs(&classes, |c| c.cif_no.clone()),
            within(&classed),
            "{who} classes"
        );
        let alerts = handle.alerts(false).await.unwrap();
        assert_eq!(
            cifs(&alerts, |a| a.cif_no.clone()),
            within(&alerted),
            "{who} alerts"
        );
        // Activities and tasks: those of customers in reach, one at a time or in lists.
        let week = handle
            .activities_between(today() - chrono::Days::new(7), today(), None)
            .await
            .unwrap();
        assert_eq!(
            cifs(&week, |a| a.cif_no.clone()),
            within(&visited),
            "{who} activities_between"
        );
        let tallies = handle
            .visit_tallies(today() - chrono::Days::new(30), today())
            .await
            .unwrap();
        let corporate_classed: BTreeSet<String> = data
            .customers
            .iter()
            .filter(|c| c.kind == kam_core::customer::CustomerKind::Corporate)
            .map(|c| c.cif_no.to_string())
            .filter(|cif| classed.contains(cif))
            .collect();
        assert_eq!(
            cifs(&tallies, |t| t.cif_no.clone()),
            within(&corporate_classed),
            "{who} visit_tallies"
        );
        let tasks = handle.tasks(&TaskFilter::default()).await.unwrap();
        assert_eq!(
            cifs(&tasks, |t| t.cif_no.clone()),
            within(&visited),
            "{who} tasks"
        );
        for (cif, id, activity) in &visits {
            let visible = expected.contains(cif);
            agrees(
                who,
                "activities",
                cif,
                visible,
                &handle.activities(*id, 0).await,
            );
            agrees(
                who,
                "activity",
                cif,
                visible,
                &handle.activity(*id, *activity).await,
            );
            agrees(who, "needs", cif, visible, &handle.needs(*id).await);
            agrees(
                who,
                "last_contacts",
                cif,
                visible,
                &handle.last_contacts(*id).await,
            );
            let obstacles = handle.open_obstacles(*id).await.unwrap();
            assert_eq!(
                obstacles.len(),
                usize::from(visible),
                "{who} open_obstacles {cif}: the open opportunity's one obstacle iff in reach"
            );
        }
        let opportunities = handle
            .opportunities(&kam_store::OpportunityFilter::default())
            .await
            .unwrap();
        assert_eq!(
            cifs(&opportunities, |o| o.cif_no.clone()),
            within(&visited),
            "{who} opportunities"
        );
        let funnel = handle.funnel(None, &pipeline).await.unwrap();
        assert_eq!(
            funnel.history.len(),
            3 * within(&visited).len(),
            "{who} funnel history: two openings and a loss each"
        );
        assert_eq!(
            (funnel.open.len(), funnel.closed.len()),
            (within(&visited).len(), within(&visited).len()),
            "{who} funnel: one open and one lost each"
        );
        let moves = handle.moves_between(None, today(), today()).await.unwrap();
        assert_eq!(
            cifs(&moves, |m| m.cif_no.clone()),
            within(&visited),
            "{who} moves_between"
        );
        assert_eq!(
            moves.len(),
            within(&visited).len(),
            "openings are not moves"
        );
        for (cif, opportunity) in &opportunity_ids {
            agrees(
                who,
                "opportunity",
                cif,
                expected.contains(cif),
                &handle.opportunity(*opportunity).await,
            );
        }
        for (cif, task) in &task_ids {
            agrees(
                who,
                "task",
                cif,
                expected.contains(cif),
                &handle.task(*task).await,
            );
        }
        let open = handle.alerts(true).await.unwrap();
        assert_eq!(open.len(), alerts.len(), "{who}: every alert is open");
        let (inbox, total) = handle
            .alert_inbox(&AlertFilter {
                limit: 1_000_000,
                ..AlertFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(
            (inbox.len(), total),
            (alerts.len(), alerts.len() as i64),
            "{who} inbox"
        );
        let active = handle.alerts_active_on(today()).await.unwrap();
        assert_eq!(
            cifs(&active, |a| a.cif_no.clone()),
            within(&alerted),
            "{who} active"
        );
        for alert in all_alerts.iter().step_by(4) {
            let visible = expected.contains(&alert.cif_no);
            agrees(
                who,
                "alert_visible",
                &alert.cif_no,
                visible,
                &handle.alert_visible(alert.id).await,
            );
        }

        // One customer at a time: in reach, or `NotFound`.
        for customer in data.customers.iter().step_by(5) {
            let cif = customer.cif_no.as_str();
            let id = ids[cif];
            let visible = expected.contains(cif);
            agrees(who, "customer", cif, visible, &handle.customer(id).await);
            agrees(
                who,
                "customer_by_cif",
                cif,
                visible,
                &handle.customer_by_cif(cif).await,
            );
            agrees(
                who,
                "customer_view",
                cif,
                visible,
                &handle.customer_view(cif).await,
            );
            agrees(
                who,
                "indicators_of",
                cif,
                visible,
                &handle.indicators_of(cif).await,
            );
            agrees(who, "alerts_of", cif, visible, &handle.alerts_of(cif).await);
            agrees(who, "holdings", cif, visible, &handle.holdings(id).await);
            agrees(
                who,
                "account_events",
                cif,
                visible,
                &handle
                    .account_events(id, today() - chrono::Days::new(3650))
                    .await,
            );
            agrees(
                who,
                "key_people",
                cif,
                visible,
                &handle.key_people(id).await,
            );
            agrees(who, "team_of", cif, visible, &handle.team_of(id).await);
            agrees(
                who,
                "corporate_profile",
                cif,
                visible,
                &handle.corporate_profile(id).await,
            );
            agrees(
                who,
                "assignment_history",
                cif,
                visible,
                &handle.assignment_history(id).await,
            );
            agrees(
                who,
                "payroll_links",
                cif,
                visible,
                &handle.payroll_links(id).await,
            );
            agrees(
                who,
                "payroll_totals",
                cif,
                visible,
                &handle.payroll_totals(id).await,
            );
            let people = handle.payroll_people(id).await;
            agrees(who, "payroll_people", cif, visible, &people);
            // Employees listed are in reach; an employer's link only when it is.
            if let Ok(people) = &people {
                for person in &people.employees {
                    assert!(
                        expected.contains(&person.cif_no),
                        "{who}: employee {}",
                        person.cif_no
                    );
                }
                for person in &people.employers {
                    assert_eq!(person.in_reach, expected.contains(&person.cif_no), "{who}");
                }
            }
            agrees(
                who,
                "group_of_customer",
                cif,
                visible,
                &handle.group_of_customer(id).await,
            );
            let class = handle.class_of(cif).await;
            agrees(
                who,
                "class_of",
                cif,
                visible && classed.contains(cif),
                &class,
            );
            // The lists of a customer hold only what the reader may see of the others too.
            if visible {
                for link in handle.payroll_links(id).await.unwrap() {
                    let other = if link.employer_id == id {
                        link.employee_id
                    } else {
                        link.employer_id
                    };
                    assert!(
                        handle.customer(other).await.is_ok(),
                        "{who}: payroll of {cif}"
                    );
                }
            }
        }

        // Groups: the members in reach, and the group only when one of them is.
        for (group_id, code, members) in &groups {
            let mine = within(members);
            let nodes = handle.group_nodes(*group_id).await.unwrap();
            assert_eq!(
                cifs(&nodes, |n| n.cif_no.clone()),
                mine,
                "{who} group_nodes {code}"
            );
            let group = handle.group(*group_id).await;
            agrees(who, "group", code, !mine.is_empty(), &group);
            agrees(
                who,
                "group_by_code",
                code,
                !mine.is_empty(),
                &handle.group_by_code(code).await,
            );
        }

        // Role-gated reads (kam-core's `Role::may_*`), and what is no customer data.
        let gate = |allowed: bool, what: &str, answer: Result<(), Error>| {
            if allowed {
                assert!(answer.is_ok(), "{who} {what}: {answer:?}");
            } else {
                assert!(
                    matches!(answer, Err(Error::NotPermitted(_))),
                    "{who} {what}: {answer:?}"
                );
            }
        };
        let role = user.role;
        gate(
            role.may_read_audit(),
            "audit_events",
            handle.audit_events(None, 5).await.map(drop),
        );
        gate(
            role.may_read_audit(),
            "audit_search",
            handle
                .audit_search(&kam_store::AuditFilter {
                    limit: 5,
                    ..Default::default()
                })
                .await
                .map(drop),
        );
        gate(
            role.may_read_audit(),
            "record_audit_export",
            handle.record_audit_export("matrix").await,
        );
        gate(
            role.may_administer(),
            "import_batches",
            handle.import_batches().await.map(drop),
        );
        gate(
            role.may_administer(),
            "import_rejects",
            // No such batch: past the gate, the store says so.
            match handle.import_rejects("none").await {
                Err(Error::NotFound { .. }) => Ok(()),
                other => other.map(drop),
            },
        );
        gate(
            role.may_administer(),
            "batch_runs",
            handle.batch_runs().await.map(drop),
        );
        gate(
            role.may_administer(),
            "nights",
            handle.nights(10).await.map(drop),
        );
        assert_eq!(handle.list_users().await.unwrap().len(), users.len());
        let with_units = handle.users_with_units().await.unwrap();
        assert_eq!(with_units.len(), users.len());
        for (user, path, _) in &with_units {
            assert_eq!(
                Some(path),
                units_by_id.get(&user.org_unit_id),
                "{}",
                user.username
            );
        }
        assert_eq!(handle.products().await.unwrap().len(), data.products.len());
        // Weekly reports: one's own, and those of the RMs and presidents kam-core's rule reaches.
        let week = kam_core::report::week_of(today());
        let readable: BTreeSet<String> = users
            .iter()
            .filter(|u| {
                let unit = units_by_id[&u.org_unit_id].clone();
                handle.scope().reads_reports_of(u, &unit)
            })
            .map(|u| u.username.to_string())
            .collect();
        let team: BTreeSet<String> = handle
            .team_reports(week)
            .await
            .unwrap()
            .iter()
            .map(|m| m.user.username.to_string())
            .collect();
        let serving: BTreeSet<String> = users
            .iter()
            .filter(|u| {
                !u.disabled
                    && matches!(
                        u.role,
                        kam_core::user::Role::RelationshipManager
                            | kam_core::user::Role::SubBranchPresident
                    )
            })
            .map(|u| u.username.to_string())
            .collect();
        assert_eq!(
            team,
            readable.intersection(&serving).cloned().collect(),
            "{who} team_reports"
        );
        for other in users.iter().step_by(7) {
            let answer = handle.report(other.username.as_str(), week).await;
            agrees(
                who,
                "report",
                other.username.as_str(),
                readable.contains(other.username.as_str()),
                &answer,
            );
        }
        let units = handle.list_org_units().await.unwrap();
        assert_eq!(
            handle.org_unit(user.org_unit_id).await.unwrap().id,
            user.org_unit_id
        );
        assert_eq!(units.len(), paths.len());
        handle.latest_batch_date().await.unwrap();
    }
    assert!(customers_seen > 0);
    assert!(
        users_seeing > users.len() / 2,
        "most users see something: {users_seeing} of {}",
        users.len()
    );
}

/// A snapshot of everything the writes below could change, read through the system handle.
async fn written(store: &Store, owner: &User) -> String {
    let bank_wide = store.whole_bank("test", today());
    let alerts = bank_wide.alerts(false).await.unwrap();
    let mut people = Vec::new();
    for cif in ["C0001", "P0001"] {
        let id = bank_wide.customer_by_cif(cif).await.unwrap().id;
        let tasks = bank_wide
            .tasks(&TaskFilter {
                customer: Some(id),
                ..TaskFilter::default()
            })
            .await
            .unwrap();
        let mut opportunities = Vec::new();
        for o in bank_wide
            .opportunities(&kam_store::OpportunityFilter {
                customer: Some(id),
                ..Default::default()
            })
            .await
            .unwrap()
        {
            let view = bank_wide.opportunity(o.id).await.unwrap();
            opportunities.push(format!(
                "{:?} {:?} {:?} {:?} {:?}",
                view.row, view.moves, view.ticks, view.obstacles, view.influences
            ));
        }
        people.push(format!(
            "{:?} {:?} {:?} {:?} {:?} {tasks:?} {opportunities:?}",
            bank_wide.key_people(id).await.unwrap(),
            bank_wide.assignment_history(id).await.unwrap(),
            bank_wide.corporate_profile(id).await.unwrap(),
            bank_wide.activities(id, 0).await.unwrap(),
            bank_wide.needs(id).await.unwrap(),
        ));
    }
    let owner_tokens = store
        .for_user(owner, today())
        .await
        .unwrap()
        .api_tokens()
        .await
        .unwrap();
    let users: Vec<_> = store
        .list_users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| (u.username.to_string(), u.disabled))
        .collect();
    let mut hashes = Vec::new();
    for user in store.list_users().await.unwrap() {
        hashes.push(store.password_hash(user.id).await.unwrap());
    }
    let reports = bank_wide
        .team_reports(kam_core::report::week_of(today()))
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.report)
        .collect::<Vec<_>>();
    format!(
        "{:?}\n{:?}\n{people:?}\n{owner_tokens:?}\n{users:?}\n{hashes:?}\n{reports:?}",
        store.manual_scores("board").await.unwrap(),
        alerts
            .iter()
            .map(|a| (a.id, &a.status, &a.assigned_to, &a.note))
            .collect::<Vec<_>>(),
    )
}

async fn refusals(store: &Store) -> usize {
    store
        .audit_events(None, 100_000)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.action.ends_with("_refused"))
        .count()
}

async fn every_write_refused_to_a_role_out_of_reach_or_read_only_writes_nothing_and_is_audited(
    store: Store,
) {
    let fixture = fixture::build(&store).await;
    store
        .sync_alerts(
            &system(),
            today(),
            "kam-default",
            1,
            &[StoredFinding {
                cif_no: "C0001".into(),
                kind: AlertKind::DepositDrop,
                tier: 2,
                evidence: "e".into(),
                thresholds: "t".into(),
            }],
        )
        .await
        .unwrap();
    let alert = store
        .whole_bank("test", today())
        .alerts(false)
        .await
        .unwrap()[0]
        .id;
    let owner = fixture::user(&store, "president.a").await;
    let owner_handle = store.for_user(&owner, today()).await.unwrap();
    owner_handle
        .create_api_token("owner's", "hash-of-owner")
        .await
        .unwrap();
    let token = owner_handle.api_tokens().await.unwrap()[0].id;
    let person = NewKeyPerson {
        name: "财务总监".into(),
        role: ContactRole::FinanceHead,
        title: None,
        closeness: Rating::new("closeness", 3).unwrap(),
        trust: Rating::new("trust", 3).unwrap(),
        favour: Rating::new("favour", 3).unwrap(),
        stage: RelationshipStage::Build,
        details: Default::default(),
    };
    // A key person of C0001 for the edits to name, added by head office's key-account manager.
    let kam = fixture::user(&store, "ho.kam").await;
    let existing = store
        .for_user(&kam, today())
        .await
        .unwrap()
        .add_key_person(
            fixture.c_corp_a,
            &NewKeyPerson {
                name: "出纳".into(),
                role: ContactRole::Cashier,
                ..person.clone()
            },
        )
        .await
        .unwrap();

    let assignment = store
        .whole_bank("test", today())
        .assignment_history(fixture.c_corp_a)
        .await
        .unwrap()[0]
        .id;
    // A logged visit of C0001 with its need and its next step's task, for the writes to name.
    let kam_handle = store.for_user(&kam, today()).await.unwrap();
    let visit = crate::activities::visit(today(), "matrix", "ho.kam");
    let activity = kam_handle
        .add_activity(fixture.c_corp_a, &visit, ActivityStatus::Done)
        .await
        .unwrap();
    let need = kam_handle.needs(fixture.c_corp_a).await.unwrap()[0].id;
    let task = kam_handle.tasks(&TaskFilter::default()).await.unwrap()[0].id;
    // An opportunity of C0001 with an obstacle and a buying influence, for the writes to name.
    store
        .create_product(
            &system(),
            &kam_core::product::NewProduct::parse(
                "LN-WC",
                "流动资金贷款",
                kam_core::org::Line::Corporate,
                kam_core::product::NeedCategory::Financing,
                kam_core::product::ProductRisk::R2,
            )
            .unwrap(),
        )
        .await
        .unwrap();
    let deal = kam_core::opportunity::NewOpportunity::parse(
        "流动资金贷款续作",
        &["LN-WC".to_owned()],
        "5000000",
        "ho.kam",
        today() + chrono::Days::new(30),
        "",
        kam_core::opportunity::Position::Unknown,
        "",
        false,
        "",
    )
    .unwrap();
    let pipeline = kam_core::opportunity::Pipeline::default_stages();
    let opportunity = kam_handle
        .add_opportunity(fixture.c_corp_a, &deal, &pipeline)
        .await
        .unwrap();
    let obstacle = kam_core::opportunity::NewObstacle::parse(
        "担保未谈妥",
        "与风险部商定担保方案",
        "ho.kam",
        today() + chrono::Days::new(5),
    )
    .unwrap();
    let obstacle_id = kam_handle
        .add_obstacle(opportunity, &obstacle)
        .await
        .unwrap();
    kam_handle
        .set_influence(
            opportunity,
            existing,
            kam_core::opportunity::InfluenceRole::Coach,
            kam_core::opportunity::Attitude::Supportive,
        )
        .await
        .unwrap();
    let context = Context {
        alert,
        token,
        customer: fixture.c_corp_a,
        person,
        existing,
        assignment,
        visit,
        activity,
        need,
        task,
        deal,
        pipeline,
        opportunity,
        obstacle,
        obstacle_id,
    };
    let mut refused = 0;
    for user in store.list_users().await.unwrap() {
        let handle = store.for_user(&user, today()).await.unwrap();
        let who = user.username.to_string();
        let sees = |cif: &'static str| {
            let handle = handle.clone();
            async move { handle.customer_by_cif(cif).await.is_ok() }
        };
        let (sees_c0001, sees_p0001) = (sees("C0001").await, sees("P0001").await);
        for write in Write::ALL {
            // What kam-core's rules say, and the refusal they give.
            let (allowed, refusal) = match write {
                Write::RevokeToken => (user.id == owner.id, "NotFound"),
                Write::ResetPassword | Write::Disable | Write::AddUser | Write::EditUser => {
                    (user.role.may_administer(), "NotPermitted")
                }
                Write::Reveal if !sees_p0001 => (false, "NotFound"),
                Write::Reveal => (user.role.may_reveal(), "NotPermitted"),
                // One's own report: anyone who may write.
                Write::SaveReport => (handle.scope().may_write(), "ReadOnly"),
                _ if !sees_c0001 => (false, "NotFound"),
                _ if !handle.scope().may_write() => (false, "ReadOnly"),
                // Appointing and ending an RM's assignment are a manager's (kam-core).
                Write::AssignRm | Write::EndAssignment => (
                    handle.scope().appoints_relationship_managers(),
                    "NotPermitted",
                ),
                _ => (true, "ReadOnly"),
            };
            if allowed {
                // What an allowed write writes is each write's own test.
                continue;
            }
            let before = written(&store, &owner).await;
            let audited = refusals(&store).await;
            let answer = write.attempt(&handle, &context).await;
            let kind = match &answer {
                Err(Error::NotFound { .. }) => "NotFound",
                Err(Error::ReadOnly) => "ReadOnly",
                Err(Error::NotPermitted(_)) => "NotPermitted",
                other => panic!("{who} {write:?}: {other:?}"),
            };
            assert_eq!(kind, refusal, "{who} {write:?}");
            assert_eq!(
                written(&store, &owner).await,
                before,
                "{who} {write:?} wrote nothing"
            );
            assert_eq!(
                refusals(&store).await,
                audited + 1,
                "{who} {write:?} is audited"
            );
            refused += 1;
        }
    }
    // Eleven users, nine writes: most are refused to most of them.
    assert!(refused > 50, "refusals walked: {refused}");
}

struct Context {
    alert: i64,
    token: i64,
    customer: CustomerId,
    person: NewKeyPerson,
    /// A current key person of `customer`.
    existing: kam_core::id::KeyPersonId,
    assignment: kam_core::id::AssignmentId,
    visit: kam_core::activity::NewActivity,
    /// A logged activity of `customer` (version 1), its need and its task.
    activity: kam_core::id::ActivityId,
    need: kam_core::id::NeedId,
    task: kam_core::id::TaskId,
    /// An open opportunity of `customer` (version 1) with an obstacle and `existing` as a buying
    /// influence.
    deal: kam_core::opportunity::NewOpportunity,
    pipeline: kam_core::opportunity::Pipeline,
    opportunity: kam_core::id::OpportunityId,
    obstacle: kam_core::opportunity::NewObstacle,
    obstacle_id: kam_core::id::ObstacleId,
}

/// Every write of the user handle (`WRITES`).
#[derive(Debug, Clone, Copy)]
enum Write {
    Score,
    HandleAlert,
    AssignAlert,
    AddKeyPerson,
    EditKeyPerson,
    RetireKeyPerson,
    AddActivity,
    SaveActivity,
    CancelActivity,
    SetNeedStatus,
    AddTask,
    EditTask,
    SetTaskStatus,
    DeleteTask,
    AddOpportunity,
    EditOpportunity,
    AdvanceOpportunity,
    DeleteOpportunity,
    AddObstacle,
    ClearObstacle,
    SetInfluence,
    RemoveInfluence,
    SaveReport,
    AssignRm,
    EndAssignment,
    SaveProfile,
    RevokeToken,
    ResetPassword,
    Disable,
    AddUser,
    EditUser,
    Reveal,
}

impl Write {
    const ALL: [Write; 32] = [
        Write::Score,
        Write::HandleAlert,
        Write::AssignAlert,
        Write::AddKeyPerson,
        Write::EditKeyPerson,
        Write::RetireKeyPerson,
        Write::AddActivity,
        Write::SaveActivity,
        Write::CancelActivity,
        Write::SetNeedStatus,
        Write::AddTask,
        Write::EditTask,
        Write::SetTaskStatus,
        Write::DeleteTask,
        Write::AddOpportunity,
        Write::EditOpportunity,
        Write::AdvanceOpportunity,
        Write::DeleteOpportunity,
        Write::AddObstacle,
        Write::ClearObstacle,
        Write::SetInfluence,
        Write::RemoveInfluence,
        Write::SaveReport,
        Write::AssignRm,
        Write::EndAssignment,
        Write::SaveProfile,
        Write::RevokeToken,
        Write::ResetPassword,
        Write::Disable,
        Write::AddUser,
        Write::EditUser,
        Write::Reveal,
    ];

    async fn attempt(self, handle: &UserStore, c: &Context) -> kam_store::Result<()> {
        match self {
            Write::Score => {
                handle
                    .set_manual_scores(
                        "C0001",
                        "board",
                        &[ScoreEntry::new("relationship", 7, Seen::Unchecked)],
                    )
                    .await
            }
            Write::HandleAlert => handle.handle_alert(c.alert, "noted").await,
            Write::AssignAlert => handle.assign_alert(c.alert, None).await,
            Write::AddKeyPerson => handle.add_key_person(c.customer, &c.person).await.map(drop),
            Write::EditKeyPerson => handle
                .edit_key_person(c.customer, c.existing, &c.person, 1)
                .await
                .map(drop),
            Write::RetireKeyPerson => {
                handle
                    .retire_key_person(c.customer, c.existing, "已离职", 1)
                    .await
            }
            Write::AddActivity => handle
                .add_activity(c.customer, &c.visit, ActivityStatus::Done)
                .await
                .map(drop),
            Write::SaveActivity => handle
                .save_activity(
                    c.customer,
                    c.activity,
                    &c.visit,
                    (ActivityStatus::Done, None),
                    1,
                )
                .await
                .map(drop),
            Write::CancelActivity => {
                handle
                    .cancel_activity(c.customer, c.activity, "录入错误", 1)
                    .await
            }
            Write::SetNeedStatus => {
                handle
                    .set_need_status(c.customer, c.need, NeedStatus::Met)
                    .await
            }
            Write::AddTask => {
                let task = NewTask::parse("送方案", today(), "ho.kam", Priority::High, "").unwrap();
                handle.add_task(c.customer, &task).await.map(drop)
            }
            Write::EditTask => {
                let task = NewTask::parse("送方案", today(), "ho.kam", Priority::High, "").unwrap();
                handle.edit_task(c.task, &task, 1).await.map(drop)
            }
            Write::SetTaskStatus => handle
                .set_task_status(c.task, TaskStatus::Done, 1)
                .await
                .map(drop),
            Write::DeleteTask => handle.delete_task(c.task, "重复了", 1).await,
            Write::AddOpportunity => handle
                .add_opportunity(c.customer, &c.deal, &c.pipeline)
                .await
                .map(drop),
            Write::EditOpportunity => handle
                .edit_opportunity(c.opportunity, &c.deal, 1)
                .await
                .map(drop),
            Write::AdvanceOpportunity => {
                let lost = kam_store::Advance {
                    ticked: Vec::new(),
                    to: "lost".into(),
                    reason: Some("客户需求取消".into()),
                };
                handle
                    .advance_opportunity(c.opportunity, &lost, &c.pipeline, 1)
                    .await
                    .map(drop)
            }
            Write::DeleteOpportunity => handle.delete_opportunity(c.opportunity, "重复了", 1).await,
            Write::AddObstacle => handle
                .add_obstacle(c.opportunity, &c.obstacle)
                .await
                .map(drop),
            Write::ClearObstacle => handle.clear_obstacle(c.opportunity, c.obstacle_id).await,
            Write::SetInfluence => {
                handle
                    .set_influence(
                        c.opportunity,
                        c.existing,
                        kam_core::opportunity::InfluenceRole::Economic,
                        kam_core::opportunity::Attitude::Opposed,
                    )
                    .await
            }
            Write::RemoveInfluence => handle.remove_influence(c.opportunity, c.existing).await,
            Write::SaveReport => handle
                .save_report(kam_core::report::week_of(today()), "本周拜访三次", true, 0)
                .await
                .map(drop),
            Write::AssignRm => handle
                .assign_rm(c.customer, "rm.corp.a", AssignmentRole::Member, today())
                .await
                .map(drop),
            Write::EndAssignment => {
                handle
                    .end_assignment(c.customer, c.assignment, today())
                    .await
            }
            Write::SaveProfile => handle
                .save_corporate_profile(
                    c.customer,
                    &kam_core::profile::CorporateProfile {
                        employees: Some(10),
                        ..Default::default()
                    },
                    0,
                )
                .await
                .map(drop),
            Write::RevokeToken => handle.revoke_api_token(c.token).await,
            Write::ResetPassword => handle.reset_password("teller.a", "x").await.map(drop),
            Write::Disable => handle.set_user_disabled("teller.a", true).await.map(drop),
            Write::AddUser => {
                let new = kam_core::user::NewUser::parse(
                    "new.rm",
                    "新客户经理",
                    kam_core::user::Role::Teller,
                    "0111",
                    Some(kam_core::org::Line::Retail),
                )
                .unwrap();
                handle.add_user(&new, "hash").await.map(drop)
            }
            Write::EditUser => {
                let seen = handle.list_users().await?;
                let teller = seen
                    .iter()
                    .find(|u| u.username.as_str() == "teller.a")
                    .unwrap();
                let change = kam_core::user::NewUser::parse(
                    "teller.a",
                    "改名",
                    teller.role,
                    "0111",
                    teller.line,
                )
                .unwrap();
                handle.edit_user(teller, &change).await.map(drop)
            }
            Write::Reveal => handle
                .reveal_identifier("P0001", "id_number", "核对身份")
                .await
                .map(drop),
        }
    }
}

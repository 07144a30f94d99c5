//! Activities, needs and tasks on both databases: logging a visit writes its participants,
//! needs and next steps' tasks in one transaction and moves the key people's last contact; a plan
//! is moved only with a reason and cancelled with one; versions refuse a stale save; a task goes
//! only where kam-core lets it go and is done, reopened and deleted softly.

use chrono::NaiveDate;
use kam_core::{
    activity::{
        ActivityKind, ActivityStatus, FoundNeed, NeedKind, NeedStatus, NewActivity, NextStep, Spin,
    },
    contact::{ContactRole, NewKeyPerson, RelationshipStage},
    task::{NewTask, Priority, TaskSource, TaskStatus},
};
use kam_store::{Error, Store, TaskFilter};

use crate::fixture::{self, scope, today};

crate::on_both_backends!(
    a_logged_visit_keeps_its_notes_needs_and_tasks_and_dates_the_contact,
    a_plan_is_moved_with_a_reason_logged_by_version_and_cancelled,
    a_refused_activity_or_task_writes_nothing,
    tasks_are_given_done_reopened_and_deleted,
    a_banks_work_history_loads_whole,
    visit_tallies_count_visits_by_role_in_the_period,
    the_batchs_task_count_reads_tasks_and_logged_activities_in_each_window,
    a_weekly_report_is_saved_by_version_submitted_once_and_read_by_the_team_s_manager,
);

/// A logged visit on `day` at 09:30 with one explicit need and one next step for `owner`.
pub fn visit(day: NaiveDate, purpose: &str, owner: &str) -> NewActivity {
    NewActivity {
        kind: ActivityKind::Visit,
        starts: day.and_hms_opt(9, 30, 0).unwrap(),
        minutes: Some(60),
        place: Some("客户财务部".into()),
        purpose: format!("{purpose}：了解结算需求"),
        colleagues: Vec::new(),
        people: Vec::new(),
        spin: Spin {
            situation: Some("主要结算行为他行".into()),
            problem: Some("跨行到账慢".into()),
            implication: Some("影响供应商付款".into()),
            need_payoff: Some("当日到账可减少垫资".into()),
        },
        needs: vec![FoundNeed {
            text: "希望开通现金管理".into(),
            kind: NeedKind::Explicit,
        }],
        outcome: Some("同意下周看方案".into()),
        next_steps: vec![NextStep {
            text: "发送现金管理方案".into(),
            due: day + chrono::Days::new(3),
            owner: Some(owner.to_owned()),
        }],
    }
}

async fn a_logged_visit_keeps_its_notes_needs_and_tasks_and_dates_the_contact(store: Store) {
    let fixture = fixture::build(&store).await;
    let rm = scope(&store, "rm.corp.a").await;
    let person = NewKeyPerson::parse(
        "王总",
        ContactRole::DecisionMaker,
        None,
        [4, 4, 3],
        RelationshipStage::Deepen,
    )
    .unwrap();
    let wang = rm.add_key_person(fixture.c_corp_a, &person).await.unwrap();
    assert!(rm.last_contacts(fixture.c_corp_a).await.unwrap().is_empty());
    let day = today() - chrono::Days::new(2);
    let mut logged = visit(day, "首次拜访", "rm.corp.a");
    logged.people = vec![wang];
    logged.colleagues = vec!["president.a".into()];
    let id = rm
        .add_activity(fixture.c_corp_a, &logged, ActivityStatus::Done)
        .await
        .unwrap();
    // The person's last contact is the visit's day.
    assert_eq!(
        rm.last_contacts(fixture.c_corp_a).await.unwrap()[&wang],
        day
    );
    let view = rm.activity(fixture.c_corp_a, id).await.unwrap();
    assert_eq!(view.activity.status, ActivityStatus::Done);
    assert_eq!(view.activity.details.spin, logged.spin);
    assert_eq!(view.activity.details.starts, logged.starts);
    let mut names: Vec<&str> = view.colleagues.iter().map(|(u, _)| u.as_str()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["president.a", "rm.corp.a"],
        "the one who logs it took part"
    );
    assert_eq!(view.people, vec![(wang, "王总".to_owned())]);
    assert_eq!(view.needs.len(), 1);
    assert_eq!(view.needs[0].kind, NeedKind::Explicit);
    assert_eq!(view.needs[0].found_on, day);
    assert_eq!(view.tasks.len(), 1);
    assert_eq!(view.tasks[0].source, TaskSource::NextStep);
    assert_eq!(view.tasks[0].owner, "rm.corp.a");
    assert_eq!(view.tasks[0].due, day + chrono::Days::new(3));
    // The needs list of the customer; a need met and open again.
    let need = rm.needs(fixture.c_corp_a).await.unwrap()[0].id;
    rm.set_need_status(fixture.c_corp_a, need, NeedStatus::Met)
        .await
        .unwrap();
    let needs = rm.needs(fixture.c_corp_a).await.unwrap();
    assert_eq!(
        (needs[0].status, needs[0].met_on),
        (NeedStatus::Met, Some(today()))
    );
    // Both colleagues see it in their days; someone not taking part sees it only as a manager.
    let president = scope(&store, "president.a").await;
    let mine = |h: kam_store::UserStore| async move {
        let user = h.user().unwrap().id;
        h.activities_between(day, day, Some(user))
            .await
            .unwrap()
            .len()
    };
    assert_eq!(mine(rm.clone()).await, 1);
    assert_eq!(mine(president.clone()).await, 1);
    let rows = rm.activities(fixture.c_corp_a, 0).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].people, vec!["王总".to_owned()]);
    assert_eq!(rows[0].colleagues.len(), 2);
    let events = store.audit_events(Some("activity"), 10).await.unwrap();
    assert_eq!(events[0].action, "log");
    assert_eq!(events[0].entity_key, "C0001");
    // A customer out of reach: not found, for reads and writes alike.
    let other = scope(&store, "rm.corp.c").await;
    assert!(matches!(
        other.activity(fixture.c_corp_a, id).await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        other.needs(fixture.c_corp_a).await,
        Err(Error::NotFound { .. })
    ));
}

async fn a_plan_is_moved_with_a_reason_logged_by_version_and_cancelled(store: Store) {
    let fixture = fixture::build(&store).await;
    let rm = scope(&store, "rm.corp.a").await;
    let tomorrow = today() + chrono::Days::new(1);
    let mut plan = visit(tomorrow, "计划拜访", "rm.corp.a");
    plan.needs.clear();
    plan.next_steps.clear();
    plan.outcome = None;
    let id = rm
        .add_activity(fixture.c_corp_a, &plan, ActivityStatus::Planned)
        .await
        .unwrap();
    // Moved without a reason: refused, naming the reason.
    let mut moved = plan.clone();
    moved.starts = (tomorrow + chrono::Days::new(2))
        .and_hms_opt(14, 0, 0)
        .unwrap();
    moved.colleagues = vec!["rm.corp.a".into()];
    match rm
        .save_activity(
            fixture.c_corp_a,
            id,
            &moved,
            (ActivityStatus::Planned, None),
            1,
        )
        .await
    {
        Err(Error::Invalid(e)) => assert_eq!(e.field, "reason"),
        other => panic!("{other:?}"),
    }
    let v2 = rm
        .save_activity(
            fixture.c_corp_a,
            id,
            &moved,
            (ActivityStatus::Planned, Some("客户出差")),
            1,
        )
        .await
        .unwrap();
    assert_eq!(v2, 2);
    let view = rm.activity(fixture.c_corp_a, id).await.unwrap();
    assert_eq!(view.activity.reason.as_deref(), Some("客户出差"));
    assert_eq!(view.activity.details.starts, moved.starts);
    assert_eq!(
        store.audit_events(Some("activity"), 1).await.unwrap()[0].action,
        "move"
    );
    // A form opened at version 1 is refused.
    assert!(matches!(
        rm.save_activity(
            fixture.c_corp_a,
            id,
            &moved,
            (ActivityStatus::Planned, Some("再改")),
            1
        )
        .await,
        Err(Error::Conflict { .. })
    ));
    // Cancelled with a reason; a cancelled activity is final.
    match rm.cancel_activity(fixture.c_corp_a, id, " ", 2).await {
        Err(Error::Invalid(e)) => assert_eq!(e.field, "reason"),
        other => panic!("{other:?}"),
    }
    rm.cancel_activity(fixture.c_corp_a, id, "客户取消会面", 2)
        .await
        .unwrap();
    let view = rm.activity(fixture.c_corp_a, id).await.unwrap();
    assert_eq!(view.activity.status, ActivityStatus::Cancelled);
    match rm
        .save_activity(
            fixture.c_corp_a,
            id,
            &moved,
            (ActivityStatus::Planned, Some("x x")),
            3,
        )
        .await
    {
        Err(Error::Invalid(e)) => assert_eq!(e.field, "status"),
        other => panic!("{other:?}"),
    }
    // A plan logged when it took place: today's plan becomes a logged visit with its findings.
    let mut today_plan = plan.clone();
    today_plan.starts = today().and_hms_opt(8, 0, 0).unwrap();
    let id = rm
        .add_activity(fixture.c_corp_a, &today_plan, ActivityStatus::Planned)
        .await
        .unwrap();
    let mut done = visit(today(), "计划拜访", "rm.corp.a");
    done.starts = today_plan.starts;
    done.colleagues = vec!["rm.corp.a".into()];
    rm.save_activity(fixture.c_corp_a, id, &done, (ActivityStatus::Done, None), 1)
        .await
        .unwrap();
    let view = rm.activity(fixture.c_corp_a, id).await.unwrap();
    assert_eq!(view.activity.status, ActivityStatus::Done);
    assert_eq!((view.needs.len(), view.tasks.len()), (1, 1));
    assert_eq!(
        store.audit_events(Some("activity"), 1).await.unwrap()[0].action,
        "log"
    );
}

async fn a_refused_activity_or_task_writes_nothing(store: Store) {
    let fixture = fixture::build(&store).await;
    let rm = scope(&store, "rm.corp.a").await;
    let rows = |s: Store| async move {
        let bank = s.whole_bank("test", today());
        (
            bank.activities(fixture.c_corp_a, 0).await.unwrap().len(),
            bank.tasks(&TaskFilter::default()).await.unwrap().len(),
            bank.needs(fixture.c_corp_a).await.unwrap().len(),
        )
    };
    // An RM gives a next step to a colleague: refused on the step's row, nothing written (not
    // the activity, not its need).
    let given = visit(today(), "拜访", "president.a");
    match rm
        .add_activity(fixture.c_corp_a, &given, ActivityStatus::Done)
        .await
    {
        Err(Error::Invalid(e)) => assert_eq!(e.field, "step_1"),
        other => panic!("{other:?}"),
    }
    // A key person of another customer; a colleague who is no user; a logged visit tomorrow.
    let ho = scope(&store, "ho.kam").await;
    let person = NewKeyPerson::parse(
        "李会计",
        ContactRole::Accountant,
        None,
        [3, 3, 3],
        RelationshipStage::Build,
    )
    .unwrap();
    let elsewhere = ho.add_key_person(fixture.c_corp_b, &person).await.unwrap();
    let mut wrong = visit(today(), "拜访", "rm.corp.a");
    wrong.people = vec![elsewhere];
    match rm
        .add_activity(fixture.c_corp_a, &wrong, ActivityStatus::Done)
        .await
    {
        Err(Error::Invalid(e)) => assert_eq!(e.field, "people"),
        other => panic!("{other:?}"),
    }
    let mut wrong = visit(today(), "拜访", "rm.corp.a");
    wrong.colleagues = vec!["nobody".into()];
    match rm
        .add_activity(fixture.c_corp_a, &wrong, ActivityStatus::Done)
        .await
    {
        Err(Error::Invalid(e)) => assert_eq!(e.field, "colleagues"),
        other => panic!("{other:?}"),
    }
    let future = visit(today() + chrono::Days::new(1), "拜访", "rm.corp.a");
    match rm
        .add_activity(fixture.c_corp_a, &future, ActivityStatus::Done)
        .await
    {
        Err(Error::Invalid(e)) => assert_eq!(e.field, "starts"),
        other => panic!("{other:?}"),
    }
    let plain = visit(today(), "拜访", "rm.corp.a");
    match rm
        .add_activity(fixture.c_corp_a, &plain, ActivityStatus::Cancelled)
        .await
    {
        Err(Error::Invalid(e)) => assert_eq!(e.field, "status", "cancelled from the start"),
        other => panic!("{other:?}"),
    }
    let task = NewTask::parse("送方案", today(), "president.a", Priority::High, "").unwrap();
    match rm.add_task(fixture.c_corp_a, &task).await {
        Err(Error::Invalid(e)) => assert_eq!(e.field, "owner"),
        other => panic!("{other:?}"),
    }
    assert_eq!(rows(store.clone()).await, (0, 0, 0));
    // A read-only role writes nothing either.
    let auditor = scope(&store, "risk.b1").await;
    let mine = visit(today(), "拜访", "risk.b1");
    assert!(matches!(
        auditor
            .add_activity(fixture.c_corp_a, &mine, ActivityStatus::Done)
            .await,
        Err(Error::ReadOnly)
    ));
    assert_eq!(rows(store).await, (0, 0, 0));
}

async fn tasks_are_given_done_reopened_and_deleted(store: Store) {
    let fixture = fixture::build(&store).await;
    let rm = scope(&store, "rm.corp.a").await;
    let president = scope(&store, "president.a").await;
    // A president gives work to an RM of the sub-branch; the RM to themselves.
    let due = today() + chrono::Days::new(5);
    let given = NewTask::parse("约财务总监", due, "rm.corp.a", Priority::High, "带上方案").unwrap();
    let id = president.add_task(fixture.c_corp_a, &given).await.unwrap();
    let own = NewTask::parse(
        "准备报价",
        today() - chrono::Days::new(1),
        "rm.corp.a",
        Priority::Normal,
        "",
    )
    .unwrap();
    let late = rm.add_task(fixture.c_corp_a, &own).await.unwrap();
    let rm_id = rm.user().unwrap().id;
    let mine = rm
        .tasks(&TaskFilter {
            owner: Some(rm_id),
            open_only: true,
            ..TaskFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(
        mine.iter().map(|t| t.id).collect::<Vec<_>>(),
        vec![late, id],
        "by due day"
    );
    assert_eq!(mine[0].days_overdue(today()), 1);
    assert_eq!(mine[1].notes.as_deref(), Some("带上方案"));
    // Done today, then reopened; a stale version is a conflict.
    let v = rm.set_task_status(late, TaskStatus::Done, 1).await.unwrap();
    let t = rm.task(late).await.unwrap();
    assert_eq!((t.status, t.done_on), (TaskStatus::Done, Some(today())));
    assert!(matches!(
        rm.set_task_status(late, TaskStatus::Open, 1).await,
        Err(Error::Conflict { .. })
    ));
    rm.set_task_status(late, TaskStatus::Open, v).await.unwrap();
    assert_eq!(rm.task(late).await.unwrap().done_on, None);
    // Edited: a new day; an owner the RM may not give it to is refused.
    let mut edit = given.clone();
    edit.due = today() + chrono::Days::new(7);
    rm.edit_task(id, &edit, 1).await.unwrap();
    assert_eq!(rm.task(id).await.unwrap().due, edit.due);
    edit.owner = "president.a".into();
    match rm.edit_task(id, &edit, 2).await {
        Err(Error::Invalid(e)) => assert_eq!(e.field, "owner"),
        other => panic!("{other:?}"),
    }
    // Deleted with a reason: gone from the lists, kept in the table and the audit trail.
    rm.delete_task(id, "客户已自行联系", 2).await.unwrap();
    assert!(matches!(rm.task(id).await, Err(Error::NotFound { .. })));
    let left = rm.tasks(&TaskFilter::default()).await.unwrap();
    assert_eq!(left.iter().map(|t| t.id).collect::<Vec<_>>(), vec![late]);
    let events = store.audit_events(Some("task"), 10).await.unwrap();
    assert_eq!(events[0].action, "delete");
    assert!(events[0].detail.contains("客户已自行联系"));
    // Another sub-branch's RM sees none of it.
    let other = scope(&store, "rm.corp.c").await;
    assert!(
        other
            .tasks(&TaskFilter::default())
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        other.task(late).await,
        Err(Error::NotFound { .. })
    ));
}

async fn a_banks_work_history_loads_whole(store: Store) {
    use kam_core::{
        activity::ActivityStatus as S,
        password::{HashCost, hash_password},
    };
    let bank = kam_synth::Bank::generate(kam_synth::SynthConfig::new(kam_synth::Scale::Tiny, 5));
    let data = &bank.reference;
    let hash = hash_password("Kam-2026-test", &[3; 16], HashCost::Cheap);
    store
        .bulk_load(&fixture::system(), data, &vec![hash; data.users.len()])
        .await
        .unwrap();
    let (activities, tasks) = kam_synth::work_history(data, (today(), today()));
    let counts = store
        .load_work(&fixture::system(), &activities, &tasks)
        .await
        .unwrap();
    assert_eq!(counts.activities, activities.len());
    assert_eq!(
        counts.tasks,
        tasks.len(),
        "every task found its activity and owner"
    );
    let needs: usize = activities.iter().map(|a| a.activity.needs.len()).sum();
    assert_eq!(counts.needs, needs);
    // Read back through the bank-wide handle: participants, people met, contacts, tasks.
    let bank_wide = store.whole_bank("test", today());
    let logged = activities
        .iter()
        .find(|a| a.status == S::Done && !a.people.is_empty())
        .unwrap();
    let customer = bank_wide.customer_by_cif(&logged.cif_no).await.unwrap();
    let rows = bank_wide.activities(customer.id, 0).await.unwrap();
    let row = rows
        .iter()
        .find(|r| r.starts == logged.activity.starts)
        .unwrap();
    assert_eq!(row.people.len(), logged.people.len());
    assert!(!row.colleagues.is_empty());
    let contacts = bank_wide.last_contacts(customer.id).await.unwrap();
    assert!(!contacts.is_empty());
    let done = bank_wide
        .tasks(&TaskFilter::default())
        .await
        .unwrap()
        .iter()
        .filter(|t| t.status == TaskStatus::Done)
        .count();
    assert_eq!(done, tasks.iter().filter(|t| t.done_on.is_some()).count());
    // The weekly reports drafted from the same history.
    let reports = kam_synth::weekly_reports(data, (&activities, &tasks), &[], today());
    let written = store
        .load_reports(&fixture::system(), &reports)
        .await
        .unwrap();
    assert_eq!(written, reports.len());
    let first = &reports[0];
    let read = bank_wide
        .report(&first.username, first.week)
        .await
        .unwrap()
        .unwrap();
    assert!(read.submitted && read.body == first.body);
}

async fn visit_tallies_count_visits_by_role_in_the_period(store: Store) {
    use kam_core::{codec::Bars, tier::Movement};
    let fixture = fixture::build(&store).await;
    let tier = |cif: &str| kam_store::StoredTier {
        cif_no: cif.into(),
        month: "2026-11".into(),
        as_of: today(),
        tier: 1,
        tier_name: "战略".into(),
        tier_name_en: "strategic".into(),
        months_below: 0,
        on_watch: false,
        movement: Movement::Held,
        measured_tier: 1,
        rule_id: "kam-default".into(),
        rule_version: 4,
        indicator: "avg_daily_deposit_90d".into(),
        value_int: Some(1),
        bars: Bars(vec![4, 3, 2, 1]),
    };
    store
        .save_tiers(
            &fixture::system(),
            "2026-11",
            &[tier("C0001"), tier("P0001")],
        )
        .await
        .unwrap();
    let rm = scope(&store, "rm.corp.a").await;
    let day = |n: u64| today() - chrono::Days::new(n);
    let mut with_president = visit(day(3), "拜访", "rm.corp.a");
    with_president.colleagues = vec!["president.a".into()];
    for (activity, status) in [
        (with_president, ActivityStatus::Done),
        (visit(day(2), "再访", "rm.corp.a"), ActivityStatus::Done),
        (visit(day(40), "上月", "rm.corp.a"), ActivityStatus::Done),
    ] {
        rm.add_activity(fixture.c_corp_a, &activity, status)
            .await
            .unwrap();
    }
    let mut call = visit(day(1), "电话", "rm.corp.a");
    call.kind = ActivityKind::Call;
    rm.add_activity(fixture.c_corp_a, &call, ActivityStatus::Done)
        .await
        .unwrap();
    let president = scope(&store, "president.a").await;
    let tallies = president.visit_tallies(day(30), today()).await.unwrap();
    // The individual is not counted (coverage is of companies); the call is not a visit.
    assert_eq!(tallies.len(), 1);
    let t = &tallies[0];
    assert_eq!((t.cif_no.as_str(), t.tier), ("C0001", 1));
    assert_eq!((t.rm_visits, t.president_visits), (2, 1));
    assert_eq!(t.last_visit, Some(day(2)));
}

async fn the_batchs_task_count_reads_tasks_and_logged_activities_in_each_window(store: Store) {
    let fixture = fixture::build(&store).await;
    let rm = scope(&store, "rm.corp.a").await;
    let day = |n: i64| today() + chrono::Duration::days(n);
    // Due in the last week; due a month ago but done this week; due later; deleted.
    for (title, due) in [
        ("本周到期", day(-3)),
        ("上月到期", day(-40)),
        ("下周到期", day(7)),
        ("删掉的", day(-1)),
    ] {
        let task = NewTask::parse(title, due, "rm.corp.a", Priority::Normal, "").unwrap();
        rm.add_task(fixture.c_corp_a, &task).await.unwrap();
    }
    let tasks = rm.tasks(&TaskFilter::default()).await.unwrap();
    let id = |title: &str| tasks.iter().find(|t| t.title == title).unwrap().id;
    rm.set_task_status(id("上月到期"), TaskStatus::Done, 1)
        .await
        .unwrap();
    rm.delete_task(id("删掉的"), "重复录入", 1).await.unwrap();
    // A visit logged two days ago (its next step is due in a day: outside `as_of`), and a plan.
    let mut logged = visit(day(-2), "拜访", "rm.corp.a");
    logged.next_steps[0].due = day(1);
    rm.add_activity(fixture.c_corp_a, &logged, ActivityStatus::Done)
        .await
        .unwrap();
    let mut plan = visit(day(3), "计划", "rm.corp.a");
    plan.needs.clear();
    plan.next_steps.clear();
    rm.add_activity(fixture.c_corp_a, &plan, ActivityStatus::Planned)
        .await
        .unwrap();
    let counts = store.task_counts(today(), &[7, 90]).await.unwrap();
    // 7 days: the week's task, the task done today, the logged visit.
    assert_eq!(counts.get(&("C0001".to_owned(), 7)), Some(&3));
    // 90 days: the same, the month-old due day being inside too (counted once).
    assert_eq!(counts.get(&("C0001".to_owned(), 90)), Some(&3));
    assert_eq!(counts.get(&("C0002".to_owned(), 7)), None);
}

async fn a_weekly_report_is_saved_by_version_submitted_once_and_read_by_the_team_s_manager(
    store: Store,
) {
    fixture::build(&store).await;
    let week = kam_core::report::week_of(today());
    let rm = scope(&store, "rm.corp.a").await;
    assert_eq!(
        rm.save_report(week, "周报 草稿", false, 0).await.unwrap(),
        1
    );
    assert_eq!(
        rm.save_report(week, "周报 第二稿", false, 1).await.unwrap(),
        2
    );
    assert!(matches!(
        rm.save_report(week, "另一个标签页", false, 1).await,
        Err(Error::Conflict { .. })
    ));
    match rm.save_report(week, "   ", true, 2).await {
        Err(Error::Invalid(e)) => assert_eq!(e.field, "body"),
        other => panic!("{other:?}"),
    }
    assert_eq!(rm.save_report(week, "周报 定稿", true, 2).await.unwrap(), 3);
    match rm.save_report(week, "改一下", false, 3).await {
        Err(Error::Invalid(e)) => assert_eq!(e.field, "status"),
        other => panic!("{other:?}"),
    }
    let mine = rm.report("rm.corp.a", week).await.unwrap().unwrap();
    assert!(mine.submitted && mine.submitted_at.is_some());
    assert_eq!(mine.body, "周报 定稿");
    // The president reads it, and sees who has not submitted; another branch's RM does not.
    let president = scope(&store, "president.a").await;
    assert_eq!(
        president
            .report("rm.corp.a", week)
            .await
            .unwrap()
            .unwrap()
            .version,
        3
    );
    let team = president.team_reports(week).await.unwrap();
    let status: Vec<(&str, bool)> = team
        .iter()
        .map(|m| {
            (
                m.user.username.as_str(),
                m.report.as_ref().is_some_and(|r| r.submitted),
            )
        })
        .collect();
    assert!(status.contains(&("rm.corp.a", true)));
    assert!(status.contains(&("rm.retail.a", false)));
    assert!(
        !status.iter().any(|(u, _)| *u == "rm.corp.c"),
        "another branch's RM"
    );
    let other = scope(&store, "rm.corp.c").await;
    assert!(matches!(
        other.report("rm.corp.a", week).await,
        Err(Error::NotFound { .. })
    ));
    let trail = store.audit_events(Some("weekly_report"), 5).await.unwrap();
    assert_eq!(trail[0].action, "submit");
}

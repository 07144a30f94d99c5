//! An RM works in kam: logs a visit with SPIN notes, needs and a next step from the 360, sees the
//! step's task in my day and my week and marks it done, plans a visit, moves it with a reason and
//! cancels it; a task is added by hand; a read-only role writes none of it.

use kam_core::{
    contact::{ContactRole, NewKeyPerson, RelationshipStage},
    user::Role,
};
use reqwest::{Method, StatusCode};

use crate::fixture::{Server, kam_web_today};

crate::on_both_backends!(
    an_rm_logs_a_visit_and_works_its_task_in_my_day_and_my_week,
    a_planned_visit_is_moved_with_a_reason_and_cancelled,
    a_task_is_added_by_hand_and_a_read_only_role_writes_nothing,
    the_api_logs_a_visit_and_works_its_tasks,
    the_pre_visit_brief_tells_what_changed_and_what_is_open,
    visit_coverage_counts_the_months_visits_by_tier_and_role,
    an_rm_submits_the_weekly_report_and_the_president_reads_the_teams,
);

/// A visit's form fields on `date`, with one need and one next step due on `due`.
pub(crate) fn visit<'a>(
    status: &'a str,
    date: &'a str,
    due: &'a str,
    person: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("status", status),
        ("kind", "visit"),
        ("date", date),
        ("time", "09:30"),
        ("minutes", "60"),
        ("place", "客户财务部"),
        ("purpose", "了解现金管理需求"),
        ("people", person),
        ("colleagues", ""),
        ("situation", "主要结算在他行"),
        ("problem", "跨行到账慢"),
        ("implication", "影响供应商付款"),
        ("need_payoff", "当日到账能少垫资"),
        ("outcome", "同意看方案"),
        ("need_1", "开通现金管理"),
        ("need_1_kind", "explicit"),
        ("step_1", "发送现金管理方案"),
        ("step_1_due", due),
        ("step_1_owner", ""),
        ("version", ""),
    ]
}

/// A task's form fields.
fn task<'a>(due: &'a str, owner: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("title", "准备授信材料"),
        ("due", due),
        ("owner", owner),
        ("priority", "high"),
        ("notes", "财务报表三年"),
        ("version", ""),
    ]
}

async fn an_rm_logs_a_visit_and_works_its_task_in_my_day_and_my_week(server: Server) {
    let rm = server.user_of(Role::RelationshipManager).await;
    let company = server.company_in_reach(&rm).await;
    let handle = server.handle_of(&rm).await;
    let customer = handle.customer_by_cif(&company).await.unwrap();
    let person = NewKeyPerson::parse(
        "郑财务",
        ContactRole::FinanceHead,
        None,
        [5, 4, 3],
        RelationshipStage::Deepen,
    )
    .unwrap();
    let person = handle.add_key_person(customer.id, &person).await.unwrap();
    let person_id = person.0.to_string();
    let mut client = server.client();
    client.sign_in(rm.username.as_str()).await;
    let page = client.get(&format!("/customers/{company}")).await;
    assert!(page.body.contains("id=\"activity-log\"") && page.body.contains("未记录联系"));
    let form = client
        .get(&format!("/customers/{company}/activities/new"))
        .await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("郑财务") && form.body.contains("暗示问题"));
    let today = kam_web_today().to_string();
    let earlier = (kam_web_today() - chrono::Days::new(1)).to_string();
    // A next step due before the visit: named on its row, what was typed kept, nothing written.
    let path = format!("/customers/{company}/activities");
    let refused = client
        .post(&path, &visit("done", &today, &earlier, &person_id))
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("到期日应在活动当天或以后"));
    assert!(
        refused.body.contains("value=\"发送现金管理方案\"") && refused.body.contains("跨行到账慢")
    );
    assert!(handle.activities(customer.id, 0).await.unwrap().is_empty());
    let logged = client
        .post(&path, &visit("done", &today, &today, &person_id))
        .await;
    assert_eq!(logged.status, StatusCode::SEE_OTHER, "{}", logged.body);
    // The 360: the visit, the need, the task; the person contacted today.
    let page = client.get(&format!("/customers/{company}")).await;
    assert!(page.body.contains("id=\"activities-note\""));
    assert!(page.body.contains("了解现金管理需求") && page.body.contains("开通现金管理"));
    assert!(page.body.contains("发送现金管理方案"));
    assert!(page.body.contains("fresh-fresh") && page.body.contains("（0 天前）"));
    let activity = handle.activities(customer.id, 0).await.unwrap()[0].id;
    let task = handle
        .tasks(&kam_store::TaskFilter::default())
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.activity_id == Some(activity))
        .expect("the next step is a task");
    // My day: today's visit and the task due today.
    let home = client.get("/").await;
    assert!(home.body.contains("id=\"my-day\""));
    assert!(
        home.body.contains("了解现金管理需求")
            && home.body.contains(&format!("id=\"task-{}\"", task.id.0))
    );
    // My week and month.
    let week = client.get("/week").await;
    assert_eq!(week.status, StatusCode::OK);
    assert!(
        week.body
            .contains(&format!("id=\"cal-activity-{}\"", activity.0))
    );
    assert!(
        week.body
            .contains(&format!("id=\"cal-task-{}\"", task.id.0))
    );
    let month = client.get(&format!("/week?view=month&date={today}")).await;
    assert!(
        month
            .body
            .contains(&format!("id=\"cal-task-{}\"", task.id.0))
    );
    // Done from my day: back home with a note; the task list's done view has it.
    let done = client
        .post(
            &format!("/tasks/{}/done", task.id.0),
            &[("version", "1"), ("back", "/")],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(done.location.as_deref(), Some("/"));
    let home = client.get("/").await;
    assert!(home.body.contains("已完成：发送现金管理方案"));
    let list = client.get("/tasks?state=done").await;
    assert!(list.body.contains(&format!("id=\"task-{}\"", task.id.0)));
    // The visit's own page: notes kept, needs and tasks it made listed.
    let view = client
        .get(&format!("/customers/{company}/activities/{}", activity.0))
        .await;
    assert!(view.body.contains("当日到账能少垫资") && view.body.contains("id=\"found-tasks\""));
    let trail = server
        .store
        .audit_events(Some("activity"), 5)
        .await
        .unwrap();
    assert_eq!(trail[0].action, "log");
    // A read-only role reads the visit and the task without a button to change them.
    let auditor = server.user_of(Role::Auditor).await;
    let mut reader = server.client();
    reader.sign_in(auditor.username.as_str()).await;
    let page = reader
        .get(&format!("/customers/{company}/activities/{}", activity.0))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("当日到账能少垫资") && !page.body.contains("id=\"activity-save\""));
    let page = reader.get(&format!("/tasks/{}", task.id.0)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("id=\"task-save\"") && !page.body.contains("id=\"task-delete\""));
}

async fn a_planned_visit_is_moved_with_a_reason_and_cancelled(server: Server) {
    let rm = server.user_of(Role::RelationshipManager).await;
    let company = server.company_in_reach(&rm).await;
    let handle = server.handle_of(&rm).await;
    let customer = handle.customer_by_cif(&company).await.unwrap();
    let mut client = server.client();
    client.sign_in(rm.username.as_str()).await;
    let form = client
        .get(&format!(
            "/customers/{company}/activities/new?status=planned"
        ))
        .await;
    assert!(form.body.contains("计划拜访或活动"));
    let tomorrow = (kam_web_today() + chrono::Days::new(1)).to_string();
    let later = (kam_web_today() + chrono::Days::new(3)).to_string();
    let mut plan = visit("planned", &tomorrow, "", "");
    plan.retain(|(k, _)| !k.starts_with("need_") && !k.starts_with("step_") && *k != "people");
    let added = client
        .post(&format!("/customers/{company}/activities"), &plan)
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let id = handle.activities(customer.id, 0).await.unwrap()[0].id.0;
    let path = format!("/customers/{company}/activities/{id}");
    let mut moved: Vec<(&str, &str)> = plan
        .iter()
        .map(|(k, v)| match *k {
            "date" => ("date", later.as_str()),
            "version" => ("version", "1"),
            "colleagues" => ("colleagues", rm.username.as_str()),
            _ => (*k, *v),
        })
        .collect();
    let refused = client.post(&path, &moved).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("id=\"reason-error\""));
    moved.push(("reason", "客户临时出差"));
    let saved = client.post(&path, &moved).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let stale = client.post(&path, &moved).await;
    assert_eq!(
        stale.status,
        StatusCode::CONFLICT,
        "the form of version 1 again"
    );
    let view = handle
        .activity(customer.id, kam_core::id::ActivityId(id))
        .await
        .unwrap();
    assert_eq!(view.activity.details.starts.date().to_string(), later);
    assert_eq!(view.activity.reason.as_deref(), Some("客户临时出差"));
    let cancelled = client
        .post(
            &format!("{path}/cancel"),
            &[("reason", "客户取消"), ("version", "2")],
        )
        .await;
    assert_eq!(cancelled.status, StatusCode::SEE_OTHER);
    let page = client.get(&format!("/customers/{company}")).await;
    assert!(page.body.contains("status-cancelled"));
    let trail = server
        .store
        .audit_events(Some("activity"), 5)
        .await
        .unwrap();
    let actions: Vec<&str> = trail.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(&actions[..3], ["cancel", "move", "plan"]);
}

async fn a_task_is_added_by_hand_and_a_read_only_role_writes_nothing(server: Server) {
    let rm = server.user_of(Role::RelationshipManager).await;
    let company = server.company_in_reach(&rm).await;
    let mut client = server.client();
    client.sign_in(rm.username.as_str()).await;
    let form = client.get(&format!("/customers/{company}/tasks/new")).await;
    assert_eq!(form.status, StatusCode::OK);
    let due = (kam_web_today() + chrono::Days::new(2)).to_string();
    let president = server.user_of(Role::SubBranchPresident).await;
    // An RM gives work to nobody but themselves.
    let refused = client
        .post(
            &format!("/customers/{company}/tasks"),
            &task(&due, president.username.as_str()),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("工作只能交给自己") && refused.body.contains("准备授信材料"));
    let me = rm.username.as_str();
    let added = client
        .post(&format!("/customers/{company}/tasks"), &task(&due, me))
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let tasks = client.get("/tasks").await;
    assert!(tasks.body.contains("准备授信材料"));
    let handle = server.handle_of(&rm).await;
    let added = handle
        .tasks(&kam_store::TaskFilter::default())
        .await
        .unwrap()[0]
        .clone();
    // Edited by version; deleted with a reason (gone from the list).
    let edit = client.get(&format!("/tasks/{}", added.id.0)).await;
    assert!(edit.body.contains("value=\"准备授信材料\""));
    let deleted = client
        .post(
            &format!("/tasks/{}/delete", added.id.0),
            &[("reason", "客户已撤回申请"), ("version", "1")],
        )
        .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    let list = client.get("/tasks?state=all").await;
    assert!(
        list.body.contains("已删除任务：准备授信材料"),
        "the note says so"
    );
    assert!(!list.body.contains(&format!("id=\"task-{}\"", added.id.0)));
    // An auditor reads the 360 and writes nothing.
    let auditor = server.user_of(Role::Auditor).await;
    let mut reader = server.client();
    reader.sign_in(auditor.username.as_str()).await;
    let page = reader.get(&format!("/customers/{company}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("id=\"activity-log\"") && !page.body.contains("id=\"task-add\""));
    let task_page = reader.get(&format!("/tasks/{}", added.id.0)).await;
    assert_eq!(task_page.status, StatusCode::NOT_FOUND, "deleted");
    let today = kam_web_today().to_string();
    for (path, body) in [
        (
            format!("/customers/{company}/activities"),
            visit("done", &today, &today, ""),
        ),
        (format!("/customers/{company}/tasks"), task(&due, me)),
    ] {
        let answer = reader.post(&path, &body).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{path}");
    }
    let bank = server.store.whole_bank("test", kam_web_today());
    let customer = bank.customer_by_cif(&company).await.unwrap();
    assert!(bank.activities(customer.id, 0).await.unwrap().is_empty());
}

async fn the_api_logs_a_visit_and_works_its_tasks(server: Server) {
    let rm = server.user_of(Role::RelationshipManager).await;
    let company = server.company_in_reach(&rm).await;
    let token = server.token_for(&rm).await;
    let mut client = server.client();
    let today = kam_web_today();
    let path = format!("/api/v1/customers/{company}/activities");
    let body = |starts: String, status: &str| {
        serde_json::json!({
            "status": status,
            "kind": "call",
            "starts": starts,
            "purpose": "电话确认授信需求",
            "spin": {"problem": "流动资金紧张"},
            "needs": [{"text": "增加授信额度", "kind": "explicit"}],
            "outcome": "约下周面谈",
            "next_steps": [{"text": "预约面谈", "due": today.to_string()}],
        })
    };
    // A logged call tomorrow is refused, naming the field.
    let tomorrow = format!("{}T10:00", today + chrono::Days::new(1));
    let refused = client
        .send_api(Method::POST, &path, &token, &body(tomorrow, "done"))
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("\"starts\""), "{}", refused.body);
    let created = client
        .send_api(
            Method::POST,
            &path,
            &token,
            &body(format!("{today}T10:00"), "done"),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let item: serde_json::Value = serde_json::from_str(&created.body).unwrap();
    assert_eq!(item["needs"][0]["kind"], "explicit");
    assert_eq!(item["tasks"][0]["source"], "next_step");
    assert_eq!(item["spin"]["problem"], "流动资金紧张");
    let id = item["id"].as_i64().unwrap();
    let list = client.get_api(&path, &token).await;
    assert!(list.body.contains("电话确认授信需求"));
    let needs = client
        .get_api(&format!("/api/v1/customers/{company}/needs"), &token)
        .await;
    assert!(needs.body.contains("增加授信额度"));
    // A save with the wrong version is a conflict.
    let mut stale = body(format!("{today}T10:00"), "done");
    stale["version"] = serde_json::json!(7);
    stale["colleagues"] = serde_json::json!([rm.username.as_str()]);
    stale["needs"] = serde_json::json!([]);
    stale["next_steps"] = serde_json::json!([]);
    let conflict = client
        .send_api(Method::PUT, &format!("{path}/{id}"), &token, &stale)
        .await;
    assert_eq!(conflict.status, StatusCode::CONFLICT);
    // My tasks: the step's task, done with its version.
    let tasks = client.get_api("/api/v1/tasks?open=true", &token).await;
    let tasks: serde_json::Value = serde_json::from_str(&tasks.body).unwrap();
    let task = tasks
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["activity_id"] == id)
        .expect("the step's task is the caller's");
    let done = client
        .send_api(
            Method::POST,
            &format!("/api/v1/tasks/{}/done", task["id"]),
            &token,
            &serde_json::json!({"version": task["version"]}),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(done.body.contains("\"status\":\"done\""));
    let calendar = client
        .get_api(&format!("/api/v1/calendar?from={today}&to={today}"), &token)
        .await;
    assert!(calendar.body.contains("电话确认授信需求"));
    // The week's report: kam's draft first, then saved and submitted once.
    let report = format!("/api/v1/reports/{today}");
    let draft = client.get_api(&report, &token).await;
    assert!(
        draft.body.contains("\"version\":0") && draft.body.contains("电话确认授信需求"),
        "{}",
        draft.body
    );
    let submit = serde_json::json!({"body": "本周电话一次", "version": 0, "submit": true});
    let saved = client.send_api(Method::PUT, &report, &token, &submit).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    let again = serde_json::json!({"body": "改", "version": 1});
    let refused = client.send_api(Method::PUT, &report, &token, &again).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "submitted once"
    );
    // A read-only role writes nothing through the API either.
    let auditor = server.user_of(Role::Auditor).await;
    let read_only = server.token_for(&auditor).await;
    let answer = client
        .send_api(
            Method::POST,
            &path,
            &read_only,
            &body(format!("{today}T11:00"), "done"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
}

async fn the_pre_visit_brief_tells_what_changed_and_what_is_open(server: Server) {
    let rm = server.user_of(Role::RelationshipManager).await;
    let company = server.company_in_reach(&rm).await;
    let handle = server.handle_of(&rm).await;
    let customer = handle.customer_by_cif(&company).await.unwrap();
    let person = NewKeyPerson::parse(
        "钱总",
        ContactRole::DecisionMaker,
        Some("董事长"),
        [4, 4, 4],
        RelationshipStage::Extend,
    )
    .unwrap();
    let person = handle.add_key_person(customer.id, &person).await.unwrap();
    let person_id = person.0.to_string();
    let mut client = server.client();
    client.sign_in(rm.username.as_str()).await;
    // Last week's visit with its notes, a need and a next step; a plan for tomorrow.
    let before = (kam_web_today() - chrono::Days::new(6)).to_string();
    let due = (kam_web_today() + chrono::Days::new(2)).to_string();
    let path = format!("/customers/{company}/activities");
    let logged = client
        .post(&path, &visit("done", &before, &due, &person_id))
        .await;
    assert_eq!(logged.status, StatusCode::SEE_OTHER, "{}", logged.body);
    let tomorrow = (kam_web_today() + chrono::Days::new(1)).to_string();
    let mut plan = visit("planned", &tomorrow, "", &person_id);
    plan.retain(|(k, _)| !k.starts_with("need_") && !k.starts_with("step_"));
    let planned = client.post(&path, &plan).await;
    assert_eq!(planned.status, StatusCode::SEE_OTHER, "{}", planned.body);
    let rows = handle.activities(customer.id, 0).await.unwrap();
    let next = rows
        .iter()
        .find(|r| r.starts.date().to_string() == tomorrow)
        .unwrap();
    let page = client.get(&format!("/customers/{company}")).await;
    assert!(
        page.body.contains(&format!("id=\"brief-{}\"", next.id.0)),
        "the 360 links the plan's brief"
    );
    let brief = client
        .get(&format!(
            "/customers/{company}/activities/{}/brief",
            next.id.0
        ))
        .await;
    assert_eq!(brief.status, StatusCode::OK, "{}", brief.body);
    let body = &brief.body;
    assert!(
        body.contains(&format!("自上次拜访 {before} 以来")),
        "since the last visit"
    );
    assert!(body.contains("钱总") && body.contains("拓展关系") && body.contains("（6 天前）"));
    assert!(
        body.contains("当日到账能少垫资"),
        "the last visit's need-payoff"
    );
    assert!(body.contains("开通现金管理（明确需求"), "the open need");
    assert!(
        body.contains("发送现金管理方案"),
        "the last visit's next step, open"
    );
    assert!(
        body.contains("时点余额") && body.contains("数据日期"),
        "figures with their date"
    );
    // Out of reach: the same 404 as a missing record.
    let auditor_reads = {
        let auditor = server.user_of(Role::Auditor).await;
        let mut reader = server.client();
        reader.sign_in(auditor.username.as_str()).await;
        reader
            .get(&format!(
                "/customers/{company}/activities/{}/brief",
                next.id.0
            ))
            .await
    };
    assert_eq!(
        auditor_reads.status,
        StatusCode::OK,
        "an auditor reads it, writes nothing"
    );
}

async fn visit_coverage_counts_the_months_visits_by_tier_and_role(server: Server) {
    use kam_core::coverage::overdue;
    let president = server.user_of(Role::SubBranchPresident).await;
    let handle = server.handle_of(&president).await;
    let today = kam_web_today();
    let first = chrono::Datelike::with_day(&today, 1).unwrap();
    let rule = kam_core::rules::Rules::builtin().contact;
    let short = |tallies: &[kam_store::CustomerVisits]| {
        tallies
            .iter()
            .filter(|c| {
                let i = usize::from(c.tier) - 1;
                overdue(rule.rm_visits_per_month[i], c.rm_visits)
                    || overdue(rule.president_visits_per_month[i], c.president_visits)
            })
            .count()
    };
    let before = handle.visit_tallies(first, today).await.unwrap();
    assert!(!before.is_empty(), "the fixture's companies are tiered");
    let mut client = server.client();
    client.sign_in(president.username.as_str()).await;
    let page = client.get("/coverage").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("id=\"coverage-matrix\""));
    assert!(
        page.body
            .contains(&format!("id=\"short-total\">{}<", short(&before)))
    );
    // The president visits a tier-1 company: it owes one president's visit a month, now made.
    let target = before
        .iter()
        .find(|c| c.tier == 1)
        .or(before.first())
        .unwrap();
    let day = today.to_string();
    let fields = visit("done", &day, &day, "");
    let logged = client
        .post(&format!("/customers/{}/activities", target.cif_no), &fields)
        .await;
    assert_eq!(logged.status, StatusCode::SEE_OTHER, "{}", logged.body);
    let after = handle.visit_tallies(first, today).await.unwrap();
    let now = after.iter().find(|c| c.cif_no == target.cif_no).unwrap();
    assert_eq!(now.president_visits, target.president_visits + 1);
    assert_eq!(now.last_visit, Some(today));
    let page = client.get("/coverage").await;
    assert!(
        page.body
            .contains(&format!("id=\"short-total\">{}<", short(&after)))
    );
}

async fn an_rm_submits_the_weekly_report_and_the_president_reads_the_teams(server: Server) {
    let rm = server.user_of(Role::RelationshipManager).await;
    let company = server.company_in_reach(&rm).await;
    let handle = server.handle_of(&rm).await;
    let customer = handle.customer_by_cif(&company).await.unwrap();
    let mut client = server.client();
    client.sign_in(rm.username.as_str()).await;
    let today = kam_web_today().to_string();
    let logged = client
        .post(
            &format!("/customers/{company}/activities"),
            &visit("done", &today, &today, ""),
        )
        .await;
    assert_eq!(logged.status, StatusCode::SEE_OTHER, "{}", logged.body);
    // The draft names the week's visit and its customer.
    let page = client.get("/reports").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("id=\"report-body\""));
    assert!(page.body.contains(&customer.name) && page.body.contains("了解现金管理需求"));
    // The step due today is not overdue yet.
    assert!(
        page.body.contains("逾期未完成的任务（0 项）"),
        "{}",
        page.body
    );
    let week = kam_core::report::week_of(kam_web_today()).to_string();
    let body = "周报\n一、本周拜访 1 次\n五、需要协调的事项\n- 请行长出面拜访董事长";
    let saved = client
        .post(
            "/reports",
            &[
                ("week", week.as_str()),
                ("body", body),
                ("version", "0"),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let stale = client
        .post(
            "/reports",
            &[
                ("week", week.as_str()),
                ("body", body),
                ("version", "0"),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    let empty = client
        .post(
            "/reports",
            &[
                ("week", week.as_str()),
                ("body", " "),
                ("version", "1"),
                ("action", "submit"),
            ],
        )
        .await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    let submitted = client
        .post(
            "/reports",
            &[
                ("week", week.as_str()),
                ("body", body),
                ("version", "1"),
                ("action", "submit"),
            ],
        )
        .await;
    assert_eq!(submitted.status, StatusCode::SEE_OTHER);
    let page = client.get("/reports").await;
    assert!(page.body.contains("id=\"report-text\"") && !page.body.contains("id=\"report-form\""));
    assert!(page.body.contains("请行长出面拜访董事长"));
    let (status, bytes) = client.get_bytes("/reports/export.xlsx").await;
    assert_eq!(status, StatusCode::OK);
    assert!(bytes.starts_with(b"PK"));
    let trail = server
        .store
        .audit_events(Some("weekly_report"), 5)
        .await
        .unwrap();
    assert_eq!(trail[0].action, "export");
    assert_eq!(trail[1].action, "submit");
    // The RM's president sees it submitted, and who has not written theirs.
    let president = server.user_of(Role::SubBranchPresident).await;
    let reads = server
        .handle_of(&president)
        .await
        .team_reports(kam_core::report::week_of(kam_web_today()))
        .await
        .unwrap()
        .iter()
        .any(|m| m.user.id == rm.id);
    let mut reader = server.client();
    reader.sign_in(president.username.as_str()).await;
    let team = reader.get(&format!("/reports/team?week={week}")).await;
    assert_eq!(team.status, StatusCode::OK);
    let theirs = reader
        .get(&format!("/reports/of/{}?week={week}", rm.username))
        .await;
    if reads {
        assert!(team.body.contains(&format!(
            "id=\"member-{}\" class=\"report-submitted\"",
            rm.username
        )));
        assert!(theirs.body.contains("请行长出面拜访董事长"));
    } else {
        assert_eq!(theirs.status, StatusCode::NOT_FOUND, "out of reach");
    }
    // A read-only role writes none.
    let auditor = server.user_of(Role::Auditor).await;
    let mut audit = server.client();
    audit.sign_in(auditor.username.as_str()).await;
    let refused = audit
        .post(
            "/reports",
            &[
                ("week", week.as_str()),
                ("body", body),
                ("version", "0"),
                ("action", "submit"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

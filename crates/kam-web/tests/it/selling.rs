//! An RM sells in kam: opens an opportunity from the 360, moves it through the funnel past its
//! progress checklist (refused with the missing items listed), adds an obstacle whose one action
//! becomes a task, names buying influences, and sees it on the kanban and in the funnel; a stale
//! save is a conflict; the API does the same; a read-only role writes none of it.

use kam_core::{
    contact::{ContactRole, NewKeyPerson, RelationshipStage},
    user::Role,
};
use reqwest::{Method, StatusCode};

use crate::fixture::{Server, kam_web_today};

crate::on_both_backends!(
    an_rm_opens_an_opportunity_and_moves_it_past_its_checklist,
    the_api_opens_moves_and_reads_the_funnel,
    a_group_opportunity_shows_on_the_group_page_and_in_the_api,
);

fn opportunity<'a>(amount: &'a str, close: &'a str, owner: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("title", "流动资金贷款续作"),
        ("products", "LN-WC"),
        ("products", "CASH-MGMT"),
        ("amount", amount),
        ("owner", owner),
        ("expected_close", close),
        ("competitor", "工商银行"),
        ("position", "even"),
        ("probability", ""),
        ("notes", ""),
    ]
}

async fn an_rm_opens_an_opportunity_and_moves_it_past_its_checklist(server: Server) {
    let rm = server.user_of(Role::RelationshipManager).await;
    let me = rm.username.as_str();
    let company = server.company_in_reach(&rm).await;
    let mut client = server.client();
    client.sign_in(me).await;
    let form = client
        .get(&format!("/customers/{company}/opportunities/new"))
        .await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(
        form.body.contains("value=\"LN-WC\""),
        "the catalogue's products"
    );
    let close = (kam_web_today() + chrono::Days::new(60)).to_string();
    // An amount with three decimals is refused, the typed values kept.
    let path = format!("/customers/{company}/opportunities");
    let refused = client
        .post(&path, &opportunity("1200.345", &close, me))
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("id=\"amount-error\""));
    assert!(refused.body.contains("value=\"1200.345\"") && refused.body.contains("工商银行"));
    let opened = client
        .post(&path, &opportunity("12,000,000", &close, me))
        .await;
    assert_eq!(opened.status, StatusCode::SEE_OTHER, "{}", opened.body);
    let at = opened.location.clone().unwrap();
    let id: i64 = at.trim_start_matches("/opportunities/").parse().unwrap();
    let page = client.get(&at).await;
    assert!(page.body.contains("已新建商机：流动资金贷款续作"));
    assert!(page.body.contains("线索") && page.body.contains("id=\"tick-contact_named\""));
    // Forward with one item of two: refused, listing what is missing.
    let advance = format!("{at}/advance");
    let half = client
        .post(
            &advance,
            &[("tick", "need_seen"), ("to", "contact"), ("version", "1")],
        )
        .await;
    assert_eq!(half.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        half.body
            .contains("离开“线索”前须完成：已确定要接触的关键人"),
        "{}",
        half.body
    );
    let moved = client
        .post(
            &advance,
            &[
                ("tick", "need_seen"),
                ("tick", "contact_named"),
                ("to", "contact"),
                ("version", "1"),
            ],
        )
        .await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER);
    let page = client.get(&at).await;
    assert!(page.body.contains("已推进到“接触”"));
    assert!(
        page.body.contains("id=\"tick-met_key_person\""),
        "the next checklist"
    );
    // A save from the version before the move is a conflict, not an overwrite.
    let stale: Vec<(&str, &str)> = opportunity("1", &close, me)
        .into_iter()
        .chain([("version", "1")])
        .collect();
    let conflict = client.post(&at, &stale).await;
    assert_eq!(conflict.status, StatusCode::CONFLICT);
    // An obstacle with two actions is refused; with one, its action is a task of mine.
    let obstacles = format!("{at}/obstacles");
    let due = (kam_web_today() + chrono::Days::new(3)).to_string();
    let two = client
        .post(
            &obstacles,
            &[
                ("obstacle", "财务总监倾向他行"),
                ("action", "约面谈；报价"),
                ("owner", me),
                ("due", &due),
            ],
        )
        .await;
    assert_eq!(two.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(two.body.contains("一颗子弹一个敌人") && two.body.contains("id=\"action-error\""));
    let one = client
        .post(
            &obstacles,
            &[
                ("obstacle", "财务总监倾向他行"),
                ("action", "约财务总监面谈利率方案"),
                ("owner", me),
                ("due", &due),
            ],
        )
        .await;
    assert_eq!(one.status, StatusCode::SEE_OTHER);
    let tasks = client.get("/tasks").await;
    assert!(tasks.body.contains("约财务总监面谈利率方案"));
    // The pre-visit brief of a planned visit names the opportunity and the obstacle's action.
    let tomorrow = (kam_web_today() + chrono::Days::new(1)).to_string();
    let mut plan = crate::work::visit("planned", &tomorrow, "", "");
    plan.retain(|(k, _)| !k.starts_with("need_") && !k.starts_with("step_") && *k != "people");
    let planned = client
        .post(&format!("/customers/{company}/activities"), &plan)
        .await;
    assert_eq!(planned.status, StatusCode::SEE_OTHER, "{}", planned.body);
    let handle = server.handle_of(&rm).await;
    let customer = handle.customer_by_cif(&company).await.unwrap();
    let visit = handle.activities(customer.id, 0).await.unwrap()[0].id.0;
    let brief = client
        .get(&format!("/customers/{company}/activities/{visit}/brief"))
        .await;
    assert!(
        brief.body.contains(&format!("id=\"opportunity-{id}\""))
            && brief.body.contains("约财务总监面谈利率方案"),
        "the brief shows the open opportunity and its obstacle"
    );
    // A buying influence from the customer's key people.
    let person = NewKeyPerson::parse(
        "赵总",
        ContactRole::DecisionMaker,
        None,
        [3, 3, 3],
        RelationshipStage::Build,
    )
    .unwrap();
    let zhao = handle.add_key_person(customer.id, &person).await.unwrap();
    let set = client
        .post(
            &format!("{at}/influences"),
            &[
                ("person", &zhao.0.to_string()),
                ("role", "economic"),
                ("attitude", "opposed"),
            ],
        )
        .await;
    assert_eq!(set.status, StatusCode::SEE_OTHER);
    let page = client.get(&at).await;
    assert!(page.body.contains("经济决策者") && page.body.contains("attitude-opposed"));
    // Clearing the obstacle does its task.
    let view = handle
        .opportunity(kam_core::id::OpportunityId(id))
        .await
        .unwrap();
    let obstacle = view.obstacles[0].id.0;
    let cleared = client
        .post(&format!("{at}/obstacles/{obstacle}/clear"), &[])
        .await;
    assert_eq!(cleared.status, StatusCode::SEE_OTHER);
    let task = handle
        .task(view.obstacles[0].task_id.unwrap())
        .await
        .unwrap();
    assert_eq!(task.status, kam_core::task::TaskStatus::Done);
    // The kanban, the 360 and the funnel show it.
    let kanban = client.get("/opportunities?view=kanban").await;
    assert!(kanban.body.contains(&format!("id=\"card-{id}\"")));
    let page360 = client.get(&format!("/customers/{company}")).await;
    assert!(page360.body.contains(&format!("id=\"opportunity-{id}\"")));
    let funnel = client.get("/opportunities/funnel").await;
    assert_eq!(funnel.status, StatusCode::OK);
    assert!(funnel.body.contains("共 1 笔"), "{}", funnel.body);
    // Lost needs a reason; then it is in the lost list and no longer moves.
    let version = handle
        .opportunity(kam_core::id::OpportunityId(id))
        .await
        .unwrap()
        .row
        .version
        .to_string();
    let no_reason = client
        .post(&advance, &[("to", "lost"), ("version", &version)])
        .await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(no_reason.body.contains("请填写失败原因"));
    let lost = client
        .post(
            &advance,
            &[
                ("to", "lost"),
                ("reason", "他行利率更低"),
                ("version", &version),
            ],
        )
        .await;
    assert_eq!(lost.status, StatusCode::SEE_OTHER);
    let list = client.get("/opportunities?state=lost").await;
    assert!(list.body.contains("他行利率更低"));
    let closed = client.get(&at).await;
    assert!(
        !closed.body.contains("id=\"advance-save\""),
        "closed is final"
    );
    // A read-only role opens nothing.
    let auditor = server.user_of(Role::Auditor).await;
    let mut reader = server.client();
    reader.sign_in(auditor.username.as_str()).await;
    let answer = reader.post(&path, &opportunity("100", &close, me)).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    let seen = reader.get(&at).await;
    assert_eq!(seen.status, StatusCode::OK);
    assert!(!seen.body.contains("id=\"opportunity-save\""));
}

async fn the_api_opens_moves_and_reads_the_funnel(server: Server) {
    let rm = server.user_of(Role::RelationshipManager).await;
    let company = server.company_in_reach(&rm).await;
    let token = server.token_for(&rm).await;
    let mut client = server.client();
    let close = (kam_web_today() + chrono::Days::new(90)).to_string();
    let body = serde_json::json!({
        "title": "现金管理平台上线",
        "products": ["CASH-MGMT"],
        "amount_fen": 500_000_000,
        "owner": rm.username.as_str(),
        "expected_close": close,
        "position": "leading",
    });
    let path = format!("/api/v1/customers/{company}/opportunities");
    let created = client.send_api(Method::POST, &path, &token, &body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let json: serde_json::Value = serde_json::from_str(&created.body).unwrap();
    let id = json["id"].as_i64().unwrap();
    assert_eq!(json["stage"], "lead");
    assert_eq!(json["amount_fen"], 500_000_000);
    assert_eq!(
        json["to_tick"],
        serde_json::json!(["need_seen", "contact_named"])
    );
    let advance = format!("/api/v1/opportunities/{id}/advance");
    let refused = client
        .send_api(
            Method::POST,
            &advance,
            &token,
            &serde_json::json!({"to": "contact", "ticked": ["need_seen"], "version": 1}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("\"field\":\"checklist\"")
            && refused.body.contains("the key person to contact is named"),
        "{}",
        refused.body
    );
    let moved = client
        .send_api(
            Method::POST,
            &advance,
            &token,
            &serde_json::json!({"to": "contact", "ticked": ["need_seen", "contact_named"], "version": 1}),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    let json: serde_json::Value = serde_json::from_str(&moved.body).unwrap();
    assert_eq!(json["stage"], "contact");
    assert_eq!(json["history"].as_array().unwrap().len(), 2);
    // An obstacle: its action is a task.
    let obstacle = client
        .send_api(
            Method::POST,
            &format!("/api/v1/opportunities/{id}/obstacles"),
            &token,
            &serde_json::json!({"obstacle": "对系统对接有顾虑", "action": "安排科技人员上门演示",
                "owner": rm.username.as_str(), "due": close}),
        )
        .await;
    assert_eq!(obstacle.status, StatusCode::CREATED, "{}", obstacle.body);
    let tasks = client.get_api("/api/v1/tasks?open=true", &token).await;
    assert!(
        tasks.body.contains("安排科技人员上门演示")
            && tasks.body.contains("\"source\":\"obstacle\"")
    );
    // The funnel: one opportunity at contact, 20% of its amount weighted.
    let funnel = client.get_api("/api/v1/funnel", &token).await;
    let stages: serde_json::Value = serde_json::from_str(&funnel.body).unwrap();
    let contact = stages
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stage"] == "contact")
        .unwrap();
    assert_eq!(contact["count"], 1);
    assert_eq!(contact["weighted_fen"], 100_000_000);
    let list = client
        .get_api("/api/v1/opportunities?open=true", &token)
        .await;
    assert!(list.body.contains("现金管理平台上线"));
    // A stale edit is a conflict; a read-only token writes nothing.
    let stale = serde_json::json!({
        "title": "现金管理平台上线",
        "products": ["CASH-MGMT"],
        "amount_fen": 1,
        "owner": rm.username.as_str(),
        "expected_close": close,
        "version": 1,
    });
    let conflict = client
        .send_api(
            Method::PUT,
            &format!("/api/v1/opportunities/{id}"),
            &token,
            &stale,
        )
        .await;
    assert_eq!(conflict.status, StatusCode::CONFLICT);
    let auditor = server.user_of(Role::Auditor).await;
    let reader = server.token_for(&auditor).await;
    let answer = client.send_api(Method::POST, &path, &reader, &body).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
}

/// An opportunity sold to a whole group (集团商机) is recorded on a member in reach; the group's
/// page lists it, marked, with the members' own, and the API filters by the group's code.
async fn a_group_opportunity_shows_on_the_group_page_and_in_the_api(server: Server) {
    let president = server.user_of(Role::SubBranchPresident).await;
    let me = president.username.as_str();
    let visible = server.visible_cifs(&president).await;
    let (group, member) = server.group_member_in(&visible);
    let mut client = server.client();
    client.sign_in(me).await;
    let close = (kam_web_today() + chrono::Days::new(45)).to_string();
    let mut form = opportunity("3,000,000", &close, me);
    form[0] = ("title", "集团现金池统一上线");
    form.push(("for_group", "1"));
    let opened = client
        .post(&format!("/customers/{member}/opportunities"), &form)
        .await;
    assert_eq!(opened.status, StatusCode::SEE_OTHER, "{}", opened.body);
    let page = client.get(&format!("/groups/{group}")).await;
    assert_eq!(page.status, StatusCode::OK);
    let section = page
        .body
        .split("id=\"group-opportunities\"")
        .nth(1)
        .expect("the group's opportunities section");
    let row = section
        .split("<tr id=\"opportunity-")
        .find(|r| r.contains("集团现金池统一上线"))
        .expect("the group opportunity is listed");
    assert!(
        row.contains("class=\"badge\">集团<"),
        "marked as the group's: {row}"
    );
    assert!(row.contains(&format!("/customers/{member}")));
    // The open ones summed: at least this one's 3,000,000.00 yuan.
    assert!(section.contains("id=\"group-opportunities-open\">在谈 "));
    // The API: by the group's code, every one in reach by default; an unknown group is a 404.
    let token = server.token_for(&president).await;
    let listed = client
        .get_api(&format!("/api/v1/opportunities?group={group}"), &token)
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    let json: serde_json::Value = serde_json::from_str(&listed.body).unwrap();
    let rows = json.as_array().unwrap();
    let members: Vec<&str> = server
        .bank
        .reference
        .group_members
        .iter()
        .filter(|m| m.group_code == group)
        .map(|m| m.cif_no.as_str())
        .collect();
    assert!(
        rows.iter()
            .any(|o| o["title"] == "集团现金池统一上线" && o["for_group"] == true)
    );
    assert!(
        rows.iter().all(|o| {
            let cif = o["cif_no"].as_str().unwrap();
            members.contains(&cif) && visible.iter().any(|v| v == cif)
        }),
        "only members in reach: {rows:?}"
    );
    let unknown = client
        .get_api("/api/v1/opportunities?group=NO-SUCH-GROUP", &token)
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

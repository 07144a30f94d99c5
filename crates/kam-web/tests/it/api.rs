//! The JSON API: personal tokens from the personal page, the same visibility and masking as the
//! pages, JSON errors with stable codes, revocation, and an OpenAPI document that lists every
//! API route of the router.

use kam_core::user::Role;
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::fixture::Server;

crate::on_both_backends!(
    a_token_reads_what_its_user_may_see_and_nothing_else,
    the_openapi_document_lists_every_api_route,
    the_api_writes_what_the_pages_write_with_the_same_checks,
);

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("JSON ({e}): {body}"))
}

async fn a_token_reads_what_its_user_may_see_and_nothing_else(server: Server) {
    let president = server.user_of(Role::SubBranchPresident).await;
    let visible = server.visible_cifs(&president).await;
    let mut client = server.client();
    client.sign_in(president.username.as_str()).await;
    client.get("/me").await;
    let posted = client.post("/me/tokens", &[("name", "报表脚本")]).await;
    assert_eq!(posted.status, StatusCode::SEE_OTHER, "post/redirect/get");
    assert_eq!(posted.location.as_deref(), Some("/me"));
    let created = client.get("/me").await;
    assert!(
        !client.get("/me").await.body.contains("id=\"new-token\""),
        "shown once: a reload shows it no more"
    );
    let at = created
        .body
        .find("id=\"new-token\">")
        .expect("the token is shown once")
        + "id=\"new-token\">".len();
    let token: String = created.body[at..]
        .chars()
        .take_while(|c| *c != '<')
        .collect();
    assert!(token.starts_with("kam_"));
    assert!(
        !client.get("/me").await.body.contains(&token),
        "never shown again"
    );

    let anonymous = client.get_api("/api/v1/customers", "not-a-token").await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(json(&anonymous.body)["code"], "KAM-401");
    assert_eq!(json(&anonymous.body)["status"], 401);
    assert_eq!(
        anonymous.headers["content-type"],
        "application/problem+json"
    );

    let list = client
        .get_api("/api/v1/customers?page_size=500", &token)
        .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    let list = json(&list.body);
    assert_eq!(list["total"], visible.len() as i64);
    let listed: Vec<&str> = list["customers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["cif_no"].as_str().unwrap())
        .collect();
    assert!(listed.iter().all(|cif| visible.iter().any(|v| v == cif)));

    let person = server
        .bank
        .reference
        .customers
        .iter()
        .find(|c| c.id_number.is_some() && visible.contains(&c.cif_no.to_string()))
        .unwrap();
    let one = client
        .get_api(&format!("/api/v1/customers/{}", person.cif_no), &token)
        .await;
    assert_eq!(one.status, StatusCode::OK);
    let id = person.id_number.as_ref().unwrap();
    assert!(!one.body.contains(id.reveal()), "masked in the API too");
    assert_eq!(json(&one.body)["id_number"], id.masked());
    // An individual keeps no corporate archive: present, and empty.
    let body = json(&one.body);
    assert!(body.as_object().unwrap().contains_key("profile") && body["profile"].is_null());
    let values = client
        .get_api(
            &format!("/api/v1/customers/{}/indicators", person.cif_no),
            &token,
        )
        .await;
    assert_eq!(values.status, StatusCode::OK);

    let elsewhere = server
        .bank
        .reference
        .customers
        .iter()
        .find(|c| !visible.contains(&c.cif_no.to_string()))
        .unwrap();
    let hidden = client
        .get_api(&format!("/api/v1/customers/{}", elsewhere.cif_no), &token)
        .await;
    let missing = client
        .get_api("/api/v1/customers/999999999999", &token)
        .await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    assert_eq!(json(&hidden.body)["code"], "KAM-404");
    assert_eq!(
        hidden.body, missing.body,
        "out of reach answers like missing"
    );

    // Someone else's token cannot be revoked by this user; their own can.
    let other = server.user_of(Role::BranchManager).await;
    server.token_for(&other).await;
    let tokens = server.handle_of(&other).await.api_tokens().await.unwrap();
    let refused = client
        .post(&format!("/me/tokens/{}/revoke", tokens[0].id), &[])
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    let mine = server
        .handle_of(&president)
        .await
        .api_tokens()
        .await
        .unwrap();
    assert!(mine[0].last_used_at.is_some(), "use is noted");
    let revoked = client
        .post(&format!("/me/tokens/{}/revoke", mine[0].id), &[])
        .await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER);
    assert_eq!(
        client.get_api("/api/v1/customers", &token).await.status,
        StatusCode::UNAUTHORIZED
    );
}

async fn the_openapi_document_lists_every_api_route(server: Server) {
    let mut client = server.client();
    let doc = client.get("/api/v1/openapi.json").await;
    assert_eq!(doc.status, StatusCode::OK);
    let doc = json(&doc.body);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for route in kam_web::route_table()
        .iter()
        .filter(|r| r.access == kam_web::Access::Token)
    {
        let method = route.method.as_str().to_ascii_lowercase();
        assert!(
            doc["paths"][route.path][&method].is_object(),
            "{} {} is described in the OpenAPI document",
            route.method,
            route.path
        );
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}

/// The API's writes are the pages' writes: the archive with its version, the board's scores as
/// one row, the team, an alert's handling — each refused as the page refuses it, with a problem
/// document naming the field; alerts read in words.
async fn the_api_writes_what_the_pages_write_with_the_same_checks(server: Server) {
    let president = server.user_of(Role::SubBranchPresident).await;
    let company = server.company_in_reach(&president).await;
    let token = server.token_for(&president).await;
    let mut client = server.client();
    let profile = format!("/api/v1/customers/{company}/profile");

    // The archive: a value kam-core refuses names its field; a save with the version read is
    // taken; a second save from the same version is a conflict.
    let bad = serde_json::json!({"version": 0, "credit_code": "91110108MA01ABCDE0"});
    let answer = client.send_api(Method::PUT, &profile, &token, &bad).await;
    assert_eq!(
        answer.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        answer.body
    );
    assert_eq!(json(&answer.body)["errors"][0]["field"], "credit_code");
    let good = serde_json::json!({
        "version": 0,
        "legal_representative": "王建国",
        "registered_capital_minor": 500_000_000,
        "employees": 320,
        "our_share_percent": 40,
        "main_banks": [{"name": "工商银行", "share_percent": 35}],
    });
    let answer = client.send_api(Method::PUT, &profile, &token, &good).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let saved = json(&answer.body);
    assert_eq!(saved["version"], 1);
    assert_eq!(saved["main_banks"][0]["name"], "工商银行");
    assert_eq!(saved["registered_capital_currency"], "CNY");
    let stale = client.send_api(Method::PUT, &profile, &token, &good).await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    let not_json = client
        .send_api(
            Method::PUT,
            &profile,
            &token,
            &serde_json::json!({"version": "one"}),
        )
        .await;
    assert_eq!(not_json.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json(&not_json.body)["code"], "KAM-422");
    let read = json(
        &client
            .get_api(&format!("/api/v1/customers/{company}"), &token)
            .await
            .body,
    );
    assert_eq!(read["profile"]["legal_representative"], "王建国");

    // The board: a criterion the batch computes is not entered; a row is written whole.
    let scores = format!("/api/v1/board/{company}/scores");
    let computed =
        serde_json::json!({"scores": [{"criterion": "scale", "score": 9, "seen": null}]});
    let answer = client
        .send_api(Method::PUT, &scores, &token, &computed)
        .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json(&answer.body)["errors"][0]["field"], "criterion");
    let row = serde_json::json!({"scores": [
        {"criterion": "relationship", "score": 7, "seen": null},
        {"criterion": "policy", "score": 5, "seen": null},
    ]});
    let answer = client.send_api(Method::PUT, &scores, &token, &row).await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.body);
    let again = client.send_api(Method::PUT, &scores, &token, &row).await;
    assert_eq!(
        again.status,
        StatusCode::CONFLICT,
        "someone's scores are there now"
    );
    let stored = server
        .store
        .manual_scores("key-account-board")
        .await
        .unwrap();
    assert_eq!(stored[&(company.clone(), "relationship".to_owned())], 7);
    assert_eq!(stored[&(company.clone(), "policy".to_owned())], 5);

    // Alerts in words, and handled through the API with the page's rule for the note.
    let inbox = json(&client.get_api("/api/v1/alerts", &token).await.body);
    let alert = &inbox["alerts"][0];
    let id = alert["id"].as_i64().expect("an open alert in reach");
    for language in ["explained_zh", "explained_en"] {
        let found = alert[language]["found"].as_str().unwrap();
        assert!(
            !found.is_empty() && !found.contains("_fen="),
            "{language}: {found}"
        );
        assert!(!alert[language]["action"].as_str().unwrap().is_empty());
    }
    let handle = format!("/api/v1/alerts/{id}/handle");
    let empty = client
        .send_api(
            Method::POST,
            &handle,
            &token,
            &serde_json::json!({"note": " "}),
        )
        .await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json(&empty.body)["errors"][0]["field"], "note");
    let done = client
        .send_api(
            Method::POST,
            &handle,
            &token,
            &serde_json::json!({"note": "已电话回访"}),
        )
        .await;
    assert_eq!(done.status, StatusCode::NO_CONTENT, "{}", done.body);
    let handled = json(
        &client
            .get_api("/api/v1/alerts?status=handled", &token)
            .await
            .body,
    );
    assert!(
        handled["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["id"] == id),
        "handled: {handled}"
    );

    // The team: an RM of the president's subtree and line appointed from today, then ended.
    let units = server.store.list_org_units().await.unwrap();
    let path_of = |id| {
        units
            .iter()
            .find(|u| u.id == id)
            .unwrap()
            .path
            .as_str()
            .to_owned()
    };
    let home = path_of(president.org_unit_id);
    let rm = server
        .store
        .list_users()
        .await
        .unwrap()
        .into_iter()
        .find(|u| {
            u.role == Role::RelationshipManager
                && !u.disabled
                && path_of(u.org_unit_id).starts_with(&home)
                && (president.line.is_none() || u.line == president.line)
        })
        .expect("an RM under the president");
    let appoint = serde_json::json!({"username": rm.username.as_str(), "role": "member"});
    let team = format!("/api/v1/customers/{company}/team");
    let answer = client.send_api(Method::POST, &team, &token, &appoint).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    let made = json(&answer.body)["assignment"].as_i64().unwrap();
    let end = |id: i64| format!("{team}/{id}/end");
    // Ended the day it starts: kam-core's rule for an assignment, naming the field.
    let same_day = client
        .send_api(Method::POST, &end(made), &token, &serde_json::json!({}))
        .await;
    assert_eq!(same_day.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json(&same_day.body)["errors"][0]["field"], "effective_to");
    // An assignment of earlier days, as the 360 lists it, ends today; the team says so.
    let read = json(
        &client
            .get_api(&format!("/api/v1/customers/{company}"), &token)
            .await
            .body,
    );
    let earlier = read["team"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["assignment"].as_i64() != Some(made))
        .expect("the company's team before today")["assignment"]
        .as_i64()
        .unwrap();
    let ended = client
        .send_api(Method::POST, &end(earlier), &token, &serde_json::json!({}))
        .await;
    assert_eq!(ended.status, StatusCode::NO_CONTENT, "{}", ended.body);
    let read = json(
        &client
            .get_api(&format!("/api/v1/customers/{company}"), &token)
            .await
            .body,
    );
    assert!(
        read["team"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["assignment"].as_i64() != Some(earlier)),
        "{read}"
    );
    let bad_role = serde_json::json!({"username": rm.username.as_str(), "role": "boss"});
    let answer = client
        .send_api(Method::POST, &team, &token, &bad_role)
        .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Key people: added, edited with the version read (the masked phone kept), retired.
    let people = format!("/api/v1/customers/{company}/people");
    let person = serde_json::json!({
        "name": "周建华", "role": "finance_head", "title": "财务总监", "phone": "13912345678",
        "birthday": "1976-08-15", "closeness": 3, "trust": 4, "favour": 2, "stage": "build",
        "owner": null, "notes": "周三上午在厂区",
    });
    let answer = client
        .send_api(Method::POST, &people, &token, &person)
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    let added = json(&answer.body);
    assert_eq!(added["phone"], "139****5678");
    assert_eq!(added["version"], 1);
    let id = added["id"].as_i64().unwrap();
    let mut change = person.clone();
    change["phone"] = added["phone"].clone();
    change["stage"] = "deepen".into();
    change["version"] = 1.into();
    let edited = client
        .send_api(Method::PUT, &format!("{people}/{id}"), &token, &change)
        .await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.body);
    let edited = json(&edited.body);
    assert_eq!(
        (edited["version"].as_i64(), edited["stage"].as_str()),
        (Some(2), Some("deepen"))
    );
    assert_eq!(edited["phone"], "139****5678", "the stored number kept");
    let stale = client
        .send_api(Method::PUT, &format!("{people}/{id}"), &token, &change)
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    let mut wrong = person.clone();
    wrong["closeness"] = 9.into();
    let answer = client.send_api(Method::POST, &people, &token, &wrong).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json(&answer.body)["errors"][0]["field"], "closeness");
    let retired = client
        .send_api(
            Method::POST,
            &format!("{people}/{id}/retire"),
            &token,
            &serde_json::json!({"reason": "已离职", "version": 2}),
        )
        .await;
    assert_eq!(retired.status, StatusCode::NO_CONTENT, "{}", retired.body);
    let read = json(
        &client
            .get_api(&format!("/api/v1/customers/{company}"), &token)
            .await
            .body,
    );
    assert!(
        read["key_people"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["id"].as_i64() != Some(id))
    );

    // An auditor's token reads and writes nothing.
    let auditor = server.user_of(Role::Auditor).await;
    let reader = server.token_for(&auditor).await;
    let row = serde_json::json!({"scores": [{"criterion": "potential", "score": 3, "seen": null}]});
    let refused = client.send_api(Method::PUT, &scores, &reader, &row).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let refused = client
        .send_api(
            Method::PUT,
            &profile,
            &reader,
            &serde_json::json!({"version": 1}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        server
            .store
            .manual_scores("key-account-board")
            .await
            .unwrap()
            .len(),
        2
    );
}

//! The JSON API: personal tokens from the personal page, the same visibility and masking as the
//! pages, JSON errors with stable codes, revocation, and an OpenAPI document that lists every
//! API route of the router.

use kam_core::user::Role;
use reqwest::StatusCode;
use serde_json::Value;

use crate::fixture::Server;

crate::on_both_backends!(
    a_token_reads_what_its_user_may_see_and_nothing_else,
    the_openapi_document_lists_every_api_route,
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

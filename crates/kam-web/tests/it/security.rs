//! The security baseline over HTTP: headers, CSRF, lockout, session ids and timeouts, separation
//! of duties, opaque errors.

use std::time::Duration;

use kam_core::user::Role;
use reqwest::StatusCode;

use crate::fixture::{Options, PASSWORD, Server};

crate::on_both_backends!(
    every_answer_carries_the_security_headers,
    a_state_change_without_the_csrf_token_is_refused,
    five_failures_lock_the_account,
    each_sign_in_gets_a_new_session_id,
    an_administrator_sees_no_customer_data,
    unknown_names_and_wrong_passwords_get_the_same_answer,
);

async fn every_answer_carries_the_security_headers(server: Server) {
    let user = server.user_of(Role::HeadOfficeKeyAccountManager).await;
    let mut client = server.client();
    let anonymous = client.get("/sign-in").await;
    client.sign_in(user.username.as_str()).await;
    let page = client.get("/customers").await;
    let missing = client.get("/no/such/page").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.body.contains("KAM-404"), "a stable error code");
    let asset = client.get("/assets/kam.css").await;
    assert_eq!(asset.status, StatusCode::OK);
    for (what, answer) in [
        ("sign-in", &anonymous),
        ("page", &page),
        ("404", &missing),
        ("asset", &asset),
    ] {
        let header = |name: &str| {
            answer
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        let csp = header("content-security-policy");
        assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
        assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"));
        assert_eq!(header("x-content-type-options"), "nosniff", "{what}");
    }
    assert_eq!(
        page.headers.get("cache-control").unwrap(),
        "no-store",
        "customer pages are not cached"
    );
    let cookie = anonymous
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
}

async fn a_state_change_without_the_csrf_token_is_refused(server: Server) {
    let user = server.user_of(Role::RelationshipManager).await;
    let mut client = server.client();
    client.sign_in(user.username.as_str()).await;
    let forged = client
        .post_raw("/me/locale", &[("locale", "en"), ("back", "/")])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(forged.body.contains("KAM-403-CSRF"));
    let wrong = client
        .post_raw("/me/locale", &[("locale", "en"), ("csrf", "0000")])
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert!(
        client.get("/").await.body.contains("<html lang=\"zh-CN\">"),
        "nothing changed"
    );
    // The sign-in form has its own token too (no session yet).
    let mut anonymous = server.client();
    let no_token = anonymous
        .post_raw(
            "/sign-in",
            &[("username", user.username.as_str()), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN);
    // No state change on GET: the language form has no GET route.
    let get = client.get("/me/locale?locale=en").await;
    assert_ne!(get.status, StatusCode::OK);
    assert_ne!(get.status, StatusCode::SEE_OTHER);
}

async fn five_failures_lock_the_account(server: Server) {
    let user = server.user_of(Role::SubBranchPresident).await;
    let name = user.username.as_str();
    let mut client = server.client();
    for attempt in 1..=5 {
        let answer = client.sign_in_with(name, "Wrong-2026-pass").await;
        assert_eq!(
            answer.status,
            StatusCode::OK,
            "attempt {attempt} shows the form again"
        );
        assert!(answer.body.contains("用户名或密码错误"));
    }
    let right = client.sign_in_with(name, PASSWORD).await;
    assert_eq!(
        right.status,
        StatusCode::OK,
        "locked: even the right password waits"
    );
    // The answer does not tell a locked account from a wrong password or an unknown name.
    assert!(right.body.contains("用户名或密码错误"));
    let trail = server.store.audit_events(Some(name), 50).await.unwrap();
    let failed: Vec<_> = trail
        .iter()
        .filter(|e| e.action == "sign_in_failed")
        .collect();
    assert_eq!(failed.len(), 6, "each failure is in the audit trail");
    assert!(failed.iter().any(|e| e.detail.starts_with("locked_until=")));
    assert!(failed.iter().any(|e| e.detail == "refused: locked"));
}

async fn each_sign_in_gets_a_new_session_id(server: Server) {
    let user = server.user_of(Role::RiskOfficer).await;
    let mut client = server.client();
    let first = client.sign_in_with(user.username.as_str(), PASSWORD).await;
    let second = client.sign_in_with(user.username.as_str(), PASSWORD).await;
    let session = |page: &crate::fixture::Page| {
        page.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("kam_session="))
            .map(str::to_owned)
            .expect("a session cookie")
    };
    assert_ne!(session(&first), session(&second));
}

async fn an_administrator_sees_no_customer_data(server: Server) {
    let admin = server.user_of(Role::Administrator).await;
    let any_cif = server.bank.reference.customers[0].cif_no.to_string();
    let mut client = server.client();
    client.sign_in(admin.username.as_str()).await;
    let home = client.get("/").await;
    assert!(home.body.contains("您的角色不查看客户数据"));
    let page = client.get(&format!("/customers/{any_cif}")).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    // Not an empty list that looks like a bank without customers: the page is not theirs.
    let list = client.get("/customers").await;
    assert_eq!(list.status, StatusCode::NOT_FOUND);
    assert!(!list.body.contains("共 0 户"));
}

async fn unknown_names_and_wrong_passwords_get_the_same_answer(server: Server) {
    let user = server.user_of(Role::Auditor).await;
    let mut client = server.client();
    let unknown = client.sign_in_with("nobody.here", PASSWORD).await;
    let wrong = client
        .sign_in_with(user.username.as_str(), "Wrong-2026-pass")
        .await;
    assert_eq!(unknown.status, wrong.status);
    assert!(unknown.body.contains("用户名或密码错误") && wrong.body.contains("用户名或密码错误"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_session_expires() {
    let db = kam_store::testing::sqlite().await;
    let server = Server::start(
        db,
        Options {
            idle_timeout: Some(Duration::from_secs(1)),
            ..Options::default()
        },
    )
    .await;
    let user = server.user_of(Role::HeadOfficeKeyAccountManager).await;
    let mut client = server.client();
    client.sign_in(user.username.as_str()).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let after = client.get("/customers").await;
    assert_eq!(
        after.status,
        StatusCode::SEE_OTHER,
        "idle too long: sign in again"
    );
    let trail = server
        .store
        .audit_events(Some(user.username.as_str()), 10)
        .await
        .unwrap();
    assert!(trail.iter().any(|e| e.action == "session_expired"));
}

/// The absolute limit ends a session however busy it is (等保: 12 hours by default; 2 s here).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_session_still_ends_at_the_absolute_limit() {
    let db = kam_store::testing::sqlite().await;
    let server = Server::start(
        db,
        Options {
            absolute_timeout: Some(Duration::from_secs(2)),
            ..Options::default()
        },
    )
    .await;
    let user = server.user_of(Role::HeadOfficeKeyAccountManager).await;
    let mut client = server.client();
    client.sign_in(user.username.as_str()).await;
    for _ in 0..2 {
        let busy = client.get("/customers").await;
        assert_eq!(busy.status, StatusCode::OK, "in use, within the limit");
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
    let after = client.get("/customers").await;
    assert_eq!(
        after.status,
        StatusCode::SEE_OTHER,
        "past the absolute limit: sign in again, busy or not"
    );
    let again = client.get("/customers").await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "the session is gone");
    let trail = server
        .store
        .audit_events(Some(user.username.as_str()), 10)
        .await
        .unwrap();
    assert!(trail.iter().any(|e| e.action == "session_expired"));
}

/// The demo's sign-in page lists an account per role with the shared password; a served bank's
/// never does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_demo_lists_its_accounts_on_the_sign_in_page() {
    let served = Server::start(kam_store::testing::sqlite().await, Options::default()).await;
    let page = served.client().get("/sign-in").await;
    assert!(!page.body.contains("id=\"demo-accounts\"") && !page.body.contains(PASSWORD));
    let demo = Server::start(
        kam_store::testing::sqlite().await,
        Options {
            demo: true,
            ..Options::default()
        },
    )
    .await;
    let page = demo.client().get("/sign-in").await;
    assert!(page.body.contains("id=\"demo-accounts\"") && page.body.contains(PASSWORD));
    let president = demo.user_of(Role::SubBranchPresident).await;
    assert!(page.body.contains(president.username.as_str()) && page.body.contains("支行行长"));
}

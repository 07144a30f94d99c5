//! Regression tests of the defects issue's ways in, over HTTP on SQLite and PostgreSQL: parallel
//! guesses against the lockout, sessions and tokens that outlived a password change, redirects
//! out of kam, a locked name told apart from an unknown one, an active session ended as idle,
//! page numbers that wrap.

use std::time::Duration;

use kam_core::user::Role;
use reqwest::StatusCode;

use crate::fixture::{Options, PASSWORD, Server};

crate::on_both_backends!(
    parallel_guesses_never_get_past_the_lockout,
    a_password_reset_or_change_ends_sessions_and_tokens,
    every_redirect_stays_on_this_server,
    a_locked_name_gets_the_same_answer_as_an_unknown_one,
    page_numbers_are_bounded,
);

/// The audit trail's failed sign-ins of `name`: (password checked, refused unchecked).
async fn guesses(server: &Server, name: &str) -> (usize, usize) {
    let trail = server.store.audit_events(Some(name), 500).await.unwrap();
    let failed: Vec<_> = trail
        .iter()
        .filter(|e| e.action == "sign_in_failed")
        .collect();
    let refused = failed
        .iter()
        .filter(|e| e.detail == "refused: locked")
        .count();
    (failed.len() - refused, refused)
}

async fn parallel_guesses_never_get_past_the_lockout(server: Server) {
    let user = server.user_of(Role::SubBranchPresident).await;
    let name = user.username.as_str().to_owned();
    // 40 wrong passwords at once: the count and the lock check are one step, so exactly five are
    // ever checked and the other 35 are refused without looking at the password.
    let mut attempts = tokio::task::JoinSet::new();
    for _ in 0..40 {
        let mut client = server.client();
        let name = name.clone();
        attempts.spawn(async move { client.sign_in_with(&name, "Wrong-2026-pass").await });
    }
    while let Some(answer) = attempts.join_next().await {
        let answer = answer.unwrap();
        assert_eq!(answer.status, StatusCode::OK);
        assert!(answer.body.contains("用户名或密码错误"));
    }
    assert_eq!(guesses(&server, &name).await, (5, 35));
    // The right password now waits for the lock to end like any other.
    let mut client = server.client();
    let right = client.sign_in_with(&name, PASSWORD).await;
    assert_eq!(right.status, StatusCode::OK, "locked: no session");
    assert!(right.body.contains("用户名或密码错误"));
    assert_eq!(guesses(&server, &name).await, (5, 36));
}

async fn a_password_reset_or_change_ends_sessions_and_tokens(server: Server) {
    let rm = server.user_of(Role::RelationshipManager).await;
    let name = rm.username.as_str();
    let mut session = server.client();
    session.sign_in(name).await;
    let token = server.token_for(&rm).await;
    let mut api = server.client();
    assert_eq!(
        api.get_api("/api/v1/customers", &token).await.status,
        StatusCode::OK
    );
    // An administrator resets the password: every session and token of the user ends.
    let admin = server.user_of(Role::Administrator).await;
    let mut boss = server.client();
    boss.sign_in(admin.username.as_str()).await;
    boss.get("/admin").await;
    let reset = boss
        .post(&format!("/admin/users/{name}"), &[("action", "reset")])
        .await;
    assert_eq!(reset.status, StatusCode::SEE_OTHER, "{}", reset.body);
    assert!(
        boss.get("/admin")
            .await
            .body
            .contains("id=\"one-time-password\""),
        "the one-time password on the page it redirects to"
    );
    assert_eq!(
        session.get("/").await.status,
        StatusCode::SEE_OTHER,
        "the session opened with the old password ended"
    );
    assert_eq!(
        api.get_api("/api/v1/customers", &token).await.status,
        StatusCode::UNAUTHORIZED,
        "the token was revoked"
    );
    let trail = server.store.audit_events(Some(name), 50).await.unwrap();
    let event = trail.iter().find(|e| e.action == "reset_password").unwrap();
    assert_eq!(event.detail, "sessions_ended=1 tokens_revoked=1");

    // The user's own change: the other sessions and every token end; this session stays.
    let other = server.user_of(Role::RiskOfficer).await;
    let other_name = other.username.as_str();
    let mut here = server.client();
    here.sign_in(other_name).await;
    let mut elsewhere = server.client();
    elsewhere.sign_in(other_name).await;
    let token = server.token_for(&other).await;
    here.get("/me").await;
    let changed = here
        .post(
            "/me/password",
            &[
                ("current", PASSWORD),
                ("new", "New-Pass-2026"),
                ("repeat", "New-Pass-2026"),
            ],
        )
        .await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER, "{}", changed.body);
    assert!(here.get("/me").await.body.contains("密码已修改"));
    assert_eq!(here.get("/").await.status, StatusCode::OK);
    assert_eq!(elsewhere.get("/").await.status, StatusCode::SEE_OTHER);
    assert_eq!(
        api.get_api("/api/v1/customers", &token).await.status,
        StatusCode::UNAUTHORIZED,
        "the token was revoked"
    );
}

async fn every_redirect_stays_on_this_server(server: Server) {
    let user = server.user_of(Role::HeadOfficeKeyAccountManager).await;
    let name = user.username.as_str();
    // A crafted link carries nothing but a local path into the form.
    let mut client = server.client();
    let form = client.get("/sign-in?next=/%09/evil.example/x").await;
    assert!(
        form.body.contains("name=\"next\" value=\"/\""),
        "{}",
        form.body
    );
    for next in [
        "/\t/evil.example/phish",
        "//evil.example",
        "/\\evil.example",
        "https://evil.example",
        "/\r\nSet-Cookie: a=b",
        "/x\ny",
    ] {
        let mut client = server.client();
        client.get("/sign-in").await;
        let answer = client
            .post(
                "/sign-in",
                &[("username", name), ("password", PASSWORD), ("next", next)],
            )
            .await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{next:?}");
        assert_eq!(answer.location.as_deref(), Some("/"), "{next:?}");
    }
    let mut client = server.client();
    client.sign_in(name).await;
    for back in ["/\\evil.example", "/\t/evil.example", "/\r\nX: y"] {
        let answer = client
            .post("/me/locale", &[("locale", "zh-CN"), ("back", back)])
            .await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{back:?}");
        assert_eq!(answer.location.as_deref(), Some("/"), "{back:?}");
    }
    // A bad `back` no longer turns a written change into an error page.
    let alert = server
        .all_alerts()
        .await
        .into_iter()
        .next()
        .expect("an alert");
    let handled = client
        .post(
            &format!("/alerts/{}/handle", alert.id),
            &[("note", "已回访"), ("back", "/alerts\r\nX: y")],
        )
        .await;
    assert_eq!(handled.status, StatusCode::SEE_OTHER, "{}", handled.body);
    assert_eq!(handled.location.as_deref(), Some("/alerts"));
}

async fn a_locked_name_gets_the_same_answer_as_an_unknown_one(server: Server) {
    let user = server.user_of(Role::Auditor).await;
    let mut client = server.client();
    for _ in 0..5 {
        client
            .sign_in_with(user.username.as_str(), "Wrong-2026-pass")
            .await;
    }
    let locked = client.sign_in_with(user.username.as_str(), PASSWORD).await;
    let unknown = client.sign_in_with("nobody.here", PASSWORD).await;
    assert_eq!(locked.status, unknown.status);
    let message = |body: &str| {
        let at = body.find("class=\"error\"").expect("an error message");
        let end = at + body[at..].find("</p>").expect("the message ends");
        body[at..end].to_owned()
    };
    assert_eq!(message(&locked.body), message(&unknown.body));
    assert!(!locked.body.contains("锁定至"), "no lock time is told");
}

async fn page_numbers_are_bounded(server: Server) {
    let user = server.user_of(Role::HeadOfficeKeyAccountManager).await;
    let token = server.token_for(&user).await;
    let mut api = server.client();
    for page in ["9223372036854775807", "1000001", "0", "-3"] {
        for route in ["/api/v1/customers", "/api/v1/alerts"] {
            let answer = api.get_api(&format!("{route}?page={page}"), &token).await;
            assert_eq!(
                answer.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{route} {page}"
            );
            // A problem document naming the field.
            assert_eq!(answer.headers["content-type"], "application/problem+json");
            let problem: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
            assert_eq!(problem["code"], "KAM-422");
            assert_eq!(problem["status"], 422);
            assert_eq!(problem["type"], "urn:kam:problem:KAM-422");
            assert_eq!(problem["errors"][0]["field"], "page");
            assert!(
                problem["errors"][0]["message_zh"]
                    .as_str()
                    .unwrap()
                    .contains("页码")
            );
        }
    }
    let last = api.get_api("/api/v1/customers?page=1000000", &token).await;
    assert_eq!(last.status, StatusCode::OK);
    assert!(last.body.contains("\"page\":1000000"), "{}", last.body);
    let mut client = server.client();
    client.sign_in(user.username.as_str()).await;
    let page = client.get("/customers?page=9223372036854775807").await;
    assert_eq!(
        page.status,
        StatusCode::OK,
        "the page falls back to the first"
    );
}

/// With a 2-second idle timeout, requests 1.0, 1.8 and 2.6 s after signing in are all within it
/// (the second and third come less than two seconds after the one before); 2.5 s of rest is not.
async fn an_active_session_is_not_ended_as_idle(db: kam_store::testing::TestDb) {
    let server = Server::start(
        db,
        Options {
            idle_timeout: Some(Duration::from_secs(2)),
            ..Options::default()
        },
    )
    .await;
    let user = server.user_of(Role::HeadOfficeKeyAccountManager).await;
    let mut client = server.client();
    client.sign_in(user.username.as_str()).await;
    let started = tokio::time::Instant::now();
    for at in [1000, 1800, 2600] {
        tokio::time::sleep_until(started + Duration::from_millis(at)).await;
        let answer = client.get("/customers").await;
        assert_eq!(answer.status, StatusCode::OK, "in use at {at} ms");
    }
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        client.get("/customers").await.status,
        StatusCode::SEE_OTHER,
        "idle for longer than the timeout"
    );
}

mod idle {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_active_session_is_not_ended_as_idle_on_sqlite() {
        super::an_active_session_is_not_ended_as_idle(kam_store::testing::sqlite().await).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_active_session_is_not_ended_as_idle_on_postgres() {
        let Some(db) = kam_store::testing::postgres().await else {
            eprintln!("SKIPPED on PostgreSQL: an_active_session_is_not_ended_as_idle");
            return;
        };
        super::an_active_session_is_not_ended_as_idle(db).await;
    }
}

//! Sign-in and sign-out. A failed sign-in says only "wrong name or password" (whether the name
//! exists is not told); five in a row lock the account for fifteen minutes; every attempt is in
//! the audit trail; a successful one gets a new session id.

use askama::Template;
use axum::{
    Form,
    extract::{Query, State},
    http::{HeaderMap, header},
    response::{IntoResponse, Redirect, Response},
};
use kam_core::password::verify_password;
use kam_store::SignInAttempt;
use serde::Deserialize;

use crate::{
    App,
    error::WebError,
    i18n::Locale,
    pages::{Chrome, render},
    security::local_path_or,
    session::{
        LANG_COOKIE, PRE_COOKIE, SESSION_COOKIE, Signed, anonymous_locale, cookie, new_token,
        set_cookie, token_hash,
    },
};

/// This page's routes, into the one route table.
pub(crate) fn routes(routes: crate::Routes) -> crate::Routes {
    routes
        .get("/sign-in", sign_in_page)
        .post("/sign-in", sign_in)
        .post("/sign-out", sign_out)
}

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage<'a> {
    c: Chrome<'a>,
    next: String,
    username: String,
    error: Option<String>,
    /// `kam demo` only: (role, login) to try, and the shared password.
    demo_accounts: Vec<(String, String)>,
    demo_password: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct SignInQuery {
    next: Option<String>,
    lang: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct SignInForm {
    username: String,
    password: String,
    #[serde(default)]
    next: String,
}

fn sign_in_form(
    app: &App,
    locale: Locale,
    next: &str,
    username: &str,
    error: Option<String>,
) -> Result<Response, WebError> {
    let csrf = new_token();
    let title = app.i18n().message(locale, "sign-in-title", None);
    let t = crate::i18n::Tr::new(app.i18n(), locale);
    let demo = app.config().demo.as_ref();
    let page = SignInPage {
        c: Chrome::anonymous(app, locale, title, csrf.clone()),
        next: local_path_or(next, "/"),
        username: username.to_owned(),
        error,
        demo_accounts: demo
            .map(|d| {
                d.accounts
                    .iter()
                    .map(|(role, login)| (crate::pages::role_label(&t, *role), login.clone()))
                    .collect()
            })
            .unwrap_or_default(),
        demo_password: demo.map(|d| d.password.clone()).unwrap_or_default(),
    };
    let mut response = render(&page)?;
    let headers = response.headers_mut();
    if let Ok(value) = set_cookie(app, PRE_COOKIE, &csrf, None).parse() {
        headers.append(header::SET_COOKIE, value);
    }
    if let Ok(value) = set_cookie(app, LANG_COOKIE, locale.code(), Some(365 * 86400)).parse() {
        headers.append(header::SET_COOKIE, value);
    }
    Ok(response)
}

pub(crate) async fn sign_in_page(
    State(app): State<App>,
    headers: HeaderMap,
    Query(query): Query<SignInQuery>,
) -> Result<Response, WebError> {
    let locale = query
        .lang
        .as_deref()
        .map_or_else(|| anonymous_locale(&headers), Locale::from_code);
    sign_in_form(&app, locale, query.next.as_deref().unwrap_or("/"), "", None)
}

pub(crate) async fn sign_in(
    State(app): State<App>,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Result<Response, WebError> {
    let locale = anonymous_locale(&headers);
    let tr = |key: &str| app.i18n().message(locale, key, None);
    let username = form.username.trim().to_owned();
    let attempt = app
        .sessions()
        .begin_sign_in(
            &username,
            app.config().lockout_failures,
            chrono::Duration::from_std(app.config().lockout).unwrap_or_default(),
        )
        .await?;
    // An unknown name and a locked account check a dummy hash, so that neither the answer nor its
    // time tells them apart from a wrong password.
    let stored = match &attempt {
        SignInAttempt::Granted { account, .. } => account.password_hash.clone(),
        SignInAttempt::Unknown | SignInAttempt::Locked => app.dummy_hash().to_owned(),
    };
    let password = form.password;
    // argon2id takes tens of milliseconds of CPU: off the async threads.
    let matches = tokio::task::spawn_blocking(move || verify_password(&password, &stored))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?;
    let account = match &attempt {
        SignInAttempt::Granted { account, .. } if matches && !account.user.disabled => {
            account.clone()
        }
        _ => {
            app.sessions()
                .record_failed_sign_in(&username, &attempt)
                .await?;
            let message = tr("sign-in-wrong");
            return sign_in_form(&app, locale, &form.next, &username, Some(message));
        }
    };
    // Signing in again ends the session this browser had: one browser, one session.
    if let Some(previous) = cookie(&headers, SESSION_COOKIE)
        && let Some(session) = app.sessions().session(&token_hash(&previous)).await?
    {
        app.sessions()
            .end_session(&session, "session_replaced")
            .await?;
    }
    let token = new_token();
    let detail = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|agent| format!("agent={}", agent.chars().take(120).collect::<String>()))
        .unwrap_or_default();
    app.sessions()
        .open_session(&account.user, &token_hash(&token), &new_token(), &detail)
        .await?;
    let mut response = Redirect::to(&local_path_or(&form.next, "/")).into_response();
    let headers = response.headers_mut();
    if let Ok(value) = set_cookie(&app, SESSION_COOKIE, &token, None).parse() {
        headers.append(header::SET_COOKIE, value);
    }
    if let Ok(value) = set_cookie(&app, PRE_COOKIE, "", Some(0)).parse() {
        headers.append(header::SET_COOKIE, value);
    }
    Ok(response)
}

pub(crate) async fn sign_out(State(app): State<App>, signed: Signed) -> Result<Response, WebError> {
    app.sessions()
        .end_session(&signed.session, "sign_out")
        .await?;
    let mut response = Redirect::to("/sign-in").into_response();
    if let Ok(value) = set_cookie(&app, SESSION_COOKIE, "", Some(0)).parse() {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok(response)
}

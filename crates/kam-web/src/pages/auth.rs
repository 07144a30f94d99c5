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
use chrono::Utc;
use kam_core::password::verify_password;
use kam_store::FailedSignIn;
use serde::Deserialize;

use crate::{
    App,
    error::WebError,
    i18n::Locale,
    pages::{Chrome, render},
    session::{
        LANG_COOKIE, PRE_COOKIE, SESSION_COOKIE, Signed, anonymous_locale, cookie, new_token,
        set_cookie, token_hash,
    },
};

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage<'a> {
    c: Chrome<'a>,
    next: String,
    username: String,
    error: Option<String>,
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

/// Only a path on this server (`/…`, not `//host`) is a place to return to after signing in.
fn safe_next(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next
    } else {
        "/"
    }
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
    let page = SignInPage {
        c: Chrome::anonymous(app, locale, title, csrf.clone()),
        next: safe_next(next).to_owned(),
        username: username.to_owned(),
        error,
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
    let account = match app.store().sign_in_account(&username).await {
        Ok(account) => Some(account),
        Err(kam_store::Error::NotFound { .. }) => None,
        Err(other) => return Err(other.into()),
    };
    if let Some(until) = account.as_ref().and_then(|a| a.locked_until)
        && until > Utc::now()
    {
        let message = app.i18n().message(
            locale,
            "sign-in-locked",
            Some(&fluent_args(&[("until", &local_time(until))])),
        );
        return sign_in_form(&app, locale, &form.next, &username, Some(message));
    }
    let stored = account
        .as_ref()
        .map_or_else(|| app.dummy_hash().to_owned(), |a| a.password_hash.clone());
    let password = form.password;
    // argon2id takes tens of milliseconds of CPU: off the async threads.
    let matches = tokio::task::spawn_blocking(move || verify_password(&password, &stored))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?;
    let account = match account {
        Some(account) if matches && !account.user.disabled => account,
        other => {
            let outcome = app
                .store()
                .record_failed_sign_in(
                    &username,
                    other.as_ref().map(|a| a.user.id),
                    app.config().lockout_failures,
                    chrono::Duration::from_std(app.config().lockout).unwrap_or_default(),
                )
                .await?;
            let message = match outcome {
                FailedSignIn::Locked(until) if other.is_some() => app.i18n().message(
                    locale,
                    "sign-in-locked",
                    Some(&fluent_args(&[("until", &local_time(until))])),
                ),
                _ => tr("sign-in-wrong"),
            };
            return sign_in_form(&app, locale, &form.next, &username, Some(message));
        }
    };
    // Signing in again ends the session this browser had: one browser, one session.
    if let Some(previous) = cookie(&headers, SESSION_COOKIE)
        && let Some(session) = app.store().session(&token_hash(&previous)).await?
    {
        app.store()
            .end_session(&session, "session_replaced")
            .await?;
    }
    let token = new_token();
    let detail = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|agent| format!("agent={}", agent.chars().take(120).collect::<String>()))
        .unwrap_or_default();
    app.store()
        .open_session(&account.user, &token_hash(&token), &new_token(), &detail)
        .await?;
    let mut response = Redirect::to(safe_next(&form.next)).into_response();
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
    app.store().end_session(&signed.session, "sign_out").await?;
    let mut response = Redirect::to("/sign-in").into_response();
    if let Ok(value) = set_cookie(&app, SESSION_COOKIE, "", Some(0)).parse() {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok(response)
}

fn fluent_args<'a>(pairs: &[(&'a str, &'a str)]) -> fluent_bundle::FluentArgs<'a> {
    let mut args = fluent_bundle::FluentArgs::new();
    for (name, value) in pairs {
        args.set(*name, *value);
    }
    args
}

/// A time in the bank's zone, `HH:MM`.
fn local_time(at: chrono::DateTime<Utc>) -> String {
    (at + chrono::Duration::hours(8))
        .format("%H:%M")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next("/customers?q=1"), "/customers?q=1");
        assert_eq!(safe_next("//evil.example"), "/");
        assert_eq!(safe_next("https://evil.example"), "/");
        assert_eq!(safe_next("/\\evil"), "/");
    }
}

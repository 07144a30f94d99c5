//! The personal page: interface language and password change (old password, the policy, and
//! every other session of the user ended).

use askama::Template;
use axum::{
    Form,
    extract::{Path, State},
    http::header,
    response::{IntoResponse, Redirect, Response},
};
use kam_core::password::{check_policy, hash_password, verify_password};
use kam_store::ApiToken;
use rand::RngCore;
use serde::Deserialize;

use crate::{
    App,
    error::WebError,
    i18n::Locale,
    pages::{Chrome, render},
    session::{LANG_COOKIE, Signed, new_token, set_cookie, token_hash},
};

#[derive(Template)]
#[template(path = "me.html")]
struct MePage<'a> {
    c: Chrome<'a>,
    username: String,
    unit: String,
    message: Option<String>,
    error: Option<String>,
    tokens: Vec<ApiToken>,
    /// A token just created: shown this once, never again.
    new_token: Option<String>,
}

async fn page(
    app: &App,
    signed: &Signed,
    message: Option<String>,
    error: Option<String>,
    new_token: Option<String>,
) -> Result<Response, WebError> {
    let t = signed.tr(app);
    let unit = signed.store.org_unit(signed.user().org_unit_id).await?;
    let tokens = signed.store.api_tokens().await?;
    render(&MePage {
        c: Chrome::new(app, signed, "me", t.get("me-title")),
        username: signed.user().username.to_string(),
        unit: unit.name,
        message,
        error,
        tokens,
        new_token,
    })
}

pub(crate) async fn me_page(State(app): State<App>, signed: Signed) -> Result<Response, WebError> {
    page(&app, &signed, None, None, None).await
}

#[derive(Debug, Deserialize)]
pub(crate) struct TokenForm {
    #[serde(default)]
    name: String,
}

/// A new personal API token: shown once, stored only as its hash, audited.
pub(crate) async fn create_token(
    State(app): State<App>,
    signed: Signed,
    Form(form): Form<TokenForm>,
) -> Result<Response, WebError> {
    let t = signed.tr(&app);
    let name = form.name.trim();
    if name.is_empty() || name.chars().count() > 60 {
        return page(
            &app,
            &signed,
            None,
            Some(t.get("me-token-name-needed")),
            None,
        )
        .await;
    }
    let token = format!("kam_{}", new_token());
    signed
        .store
        .create_api_token(name, &token_hash(&token))
        .await?;
    page(
        &app,
        &signed,
        Some(t.get("me-token-created")),
        None,
        Some(token),
    )
    .await
}

/// Revokes one of the user's own tokens; anyone else's is a 404.
pub(crate) async fn revoke_token(
    signed: Signed,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    signed.store.revoke_api_token(id).await?;
    Ok(Redirect::to("/me").into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct LocaleForm {
    locale: String,
    #[serde(default)]
    back: String,
}

pub(crate) async fn set_locale(
    State(app): State<App>,
    signed: Signed,
    Form(form): Form<LocaleForm>,
) -> Result<Response, WebError> {
    let locale = Locale::from_code(&form.locale);
    signed.store.set_locale(locale.code()).await?;
    let back = crate::security::local_path_or(&form.back, "/");
    let mut response = Redirect::to(&back).into_response();
    if let Ok(value) = set_cookie(&app, LANG_COOKIE, locale.code(), Some(365 * 86400)).parse() {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok(response)
}

#[derive(Debug, Deserialize)]
pub(crate) struct PasswordForm {
    current: String,
    new: String,
    repeat: String,
}

pub(crate) async fn change_password(
    State(app): State<App>,
    signed: Signed,
    Form(form): Form<PasswordForm>,
) -> Result<Response, WebError> {
    let t = signed.tr(&app);
    let stored = signed.store.own_password_hash().await?;
    let current = form.current;
    let matches = tokio::task::spawn_blocking(move || verify_password(&current, &stored))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?;
    if !matches {
        return page(&app, &signed, None, Some(t.get("me-password-wrong")), None).await;
    }
    if form.new != form.repeat {
        return page(
            &app,
            &signed,
            None,
            Some(t.get("me-password-mismatch")),
            None,
        )
        .await;
    }
    if let Err(error) = check_policy(&form.new, app.config().password_min_length) {
        let message = if t.is_zh() {
            error.reason_zh.clone()
        } else {
            error.reason_en.clone()
        };
        return page(&app, &signed, None, Some(message), None).await;
    }
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let cost = app.config().hash_cost;
    let new = form.new;
    let hash = tokio::task::spawn_blocking(move || hash_password(&new, &salt, cost))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?;
    signed
        .store
        .change_own_password(&signed.session, &hash)
        .await?;
    page(
        &app,
        &signed,
        Some(t.get("me-password-changed")),
        None,
        None,
    )
    .await
}

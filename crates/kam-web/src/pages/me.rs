//! The personal page: interface language and password change (old password, the policy, and
//! every other session of the user ended).

use askama::Template;
use axum::{
    Form,
    extract::State,
    http::header,
    response::{IntoResponse, Redirect, Response},
};
use kam_core::password::{check_policy, hash_password, verify_password};
use kam_store::Actor;
use rand::RngCore;
use serde::Deserialize;

use crate::{
    App,
    error::WebError,
    i18n::Locale,
    pages::{Chrome, render},
    session::{LANG_COOKIE, Signed, set_cookie},
};

#[derive(Template)]
#[template(path = "me.html")]
struct MePage<'a> {
    c: Chrome<'a>,
    username: String,
    unit: String,
    message: Option<String>,
    error: Option<String>,
}

async fn page(
    app: &App,
    signed: &Signed,
    message: Option<String>,
    error: Option<String>,
) -> Result<Response, WebError> {
    let t = signed.tr(app);
    let unit = app.store().org_unit(signed.user().org_unit_id).await?;
    render(&MePage {
        c: Chrome::new(app, signed, "me", t.get("me-title")),
        username: signed.user().username.to_string(),
        unit: unit.name,
        message,
        error,
    })
}

pub(crate) async fn me_page(State(app): State<App>, signed: Signed) -> Result<Response, WebError> {
    page(&app, &signed, None, None).await
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
    let actor = Actor::user(signed.user().id, signed.user().username.as_str());
    app.store()
        .set_locale(&actor, signed.user().id, locale.code())
        .await?;
    let back = if form.back.starts_with('/') && !form.back.starts_with("//") {
        form.back
    } else {
        "/".to_owned()
    };
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
    let stored = app.store().password_hash(signed.user().id).await?;
    let current = form.current;
    let matches = tokio::task::spawn_blocking(move || verify_password(&current, &stored))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?;
    if !matches {
        return page(&app, &signed, None, Some(t.get("me-password-wrong"))).await;
    }
    if form.new != form.repeat {
        return page(&app, &signed, None, Some(t.get("me-password-mismatch"))).await;
    }
    if let Err(error) = check_policy(&form.new, app.config().password_min_length) {
        let message = if t.is_zh() {
            error.reason_zh.clone()
        } else {
            error.reason_en.clone()
        };
        return page(&app, &signed, None, Some(message)).await;
    }
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let cost = app.config().hash_cost;
    let new = form.new;
    let hash = tokio::task::spawn_blocking(move || hash_password(&new, &salt, cost))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?;
    app.store()
        .change_own_password(&signed.session, &hash)
        .await?;
    page(&app, &signed, Some(t.get("me-password-changed")), None).await
}

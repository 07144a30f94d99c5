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
use kam_store::{ApiToken, Flash};
use rand::RngCore;
use serde::Deserialize;

use crate::{
    App,
    error::WebError,
    i18n::Locale,
    pages::{Chrome, FieldError, render_form},
    session::{LANG_COOKIE, Signed, new_token, redirect_with, set_cookie, token_hash},
};

/// This page's routes, into the one route table.
pub(crate) fn routes(routes: crate::Routes) -> crate::Routes {
    routes
        .get("/me", me_page)
        .post("/me/locale", set_locale)
        .post("/me/password", change_password)
        .post("/me/tokens", create_token)
        .post("/me/tokens/{token}/revoke", revoke_token)
}

#[derive(Template)]
#[template(path = "me.html")]
struct MePage<'a> {
    c: Chrome<'a>,
    username: String,
    unit: String,
    message: Option<String>,
    /// The field a form refused, with the message shown next to it.
    refused: Option<FieldError>,
    /// The token name as entered, kept when the form is refused.
    token_name: String,
    tokens: Vec<ApiToken>,
    /// A token just created: shown this once, never again.
    new_token: Option<String>,
}

impl MePage<'_> {
    fn error(&self) -> Option<String> {
        self.refused.as_ref().map(|e| e.message.clone())
    }

    fn error_on(&self, field: &str) -> Option<String> {
        FieldError::on(&self.refused, field)
    }
}

/// What the page shows besides the user: a message, a refused field, a kept token name, a token
/// just made.
#[derive(Debug, Default)]
struct Outcome {
    message: Option<String>,
    refused: Option<FieldError>,
    token_name: String,
    new_token: Option<String>,
}

async fn page(app: &App, signed: &Signed, outcome: Outcome) -> Result<Response, WebError> {
    let t = signed.tr(app);
    let unit = signed.store.org_unit(signed.user().org_unit_id).await?;
    let tokens = signed.store.api_tokens().await?;
    let page = MePage {
        c: Chrome::new(app, signed, "me", t.get("me-title")),
        username: signed.user().username.to_string(),
        unit: unit.name,
        message: outcome.message,
        refused: outcome.refused,
        token_name: outcome.token_name,
        tokens,
        new_token: outcome.new_token,
    };
    render_form(&page, page.refused.as_ref())
}

/// The page again with `field` refused (422), `token_name` kept.
async fn refuse(
    app: &App,
    signed: &Signed,
    field: &'static str,
    message: String,
    token_name: &str,
) -> Result<Response, WebError> {
    let outcome = Outcome {
        refused: Some(FieldError::new(field, message)),
        token_name: token_name.to_owned(),
        ..Outcome::default()
    };
    page(app, signed, outcome).await
}

pub(crate) async fn me_page(State(app): State<App>, signed: Signed) -> Result<Response, WebError> {
    // What a form left for this page (post/redirect/get): its note, and a new token shown once.
    let outcome = match &signed.session.flash {
        Some(flash) => Outcome {
            message: Some(flash.note.clone()),
            new_token: flash
                .secret
                .clone()
                .filter(|_| flash.field.as_deref() == Some("token")),
            ..Outcome::default()
        },
        None => Outcome::default(),
    };
    page(&app, &signed, outcome).await
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
        let message = t.get("me-token-name-needed");
        return refuse(&app, &signed, "name", message, &form.name).await;
    }
    let token = format!("kam_{}", new_token());
    signed
        .store
        .create_api_token(name, &token_hash(&token))
        .await?;
    let flash = Flash {
        note: t.get("me-token-created"),
        secret: Some(token),
        field: Some("token".into()),
    };
    redirect_with(&app, &signed, "/me", flash).await
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
    let back = crate::security::page_to_return_to(&crate::security::local_path_or(&form.back, "/"));
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
    // Passwords are never sent back: a refused password form comes back empty, the reason next
    // to the field at fault.
    if !matches {
        let message = t.get("me-password-wrong");
        return refuse(&app, &signed, "current", message, "").await;
    }
    if form.new != form.repeat {
        let message = t.get("me-password-mismatch");
        return refuse(&app, &signed, "repeat", message, "").await;
    }
    if let Err(error) = check_policy(&form.new, app.config().password_min_length) {
        let message = t.reason(&error);
        return refuse(&app, &signed, "new", message, "").await;
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
    let flash = Flash {
        note: t.get("me-password-changed"),
        ..Flash::default()
    };
    redirect_with(&app, &signed, "/me", flash).await
}

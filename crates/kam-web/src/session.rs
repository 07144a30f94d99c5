//! Who is asking: the session cookie, the session's timeouts, the CSRF check of every
//! state-changing request, and the `Signed` extractor that gives a handler the user, their
//! visibility scope (from kam-core, through kam-store) and their language.

use std::sync::Arc;

use axum::{
    body::{Body, to_bytes},
    extract::{FromRequestParts, Request, State},
    http::{HeaderMap, Method, header, request::Parts},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use chrono::NaiveDate;
use kam_core::{user::User, visibility::Scope};
use kam_store::UserStore;
use kam_store::WebSession;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::{
    App,
    error::{ErrorPage, WebError},
    i18n::{Locale, Tr},
};

pub(crate) const SESSION_COOKIE: &str = "kam_session";
/// The sign-in form's own CSRF value (double-submit: a cookie and a hidden field), since there is
/// no session yet to hold one.
pub(crate) const PRE_COOKIE: &str = "kam_pre";
/// The language chosen before signing in.
pub(crate) const LANG_COOKIE: &str = "kam_lang";
/// Forms bigger than this are refused (no page posts more than a note).
const FORM_LIMIT: usize = 64 * 1024;

/// A fresh random token: 32 bytes from the OS generator, as hex.
pub(crate) fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// What the store keeps instead of a token.
pub(crate) fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, Secure over TLS; `max_age` 0 deletes.
pub(crate) fn set_cookie(app: &App, name: &str, value: &str, max_age: Option<i64>) -> String {
    let mut cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if let Some(age) = max_age {
        cookie.push_str(&format!("; Max-Age={age}"));
    }
    if app.config().secure_cookies {
        cookie.push_str("; Secure");
    }
    cookie
}

fn equal(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// Loads the session behind the cookie (ending it when idle or too old), then refuses a
/// state-changing request whose CSRF token does not match. Runs before every page handler.
pub(crate) async fn load(State(app): State<App>, request: Request, next: Next) -> Response {
    match load_inner(&app, request).await {
        Ok((request, expired)) => {
            let session = request.extensions().get::<Arc<WebSession>>().cloned();
            let shows_page = request.method() == Method::GET;
            let mut response = next.run(request).await;
            // A one-time message is gone once a page has shown it.
            if let Some(session) = &session
                && shows_page
                && response.status().is_success()
                && session.flash.is_some()
                && let Err(error) = app.sessions().clear_flash(session).await
            {
                return WebError::from(error).into_response();
            }
            // A signed-in user's error page keeps the navigation (where to go next), with the
            // same status and message as the plain one.
            if let (Some(session), Some(info)) =
                (session, response.extensions().get::<ErrorPage>().cloned())
            {
                response = error_in_layout(&app, session, &info, response.status());
            }
            if expired && let Ok(value) = set_cookie(&app, SESSION_COOKIE, "", Some(0)).parse() {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
            response
        }
        Err(error) => error.into_response(),
    }
}

/// Post/redirect/get: leaves `flash` for the page at `to` and redirects there (303), so that a
/// reload or a language switch shows that page again instead of sending the form again.
pub(crate) async fn redirect_with(
    app: &App,
    signed: &Signed,
    to: &str,
    flash: kam_store::Flash,
) -> Result<Response, WebError> {
    app.sessions().set_flash(&signed.session, &flash).await?;
    Ok(Redirect::to(to).into_response())
}

/// The error page inside the layout, for the signed-in user of `session`.
fn error_in_layout(
    app: &App,
    session: Arc<WebSession>,
    info: &ErrorPage,
    status: axum::http::StatusCode,
) -> Response {
    let today = app.today();
    let signed = Signed {
        locale: Locale::from_code(&session.locale),
        store: app.sessions().for_session(&session, today),
        session,
        today,
    };
    let t = signed.tr(app);
    let page = crate::pages::ErrorInLayout {
        c: crate::pages::Chrome::new(app, &signed, "", t.pick(&info.zh, Some(&info.en))),
        status: status.as_u16(),
        message: t.pick(&info.zh, Some(&info.en)),
        code: info.code,
        reference: info.reference.clone().unwrap_or_default(),
    };
    match crate::pages::render(&page) {
        Ok(mut response) => {
            *response.status_mut() = status;
            response
        }
        Err(error) => error.into_response(),
    }
}

async fn load_inner(app: &App, request: Request) -> Result<(Request, bool), WebError> {
    let (mut parts, body) = request.into_parts();
    let mut expired = false;
    let mut session = None;
    if let Some(token) = cookie(&parts.headers, SESSION_COOKIE)
        && let Some(found) = app.sessions().session(&token_hash(&token)).await?
    {
        let now = app.now();
        let idle = chrono::Duration::from_std(app.config().idle_timeout).unwrap_or_default();
        let absolute =
            chrono::Duration::from_std(app.config().absolute_timeout).unwrap_or_default();
        if found.user.disabled || found.idle_beyond(now, idle) || now - found.created_at > absolute
        {
            app.sessions()
                .end_session(&found, "session_expired")
                .await?;
            expired = true;
        } else {
            app.sessions().touch_session(&found, idle).await?;
            crate::observe::note_user(found.user.id.0);
            session = Some(Arc::new(found));
        }
    }
    let body = if matches!(parts.method, Method::GET | Method::HEAD) {
        body
    } else {
        let header = parts
            .headers
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        // An upload streams to its handler: its token comes in the header or the address (the
        // form's action), never from a body read here whole.
        let streamed = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"));
        let (sent, body) = if streamed {
            let in_query = parts.uri.query().and_then(|q| csrf_in(q.as_bytes()));
            (header.or(in_query).unwrap_or_default(), body)
        } else {
            let bytes = to_bytes(body, FORM_LIMIT)
                .await
                .map_err(|_| WebError::BadRequest("表单过大 / form too large".into()))?;
            let sent = header.or_else(|| csrf_in(&bytes)).unwrap_or_default();
            (sent, Body::from(bytes))
        };
        let sign_in = parts.uri.path() == "/sign-in";
        let expected = match &session {
            // The sign-in form carries its own token, signed in already or not.
            _ if sign_in => cookie(&parts.headers, PRE_COOKIE),
            Some(session) => Some(session.csrf_token.clone()),
            None => None,
        };
        match expected {
            Some(expected) if !sent.is_empty() && equal(&sent, &expected) => {}
            // Not signed in: the handler's `Signed` answers with the sign-in form.
            None if session.is_none() && !sign_in => {}
            _ => return Err(WebError::Csrf),
        }
        body
    };
    if let Some(session) = session {
        parts.extensions.insert(session);
    }
    Ok((Request::from_parts(parts, body), expired))
}

/// The `csrf` field of a URL-encoded form or query string.
fn csrf_in(encoded: &[u8]) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(encoded)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v)
}

/// A signed-in user, as a page handler needs them.
#[derive(Debug, Clone)]
pub(crate) struct Signed {
    pub session: Arc<WebSession>,
    /// The user's handle on the store: every read scoped, every write checked, by kam-store.
    pub store: UserStore,
    pub locale: Locale,
    pub today: NaiveDate,
}

impl Signed {
    pub fn user(&self) -> &User {
        &self.session.user
    }

    /// What the user may see today, decided by kam-core.
    pub fn scope(&self) -> &Scope {
        self.store.scope()
    }

    pub fn tr<'a>(&self, app: &'a App) -> Tr<'a> {
        Tr::new(app.i18n(), self.locale).in_unit(app.config().amount_unit)
    }
}

/// Not signed in: pages go to the sign-in form (remembering where the user was going).
#[derive(Debug)]
pub(crate) struct SignInFirst(String);

impl IntoResponse for SignInFirst {
    fn into_response(self) -> Response {
        Redirect::to(&format!(
            "/sign-in?next={}",
            serde_urlencoded::to_string([("", self.0.as_str())])
                .unwrap_or_default()
                .trim_start_matches('=')
        ))
        .into_response()
    }
}

impl FromRequestParts<App> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let Some(session) = parts.extensions.get::<Arc<WebSession>>().cloned() else {
            let next = parts
                .uri
                .path_and_query()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_else(|| "/".into());
            return Err(SignInFirst(next).into_response());
        };
        let today = app.today();
        let store = app.sessions().for_session(&session, today);
        Ok(Signed {
            locale: Locale::from_code(&session.locale),
            session,
            store,
            today,
        })
    }
}

/// The language of a request without a session: the chosen cookie, else the browser's.
pub(crate) fn anonymous_locale(headers: &HeaderMap) -> Locale {
    if let Some(code) = cookie(headers, LANG_COOKIE) {
        return Locale::from_code(&code);
    }
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map_or(Locale::ZhCn, Locale::from_accept_language)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hashes_hide_them() {
        let a = new_token();
        assert_eq!(a.len(), 64);
        assert_ne!(a, new_token());
        assert_ne!(token_hash(&a), a);
        assert_eq!(token_hash(&a), token_hash(&a));
    }

    #[test]
    fn cookies_are_found_by_name() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, "a=1; kam_session=xyz; b=2".parse().unwrap());
        assert_eq!(cookie(&headers, SESSION_COOKIE).as_deref(), Some("xyz"));
        assert_eq!(cookie(&headers, "c"), None);
    }
}

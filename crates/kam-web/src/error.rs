//! Errors as the user sees them: a page (or JSON) with a stable code and a message in their
//! language, never internal text. Internal failures are logged with a reference the page shows.

use axum::{
    Json,
    http::{StatusCode, header},
    response::{Html, IntoResponse, Response},
};
use rand::Rng;

/// An API error as a problem document (RFC 9457): what kind (`type`, and the stable `code`), the
/// HTTP status, what happened in English and Chinese, and for a refused value, which field.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// `urn:kam:problem:KAM-404` and so on: one per stable code.
    pub r#type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    pub detail_zh: String,
    /// The stable code (`KAM-401`, `KAM-403`, `KAM-404`, `KAM-409`, `KAM-422`, `KAM-500`).
    pub code: String,
    /// Field by field, for a refused value.
    pub errors: Vec<FieldProblem>,
    /// For an internal error: the reference under which it was logged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// One refused field of a request.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
    pub message_zh: String,
}

/// What went wrong, as far as the user may know.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// Missing or not visible — the same answer on purpose.
    #[error("not found")]
    NotFound,
    /// Signed in, but the role may not do this.
    #[error("forbidden")]
    Forbidden,
    /// A state-changing request without the session's CSRF token.
    #[error("csrf")]
    Csrf,
    /// Not signed in (pages redirect to the sign-in form instead).
    #[error("unauthorised")]
    Unauthorised,
    /// The request was wrong; the message is already in the user's language.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// Someone else changed or created the record first (a version or unique-key conflict).
    #[error("conflict")]
    Conflict,
    /// A well-formed request with a value kam refuses: which field (when one is to blame) and why,
    /// in zh-CN and en.
    #[error("unprocessable: {en}")]
    Unprocessable {
        field: Option<String>,
        zh: String,
        en: String,
    },
    #[error("internal: {0}")]
    Internal(String),
}

impl From<kam_store::Error> for WebError {
    fn from(error: kam_store::Error) -> Self {
        match error {
            kam_store::Error::NotFound { .. } => WebError::NotFound,
            kam_store::Error::ReadOnly | kam_store::Error::NotPermitted(_) => WebError::Forbidden,
            kam_store::Error::Conflict { .. } => WebError::Conflict,
            // A domain rule refused the value: the user can correct it.
            kam_store::Error::Invalid(error) => error.into(),
            other => WebError::Internal(other.to_string()),
        }
    }
}

/// A value kam-core refused, named by its field: the user can correct it.
impl From<kam_core::ParseError> for WebError {
    fn from(error: kam_core::ParseError) -> Self {
        WebError::Unprocessable {
            field: Some(error.field.to_owned()),
            zh: format!("{}：{}", error.field, error.reason_zh),
            en: format!("{}: {}", error.field, error.reason_en),
        }
    }
}

impl From<askama::Error> for WebError {
    fn from(error: askama::Error) -> Self {
        WebError::Internal(format!("template: {error}"))
    }
}

impl WebError {
    fn status(&self) -> StatusCode {
        match self {
            WebError::NotFound => StatusCode::NOT_FOUND,
            WebError::Forbidden | WebError::Csrf => StatusCode::FORBIDDEN,
            WebError::Unauthorised => StatusCode::UNAUTHORIZED,
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            WebError::Conflict => StatusCode::CONFLICT,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable code clients and support staff can rely on.
    pub fn code(&self) -> &'static str {
        match self {
            WebError::NotFound => "KAM-404",
            WebError::Forbidden => "KAM-403",
            WebError::Csrf => "KAM-403-CSRF",
            WebError::Unauthorised => "KAM-401",
            WebError::BadRequest(_) => "KAM-400",
            WebError::Unprocessable { .. } => "KAM-422",
            WebError::Conflict => "KAM-409",
            WebError::Internal(_) => "KAM-500",
        }
    }

    fn messages(&self) -> (&str, &str) {
        match self {
            WebError::NotFound => ("页面或记录不存在", "Not found"),
            WebError::Forbidden => ("您的角色无权执行此操作", "Your role may not do this"),
            WebError::Csrf => (
                "请求已过期或来源不明，请返回刷新后重试",
                "The form expired or did not come from kam; go back, reload and try again",
            ),
            WebError::Unauthorised => ("请先登录", "Please sign in"),
            WebError::BadRequest(message) => (message.as_str(), message.as_str()),
            WebError::Unprocessable { zh, en, .. } => (zh.as_str(), en.as_str()),
            WebError::Conflict => (
                "此记录已被他人修改或已存在，请刷新后重试",
                "Someone else changed or created this record first; reload and try again",
            ),
            WebError::Internal(_) => ("系统内部错误", "Internal error"),
        }
    }

    /// The JSON form, for the API: a problem document (RFC 9457) as `application/problem+json`.
    pub fn into_json(self) -> Response {
        let reference = self.log();
        let (zh, en) = self.messages();
        let status = self.status();
        let errors = match &self {
            WebError::Unprocessable {
                field: Some(field),
                zh,
                en,
            } => vec![FieldProblem {
                field: field.clone(),
                message: en.clone(),
                message_zh: zh.clone(),
            }],
            _ => Vec::new(),
        };
        let problem = Problem {
            r#type: format!("urn:kam:problem:{}", self.code()),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: en.to_owned(),
            detail_zh: zh.to_owned(),
            code: self.code().to_owned(),
            errors,
            reference,
        };
        let mut response = (status, Json(problem)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("application/problem+json"),
        );
        response
    }

    /// Logs an internal failure under a short reference and returns it.
    fn log(&self) -> Option<String> {
        match self {
            WebError::Internal(detail) => {
                let reference = format!("{:08x}", rand::rng().random::<u32>());
                tracing::error!(reference, detail, "internal error answering a request");
                Some(reference)
            }
            _ => None,
        }
    }
}

/// What an error page says, kept on the response so that the session layer can show it inside the
/// navigation for a signed-in user (`session::load`); without a session it stays the plain page.
#[derive(Debug, Clone)]
pub(crate) struct ErrorPage {
    pub code: &'static str,
    pub zh: String,
    pub en: String,
    pub reference: Option<String>,
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let reference = self.log();
        let (zh, en) = self.messages();
        let status = self.status();
        let info = ErrorPage {
            code: self.code(),
            zh: zh.to_owned(),
            en: en.to_owned(),
            reference: reference.clone(),
        };
        // Plain markup without the layout: an error page must not depend on anything that failed.
        let page = format!(
            "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{code}</title>\
             <link rel=\"stylesheet\" href=\"/assets/kam.css\"></head><body class=\"error-page\">\
             <main><h1>{status}</h1><p>{zh}</p><p lang=\"en\">{en}</p><p class=\"muted\">错误代码 / code \
             <code>{code}</code>{reference}</p><p><a href=\"/\">返回首页 / home</a></p></main></body></html>",
            code = self.code(),
            status = status.as_u16(),
            zh = escape(zh),
            en = escape(en),
            reference = reference
                .map(|r| format!(" · 参考号 / reference <code>{r}</code>"))
                .unwrap_or_default(),
        );
        let mut response = (
            status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            Html(page),
        )
            .into_response();
        response.extensions_mut().insert(info);
        response
    }
}

/// The fallback: any unknown path is the same 404 as an invisible record (JSON under `/api/`).
pub(crate) async fn not_found(uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/api/") {
        WebError::NotFound.into_json()
    } else {
        WebError::NotFound.into_response()
    }
}

/// Minimal HTML escaping for the hand-written error page.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_refusals_become_answers_people_can_act_on() {
        let conflict: WebError = kam_store::Error::Conflict {
            entity: "user",
            key: "rm.one".into(),
        }
        .into();
        assert_eq!(conflict.status(), StatusCode::CONFLICT);
        assert_eq!(conflict.code(), "KAM-409");
        let invalid: WebError = kam_store::Error::Invalid(kam_core::ParseError::new(
            "name",
            "",
            "a name is 1–200 characters",
            "名称应为 1–200 个字符",
        ))
        .into();
        assert_eq!(invalid.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            invalid.messages(),
            (
                "name：名称应为 1–200 个字符",
                "name: a name is 1–200 characters"
            )
        );
        let internal: WebError = kam_store::Error::NotPermitted("x").into();
        assert_eq!(internal.status(), StatusCode::FORBIDDEN);
    }
}

//! Static assets, embedded in the binary (bank intranets are closed: no CDN). Served with a long
//! cache lifetime; their names change when their content does (`?v=` from the build).

use axum::{
    extract::Path,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};

use crate::error::WebError;

const CSS: &str = include_str!("../assets/kam.css");
const JS: &str = include_str!("../assets/kam.js");

pub(crate) async fn asset(Path(name): Path<String>) -> Response {
    let (body, kind) = match name.as_str() {
        "kam.css" => (CSS, "text/css; charset=utf-8"),
        "kam.js" => (JS, "text/javascript; charset=utf-8"),
        _ => return WebError::NotFound.into_response(),
    };
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    response
}

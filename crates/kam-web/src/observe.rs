//! What wraps every request, from tower-http rather than by hand: a request id (kept from a
//! proxy's `x-request-id` or made here, and sent back), one log line per request (method, route
//! pattern, status, latency, request id and user id — never a path with a customer number in it,
//! never personal data), gzip for the larger pages (the head office's alert inbox over a branch
//! network); and on every route but the upload of a day's files a time limit and a body limit
//! (the upload has a longer time and counts its own bytes against the desk's limit).

use std::time::Duration;

use axum::{
    Router,
    extract::MatchedPath,
    http::{HeaderValue, Request, Response},
};
use tower_http::{
    compression::CompressionLayer,
    limit::RequestBodyLimitLayer,
    request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer},
    timeout::TimeoutLayer,
    trace::TraceLayer,
};
use tracing::{Span, field::Empty};

/// The largest request body kam reads but for an upload: forms and JSON are small.
pub(crate) const BODY_LIMIT: usize = 1024 * 1024;

/// A request that takes longer than this is answered 408 (a stuck query must not hold a
/// connection for ever).
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// An upload of a day's files may take this long (gigabytes over a branch network).
pub(crate) const UPLOAD_TIMEOUT: Duration = Duration::from_secs(2 * 3600);

/// Request ids: 16 random hex digits.
#[derive(Debug, Clone, Copy, Default)]
struct RandomRequestId;

impl MakeRequestId for RandomRequestId {
    fn make_request_id<B>(&mut self, _request: &Request<B>) -> Option<RequestId> {
        let id = format!("{:016x}", rand::random::<u64>());
        HeaderValue::from_str(&id).ok().map(RequestId::new)
    }
}

/// The span of one request: its route *pattern* (`/customers/{cif}`), never the path itself.
fn request_span<B>(request: &Request<B>) -> Span {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("(no route)", MatchedPath::as_str);
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    tracing::info_span!(
        "request",
        method = %request.method(),
        route,
        request_id = id,
        user_id = Empty,
    )
}

fn answered<B>(response: &Response<B>, latency: Duration, _span: &Span) {
    tracing::info!(
        status = response.status().as_u16(),
        latency_ms = latency.as_millis() as u64,
        "answered"
    );
}

/// Notes the signed-in user on the current request's span (by id: no name, no login).
pub(crate) fn note_user(user_id: i64) {
    Span::current().record("user_id", user_id);
}

/// The body limit and the time limit of ordinary routes.
pub(crate) fn limits<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
}

/// The upload's limits: a longer time; its handler counts the bytes against the desk's limit
/// as they stream (axum's own body limit for extractors is lifted).
pub(crate) fn upload_limits<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router
        .layer(axum::extract::DefaultBodyLimit::disable())
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            UPLOAD_TIMEOUT,
        ))
}

/// Wraps the router in the layers above (the first listed runs first on the way in).
pub(crate) fn layers(router: Router) -> Router {
    router
        .layer(CompressionLayer::new())
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_request(())
                .on_response(answered)
                .on_failure(()),
        )
        .layer(SetRequestIdLayer::x_request_id(RandomRequestId))
}

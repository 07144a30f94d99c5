//! Response headers every answer carries (OWASP ASVS V14): a CSP without inline script, no
//! framing, no MIME sniffing, no referrer leaks, and no caching of pages that hold customer data.

use axum::{
    extract::{Request, State},
    http::{HeaderValue, header},
    middleware::Next,
    response::Response,
};

/// No inline script or style and nothing from elsewhere: every asset is embedded and served by
/// kam itself; SVG charts use presentation attributes, which CSP does not govern.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; \
    base-uri 'none'; object-src 'none'";

pub(crate) async fn headers(
    State(app): State<crate::App>,
    request: Request,
    next: Next,
) -> Response {
    let is_asset = request.uri().path().starts_with("/assets/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    if app.config().secure_cookies {
        // Served over TLS: browsers keep to HTTPS for a year.
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    if !is_asset {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// The one decision of where a redirect built from user input may go: a path on this server.
/// `None` unless `candidate` starts with a single `/` and holds no control character (browsers
/// drop TAB, CR and LF, so `/\t/evil.example` would become `//evil.example`), no backslash (read as
/// `/`), and so no scheme or authority. Spaces and non-ASCII characters are percent-encoded, so the
/// answer is always a valid `Location` header and a redirect can never fail after a change.
pub(crate) fn local_path(candidate: &str) -> Option<String> {
    let rest = candidate.strip_prefix('/')?;
    if rest.starts_with('/')
        || candidate
            .chars()
            .any(|c| c.is_control() || c == '\\' || c == '\u{7f}')
    {
        return None;
    }
    let mut out = String::with_capacity(candidate.len());
    for c in candidate.chars() {
        if c.is_ascii_graphic() {
            out.push(c);
        } else {
            let mut buf = [0; 4];
            for byte in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{byte:02X}"));
            }
        }
    }
    Some(out)
}

/// `local_path`, or `fallback` when the candidate is not a safe local path.
pub(crate) fn local_path_or(candidate: &str, fallback: &str) -> String {
    local_path(candidate).unwrap_or_else(|| fallback.to_owned())
}

/// A path to return to with GET: `path` itself when a page answers it, else the nearest page above
/// it. The language switch is used on whatever page is shown, and a page shown after a form is
/// the form's POST address (`/me/tokens`, `/customers/C001/reveal`), which a GET would answer
/// with 405; its page (`/me`, `/customers/C001`) is where the user was.
pub(crate) fn page_to_return_to(path: &str) -> String {
    let (path, query) = path
        .split_once('?')
        .map_or((path, None), |(p, q)| (p, Some(q)));
    let pages: Vec<Vec<&str>> = crate::route_table()
        .into_iter()
        .filter(|r| r.method == axum::http::Method::GET)
        .map(|r| r.path.split('/').collect())
        .collect();
    let answers = |candidate: &str| {
        let segments: Vec<&str> = candidate.split('/').collect();
        pages.iter().any(|page| {
            page.len() == segments.len()
                && page
                    .iter()
                    .zip(&segments)
                    .all(|(p, s)| p.starts_with('{') || p == s)
        })
    };
    if answers(path) {
        return match query {
            Some(query) => format!("{path}?{query}"),
            None => path.to_owned(),
        };
    }
    let mut candidate = path.trim_end_matches('/');
    while let Some((parent, _)) = candidate.rsplit_once('/') {
        let parent = if parent.is_empty() { "/" } else { parent };
        if answers(parent) {
            return parent.to_owned();
        }
        candidate = parent.trim_end_matches('/');
        if candidate.is_empty() {
            break;
        }
    }
    "/".to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_address_returns_to_its_page() {
        assert_eq!(page_to_return_to("/customers?q=1"), "/customers?q=1");
        assert_eq!(page_to_return_to("/me/tokens"), "/me");
        assert_eq!(
            page_to_return_to("/customers/C001/reveal"),
            "/customers/C001"
        );
        assert_eq!(page_to_return_to("/admin/users/rm.1"), "/admin");
        assert_eq!(page_to_return_to("/alerts/7/handle"), "/alerts");
        assert_eq!(page_to_return_to("/nowhere/at/all"), "/");
    }

    #[test]
    fn only_paths_on_this_server_are_followed() {
        assert_eq!(
            local_path("/customers?q=1").as_deref(),
            Some("/customers?q=1")
        );
        assert_eq!(
            local_path("/customers?q=招商").as_deref(),
            Some("/customers?q=%E6%8B%9B%E5%95%86")
        );
        for bad in [
            "//evil.example",
            "https://evil.example",
            "evil.example",
            "/\\evil.example",
            "/\t/evil.example/phish",
            "/\r\nSet-Cookie: x=1",
            "/a\nb",
            "/\u{7f}",
            "",
            "\t/evil",
        ] {
            assert_eq!(local_path(bad), None, "{bad:?}");
        }
        // Whatever it returns is a valid Location header: a redirect cannot fail.
        for text in ["/a b", "/ä", "/x?y=\u{3000}"] {
            let path = local_path(text).unwrap();
            assert!(HeaderValue::from_str(&path).is_ok(), "{path}");
        }
    }
}

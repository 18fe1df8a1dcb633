//! The web dashboard at `/ui/`: plain HTML, CSS and JavaScript written for
//! this project (`crates/relay-server/ui/`), compiled into the binary with
//! `include_dir` (embedded in debug builds too, so tests see what ships).
//!
//! The files hold no data: every number comes from `/admin/*`, called with
//! the token the user signs in with. The content security policy allows
//! this origin only, so the page cannot reach another host (and inline
//! scripts cannot run).

use bytes::Bytes;
use http::{HeaderValue, Method, Response, StatusCode, header};
use include_dir::{Dir, include_dir};

use crate::body::{RelayBody, full};

/// The optional pages this relay serves data for (`usage`, `keys` once the
/// usage ledger exists).
pub const FEATURES: &[&str] = &[];

static ASSETS: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/ui");

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The file for `path` (`/ui`, `/ui/`, `/ui/app.js`…), or `None` (404).
pub fn response(method: &Method, path: &str) -> Option<Response<RelayBody>> {
    if method != Method::GET && method != Method::HEAD {
        return None;
    }
    if path == "/ui" {
        return Some(redirect("/ui/"));
    }
    let name = path.strip_prefix("/ui/")?;
    // Pages are client-side (`#/live`…): every directory-like path is the app.
    let name = if name.is_empty() { "index.html" } else { name };
    let file = ASSETS.get_file(name)?;
    let mut response = Response::new(if method == Method::HEAD {
        full(Bytes::new())
    } else {
        full(Bytes::from_static(file.contents()))
    });
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(name)),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    Some(response)
}

fn redirect(to: &'static str) -> Response<RelayBody> {
    let mut response = Response::new(full(Bytes::new()));
    *response.status_mut() = StatusCode::PERMANENT_REDIRECT;
    response
        .headers_mut()
        .insert(header::LOCATION, HeaderValue::from_static(to));
    response
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_app_and_its_files_are_served_with_a_strict_policy() {
        let index = response(&Method::GET, "/ui/").unwrap();
        assert_eq!(index.status(), StatusCode::OK);
        assert_eq!(
            index.headers()[header::CONTENT_TYPE],
            "text/html; charset=utf-8"
        );
        assert!(
            index.headers()[header::CONTENT_SECURITY_POLICY]
                .to_str()
                .unwrap()
                .contains("connect-src 'self'")
        );
        assert!(response(&Method::GET, "/ui/app.js").is_some());
        assert!(response(&Method::GET, "/ui/style.css").is_some());
        assert!(response(&Method::GET, "/ui/nope.js").is_none());
        assert!(response(&Method::POST, "/ui/").is_none());
        assert_eq!(
            response(&Method::GET, "/ui").unwrap().status(),
            StatusCode::PERMANENT_REDIRECT
        );
    }
}

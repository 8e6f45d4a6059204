//! The web apps' static files, served by a department's node from the repository's `web/`
//! folder (`--web DIR`):
//!
//! | URL path | file |
//! |---|---|
//! | `/` | redirect to `/wallet/` |
//! | `/wallet`, `/counter` | redirect to `/wallet/`, `/counter/` |
//! | `/wallet/…`, `/counter/…`, `/common/…`, `/core/pkg/…` | `DIR/wallet/…` and so on; `index.html` for a folder |
//!
//! Nothing else under `DIR` is served (`core/src`, build files, hidden files). Only `GET`
//! and `HEAD`; no `..` segment, encoded or not; `Content-Type` from the extension
//! (`.wasm` `application/wasm`, `.webmanifest` `application/manifest+json`, `.js`/`.mjs`
//! `text/javascript`, ...); gzip when the client accepts it (a `FILE.gz` beside a file is
//! sent as it is); `Cache-Control: no-cache` (the apps' service workers keep them for
//! offline use); and the headers of an app page: `nosniff`, a content security policy that
//! allows only this origin's scripts plus WebAssembly, `blob:`/`data:` images, and calls to
//! `https:` origins (and loopback plain HTTP when the node itself is plain), and the camera
//! for this origin.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Router;
use percent_encoding::percent_decode_str;
use thiserror::Error;
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeDir;

/// The URL prefixes served, each the same path under the web folder.
pub const SERVED: [&str; 4] = ["/wallet/", "/counter/", "/common/", "/core/pkg/"];
/// The apps, each a folder with an `index.html`.
pub const APPS: [&str; 2] = ["wallet", "counter"];
/// Where `/` leads.
pub const HOME: &str = "/wallet/";

/// Content types by extension, where the platform's guess is not the one browsers want.
const TYPES: [(&str, &str); 10] = [
    ("wasm", "application/wasm"),
    ("webmanifest", "application/manifest+json"),
    ("js", "text/javascript"),
    ("mjs", "text/javascript"),
    ("html", "text/html; charset=utf-8"),
    ("css", "text/css; charset=utf-8"),
    ("svg", "image/svg+xml"),
    ("png", "image/png"),
    ("json", "application/json"),
    ("txt", "text/plain; charset=utf-8"),
];

/// The permissions an app page gets: the camera for this origin, nothing else.
const PERMISSIONS: &str = "camera=(self), microphone=(), geolocation=(), payment=(), usb=()";

/// Why the web folder cannot be served.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum AppsError {
    /// `--web DIR` is not a folder.
    #[error(
        "the web apps folder {} does not exist or is not a folder (give the repository's web/ \
         folder with --web)",
        .0.display()
    )]
    NotAFolder(PathBuf),
}

/// What the handler shares.
struct Apps {
    files: ServeDir,
    csp: HeaderValue,
}

/// The content security policy of the app pages. `secure`: the node serves HTTPS (else
/// plain HTTP on loopback, and the apps may call the other local nodes over plain HTTP too).
pub fn content_security_policy(secure: bool) -> String {
    let loopback = if secure {
        ""
    } else {
        " http://127.0.0.1:* http://localhost:*"
    };
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' \
         'unsafe-inline'; img-src 'self' blob: data:; media-src 'self' blob: mediastream:; \
         connect-src 'self' https:{loopback}; worker-src 'self'; manifest-src 'self'; \
         object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// The router of the apps in `dir` (the repository's `web/` folder), to be the fallback of
/// a node's API router. `secure`: the node serves HTTPS.
pub fn router(dir: &Path, secure: bool) -> Result<Router, AppsError> {
    if !dir.is_dir() {
        return Err(AppsError::NotAFolder(dir.to_owned()));
    }
    let csp = HeaderValue::from_str(&content_security_policy(secure))
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'"));
    let apps = Arc::new(Apps {
        files: ServeDir::new(dir)
            .precompressed_gzip()
            .append_index_html_on_directories(true),
        csp,
    });
    Ok(Router::new()
        .fallback(serve)
        .layer(CompressionLayer::new())
        .with_state(apps))
}

/// A JSON error answer, as the APIs give them.
fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = format!(
        "{{\"error\":\"{code}\",\"message\":\"{}\"}}",
        message.replace(['"', '\\'], "")
    );
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "not-found", "no such endpoint")
}

/// Whether `path` (as sent, percent-encoded) is under one of the [`SERVED`] prefixes, both
/// as sent and decoded, with no `..`, hidden or backslashed segment.
pub fn is_served(path: &str) -> bool {
    let Ok(decoded) = percent_decode_str(path).decode_utf8() else {
        return false;
    };
    let under = |p: &str| SERVED.iter().any(|prefix| p.starts_with(prefix));
    if !under(path) || !under(&decoded) {
        return false;
    }
    decoded.split('/').all(|segment| {
        !segment.starts_with('.') && !segment.contains(['\\', '\0']) && segment != ".."
    })
}

/// The content type for `path`'s extension, when [`TYPES`] names it.
fn content_type(path: &str) -> Option<&'static str> {
    let name = path.rsplit('/').next()?;
    let (_, extension) = name.rsplit_once('.')?;
    TYPES
        .iter()
        .find(|(e, _)| e.eq_ignore_ascii_case(extension))
        .map(|(_, t)| *t)
}

fn app_headers(headers: &mut HeaderMap, csp: &HeaderValue) {
    let set = |headers: &mut HeaderMap, name: HeaderName, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(headers, header::CACHE_CONTROL, "no-cache");
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::REFERRER_POLICY, "no-referrer");
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    set(
        headers,
        HeaderName::from_static("permissions-policy"),
        PERMISSIONS,
    );
    set(
        headers,
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    headers.insert(header::CONTENT_SECURITY_POLICY, csp.clone());
}

async fn serve(State(apps): State<Arc<Apps>>, request: Request) -> Response {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        let mut response = error(
            StatusCode::METHOD_NOT_ALLOWED,
            "method-not-allowed",
            "only GET and HEAD",
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return response;
    }
    let path = request.uri().path().to_owned();
    let home = |to: &str| Redirect::temporary(to).into_response();
    match path.as_str() {
        "/" => return home(HOME),
        "/wallet" => return home("/wallet/"),
        "/counter" => return home("/counter/"),
        _ => {}
    }
    if !is_served(&path) {
        return not_found();
    }
    let mut files = apps.files.clone();
    let mut response = match files.try_call(request).await {
        Ok(response) => response.map(Body::new),
        // Missing, unreadable, or a file where a folder was named.
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound
                    | std::io::ErrorKind::PermissionDenied
                    | std::io::ErrorKind::NotADirectory
            ) =>
        {
            return not_found()
        }
        Err(e) => {
            tracing::warn!(%path, error = %e, "a web file could not be read");
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the file could not be read",
            );
        }
    };
    if response.status() == StatusCode::NOT_FOUND {
        return not_found();
    }
    if response.status().is_success() {
        if let Some(kind) = content_type(&path) {
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
        } else if path.ends_with('/') {
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
        }
    }
    app_headers(response.headers_mut(), &apps.csp);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_app_folders_are_served() {
        for ok in [
            "/wallet/",
            "/wallet/index.html",
            "/counter/app.js",
            "/common/style.css",
            "/core/pkg/ecert_web_bg.wasm",
            "/wallet/icons/icon%20192.png",
        ] {
            assert!(is_served(ok), "{ok}");
        }
        for refused in [
            "/",
            "/wallet",
            "/core/src/lib.rs",
            "/core/Cargo.toml",
            "/core/pkg",
            "/package.json",
            "/wallet/../core/src/lib.rs",
            "/wallet/%2e%2e/core/src/lib.rs",
            "/wallet/%2E%2E%2Fcore/src/lib.rs",
            "/wallet/..%2f..%2fetc/passwd",
            "/%77allet/index.html",
            "/wallet%2f..%2fcore/src/lib.rs",
            "/wallet/.git/config",
            "/wallet/a%5c..%5cb",
            "/wallet/%ff",
            "/v1/export",
        ] {
            assert!(!is_served(refused), "{refused}");
        }
    }

    #[test]
    fn content_types_by_extension() {
        assert_eq!(
            content_type("/core/pkg/x_bg.wasm"),
            Some("application/wasm")
        );
        assert_eq!(
            content_type("/wallet/manifest.webmanifest"),
            Some("application/manifest+json")
        );
        assert_eq!(content_type("/wallet/app.mjs"), Some("text/javascript"));
        assert_eq!(content_type("/wallet/APP.JS"), Some("text/javascript"));
        assert_eq!(content_type("/wallet/"), None);
        assert_eq!(content_type("/wallet/noext"), None);
        assert!(content_security_policy(true).contains("'wasm-unsafe-eval'"));
        assert!(!content_security_policy(true).contains("http://127.0.0.1"));
        assert!(content_security_policy(false).contains("http://127.0.0.1:*"));
    }
}

//! Cross-origin calls for exactly the origins named with `--allow-origin` (the web apps
//! served by the departments' nodes): `GET`, `POST` and `HEAD` with a `content-type`
//! header, preflights answered. With no origin named, no CORS header is ever sent and
//! browsers keep every other origin out.

use core::fmt;
use std::time::Duration;

use axum::http::{header, HeaderValue, Method};
use thiserror::Error;
use tower_http::cors::{AllowOrigin, CorsLayer};

/// How long a browser may keep a preflight's answer.
const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(600);

/// Why an origin was refused.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error(
    "{text:?} is not a web origin: give it as https://HOST[:PORT] (scheme, host and port \
     only, for example https://10.1.2.3:7101)"
)]
pub struct OriginError {
    /// The origin as given.
    pub text: String,
}

/// A web origin, `https://HOST[:PORT]` (or `http://`), lowercase, as browsers send it in
/// the `Origin` header.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Origin(String);

impl Origin {
    /// Reads an origin: `https://` or `http://`, a host, an optional port, and nothing
    /// else (one trailing `/` is dropped).
    pub fn parse(text: &str) -> Result<Origin, OriginError> {
        let bad = || OriginError {
            text: text.to_owned(),
        };
        let lower = text.trim().to_ascii_lowercase();
        let lower = lower.strip_suffix('/').unwrap_or(&lower);
        let rest = lower
            .strip_prefix("https://")
            .or_else(|| lower.strip_prefix("http://"))
            .ok_or_else(bad)?;
        let allowed =
            |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']');
        if rest.is_empty() || !rest.chars().all(allowed) {
            return Err(bad());
        }
        let after_literal = rest.rsplit_once(']').map_or(rest, |(_, after)| after);
        if let Some((host, port)) = after_literal.rsplit_once(':') {
            if !port.parse::<u16>().is_ok_and(|p| p > 0)
                || (host.is_empty() && !rest.starts_with('['))
            {
                return Err(bad());
            }
        }
        HeaderValue::from_str(lower).map_err(|_| bad())?;
        Ok(Origin(lower.to_owned()))
    }

    /// The origin, `https://HOST[:PORT]`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl core::str::FromStr for Origin {
    type Err = OriginError;

    fn from_str(text: &str) -> Result<Origin, OriginError> {
        Origin::parse(text)
    }
}

/// The CORS layer for `origins`, or `None` when there are none (no CORS headers at all).
pub fn layer(origins: &[Origin]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let values: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o.as_str()).ok())
        .collect();
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(values))
            .allow_methods([Method::GET, Method::POST, Method::HEAD])
            .allow_headers([header::CONTENT_TYPE])
            .max_age(PREFLIGHT_MAX_AGE),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        for (text, origin) in [
            ("https://127.0.0.1:7101", "https://127.0.0.1:7101"),
            ("HTTPS://Node.Example/", "https://node.example"),
            ("http://localhost:8080", "http://localhost:8080"),
            ("https://[::1]:7101", "https://[::1]:7101"),
        ] {
            assert_eq!(Origin::parse(text).unwrap().as_str(), origin, "{text}");
        }
        for bad in [
            "",
            "127.0.0.1:7101",
            "https://",
            "https://h/wallet/",
            "https://h:0",
            "https://h:x",
            "https://:80",
            "https://h?x",
            "https://u@h",
            "ftp://h",
            "*",
        ] {
            let e = Origin::parse(bad).unwrap_err();
            assert!(e.to_string().contains("https://HOST[:PORT]"), "{bad}");
        }
        assert!(layer(&[]).is_none());
        assert!(layer(&[Origin::parse("https://a").unwrap()]).is_some());
    }
}

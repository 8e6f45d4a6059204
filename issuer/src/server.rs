//! The department's offer endpoint (`ecert-issuer serve`, `docs/api.md`):
//! `POST /v1/offers/{code}/redeem` with a CBOR `OfferRedemption`, answered with the CBOR
//! package (a `CopyPackage`; a `CertificatePackage` for a certificate issued whole before
//! format 2), or a JSON error `{"error": code, "message": words}`; and
//! `GET /v1/offers/{code}`, the offer URL itself, a small page for a person who opened the
//! link in a browser ([`offer_page`]); and `POST /v1/refills` with a CBOR `RefillRequest`,
//! answered with a package of new copies (200) or `{"state": "queued"}` (202)
//! ([`crate::refill`]).
//!
//! The work of each request (files, signature) runs on the blocking pool through
//! [`OfferStore::redeem`]; this module is only the HTTP shape around it, and the shell that
//! reads the clock for it and for the sweep of delivered packages past their redelivery
//! window ([`sweep`], [`sweep_periodically`]). Listening, TLS and CORS are `ecert-serve`'s.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use ecert_schemas::address::wallet_app_link;
use ecert_schemas::UnixTime;
use ecert_serve::limits::{ConcurrencyLimit, Limits, SubmissionLimit};

use crate::offer::{self, OfferStore, RedeemError};
use crate::refill::{RefillAnswer, RefillDesk, RefillRefusal};
use crate::register::short_id;

/// Largest request body accepted: a refill request (one copy of a certificate, with its
/// fields).
pub const MAX_BODY_BYTES: usize = ecert_schemas::refill::MAX_REFILL_BYTES;
/// Largest redemption accepted (an `OfferRedemption` is about 100 bytes).
pub const MAX_REDEMPTION_BYTES: usize = 4096;

/// How often a running endpoint deletes the delivered packages past their redelivery
/// window ([`sweep_periodically`]).
pub const SWEEP_EVERY: Duration = Duration::from_secs(60 * 60);

/// The content security policy of the offer page: no script, no outside resource.
const PAGE_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; \
                        form-action 'none'; frame-ancestors 'none'";

/// What the offer page says and links to.
#[derive(Clone, Debug, Default)]
pub struct OfferPage {
    /// The department (its issuer id), named on the page.
    pub department: String,
    /// The endpoint's public address (`https://HOST:PORT`, the configured `--serve-url`);
    /// `None`: taken from the request's `Host` and [`OfferPage::scheme`].
    pub public_url: Option<String>,
    /// `https` or `http`: how this endpoint is served.
    pub scheme: &'static str,
    /// The wallet web app (`https://HOST:PORT/wallet/`): the page links to
    /// `WALLET_APP#offer=OFFER_URL` (percent-encoded).
    pub wallet_app: Option<String>,
}

/// Shared by the handlers.
struct Endpoint {
    store: OfferStore,
    page: OfferPage,
    refills: RefillDesk,
}

/// The routes, over the offers and refills of one home, within `limits`: redemptions and
/// refill requests at each client's rate and a few at a time (each is file work and a
/// signature check), JSON errors for every refusal.
pub fn router(store: OfferStore, page: OfferPage, refills: RefillDesk, limits: &Limits) -> Router {
    let redeeming = Router::new()
        .route(ecert_schemas::api::OFFER_REDEEM_ROUTE, post(redeem))
        .route(ecert_schemas::api::REFILL_ROUTE, post(refill));
    let redeeming = ConcurrencyLimit::new(limits.max_heavy_requests, Limits::HEAVY_WAIT)
        .guard(SubmissionLimit::new(limits.submissions).guard(redeeming));
    Router::new()
        .merge(redeeming)
        .route(ecert_schemas::api::OFFER_ROUTE, get(page_handler))
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(Arc::new(Endpoint {
            store,
            page,
            refills,
        }))
}

/// Whether `url` may be given as `--wallet-app`: `https://` or `http://`, then a host and
/// an optional path, with no fragment, space, quote or angle bracket.
pub fn is_wallet_app_url(url: &str) -> bool {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    rest.is_some_and(|rest| {
        !rest.is_empty()
            && !rest.starts_with('/')
            && rest
                .chars()
                .all(|c| c.is_ascii_graphic() && !matches!(c, '#' | '"' | '\'' | '<' | '>' | '\\'))
    })
}

/// The host (and port) the request was sent to — the URI's authority (HTTP/2), else the
/// `Host` header — if it is one: letters, digits, `.` `-` `:` and an IPv6 literal's
/// brackets.
fn plain_host<'a>(uri: &'a Uri, headers: &'a HeaderMap) -> Option<&'a str> {
    let host = match uri.authority() {
        Some(authority) => authority.as_str(),
        None => headers.get(header::HOST)?.to_str().ok()?,
    };
    let ok = !host.is_empty()
        && host.len() <= 260
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    ok.then_some(host)
}

/// Escapes text for HTML.
fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The offer page: the same for every well-formed code, known or not, used or not, so that
/// it tells nobody whether a code exists.
pub fn offer_page(page: &OfferPage, offer_url: &str) -> String {
    let department = html_escape(&page.department);
    let url = html_escape(offer_url);
    let action = match &page.wallet_app {
        Some(app) => format!(
            "<p><a class=\"button\" href=\"{}\">用 ecert 钱包领取 · Collect with the ecert wallet</a></p>\n",
            html_escape(&wallet_app_link(app, offer_url))
        ),
        None => "<p>请在 ecert 钱包中选择“领取”，扫描部门给您的二维码或输入下面的链接。<br>\n\
                 <span lang=\"en\">In your ecert wallet, choose “Receive” and scan the \
                 department's QR code, or enter the link below.</span></p>\n"
            .to_owned(),
    };
    format!(
        "<!doctype html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"robots\" content=\"noindex\">\n\
         <title>领取电子证照 · Collect your certificate</title>\n<style>\n\
         body{{font-family:system-ui,sans-serif;margin:0;padding:1.5rem;line-height:1.5;color:#1a1a1a;background:#f5f7fa}}\n\
         main{{max-width:34rem;margin:auto;background:#fff;padding:1.5rem;border-radius:.75rem}}\n\
         h1{{font-size:1.4rem;margin-top:0}} code{{word-break:break-all;font-size:.9rem}}\n\
         .button{{display:inline-block;background:#0a4ea3;color:#fff;padding:.8rem 1.2rem;border-radius:.5rem;text-decoration:none;font-weight:600}}\n\
         .small{{font-size:.85rem;color:#555}}\n</style>\n</head>\n<body>\n<main>\n\
         <h1>领取电子证照<br><span lang=\"en\">Collect your certificate</span></h1>\n\
         <p>这是 {department} 发给您的一次性电子证照领取码。请用 ecert 电子证照钱包领取：只有证照所签发给的钱包才能领取，且只能领取一次。</p>\n\
         <p lang=\"en\">This is a one-time certificate offer from {department}. Collect it \
         with your ecert wallet: only the wallet the certificate was issued to can collect \
         it, and only once.</p>\n{action}\
         <p><code>{url}</code></p>\n\
         <p class=\"small\">命令行钱包 · Command-line wallet: <code>ecert-wallet receive --offer {url}</code></p>\n\
         </main>\n</body>\n</html>\n"
    )
}

async fn page_handler(
    State(endpoint): State<Arc<Endpoint>>,
    code: Result<Path<String>, PathRejection>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let Ok(Path(code)) = code else {
        return error_response(404, "invalid-offer-code", "this is not an offer code");
    };
    if offer::canonical(&code).is_none() {
        return error_response(404, "invalid-offer-code", "this is not an offer code");
    }
    let page = &endpoint.page;
    let base = match (&page.public_url, plain_host(&uri, &headers)) {
        (Some(url), _) => url.trim_end_matches('/').to_owned(),
        (None, Some(host)) => format!("{}://{host}", page.scheme),
        (None, None) => {
            return error_response(400, "bad-request", "the request names no usable host")
        }
    };
    let html = offer_page(page, &offer::offer_url(&base, &code));
    let mut response = (StatusCode::OK, html).into_response();
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
        (header::CACHE_CONTROL, "no-store"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::CONTENT_SECURITY_POLICY, PAGE_CSP),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

fn now() -> UnixTime {
    UnixTime(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
    )
}

/// A JSON error answer.
pub fn error_response(status: u16, code: &str, message: &str) -> Response {
    let body = serde_json::json!({ "error": code, "message": message }).to_string();
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn not_found() -> Response {
    error_response(404, "not-found", "no such endpoint")
}

async fn method_not_allowed() -> Response {
    error_response(
        405,
        "method-not-allowed",
        "this endpoint does not take this method",
    )
}

/// The first characters of a code, for logs (a code is a secret until it is used).
fn code_hint(code: &str) -> String {
    let hint: String = code.chars().take(4).collect();
    format!("{hint}…")
}

async fn redeem(
    State(endpoint): State<Arc<Endpoint>>,
    code: Result<Path<String>, PathRejection>,
    body: Bytes,
) -> Response {
    let Ok(Path(code)) = code else {
        return error_response(404, "unknown-offer", "no such offer");
    };
    if body.len() > MAX_REDEMPTION_BYTES {
        return error_response(
            413,
            "too-large",
            &format!("a redemption has at most {MAX_REDEMPTION_BYTES} bytes"),
        );
    }
    let hint = code_hint(&code);
    let work =
        tokio::task::spawn_blocking(move || endpoint.store.redeem(&code, &body, now())).await;
    match work {
        Ok(Ok(redeemed)) => {
            if redeemed.again {
                tracing::info!(
                    offer = %hint,
                    certificate = %short_id(&redeemed.certificate),
                    "offer redeemed again by its wallet: package delivered again"
                );
            } else {
                tracing::info!(
                    offer = %hint,
                    certificate = %short_id(&redeemed.certificate),
                    "offer redeemed: package delivered"
                );
            }
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/cbor")],
                redeemed.package,
            )
                .into_response()
        }
        Ok(Err(e)) => {
            let (status, code) = e.status_and_code();
            if matches!(e, RedeemError::Store(_)) {
                tracing::error!(offer = %hint, error = %e, "offer store failed");
                error_response(status, code, "the offer could not be read; try again later")
            } else {
                tracing::warn!(offer = %hint, reason = code, "offer refused");
                error_response(status, code, &e.to_string())
            }
        }
        Err(e) => {
            tracing::error!(offer = %hint, error = %e, "redeeming failed");
            error_response(500, "internal", "the request could not be handled")
        }
    }
}

/// `POST /v1/refills`: the new copies (200, CBOR package) or the request queued (202).
async fn refill(State(endpoint): State<Arc<Endpoint>>, body: Bytes) -> Response {
    let work = tokio::task::spawn_blocking(move || endpoint.refills.answer(&body, now())).await;
    match work {
        Ok(Ok(RefillAnswer::Ready { id, package })) => {
            tracing::info!(certificate = %short_id(&id), "refill: new copies delivered");
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/cbor")],
                package,
            )
                .into_response()
        }
        Ok(Ok(RefillAnswer::Queued { id })) => {
            tracing::info!(certificate = %short_id(&id), "refill: request queued");
            let body = serde_json::json!({
                "state": "queued",
                "message": "the department issues new copies in batches; ask again later",
            })
            .to_string();
            (
                StatusCode::ACCEPTED,
                [(header::CONTENT_TYPE, "application/json")],
                body,
            )
                .into_response()
        }
        Ok(Err(e)) => {
            let (status, code) = e.status_and_code();
            if matches!(e, RefillRefusal::Store(_)) {
                tracing::error!(error = %e, "refill store failed");
                error_response(
                    status,
                    code,
                    "the request could not be kept; try again later",
                )
            } else {
                tracing::warn!(reason = code, "refill refused");
                error_response(status, code, &e.to_string())
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "refill failed");
            error_response(500, "internal", "the request could not be handled")
        }
    }
}

/// Deletes the delivered packages of `store` whose redelivery window has passed now
/// ([`OfferStore::sweep`], told the clock's time), and logs what it did.
pub fn sweep(store: &OfferStore) {
    match store.sweep(now()) {
        Ok(swept) => {
            if swept.deleted > 0 {
                tracing::info!(
                    deleted = swept.deleted,
                    kept = swept.kept,
                    "delivered packages past their redelivery window deleted"
                );
            }
            for e in &swept.failed {
                tracing::error!(error = %e, "a delivered package could not be checked or deleted");
            }
        }
        Err(e) => tracing::error!(error = %e, "the delivered packages could not be listed"),
    }
}

/// Runs [`sweep`] on the blocking pool every `every`, the first time after one interval
/// (the endpoint sweeps once as it starts); until the runtime stops.
pub async fn sweep_periodically(store: OfferStore, every: Duration) {
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let store = store.clone();
        if let Err(e) = tokio::task::spawn_blocking(move || sweep(&store)).await {
            tracing::error!(error = %e, "sweeping the delivered packages failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wallet_links_carry_the_offer_url_encoded() {
        let link = wallet_app_link(
            "https://127.0.0.1:7101/wallet/",
            "https://127.0.0.1:7400/v1/offers/ABCD-EFGH",
        );
        assert_eq!(
            link,
            "https://127.0.0.1:7101/wallet/#offer=https%3A%2F%2F127.0.0.1%3A7400%2Fv1%2Foffers%2FABCD-EFGH"
        );
        assert!(is_wallet_app_url("https://127.0.0.1:7101/wallet/"));
        assert!(is_wallet_app_url("http://localhost:7101/wallet/"));
        for bad in [
            "",
            "127.0.0.1:7101/wallet/",
            "https://",
            "https:///wallet/",
            "https://h/wallet/#x",
            "https://h/\"><script>",
            "javascript:alert(1)",
            "https://h/a b",
        ] {
            assert!(!is_wallet_app_url(bad), "{bad}");
        }
    }

    #[test]
    fn the_page_escapes_and_links() {
        let page = OfferPage {
            department: "justice <b>".into(),
            public_url: None,
            scheme: "https",
            wallet_app: Some("https://n:1/wallet/".into()),
        };
        let html = offer_page(&page, "https://o:2/v1/offers/ABCD");
        assert!(html.contains("justice &lt;b&gt;"), "{html}");
        assert!(html.contains(
            "href=\"https://n:1/wallet/#offer=https%3A%2F%2Fo%3A2%2Fv1%2Foffers%2FABCD\""
        ));
        assert!(html.contains("一次性") && html.contains("one-time"));
        assert!(!html.contains("<script"));
        let without = offer_page(&OfferPage::default(), "https://o:2/v1/offers/ABCD");
        assert!(!without.contains("#offer="));
        assert!(without.contains("https://o:2/v1/offers/ABCD"));
    }
}

//! The department's offer endpoint (`ecert-issuer serve`, `docs/api.md`):
//! `POST /v1/offers/{code}/redeem` with a CBOR `OfferRedemption`, answered with the CBOR
//! `CertificatePackage`, or a JSON error `{"error": code, "message": words}`.
//!
//! The work of each request (files, signature) runs on the blocking pool through
//! [`OfferStore::redeem`]; this module is only the HTTP shape around it.

use std::future::Future;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use ecert_schemas::UnixTime;

use crate::offer::{OfferStore, RedeemError};
use crate::register::short_id;

/// Largest request body accepted (an `OfferRedemption` is about 100 bytes).
pub const MAX_BODY_BYTES: usize = 4096;

/// The routes, over the offers of one home.
pub fn router(store: OfferStore) -> Router {
    Router::new()
        .route(ecert_schemas::api::OFFER_REDEEM_ROUTE, post(redeem))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(Arc::new(store))
}

/// Serves `router` on `listener` until `shutdown` completes, then finishes the requests
/// in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
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

/// The first characters of a code, for logs (a code is a secret until it is used).
fn code_hint(code: &str) -> String {
    let hint: String = code.chars().take(4).collect();
    format!("{hint}…")
}

async fn redeem(
    State(store): State<Arc<OfferStore>>,
    Path(code): Path<String>,
    body: Bytes,
) -> Response {
    let hint = code_hint(&code);
    let work = tokio::task::spawn_blocking(move || store.redeem(&code, &body, now())).await;
    match work {
        Ok(Ok(redeemed)) => {
            tracing::info!(
                offer = %hint,
                certificate = %short_id(&redeemed.certificate),
                "offer redeemed: package delivered"
            );
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

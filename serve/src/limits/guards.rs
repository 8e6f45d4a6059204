//! The request guards the services put on their routes: the body read whole within a
//! time and a size (every route), the per-client submission rate (the submission routes),
//! and the number of expensive requests at once (the routes that read the whole ledger).
//! Refusals are the services' JSON errors, `{"error": code, "message": words}`.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use super::rate::{RateLimiter, RatePolicy};

/// A JSON error answer, as every route of both services gives them.
pub fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::json!({ "error": code, "message": message }).to_string();
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// Adds `Retry-After: seconds` to an answer.
fn retry_after(mut response: Response, seconds: u64) -> Response {
    if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// How a request body is read.
#[derive(Clone, Copy, Debug)]
struct BodyRule {
    max_bytes: usize,
    timeout: Duration,
}

/// Reads every request's body whole, at most `max_bytes` (`413 too-large`, before reading
/// anything when the declared length is over) and within `timeout` of the headers
/// (`408 body-timeout`: a client trickling its body holds nothing for long), before the
/// route sees it.
pub fn read_bodies_whole(router: Router, max_bytes: usize, timeout: Duration) -> Router {
    router.layer(middleware::from_fn_with_state(
        BodyRule { max_bytes, timeout },
        body_gate,
    ))
}

fn too_large(max: usize) -> Response {
    error(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too-large",
        &format!("the request body is over {max} bytes"),
    )
}

async fn body_gate(State(rule): State<BodyRule>, request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > rule.max_bytes as u64) {
        return too_large(rule.max_bytes);
    }
    let (parts, body) = request.into_parts();
    let read = tokio::time::timeout(
        rule.timeout,
        http_body_util::BodyExt::collect(http_body_util::Limited::new(body, rule.max_bytes)),
    );
    let bytes: Bytes = match read.await {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(e)) => {
            return if e.is::<http_body_util::LengthLimitError>() {
                too_large(rule.max_bytes)
            } else {
                error(
                    StatusCode::BAD_REQUEST,
                    "bad-body",
                    "the request body could not be read",
                )
            };
        }
        Err(_) => {
            let mut response = error(
                StatusCode::REQUEST_TIMEOUT,
                "body-timeout",
                &format!(
                    "the request body did not arrive within {} s",
                    rule.timeout.as_secs_f64()
                ),
            );
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            return response;
        }
    };
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// A per-client submission rate shared by the routes it guards.
#[derive(Clone, Debug)]
pub struct SubmissionLimit {
    limiter: Arc<Mutex<RateLimiter>>,
    epoch: Instant,
}

impl SubmissionLimit {
    /// Token buckets with `policy`, for at most [`RateLimiter::DEFAULT_MAX_CLIENTS`]
    /// clients.
    pub fn new(policy: RatePolicy) -> SubmissionLimit {
        SubmissionLimit {
            limiter: Arc::new(Mutex::new(RateLimiter::new(
                policy,
                RateLimiter::DEFAULT_MAX_CLIENTS,
            ))),
            epoch: Instant::now(),
        }
    }

    /// Guards every route of `router`: a client over its rate gets `429 rate-limited` with
    /// `Retry-After`. Routes served without a client address (no `ConnectInfo`, as in a
    /// router called directly) are not limited.
    pub fn guard<S: Clone + Send + Sync + 'static>(&self, router: Router<S>) -> Router<S> {
        router.route_layer(middleware::from_fn_with_state(self.clone(), rate_gate))
    }

    fn check(&self, client: SocketAddr) -> Result<(), u64> {
        // The clock is read here, at the edge; the buckets are told the time.
        let now = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        let mut limiter = self.limiter.lock().unwrap_or_else(|p| p.into_inner());
        limiter
            .check(client.ip(), now)
            .map_err(|wait| wait.seconds())
    }
}

async fn rate_gate(State(limit): State<SubmissionLimit>, request: Request, next: Next) -> Response {
    let client = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    if let Some(client) = client {
        if let Err(seconds) = limit.check(client) {
            tracing::debug!(%client, "submission refused: over the client's rate");
            return retry_after(
                error(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate-limited",
                    &format!("too many submissions from your address: retry in {seconds} s"),
                ),
                seconds,
            );
        }
    }
    next.run(request).await
}

/// At most so many requests at once on the routes it guards; the others wait their turn
/// for up to `wait`, then get `503 busy` with `Retry-After`.
#[derive(Clone, Debug)]
pub struct ConcurrencyLimit {
    slots: Arc<Semaphore>,
    wait: Duration,
}

impl ConcurrencyLimit {
    /// `max` at once (at least 1), waiting at most `wait` for a turn.
    pub fn new(max: usize, wait: Duration) -> ConcurrencyLimit {
        ConcurrencyLimit {
            slots: Arc::new(Semaphore::new(max.clamp(1, Semaphore::MAX_PERMITS))),
            wait,
        }
    }

    /// Guards every route of `router` (one count shared by all of them).
    pub fn guard<S: Clone + Send + Sync + 'static>(&self, router: Router<S>) -> Router<S> {
        router.route_layer(middleware::from_fn_with_state(self.clone(), turn_gate))
    }
}

async fn turn_gate(
    State(limit): State<ConcurrencyLimit>,
    request: Request,
    next: Next,
) -> Response {
    match tokio::time::timeout(limit.wait, limit.slots.clone().acquire_owned()).await {
        Ok(Ok(turn)) => {
            let response = next.run(request).await;
            drop(turn);
            response
        }
        Ok(Err(_)) | Err(_) => retry_after(
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "too many such requests at once: retry shortly",
            ),
            1,
        ),
    }
}

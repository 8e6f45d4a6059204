//! The client API over HTTP (see `docs/api.md`): CBOR bodies for programs, JSON for
//! people and small answers, JSON errors with stable codes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use ecert_schemas::api;
use ecert_schemas::codec::to_cbor;
use ecert_schemas::freshness::Freshness;
use ecert_schemas::ledger::{Checkpoint, ValidatorChange};
use ecert_schemas::{Hash32, IssuerId, SchemaError};
use ecert_serve::limits::{ConcurrencyLimit, Limits, SubmissionLimit};
use ecert_verifier::commit::transaction_hash;
use serde::Deserialize;
use serde_json::json;

use super::roster::ChangesUnavailable;
use super::shared::Now;
use super::{wait_certified, Shared, SubmitError, TxDone};
use crate::raft::TxResult;
use crate::state::LedgerState;
use crate::NodeError;

/// Longest a request body may be (one transaction).
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;
/// Default and largest wait for a submission.
const DEFAULT_WAIT_MS: u64 = 10_000;
const MAX_WAIT_MS: u64 = 60_000;
/// How long an export waits for the applied height to be certified.
const EXPORT_WAIT: Duration = Duration::from_secs(5);

/// The API's routes, within `limits`: submissions at each client's rate, the routes that
/// read the whole ledger a few at a time, JSON errors for every refusal (bad query, unknown
/// path, wrong method).
pub fn router(shared: Arc<Shared>, limits: &Limits) -> Router {
    let submissions = SubmissionLimit::new(limits.submissions)
        .guard(Router::new().route(api::TRANSACTIONS, post(submit)));
    let heavy = ConcurrencyLimit::new(limits.max_heavy_requests, Limits::HEAVY_WAIT).guard(
        Router::new()
            .route(api::CHECKPOINTS, get(checkpoints))
            .route(api::REGISTRY, get(registry))
            .route(api::BATCHES, get(batches))
            .route(api::REVOCATIONS, get(revocations))
            .route(api::EXPORT, get(export))
            .route(api::UPDATES, get(updates)),
    );
    Router::new()
        .merge(submissions)
        .merge(heavy)
        .route(api::ANCHOR_ROUTE, get(anchor_receipt))
        .route(api::CHECKPOINTS_LATEST, get(latest_checkpoint))
        .route(api::FRESHNESS, get(freshness))
        .route(api::VALIDATORS, get(validators))
        .route(api::HEALTH, get(health))
        .route(api::METRICS, get(metrics))
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(not_found)
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(shared)
}

async fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "not-found", "no such endpoint")
}

async fn method_not_allowed() -> Response {
    error(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "this endpoint does not take this method",
    )
}

/// A query that does not parse, as a JSON `400 bad-query`.
fn bad_query(rejection: &QueryRejection) -> Response {
    error(StatusCode::BAD_REQUEST, "bad-query", rejection.body_text())
}

/// A path segment that does not decode, as a JSON `400 bad-path`.
fn bad_path(rejection: &PathRejection) -> Response {
    error(StatusCode::BAD_REQUEST, "bad-path", rejection.body_text())
}

fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    let body = json!({ "error": code, "message": message.into() }).to_string();
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn internal(e: NodeError) -> Response {
    tracing::error!("client API: {e}");
    error(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string())
}

fn cbor(bytes: Vec<u8>) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/cbor")],
        bytes,
    )
        .into_response()
}

fn json_ok(value: serde_json::Value) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        value.to_string(),
    )
        .into_response()
}

/// How long a submitter waits, and for what.
#[derive(Deserialize)]
struct SubmitQuery {
    wait: Option<String>,
    timeout_ms: Option<u64>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Wait {
    None,
    Committed,
    Certified,
}

async fn submit(
    State(shared): State<Arc<Shared>>,
    query: Result<Query<SubmitQuery>, QueryRejection>,
    body: Bytes,
) -> Response {
    let started = Instant::now();
    let query = match query {
        Ok(Query(q)) => q,
        Err(e) => return bad_query(&e),
    };
    let wait = match query.wait.as_deref() {
        None | Some("certified") => Wait::Certified,
        Some("committed") => Wait::Committed,
        Some("none") => Wait::None,
        Some(other) => {
            return error(
                StatusCode::BAD_REQUEST,
                "bad-query",
                format!("wait={other}: expected certified, committed or none"),
            )
        }
    };
    let timeout =
        Duration::from_millis(query.timeout_ms.unwrap_or(DEFAULT_WAIT_MS).min(MAX_WAIT_MS));
    let deadline = tokio::time::Instant::now() + timeout;
    let hash = transaction_hash(&body);
    let done = match shared.watch_tx(hash) {
        Ok(rx) => rx,
        Err(e) => return internal(e),
    };
    let metrics = &shared.metrics;
    match shared.submit(body.to_vec()).await {
        Ok(_) => {
            metrics
                .submitted
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        Err(e) => {
            metrics
                .refused
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return match e {
                SubmitError::Invalid { code, message } => {
                    error(StatusCode::BAD_REQUEST, &code, message)
                }
                SubmitError::NoLeader => {
                    error(StatusCode::SERVICE_UNAVAILABLE, "no-leader", e.to_string())
                }
                SubmitError::Busy => error(StatusCode::SERVICE_UNAVAILABLE, "busy", e.to_string()),
                SubmitError::NotValidator => error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "not-a-validator",
                    e.to_string(),
                ),
                SubmitError::Node(e) => internal(e),
            };
        }
    }
    let receipt = |status: &str, height: Option<u64>, batch_seq: Option<u64>| {
        json_ok(json!({
            "tx_hash": hash.to_hex(),
            "status": status,
            "height": height,
            "batch_seq": batch_seq,
        }))
    };
    if wait == Wait::None {
        return receipt("pending", None, None);
    }
    let outcome: TxDone = match tokio::time::timeout_at(deadline, done).await {
        Ok(Ok(done)) => done,
        Ok(Err(_)) | Err(_) => {
            return error(
                StatusCode::GATEWAY_TIMEOUT,
                "timeout",
                format!(
                    "transaction {} accepted but not in a block within {} ms; ask for it again \
                     (a repeat of an applied transaction is refused as a replay)",
                    hash.to_hex(),
                    timeout.as_millis()
                ),
            )
        }
    };
    let batch_seq = match &outcome.result {
        TxResult::Skipped { code } => {
            return error(
                StatusCode::BAD_REQUEST,
                code,
                "the transaction was ordered but skipped by the ledger's checks",
            )
        }
        TxResult::Anchored { batch_seq } => Some(*batch_seq),
        TxResult::Revoked | TxResult::Governed { .. } => None,
    };
    let Some(height) = outcome.height else {
        return error(
            StatusCode::BAD_REQUEST,
            "skipped",
            "the block did not apply",
        );
    };
    if wait == Wait::Committed {
        return receipt("committed", Some(height), batch_seq);
    }
    if !wait_certified(&shared, height, deadline).await {
        return error(
            StatusCode::GATEWAY_TIMEOUT,
            "not-certified",
            format!(
                "block {height} committed but not certified within {} ms: too few validators \
                 are signing",
                timeout.as_millis()
            ),
        );
    }
    shared.metrics.observe_latency(started.elapsed());
    receipt("certified", Some(height), batch_seq)
}

/// The answer when an artefact cannot carry its validator-set changes yet: `503
/// not-certified` while the block holding a change is not certified on this node.
fn changes_unavailable(e: ChangesUnavailable) -> Response {
    match e {
        ChangesUnavailable::NotCertified(height) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "not-certified",
            format!(
                "block #{height}, which changed the validator set, is not certified on this \
                 node yet: retry"
            ),
        ),
        ChangesUnavailable::Node(e) => internal(e),
    }
}

/// The validator-set changes below `height` with their certified checkpoints, read from
/// `state`, or the answer to give.
fn changes_below(
    shared: &Shared,
    state: &LedgerState,
    height: u64,
) -> Result<Vec<ValidatorChange>, Response> {
    shared
        .changes_below(state, height)
        .map_err(changes_unavailable)
}

/// The checkpoint of this node's newest certified height, or the answer to give when
/// there is none yet.
fn newest_checkpoint(shared: &Shared) -> Result<Checkpoint, Response> {
    let certified = shared.certifier.certified_height();
    match shared.certifier.checkpoint(certified) {
        Ok(Some(c)) => Ok(c),
        Ok(None) => Err(error(
            StatusCode::CONFLICT,
            "not-certified-yet",
            "no certified header yet",
        )),
        Err(e) => Err(internal(e)),
    }
}

async fn anchor_receipt(
    State(shared): State<Arc<Shared>>,
    root: Result<Path<String>, PathRejection>,
) -> Response {
    let root = match root {
        Ok(Path(root)) => root,
        Err(e) => return bad_path(&e),
    };
    let Ok(root) = Hash32::from_hex(&root) else {
        return error(
            StatusCode::BAD_REQUEST,
            "bad-root",
            "a batch root is 64 hex digits",
        );
    };
    let checkpoint = match newest_checkpoint(&shared) {
        Ok(c) => c,
        Err(response) => return response,
    };
    let height = match checkpoint.decode_header() {
        Ok(header) => header.height,
        Err(e) => return internal(e.into()),
    };
    let found = shared.machine.read(|s| {
        s.batch_seq_of(&root).map(|seq| {
            let changes = changes_below(&shared, s, height)?;
            s.anchor_receipt(seq, &checkpoint, changes)
                .map_err(|e| internal(e.into()))
        })
    });
    match found {
        Err(e) => internal(e),
        Ok(Some(Err(response))) => response,
        Ok(None) => error(
            StatusCode::NOT_FOUND,
            "not-anchored",
            format!("no batch with root {} is anchored", root.to_hex()),
        ),
        Ok(Some(Ok(Some(receipt)))) => match receipt.to_bytes() {
            Ok(bytes) => cbor(bytes),
            Err(e) => internal(e.into()),
        },
        Ok(Some(Ok(None))) => error(
            StatusCode::CONFLICT,
            "not-certified-yet",
            "the batch is anchored in a block that is still collecting votes: retry",
        ),
    }
}

#[derive(Deserialize)]
struct CheckpointQuery {
    from: Option<u64>,
    limit: Option<usize>,
}

async fn checkpoints(
    State(shared): State<Arc<Shared>>,
    q: Result<Query<CheckpointQuery>, QueryRejection>,
) -> Response {
    let q = match q {
        Ok(Query(q)) => q,
        Err(e) => return bad_query(&e),
    };
    let limit = q.limit.unwrap_or(1_000).min(1_000);
    let list = match shared
        .certifier
        .checkpoints_from(q.from.unwrap_or(0), limit)
    {
        Ok(l) => l,
        Err(e) => return internal(e),
    };
    let parsed: Result<Vec<Checkpoint>, _> =
        list.iter().map(|b| Checkpoint::from_bytes(b)).collect();
    match parsed
        .map_err(NodeError::from)
        .and_then(|l| to_cbor(&l).map_err(Into::into))
    {
        Ok(bytes) => cbor(bytes),
        Err(e) => internal(e),
    }
}

async fn latest_checkpoint(State(shared): State<Arc<Shared>>) -> Response {
    let height = shared.certifier.certified_height();
    about_newest_certified(shared.certifier.checkpoint(height), Checkpoint::to_bytes)
}

/// The freshness statements this node holds about the newest certified header, a quorum
/// or not: the client's verifier decides (and says how many signed when too few did).
async fn freshness(State(shared): State<Arc<Shared>>) -> Response {
    about_newest_certified(shared.freshness(Now::read()), Freshness::to_bytes)
}

/// The validator set as of the newest certified header, proven from genesis
/// (`ValidatorSetProof`): the checkpoint, the set that certified it and the validator-set
/// changes from genesis. `404` before the first certified header; `503 not-certified`
/// while a change's block is not certified on this node.
async fn validators(State(shared): State<Arc<Shared>>) -> Response {
    let height = shared.certifier.certified_height();
    let checkpoint = match shared.certifier.checkpoint(height) {
        Ok(Some(checkpoint)) => checkpoint,
        found => return about_newest_certified(found, Checkpoint::to_bytes),
    };
    match shared.validator_set_proof(checkpoint) {
        Ok(proof) => match proof.to_bytes() {
            Ok(bytes) => cbor(bytes),
            Err(e) => internal(e.into()),
        },
        Err(e) => changes_unavailable(e),
    }
}

/// Something about the newest certified header, as CBOR; `404` before the first one.
fn about_newest_certified<T>(
    found: Result<Option<T>, NodeError>,
    encode: impl FnOnce(&T) -> Result<Vec<u8>, SchemaError>,
) -> Response {
    match found.map(|found| found.map(|t| encode(&t))) {
        Ok(Some(Ok(bytes))) => cbor(bytes),
        Ok(Some(Err(e))) => internal(e.into()),
        Ok(None) => error(
            StatusCode::NOT_FOUND,
            "no-checkpoint",
            "nothing certified yet",
        ),
        Err(e) => internal(e),
    }
}

async fn registry(State(shared): State<Arc<Shared>>) -> Response {
    match shared
        .machine
        .read(|s| to_cbor(s.registry()))
        .and_then(|r| r.map_err(Into::into))
    {
        Ok(bytes) => cbor(bytes),
        Err(e) => internal(e),
    }
}

#[derive(Deserialize)]
struct BatchQuery {
    issuer: String,
}

async fn batches(
    State(shared): State<Arc<Shared>>,
    q: Result<Query<BatchQuery>, QueryRejection>,
) -> Response {
    let q = match q {
        Ok(Query(q)) => q,
        Err(e) => return bad_query(&e),
    };
    let Ok(issuer) = IssuerId::new(q.issuer.clone()) else {
        return error(
            StatusCode::BAD_REQUEST,
            "bad-issuer",
            format!("{}: not an issuer id", q.issuer),
        );
    };
    let list = shared.machine.read(|s| {
        s.anchors()
            .iter()
            .enumerate()
            .filter(|(_, r)| r.issuer == issuer)
            .map(|(seq, r)| (seq as u64, r.clone()))
            .collect::<Vec<_>>()
    });
    match list.and_then(|l| to_cbor(&l).map_err(Into::into)) {
        Ok(bytes) => cbor(bytes),
        Err(e) => internal(e),
    }
}

#[derive(Deserialize)]
struct RevocationsQuery {
    since: Option<u64>,
}

/// The revocation snapshot at the applied height, or with `?since=H` the delta from
/// height `H` to the newest certified height (checkable against the trust anchor).
async fn revocations(
    State(shared): State<Arc<Shared>>,
    q: Result<Query<RevocationsQuery>, QueryRejection>,
) -> Response {
    let q = match q {
        Ok(Query(q)) => q,
        Err(e) => return bad_query(&e),
    };
    if let Some(since) = q.since {
        return revocation_delta(&shared, since);
    }
    match shared
        .machine
        .read(|s| to_cbor(&s.revocation_snapshot()))
        .and_then(|r| r.map_err(Into::into))
    {
        Ok(bytes) => cbor(bytes),
        Err(e) => internal(e),
    }
}

/// `409 not-certified-yet` when a client asks about block `since` and this node has not
/// certified it yet.
fn ahead_of_certified(shared: &Shared, since: u64) -> Option<Response> {
    let certified = shared.certifier.certified_height();
    (since > certified).then(|| {
        error(
            StatusCode::CONFLICT,
            "not-certified-yet",
            format!(
                "block #{since} is not certified on this node yet (certified: #{certified}); \
                 retry, or ask another node"
            ),
        )
    })
}

fn revocation_delta(shared: &Shared, since: u64) -> Response {
    if let Some(response) = ahead_of_certified(shared, since) {
        return response;
    }
    let checkpoint = match newest_checkpoint(shared) {
        Ok(c) => c,
        Err(response) => return response,
    };
    let height = match checkpoint.decode_header() {
        Ok(header) => header.height,
        Err(e) => return internal(e.into()),
    };
    match shared.machine.read(|s| {
        let changes = changes_below(shared, s, height)?;
        s.revocation_delta(since, &checkpoint, changes)
            .map_err(|e| internal(e.into()))
    }) {
        Err(e) => internal(e),
        Ok(Err(response)) => response,
        Ok(Ok(None)) => error(
            StatusCode::CONFLICT,
            "not-certified-yet",
            "the certified header is not applied on this node yet: retry",
        ),
        Ok(Ok(Some(delta))) => match delta.to_bytes() {
            Ok(bytes) => cbor(bytes),
            Err(e) => internal(e.into()),
        },
    }
}

/// Everything a counter needs, consistent with the certified header it carries: the state
/// is read at a height this node holds a checkpoint for.
async fn export(State(shared): State<Arc<Shared>>) -> Response {
    match at_certified_height(&shared, |s, checkpoint, changes| {
        Ok(s.trust_bundle(checkpoint, changes))
    })
    .await
    {
        Ok(bundle) => match bundle.to_bytes() {
            Ok(bytes) => cbor(bytes),
            Err(e) => internal(e.into()),
        },
        Err(response) => response,
    }
}

#[derive(Deserialize)]
struct UpdatesQuery {
    since: u64,
}

/// What changed after the certified header at `?since=H` up to the newest certified height
/// this node has applied (`TrustUpdate`): a counter's incremental sync, O(changes) to
/// serve. `409 not-certified-yet` when `H` is above this node's certified height; `404
/// no-checkpoint` when this node does not hold the checkpoint of `H` (it caught up from a
/// snapshot): the counter syncs the full export instead.
async fn updates(
    State(shared): State<Arc<Shared>>,
    q: Result<Query<UpdatesQuery>, QueryRejection>,
) -> Response {
    let since = match q {
        Ok(Query(q)) => q.since,
        Err(e) => return bad_query(&e),
    };
    if let Some(response) = ahead_of_certified(&shared, since) {
        return response;
    }
    let held = match shared.certifier.checkpoint(since) {
        Ok(Some(checkpoint)) => checkpoint,
        Ok(None) => {
            return error(
                StatusCode::NOT_FOUND,
                "no-checkpoint",
                format!("this node holds no checkpoint of block #{since}: sync the full export"),
            )
        }
        Err(e) => return internal(e),
    };
    let held = match held.decode_header() {
        Ok(header) => header,
        Err(e) => return internal(e.into()),
    };
    let update = at_certified_height(&shared, |s, checkpoint, changes| {
        Ok(s.trust_update(&held, checkpoint, changes))
    })
    .await;
    match update {
        Ok(Some(update)) => match update.to_bytes() {
            Ok(bytes) => cbor(bytes),
            Err(e) => internal(e.into()),
        },
        Ok(None) => error(
            StatusCode::CONFLICT,
            "not-certified-yet",
            format!("block #{since} is not applied on this node yet: retry"),
        ),
        Err(response) => response,
    }
}

/// `build` over the ledger state at its applied height, with that height's certified
/// checkpoint and the validator-set changes below it: waits (up to [`EXPORT_WAIT`]) for the
/// height to be certified; `503` when nothing is, it is not in time, or a change's block
/// is not certified on this node yet.
async fn at_certified_height<T>(
    shared: &Shared,
    build: impl Fn(&LedgerState, Checkpoint, Vec<ValidatorChange>) -> Result<T, NodeError>,
) -> Result<T, Response> {
    let deadline = tokio::time::Instant::now() + EXPORT_WAIT;
    loop {
        let attempt = shared.machine.read(|s| {
            let height = s.height();
            match shared.certifier.checkpoint(height) {
                Ok(Some(checkpoint)) => match shared.changes_below(s, height) {
                    Ok(changes) => build(s, checkpoint, changes).map(|t| Some(Ok(t))),
                    Err(ChangesUnavailable::Node(e)) => Err(e),
                    Err(e) => Ok(Some(Err(e))),
                },
                Ok(None) => Ok(None),
                Err(e) => Err(e),
            }
        });
        match attempt {
            Ok(Ok(Some(Ok(built)))) => return Ok(built),
            Ok(Ok(Some(Err(e)))) => return Err(changes_unavailable(e)),
            Ok(Ok(None)) => {
                let height = shared.height().unwrap_or(0);
                if height == 0 {
                    return Err(error(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "no-checkpoint",
                        "nothing certified yet: the ledger has no block",
                    ));
                }
                if !wait_certified(shared, height, deadline).await
                    && tokio::time::Instant::now() >= deadline
                {
                    return Err(error(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "not-certified",
                        format!("block {height} is not certified yet: too few validators signing"),
                    ));
                }
            }
            Ok(Err(e)) | Err(e) => return Err(internal(e)),
        }
    }
}

async fn health(State(shared): State<Arc<Shared>>) -> Response {
    let gauges = match shared.gauges() {
        Ok(g) => g,
        Err(e) => return internal(e),
    };
    let role = match gauges.role {
        0 => "follower",
        1 => "candidate",
        2 => "leader",
        _ => "other",
    };
    let leader = shared.leader();
    let status = if leader.is_some() && gauges.certified_height + 2 >= gauges.height {
        "ok"
    } else {
        "degraded"
    };
    // Positions in the current validator set (`null`: not in it).
    let node = shared.position_of_node(shared.me);
    let leader = leader.and_then(|l| shared.position_of_node(l));
    json_ok(json!({
        "status": status,
        "node": node,
        "validator": node.is_some(),
        "validators": shared.current_validators().len(),
        "department": shared.department(),
        "chain_id": shared.genesis.chain_id.to_string(),
        "role": role,
        "leader": leader,
        "term": gauges.term,
        "height": gauges.height,
        "certified_height": gauges.certified_height,
        "peers": gauges.peers,
        "queued": gauges.queued,
    }))
}

async fn metrics(State(shared): State<Arc<Shared>>) -> Response {
    match shared.gauges() {
        Ok(g) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
            shared.metrics.render(&g),
        )
            .into_response(),
        Err(e) => internal(e),
    }
}

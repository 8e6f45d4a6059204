//! The ledger node's client API (`docs/api.md`): submit a transaction, fetch anchor
//! receipts, the registry, checkpoints, revocations, the export, the validator set, health
//! and metrics.
//!
//! Nothing a node answers is trusted: the `certified_*` calls return data already checked
//! against the trust anchor (`ecert_verifier::TrustAnchor`, through
//! [`LedgerCheck`]) — anchor receipts with `verify_anchor_receipt`, the export with
//! `TrustStore::from_bundle` exactly as a counter checks it when it syncs, the revocation
//! state with `verify_revocation_delta` — and fail with [`NodeError::Unverified`]
//! otherwise. (The checks come through a trait of `ecert_schemas` because the verifier's
//! counter tool depends on this crate: it cannot depend on the verifier.) The other calls return what the node said, for
//! callers that check it themselves or only need a hint (the next governance sequence
//! number, a health probe).

use std::time::Duration;

use ecert_schemas::api::{self, LedgerCheck};
use ecert_schemas::codec::{from_cbor_bounded, MAX_ITEM_BYTES};
use ecert_schemas::freshness::{Freshness, MAX_FRESHNESS_BYTES};
use ecert_schemas::ledger::{
    AnchorReceipt, BatchRecord, BlockHeader, Checkpoint, Registry, RevocationDelta,
    RevocationSnapshot, Transaction, TrustBundle, ValidatorInfo, ValidatorSetProof,
    MAX_TRUST_BUNDLE_BYTES,
};
use ecert_schemas::{Hash32, IssuerId, KindRegistry, SchemaError};
use serde::Deserialize;
use thiserror::Error;

use crate::http::{BadAnswer, ErrorBody, Http, HttpError, Reply, Unreachable};
use crate::url::ServerUrl;

/// Largest answer read for lists and the registry (64 MiB: a long batch list).
const MAX_ANSWER_BYTES: u64 = 64 * 1024 * 1024;
/// Largest export or revocation delta read.
const MAX_BUNDLE_BYTES: u64 = MAX_TRUST_BUNDLE_BYTES as u64;
/// Largest health answer or metrics page read.
const MAX_TEXT_BYTES: u64 = 1024 * 1024;

/// Why talking to the ledger node failed.
#[derive(Debug, Error)]
pub enum NodeError {
    /// The node's address cannot be used.
    #[error("{url} is not a usable address for a ledger node ({detail})")]
    InvalidUrl {
        /// The URL asked.
        url: String,
        /// What is wrong.
        detail: String,
    },
    /// The node could not be reached, the connection broke, or it did not answer in time.
    #[error("cannot reach the ledger node at {url}: {cause}")]
    Unreachable {
        /// The URL asked.
        url: String,
        /// Why.
        cause: Unreachable,
    },
    /// The answer is too large, not well-formed, or not the structure it should be.
    #[error("the ledger node's answer is not readable ({url}): {cause}")]
    BadAnswer {
        /// The URL asked.
        url: String,
        /// Why.
        cause: BadAnswer,
    },
    /// The node refused the transaction (HTTP 400): it breaks a ledger rule.
    #[error("the ledger refused the transaction ({code}): {message}")]
    Refused {
        /// The verifier's reason code.
        code: String,
        /// The node's message.
        message: String,
    },
    /// The node has no leader or quorum (HTTP 503).
    #[error(
        "the ledger is not available now (no leader or no quorum): {}",
        error.text().unwrap_or_default()
    )]
    Unavailable {
        /// The node's error body.
        error: ErrorBody,
    },
    /// Accepted, but not certified in time (HTTP 504): it may still be certified later.
    #[error(
        "the ledger accepted the transaction but did not certify it in time; it may still be \
         certified later: {}",
        error.text().unwrap_or_default()
    )]
    NotCertifiedInTime {
        /// The node's error body.
        error: ErrorBody,
    },
    /// The batch is not anchored (HTTP 404 on an anchor receipt).
    #[error("the ledger has not anchored this batch")]
    NotAnchored,
    /// Anchored, but its block is still collecting votes, or the height asked is not
    /// certified on this node yet (HTTP 409).
    #[error("the batch is anchored but its block is not certified yet")]
    NotCertifiedYet,
    /// Any other status.
    #[error(
        "unexpected answer from the ledger node ({status}): {}",
        error.text().unwrap_or_default()
    )]
    Unexpected {
        /// The URL asked.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The node's error body.
        error: ErrorBody,
    },
    /// The request could not be encoded.
    #[error("the request could not be encoded: {0}")]
    Request(SchemaError),
    /// The node's data is not certified by the validators of the pinned trust anchor
    /// (a wrong, stale or lying node, or the wrong anchor pinned).
    #[error(
        "the ledger node's data does not verify against the pinned trust anchor ({code}): \
         {source}"
    )]
    Unverified {
        /// The refusal's stable code (`VerifyError::code`).
        code: &'static str,
        /// Why the data was refused (an `ecert_verifier::VerifyError`).
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl NodeError {
    /// The HTTP status of an answer the call did not want, if the node answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            NodeError::Refused { .. } => Some(400),
            NodeError::NotAnchored => Some(404),
            NodeError::NotCertifiedYet => Some(409),
            NodeError::Unavailable { .. } => Some(503),
            NodeError::NotCertifiedInTime { .. } => Some(504),
            NodeError::Unexpected { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The node's error body, when it answered with one.
    pub fn error_body(&self) -> Option<&ErrorBody> {
        match self {
            NodeError::Unavailable { error }
            | NodeError::NotCertifiedInTime { error }
            | NodeError::Unexpected { error, .. } => Some(error),
            _ => None,
        }
    }
}

impl From<HttpError> for NodeError {
    fn from(e: HttpError) -> NodeError {
        match e {
            HttpError::InvalidUrl { url, detail } => NodeError::InvalidUrl { url, detail },
            HttpError::Unreachable { url, cause } => NodeError::Unreachable { url, cause },
            HttpError::BadAnswer { url, cause } => NodeError::BadAnswer { url, cause },
            HttpError::Status { url, status, error } => {
                NodeError::Unexpected { url, status, error }
            }
        }
    }
}

/// How long [`NodeClient::submit`] asks the node to wait for certification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    /// Until the block is certified.
    Certified,
    /// Until the block is committed.
    Committed,
    /// Not at all.
    None,
}

impl Wait {
    /// The value of the `wait` query parameter.
    pub fn as_str(self) -> &'static str {
        match self {
            Wait::Certified => "certified",
            Wait::Committed => "committed",
            Wait::None => "none",
        }
    }
}

/// The node's answer to a submitted transaction (`SubmitReceipt`, JSON).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct SubmitReceipt {
    /// Hex SHA-256 of the transaction bytes.
    pub tx_hash: String,
    /// `certified`, `committed` or `pending`.
    pub status: String,
    /// The block, when known.
    #[serde(default)]
    pub height: Option<u64>,
    /// The batch's place in the anchor log (anchor batches), when known.
    #[serde(default)]
    pub batch_seq: Option<u64>,
}

/// A revocation state checked against the trust anchor
/// ([`NodeClient::certified_revocations`]), with what certified it: what freshness
/// statements about that header are checked against.
#[derive(Clone, Debug)]
pub struct CertifiedRevocations {
    /// The certified header the state is of.
    pub header: BlockHeader,
    /// The revocation state at that header.
    pub snapshot: RevocationSnapshot,
    /// The checkpoint that certifies the header.
    pub checkpoint: Checkpoint,
    /// The validator set that signed it.
    pub validators: Vec<ValidatorInfo>,
}

/// A node's health (`GET /health`, JSON). Not certified: for operators and probes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Health {
    /// `ok` or `degraded`.
    pub status: String,
    /// The node's index among the validators.
    pub node: u64,
    /// The department running it.
    pub department: String,
    /// The ledger's chain id.
    pub chain_id: String,
    /// `leader`, `follower`, `candidate` or `other`.
    pub role: String,
    /// The leader's index, if one is known.
    pub leader: Option<u64>,
    /// The consensus term.
    pub term: u64,
    /// The applied height.
    pub height: u64,
    /// The newest certified height.
    pub certified_height: u64,
    /// Peers connected.
    pub peers: u64,
    /// Transactions waiting.
    pub queued: u64,
}

/// A client of one node's API.
#[derive(Clone, Debug)]
pub struct NodeClient {
    server: ServerUrl,
    http: Http,
}

impl NodeClient {
    /// A client of the node at `base` as configured (`https://HOST:PORT`, not checked
    /// here: a bad address fails on each call), each request limited to `timeout` in all.
    /// For an address a person typed, use [`ServerUrl::parse`] and [`NodeClient::at`].
    pub fn new(base: &str, timeout: Duration) -> NodeClient {
        NodeClient::with_http(ServerUrl::unchecked(base), Http::new(timeout))
    }

    /// A client of the node at `server`, each request limited to `timeout` in all.
    pub fn at(server: ServerUrl, timeout: Duration) -> NodeClient {
        NodeClient::with_http(server, Http::new(timeout))
    }

    /// A client of the node at `server` using `http` (its timeouts and user agent).
    pub fn with_http(server: ServerUrl, http: Http) -> NodeClient {
        NodeClient { server, http }
    }

    /// The node's base URL.
    pub fn base(&self) -> &str {
        self.server.base()
    }

    /// The node's address.
    pub fn server(&self) -> &ServerUrl {
        &self.server
    }

    /// `GET path`, the body read up to `limit`; returns the URL asked and the answer.
    fn get(&self, path: &str, limit: u64) -> Result<(String, Reply), NodeError> {
        let url = self.server.join(path);
        let reply = self.http.get_limited(&url, limit)?;
        Ok((url, reply))
    }

    /// Submits a transaction, waiting as asked (`timeout_ms` at most 60 000).
    pub fn submit(
        &self,
        tx: &Transaction,
        wait: Wait,
        timeout_ms: u64,
    ) -> Result<SubmitReceipt, NodeError> {
        let url = self
            .server
            .join(&api::transactions(wait.as_str(), timeout_ms));
        let bytes = tx.to_bytes().map_err(NodeError::Request)?;
        let reply = self
            .http
            .post_cbor_limited(&url, &bytes, MAX_ITEM_BYTES as u64)?;
        match reply.status {
            200 => serde_json::from_slice(&reply.body)
                .map_err(|e| bad(&url, format!("submit receipt: {e}"))),
            400 => {
                let error = reply.error_body();
                Err(NodeError::Refused {
                    code: error.code.unwrap_or_else(|| "unknown".into()),
                    message: error.message.unwrap_or_default(),
                })
            }
            504 => Err(NodeError::NotCertifiedInTime {
                error: reply.error_body(),
            }),
            _ => Err(other(url, &reply)),
        }
    }

    /// The anchor receipt of the batch with this root, as the node sent it (not
    /// verified: see [`NodeClient::certified_anchor_receipt`]).
    pub fn anchor_receipt(&self, root: &Hash32) -> Result<AnchorReceipt, NodeError> {
        let (url, reply) = self.get(&api::anchor(root), MAX_ITEM_BYTES as u64)?;
        match reply.status {
            200 => AnchorReceipt::from_bytes(&reply.body).map_err(|e| bad(&url, e)),
            404 => Err(NodeError::NotAnchored),
            409 => Err(NodeError::NotCertifiedYet),
            _ => Err(other(url, &reply)),
        }
    }

    /// The anchor receipt of the batch with this root, checked against `anchor`
    /// (`verify_anchor_receipt`): the record it proves is in the anchor log of a header
    /// the anchor's validators certified. Whether that record is the caller's batch
    /// (root, issuer, key, kinds, count) is for the caller to check.
    pub fn certified_anchor_receipt<A: LedgerCheck>(
        &self,
        root: &Hash32,
        anchor: &A,
    ) -> Result<A::Receipt, NodeError> {
        let receipt = self.anchor_receipt(root)?;
        anchor
            .check_anchor_receipt(&receipt)
            .map_err(unverified::<A>)
    }

    /// The anchor receipt, asking again while the block is still collecting votes (or,
    /// just after a certified submission, not visible on this node yet), up to
    /// `attempts` times `pause` apart.
    pub fn anchor_receipt_retrying(
        &self,
        root: &Hash32,
        attempts: u32,
        pause: Duration,
    ) -> Result<AnchorReceipt, NodeError> {
        retry_while_pending(attempts, pause, || self.anchor_receipt(root))
    }

    /// As [`NodeClient::anchor_receipt_retrying`], checked against `anchor` as
    /// [`NodeClient::certified_anchor_receipt`] does.
    pub fn certified_anchor_receipt_retrying<A: LedgerCheck>(
        &self,
        root: &Hash32,
        anchor: &A,
        attempts: u32,
        pause: Duration,
    ) -> Result<A::Receipt, NodeError> {
        let receipt = self.anchor_receipt_retrying(root, attempts, pause)?;
        anchor
            .check_anchor_receipt(&receipt)
            .map_err(unverified::<A>)
    }

    /// The registry as of the node's latest applied block (not certified: used only to
    /// learn the next governance sequence number, which the ledger checks itself).
    pub fn registry(&self) -> Result<Registry, NodeError> {
        self.get_cbor("registry", api::REGISTRY, MAX_ANSWER_BYTES)
    }

    /// The batches the node lists for `issuer`, with their anchor log positions (not
    /// certified: a quick list; [`NodeClient::certified_export`] is the checked one).
    pub fn batches(&self, issuer: &IssuerId) -> Result<Vec<(u64, BatchRecord)>, NodeError> {
        self.get_cbor(
            "batch list",
            &api::batches(issuer.as_str()),
            MAX_ANSWER_BYTES,
        )
    }

    /// The certified checkpoints this node holds from height `from`, at most `limit`
    /// (each is verified by whoever uses it: [`ecert_verifier::checkpoint`]).
    pub fn checkpoints(&self, from: u64, limit: u64) -> Result<Vec<Checkpoint>, NodeError> {
        self.get_cbor(
            "checkpoint list",
            &api::checkpoints(from, limit),
            MAX_ANSWER_BYTES,
        )
    }

    /// The node's newest certified checkpoint, or `None` before the first one.
    pub fn latest_checkpoint(&self) -> Result<Option<Checkpoint>, NodeError> {
        self.get_if_certified(
            api::CHECKPOINTS_LATEST,
            MAX_ITEM_BYTES,
            Checkpoint::from_bytes,
        )
    }

    /// The validators' freshness statements the node holds about its newest certified
    /// header (`GET /v1/freshness`), as it sent them, or `None` before the first certified
    /// header. Not checked here: the holder of that header's data checks them
    /// (`TrustStore::apply_freshness`), and learns how many validators signed when too few
    /// did.
    pub fn freshness(&self) -> Result<Option<Freshness>, NodeError> {
        self.get_if_certified(api::FRESHNESS, MAX_FRESHNESS_BYTES, Freshness::from_bytes)
    }

    /// `GET path` about the node's newest certified header, decoded with `decode` (at most
    /// `limit` bytes), or `None` before the first certified header (`404`).
    fn get_if_certified<T>(
        &self,
        path: &str,
        limit: usize,
        decode: fn(&[u8]) -> Result<T, SchemaError>,
    ) -> Result<Option<T>, NodeError> {
        let (url, reply) = self.get(path, limit as u64)?;
        match reply.status {
            200 => decode(&reply.body).map(Some).map_err(|e| bad(&url, e)),
            404 => Ok(None),
            _ => Err(other(url, &reply)),
        }
    }

    /// The revocation state at the node's applied height, as the node sent it (not
    /// certified: see [`NodeClient::certified_revocations`]).
    pub fn revocations(&self) -> Result<RevocationSnapshot, NodeError> {
        self.get_cbor("revocation list", api::REVOCATIONS, MAX_BUNDLE_BYTES)
    }

    /// The whole revocation state as of the node's newest certified header: every
    /// revocation since genesis (`GET /v1/revocations?since=0`), checked against `anchor`
    /// (`verify_revocation_delta`). Far smaller than the export: no anchor log.
    pub fn certified_revocations<A: LedgerCheck>(
        &self,
        anchor: &A,
    ) -> Result<CertifiedRevocations, NodeError> {
        let genesis = RevocationSnapshot {
            height: 0,
            lists: Vec::new(),
        };
        self.certified_revocations_after(&genesis, anchor)
    }

    /// The revocation state as of the node's newest certified header, from `held` (a
    /// state already checked, at its height) and the revocations after it, checked
    /// against `anchor` (`verify_revocation_delta`).
    pub fn certified_revocations_after<A: LedgerCheck>(
        &self,
        held: &RevocationSnapshot,
        anchor: &A,
    ) -> Result<CertifiedRevocations, NodeError> {
        let (url, reply) = self.get(&api::revocations_since(held.height), MAX_BUNDLE_BYTES)?;
        match reply.status {
            200 => {
                let delta = RevocationDelta::from_bytes(&reply.body).map_err(|e| bad(&url, e))?;
                let (header, snapshot) = anchor
                    .check_revocations(held, &delta)
                    .map_err(unverified::<A>)?;
                Ok(CertifiedRevocations {
                    header,
                    snapshot,
                    checkpoint: delta.checkpoint,
                    validators: delta.validators,
                })
            }
            409 => Err(NodeError::NotCertifiedYet),
            _ => Err(other(url, &reply)),
        }
    }

    /// What changed after the certified header at height `since` up to the node's newest
    /// certified header (`GET /v1/updates?since=H`, a `TrustUpdate`), as the node sent it,
    /// at most the largest trust bundle: the caller decodes and checks it
    /// (`TrustStore::apply_update`). `None` when the node cannot serve it (it does not hold
    /// that header's checkpoint, or predates incremental sync): fetch the export instead.
    pub fn update_bytes(&self, since: u64) -> Result<Option<Vec<u8>>, NodeError> {
        let (url, reply) = self.get(&api::updates_since(since), MAX_BUNDLE_BYTES)?;
        match reply.status {
            200 => Ok(Some(reply.body)),
            404 => Ok(None),
            409 => Err(NodeError::NotCertifiedYet),
            _ => Err(other(url, &reply)),
        }
    }

    /// The node's current validator set with its proof from genesis (`GET /v1/validators`,
    /// a `ValidatorSetProof`: the newest certified checkpoint, the set that certified it and
    /// the validator-set changes since genesis), as the node sent it: not checked here. The
    /// caller checks it against its trust anchor (`ecert_verifier::verify_validator_set`)
    /// before using the set. Read up to the largest trust bundle.
    pub fn validator_set(&self) -> Result<ValidatorSetProof, NodeError> {
        let (url, reply) = self.get(api::VALIDATORS, MAX_BUNDLE_BYTES)?;
        match reply.status {
            200 => ValidatorSetProof::from_bytes(&reply.body).map_err(|e| bad(&url, e)),
            _ => Err(other(url, &reply)),
        }
    }

    /// The node's export (`GET /v1/export`) as it sent it, at most the largest trust
    /// bundle: for a caller that checks it and keeps these exact bytes (a counter).
    pub fn export_bytes(&self) -> Result<Vec<u8>, NodeError> {
        let (url, reply) = self.get(api::EXPORT, MAX_BUNDLE_BYTES)?;
        match reply.status {
            200 => Ok(reply.body),
            _ => Err(other(url, &reply)),
        }
    }

    /// The node's export (state and the certified checkpoint of one height), checked
    /// against `anchor` exactly as a counter checks it when it syncs
    /// (`TrustStore::from_bundle`): whatever the node left out or changed fails.
    pub fn certified_export<A: LedgerCheck>(
        &self,
        anchor: &A,
        kinds: KindRegistry,
    ) -> Result<A::Store, NodeError> {
        let url = self.server.join(api::EXPORT);
        let bytes = self.export_bytes()?;
        let bundle = TrustBundle::from_bytes(&bytes).map_err(|e| bad(&url, e))?;
        anchor.check_export(bundle, kinds).map_err(unverified::<A>)
    }

    /// The node's health (`GET /health`).
    pub fn health(&self) -> Result<Health, NodeError> {
        let (url, reply) = self.get(api::HEALTH, MAX_TEXT_BYTES)?;
        match reply.status {
            200 => serde_json::from_slice(&reply.body).map_err(|e| bad(&url, e)),
            _ => Err(other(url, &reply)),
        }
    }

    /// The node's metrics page (`GET /metrics`, Prometheus text).
    pub fn metrics(&self) -> Result<String, NodeError> {
        let (url, reply) = self.get(api::METRICS, MAX_TEXT_BYTES)?;
        match reply.status {
            200 => String::from_utf8(reply.body).map_err(|e| bad(&url, e)),
            _ => Err(other(url, &reply)),
        }
    }

    /// `GET path` answered with a CBOR `what` (200), or the node's error.
    fn get_cbor<T: serde::Serialize + serde::de::DeserializeOwned>(
        &self,
        what: &'static str,
        path: &str,
        limit: u64,
    ) -> Result<T, NodeError> {
        let (url, reply) = self.get(path, limit)?;
        match reply.status {
            200 => from_cbor_bounded(
                what,
                &reply.body,
                usize::try_from(limit).unwrap_or(usize::MAX),
            )
            .map_err(|e| bad(&url, e)),
            _ => Err(other(url, &reply)),
        }
    }
}

/// A refusal by the trust anchor's checks.
fn unverified<A: LedgerCheck>(error: A::Error) -> NodeError {
    NodeError::Unverified {
        code: A::error_code(&error),
        source: Box::new(error),
    }
}

/// The answer of `url` is not the structure it should be.
fn bad(url: &str, detail: impl std::fmt::Display) -> NodeError {
    NodeError::BadAnswer {
        url: url.to_owned(),
        cause: BadAnswer::Content(detail.to_string()),
    }
}

/// A status the call does not expect: 503 (no leader or quorum) or any other.
fn other(url: String, reply: &Reply) -> NodeError {
    match reply.status {
        503 => NodeError::Unavailable {
            error: reply.error_body(),
        },
        status => NodeError::Unexpected {
            url,
            status,
            error: reply.error_body(),
        },
    }
}

/// Calls `fetch` up to `attempts` times, `pause` apart, while its answer may still change:
/// the block is collecting votes or not visible on this node yet, the node has no quorum,
/// or it cannot be reached. Any other answer is final.
pub fn retry_while_pending<T>(
    attempts: u32,
    pause: Duration,
    mut fetch: impl FnMut() -> Result<T, NodeError>,
) -> Result<T, NodeError> {
    let mut last = NodeError::NotCertifiedYet;
    for attempt in 0..attempts.max(1) {
        if attempt > 0 {
            std::thread::sleep(pause);
        }
        match fetch() {
            Ok(answer) => return Ok(answer),
            // A refused certificate will not change by waiting.
            Err(
                e @ NodeError::Unreachable {
                    cause: Unreachable::Tls(_),
                    ..
                },
            ) => return Err(e),
            Err(
                e @ (NodeError::NotCertifiedYet
                | NodeError::NotAnchored
                | NodeError::Unavailable { .. }
                | NodeError::Unreachable { .. }),
            ) => last = e,
            Err(e) => return Err(e),
        }
    }
    Err(last)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::tests::{dead_address, fake_server};

    fn revocation_tx() -> Transaction {
        use ecert_schemas::ledger::{RevocationBody, RevocationTx};
        Transaction::Revocation(RevocationTx {
            body: RevocationBody {
                chain_id: ecert_schemas::ChainId::new("c").unwrap(),
                issuer: IssuerId::new("justice").unwrap(),
                key_id: ecert_schemas::KeyId([0; 8]),
                entries: vec![],
                time: ecert_schemas::UnixTime(1),
            },
            signature: ecert_schemas::SignatureBytes([0; 64]),
        })
    }

    fn json_error(code: &str, message: &str) -> Vec<u8> {
        format!(r#"{{"error":"{code}","message":"{message}"}}"#).into_bytes()
    }

    #[test]
    fn submit_maps_the_documented_answers() {
        let tx = revocation_tx();
        let (base, server) = fake_server(vec![
            (
                200,
                "application/json",
                br#"{"tx_hash":"ab","status":"certified","height":3,"batch_seq":null}"#.to_vec(),
            ),
            (
                400,
                "application/json",
                json_error("transaction-refused", "replayed root"),
            ),
            (503, "application/json", json_error("no-quorum", "x")),
            (504, "application/json", json_error("not-certified", "slow")),
            (409, "application/json", json_error("not-certified-yet", "")),
            (404, "application/json", json_error("not-anchored", "")),
            (418, "text/plain", b"teapot".to_vec()),
        ]);
        let client = NodeClient::new(&format!("{base}/"), Duration::from_secs(10));
        assert_eq!(client.base(), base);
        let receipt = client.submit(&tx, Wait::Certified, 5000).unwrap();
        assert_eq!(receipt.height, Some(3));
        assert!(matches!(
            client.submit(&tx, Wait::Certified, 5000),
            Err(NodeError::Refused { code, message })
                if code == "transaction-refused" && message == "replayed root"
        ));
        let e = client.submit(&tx, Wait::None, 5000).unwrap_err();
        assert!(matches!(e, NodeError::Unavailable { .. }), "{e}");
        assert_eq!(e.status(), Some(503));
        assert_eq!(e.error_body().and_then(ErrorBody::text), Some("x"));
        assert!(matches!(
            client.submit(&tx, Wait::Committed, 90_000),
            Err(NodeError::NotCertifiedInTime { .. })
        ));
        assert!(matches!(
            client.anchor_receipt(&Hash32([1; 32])),
            Err(NodeError::NotCertifiedYet)
        ));
        assert!(matches!(
            client.anchor_receipt(&Hash32([1; 32])),
            Err(NodeError::NotAnchored)
        ));
        let e = client.registry().unwrap_err();
        assert_eq!(e.status(), Some(418), "{e}");
        let seen = server.join().unwrap();
        assert_eq!(
            seen[0].0,
            "POST /v1/transactions?wait=certified&timeout_ms=5000 HTTP/1.1"
        );
        assert_eq!(seen[0].1, tx.to_bytes().unwrap());
        assert_eq!(
            seen[3].0,
            "POST /v1/transactions?wait=committed&timeout_ms=60000 HTTP/1.1"
        );
        assert!(seen[4]
            .0
            .starts_with(&format!("GET /v1/anchors/{} ", "01".repeat(32))));
        assert!(seen[6].0.starts_with("GET /v1/registry "));
    }

    #[test]
    fn unreadable_and_unverifiable_answers_are_refused() {
        let (base, server) = fake_server(vec![
            (200, "application/cbor", b"junk".to_vec()),
            (200, "application/cbor", b"junk".to_vec()),
            (200, "application/cbor", b"raw export".to_vec()),
            (404, "application/json", json_error("no-checkpoint", "")),
            (
                200,
                "application/json",
                br#"{"status":"ok","leader":2,"height":7}"#.to_vec(),
            ),
            (200, "application/cbor", b"junk".to_vec()),
            (503, "application/json", json_error("no-quorum", "")),
        ]);
        let client = NodeClient::at(ServerUrl::parse(&base).unwrap(), Duration::from_secs(10));
        assert!(matches!(
            client.anchor_receipt(&Hash32([2; 32])),
            Err(NodeError::BadAnswer {
                cause: BadAnswer::Content(_),
                ..
            })
        ));
        assert!(matches!(
            client.revocations(),
            Err(NodeError::BadAnswer { .. })
        ));
        assert_eq!(client.export_bytes().unwrap(), b"raw export");
        assert_eq!(client.latest_checkpoint().unwrap(), None);
        let health = client.health().unwrap();
        assert_eq!((health.leader, health.height), (Some(2), 7));
        assert!(matches!(
            client.validator_set(),
            Err(NodeError::BadAnswer {
                cause: BadAnswer::Content(_),
                ..
            })
        ));
        assert!(matches!(
            client.validator_set(),
            Err(NodeError::Unavailable { .. })
        ));
        let seen = server.join().unwrap();
        assert!(seen[1].0.starts_with("GET /v1/revocations "));
        assert!(seen[2].0.starts_with("GET /v1/export "));
        assert!(seen[3].0.starts_with("GET /v1/checkpoints/latest "));
        assert!(seen[4].0.starts_with("GET /health "));
        assert!(seen[5].0.starts_with("GET /v1/validators "));
    }

    #[test]
    fn an_absent_node_is_unreachable() {
        let client = NodeClient::new(&dead_address(), Duration::from_secs(2));
        let e = client.registry().unwrap_err();
        assert!(matches!(e, NodeError::Unreachable { .. }), "{e}");
        assert!(
            e.to_string().contains("cannot reach the ledger node"),
            "{e}"
        );
        assert_eq!(e.status(), None);
    }
}

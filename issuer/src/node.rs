//! The ledger node's client API, as the department uses it (`docs/api.md`): submit a
//! transaction, fetch an anchor receipt, fetch the certified export.
//!
//! Nothing a node answers is trusted by this module's callers without a check: anchor
//! receipts are verified against the trust anchor ([`ecert_verifier::verify_anchor_receipt`])
//! before any package is handed out, the export is checked against it like a counter's
//! sync ([`NodeClient::certified_export`]), and so is the revocation state
//! ([`NodeClient::certified_revocations`]).

use std::time::Duration;

use ecert_schemas::codec::from_cbor_bounded;
use ecert_schemas::ledger::{
    AnchorReceipt, BlockHeader, Registry, RevocationDelta, RevocationSnapshot, Transaction,
    TrustBundle, MAX_TRUST_BUNDLE_BYTES,
};
use ecert_schemas::{Hash32, KindRegistry, SchemaError};
use ecert_verifier::{verify_revocation_delta, TrustAnchor, TrustStore, VerifyError};
use serde::Deserialize;
use thiserror::Error;

/// Largest answer read from a node (64 MiB: a long batch list).
const MAX_ANSWER_BYTES: u64 = 64 * 1024 * 1024;

/// Why talking to the ledger node failed.
#[derive(Debug, Error)]
pub enum NodeError {
    /// The node could not be reached or the connection broke.
    #[error("cannot reach the ledger node at {url}: {detail}")]
    Unreachable {
        /// The URL asked.
        url: String,
        /// What went wrong.
        detail: String,
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
    #[error("the ledger is not available now (no leader or no quorum): {0}")]
    Unavailable(String),
    /// Accepted, but not certified in time (HTTP 504): it may still be certified later.
    #[error(
        "the ledger accepted the transaction but did not certify it in time; it may still be \
         certified later: {0}"
    )]
    NotCertifiedInTime(String),
    /// The batch is not anchored (HTTP 404 on an anchor receipt).
    #[error("the ledger has not anchored this batch")]
    NotAnchored,
    /// Anchored, but its block is still collecting votes (HTTP 409).
    #[error("the batch is anchored but its block is not certified yet")]
    NotCertifiedYet,
    /// Any other answer.
    #[error("unexpected answer from the ledger node ({status}): {message}")]
    Unexpected {
        /// The HTTP status.
        status: u16,
        /// The body, or its error message.
        message: String,
    },
    /// The answer is not the structure it should be.
    #[error("the ledger node's answer is not readable: {0}")]
    BadAnswer(String),
    /// The node's export is not certified by the validators of the pinned trust anchor
    /// (a wrong, stale or lying node, or the wrong anchor pinned).
    #[error(
        "the ledger node's data does not verify against the pinned trust anchor ({code}): \
         {source}",
        code = source.code()
    )]
    Unverified {
        /// Why the export was refused.
        source: VerifyError,
    },
}

impl From<SchemaError> for NodeError {
    fn from(e: SchemaError) -> NodeError {
        NodeError::BadAnswer(e.to_string())
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
    fn as_str(self) -> &'static str {
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

#[derive(Deserialize)]
struct ErrorBody {
    error: String,
    #[serde(default)]
    message: String,
}

/// A client of one node's API.
pub struct NodeClient {
    base: String,
    agent: ureq::Agent,
}

impl NodeClient {
    /// A client of the node at `base` (`http://HOST:PORT`), each request limited to
    /// `timeout` in all.
    pub fn new(base: &str, timeout: Duration) -> NodeClient {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .build();
        NodeClient {
            base: base.trim_end_matches('/').to_owned(),
            agent: ureq::Agent::new_with_config(config),
        }
    }

    /// The node's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    fn unreachable(&self, url: &str, e: ureq::Error) -> NodeError {
        NodeError::Unreachable {
            url: url.to_owned(),
            detail: e.to_string(),
        }
    }

    fn read(
        &self,
        url: &str,
        response: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<(u16, Vec<u8>), NodeError> {
        self.read_limited(url, response, MAX_ANSWER_BYTES)
    }

    fn read_limited(
        &self,
        url: &str,
        response: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
        limit: u64,
    ) -> Result<(u16, Vec<u8>), NodeError> {
        let mut response = response.map_err(|e| self.unreachable(url, e))?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(limit)
            .read_to_vec()
            .map_err(|e| self.unreachable(url, e))?;
        Ok((status, body))
    }

    /// Submits a transaction, waiting as asked (`timeout_ms` at most 60 000).
    pub fn submit(
        &self,
        tx: &Transaction,
        wait: Wait,
        timeout_ms: u64,
    ) -> Result<SubmitReceipt, NodeError> {
        let url = format!(
            "{}/v1/transactions?wait={}&timeout_ms={}",
            self.base,
            wait.as_str(),
            timeout_ms.min(60_000)
        );
        let bytes = tx.to_bytes()?;
        let response = self
            .agent
            .post(&url)
            .header("content-type", "application/cbor")
            .send(&bytes[..]);
        let (status, body) = self.read(&url, response)?;
        match status {
            200 => serde_json::from_slice(&body)
                .map_err(|e| NodeError::BadAnswer(format!("submit receipt: {e}"))),
            400 => {
                let (code, message) = error_body(&body);
                Err(NodeError::Refused { code, message })
            }
            503 => Err(NodeError::Unavailable(error_body(&body).1)),
            504 => Err(NodeError::NotCertifiedInTime(error_body(&body).1)),
            other => Err(NodeError::Unexpected {
                status: other,
                message: error_body(&body).1,
            }),
        }
    }

    /// The anchor receipt of the batch with this root (not yet verified).
    pub fn anchor_receipt(&self, root: &Hash32) -> Result<AnchorReceipt, NodeError> {
        let url = format!("{}/v1/anchors/{}", self.base, root.to_hex());
        let response = self.agent.get(&url).call();
        let (status, body) = self.read(&url, response)?;
        match status {
            200 => Ok(AnchorReceipt::from_bytes(&body)?),
            404 => Err(NodeError::NotAnchored),
            409 => Err(NodeError::NotCertifiedYet),
            503 => Err(NodeError::Unavailable(error_body(&body).1)),
            other => Err(NodeError::Unexpected {
                status: other,
                message: error_body(&body).1,
            }),
        }
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
        let mut last = NodeError::NotCertifiedYet;
        for attempt in 0..attempts.max(1) {
            if attempt > 0 {
                std::thread::sleep(pause);
            }
            match self.anchor_receipt(root) {
                Ok(receipt) => return Ok(receipt),
                Err(
                    e @ (NodeError::NotCertifiedYet
                    | NodeError::NotAnchored
                    | NodeError::Unavailable(_)
                    | NodeError::Unreachable { .. }),
                ) => last = e,
                Err(e) => return Err(e),
            }
        }
        Err(last)
    }

    /// The registry as of the node's latest applied block (not certified: used only to
    /// learn the next governance sequence number, which the ledger checks itself).
    pub fn registry(&self) -> Result<Registry, NodeError> {
        self.get_cbor("registry", "/v1/registry")
    }

    /// The node's export (`GET /v1/export`: state and the certified checkpoint of one
    /// height), checked against `anchor` exactly as a counter checks it when it syncs:
    /// whatever the node left out or changed fails the check.
    pub fn certified_export(
        &self,
        anchor: &TrustAnchor,
        kinds: KindRegistry,
    ) -> Result<TrustStore, NodeError> {
        let url = format!("{}/v1/export", self.base);
        let response = self.agent.get(&url).call();
        let (status, body) = self.read_limited(&url, response, MAX_TRUST_BUNDLE_BYTES as u64)?;
        match status {
            200 => {
                let bundle = TrustBundle::from_bytes(&body)?;
                TrustStore::from_bundle(bundle, anchor, kinds)
                    .map_err(|source| NodeError::Unverified { source })
            }
            503 => Err(NodeError::Unavailable(error_body(&body).1)),
            other => Err(NodeError::Unexpected {
                status: other,
                message: error_body(&body).1,
            }),
        }
    }

    /// The whole revocation state as of the node's newest certified header: every
    /// revocation since genesis (`GET /v1/revocations?since=0`), checked against `anchor`
    /// ([`verify_revocation_delta`]). Far smaller than the export: no anchor log.
    pub fn certified_revocations(
        &self,
        anchor: &TrustAnchor,
    ) -> Result<(BlockHeader, RevocationSnapshot), NodeError> {
        let url = format!("{}/v1/revocations?since=0", self.base);
        let response = self.agent.get(&url).call();
        let (status, body) = self.read_limited(&url, response, MAX_TRUST_BUNDLE_BYTES as u64)?;
        match status {
            200 => {
                let delta = RevocationDelta::from_bytes(&body)?;
                let genesis = RevocationSnapshot {
                    height: 0,
                    lists: Vec::new(),
                };
                verify_revocation_delta(&genesis, &delta, anchor)
                    .map_err(|source| NodeError::Unverified { source })
            }
            409 => Err(NodeError::NotCertifiedYet),
            503 => Err(NodeError::Unavailable(error_body(&body).1)),
            other => Err(NodeError::Unexpected {
                status: other,
                message: error_body(&body).1,
            }),
        }
    }

    /// `GET path` answered with a CBOR `what` (200), or the node's error.
    fn get_cbor<T: serde::Serialize + serde::de::DeserializeOwned>(
        &self,
        what: &'static str,
        path: &str,
    ) -> Result<T, NodeError> {
        let url = format!("{}{path}", self.base);
        let response = self.agent.get(&url).call();
        let (status, body) = self.read(&url, response)?;
        match status {
            200 => Ok(from_cbor_bounded(what, &body, MAX_ANSWER_BYTES as usize)?),
            503 => Err(NodeError::Unavailable(error_body(&body).1)),
            other => Err(NodeError::Unexpected {
                status: other,
                message: error_body(&body).1,
            }),
        }
    }
}

/// The `error` code and `message` of a JSON error body, or the body as text.
fn error_body(body: &[u8]) -> (String, String) {
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(e) => (e.error, e.message),
        Err(_) => (
            "unknown".into(),
            String::from_utf8_lossy(body).chars().take(300).collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;

    /// The requests a fake node saw: request line and body.
    type Seen = std::thread::JoinHandle<Vec<(String, Vec<u8>)>>;

    /// A one-connection-per-answer HTTP server answering `answers` in order; returns its
    /// base URL and a handle yielding the requests it saw (request line and body).
    fn fake_node(answers: Vec<(u16, &'static str, Vec<u8>)>) -> (String, Seen) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let handle = std::thread::spawn(move || {
            let mut seen = Vec::new();
            for (status, ctype, body) in answers {
                let (stream, _) = listener.accept().unwrap();
                let mut reader = BufReader::new(stream);
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                let mut length = 0usize;
                loop {
                    let mut h = String::new();
                    reader.read_line(&mut h).unwrap();
                    if h == "\r\n" || h.is_empty() {
                        break;
                    }
                    if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap();
                    }
                }
                let mut req_body = vec![0; length];
                reader.read_exact(&mut req_body).unwrap();
                seen.push((line.trim().to_owned(), req_body));
                let mut stream = reader.into_inner();
                write!(
                    stream,
                    "HTTP/1.1 {status} X\r\ncontent-type: {ctype}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                )
                .unwrap();
                stream.write_all(&body).unwrap();
            }
            seen
        });
        (base, handle)
    }

    #[test]
    fn submit_maps_the_documented_answers() {
        let tx_bytes = {
            use ecert_schemas::ledger::{RevocationBody, RevocationTx};
            use ecert_schemas::IssuerId;
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
        };
        let (base, server) = fake_node(vec![
            (
                200,
                "application/json",
                br#"{"tx_hash":"ab","status":"certified","height":3,"batch_seq":null}"#.to_vec(),
            ),
            (
                400,
                "application/json",
                br#"{"error":"transaction-refused","message":"replayed root"}"#.to_vec(),
            ),
            (
                503,
                "application/json",
                br#"{"error":"no-quorum","message":"x"}"#.to_vec(),
            ),
            (
                409,
                "application/json",
                br#"{"error":"not-certified-yet","message":""}"#.to_vec(),
            ),
            (
                404,
                "application/json",
                br#"{"error":"not-anchored","message":""}"#.to_vec(),
            ),
        ]);
        let client = NodeClient::new(&base, Duration::from_secs(10));
        let receipt = client.submit(&tx_bytes, Wait::Certified, 5000).unwrap();
        assert_eq!(receipt.height, Some(3));
        assert!(matches!(
            client.submit(&tx_bytes, Wait::Certified, 5000),
            Err(NodeError::Refused { code, .. }) if code == "transaction-refused"
        ));
        assert!(matches!(
            client.submit(&tx_bytes, Wait::None, 5000),
            Err(NodeError::Unavailable(_))
        ));
        assert!(matches!(
            client.anchor_receipt(&Hash32([1; 32])),
            Err(NodeError::NotCertifiedYet)
        ));
        assert!(matches!(
            client.anchor_receipt(&Hash32([1; 32])),
            Err(NodeError::NotAnchored)
        ));
        let seen = server.join().unwrap();
        assert_eq!(
            seen[0].0,
            "POST /v1/transactions?wait=certified&timeout_ms=5000 HTTP/1.1"
        );
        assert_eq!(seen[0].1, tx_bytes.to_bytes().unwrap());
        assert!(seen[3]
            .0
            .starts_with(&format!("GET /v1/anchors/{} ", "01".repeat(32))));
    }

    #[test]
    fn an_absent_node_is_unreachable() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        drop(listener);
        let client = NodeClient::new(&base, Duration::from_secs(2));
        assert!(matches!(
            client.registry(),
            Err(NodeError::Unreachable { .. })
        ));
    }
}

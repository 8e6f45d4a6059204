//! One fake ledger node for every tool's tests: the client API of `docs/api.md` served
//! by [`crate::http::Server`] on the real [`LedgerState`], each accepted transaction
//! applied in a block of its own and certified by every validator's vote.
//!
//! Honest by default; [`FakeNode::lie`] makes it lie in one of the ways a tool must
//! catch ([`Lie`]). A node serving stale data is [`FakeNode::serving`] a province that
//! has moved on since; an impostor is one serving another province (same chain name,
//! other validators).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use ecert_issuer::IssuerKey;
use ecert_ledger_node::state::{LedgerState, TxOutcome};
use ecert_schemas::codec::to_cbor;
use ecert_schemas::freshness::Freshness;
use ecert_schemas::ledger::{
    BatchRecord, BlockHeader, Checkpoint, IssuerKeyRecord, IssuerRecord, Registry, Transaction,
    TrustBundle,
};
use ecert_schemas::{
    ChainId, Hash32, IssuerId, KeyId, Kind, KindId, KindRegistry, PublicKeyBytes, UnixTime,
};
use ecert_verifier::{TrustAnchor, TrustStore, VerifyError};
use ed25519_dalek::SigningKey;
use rand_core::OsRng;

use crate::http::{Reply, Request, Server};
use crate::province::{certified_by, stated_fresh, Province};

/// How a fake node lies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Lie {
    /// It does not.
    #[default]
    Honest,
    /// Its export (`GET /v1/export`) leaves out the newest batch.
    HideNewestBatch,
    /// It answers "certified" to revocations and drops them.
    DropRevocations,
    /// Its revocation deltas (`GET /v1/revocations?since=H`) list no revocation.
    EmptyRevocationDelta,
    /// Its anchor receipts carry one validator's vote only.
    UnderSignedReceipts,
    /// Every answer is `200` with a body that is nothing at all (`not a bundle`).
    Junk,
    /// No quorum reachable and no data: batch lookups are answered `404 not-anchored`,
    /// everything else `503 no-quorum` ("no quorum reachable").
    NoQuorum,
}

struct Ledger {
    state: LedgerState,
    validator_keys: Vec<SigningKey>,
    checkpoint: Option<Checkpoint>,
    /// The header of every checkpoint it served, by height (for `GET /v1/updates`).
    headers: BTreeMap<u64, BlockHeader>,
    received: Vec<Transaction>,
    clock_ms: u64,
    lie: Lie,
    /// Freshness statements served: how many validators (the first ones) state, and when.
    freshness: Option<(usize, UnixTime)>,
}

impl Ledger {
    /// Applies `tx` in a block of its own, certified by every validator.
    fn apply(&mut self, tx: &Transaction) -> Result<TxOutcome, VerifyError> {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        self.clock_ms = now_ms.max(self.clock_ms + 1).max(self.state.last_time_ms());
        self.state.check(tx, self.clock_ms)?;
        let block = self
            .state
            .apply_block(std::slice::from_ref(tx), self.clock_ms)
            .unwrap();
        self.checkpoint = certified_by(&self.validator_keys, &block.header_bytes);
        self.remember_header();
        Ok(block.outcomes[0].clone())
    }

    fn answer(&mut self, request: &Request) -> Reply {
        let path = request.path();
        match self.lie {
            Lie::Junk => return Reply::cbor(b"not a bundle".to_vec()),
            Lie::NoQuorum if path.starts_with("/v1/anchors/") => {
                return Reply::error(404, "not-anchored", "unknown batch")
            }
            Lie::NoQuorum => return Reply::error(503, "no-quorum", "no quorum reachable"),
            _ => {}
        }
        match (request.method.as_str(), path) {
            ("POST", "/v1/transactions") => self.submit(&request.body),
            ("GET", p) if p.starts_with("/v1/anchors/") => self
                .receipt(p.trim_start_matches("/v1/anchors/"))
                .unwrap_or_else(|refusal| refusal),
            ("GET", "/v1/revocations") => match request.query("since") {
                None => Reply::cbor(to_cbor(&self.state.revocation_snapshot()).unwrap()),
                Some(since) => self.delta(since).unwrap_or_else(|refusal| refusal),
            },
            ("GET", "/v1/updates") => self.update(request.query("since").unwrap_or_default()),
            ("GET", "/v1/export") => {
                let Some(mut bundle) = self.bundle() else {
                    return Reply::error(503, "no-checkpoint", "nothing certified yet");
                };
                if self.lie == Lie::HideNewestBatch {
                    bundle.anchors.pop();
                }
                Reply::cbor(bundle.to_bytes().unwrap())
            }
            ("GET", "/v1/checkpoints/latest") => match &self.checkpoint {
                Some(c) => Reply::cbor(to_cbor(c).unwrap()),
                None => Reply::error(404, "no-checkpoint", "nothing certified yet"),
            },
            ("GET", "/v1/registry") => Reply::cbor(to_cbor(self.state.registry()).unwrap()),
            ("GET", "/v1/freshness") => match self.freshness() {
                Some(freshness) => Reply::cbor(freshness.to_bytes().unwrap()),
                None => Reply::error(404, "not-found", "no such path"),
            },
            ("GET", "/health") => Reply::json(&serde_json::json!({
                "status": "ok", "node": 0, "department": "test", "role": "leader",
                "leader": 0, "height": self.state.height(),
                "certified_height": self.certified_height(), "peers": 3,
            })),
            _ => Reply::error(404, "not-found", "no such path"),
        }
    }

    fn submit(&mut self, body: &[u8]) -> Reply {
        let Ok(tx) = Transaction::from_bytes(body) else {
            return Reply::error(400, "malformed", "not a transaction");
        };
        self.received.push(tx.clone());
        let applied =
            if self.lie == Lie::DropRevocations && matches!(tx, Transaction::Revocation(_)) {
                Ok(TxOutcome::Revoked { newly_revoked: 1 })
            } else {
                self.apply(&tx)
            };
        match applied {
            Err(e) => Reply::error(400, e.code(), &e.to_string()),
            Ok(outcome) => {
                let batch_seq = match outcome {
                    TxOutcome::Anchored { batch_seq } => Some(batch_seq),
                    _ => None,
                };
                Reply::json(&serde_json::json!({
                    "tx_hash": ecert_verifier::commit::transaction_hash(body).to_hex(),
                    "status": "certified",
                    "height": self.state.height(),
                    "batch_seq": batch_seq,
                }))
            }
        }
    }

    /// `GET /v1/anchors/{root}`: the batch's anchor receipt.
    fn receipt(&self, root: &str) -> Result<Reply, Reply> {
        let root = Hash32::from_hex(root)
            .map_err(|_| Reply::error(400, "malformed", "not a batch root"))?;
        let seq = self
            .state
            .batch_seq_of(&root)
            .ok_or_else(|| Reply::error(404, "not-anchored", "unknown batch"))?;
        let mut receipt = self.certified("still collecting votes", |c| {
            self.state.anchor_receipt(seq, c, Vec::new()).unwrap()
        })?;
        if self.lie == Lie::UnderSignedReceipts {
            receipt.checkpoint.votes.truncate(1);
        }
        Ok(Reply::cbor(receipt.to_bytes().unwrap()))
    }

    /// Keeps the newest checkpoint's header.
    fn remember_header(&mut self) {
        if let Some(header) = self
            .checkpoint
            .as_ref()
            .and_then(|c| c.decode_header().ok())
        {
            self.headers.insert(header.height, header);
        }
    }

    /// `GET /v1/updates?since={height}`: what changed after the header of that height
    /// (`404` for a header it never served; with [`Lie::HideNewestBatch`], the newest
    /// batch left out).
    fn update(&self, since: &str) -> Reply {
        let Ok(since) = since.parse::<u64>() else {
            return Reply::error(400, "bad-query", "since is not a height");
        };
        let Some(held) = self.headers.get(&since) else {
            return Reply::error(404, "no-checkpoint", "no checkpoint of that block here");
        };
        let update = self
            .checkpoint
            .clone()
            .and_then(|c| self.state.trust_update(held, c, Vec::new()));
        match update {
            Some(mut update) => {
                if self.lie == Lie::HideNewestBatch {
                    update.anchors.pop();
                }
                Reply::cbor(update.to_bytes().unwrap())
            }
            None => Reply::error(409, "not-certified-yet", "not applied here yet"),
        }
    }

    /// `GET /v1/revocations?since={height}`: the revocations after that height.
    fn delta(&self, since: &str) -> Result<Reply, Reply> {
        let since = since
            .parse()
            .map_err(|_| Reply::error(400, "malformed", "since is not a height"))?;
        let mut delta = self.certified("not certified yet", |c| {
            self.state.revocation_delta(since, c, Vec::new()).unwrap()
        })?;
        if self.lie == Lie::EmptyRevocationDelta {
            delta.entries.clear();
        }
        Ok(Reply::cbor(delta.to_bytes().unwrap()))
    }

    /// What `proof` makes of the newest checkpoint; `409 not-certified-yet` (saying
    /// `detail`) while nothing, or not what was asked, is certified.
    fn certified<T>(
        &self,
        detail: &str,
        proof: impl FnOnce(&Checkpoint) -> Option<T>,
    ) -> Result<T, Reply> {
        self.checkpoint
            .as_ref()
            .and_then(proof)
            .ok_or_else(|| Reply::error(409, "not-certified-yet", detail))
    }

    /// The statements of the first validators about the newest checkpoint, as set with
    /// [`FakeNode::state_freshness`].
    fn freshness(&self) -> Option<Freshness> {
        let (signers, time) = self.freshness?;
        stated_fresh(
            &self.validator_keys,
            self.checkpoint.as_ref()?,
            signers,
            time,
        )
    }

    fn bundle(&self) -> Option<TrustBundle> {
        Some(
            self.state
                .trust_bundle(self.checkpoint.clone()?, Vec::new()),
        )
    }

    fn certified_height(&self) -> Option<u64> {
        Some(self.checkpoint.as_ref()?.decode_header().ok()?.height)
    }
}

/// A fake ledger node on a loopback port.
pub struct FakeNode {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    server: Server,
    ledger: Arc<Mutex<Ledger>>,
    other_key: Option<IssuerKey>,
}

impl FakeNode {
    /// Serves `state`, whose blocks `validator_keys` certify, with `checkpoint` the newest
    /// certified one so far.
    pub fn start(
        state: LedgerState,
        validator_keys: Vec<SigningKey>,
        checkpoint: Option<Checkpoint>,
    ) -> FakeNode {
        let mut ledger = Ledger {
            clock_ms: state.last_time_ms(),
            state,
            validator_keys,
            checkpoint,
            headers: BTreeMap::new(),
            received: Vec::new(),
            lie: Lie::Honest,
            freshness: None,
        };
        ledger.remember_header();
        let ledger = Arc::new(Mutex::new(ledger));
        let shared = Arc::clone(&ledger);
        let server = Server::start(move |request| shared.lock().unwrap().answer(request));
        FakeNode {
            url: server.url.clone(),
            server,
            ledger,
            other_key: None,
        }
    }

    /// Serves a copy of `province`'s ledger as it is now (what it certifies later is not
    /// seen: a node serving stale data once the province moves on).
    pub fn serving(province: &Province) -> FakeNode {
        FakeNode::start(
            province.ledger().clone(),
            province.validator_keys(),
            province.checkpoint().ok().cloned(),
        )
    }

    /// A new ledger `chain` of a new province's four validators whose genesis registers
    /// only department `issuer`, for `kinds`, with `key` and with a second key of its own
    /// ([`FakeNode::other_key`]: someone else's copy), both valid since 1970.
    pub fn for_issuer(chain: &str, issuer: &str, key: &PublicKeyBytes, kinds: &[&str]) -> FakeNode {
        let issuer_id = IssuerId::new(issuer).unwrap();
        let other_key = IssuerKey::generate(issuer_id.clone(), &mut OsRng);
        let validators = Province::new(chain, UnixTime(0), &mut OsRng).unwrap();
        let record = |key: PublicKeyBytes| IssuerKeyRecord {
            key_id: KeyId::of(&key),
            key,
            valid_from: UnixTime(0),
            valid_until: None,
        };
        let mut keys = vec![record(*key), record(other_key.public_key())];
        keys.sort_by_key(|k| k.key_id);
        let registry = Registry {
            issuers: vec![IssuerRecord {
                issuer: issuer_id,
                name: "Test department".into(),
                kinds: kinds.iter().map(|k| KindId::new(*k).unwrap()).collect(),
                keys,
            }],
            kinds: KindRegistry::builtin()
                .unwrap()
                .iter()
                .map(Kind::record)
                .collect(),
            governance_seq: 0,
        };
        let state = LedgerState::genesis(
            ChainId::new(chain).unwrap(),
            validators.ledger().validators().to_vec(),
            registry,
        )
        .unwrap();
        let mut node = FakeNode::start(state, validators.validator_keys(), None);
        node.other_key = Some(other_key);
        node
    }

    fn ledger(&self) -> MutexGuard<'_, Ledger> {
        self.ledger.lock().unwrap()
    }

    /// From now on, lies this way ([`Lie::Honest`] to stop).
    pub fn lie(&self, lie: Lie) {
        self.ledger().lie = lie;
    }

    /// From now on, serves `GET /v1/freshness`: the first `signers` validators state at
    /// `time` that the newest checkpoint is still the newest (before: `404`, as a node
    /// without freshness).
    pub fn state_freshness(&self, signers: usize, time: UnixTime) {
        self.ledger().freshness = Some((signers, time));
    }

    /// The second key of [`FakeNode::for_issuer`]'s department.
    pub fn other_key(&self) -> &IssuerKey {
        self.other_key
            .as_ref()
            .expect("only FakeNode::for_issuer registers a second key")
    }

    /// Validator `i`'s key (to approve governance changes).
    pub fn validator_key(&self, i: usize) -> SigningKey {
        self.ledger().validator_keys[i].clone()
    }

    /// The ledger's chain id.
    pub fn chain_id(&self) -> ChainId {
        self.ledger().state.chain_id().clone()
    }

    /// Applies `tx` in a certified block, as if someone else had submitted it.
    pub fn apply(&self, tx: &Transaction) -> Result<TxOutcome, VerifyError> {
        self.ledger().apply(tx)
    }

    /// Every transaction submitted to it, accepted or not.
    pub fn received(&self) -> Vec<Transaction> {
        self.ledger().received.clone()
    }

    /// Every HTTP request it answered.
    pub fn requests(&self) -> Vec<Request> {
        self.server.requests()
    }

    /// The anchor log.
    pub fn anchors(&self) -> Vec<BatchRecord> {
        self.ledger().state.anchors().to_vec()
    }

    /// The registry now.
    pub fn registry(&self) -> Registry {
        self.ledger().state.registry().clone()
    }

    /// Its trust anchor: chain id and the genesis validator set's hash.
    pub fn trust_anchor(&self) -> TrustAnchor {
        let ledger = self.ledger();
        TrustAnchor::new(ledger.state.chain_id().clone(), ledger.state.validators()).unwrap()
    }

    /// Its trust anchor as a file's text.
    pub fn anchor_toml(&self) -> String {
        ecert_verifier::anchor_file::anchor_to_toml(&self.trust_anchor(), "test ledger")
    }

    /// A counter's trust store synced with its newest certified state.
    pub fn sync_counter(&self) -> TrustStore {
        let bundle = self.ledger().bundle().expect("nothing certified yet");
        TrustStore::from_bundle(
            bundle,
            &self.trust_anchor(),
            KindRegistry::builtin().unwrap(),
        )
        .unwrap()
    }
}

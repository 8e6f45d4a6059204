//! The clients of a run: issuers anchoring batches and revoking certificates through
//! random nodes with `wait=certified`, each operation recorded with its invocation,
//! completion and outcome.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ecert_issuer::{revocation_transaction, IssuerKey};
use ecert_schemas::ledger::{RevocationEntry, RevocationReason, Transaction};
use ecert_schemas::{ChainId, Hash32, IssuerId, KindId, StatusIndex, UnixTime};

use super::record::{wall_ms, Op, OpKind, OpOutcome, Recorder};
use super::rng::Rng;
use crate::http::Http;
use crate::load::anchor_transaction;
use crate::TestnetError;

/// Where the status indexes the revocation clients revoke at random start: far above
/// the few certificates the run really issues.
pub const FILLER_INDEX_START: u32 = 100_000;

/// An issuing department as the clients use it.
pub struct Issuer<'a> {
    /// Its key.
    pub key: &'a IssuerKey,
    /// A kind it is entitled to.
    pub kind: KindId,
}

/// What every client shares.
#[derive(Clone)]
pub struct Clients<'a> {
    /// The nodes' API base URLs.
    pub urls: &'a [String],
    /// The client used for submissions (its timeout above `timeout_ms`).
    pub http: Http,
    /// The ledger.
    pub chain_id: ChainId,
    /// How long a submission asks the node to wait for certification.
    pub timeout_ms: u64,
    /// Where operations go.
    pub recorder: &'a Recorder,
    /// Set when the run is over.
    pub stop: &'a AtomicBool,
}

/// Sends `tx` to node `node` with `wait=certified`: how it ended.
pub fn submit(clients: &Clients<'_>, node: usize, tx: &[u8]) -> OpOutcome {
    let Some(url) = clients.urls.get(node) else {
        return OpOutcome::Unknown {
            detail: format!("no node {node}"),
        };
    };
    let reply = clients.http.post_cbor(
        &format!(
            "{url}/v1/transactions?wait=certified&timeout_ms={}",
            clients.timeout_ms
        ),
        tx,
    );
    match reply {
        Err(e) => OpOutcome::Unknown {
            detail: e.to_string(),
        },
        Ok(reply) if reply.status == 200 => {
            let json = reply.json();
            let number = |key: &str| json.get(key).and_then(serde_json::Value::as_u64);
            match (
                json.get("status").and_then(|s| s.as_str()),
                number("height"),
            ) {
                (Some("certified"), Some(height)) => OpOutcome::Certified {
                    height,
                    batch_seq: number("batch_seq"),
                },
                _ => OpOutcome::Unknown {
                    detail: format!("200 without a certified height: {json}"),
                },
            }
        }
        // Refused by the ledger's checks, or before it was admitted: never applied.
        Ok(reply) if reply.status == 400 || reply.status == 429 => OpOutcome::Refused {
            code: reply
                .error_code()
                .unwrap_or_else(|| reply.status.to_string()),
        },
        Ok(reply) => OpOutcome::Unknown {
            detail: format!(
                "{} {}",
                reply.status,
                reply.error_code().unwrap_or_default()
            ),
        },
    }
}

/// Submits `tx` (asking for `kind`) to a random node and records the operation.
pub fn record_submission(
    clients: &Clients<'_>,
    client: usize,
    rng: &mut Rng,
    kind: OpKind,
    tx: &[u8],
) -> OpOutcome {
    let node = rng.index(clients.urls.len());
    let invoked_ms = wall_ms();
    let outcome = submit(clients, node, tx);
    clients.recorder.op(Op {
        client,
        node,
        kind,
        invoked_ms,
        completed_ms: wall_ms(),
        outcome: outcome.clone(),
    });
    outcome
}

/// Sleeps `ms` milliseconds, or less when the run ends.
pub fn pause(stop: &AtomicBool, ms: u64) {
    let until = Instant::now() + Duration::from_millis(ms);
    while !stop.load(Ordering::Relaxed) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20).min(until - Instant::now()));
    }
}

/// The batch root of an encoded anchor transaction.
fn batch_root(tx: &[u8]) -> Result<Hash32, TestnetError> {
    match Transaction::from_bytes(tx)? {
        Transaction::AnchorBatch(a) => Ok(a.body.batch_root),
        _ => Err(TestnetError::local("anchor client", "not an anchor batch")),
    }
}

/// An anchoring client: batches of 1 to 8 random certificate hashes, each department in
/// turn, through random nodes, until the run ends.
pub fn anchor_client(
    clients: &Clients<'_>,
    client: usize,
    issuers: &[Issuer<'_>],
    seed: u64,
) -> Result<(), TestnetError> {
    let mut rng = Rng::new(seed);
    let mut turn = client;
    while !clients.stop.load(Ordering::Relaxed) {
        turn += 1;
        let Some(issuer) = issuers.get(turn % issuers.len().max(1)) else {
            return Ok(());
        };
        let size = rng.between(1, 8);
        let tx = anchor_transaction(&clients.chain_id, issuer.key, &issuer.kind, size)?;
        let kind = OpKind::Anchor {
            issuer: issuer.key.issuer().clone(),
            root: batch_root(&tx)?,
        };
        let outcome = record_submission(clients, client, &mut rng, kind, &tx);
        let wait = match outcome {
            OpOutcome::Certified { .. } => rng.below(50),
            _ => 200 + rng.below(200),
        };
        pause(clients.stop, wait);
    }
    Ok(())
}

/// A certificate to revoke at a time in the run.
#[derive(Clone, Debug)]
pub struct Planned {
    /// When, counted from the start of the run.
    pub after: Duration,
    /// The issuer.
    pub issuer: IssuerId,
    /// Its copies' status indexes, revoked together in one transaction.
    pub indexes: Vec<StatusIndex>,
}

/// A signed revocation of `indexes` by `key`, now.
fn revocation(
    clients: &Clients<'_>,
    key: &IssuerKey,
    indexes: &[StatusIndex],
) -> Result<Vec<u8>, TestnetError> {
    let entries = indexes
        .iter()
        .map(|&index| RevocationEntry {
            index,
            reason: RevocationReason::Superseded,
        })
        .collect();
    let now = UnixTime(wall_ms() / 1000);
    let tx = revocation_transaction(key, &clients.chain_id, entries, now)?;
    Ok(Transaction::Revocation(tx).to_bytes()?)
}

/// The revocation client: revokes 1 to 3 fresh status indexes of a random department
/// at a time, and each planned certificate (all its copies' indexes) when its time comes
/// (again, with a new transaction, until one is acknowledged as certified).
pub fn revocation_client(
    clients: &Clients<'_>,
    client: usize,
    issuers: &[Issuer<'_>],
    mut plan: Vec<Planned>,
    seed: u64,
) -> Result<(), TestnetError> {
    let mut rng = Rng::new(seed);
    let started = Instant::now();
    plan.sort_by_key(|p| p.after);
    let mut plan = plan.into_iter().peekable();
    let mut next_filler = FILLER_INDEX_START;
    while !clients.stop.load(Ordering::Relaxed) {
        if let Some(due) = plan.next_if(|p| started.elapsed() >= p.after) {
            let key = issuers
                .iter()
                .map(|i| i.key)
                .find(|k| k.issuer() == &due.issuer)
                .ok_or_else(|| TestnetError::UnknownDepartment(due.issuer.to_string()))?;
            while !clients.stop.load(Ordering::Relaxed) {
                let tx = revocation(clients, key, &due.indexes)?;
                let kind = OpKind::Revoke {
                    issuer: due.issuer.clone(),
                    indexes: due.indexes.clone(),
                };
                let outcome = record_submission(clients, client, &mut rng, kind, &tx);
                if matches!(outcome, OpOutcome::Certified { .. }) {
                    break;
                }
                pause(clients.stop, 300);
            }
            continue;
        }
        let Some(issuer) = issuers.get(rng.index(issuers.len())) else {
            return Ok(());
        };
        let count = u32::try_from(rng.between(1, 3)).unwrap_or(1);
        let indexes: Vec<StatusIndex> = (next_filler..next_filler + count)
            .map(StatusIndex)
            .collect();
        next_filler += count;
        let tx = revocation(clients, issuer.key, &indexes)?;
        let kind = OpKind::Revoke {
            issuer: issuer.key.issuer().clone(),
            indexes,
        };
        let outcome = record_submission(clients, client, &mut rng, kind, &tx);
        let wait = match outcome {
            OpOutcome::Certified { .. } => 100 + rng.below(150),
            _ => 300 + rng.below(200),
        };
        pause(clients.stop, wait);
    }
    Ok(())
}

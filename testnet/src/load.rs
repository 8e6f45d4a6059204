//! The load generator: issuers anchoring batches against a running network, measuring
//! certificates anchored per second and the latency from submission to a certified block.
//!
//! Each client thread builds a batch root over `batch_size` certificate hashes, signs the
//! anchor transaction with a real issuer key, submits it with `wait=certified` to the
//! nodes in turn, and records how long the certified answer took. The certificates
//! themselves are not signed here (that cost is the issuer's, measured by
//! `cargo bench -p ecert-issuer`); the ledger only ever sees the root and the count.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ecert_issuer::{sign_anchor_body, IssuerKey};
use ecert_schemas::ledger::{AnchorBatchBody, Transaction};
use ecert_schemas::{ChainId, Hash32, KindId};
use ecert_verifier::merkle::{leaf_hash, root_of};
use rand_core::{OsRng, RngCore};

use crate::http::Http;
use crate::TestnetError;

/// What to run.
pub struct LoadOptions {
    /// The nodes' API base URLs (submissions go to them in turn).
    pub urls: Vec<String>,
    /// The chain id.
    pub chain_id: ChainId,
    /// Issuer keys and a kind each is entitled to.
    pub issuers: Vec<(IssuerKey, KindId)>,
    /// How long to run.
    pub duration: Duration,
    /// Certificates per batch.
    pub batch_size: u64,
    /// Concurrent clients.
    pub clients: usize,
    /// The clients' connection policy (the network's CA pinned).
    pub transport: ecert_client::Transport,
}

/// What was measured.
#[derive(Debug, Clone, Default)]
pub struct LoadReport {
    /// Batches certified.
    pub batches: u64,
    /// Certificates in those batches.
    pub certificates: u64,
    /// Submissions that failed (refused, timed out, unreachable).
    pub failures: u64,
    /// Encoded bytes of the certified transactions.
    pub tx_bytes: u64,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// Submission-to-certified latency of each certified batch, sorted.
    pub latencies: Vec<Duration>,
}

impl LoadReport {
    /// Certificates anchored per second.
    pub fn certificates_per_second(&self) -> f64 {
        self.certificates as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The `p`-th percentile latency (`p` in 0..=100).
    pub fn percentile(&self, p: f64) -> Option<Duration> {
        if self.latencies.is_empty() {
            return None;
        }
        let rank = ((p / 100.0) * (self.latencies.len() - 1) as f64).round() as usize;
        self.latencies
            .get(rank.min(self.latencies.len() - 1))
            .copied()
    }
}

fn random_root(size: u64) -> Hash32 {
    let mut leaves = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    let mut cert = [0u8; 32];
    for _ in 0..size {
        OsRng.fill_bytes(&mut cert);
        leaves.push(leaf_hash(&cert));
    }
    root_of(&leaves)
}

/// A signed anchor transaction (encoded) for a batch of `batch_size` random certificate
/// hashes by `key`, of `kind`.
pub fn anchor_transaction(
    chain_id: &ChainId,
    key: &IssuerKey,
    kind: &KindId,
    batch_size: u64,
) -> Result<Vec<u8>, TestnetError> {
    let body = AnchorBatchBody {
        chain_id: chain_id.clone(),
        issuer: key.issuer().clone(),
        key_id: key.key_id(),
        kinds: vec![kind.clone()],
        batch_root: random_root(batch_size),
        count: batch_size,
    };
    Ok(Transaction::AnchorBatch(sign_anchor_body(key, body)?).to_bytes()?)
}

/// Runs the load; `progress` is called about once a second with the certificates
/// anchored so far.
pub fn run(
    options: LoadOptions,
    progress: impl Fn(u64) + Send + Sync,
) -> Result<LoadReport, TestnetError> {
    if options.urls.is_empty() || options.issuers.is_empty() || options.clients == 0 {
        return Err(TestnetError::local(
            "load",
            "needs at least one node, one issuer and one client",
        ));
    }
    let report = Mutex::new(LoadReport::default());
    let certificates = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let started = Instant::now();
    let deadline = started + options.duration;
    let options = Arc::new(options);
    std::thread::scope(|scope| {
        for client in 0..options.clients {
            let options = options.clone();
            let (report, certificates, stop) = (&report, &certificates, &stop);
            scope.spawn(move || {
                let http = Http::with_transport(
                    concat!("ecert-testnet/", env!("CARGO_PKG_VERSION")),
                    Duration::from_secs(30),
                    &options.transport,
                );
                let mut turn = client;
                while Instant::now() < deadline && !stop.load(Ordering::Relaxed) {
                    turn += 1;
                    let Some((key, kind)) = options.issuers.get(turn % options.issuers.len())
                    else {
                        return;
                    };
                    let Ok(tx) =
                        anchor_transaction(&options.chain_id, key, kind, options.batch_size)
                    else {
                        stop.store(true, Ordering::Relaxed);
                        return;
                    };
                    let Some(url) = options.urls.get(turn % options.urls.len()) else {
                        return;
                    };
                    let sent = Instant::now();
                    let reply = http.post_cbor(
                        &format!("{url}/v1/transactions?wait=certified&timeout_ms=30000"),
                        &tx,
                    );
                    let latency = sent.elapsed();
                    let Ok(mut r) = report.lock() else { return };
                    match reply {
                        Ok(reply) if reply.status == 200 => {
                            r.batches += 1;
                            r.certificates += options.batch_size;
                            r.tx_bytes += tx.len() as u64;
                            r.latencies.push(latency);
                            certificates.fetch_add(options.batch_size, Ordering::Relaxed);
                        }
                        _ => r.failures += 1,
                    }
                }
            });
        }
        let mut next = Instant::now() + Duration::from_secs(1);
        while Instant::now() < deadline && !stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(50));
            if Instant::now() >= next {
                progress(certificates.load(Ordering::Relaxed));
                next += Duration::from_secs(1);
            }
        }
    });
    let mut report = report
        .into_inner()
        .map_err(|_| TestnetError::local("load", "a client thread failed"))?;
    report.elapsed = started.elapsed();
    report.latencies.sort();
    Ok(report)
}

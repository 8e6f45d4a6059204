//! The counters of a run: each keeps a verified trust store, brings it up to date from a
//! random node now and then (incrementally with `GET /v1/updates?since=H` and
//! `TrustStore::apply_update`, or with a full export when the node cannot serve that),
//! applies the validators' freshness statements, and checks a fresh presentation of every
//! presentable certificate (another of its one-time copies each round), recording what it
//! said and what its data was.

use std::sync::atomic::Ordering;

use ecert_client::{NodeClient, NodeError};
use ecert_schemas::address::ServerUrl;
use ecert_schemas::ledger::{TrustBundle, TrustUpdate};
use ecert_schemas::{KindRegistry, UnixTime};
use ecert_verifier::{verify_presentation, Policy, TrustAnchor, TrustStore, VerifyError};
use ecert_wallet::HolderKey;

use super::certs::{present, Presentable};
use super::record::{wall_ms, Check, Refusal, Sync, SyncKind, Verdict};
use super::rng::Rng;
use super::workload::{pause, Clients};
use crate::province::Province;
use crate::TestnetError;

/// What the counters share beyond the clients' context.
pub struct CounterSetup<'a> {
    /// The trust anchor every counter pins.
    pub anchor: &'a TrustAnchor,
    /// The kinds it knows.
    pub kinds: &'a KindRegistry,
    /// The wallet showing the certificates.
    pub holder: &'a HolderKey,
    /// The province (its kinds, for the wallet).
    pub province: &'a Province,
    /// The certificates shown.
    pub certs: &'a [Presentable],
}

/// Why one sync attempt did not give newer data.
enum Miss {
    /// The node could not be asked, or cannot serve it now: normal under faults.
    Unavailable,
    /// The node served data the counter refused.
    Refused(String),
}

fn from_node(e: &NodeError) -> Miss {
    match e {
        NodeError::BadAnswer { .. } | NodeError::Unverified { .. } => Miss::Refused(e.to_string()),
        _ => Miss::Unavailable,
    }
}

fn refused(e: &VerifyError) -> Miss {
    Miss::Refused(format!("{}: {e}", e.code()))
}

/// Brings `held` up to `node`'s newest certified header: the new store and how.
fn sync_once(
    client: &NodeClient,
    setup: &CounterSetup<'_>,
    held: Option<&TrustStore>,
) -> Result<(TrustStore, SyncKind), Miss> {
    if let Some(held) = held {
        match client.update_bytes(held.header().height) {
            Ok(Some(bytes)) => {
                let update =
                    TrustUpdate::from_bytes(&bytes).map_err(|e| refused(&VerifyError::from(e)))?;
                let store = held
                    .apply_update(&update, setup.anchor)
                    .map_err(|e| refused(&e))?;
                return Ok((store, SyncKind::Update));
            }
            // The node lacks the held header's checkpoint (it joined from a snapshot).
            Ok(None) => {}
            // The node is behind this counter: nothing newer there.
            Err(NodeError::NotCertifiedYet) => return Err(Miss::Unavailable),
            Err(e) => return Err(from_node(&e)),
        }
    }
    let bytes = client.export_bytes().map_err(|e| from_node(&e))?;
    let bundle = TrustBundle::from_bytes(&bytes).map_err(|e| refused(&VerifyError::from(e)))?;
    let store = TrustStore::from_bundle(bundle, setup.anchor, setup.kinds.clone())
        .map_err(|e| refused(&e))?;
    if let Some(held) = held {
        let (old, new) = (held.header().height, store.header().height);
        if new == old && store.header_hash() != held.header_hash() {
            return Err(Miss::Refused(format!(
                "the export certifies another block #{new} than the one held"
            )));
        }
        if new < old {
            // A lagging node's older data: the counter keeps what it has.
            return Err(Miss::Unavailable);
        }
    }
    Ok((store, SyncKind::Export))
}

/// The verdict of `result`.
fn verdict(result: &Result<ecert_verifier::Verdict, VerifyError>) -> Verdict {
    match result {
        Ok(_) => Verdict::Valid,
        Err(VerifyError::Revoked { .. }) => Verdict::Revoked,
        Err(e) => Verdict::Refused(e.code().to_owned()),
    }
}

/// Runs counter `counter` until the run ends.
pub fn counter(
    clients: &Clients<'_>,
    setup: &CounterSetup<'_>,
    counter: usize,
    seed: u64,
) -> Result<(), TestnetError> {
    let mut rng = Rng::new(seed);
    let mut store: Option<TrustStore> = None;
    let policy = Policy::default();
    // Each round shows the next copy of every certificate; counters start apart.
    let mut round = counter;
    while !clients.stop.load(Ordering::Relaxed) {
        let node = rng.index(clients.urls.len());
        let Some(url) = clients.urls.get(node) else {
            break;
        };
        let client = NodeClient::with_http(ServerUrl::unchecked(url), clients.http.clone());
        match sync_once(&client, setup, store.as_ref()) {
            Ok((new, kind)) => {
                clients.recorder.sync(Sync {
                    counter,
                    node,
                    kind,
                    height: new.header().height,
                    at_ms: wall_ms(),
                });
                store = Some(new);
            }
            Err(Miss::Unavailable) => {}
            Err(Miss::Refused(detail)) => clients.recorder.refusal(Refusal {
                counter,
                node,
                at_ms: wall_ms(),
                detail,
            }),
        }
        if let Some(held) = store.as_mut() {
            // Statements about another header than the held one, or too few, are
            // refused and change nothing.
            if let Ok(Some(freshness)) = client.freshness() {
                let _ = held.apply_freshness(&freshness);
            }
            for (n, cert) in setup.certs.iter().enumerate() {
                let at_ms = wall_ms();
                let now = UnixTime(at_ms / 1000);
                let qr = present(setup.holder, setup.province, cert, round, now)?;
                let result = verify_presentation(&qr, held, now, &policy);
                clients.recorder.check(Check {
                    counter,
                    cert: n,
                    height: held.header().height,
                    as_of: held.as_of().secs(),
                    at_ms,
                    verdict: verdict(&result),
                });
            }
        }
        round += 1;
        pause(clients.stop, 200 + rng.below(300));
    }
    Ok(())
}

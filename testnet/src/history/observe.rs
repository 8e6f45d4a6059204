//! Reading every node's certified state after the run: its certified checkpoints (paged),
//! its export (checked as a counter checks it) and the heights at which each status index
//! was revoked (`GET /v1/revocations?since=0`).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use ecert_client::NodeClient;
use ecert_schemas::address::ServerUrl;
use ecert_schemas::ledger::{
    BatchRecord, RevocationDelta, RevocationSnapshot, RevokedAt, TrustBundle,
};
use ecert_schemas::KindRegistry;
use ecert_verifier::checkpoint::verify_checkpoint;
use ecert_verifier::{TrustAnchor, TrustStore};

use crate::http::Http;

/// Checkpoints asked for at a time.
const PAGE: u64 = 1_000;

/// A node's certified state as of its newest certified header, checked against the
/// trust anchor.
#[derive(Clone, Debug)]
pub struct ExportView {
    /// The header's height.
    pub height: u64,
    /// The header's bytes.
    pub header: Vec<u8>,
    /// The whole anchor log.
    pub anchors: Vec<BatchRecord>,
    /// The revocation state.
    pub revocations: RevocationSnapshot,
}

/// What one node holds.
#[derive(Clone, Debug, Default)]
pub struct NodeView {
    /// The node.
    pub node: usize,
    /// Its certified headers' bytes, by height (a node that joined from a snapshot may
    /// lack the oldest).
    pub checkpoints: BTreeMap<u64, Vec<u8>>,
    /// Checkpoints it served that do not verify (height, why).
    pub bad_checkpoints: Vec<(u64, String)>,
    /// Its export, when it served one that verifies.
    pub export: Option<ExportView>,
    /// Every status index revoked, with the height of the block that revoked it.
    pub revoked_at: Option<Vec<RevokedAt>>,
    /// What could not be read.
    pub errors: Vec<String>,
}

/// Reads node `node` at `url`.
pub fn read_node(
    node: usize,
    url: &str,
    http: &Http,
    anchor: &TrustAnchor,
    kinds: &KindRegistry,
) -> NodeView {
    let client = NodeClient::with_http(ServerUrl::unchecked(url), http.clone());
    let mut view = NodeView {
        node,
        ..NodeView::default()
    };
    let store = match client
        .export_bytes()
        .map_err(|e| e.to_string())
        .and_then(|b| TrustBundle::from_bytes(&b).map_err(|e| e.to_string()))
        .and_then(|b| TrustStore::from_bundle(b, anchor, kinds.clone()).map_err(|e| e.to_string()))
    {
        Ok(store) => store,
        Err(e) => {
            view.errors.push(format!("export: {e}"));
            return view;
        }
    };
    let bundle = store.to_bundle();
    view.export = Some(ExportView {
        height: store.header().height,
        header: bundle.checkpoint.header.to_vec(),
        anchors: bundle.anchors,
        revocations: bundle.revocations,
    });
    let mut from = 1;
    loop {
        let page = match client.checkpoints(from, PAGE) {
            Ok(page) => page,
            Err(e) => {
                view.errors.push(format!("checkpoints from {from}: {e}"));
                break;
            }
        };
        let Some(last) = page.last().and_then(|c| c.decode_header().ok()) else {
            break;
        };
        for checkpoint in &page {
            match verify_checkpoint(checkpoint, store.validators()) {
                Ok(header) => {
                    view.checkpoints
                        .insert(header.height, checkpoint.header.to_vec());
                }
                Err(e) => {
                    let height = checkpoint.decode_header().map(|h| h.height).unwrap_or(0);
                    view.bad_checkpoints.push((height, e.to_string()));
                }
            }
        }
        if (page.len() as u64) < PAGE || last.height < from {
            break;
        }
        from = last.height + 1;
    }
    match http.get(&format!("{url}/v1/revocations?since=0")) {
        Ok(reply) if reply.status == 200 => match RevocationDelta::from_bytes(&reply.body) {
            Ok(delta) => view.revoked_at = Some(delta.entries),
            Err(e) => view.errors.push(format!("revocations since 0: {e}")),
        },
        Ok(reply) => view.errors.push(format!(
            "revocations since 0: {} {}",
            reply.status,
            reply.error_code().unwrap_or_default()
        )),
        Err(e) => view.errors.push(format!("revocations since 0: {e}")),
    }
    view
}

/// What each node says of its heights (`None`: no answer).
pub fn heights(urls: &[String], http: &Http) -> Vec<Option<(u64, u64)>> {
    urls.iter()
        .map(|url| {
            let client = NodeClient::with_http(ServerUrl::unchecked(url), http.clone());
            client.health().ok().map(|h| (h.height, h.certified_height))
        })
        .collect()
}

/// Waits (at most `limit`) until every node answers, all have certified everything
/// they applied, the same height, at least `at_least`; how long it took, or what the
/// nodes said last.
pub fn wait_converged(
    urls: &[String],
    http: &Http,
    at_least: u64,
    limit: Duration,
) -> Result<Duration, String> {
    let started = Instant::now();
    loop {
        let seen = heights(urls, http);
        let first = seen.first().copied().flatten();
        let converged = first.is_some_and(|(applied, certified)| {
            applied == certified
                && certified >= at_least
                && seen.iter().all(|s| *s == Some((applied, certified)))
        });
        if converged {
            return Ok(started.elapsed());
        }
        if started.elapsed() > limit {
            let said: Vec<String> = seen
                .iter()
                .enumerate()
                .map(|(i, s)| match s {
                    Some((a, c)) => format!("node {i}: applied {a}, certified {c}"),
                    None => format!("node {i}: no answer"),
                })
                .collect();
            return Err(said.join("; "));
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

//! Certified checkpoints on a node: catching up on those it missed, and waiting for a
//! height to be certified.

use std::sync::Arc;
use std::time::Duration;

use libp2p::PeerId;
use tokio::sync::watch;

use super::shared::Shared;
use super::wire::{NodeRequest, NodeResponse, MAX_CHECKPOINTS_PER_PAGE};

/// How often a node behind on certification asks a peer for checkpoints.
const PULL_EVERY: Duration = Duration::from_secs(2);

/// A node whose certified height lags its applied height (it caught up through a
/// snapshot, missed votes, or is no validator and receives none) asks a peer for the
/// checkpoints it lacks and keeps those that verify against the validator set of their
/// height. It also fetches the checkpoint of every block holding a validator-set change
/// that it lacks (every artefact it serves carries them). Peers are asked in turn.
pub(super) async fn pull_checkpoints(shared: Arc<Shared>) {
    let mut tick = tokio::time::interval(PULL_EVERY);
    let mut next_peer = 0usize;
    loop {
        tick.tick().await;
        let Ok(height) = shared.height() else {
            continue;
        };
        let certified = shared.certifier.certified_height();
        let missing_change = missing_change_checkpoint(&shared);
        if certified >= height && missing_change.is_none() {
            continue;
        }
        let peers: Vec<PeerId> = shared.dialled_peers();
        if peers.is_empty() {
            continue;
        }
        let Some(peer) = peers.get(next_peer % peers.len()).copied() else {
            continue;
        };
        next_peer = next_peer.wrapping_add(1);
        let request = match missing_change {
            Some(change) => NodeRequest::Checkpoints {
                from: change,
                limit: 1,
            },
            None => NodeRequest::Checkpoints {
                from: certified + 1,
                limit: MAX_CHECKPOINTS_PER_PAGE,
            },
        };
        if let Ok(NodeResponse::Checkpoints(list)) = shared.net.request(peer, request).await {
            for bytes in list {
                if let Err(e) = shared.certifier.import(&bytes) {
                    tracing::warn!("a checkpoint from {peer} did not verify: {e}");
                    break;
                }
            }
        }
    }
}

/// The lowest height of an applied block holding a validator-set change whose checkpoint
/// this node lacks.
fn missing_change_checkpoint(shared: &Shared) -> Option<u64> {
    let heights: Vec<u64> = shared
        .machine
        .read(|s| s.validator_changes().iter().map(|c| c.height).collect())
        .ok()?;
    heights
        .into_iter()
        .find(|h| matches!(shared.certifier.checkpoint(*h), Ok(None)))
}

/// Waits until `height` is certified on this node, or `deadline` passes.
pub async fn wait_certified(shared: &Shared, height: u64, deadline: tokio::time::Instant) -> bool {
    let mut rx: watch::Receiver<u64> = shared.certifier.subscribe();
    loop {
        if *rx.borrow_and_update() >= height {
            return true;
        }
        match tokio::time::timeout_at(deadline, rx.changed()).await {
            Ok(Ok(())) => continue,
            _ => return *rx.borrow() >= height,
        }
    }
}

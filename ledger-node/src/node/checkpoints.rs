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
/// snapshot, or missed votes) asks a peer for the checkpoints it lacks and keeps those
/// that verify against the validators. Peers are asked in turn.
pub(super) async fn pull_checkpoints(shared: Arc<Shared>) {
    let mut tick = tokio::time::interval(PULL_EVERY);
    let mut next_peer = 0usize;
    loop {
        tick.tick().await;
        let Ok(height) = shared.height() else {
            continue;
        };
        let certified = shared.certifier.certified_height();
        if certified >= height || shared.peers.is_empty() {
            continue;
        }
        let peers: Vec<PeerId> = shared.peers.values().copied().collect();
        let Some(peer) = peers.get(next_peer % peers.len()).copied() else {
            continue;
        };
        next_peer = next_peer.wrapping_add(1);
        let request = NodeRequest::Checkpoints {
            from: certified + 1,
            limit: MAX_CHECKPOINTS_PER_PAGE,
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

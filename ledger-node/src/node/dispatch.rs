//! Answers requests from other nodes. Reading checkpoints and the proven validator set is
//! open to anyone; everything else is taken from validators only, decided from the
//! sender's key (its peer id) and the validator sets this node knows, never from what a
//! message claims:
//!
//! - Raft messages from a validator of the current set (or of a newer set a peer proved)
//!   or a member of Raft's membership as this node has it, sent in its own name;
//! - a header vote or freshness statement from the validator it names, in the set of the
//!   height it is about;
//! - a forwarded transaction from a validator of the current set.

use std::sync::Arc;

use ecert_schemas::PublicKeyBytes;
use libp2p::PeerId;
use tokio::sync::mpsc;

use super::net::Inbound;
use super::shared::{Now, Shared};
use super::wire::{NodeRequest, NodeResponse, MAX_CHECKPOINTS_PER_PAGE};
use crate::freshness_pool::FreshHeader;
use crate::raft::node_id_of;

/// Answers each inbound request in its own task.
pub(super) async fn dispatch(shared: Arc<Shared>, mut inbound: mpsc::Receiver<Inbound>) {
    while let Some(item) = inbound.recv().await {
        let shared = shared.clone();
        tokio::spawn(async move {
            let response = answer(&shared, item.peer, item.key, item.request).await;
            shared.net.respond(item.channel, response);
        });
    }
}

/// The proven validator set as of this node's newest certified header, encoded.
fn validator_set(shared: &Shared) -> NodeResponse {
    let height = shared.certifier.certified_height();
    let proof = match shared.certifier.checkpoint(height) {
        Ok(Some(checkpoint)) => shared.validator_set_proof(checkpoint).ok(),
        _ => None,
    };
    NodeResponse::ValidatorSet(
        proof
            .and_then(|p| p.to_bytes().ok())
            .map(ecert_schemas::codec::ByteBuf::from),
    )
}

async fn answer(
    shared: &Shared,
    peer: PeerId,
    key: Option<PublicKeyBytes>,
    request: NodeRequest,
) -> NodeResponse {
    match request {
        NodeRequest::Checkpoints { from, limit } => {
            let limit = limit.min(MAX_CHECKPOINTS_PER_PAGE) as usize;
            return NodeResponse::Checkpoints(
                shared
                    .certifier
                    .checkpoints_from(from, limit)
                    .unwrap_or_default(),
            );
        }
        NodeRequest::ValidatorSet => return validator_set(shared),
        _ => {}
    }
    let Some(key) = key else {
        tracing::warn!(%peer, "ordering or vote message from a peer without a validator key ignored");
        return NodeResponse::NotPermitted;
    };
    let sender = node_id_of(&key);
    let raft_refused = || {
        // The sender may be a validator this node does not know yet (it lags, or is no
        // validator yet): ask it for the proven validator set.
        tracing::debug!(%peer, "Raft message from a peer that is no validator here ignored");
        shared.learn_from(peer);
        NodeResponse::NotPermitted
    };
    match request {
        NodeRequest::AppendEntries(rpc) => {
            if !shared.raft_permitted(&key) {
                return raft_refused();
            }
            if rpc.vote.leader_id().voted_for() != Some(sender) {
                return NodeResponse::NotPermitted;
            }
            NodeResponse::AppendEntries(shared.raft.append_entries(rpc).await)
        }
        NodeRequest::InstallSnapshot(rpc) => {
            if !shared.raft_permitted(&key) {
                return raft_refused();
            }
            if rpc.vote.leader_id().voted_for() != Some(sender) {
                return NodeResponse::NotPermitted;
            }
            NodeResponse::InstallSnapshot(shared.raft.install_snapshot(rpc).await)
        }
        NodeRequest::RequestVote(rpc) => {
            if !shared.raft_permitted(&key) {
                return raft_refused();
            }
            if rpc.vote.leader_id().voted_for() != Some(sender) {
                return NodeResponse::NotPermitted;
            }
            NodeResponse::RequestVote(shared.raft.vote(rpc).await)
        }
        NodeRequest::HeaderVote { height, vote } => {
            if !shared.may_vote(height, &key, vote.validator) {
                return NodeResponse::NotPermitted;
            }
            match shared.certifier.on_vote(height, vote) {
                Ok(votes) => NodeResponse::HeaderVotes(votes),
                Err(e) => {
                    tracing::warn!(height, "vote: {e}");
                    NodeResponse::HeaderVotes(Vec::new())
                }
            }
        }
        NodeRequest::Freshness {
            height,
            header_hash,
            vote,
        } => {
            if !shared.may_vote(height, &key, vote.validator) {
                return NodeResponse::NotPermitted;
            }
            let header = FreshHeader {
                height,
                hash: header_hash,
            };
            NodeResponse::Freshness(shared.on_freshness(header, vote, Now::read()))
        }
        NodeRequest::Submit(bytes) => {
            if !shared.may_forward(&key) {
                return NodeResponse::NotPermitted;
            }
            NodeResponse::Submitted(shared.take_forwarded(bytes, Now::read()))
        }
        NodeRequest::Checkpoints { .. } | NodeRequest::ValidatorSet => NodeResponse::NotPermitted,
    }
}

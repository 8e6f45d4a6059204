//! Answers requests from other nodes. Ordering, votes, freshness statements and forwarded
//! transactions are taken from genesis validators only; anyone may read checkpoints.

use std::sync::Arc;

use tokio::sync::mpsc;

use super::net::Inbound;
use super::shared::{Now, Shared};
use super::wire::{NodeRequest, NodeResponse, MAX_CHECKPOINTS_PER_PAGE};
use crate::freshness_pool::FreshHeader;
use crate::raft::NodeId;

/// Answers each inbound request in its own task.
pub(super) async fn dispatch(shared: Arc<Shared>, mut inbound: mpsc::Receiver<Inbound>) {
    while let Some(item) = inbound.recv().await {
        let shared = shared.clone();
        tokio::spawn(async move {
            let response = answer(&shared, item.validator, item.request).await;
            shared.net.respond(item.channel, response);
        });
    }
}

async fn answer(shared: &Shared, from: Option<NodeId>, request: NodeRequest) -> NodeResponse {
    if let NodeRequest::Checkpoints { from, limit } = request {
        let limit = limit.min(MAX_CHECKPOINTS_PER_PAGE) as usize;
        return NodeResponse::Checkpoints(
            shared
                .certifier
                .checkpoints_from(from, limit)
                .unwrap_or_default(),
        );
    }
    let Some(sender) = from else {
        tracing::warn!("ordering or vote message from a peer that is not a validator ignored");
        return NodeResponse::NotPermitted;
    };
    match request {
        NodeRequest::AppendEntries(rpc) => {
            if rpc.vote.leader_id().voted_for() != Some(sender) {
                return NodeResponse::NotPermitted;
            }
            NodeResponse::AppendEntries(shared.raft.append_entries(rpc).await)
        }
        NodeRequest::InstallSnapshot(rpc) => {
            if rpc.vote.leader_id().voted_for() != Some(sender) {
                return NodeResponse::NotPermitted;
            }
            NodeResponse::InstallSnapshot(shared.raft.install_snapshot(rpc).await)
        }
        NodeRequest::RequestVote(rpc) => {
            if rpc.vote.leader_id().voted_for() != Some(sender) {
                return NodeResponse::NotPermitted;
            }
            NodeResponse::RequestVote(shared.raft.vote(rpc).await)
        }
        NodeRequest::HeaderVote { height, vote } => {
            if u64::from(vote.validator) != sender {
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
            if u64::from(vote.validator) != sender {
                return NodeResponse::NotPermitted;
            }
            let header = FreshHeader {
                height,
                hash: header_hash,
            };
            NodeResponse::Freshness(shared.on_freshness(header, vote, Now::read()))
        }
        NodeRequest::Submit(bytes) => {
            NodeResponse::Submitted(shared.take_forwarded(bytes, Now::read()))
        }
        NodeRequest::Checkpoints { .. } => NodeResponse::Checkpoints(Vec::new()),
    }
}

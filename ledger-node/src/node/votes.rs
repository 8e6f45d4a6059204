//! Spreading header votes: this node's vote goes to every other validator of the vote's
//! height and of the current set, which answers with the votes it holds; votes for headers
//! not yet certified go out again now and then.

use std::sync::Arc;
use std::time::Duration;

use ecert_schemas::ledger::Vote;

use super::shared::Shared;
use super::wire::{NodeRequest, NodeResponse};

/// How often votes for uncertified headers are spread again.
const RESPREAD_EVERY: Duration = Duration::from_millis(500);
/// Most heights whose votes are spread again at once.
const RESPREAD_HEIGHTS: usize = 16;

impl Shared {
    /// Sends this node's vote on `height` to the other validators of that height and of
    /// the current set, and takes in the votes they answer with.
    pub(super) fn spread_vote(self: &Arc<Self>, height: u64, vote: Vote) {
        for peer in self.peers_for(height) {
            let shared = self.clone();
            let vote = vote.clone();
            tokio::spawn(async move {
                let request = NodeRequest::HeaderVote { height, vote };
                if let Ok(NodeResponse::HeaderVotes(votes)) =
                    shared.net.request(peer, request).await
                {
                    for v in votes {
                        if let Err(e) = shared.certifier.on_vote(height, v) {
                            tracing::warn!(height, "vote: {e}");
                        }
                    }
                }
            });
        }
    }
}

/// Spreads this node's votes for headers not yet certified again, for peers that missed
/// them (restarted, or briefly unreachable).
pub(super) async fn respread_votes(shared: Arc<Shared>) {
    let mut tick = tokio::time::interval(RESPREAD_EVERY);
    loop {
        tick.tick().await;
        match shared.certifier.uncertified_own_votes(RESPREAD_HEIGHTS) {
            Ok(votes) => {
                for (height, vote) in votes {
                    shared.spread_vote(height, vote);
                }
            }
            Err(e) => tracing::warn!("respread: {e}"),
        }
    }
}

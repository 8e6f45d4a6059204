//! Freshness on a running node: every period, this validator signs that the newest
//! certified header it holds is still the newest, sends the statement to the other
//! validators (of the set that certified the header and of the current set) and takes in
//! the statements they answer with (the pure [`crate::freshness_pool::FreshnessPool`]
//! decides what is kept, and whether this node states at all: only while it is a
//! validator of both).

use std::sync::Arc;

use ecert_schemas::freshness::{Freshness, FreshnessVote};
use ecert_verifier::commit::header_hash;

use super::shared::{lock, Now, Shared};
use super::wire::{NodeRequest, NodeResponse};
use crate::freshness_pool::{FreshHeader, StatementOutcome};
use crate::NodeError;

impl Shared {
    /// Moves the freshness pool to the newest certified header this node holds, with the
    /// set that certified it and whether this node is still a validator of the current
    /// set.
    fn advance_freshness(&self) -> Result<Option<FreshHeader>, NodeError> {
        let height = self.certifier.certified_height();
        let member = self.is_validator();
        let (Some(checkpoint), Some(validators)) = (
            self.certifier.checkpoint(height)?,
            self.certifier.validators_at(height)?,
        ) else {
            return Ok(lock(&self.freshness)?.header());
        };
        let header = FreshHeader {
            height,
            hash: header_hash(&checkpoint.header),
        };
        let mut pool = lock(&self.freshness)?;
        pool.advance(header, &validators, member);
        Ok(pool.header())
    }

    /// Signs this node's statement at `now`, when it states, and sends it to the other
    /// validators.
    fn state_freshness(self: &Arc<Self>, now: Now) -> Result<(), NodeError> {
        self.advance_freshness()?;
        let signed = lock(&self.freshness)?
            .sign_own(&self.signing_key, now.wall_ms)
            .map_err(|e| NodeError::Storage(e.to_string()))?;
        let Some((header, vote)) = signed else {
            return Ok(());
        };
        for peer in self.peers_for(header.height) {
            let shared = self.clone();
            let vote = vote.clone();
            tokio::spawn(async move {
                let request = NodeRequest::Freshness {
                    height: header.height,
                    header_hash: header.hash,
                    vote,
                };
                if let Ok(NodeResponse::Freshness(votes)) = shared.net.request(peer, request).await
                {
                    for v in votes {
                        shared.on_freshness(header, v, Now::read());
                    }
                }
            });
        }
        Ok(())
    }

    /// A statement of another validator about `header`: the node first catches up with a
    /// header it has certified since its last tick. Returns the statements it holds about
    /// `header`, for the sender to learn from.
    pub(super) fn on_freshness(
        &self,
        header: FreshHeader,
        vote: FreshnessVote,
        now: Now,
    ) -> Vec<FreshnessVote> {
        let current = match self.advance_freshness() {
            Ok(current) => current,
            Err(e) => {
                tracing::warn!("freshness: {e}");
                return Vec::new();
            }
        };
        if current.is_some_and(|c| c.height < header.height) {
            // Not certified here yet: the sender is ahead; its next period will reach us.
            return Vec::new();
        }
        let Ok(mut pool) = lock(&self.freshness) else {
            return Vec::new();
        };
        if pool.on_statement(header, vote) == StatementOutcome::Invalid {
            tracing::warn!(
                height = header.height,
                "freshness statement that does not verify dropped"
            );
        }
        pool.votes_about(header, now.wall_ms)
    }

    /// The current statements this node holds about the newest certified header, at
    /// `now`.
    pub(super) fn freshness(&self, now: Now) -> Result<Option<Freshness>, NodeError> {
        self.advance_freshness()?;
        Ok(lock(&self.freshness)?.freshness(now.wall_ms))
    }
}

/// States freshness every period from the start (a restarted validator vouches again at
/// once), and at once whenever this node certifies a new header, so that a quorum of
/// statements about a new header forms within moments.
pub(super) async fn keep_fresh(shared: Arc<Shared>) {
    let mut tick = tokio::time::interval(shared.freshness_period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut certified = shared.certifier.subscribe();
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            changed = certified.changed() => {
                if changed.is_err() {
                    return;
                }
            }
        }
        if let Err(e) = shared.state_freshness(Now::read()) {
            tracing::warn!("freshness: {e}");
        }
    }
}

//! Following applied blocks on every node: count outcomes, keep the validator sets up to
//! date, sign and spread the header vote (at heights whose set holds this node), answer
//! the clients waiting on the block's transactions.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use tokio::sync::mpsc;

use super::shared::{Shared, TxDone};
use crate::raft::{BlockEvent, TxResult};

/// Past this many waited-on transactions, waiters that gave up are dropped.
const WAITERS_BEFORE_SWEEP: usize = 10_000;

/// Follows the state machine's block events until it stops sending them.
pub(super) async fn follow_blocks(
    shared: Arc<Shared>,
    mut events: mpsc::UnboundedReceiver<BlockEvent>,
) {
    while let Some(event) = events.recv().await {
        count_outcomes(&shared, &event);
        let height = event.applied.as_ref().map(|(h, _)| *h);
        if let Some((height, header)) = &event.applied {
            // The block may have changed the validator set: certification and the network
            // follow before the header is signed.
            shared.sync_roster();
            match shared.certifier.on_applied(*height, header) {
                Ok(Some(vote)) => shared.spread_vote(*height, vote),
                Ok(None) => {}
                Err(e) => tracing::error!(height, "cannot certify: {e}"),
            }
        }
        wake_waiters(&shared, height, event.txs);
    }
}

/// Adds a block's outcomes to the counters.
fn count_outcomes(shared: &Shared, event: &BlockEvent) {
    let metrics = &shared.metrics;
    let mut anchored = 0u64;
    for (_, result) in &event.txs {
        match result {
            TxResult::Skipped { .. } => {
                metrics.skipped.fetch_add(1, Ordering::Relaxed);
            }
            TxResult::Anchored { batch_seq } => {
                metrics.applied.fetch_add(1, Ordering::Relaxed);
                anchored += shared
                    .machine
                    .read(|s| {
                        s.anchors()
                            .get(usize::try_from(*batch_seq).unwrap_or(usize::MAX))
                            .map(|r| r.count)
                    })
                    .ok()
                    .flatten()
                    .unwrap_or(0);
            }
            TxResult::Revoked | TxResult::Governed { .. } => {
                metrics.applied.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    metrics.certificates.fetch_add(anchored, Ordering::Relaxed);
}

/// Answers the clients waiting on the block's transactions.
fn wake_waiters(shared: &Shared, height: Option<u64>, txs: Vec<(ecert_schemas::Hash32, TxResult)>) {
    let Ok(mut waiters) = shared.waiters.lock() else {
        return;
    };
    // Submitters that gave up (their transaction was lost with a crashed leader, or they
    // timed out) leave closed channels behind: drop them now and then.
    if waiters.len() > WAITERS_BEFORE_SWEEP {
        waiters.retain(|_, list| {
            list.retain(|w| !w.is_closed());
            !list.is_empty()
        });
    }
    for (hash, result) in txs {
        if let Some(list) = waiters.remove(&hash) {
            for waiter in list {
                let _ = waiter.send(TxDone {
                    height,
                    result: result.clone(),
                });
            }
        }
    }
}

//! Block cutting on the leader: a block when the oldest queued transaction has waited a
//! block interval or the queue holds a full block; never an empty block. A validator-set
//! change goes into a block of its own, never with other transactions (the state machine
//! skips it otherwise). A node that is not the leader hands what it queued to the leader.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ecert_schemas::codec::ByteBuf;
use ecert_schemas::ledger::Transaction;
use ecert_schemas::Hash32;
use openraft::error::{ClientWriteError, RaftError};

use super::mempool::Mempool;
use super::shared::{Now, Shared};
use super::wire::{NodeRequest, NodeResponse};
use crate::raft::ProposedBlock;
use crate::state::is_validator_change;

/// Most bytes of transactions in one block.
const MAX_BLOCK_BYTES: usize = 4 * 1024 * 1024;
/// How often the block cutter looks at the queue.
const CUTTER_TICK: Duration = Duration::from_millis(10);

/// What the cutter does with the queue at one tick.
#[derive(Debug, PartialEq, Eq)]
enum Cut {
    /// Nothing to do yet.
    Wait,
    /// Not the leader: hand these to the leader.
    HandOver(Vec<(Hash32, ByteBuf)>),
    /// The leader: propose these as a block.
    Propose(Vec<(Hash32, ByteBuf)>),
}

/// Decides, at `now`, what to take from the queue.
fn next_cut(
    pool: &mut Mempool,
    leader: bool,
    now: Instant,
    interval: Duration,
    max_block_txs: usize,
) -> Cut {
    if pool.is_empty() {
        return Cut::Wait;
    }
    if !leader {
        return Cut::HandOver(pool.take_all());
    }
    if !pool.block_due(now, interval, max_block_txs) {
        return Cut::Wait;
    }
    Cut::Propose(pool.take(max_block_txs, MAX_BLOCK_BYTES))
}

/// Whether `tx` must be alone in its block: a validator-set change.
pub(super) fn must_be_alone(tx: &Transaction) -> bool {
    is_validator_change(tx)
}

/// The block time: the leader's clock, never before the previous block's.
fn block_time_ms(now_ms: u64, last_ms: u64) -> u64 {
    now_ms.max(last_ms)
}

/// The cutter task: looks at the queue every tick.
pub(super) async fn cut_blocks(shared: Arc<Shared>) {
    let mut tick = tokio::time::interval(CUTTER_TICK);
    loop {
        tick.tick().await;
        let now = Now::read();
        let leader = shared.is_leader();
        let cut = match shared.mempool.lock() {
            Ok(mut pool) => next_cut(
                &mut pool,
                leader,
                now.at,
                shared.block_interval,
                shared.max_block_txs,
            ),
            Err(_) => return,
        };
        match cut {
            Cut::Wait => {}
            Cut::HandOver(txs) => requeue_at_leader(&shared, txs).await,
            Cut::Propose(txs) if txs.is_empty() => {}
            Cut::Propose(txs) => propose(&shared, txs, now).await,
        }
    }
}

/// Proposes a block through Raft and waits for it to commit.
async fn propose(shared: &Shared, txs: Vec<(Hash32, ByteBuf)>, now: Now) {
    let last = shared.machine.read(|s| s.last_time_ms()).unwrap_or(0);
    let block = ProposedBlock {
        time_ms: block_time_ms(now.wall_ms, last),
        txs: txs.iter().map(|(_, tx)| tx.clone()).collect(),
    };
    match shared.raft.client_write(block).await {
        Ok(_) => {
            shared.metrics.proposed.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(
                txs = txs.len(),
                ms = now.at.elapsed().as_millis() as u64,
                "block committed"
            );
        }
        Err(RaftError::APIError(ClientWriteError::ForwardToLeader(_))) => {
            requeue_at_leader(shared, txs).await;
        }
        Err(e) => {
            tracing::warn!("block not committed: {e}");
        }
    }
}

/// Hands queued transactions to the current leader (they were checked when they arrived;
/// the leader checks again).
async fn requeue_at_leader(shared: &Shared, txs: Vec<(Hash32, ByteBuf)>) {
    let Some(peer) = shared.leader_peer() else {
        // No other leader known: keep them here for the next round.
        let now = Now::read();
        if let Ok(mut pool) = shared.mempool.lock() {
            for (hash, tx) in txs {
                let alone = Transaction::from_bytes(&tx).is_ok_and(|t| must_be_alone(&t));
                let _ = if alone {
                    pool.push_alone(hash, tx, now.at)
                } else {
                    pool.push(hash, tx, now.at)
                };
            }
        }
        return;
    };
    for (_, tx) in txs {
        match shared.net.request(peer, NodeRequest::Submit(tx)).await {
            Ok(NodeResponse::Submitted(Ok(()))) => {}
            other => tracing::debug!("forwarding a queued transaction failed: {other:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled(n: u8, at: Instant) -> Mempool {
        let mut pool = Mempool::new(100);
        for i in 0..n {
            pool.push(Hash32([i; 32]), ByteBuf::from(vec![i; 4]), at)
                .unwrap();
        }
        pool
    }

    #[test]
    fn the_leader_cuts_when_due_and_never_an_empty_block() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        assert_eq!(
            next_cut(&mut filled(0, t0), true, t0 + ms(500), ms(100), 10),
            Cut::Wait
        );
        let mut pool = filled(2, t0);
        assert_eq!(
            next_cut(&mut pool, true, t0 + ms(50), ms(100), 10),
            Cut::Wait
        );
        match next_cut(&mut pool, true, t0 + ms(100), ms(100), 10) {
            Cut::Propose(txs) => assert_eq!(txs.len(), 2),
            other => panic!("expected a block, got {other:?}"),
        }
        let mut full = filled(5, t0);
        match next_cut(&mut full, true, t0, ms(100), 3) {
            Cut::Propose(txs) => assert_eq!(txs.len(), 3, "at most a full block"),
            other => panic!("expected a block, got {other:?}"),
        }
        assert_eq!(full.len(), 2);
    }

    #[test]
    fn a_follower_hands_everything_over_at_once() {
        let t0 = Instant::now();
        let mut pool = filled(4, t0);
        match next_cut(&mut pool, false, t0, Duration::from_secs(1), 2) {
            Cut::HandOver(txs) => assert_eq!(txs.len(), 4),
            other => panic!("expected a hand-over, got {other:?}"),
        }
        assert!(pool.is_empty());
    }

    #[test]
    fn block_time_never_goes_back() {
        assert_eq!(block_time_ms(1_000, 900), 1_000);
        assert_eq!(block_time_ms(800, 900), 900);
    }

    #[test]
    fn a_validator_set_change_is_cut_into_a_block_of_its_own() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut pool = filled(2, t0);
        pool.push_alone(Hash32([7; 32]), ByteBuf::from(vec![7; 4]), t0)
            .unwrap();
        pool.push(Hash32([8; 32]), ByteBuf::from(vec![8; 4]), t0)
            .unwrap();
        let mut blocks = Vec::new();
        while let Cut::Propose(txs) = next_cut(&mut pool, true, t0 + ms(100), ms(100), 10) {
            blocks.push(txs.iter().map(|(h, _)| h.0[0]).collect::<Vec<_>>());
        }
        assert_eq!(blocks, vec![vec![0, 1], vec![7], vec![8]]);
        // Handed over to a leader, all at once (the leader cuts them).
        let mut pool = filled(1, t0);
        pool.push_alone(Hash32([7; 32]), ByteBuf::from(vec![7; 4]), t0)
            .unwrap();
        match next_cut(&mut pool, false, t0, ms(100), 10) {
            Cut::HandOver(txs) => assert_eq!(txs.len(), 2),
            other => panic!("expected a hand-over, got {other:?}"),
        }
    }
}

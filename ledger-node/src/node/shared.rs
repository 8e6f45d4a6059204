//! What the node's tasks and its client API share, and the clock reading they pass in.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ecert_schemas::{Hash32, PublicKeyBytes};
use ed25519_dalek::SigningKey;
use libp2p::PeerId;
use openraft::{Raft, ServerState};
use tokio::sync::{oneshot, Notify};

use super::certifier::Certifier;
use super::mempool::Mempool;
use super::metrics::{Gauges, Metrics};
use super::net::NetHandle;
use super::raft_net::Directory;
use super::roster::Roster;
use crate::freshness_pool::FreshnessPool;
use crate::genesis::Genesis;
use crate::raft::{LedgerStateMachine, NodeId, TxResult, TypeConfig};
use crate::NodeError;

/// What became of a submitted transaction once its block was applied on this node.
#[derive(Clone, Debug)]
pub struct TxDone {
    /// The block height, when the block applied (`None`: no transaction of it applied).
    pub height: Option<u64>,
    /// The transaction's outcome.
    pub result: TxResult,
}

/// One reading of the clocks, taken at the edge (a task loop, a request) and passed to
/// the logic, which never reads a clock itself.
#[derive(Clone, Copy, Debug)]
pub(super) struct Now {
    /// Wall-clock time, milliseconds since the epoch (block times, validity checks).
    pub(super) wall_ms: u64,
    /// Monotonic time (how long transactions have waited).
    pub(super) at: Instant,
}

impl Now {
    /// Reads the clocks.
    pub(super) fn read() -> Now {
        let wall_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0);
        Now {
            wall_ms,
            at: Instant::now(),
        }
    }
}

/// State shared by the node's tasks and its API.
pub struct Shared {
    /// This node's Raft id (from its key, [`crate::raft::node_id_of`]).
    pub me: NodeId,
    /// This node's validator key.
    pub key: PublicKeyBytes,
    /// The genesis.
    pub genesis: Genesis,
    /// The Raft instance.
    pub raft: Raft<TypeConfig>,
    /// The ledger state machine (readable while Raft applies to it).
    pub machine: LedgerStateMachine,
    /// Certification.
    pub certifier: Certifier,
    /// The network.
    pub net: NetHandle,
    /// Counters.
    pub metrics: Metrics,
    /// The validators as this node sees them (sets by height, peers, permissions).
    pub(super) roster: RwLock<Roster>,
    /// Raft id → peer id of every validator key known.
    pub(super) directory: Directory,
    /// Wakes the task that asks peers for the proven validator set.
    pub(super) learn: Notify,
    /// The peer to ask first.
    pub(super) learn_from: Mutex<Option<PeerId>>,
    /// Wakes the task that brings Raft's membership to the validator set (the set
    /// changed).
    pub(super) set_changed: Notify,
    /// The queue of checked transactions (on the leader).
    pub(super) mempool: Mutex<Mempool>,
    /// Clients waiting for their transaction's block.
    pub(super) waiters: Mutex<HashMap<Hash32, Vec<oneshot::Sender<TxDone>>>>,
    /// Longest a queued transaction waits for a block.
    pub(super) block_interval: Duration,
    /// Most transactions in one block.
    pub(super) max_block_txs: usize,
    /// This node's key, for freshness statements (the certifier holds it for votes).
    pub(super) signing_key: SigningKey,
    /// Freshness statements about the newest certified header.
    pub(super) freshness: Mutex<FreshnessPool>,
    /// How often this validator states freshness.
    pub(super) freshness_period: Duration,
    /// How long this node may lead without answers from a quorum (see [`named_leader`]).
    pub(super) leader_lease_ms: u64,
}

/// The leader a node names, from Raft's state, its current leader and how long ago a
/// quorum last answered it as leader.
///
/// A leader may go `lease_ms` (the longest election timeout, after which the others have
/// elected a new leader) without answers from a quorum of validators and still act as
/// leader. openraft 0.9 keeps a leader cut off from the others in the leader state until
/// it hears of a higher term, so without this a leader cut off from the majority would go
/// on calling itself leader (in `/health`) and taking submissions that can never commit
/// (clients waited for their timeout) while the majority has another leader. Past the
/// lease it names no leader and refuses submissions with `no-leader`, so that clients go
/// to another node; it leads again as soon as a quorum answers.
fn named_leader(
    state: ServerState,
    current_leader: Option<NodeId>,
    me: NodeId,
    millis_since_quorum_ack: Option<u64>,
    lease_ms: u64,
) -> Option<NodeId> {
    let leading = state == ServerState::Leader && current_leader == Some(me);
    if leading && millis_since_quorum_ack.is_none_or(|ms| ms > lease_ms) {
        return None;
    }
    current_leader
}

/// Locks one of the node's mutexes.
pub(super) fn lock<T>(m: &Mutex<T>) -> Result<MutexGuard<'_, T>, NodeError> {
    m.lock()
        .map_err(|_| NodeError::Storage("a node lock was poisoned".into()))
}

impl Shared {
    /// This node's department: as the newest validator set naming its key has it (empty
    /// when no set it knows does).
    pub fn department(&self) -> String {
        let Ok(roster) = self.roster.read() else {
            return String::new();
        };
        let mut epochs: Vec<_> = roster.sets.epochs().collect();
        epochs.reverse();
        epochs
            .into_iter()
            .find_map(|(_, set)| set.iter().find(|v| v.key == self.key))
            .map(|v| v.department.to_string())
            .unwrap_or_default()
    }

    /// The current leader, if known: never this node while it leads without a quorum
    /// (see [`named_leader`]).
    pub fn leader(&self) -> Option<NodeId> {
        let m = self.raft.metrics();
        let m = m.borrow();
        named_leader(
            m.state,
            m.current_leader,
            self.me,
            m.millis_since_quorum_ack,
            self.leader_lease_ms,
        )
    }

    /// The peer id of the current leader, when it is another node.
    pub(super) fn leader_peer(&self) -> Option<PeerId> {
        self.leader()
            .filter(|l| *l != self.me)
            .and_then(|l| self.peer_of_node(l))
    }

    /// Whether this node leads now: Raft says so and a quorum of validators answered it
    /// within its lease (see [`named_leader`]).
    pub(super) fn is_leader(&self) -> bool {
        self.leader() == Some(self.me)
    }

    /// Applied height.
    pub fn height(&self) -> Result<u64, NodeError> {
        self.machine.read(|s| s.height())
    }

    /// A reading of the node's gauges.
    pub fn gauges(&self) -> Result<Gauges, NodeError> {
        let (role, term) = {
            let m = self.raft.metrics();
            let m = m.borrow();
            let role = match m.state {
                ServerState::Follower => 0,
                ServerState::Candidate => 1,
                ServerState::Leader => 2,
                _ => 3,
            };
            (role, m.current_term)
        };
        Ok(Gauges {
            height: self.height()?,
            certified_height: self.certifier.certified_height(),
            peers: self.net.connected_peers() as u64,
            role,
            term,
            queued: lock(&self.mempool)?.len() as u64,
        })
    }

    /// Registers interest in a transaction's outcome (before submitting it, so that the
    /// outcome cannot be missed).
    pub fn watch_tx(&self, hash: Hash32) -> Result<oneshot::Receiver<TxDone>, NodeError> {
        let (tx, rx) = oneshot::channel();
        lock(&self.waiters)?.entry(hash).or_default().push(tx);
        Ok(rx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_leader_without_a_quorum_for_longer_than_the_lease_names_no_leader() {
        let (leader, lease) = (ServerState::Leader, 2_000);
        assert_eq!(named_leader(leader, Some(1), 1, Some(150), lease), Some(1));
        assert_eq!(
            named_leader(leader, Some(1), 1, Some(lease), lease),
            Some(1)
        );
        assert_eq!(
            named_leader(leader, Some(1), 1, Some(lease + 1), lease),
            None
        );
        assert_eq!(named_leader(leader, Some(1), 1, None, lease), None);
        // Followers name whom Raft names.
        let follower = ServerState::Follower;
        assert_eq!(named_leader(follower, Some(2), 1, None, lease), Some(2));
        assert_eq!(named_leader(follower, None, 1, None, lease), None);
    }
}

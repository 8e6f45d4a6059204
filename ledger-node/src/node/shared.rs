//! What the node's tasks and its client API share, and the clock reading they pass in.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ecert_schemas::Hash32;
use ed25519_dalek::SigningKey;
use libp2p::PeerId;
use openraft::{Raft, ServerState};
use tokio::sync::oneshot;

use super::certifier::Certifier;
use super::mempool::Mempool;
use super::metrics::{Gauges, Metrics};
use super::net::NetHandle;
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
    /// This validator's index.
    pub me: NodeId,
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
    /// The other validators' peer ids.
    pub(super) peers: HashMap<NodeId, PeerId>,
    /// The queue of checked transactions (on the leader).
    pub(super) mempool: Mutex<Mempool>,
    /// Clients waiting for their transaction's block.
    pub(super) waiters: Mutex<HashMap<Hash32, Vec<oneshot::Sender<TxDone>>>>,
    /// Longest a queued transaction waits for a block.
    pub(super) block_interval: Duration,
    /// Most transactions in one block.
    pub(super) max_block_txs: usize,
    /// This validator's key, for freshness statements (the certifier holds it for votes).
    pub(super) signing_key: SigningKey,
    /// Freshness statements about the newest certified header.
    pub(super) freshness: Mutex<FreshnessPool>,
    /// How often this validator states freshness.
    pub(super) freshness_period: Duration,
}

/// Locks one of the node's mutexes.
pub(super) fn lock<T>(m: &Mutex<T>) -> Result<MutexGuard<'_, T>, NodeError> {
    m.lock()
        .map_err(|_| NodeError::Storage("a node lock was poisoned".into()))
}

impl Shared {
    /// This validator's department.
    pub fn department(&self) -> String {
        self.genesis
            .validators
            .get(self.me as usize)
            .map(|v| v.department.to_string())
            .unwrap_or_default()
    }

    /// The current leader, if known.
    pub fn leader(&self) -> Option<NodeId> {
        self.raft.metrics().borrow().current_leader
    }

    /// The peer id of the current leader, when it is another validator.
    pub(super) fn leader_peer(&self) -> Option<PeerId> {
        self.leader().and_then(|l| self.peers.get(&l).copied())
    }

    /// Whether this node leads now.
    pub(super) fn is_leader(&self) -> bool {
        let m = self.raft.metrics();
        let m = m.borrow();
        m.state == ServerState::Leader && m.current_leader == Some(self.me)
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

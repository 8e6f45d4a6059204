//! The running node: Raft over libp2p, block cutting on the leader, certification of every
//! applied header, and the client API.
//!
//! Data flow: a client submits a transaction over HTTP; the node checks it with the same
//! rules the state machine applies ([`crate::state::LedgerState::check`]) and queues it on
//! the leader (forwarding it over libp2p when it is not the leader). The leader cuts a
//! block from its queue every block interval (never an empty one) and proposes it through
//! Raft. Every node applies committed blocks with the deterministic state machine, signs
//! the resulting header, spreads its vote to the other validators and stores a checkpoint
//! once more than two thirds signed. Clients waiting on a transaction are answered when its
//! block is certified.

pub mod api;
mod certifier;
mod mempool;
mod metrics;
pub mod net;
mod raft_net;
pub mod wire;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ecert_schemas::codec::ByteBuf;
use ecert_schemas::ledger::{Transaction, Vote};
use ecert_schemas::Hash32;
use ecert_verifier::commit::transaction_hash;
use ed25519_dalek::SigningKey;
use libp2p::{Multiaddr, PeerId};
use openraft::error::{ClientWriteError, RaftError};
use openraft::{BasicNode, Raft, ServerState, SnapshotPolicy};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

pub use certifier::Certifier;
pub use metrics::{Gauges, Metrics};

use crate::genesis::Genesis;
use crate::raft::{
    open_db, BlockEvent, LedgerStateMachine, LogStore, NodeId, ProposedBlock, TxResult, TypeConfig,
};
use crate::NodeError;
use mempool::{Mempool, QueueRefusal};
use net::{Inbound, NetConfig, NetHandle};
use wire::{NodeRequest, NodeResponse, SubmitRefusal, MAX_CHECKPOINTS_PER_PAGE};

/// Most transactions waiting on a leader.
const MEMPOOL_LIMIT: usize = 100_000;
/// Most bytes of transactions in one block.
const MAX_BLOCK_BYTES: usize = 4 * 1024 * 1024;
/// How often the block cutter looks at the queue.
const CUTTER_TICK: Duration = Duration::from_millis(10);
/// How often votes for uncertified headers are spread again.
const RESPREAD_EVERY: Duration = Duration::from_millis(500);
/// How often a node behind on certification asks a peer for checkpoints.
const PULL_EVERY: Duration = Duration::from_secs(2);

/// How a node runs.
#[derive(Clone)]
pub struct NodeConfig {
    /// The node's data directory (RocksDB lives in `DIR/db`).
    pub data_dir: PathBuf,
    /// The checked genesis.
    pub genesis: Genesis,
    /// The validator key (also the libp2p identity).
    pub key: SigningKey,
    /// Where libp2p listens (default: this validator's genesis address).
    pub listen: Option<Multiaddr>,
    /// Where the client API listens.
    pub http: SocketAddr,
    /// Longest a queued transaction waits for a block (the issue asks for ≤ 200 ms).
    pub block_interval: Duration,
    /// Most transactions in one block.
    pub max_block_txs: usize,
    /// Raft snapshot every this many log entries.
    pub snapshot_every: u64,
}

/// What became of a submitted transaction once its block was applied on this node.
#[derive(Clone, Debug)]
pub struct TxDone {
    /// The block height, when the block applied (`None`: no transaction of it applied).
    pub height: Option<u64>,
    /// The transaction's outcome.
    pub result: TxResult,
}

/// Why a submission was refused.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// The transaction fails the ledger's checks.
    #[error("{message}")]
    Invalid {
        /// Stable reason code.
        code: String,
        /// Plain words.
        message: String,
    },
    /// No leader is known (elections under way, or too few validators up).
    #[error("no leader: the ledger cannot order transactions right now")]
    NoLeader,
    /// The leader's queue is full.
    #[error("the ledger is busy: retry shortly")]
    Busy,
    /// The node failed.
    #[error(transparent)]
    Node(#[from] NodeError),
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
    peers: HashMap<NodeId, PeerId>,
    mempool: Mutex<Mempool>,
    waiters: Mutex<HashMap<Hash32, Vec<oneshot::Sender<TxDone>>>>,
    block_interval: Duration,
    max_block_txs: usize,
}

/// A running node.
pub struct Node {
    shared: Arc<Shared>,
    http_addr: SocketAddr,
    tasks: Vec<JoinHandle<()>>,
    stop_http: Option<oneshot::Sender<()>>,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

fn lock<T>(m: &Mutex<T>) -> Result<std::sync::MutexGuard<'_, T>, NodeError> {
    m.lock()
        .map_err(|_| NodeError::Storage("a node lock was poisoned".into()))
}

impl Node {
    /// Opens the node's storage, joins the network and starts ordering, certifying and
    /// serving the client API.
    pub async fn start(config: NodeConfig) -> Result<Node, NodeError> {
        let genesis = config.genesis;
        let public = ecert_verifier::crypto::public_key(&config.key);
        let me = genesis
            .validators
            .iter()
            .position(|v| v.key == public)
            .ok_or_else(|| {
                NodeError::Config(format!(
                    "this node's key {} is not a validator in the genesis",
                    public.to_hex()
                ))
            })?;
        let me_vote =
            u16::try_from(me).map_err(|_| NodeError::Config("too many validators".into()))?;
        let me = me as NodeId;

        let mut validators = Vec::new();
        let mut members = BTreeMap::new();
        let mut peers = HashMap::new();
        for (i, (v, address)) in genesis
            .validators
            .iter()
            .zip(genesis.addresses.iter())
            .enumerate()
        {
            let id = i as NodeId;
            let peer = net::peer_id_of(&v.key.0)?;
            let addr: Multiaddr = address.parse().map_err(|e| {
                NodeError::Config(format!(
                    "validator {}: address {address}: {e}",
                    v.department
                ))
            })?;
            validators.push((id, peer, addr));
            members.insert(id, BasicNode::new(address.clone()));
            if id != me {
                peers.insert(id, peer);
            }
        }
        let listen = match config.listen {
            Some(addr) => addr,
            None => validators
                .iter()
                .find(|(id, _, _)| *id == me)
                .map(|(_, _, a)| a.clone())
                .ok_or_else(|| NodeError::Config("no listen address".into()))?,
        };

        std::fs::create_dir_all(&config.data_dir)
            .map_err(|e| NodeError::Storage(format!("{}: {e}", config.data_dir.display())))?;
        let db = open_db(&config.data_dir.join("db"))?;
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        let machine = LedgerStateMachine::open_with_events(
            db.clone(),
            genesis.ledger_state()?,
            Some(events_tx),
        )?;
        let log = LogStore::new(db.clone());
        let certifier =
            Certifier::open(db, config.key.clone(), me_vote, genesis.validators.clone())?;

        let mut secret = config.key.to_bytes();
        let keypair = libp2p::identity::Keypair::ed25519_from_bytes(&mut secret)
            .map_err(|e| NodeError::Config(format!("validator key: {e}")))?;
        let (net, inbound) = net::start(NetConfig {
            keypair,
            listen,
            validators,
        })?;

        let raft_config = openraft::Config {
            cluster_name: genesis.chain_id.to_string(),
            heartbeat_interval: 150,
            election_timeout_min: 1_000,
            election_timeout_max: 2_000,
            install_snapshot_timeout: 10_000,
            max_payload_entries: 64,
            snapshot_policy: SnapshotPolicy::LogsSinceLast(config.snapshot_every),
            snapshot_max_chunk_size: 4 * 1024 * 1024,
            max_in_snapshot_log_to_keep: 16,
            purge_batch_size: 64,
            ..Default::default()
        }
        .validate()
        .map_err(|e| NodeError::Config(format!("raft: {e}")))?;
        let network = raft_net::Network::new(net.clone(), peers.clone());
        let raft = Raft::new(me, Arc::new(raft_config), network, log, machine.clone())
            .await
            .map_err(|e| NodeError::Storage(format!("raft: {e}")))?;
        let initialized = raft
            .is_initialized()
            .await
            .map_err(|e| NodeError::Storage(format!("raft: {e}")))?;
        if !initialized {
            // Every validator starts from the same genesis membership; initializing each
            // with the same set is how openraft forms a fixed cluster.
            if let Err(e) = raft.initialize(members).await {
                tracing::debug!("raft initialize: {e}");
            }
        }

        let shared = Arc::new(Shared {
            me,
            genesis,
            raft,
            machine,
            certifier,
            net,
            metrics: Metrics::default(),
            peers,
            mempool: Mutex::new(Mempool::new(MEMPOOL_LIMIT)),
            waiters: Mutex::new(HashMap::new()),
            block_interval: config.block_interval,
            max_block_txs: config.max_block_txs.max(1),
        });

        let listener = tokio::net::TcpListener::bind(config.http)
            .await
            .map_err(|e| NodeError::Network(format!("cannot listen on {}: {e}", config.http)))?;
        let http_addr = listener
            .local_addr()
            .map_err(|e| NodeError::Network(e.to_string()))?;
        let (stop_http, stopped) = oneshot::channel::<()>();
        let router = api::router(shared.clone());
        let http = tokio::spawn(async move {
            let serve = axum::serve(listener, router).with_graceful_shutdown(async move {
                let _ = stopped.await;
            });
            if let Err(e) = serve.await {
                tracing::error!("client API stopped: {e}");
            }
        });

        let tasks = vec![
            http,
            tokio::spawn(dispatch(shared.clone(), inbound)),
            tokio::spawn(follow_blocks(shared.clone(), events_rx)),
            tokio::spawn(cut_blocks(shared.clone())),
            tokio::spawn(respread_votes(shared.clone())),
            tokio::spawn(pull_checkpoints(shared.clone())),
        ];
        tracing::info!(
            validator = me,
            department = %shared.department(),
            %http_addr,
            "node started"
        );
        Ok(Node {
            shared,
            http_addr,
            tasks,
            stop_http: Some(stop_http),
        })
    }

    /// Where the client API listens.
    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    /// The node's shared state.
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Stops serving, stops Raft and the background tasks.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop_http.take() {
            let _ = stop.send(());
        }
        if let Err(e) = self.shared.raft.shutdown().await {
            tracing::warn!("raft shutdown: {e}");
        }
        for task in self.tasks {
            task.abort();
        }
    }
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

    /// This node's Raft role.
    pub fn role(&self) -> ServerState {
        self.raft.metrics().borrow().state
    }

    fn is_leader(&self) -> bool {
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

    /// Checks a transaction against the current ledger state and hands it to the leader.
    pub async fn submit(&self, bytes: Vec<u8>) -> Result<Hash32, SubmitError> {
        let hash = transaction_hash(&bytes);
        let tx = Transaction::from_bytes(&bytes).map_err(|e| SubmitError::Invalid {
            code: "malformed".into(),
            message: e.to_string(),
        })?;
        let now = now_ms();
        self.machine
            .read(|s| s.check(&tx, now.max(s.last_time_ms())))?
            .map_err(|e| SubmitError::Invalid {
                code: e.code().to_owned(),
                message: e.to_string(),
            })?;
        let bytes = ByteBuf::from(bytes);
        // Election or leader change: try a few times before giving up.
        for attempt in 0..20u32 {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            if self.is_leader() {
                return match lock(&self.mempool)?.push(hash, bytes) {
                    Ok(()) | Err(QueueRefusal::Duplicate) => Ok(hash),
                    Err(QueueRefusal::Full) => Err(SubmitError::Busy),
                };
            }
            let Some(peer) = self.leader().and_then(|l| self.peers.get(&l).copied()) else {
                continue;
            };
            match self
                .net
                .request(peer, NodeRequest::Submit(bytes.clone()))
                .await
            {
                Ok(NodeResponse::Submitted(Ok(()))) => return Ok(hash),
                Ok(NodeResponse::Submitted(Err(SubmitRefusal::Invalid { code, message }))) => {
                    return Err(SubmitError::Invalid { code, message })
                }
                Ok(NodeResponse::Submitted(Err(SubmitRefusal::Busy))) => {
                    return Err(SubmitError::Busy)
                }
                Ok(_) | Err(_) => continue,
            }
        }
        Err(SubmitError::NoLeader)
    }

    /// A transaction forwarded by another validator: check it and queue it if leader.
    fn take_forwarded(&self, bytes: ByteBuf) -> Result<(), SubmitRefusal> {
        if !self.is_leader() {
            return Err(SubmitRefusal::NotLeader(self.leader()));
        }
        let invalid = |code: &str, message: String| SubmitRefusal::Invalid {
            code: code.to_owned(),
            message,
        };
        let tx =
            Transaction::from_bytes(&bytes).map_err(|e| invalid("malformed", e.to_string()))?;
        let now = now_ms();
        match self
            .machine
            .read(|s| s.check(&tx, now.max(s.last_time_ms())))
        {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(invalid(e.code(), e.to_string())),
            Err(_) => return Err(SubmitRefusal::Busy),
        }
        let hash = transaction_hash(&bytes);
        let mut pool = lock(&self.mempool).map_err(|_| SubmitRefusal::Busy)?;
        match pool.push(hash, bytes) {
            Ok(()) | Err(QueueRefusal::Duplicate) => Ok(()),
            Err(QueueRefusal::Full) => Err(SubmitRefusal::Busy),
        }
    }

    /// Sends this node's vote on `height` to every other validator and takes in the votes
    /// they answer with.
    fn spread_vote(self: &Arc<Self>, height: u64, vote: Vote) {
        for peer in self.peers.values().copied() {
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

/// Answers requests from other nodes. Ordering, votes and forwarded transactions are
/// taken from genesis validators only; anyone may read checkpoints.
async fn dispatch(shared: Arc<Shared>, mut inbound: mpsc::Receiver<Inbound>) {
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
        NodeRequest::Submit(bytes) => NodeResponse::Submitted(shared.take_forwarded(bytes)),
        NodeRequest::Checkpoints { .. } => NodeResponse::Checkpoints(Vec::new()),
    }
}

/// Follows applied blocks: sign and spread the header vote, answer waiting clients.
async fn follow_blocks(shared: Arc<Shared>, mut events: mpsc::UnboundedReceiver<BlockEvent>) {
    while let Some(event) = events.recv().await {
        let mut anchored = 0u64;
        for (_, result) in &event.txs {
            match result {
                TxResult::Skipped { .. } => {
                    shared
                        .metrics
                        .skipped
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                TxResult::Anchored { batch_seq } => {
                    shared
                        .metrics
                        .applied
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
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
                    shared
                        .metrics
                        .applied
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
        }
        shared
            .metrics
            .certificates
            .fetch_add(anchored, std::sync::atomic::Ordering::Relaxed);
        let height = event.applied.as_ref().map(|(h, _)| *h);
        if let Some((height, header)) = &event.applied {
            match shared.certifier.on_applied(*height, header) {
                Ok(Some(vote)) => shared.spread_vote(*height, vote),
                Ok(None) => {}
                Err(e) => tracing::error!(height, "cannot certify: {e}"),
            }
        }
        if let Ok(mut waiters) = shared.waiters.lock() {
            // Submitters that gave up (their transaction was lost with a crashed leader,
            // or they timed out) leave closed channels behind: drop them now and then.
            if waiters.len() > 10_000 {
                waiters.retain(|_, list| {
                    list.retain(|w| !w.is_closed());
                    !list.is_empty()
                });
            }
            for (hash, result) in event.txs {
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
    }
}

/// The leader's block cutter: a block when the oldest queued transaction has waited a
/// block interval or the queue holds a full block; never an empty block. A node that is
/// not the leader hands what it queued to the leader.
async fn cut_blocks(shared: Arc<Shared>) {
    let mut tick = tokio::time::interval(CUTTER_TICK);
    loop {
        tick.tick().await;
        let (due, empty) = match shared.mempool.lock() {
            Ok(pool) => (
                pool.oldest_wait()
                    .is_some_and(|w| w >= shared.block_interval)
                    || pool.len() >= shared.max_block_txs,
                pool.is_empty(),
            ),
            Err(_) => return,
        };
        if empty {
            continue;
        }
        if !shared.is_leader() {
            let taken = match shared.mempool.lock() {
                Ok(mut pool) => pool.take(usize::MAX, usize::MAX),
                Err(_) => return,
            };
            requeue_at_leader(&shared, taken).await;
            continue;
        }
        if !due {
            continue;
        }
        let taken = match shared.mempool.lock() {
            Ok(mut pool) => pool.take(shared.max_block_txs, MAX_BLOCK_BYTES),
            Err(_) => return,
        };
        if taken.is_empty() {
            continue;
        }
        let last = shared.machine.read(|s| s.last_time_ms()).unwrap_or(0);
        let block = ProposedBlock {
            time_ms: now_ms().max(last),
            txs: taken.iter().map(|(_, tx)| tx.clone()).collect(),
        };
        let started = Instant::now();
        match shared.raft.client_write(block).await {
            Ok(_) => {
                shared
                    .metrics
                    .proposed
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tracing::debug!(
                    txs = taken.len(),
                    ms = started.elapsed().as_millis() as u64,
                    "block committed"
                );
            }
            Err(RaftError::APIError(ClientWriteError::ForwardToLeader(_))) => {
                requeue_at_leader(&shared, taken).await;
            }
            Err(e) => {
                tracing::warn!("block not committed: {e}");
            }
        }
    }
}

/// Hands queued transactions to the current leader (they were checked when they arrived;
/// the leader checks again).
async fn requeue_at_leader(shared: &Shared, txs: Vec<(Hash32, ByteBuf)>) {
    let Some(peer) = shared.leader().and_then(|l| shared.peers.get(&l).copied()) else {
        // No other leader known: keep them here for the next round.
        if let Ok(mut pool) = shared.mempool.lock() {
            for (hash, tx) in txs {
                let _ = pool.push(hash, tx);
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

/// Spreads this node's votes for headers not yet certified again, for peers that missed
/// them (restarted, or briefly unreachable).
async fn respread_votes(shared: Arc<Shared>) {
    let mut tick = tokio::time::interval(RESPREAD_EVERY);
    loop {
        tick.tick().await;
        match shared.certifier.uncertified_own_votes(16) {
            Ok(votes) => {
                for (height, vote) in votes {
                    shared.spread_vote(height, vote);
                }
            }
            Err(e) => tracing::warn!("respread: {e}"),
        }
    }
}

/// A node whose certified height lags its applied height (it caught up through a
/// snapshot, or missed votes) asks a peer for the checkpoints it lacks and keeps those
/// that verify against the validators.
async fn pull_checkpoints(shared: Arc<Shared>) {
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

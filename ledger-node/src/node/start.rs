//! Wiring a node together: storage, the network, Raft, the client API and the background
//! tasks.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ed25519_dalek::SigningKey;
use libp2p::{Multiaddr, PeerId};
use openraft::{BasicNode, Raft, SnapshotPolicy};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::certifier::Certifier;
use super::checkpoints::pull_checkpoints;
use super::cutter::cut_blocks;
use super::dispatch::dispatch;
use super::follower::follow_blocks;
use super::mempool::Mempool;
use super::metrics::Metrics;
use super::net::{self, NetConfig};
use super::shared::Shared;
use super::votes::respread_votes;
use super::{api, raft_net};
use crate::genesis::Genesis;
use crate::raft::{open_db, LedgerStateMachine, LogStore, NodeId, TypeConfig};
use crate::NodeError;

/// Most transactions waiting on a leader.
const MEMPOOL_LIMIT: usize = 100_000;

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

/// A running node.
pub struct Node {
    shared: Arc<Shared>,
    http_addr: SocketAddr,
    tasks: Vec<JoinHandle<()>>,
    stop_http: Option<oneshot::Sender<()>>,
}

/// The validators as the network and Raft see them.
struct Membership {
    /// Each validator's Raft id, peer id and address.
    validators: Vec<(NodeId, PeerId, Multiaddr)>,
    /// Raft's initial membership.
    members: BTreeMap<NodeId, BasicNode>,
    /// The other validators' peer ids.
    peers: HashMap<NodeId, PeerId>,
}

/// This node's position in the genesis validator set.
fn position_of(genesis: &Genesis, key: &SigningKey) -> Result<u16, NodeError> {
    let public = ecert_verifier::crypto::public_key(key);
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
    u16::try_from(me).map_err(|_| NodeError::Config("too many validators".into()))
}

fn membership(genesis: &Genesis, me: NodeId) -> Result<Membership, NodeError> {
    let mut out = Membership {
        validators: Vec::new(),
        members: BTreeMap::new(),
        peers: HashMap::new(),
    };
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
        out.validators.push((id, peer, addr));
        out.members.insert(id, BasicNode::new(address.clone()));
        if id != me {
            out.peers.insert(id, peer);
        }
    }
    Ok(out)
}

fn raft_config(genesis: &Genesis, snapshot_every: u64) -> Result<openraft::Config, NodeError> {
    openraft::Config {
        cluster_name: genesis.chain_id.to_string(),
        heartbeat_interval: 150,
        election_timeout_min: 1_000,
        election_timeout_max: 2_000,
        install_snapshot_timeout: 10_000,
        max_payload_entries: 64,
        snapshot_policy: SnapshotPolicy::LogsSinceLast(snapshot_every),
        snapshot_max_chunk_size: 4 * 1024 * 1024,
        max_in_snapshot_log_to_keep: 16,
        purge_batch_size: 64,
        ..Default::default()
    }
    .validate()
    .map_err(|e| NodeError::Config(format!("raft: {e}")))
}

/// Starts Raft with the genesis membership (on the first start only).
async fn start_raft(
    me: NodeId,
    config: openraft::Config,
    network: raft_net::Network,
    log: LogStore,
    machine: LedgerStateMachine,
    members: BTreeMap<NodeId, BasicNode>,
) -> Result<Raft<TypeConfig>, NodeError> {
    let raft = Raft::new(me, Arc::new(config), network, log, machine)
        .await
        .map_err(|e| NodeError::Storage(format!("raft: {e}")))?;
    let initialized = raft
        .is_initialized()
        .await
        .map_err(|e| NodeError::Storage(format!("raft: {e}")))?;
    if !initialized {
        // Every validator starts from the same genesis membership; initializing each with
        // the same set is how openraft forms a fixed cluster.
        if let Err(e) = raft.initialize(members).await {
            tracing::debug!("raft initialize: {e}");
        }
    }
    Ok(raft)
}

/// Serves the client API on `addr` until told to stop.
async fn serve_http(
    shared: Arc<Shared>,
    addr: SocketAddr,
) -> Result<(SocketAddr, JoinHandle<()>, oneshot::Sender<()>), NodeError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| NodeError::Network(format!("cannot listen on {addr}: {e}")))?;
    let http_addr = listener
        .local_addr()
        .map_err(|e| NodeError::Network(e.to_string()))?;
    let (stop, stopped) = oneshot::channel::<()>();
    let router = api::router(shared);
    let task = tokio::spawn(async move {
        let serve = axum::serve(listener, router).with_graceful_shutdown(async move {
            let _ = stopped.await;
        });
        if let Err(e) = serve.await {
            tracing::error!("client API stopped: {e}");
        }
    });
    Ok((http_addr, task, stop))
}

impl Node {
    /// Opens the node's storage, joins the network and starts ordering, certifying and
    /// serving the client API.
    pub async fn start(config: NodeConfig) -> Result<Node, NodeError> {
        let genesis = config.genesis;
        let me_vote = position_of(&genesis, &config.key)?;
        let me = NodeId::from(me_vote);
        let Membership {
            validators,
            members,
            peers,
        } = membership(&genesis, me)?;
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

        let network = raft_net::Network::new(net.clone(), peers.clone());
        let raft = start_raft(
            me,
            raft_config(&genesis, config.snapshot_every)?,
            network,
            log,
            machine.clone(),
            members,
        )
        .await?;

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

        let (http_addr, http, stop_http) = serve_http(shared.clone(), config.http).await?;
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

//! Wiring a node together: storage, the network, Raft, the client API and the background
//! tasks.
//!
//! A node whose key is a genesis validator initialises Raft with the genesis membership on
//! its first start (every genesis validator does the same, which is how openraft forms the
//! cluster). A node with any other key starts as no validator: it does not initialise
//! Raft, dials the genesis validators, learns the current set from them, and is added to
//! Raft as a learner by the leader once a validator-set change naming it is applied; it
//! follows the log and is a validator from the height its set starts. Raft ids come from
//! the validator keys ([`crate::raft::node_id_of`]).

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use ecert_schemas::PublicKeyBytes;
use ecert_serve::{Limits, Listener, Origin, Security};
use ed25519_dalek::SigningKey;
use libp2p::{Multiaddr, PeerId};
use openraft::{BasicNode, Raft, SnapshotPolicy};
use tokio::sync::{mpsc, oneshot, Notify};
use tokio::task::JoinHandle;

use super::certifier::Certifier;
use super::checkpoints::pull_checkpoints;
use super::cutter::cut_blocks;
use super::dispatch::dispatch;
use super::follower::follow_blocks;
use super::freshness::keep_fresh;
use super::membership::follow_validator_set;
use super::mempool::Mempool;
use super::metrics::Metrics;
use super::net::{self, NetConfig};
use super::raft_net::{member_node, Directory};
use super::roster::{learn_validator_sets, Roster};
use super::shared::Shared;
use super::votes::respread_votes;
use super::{api, raft_net};
use crate::freshness_pool::FreshnessPool;
use crate::genesis::Genesis;
use crate::raft::{node_id_of, open_db, LedgerStateMachine, LogStore, NodeId, TypeConfig};
use crate::state::LedgerState;
use crate::NodeError;

/// Most transactions waiting on a leader.
const MEMPOOL_LIMIT: usize = 100_000;
/// Shortest freshness period taken.
const MIN_FRESHNESS_PERIOD: Duration = Duration::from_millis(100);

/// How old a validator's freshness statement may be and still be served: three periods
/// (two missed), and at least five seconds for clock differences.
fn freshness_max_age(period: Duration) -> u64 {
    u64::try_from(period.saturating_mul(3).as_millis())
        .unwrap_or(u64::MAX)
        .max(5_000)
}

/// How a node runs.
#[derive(Clone)]
pub struct NodeConfig {
    /// The node's data directory (RocksDB lives in `DIR/db`).
    pub data_dir: PathBuf,
    /// The checked genesis.
    pub genesis: Genesis,
    /// The validator key (also the libp2p identity). A key that is no genesis validator
    /// starts a node that is no validator until a validator-set change names it.
    pub key: SigningKey,
    /// Where libp2p listens (default: this key's address in the newest validator-set
    /// change that names it in the state the node starts from, its latest snapshot, else
    /// in the genesis; required when neither names it, as for a node that joins and
    /// starts from nothing).
    pub listen: Option<Multiaddr>,
    /// Where the client API listens.
    pub http: SocketAddr,
    /// How the client API is served: TLS, the web apps, cross-origin callers.
    pub serving: Serving,
    /// Longest a queued transaction waits for a block (the issue asks for ≤ 200 ms).
    pub block_interval: Duration,
    /// Most transactions in one block.
    pub max_block_txs: usize,
    /// Raft snapshot every this many log entries.
    pub snapshot_every: u64,
    /// How often this validator signs that the newest certified header is still the
    /// newest (freshness on an idle ledger).
    pub freshness_period: Duration,
    /// Raft's heartbeat interval, also how long the leader waits for an append's answer:
    /// longer than the round trip between validators ([`DEFAULT_HEARTBEAT_MS`]).
    pub heartbeat: Duration,
}

/// How the client API is served.
#[derive(Clone, Debug)]
pub struct Serving {
    /// HTTPS with a certificate, or plain HTTP.
    pub security: Security,
    /// Plain HTTP on a non-loopback address allowed (`--insecure-http`).
    pub insecure_http: bool,
    /// The repository's `web/` folder, to serve the wallet and counter apps from.
    pub web: Option<PathBuf>,
    /// The web origins allowed to call the API from a browser (`--allow-origin`).
    pub allow_origins: Vec<Origin>,
    /// Connections, timeouts and per-client rates (the largest body is the API's own,
    /// [`api::MAX_BODY_BYTES`]).
    pub limits: Limits,
}

impl Default for Serving {
    /// Plain HTTP (loopback only), no apps, no cross-origin callers.
    fn default() -> Serving {
        Serving {
            security: Security::Plain,
            insecure_http: false,
            web: None,
            allow_origins: Vec::new(),
            limits: Limits::default(),
        }
    }
}

/// A running node.
pub struct Node {
    shared: Arc<Shared>,
    http_addr: SocketAddr,
    http_url: String,
    tasks: Vec<JoinHandle<()>>,
    http: Option<JoinHandle<()>>,
    stop_http: Option<oneshot::Sender<()>>,
}

/// The genesis validators as the network and Raft see them.
struct GenesisMembers {
    /// Each validator's Raft id, peer id and address.
    validators: Vec<(NodeId, PeerId, Multiaddr)>,
    /// Raft's initial membership.
    members: BTreeMap<NodeId, BasicNode>,
}

fn genesis_members(genesis: &Genesis) -> Result<GenesisMembers, NodeError> {
    let mut out = GenesisMembers {
        validators: Vec::new(),
        members: BTreeMap::new(),
    };
    for (v, address) in genesis.validators.iter().zip(genesis.addresses.iter()) {
        let id = node_id_of(&v.key);
        let peer = net::peer_id_of(&v.key.0)?;
        let addr: Multiaddr = address.parse().map_err(|e| {
            NodeError::Config(format!(
                "validator {}: address {address}: {e}",
                v.department
            ))
        })?;
        if out.members.insert(id, member_node(address, peer)).is_some() {
            return Err(NodeError::Config(format!(
                "validator {}: two genesis keys have the same Raft id",
                v.department
            )));
        }
        out.validators.push((id, peer, addr));
    }
    Ok(out)
}

/// Where this node listens by default: its address in the newest validator-set change of
/// `state` that names its key, else in the genesis.
fn default_listen(
    genesis: &Genesis,
    state: &LedgerState,
    key: &PublicKeyBytes,
) -> Option<Result<Multiaddr, NodeError>> {
    let named = state
        .validator_changes()
        .iter()
        .rev()
        .filter_map(|c| c.new_set())
        .find_map(|set| {
            let i = set.validators.iter().position(|v| &v.key == key)?;
            set.addresses.get(i).cloned()
        })
        .or_else(|| {
            let i = genesis.validators.iter().position(|v| &v.key == key)?;
            genesis.addresses.get(i).cloned()
        })?;
    Some(raft_net::dial_address(&named).ok_or_else(|| {
        NodeError::Config(format!("this node's address {named}: not a multiaddress"))
    }))
}

/// The default heartbeat interval, in milliseconds (`--heartbeat-ms`).
pub const DEFAULT_HEARTBEAT_MS: u64 = 150;

/// Raft's timing from the heartbeat interval: (heartbeat, shortest and longest election
/// timeout), in milliseconds. openraft 0.9 also gives up on each append (heartbeats
/// included) after one heartbeat interval, so the interval must exceed the round trip
/// between validators: with a longer round trip no append is ever answered in time and
/// nothing commits. The election timeouts are 6 and 12 heartbeats, at least 1 and 2 s.
pub(super) fn raft_timing(heartbeat_ms: u64) -> (u64, u64, u64) {
    let election_min = heartbeat_ms.saturating_mul(6).max(1_000);
    (heartbeat_ms, election_min, election_min.saturating_mul(2))
}

fn raft_config(
    genesis: &Genesis,
    snapshot_every: u64,
    heartbeat_ms: u64,
) -> Result<openraft::Config, NodeError> {
    let (heartbeat, election_min, election_max) = raft_timing(heartbeat_ms);
    openraft::Config {
        cluster_name: genesis.chain_id.to_string(),
        heartbeat_interval: heartbeat,
        election_timeout_min: election_min,
        election_timeout_max: election_max,
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

/// Starts Raft, with the genesis membership `members` on the first start of a genesis
/// validator (`None`: a node that joins later waits for the leader to add it).
async fn start_raft(
    me: NodeId,
    config: openraft::Config,
    network: raft_net::Network,
    log: LogStore,
    machine: LedgerStateMachine,
    members: Option<BTreeMap<NodeId, BasicNode>>,
) -> Result<Raft<TypeConfig>, NodeError> {
    let raft = Raft::new(me, Arc::new(config), network, log, machine)
        .await
        .map_err(|e| NodeError::Storage(format!("raft: {e}")))?;
    let initialized = raft
        .is_initialized()
        .await
        .map_err(|e| NodeError::Storage(format!("raft: {e}")))?;
    if let (false, Some(members)) = (initialized, members) {
        // Every genesis validator starts from the same genesis membership; initializing
        // each with the same set is how openraft forms the cluster.
        if let Err(e) = raft.initialize(members).await {
            tracing::debug!("raft initialize: {e}");
        }
    }
    Ok(raft)
}

/// The client API's listener and router, checked before anything else starts: a refused
/// address, an unusable web folder or a port in use fail the start at once.
fn http_listener(addr: SocketAddr, serving: &Serving) -> Result<Listener, NodeError> {
    let limits = Limits {
        max_body_bytes: api::MAX_BODY_BYTES,
        ..serving.limits
    };
    Listener::bind(addr, serving.security.clone(), serving.insecure_http)
        .map(|listener| listener.with_limits(limits))
        .map_err(|e| NodeError::Network(e.to_string()))
}

/// The client API's routes, with the web apps and CORS as configured.
fn http_router(shared: Arc<Shared>, serving: &Serving) -> Result<axum::Router, NodeError> {
    let mut router = api::router(shared, &serving.limits);
    if let Some(web) = &serving.web {
        let secure = matches!(serving.security, Security::Tls(_));
        let apps =
            ecert_serve::apps::router(web, secure).map_err(|e| NodeError::Config(e.to_string()))?;
        router = router.fallback_service(apps);
    }
    if let Some(cors) = ecert_serve::cors::layer(&serving.allow_origins) {
        router = router.layer(cors);
    }
    Ok(router)
}

/// Serves the client API on `listener` until told to stop.
fn serve_http(listener: Listener, router: axum::Router) -> (JoinHandle<()>, oneshot::Sender<()>) {
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let stopped = async move {
            let _ = stopped.await;
        };
        if let Err(e) = listener.serve(router, stopped).await {
            tracing::error!("client API stopped: {e}");
        }
    });
    (task, stop)
}

impl Node {
    /// Opens the node's storage, joins the network and starts ordering, certifying and
    /// serving the client API.
    pub async fn start(config: NodeConfig) -> Result<Node, NodeError> {
        // The API's address and apps first: a refused address or a missing folder stops the
        // start before storage and the network are touched.
        let listener = http_listener(config.http, &config.serving)?;
        if let Some(web) = &config.serving.web {
            if !web.is_dir() {
                return Err(NodeError::Config(
                    ecert_serve::AppsError::NotAFolder(web.clone()).to_string(),
                ));
            }
        }
        let genesis = config.genesis;
        let public = ecert_verifier::crypto::public_key(&config.key);
        let me = node_id_of(&public);
        let GenesisMembers {
            validators,
            members,
        } = genesis_members(&genesis)?;
        let in_genesis = genesis.validators.iter().any(|v| v.key == public);

        std::fs::create_dir_all(&config.data_dir)
            .map_err(|e| NodeError::Storage(format!("{}: {e}", config.data_dir.display())))?;
        let db = open_db(&config.data_dir.join("db"))?;
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        let machine = LedgerStateMachine::open_with_events(
            db.clone(),
            genesis.ledger_state()?,
            Some(events_tx),
        )?;
        let listen = match config.listen {
            Some(addr) => addr,
            None => machine
                .read(|s| default_listen(&genesis, s, &public))?
                .ok_or_else(|| {
                    NodeError::Config(format!(
                        "this node's key {} is named by neither the genesis nor a validator-set \
                         change it knows of: give the address to listen on (--listen)",
                        public.to_hex()
                    ))
                })??,
        };
        let log = LogStore::new(db.clone());
        let certifier = Certifier::open(db, config.key.clone(), genesis.validators.clone())?;

        let mut secret = config.key.to_bytes();
        let keypair = libp2p::identity::Keypair::ed25519_from_bytes(&mut secret)
            .map_err(|e| NodeError::Config(format!("validator key: {e}")))?;
        let (net, inbound) = net::start(NetConfig {
            keypair,
            listen,
            validators,
        })?;

        let directory = Directory::default();
        directory.learn(genesis.validators.iter().map(|v| &v.key));
        let network = raft_net::Network::new(net.clone(), directory.clone());
        let heartbeat_ms = u64::try_from(config.heartbeat.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        let raft = start_raft(
            me,
            raft_config(&genesis, config.snapshot_every, heartbeat_ms)?,
            network,
            log,
            machine.clone(),
            in_genesis.then_some(members),
        )
        .await?;

        let freshness_period = config.freshness_period.max(MIN_FRESHNESS_PERIOD);
        let freshness = Mutex::new(FreshnessPool::new(
            genesis.chain_id.clone(),
            public,
            freshness_max_age(freshness_period),
        ));
        let roster = RwLock::new(Roster::new(&genesis));
        let shared = Arc::new(Shared {
            me,
            key: public,
            genesis,
            raft,
            machine,
            certifier,
            net,
            metrics: Metrics::default(),
            roster,
            directory,
            learn: Notify::new(),
            learn_from: Mutex::new(None),
            set_changed: Notify::new(),
            mempool: Mutex::new(Mempool::new(MEMPOOL_LIMIT)),
            waiters: Mutex::new(HashMap::new()),
            block_interval: config.block_interval,
            max_block_txs: config.max_block_txs.max(1),
            signing_key: config.key.clone(),
            freshness,
            freshness_period,
            leader_lease_ms: raft_timing(heartbeat_ms).2,
        });

        shared.sync_roster();

        let http_addr = listener.local_addr();
        let http_url = listener.url();
        let router = http_router(shared.clone(), &config.serving)?;
        let (http, stop_http) = serve_http(listener, router);
        let tasks = vec![
            tokio::spawn(dispatch(shared.clone(), inbound)),
            tokio::spawn(follow_blocks(shared.clone(), events_rx)),
            tokio::spawn(cut_blocks(shared.clone())),
            tokio::spawn(respread_votes(shared.clone())),
            tokio::spawn(pull_checkpoints(shared.clone())),
            tokio::spawn(keep_fresh(shared.clone())),
            tokio::spawn(follow_validator_set(shared.clone())),
            tokio::spawn(learn_validator_sets(shared.clone())),
        ];
        tracing::info!(
            raft_id = me,
            key = %shared.key.to_hex(),
            validator = shared.is_validator(),
            department = %shared.department(),
            %http_addr,
            "node started"
        );
        Ok(Node {
            shared,
            http_addr,
            http_url,
            tasks,
            http: Some(http),
            stop_http: Some(stop_http),
        })
    }

    /// Where the client API listens.
    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    /// The client API's base URL on this computer (`https://127.0.0.1:7200`).
    pub fn http_url(&self) -> &str {
        &self.http_url
    }

    /// Stops serving, stops Raft and the background tasks.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop_http.take() {
            let _ = stop.send(());
        }
        // Requests in flight finish (their answers may need Raft), within the grace time.
        if let Some(http) = self.http.take() {
            let grace = ecert_serve::server::GRACE + Duration::from_secs(1);
            if tokio::time::timeout(grace, http).await.is_err() {
                tracing::warn!("the client API did not stop within {grace:?}");
            }
        }
        if let Err(e) = self.shared.raft.shutdown().await {
            tracing::warn!("raft shutdown: {e}");
        }
        for task in self.tasks {
            task.abort();
        }
    }
}

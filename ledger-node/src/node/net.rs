//! The libp2p side of a node: TCP + Noise + Yamux, one request-response protocol, and a
//! handle the rest of the node uses to send requests and answer inbound ones.
//!
//! A node's libp2p identity is its validator key, so a peer id says which genesis validator
//! is on the other end (Noise authenticates it). Who may use which request is decided by
//! the node from [`Inbound::validator`], never from what a message claims.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use libp2p::request_response::{self, OutboundRequestId, ProtocolSupport, ResponseChannel};
use libp2p::swarm::SwarmEvent;
use libp2p::{identity, noise, tcp, yamux, Multiaddr, PeerId, StreamProtocol, Swarm};
use tokio::sync::{mpsc, oneshot};

use super::wire::{NodeRequest, NodeResponse, MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES, PROTOCOL};
use crate::raft::NodeId;
use crate::NodeError;

type Behaviour = request_response::cbor::Behaviour<NodeRequest, NodeResponse>;

/// How long a request may take before it fails (Raft uses shorter limits of its own).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How often unreachable validators are dialled again.
const REDIAL_EVERY: Duration = Duration::from_secs(1);
/// Most inbound requests waiting for the node to take them.
const INBOUND_QUEUE: usize = 4096;

/// A peer id from an Ed25519 public key (the validator key).
pub fn peer_id_of(key: &[u8; 32]) -> Result<PeerId, NodeError> {
    let public = identity::ed25519::PublicKey::try_from_bytes(key)
        .map_err(|e| NodeError::Config(format!("validator key: {e}")))?;
    Ok(identity::PublicKey::from(public).to_peer_id())
}

/// A request that reached this node.
pub struct Inbound {
    /// Who sent it (authenticated by Noise).
    pub peer: PeerId,
    /// The sender's validator index, if it is a genesis validator.
    pub validator: Option<NodeId>,
    /// The request.
    pub request: NodeRequest,
    /// Where the answer goes.
    pub channel: ResponseChannel<NodeResponse>,
}

/// Why a request to a peer failed.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The peer could not be reached, or did not answer in time.
    #[error("peer unreachable: {0}")]
    Unreachable(String),
    /// The node is shutting down.
    #[error("the network task has stopped")]
    Stopped,
}

enum Command {
    Request {
        peer: PeerId,
        request: NodeRequest,
        reply: oneshot::Sender<Result<NodeResponse, SendError>>,
    },
    Respond {
        channel: ResponseChannel<NodeResponse>,
        response: NodeResponse,
    },
}

/// The node's handle on its network task. Cheap to clone.
#[derive(Clone)]
pub struct NetHandle {
    commands: mpsc::UnboundedSender<Command>,
    connected: Arc<AtomicUsize>,
}

impl NetHandle {
    /// Sends `request` to `peer` and waits for its answer.
    pub async fn request(
        &self,
        peer: PeerId,
        request: NodeRequest,
    ) -> Result<NodeResponse, SendError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Command::Request {
                peer,
                request,
                reply,
            })
            .map_err(|_| SendError::Stopped)?;
        answer.await.map_err(|_| SendError::Stopped)?
    }

    /// Answers an inbound request.
    pub fn respond(&self, channel: ResponseChannel<NodeResponse>, response: NodeResponse) {
        // If the task stopped, the peer sees the stream close: nothing else to do.
        let _ = self.commands.send(Command::Respond { channel, response });
    }

    /// How many peers are connected now.
    pub fn connected_peers(&self) -> usize {
        self.connected.load(Ordering::Relaxed)
    }
}

/// Where the network listens and whom it knows.
pub struct NetConfig {
    /// The node's key pair (its validator key).
    pub keypair: identity::Keypair,
    /// Where to listen.
    pub listen: Multiaddr,
    /// The genesis validators: index, peer id, address. The node's own entry is skipped.
    pub validators: Vec<(NodeId, PeerId, Multiaddr)>,
}

/// Starts the network task. Returns the handle and the stream of inbound requests.
pub fn start(config: NetConfig) -> Result<(NetHandle, mpsc::Receiver<Inbound>), NodeError> {
    let local = config.keypair.public().to_peer_id();
    let codec = request_response::cbor::codec::Codec::<NodeRequest, NodeResponse>::default()
        .set_request_size_maximum(MAX_REQUEST_BYTES)
        .set_response_size_maximum(MAX_RESPONSE_BYTES);
    let net_err = |e: &dyn std::fmt::Display| NodeError::Network(e.to_string());
    let mut swarm: Swarm<Behaviour> = libp2p::SwarmBuilder::with_existing_identity(config.keypair)
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .map_err(|e| net_err(&e))?
        .with_behaviour(|_| {
            request_response::Behaviour::with_codec(
                codec,
                [(StreamProtocol::new(PROTOCOL), ProtocolSupport::Full)],
                request_response::Config::default()
                    .with_request_timeout(REQUEST_TIMEOUT)
                    .with_max_concurrent_streams(1024),
            )
        })
        .map_err(|e| net_err(&e))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(3600)))
        .build();
    swarm
        .listen_on(config.listen.clone())
        .map_err(|e| NodeError::Network(format!("cannot listen on {}: {e}", config.listen)))?;

    let mut validators = HashMap::new();
    let mut dial = Vec::new();
    for (index, peer, address) in config.validators {
        validators.insert(peer, index);
        if peer != local {
            swarm.add_peer_address(peer, address.clone());
            dial.push((peer, address));
        }
    }

    let (commands, command_rx) = mpsc::unbounded_channel();
    let (inbound_tx, inbound_rx) = mpsc::channel(INBOUND_QUEUE);
    let connected = Arc::new(AtomicUsize::new(0));
    let handle = NetHandle {
        commands,
        connected: connected.clone(),
    };
    tokio::spawn(run(
        swarm, command_rx, inbound_tx, validators, dial, connected,
    ));
    Ok((handle, inbound_rx))
}

async fn run(
    mut swarm: Swarm<Behaviour>,
    mut commands: mpsc::UnboundedReceiver<Command>,
    inbound: mpsc::Sender<Inbound>,
    validators: HashMap<PeerId, NodeId>,
    dial: Vec<(PeerId, Multiaddr)>,
    connected: Arc<AtomicUsize>,
) {
    let mut pending: HashMap<OutboundRequestId, oneshot::Sender<Result<NodeResponse, SendError>>> =
        HashMap::new();
    let mut redial = tokio::time::interval(REDIAL_EVERY);
    loop {
        tokio::select! {
            _ = redial.tick() => {
                for (peer, address) in &dial {
                    if !swarm.is_connected(peer) {
                        let opts = libp2p::swarm::dial_opts::DialOpts::peer_id(*peer)
                            .addresses(vec![address.clone()])
                            .build();
                        if let Err(e) = swarm.dial(opts) {
                            tracing::trace!(%peer, "dial: {e}");
                        }
                    }
                }
            }
            command = commands.recv() => match command {
                None => return,
                Some(Command::Request { peer, request, reply }) => {
                    let id = swarm.behaviour_mut().send_request(&peer, request);
                    pending.insert(id, reply);
                }
                Some(Command::Respond { channel, response }) => {
                    if swarm.behaviour_mut().send_response(channel, response).is_err() {
                        tracing::debug!("a peer left before its answer was sent");
                    }
                }
            },
            event = swarm.select_next_some() => match event {
                SwarmEvent::Behaviour(request_response::Event::Message { peer, message, .. }) => {
                    match message {
                        request_response::Message::Request { request, channel, .. } => {
                            let item = Inbound {
                                peer,
                                validator: validators.get(&peer).copied(),
                                request,
                                channel,
                            };
                            if inbound.try_send(item).is_err() {
                                // Dropping the channel tells the peer it was not served.
                                tracing::warn!(%peer, "inbound queue full: request dropped");
                            }
                        }
                        request_response::Message::Response { request_id, response } => {
                            if let Some(reply) = pending.remove(&request_id) {
                                let _ = reply.send(Ok(response));
                            }
                        }
                    }
                }
                SwarmEvent::Behaviour(request_response::Event::OutboundFailure {
                    request_id, error, peer, ..
                }) => {
                    tracing::trace!(%peer, "request failed: {error}");
                    if let Some(reply) = pending.remove(&request_id) {
                        let _ = reply.send(Err(SendError::Unreachable(error.to_string())));
                    }
                }
                SwarmEvent::Behaviour(request_response::Event::InboundFailure { peer, error, .. }) => {
                    tracing::trace!(%peer, "inbound request failed: {error}");
                }
                SwarmEvent::ConnectionEstablished { peer_id, num_established, .. }
                    if num_established.get() == 1 =>
                {
                    connected.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(peer = %peer_id, validator = ?validators.get(&peer_id), "peer connected");
                }
                SwarmEvent::ConnectionClosed { peer_id, num_established: 0, .. } => {
                    connected.fetch_sub(1, Ordering::Relaxed);
                    tracing::info!(peer = %peer_id, "peer disconnected");
                }
                SwarmEvent::NewListenAddr { address, .. } => {
                    tracing::info!(%address, "listening");
                }
                _ => {}
            },
        }
    }
}

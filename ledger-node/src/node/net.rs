//! The libp2p side of a node: TCP + Noise + Yamux, one request-response protocol, and a
//! handle the rest of the node uses to send requests and answer inbound ones.
//!
//! A node's libp2p identity is its validator key, so a peer id says which validator key is
//! on the other end (Noise authenticates it). Who may use which request is decided by the
//! node from [`Inbound::key`] and the validator sets it knows, never from what a message
//! claims. The validators to dial follow the ledger's validator set
//! ([`NetHandle::set_dial`]): a node that joins is dialled, one that left is not.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ecert_schemas::PublicKeyBytes;
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
/// How often unreachable peers are dialled again.
const REDIAL_EVERY: Duration = Duration::from_secs(1);
/// Most inbound requests waiting for the node to take them.
const INBOUND_QUEUE: usize = 4096;

/// A peer id from an Ed25519 public key (the validator key).
pub fn peer_id_of(key: &[u8; 32]) -> Result<PeerId, NodeError> {
    let public = identity::ed25519::PublicKey::try_from_bytes(key)
        .map_err(|e| NodeError::Config(format!("validator key: {e}")))?;
    Ok(identity::PublicKey::from(public).to_peer_id())
}

/// The Ed25519 key a peer id is made from (a validator key, for a node of this ledger);
/// `None` for a peer id of another kind of key.
pub fn key_of(peer: &PeerId) -> Option<PublicKeyBytes> {
    let hash: &libp2p::multihash::Multihash<64> = peer.as_ref();
    // Ed25519 peer ids hold the key itself (the identity multihash, code 0).
    if hash.code() != 0 {
        return None;
    }
    let public = identity::PublicKey::try_decode_protobuf(hash.digest())
        .ok()?
        .try_into_ed25519()
        .ok()?;
    Some(PublicKeyBytes(public.to_bytes()))
}

/// A request that reached this node.
pub struct Inbound {
    /// Who sent it (authenticated by Noise).
    pub peer: PeerId,
    /// The sender's Ed25519 key, from its peer id: which validator it is, if it is one.
    pub key: Option<PublicKeyBytes>,
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
    SetDial(Vec<(PeerId, Multiaddr)>),
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

    /// The peers to keep dialling (every validator of the current set but this node, and
    /// the others the node needs): replaces the list given before.
    pub fn set_dial(&self, peers: Vec<(PeerId, Multiaddr)>) {
        let _ = self.commands.send(Command::SetDial(peers));
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
    /// The validators to dial first: Raft id, peer id, address (the node's own entry is
    /// skipped). [`NetHandle::set_dial`] replaces the list.
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

    let mut dial = Vec::new();
    for (_, peer, address) in config.validators {
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
    tokio::spawn(run(swarm, command_rx, inbound_tx, local, dial, connected));
    Ok((handle, inbound_rx))
}

async fn run(
    mut swarm: Swarm<Behaviour>,
    mut commands: mpsc::UnboundedReceiver<Command>,
    inbound: mpsc::Sender<Inbound>,
    local: PeerId,
    mut dial: Vec<(PeerId, Multiaddr)>,
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
                Some(Command::SetDial(peers)) => {
                    dial = peers.into_iter().filter(|(peer, _)| *peer != local).collect();
                    for (peer, address) in &dial {
                        swarm.add_peer_address(*peer, address.clone());
                    }
                }
            },
            event = swarm.select_next_some() => match event {
                SwarmEvent::Behaviour(request_response::Event::Message { peer, message, .. }) => {
                    match message {
                        request_response::Message::Request { request, channel, .. } => {
                            let item = Inbound {
                                peer,
                                key: key_of(&peer),
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
                    tracing::info!(peer = %peer_id, "peer connected");
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peer_id_gives_back_the_validator_key_it_was_made_from() {
        let key =
            ecert_verifier::crypto::public_key(&ed25519_dalek::SigningKey::from_bytes(&[3; 32]));
        let peer = peer_id_of(&key.0).unwrap();
        assert_eq!(key_of(&peer), Some(key));
        // A peer id that hashes its key (SHA-256) does not hold it.
        let hashed = libp2p::multihash::Multihash::<64>::wrap(0x12, &[1; 32]).unwrap();
        assert_eq!(key_of(&PeerId::from_multihash(hashed).unwrap()), None);
    }
}

//! openraft's network, carried over the node's libp2p request-response protocol.
//!
//! A Raft member's peer id is found from its node record (the address in the membership
//! names it, `…/p2p/PEER`) or else from the [`Directory`] of validator keys the node knows
//! (every key of every validator set it applied or was shown): members join and leave
//! with the validator set, so neither is fixed at start.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use ecert_schemas::PublicKeyBytes;
use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId};
use openraft::error::{
    InstallSnapshotError, NetworkError, RPCError, RaftError, RemoteError, Unreachable,
};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    VoteRequest, VoteResponse,
};
use openraft::BasicNode;

use super::net::{peer_id_of, NetHandle, SendError};
use super::wire::{NodeRequest, NodeResponse};
use crate::raft::{node_id_of, NodeId, TypeConfig};

type RpcError<E = openraft::error::Infallible> = RPCError<NodeId, BasicNode, RaftError<NodeId, E>>;

/// Raft id → peer id of every validator key the node knows. Cheap to clone (shared).
#[derive(Clone, Default)]
pub struct Directory(Arc<RwLock<HashMap<NodeId, PeerId>>>);

impl Directory {
    /// The peer of Raft node `id`, if its key is known.
    pub fn get(&self, id: NodeId) -> Option<PeerId> {
        self.0.read().ok().and_then(|map| map.get(&id).copied())
    }

    /// Learns validator keys (a key that is not a valid Ed25519 key is left out).
    pub fn learn<'a>(&self, keys: impl IntoIterator<Item = &'a PublicKeyBytes>) {
        let Ok(mut map) = self.0.write() else {
            return;
        };
        for key in keys {
            if let std::collections::hash_map::Entry::Vacant(entry) = map.entry(node_id_of(key)) {
                if let Ok(peer) = peer_id_of(&key.0) {
                    entry.insert(peer);
                }
            }
        }
    }
}

/// The record of a Raft member: its libp2p address with its peer id (`ADDRESS/p2p/PEER`),
/// so that the membership itself says who each member is.
pub fn member_node(address: &str, peer: PeerId) -> BasicNode {
    let addr = match address.parse::<Multiaddr>() {
        Ok(mut addr) => {
            if !matches!(addr.iter().last(), Some(Protocol::P2p(_))) {
                addr.push(Protocol::P2p(peer));
            }
            addr.to_string()
        }
        Err(_) => address.to_owned(),
    };
    BasicNode::new(addr)
}

/// The peer id a member's address names (`…/p2p/PEER`), if any.
pub fn peer_in(address: &str) -> Option<PeerId> {
    let addr = address.parse::<Multiaddr>().ok()?;
    addr.iter().find_map(|p| match p {
        Protocol::P2p(peer) => Some(peer),
        _ => None,
    })
}

/// A member's address to dial: its address without the `/p2p/PEER` part.
pub fn dial_address(address: &str) -> Option<Multiaddr> {
    let addr = address.parse::<Multiaddr>().ok()?;
    Some(
        addr.iter()
            .filter(|p| !matches!(p, Protocol::P2p(_)))
            .collect(),
    )
}

/// Creates one [`Connection`] per Raft peer.
#[derive(Clone)]
pub struct Network {
    net: NetHandle,
    directory: Directory,
}

impl Network {
    /// A network over `net`, finding peers by their node records and in `directory`.
    pub fn new(net: NetHandle, directory: Directory) -> Network {
        Network { net, directory }
    }
}

impl RaftNetworkFactory<TypeConfig> for Network {
    type Network = Connection;

    async fn new_client(&mut self, target: NodeId, node: &BasicNode) -> Connection {
        Connection {
            net: self.net.clone(),
            target,
            named: peer_in(&node.addr),
            directory: self.directory.clone(),
        }
    }
}

/// Raft's view of one peer.
pub struct Connection {
    net: NetHandle,
    target: NodeId,
    /// The peer the member's record names.
    named: Option<PeerId>,
    directory: Directory,
}

/// A local error for answers that make no sense (openraft wants a `std::error::Error`).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Unexpected(String);

impl Connection {
    async fn call<E: std::error::Error>(
        &self,
        request: NodeRequest,
        option: &RPCOption,
    ) -> Result<NodeResponse, RpcError<E>> {
        let peer = self
            .named
            .or_else(|| self.directory.get(self.target))
            .ok_or_else(|| {
                RPCError::Unreachable(Unreachable::new(&Unexpected(format!(
                    "Raft node {} is no validator this node knows",
                    self.target
                ))))
            })?;
        match tokio::time::timeout(option.hard_ttl(), self.net.request(peer, request)).await {
            Err(elapsed) => Err(RPCError::Unreachable(Unreachable::new(&elapsed))),
            Ok(Err(e @ SendError::Unreachable(_))) | Ok(Err(e @ SendError::Stopped)) => {
                Err(RPCError::Unreachable(Unreachable::new(&e)))
            }
            Ok(Ok(NodeResponse::NotPermitted)) => {
                Err(RPCError::Network(NetworkError::new(&Unexpected(format!(
                    "validator {} refused us as a validator",
                    self.target
                )))))
            }
            Ok(Ok(response)) => Ok(response),
        }
    }

    /// Raft's answer to a `what` request, as the peer sent it; `None` when the peer
    /// answered with something else.
    fn answer<T, E: std::error::Error>(
        &self,
        what: &str,
        answer: Option<Result<T, RaftError<NodeId, E>>>,
    ) -> Result<T, RpcError<E>> {
        match answer {
            Some(Ok(r)) => Ok(r),
            Some(Err(e)) => Err(RPCError::RemoteError(RemoteError::new(self.target, e))),
            None => Err(RPCError::Network(NetworkError::new(&Unexpected(format!(
                "validator {} answered a {what} request with something else",
                self.target
            ))))),
        }
    }
}

impl RaftNetwork<TypeConfig> for Connection {
    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<NodeId>, RpcError> {
        let answer = match self.call(NodeRequest::AppendEntries(rpc), &option).await? {
            NodeResponse::AppendEntries(answer) => Some(answer),
            _ => None,
        };
        self.answer("append", answer)
    }

    async fn install_snapshot(
        &mut self,
        rpc: InstallSnapshotRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<InstallSnapshotResponse<NodeId>, RpcError<InstallSnapshotError>> {
        let answer = match self
            .call(NodeRequest::InstallSnapshot(rpc), &option)
            .await?
        {
            NodeResponse::InstallSnapshot(answer) => Some(answer),
            _ => None,
        };
        self.answer("snapshot", answer)
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<NodeId>,
        option: RPCOption,
    ) -> Result<VoteResponse<NodeId>, RpcError> {
        let answer = match self.call(NodeRequest::RequestVote(rpc), &option).await? {
            NodeResponse::RequestVote(answer) => Some(answer),
            _ => None,
        };
        self.answer("vote", answer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_member_record_names_its_peer_and_gives_back_the_address_to_dial() {
        let key =
            ecert_verifier::crypto::public_key(&ed25519_dalek::SigningKey::from_bytes(&[4; 32]));
        let peer = peer_id_of(&key.0).unwrap();
        let node = member_node("/ip4/127.0.0.1/tcp/7101", peer);
        assert_eq!(node.addr, format!("/ip4/127.0.0.1/tcp/7101/p2p/{peer}"));
        assert_eq!(peer_in(&node.addr), Some(peer));
        assert_eq!(
            dial_address(&node.addr),
            Some("/ip4/127.0.0.1/tcp/7101".parse().unwrap())
        );
        // Named once only.
        assert_eq!(member_node(&node.addr, peer), node);
        assert_eq!(peer_in("/ip4/127.0.0.1/tcp/7101"), None);

        let directory = Directory::default();
        assert_eq!(directory.get(node_id_of(&key)), None);
        directory.learn([&key]);
        assert_eq!(directory.get(node_id_of(&key)), Some(peer));
    }
}

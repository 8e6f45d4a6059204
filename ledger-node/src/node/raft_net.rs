//! openraft's network, carried over the node's libp2p request-response protocol.

use std::collections::HashMap;
use std::sync::Arc;

use libp2p::PeerId;
use openraft::error::{
    InstallSnapshotError, NetworkError, RPCError, RaftError, RemoteError, Unreachable,
};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    VoteRequest, VoteResponse,
};
use openraft::BasicNode;

use super::net::{NetHandle, SendError};
use super::wire::{NodeRequest, NodeResponse};
use crate::raft::{NodeId, TypeConfig};

type RpcError<E = openraft::error::Infallible> = RPCError<NodeId, BasicNode, RaftError<NodeId, E>>;

/// Creates one [`Connection`] per Raft peer.
#[derive(Clone)]
pub struct Network {
    net: NetHandle,
    peers: Arc<HashMap<NodeId, PeerId>>,
}

impl Network {
    /// A network over `net`, where validator `i` is the peer `peers[i]`.
    pub fn new(net: NetHandle, peers: HashMap<NodeId, PeerId>) -> Network {
        Network {
            net,
            peers: Arc::new(peers),
        }
    }
}

impl RaftNetworkFactory<TypeConfig> for Network {
    type Network = Connection;

    async fn new_client(&mut self, target: NodeId, _node: &BasicNode) -> Connection {
        Connection {
            net: self.net.clone(),
            target,
            peer: self.peers.get(&target).copied(),
        }
    }
}

/// Raft's view of one peer.
pub struct Connection {
    net: NetHandle,
    target: NodeId,
    peer: Option<PeerId>,
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
        let peer = self.peer.ok_or_else(|| {
            RPCError::Unreachable(Unreachable::new(&Unexpected(format!(
                "validator {} is not in the genesis",
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

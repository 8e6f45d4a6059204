//! What nodes say to each other over libp2p: one request-response protocol carrying Raft's
//! RPCs, header votes, freshness statements, forwarded transactions, certified checkpoints
//! and the proven validator set.
//!
//! Framing is libp2p's request-response CBOR codec. Everything that is signed or hashed
//! (transactions, headers, votes over header bytes) travels as the exact bytes `schemas`
//! defines, so this framing never changes what is verified.

use ecert_schemas::codec::ByteBuf;
use ecert_schemas::freshness::FreshnessVote;
use ecert_schemas::ledger::Vote;
use ecert_schemas::Hash32;
use openraft::error::{InstallSnapshotError, RaftError};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    VoteRequest, VoteResponse,
};
use serde::{Deserialize, Serialize};

use crate::raft::{NodeId, TypeConfig};

/// The protocol name.
pub const PROTOCOL: &str = "/ecert/node/1";
/// Largest request accepted (a Raft append or a snapshot chunk).
pub const MAX_REQUEST_BYTES: u64 = 16 * 1024 * 1024;
/// Largest response accepted (a page of checkpoints).
pub const MAX_RESPONSE_BYTES: u64 = 16 * 1024 * 1024;
/// Most checkpoints one answer carries.
pub const MAX_CHECKPOINTS_PER_PAGE: u32 = 256;

/// A request from one node to another.
#[derive(Debug, Serialize, Deserialize)]
pub enum NodeRequest {
    /// Raft: replicate entries (Raft members and current validators only).
    AppendEntries(AppendEntriesRequest<TypeConfig>),
    /// Raft: a snapshot chunk (Raft members and current validators only).
    InstallSnapshot(InstallSnapshotRequest<TypeConfig>),
    /// Raft: a leader election vote request (Raft members and current validators only).
    RequestVote(VoteRequest<NodeId>),
    /// A validator's vote on the header at `height` (validators of that height only). The
    /// answer carries the votes the receiver holds for that height.
    HeaderVote {
        /// The header's height.
        height: u64,
        /// The vote.
        vote: Vote,
    },
    /// A validator's freshness statement about the certified header at `height` (validators
    /// of the set that certified it only). The answer carries the statements the receiver
    /// holds about that header.
    Freshness {
        /// The header's height.
        height: u64,
        /// SHA-256 of the header's encoding.
        header_hash: Hash32,
        /// The statement (its validator, time and signature).
        vote: FreshnessVote,
    },
    /// A transaction forwarded to the leader (current validators only).
    Submit(ByteBuf),
    /// Certified checkpoints from `from` on (anyone may ask).
    Checkpoints {
        /// First height wanted.
        from: u64,
        /// Most checkpoints wanted.
        limit: u32,
    },
    /// The validator set as of the receiver's newest certified header, proven from genesis
    /// (anyone may ask): how a node that is no validator yet, or lags behind, learns which
    /// keys are validators now and where they listen.
    ValidatorSet,
}

/// Why a forwarded transaction was not taken.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SubmitRefusal {
    /// The receiver is not the leader; it names the leader it knows of.
    NotLeader(Option<NodeId>),
    /// The transaction fails the ledger's checks: the verifier's code and message.
    Invalid {
        /// Stable reason code.
        code: String,
        /// Plain words.
        message: String,
    },
    /// The leader's queue is full: retry later.
    Busy,
}

/// An answer.
#[derive(Debug, Serialize, Deserialize)]
pub enum NodeResponse {
    /// Raft's answer to an append.
    AppendEntries(Result<AppendEntriesResponse<NodeId>, RaftError<NodeId>>),
    /// Raft's answer to a snapshot chunk.
    InstallSnapshot(
        Result<InstallSnapshotResponse<NodeId>, RaftError<NodeId, InstallSnapshotError>>,
    ),
    /// Raft's answer to a vote request.
    RequestVote(Result<VoteResponse<NodeId>, RaftError<NodeId>>),
    /// The votes the receiver holds for the height asked about.
    HeaderVotes(Vec<Vote>),
    /// The freshness statements the receiver holds about the header asked about.
    Freshness(Vec<FreshnessVote>),
    /// Whether a forwarded transaction was queued.
    Submitted(Result<(), SubmitRefusal>),
    /// Checkpoints, each in its exact encoding, ascending.
    Checkpoints(Vec<ByteBuf>),
    /// The `ValidatorSetProof` in its exact encoding; `None` while nothing is certified
    /// (or a change's block is not certified on the receiver yet).
    ValidatorSet(Option<ByteBuf>),
    /// The request is not allowed from this peer (ordering and votes are for the
    /// validators of the sets the receiver knows only).
    NotPermitted,
}

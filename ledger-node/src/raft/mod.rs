//! Ordering by Raft (openraft 0.9, storage v2): the type configuration, the entries the
//! leader proposes, and their durable storage in RocksDB.
//!
//! Each Raft entry is one proposed block: the leader's block time and the encoded
//! transactions it collected. Every node applies the same entries with the same
//! [`crate::state::LedgerState`], so every node computes the same header, which each
//! validator then signs.

mod log_store;
mod state_machine;
mod storage;

use std::io::Cursor;

use ecert_schemas::codec::ByteBuf;
use ecert_schemas::Hash32;
use serde::{Deserialize, Serialize};

pub use log_store::LogStore;
pub use state_machine::{LedgerStateMachine, StoredSnapshot};
pub use storage::{durable, from_key, key, open_db, Db, CF_CHECKPOINTS, CF_SIGNED};

/// A node's id in the Raft group: its position in the genesis validator set.
pub type NodeId = u64;

/// What the leader proposes: the block time and the encoded transactions of one block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposedBlock {
    /// Block time chosen by the leader, milliseconds since the epoch.
    pub time_ms: u64,
    /// The transactions, each in its exact encoding.
    pub txs: Vec<ByteBuf>,
}

/// What applying a proposed block produced on this node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BlockReceipt {
    /// The block was applied at this height, with this header.
    Applied {
        /// Its height.
        height: u64,
        /// The header's exact bytes.
        header: Vec<u8>,
        /// For each transaction, in block order: what became of it.
        outcomes: Vec<TxResult>,
    },
    /// No transaction of the block applied; the ledger did not advance.
    Empty {
        /// Why each transaction was skipped.
        reasons: Vec<String>,
    },
    /// Entries that carry no block (blank or membership entries).
    NoBlock,
}

/// What became of one transaction of an applied block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TxResult {
    /// The batch was anchored at this position of the anchor log.
    Anchored {
        /// Position in the anchor log.
        batch_seq: u64,
    },
    /// Certificates were revoked.
    Revoked,
    /// A governance change was applied to the registry.
    Governed {
        /// Its sequence number.
        seq: u64,
    },
    /// The transaction was skipped; the verifier's reason code.
    Skipped {
        /// Stable reason code (`VerifyError::code`, or `malformed`).
        code: String,
    },
}

/// What the state machine tells the node after applying a block: its header and, per
/// transaction, its hash and outcome. Sent once per applied block, also while a
/// restarted node replays its log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockEvent {
    /// The block's height and header's exact bytes; `None` when no transaction of the
    /// proposed block applied (the ledger did not advance).
    pub applied: Option<(u64, Vec<u8>)>,
    /// Per transaction in block order: SHA-256 of its bytes and its outcome.
    pub txs: Vec<(Hash32, TxResult)>,
}

openraft::declare_raft_types!(
    /// openraft's type configuration for the ecert ledger.
    pub TypeConfig:
        D = ProposedBlock,
        R = BlockReceipt,
        NodeId = NodeId,
        Node = openraft::BasicNode,
        Entry = openraft::Entry<TypeConfig>,
        SnapshotData = Cursor<Vec<u8>>,
        AsyncRuntime = openraft::TokioRuntime,
);

/// openraft's storage error for this configuration.
pub type StorageError = openraft::StorageError<NodeId>;

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

use serde::{Deserialize, Serialize};

pub use log_store::LogStore;
pub use state_machine::{LedgerStateMachine, StoredSnapshot};
pub use storage::{open_db, Db};

/// A node's id in the Raft group: its position in the genesis validator set.
pub type NodeId = u64;

/// What the leader proposes: the block time and the encoded transactions of one block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposedBlock {
    /// Block time chosen by the leader, milliseconds since the epoch.
    pub time_ms: u64,
    /// The transactions, each in its exact encoding.
    pub txs: Vec<Vec<u8>>,
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
        /// For each transaction: `None` when applied, or the code of why it was skipped.
        skipped: Vec<Option<String>>,
    },
    /// No transaction of the block applied; the ledger did not advance.
    Empty {
        /// Why each transaction was skipped.
        reasons: Vec<String>,
    },
    /// Entries that carry no block (blank or membership entries).
    NoBlock,
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

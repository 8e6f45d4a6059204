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
use ecert_schemas::{Hash32, KeyId, PublicKeyBytes};
use serde::{Deserialize, Serialize};

pub use log_store::LogStore;
pub use state_machine::{LedgerStateMachine, StoredSnapshot};
pub use storage::{durable, from_key, key, open_db, Db, CF_CHECKPOINTS, CF_SIGNED};

/// A node's id in the Raft group, derived from its validator key ([`node_id_of`]): the
/// same on every node and across validator-set changes, whatever the key's position in a
/// set.
pub type NodeId = u64;

/// The Raft node id of the validator with Ed25519 public key `key`: the first 8 bytes of
/// SHA-256 of the key (its [`KeyId`]) read as a big-endian integer. Every node derives it
/// the same way, for the genesis membership Raft starts with as for a validator added
/// later, so a validator keeps its id when other validators join or leave and a replaced
/// key is a new node. Two keys of one set with the same id are refused where sets are
/// formed into Raft membership (a collision needs a 64-bit SHA-256 prefix match).
pub fn node_id_of(key: &PublicKeyBytes) -> NodeId {
    u64::from_be_bytes(KeyId::of(key).0)
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_id_is_the_big_endian_key_id_of_the_validator_key() {
        let key = PublicKeyBytes([7; 32]);
        // SHA-256 of 32 bytes 0x07 begins 4bb06f8e4e3a7715.
        assert_eq!(node_id_of(&key), 0x4bb0_6f8e_4e3a_7715);
        let id = KeyId::of(&key).0;
        assert_eq!(node_id_of(&key), u64::from_be_bytes(id));
        assert_eq!(node_id_of(&key).to_be_bytes(), id);
        // Stable, and different for different keys.
        assert_eq!(node_id_of(&key), node_id_of(&PublicKeyBytes([7; 32])));
        assert_ne!(node_id_of(&key), node_id_of(&PublicKeyBytes([8; 32])));
    }
}

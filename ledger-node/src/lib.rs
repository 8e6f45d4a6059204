//! # ecert-ledger-node
//!
//! A department's ledger node. This crate holds the ledger's deterministic state machine
//! ([`state::LedgerState`]: registry, anchor log, revocation status lists, block headers)
//! and block certification ([`certify`]), the genesis file ([`genesis`]), and, with the
//! `raft` feature, the Raft storage for ordering it across nodes (`raft`: openraft's log
//! store and state machine over RocksDB). The network
//! (Raft over libp2p), the client API and the node binary are not built yet.

pub mod certify;
mod error;
pub mod genesis;
// openraft's traits fix the error type (`StorageError`, ~224 bytes); helpers return it too.
#[allow(clippy::result_large_err)]
#[cfg(feature = "raft")]
pub mod raft;
pub mod state;

pub use error::NodeError;

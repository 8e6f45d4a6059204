//! # ecert-ledger-node
//!
//! A department's ledger node. This crate holds the ledger's deterministic state machine
//! ([`state::LedgerState`]: registry, anchor log, revocation status lists, block headers)
//! and block certification ([`certify`]), the genesis file ([`genesis`]), and, with the
//! `raft` feature, the Raft storage for ordering it across nodes (`raft`: openraft's log
//! store and state machine over RocksDB) and, with the `node` feature, the running node
//! ([`node`]: Raft over libp2p, block cutting, vote gossip, the HTTP client API) behind
//! the `ecert-node` binary.

pub mod certify;
mod error;
pub mod genesis;
pub mod governance;
// openraft's traits fix the error type (`StorageError`, ~224 bytes); helpers return it too.
#[allow(clippy::result_large_err)]
#[cfg(feature = "raft")]
pub mod raft;
pub mod state;
// The running node: libp2p, block cutting, certification, client API.
#[allow(clippy::result_large_err)]
#[cfg(feature = "node")]
pub mod node;

pub use error::NodeError;

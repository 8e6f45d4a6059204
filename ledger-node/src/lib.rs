//! # ecert-ledger-node
//!
//! A department's ledger node. This crate holds the ledger's deterministic state machine
//! ([`state::LedgerState`]: registry, anchor log, revocation status lists, block headers)
//! block certification ([`certify`], [`vote_pool`]), freshness statements on an idle
//! ledger ([`freshness_pool`]), the genesis file ([`genesis`]),
//! all pure and failing with [`LedgerError`]; and, with the
//! `raft` feature, the Raft storage for ordering it across nodes (`raft`: openraft's log
//! store and state machine over RocksDB) and, with the `node` feature, the running node
//! ([`node`]: Raft over libp2p, block cutting, vote gossip, the HTTP client API) behind
//! the `ecert-node` binary. The shells fail with [`NodeError`].

pub mod certify;
mod error;
pub mod freshness_pool;
pub mod genesis;
pub mod governance;
mod ledger_error;
// openraft's traits fix the error type (`StorageError`, ~224 bytes); helpers return it too.
#[allow(clippy::result_large_err)]
#[cfg(feature = "raft")]
pub mod raft;
pub mod state;
pub mod vote_pool;
// The running node: libp2p, block cutting, certification, client API.
#[allow(clippy::result_large_err)]
#[cfg(feature = "node")]
pub mod node;

pub use error::NodeError;
pub use ledger_error::LedgerError;

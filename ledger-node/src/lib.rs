//! # ecert-ledger-node
//!
//! A department's ledger node. This crate holds the ledger's deterministic state machine
//! ([`state::LedgerState`]: registry, anchor log, revocation status lists, block headers)
//! and block certification ([`certify`]). Ordering across nodes (Raft over libp2p) and
//! durable storage (RocksDB) are not built yet; until they are, this crate is a library
//! only and ships no node binary.

pub mod certify;
mod error;
pub mod state;

pub use error::NodeError;

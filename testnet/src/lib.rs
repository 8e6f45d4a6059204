//! # ecert-testnet
//!
//! Runs ecert end to end: a local network of department nodes as separate `ecert-node`
//! processes on loopback ([`network::LocalNetwork`]), a small client for their API
//! ([`http`]), its local certificate authority ([`tls`]), and an in-process province ([`province::Province`]) for tests that need
//! the real issuer, ledger, wallet and verifier code without a network.

mod error;
/// The HTTP client of the node's API: `ecert-client`'s generic one.
pub use ecert_client::http;
pub mod load;
pub mod network;
pub mod province;
pub mod sample;
pub mod tls;

pub use error::TestnetError;

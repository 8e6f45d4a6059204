//! # ecert-testnet
//!
//! Runs ecert end to end: a local network of department nodes as separate `ecert-node`
//! processes on loopback ([`network::LocalNetwork`]), a small client for their API
//! ([`http`]), its local certificate authority ([`tls`]), and an in-process province ([`province::Province`]) for tests that need
//! the real issuer, ledger, wallet and verifier code without a network; and, on Linux, a
//! network lab ([`netns::NetLab`]) that runs nodes in their own network namespaces so
//! that partition tests can cut, delay and degrade the links between them. [`simulate`]
//! runs a province's year on the real state machine and verifier with a simulated clock.

mod error;
/// The HTTP client of the node's API: `ecert-client`'s generic one.
pub use ecert_client::http;
pub mod history;
#[cfg(target_os = "linux")]
pub mod hostile;
pub mod load;
#[cfg(target_os = "linux")]
pub mod netns;
pub mod network;
pub mod province;
pub mod sample;
pub mod simulate;
pub mod tls;

pub use error::TestnetError;

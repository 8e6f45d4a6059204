//! # ecert-testnet
//!
//! Runs ecert end to end. Today the province runs in one process ([`province::Province`]):
//! the real issuer, ledger state machine, certification, wallet and verifier code, with
//! no network between them. The multi-process network of department nodes builds on the
//! ledger node once it has its networked ordering.

pub mod attacker;
mod error;
pub mod province;
pub mod sample;

pub use error::TestnetError;

//! # ecert-issuer
//!
//! A department's issuing library: its key ([`IssuerKey`]), issuing a certificate from
//! claims validated against its kind ([`issue()`]), anchor batches with their Merkle proofs
//! and certificate packages ([`Batch`]), and signed revocations
//! ([`revocation_transaction`]). Randomness and time are passed in.
//!
//! With the `cli` feature, the department's service modules that the `ecert-issuer` tool
//! is built on: the home folder and its files ([`home`]), the issuance register
//! ([`register`]), claims input from JSON, TOML and CSV ([`claims_input`]), the ledger
//! node client ([`node`]), the anchor receipt check ([`anchoring`]), one-time offers
//! ([`offer`]) and their HTTP endpoint ([`server`]), and the audit ([`audit`]).

mod batch;
mod error;
mod issue;
mod key;

#[cfg(feature = "cli")]
pub mod anchoring;
#[cfg(feature = "cli")]
pub mod audit;
#[cfg(feature = "cli")]
pub mod claims_input;
#[cfg(feature = "cli")]
pub mod home;
#[cfg(feature = "cli")]
pub mod node;
#[cfg(feature = "cli")]
pub mod offer;
#[cfg(feature = "cli")]
pub mod register;
#[cfg(feature = "cli")]
pub mod server;

pub use batch::{revocation_transaction, sign_anchor_body, Batch};
pub use error::IssueError;
pub use issue::{issue, CertificateRequest, IssuedCertificate};
pub use key::IssuerKey;

//! # ecert-issuer
//!
//! A department's issuing library. The signing core, pure and built without any
//! feature: its key ([`IssuerKey`]), issuing a certificate from claims validated against
//! its kind as one-time copies ([`issue_copies`], format 2) and their batches
//! ([`CopyBatch`]), or whole ([`issue()`], format 1) with its batches ([`Batch`]), and
//! signed revocations ([`revocation_transaction`]). Randomness and time are passed in.
//!
//! With the `service` feature, the department's service that the `ecert-issuer` tool (the
//! `cli` feature) is built on: the home folder and its files ([`home`]), the issuance
//! register ([`register`]), claims input from JSON, TOML and CSV ([`claims_input`]), the
//! ledger node client ([`node`]), a signed batch of either format and the anchor receipt
//! check ([`anchoring`]), the issuance workflow — every certificate as one-time copies:
//! sign, spool, anchor, prove, deliver, resume after a crash — ([`issuance`]), one-time
//! offers ([`offer`]) and their HTTP endpoint ([`server`]), wallets' refills of new copies
//! ([`refill`]), and the audit ([`audit`]).

mod batch;
pub mod copies;
mod error;
mod issue;
mod key;

#[cfg(feature = "service")]
pub mod anchoring;
#[cfg(feature = "service")]
pub mod audit;
#[cfg(feature = "service")]
pub mod claims_input;
#[cfg(feature = "service")]
pub mod home;
#[cfg(feature = "service")]
pub mod issuance;
#[cfg(feature = "service")]
pub mod node;
#[cfg(feature = "service")]
pub mod offer;
#[cfg(feature = "service")]
pub mod refill;
#[cfg(feature = "service")]
pub mod register;
#[cfg(feature = "service")]
pub mod server;

pub use batch::{revocation_transaction, sign_anchor_body, Batch};
pub use copies::{
    issue_copies, issue_copies_of, shuffle, shuffled_order, CopiesRequest, CopyBatch, IssuedCopies,
};
pub use error::IssueError;
pub use issue::{issue, CertificateRequest, IssuedCertificate};
pub use key::IssuerKey;

//! # ecert-issuer
//!
//! A department's issuing library: its key ([`IssuerKey`]), issuing a certificate from
//! claims validated against its kind ([`issue()`]), anchor batches with their Merkle proofs
//! and certificate packages ([`Batch`]), and signed revocations
//! ([`revocation_transaction`]). Randomness and time are passed in.

mod batch;
mod error;
mod issue;
mod key;

pub use batch::{revocation_transaction, Batch};
pub use error::IssueError;
pub use issue::{issue, CertificateRequest, IssuedCertificate};
pub use key::IssuerKey;

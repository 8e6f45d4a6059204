//! # ecert-verifier
//!
//! The verification core of ecert, as pure functions: Ed25519 with domain-separated
//! signing contexts ([`crypto`]), RFC 6962 Merkle trees and proofs ([`merkle`]; an
//! append-only log with consistency proofs, [`merkle_log`]), header
//! commitments ([`commit`]), checkpoint quorum ([`checkpoint`]), freshness statements
//! ([`freshness`]), validator-set changes followed from genesis ([`validator_chain`]),
//! federation across provinces ([`federation`]), the counter's verified
//! trust store ([`trust`]), the whole offline check of a presentation
//! ([`presentation::verify_presentation`]), anchor receipts ([`receipt`]) and the ledger's
//! transaction rules ([`transaction`]).
//!
//! No I/O, no clock (time is passed in), no randomness, no global state. A ledger node
//! checks every transaction with this code, and a counter verifies every QR code with it.

pub mod anchor_file;
pub mod checkpoint;
pub mod commit;
pub mod copy_key;
pub mod crypto;
mod error;
pub mod federation;
pub mod freshness;
mod ledger_check;
pub mod merkle;
pub mod merkle16;
pub mod merkle_log;
pub mod offer;
pub mod presentation;
pub mod presentation_v2;
pub mod receipt;
pub mod refill;
pub mod report;
pub mod request;
pub mod revocation;
pub mod transaction;
pub mod trust;
pub mod validator_chain;

pub use error::VerifyError;
pub use presentation::{
    disclosure_matches, verify_decoded, verify_presentation, DisclosedField, Policy, Verdict,
    VerifiedCertificate,
};
pub use presentation_v2::verify_decoded_v2;
pub use receipt::{verify_anchor_receipt, VerifiedAnchor};
pub use revocation::verify_revocation_delta;
pub use trust::{TrustAnchor, TrustStore};
pub use validator_chain::{verify_validator_set, VerifiedValidatorSet};

//! Exit codes: one fixed table, printed in `--help` and copied into
//! `docs/user-guide.md#department-operators-issuing-certificates`.

use core::fmt;

use ecert_issuer::anchoring::ReceiptError;
use ecert_issuer::claims_input::InputError;
use ecert_issuer::home::HomeError;
use ecert_issuer::node::NodeError;
use ecert_issuer::register::FindError;

/// Done.
pub const OK: u8 = 0;
/// Failed for a reason not listed below (a file could not be written, ...).
pub const OTHER: u8 = 1;
/// Wrong usage or bad input: options, claims, CSV rows, certificate ids, files given.
pub const INPUT: u8 = 2;
/// The home: not set up, already set up, not configured, wrong passphrase, busy.
pub const HOME: u8 = 3;
/// The ledger node: unreachable, unavailable, refused the transaction, not certified in
/// time.
pub const NODE: u8 = 4;
/// The ledger's proof, or its certified export, did not verify against the trust anchor.
pub const PROOF: u8 = 5;
/// `audit` found batches this department did not issue, or misses some of its own.
pub const AUDIT: u8 = 6;

/// The table, for `--help`.
pub const TABLE: &str = "Exit codes:
  0  done
  1  failed for another reason (for example a file could not be written)
  2  wrong usage or bad input (options, claims, CSV rows, certificate ids); nothing was issued
  3  the issuer home: not set up, already set up, not configured, wrong passphrase, or busy
  4  the ledger node: unreachable, unavailable, refused the transaction, or too slow
  5  the ledger's proof or data did not verify against the trust anchor: do not trust that node
  6  audit: batches this department did not issue, or its own batches missing";

/// An error with its exit code, for problems the binary itself detects.
#[derive(Debug)]
pub struct Failure {
    /// The exit code.
    pub code: u8,
    /// The message.
    pub message: String,
}

impl Failure {
    /// Bad input (exit code 2).
    pub fn input(message: impl Into<String>) -> Failure {
        Failure {
            code: INPUT,
            message: message.into(),
        }
    }

    /// A problem with the home (exit code 3).
    pub fn home(message: impl Into<String>) -> Failure {
        Failure {
            code: HOME,
            message: message.into(),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

/// The exit code for an error: the first cause in the chain whose kind is known.
pub fn for_error(error: &anyhow::Error) -> u8 {
    for cause in error.chain() {
        if let Some(f) = cause.downcast_ref::<Failure>() {
            return f.code;
        }
        if cause.downcast_ref::<InputError>().is_some()
            || cause.downcast_ref::<FindError>().is_some()
        {
            return INPUT;
        }
        if let Some(h) = cause.downcast_ref::<HomeError>() {
            return match h {
                HomeError::Io { .. } => OTHER,
                HomeError::BadValue(_) | HomeError::Exists(_) => INPUT,
                HomeError::NotSetUp(_)
                | HomeError::AlreadyExists(_)
                | HomeError::Busy(_)
                | HomeError::Damaged { .. }
                | HomeError::NotConfigured(_) => HOME,
            };
        }
        if let Some(e) = cause.downcast_ref::<NodeError>() {
            return match e {
                NodeError::Unverified { .. } => PROOF,
                _ => NODE,
            };
        }
        if cause.downcast_ref::<ReceiptError>().is_some() {
            return PROOF;
        }
    }
    OTHER
}

//! The one error type of this crate.

use ecert_schemas::{IssuerId, KindId, SchemaError};
use thiserror::Error;

/// Why a certificate could not be issued or a batch built.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IssueError {
    /// The claims, kind or validity are wrong (the message names the field).
    #[error(transparent)]
    Schema(#[from] SchemaError),
    /// This department may not issue this kind.
    #[error("{issuer} is not entitled to issue {kind} certificates")]
    NotEntitled {
        /// This department.
        issuer: IssuerId,
        /// The kind asked for.
        kind: KindId,
    },
    /// The holder's public key is not a usable Ed25519 key.
    #[error("the holder's public key is not a valid Ed25519 key")]
    InvalidHolderKey,
    /// The certificate would be issued after it expires.
    #[error("the certificate would already be expired when issued")]
    ExpiredAtIssue,
    /// The status list is full.
    #[error("status index {0} is beyond the last usable index {max}", max = ecert_schemas::ledger::MAX_STATUS_INDEX)]
    StatusIndexOutOfRange(ecert_schemas::StatusIndex),
    /// A batch may declare at most 16 kinds.
    #[error("a batch may hold at most {max} kinds of certificate, this one has {found}", max = ecert_schemas::ledger::MAX_BATCH_KINDS)]
    TooManyKinds {
        /// Kinds in the batch.
        found: usize,
    },
    /// A batch needs at least one certificate.
    #[error("an anchor batch needs at least one certificate")]
    EmptyBatch,
    /// A certificate in a batch is not readable.
    #[error("certificate {index} of the batch is not a readable certificate: {source}")]
    BadBatchEntry {
        /// Its position.
        index: usize,
        /// What is wrong.
        source: SchemaError,
    },
    /// A certificate in a batch was issued by someone else.
    #[error("certificate {index} of the batch was not issued with this key")]
    ForeignBatchEntry {
        /// Its position.
        index: usize,
    },
    /// A certificate is issued as 1 to 1,000 copies.
    #[error("a certificate is issued as 1 to {max} copies, not {found}", max = ecert_schemas::copy::MAX_COPIES)]
    CopyCount {
        /// Copies asked for.
        found: usize,
    },
    /// The order of a batch's copies does not name every copy exactly once.
    #[error("the order of the batch's copies does not name every copy exactly once")]
    BadCopyOrder,
}

//! The error type of the pure ledger modules (`state`, `certify`, `vote_pool`,
//! `governance`, `genesis`): only what can go wrong without storage, network or
//! configuration.

use ecert_schemas::SchemaError;
use ecert_verifier::VerifyError;
use thiserror::Error;

/// What can go wrong in the ledger's pure logic.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LedgerError {
    /// A structure could not be encoded or decoded.
    #[error(transparent)]
    Schema(#[from] SchemaError),
    /// A transaction or checkpoint was refused.
    #[error(transparent)]
    Refused(#[from] VerifyError),
    /// The genesis is unusable.
    #[error("invalid genesis: {0}")]
    Genesis(String),
    /// A snapshot does not add up (its parts contradict each other).
    #[error("inconsistent snapshot: {0}")]
    InconsistentSnapshot(String),
    /// A block time went backwards.
    #[error("block time {time_ms} ms is before the previous block's {previous_ms} ms")]
    TimeWentBackwards {
        /// The new block's time.
        time_ms: u64,
        /// The previous block's time.
        previous_ms: u64,
    },
    /// A block must hold at least one applied transaction.
    #[error("a block needs at least one valid transaction")]
    EmptyBlock,
}

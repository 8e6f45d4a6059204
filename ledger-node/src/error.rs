//! The one error type of this crate.

use ecert_schemas::SchemaError;
use ecert_verifier::VerifyError;
use thiserror::Error;

/// What can go wrong in the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NodeError {
    /// A structure could not be encoded or decoded.
    #[error(transparent)]
    Schema(#[from] SchemaError),
    /// A transaction or checkpoint was refused.
    #[error(transparent)]
    Refused(#[from] VerifyError),
    /// The genesis is unusable.
    #[error("invalid genesis: {0}")]
    Genesis(String),
    /// A block time went backwards.
    #[error("block time {time_ms} ms is before the previous block's {previous_ms} ms")]
    TimeWentBackwards {
        /// The new block's time.
        time_ms: u64,
        /// The previous block's time.
        previous_ms: u64,
    },
    /// The node's database failed.
    #[error("storage: {0}")]
    Storage(String),
    /// The node's configuration is unusable (key not in the genesis, bad address...).
    #[error("configuration: {0}")]
    Config(String),
    /// The network could not be set up.
    #[error("network: {0}")]
    Network(String),
    /// A block must hold at least one applied transaction.
    #[error("a block needs at least one valid transaction")]
    EmptyBlock,
}

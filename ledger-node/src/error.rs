//! The error type of the shells around the pure ledger (`raft`, `node`): storage,
//! network and configuration failures, and the pure modules' [`LedgerError`].

use ecert_schemas::SchemaError;
use ecert_verifier::VerifyError;
use thiserror::Error;

use crate::LedgerError;

/// What can go wrong in a running node.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NodeError {
    /// The ledger's pure logic refused or failed.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// A structure could not be encoded or decoded.
    #[error(transparent)]
    Schema(#[from] SchemaError),
    /// A checkpoint or message was refused.
    #[error(transparent)]
    Refused(#[from] VerifyError),
    /// The node's database failed.
    #[error("storage: {0}")]
    Storage(String),
    /// The node's configuration is unusable (key not in the genesis, bad address...).
    #[error("configuration: {0}")]
    Config(String),
    /// The network could not be set up.
    #[error("network: {0}")]
    Network(String),
}

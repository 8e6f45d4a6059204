//! The error type of the shells around the pure ledger (`raft`, `node`): storage,
//! network and configuration failures, and the pure modules' [`LedgerError`].

use ecert_schemas::SchemaError;
use ecert_verifier::VerifyError;
use thiserror::Error;

use crate::LedgerError;

/// What can go wrong in a running node.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NodeError {
    /// The ledger's pure logic refused or failed, a structure could not be encoded or
    /// decoded, or a checkpoint or message was refused: the failures the pure modules
    /// share, kept as the [`LedgerError`] they are there.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
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

impl From<SchemaError> for NodeError {
    fn from(e: SchemaError) -> NodeError {
        NodeError::Ledger(e.into())
    }
}

impl From<VerifyError> for NodeError {
    fn from(e: VerifyError) -> NodeError {
        NodeError::Ledger(e.into())
    }
}

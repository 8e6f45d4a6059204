//! The one error type of this crate.

use thiserror::Error;

/// What went wrong while running the province.
#[derive(Debug, Error)]
pub enum TestnetError {
    /// Issuing failed.
    #[error(transparent)]
    Issue(#[from] ecert_issuer::IssueError),
    /// The ledger refused something.
    #[error(transparent)]
    Ledger(#[from] ecert_ledger_node::LedgerError),
    /// Verification failed.
    #[error(transparent)]
    Verify(#[from] ecert_verifier::VerifyError),
    /// The wallet failed.
    #[error(transparent)]
    Wallet(#[from] ecert_wallet::WalletError),
    /// A structure failed to encode or decode.
    #[error(transparent)]
    Schema(#[from] ecert_schemas::SchemaError),
    /// No such department in this province.
    #[error("no department {0:?} in this province")]
    UnknownDepartment(String),
    /// A transaction was skipped by the ledger.
    #[error("the ledger skipped the transaction: {0}")]
    Skipped(ecert_verifier::VerifyError),
    /// Nothing has been certified yet.
    #[error("no block has been certified yet")]
    NothingCertified,
    /// A file or process of the local network failed.
    #[error("{what}: {detail}")]
    Local {
        /// What was being done.
        what: String,
        /// What went wrong.
        detail: String,
    },
    /// The local network did not become ready in time.
    #[error("timed out: {0}")]
    Timeout(String),
}

impl TestnetError {
    /// A local failure.
    pub fn local(what: impl Into<String>, detail: impl std::fmt::Display) -> TestnetError {
        TestnetError::Local {
            what: what.into(),
            detail: detail.to_string(),
        }
    }
}

//! The one error type of this crate.

use ecert_schemas::{KindId, SchemaError};
use thiserror::Error;

/// Why the wallet could not build or render a presentation.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WalletError {
    /// A stored package or its certificate is unreadable.
    #[error(transparent)]
    Schema(#[from] SchemaError),
    /// The certificate was issued to another wallet.
    #[error("this certificate was issued to another wallet's key")]
    NotOurCertificate,
    /// The certificate's kind has no field with this key.
    #[error("{kind} certificates have no field {field:?} (fields: {available})")]
    UnknownField {
        /// The kind.
        kind: KindId,
        /// The key asked for.
        field: String,
        /// The fields the kind has.
        available: String,
    },
    /// The field exists in the kind but this certificate does not carry it.
    #[error("this {kind} certificate does not carry field {field:?}")]
    FieldNotInCertificate {
        /// The kind.
        kind: KindId,
        /// The field.
        field: String,
    },
    /// Nothing to present.
    #[error("choose at least one certificate to present (at most 8)")]
    NothingToPresent,
    /// The presentation is too large for a QR code.
    #[error(
        "the presentation is too large for a QR code ({0}); disclose fewer fields or certificates"
    )]
    TooLargeForQr(String),
}

//! The one error type of this crate.

use ecert_schemas::{IssuerId, KindId, SchemaError};
use thiserror::Error;

/// Why the wallet could not build a presentation or open its file.
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
    /// A package whose fields are not those of its kind as this wallet knows it.
    #[error("this {kind} certificate's fields are not those of the {kind} kind this wallet knows: update the wallet software")]
    PackageDoesNotFitKind {
        /// The kind.
        kind: KindId,
    },
    /// A kind shown only in answer to a registered counter's request.
    #[error("{kind} certificates are shown only to registered {roles}, in answer to their request: scan the counter's request code")]
    AudienceOnly {
        /// The kind.
        kind: KindId,
        /// The roles it may be shown to.
        roles: String,
    },
    /// A copy the package does not have.
    #[error("this certificate has {copies} copies; there is no copy {copy}")]
    NoSuchCopy {
        /// The copy asked for.
        copy: usize,
        /// The copies the package holds.
        copies: usize,
    },
    /// Every copy of a certificate of one-time copies has been shown.
    #[error(
        "all {copies} copies of your {kind} certificate {short_id} have been shown: showing one again would let the counters that see it link your presentations. Ask {issuer} for new copies ('ecert-wallet refill --from ITS-SERVER'); they arrive as a new package that replaces this one"
    )]
    NoCopiesLeft {
        /// The kind.
        kind: KindId,
        /// The department that issued it.
        issuer: IssuerId,
        /// Its short id.
        short_id: String,
        /// The copies it was issued with.
        copies: usize,
    },
    /// Certificates of one-time copies and of the older format chosen for one code.
    #[error(
        "one QR code cannot hold certificates issued as one-time copies ({one_time}) together with certificates of the older format ({whole}): a counter could not check that they belong to the same person. Show them in two QR codes, or ask the department of the older one for it as one-time copies ('ecert-wallet refill')"
    )]
    MixedFormats {
        /// The certificates of one-time copies chosen (kind and short id).
        one_time: String,
        /// The certificates of the older format chosen (kind and short id).
        whole: String,
    },
    /// The wallet's certificates changed since the presentation was prepared.
    #[error("the certificates in the wallet changed since this presentation was prepared: prepare it again")]
    PlanOutdated,
    /// A request for new copies could not be made.
    #[error("the request for new copies could not be made: {0}")]
    Refill(#[source] ecert_verifier::refill::RefillError),
    /// Nothing to present.
    #[error("choose at least one certificate to present (at most 8)")]
    NothingToPresent,
    /// The bytes are not an ecert wallet file (no `ECW1` magic).
    #[error("this is not an ecert wallet file")]
    NotAWalletFile,
    /// A wallet file of a format version this software does not read.
    #[error(
        "this wallet file has format version {found}; this software reads version {supported}: update the wallet software"
    )]
    UnsupportedWalletVersion {
        /// The version in the file.
        found: u64,
        /// The version this software reads.
        supported: u64,
    },
    /// Decryption failed: the passphrase is wrong, or the file was changed or damaged.
    #[error("wrong passphrase, or the file is damaged")]
    WrongPassphrase,
    /// Key-derivation settings (asked for, or read from a file) outside the accepted bounds.
    #[error("the key-derivation settings are outside safe bounds: {0}")]
    KdfParamsOutOfBounds(String),
    /// The file is cut short, or its decrypted contents cannot be read.
    #[error("the wallet file is damaged: {0}")]
    WalletDamaged(String),
}

impl From<ecert_sealed::SealError> for WalletError {
    /// The envelope's errors as the wallet file's: another kind of file is not a wallet
    /// file, a cut one is damaged.
    fn from(e: ecert_sealed::SealError) -> WalletError {
        use ecert_sealed::SealError;
        match e {
            SealError::WrongPassphrase => WalletError::WrongPassphrase,
            SealError::KdfParamsOutOfBounds(what) => WalletError::KdfParamsOutOfBounds(what),
            SealError::WrongFileKind { .. } => WalletError::NotAWalletFile,
            SealError::UnsupportedFileVersion { found, supported } => {
                WalletError::UnsupportedWalletVersion { found, supported }
            }
            SealError::FileDamaged(what) => WalletError::WalletDamaged(what),
            SealError::TooLarge { actual, limit } => {
                WalletError::Schema(SchemaError::TooLarge { actual, limit })
            }
        }
    }
}

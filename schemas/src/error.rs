//! The one error type of this crate.

use thiserror::Error;

/// Everything that can be wrong with bytes, strings or claims handed to `ecert-schemas`.
///
/// Each variant names what the caller can fix; none of them is ever a panic.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SchemaError {
    /// The input is larger than the bound for its format.
    #[error("input too large: {actual} bytes, at most {limit} allowed")]
    TooLarge {
        /// The size that was seen (for compressed input, a lower bound).
        actual: usize,
        /// The largest size accepted.
        limit: usize,
    },
    /// The QR string does not start with a known `EC<version><mode>:` prefix.
    #[error("not an ecert QR string: it must start with \"EC1R:\" or \"EC1Z:\"")]
    MissingPrefix,
    /// A version number this code does not know.
    #[error("unsupported version {found} of {what} (this software reads version {supported})")]
    UnsupportedVersion {
        /// Which structure carried the version.
        what: &'static str,
        /// The version found.
        found: u64,
        /// The version this software reads.
        supported: u64,
    },
    /// The base45 text is not valid RFC 9285 base45.
    #[error("invalid base45 text: {0}")]
    Base45(String),
    /// The compressed payload is not valid zlib data.
    #[error("invalid compressed payload: {0}")]
    Decompress(String),
    /// The bytes are not a well-formed CBOR item of the expected structure.
    #[error("malformed {what}: {detail}")]
    Malformed {
        /// Which structure was being read.
        what: &'static str,
        /// What the decoder found wrong.
        detail: String,
    },
    /// The bytes decode, but not in ecert's deterministic encoding (RFC 8949 §4.2):
    /// duplicate or misordered map keys, non-minimal lengths, or indefinite lengths.
    #[error("{what} is not deterministically encoded (duplicate or misordered keys, or non-minimal encoding)")]
    NonCanonical {
        /// Which structure was being read.
        what: &'static str,
    },
    /// A byte string has the wrong length.
    #[error("{what} must be {expected} bytes, found {found}")]
    WrongLength {
        /// Which value.
        what: &'static str,
        /// Required length.
        expected: usize,
        /// Length found.
        found: usize,
    },
    /// An identifier (issuer, kind, field key) breaks the naming rules.
    #[error("invalid {what} {value:?}: {rule}")]
    InvalidIdentifier {
        /// Which identifier.
        what: &'static str,
        /// The offending value.
        value: String,
        /// The rule it breaks.
        rule: &'static str,
    },
    /// A certificate-kind definition file is wrong.
    #[error("certificate kind file {kind:?}: {detail}")]
    KindDefinition {
        /// The kind id, or the file's name when the id could not be read.
        kind: String,
        /// What is wrong.
        detail: String,
    },
    /// No certificate kind with this id is known.
    #[error("unknown certificate kind {0:?}")]
    UnknownKind(String),
    /// Two kind files define the same id.
    #[error("certificate kind {0:?} is defined twice")]
    DuplicateKind(String),
    /// A mandatory field of the kind has no value.
    #[error("{kind}: mandatory field {field:?} is missing")]
    MissingField {
        /// The kind id.
        kind: String,
        /// The field key.
        field: String,
    },
    /// A field that the kind does not define.
    #[error("{kind}: unknown field {field:?}")]
    UnknownField {
        /// The kind id.
        kind: String,
        /// The field key (or number, for a field number not in the kind).
        field: String,
    },
    /// A claim gives a value for a derived fact, which is computed when the certificate
    /// is issued.
    #[error("{kind}: field {field:?} is derived from {from:?} when the certificate is issued; it cannot be given")]
    DerivedField {
        /// The kind id.
        kind: String,
        /// The derived fact's key.
        field: String,
        /// The key of the field it is derived from.
        from: String,
    },
    /// A value of the wrong type or format for its field.
    #[error("{kind}: field {field:?} {problem}")]
    InvalidFieldValue {
        /// The kind id.
        kind: String,
        /// The field key.
        field: String,
        /// What is wrong with the value, in words.
        problem: String,
    },
    /// The certificate's validity period breaks its kind's rules.
    #[error("{kind}: {problem}")]
    InvalidValidity {
        /// The kind id.
        kind: String,
        /// What is wrong.
        problem: String,
    },
}

impl SchemaError {
    pub(crate) fn malformed(what: &'static str, detail: impl ToString) -> Self {
        SchemaError::Malformed {
            what,
            detail: detail.to_string(),
        }
    }
}

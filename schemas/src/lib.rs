//! # ecert-schemas
//!
//! The shared vocabulary of ecert: certificate kinds as data files, the wire types
//! (certificate claims, disclosure, presentation, ledger transactions, block header,
//! checkpoint, revocation snapshot, trust bundle) and their strict CBOR / COSE / base45
//! encoding.
//!
//! This crate does no I/O, reads no clock, draws no randomness and keeps no global
//! state. Decoding is strict and bounded: unknown versions, trailing bytes, duplicate
//! map keys, non-deterministic encodings, oversize inputs and wrong lengths are errors,
//! never panics. `serde_cbor` is used only inside [`codec`].

pub mod address;
pub mod api;
pub mod certificate;
pub mod codec;
pub mod copy;
pub mod cose;
pub mod date;
mod error;
pub mod federation;
pub mod freshness;
mod ids;
pub mod kinds;
pub mod ledger;
pub mod presentation;
pub mod refill;
pub mod request;
pub mod status_code;

pub use certificate::{Certificate, CertificateClaims};
pub use error::SchemaError;
pub use ids::{
    CertificateId, ChainId, CopySecret, FieldDigest, Hash16, Hash32, IssuerId, KeyId, KindId,
    Nonce, PublicKeyBytes, Salt, SignatureBytes, StatusIndex, UnixTime,
};
pub use kinds::{Claims, DerivedRule, FieldDef, FieldType, FieldValue, Kind, KindRegistry};
pub use presentation::{
    field_digest, AnchorProof, CertificatePackage, Disclosure, HolderProof, HolderSignedData,
    OfferRedemption, Presentation, PresentedCertificate,
};

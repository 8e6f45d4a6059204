//! Format 2: one-time copies.
//!
//! A certificate of format 2 is issued as a set of copies. Each copy has its own holder
//! key, salts, status index and place in its batch, and no certificate id travels with
//! it, so two presentations of one certificate share nothing a counter could match
//! beyond what they disclose, the issuer, the kind and the batch (see
//! `docs/protocol.md` §3.8). A copy is shown once.
//!
//! What the issuer signs for a copy is [`CopySignedData`]: its issuer, key, kind, times,
//! status index, holder key and the root of a Merkle tree over its fields (128-bit
//! hashes). A presentation carries the parts a counter cannot find elsewhere
//! ([`PresentedCopy`]): the issuer and key come from the batch's record in the anchor log,
//! the field tree's root is recomputed from the disclosed fields and a multiproof.
//!
//! The hashing rules (field and batch trees, key tweaks) are functions of
//! `ecert-verifier`; this module holds the wire types.

use serde_bytes::ByteBuf;

use crate::codec::{cbor_array, from_cbor, from_cbor_versioned, qr, to_cbor, MAX_ITEM_BYTES};
use crate::kinds::FieldValue;
use crate::presentation::{MAX_ITEMS, MAX_PATH};
use crate::{
    CertificateId, CopySecret, Hash16, IssuerId, KeyId, KindId, Nonce, PublicKeyBytes, SchemaError,
    SignatureBytes, StatusIndex, UnixTime,
};

/// Version of the format-2 presentation.
pub const PRESENTATION_V2: u64 = 2;
/// Version of the format-2 certificate package.
pub const PACKAGE_V2: u64 = 2;
/// Copies a department issues per certificate unless configured otherwise.
pub const DEFAULT_COPIES: u16 = 30;
/// Most copies one package may hold.
pub const MAX_COPIES: usize = 1_000;
/// Most hashes in a field multiproof (a kind has at most 64 fields).
pub const MAX_FIELD_PROOF: usize = 64;

cbor_array! {
    /// What an issuer signs for one copy (signing context `ecert/v2/copy`):
    /// `[issuer, key_id, kind, iat, nbf, exp, status_index, holder, field_root]`.
    /// Never sent as such: a counter rebuilds it from the copy, the batch's record and
    /// the recomputed field root.
    pub struct CopySignedData {
        /// The issuing department (the batch's issuer).
        pub issuer: IssuerId,
        /// The key that signed (the batch's key).
        pub key_id: KeyId,
        /// The certificate's kind.
        pub kind: KindId,
        /// When the certificate was issued (the same in every copy).
        pub issued_at: UnixTime,
        /// Start of validity.
        pub valid_from: UnixTime,
        /// End of validity.
        pub expires: UnixTime,
        /// This copy's position in the issuer's revocation status list.
        pub status_index: StatusIndex,
        /// This copy's holder key (the wallet key, tweaked for this copy).
        pub holder: PublicKeyBytes,
        /// Root of the Merkle tree over this copy's field leaves, in the kind's field order.
        pub field_root: Hash16,
    }
}

impl CopySignedData {
    /// The exact bytes signed (before the signing context is prepended).
    pub fn to_bytes(&self) -> Result<Vec<u8>, SchemaError> {
        to_cbor(self)
    }
}

cbor_array! {
    /// One copy as shown:
    /// `[batch_seq, leaf_index, path, kind_index, iat, nbf, exp, status_index, holder,
    /// signature, field_proof, disclosures]`.
    pub struct PresentedCopy {
        /// Position of the copy's batch in the ledger's anchor log.
        pub batch_seq: u64,
        /// Position of the copy in its batch.
        pub leaf_index: u64,
        /// Audit path in the batch tree, leaf to the node below the root (128-bit hashes).
        pub path: Vec<Hash16>,
        /// The kind, as its position in the batch's list of kinds.
        pub kind_index: u8,
        /// When the certificate was issued.
        pub issued_at: UnixTime,
        /// Start of validity.
        pub valid_from: UnixTime,
        /// End of validity.
        pub expires: UnixTime,
        /// This copy's status index.
        pub status_index: StatusIndex,
        /// This copy's holder key.
        pub holder: PublicKeyBytes,
        /// The issuer's signature over [`CopySignedData`].
        pub signature: SignatureBytes,
        /// The field tree's multiproof: the roots of the subtrees holding no disclosed
        /// field, left to right.
        pub field_proof: Vec<Hash16>,
        /// `[* bstr .cbor Disclosure]`: the disclosed fields, salts included.
        pub disclosures: Vec<ByteBuf>,
    }
}

cbor_array! {
    /// The holder's proof over a format-2 presentation: `[time, nonce / null, signature,
    /// ? links]`. `signature` is by the first copy's holder key (signing context
    /// `ecert/v2/holder-proof`) over [`crate::HolderSignedData`]; `links` has one
    /// signature per further copy, by the difference of its key and the first copy's
    /// (context `ecert/v2/holder-link`), over the same data: only a wallet that knows how
    /// the copies' keys were tweaked from one wallet key can make them.
    pub struct HolderProofV2 {
        /// When the holder signed (the wallet's clock).
        pub time: UnixTime,
        /// The counter's challenge, in nonce mode.
        pub nonce: Option<Nonce>,
        /// Ed25519 signature by the first copy's key.
        pub signature: SignatureBytes;
        /// One link signature per copy after the first (left out with a single copy).
        pub links: Vec<SignatureBytes>,
    }
}

cbor_array! {
    /// What a format-2 QR code holds: `[2, bstr .cbor [+ PresentedCopy], HolderProofV2]`.
    pub struct PresentationV2 {
        /// [`PRESENTATION_V2`].
        pub version: u64,
        /// The presented copies, as the exact bytes the holder signed.
        pub items: ByteBuf,
        /// The holder's proof.
        pub holder: HolderProofV2,
    }
}

impl PresentationV2 {
    /// Encodes the presented copies into the `items` bytes.
    pub fn encode_items(items: &[PresentedCopy]) -> Result<Vec<u8>, SchemaError> {
        to_cbor(&items)
    }

    /// Decodes the presented copies, strictly and within bounds.
    pub fn decode_items(&self) -> Result<Vec<PresentedCopy>, SchemaError> {
        let items: Vec<PresentedCopy> = from_cbor("presentation items", &self.items)?;
        if items.is_empty() || items.len() > MAX_ITEMS {
            return Err(SchemaError::malformed(
                "presentation items",
                format!(
                    "a presentation holds 1 to {MAX_ITEMS} certificates, found {}",
                    items.len()
                ),
            ));
        }
        for item in &items {
            if item.path.len() > MAX_PATH {
                return Err(SchemaError::malformed(
                    "presented copy",
                    "batch path longer than 64 hashes",
                ));
            }
            if item.field_proof.len() > MAX_FIELD_PROOF
                || item.disclosures.len() > crate::certificate::MAX_FIELDS
            {
                return Err(SchemaError::malformed(
                    "presented copy",
                    "more than 64 field hashes or disclosures",
                ));
            }
        }
        Ok(items)
    }

    /// SHA-256 of the `items` bytes, as the holder signs it.
    pub fn items_hash(&self) -> crate::Hash32 {
        use sha2::{Digest, Sha256};
        crate::Hash32(Sha256::digest(&self.items).into())
    }

    /// Encodes the presentation as CBOR.
    pub fn to_bytes(&self) -> Result<Vec<u8>, SchemaError> {
        to_cbor(self)
    }

    /// Decodes a presentation strictly; another version is reported as such.
    pub fn from_bytes(bytes: &[u8]) -> Result<PresentationV2, SchemaError> {
        from_cbor_versioned(
            "presentation",
            bytes,
            MAX_ITEM_BYTES,
            3,
            PRESENTATION_V2,
            |p: &PresentationV2| p.version,
        )
    }

    /// The QR string for this presentation.
    pub fn to_qr_string(&self) -> Result<String, SchemaError> {
        Ok(qr::encode_qr(&self.to_bytes()?))
    }
}

/// A presentation of either format, as read from a QR code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AnyPresentation {
    /// Format 1: whole certificates, one holder key.
    V1(crate::Presentation),
    /// Format 2: one-time copies.
    V2(PresentationV2),
}

impl AnyPresentation {
    /// Decodes a presentation of either format from its CBOR bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<AnyPresentation, SchemaError> {
        match crate::codec::leading_version(bytes, 3) {
            Some(PRESENTATION_V2) => PresentationV2::from_bytes(bytes).map(AnyPresentation::V2),
            Some(found) if found > PRESENTATION_V2 => Err(SchemaError::UnsupportedVersion {
                what: "presentation",
                found,
                supported: PRESENTATION_V2,
            }),
            _ => crate::Presentation::from_bytes(bytes).map(AnyPresentation::V1),
        }
    }

    /// Reads a presentation of either format from a QR string.
    pub fn from_qr_string(text: &str) -> Result<AnyPresentation, SchemaError> {
        AnyPresentation::from_bytes(&qr::decode_qr(text)?)
    }

    /// The presentation's format version.
    pub fn version(&self) -> u64 {
        match self {
            AnyPresentation::V1(p) => p.version,
            AnyPresentation::V2(p) => p.version,
        }
    }
}

cbor_array! {
    /// One field of a format-2 package, in the kind's field order: `[field, value / null]`;
    /// null for an optional field the certificate does not carry (its leaf is then a
    /// hidden filler derived from each copy's secret).
    pub struct PackageField {
        /// The field's number.
        pub field: u16,
        /// The value, or null when absent.
        pub value: Option<FieldValue>,
    }
}

cbor_array! {
    /// One copy in a package:
    /// `[secret, batch_seq, leaf_index, path, kind_index, status_index, signature]`.
    /// Its salts, hidden leaves and holder key follow from `secret` and the wallet key.
    pub struct CopyEnvelope {
        /// The copy's secret.
        pub secret: CopySecret,
        /// Position of the copy's batch in the anchor log.
        pub batch_seq: u64,
        /// Position of the copy in its batch.
        pub leaf_index: u64,
        /// Audit path in the batch tree.
        pub path: Vec<Hash16>,
        /// The kind's position in the batch's list of kinds.
        pub kind_index: u8,
        /// The copy's status index.
        pub status_index: StatusIndex,
        /// The issuer's signature over the copy's [`CopySignedData`].
        pub signature: SignatureBytes,
    }
}

cbor_array! {
    /// What an issuer delivers for a format-2 certificate: `[2, id, issuer, key_id, kind,
    /// iat, nbf, exp, fields, copies]`. The id names the certificate between the holder
    /// and the issuer (to refresh or revoke it); it is never shown to a counter.
    pub struct CopyPackage {
        /// [`PACKAGE_V2`].
        pub version: u64,
        /// The certificate's id in the issuer's register.
        pub id: CertificateId,
        /// The issuing department.
        pub issuer: IssuerId,
        /// The key that signed the copies.
        pub key_id: KeyId,
        /// The kind.
        pub kind: KindId,
        /// When it was issued.
        pub issued_at: UnixTime,
        /// Start of validity.
        pub valid_from: UnixTime,
        /// End of validity.
        pub expires: UnixTime,
        /// Every field of the kind, in its order, with its value or null.
        pub fields: Vec<PackageField>,
        /// The copies, each shown once.
        pub copies: Vec<CopyEnvelope>,
    }
}

impl CopyPackage {
    /// Encodes the package.
    pub fn to_bytes(&self) -> Result<Vec<u8>, SchemaError> {
        to_cbor(self)
    }

    /// Decodes a package strictly and within bounds.
    pub fn from_bytes(bytes: &[u8]) -> Result<CopyPackage, SchemaError> {
        let package = from_cbor_versioned(
            "certificate package",
            bytes,
            MAX_PACKAGE_BYTES,
            10,
            PACKAGE_V2,
            |p: &CopyPackage| p.version,
        )?;
        if package.copies.is_empty() || package.copies.len() > MAX_COPIES {
            return Err(SchemaError::malformed(
                "certificate package",
                format!("a package holds 1 to {MAX_COPIES} copies"),
            ));
        }
        if package.fields.is_empty() || package.fields.len() > crate::certificate::MAX_FIELDS {
            return Err(SchemaError::malformed(
                "certificate package",
                "a package has 1 to 64 fields",
            ));
        }
        if package.copies.iter().any(|c| c.path.len() > MAX_PATH) {
            return Err(SchemaError::malformed(
                "certificate package",
                "batch path longer than 64 hashes",
            ));
        }
        Ok(package)
    }
}

/// Largest format-2 package accepted: a thousand copies with long paths fit.
pub const MAX_PACKAGE_BYTES: usize = 2 * 1024 * 1024;

/// A certificate package of either format, as a wallet receives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AnyPackage {
    /// Format 1: one certificate.
    V1(crate::CertificatePackage),
    /// Format 2: one-time copies.
    V2(CopyPackage),
}

impl AnyPackage {
    /// Decodes a package of either format.
    pub fn from_bytes(bytes: &[u8]) -> Result<AnyPackage, SchemaError> {
        match crate::codec::leading_version(bytes, 10) {
            Some(PACKAGE_V2) => CopyPackage::from_bytes(bytes).map(AnyPackage::V2),
            Some(found) if found > PACKAGE_V2 => Err(SchemaError::UnsupportedVersion {
                what: "certificate package",
                found,
                supported: PACKAGE_V2,
            }),
            _ => crate::CertificatePackage::from_bytes(bytes).map(AnyPackage::V1),
        }
    }

    /// Encodes the package.
    pub fn to_bytes(&self) -> Result<Vec<u8>, SchemaError> {
        match self {
            AnyPackage::V1(p) => p.to_bytes(),
            AnyPackage::V2(p) => p.to_bytes(),
        }
    }
}

//! What a citizen shows: disclosures, anchor proofs and the holder's proof, and the
//! presentation that carries them in a QR code.

use serde_bytes::ByteBuf;
use sha2::{Digest, Sha256};

use crate::codec::{cbor_array, from_cbor, from_cbor_versioned, qr, to_cbor, MAX_ITEM_BYTES};
use crate::kinds::FieldValue;
use crate::{
    FieldDigest, Hash32, Nonce, PublicKeyBytes, Salt, SchemaError, SignatureBytes, UnixTime,
};

/// Version of the presentation structure.
pub const PRESENTATION_VERSION: u64 = 1;
/// Most certificates in one presentation.
pub const MAX_ITEMS: usize = 8;
/// Most hashes in one Merkle path (a batch of 2^64 leaves needs 64).
pub const MAX_PATH: usize = 64;

cbor_array! {
    /// One field's value with its salt: `[salt, field number, value]`. Its salted digest,
    /// [`field_digest`] of its exact encoding, is what the certificate signs.
    pub struct Disclosure {
        /// 16 random bytes chosen by the issuer for this field of this certificate.
        pub salt: Salt,
        /// The field's number in its kind.
        pub field: u16,
        /// The field's value.
        pub value: FieldValue,
    }
}

impl Disclosure {
    /// Encodes the disclosure (the bytes its digest is taken over).
    pub fn to_bytes(&self) -> Result<Vec<u8>, SchemaError> {
        to_cbor(self)
    }

    /// Decodes a disclosure strictly.
    pub fn from_bytes(bytes: &[u8]) -> Result<Disclosure, SchemaError> {
        from_cbor("disclosure", bytes)
    }
}

/// The salted digest of a disclosure: SHA-256 over its exact bytes, truncated to 128 bits
/// (`sha-256-128`).
pub fn field_digest(disclosure_bytes: &[u8]) -> FieldDigest {
    let full = Sha256::digest(disclosure_bytes);
    let mut d = [0u8; 16];
    d.copy_from_slice(full.get(..16).unwrap_or(&[0u8; 16]));
    FieldDigest(d)
}

cbor_array! {
    /// Proof that a certificate is anchored: its position in an issuer's batch and the
    /// RFC 6962 audit path to the batch root. The batch itself is found by its position
    /// in the ledger's anchor log, which the verifier has synced and checked against a
    /// certified header.
    pub struct AnchorProof {
        /// Position of the batch in the ledger's anchor log.
        pub batch_seq: u64,
        /// Position of the certificate in its batch.
        pub leaf_index: u64,
        /// Audit path, leaf to root.
        pub path: Vec<Hash32>,
    }
}

cbor_array! {
    /// One certificate as shown: its exact bytes, the disclosures the holder chose, and
    /// its anchor proof.
    pub struct PresentedCertificate {
        /// `bstr .cbor COSE_Sign1`: the certificate exactly as issued.
        pub certificate: ByteBuf,
        /// `[* bstr .cbor Disclosure]`: the disclosures exactly as issued.
        pub disclosures: Vec<ByteBuf>,
        /// Where the certificate is anchored.
        pub anchor: AnchorProof,
    }
}

/// Version of the certificate package format.
pub const PACKAGE_VERSION: u64 = 1;

cbor_array! {
    /// What an issuer delivers to a wallet: the certificate, every field's disclosure and
    /// the anchor proof. The wallet keeps it and shows parts of it.
    pub struct CertificatePackage {
        /// [`PACKAGE_VERSION`].
        pub version: u64,
        /// `bstr .cbor COSE_Sign1`: the certificate exactly as issued.
        pub certificate: ByteBuf,
        /// `[* bstr .cbor Disclosure]`: one disclosure per field, exactly as issued.
        pub disclosures: Vec<ByteBuf>,
        /// Where the certificate is anchored.
        pub anchor: AnchorProof,
    }
}

impl CertificatePackage {
    /// Encodes the package.
    pub fn to_bytes(&self) -> Result<Vec<u8>, SchemaError> {
        to_cbor(self)
    }

    /// Decodes a package strictly.
    pub fn from_bytes(bytes: &[u8]) -> Result<CertificatePackage, SchemaError> {
        from_cbor_versioned(
            "certificate package",
            bytes,
            MAX_ITEM_BYTES,
            4,
            PACKAGE_VERSION,
            |p: &CertificatePackage| p.version,
        )
    }
}

cbor_array! {
    /// A wallet's request to redeem a one-time offer code for its certificate package:
    /// `[holder_key, signature]`, the signature by `holder_key` over the context
    /// `ecert/v1/offer-redeem` and the code's UTF-8 bytes. The issuer hands the package
    /// over only if the signature verifies and `holder_key` is the certificate's holder
    /// key.
    pub struct OfferRedemption {
        /// The wallet's key (its wallet ID).
        pub holder_key: PublicKeyBytes,
        /// Ed25519 signature (context `ecert/v1/offer-redeem`) over the offer code.
        pub signature: SignatureBytes,
    }
}

impl OfferRedemption {
    /// Encodes the request.
    pub fn to_bytes(&self) -> Result<Vec<u8>, SchemaError> {
        to_cbor(self)
    }

    /// Decodes a request strictly.
    pub fn from_bytes(bytes: &[u8]) -> Result<OfferRedemption, SchemaError> {
        from_cbor("offer redemption", bytes)
    }
}

cbor_array! {
    /// The holder's proof of possession: a signature by the certificates' `cnf` key over
    /// the time, the counter's nonce (if it gave one) and the presented items.
    pub struct HolderProof {
        /// When the holder signed (the wallet's clock).
        pub time: UnixTime,
        /// The counter's challenge, in nonce mode.
        pub nonce: Option<Nonce>,
        /// Ed25519 signature (context `ecert/v1/holder-proof`).
        pub signature: SignatureBytes,
    }
}

cbor_array! {
    /// The message a holder signs: `[time, nonce / null, SHA-256(items)]`.
    pub struct HolderSignedData {
        /// As in [`HolderProof::time`].
        pub time: UnixTime,
        /// As in [`HolderProof::nonce`].
        pub nonce: Option<Nonce>,
        /// SHA-256 of the presentation's `items` bytes.
        pub items_hash: Hash32,
    }
}

impl HolderSignedData {
    /// The exact bytes to sign (before the signing context is prepended).
    pub fn to_bytes(&self) -> Result<Vec<u8>, SchemaError> {
        to_cbor(self)
    }
}

cbor_array! {
    /// What a QR code holds: `[version, bstr .cbor [+ PresentedCertificate], HolderProof / null]`.
    pub struct Presentation {
        /// [`PRESENTATION_VERSION`].
        pub version: u64,
        /// The presented certificates, as the exact bytes the holder signed.
        pub items: ByteBuf,
        /// The holder's proof; a presentation without one is always rejected.
        pub holder: Option<HolderProof>,
    }
}

impl Presentation {
    /// Encodes the presented certificates into the `items` bytes.
    pub fn encode_items(items: &[PresentedCertificate]) -> Result<Vec<u8>, SchemaError> {
        to_cbor(&items)
    }

    /// Decodes the presented certificates, strictly and within bounds.
    pub fn decode_items(&self) -> Result<Vec<PresentedCertificate>, SchemaError> {
        let items: Vec<PresentedCertificate> = from_cbor("presentation items", &self.items)?;
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
            if item.anchor.path.len() > MAX_PATH {
                return Err(SchemaError::malformed(
                    "anchor proof",
                    "audit path longer than 64 hashes",
                ));
            }
            if item.disclosures.len() > crate::certificate::MAX_FIELDS {
                return Err(SchemaError::malformed(
                    "presentation items",
                    "more than 64 disclosures",
                ));
            }
        }
        Ok(items)
    }

    /// SHA-256 of the `items` bytes, as the holder signs it.
    pub fn items_hash(&self) -> Hash32 {
        Hash32(Sha256::digest(&self.items).into())
    }

    /// Encodes the presentation as CBOR.
    pub fn to_bytes(&self) -> Result<Vec<u8>, SchemaError> {
        to_cbor(self)
    }

    /// Decodes a presentation strictly; an unknown version is reported as such.
    pub fn from_bytes(bytes: &[u8]) -> Result<Presentation, SchemaError> {
        from_cbor_versioned(
            "presentation",
            bytes,
            MAX_ITEM_BYTES,
            3,
            PRESENTATION_VERSION,
            |p: &Presentation| p.version,
        )
    }

    /// The QR string for this presentation.
    pub fn to_qr_string(&self) -> Result<String, SchemaError> {
        Ok(qr::encode_qr(&self.to_bytes()?))
    }

    /// Reads a presentation from a QR string.
    pub fn from_qr_string(text: &str) -> Result<Presentation, SchemaError> {
        let bytes = qr::decode_qr(text)?;
        Presentation::from_bytes(&bytes)
    }
}

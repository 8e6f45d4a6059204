//! Refill requests (format 2): a wallet asking the department that issued a certificate
//! for a new set of one-time copies of it, before its copies run out (`docs/protocol.md`
//! §9b).
//!
//! The wallet sends the certificate as it holds it — one copy of it (a [`CopyPackage`] of
//! one copy: the field values, the copy's secret, the department's signature), or, for a
//! certificate issued whole before format 2, its [`CertificatePackage`] — with its wallet
//! key and the time, signed with the wallet key. The department checks its own signature
//! on what is sent (so the values are the ones it issued, and the holder is that wallet),
//! and the wallet's signature (so the request comes from the holder). Nothing is revealed
//! that the department did not issue. A whole certificate is answered with copies: that
//! is how a wallet's certificates of the older format are upgraded.

use crate::codec::{cbor_array, from_cbor_versioned, to_cbor, ByteBuf, MAX_ITEM_BYTES};
use crate::copy::AnyPackage;
use crate::{PublicKeyBytes, SchemaError, SignatureBytes, UnixTime};

/// Version of [`RefillRequest`].
pub const REFILL_VERSION: u64 = 1;

/// Largest refill request accepted (one copy of a certificate, with its fields).
pub const MAX_REFILL_BYTES: usize = MAX_ITEM_BYTES;

cbor_array! {
    /// What a wallet asks (signed with its wallet key, context `ecert/v2/refill`):
    /// `[package, wallet, time]`.
    pub struct RefillBody {
        /// `bstr .cbor (CopyPackage / CertificatePackage)`: one copy of the certificate
        /// as the wallet holds it, or the whole certificate of format 1.
        pub package: ByteBuf,
        /// The wallet's key (the copy's holder key is this key tweaked by its secret).
        pub wallet: PublicKeyBytes,
        /// When the wallet asked.
        pub time: UnixTime,
    }
}

impl RefillBody {
    /// The exact bytes signed (before the context).
    pub fn to_bytes(&self) -> Result<Vec<u8>, SchemaError> {
        to_cbor(self)
    }

    /// The package sent, decoded strictly.
    pub fn package(&self) -> Result<AnyPackage, SchemaError> {
        AnyPackage::from_bytes(&self.package)
    }
}

cbor_array! {
    /// A wallet's request for new copies of a certificate: `[1, body, signature]`.
    pub struct RefillRequest {
        /// [`REFILL_VERSION`].
        pub version: u64,
        /// What it asks.
        pub body: RefillBody,
        /// The wallet key's signature over the body.
        pub signature: SignatureBytes,
    }
}

impl RefillRequest {
    /// Encodes the request.
    pub fn to_bytes(&self) -> Result<Vec<u8>, SchemaError> {
        to_cbor(self)
    }

    /// Decodes a request strictly and within bounds: a package of format 2 with exactly
    /// one copy, or of format 1.
    pub fn from_bytes(bytes: &[u8]) -> Result<RefillRequest, SchemaError> {
        let request: RefillRequest = from_cbor_versioned(
            "refill request",
            bytes,
            MAX_REFILL_BYTES,
            3,
            REFILL_VERSION,
            |r: &RefillRequest| r.version,
        )?;
        match request.body.package()? {
            AnyPackage::V2(package) if package.copies.len() != 1 => Err(SchemaError::malformed(
                "refill request",
                "a refill request carries exactly one copy",
            )),
            _ => Ok(request),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::copy::{CopyEnvelope, CopyPackage, PackageField, PACKAGE_V2};
    use crate::kinds::FieldValue;
    use crate::{CertificateId, CopySecret, IssuerId, KeyId, KindId, StatusIndex};

    pub(crate) fn request(copies: usize) -> RefillRequest {
        let envelope = CopyEnvelope {
            secret: CopySecret([7; 32]),
            batch_seq: 3,
            leaf_index: 1,
            path: vec![],
            kind_index: 0,
            status_index: StatusIndex(9),
            signature: SignatureBytes([1; 64]),
        };
        RefillRequest {
            version: REFILL_VERSION,
            body: RefillBody {
                package: ByteBuf::from(
                    CopyPackage {
                        version: PACKAGE_V2,
                        id: CertificateId([5; 16]),
                        issuer: IssuerId::new("justice").unwrap(),
                        key_id: KeyId([2; 8]),
                        kind: KindId::new("no-criminal-record").unwrap(),
                        issued_at: UnixTime(10),
                        valid_from: UnixTime(10),
                        expires: UnixTime(20),
                        fields: vec![PackageField {
                            field: 0,
                            value: Some(FieldValue::Text("王芳".into())),
                        }],
                        copies: vec![envelope; copies],
                    }
                    .to_bytes()
                    .unwrap(),
                ),
                wallet: PublicKeyBytes([4; 32]),
                time: UnixTime(15),
            },
            signature: SignatureBytes([6; 64]),
        }
    }

    #[test]
    fn a_request_round_trips_and_carries_one_copy() {
        let one = request(1);
        let bytes = one.to_bytes().unwrap();
        assert_eq!(RefillRequest::from_bytes(&bytes).unwrap(), one);
        let mut not_a_package = one.clone();
        not_a_package.body.package = ByteBuf::from(vec![0x80]);
        for bad in [
            request(2).to_bytes().unwrap(),
            not_a_package.to_bytes().unwrap(),
            {
                let mut b = bytes.clone();
                b.push(0);
                b
            },
        ] {
            assert!(RefillRequest::from_bytes(&bad).is_err());
        }
        let mut newer = one.clone();
        newer.version = 2;
        assert!(matches!(
            RefillRequest::from_bytes(&newer.to_bytes().unwrap()),
            Err(SchemaError::UnsupportedVersion { .. })
        ));
    }
}

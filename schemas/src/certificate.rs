//! An ecert certificate: a COSE_Sign1 (EdDSA) over CWT claims (RFC 8392).
//!
//! The payload carries who issued it, its kind, id, times, the holder's key (`cnf`,
//! RFC 8747), its revocation status index and one salted digest per field. Field values
//! are never in the payload: they travel as [`crate::Disclosure`]s, chosen by the holder.

use std::collections::BTreeMap;

use serde::de::{Error, MapAccess};
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::codec::visit::{deserialize_from_map, FromMap};
use crate::codec::{from_cbor, to_cbor};
use crate::cose::{CoseSign1, ProtectedHeader, UnprotectedHeader, ALG_EDDSA};
use crate::{
    CertificateId, FieldDigest, IssuerId, KeyId, KindId, PublicKeyBytes, SchemaError, StatusIndex,
    UnixTime,
};

/// CWT claim key `iss`.
pub const CLAIM_ISS: i64 = 1;
/// CWT claim key `exp`.
pub const CLAIM_EXP: i64 = 4;
/// CWT claim key `nbf`.
pub const CLAIM_NBF: i64 = 5;
/// CWT claim key `iat`.
pub const CLAIM_IAT: i64 = 6;
/// CWT claim key `cti`.
pub const CLAIM_CTI: i64 = 7;
/// CWT claim key `cnf` (RFC 8747).
pub const CLAIM_CNF: i64 = 8;
/// Private-use claim: the certificate kind (text).
pub const CLAIM_KIND: i64 = -65_537;
/// Private-use claim: the revocation status index (uint).
pub const CLAIM_STATUS: i64 = -65_538;
/// Private-use claim: salted field digests, `{ field number => bstr .size 16 }`.
pub const CLAIM_DIGESTS: i64 = -65_539;

/// Most fields a certificate may carry digests for.
pub const MAX_FIELDS: usize = 64;

/// The claims a certificate's issuer signs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateClaims {
    /// `iss`: the issuing department.
    pub issuer: IssuerId,
    /// `exp`: end of validity.
    pub expires: UnixTime,
    /// `nbf`: start of validity.
    pub valid_from: UnixTime,
    /// `iat`: when it was issued.
    pub issued_at: UnixTime,
    /// `cti`: the certificate id.
    pub id: CertificateId,
    /// `cnf`: the holder's Ed25519 key, which must sign every presentation.
    pub holder: PublicKeyBytes,
    /// The certificate kind.
    pub kind: KindId,
    /// Position in the issuer's revocation status list.
    pub status_index: StatusIndex,
    /// Salted digest of each field, by field number.
    pub digests: BTreeMap<u16, FieldDigest>,
}

impl CertificateClaims {
    /// Decodes claims strictly.
    pub fn from_bytes(bytes: &[u8]) -> Result<CertificateClaims, SchemaError> {
        from_cbor("certificate claims", bytes)
    }

    /// Encodes claims deterministically.
    pub fn to_bytes(&self) -> Result<Vec<u8>, SchemaError> {
        to_cbor(self)
    }
}

/// `cnf` holding a COSE_Key: `{1: {1: 1 (OKP), -1: 6 (Ed25519), -2: x}}`.
struct Cnf<'a>(&'a PublicKeyBytes);

impl Serialize for Cnf<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct CoseKey<'a>(&'a PublicKeyBytes);
        impl Serialize for CoseKey<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut m = s.serialize_map(Some(3))?;
                m.serialize_entry(&1i64, &1u64)?;
                m.serialize_entry(&-1i64, &6u64)?;
                m.serialize_entry(&-2i64, self.0)?;
                m.end()
            }
        }
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry(&1i64, &CoseKey(self.0))?;
        m.end()
    }
}

struct CnfOwned(PublicKeyBytes);

impl FromMap for CnfOwned {
    const EXPECTING: &'static str = "a cnf map {1: COSE_Key}";

    fn from_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<CnfOwned, A::Error> {
        let mut key = None;
        while let Some(label) = map.next_key::<i64>()? {
            match label {
                1 if key.is_none() => key = Some(map.next_value::<CoseKeyOwned>()?.0),
                other => {
                    return Err(A::Error::custom(format!(
                        "unexpected or duplicate cnf label {other}"
                    )))
                }
            }
        }
        key.map(CnfOwned)
            .ok_or_else(|| A::Error::custom("cnf without COSE_Key"))
    }
}

/// The Ed25519 COSE_Key inside `cnf`.
struct CoseKeyOwned(PublicKeyBytes);

impl FromMap for CoseKeyOwned {
    const EXPECTING: &'static str = "an Ed25519 COSE_Key {1: 1, -1: 6, -2: x}";

    fn from_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<CoseKeyOwned, A::Error> {
        let (mut kty, mut crv, mut x) = (None, None, None);
        while let Some(label) = map.next_key::<i64>()? {
            match label {
                1 if kty.is_none() => kty = Some(map.next_value::<u64>()?),
                -1 if crv.is_none() => crv = Some(map.next_value::<u64>()?),
                -2 if x.is_none() => x = Some(map.next_value::<PublicKeyBytes>()?),
                other => {
                    return Err(A::Error::custom(format!(
                        "unexpected or duplicate COSE_Key label {other}"
                    )))
                }
            }
        }
        match (kty, crv, x) {
            (Some(1), Some(6), Some(x)) => Ok(CoseKeyOwned(x)),
            _ => Err(A::Error::custom(
                "holder key must be an Ed25519 OKP key (kty 1, crv 6, x)",
            )),
        }
    }
}

impl Serialize for CertificateClaims {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // Keys in RFC 8949 §4.2.1 order: 1, 4, 5, 6, 7, 8, then -65537, -65538, -65539.
        let mut m = s.serialize_map(Some(9))?;
        m.serialize_entry(&CLAIM_ISS, &self.issuer)?;
        m.serialize_entry(&CLAIM_EXP, &self.expires)?;
        m.serialize_entry(&CLAIM_NBF, &self.valid_from)?;
        m.serialize_entry(&CLAIM_IAT, &self.issued_at)?;
        m.serialize_entry(&CLAIM_CTI, &self.id)?;
        m.serialize_entry(&CLAIM_CNF, &Cnf(&self.holder))?;
        m.serialize_entry(&CLAIM_KIND, &self.kind)?;
        m.serialize_entry(&CLAIM_STATUS, &self.status_index)?;
        m.serialize_entry(&CLAIM_DIGESTS, &self.digests)?;
        m.end()
    }
}

impl FromMap for CertificateClaims {
    const EXPECTING: &'static str = "a CWT claims map";

    fn from_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<CertificateClaims, A::Error> {
        let mut issuer = None;
        let mut expires = None;
        let mut valid_from = None;
        let mut issued_at = None;
        let mut id = None;
        let mut holder = None;
        let mut kind = None;
        let mut status_index = None;
        let mut digests: Option<BTreeMap<u16, FieldDigest>> = None;
        fn put<T, E: Error>(slot: &mut Option<T>, v: T, key: i64) -> Result<(), E> {
            if slot.is_some() {
                return Err(E::custom(format!("duplicate claim {key}")));
            }
            *slot = Some(v);
            Ok(())
        }
        while let Some(key) = map.next_key::<i64>()? {
            match key {
                CLAIM_ISS => put(&mut issuer, map.next_value()?, key)?,
                CLAIM_EXP => put(&mut expires, map.next_value()?, key)?,
                CLAIM_NBF => put(&mut valid_from, map.next_value()?, key)?,
                CLAIM_IAT => put(&mut issued_at, map.next_value()?, key)?,
                CLAIM_CTI => put(&mut id, map.next_value()?, key)?,
                CLAIM_CNF => put(&mut holder, map.next_value::<CnfOwned>()?.0, key)?,
                CLAIM_KIND => put(&mut kind, map.next_value()?, key)?,
                CLAIM_STATUS => put(&mut status_index, map.next_value()?, key)?,
                CLAIM_DIGESTS => put(&mut digests, map.next_value()?, key)?,
                other => return Err(A::Error::custom(format!("unknown claim {other}"))),
            }
        }
        let missing = |name: &'static str| A::Error::custom(format!("missing claim {name}"));
        let digests = digests.ok_or_else(|| missing("field digests"))?;
        if digests.is_empty() || digests.len() > MAX_FIELDS {
            return Err(A::Error::custom("a certificate has 1 to 64 field digests"));
        }
        Ok(CertificateClaims {
            issuer: issuer.ok_or_else(|| missing("iss"))?,
            expires: expires.ok_or_else(|| missing("exp"))?,
            valid_from: valid_from.ok_or_else(|| missing("nbf"))?,
            issued_at: issued_at.ok_or_else(|| missing("iat"))?,
            id: id.ok_or_else(|| missing("cti"))?,
            holder: holder.ok_or_else(|| missing("cnf"))?,
            kind: kind.ok_or_else(|| missing("kind"))?,
            status_index: status_index.ok_or_else(|| missing("status index"))?,
            digests,
        })
    }
}

deserialize_from_map!(CertificateClaims, CnfOwned, CoseKeyOwned);

/// The protected header every ecert certificate carries: `{1: -8}` (alg EdDSA).
pub const CERTIFICATE_PROTECTED_HEADER: [u8; 3] = [0xa1, 0x01, 0x27];

/// A certificate read from its exact bytes, with its structure checked (not its signature:
/// that is the verifier's job).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Certificate {
    /// The COSE message exactly as issued; the Merkle leaf is computed over these bytes.
    pub bytes: Vec<u8>,
    /// The decoded COSE message.
    pub cose: CoseSign1,
    /// The signing key's id (COSE `kid`).
    pub key_id: KeyId,
    /// The decoded claims.
    pub claims: CertificateClaims,
}

impl Certificate {
    /// Reads a certificate strictly: tagged COSE_Sign1, protected header exactly `{1: -8}`,
    /// an 8-byte `kid`, a 64-byte signature and well-formed claims.
    pub fn from_bytes(bytes: &[u8]) -> Result<Certificate, SchemaError> {
        let cose = CoseSign1::from_bytes(bytes)?;
        if cose.protected != CERTIFICATE_PROTECTED_HEADER {
            return Err(SchemaError::malformed(
                "certificate",
                "protected header must be exactly {1: -8} (alg EdDSA)",
            ));
        }
        let kid = cose.unprotected.kid.as_deref().ok_or_else(|| {
            SchemaError::malformed("certificate", "no kid in the unprotected header")
        })?;
        let key_id = KeyId::from_slice(kid)?;
        if cose.signature.len() != 64 {
            return Err(SchemaError::WrongLength {
                what: "certificate signature",
                expected: 64,
                found: cose.signature.len(),
            });
        }
        let claims = CertificateClaims::from_bytes(&cose.payload)?;
        Ok(Certificate {
            bytes: bytes.to_vec(),
            cose,
            key_id,
            claims,
        })
    }

    /// Assembles an unsigned certificate's parts: returns the COSE message without its
    /// signature, for the issuer to sign its [`CoseSign1::to_be_signed`] bytes.
    pub fn unsigned(claims: &CertificateClaims, key_id: KeyId) -> Result<CoseSign1, SchemaError> {
        debug_assert_eq!(
            to_cbor(&ProtectedHeader {
                alg: Some(ALG_EDDSA),
                content_type: None
            })
            .ok(),
            Some(CERTIFICATE_PROTECTED_HEADER.to_vec())
        );
        Ok(CoseSign1 {
            protected: CERTIFICATE_PROTECTED_HEADER.to_vec(),
            unprotected: UnprotectedHeader {
                kid: Some(key_id.0.to_vec()),
            },
            payload: claims.to_bytes()?,
            signature: Vec::new(),
        })
    }
}

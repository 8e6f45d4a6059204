//! COSE_Sign1 (RFC 9052 §4.2) with EdDSA, as far as ecert uses it.
//!
//! The structure is generic enough to read any single-signer COSE message whose headers use
//! only `alg` (1), `content type` (3) and `kid` (4); ecert certificates narrow it further
//! (see [`crate::certificate`]).

use core::fmt;
use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_bytes::ByteBuf;

use crate::codec::visit::{deserialize_from_map, FromMap};
use crate::codec::{from_cbor, tag, to_cbor};
use crate::SchemaError;

/// CBOR tag of COSE_Sign1.
pub const COSE_SIGN1_TAG: u64 = 18;
/// COSE algorithm id of EdDSA.
pub const ALG_EDDSA: i64 = -8;
/// COSE header label `alg`.
const LABEL_ALG: i64 = 1;
/// COSE header label `content type`.
const LABEL_CONTENT_TYPE: i64 = 3;
/// COSE header label `kid`.
const LABEL_KID: i64 = 4;

/// A content type in a COSE header: a CoAP content-format number or a media type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum ContentType {
    /// CoAP content-format number.
    Number(u64),
    /// Media type text.
    Text(String),
}

/// The protected header, decoded from the bytes it was signed as.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ProtectedHeader {
    /// `alg` (1).
    pub alg: Option<i64>,
    /// `content type` (3).
    pub content_type: Option<ContentType>,
}

/// The unprotected header: only `kid` is understood.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct UnprotectedHeader {
    /// `kid` (4).
    pub kid: Option<Vec<u8>>,
}

/// A COSE_Sign1 message: `#6.18([protected: bstr, unprotected: map, payload: bstr, signature: bstr])`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoseSign1 {
    /// The protected header exactly as signed.
    pub protected: Vec<u8>,
    /// The unprotected header.
    pub unprotected: UnprotectedHeader,
    /// The payload exactly as signed.
    pub payload: Vec<u8>,
    /// The signature.
    pub signature: Vec<u8>,
}

impl CoseSign1 {
    /// Reads a tagged COSE_Sign1 strictly.
    pub fn from_bytes(bytes: &[u8]) -> Result<CoseSign1, SchemaError> {
        from_cbor("COSE_Sign1", bytes)
    }

    /// Encodes the message.
    pub fn to_bytes(&self) -> Result<Vec<u8>, SchemaError> {
        to_cbor(self)
    }

    /// Decodes the protected header.
    pub fn protected_header(&self) -> Result<ProtectedHeader, SchemaError> {
        if self.protected.is_empty() {
            return Ok(ProtectedHeader::default());
        }
        from_cbor("COSE protected header", &self.protected)
    }

    /// The bytes the signature covers: `Sig_structure` (RFC 9052 §4.4),
    /// `["Signature1", protected, external_aad, payload]`.
    pub fn to_be_signed(&self, external_aad: &[u8]) -> Result<Vec<u8>, SchemaError> {
        sig_structure(&self.protected, external_aad, &self.payload)
    }
}

/// `Sig_structure` for COSE_Sign1 over the given parts.
pub fn sig_structure(
    protected: &[u8],
    external_aad: &[u8],
    payload: &[u8],
) -> Result<Vec<u8>, SchemaError> {
    to_cbor(&(
        "Signature1",
        serde_bytes::Bytes::new(protected),
        serde_bytes::Bytes::new(external_aad),
        serde_bytes::Bytes::new(payload),
    ))
}

impl Serialize for CoseSign1 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let inner = (
            serde_bytes::Bytes::new(&self.protected),
            &self.unprotected,
            serde_bytes::Bytes::new(&self.payload),
            serde_bytes::Bytes::new(&self.signature),
        );
        tag::serialize_tagged(COSE_SIGN1_TAG, &inner, s)
    }
}

impl<'de> Deserialize<'de> for CoseSign1 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (protected, unprotected, payload, signature): (
            ByteBuf,
            UnprotectedHeader,
            ByteBuf,
            ByteBuf,
        ) = tag::deserialize_tagged(COSE_SIGN1_TAG, d)?;
        Ok(CoseSign1 {
            protected: protected.into_vec(),
            unprotected,
            payload: payload.into_vec(),
            signature: signature.into_vec(),
        })
    }
}

impl<'de> Deserialize<'de> for ContentType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ContentType;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a content-format number or a media type")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<ContentType, E> {
                Ok(ContentType::Number(v))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ContentType, E> {
                Ok(ContentType::Text(v.to_owned()))
            }
        }
        d.deserialize_any(V)
    }
}

/// Every header parameter ecert understands, whichever header map holds it: both maps are
/// written and read by the same code, each allowing only its own labels.
#[derive(Default)]
struct HeaderParams {
    alg: Option<i64>,
    content_type: Option<ContentType>,
    kid: Option<Vec<u8>>,
}

impl HeaderParams {
    /// Writes the parameters that are present, in label order.
    fn write<S: Serializer>(
        s: S,
        alg: Option<i64>,
        content_type: Option<&ContentType>,
        kid: Option<&[u8]>,
    ) -> Result<S::Ok, S::Error> {
        let len = usize::from(alg.is_some())
            + usize::from(content_type.is_some())
            + usize::from(kid.is_some());
        let mut m = s.serialize_map(Some(len))?;
        if let Some(alg) = alg {
            m.serialize_entry(&LABEL_ALG, &alg)?;
        }
        if let Some(content_type) = content_type {
            m.serialize_entry(&LABEL_CONTENT_TYPE, content_type)?;
        }
        if let Some(kid) = kid {
            m.serialize_entry(&LABEL_KID, serde_bytes::Bytes::new(kid))?;
        }
        m.end()
    }

    /// Reads a header map that may hold only the labels in `allowed`, each at most once;
    /// `which` names the header in errors.
    fn read<'de, A: MapAccess<'de>>(
        mut map: A,
        which: &str,
        allowed: &[i64],
    ) -> Result<HeaderParams, A::Error> {
        use serde::de::Error;
        let mut h = HeaderParams::default();
        while let Some(label) = map.next_key::<i64>()? {
            if !allowed.contains(&label) {
                return Err(A::Error::custom(format!(
                    "unsupported {which} header label {label}"
                )));
            }
            let seen = match label {
                LABEL_ALG => h.alg.is_some(),
                LABEL_CONTENT_TYPE => h.content_type.is_some(),
                _ => h.kid.is_some(),
            };
            if seen {
                return Err(A::Error::custom(format!("duplicate header label {label}")));
            }
            match label {
                LABEL_ALG => h.alg = Some(map.next_value()?),
                LABEL_CONTENT_TYPE => h.content_type = Some(map.next_value()?),
                _ => {
                    let kid: ByteBuf = map.next_value()?;
                    if kid.len() > 64 {
                        return Err(A::Error::custom("kid longer than 64 bytes"));
                    }
                    h.kid = Some(kid.into_vec());
                }
            }
        }
        Ok(h)
    }
}

impl Serialize for ProtectedHeader {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        HeaderParams::write(s, self.alg, self.content_type.as_ref(), None)
    }
}

impl FromMap for ProtectedHeader {
    const EXPECTING: &'static str = "a COSE header map";

    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<ProtectedHeader, A::Error> {
        let h = HeaderParams::read(map, "protected", &[LABEL_ALG, LABEL_CONTENT_TYPE])?;
        Ok(ProtectedHeader {
            alg: h.alg,
            content_type: h.content_type,
        })
    }
}

impl Serialize for UnprotectedHeader {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        HeaderParams::write(s, None, None, self.kid.as_deref())
    }
}

impl FromMap for UnprotectedHeader {
    const EXPECTING: &'static str = "a COSE header map";

    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<UnprotectedHeader, A::Error> {
        let h = HeaderParams::read(map, "unprotected", &[LABEL_KID])?;
        Ok(UnprotectedHeader { kid: h.kid })
    }
}

deserialize_from_map!(ProtectedHeader, UnprotectedHeader);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protected_header_encoding() {
        let h = ProtectedHeader {
            alg: Some(ALG_EDDSA),
            content_type: None,
        };
        assert_eq!(to_cbor(&h).unwrap(), [0xa1, 0x01, 0x27]);
    }

    #[test]
    fn rejects_untagged_and_wrong_tag() {
        let msg = CoseSign1 {
            protected: vec![0xa1, 0x01, 0x27],
            unprotected: UnprotectedHeader {
                kid: Some(vec![1, 2]),
            },
            payload: b"hi".to_vec(),
            signature: vec![0; 64],
        };
        let bytes = msg.to_bytes().unwrap();
        assert_eq!(bytes[0], 0xd2);
        assert_eq!(CoseSign1::from_bytes(&bytes).unwrap(), msg);
        assert!(
            CoseSign1::from_bytes(&bytes[1..]).is_err(),
            "untagged accepted"
        );
        let mut wrong = bytes.clone();
        wrong[0] = 0xd1; // tag 17 (COSE_Mac0)
        assert!(CoseSign1::from_bytes(&wrong).is_err());
    }

    #[test]
    fn rejects_unknown_header_labels() {
        // unprotected {5: h''} (IV) is not understood
        let bytes = [
            0xd2, 0x84, 0x43, 0xa1, 0x01, 0x27, 0xa1, 0x05, 0x40, 0x40, 0x40,
        ];
        assert!(CoseSign1::from_bytes(&bytes).is_err());
        // protected {1: -8, 2: []} (crit) is not understood
        let msg = CoseSign1 {
            protected: vec![0xa2, 0x01, 0x27, 0x02, 0x80],
            unprotected: UnprotectedHeader::default(),
            payload: vec![],
            signature: vec![],
        };
        assert!(msg.protected_header().is_err());
    }
}

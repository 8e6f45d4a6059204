//! Newtypes for the keys, hashes, identifiers and times that travel on the wire.
//!
//! Fixed-size byte values encode as CBOR byte strings and refuse any other length.

use core::fmt;
use serde::de::{Error as _, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::SchemaError;

macro_rules! fixed_bytes {
    ($(#[$meta:meta])* $name:ident, $len:expr, $what:expr) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub [u8; $len]);

        impl $name {
            /// Length in bytes.
            pub const LEN: usize = $len;

            /// Reads the value from a slice of exactly [`Self::LEN`] bytes.
            pub fn from_slice(bytes: &[u8]) -> Result<Self, SchemaError> {
                <[u8; $len]>::try_from(bytes).map($name).map_err(|_| SchemaError::WrongLength {
                    what: $what,
                    expected: $len,
                    found: bytes.len(),
                })
            }

            /// Reads the value from lowercase or uppercase hex.
            pub fn from_hex(text: &str) -> Result<Self, SchemaError> {
                let bytes = hex::decode(text.trim()).map_err(|e| SchemaError::malformed($what, e))?;
                Self::from_slice(&bytes)
            }

            /// The raw bytes.
            pub fn as_bytes(&self) -> &[u8; $len] {
                &self.0
            }

            /// Lowercase hex.
            pub fn to_hex(&self) -> String {
                hex::encode(self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), hex::encode(self.0))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&hex::encode(self.0))
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_bytes(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        write!(f, "a byte string of {} bytes ({})", $len, $what)
                    }
                    fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<$name, E> {
                        <[u8; $len]>::try_from(v)
                            .map($name)
                            .map_err(|_| E::invalid_length(v.len(), &self))
                    }
                }
                d.deserialize_bytes(V)
            }
        }
    };
}

fixed_bytes!(
    /// A SHA-256 output: certificate hashes, Merkle nodes and roots, header hashes.
    Hash32, 32, "SHA-256 hash"
);
fixed_bytes!(
    /// A salted field digest: SHA-256 truncated to 128 bits (`sha-256-128` in the IANA
    /// Named Information Hash Algorithm Registry).
    FieldDigest, 16, "field digest"
);
fixed_bytes!(
    /// The random salt hashed with one field value.
    Salt, 16, "salt"
);
fixed_bytes!(
    /// A node of a format-2 Merkle tree (over a copy's fields, or over a batch's copies
    /// below its root): SHA-256 truncated to 128 bits.
    Hash16, 16, "128-bit hash"
);
fixed_bytes!(
    /// A one-time copy's secret, chosen by the issuer and known only to it and the
    /// holder's wallet: the copy's salts, its hidden-field leaves and the tweak of its
    /// holder key all derive from it.
    CopySecret, 32, "copy secret"
);
fixed_bytes!(
    /// An Ed25519 public key, as its 32-byte compressed encoding. Not yet checked to be a
    /// valid curve point: the verifier does that.
    PublicKeyBytes, 32, "Ed25519 public key"
);
fixed_bytes!(
    /// An Ed25519 signature, 64 bytes.
    SignatureBytes, 64, "Ed25519 signature"
);
fixed_bytes!(
    /// An issuer key's identifier: the first 8 bytes of SHA-256 over its public key.
    KeyId, 8, "key id"
);
fixed_bytes!(
    /// A certificate's identifier (CWT `cti`): 16 random bytes chosen by the issuer.
    CertificateId, 16, "certificate id"
);

impl KeyId {
    /// The key id of an Ed25519 public key: `SHA-256(key)[0..8]`.
    pub fn of(key: &PublicKeyBytes) -> KeyId {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(key.0);
        let mut id = [0u8; 8];
        id.copy_from_slice(digest.get(..8).unwrap_or(&[0u8; 8]));
        KeyId(id)
    }
}

/// A counter's challenge: 1 to 32 bytes chosen by the verifier.
#[derive(Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Nonce(#[serde(with = "serde_bytes")] Vec<u8>);

impl Nonce {
    /// Longest nonce accepted.
    pub const MAX_LEN: usize = 32;

    /// A nonce from 1 to [`Self::MAX_LEN`] bytes.
    pub fn new(bytes: Vec<u8>) -> Result<Nonce, SchemaError> {
        if bytes.is_empty() || bytes.len() > Self::MAX_LEN {
            return Err(SchemaError::malformed(
                "nonce",
                format!(
                    "a nonce is 1 to {} bytes, found {}",
                    Self::MAX_LEN,
                    bytes.len()
                ),
            ));
        }
        Ok(Nonce(bytes))
    }

    /// The bytes of the nonce.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Reads a nonce from hex (as a counter prints it).
    pub fn from_hex(text: &str) -> Result<Nonce, SchemaError> {
        let bytes = hex::decode(text.trim()).map_err(|e| SchemaError::malformed("nonce", e))?;
        Nonce::new(bytes)
    }

    /// Uppercase hex, short enough to read aloud or type.
    pub fn to_hex(&self) -> String {
        hex::encode_upper(&self.0)
    }
}

impl fmt::Debug for Nonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Nonce({})", hex::encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Nonce {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let bytes: serde_bytes::ByteBuf = Deserialize::deserialize(d)?;
        Nonce::new(bytes.into_vec()).map_err(D::Error::custom)
    }
}

/// A point in time as whole seconds since the Unix epoch (CWT NumericDate without fractions).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UnixTime(pub u64);

impl UnixTime {
    /// Seconds since the epoch.
    pub fn secs(self) -> u64 {
        self.0
    }

    /// This time plus `secs`, saturating.
    pub fn plus(self, secs: u64) -> UnixTime {
        UnixTime(self.0.saturating_add(secs))
    }

    /// This time minus `secs`, saturating at the epoch.
    pub fn minus(self, secs: u64) -> UnixTime {
        UnixTime(self.0.saturating_sub(secs))
    }
}

impl fmt::Display for UnixTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d, hh, mm, ss) = crate::date::civil_from_unix(self.0);
        write!(f, "{y:04}-{m:02}-{d:02} {hh:02}:{mm:02}:{ss:02} UTC")
    }
}

/// A position in an issuer's revocation status list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StatusIndex(pub u32);

impl fmt::Display for StatusIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

fn check_identifier(what: &'static str, value: &str) -> Result<(), SchemaError> {
    let ok_len = !value.is_empty() && value.len() <= 64;
    let ok_chars = value
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
    let ok_edges = value
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if ok_len && ok_chars && ok_edges {
        Ok(())
    } else {
        Err(SchemaError::InvalidIdentifier {
            what,
            value: value.to_owned(),
            rule: "1 to 64 characters of a-z, 0-9, '-' and '.', starting with a letter or digit",
        })
    }
}

macro_rules! identifier {
    ($(#[$meta:meta])* $name:ident, $what:expr) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Checks the naming rule: 1 to 64 characters of `a-z 0-9 - .`.
            pub fn new(value: impl Into<String>) -> Result<Self, SchemaError> {
                let value = value.into();
                check_identifier($what, &value)?;
                Ok($name(value))
            }

            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                $name::new(s).map_err(D::Error::custom)
            }
        }
    };
}

identifier!(
    /// A department that issues certificates, e.g. `public-security` (CWT `iss`).
    IssuerId, "issuer id"
);
identifier!(
    /// A certificate kind, e.g. `id-card`.
    KindId, "kind id"
);
identifier!(
    /// A ledger's chain id, e.g. `ecert-demo-province`.
    ChainId, "chain id"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_follow_the_rule() {
        assert!(IssuerId::new("public-security").is_ok());
        assert!(KindId::new("id-card.v2").is_ok());
        for bad in ["", "Public", "-lead", "a b", &"x".repeat(65), "é"] {
            assert!(IssuerId::new(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn fixed_bytes_reject_wrong_length() {
        assert!(Hash32::from_slice(&[0u8; 31]).is_err());
        assert!(Hash32::from_slice(&[0u8; 33]).is_err());
        assert!(Hash32::from_hex(&"ab".repeat(32)).is_ok());
        assert!(Salt::from_hex("zz").is_err());
    }

    #[test]
    fn key_id_is_sha256_prefix() {
        let key = PublicKeyBytes([7u8; 32]);
        let id = KeyId::of(&key);
        use sha2::{Digest, Sha256};
        assert_eq!(&id.0[..], &Sha256::digest([7u8; 32])[..8]);
    }

    #[test]
    fn nonce_bounds() {
        assert!(Nonce::new(vec![]).is_err());
        assert!(Nonce::new(vec![1; 33]).is_err());
        assert_eq!(Nonce::from_hex("A1B2").unwrap().to_hex(), "A1B2");
    }
}

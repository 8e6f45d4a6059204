//! The only place that touches the CBOR library.
//!
//! Every structure is decoded strictly: the input must be one complete CBOR item of the
//! expected shape, within a size bound, and it must re-encode to exactly the same bytes.
//! The last rule makes ecert's encoding deterministic (RFC 8949 §4.2): duplicate map keys,
//! misordered keys, non-minimal integers and indefinite lengths are all rejected, so two
//! parties that agree on a value agree on its bytes, and signatures are always over those
//! exact bytes.

pub mod base45;
pub mod qr;
pub(crate) mod tag;
pub(crate) mod visit;

/// Owned byte strings, as the wire types hold them (`bstr` in CBOR).
pub use serde_bytes::ByteBuf;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::SchemaError;

/// Upper bound for any single CBOR structure read from outside (64 KiB).
pub const MAX_ITEM_BYTES: usize = 64 * 1024;

/// Encodes a value as CBOR.
///
/// ecert's own types always encode; a failure here means a bug in a `Serialize` impl, and is
/// reported rather than hidden.
pub fn to_cbor<T: Serialize>(value: &T) -> Result<Vec<u8>, SchemaError> {
    serde_cbor::to_vec(value).map_err(|e| SchemaError::malformed("value to encode", e))
}

/// [`to_cbor`], appended to `out`. For a value that holds a secret (a wallet's key): with
/// `out` reserved large enough beforehand, the encoding is written in place and never
/// moved, so a growing buffer leaves no partial copy behind in freed memory, and the caller
/// wipes `out` when done.
pub fn to_cbor_into<T: Serialize>(value: &T, out: &mut Vec<u8>) -> Result<(), SchemaError> {
    serde_cbor::to_writer(out, value).map_err(|e| SchemaError::malformed("value to encode", e))
}

/// Decodes `bytes` as a `T`, strictly: bounded size, no trailing bytes, deterministic encoding.
pub fn from_cbor<T: Serialize + DeserializeOwned>(
    what: &'static str,
    bytes: &[u8],
) -> Result<T, SchemaError> {
    from_cbor_bounded(what, bytes, MAX_ITEM_BYTES)
}

/// [`from_cbor`] with an explicit size bound, for the few structures (trust bundles) that
/// are larger than one QR code's worth.
pub fn from_cbor_bounded<T: Serialize + DeserializeOwned>(
    what: &'static str,
    bytes: &[u8],
    limit: usize,
) -> Result<T, SchemaError> {
    from_cbor_bounded_in(what, bytes, limit, &mut Vec::new())
}

/// [`from_cbor_bounded`] for a value that holds a secret (a wallet's key): the re-encoding
/// made for the comparison is written into `scratch` (emptied, and reserved to the size of
/// `bytes` so that a canonical input is re-encoded in place, never moved), which the
/// caller wipes when done.
pub fn from_cbor_bounded_in<T: Serialize + DeserializeOwned>(
    what: &'static str,
    bytes: &[u8],
    limit: usize,
    scratch: &mut Vec<u8>,
) -> Result<T, SchemaError> {
    if bytes.len() > limit {
        return Err(SchemaError::TooLarge {
            actual: bytes.len(),
            limit,
        });
    }
    let value: T = serde_cbor::from_slice(bytes).map_err(|e| SchemaError::malformed(what, e))?;
    scratch.clear();
    scratch.reserve(bytes.len());
    to_cbor_into(&value, scratch)?;
    if scratch.as_slice() != bytes {
        return Err(SchemaError::NonCanonical { what });
    }
    Ok(value)
}

/// If `bytes` starts with a definite-length array of `len` items whose first item is an
/// unsigned integer, that integer: lets a newer version be reported as such rather than
/// as malformed.
pub(crate) fn leading_version(bytes: &[u8], len: u8) -> Option<u64> {
    if *bytes.first()? != 0x80 | len {
        return None;
    }
    let head = *bytes.get(1)?;
    let be = |n: usize| -> Option<u64> {
        let mut v = 0u64;
        for i in 0..n {
            v = v << 8 | u64::from(*bytes.get(2 + i)?);
        }
        Some(v)
    };
    match head {
        0x00..=0x17 => Some(u64::from(head)),
        0x18 => be(1),
        0x19 => be(2),
        0x1a => be(4),
        0x1b => be(8),
        _ => None,
    }
}

/// Decodes a versioned structure: a CBOR array of `array_len` items whose first item is
/// its version. A version other than `supported` is reported as
/// [`SchemaError::UnsupportedVersion`], whether it is seen before decoding (so that a
/// future format is not called malformed) or after.
pub(crate) fn from_cbor_versioned<T: Serialize + DeserializeOwned>(
    what: &'static str,
    bytes: &[u8],
    limit: usize,
    array_len: u8,
    supported: u64,
    version_of: impl Fn(&T) -> u64,
) -> Result<T, SchemaError> {
    let unsupported = |found| SchemaError::UnsupportedVersion {
        what,
        found,
        supported,
    };
    if let Some(found) = leading_version(bytes, array_len) {
        if found != supported {
            return Err(unsupported(found));
        }
    }
    let value: T = from_cbor_bounded(what, bytes, limit)?;
    match version_of(&value) {
        found if found == supported => Ok(value),
        found => Err(unsupported(found)),
    }
}

/// Adds `to_bytes` and a strict `from_bytes` ([`from_cbor_bounded`]) to a wire type:
/// `what` names it in errors, and `limit`, when given, replaces [`MAX_ITEM_BYTES`] as the
/// bound of its encoding.
macro_rules! wire_bytes {
    ($name:ident, $what:literal) => {
        $crate::codec::wire_bytes!($name, $what, $crate::codec::MAX_ITEM_BYTES);
    };
    ($name:ident, $what:literal, $limit:expr) => {
        impl $name {
            #[doc = concat!("Encodes the ", $what, ".")]
            pub fn to_bytes(&self) -> Result<Vec<u8>, $crate::SchemaError> {
                $crate::codec::to_cbor(self)
            }

            #[doc = concat!("Decodes the ", $what, " strictly: bounded size, no trailing bytes, deterministic encoding.")]
            pub fn from_bytes(bytes: &[u8]) -> Result<$name, $crate::SchemaError> {
                $crate::codec::from_cbor_bounded($what, bytes, $limit)
            }
        }
    };
}
pub(crate) use wire_bytes;

/// Declares a struct that travels as a CBOR array of its fields, in declaration order.
///
/// Arrays keep QR payloads small and leave no room for duplicate keys.
///
/// A struct may end with one optional list after a `;`: it is written as one more item
/// only when it is not empty, and a present but empty list is refused, so every value has
/// one encoding and values without it encode as before the list existed.
macro_rules! cbor_array {
    (
        $(#[$meta:meta])* pub struct $name:ident {
            $($(#[$fmeta:meta])* pub $field:ident : $fty:ty),+ ;
            $(#[$tmeta:meta])* pub $tail:ident : Vec<$tty:ty> $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub struct $name { $($(#[$fmeta])* pub $field: $fty,)+ $(#[$tmeta])* pub $tail: Vec<$tty> }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeTuple;
                let len = [$(stringify!($field)),+].len() + usize::from(!self.$tail.is_empty());
                let mut t = s.serialize_tuple(len)?;
                $( t.serialize_element(&self.$field)?; )+
                if !self.$tail.is_empty() {
                    t.serialize_element(&self.$tail)?;
                }
                t.end()
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $crate::codec::visit::deserialize_seq(d)
            }
        }

        impl $crate::codec::visit::FromSeq for $name {
            const LEN: usize = [$(stringify!($field)),+].len();

            fn expecting(f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                write!(
                    f,
                    "an array of {} or {} items ({})",
                    Self::LEN,
                    Self::LEN + 1,
                    stringify!($name)
                )
            }

            fn from_seq<'de, A: serde::de::SeqAccess<'de>>(
                mut seq: A,
                expected: &dyn serde::de::Expected,
            ) -> Result<Self, A::Error> {
                let mut seen = 0usize;
                $(
                    let $field: $fty = $crate::codec::visit::next_item(&mut seq, seen, expected)?;
                    seen += 1;
                )+
                let $tail: Vec<$tty> = match seq.next_element::<Vec<$tty>>()? {
                    Some(list) if list.is_empty() => {
                        return Err(serde::de::Error::custom(concat!(
                            "an empty ",
                            stringify!($tail),
                            " list is left out, not written"
                        )))
                    }
                    Some(list) => {
                        seen += 1;
                        list
                    }
                    None => Vec::new(),
                };
                $crate::codec::visit::no_more_items(&mut seq, seen, expected)?;
                Ok($name { $($field,)+ $tail })
            }
        }
    };
    ($(#[$meta:meta])* pub struct $name:ident { $($(#[$fmeta:meta])* pub $field:ident : $fty:ty),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub struct $name { $($(#[$fmeta])* pub $field: $fty),+ }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeTuple;
                let len = [$(stringify!($field)),+].len();
                let mut t = s.serialize_tuple(len)?;
                $( t.serialize_element(&self.$field)?; )+
                t.end()
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $crate::codec::visit::deserialize_seq(d)
            }
        }

        impl $crate::codec::visit::FromSeq for $name {
            const LEN: usize = [$(stringify!($field)),+].len();

            fn expecting(f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                write!(f, "an array of {} items ({})", Self::LEN, stringify!($name))
            }

            fn from_seq<'de, A: serde::de::SeqAccess<'de>>(
                mut seq: A,
                expected: &dyn serde::de::Expected,
            ) -> Result<Self, A::Error> {
                let mut seen = 0usize;
                $(
                    let $field: $fty = $crate::codec::visit::next_item(&mut seq, seen, expected)?;
                    seen += 1;
                )+
                $crate::codec::visit::no_more_items(&mut seq, seen, expected)?;
                Ok($name { $($field),+ })
            }
        }
    };
}
pub(crate) use cbor_array;

#[cfg(test)]
mod tests {
    use super::*;

    cbor_array! {
        /// test struct
        pub struct Pair {
            /// a
            pub a: u32,
            /// b
            pub b: String,
        }
    }

    #[test]
    fn array_round_trip_and_strictness() {
        let p = Pair {
            a: 5,
            b: "x".into(),
        };
        let bytes = to_cbor(&p).unwrap();
        assert_eq!(bytes, [0x82, 0x05, 0x61, b'x']);
        assert_eq!(from_cbor::<Pair>("pair", &bytes).unwrap(), p);
        // trailing byte
        assert!(from_cbor::<Pair>("pair", &[0x82, 0x05, 0x61, b'x', 0x00]).is_err());
        // too few / too many items
        assert!(from_cbor::<Pair>("pair", &[0x81, 0x05]).is_err());
        assert!(from_cbor::<Pair>("pair", &[0x83, 0x05, 0x61, b'x', 0x01]).is_err());
        // non-minimal integer 5 encoded in two bytes
        assert!(matches!(
            from_cbor::<Pair>("pair", &[0x82, 0x18, 0x05, 0x61, b'x']),
            Err(SchemaError::NonCanonical { .. })
        ));
        // indefinite-length array
        assert!(from_cbor::<Pair>("pair", &[0x9f, 0x05, 0x61, b'x', 0xff]).is_err());
        // over the bound
        assert!(matches!(
            from_cbor_bounded::<Pair>("pair", &bytes, 3),
            Err(SchemaError::TooLarge { .. })
        ));
    }

    #[test]
    fn duplicate_map_keys_are_rejected() {
        use std::collections::BTreeMap;
        // {1: 2, 1: 3}
        let dup = [0xa2, 0x01, 0x02, 0x01, 0x03];
        assert!(from_cbor::<BTreeMap<u8, u8>>("map", &dup).is_err());
        // {2: 0, 1: 0}: misordered
        let mis = [0xa2, 0x02, 0x00, 0x01, 0x00];
        assert!(from_cbor::<BTreeMap<u8, u8>>("map", &mis).is_err());
    }
}

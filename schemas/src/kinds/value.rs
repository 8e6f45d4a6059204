//! Field values as they travel in disclosures.

use core::fmt;
use serde::de::{SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A field's value. The CBOR type says which variant it is; the field's type in its kind
/// says how it is read (a date is text of the form `YYYY-MM-DD`, a digest is 32 bytes).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum FieldValue {
    /// Text, dates and enumerated values: CBOR text string.
    Text(String),
    /// Lists of enumerated values: CBOR array of text strings.
    TextList(Vec<String>),
    /// Digests: CBOR byte string.
    Bytes(Vec<u8>),
}

impl fmt::Display for FieldValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldValue::Text(t) => f.write_str(t),
            FieldValue::TextList(list) => f.write_str(&list.join(", ")),
            FieldValue::Bytes(b) => f.write_str(&hex::encode(b)),
        }
    }
}

impl Serialize for FieldValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            FieldValue::Text(t) => s.serialize_str(t),
            FieldValue::TextList(list) => list.serialize(s),
            FieldValue::Bytes(b) => s.serialize_bytes(b),
        }
    }
}

impl<'de> Deserialize<'de> for FieldValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = FieldValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a text string, an array of text strings, or a byte string")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<FieldValue, E> {
                Ok(FieldValue::Text(v.to_owned()))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<FieldValue, E> {
                Ok(FieldValue::Text(v))
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<FieldValue, E> {
                Ok(FieldValue::Bytes(v.to_vec()))
            }
            fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<FieldValue, E> {
                Ok(FieldValue::Bytes(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<FieldValue, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<String>()? {
                    if items.len() >= 64 {
                        return Err(serde::de::Error::invalid_length(
                            65,
                            &"at most 64 list items",
                        ));
                    }
                    items.push(item);
                }
                Ok(FieldValue::TextList(items))
            }
        }
        d.deserialize_any(V)
    }
}

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
    /// Derived facts: CBOR `true` or `false`.
    Bool(bool),
}

impl fmt::Display for FieldValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldValue::Text(t) => f.write_str(t),
            FieldValue::TextList(list) => f.write_str(&list.join(", ")),
            FieldValue::Bytes(b) => f.write_str(&hex::encode(b)),
            FieldValue::Bool(true) => f.write_str("yes"),
            FieldValue::Bool(false) => f.write_str("no"),
        }
    }
}

impl Serialize for FieldValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            FieldValue::Text(t) => s.serialize_str(t),
            FieldValue::TextList(list) => list.serialize(s),
            FieldValue::Bytes(b) => s.serialize_bytes(b),
            FieldValue::Bool(b) => s.serialize_bool(*b),
        }
    }
}

impl<'de> Deserialize<'de> for FieldValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = FieldValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a text string, an array of text strings, a byte string, true or false")
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<FieldValue, E> {
                Ok(FieldValue::Bool(v))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Disclosure;

    /// A disclosure `[salt, 3, value]` with `value` given as CBOR bytes.
    fn disclosure_with(value: &[u8]) -> Vec<u8> {
        let mut bytes = vec![0x83, 0x50];
        bytes.extend([7u8; 16]);
        bytes.push(0x03);
        bytes.extend(value);
        bytes
    }

    #[test]
    fn yes_and_no_are_cbor_true_and_false() {
        for (byte, value) in [(0xf5, true), (0xf4, false)] {
            let bytes = disclosure_with(&[byte]);
            let d = Disclosure::from_bytes(&bytes).unwrap();
            assert_eq!(d.value, FieldValue::Bool(value));
            assert_eq!(d.to_bytes().unwrap(), bytes);
        }
        assert_eq!(FieldValue::Bool(true).to_string(), "yes");
        assert_eq!(FieldValue::Bool(false).to_string(), "no");
    }

    #[test]
    fn other_simple_values_and_numbers_are_not_values() {
        // null, undefined, simple(16), 0, 1, -1, 1.0 (half float), a tag around true.
        for value in [
            &[0xf6][..],
            &[0xf7],
            &[0xf0],
            &[0x00],
            &[0x01],
            &[0x20],
            &[0xf9, 0x3c, 0x00],
            &[0xc1, 0xf5],
        ] {
            assert!(
                Disclosure::from_bytes(&disclosure_with(value)).is_err(),
                "{value:02x?}"
            );
        }
        // A list holds text only.
        assert!(Disclosure::from_bytes(&disclosure_with(&[0x81, 0xf5])).is_err());
    }
}

//! CBOR tags, which need the CBOR library's own wrapper type.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_cbor::tags::Tagged;

/// Serializes `value` behind CBOR tag `tag`.
pub(crate) fn serialize_tagged<S: Serializer, T: Serialize>(
    tag: u64,
    value: &T,
    s: S,
) -> Result<S::Ok, S::Error> {
    Tagged::new(Some(tag), value).serialize(s)
}

/// Deserializes a value that must carry CBOR tag `tag`.
pub(crate) fn deserialize_tagged<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    tag: u64,
    d: D,
) -> Result<T, D::Error> {
    let tagged: Tagged<T> = Tagged::deserialize(d)?;
    match tagged.tag {
        Some(t) if t == tag => Ok(tagged.value),
        Some(t) => Err(serde::de::Error::custom(format!(
            "expected CBOR tag {tag}, found tag {t}"
        ))),
        None => Err(serde::de::Error::custom(format!(
            "expected CBOR tag {tag}, found no tag"
        ))),
    }
}

//! The serde plumbing of hand-written decoders, once: a type that reads itself from a CBOR
//! map implements [`FromMap`], one that reads itself from a CBOR array implements
//! [`FromSeq`], and both get their `Deserialize` from the functions here.

use core::fmt;
use core::marker::PhantomData;

use serde::de::{self, Expected, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// A type read from the entries of a CBOR map.
pub(crate) trait FromMap: Sized {
    /// What the input should be, as error messages say it ("a COSE header map").
    const EXPECTING: &'static str;

    /// Reads the value from the map's entries, in the order they come.
    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error>;
}

/// A type read from the items of a definite-length CBOR array.
pub(crate) trait FromSeq: Sized {
    /// How many items the array has.
    const LEN: usize;

    /// What the input should be, as error messages say it.
    fn expecting(f: &mut fmt::Formatter<'_>) -> fmt::Result;

    /// Reads the value from the array's items; `expected` describes the array for
    /// `invalid_length` errors.
    fn from_seq<'de, A: SeqAccess<'de>>(seq: A, expected: &dyn Expected) -> Result<Self, A::Error>;
}

/// `Deserialize` for a [`FromMap`] type.
pub(crate) fn deserialize_map<'de, T: FromMap, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
    d.deserialize_map(MapVisitor(PhantomData))
}

/// Implements `Deserialize` for types that implement [`FromMap`].
macro_rules! deserialize_from_map {
    ($($name:ty),+ $(,)?) => {$(
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $crate::codec::visit::deserialize_map(d)
            }
        }
    )+};
}
pub(crate) use deserialize_from_map;

/// `Deserialize` for a [`FromSeq`] type.
pub(crate) fn deserialize_seq<'de, T: FromSeq, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
    d.deserialize_tuple(T::LEN, SeqVisitor(PhantomData))
}

struct MapVisitor<T>(PhantomData<T>);

impl<'de, T: FromMap> Visitor<'de> for MapVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(T::EXPECTING)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        T::from_map(map)
    }
}

struct SeqVisitor<T>(PhantomData<T>);

impl<'de, T: FromSeq> Visitor<'de> for SeqVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        T::expecting(f)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<T, A::Error> {
        T::from_seq(seq, &self)
    }
}

/// Item `index` of an array that must have it.
pub(crate) fn next_item<'de, A: SeqAccess<'de>, T: Deserialize<'de>>(
    seq: &mut A,
    index: usize,
    expected: &dyn Expected,
) -> Result<T, A::Error> {
    seq.next_element()?
        .ok_or_else(|| de::Error::invalid_length(index, expected))
}

/// Refuses an array with more than `len` items.
pub(crate) fn no_more_items<'de, A: SeqAccess<'de>>(
    seq: &mut A,
    len: usize,
    expected: &dyn Expected,
) -> Result<(), A::Error> {
    match seq.next_element::<IgnoredAny>()? {
        Some(_) => Err(de::Error::invalid_length(len + 1, expected)),
        None => Ok(()),
    }
}

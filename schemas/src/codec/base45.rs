//! RFC 9285 base45, strict.
//!
//! Written here rather than taken from the `base45` crate because that crate (3.2) accepts
//! a final character pair whose value exceeds 255 (`"ZZ"` decodes to `[74]`), so that two
//! strings decode to the same bytes; a verifier must reject such input. The crate is kept
//! as a dev-dependency and the two are cross-checked in tests.

use crate::SchemaError;

/// The 45-character alphabet; a character's value is its position.
pub const ALPHABET: &[u8; 45] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

const INVALID: u8 = 0xff;

// Evaluated at compile time: an out-of-range index would fail the build, not a run.
#[allow(clippy::indexing_slicing)]
const DECODE: [u8; 256] = {
    let mut table = [INVALID; 256];
    let mut i = 0;
    while i < ALPHABET.len() {
        table[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// Encodes bytes: each pair `[a, b]` as the value `a * 256 + b` in three base-45 digits
/// (least significant first), a final single byte in two.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(2) * 3);
    let digit = |v: u32| char::from(ALPHABET.get((v % 45) as usize).copied().unwrap_or(b'0'));
    let mut chunks = bytes.chunks_exact(2);
    for pair in &mut chunks {
        let v = pair.iter().fold(0u32, |acc, b| acc << 8 | u32::from(*b));
        out.push(digit(v));
        out.push(digit(v / 45));
        out.push(digit(v / 2025));
    }
    if let [last] = chunks.remainder() {
        let v = u32::from(*last);
        out.push(digit(v));
        out.push(digit(v / 45));
    }
    out
}

fn value(c: u8, at: usize) -> Result<u32, SchemaError> {
    match DECODE.get(usize::from(c)).copied() {
        Some(v) if v != INVALID => Ok(u32::from(v)),
        _ => Err(SchemaError::Base45(format!(
            "character {:?} at position {at} is not in the base45 alphabet",
            char::from(c)
        ))),
    }
}

/// Decodes base45 text. Rejects characters outside the alphabet, a dangling single
/// character, a triple worth more than 65535 and a final pair worth more than 255.
pub fn decode(text: &str) -> Result<Vec<u8>, SchemaError> {
    let input = text.as_bytes();
    let mut out = Vec::with_capacity(input.len() / 3 * 2 + 1);
    let mut chunks = input.chunks_exact(3);
    let mut at = 0;
    for triple in &mut chunks {
        let [c, d, e] =
            [triple.first(), triple.get(1), triple.get(2)].map(|b| b.copied().unwrap_or(0));
        let v = value(c, at)? + value(d, at + 1)? * 45 + value(e, at + 2)? * 2025;
        if v > 0xffff {
            return Err(SchemaError::Base45(format!(
                "group at position {at} is worth {v}, more than 65535"
            )));
        }
        out.push((v >> 8) as u8);
        out.push(v as u8);
        at += 3;
    }
    match chunks.remainder() {
        [] => {}
        [c, d] => {
            let v = value(*c, at)? + value(*d, at + 1)? * 45;
            if v > 0xff {
                return Err(SchemaError::Base45(format!(
                    "final pair is worth {v}, more than 255"
                )));
            }
            out.push(v as u8);
        }
        _ => {
            return Err(SchemaError::Base45(
                "length leaves a single dangling character".into(),
            ))
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rfc_examples() {
        assert_eq!(encode(b"AB"), "BB8");
        assert_eq!(encode(b"Hello!!"), "%69 VD92EX0");
        assert_eq!(decode("QED8WEX0").unwrap(), b"ietf!");
    }

    #[test]
    fn out_of_range_groups_are_rejected() {
        assert!(decode("GGW").is_err());
        assert!(decode("ZZ").is_err(), "final pair 1610 accepted");
        assert_eq!(decode("U5").unwrap(), [255]);
        assert!(decode("V5").is_err());
        assert!(decode("A").is_err());
        assert!(decode("bb8").is_err());
    }

    proptest! {
        #[test]
        fn matches_the_base45_crate_on_valid_input(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let ours = encode(&bytes);
            prop_assert_eq!(&ours, &base45::encode(&bytes));
            prop_assert_eq!(decode(&ours).unwrap(), bytes);
        }

        #[test]
        fn never_accepts_what_the_crate_rejects(text in "[0-9A-Z $%*+./:-]{0,60}") {
            if let Ok(ours) = decode(&text) {
                prop_assert_eq!(base45::decode(&text).ok(), Some(ours.clone()));
                // and what we accept is canonical: it re-encodes to the same text
                prop_assert_eq!(encode(&ours), text);
            }
        }
    }
}

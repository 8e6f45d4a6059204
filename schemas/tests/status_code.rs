//! The status-list coding: round trips, strictness (every byte string either fails to
//! decode or is the one coding of what it decodes to), and its size for a million
//! certificates with 1 % revoked.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs
)]

use std::collections::BTreeSet;

use ecert_schemas::codec::{from_cbor_bounded, to_cbor};
use ecert_schemas::ledger::{StatusList, MAX_STATUS_INDEX, MAX_TRUST_BUNDLE_BYTES};
use ecert_schemas::status_code::{
    decode, encode, rice_parameter, StatusCode, StatusCodeError, MAX_RICE_PARAMETER,
};
use ecert_schemas::{IssuerId, StatusIndex};
use proptest::collection::{btree_set, vec};
use proptest::prelude::*;

/// Sets of indexes of every density: a few in a small range, many in a small range (dense),
/// a few spread over the whole range, and some at the very top.
fn index_set() -> impl Strategy<Value = BTreeSet<u32>> {
    prop_oneof![
        btree_set(0u32..64, 0..64),
        btree_set(0u32..4_096, 0..400),
        btree_set(0u32..=MAX_STATUS_INDEX, 0..40),
        btree_set(MAX_STATUS_INDEX - 300..=MAX_STATUS_INDEX, 0..40),
    ]
}

fn as_indexes(set: &BTreeSet<u32>) -> Vec<StatusIndex> {
    set.iter().copied().map(StatusIndex).collect()
}

/// Bytes that look like codings: a plausible parameter byte, then anything.
fn coding_like() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        vec(any::<u8>(), 0..24),
        (0u8..=MAX_RICE_PARAMETER + 1, vec(any::<u8>(), 0..24)).prop_map(|(k, rest)| {
            let mut bytes = vec![k];
            bytes.extend(rest);
            bytes
        }),
    ]
}

/// If `bytes` decodes, it is exactly the coding of what it decodes to.
fn strict(bytes: &[u8]) -> Result<(), TestCaseError> {
    match decode(bytes) {
        Ok(indexes) => {
            prop_assert_eq!(&encode(&indexes).unwrap(), bytes);
            prop_assert!(indexes.windows(2).all(|w| w[0] < w[1]));
            prop_assert!(indexes.iter().all(|&i| i <= MAX_STATUS_INDEX));
            let code = StatusCode::from_bytes(bytes).unwrap();
            prop_assert_eq!(code.as_bytes(), bytes);
            prop_assert_eq!(code.len(), indexes.len() as u64);
        }
        Err(e) => prop_assert_eq!(StatusCode::from_bytes(bytes), Err(e)),
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn round_trip(set in index_set()) {
        let indexes: Vec<u32> = set.iter().copied().collect();
        let bytes = encode(&indexes).unwrap();
        prop_assert_eq!(decode(&bytes).unwrap(), indexes.clone());
        prop_assert_eq!(bytes.is_empty(), indexes.is_empty());
        if let Some(&last) = indexes.last() {
            prop_assert_eq!(bytes[0], rice_parameter(indexes.len() as u64, u64::from(last) + 1));
        }
        let code = StatusCode::from_indexes(&as_indexes(&set)).unwrap();
        prop_assert_eq!(code.as_bytes(), bytes.as_slice());
        prop_assert_eq!(code.iter().collect::<Vec<_>>(), as_indexes(&set));
        // Through CBOR, as a status list.
        let list = StatusList { issuer: IssuerId::new("justice").unwrap(), revoked: code };
        let cbor = to_cbor(&list).unwrap();
        let back: StatusList = from_cbor_bounded("status list", &cbor, MAX_TRUST_BUNDLE_BYTES).unwrap();
        prop_assert_eq!(back, list);
    }

    #[test]
    fn every_byte_string_fails_or_is_the_one_coding(bytes in coding_like()) {
        strict(&bytes)?;
    }

    #[test]
    fn damaged_codings_fail_or_are_another_sets_one_coding(
        set in index_set(),
        bit in any::<prop::sample::Index>(),
        cut in any::<prop::sample::Index>(),
        extra in any::<u8>(),
    ) {
        let indexes: Vec<u32> = set.iter().copied().collect();
        let bytes = encode(&indexes).unwrap();
        if !bytes.is_empty() {
            let mut flipped = bytes.clone();
            let b = bit.index(bytes.len() * 8);
            flipped[b / 8] ^= 0x80 >> (b % 8);
            strict(&flipped)?;
            prop_assert_ne!(decode(&flipped).ok(), Some(indexes.clone()));
            strict(&bytes[..cut.index(bytes.len())])?;
        }
        let mut longer = bytes.clone();
        longer.push(extra);
        strict(&longer)?;
        prop_assert_ne!(decode(&longer).ok(), Some(indexes));
    }

    #[test]
    fn membership_and_insertion(set in index_set(), more in index_set(), probes in vec(any::<u32>(), 0..32)) {
        let mut code = StatusCode::from_indexes(&as_indexes(&set)).unwrap();
        for &i in set.iter().chain(&probes).chain(more.iter()) {
            prop_assert_eq!(code.contains(StatusIndex(i)), set.contains(&i));
        }
        let added = code.insert(&as_indexes(&more)).unwrap();
        let expected: Vec<StatusIndex> = more.difference(&set).copied().map(StatusIndex).collect();
        prop_assert_eq!(added, expected);
        let union: BTreeSet<u32> = set.union(&more).copied().collect();
        prop_assert_eq!(code, StatusCode::from_indexes(&as_indexes(&union)).unwrap());
    }
}

/// Every string of up to three bytes (with a parameter byte a set can have, for three):
/// each either fails or is the coding of what it decodes to.
#[test]
fn every_short_string_fails_or_is_the_one_coding() {
    let mut accepted = 0;
    let mut check = |bytes: &[u8]| {
        if let Ok(indexes) = decode(bytes) {
            assert_eq!(encode(&indexes).unwrap(), bytes, "{bytes:02x?}");
            accepted += 1;
        }
    };
    check(&[]);
    for a in 0..=255u8 {
        check(&[a]);
        for b in 0..=255u8 {
            check(&[a, b]);
        }
    }
    for a in 0..=MAX_RICE_PARAMETER + 1 {
        for b in 0..=255u8 {
            for c in 0..=255u8 {
                check(&[a, b, c]);
            }
        }
    }
    // Many short strings are codings, each of a different set.
    assert!(accepted > 1_000, "{accepted}");
}

#[test]
fn a_parameter_byte_alone_and_wrong_parameters_are_refused() {
    for k in 0..=255u8 {
        assert!(decode(&[k]).is_err());
    }
    // {5} has k = 2 (⌊4812 · 6 / 10000⌋ = 2); under any other parameter its gap bits
    // are not a coding of {5}.
    let right = encode(&[5]).unwrap();
    assert_eq!(right[0], 2);
    for k in 0..=MAX_RICE_PARAMETER {
        let mut other = right.clone();
        other[0] = k;
        if k != right[0] {
            assert!(
                decode(&other).map_or(true, |set| set != [5]),
                "k = {k} decodes to {{5}} too"
            );
        }
    }
    assert_eq!(
        decode(&[MAX_RICE_PARAMETER + 1, 0x80]),
        Err(StatusCodeError::ParameterTooLarge {
            found: MAX_RICE_PARAMETER + 1
        })
    );
}

/// A small deterministic generator (SplitMix64), so the measurement is the same on every
/// run.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// `log₂ C(n, k)`, the fewest bits any coding needs on average for `k` of `n` positions.
fn entropy_bits(n: u64, k: u64) -> f64 {
    (0..k)
        .map(|i| ((n - i) as f64 / (k - i) as f64).log2())
        .sum()
}

/// The figure in `docs/benchmarks.md`: 1 000 000 certificates, 1 % revoked at random
/// positions, in at most 11 KB (11 000 bytes) as a status list on the wire.
#[test]
fn status_list_size_for_a_million_certificates() {
    const CERTIFICATES: u64 = 1_000_000;
    const REVOKED: usize = 10_000;
    let entropy = entropy_bits(CERTIFICATES, REVOKED as u64) / 8.0;
    for seed in 1..=5u64 {
        let mut rng = SplitMix(seed);
        let mut set = BTreeSet::new();
        while set.len() < REVOKED {
            set.insert((rng.next() % CERTIFICATES) as u32);
        }
        let list = StatusList {
            issuer: IssuerId::new("public-security").unwrap(),
            revoked: StatusCode::from_indexes(&as_indexes(&set)).unwrap(),
        };
        let code = list.revoked.as_bytes().len();
        let wire = to_cbor(&list).unwrap().len();
        println!(
            "seed {seed}: {REVOKED} of {CERTIFICATES} revoked: coding {code} B, status list on \
             the wire {wire} B (entropy bound {entropy:.0} B, raw bits {} B, k = {})",
            CERTIFICATES / 8,
            list.revoked.as_bytes()[0]
        );
        assert!(wire <= 11_000, "{wire} bytes");
        assert!(code as f64 >= entropy * 0.99);
    }
}

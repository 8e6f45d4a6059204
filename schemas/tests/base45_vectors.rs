//! Base45 test vectors, read at run time from `shared/testdata/base45/rfc9285_vectors.json`
//! (the folder beside the repository checkout; see `SOURCE.txt` there): the four examples of
//! RFC 9285 "The Base45 Data Encoding" §4.3/§4.4 plus derived boundary cases (`FGW` = 65535,
//! empty input) and five derived invalid strings (overflowing triples, dangling characters,
//! lowercase). Each case goes through `base45_encode`/`base45_decode` and the `EC1R:` QR
//! wrapper `decode_qr`.
//!
//! A missing `shared/testdata/` directory is a test failure, never a skip.

// Test code: a failed `panic!`-style check or index is a failed test (same convention as
// schemas/tests/wire_proptest.rs; clippy's test allowances don't cover helper functions).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use ecert_schemas::codec::qr::{base45_decode, base45_encode, decode_qr};
use ecert_testkit::vectors::read_json;
use serde_json::Value;

fn vectors() -> Value {
    read_json("base45/rfc9285_vectors.json")
}

fn cases<'a>(doc: &'a Value, key: &str) -> &'a Vec<Value> {
    doc[key]
        .as_array()
        .unwrap_or_else(|| panic!("`{key}` is not an array"))
}

fn text<'a>(case: &'a Value, key: &str) -> &'a str {
    case[key]
        .as_str()
        .unwrap_or_else(|| panic!("`{key}` is not a string in {case}"))
}

#[test]
fn rfc9285_valid_cases() {
    let doc = vectors();
    assert_eq!(doc["format"], "base45-vectors-v1");
    let valid = cases(&doc, "valid");
    let mut checked = 0;
    for case in valid {
        let bytes =
            hex::decode(text(case, "hex")).unwrap_or_else(|e| panic!("bad hex in {case}: {e}"));
        let b45 = text(case, "base45");
        if let Some(ascii) = case["ascii"].as_str() {
            assert_eq!(ascii.as_bytes(), bytes, "ascii and hex disagree in {case}");
        }
        assert_eq!(base45_encode(&bytes), b45, "encode {case}");
        assert_eq!(
            base45_decode(b45).as_deref(),
            Ok(&bytes[..]),
            "decode {case}"
        );
        assert_eq!(
            decode_qr(&format!("EC1R:{b45}")).as_deref(),
            Ok(&bytes[..]),
            "decode_qr {case}"
        );
        checked += 1;
    }
    assert_eq!(checked, valid.len());
    assert_eq!(checked, 6);
}

#[test]
fn rfc9285_invalid_cases() {
    let doc = vectors();
    let invalid = cases(&doc, "invalid");
    let mut checked = 0;
    for case in invalid {
        let b45 = text(case, "base45");
        let decoded = base45_decode(b45);
        assert!(
            decoded.is_err(),
            "invalid base45 {b45:?} accepted as {decoded:?} ({})",
            case["reason"]
        );
        let wrapped = decode_qr(&format!("EC1R:{b45}"));
        assert!(
            wrapped.is_err(),
            "invalid base45 {b45:?} accepted by decode_qr as {wrapped:?}"
        );
        checked += 1;
    }
    assert_eq!(checked, invalid.len());
    assert_eq!(checked, 5);
}

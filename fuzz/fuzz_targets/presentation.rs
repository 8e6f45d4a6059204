//! A presentation's CBOR (what a QR string carries once unwrapped), of either format:
//! strict decoding, one encoding per value (decode → encode gives the same bytes, for the
//! presentation and its items), the version dispatch agreeing with each format's decoder,
//! and the whole offline check against the world's trust store (format 1's
//! `verify_decoded`, format 2's `verify_decoded_v2`), in both policies.
#![no_main]

use ecert_schemas::copy::{AnyPresentation, PresentationV2};
use ecert_schemas::Presentation;
use ecert_verifier::{verify_decoded, verify_decoded_v2, Policy};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let world = ecert_fuzz::world();
    let policies = [
        Policy::default(),
        Policy {
            expected_nonce: Some(world.nonce.clone()),
            ..Policy::default()
        },
    ];
    let v1 = Presentation::from_bytes(data).ok();
    let v2 = PresentationV2::from_bytes(data).ok();
    let expected = match (&v1, &v2) {
        (Some(p), None) => Some(AnyPresentation::V1(p.clone())),
        (None, Some(p)) => Some(AnyPresentation::V2(p.clone())),
        (None, None) => None,
        (Some(_), Some(_)) => panic!("bytes decode as a presentation of both formats"),
    };
    assert_eq!(AnyPresentation::from_bytes(data).ok(), expected);
    if let Some(presentation) = v1 {
        assert_eq!(presentation.to_bytes().as_deref(), Ok(data));
        if let Ok(items) = presentation.decode_items() {
            assert_eq!(
                Presentation::encode_items(&items).as_deref(),
                Ok(presentation.items.as_slice())
            );
        }
        for policy in &policies {
            let _ = verify_decoded(&presentation, &world.store, world.now, policy);
        }
    }
    if let Some(presentation) = v2 {
        assert_eq!(presentation.to_bytes().as_deref(), Ok(data));
        if let Ok(items) = presentation.decode_items() {
            assert_eq!(
                PresentationV2::encode_items(&items).as_deref(),
                Ok(presentation.items.as_slice())
            );
        }
        for policy in &policies {
            let _ = verify_decoded_v2(&presentation, &world.store, world.now, policy);
        }
    }
});

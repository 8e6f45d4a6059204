//! A wallet's request to redeem a one-time offer (`POST /v1/offers/{code}/redeem`, CBOR
//! body) as the department's offer endpoint reads it: the code from the path (its
//! canonical form) and the `OfferRedemption` body, strictly decoded (decode → encode gives
//! the same bytes) and checked by `verify_offer_redemption`. The input is the code, a
//! newline, then the body.
#![no_main]

use ecert_issuer::offer::canonical;
use ecert_schemas::address::is_valid_offer_code;
use ecert_schemas::OfferRedemption;
use ecert_verifier::offer::verify_offer_redemption;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (code, body) = match data.iter().position(|b| *b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (&data[..0], data),
    };
    let Ok(code) = std::str::from_utf8(code) else {
        return;
    };
    let _ = is_valid_offer_code(code);
    if let Some(canon) = canonical(code) {
        assert_eq!(canonical(&canon).as_ref(), Some(&canon));
    }
    let Ok(redemption) = OfferRedemption::from_bytes(body) else {
        return;
    };
    assert_eq!(redemption.to_bytes().as_deref(), Ok(body));
    if let Ok(key) = verify_offer_redemption(code, &redemption) {
        assert_eq!(key, redemption.holder_key);
    }
});

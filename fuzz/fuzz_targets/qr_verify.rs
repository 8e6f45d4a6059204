//! The QR string a counter scans, of either format (whole certificates, or one-time
//! copies: `verify_presentation` reads the version): `verify_presentation` against the
//! world's synced trust store, in both policies (a 60-second holder proof, and nonce
//! mode), and the QR string codec on its own (what decodes re-encodes to the same
//! payload).
#![no_main]

use ecert_schemas::codec::qr::{decode_qr, encode_qr};
use ecert_verifier::{verify_presentation, Policy};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let world = ecert_fuzz::world();
    if let Ok(payload) = decode_qr(text) {
        assert_eq!(decode_qr(&encode_qr(&payload)).as_ref(), Ok(&payload));
    }
    let _ = verify_presentation(text, &world.store, world.now, &Policy::default());
    let nonce_mode = Policy {
        expected_nonce: Some(world.nonce.clone()),
        ..Policy::default()
    };
    let _ = verify_presentation(text, &world.store, world.now, &nonce_mode);
});

//! A presentation's CBOR (what a QR string carries once unwrapped): strict decoding, one
//! encoding per value (decode → encode gives the same bytes, for the presentation and its
//! items), and the whole offline check against the world's trust store.
#![no_main]

use ecert_schemas::Presentation;
use ecert_verifier::{verify_decoded, Policy};

ecert_fuzz::decoded_target!(|presentation: Presentation| {
    if let Ok(items) = presentation.decode_items() {
        assert_eq!(
            Presentation::encode_items(&items).as_deref(),
            Ok(presentation.items.as_slice())
        );
    }
    let world = ecert_fuzz::world();
    let _ = verify_decoded(&presentation, &world.store, world.now, &Policy::default());
    let nonce_mode = Policy {
        expected_nonce: Some(world.nonce.clone()),
        ..Policy::default()
    };
    let _ = verify_decoded(&presentation, &world.store, world.now, &nonce_mode);
});

//! The trust anchor file a counter and a department are set up with
//! (`ecert-verify init --anchor`, `ecert-issuer init --anchor`): `parse_anchor`, and for
//! an accepted one a round trip (written out by `anchor_to_toml`, read back the same).
#![no_main]

use ecert_verifier::anchor_file::{anchor_to_toml, parse_anchor};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(anchor) = parse_anchor(text) else {
        return;
    };
    let again = anchor_to_toml(&anchor, text.lines().next().unwrap_or(""));
    assert_eq!(parse_anchor(&again), Ok(anchor));
});

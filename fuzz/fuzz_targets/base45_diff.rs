//! Differential: ecert's strict base45 (RFC 9285) against the `base45` crate. Whatever
//! ecert decodes, the crate decodes to the same bytes, and it is the one encoding of them
//! (encode gives the text back); and both encode any bytes alike. (The crate accepts some
//! text ecert refuses on purpose, e.g. a final pair above 255: not compared.)
#![no_main]

use ecert_schemas::codec::base45::{decode, encode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    assert_eq!(encode(data), base45::encode(data));
    assert_eq!(decode(&encode(data)).as_deref(), Ok(data));
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(ours) = decode(text) {
        assert_eq!(base45::decode(text).ok().as_ref(), Some(&ours));
        assert_eq!(encode(&ours), text);
    }
});

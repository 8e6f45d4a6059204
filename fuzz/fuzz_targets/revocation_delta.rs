//! A revocation delta, as a wallet (`ecert-wallet refresh`) or a counter gets it from a
//! node (`GET /v1/revocations?since=H`): strict decoding, decode → encode gives the same
//! bytes, and `verify_revocation_delta` against the trust anchor, applied both to the
//! empty state at genesis and to the world's synced revocation state.
#![no_main]

use ecert_schemas::ledger::{RevocationDelta, RevocationSnapshot};
use ecert_verifier::verify_revocation_delta;

ecert_fuzz::decoded_target!(|delta: RevocationDelta| {
    let world = ecert_fuzz::world();
    let genesis = RevocationSnapshot {
        height: 0,
        lists: Vec::new(),
    };
    for base in [&genesis, &world.bundle.revocations] {
        if let Ok((header, state)) = verify_revocation_delta(base, &delta, &world.anchor) {
            assert_eq!(state.height, header.height);
        }
    }
});

//! A counter's incremental sync (`GET /v1/updates?since=H`): strict decoding, decode →
//! encode gives the same bytes, and `TrustStore::apply_update` on the world's synced store
//! against the trust anchor; an update it accepts gives a store whose bundle checks as a
//! full sync of the same header would.
#![no_main]

use ecert_schemas::ledger::TrustUpdate;
use ecert_verifier::TrustStore;

ecert_fuzz::decoded_target!(|update: TrustUpdate| {
    let world = ecert_fuzz::world();
    for held in [&world.store, &world.store_before] {
        if let Ok(updated) = held.apply_update(&update, &world.anchor) {
            let full =
                TrustStore::from_bundle(updated.to_bundle(), &world.anchor, world.kinds.clone());
            assert_eq!(full.map(|s| s.header_hash()), Ok(updated.header_hash()));
        }
    }
});

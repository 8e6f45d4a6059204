//! A trust bundle, as a counter syncs it from a node (`GET /v1/export`) or a file: strict
//! decoding, decode → encode gives the same bytes, and the whole check against the
//! counter's trust anchor (`TrustStore::from_bundle`). A store that passes is asked what a
//! verification asks of it.
#![no_main]

use ecert_schemas::ledger::TrustBundle;
use ecert_schemas::{IssuerId, StatusIndex};
use ecert_verifier::TrustStore;

ecert_fuzz::decoded_target!(|bundle: TrustBundle| {
    let world = ecert_fuzz::world();
    let Ok(store) = TrustStore::from_bundle(bundle.clone(), &world.anchor, world.kinds.clone())
    else {
        return;
    };
    let _ = (store.as_of(), store.revoked_count(), store.anchor_count());
    for issuer in &bundle.registry.issuers {
        let _ = store.issuer(&issuer.issuer);
        for kind in &issuer.kinds {
            let _ = store.kind(kind);
        }
        for key in &issuer.keys {
            let _ = store.issuer_key(issuer, key.key_id);
        }
        let _ = store.is_revoked(&issuer.issuer, StatusIndex(0));
    }
    for seq in 0..bundle.anchors.len() as u64 + 1 {
        let _ = store.batch(seq);
    }
    if let Ok(id) = IssuerId::new("justice") {
        let _ = store.is_revoked(&id, StatusIndex(u32::MAX));
    }
});

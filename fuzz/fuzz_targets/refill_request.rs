//! A wallet's request for new copies (`POST /v1/refills`, CBOR body) as the department's
//! offer endpoint reads it: strictly decoded (decode → encode gives the same bytes), its
//! terms read, checked by `check_refill` against the world's registered department keys at
//! the time it names, and, when it passes, turned into the issuance row `ecert-issuer
//! refill` signs (claims checked against the kind).
#![no_main]

use ecert_issuer::refill::refill_row;
use ecert_schemas::refill::RefillRequest;
use ecert_verifier::refill::{check_refill, refill_terms};

ecert_fuzz::decoded_target!(|request: RefillRequest| {
    let world = ecert_fuzz::world();
    let Ok(terms) = refill_terms(&request) else {
        return;
    };
    let issuer = match request.body.package() {
        Ok(ecert_schemas::copy::AnyPackage::V2(p)) => p.issuer,
        Ok(ecert_schemas::copy::AnyPackage::V1(p)) => {
            match ecert_schemas::Certificate::from_bytes(&p.certificate) {
                Ok(c) => c.claims.issuer,
                Err(_) => return,
            }
        }
        Err(_) => return,
    };
    let Ok(record) = world.store.issuer(&issuer) else {
        return;
    };
    let key_of = |id| world.store.issuer_key(record, id).ok().map(|(_, key)| *key);
    let Ok(checked) = check_refill(&request, &issuer, key_of, request.body.time) else {
        return;
    };
    assert_eq!(checked, terms);
    assert_eq!(checked.wallet, request.body.wallet);
    if let Ok(kind) = world.kinds.get(&checked.kind) {
        if let Ok(row) = refill_row(kind, &checked, request.body.time) {
            let _ = kind.with_derived(&row.claims, request.body.time);
        }
    }
});

//! An anchor receipt, as an issuer gets it from a node (`GET /v1/anchors/{root}`) before it
//! delivers any package: strict decoding, decode → encode gives the same bytes, and
//! `verify_anchor_receipt` against the trust anchor.
#![no_main]

use ecert_schemas::ledger::AnchorReceipt;
use ecert_verifier::verify_anchor_receipt;

ecert_fuzz::decoded_target!(|receipt: AnchorReceipt| {
    let world = ecert_fuzz::world();
    if let Ok(verified) = verify_anchor_receipt(&receipt, &world.anchor) {
        assert_eq!(verified.batch_seq, receipt.batch_seq);
    }
});

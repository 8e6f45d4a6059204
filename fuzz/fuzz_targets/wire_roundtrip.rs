//! Every wire type read from outside, through its strict decoder: one encoding per value
//! (decode → encode gives the same bytes) and deterministic CBOR by a second reading
//! (`ciborium`). The first byte picks the type; the rest is its encoding.
//!
//! Checkpoints (a node's `GET /v1/checkpoints` answer, a checkpoint read over libp2p, a
//! header vote's payload) also go through the quorum check against the world's validator
//! set and through a vote pool, as a node takes votes from its peers; a ledger snapshot
//! (what a Raft snapshot carries) is rebuilt into a ledger state.
#![no_main]

use ecert_ledger_node::state::{LedgerSnapshot, LedgerState};
use ecert_ledger_node::vote_pool::VotePool;
use ecert_schemas::certificate::CertificateClaims;
use ecert_schemas::codec::{from_cbor, from_cbor_bounded, to_cbor, ByteBuf};
use ecert_schemas::cose::CoseSign1;
use ecert_schemas::ledger::{
    AnchorReceipt, BlockHeader, Checkpoint, Registry, RevocationDelta, Transaction, TrustBundle,
    MAX_TRUST_BUNDLE_BYTES,
};
use ecert_schemas::{
    CertificatePackage, Disclosure, OfferRedemption, Presentation, PresentedCertificate,
};
use ecert_verifier::checkpoint::{verify_checkpoint, verify_checkpoint_for_anchor};
use libfuzzer_sys::fuzz_target;

/// Asserts that `decoded`, if it decoded, encodes back to `bytes` exactly.
fn round_trip<T, E>(
    what: &str,
    bytes: &[u8],
    decoded: Result<T, E>,
    encode: impl Fn(&T) -> Vec<u8>,
) -> Option<T> {
    let value = decoded.ok()?;
    assert_eq!(
        encode(&value),
        bytes,
        "{what}: decode → encode changed the bytes"
    );
    ecert_fuzz::assert_deterministic_cbor(what, bytes);
    Some(value)
}

fn cbor<T: serde::Serialize>(value: &T) -> Vec<u8> {
    to_cbor(value).expect("a decoded value encodes")
}

fn checkpoint(checkpoint: &Checkpoint) {
    let world = ecert_fuzz::world();
    let validators = &world.bundle.validators;
    let _ = verify_checkpoint(checkpoint, validators);
    let _ = verify_checkpoint_for_anchor(checkpoint, validators, &world.anchor, "fuzz");
    let Ok(header) = checkpoint.decode_header() else {
        return;
    };
    let mut pool = VotePool::new(validators.clone(), 0);
    for vote in &checkpoint.votes {
        let _ = pool.on_vote(header.height, vote.clone());
    }
    if let Some(own) = checkpoint.votes.first() {
        let _ = pool.on_applied(header.height, &checkpoint.header, own.clone());
        for vote in &checkpoint.votes {
            let _ = pool.on_vote(header.height, vote.clone());
        }
        let _ = pool.own_uncertified_votes(4);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((choice, bytes)) = data.split_first() else {
        return;
    };
    match choice % 16 {
        0 => {
            round_trip("claims", bytes, CertificateClaims::from_bytes(bytes), cbor);
        }
        1 => {
            round_trip("disclosure", bytes, Disclosure::from_bytes(bytes), cbor);
        }
        2 => {
            round_trip(
                "package",
                bytes,
                CertificatePackage::from_bytes(bytes),
                cbor,
            );
        }
        3 => {
            round_trip("presentation", bytes, Presentation::from_bytes(bytes), cbor);
        }
        4 => {
            let items = from_cbor::<Vec<PresentedCertificate>>("items", bytes);
            round_trip("presentation items", bytes, items, cbor);
        }
        5 => {
            round_trip(
                "offer redemption",
                bytes,
                OfferRedemption::from_bytes(bytes),
                cbor,
            );
        }
        6 => {
            round_trip("transaction", bytes, Transaction::from_bytes(bytes), cbor);
        }
        7 => {
            round_trip("block header", bytes, BlockHeader::from_bytes(bytes), cbor);
        }
        8 => {
            if let Some(c) = round_trip("checkpoint", bytes, Checkpoint::from_bytes(bytes), cbor) {
                checkpoint(&c);
            }
        }
        9 => {
            round_trip(
                "anchor receipt",
                bytes,
                AnchorReceipt::from_bytes(bytes),
                cbor,
            );
        }
        10 => {
            round_trip(
                "revocation delta",
                bytes,
                RevocationDelta::from_bytes(bytes),
                cbor,
            );
        }
        11 => {
            round_trip("trust bundle", bytes, TrustBundle::from_bytes(bytes), cbor);
        }
        12 => {
            round_trip("COSE_Sign1", bytes, CoseSign1::from_bytes(bytes), cbor);
        }
        13 => {
            round_trip(
                "registry",
                bytes,
                from_cbor::<Registry>("registry", bytes),
                cbor,
            );
        }
        14 => {
            // A page of checkpoints, each in its exact encoding (as nodes pass them on).
            let page = from_cbor::<Vec<ByteBuf>>("checkpoints", bytes);
            if let Some(page) = round_trip("checkpoint page", bytes, page, cbor) {
                for item in page {
                    if let Ok(c) = Checkpoint::from_bytes(&item) {
                        checkpoint(&c);
                    }
                }
            }
        }
        _ => {
            let snapshot =
                from_cbor_bounded::<LedgerSnapshot>("snapshot", bytes, MAX_TRUST_BUNDLE_BYTES);
            if let Ok(snapshot) = snapshot {
                assert_eq!(
                    cbor(&snapshot),
                    bytes,
                    "snapshot: decode → encode changed the bytes"
                );
                ecert_fuzz::assert_shortest_cbor("ledger snapshot", bytes);
                if let Ok(state) = LedgerState::from_snapshot(snapshot) {
                    let again = state.snapshot();
                    assert_eq!(
                        LedgerState::from_snapshot(again.clone())
                            .map(|s| s.snapshot())
                            .ok(),
                        Some(again)
                    );
                }
            }
        }
    }
});

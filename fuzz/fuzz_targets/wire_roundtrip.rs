//! Every wire type read from outside, through its strict decoder: one encoding per value
//! (decode → encode gives the same bytes) and deterministic CBOR by a second reading
//! (`ciborium`). The first byte picks the type; the rest is its encoding.
//!
//! Checkpoints (a node's `GET /v1/checkpoints` answer, a checkpoint read over libp2p, a
//! header vote's payload) also go through the quorum check against the world's validator
//! set and through a vote pool, as a node takes votes from its peers; a ledger snapshot
//! (what a Raft snapshot carries) is rebuilt into a ledger state. Format 2's types (one-time
//! copies: the presentation, its copies, the holder's proof, the package) are 16 to 19.
#![no_main]

use ecert_ledger_node::state::{LedgerSnapshot, LedgerState};
use ecert_ledger_node::vote_pool::{ValidatorSets, VotePool};
use ecert_schemas::certificate::CertificateClaims;
use ecert_schemas::codec::{from_cbor, from_cbor_bounded, to_cbor, ByteBuf};
use ecert_schemas::copy::{CopyPackage, HolderProofV2, PresentationV2, PresentedCopy};
use ecert_schemas::cose::CoseSign1;
use ecert_schemas::ledger::{
    AnchorReceipt, BlockHeader, Checkpoint, Registry, RevocationDelta, Transaction, TrustBundle,
    MAX_TRUST_BUNDLE_BYTES,
};
use ecert_schemas::{
    CertificatePackage, Disclosure, OfferRedemption, Presentation, PresentedCertificate,
};
use ecert_verifier::checkpoint::verify_checkpoint;
use ecert_verifier::validator_chain::verify_checkpoint_from_anchor;
use libfuzzer_sys::fuzz_target;

/// Decodes `bytes` with `decode` and asserts that the value, if it decoded, encodes back to
/// `bytes` exactly.
fn round_trip<T: serde::Serialize, E>(
    what: &str,
    bytes: &[u8],
    decode: impl FnOnce(&[u8]) -> Result<T, E>,
) -> Option<T> {
    let value = decode(bytes).ok()?;
    assert_eq!(
        cbor(&value),
        bytes,
        "{what}: decode → encode changed the bytes"
    );
    ecert_fuzz::assert_deterministic_cbor(what, bytes);
    Some(value)
}

/// [`round_trip`], for the types checked no further.
fn check<T: serde::Serialize, E>(
    what: &str,
    bytes: &[u8],
    decode: impl FnOnce(&[u8]) -> Result<T, E>,
) {
    round_trip(what, bytes, decode);
}

fn cbor<T: serde::Serialize>(value: &T) -> Vec<u8> {
    to_cbor(value).expect("a decoded value encodes")
}

fn checkpoint(checkpoint: &Checkpoint) {
    let world = ecert_fuzz::world();
    let validators = &world.bundle.validators;
    let _ = verify_checkpoint(checkpoint, validators);
    let _ = verify_checkpoint_from_anchor(checkpoint, validators, &[], &world.anchor, "fuzz");
    let Ok(header) = checkpoint.decode_header() else {
        return;
    };
    let Some(me) = validators.first().map(|v| v.key) else {
        return;
    };
    let mut pool = VotePool::new(ValidatorSets::genesis(validators.clone()), me);
    for vote in &checkpoint.votes {
        let _ = pool.on_vote(header.height, vote.clone());
    }
    if let Some(own) = checkpoint.votes.first() {
        let _ = pool.on_applied(header.height, &checkpoint.header, Some(own.clone()));
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
    match choice % 20 {
        0 => check("claims", bytes, CertificateClaims::from_bytes),
        1 => check("disclosure", bytes, Disclosure::from_bytes),
        2 => check("package", bytes, CertificatePackage::from_bytes),
        3 => check("presentation", bytes, Presentation::from_bytes),
        4 => check("presentation items", bytes, |b| {
            from_cbor::<Vec<PresentedCertificate>>("items", b)
        }),
        5 => check("offer redemption", bytes, OfferRedemption::from_bytes),
        6 => check("transaction", bytes, Transaction::from_bytes),
        7 => check("block header", bytes, BlockHeader::from_bytes),
        8 => {
            if let Some(c) = round_trip("checkpoint", bytes, Checkpoint::from_bytes) {
                checkpoint(&c);
            }
        }
        9 => check("anchor receipt", bytes, AnchorReceipt::from_bytes),
        10 => check("revocation delta", bytes, RevocationDelta::from_bytes),
        11 => check("trust bundle", bytes, TrustBundle::from_bytes),
        12 => check("COSE_Sign1", bytes, CoseSign1::from_bytes),
        13 => check("registry", bytes, |b| from_cbor::<Registry>("registry", b)),
        14 => {
            // A page of checkpoints, each in its exact encoding (as nodes pass them on).
            let page = |b: &[u8]| from_cbor::<Vec<ByteBuf>>("checkpoints", b);
            if let Some(page) = round_trip("checkpoint page", bytes, page) {
                for item in page {
                    if let Ok(c) = Checkpoint::from_bytes(&item) {
                        checkpoint(&c);
                    }
                }
            }
        }
        16 => check("presentation v2", bytes, PresentationV2::from_bytes),
        17 => check("presented copies", bytes, |b| {
            from_cbor::<Vec<PresentedCopy>>("items", b)
        }),
        18 => {
            // Field values inline: a derived fact's is a boolean.
            if let Ok(package) = CopyPackage::from_bytes(bytes) {
                assert_eq!(
                    cbor(&package),
                    bytes,
                    "copy package: decode → encode changed the bytes"
                );
                ecert_fuzz::assert_copy_package_cbor("copy package", bytes);
            }
        }
        19 => check("holder proof v2", bytes, |b| {
            from_cbor::<HolderProofV2>("holder proof", b)
        }),
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

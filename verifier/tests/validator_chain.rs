//! Validator-set changes followed from the genesis trust anchor: a counter pinned at
//! genesis reaches the set of any later checkpoint through the changes the data carries,
//! and every way to bend that chain is refused.

// Test fixtures outside #[test] functions: a failure is a test failure.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use ecert_schemas::ledger::{AnchorReceipt, TrustBundle, TrustUpdate, ValidatorChange};
use ecert_schemas::ChainId;
use ecert_testkit::{sample, World, HOUR};
use ecert_verifier::validator_chain::{extends, follow_changes};
use ecert_verifier::{
    verify_anchor_receipt, verify_presentation, Policy, TrustAnchor, TrustStore, VerifyError,
};
use ed25519_dalek::SigningKey;

/// Replaces department `dept`'s validator key an hour before now (its new key from
/// `seed`).
fn replace_key(world: &mut World, dept: usize, seed: u8) {
    let at = world.now.minus(HOUR);
    let (_, block) = world
        .province
        .replace_validator_key(dept, SigningKey::from_bytes(&[seed; 32]), at)
        .unwrap();
    assert!(block.validators_changed);
}

fn not_certified(result: Result<impl std::fmt::Debug, VerifyError>) -> String {
    match result {
        Err(VerifyError::HeaderNotCertified { detail }) => detail,
        other => panic!("expected header-not-certified, got {other:?}"),
    }
}

#[test]
fn a_counter_pinned_at_genesis_follows_changes_and_refuses_bent_chains() {
    let mut world = World::new();
    let now = world.now;
    let anchor = world.province.trust_anchor().unwrap();
    let kinds = world.province.kinds.clone();
    let before = world.store();
    let receipt_before = world
        .province
        .ledger()
        .anchor_receipt(0, world.province.checkpoint().unwrap(), Vec::new())
        .unwrap()
        .unwrap();

    replace_key(&mut world, 1, 11);
    world.issue_now("transport", sample::driver_licence(now));
    replace_key(&mut world, 3, 13);
    let licence = world.issue_now("transport", sample::driver_licence(now));

    let bundle = world.province.trust_bundle().unwrap();
    assert_eq!(bundle.changes.len(), 2);
    let bundle = TrustBundle::from_bytes(&bundle.to_bytes().unwrap()).unwrap();
    let store = TrustStore::from_bundle(bundle.clone(), &anchor, kinds.clone()).unwrap();
    assert_eq!(store.validator_changes().len(), 2);
    assert_eq!(store.anchor().unwrap(), anchor);
    assert_ne!(store.validators(), before.validators());
    let epoch = follow_changes(&anchor, &bundle.changes).unwrap();
    assert_eq!(
        epoch.from_height,
        bundle.changes[1].checkpoint.decode_header().unwrap().height + 1
    );

    // A certificate anchored under the new set verifies at the counter; a receipt of the
    // genesis set's time still verifies without any change.
    let qr = world.show(&licence, &["licence_number"], now);
    verify_presentation(&qr, &store, now, &Policy::default()).unwrap();
    verify_anchor_receipt(&receipt_before, &anchor).unwrap();

    // An incremental update across both changes gives the same store.
    let checkpoint = world.province.checkpoint().unwrap().clone();
    let changes = world.province.validator_changes().unwrap();
    let update = world
        .province
        .ledger()
        .trust_update(before.header(), checkpoint.clone(), changes.clone())
        .unwrap();
    let update = TrustUpdate::from_bytes(&update.to_bytes().unwrap()).unwrap();
    let updated = before.apply_update(&update, &anchor).unwrap();
    assert_eq!(updated.to_bundle(), store.to_bundle());
    // An update that drops the changes the store holds does not continue it.
    let forgetful = TrustUpdate {
        changes: changes[..1].to_vec(),
        ..update.clone()
    };
    assert!(updated.apply_update(&forgetful, &anchor).is_err());
    assert!(extends(&changes[..1], &changes));
    // Another node's checkpoint of the same change block (another quorum of votes) is
    // the same change.
    let mut other_quorum = changes.clone();
    other_quorum[0].checkpoint.votes.remove(0);
    follow_changes(&anchor, &other_quorum).unwrap();
    assert!(extends(&other_quorum, &changes));
    assert!(!extends(&changes, &changes[..1]));

    // Bent chains: out of order, one left out, none at all.
    let swapped: Vec<ValidatorChange> = vec![changes[1].clone(), changes[0].clone()];
    not_certified(follow_changes(&anchor, &swapped));
    not_certified(TrustStore::from_bundle(
        TrustBundle {
            changes: changes[1..].to_vec(),
            ..bundle.clone()
        },
        &anchor,
        kinds.clone(),
    ));
    not_certified(TrustStore::from_bundle(
        TrustBundle {
            changes: Vec::new(),
            ..bundle.clone()
        },
        &anchor,
        kinds.clone(),
    ));
    // A change whose block is certified by too few of the set before it.
    let mut thin = changes.clone();
    thin[0].checkpoint.votes.truncate(2);
    not_certified(follow_changes(&anchor, &thin));
    // Another ledger's anchor does not lead there.
    let other = TrustAnchor {
        chain_id: ChainId::new("ecert-other").unwrap(),
        ..anchor.clone()
    };
    assert!(matches!(
        follow_changes(&other, &changes),
        Err(VerifyError::TrustDataMismatch { .. })
    ));

    // A receipt of a checkpoint before the last change may not claim it.
    let early: AnchorReceipt = AnchorReceipt {
        changes: changes.clone(),
        ..receipt_before
    };
    not_certified(verify_anchor_receipt(&early, &anchor));
}

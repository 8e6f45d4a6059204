//! Incremental sync: an update served by the real ledger state machine brings a counter's
//! store to exactly the store a full bundle gives, and every way a node could bend one is
//! refused.

// Test fixtures outside #[test] functions: a failure is a test failure.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use ecert_ledger_node::governance::approve;
use ecert_schemas::ledger::{
    GovernanceAction, GovernanceBody, GovernanceTx, RegisterIssuerKey, Transaction, TrustUpdate,
};
use ecert_schemas::{IssuerId, SchemaError};
use ecert_testkit::{sample, World, HOUR};
use ecert_verifier::{crypto, TrustStore};
use ed25519_dalek::SigningKey;

/// The ledger's update after the header of `store`.
fn update_after(world: &World, store: &TrustStore) -> TrustUpdate {
    let checkpoint = world.province.checkpoint().unwrap().clone();
    world
        .province
        .ledger()
        .trust_update(store.header(), checkpoint, Vec::new())
        .unwrap()
}

/// A registry change: the justice department registers a second key.
fn register_key(world: &mut World) {
    let registry = world.province.ledger().registry().clone();
    let body = GovernanceBody {
        chain_id: world.province.ledger().chain_id().clone(),
        seq: registry.governance_seq,
        action: GovernanceAction::RegisterIssuerKey(RegisterIssuerKey {
            issuer: IssuerId::new("justice").unwrap(),
            key: crypto::public_key(&SigningKey::from_bytes(&[42; 32])),
            valid_from: world.now.minus(HOUR),
        }),
    };
    let approvals = world
        .province
        .validator_keys()
        .iter()
        .zip(0u16..)
        .map(|(key, i)| approve(key, i, &body).unwrap())
        .collect();
    let tx = Transaction::Governance(GovernanceTx { body, approvals });
    let at = world.now.minus(HOUR);
    world.province.commit_block(&[tx], at).unwrap();
}

#[test]
fn an_update_gives_exactly_the_store_of_a_full_sync() {
    let mut world = World::new();
    let anchor = world.province.trust_anchor().unwrap();
    let held = world.store();

    // New batches, a revocation and a registry change after the counter synced.
    let now = world.now;
    let licence = world.issue_now("transport", sample::driver_licence(now));
    world.issue_now("social-security", sample::social_security_card(now));
    let id_card = world.id_card.clone();
    world.revoke("public-security", &id_card, now.minus(HOUR));
    register_key(&mut world);

    let update = update_after(&world, &held);
    assert_eq!(update.anchors.len(), 2);
    assert_eq!(update.revocations.len(), 1);
    assert_eq!(update.registry.len(), 1);
    let bytes = update.to_bytes().unwrap();
    assert_eq!(TrustUpdate::from_bytes(&bytes).unwrap(), update);

    let updated = held.apply_update(&update, &anchor).unwrap();
    let full = world.store();
    assert_eq!(
        updated.to_bundle().to_bytes().unwrap(),
        full.to_bundle().to_bytes().unwrap(),
        "the updated store is the full sync's"
    );
    assert_eq!(updated.header_hash(), full.header_hash());
    let status = ecert_testkit::world::status_index(&id_card);
    assert!(updated.is_revoked(&IssuerId::new("public-security").unwrap(), status));
    let licence = ecert_testkit::world::certificate(&licence);
    assert!(updated.issuer(&licence.claims.issuer).is_ok());
    // Far smaller than the export it replaces.
    let export = world.province.trust_bundle().unwrap().to_bytes().unwrap();
    assert!(
        bytes.len() < export.len(),
        "{} vs {}",
        bytes.len(),
        export.len()
    );

    // Nothing new: an update at the same header changes nothing.
    let same = update_after(&world, &updated);
    assert!(same.anchors.is_empty() && same.revocations.is_empty() && same.registry.is_empty());
    let again = updated.apply_update(&same, &anchor).unwrap();
    assert_eq!(again.to_bundle(), updated.to_bundle());

    // An unchanged registry is not sent.
    let later = world.store();
    world.issue_now("justice", sample::no_criminal_record(now));
    let small = update_after(&world, &later);
    assert!(small.registry.is_empty());
    assert_eq!(small.anchors.len(), 1);
    later.apply_update(&small, &anchor).unwrap();
}

#[test]
fn every_bent_update_is_refused() {
    let mut world = World::new();
    let anchor = world.province.trust_anchor().unwrap();
    let held = world.store();
    let now = world.now;
    world.issue_now("transport", sample::driver_licence(now));
    world.issue_now("social-security", sample::social_security_card(now));
    world.issue_now("justice", sample::no_criminal_record(now));
    let record = world.record.clone();
    world.revoke("justice", &record, now.minus(HOUR));
    register_key(&mut world);
    let good = update_after(&world, &held);
    assert!(good.consistency.len() > 1);
    let refused = |bend: &dyn Fn(&mut TrustUpdate)| {
        let mut update = good.clone();
        bend(&mut update);
        held.apply_update(&update, &anchor).unwrap_err()
    };
    let mismatch = |bend: &dyn Fn(&mut TrustUpdate)| {
        let e = refused(bend);
        assert_eq!(e.code(), "trust-data-mismatch", "{e}");
    };
    // A batch left out, added twice, reordered or changed.
    mismatch(&|u| {
        u.anchors.pop();
    });
    mismatch(&|u| {
        let first = u.anchors[0].clone();
        u.anchors.push(first);
    });
    mismatch(&|u| u.anchors.swap(0, 1));
    mismatch(&|u| u.anchors[1].count += 1);
    // A consistency proof that does not hold.
    mismatch(&|u| u.consistency[0] = u.consistency[1]);
    mismatch(&|u| {
        u.consistency.pop();
    });
    // The registry left out, or two of them.
    mismatch(&|u| u.registry.clear());
    mismatch(&|u| {
        let r = u.registry[0].clone();
        u.registry.push(r);
    });
    // A revocation left out or moved past the header.
    mismatch(&|u| {
        u.revocations.pop();
    });
    mismatch(&|u| {
        u.revocations[0].indexes.pop();
    });
    mismatch(&|u| u.revocations[0].height += 100);
    // Revocations grouped otherwise than in maximal runs of one block and issuer.
    mismatch(&|u| {
        let mut group = u.revocations[0].clone();
        group.indexes.clear();
        u.revocations.push(group);
    });
    mismatch(&|u| {
        let group = u.revocations[0].clone();
        u.revocations.insert(0, group);
    });
    // Not from the held header.
    mismatch(&|u| u.since -= 1);
    mismatch(&|u| u.since_anchor_count += 1);
    // Another ledger's, or not certified by the pinned validators.
    let twin = World::new();
    let twin_anchor = twin.province.trust_anchor().unwrap();
    let e = held.apply_update(&good, &twin_anchor).unwrap_err();
    assert_eq!(e.code(), "header-not-certified", "{e}");
    let e = refused(&|u| {
        u.checkpoint.votes.truncate(2);
    });
    assert_eq!(e.code(), "header-not-certified", "{e}");

    // An update older than the data held.
    let updated = held.apply_update(&good, &anchor).unwrap();
    let e = updated.apply_update(&good, &anchor).unwrap_err();
    assert_eq!(e.code(), "trust-data-mismatch", "{e}");

    // A future version is not called malformed.
    let mut future = good.clone();
    future.version = 2;
    assert!(matches!(
        TrustUpdate::from_bytes(&future.to_bytes().unwrap()),
        Err(SchemaError::UnsupportedVersion { .. })
    ));
}

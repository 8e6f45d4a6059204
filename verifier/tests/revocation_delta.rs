//! Revocation deltas: a delta served by the real ledger state machine rebuilds the
//! certified revocation state, and every way a node could bend one is refused.

// Test fixtures outside #[test] functions: a failure is a test failure.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use ecert_ledger_node::state::LedgerState;
use ecert_schemas::ledger::{RevocationDelta, RevocationReason, RevocationSnapshot};
use ecert_schemas::StatusIndex;
use ecert_testkit::province::Province;
use ecert_testkit::world::FIXED_NOW as NOW;
use ecert_verifier::verify_revocation_delta;
use rand_core::OsRng;

#[test]
fn revocation_deltas_rebuild_the_certified_revocation_state_and_catch_a_lying_node() {
    let mut p = Province::new("ecert-test", NOW.minus(86_400), &mut OsRng).unwrap();
    let anchor = p.trust_anchor().unwrap();
    let revoke = |p: &mut Province, dept: &str, indexes: &[u32]| {
        let indexes: Vec<StatusIndex> = indexes.iter().map(|&i| StatusIndex(i)).collect();
        p.revoke(dept, &indexes, RevocationReason::DataError, NOW)
            .unwrap();
    };
    revoke(&mut p, "justice", &[0, 9]);
    let middle = p.ledger().revocation_snapshot();
    revoke(&mut p, "public-security", &[3]);
    // Revoking an index again changes nothing and is not listed again.
    revoke(&mut p, "justice", &[9, 12]);
    let now = p.ledger().revocation_snapshot();
    let checkpoint = p.checkpoint().unwrap().clone();
    let genesis = RevocationSnapshot {
        height: 0,
        lists: vec![],
    };

    // From genesis, and from a state held since the middle: both give today's state.
    let full = p
        .ledger()
        .revocation_delta(0, &checkpoint, Vec::new())
        .unwrap()
        .unwrap();
    assert_eq!(full.entries.len(), 4);
    let bytes = full.to_bytes().unwrap();
    let full = RevocationDelta::from_bytes(&bytes).unwrap();
    let (header, rebuilt) = verify_revocation_delta(&genesis, &full, &anchor).unwrap();
    assert_eq!(header.height, p.ledger().height());
    assert_eq!(rebuilt, now);
    let since_middle = p
        .ledger()
        .revocation_delta(middle.height, &checkpoint, Vec::new())
        .unwrap()
        .unwrap();
    assert_eq!(since_middle.entries.len(), 2);
    assert_eq!(
        verify_revocation_delta(&middle, &since_middle, &anchor)
            .unwrap()
            .1,
        now
    );
    // Nothing new: an empty delta that still proves the state is current.
    let none = p
        .ledger()
        .revocation_delta(now.height, &checkpoint, Vec::new())
        .unwrap()
        .unwrap();
    assert!(none.entries.is_empty());
    assert_eq!(
        verify_revocation_delta(&now, &none, &anchor).unwrap().1,
        now
    );
    // A node rebuilt from a Raft snapshot answers the same.
    let restored = LedgerState::from_snapshot(p.ledger().snapshot()).unwrap();
    assert_eq!(
        restored
            .revocation_delta(0, &checkpoint, Vec::new())
            .unwrap(),
        p.ledger()
            .revocation_delta(0, &checkpoint, Vec::new())
            .unwrap()
    );
    // A start above the certified height has no delta.
    assert!(p
        .ledger()
        .revocation_delta(now.height + 1, &checkpoint, Vec::new())
        .unwrap()
        .is_none());

    // A node that leaves one out, adds one, reorders heights, or answers for another
    // start is caught.
    let refused = |delta: &RevocationDelta, base: &RevocationSnapshot| {
        let e = verify_revocation_delta(base, delta, &anchor).unwrap_err();
        assert_eq!(e.code(), "trust-data-mismatch", "{e}");
    };
    let mut left_out = full.clone();
    left_out.entries.remove(1);
    refused(&left_out, &genesis);
    let mut added = full.clone();
    let mut extra = added.entries[0].clone();
    extra.index = StatusIndex(40);
    added.entries.push(extra);
    refused(&added, &genesis);
    let mut reordered = full.clone();
    reordered.entries.swap(0, 3);
    refused(&reordered, &genesis);
    let mut twice = full.clone();
    let again = twice.entries[0].clone();
    twice.entries.insert(1, again);
    refused(&twice, &genesis);
    let mut beyond = full.clone();
    beyond.entries[0].index = StatusIndex(ecert_schemas::ledger::MAX_STATUS_INDEX + 1);
    refused(&beyond, &genesis);
    refused(&full, &middle);
    // And one certified by other validators is not certified at all.
    let other = Province::new("ecert-test", NOW.minus(86_400), &mut OsRng).unwrap();
    let e = verify_revocation_delta(&genesis, &full, &other.trust_anchor().unwrap()).unwrap_err();
    assert_eq!(e.code(), "header-not-certified", "{e}");
    // Nor is one whose header lost votes down to two of four.
    let mut thin = full.clone();
    thin.checkpoint.votes.truncate(2);
    let e = verify_revocation_delta(&genesis, &thin, &anchor).unwrap_err();
    assert_eq!(e.code(), "header-not-certified", "{e}");
}

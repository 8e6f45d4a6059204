//! Anchor receipts: a receipt served by the real ledger state machine is accepted, and
//! every way of tampering with one is refused with its own reason.

// Test fixtures outside #[test] functions: a failure is a test failure.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use ecert_ledger_node::state::{LedgerState, TxOutcome};
use ecert_schemas::ledger::{AnchorReceipt, Checkpoint, Transaction};
use ecert_schemas::{ChainId, Hash32};
use ecert_testkit::province::Province;
use ecert_testkit::sample;
use ecert_testkit::world::{batch_of, certify, FIXED_NOW as NOW};
use ecert_verifier::{verify_anchor_receipt, TrustAnchor, VerifyError};
use ecert_wallet::HolderKey;
use rand_core::OsRng;

/// A province with five anchored batches, and the checkpoint certified after the second.
fn province() -> (Province, Checkpoint) {
    let mut p = Province::new("ecert-test", NOW.minus(86_400), &mut OsRng).unwrap();
    let holder = HolderKey::generate(&mut OsRng);
    let mut early = None;
    for i in 0..5u64 {
        let (dept, order) = if i % 2 == 0 {
            ("justice", sample::no_criminal_record(NOW))
        } else {
            ("public-security", sample::id_card(NOW))
        };
        p.issue_and_anchor(dept, holder.public_key(), &[order], NOW.plus(i), &mut OsRng)
            .unwrap();
        if i == 1 {
            early = Some(p.checkpoint().unwrap().clone());
        }
    }
    (p, early.unwrap())
}

fn receipt(p: &Province, batch_seq: u64) -> AnchorReceipt {
    p.ledger()
        .anchor_receipt(batch_seq, p.checkpoint().unwrap(), Vec::new())
        .unwrap()
        .unwrap()
}

#[test]
fn a_served_receipt_is_accepted_for_every_batch_and_round_trips() {
    let (p, early) = province();
    let anchor = p.trust_anchor().unwrap();
    for seq in 0..5 {
        let r = receipt(&p, seq);
        let bytes = r.to_bytes().unwrap();
        assert_eq!(AnchorReceipt::from_bytes(&bytes).unwrap(), r);
        let verified = verify_anchor_receipt(&r, &anchor).unwrap();
        assert_eq!(verified.batch_seq, seq);
        assert_eq!(&verified.record, &p.ledger().anchors()[seq as usize]);
        assert_eq!(verified.header.anchor_count, 5);
        assert_eq!(verified.record.height, seq + 1);
    }
    // Against an older checkpoint: the path is in the log as it was then.
    for seq in 0..2 {
        let r = p
            .ledger()
            .anchor_receipt(seq, &early, Vec::new())
            .unwrap()
            .unwrap();
        let verified = verify_anchor_receipt(&r, &anchor).unwrap();
        assert_eq!(verified.header.anchor_count, 2);
        assert_eq!(verified.header.height, 2);
    }
    // Batches the older checkpoint does not cover have no receipt under it.
    assert_eq!(
        p.ledger().anchor_receipt(2, &early, Vec::new()).unwrap(),
        None
    );
    assert_eq!(
        p.ledger()
            .anchor_receipt(5, p.checkpoint().unwrap(), Vec::new())
            .unwrap(),
        None
    );
}

#[test]
fn a_wrong_path_or_record_is_refused() {
    let (p, _) = province();
    let anchor = p.trust_anchor().unwrap();
    let good = receipt(&p, 3);

    let mut bad_path = good.clone();
    bad_path.path[0].0[0] ^= 1;
    let mut short_path = good.clone();
    short_path.path.pop();
    let mut long_path = good.clone();
    long_path.path.push(Hash32([0; 32]));
    let mut other_record = good.clone();
    other_record.record = p.ledger().anchors()[2].clone();
    let mut edited_record = good.clone();
    edited_record.record.count += 1;
    let mut other_position = good.clone();
    other_position.batch_seq = 2;
    for r in [
        bad_path,
        short_path,
        long_path,
        other_record,
        edited_record,
        other_position,
    ] {
        assert!(
            matches!(
                verify_anchor_receipt(&r, &anchor),
                Err(VerifyError::AnchorProofInvalid { .. })
            ),
            "accepted {r:?}"
        );
    }
}

#[test]
fn a_sequence_beyond_the_certified_log_is_refused() {
    let (p, _) = province();
    let mut r = receipt(&p, 4);
    r.batch_seq = 5;
    assert_eq!(
        verify_anchor_receipt(&r, &p.trust_anchor().unwrap()),
        Err(VerifyError::HeaderUnknown {
            batch_seq: 5,
            synced: 5
        })
    );
}

#[test]
fn too_few_votes_are_refused() {
    let (p, _) = province();
    let mut r = receipt(&p, 0);
    r.checkpoint.votes.truncate(2);
    let err = verify_anchor_receipt(&r, &p.trust_anchor().unwrap()).unwrap_err();
    assert!(
        matches!(&err, VerifyError::HeaderNotCertified { detail } if detail.contains("2 of 4")),
        "{err:?}"
    );
    // A forged vote is no better than a missing one.
    let mut r = receipt(&p, 0);
    r.checkpoint.votes[1].signature.0[0] ^= 1;
    assert!(matches!(
        verify_anchor_receipt(&r, &p.trust_anchor().unwrap()),
        Err(VerifyError::HeaderNotCertified { .. })
    ));
}

#[test]
fn other_validators_are_refused() {
    let (p, _) = province();
    let (other, _) = province();
    let anchor = p.trust_anchor().unwrap();
    // A whole receipt from a ledger certified by another validator set.
    let foreign = receipt(&other, 0);
    let err = verify_anchor_receipt(&foreign, &anchor).unwrap_err();
    assert!(
        matches!(&err, VerifyError::HeaderNotCertified { detail } if detail.contains("does not trust")),
        "{err:?}"
    );
    // Our header, with someone else's validator list attached.
    let mut swapped = receipt(&p, 0);
    swapped.validators = other.ledger().validators().to_vec();
    assert!(matches!(
        verify_anchor_receipt(&swapped, &anchor),
        Err(VerifyError::HeaderNotCertified { .. })
    ));
    // The other ledger's receipt, relabelled with our validators: their votes do not
    // certify a header that commits to another set.
    let mut relabelled = foreign;
    relabelled.validators = p.ledger().validators().to_vec();
    assert!(matches!(
        verify_anchor_receipt(&relabelled, &anchor),
        Err(VerifyError::HeaderNotCertified { .. })
    ));
}

#[test]
fn another_chain_of_the_same_validators_is_refused() {
    let (mut p, _) = province();
    let holder = HolderKey::generate(&mut OsRng);
    let other_chain = ChainId::new("other-province").unwrap();
    let mut ledger = LedgerState::genesis(
        other_chain.clone(),
        p.ledger().validators().to_vec(),
        p.ledger().registry().clone(),
    )
    .unwrap();
    let order = sample::no_criminal_record(NOW);
    let (batch, _) = batch_of(&mut p, "justice", holder.public_key(), &[order], NOW);
    let key = &p.department("justice").unwrap().issuer_key;
    let tx = batch.anchor_transaction(key, &other_chain).unwrap();
    let block = ledger
        .apply_block(&[Transaction::AnchorBatch(tx)], NOW.secs() * 1000)
        .unwrap();
    assert_eq!(block.outcomes, [TxOutcome::Anchored { batch_seq: 0 }]);
    let checkpoint = certify(&p, &block.header_bytes);
    let r = ledger
        .anchor_receipt(0, &checkpoint, Vec::new())
        .unwrap()
        .unwrap();
    // Fine for the other chain's anchor, refused for ours.
    let theirs = TrustAnchor::new(other_chain, p.ledger().validators()).unwrap();
    verify_anchor_receipt(&r, &theirs).unwrap();
    assert!(matches!(
        verify_anchor_receipt(&r, &p.trust_anchor().unwrap()),
        Err(VerifyError::TrustDataMismatch { .. })
    ));
}

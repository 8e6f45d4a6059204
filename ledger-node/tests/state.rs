//! The ledger state machine: transactions are checked with the verifier's rules, invalid
//! ones are skipped deterministically, and headers commit to exactly the state a counter
//! syncs.
// Test fixtures outside #[test] functions: a failure is a test failure.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use ecert_issuer::{revocation_transaction, Batch, IssuerKey};
use ecert_ledger_node::state::TxOutcome;
use ecert_ledger_node::NodeError;
use ecert_schemas::ledger::{RevocationEntry, RevocationReason, Transaction};
use ecert_schemas::{ChainId, IssuerId, StatusIndex, UnixTime};
use ecert_testnet::province::Province;
use ecert_testnet::sample;
use ecert_verifier::{commit, VerifyError};
use ecert_wallet::HolderKey;
use rand_core::OsRng;

const NOW: UnixTime = UnixTime(1_790_000_000);

fn province() -> (Province, HolderKey) {
    (
        Province::new("ecert-test", NOW.minus(86_400), &mut OsRng).unwrap(),
        HolderKey::generate(&mut OsRng),
    )
}

fn anchor_tx(p: &mut Province, holder: &HolderKey, dept: &str) -> Transaction {
    let order = if dept == "justice" {
        sample::no_criminal_record(NOW)
    } else {
        sample::id_card(NOW)
    };
    let issued = p
        .issue(
            dept,
            holder.public_key(),
            &[order],
            NOW.minus(60),
            &mut OsRng,
        )
        .unwrap();
    let key = &p.department(dept).unwrap().issuer_key;
    let batch = Batch::new(key, issued).unwrap();
    Transaction::AnchorBatch(
        batch
            .anchor_transaction(key, p.ledger().chain_id())
            .unwrap(),
    )
}

#[test]
fn a_replayed_batch_is_refused_and_skipped() {
    let (mut p, h) = province();
    let tx = anchor_tx(&mut p, &h, "justice");
    let block = p.commit_block(std::slice::from_ref(&tx), NOW).unwrap();
    assert_eq!(block.outcomes, [TxOutcome::Anchored { batch_seq: 0 }]);
    assert!(matches!(
        p.ledger().check(&tx, NOW.secs() * 1000),
        Err(VerifyError::TransactionRefused { .. })
    ));
    // Both in one block: the first applies, the second is skipped.
    let fresh = anchor_tx(&mut p, &h, "justice");
    let block = p.commit_block(&[fresh.clone(), fresh], NOW).unwrap();
    assert!(matches!(
        block.outcomes[0],
        TxOutcome::Anchored { batch_seq: 1 }
    ));
    assert!(matches!(
        block.outcomes[1],
        TxOutcome::Skipped(VerifyError::TransactionRefused { .. })
    ));
}

#[test]
fn a_forged_issuer_signature_is_refused() {
    let (mut p, h) = province();
    let mut tx = anchor_tx(&mut p, &h, "justice");
    if let Transaction::AnchorBatch(t) = &mut tx {
        t.signature.0[5] ^= 1;
    }
    assert!(matches!(
        p.ledger().check(&tx, NOW.secs() * 1000),
        Err(VerifyError::BadIssuerSignature { .. })
    ));
    assert!(matches!(
        p.commit_block(&[tx], NOW),
        Err(ecert_testnet::TestnetError::Ledger(NodeError::EmptyBlock))
    ));
    assert_eq!(p.ledger().height(), 0, "a refused block changes nothing");
}

#[test]
fn an_unregistered_issuer_and_a_foreign_chain_are_refused() {
    let (mut p, h) = province();
    let rogue = IssuerKey::generate(IssuerId::new("justice").unwrap(), &mut OsRng);
    let issued = p
        .issue(
            "justice",
            h.public_key(),
            &[sample::no_criminal_record(NOW)],
            NOW,
            &mut OsRng,
        )
        .unwrap();
    // Re-sign the same certificates' batch with a key the registry does not know.
    let forged_batch = Batch::new(&p.department("justice").unwrap().issuer_key, issued).unwrap();
    let real = forged_batch
        .anchor_transaction(&rogue, p.ledger().chain_id())
        .unwrap();
    assert!(matches!(
        p.ledger()
            .check(&Transaction::AnchorBatch(real), NOW.secs() * 1000),
        Err(VerifyError::UnknownIssuerKey { .. })
    ));
    let elsewhere = forged_batch
        .anchor_transaction(
            &p.department("justice").unwrap().issuer_key,
            &ChainId::new("other-province").unwrap(),
        )
        .unwrap();
    assert!(matches!(
        p.ledger()
            .check(&Transaction::AnchorBatch(elsewhere), NOW.secs() * 1000),
        Err(VerifyError::TransactionRefused { .. })
    ));
}

#[test]
fn headers_chain_and_commit_to_the_state() {
    let (mut p, h) = province();
    let tx1 = anchor_tx(&mut p, &h, "justice");
    let first = p.commit_block(&[tx1], NOW).unwrap();
    let tx = anchor_tx(&mut p, &h, "public-security");
    let second = p.commit_block(std::slice::from_ref(&tx), NOW).unwrap();
    assert_eq!(second.header.height, 2);
    assert_eq!(
        second.header.prev_hash,
        commit::header_hash(&first.header_bytes)
    );
    assert!(second.header.time_ms > first.header.time_ms);
    assert_eq!(second.header.anchor_count, 2);
    assert_eq!(
        second.header.anchors_root,
        commit::anchors_root(p.ledger().anchors()).unwrap()
    );
    assert_eq!(
        second.header.txs_root,
        commit::txs_root(&[tx.to_bytes().unwrap()])
    );
    assert_eq!(
        second.header.registry_root,
        commit::registry_root(p.ledger().registry()).unwrap()
    );
    assert_eq!(
        second.header.validators_hash,
        commit::validators_hash(p.ledger().validators()).unwrap()
    );
}

#[test]
fn revocations_are_idempotent_and_committed() {
    let (mut p, h) = province();
    let tx = anchor_tx(&mut p, &h, "justice");
    p.commit_block(&[tx], NOW).unwrap();
    let before = p.ledger().revocation_snapshot();
    assert!(before.lists.is_empty());
    let key = &p.department("justice").unwrap().issuer_key;
    let entries = vec![RevocationEntry {
        index: StatusIndex(0),
        reason: RevocationReason::DataError,
    }];
    let rev = revocation_transaction(key, p.ledger().chain_id(), entries.clone(), NOW).unwrap();
    let again = revocation_transaction(key, p.ledger().chain_id(), entries, NOW.plus(1)).unwrap();
    let block = p
        .commit_block(
            &[Transaction::Revocation(rev), Transaction::Revocation(again)],
            NOW.plus(1),
        )
        .unwrap();
    assert_eq!(
        block.outcomes,
        [
            TxOutcome::Revoked { newly_revoked: 1 },
            TxOutcome::Revoked { newly_revoked: 0 }
        ]
    );
    let snapshot = p.ledger().revocation_snapshot();
    assert!(snapshot.is_revoked(&IssuerId::new("justice").unwrap(), StatusIndex(0)));
    assert_eq!(snapshot.revoked_count(), 1);
    assert!(!snapshot.is_revoked(&IssuerId::new("public-security").unwrap(), StatusIndex(0)));
    assert_eq!(
        block.header.revocation_root,
        commit::revocation_root(&snapshot.lists).unwrap()
    );
}

#[test]
fn status_indexes_beyond_the_list_are_refused() {
    let (p, _) = province();
    let key = &p.department("justice").unwrap().issuer_key;
    let entries = vec![RevocationEntry {
        index: StatusIndex(ecert_schemas::ledger::MAX_STATUS_INDEX + 1),
        reason: RevocationReason::Unspecified,
    }];
    let rev = revocation_transaction(key, p.ledger().chain_id(), entries, NOW).unwrap();
    assert!(matches!(
        p.ledger()
            .check(&Transaction::Revocation(rev), NOW.secs() * 1000),
        Err(VerifyError::TransactionRefused { .. })
    ));
}

#[test]
fn block_time_never_goes_backwards() {
    let (mut p, h) = province();
    let tx = anchor_tx(&mut p, &h, "justice");
    let mut ledger = p.ledger().clone();
    ledger
        .apply_block(std::slice::from_ref(&tx), NOW.secs() * 1000)
        .unwrap();
    let tx2 = anchor_tx(&mut p, &h, "justice");
    assert!(matches!(
        ledger.apply_block(&[tx2], NOW.secs() * 1000 - 1),
        Err(NodeError::TimeWentBackwards { .. })
    ));
}

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
use ecert_ledger_node::governance::approve;
use ecert_ledger_node::state::{LedgerState, TxOutcome};
use ecert_ledger_node::LedgerError;
use ecert_schemas::ledger::{
    GovernanceAction, GovernanceBody, GovernanceTx, GrantKind, KindRecord, RevocationEntry,
    RevocationReason, RotateIssuerKey, Transaction,
};
use ecert_schemas::{CertificatePackage, ChainId, Hash32, IssuerId, KindId, StatusIndex, UnixTime};
use ecert_testkit::province::Province;
use ecert_testkit::sample;
use ecert_testkit::testnet::TestnetError;
use ecert_testkit::world::batch_of;
use ecert_verifier::{commit, verify_presentation, Policy, VerifyError};
use ecert_wallet::{present, HolderKey, Selection};
use rand_core::OsRng;

const NOW: UnixTime = UnixTime(1_790_000_000);

fn province() -> (Province, HolderKey) {
    (
        Province::new("ecert-test", NOW.minus(86_400), &mut OsRng).unwrap(),
        HolderKey::generate(&mut OsRng),
    )
}

/// What the province's ledger says of `tx` at [`NOW`].
fn check_now(p: &Province, tx: &Transaction) -> Result<(), VerifyError> {
    p.ledger().check(tx, NOW.secs() * 1000)
}

/// The reason ([`VerifyError::code`]) the province's ledger refuses `tx` at [`NOW`].
fn refusal_now(p: &Province, tx: &Transaction) -> &'static str {
    check_now(p, tx).unwrap_err().code()
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
    assert_eq!(refusal_now(&p, &tx), "transaction-refused");
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
    assert_eq!(refusal_now(&p, &tx), "bad-issuer-signature");
    assert!(matches!(
        p.commit_block(&[tx], NOW),
        Err(ecert_testkit::testnet::TestnetError::Ledger(
            LedgerError::EmptyBlock
        ))
    ));
    assert_eq!(p.ledger().height(), 0, "a refused block changes nothing");
}

#[test]
fn an_unregistered_issuer_and_a_foreign_chain_are_refused() {
    let (mut p, h) = province();
    let rogue = IssuerKey::generate(IssuerId::new("justice").unwrap(), &mut OsRng);
    let order = sample::no_criminal_record(NOW);
    let (forged_batch, _) = batch_of(&mut p, "justice", h.public_key(), &[order], NOW);
    // Re-sign the same certificates' batch with a key the registry does not know.
    let real = Transaction::AnchorBatch(
        forged_batch
            .anchor_transaction(&rogue, p.ledger().chain_id())
            .unwrap(),
    );
    assert_eq!(refusal_now(&p, &real), "unknown-issuer-key");
    let justice = &p.department("justice").unwrap().issuer_key;
    let other_chain = ChainId::new("other-province").unwrap();
    let elsewhere = Transaction::AnchorBatch(
        forged_batch
            .anchor_transaction(justice, &other_chain)
            .unwrap(),
    );
    assert_eq!(refusal_now(&p, &elsewhere), "transaction-refused");
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

fn revoke_tx(p: &Province, dept: &str, indexes: &[u32], time: UnixTime) -> Transaction {
    let key = &p.department(dept).unwrap().issuer_key;
    let entries = indexes
        .iter()
        .map(|&i| RevocationEntry {
            index: StatusIndex(i),
            reason: RevocationReason::Withdrawn,
        })
        .collect();
    Transaction::Revocation(
        revocation_transaction(key, p.ledger().chain_id(), entries, time).unwrap(),
    )
}

#[test]
fn each_issuers_list_is_checked_against_the_header_alone() {
    let (mut p, _) = province();
    let justice = IssuerId::new("justice").unwrap();
    let security = IssuerId::new("public-security").unwrap();
    let first = p
        .commit_block(
            &[revoke_tx(&p, "public-security", &[7, 3, 900_000], NOW)],
            NOW,
        )
        .unwrap();
    let proof = p.ledger().status_list_proof(&security).unwrap();
    assert_eq!((proof.position, proof.list_count), (0, 1));
    commit::verify_status_list(&proof, &first.header).unwrap();
    assert!(p.ledger().status_list_proof(&justice).is_none());

    // Justice's first revocation inserts its list before public security's; a later block
    // that touches only public security's list leaves justice's leaf as it was.
    let second = p
        .commit_block(&[revoke_tx(&p, "justice", &[1], NOW.plus(1))], NOW.plus(1))
        .unwrap();
    let justice_proof = p.ledger().status_list_proof(&justice).unwrap();
    assert_eq!((justice_proof.position, justice_proof.list_count), (0, 2));
    commit::verify_status_list(&justice_proof, &second.header).unwrap();
    let third = p
        .commit_block(
            &[revoke_tx(&p, "public-security", &[4], NOW.plus(2))],
            NOW.plus(2),
        )
        .unwrap();
    let security_proof = p.ledger().status_list_proof(&security).unwrap();
    assert_eq!((security_proof.position, security_proof.list_count), (1, 2));
    commit::verify_status_list(&security_proof, &third.header).unwrap();
    assert_eq!(
        p.ledger().status_list_proof(&justice).unwrap().path,
        vec![commit::status_list_leaf(&security_proof.list).unwrap()]
    );
    // An old list, or a list with an index added, or at another place, is not the
    // certified one.
    assert!(matches!(
        commit::verify_status_list(&proof, &third.header),
        Err(VerifyError::TrustDataMismatch { .. })
    ));
    let mut forged = security_proof.clone();
    forged.list.revoke(&[StatusIndex(5)]).unwrap();
    assert!(commit::verify_status_list(&forged, &third.header).is_err());
    let mut moved = security_proof.clone();
    moved.position = 0;
    assert!(commit::verify_status_list(&moved, &third.header).is_err());

    // The root is that of the whole set, and survives a snapshot.
    let snapshot = p.ledger().revocation_snapshot();
    assert_eq!(
        third.header.revocation_root,
        commit::revocation_root(&snapshot.lists).unwrap()
    );
    let rebuilt = LedgerState::from_snapshot(p.ledger().snapshot()).unwrap();
    assert_eq!(rebuilt.revocation_root(), third.header.revocation_root);
    assert_eq!(
        snapshot.lists[0].revoked.iter().collect::<Vec<_>>(),
        [1].map(StatusIndex)
    );
    assert_eq!(
        snapshot.lists[1].revoked.iter().collect::<Vec<_>>(),
        [3, 4, 7, 900_000].map(StatusIndex)
    );
}

#[test]
fn the_kept_revocation_tree_always_matches_the_lists() {
    // A fixed pseudo-random sequence of blocks over the four departments: some revoke
    // again what is revoked, some carry a refused transaction, some are refused whole.
    let (mut p, _) = province();
    let departments = ["justice", "public-security", "social-security", "transport"];
    let mut seed = 0x5EED_u64;
    let mut next = move |bound: u64| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % bound
    };
    let too_large = ecert_schemas::ledger::MAX_STATUS_INDEX + 1;
    let mut refused = 0;
    for block in 0..40u64 {
        let time = NOW.plus(block);
        let before = p.ledger().revocation_root();
        let mut txs = Vec::new();
        for _ in 0..=next(3) {
            let dept = departments[next(4) as usize];
            let indexes: Vec<u32> = (0..=next(20)).map(|_| next(5_000) as u32).collect();
            let mut indexes: Vec<u32> = indexes
                .into_iter()
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            if next(8) == 0 {
                indexes = vec![too_large];
            }
            txs.push(revoke_tx(&p, dept, &indexes, time));
        }
        match p.commit_block(&txs, time) {
            Ok(applied) => {
                let snapshot = p.ledger().revocation_snapshot();
                assert_eq!(
                    applied.header.revocation_root,
                    commit::revocation_root(&snapshot.lists).unwrap()
                );
                for list in &snapshot.lists {
                    let proof = p.ledger().status_list_proof(&list.issuer).unwrap();
                    assert_eq!(&proof.list, list);
                    commit::verify_status_list(&proof, &applied.header).unwrap();
                }
            }
            // Every transaction refused: nothing changed.
            Err(e) => {
                assert!(
                    matches!(e, TestnetError::Ledger(LedgerError::EmptyBlock)),
                    "{e}"
                );
                refused += 1;
                assert_eq!(p.ledger().revocation_root(), before);
            }
        }
    }
    let rebuilt = LedgerState::from_snapshot(p.ledger().snapshot()).unwrap();
    assert_eq!(rebuilt.revocation_root(), p.ledger().revocation_root());
    assert_eq!(p.ledger().revocation_snapshot().lists.len(), 4);
    assert!(refused > 0);
}

#[test]
fn status_indexes_beyond_the_list_are_refused() {
    let (p, _) = province();
    let beyond = ecert_schemas::ledger::MAX_STATUS_INDEX + 1;
    let rev = revoke_tx(&p, "justice", &[beyond], NOW);
    assert_eq!(refusal_now(&p, &rev), "transaction-refused");
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
        Err(LedgerError::TimeWentBackwards { .. })
    ));
}

// --- governance ------------------------------------------------------------------------

/// Department `justice` is validator 0 and issuer `justice`.
const JUSTICE: usize = 0;

/// A governance transaction for the ledger's next sequence number, approved by the
/// validators at `signers`.
fn governance(p: &Province, action: GovernanceAction, signers: &[usize]) -> Transaction {
    governance_at(p, p.ledger().registry().governance_seq, action, signers)
}

/// A governance transaction with sequence number `seq`.
fn governance_at(
    p: &Province,
    seq: u64,
    action: GovernanceAction,
    signers: &[usize],
) -> Transaction {
    let body = GovernanceBody {
        chain_id: p.ledger().chain_id().clone(),
        seq,
        action,
    };
    let approvals = signers
        .iter()
        .map(|&i| approve(&p.departments[i].validator_key, i as u16, &body).unwrap())
        .collect();
    Transaction::Governance(GovernanceTx { body, approvals })
}

fn add_kind(name: &str) -> GovernanceAction {
    GovernanceAction::AddKind(KindRecord {
        kind: KindId::new(name).unwrap(),
        content_hash: Hash32([7; 32]),
    })
}

/// Anchors `issued` with justice's current key in a certified block at `time`.
fn anchor_justice(
    p: &mut Province,
    issued: Vec<ecert_issuer::IssuedCertificate>,
    time: UnixTime,
) -> CertificatePackage {
    p.anchor("justice", issued, time).unwrap().remove(0)
}

fn issue_justice(
    p: &mut Province,
    h: &HolderKey,
    at: UnixTime,
) -> Vec<ecert_issuer::IssuedCertificate> {
    p.issue(
        "justice",
        h.public_key(),
        &[sample::no_criminal_record(NOW)],
        at,
        &mut OsRng,
    )
    .unwrap()
}

fn shown(
    p: &Province,
    h: &HolderKey,
    package: &CertificatePackage,
    now: UnixTime,
) -> Result<(), VerifyError> {
    let qr = present(
        h,
        &p.kinds,
        &[Selection {
            package,
            fields: vec!["result".into()],
        }],
        now,
        None,
    )
    .unwrap()
    .to_qr_string()
    .unwrap();
    verify_presentation(&qr, &p.sync_counter().unwrap(), now, &Policy::default()).map(|_| ())
}

#[test]
fn a_rotated_key_takes_over_and_the_old_one_is_refused_after_retirement() {
    let (mut p, h) = province();
    let old_key_id = p.departments[JUSTICE].issuer_key.key_id();
    // Issued and anchored under the old key before the rotation.
    let early = issue_justice(&mut p, &h, NOW);
    let early = anchor_justice(&mut p, early, NOW);
    let before = p.checkpoint().unwrap().decode_header().unwrap();

    let new_key = IssuerKey::generate(IssuerId::new("justice").unwrap(), &mut OsRng);
    let switch = NOW.plus(60);
    let rotate = governance(
        &p,
        GovernanceAction::RotateIssuerKey(RotateIssuerKey {
            issuer: IssuerId::new("justice").unwrap(),
            old_key_id,
            new_key: new_key.public_key(),
            valid_from: switch,
        }),
        &[0, 1, 2],
    );
    let block = p.commit_block(&[rotate], NOW.plus(1)).unwrap();
    assert_eq!(block.outcomes, [TxOutcome::Governed { seq: 0 }]);
    assert_eq!(p.ledger().registry().governance_seq, 1);
    assert_ne!(block.header.registry_root, before.registry_root);
    assert_eq!(
        block.header.registry_root,
        commit::registry_root(p.ledger().registry()).unwrap()
    );
    let keys = &p
        .ledger()
        .registry()
        .issuer(&IssuerId::new("justice").unwrap())
        .unwrap()
        .keys;
    assert_eq!(keys[0].valid_until, Some(switch));
    assert_eq!(keys[1].key_id, new_key.key_id());
    assert_eq!(keys[1].valid_from, switch);

    // Until the switch the old key still anchors, and the new one does not yet.
    let late = issue_justice(&mut p, &h, NOW.plus(10));
    let late = anchor_justice(&mut p, late, NOW.plus(30));
    let old = std::mem::replace(&mut p.departments[JUSTICE].issuer_key, new_key);
    let too_soon = issue_justice(&mut p, &h, NOW.plus(40));
    let tx = Batch::new(&p.departments[JUSTICE].issuer_key, too_soon)
        .unwrap()
        .anchor_transaction(&p.departments[JUSTICE].issuer_key, p.ledger().chain_id())
        .unwrap();
    assert!(matches!(
        p.ledger()
            .check(&Transaction::AnchorBatch(tx), NOW.plus(40).secs() * 1000),
        Err(VerifyError::IssuerKeyNotValidAtIssue { .. })
    ));

    // From the switch on: a batch signed with the new key is accepted...
    let fresh = issue_justice(&mut p, &h, switch);
    let fresh = anchor_justice(&mut p, fresh, switch);
    // ...and one signed with the retired key is refused and skipped.
    let new_key = std::mem::replace(&mut p.departments[JUSTICE].issuer_key, old);
    let stale = issue_justice(&mut p, &h, NOW.plus(50));
    let tx = Transaction::AnchorBatch(
        Batch::new(&p.departments[JUSTICE].issuer_key, stale)
            .unwrap()
            .anchor_transaction(&p.departments[JUSTICE].issuer_key, p.ledger().chain_id())
            .unwrap(),
    );
    assert_eq!(
        p.ledger().check(&tx, switch.plus(1).secs() * 1000),
        Err(VerifyError::IssuerKeyNotValidAtIssue {
            issuer: IssuerId::new("justice").unwrap(),
            key_id: old_key_id,
        })
    );
    assert!(matches!(
        p.commit_block(&[tx], switch.plus(1)),
        Err(TestnetError::Ledger(LedgerError::EmptyBlock))
    ));
    // So is a revocation signed with it.
    let rev = revocation_transaction(
        &p.departments[JUSTICE].issuer_key,
        p.ledger().chain_id(),
        vec![RevocationEntry {
            index: StatusIndex(0),
            reason: RevocationReason::Superseded,
        }],
        switch.plus(1),
    )
    .unwrap();
    assert!(matches!(
        p.ledger()
            .check(&Transaction::Revocation(rev), switch.plus(1).secs() * 1000),
        Err(VerifyError::IssuerKeyNotValidAtIssue { .. })
    ));
    p.departments[JUSTICE].issuer_key = new_key;

    // A counter synced after the rotation still accepts what the old key issued and
    // anchored before it retired, and accepts the new key's certificates.
    let now = switch.plus(5);
    shown(&p, &h, &early, now).unwrap();
    shown(&p, &h, &late, now).unwrap();
    shown(&p, &h, &fresh, now).unwrap();
}

#[test]
fn governance_with_two_of_four_approvals_is_rejected() {
    let (mut p, _) = province();
    let tx = governance(&p, add_kind("test-kind"), &[0, 3]);
    assert_eq!(
        check_now(&p, &tx),
        Err(VerifyError::TooFewApprovals {
            approvals: 2,
            validators: 4
        })
    );
    assert!(matches!(
        p.commit_block(&[tx], NOW),
        Err(TestnetError::Ledger(LedgerError::EmptyBlock))
    ));
    assert_eq!(p.ledger().height(), 0);
    assert_eq!(p.ledger().registry().governance_seq, 0);
    // Three of four is a quorum.
    let tx = governance(&p, add_kind("test-kind"), &[0, 2, 3]);
    let block = p.commit_block(&[tx], NOW).unwrap();
    assert_eq!(block.outcomes, [TxOutcome::Governed { seq: 0 }]);
    assert!(p
        .ledger()
        .registry()
        .kind(&KindId::new("test-kind").unwrap())
        .is_some());
}

#[test]
fn a_replayed_governance_change_is_rejected() {
    let (mut p, _) = province();
    let tx = governance(&p, add_kind("test-kind"), &[0, 1, 2, 3]);
    let first = p.commit_block(std::slice::from_ref(&tx), NOW).unwrap();
    assert_eq!(first.outcomes, [TxOutcome::Governed { seq: 0 }]);
    assert_eq!(
        check_now(&p, &tx),
        Err(VerifyError::GovernanceSeqMismatch {
            expected: 1,
            found: 0
        })
    );
    // Twice in one block: the second is skipped; the next change must carry seq 1.
    let (mut q, _) = province();
    let tx = governance(&q, add_kind("test-kind"), &[0, 1, 2]);
    let block = q.commit_block(&[tx.clone(), tx], NOW).unwrap();
    assert_eq!(block.outcomes[0], TxOutcome::Governed { seq: 0 });
    assert_eq!(
        block.outcomes[1],
        TxOutcome::Skipped(VerifyError::GovernanceSeqMismatch {
            expected: 1,
            found: 0
        })
    );
}

#[test]
fn governance_changes_apply_in_order_within_a_block_and_survive_a_snapshot() {
    let (mut p, h) = province();
    let add = governance(&p, add_kind("test-kind"), &[1, 2, 3]);
    // The second change is approved for the registry after the first (seq 1).
    let grant = governance_at(
        &p,
        1,
        GovernanceAction::GrantKind(GrantKind {
            issuer: IssuerId::new("transport").unwrap(),
            kind: KindId::new("test-kind").unwrap(),
        }),
        &[0, 1, 3],
    );
    let tx = anchor_tx(&mut p, &h, "justice");
    let block = p.commit_block(&[add, grant, tx], NOW).unwrap();
    assert_eq!(
        block.outcomes,
        [
            TxOutcome::Governed { seq: 0 },
            TxOutcome::Governed { seq: 1 },
            TxOutcome::Anchored { batch_seq: 0 },
        ]
    );
    let transport = p
        .ledger()
        .registry()
        .issuer(&IssuerId::new("transport").unwrap())
        .unwrap();
    assert_eq!(
        transport.kinds,
        [
            KindId::new("driver-licence").unwrap(),
            KindId::new("test-kind").unwrap()
        ]
    );
    // A node restarted from a snapshot has the same registry and makes the same headers.
    let snapshot = p.ledger().snapshot();
    let mut restored = LedgerState::from_snapshot(snapshot.clone()).unwrap();
    assert_eq!(restored.snapshot(), snapshot);
    let next = anchor_tx(&mut p, &h, "public-security");
    let mut original = p.ledger().clone();
    let a = original
        .apply_block(std::slice::from_ref(&next), NOW.secs() * 1000 + 5)
        .unwrap();
    let b = restored
        .apply_block(&[next], NOW.secs() * 1000 + 5)
        .unwrap();
    assert_eq!(a.header_bytes, b.header_bytes);
    assert_eq!(
        a.header.registry_root,
        commit::registry_root(original.registry()).unwrap()
    );
}

//! Governance transactions: every action is accepted when approved by a validator quorum
//! and it fits the registry, and every way of getting it wrong is refused with its own
//! reason.

// Test fixtures outside #[test] functions: a failure is a test failure.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use ecert_ledger_node::governance::{apply_governance, approve, assemble_governance};
use ecert_schemas::kinds::RevisionError;
use ecert_schemas::ledger::{
    Approval, GovernanceAction, GovernanceBody, GovernanceTx, GrantKind, IssuerKeyRecord,
    IssuerRecord, KindRecord, RegisterIssuerKey, Registry, RetireIssuerKey, RotateIssuerKey,
    Transaction, ValidatorInfo,
};
use ecert_schemas::{
    ChainId, Hash32, IssuerId, KeyId, Kind, KindId, KindRegistry, PublicKeyBytes, UnixTime,
};
use ecert_testkit::{sample, World};
use ecert_verifier::crypto::{self, SigningContext};
use ecert_verifier::transaction::check_governance;
use ecert_verifier::{verify_presentation, Policy, TrustStore, VerifyError};
use ed25519_dalek::SigningKey;

const AT: UnixTime = UnixTime(1_790_000_000);

fn chain() -> ChainId {
    ChainId::new("ecert-test").unwrap()
}

fn id(s: &str) -> IssuerId {
    IssuerId::new(s).unwrap()
}

fn kind(s: &str) -> KindId {
    KindId::new(s).unwrap()
}

fn validator_key(i: u8) -> SigningKey {
    SigningKey::from_bytes(&[i + 1; 32])
}

fn issuer_key(seed: u8) -> PublicKeyBytes {
    crypto::public_key(&SigningKey::from_bytes(&[100 + seed; 32]))
}

fn key_record(seed: u8) -> IssuerKeyRecord {
    let key = issuer_key(seed);
    IssuerKeyRecord {
        key_id: KeyId::of(&key),
        key,
        valid_from: UnixTime(0),
        valid_until: None,
    }
}

fn validators() -> Vec<ValidatorInfo> {
    ["justice", "public-security", "social-security", "transport"]
        .iter()
        .enumerate()
        .map(|(i, d)| ValidatorInfo {
            department: id(d),
            key: crypto::public_key(&validator_key(i as u8)),
        })
        .collect()
}

/// Two issuers (justice with key 1, transport with key 2), two kinds.
fn registry() -> Registry {
    Registry {
        issuers: vec![
            IssuerRecord {
                issuer: id("justice"),
                name: "People's Court".into(),
                kinds: vec![kind("no-criminal-record")],
                keys: vec![key_record(1)],
            },
            IssuerRecord {
                issuer: id("transport"),
                name: "Transport Bureau".into(),
                kinds: vec![kind("driver-licence")],
                keys: vec![key_record(2)],
            },
        ],
        kinds: vec![
            KindRecord {
                kind: kind("driver-licence"),
                content_hash: Hash32([1; 32]),
            },
            KindRecord {
                kind: kind("no-criminal-record"),
                content_hash: Hash32([2; 32]),
            },
        ],
        governance_seq: 0,
    }
}

fn body(action: GovernanceAction) -> GovernanceBody {
    GovernanceBody {
        chain_id: chain(),
        seq: 0,
        action,
    }
}

fn signed(body: GovernanceBody, signers: &[u8]) -> GovernanceTx {
    let approvals = signers
        .iter()
        .map(|&i| approve(&validator_key(i), u16::from(i), &body).unwrap())
        .collect();
    GovernanceTx { body, approvals }
}

fn check(tx: &GovernanceTx, registry: &Registry) -> Result<(), VerifyError> {
    check_governance(tx, &chain(), &validators(), registry, AT)
}

fn register_key(seed: u8) -> GovernanceAction {
    GovernanceAction::RegisterIssuerKey(RegisterIssuerKey {
        issuer: id("justice"),
        key: issuer_key(seed),
        valid_from: AT,
    })
}

/// `issuer` rotates its key `old` (by seed) to `new`, from `valid_from`.
fn rotate(issuer: &str, old: u8, new: u8, valid_from: UnixTime) -> GovernanceAction {
    GovernanceAction::RotateIssuerKey(RotateIssuerKey {
        issuer: id(issuer),
        old_key_id: key_record(old).key_id,
        new_key: issuer_key(new),
        valid_from,
    })
}

/// `issuer` retires its key `seed` at `at`.
fn retire(issuer: &str, seed: u8, at: UnixTime) -> GovernanceAction {
    GovernanceAction::RetireIssuerKey(RetireIssuerKey {
        issuer: id(issuer),
        key_id: key_record(seed).key_id,
        at,
    })
}

fn every_action() -> Vec<GovernanceAction> {
    vec![
        register_key(3),
        rotate("justice", 1, 3, AT.plus(3600)),
        retire("transport", 2, AT),
        GovernanceAction::RegisterIssuer(IssuerRecord {
            issuer: id("health"),
            name: "Health Commission".into(),
            kinds: vec![kind("driver-licence"), kind("no-criminal-record")],
            keys: vec![key_record(4), key_record(5)],
        }),
        GovernanceAction::AddKind(KindRecord {
            kind: kind("birth-certificate"),
            content_hash: Hash32([3; 32]),
        }),
        GovernanceAction::GrantKind(GrantKind {
            issuer: id("justice"),
            kind: kind("driver-licence"),
        }),
        GovernanceAction::ReviseKind(KindRecord {
            kind: kind("no-criminal-record"),
            content_hash: Hash32([7; 32]),
        }),
    ]
}

#[test]
fn every_action_with_a_quorum_is_accepted_and_applies() {
    for action in every_action() {
        for signers in [&[0u8, 1, 2][..], &[0, 1, 2, 3], &[1, 2, 3]] {
            let tx = signed(body(action.clone()), signers);
            check(&tx, &registry()).unwrap();
        }
        let tx = signed(body(action.clone()), &[0, 2, 3]);
        let mut applied = registry();
        apply_governance(&mut applied, &tx.body).unwrap();
        assert_eq!(applied.governance_seq, 1);
        assert_ne!(applied, registry());
        // Still sorted by id after inserting.
        assert!(applied
            .issuers
            .windows(2)
            .all(|w| w[0].issuer < w[1].issuer));
        assert!(applied.kinds.windows(2).all(|w| w[0].kind < w[1].kind));
        assert!(applied
            .issuers
            .iter()
            .all(|i| i.kinds.windows(2).all(|w| w[0] < w[1])));
        // Once applied, the same change is a replay.
        assert_eq!(
            check(&tx, &applied),
            Err(VerifyError::GovernanceSeqMismatch {
                expected: 1,
                found: 0
            })
        );
    }
}

#[test]
fn rotation_and_retirement_set_validity_without_touching_the_past() {
    let mut r = registry();
    let rotate = body(every_action().remove(1));
    apply_governance(&mut r, &rotate).unwrap();
    let justice = r.issuer(&id("justice")).unwrap();
    assert_eq!(justice.keys.len(), 2);
    assert_eq!(justice.keys[0].valid_from, UnixTime(0));
    assert_eq!(justice.keys[0].valid_until, Some(AT.plus(3600)));
    assert_eq!(justice.keys[1].key_id, KeyId::of(&issuer_key(3)));
    assert_eq!(justice.keys[1].valid_from, AT.plus(3600));
    assert_eq!(justice.keys[1].valid_until, None);

    // Bringing a scheduled retirement forward is allowed; pushing it back is not.
    let sooner = GovernanceBody {
        seq: 1,
        ..body(retire("justice", 1, AT.plus(60)))
    };
    check(&signed(sooner.clone(), &[0, 1, 2]), &r).unwrap();
    let later = GovernanceBody {
        seq: 1,
        ..body(retire("justice", 1, AT.plus(7200)))
    };
    assert_eq!(
        check(&signed(later, &[0, 1, 2]), &r),
        Err(key_retired("justice", 1, AT.plus(3600)))
    );
    apply_governance(&mut r, &sooner).unwrap();
    assert_eq!(
        r.issuer(&id("justice")).unwrap().keys[0].valid_until,
        Some(AT.plus(60))
    );
}

#[test]
fn too_few_approvals_are_refused() {
    for signers in [&[][..], &[0u8][..], &[0, 1], &[2, 3]] {
        let tx = signed(body(register_key(3)), signers);
        assert_eq!(
            check(&tx, &registry()),
            Err(VerifyError::TooFewApprovals {
                approvals: signers.len(),
                validators: 4
            })
        );
    }
    // Counted before anything else about the action is looked at.
    let tx = signed(body(register_key(1)), &[0, 1]);
    assert!(matches!(
        check(&tx, &registry()),
        Err(VerifyError::TooFewApprovals { .. })
    ));
    // And the signing helper will not assemble one either.
    let b = body(register_key(3));
    let two = signed(b.clone(), &[0, 1]).approvals;
    assert_eq!(assemble_governance(b.clone(), two.clone(), 4), None);
    let mut three = two;
    three.push(approve(&validator_key(3), 3, &b).unwrap());
    three.push(approve(&validator_key(0), 0, &b).unwrap());
    three.reverse();
    let tx = assemble_governance(b, three, 4).unwrap();
    assert_eq!(
        tx.approvals.iter().map(|a| a.validator).collect::<Vec<_>>(),
        [0, 1, 3]
    );
    check(&tx, &registry()).unwrap();
}

#[test]
fn an_approval_from_outside_the_validator_set_is_refused() {
    let b = body(register_key(3));
    let mut tx = signed(b.clone(), &[0, 1, 2]);
    tx.approvals.push(Approval {
        validator: 4,
        signature: crypto::sign(&validator_key(4), SigningContext::Governance, &[]),
    });
    assert_eq!(
        check(&tx, &registry()),
        Err(VerifyError::UnknownValidator {
            validator: 4,
            validators: 4
        })
    );
}

#[test]
fn repeated_or_unordered_approvals_are_refused() {
    let b = body(register_key(3));
    // Validator 1 twice makes four approvals from three validators.
    let mut twice = signed(b.clone(), &[0, 1, 2]);
    twice.approvals.insert(2, twice.approvals[1].clone());
    assert_eq!(
        check(&twice, &registry()),
        Err(VerifyError::DuplicateApproval { validator: 1 })
    );
    let mut unordered = signed(b, &[0, 1, 2]);
    unordered.approvals.swap(0, 2);
    // [2, 1, 0]: the first approval out of order is validator 1's.
    assert_eq!(
        check(&unordered, &registry()),
        Err(VerifyError::DuplicateApproval { validator: 1 })
    );
}

#[test]
fn a_bad_approval_signature_is_refused() {
    let b = body(register_key(3));
    let mut flipped = signed(b.clone(), &[0, 1, 2]);
    flipped.approvals[1].signature.0[7] ^= 1;
    assert_eq!(
        check(&flipped, &registry()),
        Err(VerifyError::BadApprovalSignature { validator: 1 })
    );
    // Validator 2's approval of another change.
    let mut other_body = signed(b.clone(), &[0, 1, 2]);
    other_body.approvals[2] = approve(&validator_key(2), 2, &body(register_key(4))).unwrap();
    assert_eq!(
        check(&other_body, &registry()),
        Err(VerifyError::BadApprovalSignature { validator: 2 })
    );
    // The right bytes signed in another context (a header vote).
    let mut other_context = signed(b.clone(), &[0, 1, 2]);
    other_context.approvals[0].signature = crypto::sign(
        &validator_key(0),
        SigningContext::HeaderVote,
        &b.to_bytes().unwrap(),
    );
    assert_eq!(
        check(&other_context, &registry()),
        Err(VerifyError::BadApprovalSignature { validator: 0 })
    );
    // Signed by a key that is not validator 1's.
    let mut impostor = signed(b.clone(), &[0, 1, 2]);
    impostor.approvals[1] = approve(&validator_key(7), 1, &b).unwrap();
    assert_eq!(
        check(&impostor, &registry()),
        Err(VerifyError::BadApprovalSignature { validator: 1 })
    );
}

#[test]
fn a_replayed_or_early_sequence_number_is_refused() {
    let mut ahead = body(register_key(3));
    ahead.seq = 1;
    assert_eq!(
        check(&signed(ahead, &[0, 1, 2]), &registry()),
        Err(VerifyError::GovernanceSeqMismatch {
            expected: 0,
            found: 1
        })
    );
    let mut later = registry();
    later.governance_seq = 5;
    assert_eq!(
        check(&signed(body(register_key(3)), &[0, 1, 2]), &later),
        Err(VerifyError::GovernanceSeqMismatch {
            expected: 5,
            found: 0
        })
    );
}

#[test]
fn another_chain_is_refused() {
    let mut b = body(register_key(3));
    b.chain_id = ChainId::new("other-province").unwrap();
    assert!(matches!(
        check(&signed(b, &[0, 1, 2]), &registry()),
        Err(VerifyError::TransactionRefused { .. })
    ));
}

fn refused(action: GovernanceAction) -> VerifyError {
    check(&signed(body(action), &[0, 1, 2]), &registry()).unwrap_err()
}

/// The refusal of a change naming key `seed` of `issuer`, which it does not have.
fn unknown_key(issuer: &str, seed: u8) -> VerifyError {
    VerifyError::UnknownIssuerKey {
        issuer: id(issuer),
        key_id: key_record(seed).key_id,
    }
}

/// The refusal of a change registering key `seed` for `issuer`, which it already has.
fn key_already_registered(issuer: &str, seed: u8) -> VerifyError {
    VerifyError::IssuerKeyAlreadyRegistered {
        issuer: id(issuer),
        key_id: key_record(seed).key_id,
    }
}

/// The refusal of a change to key `seed` of `issuer`, retired `since`.
fn key_retired(issuer: &str, seed: u8, since: UnixTime) -> VerifyError {
    VerifyError::IssuerKeyRetired {
        issuer: id(issuer),
        key_id: key_record(seed).key_id,
        since,
    }
}

#[test]
fn unknown_issuers_keys_and_kinds_are_refused() {
    let mut unknown_issuer = register_key(3);
    if let GovernanceAction::RegisterIssuerKey(a) = &mut unknown_issuer {
        a.issuer = id("health");
    }
    assert_eq!(
        refused(unknown_issuer),
        VerifyError::UnknownIssuer(id("health"))
    );
    assert_eq!(
        refused(rotate("justice", 2, 3, AT)),
        unknown_key("justice", 2)
    );
    assert_eq!(
        refused(retire("transport", 1, AT)),
        unknown_key("transport", 1)
    );
    assert_eq!(
        refused(GovernanceAction::GrantKind(GrantKind {
            issuer: id("justice"),
            kind: kind("id-card"),
        })),
        VerifyError::UnknownKind(kind("id-card"))
    );
    assert_eq!(
        refused(GovernanceAction::RegisterIssuer(IssuerRecord {
            issuer: id("health"),
            name: "Health Commission".into(),
            kinds: vec![kind("id-card")],
            keys: vec![key_record(4)],
        })),
        VerifyError::UnknownKind(kind("id-card"))
    );
}

#[test]
fn what_is_already_registered_is_refused() {
    assert_eq!(
        refused(register_key(1)),
        key_already_registered("justice", 1)
    );
    // Rotating to the same key.
    assert_eq!(
        refused(rotate("justice", 1, 1, AT)),
        key_already_registered("justice", 1)
    );
    assert_eq!(
        refused(GovernanceAction::RegisterIssuer(IssuerRecord {
            issuer: id("transport"),
            name: "Transport Bureau".into(),
            kinds: vec![],
            keys: vec![key_record(4)],
        })),
        VerifyError::IssuerAlreadyRegistered(id("transport"))
    );
    assert_eq!(
        refused(GovernanceAction::RegisterIssuer(IssuerRecord {
            issuer: id("health"),
            name: "Health Commission".into(),
            kinds: vec![],
            keys: vec![key_record(4), key_record(4)],
        })),
        key_already_registered("health", 4)
    );
    assert_eq!(
        refused(GovernanceAction::AddKind(KindRecord {
            kind: kind("driver-licence"),
            content_hash: Hash32([9; 32]),
        })),
        VerifyError::KindAlreadyRegistered(kind("driver-licence"))
    );
    assert!(matches!(
        refused(GovernanceAction::GrantKind(GrantKind {
            issuer: id("transport"),
            kind: kind("driver-licence"),
        })),
        VerifyError::TransactionRefused { .. }
    ));
}

#[test]
fn a_revision_names_a_registered_kind_and_a_new_hash() {
    let revise = |k: &str, hash: u8| {
        GovernanceAction::ReviseKind(KindRecord {
            kind: kind(k),
            content_hash: Hash32([hash; 32]),
        })
    };
    // Not registered: there is nothing to revise (AddKind adds it).
    assert_eq!(
        refused(revise("id-card", 7)),
        VerifyError::UnknownKind(kind("id-card"))
    );
    // The registered hash again.
    let e = refused(revise("no-criminal-record", 2));
    assert!(
        matches!(&e, VerifyError::TransactionRefused { detail } if detail.contains("already registered with content hash")),
        "{e:?}"
    );
    // Applied, the record takes the new hash in its place; the same revision again is a
    // replay, and once the sequence is right, the hash it names is the registered one.
    let tx = signed(body(revise("no-criminal-record", 7)), &[0, 1, 2]);
    check(&tx, &registry()).unwrap();
    let mut applied = registry();
    apply_governance(&mut applied, &tx.body).unwrap();
    assert_eq!(
        applied
            .kind(&kind("no-criminal-record"))
            .unwrap()
            .content_hash,
        Hash32([7; 32])
    );
    assert_eq!(applied.kinds.len(), registry().kinds.len());
    assert_eq!(applied.issuers, registry().issuers);
    let mut again = body(revise("no-criminal-record", 7));
    again.seq = 1;
    assert!(matches!(
        check(&signed(again, &[0, 1, 2]), &applied),
        Err(VerifyError::TransactionRefused { .. })
    ));
    // Applying a revision of a kind the registry lacks changes nothing.
    let mut unchanged = registry();
    assert_eq!(
        apply_governance(&mut unchanged, &body(revise("id-card", 7))),
        Err(VerifyError::UnknownKind(kind("id-card")))
    );
    assert_eq!(unchanged, registry());
}

/// The built-in kinds with `revised` in place of the built-in kind of its id.
fn kinds_with(revised: &Kind) -> KindRegistry {
    let mut kinds = KindRegistry::default();
    for k in KindRegistry::builtin().unwrap().iter() {
        kinds
            .add(if k.id == revised.id { revised } else { k }.clone())
            .unwrap();
    }
    kinds
}

/// The built-in no-criminal-record file with `from` replaced by `to`, as a new version.
fn revised_record(from: &str, to: &str) -> Kind {
    let builtin = KindRegistry::builtin().unwrap();
    let old = builtin.get_str("no-criminal-record").unwrap();
    let text = ecert_schemas::kinds::BUILTIN_KIND_FILES
        .iter()
        .find(|(name, _)| *name == "no-criminal-record.toml")
        .unwrap()
        .1;
    let version = format!("version = {}\n", old.version);
    assert!(text.contains(&version) && text.contains(from));
    let text = text
        .replacen(&version, &format!("version = {}\n", old.version + 1), 1)
        .replacen(from, to, 1);
    Kind::from_toml("no-criminal-record.toml", &text).unwrap()
}

#[test]
fn certificates_issued_before_a_compatible_revision_verify_under_it_from_its_block_on() {
    let mut world = World::new();
    let t = world.now;
    // A certificate of the kind in both formats, issued under the registered file.
    let copies = world.issue_copies_now("justice", sample::no_criminal_record(t), 3);
    let old = KindRegistry::builtin().unwrap();
    let old = old.get_str("no-criminal-record").unwrap().clone();
    let revised = revised_record(
        "description = \"The result of a criminal-record check for a stated purpose.\"",
        "description = \"The result of a criminal-record check, for the purpose stated.\"",
    );
    old.check_revision(&revised).unwrap();
    // With an optional field more, the revision is refused: a copy's field tree has one
    // leaf per field of the kind, so copies already issued would no longer verify.
    let grown = revised_record(
        "# Derived facts",
        "[[fields]]\nnumber = 6\nkey = \"note\"\nlabel = \"Note\"\ntype = \"text\"\n\
         mandatory = false\n\n# Derived facts",
    );
    assert!(matches!(
        old.check_revision(&grown),
        Err(RevisionError::FieldAdded { number: 6, .. })
    ));

    // The validators approve the revision; it applies in a block of its own.
    let registry = world.province.ledger().registry().clone();
    let body = GovernanceBody {
        chain_id: world.province.ledger().chain_id().clone(),
        seq: registry.governance_seq,
        action: GovernanceAction::ReviseKind(revised.record()),
    };
    let keys = world.province.validator_keys();
    let approvals = (0u16..)
        .zip(&keys)
        .map(|(i, key)| approve(key, i, &body).unwrap())
        .collect();
    let tx = assemble_governance(body, approvals, keys.len()).unwrap();
    world
        .province
        .commit_block(&[Transaction::Governance(tx)], t.minus(60))
        .unwrap();
    assert_eq!(
        world
            .province
            .ledger()
            .registry()
            .kind(&kind("no-criminal-record"))
            .unwrap()
            .content_hash,
        revised.content_hash
    );

    let synced = |kinds: KindRegistry| {
        let province = &world.province;
        TrustStore::from_bundle(
            province.trust_bundle().unwrap(),
            &province.trust_anchor().unwrap(),
            kinds,
        )
        .unwrap()
    };
    let format1 = world.show(&world.record, &["result", "purpose"], t);
    let format2 = world.show_copy(&copies, 0, &["result", "purpose", "no_record"], t);
    let policy = Policy::default();
    // A counter with the revised file: both verify.
    let store = synced(kinds_with(&revised));
    for qr in [&format1, &format2] {
        let verdict = verify_presentation(qr, &store, t, &policy).unwrap();
        assert_eq!(verdict.certificates[0].kind, kind("no-criminal-record"));
    }
    // A counter still with the registered file: the kind is unknown from the revision on.
    let store = synced(KindRegistry::builtin().unwrap());
    for qr in [&format1, &format2] {
        assert_eq!(
            verify_presentation(qr, &store, t, &policy).unwrap_err(),
            VerifyError::UnknownKind(kind("no-criminal-record"))
        );
    }
    // Had a field been added, format-1 certificates would still verify, but not copies.
    let store = synced(kinds_with(&grown));
    assert!(verify_presentation(&format2, &store, t, &policy).is_err());
}

#[test]
fn retirement_cannot_reach_into_the_past_or_repeat() {
    for action in [
        retire("justice", 1, AT.minus(1)),
        rotate("justice", 1, 3, AT.minus(1)),
    ] {
        let e = refused(action);
        assert!(
            matches!(&e, VerifyError::TransactionRefused { detail } if detail.contains("before the block time")),
            "{e:?}"
        );
    }
    // A key already retired cannot be retired again (nor rotated away).
    let mut r = registry();
    r.issuers[0].keys[0].valid_until = Some(AT);
    for action in [
        retire("justice", 1, AT.plus(10)),
        rotate("justice", 1, 3, AT),
    ] {
        assert_eq!(
            check(&signed(body(action), &[0, 1, 2]), &r),
            Err(key_retired("justice", 1, AT))
        );
    }
}

#[test]
fn malformed_new_issuers_and_keys_are_refused() {
    let mut identity = [0u8; 32];
    identity[0] = 1; // a small-order point: never usable
    let weak = PublicKeyBytes(identity);
    let mut weak_action = register_key(3);
    if let GovernanceAction::RegisterIssuerKey(a) = &mut weak_action {
        a.key = weak;
    }
    let health = |keys: Vec<IssuerKeyRecord>, kinds: Vec<KindId>, name: &str| {
        GovernanceAction::RegisterIssuer(IssuerRecord {
            issuer: id("health"),
            name: name.into(),
            kinds,
            keys,
        })
    };
    let mut wrong_id = key_record(4);
    wrong_id.key_id = KeyId([0; 8]);
    let mut retired = key_record(4);
    retired.valid_until = Some(AT);
    let weak_record = IssuerKeyRecord {
        key_id: KeyId::of(&weak),
        key: weak,
        valid_from: AT,
        valid_until: None,
    };
    let unsorted = vec![kind("no-criminal-record"), kind("driver-licence")];
    for action in [
        weak_action,
        health(vec![wrong_id], vec![], "Health"),
        health(vec![retired], vec![], "Health"),
        health(vec![weak_record], vec![], "Health"),
        health(vec![key_record(4)], unsorted, "Health"),
        health(vec![key_record(4)], vec![], "  "),
    ] {
        let e = refused(action.clone());
        assert!(
            matches!(e, VerifyError::TransactionRefused { .. }),
            "{action:?}: {e:?}"
        );
    }
}

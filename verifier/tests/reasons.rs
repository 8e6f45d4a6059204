//! One test per verification reason: every way a presentation or a trust bundle can be
//! wrong is refused with its own typed reason, and a good one is accepted.
//!
//! Certificates are issued, anchored and certified with the real issuer, ledger and wallet
//! code through the test kit's world (the in-process province); attackers' forgeries come from
//! the test kit's `attacker`.

// Test fixtures outside #[test] functions: a failure is a test failure.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use ecert_schemas::certificate::Certificate;
use ecert_schemas::codec::ByteBuf;
use ecert_schemas::ledger::{RevocationReason, Transaction, TrustBundle};
use ecert_schemas::{
    CertificateId, CertificatePackage, Disclosure, FieldValue, KindId, KindRegistry, Nonce,
    Presentation, PresentedCertificate, Salt, UnixTime,
};
use ecert_testkit::province::Province;
use ecert_testkit::world::{item, FIXED_NOW as NOW};
use ecert_testkit::{attacker, sample, World, DAY, HOUR};
use ecert_verifier::{verify_presentation, Policy, TrustStore, Verdict, VerifyError};
use ecert_wallet::{present, HolderKey, Selection};
use ed25519_dalek::SigningKey;
use rand_core::OsRng;

/// The shared world at the fixed "now": an ID card and a no-criminal-record certificate
/// issued and anchored an hour before.
fn world() -> World {
    World::at(NOW)
}

fn show_id(w: &World) -> String {
    w.show_all(
        &[(&w.id_card, &["name", "sex", "birth_date", "id_number"])],
        NOW,
        None,
    )
}

fn verify(qr: &str, store: &TrustStore) -> Result<Verdict, VerifyError> {
    verify_presentation(qr, store, NOW, &Policy::default())
}

/// Why a counter synced now refuses `fields` of `package` shown now by the world's wallet.
fn refusal(w: &World, package: &CertificatePackage, fields: &[&str]) -> VerifyError {
    verify(&w.show(package, fields, NOW), &w.store()).unwrap_err()
}

/// A counter's trust store synced from `bundle`, checked against the world's trust anchor.
fn sync(w: &World, bundle: TrustBundle) -> Result<TrustStore, VerifyError> {
    TrustStore::from_bundle(
        bundle,
        &w.province.trust_anchor().unwrap(),
        w.province.kinds.clone(),
    )
}

/// Signs `items` as a holder proof with any key: what an attacker's wallet would do.
fn sign_items(
    items: &[PresentedCertificate],
    signer: &SigningKey,
    time: UnixTime,
    nonce: Option<Nonce>,
) -> String {
    attacker::sign_items(items, signer, time, nonce)
}

/// A certificate signed by `key` claiming to come from `issuer`, for `holder`.
fn forge(issuer: &str, key: &SigningKey, kind: &str, holder: &HolderKey) -> CertificatePackage {
    attacker::forge_certificate(issuer, key, kind, holder.public_key(), NOW)
}

/// An ID card for the world's wallet claiming to come from `issuer`, signed by a new key
/// that nobody registered.
fn forge_with_a_new_key(w: &World, issuer: &str) -> CertificatePackage {
    forge(
        issuer,
        &SigningKey::generate(&mut OsRng),
        "id-card",
        w.wallet(),
    )
}

fn holder_signing_key(seed: u8) -> (HolderKey, SigningKey) {
    let seed = zeroize::Zeroizing::new([seed; 32]);
    (HolderKey::from_seed(&seed), SigningKey::from_bytes(&seed))
}

#[test]
fn a_valid_presentation_is_accepted_with_only_the_chosen_fields() {
    let w = world();
    let qr = w.show_all(
        &[
            (&w.id_card, &["name", "id_number"]),
            (&w.record, &["result"]),
        ],
        NOW,
        None,
    );
    let verdict = verify(&qr, &w.store()).unwrap();
    assert_eq!(verdict.holder, w.wallet().public_key());
    assert_eq!(verdict.certificates.len(), 2);
    let id = &verdict.certificates[0];
    assert_eq!(id.kind.as_str(), "id-card");
    assert_eq!(id.issuer.as_str(), "public-security");
    let keys: Vec<&str> = id.disclosed.iter().map(|d| d.key.as_str()).collect();
    assert_eq!(keys, ["name", "id_number"]);
    assert_eq!(
        id.disclosed[1].value,
        FieldValue::Text(sample::ID_NUMBER.into())
    );
    let record = &verdict.certificates[1];
    assert_eq!(record.issuer.as_str(), "justice");
    assert_eq!(record.disclosed.len(), 1);
    assert!(!qr.contains("address"));
}

#[test]
fn malformed() {
    let w = world();
    let store = w.store();
    for bad in [
        "",
        "hello",
        "EC1R:",
        "EC1R:AAAA",
        "EC1R:bb8",
        "EC1Z:BB8",
        "HC1:6BFOXN",
    ] {
        assert!(
            matches!(verify(bad, &store), Err(VerifyError::Malformed(_))),
            "{bad:?}"
        );
    }
}

#[test]
fn unsupported_version() {
    let w = world();
    let store = w.store();
    let qr = show_id(&w);
    let newer = qr.replacen("EC1", "EC2", 1);
    assert!(matches!(
        verify(&newer, &store),
        Err(VerifyError::UnsupportedVersion { found: 2, .. })
    ));
    let mut p = Presentation::from_qr_string(&qr).unwrap();
    p.version = 3;
    let qr3 = p.to_qr_string().unwrap();
    assert!(matches!(
        verify(&qr3, &store),
        Err(VerifyError::UnsupportedVersion {
            what: "presentation",
            found: 3,
            supported: 2,
        })
    ));
    // Format 2's number on format 1's structure: read as format 2, which it is not.
    p.version = 2;
    let qr2 = p.to_qr_string().unwrap();
    assert!(matches!(
        verify(&qr2, &store),
        Err(VerifyError::Malformed(_))
    ));
}

#[test]
fn unknown_kind() {
    let w = world();
    let mut kinds = KindRegistry::default();
    for k in w
        .province
        .kinds
        .iter()
        .filter(|k| k.id.as_str() != "id-card")
    {
        kinds.add(k.clone()).unwrap();
    }
    let bundle = w.province.trust_bundle().unwrap();
    let store =
        TrustStore::from_bundle(bundle, &w.province.trust_anchor().unwrap(), kinds).unwrap();
    assert!(
        matches!(verify(&show_id(&w), &store), Err(VerifyError::UnknownKind(k)) if k.as_str() == "id-card")
    );
}

/// A certificate package a counter refuses whoever shows it: what is wrong with it, how it
/// is made in a fresh [`world`], the fields shown, and whether the refusal gives the right
/// reason.
struct Refused {
    what: &'static str,
    make: fn(&mut World) -> CertificatePackage,
    fields: &'static [&'static str],
    reason: fn(&VerifyError) -> bool,
}

#[test]
fn forged_altered_and_out_of_date_certificates_are_refused_with_their_reason() {
    let cases = [
        Refused {
            what: "an issuer the ledger does not know",
            make: |w| forge_with_a_new_key(w, "education"),
            fields: &["name"],
            reason: |e| matches!(e, VerifyError::UnknownIssuer(i) if i.as_str() == "education"),
        },
        Refused {
            what: "a registered issuer's name with a key the ledger does not know",
            make: |w| forge_with_a_new_key(w, "public-security"),
            fields: &["name"],
            reason: |e| matches!(e, VerifyError::UnknownIssuerKey { .. }),
        },
        Refused {
            what: "the transport bureau's real key on an ID card",
            make: |w| {
                let department = w.province.department("transport").unwrap();
                let transport_key = SigningKey::from_bytes(&department.issuer_key.seed());
                forge("transport", &transport_key, "id-card", w.wallet())
            },
            fields: &["name"],
            reason: |e| {
                matches!(e, VerifyError::IssuerNotEntitled { issuer, kind }
                    if issuer.as_str() == "transport" && kind.as_str() == "id-card")
            },
        },
        Refused {
            what: "a flipped bit in the issuer's signature",
            make: |w| {
                let mut package = w.id_card.clone();
                let last = package.certificate.len() - 1;
                package.certificate[last] ^= 0x01;
                package
            },
            fields: &["name"],
            reason: |e| matches!(e, VerifyError::BadIssuerSignature { .. }),
        },
        Refused {
            what: "backdated before the key was registered (genesis is 30 days ago)",
            make: |w| {
                let order = sample::id_card(NOW);
                w.issue_one(
                    "public-security",
                    order,
                    NOW.minus(40 * DAY),
                    NOW.minus(HOUR),
                )
            },
            fields: &["name"],
            reason: |e| matches!(e, VerifyError::IssuerKeyNotValidAtIssue { .. }),
        },
        Refused {
            what: "expired ten seconds ago",
            make: |w| {
                let mut order = sample::no_criminal_record(NOW);
                order.valid_from = NOW.minus(10 * DAY);
                order.expires = NOW.minus(10);
                w.issue_one("justice", order, NOW.minus(2 * DAY), NOW.minus(2 * DAY))
            },
            fields: &["result"],
            reason: |e| matches!(e, VerifyError::Expired { expired_at } if *expired_at == NOW.minus(10)),
        },
        Refused {
            what: "valid from tomorrow",
            make: |w| {
                let mut order = sample::no_criminal_record(NOW);
                order.valid_from = NOW.plus(DAY);
                order.expires = NOW.plus(30 * DAY);
                w.issue_one("justice", order, NOW.minus(HOUR), NOW.minus(HOUR))
            },
            fields: &["result"],
            reason: |e| matches!(e, VerifyError::NotYetValid { .. }),
        },
        Refused {
            what: "a disclosed value that does not match its digest",
            make: |w| {
                let mut package = w.id_card.clone();
                let name_at = package
                    .disclosures
                    .iter()
                    .position(|d| Disclosure::from_bytes(d).unwrap().field == 0)
                    .unwrap();
                let mut d = Disclosure::from_bytes(&package.disclosures[name_at]).unwrap();
                d.value = FieldValue::Text("李四".into());
                package.disclosures[name_at] = ByteBuf::from(d.to_bytes().unwrap());
                package
            },
            fields: &["name"],
            reason: |e| matches!(e, VerifyError::DisclosureMismatch { field } if field == "name"),
        },
    ];
    for case in cases {
        let mut w = world();
        let package = (case.make)(&mut w);
        let refused = refusal(&w, &package, case.fields);
        assert!((case.reason)(&refused), "{}: {refused:?}", case.what);
    }
}

#[test]
fn the_ledger_refuses_to_anchor_a_kind_the_issuer_is_not_entitled_to() {
    let mut w = world();
    let transport = w.province.department("transport").unwrap();
    let transport_key = SigningKey::from_bytes(&transport.issuer_key.seed());
    let package = forge("transport", &transport_key, "id-card", w.wallet());
    let issued = ecert_issuer::IssuedCertificate {
        id: CertificateId([1; 16]),
        certificate: package.certificate.to_vec(),
        disclosures: package.disclosures.iter().map(|d| d.to_vec()).collect(),
    };
    let batch = ecert_issuer::Batch::new(&transport.issuer_key, vec![issued]).unwrap();
    let tx = Transaction::AnchorBatch(
        batch
            .anchor_transaction(&transport.issuer_key, w.province.ledger().chain_id())
            .unwrap(),
    );
    assert!(matches!(
        w.province.ledger().check(&tx, NOW.secs() * 1000),
        Err(VerifyError::IssuerNotEntitled { .. })
    ));
    assert!(
        w.province.commit_block(&[tx], NOW).is_err(),
        "a block of only refused transactions was cut"
    );
}

#[test]
fn disclosure_of_a_field_the_kind_does_not_have() {
    let w = world();
    let mut it = item(&w.id_card, 0);
    let bogus = Disclosure {
        salt: Salt([0; 16]),
        field: 99,
        value: FieldValue::Text("x".into()),
    };
    it.disclosures
        .push(ByteBuf::from(bogus.to_bytes().unwrap()));
    let wallet_key = SigningKey::from_bytes(&w.wallet().seed());
    let qr = sign_items(&[it], &wallet_key, NOW, None);
    assert!(matches!(
        verify(&qr, &w.store()),
        Err(VerifyError::DisclosureInvalid { .. })
    ));
}

#[test]
fn a_missing_or_broken_holder_proof_is_refused() {
    let w = world();
    let shown = Presentation::from_qr_string(&show_id(&w)).unwrap();
    let mut missing = shown.clone();
    missing.holder = None;
    let mut broken = shown;
    if let Some(h) = broken.holder.as_mut() {
        h.signature.0[10] ^= 0x40;
    }
    let store = w.store();
    for (p, reason) in [
        (missing, VerifyError::HolderProofMissing),
        (broken, VerifyError::HolderProofBad),
    ] {
        assert_eq!(verify(&p.to_qr_string().unwrap(), &store), Err(reason));
    }
}

#[test]
fn holder_proof_from_another_wallet() {
    let w = world();
    // A copy of the citizen's certificate, signed by someone else's wallet.
    let (_, thief) = holder_signing_key(42);
    let qr = sign_items(&[item(&w.id_card, 2)], &thief, NOW, None);
    assert!(matches!(
        verify(&qr, &w.store()),
        Err(VerifyError::HolderProofBad)
    ));
    // And the thief's own wallet refuses to present a certificate that is not its own.
    let (thief_wallet, _) = holder_signing_key(42);
    let sel = [Selection {
        package: &w.id_card,
        fields: vec!["name".into()],
    }];
    assert!(matches!(
        present(&thief_wallet, &w.province.kinds, &sel, NOW, None),
        Err(ecert_wallet::WalletError::NotOurCertificate)
    ));
}

#[test]
fn holder_proof_outside_the_time_window() {
    let w = world();
    let store = w.store();
    let qr = show_id(&w);
    // A screenshot, 61 seconds later.
    let later = verify_presentation(&qr, &store, NOW.plus(61), &Policy::default());
    assert!(matches!(
        later,
        Err(VerifyError::HolderProofOutsideWindow { .. })
    ));
    // Still fine at 60 seconds.
    assert!(verify_presentation(&qr, &store, NOW.plus(60), &Policy::default()).is_ok());
    // From a wallet whose clock runs 5 minutes ahead.
    let future = w.show_all(&[(&w.id_card, &["name"])], NOW.plus(300), None);
    assert!(matches!(
        verify(&future, &store),
        Err(VerifyError::HolderProofOutsideWindow { .. })
    ));
}

#[test]
fn nonce_mismatch() {
    let w = world();
    let store = w.store();
    let challenge = Nonce::new(vec![1, 2, 3, 4, 5, 6, 7, 8]).unwrap();
    let policy = Policy {
        expected_nonce: Some(challenge.clone()),
        ..Policy::default()
    };
    let answered = w.show_all(&[(&w.id_card, &["name"])], NOW, Some(challenge));
    let verdict = verify_presentation(&answered, &store, NOW, &policy).unwrap();
    assert!(verdict.nonce_checked);
    let other = w.show_all(
        &[(&w.id_card, &["name"])],
        NOW,
        Some(Nonce::new(vec![9; 8]).unwrap()),
    );
    assert!(matches!(
        verify_presentation(&other, &store, NOW, &policy),
        Err(VerifyError::NonceMismatch)
    ));
    let none = w.show_all(&[(&w.id_card, &["name"])], NOW, None);
    assert!(matches!(
        verify_presentation(&none, &store, NOW, &policy),
        Err(VerifyError::NonceMismatch)
    ));
}

#[test]
fn certificates_of_different_holders() {
    let mut w = world();
    let other = HolderKey::generate(&mut OsRng);
    let theirs = w
        .province
        .issue_and_anchor(
            "justice",
            other.public_key(),
            &[sample::no_criminal_record(NOW)],
            NOW.minus(HOUR),
            &mut OsRng,
        )
        .unwrap()
        .remove(0);
    let wallet_key = SigningKey::from_bytes(&w.wallet().seed());
    let qr = sign_items(
        &[item(&w.id_card, 1), item(&theirs, 1)],
        &wallet_key,
        NOW,
        None,
    );
    assert!(matches!(
        verify(&qr, &w.store()),
        Err(VerifyError::MixedHolders)
    ));
}

#[test]
fn anchor_proof_invalid() {
    let mut w = world();
    // A batch of three, so that audit paths are not empty.
    let orders = [
        sample::id_card(NOW),
        sample::id_card(NOW),
        sample::id_card(NOW),
    ];
    let issued = w
        .province
        .issue(
            "public-security",
            w.wallet().public_key(),
            &orders,
            NOW.minus(HOUR),
            &mut OsRng,
        )
        .unwrap();
    let packages = w
        .province
        .anchor("public-security", issued, NOW.minus(HOUR))
        .unwrap();
    let store = w.store();
    assert!(verify(&w.show_all(&[(&packages[1], &["name"])], NOW, None), &store).is_ok());

    let mut bent_path = packages[1].clone();
    bent_path.anchor.path[0].0[0] ^= 1;
    let mut wrong_leaf = packages[1].clone();
    wrong_leaf.anchor.leaf_index = 2;
    let mut other_issuers_batch = packages[1].clone();
    other_issuers_batch.anchor.batch_seq = w.record.anchor.batch_seq;
    for bad in [bent_path, wrong_leaf, other_issuers_batch] {
        let qr = w.show_all(&[(&bad, &["name"])], NOW, None);
        assert!(
            matches!(
                verify(&qr, &store),
                Err(VerifyError::AnchorProofInvalid { .. })
            ),
            "{:?}",
            bad.anchor
        );
    }
}

#[test]
fn anchored_after_the_counters_last_sync() {
    let mut w = world();
    let old_store = w.store();
    let fresh = w.issue_one(
        "justice",
        sample::no_criminal_record(NOW),
        NOW.minus(60),
        NOW.minus(60),
    );
    let qr = w.show_all(&[(&fresh, &["result"])], NOW, None);
    assert!(matches!(
        verify(&qr, &old_store),
        Err(VerifyError::HeaderUnknown { .. })
    ));
    assert!(verify(&qr, &w.store()).is_ok(), "after a sync it verifies");
}

#[test]
fn header_not_certified() {
    let w = world();
    let good = w.province.trust_bundle().unwrap();
    // Two votes of four: no quorum.
    let mut short = good.clone();
    short.checkpoint.votes.truncate(2);
    // A vote from a validator that does not exist.
    let mut stranger = good.clone();
    stranger.checkpoint.votes[3].validator = 7;
    // A forged vote.
    let mut forged = good.clone();
    forged.checkpoint.votes[0].signature.0[0] ^= 1;
    // A repeated vote counted twice.
    let mut repeated = good.clone();
    repeated.checkpoint.votes[1] = repeated.checkpoint.votes[0].clone();
    // A validator set the header does not commit to.
    let mut other_set = good.clone();
    other_set.validators.pop();
    for (name, bundle) in [
        ("short", short),
        ("stranger", stranger),
        ("forged", forged),
        ("repeated", repeated),
        ("other set", other_set),
    ] {
        let result = sync(&w, bundle);
        assert!(
            matches!(result, Err(VerifyError::HeaderNotCertified { .. })),
            "{name}: {result:?}"
        );
    }
}

#[test]
fn synced_data_that_the_header_does_not_commit_to_is_refused() {
    let w = world();
    let good = w.province.trust_bundle().unwrap();
    let mut fewer_anchors = good.clone();
    fewer_anchors.anchors.pop();
    let mut edited_registry = good.clone();
    edited_registry.registry.issuers[0]
        .kinds
        .push(KindId::new("id-card").unwrap());
    let mut hidden_revocation = good.clone();
    hidden_revocation.revocations.height += 1;
    for bundle in [fewer_anchors, edited_registry, hidden_revocation] {
        let result = sync(&w, bundle);
        assert!(
            matches!(result, Err(VerifyError::TrustDataMismatch { .. })),
            "{result:?}"
        );
    }
    // A bundle survives its own encoding.
    let bytes = good.to_bytes().unwrap();
    assert!(sync(&w, TrustBundle::from_bytes(&bytes).unwrap()).is_ok());
}

#[test]
fn a_bundle_from_another_ledger_or_validator_set_is_refused() {
    let w = world();
    // An impostor runs its own "ledger" with its own validators and certifies it properly.
    let mut impostor = Province::new("ecert-test", NOW.minus(30 * DAY), &mut OsRng).unwrap();
    let rogue = impostor
        .issue_and_anchor(
            "public-security",
            w.wallet().public_key(),
            &[sample::id_card(NOW)],
            NOW.minus(HOUR),
            &mut OsRng,
        )
        .unwrap()
        .remove(0);
    let forged_bundle = impostor.trust_bundle().unwrap();
    assert!(matches!(
        sync(&w, forged_bundle),
        Err(VerifyError::HeaderNotCertified { .. })
    ));
    // The impostor's certificate fails against the real ledger's data.
    let qr = w.show_all(&[(&rogue, &["name"])], NOW, None);
    assert!(verify(&qr, &w.store()).is_err());
    // A bundle for another chain id.
    let other = Province::new("ecert-elsewhere", NOW.minus(30 * DAY), &mut OsRng).unwrap();
    let mut other_chain = w.province.trust_bundle().unwrap();
    other_chain.chain_id = other.ledger().chain_id().clone();
    assert!(matches!(
        sync(&w, other_chain),
        Err(VerifyError::TrustDataMismatch { .. })
    ));
}

#[test]
fn revoked() {
    let mut w = world();
    let qr = w.show_all(
        &[(&w.id_card, &["name"]), (&w.record, &["result"])],
        NOW,
        None,
    );
    assert!(verify(&qr, &w.store()).is_ok());
    let index = Certificate::from_bytes(&w.record.certificate)
        .unwrap()
        .claims
        .status_index;
    w.province
        .revoke(
            "justice",
            &[index],
            RevocationReason::Withdrawn,
            NOW.minus(30),
        )
        .unwrap();
    assert!(matches!(
        verify(&qr, &w.store()),
        Err(VerifyError::Revoked { issuer, index: i }) if issuer.as_str() == "justice" && i == index
    ));
    // The other department's certificate with the same status index is unaffected.
    let id_only = w.show_all(&[(&w.id_card, &["name"])], NOW, None);
    assert_eq!(
        Certificate::from_bytes(&w.id_card.certificate)
            .unwrap()
            .claims
            .status_index,
        index
    );
    assert!(verify(&id_only, &w.store()).is_ok());
}

#[test]
fn revocation_data_older_than_the_policy_allows() {
    let w = world();
    let store = w.store();
    let later = NOW.plus(25 * HOUR);
    let qr = w.show_all(&[(&w.id_card, &["name"])], later, None);
    assert!(matches!(
        verify_presentation(&qr, &store, later, &Policy::default()),
        Err(VerifyError::RevocationDataTooOld { max_secs, .. }) if max_secs == 24 * HOUR
    ));
    let lenient = Policy {
        max_revocation_age_secs: 48 * HOUR,
        ..Policy::default()
    };
    assert!(verify_presentation(&qr, &store, later, &lenient).is_ok());
}

#[test]
fn every_single_bit_flip_of_a_valid_presentation_string_is_rejected() {
    let w = world();
    let store = w.store();
    let qr = show_id(&w);
    assert!(verify(&qr, &store).is_ok());
    let mut checked = 0;
    for i in 0..qr.len() {
        // Bit 7 would leave ASCII, and a scanner's output is ASCII: flip bits 0 to 6.
        for bit in 0..7 {
            let mut bytes = qr.clone().into_bytes();
            bytes[i] ^= 1 << bit;
            let flipped = String::from_utf8(bytes).unwrap();
            assert!(
                verify(&flipped, &store).is_err(),
                "flip of bit {bit} at {i} accepted"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, qr.len() * 7);
}

/// The built-in kinds, but with the ID card's `age_over_18` computed as "aged 80 or over":
/// what a department's software with a wrong rule would issue.
fn kinds_with_a_wrong_rule() -> KindRegistry {
    let mut kinds = KindRegistry::default();
    for kind in KindRegistry::builtin().unwrap().iter() {
        let mut kind = kind.clone();
        if kind.id.as_str() == "id-card" {
            let fact = kind
                .fields
                .iter_mut()
                .find(|f| f.key == "age_over_18")
                .unwrap();
            fact.derived = Some(ecert_schemas::DerivedRule::AgeAtLeast {
                field: "birth_date".into(),
                years: 80,
            });
        }
        kinds.add(kind).unwrap();
    }
    kinds
}

#[test]
fn a_derived_fact_that_disagrees_with_the_field_it_comes_from_is_refused() {
    let mut w = world();
    // Shown together, the issued fact and the date of birth agree.
    let qr = w.show(
        &w.id_card,
        &["birth_date", "age_over_18", "age_over_60"],
        NOW,
    );
    let verdict = verify(&qr, &w.store()).unwrap();
    let values: Vec<&FieldValue> = verdict.certificates[0]
        .disclosed
        .iter()
        .map(|d| &d.value)
        .collect();
    assert_eq!(
        values,
        [
            &FieldValue::Text("1990-03-07".into()),
            &FieldValue::Bool(true),
            &FieldValue::Bool(false)
        ]
    );

    // A card signed and anchored by the department with a wrong rule says "no" for a
    // citizen born in 1990.
    let right = std::mem::replace(&mut w.province.kinds, kinds_with_a_wrong_rule());
    let wrong = w.issue_now("public-security", sample::id_card(NOW));
    w.province.kinds = right;
    // Alone, a counter cannot tell: the fact is what the department signed.
    let verdict = verify(&w.show(&wrong, &["age_over_18"], NOW), &w.store()).unwrap();
    assert_eq!(
        verdict.certificates[0].disclosed[0].value,
        FieldValue::Bool(false)
    );
    // With the date of birth, it can, in either order of the fields asked for.
    for fields in [
        &["birth_date", "age_over_18"][..],
        &["age_over_18", "birth_date"],
    ] {
        match refusal(&w, &wrong, fields) {
            VerifyError::DisclosureInvalid { detail } => assert!(
                detail.contains(
                    "\"age_over_18\" is no, but \"birth_date\" (1990-03-07) makes it yes"
                ),
                "{detail}"
            ),
            other => panic!("{other:?}"),
        }
    }
    // The other fact of that card is right, and shows.
    assert!(verify(
        &w.show(&wrong, &["birth_date", "age_over_60"], NOW),
        &w.store()
    )
    .is_ok());
}

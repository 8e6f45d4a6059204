//! Format 2 end to end in one process: a department issues ID cards as one-time copies in
//! a batch of more than 1,000 copies, a wallet shows one copy, a counter verifies it; and
//! every way of bending a copy is refused. The unlinkability property: two presentations
//! of one certificate share no byte string of 8 bytes or more outside what the holder
//! disclosed and what the whole batch shares (batch, kind, validity).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::HashSet;
use std::sync::OnceLock;

use ecert_schemas::codec::ByteBuf;
use ecert_schemas::copy::{AnyPresentation, CopyPackage, PresentationV2, PresentedCopy};
use ecert_schemas::ledger::RevocationReason;
use ecert_schemas::{Disclosure, FieldValue, Hash16, Nonce, UnixTime};
use ecert_testkit::world::{DAY, FIXED_NOW as NOW, HOUR};
use ecert_testnet::province::Province;
use ecert_testnet::sample;
use ecert_verifier::{verify_presentation, Policy, TrustStore, VerifyError};
use ecert_wallet::{present_copies, CopySelection, HolderKey};
use proptest::prelude::*;
use rand_core::OsRng;

const FOUR: [&str; 4] = ["name", "sex", "birth_date", "id_number"];

struct Copies {
    province: Province,
    wallet: HolderKey,
    stranger: HolderKey,
    /// Our ID card: 30 copies, anchored with 34 others' in one batch (1,050 copies).
    card: CopyPackage,
    /// Our no-criminal-record certificate (another department, another batch).
    record: CopyPackage,
    /// A stranger's ID card in the same batch as ours.
    strangers_card: CopyPackage,
}

fn copies() -> &'static Copies {
    static WORLD: OnceLock<Copies> = OnceLock::new();
    WORLD.get_or_init(|| {
        let mut province = Province::new("ecert-copies", NOW.minus(DAY), &mut OsRng).unwrap();
        let wallet = HolderKey::generate(&mut OsRng);
        let stranger = HolderKey::generate(&mut OsRng);
        let at = NOW.minus(HOUR);
        let order = sample::id_card(NOW);
        let mut issued = province
            .issue_copies(
                "public-security",
                wallet.public_key(),
                std::slice::from_ref(&order),
                30,
                at,
                &mut OsRng,
            )
            .unwrap();
        issued.extend(
            province
                .issue_copies(
                    "public-security",
                    stranger.public_key(),
                    &vec![order; 34],
                    30,
                    at,
                    &mut OsRng,
                )
                .unwrap(),
        );
        let mut packages = province
            .anchor_copies("public-security", issued, at, &mut OsRng)
            .unwrap();
        let card = packages.remove(0);
        let strangers_card = packages.remove(0);
        let record = province
            .issue_copies(
                "justice",
                wallet.public_key(),
                &[sample::no_criminal_record(NOW)],
                30,
                at,
                &mut OsRng,
            )
            .unwrap();
        let record = province
            .anchor_copies("justice", record, at, &mut OsRng)
            .unwrap()
            .remove(0);
        Copies {
            province,
            wallet,
            stranger,
            card,
            record,
            strangers_card,
        }
    })
}

fn store() -> TrustStore {
    copies().province.sync_counter().unwrap()
}

fn show(package: &CopyPackage, copy: usize, fields: &[&str], time: UnixTime) -> PresentationV2 {
    let w = copies();
    present_copies(
        &w.wallet,
        &w.province.kinds,
        &[CopySelection {
            package,
            copy,
            fields: fields.iter().map(|f| f.to_string()).collect(),
        }],
        time,
        None,
    )
    .unwrap()
}

fn verify(p: &PresentationV2, store: &TrustStore) -> Result<ecert_verifier::Verdict, VerifyError> {
    verify_presentation(&p.to_qr_string().unwrap(), store, NOW, &Policy::default())
}

/// Re-signs `p` after its items were changed (so that only the change is judged).
fn resign(items: &[PresentedCopy], package: &CopyPackage, copy: usize) -> PresentationV2 {
    use ecert_schemas::presentation::HolderSignedData;
    use ecert_verifier::crypto::SigningContext;
    let mut p = show(package, copy, &[], NOW);
    p.items = ByteBuf::from(PresentationV2::encode_items(items).unwrap());
    let signed = HolderSignedData {
        time: p.holder.time,
        nonce: None,
        items_hash: p.items_hash(),
    };
    let key = copies().wallet.copy_key(&package.copies[copy].secret);
    p.holder.signature = key.sign(SigningContext::HolderProofV2, &signed.to_bytes().unwrap());
    p
}

#[test]
fn a_copy_in_a_batch_of_a_thousand_verifies_in_under_900_characters() {
    let w = copies();
    assert!(
        w.card.copies[0].path.len() >= 10,
        "a batch of over 1,000 copies"
    );
    let p = show(&w.card, 3, &FOUR, NOW);
    let qr = p.to_qr_string().unwrap();
    let verdict = verify(&p, &store()).unwrap();
    let cert = &verdict.certificates[0];
    assert_eq!(cert.kind.as_str(), "id-card");
    assert_eq!(cert.id, None, "a copy shows no certificate id");
    let keys: Vec<&str> = cert.disclosed.iter().map(|d| d.key.as_str()).collect();
    assert_eq!(keys, FOUR);
    eprintln!(
        "ID card, 4 fields, one copy in a batch of {} copies: {} characters",
        35 * 30,
        qr.len()
    );
    assert!(qr.len() <= 900, "{} characters", qr.len());
    assert!(matches!(
        AnyPresentation::from_qr_string(&qr).unwrap(),
        AnyPresentation::V2(_)
    ));
}

#[test]
fn two_certificates_of_one_wallet_are_linked_and_a_strangers_is_not() {
    let w = copies();
    let both = present_copies(
        &w.wallet,
        &w.province.kinds,
        &[
            CopySelection {
                package: &w.card,
                copy: 5,
                fields: vec!["name".into(), "id_number".into()],
            },
            CopySelection {
                package: &w.record,
                copy: 5,
                fields: vec!["result".into(), "purpose".into()],
            },
        ],
        NOW,
        None,
    )
    .unwrap();
    let verdict = verify(&both, &store()).unwrap();
    assert_eq!(verdict.certificates.len(), 2);
    assert_eq!(verdict.certificates[1].kind.as_str(), "no-criminal-record");

    // The stranger's card with our record: the stranger's wallet signs its part, but
    // nobody can link two wallets' copies.
    let mixed = present_copies(
        &w.stranger,
        &w.province.kinds,
        &[CopySelection {
            package: &w.strangers_card,
            copy: 0,
            fields: vec!["name".into()],
        }],
        NOW,
        None,
    )
    .unwrap();
    let ours = show(&w.record, 6, &["result"], NOW);
    let mut items = mixed.decode_items().unwrap();
    items.extend(ours.decode_items().unwrap());
    let mut forged = mixed.clone();
    forged.items = ByteBuf::from(PresentationV2::encode_items(&items).unwrap());
    let signed = ecert_schemas::presentation::HolderSignedData {
        time: NOW,
        nonce: None,
        items_hash: forged.items_hash(),
    }
    .to_bytes()
    .unwrap();
    let theirs = w.stranger.copy_key(&w.strangers_card.copies[0].secret);
    let mine = w.wallet.copy_key(&w.record.copies[6].secret);
    forged.holder.signature = theirs.sign(
        ecert_verifier::crypto::SigningContext::HolderProofV2,
        &signed,
    );
    forged.holder.links = vec![mine.link_from(&theirs, &signed)];
    assert!(matches!(
        verify(&forged, &store()),
        Err(VerifyError::MixedHolders)
    ));
    // Without the link at all: the holder proof is incomplete.
    forged.holder.links.clear();
    assert!(matches!(
        verify(&forged, &store()),
        Err(VerifyError::HolderProofBad)
    ));
}

#[test]
fn bent_copies_are_refused() {
    let w = copies();
    let store = store();
    let good = show(&w.card, 7, &FOUR, NOW);
    let items = good.decode_items().unwrap();

    // Another value for a disclosed field: the field root changes, the issuer's signature fails.
    let mut changed = items.clone();
    let mut d = Disclosure::from_bytes(&changed[0].disclosures[0]).unwrap();
    d.value = FieldValue::Text("王五".into());
    changed[0].disclosures[0] = ByteBuf::from(d.to_bytes().unwrap());
    assert!(matches!(
        verify(&resign(&changed, &w.card, 7), &store),
        Err(VerifyError::BadIssuerSignature { .. })
    ));
    // A proof hash more: the fields do not fit the kind's tree.
    let mut longer = items.clone();
    longer[0].field_proof.push(Hash16([0; 16]));
    assert!(matches!(
        verify(&resign(&longer, &w.card, 7), &store),
        Err(VerifyError::DisclosureInvalid { .. })
    ));
    // Another place in the batch.
    let mut moved = items.clone();
    moved[0].leaf_index ^= 1;
    assert!(matches!(
        verify(&resign(&moved, &w.card, 7), &store),
        Err(VerifyError::AnchorProofInvalid { .. })
    ));
    // Another kind of the batch (it has one).
    let mut kind = items.clone();
    kind[0].kind_index = 1;
    assert!(matches!(
        verify(&resign(&kind, &w.card, 7), &store),
        Err(VerifyError::AnchorProofInvalid { .. })
    ));
    // A later expiry.
    let mut later = items.clone();
    later[0].expires = later[0].expires.plus(DAY);
    assert!(matches!(
        verify(&resign(&later, &w.card, 7), &store),
        Err(VerifyError::BadIssuerSignature { .. })
    ));
    // Someone else's copy key in place of ours.
    let mut key = items;
    key[0].holder = w
        .strangers_card
        .copies
        .first()
        .map(|_| {
            w.stranger
                .copy_key(&w.strangers_card.copies[0].secret)
                .public_key()
        })
        .unwrap();
    let p = resign(&key, &w.card, 7);
    assert!(matches!(
        verify(&p, &store),
        Err(VerifyError::HolderProofBad)
    ));
    // A holder proof for another nonce.
    let policy = Policy {
        expected_nonce: Some(Nonce::new(vec![1; 16]).unwrap()),
        ..Policy::default()
    };
    let qr = good.to_qr_string().unwrap();
    assert!(matches!(
        verify_presentation(&qr, &store, NOW, &policy),
        Err(VerifyError::NonceMismatch)
    ));
    // Too old a holder proof.
    let old = show(&w.card, 7, &FOUR, NOW.minus(3600));
    assert!(matches!(
        verify(&old, &store),
        Err(VerifyError::HolderProofOutsideWindow { .. })
    ));
}

#[test]
fn revoking_a_certificate_revokes_every_copy() {
    let mut province = Province::new("ecert-copies-revoke", NOW.minus(DAY), &mut OsRng).unwrap();
    let wallet = HolderKey::generate(&mut OsRng);
    let at = NOW.minus(HOUR);
    let issued = province
        .issue_copies(
            "public-security",
            wallet.public_key(),
            &[sample::id_card(NOW)],
            30,
            at,
            &mut OsRng,
        )
        .unwrap();
    let card = province
        .anchor_copies("public-security", issued, at, &mut OsRng)
        .unwrap()
        .remove(0);
    let kinds = province.kinds.clone();
    let presentation = |copy: usize| {
        present_copies(
            &wallet,
            &kinds,
            &[CopySelection {
                package: &card,
                copy,
                fields: vec!["name".into()],
            }],
            NOW,
            None,
        )
        .unwrap()
        .to_qr_string()
        .unwrap()
    };
    let before = province.sync_counter().unwrap();
    assert!(verify_presentation(&presentation(0), &before, NOW, &Policy::default()).is_ok());
    let indexes: Vec<_> = card.copies.iter().map(|c| c.status_index).collect();
    province
        .revoke(
            "public-security",
            &indexes,
            RevocationReason::Withdrawn,
            NOW.minus(60),
        )
        .unwrap();
    let after = province.sync_counter().unwrap();
    for copy in [0, 13, 29] {
        assert!(matches!(
            verify_presentation(&presentation(copy), &after, NOW, &Policy::default()),
            Err(VerifyError::Revoked { .. })
        ));
    }
}

/// The byte positions of `needle` in `hay`, every occurrence.
fn occurrences(hay: &[u8], needle: &[u8]) -> Vec<usize> {
    if needle.is_empty() || needle.len() > hay.len() {
        return Vec::new();
    }
    (0..=hay.len() - needle.len())
        .filter(|&i| &hay[i..i + needle.len()] == needle)
        .collect()
}

/// The 8-byte windows of a presentation's bytes that touch nothing the counter may
/// legitimately see twice: the disclosed values, the moment of showing, and what the
/// whole batch shares (its position in the anchor log, its tree's nodes on the copy's
/// path, the kind's index and the validity times, issued alike to every certificate of a
/// batch).
fn private_windows(p: &PresentationV2) -> HashSet<Vec<u8>> {
    let bytes = p.to_bytes().unwrap();
    let mut allowed = vec![false; bytes.len()];
    let mut mark = |needle: &[u8]| {
        for at in occurrences(&bytes, needle) {
            allowed[at..at + needle.len()]
                .iter_mut()
                .for_each(|b| *b = true);
        }
    };
    for item in p.decode_items().unwrap() {
        let shared = ecert_schemas::codec::to_cbor(&(
            item.kind_index,
            item.issued_at,
            item.valid_from,
            item.expires,
        ))
        .unwrap();
        mark(&shared[1..]); // without the tuple's array header
        mark(&ecert_schemas::codec::to_cbor(&item.batch_seq).unwrap());
        for node in &item.path {
            mark(&node.0);
        }
        for d in &item.disclosures {
            let d = Disclosure::from_bytes(d).unwrap();
            mark(&ecert_schemas::codec::to_cbor(&d.value).unwrap());
        }
    }
    mark(&ecert_schemas::codec::to_cbor(&p.holder.time).unwrap());
    (0..bytes.len().saturating_sub(7))
        .filter(|&i| !allowed[i..i + 8].iter().any(|&a| a))
        .map(|i| bytes[i..i + 8].to_vec())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn two_presentations_of_one_certificate_share_nothing_but_what_is_shown(
        a in 0usize..30,
        b in 0usize..30,
        fields_a in proptest::sample::subsequence(FOUR.to_vec(), 0..=4),
        fields_b in proptest::sample::subsequence(FOUR.to_vec(), 0..=4),
        t_a in 0u64..50,
        t_b in 0u64..50,
    ) {
        prop_assume!(a != b);
        let w = copies();
        let pa = show(&w.card, a, &fields_a, NOW.minus(t_a));
        let pb = show(&w.card, b, &fields_b, NOW.minus(t_b));
        let shared: Vec<_> = private_windows(&pa).intersection(&private_windows(&pb)).cloned().collect();
        prop_assert!(shared.is_empty(), "shared byte strings: {:02x?}", shared);
        // And both still verify.
        let store = store();
        prop_assert!(verify(&pa, &store).is_ok());
        prop_assert!(verify(&pb, &store).is_ok());
    }
}

#[test]
fn the_same_copy_twice_is_linkable_which_is_why_a_wallet_spends_each_once() {
    let w = copies();
    let one = private_windows(&show(&w.card, 9, &["name"], NOW));
    let again = private_windows(&show(&w.card, 9, &["sex"], NOW.minus(5)));
    assert!(
        !one.is_disjoint(&again),
        "the property test's check can fail"
    );
}

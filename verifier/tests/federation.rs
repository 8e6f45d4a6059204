//! Federation across provinces: a national trust list approved by more than two thirds of
//! the national keys names two provinces' ledgers; a counter that pins the national anchor
//! verifies offline a citizen's certificates from either — also both in one QR code — and
//! stops trusting a province the next list leaves out.

// Test fixtures outside #[test] functions: a failure is a test failure.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use ecert_schemas::federation::{NationalAnchor, NationalTrustList, ProvinceEntry};
use ecert_schemas::ChainId;
use ecert_testkit::federation::{self, national_anchor, national_keys, province_entry};
use ecert_testkit::world::FIXED_NOW as NOW;
use ecert_testkit::{World, DAY};
use ecert_verifier::federation::{approve_trust_list, verify_trust_list, Federation};
use ecert_verifier::{commit, Policy, VerifyError};

/// A province's entry for `world`'s ledger, allowed `kinds` (all built-in kinds if none).
fn entry(name: &str, world: &World, kinds: &[&str]) -> ProvinceEntry {
    province_entry(name, world, kinds)
}

/// Version `seq` of the list naming `provinces`, approved by the national keys `signers`.
fn trust_list(seq: u64, provinces: Vec<ProvinceEntry>, signers: &[u16]) -> NationalTrustList {
    federation::trust_list(seq, provinces, NOW.minus(DAY), NOW.plus(30 * DAY), signers)
}

/// Two provinces whose ledgers issued to the same citizen.
fn two_provinces() -> (World, World) {
    let west = World::builder().chain("ecert-west").now(NOW).build();
    let holder = west.wallet().public_key();
    let east = World::builder()
        .chain("ecert-east")
        .now(NOW)
        .build_for(holder);
    (west, east)
}

#[test]
fn a_citizen_of_one_province_shows_a_qr_code_at_a_counter_of_the_other() {
    let (west, east) = two_provinces();
    let list = trust_list(
        1,
        vec![entry("West", &west, &[]), entry("East", &east, &[])],
        &[0, 1, 3],
    );
    let list = verify_trust_list(&list, &national_anchor(), NOW).unwrap();
    assert_eq!(list.approvals(), 3);
    let mut counter = Federation::new(list.clone());
    // Each province's data is checked against the anchor the list gives for it.
    for world in [&west, &east] {
        let anchor = list
            .province_anchor(world.province.ledger().chain_id())
            .unwrap();
        assert_eq!(anchor, world.province.trust_anchor().unwrap());
        counter.add(world.store()).unwrap();
    }
    let policy = Policy::default();

    // A West citizen's ID card at an East counter (the same counter serves both).
    let qr = west.show(&west.id_card, &["name"], NOW);
    let verdict = counter.verify_presentation(&qr, NOW, &policy).unwrap();
    assert_eq!(verdict.certificates[0].ledger.as_str(), "ecert-west");
    // One QR code with certificates from both provinces.
    let both = west.show_all(
        &[(&west.id_card, &["name"]), (&east.record, &["result"])],
        NOW,
        None,
    );
    let verdict = counter.verify_presentation(&both, NOW, &policy).unwrap();
    let ledgers: Vec<&str> = verdict
        .certificates
        .iter()
        .map(|c| c.ledger.as_str())
        .collect();
    assert_eq!(ledgers, ["ecert-west", "ecert-east"]);
    // The single-ledger check refuses the other province's certificate.
    assert!(ecert_verifier::verify_presentation(&both, &west.store(), NOW, &policy).is_err());

    // The next list leaves East out: its data is dropped and its certificates stop
    // verifying; an older list is not taken back.
    let next = trust_list(2, vec![entry("West", &west, &[])], &[0, 1, 2, 3]);
    let next = verify_trust_list(&next, &national_anchor(), NOW).unwrap();
    let dropped = counter.replace_list(next).unwrap();
    assert_eq!(dropped, [ChainId::new("ecert-east").unwrap()]);
    let e = counter
        .verify_presentation(&both, NOW, &policy)
        .unwrap_err();
    assert_eq!(e.code(), "province-unknown", "{e}");
    assert!(counter.verify_presentation(&qr, NOW, &policy).is_ok());
    let e = counter.replace_list(list).unwrap_err();
    assert_eq!(e.code(), "trust-data-mismatch", "{e}");
    // A province not on the list cannot be added.
    let e = counter.add(east.store()).unwrap_err();
    assert_eq!(e.code(), "province-unknown", "{e}");
}

#[test]
fn the_list_limits_what_each_province_may_issue() {
    let (west, east) = two_provinces();
    let list = trust_list(
        1,
        vec![
            entry("West", &west, &[]),
            entry("East", &east, &["driver-licence"]),
        ],
        &[0, 1, 2],
    );
    let mut counter = Federation::new(verify_trust_list(&list, &national_anchor(), NOW).unwrap());
    counter.add(west.store()).unwrap();
    counter.add(east.store()).unwrap();
    let qr = west.show_all(&[(&east.record, &["result"])], NOW, None);
    let e = counter
        .verify_presentation(&qr, NOW, &Policy::default())
        .unwrap_err();
    assert!(
        matches!(&e, VerifyError::ProvinceNotEntitled { province, kind }
            if province.as_str() == "ecert-east" && kind.as_str() == "no-criminal-record"),
        "{e}"
    );
    // Each province's own rules still hold: its data must be fresh enough.
    let late = NOW.plus(2 * DAY);
    let qr = west.show(&west.id_card, &["name"], late);
    let e = counter
        .verify_presentation(&qr, late, &Policy::default())
        .unwrap_err();
    assert_eq!(e.code(), "revocation-data-too-old", "{e}");
}

#[test]
fn only_a_list_more_than_two_thirds_of_the_national_keys_approve_counts() {
    let (west, east) = two_provinces();
    let provinces = vec![entry("West", &west, &[]), entry("East", &east, &[])];
    let anchor = national_anchor();
    let code = |list: &NationalTrustList, now| {
        verify_trust_list(list, &anchor, now)
            .map(|_| ())
            .unwrap_err()
            .code()
    };
    // Two of four is not more than two thirds.
    let two = trust_list(1, provinces.clone(), &[0, 3]);
    assert_eq!(code(&two, NOW), "trust-list-not-approved");
    // A forged, repeated or unknown approval.
    let mut forged = trust_list(1, provinces.clone(), &[0, 1, 2]);
    forged.body.seq = 9;
    assert_eq!(code(&forged, NOW), "trust-data-mismatch");
    let mut repeated = trust_list(1, provinces.clone(), &[0, 1, 2]);
    repeated.approvals[2] = repeated.approvals[1].clone();
    assert_eq!(code(&repeated, NOW), "trust-data-mismatch");
    let mut unknown = trust_list(1, provinces.clone(), &[0, 1, 2]);
    unknown.approvals[2].signer = 7;
    assert_eq!(code(&unknown, NOW), "trust-data-mismatch");
    // Another federation's list; an expired one.
    let good = trust_list(1, provinces.clone(), &[1, 2, 3]);
    let elsewhere = NationalAnchor {
        federation: ChainId::new("elsewhere").unwrap(),
        ..national_anchor()
    };
    let e = verify_trust_list(&good, &elsewhere, NOW).unwrap_err();
    assert_eq!(e.code(), "trust-data-mismatch");
    assert_eq!(code(&good, NOW.plus(31 * DAY)), "trust-list-expired");
    // Provinces out of order or repeated.
    let mut unsorted = good.clone();
    unsorted.body.provinces.reverse();
    let keys = national_keys();
    unsorted.approvals = [1u16, 2, 3]
        .iter()
        .map(|&i| approve_trust_list(&keys[usize::from(i)], i, &unsorted.body).unwrap())
        .collect();
    assert_eq!(code(&unsorted, NOW), "trust-data-mismatch");
    // The wire form round-trips strictly.
    let bytes = good.to_bytes().unwrap();
    assert_eq!(NationalTrustList::from_bytes(&bytes).unwrap(), good);
    // A province's data signed by another validator set than the list names is refused.
    let twin = World::builder().chain("ecert-west").now(NOW).build();
    let mut counter = Federation::new(verify_trust_list(&good, &anchor, NOW).unwrap());
    let e = counter.add(twin.store()).unwrap_err();
    assert_eq!(e.code(), "header-not-certified", "{e}");
    assert_ne!(
        commit::validators_hash(twin.store().validators()).unwrap(),
        commit::validators_hash(west.store().validators()).unwrap()
    );
}

#[test]
fn only_a_higher_version_replaces_the_list_held() {
    use ecert_verifier::federation::{list_version, ListVersion};
    let (west, east) = two_provinces();
    let one = trust_list(1, vec![entry("West", &west, &[])], &[0, 1, 2]).body;
    let two = trust_list(2, vec![entry("West", &west, &[])], &[0, 1, 2]).body;
    let other_one = trust_list(1, vec![entry("East", &east, &[])], &[0, 1, 2]).body;
    assert_eq!(list_version(&two, &one), ListVersion::Newer);
    assert_eq!(list_version(&one, &two), ListVersion::Older);
    assert_eq!(list_version(&one, &one), ListVersion::Same);
    assert_eq!(list_version(&other_one, &one), ListVersion::Conflicting);
}

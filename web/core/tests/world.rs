//! The browser cores end to end, natively: a province issues to a wallet created here, the
//! wallet receives, lists, presents, and a counter synced from the ledger's bundle checks
//! the QR codes; revocations through a verified delta. The same calls the wasm bindings
//! make.

// Test fixtures outside #[test] functions: a failure is a test failure.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod common;

use ecert_schemas::PublicKeyBytes;
use ecert_testkit::world::FIXED_NOW;
use ecert_testkit::{sample, World, DAY, HOUR};
use ecert_wallet::{store, KdfParams};
use ecert_web::counter::{challenge, Counter, Revocations};
use ecert_web::views::{ChoiceInput, KdfSettings, PolicyInput, ValueView};
use ecert_web::wallet::Wallet;
use rand_core::OsRng;
use zeroize::Zeroizing;

fn fast() -> KdfSettings {
    KdfSettings {
        memory_kib: 64,
        passes: 1,
        lanes: 1,
    }
}

fn pass() -> Zeroizing<String> {
    Zeroizing::new("correct horse battery".to_owned())
}

/// A wallet made here, and a world whose departments issued to it.
fn setup() -> (World, Wallet) {
    let wallet = Wallet::create(&mut OsRng).unwrap();
    let holder = PublicKeyBytes::from_hex(&wallet.id()).unwrap();
    let world = World::builder().now(FIXED_NOW).build_for(holder);
    (world, wallet)
}

fn choice(certificate: &str, fields: &[&str]) -> ChoiceInput {
    ChoiceInput {
        certificate: certificate.into(),
        fields: fields.iter().map(|f| f.to_string()).collect(),
    }
}

fn counter(world: &World) -> Counter {
    Counter::sync(&world.bundle_bytes(), &world.anchor_toml(), None, false).unwrap()
}

#[test]
fn receive_list_present_verify() {
    let (world, mut wallet) = setup();
    let now = world.now;
    let id_card = world.id_card.to_bytes().unwrap();
    let record = world.record.to_bytes().unwrap();

    let report = wallet.receive(&[&id_card, &record, &id_card], now).unwrap();
    assert_eq!(report.added.len(), 2);
    assert_eq!(report.already_held, [2]);
    assert_eq!(report.count, 2);
    let again = wallet.receive(&[&record], now).unwrap();
    assert!(again.added.is_empty());

    let list = wallet.list(now).unwrap();
    let card = &list[0];
    assert_eq!(
        (card.kind.as_str(), card.kind_name.as_str()),
        ("id-card", "National ID card")
    );
    assert_eq!(card.kind_name_local.as_deref(), Some("居民身份证"));
    assert_eq!(
        (card.status, card.issuer.as_str()),
        ("valid", "public-security")
    );
    assert_eq!(card.expires_date.len(), 10);
    assert_eq!(list[1].kind, "no-criminal-record");
    assert_eq!(
        wallet.list(now.plus(40 * 365 * DAY)).unwrap()[0].status,
        "expired"
    );

    let details = wallet.describe("id-card", now).unwrap();
    let name = details
        .fields
        .iter()
        .find(|f| f.key.as_deref() == Some("name"))
        .unwrap();
    assert_eq!(name.label.as_deref(), Some("Name"));
    assert_eq!(name.label_local.as_deref(), Some("姓名"));
    assert_eq!(name.value, Some(ValueView::Text("张伟".into())));
    let by_short_id = wallet.describe(&card.short_id[..4], now).unwrap();
    assert_eq!(by_short_id.certificate.id, card.id);

    // A kind with an audience is shown only in answer to a registered counter's request.
    let err = wallet
        .present(
            &[
                choice("id-card", &["name"]),
                choice("no-criminal-record", &["result"]),
            ],
            now,
            None,
            false,
        )
        .unwrap_err();
    assert_eq!(err.code(), "audience-only");
    // Live mode: fields in the kind's order.
    let shown = wallet
        .present(
            &[choice("id-card", &["id_number", "name"])],
            now,
            None,
            false,
        )
        .unwrap();
    assert!(shown.qr.starts_with("EC1"));
    assert!(shown.svg.contains("<svg"));
    assert!(shown.nonce.is_none());
    let keys: Vec<&str> = shown.disclosing[0]
        .fields
        .iter()
        .map(|f| f.key.as_str())
        .collect();
    assert_eq!(keys, ["name", "id_number"]);

    let counter = counter(&world);
    let info = counter.info(now);
    assert_eq!(info.chain_id, "ecert-test");
    assert_eq!((info.votes, info.validators, info.batches), (4, 4, 2));
    assert_eq!(info.age_secs, HOUR);
    assert!(!info.too_old);

    let verdict = counter
        .verify(&shown.qr, now.plus(5), &PolicyInput::default())
        .unwrap();
    assert!(verdict.valid, "{verdict:?}");
    assert_eq!(verdict.holder.as_deref(), Some(wallet.id().as_str()));
    assert_eq!(verdict.revocation_age_secs, HOUR + 5);
    let card = &verdict.certificates[0];
    assert_eq!(card.kind_name_local.as_deref(), Some("居民身份证"));
    let disclosed: Vec<(&str, &str, Option<&str>)> = card
        .disclosed
        .iter()
        .map(|f| (f.key.as_str(), f.text.as_str(), f.label_local.as_deref()))
        .collect();
    assert_eq!(
        disclosed,
        [
            ("name", "张伟", Some("姓名")),
            ("id_number", sample::ID_NUMBER, Some("公民身份号码"))
        ]
    );

    // The same code two minutes later: too old. The data a day later: too old.
    let late = counter
        .verify(&shown.qr, now.plus(120), &PolicyInput::default())
        .unwrap();
    assert_eq!(
        (late.valid, late.code),
        (false, Some("holder-proof-outside-window"))
    );
    assert!(late.certificates.is_empty() && late.holder.is_none());
    let stale = counter
        .verify(&shown.qr, now.plus(DAY), &PolicyInput::default())
        .unwrap();
    assert_eq!(stale.code, Some("revocation-data-too-old"));
    assert!(counter.info(now.plus(DAY)).too_old);
    let garbage = counter
        .verify("EC1R:???", now, &PolicyInput::default())
        .unwrap();
    assert_eq!(garbage.code, Some("malformed"));

    // Challenge mode.
    let nonce = challenge(&mut OsRng).unwrap();
    let answered = wallet
        .present(
            &[choice("id-card", &["name"])],
            now,
            Some(&nonce.to_lowercase()),
            false,
        )
        .unwrap();
    assert_eq!(answered.nonce.as_deref(), Some(nonce.as_str()));
    let policy = |n: &str| PolicyInput {
        expected_nonce: Some(n.to_owned()),
        ..PolicyInput::default()
    };
    let ok = counter.verify(&answered.qr, now, &policy(&nonce)).unwrap();
    assert_eq!((ok.valid, ok.nonce_checked), (true, Some(true)));
    let other = counter.verify(&answered.qr, now, &policy("00ff")).unwrap();
    assert_eq!(other.code, Some("nonce-mismatch"));
    let live = counter.verify(&shown.qr, now, &policy(&nonce)).unwrap();
    assert_eq!(live.code, Some("nonce-mismatch"));

    // What the wallet refuses to present.
    let err = wallet
        .present(&[choice("id-card", &["shoe_size"])], now, None, false)
        .unwrap_err();
    assert_eq!(err.code(), "unknown-field");
    assert!(err.message().contains("id_number"), "{}", err.message());
    let twice = [choice("id-card", &[]), choice(&list[0].short_id, &[])];
    assert_eq!(
        wallet.present(&twice, now, None, false).unwrap_err().code(),
        "bad-choice"
    );
    let err = wallet.describe("driver-licence", now).unwrap_err();
    assert_eq!(err.code(), "no-such-certificate");
}

/// The browser wallet shows and presents a derived fact like any field; the browser
/// counter's view gives it as a yes/no value with its labels in both languages.
#[test]
fn a_derived_fact_is_presented_and_shown_as_yes_or_no() {
    let (world, mut wallet) = setup();
    let now = world.now;
    wallet
        .receive(&[&world.id_card.to_bytes().unwrap()], now)
        .unwrap();
    let details = wallet.describe("id-card", now).unwrap();
    let fact = details
        .fields
        .iter()
        .find(|f| f.key.as_deref() == Some("age_over_18"))
        .unwrap();
    assert_eq!(fact.value, Some(ValueView::Bool(true)));
    assert_eq!(fact.label_local.as_deref(), Some("年满18周岁"));

    let shown = wallet
        .present(&[choice("id-card", &["age_over_18"])], now, None, false)
        .unwrap();
    let verdict = counter(&world)
        .verify(&shown.qr, now, &PolicyInput::default())
        .unwrap();
    assert!(verdict.valid, "{verdict:?}");
    let disclosed = &verdict.certificates[0].disclosed;
    assert_eq!(disclosed.len(), 1);
    assert_eq!(disclosed[0].labels(), "Aged 18 or over / 年满18周岁");
    assert_eq!(disclosed[0].value, ValueView::Bool(true));
    assert_eq!(disclosed[0].text, "yes / 是");
}

#[test]
fn wallet_files_are_the_command_line_wallets() {
    let (world, mut wallet) = setup();
    let id_card = world.id_card.to_bytes().unwrap();
    wallet.receive(&[&id_card], world.now).unwrap();

    // Sealed here, opened by the library the command-line wallet uses; and back.
    let file = wallet.seal(&pass(), fast(), &mut OsRng).unwrap();
    let contents = store::open(&file, &pass()).unwrap();
    assert_eq!(contents.holder.public_key().to_hex(), wallet.id());
    assert_eq!(
        contents.packages,
        vec![ecert_wallet::Held::from(world.id_card.clone())]
    );
    let cli_file = store::seal(
        &contents,
        &pass(),
        KdfParams::new(64, 1, 1).unwrap(),
        &mut OsRng,
    )
    .unwrap();
    let reopened = Wallet::open(&cli_file, &pass()).unwrap();
    assert_eq!(reopened.id(), wallet.id());
    assert_eq!(reopened.list(world.now).unwrap().len(), 1);

    let wrong = Wallet::open(&file, &Zeroizing::new("wrong passphrase".into()));
    assert_eq!(wrong.unwrap_err().code(), "wrong-passphrase");
}

#[test]
fn refusals() {
    let (mut world, mut wallet) = setup();
    let now = world.now;

    // A certificate issued to another wallet: nothing is added.
    let stranger = Wallet::create(&mut OsRng).unwrap();
    let theirs = world.issue_now_to(
        "transport",
        PublicKeyBytes::from_hex(&stranger.id()).unwrap(),
        sample::driver_licence(now),
    );
    let mine = world.id_card.to_bytes().unwrap();
    let err = wallet
        .receive(&[&mine, &theirs.to_bytes().unwrap()], now)
        .unwrap_err();
    assert_eq!(
        (err.code(), err.position()),
        ("issued-to-another-wallet", Some(1))
    );
    assert_eq!(wallet.count(), 0);
    // A disclosure of another certificate (its salt differs).
    let mut damaged = world.id_card.clone();
    damaged.disclosures[0] = world.record.disclosures[0].clone();
    let err = wallet
        .receive(&[&damaged.to_bytes().unwrap()], now)
        .unwrap_err();
    assert_eq!(err.code(), "package-damaged");

    // Trust data: another ledger's anchor, another validator set, older data.
    let bundle = world.bundle_bytes();
    let code = |r: Result<Counter, ecert_web::WebError>| r.map(|_| ()).unwrap_err().code();
    let elsewhere = World::builder().chain("ecert-other").now(now).build();
    assert_eq!(
        code(Counter::sync(
            &bundle,
            &elsewhere.anchor_toml(),
            None,
            false
        )),
        "trust-data-mismatch"
    );
    let twin = World::builder().now(now).build();
    assert_eq!(
        code(Counter::sync(&bundle, &twin.anchor_toml(), None, false)),
        "header-not-certified"
    );
    let mut cut = bundle.clone();
    cut.truncate(bundle.len() - 1);
    assert_eq!(
        code(Counter::sync(&cut, &world.anchor_toml(), None, false)),
        "malformed"
    );
    let height = counter(&world).info(now).height;
    assert_eq!(
        code(Counter::sync(
            &bundle,
            &world.anchor_toml(),
            Some(height + 1),
            false
        )),
        "older-data"
    );
    assert!(Counter::sync(&bundle, &world.anchor_toml(), Some(height + 1), true).is_ok());
    assert!(Counter::sync(&bundle, &world.anchor_toml(), Some(height), false).is_ok());
}

#[test]
fn revocations_through_a_verified_delta() {
    let (mut world, mut wallet) = setup();
    let now = world.now;
    let packages = [
        world.id_card.to_bytes().unwrap(),
        world.record.to_bytes().unwrap(),
    ];
    wallet.receive(&[&packages[0], &packages[1]], now).unwrap();
    let record = world.record.clone();
    world.revoke("justice", &record, now.minus(HOUR / 2));

    let delta = |world: &World, since: u64| {
        let checkpoint = world.province.checkpoint().unwrap();
        world
            .province
            .ledger()
            .revocation_delta(
                since,
                checkpoint,
                world.province.validator_changes().unwrap(),
            )
            .unwrap()
            .unwrap()
            .to_bytes()
            .unwrap()
    };
    let anchor = world.anchor_toml();
    let state = Revocations::from_delta(&delta(&world, 0), &anchor, None).unwrap();
    let info = state.info();
    assert_eq!(info.revoked_count, 1);
    let statuses = wallet.revocation_status(&state, now).unwrap();
    let revoked: Vec<(&str, bool)> = statuses
        .iter()
        .map(|s| (s.certificate.kind.as_str(), s.revoked))
        .collect();
    assert_eq!(revoked, [("id-card", false), ("no-criminal-record", true)]);
    let status_index = ecert_testkit::world::status_index(&record).0;
    assert!(state.is_revoked("justice", status_index).unwrap());
    assert!(!state.is_revoked("public-security", status_index).unwrap());
    assert_eq!(
        state.is_revoked("Not An Id", 0).unwrap_err().code(),
        "bad-argument"
    );

    // Brought up to date from its own height; a delta for another start is refused.
    let same = Revocations::from_delta(&delta(&world, info.height), &anchor, Some(&state)).unwrap();
    assert_eq!(same.info(), info);
    let err = Revocations::from_delta(&delta(&world, 0), &anchor, Some(&state)).unwrap_err();
    assert_eq!(err.code(), "trust-data-mismatch");
    let twin = World::builder().now(now).build();
    let err = Revocations::from_delta(&delta(&world, 0), &twin.anchor_toml(), None).unwrap_err();
    assert_eq!(err.code(), "header-not-certified");

    // Kept between sessions, and checked again when read back.
    let stored = state.to_bytes().unwrap();
    let back = Revocations::from_bytes(&stored, &anchor).unwrap();
    assert_eq!(back.info(), info);
    assert!(back.is_revoked("justice", status_index).unwrap());
    let err = Revocations::from_bytes(&stored, &twin.anchor_toml()).unwrap_err();
    assert_eq!(err.code(), "header-not-certified");
    let err = Revocations::from_bytes(&stored[..stored.len() - 1], &anchor).unwrap_err();
    assert_eq!(err.code(), "malformed");
    // A revocation dropped from the stored lists no longer adds up to the certified root.
    let forged = {
        let empty = ecert_schemas::ledger::RevocationSnapshot {
            height: info.height,
            lists: Vec::new(),
        };
        let full = Revocations::from_delta(&delta(&world, 0), &anchor, None).unwrap();
        let mut bytes = full.to_bytes().unwrap();
        let original = ecert_schemas::codec::to_cbor(state.snapshot()).unwrap();
        let replacement = ecert_schemas::codec::to_cbor(&empty).unwrap();
        let at = bytes
            .windows(original.len())
            .position(|w| w == original.as_slice())
            .unwrap();
        bytes.splice(at..at + original.len(), replacement);
        bytes
    };
    let err = Revocations::from_bytes(&forged, &anchor).unwrap_err();
    assert_eq!(err.code(), "trust-data-mismatch");

    // The counter refuses the revoked certificate, shown in answer to its request.
    let counter = counter(&world);
    let (seed, registration) = common::register(&world, &counter, "office");
    let asked = [common::ask("no-criminal-record", &["result"])];
    let text = common::request(&seed, &registration, &asked, now);
    wallet
        .read_request(&text, &common::registry(&counter), now)
        .unwrap();
    let shown = wallet.answer_request(&[], now).unwrap();
    let verdict = counter
        .verify_answer(&shown.qr, &text, now, &PolicyInput::default())
        .unwrap()
        .verdict;
    assert_eq!(verdict.code, Some("revoked"));
    assert!(verdict.reason.unwrap().contains("justice"));
}

#[test]
fn freshness_statements_bring_the_data_of_an_idle_ledger_forward() {
    let world = World::builder().now(FIXED_NOW.minus(2 * DAY)).build();
    let checkpoint = world.province.checkpoint().unwrap();
    let keys = world.province.validator_keys();
    let fresh = |signers: usize, time| {
        ecert_testkit::province::stated_fresh(&keys, checkpoint, signers, time)
            .unwrap()
            .to_bytes()
            .unwrap()
    };
    // The counter: the data is as of its block until a quorum vouches for a later time.
    let mut counter = counter(&world);
    let before = counter.info(FIXED_NOW);
    let block_time = before.block_time;
    assert!(block_time <= FIXED_NOW.minus(2 * DAY).secs());
    assert_eq!((before.time, before.vouched), (block_time, None));
    assert!(before.too_old);
    let view = counter.apply_freshness(&fresh(3, FIXED_NOW)).unwrap();
    assert_eq!(
        (view.as_of, view.signed, view.validators),
        (FIXED_NOW.secs(), 3, 4)
    );
    let after = counter.info(FIXED_NOW);
    assert_eq!(
        (after.time, after.block_time),
        (FIXED_NOW.secs(), block_time)
    );
    assert_eq!(
        (after.vouched, after.age_secs, after.too_old),
        (Some(3), 0, false)
    );
    // Too few signers, or statements about another block, change nothing.
    let err = counter.apply_freshness(&fresh(2, FIXED_NOW)).unwrap_err();
    assert_eq!(err.code(), "freshness-not-confirmed");
    let twin = World::builder().now(FIXED_NOW.minus(2 * DAY)).build();
    let foreign = ecert_testkit::province::stated_fresh(
        &twin.province.validator_keys(),
        twin.province.checkpoint().unwrap(),
        4,
        FIXED_NOW,
    )
    .unwrap()
    .to_bytes()
    .unwrap();
    assert_eq!(
        counter.apply_freshness(&foreign).unwrap_err().code(),
        "trust-data-mismatch"
    );
    assert_eq!(
        counter.apply_freshness(b"junk").unwrap_err().code(),
        "malformed"
    );
    // Older statements do not move the time back.
    counter
        .apply_freshness(&fresh(4, FIXED_NOW.minus(HOUR)))
        .unwrap();
    assert_eq!(counter.info(FIXED_NOW), after);

    // The wallet's revocation state, the same way.
    let delta = world
        .province
        .ledger()
        .revocation_delta(0, checkpoint, world.province.validator_changes().unwrap())
        .unwrap()
        .unwrap()
        .to_bytes()
        .unwrap();
    let mut state = Revocations::from_delta(&delta, &world.anchor_toml(), None).unwrap();
    assert_eq!(
        (state.info().time, state.info().vouched),
        (block_time, None)
    );
    state.apply_freshness(&fresh(4, FIXED_NOW)).unwrap();
    let info = state.info();
    assert_eq!(
        (info.time, info.block_time, info.vouched),
        (FIXED_NOW.secs(), block_time, Some(4))
    );
    assert_eq!(
        state.apply_freshness(&foreign).unwrap_err().code(),
        "trust-data-mismatch"
    );
    assert_eq!(
        state
            .apply_freshness(&fresh(1, FIXED_NOW))
            .unwrap_err()
            .code(),
        "freshness-not-confirmed"
    );
    assert_eq!(state.info(), info);
    // Not stored with the state: read back, it is as of its block again.
    let back = Revocations::from_bytes(&state.to_bytes().unwrap(), &world.anchor_toml()).unwrap();
    assert_eq!(back.info().time, block_time);
}

#[test]
fn a_counter_catches_up_with_only_what_changed() {
    let mut world = World::new();
    let anchor = world.anchor_toml();
    let held = counter(&world);
    let now = world.now;
    world.issue_now("transport", sample::driver_licence(now));
    let record = world.record.clone();
    world.revoke("justice", &record, now.minus(HOUR));
    let update = world
        .province
        .ledger()
        .trust_update(
            held.store().header(),
            world.province.checkpoint().unwrap().clone(),
            world.province.validator_changes().unwrap(),
        )
        .unwrap()
        .to_bytes()
        .unwrap();

    let updated = held.update(&update, &anchor).unwrap();
    assert_eq!(updated.to_bundle().unwrap(), world.bundle_bytes());
    assert_eq!(updated.info(now).revoked, 1);
    // Stored and read back like a synced export.
    let again = Counter::sync(&updated.to_bundle().unwrap(), &anchor, None, false).unwrap();
    assert_eq!(again.info(now), updated.info(now));
    // Refused: junk, another ledger's anchor, or an update applied twice.
    assert_eq!(
        held.update(b"junk", &anchor).unwrap_err().code(),
        "malformed"
    );
    let twin = World::new();
    assert_eq!(
        held.update(&update, &twin.anchor_toml())
            .unwrap_err()
            .code(),
        "header-not-certified"
    );
    assert_eq!(
        updated.update(&update, &anchor).unwrap_err().code(),
        "trust-data-mismatch"
    );
}

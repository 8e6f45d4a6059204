//! Counters that ask, through the browser cores natively (the calls the wasm bindings
//! make): a department registers a counter, the counter checks its registration and signs
//! a request, the wallet reads it against the ledger's registry, answers with exactly the
//! fields asked (less those declined) and records the counter's name, and the counter
//! checks the answer against its request.

// Test fixtures outside #[test] functions: a failure is a test failure.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod common;

use common::{ask, COUNTER};
use ecert_schemas::codec::to_cbor;
use ecert_schemas::{PublicKeyBytes, UnixTime};
use ecert_testkit::world::FIXED_NOW;
use ecert_testkit::World;
use ecert_web::counter::Counter;
use ecert_web::request::{new_counter_key, AskInput, LedgerRegistry};
use ecert_web::views::PolicyInput;
use ecert_web::wallet::Wallet;
use rand_core::OsRng;

struct Scene {
    world: World,
    wallet: Wallet,
    counter: Counter,
    registry: LedgerRegistry,
    seed: Vec<u8>,
    registration: Vec<u8>,
}

fn scene(role: &str) -> Scene {
    let mut wallet = Wallet::create(&mut OsRng).unwrap();
    let holder = PublicKeyBytes::from_hex(&wallet.id()).unwrap();
    let world = World::builder().now(FIXED_NOW).build_for(holder);
    wallet
        .receive(&[&world.record.to_bytes().unwrap()], world.now)
        .unwrap();
    let counter = Counter::sync(&world.bundle_bytes(), &world.anchor_toml(), None, false).unwrap();
    let (seed, registration) = common::register(&world, &counter, role);
    let registry = common::registry(&counter);
    Scene {
        world,
        wallet,
        counter,
        registry,
        seed,
        registration,
    }
}

impl Scene {
    fn request(&self, asks: &[AskInput]) -> String {
        common::request(&self.seed, &self.registration, asks, self.world.now)
    }
}

#[test]
fn a_registered_counter_asks_and_the_wallet_answers_exactly_that() {
    let mut s = scene("office");
    let now = s.world.now;
    let registration = s
        .counter
        .check_registration(&s.registration, &s.seed, now)
        .unwrap();
    assert_eq!(
        (registration.name.as_str(), registration.role.as_str()),
        (COUNTER, "office")
    );
    assert_eq!(registration.may_ask[0].fields[1].key, "purpose");
    // Another counter's key: refused.
    let other = new_counter_key(&mut OsRng).unwrap();
    let err = s
        .counter
        .check_registration(&s.registration, &other, now)
        .unwrap_err();
    assert_eq!(err.code(), "registration-other-key");

    let text = s.request(&[ask("no-criminal-record", &["result", "purpose"])]);
    assert!(text.starts_with("ECQ1:"));
    let own = s.counter.check_request(&text, now).unwrap();
    let view = s.wallet.read_request(&text, &s.registry, now).unwrap();
    assert_eq!(view.binding, own.binding);
    assert_eq!(
        (view.counter.as_str(), view.role.as_str()),
        (COUNTER, "office")
    );
    assert!(view.asks[0].certificate.is_some(), "{view:?}");
    let shown = s.wallet.answer_request(&[], now).unwrap();
    assert_eq!(shown.nonce.as_deref(), Some(own.binding.as_str()));
    let result = s
        .counter
        .verify_answer(&shown.qr, &text, now, &PolicyInput::default())
        .unwrap();
    assert!(result.verdict.valid, "{result:?}");
    assert!(result.accepted && result.missing.is_empty() && result.unasked.is_empty());
    assert!(shown.recorded);
    let history = s.wallet.history();
    let entry = &history.entries[0];
    assert_eq!(entry.counter.as_deref(), Some(COUNTER));
    assert_eq!(entry.certificates[0].kind, "no-criminal-record");
    let keys: Vec<&str> = entry.certificates[0]
        .fields
        .iter()
        .map(|f| f.key.as_str())
        .collect();
    assert_eq!(keys, ["purpose", "result"]);
    // Answered once.
    assert_eq!(
        s.wallet.answer_request(&[], now).unwrap_err().code(),
        "no-request"
    );

    // A field declined is reported missing; the answer is still accepted.
    let text = s.request(&[ask("no-criminal-record", &["result", "purpose"])]);
    s.wallet.read_request(&text, &s.registry, now).unwrap();
    let shown = s
        .wallet
        .answer_request(&[ask("no-criminal-record", &["purpose"])], now)
        .unwrap();
    let result = s
        .counter
        .verify_answer(&shown.qr, &text, now, &PolicyInput::default())
        .unwrap();
    assert!(result.accepted);
    assert_eq!(result.missing.len(), 1);
    assert_eq!(result.missing[0].field.key, "purpose");

    // An answer to another request does not fit this one.
    let later = s.request(&[ask("no-criminal-record", &["result"])]);
    let result = s
        .counter
        .verify_answer(&shown.qr, &later, now, &PolicyInput::default())
        .unwrap();
    assert!(!result.verdict.valid && !result.accepted);
    assert_eq!(result.verdict.code, Some("nonce-mismatch"));
}

#[test]
fn requests_beyond_the_registration_or_stale_are_refused() {
    let mut s = scene("office");
    let now = s.world.now;
    let greedy = s.request(&[ask("no-criminal-record", &["name"])]);
    let err = s
        .wallet
        .read_request(&greedy, &s.registry, now)
        .unwrap_err();
    assert_eq!(err.code(), "request-not-allowed");
    assert!(
        err.message().contains("does not let it ask"),
        "{}",
        err.message()
    );
    assert_eq!(
        s.counter.check_request(&greedy, now).unwrap_err().code(),
        "request-not-allowed"
    );
    let fine = s.request(&[ask("no-criminal-record", &["result"])]);
    let err = s
        .wallet
        .read_request(&fine, &s.registry, UnixTime(now.secs() + 3_600))
        .unwrap_err();
    assert_eq!(err.code(), "request-stale");
    assert_eq!(
        s.wallet
            .read_request("EC1R:ABC", &s.registry, now)
            .unwrap_err()
            .code(),
        "not-a-request"
    );
    // A registry the header does not commit to.
    let mut registry = s.counter.store().registry().clone();
    registry.governance_seq += 1;
    let err = LedgerRegistry::check(&to_cbor(&registry).unwrap(), s.counter.store().header())
        .unwrap_err();
    assert_eq!(err.code(), "trust-data-mismatch");
}

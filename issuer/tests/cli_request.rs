//! Counters that ask, through the three real tools: a department registers a counter
//! (`ecert-issuer register-counter`), the counter installs the registration and makes a
//! request (`ecert-verify counter-key`, `registration`, `request`), the citizen's wallet
//! answers it (`ecert-wallet refresh`, `present --request`) and the counter checks the
//! answer against its request (`ecert-verify verify --request`). The wallet and counter
//! binaries must be built beside this test (`cargo test -p ecert-issuer -p ecert-wallet -p
//! ecert-verifier --all-features`, or the whole workspace).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::PathBuf;

use ecert_schemas::request::{CounterRegistration, FieldsAsked, PresentationRequest, RequestBody};
use ecert_schemas::{KindId, KindRegistry, Nonce, UnixTime};
use ecert_testkit::issuer::{issue, Department};
use ecert_testkit::{now, Cmd, Run};
use ecert_verifier::request::sign_request;
use ecert_wallet::{present_copies, store, CopySelection, Held};
use ed25519_dalek::SigningKey;

const WALLET_PASSPHRASE: &str = "correct horse battery staple";
const NCR_JSON: &str = r#"{"name": "王芳", "id_number": "110108199003070016",
  "purpose": "visa", "result": "no-record", "checked_through": "2026-01-31"}"#;
const COUNTER: &str = "Visa office, desk 3";

struct Scene {
    dept: Department,
    wallet: PathBuf,
    store: PathBuf,
}

impl Scene {
    fn wallet(&self, args: &[&str]) -> Run {
        Cmd::new("ecert-wallet")
            .args(args)
            .env("ECERT_WALLET", &self.wallet)
            .env("ECERT_WALLET_PASSPHRASE", WALLET_PASSPHRASE)
            .run()
    }

    fn counter(&self, args: &[&str]) -> Run {
        Cmd::new("ecert-verify")
            .arg("--store")
            .arg(&self.store)
            .args(args)
            .run()
    }

    /// The counter's key, as its store keeps it.
    fn counter_key(&self) -> SigningKey {
        let hex = std::fs::read_to_string(self.store.join("counter-key.hex")).unwrap();
        let bytes: Vec<u8> = (0..32)
            .map(|i| u8::from_str_radix(&hex.trim()[2 * i..2 * i + 2], 16).unwrap())
            .collect();
        SigningKey::from_bytes(&bytes.try_into().unwrap())
    }

    fn registration(&self) -> CounterRegistration {
        CounterRegistration::from_bytes(
            &std::fs::read(self.store.join("registration.cbor")).unwrap(),
        )
        .unwrap()
    }

    /// A request signed with the counter's key, outside the tool.
    fn signed_request(
        &self,
        registration: CounterRegistration,
        asks: &[(&str, &[&str])],
        time: UnixTime,
    ) -> String {
        let asks = asks
            .iter()
            .map(|(kind, fields)| FieldsAsked {
                kind: KindId::new(*kind).unwrap(),
                fields: fields.iter().map(|f| f.to_string()).collect(),
            })
            .collect();
        sign_request(
            &self.counter_key(),
            RequestBody {
                registration,
                asks,
                purpose: "Visa application".into(),
                nonce: Nonce::new(vec![7; 16]).unwrap(),
                time,
            },
        )
        .unwrap()
        .to_qr_string()
        .unwrap()
    }

    /// A presentation of `fields` of the wallet's certificate (its last copy), answering
    /// `nonce`, made with the wallet's key by other software than the wallet: what a
    /// counter must refuse when it shows more than was asked.
    fn unasked(&self, fields: &[&str], nonce: Nonce) -> String {
        let bytes = std::fs::read(&self.wallet).unwrap();
        let contents = store::open(
            &bytes,
            &zeroize::Zeroizing::new(WALLET_PASSPHRASE.to_owned()),
        )
        .unwrap();
        let Some(Held::Copies(held)) = contents.packages.first() else {
            panic!("the wallet holds no certificate of one-time copies");
        };
        let package = held.package();
        let selection = CopySelection {
            package,
            copy: package.copies.len() - 1,
            fields: fields.iter().map(|f| f.to_string()).collect(),
        };
        present_copies(
            &contents.holder,
            &KindRegistry::builtin().unwrap(),
            &[selection],
            now(),
            Some(nonce),
        )
        .unwrap()
        .to_qr_string()
        .unwrap()
    }

    fn answer(&self, request: &str, more: &[&str]) -> Run {
        self.wallet(
            &[
                &["present", "--request", request, "--yes", "--text"][..],
                more,
            ]
            .concat(),
        )
    }
}

/// A department with a fake ledger, a wallet holding a certificate of one-time copies
/// from it and the ledger's registry, and a counter synced, keyed and registered to ask
/// for the result and purpose of a no-criminal-record certificate.
fn scene(name: &str) -> Scene {
    let dept = Department::setup(&format!("request-{name}"));
    let scene = Scene {
        wallet: dept.dir.path("citizen").join("wallet.ecw"),
        store: dept.dir.path("counter"),
        dept,
    };
    let anchor = scene.dept.dir.path("anchor.toml");
    let anchor = anchor.to_str().unwrap();
    let node = scene.dept.node.url.clone();

    // The citizen's wallet, with a certificate issued as one-time copies.
    scene.wallet(&["init"]).ok();
    let id = scene.wallet(&["id"]).ok();
    let id = id
        .lines()
        .map(str::trim)
        .find(|l| l.len() == 64 && l.chars().all(|c| c.is_ascii_hexdigit()))
        .unwrap()
        .to_owned();
    let claims = scene.dept.write("c.json", NCR_JSON);
    let package = scene.dept.dir.path("c.ecp");
    issue("no-criminal-record", &claims, &id)
        .out(&package)
        .run(&scene.dept.home)
        .ok();
    scene.wallet(&["receive", package.to_str().unwrap()]).ok();
    scene.wallet(&["trust", "--anchor", anchor]).ok();
    let refreshed = scene.wallet(&["refresh", "--node", &node]).ok();
    assert!(refreshed.contains("list of departments"), "{refreshed}");

    // The counter: set up, synced, its key registered by the department.
    scene.counter(&["init", "--anchor", anchor]).ok();
    scene.counter(&["sync", "--node", &node]).ok();
    let key = scene.counter(&["counter-key"]).ok().trim().to_owned();
    // Asked again, the same key.
    assert_eq!(scene.counter(&["counter-key"]).ok().trim(), key);
    let registration = scene.dept.dir.path("desk3.ecr");
    let out = scene
        .dept
        .run(&[
            "register-counter",
            "--counter-key",
            &key,
            "--name",
            COUNTER,
            "--name-local",
            "签证处3号窗口",
            "--role",
            "office",
            "--may-ask",
            "no-criminal-record:result,purpose",
            "--days",
            "30",
            "--out",
            registration.to_str().unwrap(),
        ])
        .ok();
    assert!(out.contains("no-criminal-record: result, purpose"), "{out}");
    let out = scene
        .counter(&["registration", registration.to_str().unwrap()])
        .ok();
    assert!(out.contains(COUNTER), "{out}");
    scene
}

fn history_counters(scene: &Scene) -> Vec<Option<String>> {
    let json: serde_json::Value =
        serde_json::from_str(&scene.wallet(&["history", "--json"]).ok()).unwrap();
    json["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["counter"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn a_registered_counter_asks_and_the_wallet_shows_exactly_what_was_asked() {
    let scene = scene("answer");
    let request = scene
        .counter(&[
            "request",
            "--ask",
            "no-criminal-record:result,purpose",
            "--purpose",
            "Visa application",
            "--text",
        ])
        .ok();
    let request = request.trim();
    assert!(request.starts_with("ECQ1:"), "{request}");

    let run = scene.answer(request, &[]);
    let shown = run.ok();
    for said in [
        COUNTER,
        "签证处3号窗口",
        "office",
        "Visa application",
        "result, purpose",
    ] {
        assert!(
            run.stderr.contains(said),
            "{said} missing from: {}",
            run.stderr
        );
    }
    let answer = shown.trim();

    let verdict = scene.counter(&["verify", "--request", answer]);
    assert_eq!(verdict.code(), 0, "{}", verdict.all());
    assert!(verdict.stdout.contains("VALID"), "{}", verdict.all());
    assert!(
        verdict.stdout.contains("exactly the fields asked"),
        "{}",
        verdict.all()
    );
    // The accepted answer retired the request: shown again, it has nothing to answer.
    assert_eq!(scene.counter(&["verify", "--request", answer]).code(), 2);

    assert_eq!(history_counters(&scene), vec![Some(COUNTER.to_owned())]);

    // A field left out by the citizen is reported; a code showing a field not asked for
    // (made without the request, with its binding as a challenge) is not accepted.
    let request = scene
        .counter(&[
            "request",
            "--ask",
            "no-criminal-record:result,purpose",
            "--purpose",
            "Visa application",
            "--text",
        ])
        .ok();
    let declined = scene
        .answer(request.trim(), &["--decline", "no-criminal-record:purpose"])
        .ok();
    let verdict = scene.counter(&["verify", "--request", declined.trim()]);
    assert_eq!(verdict.code(), 5, "{}", verdict.all());
    assert!(verdict.stdout.contains("no-criminal-record:purpose"));

    let request = scene
        .counter(&[
            "request",
            "--ask",
            "no-criminal-record:result",
            "--purpose",
            "Visa application",
            "--text",
        ])
        .ok();
    let binding = PresentationRequest::from_qr_string(request.trim())
        .unwrap()
        .binding()
        .unwrap();
    // The wallet shows the kind only in answer to a request (its audience), so not with
    // the request's binding as a challenge...
    let run = scene.wallet(&[
        "present",
        "--show",
        "no-criminal-record:result,name",
        "--nonce",
        &binding.to_hex(),
        "--text",
    ]);
    assert_eq!(run.code(), 1, "{}", run.all());
    assert!(
        run.stderr
            .contains("shown only to registered employer or office, in answer to their request"),
        "{}",
        run.all()
    );
    // ...but a code made from the wallet's key by other software is refused by the counter.
    let more = scene.unasked(&["result", "name"], binding);
    let verdict = scene.counter(&["verify", "--request", more.trim()]);
    assert_eq!(verdict.code(), 4, "{}", verdict.all());
    assert!(verdict.stdout.contains("NOT ACCEPTED"), "{}", verdict.all());
}

#[test]
fn requests_and_registrations_that_fail_their_checks_are_refused() {
    let scene = scene("refused");

    // The counter cannot make a request for more than it is registered for...
    let run = scene.counter(&[
        "request",
        "--ask",
        "no-criminal-record:name",
        "--purpose",
        "Visa application",
        "--text",
    ]);
    assert_eq!(run.code(), 2, "{}", run.all());
    // ...and the wallet refuses one signed outside the tool.
    let greedy = scene.signed_request(
        scene.registration(),
        &[("no-criminal-record", &["name"])],
        now(),
    );
    let run = scene.answer(&greedy, &[]);
    assert_eq!(run.code(), 12, "{}", run.all());
    assert!(run.stderr.contains("does not let it ask"), "{}", run.all());

    // A registration widened after the department signed it.
    let mut widened = scene.registration();
    widened.body.may_ask[0].fields.push("name".into());
    let file = scene
        .dept
        .dir
        .write("widened.ecr", widened.to_bytes().unwrap());
    let run = scene.counter(&["registration", file.to_str().unwrap()]);
    assert_eq!(run.code(), 3, "{}", run.all());
    assert!(run.stderr.contains("forged"), "{}", run.all());
    let forged = scene.signed_request(widened, &[("no-criminal-record", &["name"])], now());
    let run = scene.answer(&forged, &[]);
    assert_eq!(run.code(), 12, "{}", run.all());
    assert!(run.stderr.contains("forged"), "{}", run.all());

    // A stale request.
    let old = UnixTime(now().secs() - 3_600);
    let stale = scene.signed_request(
        scene.registration(),
        &[("no-criminal-record", &["result"])],
        old,
    );
    let run = scene.answer(&stale, &[]);
    assert_eq!(run.code(), 12, "{}", run.all());
    assert!(run.stderr.contains("new one"), "{}", run.all());

    // An answer made for another request.
    let first = scene
        .counter(&[
            "request",
            "--ask",
            "no-criminal-record:result",
            "--purpose",
            "Visa application",
            "--text",
        ])
        .ok();
    let answer = scene.answer(first.trim(), &[]).ok();
    scene
        .counter(&[
            "request",
            "--ask",
            "no-criminal-record:result",
            "--purpose",
            "Visa application",
            "--text",
        ])
        .ok();
    let run = scene.counter(&["verify", "--request", answer.trim()]);
    assert_eq!(run.code(), 25, "{}", run.all());

    // Nothing refused reached the history.
    assert_eq!(history_counters(&scene).len(), 1);
}

//! The counter's command-line tool, `ecert-verify`, run as a real process.
//!
//! A ledger is created in-process with `ecert-testnet`'s province (times around the real
//! clock, since the tool reads the system clock); its trust anchor and trust bundle are
//! written to files, and the binary is run against a fresh store folder per test.

// Test fixtures outside #[test] functions: a failure is a test failure.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use ecert_qr::render;
use ecert_schemas::codec::ByteBuf;
use ecert_schemas::ledger::RevocationReason;
use ecert_schemas::{
    CertificatePackage, Disclosure, FieldValue, Nonce, PresentedCertificate, UnixTime,
};
use ecert_testkit::cmd::arg;
use ecert_testkit::http::{dead_address, mute_address};
use ecert_testkit::province::{Order, Province};
use ecert_testkit::world::{item, status_index};
use ecert_testkit::{attacker, sample, Cmd, FakeNode, Lie, Run, Scratch, World, DAY, HOUR};
use ed25519_dalek::SigningKey;
use rand_core::OsRng;

/// `ecert-verify ARGS`, with the store (if any) given through the environment, as a
/// counter's login profile would set it.
fn run_with(args: &[&str], store: Option<&Path>, stdin: Option<&str>) -> Run {
    let mut cmd = Cmd::new("ecert-verify").args(args);
    if let Some(store) = store {
        cmd = cmd.env("ECERT_VERIFY_STORE", store);
    }
    if let Some(text) = stdin {
        cmd = cmd.stdin(text);
    }
    cmd.run()
}

/// The test kit's world (a province, a citizen's wallet with an ID card and a
/// no-criminal-record certificate, times around the real clock since the tool reads the
/// system clock), its trust anchor in a file, and a counter's store folder.
struct Counter {
    world: World,
    dir: Scratch,
}

ecert_testkit::deref_to_world!(Counter);

impl Counter {
    fn new(name: &str) -> Counter {
        let w = Counter {
            world: World::new(),
            dir: Scratch::new(&format!("verify-cli-{name}")),
        };
        w.world.write_anchor(&w.anchor_file());
        w
    }

    fn anchor_file(&self) -> PathBuf {
        self.dir.path("anchor.toml")
    }

    /// The counter's store folder.
    fn store_dir(&self) -> PathBuf {
        self.dir.path("store")
    }

    /// Exports the ledger's current trust bundle to a file.
    fn export(&self, name: &str) -> PathBuf {
        self.world.write_bundle(&self.dir.path(name))
    }

    fn run(&self, args: &[&str]) -> Run {
        run_with(args, Some(&self.store_dir()), None)
    }

    fn run_stdin(&self, args: &[&str], stdin: &str) -> Run {
        run_with(args, Some(&self.store_dir()), Some(stdin))
    }

    fn init_and_sync(&self) {
        self.run(&["init", "--anchor", self.anchor_file().to_str().unwrap()])
            .ok();
        let bundle = self.export("bundle.cbor");
        self.run(&["sync", "--from-file", bundle.to_str().unwrap()])
            .ok();
    }

    /// Moves the ledger on (a record issued and anchored a minute ago), exports its data
    /// to the file `name` and syncs the counter from it; the file.
    fn sync_newer(&mut self, name: &str) -> PathBuf {
        let t = self.now.minus(60);
        self.issue_record(sample::no_criminal_record(self.now), t);
        let newer = self.export(name);
        self.run(&["sync", "--from-file", arg(&newer)]).ok();
        newer
    }

    /// Issues `order` from the justice department at `time`, anchored at once.
    fn issue_record(&mut self, order: Order, time: UnixTime) -> CertificatePackage {
        self.world.issue_one("justice", order, time, time)
    }
}

/// A holder proof over `items` signed with any key: what a thief's wallet would make.
fn sign_items(items: &[PresentedCertificate], signer: &SigningKey, time: UnixTime) -> String {
    attacker::sign_items(items, signer, time, None)
}

/// An ID card signed by the transport bureau's real key: it is not entitled to the kind.
fn forge_id_card(w: &World) -> CertificatePackage {
    let key = SigningKey::from_bytes(
        &w.province
            .department("transport")
            .unwrap()
            .issuer_key
            .seed(),
    );
    attacker::forge_certificate("transport", &key, "id-card", w.holder, w.now)
}

/// An impostor's province: the same chain name, other validators, its own data.
fn impostor(w: &World) -> Province {
    let mut impostor = Province::new("ecert-test", w.now.minus(30 * DAY), &mut OsRng).unwrap();
    impostor
        .issue_and_anchor(
            "justice",
            w.holder,
            &[sample::no_criminal_record(w.now)],
            w.now.minus(HOUR),
            &mut OsRng,
        )
        .unwrap();
    impostor
}

/// The exit-code table printed by `verify --help`: code → exit code.
fn help_exit_codes() -> BTreeMap<String, i32> {
    let help = run_with(&["verify", "--help"], None, None);
    assert_eq!(help.code(), 0);
    help.stdout
        .lines()
        .filter_map(|line| {
            // "  18  expired                      certificate expired"
            let mut words = line.split_whitespace();
            let exit: i32 = words.next()?.parse().ok()?;
            let code = words.next()?;
            let is_code = code.chars().all(|c| c.is_ascii_lowercase() || c == '-');
            (exit >= 10 && is_code).then(|| (code.to_owned(), exit))
        })
        .collect()
}

fn is_valid(out: &Run) -> bool {
    out.stdout.lines().any(|l| l.trim() == "VALID")
}

#[test]
fn a_valid_code_from_the_argument_the_scanner_and_a_photo() {
    let w = Counter::new("valid");
    w.init_and_sync();
    let qr = w.show(&w.id_card, &["name", "id_number"], w.now);

    let out = w.run(&["verify", &qr]);
    assert_eq!(out.code(), 0, "{}", out.all());
    assert!(is_valid(&out), "{}", out.stdout);
    assert!(!out.stdout.contains("INVALID"));
    for expected in [
        "National ID card / 居民身份证",
        "Public Security Bureau",
        "Name / 姓名: 张伟",
        &format!("ID number / 公民身份号码: {}", sample::ID_NUMBER),
        "Revocation data",
        "as of ledger block #",
    ] {
        assert!(
            out.stdout.contains(expected),
            "{expected:?} in\n{}",
            out.stdout
        );
    }
    assert!(
        !out.stdout.contains("Address"),
        "only the chosen fields are shown"
    );

    // A keyboard-wedge scanner types the code and presses Enter.
    let out = w.run_stdin(&["verify"], &format!("{qr}\r\n"));
    assert_eq!(out.code(), 0, "{}", out.all());
    assert!(is_valid(&out));

    // A scanner at a desk keeps scanning: one verdict per code, blank lines skipped, the
    // exit code is the last verdict's.
    let damaged = qr.replacen(&qr[6..7], if &qr[6..7] == "A" { "B" } else { "A" }, 1);
    let verdicts = |out: &Run| -> Vec<String> {
        out.stdout
            .lines()
            .map(str::trim)
            .filter(|l| *l == "VALID" || *l == "INVALID")
            .map(str::to_owned)
            .collect()
    };
    let out = w.run_stdin(&["verify"], &format!("{qr}\r\n\n{damaged}\n{qr}\n"));
    assert_eq!(out.code(), 0, "{}", out.all());
    assert_eq!(
        verdicts(&out),
        ["VALID", "INVALID", "VALID"],
        "{}",
        out.all()
    );
    let out = w.run_stdin(&["verify"], &format!("{qr}\n{damaged}\n"));
    assert_ne!(out.code(), 0, "{}", out.all());
    assert_eq!(verdicts(&out), ["VALID", "INVALID"], "{}", out.all());
    // Nothing scanned at all is an error, not a verdict.
    let out = w.run_stdin(&["verify"], "\n\n");
    assert_eq!(out.code(), 2, "{}", out.all());
    assert!(out.stderr.contains("nothing was scanned"), "{}", out.stderr);

    // A photo of the code.
    let photo = w.dir.path("code.png");
    std::fs::write(&photo, render::to_png(&qr, 4).unwrap()).unwrap();
    let out = w.run(&["verify", "--image", photo.to_str().unwrap()]);
    assert_eq!(out.code(), 0, "{}", out.all());
    assert!(out.stdout.contains("Name / 姓名: 张伟"));

    // The same, for programs.
    let out = w.run(&["verify", "--json", &qr]);
    assert_eq!(out.code(), 0, "{}", out.all());
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(json["valid"], true);
    assert_eq!(json["holder"], w.holder.to_hex());
    let cert = &json["certificates"][0];
    assert_eq!(cert["kind"], "id-card");
    assert_eq!(cert["issuer"], "public-security");
    let disclosed: Vec<(&str, &str)> = cert["disclosed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["key"].as_str().unwrap(), f["value"].as_str().unwrap()))
        .collect();
    assert_eq!(
        disclosed,
        [("name", "张伟"), ("id_number", sample::ID_NUMBER)]
    );
    assert!(json["synced_height"].as_u64().unwrap() >= 2);
    assert!(json["revocation_age_secs"].as_u64().unwrap() >= HOUR - 5);

    // Status shows the anchor, the sync and the issuers; --store works before or after
    // the command.
    let store = w.store_dir();
    let store = store.to_str().unwrap();
    let before = run_with(&["--store", store, "status"], None, None);
    assert_eq!(before.code(), 0, "{}", before.all());
    let status = run_with(&["status", "--store", store], None, None);
    assert_eq!(status.code(), 0, "{}", status.all());
    for expected in ["ecert-test", "Synced height", "public-security", "id-card"] {
        assert!(
            status.stdout.contains(expected),
            "{expected:?} in\n{}",
            status.stdout
        );
    }
}

/// A citizen proves they are 18 or over with the derived fact alone: the counter shows the
/// fact in both languages, and nothing of the date of birth.
#[test]
fn a_derived_fact_is_shown_without_the_field_it_comes_from() {
    let w = Counter::new("derived");
    w.init_and_sync();
    let qr = w.show(&w.id_card, &["age_over_18", "age_over_60"], w.now);
    let out = w.run(&["verify", &qr]);
    assert_eq!(out.code(), 0, "{}", out.all());
    assert!(is_valid(&out), "{}", out.stdout);
    for expected in [
        "National ID card / 居民身份证",
        "Aged 18 or over / 年满18周岁: yes / 是",
        "Aged 60 or over / 年满60周岁: no / 否",
    ] {
        assert!(
            out.stdout.contains(expected),
            "{expected:?} in\n{}",
            out.stdout
        );
    }
    for hidden in ["Date of birth", "出生日期", "1990", sample::ID_NUMBER] {
        assert!(
            !out.stdout.contains(hidden),
            "{hidden:?} in\n{}",
            out.stdout
        );
    }

    let out = w.run(&["verify", "--json", &qr]);
    assert_eq!(out.code(), 0, "{}", out.all());
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let disclosed = &json["certificates"][0]["disclosed"];
    assert_eq!(disclosed[0]["key"], "age_over_18");
    assert_eq!(disclosed[0]["label_local"], "年满18周岁");
    assert_eq!(disclosed[0]["value"], true);
    assert_eq!(disclosed[1]["key"], "age_over_60");
    assert_eq!(disclosed[1]["value"], false);
    assert_eq!(disclosed.as_array().unwrap().len(), 2);

    // Shown with the date of birth, the two agree; the record's fact likewise.
    let qr = w.show_all(
        &[
            (&w.id_card, &["birth_date", "age_over_18"]),
            (&w.record, &["no_record"]),
        ],
        w.now,
        None,
    );
    let out = w.run(&["verify", &qr]);
    assert_eq!(out.code(), 0, "{}", out.all());
    for expected in [
        "Date of birth / 出生日期: 1990-03-07",
        "Aged 18 or over / 年满18周岁: yes / 是",
        "No criminal record / 无犯罪记录: yes / 是",
    ] {
        assert!(
            out.stdout.contains(expected),
            "{expected:?} in\n{}",
            out.stdout
        );
    }
}

#[test]
fn challenge_mode() {
    let w = Counter::new("challenge");
    w.init_and_sync();
    let challenge = run_with(&["challenge"], None, None);
    assert_eq!(challenge.code(), 0);
    let hex = challenge.stdout.trim();
    assert_eq!(hex.len(), 16, "{hex:?}");
    assert!(hex
        .chars()
        .all(|c| c.is_ascii_digit() || ('A'..='F').contains(&c)));
    assert!(challenge
        .stderr
        .contains(&format!("ecert-wallet present --nonce {hex}")));
    let again = run_with(&["challenge"], None, None);
    assert_ne!(again.stdout.trim(), hex, "a fresh challenge each time");

    let nonce = Nonce::from_hex(hex).unwrap();
    let answered = w.show_all(&[(&w.id_card, &["name"])], w.now, Some(nonce));
    let out = w.run(&["verify", "--nonce", hex, &answered]);
    assert_eq!(out.code(), 0, "{}", out.all());
    assert!(out.stdout.contains("Challenge: answered"));

    // A code made for another challenge (or none) is refused.
    let plain = w.show(&w.id_card, &["name"], w.now);
    let out = w.run(&["verify", "--nonce", again.stdout.trim(), &plain]);
    assert_eq!(
        out.code(),
        help_exit_codes()["nonce-mismatch"],
        "{}",
        out.all()
    );
    assert!(out.stdout.contains("INVALID"));
}

#[test]
fn every_rejection_has_its_own_exit_code_and_says_why() {
    let mut w = Counter::new("reasons");
    let now = w.now;
    let table = help_exit_codes();

    // Built before the counter syncs, so that the counter knows every batch.
    let mut order = sample::no_criminal_record(now);
    order.valid_from = now.minus(10 * DAY);
    order.expires = now.minus(10);
    let expired = w.issue_record(order, now.minus(2 * DAY));
    w.init_and_sync();

    let good = w.show(&w.id_card, &["name", "id_number"], now);
    let damaged = {
        // One character misread by the scanner: lower case is not in the QR alphabet.
        let mut chars: Vec<char> = good.chars().collect();
        let i = chars.len() / 2;
        chars[i] = if chars[i] == 'a' { 'b' } else { 'a' };
        chars.into_iter().collect::<String>()
    };
    let altered_name = {
        let mut package = w.id_card.clone();
        for d in package.disclosures.iter_mut() {
            let mut disclosure = Disclosure::from_bytes(d).unwrap();
            if disclosure.field == 0 {
                disclosure.value = FieldValue::Text("李四".into());
                *d = ByteBuf::from(disclosure.to_bytes().unwrap());
            }
        }
        w.show(&package, &["name"], now)
    };
    let thief = SigningKey::from_bytes(&[42; 32]);
    let copied = sign_items(&[item(&w.id_card, 0)], &thief, now);
    let cases = [
        ("malformed", damaged),
        ("disclosure-mismatch", altered_name),
        ("expired", w.show(&expired, &["result"], now)),
        (
            "holder-proof-outside-window",
            w.show(&w.id_card, &["name"], now.minus(300)),
        ),
        ("holder-proof-bad", copied),
        (
            "issuer-not-entitled",
            w.show(&forge_id_card(&w), &["name"], now),
        ),
    ];
    let mut exits = BTreeSet::new();
    for (code, qr) in &cases {
        let out = w.run(&["verify", qr]);
        assert_ne!(out.code(), 0, "{code}: {}", out.all());
        assert_eq!(out.code(), table[*code], "{code}: {}", out.all());
        assert!(out.stdout.contains("INVALID"), "{code}: {}", out.stdout);
        assert!(
            out.stdout
                .contains(&format!("Code:       {code} (exit code {})", out.code())),
            "{code}: {}",
            out.stdout
        );
        exits.insert(out.code());
        let json = w.run(&["verify", "--json", qr]);
        let value: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
        assert_eq!(value["valid"], false);
        assert_eq!(value["code"], *code);
        assert_eq!(json.code(), out.code());
    }
    // The reasons are said in words, not only as codes.
    let expired_out = w.run(&["verify", &cases[2].1]);
    assert!(
        expired_out.stdout.contains("Reason:     expired on"),
        "{}",
        expired_out.stdout
    );
    let stale = w.run(&["verify", &cases[3].1]);
    assert!(
        stale.stdout.contains("ask for a fresh QR code"),
        "{}",
        stale.stdout
    );

    // Revoked: the issuer revokes, the counter syncs the new export, the same code fails.
    let qr = w.show(&w.record, &["result"], w.now);
    assert_eq!(w.run(&["verify", &qr]).code(), 0);
    let index = status_index(&w.record);
    w.province
        .revoke(
            "justice",
            &[index],
            RevocationReason::Withdrawn,
            now.minus(30),
        )
        .unwrap();
    let newer = w.export("bundle-after-revocation.cbor");
    let sync = w.run(&["sync", "--from-file", newer.to_str().unwrap()]);
    assert_eq!(sync.code(), 0, "{}", sync.all());
    assert!(
        sync.stdout.contains("revoked:          1"),
        "{}",
        sync.stdout
    );
    let out = w.run(&["verify", &qr]);
    assert_eq!(out.code(), table["revoked"], "{}", out.all());
    assert!(out.stdout.contains("revoked by justice"), "{}", out.stdout);
    exits.insert(out.code());

    assert_eq!(
        exits.len(),
        cases.len() + 1,
        "distinct exit codes: {exits:?}"
    );
    assert!(!exits.contains(&2));
}

#[test]
fn a_counter_that_is_not_set_up_or_not_synced_says_what_to_run() {
    let w = Counter::new("unsynced");
    let qr = w.show(&w.id_card, &["name"], w.now);
    let out = w.run(&["verify", &qr]);
    assert_eq!(out.code(), 2, "{}", out.all());
    assert!(
        out.stderr.contains("ecert-verify init --anchor"),
        "{}",
        out.stderr
    );

    let init = w.run(&["init", "--anchor", w.anchor_file().to_str().unwrap()]);
    assert_eq!(init.code(), 0, "{}", init.all());
    let out = w.run(&["verify", &qr]);
    assert_eq!(out.code(), 2, "{}", out.all());
    assert!(out.stderr.contains("has not synced yet"), "{}", out.stderr);
    assert!(
        out.stderr.contains("ecert-verify sync --from-file"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.is_empty(), "no verdict: {}", out.stdout);
    assert_eq!(w.run(&["status"]).code(), 2);
}

#[test]
fn sync_refuses_data_it_cannot_trust_or_older_data() {
    let mut w = Counter::new("sync");
    w.init_and_sync();
    let stored = w.store_dir().join("bundle.cbor");
    let before = std::fs::read(&stored).unwrap();

    // A ledger with the same name but other validators certifies its own data.
    let impostor = impostor(&w);
    let forged = w.dir.write(
        "impostor.cbor",
        impostor.trust_bundle().unwrap().to_bytes().unwrap(),
    );
    let out = w.run(&["sync", "--from-file", forged.to_str().unwrap()]);
    assert_eq!(
        out.code(),
        help_exit_codes()["header-not-certified"],
        "{}",
        out.all()
    );
    assert!(
        out.stderr
            .contains("validator set this trust anchor does not trust"),
        "{}",
        out.stderr
    );
    assert_eq!(std::fs::read(&stored).unwrap(), before, "store unchanged");

    // Not a bundle at all.
    let junk = w.dir.path("junk.cbor");
    std::fs::write(&junk, b"not a bundle").unwrap();
    let out = w.run(&["sync", "--from-file", junk.to_str().unwrap()]);
    assert_eq!(out.code(), help_exit_codes()["malformed"], "{}", out.all());
    assert_eq!(std::fs::read(&stored).unwrap(), before, "store unchanged");

    // Newer data replaces the stored data; older data is refused unless asked for.
    let old = w.export("old.cbor");
    let new = w.sync_newer("new.cbor");
    let out = w.run(&["sync", "--from-file", old.to_str().unwrap()]);
    assert_eq!(out.code(), 3, "{}", out.all());
    assert!(out.stderr.contains("--allow-older"), "{}", out.stderr);
    assert_eq!(
        std::fs::read(&stored).unwrap(),
        std::fs::read(&new).unwrap()
    );
    w.run(&["sync", "--allow-older", "--from-file", arg(&old)])
        .ok();
    assert_eq!(
        std::fs::read(&stored).unwrap(),
        std::fs::read(&old).unwrap()
    );

    // A different anchor is refused unless forced; the same one is fine.
    let same = w.run(&["init", "--anchor", w.anchor_file().to_str().unwrap()]);
    assert_eq!(same.code(), 0, "{}", same.all());
    let other_anchor = w.dir.path("other-anchor.toml");
    let theirs = impostor.trust_anchor().unwrap();
    std::fs::write(
        &other_anchor,
        format!(
            "chain_id = \"ecert-test\"\nvalidators_hash = \"{}\"\n",
            theirs.validators_hash.to_hex()
        ),
    )
    .unwrap();
    let out = w.run(&["init", "--anchor", other_anchor.to_str().unwrap()]);
    assert_eq!(out.code(), 3, "{}", out.all());
    assert!(out.stderr.contains("--force"), "{}", out.stderr);
    assert!(stored.exists());
    w.run(&["init", "--force", "--anchor", arg(&other_anchor)])
        .ok();
    assert!(
        !stored.exists(),
        "data synced for the old anchor is deleted"
    );

    // A broken anchor file is explained.
    let bad = w.dir.path("bad-anchor.toml");
    std::fs::write(
        &bad,
        "chain_id = \"ecert-test\"\nvalidators_hash = \"abc\"\n",
    )
    .unwrap();
    let out = w.run(&["init", "--anchor", bad.to_str().unwrap()]);
    assert_eq!(out.code(), 2, "{}", out.all());
    assert!(out.stderr.contains("validators_hash"), "{}", out.stderr);
}

#[test]
fn every_command_explains_itself_and_the_exit_codes_are_documented() {
    for (args, expected) in [
        (&["--help"][..], "ecert-verify init --anchor"),
        (&["init", "--help"][..], "trust anchor"),
        (&["sync", "--help"][..], "exported by a ledger node"),
        (&["verify", "--help"][..], "Exit codes"),
        (&["challenge", "--help"][..], "ecert-wallet present --nonce"),
        (&["status", "--help"][..], "validator set"),
    ] {
        let out = run_with(args, None, None);
        assert_eq!(out.code(), 0, "{args:?}: {}", out.all());
        assert!(out.stdout.contains(expected), "{args:?}: {}", out.stdout);
    }
    let usage = run_with(&["verify", "--no-such-flag"], None, None);
    assert_eq!(usage.code(), 2);

    // The table in --help has every reason once, with distinct codes, and the user guide
    // gives the same numbers.
    let table = help_exit_codes();
    assert_eq!(table.len(), 38, "{table:?}");
    let exits: BTreeSet<i32> = table.values().copied().collect();
    assert_eq!(exits.len(), table.len());
    assert!(exits.iter().all(|&e| e >= 10));
    let guide = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/user-guide.md"),
    )
    .unwrap();
    for (code, exit) in &table {
        let row = format!("| {exit} | `{code}` |");
        assert!(guide.contains(&row), "the user guide lacks {row:?}");
    }
}

#[test]
fn sync_takes_the_validators_freshness_on_an_idle_ledger_and_says_when_it_stops() {
    // The ledger's newest block is two days old: alone, the counter refuses its data.
    let w = Counter {
        world: World::builder()
            .now(ecert_testkit::now().minus(2 * DAY))
            .build(),
        dir: Scratch::new("verify-cli-freshness"),
    };
    w.world.write_anchor(&w.anchor_file());
    w.run(&["init", "--anchor", arg(&w.anchor_file())]).ok();
    let fake = FakeNode::serving(&w.province);
    // `sync --node`: its exit code and what it says.
    let sync = |code: i32, says: &[&str]| {
        let out = w.run(&["sync", "--node", &fake.url]);
        assert_eq!(out.code(), code, "{}", out.all());
        for words in says {
            assert!(out.all().contains(words), "{words:?} in {}", out.all());
        }
    };
    let verify = || {
        w.run(&[
            "verify",
            &w.show(&w.id_card, &["name"], ecert_testkit::now()),
        ])
    };
    sync(0, &["freshness:        not offered"]);
    assert_eq!(verify().code(), exit_code_of("revocation-data-too-old"));

    // Every validator vouches, just now, that the block is still the newest.
    fake.state_freshness(4, ecert_testkit::now());
    sync(
        0,
        &[
            "Already up to date",
            "4 of 4 validators vouch the data is current",
        ],
    );
    assert_eq!(verify().code(), 0);
    let status = w.run(&["status"]).ok();
    assert!(status.contains("(4 of 4 validators vouched"), "{status}");

    // Two of four left: no quorum, the reason's own exit code; what was confirmed before
    // still counts until it is too old.
    fake.state_freshness(2, ecert_testkit::now());
    sync(
        exit_code_of("freshness-not-confirmed"),
        &["NOT CONFIRMED", "2 of 4", "(code freshness-not-confirmed"],
    );
    assert_eq!(verify().code(), 0);
}

/// The exit code `ecert-verify verify --help` gives reason `code`.
fn exit_code_of(code: &str) -> i32 {
    help_exit_codes()[code]
}

#[test]
fn sync_from_a_ledger_node_checks_like_a_file() {
    let mut w = Counter::new("sync-node");
    let init = w.run(&["init", "--anchor", w.anchor_file().to_str().unwrap()]);
    assert_eq!(init.code(), 0, "{}", init.all());
    let stored = w.store_dir().join("bundle.cbor");
    let table = help_exit_codes();

    // The node's export is checked and stored exactly as a file would be.
    let first = w.bundle_bytes();
    let fake = FakeNode::serving(&w.province);
    let node = fake.url.clone();
    let out = w.run(&["sync", "--node", &format!("{node}/")]);
    assert_eq!(out.code(), 0, "{}", out.all());
    assert!(
        out.stdout
            .contains(&format!("Synced ledger ecert-test from ledger node {node}")),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("previous:         none (first sync)"));
    assert_eq!(std::fs::read(&stored).unwrap(), first);
    let qr = w.show(&w.id_card, &["name"], w.now);
    assert_eq!(w.run(&["verify", &qr]).code(), 0);
    let again = w.run(&["sync", "--node", &node]);
    assert_eq!(again.code(), 0, "{}", again.all());
    assert!(
        again.stdout.contains("Already up to date"),
        "{}",
        again.stdout
    );

    // What a node sends is not trusted: an impostor's data, junk, older data.
    let lying_node = FakeNode::serving(&impostor(&w));
    let lying = lying_node.url.clone();
    let out = w.run(&["sync", "--node", &lying]);
    assert_eq!(out.code(), table["header-not-certified"], "{}", out.all());
    assert!(out.stderr.contains(&format!("refused ledger node {lying}")));
    assert_eq!(std::fs::read(&stored).unwrap(), first, "store unchanged");
    let junk = FakeNode::serving(&w.province);
    junk.lie(Lie::Junk);
    let out = w.run(&["sync", "--node", &junk.url]);
    assert_eq!(out.code(), table["malformed"], "{}", out.all());
    assert_eq!(std::fs::read(&stored).unwrap(), first, "store unchanged");

    w.sync_newer("newer.cbor");
    let out = w.run(&["sync", "--node", &node]);
    assert_eq!(out.code(), 3, "{}", out.all());
    assert!(out.stderr.contains("--allow-older"), "{}", out.stderr);
    assert_eq!(w.run(&["sync", "--node", &node, "--allow-older"]).code(), 0);
    assert_eq!(std::fs::read(&stored).unwrap(), first);

    // A node that is down, busy, mute or mistyped: exit code 2, nothing changed.
    let busy = FakeNode::serving(&w.province);
    busy.lie(Lie::NoQuorum);
    let out = w.run(&["sync", "--node", &busy.url]);
    assert_eq!(out.code(), 2, "{}", out.all());
    assert!(out.stderr.contains("status 503"), "{}", out.stderr);
    assert!(out.stderr.contains("no quorum reachable"), "{}", out.stderr);

    let dead = dead_address();
    let out = w.run(&["sync", "--node", &dead]);
    assert_eq!(out.code(), 2, "{}", out.all());
    assert!(out.stderr.contains("cannot connect"), "{}", out.stderr);

    let mute_url = mute_address(Duration::from_secs(10));
    let started = std::time::Instant::now();
    let out = w.run(&["sync", "--node", &mute_url, "--timeout", "1"]);
    assert_eq!(out.code(), 2, "{}", out.all());
    assert!(out.stderr.contains("within 1 s"), "{}", out.stderr);
    assert!(started.elapsed() < Duration::from_secs(8));

    for bad in ["10.1.2.3:8080", "ftp://10.1.2.3", "http://h/v1/export"] {
        let out = w.run(&["sync", "--node", bad]);
        assert_eq!(out.code(), 2, "{bad}: {}", out.all());
        assert!(out.stderr.contains("https://HOST:PORT"), "{}", out.stderr);
    }
    // Plain HTTP to another computer (192.0.2.0/24: documentation only, never reached)
    // is refused before anything is sent, unless asked for.
    let out = w.run(&["sync", "--node", "http://192.0.2.1:7300"]);
    assert_eq!(out.code(), 2, "{}", out.all());
    assert!(out.stderr.contains("--insecure-http"), "{}", out.stderr);
    // A CA file that cannot be read is named.
    let out = w.run(&["--ca", "/nowhere/ca.pem", "sync", "--node", &node]);
    assert_eq!(out.code(), 2, "{}", out.all());
    assert!(out.stderr.contains("/nowhere/ca.pem"), "{}", out.stderr);
    assert_eq!(std::fs::read(&stored).unwrap(), first, "store unchanged");

    // One source at a time.
    assert_eq!(w.run(&["sync"]).code(), 2);
    assert_eq!(
        w.run(&["sync", "--node", &node, "--from-file", "x"]).code(),
        2
    );
    assert_eq!(
        w.run(&["sync", "--from-file", "x", "--timeout", "5"])
            .code(),
        2
    );
}

#[test]
fn sync_fetches_only_what_changed_since_the_data_held() {
    let mut w = Counter::new("sync-incremental");
    w.run(&["init", "--anchor", arg(&w.anchor_file())]).ok();
    let fake = FakeNode::serving(&w.province);
    let url = fake.url.clone();
    let sync = |w: &Counter| w.run(&["sync", "--node", url.as_str()]);
    let stored = w.store_dir().join("bundle.cbor");
    let out = sync(&w).ok();
    assert!(out.contains("transfer:         full export"), "{out}");

    // Two new batches and a revocation on the ledger.
    let now = ecert_testkit::now();
    let holder = ecert_verifier::crypto::public_key(&SigningKey::from_bytes(&[7; 32]));
    for (dept, order) in [
        ("transport", sample::driver_licence(now)),
        ("social-security", sample::social_security_card(now)),
    ] {
        let (_, tx) = ecert_testkit::world::batch_of(
            &mut w.province,
            dept,
            holder,
            &[order],
            now.minus(HOUR),
        );
        fake.apply(&tx).unwrap();
    }
    let index = status_index(&w.id_card);
    let key = &w.province.department("public-security").unwrap().issuer_key;
    let revocation = ecert_issuer::revocation_transaction(
        key,
        &fake.chain_id(),
        vec![ecert_schemas::ledger::RevocationEntry {
            index,
            reason: RevocationReason::Withdrawn,
        }],
        now.minus(HOUR),
    )
    .unwrap();
    fake.apply(&ecert_schemas::ledger::Transaction::Revocation(revocation))
        .unwrap();

    // Only that travels, and the counter holds what a full sync gives.
    let out = sync(&w).ok();
    assert!(
        out.contains("transfer:         incremental from block #")
            && out.contains("2 new batch(es), 1 revocation(s))"),
        "{out}"
    );
    let incremental = std::fs::read(&stored).unwrap();
    let full_export = {
        let full = Counter::new("sync-incremental-full");
        full.run(&["init", "--anchor", arg(&w.anchor_file())]).ok();
        let out = full
            .run(&["sync", "--node", fake.url.as_str(), "--full"])
            .ok();
        assert!(out.contains("transfer:         full export"), "{out}");
        std::fs::read(full.store_dir().join("bundle.cbor")).unwrap()
    };
    assert_eq!(incremental, full_export, "the same data as a full sync");
    let verdict = w.run(&["verify", &w.show(&w.id_card, &["name"], now)]);
    assert_eq!(verdict.code(), exit_code_of("revoked"), "{}", verdict.all());
    let out = sync(&w).ok();
    assert!(out.contains("Already up to date"), "{out}");

    // A node that leaves a new batch out of the update is refused; nothing changes.
    let (_, tx) = ecert_testkit::world::batch_of(
        &mut w.province,
        "justice",
        holder,
        &[sample::no_criminal_record(now)],
        now.minus(HOUR),
    );
    fake.apply(&tx).unwrap();
    fake.lie(Lie::HideNewestBatch);
    let out = sync(&w);
    assert_eq!(
        out.code(),
        exit_code_of("trust-data-mismatch"),
        "{}",
        out.all()
    );
    assert!(out.stderr.contains("Nothing was changed"), "{}", out.stderr);
    assert_eq!(
        std::fs::read(&stored).unwrap(),
        incremental,
        "store unchanged"
    );
}

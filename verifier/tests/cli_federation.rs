//! Federation at the counter's command-line tool, `ecert-verify`, run as a real process:
//! a counter pinned to a national anchor takes the national trust list, syncs two
//! provinces' ledgers (different chain ids, each served by its own ledger node) and checks
//! a citizen's QR code from either, or with certificates from both; a newer list without a
//! province deletes its data and stops its certificates; older, expired or insufficiently
//! approved lists are refused.

// Test fixtures outside #[test] functions: a failure is a test failure.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::{Path, PathBuf};

use ecert_schemas::federation::{NationalAnchor, NationalTrustList, ProvinceEntry};
use ecert_schemas::{ChainId, UnixTime};
use ecert_testkit::cmd::arg;
use ecert_testkit::federation::{national_anchor, province_entry, trust_list};
use ecert_testkit::{Cmd, FakeNode, Run, Scratch, World, DAY};
use ecert_verifier::anchor_file::national_anchor_to_toml;

/// A province's entry for `world`'s ledger, allowed every built-in kind.
fn entry(name: &str, world: &World) -> ProvinceEntry {
    province_entry(name, world, &[])
}

/// Version `seq` of the list naming `provinces`, expiring at `expires`, approved by the
/// national keys `signers`.
fn list(
    seq: u64,
    provinces: Vec<ProvinceEntry>,
    expires: UnixTime,
    signers: &[u16],
) -> NationalTrustList {
    trust_list(
        seq,
        provinces,
        ecert_testkit::now().minus(DAY),
        expires,
        signers,
    )
}

/// Two provinces whose ledgers issued to the same citizen, around the real clock.
fn two_provinces() -> (World, World) {
    let west = World::builder().chain("ecert-west").build();
    let holder = west.wallet().public_key();
    let east = World::builder().chain("ecert-east").build_for(holder);
    (west, east)
}

/// A counter's store folder and its files.
struct Counter {
    dir: Scratch,
}

impl Counter {
    fn new(name: &str) -> Counter {
        let counter = Counter {
            dir: Scratch::new(&format!("verify-fed-{name}")),
        };
        counter.dir.write(
            "national-anchor.toml",
            national_anchor_to_toml(&national_anchor(), "national body"),
        );
        counter
    }

    fn national_anchor_file(&self) -> PathBuf {
        self.dir.path("national-anchor.toml")
    }

    fn store(&self) -> PathBuf {
        self.dir.path("store")
    }

    /// Writes `list` to the file `name`.
    fn list_file(&self, name: &str, list: &NationalTrustList) -> PathBuf {
        self.dir.write(name, list.to_bytes().unwrap())
    }

    fn run(&self, args: &[&str]) -> Run {
        Cmd::new("ecert-verify")
            .args(args)
            .env("ECERT_VERIFY_STORE", self.store())
            .run()
    }

    /// `sync --trust-list` with `list`.
    fn sync_list(&self, name: &str, list: &NationalTrustList) -> Run {
        let file = self.list_file(name, list);
        self.run(&["sync", "--trust-list", arg(&file)])
    }
}

/// The exit code `ecert-verify verify --help` gives reason `code`.
fn exit_code_of(code: &str) -> i32 {
    let help = Cmd::new("ecert-verify").args(["verify", "--help"]).run();
    help.stdout
        .lines()
        .find_map(|line| {
            let mut words = line.split_whitespace();
            let exit = words.next()?.parse().ok()?;
            (words.next()? == code).then_some(exit)
        })
        .unwrap_or_else(|| panic!("{code} is not in the exit-code table"))
}

fn assert_says(out: &Run, code: i32, words: &[&str]) {
    assert_eq!(out.code(), code, "{}", out.all());
    for w in words {
        assert!(out.all().contains(w), "{w:?} in {}", out.all());
    }
}

fn exists(path: &Path) -> bool {
    path.exists()
}

#[test]
fn a_counter_pinned_to_the_national_anchor_verifies_certificates_from_two_provinces() {
    let (west, east) = two_provinces();
    let w = Counter::new("two");
    let now = ecert_testkit::now();
    let month = now.plus(30 * DAY);
    let both_listed = vec![entry("West", &west), entry("East", &east)];

    assert_says(
        &w.run(&["init", "--national-anchor", arg(&w.national_anchor_file())]),
        0,
        &["ecert-national", "4 national keys", "sync --trust-list"],
    );
    // Before a list: nothing to check against, nothing to sync.
    let qr = west.show(&west.id_card, &["name"], now);
    assert_says(&w.run(&["verify", &qr]), 2, &["sync --trust-list"]);
    let west_node = FakeNode::serving(&west.province);
    let east_node = FakeNode::serving(&east.province);
    assert_says(
        &w.run(&["sync", "--province", "ecert-west", "--node", &west_node.url]),
        2,
        &["no national trust list"],
    );

    // Version 1: West and East, approved by three of the four keys.
    let v1 = list(1, both_listed.clone(), month, &[0, 1, 3]);
    assert_says(
        &w.sync_list("v1.cbor", &v1),
        0,
        &[
            "version:          1 (previous: none",
            "approved by:      3 of 4 national keys",
            "West (ecert-west): may issue",
            "East (ecert-east): may issue",
        ],
    );
    assert!(exists(&w.store().join("trust-list.cbor")));
    assert_says(
        &w.sync_list("v1-again.cbor", &v1),
        0,
        &["Already up to date"],
    );

    // Each province's ledger, from its own node, checked against the list's anchor.
    assert_says(
        &w.run(&["sync", "--province", "ecert-west", "--node", &west_node.url]),
        0,
        &["Province West (ecert-west)", "Synced ledger ecert-west"],
    );
    assert_says(
        &w.run(&["sync", "--province", "ecert-east", "--node", &east_node.url]),
        0,
        &["Province East (ecert-east)", "Synced ledger ecert-east"],
    );
    let east_bundle = w.store().join("provinces/ecert-east/bundle.cbor");
    assert!(exists(&east_bundle));
    // Incremental and "already up to date" work as for the counter's own ledger.
    assert_says(
        &w.run(&["sync", "--province", "ecert-east", "--node", &east_node.url]),
        0,
        &["Already up to date"],
    );
    // A node serving another ledger than the province asked for is refused.
    let out = w.run(&["sync", "--province", "ecert-east", "--node", &west_node.url]);
    assert_ne!(out.code(), 0, "{}", out.all());
    assert!(out.stderr.contains("Nothing was changed"), "{}", out.all());
    // A province not on the list cannot be synced.
    let north = World::builder().chain("ecert-north").build();
    let north_bundle = north.write_bundle(&w.dir.path("north.cbor"));
    assert_says(
        &w.run(&[
            "sync",
            "--province",
            "ecert-north",
            "--from-file",
            arg(&north_bundle),
        ]),
        exit_code_of("province-unknown"),
        &["not on the national trust list", "West (ecert-west)"],
    );
    assert!(!exists(&w.store().join("provinces/ecert-north")));

    // A West citizen's ID card; one QR code with certificates from both provinces.
    assert_says(
        &w.run(&["verify", &qr]),
        0,
        &["VALID", "Province:  West (ecert-west)"],
    );
    let both = west.show_all(
        &[(&west.id_card, &["name"]), (&east.record, &["result"])],
        ecert_testkit::now(),
        None,
    );
    assert_says(
        &w.run(&["verify", &both]),
        0,
        &[
            "2 certificates",
            "Province:  West (ecert-west)",
            "Province:  East (ecert-east)",
            "Revocation data of East (ecert-east)",
        ],
    );
    let json = w.run(&["verify", "--json", &both]);
    assert_eq!(json.code(), 0, "{}", json.all());
    let json: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(json["certificates"][0]["ledger"], "ecert-west");
    assert_eq!(json["certificates"][1]["province"], "East");
    assert_eq!(json["provinces"].as_array().unwrap().len(), 2);

    let status = w.run(&["status"]).ok();
    for words in [
        "National anchor:  ecert-national (4 national keys)",
        "Trust list:       ecert-national version 1",
        "approved by:    3 of 4 national keys",
        "East (ecert-east)",
        "synced:    block #",
    ] {
        assert!(status.contains(words), "{words:?} in {status}");
    }

    // Version 2 leaves East out: its data is deleted and its certificates stop verifying.
    let v2 = list(2, vec![entry("West", &west)], month, &[0, 1, 2, 3]);
    assert_says(
        &w.sync_list("v2.cbor", &v2),
        0,
        &[
            "version:          2 (previous: 1)",
            "Removed East (ecert-east): no longer on the national trust list; its synced data \
             was deleted",
        ],
    );
    assert!(!exists(&east_bundle));
    assert_says(
        &w.run(&["verify", &both]),
        exit_code_of("province-unknown"),
        &["INVALID"],
    );
    assert_says(&w.run(&["verify", &qr]), 0, &["VALID"]);
    assert_says(
        &w.run(&["sync", "--province", "ecert-east", "--node", &east_node.url]),
        exit_code_of("province-unknown"),
        &["not on the national trust list"],
    );

    // An older list is never taken back; a list too few keys approved, or expired, is
    // refused; nothing changes.
    let held = std::fs::read(w.store().join("trust-list.cbor")).unwrap();
    assert_says(
        &w.sync_list("v1-old.cbor", &v1),
        3,
        &["older than", "Nothing was changed"],
    );
    let v3 = |expires, signers: &[u16]| list(3, both_listed.clone(), expires, signers);
    assert_says(
        &w.sync_list("v3-two.cbor", &v3(month, &[0, 2])),
        exit_code_of("trust-list-not-approved"),
        &["trust-list-not-approved"],
    );
    assert_says(
        &w.sync_list("v3-expired.cbor", &v3(now.minus(60), &[0, 1, 2])),
        exit_code_of("trust-list-expired"),
        &["trust-list-expired"],
    );
    assert_says(
        &w.sync_list(
            "v2-other.cbor",
            &list(2, both_listed.clone(), month, &[0, 1, 2]),
        ),
        3,
        &["same version number"],
    );
    assert_eq!(
        std::fs::read(w.store().join("trust-list.cbor")).unwrap(),
        held
    );

    // A list that expires while held: the counter refuses every code from then on.
    let soon = ecert_testkit::now().plus(2);
    assert_says(
        &w.sync_list("v3-soon.cbor", &v3(soon, &[1, 2, 3])),
        0,
        &["version:          3"],
    );
    while ecert_testkit::now() < soon {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let qr = west.show(&west.id_card, &["name"], ecert_testkit::now());
    assert_says(
        &w.run(&["verify", &qr]),
        exit_code_of("trust-list-expired"),
        &["trust-list-expired"],
    );
    let status = w.run(&["status"]).ok();
    assert!(status.contains("EXPIRED"), "{status}");
}

#[test]
fn a_provincial_counter_also_checks_another_provinces_certificates() {
    let (west, east) = two_provinces();
    let w = Counter::new("home");
    let west_anchor = west.write_anchor(&w.dir.path("west.toml"));
    // The counter of West, set up with its own ledger and the national anchor at once.
    assert_says(
        &w.run(&[
            "init",
            "--anchor",
            arg(&west_anchor),
            "--national-anchor",
            arg(&w.national_anchor_file()),
        ]),
        0,
        &["now trusts ledger ecert-west", "ecert-national"],
    );
    let west_bundle = west.write_bundle(&w.dir.path("west.cbor"));
    w.run(&["sync", "--from-file", arg(&west_bundle)]).ok();
    let qr = west.show(&west.id_card, &["name"], ecert_testkit::now());
    // Without a list: exactly as a single-ledger counter.
    let out = w.run(&["verify", &qr]);
    assert_says(&out, 0, &["VALID"]);
    assert!(!out.stdout.contains("Province:"), "{}", out.stdout);

    let month = ecert_testkit::now().plus(30 * DAY);
    let v1 = list(
        1,
        vec![entry("West", &west), entry("East", &east)],
        month,
        &[0, 1, 2],
    );
    assert_says(
        &w.sync_list("v1.cbor", &v1),
        0,
        &["own ledger ecert-west is on the list as West (ecert-west)"],
    );
    // Its own ledger is synced as before, not as a province.
    assert_says(
        &w.run(&[
            "sync",
            "--province",
            "ecert-west",
            "--from-file",
            arg(&west_bundle),
        ]),
        2,
        &["own ledger"],
    );
    let east_bundle = east.write_bundle(&w.dir.path("east.cbor"));
    assert_says(
        &w.run(&[
            "sync",
            "--province",
            "ecert-east",
            "--from-file",
            arg(&east_bundle),
        ]),
        0,
        &["Province East (ecert-east)", "not synced from a file"],
    );
    // An East citizen's certificate at the West counter, with West's own in one code.
    let both = west.show_all(
        &[(&east.record, &["result"]), (&west.id_card, &["name"])],
        ecert_testkit::now(),
        None,
    );
    assert_says(
        &w.run(&["verify", &both]),
        0,
        &[
            "Province:  East (ecert-east)",
            "Province:  West (ecert-west)",
        ],
    );
    let status = w.run(&["status"]).ok();
    assert!(
        status.contains("Trusted ledger:   ecert-west")
            && status.contains("West (ecert-west) - this counter's own ledger"),
        "{status}"
    );

    // Another national anchor is refused unless forced; forced, it deletes the list and
    // the provinces' data taken under the old one.
    let other = NationalAnchor {
        federation: ChainId::new("elsewhere").unwrap(),
        keys: national_anchor().keys,
    };
    let other_file = w.dir.write(
        "other.toml",
        national_anchor_to_toml(&other, "another body"),
    );
    assert_says(
        &w.run(&["init", "--national-anchor", arg(&other_file)]),
        3,
        &["--force"],
    );
    assert_says(
        &w.run(&["init", "--national-anchor", arg(&other_file), "--force"]),
        0,
        &[
            "Replaced the national anchor of ecert-national",
            "were deleted",
        ],
    );
    assert!(!w.store().join("trust-list.cbor").exists());
    assert!(!w.store().join("provinces/ecert-east").exists());
    // The counter's own ledger still verifies, alone.
    assert_says(&w.run(&["verify", &qr]), 0, &["VALID"]);
}

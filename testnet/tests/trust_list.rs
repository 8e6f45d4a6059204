//! The national body's side of federation through the `ecert-testnet` binary: national
//! keys and the national anchor file, then a trust list naming two provinces by their
//! trust anchor files, which the verifier takes with that anchor.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use ecert_schemas::federation::NationalTrustList;
use ecert_testkit::{Cmd, Scratch, World};
use ecert_verifier::anchor_file::parse_national_anchor;
use ecert_verifier::federation::verify_trust_list;

fn testnet() -> Cmd {
    Cmd::at(env!("CARGO_BIN_EXE_ecert-testnet"))
}

#[test]
fn the_national_body_makes_keys_and_an_approved_trust_list() {
    let scratch = Scratch::new("trust-list");
    let keys = scratch.path("national");
    let out = testnet()
        .args(["national-keys", "--federation", "ecert-national", "--out"])
        .arg(&keys)
        .run()
        .ok();
    assert!(out.contains("Made 4 national keys"), "{out}");
    let anchor =
        parse_national_anchor(&std::fs::read_to_string(keys.join("national-anchor.toml")).unwrap())
            .unwrap();
    assert_eq!(anchor.keys.len(), 4);
    #[cfg(unix)]
    assert_eq!(
        ecert_testkit::scratch::mode(&keys.join("national-key-0.hex")),
        0o600
    );
    // Keys are never replaced.
    let again = testnet()
        .args(["national-keys", "--federation", "ecert-national", "--out"])
        .arg(&keys)
        .run();
    assert_ne!(again.code(), 0, "{}", again.all());

    let west = World::builder().chain("ecert-west").build();
    let east = World::builder().chain("ecert-east").build();
    let west_anchor = west.write_anchor(&scratch.path("west.toml"));
    let east_anchor = east.write_anchor(&scratch.path("east.toml"));
    let make = |out: &str, signers: &[u16]| {
        let mut cmd = testnet()
            .args([
                "trust-list",
                "--seq",
                "1",
                "--valid-days",
                "10",
                "--national-anchor",
            ])
            .arg(keys.join("national-anchor.toml"))
            .arg("--province")
            .arg(format!("West={}", west_anchor.display()))
            .arg("--province")
            .arg(format!(
                "East={}:id-card,no-criminal-record",
                east_anchor.display()
            ))
            .arg("--out")
            .arg(scratch.path(out));
        for i in signers {
            cmd = cmd
                .arg("--key-seed-file")
                .arg(keys.join(format!("national-key-{i}.hex")));
        }
        cmd.run()
    };
    let out = make("list.cbor", &[3, 0, 2]).ok();
    assert!(out.contains("approved by 3 of 4 national keys"), "{out}");
    assert!(!out.contains("Warning"), "{out}");
    let list =
        NationalTrustList::from_bytes(&std::fs::read(scratch.path("list.cbor")).unwrap()).unwrap();
    let now = ecert_testkit::now();
    let verified = verify_trust_list(&list, &anchor, now).unwrap();
    assert_eq!(verified.seq(), 1);
    let names: Vec<&str> = verified
        .provinces()
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(names, ["East", "West"], "sorted by chain id");
    let east_kinds: Vec<&str> = verified.provinces()[0]
        .kinds
        .iter()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(east_kinds, ["id-card", "no-criminal-record"]);
    assert_eq!(
        verified.province_anchor(&east.province.trust_anchor().unwrap().chain_id),
        Some(east.province.trust_anchor().unwrap())
    );
    assert!(verify_trust_list(&list, &anchor, now.plus(11 * 86_400)).is_err());

    // Too few keys: written, with a warning, and counters refuse it.
    let out = make("two.cbor", &[0, 1]).ok();
    assert!(out.contains("Warning"), "{out}");
    let two =
        NationalTrustList::from_bytes(&std::fs::read(scratch.path("two.cbor")).unwrap()).unwrap();
    assert_eq!(
        verify_trust_list(&two, &anchor, now).unwrap_err().code(),
        "trust-list-not-approved"
    );
    // A key that is not a national key, or given twice.
    let stranger = scratch.write("stranger.hex", format!("{}\n", "07".repeat(32)));
    let out = testnet()
        .args(["trust-list", "--seq", "2", "--national-anchor"])
        .arg(keys.join("national-anchor.toml"))
        .arg("--province")
        .arg(format!("West={}", west_anchor.display()))
        .arg("--key-seed-file")
        .arg(&stranger)
        .arg("--out")
        .arg(scratch.path("x.cbor"))
        .run();
    assert_ne!(out.code(), 0);
    assert!(
        out.stderr.contains("not one of the national anchor's keys"),
        "{}",
        out.all()
    );
    let out = make("twice.cbor", &[1, 1, 2]);
    assert_ne!(out.code(), 0);
    assert!(out.stderr.contains("twice"), "{}", out.all());
}

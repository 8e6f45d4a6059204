//! The README's main command: the story runs end to end, prints a VALID verdict with only
//! the chosen fields, writes a QR PNG that a standard decoder reads back to the same
//! string, and rejects the presentation as revoked after the revocation.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use ecert_testkit::cmd::bin_path;
use ecert_testkit::{scan_png, Cmd, Scratch};

fn testnet() -> Cmd {
    Cmd::at(env!("CARGO_BIN_EXE_ecert-testnet"))
}

#[test]
fn the_in_process_story_runs_end_to_end() {
    let scratch = Scratch::new("story");
    let out = scratch.path("out");
    let stdout = testnet()
        .args(["story", "--in-process", "--out"])
        .arg(&out)
        .run()
        .ok();
    assert!(stdout.contains("==> VALID"), "{stdout}");
    assert!(
        stdout.contains("110108199003070016"),
        "the chosen ID number is shown"
    );
    assert!(
        !stdout.contains("中关村"),
        "the address was not chosen and must not be shown"
    );
    assert!(stdout.contains("==> INVALID: revoked"), "{stdout}");

    let text = std::fs::read_to_string(out.join("presentation.txt")).unwrap();
    assert_eq!(scan_png(&out.join("presentation.png")), text);
    assert!(std::fs::read_to_string(out.join("presentation.svg"))
        .unwrap()
        .contains("<svg"));
}

#[test]
fn help_explains_the_commands() {
    let stdout = testnet().arg("--help").run().ok();
    assert!(stdout.contains("story"));
}

#[test]
fn an_unwritable_output_directory_is_a_clear_error() {
    let run = testnet()
        .args(["story", "--out", "/proc/ecert-cannot-write-here"])
        .run();
    assert!(!run.success(), "{}", run.all());
    assert!(run.stderr.contains("cannot create"), "{}", run.all());
}

/// The README's main command on the real network: four `ecert-node` processes, the
/// department, citizen and counter tools as separate programs (built beside this one by
/// `cargo test --workspace --all-features`).
#[test]
fn the_story_runs_on_the_four_node_network_through_the_tools() {
    let scratch = Scratch::new("net-story");
    let out = scratch.path("out");
    // Each tool must be built beside this test (bin_path says how otherwise).
    let bin_dir = bin_path("ecert-testnet").parent().unwrap().to_owned();
    for tool in ["ecert-node", "ecert-issuer", "ecert-wallet", "ecert-verify"] {
        assert_eq!(bin_path(tool).parent(), Some(bin_dir.as_path()));
    }
    let stdout = testnet()
        .args(["story", "--out"])
        .arg(&out)
        .env("ECERT_BIN_DIR", &bin_dir)
        .run()
        .ok();
    for expected in [
        "$ ecert-issuer issue --kind id-card",
        "present --show id-card:name,id_number",
        "VALID",
        "110108199003070016",
        "$ ecert-issuer revoke",
        "INVALID: revoked",
        "REVOKED by justice (certified",
    ] {
        assert!(stdout.contains(expected), "{expected:?} missing:\n{stdout}");
    }
    assert!(
        !stdout.contains("中关村"),
        "the address was not chosen: {stdout}"
    );
    // The PNG the wallet wrote is what the counter read: a standard decoder reads it back
    // to the text the wallet saved.
    let text = std::fs::read_to_string(out.join("presentation.txt")).unwrap();
    assert_eq!(scan_png(&out.join("presentation.png")).trim(), text.trim());
    // Nothing left running: every node was stopped (a stopped node has no pid file).
    for node in std::fs::read_dir(out.join("network/nodes")).unwrap() {
        let pid_file = node.unwrap().path().join("node.pid");
        assert!(!pid_file.exists(), "{} remains", pid_file.display());
    }
}

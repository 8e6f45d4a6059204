//! The README's main command: the story runs end to end, prints a VALID verdict with only
//! the chosen fields, writes a QR PNG that a standard decoder reads back to the same
//! string, and rejects the presentation as revoked after the revocation.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::process::Command;

#[test]
fn the_in_process_story_runs_end_to_end() {
    let out = std::env::temp_dir().join(format!("ecert-story-{}", std::process::id()));
    let output = Command::new(env!("CARGO_BIN_EXE_ecert-testnet"))
        .args(["story", "--in-process", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "story failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
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
    let img = image::open(out.join("presentation.png"))
        .unwrap()
        .to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(img);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1);
    assert_eq!(grids[0].decode().unwrap().1, text);
    assert!(std::fs::read_to_string(out.join("presentation.svg"))
        .unwrap()
        .contains("<svg"));
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn help_explains_the_commands() {
    let output = Command::new(env!("CARGO_BIN_EXE_ecert-testnet"))
        .arg("--help")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success());
    assert!(stdout.contains("story"));
}

#[test]
fn an_unwritable_output_directory_is_a_clear_error() {
    let output = Command::new(env!("CARGO_BIN_EXE_ecert-testnet"))
        .args(["story", "--out", "/proc/ecert-cannot-write-here"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot create"));
}

/// The README's main command on the real network: four `ecert-node` processes, the
/// department, citizen and counter tools as separate programs (built beside this one by
/// `cargo test --workspace --all-features`).
#[test]
fn the_story_runs_on_the_four_node_network_through_the_tools() {
    let out = std::env::temp_dir().join(format!("ecert-net-story-{}", std::process::id()));
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_ecert-testnet"))
        .parent()
        .unwrap()
        .to_owned();
    for tool in ["ecert-node", "ecert-issuer", "ecert-wallet", "ecert-verify"] {
        assert!(
            bin_dir.join(tool).is_file(),
            "{tool} is not built in {}: run the workspace's tests (cargo test --workspace \
             --all-features), which build every tool",
            bin_dir.display()
        );
    }
    let output = Command::new(env!("CARGO_BIN_EXE_ecert-testnet"))
        .args(["story", "--out"])
        .arg(&out)
        .env("ECERT_BIN_DIR", &bin_dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "story failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
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
    let img = image::open(out.join("presentation.png"))
        .unwrap()
        .to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(img);
    let grids = prepared.detect_grids();
    let (_, content) = grids[0].decode().unwrap();
    assert_eq!(content.trim(), text.trim());
    // Nothing left running: every node was stopped (a stopped node has no pid file).
    for node in std::fs::read_dir(out.join("network/nodes")).unwrap() {
        let pid_file = node.unwrap().path().join("node.pid");
        assert!(!pid_file.exists(), "{} remains", pid_file.display());
    }
    let _ = std::fs::remove_dir_all(&out);
}

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
fn the_story_runs_end_to_end() {
    let out = std::env::temp_dir().join(format!("ecert-story-{}", std::process::id()));
    let output = Command::new(env!("CARGO_BIN_EXE_ecert-testnet"))
        .args(["story", "--out"])
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

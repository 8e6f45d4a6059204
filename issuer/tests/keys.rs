//! Keys and files, through the real `ecert-issuer` binary: a home or key file open to other
//! users is refused by every command with the fix printed and its own exit code, and a
//! new passphrase follows the one set of rules shared with the wallet and the node
//! (`ecert_shell::passphrase`).
#![cfg(unix)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use ecert_testkit::issuer::{self, PASSPHRASE};
use ecert_testkit::scratch::{mode, set_mode};
use ecert_testkit::{Cmd, Scratch};

/// Exit code of a home or key open to other users (the issuer's table).
const PERMISSIONS: i32 = 7;
/// Exit code of bad input, a refused new passphrase among them.
const INPUT: i32 = 2;

#[test]
fn a_home_or_key_open_to_other_users_is_refused_with_the_fix() {
    let s = Scratch::new("issuer-keys-open");
    let home = s.path("home");
    issuer::run(&home, &["init", "--issuer", "justice"]).ok();
    let key = home.join("key.eck");
    assert_eq!(mode(&home), 0o700);
    assert_eq!(mode(&key), 0o600);
    let public = issuer::run(&home, &["key"]).ok();

    set_mode(&home, 0o755);
    for args in [
        &["key"][..],
        &["list"],
        &["config", "--node", "https://10.0.0.1:7200"],
    ] {
        let err = issuer::run(&home, args).fails_with(PERMISSIONS);
        assert!(err.contains("is open to other users (mode 0755"), "{err}");
        assert!(
            err.contains(&format!("chmod 700 {}", home.display())),
            "{err}"
        );
    }
    set_mode(&home, 0o700);

    set_mode(&key, 0o640);
    let err = issuer::run(&home, &["key"]).fails_with(PERMISSIONS);
    assert!(err.contains("mode 0640: they can read it"), "{err}");
    assert!(
        err.contains(&format!("chmod 600 {}", key.display())),
        "{err}"
    );
    set_mode(&key, 0o600);
    assert_eq!(issuer::run(&home, &["key"]).ok(), public);
}

#[test]
fn init_makes_an_existing_empty_folder_private() {
    let s = Scratch::new("issuer-keys-empty");
    let home = s.path("home");
    std::fs::create_dir(&home).unwrap();
    set_mode(&home, 0o755);
    issuer::run(&home, &["init", "--issuer", "justice"]).ok();
    assert_eq!(mode(&home), 0o700);
    issuer::run(&home, &["key"]).ok();
}

#[test]
fn a_new_passphrase_follows_the_shared_rules() {
    let s = Scratch::new("issuer-keys-rules");
    let home = s.path("home");
    let init = |passphrase: &str| {
        Cmd::new("ecert-issuer")
            .env("ECERT_ISSUER_PASSPHRASE", passphrase)
            .args([
                "--home",
                home.to_str().unwrap(),
                "init",
                "--issuer",
                "justice",
            ])
            .run()
    };
    for (bad, says) in [
        ("seven77", "must be at least 8 characters long"),
        ("        ", "must not be only spaces"),
        (
            &"x".repeat(1025)[..],
            "must be at most 1024 characters long",
        ),
    ] {
        let err = init(bad).fails_with(INPUT);
        assert!(
            err.contains(&format!("the department key passphrase {says}")),
            "{err}"
        );
        assert!(!home.join("key.eck").exists());
    }
    init(PASSPHRASE).ok();
}

#[test]
fn the_help_lists_the_permissions_exit_code() {
    let help = Cmd::new("ecert-issuer").arg("--help").run().ok();
    assert!(
        help.contains("7  the home or its key file is open to other users"),
        "{help}"
    );
}

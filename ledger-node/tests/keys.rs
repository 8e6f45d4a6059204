//! Keys and files, through the real `ecert-node` binary: a home or validator key open to
//! other users is refused at start (and by `approve`) with the fix printed and its own
//! exit code, before the passphrase is asked for or anything else is read; a new key's
//! passphrase follows the one set of rules shared with the wallet and the department's
//! tool (`ecert_shell::passphrase`).
#![cfg(unix)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::Path;

use ecert_testkit::scratch::{mode, set_mode};
use ecert_testkit::{Cmd, Scratch};

const PASSPHRASE: &str = "node key passphrase";
/// Exit code of a home or key open to other users (the node's table).
const PERMISSIONS: i32 = 3;
/// Exit code of other failures, a refused new passphrase among them.
const FAILED: i32 = 1;

fn node(home: &Path, passphrase: &str, args: &[&str]) -> Cmd {
    Cmd::new("ecert-node")
        .env("ECERT_NODE_PASSPHRASE", passphrase)
        .args(args)
        .arg("--home")
        .arg(home)
}

/// `run` with a genesis that does not exist: whatever is refused first is what matters.
fn run(home: &Path) -> Cmd {
    node(
        home,
        PASSPHRASE,
        &["run", "--genesis", "/nonexistent/genesis.toml"],
    )
}

#[test]
fn a_home_or_key_open_to_other_users_is_refused_at_start() {
    let s = Scratch::new("node-keys-open");
    let home = s.path("home");
    node(&home, PASSPHRASE, &["init", "--department", "justice"])
        .run()
        .ok();
    let key = home.join("node.key");
    assert_eq!(mode(&home), 0o700);
    assert_eq!(mode(&key), 0o600);
    // A sound home gets as far as the genesis.
    let err = run(&home).run().fails_with(FAILED);
    assert!(err.contains("genesis"), "{err}");

    set_mode(&key, 0o644);
    let err = run(&home).run().fails_with(PERMISSIONS);
    assert!(err.contains("is open to other users (mode 0644"), "{err}");
    assert!(
        err.contains(&format!("chmod 600 {}", key.display())),
        "{err}"
    );
    let err = node(
        &home,
        PASSPHRASE,
        &[
            "approve",
            "--genesis",
            "g.toml",
            "--proposal",
            "p.cbor",
            "--out",
            "a.cbor",
        ],
    )
    .run()
    .fails_with(PERMISSIONS);
    assert!(
        err.contains(&format!("chmod 600 {}", key.display())),
        "{err}"
    );
    set_mode(&key, 0o600);

    set_mode(&home, 0o750);
    let err = run(&home).run().fails_with(PERMISSIONS);
    assert!(
        err.contains("mode 0750: they can read and enter it"),
        "{err}"
    );
    assert!(
        err.contains(&format!("chmod 700 {}", home.display())),
        "{err}"
    );
    set_mode(&home, 0o700);
    run(&home).run().fails_with(FAILED);
}

#[test]
fn a_new_key_passphrase_follows_the_shared_rules() {
    let s = Scratch::new("node-keys-rules");
    let home = s.path("home");
    for (bad, says) in [
        ("seven77", "must be at least 8 characters long"),
        ("        ", "must not be only spaces"),
        (
            &"x".repeat(1025)[..],
            "must be at most 1024 characters long",
        ),
    ] {
        let err = node(&home, bad, &["init", "--department", "justice"])
            .run()
            .fails_with(FAILED);
        assert!(
            err.contains(&format!("the node key passphrase {says}")),
            "{err}"
        );
        assert!(!home.join("node.key").exists());
    }
}

#[test]
fn the_help_lists_the_exit_codes() {
    let help = Cmd::new("ecert-node").arg("--help").run().ok();
    assert!(help.contains("Exit codes:"), "{help}");
    assert!(
        help.contains("3  the home or its key file is open to other users"),
        "{help}"
    );
}

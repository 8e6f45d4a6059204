//! Keys and files, through the real `ecert-wallet` binary: a wallet file or folder open to
//! other users is refused with the fix printed and its own exit code, and every new
//! passphrase follows the one set of rules shared with the department's and the node's
//! tools (`ecert_shell::passphrase`).
#![cfg(unix)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::PathBuf;

use ecert_testkit::scratch::{mode, set_mode};
use ecert_testkit::{Cmd, Scratch};

const PASSPHRASE: &str = "correct horse battery staple";
/// Exit code of a wallet or folder open to other users (the wallet's table).
const PERMISSIONS: i32 = 10;
/// Exit code of other errors on this computer, a refused passphrase among them.
const ERROR: i32 = 1;

struct Device {
    _dir: Scratch,
    folder: PathBuf,
    wallet: PathBuf,
}

impl Device {
    /// A device whose wallet is `data/wallet.ecw` in a scratch folder (not created yet).
    fn new(name: &str) -> Device {
        let dir = Scratch::new(&format!("wallet-keys-{name}"));
        let folder = dir.path("data");
        Device {
            wallet: folder.join("wallet.ecw"),
            folder,
            _dir: dir,
        }
    }

    fn cmd(&self, args: &[&str], passphrase: &str) -> Cmd {
        Cmd::new("ecert-wallet")
            .args(args)
            .env("ECERT_WALLET", &self.wallet)
            .env("ECERT_WALLET_PASSPHRASE", passphrase)
    }

    fn init(&self) {
        self.cmd(&["init"], PASSPHRASE).run().ok();
    }
}

#[test]
fn a_wallet_open_to_other_users_is_refused_with_the_fix() {
    let d = Device::new("open");
    d.init();
    // What the tool creates is private to its owner.
    assert_eq!(mode(&d.wallet), 0o600);
    assert_eq!(mode(&d.folder), 0o700);
    let before = std::fs::read(&d.wallet).unwrap();

    set_mode(&d.wallet, 0o644);
    for args in [&["id"][..], &["list"], &["passwd"]] {
        let err = d
            .cmd(args, PASSPHRASE)
            .env("ECERT_NEW_WALLET_PASSPHRASE", "another good passphrase")
            .run()
            .fails_with(PERMISSIONS);
        assert!(err.contains("is open to other users (mode 0644"), "{err}");
        assert!(
            err.contains(&format!("chmod 600 {}", d.wallet.display())),
            "{err}"
        );
    }
    assert_eq!(std::fs::read(&d.wallet).unwrap(), before, "changed");
    set_mode(&d.wallet, 0o600);
    d.cmd(&["id"], PASSPHRASE).run().ok();

    // Its folder, which the user chose, may be listed by others but not changed.
    set_mode(&d.folder, 0o755);
    d.cmd(&["id"], PASSPHRASE).run().ok();
    set_mode(&d.folder, 0o777);
    let err = d.cmd(&["id"], PASSPHRASE).run().fails_with(PERMISSIONS);
    assert!(err.contains("mode 0777: they can change it"), "{err}");
    assert!(
        err.contains(&format!("chmod go-w {}", d.folder.display())),
        "{err}"
    );
    set_mode(&d.folder, 0o700);
}

#[test]
fn no_wallet_is_created_in_a_folder_others_can_change() {
    let d = Device::new("new");
    std::fs::create_dir(&d.folder).unwrap();
    set_mode(&d.folder, 0o733);
    let err = d.cmd(&["init"], PASSPHRASE).run().fails_with(PERMISSIONS);
    assert!(
        err.contains(&format!("chmod go-w {}", d.folder.display())),
        "{err}"
    );
    assert!(!d.wallet.exists());
    set_mode(&d.folder, 0o755);
    d.init();
    assert_eq!(mode(&d.wallet), 0o600);
}

#[test]
fn every_new_wallet_passphrase_follows_the_shared_rules() {
    let d = Device::new("rules");
    for (bad, says) in [
        ("seven77", "must be at least 8 characters long"),
        ("        ", "must not be only spaces"),
        (
            &"x".repeat(1025)[..],
            "must be at most 1024 characters long",
        ),
    ] {
        let err = d.cmd(&["init"], bad).run().fails_with(ERROR);
        assert!(
            err.contains(&format!("the wallet passphrase {says}")),
            "{err}"
        );
        assert!(!d.wallet.exists());
    }
    // Characters, not bytes; spaces inside are fine.
    d.cmd(&["init"], "密码 密码 密码").run().ok();
    std::fs::remove_file(&d.wallet).unwrap();
    d.init();
    let before = std::fs::read(&d.wallet).unwrap();

    // `passwd`: the same rules, and not the current passphrase again.
    for (new, says) in [
        ("short", "must be at least 8 characters long"),
        (PASSPHRASE, "is the same as the current one"),
    ] {
        let err = d
            .cmd(&["passwd"], PASSPHRASE)
            .env("ECERT_NEW_WALLET_PASSPHRASE", new)
            .run()
            .fails_with(ERROR);
        assert!(
            err.contains(&format!("the new wallet passphrase {says}")),
            "{err}"
        );
        assert_eq!(std::fs::read(&d.wallet).unwrap(), before, "changed");
    }

    // `backup` and `restore`: the backup's passphrase and the restored wallet's.
    let backup = d.folder.join("backup.ecw");
    let err = d
        .cmd(&["backup", backup.to_str().unwrap()], PASSPHRASE)
        .env("ECERT_BACKUP_PASSPHRASE", "short")
        .run()
        .fails_with(ERROR);
    assert!(
        err.contains("the backup passphrase must be at least 8"),
        "{err}"
    );
    d.cmd(&["backup", backup.to_str().unwrap()], PASSPHRASE)
        .env("ECERT_BACKUP_PASSPHRASE", "a backup passphrase")
        .run()
        .ok();
    let err = d
        .cmd(&["restore", "--force", backup.to_str().unwrap()], "short")
        .env("ECERT_BACKUP_PASSPHRASE", "a backup passphrase")
        .run()
        .fails_with(ERROR);
    assert!(
        err.contains("the wallet passphrase must be at least 8"),
        "{err}"
    );
    assert_eq!(std::fs::read(&d.wallet).unwrap(), before, "changed");
}

#[test]
fn the_help_lists_the_permissions_exit_code() {
    let help = Cmd::new("ecert-wallet").arg("--help").run().ok();
    assert!(
        help.contains("10  the wallet file or its folder is open to other users"),
        "{help}"
    );
}

//! The `ecert-wallet` command as a citizen uses it: the real binary, run in temporary
//! folders, with a wallet file and passphrases from the environment, and certificates
//! issued by the test kit's world (the in-process province) to the key the wallet prints.
//!
//! The test kit's command runner sets `ECERT_TEST_KDF=1`, which makes the binary seal with
//! cheap (test-only) Argon2 settings so that each command takes milliseconds.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::PathBuf;

use ecert_schemas::copy::{AnyPresentation, CopyPackage};
use ecert_schemas::{CertificatePackage, Nonce, PublicKeyBytes};
use ecert_testkit::http::{dead_address, Reply, Server};
use ecert_testkit::province::Province;
use ecert_testkit::world::short_id;
use ecert_testkit::{
    contains_bytes as contains, now, sample, scan_png, Cmd, FakeNode, Lie, Run, Scratch, World,
    DAY, HOUR,
};
use ecert_verifier::{verify_presentation, Policy, Verdict, VerifyError};
use ecert_wallet::{store, Held};
use rand_core::OsRng;
use zeroize::Zeroizing;

const PASSPHRASE: &str = "correct horse battery staple";

/// A temporary "device": a folder with a wallet path and the passphrase in the environment.
struct Device {
    dir: Scratch,
    wallet: PathBuf,
    passphrase: String,
}

impl Device {
    fn new(name: &str) -> Device {
        let dir = Scratch::new(&format!("wallet-cli-{name}"));
        Device {
            wallet: dir.path("data").join("wallet.ecw"),
            dir,
            passphrase: PASSPHRASE.into(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path(name)
    }

    /// The command with this device's wallet and passphrase.
    fn cmd(&self, args: &[&str]) -> Cmd {
        Cmd::new("ecert-wallet")
            .args(args)
            .env("ECERT_WALLET", &self.wallet)
            .env("ECERT_WALLET_PASSPHRASE", &self.passphrase)
    }

    fn run(&self, args: &[&str]) -> Run {
        self.cmd(args).run()
    }

    /// Runs a command that must succeed; returns its standard output.
    fn ok(&self, args: &[&str]) -> String {
        self.run(args).ok()
    }

    /// Runs `present --show CHOICE MORE...`, which must succeed; returns its standard
    /// output.
    fn present(&self, choice: &str, more: &[&str]) -> String {
        self.ok(&present(choice, more))
    }

    /// Runs a command that must fail with exit code 1; returns its standard error.
    fn fails(&self, cmd: Cmd) -> String {
        cmd.run().fails_with(1)
    }

    fn wallet_bytes(&self) -> Vec<u8> {
        std::fs::read(&self.wallet).unwrap()
    }

    /// The wallet ID, read from `id`'s output as a citizen would copy it.
    fn wallet_id(&self) -> PublicKeyBytes {
        let out = self.ok(&["id"]);
        let line = out
            .lines()
            .map(str::trim)
            .find(|l| l.len() == 64 && l.chars().all(|c| c.is_ascii_hexdigit()))
            .unwrap_or_else(|| panic!("no wallet ID in: {out}"));
        PublicKeyBytes::from_hex(line).unwrap()
    }

    fn write_package(&self, name: &str, package: &CertificatePackage) -> PathBuf {
        self.dir.write(name, package.to_bytes().unwrap())
    }
}

/// The test kit's world issued to a new wallet of the `ecert-wallet` binary, which has
/// received both certificates.
struct Citizen {
    world: World,
    device: Device,
}

ecert_testkit::deref_to_world!(Citizen);

impl Citizen {
    fn new(name: &str) -> Citizen {
        Citizen::at(name, now())
    }

    /// A citizen of a world whose newest block is of `ledger_time`.
    fn at(name: &str, ledger_time: ecert_schemas::UnixTime) -> Citizen {
        let device = Device::new(name);
        let out = device.ok(&["init"]);
        assert!(out.contains("Created your wallet"), "{out}");
        let world = World::builder()
            .chain("ecert-cli-test")
            .genesis_age(200 * DAY)
            .now(ledger_time)
            .build_for(device.wallet_id());
        let id_file = device.write_package("id-card.ecp", &world.id_card);
        let record_file = device.write_package("record.ecp", &world.record);
        let out = device.ok(&[
            "receive",
            id_file.to_str().unwrap(),
            record_file.to_str().unwrap(),
        ]);
        assert!(out.contains("2 certificate(s)"), "{out}");
        Citizen { world, device }
    }

    /// Issues a driver licence to the wallet and receives it: a second certificate the
    /// wallet shows without a request (no-criminal-record certificates are shown only in
    /// answer to a registered employer's or office's request).
    fn receive_licence(&mut self) -> CertificatePackage {
        let licence = self
            .world
            .issue_now("transport", sample::driver_licence(now()));
        let file = self.device.write_package("licence.ecp", &licence);
        self.device.ok(&["receive", file.to_str().unwrap()]);
        licence
    }

    /// What a counter synced now says of `qr` now.
    fn verify(&self, qr: &str, policy: &Policy) -> Result<Verdict, VerifyError> {
        verify_presentation(qr, &self.store(), now(), policy)
    }
}

/// The arguments `present --show CHOICE` followed by `more`.
fn present<'a>(choice: &'a str, more: &[&'a str]) -> Vec<&'a str> {
    [&["present", "--show", choice][..], more].concat()
}

fn disclosed(verdict: &Verdict, i: usize) -> Vec<(String, String)> {
    verdict.certificates[i]
        .disclosed
        .iter()
        .map(|f| (f.key.clone(), f.value.to_string()))
        .collect()
}

#[test]
fn help_explains_every_command() {
    let device = Device::new("help");
    let top = device.ok(&["--help"]);
    for word in [
        "init",
        "id",
        "receive",
        "list",
        "show",
        "present",
        "backup",
        "restore",
        "passwd",
        "trust",
        "refresh",
        "history",
        "ECERT_WALLET_PASSPHRASE",
        "wallet.ecw",
        "Exit codes",
        "11  present: every copy of a certificate has been shown",
    ] {
        assert!(top.contains(word), "top-level help lacks {word:?}:\n{top}");
    }
    let expected: [(&str, &[&str]); 12] = [
        ("init", &["passphrase", "never overwritten"]),
        ("id", &["department", "--png"]),
        (
            "receive",
            &["issued to THIS wallet", "offer code", "--offer", "--issuer"],
        ),
        ("trust", &["--anchor", "--force", "not in backups"]),
        ("refresh", &["--node", "UNVERIFIED", "certified", "REVOKED"]),
        ("list", &["EXPIRED", "short ID", "copies left"]),
        ("show", &["CERTIFICATE", "present --show"]),
        (
            "present",
            &[
                "--show",
                "--nonce",
                "--live",
                "--interval",
                "--count",
                "--text",
                "--png",
                "--svg",
                "hotel",
                "one minute",
                "one-time copies",
                "--reuse-copy",
                "exit code 11",
            ],
        ),
        (
            "history",
            &[
                "--json",
                "--since",
                "--limit",
                "--clear",
                "--yes",
                "never their values",
                "10000",
            ],
        ),
        ("backup", &["ECERT_BACKUP_PASSPHRASE", "--force", "restore"]),
        ("restore", &["backup", "--force", "new phone or computer"]),
        ("passwd", &["ECERT_NEW_WALLET_PASSPHRASE"]),
    ];
    for (command, words) in expected {
        let help = device.ok(&[command, "--help"]);
        assert!(help.contains("Usage: ecert-wallet"), "{help}");
        for word in words {
            assert!(
                help.contains(word),
                "'{command} --help' lacks {word:?}:\n{help}"
            );
        }
        // The test-only KDF switch is not advertised.
        assert!(!help.contains("TEST_KDF"), "{help}");
    }
    assert!(!top.contains("TEST_KDF"));
    // `help` for nothing is a usage error, not a crash.
    let out = device.run(&[]);
    assert_eq!(out.code, Some(2));
}

#[test]
fn init_receive_list_and_show() {
    let mut world = Citizen::new("receive");
    let device = &world.device;
    let now = now();
    let id_short = short_id(&world.id_card);
    let record_short = short_id(&world.record);

    // init never overwrites a wallet.
    let before = device.wallet_bytes();
    let err = device.fails(device.cmd(&["init"]));
    assert!(err.contains("already a wallet"), "{err}");
    assert_eq!(device.wallet_bytes(), before);
    // The ID stays the same.
    assert_eq!(device.wallet_id(), world.holder);

    let list = device.ok(&["list"]);
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 3, "{list}");
    assert!(lines[0].starts_with("ID"), "{list}");
    let until = ecert_schemas::date::date_of_unix(
        ecert_schemas::Certificate::from_bytes(&world.id_card.certificate)
            .unwrap()
            .claims
            .expires
            .secs(),
    )
    .to_string();
    assert!(lines[1].starts_with(&id_short), "{list}");
    for part in ["id-card", "public-security", "National ID card", &until] {
        assert!(lines[1].contains(part), "{part:?} missing in {list}");
    }
    assert!(lines[2].starts_with(&record_short), "{list}");
    for part in [
        "no-criminal-record",
        "justice",
        "No-criminal-record certificate",
    ] {
        assert!(lines[2].contains(part), "{part:?} missing in {list}");
    }
    assert!(!list.contains("EXPIRED"), "{list}");

    let show = device.ok(&["show", "id-card"]);
    for part in [
        "National ID card (居民身份证)",
        "Name (姓名): 张伟",
        sample::ID_NUMBER,
        "北京市海淀区中关村大街27号",
        "address",
        "id_number",
        "portrait_digest",
        "public-security",
        &world.id_card_id(),
    ] {
        assert!(show.contains(part), "{part:?} missing in:\n{show}");
    }
    // By short id, and by a shorter prefix in capitals.
    assert_eq!(
        device.ok(&["show", &record_short]),
        device.ok(&["show", &record_short[..6].to_uppercase()])
    );
    assert!(device
        .ok(&["show", &record_short])
        .contains("Result (查询结果): no-record"));

    // Receiving the same certificate again adds nothing and leaves the file untouched.
    let before = device.wallet_bytes();
    let again = device.write_package("again.ecp", &world.id_card);
    let out = device.ok(&["receive", again.to_str().unwrap()]);
    assert!(out.contains("already in your wallet"), "{out}");
    assert_eq!(device.wallet_bytes(), before);

    // An expired certificate is kept and marked.
    let long_ago = now.minus(100 * DAY);
    let old = world.world.issue_one(
        "justice",
        sample::no_criminal_record(long_ago),
        long_ago,
        long_ago,
    );
    let old_file = device.write_package("old.ecp", &old);
    let out = device.ok(&["receive", old_file.to_str().unwrap()]);
    assert!(out.contains("EXPIRED"), "{out}");
    let list = device.ok(&["list"]);
    let old_line = list
        .lines()
        .find(|l| l.starts_with(&short_id(&old)))
        .unwrap();
    assert!(old_line.ends_with("EXPIRED"), "{list}");
    assert_eq!(list.matches("EXPIRED").count(), 1, "{list}");

    // Not a package, a missing file, an unknown certificate.
    let junk = device.path("junk.ecp");
    std::fs::write(&junk, b"hello").unwrap();
    let err = device.fails(device.cmd(&["receive", junk.to_str().unwrap()]));
    assert!(err.contains("not a certificate file"), "{err}");
    let err = device.fails(device.cmd(&["receive", "/nonexistent/x.ecp"]));
    assert!(err.contains("cannot read"), "{err}");
    let err = device.fails(device.cmd(&["show", "ffffffffff"]));
    assert!(err.contains("no certificate has a short ID"), "{err}");
}

impl Citizen {
    fn id_card_id(&self) -> String {
        ecert_testkit::world::certificate(&self.id_card)
            .claims
            .id
            .to_hex()
    }
}

#[test]
fn presents_chosen_fields_in_one_qr_code_that_verifies() {
    let mut world = Citizen::new("present");
    world.receive_licence();
    let device = &world.device;
    let png = device.path("qr.png");
    let out = device
        .cmd(&present_both(&["--text", "--png", png.to_str().unwrap()]))
        .run();
    assert!(out.success(), "{}", out.stderr);
    let stdout = out.stdout;
    let qr = stdout.trim_end_matches('\n');
    assert!(qr.starts_with("EC1"), "{stdout}");
    assert_eq!(
        qr.lines().count(),
        1,
        "only the QR text on stdout: {stdout}"
    );
    let stderr = out.stderr;
    assert!(
        stderr.contains(&format!("{} characters, QR version", qr.len())),
        "{stderr}"
    );
    assert!(stderr.contains("name, id_number"), "{stderr}");

    let verdict = world.verify(qr, &Policy::default()).unwrap();
    assert_eq!(verdict.holder, world.holder);
    assert_eq!(verdict.certificates.len(), 2);
    assert_eq!(verdict.certificates[0].kind.as_str(), "id-card");
    assert_eq!(
        disclosed(&verdict, 0),
        [
            ("name".to_owned(), "张伟".to_owned()),
            ("id_number".to_owned(), sample::ID_NUMBER.to_owned())
        ]
    );
    assert_eq!(verdict.certificates[1].kind.as_str(), "driver-licence");
    assert_eq!(
        disclosed(&verdict, 1),
        [("licence_number".to_owned(), sample::ID_NUMBER.to_owned())]
    );
    assert!(!verdict.nonce_checked);

    // A no-criminal-record certificate is shown only in answer to a registered employer's
    // or office's request: without one, the wallet refuses and says why.
    let before = device.wallet_bytes();
    let run = device.run(&present("no-criminal-record:result", &["--text"]));
    let err = run.fails_with(1);
    assert!(run.stdout.is_empty());
    assert!(
        err.contains("shown only to registered employer or office, in answer to their request"),
        "{err}"
    );
    assert_eq!(
        device.wallet_bytes(),
        before,
        "nothing shown, nothing recorded"
    );

    // The PNG holds the same string, read back by a standard decoder.
    assert_eq!(scan_png(&png), qr);

    // Default output: the code drawn in the terminal and its size.
    let drawn = device.present("id-card:name,id_number", &[]);
    assert!(
        drawn.contains('█') || drawn.contains('▀') || drawn.contains('▄'),
        "{drawn}"
    );
    assert!(drawn.contains("characters, QR version"), "{drawn}");

    // SVG, and a certificate with no fields disclosed (kind, issuer and validity only).
    let svg = device.path("qr.svg");
    device.ok(&[
        "present",
        "--show",
        "driver-licence:",
        "--show",
        "id-card:",
        "--svg",
        svg.to_str().unwrap(),
    ]);
    assert!(std::fs::read_to_string(&svg).unwrap().starts_with("<?xml"));
    let bare = device.present("id-card:", &["--text"]);
    let verdict = world.verify(bare.trim(), &Policy::default()).unwrap();
    assert!(verdict.certificates[0].disclosed.is_empty());
}

#[test]
fn challenge_mode_puts_the_counters_nonce_in_the_holder_proof() {
    let world = Citizen::new("nonce");
    let device = &world.device;
    let qr = device.present("id-card:name", &["--nonce", "9F3A61C2d4", "--text"]);
    let expected = Policy {
        expected_nonce: Some(Nonce::from_hex("9f3a61c2d4").unwrap()),
        ..Policy::default()
    };
    let verdict = world.verify(qr.trim(), &expected).unwrap();
    assert!(verdict.nonce_checked);
    assert_eq!(
        disclosed(&verdict, 0),
        [("name".to_owned(), "张伟".to_owned())]
    );
    let other = Policy {
        expected_nonce: Some(Nonce::from_hex("00").unwrap()),
        ..Policy::default()
    };
    assert_eq!(
        world.verify(qr.trim(), &other).unwrap_err(),
        VerifyError::NonceMismatch
    );
    // A code without a nonce does not answer a challenge.
    let plain = device.present("id-card:name", &["--text"]);
    assert_eq!(
        world.verify(plain.trim(), &expected).unwrap_err(),
        VerifyError::NonceMismatch
    );
    for bad in ["xyz", "abc", &"ab".repeat(33)] {
        let err = device.fails(device.cmd(&["present", "--show", "id-card:name", "--nonce", bad]));
        assert!(err.contains("challenge code"), "{err}");
    }
}

#[test]
fn choosing_certificates_and_fields_is_explained() {
    let mut world = Citizen::new("choose");
    let device = &world.device;

    let err = device.fails(device.cmd(&["present", "--show", "id-card:name,shoe_size"]));
    assert!(err.contains("shoe_size"), "{err}");
    for field in ["name", "sex", "birth_date", "address", "id_number"] {
        assert!(err.contains(field), "the kind's fields are listed: {err}");
    }
    let err = device.fails(device.cmd(&["present", "--show", "id-card"]));
    assert!(err.contains("CERTIFICATE:field,field"), "{err}");
    let err = device.fails(device.cmd(&["present", "--show", "passport:name"]));
    assert!(
        err.contains("neither a certificate kind nor a short ID"),
        "{err}"
    );
    let err = device.fails(device.cmd(&["present", "--show", "driver-licence:name"]));
    assert!(err.contains("no driver-licence certificate"), "{err}");
    let err =
        device.fails(device.cmd(&["present", "--show", "id-card:name", "--show", "id-card:sex"]));
    assert!(err.contains("chosen twice"), "{err}");

    // A second, valid ID card makes the kind ambiguous.
    let now = now();
    let second = world
        .world
        .issue_now("public-security", sample::id_card(now));
    let file = device.write_package("second.ecp", &second);
    device.ok(&["receive", file.to_str().unwrap()]);
    let err = device.fails(device.cmd(&["present", "--show", "id-card:name"]));
    assert!(err.contains("could mean 2 certificates"), "{err}");
    assert!(err.contains(&short_id(&world.id_card)), "{err}");
    assert!(err.contains(&short_id(&second)), "{err}");
    let qr = device.ok(&[
        "present",
        "--show",
        &format!("{}:sex,name", short_id(&second)),
        "--text",
    ]);
    let verdict = world.verify(qr.trim(), &Policy::default()).unwrap();
    assert_eq!(verdict.certificates[0].issuer.as_str(), "public-security");
    assert_eq!(
        disclosed(&verdict, 0),
        [
            ("name".to_owned(), "张伟".to_owned()),
            ("sex".to_owned(), "male".to_owned())
        ]
    );
}

#[test]
fn a_certificate_for_another_wallet_is_refused() {
    let mut world = Citizen::new("foreign");
    let now = now();
    let stranger = ecert_wallet::HolderKey::generate(&mut OsRng);
    let foreign = world.world.issue_now_to(
        "public-security",
        stranger.public_key(),
        sample::id_card(now),
    );
    let mine = world
        .world
        .issue_now("social-security", sample::social_security_card(now));
    let device = &world.device;
    let foreign_file = device.write_package("foreign.ecp", &foreign);
    let mine_file = device.write_package("mine.ecp", &mine);
    let before = device.wallet_bytes();
    let err = device.fails(device.cmd(&["receive", foreign_file.to_str().unwrap()]));
    assert!(err.contains("issued to another wallet"), "{err}");
    assert!(err.contains(&stranger.public_key().to_hex()), "{err}");
    assert!(err.contains("nothing was added"), "{err}");
    assert_eq!(device.wallet_bytes(), before);

    // One bad file in a batch: none is added.
    let err = device.fails(device.cmd(&[
        "receive",
        mine_file.to_str().unwrap(),
        foreign_file.to_str().unwrap(),
    ]));
    assert!(err.contains("issued to another wallet"), "{err}");
    assert_eq!(device.wallet_bytes(), before);
    assert_eq!(device.ok(&["list"]).lines().count(), 3);

    // A package whose field does not match its certificate is refused as damaged.
    let mut tampered = mine.clone();
    tampered.disclosures[0] = world.id_card.disclosures[0].clone();
    let tampered_file = device.write_package("tampered.ecp", &tampered);
    let err = device.fails(device.cmd(&["receive", tampered_file.to_str().unwrap()]));
    assert!(err.contains("damaged"), "{err}");
    assert_eq!(device.wallet_bytes(), before);

    device.ok(&["receive", mine_file.to_str().unwrap()]);
    assert_eq!(device.ok(&["list"]).lines().count(), 4);
}

#[test]
fn wrong_passphrase_fails_clearly_and_changes_nothing() {
    let world = Citizen::new("wrong");
    let device = &world.device;
    let before = device.wallet_bytes();
    let package = device.write_package("again.ecp", &world.record);
    let commands: [&[&str]; 6] = [
        &["list"],
        &["id"],
        &["show", "id-card"],
        &["present", "--show", "id-card:name", "--text"],
        &["receive", package.to_str().unwrap()],
        &["passwd"],
    ];
    for args in commands {
        let out = device
            .cmd(args)
            .env("ECERT_WALLET_PASSPHRASE", "not the passphrase")
            .env("ECERT_NEW_WALLET_PASSPHRASE", "a new passphrase")
            .run();
        assert_eq!(out.code, Some(1), "{args:?}");
        let err = out.stderr;
        assert!(err.contains("wrong passphrase"), "{args:?}: {err}");
        assert!(err.contains("nothing was changed"), "{err}");
        assert!(out.stdout.is_empty(), "{args:?} printed {}", out.stdout);
        assert_eq!(device.wallet_bytes(), before, "{args:?} changed the wallet");
    }
    // A file that is not a wallet, and no wallet at all.
    let other = Device::new("wrong-other");
    std::fs::create_dir_all(other.wallet.parent().unwrap()).unwrap();
    std::fs::write(&other.wallet, b"just some text").unwrap();
    let err = other.fails(other.cmd(&["list"]));
    assert!(err.contains("not an ecert wallet"), "{err}");
    let none = Device::new("wrong-none");
    let err = none.fails(none.cmd(&["list"]));
    assert!(
        err.contains("no wallet") && err.contains("ecert-wallet init"),
        "{err}"
    );
    assert!(!none.wallet.exists());
}

#[test]
fn the_wallet_file_holds_nothing_in_clear() {
    let world = Citizen::new("clear");
    let device = &world.device;
    let file = device.wallet_bytes();
    assert_eq!(&file[..4], b"ECW1");
    // Test-only KDF settings in the header: 256 KiB, 1 pass, 1 lane.
    assert_eq!(&file[5..17], &[0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 1]);
    let contents = store::open(&file, &Zeroizing::new(PASSPHRASE.to_owned())).unwrap();
    assert_eq!(contents.holder.public_key(), world.holder);
    assert_eq!(
        contents.packages,
        [
            Held::from(world.id_card.clone()),
            Held::from(world.record.clone())
        ]
    );

    let seed = contents.holder.seed();
    assert!(!contains(&file, seed.as_slice()));
    assert!(!contains(&file, &seed[..8]));
    assert!(!contains(&file, world.holder.as_bytes()));
    assert!(!contains(&file, "张伟".as_bytes()));
    assert!(!contains(&file, sample::ID_NUMBER.as_bytes()));
    assert!(!contains(&file, "北京市".as_bytes()));
    assert!(!contains(&file, PASSPHRASE.as_bytes()));
    for package in [&world.id_card, &world.record] {
        assert!(!contains(&file, &package.certificate));
        for window in package.certificate.chunks(16) {
            assert!(!contains(&file, window) || window.len() < 8);
        }
        for disclosure in &package.disclosures {
            assert!(!contains(&file, disclosure));
        }
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&device.wallet)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the wallet is private to its owner");
    }
    // No temporary files are left beside it.
    let names: Vec<_> = std::fs::read_dir(device.wallet.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["wallet.ecw"]);
}

#[test]
fn backup_and_restore_on_a_new_device() {
    let mut world = Citizen::new("backup");
    world.receive_licence();
    let device = &world.device;
    let backup = device.path("backup.ecw");
    let backup_str = backup.to_str().unwrap();
    let backup_pass = "a different backup passphrase";

    let out = device
        .cmd(&["backup", backup_str])
        .env("ECERT_BACKUP_PASSPHRASE", backup_pass)
        .run();
    assert!(out.success(), "{}", out.stderr);
    assert!(out.stdout.contains("3 certificate(s)"));
    let backup_bytes = std::fs::read(&backup).unwrap();
    assert!(!contains(&backup_bytes, "张伟".as_bytes()));
    assert!(!contains(&backup_bytes, &world.id_card.certificate));
    // Sealed under the backup passphrase, not the wallet's.
    assert!(store::open(&backup_bytes, &Zeroizing::new(PASSPHRASE.into())).is_err());
    assert!(store::open(&backup_bytes, &Zeroizing::new(backup_pass.into())).is_ok());
    // An existing backup is not overwritten without --force; the wallet itself never is.
    let err = device.fails(
        device
            .cmd(&["backup", backup_str])
            .env("ECERT_BACKUP_PASSPHRASE", backup_pass),
    );
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(std::fs::read(&backup).unwrap(), backup_bytes);
    let out = device
        .cmd(&["backup", backup_str, "--force"])
        .env("ECERT_BACKUP_PASSPHRASE", backup_pass)
        .run();
    assert!(out.success(), "{}", out.stderr);
    assert_ne!(
        std::fs::read(&backup).unwrap(),
        backup_bytes,
        "replaced, freshly sealed"
    );
    let wallet_str = device.wallet.to_str().unwrap().to_owned();
    let err = device.fails(
        device
            .cmd(&["backup", &wallet_str, "--force"])
            .env("ECERT_BACKUP_PASSPHRASE", backup_pass),
    );
    assert!(err.contains("different file"), "{err}");

    // A new phone: a different wallet path and passphrase.
    let mut phone = Device::new("backup-phone");
    phone.passphrase = "the new phone's passphrase".into();
    let backup_now = std::fs::read(&backup).unwrap();
    let err = phone.fails(
        phone
            .cmd(&["restore", backup_str])
            .env("ECERT_BACKUP_PASSPHRASE", "wrong backup passphrase"),
    );
    assert!(err.contains("wrong passphrase"), "{err}");
    assert!(!phone.wallet.exists());
    let out = phone
        .cmd(&["restore", backup_str])
        .env("ECERT_BACKUP_PASSPHRASE", backup_pass)
        .run();
    assert!(out.success(), "{}", out.stderr);
    assert!(out.stdout.contains(&world.holder.to_hex()));
    assert_eq!(
        std::fs::read(&backup).unwrap(),
        backup_now,
        "restore does not touch the backup"
    );
    assert_eq!(phone.wallet_id(), world.holder);
    assert_eq!(phone.ok(&["list"]), device.ok(&["list"]));

    // Restoring over an existing wallet needs --force.
    let restored = phone.wallet_bytes();
    let err = phone.fails(
        phone
            .cmd(&["restore", backup_str])
            .env("ECERT_BACKUP_PASSPHRASE", backup_pass),
    );
    assert!(err.contains("already a wallet"), "{err}");
    assert_eq!(phone.wallet_bytes(), restored);

    // Every certificate still presents and verifies.
    let qr = phone.ok(&present_both(&["--text"]));
    let verdict = world.verify(qr.trim(), &Policy::default()).unwrap();
    assert_eq!(verdict.holder, world.holder);
    assert_eq!(disclosed(&verdict, 0)[0].1, "张伟");
    assert_eq!(disclosed(&verdict, 1)[0].1, sample::ID_NUMBER);
}

#[test]
fn passwd_changes_the_passphrase() {
    let world = Citizen::new("passwd");
    let device = &world.device;
    let before = device.wallet_bytes();
    let err = device.fails(
        device
            .cmd(&["passwd"])
            .env("ECERT_NEW_WALLET_PASSPHRASE", "short"),
    );
    assert!(err.contains("at least 8 characters"), "{err}");
    assert_eq!(device.wallet_bytes(), before);
    let out = device
        .cmd(&["passwd"])
        .env("ECERT_NEW_WALLET_PASSPHRASE", "a brand new passphrase")
        .run();
    assert!(out.success(), "{}", out.stderr);
    let err = device.fails(device.cmd(&["list"]));
    assert!(err.contains("wrong passphrase"), "{err}");
    let list = device
        .cmd(&["list"])
        .env("ECERT_WALLET_PASSPHRASE", "a brand new passphrase")
        .run();
    assert!(list.success());
    assert_eq!(list.stdout.clone().lines().count(), 3);
    // A new wallet needs a long enough passphrase, too.
    let mut other = Device::new("passwd-short");
    other.passphrase = "short".into();
    let err = other.fails(other.cmd(&["init"]));
    assert!(err.contains("at least 8 characters"), "{err}");
    assert!(!other.wallet.exists());
}

#[test]
fn live_mode_redraws_fresh_codes() {
    let world = Citizen::new("live");
    let device = &world.device;
    let out = device.present(
        "id-card:name",
        &["--live", "--interval", "1", "--count", "2"],
    );
    assert_eq!(out.matches("\x1b[2J").count(), 2, "{out}");
    assert_eq!(out.matches("characters, QR version").count(), 2);
    assert!(out.contains("Ctrl-C"));
    // --live with a fixed output, or --count without --live, is a usage error.
    let usage_errors: [&[&str]; 3] = [
        &["--live", "--text"],
        &["--count", "2"],
        &["--live", "--interval", "0"],
    ];
    for more in usage_errors {
        let args = present("id-card:name", more);
        assert_eq!(device.run(&args).code, Some(2), "{args:?}");
    }
}

#[test]
fn the_wallet_is_found_where_the_help_says() {
    let device = Device::new("location");
    let xdg = device.path("xdg");
    let home = device.path("home");
    let flag = device.path("flag.ecw");
    let init = |configure: &dyn Fn(Cmd) -> Cmd| {
        let cmd = device
            .cmd(&["init"])
            .env_remove("ECERT_WALLET")
            .env_remove("XDG_DATA_HOME")
            .env("HOME", &home);
        configure(cmd).run().ok();
    };
    // $XDG_DATA_HOME/ecert/wallet.ecw, then $HOME/.local/share/ecert/wallet.ecw.
    init(&|cmd| cmd.env("XDG_DATA_HOME", &xdg));
    assert!(xdg.join("ecert").join("wallet.ecw").is_file());
    init(&|cmd| cmd);
    assert!(home.join(".local/share/ecert/wallet.ecw").is_file());
    // A relative XDG_DATA_HOME is ignored, as the XDG specification says.
    let out = device
        .cmd(&["list"])
        .env_remove("ECERT_WALLET")
        .env("XDG_DATA_HOME", "relative/dir")
        .env("HOME", &home)
        .run();
    assert!(out.success(), "{}", out.stderr);
    // --wallet wins over $ECERT_WALLET.
    device.ok(&["--wallet", flag.to_str().unwrap(), "init"]);
    assert!(flag.is_file());
    assert!(!device.wallet.exists());
}

#[test]
fn unreadable_files_are_reported_before_the_passphrase_is_asked() {
    let world = Citizen::new("early");
    let device = &world.device;
    let junk = device.path("junk.ecp");
    std::fs::write(&junk, [0x84, 0x01]).unwrap();
    // No passphrase in the environment and no terminal: had the command asked for the
    // passphrase, it would fail with a different message.
    let err = device.fails(
        device
            .cmd(&["receive", junk.to_str().unwrap()])
            .env_remove("ECERT_WALLET_PASSPHRASE"),
    );
    assert!(err.contains("not a certificate file"), "{err}");
}

// ---------------------------------------------------------------------------------------
// The holder's history: what was shown, when, kept in the wallet file.
// ---------------------------------------------------------------------------------------

/// `history --json`, parsed.
fn history_json(device: &Device, more: &[&str]) -> serde_json::Value {
    let out = device.ok(&[&["history", "--json"][..], more].concat());
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

#[test]
fn the_history_records_every_presentation_with_keys_and_no_values() {
    let mut world = Citizen::new("history");
    let licence_short = short_id(&world.receive_licence());
    let device = &world.device;
    let id_short = short_id(&world.id_card);

    let out = device.ok(&["history"]);
    assert!(out.contains("Your history is empty"), "{out}");
    let json = history_json(device, &[]);
    assert_eq!(json["total"], 0);
    assert_eq!(json["entries"], serde_json::json!([]));

    // Two presentations: two certificates as text, then one with a counter's challenge
    // as a PNG file.
    let before = now();
    device.ok(&present_both(&["--text"]));
    let png = device.path("challenge.png");
    device.ok(&[
        "present",
        "--show",
        "id-card:name",
        "--nonce",
        "9f3a61c2",
        "--png",
        png.to_str().unwrap(),
    ]);
    let after = now();

    let out = device.ok(&["history"]);
    says(
        &out,
        &[
            "newest first: 2 of 2",
            "never their values",
            "answered a counter's challenge (9F3A61C2)",
            &format!("{id_short}  National ID card (居民身份证), from public-security"),
            &format!("{licence_short}  Driver licence (机动车驾驶证), from transport"),
            "Name (姓名), ID number (公民身份号码)",
            "Licence number (证号)",
            " UTC",
        ],
    );
    // Newest first: the challenge's entry comes before the one with both certificates.
    let challenge_at = out.find("challenge (9F3A61C2)").unwrap();
    let both_at = out.find("ID number").unwrap();
    assert!(challenge_at < both_at, "{out}");
    let newest = &out[challenge_at..both_at];
    assert!(!newest.contains("Driver licence"), "{out}");
    // Keys and labels, never the values shown.
    for value in ["张伟", sample::ID_NUMBER, "北京市"] {
        assert!(!out.contains(value), "{value:?} in:\n{out}");
    }

    let json = history_json(device, &[]);
    assert_eq!(json["total"], 2);
    let entries = json["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    let (newest, oldest) = (&entries[0], &entries[1]);
    assert_eq!(newest["challenge"], "9F3A61C2");
    assert!(
        newest["counter"].is_null(),
        "reserved for counters that ask"
    );
    assert_eq!(
        newest["certificates"],
        serde_json::json!([{
            "short_id": id_short,
            "kind": "id-card",
            "kind_name": "National ID card",
            "kind_name_local": "居民身份证",
            "issuer": "public-security",
            "fields": [{ "key": "name", "label": "Name", "label_local": "姓名" }],
        }])
    );
    assert!(oldest["challenge"].is_null());
    let keys = |cert: &serde_json::Value| -> Vec<String> {
        cert["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["key"].as_str().unwrap().to_owned())
            .collect()
    };
    let certs = oldest["certificates"].as_array().unwrap();
    assert_eq!(certs.len(), 2);
    assert_eq!(keys(&certs[0]), ["name", "id_number"]);
    assert_eq!(certs[1]["short_id"], licence_short.as_str());
    assert_eq!(certs[1]["issuer"], "transport");
    assert_eq!(keys(&certs[1]), ["licence_number"]);
    for entry in entries {
        let time = entry["time"].as_u64().unwrap();
        assert!(before.secs() <= time && time <= after.secs(), "{entry}");
    }
    let text = json.to_string();
    for value in ["张伟", sample::ID_NUMBER] {
        assert!(!text.contains(value), "{value:?} in {text}");
    }

    // --limit and --since.
    let out = device.ok(&["history", "--limit", "1"]);
    says(&out, &["1 of 2", "9F3A61C2", "1 older not shown"]);
    assert!(!out.contains("ID number"), "{out}");
    assert_eq!(
        history_json(device, &["--limit", "1"])["entries"][0]["challenge"],
        "9F3A61C2"
    );
    let today = ecert_schemas::date::date_of_unix(before.secs()).to_string();
    let tomorrow = ecert_schemas::date::date_of_unix(after.secs() + DAY).to_string();
    let out = device.ok(&["history", "--since", &today]);
    assert!(
        out.contains(&format!("since {today}, newest first: 2 of 2")),
        "{out}"
    );
    let out = device.ok(&["history", "--since", &tomorrow]);
    assert!(
        out.contains(&format!(
            "No presentations since {tomorrow} (2 in your history in all)"
        )),
        "{out}"
    );
    let json = history_json(device, &["--since", &tomorrow]);
    assert_eq!(
        (
            json["total"].as_u64(),
            json["entries"].as_array().map(Vec::len)
        ),
        (Some(2), Some(0))
    );
    for bad in [
        &["history", "--since", "2026-13-01"][..],
        &["history", "--since", "yesterday"],
        &["history", "--limit", "0"],
        &["history", "--clear", "--json"],
        &["history", "--clear", "--limit", "3"],
        &["history", "--yes"],
    ] {
        assert_eq!(device.run(bad).code, Some(2), "{bad:?}");
    }

    // A live session is one entry; a presentation refused before any code is made, none.
    device.present("id-card:", &["--live", "--interval", "1", "--count", "2"]);
    device.fails(device.cmd(&["present", "--show", "id-card:shoe_size", "--text"]));
    let json = history_json(device, &[]);
    assert_eq!(json["total"], 3);
    assert_eq!(
        json["entries"][0]["certificates"][0]["fields"],
        serde_json::json!([])
    );
    let out = device.ok(&["history", "--limit", "1"]);
    assert!(
        out.contains("no details: only its kind, issuer and validity"),
        "{out}"
    );
}

#[test]
fn the_history_is_encrypted_and_cleared_only_when_confirmed() {
    let mut world = Citizen::new("history-clear");
    let licence = world.receive_licence();
    let device = &world.device;
    device.ok(&present_both(&["--text"]));
    device.ok(&[
        "present",
        "--show",
        "id-card:name",
        "--nonce",
        "9f3a61c2",
        "--text",
    ]);

    // On disk: one file, with nothing of the history in clear.
    let file = device.wallet_bytes();
    for clear in [
        "id-card",
        "driver-licence",
        "public-security",
        "transport",
        "id_number",
        "licence_number",
        &short_id(&world.id_card),
        &short_id(&licence),
    ] {
        assert!(!contains(&file, clear.as_bytes()), "{clear:?} in clear");
    }
    assert!(
        !contains(&file, &[0x9f, 0x3a, 0x61, 0xc2]),
        "the challenge in clear"
    );
    let names: Vec<_> = std::fs::read_dir(device.wallet.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        names,
        ["wallet.ecw"],
        "the history is inside the wallet file"
    );
    // The library reads it with the passphrase only.
    let pass = Zeroizing::new(PASSPHRASE.to_owned());
    let (_, history) = store::open_with_history(&file, &pass).unwrap();
    assert_eq!(history.len(), 2);
    let wrong = Zeroizing::new("not the passphrase".to_owned());
    assert!(store::open_with_history(&file, &wrong).is_err());

    // A wrong passphrase: refused, nothing shown or changed.
    for args in [
        &["history"][..],
        &["history", "--json"],
        &["history", "--clear", "--yes"],
    ] {
        let out = device
            .cmd(args)
            .env("ECERT_WALLET_PASSPHRASE", "not the passphrase")
            .run();
        assert_eq!(out.code, Some(1), "{args:?}");
        assert!(out.stderr.contains("wrong passphrase"), "{}", out.stderr);
        assert!(out.stdout.is_empty(), "{args:?} printed {}", out.stdout);
        assert_eq!(device.wallet_bytes(), file, "{args:?} changed the wallet");
    }

    // --clear asks first; without a terminal to ask on it needs --yes, and an answer on
    // standard input is not taken for one.
    for cmd in [
        device.cmd(&["history", "--clear"]),
        device.cmd(&["history", "--clear"]).stdin("yes\n"),
    ] {
        let err = device.fails(cmd);
        says(&err, &["--yes", "Nothing was deleted"]);
        assert_eq!(device.wallet_bytes(), file);
    }
    let out = device.ok(&["history", "--clear", "--yes"]);
    assert!(
        out.contains("Deleted your history of 2 presentation(s)"),
        "{out}"
    );
    assert!(device.ok(&["history"]).contains("Your history is empty"));
    assert_eq!(history_json(device, &[])["total"], 0);
    let out = device.ok(&["history", "--clear", "--yes"]);
    assert!(out.contains("already empty"), "{out}");
    // The certificates are untouched, and the next presentation is recorded again.
    assert_eq!(device.ok(&["list"]).lines().count(), 4);
    device.ok(&["present", "--show", "id-card:name", "--text"]);
    assert_eq!(history_json(device, &[])["total"], 1);
}

#[test]
fn the_history_travels_with_backups_and_a_new_passphrase() {
    let mut world = Citizen::new("history-backup");
    world.receive_licence();
    let device = &world.device;
    device.ok(&present_both(&["--text"]));
    device.ok(&[
        "present",
        "--show",
        "id-card:name",
        "--nonce",
        "00ff",
        "--text",
    ]);
    let history = history_json(device, &[]);
    assert_eq!(history["total"], 2);

    let backup = device.path("backup.ecw");
    let out = device
        .cmd(&["backup", backup.to_str().unwrap()])
        .env("ECERT_BACKUP_PASSPHRASE", "the backup passphrase")
        .run();
    assert!(out.success(), "{}", out.stderr);
    assert!(
        out.stdout.contains("2 presentation(s) in its history"),
        "{}",
        out.stdout
    );
    assert!(!contains(&std::fs::read(&backup).unwrap(), b"id_number"));

    let mut phone = Device::new("history-backup-phone");
    phone.passphrase = "the new phone's passphrase".into();
    let out = phone
        .cmd(&["restore", backup.to_str().unwrap()])
        .env("ECERT_BACKUP_PASSPHRASE", "the backup passphrase")
        .run();
    assert!(out.success(), "{}", out.stderr);
    assert!(
        out.stdout.contains("2 presentation(s) in its history"),
        "{}",
        out.stdout
    );
    assert_eq!(history_json(&phone, &[]), history);
    assert_eq!(phone.ok(&["history"]), device.ok(&["history"]));

    // A new passphrase keeps it; receiving a certificate keeps it.
    let out = phone
        .cmd(&["passwd"])
        .env("ECERT_NEW_WALLET_PASSPHRASE", "another new passphrase")
        .run();
    assert!(out.success(), "{}", out.stderr);
    phone.passphrase = "another new passphrase".into();
    assert_eq!(history_json(&phone, &[]), history);
    let mut world = world;
    let card = world
        .world
        .issue_now("social-security", sample::social_security_card(now()));
    let file = phone.write_package("card.ecp", &card);
    phone.ok(&["receive", file.to_str().unwrap()]);
    assert_eq!(history_json(&phone, &[]), history);
}

#[test]
fn a_wallet_from_before_the_history_opens_and_gains_one() {
    let world = Citizen::new("history-migration");
    let device = &world.device;
    // The same wallet written as version 1 of the contents: `[1, seed, [* package]]`.
    let pass = Zeroizing::new(PASSPHRASE.to_owned());
    let contents = store::open(&device.wallet_bytes(), &pass).unwrap();
    let packages: Vec<ecert_schemas::codec::ByteBuf> = contents
        .packages
        .iter()
        .map(|p| ecert_schemas::codec::ByteBuf::from(p.package_bytes().unwrap()))
        .collect();
    let seed = ecert_schemas::codec::ByteBuf::from(contents.holder.seed().to_vec());
    let plaintext = ecert_schemas::codec::to_cbor(&(1u64, seed, packages)).unwrap();
    let kdf = ecert_wallet::KdfParams::new(256, 1, 1).unwrap();
    let v1 = ecert_wallet::sealed::seal_secret(store::MAGIC, &plaintext, &pass, kdf, &mut OsRng)
        .unwrap();
    std::fs::write(&device.wallet, &v1).unwrap();

    assert_eq!(device.ok(&["list"]).lines().count(), 3);
    assert!(device.ok(&["history"]).contains("Your history is empty"));
    assert_eq!(device.wallet_bytes(), v1, "reading does not rewrite it");
    let qr = device.present("id-card:name", &["--text"]);
    assert!(world.verify(qr.trim(), &Policy::default()).is_ok());
    assert_eq!(history_json(device, &[])["total"], 1);
    // Now the current version of the contents, with the same key and certificates.
    let file = device.wallet_bytes();
    let opened = ecert_wallet::sealed::open_secret(store::MAGIC, &file, &pass).unwrap();
    assert_eq!(opened.get(..2), Some(&[0x84, 0x03][..]));
    let (again, history) = store::open_with_history(&file, &pass).unwrap();
    assert_eq!(again.packages, contents.packages);
    assert_eq!(again.holder.public_key(), world.holder);
    assert_eq!(history.len(), 1);
}

// ---------------------------------------------------------------------------------------
// Servers: a department's offer endpoint played by the test kit's HTTP server, and the
// test kit's fake ledger node.
// ---------------------------------------------------------------------------------------

/// The arguments that present name and ID number from the ID card and the licence number
/// of the driver licence ([`Citizen::receive_licence`]), followed by `more`.
fn present_both<'a>(more: &[&'a str]) -> Vec<&'a str> {
    let both = ["--show", "driver-licence:licence_number"];
    [&present("id-card:name,id_number", &both)[..], more].concat()
}

/// `refresh --node NODE`, which must end with exit code `code`.
fn refresh(device: &Device, node: &str, code: i32) -> Run {
    let out = device.run(&["refresh", "--node", node]);
    assert_eq!(out.code, Some(code), "{}\n{}", out.stdout, out.stderr);
    out
}

/// Checks that `text` says each of `parts`.
fn says(text: &str, parts: &[&str]) {
    for part in parts {
        assert!(text.contains(part), "{part:?} missing from:\n{text}");
    }
}

fn fails_with(device: &Device, args: &[&str], code: i32) -> String {
    device.run(args).fails_with(code)
}

#[test]
fn receive_collects_a_certificate_with_an_offer() {
    let mut world = Citizen::new("offer");
    let now = now();
    let licence = world
        .world
        .issue_now("transport", sample::driver_licence(now));
    let bytes = licence.to_bytes().unwrap();
    let server = Server::start(move |request| {
        if request.method == "POST" && request.path() == "/v1/offers/K7Q2-99XF/redeem" {
            Reply::cbor(bytes.clone())
        } else {
            Reply::error(404, "unknown-offer", "no such offer")
        }
    });
    let device = &world.device;
    let link = format!("{}/v1/offers/K7Q2-99XF", server.url);
    let out = device.ok(&["receive", "--offer", &link]);
    assert!(out.contains("Added"), "{out}");
    assert!(out.contains("3 certificate(s)"), "{out}");

    // The request: this wallet's key, signed over the code, as the department checks it.
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let redemption = ecert_schemas::OfferRedemption::from_bytes(&requests[0].body).unwrap();
    assert_eq!(redemption.holder_key, world.holder);
    assert_eq!(
        ecert_verifier::offer::verify_offer_redemption("K7Q2-99XF", &redemption),
        Ok(world.holder)
    );

    // The certificate is in the wallet and can be presented.
    let qr = device.ok(&[
        "present",
        "--show",
        "driver-licence:licence_number",
        "--text",
    ]);
    let verdict = world.verify(qr.trim(), &Policy::default()).unwrap();
    assert_eq!(verdict.certificates[0].kind.as_str(), "driver-licence");

    // The code with --issuer is the same request; a package already held is skipped.
    let out = device.ok(&["receive", "--offer", "K7Q2-99XF", "--issuer", &server.url]);
    assert!(out.contains("already in your wallet"), "{out}");
    assert_eq!(server.requests().len(), 2);
    assert_eq!(server.requests()[1].body, requests[0].body);
}

#[test]
fn offer_failures_are_explained_with_their_own_exit_codes() {
    let world = Citizen::new("offer-errors");
    let device = &world.device;
    let before = device.wallet_bytes();
    let answers: [(u16, &str, i32, &str); 5] = [
        (404, "unknown-offer", 5, "does not know the offer code"),
        (410, "offer-used", 6, "already collected"),
        (403, "wrong-holder", 7, "another wallet ID"),
        (
            400,
            "bad-signature",
            8,
            "refused this wallet's signed request",
        ),
        (500, "internal", 4, "unexpected status 500"),
    ];
    for (status, code, exit, words) in answers {
        let server = Server::start(move |_| Reply::error(status, code, "details here"));
        let link = format!("{}/v1/offers/abc123", server.url);
        let err = fails_with(device, &["receive", "--offer", &link], exit);
        assert!(err.contains(words), "{status}: {err}");
        assert!(err.contains("details here"), "{status}: {err}");
        assert_eq!(device.wallet_bytes(), before, "{status} changed the wallet");
        assert_eq!(server.requests()[0].path(), "/v1/offers/abc123/redeem");
    }

    // Nothing listening.
    let link = format!("{}/v1/offers/abc123", dead_address());
    let err = fails_with(device, &["receive", "--offer", &link], 3);
    assert!(err.contains("cannot connect"), "{err}");

    // Mistyped links and codes are refused before anything is sent (192.0.2.0/24 is
    // reserved for documentation: nothing is ever sent there).
    for args in [
        &["receive", "--offer", "abc123"][..],
        &["receive", "--offer", "https://192.0.2.1/v1/offer/abc"],
        &["receive", "--offer", "http://192.0.2.1/offers/abc"],
    ] {
        let err = fails_with(device, args, 1);
        assert!(err.contains("https://HOST:PORT"), "{args:?}: {err}");
    }
    let err = fails_with(
        device,
        &["receive", "--offer", "a b", "--issuer", "https://192.0.2.1"],
        1,
    );
    assert!(err.contains("is not an offer code"), "{err}");
    // Plain HTTP to another computer is refused unless asked for.
    let err = fails_with(
        device,
        &["receive", "--offer", "http://192.0.2.1:7400/v1/offers/abc"],
        1,
    );
    assert!(err.contains("--insecure-http"), "{err}");
    // A CA file that cannot be read is named.
    let err = fails_with(
        device,
        &[
            "--ca",
            "/nowhere/ca.pem",
            "receive",
            "--offer",
            "https://127.0.0.1:9/v1/offers/abc",
        ],
        1,
    );
    assert!(err.contains("/nowhere/ca.pem"), "{err}");
    // A file and an offer at once, or --issuer alone: usage errors.
    fails_with(device, &["receive", "x.ecp", "--offer", "abc"], 2);
    fails_with(device, &["receive", "--issuer", "https://192.0.2.1"], 2);

    // A damaged answer: refused, and what was sent is kept beside the wallet.
    let server = Server::start(|_| Reply::cbor(b"not a certificate".to_vec()));
    let link = format!("{}/v1/offers/abc123", server.url);
    let err = fails_with(device, &["receive", "--offer", &link], 4);
    assert!(err.contains("not a certificate file"), "{err}");
    let copy = device.wallet.parent().unwrap().join("offer-abc123.ecp");
    assert!(err.contains(copy.to_str().unwrap()), "{err}");
    assert_eq!(std::fs::read(&copy).unwrap(), b"not a certificate");
    assert_eq!(device.wallet_bytes(), before);

    // A certificate issued to another wallet: refused with code 7, kept too.
    let other = world.record.clone();
    let foreign_key = ecert_wallet::HolderKey::generate(&mut OsRng).public_key();
    let mut province = Province::new("other", now().minus(DAY), &mut OsRng).unwrap();
    let foreign = province
        .issue_and_anchor(
            "justice",
            foreign_key,
            &[sample::no_criminal_record(now())],
            now().minus(HOUR),
            &mut OsRng,
        )
        .unwrap()
        .remove(0)
        .to_bytes()
        .unwrap();
    assert_ne!(other.to_bytes().unwrap(), foreign);
    let server = Server::start(move |_| Reply::cbor(foreign.clone()));
    let err = fails_with(
        device,
        &["receive", "--offer", "abc123", "--issuer", &server.url],
        7,
    );
    assert!(err.contains("issued to another wallet"), "{err}");
    assert!(err.contains("offer-abc123-2.ecp"), "{err}");
    assert_eq!(device.wallet_bytes(), before);
}

#[test]
fn trust_and_refresh_check_the_ledger() {
    let mut world = Citizen::new("refresh");
    // The justice department revokes the no-criminal-record certificate.
    let index = ecert_testkit::world::status_index(&world.record);
    world
        .province
        .revoke(
            "justice",
            &[index],
            ecert_schemas::ledger::RevocationReason::Superseded,
            now(),
        )
        .unwrap();
    let device = &world.device;
    let node = FakeNode::serving(&world.province);

    // Without a trust anchor: answers shown, marked unverified; exit 9 for the revocation.
    let report = refresh(device, &node.url, 9).stdout;
    says(
        &report,
        &[
            "UNVERIFIED",
            "anchored in batch 0 at height 1",
            "anchored in batch 1 at height 2",
            "(unverified)",
            "REVOKED by justice",
        ],
    );
    assert!(!report.contains("(certified)"), "{report}");

    // Set the trust anchor: the same file a counter is set up with.
    assert!(device.ok(&["trust"]).contains("no trust anchor"));
    let anchor = world.province.trust_anchor().unwrap();
    let anchor_file = device.path("anchor.toml");
    std::fs::write(
        &anchor_file,
        format!(
            "chain_id = \"{}\"\nvalidators_hash = \"{}\"\n",
            anchor.chain_id,
            anchor.validators_hash.to_hex()
        ),
    )
    .unwrap();
    let out = device.ok(&["trust", "--anchor", anchor_file.to_str().unwrap()]);
    assert!(out.contains("now trusts ledger ecert-cli-test"), "{out}");
    let out = device.ok(&["trust"]);
    assert!(out.contains(&anchor.validators_hash.to_hex()), "{out}");
    let out = device.ok(&["trust", "--anchor", anchor_file.to_str().unwrap()]);
    assert!(out.contains("already trusts"), "{out}");

    // Now the answers are certified.
    let out = refresh(device, &node.url, 9);
    says(
        &out.stdout,
        &[
            "anchored in batch 0 at height 1",
            "(certified)",
            "REVOKED by justice (certified status as of block #3",
            "not revoked (certified",
        ],
    );
    for unsaid in ["UNVERIFIED", "(unverified)"] {
        assert!(!out.stdout.contains(unsaid), "{}", out.stdout);
    }
    assert!(out.stderr.contains("1 certificate(s) reported revoked"));

    // A node that lies about the revocations is caught.
    let lying = FakeNode::serving(&world.province);
    lying.lie(Lie::EmptyRevocationDelta);
    let report = refresh(device, &lying.url, 4).stdout;
    assert!(report.contains("revocation list was refused"), "{report}");
    assert!(!report.contains("REVOKED"), "{report}");

    // ... and so is one whose receipts are not signed by the trusted validators (its
    // revocations, certified on their own, still count).
    let forged = FakeNode::serving(&world.province);
    forged.lie(Lie::UnderSignedReceipts);
    let report = refresh(device, &forged.url, 9).stdout;
    says(
        &report,
        &[
            "the node's answer was refused",
            "REVOKED by justice (certified status as of block #3",
        ],
    );

    // A node that knows nothing of a batch.
    let empty = FakeNode::serving(&world.province);
    empty.lie(Lie::NoQuorum);
    let out = refresh(device, &empty.url, 4);
    assert!(out.stderr.contains("unexpected status 503"));

    // Nothing listening.
    let err = fails_with(device, &["refresh", "--node", &dead_address()], 3);
    assert!(err.contains("cannot connect"), "{err}");

    // Another anchor is not set silently; bad files are refused.
    let other = device.path("other.toml");
    std::fs::write(
        &other,
        format!(
            "chain_id = \"elsewhere\"\nvalidators_hash = \"{}\"\n",
            "ab".repeat(32)
        ),
    )
    .unwrap();
    let err = fails_with(device, &["trust", "--anchor", other.to_str().unwrap()], 1);
    assert!(err.contains("already trusts"), "{err}");
    let junk = device.path("junk.toml");
    std::fs::write(&junk, "chain_id = 3\n").unwrap();
    let err = fails_with(device, &["trust", "--anchor", junk.to_str().unwrap()], 1);
    assert!(err.contains("not a trust anchor file"), "{err}");
    let out = device.ok(&["trust", "--anchor", other.to_str().unwrap(), "--force"]);
    assert!(out.contains("now trusts ledger elsewhere"), "{out}");
    // Against the wrong anchor, every receipt and the revocation list are refused.
    let out = device.run(&["refresh", "--node", &node.url]);
    assert_eq!(out.code, Some(4), "{}", out.stdout);
    let report = out.stdout;
    assert!(report.contains("validator set this trust anchor does not trust"));
    assert!(report.contains("revocation status unknown"), "{report}");
    assert!(!report.contains("not revoked"), "{report}");
}

#[test]
fn refresh_says_how_current_the_validators_vouch_the_revocation_data_is() {
    // The ledger's newest block is two days old.
    let world = Citizen::at("refresh-freshness", now().minus(2 * DAY));
    let device = &world.device;
    let anchor_file = device.path("anchor.toml");
    world.write_anchor(&anchor_file);
    device.ok(&["trust", "--anchor", anchor_file.to_str().unwrap()]);
    let node = FakeNode::serving(&world.province);
    let report = |parts: &[&str]| {
        let out = refresh(device, &node.url, 0).stdout;
        says(&out, parts);
        out
    };

    let out = report(&["no freshness statements from the validators (the node offers none)"]);
    assert!(
        out.contains("not revoked (certified status as of block #"),
        "{out}"
    );

    // Every validator vouches, just now, that the block is still the newest.
    let time = now();
    node.state_freshness(4, time);
    let out = report(&[
        &format!("current as of {time}: 4 of 4 validators vouch for it"),
        &format!("not revoked (certified status as of {time} (block #"),
    ]);
    assert!(!out.contains("WARNING"), "{out}");

    // Two of four: the wallet warns that counters may refuse its certificates.
    node.state_freshness(2, time);
    let out = report(&["WARNING: the validators no longer confirm", "2 of 4"]);
    assert!(!out.contains(&format!("as of {time}")), "{out}");
}

/// A citizen proves they are 18 or over without their date of birth: the wallet lists the
/// ID card's derived facts like its fields and presents one by its key; a counter shows it
/// as yes/no with its labels in both languages (the counter binary's own test,
/// `verifier/tests/cli.rs`, shows the same through `ecert-verify`).
#[test]
fn a_citizen_proves_their_age_without_the_date_of_birth() {
    let world = Citizen::new("derived");
    let device = &world.device;
    let show = device.ok(&["show", "id-card"]);
    for part in [
        "age_over_18        Aged 18 or over (年满18周岁): yes",
        "age_over_60        Aged 60 or over (年满60周岁): no",
    ] {
        assert!(show.contains(part), "{part:?} missing in:\n{show}");
    }

    let out = device
        .cmd(&present("id-card:age_over_18", &["--text"]))
        .run();
    assert!(out.success(), "{}", out.stderr);
    assert!(out.stderr.contains("age_over_18"), "{}", out.stderr);
    let qr = out.stdout.trim_end_matches('\n');
    let verdict = world.verify(qr, &Policy::default()).unwrap();
    assert_eq!(
        disclosed(&verdict, 0),
        [("age_over_18".to_owned(), "yes".to_owned())]
    );
    let view =
        ecert_verifier::report::VerifiedView::of(&verdict.certificates[0], &world.province.kinds);
    assert_eq!(view.disclosed[0].labels(), "Aged 18 or over / 年满18周岁");
    assert_eq!(view.disclosed[0].text, "yes / 是");
    // Neither the date of birth nor anything else of the card is in the code.
    let presentation = ecert_schemas::Presentation::from_qr_string(qr).unwrap();
    assert_eq!(presentation.decode_items().unwrap()[0].disclosures.len(), 1);
}

// ---------------------------------------------------------------------------------------
// Certificates issued as one-time copies (format 2).
// ---------------------------------------------------------------------------------------

/// The copies' holder keys a QR string shows (it must be of format 2).
fn copy_holders(qr: &str) -> Vec<PublicKeyBytes> {
    match AnyPresentation::from_qr_string(qr.trim()).unwrap() {
        AnyPresentation::V2(p) => p.decode_items().unwrap().iter().map(|i| i.holder).collect(),
        AnyPresentation::V1(_) => panic!("a format-2 code expected: {qr}"),
    }
}

/// The short id the wallet shows for a package of copies.
fn copies_short_id(package: &CopyPackage) -> String {
    package.id.to_hex()[..8].to_owned()
}

/// The line of `list` for the certificate with short id `short`.
fn list_line(device: &Device, short: &str) -> String {
    let list = device.ok(&["list"]);
    list.lines()
        .find(|l| l.starts_with(short))
        .unwrap_or_else(|| panic!("{short} not listed:\n{list}"))
        .to_owned()
}

#[test]
fn one_time_copies_are_received_and_each_presentation_shows_another_copy() {
    let mut world = Citizen::new("copies");
    let now = now();
    let card = world
        .world
        .issue_copies_now("public-security", sample::id_card(now), 7);
    let short = copies_short_id(&card);
    let device = &world.device;
    let file = device
        .dir
        .write("card-copies.ecp", card.to_bytes().unwrap());
    let out = device.ok(&["receive", file.to_str().unwrap()]);
    assert!(out.contains(&format!("Added {short}")), "{out}");
    assert!(out.contains("7 one-time copies"), "{out}");
    assert!(out.contains("3 certificate(s)"), "{out}");
    let line = list_line(device, &short);
    for part in [
        "id-card",
        "public-security",
        "National ID card",
        "copies left: 7 of 7",
    ] {
        assert!(line.contains(part), "{part:?} missing in {line}");
    }
    let show = device.ok(&["show", &short]);
    for part in [
        "Copies left      7 of 7",
        "no counter sees it",
        "Name (姓名): 张伟",
        sample::ID_NUMBER,
        &card.id.to_hex(),
    ] {
        assert!(show.contains(part), "{part:?} missing in:\n{show}");
    }
    // The same file again: held already, the wallet untouched.
    let before = device.wallet_bytes();
    let out = device.ok(&["receive", file.to_str().unwrap()]);
    assert!(out.contains("already in your wallet"), "{out}");
    assert_eq!(device.wallet_bytes(), before);

    // Two presentations: two different copies, both valid at a counter.
    let choice = format!("{short}:name,id_number");
    let first = device.present(&choice, &["--text"]);
    let second = device.present(&choice, &["--text"]);
    let (a, b) = (copy_holders(&first), copy_holders(&second));
    assert_eq!((a.len(), b.len()), (1, 1));
    assert_ne!(a, b, "the same copy was shown twice");
    assert_ne!(a[0], world.holder);
    for qr in [&first, &second] {
        let verdict = world.verify(qr.trim(), &Policy::default()).unwrap();
        assert_eq!(verdict.certificates.len(), 1);
        assert_eq!(
            verdict.certificates[0].id, None,
            "no certificate id for counters"
        );
        assert_eq!(
            disclosed(&verdict, 0),
            [
                ("name".to_owned(), "张伟".to_owned()),
                ("id_number".to_owned(), sample::ID_NUMBER.to_owned())
            ]
        );
    }
    assert!(list_line(device, &short).contains("copies left: 5 of 7"));
    // A format-1 certificate is shown as before, in the format it always had.
    let old = device.present(&format!("{}:name", short_id(&world.id_card)), &["--text"]);
    assert!(matches!(
        AnyPresentation::from_qr_string(old.trim()).unwrap(),
        AnyPresentation::V1(_)
    ));
    assert!(world.verify(old.trim(), &Policy::default()).is_ok());
    // The history names the certificate by its short id, like any other.
    let history = history_json(device, &[]);
    assert_eq!(history["total"], 3);
    assert_eq!(history["entries"][1]["certificates"][0]["short_id"], short);
}

#[test]
fn running_out_of_copies_is_announced_then_refused_with_its_own_exit_code() {
    let mut world = Citizen::new("copies-out");
    let now = now();
    let card = world
        .world
        .issue_copies_now("public-security", sample::id_card(now), 7);
    let short = copies_short_id(&card);
    let device = &world.device;
    let file = device
        .dir
        .write("card-copies.ecp", card.to_bytes().unwrap());
    device.ok(&["receive", file.to_str().unwrap()]);
    let choice = format!("{short}:name");
    let mut shown = Vec::new();
    for n in 1..=7usize {
        let run = device.run(&present(&choice, &["--text"]));
        let qr = run.ok();
        shown.extend(copy_holders(&qr));
        let left = 7 - n;
        let notice = format!(
            "{left} {} left of your National ID card (居民身份证): ask public-security for new \
             copies",
            if left == 1 { "copy" } else { "copies" }
        );
        // The notice from 5 left down, on standard error only.
        assert_eq!(run.stderr.contains(&notice), left <= 5, "{}", run.stderr);
        assert!(!qr.contains("left of your"), "{qr}");
    }
    let mut distinct = shown.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 7, "seven copies, each shown once");
    assert!(list_line(device, &short).contains("copies left: 0 of 7"));

    // None left: refused, nothing shown, the wallet unchanged.
    let before = device.wallet_bytes();
    let run = device.run(&present(&choice, &["--text"]));
    let err = run.fails_with(11);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    for part in [
        "all 7 copies",
        short.as_str(),
        "link your presentations",
        "Ask public-security for new copies",
        "ecert-wallet refill",
        "replaces this one",
        "--reuse-copy",
    ] {
        assert!(err.contains(part), "{part:?} missing in {err}");
    }
    assert_eq!(device.wallet_bytes(), before);
    let show = device.ok(&["show", &short]);
    assert!(
        show.contains("ask public-security to issue it again"),
        "{show}"
    );

    // Knowingly, the last copy again, with a warning.
    let run = device.run(&present(&choice, &["--text", "--reuse-copy"]));
    let qr = run.ok();
    assert_eq!(copy_holders(&qr), shown[6..]);
    assert!(run.stderr.contains("shown again"), "{}", run.stderr);
    assert!(run.stderr.contains("same certificate"), "{}", run.stderr);
    assert!(world.verify(qr.trim(), &Policy::default()).is_ok());

    // The department issues it again with the same id: it replaces the spent one.
    let mut again = world
        .world
        .issue_copies_now("public-security", sample::id_card(now), 9);
    again.id = card.id;
    let device = &world.device;
    let again_file = device
        .dir
        .write("card-again.ecp", again.to_bytes().unwrap());
    let out = device.ok(&["receive", again_file.to_str().unwrap()]);
    assert!(out.contains("Replaced with a new issue"), "{out}");
    assert!(out.contains("3 certificate(s)"), "{out}");
    assert!(list_line(device, &short).contains("copies left: 9 of 9"));
    // The earlier issue again: skipped.
    let out = device.ok(&["receive", file.to_str().unwrap()]);
    assert!(out.contains("not newer than the one"), "{out}");
    assert!(list_line(device, &short).contains("copies left: 9 of 9"));
    let qr = device.present(&choice, &["--text"]);
    assert!(world.verify(qr.trim(), &Policy::default()).is_ok());
}

#[test]
fn copies_and_whole_certificates_do_not_mix_and_a_live_code_shows_one_copy() {
    let mut world = Citizen::new("copies-mix");
    let now = now();
    let card = world
        .world
        .issue_copies_now("public-security", sample::id_card(now), 10);
    let short = copies_short_id(&card);
    let device = &world.device;
    let file = device
        .dir
        .write("card-copies.ecp", card.to_bytes().unwrap());
    device.ok(&["receive", file.to_str().unwrap()]);
    let before = device.wallet_bytes();
    let run = device.run(&[
        "present",
        "--show",
        &format!("{short}:name"),
        "--show",
        &format!("{}:name", short_id(&world.id_card)),
        "--text",
    ]);
    let err = run.fails_with(1);
    assert!(run.stdout.is_empty());
    for part in ["one-time copies", "older format", "two QR codes", &short] {
        assert!(err.contains(part), "{part:?} missing in {err}");
    }
    assert_eq!(
        device.wallet_bytes(),
        before,
        "nothing spent, nothing recorded"
    );

    // A live session: two codes, one copy.
    let out = device.present(
        &format!("{short}:name"),
        &["--live", "--interval", "1", "--count", "2"],
    );
    assert_eq!(out.matches("characters, QR version").count(), 2, "{out}");
    assert!(list_line(device, &short).contains("copies left: 9 of 10"));
    assert_eq!(history_json(device, &[])["total"], 1);
}

#[test]
fn copies_issued_to_another_wallet_are_refused() {
    let mut world = Citizen::new("copies-foreign");
    let now = now();
    let stranger = ecert_wallet::HolderKey::generate(&mut OsRng);
    let theirs = world.world.issue_copies_now_to(
        "public-security",
        stranger.public_key(),
        sample::id_card(now),
        5,
    );
    let mine =
        world
            .world
            .issue_copies_now("social-security", sample::social_security_card(now), 5);
    let device = &world.device;
    let theirs_file = device.dir.write("theirs.ecp", theirs.to_bytes().unwrap());
    let mine_file = device.dir.write("mine.ecp", mine.to_bytes().unwrap());
    let before = device.wallet_bytes();
    let err = device.fails(device.cmd(&[
        "receive",
        mine_file.to_str().unwrap(),
        theirs_file.to_str().unwrap(),
    ]));
    assert!(err.contains("issued to another wallet"), "{err}");
    assert!(err.contains(&world.holder.to_hex()), "{err}");
    assert!(err.contains("theirs.ecp"), "{err}");
    assert!(err.contains("nothing was added"), "{err}");
    assert_eq!(device.wallet_bytes(), before);

    // A damaged copy is refused as such.
    let mut bent = mine.clone();
    bent.copies[2].status_index = ecert_schemas::StatusIndex(4_000_000);
    let bent_file = device.dir.write("bent.ecp", bent.to_bytes().unwrap());
    let err = device.fails(device.cmd(&["receive", bent_file.to_str().unwrap()]));
    assert!(err.contains("damaged: copy 3"), "{err}");
    assert_eq!(device.wallet_bytes(), before);

    let out = device.ok(&["receive", mine_file.to_str().unwrap()]);
    assert!(out.contains("5 one-time copies"), "{out}");
}

#[test]
fn the_copies_shown_travel_with_backups_restores_and_a_new_passphrase() {
    let mut world = Citizen::new("copies-backup");
    let now = now();
    let card = world
        .world
        .issue_copies_now("public-security", sample::id_card(now), 8);
    let short = copies_short_id(&card);
    let device = &world.device;
    let file = device
        .dir
        .write("card-copies.ecp", card.to_bytes().unwrap());
    device.ok(&["receive", file.to_str().unwrap()]);
    let choice = format!("{short}:name");
    let shown: Vec<PublicKeyBytes> = (0..3)
        .flat_map(|_| copy_holders(&device.present(&choice, &["--text"])))
        .collect();
    let backup = device.path("backup.ecw");
    let backup_str = backup.to_str().unwrap();
    let pass = "the backup passphrase";
    let out = device
        .cmd(&["backup", backup_str])
        .env("ECERT_BACKUP_PASSPHRASE", pass)
        .run();
    assert!(out.success(), "{}", out.stderr);

    // A new phone from the backup: the same copies are left, the next one is new.
    let mut phone = Device::new("copies-backup-phone");
    phone.passphrase = "the new phone's passphrase".into();
    let out = phone
        .cmd(&["restore", backup_str])
        .env("ECERT_BACKUP_PASSPHRASE", pass)
        .run();
    assert!(out.success(), "{}", out.stderr);
    assert!(
        out.stdout.contains("one-time copies had been shown"),
        "{}",
        out.stdout
    );
    assert!(list_line(&phone, &short).contains("copies left: 5 of 8"));
    let next = copy_holders(&phone.present(&choice, &["--text"]));
    assert!(!shown.contains(&next[0]), "a copy shown before the backup");

    // A new passphrase keeps the marks.
    let out = device
        .cmd(&["passwd"])
        .env("ECERT_NEW_WALLET_PASSPHRASE", "an entirely new passphrase")
        .run();
    assert!(out.success(), "{}", out.stderr);
    let mut renamed = Device::new("unused");
    renamed.wallet = device.wallet.clone();
    renamed.passphrase = "an entirely new passphrase".into();
    assert!(list_line(&renamed, &short).contains("copies left: 5 of 8"));
    let again = copy_holders(&renamed.present(&choice, &["--text"]));
    assert!(!shown.contains(&again[0]));
}

#[test]
fn one_time_copies_are_collected_with_an_offer_and_another_wallets_are_refused() {
    let mut world = Citizen::new("copies-offer");
    let now = now();
    let mine = world
        .world
        .issue_copies_now("transport", sample::driver_licence(now), 6)
        .to_bytes()
        .unwrap();
    let stranger = ecert_wallet::HolderKey::generate(&mut OsRng);
    let theirs = world
        .world
        .issue_copies_now_to(
            "public-security",
            stranger.public_key(),
            sample::id_card(now),
            6,
        )
        .to_bytes()
        .unwrap();
    let server = Server::start(move |request| match request.path() {
        "/v1/offers/MINE/redeem" => Reply::cbor(mine.clone()),
        "/v1/offers/THEIRS/redeem" => Reply::cbor(theirs.clone()),
        _ => Reply::error(404, "unknown-offer", "no such offer"),
    });
    let device = &world.device;
    let out = device.ok(&[
        "receive",
        "--offer",
        &format!("{}/v1/offers/MINE", server.url),
    ]);
    assert!(out.contains("6 one-time copies"), "{out}");
    let qr = device.present("driver-licence:licence_number", &["--text"]);
    assert_eq!(copy_holders(&qr).len(), 1);
    assert!(world.verify(qr.trim(), &Policy::default()).is_ok());

    let before = device.wallet_bytes();
    let run = device.run(&[
        "receive",
        "--offer",
        &format!("{}/v1/offers/THEIRS", server.url),
    ]);
    let err = run.fails_with(7);
    assert!(err.contains("issued to another wallet"), "{err}");
    assert!(err.contains("nothing was added"), "{err}");
    assert_eq!(device.wallet_bytes(), before);
}

#[test]
fn refresh_finds_a_certificate_of_copies_anchored_and_sees_its_copies_revoked() {
    let mut world = Citizen::new("copies-refresh");
    let now = now();
    let card =
        world
            .world
            .issue_copies_now("social-security", sample::social_security_card(now), 4);
    let short = copies_short_id(&card);
    let device = &world.device;
    let file = device
        .dir
        .write("card-copies.ecp", card.to_bytes().unwrap());
    device.ok(&["receive", file.to_str().unwrap()]);
    let anchor_file = device.path("anchor.toml");
    std::fs::write(&anchor_file, world.anchor_toml()).unwrap();
    device.ok(&["trust", "--anchor", anchor_file.to_str().unwrap()]);
    let seq = card.copies[0].batch_seq;
    let node = FakeNode::serving(&world.province);
    let report = refresh(device, &node.url, 0).stdout;
    let block = report
        .split("\n\n")
        .find(|b| b.contains(&short))
        .unwrap_or_else(|| panic!("{short} missing from:\n{report}"));
    says(
        block,
        &[
            &format!("anchored in batch {seq}"),
            "(certified)",
            "not revoked",
        ],
    );
    // The department revokes the certificate: all its copies.
    world.world.revoke_copies("social-security", &card, now);
    let node = FakeNode::serving(&world.province);
    let report = refresh(&world.device, &node.url, 9).stdout;
    says(&report, &["REVOKED by social-security"]);
}

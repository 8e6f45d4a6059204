//! The README's main command: the story runs end to end, prints a VALID verdict with only
//! the fields an employer's counter asked for (the no-criminal-record certificate shown
//! only in answer to its request), writes a QR PNG that a standard decoder reads back to
//! the same string, and rejects the presentation as revoked after the revocation.
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
    // The no-criminal-record certificate goes only to a registered employer's request.
    assert!(
        stdout.contains("without a request the wallet refuses: no-criminal-record"),
        "{stdout}"
    );
    assert_eq!(
        stdout
            .matches("the answer to this counter's request, with exactly the fields asked")
            .count(),
        2,
        "{stdout}"
    );
    assert!(
        stdout.contains("110108199003070016"),
        "the chosen ID number is shown"
    );
    assert!(
        !stdout.contains("中关村"),
        "the address was not chosen and must not be shown"
    );
    assert!(stdout.contains("==> INVALID: revoked"), "{stdout}");
    // Format 2: copies in batches shared with other citizens, a second presentation with
    // other copies sharing nothing a counter could match, every copy revoked.
    assert!(
        stdout.contains("30 copies in batch") && stdout.contains("(5 certificates, 150 copies)"),
        "{stdout}"
    );
    assert!(stdout.contains("QR version"), "{stdout}");
    assert!(
        stdout.contains(
            "shared by the two codes: holder keys none, status indexes none, issuer \
             signatures none, certificate ids shown 0"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("all 30 of its copies' status indexes"),
        "{stdout}"
    );
    assert_eq!(
        stdout.matches("==> INVALID: revoked").count(),
        3,
        "the first, second and an unshown copy are all revoked: {stdout}"
    );
    assert!(stdout.contains("Story complete"), "{stdout}");

    let text = std::fs::read_to_string(out.join("presentation.txt")).unwrap();
    assert_eq!(scan_png(&out.join("presentation.png")), text);
    assert!(std::fs::read_to_string(out.join("presentation.svg"))
        .unwrap()
        .contains("<svg"));
}

#[test]
fn tls_cert_makes_a_server_certificate_from_the_network_ca() {
    let scratch = Scratch::new("tls-cert");
    let dir = scratch.path("net");
    let (cert, key) = (scratch.path("offers.pem"), scratch.path("offers.key"));
    let out = testnet()
        .args([
            "tls-cert",
            "--name",
            "offers-justice",
            "--host",
            "phone-test.local",
            "--dir",
        ])
        .arg(&dir)
        .arg("--out-cert")
        .arg(&cert)
        .arg("--out-key")
        .arg(&key)
        .run()
        .ok();
    assert!(
        out.contains("phone-test.local") && out.contains("127.0.0.1"),
        "{out}"
    );
    assert!(std::fs::read_to_string(&cert)
        .unwrap()
        .starts_with("-----BEGIN CERTIFICATE-----"));
    assert!(dir.join("tls/ca.pem").is_file());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for secret in [key.clone(), dir.join("tls/ca.key")] {
            let mode = std::fs::metadata(&secret).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "{} is private", secret.display());
        }
    }
    let run = testnet()
        .args(["tls-cert", "--name", "x", "--host", "a b", "--dir"])
        .arg(&dir)
        .arg("--out-cert")
        .arg(&cert)
        .arg("--out-key")
        .arg(&key)
        .run();
    assert!(!run.success(), "{}", run.all());
    assert!(
        run.stderr.contains("--tls-host") || run.stderr.contains("host"),
        "{}",
        run.all()
    );
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
        // Over HTTPS, every tool that talks to a node pinning the network's own CA.
        "https://127.0.0.1:",
        "tls/ca.pem",
        "$ ecert-issuer --ca ",
        " issue --kind id-card",
        "sync --node https://127.0.0.1:",
        "refresh --node https://127.0.0.1:",
        // An employer's counter asks; the wallet answers its request, and refuses to show
        // the no-criminal-record certificate without one.
        " register-counter --counter-key ",
        "--role employer",
        "$ ecert-verify --store ",
        " request --ask id-card:name,id_number --ask no-criminal-record:result",
        "refused without a request: no-criminal-record certificates are shown only to \
         registered employer or office",
        "present --request 'ECQ1:",
        "verify --request --image ",
        "exactly the fields asked",
        "Shown again at another counter",
        "VALID",
        "110108199003070016",
        " revoke --cert ",
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

#[test]
fn offer_issues_to_a_wallet_through_a_department_offer_server_that_down_stops() {
    let scratch = Scratch::new("net-offer");
    let dir = scratch.path("network");
    let bin_dir = bin_path("ecert-testnet").parent().unwrap().to_owned();
    let dir_arg = dir.to_string_lossy().into_owned();
    testnet()
        .args(["up", "--dir", &dir_arg])
        .env("ECERT_BIN_DIR", &bin_dir)
        .run()
        .ok();
    let wallet_file = scratch.path("wallet.ecw");
    let wallet = || {
        Cmd::at(bin_path("ecert-wallet"))
            .arg("--wallet")
            .arg(&wallet_file)
            .env("ECERT_WALLET_PASSPHRASE", "offer-test-passphrase")
            .env("ECERT_TEST_KDF", "1")
    };
    wallet().arg("init").run().ok();
    let id = wallet().arg("id").run().ok();
    let holder = id
        .split_whitespace()
        .find(|w| w.len() == 64)
        .expect("a wallet ID")
        .to_owned();

    let offer = |kind: &str| {
        testnet()
            .args([
                "offer", "--dir", &dir_arg, "--holder", &holder, "--kind", kind,
            ])
            .env("ECERT_BIN_DIR", &bin_dir)
            .run()
    };
    let printed = offer("id-card").ok();
    assert!(
        printed.contains("offer server on https://127.0.0.1:"),
        "{printed}"
    );
    let link = printed
        .lines()
        .find_map(|l| l.strip_prefix("On this computer, open it in the wallet app: "))
        .expect("the wallet app link")
        .to_owned();
    assert!(
        link.contains("/wallet/#offer=https%3A%2F%2F127.0.0.1%3A"),
        "{link}"
    );
    // The command-line wallet takes the wallet app's link too, over HTTPS with the CA.
    let received = wallet()
        .args(["--ca"])
        .arg(dir.join("tls/ca.pem"))
        .args(["receive", "--offer", &link])
        .run()
        .ok();
    assert!(received.contains("National ID card"), "{received}");
    // Another kind: another department, with its own offer server.
    let again = offer("no-criminal-record").ok();
    assert!(again.contains("offer server on https://"), "{again}");
    // An unknown kind and a bad wallet ID are refused with what to give.
    assert!(offer("passport").fails_with(1).contains("id-card"));
    let bad = testnet()
        .args(["offer", "--dir", &dir_arg, "--holder", "abc"])
        .env("ECERT_BIN_DIR", &bin_dir)
        .run();
    assert!(bad.fails_with(1).contains("not a wallet ID"));

    let down = testnet()
        .args(["down", "--dir", &dir_arg])
        .env("ECERT_BIN_DIR", &bin_dir)
        .run()
        .ok();
    assert!(down.contains("Stopped 2 offer servers"), "{down}");
    assert!(!dir.join("offers/public-security.pid").exists());
}

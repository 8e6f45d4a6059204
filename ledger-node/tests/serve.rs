//! How `ecert-node run` serves its client API: over HTTPS with a certificate from files,
//! with the web apps and CORS, and refusing plain HTTP on a public address, unreadable
//! certificate files and a missing web folder before anything starts.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::Path;
use std::time::Duration;

use ecert_client::http::{HttpError, Unreachable};
use ecert_client::{Http, TlsProblem, Transport};
use ecert_testkit::network::{CreateOptions, LocalNetwork};
use ecert_testkit::province::Province;
use ecert_testkit::tls::TestCa;
use ecert_testkit::{now, Cmd, Scratch};
use rand_core::OsRng;

const NODE_BIN: &str = env!("CARGO_BIN_EXE_ecert-node");

fn node() -> Cmd {
    Cmd::at(NODE_BIN)
}

#[test]
fn a_node_serves_https_its_api_and_the_apps() {
    let dir = Scratch::new("node-https");
    let web = dir.path("web");
    for (path, text) in [
        ("wallet/index.html", "<!doctype html><title>wallet</title>"),
        (
            "counter/index.html",
            "<!doctype html><title>counter</title>",
        ),
        ("core/src/lib.rs", "SECRET"),
    ] {
        let path = web.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let province = Province::new("ecert-https-test", now().minus(86_400), &mut OsRng).unwrap();
    let options = CreateOptions {
        chain_id: "ecert-https-test".into(),
        departments: vec!["justice".into()],
        base_port: None,
        block_interval_ms: 50,
        snapshot_every: 1_000,
        issuers: province.genesis_issuers(),
        weak_kdf: true,
        tls: true,
    };
    let mut net = LocalNetwork::create(&dir.path("net"), Path::new(NODE_BIN), options).unwrap();
    net.serve_apps(Some(web));
    net.start_all().unwrap();
    let http = net.http(Duration::from_secs(10)).unwrap();
    net.wait_ready(&http, &[0], Duration::from_secs(60))
        .unwrap();
    let base = net.url(0);
    assert!(base.starts_with("https://127.0.0.1:"), "{base}");

    // The API over HTTPS, trusting the network's CA only.
    let health = http.get(&format!("{base}/health")).unwrap();
    assert_eq!(health.status, 200);
    assert_eq!(health.json()["status"], "ok");
    assert_eq!(
        http.get(&format!("{base}/v1/registry")).unwrap().status,
        200
    );

    // The apps, and nothing else of the folder.
    let page = http.get(&format!("{base}/wallet/")).unwrap();
    assert_eq!(page.status, 200);
    assert_eq!(page.body, b"<!doctype html><title>wallet</title>");
    assert_eq!(
        http.get(&format!("{base}/core/src/lib.rs")).unwrap().status,
        404
    );

    // A client pinning another CA is refused by the TLS handshake, and says so.
    let other = TestCa::new(&dir.path("other-ca"));
    let stranger = Http::with_transport(
        "test",
        Duration::from_secs(10),
        &Transport::pinned_file(&other.ca_file()).unwrap(),
    );
    match stranger.get(&format!("{base}/health")) {
        Err(HttpError::Unreachable {
            cause: Unreachable::Tls(TlsProblem::UnknownAuthority),
            ..
        }) => {}
        other => panic!("expected an untrusted certificate, got {other:?}"),
    }
    // Plain HTTP gets no answer from it.
    assert!(Http::new(Duration::from_secs(5))
        .get(&format!("{}/health", base.replace("https://", "http://")))
        .is_err());

    // Graceful stop (SIGTERM) still works over TLS.
    net.stop(0).unwrap();
    assert!(net.pid(0).is_none());

    // The trust anchor the apps pin, also as a QR code they scan: the same text.
    let qr = dir.path("anchor.png");
    let printed = node()
        .args(["trust-anchor", "--genesis"])
        .arg(net.genesis_path())
        .arg("--qr")
        .arg(&qr)
        .run()
        .ok();
    assert!(printed.contains("validators_hash = "), "{printed}");
    let scanned = ecert_qr::scan::decode_image(&std::fs::read(&qr).unwrap()).unwrap();
    assert_eq!(scanned, printed);
    let svg = std::fs::read_to_string(net.anchor_qr_path()).unwrap();
    assert!(svg.starts_with("<?xml") || svg.starts_with("<svg"), "{svg}");
}

#[test]
fn unsafe_or_unusable_serving_options_are_refused_before_starting() {
    let dir = Scratch::new("node-refusals");
    let home = dir.path("home");
    let genesis = dir.path("genesis.toml");
    let run = |extra: &[&str]| {
        node()
            .arg("run")
            .arg("--home")
            .arg(&home)
            .arg("--genesis")
            .arg(&genesis)
            .args(extra)
            .run()
    };

    // Plain HTTP on a public address.
    let out = run(&["--http", "0.0.0.0:7200"]);
    assert_eq!(out.code(), 1, "{}", out.all());
    assert!(
        out.stderr.contains("plain HTTP") && out.stderr.contains("--insecure-http"),
        "{}",
        out.all()
    );
    assert!(out.stderr.contains("--tls-cert"), "{}", out.all());

    // Certificate files that cannot be read are named.
    let out = run(&[
        "--tls-cert",
        "/nowhere/node.pem",
        "--tls-key",
        "/nowhere/node.key",
    ]);
    assert_eq!(out.code(), 1, "{}", out.all());
    assert!(out.stderr.contains("/nowhere/node.pem"), "{}", out.all());

    // A key that does not belong to the certificate.
    let ca = TestCa::new(&dir.path("ca"));
    let (cert, _) = ca.server("one", &[]);
    let (_, key) = ca.server("two", &[]);
    let out = node()
        .arg("run")
        .arg("--home")
        .arg(&home)
        .arg("--genesis")
        .arg(&genesis)
        .arg("--tls-cert")
        .arg(&cert)
        .arg("--tls-key")
        .arg(&key)
        .run();
    assert_eq!(out.code(), 1, "{}", out.all());
    assert!(out.stderr.contains("does not match"), "{}", out.all());

    // Only one of the two.
    let out = run(&["--tls-cert", "x.pem"]);
    assert_eq!(out.code(), 2, "{}", out.all());

    // A web folder that is not there.
    let out = run(&["--web", "/nowhere/web"]);
    assert_eq!(out.code(), 1, "{}", out.all());
    assert!(out.stderr.contains("/nowhere/web"), "{}", out.all());

    // A bad origin is a usage error.
    let out = run(&["--allow-origin", "https://h/wallet/"]);
    assert_eq!(out.code(), 2, "{}", out.all());
    assert!(out.stderr.contains("https://HOST[:PORT]"), "{}", out.all());
}

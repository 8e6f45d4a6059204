//! The client API against its OpenAPI description (`docs/openapi.yaml`), checked by a
//! property-based API tester (schemathesis) on a real node: no 5xx, every status code
//! documented, content types and JSON bodies as described.
//!
//! Schemathesis is a Python program: `scripts/install-api-test-deps` installs it and
//! prints its path. The test finds it through `ECERT_SCHEMATHESIS`, that script's
//! default place, or `PATH`. Without it the test says so and passes, unless
//! `ECERT_REQUIRE_API_TESTER=1` (set by `.ci/run`): then a missing tester fails it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ecert_client::Http;
use ecert_schemas::{ChainId, KindId};
use ecert_testkit::network::{dev_passphrase, CreateOptions, LocalNetwork};
use ecert_testkit::province::Province;
use ecert_testkit::testnet::load::anchor_transaction;
use ecert_testkit::{now, Scratch};
use rand_core::OsRng;

const NODE_BIN: &str = env!("CARGO_BIN_EXE_ecert-node");
const REPO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The schemathesis command, if installed.
fn schemathesis() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("ECERT_SCHEMATHESIS") {
        return Some(PathBuf::from(path));
    }
    let venv = std::env::var_os("ECERT_API_TEST_VENV").map_or_else(
        || PathBuf::from("/var/tmp/ecert-api-test-venv"),
        PathBuf::from,
    );
    let default = venv.join("bin/schemathesis");
    if default.is_file() {
        return Some(default);
    }
    let found = Command::new("schemathesis")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    found.then(|| PathBuf::from("schemathesis"))
}

#[test]
fn the_api_answers_as_its_openapi_description_says() {
    let Some(tester) = schemathesis() else {
        let required = std::env::var("ECERT_REQUIRE_API_TESTER").is_ok_and(|v| v == "1");
        let message = "schemathesis is not installed: run scripts/install-api-test-deps \
                       (or set ECERT_SCHEMATHESIS to its path) to check the API against \
                       docs/openapi.yaml";
        assert!(!required, "{message}");
        eprintln!("NOT CHECKED: {message}");
        return;
    };
    let dir = Scratch::new("api-schema");
    let chain = "ecert-api-schema";
    let province = Province::new(chain, now().minus(86_400), &mut OsRng).unwrap();
    let net_dir = dir.path("net");
    let net = LocalNetwork::create(
        &net_dir,
        Path::new(NODE_BIN),
        CreateOptions {
            chain_id: chain.into(),
            departments: vec!["justice".into()],
            base_port: None,
            block_interval_ms: 50,
            snapshot_every: 1_000,
            issuers: province.genesis_issuers(),
            weak_kdf: true,
            tls: false,
        },
    )
    .unwrap();
    let port = net.layout().nodes[0].http_port;
    let base = format!("http://127.0.0.1:{port}");
    let log = std::fs::File::create(dir.path("node.log")).unwrap();
    let _node = Killed(
        Command::new(NODE_BIN)
            .arg("run")
            .arg("--home")
            .arg(net.home(0))
            .arg("--genesis")
            .arg(net.genesis_path())
            .args(["--http", &format!("127.0.0.1:{port}")])
            // The tester submits as fast as it can; its rate is not what is checked here.
            .args(["--submit-rate", "0"])
            .env("ECERT_NODE_PASSPHRASE", dev_passphrase(&net_dir).unwrap())
            .env(ecert_shell::passphrase::TEST_KDF_ENV, "1")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap(),
    );
    let http = Http::new(Duration::from_secs(30));
    let deadline = Instant::now() + Duration::from_secs(60);
    while !http
        .get(&format!("{base}/health"))
        .is_ok_and(|r| r.status == 200 && r.json()["role"] == "leader")
    {
        assert!(Instant::now() < deadline, "the node did not become ready");
        std::thread::sleep(Duration::from_millis(100));
    }
    // A certified batch, so that the reads have something to answer.
    let justice = province.department("justice").unwrap();
    let tx = anchor_transaction(
        &ChainId::new(chain).unwrap(),
        &justice.issuer_key,
        &KindId::new("no-criminal-record").unwrap(),
        4,
    )
    .unwrap();
    let reply = http
        .post_cbor(&format!("{base}/v1/transactions?wait=certified"), &tx)
        .unwrap();
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );

    let hooks = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api_schema");
    let started = Instant::now();
    let out = Command::new(&tester)
        .arg("run")
        .arg(Path::new(REPO).join("docs/openapi.yaml"))
        .args(["--url", &base])
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,\
             response_schema_conformance,response_headers_conformance",
            "--phases",
            "examples,coverage,fuzzing",
            "--max-examples",
            "40",
            "--seed",
            "7",
            "--workers",
            "2",
            "--request-timeout",
            "30",
        ])
        .env("SCHEMATHESIS_HOOKS", "ecert_hooks")
        .env("PYTHONPATH", &hooks)
        .current_dir(dir.path(""))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!(
        "schemathesis ({:.0?}):\n{stdout}\n{stderr}",
        started.elapsed()
    );
    assert!(
        out.status.success(),
        "the API does not answer as docs/openapi.yaml says (see above)"
    );
}

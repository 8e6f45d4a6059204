//! The client API under hostile clients, in short: oversized and malformed bodies get JSON
//! errors (never a 5xx), a flooding client gets `429` while another is served, a slow
//! client is dropped after the header timeout, and connections beyond the limits wait or
//! are refused while an honest request still succeeds. The long run with figures is
//! `ecert-testnet hostile` (docs/reliability.md).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use ecert_testkit::http::assert_json_error;
use ecert_testkit::network::{dev_passphrase, CreateOptions, LocalNetwork};
use ecert_testkit::province::Province;
use ecert_testkit::testnet::hostile::raw::{self, Answer};
use ecert_testkit::{now, Scratch};
use rand_core::OsRng;
use tokio::io::AsyncWriteExt;

const NODE_BIN: &str = env!("CARGO_BIN_EXE_ecert-node");

/// One node over plain HTTP on loopback, started with `limits` (flags), killed on drop.
struct Node {
    child: Child,
    addr: SocketAddr,
    _dir: Scratch,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn node(name: &str, limits: &[&str]) -> Node {
    let dir = Scratch::new(name);
    let province = Province::new(name, now().minus(86_400), &mut OsRng).unwrap();
    let options = CreateOptions {
        chain_id: name.into(),
        departments: vec!["justice".into()],
        base_port: None,
        block_interval_ms: 50,
        snapshot_every: 1_000,
        issuers: province.genesis_issuers(),
        weak_kdf: true,
        tls: false,
    };
    let net_dir = dir.path("net");
    let net = LocalNetwork::create(&net_dir, Path::new(NODE_BIN), options).unwrap();
    let port = net.layout().nodes[0].http_port;
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let log = std::fs::File::create(dir.path("node.log")).unwrap();
    let child = Command::new(NODE_BIN)
        .arg("run")
        .arg("--home")
        .arg(net.home(0))
        .arg("--genesis")
        .arg(net.genesis_path())
        .args(["--http", &addr.to_string(), "--block-interval-ms", "50"])
        .args(limits)
        .env("ECERT_NODE_PASSPHRASE", dev_passphrase(&net_dir).unwrap())
        .env(ecert_shell::passphrase::TEST_KDF_ENV, "1")
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let node = Node {
        child,
        addr,
        _dir: dir,
    };
    let runtime = runtime();
    runtime.block_on(async {
        for _ in 0..600 {
            if let Ok(a) = get(node.addr, HONEST, "/health").await {
                if a.status == 200 {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the node did not answer /health");
    });
    node
}

const HONEST: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 1));
const OTHER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 2));

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

async fn get(server: SocketAddr, from: IpAddr, path: &str) -> std::io::Result<Answer> {
    let bytes = raw::request("GET", path, None, &[], false);
    raw::exchange(server, from, &bytes, Duration::from_secs(30)).await
}

async fn post(server: SocketAddr, from: IpAddr, kind: &str, body: &[u8]) -> Answer {
    let bytes = raw::request(
        "POST",
        "/v1/transactions?wait=none",
        Some(kind),
        body,
        false,
    );
    raw::exchange(server, from, &bytes, Duration::from_secs(30))
        .await
        .unwrap()
}

#[test]
fn oversized_and_malformed_bodies_get_json_errors() {
    let node = node("hostile-bodies", &[]);
    runtime().block_on(async {
        let server = node.addr;
        // Declared too large: refused before the body is read.
        let big = vec![0u8; 3 * 1024 * 1024];
        let mut stream = raw::connect(server, HONEST).await.unwrap();
        let head = format!(
            "POST /v1/transactions HTTP/1.1\r\nHost: x\r\nContent-Type: application/cbor\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            big.len()
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        let answer = raw::read_answer(&mut stream).await.unwrap();
        assert_json_error(&answer, 413, "too-large");
        // Too large without a length (chunked): refused once the limit is passed.
        let mut chunked = b"POST /v1/transactions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n".to_vec();
        for _ in 0..40 {
            chunked.extend_from_slice(b"10000\r\n");
            chunked.extend_from_slice(&[7u8; 0x10000]);
            chunked.extend_from_slice(b"\r\n");
        }
        let mut stream = raw::connect(server, HONEST).await.unwrap();
        // The server may answer and close before all is sent.
        let _ = stream.write_all(&chunked).await;
        let answer = raw::read_answer(&mut stream).await.unwrap();
        assert_json_error(&answer, 413, "too-large");

        // Malformed CBOR, truncated CBOR, JSON, nothing: 400 with the reason's code.
        for (kind, body) in [
            ("application/cbor", &[0xff, 0x00, 0x13][..]),
            ("application/cbor", &[0x85, 0x01, 0x58, 0x20, 0x00][..]),
            ("application/json", &br#"{"anchor": [1, 2, null]}"#[..]),
            ("application/cbor", &[][..]),
        ] {
            let answer = post(server, HONEST, kind, body).await;
            assert_eq!(answer.status, 400, "{:?}: {}", body, answer.text());
            assert_eq!(answer.header("content-type"), Some("application/json"));
            assert!(answer.error_code().is_some(), "{}", answer.text());
        }
        // Queries and paths that do not parse, unknown paths, wrong methods: JSON too.
        for (path, status, code) in [
            ("/v1/checkpoints?from=-1", 400, "bad-query"),
            ("/v1/transactions?timeout_ms=soon", 405, "method-not-allowed"),
            ("/v1/batches", 400, "bad-query"),
            ("/v1/anchors/zz", 400, "bad-root"),
            ("/v1/anchors/%FF%FE", 400, "bad-path"),
            ("/v1/nothing", 404, "not-found"),
        ] {
            let answer = get(server, HONEST, path).await.unwrap();
            assert_json_error(&answer, status, code);
        }
        let bytes = raw::request("POST", "/v1/transactions?timeout_ms=soon", Some("application/cbor"), &[0x80], false);
        let answer = raw::exchange(server, HONEST, &bytes, Duration::from_secs(30)).await.unwrap();
        assert_json_error(&answer, 400, "bad-query");
        // Still serving.
        assert_eq!(get(server, HONEST, "/health").await.unwrap().status, 200);
    });
}

#[test]
fn a_flooding_client_gets_429_while_another_is_served() {
    let node = node(
        "hostile-flood",
        &["--submit-rate", "2", "--submit-burst", "5"],
    );
    runtime().block_on(async {
        let server = node.addr;
        let mut limited = None;
        for _ in 0..20 {
            let answer = post(server, OTHER, "application/cbor", &[0x80]).await;
            if answer.status == 429 {
                limited = Some(answer);
                break;
            }
            assert_eq!(answer.status, 400, "{}", answer.text());
        }
        let limited = limited.expect("the flood was never limited");
        assert_json_error(&limited, 429, "rate-limited");
        let retry: u64 = limited.header("retry-after").unwrap().parse().unwrap();
        assert!(retry >= 1);
        // Another client is served: its submission is read (and refused for what it is).
        let answer = post(server, HONEST, "application/cbor", &[0x80]).await;
        assert_eq!(answer.status, 400, "{}", answer.text());
        assert_ne!(answer.error_code().as_deref(), Some("rate-limited"));
        // Reads are not limited for the flooder either.
        assert_eq!(get(server, OTHER, "/health").await.unwrap().status, 200);
    });
}

#[test]
fn a_slow_client_is_dropped_after_the_header_timeout() {
    let node = node(
        "hostile-slow",
        &["--header-timeout", "1", "--body-timeout", "1"],
    );
    runtime().block_on(async {
        let server = node.addr;
        // Headers never finished.
        let mut stream = raw::connect(server, OTHER).await.unwrap();
        stream
            .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .await
            .unwrap();
        assert!(
            raw::closed_within(&mut stream, Duration::from_secs(20)).await,
            "a client that never finishes its headers is kept"
        );
        // Nothing sent at all.
        let mut stream = raw::connect(server, OTHER).await.unwrap();
        assert!(raw::closed_within(&mut stream, Duration::from_secs(20)).await);
        // Headers sent, the body never: 408 with a JSON error.
        let mut stream = raw::connect(server, OTHER).await.unwrap();
        stream
            .write_all(
                b"POST /v1/transactions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n\x80",
            )
            .await
            .unwrap();
        let answer = tokio::time::timeout(Duration::from_secs(20), raw::read_answer(&mut stream))
            .await
            .unwrap()
            .unwrap();
        assert_json_error(&answer, 408, "body-timeout");
        assert_eq!(get(server, HONEST, "/health").await.unwrap().status, 200);
    });
}

#[test]
fn connections_beyond_the_limits_wait_or_are_refused_and_honest_requests_succeed() {
    let node = node(
        "hostile-conns",
        &[
            "--max-connections",
            "40",
            "--max-connections-per-client",
            "8",
            "--header-timeout",
            "2",
        ],
    );
    runtime().block_on(async {
        let server = node.addr;
        // One address opening many: all but its share are closed at once.
        let mut mine = Vec::new();
        for _ in 0..20 {
            mine.push(raw::connect(server, OTHER).await.unwrap());
        }
        let mut closed = 0;
        for stream in &mut mine {
            if raw::closed_within(stream, Duration::from_millis(300)).await {
                closed += 1;
            }
        }
        assert!(closed >= 12, "only {closed} of 20 closed");
        drop(mine);
        // Many addresses holding every slot and more: the rest wait, then everybody
        // idle is dropped after the header timeout and the honest request is served.
        let mut held = Vec::new();
        for n in 0..200u32 {
            let source = raw::loopback_client(3, n / 5);
            if let Ok(Ok(s)) =
                tokio::time::timeout(Duration::from_secs(2), raw::connect(server, source)).await
            {
                held.push(s);
            }
        }
        let answer = get(server, HONEST, "/health").await.unwrap();
        assert_eq!(answer.status, 200);
        drop(held);
        assert_eq!(get(server, HONEST, "/health").await.unwrap().status, 200);
    });
}

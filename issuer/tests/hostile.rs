//! The offer endpoint under hostile clients, in short: an oversized body gets `413`, a
//! malformed one a JSON error (never a 5xx), a client redeeming in a flood gets `429`
//! while another is served, a slow client is dropped after the header timeout, and a
//! client holding more than its share of connections has the rest closed at once.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::io::{BufRead, BufReader};
use std::net::{IpAddr, SocketAddr};
use std::process::Child;
use std::time::Duration;

use ecert_testkit::http::assert_json_error;
use ecert_testkit::issuer::Department;
use ecert_testkit::testnet::hostile::raw::{self, Answer};
use tokio::io::AsyncWriteExt;

const HONEST: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 1));
const OTHER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 2));
const CODE: &str = "K7Q2-99XF-ABCD-EFGH";

struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(department: &Department, limits: &[&str]) -> Server {
    let mut child = ecert_testkit::issuer::cmd(&department.home)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(limits)
        .spawn();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"));
    let addr = url.trim_start_matches("http://").parse().unwrap();
    Server { child, addr }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

async fn redeem(server: SocketAddr, from: IpAddr, body: &[u8]) -> Answer {
    let path = format!("/v1/offers/{CODE}/redeem");
    let bytes = raw::request("POST", &path, Some("application/cbor"), body, false);
    raw::exchange(server, from, &bytes, Duration::from_secs(30))
        .await
        .unwrap()
}

#[test]
fn the_offer_endpoint_holds_against_hostile_clients() {
    let department = Department::setup("hostile-offers");
    let server = serve(
        &department,
        &[
            "--submit-rate",
            "1",
            "--submit-burst",
            "3",
            "--header-timeout",
            "1",
            "--max-connections-per-client",
            "4",
        ],
    );
    runtime().block_on(async {
        let addr = server.addr;
        // Oversized (the endpoint takes 64 KiB): 413 before the body is read; a
        // redemption over 4 KiB: 413 too.
        let answer = redeem(addr, HONEST, &[0u8; 70_000]).await;
        assert_json_error(&answer, 413, "too-large");
        let answer = redeem(addr, HONEST, &[0u8; 5_000]).await;
        assert_json_error(&answer, 413, "too-large");
        // Malformed bodies: a JSON answer, never a server error.
        for body in [&[0xffu8, 0x00][..], &br#"{"holder": 1}"#[..], &[][..]] {
            let answer = redeem(addr, HONEST, body).await;
            assert!(answer.status < 500, "{}", answer.text());
            assert!(answer.error_code().is_some(), "{}", answer.text());
        }
        // A flood from one client: 429 with Retry-After; another client is still served.
        let mut limited = None;
        for _ in 0..10 {
            let answer = redeem(addr, OTHER, &[0x80]).await;
            if answer.status == 429 {
                limited = Some(answer);
                break;
            }
        }
        let limited = limited.expect("the flood was never limited");
        assert_json_error(&limited, 429, "rate-limited");
        assert!(limited.header("retry-after").is_some());
        let page = raw::request("GET", &format!("/v1/offers/{CODE}"), None, &[], false);
        let answer = raw::exchange(addr, OTHER, &page, Duration::from_secs(30))
            .await
            .unwrap();
        assert_eq!(answer.status, 200, "reads are not limited");
        // A slow client is dropped after the header timeout.
        let mut slow = raw::connect(addr, OTHER).await.unwrap();
        slow.write_all(b"POST /v1/offers/x/redeem HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        assert!(raw::closed_within(&mut slow, Duration::from_secs(20)).await);
        // More connections than a client's share: the rest are closed at once.
        let mut held = Vec::new();
        for _ in 0..10 {
            held.push(raw::connect(addr, OTHER).await.unwrap());
        }
        let mut closed = 0;
        for stream in &mut held {
            if raw::closed_within(stream, Duration::from_millis(300)).await {
                closed += 1;
            }
        }
        assert!(closed >= 6, "only {closed} of 10 closed");
        // And the honest client is served all along.
        let answer = raw::exchange(addr, HONEST, &page, Duration::from_secs(30))
            .await
            .unwrap();
        assert_eq!(answer.status, 200);
    });
}

//! Hostile clients against a running node's API: a submission flood from one client,
//! malformed and oversized bodies, slow clients that never finish their headers, and
//! thousands of connections held open from many addresses, while an honest client
//! submits and reads. Reports the honest client's latency in each phase, the node's
//! memory, and what the server answered the attackers.
//!
//! The attackers speak raw HTTP/1.1 from their own loopback addresses ([`raw`]), so that
//! the server sees them as other clients than the honest one (`127.0.0.1`). The node is
//! served over plain HTTP on loopback: the limits are the same code over TLS.

pub mod raw;

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;
use tokio::task::JoinSet;

use crate::TestnetError;

/// The honest client's address.
pub const HONEST: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 1));
/// The flooding client's address.
pub const FLOODER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 2));
/// The address sending malformed and oversized bodies.
const MALFORMER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 3));
/// The slow clients' address.
const SLOWPOKE: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 4));
/// Connection holders: `127.1.x.y`, this many connections from each address.
const HOLDER_BASE: u8 = 1;

/// What to run.
pub struct HostileOptions {
    /// The node's API (`127.0.0.1:PORT`, plain HTTP).
    pub server: SocketAddr,
    /// The node's process, for its memory.
    pub pid: Option<u32>,
    /// How long each phase lasts.
    pub phase: Duration,
    /// Connections held open at once in the connections phase.
    pub connections: usize,
    /// Connections held from each address (the server's per-client share is 64 by
    /// default).
    pub per_address: usize,
    /// Slow clients.
    pub slow_clients: usize,
    /// Flooding connections (all from one address).
    pub flood_connections: usize,
    /// A fresh valid submission (the honest client's).
    pub honest_tx: Arc<dyn Fn() -> Option<Vec<u8>> + Send + Sync>,
}

/// The honest client's figures in one phase.
#[derive(Clone, Debug, Default)]
pub struct Honest {
    /// Requests answered as expected.
    pub ok: u64,
    /// Requests that failed or got an unexpected status.
    pub failed: u64,
    /// Latencies, sorted.
    pub latencies: Vec<Duration>,
}

impl Honest {
    /// The `p`-th percentile latency.
    pub fn percentile(&self, p: f64) -> Option<Duration> {
        let last = self.latencies.len().checked_sub(1)?;
        let rank = ((p / 100.0) * last as f64).round() as usize;
        self.latencies.get(rank.min(last)).copied()
    }
}

/// One phase: the honest client, the node's memory, and the answers to the attackers.
#[derive(Clone, Debug, Default)]
pub struct Phase {
    /// The phase's name.
    pub name: String,
    /// The honest client.
    pub honest: Honest,
    /// Largest resident memory of the node seen during the phase, KiB.
    pub peak_rss_kib: Option<u64>,
    /// Resident memory at the end of the phase, KiB.
    pub end_rss_kib: Option<u64>,
    /// What the attackers got: `"429"`, `"413"`, `"refused"`, `"dropped"`…, with counts.
    pub answers: BTreeMap<String, u64>,
}

/// The whole run.
#[derive(Clone, Debug, Default)]
pub struct HostileReport {
    /// The node's resident memory before any attack, KiB.
    pub rss_before_kib: Option<u64>,
    /// The phases in order: idle, flood, connections, after.
    pub phases: Vec<Phase>,
}

#[derive(Default)]
struct Tally(Mutex<BTreeMap<String, u64>>);

impl Tally {
    fn add(&self, what: impl Into<String>) {
        if let Ok(mut t) = self.0.lock() {
            *t.entry(what.into()).or_insert(0) += 1;
        }
    }

    fn take(&self) -> BTreeMap<String, u64> {
        self.0
            .lock()
            .map(|mut t| std::mem::take(&mut *t))
            .unwrap_or_default()
    }
}

/// Runs the four phases (idle, flood and malformed and slow, connections, after).
pub fn run(options: HostileOptions) -> Result<HostileReport, TestnetError> {
    raise_open_files(options.connections as u64 + 4_096);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| TestnetError::local("hostile: runtime", e))?;
    runtime.block_on(run_phases(Arc::new(options)))
}

/// Lifts this process's open-file limit to `want` (within the hard limit): ten thousand
/// connections need ten thousand descriptors.
fn raise_open_files(want: u64) {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    if let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) {
        if soft < want {
            let _ = setrlimit(Resource::RLIMIT_NOFILE, want.min(hard), hard);
        }
    }
}

async fn run_phases(options: Arc<HostileOptions>) -> Result<HostileReport, TestnetError> {
    let rss = |o: &HostileOptions| o.pid.and_then(raw::rss_kib);
    let mut report = HostileReport {
        rss_before_kib: rss(&options),
        phases: Vec::new(),
    };
    for name in ["idle", "flood", "connections", "after"] {
        let stop = Arc::new(AtomicBool::new(false));
        let tally = Arc::new(Tally::default());
        let peak = Arc::new(AtomicU64::new(0));
        let mut attackers = JoinSet::new();
        match name {
            "flood" => {
                for _ in 0..options.flood_connections {
                    attackers.spawn(flood(options.server, stop.clone(), tally.clone()));
                }
                attackers.spawn(malformed(options.server, stop.clone(), tally.clone()));
                for _ in 0..options.slow_clients {
                    attackers.spawn(slow(options.server, stop.clone(), tally.clone()));
                }
            }
            "connections" => {
                attackers.spawn(hold(options.clone(), stop.clone(), tally.clone()));
            }
            _ => {}
        }
        let watcher = {
            let (options, stop, peak) = (options.clone(), stop.clone(), peak.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    if let Some(kib) = options.pid.and_then(raw::rss_kib) {
                        peak.fetch_max(kib, Ordering::Relaxed);
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            })
        };
        let honest = honest(options.clone(), options.phase).await;
        stop.store(true, Ordering::Relaxed);
        while attackers.join_next().await.is_some() {}
        let _ = watcher.await;
        report.phases.push(Phase {
            name: name.to_owned(),
            honest,
            peak_rss_kib: Some(peak.load(Ordering::Relaxed)).filter(|k| *k > 0),
            end_rss_kib: rss(&options),
            answers: tally.take(),
        });
    }
    Ok(report)
}

/// The honest client for `length`: a valid submission (`wait=none`), then the newest
/// checkpoint, each on a new connection, again and again, every 100 ms.
async fn honest(options: Arc<HostileOptions>, length: Duration) -> Honest {
    let mut result = Honest::default();
    let end = Instant::now() + length;
    let mut turn = 0u64;
    while Instant::now() < end {
        turn += 1;
        let (bytes, expected) = if turn % 2 == 1 {
            match (options.honest_tx)() {
                Some(tx) => (
                    raw::request(
                        "POST",
                        "/v1/transactions?wait=none",
                        Some("application/cbor"),
                        &tx,
                        false,
                    ),
                    200,
                ),
                None => continue,
            }
        } else {
            (
                raw::request("GET", "/v1/checkpoints/latest", None, &[], false),
                200,
            )
        };
        let sent = Instant::now();
        let answer = raw::exchange(options.server, HONEST, &bytes, Duration::from_secs(60)).await;
        let took = sent.elapsed();
        match answer {
            Ok(a) if a.status == expected => {
                result.ok += 1;
                result.latencies.push(took);
            }
            _ => result.failed += 1,
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    result.latencies.sort();
    result
}

/// One flooding connection: submissions back to back on a kept-alive connection,
/// reconnecting when the server closes it.
async fn flood(server: SocketAddr, stop: Arc<AtomicBool>, tally: Arc<Tally>) {
    // A well-formed CBOR array that is no transaction: decoded and refused (400), or
    // refused before that for the client's rate (429).
    let body = [0x82u8, 0x01, 0x40];
    let bytes = raw::request(
        "POST",
        "/v1/transactions?wait=none",
        Some("application/cbor"),
        &body,
        true,
    );
    while !stop.load(Ordering::Relaxed) {
        let Ok(mut stream) = raw::connect(server, FLOODER).await else {
            tally.add("flood: connect failed");
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        while !stop.load(Ordering::Relaxed) {
            if stream.write_all(&bytes).await.is_err() {
                break;
            }
            match tokio::time::timeout(Duration::from_secs(30), raw::read_answer(&mut stream)).await
            {
                Ok(Ok(answer)) => tally.add(format!("flood: {}", answer.status)),
                _ => {
                    tally.add("flood: closed");
                    break;
                }
            }
        }
    }
}

/// Malformed and oversized bodies, one after another, each on a new connection.
async fn malformed(server: SocketAddr, stop: Arc<AtomicBool>, tally: Arc<Tally>) {
    let big = vec![0xA5u8; 3 * 1024 * 1024];
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "garbage cbor",
            raw::request(
                "POST",
                "/v1/transactions",
                Some("application/cbor"),
                &[0xff, 0x00, 0x13, 0x37],
                false,
            ),
        ),
        (
            "truncated cbor",
            raw::request(
                "POST",
                "/v1/transactions",
                Some("application/cbor"),
                &[0x85, 0x01, 0x58, 0x20, 0x00],
                false,
            ),
        ),
        (
            "json body",
            raw::request(
                "POST",
                "/v1/transactions",
                Some("application/json"),
                br#"{"tx": [1, 2, {"a": null}]}"#,
                false,
            ),
        ),
        (
            "empty body",
            raw::request(
                "POST",
                "/v1/transactions",
                Some("application/cbor"),
                &[],
                false,
            ),
        ),
        (
            "bad query",
            raw::request("GET", "/v1/checkpoints?from=-1&limit=x", None, &[], false),
        ),
        (
            "oversized",
            raw::request(
                "POST",
                "/v1/transactions",
                Some("application/cbor"),
                &big,
                false,
            ),
        ),
        ("declared oversized", {
            let mut head = b"POST /v1/transactions HTTP/1.1\r\nHost: ecert\r\nContent-Type: application/cbor\r\nContent-Length: 3000000000\r\nConnection: close\r\n\r\n".to_vec();
            head.extend_from_slice(&[0u8; 1024]);
            head
        }),
        ("chunked oversized", {
            let mut body = b"POST /v1/transactions HTTP/1.1\r\nHost: ecert\r\nContent-Type: application/cbor\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n".to_vec();
            for _ in 0..48 {
                body.extend_from_slice(format!("{:x}\r\n", 65_536).as_bytes());
                body.extend_from_slice(&[0x5Au8; 65_536]);
                body.extend_from_slice(b"\r\n");
            }
            body.extend_from_slice(b"0\r\n\r\n");
            body
        }),
    ];
    while !stop.load(Ordering::Relaxed) {
        for (name, bytes) in &cases {
            let answer = raw::exchange(server, MALFORMER, bytes, Duration::from_secs(30)).await;
            match answer {
                Ok(a) => tally.add(format!("{name}: {}", a.status)),
                Err(_) => tally.add(format!("{name}: no answer")),
            }
        }
    }
}

/// A slow client: the start of a request's headers, then one byte every second, never
/// the end; counts whether the server dropped it.
async fn slow(server: SocketAddr, stop: Arc<AtomicBool>, tally: Arc<Tally>) {
    while !stop.load(Ordering::Relaxed) {
        let Ok(mut stream) = raw::connect(server, SLOWPOKE).await else {
            tally.add("slow: connect failed");
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let started = Instant::now();
        if stream
            .write_all(b"POST /v1/transactions HTTP/1.1\r\nHost: ecert\r\n")
            .await
            .is_err()
        {
            continue;
        }
        let mut dropped = false;
        while !stop.load(Ordering::Relaxed) {
            if raw::closed_within(&mut stream, Duration::from_secs(1)).await
                || stream.write_all(b"X").await.is_err()
            {
                dropped = true;
                break;
            }
        }
        if dropped {
            tally.add(format!(
                "slow: dropped after {} s",
                started.elapsed().as_secs()
            ));
        }
    }
}

/// Holds `connections` connections open from many addresses, sending nothing, until
/// told to stop; counts how many connected, how many the server closed at once, and how
/// many it closed later (the header timeout).
async fn hold(options: Arc<HostileOptions>, stop: Arc<AtomicBool>, tally: Arc<Tally>) {
    let per = options.per_address.max(1);
    let mut holders = JoinSet::new();
    for n in 0..options.connections {
        let source = raw::loopback_client(HOLDER_BASE, (n / per) as u32);
        let (server, stop, tally) = (options.server, stop.clone(), tally.clone());
        holders.spawn(async move {
            let connected =
                tokio::time::timeout(Duration::from_secs(5), raw::connect(server, source)).await;
            let mut stream = match connected {
                Ok(Ok(s)) => s,
                Ok(Err(_)) => return tally.add("hold: connect refused"),
                Err(_) => return tally.add("hold: not accepted within 5 s"),
            };
            tally.add("hold: connected");
            let opened = Instant::now();
            while !stop.load(Ordering::Relaxed) {
                if raw::closed_within(&mut stream, Duration::from_millis(500)).await {
                    let what = if opened.elapsed() < Duration::from_secs(1) {
                        "hold: closed by the server at once"
                    } else {
                        "hold: closed by the server later"
                    };
                    return tally.add(what);
                }
            }
            tally.add("hold: still open at the end");
        });
        if n % 500 == 499 {
            tokio::task::yield_now().await;
        }
    }
    while holders.join_next().await.is_some() {}
}

/// The report as text: a table per phase.
pub fn render(report: &HostileReport) -> String {
    let mib = |k: Option<u64>| {
        k.map_or_else(
            || "?".to_owned(),
            |k| format!("{:.1} MiB", k as f64 / 1024.0),
        )
    };
    let ms = |d: Option<Duration>| {
        d.map_or_else(
            || "-".to_owned(),
            |d| format!("{:.1} ms", d.as_secs_f64() * 1e3),
        )
    };
    let mut out = format!("node memory before: {}\n", mib(report.rss_before_kib));
    for phase in &report.phases {
        let h = &phase.honest;
        out.push_str(&format!(
            "\n{}: honest {} ok, {} failed; p50 {}, p95 {}, p99 {}, max {}; node memory peak {}, end {}\n",
            phase.name,
            h.ok,
            h.failed,
            ms(h.percentile(50.0)),
            ms(h.percentile(95.0)),
            ms(h.percentile(99.0)),
            ms(h.latencies.last().copied()),
            mib(phase.peak_rss_kib),
            mib(phase.end_rss_kib),
        ));
        for (what, n) in &phase.answers {
            out.push_str(&format!("  {what}: {n}\n"));
        }
    }
    out
}

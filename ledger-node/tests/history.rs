//! The history checker's short form (`ecert_testnet::history`; the full run is
//! `ecert-testnet history --duration 600`, docs/reliability.md §3): four `ecert-node`
//! processes under concurrent anchoring and revocation clients and two counters for 40 s
//! while a seeded nemesis kills, restarts and wipes nodes and, in the network lab,
//! isolates them, cuts one direction and splits them; then every node's certified state
//! is checked against every client's history, and the test fails on any anomaly.
//!
//! Where network namespaces cannot be made the run has process faults only and says so,
//! unless `ECERT_REQUIRE_NETNS=1` (CI), where it fails. `ECERT_HISTORY_SEED` replays a
//! seed; `ECERT_HISTORY_SECS` runs longer.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ecert_schemas::ChainId;
use ecert_testkit::testnet::history::nemesis::Pace;
use ecert_testkit::testnet::history::{self, Cluster, HistoryOptions};
use ecert_testkit::testnet::load::anchor_transaction;
use ecert_testkit::testnet::netns::{self, NetLab, NetnsError};
use ecert_testkit::Scratch;

const NODE_BIN: &str = env!("CARGO_BIN_EXE_ecert-node");

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// The lab, or `None` (process faults only) where namespaces cannot be made; a failure
/// instead when `ECERT_REQUIRE_NETNS=1`.
fn lab_or_none() -> Option<NetLab> {
    match NetLab::create(4) {
        Ok(lab) => Some(lab),
        Err(NetnsError::Unavailable(reason)) => {
            assert!(
                !netns::required(),
                "{}=1 but network namespaces cannot be made here: {reason}",
                netns::REQUIRE_ENV
            );
            eprintln!("history: network faults skipped: {reason}");
            None
        }
        Err(e) => panic!("the network lab could not be made: {e}"),
    }
}

#[test]
fn a_short_run_under_faults_keeps_every_promise_of_the_history() {
    let started = Instant::now();
    let seed = env_u64("ECERT_HISTORY_SEED").unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
    });
    let secs = env_u64("ECERT_HISTORY_SECS").unwrap_or(40);
    eprintln!("history: seed {seed} (replay: ECERT_HISTORY_SEED={seed})");
    let dir = Scratch::new("history");
    let mut cluster = Cluster::create(dir.dir(), Path::new(NODE_BIN), lab_or_none(), 50, 100)
        .unwrap_or_else(|e| panic!("the nodes could not be started: {e}"));
    let options = HistoryOptions {
        anchor_clients: 2,
        pace: Pace {
            quiet: (1, 3),
            hold: (2, 5),
        },
        submit_timeout_ms: 5_000,
        converge_within: Duration::from_secs(45),
        ..HistoryOptions::new(Duration::from_secs(secs), seed)
    };
    let report = history::run(&mut cluster, &options, &|line| eprintln!("history: {line}"))
        .unwrap_or_else(|e| panic!("the run failed (seed {seed}): {e}"));
    drop(cluster);
    eprintln!("{report}");
    eprintln!("history: {:.1} s in all", started.elapsed().as_secs_f64());
    assert!(
        report.clean(),
        "{} anomalies (replay with ECERT_HISTORY_SEED={seed}):\n{report}",
        report.findings.anomalies.len()
    );
    assert!(
        report.anchors.certified > 0 && report.revocations.certified > 0,
        "nothing was certified: {report}"
    );
    assert!(report.fault_count() > 0, "no fault was injected: {report}");
    assert!(report.checks > 0, "the counters checked nothing: {report}");
}

/// Found by the full run: a follower whose data is deleted while the leader stays made the
/// leader's Raft core panic when the follower answered with its now shorter log
/// (openraft's "follower log reversion"), and the ledger stopped. The wiped node must
/// rejoin from the leader's log, and the leader go on.
#[test]
fn a_follower_wiped_under_a_steady_leader_rejoins_and_the_leader_goes_on() {
    let dir = Scratch::new("history-wipe");
    // No snapshot: the wiped node is brought back from the leader's log.
    let mut cluster = Cluster::create(dir.dir(), Path::new(NODE_BIN), None, 50, 10_000).unwrap();
    let http = cluster.net.http(Duration::from_secs(20)).unwrap();
    let leader = cluster
        .net
        .wait_ready(&http, &[0, 1, 2, 3], Duration::from_secs(60))
        .unwrap();
    let chain = ChainId::new(history::CHAIN).unwrap();
    let department = &cluster.province.departments[0];
    let kind = department.kinds[0].clone();
    let anchor = |net: &ecert_testkit::network::LocalNetwork| {
        let tx = anchor_transaction(&chain, &department.issuer_key, &kind, 1).unwrap();
        let url = format!(
            "{}/v1/transactions?wait=certified&timeout_ms=15000",
            net.url(leader)
        );
        let reply = http.post_cbor(&url, &tx).unwrap();
        assert_eq!(reply.status, 200, "{}", reply.json());
    };
    for _ in 0..5 {
        anchor(&cluster.net);
    }
    let victim = (leader + 1) % 4;
    cluster.net.kill(victim).unwrap();
    cluster.net.wipe(victim).unwrap();
    cluster.net.start(victim).unwrap();
    for _ in 0..3 {
        anchor(&cluster.net);
    }
    let height = |i: usize| {
        cluster
            .net
            .health(&http, i)
            .and_then(|h| h["certified_height"].as_u64())
    };
    let target = height(leader).unwrap();
    let started = Instant::now();
    while height(victim) < Some(target) {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the wiped node did not catch up: certified {:?} of {target}",
            height(victim)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    anchor(&cluster.net);
    let log = std::fs::read_to_string(cluster.net.home(leader).join("node.log")).unwrap();
    assert!(!log.contains("panicked"), "the leader panicked:\n{log}");
}

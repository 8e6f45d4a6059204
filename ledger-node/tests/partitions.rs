//! The ledger under real network faults: four `ecert-node` processes, each in its own
//! network namespace, joined by the test network lab's switch (`ecert_testnet::netns`),
//! whose links are cut, cut one way, delayed and made lossy, then healed.
//!
//! Where namespaces cannot be made (not root, no `ip`, no TUN) each test says
//! "skipped: <reason>" and passes, unless `ECERT_REQUIRE_NETNS=1` (CI), where it fails.
//! `scripts/partitions` runs the long form (`ECERT_PARTITIONS_SUBMISSIONS` batches in the
//! latency test, 20 here) and prints the figures.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use ecert_schemas::ledger::Checkpoint;
use ecert_testkit::network::{CreateOptions, LocalNetwork, Placement};
use ecert_testkit::province::Province;
use ecert_testkit::testnet::http::{Http, Reply};
use ecert_testkit::testnet::netns::{self, NetLab, NetnsError};
use ecert_testkit::world::batch_of;
use ecert_testkit::{now, sample, Scratch};
use ecert_wallet::HolderKey;
use rand_core::OsRng;

const CHAIN: &str = "ecert-partition-test";
const NODE_BIN: &str = env!("CARGO_BIN_EXE_ecert-node");
const ALL: [usize; 4] = [0, 1, 2, 3];

/// Four node processes at a time is all a 2-core machine takes.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Four nodes in the lab. Fields drop in order: the nodes stop before the lab goes.
struct World {
    net: LocalNetwork,
    lab: NetLab,
    province: Province,
    holder: HolderKey,
    /// Short answers (health, checkpoints).
    quick: Http,
    /// Submissions that wait for certification.
    slow: Http,
    started: Instant,
    _dir: Scratch,
    _alone: MutexGuard<'static, ()>,
}

/// The lab, or `None` with "skipped: <reason>" printed where namespaces cannot be made
/// (a failure instead when `ECERT_REQUIRE_NETNS=1`).
fn lab_or_skip(test: &str) -> Option<NetLab> {
    match NetLab::create(4) {
        Ok(lab) => Some(lab),
        Err(NetnsError::Unavailable(reason)) => {
            assert!(
                !netns::required(),
                "{test}: {}=1 but network namespaces cannot be made here: {reason}",
                netns::REQUIRE_ENV
            );
            eprintln!("{test}: skipped: {reason}");
            None
        }
        Err(e) => panic!("{test}: the network lab could not be made: {e}"),
    }
}

/// Four nodes in a new lab, running (Raft heartbeat `heartbeat_ms`, or the default).
fn world(name: &str, heartbeat_ms: Option<u64>) -> Option<World> {
    let alone = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let lab = lab_or_skip(name)?;
    let dir = Scratch::new(&format!("partitions-{name}"));
    let province = Province::new(CHAIN, now().minus(86_400), &mut OsRng).unwrap();
    let options = CreateOptions {
        chain_id: CHAIN.into(),
        departments: province
            .departments
            .iter()
            .map(|d| d.id.to_string())
            .collect(),
        base_port: Some(7000),
        block_interval_ms: 50,
        snapshot_every: 1_000,
        issuers: province.genesis_issuers(),
        weak_kdf: true,
        tls: false,
    };
    let placements: Vec<Placement> = ALL
        .iter()
        .map(|&i| Placement {
            netns: lab.namespace(i).unwrap().to_owned(),
            host: lab.node_ip(i).unwrap(),
        })
        .collect();
    let mut net =
        LocalNetwork::create_placed(dir.dir(), Path::new(NODE_BIN), options, &placements).unwrap();
    if let Some(ms) = heartbeat_ms {
        net.set_heartbeat_ms(ms).unwrap();
    }
    net.start_all().unwrap();
    let quick = net.http(Duration::from_secs(3)).unwrap();
    let slow = net.http(Duration::from_secs(40)).unwrap();
    net.wait_ready(&quick, &ALL, Duration::from_secs(60))
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    Some(World {
        net,
        lab,
        province,
        holder: HolderKey::generate(&mut OsRng),
        quick,
        slow,
        started: Instant::now(),
        _dir: dir,
        _alone: alone,
    })
}

/// The anchor transaction of a fresh batch of one certificate.
fn new_tx(w: &mut World, n: usize) -> Vec<u8> {
    let t = now();
    let (dept, order) = if n.is_multiple_of(2) {
        ("public-security", sample::id_card(t))
    } else {
        ("justice", sample::no_criminal_record(t))
    };
    let (_, tx) = batch_of(&mut w.province, dept, w.holder.public_key(), &[order], t);
    tx.to_bytes().unwrap()
}

fn health(w: &World, node: usize) -> Option<serde_json::Value> {
    w.net.health(&w.quick, node)
}

fn field(w: &World, node: usize, name: &str) -> Option<u64> {
    health(w, node).and_then(|h| h[name].as_u64())
}

fn certified(w: &World, node: usize) -> u64 {
    field(w, node, "certified_height")
        .unwrap_or_else(|| panic!("node {node} does not answer /health"))
}

/// The highest Raft term any node reports.
fn max_term(w: &World) -> u64 {
    ALL.iter()
        .filter_map(|&n| field(w, n, "term"))
        .max()
        .unwrap_or(0)
}

fn submit(w: &World, node: usize, tx: &[u8], timeout_ms: u64) -> Option<Reply> {
    w.slow
        .post_cbor(
            &format!(
                "{}/v1/transactions?wait=certified&timeout_ms={timeout_ms}",
                w.net.url(node)
            ),
            tx,
        )
        .ok()
}

/// Whether a reply says the transaction is certified (or was, by an earlier attempt).
fn is_certified(reply: &Reply) -> bool {
    reply.status == 200
        || (reply.status == 400
            && reply.json()["message"]
                .as_str()
                .is_some_and(|m| m.contains("already")))
}

/// Submits `tx` through `nodes` in turn until it is certified (bounded); how long it took.
fn anchor_through(w: &World, nodes: &[usize], tx: &[u8], what: &str) -> Duration {
    let start = Instant::now();
    let deadline = start + Duration::from_secs(60);
    for attempt in 0.. {
        let node = nodes[attempt % nodes.len()];
        let last = match submit(w, node, tx, 10_000) {
            Some(r) if is_certified(&r) => return start.elapsed(),
            Some(r) => format!("{} {}", r.status, r.json()),
            None => "no answer".to_owned(),
        };
        assert!(
            Instant::now() < deadline,
            "{what}: not certified through nodes {nodes:?} within 60 s (last answer from node \
             {node}: {last})"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    unreachable!()
}

fn wait_for(what: &str, timeout: Duration, mut ok: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !ok() {
        assert!(
            start.elapsed() < timeout,
            "timed out after {} s waiting for {what}",
            timeout.as_secs()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    start.elapsed()
}

/// The certified headers node `node` holds, by height.
fn checkpoints(w: &World, node: usize) -> BTreeMap<u64, Vec<u8>> {
    let reply = w
        .quick
        .get(&format!(
            "{}/v1/checkpoints?from=0&limit=1000",
            w.net.url(node)
        ))
        .unwrap_or_else(|e| panic!("checkpoints of node {node}: {e}"));
    assert!(reply.ok(), "checkpoints of node {node}: {reply:?}");
    let list: Vec<Checkpoint> =
        ecert_schemas::codec::from_cbor_bounded("checkpoints", &reply.body, 64 << 20).unwrap();
    list.into_iter()
        .map(|c| (c.decode_header().unwrap().height, c.header.to_vec()))
        .collect()
}

/// Safety: no two nodes hold different certified headers at one height.
fn assert_one_header_per_height(w: &World) {
    let mut seen: BTreeMap<u64, (usize, Vec<u8>)> = BTreeMap::new();
    for node in ALL {
        for (height, header) in checkpoints(w, node) {
            match seen.get(&height) {
                Some((other, h)) => assert_eq!(
                    h, &header,
                    "nodes {other} and {node} hold different certified headers at height {height}"
                ),
                None => {
                    seen.insert(height, (node, header));
                }
            }
        }
    }
}

/// What each node says of itself, for failure messages.
fn states(w: &World) -> String {
    ALL.iter()
        .map(|&n| match health(w, n) {
            Some(h) => format!(
                "node {n}: height {} certified {} leader {} term {} role {}",
                h["height"], h["certified_height"], h["leader"], h["term"], h["role"]
            ),
            None => format!("node {n}: no answer"),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Waits until every node holds the same certified headers; how long that took.
fn wait_converged(w: &World, what: &str) -> Duration {
    let start = Instant::now();
    loop {
        let heights: Vec<Option<u64>> = ALL
            .iter()
            .map(|&n| field(w, n, "certified_height"))
            .collect();
        if heights.iter().all(|h| h.is_some() && *h == heights[0])
            && ALL.iter().all(|&n| checkpoints(w, n) == checkpoints(w, 0))
        {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out after 60 s waiting for {what}: {}",
            states(w)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_one_header_per_height(w);
    start.elapsed()
}

/// The leader every node in `nodes` names, once they agree on one of them.
fn wait_agreed_leader(w: &World, nodes: &[usize], what: &str) -> usize {
    let mut agreed = None;
    wait_for(what, Duration::from_secs(30), || {
        let leaders: Vec<Option<u64>> = nodes.iter().map(|&n| field(w, n, "leader")).collect();
        agreed = leaders[0]
            .filter(|l| leaders.iter().all(|x| *x == Some(*l)))
            .and_then(|l| usize::try_from(l).ok())
            .filter(|l| nodes.contains(l));
        agreed.is_some()
    });
    agreed.unwrap()
}

fn report(w: &World, test: &str, lines: &[String]) {
    let stats = w.lab.stats();
    eprintln!(
        "{test}: {} | packets forwarded {}, dropped on cut links {}, lost {}, delayed {} | {:.1} s",
        lines.join("; "),
        stats.forwarded,
        stats.cut,
        stats.lost,
        stats.delayed,
        w.started.elapsed().as_secs_f64()
    );
}

#[test]
fn an_isolated_minority_certifies_nothing_while_the_majority_goes_on_and_converges_after_heal() {
    let Some(mut w) = world("minority", None) else {
        return;
    };
    let leader = wait_agreed_leader(&w, &ALL, "a leader");
    let tx = new_tx(&mut w, 0);
    anchor_through(&w, &[leader], &tx, "the first batch");
    let term_before = max_term(&w);
    let lonely = (leader + 1) % 4;
    let majority: Vec<usize> = ALL.into_iter().filter(|n| *n != lonely).collect();
    wait_for(
        "the lonely node to certify the first batch",
        Duration::from_secs(20),
        || certified(&w, lonely) == certified(&w, leader),
    );
    let before = certified(&w, lonely);

    w.lab.isolate(lonely).unwrap();
    for n in 1..=5 {
        let tx = new_tx(&mut w, n);
        anchor_through(&w, &majority, &tx, "a batch through the majority");
    }
    // What the isolated node is given is not certified.
    let tx = new_tx(&mut w, 6);
    let reply = submit(&w, lonely, &tx, 3_000);
    assert!(
        reply.as_ref().is_none_or(|r| r.status != 200),
        "the isolated node certified a submission: {reply:?}"
    );
    assert_eq!(
        certified(&w, lonely),
        before,
        "the isolated node certified something new"
    );
    let majority_height = certified(&w, majority[0]);
    assert!(majority_height >= before + 5, "{majority_height} {before}");
    assert_one_header_per_height(&w);

    w.lab.heal();
    let converged = wait_converged(&w, "all four nodes to hold the same certified headers");
    report(
        &w,
        "minority",
        &[
            format!(
                "certified by the majority while cut off: {} → {majority_height}",
                before
            ),
            format!("converged {:.1} s after heal", converged.as_secs_f64()),
            format!("term {term_before} → {}", max_term(&w)),
        ],
    );
}

#[test]
fn an_isolated_leader_stops_certifying_a_new_leader_takes_over_and_it_rejoins() {
    let Some(mut w) = world("leader", None) else {
        return;
    };
    let old = wait_agreed_leader(&w, &ALL, "a leader");
    let tx = new_tx(&mut w, 0);
    anchor_through(&w, &[old], &tx, "the first batch");
    let term_before = max_term(&w);
    let before = certified(&w, old);
    let rest: Vec<usize> = ALL.into_iter().filter(|n| *n != old).collect();

    w.lab.isolate(old).unwrap();
    let cut_at = Instant::now();
    let new = wait_agreed_leader(&w, &rest, "the majority to elect a new leader");
    let elected_after = cut_at.elapsed();
    assert_ne!(new, old);
    for n in 1..=3 {
        let tx = new_tx(&mut w, n);
        anchor_through(&w, &rest, &tx, "a batch under the new leader");
    }
    // The old leader steps down: it no longer names itself leader, and what it is given
    // is not certified.
    wait_for(
        "the isolated leader to step down",
        Duration::from_secs(20),
        || field(&w, old, "leader") != Some(old as u64),
    );
    let stepped_down = cut_at.elapsed();
    let tx = new_tx(&mut w, 4);
    let reply = submit(&w, old, &tx, 3_000);
    assert!(
        reply.as_ref().is_none_or(|r| r.status != 200),
        "the isolated old leader certified a submission: {reply:?}"
    );
    assert_eq!(
        certified(&w, old),
        before,
        "the isolated old leader certified"
    );
    assert_one_header_per_height(&w);

    w.lab.heal();
    let converged = wait_converged(&w, "the old leader to catch up");
    let leader = wait_agreed_leader(&w, &ALL, "all four to agree on a leader after heal");
    let tx = new_tx(&mut w, 5);
    anchor_through(&w, &[old], &tx, "a batch through the old leader after heal");
    report(
        &w,
        "leader",
        &[
            format!(
                "new leader elected {:.1} s after the cut",
                elected_after.as_secs_f64()
            ),
            format!(
                "old leader stepped down {:.1} s after the cut",
                stepped_down.as_secs_f64()
            ),
            format!("converged {:.1} s after heal", converged.as_secs_f64()),
            format!(
                "leader {old} → {new} → {leader}, term {term_before} → {}",
                max_term(&w)
            ),
        ],
    );
}

#[test]
fn a_leader_that_can_send_but_not_receive_never_splits_the_ledger() {
    let Some(mut w) = world("asymmetric", None) else {
        return;
    };
    let leader = wait_agreed_leader(&w, &ALL, "a leader");
    let tx = new_tx(&mut w, 0);
    anchor_through(&w, &[leader], &tx, "the first batch");
    let term_before = max_term(&w);
    let rest: Vec<usize> = ALL.into_iter().filter(|n| *n != leader).collect();
    let before = certified(&w, rest[0]);

    // Its packets still reach the others; nothing reaches it.
    w.lab.cut_incoming(leader).unwrap();
    for n in 1..=3 {
        let tx = new_tx(&mut w, n);
        anchor_through(&w, &rest, &tx, "a batch while the leader is deaf");
        assert_one_header_per_height(&w);
    }
    let progress = certified(&w, rest[0]);
    assert!(progress >= before + 3, "{progress} {before}");

    w.lab.heal();
    let converged = wait_converged(&w, "all four to converge after the one-way cut");
    let tx = new_tx(&mut w, 4);
    anchor_through(&w, &ALL, &tx, "a batch after heal");
    assert_one_header_per_height(&w);
    report(
        &w,
        "asymmetric",
        &[
            format!("certified by the others during the cut: {before} → {progress}"),
            format!("converged {:.1} s after heal", converged.as_secs_f64()),
            format!("term {term_before} → {}", max_term(&w)),
        ],
    );
}

/// The Raft heartbeat of the latency test: longer than the slow links' round trip (400 ms
/// and a retransmission).
const LATENCY_HEARTBEAT_MS: u64 = 1_000;

/// Submissions for the latency test: `ECERT_PARTITIONS_SUBMISSIONS` or 20.
fn submissions() -> usize {
    std::env::var("ECERT_PARTITIONS_SUBMISSIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20)
}

/// Anchors `txs` with `clients` concurrent clients, each through its own node; every
/// submission's time from first sending to certified.
fn timed_anchoring(w: &World, txs: Vec<Vec<u8>>, clients: usize) -> Vec<Duration> {
    let per_client: Vec<Vec<Vec<u8>>> = (0..clients)
        .map(|c| txs.iter().skip(c).step_by(clients).cloned().collect())
        .collect();
    std::thread::scope(|s| {
        let handles: Vec<_> = per_client
            .into_iter()
            .enumerate()
            .map(|(c, mine)| {
                s.spawn(move || {
                    let first = c % 4;
                    let order: Vec<usize> = (0..4).map(|k| (first + k) % 4).collect();
                    mine.iter()
                        .map(|tx| anchor_through(w, &order, tx, "a batch (latency)"))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    })
}

/// The p-th percentile (nearest rank) of sorted durations, in milliseconds.
fn percentile(sorted: &[Duration], p: f64) -> u128 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1].as_millis()
}

fn summary(times: &mut [Duration]) -> String {
    times.sort();
    format!(
        "p50 {} ms, p95 {} ms, p99 {} ms, max {} ms",
        percentile(times, 50.0),
        percentile(times, 95.0),
        percentile(times, 99.0),
        times.last().map_or(0, |d| d.as_millis())
    )
}

#[test]
fn anchoring_goes_on_with_200_ms_latency_and_5_percent_loss_on_every_link() {
    // A round trip of 400 ms and more: the heartbeat (openraft's wait for each append's
    // answer) must be longer, see `ecert-node run --heartbeat-ms`.
    let Some(mut w) = world("latency", Some(LATENCY_HEARTBEAT_MS)) else {
        return;
    };
    let n = submissions();
    let clients = 4;
    let clean_txs: Vec<Vec<u8>> = (0..n).map(|i| new_tx(&mut w, i)).collect();
    let slow_txs: Vec<Vec<u8>> = (0..n).map(|i| new_tx(&mut w, i)).collect();
    let term_before = max_term(&w);

    let mut clean = timed_anchoring(&w, clean_txs, clients);
    let term_clean = max_term(&w);

    w.lab.impair_all(Duration::from_millis(200), 0.05);
    let impaired_at = Instant::now();
    let mut slow = timed_anchoring(&w, slow_txs, clients);
    let impaired_for = impaired_at.elapsed();
    eprintln!(
        "latency: the slow phase took {:.1} s; {}",
        impaired_for.as_secs_f64(),
        states(&w)
    );
    let term_slow = max_term(&w);
    assert_eq!(slow.len(), n);
    assert_one_header_per_height(&w);

    w.lab.heal();
    let converged = wait_converged(&w, "all four to converge after the slow links heal");
    report(
        &w,
        "latency",
        &[
            format!("{n} batches, {clients} clients, heartbeat {LATENCY_HEARTBEAT_MS} ms"),
            format!("clean: {}", summary(&mut clean)),
            format!(
                "200 ms one-way delay, 5 % loss: {} ({:.1} s in all)",
                summary(&mut slow),
                impaired_for.as_secs_f64()
            ),
            format!("converged {:.1} s after heal", converged.as_secs_f64()),
            format!("term {term_before} → {term_clean} (clean) → {term_slow} (slow links)"),
        ],
    );
}

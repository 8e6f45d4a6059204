//! The ledger as a real distributed system: four `ecert-node` processes on loopback,
//! talking libp2p, ordering with Raft, certifying headers; killed, restarted and wiped
//! while issuers anchor batches.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use ecert_issuer::Batch;
use ecert_schemas::ledger::{
    AnchorReceipt, Checkpoint, RevocationDelta, RevocationEntry, RevocationReason,
    RevocationSnapshot, Transaction, TrustBundle, TrustUpdate,
};
use ecert_schemas::{Certificate, Hash32, IssuerId, KindRegistry};
use ecert_testkit::network::{CreateOptions, LocalNetwork};
use ecert_testkit::province::Province;
use ecert_testkit::testnet::http::{Http, Reply};
use ecert_testkit::world::batch_of;
use ecert_testkit::{now, sample, Cmd, Scratch};
use ecert_verifier::{verify_anchor_receipt, verify_revocation_delta, TrustAnchor, TrustStore};
use ecert_wallet::HolderKey;
use rand_core::OsRng;

const CHAIN: &str = "ecert-cluster-test";
const NODE_BIN: &str = env!("CARGO_BIN_EXE_ecert-node");

/// Clusters are heavy for a 2-core machine: one at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// A running network of four nodes (snapshots every `snapshot_every` blocks), the only one
/// while it lives.
struct World {
    net: LocalNetwork,
    province: Province,
    holder: HolderKey,
    http: Http,
    anchor: TrustAnchor,
    _dir: Scratch,
    /// Released last, once the nodes are stopped.
    _alone: MutexGuard<'static, ()>,
}

fn world(name: &str, snapshot_every: u64) -> World {
    let alone = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = Scratch::new(&format!("cluster-{name}"));
    let province = Province::new(CHAIN, now().minus(86_400), &mut OsRng).unwrap();
    let options = CreateOptions {
        chain_id: CHAIN.into(),
        departments: province
            .departments
            .iter()
            .map(|d| d.id.to_string())
            .collect(),
        base_port: None,
        block_interval_ms: 50,
        snapshot_every,
        issuers: province.genesis_issuers(),
        weak_kdf: true,
        tls: false,
    };
    let mut net = LocalNetwork::create(dir.dir(), Path::new(NODE_BIN), options).unwrap();
    net.start_all().unwrap();
    let http = Http::new(Duration::from_secs(30));
    net.wait_ready(&http, &[0, 1, 2, 3], Duration::from_secs(60))
        .unwrap();
    // The nodes' own validator keys: the anchor the network wrote, not the province's.
    let anchor = ecert_verifier::anchor_file::parse_anchor(
        &std::fs::read_to_string(net.anchor_path()).unwrap(),
    )
    .unwrap();
    World {
        net,
        province,
        holder: HolderKey::generate(&mut OsRng),
        http,
        anchor,
        _dir: dir,
        _alone: alone,
    }
}

/// A batch of `n` real certificates of department `dept`, and its anchor transaction.
fn batch(w: &mut World, dept: &str, n: usize) -> (Batch, Vec<u8>) {
    let t = now();
    let order = if dept == "justice" {
        sample::no_criminal_record(t)
    } else {
        sample::id_card(t)
    };
    let (batch, tx) = batch_of(
        &mut w.province,
        dept,
        w.holder.public_key(),
        &vec![order; n],
        t,
    );
    (batch, tx.to_bytes().unwrap())
}

fn submit(w: &World, node: usize, tx: &[u8]) -> Reply {
    w.http
        .post_cbor(
            &format!(
                "{}/v1/transactions?wait=certified&timeout_ms=15000",
                w.net.url(node)
            ),
            tx,
        )
        .unwrap()
}

/// The `message` of an error reply ("" when there is none).
fn message(reply: &Reply) -> String {
    reply.json()["message"].as_str().unwrap_or("").to_owned()
}

/// A batch of one ID card submitted to `node` and certified; its transaction.
fn accepted_batch(w: &mut World, node: usize) -> Vec<u8> {
    let (_, tx) = batch(w, "public-security", 1);
    let reply = submit(w, node, &tx);
    assert_eq!(reply.status, 200, "{:?}", reply.json());
    tx
}

fn get(w: &World, node: usize, path: &str) -> Reply {
    w.http.get(&format!("{}{path}", w.net.url(node))).unwrap()
}

fn health(w: &World, node: usize) -> serde_json::Value {
    w.net.health(&w.http, node).unwrap()
}

fn wait_for(what: &str, timeout: Duration, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits up to a minute for `node` (started again) to apply height `target`.
fn wait_to_catch_up(w: &World, node: usize, target: u64, what: &str) {
    wait_for(what, Duration::from_secs(60), || {
        w.net
            .health(&w.http, node)
            .and_then(|h| h["height"].as_u64())
            .is_some_and(|h| h >= target)
    });
}

fn checkpoint_at(w: &World, node: usize, height: u64) -> Option<Vec<u8>> {
    let reply = get(w, node, &format!("/v1/checkpoints?from={height}&limit=1"));
    assert!(reply.ok(), "{reply:?}");
    let list: Vec<Checkpoint> = serde_cbor_list(&reply.body);
    list.into_iter()
        .next()
        .filter(|c| c.decode_header().unwrap().height == height)
        .map(|c| c.header.to_vec())
}

fn serde_cbor_list(bytes: &[u8]) -> Vec<Checkpoint> {
    ecert_schemas::codec::from_cbor_bounded("checkpoints", bytes, 64 << 20).unwrap()
}

fn store_from(w: &World, node: usize) -> TrustStore {
    let reply = get(w, node, "/v1/export");
    assert!(reply.ok(), "export: {reply:?}");
    let bundle = TrustBundle::from_bytes(&reply.body).unwrap();
    TrustStore::from_bundle(bundle, &w.anchor, KindRegistry::builtin().unwrap()).unwrap()
}

#[test]
fn four_nodes_certify_anchors_and_serve_proofs_that_verify_against_another_nodes_headers() {
    let mut w = world("certify", 1_000);
    let leader = w.net.leader(&w.http).unwrap();
    let follower = (leader + 1) % 4;

    // Submitted to a follower: forwarded to the leader, ordered, certified.
    let (batch, tx) = batch(&mut w, "public-security", 5);
    let reply = submit(&w, follower, &tx);
    assert_eq!(reply.status, 200, "{:?}", reply.json());
    let receipt = reply.json();
    assert_eq!(receipt["status"], "certified");
    let height = receipt["height"].as_u64().unwrap();
    let batch_seq = receipt["batch_seq"].as_u64().unwrap();

    // Every node serves the same certified header at that height.
    let mut headers = Vec::new();
    for node in 0..4 {
        wait_for("every node to certify", Duration::from_secs(10), || {
            checkpoint_at(&w, node, height).is_some()
        });
        headers.push(checkpoint_at(&w, node, height).unwrap());
    }
    assert!(headers.windows(2).all(|p| p[0] == p[1]), "nodes disagree");

    // The anchor proof from one node verifies against the trust anchor, and against the
    // headers a counter synced from another node.
    let root = batch.root().to_hex();
    let proof = get(&w, follower, &format!("/v1/anchors/{root}"));
    assert_eq!(proof.status, 200);
    let receipt = AnchorReceipt::from_bytes(&proof.body).unwrap();
    verify_anchor_receipt(&receipt, &w.anchor).unwrap();
    assert_eq!(receipt.batch_seq, batch_seq);
    let other = (follower + 1) % 4;
    let store = store_from(&w, other);
    assert_eq!(store.batch(batch_seq), Some(&receipt.record));

    // A wallet's presentation of a package built from the node's answer verifies offline
    // against that other node's store.
    let package = batch.package(0, batch_seq).unwrap();
    let selection = ecert_wallet::Selection {
        package: &package,
        fields: vec!["name".into(), "id_number".into()],
    };
    let t = now();
    let kinds = KindRegistry::builtin().unwrap();
    let presentation = ecert_wallet::present(&w.holder, &kinds, &[selection], t, None).unwrap();
    let verdict = ecert_verifier::verify_presentation(
        &presentation.to_qr_string().unwrap(),
        &store,
        t,
        &ecert_verifier::Policy::default(),
    );
    assert!(verdict.is_ok(), "{verdict:?}");

    // The department revokes the certificate; a wallet or counter holding the (empty)
    // revocation state of genesis learns it from any node's delta, checked against the
    // trust anchor.
    let status_index = Certificate::from_bytes(&package.certificate)
        .unwrap()
        .claims
        .status_index;
    let key = &w.province.department("public-security").unwrap().issuer_key;
    let revocation = ecert_issuer::revocation_transaction(
        key,
        w.province.ledger().chain_id(),
        vec![RevocationEntry {
            index: status_index,
            reason: RevocationReason::DataError,
        }],
        now(),
    )
    .unwrap();
    let reply = submit(
        &w,
        leader,
        &Transaction::Revocation(revocation).to_bytes().unwrap(),
    );
    assert_eq!(reply.status, 200, "{:?}", reply.json());
    let revoked_at = reply.json()["height"].as_u64().unwrap();
    let genesis = RevocationSnapshot {
        height: 0,
        lists: vec![],
    };
    wait_for(
        "the revocation to be certified everywhere",
        Duration::from_secs(10),
        || checkpoint_at(&w, other, revoked_at).is_some(),
    );
    let delta = get(&w, other, "/v1/revocations?since=0");
    assert_eq!(delta.status, 200, "{delta:?}");
    let delta = RevocationDelta::from_bytes(&delta.body).unwrap();
    let (header, state) = verify_revocation_delta(&genesis, &delta, &w.anchor).unwrap();
    assert!(header.height >= revoked_at);
    assert!(state.is_revoked(&IssuerId::new("public-security").unwrap(), status_index));
    // From a height the node has not certified: 409.
    let ahead = get(
        &w,
        other,
        &format!("/v1/revocations?since={}", header.height + 1000),
    );
    assert_eq!(ahead.status, 409);

    // The counter synced before the revocation catches up incrementally from another
    // node: only what changed, checked against the trust anchor, giving the full export.
    let third = (other + 1) % 4;
    wait_for(
        "the revocation to be certified on a third node",
        Duration::from_secs(10),
        || checkpoint_at(&w, third, revoked_at).is_some(),
    );
    let update = get(
        &w,
        third,
        &format!("/v1/updates?since={}", store.header().height),
    );
    assert_eq!(update.status, 200, "{update:?}");
    let update = TrustUpdate::from_bytes(&update.body).unwrap();
    assert_eq!(update.revocations.len(), 1);
    let updated = store.apply_update(&update, &w.anchor).unwrap();
    assert!(updated.is_revoked(&IssuerId::new("public-security").unwrap(), status_index));
    let full = store_from(&w, third);
    if full.header().height == updated.header().height {
        assert_eq!(full.to_bundle(), updated.to_bundle());
    }
    let ahead = get(
        &w,
        third,
        &format!("/v1/updates?since={}", header.height + 1000),
    );
    assert_eq!(ahead.status, 409);

    // Unknown batch: 404 with a code.
    let missing = get(&w, 0, &format!("/v1/anchors/{}", Hash32([7; 32]).to_hex()));
    assert_eq!(missing.status, 404);
    assert_eq!(missing.error_code().as_deref(), Some("not-anchored"));

    // Health and metrics say what an operator needs.
    let h = health(&w, 0);
    assert!(h["height"].as_u64().unwrap() >= height);
    assert_eq!(h["peers"], 3);
    let metrics = String::from_utf8(get(&w, leader, "/metrics").body).unwrap();
    for name in [
        "ecert_height",
        "ecert_certified_height",
        "ecert_peers 3",
        "ecert_raft_role 2",
        "ecert_certificates_anchored_total",
        "ecert_submit_to_certified_seconds_bucket",
    ] {
        assert!(
            metrics.contains(name),
            "{name} missing from /metrics:\n{metrics}"
        );
    }
}

#[test]
fn bad_transactions_are_refused_with_a_reason() {
    let mut w = world("refuse", 1_000);

    // Accepted once, then the same batch again is a replay.
    let tx = accepted_batch(&mut w, 0);
    let replay = submit(&w, 1, &tx);
    assert_eq!(replay.status, 400, "{:?}", replay.json());
    assert!(replay.error_code().is_some());
    assert!(message(&replay).contains("already"), "{:?}", replay.json());

    // Justice may not issue ID cards (the issuer library refuses to, so sign by hand).
    let key = &w.province.department("justice").unwrap().issuer_key;
    let body = ecert_schemas::ledger::AnchorBatchBody {
        chain_id: w.province.ledger().chain_id().clone(),
        issuer: key.issuer().clone(),
        key_id: key.key_id(),
        kinds: vec![ecert_schemas::KindId::new("id-card").unwrap()],
        batch_root: Hash32([3; 32]),
        count: 1,
    };
    let tx = ecert_issuer::sign_anchor_body(key, body).unwrap();
    let reply = submit(&w, 2, &Transaction::AnchorBatch(tx).to_bytes().unwrap());
    assert_eq!(reply.status, 400);
    assert!(message(&reply).contains("id-card"), "{:?}", reply.json());

    // A forged issuer signature.
    let (_, tx) = batch(&mut w, "public-security", 1);
    let mut decoded = Transaction::from_bytes(&tx).unwrap();
    if let Transaction::AnchorBatch(a) = &mut decoded {
        a.body.count += 1;
    }
    let reply = submit(&w, 3, &decoded.to_bytes().unwrap());
    assert_eq!(reply.status, 400, "{:?}", reply.json());

    // Not a transaction at all.
    let reply = submit(&w, 0, b"\xa1\x01\x02");
    assert_eq!(reply.status, 400);
    assert_eq!(reply.error_code().as_deref(), Some("malformed"));
}

/// Anchors batches from a background thread until told to stop; records the roots the
/// ledger certified.
struct Load {
    stop: Arc<AtomicBool>,
    certified: Arc<Mutex<Vec<(Hash32, Instant)>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Load {
    fn start(w: &mut World, batches: usize) -> Load {
        let txs: Vec<(Hash32, Vec<u8>)> = (0..batches)
            .map(|i| {
                let dept = ["public-security", "justice"][i % 2];
                let (b, tx) = batch(w, dept, 2);
                (b.root(), tx)
            })
            .collect();
        let urls: Vec<String> = (0..4).map(|i| w.net.url(i)).collect();
        let http = Http::new(Duration::from_secs(20));
        let stop = Arc::new(AtomicBool::new(false));
        let certified = Arc::new(Mutex::new(Vec::new()));
        let (stop2, certified2) = (stop.clone(), certified.clone());
        let thread = std::thread::spawn(move || {
            for (i, (root, tx)) in txs.into_iter().enumerate() {
                for attempt in 0.. {
                    if stop2.load(Ordering::Relaxed) {
                        return;
                    }
                    // Any node will do; a dead one refuses the connection: try the next.
                    let url = &urls[(i + attempt) % urls.len()];
                    let reply = http.post_cbor(
                        &format!("{url}/v1/transactions?wait=certified&timeout_ms=5000"),
                        &tx,
                    );
                    match reply {
                        Ok(r) if r.status == 200 => {
                            certified2.lock().unwrap().push((root, Instant::now()));
                            break;
                        }
                        // Submitted before and applied meanwhile: certified all the same.
                        Ok(r) if r.status == 400 => {
                            if message(&r).contains("already") {
                                certified2.lock().unwrap().push((root, Instant::now()));
                            }
                            break;
                        }
                        _ => {
                            std::thread::sleep(Duration::from_millis(100));
                            continue;
                        }
                    }
                }
            }
        });
        Load {
            stop,
            certified,
            thread: Some(thread),
        }
    }

    fn count(&self) -> usize {
        self.certified.lock().unwrap().len()
    }

    fn finish(mut self) -> Vec<(Hash32, Instant)> {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
        self.certified.lock().unwrap().clone()
    }
}

/// No two different certified headers at any height, across the given nodes.
fn assert_one_header_per_height(w: &World, nodes: &[usize]) {
    let mut seen: std::collections::BTreeMap<u64, Vec<u8>> = Default::default();
    for &node in nodes {
        let reply = get(w, node, "/v1/checkpoints?from=0&limit=1000");
        for c in serde_cbor_list(&reply.body) {
            let h = c.decode_header().unwrap().height;
            let header = c.header.to_vec();
            if let Some(previous) = seen.insert(h, header.clone()) {
                assert_eq!(previous, header, "two certified headers at height {h}");
            }
        }
    }
    assert!(!seen.is_empty());
}

#[test]
fn killing_the_leader_loses_no_certified_anchor_and_anchoring_resumes() {
    let mut w = world("leader-kill", 1_000);
    let load = Load::start(&mut w, 60);
    wait_for("some batches certified", Duration::from_secs(30), || {
        load.count() >= 5
    });

    let leader = w.net.leader(&w.http).unwrap();
    let killed_at = Instant::now();
    w.net.kill(leader).unwrap();
    let before = load.count();
    let survivors: Vec<usize> = (0..4).filter(|i| *i != leader).collect();

    wait_for("anchoring to resume", Duration::from_secs(30), || {
        load.count() > before + 3
    });
    let resumed = load.certified.lock().unwrap()[before].1 - killed_at;
    eprintln!(
        "anchoring resumed {} ms after the leader was killed",
        resumed.as_millis()
    );
    let certified = load.finish();

    // Every batch a client was told is certified is in the survivors' certified state.
    for &node in &survivors {
        let store = store_from(&w, node);
        let count = store.anchor_count();
        let roots: std::collections::HashSet<Hash32> = (0..count)
            .map(|seq| store.batch(seq).unwrap().batch_root)
            .collect();
        for (root, _) in &certified {
            assert!(
                roots.contains(root),
                "certified batch {} lost",
                root.to_hex()
            );
        }
    }
    assert_one_header_per_height(&w, &survivors);

    // The killed node comes back and catches up.
    w.net.start(leader).unwrap();
    let target = health(&w, survivors[0])["height"].as_u64().unwrap();
    wait_to_catch_up(&w, leader, target, "the old leader to catch up");
    assert_one_header_per_height(&w, &[0, 1, 2, 3]);
}

#[test]
fn a_node_with_a_wiped_data_directory_rejoins_through_a_snapshot() {
    // Snapshots every 5 blocks, so the log a wiped node needs is gone: only a snapshot
    // can bring it back.
    let mut w = world("wipe", 5);
    let leader = w.net.leader(&w.http).unwrap();
    let victim = (leader + 2) % 4;
    w.net.kill(victim).unwrap();
    w.net.wipe(victim).unwrap();

    let load = Load::start(&mut w, 30);
    wait_for("30 batches", Duration::from_secs(60), || load.count() >= 30);
    load.finish();
    let target = health(&w, leader)["height"].as_u64().unwrap();
    assert!(target >= 20);

    w.net.start(victim).unwrap();
    wait_to_catch_up(&w, victim, target, "the wiped node to catch up");
    // It serves a consistent, certified export (its state came from the snapshot).
    accepted_batch(&mut w, victim);
    let store = store_from(&w, victim);
    assert!(store.anchor_count() >= 31);
    let log = std::fs::read_to_string(w.net.home(victim).join("node.log")).unwrap();
    assert!(!log.contains("panicked"), "{log}");
}

#[test]
fn with_two_of_four_down_nothing_is_certified_and_one_back_resumes() {
    let mut w = world("quorum", 1_000);
    let leader = w.net.leader(&w.http).unwrap();
    accepted_batch(&mut w, leader);
    let certified_before = health(&w, leader)["certified_height"].as_u64().unwrap();

    let down = [(leader + 1) % 4, (leader + 2) % 4];
    for &n in &down {
        w.net.kill(n).unwrap();
    }
    let (_, tx) = batch(&mut w, "justice", 1);
    let reply = w
        .http
        .post_cbor(
            &format!(
                "{}/v1/transactions?wait=certified&timeout_ms=3000",
                w.net.url(leader)
            ),
            &tx,
        )
        .unwrap();
    assert!(
        reply.status == 503 || reply.status == 504,
        "two of four validators cannot certify: {:?}",
        reply.json()
    );
    for n in (0..4).filter(|n| !down.contains(n)) {
        let h = health(&w, n);
        assert_eq!(
            h["certified_height"].as_u64().unwrap(),
            certified_before,
            "{h}"
        );
    }

    // One comes back: three of four can order and certify again.
    w.net.start(down[0]).unwrap();
    let up: Vec<usize> = (0..4).filter(|n| *n != down[1]).collect();
    w.net
        .wait_ready(&w.http, &up, Duration::from_secs(60))
        .unwrap();
    let (_, tx) = batch(&mut w, "justice", 1);
    let node = up[0];
    let mut last = None;
    wait_for("anchoring to resume", Duration::from_secs(30), || {
        let r = submit(&w, node, &tx);
        let ok = r.status == 200 || message(&r).contains("already");
        last = Some(r);
        ok
    });
    let h = health(&w, node);
    assert!(
        h["certified_height"].as_u64().unwrap() > certified_before,
        "{h} {last:?}"
    );
}

#[test]
fn a_non_validator_peers_ordering_and_vote_messages_are_ignored() {
    use ecert_ledger_node::node::net::{self, NetConfig};
    use ecert_ledger_node::node::wire::{NodeRequest, NodeResponse};

    let mut w = world("intruder", 1_000);
    let tx = accepted_batch(&mut w, 0);
    let before = health(&w, 0);

    let genesis = ecert_ledger_node::genesis::Genesis::from_toml(
        &std::fs::read_to_string(w.net.genesis_path()).unwrap(),
    )
    .unwrap();
    let target_peer = net::peer_id_of(&genesis.validators[0].key.0).unwrap();
    let target_addr: libp2p::Multiaddr = genesis.addresses[0].parse().unwrap();

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let answers = runtime.block_on(async {
        let (handle, _inbound) = net::start(NetConfig {
            keypair: libp2p::identity::Keypair::generate_ed25519(),
            listen: "/ip4/127.0.0.1/tcp/0".parse().unwrap(),
            validators: vec![(0, target_peer, target_addr)],
        })
        .unwrap();
        let term = before["term"].as_u64().unwrap();
        let vote_request =
            openraft::raft::VoteRequest::new(openraft::Vote::new(term + 10, 1), None);
        let mut answers = Vec::new();
        for request in [
            NodeRequest::RequestVote(vote_request),
            NodeRequest::HeaderVote {
                height: before["height"].as_u64().unwrap() + 1,
                vote: ecert_schemas::ledger::Vote {
                    validator: 1,
                    signature: ecert_schemas::SignatureBytes([9; 64]),
                },
            },
            NodeRequest::Submit(ecert_schemas::codec::ByteBuf::from(tx.clone())),
            NodeRequest::Checkpoints { from: 0, limit: 1 },
        ] {
            let mut answer = None;
            for _ in 0..50 {
                match handle.request(target_peer, request_clone(&request)).await {
                    Ok(a) => {
                        answer = Some(a);
                        break;
                    }
                    Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            }
            answers.push(answer.expect("the node answers a non-validator"));
        }
        answers
    });
    assert!(
        matches!(answers[0], NodeResponse::NotPermitted),
        "{:?}",
        answers[0]
    );
    assert!(
        matches!(answers[1], NodeResponse::NotPermitted),
        "{:?}",
        answers[1]
    );
    assert!(
        matches!(answers[2], NodeResponse::NotPermitted),
        "{:?}",
        answers[2]
    );
    // Reading is open to anyone.
    assert!(matches!(&answers[3], NodeResponse::Checkpoints(list) if list.len() == 1));

    // The ledger did not notice: same term, same leader, still certifying.
    let after = health(&w, 0);
    assert_eq!(after["term"], before["term"]);
    assert_eq!(after["leader"], before["leader"]);
    let (_, tx) = batch(&mut w, "justice", 1);
    assert_eq!(submit(&w, 1, &tx).status, 200);
}

fn request_clone(
    r: &ecert_ledger_node::node::wire::NodeRequest,
) -> ecert_ledger_node::node::wire::NodeRequest {
    use ecert_ledger_node::node::wire::NodeRequest;
    match r {
        NodeRequest::RequestVote(v) => NodeRequest::RequestVote(v.clone()),
        NodeRequest::HeaderVote { height, vote } => NodeRequest::HeaderVote {
            height: *height,
            vote: vote.clone(),
        },
        NodeRequest::Submit(b) => NodeRequest::Submit(b.clone()),
        NodeRequest::Checkpoints { from, limit } => NodeRequest::Checkpoints {
            from: *from,
            limit: *limit,
        },
        other => panic!("not used here: {other:?}"),
    }
}

#[test]
fn a_governance_change_needs_more_than_two_thirds_of_the_validators() {
    use ecert_schemas::ledger::{
        Approval, GovernanceAction, GovernanceBody, GovernanceTx, RotateIssuerKey,
    };

    let w = world("governance", 1_000);
    let old = &w.province.department("transport").unwrap().issuer_key;
    let new_key = ecert_issuer::IssuerKey::generate(old.issuer().clone(), &mut OsRng);
    let body = GovernanceBody {
        chain_id: w.province.ledger().chain_id().clone(),
        seq: 0,
        action: GovernanceAction::RotateIssuerKey(RotateIssuerKey {
            issuer: old.issuer().clone(),
            old_key_id: old.key_id(),
            new_key: new_key.public_key(),
            // Retiring a key in the past is refused (what it anchored would stop
            // verifying): the switch is a few seconds ahead.
            valid_from: now().plus(3),
        }),
    };
    let proposal = w.net.dir().join("proposal.cbor");
    std::fs::write(&proposal, body.to_bytes().unwrap()).unwrap();
    let passphrase = ecert_testkit::network::dev_passphrase(w.net.dir()).unwrap();
    // Each validator operator approves through the node binary.
    let approve = |node: usize| -> Approval {
        let out = w.net.dir().join(format!("approval-{node}.cbor"));
        Cmd::new("ecert-node")
            .arg("approve")
            .arg("--home")
            .arg(w.net.home(node))
            .arg("--genesis")
            .arg(w.net.genesis_path())
            .arg("--proposal")
            .arg(&proposal)
            .arg("--out")
            .arg(&out)
            .env("ECERT_NODE_PASSPHRASE", &passphrase)
            .run()
            .ok();
        ecert_schemas::codec::from_cbor("approval", &std::fs::read(&out).unwrap()).unwrap()
    };
    let approvals: Vec<Approval> = (0..3).map(approve).collect();
    let tx = |approvals: &[Approval]| {
        Transaction::Governance(GovernanceTx {
            body: body.clone(),
            approvals: approvals.to_vec(),
        })
        .to_bytes()
        .unwrap()
    };

    // Two of four validators: refused before ordering.
    let reply = submit(&w, 0, &tx(&approvals[..2]));
    assert_eq!(reply.status, 400, "{:?}", reply.json());

    // Three of four: applied; the old key is retired and the new one anchors.
    let reply = submit(&w, 1, &tx(&approvals));
    assert_eq!(reply.status, 200, "{:?}", reply.json());
    let replay = submit(&w, 2, &tx(&approvals));
    assert_eq!(replay.status, 400, "a governance change applies once");

    std::thread::sleep(Duration::from_secs(4));
    let t = now();
    let body = ecert_schemas::ledger::AnchorBatchBody {
        chain_id: w.province.ledger().chain_id().clone(),
        issuer: new_key.issuer().clone(),
        key_id: new_key.key_id(),
        kinds: vec![ecert_schemas::KindId::new("driver-licence").unwrap()],
        batch_root: Hash32([t.secs() as u8; 32]),
        count: 1,
    };
    let anchor = ecert_issuer::sign_anchor_body(&new_key, body.clone()).unwrap();
    let reply = submit(&w, 3, &Transaction::AnchorBatch(anchor).to_bytes().unwrap());
    assert_eq!(reply.status, 200, "{:?}", reply.json());
    let mut old_body = body;
    old_body.key_id = old.key_id();
    old_body.batch_root = Hash32([1; 32]);
    let stale = ecert_issuer::sign_anchor_body(old, old_body).unwrap();
    let reply = submit(&w, 0, &Transaction::AnchorBatch(stale).to_bytes().unwrap());
    assert_eq!(
        reply.status,
        400,
        "the retired key is refused: {:?}",
        reply.json()
    );
}

/// The freshness statements node `node` serves, applied to `store`.
fn apply_freshness(
    w: &World,
    node: usize,
    store: &mut TrustStore,
) -> Result<ecert_verifier::freshness::Fresh, ecert_verifier::VerifyError> {
    let reply = get(w, node, "/v1/freshness");
    assert!(reply.ok(), "freshness: {reply:?}");
    store.apply_freshness(&ecert_schemas::freshness::Freshness::from_bytes(&reply.body).unwrap())
}

#[test]
fn an_idle_ledger_stays_fresh_while_more_than_two_thirds_state_it() {
    let mut w = world("freshness", 1_000);
    w.net.stop_all().unwrap();
    w.net.set_freshness_period(1).unwrap();
    w.net.start_all().unwrap();
    w.net
        .wait_ready(&w.http, &[0, 1, 2, 3], Duration::from_secs(60))
        .unwrap();

    // One certificate, anchored; then the ledger stays idle.
    let (batch, tx) = batch(&mut w, "public-security", 1);
    let reply = submit(&w, 0, &tx);
    assert_eq!(reply.status, 200, "{:?}", reply.json());
    let height = reply.json()["height"].as_u64().unwrap();
    let batch_seq = reply.json()["batch_seq"].as_u64().unwrap();
    for node in 0..4 {
        wait_for("every node to certify", Duration::from_secs(10), || {
            checkpoint_at(&w, node, height).is_some()
        });
    }
    let package = batch.package(0, batch_seq).unwrap();
    let kinds = KindRegistry::builtin().unwrap();
    let show = |t| {
        let selection = ecert_wallet::Selection {
            package: &package,
            fields: vec!["name".into()],
        };
        ecert_wallet::present(&w.holder, &kinds, &[selection], t, None)
            .unwrap()
            .to_qr_string()
            .unwrap()
    };
    // A counter that refuses data more than 3 s old.
    let policy = ecert_verifier::Policy {
        max_revocation_age_secs: 3,
        ..ecert_verifier::Policy::default()
    };
    let synced = store_from(&w, 1);
    let header_time = synced.as_of();

    std::thread::sleep(Duration::from_secs(6));
    let t = now();
    let stale = ecert_verifier::verify_presentation(&show(t), &synced, t, &policy);
    assert_eq!(
        stale.unwrap_err().code(),
        "revocation-data-too-old",
        "the header alone has aged"
    );
    let mut fresh = synced.clone();
    let vouched = apply_freshness(&w, 2, &mut fresh).unwrap();
    assert_eq!(vouched.signed, 4);
    assert!(
        fresh.as_of().secs() >= header_time.secs() + 4,
        "{vouched:?}"
    );
    let verdict = ecert_verifier::verify_presentation(&show(t), &fresh, t, &policy);
    assert!(verdict.is_ok(), "{verdict:?}");

    // Two of four down: the two left keep stating, but that is no quorum, and once the
    // others' statements are too old to serve the counter learns that freshness stopped.
    w.net.stop(2).unwrap();
    w.net.stop(3).unwrap();
    let mut refused = None;
    wait_for(
        "the served statements to stop being a quorum",
        Duration::from_secs(20),
        || {
            let mut store = synced.clone();
            refused = apply_freshness(&w, 0, &mut store).err();
            refused.is_some()
        },
    );
    let refused = refused.unwrap();
    assert_eq!(refused.code(), "freshness-not-confirmed", "{refused}");
    assert!(refused.to_string().contains("2 of 4"), "{refused}");
    std::thread::sleep(Duration::from_secs(4));
    let t = now();
    let mut store = fresh.clone();
    assert!(apply_freshness(&w, 1, &mut store).is_err());
    let late = ecert_verifier::verify_presentation(&show(t), &store, t, &policy);
    assert_eq!(late.unwrap_err().code(), "revocation-data-too-old");

    // One back: three of four state again, and the data is current again.
    w.net.start(3).unwrap();
    w.net
        .wait_ready(&w.http, &[0, 1, 3], Duration::from_secs(60))
        .unwrap();
    let mut store = synced.clone();
    wait_for(
        "a quorum of statements again",
        Duration::from_secs(30),
        || {
            store = synced.clone();
            apply_freshness(&w, 3, &mut store).is_ok_and(|f| f.signed == 3)
        },
    );
    let t = now();
    let verdict = ecert_verifier::verify_presentation(&show(t), &store, t, &policy);
    assert!(verdict.is_ok(), "{verdict:?}");
}

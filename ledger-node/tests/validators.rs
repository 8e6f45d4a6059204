//! Validator-set changes by governance on a real network of `ecert-node` processes, through
//! the operators' commands (`propose-validators`, `approve`, `submit-governance`), with a
//! counter (`ecert-verify`) and a wallet (`ecert-wallet`) pinned at genesis following the
//! changes.
//!
//! One four-node network, in sequence: a fifth department joins (a change approved by only
//! two of four is refused first, by the tool and by the ledger); a validator's key is
//! replaced after a simulated compromise (its old node stopped for good, a node with the
//! new key started), after which a checkpoint or an approval signed with the old key no
//! longer counts; a department leaves; counters and wallets pinned at genesis accept the
//! new sets' data; and a certificate kind is revised (`propose-kind`). Batches are anchored between the steps so that each new set certifies
//! blocks.
//!
//! Runs the `ecert-wallet` and `ecert-verify` binaries too: `cargo test --workspace
//! --all-features` builds them; alone, build them first (`cargo build -p ecert-wallet -p
//! ecert-verifier --all-features --bins`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::Path;
use std::time::{Duration, Instant};

use ecert_client::NodeClient;
use ecert_ledger_node::certify::sign_vote;
use ecert_schemas::ledger::{
    Approval, Checkpoint, GovernanceBody, GovernanceTx, Transaction, TrustBundle, ValidatorSetProof,
};
use ecert_schemas::PublicKeyBytes;
use ecert_testkit::network::{dev_passphrase, CreateOptions, LocalNetwork};
use ecert_testkit::province::{Order, Province};
use ecert_testkit::testnet::http::{Http, Reply};
use ecert_testkit::world::batch_of;
use ecert_testkit::{now, sample, Cmd, Run, Scratch};
use ecert_verifier::{verify_validator_set, TrustAnchor};
use ed25519_dalek::SigningKey;
use rand_core::OsRng;

const CHAIN: &str = "ecert-validators-test";
const NODE_BIN: &str = env!("CARGO_BIN_EXE_ecert-node");
const WALLET_PASSPHRASE: &str = "validators-test wallet";

/// `ecert-node`'s exit codes for bad governance input and too few approvals.
const INPUT: i32 = 4;
const NO_QUORUM: i32 = 5;

/// Genesis validator positions (the province's departments, sorted).
const JUSTICE: usize = 0;
const PUBLIC_SECURITY: usize = 1;
const SOCIAL_SECURITY: usize = 2;
const TRANSPORT: usize = 3;

struct World {
    net: LocalNetwork,
    province: Province,
    http: Http,
    anchor: TrustAnchor,
    passphrase: String,
    dir: Scratch,
}

fn world() -> World {
    let dir = Scratch::new("validators");
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
        snapshot_every: 1_000,
        issuers: province.genesis_issuers(),
        weak_kdf: true,
        tls: false,
    };
    let mut net = LocalNetwork::create(&dir.path("network"), Path::new(NODE_BIN), options).unwrap();
    assert_eq!(net.department(SOCIAL_SECURITY), "social-security");
    assert_eq!(net.department(TRANSPORT), "transport");
    net.start_all().unwrap();
    let http = Http::new(Duration::from_secs(30));
    net.wait_ready(&http, &[0, 1, 2, 3], Duration::from_secs(60))
        .unwrap();
    let anchor = ecert_verifier::anchor_file::parse_anchor(
        &std::fs::read_to_string(net.anchor_path()).unwrap(),
    )
    .unwrap();
    let passphrase = dev_passphrase(net.dir()).unwrap();
    World {
        net,
        province,
        http,
        anchor,
        passphrase,
        dir,
    }
}

impl World {
    /// `ecert-node ARGS...` with the network's key passphrase.
    fn node_cmd(&self, args: &[&str]) -> Cmd {
        Cmd::new("ecert-node")
            .env("ECERT_NODE_PASSPHRASE", &self.passphrase)
            .args(args)
    }

    fn path(&self, name: &str) -> String {
        self.dir.path(name).to_str().unwrap().to_owned()
    }

    fn genesis(&self) -> String {
        self.net.genesis_path().to_str().unwrap().to_owned()
    }

    /// `propose-validators` through node `via`: its output.
    fn propose(&self, via: usize, changes: &[&str], out: &str) -> String {
        let url = self.net.url(via);
        let genesis = self.genesis();
        let mut args = vec![
            "propose-validators",
            "--node",
            &url,
            "--genesis",
            &genesis,
            "--out",
            out,
        ];
        args.extend_from_slice(changes);
        self.node_cmd(&args).run().ok()
    }

    /// `approve` by node `who`'s operator, its position read from node `via`.
    fn approve(&self, who: usize, via: usize, proposal: &str) -> (String, String) {
        let out = self.path(&format!(
            "approval-{}-{}.cbor",
            who,
            Path::new(proposal).file_stem().unwrap().to_string_lossy()
        ));
        let stdout = self.approve_run(who, Some(via), proposal, &out).ok();
        (out, stdout)
    }

    fn approve_run(&self, who: usize, via: Option<usize>, proposal: &str, out: &str) -> Run {
        let home = self.net.home(who);
        let genesis = self.genesis();
        let url = via.map(|v| self.net.url(v));
        let mut args = vec![
            "approve",
            "--home",
            home.to_str().unwrap(),
            "--genesis",
            &genesis,
            "--proposal",
            proposal,
            "--out",
            out,
        ];
        if let Some(url) = &url {
            args.extend(["--node", url]);
        }
        self.node_cmd(&args).run()
    }

    /// `submit-governance` through node `via`.
    fn submit_governance(&self, via: usize, proposal: &str, approvals: &[&str]) -> Run {
        let url = self.net.url(via);
        let genesis = self.genesis();
        let mut args = vec![
            "submit-governance",
            "--node",
            &url,
            "--genesis",
            &genesis,
            "--proposal",
            proposal,
            "--approval",
        ];
        args.extend_from_slice(approvals);
        self.node_cmd(&args).run()
    }

    /// A transaction sent to node `node` as is, waiting for certification.
    fn post(&self, node: usize, tx: &Transaction) -> Reply {
        self.http
            .post_cbor(
                &format!(
                    "{}/v1/transactions?wait=certified&timeout_ms=20000",
                    self.net.url(node)
                ),
                &tx.to_bytes().unwrap(),
            )
            .unwrap()
    }

    /// Anchors a batch of `orders` of department `dept` for `holder` through node `node`;
    /// the batch, its place in the anchor log and its certified height.
    fn anchor_batch(
        &mut self,
        node: usize,
        dept: &str,
        holder: PublicKeyBytes,
        orders: &[Order],
    ) -> (ecert_issuer::Batch, u64, u64) {
        let (batch, tx) = batch_of(&mut self.province, dept, holder, orders, now());
        // Just after the leader's node was stopped, the others elect a new one (1 to 2 s):
        // meanwhile the ledger answers 503.
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut reply = self.post(node, &tx);
        while reply.status == 503 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(200));
            reply = self.post(node, &tx);
        }
        assert_eq!(reply.status, 200, "{:?}", reply.json());
        let receipt = reply.json();
        assert_eq!(receipt["status"], "certified");
        (
            batch,
            receipt["batch_seq"].as_u64().unwrap(),
            receipt["height"].as_u64().unwrap(),
        )
    }

    /// Anchors one ID card for a throw-away holder; the certified height.
    fn anchor_some(&mut self, node: usize) -> u64 {
        let holder = ecert_wallet::HolderKey::generate(&mut OsRng).public_key();
        self.anchor_batch(node, "public-security", holder, &[sample::id_card(now())])
            .2
    }

    fn health(&self, node: usize) -> Option<serde_json::Value> {
        self.net.health(&self.http, node)
    }

    /// Waits until node `node` has certified height `height`.
    fn wait_certified(&self, node: usize, height: u64) {
        wait_for(
            &format!("node {node} to certify height {height}"),
            Duration::from_secs(30),
            || {
                self.health(node)
                    .and_then(|h| h["certified_height"].as_u64())
                    .is_some_and(|h| h >= height)
            },
        );
    }

    /// The certified checkpoint node `node` holds at `height`.
    fn checkpoint(&self, node: usize, height: u64) -> Checkpoint {
        let client = self.client(node);
        let list = client.checkpoints(height, 1).unwrap();
        let checkpoint = list.into_iter().next().expect("a checkpoint");
        assert_eq!(checkpoint.decode_header().unwrap().height, height);
        checkpoint
    }

    fn client(&self, node: usize) -> NodeClient {
        NodeClient::new(&self.net.url(node), Duration::from_secs(30))
    }

    /// The validator set node `node` serves, proven from the genesis anchor.
    fn validator_set(&self, node: usize) -> (ValidatorSetProof, Vec<String>) {
        // A node that has just joined may not hold the checkpoint of the change that
        // named it yet: it answers 503 until it has fetched it.
        let client = self.client(node);
        let proof =
            ecert_client::node::retry_while_pending(100, Duration::from_millis(100), || {
                client.validator_set()
            })
            .unwrap();
        let set = verify_validator_set(&proof, &self.anchor).unwrap();
        let departments = set
            .validators
            .iter()
            .map(|v| v.department.to_string())
            .collect();
        (proof, departments)
    }

    /// Node `i`'s validator key, opened from its home.
    fn key(&self, i: usize) -> SigningKey {
        let sealed = std::fs::read(self.net.home(i).join("node.key")).unwrap();
        let pass = zeroize::Zeroizing::new(self.passphrase.clone());
        let seed = ecert_sealed::open_secret(*b"ECN1", &sealed, &pass).unwrap();
        SigningKey::from_bytes(seed.as_slice().try_into().unwrap())
    }
}

fn wait_for(what: &str, timeout: Duration, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn read_approval(path: &str) -> Approval {
    ecert_schemas::codec::from_cbor("approval", &std::fs::read(path).unwrap()).unwrap()
}

fn read_body(path: &str) -> GovernanceBody {
    ecert_schemas::codec::from_cbor("proposal", &std::fs::read(path).unwrap()).unwrap()
}

/// The governance transaction of `proposal` with these approvals, as they are.
fn governance_tx(proposal: &str, approvals: &[&str]) -> Transaction {
    Transaction::Governance(GovernanceTx {
        body: read_body(proposal),
        approvals: approvals.iter().map(|a| read_approval(a)).collect(),
    })
}

/// The block height `submit-governance` printed.
fn certified_height(stdout: &str) -> u64 {
    let rest = stdout
        .split("certified the change in block ")
        .nth(1)
        .unwrap_or_else(|| panic!("no height in: {stdout}"));
    rest.split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// The positions that voted in a checkpoint.
fn voters(checkpoint: &Checkpoint) -> Vec<u16> {
    checkpoint.votes.iter().map(|v| v.validator).collect()
}

/// `ecert-wallet --wallet FILE ARGS...`: a citizen's wallet.
fn wallet(file: &Path, args: &[&str]) -> Run {
    Cmd::new("ecert-wallet")
        .arg("--wallet")
        .arg(file)
        .env("ECERT_WALLET_PASSPHRASE", WALLET_PASSPHRASE)
        .args(args)
        .run()
}

/// `ecert-verify --store STORE ARGS...`: a counter.
fn counter(store: &str, args: &[&str]) -> Run {
    Cmd::new("ecert-verify")
        .args(["--store", store])
        .args(args)
        .run()
}

#[test]
fn validators_join_are_replaced_and_leave_by_governance_and_genesis_pinned_clients_follow() {
    let started = Instant::now();
    let mut w = world();
    let anchor_file = w.net.anchor_path().to_str().unwrap().to_owned();

    // Before any change: a certificate in a citizen's wallet, a counter synced.
    let citizen = w.dir.path("wallet.ecw");
    wallet(&citizen, &["init"]).ok();
    let id = wallet(&citizen, &["id"]).ok();
    let holder = id
        .split_whitespace()
        .find(|s| s.len() == 64 && s.chars().all(|c| c.is_ascii_hexdigit()))
        .map(|s| PublicKeyBytes::from_hex(s).unwrap())
        .unwrap_or_else(|| panic!("no wallet ID in {id}"));
    let (batch, seq, _) = w.anchor_batch(0, "public-security", holder, &[sample::id_card(now())]);
    let id_card = w.dir.write(
        "id-card.ecp",
        batch.package(0, seq).unwrap().to_bytes().unwrap(),
    );
    wallet(&citizen, &["receive", id_card.to_str().unwrap()]).ok();
    let early = w.path("counter-early");
    counter(&early, &["init", "--anchor", &anchor_file]).ok();
    counter(&early, &["sync", "--node", &w.net.url(0)]).ok();

    // 1. A fifth department joins: its node runs with a key that is not in the genesis.
    let health = w.net.add_node("health").unwrap();
    w.net.start(health).unwrap();
    let member = w.net.member(health).unwrap();
    let join = w.path("join.cbor");
    let words = w.propose(0, &["--add", &member], &join);
    assert!(words.contains("ADDS      #4 health"), "{words}");
    assert!(words.contains("4 of 5 votes (now 3 of 4)"), "{words}");
    let (a0, said) = w.approve(JUSTICE, 0, &join);
    assert!(said.contains("ADDS      #4 health"), "{said}");
    assert!(said.contains("Approved as validator #0 justice"), "{said}");
    let (a1, _) = w.approve(PUBLIC_SECURITY, 1, &join);
    // Two of four: refused by the tool, which says why, and by the ledger.
    let err = w
        .submit_governance(0, &join, &[&a0, &a1])
        .fails_with(NO_QUORUM);
    assert!(
        err.contains("approvals from 2 of the 4 current validators")
            && err.contains("3 of 4")
            && err.contains("not approved by #2 social-security, #3 transport"),
        "{err}"
    );
    let reply = w.post(1, &governance_tx(&join, &[&a0, &a1]));
    assert_eq!(reply.status, 400, "{:?}", reply.json());
    assert_eq!(reply.error_code().as_deref(), Some("too-few-approvals"));
    // Three of four: certified, by the four.
    let (a3, _) = w.approve(TRANSPORT, 2, &join);
    let done = w.submit_governance(0, &join, &[&a0, &a1, &a3]).ok();
    let joined_at = certified_height(&done);
    assert!(done.contains("the new set certifies"), "{done}");
    // The new validator certifies the blocks after the change, and serves the API.
    let after_join = w.anchor_some(0);
    assert!(after_join > joined_at);
    w.wait_certified(health, after_join);
    let (_, set) = w.validator_set(health);
    assert_eq!(
        set,
        [
            "justice",
            "public-security",
            "social-security",
            "transport",
            "health"
        ]
    );
    let second = w.path("counter-second");
    counter(&second, &["init", "--anchor", &anchor_file]).ok();
    counter(&second, &["sync", "--node", &w.net.url(health)]).ok();

    // 2. Social security's key is compromised: its node is stopped for good. The other
    //    four of five go on certifying, so the new validator's vote is needed and counted.
    w.net.retire(SOCIAL_SECURITY).unwrap();
    let without_old = w.anchor_some(0);
    let checkpoint = w.checkpoint(0, without_old);
    assert_eq!(voters(&checkpoint), [0, 1, 3, 4]);
    // A node with the department's new key, and the change that gives it its place.
    let new_ss = w.net.add_replacement(SOCIAL_SECURITY).unwrap();
    w.net.start(new_ss).unwrap();
    let member = w.net.member(new_ss).unwrap();
    let replace = w.path("replace.cbor");
    let words = w.propose(health, &["--replace", &member], &replace);
    assert!(
        words.contains("REPLACES  #2 social-security's key"),
        "{words}"
    );
    let (r0, _) = w.approve(JUSTICE, health, &replace);
    let (r1, _) = w.approve(PUBLIC_SECURITY, 0, &replace);
    let (r3, _) = w.approve(TRANSPORT, 0, &replace);
    // A quorum of the genesis set is no longer one: 3 of 5.
    let err = w
        .submit_governance(health, &replace, &[&r0, &r1, &r3])
        .fails_with(NO_QUORUM);
    assert!(err.contains("3 of the 5 current validators"), "{err}");
    let reply = w.post(0, &governance_tx(&replace, &[&r0, &r1, &r3]));
    assert_eq!(reply.error_code().as_deref(), Some("too-few-approvals"));
    let (r4, said) = w.approve(health, 0, &replace);
    assert!(said.contains("Approved as validator #4 health"), "{said}");
    let done = w
        .submit_governance(health, &replace, &[&r0, &r1, &r3, &r4])
        .ok();
    let replaced_at = certified_height(&done);
    let after_replace = w.anchor_some(health);
    assert!(after_replace > replaced_at);
    w.wait_certified(new_ss, after_replace);

    // The old key no longer counts. A checkpoint of the newest header with the old key's
    // vote in social security's place and the votes of three others (a quorum of five if
    // the old key still counted) is refused, by the verifier and by a counter.
    let (proof, set) = w.validator_set(new_ss);
    assert_eq!(set[SOCIAL_SECURITY], "social-security");
    assert_eq!(
        proof.validators[SOCIAL_SECURITY].key,
        ecert_verifier::crypto::public_key(&w.key(new_ss))
    );
    let old_key = w.key(SOCIAL_SECURITY);
    let forge = |checkpoint: &Checkpoint, with: &SigningKey| -> Checkpoint {
        let mut votes = vec![
            sign_vote(&w.key(JUSTICE), 0, &checkpoint.header),
            sign_vote(&w.key(PUBLIC_SECURITY), 1, &checkpoint.header),
            sign_vote(with, 2, &checkpoint.header),
            sign_vote(&w.key(TRANSPORT), 3, &checkpoint.header),
        ];
        votes.sort_by_key(|v| v.validator);
        Checkpoint {
            header: checkpoint.header.clone(),
            votes,
        }
    };
    let mut forged = proof.clone();
    forged.checkpoint = forge(&proof.checkpoint, &old_key);
    assert!(verify_validator_set(&forged, &w.anchor).is_err());
    // The same with the new key verifies: only the old key's vote is refused.
    forged.checkpoint = forge(&proof.checkpoint, &w.key(new_ss));
    verify_validator_set(&forged, &w.anchor).unwrap();
    let export = w.client(0).export_bytes().unwrap();
    let mut bundle = TrustBundle::from_bytes(&export).unwrap();
    bundle.checkpoint = forge(&bundle.checkpoint, &old_key);
    let forged_file = w.dir.write("forged.bundle", bundle.to_bytes().unwrap());
    let fresh = w.path("counter-forged");
    counter(&fresh, &["init", "--anchor", &anchor_file]).ok();
    let refused = counter(
        &fresh,
        &["sync", "--from-file", forged_file.to_str().unwrap()],
    );
    assert!(!refused.success(), "{}", refused.all());
    let real_file = w.dir.write("real.bundle", &export);
    counter(
        &fresh,
        &["sync", "--from-file", real_file.to_str().unwrap()],
    )
    .ok();

    // 3. Transport leaves. An approval with social security's old key (its place in the
    //    genesis) is refused by the tool and by the ledger; the current validators,
    //    the new key among them, approve.
    let leave = w.path("leave.cbor");
    let words = w.propose(new_ss, &["--remove", "transport"], &leave);
    assert!(words.contains("REMOVES   transport"), "{words}");
    assert!(words.contains("3 of 4 votes (now 4 of 5)"), "{words}");
    let err = w
        .approve_run(
            SOCIAL_SECURITY,
            Some(0),
            &leave,
            &w.path("old-current.cbor"),
        )
        .fails_with(INPUT);
    assert!(
        err.contains("is not a validator of the current set"),
        "{err}"
    );
    let old = w.path("approval-old-key.cbor");
    w.approve_run(SOCIAL_SECURITY, None, &leave, &old).ok();
    let (l0, _) = w.approve(JUSTICE, 0, &leave);
    let (l1, _) = w.approve(PUBLIC_SECURITY, 0, &leave);
    let (l3, _) = w.approve(TRANSPORT, 0, &leave);
    let err = w
        .submit_governance(0, &leave, &[&l0, &l1, &old, &l3])
        .fails_with(INPUT);
    assert!(
        err.contains("is not validator #2 social-security's approval of this proposal"),
        "{err}"
    );
    let reply = w.post(0, &governance_tx(&leave, &[&l0, &l1, &old, &l3]));
    assert_eq!(reply.status, 400, "{:?}", reply.json());
    assert_eq!(
        reply.error_code().as_deref(),
        Some("bad-approval-signature")
    );
    let (l2, said) = w.approve(new_ss, 0, &leave);
    assert!(
        said.contains("Approved as validator #2 social-security"),
        "{said}"
    );
    let (l4, _) = w.approve(health, 0, &leave);
    let done = w.submit_governance(0, &leave, &[&l0, &l1, &l2, &l4]).ok();
    let left_at = certified_height(&done);
    w.net.retire(TRANSPORT).unwrap();
    let after_leave = w.anchor_some(new_ss);
    assert!(after_leave > left_at);
    let (_, set) = w.validator_set(0);
    assert_eq!(
        set,
        ["justice", "public-security", "social-security", "health"]
    );

    // 4. Counters and wallets pinned at genesis follow. A certificate issued now verifies
    //    at the counter synced before any change (incrementally, then in full), and the
    //    wallet's proofs of both certificates verify.
    let (batch, seq, _) = w.anchor_batch(
        health,
        "social-security",
        holder,
        &[sample::social_security_card(now())],
    );
    let card = w.dir.write(
        "card.ecp",
        batch.package(0, seq).unwrap().to_bytes().unwrap(),
    );
    wallet(&citizen, &["receive", card.to_str().unwrap()]).ok();
    w.wait_certified(
        new_ss,
        w.health(health).unwrap()["certified_height"]
            .as_u64()
            .unwrap(),
    );
    counter(&early, &["sync", "--node", &w.net.url(new_ss)]).ok();
    // Synced from the health department's node, it now syncs from another: the nodes
    // hold different votes (each a quorum) on the blocks that changed the set.
    counter(&second, &["sync", "--node", &w.net.url(0)]).ok();
    counter(&second, &["sync", "--node", &w.net.url(health), "--full"]).ok();
    let late = w.path("counter-late");
    counter(&late, &["init", "--anchor", &anchor_file]).ok();
    counter(&late, &["sync", "--node", &w.net.url(PUBLIC_SECURITY)]).ok();
    let qr = wallet(
        &citizen,
        &[
            "present",
            "--show",
            "id-card:name",
            "--show",
            "social-security-card:card_number",
            "--text",
        ],
    )
    .ok();
    let qr = qr.trim();
    assert!(qr.starts_with("EC1"), "{qr}");
    for store in [&early, &second, &late] {
        let verdict = counter(store, &["verify", qr]).ok();
        assert!(!verdict.contains("INVALID"), "{verdict}");
    }
    wallet(&citizen, &["trust", "--anchor", &anchor_file]).ok();
    let refreshed = wallet(&citizen, &["refresh", "--node", &w.net.url(health)]).ok();
    assert!(!refreshed.contains("REVOKED"), "{refreshed}");

    // 5. A kind is revised (`propose-kind`): the new kind file checked against the one the
    //    ledger registers, approved by the current set, and the registry shows its hash.
    let kinds_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/kinds");
    let registered = kinds_dir.join("no-criminal-record.toml");
    let old_text = std::fs::read_to_string(&registered).unwrap();
    let old_kind = ecert_schemas::Kind::from_toml("old.toml", &old_text).unwrap();
    let version = format!("version = {}\n", old_kind.version);
    let new_text = old_text
        .replacen(
            &version,
            &format!("version = {}\n", old_kind.version + 1),
            1,
        )
        .replacen("max_days = 183", "max_days = 92", 1);
    let new_file = w.dir.write("no-criminal-record.v-next.toml", &new_text);
    let new_kind = ecert_schemas::Kind::from_toml("new.toml", &new_text).unwrap();
    let propose_kind = |new: &Path, previous: &Path, out: &str| {
        w.node_cmd(&[
            "propose-kind",
            "--node",
            &w.net.url(0),
            "--genesis",
            &w.genesis(),
            "--revise",
            new.to_str().unwrap(),
            "--previous",
            previous.to_str().unwrap(),
            "--out",
            out,
        ])
        .run()
    };
    // A previous file that is not the registered one, and a revision that drops a field,
    // are refused before anything is written.
    let other = w
        .dir
        .write("other.toml", format!("# another copy\n{old_text}"));
    let refused = w.path("refused.cbor");
    let err = propose_kind(&new_file, &other, &refused).fails_with(INPUT);
    assert!(err.contains("is not the kind file ledger"), "{err}");
    let dropped = w.dir.write(
        "dropped.toml",
        new_text.replacen(
            "[[fields]]\nnumber = 2\nkey = \"purpose\"\nlabel = \"Purpose\"\n\
             label_local = \"用途\"\ntype = \"text\"\nmax_len = 100\nmandatory = true\n\n",
            "",
            1,
        ),
    );
    let err = propose_kind(&dropped, &registered, &refused).fails_with(INPUT);
    assert!(err.contains("is not a compatible revision"), "{err}");
    assert!(!Path::new(&refused).exists());
    let revise = w.path("revise.cbor");
    let words = propose_kind(&new_file, &registered, &revise).ok();
    assert!(
        words.contains("Revise the certificate kind no-criminal-record")
            && words.contains(&new_kind.content_hash.to_hex()),
        "{words}"
    );
    let (k0, said) = w.approve(JUSTICE, 0, &revise);
    assert!(said.contains("Revise the certificate kind"), "{said}");
    let (k1, _) = w.approve(PUBLIC_SECURITY, 0, &revise);
    let (k2, _) = w.approve(new_ss, 0, &revise);
    let done = w.submit_governance(0, &revise, &[&k0, &k1, &k2]).ok();
    assert!(
        done.contains("certificates of no-criminal-record are checked"),
        "{done}"
    );
    let revised_at = certified_height(&done);
    w.wait_certified(health, revised_at);
    let registry = w.client(health).registry().unwrap();
    assert_eq!(
        registry
            .kind(&ecert_schemas::KindId::new("no-criminal-record").unwrap())
            .unwrap()
            .content_hash,
        new_kind.content_hash
    );
    // Proposed again, there is nothing to revise.
    let err = propose_kind(&new_file, &registered, &w.path("again.cbor")).fails_with(INPUT);
    assert!(err.contains("already registers"), "{err}");

    w.net.stop_all().unwrap();
    eprintln!(
        "validator-set changes: {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

//! The `ecert-issuer` binary, end to end, against a fake ledger node: an in-test HTTP
//! server that runs the real ledger state machine, certifies every block with four
//! validators' votes and answers the documented node API (`docs/api.md`).
// Test fixtures outside #[test] functions: a failure is a test failure.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ecert_issuer::{Batch, CertificateRequest, IssuerKey};
use ecert_ledger_node::certify::{assemble_checkpoint, sign_vote};
use ecert_ledger_node::state::{LedgerState, TxOutcome};
use ecert_schemas::codec::to_cbor;
use ecert_schemas::ledger::{
    BatchRecord, Checkpoint, IssuerKeyRecord, IssuerRecord, KindRecord, Registry, Transaction,
    ValidatorInfo,
};
use ecert_schemas::{
    Certificate, CertificatePackage, ChainId, Claims, FieldValue, Hash32, IssuerId, KindId,
    KindRegistry, OfferRedemption, PublicKeyBytes, StatusIndex, UnixTime,
};
use ecert_verifier::crypto::{self, SigningContext};
use ecert_verifier::TrustAnchor;
use ed25519_dalek::SigningKey;
use rand_core::OsRng;

const PASSPHRASE: &str = "department passphrase";
const CHAIN: &str = "ecert-issuer-test";

// ---------------------------------------------------------------------------------------
// Running the binary

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "ecert-issuer-cli-{name}-{}-{}",
        std::process::id(),
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn bin(home: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ecert-issuer"));
    cmd.env_remove("ECERT_ISSUER_HOME")
        .env("ECERT_ISSUER_TEST_KDF", "1")
        .env("ECERT_ISSUER_PASSPHRASE", PASSPHRASE)
        .arg("--home")
        .arg(home)
        .stdin(Stdio::null());
    cmd
}

fn run(home: &Path, args: &[&str]) -> Output {
    bin(home).args(args).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[track_caller]
fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "failed ({:?}):\nstdout: {}\nstderr: {}",
        output.status.code(),
        text(&output.stdout),
        text(&output.stderr)
    );
    text(&output.stdout)
}

#[track_caller]
fn fails_with(output: &Output, code: i32) -> String {
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout: {}\nstderr: {}",
        text(&output.stdout),
        text(&output.stderr)
    );
    text(&output.stderr)
}

// ---------------------------------------------------------------------------------------
// The fake ledger node

struct Ledger {
    state: LedgerState,
    validator_keys: Vec<SigningKey>,
    checkpoint: Option<Checkpoint>,
    received: Vec<Transaction>,
    clock_ms: u64,
    /// A lying node: its export leaves out the newest batch.
    hide_newest_batch: bool,
    /// A lying node: it answers "certified" to revocations and drops them.
    drop_revocations: bool,
}

impl Ledger {
    /// Applies `tx` in a block of its own, certified by every validator.
    fn apply(&mut self, tx: &Transaction) -> Result<TxOutcome, ecert_verifier::VerifyError> {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        self.clock_ms = now_ms.max(self.clock_ms + 1);
        self.state.check(tx, self.clock_ms)?;
        let block = self
            .state
            .apply_block(std::slice::from_ref(tx), self.clock_ms)
            .unwrap();
        let votes = self
            .validator_keys
            .iter()
            .enumerate()
            .map(|(i, k)| sign_vote(k, i as u16, &block.header_bytes))
            .collect();
        self.checkpoint =
            assemble_checkpoint(&block.header_bytes, votes, self.validator_keys.len());
        Ok(block.outcomes[0].clone())
    }
}

struct FakeNode {
    url: String,
    ledger: Arc<Mutex<Ledger>>,
    /// A second key registered for the same department: someone else's copy.
    other_key: IssuerKey,
}

impl FakeNode {
    /// A ledger whose genesis registers `issuer` with `key` (and a second key), served on
    /// a loopback port.
    fn start(issuer: &str, key: &PublicKeyBytes, kinds: &[&str]) -> FakeNode {
        let issuer_id = IssuerId::new(issuer).unwrap();
        let other_key = IssuerKey::generate(issuer_id.clone(), &mut OsRng);
        let validator_keys: Vec<SigningKey> =
            (0..4).map(|_| SigningKey::generate(&mut OsRng)).collect();
        let validators: Vec<ValidatorInfo> = validator_keys
            .iter()
            .enumerate()
            .map(|(i, k)| ValidatorInfo {
                department: IssuerId::new(format!("dept-{i}")).unwrap(),
                key: crypto::public_key(k),
            })
            .collect();
        let builtin = KindRegistry::builtin().unwrap();
        let mut keys = vec![
            IssuerKeyRecord {
                key_id: ecert_schemas::KeyId::of(key),
                key: *key,
                valid_from: UnixTime(0),
                valid_until: None,
            },
            IssuerKeyRecord {
                key_id: other_key.key_id(),
                key: other_key.public_key(),
                valid_from: UnixTime(0),
                valid_until: None,
            },
        ];
        keys.sort_by_key(|k| k.key_id);
        let registry = Registry {
            issuers: vec![IssuerRecord {
                issuer: issuer_id,
                name: "Test department".into(),
                kinds: kinds.iter().map(|k| KindId::new(*k).unwrap()).collect(),
                keys,
            }],
            kinds: builtin
                .iter()
                .map(|k| KindRecord {
                    kind: k.id.clone(),
                    content_hash: k.content_hash,
                })
                .collect(),
            governance_seq: 0,
        };
        let state =
            LedgerState::genesis(ChainId::new(CHAIN).unwrap(), validators, registry).unwrap();
        let ledger = Arc::new(Mutex::new(Ledger {
            state,
            validator_keys,
            checkpoint: None,
            received: Vec::new(),
            clock_ms: 0,
            hide_newest_batch: false,
            drop_revocations: false,
        }));
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let shared = Arc::clone(&ledger);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                handle(stream, &shared);
            }
        });
        FakeNode {
            url,
            ledger,
            other_key,
        }
    }

    fn anchor(&self) -> TrustAnchor {
        let ledger = self.ledger.lock().unwrap();
        TrustAnchor::new(ledger.state.chain_id().clone(), ledger.state.validators()).unwrap()
    }

    fn write_anchor(&self, dir: &Path) -> PathBuf {
        let path = dir.join("anchor.toml");
        std::fs::write(
            &path,
            ecert_verifier::anchor_file::anchor_to_toml(&self.anchor(), "test ledger"),
        )
        .unwrap();
        path
    }

    fn received(&self) -> Vec<Transaction> {
        self.ledger.lock().unwrap().received.clone()
    }

    fn anchors(&self) -> Vec<BatchRecord> {
        self.ledger.lock().unwrap().state.anchors().to_vec()
    }
}

fn respond(stream: &mut TcpStream, status: u16, content_type: &str, body: &[u8]) {
    let _ = write!(
        stream,
        "HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(body);
}

fn json_error(stream: &mut TcpStream, status: u16, code: &str, message: &str) {
    let body = serde_json::json!({"error": code, "message": message}).to_string();
    respond(stream, status, "application/json", body.as_bytes());
}

fn handle(stream: TcpStream, ledger: &Mutex<Ledger>) {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let mut length = 0usize;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).is_err() || h == "\r\n" || h.is_empty() {
            break;
        }
        if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let mut stream = reader.into_inner();
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("");
    let target = parts.next().unwrap_or("");
    let path = target.split('?').next().unwrap_or("");
    let mut ledger = ledger.lock().unwrap();
    match (method, path) {
        ("POST", "/v1/transactions") => {
            let Ok(tx) = Transaction::from_bytes(&body) else {
                return json_error(&mut stream, 400, "malformed", "not a transaction");
            };
            ledger.received.push(tx.clone());
            let dropped = ledger.drop_revocations && matches!(tx, Transaction::Revocation(_));
            let applied = if dropped {
                Ok(TxOutcome::Revoked { newly_revoked: 1 })
            } else {
                ledger.apply(&tx)
            };
            match applied {
                Err(e) => json_error(&mut stream, 400, e.code(), &e.to_string()),
                Ok(outcome) => {
                    let seq = match outcome {
                        TxOutcome::Anchored { batch_seq } => Some(batch_seq),
                        _ => None,
                    };
                    let answer = serde_json::json!({
                        "tx_hash": ecert_verifier::commit::transaction_hash(&body).to_hex(),
                        "status": "certified",
                        "height": ledger.state.height(),
                        "batch_seq": seq,
                    });
                    respond(
                        &mut stream,
                        200,
                        "application/json",
                        answer.to_string().as_bytes(),
                    );
                }
            }
        }
        ("GET", p) if p.starts_with("/v1/anchors/") => {
            let root = Hash32::from_hex(p.trim_start_matches("/v1/anchors/")).unwrap();
            let (Some(seq), Some(checkpoint)) =
                (ledger.state.batch_seq_of(&root), ledger.checkpoint.clone())
            else {
                return json_error(&mut stream, 404, "not-anchored", "no such batch");
            };
            let receipt = ledger
                .state
                .anchor_receipt(seq, &checkpoint)
                .unwrap()
                .unwrap();
            respond(
                &mut stream,
                200,
                "application/cbor",
                &receipt.to_bytes().unwrap(),
            );
        }
        ("GET", "/v1/revocations") if target.ends_with("?since=0") => {
            let Some(checkpoint) = ledger.checkpoint.clone() else {
                return json_error(&mut stream, 409, "not-certified-yet", "nothing certified");
            };
            let delta = ledger
                .state
                .revocation_delta(0, &checkpoint)
                .unwrap()
                .unwrap();
            respond(
                &mut stream,
                200,
                "application/cbor",
                &delta.to_bytes().unwrap(),
            );
        }
        ("GET", "/v1/export") => {
            let Some(checkpoint) = ledger.checkpoint.clone() else {
                return json_error(&mut stream, 503, "no-checkpoint", "nothing certified yet");
            };
            let mut bundle = ledger.state.trust_bundle(checkpoint);
            if ledger.hide_newest_batch {
                bundle.anchors.pop();
            }
            respond(
                &mut stream,
                200,
                "application/cbor",
                &bundle.to_bytes().unwrap(),
            );
        }
        ("GET", "/v1/registry") => {
            let registry = to_cbor(ledger.state.registry()).unwrap();
            respond(&mut stream, 200, "application/cbor", &registry);
        }
        _ => json_error(&mut stream, 404, "not-found", "no such endpoint"),
    }
}

// ---------------------------------------------------------------------------------------
// Fixtures

struct Setup {
    dir: PathBuf,
    home: PathBuf,
    node: FakeNode,
}

/// A home for `justice`, set up against a fake node that registered its key.
fn setup(name: &str) -> Setup {
    let dir = temp_dir(name);
    let home = dir.join("home");
    ok(&run(&home, &["init", "--issuer", "justice"]));
    let key = PublicKeyBytes::from_hex(ok(&run(&home, &["key"])).trim()).unwrap();
    let node = FakeNode::start("justice", &key, &["no-criminal-record"]);
    let anchor = node.write_anchor(&dir);
    ok(&run(&home, &["config", "--node", &node.url]));
    ok(&run(&home, &["set-anchor", anchor.to_str().unwrap()]));
    Setup { dir, home, node }
}

fn holder() -> SigningKey {
    SigningKey::generate(&mut OsRng)
}

fn holder_hex(key: &SigningKey) -> String {
    crypto::public_key(key).to_hex()
}

const NCR_JSON: &str = r#"{"name": "王芳", "id_number": "110108199003070016",
  "purpose": "visa", "result": "no-record", "checked_through": "2026-01-31"}"#;

const NCR_TOML: &str = "name = \"李娜\"\nid_number = \"110108199003070016\"\n\
purpose = \"employment\"\nresult = \"no-record\"\nchecked_through = \"2026-02-28\"\n";

fn write(dir: &Path, name: &str, content: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

fn read_package(path: &Path) -> (CertificatePackage, Certificate) {
    let package = CertificatePackage::from_bytes(&std::fs::read(path).unwrap()).unwrap();
    let cert = Certificate::from_bytes(&package.certificate).unwrap();
    (package, cert)
}

/// What a counter synced with the fake ledger says of `package` presented by `holder`.
fn counter_verdict(
    node: &FakeNode,
    package: &CertificatePackage,
    holder: &SigningKey,
) -> Result<ecert_verifier::Verdict, ecert_verifier::VerifyError> {
    let kinds = KindRegistry::builtin().unwrap();
    let wallet = ecert_wallet::HolderKey::from_seed(&zeroize::Zeroizing::new(holder.to_bytes()));
    let now = UnixTime(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    );
    let presentation = ecert_wallet::present(
        &wallet,
        &kinds,
        &[ecert_wallet::Selection {
            package,
            fields: vec!["name".into()],
        }],
        now,
        None,
    )
    .unwrap();
    let bundle = {
        let ledger = node.ledger.lock().unwrap();
        ledger
            .state
            .trust_bundle(ledger.checkpoint.clone().unwrap())
    };
    let store = ecert_verifier::TrustStore::from_bundle(bundle, &node.anchor(), kinds).unwrap();
    ecert_verifier::verify_presentation(
        &presentation.to_qr_string().unwrap(),
        &store,
        now,
        &ecert_verifier::Policy::default(),
    )
}

fn status_index(home: &Path) -> String {
    std::fs::read_to_string(home.join("next-status-index"))
        .unwrap()
        .trim()
        .to_owned()
}

fn batch_files(home: &Path) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(home.join("batches")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            out.push(serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap());
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Tests

#[test]
fn every_command_has_help() {
    let dir = temp_dir("help");
    let out = ok(&run(&dir, &["--help"]));
    assert!(out.contains("Exit codes"), "{out}");
    for command in [
        "init",
        "key",
        "config",
        "set-anchor",
        "issue",
        "revoke",
        "list",
        "audit",
        "serve",
        "rotate-key",
    ] {
        let out = ok(&run(&dir, &[command, "--help"]));
        assert!(out.len() > 200, "{command} --help is too short:\n{out}");
        assert!(out.contains("Usage: ecert-issuer"), "{out}");
    }
}

#[test]
fn init_makes_a_sealed_key_and_refuses_to_overwrite() {
    let dir = temp_dir("init");
    let home = dir.join("home");
    let out = ok(&run(
        &home,
        &[
            "init",
            "--issuer",
            "justice",
            "--node",
            "http://127.0.0.1:9",
        ],
    ));
    let key_hex = ok(&run(&home, &["key"])).trim().to_owned();
    assert_eq!(key_hex.len(), 64);
    assert!(out.contains(&key_hex), "init prints the public key:\n{out}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&home).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }

    // The key file holds no key in clear: it is an ECK1 envelope whose secret only the
    // passphrase opens, and neither the seed nor the public key appear in it.
    let sealed = std::fs::read(home.join("key.eck")).unwrap();
    assert_eq!(&sealed[..4], b"ECK1");
    let seed = ecert_wallet::sealed::open_secret(
        *b"ECK1",
        &sealed,
        &zeroize::Zeroizing::new(PASSPHRASE.to_owned()),
    )
    .unwrap();
    assert_eq!(seed.len(), 32);
    let signing = SigningKey::from_bytes(&seed[..].try_into().unwrap());
    assert_eq!(crypto::public_key(&signing).to_hex(), key_hex);
    assert!(!sealed.windows(32).any(|w| w == &seed[..]));
    assert!(!sealed
        .windows(32)
        .any(|w| w == crypto::public_key(&signing).as_bytes()));
    assert!(ecert_wallet::sealed::open_secret(
        *b"ECK1",
        &sealed,
        &zeroize::Zeroizing::new("wrong passphrase".to_owned()),
    )
    .is_err());

    // A second init changes nothing.
    let err = fails_with(&run(&home, &["init", "--issuer", "justice"]), 3);
    assert!(err.contains("already"), "{err}");
    assert_eq!(std::fs::read(home.join("key.eck")).unwrap(), sealed);
    assert_eq!(ok(&run(&home, &["key"])).trim(), key_hex);

    // Commands on a home that does not exist say what to do.
    let err = fails_with(&run(&dir.join("nowhere"), &["list"]), 3);
    assert!(err.contains("ecert-issuer init"), "{err}");
    // A short passphrase is refused.
    let err = fails_with(
        &bin(&dir.join("other"))
            .env("ECERT_ISSUER_PASSPHRASE", "short")
            .args(["init", "--issuer", "justice"])
            .output()
            .unwrap(),
        2,
    );
    assert!(err.contains("at least 8"), "{err}");
    // Issuing needs a node and an anchor first.
    let err = fails_with(
        &run(
            &home,
            &["issue", "--kind", "no-criminal-record", "--csv", "x.csv"],
        ),
        3,
    );
    assert!(err.contains("set-anchor"), "{err}");
    let out = ok(&run(&home, &["config"]));
    assert!(out.contains("http://127.0.0.1:9"), "{out}");
}

#[test]
fn issues_from_json_and_toml_and_lists() {
    let s = setup("json");
    let wang = holder();
    let json = write(&s.dir, "wang.json", NCR_JSON);
    let out_file = s.dir.join("wang.ecp");
    let out = ok(&run(
        &s.home,
        &[
            "issue",
            "--kind",
            "no-criminal-record",
            "--claims",
            json.to_str().unwrap(),
            "--holder",
            &holder_hex(&wang),
            "--valid-days",
            "90",
            "--out",
            out_file.to_str().unwrap(),
        ],
    ));
    assert!(out.contains("Issued 1 no-criminal-record"), "{out}");
    let (package, cert) = read_package(&out_file);
    assert_eq!(cert.claims.holder, crypto::public_key(&wang));
    assert_eq!(cert.claims.status_index, StatusIndex(0));
    assert_eq!(package.anchor.batch_seq, 0);
    assert_eq!(
        cert.claims.expires.secs() - cert.claims.valid_from.secs(),
        90 * 86_400
    );
    // The anchored batch root is the one the package proves inclusion in.
    let anchors = s.node.anchors();
    assert_eq!(anchors.len(), 1);
    assert!(ecert_verifier::merkle::verify_inclusion(
        &ecert_verifier::merkle::leaf_hash(&package.certificate),
        package.anchor.leaf_index,
        anchors[0].count,
        &package.anchor.path,
        &anchors[0].batch_root
    ));
    // A counter synced with the ledger accepts it when the citizen's wallet shows it.
    let verdict = counter_verdict(&s.node, &package, &wang).unwrap();
    assert_eq!(
        verdict.certificates[0].disclosed[0].value.to_string(),
        "王芳"
    );

    let toml = write(&s.dir, "li.toml", NCR_TOML);
    let li = holder();
    let out_dir = s.dir.join("out");
    ok(&run(
        &s.home,
        &[
            "issue",
            "--kind",
            "no-criminal-record",
            "--claims",
            toml.to_str().unwrap(),
            "--holder",
            &holder_hex(&li),
            "--out-dir",
            out_dir.to_str().unwrap(),
        ],
    ));
    let files: Vec<_> = std::fs::read_dir(&out_dir).unwrap().collect();
    assert_eq!(files.len(), 1);
    let (package, cert) = read_package(&files[0].as_ref().unwrap().path());
    assert_eq!(cert.claims.status_index, StatusIndex(1));
    assert_eq!(package.anchor.batch_seq, 1);
    assert_eq!(status_index(&s.home), "2");

    let list = ok(&run(&s.home, &["list"]));
    assert!(list.contains(&cert.claims.id.to_hex()[..8]), "{list}");
    assert!(list.contains("2 certificate(s)"), "{list}");
    assert!(list.contains("valid"), "{list}");
    let none = ok(&run(&s.home, &["list", "--kind", "id-card"]));
    assert!(none.contains("No certificates match"), "{none}");

    // The register keeps no claim value.
    for batch in batch_files(&s.home) {
        let text = batch.to_string();
        assert!(!text.contains("王芳") && !text.contains("110108"), "{text}");
        assert_eq!(batch["state"], "anchored");
    }
}

#[test]
fn issues_a_csv_file_as_one_batch() {
    let s = setup("csv");
    let holders: Vec<SigningKey> = (0..3).map(|_| holder()).collect();
    let mut csv = String::from("holder,name,id_number,purpose,result,checked_through\n");
    for (i, h) in holders.iter().enumerate() {
        csv.push_str(&format!(
            "{},Person {i},110108199003070016,\"visa, tourism\",no-record,2026-01-31\n",
            holder_hex(h)
        ));
    }
    let file = write(&s.dir, "today.csv", &csv);
    let out_dir = s.dir.join("delivered");
    let out = ok(&run(
        &s.home,
        &[
            "issue",
            "--kind",
            "no-criminal-record",
            "--csv",
            file.to_str().unwrap(),
            "--out-dir",
            out_dir.to_str().unwrap(),
        ],
    ));
    assert!(out.contains("Issued 3"), "{out}");
    assert_eq!(s.node.received().len(), 1, "one batch for the whole file");
    assert_eq!(s.node.anchors()[0].count, 3);
    for (i, h) in holders.iter().enumerate() {
        let name = format!("row{:04}-{}.ecp", i + 2, &holder_hex(h)[..8]);
        let (_, cert) = read_package(&out_dir.join(&name));
        assert_eq!(cert.claims.holder, crypto::public_key(h));
        assert_eq!(cert.claims.status_index, StatusIndex(i as u32));
    }
    // Running the same file into the same folder again refuses before signing anything.
    let err = fails_with(
        &run(
            &s.home,
            &[
                "issue",
                "--kind",
                "no-criminal-record",
                "--csv",
                file.to_str().unwrap(),
                "--out-dir",
                out_dir.to_str().unwrap(),
            ],
        ),
        2,
    );
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(status_index(&s.home), "3");
    assert_eq!(s.node.received().len(), 1);
}

#[test]
fn bad_claims_are_refused_naming_row_and_field() {
    let s = setup("bad");
    let h = holder_hex(&holder());
    let csv = format!(
        "holder,name,id_number,purpose,result,checked_through\n\
         {h},王芳,110108199003070016,visa,no-record,2026-01-31\n\
         {h},李娜,110108199003070016,visa,maybe,2026-01-31\n\
         {h},张伟,110108199003070017,visa,no-record,2026-01-31\n"
    );
    let file = write(&s.dir, "bad.csv", &csv);
    let err = fails_with(
        &run(
            &s.home,
            &[
                "issue",
                "--kind",
                "no-criminal-record",
                "--csv",
                file.to_str().unwrap(),
            ],
        ),
        2,
    );
    assert!(err.contains("row 3, field \"result\""), "{err}");
    assert!(err.contains("row 4, field \"id_number\""), "{err}");
    assert!(err.contains("nothing was issued"), "{err}");

    let json = write(&s.dir, "bad.json", &NCR_JSON.replace("\"visa\"", "\"\""));
    let err = fails_with(
        &run(
            &s.home,
            &[
                "issue",
                "--kind",
                "no-criminal-record",
                "--claims",
                json.to_str().unwrap(),
                "--holder",
                &h,
            ],
        ),
        2,
    );
    assert!(err.contains("field \"purpose\""), "{err}");
    // A kind this department may not issue, and a bad wallet ID.
    let err = fails_with(
        &run(
            &s.home,
            &[
                "issue",
                "--kind",
                "id-card",
                "--claims",
                json.to_str().unwrap(),
                "--holder",
                &h,
            ],
        ),
        2,
    );
    assert!(err.contains("may not issue"), "{err}");
    let good = write(&s.dir, "good.json", NCR_JSON);
    let err = fails_with(
        &run(
            &s.home,
            &[
                "issue",
                "--kind",
                "no-criminal-record",
                "--claims",
                good.to_str().unwrap(),
                "--holder",
                "abcd",
            ],
        ),
        2,
    );
    assert!(err.contains("wallet ID"), "{err}");
    assert!(s.node.received().is_empty());
    assert_eq!(status_index(&s.home), "0");
    assert!(batch_files(&s.home).is_empty());
}

#[test]
fn a_wrong_passphrase_fails_cleanly_and_changes_nothing() {
    let s = setup("passphrase");
    let json = write(&s.dir, "c.json", NCR_JSON);
    let before_key = std::fs::read(s.home.join("key.eck")).unwrap();
    let output = bin(&s.home)
        .env("ECERT_ISSUER_PASSPHRASE", "not the passphrase")
        .args([
            "issue",
            "--kind",
            "no-criminal-record",
            "--claims",
            json.to_str().unwrap(),
            "--holder",
            &holder_hex(&holder()),
            "--out",
            s.dir.join("x.ecp").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let err = fails_with(&output, 3);
    assert!(err.contains("wrong passphrase"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(s.node.received().is_empty());
    assert_eq!(status_index(&s.home), "0");
    assert!(batch_files(&s.home).is_empty());
    assert!(!s.dir.join("x.ecp").exists());
    assert_eq!(std::fs::read(s.home.join("key.eck")).unwrap(), before_key);
}

struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(home: &Path) -> Server {
    let mut child = bin(home)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_owned();
    Server { child, url }
}

fn redeem(url: &str, code: &str, key: &SigningKey) -> (u16, Vec<u8>) {
    let body = OfferRedemption {
        holder_key: crypto::public_key(key),
        signature: crypto::sign(key, SigningContext::OfferRedeem, code.as_bytes()),
    }
    .to_bytes()
    .unwrap();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into();
    let mut response = agent
        .post(format!("{url}/v1/offers/{code}/redeem"))
        .header("content-type", "application/cbor")
        .send(&body[..])
        .unwrap();
    let status = response.status().as_u16();
    (status, response.body_mut().read_to_vec().unwrap())
}

#[test]
fn offers_are_redeemed_once_by_the_holder_only() {
    let s = setup("offer");
    ok(&run(
        &s.home,
        &["config", "--serve-url", "http://127.0.0.1:7400"],
    ));
    let citizen = holder();
    let json = write(&s.dir, "c.json", NCR_JSON);
    let out = ok(&run(
        &s.home,
        &[
            "issue",
            "--kind",
            "no-criminal-record",
            "--claims",
            json.to_str().unwrap(),
            "--holder",
            &holder_hex(&citizen),
            "--offer",
        ],
    ));
    let code = out
        .split_whitespace()
        .skip_while(|w| *w != "code")
        .nth(1)
        .unwrap_or_else(|| panic!("no offer code in {out}"))
        .to_owned();
    assert_eq!(code.len(), 19, "{code}");
    assert!(
        out.contains(&format!("http://127.0.0.1:7400/v1/offers/{code}")),
        "{out}"
    );
    assert!(out.contains('█'), "a QR code is drawn:\n{out}");
    // No package file without --out/--out-dir.
    assert!(!s.dir.read_dir().unwrap().any(|e| e
        .unwrap()
        .path()
        .extension()
        .is_some_and(|x| x == "ecp")));

    let server = serve(&s.home);
    let (status, body) = redeem(&server.url, &code, &holder());
    assert_eq!(status, 403, "{}", text(&body));
    assert!(text(&body).contains("wrong-holder"));
    let (status, body) = redeem(&server.url, "0000-0000-0000-0000", &citizen);
    assert_eq!(status, 404, "{}", text(&body));
    let (status, body) = redeem(&server.url, &code, &citizen);
    assert_eq!(status, 200, "{}", text(&body));
    let package = CertificatePackage::from_bytes(&body).unwrap();
    let cert = Certificate::from_bytes(&package.certificate).unwrap();
    assert_eq!(cert.claims.holder, crypto::public_key(&citizen));
    let (status, body) = redeem(&server.url, &code, &citizen);
    assert_eq!(status, 410, "{}", text(&body));
    assert!(text(&body).contains("offer-used"));
    // The delivered package is no longer kept in the home.
    assert_eq!(
        std::fs::read_dir(s.home.join("offers/open"))
            .unwrap()
            .count(),
        0
    );
}

#[test]
fn revocations_reach_the_ledger_and_the_register() {
    let s = setup("revoke");
    let citizen = holder();
    let json = write(&s.dir, "c.json", NCR_JSON);
    let out_file = s.dir.join("c.ecp");
    ok(&run(
        &s.home,
        &[
            "issue",
            "--kind",
            "no-criminal-record",
            "--claims",
            json.to_str().unwrap(),
            "--holder",
            &holder_hex(&citizen),
            "--out",
            out_file.to_str().unwrap(),
        ],
    ));
    let (_, cert) = read_package(&out_file);
    let id = cert.claims.id.to_hex();
    let err = fails_with(
        &run(
            &s.home,
            &["revoke", "--cert", &id[..8], "--reason", "bored"],
        ),
        2,
    );
    assert!(err.contains("data-error"), "the reasons are listed: {err}");
    let err = fails_with(
        &run(
            &s.home,
            &["revoke", "--cert", "ffffffff", "--reason", "data-error"],
        ),
        2,
    );
    assert!(err.contains("no certificate"), "{err}");
    // A node that says "certified" but drops the revocation is caught, and nothing is
    // recorded, so the command can be run again.
    s.node.ledger.lock().unwrap().drop_revocations = true;
    let err = fails_with(
        &run(
            &s.home,
            &["revoke", "--cert", &id[..8], "--reason", "data-error"],
        ),
        5,
    );
    assert!(err.contains("do not trust that node"), "{err}");
    assert!(!ok(&run(&s.home, &["list", "--revoked"])).contains("revoked (data-error)"));
    s.node.ledger.lock().unwrap().drop_revocations = false;

    let out = ok(&run(
        &s.home,
        &["revoke", "--cert", &id[..8], "--reason", "data-error"],
    ));
    assert!(out.contains("Revoked 1"), "{out}");
    let received = s.node.received();
    let Some(Transaction::Revocation(tx)) = received.last() else {
        panic!("the node received no revocation: {received:?}");
    };
    assert_eq!(tx.body.entries.len(), 1);
    assert_eq!(tx.body.entries[0].index, cert.claims.status_index);
    assert_eq!(tx.body.entries[0].reason.name(), "data-error");
    let (package, _) = read_package(&out_file);
    assert_eq!(
        counter_verdict(&s.node, &package, &citizen)
            .unwrap_err()
            .code(),
        "revoked"
    );
    let list = ok(&run(&s.home, &["list", "--revoked"]));
    assert!(list.contains("revoked (data-error)"), "{list}");
    let err = fails_with(
        &run(
            &s.home,
            &["revoke", "--cert", &id, "--reason", "superseded"],
        ),
        2,
    );
    assert!(err.contains("already revoked"), "{err}");
}

#[test]
fn audit_reports_a_batch_the_department_did_not_issue() {
    let s = setup("audit");
    let json = write(&s.dir, "c.json", NCR_JSON);
    ok(&run(
        &s.home,
        &[
            "issue",
            "--kind",
            "no-criminal-record",
            "--claims",
            json.to_str().unwrap(),
            "--holder",
            &holder_hex(&holder()),
            "--out-dir",
            s.dir.to_str().unwrap(),
        ],
    ));
    let out = ok(&run(&s.home, &["audit"]));
    assert!(out.contains("All in order"), "{out}");

    // Someone with another key of this department anchors a batch.
    let kinds = KindRegistry::builtin().unwrap();
    let mut claims = Claims::new();
    for (k, v) in [
        ("name", "Mallory"),
        ("id_number", "110108199003070016"),
        ("purpose", "fraud"),
        ("result", "no-record"),
        ("checked_through", "2026-01-31"),
    ] {
        claims.insert(k.into(), FieldValue::Text(v.into()));
    }
    let now = UnixTime(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    );
    let request = CertificateRequest {
        kind: KindId::new("no-criminal-record").unwrap(),
        claims,
        holder: crypto::public_key(&holder()),
        valid_from: now,
        expires: now.plus(86_400),
        status_index: StatusIndex(999),
    };
    let forged = ecert_issuer::issue(&s.node.other_key, &kinds, &request, now, &mut OsRng).unwrap();
    let batch = Batch::new(&s.node.other_key, vec![forged]).unwrap();
    let tx = Transaction::AnchorBatch(
        batch
            .anchor_transaction(&s.node.other_key, &ChainId::new(CHAIN).unwrap())
            .unwrap(),
    );
    s.node.ledger.lock().unwrap().apply(&tx).unwrap();

    let output = run(&s.home, &["audit"]);
    assert_eq!(output.status.code(), Some(6), "{}", text(&output.stderr));
    let out = text(&output.stdout);
    assert!(out.contains("NOT ISSUED BY THIS DEPARTMENT"), "{out}");
    assert!(out.contains(&batch.root().to_hex()), "{out}");

    // A node that hides that batch from its export cannot pass it off as certified data.
    s.node.ledger.lock().unwrap().hide_newest_batch = true;
    let err = fails_with(&run(&s.home, &["audit"]), 5);
    assert!(
        err.contains("does not verify against the pinned trust anchor"),
        "{err}"
    );
}

#[test]
fn an_unreachable_node_leaves_the_batch_recorded() {
    let s = setup("unreachable");
    // Point the home at a port where nothing listens.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    ok(&run(&s.home, &["config", "--node", &dead]));
    let json = write(&s.dir, "c.json", NCR_JSON);
    let err = fails_with(
        &run(
            &s.home,
            &[
                "issue",
                "--kind",
                "no-criminal-record",
                "--claims",
                json.to_str().unwrap(),
                "--holder",
                &holder_hex(&holder()),
                "--out",
                s.dir.join("c.ecp").to_str().unwrap(),
            ],
        ),
        4,
    );
    assert!(err.contains("cannot reach the ledger node"), "{err}");
    assert!(!s.dir.join("c.ecp").exists());
    let batches = batch_files(&s.home);
    assert_eq!(batches.len(), 1);
    assert_eq!(batches[0]["state"], "undelivered");
    assert_eq!(status_index(&s.home), "1", "the index stays used");
    let list = ok(&run(&s.home, &["list"]));
    assert!(list.contains("undelivered"), "{list}");
}

#[test]
fn a_proof_that_does_not_verify_delivers_nothing() {
    let s = setup("proof");
    // An anchor for other validators: the node's proofs cannot verify against it.
    let mut other = s.node.anchor();
    other.validators_hash = Hash32([7; 32]);
    let path = s.dir.join("other-anchor.toml");
    std::fs::write(
        &path,
        ecert_verifier::anchor_file::anchor_to_toml(&other, "another ledger"),
    )
    .unwrap();
    let err = fails_with(&run(&s.home, &["set-anchor", path.to_str().unwrap()]), 3);
    assert!(err.contains("--force"), "{err}");
    ok(&run(
        &s.home,
        &["set-anchor", "--force", path.to_str().unwrap()],
    ));
    let json = write(&s.dir, "c.json", NCR_JSON);
    let err = fails_with(
        &run(
            &s.home,
            &[
                "issue",
                "--kind",
                "no-criminal-record",
                "--claims",
                json.to_str().unwrap(),
                "--holder",
                &holder_hex(&holder()),
                "--out",
                s.dir.join("c.ecp").to_str().unwrap(),
            ],
        ),
        5,
    );
    assert!(
        err.contains("does not verify against the trust anchor"),
        "{err}"
    );
    assert!(!s.dir.join("c.ecp").exists());
    assert_eq!(batch_files(&s.home)[0]["state"], "undelivered");
}

#[test]
fn a_key_rotation_is_proposed_approved_and_submitted() {
    use ecert_schemas::codec::from_cbor;
    use ecert_schemas::ledger::{GovernanceAction, GovernanceBody};

    let s = setup("rotate");
    let old_key = ok(&run(&s.home, &["key"])).trim().to_owned();
    let proposal = s.dir.join("proposal.cbor");
    let out = ok(&run(
        &s.home,
        &[
            "rotate-key",
            "--start-in",
            "60",
            "--out",
            proposal.to_str().unwrap(),
        ],
    ));
    assert!(out.contains("New public key"), "{out}");
    let body: GovernanceBody = from_cbor("proposal", &std::fs::read(&proposal).unwrap()).unwrap();
    let GovernanceAction::RotateIssuerKey(action) = &body.action else {
        panic!("not a rotation: {body:?}");
    };
    assert_eq!(
        action.old_key_id.to_hex(),
        ecert_schemas::KeyId::of(&PublicKeyBytes::from_hex(&old_key).unwrap()).to_hex()
    );
    assert!(out.contains(&action.new_key.to_hex()), "{out}");
    // A second proposal while one is under way is refused; abandoning one is possible.
    let p2 = s.dir.join("p2.cbor");
    fails_with(
        &run(&s.home, &["rotate-key", "--out", p2.to_str().unwrap()]),
        3,
    );
    let out = ok(&run(&s.home, &["rotate-key", "--cancel"]));
    assert!(out.contains("abandoned"), "{out}");
    assert!(!s.home.join("pending-key.eck").exists());
    ok(&run(
        &s.home,
        &[
            "rotate-key",
            "--start-in",
            "60",
            "--out",
            p2.to_str().unwrap(),
        ],
    ));
    ok(&run(&s.home, &["rotate-key", "--cancel"]));
    // The first proposal is no longer the one under way; make it so again.
    let proposal_bytes = std::fs::read(&proposal).unwrap();
    std::fs::remove_file(&proposal).unwrap();
    ok(&run(
        &s.home,
        &[
            "rotate-key",
            "--start-in",
            "60",
            "--out",
            proposal.to_str().unwrap(),
        ],
    ));
    assert_ne!(
        std::fs::read(&proposal).unwrap(),
        proposal_bytes,
        "a fresh key each time"
    );
    let body: GovernanceBody = from_cbor("proposal", &std::fs::read(&proposal).unwrap()).unwrap();
    let GovernanceAction::RotateIssuerKey(action) = &body.action else {
        panic!("not a rotation: {body:?}");
    };

    let approval = |i: usize| {
        let ledger = s.node.ledger.lock().unwrap();
        let a = ecert_ledger_node::governance::approve(&ledger.validator_keys[i], i as u16, &body)
            .unwrap();
        let path = s.dir.join(format!("approval-{i}.cbor"));
        std::fs::write(&path, to_cbor(&a).unwrap()).unwrap();
        path
    };
    let files: Vec<PathBuf> = (0..3).map(approval).collect();
    // One approval of four is not enough: the ledger refuses, nothing changes.
    let err = fails_with(
        &run(
            &s.home,
            &[
                "rotate-key",
                "--submit",
                proposal.to_str().unwrap(),
                "--approvals",
                files[0].to_str().unwrap(),
            ],
        ),
        4,
    );
    assert!(err.contains("refused"), "{err}");
    let out = ok(&run(
        &s.home,
        &[
            "rotate-key",
            "--submit",
            proposal.to_str().unwrap(),
            "--approvals",
            files[0].to_str().unwrap(),
            files[1].to_str().unwrap(),
            files[2].to_str().unwrap(),
        ],
    ));
    assert!(out.contains("certified the key rotation"), "{out}");
    let received = s.node.received();
    assert!(matches!(received.last(), Some(Transaction::Governance(_))));
    let ledger_keys = s.node.ledger.lock().unwrap().state.registry().issuers[0]
        .keys
        .clone();
    assert!(ledger_keys.iter().any(|k| k.key == action.new_key));
    // The new key takes over in an hour; until then the current key signs.
    assert_eq!(ok(&run(&s.home, &["key"])).trim(), old_key);
    assert!(s.home.join("pending-key.eck").exists());
    // A certified rotation can no longer be abandoned.
    fails_with(&run(&s.home, &["rotate-key", "--cancel"]), 2);
    assert!(s.home.join("pending-key.eck").exists());
}

//! Refills through the real tools: a wallet asks the department's offer endpoint for new
//! copies (`ecert-wallet refill`), the request is queued (`ecert-issuer serve`), the
//! operator issues the queue (`ecert-issuer refill`), the wallet collects the new copies,
//! which replace the old ones under the same certificate, and revoking the certificate
//! revokes the copies of both issues. The wallet binary must be built beside this test
//! (`cargo test -p ecert-issuer -p ecert-wallet --all-features`, or the whole workspace).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::Duration;

use ecert_issuer::anchoring::{batch_file, SignedBatch};
use ecert_issuer::register::BatchState;
use ecert_issuer::{Batch, CertificateRequest, IssuerKey};
use ecert_ledger_node::state::TxOutcome;
use ecert_schemas::copy::CopyPackage;
use ecert_schemas::ledger::Transaction;
use ecert_schemas::{
    Certificate, CertificatePackage, Claims, FieldValue, IssuerId, KindId, KindRegistry,
    PublicKeyBytes, StatusIndex,
};
use ecert_testkit::issuer::{self, issue, Department, PASSPHRASE};
use ecert_testkit::{now, Cmd, Run};
use rand_core::OsRng;
use zeroize::Zeroizing;

const WALLET_PASSPHRASE: &str = "correct horse battery staple";
const NCR_JSON: &str = r#"{"name": "王芳", "id_number": "110108199003070016",
  "purpose": "visa", "result": "no-record", "checked_through": "2026-01-31"}"#;

/// `ecert-issuer serve` on a free port, stopped when dropped.
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
    let mut child = issuer::cmd(home)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .spawn();
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

fn wallet(path: &Path, args: &[&str]) -> Run {
    Cmd::new("ecert-wallet")
        .args(args)
        .env("ECERT_WALLET", path)
        .env("ECERT_WALLET_PASSPHRASE", WALLET_PASSPHRASE)
        .run()
}

/// The wallet's ID (its public key, hex), as `ecert-wallet id` prints it.
fn wallet_id(path: &Path) -> String {
    wallet(path, &["id"])
        .ok()
        .lines()
        .map(str::trim)
        .find(|l| l.len() == 64 && l.chars().all(|c| c.is_ascii_hexdigit()))
        .unwrap()
        .to_owned()
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    match std::fs::read_dir(dir) {
        Ok(entries) => entries.map(|e| e.unwrap().path()).collect(),
        Err(_) => Vec::new(),
    }
}

#[test]
fn a_wallet_asks_for_new_copies_and_collects_them_after_the_department_issues_them() {
    let dept = Department::setup("refill");
    let anchor = dept.dir.path("anchor.toml");
    let node = dept.node.url.clone();
    let path = dept.dir.path("citizen").join("wallet.ecw");
    wallet(&path, &["init"]).ok();
    let id = wallet_id(&path);
    let claims = dept.write("c.json", NCR_JSON);
    let package = dept.dir.path("c.ecp");
    issue("no-criminal-record", &claims, &id)
        .args(&["--copies", "3"])
        .out(&package)
        .run(&dept.home)
        .ok();
    let first = CopyPackage::from_bytes(&std::fs::read(&package).unwrap()).unwrap();
    wallet(&path, &["receive", package.to_str().unwrap()]).ok();
    let short: String = first.id.to_hex().chars().take(8).collect();
    let server = serve(&dept.home);

    // Three copies are running low: asked without naming it, the request is queued.
    let out = wallet(&path, &["refill", "--from", &server.url]).ok();
    assert!(
        out.contains("asked") && out.contains("again later"),
        "{out}"
    );
    let pending = dept.home.join("refills").join("pending");
    assert_eq!(files_in(&pending).len(), 1);
    // Asked again before the department issued them: still one request.
    wallet(&path, &["refill", "--from", &server.url, &short]).ok();
    assert_eq!(files_in(&pending).len(), 1);

    // The operator waits for enough requests to hide them in a batch, unless told less.
    let out = dept.run(&["refill"]).ok();
    assert!(out.contains("wait until at least 50"), "{out}");
    assert!(files_in(&dept.home.join("refills").join("ready")).is_empty());
    // New copies are issued a second or more after the old ones: newer.
    std::thread::sleep(Duration::from_millis(1100));
    let anchored_before = dept.node.received().len();
    let out = dept
        .run(&["refill", "--min-requests", "1", "--copies", "4"])
        .ok();
    assert!(out.contains("New copies of 1 no-criminal-record"), "{out}");
    assert_eq!(dept.node.received().len(), anchored_before + 1, "one batch");
    assert!(files_in(&pending).is_empty());
    let ready = files_in(&dept.home.join("refills").join("ready"));
    assert_eq!(ready.len(), 1);
    let refilled = CopyPackage::from_bytes(&std::fs::read(&ready[0]).unwrap()).unwrap();
    assert_eq!(refilled.id, first.id, "the same certificate");
    // Its validity: from now to its end, rounded down to a week (protocol §9b).
    assert!(refilled.expires <= first.expires);
    assert!(refilled.expires.secs() + 7 * 86_400 > first.expires.secs());
    assert_eq!(refilled.valid_from, refilled.issued_at);
    assert!(refilled.issued_at > first.issued_at);
    assert_eq!(refilled.fields, first.fields);
    assert_eq!(refilled.copies.len(), 4);

    // The wallet collects them: they replace the old copies.
    let out = wallet(&path, &["refill", "--from", &server.url, &short]).ok();
    assert!(out.contains("Replaced with a new issue"), "{out}");
    let list = wallet(&path, &["list"]).ok();
    assert!(list.contains("copies left: 4 of 4"), "{list}");
    // The department's register shows one certificate, issued twice.
    let shown = dept.run(&["list"]).ok();
    assert_eq!(shown.matches(&short).count(), 1, "{shown}");
    // The new copies are anchored, as the ledger certified.
    wallet(&path, &["trust", "--anchor", anchor.to_str().unwrap()]).ok();
    let refreshed = wallet(&path, &["refresh", "--node", &node]).ok();
    assert!(refreshed.contains("certified"), "{refreshed}");

    // Asked again now, with a copy of the new issue: queued anew, the collected package
    // is no longer kept.
    wallet(&path, &["refill", "--from", &server.url, &short]).ok();
    assert_eq!(files_in(&pending).len(), 1);
    assert!(files_in(&dept.home.join("refills").join("ready")).is_empty());

    // Revoked: every copy of both issues, and no new copies.
    let out = dept
        .run(&["revoke", "--cert", &short, "--reason", "withdrawn"])
        .ok();
    assert!(out.contains("all 7 copies of its 2 issues"), "{out}");
    let err = wallet(&path, &["refill", "--from", &server.url, &short]).fails_with(13);
    assert!(err.contains("revoked"), "{err}");
    let out = dept.run(&["refill", "--min-requests", "1"]).ok();
    assert!(out.contains("revoked"), "{out}");
    assert!(files_in(&pending).is_empty());
    wallet(&path, &["refresh", "--node", &node]).fails_with(9);
}

#[test]
fn a_server_that_did_not_sign_the_certificate_refuses_it() {
    let dept = Department::setup("refill-other");
    let path = dept.dir.path("citizen").join("wallet.ecw");
    wallet(&path, &["init"]).ok();
    let id = wallet_id(&path);
    let claims = dept.write("c.json", NCR_JSON);
    let package = dept.dir.path("c.ecp");
    issue("no-criminal-record", &claims, &id)
        .args(&["--copies", "2"])
        .out(&package)
        .run(&dept.home)
        .ok();
    wallet(&path, &["receive", package.to_str().unwrap()]).ok();

    // Another department's server (another key) did not sign it.
    let other = Department::setup("refill-other-dept");
    let server = serve(&other.home);
    let err = wallet(&path, &["refill", "--from", &server.url]).fails_with(13);
    assert!(err.contains("not one this department signed"), "{err}");
    assert!(files_in(&other.home.join("refills").join("pending")).is_empty());
    // A mistyped server address fails before anything is asked.
    let run = wallet(&path, &["refill", "--from", "not a url"]);
    assert!(!run.success());
    assert!(!run.all().contains("panicked"), "{}", run.all());
}

/// The department's key, opened with its passphrase as the tool does.
fn department_key(s: &Department) -> IssuerKey {
    let sealed = std::fs::read(s.home.join("key.eck")).unwrap();
    let seed = ecert_sealed::open_secret(*b"ECK1", &sealed, &Zeroizing::new(PASSPHRASE.to_owned()))
        .unwrap();
    let seed: [u8; 32] = seed[..].try_into().unwrap();
    IssuerKey::from_seed(IssuerId::new("justice").unwrap(), &Zeroizing::new(seed))
}

#[test]
fn a_certificate_of_the_older_format_is_upgraded_to_one_time_copies() {
    let dept = Department::setup("refill-upgrade");
    let path = dept.dir.path("citizen").join("wallet.ecw");
    wallet(&path, &["init"]).ok();
    let holder = PublicKeyBytes::from_hex(&wallet_id(&path)).unwrap();

    // A certificate issued whole (format 1) before copies, anchored and recorded.
    let key = department_key(&dept);
    let claims: Claims =
        serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(NCR_JSON)
            .unwrap()
            .into_iter()
            .map(|(k, v)| (k, FieldValue::Text(v.as_str().unwrap().to_owned())))
            .collect();
    let issued_at = now();
    let request = CertificateRequest {
        kind: KindId::new("no-criminal-record").unwrap(),
        claims,
        holder,
        valid_from: issued_at,
        expires: issued_at.plus(90 * 86_400),
        status_index: StatusIndex(0),
    };
    let kinds = KindRegistry::builtin().unwrap();
    let whole = ecert_issuer::issue(&key, &kinds, &request, issued_at, &mut OsRng).unwrap();
    let batch = Batch::new(&key, vec![whole]).unwrap();
    let tx = batch
        .anchor_transaction(&key, &dept.node.chain_id())
        .unwrap();
    let Ok(TxOutcome::Anchored { batch_seq }) = dept.node.apply(&Transaction::AnchorBatch(tx))
    else {
        panic!("not anchored");
    };
    let batch = SignedBatch::Whole(batch);
    let package = batch.package_bytes(0, batch_seq).unwrap().unwrap();
    let mut record = batch_file(&batch, &[], &key, issued_at).unwrap();
    record.state = BatchState::Anchored;
    record.batch_seq = Some(batch_seq);
    std::fs::write(
        dept.home
            .join("batches")
            .join(format!("{}.json", record.root.to_hex())),
        serde_json::to_vec_pretty(&record).unwrap(),
    )
    .unwrap();
    std::fs::write(dept.home.join("next-status-index"), "1\n").unwrap();
    let file = dept.dir.path("whole.ecp");
    std::fs::write(&file, &package).unwrap();
    wallet(&path, &["receive", file.to_str().unwrap()]).ok();
    let id = Certificate::from_bytes(
        &CertificatePackage::from_bytes(&package)
            .unwrap()
            .certificate,
    )
    .unwrap()
    .claims
    .id;
    let short: String = id.to_hex().chars().take(8).collect();

    // Without naming it, the wallet asks for it as copies; the department issues them.
    let server = serve(&dept.home);
    let out = wallet(&path, &["refill", "--from", &server.url]).ok();
    assert!(out.contains("older format"), "{out}");
    std::thread::sleep(Duration::from_millis(1100));
    dept.run(&["refill", "--min-requests", "1", "--copies", "3"])
        .ok();
    let out = wallet(&path, &["refill", "--from", &server.url, &short]).ok();
    assert!(out.contains("Replaced with a new issue"), "{out}");
    let list = wallet(&path, &["list"]).ok();
    assert!(
        list.contains(&short) && list.contains("copies left: 3 of 3"),
        "{list}"
    );
    // One certificate in the register; revoking it revokes the whole one's index too.
    let out = dept
        .run(&["revoke", "--cert", &short, "--reason", "withdrawn"])
        .ok();
    assert!(out.contains("all 4 copies of its 2 issues"), "{out}");
}

//! `ecert-issuer issue` killed with SIGKILL at the two places that matter, then finished
//! with `issue --resume`, against the test kit's fake ledger node (the real ledger state
//! machine, every block certified by four validators):
//!
//! - after its batch is certified on the ledger, while the package files are being
//!   written;
//! - while batches are being signed and the first one's anchor transaction is on its way
//!   to the ledger (held at a gate in front of the node), whether that transaction then
//!   reaches the ledger after the crash or never does.
//!
//! After `--resume`: every row's certificate delivered exactly once, under its row's
//! file name, with the bytes it had before the crash (the same one-time copies, in the
//! same places of the same batch); every copy of every package proven against the
//! ledger's certified receipt of its batch; no status index used twice, across all
//! batches; no spool or job left; the register (`list`, `audit`) agreeing with the
//! ledger. And while a job is pending, a plain `issue` is refused, saying what to do.
// Test code: a failed unwrap is a failed test, with its message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ecert_issuer::home::Home;
use ecert_issuer::register::BatchState;
use ecert_schemas::copy::{CopyPackage, CopySignedData};
use ecert_schemas::ledger::AnchorReceipt;
use ecert_schemas::{Hash16, Hash32, IssuerId, KeyId, PublicKeyBytes};
use ecert_testkit::http::{Reply, Request, Server};
use ecert_testkit::issuer::{issue_csv, Department};
use ecert_verifier::copy_key::{copy_public_key, field_leaves};
use ecert_verifier::crypto;
use ecert_verifier::merkle16::{copy_leaf, field_root, verify_copy_inclusion};
use ecert_verifier::receipt::verify_anchor_receipt;
use ed25519_dalek::SigningKey;
use rand_core::OsRng;

const NCR: &str = "no-criminal-record";
/// Longest a test waits for the state it wants to observe.
const PATIENCE: Duration = Duration::from_secs(120);

/// A CSV file of `n` rows for new holders; their wallet IDs, in row order.
fn write_csv(s: &Department, name: &str, n: usize) -> (PathBuf, Vec<PublicKeyBytes>) {
    let mut csv = String::from("holder,name,id_number,purpose,result,checked_through\n");
    let mut holders = Vec::with_capacity(n);
    for i in 0..n {
        let key = crypto::public_key(&SigningKey::generate(&mut OsRng));
        csv.push_str(&format!(
            "{},Person {i},110108199003070016,employment,no-record,2026-01-31\n",
            key.to_hex()
        ));
        holders.push(key);
    }
    (s.write(name, &csv), holders)
}

/// The package file name of spreadsheet row `row` (the header is row 1).
fn package_name(row: usize, holder: &PublicKeyBytes) -> String {
    format!("row{row:04}-{}.ecp", &holder.to_hex()[..8])
}

/// Starts `issue --csv FILE --out-dir OUT [--batch-size N]` in the background, its output
/// discarded (a full pipe must not stop it).
fn spawn_issue(s: &Department, csv: &Path, out: &Path, batch_size: Option<usize>) -> Child {
    let mut issue = issue_csv(NCR, csv).out_dir(out);
    if let Some(n) = batch_size {
        issue = issue.arg("--batch-size").arg(&n.to_string());
    }
    let mut cmd = issue.cmd(&s.home);
    cmd.command()
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn kill(child: &mut Child) {
    // SIGKILL: no destructor, no flush, nothing of the process's own runs.
    let _ = child.kill();
    let _ = child.wait();
}

fn count_files(dir: &Path, extension: &str) -> usize {
    match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == extension))
            .count(),
        Err(_) => 0,
    }
}

fn spools(home: &Path) -> usize {
    count_files(&home.join("issuing"), "spool")
}

/// Every file of `dir`, by name, with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries {
            let entry = entry.unwrap();
            out.insert(
                entry.file_name().to_string_lossy().into_owned(),
                std::fs::read(entry.path()).unwrap(),
            );
        }
    }
    out
}

/// One HTTP/1.1 request to `base` (`http://127.0.0.1:PORT`), the whole answer read.
fn http(base: &str, method: &str, target: &str, body: &[u8]) -> Reply {
    let answer =
        ecert_testkit::http::request_with_body(method, &format!("{base}{target}"), &[], body);
    let content_type = match answer.header("content-type") {
        Some(t) if t.contains("application/json") => "application/json",
        _ => "application/cbor",
    };
    Reply::with(answer.status, content_type, answer.body)
}

/// The next status index the home hands out (0 while it cannot be read).
fn next_status_index(home: &Path) -> u32 {
    std::fs::read_to_string(home.join("next-status-index"))
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(0)
}

/// A gate in front of the fake node: anchor transactions wait there while it is closed;
/// everything else goes straight through.
struct Gate {
    url: String,
    _server: Server,
    open: Arc<AtomicBool>,
    /// What a held transaction does when released: go on to the node, or be dropped.
    forward: Arc<AtomicBool>,
    held: Arc<AtomicUsize>,
}

impl Gate {
    fn closed(node_url: &str) -> Gate {
        let open = Arc::new(AtomicBool::new(false));
        let forward = Arc::new(AtomicBool::new(true));
        let held = Arc::new(AtomicUsize::new(0));
        let node = node_url.to_owned();
        let (o, f, h) = (Arc::clone(&open), Arc::clone(&forward), Arc::clone(&held));
        let server = Server::start(move |r: &Request| {
            if r.method == "POST" && r.path() == "/v1/transactions" && !o.load(Ordering::SeqCst) {
                h.fetch_add(1, Ordering::SeqCst);
                while !o.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(2));
                }
                if !f.load(Ordering::SeqCst) {
                    return Reply::error(503, "no-quorum", "dropped at the gate");
                }
            }
            http(&node, &r.method, &r.target, &r.body)
        });
        Gate {
            url: server.url.clone(),
            _server: server,
            open,
            forward,
            held,
        }
    }

    /// Opens the gate; a transaction held there goes on to the node if `forward`.
    fn open(&self, forward: bool) {
        self.forward.store(forward, Ordering::SeqCst);
        self.open.store(true, Ordering::SeqCst);
    }
}

/// Waits until `done` holds (checked every few milliseconds), or panics saying `what`.
fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < PATIENCE, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// The leaf of copy `k` of `package`, issued by `issuer` with key `key_id` to the wallet
/// `holder`: rebuilt from the package alone, as a counter would from a presentation.
fn copy_leaf_of(
    package: &CopyPackage,
    k: usize,
    issuer: &IssuerId,
    key_id: KeyId,
    holder: &PublicKeyBytes,
) -> Hash16 {
    let copy = &package.copies[k];
    let signed = CopySignedData {
        issuer: issuer.clone(),
        key_id,
        kind: package.kind.clone(),
        issued_at: package.issued_at,
        valid_from: package.valid_from,
        expires: package.expires,
        status_index: copy.status_index,
        holder: copy_public_key(holder, &copy.secret).unwrap(),
        field_root: field_root(&field_leaves(&package.fields, &copy.secret).unwrap()).unwrap(),
    };
    copy_leaf(&signed.to_bytes().unwrap(), &copy.signature.0)
}

/// Everything an `issue` of `holders` into `out` must have left once finished: checked
/// against the ledger's certified receipts and the department's register.
fn assert_delivered_once(s: &Department, out: &Path, holders: &[PublicKeyBytes]) {
    let home = Home::at(s.home.clone());
    assert_eq!(spools(&s.home), 0, "no spool left");
    assert!(
        !s.home.join("issuing").join("job.json").exists(),
        "no job left"
    );
    let anchor = s.node.trust_anchor();

    // The register: every batch anchored, every certificate once, every status index once.
    let batches = home.batches().unwrap();
    let mut by_file = BTreeMap::new();
    let mut indexes = BTreeSet::new();
    let mut ids = BTreeSet::new();
    for batch in &batches {
        assert_eq!(batch.state, BatchState::Anchored, "{:?}", batch.detail);
        for c in &batch.certificates {
            assert_eq!(c.status_indexes().len(), 30, "30 copies each");
            for index in c.status_indexes() {
                assert!(indexes.insert(*index), "status index {index} reused");
            }
            assert!(ids.insert(c.id), "certificate recorded twice");
            let file = c.package_file.clone().expect("a package file recorded");
            assert!(
                by_file.insert(file, c.clone()).is_none(),
                "file recorded twice"
            );
        }
    }
    assert_eq!(ids.len(), holders.len(), "one certificate per row");

    // The ledger: exactly the register's batches, each once.
    let on_ledger = s.node.anchors();
    let roots: BTreeSet<Hash32> = on_ledger.iter().map(|r| r.batch_root).collect();
    assert_eq!(roots.len(), on_ledger.len(), "a batch anchored twice");
    assert_eq!(
        roots,
        batches.iter().map(|b| b.root).collect(),
        "the ledger's batches are the register's"
    );

    // The files: one per row, named by its row, nothing else.
    let files = snapshot(out);
    assert_eq!(files.len(), holders.len(), "one file per row, no other");
    let mut receipts = BTreeMap::new();
    let mut places = BTreeSet::new();
    for (i, holder) in holders.iter().enumerate() {
        let name = package_name(i + 2, holder);
        let bytes = files.get(&name).unwrap_or_else(|| panic!("{name} missing"));
        let package = CopyPackage::from_bytes(bytes).unwrap();
        let record = by_file
            .get(out.join(&name).to_str().unwrap())
            .unwrap_or_else(|| panic!("{name} is not in the register"));
        assert_eq!(record.id, package.id);
        assert_eq!(record.holder, *holder);
        let delivered: Vec<u32> = package.copies.iter().map(|c| c.status_index.0).collect();
        assert_eq!(record.status_indexes(), delivered);
        // Every copy's place, against the ledger's certified receipt of its batch.
        let seq = package.copies[0].batch_seq;
        let verified = receipts.entry(seq).or_insert_with(|| {
            let root = on_ledger[seq as usize].batch_root;
            let reply = http(
                &s.node.url,
                "GET",
                &format!("/v1/anchors/{}", root.to_hex()),
                b"",
            );
            assert_eq!(
                reply.status,
                200,
                "{}",
                String::from_utf8_lossy(&reply.body)
            );
            let receipt = AnchorReceipt::from_bytes(&reply.body).unwrap();
            verify_anchor_receipt(&receipt, &anchor).unwrap()
        });
        assert_eq!(verified.batch_seq, seq);
        for (k, copy) in package.copies.iter().enumerate() {
            assert_eq!(copy.batch_seq, seq, "{name}: its copies are in one batch");
            assert!(places.insert((seq, copy.leaf_index)), "a place given twice");
            let leaf = copy_leaf_of(
                &package,
                k,
                &verified.record.issuer,
                verified.record.key_id,
                holder,
            );
            assert!(
                verify_copy_inclusion(
                    &leaf,
                    copy.leaf_index,
                    verified.record.count,
                    &copy.path,
                    &verified.record.batch_root,
                ),
                "{name}: copy {k}'s anchor proof does not lead to its batch's certified root"
            );
        }
    }
    let leaves: u64 = receipts.values().map(|v| v.record.count).sum();
    assert_eq!(
        places.len() as u64,
        leaves,
        "every leaf is a delivered copy"
    );

    // What the operator sees.
    let list = s.run(&["list"]).ok();
    assert!(
        list.contains(&format!("{} certificate(s).", holders.len())),
        "{list}"
    );
    let audit = s.run(&["audit"]).ok();
    assert!(audit.contains("All in order"), "{audit}");
}

/// Files present before `--resume` are rewritten with the same bytes (a file the crash
/// cut short is completed, never changed).
fn assert_same_bytes(before: &BTreeMap<String, Vec<u8>>, out: &Path) -> usize {
    let after = snapshot(out);
    let mut whole = 0;
    for (name, bytes) in before {
        let now = after
            .get(name)
            .unwrap_or_else(|| panic!("{name} disappeared"));
        assert!(now.starts_with(bytes), "{name} changed on --resume");
        whole += usize::from(now == bytes);
    }
    whole
}

#[test]
fn killed_while_delivering_an_anchored_batch_resumes_with_the_same_files() {
    // One batch of a thousand rows or more (30 copies each): the process is killed as
    // soon as its first package file appears, that is after the node certified the batch
    // and before the batch is recorded as delivered. If the whole batch got through before
    // the kill landed (nothing left to resume), again with more rows.
    let mut rows = 1_000;
    for attempt in 0.. {
        assert!(
            attempt < 4,
            "never caught an issue in the middle of delivering"
        );
        let s = Department::setup(&format!("resume-delivery-{attempt}"));
        let (csv, holders) = write_csv(&s, "big.csv", rows);
        let out = s.dir.path("delivered");
        let mut child = spawn_issue(&s, &csv, &out, None);
        let mut exited = false;
        wait_for("the first package file", || {
            exited = child.try_wait().unwrap().is_some();
            exited || count_files(&out, "ecp") > 0
        });
        kill(&mut child);
        if exited || spools(&s.home) == 0 {
            rows *= 2;
            continue;
        }
        // Killed after anchoring, before the batch was recorded delivered.
        assert_eq!(s.node.anchors().len(), 1, "the batch is on the ledger");
        let before = snapshot(&out);
        eprintln!(
            "killed with {} of {rows} package files written (attempt {attempt})",
            before.len()
        );
        assert!(!before.is_empty() && before.len() <= rows);
        let record = Home::at(s.home.clone()).batches().unwrap();
        assert_eq!(record.len(), 1);
        assert_eq!(record[0].state, BatchState::Submitted);

        // A new command is refused while this one is unfinished.
        let (other, _) = write_csv(&s, "other.csv", 2);
        let err = issue_csv(NCR, &other)
            .out_dir(&s.dir.path("other"))
            .run(&s.home)
            .fails_with(3);
        assert!(err.contains("issue --resume"), "{err}");
        assert!(err.contains("interrupted"), "{err}");

        let out_text = s.run(&["issue", "--resume"]).ok();
        assert!(out_text.contains(&format!("Issued {rows}")), "{out_text}");
        assert_eq!(
            s.node.received().len(),
            1,
            "the certified batch is not sent again"
        );
        let whole = assert_same_bytes(&before, &out);
        // Packages are written by one thread a core: at most one file each was cut short
        // by the kill (and `--resume` rewrote it whole, as the byte check above shows).
        let writers = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert!(
            whole + writers >= before.len(),
            "{} of {} files were cut short",
            before.len() - whole,
            before.len()
        );
        assert_delivered_once(&s, &out, &holders);
        // Nothing pending any more: a new command goes through.
        issue_csv(NCR, &other)
            .out_dir(&s.dir.path("other"))
            .run(&s.home)
            .ok();
        return;
    }
}

/// Several batches are signed while the first one's anchor transaction is held at the
/// gate; the process is killed there. The held transaction then reaches the ledger
/// (`reaches_ledger`: the crash came after sending) or never does.
fn killed_while_signing(reaches_ledger: bool) {
    let name = format!("resume-signing-{reaches_ledger}");
    let s = Department::setup(&name);
    let gate = Gate::closed(&s.node.url);
    s.run(&["config", "--node", &gate.url]).ok();
    let batch = 400;
    let rows = batch * 5 + 123;
    let (csv, holders) = write_csv(&s, "big.csv", rows);
    let out = s.dir.path("delivered");
    let mut child = spawn_issue(&s, &csv, &out, Some(batch));
    // The first batch is spooled and sent (and held at the gate); the second waits for the
    // first to be anchored; the third has its status indexes reserved and is being signed
    // (or is signed and waiting too).
    wait_for("the first anchor transaction", || {
        gate.held.load(Ordering::SeqCst) > 0
    });
    assert!(spools(&s.home) >= 1, "a batch is spooled before it is sent");
    let copies = 30;
    wait_for("the third batch's status indexes", || {
        next_status_index(&s.home) >= 3 * (batch * copies) as u32
    });
    kill(&mut child);
    let reserved = next_status_index(&s.home);
    let spooled: BTreeSet<String> = snapshot(&s.home.join("issuing"))
        .into_keys()
        .filter_map(|n| n.strip_suffix(".spool").map(str::to_owned))
        .collect();
    assert!(!spooled.is_empty());
    eprintln!(
        "killed with {} batch(es) spooled, {reserved} status indexes reserved",
        spooled.len()
    );
    assert!(reserved as usize >= spooled.len() * batch * copies);
    assert_eq!(
        count_files(&out, "ecp"),
        0,
        "nothing delivered before anchoring"
    );
    gate.open(reaches_ledger);
    if reaches_ledger {
        wait_for("the held transaction to be certified", || {
            s.node.anchors().len() == 1
        });
    }

    // A new command is refused, with what to do.
    let (other, _) = write_csv(&s, "other.csv", 1);
    let err = issue_csv(NCR, &other)
        .out_dir(&s.dir.path("other"))
        .run(&s.home)
        .fails_with(3);
    assert!(
        err.contains("interrupted") && err.contains("ecert-issuer issue --resume"),
        "{err}"
    );

    let text = s.run(&["issue", "--resume"]).ok();
    assert!(text.contains("Issued"), "{text}");
    assert_delivered_once(&s, &out, &holders);
    let batches = Home::at(s.home.clone()).batches().unwrap();
    assert_eq!(batches.len(), rows.div_ceil(batch));
    // Indexes reserved for a batch that was being signed when the process died are never
    // handed out: the batches signed by `--resume` come after them.
    for b in &batches {
        if !spooled.contains(&b.root.to_hex()) {
            assert!(
                b.certificates
                    .iter()
                    .all(|c| c.status_indexes().iter().all(|i| *i >= reserved)),
                "a status index reserved before the crash was handed out again"
            );
        }
    }
    // Each batch reached the ledger once: the one sent before the crash is not sent again
    // if the ledger has it.
    assert_eq!(s.node.anchors().len(), batches.len());
    assert_eq!(
        s.node.received().len(),
        batches.len(),
        "an anchor transaction was sent twice"
    );
    // The resumed command is finished: `--resume` again has nothing to do.
    let err = s.run(&["issue", "--resume"]).fails_with(3);
    assert!(err.contains("no interrupted"), "{err}");
}

#[test]
fn killed_while_signing_before_the_ledger_has_the_batch() {
    killed_while_signing(false);
}

#[test]
fn killed_after_sending_the_ledger_certifies_it_and_resume_does_not_send_it_again() {
    killed_while_signing(true);
}

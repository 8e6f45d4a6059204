//! `ecert-issuer issue`, `revoke`, `rotate-key` and `refill` killed with SIGKILL at their write
//! points (the test-only crash points of `ecert_shell::crash_points`: before each durable
//! write, half-written, written but not in place, in place before the folder is flushed,
//! before each removal and each file-system flush) and at random moments, against the
//! test kit's fake ledger node; then the command the tool asks for is run, and:
//!
//! - no status index is used twice, across every batch of the home;
//! - every certificate of the input is in the register and its batch on the ledger
//!   exactly once; every package file parses and is the register's (its one-time
//!   copies' status indexes those the register keeps);
//! - a package file written before the crash is, after recovery, the same bytes (one the
//!   crash cut short is completed, never changed): the spool rebuilds the same batch;
//! - every file of the home parses, and no temporary file is left in `issuing/`;
//! - the next command either finishes the work or says exactly what to run.
//!
//! A full disk (a small tmpfs) during `issue`: a clear message, nothing lost, and after
//! space is freed the command the message names finishes it.
//!
//! The CI form issues 120 rows in batches of 50 and tries a sample of the write points;
//! the full form is `issue_of_10_000_rows_killed_at_write_points`, ignored by default:
//! `cargo test -p ecert-issuer --all-features --release --test crash -- --ignored`
//! (`ECERT_CRASH_POINTS=N` sets how many of its points are tried, 200 by default).
// Test code: a failed unwrap is a failed test, with its message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use ecert_issuer::home::Home;
use ecert_issuer::refill::{RefillAnswer, RefillDesk};
use ecert_issuer::register::BatchState;
use ecert_schemas::codec::{from_cbor, to_cbor};
use ecert_schemas::copy::CopyPackage;
use ecert_schemas::ledger::GovernanceBody;
use ecert_schemas::{Hash32, PublicKeyBytes};
use ecert_testkit::crash::{self, Dice, Tmpfs};
use ecert_testkit::issuer::{cmd, issue_csv, Department};
use ecert_testkit::Cmd;
use ecert_verifier::crypto;
use ecert_verifier::refill::sign_refill;
use ed25519_dalek::SigningKey;
use rand_core::OsRng;

const NCR: &str = "no-criminal-record";

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

/// One `issue --csv` of new rows into a new folder.
struct Run {
    csv: PathBuf,
    out: PathBuf,
    holders: Vec<PublicKeyBytes>,
    batch: usize,
}

impl Run {
    fn new(s: &Department, name: &str, rows: usize, batch: usize) -> Run {
        let (csv, holders) = write_csv(s, &format!("{name}.csv"), rows);
        Run {
            csv,
            out: s.dir.path(&format!("{name}-out")),
            holders,
            batch,
        }
    }

    fn cmd(&self, s: &Department) -> Cmd {
        issue_csv(NCR, &self.csv)
            .out_dir(&self.out)
            .arg("--batch-size")
            .arg(&self.batch.to_string())
            .cmd(&s.home)
    }
}

/// After an interrupted `issue`: the same command again, and, when it says so, the
/// command it names. Returns what was run after the first.
fn recover(s: &Department, run: &Run) -> &'static str {
    let again = run.cmd(s).run();
    if again.success() {
        return "the same command";
    }
    let err = again.fails_with(3);
    assert!(
        err.contains("interrupted") && err.contains("'ecert-issuer issue --resume'"),
        "the refusal says what to run: {err}"
    );
    s.run(&["issue", "--resume"]).ok();
    "issue --resume"
}

/// Everything the home, the ledger and `run`'s folder must hold once `run` is finished;
/// `total` is the number of certificates the home issued in all.
fn assert_consistent(s: &Department, run: &Run, total: usize) {
    let home = Home::at(s.home.clone());
    let issuing = s.home.join("issuing");
    let left: Vec<_> = std::fs::read_dir(&issuing)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "issuing/ holds {left:?}");
    let temporaries = crash::temporaries(&s.home);
    assert!(temporaries.is_empty(), "left half-written: {temporaries:?}");

    // The register: every file parses, every batch anchored, every certificate and
    // status index once.
    let batches = home.batches().unwrap();
    let mut indexes = BTreeSet::new();
    let mut ids = BTreeSet::new();
    for b in &batches {
        assert_eq!(b.state, BatchState::Anchored, "{:?}", b.detail);
        for c in &b.certificates {
            for index in c.status_indexes() {
                assert!(indexes.insert(*index), "status index {index} used twice");
            }
            assert!(ids.insert(c.id), "a certificate recorded twice");
        }
    }
    assert_eq!(ids.len(), total, "every certificate in the register");
    assert!(home.next_status_index().unwrap() > *indexes.last().unwrap());
    home.revocations().unwrap();
    home.config().unwrap();

    // The ledger: exactly the register's batches, each once.
    let roots: Vec<Hash32> = s.node.anchors().iter().map(|r| r.batch_root).collect();
    let unique: BTreeSet<Hash32> = roots.iter().copied().collect();
    assert_eq!(unique.len(), roots.len(), "a batch anchored twice");
    assert_eq!(unique, batches.iter().map(|b| b.root).collect());

    // This run's files: one per row, each whole and the register's.
    let by_file: std::collections::BTreeMap<String, _> = batches
        .iter()
        .flat_map(|b| &b.certificates)
        .filter_map(|c| c.package_file.clone().map(|f| (f, c.clone())))
        .collect();
    let files: Vec<PathBuf> = std::fs::read_dir(&run.out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), run.holders.len(), "one file per row, no other");
    for file in files {
        let package = CopyPackage::from_bytes(&std::fs::read(&file).unwrap())
            .unwrap_or_else(|e| panic!("{} is not whole: {e}", file.display()));
        let record = by_file
            .get(file.to_str().unwrap())
            .unwrap_or_else(|| panic!("{} is not in the register", file.display()));
        assert_eq!(record.id, package.id);
        let delivered: Vec<u32> = package.copies.iter().map(|c| c.status_index.0).collect();
        assert_eq!(record.status_indexes(), delivered);
        assert!(run.holders.contains(&record.holder));
    }
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

/// The files in `before` are still in `dir`, each with the same bytes or, if the crash cut
/// it short, completed. How many were there before.
fn assert_same_bytes(before: &BTreeMap<String, Vec<u8>>, dir: &Path) -> usize {
    let after = snapshot(dir);
    for (name, bytes) in before {
        let now = after
            .get(name)
            .unwrap_or_else(|| panic!("{name} disappeared"));
        assert!(now.starts_with(bytes), "{name} changed on recovery");
    }
    before.len()
}

/// Crashes `issue` of `rows` rows at `tries` of its write points, each time recovering as
/// the tool says and checking everything; then `kills` random kills.
fn issue_killed(name: &str, rows: usize, batch: usize, tries: usize, kills: usize) {
    let s = Department::setup(name);
    let mut total = 0;
    let first = Run::new(&s, "count", rows, batch);
    let (done, points) = crash::points(first.cmd(&s), &s.dir);
    done.ok();
    total += rows;
    assert_consistent(&s, &first, total);
    assert!(points.len() > 3 * rows, "too few write points: {points:?}");
    let chosen = crash::sample(points.len(), tries);
    let mut resumed = 0;
    let mut kept = 0;
    for (i, n) in chosen.iter().enumerate() {
        let run = Run::new(&s, &format!("crash-{i}"), rows, batch);
        crash::crash_at(run.cmd(&s), *n);
        let before = snapshot(&run.out);
        resumed += usize::from(recover(&s, &run) == "issue --resume");
        kept += assert_same_bytes(&before, &run.out);
        total += rows;
        assert_consistent(&s, &run, total);
    }
    eprintln!(
        "{name}: {} write points, {} tried ({resumed} finished by --resume, {kept} package \
         files written before a crash delivered again the same)",
        points.len(),
        chosen.len()
    );

    // Random kills, within the time a whole run takes.
    let timing = Run::new(&s, "timing", rows, batch);
    let whole = crash::duration(timing.cmd(&s));
    total += rows;
    assert_consistent(&s, &timing, total);
    let mut dice = Dice::new(name);
    let mut killed = 0;
    for i in 0..kills {
        let run = Run::new(&s, &format!("kill-{i}"), rows, batch);
        let delay = dice.delay(whole);
        let was_killed = crash::kill_after(run.cmd(&s), delay);
        killed += usize::from(was_killed);
        let before = snapshot(&run.out);
        // Killed after its last write, a command has done everything: running it again
        // would find its own files.
        let finished = !s.home.join("issuing/job.json").exists()
            && std::fs::read_dir(&run.out).is_ok_and(|d| d.count() == rows);
        if !finished {
            recover(&s, &run);
        }
        assert_same_bytes(&before, &run.out);
        total += rows;
        assert_consistent(&s, &run, total);
    }
    eprintln!("{name}: {kills} random kills, {killed} landed before the command ended");
}

#[test]
fn issue_killed_at_its_write_points_and_at_random() {
    issue_killed("crash-issue", 120, 50, 30, 6);
}

#[test]
#[ignore = "the full form: 10,000 rows, a few minutes in a release build"]
fn issue_of_10_000_rows_killed_at_write_points() {
    let tries = std::env::var("ECERT_CRASH_POINTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    issue_killed("crash-issue-full", 10_000, 2_500, tries, 20);
}

/// The short id of every certificate in the register.
fn certificate_ids(s: &Department) -> Vec<String> {
    Home::at(s.home.clone())
        .batches()
        .unwrap()
        .iter()
        .flat_map(|b| &b.certificates)
        .map(|c| c.id.to_hex()[..12].to_owned())
        .collect()
}

#[test]
fn revoke_killed_at_its_write_points() {
    let s = Department::setup("crash-revoke");
    let run = Run::new(&s, "certs", 12, 50);
    run.cmd(&s).run().ok();
    let ids = certificate_ids(&s);
    let revoke = |id: &str| cmd(&s.home).args(["revoke", "--cert", id, "--reason", "withdrawn"]);
    let (done, points) = crash::points(revoke(&ids[0]), &s.dir);
    done.ok();
    assert!(!points.is_empty());
    for (n, id) in (1..=points.len()).zip(&ids[1..]) {
        crash::crash_at(revoke(id), n);
        // Run again: it finishes, or (the record was in place) says it is done.
        let again = revoke(id).run();
        if !again.success() {
            let err = again.fails_with(2);
            assert!(err.contains("already revoked"), "{err}");
        }
    }
    let home = Home::at(s.home.clone());
    let revocations = home.revocations().unwrap();
    let mut recorded = BTreeSet::new();
    let mut indexes = BTreeSet::new();
    for r in &revocations {
        for e in &r.entries {
            assert!(recorded.insert(e.id), "revocation recorded twice");
            assert_eq!(e.status_indexes.len(), 30, "every copy revoked");
            indexes.extend(e.status_indexes.iter().copied());
        }
    }
    assert_eq!(indexes.len(), 30 * recorded.len());
    assert_eq!(
        recorded.len(),
        points.len() + 1,
        "every revocation recorded"
    );
    let list = s.run(&["list", "--revoked"]).ok();
    assert!(
        list.contains(&format!("{} certificate(s)", points.len() + 1)),
        "{list}"
    );
    let audit = s.run(&["audit"]).ok();
    assert!(audit.contains("All in order"), "{audit}");
    eprintln!("revoke: {} write points, all tried", points.len());
}

/// Wallets' refill requests for the certificates of `keys` (issued into `out` as one-time
/// copies), queued as the offer endpoint queues them; their certificates' ids and issue
/// times.
fn queue_refills(
    s: &Department,
    out: &Path,
    keys: &[SigningKey],
) -> Vec<(ecert_schemas::CertificateId, ecert_schemas::UnixTime)> {
    let desk = RefillDesk::new(
        ecert_schemas::IssuerId::new("justice").unwrap(),
        s.home.clone(),
    );
    let now = ecert_testkit::now();
    let files: Vec<PathBuf> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    keys.iter()
        .map(|key| {
            let short: String = crypto::public_key(key).to_hex().chars().take(8).collect();
            let file = files
                .iter()
                .find(|f| f.to_string_lossy().contains(&short))
                .unwrap();
            let package = CopyPackage::from_bytes(&std::fs::read(file).unwrap()).unwrap();
            let request = sign_refill(key, &package, 0, now).unwrap();
            let answer = desk.answer(&request.to_bytes().unwrap(), now).unwrap();
            assert_eq!(answer, RefillAnswer::Queued { id: package.id });
            (package.id, package.issued_at)
        })
        .collect()
}

/// Every queued certificate of `asked` has its new copies waiting, issued later, and
/// nothing is left queued.
fn assert_refilled(
    s: &Department,
    asked: &[(ecert_schemas::CertificateId, ecert_schemas::UnixTime)],
) {
    let refills = s.home.join("refills");
    for (id, issued_at) in asked {
        let ready = refills.join("ready").join(format!("{}.ecp", id.to_hex()));
        let package = CopyPackage::from_bytes(&std::fs::read(&ready).unwrap()).unwrap();
        assert_eq!(&package.id, id);
        assert!(package.issued_at > *issued_at);
        assert_eq!(package.copies.len(), 2);
    }
    let pending: Vec<_> = std::fs::read_dir(refills.join("pending"))
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    assert!(pending.is_empty(), "left queued: {pending:?}");
}

#[test]
fn refill_killed_at_its_write_points() {
    // A sample of the points (ECERT_CRASH_POINTS sets how many).
    let tries: usize = std::env::var("ECERT_CRASH_POINTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6);
    let s = Department::setup("crash-refill");
    // Three certificates for each try, issued once as two copies each.
    let keys: Vec<SigningKey> = (0..3 * (tries + 1))
        .map(|_| SigningKey::generate(&mut OsRng))
        .collect();
    let mut csv = String::from("holder,name,id_number,purpose,result,checked_through\n");
    for (i, key) in keys.iter().enumerate() {
        csv.push_str(&format!(
            "{},Person {i},110108199003070016,employment,no-record,2026-01-31\n",
            crypto::public_key(key).to_hex()
        ));
    }
    let out = s.dir.path("refill-out");
    issue_csv(NCR, &s.write("refill.csv", &csv))
        .out_dir(&out)
        .args(&["--copies", "2"])
        .run(&s.home)
        .ok();
    // New copies are issued a second or more after the first ones.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let refill = || cmd(&s.home).args(["refill", "--min-requests", "1", "--copies", "2"]);
    let mut groups = keys.chunks(3);

    let asked = queue_refills(&s, &out, groups.next().unwrap());
    let (done, points) = crash::points(refill(), &s.dir);
    done.ok();
    assert!(!points.is_empty());
    assert_refilled(&s, &asked);
    for (n, group) in crash::sample(points.len(), tries).into_iter().zip(groups) {
        let asked = queue_refills(&s, &out, group);
        crash::crash_at(refill(), n);
        // Run again: it finishes, or says to finish the interrupted issue first.
        let again = refill().run();
        if !again.success() {
            let err = again.fails_with(3);
            assert!(err.contains("'ecert-issuer issue --resume'"), "{err}");
            s.run(&["issue", "--resume"]).ok();
            refill().run().ok();
        }
        assert_refilled(&s, &asked);
    }
    // No status index handed out twice, over every batch of the home.
    let mut indexes = BTreeSet::new();
    for batch in Home::at(s.home.clone()).batches().unwrap() {
        for c in &batch.certificates {
            for index in c.status_indexes() {
                assert!(indexes.insert(*index), "status index {index} used twice");
            }
        }
    }
    let audit = s.run(&["audit"]).ok();
    assert!(audit.contains("All in order"), "{audit}");
    eprintln!(
        "refill: {} write points, {} tried",
        points.len(),
        tries.min(points.len())
    );
}

/// The department's current public key, by `ecert-issuer key`.
fn current_key(s: &Department) -> String {
    s.run(&["key"]).ok().trim().to_owned()
}

#[test]
fn rotate_key_killed_at_its_write_points() {
    let s = Department::setup("crash-rotate");
    let propose = |out: &Path| {
        cmd(&s.home).args([
            "rotate-key",
            "--start-in",
            "60",
            "--out",
            out.to_str().unwrap(),
        ])
    };
    let submit = |proposal: &Path| {
        let body: GovernanceBody =
            from_cbor("proposal", &std::fs::read(proposal).unwrap()).unwrap();
        let mut args = vec![
            "rotate-key".to_owned(),
            "--submit".to_owned(),
            proposal.to_str().unwrap().to_owned(),
            "--approvals".to_owned(),
        ];
        for i in 0..3 {
            let a =
                ecert_ledger_node::governance::approve(&s.node.validator_key(i), i as u16, &body)
                    .unwrap();
            let file = s
                .dir
                .write(&format!("approval-{i}.cbor"), to_cbor(&a).unwrap());
            args.push(file.to_str().unwrap().to_owned());
        }
        cmd(&s.home).args(args)
    };
    // Certified, and made due now (the ledger's own time is not changed: the switch is
    // done by the next command that unlocks the key, here the next proposal).
    let make_due = || {
        std::fs::write(s.home.join("pending-rotation.certified"), "1\n").unwrap();
    };

    // A first rotation, counting the points of a proposal that switches keys first, and
    // of a submission.
    let p0 = s.dir.path("p0.cbor");
    propose(&p0).run().ok();
    let (done, submit_points) = crash::points(submit(&p0), &s.dir);
    assert!(done.ok().contains("certified the key rotation"));
    make_due();
    let mut old_sealed = std::fs::read(s.home.join("key.eck")).unwrap();
    let mut old_public = current_key(&s);
    let p1 = s.dir.path("p1.cbor");
    let (done, propose_points) = crash::points(propose(&p1), &s.dir);
    done.ok();
    let promoted = |old_public: &str, old_sealed: &[u8]| {
        let id = ecert_schemas::KeyId::of(&PublicKeyBytes::from_hex(old_public).unwrap());
        let retired = s.home.join(format!("retired-keys/{}.eck", id.to_hex()));
        assert_eq!(
            std::fs::read(&retired).unwrap(),
            old_sealed,
            "the retired copy is the old key"
        );
        assert_ne!(current_key(&s), old_public, "the new key took over");
        assert!(
            !s.home.join("pending-rotation.certified").exists(),
            "a new rotation is not certified"
        );
    };
    promoted(&old_public, &old_sealed);
    let mut proposal = p1;
    let rounds = propose_points.len().max(submit_points.len());
    for n in 1..=rounds {
        // Submit the pending proposal, killed at point n.
        if n <= submit_points.len() {
            crash::crash_at(submit(&proposal), n);
        }
        let out = submit(&proposal).run().ok();
        assert!(
            out.contains("certified the key rotation") || out.contains("already certified"),
            "{out}"
        );
        make_due();
        old_sealed = std::fs::read(s.home.join("key.eck")).unwrap();
        old_public = current_key(&s);

        // The next proposal (which first switches to the certified key), killed at n.
        let next = s.dir.path(&format!("p{}.cbor", n + 1));
        if n <= propose_points.len() {
            crash::crash_at(propose(&next), n);
        }
        let again = propose(&next).run();
        proposal = if again.success() {
            next
        } else {
            let err = again.fails_with(3);
            let kept = s.home.join("pending-rotation.cbor");
            assert!(
                err.contains(&format!("rotate-key --submit {}", kept.display())),
                "the refusal says what to run: {err}"
            );
            kept
        };
        promoted(&old_public, &old_sealed);
    }
    eprintln!(
        "rotate-key: {} write points of --submit, {} of a proposal that switches keys, all \
         tried",
        submit_points.len(),
        propose_points.len()
    );
}

#[test]
fn issue_on_a_full_disk_says_so_and_loses_nothing() {
    let Some(disk) = Tmpfs::mount("issuer-full-disk", 512) else {
        return;
    };
    let s = Department::setup("crash-full-disk");
    // A first issue before the disk fills: what it recorded must survive.
    let first = Run::new(&s, "before", 3, 50);
    first.cmd(&s).run().ok();
    // The home moves to the small disk.
    let home = disk.dir().join("home");
    crash::copy_dir(&s.home, &home);
    let moved = Department {
        dir: ecert_testkit::Scratch::new("crash-full-disk-files"),
        home: home.clone(),
        node: s.node,
    };
    let before = Home::at(home.clone()).batches().unwrap();
    let run = Run::new(&moved, "full", 60, 50);
    let filler = disk.fill(24 * 1024);
    let err = run.cmd(&moved).run().fails_with(1);
    assert!(err.contains("the disk is full"), "{err}");
    assert!(
        err.contains("'ecert-issuer issue --resume'") || err.contains("run the same command"),
        "{err}"
    );
    assert_eq!(
        Home::at(home.clone()).batches().unwrap()[..before.len()],
        before[..],
        "nothing recorded before is lost"
    );
    std::fs::remove_file(filler).unwrap();
    if err.contains("--resume") {
        moved.run(&["issue", "--resume"]).ok();
    } else {
        run.cmd(&moved).run().ok();
    }
    assert_consistent(&moved, &run, 63);
}

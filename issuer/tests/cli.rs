//! The `ecert-issuer` binary, end to end, against the test kit's fake ledger node: the
//! real ledger state machine behind the documented node API (`docs/api.md`), every block
//! certified with four validators' votes.
// Test fixtures outside #[test] functions: a failure is a test failure.
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

use std::collections::BTreeSet;

use ecert_issuer::{Batch, CertificateRequest};
use ecert_schemas::codec::to_cbor;
use ecert_schemas::copy::{CopyPackage, DEFAULT_COPIES};
use ecert_schemas::ledger::Transaction;
use ecert_schemas::{
    FieldValue, Hash32, KindId, KindRegistry, OfferRedemption, PublicKeyBytes, StatusIndex,
};
use ecert_testkit::issuer::{self, issue, issue_csv, Department, Issue, PASSPHRASE};
use ecert_testkit::tls::TestCa;
use ecert_testkit::{now, sample, Lie, Scratch};
use ecert_verifier::crypto::{self, SigningContext};
use ed25519_dalek::SigningKey;
use rand_core::OsRng;

const NCR: &str = "no-criminal-record";

fn holder() -> SigningKey {
    SigningKey::generate(&mut OsRng)
}

fn holder_hex(key: &SigningKey) -> String {
    crypto::public_key(key).to_hex()
}

const NCR_JSON: &str = r#"{"name": "王芳", "id_number": "110108199003070016",
  "purpose": "visa", "result": "no-record", "checked_through": "2026-01-31"}"#;

/// `issue --kind no-criminal-record` of [`NCR_JSON`], written to `c.json` in the
/// department's scratch folder, to `holder`.
fn issue_json(s: &Department, holder: &SigningKey) -> Issue {
    issue(NCR, &s.write("c.json", NCR_JSON), &holder_hex(holder))
}

/// Issues [`NCR_JSON`] to `holder` with `more` options into the file `c.ecp` in the
/// department's scratch folder, which must succeed: what the tool printed, and the file.
fn issue_to_file(s: &Department, holder: &SigningKey, more: &[&str]) -> (String, PathBuf) {
    let file = s.dir.path("c.ecp");
    let out = issue_json(s, holder)
        .args(more)
        .out(&file)
        .run(&s.home)
        .ok();
    (out, file)
}

const NCR_TOML: &str = "name = \"李娜\"\nid_number = \"110108199003070016\"\n\
purpose = \"employment\"\nresult = \"no-record\"\nchecked_through = \"2026-02-28\"\n";

fn read_package(path: &Path) -> CopyPackage {
    CopyPackage::from_bytes(&std::fs::read(path).unwrap()).unwrap()
}

/// What a counter synced with the fake ledger says of copy `copy` of `package` presented
/// by `holder`'s wallet.
fn counter_verdict(
    s: &Department,
    package: &CopyPackage,
    copy: usize,
    holder: &SigningKey,
) -> Result<ecert_verifier::Verdict, ecert_verifier::VerifyError> {
    show_fields(s, package, copy, holder, &["name"])
}

/// A counter's verdict on `fields` of copy `copy` of `package`, shown by `holder`.
fn show_fields(
    s: &Department,
    package: &CopyPackage,
    copy: usize,
    holder: &SigningKey,
    fields: &[&str],
) -> Result<ecert_verifier::Verdict, ecert_verifier::VerifyError> {
    let kinds = KindRegistry::builtin().unwrap();
    let wallet = ecert_wallet::HolderKey::from_seed(&zeroize::Zeroizing::new(holder.to_bytes()));
    let now = now();
    let presentation = ecert_wallet::present_copies(
        &wallet,
        &kinds,
        &[ecert_wallet::CopySelection {
            package,
            copy,
            fields: fields.iter().map(|f| f.to_string()).collect(),
        }],
        now,
        None,
    )
    .unwrap();
    ecert_verifier::verify_presentation(
        &presentation.to_qr_string().unwrap(),
        &s.node.sync_counter(),
        now,
        &ecert_verifier::Policy::default(),
    )
}

/// The status indexes of `package`'s copies.
fn indexes(package: &CopyPackage) -> Vec<u32> {
    package.copies.iter().map(|c| c.status_index.0).collect()
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
    let dir = Scratch::new("issuer-help");
    let out = issuer::run(dir.dir(), &["--help"]).ok();
    assert!(out.contains("Exit codes"), "{out}");
    for command in [
        "init",
        "key",
        "config",
        "set-anchor",
        "issue",
        "revoke",
        "list",
        "show",
        "audit",
        "serve",
        "rotate-key",
    ] {
        let out = issuer::run(dir.dir(), &[command, "--help"]).ok();
        assert!(out.len() > 200, "{command} --help is too short:\n{out}");
        assert!(out.contains("Usage: ecert-issuer"), "{out}");
    }
}

#[test]
fn init_makes_a_sealed_key_and_refuses_to_overwrite() {
    let dir = Scratch::new("issuer-init");
    let home = dir.path("home");
    let out = issuer::run(
        &home,
        &[
            "init",
            "--issuer",
            "justice",
            "--node",
            "http://127.0.0.1:9",
        ],
    )
    .ok();
    let key_hex = issuer::run(&home, &["key"]).ok().trim().to_owned();
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
    let seed = ecert_sealed::open_secret(
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
    assert!(ecert_sealed::open_secret(
        *b"ECK1",
        &sealed,
        &zeroize::Zeroizing::new("wrong passphrase".to_owned()),
    )
    .is_err());

    // A second init changes nothing.
    let err = issuer::run(&home, &["init", "--issuer", "justice"]).fails_with(3);
    assert!(err.contains("already"), "{err}");
    assert_eq!(std::fs::read(home.join("key.eck")).unwrap(), sealed);
    assert_eq!(issuer::run(&home, &["key"]).ok().trim(), key_hex);

    // Commands on a home that does not exist say what to do.
    let err = issuer::run(&dir.path("nowhere"), &["list"]).fails_with(3);
    assert!(err.contains("ecert-issuer init"), "{err}");
    // A short passphrase is refused.
    let err = issuer::cmd(&dir.path("other"))
        .env("ECERT_ISSUER_PASSPHRASE", "short")
        .args(["init", "--issuer", "justice"])
        .run()
        .fails_with(2);
    assert!(err.contains("at least 8"), "{err}");
    // Issuing needs a node and an anchor first.
    let err = issue_csv(NCR, Path::new("x.csv")).run(&home).fails_with(3);
    assert!(err.contains("set-anchor"), "{err}");
    let out = issuer::run(&home, &["config"]).ok();
    assert!(out.contains("http://127.0.0.1:9"), "{out}");
}

#[test]
fn issues_from_json_and_toml_and_lists() {
    let s = Department::setup("json");
    let wang = holder();
    let (out, out_file) = issue_to_file(&s, &wang, &["--valid-days", "90"]);
    assert!(
        out.contains("Issued 1 no-criminal-record certificate(s) as 30 one-time copies each"),
        "{out}"
    );
    let package = read_package(&out_file);
    assert_eq!(package.copies.len(), usize::from(DEFAULT_COPIES));
    // The first 30 status indexes, one per copy, in no particular order.
    let own: BTreeSet<u32> = indexes(&package).into_iter().collect();
    assert_eq!(own, (0..30).collect());
    assert!(package.copies.iter().all(|c| c.batch_seq == 0));
    assert_eq!(
        package.expires.secs() - package.valid_from.secs(),
        90 * 86_400
    );
    // One batch on the ledger, its leaves the copies.
    let anchors = s.node.anchors();
    assert_eq!(anchors.len(), 1);
    assert_eq!(anchors[0].count, 30);
    // A counter synced with the ledger accepts it when the citizen's wallet shows a copy.
    let verdict = counter_verdict(&s, &package, 0, &wang).unwrap();
    assert_eq!(
        verdict.certificates[0].disclosed[0].value.to_string(),
        "王芳"
    );

    let toml = s.write("li.toml", NCR_TOML);
    let li = holder();
    let out_dir = s.dir.path("out");
    issue(NCR, &toml, &holder_hex(&li))
        .out_dir(&out_dir)
        .run(&s.home)
        .ok();
    let files: Vec<_> = std::fs::read_dir(&out_dir).unwrap().collect();
    assert_eq!(files.len(), 1);
    let package = read_package(&files[0].as_ref().unwrap().path());
    let own: BTreeSet<u32> = indexes(&package).into_iter().collect();
    assert_eq!(own, (30..60).collect());
    assert!(package.copies.iter().all(|c| c.batch_seq == 1));
    assert_eq!(status_index(&s.home), "60");
    counter_verdict(&s, &package, 29, &li).unwrap();

    let list = s.run(&["list"]).ok();
    assert!(list.contains(&package.id.to_hex()[..8]), "{list}");
    assert!(list.contains("2 certificate(s)"), "{list}");
    assert!(list.contains("valid"), "{list}");
    assert!(
        list.contains("COPIES") && list.contains("    30  "),
        "{list}"
    );
    let none = s.run(&["list", "--kind", "id-card"]).ok();
    assert!(none.contains("No certificates match"), "{none}");

    // The register keeps no claim value and no copy secret, and every copy's index.
    for batch in batch_files(&s.home) {
        let text = batch.to_string();
        assert!(!text.contains("王芳") && !text.contains("110108"), "{text}");
        assert_eq!(batch["state"], "anchored");
        assert_eq!(batch["version"], 2);
        assert_eq!(batch["count"], 30);
        let recorded = batch["certificates"][0]["status_indexes"]
            .as_array()
            .unwrap();
        assert_eq!(recorded.len(), 30);
    }
    let secret = package.copies[0].secret.to_hex();
    for entry in std::fs::read_dir(s.home.join("batches")).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        assert!(!text.contains(&secret), "a copy's secret in the register");
    }

    // `show` lists the copies' status indexes, and finds a certificate by any of them.
    let id = package.id.to_hex();
    let shown = s.run(&["show", "--cert", &id[..8]]).ok();
    assert!(shown.contains(&id), "{shown}");
    assert!(shown.contains("Copies:        30"), "{shown}");
    for index in indexes(&package) {
        assert!(
            shown.contains(&format!(" {index}")),
            "{index} missing:\n{shown}"
        );
    }
    let by_index = s
        .run(&[
            "show",
            "--status-index",
            &package.copies[7].status_index.0.to_string(),
        ])
        .ok();
    assert_eq!(by_index, shown);
    let err = s.run(&["show", "--status-index", "60"]).fails_with(2);
    assert!(err.contains("status index 60"), "{err}");
}

#[test]
fn issues_a_csv_file_as_one_batch() {
    let s = Department::setup("csv");
    let holders: Vec<SigningKey> = (0..3).map(|_| holder()).collect();
    let mut csv = String::from("holder,name,id_number,purpose,result,checked_through\n");
    for (i, h) in holders.iter().enumerate() {
        csv.push_str(&format!(
            "{},Person {i},110108199003070016,\"visa, tourism\",no-record,2026-01-31\n",
            holder_hex(h)
        ));
    }
    let file = s.write("today.csv", &csv);
    let out_dir = s.dir.path("delivered");
    let command = issue_csv(NCR, &file).out_dir(&out_dir);
    let out = command.run(&s.home).ok();
    assert!(out.contains("Issued 3"), "{out}");
    assert_eq!(s.node.received().len(), 1, "one batch for the whole file");
    assert_eq!(
        s.node.anchors()[0].count,
        90,
        "three certificates of 30 copies"
    );
    let mut all = BTreeSet::new();
    for (i, h) in holders.iter().enumerate() {
        let name = format!("row{:04}-{}.ecp", i + 2, &holder_hex(h)[..8]);
        let package = read_package(&out_dir.join(&name));
        // Its holder's wallet, and only its holder's, shows it.
        let verdict = counter_verdict(&s, &package, i, h).unwrap();
        assert_eq!(
            verdict.certificates[0].disclosed[0].value.to_string(),
            format!("Person {i}")
        );
        let other = &holders[(i + 1) % 3];
        assert!(counter_verdict(&s, &package, i, other).is_err());
        all.extend(indexes(&package));
    }
    assert_eq!(all, (0..90).collect(), "every reserved index once");
    // Running the same file into the same folder again refuses before signing anything.
    let err = command.run(&s.home).fails_with(2);
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(status_index(&s.home), "90");
    assert_eq!(s.node.received().len(), 1);
}

#[test]
fn every_copy_verifies_with_the_default_and_a_chosen_number_of_copies() {
    let s = Department::setup("copies");
    let wang = holder();
    let (_, default_file) = issue_to_file(&s, &wang, &[]);
    let package = read_package(&default_file);
    assert_eq!(package.copies.len(), 30);
    for copy in 0..package.copies.len() {
        let verdict = counter_verdict(&s, &package, copy, &wang).unwrap();
        assert_eq!(
            verdict.certificates[0].id, None,
            "a copy shows no certificate id"
        );
    }
    for (copies, name) in [("1", "one.ecp"), ("7", "seven.ecp"), ("1000", "many.ecp")] {
        let file = s.dir.path(name);
        let out = issue_json(&s, &wang)
            .args(&["--copies", copies])
            .out(&file)
            .run(&s.home)
            .ok();
        assert!(
            out.contains(&format!("as {copies} one-time copies each")),
            "{out}"
        );
        let package = read_package(&file);
        assert_eq!(package.copies.len().to_string(), copies);
        for copy in [0, package.copies.len() / 2, package.copies.len() - 1] {
            counter_verdict(&s, &package, copy, &wang).unwrap();
        }
    }
    assert_eq!(status_index(&s.home), (30 + 1 + 7 + 1000).to_string());
    let list = s.run(&["list"]).ok();
    for copies in ["30", "1", "7", "1000"] {
        assert!(
            list.contains(&format!(" {copies:>6}  ")),
            "{copies}:\n{list}"
        );
    }
}

#[test]
fn a_number_of_copies_out_of_range_is_refused_before_anything_is_signed() {
    let s = Department::setup("copies-range");
    let wang = holder();
    for (copies, says) in [
        (
            "0",
            "a certificate is issued as 1 to 1000 one-time copies (default 30), not 0",
        ),
        (
            "1001",
            "a certificate is issued as 1 to 1000 one-time copies (default 30), not 1001",
        ),
        ("many", "\"many\" is not a whole number of copies"),
    ] {
        let err = issue_json(&s, &wang)
            .args(&["--copies", copies])
            .out(&s.dir.path("c.ecp"))
            .run(&s.home)
            .fails_with(2);
        assert!(err.contains(says), "{err}");
        assert!(err.contains("--copies"), "{err}");
    }
    assert!(s.node.received().is_empty());
    assert_eq!(status_index(&s.home), "0");
    assert!(batch_files(&s.home).is_empty());
    assert!(!s.dir.path("c.ecp").exists());
    // And --resume takes the interrupted command's number, not a new one.
    let err = s.run(&["issue", "--resume", "--copies", "3"]).fails_with(2);
    assert!(err.contains("--copies"), "{err}");
}

#[test]
fn a_batchs_status_indexes_and_places_are_dealt_at_random() {
    let s = Department::setup("permutation");
    let rows = 40;
    let mut csv = String::from("holder,name,id_number,purpose,result,checked_through\n");
    for i in 0..rows {
        csv.push_str(&format!(
            "{},Person {i},110108199003070016,visa,no-record,2026-01-31\n",
            holder_hex(&holder())
        ));
    }
    let file = s.write("rows.csv", &csv);
    let out_dir = s.dir.path("delivered");
    issue_csv(NCR, &file).out_dir(&out_dir).run(&s.home).ok();
    let packages: Vec<CopyPackage> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| read_package(&e.unwrap().path()))
        .collect();
    assert_eq!(packages.len(), rows);
    let total = rows * 30;
    // The status indexes reserved for the batch, each given to one copy.
    let mut all: Vec<u32> = packages.iter().flat_map(indexes).collect();
    all.sort_unstable();
    assert_eq!(all, (0..total as u32).collect::<Vec<_>>(), "a permutation");
    // The places in the batch, likewise.
    let mut places: Vec<u64> = packages
        .iter()
        .flat_map(|p| p.copies.iter().map(|c| c.leaf_index))
        .collect();
    places.sort_unstable();
    assert_eq!(places, (0..total as u64).collect::<Vec<_>>());
    // No certificate's copies hold a block of consecutive indexes or places: in a
    // random deal, two copies of one certificate are neighbours about once in 40.
    let neighbours = |values: Vec<u64>| {
        let mut values = values;
        values.sort_unstable();
        values.windows(2).filter(|w| w[1] == w[0] + 1).count()
    };
    let mut index_neighbours = 0;
    let mut place_neighbours = 0;
    for p in &packages {
        index_neighbours += neighbours(indexes(p).into_iter().map(u64::from).collect());
        place_neighbours += neighbours(p.copies.iter().map(|c| c.leaf_index).collect());
    }
    // 40 certificates of 29 neighbouring pairs each: about 29 by chance, 1,160 in order.
    assert!(
        index_neighbours < 150,
        "{index_neighbours} consecutive indexes"
    );
    assert!(
        place_neighbours < 150,
        "{place_neighbours} consecutive places"
    );
    // The register keeps each copy's index, as its package has them.
    let register = batch_files(&s.home);
    let recorded: BTreeSet<Vec<u64>> = register[0]["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            c["status_indexes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i.as_u64().unwrap())
                .collect()
        })
        .collect();
    let delivered: BTreeSet<Vec<u64>> = packages
        .iter()
        .map(|p| indexes(p).into_iter().map(u64::from).collect())
        .collect();
    assert_eq!(recorded, delivered);
}

#[test]
fn bad_claims_are_refused_naming_row_and_field() {
    let s = Department::setup("bad");
    let h = holder_hex(&holder());
    let csv = format!(
        "holder,name,id_number,purpose,result,checked_through\n\
         {h},王芳,110108199003070016,visa,no-record,2026-01-31\n\
         {h},李娜,110108199003070016,visa,maybe,2026-01-31\n\
         {h},张伟,110108199003070017,visa,no-record,2026-01-31\n"
    );
    let file = s.write("bad.csv", &csv);
    let err = issue_csv(NCR, &file).run(&s.home).fails_with(2);
    assert!(err.contains("row 3, field \"result\""), "{err}");
    assert!(err.contains("row 4, field \"id_number\""), "{err}");
    assert!(err.contains("nothing was issued"), "{err}");

    let json = s.write("bad.json", &NCR_JSON.replace("\"visa\"", "\"\""));
    let err = issue(NCR, &json, &h).run(&s.home).fails_with(2);
    assert!(err.contains("field \"purpose\""), "{err}");
    // A kind this department may not issue, and a bad wallet ID.
    let err = issue("id-card", &json, &h).run(&s.home).fails_with(2);
    assert!(err.contains("may not issue"), "{err}");
    let good = s.write("good.json", NCR_JSON);
    let err = issue(NCR, &good, "abcd").run(&s.home).fails_with(2);
    assert!(err.contains("wallet ID"), "{err}");
    assert!(s.node.received().is_empty());
    assert_eq!(status_index(&s.home), "0");
    assert!(batch_files(&s.home).is_empty());
}

#[test]
fn derived_facts_are_computed_at_issuance_and_never_taken_from_the_input() {
    let s = Department::setup("derived");
    let h = holder_hex(&holder());
    // Given in a claims file or a CSV column, a derived fact is refused by name and
    // nothing is issued.
    let given = s.write(
        "given.json",
        &NCR_JSON.replace("\"visa\",", "\"visa\", \"no_record\": true,"),
    );
    let err = issue(NCR, &given, &h).run(&s.home).fails_with(2);
    assert!(
        err.contains("field \"no_record\": is a derived fact: it is computed from \"result\""),
        "{err}"
    );
    let csv = s.write(
        "given.csv",
        &format!(
            "holder,name,id_number,purpose,result,checked_through,no_record\n\
             {h},王芳,110108199003070016,visa,record-found,2026-01-31,yes\n"
        ),
    );
    let err = issue_csv(NCR, &csv).run(&s.home).fails_with(2);
    assert!(
        err.contains("row 1, field \"no_record\": is a derived fact"),
        "{err}"
    );
    assert!(s.node.received().is_empty());
    assert_eq!(status_index(&s.home), "0");

    // Issued from the claims alone, the certificate carries the fact, salted and hashed
    // like the fields in every copy, and a counter shows it without the result it comes
    // from.
    let wang = holder();
    let (_, file) = issue_to_file(&s, &wang, &[]);
    let package = read_package(&file);
    assert_eq!(package.fields.len(), 6);
    let fact = package.fields.iter().find(|f| f.field == 5).unwrap();
    assert_eq!(fact.value, Some(FieldValue::Bool(true)));
    let verdict = show_fields(&s, &package, 3, &wang, &["no_record"]).unwrap();
    let shown = &verdict.certificates[0].disclosed;
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0].key, "no_record");
    assert_eq!(shown[0].value, FieldValue::Bool(true));
}

#[test]
fn a_wrong_passphrase_fails_cleanly_and_changes_nothing() {
    let s = Department::setup("passphrase");
    let before_key = std::fs::read(s.home.join("key.eck")).unwrap();
    let err = issue_json(&s, &holder())
        .out(&s.dir.path("x.ecp"))
        .cmd(&s.home)
        .env("ECERT_ISSUER_PASSPHRASE", "not the passphrase")
        .run()
        .fails_with(3);
    assert!(err.contains("wrong passphrase"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(s.node.received().is_empty());
    assert_eq!(status_index(&s.home), "0");
    assert!(batch_files(&s.home).is_empty());
    assert!(!s.dir.path("x.ecp").exists());
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
    serve_with(home, &[])
}

/// `ecert-issuer serve --listen 127.0.0.1:0` with `extra` options, once it listens.
fn serve_with(home: &Path, extra: &[&str]) -> Server {
    let mut child = issuer::cmd(home)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(extra)
        .spawn();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://") || w.starts_with("https://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_owned();
    Server { child, url }
}

fn redeem(url: &str, code: &str, key: &SigningKey) -> (u16, String, Vec<u8>) {
    redeem_by(
        &ecert_client::Http::new(Duration::from_secs(20)),
        url,
        code,
        key,
    )
}

fn redeem_by(
    http: &ecert_client::Http,
    url: &str,
    code: &str,
    key: &SigningKey,
) -> (u16, String, Vec<u8>) {
    let body = OfferRedemption {
        holder_key: crypto::public_key(key),
        signature: crypto::sign(key, SigningContext::OfferRedeem, code.as_bytes()),
    }
    .to_bytes()
    .unwrap();
    let reply = http
        .post_cbor(&format!("{url}/v1/offers/{code}/redeem"), &body)
        .unwrap();
    let (status, body) = (reply.status, reply.body);
    (status, String::from_utf8_lossy(&body).into_owned(), body)
}

/// A record certificate issued as a one-time offer by a department whose offer endpoint
/// is at `serve_url`.
struct Offered {
    s: Department,
    citizen: SigningKey,
    /// What `issue --offer` printed.
    out: String,
    /// The offer code in it.
    code: String,
}

impl Offered {
    fn new(name: &str, serve_url: &str) -> Offered {
        let s = Department::setup(name);
        s.run(&["config", "--serve-url", serve_url]).ok();
        let citizen = holder();
        let out = issue_json(&s, &citizen).offer().run(&s.home).ok();
        let code = out
            .split_whitespace()
            .skip_while(|w| *w != "code")
            .nth(1)
            .unwrap_or_else(|| panic!("no offer code in {out}"))
            .to_owned();
        Offered {
            s,
            citizen,
            out,
            code,
        }
    }
}

#[test]
fn offers_are_redeemed_by_their_holder_only() {
    let Offered {
        s,
        citizen,
        out,
        code,
    } = Offered::new("offer", "http://127.0.0.1:7400");
    assert_eq!(code.len(), 19, "{code}");
    assert!(
        out.contains(&format!("http://127.0.0.1:7400/v1/offers/{code}")),
        "{out}"
    );
    assert!(out.contains('█'), "a QR code is drawn:\n{out}");
    // No package file without --out/--out-dir.
    assert!(!s.dir.dir().read_dir().unwrap().any(|e| e
        .unwrap()
        .path()
        .extension()
        .is_some_and(|x| x == "ecp")));

    let server = serve(&s.home);
    let (status, text, _) = redeem(&server.url, &code, &holder());
    assert_eq!(status, 403, "{text}");
    assert!(text.contains("wrong-holder"));
    let (status, text, _) = redeem(&server.url, "0000-0000-0000-0000", &citizen);
    assert_eq!(status, 404, "{text}");
    let (status, text, body) = redeem(&server.url, &code, &citizen);
    assert_eq!(status, 200, "{text}");
    // The certificate's one-time copies, which the citizen's wallet, and only it, can show.
    let package = CopyPackage::from_bytes(&body).unwrap();
    assert_eq!(package.copies.len(), usize::from(DEFAULT_COPIES));
    assert!(out.contains(&package.id.to_hex()[..8]), "{out}");
    counter_verdict(&s, &package, 0, &citizen).unwrap();
    assert!(counter_verdict(&s, &package, 0, &holder()).is_err());
    // Within the redelivery window (7 days by default) the wallet that collected it gets
    // the same package again; anyone else only hears that the offer was used.
    let (status, text, again) = redeem(&server.url, &code, &citizen);
    assert_eq!(status, 200, "{text}");
    assert_eq!(again, body, "the same package");
    let (status, text, _) = redeem(&server.url, &code, &holder());
    assert_eq!(status, 410, "{text}");
    assert!(text.contains("offer-used"));
    assert_eq!(
        std::fs::read_dir(s.home.join("offers/open"))
            .unwrap()
            .count(),
        0
    );
    assert_eq!(
        used_files(&s.home),
        ["json", "offer"],
        "the package is kept"
    );
}

/// The extensions of the files in the home's `offers/used/`, sorted.
fn used_files(home: &Path) -> Vec<String> {
    let mut found: Vec<String> = std::fs::read_dir(home.join("offers/used"))
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            path.extension().unwrap().to_string_lossy().into_owned()
        })
        .collect();
    found.sort();
    found
}

#[test]
fn without_a_redelivery_window_an_offer_is_answered_once() {
    let Offered {
        s, citizen, code, ..
    } = Offered::new("offer-once", "http://127.0.0.1:7400");
    let err = s.run(&["serve", "--redelivery-days", "366"]).fails_with(2);
    assert!(err.contains("366"), "{err}");
    let server = serve_with(&s.home, &["--redelivery-days", "0"]);
    let (status, text, _) = redeem(&server.url, &code, &citizen);
    assert_eq!(status, 200, "{text}");
    let (status, text, _) = redeem(&server.url, &code, &citizen);
    assert_eq!(status, 410, "{text}");
    assert!(text.contains("offer-used"));
    // The delivered package is no longer kept in the home: only the note of who collected
    // it and when.
    assert_eq!(used_files(&s.home), ["json"]);
    drop(server);

    // An endpoint started with a window keeps packages delivered from then on; one
    // restarted without deletes them as it starts.
    let other = Offered::new("offer-restart", "http://127.0.0.1:7400");
    let server = serve(&other.s.home);
    let (status, text, _) = redeem(&server.url, &other.code, &other.citizen);
    assert_eq!(status, 200, "{text}");
    drop(server);
    assert_eq!(used_files(&other.s.home), ["json", "offer"]);
    let server = serve_with(&other.s.home, &["--redelivery-days", "0"]);
    assert_eq!(used_files(&other.s.home), ["json"], "swept at the start");
    let (status, text, _) = redeem(&server.url, &other.code, &other.citizen);
    assert_eq!(status, 410, "{text}");
}

#[test]
fn the_offer_page_explains_the_offer_over_https_without_telling_if_it_exists() {
    let Offered {
        s,
        citizen,
        out,
        code,
    } = Offered::new("offer-page", "https://127.0.0.1:7400");
    // The offer URL follows the configured address, https included.
    assert!(out.contains("https://127.0.0.1:7400/v1/offers/"), "{out}");

    let ca = TestCa::new(&s.dir.path("ca"));
    let (cert, key) = ca.server("offers", &[]);
    let wallet_app = "https://127.0.0.1:7101/wallet/";
    let server = serve_with(
        &s.home,
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
            "--wallet-app",
            wallet_app,
        ],
    );
    assert!(
        server.url.starts_with("https://127.0.0.1:"),
        "{}",
        server.url
    );
    let http = ecert_client::Http::with_transport(
        "test",
        Duration::from_secs(20),
        &ecert_client::Transport::pinned_file(&ca.ca_file()).unwrap(),
    );
    let page = |code: &str| {
        let reply = http
            .get(&format!("{}/v1/offers/{code}", server.url))
            .unwrap();
        (reply.status, String::from_utf8(reply.body).unwrap())
    };
    let (status, html) = page(&code);
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("one-time certificate offer from justice"),
        "{html}"
    );
    assert!(html.contains("一次性"), "{html}");
    assert!(!html.contains("<script"), "{html}");
    let link = format!("{wallet_app}#offer=https%3A%2F%2F127.0.0.1%3A7400%2Fv1%2Foffers%2F{code}");
    assert!(html.contains(&link), "{link} missing:\n{html}");
    // An unknown code gets the same page (its own code in it), and so does a used one.
    let unknown = "0000-0000-0000-0000";
    let (status, other) = page(unknown);
    assert_eq!(status, 200);
    assert_eq!(other, html.replace(&code, unknown));
    let (status, text, _) = redeem_by(&http, &server.url, &code, &citizen);
    assert_eq!(status, 200, "redeemed over https: {text}");
    assert_eq!(page(&code).1, html, "a used offer looks the same");
    // Something that cannot be a code is not found.
    let (status, text) = page("not-a-code");
    assert_eq!(status, 404, "{text}");
    assert!(text.contains("invalid-offer-code"), "{text}");
}

#[test]
fn the_offer_endpoint_answers_browsers_of_the_allowed_origins_only() {
    let s = Department::setup("offer-cors");
    let allowed = "https://127.0.0.1:7101";
    let server = serve_with(&s.home, &["--allow-origin", allowed]);
    let redeem_url = format!("{}/v1/offers/0000-0000-0000-0000/redeem", server.url);
    let preflight = |origin: &str| ecert_testkit::http::preflight(&redeem_url, origin);
    let yes = preflight(allowed);
    assert_eq!(yes.header("access-control-allow-origin"), Some(allowed));
    assert!(yes
        .header("access-control-allow-methods")
        .unwrap()
        .contains("POST"));
    assert_eq!(
        preflight("https://evil.example").header("access-control-allow-origin"),
        None
    );
    drop(server);

    // Plain HTTP on a public address is refused, before listening.
    let err = s.run(&["serve", "--listen", "0.0.0.0:7400"]).fails_with(2);
    assert!(
        err.contains("--tls-cert") && err.contains("--insecure-http"),
        "{err}"
    );
    let err = s
        .run(&[
            "serve",
            "--tls-cert",
            "/nowhere/o.pem",
            "--tls-key",
            "/nowhere/o.key",
        ])
        .fails_with(2);
    assert!(err.contains("/nowhere/o.pem"), "{err}");
    let err = s
        .run(&["serve", "--wallet-app", "javascript:alert(1)"])
        .fails_with(2);
    assert!(err.contains("--wallet-app"), "{err}");
}

#[test]
fn revocations_reach_the_ledger_and_the_register() {
    let s = Department::setup("revoke");
    let citizen = holder();
    let (_, out_file) = issue_to_file(&s, &citizen, &[]);
    let package = read_package(&out_file);
    let id = package.id.to_hex();
    // Another certificate, of a few copies, stays valid throughout.
    let neighbour = holder();
    let neighbours_file = s.dir.path("neighbour.ecp");
    issue_json(&s, &neighbour)
        .args(&["--copies", "4"])
        .out(&neighbours_file)
        .run(&s.home)
        .ok();
    let neighbours = read_package(&neighbours_file);
    assert_eq!(neighbours.copies.len(), 4);

    let err = s
        .run(&["revoke", "--cert", &id[..8], "--reason", "bored"])
        .fails_with(2);
    assert!(err.contains("data-error"), "the reasons are listed: {err}");
    let err = s
        .run(&["revoke", "--cert", "ffffffff", "--reason", "data-error"])
        .fails_with(2);
    assert!(err.contains("no certificate"), "{err}");
    // A node that says "certified" but drops the revocation is caught, and nothing is
    // recorded, so the command can be run again.
    s.node.lie(Lie::DropRevocations);
    let err = s
        .run(&["revoke", "--cert", &id[..8], "--reason", "data-error"])
        .fails_with(5);
    assert!(err.contains("do not trust that node"), "{err}");
    assert!(!s
        .run(&["list", "--revoked"])
        .ok()
        .contains("revoked (data-error)"));
    s.node.lie(Lie::Honest);

    let out = s
        .run(&["revoke", "--cert", &id[..8], "--reason", "data-error"])
        .ok();
    assert!(out.contains("Revoked 1"), "{out}");
    assert!(out.contains("all 30 copies"), "{out}");
    // One transaction with every copy's status index.
    let received = s.node.received();
    let Some(Transaction::Revocation(tx)) = received.last() else {
        panic!("the node received no revocation: {received:?}");
    };
    let mut expected = indexes(&package);
    expected.sort_unstable();
    let sent: Vec<u32> = tx.body.entries.iter().map(|e| e.index.0).collect();
    assert_eq!(sent, expected);
    assert!(tx
        .body
        .entries
        .iter()
        .all(|e| e.reason.name() == "data-error"));
    // Every copy is refused as revoked; the other certificate's copies are not.
    for copy in 0..package.copies.len() {
        let err = counter_verdict(&s, &package, copy, &citizen).unwrap_err();
        assert!(
            matches!(err, ecert_verifier::VerifyError::Revoked { .. }),
            "copy {copy}: {err:?}"
        );
    }
    for copy in 0..neighbours.copies.len() {
        counter_verdict(&s, &neighbours, copy, &neighbour).unwrap();
    }
    let list = s.run(&["list", "--revoked"]).ok();
    assert!(list.contains("revoked (data-error)"), "{list}");
    assert!(list.contains("1 certificate(s)"), "{list}");
    assert!(s
        .run(&["show", "--cert", &id])
        .ok()
        .contains("revoked (data-error)"));
    // The register's record of the revocation names the certificate and its indexes.
    let record = std::fs::read_dir(s.home.join("revocations"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .next()
        .unwrap();
    let record: serde_json::Value = serde_json::from_str(&record).unwrap();
    assert_eq!(record["entries"][0]["id"], id);
    assert_eq!(
        record["entries"][0]["status_indexes"]
            .as_array()
            .unwrap()
            .len(),
        30
    );
    let err = s
        .run(&["revoke", "--cert", &id, "--reason", "superseded"])
        .fails_with(2);
    assert!(err.contains("already revoked"), "{err}");
}

#[test]
fn audit_reports_a_batch_the_department_did_not_issue() {
    let s = Department::setup("audit");
    issue_json(&s, &holder())
        .out_dir(s.dir.dir())
        .run(&s.home)
        .ok();
    let out = s.run(&["audit"]).ok();
    assert!(out.contains("All in order"), "{out}");

    // Someone with another key of this department anchors a batch.
    let kinds = KindRegistry::builtin().unwrap();
    let now = now();
    let mut claims = sample::no_criminal_record(now).claims;
    claims.insert("name".into(), FieldValue::Text("Mallory".into()));
    claims.insert("purpose".into(), FieldValue::Text("fraud".into()));
    let request = CertificateRequest {
        kind: KindId::new(NCR).unwrap(),
        claims,
        holder: crypto::public_key(&holder()),
        valid_from: now,
        expires: now.plus(86_400),
        status_index: StatusIndex(999),
    };
    let other_key = s.node.other_key();
    let forged = ecert_issuer::issue(other_key, &kinds, &request, now, &mut OsRng).unwrap();
    let batch = Batch::new(other_key, vec![forged]).unwrap();
    let tx = Transaction::AnchorBatch(
        batch
            .anchor_transaction(other_key, &s.node.chain_id())
            .unwrap(),
    );
    s.node.apply(&tx).unwrap();

    let run = s.run(&["audit"]);
    assert_eq!(run.code, Some(6), "{}", run.all());
    let out = &run.stdout;
    assert!(out.contains("NOT ISSUED BY THIS DEPARTMENT"), "{out}");
    assert!(out.contains(&batch.root().to_hex()), "{out}");

    // A node that hides that batch from its export cannot pass it off as certified data.
    s.node.lie(Lie::HideNewestBatch);
    let err = s.run(&["audit"]).fails_with(5);
    assert!(
        err.contains("does not verify against the pinned trust anchor"),
        "{err}"
    );
}

#[test]
fn an_unreachable_node_leaves_the_batch_recorded() {
    let s = Department::setup("unreachable");
    // Point the home at a port where nothing listens.
    let dead = ecert_testkit::http::dead_address();
    s.run(&["config", "--node", &dead]).ok();
    let err = issue_json(&s, &holder())
        .out(&s.dir.path("c.ecp"))
        .run(&s.home)
        .fails_with(4);
    assert!(err.contains("cannot reach the ledger node"), "{err}");
    assert!(!s.dir.path("c.ecp").exists());
    let batches = batch_files(&s.home);
    assert_eq!(batches.len(), 1);
    assert_eq!(batches[0]["state"], "undelivered");
    assert_eq!(status_index(&s.home), "30", "the copies' indexes stay used");
    let list = s.run(&["list"]).ok();
    assert!(list.contains("undelivered"), "{list}");
}

#[test]
fn a_proof_that_does_not_verify_delivers_nothing() {
    let s = Department::setup("proof");
    // An anchor for other validators: the node's proofs cannot verify against it.
    let mut other = s.node.trust_anchor();
    other.validators_hash = Hash32([7; 32]);
    let path = s.write(
        "other-anchor.toml",
        &ecert_verifier::anchor_file::anchor_to_toml(&other, "another ledger"),
    );
    let err = s.run(&["set-anchor", path.to_str().unwrap()]).fails_with(3);
    assert!(err.contains("--force"), "{err}");
    s.run(&["set-anchor", "--force", path.to_str().unwrap()])
        .ok();
    let err = issue_json(&s, &holder())
        .out(&s.dir.path("c.ecp"))
        .run(&s.home)
        .fails_with(5);
    assert!(
        err.contains("does not verify against the trust anchor"),
        "{err}"
    );
    assert!(!s.dir.path("c.ecp").exists());
    assert_eq!(batch_files(&s.home)[0]["state"], "undelivered");
}

#[test]
fn a_key_rotation_is_proposed_approved_and_submitted() {
    use ecert_schemas::codec::from_cbor;
    use ecert_schemas::ledger::{GovernanceAction, GovernanceBody};

    let s = Department::setup("rotate");
    let old_key = s.run(&["key"]).ok().trim().to_owned();
    let proposal = s.dir.path("proposal.cbor");
    let propose = |out: &Path| {
        s.run(&[
            "rotate-key",
            "--start-in",
            "60",
            "--out",
            out.to_str().unwrap(),
        ])
        .ok()
    };
    let out = propose(&proposal);
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
    let p2 = s.dir.path("p2.cbor");
    s.run(&["rotate-key", "--out", p2.to_str().unwrap()])
        .fails_with(3);
    let out = s.run(&["rotate-key", "--cancel"]).ok();
    assert!(out.contains("abandoned"), "{out}");
    assert!(!s.home.join("pending-key.eck").exists());
    propose(&p2);
    s.run(&["rotate-key", "--cancel"]).ok();
    // The first proposal is no longer the one under way; make it so again.
    let proposal_bytes = std::fs::read(&proposal).unwrap();
    std::fs::remove_file(&proposal).unwrap();
    propose(&proposal);
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
        let a = ecert_ledger_node::governance::approve(&s.node.validator_key(i), i as u16, &body)
            .unwrap();
        s.dir
            .write(&format!("approval-{i}.cbor"), to_cbor(&a).unwrap())
    };
    let files: Vec<PathBuf> = (0..3).map(approval).collect();
    let submit = |approvals: &[PathBuf]| {
        let mut args = vec![
            "rotate-key",
            "--submit",
            proposal.to_str().unwrap(),
            "--approvals",
        ];
        args.extend(approvals.iter().map(|p| p.to_str().unwrap()));
        s.run(&args)
    };
    // One approval of four is not enough: the ledger refuses, nothing changes.
    let err = submit(&files[..1]).fails_with(4);
    assert!(err.contains("refused"), "{err}");
    let out = submit(&files).ok();
    assert!(out.contains("certified the key rotation"), "{out}");
    let received = s.node.received();
    assert!(matches!(received.last(), Some(Transaction::Governance(_))));
    let ledger_keys = s.node.registry().issuers[0].keys.clone();
    assert!(ledger_keys.iter().any(|k| k.key == action.new_key));
    // The new key takes over in an hour; until then the current key signs.
    assert_eq!(s.run(&["key"]).ok().trim(), old_key);
    assert!(s.home.join("pending-key.eck").exists());
    // A certified rotation can no longer be abandoned.
    s.run(&["rotate-key", "--cancel"]).fails_with(2);
    assert!(s.home.join("pending-key.eck").exists());
}

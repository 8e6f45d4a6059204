//! A department's register and work from before one-time copies, through the real
//! `ecert-issuer` binary against the test kit's fake ledger node: certificates issued
//! whole (format 1) and recorded in version-1 records are listed, shown, audited and
//! revoked as before, beside certificates issued as copies; and an `issue` interrupted
//! with a batch of whole certificates in its spool is finished by `issue --resume`, that
//! batch delivered as it was signed and the rest of its rows issued as copies.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::{Path, PathBuf};

use ecert_issuer::anchoring::{batch_file, SignedBatch};
use ecert_issuer::issuance::job::{file_sha256, Input, Job};
use ecert_issuer::register::BatchState;
use ecert_issuer::{issue, Batch, CertificateRequest, IssuedCertificate, IssuerKey};
use ecert_ledger_node::state::TxOutcome;
use ecert_schemas::codec::{to_cbor, ByteBuf};
use ecert_schemas::copy::CopyPackage;
use ecert_schemas::ledger::Transaction;
use ecert_schemas::{
    Certificate, CertificatePackage, Claims, FieldValue, IssuerId, KindId, KindRegistry,
    StatusIndex, UnixTime,
};
use ecert_testkit::issuer::{issue_csv, Department, PASSPHRASE};
use ecert_testkit::now;
use ecert_verifier::crypto;
use ecert_verifier::{Policy, Verdict, VerifyError};
use ed25519_dalek::SigningKey;
use rand_core::OsRng;
use zeroize::Zeroizing;

const NCR: &str = "no-criminal-record";

/// The department's key, opened with its passphrase as the tool does.
fn department_key(s: &Department) -> IssuerKey {
    let sealed = std::fs::read(s.home.join("key.eck")).unwrap();
    let seed = ecert_sealed::open_secret(*b"ECK1", &sealed, &Zeroizing::new(PASSPHRASE.to_owned()))
        .unwrap();
    let seed: [u8; 32] = seed[..].try_into().unwrap();
    IssuerKey::from_seed(IssuerId::new("justice").unwrap(), &Zeroizing::new(seed))
}

fn claims(name: &str) -> Claims {
    [
        ("name", name),
        ("id_number", "110108199003070016"),
        ("purpose", "visa"),
        ("result", "no-record"),
        ("checked_through", "2026-01-31"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), FieldValue::Text(v.to_owned())))
    .collect()
}

/// A certificate issued whole to `holder` with status index `index`.
fn whole(key: &IssuerKey, holder: &SigningKey, index: u32) -> IssuedCertificate {
    let now = now();
    let request = CertificateRequest {
        kind: KindId::new(NCR).unwrap(),
        claims: claims("王芳"),
        holder: crypto::public_key(holder),
        valid_from: now,
        expires: now.plus(90 * 86_400),
        status_index: StatusIndex(index),
    };
    issue(
        key,
        &KindRegistry::builtin().unwrap(),
        &request,
        now,
        &mut OsRng,
    )
    .unwrap()
}

/// What a counter synced with the ledger says of a whole certificate shown by `holder`.
fn verdict_whole(
    s: &Department,
    package: &CertificatePackage,
    holder: &SigningKey,
) -> Result<Verdict, VerifyError> {
    let wallet = ecert_wallet::HolderKey::from_seed(&Zeroizing::new(holder.to_bytes()));
    let presentation = ecert_wallet::present(
        &wallet,
        &KindRegistry::builtin().unwrap(),
        &[ecert_wallet::Selection {
            package,
            fields: vec!["name".into()],
        }],
        now(),
        None,
    )
    .unwrap();
    ecert_verifier::verify_presentation(
        &presentation.to_qr_string().unwrap(),
        &s.node.sync_counter(),
        now(),
        &Policy::default(),
    )
}

/// What a counter says of copy `copy` of `package` shown by `holder`.
fn verdict_copy(
    s: &Department,
    package: &CopyPackage,
    copy: usize,
    holder: &SigningKey,
) -> Result<Verdict, VerifyError> {
    let wallet = ecert_wallet::HolderKey::from_seed(&Zeroizing::new(holder.to_bytes()));
    let presentation = ecert_wallet::present_copies(
        &wallet,
        &KindRegistry::builtin().unwrap(),
        &[ecert_wallet::CopySelection {
            package,
            copy,
            fields: vec!["name".into()],
        }],
        now(),
        None,
    )
    .unwrap();
    ecert_verifier::verify_presentation(
        &presentation.to_qr_string().unwrap(),
        &s.node.sync_counter(),
        now(),
        &Policy::default(),
    )
}

fn set_next_status_index(home: &Path, next: u32) {
    std::fs::write(home.join("next-status-index"), format!("{next}\n")).unwrap();
}

/// The spool of a batch of whole certificates, as versions before one-time copies wrote
/// it.
#[derive(serde::Serialize)]
struct WholeSpool {
    version: u32,
    first_row: u64,
    offer_seed: Option<ByteBuf>,
    certificates: Vec<(ByteBuf, Vec<ByteBuf>)>,
}

#[test]
fn whole_certificates_of_an_old_register_are_listed_audited_and_revoked() {
    let s = Department::setup("format-1-register");
    let key = department_key(&s);
    let (wang, li) = (
        SigningKey::generate(&mut OsRng),
        SigningKey::generate(&mut OsRng),
    );
    let batch = Batch::new(&key, vec![whole(&key, &wang, 0), whole(&key, &li, 1)]).unwrap();
    let tx = batch.anchor_transaction(&key, &s.node.chain_id()).unwrap();
    let Ok(TxOutcome::Anchored { batch_seq }) = s.node.apply(&Transaction::AnchorBatch(tx)) else {
        panic!("not anchored");
    };
    let batch = SignedBatch::Whole(batch);
    let packages: Vec<CertificatePackage> = (0..2)
        .map(|i| {
            CertificatePackage::from_bytes(&batch.package_bytes(i, batch_seq).unwrap().unwrap())
                .unwrap()
        })
        .collect();
    // Recorded as the tool recorded batches then: JSON of version 1.
    let mut record = batch_file(&batch, &[], &key, now()).unwrap();
    record.state = BatchState::Anchored;
    record.batch_seq = Some(batch_seq);
    let mut json = serde_json::to_value(&record).unwrap();
    json["version"] = 1.into();
    assert!(json["certificates"][0].get("status_indexes").is_none());
    assert_eq!(json["certificates"][1]["status_index"], 1);
    std::fs::write(
        s.home
            .join("batches")
            .join(format!("{}.json", record.root.to_hex())),
        serde_json::to_vec_pretty(&json).unwrap(),
    )
    .unwrap();
    set_next_status_index(&s.home, 2);
    let id = |p: &CertificatePackage| {
        Certificate::from_bytes(&p.certificate)
            .unwrap()
            .claims
            .id
            .to_hex()
    };
    let (wang_id, li_id) = (id(&packages[0]), id(&packages[1]));

    // Beside them, a certificate issued now, as copies.
    let claims_file = s.write("c.json", &serde_json::to_string(&claims_json()).unwrap());
    let zhang = SigningKey::generate(&mut OsRng);
    let copies_file = s.dir.path("zhang.ecp");
    ecert_testkit::issuer::issue(NCR, &claims_file, &crypto::public_key(&zhang).to_hex())
        .args(&["--copies", "2"])
        .out(&copies_file)
        .run(&s.home)
        .ok();
    let copies = CopyPackage::from_bytes(&std::fs::read(&copies_file).unwrap()).unwrap();
    let mut indexes: Vec<u32> = copies.copies.iter().map(|c| c.status_index.0).collect();
    indexes.sort_unstable();
    assert_eq!(indexes, [2, 3], "after the old register's indexes");

    let list = s.run(&["list"]).ok();
    assert!(list.contains("3 certificate(s)"), "{list}");
    for line in list
        .lines()
        .filter(|l| l.starts_with(&wang_id[..8]) || l.starts_with(&li_id[..8]))
    {
        assert!(
            line.contains("     -  ") && line.ends_with("valid"),
            "{line}"
        );
    }
    let shown = s.run(&["show", "--cert", &li_id[..8]]).ok();
    assert!(shown.contains("Issued whole"), "{shown}");
    assert!(shown.contains("status index 1"), "{shown}");
    assert_eq!(s.run(&["show", "--status-index", "1"]).ok(), shown);
    let audit = s.run(&["audit"]).ok();
    assert!(audit.contains("All in order"), "{audit}");

    // Revoking a whole certificate revokes its one status index, as before.
    let out = s
        .run(&["revoke", "--cert", &wang_id[..8], "--reason", "superseded"])
        .ok();
    assert!(out.contains("Revoked 1"), "{out}");
    let received = s.node.received();
    let Some(Transaction::Revocation(tx)) = received.last() else {
        panic!("no revocation sent");
    };
    let sent: Vec<u32> = tx.body.entries.iter().map(|e| e.index.0).collect();
    assert_eq!(sent, [0]);
    assert!(matches!(
        verdict_whole(&s, &packages[0], &wang),
        Err(VerifyError::Revoked { .. })
    ));
    verdict_whole(&s, &packages[1], &li).unwrap();
    verdict_copy(&s, &copies, 1, &zhang).unwrap();
    let list = s.run(&["list", "--revoked"]).ok();
    assert!(
        list.contains("1 certificate(s)") && list.contains(&wang_id[..8]),
        "{list}"
    );
    assert!(s.run(&["audit"]).ok().contains("All in order"));
}

fn claims_json() -> serde_json::Value {
    serde_json::json!({
        "name": "张伟",
        "id_number": "110108199003070016",
        "purpose": "visa",
        "result": "no-record",
        "checked_through": "2026-01-31",
    })
}

#[test]
fn an_interrupted_issue_with_whole_certificates_spooled_is_finished_by_resume() {
    let s = Department::setup("format-1-resume");
    let key = department_key(&s);
    let holders = [
        SigningKey::generate(&mut OsRng),
        SigningKey::generate(&mut OsRng),
    ];
    let mut csv = String::from("holder,name,id_number,purpose,result,checked_through\n");
    for (i, h) in holders.iter().enumerate() {
        csv.push_str(&format!(
            "{},Person {i},110108199003070016,visa,no-record,2026-01-31\n",
            crypto::public_key(h).to_hex()
        ));
    }
    let input = s.write("rows.csv", &csv);
    let out = s.dir.path("delivered");
    std::fs::create_dir_all(&out).unwrap();

    // The first row was signed whole and spooled, status index 0 reserved; then the
    // command stopped. Its job, of version 1, knows nothing of copies.
    let first = whole(&key, &holders[0], 0);
    let batch = Batch::new(&key, vec![first.clone()]).unwrap();
    let spool = WholeSpool {
        version: 1,
        first_row: 0,
        offer_seed: None,
        certificates: vec![(
            ByteBuf::from(first.certificate.clone()),
            first
                .disclosures
                .iter()
                .cloned()
                .map(ByteBuf::from)
                .collect(),
        )],
    };
    let issuing = s.home.join("issuing");
    std::fs::write(
        issuing.join(format!("{}.spool", batch.root().to_hex())),
        to_cbor(&spool).unwrap(),
    )
    .unwrap();
    set_next_status_index(&s.home, 1);
    let now = now();
    let job = Job {
        version: 1,
        kind: KindId::new(NCR).unwrap(),
        input: Input::Csv {
            path: input.clone(),
            sha256: file_sha256(&input).unwrap(),
        },
        cwd: s.dir.dir().to_owned(),
        issued_at: now.secs(),
        valid_from: now.secs(),
        expires: now.plus(90 * 86_400).secs(),
        out: None,
        out_dir: Some(out.clone()),
        offer_url: None,
        total: 2,
        signed: 1,
        batch_size: 50_000,
        copies: 30,
    };
    let mut json = serde_json::to_value(&job).unwrap();
    json.as_object_mut().unwrap().remove("copies");
    std::fs::write(
        issuing.join("job.json"),
        serde_json::to_vec_pretty(&json).unwrap(),
    )
    .unwrap();

    // A new command waits for it; --resume finishes it.
    let err = issue_csv(NCR, &input)
        .out_dir(&s.dir.path("other"))
        .run(&s.home)
        .fails_with(3);
    assert!(err.contains("issue --resume"), "{err}");
    let text = s.run(&["issue", "--resume"]).ok();
    assert!(
        text.contains("Issued 1 no-criminal-record certificate(s),"),
        "{text}"
    );
    assert!(
        text.contains("Issued 1 no-criminal-record certificate(s) as 30 one-time copies each"),
        "{text}"
    );
    let name = |row: usize| {
        let holder = crypto::public_key(&holders[row - 2]).to_hex();
        out.join(format!("row{row:04}-{}.ecp", &holder[..8]))
    };
    let files: Vec<PathBuf> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 2, "{files:?}");
    // Row 2, signed whole before the interruption: delivered whole, as signed.
    let package = CertificatePackage::from_bytes(&std::fs::read(name(2)).unwrap()).unwrap();
    assert_eq!(package.certificate.as_slice(), first.certificate.as_slice());
    verdict_whole(&s, &package, &holders[0]).unwrap();
    // Row 3: issued as 30 copies, with indexes after those reserved before.
    let copies = CopyPackage::from_bytes(&std::fs::read(name(3)).unwrap()).unwrap();
    assert_eq!(copies.copies.len(), 30);
    assert!(copies.copies.iter().all(|c| c.status_index.0 >= 1));
    verdict_copy(&s, &copies, 29, &holders[1]).unwrap();
    assert_eq!(s.node.anchors().len(), 2);
    assert!(!issuing.join("job.json").exists());
    let list = s.run(&["list"]).ok();
    assert!(list.contains("2 certificate(s)"), "{list}");
    assert!(s.run(&["audit"]).ok().contains("All in order"));
    assert_eq!(
        copies.issued_at,
        UnixTime(job.issued_at),
        "the job's times are kept"
    );
}

//! The story in one process: the real issuer, ledger state machine, certification,
//! wallet and verifier code, with no network between them (`story --in-process`).

use std::path::Path;

use anyhow::{bail, Context, Result};
use ecert_qr::render;
use ecert_schemas::ledger::RevocationReason;
use ecert_schemas::{Certificate, CertificatePackage, UnixTime};
use ecert_testnet::province::Province;
use ecert_testnet::sample;
use ecert_verifier::{verify_presentation, Policy, Verdict};
use ecert_wallet::{present, HolderKey, Selection};
use rand_core::OsRng;

/// The current time (whole seconds).
pub fn now() -> Result<UnixTime> {
    Ok(ecert_shell::clock::now()?)
}

fn step(n: u32, text: &str) {
    ecert_shell::outln!("\n[{n}] {text}");
}

/// Runs the in-process story, writing the QR files to `out`.
pub fn story(out: &Path) -> Result<()> {
    let mut rng = OsRng;
    let start = now()?;
    let genesis = start.minus(3600);

    step(
        1,
        "Four departments start the provincial ledger (in-process validators)",
    );
    let mut province = Province::new("ecert-demo-province", genesis, &mut rng)?;
    for (i, d) in province.departments.iter().enumerate() {
        let kinds: Vec<&str> = d.kinds.iter().map(|k| k.as_str()).collect();
        ecert_shell::outln!(
            "    validator #{i}: {:<16} issues {}",
            d.id.as_str(),
            kinds.join(", ")
        );
    }

    step(2, "A citizen creates a wallet");
    let wallet = HolderKey::generate(&mut rng);
    ecert_shell::outln!("    holder key {}", wallet.public_key());

    step(3, "Departments issue four certificates; each batch is anchored and certified by 4 of 4 validators");
    let t = start.minus(600);
    let mut packages = Vec::new();
    for (department, order) in sample::by_department(start) {
        let issued =
            province.issue_and_anchor(department, wallet.public_key(), &[order], t, &mut rng)?;
        packages.push(one(issued)?);
    }
    for p in &packages {
        let cert = Certificate::from_bytes(&p.certificate)?;
        ecert_shell::outln!(
            "    {:<22} from {:<16} anchored in batch {} ({} bytes)",
            cert.claims.kind.as_str(),
            cert.claims.issuer.as_str(),
            p.anchor.batch_seq,
            p.certificate.len()
        );
    }
    let [id_card, _, _, record] = <[CertificatePackage; 4]>::try_from(packages)
        .map_err(|_| anyhow::anyhow!("expected the four sample certificates"))?;
    ecert_shell::outln!(
        "    ledger height {}, {} batches anchored",
        province.ledger().height(),
        province.ledger().anchors().len()
    );

    step(
        4,
        "The counter syncs while online (every header's quorum is checked)",
    );
    let counter = province.sync_counter()?;
    ecert_shell::outln!(
        "    synced certified header #{} with {} batches",
        counter.header().height,
        counter.anchor_count()
    );

    step(5, "The citizen shows ID card (name, ID number) + no-criminal-record (result, purpose) in one QR");
    let selections = [
        Selection {
            package: &id_card,
            fields: vec!["name".into(), "id_number".into()],
        },
        Selection {
            package: &record,
            fields: vec!["result".into(), "purpose".into()],
        },
    ];
    let shown_at = now()?;
    let presentation = present(&wallet, &province.kinds, &selections, shown_at, None)?;
    let qr = presentation.to_qr_string()?;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let png_path = out.join("presentation.png");
    std::fs::write(&png_path, render::to_png(&qr, 6)?)
        .with_context(|| format!("cannot write {}", png_path.display()))?;
    std::fs::write(out.join("presentation.svg"), render::to_svg(&qr)?)?;
    std::fs::write(out.join("presentation.txt"), &qr)?;
    ecert_shell::outln!(
        "    QR string: {} characters, QR version {} (level M)",
        qr.len(),
        render::qr_version(&qr)?
    );
    ecert_shell::outln!("    wrote {} (and .svg, .txt)", png_path.display());

    step(
        6,
        "The counter scans the PNG (a standard QR decoder) and verifies offline",
    );
    let scanned = scan_png(&png_path)?;
    if scanned != qr {
        bail!("the QR image decodes to a different string than the wallet encoded");
    }
    ecert_shell::outln!(
        "    the image decodes to the same {} characters",
        scanned.len()
    );
    let policy = Policy::default();
    let verdict = verify_presentation(&scanned, &counter, now()?, &policy);
    print_verdict(&verdict);
    if verdict.is_err() {
        bail!("the valid presentation was rejected");
    }

    step(
        7,
        "The court revokes the no-criminal-record certificate; the counter re-syncs",
    );
    let record_cert = Certificate::from_bytes(&record.certificate)?;
    province.revoke(
        "justice",
        &[record_cert.claims.status_index],
        RevocationReason::Withdrawn,
        now()?,
    )?;
    let counter = province.sync_counter()?;
    ecert_shell::outln!("    synced certified header #{}", counter.header().height);

    step(8, "The same QR code is verified again");
    let verdict = verify_presentation(&scanned, &counter, now()?, &policy);
    print_verdict(&verdict);
    match verdict {
        Err(ecert_verifier::VerifyError::Revoked { .. }) => {
            ecert_shell::outln!(
                "\nStory complete: valid before revocation, rejected as revoked after."
            );
            Ok(())
        }
        other => bail!("expected the revoked certificate to be rejected, got {other:?}"),
    }
}

fn one(mut packages: Vec<CertificatePackage>) -> Result<CertificatePackage> {
    packages.pop().context("the batch returned no package")
}

fn scan_png(path: &Path) -> Result<String> {
    let png = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    ecert_qr::scan::decode_image(&png)
        .with_context(|| format!("cannot read the QR code in {}", path.display()))
}

fn print_verdict(verdict: &Result<Verdict, ecert_verifier::VerifyError>) {
    match verdict {
        Ok(v) => {
            ecert_shell::outln!(
                "    ==> VALID  (holder proof signed at {}, revocation data {} s old)",
                v.signed_at,
                v.revocation_age_secs
            );
            for c in &v.certificates {
                ecert_shell::outln!(
                    "        {} — issued by {} — valid until {}",
                    c.kind_name,
                    c.issuer_name,
                    c.expires
                );
                for f in &c.disclosed {
                    ecert_shell::outln!("          {:<28} {}", f.label, f.value);
                }
            }
        }
        Err(e) => ecert_shell::outln!("    ==> INVALID: {e}  [{}]", e.code()),
    }
}

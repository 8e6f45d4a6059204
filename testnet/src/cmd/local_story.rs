//! The story in one process: the real issuer, ledger state machine, certification,
//! wallet and verifier code, with no network between them (`story --in-process`).
//!
//! Certificates are issued as one-time copies (format 2): each certificate is a set of
//! copies, each with its own holder key, salts, status index and place in its batch; the
//! wallet shows one unused copy of each certificate, and no certificate id reaches the
//! counter. The no-criminal-record certificate is shown only to registered employers and
//! offices (its kind's audience): the counter is registered by social security as an
//! employer's and asks with a signed request, which the wallet checks and answers.

use std::path::Path;

use anyhow::{bail, Context, Result};
use ecert_qr::render;
use ecert_schemas::copy::{CopyPackage, PresentationV2, PresentedCopy, DEFAULT_COPIES};
use ecert_schemas::ledger::RevocationReason;
use ecert_schemas::request::{
    CounterRegistration, CounterRegistrationBody, FieldsAsked, PresentationRequest, RequestBody,
};
use ecert_schemas::{FieldValue, KindId, Nonce, StatusIndex, UnixTime};
use ecert_testnet::province::{Order, Province};
use ecert_testnet::sample;
use ecert_verifier::request::{check_request, compare_answer, sign_request, RequestPolicy};
use ecert_verifier::{verify_presentation, Policy, Verdict};
use ecert_wallet::answer::check_unrequested;
use ecert_wallet::{certs, present_copies, CopySelection, Held, HolderKey};
use ed25519_dalek::SigningKey;
use rand_core::{OsRng, RngCore};

/// Other citizens whose certificates share each batch with the story's citizen's.
const NEIGHBOURS: [&str; 4] = ["王芳", "李娜", "刘洋", "陈静"];

/// The current time (whole seconds).
pub fn now() -> Result<UnixTime> {
    Ok(ecert_shell::clock::now()?)
}

fn step(n: u32, text: &str) {
    ecert_shell::outln!("\n[{n}] {text}");
}

/// A resident ID number (GB 11643: region, birth date, sequence, ISO 7064 MOD 11-2 check
/// character) of the sample citizen's region and birth date, with sequence `sequence`.
fn resident_id(sequence: u32) -> String {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let body = format!("11010819900307{:03}", sequence % 1000);
    let sum: u32 = body
        .bytes()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d.wrapping_sub(b'0')) * w)
        .sum();
    let check = CHECK
        .get((sum % 11) as usize)
        .copied()
        .map_or('0', char::from);
    format!("{body}{check}")
}

/// `order` for another citizen: their name and ID number (and licence number) instead of
/// the sample citizen's.
fn neighbour_order(order: &Order, name: &str, sequence: u32) -> Order {
    let mut order = order.clone();
    let id = resident_id(sequence);
    order
        .claims
        .insert("name".into(), FieldValue::Text(name.to_owned()));
    order
        .claims
        .insert("id_number".into(), FieldValue::Text(id.clone()));
    if order.claims.contains_key("licence_number") {
        order
            .claims
            .insert("licence_number".into(), FieldValue::Text(id));
    }
    order
}

/// Runs the in-process story, writing the QR files to `out`.
pub fn story(out: &Path) -> Result<()> {
    let mut rng = OsRng;
    let start = now()?;
    let genesis = start.minus(3600);
    let copies = DEFAULT_COPIES;

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

    step(
        3,
        &format!(
            "Departments issue four certificates as one-time copies ({copies} each), in \
             batches shared with {} other citizens; each batch is anchored and certified by \
             4 of 4 validators",
            NEIGHBOURS.len()
        ),
    );
    let t = start.minus(600);
    let mut packages = Vec::new();
    for (department, order) in sample::by_department(start) {
        let mut issued = province.issue_copies(
            department,
            wallet.public_key(),
            std::slice::from_ref(&order),
            copies,
            t,
            &mut rng,
        )?;
        for (n, name) in (1u32..).zip(NEIGHBOURS) {
            let neighbour = HolderKey::generate(&mut rng);
            let theirs = neighbour_order(&order, name, n);
            issued.extend(province.issue_copies(
                department,
                neighbour.public_key(),
                &[theirs],
                copies,
                t,
                &mut rng,
            )?);
        }
        let certificates = issued.len();
        let in_batch: usize = issued.iter().map(|c| c.copies.len()).sum();
        let mine = province
            .anchor_copies(department, issued, t, &mut rng)?
            .into_iter()
            .next()
            .context("the batch returned no package")?;
        let batch_seq = mine.copies.first().map_or(0, |c| c.batch_seq);
        ecert_shell::outln!(
            "    {:<22} from {:<16} {} copies in batch {} ({} certificates, {} copies), \
             package {} bytes",
            mine.kind.as_str(),
            mine.issuer.as_str(),
            mine.copies.len(),
            batch_seq,
            certificates,
            in_batch,
            mine.to_bytes()?.len()
        );
        packages.push(mine);
    }
    let [id_card, _, _, record] = <[CopyPackage; 4]>::try_from(packages)
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

    step(
        5,
        "An employer's counter, registered by social security, asks for name and ID number \
         from the ID card and the no-criminal-record result; the wallet answers in one QR, \
         one unused copy of each",
    );
    let shown_at = now()?;
    let employer = Employer::register(&province, shown_at, &mut rng)?;
    ecert_shell::outln!(
        "    counter {:?} ({}), registered by social-security, may ask {}",
        employer.registration.body.name,
        employer.registration.body.role,
        describe_asks(&employer.registration.body.may_ask)
    );
    // Without a request, the wallet will not show the no-criminal-record certificate.
    let held = [Held::from(id_card.clone()), Held::from(record.clone())];
    let entries = certs::entries(&held)?;
    let unrequested = certs::choose(
        &entries,
        &[("no-criminal-record".to_owned(), vec!["result".to_owned()])],
        &province.kinds,
        shown_at,
    )?;
    match check_unrequested(&unrequested, &province.kinds) {
        Err(refusal) => ecert_shell::outln!("    without a request the wallet refuses: {refusal}"),
        Ok(()) => bail!("the wallet would show the no-criminal-record certificate unasked"),
    }
    let request = employer.request(shown_at, &mut rng)?;
    let first = answer(
        &wallet,
        &province,
        &request,
        [&id_card, &record],
        0,
        shown_at,
    )?;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let png_path = out.join("presentation.png");
    std::fs::write(&png_path, render::to_png(&first, 6)?)
        .with_context(|| format!("cannot write {}", png_path.display()))?;
    std::fs::write(out.join("presentation.svg"), render::to_svg(&first)?)?;
    std::fs::write(out.join("presentation.txt"), &first)?;
    ecert_shell::outln!(
        "    copy 1 of {} of each; QR string: {} characters, QR version {} (level M)",
        copies,
        first.len(),
        render::qr_version(&first)?
    );
    ecert_shell::outln!("    wrote {} (and .svg, .txt)", png_path.display());

    step(
        6,
        "The counter scans the PNG (a standard QR decoder) and verifies offline",
    );
    let scanned = scan_png(&png_path)?;
    if scanned != first {
        bail!("the QR image decodes to a different string than the wallet encoded");
    }
    ecert_shell::outln!(
        "    the image decodes to the same {} characters",
        scanned.len()
    );
    let verdict = employer.check(&request, &scanned, &counter)?;

    step(
        7,
        "At another counter (here: the employer's next request) the wallet answers again: \
         other copies",
    );
    let request = employer.request(now()?, &mut rng)?;
    let second = answer(&wallet, &province, &request, [&id_card, &record], 1, now()?)?;
    ecert_shell::outln!(
        "    copy 2 of {} of each; QR string: {} characters, QR version {} (level M)",
        copies,
        second.len(),
        render::qr_version(&second)?
    );
    let again = employer.check(&request, &second, &counter)?;
    compare(&first, &second, &Ok(verdict), &Ok(again))?;

    step(
        8,
        &format!(
            "The court revokes the no-criminal-record certificate: all {} of its copies' \
             status indexes; the counter re-syncs",
            record.copies.len()
        ),
    );
    let indexes: Vec<StatusIndex> = record.copies.iter().map(|c| c.status_index).collect();
    province.revoke("justice", &indexes, RevocationReason::Withdrawn, now()?)?;
    let counter = province.sync_counter()?;
    ecert_shell::outln!(
        "    {} status indexes revoked in one transaction; synced certified header #{}",
        indexes.len(),
        counter.header().height
    );

    step(
        9,
        "Both QR codes are verified again, and a third made now with a copy never shown, \
         answering a new request",
    );
    let request = employer.request(now()?, &mut rng)?;
    let third = answer(&wallet, &province, &request, [&id_card, &record], 2, now()?)?;
    let policy = Policy::default();
    let mut all_revoked = true;
    for (name, qr) in [("first", &scanned), ("second", &second), ("third", &third)] {
        ecert_shell::outln!("    the {name} code:");
        let verdict = verify_presentation(qr, &counter, now()?, &policy);
        print_verdict(&verdict);
        all_revoked &= matches!(verdict, Err(ecert_verifier::VerifyError::Revoked { .. }));
    }
    if !all_revoked {
        bail!("expected every copy of the revoked certificate to be rejected as revoked");
    }
    let id_only = show_one(&wallet, &province, &id_card, 3, now()?)?;
    let verdict = verify_presentation(&id_only, &counter, now()?, &policy);
    ecert_shell::outln!("    the ID card alone, another copy:");
    print_verdict(&verdict);
    if verdict.is_err() {
        bail!("the ID card was not revoked and must still verify");
    }
    ecert_shell::outln!(
        "\nStory complete: valid before revocation, every copy rejected as revoked after."
    );
    Ok(())
}

/// What the employer's counter asks for: name and ID number from the ID card, the result
/// from the no-criminal-record certificate.
fn employer_asks() -> Result<Vec<FieldsAsked>> {
    Ok(vec![
        FieldsAsked {
            kind: KindId::new("id-card")?,
            fields: vec!["name".into(), "id_number".into()],
        },
        FieldsAsked {
            kind: KindId::new("no-criminal-record")?,
            fields: vec!["result".into()],
        },
    ])
}

fn describe_asks(asks: &[FieldsAsked]) -> String {
    asks.iter()
        .map(|a| format!("{}: {}", a.kind, a.fields.join(", ")))
        .collect::<Vec<_>>()
        .join("; ")
}

/// A counter that asks: its own key, registered by social security as an employer's.
struct Employer {
    key: SigningKey,
    registration: CounterRegistration,
}

impl Employer {
    /// The counter's key, and social security's registration of it, valid 30 days from
    /// `now`.
    fn register(province: &Province, now: UnixTime, rng: &mut OsRng) -> Result<Employer> {
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        let key = SigningKey::from_bytes(&seed);
        let department = province.department("social-security")?;
        let registration =
            department
                .issuer_key
                .sign_counter_registration(CounterRegistrationBody {
                    chain_id: province.ledger().chain_id().clone(),
                    department: department.id.clone(),
                    key_id: department.issuer_key.key_id(),
                    counter_key: ecert_verifier::crypto::public_key(&key),
                    name: "Riverside Logistics, hiring desk".into(),
                    name_local: Some("河畔物流招聘处".into()),
                    role: "employer".into(),
                    may_ask: employer_asks()?,
                    valid_from: now.minus(60),
                    valid_until: now.plus(30 * 86_400),
                })?;
        Ok(Employer { key, registration })
    }

    /// A fresh request at `now`.
    fn request(&self, now: UnixTime, rng: &mut OsRng) -> Result<PresentationRequest> {
        let mut nonce = vec![0u8; 16];
        rng.fill_bytes(&mut nonce);
        Ok(sign_request(
            &self.key,
            RequestBody {
                registration: self.registration.clone(),
                asks: employer_asks()?,
                purpose: "Job application".into(),
                nonce: Nonce::new(nonce)?,
                time: now,
            },
        )?)
    }

    /// The counter's check of `qr` as the answer to `request`: valid, bound to the
    /// request, exactly the fields asked.
    fn check(
        &self,
        request: &PresentationRequest,
        qr: &str,
        counter: &ecert_verifier::TrustStore,
    ) -> Result<Verdict> {
        let policy = Policy {
            expected_nonce: Some(request.binding()?),
            ..Policy::default()
        };
        let verdict = verify_presentation(qr, counter, now()?, &policy);
        print_verdict(&verdict);
        let verdict = verdict.map_err(|e| anyhow::anyhow!("the answer was rejected: {e}"))?;
        let check = compare_answer(&verdict, &request.body.asks);
        if !check.missing.is_empty() || !check.unasked.is_empty() {
            bail!("the answer is not exactly what was asked: {check:?}");
        }
        ecert_shell::outln!(
            "    the answer to this counter's request, with exactly the fields asked"
        );
        Ok(verdict)
    }
}

/// The wallet's answer to `request` at `time`: the request checked against the ledger's
/// registry, then copy `copy` of the certificate of each kind asked (`packages`: the ID
/// card and the no-criminal-record certificate) with exactly the fields asked, bound to the
/// request, as a QR string.
fn answer(
    wallet: &HolderKey,
    province: &Province,
    request: &PresentationRequest,
    packages: [&CopyPackage; 2],
    copy: usize,
    time: UnixTime,
) -> Result<String> {
    let checked = check_request(
        request,
        province.ledger().registry(),
        province.ledger().chain_id(),
        &province.kinds,
        time,
        &RequestPolicy::default(),
    )?;
    let held = packages.map(|p| Held::from(p.clone()));
    let entries = certs::entries(&held)?;
    let answer = ecert_wallet::answer::answer(&checked, &entries, &province.kinds, time);
    if let Some(declined) = answer.declined.first() {
        bail!("the wallet declined {}: {}", declined.kind, declined.reason);
    }
    let selections = answer
        .choices
        .iter()
        .map(|choice| {
            let package = packages
                .into_iter()
                .find(|p| &p.kind == choice.entry.kind_id())
                .context("the wallet chose a certificate it does not hold")?;
            Ok(CopySelection {
                package,
                copy,
                fields: choice.fields.clone(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let presentation = present_copies(
        wallet,
        &province.kinds,
        &selections,
        time,
        Some(checked.binding),
    )?;
    Ok(presentation.to_qr_string()?)
}

/// Copy `copy` of `package` (name only) at `time`, as a QR string.
fn show_one(
    wallet: &HolderKey,
    province: &Province,
    package: &CopyPackage,
    copy: usize,
    time: UnixTime,
) -> Result<String> {
    let selection = [CopySelection {
        package,
        copy,
        fields: vec!["name".into()],
    }];
    let presentation = present_copies(wallet, &province.kinds, &selection, time, None)?;
    Ok(presentation.to_qr_string()?)
}

/// The copies a QR string shows.
fn copies_in(qr: &str) -> Result<Vec<PresentedCopy>> {
    let bytes = ecert_schemas::codec::qr::decode_qr(qr)?;
    Ok(PresentationV2::from_bytes(&bytes)?.decode_items()?)
}

/// What two presentations of the same certificates have in common, as a counter sees them.
fn compare(
    first: &str,
    second: &str,
    verdict: &Result<Verdict, ecert_verifier::VerifyError>,
    again: &Result<Verdict, ecert_verifier::VerifyError>,
) -> Result<()> {
    let (a, b) = (copies_in(first)?, copies_in(second)?);
    let keys_shared = a.iter().any(|x| b.iter().any(|y| x.holder == y.holder));
    // Status indexes are per issuer: compare the copies of the same certificate (its
    // batch), not an ID card's index with a court's.
    let indexes_shared = a.iter().any(|x| {
        b.iter()
            .any(|y| x.batch_seq == y.batch_seq && x.status_index == y.status_index)
    });
    let signatures_shared = a
        .iter()
        .any(|x| b.iter().any(|y| x.signature == y.signature));
    let ids_shown = [verdict, again]
        .into_iter()
        .filter_map(|v| v.as_ref().ok())
        .flat_map(|v| v.certificates.iter())
        .filter(|c| c.id.is_some())
        .count();
    for (name, items) in [("first ", &a), ("second", &b)] {
        for item in items {
            ecert_shell::outln!(
                "    {name} code: holder key {}…, status index {:>4}, place {:>3} in batch {}",
                item.holder.to_hex().get(..16).unwrap_or_default(),
                item.status_index.0,
                item.leaf_index,
                item.batch_seq
            );
        }
    }
    ecert_shell::outln!(
        "    shared by the two codes: holder keys {}, status indexes {}, issuer signatures \
         {}, certificate ids shown {}",
        if keys_shared { "YES" } else { "none" },
        if indexes_shared { "YES" } else { "none" },
        if signatures_shared { "YES" } else { "none" },
        ids_shown
    );
    if keys_shared || indexes_shared || signatures_shared || ids_shown > 0 {
        bail!("two presentations of other copies share something a counter could match");
    }
    Ok(())
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

//! `issue`: claims in, certificates signed, one batch anchored and proven, packages and
//! offers out, everything recorded.
//!
//! Order, so that nothing recorded is ever lost and no status index is used twice:
//! input checked → output names checked → key unlocked → status indexes reserved (written
//! to disk) → certificates signed → batch recorded as `submitted` → anchor transaction
//! sent, waiting for certification → receipt fetched and verified against the trust
//! anchor → package files and offers written → batch recorded as `anchored`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use ecert_issuer::anchoring::{batch_file, check_receipt};
use ecert_issuer::claims_input::{
    check_entitled, parse_claims_file, parse_csv, parse_holder, ClaimsFormat, InputRow,
};
use ecert_issuer::home::{read_bounded, write_atomically, Existing, Home};
use ecert_issuer::node::{NodeClient, NodeError, Wait};
use ecert_issuer::offer::{self, Offer, OfferStore};
use ecert_issuer::register::{short_id, BatchFile, BatchState};
use ecert_issuer::{issue, Batch, CertificateRequest, IssuedCertificate, IssuerKey};
use ecert_schemas::ledger::Transaction;
use ecert_schemas::{Kind, KindId, KindRegistry, StatusIndex, UnixTime};
use ecert_verifier::commit::transaction_hash;
use indicatif::{ProgressBar, ProgressStyle};
use rand_core::OsRng;

use super::{date, node_client, now, print, SUBMIT_WAIT_MS};
use crate::cli::IssueArgs;
use crate::exit::{self, Failure};
use crate::secrets;

/// Largest claims or CSV file read (64 MiB).
const MAX_INPUT_BYTES: u64 = 64 * 1024 * 1024;
/// Most certificates in one command (one batch).
const MAX_BATCH: usize = 100_000;
/// How often, and how far apart, the anchor receipt is asked for.
const RECEIPT_ATTEMPTS: u32 = 30;
const RECEIPT_PAUSE: Duration = Duration::from_secs(1);
/// Offers drawn as QR codes on the screen at most (more are listed as text).
const MAX_QR_SHOWN: usize = 10;

/// The kind, by id, with a helpful list when unknown.
pub fn kind<'a>(kinds: &'a KindRegistry, id: &str) -> Result<&'a Kind> {
    let known = || {
        kinds
            .iter()
            .map(|k| k.id.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let id = KindId::new(id.to_owned())
        .map_err(|_| Failure::input(format!("unknown kind {id:?} (kinds: {})", known())))?;
    kinds
        .get(&id)
        .map_err(|_| Failure::input(format!("unknown kind {id} (kinds: {})", known())).into())
}

fn read_text(path: &Path) -> Result<String> {
    let bytes = read_bounded(path, MAX_INPUT_BYTES)
        .map_err(|e| Failure::input(format!("cannot read the input: {e}")))?;
    String::from_utf8(bytes)
        .map_err(|_| Failure::input(format!("{} is not UTF-8 text", path.display())).into())
}

/// The certificates asked for, checked.
fn read_input(kind: &Kind, args: &IssueArgs) -> Result<Vec<InputRow>> {
    if let Some(path) = &args.csv {
        let text = read_text(path)?;
        let rows = parse_csv(kind, text.trim_start_matches('\u{feff}'))
            .with_context(|| format!("{} was not issued; nothing was issued", path.display()))?;
        if rows.len() > MAX_BATCH {
            return Err(Failure::input(format!(
                "{} has {} rows; at most {MAX_BATCH} certificates can be issued in one command",
                path.display(),
                rows.len()
            ))
            .into());
        }
        return Ok(rows);
    }
    let (Some(path), Some(holder)) = (&args.claims, &args.holder) else {
        return Err(Failure::input("give --claims FILE --holder WALLET_ID, or --csv FILE").into());
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let format = ClaimsFormat::of_file_name(&name).ok_or_else(|| {
        Failure::input(format!(
            "{}: a claims file must end in .json or .toml",
            path.display()
        ))
    })?;
    let holder = parse_holder(holder).map_err(|m| Failure::input(format!("--holder: {m}")))?;
    let text = read_text(path)?;
    let claims = parse_claims_file(kind, format, text.trim_start_matches('\u{feff}'))
        .with_context(|| format!("{}: nothing was issued", path.display()))?;
    Ok(vec![InputRow {
        row: None,
        holder,
        claims,
    }])
}

/// Where each package goes (`None`: no file).
fn plan_outputs(kind: &Kind, args: &IssueArgs, rows: &[InputRow]) -> Result<Vec<Option<PathBuf>>> {
    if let Some(out) = &args.out {
        return Ok(vec![Some(out.clone())]);
    }
    if args.offer && args.out_dir.is_none() {
        return Ok(vec![None; rows.len()]);
    }
    let dir = args.out_dir.clone().unwrap_or_else(|| PathBuf::from("."));
    Ok(rows
        .iter()
        .map(|r| {
            let holder: String = r.holder.to_hex().chars().take(8).collect();
            let name = match r.row {
                Some(row) => format!("row{row:04}-{holder}.ecp"),
                None => format!("{}-{holder}.ecp", kind.id),
            };
            Some(dir.join(name))
        })
        .collect())
}

/// Marks the batch record with a state and detail, keeping the first error.
fn record_state(home: &Home, record: &mut BatchFile, state: BatchState, detail: String) {
    record.state = state;
    record.detail = Some(detail);
    if let Err(e) = home.write_batch(record) {
        eprintln!("warning: could not update the batch record: {e}");
    }
}

/// `issue`.
pub fn run(home: &Home, args: &IssueArgs) -> Result<u8> {
    let config = home.config()?;
    let issuer = config.issuer_id()?;
    let node_url = config.node_url()?.to_owned();
    let anchor = home.require_anchor()?;
    let serve_url = if args.offer {
        Some(config.serve_url()?.to_owned())
    } else {
        None
    };
    let kinds = KindRegistry::builtin()?;
    let kind = kind(&kinds, &args.kind)?;
    check_entitled(kind, &issuer)?;
    let days = args.valid_days.unwrap_or(kind.validity.max_days);
    if days > kind.validity.max_days {
        return Err(Failure::input(format!(
            "--valid-days {days}: {} certificates may be valid for at most {} days",
            kind.id, kind.validity.max_days
        ))
        .into());
    }
    let rows = read_input(kind, args)?;
    let outputs = plan_outputs(kind, args, &rows)?;
    for path in outputs.iter().flatten() {
        if path.exists() {
            return Err(Failure::input(format!(
                "{} already exists; nothing was issued (choose another --out or --out-dir)",
                path.display()
            ))
            .into());
        }
    }

    for path in outputs.iter().flatten() {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                Failure::input(format!(
                    "cannot create the folder {}: {e}; nothing was issued",
                    dir.display()
                ))
            })?;
        }
    }

    let _lock = home.lock()?;
    let key = secrets::unlock(home, issuer)?;
    let now = now()?;
    let valid_from = now;
    let expires = now.plus(u64::from(days) * 86_400);
    let count = u32::try_from(rows.len()).map_err(|_| Failure::input("too many rows"))?;
    let first = home.reserve_status_indexes(count)?;

    let issued = sign_all(
        &key,
        &kinds,
        kind,
        &rows,
        first,
        valid_from,
        expires,
        now,
        args.csv.is_some(),
    )?;
    let batch = Batch::new(&key, issued)?;
    let tx = Transaction::AnchorBatch(batch.anchor_transaction(&key, &anchor.chain_id)?);
    let mut record = batch_file(&batch, &key, now)?;
    record.tx_hash = Some(transaction_hash(&tx.to_bytes()?));
    home.write_batch(&record)?;

    let client = node_client(&node_url);
    eprintln!(
        "Anchoring {} certificate(s) on the ledger ({node_url}); waiting until it is certified...",
        batch.len()
    );
    if let Err(e) = client.submit(&tx, Wait::Certified, SUBMIT_WAIT_MS) {
        let refused = matches!(e, NodeError::Refused { .. });
        let state = if refused {
            BatchState::Refused
        } else {
            BatchState::Undelivered
        };
        record_state(home, &mut record, state, e.to_string());
        let hint = if refused {
            "nothing was issued (the certificates were never valid)"
        } else {
            "the batch may still be anchored later; 'ecert-issuer audit' will show it. Issue the \
             certificates again if needed, and revoke the undelivered ones"
        };
        return Err(anyhow::Error::new(e).context(format!(
            "batch {} was not anchored: {hint}",
            short_hex(&record.root.to_hex())
        )));
    }
    let verified = match fetch_and_check(&client, &anchor, &batch, &key) {
        Ok(v) => v,
        Err(e) => {
            record_state(home, &mut record, BatchState::Undelivered, format!("{e:#}"));
            return Err(e.context(format!(
                "batch {} was submitted but its anchoring was not proven; no certificate was \
                 delivered",
                short_hex(&record.root.to_hex())
            )));
        }
    };

    let packages = batch.packages(verified.batch_seq);
    let offers = OfferStore::new(home.offers_dir());
    let mut shown = Vec::new();
    let delivered = deliver(
        &batch,
        &packages,
        &outputs,
        serve_url.as_deref(),
        &offers,
        now,
        &mut record,
        &mut shown,
    );
    record.batch_seq = Some(verified.batch_seq);
    record.height = Some(verified.record.height);
    record.anchored_at_ms = Some(verified.record.time_ms);
    if let Err(e) = delivered {
        record_state(home, &mut record, BatchState::Undelivered, format!("{e:#}"));
        return Err(e.context("the batch is anchored, but its certificates were not all delivered"));
    }
    record.state = BatchState::Anchored;
    record.detail = None;
    home.write_batch(&record)?;

    print(&summary(kind, &rows, &record, &shown, now)?)?;
    Ok(exit::OK)
}

#[allow(clippy::too_many_arguments)]
fn sign_all(
    key: &IssuerKey,
    kinds: &KindRegistry,
    kind: &Kind,
    rows: &[InputRow],
    first: u32,
    valid_from: UnixTime,
    expires: UnixTime,
    now: UnixTime,
    progress: bool,
) -> Result<Vec<IssuedCertificate>> {
    let bar = if progress {
        let bar = ProgressBar::new(rows.len() as u64);
        if let Ok(style) = ProgressStyle::with_template("Signing {bar:40} {pos}/{len} certificates")
        {
            bar.set_style(style);
        }
        bar
    } else {
        ProgressBar::hidden()
    };
    let mut issued = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let index = u32::try_from(i)
            .ok()
            .and_then(|i| first.checked_add(i))
            .ok_or_else(|| Failure::input("too many certificates"))?;
        let request = CertificateRequest {
            kind: kind.id.clone(),
            claims: row.claims.clone(),
            holder: row.holder,
            valid_from,
            expires,
            status_index: StatusIndex(index),
        };
        let cert = issue(key, kinds, &request, now, &mut OsRng).map_err(|e| {
            let at = row.row.map(|r| format!("row {r}: ")).unwrap_or_default();
            Failure::input(format!("{at}{e}; nothing was issued"))
        })?;
        issued.push(cert);
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(issued)
}

fn fetch_and_check(
    client: &NodeClient,
    anchor: &ecert_verifier::TrustAnchor,
    batch: &Batch,
    key: &IssuerKey,
) -> Result<ecert_verifier::VerifiedAnchor> {
    let receipt = client.anchor_receipt_retrying(&batch.root(), RECEIPT_ATTEMPTS, RECEIPT_PAUSE)?;
    Ok(check_receipt(&receipt, anchor, batch, key)?)
}

/// One delivered certificate, for the summary.
struct Shown {
    id: String,
    holder: String,
    status_index: u32,
    file: Option<PathBuf>,
    offer: Option<(String, String)>,
}

#[allow(clippy::too_many_arguments)]
fn deliver(
    batch: &Batch,
    packages: &[ecert_schemas::CertificatePackage],
    outputs: &[Option<PathBuf>],
    serve_url: Option<&str>,
    offers: &OfferStore,
    now: UnixTime,
    record: &mut BatchFile,
    shown: &mut Vec<Shown>,
) -> Result<()> {
    if packages.len() != batch.len() || outputs.len() != batch.len() {
        return Err(anyhow::anyhow!(
            "internal error: package count does not match the batch"
        ));
    }
    for ((package, output), entry) in packages
        .iter()
        .zip(outputs)
        .zip(record.certificates.iter_mut())
    {
        let bytes = package.to_bytes()?;
        if let Some(path) = output {
            write_atomically(path, &bytes, Existing::Refuse)?;
            entry.package_file = Some(path.display().to_string());
        }
        let mut offer_shown = None;
        if let Some(serve_url) = serve_url {
            let code = offer::new_code(&mut OsRng);
            offers.create(&Offer {
                code: code.clone(),
                certificate: entry.id,
                holder: entry.holder,
                created_at: now.secs(),
                package: bytes,
            })?;
            entry.offer = Some(code.clone());
            offer_shown = Some((code.clone(), offer::offer_url(serve_url, &code)));
        }
        shown.push(Shown {
            id: short_id(&entry.id),
            holder: entry.holder.to_hex().chars().take(8).collect(),
            status_index: entry.status_index,
            file: output.clone(),
            offer: offer_shown,
        });
    }
    Ok(())
}

fn short_hex(hex: &str) -> String {
    format!("{}…", hex.chars().take(16).collect::<String>())
}

fn summary(
    kind: &Kind,
    rows: &[InputRow],
    record: &BatchFile,
    shown: &[Shown],
    now: UnixTime,
) -> Result<String> {
    let mut text = format!(
        "Issued {} {} certificate(s), valid {} to {}.\n\
         Batch {} anchored at position {} of the ledger's anchor log (block {}), proven against \
         the trust anchor.\n\n",
        rows.len(),
        kind.id,
        date(now.secs()),
        date(record.certificates.first().map_or(0, |c| c.expires)),
        short_hex(&record.root.to_hex()),
        record.batch_seq.unwrap_or_default(),
        record.height.unwrap_or_default(),
    );
    text.push_str("ID        HOLDER    STATUS#   DELIVERY\n");
    for s in shown {
        let mut delivery = Vec::new();
        if let Some(f) = &s.file {
            delivery.push(f.display().to_string());
        }
        if let Some((code, _)) = &s.offer {
            delivery.push(format!("offer {code}"));
        }
        text.push_str(&format!(
            "{:<8}  {:<8}  {:<8}  {}\n",
            s.id,
            s.holder,
            s.status_index,
            delivery.join(", ")
        ));
    }
    let offers: Vec<&(String, String)> = shown.iter().filter_map(|s| s.offer.as_ref()).collect();
    if !offers.is_empty() {
        text.push_str(
            "\nGive each citizen their offer code. Their wallet fetches the certificate from \
             'ecert-issuer serve' (it must be running); only the wallet the certificate was \
             issued to can use the code, once.\n",
        );
        for (s, (code, url)) in shown
            .iter()
            .filter_map(|s| s.offer.as_ref().map(|o| (s, o)))
        {
            text.push_str(&format!(
                "\nCertificate {} — offer code {code}\n{url}\n",
                s.id
            ));
            if offers.len() <= MAX_QR_SHOWN {
                match ecert_wallet::render::to_terminal(url) {
                    Ok(qr) => text.push_str(&qr),
                    Err(e) => text.push_str(&format!("(no QR code: {e})\n")),
                }
            }
        }
        if offers.len() > MAX_QR_SHOWN {
            text.push_str(&format!(
                "\n({} offers: QR codes are not drawn for more than {MAX_QR_SHOWN}; the offer \
                 URLs above can be turned into QR codes by any QR tool.)\n",
                offers.len()
            ));
        }
    }
    Ok(text)
}

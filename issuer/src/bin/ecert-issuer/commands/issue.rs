//! `issue`: the input checked whole, then the issuance workflow
//! ([`ecert_issuer::issuance`]) run with the configured ledger node, a progress bar and a
//! summary per delivered batch; `issue --resume` finishes an interrupted one.

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use ecert_issuer::claims_input::{check_entitled, parse_holder, InputProblem};
use ecert_issuer::home::Home;
use ecert_issuer::issuance::job::{
    file_sha256, names_in, package_name, read_claims_row, survey_csv, Input, Job, JOB_VERSION,
};
use ecert_issuer::issuance::{self, Context, IssuanceError, Progress};
use ecert_issuer::node::NodeError;
use ecert_issuer::offer;
use ecert_issuer::register::{short_id, BatchFile};
use ecert_schemas::{Kind, KindId, KindRegistry};
use indicatif::{ProgressBar, ProgressStyle};

use super::{copies_cell, date, node_client, now};
use crate::cli::IssueArgs;
use crate::exit;
use crate::secrets;

/// Offers drawn as QR codes on the screen at most (more are listed as text).
const MAX_QR_SHOWN: u64 = 10;

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
        .map_err(|_| exit::input(format!("unknown kind {id:?} (kinds: {})", known())))?;
    kinds
        .get(&id)
        .map_err(|_| exit::input(format!("unknown kind {id} (kinds: {})", known())).into())
}

/// The input checked whole (every row, every package name free) and described as a job.
fn plan(kind: &Kind, args: &IssueArgs, cwd: PathBuf, offer_url: Option<String>) -> Result<Job> {
    let out_dir = if args.out.is_some() || (args.offer && args.out_dir.is_none()) {
        None
    } else {
        Some(args.out_dir.clone().unwrap_or_else(|| PathBuf::from(".")))
    };
    let mut job = Job {
        version: JOB_VERSION,
        kind: kind.id.clone(),
        input: Input::Csv {
            path: PathBuf::new(),
            sha256: String::new(),
        },
        cwd,
        issued_at: 0,
        valid_from: 0,
        expires: 0,
        out: args.out.clone(),
        out_dir,
        offer_url,
        total: 0,
        signed: 0,
        batch_size: args.batch_size,
        copies: args.copies,
    };
    let taken = job.out_dir.as_deref().map(names_in).transpose()?;
    let exists = |path: &Path| {
        exit::input(format!(
            "{} already exists; nothing was issued (choose another --out or --out-dir)",
            path.display()
        ))
    };
    if let Some(path) = &args.csv {
        let first_taken: RefCell<Option<PathBuf>> = RefCell::new(None);
        let survey = survey_csv(kind, path, |row| {
            if let Some(names) = &taken {
                let name = package_name(&kind.id, row.row, &row.holder);
                if names.contains(std::ffi::OsStr::new(&name)) {
                    first_taken.borrow_mut().get_or_insert_with(|| {
                        job.package_path(row.row, &row.holder).unwrap_or_default()
                    });
                }
            }
            Ok::<(), InputProblem>(())
        })
        .with_context(|| format!("{} was not issued; nothing was issued", path.display()))?;
        if let Some(path) = first_taken.into_inner() {
            return Err(exists(&path).into());
        }
        job.input = Input::Csv {
            path: path.clone(),
            sha256: survey.sha256,
        };
        job.total = survey.rows;
        return Ok(job);
    }
    let (Some(path), Some(holder)) = (&args.claims, &args.holder) else {
        return Err(exit::input("give --claims FILE --holder WALLET_ID, or --csv FILE").into());
    };
    let holder = parse_holder(holder).map_err(|m| exit::input(format!("--holder: {m}")))?;
    read_claims_row(kind, path, holder)
        .with_context(|| format!("{}: nothing was issued", path.display()))?;
    if let Some(out) = job.package_path(None, &holder) {
        if out.exists() {
            return Err(exists(&out).into());
        }
    }
    job.input = Input::Claims {
        path: path.clone(),
        sha256: file_sha256(path)?,
        holder: holder.to_hex(),
    };
    job.total = 1;
    Ok(job)
}

/// `issue`.
pub fn run(home: &Home, args: &IssueArgs, net: &ecert_client::Transport) -> Result<()> {
    let config = home.config()?;
    let issuer = config.issuer_id()?;
    let node_url = config.node_url()?.to_owned();
    let anchor = home.require_anchor()?;
    let kinds = KindRegistry::builtin()?;
    let ledger = node_client(&node_url, net)?;
    if args.resume {
        let _lock = home.lock()?;
        let job = issuance::pending_job(home)?.ok_or(IssuanceError::NothingPending)?;
        let key = secrets::unlock(home, issuer)?;
        let shell = Shell::new(&node_url, &job, true);
        let ctx = context(home, &key, &kinds, &anchor, &ledger, &shell);
        let kind_of = |id: &KindId| kinds.get(id).ok().cloned();
        let outcome = issuance::resume(&ctx, kind_of).map_err(|e| explain(e, &job, home))?;
        return shell.finish(outcome);
    }
    let Some(kind_name) = args.kind.as_deref() else {
        return Err(exit::input("give --kind KIND, or --resume").into());
    };
    let serve_url = if args.offer {
        Some(config.serve_url()?.to_owned())
    } else {
        None
    };
    let kind = kind(&kinds, kind_name)?;
    check_entitled(kind, &issuer)?;
    let days = args.valid_days.unwrap_or(kind.validity.max_days);
    if days > kind.validity.max_days {
        return Err(exit::input(format!(
            "--valid-days {days}: {} certificates may be valid for at most {} days",
            kind.id, kind.validity.max_days
        ))
        .into());
    }
    if issuance::is_pending(home)? {
        return Err(IssuanceError::Pending.into());
    }
    let cwd = std::env::current_dir().context("cannot tell the current folder")?;
    let mut job = plan(kind, args, cwd, serve_url)?;
    let dirs = [
        job.out
            .as_ref()
            .and_then(|o| o.parent().map(Path::to_owned)),
        job.out_dir.clone(),
    ];
    for dir in dirs.iter().flatten().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| {
            exit::input(format!(
                "cannot create the folder {}: {e}; nothing was issued",
                dir.display()
            ))
        })?;
    }

    let _lock = home.lock()?;
    let key = secrets::unlock(home, issuer)?;
    let now = now()?;
    job.issued_at = now.secs();
    job.valid_from = now.secs();
    job.expires = now.plus(u64::from(days) * 86_400).secs();
    let shell = Shell::new(&node_url, &job, args.csv.is_some());
    let ctx = context(home, &key, &kinds, &anchor, &ledger, &shell);
    let outcome = issuance::start(&ctx, kind, job.clone()).map_err(|e| explain(e, &job, home))?;
    shell.finish(outcome)
}

pub(super) fn context<'a, P: Progress>(
    home: &'a Home,
    key: &'a ecert_issuer::IssuerKey,
    kinds: &'a KindRegistry,
    anchor: &'a ecert_verifier::TrustAnchor,
    ledger: &'a ecert_issuer::node::NodeClient,
    progress: &'a P,
) -> Context<'a, ecert_issuer::node::NodeClient, P> {
    Context {
        home,
        key,
        kinds,
        anchor,
        ledger,
        progress,
        threads: std::thread::available_parallelism().map_or(1, usize::from),
    }
}

/// The error, with what to do next.
pub(super) fn explain(e: IssuanceError, job: &Job, home: &Home) -> anyhow::Error {
    // Stopped before the job was recorded (a full disk, say): nothing to resume.
    if matches!(e, IssuanceError::Home(_)) && !issuance::is_pending(home).unwrap_or(true) {
        return anyhow::Error::new(e).context(format!(
            "{} was not issued: nothing was issued; run the same command again once the \
             problem is solved",
            job.input_path().display()
        ));
    }
    let hint = match &e {
        IssuanceError::NotAnchored {
            source: NodeError::Refused { .. },
            ..
        } => "nothing more was issued (the certificates of that batch were never valid)",
        IssuanceError::NotAnchored { .. }
        | IssuanceError::NotProven { .. }
        | IssuanceError::Home(_)
        | IssuanceError::WorkerFailed => {
            "nothing signed is lost: run 'ecert-issuer issue --resume' to finish (no certificate \
             of an unfinished batch was delivered yet, or it is delivered again whole)"
        }
        _ => return e.into(),
    };
    let input = job.input_path();
    anyhow::Error::new(e).context(format!(
        "{} was not issued in full; {hint}",
        input.display()
    ))
}

/// The terminal: a progress bar while signing, a line per batch sent, a summary per batch
/// delivered.
pub(super) struct Shell {
    node_url: String,
    bar: ProgressBar,
    offer_url: Option<String>,
    show_qr: bool,
    kind: KindId,
}

impl Shell {
    pub(super) fn new(node_url: &str, job: &Job, bar: bool) -> Shell {
        let bar = if bar {
            let bar = ProgressBar::new(job.total);
            if let Ok(style) =
                ProgressStyle::with_template("Signing {bar:40} {pos}/{len} certificates")
            {
                bar.set_style(style);
            }
            bar
        } else {
            ProgressBar::hidden()
        };
        Shell {
            node_url: node_url.to_owned(),
            bar,
            offer_url: job.offer_url.clone(),
            show_qr: job.total <= MAX_QR_SHOWN,
            kind: job.kind.clone(),
        }
    }

    pub(super) fn finish(&self, outcome: issuance::Outcome) -> Result<()> {
        self.bar.finish_and_clear();
        if outcome.batches > 1 {
            super::print(&format!(
                "Issued {} {} certificate(s) ({} one-time copies) in {} batches.\n",
                outcome.certificates, self.kind, outcome.leaves, outcome.batches
            ))?;
        }
        Ok(())
    }
}

impl Progress for Shell {
    fn start(&self, total: u64, done: u64) {
        self.bar.set_length(total);
        self.bar.set_position(done);
    }

    fn signed(&self, n: u64) {
        self.bar.inc(n);
    }

    fn anchoring(&self, certificates: usize, leaves: u64) {
        let copies = if leaves == certificates as u64 {
            String::new()
        } else {
            format!(" as {leaves} one-time copies")
        };
        self.bar.suspend(|| {
            eprintln!(
                "Anchoring {certificates} certificate(s){copies} on the ledger ({}); waiting \
                 until it is certified...",
                self.node_url
            );
        });
    }

    fn delivered(&self, batch: &BatchFile) {
        let text = summary(batch, self.offer_url.as_deref(), self.show_qr);
        self.bar.suspend(|| ecert_shell::out!("{text}"));
    }
}

fn short_hex(hex: &str) -> String {
    format!("{}…", hex.chars().take(16).collect::<String>())
}

/// "as 30 one-time copies each" (or the copies in all when they differ; nothing for whole
/// certificates).
fn copies_phrase(record: &BatchFile) -> String {
    let counts: Vec<usize> = record
        .certificates
        .iter()
        .filter_map(|c| c.issued.copies())
        .collect();
    match counts.first() {
        None => String::new(),
        Some(n) if counts.iter().all(|c| c == n) => format!(" as {n} one-time copies each"),
        Some(_) => format!(" as {} one-time copies", record.copies()),
    }
}

fn summary(record: &BatchFile, offer_url: Option<&str>, show_qr: bool) -> String {
    let first = record.certificates.first();
    let kinds: Vec<String> = record.kinds.iter().map(ToString::to_string).collect();
    let mut text = format!(
        "Issued {} {} certificate(s){}, valid {} to {}.\n\
         Batch {} anchored at position {} of the ledger's anchor log (block {}), proven against \
         the trust anchor.\n\n",
        record.certificates.len(),
        kinds.join(", "),
        copies_phrase(record),
        date(first.map_or(0, |c| c.valid_from)),
        date(first.map_or(0, |c| c.expires)),
        short_hex(&record.root.to_hex()),
        record.batch_seq.unwrap_or_default(),
        record.height.unwrap_or_default(),
    );
    text.push_str("ID        HOLDER    COPIES    DELIVERY\n");
    for c in &record.certificates {
        let mut delivery = Vec::new();
        if let Some(f) = &c.package_file {
            delivery.push(f.clone());
        }
        if let Some(code) = &c.offer {
            delivery.push(format!("offer {code}"));
        }
        let holder: String = c.holder.to_hex().chars().take(8).collect();
        text.push_str(&format!(
            "{:<8}  {:<8}  {:<8}  {}\n",
            short_id(&c.id),
            holder,
            copies_cell(c),
            delivery.join(", ")
        ));
    }
    let Some(serve_url) = offer_url else {
        return text;
    };
    text.push_str(
        "\nGive each citizen their offer code. Their wallet fetches the certificate from \
         'ecert-issuer serve' (it must be running); only the wallet the certificate was \
         issued to can use the code, once.\n",
    );
    for c in &record.certificates {
        let Some(code) = &c.offer else { continue };
        let url = offer::offer_url(serve_url, code);
        text.push_str(&format!(
            "\nCertificate {} — offer code {code}\n{url}\n",
            short_id(&c.id)
        ));
        if show_qr {
            match ecert_qr::render::to_terminal(&url) {
                Ok(qr) => text.push_str(&qr),
                Err(e) => text.push_str(&format!("(no QR code: {e})\n")),
            }
        }
    }
    if !show_qr {
        text.push_str(&format!(
            "\n({} offers: QR codes are not drawn for more than {MAX_QR_SHOWN}; the offer \
             URLs above can be turned into QR codes by any QR tool.)\n",
            record.certificates.len()
        ));
    }
    text
}

//! `present`: chosen fields of chosen certificates as a holder-signed QR code, recorded
//! in the holder's history before it is shown.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use ecert_qr::render;
use ecert_schemas::presentation::MAX_ITEMS;
use ecert_schemas::{KindRegistry, Nonce, UnixTime};
use ecert_wallet::certs::Choice;
use ecert_wallet::history::Entry as HistoryEntry;
use ecert_wallet::{HolderKey, Selection};

use crate::certs::{self, Entry};
use crate::cli::PresentArgs;
use crate::files::{self, Existing};
use crate::wallet::Wallet;

/// Clears a terminal and moves the cursor to the top left (ANSI).
const CLEAR_SCREEN: &str = "\x1b[2J\x1b[H";
/// Pixels per QR module in PNG files.
const PNG_MODULE_PX: u32 = 4;

/// `present`.
pub fn present(path: PathBuf, args: &PresentArgs) -> Result<()> {
    let nonce = match &args.nonce {
        Some(hex) => Some(Nonce::from_hex(hex.trim()).map_err(|_| {
            anyhow!(
                "--nonce {hex:?}: type the counter's challenge code exactly as shown \
                 (hexadecimal, 2 to 64 digits)"
            )
        })?),
        None => None,
    };
    let mut w = Wallet::open(path)?;
    let kinds = KindRegistry::builtin()?;
    let entries = certs::entries(&w.contents.packages)?;
    let now = certs::now()?;
    let choices = choose(&entries, &args.show, &kinds, now)?;
    let holder = &w.contents.holder;
    // Built before anything is printed: an unknown or missing field stops here.
    let qr = qr_string(holder, &kinds, &choices, now, nonce.clone())?;
    // Recorded before any code leaves the wallet (for --live, once for the session): no
    // presentation without its entry in the history. If it cannot be recorded, nothing
    // is shown.
    let entry = HistoryEntry::of_presentation(&choices, &kinds, now, nonce.as_ref());
    // (When the history is full, the oldest entries make room: 'history' says so.)
    w.history
        .record(entry)
        .context("cannot record this presentation in your history")?;
    w.save().context(
        "the QR code was not shown, because it could not be recorded in your wallet's \
         history of presentations; nothing was disclosed",
    )?;
    let summary = disclosure_summary(&choices, &kinds);
    eprintln!("{summary}");
    for choice in &choices {
        if !choice.entry.valid_at(now) {
            eprintln!(
                "warning: {} ({}) is not valid today; the counter will refuse it",
                choice.entry.short_id(),
                choice.entry.certificate.claims.kind
            );
        }
    }
    if args.live {
        return live(
            holder,
            &kinds,
            &choices,
            &summary,
            args.interval,
            args.count,
        );
    }

    let info = format!(
        "{} characters, QR version {}",
        qr.len(),
        render::qr_version(&qr)?
    );
    let to_files = args.text || args.png.is_some() || args.svg.is_some();
    if args.text {
        ecert_shell::outln!("{qr}");
    }
    if let Some(png) = &args.png {
        files::write_atomically(png, &render::to_png(&qr, PNG_MODULE_PX)?, Existing::Replace)
            .with_context(|| format!("cannot save the QR code to {}", png.display()))?;
        eprintln!("QR code saved to {}", png.display());
    }
    if let Some(svg) = &args.svg {
        files::write_atomically(svg, render::to_svg(&qr)?.as_bytes(), Existing::Replace)
            .with_context(|| format!("cannot save the QR code to {}", svg.display()))?;
        eprintln!("QR code saved to {}", svg.display());
    }
    if to_files {
        eprintln!("{info}; valid for about one minute");
    } else {
        ecert_shell::outln!("{}", render::to_terminal(&qr)?);
        ecert_shell::outln!("{info}");
        ecert_shell::outln!("Show this to the counter now: it is valid for about one minute.");
    }
    Ok(())
}

/// Resolves every `--show CERTIFICATE:field,field`, with the tool's own messages.
fn choose<'e, 'p>(
    entries: &'e [Entry<'p>],
    specs: &[String],
    kinds: &KindRegistry,
    now: UnixTime,
) -> Result<Vec<Choice<'e, 'p>>> {
    if specs.len() > MAX_ITEMS {
        bail!("at most {MAX_ITEMS} certificates fit in one QR code");
    }
    let mut choices: Vec<Choice<'e, 'p>> = Vec::with_capacity(specs.len());
    for spec in specs {
        let (selector, fields) = spec.split_once(':').ok_or_else(|| {
            anyhow!(
                "--show {spec:?}: write CERTIFICATE:field,field, for example \
                 id-card:name,id_number (see the fields with 'ecert-wallet show CERTIFICATE')"
            )
        })?;
        let entry = certs::select(entries, selector, kinds, now)
            .with_context(|| format!("--show {spec:?}"))?;
        if choices.iter().any(|c| c.entry.index == entry.index) {
            bail!(
                "certificate {} is chosen twice; list all its fields in one --show",
                entry.short_id()
            );
        }
        let fields = fields
            .split(',')
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .map(String::from)
            .collect();
        choices.push(Choice { entry, fields });
    }
    Ok(choices)
}

/// What will be disclosed, for the citizen to see before showing the code.
fn disclosure_summary(choices: &[Choice<'_, '_>], kinds: &KindRegistry) -> String {
    let mut out = String::from("Disclosing:");
    for choice in choices {
        let fields = if choice.fields.is_empty() {
            "no fields (only kind, issuer and validity)".to_owned()
        } else {
            choice.fields.join(", ")
        };
        out.push_str(&format!(
            "\n  {} {}: {fields}",
            choice.entry.short_id(),
            choice.entry.kind_name(kinds)
        ));
    }
    out
}

/// Builds, signs and encodes the presentation at `time`.
fn qr_string(
    holder: &HolderKey,
    kinds: &KindRegistry,
    choices: &[Choice<'_, '_>],
    time: UnixTime,
    nonce: Option<Nonce>,
) -> Result<String> {
    let selections: Vec<Selection<'_>> = choices.iter().map(Choice::selection).collect();
    let presentation = ecert_wallet::present(holder, kinds, &selections, time, nonce)?;
    Ok(presentation.to_qr_string()?)
}

/// `--live`: a fresh QR code every `interval` seconds, `count` times or until Ctrl-C.
fn live(
    holder: &HolderKey,
    kinds: &KindRegistry,
    choices: &[Choice<'_, '_>],
    summary: &str,
    interval: u64,
    count: Option<u64>,
) -> Result<()> {
    let mut shown = 0u64;
    loop {
        let now = certs::now()?;
        let qr = qr_string(holder, kinds, choices, now, None)?;
        let drawing = render::to_terminal(&qr)?;
        let mut out = std::io::stdout().lock();
        writeln!(out, "{CLEAR_SCREEN}{drawing}")?;
        writeln!(
            out,
            "{} characters, QR version {}; made {now}, a new one every {interval} s.",
            qr.len(),
            render::qr_version(&qr)?
        )?;
        writeln!(out, "{summary}")?;
        writeln!(out, "Press Ctrl-C to stop.")?;
        out.flush()?;
        drop(out);
        shown += 1;
        if count.is_some_and(|n| shown >= n) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_secs(interval));
    }
}

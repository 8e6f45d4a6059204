//! `present`: chosen fields of chosen certificates as a holder-signed QR code, recorded
//! in the holder's history before it is shown. A certificate issued as one-time copies
//! shows its next unused copy, marked used in the same save as the history entry, before
//! the code is shown. With `--request`, the answer to a counter's request: the request
//! checked against the ledger's registry kept beside the wallet, exactly the fields asked,
//! bound to the request, and the counter's name in the history.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use ecert_qr::render;
use ecert_schemas::presentation::MAX_ITEMS;
use ecert_schemas::request::{FieldsAsked, PresentationRequest, REQUEST_PREFIX};
use ecert_schemas::{KindRegistry, Nonce, UnixTime};
use ecert_verifier::request::{check_request, CheckedRequest, RequestPolicy};
use ecert_wallet::certs::{self as lib_certs, Choice};
use ecert_wallet::history::{Entry as HistoryEntry, MAX_COUNTER_CHARS};
use ecert_wallet::session::{self, Plan, Reuse};
use ecert_wallet::{WalletContents, WalletError};

use crate::certs::{self, Entry};
use crate::cli::PresentArgs;
use crate::commands::ledger;
use crate::exit::{self, Failure};
use crate::files::{self, Existing};
use crate::wallet::Wallet;

/// Clears a terminal and moves the cursor to the top left (ANSI).
const CLEAR_SCREEN: &str = "\x1b[2J\x1b[H";
/// Pixels per QR module in PNG files.
const PNG_MODULE_PX: u32 = 4;
/// Most characters of a request read from standard input.
const MAX_REQUEST_TEXT: u64 = 16 * 1024;

/// `present`.
pub fn present(path: PathBuf, args: &PresentArgs) -> Result<()> {
    let now = certs::now()?;
    let kinds = KindRegistry::builtin()?;
    // A counter's request is read and checked before the wallet is opened: a request that
    // fails its checks is refused without asking for the passphrase.
    let asked = match &args.request {
        Some(request) => {
            if !args.yes && !std::io::stdin().is_terminal() {
                bail!(
                    "present --request asks you to confirm, and there is no terminal to ask \
                     on: add --yes to answer without being asked. Nothing was shown."
                );
            }
            Some(read_request(&path, request, &kinds, now)?)
        }
        None => None,
    };
    let nonce = match (&asked, &args.nonce) {
        (Some(checked), _) => Some(checked.binding.clone()),
        (None, Some(hex)) => Some(Nonce::from_hex(hex.trim()).map_err(|_| {
            anyhow!(
                "--nonce {hex:?}: type the counter's challenge code exactly as shown \
                 (hexadecimal, 2 to 64 digits)"
            )
        })?),
        (None, None) => None,
    };
    let mut w = Wallet::open(path)?;
    let reuse = if args.reuse_copy {
        Reuse::LastCopy
    } else {
        Reuse::Never
    };
    let (plan, entry, summary, warnings) = {
        let entries = certs::entries(&w.contents.packages)?;
        let choices = match &asked {
            Some(checked) => answer_request(checked, &entries, &kinds, now, &args.decline)?,
            None => {
                let choices = choose(&entries, &args.show, &kinds, now)?;
                ecert_wallet::answer::check_unrequested(&choices, &kinds).map_err(refused)?;
                choices
            }
        };
        let plan = session::plan(&choices, reuse).map_err(refused)?;
        let mut entry = HistoryEntry::of_presentation(&choices, &kinds, now, nonce.as_ref());
        if let Some(checked) = &asked {
            entry.counter = Some(checked.counter.chars().take(MAX_COUNTER_CHARS).collect());
        }
        let warnings: Vec<String> = choices
            .iter()
            .filter(|c| !c.entry.valid_at(now))
            .map(|c| {
                format!(
                    "warning: {} ({}) is not valid today; the counter will refuse it",
                    c.entry.short_id(),
                    c.entry.kind_id()
                )
            })
            .collect();
        (plan, entry, disclosure_summary(&choices, &kinds), warnings)
    };
    if let Some(checked) = &asked {
        if !args.yes && !confirm(checked)? {
            bail!("not confirmed: nothing was shown");
        }
    }
    // Built before anything is printed or marked: an unknown or missing field stops here.
    let qr = qr_string(&w.contents, &kinds, &plan, now, nonce.clone())?;
    // The copies shown are marked used, and the presentation recorded, before any code
    // leaves the wallet (for --live, once for the session, which shows the same copies
    // throughout): in one save, so that no code is shown with its copy unmarked or
    // without its entry in the history. If it cannot be saved, nothing is shown.
    plan.spend(&mut w.contents)?;
    // (When the history is full, the oldest entries make room: 'history' says so.)
    w.history
        .record(entry)
        .context("cannot record this presentation in your history")?;
    w.save().context(
        "the QR code was not shown, because it could not be recorded in your wallet's \
         history of presentations; nothing was disclosed",
    )?;
    eprintln!("{summary}");
    for warning in &warnings {
        eprintln!("{warning}");
    }
    for line in copy_notices(&plan, &kinds) {
        eprintln!("{line}");
    }
    if args.live {
        return live(
            &w.contents,
            &kinds,
            &plan,
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

/// Reads the counter's request (its text, a file holding it, or `-` for standard input)
/// and checks it against the ledger's registry kept beside the wallet; tells the citizen
/// who asks, why and what.
fn read_request(
    wallet: &Path,
    given: &str,
    kinds: &KindRegistry,
    now: UnixTime,
) -> Result<CheckedRequest> {
    let text = if given == "-" {
        let mut text = String::new();
        std::io::stdin()
            .take(MAX_REQUEST_TEXT)
            .read_to_string(&mut text)
            .context("cannot read the request from standard input")?;
        text
    } else if given.trim().starts_with(REQUEST_PREFIX) {
        given.to_owned()
    } else {
        let bytes = files::read_limited(Path::new(given))
            .with_context(|| format!("cannot read the request file {given}"))?;
        String::from_utf8(bytes)
            .ok()
            .with_context(|| format!("{given} does not hold a counter's request"))?
    };
    let request = PresentationRequest::from_qr_string(text.trim()).map_err(|e| {
        Failure::new(
            exit::REQUEST_REFUSED,
            format!(
                "this is not a counter's request ({e}): scan the counter's request code again. \
                 Nothing was shown."
            ),
        )
    })?;
    let (registry, chain_id) = ledger::registry_for_requests(wallet)?;
    let checked = check_request(
        &request,
        &registry,
        &chain_id,
        kinds,
        now,
        &RequestPolicy::default(),
    )
    .map_err(|e| {
        Failure::new(
            exit::REQUEST_REFUSED,
            format!(
                "the counter's request was refused: {e}. Nothing was shown. (If the counter \
                 was registered only recently, run 'ecert-wallet refresh --node URL' and try \
                 again.)"
            ),
        )
    })?;
    let mut about = format!(
        "Request from: {}{}\n  registered by {} ({}) as: {}\n  purpose: {}\n  asks for:",
        checked.counter,
        checked
            .counter_local
            .as_ref()
            .map(|n| format!(" ({n})"))
            .unwrap_or_default(),
        checked.department_name,
        checked.department,
        checked.role,
        checked.purpose
    );
    for ask in &checked.asks {
        about.push_str(&format!(
            "\n    {}: {}",
            lib_certs::kind_name(&ask.kind, kinds),
            ask.fields.join(", ")
        ));
    }
    eprintln!("{about}");
    Ok(checked)
}

/// The certificates and fields that answer `checked` ([`ecert_wallet::answer::answer`]),
/// less the fields the citizen declines; tells the citizen what will not be shown and why.
fn answer_request<'e, 'p>(
    checked: &CheckedRequest,
    entries: &'e [Entry<'p>],
    kinds: &KindRegistry,
    now: UnixTime,
    declines: &[String],
) -> Result<Vec<Choice<'e, 'p>>> {
    let answer = ecert_wallet::answer::answer(checked, entries, kinds, now);
    let mut choices = answer.choices;
    let mut not_shown: Vec<String> = answer
        .declined
        .iter()
        .map(|d| format!("{}: {}", lib_certs::kind_name(&d.kind, kinds), d.reason))
        .collect();
    for spec in declines {
        let declined = FieldsAsked::parse(spec)
            .map_err(|e| anyhow!("--decline {spec:?}: write KIND:FIELD ({e})"))?;
        let asked = checked.asks.iter().find(|a| a.kind == declined.kind);
        for field in &declined.fields {
            if !asked.is_some_and(|a| a.fields.contains(field)) {
                bail!("--decline {spec:?}: the counter does not ask for {field}");
            }
            if let Some(choice) = choices
                .iter_mut()
                .find(|c| c.entry.kind_id() == &declined.kind)
            {
                choice.fields.retain(|f| f != field);
            }
            not_shown.push(format!(
                "{} {field}: you declined it",
                lib_certs::kind_name(&declined.kind, kinds)
            ));
        }
    }
    choices.retain(|c| !c.fields.is_empty());
    if !not_shown.is_empty() {
        eprintln!("Not shown:\n  {}", not_shown.join("\n  "));
    }
    if choices.is_empty() {
        return Err(Failure::new(
            exit::ERROR,
            "there is nothing this wallet can show in answer to this request (see above). \
             Nothing was shown.",
        )
        .into());
    }
    Ok(choices)
}

/// Asks on the terminal whether to answer `checked`; `yes` confirms.
fn confirm(checked: &CheckedRequest) -> Result<bool> {
    super::history::ask_yes(&format!("Show the details above to {}?", checked.counter))
}

/// A presentation the library refused to plan, with the tool's advice and exit code.
fn refused(error: WalletError) -> anyhow::Error {
    match error {
        WalletError::NoCopiesLeft { .. } => Failure::new(
            exit::NO_COPIES_LEFT,
            format!(
                "{error}. Nothing was shown. (If you cannot wait, you can show the last copy \
                 again with --reuse-copy, knowing that the counters that see it can tell it \
                 is the same certificate.)"
            ),
        )
        .into(),
        WalletError::MixedFormats { .. } => {
            Failure::new(exit::ERROR, format!("{error}. Nothing was shown.")).into()
        }
        other => other.into(),
    }
}

/// What the holder should know about the copies this presentation shows: a copy shown
/// again, and certificates running out of copies.
fn copy_notices(plan: &Plan, kinds: &KindRegistry) -> Vec<String> {
    let mut lines = Vec::new();
    for item in plan.items() {
        if let Some(copy) = item.copy.filter(|c| c.reused) {
            lines.push(format!(
                "warning: every copy of your {} {} had been shown; copy {} is shown again, \
                 as you asked (--reuse-copy): the counters that see it both times can tell \
                 that the two presentations are of the same certificate",
                lib_certs::kind_name(&item.kind, kinds),
                item.short_id,
                copy.copy + 1
            ));
        }
    }
    for (item, left) in plan.running_low() {
        let copies = if left.left == 1 { "copy" } else { "copies" };
        lines.push(format!(
            "{} {copies} left of your {}: ask {} for new copies ('ecert-wallet refill --from \
             ITS-SERVER')",
            left.left,
            lib_certs::kind_name(&item.kind, kinds),
            item.issuer
        ));
    }
    lines
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

/// Signs the planned presentation at `time` and encodes it.
fn qr_string(
    contents: &WalletContents,
    kinds: &KindRegistry,
    plan: &Plan,
    time: UnixTime,
    nonce: Option<Nonce>,
) -> Result<String> {
    let presentation = plan.sign(contents, kinds, time, nonce)?;
    Ok(session::qr_string(&presentation)?)
}

/// `--live`: a fresh QR code every `interval` seconds, `count` times or until Ctrl-C, of
/// the same copies.
fn live(
    contents: &WalletContents,
    kinds: &KindRegistry,
    plan: &Plan,
    summary: &str,
    interval: u64,
    count: Option<u64>,
) -> Result<()> {
    let mut shown = 0u64;
    loop {
        let now = certs::now()?;
        let qr = qr_string(contents, kinds, plan, now, None)?;
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

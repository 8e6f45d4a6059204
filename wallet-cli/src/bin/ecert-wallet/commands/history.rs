//! `history`: the presentations the wallet made, newest first, as text or JSON; and
//! `history --clear`.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use ecert_schemas::date::Date;
use ecert_schemas::{KindRegistry, UnixTime};
use ecert_wallet::history::{Entry, FieldName, Shown, MAX_ENTRIES};
use serde::Serialize;

use crate::cli::HistoryArgs;
use crate::wallet::Wallet;

/// `history [--json] [--since DATE] [--limit N]`, or `history --clear [--yes]`.
pub fn history(path: PathBuf, args: &HistoryArgs) -> Result<()> {
    if args.clear {
        return clear(path, args.yes);
    }
    let w = Wallet::open(path)?;
    let kinds = KindRegistry::builtin()?;
    let since = args.since.map(start_of);
    let matching: Vec<&Entry> = w
        .history
        .newest_first()
        .filter(|e| since.is_none_or(|from| e.time >= from))
        .collect();
    let limit = args
        .limit
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(usize::MAX);
    let shown = matching
        .get(..limit.min(matching.len()))
        .unwrap_or_default();
    if args.json {
        let json = Json {
            total: w.history.len(),
            entries: shown.iter().map(|e| JsonEntry::of(e, &kinds)).collect(),
        };
        ecert_shell::outln!("{}", serde_json::to_string_pretty(&json)?);
        return Ok(());
    }
    ecert_shell::out!(
        "{}",
        text(shown, matching.len(), w.history.len(), args.since, &kinds)
    );
    Ok(())
}

/// 00:00 UTC on `date`.
fn start_of(date: Date) -> UnixTime {
    UnixTime(u64::try_from(date.days_since_epoch()).unwrap_or(0) * 86_400)
}

/// The history for people: `shown` of the `matching` entries (newest first), of `total`.
fn text(
    shown: &[&Entry],
    matching: usize,
    total: usize,
    since: Option<Date>,
    kinds: &KindRegistry,
) -> String {
    let mut out = String::new();
    let mut line = |text: String| {
        out.push_str(&text);
        out.push('\n');
    };
    if total == 0 {
        line(
            "Your history is empty: no QR code has been recorded in this wallet yet (or its \
             history was cleared). Each one 'ecert-wallet present' makes is recorded here."
                .into(),
        );
        return out;
    }
    let since_text = since.map(|d| format!(" since {d}")).unwrap_or_default();
    if shown.is_empty() {
        line(format!(
            "No presentations{since_text} ({total} in your history in all)."
        ));
        return out;
    }
    line(format!(
        "Your presentations{since_text}, newest first: {} of {total}. Only which details \
         were shown is kept, never their values.",
        shown.len()
    ));
    for entry in shown {
        line(String::new());
        let mut head = entry.time.to_string();
        if let Some(nonce) = &entry.challenge {
            head.push_str(&format!(
                "  answered a counter's challenge ({})",
                nonce.to_hex()
            ));
        }
        if let Some(counter) = &entry.counter {
            head.push_str(&format!("  asked by {counter}"));
        }
        line(head);
        for cert in &entry.certificates {
            line(format!(
                "  {:<8}  {}, from {}",
                cert.short_id,
                cert.kind_name(kinds),
                cert.issuer
            ));
            line(format!("            {}", fields_text(cert, kinds)));
        }
    }
    let older = matching.saturating_sub(shown.len());
    if older > 0 {
        line(String::new());
        line(format!(
            "{older} older not shown (see them with --limit or --since)."
        ));
    }
    if total >= MAX_ENTRIES {
        line(String::new());
        line(format!(
            "Your history is full: it keeps the newest {MAX_ENTRIES} presentations, and \
             drops the oldest as new ones are recorded."
        ));
    }
    out
}

/// "Name (姓名), ID number (公民身份号码)", or what a certificate shown without fields told.
fn fields_text(cert: &Shown, kinds: &KindRegistry) -> String {
    if cert.fields.is_empty() {
        return "no details: only its kind, issuer and validity".into();
    }
    cert.field_names(kinds)
        .iter()
        .map(FieldName::text)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `history --clear`: asks first, unless `yes`; a script must say `--yes`.
fn clear(path: PathBuf, yes: bool) -> Result<()> {
    if !yes && !std::io::stdin().is_terminal() {
        bail!(
            "history --clear asks you to confirm, and there is no terminal to ask on: add \
             --yes to clear it without being asked. Nothing was deleted."
        );
    }
    let mut w = Wallet::open(path)?;
    let n = w.history.len();
    if n == 0 {
        ecert_shell::outln!("Your history is already empty; nothing was changed.");
        return Ok(());
    }
    if !yes && !confirm(n)? {
        bail!("not confirmed: your history was left as it is");
    }
    w.history.clear();
    w.save()
        .context("your history was not cleared and is as it was")?;
    ecert_shell::outln!(
        "Deleted your history of {n} presentation(s) from your wallet. Backups made before \
         now still hold theirs."
    );
    Ok(())
}

/// Asks on the terminal whether to delete `n` entries; `yes` confirms.
fn confirm(n: usize) -> Result<bool> {
    ask_yes(&format!(
        "Delete your history of {n} presentation(s) from this wallet? This cannot be undone."
    ))
}

/// Asks `question` on the terminal; only the answer `yes` confirms.
pub fn ask_yes(question: &str) -> Result<bool> {
    eprint!("{question} Type yes to confirm: ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .context("cannot read the answer")?;
    Ok(answer.trim().eq_ignore_ascii_case("yes"))
}

/// `--json`: the whole answer.
#[derive(Serialize)]
struct Json {
    /// Entries in the history in all.
    total: usize,
    /// Those chosen, newest first.
    entries: Vec<JsonEntry>,
}

/// One presentation.
#[derive(Serialize)]
struct JsonEntry {
    /// Seconds since 1970-01-01 UTC.
    time: u64,
    /// The counter's challenge answered, in hexadecimal, or null.
    challenge: Option<String>,
    /// The name of the counter whose request this answered, or null.
    counter: Option<String>,
    certificates: Vec<JsonShown>,
}

/// One certificate of a presentation.
#[derive(Serialize)]
struct JsonShown {
    short_id: String,
    kind: String,
    kind_name: Option<String>,
    kind_name_local: Option<String>,
    issuer: String,
    fields: Vec<JsonField>,
}

/// One field disclosed: its key and labels, never its value.
#[derive(Serialize)]
struct JsonField {
    key: String,
    label: Option<String>,
    label_local: Option<String>,
}

impl JsonEntry {
    fn of(entry: &Entry, kinds: &KindRegistry) -> JsonEntry {
        JsonEntry {
            time: entry.time.secs(),
            challenge: entry.challenge.as_ref().map(|n| n.to_hex()),
            counter: entry.counter.clone(),
            certificates: entry
                .certificates
                .iter()
                .map(|cert| {
                    let kind = kinds.get(&cert.kind).ok();
                    JsonShown {
                        short_id: cert.short_id.clone(),
                        kind: cert.kind.to_string(),
                        kind_name: kind.map(|k| k.name.clone()),
                        kind_name_local: kind.and_then(|k| k.name_local.clone()),
                        issuer: cert.issuer.to_string(),
                        fields: cert
                            .field_names(kinds)
                            .into_iter()
                            .map(|f| JsonField {
                                key: f.key,
                                label: f.label,
                                label_local: f.label_local,
                            })
                            .collect(),
                    }
                })
                .collect(),
        }
    }
}

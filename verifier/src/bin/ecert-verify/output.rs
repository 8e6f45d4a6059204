//! What the counter shows: the verdict for people (readable at a glance) and as one JSON
//! object for other programs, plus times and ages in human units.

use std::io::{self, IsTerminal, Write};

use ecert_schemas::{ChainId, KindRegistry, UnixTime};
use ecert_verifier::report::{Outcome, ValueView, VerifiedView};
use ecert_verifier::{TrustStore, Verdict, VerifyError};
use serde::Serialize;

use crate::checker::Checker;
use crate::exit;

/// Writes `text` to standard output. A reader that stopped reading (a closed pipe) is not
/// an error: the exit code still tells the result. Other errors are returned, never a panic.
pub fn print(text: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// Writes `text` to standard error, ignoring failures (there is nowhere left to report them).
pub fn note(text: &str) {
    let mut err = io::stderr().lock();
    let _ = err.write_all(text.as_bytes());
    let _ = err.flush();
}

/// An age in human units: `45 s`, `12 min`, `3 h 12 min`, `2 d 5 h`.
pub fn age(secs: u64) -> String {
    let (days, hours, mins) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    match (days, hours, mins) {
        (0, 0, 0) => format!("{secs} s"),
        (0, 0, m) => format!("{m} min"),
        (0, h, 0) => format!("{h} h"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, 0, _) => format!("{d} d"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

/// How old the synced data is, and how long ago it was current.
pub fn data_age(now: UnixTime, as_of: UnixTime) -> String {
    if as_of > now {
        format!(
            "from {} in the future: check this computer's clock",
            age(as_of.secs() - now.secs())
        )
    } else {
        format!("{} old", age(now.secs() - as_of.secs()))
    }
}

struct Style {
    on: bool,
}

impl Style {
    /// Colours only on a terminal, and not when `NO_COLOR` is set.
    fn detect() -> Style {
        Style {
            on: io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
}

fn banner(word: &str, colour: &str) -> String {
    let style = Style::detect();
    let width = 44;
    let rule = "=".repeat(width);
    let pad = width.saturating_sub(word.len()) / 2;
    let line = format!("{}{word}", " ".repeat(pad));
    format!(
        "{}\n{}\n{}\n",
        style.paint(colour, &rule),
        style.paint(&format!("1;{colour}"), &line),
        style.paint(colour, &rule)
    )
}

fn sync_line(store: &TrustStore, now: UnixTime) -> String {
    format!(
        "Revocation data {}, as of ledger block #{} ({}).\n",
        data_age(now, store.as_of()),
        store.header().height,
        store.as_of()
    )
}

/// How fresh the data behind a verdict is: the one ledger's, or, with a national list,
/// each province's whose chain id `only` admits.
fn sync_lines(checker: &Checker, now: UnixTime, only: impl Fn(&ChainId) -> bool) -> String {
    match checker {
        Checker::Single(store) => sync_line(store, now),
        Checker::Federation { .. } => checker
            .ledgers()
            .into_iter()
            .filter(|(_, store)| only(store.chain_id()))
            .map(|(name, store)| {
                format!(
                    "Revocation data of {}: {}, as of block #{} ({}).\n",
                    province(name.as_deref(), store.chain_id()),
                    data_age(now, store.as_of()),
                    store.header().height,
                    store.as_of()
                )
            })
            .collect(),
    }
}

/// A province for people: `West (ecert-west)`, or the chain id alone.
fn province(name: Option<&str>, chain_id: &ChainId) -> String {
    match name {
        Some(name) => format!("{name} ({chain_id})"),
        None => chain_id.to_string(),
    }
}

/// The human verdict for a valid presentation.
pub fn valid_text(
    verdict: &Verdict,
    checker: &Checker,
    kinds: &KindRegistry,
    now: UnixTime,
) -> String {
    let mut text = banner("VALID", "32");
    let n = verdict.certificates.len();
    let signed = if verdict.signed_at > now {
        format!(
            "the phone's clock is {} ahead",
            age(verdict.signed_at.secs() - now.secs())
        )
    } else {
        format!("{} ago", age(now.secs() - verdict.signed_at.secs()))
    };
    text.push_str(&format!(
        "{n} certificate{}, shown by its holder's own wallet (signed {signed}).\n",
        if n == 1 { "" } else { "s" }
    ));
    text.push_str(if verdict.nonce_checked {
        "Challenge: answered correctly.\n"
    } else {
        "Challenge: not used.\n"
    });
    for (i, verified) in verdict.certificates.iter().enumerate() {
        let cert = VerifiedView::of(verified, kinds);
        text.push_str(&format!("\n[{}] {}\n", i + 1, cert.title()));
        if checker.is_federation() {
            text.push_str(&format!(
                "    Province:  {}\n",
                province(
                    checker.province_name(&verified.ledger).as_deref(),
                    &verified.ledger
                )
            ));
        }
        text.push_str(&format!(
            "    Issued by: {} ({})\n",
            cert.issuer_name, cert.issuer
        ));
        text.push_str(&format!(
            "    Valid:     {} to {} (issued {})\n",
            cert.valid_from_date, cert.expires_date, cert.issued_date
        ));
        if cert.disclosed.is_empty() {
            text.push_str("    (no fields shown: the citizen chose to show none)\n");
        }
        for field in &cert.disclosed {
            text.push_str(&format!("    {}: {}\n", field.labels(), field.text));
        }
    }
    text.push('\n');
    text.push_str(&sync_lines(checker, now, |chain_id| {
        verdict.certificates.iter().any(|c| &c.ledger == chain_id)
    }));
    text
}

/// The human verdict for a rejected presentation.
pub fn invalid_text(error: &VerifyError, checker: &Checker, now: UnixTime) -> String {
    let mut text = banner("INVALID", "31");
    text.push_str(&format!("Reason:     {error}\n"));
    text.push_str(&format!(
        "Code:       {} (exit code {})\n",
        error.code(),
        exit::for_error(error)
    ));
    text.push_str(&format!("What to do: {}\n\n", exit::advice(error)));
    text.push_str(&sync_lines(checker, now, |_| true));
    text
}

/// A disclosed field in the JSON verdict.
#[derive(Serialize)]
struct JsonField {
    key: String,
    label: String,
    label_local: Option<String>,
    value: ValueView,
}

/// A certificate in the JSON verdict.
#[derive(Serialize)]
struct JsonCertificate {
    kind: String,
    kind_name: String,
    issuer: String,
    issuer_name: String,
    id: Option<String>,
    issued_at: u64,
    valid_from: u64,
    expires: u64,
    disclosed: Vec<JsonField>,
    /// The chain id of the ledger (province) it is anchored on.
    ledger: String,
    /// The province's name on the national trust list (with a list only).
    #[serde(skip_serializing_if = "Option::is_none")]
    province: Option<String>,
}

impl JsonCertificate {
    fn of(view: VerifiedView, ledger: &ChainId, province: Option<String>) -> JsonCertificate {
        let disclosed = view.disclosed.into_iter().map(|f| JsonField {
            key: f.key,
            label: f.label,
            label_local: f.label_local,
            value: f.value,
        });
        JsonCertificate {
            kind: view.kind,
            kind_name: view.kind_name,
            issuer: view.issuer,
            issuer_name: view.issuer_name,
            id: view.id,
            issued_at: view.issued_at,
            valid_from: view.valid_from,
            expires: view.expires,
            disclosed: disclosed.collect(),
            ledger: ledger.to_string(),
            province,
        }
    }
}

/// A province's data in the JSON verdict (with a national list only).
#[derive(Serialize)]
struct JsonProvince {
    ledger: String,
    name: Option<String>,
    synced_height: u64,
    synced_at: u64,
    revocation_age_secs: u64,
}

/// The JSON verdict: the [`Outcome`] with the exit code, in the documented `snake_case`
/// names. Times are whole seconds since the Unix epoch.
#[derive(Serialize)]
struct JsonVerdict {
    valid: bool,
    exit_code: u8,
    code: Option<&'static str>,
    reason: Option<String>,
    certificates: Vec<JsonCertificate>,
    holder: Option<String>,
    signed_at: Option<u64>,
    nonce_checked: Option<bool>,
    checked_at: u64,
    synced_height: u64,
    synced_at: u64,
    revocation_age_secs: u64,
    /// With a national list: each synced province (the `synced_*` above are the oldest's).
    #[serde(skip_serializing_if = "Option::is_none")]
    provinces: Option<Vec<JsonProvince>>,
}

/// One JSON object (and a newline) for the result of a verification.
pub fn json(
    result: &Result<Verdict, VerifyError>,
    checker: &Checker,
    kinds: &KindRegistry,
    now: UnixTime,
) -> serde_json::Result<String> {
    let outcome = Outcome::of(result, checker.reported(), now, |c| {
        JsonCertificate::of(
            VerifiedView::of(c, kinds),
            &c.ledger,
            checker.province_name(&c.ledger),
        )
    });
    let provinces = checker.is_federation().then(|| {
        checker
            .ledgers()
            .into_iter()
            .map(|(name, store)| JsonProvince {
                ledger: store.chain_id().to_string(),
                name,
                synced_height: store.header().height,
                synced_at: store.as_of().secs(),
                revocation_age_secs: now.secs().saturating_sub(store.as_of().secs()),
            })
            .collect()
    });
    let value = JsonVerdict {
        valid: outcome.valid,
        exit_code: result.as_ref().err().map_or(exit::OK, exit::for_error),
        code: outcome.code,
        reason: outcome.reason,
        certificates: outcome.certificates,
        holder: outcome.holder,
        signed_at: outcome.signed_at,
        nonce_checked: outcome.nonce_checked,
        checked_at: outcome.checked_at,
        synced_height: outcome.synced_height,
        synced_at: outcome.synced_at,
        revocation_age_secs: outcome.revocation_age_secs,
        provinces,
    };
    let mut text = serde_json::to_string_pretty(&value)?;
    text.push('\n');
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_in_human_units() {
        assert_eq!(age(0), "0 s");
        assert_eq!(age(59), "59 s");
        assert_eq!(age(60), "1 min");
        assert_eq!(age(3 * 3600), "3 h");
        assert_eq!(age(3 * 3600 + 12 * 60 + 5), "3 h 12 min");
        assert_eq!(age(86_400), "1 d");
        assert_eq!(age(2 * 86_400 + 5 * 3600), "2 d 5 h");
    }
}

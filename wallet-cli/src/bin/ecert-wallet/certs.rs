//! The certificates in a wallet as a citizen sees them in a terminal: list lines and the
//! messages around [`ecert_wallet::certs`] (short ids, kind names, validity, picking one
//! by kind or short id), which the browser wallet shares.

use anyhow::{bail, Result};
use ecert_schemas::date::date_of_unix;
use ecert_schemas::{KindRegistry, UnixTime};
pub use ecert_wallet::certs::Entry;
use ecert_wallet::certs::{self as lib, CertsError};
use ecert_wallet::copies::CopiesLeft;
use ecert_wallet::Held;

/// The wallet's clock: the computer's time.
pub fn now() -> Result<UnixTime> {
    Ok(ecert_shell::clock::now()?)
}

/// One line for lists: short id, kind, issuer, valid until, kind name, the copies left of
/// a certificate of one-time copies, EXPIRED.
pub fn line(entry: &Entry<'_>, kinds: &KindRegistry, now: UnixTime) -> String {
    let copies = entry
        .copies()
        .map(|c| format!("  {}", copies_text(c)))
        .unwrap_or_default();
    let mark = if entry.expired(now) {
        "  EXPIRED"
    } else if entry.not_yet_valid(now) {
        "  NOT YET VALID"
    } else {
        ""
    };
    format!(
        "{:<8}  {:<22} {:<18} {:<11}  {}{copies}{mark}",
        entry.short_id(),
        entry.kind_id().as_str(),
        entry.issuer().as_str(),
        date_of_unix(entry.expires().secs()).to_string(),
        entry.kind_name(kinds),
    )
}

/// "copies left: 27 of 30", or what to do when none is left.
pub fn copies_text(copies: CopiesLeft) -> String {
    if copies.left == 0 {
        format!(
            "copies left: 0 of {} (ask the department for new copies: 'ecert-wallet refill')",
            copies.total
        )
    } else {
        format!("copies left: {} of {}", copies.left, copies.total)
    }
}

/// The column titles above [`line`]s.
pub const LIST_HEADER: &str =
    "ID        KIND                   ISSUER             VALID UNTIL  NAME";

/// Decodes every certificate of the wallet.
pub fn entries(packages: &[Held]) -> Result<Vec<Entry<'_>>> {
    Ok(lib::entries(packages)?)
}

/// Finds the one certificate meant by `selector` ([`ecert_wallet::certs::select`]), with
/// the wallet's certificates listed when it does not.
pub fn select<'e, 'p>(
    entries: &'e [Entry<'p>],
    selector: &str,
    kinds: &KindRegistry,
    now: UnixTime,
) -> Result<&'e Entry<'p>> {
    match lib::select(entries, selector, kinds, now) {
        Ok(entry) => Ok(entry),
        Err(error) => bail!(explain(&error, entries, kinds, now)),
    }
}

/// A refused choice, for people: the reason, then the certificates to choose from.
pub fn explain(
    error: &CertsError,
    entries: &[Entry<'_>],
    kinds: &KindRegistry,
    now: UnixTime,
) -> String {
    match error {
        CertsError::NoSelector => "say which certificate: its kind (e.g. id-card) or its short \
                                   ID from 'ecert-wallet list'"
            .to_owned(),
        CertsError::NoneOfKind { kind } => format!(
            "you have no {kind} certificate in your wallet{}",
            overview(entries, kinds, now)
        ),
        CertsError::Ambiguous {
            selector, indexes, ..
        } => {
            let list: Vec<String> = entries
                .iter()
                .filter(|e| indexes.contains(&e.index))
                .map(|e| format!("  {}", line(e, kinds, now)))
                .collect();
            format!(
                "{selector:?} could mean {} certificates; use one of their short IDs instead:\n{}",
                indexes.len(),
                list.join("\n")
            )
        }
        CertsError::NotAKindOrShortId { .. } | CertsError::NoSuchShortId { .. } => {
            format!("{error}{}", overview(entries, kinds, now))
        }
        other => other.to_string(),
    }
}

/// ": your certificates are …" for error messages.
fn overview(entries: &[Entry<'_>], kinds: &KindRegistry, now: UnixTime) -> String {
    if entries.is_empty() {
        return " (your wallet is empty: add certificates with 'ecert-wallet receive')".into();
    }
    let lines: Vec<String> = entries
        .iter()
        .map(|e| format!("  {}", line(e, kinds, now)))
        .collect();
    format!("; your certificates are:\n{}", lines.join("\n"))
}

//! `list` and `show`: the citizen's own view of the wallet.

use std::path::PathBuf;

use anyhow::Result;
use ecert_schemas::KindRegistry;

use crate::certs::{self, Entry};
use crate::cli::ShowArgs;
use crate::wallet::Wallet;

/// `list`: one line per certificate.
pub fn list(path: PathBuf) -> Result<()> {
    let w = Wallet::open(path)?;
    let kinds = KindRegistry::builtin()?;
    let now = certs::now()?;
    let entries = certs::entries(&w.contents.packages)?;
    if entries.is_empty() {
        ecert_shell::outln!(
            "Your wallet has no certificates yet. Give your wallet ID ('ecert-wallet id') to \
             a department, then add the file it gives you with 'ecert-wallet receive FILE'."
        );
        return Ok(());
    }
    ecert_shell::outln!("{}", certs::LIST_HEADER);
    for entry in &entries {
        ecert_shell::outln!("{}", certs::line(entry, &kinds, now));
    }
    Ok(())
}

/// `show CERTIFICATE`: every field of one certificate.
pub fn show(path: PathBuf, args: &ShowArgs) -> Result<()> {
    let w = Wallet::open(path)?;
    let kinds = KindRegistry::builtin()?;
    let now = certs::now()?;
    let entries = certs::entries(&w.contents.packages)?;
    let entry = certs::select(&entries, &args.certificate, &kinds, now)?;
    ecert_shell::out!("{}", describe(entry, &kinds, now));
    Ok(())
}

/// The full description of one certificate.
fn describe(entry: &Entry<'_>, kinds: &KindRegistry, now: ecert_schemas::UnixTime) -> String {
    let mut out = String::new();
    let mut line = |text: String| {
        out.push_str(&text);
        out.push('\n');
    };
    line(entry.kind_name(kinds));
    line(format!("  {:<16} {}", "Short ID", entry.short_id()));
    line(format!("  {:<16} {}", "Certificate ID", entry.id_hex()));
    line(format!("  {:<16} {}", "Kind", entry.kind_id()));
    line(format!("  {:<16} {}", "Issued by", entry.issuer()));
    line(format!("  {:<16} {}", "Issued", entry.issued_at()));
    line(format!("  {:<16} {}", "Valid from", entry.valid_from()));
    let status = if entry.expired(now) {
        "  EXPIRED"
    } else if entry.not_yet_valid(now) {
        "  NOT YET VALID"
    } else {
        ""
    };
    line(format!(
        "  {:<16} {}{status}",
        "Valid until",
        entry.expires()
    ));
    if let Some(copies) = entry.copies() {
        line(format!(
            "  {:<16} {} of {}",
            "Copies left", copies.left, copies.total
        ));
        line(String::new());
        for text in [
            "  Issued as one-time copies: each QR code shows another copy, so counters",
            "  cannot tell that two of your codes came from this one certificate. Its",
            "  certificate ID is between you and the department; no counter sees it.",
        ] {
            line(text.into());
        }
        if copies.left == 0 {
            line(format!(
                "  Every copy has been shown: ask {} to issue it again.",
                entry.issuer()
            ));
        } else if copies.low() {
            line(format!(
                "  Few copies are left: ask {} for new copies.",
                entry.issuer()
            ));
        }
    }
    line(String::new());
    line("  Fields (the key on the left is what you use with 'present --show'):".into());

    if kinds.get(entry.kind_id()).is_err() {
        line(format!(
            "  (this software does not know the kind {}; fields are shown by number)",
            entry.kind_id()
        ));
    }
    for field in entry.fields(kinds) {
        let value = field
            .text
            .unwrap_or_else(|| "(not in this certificate)".into());
        match (field.key, field.label) {
            (Some(key), Some(label)) => {
                let label = match field.label_local {
                    Some(local) => format!("{label} ({local})"),
                    None => label,
                };
                line(format!("  {key:<18} {label}: {value}"));
            }
            _ => line(format!(
                "  {:<18} field {}: {value}",
                format!("#{}", field.number),
                field.number
            )),
        }
    }
    out
}

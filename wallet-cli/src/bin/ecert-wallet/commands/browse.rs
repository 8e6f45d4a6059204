//! `list` and `show`: the citizen's own view of the wallet.

use std::path::PathBuf;

use anyhow::Result;
use ecert_schemas::{Disclosure, FieldValue, KindRegistry};

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
        println!(
            "Your wallet has no certificates yet. Give your wallet ID ('ecert-wallet id') to \
             a department, then add the file it gives you with 'ecert-wallet receive FILE'."
        );
        return Ok(());
    }
    println!("{}", certs::LIST_HEADER);
    for entry in &entries {
        println!("{}", entry.line(&kinds, now));
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
    print!("{}", describe(entry, &kinds, now));
    Ok(())
}

/// The full description of one certificate.
fn describe(entry: &Entry<'_>, kinds: &KindRegistry, now: ecert_schemas::UnixTime) -> String {
    let claims = &entry.certificate.claims;
    let mut out = String::new();
    let mut line = |text: String| {
        out.push_str(&text);
        out.push('\n');
    };
    line(entry.kind_name(kinds));
    line(format!("  {:<16} {}", "Short ID", entry.short_id()));
    line(format!("  {:<16} {}", "Certificate ID", entry.id_hex()));
    line(format!("  {:<16} {}", "Kind", claims.kind));
    line(format!("  {:<16} {}", "Issued by", claims.issuer));
    line(format!("  {:<16} {}", "Issued", claims.issued_at));
    line(format!("  {:<16} {}", "Valid from", claims.valid_from));
    let status = if entry.expired(now) {
        "  EXPIRED"
    } else if entry.not_yet_valid(now) {
        "  NOT YET VALID"
    } else {
        ""
    };
    line(format!(
        "  {:<16} {}{status}",
        "Valid until", claims.expires
    ));
    line(String::new());
    line("  Fields (the key on the left is what you use with 'present --show'):".into());

    let mut values: Vec<(u16, FieldValue)> = entry
        .package
        .disclosures
        .iter()
        .filter_map(|bytes| Disclosure::from_bytes(bytes).ok())
        .map(|d| (d.field, d.value))
        .collect();
    match kinds.get(&claims.kind) {
        Ok(kind) => {
            for field in &kind.fields {
                let label = match &field.label_local {
                    Some(local) => format!("{} ({local})", field.label),
                    None => field.label.clone(),
                };
                let value = match values.iter().position(|(n, _)| *n == field.number) {
                    Some(at) => values.remove(at).1.to_string(),
                    None => "(not in this certificate)".into(),
                };
                line(format!("  {:<18} {label}: {value}", field.key));
            }
        }
        Err(_) => line(format!(
            "  (this software does not know the kind {}; fields are shown by number)",
            claims.kind
        )),
    }
    for (number, value) in values {
        line(format!(
            "  {:<18} field {number}: {value}",
            format!("#{number}")
        ));
    }
    out
}

//! `receive`: adding certificate package files to the wallet.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use ecert_schemas::date::date_of_unix;
use ecert_schemas::{Certificate, CertificatePackage, Disclosure, KindRegistry, PublicKeyBytes};

use ecert_verifier::disclosure_matches;

use crate::certs;
use crate::cli::ReceiveArgs;
use crate::files;
use crate::wallet::Wallet;

/// `receive FILE...`: all files are checked before any is added; the wallet is saved once.
pub fn receive(path: PathBuf, args: &ReceiveArgs) -> Result<()> {
    // Unreadable files are reported before the passphrase is asked for.
    let mut received = Vec::with_capacity(args.files.len());
    for file in &args.files {
        received.push((file, read_package(file)?));
    }
    let mut w = Wallet::open(path)?;
    let me = w.contents.holder.public_key();
    let kinds = KindRegistry::builtin()?;
    let mut new: Vec<CertificatePackage> = Vec::new();
    for (file, (package, holder)) in received {
        if holder != me {
            bail!(
                "{} was issued to another wallet (wallet ID {holder}), not to this one \
                 ({me}); nothing was added. Ask the department to issue it to your wallet \
                 ID, shown by 'ecert-wallet id'",
                file.display()
            );
        }
        let known = w
            .contents
            .packages
            .iter()
            .chain(&new)
            .any(|p| p.certificate == package.certificate);
        if known {
            println!("{}: already in your wallet, skipped", file.display());
            continue;
        }
        new.push(package);
    }
    if new.is_empty() {
        println!("Nothing new to add; your wallet is unchanged.");
        return Ok(());
    }
    let first_new = w.contents.packages.len();
    w.contents.packages.extend(new);
    w.save()?;
    let now = certs::now()?;
    let entries = certs::entries(&w.contents.packages)?;
    for entry in entries.iter().skip(first_new) {
        let claims = &entry.certificate.claims;
        if kinds.get(&claims.kind).is_err() {
            println!(
                "note: this software does not know certificates of kind {}; it is kept, but \
                 cannot be shown until the software is updated",
                claims.kind
            );
        }
        let mark = if entry.expired(now) { " (EXPIRED)" } else { "" };
        println!(
            "Added {}  {} from {}, valid until {}{mark}",
            entry.short_id(),
            entry.kind_name(&kinds),
            claims.issuer,
            date_of_unix(claims.expires.secs()),
        );
    }
    println!(
        "Your wallet now holds {} certificate(s).",
        w.contents.packages.len()
    );
    Ok(())
}

/// Reads one package file and checks that it is intact; returns it with the wallet ID it
/// was issued to.
fn read_package(file: &Path) -> Result<(CertificatePackage, PublicKeyBytes)> {
    let name = file.display();
    let bytes = files::read_limited(file).with_context(|| format!("cannot read {name}"))?;
    let package = CertificatePackage::from_bytes(&bytes).with_context(|| {
        format!("{name} is not a certificate file from a department; nothing was added")
    })?;
    let certificate = Certificate::from_bytes(&package.certificate).with_context(|| {
        format!("{name}: the certificate in it is unreadable; nothing was added")
    })?;
    for bytes in &package.disclosures {
        let intact = Disclosure::from_bytes(bytes)
            .is_ok_and(|d| disclosure_matches(&certificate.claims, d.field, bytes));
        if !intact {
            bail!(
                "{name} is damaged: a field does not match its certificate; nothing was \
                 added. Ask the department for the file again"
            );
        }
    }
    Ok((package, certificate.claims.holder))
}

//! `init`, `key`, `config` and `set-anchor`: setting the home up.

use std::path::Path;

use anyhow::{Context, Result};
use ecert_issuer::home::{check_http_url, Config, Home};
use ecert_issuer::IssuerKey;
use ecert_schemas::{IssuerId, KeyId};
use ecert_shell::files::read_limited;
use ecert_verifier::anchor_file::parse_anchor;
use ecert_verifier::TrustAnchor;
use rand_core::OsRng;

use super::print;
use crate::cli::{ConfigArgs, InitArgs, SetAnchorArgs};
use crate::exit;
use crate::secrets;

/// Longest anchor file read (it holds two short lines).
const MAX_ANCHOR_BYTES: u64 = 64 * 1024;

fn read_anchor_file(path: &Path) -> Result<TrustAnchor> {
    let shown = path.display();
    let bytes = read_limited(path, MAX_ANCHOR_BYTES)
        .map_err(|e| exit::input(format!("cannot read the anchor file: {e}")))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| exit::input(format!("the anchor file {shown} is not a text file")))?;
    parse_anchor(&text).map_err(|e| {
        exit::input(format!(
            "the anchor file {shown} is not a trust anchor: {e}"
        ))
        .into()
    })
}

/// `init`.
pub fn init(home: &Home, args: &InitArgs) -> Result<()> {
    let issuer =
        IssuerId::new(args.issuer.clone()).map_err(|e| exit::input(format!("--issuer: {e}")))?;
    let node = args
        .node
        .as_deref()
        .map(|u| check_http_url("ledger node address", u))
        .transpose()?;
    let serve_url = args
        .serve_url
        .as_deref()
        .map(|u| check_http_url("offer endpoint address", u))
        .transpose()?;
    let anchor = args.anchor.as_deref().map(read_anchor_file).transpose()?;
    if home.exists() {
        return Err(exit::home(format!(
            "{} already holds an issuer home; it was left unchanged",
            home.dir().display()
        ))
        .into());
    }
    let params = secrets::kdf_params(args.kdf_test)?;
    let passphrase = secrets::new()?;
    let key = IssuerKey::generate(issuer.clone(), &mut OsRng);
    let sealed = secrets::seal_key(&key, &passphrase, params)?;
    let config = Config {
        issuer: issuer.to_string(),
        node,
        serve_url,
    };
    let _lock = home.create(&config, &sealed, &key.public_key())?;
    if let Some(anchor) = &anchor {
        home.write_anchor(anchor)?;
    }
    let mut text = format!(
        "Set up the issuer home for {issuer} in {}.\n\
         Public key: {}\n\
         Key id:     {}\n\n\
         Give the public key to the ledger's operators: it must be registered for {issuer} \
         in the ledger's genesis before the ledger accepts its certificates.\n",
        home.dir().display(),
        key.public_key().to_hex(),
        key.key_id().to_hex(),
    );
    if config.node.is_none() {
        text.push_str("Next: ecert-issuer config --node https://HOST:PORT (the ledger node)\n");
    }
    if anchor.is_none() {
        text.push_str(
            "Next: ecert-issuer set-anchor FILE (the anchor file of the ledger's genesis)\n",
        );
    }
    text.push_str(
        "Keep a backup of this folder: it holds the encrypted signing key and the register.\n",
    );
    print(&text)?;
    Ok(())
}

/// `key`.
pub fn key(home: &Home) -> Result<()> {
    print(&format!("{}\n", home.public_key()?.to_hex()))?;
    Ok(())
}

/// `config`.
pub fn config(home: &Home, args: &ConfigArgs) -> Result<()> {
    let mut config = home.config()?;
    let mut changed = false;
    if let Some(url) = &args.node {
        config.node = Some(check_http_url("ledger node address", url)?);
        changed = true;
    }
    if let Some(url) = &args.serve_url {
        config.serve_url = Some(check_http_url("offer endpoint address", url)?);
        changed = true;
    }
    if changed {
        let _lock = home.lock()?;
        home.write_config(&config)?;
    }
    let public = home.public_key()?;
    let anchor = match home.anchor()? {
        Some(a) => format!("ledger {} (validators {})", a.chain_id, a.validators_hash),
        None => "not set (ecert-issuer set-anchor FILE)".into(),
    };
    let batches = home.batches()?;
    let certificates: usize = batches.iter().map(|b| b.certificates.len()).sum();
    let copies: u64 = batches.iter().map(|b| b.copies()).sum();
    let mut text = String::new();
    if changed {
        text.push_str("Settings changed.\n");
    }
    text.push_str(&format!(
        "Home:           {}\n\
         Issuer:         {}\n\
         Ledger node:    {}\n\
         Offer endpoint: {}\n\
         Trust anchor:   {anchor}\n\
         Public key:     {}\n\
         Key id:         {}\n\
         Certificates:   {certificates} issued ({copies} one-time copies); next status \
         index {}, {} left\n",
        home.dir().display(),
        config.issuer,
        config
            .node
            .as_deref()
            .unwrap_or("not set (ecert-issuer config --node URL)"),
        config
            .serve_url
            .as_deref()
            .unwrap_or("not set (ecert-issuer config --serve-url URL)"),
        public.to_hex(),
        KeyId::of(&public).to_hex(),
        home.next_status_index()?,
        home.status_indexes_left()?,
    ));
    print(&text)?;
    Ok(())
}

/// `set-anchor`.
pub fn set_anchor(home: &Home, args: &SetAnchorArgs) -> Result<()> {
    home.require()?;
    let anchor = read_anchor_file(&args.file)?;
    let _lock = home.lock()?;
    let text = match home.anchor().context("cannot read the current anchor")? {
        Some(current) if current == anchor => format!(
            "The trust anchor is already ledger {} (validators {}). Nothing changed.\n",
            anchor.chain_id, anchor.validators_hash
        ),
        Some(current) if !args.force => {
            return Err(exit::home(format!(
                "this home already trusts ledger {} (validators {}); the file {} is for ledger \
                 {} (validators {}). Nothing changed. Use --force only if the ledger's \
                 operators told you to change it",
                current.chain_id,
                current.validators_hash,
                args.file.display(),
                anchor.chain_id,
                anchor.validators_hash
            ))
            .into())
        }
        _ => {
            home.write_anchor(&anchor)?;
            format!(
                "This department now anchors on ledger {}, validator set {}.\n",
                anchor.chain_id, anchor.validators_hash
            )
        }
    };
    print(&text)?;
    Ok(())
}

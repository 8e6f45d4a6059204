//! `trust` and `refresh`: the wallet's view of the ledger. `trust` keeps the ledger's trust
//! anchor beside the wallet; `refresh` asks a ledger node whether each certificate's batch
//! is anchored and whether it is revoked, and checks the answers against that anchor.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use ecert_schemas::codec::{from_cbor_bounded, MAX_ITEM_BYTES};
use ecert_schemas::date::date_of_unix;
use ecert_schemas::ledger::{
    AnchorReceipt, BlockHeader, RevocationDelta, RevocationSnapshot, MAX_TRUST_BUNDLE_BYTES,
};
use ecert_schemas::{Hash32, KindRegistry};
use ecert_verifier::anchor_file::{anchor_to_toml, parse_anchor};
use ecert_verifier::merkle::{leaf_hash, root_from_path, verify_inclusion};
use ecert_verifier::{verify_anchor_receipt, verify_revocation_delta, TrustAnchor};

use crate::certs::{self, Entry};
use crate::cli::{RefreshArgs, TrustArgs};
use crate::exit::{self, Failure};
use crate::files::{self, Existing};
use crate::net::{self, Answer, Server};
use crate::wallet::Wallet;

/// Largest anchor file read.
const MAX_ANCHOR_BYTES: u64 = 64 * 1024;

/// Where the trust anchor of the wallet at `wallet` is kept: beside it, `NAME.anchor.toml`.
pub fn anchor_path(wallet: &Path) -> PathBuf {
    wallet.with_extension("anchor.toml")
}

/// The stored trust anchor, if one was set.
fn read_anchor(wallet: &Path) -> Result<Option<TrustAnchor>> {
    let path = anchor_path(wallet);
    let bytes = match files::read_limited(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let text = String::from_utf8(bytes).ok().with_context(|| {
        format!(
            "the stored trust anchor {} is damaged; set it again with 'ecert-wallet trust \
             --anchor FILE --force'",
            path.display()
        )
    })?;
    parse_anchor(&text).map(Some).with_context(|| {
        format!(
            "the stored trust anchor {} is damaged; set it again with 'ecert-wallet trust \
             --anchor FILE --force'",
            path.display()
        )
    })
}

fn describe(anchor: &TrustAnchor) -> String {
    format!(
        "ledger {} (validator set {})",
        anchor.chain_id, anchor.validators_hash
    )
}

/// `trust [--anchor FILE [--force]]`: shows or sets the trust anchor.
pub fn trust(wallet: PathBuf, args: &TrustArgs) -> Result<()> {
    let stored = anchor_path(&wallet);
    let Some(file) = &args.anchor else {
        match read_anchor(&wallet)? {
            Some(anchor) => println!(
                "This wallet checks ledger answers against {}.\n(kept in {})",
                describe(&anchor),
                stored.display()
            ),
            None => println!(
                "This wallet has no trust anchor yet: 'ecert-wallet refresh' cannot check \
                 what a ledger node tells it. Set one with 'ecert-wallet trust --anchor FILE', \
                 using the anchor file published by the department running the ledger."
            ),
        }
        return Ok(());
    };
    let shown = file.display();
    let bytes = files::read_limited(file).with_context(|| format!("cannot read {shown}"))?;
    if bytes.len() as u64 > MAX_ANCHOR_BYTES {
        return Err(Failure::new(
            exit::ERROR,
            format!("{shown} is too large to be an anchor file; nothing was changed"),
        )
        .into());
    }
    let text = String::from_utf8(bytes)
        .ok()
        .with_context(|| format!("{shown} is not a text file; nothing was changed"))?;
    let anchor = parse_anchor(&text)
        .with_context(|| format!("{shown} is not a trust anchor file; nothing was changed"))?;
    let existing = match read_anchor(&wallet) {
        Ok(existing) => existing,
        Err(_) if args.force => None,
        Err(e) => return Err(e),
    };
    match existing {
        Some(current) if current == anchor => {
            println!(
                "This wallet already trusts {}. Nothing changed.",
                describe(&anchor)
            );
            return Ok(());
        }
        Some(current) if !args.force => {
            return Err(Failure::new(
                exit::ERROR,
                format!(
                    "this wallet already trusts {}; {shown} is for {}. Nothing changed. Add \
                     --force only if the department running the ledger told you to change it",
                    describe(&current),
                    describe(&anchor)
                ),
            )
            .into());
        }
        _ => {}
    }
    let toml = anchor_to_toml(
        &anchor,
        "The ledger this wallet checks answers against (set by `ecert-wallet trust`).",
    );
    files::write_atomically(&stored, toml.as_bytes(), Existing::Replace)?;
    println!(
        "This wallet now trusts {}.\n'ecert-wallet refresh --node URL' will check the node's \
         answers against it.",
        describe(&anchor)
    );
    Ok(())
}

/// What the node said about one batch.
enum Anchoring {
    /// Anchored, with a receipt that passed every check (`certified`: against the trust
    /// anchor; otherwise only its consistency with the certificate).
    Anchored {
        batch_seq: u64,
        height: u64,
        time_ms: u64,
        certified: bool,
    },
    /// The node does not know the batch.
    NotAnchored,
    /// Anchored in a block that is still collecting votes.
    NotCertifiedYet,
    /// The answer was unusable or failed its check.
    Refused(String),
}

/// `refresh --node URL`: per certificate, is it anchored, is it revoked.
pub fn refresh(wallet: PathBuf, args: &RefreshArgs) -> Result<()> {
    let server = Server::parse(&args.node, "--node")?;
    let anchor = read_anchor(&wallet)?;
    let w = Wallet::open(wallet)?;
    let kinds = KindRegistry::builtin()?;
    let entries = certs::entries(&w.contents.packages)?;
    if entries.is_empty() {
        println!("Your wallet has no certificates yet: nothing to refresh.");
        return Ok(());
    }

    // One question per batch (several certificates may share one).
    let mut batches: BTreeMap<Hash32, Anchoring> = BTreeMap::new();
    let mut roots = Vec::with_capacity(entries.len());
    for entry in &entries {
        let proof = &entry.package.anchor;
        let root = root_from_path(
            &leaf_hash(&entry.package.certificate),
            proof.leaf_index,
            &proof.path,
        );
        roots.push(root);
        let Some(root) = root else { continue };
        if batches.contains_key(&root) {
            continue;
        }
        let answer = net::get(
            &server,
            &format!("/v1/anchors/{}", root.to_hex()),
            MAX_ITEM_BYTES as u64,
        )?;
        let status = anchoring(&server, &answer, entry, root, anchor.as_ref());
        batches.insert(root, status);
    }

    let (snapshot, revocations): (RevocationSnapshot, Certification) = match &anchor {
        Some(anchor) => certified_revocations(&server, anchor)?,
        None => {
            let answer = net::get(&server, "/v1/revocations", MAX_TRUST_BUNDLE_BYTES as u64)?;
            if answer.status != 200 {
                return Err(answer.unexpected(&server).into());
            }
            let snapshot: RevocationSnapshot =
                from_cbor_bounded("revocation list", &answer.body, MAX_TRUST_BUNDLE_BYTES)
                    .map_err(|e| {
                        Failure::new(
                            exit::BAD_ANSWER,
                            format!(
                                "{}'s revocation list is unreadable ({e}); nothing was changed",
                                server.base()
                            ),
                        )
                    })?;
            (snapshot, Err(("no trust anchor set".to_owned(), false)))
        }
    };

    // The report.
    match &anchor {
        Some(anchor) => println!(
            "Asked ledger node {}; answers checked against your trust anchor, {}.",
            server.base(),
            describe(anchor)
        ),
        None => println!(
            "Asked ledger node {}. UNVERIFIED: this wallet has no trust anchor, so what \
             the node says below is not checked and could be wrong. Set one with \
             'ecert-wallet trust --anchor FILE'.",
            server.base()
        ),
    }
    let revocation_note = match &revocations {
        Ok(header) => format!(
            "certified status as of block #{}, {}",
            header.height,
            date_of_unix(header.time().secs())
        ),
        Err((why, _)) => format!("unverified: {why}"),
    };
    let now = certs::now()?;
    let (mut revoked, mut refused, mut damaged) = (0usize, 0usize, 0usize);
    if let Err((why, true)) = &revocations {
        refused += 1;
        println!("The node's revocation list was refused: {why}.");
    }
    for (entry, root) in entries.iter().zip(&roots) {
        println!();
        println!("{}", entry.line(&kinds, now));
        let text = match root.and_then(|r| batches.get(&r)) {
            None => {
                damaged += 1;
                "not anchored: the certificate's anchor proof is damaged (ask the department \
                 for the file again)"
                    .to_owned()
            }
            Some(Anchoring::Anchored {
                batch_seq,
                height,
                time_ms,
                certified,
            }) => format!(
                "anchored in batch {batch_seq} at height {height} on {} ({})",
                date_of_unix(time_ms / 1000),
                if *certified {
                    "certified"
                } else {
                    "unverified"
                }
            ),
            Some(Anchoring::NotAnchored) => "not anchored: the ledger does not know its batch \
                 (counters will refuse it; if it was issued just now, try again later, \
                 otherwise ask the department)"
                .to_owned(),
            Some(Anchoring::NotCertifiedYet) => "anchored in a block that is not certified yet: \
                 try again in a minute"
                .to_owned(),
            Some(Anchoring::Refused(why)) => {
                refused += 1;
                format!("anchoring unknown: the node's answer was refused: {why}")
            }
        };
        println!("    {text}");
        let claims = &entry.certificate.claims;
        if let Err((_, true)) = &revocations {
            println!("    revocation status unknown (the node's revocation list was refused)");
        } else if snapshot.is_revoked(&claims.issuer, claims.status_index) {
            revoked += 1;
            println!(
                "    REVOKED by {} ({revocation_note}). The ledger records only that it was \
                 revoked, not why: ask the department",
                claims.issuer
            );
        } else {
            println!("    not revoked ({revocation_note})");
        }
    }
    if revoked > 0 {
        return Err(Failure::new(
            exit::REVOKED,
            format!("{revoked} certificate(s) reported revoked (see above)"),
        )
        .into());
    }
    if refused > 0 {
        return Err(Failure::new(
            exit::BAD_ANSWER,
            "some of the node's answers were refused (see above); try again, or ask another \
             ledger node",
        )
        .into());
    }
    if damaged > 0 {
        return Err(Failure::new(
            exit::ERROR,
            format!(
                "{damaged} certificate(s) in your wallet have a damaged anchor proof (see \
                 above)"
            ),
        )
        .into());
    }
    Ok(())
}

/// Reads the node's answer about one batch and checks it.
fn anchoring(
    server: &Server,
    answer: &Answer,
    entry: &Entry<'_>,
    root: Hash32,
    anchor: Option<&TrustAnchor>,
) -> Anchoring {
    match answer.status {
        200 => {}
        404 => return Anchoring::NotAnchored,
        409 => return Anchoring::NotCertifiedYet,
        _ => return Anchoring::Refused(answer.unexpected(server).message),
    }
    let receipt = match AnchorReceipt::from_bytes(&answer.body) {
        Ok(receipt) => receipt,
        Err(e) => return Anchoring::Refused(format!("unreadable ({e})")),
    };
    let (record, batch_seq, certified) = match anchor {
        Some(anchor) => match verify_anchor_receipt(&receipt, anchor) {
            Ok(verified) => (verified.record, verified.batch_seq, true),
            Err(e) => return Anchoring::Refused(format!("it fails its check ({e})")),
        },
        None => (receipt.record, receipt.batch_seq, false),
    };
    let claims = &entry.certificate.claims;
    let proof = &entry.package.anchor;
    let leaf = leaf_hash(&entry.package.certificate);
    if record.batch_root != root
        || !verify_inclusion(&leaf, proof.leaf_index, record.count, &proof.path, &root)
    {
        return Anchoring::Refused("it is about another batch".into());
    }
    if record.issuer != claims.issuer
        || record.key_id != entry.certificate.key_id
        || !record.kinds.contains(&claims.kind)
    {
        return Anchoring::Refused(format!(
            "the batch was anchored by {}, not by the certificate's issuer {} with its key, \
             or not for this kind: counters will refuse this certificate; ask the department",
            record.issuer, claims.issuer
        ));
    }
    if batch_seq != proof.batch_seq {
        return Anchoring::Refused(format!(
            "the batch is number {batch_seq} in the ledger, but your certificate file says \
             {}: counters will refuse it; ask the department for a corrected file",
            proof.batch_seq
        ));
    }
    Anchoring::Anchored {
        batch_seq,
        height: record.height,
        time_ms: record.time_ms,
        certified,
    }
}

/// Whether revocation data is certified: the certified header, or why not and whether
/// because it failed a check (`true`) rather than there being nothing to check it with.
type Certification = Result<BlockHeader, (String, bool)>;

/// The revocation state, from the node's revocations since genesis checked against the
/// trust anchor ([`verify_revocation_delta`]): the certified header and the state, or an
/// empty state with why the answer was refused.
fn certified_revocations(
    server: &Server,
    anchor: &TrustAnchor,
) -> Result<(RevocationSnapshot, Certification)> {
    let answer = net::get(
        server,
        "/v1/revocations?since=0",
        MAX_TRUST_BUNDLE_BYTES as u64,
    )?;
    if answer.status != 200 {
        return Err(answer.unexpected(server).into());
    }
    let genesis = RevocationSnapshot {
        height: 0,
        lists: Vec::new(),
    };
    let checked = RevocationDelta::from_bytes(&answer.body)
        .map_err(|e| format!("it is unreadable ({e})"))
        .and_then(|delta| {
            verify_revocation_delta(&genesis, &delta, anchor)
                .map_err(|e| format!("it fails its check ({e})"))
        });
    Ok(match checked {
        Ok((header, snapshot)) => (snapshot, Ok(header)),
        Err(why) => (genesis, Err((why, true))),
    })
}

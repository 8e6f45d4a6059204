//! `trust` and `refresh`: the wallet's view of the ledger. `trust` keeps the ledger's trust
//! anchor beside the wallet; `refresh` asks a ledger node whether each certificate's batch
//! is anchored and whether it is revoked, and checks the answers against that anchor.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use ecert_client::http::BadAnswer;
use ecert_client::node::CertifiedRevocations;
use ecert_client::{NodeClient, NodeError, Transport};
use ecert_schemas::codec::{from_cbor_bounded, to_cbor};
use ecert_schemas::date::date_of_unix;
use ecert_schemas::ledger::{BlockHeader, Registry, RevocationSnapshot};
use ecert_schemas::ChainId;
use ecert_schemas::PublicKeyBytes;
use ecert_schemas::{Hash32, KindRegistry, UnixTime};
use ecert_verifier::anchor_file::{anchor_to_toml, parse_anchor};
use ecert_verifier::commit::registry_root;
use ecert_verifier::freshness::{freshness_lost, verify_freshness, Fresh, HeldHeader};
use ecert_verifier::{TrustAnchor, VerifyError};
use ecert_wallet::anchoring::{self, Mismatch};
use ecert_wallet::copies::LOW_COPIES;

use crate::certs::{self, Entry};
use crate::cli::{RefreshArgs, TrustArgs};
use crate::commands::net;
use crate::exit::{self, Failure};
use crate::files::{self, Existing};
use crate::wallet::Wallet;

/// Largest anchor file read.
const MAX_ANCHOR_BYTES: u64 = 64 * 1024;
/// Largest registry file read.
const MAX_REGISTRY_BYTES: usize = 4 * 1024 * 1024;

/// Where the ledger's registry, as last fetched by `refresh` and checked against a
/// certified header, is kept: beside the wallet, `NAME.registry.cbor`. It lists the
/// departments and their keys, which a counter's registration is checked against.
pub fn registry_path(wallet: &Path) -> PathBuf {
    wallet.with_extension("registry.cbor")
}

/// The kept registry and the trust anchor's ledger, for checking a counter's request;
/// an error telling the citizen what to run when either is missing.
pub fn registry_for_requests(wallet: &Path) -> Result<(Registry, ChainId)> {
    let Some(anchor) = read_anchor(wallet)? else {
        return Err(Failure::new(
            exit::ERROR,
            "this wallet has no trust anchor, so it cannot tell a registered counter from              any other: set it with 'ecert-wallet trust --anchor FILE', then run              'ecert-wallet refresh --node URL'. Nothing was shown",
        )
        .into());
    };
    let path = registry_path(wallet);
    let bytes = match files::read_limited(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.is_not_found() => {
            return Err(Failure::new(
                exit::ERROR,
                "this wallet does not know the ledger's departments yet, so it cannot check                  who is asking: run 'ecert-wallet refresh --node URL' first. Nothing was shown",
            )
            .into())
        }
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let registry: Registry = from_cbor_bounded("ledger registry", &bytes, MAX_REGISTRY_BYTES)
        .with_context(|| {
            format!(
                "{} is damaged: run 'ecert-wallet refresh --node URL' again",
                path.display()
            )
        })?;
    Ok((registry, anchor.chain_id))
}

/// Fetches the ledger's registry and keeps it beside the wallet if it is the one
/// `header` (certified, checked against the trust anchor) commits to; what happened, in a
/// line for the citizen.
fn keep_registry(client: &NodeClient, wallet: &Path, header: &BlockHeader) -> String {
    let registry = match client.registry() {
        Ok(registry) => registry,
        Err(e) => return format!("The ledger's list of departments was not updated: {e}."),
    };
    match registry_root(&registry) {
        Ok(root) if root == header.registry_root => {}
        _ => {
            return format!(
                "The ledger's list of departments was not updated: the node's list is not                  the one certified at block #{} (try again).",
                header.height
            )
        }
    }
    let written = to_cbor(&registry)
        .map_err(anyhow::Error::new)
        .and_then(|bytes| {
            files::write_atomically(&registry_path(wallet), &bytes, Existing::Replace)
                .map_err(anyhow::Error::new)
        });
    match written {
        Ok(()) => format!(
            "The ledger's list of departments (certified at block #{}) is kept for checking              counters' requests.",
            header.height
        ),
        Err(e) => format!("The ledger's list of departments could not be kept: {e:#}."),
    }
}

/// Where the trust anchor of the wallet at `wallet` is kept: beside it, `NAME.anchor.toml`.
pub fn anchor_path(wallet: &Path) -> PathBuf {
    wallet.with_extension("anchor.toml")
}

/// The stored trust anchor, if one was set.
fn read_anchor(wallet: &Path) -> Result<Option<TrustAnchor>> {
    let path = anchor_path(wallet);
    let bytes = match files::read_limited(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.is_not_found() => return Ok(None),
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
            Some(anchor) => ecert_shell::outln!(
                "This wallet checks ledger answers against {}.\n(kept in {})",
                describe(&anchor),
                stored.display()
            ),
            None => ecert_shell::outln!(
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
            ecert_shell::outln!(
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
    ecert_shell::outln!(
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
pub fn refresh(wallet: PathBuf, args: &RefreshArgs, transport: &Transport) -> Result<()> {
    let server = net::server(transport, &args.node, "--node")?;
    let client = NodeClient::with_http(server.clone(), net::http(transport));
    let anchor = read_anchor(&wallet)?;
    let w = Wallet::open(wallet)?;
    let kinds = KindRegistry::builtin()?;
    let entries = certs::entries(&w.contents.packages)?;
    if entries.is_empty() {
        ecert_shell::outln!("Your wallet has no certificates yet: nothing to refresh.");
        return Ok(());
    }

    // One question per batch (several certificates may share one). A certificate of
    // one-time copies is asked about through the copy it shows next.
    let wallet_key = w.contents.holder.public_key();
    let mut batches: BTreeMap<Hash32, Anchoring> = BTreeMap::new();
    let mut roots = Vec::with_capacity(entries.len());
    for entry in &entries {
        let root = anchoring::batch_root(entry, &wallet_key);
        roots.push(root);
        let Some(root) = root else { continue };
        if batches.contains_key(&root) {
            continue;
        }
        let status = ask_anchoring(&client, entry, &wallet_key, root, anchor.as_ref())?;
        batches.insert(root, status);
    }

    let now = certs::now()?;
    let (snapshot, revocations): (RevocationSnapshot, Certification) = match &anchor {
        Some(anchor) => certified_revocations(&client, anchor, now)?,
        None => match client.revocations() {
            Ok(snapshot) => (snapshot, Err(("no trust anchor set".to_owned(), false))),
            Err(NodeError::BadAnswer {
                cause: BadAnswer::Content(e),
                ..
            }) => {
                return Err(Failure::new(
                    exit::BAD_ANSWER,
                    format!(
                        "{}'s revocation list is unreadable ({e}); nothing was changed",
                        server.base()
                    ),
                )
                .into())
            }
            Err(e) => return Err(net::failure(&server, &e).into()),
        },
    };

    // The report.
    match &anchor {
        Some(anchor) => ecert_shell::outln!(
            "Asked ledger node {}; answers checked against your trust anchor, {}.",
            server.base(),
            describe(anchor)
        ),
        None => ecert_shell::outln!(
            "Asked ledger node {}. UNVERIFIED: this wallet has no trust anchor, so what \
             the node says below is not checked and could be wrong. Set one with \
             'ecert-wallet trust --anchor FILE'.",
            server.base()
        ),
    }
    let revocation_note = match &revocations {
        Ok(Certified {
            header,
            currency: Currency::Vouched { fresh, .. },
        }) => format!(
            "certified status as of {} (block #{})",
            fresh.as_of.max(header.time()),
            header.height
        ),
        Ok(Certified { header, .. }) => format!(
            "certified status as of block #{}, {}",
            header.height,
            date_of_unix(header.time().secs())
        ),
        Err((why, _)) => format!("unverified: {why}"),
    };
    if let Ok(certified) = &revocations {
        ecert_shell::outln!("{}", currency_line(certified));
        ecert_shell::outln!("{}", keep_registry(&client, &w.path, &certified.header));
    }
    let (mut revoked, mut refused, mut damaged) = (0usize, 0usize, 0usize);
    if let Err((why, true)) = &revocations {
        refused += 1;
        ecert_shell::outln!("The node's revocation list was refused: {why}.");
    }
    for (entry, root) in entries.iter().zip(&roots) {
        ecert_shell::outln!();
        ecert_shell::outln!("{}", certs::line(entry, &kinds, now));
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
        ecert_shell::outln!("    {text}");
        if let Err((_, true)) = &revocations {
            ecert_shell::outln!(
                "    revocation status unknown (the node's revocation list was refused)"
            );
        } else if anchoring::revoked(entry, |issuer, index| snapshot.is_revoked(issuer, index)) {
            revoked += 1;
            ecert_shell::outln!(
                "    REVOKED by {} ({revocation_note}). The ledger records only that it was \
                 revoked, not why: ask the department",
                entry.issuer()
            );
        } else {
            ecert_shell::outln!("    not revoked ({revocation_note})");
        }
        // What to ask the department for: copies before they run out, and copies of a
        // certificate of the older format (the wallet's upgrade).
        match entry.copies() {
            Some(left) if left.left <= LOW_COPIES && !entry.expired(now) => ecert_shell::outln!(
                "    {} one-time copies left: ask {} for new copies ('ecert-wallet refill \
                 --from ITS-SERVER')",
                left.left,
                entry.issuer()
            ),
            None if !entry.expired(now) => ecert_shell::outln!(
                "    of the older format, shown the same at every counter: ask {} for it as \
                 one-time copies ('ecert-wallet refill --from ITS-SERVER')",
                entry.issuer()
            ),
            _ => {}
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

/// Asks the node about one batch and checks its answer (against `anchor` when set). A
/// node that cannot be reached, or whose answer cannot be read at all, ends the command.
fn ask_anchoring(
    client: &NodeClient,
    entry: &Entry<'_>,
    wallet: &PublicKeyBytes,
    root: Hash32,
    anchor: Option<&TrustAnchor>,
) -> Result<Anchoring, Failure> {
    let fetched = match anchor {
        Some(anchor) => client
            .certified_anchor_receipt(&root, anchor)
            .map(|verified| (verified.record, verified.batch_seq, true)),
        None => client
            .anchor_receipt(&root)
            .map(|receipt| (receipt.record, receipt.batch_seq, false)),
    };
    let (record, batch_seq, certified) = match fetched {
        Ok(fetched) => fetched,
        Err(NodeError::NotAnchored) => return Ok(Anchoring::NotAnchored),
        Err(NodeError::NotCertifiedYet) => return Ok(Anchoring::NotCertifiedYet),
        Err(NodeError::BadAnswer {
            cause: BadAnswer::Content(e),
            ..
        }) => return Ok(Anchoring::Refused(format!("unreadable ({e})"))),
        Err(NodeError::Unverified { source, .. }) => {
            return Ok(Anchoring::Refused(format!("it fails its check ({source})")))
        }
        Err(e) if e.status().is_some() => {
            return Ok(Anchoring::Refused(
                net::failure(client.server(), &e).message,
            ))
        }
        Err(e) => return Err(net::failure(client.server(), &e)),
    };
    if record.batch_root != root {
        return Ok(Anchoring::Refused("it is about another batch".into()));
    }
    match anchoring::check_record(entry, wallet, &record, batch_seq) {
        Ok(()) => Ok(Anchoring::Anchored {
            batch_seq,
            height: record.height,
            time_ms: record.time_ms,
            certified,
        }),
        Err(Mismatch::NotInBatch) => Ok(Anchoring::Refused("it is about another batch".into())),
        Err(Mismatch::OtherSigner { .. } | Mismatch::OtherKind) => Ok(Anchoring::Refused(format!(
            "the batch was anchored by {}, not by the certificate's issuer {} with its \
                 key, or not for this kind: counters will refuse this certificate; ask the \
                 department",
            record.issuer,
            entry.issuer()
        ))),
        Err(Mismatch::OtherNumber { ledger, file }) => Ok(Anchoring::Refused(format!(
            "the batch is number {ledger} in the ledger, but your certificate file says \
             {file}: counters will refuse it; ask the department for a corrected file"
        ))),
    }
}

/// Whether revocation data is certified: the certified header, or why not and whether
/// because it failed a check (`true`) rather than there being nothing to check it with.
type Certification = Result<Certified, (String, bool)>;

/// A revocation state the trust anchor certifies, and how current the validators say it
/// is.
struct Certified {
    /// The certified header the state is of.
    header: BlockHeader,
    /// The validators' freshness statements about that header.
    currency: Currency,
}

/// What the validators' freshness statements say about a certified revocation state.
enum Currency {
    /// More than two thirds of the validators vouch the state is current as of a time.
    Vouched { fresh: Fresh, validators: usize },
    /// Fewer signed (`lost`: for long enough that the ledger has stopped confirming).
    NotConfirmed { why: VerifyError, lost: bool },
    /// The node has certified a newer block since the state was fetched.
    Superseded { height: u64 },
    /// The node offers none, or its answer was unusable.
    Unavailable(String),
}

/// The revocation state, from the node's revocations since genesis checked against the
/// trust anchor ([`NodeClient::certified_revocations`]): the certified header, how
/// current the validators say it is, and the state; or an empty state with why the answer
/// was refused.
fn certified_revocations(
    client: &NodeClient,
    anchor: &TrustAnchor,
    now: UnixTime,
) -> Result<(RevocationSnapshot, Certification), Failure> {
    let refused = |why: String| {
        let genesis = RevocationSnapshot {
            height: 0,
            lists: Vec::new(),
        };
        (genesis, Err((why, true)))
    };
    match client.certified_revocations(anchor) {
        Ok(certified) => {
            let currency = currency(client, &certified, now);
            let header = certified.header;
            Ok((certified.snapshot, Ok(Certified { header, currency })))
        }
        Err(NodeError::BadAnswer {
            cause: BadAnswer::Content(e),
            ..
        }) => Ok(refused(format!("it is unreadable ({e})"))),
        Err(NodeError::Unverified { source, .. }) => {
            Ok(refused(format!("it fails its check ({source})")))
        }
        Err(e) => Err(net::failure(client.server(), &e)),
    }
}

/// The validators' freshness statements about the certified header of `certified`
/// (`GET /v1/freshness`), checked against the validator set that certified it
/// ([`verify_freshness`]).
fn currency(client: &NodeClient, certified: &CertifiedRevocations, now: UnixTime) -> Currency {
    let freshness = match client.freshness() {
        Ok(Some(freshness)) => freshness,
        Ok(None) => return Currency::Unavailable("the node offers none".into()),
        Err(e) => return Currency::Unavailable(e.to_string()),
    };
    let held = HeldHeader::of_checkpoint(&certified.header, &certified.checkpoint);
    match verify_freshness(&freshness, &certified.validators, held) {
        Ok(fresh) => Currency::Vouched {
            fresh,
            validators: certified.validators.len(),
        },
        Err(why @ VerifyError::FreshnessNotConfirmed { .. }) => Currency::NotConfirmed {
            why,
            lost: freshness_lost(certified.header.time(), now),
        },
        Err(VerifyError::TrustDataMismatch { .. }) if freshness.height > held.height => {
            Currency::Superseded {
                height: freshness.height,
            }
        }
        Err(e) => Currency::Unavailable(format!("refused ({}): {e}", e.code())),
    }
}

/// The line saying how current the certified revocation state is.
fn currency_line(certified: &Certified) -> String {
    let height = certified.header.height;
    match &certified.currency {
        Currency::Vouched { fresh, validators } => format!(
            "Revocation data of block #{height} is current as of {}: {} of {validators} \
             validators vouch for it.",
            fresh.as_of, fresh.signed
        ),
        Currency::NotConfirmed { why, lost: true } => format!(
            "WARNING: the validators no longer confirm that block #{height} is the newest \
             ({why}). The ledger may have lost validators; counters may refuse your \
             certificates until it recovers."
        ),
        Currency::NotConfirmed { why, lost: false } => format!(
            "Revocation data of block #{height} is as of its block time; the validators \
             have not confirmed it since yet ({why})."
        ),
        Currency::Superseded { height: newer } => format!(
            "The ledger has certified block #{newer} since block #{height} was fetched: \
             refresh again for the newest revocation data."
        ),
        Currency::Unavailable(why) => format!(
            "Revocation data of block #{height} is as of its block time; no freshness \
             statements from the validators ({why})."
        ),
    }
}

//! `receive`: adding certificate packages to the wallet, from files or collected from a
//! department's server with a one-time offer code; and `refill`: new copies of
//! certificates held, asked of the department's server. All go through the same checks
//! ([`check_package`]) and the same addition ([`add`]).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use ecert_client::offer::{self, OfferError, RefillError, RefillReply};
use ecert_client::{ServerUrl, Transport};
use ecert_schemas::address::{is_valid_offer_code, OfferLink, MAX_OFFER_CODE_CHARS};
use ecert_schemas::date::date_of_unix;
use ecert_schemas::{KindRegistry, PublicKeyBytes};
use ecert_wallet::copies::LOW_COPIES;
use ecert_wallet::offer::{redeem_request, refill_request};
use ecert_wallet::receive::{self, ReceiveError, Received, Refused};

use crate::certs;
use crate::cli::{ReceiveArgs, RefillArgs};
use crate::commands::net;
use crate::exit::{self, Failure};
use crate::files::{self, Existing};
use crate::wallet::Wallet;

/// A package that passed [`check_package`], named by where it came from.
struct Sourced {
    source: String,
    received: Received,
}

/// `receive FILE...` or `receive --offer ...`.
pub fn receive(path: PathBuf, args: &ReceiveArgs, net: &Transport) -> Result<()> {
    match &args.offer {
        Some(offer) => receive_offer(path, offer, args.issuer.as_deref(), net),
        None => receive_files(path, &args.files),
    }
}

/// `receive FILE...`: all files are checked before any is added; the wallet is saved once.
fn receive_files(path: PathBuf, paths: &[PathBuf]) -> Result<()> {
    // Unreadable files are reported before the passphrase is asked for.
    let mut received = Vec::with_capacity(paths.len());
    for file in paths {
        let name = file.display().to_string();
        let bytes = files::read_limited(file).with_context(|| format!("cannot read {name}"))?;
        received.push(check_package(name, &bytes)?);
    }
    let mut w = Wallet::open(path)?;
    add(&mut w, received)
}

/// Why offer `code` could not be collected from `server` by wallet `me`, in plain words
/// with the wallet's exit code; nothing was added.
/// `kept`: a copy of what the server sent when the offer was collected, if one is kept.
fn offer_failure(
    e: OfferError,
    server: &ServerUrl,
    code: &str,
    me: &PublicKeyBytes,
    kept: Option<&Path>,
) -> Failure {
    let base = server.base();
    let (exit_code, text) = match &e {
        OfferError::Unknown { .. } => (
            exit::OFFER_UNKNOWN,
            format!(
                "{base} does not know the offer code {code}: check that you typed it \
                 exactly as given, and that this is the server of the department that \
                 gave it to you. Nothing was added."
            ),
        ),
        OfferError::Used { .. } if kept.is_some() => {
            let kept = kept
                .map(Path::display)
                .map(|p| p.to_string())
                .unwrap_or_default();
            (
                exit::OFFER_USED,
                format!(
                    "the offer {code} was already collected, and what the server sent then \
                     is kept in {kept}: add it to your wallet with 'ecert-wallet receive \
                     {kept}'."
                ),
            )
        }
        OfferError::Used { .. } => (
            exit::OFFER_USED,
            format!(
                "the offer {code} was already collected, by another wallet or too long ago \
                 for the department to hand it over again. If it is not already in your \
                 wallet ('ecert-wallet list'), tell the department: someone else may have \
                 used the code. Nothing was added."
            ),
        ),
        OfferError::OtherWallet { .. } => (
            exit::OFFER_OTHER_WALLET,
            format!(
                "the certificate of offer {code} was issued to another wallet ID, not to \
                 this wallet ({me}). Nothing was added. Ask the department to issue it to \
                 your wallet ID, shown by 'ecert-wallet id'."
            ),
        ),
        OfferError::BadSignature { .. } => (
            exit::OFFER_BAD_SIGNATURE,
            format!(
                "{base} refused this wallet's signed request for offer {code}. Nothing was \
                 added. Check that the wallet software is up to date, then ask the \
                 department."
            ),
        ),
        OfferError::Http(http) => return net::failure(server, &http.clone().into()),
        OfferError::InvalidCode(_) | OfferError::Request(_) => {
            return Failure::new(exit::ERROR, e.to_string())
        }
    };
    Failure::new(exit_code, format!("{text}{}", net::said(e.error_body())))
}

/// `receive --offer LINK` or `receive --offer CODE --issuer URL`: collect the package from
/// the department's server, then check and add it exactly as a file.
fn receive_offer(path: PathBuf, offer: &str, issuer: Option<&str>, net: &Transport) -> Result<()> {
    // A mistyped link is reported before the passphrase is asked for.
    let (server, code) = parse_offer(offer, issuer, net)?;
    let mut w = Wallet::open(path)?;
    let me = w.contents.holder.public_key();
    let request = redeem_request(&w.contents.holder, &code);
    let base = server.base();
    let bytes = offer::redeem(&net::http(net), &server, &code, &request).map_err(|e| {
        let kept = matches!(e, OfferError::Used { .. })
            .then(|| kept_copy(&w.path, &code))
            .flatten();
        offer_failure(e, &server, &code, &me, kept.as_deref())
    })?;

    // The offer is used now: what the server sent is kept in a file before anything else,
    // so that neither an interruption nor a failure loses it (the department hands it
    // again to this wallet for a few days only); the copy is deleted once the wallet holds
    // the certificate.
    let copy = keep_copy(&w.path, &code, &bytes);
    let source = format!("the certificate of offer {code} from {base}");
    let outcome = match check_package(source, &bytes) {
        Err(e) => Err(Failure::new(exit::BAD_ANSWER, format!("{e:#}")).into()),
        Ok(sourced) => match receive::check_holder(&me, &sourced.received, None) {
            Ok(()) => add(&mut w, vec![sourced]),
            Err(e) => Err(not_ours(e, &code, &me).into()),
        },
    };
    match outcome {
        Ok(()) => {
            // Best effort: a copy left behind is only a file the wallet already holds.
            // Copies of the same package kept by an earlier, interrupted run go too.
            if let Some(copy) = copy {
                let _ = files::remove_if_present(&copy);
            }
            for earlier in kept_copies(&w.path, &code) {
                if files::read_limited(&earlier).is_ok_and(|kept| kept == bytes) {
                    let _ = files::remove_if_present(&earlier);
                }
            }
            Ok(())
        }
        Err(error) => Err(match copy {
            Some(copy) => error.context(format!(
                "what the server sent was kept in {}: add it later with 'ecert-wallet \
                 receive {}', or show it to the department",
                copy.display(),
                copy.display()
            )),
            None => error,
        }),
    }
}

/// `refill --from URL [CERT...]`: asks the department for new copies of each chosen
/// certificate; adds those it hands over (each replaces the certificate's old copies),
/// and says which requests are queued.
pub fn refill(path: PathBuf, args: &RefillArgs, net: &Transport) -> Result<()> {
    let server = net::server(net, &args.from, "--from")?;
    let kinds = KindRegistry::builtin()?;
    let mut w = Wallet::open(path)?;
    let now = certs::now()?;
    let entries = certs::entries(&w.contents.packages)?;
    let mut chosen: Vec<usize> = Vec::new();
    if args.certs.is_empty() {
        // Running low, or of the older format (answered with copies: an upgrade); not
        // expired.
        chosen.extend(
            entries
                .iter()
                .filter(|e| !e.expired(now))
                .filter(|e| e.copies().is_none_or(|c| c.left <= LOW_COPIES))
                .map(|e| e.index),
        );
        if chosen.is_empty() {
            ecert_shell::outln!(
                "No certificate has {LOW_COPIES} or fewer one-time copies left, and none is \
                 of the older format; nothing was asked. Name one to ask for it anyway."
            );
            return Ok(());
        }
    }
    for selector in &args.certs {
        let entry = certs::select(&entries, selector, &kinds, now)?;
        if !chosen.contains(&entry.index) {
            chosen.push(entry.index);
        }
    }
    let http = net::http(net);
    let base = server.base();
    let mut requests = Vec::new();
    for entry in entries.iter().filter(|e| chosen.contains(&e.index)) {
        let Some(held) = w.contents.packages.get(entry.index) else {
            continue;
        };
        let request = refill_request(&w.contents.holder, held, now)?;
        let upgrade = if held.copies().is_none() {
            " (of the older format: asked as one-time copies)"
        } else {
            ""
        };
        let name = format!(
            "{} ({}){upgrade}",
            entry.kind_name(&kinds),
            entry.short_id()
        );
        requests.push((*entry.id(), name, request));
    }
    drop(entries);
    let me = w.contents.holder.public_key();
    let mut received = Vec::new();
    let mut refused = Vec::new();
    for (id, name, request) in requests {
        match offer::refill(&http, &server, &request) {
            Ok(RefillReply::Queued) => ecert_shell::outln!(
                "{name}: asked; {base} issues new copies in batches with other citizens'. \
                 Run this command again later (for example tomorrow) to collect them."
            ),
            Ok(RefillReply::Package(bytes)) => {
                let source = format!("the new copies of {name} from {base}");
                let sourced = check_package(source, &bytes)?;
                let same = match &sourced.received {
                    Received::Copies(package) => package.id == id,
                    Received::Whole { .. } => false,
                };
                if !same {
                    bail!(
                        "{base} answered the request for {name} with another certificate; \
                         nothing was added"
                    );
                }
                receive::check_holder(&me, &sourced.received, None)
                    .map_err(|e| anyhow::anyhow!("{}: {e}; nothing was added", sourced.source))?;
                received.push(sourced);
            }
            Err(RefillError::Refused { status, error }) => {
                let text = match status {
                    410 if error.code.as_deref() == Some("revoked") => format!(
                        "{name}: the department revoked this certificate; it issues no new \
                         copies of it"
                    ),
                    410 => format!("{name}: this certificate has expired; ask for a new one"),
                    404 => {
                        format!("{name}: {base} is not the server of the department that issued it")
                    }
                    _ => format!("{name}: refused.{}", net::said(Some(&error))),
                };
                refused.push(text);
            }
            Err(RefillError::Http(http)) => {
                return Err(net::failure(&server, &http.into()).into());
            }
            Err(RefillError::Request(e)) => return Err(e.into()),
        }
    }
    if !received.is_empty() {
        add(&mut w, received)?;
    }
    if refused.is_empty() {
        return Ok(());
    }
    Err(Failure::new(exit::REFILL_REFUSED, refused.join("\n")).into())
}

/// Why the package collected with offer `code` is not this wallet's (`me`), with the
/// wallet's exit code.
fn not_ours(error: ReceiveError, code: &str, me: &PublicKeyBytes) -> Failure {
    match error {
        ReceiveError::IssuedToAnotherWallet { holder, .. } => Failure::new(
            exit::OFFER_OTHER_WALLET,
            format!(
                "the certificate of offer {code} was issued to another wallet (wallet ID \
                 {holder}), not to this one ({me}); nothing was added. Tell the department"
            ),
        ),
        ReceiveError::CopiesForAnotherWallet { .. } => Failure::new(
            exit::OFFER_OTHER_WALLET,
            format!(
                "the certificate of offer {code} was issued to another wallet, not to this \
                 one ({me}): its copies do not fit this wallet's key; nothing was added. \
                 Tell the department"
            ),
        ),
        other => Failure::new(
            exit::BAD_ANSWER,
            format!(
                "the certificate of offer {code}: {other}; nothing was added. Tell the \
                 department"
            ),
        ),
    }
}

/// The folders a collected package is kept in: beside the wallet, else (that disk full,
/// say) the system's temporary folder.
fn copy_dirs(wallet: &Path) -> [PathBuf; 2] {
    [
        wallet.parent().unwrap_or_else(|| Path::new(".")).to_owned(),
        std::env::temp_dir(),
    ]
}

/// The names a kept copy of offer `code` may have, in order.
fn copy_names(code: &str) -> impl Iterator<Item = String> + '_ {
    (1..10).map(move |n| {
        if n == 1 {
            format!("offer-{code}.ecp")
        } else {
            format!("offer-{code}-{n}.ecp")
        }
    })
}

/// Saves a collected package beside the wallet (once the offer is used, the department
/// hands it again to this wallet for a few days only).
fn keep_copy(wallet: &Path, code: &str, bytes: &[u8]) -> Option<PathBuf> {
    copy_dirs(wallet).iter().find_map(|dir| {
        copy_names(code).find_map(|name| {
            let path = dir.join(name);
            files::write_atomically(&path, bytes, Existing::Refuse)
                .ok()
                .map(|()| path)
        })
    })
}

/// The newest copy kept of offer `code`, if any (see [`keep_copy`]).
fn kept_copy(wallet: &Path, code: &str) -> Option<PathBuf> {
    copy_dirs(wallet).iter().find_map(|dir| {
        copy_names(code)
            .map(|name| dir.join(name))
            .take_while(|path| path.is_file())
            .last()
    })
}

/// Every copy kept of offer `code` (see [`keep_copy`]).
fn kept_copies(wallet: &Path, code: &str) -> Vec<PathBuf> {
    copy_dirs(wallet)
        .iter()
        .flat_map(|dir| copy_names(code).map(move |name| dir.join(name)))
        .filter(|path| path.is_file())
        .collect()
}

/// The server and the code of `--offer LINK` (the offer link, or the wallet app link of
/// the offer page), or of `--offer CODE --issuer URL`.
fn parse_offer(
    offer: &str,
    issuer: Option<&str>,
    net: &Transport,
) -> Result<(ServerUrl, String), Failure> {
    let offer = offer.trim();
    let is_link = offer.contains("://");
    let (server, code) = match (is_link, issuer) {
        (true, Some(_)) => {
            return Err(Failure::new(
                exit::ERROR,
                "give either the offer link (--offer https://HOST:PORT/v1/offers/CODE) or the \
                 code with the department's server (--offer CODE --issuer https://HOST:PORT), \
                 not both",
            ))
        }
        (true, None) => {
            let link = OfferLink::parse(offer).map_err(|e| {
                Failure::new(exit::ERROR, format!("{offer:?} is not an offer link: {e}"))
            })?;
            let server = net::server(net, link.server.base(), "the offer link")?;
            (server, link.code)
        }
        (false, Some(issuer)) => (net::server(net, issuer, "--issuer")?, offer.to_owned()),
        (false, None) => {
            return Err(Failure::new(
                exit::ERROR,
                format!(
                    "to collect offer {offer:?}, also give the department's server with \
                     --issuer https://HOST:PORT, or give the whole offer link \
                     (https://HOST:PORT/v1/offers/CODE)"
                ),
            ))
        }
    };
    if !is_valid_offer_code(&code) {
        return Err(Failure::new(
            exit::ERROR,
            format!(
                "{code:?} is not an offer code: a code is 1 to {MAX_OFFER_CODE_CHARS} \
                 letters, digits and - . _ ~ (no spaces); copy it exactly as the department \
                 gave it"
            ),
        ));
    }
    Ok((server, code))
}

/// Adds the packages that are issued to this wallet and not in it yet (all or nothing,
/// [`ecert_wallet::receive::add`]; a newer issue of a certificate of one-time copies
/// replaces the one held); saves once.
fn add(w: &mut Wallet, sourced: Vec<Sourced>) -> Result<()> {
    let me = w.contents.holder.public_key();
    let kinds = KindRegistry::builtin()?;
    let first_new = w.contents.packages.len();
    let before = w.contents.packages.clone();
    let (sources, received): (Vec<String>, Vec<Received>) =
        sourced.into_iter().map(|s| (s.source, s.received)).unzip();
    let source_of = |position: usize| sources.get(position).map_or("a package", String::as_str);
    let added = match receive::add(&mut w.contents, received) {
        Ok(added) => added,
        Err(Refused {
            position,
            error: ReceiveError::IssuedToAnotherWallet { holder, .. },
        }) => {
            bail!(
                "{} was issued to another wallet (wallet ID {holder}), not to this one \
                 ({me}); nothing was added. Ask the department to issue it to your wallet \
                 ID, shown by 'ecert-wallet id'",
                source_of(position)
            );
        }
        Err(Refused {
            position,
            error: ReceiveError::CopiesForAnotherWallet { .. },
        }) => {
            bail!(
                "{} was issued to another wallet, not to this one ({me}): its copies do not \
                 fit this wallet's key (or it is damaged); nothing was added. Ask the \
                 department to issue it to your wallet ID, shown by 'ecert-wallet id'",
                source_of(position)
            );
        }
        Err(Refused { position, error }) => bail!(
            "{}: {error}; nothing was added. Ask the department for the file again",
            source_of(position)
        ),
    };
    for position in &added.already_held {
        ecert_shell::outln!("{}: already in your wallet, skipped", source_of(*position));
    }
    for position in &added.not_newer {
        ecert_shell::outln!(
            "{}: an issue of a certificate in your wallet that is not newer than the one \
             it holds, skipped",
            source_of(*position)
        );
    }
    if added.added.is_empty() && added.replaced.is_empty() {
        ecert_shell::outln!("Nothing new to add; your wallet is unchanged.");
        return Ok(());
    }
    if let Err(e) = w.save() {
        w.contents.packages = before;
        return Err(e.context(
            "nothing was added and your wallet is unchanged; run the command again once \
             this is solved",
        ));
    }
    let now = certs::now()?;
    let entries = certs::entries(&w.contents.packages)?;
    let replaced: Vec<usize> = added.replaced.iter().map(|(_, at)| *at).collect();
    for entry in entries
        .iter()
        .filter(|e| e.index >= first_new || replaced.contains(&e.index))
    {
        if kinds.get(entry.kind_id()).is_err() {
            ecert_shell::outln!(
                "note: this software does not know certificates of kind {}; it is kept, but \
                 cannot be shown until the software is updated",
                entry.kind_id()
            );
        }
        let mark = if entry.expired(now) { " (EXPIRED)" } else { "" };
        let copies = entry
            .copies()
            .map(|c| format!(", {} one-time copies", c.total))
            .unwrap_or_default();
        let verb = if entry.index < first_new {
            "Replaced with a new issue:"
        } else {
            "Added"
        };
        ecert_shell::outln!(
            "{verb} {}  {} from {}, valid until {}{mark}{copies}",
            entry.short_id(),
            entry.kind_name(&kinds),
            entry.issuer(),
            date_of_unix(entry.expires().secs()),
        );
        if entry.index < first_new {
            ecert_shell::outln!(
                "  (the copies left of the earlier issue are gone; every copy of the new one \
                 is unused)"
            );
        }
    }
    ecert_shell::outln!(
        "Your wallet now holds {} certificate(s).",
        w.contents.packages.len()
    );
    Ok(())
}

/// Checks that `bytes` are an intact package ([`ecert_wallet::receive::check_package`]),
/// naming it `source` in messages.
fn check_package(source: String, bytes: &[u8]) -> Result<Sourced> {
    match receive::check_package(bytes) {
        Ok(received) => Ok(Sourced { source, received }),
        Err(ReceiveError::NotAPackage(e)) => Err(anyhow::Error::new(e).context(format!(
            "{source} is not a certificate file from a department; nothing was added"
        ))),
        Err(ReceiveError::UnreadableCertificate(e)) => Err(anyhow::Error::new(e).context(format!(
            "{source}: the certificate in it is unreadable; nothing was added"
        ))),
        Err(ReceiveError::Damaged { .. }) => bail!(
            "{source} is damaged: a field does not match its certificate; nothing was \
             added. Ask the department for the file again"
        ),
        Err(other) => {
            bail!("{source}: {other}; nothing was added. Ask the department for the file again")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offer_links_and_codes() {
        let strict = Transport::default();
        let net = Transport::default().allow_insecure_http(true);
        let parse_offer = |offer: &str, issuer: Option<&str>| parse_offer(offer, issuer, &net);
        let (s, c) = parse_offer("http://10.0.0.5:8443/v1/offers/K7Q2-99XF", None).unwrap();
        assert_eq!(
            (s.base(), c.as_str()),
            ("http://10.0.0.5:8443", "K7Q2-99XF")
        );
        let (s, c) = parse_offer(" http://issuer.example/v1/offers/abc/ ", None).unwrap();
        assert_eq!((s.base(), c.as_str()), ("http://issuer.example", "abc"));
        let (s, c) = parse_offer("abc_1.2~x", Some("http://10.0.0.5:8443/")).unwrap();
        assert_eq!(
            (s.base(), c.as_str()),
            ("http://10.0.0.5:8443", "abc_1.2~x")
        );
        let (s, c) = super::parse_offer("https://h:7400/v1/offers/abc", None, &strict).unwrap();
        assert_eq!((s.base(), c.as_str()), ("https://h:7400", "abc"));
        // The offer page's button: the wallet app's link carrying the offer link.
        let (s, c) = super::parse_offer(
            "https://127.0.0.1:7101/wallet/#offer=https%3A%2F%2Fh%3A7400%2Fv1%2Foffers%2Fabc",
            None,
            &strict,
        )
        .unwrap();
        assert_eq!((s.base(), c.as_str()), ("https://h:7400", "abc"));
        let e = super::parse_offer("http://h:7400/v1/offers/abc", None, &strict).unwrap_err();
        assert!(e.message.contains("--insecure-http"), "{}", e.message);

        for (offer, issuer) in [
            ("http://h/v1/offers/abc", Some("http://h")),
            ("abc", None),
            ("http://h/v1/offer/abc", None),
            ("http://h/v1/offers/", None),
            ("http://h/v1/offers/a/b", None),
            ("http://h/v1/offers/a%20b", None),
            ("https://h/v1/offers/abc?x", None),
            ("http://h", None),
            ("a b", Some("http://h")),
            ("abc", Some("h:80")),
        ] {
            let e = parse_offer(offer, issuer).unwrap_err();
            assert_eq!(e.code, exit::ERROR, "{offer}");
        }
        let long = "x".repeat(MAX_OFFER_CODE_CHARS + 1);
        assert!(parse_offer(&long, Some("http://h")).is_err());
    }
}

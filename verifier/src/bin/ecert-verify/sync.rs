//! `sync`: load the ledger's data, exported by a ledger node to a file or fetched from the
//! node over the network, after checking it. Both go through the same checks and the same
//! store path.

use std::time::Duration;

use anyhow::{Context, Result};
use ecert_client::http::{BadAnswer, ErrorBody, Http, Unreachable};
use ecert_client::{NodeClient, NodeError, ServerUrl, Transport};
use ecert_schemas::ledger::TrustUpdate;
use ecert_schemas::{ChainId, UnixTime};
use ecert_verifier::freshness::freshness_lost;
use ecert_verifier::{Policy, TrustAnchor, TrustStore, VerifyError};

use crate::cli::SyncArgs;
use crate::exit::{self, Failure};
use crate::ledger_dir::LedgerDir;
use crate::national::{self, province_label};
use crate::output::{age, data_age};
use crate::store::{self, Store};

/// `sync`: the national trust list (`--trust-list`), another province's ledger
/// (`--province`, checked against the anchor the held list gives it and kept in its own
/// folder), or the counter's own ledger; a ledger's data goes through [`sync_ledger`]
/// either way.
pub fn run(store: &Store, args: &SyncArgs, net: &Transport, now: UnixTime) -> Result<String> {
    if let Some(file) = &args.trust_list {
        return crate::sync_list::run(store, file, now);
    }
    match &args.province {
        Some(chain) => {
            let (place, anchor, label) = province_target(store, chain, now)?;
            let mut text = sync_ledger(&place, &anchor, args, net, now)?;
            text.insert_str(0, &format!("Province {label}\n"));
            Ok(text)
        }
        None => sync_ledger(&store.home(), &store.anchor()?, args, net, now),
    }
}

/// Where a province's data goes and the trust anchor it is checked against: the one the
/// held national list (checked at `now`) gives it.
fn province_target(
    store: &Store,
    chain: &str,
    now: UnixTime,
) -> Result<(LedgerDir, TrustAnchor, String)> {
    let chain_id = ChainId::new(chain)
        .map_err(|e| exit::counter(format!("--province {chain:?} is not a chain id: {e}")))?;
    store.national_anchor()?;
    let list = national::list_in_force(store, now)?.ok_or_else(|| {
        exit::counter(
            "this counter has no national trust list yet: run `ecert-verify sync \
             --trust-list FILE` with the list from the national body first",
        )
    })?;
    if store
        .read_anchor()?
        .is_some_and(|home| home.chain_id == chain_id)
    {
        return Err(exit::counter(format!(
            "ledger {chain_id} is this counter's own ledger: sync it without --province \
             (`ecert-verify sync --node URL` or `--from-file BUNDLE`)"
        ))
        .into());
    }
    let Some(anchor) = list.province_anchor(&chain_id) else {
        let error = VerifyError::ProvinceUnknown {
            detail: format!(
                "ledger {chain_id} is not on the national trust list (version {})",
                list.seq()
            ),
        };
        let code = exit::for_error(&error);
        let listed: Vec<String> = list.provinces().iter().map(province_label).collect();
        return Err(Failure::new(
            code,
            format!(
                "refused --province {chain_id}: {error} (code {}, exit code {code}). Nothing \
                 was synced. Provinces on the list: {}",
                error.code(),
                if listed.is_empty() {
                    "none".to_owned()
                } else {
                    listed.join(", ")
                }
            ),
        )
        .into());
    };
    Ok((
        store.province(&chain_id),
        anchor,
        national::label_of(&list, &chain_id),
    ))
}

/// Reads the bundle from `--from-file` or fetches it from `--node`, checks it against
/// `anchor` and stores it in `place`; refuses older data without `--allow-older`. From a
/// node, it then fetches the validators' freshness statements about the synced block,
/// checks and stores them: on a ledger without new blocks they keep the data current.
/// When too few validators vouch for an older block, it says so with the reason's own
/// exit code.
fn sync_ledger(
    place: &LedgerDir,
    anchor: &TrustAnchor,
    args: &SyncArgs,
    net: &Transport,
    now: UnixTime,
) -> Result<String> {
    let previous = place.read_bundle()?;
    // The data fetched, and the store it makes when an incremental update already checked
    // it (a whole export or file is checked below).
    let (shown, bytes, checked, client) = match (&args.node, &args.from_file) {
        (Some(node), _) => {
            let node = net
                .server(node)
                .map_err(|e| Failure::new(exit::COUNTER_ERROR, format!("--node {e}")))?;
            let http = Http::with_transport(
                concat!("ecert-verify/", env!("CARGO_PKG_VERSION")),
                Duration::from_secs(args.timeout),
                net,
            );
            let client = NodeClient::with_http(node.clone(), http);
            let shown = format!("ledger node {}", node.base());
            let updated = if args.full {
                None
            } else {
                let held = previous.as_deref();
                sync_incrementally(held, &client, anchor, &shown).map_err(|e| match e {
                    Incremental::Fetch(e) => fetch_failure(&node, &e, args.timeout),
                    Incremental::Refused(failure) => failure,
                })?
            };
            match updated {
                Some((bundle, trust, transfer)) => {
                    (shown, bundle, Some(trust), Some((client, transfer)))
                }
                None => {
                    let bytes = client
                        .export_bytes()
                        .map_err(|e| fetch_failure(&node, &e, args.timeout))?;
                    let transfer = format!("full export, {} bytes", bytes.len());
                    (shown, bytes, None, Some((client, transfer)))
                }
            }
        }
        (None, Some(file)) => (
            file.display().to_string(),
            store::read_limited(file, store::bundle_limit())?,
            None,
            None,
        ),
        (None, None) => {
            return Err(crate::exit::counter(
                "say where the ledger's data comes from: --from-file BUNDLE or --node URL",
            )
            .into())
        }
    };
    let mut trust = match checked {
        Some(trust) => trust,
        None => store::check_bundle(&bytes, anchor).map_err(|e| refusal(&e, &shown))?,
    };
    let height = trust.header().height;

    let previous_height = previous.as_deref().and_then(store::bundle_height);
    let unchanged = previous.as_deref() == Some(bytes.as_slice());
    if let Some(old) = previous_height.filter(|_| !unchanged) {
        if height < old && !args.allow_older {
            return Err(crate::exit::refused(format!(
                "refused {shown}: its data is older (block #{height}) than the data this \
                 counter already has (block #{old}). Nothing was changed. Get a newer export \
                 or try another ledger node, or add --allow-older if you really want to go \
                 back"
            ))
            .into());
        }
    }
    if unchanged {
        place.apply_stored_freshness(&mut trust)?;
    } else {
        place
            .write_bundle(&bytes)
            .context("the new ledger data could not be stored; the old data is unchanged")?;
    }
    let (freshness_line, freshness_failure) = match &client {
        Some((client, _)) => sync_freshness(place, &mut trust, client, now)?,
        None => (
            "  freshness:        not synced from a file (sync from a ledger node for it)\n"
                .to_owned(),
            None,
        ),
    };

    let max_age = Policy::default().max_revocation_age_secs;
    let mut text = if unchanged {
        format!(
            "Already up to date: the counter has this data (block #{height}, {}).\n",
            data_age(now, trust.as_of())
        )
    } else {
        let mut text = format!(
            "Synced ledger {} from {shown}\n\
             \x20 certified height: block #{height} ({} of {} validators signed)\n\
             \x20 header time:      {}\n\
             \x20 data as of:       {}\n\
             \x20 data age:         {}\n\
             \x20 batches known:    {}\n\
             \x20 revoked:          {} certificate(s)\n",
            trust.chain_id(),
            trust.vote_count(),
            trust.validators().len(),
            trust.header().time(),
            trust.as_of(),
            data_age(now, trust.as_of()),
            trust.anchor_count(),
            trust.revoked_count(),
        );
        text.push_str(&match (previous.is_some(), previous_height) {
            (false, _) => "  previous:         none (first sync)\n".to_owned(),
            (true, Some(old)) => format!("  previous:         block #{old}\n"),
            (true, None) => "  previous:         unreadable data, replaced\n".to_owned(),
        });
        if let Some((_, transfer)) = &client {
            text.push_str(&format!("  transfer:         {transfer}\n"));
        }
        text
    };
    text.push_str(&freshness_line);
    if now.secs().saturating_sub(trust.as_of().secs()) > max_age {
        text.push_str(&format!(
            "Warning: this data is already more than {} old; `verify` refuses it by default. \
             Get a fresher export.\n",
            age(max_age)
        ));
    }
    match freshness_failure {
        Some(failure) => {
            crate::output::print(&text)?;
            Err(failure.into())
        }
        None => Ok(text),
    }
}

/// Why an incremental sync ended the command.
enum Incremental {
    /// The node could not be asked.
    Fetch(NodeError),
    /// Its answer was refused.
    Refused(Failure),
}

/// Brings the counter's stored data up to the node's newest certified header with only
/// what changed (`GET /v1/updates?since=H`), checked by `TrustStore::apply_update` as
/// strictly as a full export. `previous` is the stored bundle. Returns the new bundle to
/// store, the store it makes and how it came, or `None` when a full export is needed
/// instead: no stored data (or unreadable), or a node that cannot serve the update (it
/// lacks the stored header's checkpoint, is behind this counter, or predates incremental
/// sync). A refused update ends the sync.
fn sync_incrementally(
    previous: Option<&[u8]>,
    client: &NodeClient,
    anchor: &TrustAnchor,
    shown: &str,
) -> Result<Option<(Vec<u8>, TrustStore, String)>, Incremental> {
    let Some(Ok(held)) = previous.map(|bytes| store::check_bundle(bytes, anchor)) else {
        return Ok(None);
    };
    let bytes = match client.update_bytes(held.header().height) {
        Ok(Some(bytes)) => bytes,
        Ok(None) | Err(NodeError::NotCertifiedYet) => return Ok(None),
        Err(e) => return Err(Incremental::Fetch(e)),
    };
    let refused = |e: VerifyError| Incremental::Refused(refusal(&e, &shown));
    let update = TrustUpdate::from_bytes(&bytes).map_err(|e| refused(e.into()))?;
    let updated = held.apply_update(&update, anchor).map_err(refused)?;
    let bundle = updated
        .to_bundle()
        .to_bytes()
        .map_err(|e| refused(e.into()))?;
    let transfer = format!(
        "incremental from block #{}, {} bytes ({} new batch(es), {} revocation(s){})",
        update.since,
        bytes.len(),
        update.anchors.len(),
        update
            .revocations
            .iter()
            .map(|g| g.indexes.len())
            .sum::<usize>(),
        if update.registry.is_empty() {
            ""
        } else {
            ", registry changed"
        }
    );
    Ok(Some((bundle, updated, transfer)))
}

/// Fetches the freshness statements about the synced block from `client`, applies them
/// to `trust` and stores them when they hold. Returns the line to show, and the failure
/// to end with when the ledger has stopped confirming freshness.
fn sync_freshness(
    place: &LedgerDir,
    trust: &mut TrustStore,
    client: &NodeClient,
    now: UnixTime,
) -> Result<(String, Option<Failure>)> {
    let freshness = match client.freshness() {
        Ok(Some(freshness)) => freshness,
        Ok(None) => {
            return Ok((
                "  freshness:        not offered by this node\n".to_owned(),
                None,
            ))
        }
        Err(e) => {
            return Ok((
                format!("  freshness:        not available from this node ({e})\n"),
                None,
            ))
        }
    };
    match trust.apply_freshness(&freshness) {
        Ok(fresh) => {
            // Kept only when newer than what the counter has (a lagging node's older
            // statements must not replace them on disk).
            if trust.freshness() == Some(fresh) {
                place
                    .write_freshness(&freshness)
                    .context("the freshness statements could not be stored")?;
            }
            Ok((
                format!(
                    "  freshness:        {} of {} validators vouch the data is current as of {}\n",
                    fresh.signed,
                    trust.validators().len(),
                    fresh.as_of
                ),
                None,
            ))
        }
        Err(e @ VerifyError::FreshnessNotConfirmed { .. }) => {
            let line = format!("  freshness:        NOT CONFIRMED: {e}\n");
            if !freshness_lost(trust.header().time(), now) {
                return Ok((line, None));
            }
            let code = exit::for_error(&e);
            Ok((
                line,
                Some(Failure {
                    code,
                    message: format!(
                        "the ledger does not confirm that this counter's data is current \
                         (code {}, exit code {code}). {}",
                        e.code(),
                        exit::advice(&e)
                    ),
                }),
            ))
        }
        Err(VerifyError::TrustDataMismatch { .. }) if freshness.height > trust.header().height => {
            Ok((
                format!(
                    "  freshness:        the node has certified block #{} since: sync again\n",
                    freshness.height
                ),
                None,
            ))
        }
        Err(e) => Ok((
            format!("  freshness:        refused ({}): {e}\n", e.code()),
            None,
        )),
    }
}

/// A failed download from a ledger node, in plain words, with exit code
/// [`exit::COUNTER_ERROR`] (the counter could not do its job); `timeout` is `--timeout`.
fn fetch_failure(node: &ServerUrl, error: &NodeError, timeout: u64) -> Failure {
    let base = node.base();
    let what = match error {
        e if e.status().is_some() => {
            let said = e
                .error_body()
                .and_then(ErrorBody::text)
                .map(|text| format!(" The node said: {text}."))
                .unwrap_or_default();
            return Failure::new(
                exit::COUNTER_ERROR,
                format!(
                    "{base} answered with status {} instead of the ledger's data.{said} \
                     Nothing was changed. Check that this is a ledger node's address, or try \
                     again later",
                    e.status().unwrap_or_default()
                ),
            );
        }
        NodeError::BadAnswer {
            cause: BadAnswer::TooLarge { limit },
            ..
        } => {
            return Failure::new(
                exit::COUNTER_ERROR,
                format!(
                    "{base} sent more than {limit} bytes, more than any ledger export may be; \
                     nothing was changed. Check the address"
                ),
            )
        }
        NodeError::Unreachable { cause, .. } => match cause {
            Unreachable::Timeout => {
                format!("{base} did not send the ledger's data within {timeout} s (see --timeout)")
            }
            Unreachable::HostNotFound => {
                format!("the name in {base} was not found (check the address and the network)")
            }
            Unreachable::Connect(detail) => format!(
                "cannot connect to {base} ({detail}); check the address, the network, and \
                 that the ledger node is running"
            ),
            Unreachable::Tls(problem) => {
                format!("the secure connection to {base} failed: {problem}")
            }
        },
        other => format!("{base} did not answer as a ledger node does ({other})"),
    };
    Failure::new(exit::COUNTER_ERROR, format!("{what}. Nothing was changed"))
}

/// Why a bundle was refused, with the reason's own exit code and advice for a sync.
fn refusal(error: &VerifyError, file: &impl std::fmt::Display) -> Failure {
    let advice = match error {
        VerifyError::UnsupportedVersion { .. } => {
            "The file was made by newer ledger software: ask your IT contact to update \
             ecert-verify."
        }
        _ => {
            "Do not use this data: get a new export from the department running the ledger, \
             or sync from another ledger node. If everything is refused, check with \
             `ecert-verify status` that this counter trusts the right ledger."
        }
    };
    let code = exit::for_error(error);
    Failure {
        code,
        message: format!(
            "refused {file}: {error}. Nothing was changed.\n(code {}, exit code {code}) {advice}",
            error.code()
        ),
    }
}

//! `sync`: load the ledger's data, exported by a ledger node to a file or fetched from the
//! node over the network, after checking it. Both go through the same checks and the same
//! store path.

use std::time::Duration;

use anyhow::{Context, Result};
use ecert_client::http::{BadAnswer, ErrorBody, Http, Unreachable};
use ecert_client::{NodeClient, NodeError, ServerUrl, Transport};
use ecert_schemas::UnixTime;
use ecert_verifier::freshness::freshness_lost;
use ecert_verifier::{Policy, TrustStore, VerifyError};

use crate::cli::SyncArgs;
use crate::exit::{self, Failure};
use crate::output::{age, data_age};
use crate::store::{self, Store};

/// Reads the bundle from `--from-file` or fetches it from `--node`, checks it against the
/// anchor and stores it; refuses older data without `--allow-older`. From a node, it then
/// fetches the validators' freshness statements about the synced block, checks and stores
/// them: on a ledger without new blocks they keep the data current. When too few
/// validators vouch for an older block, it says so with the reason's own exit code.
pub fn run(store: &Store, args: &SyncArgs, net: &Transport, now: UnixTime) -> Result<String> {
    let anchor = store.anchor()?;
    let (shown, bytes, client) = match (&args.node, &args.from_file) {
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
            let bytes = client
                .export_bytes()
                .map_err(|e| fetch_failure(&node, &e, args.timeout))?;
            (format!("ledger node {}", node.base()), bytes, Some(client))
        }
        (None, Some(file)) => (
            file.display().to_string(),
            store::read_limited(file, store::bundle_limit())?,
            None,
        ),
        (None, None) => {
            return Err(crate::exit::counter(
                "say where the ledger's data comes from: --from-file BUNDLE or --node URL",
            )
            .into())
        }
    };
    let mut trust = store::check_bundle(&bytes, &anchor).map_err(|e| refusal(&e, &shown))?;
    let height = trust.header().height;

    let previous = store.read_bundle()?;
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
        store.apply_stored_freshness(&mut trust)?;
    } else {
        store
            .write_bundle(&bytes)
            .context("the new ledger data could not be stored; the old data is unchanged")?;
    }
    let (freshness_line, freshness_failure) = match &client {
        Some(client) => sync_freshness(store, &mut trust, client, now)?,
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

/// Fetches the freshness statements about the synced block from `client`, applies them
/// to `trust` and stores them when they hold. Returns the line to show, and the failure
/// to end with when the ledger has stopped confirming freshness.
fn sync_freshness(
    store: &Store,
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
                store
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

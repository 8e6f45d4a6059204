//! `sync --trust-list FILE`: take a newer national trust list, checked against the pinned
//! national anchor, and delete the synced data of provinces it no longer lists (or lists
//! with another validator set).

use std::path::Path;

use anyhow::{Context, Result};
use ecert_schemas::federation::NationalTrustList;
use ecert_schemas::UnixTime;
use ecert_verifier::federation::{
    list_version, verify_trust_list, Federation, ListVersion, VerifiedTrustList,
};
use ecert_verifier::VerifyError;

use crate::exit::{self, Failure};
use crate::national::{self, kinds_text, province_label};
use crate::output::age;
use crate::store::{self, Store};

/// Checks the list in `file` and stores it when it is newer than the held one; says what
/// changed. An older list is refused ([`exit::REFUSED`]); the same version is "already up
/// to date".
pub fn run(store: &Store, file: &Path, now: UnixTime) -> Result<String> {
    let anchor = store.national_anchor()?;
    let shown = file.display().to_string();
    let bytes = store::read_limited(file, store::trust_list_limit())?;
    let list = NationalTrustList::from_bytes(&bytes).map_err(|e| refusal(&e.into(), &shown))?;
    let verified = verify_trust_list(&list, &anchor, now).map_err(|e| refusal(&e, &shown))?;
    let seq = verified.seq();

    let held = match national::read_held(store, &anchor, now) {
        Ok(held) => held.filter(national::HeldList::approved),
        Err(e) => {
            crate::output::note(&format!("warning: replacing the stored list: {e:#}\n"));
            None
        }
    };
    let previous = held.as_ref().map(|h| h.list.body.seq);
    if let Some(held) = &held {
        let old = held.list.body.seq;
        match list_version(&list.body, &held.list.body) {
            ListVersion::Newer => {}
            ListVersion::Older => {
                return Err(exit::refused(format!(
                    "refused {shown}: it is version {seq} of the national trust list, older \
                     than the version this counter holds ({old}). Nothing was changed. A \
                     counter never goes back to an older list (it may still name a province \
                     removed since): get the national body's current list"
                ))
                .into());
            }
            ListVersion::Same => {
                return Ok(format!(
                    "Already up to date: this counter holds version {seq} of the national \
                     trust list of {} (expires {}).\n",
                    list.body.federation, list.body.expires
                ));
            }
            ListVersion::Conflicting => {
                return Err(exit::refused(format!(
                    "refused {shown}: it is a different list with the same version number \
                     ({seq}) as the one this counter holds. Nothing was changed. Tell the \
                     national body: each version of the list must have its own number"
                ))
                .into());
            }
        }
    }

    store
        .write_trust_list(&bytes)
        .context("the new trust list could not be stored; the old one is unchanged")?;
    let removed = drop_unlisted(store, &verified, held.as_ref().map(|h| &h.list))?;

    let mut text = format!(
        "Synced the national trust list of {} from {shown}\n\
         \x20 version:          {seq} ({})\n\
         \x20 issued:           {}\n\
         \x20 expires:          {} (in {})\n\
         \x20 approved by:      {} of {} national keys\n\
         \x20 provinces:        {}\n",
        list.body.federation,
        previous.map_or_else(
            || "previous: none, first list".to_owned(),
            |p| format!("previous: {p}")
        ),
        list.body.issued_at,
        list.body.expires,
        age(list.body.expires.secs().saturating_sub(now.secs())),
        verified.approvals(),
        anchor.keys.len(),
        verified.provinces().len(),
    );
    for entry in verified.provinces() {
        text.push_str(&format!(
            "    {}: may issue {}\n",
            province_label(entry),
            kinds_text(entry)
        ));
    }
    for (label, why) in &removed {
        text.push_str(&format!(
            "Removed {label}: {why}; its synced data was deleted.\n"
        ));
    }
    text.push_str(&home_note(store, &verified)?);
    text.push_str(
        "Next: ecert-verify sync --province CHAIN --node URL (or --from-file BUNDLE) for each \
         province this counter serves.\n",
    );
    Ok(text)
}

/// Deletes the synced data of every province `list` does not keep: not listed, or listed
/// with another validator set than the data's. Returns each province deleted (named as
/// the `previous` list named it) and why.
fn drop_unlisted(
    store: &Store,
    list: &VerifiedTrustList,
    previous: Option<&NationalTrustList>,
) -> Result<Vec<(String, String)>> {
    let mut federation = Federation::new(list.clone());
    let mut removed = Vec::new();
    for chain_id in store.synced_provinces()? {
        let why = match list.province_anchor(&chain_id) {
            None => Some("no longer on the national trust list".to_owned()),
            Some(anchor) => match store.province(&chain_id).load(&anchor) {
                Ok(Some(trust)) => federation
                    .add(trust)
                    .err()
                    .map(|e| format!("the list names another validator set for it ({e})")),
                Ok(None) => None,
                Err(_) => {
                    Some("the list names another trust anchor for it than its data's".to_owned())
                }
            },
        };
        if let Some(why) = why {
            store.remove_province(&chain_id)?;
            let entry =
                previous.and_then(|p| p.body.provinces.iter().find(|e| e.chain_id == chain_id));
            let label = entry.map_or_else(|| chain_id.to_string(), province_label);
            removed.push((label, why));
        }
    }
    Ok(removed)
}

/// What the list means for the counter's own ledger, if it has one.
fn home_note(store: &Store, list: &VerifiedTrustList) -> Result<String> {
    let Some(home) = store.read_anchor()? else {
        return Ok(String::new());
    };
    Ok(match list.province_anchor(&home.chain_id) {
        Some(listed) if listed == home => format!(
            "This counter's own ledger {} is on the list as {}.\n",
            home.chain_id,
            national::label_of(list, &home.chain_id)
        ),
        Some(_) => format!(
            "Warning: the list names another validator set for this counter's own ledger {} \
             than its trust anchor: its certificates will not verify while the list is used. \
             Ask the department running the ledger.\n",
            home.chain_id
        ),
        None => format!(
            "Warning: this counter's own ledger {} is not on the list: its certificates will \
             not verify while the list is used.\n",
            home.chain_id
        ),
    })
}

/// Why a list was refused, with the reason's own exit code.
fn refusal(error: &VerifyError, file: &str) -> Failure {
    let code = exit::for_error(error);
    let advice = match error {
        VerifyError::UnsupportedVersion { .. } => {
            "The list was made by newer software: ask your IT contact to update ecert-verify."
        }
        VerifyError::TrustListExpired { .. } => {
            "Get the national body's current list (and check this computer's date)."
        }
        _ => {
            "Do not use this list: get it again from the national body. If every list is \
             refused, check with `ecert-verify status` that this counter has the right \
             national anchor."
        }
    };
    Failure::new(
        code,
        format!(
            "refused {file}: {error}. Nothing was changed.\n(code {}, exit code {code}) {advice}",
            error.code()
        ),
    )
}

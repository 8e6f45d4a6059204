//! `status`: what this counter trusts and how fresh its ledger data is.

use anyhow::Result;
use ecert_schemas::federation::NationalAnchor;
use ecert_schemas::UnixTime;
use ecert_verifier::{Policy, TrustStore, VerifyError};

use crate::national::{self, kinds_text, province_label};
use crate::output::{age, data_age};
use crate::store::Store;

/// The status report. Fails (exit code 2) when the counter is not set up or not synced,
/// after printing what it has.
pub fn run(store: &Store, now: UnixTime) -> Result<String> {
    let mut text = format!("Store:            {}\n", store.dir().display());
    let national = store.read_national_anchor();
    let national = match national {
        Ok(national) => national,
        Err(e) => {
            crate::output::print(&text)?;
            return Err(e);
        }
    };
    let Some(national) = national else {
        let (home, failed) = home_status(store, now);
        text.push_str(&home);
        return match failed {
            None => Ok(text),
            Some(e) => {
                crate::output::print(&text)?;
                Err(e)
            }
        };
    };
    if store.read_anchor()?.is_some() {
        let (home, failed) = home_status(store, now);
        text.push_str(&home);
        if let Some(e) = failed {
            text.push_str(&format!("Own ledger data:  none ({e:#})\n"));
        }
    }
    let (section, list_held) = national_status(store, &national, now)?;
    text.push_str(&section);
    if !list_held && store.read_anchor()?.is_none() {
        crate::output::print(&text)?;
        return Err(crate::exit::counter(
            "this counter has no national trust list yet: run `ecert-verify sync --trust-list \
             FILE` with the list from the national body",
        )
        .into());
    }
    Ok(text)
}

/// The national anchor, the held list and each listed province's synced data; whether a
/// list is held.
fn national_status(
    store: &Store,
    anchor: &NationalAnchor,
    now: UnixTime,
) -> Result<(String, bool)> {
    let mut text = format!(
        "National anchor:  {} ({} national keys)\n",
        anchor.federation,
        anchor.keys.len()
    );
    let Some(held) = national::read_held(store, anchor, now)? else {
        text.push_str("Trust list:       none yet (run `ecert-verify sync --trust-list FILE`)\n");
        return Ok((text, false));
    };
    let body = &held.list.body;
    let state = match &held.checked {
        Ok(_) => format!("in {}", age(body.expires.secs().saturating_sub(now.secs()))),
        Err(VerifyError::TrustListExpired { .. }) => {
            "EXPIRED: certificates from other provinces are refused; sync a newer list".to_owned()
        }
        Err(e) => format!("NOT USABLE ({}): {e}", e.code()),
    };
    text.push_str(&format!(
        "Trust list:       {} version {} (issued {})\n           expires:        {} ({state})\n           approved by:    {}\n         Provinces:\n",
        body.federation,
        body.seq,
        body.issued_at,
        body.expires,
        if held.approved() {
            format!(
                "{} of {} national keys",
                held.list.approvals.len(),
                anchor.keys.len()
            )
        } else {
            "not checked (the list does not verify)".to_owned()
        },
    ));
    let home = store.read_anchor()?;
    for entry in &body.provinces {
        let listed = ecert_verifier::TrustAnchor {
            chain_id: entry.chain_id.clone(),
            validators_hash: entry.validators_hash,
        };
        let own = home.as_ref().is_some_and(|h| h.chain_id == entry.chain_id);
        let place = if own {
            store.home()
        } else {
            store.province(&entry.chain_id)
        };
        let synced = match place.load(home.as_ref().filter(|_| own).unwrap_or(&listed)) {
            Ok(Some(trust)) => synced_line(&trust, now),
            Ok(None) => format!(
                "not synced (ecert-verify sync --province {} --node URL)",
                entry.chain_id
            ),
            Err(e) => format!("DAMAGED, sync again: {e:#}"),
        };
        text.push_str(&format!(
            "  {}{}\n      may issue: {}\n      synced:    {synced}\n",
            province_label(entry),
            if own {
                " - this counter's own ledger"
            } else {
                ""
            },
            kinds_text(entry)
        ));
    }
    Ok((text, true))
}

/// A province's synced height and data age.
fn synced_line(trust: &TrustStore, now: UnixTime) -> String {
    format!(
        "block #{}, data as of {} ({})",
        trust.header().height,
        trust.as_of(),
        data_age(now, trust.as_of())
    )
}

/// The counter's own ledger: its anchor and synced data, and what stopped the report
/// (not set up, not synced).
fn home_status(store: &Store, now: UnixTime) -> (String, Option<anyhow::Error>) {
    let mut text = String::new();
    let anchor = match store.anchor() {
        Ok(anchor) => anchor,
        Err(e) => return (text, Some(e)),
    };
    text.push_str(&format!(
        "Trusted ledger:   {}\nValidator set:    {}\n",
        anchor.chain_id, anchor.validators_hash
    ));
    let trust = match store.load() {
        Ok(trust) => trust,
        Err(e) => return (text, Some(e)),
    };
    let age_secs = now.secs().saturating_sub(trust.as_of().secs());
    let max_age = Policy::default().max_revocation_age_secs;
    text.push_str(&format!(
        "Synced height:    block #{} ({} of {} validators signed)\n\
         Header time:      {}\n\
         Data as of:       {}{}\n\
         Data age:         {}{}\n\
         Validators:       {}\n\
         Batches known:    {}\n\
         Revoked:          {} certificate(s)\n\
         Issuers:\n",
        trust.header().height,
        trust.vote_count(),
        trust.validators().len(),
        trust.header().time(),
        trust.as_of(),
        match trust.freshness() {
            Some(fresh) => format!(
                " ({} of {} validators vouched that block #{} was still the newest)",
                fresh.signed,
                trust.validators().len(),
                trust.header().height
            ),
            None => " (the header's time: no freshness statements synced)".to_owned(),
        },
        data_age(now, trust.as_of()),
        if age_secs > max_age {
            format!(
                " - TOO OLD: sync now (verify refuses data older than {} by default)",
                age(max_age)
            )
        } else {
            String::new()
        },
        validator_set(&trust),
        trust.anchor_count(),
        trust.revoked_count(),
    ));
    for issuer in &trust.registry().issuers {
        let kinds: Vec<String> = issuer
            .kinds
            .iter()
            .map(|k| match trust.kind(k) {
                Ok(kind) => format!("{k} ({})", kind.name),
                Err(_) => format!("{k} (unknown to this counter: update ecert-verify)"),
            })
            .collect();
        text.push_str(&format!(
            "  {} - {}\n      may issue: {}\n",
            issuer.issuer,
            issuer.name,
            if kinds.is_empty() {
                "nothing".to_owned()
            } else {
                kinds.join(", ")
            }
        ));
    }
    (text, None)
}

/// The validator set the data was certified by, and how the counter reached it from the
/// genesis anchor it trusts.
fn validator_set(trust: &ecert_verifier::TrustStore) -> String {
    let n = trust.validators().len();
    match trust.validator_changes() {
        [] => format!("{n} (the genesis set)"),
        changes => {
            let last = changes
                .last()
                .and_then(|c| c.checkpoint.decode_header().ok())
                .map_or_else(String::new, |h| {
                    format!(", the last at block #{}", h.height)
                });
            format!(
                "{n}, after {} validator-set change(s) since genesis{last}, each approved and \
                 certified by the set before it",
                changes.len()
            )
        }
    }
}

//! `status`: what this counter trusts and how fresh its ledger data is.

use anyhow::Result;
use ecert_schemas::UnixTime;
use ecert_verifier::Policy;

use crate::output::{age, data_age};
use crate::store::Store;

/// The status report. Fails (exit code 2) when the counter is not set up or not synced,
/// after printing what it has.
pub fn run(store: &Store, now: UnixTime) -> Result<String> {
    let mut text = format!("Store:            {}\n", store.dir().display());
    let anchor = match store.anchor() {
        Ok(anchor) => anchor,
        Err(e) => {
            crate::output::print(&text)?;
            return Err(e);
        }
    };
    text.push_str(&format!(
        "Trusted ledger:   {}\nValidator set:    {}\n",
        anchor.chain_id, anchor.validators_hash
    ));
    let trust = match store.load() {
        Ok(trust) => trust,
        Err(e) => {
            crate::output::print(&text)?;
            return Err(e);
        }
    };
    let age_secs = now.secs().saturating_sub(trust.as_of().secs());
    let max_age = Policy::default().max_revocation_age_secs;
    text.push_str(&format!(
        "Synced height:    block #{} ({} of {} validators signed)\n\
         Header time:      {}\n\
         Data as of:       {}{}\n\
         Data age:         {}{}\n\
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
    Ok(text)
}

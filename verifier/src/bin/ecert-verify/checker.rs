//! What `verify` checks codes against: the counter's own ledger alone, or, when it holds
//! a national anchor and a national trust list, the federation of every listed province it
//! has synced (its own ledger among them when the list names it).

use anyhow::Result;
use ecert_schemas::{ChainId, UnixTime};
use ecert_verifier::federation::Federation;
use ecert_verifier::{verify_presentation, Policy, TrustStore, Verdict, VerifyError};

use crate::exit;
use crate::national;
use crate::store::Store;

/// The data a code is checked against.
pub enum Checker {
    /// The counter's own ledger.
    Single(TrustStore),
    /// The listed provinces the counter synced.
    Federation {
        /// The national list and the provinces' data.
        federation: Federation,
        /// The province whose data is the oldest (what the JSON's `synced_*` report).
        oldest: TrustStore,
    },
}

impl Checker {
    /// Loads what the store holds, checked again at `now`: the national list (an expired
    /// or unapproved list ends here with its reason's exit code) and every province's data,
    /// or the counter's own ledger alone when there is no national list.
    pub fn load(store: &Store, now: UnixTime) -> Result<Checker> {
        let Some(list) = national::list_in_force(store, now)? else {
            if store.read_national_anchor()?.is_some() && store.read_anchor()?.is_none() {
                return Err(exit::counter(
                    "this counter has no national trust list yet: run `ecert-verify sync \
                     --trust-list FILE` with the list from the national body, then sync the \
                     provinces it serves",
                )
                .into());
            }
            return Ok(Checker::Single(store.load()?));
        };
        let mut federation = Federation::new(list.clone());
        let mut add = |label: String, trust: TrustStore| {
            if let Err(e) = federation.add(trust) {
                crate::output::note(&format!(
                    "warning: the synced data of {label} is not used: {e}\n"
                ));
            }
        };
        if let Some(home) = store.read_anchor()? {
            if list.province(&home.chain_id).is_some() {
                match store.home().load(&home) {
                    Ok(Some(trust)) => add(national::label_of(&list, &home.chain_id), trust),
                    Ok(None) => {}
                    Err(e) => crate::output::note(&format!(
                        "warning: this counter's own ledger data is not used: {e:#}\n"
                    )),
                }
            }
        }
        for entry in list.provinces() {
            let place = store.province(&entry.chain_id);
            let Some(anchor) = list.province_anchor(&entry.chain_id) else {
                continue;
            };
            match place.load(&anchor) {
                Ok(Some(trust)) => add(national::province_label(entry), trust),
                Ok(None) => {}
                Err(e) => crate::output::note(&format!(
                    "warning: the synced data of {} is not used: {e:#}; sync it again\n",
                    national::province_label(entry)
                )),
            }
        }
        let oldest = federation
            .provinces()
            .min_by_key(|trust| trust.as_of())
            .cloned();
        let Some(oldest) = oldest else {
            return Err(exit::counter(
                "this counter has not synced any province on the national trust list yet: run \
                 `ecert-verify sync --province CHAIN_ID --node URL` (or --from-file BUNDLE) \
                 for each province it serves",
            )
            .into());
        };
        Ok(Checker::Federation { federation, oldest })
    }

    /// Checks a code at `now` under `policy`. With a national list, a list that has
    /// expired since it was loaded refuses every code.
    pub fn verify(&self, qr: &str, now: UnixTime, policy: &Policy) -> Result<Verdict, VerifyError> {
        match self {
            Checker::Single(trust) => verify_presentation(qr, trust, now, policy),
            Checker::Federation { federation, .. } => {
                let expires = federation.list().expires();
                if now >= expires {
                    return Err(VerifyError::TrustListExpired { expires });
                }
                federation.verify_presentation(qr, now, policy)
            }
        }
    }

    /// The synced ledgers with their province's name on the list (federation only).
    pub fn ledgers(&self) -> Vec<(Option<String>, &TrustStore)> {
        match self {
            Checker::Single(trust) => vec![(None, trust)],
            Checker::Federation { federation, .. } => federation
                .provinces()
                .map(|trust| (self.province_name(trust.chain_id()), trust))
                .collect(),
        }
    }

    /// The ledger whose data the JSON's `synced_*` report: the only one, or the oldest.
    pub fn reported(&self) -> &TrustStore {
        match self {
            Checker::Single(trust) => trust,
            Checker::Federation { oldest, .. } => oldest,
        }
    }

    /// Whether codes are checked against the national list.
    pub fn is_federation(&self) -> bool {
        matches!(self, Checker::Federation { .. })
    }

    /// The name the national list gives a ledger (federation only).
    pub fn province_name(&self, chain_id: &ChainId) -> Option<String> {
        match self {
            Checker::Single(_) => None,
            Checker::Federation { federation, .. } => federation
                .list()
                .province(chain_id)
                .map(|entry| entry.name.clone()),
        }
    }
}

//! The national trust list as this counter holds it: read back from the store and checked
//! again against the pinned national anchor, like everything read back.

use anyhow::{Context, Result};
use ecert_schemas::federation::{NationalAnchor, NationalTrustList, ProvinceEntry};
use ecert_schemas::{ChainId, UnixTime};
use ecert_verifier::federation::{verify_trust_list, VerifiedTrustList};
use ecert_verifier::VerifyError;

use crate::exit::{self, Failure};
use crate::store::Store;

/// The stored list and what checking it at a time found.
pub struct HeldList {
    /// The list as stored (decoded).
    pub list: NationalTrustList,
    /// It checked against the national anchor, or why not.
    pub checked: Result<VerifiedTrustList, VerifyError>,
}

impl HeldList {
    /// Whether everything but its expiry holds: a list the counter once took.
    pub fn approved(&self) -> bool {
        matches!(
            self.checked,
            Ok(_) | Err(VerifyError::TrustListExpired { .. })
        )
    }
}

/// The stored national list checked against `anchor` at `now`; `None` when none was
/// synced. A stored file that does not decode is an error.
pub fn read_held(
    store: &Store,
    anchor: &NationalAnchor,
    now: UnixTime,
) -> Result<Option<HeldList>> {
    let Some(bytes) = store.read_trust_list()? else {
        return Ok(None);
    };
    let list = NationalTrustList::from_bytes(&bytes).with_context(|| {
        format!(
            "the stored national trust list {} is damaged: sync it again with \
             `ecert-verify sync --trust-list FILE`",
            store.trust_list_path().display()
        )
    })?;
    let checked = verify_trust_list(&list, anchor, now);
    Ok(Some(HeldList { list, checked }))
}

/// The national list to work with at `now`: `None` when the counter has no national
/// anchor or no list yet. A held list that no longer holds (expired, or not approved by
/// the pinned keys) ends the command with its reason's exit code.
pub fn list_in_force(store: &Store, now: UnixTime) -> Result<Option<VerifiedTrustList>> {
    let Some(anchor) = store.read_national_anchor()? else {
        return Ok(None);
    };
    let Some(held) = read_held(store, &anchor, now)? else {
        return Ok(None);
    };
    match held.checked {
        Ok(list) => Ok(Some(list)),
        Err(e) => Err(unusable(&e, held.list.body.seq).into()),
    }
}

/// Why the held list cannot be used, with the reason's own exit code.
pub fn unusable(error: &VerifyError, seq: u64) -> Failure {
    let code = exit::for_error(error);
    let advice = match error {
        VerifyError::TrustListExpired { .. } => {
            "Get the national body's current list and run `ecert-verify sync --trust-list \
             FILE`."
        }
        _ => {
            "Do not use it: get the national body's current list and run `ecert-verify sync \
             --trust-list FILE`; if that is refused too, check the national anchor with \
             `ecert-verify status`."
        }
    };
    Failure::new(
        code,
        format!(
            "the national trust list this counter holds (version {seq}) cannot be used: \
             {error} (code {}, exit code {code}). {advice}",
            error.code()
        ),
    )
}

/// A province for people: `West (ecert-west)`.
pub fn province_label(entry: &ProvinceEntry) -> String {
    format!("{} ({})", entry.name, entry.chain_id)
}

/// The name the list gives `chain_id`, or the chain id alone.
pub fn label_of(list: &VerifiedTrustList, chain_id: &ChainId) -> String {
    list.province(chain_id)
        .map_or_else(|| chain_id.to_string(), province_label)
}

/// The kinds a province may issue, for people.
pub fn kinds_text(entry: &ProvinceEntry) -> String {
    if entry.kinds.is_empty() {
        "nothing".to_owned()
    } else {
        entry
            .kinds
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

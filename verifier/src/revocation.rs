//! Revocation deltas: a node's answer to "what was revoked after block H", checkable by
//! anyone holding the genesis trust anchor and the revocation state at H.
//!
//! The node is not trusted: the delta is applied to the state the holder already verified,
//! and the result must be exactly the revocation state the delta's certified header
//! commits to. A node that leaves a revocation out, adds one, or changes the order of
//! heights is caught.

use std::collections::BTreeMap;

use ecert_schemas::ledger::{
    BlockHeader, RevocationDelta, RevocationSnapshot, RevokedAt, StatusList,
};
use ecert_schemas::{IssuerId, StatusIndex};

use crate::validator_chain::verify_checkpoint_from_anchor;
use crate::{commit, TrustAnchor, VerifyError};

fn mismatch(detail: impl Into<String>) -> VerifyError {
    VerifyError::TrustDataMismatch {
        detail: detail.into(),
    }
}

/// Applies `delta` to `base` and checks the result against the delta's certified header,
/// in order:
///
/// 1. the delta's validator set is the one its validator-set changes lead to from the
///    anchor's genesis set ([`crate::validator_chain::follow_changes`]), else
///    [`VerifyError::HeaderNotCertified`];
/// 2. the checkpoint is certified by that set
///    ([`crate::checkpoint::verify_checkpoint`]), else [`VerifyError::HeaderNotCertified`];
/// 3. the header is of the anchor's chain, the delta starts at `base`'s height and the
///    header is not below it, else [`VerifyError::TrustDataMismatch`];
/// 4. every entry lies above `since` and at most at the header's height, heights never
///    decrease, and each revokes an index not revoked before (and not above the largest
///    status index), else [`VerifyError::TrustDataMismatch`];
/// 5. the resulting status lists, one leaf each of an RFC 6962 tree sorted by issuer
///    ([`commit::revocation_root`]), give the header's `revocation_root`, else
///    [`VerifyError::TrustDataMismatch`].
///
/// Returns the certified header and the revocation state at its height.
pub fn verify_revocation_delta(
    base: &RevocationSnapshot,
    delta: &RevocationDelta,
    anchor: &TrustAnchor,
) -> Result<(BlockHeader, RevocationSnapshot), VerifyError> {
    let header = verify_checkpoint_from_anchor(
        &delta.checkpoint,
        &delta.validators,
        &delta.changes,
        anchor,
        "delta",
    )?;
    if delta.since != base.height {
        return Err(mismatch(format!(
            "the delta starts after block #{}, the revocation data held is of block #{}",
            delta.since, base.height
        )));
    }
    if header.height < delta.since {
        return Err(mismatch(format!(
            "the delta's certified block #{} is older than its start, block #{}",
            header.height, delta.since
        )));
    }
    let snapshot = apply_revocations(base, &delta.entries, &header)?;
    Ok((header, snapshot))
}

/// Applies the revocations after `base` (at its height) up to the certified `header`
/// (not below `base`) and checks the result against the header's `revocation_root`:
/// steps 4 and 5 of [`verify_revocation_delta`]. Returns the state at the header's height.
pub(crate) fn apply_revocations(
    base: &RevocationSnapshot,
    entries: &[RevokedAt],
    header: &BlockHeader,
) -> Result<RevocationSnapshot, VerifyError> {
    let since = base.height;
    let mut previous = since;
    let mut added: BTreeMap<&IssuerId, Vec<StatusIndex>> = BTreeMap::new();
    for entry in entries {
        if entry.height <= since || entry.height > header.height || entry.height < previous {
            return Err(mismatch(format!(
                "a revocation at block #{} is out of order or outside blocks #{}..#{}",
                entry.height,
                since + 1,
                header.height
            )));
        }
        previous = entry.height;
        added.entry(&entry.issuer).or_default().push(entry.index);
    }
    let mut lists: BTreeMap<IssuerId, StatusList> = base
        .lists
        .iter()
        .map(|list| (list.issuer.clone(), list.clone()))
        .collect();
    for (issuer, indexes) in added {
        let list = lists
            .entry(issuer.clone())
            .or_insert_with(|| StatusList::new(issuer.clone()));
        // Every entry must be new: none revoked before, none listed twice.
        let newly = list
            .revoke(&indexes)
            .map_err(|e| mismatch(format!("{issuer}'s new revocations: {e}")))?;
        if newly.len() != indexes.len() {
            return Err(mismatch(format!(
                "{issuer} has a status index listed as newly revoked that was revoked \
                 before, or listed twice"
            )));
        }
    }
    let lists: Vec<StatusList> = lists.into_values().collect();
    if commit::revocation_root(&lists)? != header.revocation_root {
        return Err(mismatch(format!(
            "the revocations do not add up to the state certified at block #{}",
            header.height
        )));
    }
    Ok(RevocationSnapshot {
        height: header.height,
        lists,
    })
}

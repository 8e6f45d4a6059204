//! Incremental sync: a counter's verified store brought up to a newer certified header
//! with only what changed ([`TrustUpdate`]), checked as strictly as a full bundle.

use ecert_schemas::ledger::{RevokedGroup, TrustUpdate};

use super::{issuer_keys, TrustStore};
use crate::merkle_log::verify_consistency;
use crate::revocation::apply_revocations;
use crate::validator_chain::{extends, verify_checkpoint_from_anchor};
use crate::{commit, TrustAnchor, VerifyError};

fn mismatch(detail: impl Into<String>) -> VerifyError {
    VerifyError::TrustDataMismatch {
        detail: detail.into(),
    }
}

impl TrustStore {
    /// Applies an incremental update (a node's `GET /v1/updates?since=H`, `H` this store's
    /// height) and returns the store of the update's certified header: exactly what
    /// [`TrustStore::from_bundle`] gives for a full bundle of that header. Checks, in
    /// order:
    ///
    /// 1. the update's validator set is the one its validator-set changes lead to from the
    ///    anchor's genesis set, and certifies its checkpoint, of the anchor's chain
    ///    ([`verify_checkpoint_from_anchor`]), else [`VerifyError::HeaderNotCertified`] or
    ///    [`VerifyError::TrustDataMismatch`];
    /// 2. it starts at this store's header (`since`, `since_anchor_count`) and its header
    ///    is not older; at the same height it is the same header; its validator-set
    ///    changes continue the ones held; else
    ///    [`VerifyError::TrustDataMismatch`] (two certified headers at one height would be
    ///    a fork);
    /// 3. the anchor log: the new records extend this store's log to the header's
    ///    `anchor_count` and `anchors_root`, and the RFC 6962 consistency proof takes the
    ///    held `anchors_root` to the new one ([`verify_consistency`]), else
    ///    [`VerifyError::TrustDataMismatch`];
    /// 4. the registry: the one sent, or the one held when none is sent, has the header's
    ///    `registry_root`, and its keys are well formed, else
    ///    [`VerifyError::TrustDataMismatch`];
    /// 5. the revocations after `since` (grouped by block and issuer in maximal runs, no
    ///    group empty), applied to the held state, give the header's `revocation_root` (as
    ///    in `verify_revocation_delta`), else [`VerifyError::TrustDataMismatch`].
    ///
    /// Freshness applied to this store is not carried over: it spoke of the old header.
    /// This store is unchanged whatever the outcome.
    pub fn apply_update(
        &self,
        update: &TrustUpdate,
        anchor: &TrustAnchor,
    ) -> Result<TrustStore, VerifyError> {
        // 1. Certified by the pinned validator set, for this ledger.
        if update.chain_id != self.chain_id {
            return Err(mismatch(format!(
                "the update is for ledger {}, this counter's data for ledger {}",
                update.chain_id, self.chain_id
            )));
        }
        let header = verify_checkpoint_from_anchor(
            &update.checkpoint,
            &update.validators,
            &update.changes,
            anchor,
            "update",
        )?;

        // 2. From this store's header.
        let held = &self.header;
        if update.since != held.height || update.since_anchor_count != held.anchor_count {
            return Err(mismatch(format!(
                "the update starts at block #{} ({} batches), the data held is of block #{} \
                 ({} batches)",
                update.since, update.since_anchor_count, held.height, held.anchor_count
            )));
        }
        if header.height < held.height {
            return Err(mismatch(format!(
                "the update's certified block #{} is older than the data held, block #{}",
                header.height, held.height
            )));
        }
        let header_hash = commit::header_hash(&update.checkpoint.header);
        if header.height == held.height && header_hash != self.header_hash {
            return Err(mismatch(format!(
                "the update certifies another block #{} than the one held",
                header.height
            )));
        }

        if !extends(&self.changes, &update.changes) {
            return Err(mismatch(
                "the update's validator-set changes do not continue the ones held",
            ));
        }

        // 3. The anchor log only grew, by these records.
        let added = update.anchors.len() as u64;
        if held.anchor_count.checked_add(added) != Some(header.anchor_count) {
            return Err(mismatch(format!(
                "the update has {added} new batches; block #{} counts {} after the {} held",
                header.height, header.anchor_count, held.anchor_count
            )));
        }
        if !verify_consistency(
            held.anchor_count,
            header.anchor_count,
            &held.anchors_root,
            &header.anchors_root,
            &update.consistency,
        ) {
            return Err(mismatch(
                "the anchor log's consistency proof does not take the held log to the new one",
            ));
        }
        let mut anchor_frontier = self.anchor_frontier.clone();
        for record in &update.anchors {
            anchor_frontier.push(commit::anchor_leaf(record)?);
        }
        if anchor_frontier.root() != header.anchors_root {
            return Err(mismatch(
                "the new batches are not the ones the header commits to",
            ));
        }

        // 4. The registry.
        let registry = match update.registry.as_slice() {
            [] => &self.registry,
            [registry] => registry,
            _ => return Err(mismatch("the update carries more than one registry")),
        };
        if commit::registry_root(registry)? != header.registry_root {
            return Err(mismatch("issuer registry"));
        }
        let issuer_keys = if update.registry.is_empty() {
            self.issuer_keys.clone()
        } else {
            issuer_keys(registry)?
        };

        // 5. The revocations.
        let entries = RevokedGroup::ungroup(&update.revocations).ok_or_else(|| {
            mismatch("the revocations are not grouped by block and issuer as they must be")
        })?;
        let revocations = apply_revocations(&self.revocations, &entries, &header)?;

        let mut anchors = Vec::with_capacity(self.anchors.len() + update.anchors.len());
        anchors.extend_from_slice(&self.anchors);
        anchors.extend_from_slice(&update.anchors);
        Ok(TrustStore {
            chain_id: self.chain_id.clone(),
            validators: update.validators.clone(),
            header,
            header_hash,
            checkpoint: update.checkpoint.clone(),
            fresh: None,
            registry: registry.clone(),
            kinds: self.kinds.clone(),
            anchors,
            anchor_frontier,
            revocations,
            changes: update.changes.clone(),
            issuer_keys,
        })
    }
}

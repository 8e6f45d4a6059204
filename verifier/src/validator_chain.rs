//! Validator-set changes: how a verifier that pins only the genesis trust anchor reaches
//! the set that certified a later checkpoint.
//!
//! Every artefact checked against a trust anchor carries the chain of changes from
//! genesis ([`ValidatorChange`]). Each step is trusted only through the one before: the
//! trusted set approved the change (more than two thirds of its keys) and certified the
//! block that holds it and nothing else, so the ledger applied it there; the new set
//! certifies from the next height. A set no longer current never certifies a later
//! height: a replaced or removed key's votes stop counting.

use ecert_schemas::ledger::{
    BlockHeader, Checkpoint, GovernanceAction, Transaction, ValidatorChange, ValidatorInfo,
    ValidatorSetProof,
};
use ecert_schemas::{ChainId, Hash32};

use crate::checkpoint::verify_checkpoint;
use crate::{commit, transaction, TrustAnchor, VerifyError};

/// The validator set a chain of changes leads to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidatorEpoch {
    /// [`commit::validators_hash`] of the set.
    pub validators_hash: Hash32,
    /// The first height it certifies (1 at genesis, the change's height + 1 after).
    pub from_height: u64,
}

fn not_certified(detail: String) -> VerifyError {
    VerifyError::HeaderNotCertified { detail }
}

/// Follows `changes` from `anchor`'s genesis set. For each step, in order:
///
/// 1. `previous` hashes to the set trusted so far, else [`VerifyError::HeaderNotCertified`];
/// 2. its checkpoint is certified by `previous` ([`verify_checkpoint`]), for the anchor's
///    chain ([`VerifyError::TrustDataMismatch`]), at a height the trusted set certifies
///    (above the previous change), else [`VerifyError::HeaderNotCertified`];
/// 3. the block holds the change and nothing else: its `txs_root` is the leaf of the
///    change transaction, else [`VerifyError::HeaderNotCertified`];
/// 4. the change is a `ChangeValidators` action for the anchor's chain
///    ([`VerifyError::TrustDataMismatch`]), approved by more than two thirds of
///    `previous` ([`transaction::check_approvals`]) and a well-formed new set
///    ([`transaction::check_validator_set_change`]).
///
/// Returns the set after the last change and the first height it certifies.
pub fn follow_changes(
    anchor: &TrustAnchor,
    changes: &[ValidatorChange],
) -> Result<ValidatorEpoch, VerifyError> {
    let mut epoch = ValidatorEpoch {
        validators_hash: anchor.validators_hash,
        from_height: 1,
    };
    for (step, change) in changes.iter().enumerate() {
        epoch = follow_step(&anchor.chain_id, &epoch, step + 1, change)?;
    }
    Ok(epoch)
}

fn follow_step(
    chain_id: &ChainId,
    trusted: &ValidatorEpoch,
    step: usize,
    change: &ValidatorChange,
) -> Result<ValidatorEpoch, VerifyError> {
    if commit::validators_hash(&change.previous)? != trusted.validators_hash {
        return Err(not_certified(format!(
            "validator-set change {step} starts from a set this trust anchor does not lead to"
        )));
    }
    let header = verify_checkpoint(&change.checkpoint, &change.previous)?;
    if &header.chain_id != chain_id {
        return Err(VerifyError::TrustDataMismatch {
            detail: format!(
                "validator-set change {step} is for ledger {}, the trust anchor for ledger {}",
                header.chain_id, chain_id
            ),
        });
    }
    if header.height < trusted.from_height {
        return Err(not_certified(format!(
            "validator-set change {step} is at height {}, before the set it starts from \
             certifies (height {})",
            header.height, trusted.from_height
        )));
    }
    let tx = Transaction::Governance(change.change.clone()).to_bytes()?;
    if commit::txs_root(&[tx]) != header.txs_root {
        return Err(not_certified(format!(
            "block {} does not hold validator-set change {step} alone",
            header.height
        )));
    }
    let body = &change.change.body;
    let GovernanceAction::ChangeValidators(new_set) = &body.action else {
        return Err(VerifyError::TrustDataMismatch {
            detail: format!("validator-set change {step} is another governance action"),
        });
    };
    if &body.chain_id != chain_id {
        return Err(VerifyError::TrustDataMismatch {
            detail: format!(
                "validator-set change {step} was approved for ledger {}",
                body.chain_id
            ),
        });
    }
    transaction::check_approvals(&change.change, &change.previous).map_err(|e| {
        not_certified(format!(
            "validator-set change {step} is not approved by the set before it: {e}"
        ))
    })?;
    transaction::check_validator_set_change(new_set, &change.previous)
        .map_err(|e| not_certified(format!("validator-set change {step}: {e}")))?;
    Ok(ValidatorEpoch {
        validators_hash: commit::validators_hash(&new_set.validators)?,
        from_height: header.height.saturating_add(1),
    })
}

/// Verifies that `checkpoint` is certified by `validators` and that this set is the one
/// `changes` lead to from `anchor` ([`follow_changes`]): the set hashes to the epoch's
/// set, the checkpoint is certified by it ([`verify_checkpoint`]) for the anchor's chain
/// ([`VerifyError::TrustDataMismatch`], `what` naming the data: "receipt", "delta"), and
/// its height is one that set certifies (not before the last change), else
/// [`VerifyError::HeaderNotCertified`]. Returns the decoded header.
pub fn verify_checkpoint_from_anchor(
    checkpoint: &Checkpoint,
    validators: &[ValidatorInfo],
    changes: &[ValidatorChange],
    anchor: &TrustAnchor,
    what: &str,
) -> Result<BlockHeader, VerifyError> {
    let epoch = follow_changes(anchor, changes)?;
    if commit::validators_hash(validators)? != epoch.validators_hash {
        return Err(not_certified(if changes.is_empty() {
            "signed by a validator set this trust anchor does not trust".into()
        } else {
            format!(
                "signed by a validator set the trust anchor's {} validator-set change(s) do \
                 not lead to",
                changes.len()
            )
        }));
    }
    let header = verify_checkpoint(checkpoint, validators)?;
    if header.chain_id != anchor.chain_id {
        return Err(VerifyError::TrustDataMismatch {
            detail: format!(
                "the {what} is for ledger {}, the trust anchor for ledger {}",
                header.chain_id, anchor.chain_id
            ),
        });
    }
    if header.height < epoch.from_height {
        return Err(not_certified(format!(
            "the {what}'s header {} is older than the last validator-set change it carries \
             (its set certifies from height {})",
            header.height, epoch.from_height
        )));
    }
    Ok(header)
}

/// Whether `older` is where `newer` starts: a store that holds `older` may take data
/// carrying `newer` (the ledger's history of sets only grows). Steps are compared by what
/// they prove, not by their votes: each node assembles its own checkpoint of a change
/// block from the first quorum of votes it holds, so two honest nodes may serve the same
/// change with different votes.
pub fn extends(older: &[ValidatorChange], newer: &[ValidatorChange]) -> bool {
    newer.len() >= older.len() && newer.iter().zip(older).all(|(a, b)| same_change(a, b))
}

/// Whether two steps are the same change: the same set before, the same transaction and
/// the same certified header (whatever quorum of votes certifies it).
pub fn same_change(a: &ValidatorChange, b: &ValidatorChange) -> bool {
    a.previous == b.previous && a.change == b.change && a.checkpoint.header == b.checkpoint.header
}

/// A validator set proven from the genesis trust anchor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedValidatorSet {
    /// The certified header the set is proven at.
    pub header: BlockHeader,
    /// The set that certifies the blocks after the header (the header's own set, unless
    /// the header's block is a change: then the set it brought in).
    pub validators: Vec<ValidatorInfo>,
    /// How many changes lead to it from genesis.
    pub changes: usize,
}

/// Checks a [`ValidatorSetProof`] against `anchor`: the set that certifies the blocks
/// after its checkpoint. Either the checkpoint's block is the last change the proof
/// carries (its header is that change's): the changes are followed ([`follow_changes`]),
/// `validators` is the set they lead to, and the checkpoint is certified by the set before
/// the change; or it is any other certified header: [`verify_checkpoint_from_anchor`].
/// So a tool sees a new set as soon as the block that brings it in is certified, also on a
/// ledger with no block after it.
pub fn verify_validator_set(
    proof: &ValidatorSetProof,
    anchor: &TrustAnchor,
) -> Result<VerifiedValidatorSet, VerifyError> {
    let header = match proof.changes.last() {
        Some(last) if last.checkpoint.header == proof.checkpoint.header => {
            let epoch = follow_changes(anchor, &proof.changes)?;
            if commit::validators_hash(&proof.validators)? != epoch.validators_hash {
                return Err(not_certified(
                    "the validator set is not the one its last change brings in".into(),
                ));
            }
            verify_checkpoint(&proof.checkpoint, &last.previous)?
        }
        _ => verify_checkpoint_from_anchor(
            &proof.checkpoint,
            &proof.validators,
            &proof.changes,
            anchor,
            "validator set",
        )?,
    };
    Ok(VerifiedValidatorSet {
        header,
        validators: proof.validators.clone(),
        changes: proof.changes.len(),
    })
}

//! Anchor receipts: proof, checkable by anyone holding the genesis trust anchor, that a
//! batch is in the anchor log of a certified header.
//!
//! An issuer (or an auditor) asks any node for the receipt of a batch root and checks it
//! here; the node is not trusted. The receipt is accepted only if its validator set is the
//! one the anchor pins, more than two thirds of it signed the header, the header is for
//! the anchor's chain, and the record's inclusion path leads to the header's anchor log
//! root at the claimed position.

use ecert_schemas::ledger::{AnchorReceipt, BatchRecord, BlockHeader};

use crate::merkle::verify_inclusion;
use crate::validator_chain::verify_checkpoint_from_anchor;
use crate::{commit, TrustAnchor, VerifyError};

/// A batch proven to be anchored: its record, its position in the anchor log and the
/// certified header that commits to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedAnchor {
    /// The certified header whose anchor log contains the record.
    pub header: BlockHeader,
    /// The anchor log entry (issuer, key, kinds, batch root, count, anchoring height and
    /// time).
    pub record: BatchRecord,
    /// The record's position in the anchor log (the batch's `batch_seq`).
    pub batch_seq: u64,
}

/// Checks an [`AnchorReceipt`] against the counter's or issuer's trust anchor, in order:
///
/// 1. the receipt's validator set is the one its validator-set changes lead to from the
///    anchor's genesis set ([`crate::validator_chain::follow_changes`]), else
///    [`VerifyError::HeaderNotCertified`];
/// 2. the checkpoint is certified by that set ([`crate::checkpoint::verify_checkpoint`]:
///    the header commits to the set, votes ascending, each valid, more than two thirds),
///    else [`VerifyError::HeaderNotCertified`] (or [`VerifyError::Malformed`] for an
///    unreadable header);
/// 3. the header's chain id is the anchor's, else [`VerifyError::TrustDataMismatch`];
/// 4. `batch_seq < anchor_count`, else [`VerifyError::HeaderUnknown`];
/// 5. the record's leaf hash, at `batch_seq` in a log of `anchor_count` records, leads
///    through `path` to the header's `anchors_root`, else
///    [`VerifyError::AnchorProofInvalid`].
pub fn verify_anchor_receipt(
    receipt: &AnchorReceipt,
    anchor: &TrustAnchor,
) -> Result<VerifiedAnchor, VerifyError> {
    let header = verify_checkpoint_from_anchor(
        &receipt.checkpoint,
        &receipt.validators,
        &receipt.changes,
        anchor,
        "receipt",
    )?;
    if receipt.batch_seq >= header.anchor_count {
        return Err(VerifyError::HeaderUnknown {
            batch_seq: receipt.batch_seq,
            synced: header.anchor_count,
        });
    }
    let leaf = commit::anchor_leaf(&receipt.record)?;
    if !verify_inclusion(
        &leaf,
        receipt.batch_seq,
        header.anchor_count,
        &receipt.path,
        &header.anchors_root,
    ) {
        return Err(VerifyError::AnchorProofInvalid {
            detail: format!(
                "the record is not batch {} of the certified anchor log at height {}",
                receipt.batch_seq, header.height
            ),
        });
    }
    Ok(VerifiedAnchor {
        header,
        record: receipt.record.clone(),
        batch_seq: receipt.batch_seq,
    })
}

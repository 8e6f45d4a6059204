//! Commitments a block header makes: hashes of the validator set and the registry, and
//! Merkle roots of transactions, the anchor log and the revocation state.
//!
//! Each plain hash is prefixed with its own NUL-terminated tag, like the signing contexts,
//! so that no commitment can be passed off as another.

use ecert_schemas::codec::to_cbor;
use ecert_schemas::ledger::{
    BatchRecord, BlockHeader, Registry, StatusList, StatusListProof, ValidatorInfo,
};
use ecert_schemas::{Hash32, SchemaError};
use sha2::{Digest, Sha256};

use crate::merkle::{leaf_hash, root_of, verify_inclusion, LeafTree};
use crate::VerifyError;

fn tagged_hash(tag: &[u8], bytes: &[u8]) -> Hash32 {
    let mut h = Sha256::new();
    h.update(tag);
    h.update(bytes);
    Hash32(h.finalize().into())
}

/// `SHA-256(header bytes)`: how headers chain.
pub fn header_hash(header_bytes: &[u8]) -> Hash32 {
    Hash32(Sha256::digest(header_bytes).into())
}

/// `SHA-256(transaction bytes)`: how a submitted transaction is identified.
pub fn transaction_hash(tx_bytes: &[u8]) -> Hash32 {
    Hash32(Sha256::digest(tx_bytes).into())
}

/// `SHA-256("ecert/v1/validators\0" ‖ CBOR(validators))`.
pub fn validators_hash(validators: &[ValidatorInfo]) -> Result<Hash32, SchemaError> {
    Ok(tagged_hash(
        b"ecert/v1/validators\0",
        &to_cbor(&validators)?,
    ))
}

/// `SHA-256("ecert/v1/registry\0" ‖ CBOR(registry))`.
pub fn registry_root(registry: &Registry) -> Result<Hash32, SchemaError> {
    Ok(tagged_hash(b"ecert/v1/registry\0", &to_cbor(registry)?))
}

/// The revocation tree's leaf hash for one issuer's list: the leaf hash of the list's
/// encoding, `SHA-256(0x00 ‖ CBOR(list))`.
pub fn status_list_leaf(list: &StatusList) -> Result<Hash32, SchemaError> {
    Ok(leaf_hash(&to_cbor(list)?))
}

/// The revocation root: the RFC 6962 root over the issuers' status lists, one leaf each
/// ([`status_list_leaf`]), sorted by issuer; `SHA-256("")` for no lists. A block that
/// changes a few lists changes only their leaves and the nodes above them.
pub fn revocation_root(lists: &[StatusList]) -> Result<Hash32, SchemaError> {
    Ok(revocation_tree(lists)?.root())
}

/// The revocation tree over the lists, sorted by issuer (see [`revocation_root`]).
pub fn revocation_tree(lists: &[StatusList]) -> Result<LeafTree, SchemaError> {
    let leaves = lists
        .iter()
        .map(status_list_leaf)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(LeafTree::from_leaf_hashes(leaves))
}

/// Checks one issuer's status list against a certified header without the other lists:
/// the proof's list is leaf `position` of the header's revocation tree of `list_count`
/// lists, by the RFC 9162 inclusion `path` (leaf to root). Else
/// [`VerifyError::TrustDataMismatch`]. The header must have been checked
/// ([`crate::checkpoint::verify_checkpoint`]) by the caller.
pub fn verify_status_list(
    proof: &StatusListProof,
    header: &BlockHeader,
) -> Result<(), VerifyError> {
    if verify_inclusion(
        &status_list_leaf(&proof.list)?,
        proof.position,
        proof.list_count,
        &proof.path,
        &header.revocation_root,
    ) {
        Ok(())
    } else {
        Err(VerifyError::TrustDataMismatch {
            detail: format!(
                "{}'s status list is not in the revocation state certified at block #{}",
                proof.list.issuer, header.height
            ),
        })
    }
}

/// The anchor log's leaf hash for one record.
pub fn anchor_leaf(record: &BatchRecord) -> Result<Hash32, SchemaError> {
    Ok(leaf_hash(&record.to_bytes()?))
}

/// RFC 6962 root of the anchor log.
pub fn anchors_root(records: &[BatchRecord]) -> Result<Hash32, SchemaError> {
    let leaves = records
        .iter()
        .map(anchor_leaf)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(root_of(&leaves))
}

/// RFC 6962 root over a block's encoded transactions.
pub fn txs_root<T: AsRef<[u8]>>(encoded_txs: &[T]) -> Hash32 {
    let leaves: Vec<Hash32> = encoded_txs.iter().map(|t| leaf_hash(t.as_ref())).collect();
    root_of(&leaves)
}

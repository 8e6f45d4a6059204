//! Commitments a block header makes: hashes of the validator set, the registry and the
//! revocation state, and Merkle roots of transactions and the anchor log.
//!
//! Each plain hash is prefixed with its own NUL-terminated tag, like the signing contexts,
//! so that no commitment can be passed off as another.

use ecert_schemas::codec::to_cbor;
use ecert_schemas::ledger::{BatchRecord, Registry, StatusList, ValidatorInfo};
use ecert_schemas::{Hash32, SchemaError};
use sha2::{Digest, Sha256};

use crate::merkle::{inclusion_path, leaf_hash, root_of};

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

/// `SHA-256("ecert/v1/revocation-state\0" ‖ CBOR(status lists))`, lists sorted by issuer.
pub fn revocation_root(lists: &[StatusList]) -> Result<Hash32, SchemaError> {
    Ok(tagged_hash(
        b"ecert/v1/revocation-state\0",
        &to_cbor(&lists)?,
    ))
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

/// The RFC 9162 inclusion path of record `batch_seq` in the anchor log as it was at
/// `size` records (the `anchor_count` of a certified header), computed from the log's
/// records: what an [`AnchorReceipt`](ecert_schemas::ledger::AnchorReceipt) carries.
/// `None` when `batch_seq ≥ size` or the log holds fewer than `size` records.
pub fn anchor_inclusion_path(
    records: &[BatchRecord],
    size: u64,
    batch_seq: u64,
) -> Result<Option<Vec<Hash32>>, SchemaError> {
    let Some(prefix) = usize::try_from(size).ok().and_then(|n| records.get(..n)) else {
        return Ok(None);
    };
    let leaves = prefix
        .iter()
        .map(anchor_leaf)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(inclusion_path(&leaves, batch_seq))
}

/// RFC 6962 root over a block's encoded transactions.
pub fn txs_root<T: AsRef<[u8]>>(encoded_txs: &[T]) -> Hash32 {
    let leaves: Vec<Hash32> = encoded_txs.iter().map(|t| leaf_hash(t.as_ref())).collect();
    root_of(&leaves)
}

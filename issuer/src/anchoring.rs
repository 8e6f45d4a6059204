//! From a signed batch to delivered packages: the register's record of a batch, and the
//! check of the ledger's anchor receipt before any package is handed out. Pure.

use ecert_schemas::ledger::AnchorReceipt;
use ecert_schemas::{Certificate, Hash32, UnixTime};
use ecert_verifier::{verify_anchor_receipt, TrustAnchor, VerifiedAnchor, VerifyError};
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::register::{BatchFile, BatchState, CertificateRecord, RECORD_VERSION};
use crate::{Batch, IssueError, IssuerKey};

/// Why an anchor receipt does not prove that this batch is anchored.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ReceiptError {
    /// The receipt is not certified by the trusted validators, or its proof fails.
    #[error("the ledger's proof does not verify against the trust anchor: {0}")]
    NotProven(#[from] VerifyError),
    /// The proven record is not this batch as signed.
    #[error("the ledger's record is not this batch: {0}")]
    OtherBatch(String),
}

/// Verifies `receipt` against `anchor` and checks that the record it proves is `batch` as
/// this department signed it (root, issuer, key, count and kinds).
pub fn check_receipt(
    receipt: &AnchorReceipt,
    anchor: &TrustAnchor,
    batch: &Batch,
    key: &IssuerKey,
) -> Result<VerifiedAnchor, ReceiptError> {
    let verified = verify_anchor_receipt(receipt, anchor)?;
    let r = &verified.record;
    let problem = if r.batch_root != batch.root() {
        Some("another batch root")
    } else if &r.issuer != key.issuer() {
        Some("another issuer")
    } else if r.key_id != key.key_id() {
        Some("another key")
    } else if r.count != batch.len() as u64 {
        Some("another certificate count")
    } else if r.kinds != batch.kinds() {
        Some("other kinds")
    } else {
        None
    };
    match problem {
        Some(p) => Err(ReceiptError::OtherBatch(p.into())),
        None => Ok(verified),
    }
}

/// The register's record of `batch` (state [`BatchState::Submitted`]), made at `now`.
pub fn batch_file(batch: &Batch, key: &IssuerKey, now: UnixTime) -> Result<BatchFile, IssueError> {
    let mut certificates = Vec::with_capacity(batch.len());
    for (index, issued) in batch.certificates().iter().enumerate() {
        let cert = Certificate::from_bytes(&issued.certificate)
            .map_err(|source| IssueError::BadBatchEntry { index, source })?;
        let c = &cert.claims;
        certificates.push(CertificateRecord {
            id: c.id,
            kind: c.kind.clone(),
            holder: c.holder,
            status_index: c.status_index.0,
            issued_at: c.issued_at.secs(),
            valid_from: c.valid_from.secs(),
            expires: c.expires.secs(),
            leaf_index: index as u64,
            hash: Hash32(Sha256::digest(&issued.certificate).into()),
            package_file: None,
            offer: None,
        });
    }
    Ok(BatchFile {
        version: RECORD_VERSION,
        root: batch.root(),
        key_id: key.key_id(),
        kinds: batch.kinds().to_vec(),
        count: batch.len() as u64,
        state: BatchState::Submitted,
        created_at: now.secs(),
        tx_hash: None,
        batch_seq: None,
        height: None,
        anchored_at_ms: None,
        detail: None,
        certificates,
    })
}

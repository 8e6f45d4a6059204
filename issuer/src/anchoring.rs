//! From a signed batch to delivered packages: the batch of either format
//! ([`SignedBatch`]), the register's record of a batch, and the check of the ledger's
//! anchor receipt before any package is handed out. Pure.

use ecert_schemas::ledger::{AnchorBatchTx, AnchorReceipt};
use ecert_schemas::{Certificate, ChainId, Hash32, KindId, PublicKeyBytes, SchemaError, UnixTime};
use ecert_verifier::{verify_anchor_receipt, TrustAnchor, VerifiedAnchor, VerifyError};
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::register::{BatchFile, BatchState, CertificateRecord, Issued, RECORD_VERSION};
use crate::{Batch, CopyBatch, IssueError, IssuerKey};

/// A batch this department signed, of either format.
pub enum SignedBatch {
    /// Certificates issued as one-time copies (format 2): what `issue` signs.
    Copies(CopyBatch),
    /// Whole certificates (format 1): a batch signed before format 2, still delivered
    /// by `issue --resume`.
    Whole(Batch),
}

impl SignedBatch {
    /// The batch's root, as anchored.
    pub fn root(&self) -> Hash32 {
        match self {
            SignedBatch::Copies(b) => b.root(),
            SignedBatch::Whole(b) => b.root(),
        }
    }

    /// Number of certificates.
    pub fn len(&self) -> usize {
        match self {
            SignedBatch::Copies(b) => b.len(),
            SignedBatch::Whole(b) => b.len(),
        }
    }

    /// Whether the batch is empty (never, once built).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of leaves of its tree, as the ledger records it: copies, or certificates.
    pub fn leaf_count(&self) -> u64 {
        match self {
            SignedBatch::Copies(b) => b.copy_count(),
            SignedBatch::Whole(b) => b.len() as u64,
        }
    }

    /// The kinds in the batch, sorted.
    pub fn kinds(&self) -> &[KindId] {
        match self {
            SignedBatch::Copies(b) => b.kinds(),
            SignedBatch::Whole(b) => b.kinds(),
        }
    }

    /// The signed transaction that anchors this batch on `chain_id`.
    pub fn anchor_transaction(
        &self,
        key: &IssuerKey,
        chain_id: &ChainId,
    ) -> Result<AnchorBatchTx, IssueError> {
        match self {
            SignedBatch::Copies(b) => b.anchor_transaction(key, chain_id),
            SignedBatch::Whole(b) => b.anchor_transaction(key, chain_id),
        }
    }

    /// The package bytes of certificate `index` (its `CopyPackage`, or its
    /// `CertificatePackage`), once the batch is anchored at `batch_seq`; `None` past the
    /// last certificate.
    pub fn package_bytes(
        &self,
        index: usize,
        batch_seq: u64,
    ) -> Option<Result<Vec<u8>, SchemaError>> {
        match self {
            SignedBatch::Copies(b) => b.package(index, batch_seq).map(|p| p.to_bytes()),
            SignedBatch::Whole(b) => b.package(index, batch_seq).map(|p| p.to_bytes()),
        }
    }
}

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
/// this department signed it (root, issuer, key, number of leaves and kinds).
pub fn check_receipt(
    receipt: &AnchorReceipt,
    anchor: &TrustAnchor,
    batch: &SignedBatch,
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
    } else if r.count != batch.leaf_count() {
        Some("another number of certificates or copies")
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
pub fn batch_file(
    batch: &SignedBatch,
    holders: &[PublicKeyBytes],
    key: &IssuerKey,
    now: UnixTime,
) -> Result<BatchFile, IssueError> {
    let certificates = match batch {
        SignedBatch::Copies(b) => copies_records(b, holders)?,
        SignedBatch::Whole(b) => whole_records(b)?,
    };
    Ok(BatchFile {
        version: RECORD_VERSION,
        root: batch.root(),
        key_id: key.key_id(),
        kinds: batch.kinds().to_vec(),
        count: batch.leaf_count(),
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

/// The records of a batch of copies whose certificates were issued to `holders` (the
/// wallet keys, in the batch's order of certificates).
fn copies_records(
    batch: &CopyBatch,
    holders: &[PublicKeyBytes],
) -> Result<Vec<CertificateRecord>, IssueError> {
    if holders.len() != batch.len() {
        return Err(IssueError::BadCopyOrder);
    }
    Ok(batch
        .certificates()
        .iter()
        .zip(holders)
        .map(|(issued, holder)| CertificateRecord {
            id: issued.id,
            kind: issued.kind.clone(),
            holder: *holder,
            issued_at: issued.issued_at.secs(),
            valid_from: issued.valid_from.secs(),
            expires: issued.expires.secs(),
            issued: Issued::Copies {
                status_indexes: issued.copies.iter().map(|c| c.status_index.0).collect(),
            },
            package_file: None,
            offer: None,
        })
        .collect())
}

/// The records of a batch of whole certificates, read from the certificates.
fn whole_records(batch: &Batch) -> Result<Vec<CertificateRecord>, IssueError> {
    let mut certificates = Vec::with_capacity(batch.len());
    for (index, issued) in batch.certificates().iter().enumerate() {
        let cert = Certificate::from_bytes(&issued.certificate)
            .map_err(|source| IssueError::BadBatchEntry { index, source })?;
        let c = &cert.claims;
        certificates.push(CertificateRecord {
            id: c.id,
            kind: c.kind.clone(),
            holder: c.holder,
            issued_at: c.issued_at.secs(),
            valid_from: c.valid_from.secs(),
            expires: c.expires.secs(),
            issued: Issued::Whole {
                status_index: c.status_index.0,
                leaf_index: index as u64,
                hash: Hash32(Sha256::digest(&issued.certificate).into()),
            },
            package_file: None,
            offer: None,
        });
    }
    Ok(certificates)
}

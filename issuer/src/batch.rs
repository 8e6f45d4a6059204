//! Anchor batches: the Merkle tree over the certificates a department issued in one
//! interval, the signed transaction that anchors its root, and each certificate's package.

use std::collections::BTreeSet;

use ecert_schemas::certificate::Certificate;
use ecert_schemas::codec::{to_cbor, ByteBuf};
use ecert_schemas::ledger::{
    AnchorBatchBody, AnchorBatchTx, RevocationBody, RevocationEntry, RevocationTx,
};
use ecert_schemas::presentation::PACKAGE_VERSION;
use ecert_schemas::{AnchorProof, CertificatePackage, ChainId, Hash32, KindId, UnixTime};
use ecert_verifier::crypto::{self, SigningContext};
use ecert_verifier::merkle::{leaf_hash, MerkleTree};

use crate::{IssueError, IssuedCertificate, IssuerKey};

/// The certificates of one batch, in order, with their tree.
pub struct Batch {
    certificates: Vec<IssuedCertificate>,
    kinds: Vec<KindId>,
    tree: MerkleTree,
}

impl Batch {
    /// Builds the batch's tree. Every certificate must have been issued with `key`.
    pub fn new(key: &IssuerKey, certificates: Vec<IssuedCertificate>) -> Result<Batch, IssueError> {
        if certificates.is_empty() {
            return Err(IssueError::EmptyBatch);
        }
        let mut kinds = BTreeSet::new();
        let mut leaves = Vec::with_capacity(certificates.len());
        for (index, issued) in certificates.iter().enumerate() {
            let cert = Certificate::from_bytes(&issued.certificate)
                .map_err(|source| IssueError::BadBatchEntry { index, source })?;
            if &cert.claims.issuer != key.issuer() || cert.key_id != key.key_id() {
                return Err(IssueError::ForeignBatchEntry { index });
            }
            kinds.insert(cert.claims.kind);
            leaves.push(leaf_hash(&issued.certificate));
        }
        if kinds.len() > ecert_schemas::ledger::MAX_BATCH_KINDS {
            return Err(IssueError::TooManyKinds { found: kinds.len() });
        }
        Ok(Batch {
            certificates,
            kinds: kinds.into_iter().collect(),
            tree: MerkleTree::from_leaf_hashes(&leaves),
        })
    }

    /// The batch's Merkle root.
    pub fn root(&self) -> Hash32 {
        self.tree.root()
    }

    /// Number of certificates.
    pub fn len(&self) -> usize {
        self.certificates.len()
    }

    /// Whether the batch is empty (never, once built).
    pub fn is_empty(&self) -> bool {
        self.certificates.is_empty()
    }

    /// The kinds in the batch, sorted.
    pub fn kinds(&self) -> &[KindId] {
        &self.kinds
    }

    /// The certificates, in batch order.
    pub fn certificates(&self) -> &[IssuedCertificate] {
        &self.certificates
    }

    /// The signed transaction that anchors this batch on `chain_id`.
    pub fn anchor_transaction(
        &self,
        key: &IssuerKey,
        chain_id: &ChainId,
    ) -> Result<AnchorBatchTx, IssueError> {
        sign_batch_root(
            key,
            chain_id,
            self.kinds.clone(),
            self.root(),
            self.certificates.len() as u64,
        )
    }

    /// The package of certificate `index`, once the batch is anchored at `batch_seq` of the
    /// ledger's anchor log.
    pub fn package(&self, index: usize, batch_seq: u64) -> Option<CertificatePackage> {
        let issued = self.certificates.get(index)?;
        let path = self.tree.audit_path(index as u64)?;
        Some(CertificatePackage {
            version: PACKAGE_VERSION,
            certificate: ByteBuf::from(issued.certificate.clone()),
            disclosures: issued
                .disclosures
                .iter()
                .cloned()
                .map(ByteBuf::from)
                .collect(),
            anchor: AnchorProof {
                batch_seq,
                leaf_index: index as u64,
                path,
            },
        })
    }

    /// The packages of all certificates, in batch order.
    pub fn packages(&self, batch_seq: u64) -> Vec<CertificatePackage> {
        (0..self.certificates.len())
            .filter_map(|i| self.package(i, batch_seq))
            .collect()
    }
}

/// A signed revocation of `entries` (sorted and deduplicated here) on `chain_id`.
pub fn revocation_transaction(
    key: &IssuerKey,
    chain_id: &ChainId,
    mut entries: Vec<RevocationEntry>,
    time: UnixTime,
) -> Result<RevocationTx, IssueError> {
    entries.sort_by_key(|e| e.index);
    entries.dedup_by_key(|e| e.index);
    let body = RevocationBody {
        chain_id: chain_id.clone(),
        issuer: key.issuer().clone(),
        key_id: key.key_id(),
        entries,
        time,
    };
    let signature = crypto::sign(
        key.signing_key(),
        SigningContext::Revocation,
        &to_cbor(&body)?,
    );
    Ok(RevocationTx { body, signature })
}

/// The signed transaction that anchors a batch of `count` leaves with root `batch_root`
/// and `kinds`, by `key`'s department, on `chain_id`: for batches of either format.
pub fn sign_batch_root(
    key: &IssuerKey,
    chain_id: &ChainId,
    kinds: Vec<KindId>,
    batch_root: Hash32,
    count: u64,
) -> Result<AnchorBatchTx, IssueError> {
    sign_anchor_body(
        key,
        AnchorBatchBody {
            chain_id: chain_id.clone(),
            issuer: key.issuer().clone(),
            key_id: key.key_id(),
            kinds,
            batch_root,
            count,
        },
    )
}

/// Signs an anchor-batch body with `key` (context `ecert/v1/anchor-batch`). [`Batch`]
/// uses it; so does a load generator that anchors roots over certificate hashes it did not
/// keep.
pub fn sign_anchor_body(
    key: &IssuerKey,
    body: AnchorBatchBody,
) -> Result<AnchorBatchTx, IssueError> {
    let signature = crypto::sign(
        key.signing_key(),
        SigningContext::AnchorBatch,
        &to_cbor(&body)?,
    );
    Ok(AnchorBatchTx { body, signature })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{issue, CertificateRequest};
    use ecert_schemas::ledger::{
        IssuerKeyRecord, IssuerRecord, KindRecord, Registry, RevocationReason,
    };
    use ecert_schemas::{Claims, FieldValue, IssuerId, KindRegistry, StatusIndex};
    use ecert_verifier::merkle::verify_inclusion;
    use rand_core::OsRng;

    fn issued(key: &IssuerKey, n: usize) -> Vec<IssuedCertificate> {
        let kinds = KindRegistry::builtin().unwrap();
        let mut claims = Claims::new();
        for (k, v) in [
            ("name", "李娜"),
            ("id_number", "110108199003070016"),
            ("card_number", "X1"),
            ("insurance_region", "杭州"),
            ("issue_date", "2020-02-02"),
        ] {
            claims.insert(k.into(), FieldValue::Text(v.into()));
        }
        (0..n)
            .map(|i| {
                let req = CertificateRequest {
                    kind: KindId::new("social-security-card").unwrap(),
                    claims: claims.clone(),
                    holder: ecert_verifier::crypto::public_key(
                        &ed25519_dalek::SigningKey::from_bytes(&[9; 32]),
                    ),
                    valid_from: UnixTime(100),
                    expires: UnixTime(100 + 86_400),
                    status_index: StatusIndex(i as u32),
                };
                issue(key, &kinds, &req, UnixTime(200), &mut OsRng).unwrap()
            })
            .collect()
    }

    fn registry(key: &IssuerKey) -> Registry {
        Registry {
            issuers: vec![IssuerRecord {
                issuer: key.issuer().clone(),
                name: "HRSS".into(),
                kinds: vec![KindId::new("social-security-card").unwrap()],
                keys: vec![IssuerKeyRecord {
                    key_id: key.key_id(),
                    key: key.public_key(),
                    valid_from: UnixTime(0),
                    valid_until: None,
                }],
            }],
            kinds: vec![KindRecord {
                kind: KindId::new("social-security-card").unwrap(),
                content_hash: Hash32([0; 32]),
            }],
            governance_seq: 0,
        }
    }

    #[test]
    fn every_package_proves_inclusion_in_the_batch_root() {
        let key = IssuerKey::generate(IssuerId::new("social-security").unwrap(), &mut OsRng);
        let batch = Batch::new(&key, issued(&key, 13)).unwrap();
        assert_eq!(batch.kinds().len(), 1);
        for (i, p) in batch.packages(5).iter().enumerate() {
            assert_eq!(p.anchor.batch_seq, 5);
            assert_eq!(p.anchor.leaf_index, i as u64);
            assert!(verify_inclusion(
                &leaf_hash(&p.certificate),
                i as u64,
                13,
                &p.anchor.path,
                &batch.root()
            ));
        }
    }

    #[test]
    fn anchor_and_revocation_transactions_pass_the_ledger_rules() {
        let key = IssuerKey::generate(IssuerId::new("social-security").unwrap(), &mut OsRng);
        let chain = ChainId::new("test-chain").unwrap();
        let batch = Batch::new(&key, issued(&key, 2)).unwrap();
        let tx = batch.anchor_transaction(&key, &chain).unwrap();
        let reg = registry(&key);
        ecert_verifier::transaction::check_anchor_batch(&tx, &chain, &reg, UnixTime(300), |_| {
            false
        })
        .unwrap();
        let other_chain = ChainId::new("other-chain").unwrap();
        assert!(ecert_verifier::transaction::check_anchor_batch(
            &tx,
            &other_chain,
            &reg,
            UnixTime(300),
            |_| false
        )
        .is_err());
        let entries = vec![
            RevocationEntry {
                index: StatusIndex(4),
                reason: RevocationReason::Superseded,
            },
            RevocationEntry {
                index: StatusIndex(1),
                reason: RevocationReason::DataError,
            },
            RevocationEntry {
                index: StatusIndex(4),
                reason: RevocationReason::Superseded,
            },
        ];
        let rev = revocation_transaction(&key, &chain, entries, UnixTime(300)).unwrap();
        assert_eq!(rev.body.entries.len(), 2, "sorted and deduplicated");
        ecert_verifier::transaction::check_revocation(&rev, &chain, &reg, UnixTime(300)).unwrap();
    }

    #[test]
    fn batches_refuse_empty_and_foreign_certificates() {
        let key = IssuerKey::generate(IssuerId::new("social-security").unwrap(), &mut OsRng);
        assert!(matches!(
            Batch::new(&key, vec![]),
            Err(IssueError::EmptyBatch)
        ));
        let other = IssuerKey::generate(IssuerId::new("social-security").unwrap(), &mut OsRng);
        assert!(matches!(
            Batch::new(&other, issued(&key, 1)),
            Err(IssueError::ForeignBatchEntry { index: 0 })
        ));
    }
}

//! Issuing a certificate as one-time copies (format 2), and the batch that anchors them.
//!
//! Every copy gets its own secret (from which its salts, hidden leaves and holder-key
//! tweak follow), its own status index and, once in a batch, its own place: the batch's
//! copies are put in an order drawn at random, so that the copies of one certificate are
//! spread over the whole batch. See `docs/protocol.md` §3.8.

use std::collections::BTreeSet;

use ecert_schemas::copy::{
    CopyEnvelope, CopyPackage, CopySignedData, PackageField, MAX_COPIES, PACKAGE_V2,
};
use ecert_schemas::ledger::AnchorBatchTx;
use ecert_schemas::{
    CertificateId, ChainId, Claims, CopySecret, Hash16, Hash32, IssuerId, KeyId, KindId,
    KindRegistry, PublicKeyBytes, SignatureBytes, StatusIndex, UnixTime,
};
use ecert_verifier::copy_key::{field_leaves, WalletPoint};
use ecert_verifier::crypto::{self, SigningContext};
use ecert_verifier::merkle16::{copy_leaf, field_root, CopyTree};
use rand_core::{CryptoRngCore, RngCore};

use crate::batch::sign_batch_root;
use crate::issue::{checked_values, Terms};
use crate::{IssueError, IssuerKey};

/// What to issue as copies: a kind, its claims, the holder's wallet key, the validity
/// period and one status index per copy (allocated by the issuing service).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CopiesRequest {
    /// The kind.
    pub kind: KindId,
    /// Field values by field key.
    pub claims: Claims,
    /// The holder's wallet key (each copy's key is tweaked from it).
    pub holder: PublicKeyBytes,
    /// Start of validity.
    pub valid_from: UnixTime,
    /// End of validity.
    pub expires: UnixTime,
    /// One status index per copy: as many copies as indexes.
    pub status_indexes: Vec<StatusIndex>,
}

/// One signed copy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedCopy {
    /// The copy's secret (for the holder's package only).
    pub secret: CopySecret,
    /// Its status index.
    pub status_index: StatusIndex,
    /// Its holder key.
    pub holder: PublicKeyBytes,
    /// The exact bytes signed ([`CopySignedData`]).
    pub signed: Vec<u8>,
    /// The issuer's signature over them (context `ecert/v2/copy`).
    pub signature: SignatureBytes,
}

impl SignedCopy {
    /// The copy's leaf in its batch.
    pub fn leaf(&self) -> Hash16 {
        copy_leaf(&self.signed, &self.signature.0)
    }
}

/// A certificate issued as copies, not yet in a batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuedCopies {
    /// The certificate's id in the register (never shown to a counter).
    pub id: CertificateId,
    /// The issuer.
    pub issuer: IssuerId,
    /// The key that signed.
    pub key_id: KeyId,
    /// The kind.
    pub kind: KindId,
    /// When it was issued.
    pub issued_at: UnixTime,
    /// Start of validity.
    pub valid_from: UnixTime,
    /// End of validity.
    pub expires: UnixTime,
    /// Every field of the kind in its order, with its value or null.
    pub fields: Vec<PackageField>,
    /// The copies.
    pub copies: Vec<SignedCopy>,
}

/// Issues a certificate as one copy per status index: checks entitlement, claims and
/// validity against the kind, computes the derived facts as of `issued_at`, and for each
/// copy draws a secret, derives its holder key, salts its fields, builds its field tree
/// and signs.
pub fn issue_copies(
    key: &IssuerKey,
    kinds: &KindRegistry,
    request: &CopiesRequest,
    issued_at: UnixTime,
    rng: &mut impl CryptoRngCore,
) -> Result<IssuedCopies, IssueError> {
    issue_copies_of(key, kinds, request, issued_at, None, rng)
}

/// [`issue_copies`] under the id of a certificate issued before (`Some`): new copies of
/// it, for a wallet that asked for more (a refill); `None` draws a new id.
pub fn issue_copies_of(
    key: &IssuerKey,
    kinds: &KindRegistry,
    request: &CopiesRequest,
    issued_at: UnixTime,
    certificate: Option<CertificateId>,
    rng: &mut impl CryptoRngCore,
) -> Result<IssuedCopies, IssueError> {
    if request.status_indexes.is_empty() || request.status_indexes.len() > MAX_COPIES {
        return Err(IssueError::CopyCount {
            found: request.status_indexes.len(),
        });
    }
    let (kind, values) = checked_values(
        key,
        kinds,
        &Terms {
            kind: &request.kind,
            claims: &request.claims,
            holder: &request.holder,
            valid_from: request.valid_from,
            expires: request.expires,
        },
        &request.status_indexes,
        issued_at,
    )?;
    let fields: Vec<PackageField> = kind
        .fields
        .iter()
        .map(|f| PackageField {
            field: f.number,
            value: values.get(&f.key).cloned(),
        })
        .collect();
    let wallet = WalletPoint::of(&request.holder).ok_or(IssueError::InvalidHolderKey)?;
    let mut copies = Vec::with_capacity(request.status_indexes.len());
    for status_index in &request.status_indexes {
        let mut secret = [0u8; 32];
        rng.fill_bytes(&mut secret);
        let secret = CopySecret(secret);
        let holder = wallet.copy_key(&secret);
        let leaves = field_leaves(&fields, &secret)?;
        let root = field_root(&leaves).ok_or(IssueError::EmptyBatch)?;
        let signed = CopySignedData {
            issuer: key.issuer().clone(),
            key_id: key.key_id(),
            kind: request.kind.clone(),
            issued_at,
            valid_from: request.valid_from,
            expires: request.expires,
            status_index: *status_index,
            holder,
            field_root: root,
        }
        .to_bytes()?;
        let signature = crypto::sign(key.signing_key(), SigningContext::CopyIssue, &signed);
        copies.push(SignedCopy {
            secret,
            status_index: *status_index,
            holder,
            signed,
            signature,
        });
    }
    let id = certificate.unwrap_or_else(|| {
        let mut id = [0u8; 16];
        rng.fill_bytes(&mut id);
        CertificateId(id)
    });
    Ok(IssuedCopies {
        id,
        issuer: key.issuer().clone(),
        key_id: key.key_id(),
        kind: request.kind.clone(),
        issued_at,
        valid_from: request.valid_from,
        expires: request.expires,
        fields,
        copies,
    })
}

/// Where a copy sits in its batch: certificate `certificate`'s copy `copy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct CopyRef {
    /// Position of the certificate in the batch's list.
    pub certificate: u32,
    /// Position of the copy among the certificate's copies.
    pub copy: u16,
}

/// An order of all copies of `certificates` drawn uniformly at random (Fisher–Yates).
pub fn shuffled_order(certificates: &[IssuedCopies], rng: &mut impl RngCore) -> Vec<CopyRef> {
    let mut order: Vec<CopyRef> = certificates
        .iter()
        .enumerate()
        .flat_map(|(c, issued)| {
            (0..issued.copies.len()).map(move |k| CopyRef {
                certificate: c as u32,
                copy: k as u16,
            })
        })
        .collect();
    shuffle(&mut order, rng);
    order
}

/// Puts `items` in an order drawn uniformly at random (Fisher–Yates, without modulo
/// bias): how a batch's copies get their places and their status indexes.
pub fn shuffle<T>(items: &mut [T], rng: &mut impl RngCore) {
    for i in (1..items.len()).rev() {
        let j = uniform_below(rng, i as u64 + 1);
        items.swap(i, usize::try_from(j).unwrap_or(i));
    }
}

/// A uniform draw from `0..n` (n ≥ 1) without modulo bias.
fn uniform_below(rng: &mut impl RngCore, n: u64) -> u64 {
    let zone = u64::MAX - (u64::MAX % n);
    loop {
        let v = rng.next_u64();
        if v < zone {
            return v % n;
        }
    }
}

/// The copies of a batch's certificates, placed in an order, with their tree.
pub struct CopyBatch {
    certificates: Vec<IssuedCopies>,
    kinds: Vec<KindId>,
    order: Vec<CopyRef>,
    /// Leaf index of each certificate's copies.
    leaf_of: Vec<Vec<u64>>,
    tree: CopyTree,
}

impl CopyBatch {
    /// Places the copies of `certificates` in `order` (which must name every copy exactly
    /// once; [`shuffled_order`] draws one) and builds the batch tree. Every certificate must
    /// have been issued with `key`.
    pub fn new(
        key: &IssuerKey,
        certificates: Vec<IssuedCopies>,
        order: Vec<CopyRef>,
    ) -> Result<CopyBatch, IssueError> {
        if certificates.is_empty() {
            return Err(IssueError::EmptyBatch);
        }
        let mut kinds = BTreeSet::new();
        let mut leaf_of = Vec::with_capacity(certificates.len());
        for (index, issued) in certificates.iter().enumerate() {
            if &issued.issuer != key.issuer() || issued.key_id != key.key_id() {
                return Err(IssueError::ForeignBatchEntry { index });
            }
            kinds.insert(issued.kind.clone());
            leaf_of.push(vec![u64::MAX; issued.copies.len()]);
        }
        if kinds.len() > ecert_schemas::ledger::MAX_BATCH_KINDS {
            return Err(IssueError::TooManyKinds { found: kinds.len() });
        }
        let total: usize = certificates.iter().map(|c| c.copies.len()).sum();
        if order.len() != total {
            return Err(IssueError::BadCopyOrder);
        }
        let mut leaves = Vec::with_capacity(total);
        for (position, r) in order.iter().enumerate() {
            let slot = leaf_of
                .get_mut(r.certificate as usize)
                .and_then(|c| c.get_mut(usize::from(r.copy)))
                .ok_or(IssueError::BadCopyOrder)?;
            if *slot != u64::MAX {
                return Err(IssueError::BadCopyOrder);
            }
            *slot = position as u64;
            let copy = certificates
                .get(r.certificate as usize)
                .and_then(|c| c.copies.get(usize::from(r.copy)))
                .ok_or(IssueError::BadCopyOrder)?;
            leaves.push(copy.leaf());
        }
        Ok(CopyBatch {
            certificates,
            kinds: kinds.into_iter().collect(),
            order,
            leaf_of,
            tree: CopyTree::new(&leaves),
        })
    }

    /// The batch's root, as anchored.
    pub fn root(&self) -> Hash32 {
        self.tree.root().unwrap_or(Hash32([0; 32]))
    }

    /// Number of certificates.
    pub fn len(&self) -> usize {
        self.certificates.len()
    }

    /// Whether the batch is empty (never, once built).
    pub fn is_empty(&self) -> bool {
        self.certificates.is_empty()
    }

    /// Number of copies (leaves).
    pub fn copy_count(&self) -> u64 {
        self.tree.size()
    }

    /// The kinds in the batch, sorted.
    pub fn kinds(&self) -> &[KindId] {
        &self.kinds
    }

    /// The certificates, in batch order.
    pub fn certificates(&self) -> &[IssuedCopies] {
        &self.certificates
    }

    /// The order the copies were placed in (to rebuild the same batch later).
    pub fn order(&self) -> &[CopyRef] {
        &self.order
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
            self.copy_count(),
        )
    }

    /// The package of certificate `index`, once the batch is anchored at `batch_seq`.
    pub fn package(&self, index: usize, batch_seq: u64) -> Option<CopyPackage> {
        let issued = self.certificates.get(index)?;
        let leaves = self.leaf_of.get(index)?;
        let kind_index = self.kinds.iter().position(|k| *k == issued.kind)?;
        let kind_index = u8::try_from(kind_index).ok()?;
        let copies = issued
            .copies
            .iter()
            .zip(leaves)
            .map(|(copy, &leaf_index)| {
                Some(CopyEnvelope {
                    secret: copy.secret,
                    batch_seq,
                    leaf_index,
                    path: self.tree.audit_path(leaf_index)?,
                    kind_index,
                    status_index: copy.status_index,
                    signature: copy.signature,
                })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(CopyPackage {
            version: PACKAGE_V2,
            id: issued.id,
            issuer: issued.issuer.clone(),
            key_id: issued.key_id,
            kind: issued.kind.clone(),
            issued_at: issued.issued_at,
            valid_from: issued.valid_from,
            expires: issued.expires,
            fields: issued.fields.clone(),
            copies,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use ecert_schemas::FieldValue;
    use ecert_verifier::merkle16::verify_copy_inclusion;
    use rand_core::OsRng;

    fn request(copies: u32, first: u32) -> CopiesRequest {
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
        CopiesRequest {
            kind: KindId::new("social-security-card").unwrap(),
            claims,
            holder: crypto::public_key(&ed25519_dalek::SigningKey::from_bytes(&[9; 32])),
            valid_from: UnixTime(100),
            expires: UnixTime(100 + 86_400),
            status_indexes: (first..first + copies).map(StatusIndex).collect(),
        }
    }

    #[test]
    fn copies_have_their_own_keys_indexes_and_places() {
        let kinds = KindRegistry::builtin().unwrap();
        let key = IssuerKey::generate(IssuerId::new("social-security").unwrap(), &mut OsRng);
        let certs: Vec<IssuedCopies> = (0..3)
            .map(|i| {
                issue_copies(&key, &kinds, &request(5, i * 5), UnixTime(200), &mut OsRng).unwrap()
            })
            .collect();
        let holders: BTreeSet<_> = certs
            .iter()
            .flat_map(|c| c.copies.iter().map(|k| k.holder))
            .collect();
        assert_eq!(holders.len(), 15, "every copy has its own key");
        let order = shuffled_order(&certs, &mut OsRng);
        let batch = CopyBatch::new(&key, certs, order).unwrap();
        assert_eq!(batch.copy_count(), 15);
        let mut places = BTreeSet::new();
        for i in 0..3 {
            let package = batch.package(i, 7).unwrap();
            assert_eq!(package.copies.len(), 5);
            let issued = &batch.certificates()[i];
            for (envelope, copy) in package.copies.iter().zip(&issued.copies) {
                assert!(places.insert(envelope.leaf_index));
                assert!(verify_copy_inclusion(
                    &copy.leaf(),
                    envelope.leaf_index,
                    15,
                    &envelope.path,
                    &batch.root()
                ));
            }
        }
    }

    #[test]
    fn a_bad_order_or_count_is_refused() {
        let kinds = KindRegistry::builtin().unwrap();
        let key = IssuerKey::generate(IssuerId::new("social-security").unwrap(), &mut OsRng);
        assert!(matches!(
            issue_copies(&key, &kinds, &request(0, 0), UnixTime(200), &mut OsRng),
            Err(IssueError::CopyCount { found: 0 })
        ));
        let certs =
            vec![issue_copies(&key, &kinds, &request(2, 0), UnixTime(200), &mut OsRng).unwrap()];
        let twice = vec![
            CopyRef {
                certificate: 0,
                copy: 0
            };
            2
        ];
        assert!(matches!(
            CopyBatch::new(&key, certs.clone(), twice),
            Err(IssueError::BadCopyOrder)
        ));
        assert!(matches!(
            CopyBatch::new(
                &key,
                certs,
                vec![CopyRef {
                    certificate: 0,
                    copy: 0
                }]
            ),
            Err(IssueError::BadCopyOrder)
        ));
    }
}

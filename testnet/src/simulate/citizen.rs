//! A citizen's real certificates in the simulated year: issued by the departments' real
//! keys, anchored in a batch of the simulation's size (the certificate's leaf among
//! random ones), presented by the citizen's wallet and verified by a counter.

use ecert_issuer::{issue, sign_anchor_body, CertificateRequest, IssuedCertificate, IssuerKey};
use ecert_schemas::codec::ByteBuf;
use ecert_schemas::ledger::{AnchorBatchBody, AnchorBatchTx};
use ecert_schemas::presentation::PACKAGE_VERSION;
use ecert_schemas::{
    AnchorProof, CertificatePackage, ChainId, Hash32, KeyId, KindId, KindRegistry, StatusIndex,
    UnixTime,
};
use ecert_verifier::merkle::{leaf_hash, MerkleTree};
use ecert_verifier::{verify_presentation, Policy, TrustStore, VerifyError};
use ecert_wallet::{present, HolderKey, Selection};
use rand_core::CryptoRngCore;

use crate::province::Order;
use crate::TestnetError;

/// A random 32-byte value: a batch root or a leaf hash of certificates the simulation does
/// not keep (indistinguishable, for the ledger, from one over real certificates).
pub fn random_hash(rng: &mut impl CryptoRngCore) -> Hash32 {
    let mut bytes = [0u8; 32];
    rng.fill_bytes(&mut bytes);
    Hash32(bytes)
}

/// A real certificate the citizen holds.
#[derive(Clone, Debug)]
pub struct Held {
    /// Its kind.
    pub kind: KindId,
    /// The key that signed it.
    pub key_id: KeyId,
    /// When it was issued.
    pub issued_at: UnixTime,
    /// Its package.
    pub package: CertificatePackage,
}

/// A real certificate in a batch of random leaves, signed and ready to anchor.
pub struct RealBatch {
    issued: IssuedCertificate,
    tree: MerkleTree,
    position: u64,
    kind: KindId,
    key_id: KeyId,
    issued_at: UnixTime,
    /// The anchor transaction, signed with the issuer's key.
    pub tx: AnchorBatchTx,
}

impl RealBatch {
    /// Issues `order` to `holder` with `key` at `issued_at` and status index
    /// `status_index`, and builds its batch of `count` leaves (the certificate's at a
    /// random position) and the signed anchor transaction on `chain_id`.
    #[allow(clippy::too_many_arguments)] // one certificate's whole issuance
    pub fn new(
        key: &IssuerKey,
        kinds: &KindRegistry,
        chain_id: &ChainId,
        order: &Order,
        holder: &HolderKey,
        status_index: StatusIndex,
        issued_at: UnixTime,
        count: u64,
        rng: &mut impl CryptoRngCore,
    ) -> Result<RealBatch, TestnetError> {
        let kind = KindId::new(order.kind)?;
        let request = CertificateRequest {
            kind: kind.clone(),
            claims: order.claims.clone(),
            holder: holder.public_key(),
            valid_from: order.valid_from,
            expires: order.expires,
            status_index,
        };
        let issued = issue(key, kinds, &request, issued_at, rng)?;
        let count = count.max(1);
        let position = rng.next_u64() % count;
        let leaves: Vec<Hash32> = (0..count)
            .map(|i| {
                if i == position {
                    leaf_hash(&issued.certificate)
                } else {
                    random_hash(rng)
                }
            })
            .collect();
        let tree = MerkleTree::from_leaf_hashes(&leaves);
        let body = AnchorBatchBody {
            chain_id: chain_id.clone(),
            issuer: key.issuer().clone(),
            key_id: key.key_id(),
            kinds: vec![kind.clone()],
            batch_root: tree.root(),
            count,
        };
        Ok(RealBatch {
            tx: sign_anchor_body(key, body)?,
            issued,
            tree,
            position,
            kind,
            key_id: key.key_id(),
            issued_at,
        })
    }

    /// The certificate as held once its batch is anchored at `batch_seq`.
    pub fn held(self, batch_seq: u64) -> Result<Held, TestnetError> {
        let path = self
            .tree
            .audit_path(self.position)
            .ok_or_else(|| TestnetError::local("a real batch", "no audit path"))?;
        Ok(Held {
            kind: self.kind,
            key_id: self.key_id,
            issued_at: self.issued_at,
            package: CertificatePackage {
                version: PACKAGE_VERSION,
                certificate: ByteBuf::from(self.issued.certificate),
                disclosures: self
                    .issued
                    .disclosures
                    .into_iter()
                    .map(ByteBuf::from)
                    .collect(),
                anchor: AnchorProof {
                    batch_seq,
                    leaf_index: self.position,
                    path,
                },
            },
        })
    }
}

/// The citizen: a wallet and the real certificates in it.
pub struct Citizen {
    /// The wallet's holder key.
    pub holder: HolderKey,
    /// The certificates, in the order issued.
    pub held: Vec<Held>,
}

impl Citizen {
    /// Presents `certificates` (name and ID number of each) at `now` and has `store`
    /// verify the QR string with the default policy.
    pub fn show(
        &self,
        kinds: &KindRegistry,
        certificates: &[&Held],
        store: &TrustStore,
        now: UnixTime,
    ) -> Result<Result<(), VerifyError>, TestnetError> {
        let selections: Vec<Selection<'_>> = certificates
            .iter()
            .map(|held| Selection {
                package: &held.package,
                fields: vec!["name".into(), "id_number".into()],
            })
            .collect();
        let qr = present(&self.holder, kinds, &selections, now, None)?.to_qr_string()?;
        Ok(verify_presentation(&qr, store, now, &Policy::default()).map(|_| ()))
    }
}

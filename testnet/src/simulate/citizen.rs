//! A citizen's real certificates in the simulated year: issued as one-time copies by the
//! departments' real keys, anchored in a batch of the simulation's size (the copies'
//! leaves at random places among random ones), presented one unused copy at a time by
//! the citizen's wallet and verified by a counter.

use ecert_issuer::{issue_copies, sign_anchor_body, CopiesRequest, IssuedCopies, IssuerKey};
use ecert_schemas::copy::{CopyEnvelope, CopyPackage, PACKAGE_V2};
use ecert_schemas::ledger::{AnchorBatchBody, AnchorBatchTx};
use ecert_schemas::{
    ChainId, Hash16, Hash32, KeyId, KindId, KindRegistry, PublicKeyBytes, StatusIndex, UnixTime,
};
use ecert_verifier::merkle16::CopyTree;
use ecert_verifier::{verify_presentation, Policy, TrustStore, VerifyError};
use ecert_wallet::{present_copies, CopySelection, HolderKey};
use rand_core::{CryptoRngCore, RngCore};

use super::Presented;
use crate::province::Order;
use crate::TestnetError;

/// A random 32-byte value: a batch root of copies the simulation does not keep
/// (indistinguishable, for the ledger, from one over real copies).
pub fn random_hash(rng: &mut impl CryptoRngCore) -> Hash32 {
    let mut bytes = [0u8; 32];
    rng.fill_bytes(&mut bytes);
    Hash32(bytes)
}

/// A random 16-byte leaf: a copy the simulation does not keep.
fn random_leaf(rng: &mut impl RngCore) -> Hash16 {
    let mut bytes = [0u8; 16];
    rng.fill_bytes(&mut bytes);
    Hash16(bytes)
}

/// `count` distinct values below `below` (`count` ≤ `below`), in the order drawn.
pub fn distinct_below(count: u64, below: u64, rng: &mut impl RngCore) -> Vec<u64> {
    let count = count.min(below);
    let mut drawn = std::collections::HashSet::with_capacity(count as usize);
    let mut out = Vec::with_capacity(count as usize);
    while (out.len() as u64) < count {
        let v = rng.next_u64() % below.max(1);
        if drawn.insert(v) {
            out.push(v);
        }
    }
    out
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
    /// Its package: every copy.
    pub package: CopyPackage,
    /// Copies shown so far (the next presentation shows the copy at this position,
    /// modulo the number of copies).
    pub shown: u64,
}

/// A real certificate's copies in a batch of random leaves, signed and ready to anchor.
pub struct RealBatch {
    issued: IssuedCopies,
    tree: CopyTree,
    positions: Vec<u64>,
    kind: KindId,
    /// The anchor transaction, signed with the issuer's key.
    pub tx: AnchorBatchTx,
}

impl RealBatch {
    /// Issues `order` to `holder` with `key` at `issued_at` as one copy per status index
    /// of `status_indexes`, and builds its batch of `leaves` leaves (the copies' at random
    /// places) and the signed anchor transaction on `chain_id`.
    #[allow(clippy::too_many_arguments)] // one certificate's whole issuance
    pub fn new(
        key: &IssuerKey,
        kinds: &KindRegistry,
        chain_id: &ChainId,
        order: &Order,
        holder: PublicKeyBytes,
        status_indexes: Vec<StatusIndex>,
        issued_at: UnixTime,
        leaves: u64,
        rng: &mut impl CryptoRngCore,
    ) -> Result<RealBatch, TestnetError> {
        let kind = KindId::new(order.kind)?;
        let request = CopiesRequest {
            kind: kind.clone(),
            claims: order.claims.clone(),
            holder,
            valid_from: order.valid_from,
            expires: order.expires,
            status_indexes,
        };
        let issued = issue_copies(key, kinds, &request, issued_at, rng)?;
        let leaves = leaves.max(issued.copies.len() as u64);
        let positions = distinct_below(issued.copies.len() as u64, leaves, rng);
        let mut all: Vec<Hash16> = (0..leaves).map(|_| random_leaf(rng)).collect();
        for (copy, &position) in issued.copies.iter().zip(&positions) {
            if let Some(leaf) = all.get_mut(position as usize) {
                *leaf = copy.leaf();
            }
        }
        let tree = CopyTree::new(&all);
        let root = tree
            .root()
            .ok_or_else(|| TestnetError::local("a real batch", "no leaves"))?;
        let body = AnchorBatchBody {
            chain_id: chain_id.clone(),
            issuer: key.issuer().clone(),
            key_id: key.key_id(),
            kinds: vec![kind.clone()],
            batch_root: root,
            count: leaves,
        };
        Ok(RealBatch {
            tx: sign_anchor_body(key, body)?,
            issued,
            tree,
            positions,
            kind,
        })
    }

    /// The certificate as held once its batch is anchored at `batch_seq`.
    pub fn held(self, batch_seq: u64) -> Result<Held, TestnetError> {
        let copies = self
            .issued
            .copies
            .iter()
            .zip(&self.positions)
            .map(|(copy, &leaf_index)| {
                Ok(CopyEnvelope {
                    secret: copy.secret,
                    batch_seq,
                    leaf_index,
                    path: self
                        .tree
                        .audit_path(leaf_index)
                        .ok_or_else(|| TestnetError::local("a real batch", "no audit path"))?,
                    kind_index: 0,
                    status_index: copy.status_index,
                    signature: copy.signature,
                })
            })
            .collect::<Result<Vec<_>, TestnetError>>()?;
        let issued = self.issued;
        Ok(Held {
            kind: self.kind,
            key_id: issued.key_id,
            issued_at: issued.issued_at,
            package: CopyPackage {
                version: PACKAGE_V2,
                id: issued.id,
                issuer: issued.issuer,
                key_id: issued.key_id,
                kind: issued.kind,
                issued_at: issued.issued_at,
                valid_from: issued.valid_from,
                expires: issued.expires,
                fields: issued.fields,
                copies,
            },
            shown: 0,
        })
    }
}

/// The citizen: a wallet and the real certificates in it.
pub struct Citizen {
    /// The wallet's holder key.
    pub holder: HolderKey,
    /// The certificates, in the order issued.
    pub held: Vec<Held>,
    /// The copies shown so far.
    pub presented: Presented,
}

impl Citizen {
    /// A presentation at `now` of the next unused copy of each certificate `which` (name
    /// and ID number of each), as a QR string. Once every copy of a certificate has been
    /// shown, its copies are shown again from the first (a wallet would fetch new ones
    /// from the issuer; that needs a new batch on the ledger).
    pub fn present(
        &mut self,
        kinds: &KindRegistry,
        which: &[usize],
        now: UnixTime,
    ) -> Result<String, TestnetError> {
        let mut chosen = Vec::with_capacity(which.len());
        for &n in which {
            let held = self
                .held
                .get_mut(n)
                .ok_or_else(|| TestnetError::local("the citizen", "no such certificate"))?;
            let copies = held.package.copies.len().max(1) as u64;
            if held.shown >= copies {
                self.presented.reused += 1;
            }
            self.presented.copies += 1;
            chosen.push((n, (held.shown % copies) as usize));
            held.shown += 1;
        }
        let selections = chosen
            .iter()
            .map(|&(n, copy)| {
                let held = self
                    .held
                    .get(n)
                    .ok_or_else(|| TestnetError::local("the citizen", "no such certificate"))?;
                Ok(CopySelection {
                    package: &held.package,
                    copy,
                    fields: vec!["name".into(), "id_number".into()],
                })
            })
            .collect::<Result<Vec<_>, TestnetError>>()?;
        Ok(present_copies(&self.holder, kinds, &selections, now, None)?.to_qr_string()?)
    }

    /// Presents certificates `which` at `now` ([`Citizen::present`]) and has `store`
    /// verify the QR string with the default policy.
    pub fn show(
        &mut self,
        kinds: &KindRegistry,
        which: &[usize],
        store: &TrustStore,
        now: UnixTime,
    ) -> Result<Result<(), VerifyError>, TestnetError> {
        let qr = self.present(kinds, which, now)?;
        Ok(verify(&qr, store, now))
    }
}

/// `store`'s verdict on the QR string `qr` at `now` with the default policy.
pub fn verify(qr: &str, store: &TrustStore, now: UnixTime) -> Result<(), VerifyError> {
    verify_presentation(qr, store, now, &Policy::default()).map(|_| ())
}

//! The wallet's certificates of format 2: a package of one-time copies and which of its
//! copies have been shown, and what follows from one copy and the wallet's key (the bytes
//! its issuer signed, its leaf, the root of its batch).
//!
//! A copy is shown once: two presentations of one copy carry the same holder key, status
//! index and signature, so the counters that see them could tell they came from one
//! certificate. The wallet marks a copy spent before its code is shown
//! ([`crate::session`]), keeps the marks in its file ([`crate::store`]) and never picks a
//! spent copy again unless its holder asks for it knowingly.

use ecert_schemas::copy::{CopyEnvelope, CopyPackage};
use ecert_schemas::{Hash16, Hash32, PublicKeyBytes};
use ecert_verifier::merkle16::{batch_root_from_path, copy_leaf};

use crate::WalletError;

/// A certificate with this many unspent copies or fewer is running out: the wallet tells
/// its holder to ask the department for new copies.
pub const LOW_COPIES: usize = 5;

/// How many copies of a certificate are left to show, of how many it was issued with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CopiesLeft {
    /// Copies not shown yet.
    pub left: usize,
    /// Copies in the package.
    pub total: usize,
}

impl CopiesLeft {
    /// Whether so few are left that the holder should ask for new copies.
    pub fn low(&self) -> bool {
        self.left <= LOW_COPIES
    }
}

/// A format-2 package in the wallet and which of its copies were shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeldCopies {
    package: CopyPackage,
    /// One mark per copy, in the package's order: `true` once shown.
    spent: Vec<bool>,
}

impl HeldCopies {
    /// A package just received: no copy shown.
    pub fn new(package: CopyPackage) -> HeldCopies {
        let spent = vec![false; package.copies.len()];
        HeldCopies { package, spent }
    }

    /// A package with the marks read from a wallet file: bit `i % 8` (least significant
    /// first) of byte `i / 8` for copy `i`, exactly as many bytes as the copies need and
    /// no bit set past the last copy.
    pub(crate) fn from_bits(package: CopyPackage, bits: &[u8]) -> Result<HeldCopies, String> {
        let n = package.copies.len();
        if bits.len() != n.div_ceil(8) {
            return Err(format!(
                "{} bytes of marks for {n} copies, {} expected",
                bits.len(),
                n.div_ceil(8)
            ));
        }
        let bit = |i: usize| bits.get(i / 8).is_some_and(|b| b >> (i % 8) & 1 == 1);
        if (n..bits.len() * 8).any(bit) {
            return Err("a copy past the last one is marked".into());
        }
        let spent = (0..n).map(bit).collect();
        Ok(HeldCopies { package, spent })
    }

    /// The marks as the wallet file keeps them (see [`HeldCopies::from_bits`]).
    pub(crate) fn to_bits(&self) -> Vec<u8> {
        let mut bits = vec![0u8; self.spent.len().div_ceil(8)];
        for (i, _) in self.spent.iter().enumerate().filter(|(_, s)| **s) {
            if let Some(byte) = bits.get_mut(i / 8) {
                *byte |= 1 << (i % 8);
            }
        }
        bits
    }

    /// The package, as the department delivered it.
    pub fn package(&self) -> &CopyPackage {
        &self.package
    }

    /// Copies left and in all.
    pub fn count(&self) -> CopiesLeft {
        CopiesLeft {
            left: self.spent.iter().filter(|s| !**s).count(),
            total: self.spent.len(),
        }
    }

    /// Whether copy `copy` was shown (a copy the package lacks counts as shown).
    pub fn is_spent(&self, copy: usize) -> bool {
        self.spent.get(copy).copied().unwrap_or(true)
    }

    /// The copy to show next: the first not shown yet.
    pub fn next_unspent(&self) -> Option<usize> {
        self.spent.iter().position(|s| !*s)
    }

    /// The copy shown last: copies are shown in order, so the last one marked.
    pub fn last_spent(&self) -> Option<usize> {
        self.spent.iter().rposition(|s| *s)
    }

    /// The copy a presentation made now would show, or the last one shown when none is
    /// left: the one whose batch and status matter to the holder.
    pub fn current(&self) -> Option<usize> {
        self.next_unspent().or_else(|| self.last_spent())
    }

    /// The envelope of copy `copy`.
    pub fn envelope(&self, copy: usize) -> Option<&CopyEnvelope> {
        self.package.copies.get(copy)
    }

    /// Marks copy `copy` as shown.
    pub fn spend(&mut self, copy: usize) -> Result<(), WalletError> {
        let total = self.spent.len();
        let mark = self.spent.get_mut(copy).ok_or(WalletError::NoSuchCopy {
            copy,
            copies: total,
        })?;
        *mark = true;
        Ok(())
    }

    /// Marks as shown every copy of this package that `older` holds too (the same secret)
    /// and has shown: a new issue that repeats copies of the one it replaces must not
    /// show them again.
    pub(crate) fn keep_marks_of(&mut self, older: &HeldCopies) {
        for (copy, mark) in self.package.copies.iter().zip(self.spent.iter_mut()) {
            let shown = older
                .package
                .copies
                .iter()
                .zip(&older.spent)
                .any(|(old, spent)| *spent && old.secret == copy.secret);
            *mark |= shown;
        }
    }
}

/// The exact bytes the issuer signed for `envelope`, a copy of `package` held by the wallet
/// whose key is `wallet` ([`CopySignedData`], with the holder key derived from the wallet
/// key and the copy's secret). `None` when they cannot be built (no fields, a key that is
/// not a curve point).
pub fn signed_data(
    package: &CopyPackage,
    envelope: &CopyEnvelope,
    wallet: &PublicKeyBytes,
) -> Option<Vec<u8>> {
    ecert_verifier::refill::copy_signed_data(package, envelope, wallet)
}

/// The leaf of `envelope` in its batch, as the wallet with key `wallet` computes it.
pub fn leaf(
    package: &CopyPackage,
    envelope: &CopyEnvelope,
    wallet: &PublicKeyBytes,
) -> Option<Hash16> {
    let signed = signed_data(package, envelope, wallet)?;
    Some(copy_leaf(&signed, &envelope.signature.0))
}

/// The root of the batch `envelope` is in, from its leaf and audit path alone.
pub fn batch_root(
    package: &CopyPackage,
    envelope: &CopyEnvelope,
    wallet: &PublicKeyBytes,
) -> Option<Hash32> {
    let leaf = leaf(package, envelope, wallet)?;
    batch_root_from_path(&leaf, envelope.leaf_index, &envelope.path)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::HolderKey;
    use ecert_schemas::copy::{PackageField, PACKAGE_V2};
    use ecert_schemas::{
        CertificateId, CopySecret, FieldValue, IssuerId, KeyId, KindId, SignatureBytes,
        StatusIndex, UnixTime,
    };
    use ecert_verifier::crypto::{self, SigningContext};
    use ecert_verifier::merkle16::CopyTree;

    /// The issuer key of [`package`].
    pub(crate) fn issuer_key() -> ed25519_dalek::SigningKey {
        ed25519_dalek::SigningKey::from_bytes(&[5; 32])
    }

    /// A format-2 ID card of `holder` with id bytes `id`, valid `from..until`, carrying
    /// `fields` (number, text) of the id-card kind's fields (the others absent), as
    /// `copies` copies signed by [`issuer_key`] and put alone in one batch (number 4).
    pub(crate) fn package(
        holder: &PublicKeyBytes,
        id: [u8; 16],
        from: u64,
        until: u64,
        fields: &[(u16, &str)],
        copies: usize,
    ) -> CopyPackage {
        let kinds = ecert_schemas::KindRegistry::builtin().unwrap();
        let kind = kinds.get_str("id-card").unwrap();
        let fields: Vec<PackageField> = kind
            .fields
            .iter()
            .map(|f| PackageField {
                field: f.number,
                value: fields
                    .iter()
                    .find(|(n, _)| *n == f.number)
                    .map(|(_, v)| FieldValue::Text((*v).into())),
            })
            .collect();
        let issuer = issuer_key();
        let mut package = CopyPackage {
            version: PACKAGE_V2,
            id: CertificateId(id),
            issuer: IssuerId::new("public-security").unwrap(),
            key_id: KeyId::of(&crypto::public_key(&issuer)),
            kind: KindId::new("id-card").unwrap(),
            issued_at: UnixTime(from),
            valid_from: UnixTime(from),
            expires: UnixTime(until),
            fields,
            copies: Vec::new(),
        };
        for i in 0..copies {
            let mut secret = [0u8; 32];
            secret[..16].copy_from_slice(&id);
            secret[16..24].copy_from_slice(&(i as u64).to_be_bytes());
            package.copies.push(CopyEnvelope {
                secret: CopySecret(secret),
                batch_seq: 4,
                leaf_index: i as u64,
                path: Vec::new(),
                kind_index: 0,
                status_index: StatusIndex(1000 + i as u32),
                signature: SignatureBytes([0; 64]),
            });
        }
        let mut leaves = Vec::new();
        let view = package_view(&package);
        for envelope in &mut package.copies {
            let signed = signed_data(&view, envelope, holder).unwrap();
            envelope.signature = crypto::sign(&issuer, SigningContext::CopyIssue, &signed);
            leaves.push(copy_leaf(&signed, &envelope.signature.0));
        }
        let tree = CopyTree::new(&leaves);
        for (i, envelope) in package.copies.iter_mut().enumerate() {
            envelope.path = tree.audit_path(i as u64).unwrap();
        }
        package
    }

    /// The package without its copies (what [`signed_data`] reads of it).
    fn package_view(package: &CopyPackage) -> CopyPackage {
        CopyPackage {
            copies: Vec::new(),
            ..package.clone()
        }
    }

    #[test]
    fn marks_round_trip_through_bits_strictly() {
        let holder = HolderKey::generate(&mut rand_core::OsRng).public_key();
        let p = package(&holder, [1; 16], 1, 9, &[(0, "张伟")], 10);
        let mut held = HeldCopies::new(p.clone());
        assert_eq!(
            held.count(),
            CopiesLeft {
                left: 10,
                total: 10
            }
        );
        assert_eq!((held.next_unspent(), held.last_spent()), (Some(0), None));
        held.spend(0).unwrap();
        held.spend(9).unwrap();
        assert!(held.spend(10).is_err());
        assert_eq!(held.to_bits(), [0b0000_0001, 0b0000_0010]);
        assert_eq!(held.next_unspent(), Some(1));
        assert_eq!(held.last_spent(), Some(9));
        let again = HeldCopies::from_bits(p.clone(), &held.to_bits()).unwrap();
        assert_eq!(again, held);
        assert_eq!(again.count().left, 8);
        // Too few or too many bytes, a bit past the last copy.
        assert!(HeldCopies::from_bits(p.clone(), &[0]).is_err());
        assert!(HeldCopies::from_bits(p.clone(), &[0, 0, 0]).is_err());
        assert!(HeldCopies::from_bits(p.clone(), &[0, 0b0000_0100]).is_err());
        // All shown: the current copy is the last.
        for i in 0..10 {
            held.spend(i).unwrap();
        }
        assert_eq!(held.count().left, 0);
        assert!(held.count().low());
        assert_eq!((held.next_unspent(), held.current()), (None, Some(9)));
    }

    #[test]
    fn a_new_issue_keeps_the_marks_of_the_copies_it_repeats() {
        let holder = HolderKey::generate(&mut rand_core::OsRng).public_key();
        let small = package(&holder, [2; 16], 1, 9, &[(0, "张伟")], 3);
        let big = package(&holder, [2; 16], 1, 9, &[(0, "张伟")], 6);
        let mut old = HeldCopies::new(small);
        old.spend(1).unwrap();
        let mut new = HeldCopies::new(big);
        new.keep_marks_of(&old);
        assert_eq!(new.spent, [false, true, false, false, false, false]);
    }

    #[test]
    fn every_copy_leads_to_its_batchs_root_with_this_wallets_key_only() {
        let holder = HolderKey::generate(&mut rand_core::OsRng).public_key();
        let stranger = HolderKey::generate(&mut rand_core::OsRng).public_key();
        let p = package(&holder, [3; 16], 1, 9, &[(0, "张伟"), (5, "X")], 5);
        let roots: Vec<Option<Hash32>> = p
            .copies
            .iter()
            .map(|c| batch_root(&p, c, &holder))
            .collect();
        assert!(roots.iter().all(|r| r.is_some() && *r == roots[0]));
        let theirs: Vec<Option<Hash32>> = p
            .copies
            .iter()
            .map(|c| batch_root(&p, c, &stranger))
            .collect();
        assert!(theirs.iter().all(|r| r.is_some() && *r != roots[0]));
        assert_ne!(theirs[0], theirs[1]);
    }
}

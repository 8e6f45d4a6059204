//! The wallet's certificates on the ledger: the batch each one is in, found from its
//! package alone, the ledger's record of that batch checked against it, and its status in
//! a revocation state. What `ecert-wallet refresh` and the browser wallet check, with the
//! rules a counter applies.
//!
//! A certificate of one-time copies is looked at through its *current* copy (the one a
//! presentation made now would show, or the last one shown when none is left): its batch
//! is the one that matters to the holder's next presentation.

use ecert_schemas::ledger::BatchRecord;
use ecert_schemas::{Hash32, IssuerId, PublicKeyBytes, StatusIndex};
use ecert_verifier::merkle::{leaf_hash, root_from_path, verify_inclusion};
use ecert_verifier::merkle16::verify_copy_inclusion;
use thiserror::Error;

use crate::certs::{Entry, Form};
use crate::copies;

/// Why the ledger's record of a batch is not a certificate's own, as a counter would
/// refuse it.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum Mismatch {
    /// The certificate (or copy) is not in the batch the record describes.
    #[error("the certificate is not in the anchored batch")]
    NotInBatch,
    /// The batch was anchored by another department, or with another key.
    #[error(
        "the batch was anchored by {anchored_by} or with another key, not by the certificate's issuer {issuer} with its key"
    )]
    OtherSigner {
        /// Who anchored the batch.
        anchored_by: IssuerId,
        /// The certificate's issuer.
        issuer: IssuerId,
    },
    /// The batch did not declare the certificate's kind.
    #[error("the batch did not declare this certificate's kind")]
    OtherKind,
    /// The batch has another number in the ledger than the package gives.
    #[error("the batch is number {ledger} in the ledger, but the certificate file says {file}")]
    OtherNumber {
        /// Its number in the ledger's anchor log.
        ledger: u64,
        /// The number the package gives.
        file: u64,
    },
}

/// The root of the batch `entry` is in, from its package alone (format 2: its current
/// copy's, with the wallet key `wallet`); `None` when its proof is damaged.
pub fn batch_root(entry: &Entry<'_>, wallet: &PublicKeyBytes) -> Option<Hash32> {
    match &entry.form {
        Form::Whole { package, .. } => root_from_path(
            &leaf_hash(&package.certificate),
            package.anchor.leaf_index,
            &package.anchor.path,
        ),
        Form::Copies(held) => {
            let envelope = held.envelope(held.current()?)?;
            copies::batch_root(held.package(), envelope, wallet)
        }
    }
}

/// The number of `entry`'s batch in the ledger's anchor log, as its package gives it.
pub fn batch_seq(entry: &Entry<'_>) -> Option<u64> {
    match &entry.form {
        Form::Whole { package, .. } => Some(package.anchor.batch_seq),
        Form::Copies(held) => held
            .envelope(held.current()?)
            .map(|envelope| envelope.batch_seq),
    }
}

/// Whether `record`, the ledger's record of batch number `seq`, is `entry`'s batch as a
/// counter will check it: the certificate (format 2: its current copy, with the wallet
/// key `wallet`) is in the batch of the record's size, anchored by its issuer with its key
/// for its kind, as the batch number its package gives.
pub fn check_record(
    entry: &Entry<'_>,
    wallet: &PublicKeyBytes,
    record: &BatchRecord,
    seq: u64,
) -> Result<(), Mismatch> {
    let other_signer = || Mismatch::OtherSigner {
        anchored_by: record.issuer.clone(),
        issuer: entry.issuer().clone(),
    };
    let file = match &entry.form {
        Form::Whole {
            package,
            certificate,
        } => {
            let proof = &package.anchor;
            if !verify_inclusion(
                &leaf_hash(&package.certificate),
                proof.leaf_index,
                record.count,
                &proof.path,
                &record.batch_root,
            ) {
                return Err(Mismatch::NotInBatch);
            }
            if record.issuer != certificate.claims.issuer || record.key_id != certificate.key_id {
                return Err(other_signer());
            }
            if !record.kinds.contains(&certificate.claims.kind) {
                return Err(Mismatch::OtherKind);
            }
            proof.batch_seq
        }
        Form::Copies(held) => {
            let package = held.package();
            let envelope = held
                .current()
                .and_then(|copy| held.envelope(copy))
                .ok_or(Mismatch::NotInBatch)?;
            let leaf = copies::leaf(package, envelope, wallet).ok_or(Mismatch::NotInBatch)?;
            if !verify_copy_inclusion(
                &leaf,
                envelope.leaf_index,
                record.count,
                &envelope.path,
                &record.batch_root,
            ) {
                return Err(Mismatch::NotInBatch);
            }
            if record.issuer != package.issuer || record.key_id != package.key_id {
                return Err(other_signer());
            }
            if record.kinds.get(usize::from(envelope.kind_index)) != Some(&package.kind) {
                return Err(Mismatch::OtherKind);
            }
            envelope.batch_seq
        }
    };
    if seq != file {
        return Err(Mismatch::OtherNumber { ledger: seq, file });
    }
    Ok(())
}

/// Whether a revocation state (`is_revoked`: an issuer's status index revoked?) revokes
/// `entry`: its status index, or for one-time copies any copy's (a department revokes a
/// certificate by all its copies, and a counter refuses a revoked copy).
pub fn revoked(entry: &Entry<'_>, is_revoked: impl Fn(&IssuerId, StatusIndex) -> bool) -> bool {
    match &entry.form {
        Form::Whole { certificate, .. } => {
            is_revoked(&certificate.claims.issuer, certificate.claims.status_index)
        }
        Form::Copies(held) => held
            .package()
            .copies
            .iter()
            .any(|copy| is_revoked(&held.package().issuer, copy.status_index)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certs::entries;
    use crate::copies::tests::package as copy_package;
    use crate::copies::HeldCopies;
    use crate::store::Held;
    use crate::HolderKey;
    use ecert_schemas::{KeyId, KindId};
    use ecert_verifier::crypto;
    use rand_core::OsRng;

    #[test]
    fn a_copys_batch_is_found_and_checked_against_the_record() {
        let holder = HolderKey::generate(&mut OsRng).public_key();
        let package = copy_package(&holder, [1; 16], 1, 9, &[(0, "张伟")], 3);
        let mut held = HeldCopies::new(package.clone());
        held.spend(0).unwrap();
        let packages = vec![Held::Copies(held)];
        let all = entries(&packages).unwrap();
        let card = &all[0];
        let root = batch_root(card, &holder).unwrap();
        assert_eq!(batch_seq(card), Some(4));
        let record = BatchRecord {
            issuer: package.issuer.clone(),
            key_id: KeyId::of(&crypto::public_key(&crate::copies::tests::issuer_key())),
            kinds: vec![KindId::new("id-card").unwrap()],
            batch_root: root,
            count: 3,
            height: 7,
            time_ms: 1_000,
        };
        assert_eq!(check_record(card, &holder, &record, 4), Ok(()));
        assert_eq!(
            check_record(card, &holder, &record, 5),
            Err(Mismatch::OtherNumber { ledger: 5, file: 4 })
        );
        let stranger = HolderKey::generate(&mut OsRng).public_key();
        assert_eq!(
            check_record(card, &stranger, &record, 4),
            Err(Mismatch::NotInBatch)
        );
        let smaller = BatchRecord {
            count: 2,
            ..record.clone()
        };
        assert_eq!(
            check_record(card, &holder, &smaller, 4),
            Err(Mismatch::NotInBatch)
        );
        let other_kind = BatchRecord {
            kinds: vec![KindId::new("driver-licence").unwrap()],
            ..record.clone()
        };
        assert_eq!(
            check_record(card, &holder, &other_kind, 4),
            Err(Mismatch::OtherKind)
        );
        let other_key = BatchRecord {
            key_id: KeyId([0; 8]),
            ..record
        };
        assert!(matches!(
            check_record(card, &holder, &other_key, 4),
            Err(Mismatch::OtherSigner { .. })
        ));
        // Revoked when any copy is.
        let third = package.copies[2].status_index;
        assert!(revoked(card, |_, index| index == third));
        assert!(!revoked(card, |_, _| false));
    }
}

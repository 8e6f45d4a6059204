//! Freshness statements: how a counter's or wallet's revocation data stays current on a
//! ledger with no new blocks.
//!
//! Validators sign, every few minutes, that a certified header is still the newest they
//! hold (`ecert_schemas::freshness`). Held by a quorum, such statements make the data of
//! that header current as of the time the quorum vouches for: the time that more than two
//! thirds of the validator set signed at or after. Since fewer than a third of the
//! validators may be faulty, at least one correct validator is among them, so the data was
//! indeed current then. Extra stale votes do not lower it; one validator's clock running
//! ahead does not raise it.

use ecert_schemas::freshness::{Freshness, FreshnessStatement, FreshnessVote};
use ecert_schemas::ledger::{BlockHeader, Checkpoint, ValidatorInfo};
use ecert_schemas::{ChainId, Hash32, SignatureBytes, UnixTime};
use ed25519_dalek::SigningKey;

use crate::checkpoint::is_quorum;
use crate::commit;
use crate::crypto::{self, SigningContext};
use crate::VerifyError;

/// The certified header a freshness proof must speak of: the one the holder's revocation
/// data is of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeldHeader<'a> {
    /// Its ledger.
    pub chain_id: &'a ChainId,
    /// Its height.
    pub height: u64,
    /// SHA-256 of its encoding.
    pub hash: Hash32,
}

impl<'a> HeldHeader<'a> {
    /// The header `checkpoint` certifies, decoded as `header` (for data checked against
    /// a checkpoint, such as a revocation delta accepted by `verify_revocation_delta`).
    pub fn of_checkpoint(header: &'a BlockHeader, checkpoint: &Checkpoint) -> HeldHeader<'a> {
        HeldHeader {
            chain_id: &header.chain_id,
            height: header.height,
            hash: commit::header_hash(&checkpoint.header),
        }
    }
}

/// A checked freshness proof.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fresh {
    /// The time the data is current as of (whole seconds).
    pub as_of: UnixTime,
    /// How many validators' statements were checked.
    pub signed: usize,
}

/// How long after its time a new block may lack a quorum of freshness statements without
/// that being a fault: validators state freshness as soon as they certify a block.
pub const FRESHNESS_GRACE_SECS: u64 = 60;

/// Whether a missing quorum of freshness statements about a header of `header_time`
/// means, at `now`, that the ledger has stopped confirming freshness (more than a third of
/// the validators down or cut off), rather than that the block is too new to have them.
pub fn freshness_lost(header_time: UnixTime, now: UnixTime) -> bool {
    now.secs().saturating_sub(header_time.secs()) > FRESHNESS_GRACE_SECS
}

/// The smallest number of validators, out of `validators`, that is more than two thirds.
pub fn quorum_size(validators: usize) -> usize {
    validators.saturating_mul(2) / 3 + 1
}

/// Signs validator `validator`'s freshness statement.
pub fn sign_statement(
    key: &SigningKey,
    validator: u16,
    statement: &FreshnessStatement,
) -> Result<FreshnessVote, VerifyError> {
    Ok(FreshnessVote {
        validator,
        time_ms: statement.time_ms,
        signature: crypto::sign(key, SigningContext::Freshness, &statement.to_bytes()?),
    })
}

/// Whether `signature` is `validators[validator]`'s signature over `statement`.
pub fn statement_signed_by(
    validators: &[ValidatorInfo],
    validator: u16,
    statement: &FreshnessStatement,
    signature: &SignatureBytes,
) -> bool {
    let Ok(bytes) = statement.to_bytes() else {
        return false;
    };
    validators
        .get(usize::from(validator))
        .and_then(|v| crypto::parse_public_key(&v.key))
        .is_some_and(|key| crypto::verify(&key, SigningContext::Freshness, &bytes, signature))
}

/// Checks `freshness` against the header the holder's data is of, signed by `validators`
/// (the set that certified that header), in order:
///
/// 1. it is of the same ledger, height and header hash, else
///    [`VerifyError::TrustDataMismatch`];
/// 2. votes come from distinct validators of the set in ascending order and each
///    signature verifies (context `ecert/v1/freshness`), else
///    [`VerifyError::TrustDataMismatch`];
/// 3. more than two thirds of the set signed, else [`VerifyError::FreshnessNotConfirmed`].
///
/// Returns the time the data is current as of: the newest time that a quorum of the votes
/// are at or after, in whole seconds.
pub fn verify_freshness(
    freshness: &Freshness,
    validators: &[ValidatorInfo],
    held: HeldHeader<'_>,
) -> Result<Fresh, VerifyError> {
    let mismatch = |detail: String| VerifyError::TrustDataMismatch { detail };
    if &freshness.chain_id != held.chain_id {
        return Err(mismatch(format!(
            "the freshness statements are for ledger {}, the data for ledger {}",
            freshness.chain_id, held.chain_id
        )));
    }
    if freshness.height != held.height || freshness.header_hash != held.hash {
        return Err(mismatch(format!(
            "the freshness statements are about block #{}, the data held is of block #{}",
            freshness.height, held.height
        )));
    }
    let mut previous: Option<u16> = None;
    for vote in &freshness.votes {
        if previous.is_some_and(|p| vote.validator <= p) {
            return Err(mismatch(
                "freshness statements are repeated or out of order".into(),
            ));
        }
        previous = Some(vote.validator);
        let statement = freshness.statement(vote);
        if !statement_signed_by(validators, vote.validator, &statement, &vote.signature) {
            return Err(mismatch(format!(
                "the freshness statement of validator #{} does not verify",
                vote.validator
            )));
        }
    }
    let signed = freshness.votes.len();
    if !is_quorum(signed, validators.len()) {
        return Err(VerifyError::FreshnessNotConfirmed {
            signed,
            validators: validators.len(),
            height: held.height,
        });
    }
    let mut times: Vec<u64> = freshness.votes.iter().map(|v| v.time_ms).collect();
    times.sort_unstable_by(|a, b| b.cmp(a));
    let vouched_ms = times
        .get(quorum_size(validators.len()).saturating_sub(1))
        .copied()
        .unwrap_or(0);
    Ok(Fresh {
        as_of: UnixTime(vouched_ms / 1000),
        signed,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn keys(n: u8) -> Vec<SigningKey> {
        (0..n)
            .map(|i| SigningKey::from_bytes(&[i + 1; 32]))
            .collect()
    }

    fn set(keys: &[SigningKey]) -> Vec<ValidatorInfo> {
        keys.iter()
            .enumerate()
            .map(|(i, k)| ValidatorInfo {
                department: ecert_schemas::IssuerId::new(format!("dept-{i}")).unwrap(),
                key: crypto::public_key(k),
            })
            .collect()
    }

    fn chain() -> ChainId {
        ChainId::new("ecert-freshness").unwrap()
    }

    /// Freshness signed by `signers` at the given times (ms).
    fn signed(keys: &[SigningKey], signers: &[(u16, u64)]) -> Freshness {
        let mut f = Freshness {
            chain_id: chain(),
            height: 9,
            header_hash: Hash32([7; 32]),
            votes: vec![],
        };
        for &(v, time_ms) in signers {
            let statement = FreshnessStatement {
                chain_id: chain(),
                height: f.height,
                header_hash: f.header_hash,
                time_ms,
            };
            f.votes
                .push(sign_statement(&keys[usize::from(v)], v, &statement).unwrap());
        }
        f
    }

    fn held(chain: &ChainId) -> HeldHeader<'_> {
        HeldHeader {
            chain_id: chain,
            height: 9,
            hash: Hash32([7; 32]),
        }
    }

    #[test]
    fn a_missing_quorum_is_a_fault_only_after_the_grace() {
        let header = UnixTime(1_000);
        assert!(!freshness_lost(
            header,
            UnixTime(1_000 + FRESHNESS_GRACE_SECS)
        ));
        assert!(freshness_lost(
            header,
            UnixTime(1_001 + FRESHNESS_GRACE_SECS)
        ));
        assert!(
            !freshness_lost(header, UnixTime(900)),
            "a clock behind the block"
        );
    }

    #[test]
    fn smallest_quorum_is_more_than_two_thirds() {
        for n in 1..50 {
            let q = quorum_size(n);
            assert!(is_quorum(q, n));
            assert!(!is_quorum(q - 1, n));
        }
    }

    #[test]
    fn a_quorum_vouches_for_the_time_a_quorum_reached() {
        let k = keys(4);
        let c = chain();
        // Three of four needed: the third newest time counts.
        let f = signed(
            &k,
            &[
                (0, 1_000_000),
                (1, 5_000_000),
                (2, 3_000_999),
                (3, 9_000_000),
            ],
        );
        let fresh = verify_freshness(&f, &set(&k), held(&c)).unwrap();
        assert_eq!(fresh.as_of, UnixTime(3_000));
        assert_eq!(fresh.signed, 4);
        // One clock far ahead does not raise it.
        let f = signed(&k, &[(0, 2_000_000), (1, 2_000_000), (2, 99_000_000)]);
        assert_eq!(
            verify_freshness(&f, &set(&k), held(&c)).unwrap().as_of,
            UnixTime(2_000)
        );
    }

    #[test]
    fn too_few_statements_are_their_own_reason() {
        let k = keys(4);
        let c = chain();
        let f = signed(&k, &[(0, 1_000_000), (3, 1_000_000)]);
        let e = verify_freshness(&f, &set(&k), held(&c)).unwrap_err();
        assert_eq!(e.code(), "freshness-not-confirmed");
        assert!(e.to_string().contains("2 of 4"), "{e}");
    }

    #[test]
    fn forged_repeated_or_foreign_statements_are_refused() {
        let k = keys(4);
        let c = chain();
        let good = signed(&k, &[(0, 1_000), (1, 1_000), (2, 1_000)]);
        assert!(verify_freshness(&good, &set(&k), held(&c)).is_ok());

        let mut forged = good.clone();
        forged.votes[1].time_ms += 1;
        assert_eq!(
            verify_freshness(&forged, &set(&k), held(&c))
                .unwrap_err()
                .code(),
            "trust-data-mismatch"
        );

        let mut repeated = good.clone();
        repeated.votes[2] = repeated.votes[1].clone();
        assert!(verify_freshness(&repeated, &set(&k), held(&c)).is_err());

        let mut unknown = good.clone();
        unknown.votes[2].validator = 9;
        assert!(verify_freshness(&unknown, &set(&k), held(&c)).is_err());

        // Signed by other keys than the set's.
        let others = keys(8)[4..].to_vec();
        let foreign = signed(&others, &[(0, 1_000), (1, 1_000), (2, 1_000)]);
        assert!(verify_freshness(&foreign, &set(&k), held(&c)).is_err());

        let other_chain = ChainId::new("elsewhere").unwrap();
        assert!(verify_freshness(&good, &set(&k), held(&other_chain)).is_err());
        let newer = HeldHeader {
            height: 10,
            ..held(&c)
        };
        assert!(verify_freshness(&good, &set(&k), newer).is_err());
        let other_hash = HeldHeader {
            hash: Hash32([8; 32]),
            ..held(&c)
        };
        assert!(verify_freshness(&good, &set(&k), other_hash).is_err());
    }

    #[test]
    fn a_header_vote_is_not_a_freshness_statement() {
        let k = keys(1);
        let statement = FreshnessStatement {
            chain_id: chain(),
            height: 9,
            header_hash: Hash32([7; 32]),
            time_ms: 1,
        };
        let bytes = statement.to_bytes().unwrap();
        let vote_sig = crypto::sign(&k[0], SigningContext::HeaderVote, &bytes);
        assert!(!statement_signed_by(&set(&k), 0, &statement, &vote_sig));
    }

    #[test]
    fn the_held_header_of_a_checkpoint_is_the_hash_of_its_signed_bytes() {
        let header = BlockHeader {
            chain_id: chain(),
            height: 9,
            prev_hash: Hash32([1; 32]),
            time_ms: 1_000,
            txs_root: Hash32([2; 32]),
            anchors_root: Hash32([3; 32]),
            anchor_count: 4,
            revocation_root: Hash32([5; 32]),
            registry_root: Hash32([6; 32]),
            validators_hash: Hash32([7; 32]),
        };
        let bytes = header.to_bytes().unwrap();
        let checkpoint = Checkpoint {
            header: bytes.clone().into(),
            votes: vec![],
        };
        let held = HeldHeader::of_checkpoint(&header, &checkpoint);
        assert_eq!(held.chain_id, &header.chain_id);
        assert_eq!(held.height, 9);
        assert_eq!(held.hash, commit::header_hash(&bytes));
    }
}

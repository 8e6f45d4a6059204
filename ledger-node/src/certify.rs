//! Block certification: each validator signs the header of every committed block, and a
//! header with votes from more than two thirds of the validators is certified.

use ecert_schemas::codec::ByteBuf;
use ecert_schemas::ledger::{Checkpoint, Vote};
use ecert_verifier::checkpoint::is_quorum;
use ecert_verifier::crypto::{self, SigningContext};
use ed25519_dalek::SigningKey;

/// A validator's vote on a header's exact bytes.
pub fn sign_vote(key: &SigningKey, validator: u16, header_bytes: &[u8]) -> Vote {
    Vote {
        validator,
        signature: crypto::sign(key, SigningContext::HeaderVote, header_bytes),
    }
}

/// Validators' signatures (a checkpoint's votes, a governance change's approvals) sorted
/// by `validator`, one per validator, if they are a quorum of `validator_count`; `None`
/// while they are not.
pub(crate) fn quorum<T>(
    mut signatures: Vec<T>,
    validator: impl Fn(&T) -> u16,
    validator_count: usize,
) -> Option<Vec<T>> {
    signatures.sort_by_key(&validator);
    signatures.dedup_by_key(|s| validator(s));
    is_quorum(signatures.len(), validator_count).then_some(signatures)
}

/// Assembles a checkpoint from votes (sorted by validator, one per validator), or `None`
/// while they are not yet a quorum of `validator_count`.
pub fn assemble_checkpoint(
    header_bytes: &[u8],
    votes: Vec<Vote>,
    validator_count: usize,
) -> Option<Checkpoint> {
    Some(Checkpoint {
        header: ByteBuf::from(header_bytes.to_vec()),
        votes: quorum(votes, |v| v.validator, validator_count)?,
    })
}

/// Whether `vote` is a valid vote of one of `validators` on `header_bytes`.
pub fn vote_is_valid(
    validators: &[ecert_schemas::ledger::ValidatorInfo],
    header_bytes: &[u8],
    vote: &Vote,
) -> bool {
    validators
        .get(usize::from(vote.validator))
        .and_then(|v| crypto::parse_public_key(&v.key))
        .is_some_and(|key| {
            crypto::verify(
                &key,
                SigningContext::HeaderVote,
                header_bytes,
                &vote.signature,
            )
        })
}

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

/// Assembles a checkpoint from votes (sorted by validator, one per validator), or `None`
/// while they are not yet a quorum of `validator_count`.
pub fn assemble_checkpoint(
    header_bytes: &[u8],
    mut votes: Vec<Vote>,
    validator_count: usize,
) -> Option<Checkpoint> {
    votes.sort_by_key(|v| v.validator);
    votes.dedup_by_key(|v| v.validator);
    if !is_quorum(votes.len(), validator_count) {
        return None;
    }
    Some(Checkpoint {
        header: ByteBuf::from(header_bytes.to_vec()),
        votes,
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

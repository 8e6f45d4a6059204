//! Checkpoint certification: a header signed by more than two thirds of the validator set.

use ecert_schemas::ledger::{BlockHeader, Checkpoint, ValidatorInfo};

use crate::crypto::{self, SigningContext};
use crate::{commit, VerifyError};

/// Whether `signers` out of `validators` is a certifying quorum: strictly more than 2/3.
pub fn is_quorum(signers: usize, validators: usize) -> bool {
    validators > 0 && signers.saturating_mul(3) > validators.saturating_mul(2)
}

/// Verifies that `checkpoint` is certified by `validators`: the header commits to this
/// validator set, votes come from distinct validators in ascending order, every vote
/// verifies, and there are more than two thirds of them. Returns the decoded header.
pub fn verify_checkpoint(
    checkpoint: &Checkpoint,
    validators: &[ValidatorInfo],
) -> Result<BlockHeader, VerifyError> {
    let not_certified = |detail: String| VerifyError::HeaderNotCertified { detail };
    let header = checkpoint.decode_header()?;
    if commit::validators_hash(validators)? != header.validators_hash {
        return Err(not_certified(format!(
            "header {} was certified by a validator set this counter does not know",
            header.height
        )));
    }
    let mut previous: Option<u16> = None;
    for vote in &checkpoint.votes {
        if previous.is_some_and(|p| vote.validator <= p) {
            return Err(not_certified("votes are repeated or out of order".into()));
        }
        previous = Some(vote.validator);
        let validator = validators.get(usize::from(vote.validator)).ok_or_else(|| {
            not_certified(format!("vote from unknown validator #{}", vote.validator))
        })?;
        let key = crypto::parse_public_key(&validator.key).ok_or_else(|| {
            not_certified(format!(
                "validator {} has an invalid key",
                validator.department
            ))
        })?;
        if !crypto::verify(
            &key,
            SigningContext::HeaderVote,
            &checkpoint.header,
            &vote.signature,
        ) {
            return Err(not_certified(format!(
                "the vote of validator {} does not verify",
                validator.department
            )));
        }
    }
    if !is_quorum(checkpoint.votes.len(), validators.len()) {
        return Err(not_certified(format!(
            "{} of {} validators signed; more than two thirds are needed",
            checkpoint.votes.len(),
            validators.len()
        )));
    }
    Ok(header)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quorum_is_more_than_two_thirds() {
        assert!(!is_quorum(0, 0));
        assert!(is_quorum(1, 1));
        assert!(!is_quorum(2, 3) || is_quorum(3, 3));
        assert!(!is_quorum(2, 3));
        assert!(is_quorum(3, 4));
        assert!(!is_quorum(2, 4));
        assert!(is_quorum(5, 7));
        assert!(!is_quorum(4, 7));
    }
}

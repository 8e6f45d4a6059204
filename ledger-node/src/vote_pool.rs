//! The votes a validator holds for headers not yet certified: votes in, checkpoints out.
//!
//! Pure: no storage, no clock, no network. The node's certifier (`node::certifier`) keeps
//! one [`VotePool`] behind a lock, persists the checkpoints it assembles and tells it which
//! heights are certified.
//!
//! For each uncertified height the pool holds the header this node applied there (once it
//! has), one valid vote per validator on exactly that header, and a few votes that arrived
//! before the header ("early" votes, checked when the header comes). A vote that is not a
//! validator's valid signature on the header this node applied is not counted: a vote for
//! a different header at the same height never helps certify this one.

use std::collections::BTreeMap;

use ecert_schemas::ledger::{Checkpoint, ValidatorInfo, Vote};

use crate::certify::{assemble_checkpoint, vote_is_valid};

/// How much the pool holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolLimits {
    /// How far above the applied height early votes are kept.
    pub early_window: u64,
    /// Most uncertified heights held; beyond it, the lowest heights are dropped.
    pub max_pending: usize,
}

impl Default for PoolLimits {
    fn default() -> PoolLimits {
        PoolLimits {
            early_window: 10_000,
            max_pending: 4_096,
        }
    }
}

/// What became of one vote given to [`VotePool::on_vote`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VoteStatus {
    /// A valid vote on the header this node applied at that height: counted.
    Counted,
    /// The header is not applied here yet: kept to be checked when it is.
    Early,
    /// Not a valid vote of a validator on the header this node applied there.
    Invalid,
    /// Outside what the pool keeps (too far ahead, at a height it no longer holds, or too
    /// many early votes for the height): dropped.
    Dropped,
}

/// The answer to a vote from a peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VoteOutcome {
    /// What became of the vote.
    pub status: VoteStatus,
    /// The valid votes held for that height after it (this node's own included).
    pub known: Vec<Vote>,
    /// The height's checkpoint, when the votes now make a quorum.
    pub checkpoint: Option<Checkpoint>,
}

#[derive(Default)]
struct Pending {
    header: Option<Vec<u8>>,
    votes: BTreeMap<u16, Vote>,
    early: Vec<Vote>,
}

/// The votes held by validator `me` for uncertified heights.
pub struct VotePool {
    validators: Vec<ValidatorInfo>,
    me: u16,
    limits: PoolLimits,
    pending: BTreeMap<u64, Pending>,
    applied_height: u64,
}

impl VotePool {
    /// An empty pool of validator `me` among `validators`, with the default limits.
    pub fn new(validators: Vec<ValidatorInfo>, me: u16) -> VotePool {
        VotePool::with_limits(validators, me, PoolLimits::default())
    }

    /// An empty pool with the given limits.
    pub fn with_limits(validators: Vec<ValidatorInfo>, me: u16, limits: PoolLimits) -> VotePool {
        VotePool {
            validators,
            me,
            limits,
            pending: BTreeMap::new(),
            applied_height: 0,
        }
    }

    /// The highest height this node applied (as told).
    pub fn applied_height(&self) -> u64 {
        self.applied_height
    }

    /// How many uncertified heights the pool holds.
    pub fn pending_heights(&self) -> usize {
        self.pending.len()
    }

    fn early_limit(&self) -> usize {
        self.validators.len().saturating_mul(2)
    }

    /// This node applied `height` with `header` and signed `own` on it. The early votes
    /// for that height are checked against the header; returns the checkpoint when the
    /// votes make a quorum. The lowest heights beyond the limit are dropped.
    pub fn on_applied(&mut self, height: u64, header: &[u8], own: Vote) -> Option<Checkpoint> {
        self.applied_height = self.applied_height.max(height);
        let validators = &self.validators;
        let pending = self.pending.entry(height).or_default();
        pending.header = Some(header.to_vec());
        pending.votes.insert(own.validator, own);
        for early in std::mem::take(&mut pending.early) {
            if vote_is_valid(validators, header, &early) {
                pending.votes.insert(early.validator, early);
            }
        }
        let checkpoint = self.assemble(height);
        while self.pending.len() > self.limits.max_pending {
            if self.pending.pop_first().is_none() {
                break;
            }
        }
        checkpoint
    }

    /// This node applied `height`, which is already certified: nothing is held for it.
    pub fn on_applied_certified(&mut self, height: u64) {
        self.applied_height = self.applied_height.max(height);
        self.pending.remove(&height);
    }

    /// A vote from a peer on `height`.
    pub fn on_vote(&mut self, height: u64, vote: Vote) -> VoteOutcome {
        let early_limit = self.early_limit();
        let applied = self.applied_height;
        let in_window =
            height > applied && height <= applied.saturating_add(self.limits.early_window);
        if !in_window && !self.pending.contains_key(&height) {
            return VoteOutcome {
                status: VoteStatus::Dropped,
                known: Vec::new(),
                checkpoint: None,
            };
        }
        let pending = self.pending.entry(height).or_default();
        let status = match &pending.header {
            Some(header) if vote_is_valid(&self.validators, header, &vote) => {
                pending.votes.insert(vote.validator, vote);
                VoteStatus::Counted
            }
            Some(_) => VoteStatus::Invalid,
            None if pending.early.len() < early_limit => {
                pending.early.push(vote);
                VoteStatus::Early
            }
            None => VoteStatus::Dropped,
        };
        let known = pending.votes.values().cloned().collect();
        VoteOutcome {
            status,
            known,
            checkpoint: self.assemble(height),
        }
    }

    /// `height` is certified (its checkpoint was stored or imported): its votes are no
    /// longer held.
    pub fn certified(&mut self, height: u64) {
        self.pending.remove(&height);
    }

    /// This node's own votes for heights not yet certified, highest first, at most `most`
    /// (to spread again).
    pub fn own_uncertified_votes(&self, most: usize) -> Vec<(u64, Vote)> {
        self.pending
            .iter()
            .rev()
            .filter_map(|(h, p)| p.votes.get(&self.me).map(|v| (*h, v.clone())))
            .take(most)
            .collect()
    }

    fn assemble(&self, height: u64) -> Option<Checkpoint> {
        let pending = self.pending.get(&height)?;
        let header = pending.header.as_ref()?;
        let votes = pending.votes.values().cloned().collect();
        assemble_checkpoint(header, votes, self.validators.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certify::sign_vote;
    use ecert_schemas::IssuerId;
    use ecert_verifier::checkpoint::verify_checkpoint;
    use ecert_verifier::crypto;
    use ed25519_dalek::SigningKey;

    struct Validators {
        keys: Vec<SigningKey>,
        infos: Vec<ValidatorInfo>,
    }

    fn validators(n: u8) -> Validators {
        let keys: Vec<SigningKey> = (1..=n).map(|i| SigningKey::from_bytes(&[i; 32])).collect();
        let infos = keys
            .iter()
            .enumerate()
            .map(|(i, k)| ValidatorInfo {
                department: IssuerId::new(format!("dept-{i}")).unwrap(),
                key: crypto::public_key(k),
            })
            .collect();
        Validators { keys, infos }
    }

    /// A header of the test ledger at `height` (real encoding, so checkpoints verify).
    fn header(v: &Validators, height: u64, variant: u8) -> Vec<u8> {
        ecert_schemas::ledger::BlockHeader {
            chain_id: ecert_schemas::ChainId::new("ecert-test").unwrap(),
            height,
            prev_hash: ecert_schemas::Hash32([variant; 32]),
            time_ms: 1_790_000_000_000 + height,
            txs_root: ecert_schemas::Hash32([1; 32]),
            anchors_root: ecert_schemas::Hash32([2; 32]),
            anchor_count: height,
            revocation_root: ecert_schemas::Hash32([3; 32]),
            registry_root: ecert_schemas::Hash32([4; 32]),
            validators_hash: ecert_verifier::commit::validators_hash(&v.infos).unwrap(),
        }
        .to_bytes()
        .unwrap()
    }

    fn vote(v: &Validators, i: u16, header: &[u8]) -> Vote {
        sign_vote(&v.keys[usize::from(i)], i, header)
    }

    fn pool(v: &Validators) -> VotePool {
        VotePool::new(v.infos.clone(), 0)
    }

    /// Validator 0's pool, keeping early votes up to `early_window` heights ahead and at
    /// most `max_pending` heights.
    fn pool_within(v: &Validators, early_window: u64, max_pending: usize) -> VotePool {
        let limits = PoolLimits {
            early_window,
            max_pending,
        };
        VotePool::with_limits(v.infos.clone(), 0, limits)
    }

    #[test]
    fn certifies_with_more_than_two_thirds_and_not_before() {
        let v = validators(4);
        let mut pool = pool(&v);
        let h = header(&v, 1, 0);
        assert_eq!(pool.on_applied(1, &h, vote(&v, 0, &h)), None);
        let second = pool.on_vote(1, vote(&v, 1, &h));
        assert_eq!(second.status, VoteStatus::Counted);
        assert_eq!(second.known.len(), 2);
        assert_eq!(second.checkpoint, None, "2 of 4 is not more than 2/3");
        let third = pool.on_vote(1, vote(&v, 3, &h));
        let checkpoint = third.checkpoint.expect("3 of 4 certifies");
        assert_eq!(
            checkpoint
                .votes
                .iter()
                .map(|v| v.validator)
                .collect::<Vec<_>>(),
            vec![0, 1, 3]
        );
        assert_eq!(verify_checkpoint(&checkpoint, &v.infos).unwrap().height, 1);
        pool.certified(1);
        assert_eq!(pool.pending_heights(), 0);
        assert!(pool.own_uncertified_votes(10).is_empty());
    }

    #[test]
    fn a_repeated_vote_counts_once() {
        let v = validators(4);
        let mut pool = pool(&v);
        let h = header(&v, 1, 0);
        pool.on_applied(1, &h, vote(&v, 0, &h));
        for _ in 0..3 {
            let out = pool.on_vote(1, vote(&v, 2, &h));
            assert_eq!(out.status, VoteStatus::Counted);
            assert_eq!(out.known.len(), 2);
            assert_eq!(out.checkpoint, None);
        }
    }

    #[test]
    fn votes_of_non_validators_and_forged_votes_are_not_counted() {
        let v = validators(4);
        let outsider = SigningKey::from_bytes(&[99; 32]);
        let mut pool = pool(&v);
        let h = header(&v, 1, 0);
        pool.on_applied(1, &h, vote(&v, 0, &h));
        // An index beyond the validator set.
        let out = pool.on_vote(1, sign_vote(&outsider, 7, &h));
        assert_eq!(out.status, VoteStatus::Invalid);
        // A validator's index with someone else's signature.
        let out = pool.on_vote(1, sign_vote(&outsider, 1, &h));
        assert_eq!(out.status, VoteStatus::Invalid);
        assert_eq!(out.known.len(), 1);
        pool.on_vote(1, vote(&v, 1, &h));
        assert_eq!(
            pool.on_vote(1, vote(&v, 2, &h))
                .checkpoint
                .map(|c| c.votes.len()),
            Some(3)
        );
    }

    #[test]
    fn votes_for_another_header_at_the_height_never_count() {
        let v = validators(4);
        let mut pool = pool(&v);
        let mine = header(&v, 1, 0);
        let other = header(&v, 1, 9);
        pool.on_applied(1, &mine, vote(&v, 0, &mine));
        for i in 1..4 {
            let out = pool.on_vote(1, vote(&v, i, &other));
            assert_eq!(out.status, VoteStatus::Invalid);
            assert_eq!(out.checkpoint, None);
        }
        // Early votes for the other header are dropped when this node's header comes.
        let mut pool = self::pool(&v);
        for i in 1..4 {
            assert_eq!(
                pool.on_vote(1, vote(&v, i, &other)).status,
                VoteStatus::Early
            );
        }
        assert_eq!(pool.on_applied(1, &mine, vote(&v, 0, &mine)), None);
        assert_eq!(pool.own_uncertified_votes(10).len(), 1);
    }

    #[test]
    fn votes_before_the_header_are_kept_and_checked_when_it_is_applied() {
        let v = validators(4);
        let mut pool = pool(&v);
        let (h1, h2) = (header(&v, 1, 0), header(&v, 2, 0));
        // Height 2's votes arrive before this node applied height 1 or 2.
        assert_eq!(pool.on_vote(2, vote(&v, 1, &h2)).status, VoteStatus::Early);
        assert_eq!(pool.on_vote(2, vote(&v, 2, &h2)).status, VoteStatus::Early);
        assert_eq!(pool.on_applied(1, &h1, vote(&v, 0, &h1)), None);
        let checkpoint = pool.on_applied(2, &h2, vote(&v, 0, &h2)).unwrap();
        assert_eq!(verify_checkpoint(&checkpoint, &v.infos).unwrap().height, 2);
        pool.certified(2);
        // Height 1 is still open, and certifies after height 2.
        assert_eq!(pool.own_uncertified_votes(10).len(), 1);
        pool.on_vote(1, vote(&v, 3, &h1));
        assert!(pool.on_vote(1, vote(&v, 2, &h1)).checkpoint.is_some());
    }

    #[test]
    fn early_votes_are_bounded_by_window_and_count() {
        let v = validators(4);
        let mut pool = pool_within(&v, 5, 100);
        let h = header(&v, 6, 0);
        assert_eq!(pool.on_vote(6, vote(&v, 1, &h)).status, VoteStatus::Dropped);
        assert_eq!(pool.on_vote(5, vote(&v, 1, &h)).status, VoteStatus::Early);
        for _ in 1..8 {
            assert_eq!(pool.on_vote(5, vote(&v, 1, &h)).status, VoteStatus::Early);
        }
        assert_eq!(pool.on_vote(5, vote(&v, 1, &h)).status, VoteStatus::Dropped);
        // Below or at the applied height, a height not held is not reopened.
        let h1 = header(&v, 1, 0);
        pool.on_applied_certified(1);
        assert_eq!(
            pool.on_vote(1, vote(&v, 1, &h1)).status,
            VoteStatus::Dropped
        );
        assert_eq!(pool.applied_height(), 1);
    }

    #[test]
    fn the_lowest_heights_are_pruned_beyond_the_limit() {
        let v = validators(4);
        let mut pool = pool_within(&v, 100, 3);
        for height in 1..=5 {
            let h = header(&v, height, 0);
            pool.on_applied(height, &h, vote(&v, 0, &h));
        }
        assert_eq!(pool.pending_heights(), 3);
        let heights: Vec<u64> = pool
            .own_uncertified_votes(10)
            .iter()
            .map(|(h, _)| *h)
            .collect();
        assert_eq!(heights, vec![5, 4, 3]);
        assert_eq!(pool.own_uncertified_votes(2).len(), 2);
        // A pruned height is not reopened by late votes.
        let h1 = header(&v, 1, 0);
        assert_eq!(
            pool.on_vote(1, vote(&v, 1, &h1)).status,
            VoteStatus::Dropped
        );
    }

    #[test]
    fn a_certified_height_already_stored_is_not_held() {
        let v = validators(4);
        let mut pool = pool(&v);
        let h = header(&v, 1, 0);
        pool.on_vote(1, vote(&v, 1, &h));
        pool.on_applied_certified(1);
        assert_eq!(pool.pending_heights(), 0);
        assert_eq!(pool.applied_height(), 1);
    }
}

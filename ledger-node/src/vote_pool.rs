//! The votes a node holds for headers not yet certified: votes in, checkpoints out.
//!
//! Pure: no storage, no clock, no network. The node's certifier (`node::certifier`) keeps
//! one [`VotePool`] behind a lock, persists the checkpoints it assembles and tells it which
//! heights are certified.
//!
//! The validator set changes by governance, so each height is certified by its own set
//! ([`ValidatorSets`]): the set before a change certifies the block that holds it, the new
//! set every block after. Positions (a vote's `validator`) are positions in the set of the
//! vote's height, and this node's own position is looked up per height from its key: a
//! node outside the set of a height holds the others' votes there but has none of its own.
//!
//! For each uncertified height the pool holds the header this node applied there (once it
//! has), one valid vote per validator on exactly that header, and a few votes that arrived
//! before the header ("early" votes, checked when the header comes). A vote that is not a
//! valid signature of that height's validator on the header this node applied is not
//! counted: a vote for a different header at the same height never helps certify this one.

use std::collections::BTreeMap;

use ecert_schemas::ledger::{Checkpoint, ValidatorInfo, Vote};
use ecert_schemas::PublicKeyBytes;

use crate::certify::{assemble_checkpoint, vote_is_valid};

/// Which validator set certifies which height: the genesis set from height 1, and after
/// each validator-set change applied at height `h`, the new set from `h + 1`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidatorSets {
    /// `(first height certified, set)`, ascending by height; the first from height 1.
    epochs: Vec<(u64, Vec<ValidatorInfo>)>,
    /// The highest height whose set is known (the applied height + 1): a change applied
    /// later can only change the sets of later heights.
    known_through: u64,
}

impl ValidatorSets {
    /// The genesis set alone, known for height 1 (nothing applied yet).
    pub fn genesis(validators: Vec<ValidatorInfo>) -> ValidatorSets {
        ValidatorSets {
            epochs: vec![(1, validators)],
            known_through: 1,
        }
    }

    /// The sets of a ledger that applied `applied` blocks: the genesis set, then for each
    /// change `(h, set)` (the height of the block holding it and the set after it, in
    /// ledger order) `set` from `h + 1`. A change out of order is ignored.
    pub fn from_changes(
        genesis: Vec<ValidatorInfo>,
        changes: impl IntoIterator<Item = (u64, Vec<ValidatorInfo>)>,
        applied: u64,
    ) -> ValidatorSets {
        let mut epochs = vec![(1, genesis)];
        for (height, set) in changes {
            let from = height.saturating_add(1);
            if epochs.last().is_some_and(|(last, _)| from > *last) {
                epochs.push((from, set));
            }
        }
        ValidatorSets {
            epochs,
            known_through: applied.saturating_add(1),
        }
    }

    /// The set that certifies `height` (the genesis set for height 0), or `None` beyond
    /// the known heights.
    pub fn at(&self, height: u64) -> Option<&[ValidatorInfo]> {
        if height > self.known_through {
            return None;
        }
        self.epochs
            .iter()
            .rev()
            .find(|(from, _)| *from <= height)
            .or_else(|| self.epochs.first())
            .map(|(_, set)| set.as_slice())
    }

    /// The position of the validator with `key` in the set of `height`: `None` when it is
    /// not in it (or the height's set is not known).
    pub fn position(&self, height: u64, key: &PublicKeyBytes) -> Option<u16> {
        self.at(height)?
            .iter()
            .position(|v| &v.key == key)
            .and_then(|i| u16::try_from(i).ok())
    }

    /// The highest height whose set is known.
    pub fn known_through(&self) -> u64 {
        self.known_through
    }

    /// The set of the highest known height: the ledger's current set.
    pub fn current(&self) -> &[ValidatorInfo] {
        self.epochs
            .last()
            .map(|(_, set)| set.as_slice())
            .unwrap_or_default()
    }

    /// Whether `key` is in any set from genesis on.
    pub fn ever_contains(&self, key: &PublicKeyBytes) -> bool {
        self.epochs
            .iter()
            .any(|(_, set)| set.iter().any(|v| &v.key == key))
    }

    /// Every set from genesis on with the first height it certifies, ascending.
    pub fn epochs(&self) -> impl Iterator<Item = (u64, &[ValidatorInfo])> {
        self.epochs
            .iter()
            .map(|(from, set)| (*from, set.as_slice()))
    }

    /// The size of the largest set.
    fn largest(&self) -> usize {
        self.epochs
            .iter()
            .map(|(_, set)| set.len())
            .max()
            .unwrap_or(0)
    }
}

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
    /// Not a valid vote of a validator of that height on the header this node applied.
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

/// The votes held by the node with key `me` for uncertified heights.
pub struct VotePool {
    sets: ValidatorSets,
    me: PublicKeyBytes,
    limits: PoolLimits,
    pending: BTreeMap<u64, Pending>,
    applied_height: u64,
}

impl VotePool {
    /// An empty pool of the node with key `me`, with the default limits.
    pub fn new(sets: ValidatorSets, me: PublicKeyBytes) -> VotePool {
        VotePool::with_limits(sets, me, PoolLimits::default())
    }

    /// An empty pool with the given limits.
    pub fn with_limits(sets: ValidatorSets, me: PublicKeyBytes, limits: PoolLimits) -> VotePool {
        VotePool {
            sets,
            me,
            limits,
            pending: BTreeMap::new(),
            applied_height: 0,
        }
    }

    /// The validator sets the pool checks votes against.
    pub fn sets(&self) -> &ValidatorSets {
        &self.sets
    }

    /// The ledger applied more blocks (and maybe validator-set changes): votes are
    /// checked against `sets` from now on, and early votes at applied heights whose set
    /// was not known yet are checked now. Returns the checkpoints this completes.
    pub fn update_sets(&mut self, sets: ValidatorSets) -> Vec<(u64, Checkpoint)> {
        self.sets = sets;
        let heights: Vec<u64> = self
            .pending
            .iter()
            .filter(|(_, p)| p.header.is_some() && !p.early.is_empty())
            .map(|(h, _)| *h)
            .collect();
        heights
            .into_iter()
            .filter_map(|h| {
                self.settle(h);
                self.assemble(h).map(|c| (h, c))
            })
            .collect()
    }

    /// This node's position in the set of `height`: `None` when it is not a validator
    /// there (it does not vote on that height).
    pub fn own_position(&self, height: u64) -> Option<u16> {
        self.sets.position(height, &self.me)
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
        self.sets.largest().saturating_mul(2)
    }

    /// Checks the early votes of `height` against its header and set, once both are
    /// known; the valid ones are counted, the others dropped.
    fn settle(&mut self, height: u64) {
        let Some(validators) = self.sets.at(height) else {
            return;
        };
        let Some(pending) = self.pending.get_mut(&height) else {
            return;
        };
        let Some(header) = &pending.header else {
            return;
        };
        for early in std::mem::take(&mut pending.early) {
            if vote_is_valid(validators, header, &early) {
                pending.votes.insert(early.validator, early);
            }
        }
    }

    /// This node applied `height` with `header` and, when it is a validator of that
    /// height, signed `own` on it. The early votes for that height are checked against the
    /// header; returns the checkpoint when the votes make a quorum. The lowest heights
    /// beyond the limit are dropped.
    pub fn on_applied(
        &mut self,
        height: u64,
        header: &[u8],
        own: Option<Vote>,
    ) -> Option<Checkpoint> {
        self.applied_height = self.applied_height.max(height);
        let pending = self.pending.entry(height).or_default();
        pending.header = Some(header.to_vec());
        if let Some(own) = own {
            pending.votes.insert(own.validator, own);
        }
        self.settle(height);
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
        let validators = self.sets.at(height);
        let pending = self.pending.entry(height).or_default();
        let status = match (&pending.header, validators) {
            (Some(header), Some(validators)) if vote_is_valid(validators, header, &vote) => {
                pending.votes.insert(vote.validator, vote);
                VoteStatus::Counted
            }
            (Some(_), Some(_)) => VoteStatus::Invalid,
            _ if pending.early.len() < early_limit => {
                pending.early.push(vote);
                VoteStatus::Early
            }
            _ => VoteStatus::Dropped,
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
            .filter_map(|(h, p)| {
                let me = self.own_position(*h)?;
                p.votes.get(&me).map(|v| (*h, v.clone()))
            })
            .take(most)
            .collect()
    }

    fn assemble(&self, height: u64) -> Option<Checkpoint> {
        let validators = self.sets.at(height)?;
        let pending = self.pending.get(&height)?;
        let header = pending.header.as_ref()?;
        let votes = pending.votes.values().cloned().collect();
        assemble_checkpoint(header, votes, validators.len())
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

    /// `v` as the only set, known far ahead.
    fn sets(v: &Validators) -> ValidatorSets {
        ValidatorSets::from_changes(v.infos.clone(), Vec::new(), 1_000_000)
    }

    /// Validator 0's pool.
    fn pool(v: &Validators) -> VotePool {
        VotePool::new(sets(v), v.infos[0].key)
    }

    /// Validator 0's pool, keeping early votes up to `early_window` heights ahead and at
    /// most `max_pending` heights.
    fn pool_within(v: &Validators, early_window: u64, max_pending: usize) -> VotePool {
        let limits = PoolLimits {
            early_window,
            max_pending,
        };
        VotePool::with_limits(sets(v), v.infos[0].key, limits)
    }

    #[test]
    fn certifies_with_more_than_two_thirds_and_not_before() {
        let v = validators(4);
        let mut pool = pool(&v);
        let h = header(&v, 1, 0);
        assert_eq!(pool.on_applied(1, &h, Some(vote(&v, 0, &h))), None);
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
        pool.on_applied(1, &h, Some(vote(&v, 0, &h)));
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
        pool.on_applied(1, &h, Some(vote(&v, 0, &h)));
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
        pool.on_applied(1, &mine, Some(vote(&v, 0, &mine)));
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
        assert_eq!(pool.on_applied(1, &mine, Some(vote(&v, 0, &mine))), None);
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
        assert_eq!(pool.on_applied(1, &h1, Some(vote(&v, 0, &h1))), None);
        let checkpoint = pool.on_applied(2, &h2, Some(vote(&v, 0, &h2))).unwrap();
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
            pool.on_applied(height, &h, Some(vote(&v, 0, &h)));
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

    /// Genesis validators 0..4; a change at height 2 removes validator 0 and puts a fifth
    /// key first: the new set is `[fifth, 1, 2, 3]`.
    struct TwoSets {
        old: Validators,
        new: Validators,
    }

    fn two_sets() -> TwoSets {
        let old = validators(4);
        let fifth = SigningKey::from_bytes(&[5; 32]);
        let mut infos = vec![ValidatorInfo {
            department: IssuerId::new("dept-new").unwrap(),
            key: crypto::public_key(&fifth),
        }];
        infos.extend(old.infos[1..].iter().cloned());
        let mut keys = vec![fifth];
        keys.extend(old.keys[1..].iter().cloned());
        TwoSets {
            old,
            new: Validators { keys, infos },
        }
    }

    /// The sets of a ledger that applied `applied` blocks, the change at height 2.
    fn change_at_2(t: &TwoSets, applied: u64) -> ValidatorSets {
        ValidatorSets::from_changes(t.old.infos.clone(), vec![(2, t.new.infos.clone())], applied)
    }

    #[test]
    fn the_change_block_is_certified_by_the_old_set_and_the_next_by_the_new() {
        let t = two_sets();
        let sets = change_at_2(&t, 10);
        assert_eq!(sets.at(0), Some(&t.old.infos[..]));
        assert_eq!(sets.at(2), Some(&t.old.infos[..]));
        assert_eq!(sets.at(3), Some(&t.new.infos[..]));
        assert_eq!(sets.at(11), Some(&t.new.infos[..]));
        assert_eq!(sets.at(12), None, "beyond the applied height + 1");
        assert_eq!(sets.current(), &t.new.infos[..]);
        assert!(sets.ever_contains(&t.old.infos[0].key));

        // The removed validator still votes on the change block, and no more after it.
        let mut removed = VotePool::new(sets, t.old.infos[0].key);
        assert_eq!(removed.own_position(2), Some(0));
        assert_eq!(removed.own_position(3), None);
        let h2 = header(&t.old, 2, 0);
        assert_eq!(removed.on_applied(2, &h2, Some(vote(&t.old, 0, &h2))), None);
        // The new key's vote is not one of the change block's.
        assert_eq!(
            removed.on_vote(2, vote(&t.new, 0, &h2)).status,
            VoteStatus::Invalid
        );
        removed.on_vote(2, vote(&t.old, 1, &h2));
        let c2 = removed.on_vote(2, vote(&t.old, 3, &h2)).checkpoint.unwrap();
        assert_eq!(verify_checkpoint(&c2, &t.old.infos).unwrap().height, 2);
        removed.certified(2);

        // Height 3: the new set certifies, the removed key's vote no longer counts.
        let h3 = header(&t.new, 3, 0);
        assert_eq!(removed.on_applied(3, &h3, None), None);
        assert_eq!(
            removed.on_vote(3, vote(&t.old, 0, &h3)).status,
            VoteStatus::Invalid
        );
        for i in 0..2 {
            let out = removed.on_vote(3, vote(&t.new, i, &h3));
            assert_eq!(out.status, VoteStatus::Counted);
            assert_eq!(out.checkpoint, None);
        }
        let c3 = removed.on_vote(3, vote(&t.new, 2, &h3)).checkpoint.unwrap();
        assert_eq!(verify_checkpoint(&c3, &t.new.infos).unwrap().height, 3);
        assert!(verify_checkpoint(&c3, &t.old.infos).is_err());
        assert!(removed.own_uncertified_votes(10).is_empty());
    }

    #[test]
    fn a_joining_validator_votes_from_the_height_its_set_starts() {
        let t = two_sets();
        let mut joiner = VotePool::new(change_at_2(&t, 10), t.new.infos[0].key);
        assert_eq!(joiner.own_position(2), None);
        assert_eq!(joiner.own_position(3), Some(0));
        // It holds the others' votes on the change block and assembles its checkpoint.
        let h2 = header(&t.old, 2, 0);
        assert_eq!(joiner.on_applied(2, &h2, None), None);
        for i in 0..2 {
            assert_eq!(
                joiner.on_vote(2, vote(&t.old, i, &h2)).status,
                VoteStatus::Counted
            );
        }
        assert!(joiner.on_vote(2, vote(&t.old, 2, &h2)).checkpoint.is_some());
        joiner.certified(2);
        let h3 = header(&t.new, 3, 0);
        let own = vote(&t.new, 0, &h3);
        assert_eq!(joiner.on_applied(3, &h3, Some(own.clone())), None);
        assert_eq!(joiner.own_uncertified_votes(10), vec![(3, own)]);
    }

    #[test]
    fn votes_at_a_height_whose_set_is_not_known_yet_wait_for_it() {
        let t = two_sets();
        // Validator 1 applied height 1 only: the change at height 2 is not known yet.
        let mut pool = VotePool::new(
            ValidatorSets::from_changes(t.old.infos.clone(), Vec::new(), 1),
            t.old.infos[1].key,
        );
        assert_eq!(pool.sets().at(3), None);
        let h3 = header(&t.new, 3, 0);
        for i in [0, 2, 3] {
            assert_eq!(
                pool.on_vote(3, vote(&t.new, i, &h3)).status,
                VoteStatus::Early
            );
        }
        // The header alone certifies nothing while its set is unknown.
        assert_eq!(pool.on_applied(3, &h3, None), None);
        let done = pool.update_sets(change_at_2(&t, 3));
        assert_eq!(done.len(), 1);
        let (height, checkpoint) = &done[0];
        assert_eq!(*height, 3);
        assert_eq!(
            verify_checkpoint(checkpoint, &t.new.infos).unwrap().height,
            3
        );
        assert_eq!(pool.own_position(3), Some(1));
    }
}

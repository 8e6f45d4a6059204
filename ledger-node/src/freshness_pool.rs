//! Freshness statements on a node, as a pure type: this validator's own statement over the
//! newest certified header it holds, and the other validators' statements about the same
//! header, checked and kept newest per validator. No clock (times are passed in), no
//! storage: statements are short-lived and signed again every period. A statement older
//! than the pool's `max_age_ms` is no longer served, so when more than a third of the
//! validators stop stating (down or cut off), the served statements stop being a quorum
//! and counters learn that freshness is no longer confirmed.
//!
//! Statements about a header are counted against the validator set that certified it (the
//! set a counter holding that header checks them against), by position in that set. This
//! node states only while it is in that set and still in the ledger's current set: a
//! validator removed by a change stops vouching for the ledger, and a node that is no
//! validator (joining, or removed) signs nothing but still collects and serves the
//! others' statements.

use std::collections::BTreeMap;

use ecert_schemas::freshness::{Freshness, FreshnessStatement, FreshnessVote};
use ecert_schemas::ledger::ValidatorInfo;
use ecert_schemas::{ChainId, Hash32, PublicKeyBytes};
use ecert_verifier::freshness::{sign_statement, statement_signed_by};
use ed25519_dalek::SigningKey;

use crate::LedgerError;

/// The certified header statements are about: its height and hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FreshHeader {
    /// Height.
    pub height: u64,
    /// SHA-256 of its encoding.
    pub hash: Hash32,
}

/// What became of a peer's statement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatementOutcome {
    /// Kept: it is about the header this node holds, and newer than what it had from that
    /// validator.
    Taken,
    /// Valid but not newer than what this node has from that validator.
    Known,
    /// About another header (older, or newer than this node has certified yet): left.
    OtherHeader,
    /// From no validator of the header's set, or its signature does not verify: dropped.
    Invalid,
}

/// The statements over the newest certified header this node holds.
#[derive(Debug)]
pub struct FreshnessPool {
    chain_id: ChainId,
    /// This node's validator key.
    me: PublicKeyBytes,
    max_age_ms: u64,
    header: Option<FreshHeader>,
    /// The set that certified the header: statements are counted against it.
    validators: Vec<ValidatorInfo>,
    /// This node's position in `validators` while it states, `None` when it does not.
    position: Option<u16>,
    votes: BTreeMap<u16, FreshnessVote>,
}

impl FreshnessPool {
    /// An empty pool of the node with key `me` on ledger `chain_id`, serving statements at
    /// most `max_age_ms` old.
    pub fn new(chain_id: ChainId, me: PublicKeyBytes, max_age_ms: u64) -> FreshnessPool {
        FreshnessPool {
            chain_id,
            me,
            max_age_ms,
            header: None,
            validators: Vec::new(),
            position: None,
            votes: BTreeMap::new(),
        }
    }

    /// The header statements are about now, if any.
    pub fn header(&self) -> Option<FreshHeader> {
        self.header
    }

    /// This node's position among the header's validators while it states (`None`: it
    /// signs no statement).
    pub fn position(&self) -> Option<u16> {
        self.position
    }

    /// This node certified `header`, certified by `validators`; `member` tells whether it
    /// is in the ledger's current set. A newer header drops the statements about older
    /// ones; the current header only has `member` updated (a node that left the set stops
    /// stating at once); an older header changes nothing.
    pub fn advance(&mut self, header: FreshHeader, validators: &[ValidatorInfo], member: bool) {
        match self.header {
            Some(h) if header.height < h.height => return,
            Some(h) if h == header => {}
            Some(h) if header.height == h.height => return,
            _ => {
                self.header = Some(header);
                self.validators = validators.to_vec();
                self.votes.clear();
            }
        }
        self.position = if member {
            self.validators
                .iter()
                .position(|v| v.key == self.me)
                .and_then(|i| u16::try_from(i).ok())
        } else {
            None
        };
    }

    fn statement(&self, header: FreshHeader, time_ms: u64) -> FreshnessStatement {
        FreshnessStatement {
            chain_id: self.chain_id.clone(),
            height: header.height,
            header_hash: header.hash,
            time_ms,
        }
    }

    /// Signs this node's statement about the current header at `now_ms` with `key` (this
    /// node's key) and keeps it. `None` before the first certified header, and while this
    /// node is not a validator stating ([`FreshnessPool::position`]).
    pub fn sign_own(
        &mut self,
        key: &SigningKey,
        now_ms: u64,
    ) -> Result<Option<(FreshHeader, FreshnessVote)>, LedgerError> {
        let (Some(header), Some(me)) = (self.header, self.position) else {
            return Ok(None);
        };
        let vote = sign_statement(key, me, &self.statement(header, now_ms))?;
        self.votes.insert(me, vote.clone());
        Ok(Some((header, vote)))
    }

    /// A peer's statement about `header`: kept when it is about the current header, from a
    /// validator of the header's set, correctly signed, and newer than that validator's
    /// last.
    pub fn on_statement(&mut self, header: FreshHeader, vote: FreshnessVote) -> StatementOutcome {
        if self.header != Some(header) {
            return StatementOutcome::OtherHeader;
        }
        let statement = self.statement(header, vote.time_ms);
        if !statement_signed_by(
            &self.validators,
            vote.validator,
            &statement,
            &vote.signature,
        ) {
            return StatementOutcome::Invalid;
        }
        match self.votes.get(&vote.validator) {
            Some(known) if known.time_ms >= vote.time_ms => StatementOutcome::Known,
            _ => {
                self.votes.insert(vote.validator, vote);
                StatementOutcome::Taken
            }
        }
    }

    /// The statements held about `header` that are at most the pool's maximum age at
    /// `now_ms`, by ascending validator (empty for another header).
    pub fn votes_about(&self, header: FreshHeader, now_ms: u64) -> Vec<FreshnessVote> {
        if self.header != Some(header) {
            return Vec::new();
        }
        let oldest = now_ms.saturating_sub(self.max_age_ms);
        self.votes
            .values()
            .filter(|v| v.time_ms >= oldest)
            .cloned()
            .collect()
    }

    /// The current statements ([`FreshnessPool::votes_about`] the header held) as one
    /// [`Freshness`], a quorum or not: the verifier decides. `None` before the first
    /// certified header.
    pub fn freshness(&self, now_ms: u64) -> Option<Freshness> {
        let header = self.header?;
        Some(Freshness {
            chain_id: self.chain_id.clone(),
            height: header.height,
            header_hash: header.hash,
            votes: self.votes_about(header, now_ms),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use ecert_schemas::{IssuerId, UnixTime};
    use ecert_verifier::crypto;
    use ecert_verifier::freshness::{verify_freshness, HeldHeader};

    use super::*;

    const MAX_AGE: u64 = 30_000;
    const H5: FreshHeader = FreshHeader {
        height: 5,
        hash: Hash32([5; 32]),
    };
    const H6: FreshHeader = FreshHeader {
        height: 6,
        hash: Hash32([6; 32]),
    };

    fn chain() -> ChainId {
        ChainId::new("ecert-pool").unwrap()
    }

    /// Four validators, each with its own pool at header 5.
    struct Four {
        keys: Vec<SigningKey>,
        set: Vec<ValidatorInfo>,
        pools: Vec<FreshnessPool>,
    }

    impl Four {
        fn new() -> Four {
            let departments = ["police", "social", "transport", "justice"];
            let keys: Vec<SigningKey> = (1..=4u8)
                .map(|i| SigningKey::from_bytes(&[i; 32]))
                .collect();
            let set: Vec<ValidatorInfo> = keys
                .iter()
                .zip(departments)
                .map(|(key, department)| ValidatorInfo {
                    department: IssuerId::new(department).unwrap(),
                    key: crypto::public_key(key),
                })
                .collect();
            let pools = (0..4)
                .map(|i| {
                    let mut pool = FreshnessPool::new(chain(), set[i].key, MAX_AGE);
                    pool.advance(H5, &set, true);
                    pool
                })
                .collect();
            Four { keys, set, pools }
        }

        /// Validator `i` states freshness at `time_ms`: its statement.
        fn state(&mut self, i: usize, time_ms: u64) -> FreshnessVote {
            let (header, vote) = self.pools[i]
                .sign_own(&self.keys[i], time_ms)
                .unwrap()
                .unwrap();
            assert_eq!(header, H5);
            vote
        }

        /// Validator 0 takes `vote` about header 5.
        fn take(&mut self, vote: FreshnessVote) -> StatementOutcome {
            self.pools[0].on_statement(H5, vote)
        }
    }

    #[test]
    fn nothing_to_sign_before_the_first_certified_header() {
        let four = Four::new();
        let mut pool = FreshnessPool::new(chain(), four.set[0].key, MAX_AGE);
        assert!(pool.sign_own(&four.keys[0], 1_000).unwrap().is_none());
        assert!(pool.freshness(1_000).is_none());
    }

    #[test]
    fn statements_spread_to_a_quorum_that_verifies() {
        let mut four = Four::new();
        for i in 1..3 {
            let vote = four.state(i, 10_000 + i as u64);
            assert_eq!(four.take(vote.clone()), StatementOutcome::Taken);
            assert_eq!(four.take(vote), StatementOutcome::Known);
        }
        four.state(0, 10_000);
        let freshness = four.pools[0].freshness(10_003).unwrap();
        assert_eq!(freshness.votes.len(), 3);
        let chain = chain();
        let held = HeldHeader {
            chain_id: &chain,
            height: 5,
            hash: H5.hash,
        };
        let fresh = verify_freshness(&freshness, &four.set, held).unwrap();
        assert_eq!(fresh.as_of, UnixTime(10));
    }

    #[test]
    fn a_newer_header_drops_the_old_statements_and_others_are_left() {
        let mut four = Four::new();
        let old = four.state(1, 1_000);
        assert_eq!(four.take(old.clone()), StatementOutcome::Taken);
        four.pools[0].advance(H6, &four.set.clone(), true);
        assert!(four.pools[0].votes_about(H5, 1_000).is_empty());
        assert!(four.pools[0].freshness(1_000).unwrap().votes.is_empty());
        assert_eq!(four.take(old), StatementOutcome::OtherHeader);
        // Going back to an older header changes nothing.
        four.pools[0].advance(H5, &four.set.clone(), true);
        assert_eq!(four.pools[0].header(), Some(H6));
    }

    #[test]
    fn statements_of_validators_that_stopped_stating_are_no_longer_served() {
        let mut four = Four::new();
        for i in 1..4 {
            let vote = four.state(i, 1_000);
            assert_eq!(four.take(vote), StatementOutcome::Taken);
        }
        four.state(0, 1_000 + MAX_AGE);
        assert_eq!(
            four.pools[0]
                .freshness(1_000 + MAX_AGE)
                .unwrap()
                .votes
                .len(),
            4
        );
        // Later only this validator stated again: the others' statements are too old.
        four.state(0, 2_000 + MAX_AGE);
        let served = four.pools[0].freshness(2_000 + MAX_AGE).unwrap();
        assert_eq!(served.votes.len(), 1);
        assert_eq!(served.votes[0].validator, 0);
    }

    #[test]
    fn forged_and_foreign_statements_are_dropped() {
        let mut four = Four::new();
        let mut vote = four.state(1, 1_000);
        vote.time_ms += 1;
        assert_eq!(four.take(vote.clone()), StatementOutcome::Invalid);
        vote.time_ms -= 1;
        vote.validator = 2;
        assert_eq!(four.take(vote.clone()), StatementOutcome::Invalid);
        vote.validator = 40;
        assert_eq!(four.take(vote), StatementOutcome::Invalid);
        assert!(four.pools[0].votes_about(H5, 1_000).is_empty());
    }

    #[test]
    fn an_older_statement_does_not_replace_a_newer_one() {
        let mut four = Four::new();
        let newer = four.state(1, 9_000);
        let older = four.state(1, 2_000);
        assert_eq!(four.take(newer), StatementOutcome::Taken);
        assert_eq!(four.take(older), StatementOutcome::Known);
        assert_eq!(four.pools[0].votes_about(H5, 9_000)[0].time_ms, 9_000);
    }

    /// The header at height 6 holds a change: the set certifying it is the four, and the
    /// set after it drops validator 3 (`justice`) and puts a fifth key first.
    fn next_set(four: &Four) -> (SigningKey, Vec<ValidatorInfo>) {
        let fifth = SigningKey::from_bytes(&[5; 32]);
        let mut set = vec![ValidatorInfo {
            department: IssuerId::new("health").unwrap(),
            key: crypto::public_key(&fifth),
        }];
        set.extend(four.set[..3].iter().cloned());
        (fifth, set)
    }

    #[test]
    fn statements_count_against_the_set_that_certified_the_header() {
        let mut four = Four::new();
        let (fifth, new_set) = next_set(&four);
        // Header 6 (the change block) is certified by the four: statements about it are
        // counted against them, by their positions there.
        for i in 0..4 {
            let member = i != 3;
            four.pools[i].advance(H6, &four.set.clone(), member);
        }
        assert_eq!(
            four.pools[3].position(),
            None,
            "removed: it no longer states"
        );
        assert!(four.pools[3]
            .sign_own(&four.keys[3], 1_000)
            .unwrap()
            .is_none());
        for i in 1..3 {
            let (_, vote) = four.pools[i]
                .sign_own(&four.keys[i], 1_000)
                .unwrap()
                .unwrap();
            assert_eq!(
                four.pools[0].on_statement(H6, vote),
                StatementOutcome::Taken
            );
        }
        // The fifth key is not in the set that certified header 6: its statement is not
        // one of them, and it signs none about it.
        let mut joiner = FreshnessPool::new(chain(), new_set[0].key, MAX_AGE);
        joiner.advance(H6, &four.set, true);
        assert_eq!(joiner.position(), None);
        let statement = FreshnessStatement {
            chain_id: chain(),
            height: 6,
            header_hash: H6.hash,
            time_ms: 1_000,
        };
        let forged = sign_statement(&fifth, 0, &statement).unwrap();
        assert_eq!(
            four.pools[0].on_statement(H6, forged),
            StatementOutcome::Invalid
        );

        // Header 7 is certified by the new set: positions are the new set's.
        const H7: FreshHeader = FreshHeader {
            height: 7,
            hash: Hash32([7; 32]),
        };
        joiner.advance(H7, &new_set, true);
        assert_eq!(joiner.position(), Some(0));
        four.pools[0].advance(H7, &new_set, true);
        assert_eq!(four.pools[0].position(), Some(1));
        let (_, vote) = joiner.sign_own(&fifth, 2_000).unwrap().unwrap();
        assert_eq!(vote.validator, 0);
        assert_eq!(
            four.pools[0].on_statement(H7, vote),
            StatementOutcome::Taken
        );
        // The removed validator's statement about header 7 is refused.
        let mut removed = FreshnessPool::new(chain(), four.set[3].key, MAX_AGE);
        removed.advance(H7, &new_set, false);
        assert!(removed.sign_own(&four.keys[3], 2_000).unwrap().is_none());
        let stale = sign_statement(
            &four.keys[3],
            3,
            &FreshnessStatement {
                chain_id: chain(),
                height: 7,
                header_hash: H7.hash,
                time_ms: 2_000,
            },
        )
        .unwrap();
        assert_eq!(
            four.pools[0].on_statement(H7, stale),
            StatementOutcome::Invalid
        );
        let (_, own) = four.pools[0]
            .sign_own(&four.keys[0], 2_000)
            .unwrap()
            .unwrap();
        assert_eq!(own.validator, 1);
        let served = four.pools[0].freshness(2_000).unwrap();
        assert_eq!(served.votes.len(), 2);
    }

    #[test]
    fn a_node_that_leaves_the_set_stops_stating_about_the_header_it_holds() {
        let mut four = Four::new();
        assert_eq!(four.pools[2].position(), Some(2));
        four.pools[2].advance(H5, &four.set.clone(), false);
        assert_eq!(four.pools[2].position(), None);
        assert!(four.pools[2]
            .sign_own(&four.keys[2], 1_000)
            .unwrap()
            .is_none());
    }
}

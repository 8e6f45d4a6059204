//! Certification on a running node: sign the header of every applied block at a height
//! whose validator set holds this node's key (never two different headers at one height,
//! remembered in RocksDB across restarts), collect the other validators' votes, and store
//! a checkpoint once more than two thirds of that height's set signed.

use std::sync::Mutex;

use ecert_schemas::codec::ByteBuf;
use ecert_schemas::ledger::{Checkpoint, ValidatorInfo, Vote};
use ecert_verifier::commit::header_hash;
use ed25519_dalek::SigningKey;
use tokio::sync::watch;

use crate::certify::sign_vote;
use crate::raft::{durable, from_key, key, Db, CF_CHECKPOINTS, CF_SIGNED};
use crate::vote_pool::{ValidatorSets, VoteOutcome, VotePool, VoteStatus};
use crate::NodeError;

/// The node's certification: the pure [`VotePool`] decides, this stores what it decides
/// (the `signed` record, checkpoints) and announces the certified height. The pool checks
/// each height against its own validator set, which the node keeps up to date from the
/// applied state ([`Certifier::update_sets`]).
pub struct Certifier {
    db: Db,
    key: SigningKey,
    pool: Mutex<VotePool>,
    certified: watch::Sender<u64>,
}

fn storage(e: impl std::fmt::Display) -> NodeError {
    NodeError::Storage(e.to_string())
}

impl Certifier {
    /// Opens the certifier of the node with `key`, checking votes against the genesis
    /// `validators` until told of later sets, and reads the highest stored checkpoint.
    pub fn open(
        db: Db,
        key: SigningKey,
        validators: Vec<ValidatorInfo>,
    ) -> Result<Certifier, NodeError> {
        let certified = {
            let cf = db
                .cf_handle(CF_CHECKPOINTS)
                .ok_or_else(|| storage("column family checkpoints missing"))?;
            let mut it = db.raw_iterator_cf(cf);
            it.seek_to_last();
            it.key().and_then(from_key).unwrap_or(0)
        };
        let me = ecert_verifier::crypto::public_key(&key);
        Ok(Certifier {
            db,
            key,
            pool: Mutex::new(VotePool::new(ValidatorSets::genesis(validators), me)),
            certified: watch::channel(certified).0,
        })
    }

    /// The ledger applied more blocks or changed its validator set: votes and imported
    /// checkpoints are checked against `sets` from now on. Stores the checkpoints that
    /// votes held until their height's set was known now complete.
    pub fn update_sets(&self, sets: ValidatorSets) -> Result<(), NodeError> {
        let mut pool = self.lock()?;
        // Sets read from an older state than the pool's (another task was faster) are
        // not taken: the sets only grow with the applied height.
        if pool.sets() == &sets || sets.known_through() < pool.sets().known_through() {
            return Ok(());
        }
        for (height, checkpoint) in pool.update_sets(sets) {
            if self.checkpoint(height)?.is_none() {
                self.store_checkpoint(height, &checkpoint)?;
            }
            pool.certified(height);
        }
        Ok(())
    }

    /// The validator set that certifies `height`, when known (at most one above the
    /// applied height).
    pub fn validators_at(&self, height: u64) -> Result<Option<Vec<ValidatorInfo>>, NodeError> {
        Ok(self
            .lock()?
            .sets()
            .at(height)
            .map(<[ValidatorInfo]>::to_vec))
    }

    /// This node's position in the set of `height`, `None` when it is no validator there.
    pub fn position_at(&self, height: u64) -> Result<Option<u16>, NodeError> {
        Ok(self.lock()?.own_position(height))
    }

    /// Follows the highest certified height.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.certified.subscribe()
    }

    /// The highest certified height (0 before the first).
    pub fn certified_height(&self) -> u64 {
        *self.certified.borrow()
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, VotePool>, NodeError> {
        self.pool
            .lock()
            .map_err(|_| storage("certifier lock poisoned"))
    }

    /// Whether this validator may sign `header` at `height`: it never signed a different
    /// header there. Records the header's hash (synced) the first time.
    fn record_signing(&self, height: u64, header: &[u8]) -> Result<bool, NodeError> {
        let hash = header_hash(header);
        let signed_cf = self
            .db
            .cf_handle(CF_SIGNED)
            .ok_or_else(|| storage("column family signed missing"))?;
        match self.db.get_cf(signed_cf, key(height)).map_err(storage)? {
            Some(previous) if previous.as_slice() != hash.0.as_slice() => Ok(false),
            Some(_) => Ok(true),
            None => {
                self.db
                    .put_cf_opt(signed_cf, key(height), hash.0, &durable())
                    .map_err(storage)?;
                Ok(true)
            }
        }
    }

    /// A block was applied at `height` with `header`: when this node is a validator of
    /// that height, sign it (unless it already signed a different header at that height,
    /// which it never does) and return the vote to spread. `None` when the height is
    /// already certified, this node is no validator there, or signing was refused; the
    /// header is held either way, to count the others' votes on it.
    pub fn on_applied(&self, height: u64, header: &[u8]) -> Result<Option<Vote>, NodeError> {
        let mut pool = self.lock()?;
        if self.checkpoint(height)?.is_some() {
            pool.on_applied_certified(height);
            return Ok(None);
        }
        let vote = match pool.own_position(height) {
            Some(me) if self.record_signing(height, header)? => {
                Some(sign_vote(&self.key, me, header))
            }
            Some(_) => {
                tracing::error!(
                    height,
                    "refusing to sign a second, different header at this height"
                );
                None
            }
            None => None,
        };
        if let Some(checkpoint) = pool.on_applied(height, header, vote.clone()) {
            self.store_checkpoint(height, &checkpoint)?;
            pool.certified(height);
        }
        Ok(vote)
    }

    /// A vote from a peer for `height`. Returns the votes this node holds for that height
    /// (its own included), for the peer to learn from.
    pub fn on_vote(&self, height: u64, vote: Vote) -> Result<Vec<Vote>, NodeError> {
        if let Some(checkpoint) = self.checkpoint(height)? {
            return Ok(checkpoint.votes);
        }
        let validator = vote.validator;
        let mut pool = self.lock()?;
        let VoteOutcome {
            status,
            known,
            checkpoint,
        } = pool.on_vote(height, vote);
        if status == VoteStatus::Invalid {
            tracing::warn!(height, validator, "invalid header vote ignored");
        }
        if let Some(checkpoint) = checkpoint {
            self.store_checkpoint(height, &checkpoint)?;
            pool.certified(height);
        }
        Ok(known)
    }

    /// Votes this node signed for heights not yet certified (to spread again).
    pub fn uncertified_own_votes(&self, most: usize) -> Result<Vec<(u64, Vote)>, NodeError> {
        Ok(self.lock()?.own_uncertified_votes(most))
    }

    fn store_checkpoint(&self, height: u64, checkpoint: &Checkpoint) -> Result<(), NodeError> {
        let cf = self
            .db
            .cf_handle(CF_CHECKPOINTS)
            .ok_or_else(|| storage("column family checkpoints missing"))?;
        self.db
            .put_cf(cf, key(height), checkpoint.to_bytes()?)
            .map_err(storage)?;
        self.certified.send_if_modified(|h| {
            if height > *h {
                *h = height;
                true
            } else {
                false
            }
        });
        tracing::debug!(height, votes = checkpoint.votes.len(), "header certified");
        Ok(())
    }

    /// The checkpoint certifying `height`, if this node holds it.
    pub fn checkpoint(&self, height: u64) -> Result<Option<Checkpoint>, NodeError> {
        let cf = self
            .db
            .cf_handle(CF_CHECKPOINTS)
            .ok_or_else(|| storage("column family checkpoints missing"))?;
        self.db
            .get_cf(cf, key(height))
            .map_err(storage)?
            .map(|bytes| Checkpoint::from_bytes(&bytes).map_err(NodeError::from))
            .transpose()
    }

    /// Stored checkpoints from `from` on, at most `limit`, each in its exact encoding.
    pub fn checkpoints_from(&self, from: u64, limit: usize) -> Result<Vec<ByteBuf>, NodeError> {
        let cf = self
            .db
            .cf_handle(CF_CHECKPOINTS)
            .ok_or_else(|| storage("column family checkpoints missing"))?;
        let mut it = self.db.raw_iterator_cf(cf);
        it.seek(key(from));
        let mut out = Vec::new();
        while it.valid() && out.len() < limit {
            if let Some(value) = it.value() {
                out.push(ByteBuf::from(value.to_vec()));
            }
            it.next();
        }
        Ok(out)
    }

    /// Stores a checkpoint learned from a peer, if it verifies against the validator set
    /// of its height. `false` when this node holds it already or does not know the set of
    /// its height yet (it is above the applied height + 1).
    pub fn import(&self, bytes: &[u8]) -> Result<bool, NodeError> {
        let checkpoint = Checkpoint::from_bytes(bytes)?;
        let height = checkpoint.decode_header()?.height;
        let mut pool = self.lock()?;
        let Some(validators) = pool.sets().at(height) else {
            return Ok(false);
        };
        let header = ecert_verifier::checkpoint::verify_checkpoint(&checkpoint, validators)?;
        if self.checkpoint(header.height)?.is_some() {
            return Ok(false);
        }
        self.store_checkpoint(header.height, &checkpoint)?;
        pool.certified(header.height);
        Ok(true)
    }
}

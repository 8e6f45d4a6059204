//! Certification on a running node: sign the header of every applied block (never two
//! different headers at one height, remembered in RocksDB across restarts), collect the
//! other validators' votes, and store a checkpoint once more than two thirds signed.

use std::sync::Mutex;

use ecert_schemas::codec::ByteBuf;
use ecert_schemas::ledger::{Checkpoint, ValidatorInfo, Vote};
use ecert_verifier::commit::header_hash;
use ed25519_dalek::SigningKey;
use tokio::sync::watch;

use crate::certify::sign_vote;
use crate::raft::{durable, from_key, key, Db, CF_CHECKPOINTS, CF_SIGNED};
use crate::vote_pool::{VoteOutcome, VotePool, VoteStatus};
use crate::NodeError;

/// The node's certification: the pure [`VotePool`] decides, this stores what it decides
/// (the `signed` record, checkpoints) and announces the certified height.
pub struct Certifier {
    db: Db,
    key: SigningKey,
    me: u16,
    validators: Vec<ValidatorInfo>,
    pool: Mutex<VotePool>,
    certified: watch::Sender<u64>,
}

fn storage(e: impl std::fmt::Display) -> NodeError {
    NodeError::Storage(e.to_string())
}

impl Certifier {
    /// Opens the certifier of validator `me`, reading the highest stored checkpoint.
    pub fn open(
        db: Db,
        key: SigningKey,
        me: u16,
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
        Ok(Certifier {
            db,
            key,
            me,
            pool: Mutex::new(VotePool::new(validators.clone(), me)),
            validators,
            certified: watch::channel(certified).0,
        })
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

    /// A block was applied at `height` with `header`: sign it (unless this validator
    /// already signed a different header at that height, which it never does) and return
    /// the vote to spread. `None` when the height is already certified or signing was
    /// refused.
    pub fn on_applied(&self, height: u64, header: &[u8]) -> Result<Option<Vote>, NodeError> {
        if !self.record_signing(height, header)? {
            tracing::error!(
                height,
                "refusing to sign a second, different header at this height"
            );
            return Ok(None);
        }
        let vote = sign_vote(&self.key, self.me, header);
        let mut pool = self.lock()?;
        if self.checkpoint(height)?.is_some() {
            pool.on_applied_certified(height);
            return Ok(None);
        }
        if let Some(checkpoint) = pool.on_applied(height, header, vote.clone()) {
            self.store_checkpoint(height, &checkpoint)?;
            pool.certified(height);
        }
        Ok(Some(vote))
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

    /// Stores a checkpoint learned from a peer, if it verifies against the validators.
    pub fn import(&self, bytes: &[u8]) -> Result<bool, NodeError> {
        let checkpoint = Checkpoint::from_bytes(bytes)?;
        let header = ecert_verifier::checkpoint::verify_checkpoint(&checkpoint, &self.validators)?;
        if self.checkpoint(header.height)?.is_some() {
            return Ok(false);
        }
        self.store_checkpoint(header.height, &checkpoint)?;
        self.lock()?.certified(header.height);
        Ok(true)
    }
}

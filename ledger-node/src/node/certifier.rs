//! Certification on a running node: sign the header of every applied block (never two
//! different headers at one height, remembered in RocksDB across restarts), collect the
//! other validators' votes, and store a checkpoint once more than two thirds signed.

use std::collections::BTreeMap;
use std::sync::Mutex;

use ecert_schemas::codec::ByteBuf;
use ecert_schemas::ledger::{Checkpoint, ValidatorInfo, Vote};
use ecert_schemas::Hash32;
use ecert_verifier::commit::header_hash;
use ed25519_dalek::SigningKey;
use tokio::sync::watch;

use crate::certify::{assemble_checkpoint, sign_vote, vote_is_valid};
use crate::raft::{durable, from_key, key, Db, CF_CHECKPOINTS, CF_SIGNED};
use crate::NodeError;

/// How far ahead of this node's height votes are kept until it applies that height.
const EARLY_WINDOW: u64 = 10_000;
/// Most uncertified heights kept in memory.
const MAX_PENDING: usize = 4_096;

#[derive(Default)]
struct Pending {
    header: Option<Vec<u8>>,
    votes: BTreeMap<u16, Vote>,
    early: Vec<Vote>,
}

struct Inner {
    pending: BTreeMap<u64, Pending>,
    applied_height: u64,
}

/// The node's certification state.
pub struct Certifier {
    db: Db,
    key: SigningKey,
    me: u16,
    validators: Vec<ValidatorInfo>,
    inner: Mutex<Inner>,
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
            validators,
            inner: Mutex::new(Inner {
                pending: BTreeMap::new(),
                applied_height: 0,
            }),
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

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Inner>, NodeError> {
        self.inner
            .lock()
            .map_err(|_| storage("certifier lock poisoned"))
    }

    /// A block was applied at `height` with `header`: sign it (unless this validator
    /// already signed a different header at that height, which it never does) and return
    /// the vote to spread. `None` when the height is already certified or signing was
    /// refused.
    pub fn on_applied(&self, height: u64, header: &[u8]) -> Result<Option<Vote>, NodeError> {
        let hash = header_hash(header);
        let signed_cf = self
            .db
            .cf_handle(CF_SIGNED)
            .ok_or_else(|| storage("column family signed missing"))?;
        match self.db.get_cf(signed_cf, key(height)).map_err(storage)? {
            Some(previous) if previous.as_slice() != hash.0.as_slice() => {
                tracing::error!(
                    height,
                    "refusing to sign a second, different header at this height"
                );
                return Ok(None);
            }
            Some(_) => {}
            None => self
                .db
                .put_cf_opt(signed_cf, key(height), hash.0, &durable())
                .map_err(storage)?,
        }
        let vote = sign_vote(&self.key, self.me, header);
        let mut inner = self.lock()?;
        inner.applied_height = inner.applied_height.max(height);
        if self.checkpoint(height)?.is_some() {
            return Ok(None);
        }
        let pending = inner.pending.entry(height).or_default();
        pending.header = Some(header.to_vec());
        pending.votes.insert(self.me, vote.clone());
        for early in std::mem::take(&mut pending.early) {
            if vote_is_valid(&self.validators, header, &early) {
                pending.votes.insert(early.validator, early);
            }
        }
        self.try_certify(&mut inner, height)?;
        Self::trim(&mut inner);
        Ok(Some(vote))
    }

    /// A vote from a peer for `height`. Returns the votes this node holds for that height
    /// (its own included), for the peer to learn from.
    pub fn on_vote(&self, height: u64, vote: Vote) -> Result<Vec<Vote>, NodeError> {
        if let Some(checkpoint) = self.checkpoint(height)? {
            return Ok(checkpoint.votes);
        }
        let mut inner = self.lock()?;
        let applied = inner.applied_height;
        let Some(pending) = inner.pending.get_mut(&height) else {
            if height > applied && height <= applied.saturating_add(EARLY_WINDOW) {
                let entry = inner.pending.entry(height).or_default();
                if entry.early.len() < self.validators.len() * 2 {
                    entry.early.push(vote);
                }
            }
            return Ok(Vec::new());
        };
        match &pending.header {
            Some(header) => {
                if vote_is_valid(&self.validators, header, &vote) {
                    pending.votes.insert(vote.validator, vote);
                } else {
                    tracing::warn!(
                        height,
                        validator = vote.validator,
                        "invalid header vote ignored"
                    );
                }
            }
            None => {
                if pending.early.len() < self.validators.len() * 2 {
                    pending.early.push(vote);
                }
            }
        }
        let known = pending.votes.values().cloned().collect();
        self.try_certify(&mut inner, height)?;
        Ok(known)
    }

    /// Votes this node signed for heights not yet certified (to spread again).
    pub fn uncertified_own_votes(&self, most: usize) -> Result<Vec<(u64, Vote)>, NodeError> {
        let inner = self.lock()?;
        Ok(inner
            .pending
            .iter()
            .rev()
            .filter_map(|(h, p)| p.votes.get(&self.me).map(|v| (*h, v.clone())))
            .take(most)
            .collect())
    }

    fn try_certify(&self, inner: &mut Inner, height: u64) -> Result<(), NodeError> {
        let Some(pending) = inner.pending.get(&height) else {
            return Ok(());
        };
        let Some(header) = &pending.header else {
            return Ok(());
        };
        let votes = pending.votes.values().cloned().collect();
        if let Some(checkpoint) = assemble_checkpoint(header, votes, self.validators.len()) {
            self.store_checkpoint(height, &checkpoint)?;
            inner.pending.remove(&height);
        }
        Ok(())
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

    fn trim(inner: &mut Inner) {
        while inner.pending.len() > MAX_PENDING {
            if inner.pending.pop_first().is_none() {
                break;
            }
        }
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
        let mut inner = self.lock()?;
        inner.pending.remove(&header.height);
        Ok(true)
    }

    /// Hash of the header this validator signed at `height`, if any.
    pub fn signed_at(&self, height: u64) -> Result<Option<Hash32>, NodeError> {
        let cf = self
            .db
            .cf_handle(CF_SIGNED)
            .ok_or_else(|| storage("column family signed missing"))?;
        Ok(self
            .db
            .get_cf(cf, key(height))
            .map_err(storage)?
            .and_then(|v| Hash32::from_slice(&v).ok()))
    }
}
